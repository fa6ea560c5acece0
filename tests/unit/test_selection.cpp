// The six functions and plugin selection, exercised through fake plugins.
#include <imio/imio.hpp>
#include <imio/plugin.hpp>

#include <algorithm>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include <sys/resource.h>

#include "catch.hpp"
#include "fake_plugin.hpp"
#include "test_paths.hpp"
#include "test_util.hpp"

namespace {

using imio_test::contains;
using imio_test::message_of;
using imio_test::write_file;

struct Fixture {
  Fixture() {
    fake::register_fakes();
    fake::stats().reset();
  }
  imio_test::TempDir dir;
};

}  // namespace

TEST_CASE("the extension's candidates are tried by priority and refusals are skipped", "[selection]") {
  Fixture fx;
  const auto path = fx.dir / "a.fake";
  write_file(path, fake::encode(1, 2, 3));
  auto file = imio::imopen(path, "r");
  // picky (priority 5) refuses, fake (10) accepts before fake2 (20)
  CHECK(file.plugin_name() == "fake");
}

TEST_CASE("an explicit plugin name is the only candidate", "[selection]") {
  Fixture fx;
  const auto path = fx.dir / "a.fake";
  write_file(path, fake::encode(1, 2, 3));
  CHECK(imio::imopen(path, "r", {.plugin = "fake2"}).plugin_name() == "fake2");
  const auto msg = message_of<imio::NoPluginError>([&] { imio::imread(path, {.plugin = "picky"}); });
  CHECK(contains(msg, "picky says no"));
  CHECK(contains(msg, "picky"));
}

TEST_CASE("an alias selects among the plugins carrying it, by extension priority", "[selection]") {
  Fixture fx;
  const auto path = fx.dir / "a.fake";
  write_file(path, fake::encode(1, 2, 3));
  CHECK(imio::imopen(path, "r", {.plugin = "fakealias"}).plugin_name() == "fake");
}

TEST_CASE("an unknown plugin name is an ArgumentError listing the registered names", "[selection]") {
  Fixture fx;
  const auto path = fx.dir / "a.fake";
  write_file(path, fake::encode(1, 2, 3));
  const auto msg = message_of<imio::ArgumentError>([&] { imio::imread(path, {.plugin = "foo"}); });
  CHECK(contains(msg, "'foo'"));
  CHECK(contains(msg, "fake2"));
}

TEST_CASE("a planned plugin compiled out names its CMake option and its vcpkg feature", "[selection]") {
  Fixture fx;
  for (const auto& p : imio::plugins()) {
    if (p.name == "libpng") return;  // built in: nothing to check here
  }
  const auto path = fx.dir / "a.fake";
  write_file(path, fake::encode(1, 2, 3));
  auto msg = message_of<imio::NoPluginError>([&] { imio::imread(path, {.plugin = "libpng"}); });
  CHECK(contains(msg, "IMIO_WITH_LIBPNG"));
  CHECK(contains(msg, "vcpkg feature imio[png]"));
  // a .png nobody can read names the plugin that would
  const auto png = fx.dir / "x.png";
  write_file(png, imio::Bytes(32, std::byte{7}));
  msg = message_of<imio::NoPluginError>([&] { imio::imread(png); });
  CHECK(contains(msg, "IMIO_WITH_LIBPNG"));
}

TEST_CASE("without an extension the fallback tries every plugin whose signature matches", "[selection]") {
  Fixture fx;
  const imio::Bytes data = fake::encode(1, 4, 5);
  auto file = imio::imopen(data, "r");
  CHECK(file.plugin_name() == "fake");
  CHECK(file.read().shape() == imio::Shape{4, 5});
}

TEST_CASE("NoPluginError lists every candidate and its reason", "[selection]") {
  Fixture fx;
  const auto path = fx.dir / "garbage.fake";
  write_file(path, imio::Bytes(40, std::byte{1}));
  try {
    imio::imread(path);
    FAIL("expected NoPluginError");
  } catch (const imio::NoPluginError& e) {
    const std::string msg = e.what();
    CHECK(contains(msg, path.string()));
    CHECK(contains(msg, "picky says no"));
    CHECK(contains(msg, "signature"));
    std::vector<std::string> names;
    for (const auto& r : e.refusals()) names.push_back(r.plugin);
    CHECK(std::find(names.begin(), names.end(), "picky") != names.end());
    CHECK(std::find(names.begin(), names.end(), "fake") != names.end());
    CHECK(std::find(names.begin(), names.end(), "fake2") != names.end());
    CHECK(std::string(e.kind()) == "NoPluginError");
  }
  const imio::Bytes junk(10, std::byte{0});
  const auto msg = message_of<imio::NoPluginError>([&] { imio::imread(junk); });
  CHECK(contains(msg, "<bytes>"));
}

TEST_CASE("extension= is kept in every phase and compared case-insensitively", "[selection]") {
  Fixture fx;
  const imio::Bytes data = fake::encode(1, 2, 2);
  CHECK(imio::imopen(data, "r", {.extension = ".FAKE"}).plugin_name() == "fake");
  auto bytes = imio::imwrite("<bytes>", imio::NDArray({2, 2}, imio::DType::uint8), {.extension = ".FaKe"});
  REQUIRE(bytes);
  CHECK(imio::imread(*bytes).shape() == imio::Shape{2, 2});
  CHECK_THROWS_AS(imio::imread(data, {.extension = "fake"}), imio::ArgumentError);
}

TEST_CASE("unknown kwargs are rejected with the accepted keys", "[kwargs]") {
  Fixture fx;
  const imio::Bytes data = fake::encode(1, 2, 2);
  auto msg = message_of<imio::ArgumentError>([&] { imio::imread(data, {.kwargs = {{"invret", true}}}); });
  CHECK(contains(msg, "'invret'"));
  CHECK(contains(msg, "invert"));
  CHECK(contains(msg, "fake"));
  msg = message_of<imio::ArgumentError>([&] { imio::imread(data, {.kwargs = {{"invert", "yes"}}}); });
  CHECK(contains(msg, "invert"));
  CHECK(contains(msg, "bool"));
  msg = message_of<imio::ArgumentError>([&] { imio::imread(data, {.kwargs = {{"invert", true}, {"invert", false}}}); });
  CHECK(contains(msg, "twice"));
  // constructor kwargs reach the factory through imopen only
  CHECK_NOTHROW(imio::imopen(data, "r", {.kwargs = {{"strict", true}}}));
  CHECK_THROWS_AS(imio::imopen(data, "r", {.plugin = "fake", .kwargs = {{"nope", 1}}}), imio::ArgumentError);
  CHECK(imio::imread(data, {.kwargs = {{"invert", true}}}).at<std::uint8_t>(0, 0) == 255);
}

TEST_CASE("index semantics: default, integer, all, out of range, negative", "[index]") {
  Fixture fx;
  const imio::Bytes one = fake::encode(1, 3, 4);
  const imio::Bytes three = fake::encode(3, 3, 4);
  CHECK(imio::imread(one).shape() == imio::Shape{3, 4});
  CHECK(imio::imread(one, {.index = imio::all}).shape() == imio::Shape{1, 3, 4});
  CHECK(imio::imread(three).shape() == imio::Shape{3, 3, 4});
  const auto f2 = imio::imread(three, {.index = 2});
  CHECK(f2.at<std::uint8_t>(1, 2) == fake::pixel(2, 1, 2, 4));
  auto msg = message_of<imio::IndexError>([&] { imio::imread(three, {.index = 3}); });
  CHECK(contains(msg, "3"));
  msg = message_of<imio::IndexError>([&] { imio::imread(three, {.index = -1}); });
  CHECK(contains(msg, "-1"));
  CHECK_THROWS_AS(imio::improps(three, {.index = -2}), imio::IndexError);
  CHECK_THROWS_AS(imio::immeta(three, {.index = -2}), imio::IndexError);
}

TEST_CASE("improps never decodes pixels", "[props]") {
  Fixture fx;
  const imio::Bytes three = fake::encode(3, 30, 40);
  const auto p = imio::improps(three);
  CHECK(fake::stats().decodes == 0);
  CHECK(p.shape == imio::Shape{3, 30, 40});
  CHECK(p.n_images == 3u);
  CHECK(p.is_batch);
  CHECK(imio::improps(three, {.index = 1}) ==
        imio::ImageProperties{.shape = {30, 40}, .dtype = imio::DType::uint8, .n_images = {}, .is_batch = false, .spacing = {}});
  CHECK(fake::stats().decodes == 0);
  // and agrees with imread (DECISIONS D11)
  CHECK(imio::imread(three).shape() == p.shape);
}

TEST_CASE("immeta passes exclude_applied and returns the plugin's keys", "[meta]") {
  Fixture fx;
  const imio::Bytes data = fake::encode(2, 3, 4);
  auto m = imio::immeta(data);
  CHECK(m.get<std::int64_t>("frames") == 2);
  CHECK(m.get<bool>("exclude_applied"));
  m = imio::immeta(data, {.exclude_applied = false});
  CHECK_FALSE(m.get<bool>("exclude_applied"));
  CHECK(imio::to_json(m) == R"({"frames": 2, "shape": [4, 3], "exclude_applied": false})");
}

TEST_CASE("imiter is lazy: a missing file throws at begin()", "[iter]") {
  Fixture fx;
  auto range = imio::imiter(fx.dir / "missing.fake");
  CHECK(fake::stats().opens == 0);
  CHECK_THROWS_AS(range.begin(), imio::FileNotFoundError);
}

TEST_CASE("imiter decodes one frame at a time, in constant memory", "[iter]") {
  Fixture fx;
  const auto path = fx.dir / "many.fake";
  write_file(path, fake::encode(500, 16, 16));
  auto range = imio::imiter(path);
  CHECK(fake::stats().decodes == 0);
  std::size_t n = 0;
  for (const imio::NDArray& frame : range) {
    CHECK(fake::stats().decodes == static_cast<int>(n + 1));
    if (frame.at<std::uint8_t>(1, 1) != fake::pixel(n, 1, 1, 16)) FAIL("frame " << n << " has wrong pixels");
    ++n;
  }
  CHECK(n == 500);
  CHECK(fake::stats().max_live_frames <= 2);
  CHECK(fake::stats().closes == 1);  // closed as soon as the range is exhausted
  static_assert(std::ranges::input_range<imio::FrameRange>);
}

TEST_CASE("ImageFile calls after close() throw", "[imopen]") {
  Fixture fx;
  const imio::Bytes data = fake::encode(1, 2, 2);
  auto file = imio::imopen(data, "r");
  CHECK(file.read().size() == 4);
  CHECK(file.properties().shape == imio::Shape{2, 2});
  file.close();
  CHECK(file.closed());
  CHECK_THROWS_AS(file.read(), imio::IOError);
  CHECK_THROWS_AS(file.properties(), imio::IOError);
  CHECK_THROWS_AS(file.metadata(), imio::IOError);
  CHECK_FALSE(file.close().has_value());  // closing twice is a no-op
}

TEST_CASE("a write handle cannot read and a read handle cannot write", "[imopen]") {
  Fixture fx;
  auto writer = imio::imopen(fx.dir / "w.fake", "w");
  CHECK(writer.mode() == imio::IoMode::write);
  CHECK_THROWS_AS(writer.read(), imio::IOError);
  CHECK_THROWS_AS(writer.properties(), imio::IOError);
  CHECK_THROWS_AS(writer.metadata(), imio::IOError);
  CHECK_THROWS_AS(writer.iter(), imio::IOError);
  const imio::Bytes data = fake::encode(1, 2, 2);
  auto reader = imio::imopen(data, "r");
  CHECK(reader.mode() == imio::IoMode::read);
  CHECK_THROWS_AS(reader.write(imio::NDArray({2, 2}, imio::DType::uint8)), imio::IOError);
}

TEST_CASE("io_mode accepts r, w and imageio's legacy forms only", "[imopen]") {
  Fixture fx;
  const imio::Bytes data = fake::encode(1, 2, 2);
  for (const char* mode : {"r", "ri", "rI", "rv", "rV", "r?"}) CHECK_NOTHROW(imio::imopen(data, mode));
  for (const char* mode : {"x", "rw", "", "rx", "R"}) CHECK_THROWS_AS(imio::imopen(data, mode), imio::ArgumentError);
  CHECK_NOTHROW(imio::imopen(fx.dir / "o.fake", "wI"));
}

TEST_CASE("a write that fails leaves the previous file untouched and no temporary behind", "[write]") {
  Fixture fx;
  const auto path = fx.dir / "keep.fake";
  const imio::Bytes before = fake::encode(1, 2, 2);
  write_file(path, before);
  imio::NDArray img({8, 8}, imio::DType::uint8);
  CHECK_THROWS_AS(imio::imwrite(path, img, {.kwargs = {{"fail_after_bytes", 10}}}), imio::EncodeError);
  CHECK(imio::imread(path) == imio::imread(before));
  CHECK(std::distance(std::filesystem::directory_iterator(fx.dir.path()), {}) == 1);
  // an ImageFile destroyed by an exception discards its write too
  try {
    auto file = imio::imopen(fx.dir / "new.fake", "w");
    file.write(img);
    throw std::runtime_error("user code fails");
  } catch (const std::runtime_error&) {
  }
  CHECK_FALSE(std::filesystem::exists(fx.dir / "new.fake"));
  CHECK(std::distance(std::filesystem::directory_iterator(fx.dir.path()), {}) == 1);
  // success replaces atomically
  imio::imwrite(path, img);
  CHECK(imio::imread(path) == img);
  CHECK(std::distance(std::filesystem::directory_iterator(fx.dir.path()), {}) == 1);
}

TEST_CASE("a write that runs out of space leaves the previous file untouched", "[write]") {
  Fixture fx;
  const auto path = fx.dir / "full.fake";
  const imio::Bytes before = fake::encode(1, 2, 2);
  write_file(path, before);
  // RLIMIT_FSIZE makes writes past 64 KiB fail (EFBIG) like a full disk would.
  std::signal(SIGXFSZ, SIG_IGN);
  rlimit saved{};
  getrlimit(RLIMIT_FSIZE, &saved);
  rlimit small = saved;
  small.rlim_cur = 64 * 1024;
  REQUIRE(setrlimit(RLIMIT_FSIZE, &small) == 0);
  const imio::NDArray big({512, 1024}, imio::DType::uint8);
  std::string message;
  try {
    imio::imwrite(path, big);
  } catch (const imio::IOError& e) {
    message = e.what();
  }
  setrlimit(RLIMIT_FSIZE, &saved);
  std::signal(SIGXFSZ, SIG_DFL);
  CHECK(contains(message, "write failed"));
  CHECK(imio::imread(path) == imio::imread(before));
  CHECK(std::distance(std::filesystem::directory_iterator(fx.dir.path()), {}) == 1);
}

TEST_CASE("writing picks the writer by extension and refuses unknown extensions", "[write]") {
  Fixture fx;
  imio::NDArray img({2, 3}, imio::DType::uint8);
  auto msg = message_of<imio::NoPluginError>([&] { imio::imwrite(fx.dir / "out.xyz", img); });
  CHECK(contains(msg, ".xyz"));
  CHECK(contains(msg, ".fake"));  // names what each writer writes (DECISIONS D7)
  CHECK(contains(msg, "the plugins that write: "));
  CHECK_FALSE(contains(msg, "writable extensions"));  // no list of every extension (issue #17)
  CHECK_FALSE(std::filesystem::exists(fx.dir / "out.xyz"));
  msg = message_of<imio::ArgumentError>([&] { imio::imwrite("<bytes>", img); });
  CHECK(contains(msg, "extension"));
  CHECK_FALSE(imio::imwrite(fx.dir / "out.fake", img).has_value());
  const auto bytes = imio::imwrite("<bytes>", img, {.extension = ".fake"});
  REQUIRE(bytes.has_value());
  std::ifstream f(fx.dir / "out.fake", std::ios::binary);
  const std::string on_disk((std::istreambuf_iterator<char>(f)), {});
  CHECK(on_disk.size() == bytes->size());
}

TEST_CASE("a list of images is written as one batch", "[write]") {
  Fixture fx;
  std::vector<imio::NDArray> frames;
  for (int i = 0; i < 3; ++i) frames.emplace_back(imio::Shape{2, 2}, imio::DType::uint8);
  frames[2].at<std::uint8_t>(1, 1) = 9;
  const auto bytes = imio::imwrite("<bytes>", std::span<const imio::NDArray>(frames), {.extension = ".fake"});
  REQUIRE(bytes);
  const auto back = imio::imread(*bytes);
  CHECK(back.shape() == imio::Shape{3, 2, 2});
  CHECK(back.at<std::uint8_t>(2, 1, 1) == 9);
  CHECK_THROWS_AS(imio::imwrite("<bytes>", std::span<const imio::NDArray>(), {.extension = ".fake"}), imio::ArgumentError);
}

TEST_CASE("Limits are checked before allocating", "[limits]") {
  Fixture fx;
  const imio::Bytes big = fake::encode(4, 100, 100);
  auto msg = message_of<imio::LimitError>([&] { imio::imread(big, {.limits = {.max_pixels = 9999}}); });
  CHECK(contains(msg, "max_pixels"));
  msg = message_of<imio::LimitError>([&] { imio::imread(big, {.limits = {.max_frames = 3}}); });
  CHECK(contains(msg, "max_frames"));
  msg = message_of<imio::LimitError>([&] { imio::imread(big, {.limits = {.max_bytes = 39999}}); });
  CHECK(contains(msg, "max_bytes"));
  CHECK(imio::imread(big, {.limits = {.max_pixels = 10000, .max_frames = 4, .max_bytes = 40000}}).size() == 40000);
  // A header whose byte count overflows 64 bits is a LimitError even with
  // no limits at all (Request::allocate → check_array).
  imio::Bytes huge = fake::encode(2, 1, 1);
  huge.resize(16);
  for (const std::size_t at : {8, 12}) {
    for (int b = 0; b < 4; ++b) huge[at + b] = std::byte{0xff};  // h = w = 2**32 - 1
  }
  const imio::Limits none{.max_pixels = UINT64_MAX, .max_frames = UINT64_MAX, .max_bytes = UINT64_MAX};
  msg = message_of<imio::LimitError>([&] { imio::imread(huge, {.limits = none}); });
  CHECK(contains(msg, "more than 2**64 bytes"));

  const imio::Limits saved = imio::default_limits();
  imio::set_default_limits({.max_pixels = 100, .max_frames = 0, .max_bytes = 0});
  CHECK(imio::default_limits().max_frames == saved.max_frames);
  CHECK_THROWS_AS(imio::imread(big), imio::LimitError);
  imio::set_default_limits({});
  CHECK(imio::default_limits() == saved);
  CHECK(saved.max_pixels == (std::uint64_t{1} << 28));
  CHECK(saved.max_bytes == (std::uint64_t{4} << 30));
}

TEST_CASE("plugins() lists registered plugins with capabilities and extensions", "[registry]") {
  Fixture fx;
  bool found = false;
  for (const auto& p : imio::plugins()) {
    if (p.name != "fake") continue;
    found = true;
    CHECK(p.aliases == std::vector<std::string>{"fakealias"});
    CHECK(p.extensions == std::vector<std::string>{".fake"});
    CHECK(p.can_read);
    CHECK(p.can_write);
    CHECK(p.backend == "fake 1.0");
  }
  CHECK(found);
  imio::PluginSpec dup;
  dup.name = "fake";
  dup.factory = [](imio::Request&, const imio::Kwargs&) -> std::unique_ptr<imio::Plugin> { return nullptr; };
  CHECK_THROWS_AS(imio::register_plugin(dup), imio::ArgumentError);
  dup.name = "";
  CHECK_THROWS_AS(imio::register_plugin(dup), imio::ArgumentError);
}

namespace {

// The order in which a read or write of `extension` tries the plugins that
// serve it, from the registry's declarations (priority, then registration).
std::vector<std::string> candidates(const std::vector<imio::PluginInfo>& infos, const std::string& extension) {
  std::vector<std::pair<int, std::string>> ranked;
  for (const auto& p : infos) {
    for (const auto& e : p.priorities) {
      if (e.extension == extension) ranked.emplace_back(e.priority, p.name);
    }
  }
  std::stable_sort(ranked.begin(), ranked.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<std::string> out;
  for (const auto& r : ranked) out.push_back(r.second);
  return out;
}

}  // namespace

TEST_CASE("the built-in plugins' extension priorities are imageio's, as the old extension table had them", "[selection]") {
  std::ifstream table(std::filesystem::path(IMIO_TEST_SOURCE_DIR) / "tests/unit/extension_priorities.txt");
  REQUIRE(table);
  const auto infos = imio::plugins();
  auto built = [&](const std::string& name) {
    return std::any_of(infos.begin(), infos.end(), [&](const imio::PluginInfo& p) { return p.name == name; });
  };
  std::set<std::pair<std::string, std::string>> listed;  // (plugin, extension) pairs of the table
  std::set<std::string> table_plugins;
  std::string line;
  std::size_t rows = 0;
  while (std::getline(table, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream words(line);
    std::string ext, name;
    words >> ext;
    std::vector<std::string> expected;
    while (words >> name) {
      table_plugins.insert(name);
      listed.insert({name, ext});
      if (built(name)) expected.push_back(name);
    }
    INFO(ext);
    auto actual = candidates(infos, ext);
    actual.erase(std::remove_if(actual.begin(), actual.end(), [&](const std::string& n) { return !table_plugins.count(n); }),
                 actual.end());
    CHECK(actual == expected);
    ++rows;
  }
  CHECK(rows > 200);  // the table itself is the golden; each row was checked above
  // No built-in serves an extension the table does not give it.
  for (const auto& p : infos) {
    if (!table_plugins.count(p.name)) continue;
    for (const auto& e : p.extensions) {
      INFO(p.name << " " << e);
      CHECK(listed.count({p.name, e}) == 1);
    }
  }
}

TEST_CASE("errors name the plugin, the operation and the resource", "[errors]") {
  Fixture fx;
  const auto path = fx.dir / "trunc.fake";
  imio::Bytes data = fake::encode(2, 10, 10);
  data.resize(data.size() - 50);
  write_file(path, data);
  try {
    imio::imread(path, {.index = 1});
    FAIL("expected DecodeError");
  } catch (const imio::DecodeError& e) {
    CHECK(e.plugin() == "fake");
    CHECK(e.operation() == "read");
    CHECK(e.resource() == path.string());
    CHECK(contains(e.what(), "fake: cannot read '" + path.string() + "': unexpected end of data"));
  }
}

TEST_CASE("warnings go to the handler, never to stderr", "[warnings]") {
  std::vector<std::string> seen;
  auto previous = imio::set_warning_handler([&](std::string_view source, std::string_view msg) {
    seen.push_back(std::string(source) + ": " + std::string(msg));
  });
  imio::warn("core", "hello");
  imio::set_warning_handler(previous);
  imio::warn("core", "dropped");
  REQUIRE(seen.size() == 1);
  CHECK(seen[0] == "core: hello");
  imio::set_warning_handler([](std::string_view, std::string_view) { throw std::runtime_error("bad handler"); });
  CHECK_NOTHROW(imio::warn("core", "x"));
  imio::set_warning_handler({});
}
