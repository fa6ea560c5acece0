// Members of zip archives (spec §2.3): read, write, replace, errors.
#include <imio/imio.hpp>
#include <imio/plugin.hpp>

#include <filesystem>

#include "catch.hpp"
#include "fake_plugin.hpp"
#include "python_oracle.hpp"
#include "remote_support.hpp"
#include "test_paths.hpp"
#include "test_util.hpp"

namespace fs = std::filesystem;
using imio_test::contains;
using imio_test::message_of;
using imio_test::read_file;
using imio_test::write_file;

namespace {

imio::NDArray image(std::uint32_t h, std::uint32_t w, std::uint8_t seed) {
  imio::NDArray a({h, w}, imio::DType::uint8);
  for (std::size_t i = 0; i < a.size(); ++i) a.data<std::uint8_t>()[i] = static_cast<std::uint8_t>(seed + i);
  return a;
}

// Files in `dir` other than `keep`: temporary siblings must not survive.
[[maybe_unused]] std::vector<std::string> other_files(const fs::path& dir, const std::string& keep) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (e.path().filename() != keep) out.push_back(e.path().filename().string());
  }
  return out;
}

}  // namespace

#ifdef IMIO_TEST_HAVE_ZIP

TEST_CASE("zip: the corpus's chelsea.zip/chelsea.png equals chelsea.png", "[zip]") {
  const fs::path corpus = imio_test::corpus_dir();
  if (corpus.empty()) IMIO_TEST_SKIP("../shared/corpus is absent");
  if (!imio_test::has_plugin("libpng")) IMIO_TEST_SKIP("this build has no libpng plugin");
  const fs::path standard = corpus / "standard";
  const auto expected = imio::imread(standard / "chelsea.png");
  CHECK(imio::imread(standard / "chelsea.zip/chelsea.png") == expected);
  CHECK(imio::imread((standard / "chelsea.zip/chelsea.png").string()) == expected);
  CHECK(imio::improps(standard / "chelsea.zip/chelsea.png").shape == expected.shape());
  // imageio:ARCHIVE.zip/MEMBER resolves the archive among the standard images
  imio_test::EnvVar std_dir("IMIO_STANDARD_IMAGES", standard.string());
  CHECK(imio::imread("imageio:chelsea.zip/chelsea.png") == expected);
  CHECK(imio::ImageResource("imageio:chelsea.zip/chelsea.png").describe() == "imageio:chelsea.zip/chelsea.png");
}

TEST_CASE("zip: write creates the archive, adds members, replaces a member in place", "[zip]") {
  fake::register_fakes();
  imio_test::TempDir dir;
  const fs::path archive = dir / "a.zip";
  const auto one = image(3, 4, 1);
  const auto two = image(5, 2, 7);
  imio::imwrite(archive / "x.fake", one);
  REQUIRE(fs::is_regular_file(archive));
  imio::imwrite(archive / "sub/y.fake", two);
  CHECK(imio::imread(archive / "x.fake") == one);
  CHECK(imio::imread(archive / "sub/y.fake") == two);
  // replacing x.fake keeps one entry of that name (imageio appends a duplicate)
  imio::imwrite(archive / "x.fake", two);
  CHECK(imio::imread(archive / "x.fake") == two);
  CHECK(imio::imread(archive / "sub/y.fake") == two);
  CHECK(other_files(dir.path(), "a.zip").empty());
  // an imopen handle writes at close, several frames into one member
  {
    auto file = imio::imopen(archive / "frames.fake", "w");
    file.write(one);
    file.close();
  }
  CHECK(imio::imread(archive / "frames.fake") == one);

  if (!imio_test::python_has("zipfile")) IMIO_TEST_SKIP("no python3 to list the archive independently");
  std::string log;
  const int status = imio_test::run_python(dir, R"(
import sys, zipfile
names = zipfile.ZipFile(sys.argv[1] + "/a.zip").namelist()
assert sorted(names) == ["frames.fake", "sub/y.fake", "x.fake"], names
data = zipfile.ZipFile(sys.argv[1] + "/a.zip").read("x.fake")
assert data[:4] == b"FAKE", data[:4]
)", log);
  CHECK(status == 0);
  INFO(log);
}

TEST_CASE("zip: a missing member is FileNotFoundError naming archive and member", "[zip]") {
  fake::register_fakes();
  imio_test::TempDir dir;
  imio::imwrite(dir / "a.zip" / "x.fake", image(2, 2, 0));
  const std::string msg =
      message_of<imio::FileNotFoundError>([&] { imio::imread(dir / "a.zip" / "nope.fake"); });
  CHECK(contains(msg, (dir / "a.zip").string()));
  CHECK(contains(msg, "'nope.fake'"));
  // nested archives are not opened: the member "in.zip/x.fake" does not exist
  CHECK_THROWS_AS(imio::imread(dir / "a.zip/in.zip/x.fake"), imio::FileNotFoundError);
  // the archive itself, as a file, is not a member
  CHECK_THROWS_AS(imio::imread((dir / "a.zip").string() + "/"), imio::IOError);
  // a missing archive is a missing file (spec E1)
  CHECK_THROWS_AS(imio::imread(dir / "b.zip" / "x.fake"), imio::FileNotFoundError);
}

TEST_CASE("zip: the archive survives a failing write and a failing backend", "[zip]") {
  fake::register_fakes();
  imio_test::TempDir dir;
  const fs::path archive = dir / "a.zip";
  imio::imwrite(archive / "x.fake", image(4, 4, 3));
  const imio::Bytes before = read_file(archive);
  // the encoder fails after writing part of the member
  CHECK_THROWS_AS(imio::imwrite(archive / "x.fake", image(8, 8, 1), {.kwargs = {{"fail_after_bytes", 5}}}),
                  imio::EncodeError);
  CHECK_THROWS_AS(imio::imwrite(archive / "y.fake", image(8, 8, 1), {.kwargs = {{"fail_after_bytes", 5}}}),
                  imio::EncodeError);
  CHECK(read_file(archive) == before);
  CHECK(other_files(dir.path(), "a.zip").empty());
  // no plugin writes .nothing: nothing happens to the archive
  CHECK_THROWS_AS(imio::imwrite(archive / "z.nothing", image(2, 2, 0)), imio::NoPluginError);
  CHECK(read_file(archive) == before);
  CHECK(imio::imread(archive / "x.fake") == image(4, 4, 3));
}

TEST_CASE("zip: a file that is not an archive is an IOError and is never replaced", "[zip]") {
  fake::register_fakes();
  imio_test::TempDir dir;
  const fs::path bad = dir / "bad.zip";
  write_file(bad, imio_test::to_bytes("this is not a zip archive, just text"));
  const std::string msg = message_of<imio::IOError>([&] { imio::imread(bad / "x.fake"); });
  CHECK(contains(msg, "not a zip archive"));
  CHECK_THROWS_AS(imio::imwrite(bad / "x.fake", image(2, 2, 0)), imio::IOError);
  CHECK(imio_test::to_string(read_file(bad)) == "this is not a zip archive, just text");
  CHECK(other_files(dir.path(), "bad.zip").empty());
}

TEST_CASE("zip: damaged member data is a DecodeError; oversized members a LimitError", "[zip]") {
  fake::register_fakes();
  if (!imio_test::python_has("zipfile")) IMIO_TEST_SKIP("no python3 to build a stored archive");
  imio_test::TempDir dir;
  std::string log;
  // a stored (uncompressed) member whose bytes can be found and damaged
  REQUIRE(imio_test::run_python(dir, R"(
import sys, zipfile
data = b"FAKE" + (1).to_bytes(4, "little") + (16).to_bytes(4, "little") * 2 + bytes(range(256))
with zipfile.ZipFile(sys.argv[1] + "/s.zip", "w", zipfile.ZIP_STORED) as z:
    z.writestr("m.fake", data)
)", log) == 0);
  const fs::path archive = dir / "s.zip";
  CHECK(imio::imread(archive / "m.fake").shape() == imio::Shape{16, 16});
  CHECK_THROWS_AS(imio::imread(archive / "m.fake", {.limits = {.max_bytes = 100}}), imio::LimitError);
  imio::Bytes raw = read_file(archive);
  const std::string s = imio_test::to_string(raw);
  const auto at = s.find("FAKE");
  REQUIRE(at != std::string::npos);
  raw[at + 100] ^= std::byte{0xff};
  write_file(archive, raw);
  CHECK_THROWS_AS(imio::imread(archive / "m.fake"), imio::DecodeError);
}

TEST_CASE("zip: folders named x.zip are folders, also on the way to an archive", "[zip]") {
  fake::register_fakes();
  imio_test::TempDir dir;
  fs::create_directories(dir / "d.zip");
  const auto img = image(3, 3, 9);
  imio::imwrite(dir / "d.zip" / "in.zip" / "m.fake", img);
  REQUIRE(fs::is_regular_file(dir / "d.zip" / "in.zip"));
  CHECK(imio::imread(dir / "d.zip" / "in.zip" / "m.fake") == img);
  CHECK(imio::ImageResource(dir / "d.zip" / "in.zip" / "m.fake").describe() ==
        (dir / "d.zip" / "in.zip" / "m.fake").string());
}

#else

TEST_CASE("zip: a build without libzip says so", "[zip]") {
  fake::register_fakes();
  imio_test::TempDir dir;
  write_file(dir / "a.zip", imio_test::to_bytes("PK"));
  const std::string msg = message_of<imio::IOError>([&] { imio::imread(dir / "a.zip" / "x.fake"); });
  CHECK(contains(msg, "IMIO_WITH_ZIP"));
  CHECK_THROWS_AS(imio::imwrite(dir / "a.zip" / "x.fake", image(2, 2, 0)), imio::IOError);
}

#endif
