// The libraw plugin's normalised metadata entries (docs/metadata.md): what
// LibRaw exposes — the XMP packet, the embedded ICC profile and the
// orientation (its flip) — checked against exiftool on the corpus RAWs.
#include <imio/imio.hpp>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "catch.hpp"
#include "exiftool_compare.hpp"
#include "exiftool_oracle.hpp"
#include "test_paths.hpp"
#include "test_util.hpp"

namespace fs = std::filesystem;
using imio::Dict;
using imio::Value;

TEST_CASE("the corpus RAWs' orientation, XMP and ICC entries are what exiftool reads", "[metadata][oracle][corpus]") {
  REQUIRE_EXIFTOOL();
  IMIO_CORPUS_DIR_OR_SKIP(root, "raw");
  std::vector<fs::path> files;
  std::vector<Dict> metas;
  for (const auto& entry : fs::recursive_directory_iterator(root)) {
    if (!entry.is_regular_file()) continue;
    const auto ext = entry.path().extension().string();
    if (ext == ".tsv" || ext == ".md") continue;
    try {
      metas.push_back(imio::immeta(entry.path(), {.plugin = "libraw", .exclude_applied = false}));
      files.push_back(entry.path());
    } catch (const imio::Error&) {
      // a format this LibRaw does not read
    }
  }
  REQUIRE(files.size() >= 10);
  const auto oracle = imio_test::exiftool_json(files, "-IFD0:Orientation -XMP:XMP -ICC_Profile:ProfileDescription");
  REQUIRE(oracle.size() == files.size());
  int orientations = 0, xmps = 0, iccs = 0;
  std::vector<std::string> mismatches;
  for (std::size_t i = 0; i < files.size(); ++i) {
    const std::string name = fs::relative(files[i], root).string();
    const auto pair = [&](const char* mine, const char* theirs, int& count) {
      const Value* a = metas[i].lookup(mine);
      const Value* b = oracle[i].lookup(theirs);
      if (a == nullptr || b == nullptr) return;
      ++count;
      if (!imio_test::same_as_exiftool(*a, *b)) {
        mismatches.push_back(name + " " + mine + ": imio " + imio::to_json(*a).substr(0, 80) + ", exiftool " +
                             imio::to_json(*b).substr(0, 80));
      }
    };
    pair("orientation", "IFD0:Orientation", orientations);
    pair("xmp", "XMP:XMP", xmps);
    pair("icc_description", "ICC_Profile:ProfileDescription", iccs);
    // development applies the orientation: hidden then (D17)
    if (metas[i].contains("orientation")) CHECK_FALSE(imio::immeta(files[i], {.plugin = "libraw"}).contains("orientation"));
  }
  std::printf("corpus RAW vs exiftool: %zu files, %d orientations, %d XMP packets, %d ICC descriptions compared, "
              "%zu mismatches\n",
              files.size(), orientations, xmps, iccs, mismatches.size());
  for (const auto& m : mismatches) std::printf("  mismatch: %s\n", m.c_str());
  CHECK(orientations >= 8);
  CHECK(xmps >= 1);  // exiftool's DNG.dng
  CHECK(mismatches.empty());
}

TEST_CASE("orientation is the EXIF Orientation LibRaw's flip came from, for all eight", "[metadata][oracle][corpus]") {
  REQUIRE_EXIFTOOL();
  IMIO_CORPUS_OR_SKIP(dng, "raw/exiftool/DNG.dng");
  imio_test::TempDir dir;
  for (int o = 1; o <= 8; ++o) {
    INFO("orientation " << o);
    const fs::path p = dir / ("o" + std::to_string(o) + ".dng");
    fs::copy_file(dng, p);
    REQUIRE(std::system(("exiftool -q -q -overwrite_original -IFD0:Orientation#=" + std::to_string(o) + " \"" +
                         p.string() + "\"").c_str()) == 0);
    const Dict m = imio::immeta(p, {.plugin = "libraw", .exclude_applied = false});
    CHECK(m.get<std::int64_t>("orientation") == o);
    CHECK(imio_test::to_string(m.get<imio::Bytes>("xmp")).find("<x:xmpmeta") != std::string::npos);
  }
}

TEST_CASE("a preview LibRaw cannot unpack leaves the handle as it was: metadata, then reads", "[metadata][corpus]") {
  IMIO_CORPUS_OR_SKIP(dng, "raw/exiftool/DNG.dng");  // exiftool's test image: preview and pixel data stripped
  const std::string fresh = imio_test::message_of<imio::DecodeError>([&] { (void)imio::imread(dng, {.plugin = "libraw"}); });
  auto file = imio::imopen(dng, "r", {.plugin = "libraw"});
  const Dict m = file.metadata();
  CHECK(m.get<std::string>("make") == "Canon");
  CHECK(m.get<std::int64_t>("width") > 0);
  // LibRaw 0.20 clears all its data after the failed unpack_thumb: the
  // session identifies the file again, so the read fails as on a fresh handle
  CHECK(imio_test::message_of<imio::DecodeError>([&] { (void)file.read(); }) == fresh);
  // (as JSON: exif_tags holds DNGLensInfo's 0/0 rationals, NaN, unequal to itself)
  CHECK(imio::to_json(file.metadata()) == imio::to_json(m));
}

TEST_CASE("the corpus RAWs' exif_tags, collected through LibRaw's exif parser callback, are what exiftool reads", "[metadata][oracle][corpus]") {
  if (!imio_test::exiftool_available() || imio_test::corpus_dir().empty()) {
    WARN("skipped: needs exiftool and the corpus");
    return;
  }
  const fs::path root = imio_test::corpus_dir() / "raw";
  std::vector<fs::path> files;
  std::vector<Dict> tags;
  for (const auto& entry : fs::recursive_directory_iterator(root)) {
    if (!entry.is_regular_file()) continue;
    const auto ext = entry.path().extension().string();
    if (ext == ".tsv" || ext == ".md") continue;
    Dict meta;
    try {
      meta = imio::immeta(entry.path(), {.plugin = "libraw"});
    } catch (const imio::Error&) {
      continue;  // a format this LibRaw does not read
    }
    const Value* t = meta.lookup("exif_tags");
    if (t == nullptr) continue;
    Dict d = t->ref<Dict>();
    // the RAW's own storage tags of IFD0 are compared too: they are the file's
    files.push_back(entry.path());
    tags.push_back(std::move(d));
  }
  REQUIRE(files.size() >= 8);
  const std::vector<Dict> j = imio_test::exiftool_json(files);
  REQUIRE(j.size() == files.size());
  imio_test::OracleTally tally;
  std::map<std::string, int> excluded;
  for (std::size_t i = 0; i < files.size(); ++i) {
    imio_test::compare_exif_tags(fs::relative(files[i], root).string(), tags[i], j[i], tally, excluded);
  }
  std::printf("corpus RAW exif_tags vs exiftool: %zu files, %d tags compared, %d equal, %d imio only, %d exiftool only\n",
              files.size(), tally.compared, tally.equal, tally.imio_only, tally.exiftool_only);
  // exiftool's print conversions of DNG tags the comparison does not
  // apply: DNGLensInfo's 0/0 as "undef", RawDataUniqueID as hex digits,
  // TimeCodes as dotted bytes (the values are the same)
  std::vector<std::string> mismatches;
  for (const auto& m : tally.mismatches) {
    const bool printed = imio_test::contains(m, "IFD0:DNGLensInfo:") || imio_test::contains(m, "IFD0:RawDataUniqueID:") ||
                         imio_test::contains(m, "IFD0:TimeCodes:");
    std::printf("  %s: %s\n", printed ? "exiftool's print conversion" : "mismatch", m.c_str());
    if (!printed) mismatches.push_back(m);
  }
  for (const auto& [why, n] : excluded) {
    if (why.rfind("imio has no", 0) != 0) std::printf("  not compared: %s x%d\n", why.c_str(), n);
  }
  CHECK(mismatches.empty());
  CHECK(tally.mismatches.size() <= 3);
  CHECK(tally.compared > 300);
}
