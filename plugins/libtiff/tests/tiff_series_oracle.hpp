// tifffile as the oracle of a file's series: a Python function that saves
// what tifffile makes of a TIFF (every series, every pyramid level, what
// iterating the series gives), and the check that imio's libtiff plugin
// gives the same for each.
#pragma once

#include <imio/imio.hpp>

#include <filesystem>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "catch.hpp"
#include "test_util.hpp"

namespace imio_test {

/// Python source defining `save_series(path, decode=None)` (tifffile and
/// numpy imported): path.levels holds the level count of each series;
/// path.<i>.<k>.npy is `tifffile.imread(path, series=i, level=k)`, or
/// `decode(tif, level)` for pages tifffile cannot decode itself (JPEG
/// without imagecodecs); path.names holds each series' kind, name and shape,
/// one line each, tab-separated.
inline constexpr std::string_view kSaveTifffileSeries = R"(
def save_series(path, decode=None):
    with tifffile.TiffFile(path) as tif:
        levels = [len(s.levels) for s in tif.series]
        for i, s in enumerate(tif.series):
            for k in range(len(s.levels)):
                level = s.levels[k]
                data = level.asarray() if decode is None else decode(tif, level)
                numpy.save('%s.%d.%d.npy' % (path, i, k), data)
        names = ''.join('%s\t%s\t%s\n' % (s.kind, s.name, ' '.join(map(str, s.shape))) for s in tif.series)
    open(path + '.levels', 'w').write(' '.join(map(str, levels)))
    open(path + '.names', 'w').write(names)
)";

/// Checks imio's series of `path` against what save_series() wrote: their
/// number (improps with index=all), their kinds, names, shapes and level
/// counts (immeta's `series`), every level's pixels and improps shape
/// (through the libtiff plugin's `level`), an IndexError one level beyond
/// the last, and imiter yielding level 0 of each series. Returns tifffile's
/// level counts, so a caller can pin the layout it expects.
inline std::vector<int> check_series_like_tifffile(const std::filesystem::path& path) {
  std::vector<int> counts;
  std::istringstream in(to_string(read_file(path.string() + ".levels")));
  for (int n = 0; in >> n;) counts.push_back(n);
  const auto options = [](imio::Index index, imio::Kwargs kwargs) {
    return imio::ReadOptions{.index = index, .plugin = "libtiff", .kwargs = std::move(kwargs)};
  };
  const auto level_file = [&](std::size_t i, int k) {
    return path.string() + "." + std::to_string(i) + "." + std::to_string(k) + ".npy";
  };
  CHECK(imio::improps(path, options(imio::all, {})).n_images == counts.size());
  // immeta's `series`: tifffile's kind, name, shape and level count of each.
  const imio::Metadata meta = imio::immeta(path, {.plugin = "libtiff"});
  const auto& series = meta.get<imio::Value::List>("series");
  std::istringstream names(to_string(read_file(path.string() + ".names")));
  std::size_t i = 0;
  for (std::string line; std::getline(names, line); ++i) {
    INFO(path.filename().string() << " series " << i << ": tifffile says " << line);
    REQUIRE(i < series.size());
    const imio::Dict& s = series[i].ref<imio::Dict>();
    std::string shape;
    for (const imio::Value& n : s.get<imio::Value::List>("shape")) {
      shape += (shape.empty() ? "" : " ") + std::to_string(n.get<std::int64_t>());
    }
    CHECK(s.get<std::string>("kind") + "\t" + s.get<std::string>("name") + "\t" + shape == line);
    CHECK(s.get<std::int64_t>("levels") == (i < counts.size() ? counts[i] : -1));
  }
  CHECK(i == series.size());
  for (std::size_t i = 0; i < counts.size(); ++i) {
    const imio::Index index(static_cast<std::int64_t>(i));
    for (int k = 0; k < counts[i]; ++k) {
      INFO(path.filename().string() << " series " << i << " level " << k);
      const imio::NDArray want = imio::imread(level_file(i, k));
      CHECK(imio::imread(path, options(index, {{"level", k}})) == want);
      CHECK(imio::improps(path, options(index, {{"level", k}})).shape == want.shape());
    }
    CHECK_THROWS_AS(imio::improps(path, options(index, {{"level", counts[i]}})), imio::IndexError);
  }
  std::size_t n = 0;
  for (const imio::NDArray& image : imio::imiter(path, {.plugin = "libtiff"})) {
    REQUIRE(n < counts.size());
    CHECK(image == imio::imread(level_file(n, 0)));
    ++n;
  }
  CHECK(n == counts.size());
  return counts;
}

/// Each series of immeta's file-level `series` as "kind:name", in order.
inline std::vector<std::string> series_names(const std::filesystem::path& path) {
  std::vector<std::string> out;
  for (const imio::Value& s : imio::immeta(path, {.plugin = "libtiff"}).get<imio::Value::List>("series")) {
    out.push_back(s.ref<imio::Dict>().get<std::string>("kind") + ":" + s.ref<imio::Dict>().get<std::string>("name"));
  }
  return out;
}

}  // namespace imio_test
