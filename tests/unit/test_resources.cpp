// Every ImageResource kind (spec §2), through the fake plugin.
#include <imio/imio.hpp>
#include <imio/plugin.hpp>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <streambuf>

#include "catch.hpp"
#include "fake_plugin.hpp"
#include "test_paths.hpp"
#include "test_util.hpp"

namespace {

using imio_test::contains;
using imio_test::write_file;

std::string str(const imio::Bytes& b) { return imio_test::to_string(b); }

// A streambuf that cannot seek, like a pipe.
class PipeBuf : public std::streambuf {
 public:
  explicit PipeBuf(std::string data) : data_(std::move(data)) { setg(data_.data(), data_.data(), data_.data() + data_.size()); }

 protected:
  pos_type seekoff(off_type, std::ios_base::seekdir, std::ios_base::openmode) override { return pos_type(off_type(-1)); }
  pos_type seekpos(pos_type, std::ios_base::openmode) override { return pos_type(off_type(-1)); }

 private:
  std::string data_;
};

struct EnvVar {
  EnvVar(const char* name, const std::string& value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    ::setenv(name, value.c_str(), 1);
  }
  ~EnvVar() {
    if (old_) {
      ::setenv(name_, old_->c_str(), 1);
    } else {
      ::unsetenv(name_);
    }
  }
  const char* name_;
  std::optional<std::string> old_;
};

struct Fixture {
  Fixture() { fake::register_fakes(); }
  imio_test::TempDir dir;
  imio::Bytes data = fake::encode(1, 3, 5);
};

}  // namespace

TEST_CASE("paths: string, std::filesystem::path, file://, relative, Unicode", "[resources]") {
  Fixture fx;
  const auto path = fx.dir / "bild-ä漢.fake";
  write_file(path, fx.data);
  const auto expected = imio::imread(fx.data);
  CHECK(imio::imread(path) == expected);
  CHECK(imio::imread(path.string()) == expected);
  CHECK(imio::imread(path.string().c_str()) == expected);
  CHECK(imio::imread(std::string_view(path.string())) == expected);
  CHECK(imio::imread("file://" + path.string()) == expected);
  const auto cwd = std::filesystem::current_path();
  std::filesystem::current_path(fx.dir.path());
  CHECK(imio::imread("bild-ä漢.fake") == expected);
  CHECK(imio::imread("file://bild-ä漢.fake") == expected);
  std::filesystem::current_path(cwd);
}

TEST_CASE("~ expands to the home directory", "[resources]") {
  Fixture fx;
  EnvVar home("HOME", fx.dir.path().string());
  write_file(fx.dir / "h.fake", fx.data);
  CHECK(imio::imread("~/h.fake").shape() == imio::Shape{3, 5});
  CHECK(imio::ImageResource("~/h.fake").describe() == (fx.dir / "h.fake").string());
}

TEST_CASE("a missing file is FileNotFoundError with the absolute path", "[resources]") {
  Fixture fx;
  const auto cwd = std::filesystem::current_path();
  std::filesystem::current_path(fx.dir.path());
  try {
    imio::imread("does/not/exist.fake");
    FAIL("expected FileNotFoundError");
  } catch (const imio::FileNotFoundError& e) {
    CHECK(contains(e.what(), (fx.dir / "does/not/exist.fake").string()));
  }
  // spec §1.8 E2: a standard image's name suggests imageio:NAME
  try {
    imio::imread("chelsea.png");
    FAIL("expected FileNotFoundError");
  } catch (const imio::FileNotFoundError& e) {
    CHECK(contains(e.what(), "imageio:chelsea.png"));
  }
  std::filesystem::current_path(cwd);
  CHECK_THROWS_AS(imio::imread(fx.dir / "missing.zip/inner.fake"), imio::FileNotFoundError);
}

TEST_CASE("a folder is not read", "[resources]") {
  Fixture fx;
  std::filesystem::create_directory(fx.dir / "folder");
  const auto msg = [&] {
    try {
      imio::imread(fx.dir / "folder");
    } catch (const imio::IOError& e) {
      return std::string(e.what());
    }
    return std::string();
  }();
  CHECK(contains(msg, "folder"));
}

TEST_CASE("writing into a missing folder is FileNotFoundError; into a folder is IOError", "[resources]") {
  Fixture fx;
  imio::NDArray img({2, 2}, imio::DType::uint8);
  CHECK_THROWS_AS(imio::imwrite(fx.dir / "nope" / "x.fake", img), imio::FileNotFoundError);
  std::filesystem::create_directory(fx.dir / "d.fake");
  CHECK_THROWS_AS(imio::imwrite(fx.dir / "d.fake", img), imio::IOError);
}

TEST_CASE("encoded bytes in memory: span, const Bytes&, Bytes&&", "[resources]") {
  Fixture fx;
  const auto expected = imio::imread(fx.data);
  CHECK(imio::imread(std::span<const std::byte>(fx.data)) == expected);
  imio::Bytes copy = fx.data;
  CHECK(imio::imread(std::move(copy)) == expected);
  // an owned temporary stays alive as long as the range that holds it
  std::size_t n = 0;
  for (const auto& frame : imio::imiter(fake::encode(4, 2, 2))) n += frame.size();
  CHECK(n == 16);
  CHECK(imio::ImageResource(fx.data).describe() == "<bytes>");
  CHECK_THROWS_AS(imio::imwrite(fx.data, expected), imio::IOError);
}

TEST_CASE("input streams: seekable and not, rewound between candidates, never closed", "[resources]") {
  Fixture fx;
  const auto expected = imio::imread(fx.data);
  std::istringstream seekable(std::string("prefix") + str(fx.data));
  seekable.seekg(6);  // the resource starts where the stream is
  CHECK(imio::imread(seekable) == expected);
  CHECK(seekable.tellg() == 6);  // put back where it was
  PipeBuf pipe(str(fx.data));
  std::istream in(&pipe);
  // picky, fake... each candidate sees the data from its first byte
  CHECK(imio::imread(in, {.extension = ".fake"}) == expected);
  PipeBuf pipe2(str(fx.data));
  std::istream in2(&pipe2);
  CHECK(imio::imread(in2) == expected);
  CHECK(imio::ImageResource(in2).describe() == "<stream>");
  // a stream longer than max_bytes is refused before it is all buffered
  PipeBuf pipe3(str(fake::encode(1, 100, 100)));
  std::istream in3(&pipe3);
  CHECK_THROWS_AS(imio::imread(in3, {.limits = {.max_bytes = 1000}}), imio::LimitError);
  // exceptions enabled on the caller's stream do not escape as std::ios_base::failure
  std::istringstream throwing(str(fx.data));
  throwing.exceptions(std::ios::failbit | std::ios::badbit);
  CHECK(imio::imread(throwing) == expected);
}

TEST_CASE("output streams receive the encoded data and stay open", "[resources]") {
  Fixture fx;
  imio::NDArray img({2, 3}, imio::DType::uint8);
  img.at<std::uint8_t>(1, 2) = 42;
  std::stringstream out;
  out << "head";
  CHECK_FALSE(imio::imwrite(out, img, {.extension = ".fake"}).has_value());
  const std::string s = out.str();
  CHECK(s.substr(0, 4) == "head");
  std::istringstream back(s.substr(4));
  CHECK(imio::imread(back) == img);
  out << "tail";  // still usable
  CHECK(out.str().substr(out.str().size() - 4) == "tail");
  CHECK_THROWS_AS(imio::imwrite(out, img), imio::ArgumentError);  // no extension: which format?
  std::ostringstream o2;
  CHECK_THROWS_AS(imio::imread(static_cast<std::ostream&>(o2)), imio::IOError);
}

TEST_CASE("\"<bytes>\" returns the encoded file; equal to a file written the same way", "[resources]") {
  Fixture fx;
  imio::NDArray img({4, 4}, imio::DType::uint8);
  const auto bytes = imio::imwrite("<bytes>", img, {.extension = ".fake"});
  REQUIRE(bytes);
  imio::imwrite(fx.dir / "f.fake", img);
  std::ifstream f(fx.dir / "f.fake", std::ios::binary);
  const std::string disk((std::istreambuf_iterator<char>(f)), {});
  CHECK(disk == str(*bytes));
  // in read mode "<bytes>" is just a file name
  const auto cwd = std::filesystem::current_path();
  std::filesystem::current_path(fx.dir.path());
  CHECK_THROWS_AS(imio::imread("<bytes>"), imio::FileNotFoundError);
  std::filesystem::current_path(cwd);
}

TEST_CASE("imopen write handles return bytes at close and append frames per write", "[resources]") {
  Fixture fx;
  auto file = imio::imopen("<bytes>", "w", {.extension = ".fake"});
  file.write(imio::NDArray({2, 2}, imio::DType::uint8));
  const auto bytes = file.close();
  REQUIRE(bytes);
  CHECK(imio::imread(*bytes).shape() == imio::Shape{2, 2});
}

TEST_CASE("standard images resolve locally in order; unknown names are ArgumentError", "[resources]") {
  Fixture fx;
  std::filesystem::create_directories(fx.dir / "std");
  std::filesystem::create_directories(fx.dir / "user/.imageio/images");
  EnvVar no_internet("IMAGEIO_NO_INTERNET", "1");
  EnvVar std_dir("IMIO_STANDARD_IMAGES", (fx.dir / "std").string());
  EnvVar user_dir("IMAGEIO_USERDIR", (fx.dir / "user").string());
  EnvVar cache("XDG_CACHE_HOME", (fx.dir / "cache").string());

  // not present anywhere: FileNotFoundError that says where it looked
  try {
    imio::imread("imageio:chelsea.png");
    FAIL("expected FileNotFoundError");
  } catch (const imio::FileNotFoundError& e) {
    CHECK(contains(e.what(), (fx.dir / "std").string()));
    CHECK(contains(e.what(), "IMAGEIO_NO_INTERNET"));
  }
  // imageio's own cache folder
  write_file(fx.dir / "user/.imageio/images/chelsea.png", fake::encode(1, 2, 2));
  CHECK(imio::imread("imageio:chelsea.png").shape() == imio::Shape{2, 2});
  // IMIO_STANDARD_IMAGES wins; names are case-insensitive
  write_file(fx.dir / "std/chelsea.png", fake::encode(1, 3, 3));
  CHECK(imio::imread("imageio:CHELSEA.PNG").shape() == imio::Shape{3, 3});
  // imio's cache folder comes last
  std::filesystem::create_directories(fx.dir / "cache/imio/images");
  write_file(fx.dir / "cache/imio/images/coins.png", fake::encode(1, 4, 4));
  CHECK(imio::imread("imageio:coins.png").shape() == imio::Shape{4, 4});

  CHECK_THROWS_AS(imio::imread("imageio:nonexistant.png"), imio::ArgumentError);
  CHECK_THROWS_AS(imio::imread("imageio://chelsea.png"), imio::ArgumentError);
  CHECK_THROWS_AS(imio::imwrite("imageio:chelsea.png", imio::NDArray({2, 2}, imio::DType::uint8)), imio::IOError);
}

TEST_CASE("URLs, devices and zip members fail with clear errors", "[resources]") {
  Fixture fx;
  imio::NDArray img({2, 2}, imio::DType::uint8);
  CHECK_THROWS_AS(imio::imwrite("http://example.com/x.png", img), imio::IOError);
  CHECK_THROWS_AS(imio::imwrite("<screen>", img), imio::IOError);
  CHECK_THROWS_AS(imio::imwrite("<video0>", img), imio::IOError);
  CHECK_THROWS_AS(imio::imread("<video0>"), imio::IOError);
  CHECK_THROWS_AS(imio::imread("ftp://example.com/x.png"), imio::IOError);
  // no network access: reading http without HTTP support is an IOError
  CHECK_THROWS_AS(imio::imread("http://127.0.0.1:9/x.fake"), imio::IOError);
  // a folder named d.zip is an ordinary folder (spec §2.3)
  std::filesystem::create_directories(fx.dir / "d.zip");
  write_file(fx.dir / "d.zip/a.fake", fx.data);
  CHECK(imio::imread(fx.dir / "d.zip/a.fake").shape() == imio::Shape{3, 5});
  imio::imwrite(fx.dir / "d.zip/b.fake", img);
  CHECK(imio::imread(fx.dir / "d.zip/b.fake") == img);
}

TEST_CASE("extensions derive from the name, lower-cased; extension= needs a dot", "[resources]") {
  Fixture fx;
  write_file(fx.dir / "X.FAKE", fx.data);
  CHECK(imio::imopen(fx.dir / "X.FAKE", "r").plugin_name() == "fake");
  // the last suffix counts: t.fake.part is found only by signature or extension=
  write_file(fx.dir / "t.fake.part", fx.data);
  CHECK(imio::imread(fx.dir / "t.fake.part") == imio::imread(fx.data));
  imio::NDArray img({2, 2}, imio::DType::uint8);
  CHECK_THROWS_AS(imio::imwrite(fx.dir / "t2.fake.part", img), imio::NoPluginError);
  imio::imwrite(fx.dir / "t2.fake.part", img, {.extension = ".fake"});
  CHECK(imio::imread(fx.dir / "t2.fake.part", {.extension = ".fake"}) == img);
  CHECK_THROWS_AS(imio::imread(fx.dir / "X.FAKE", {.extension = "PNG"}), imio::ArgumentError);
}

// Files up to 256 KiB are read whole into a per-thread buffer that later
// files reuse; larger ones are mapped. Neither may show another file's bytes.
TEST_CASE("small and large files read alike, however many are open at once", "[resources]") {
  Fixture fx;
  struct File {
    std::filesystem::path path;
    std::uint32_t frames, h, w;
  };
  std::vector<File> files;
  auto add = [&](std::uint32_t frames, std::uint32_t h, std::uint32_t w) {
    const auto path = fx.dir / ("f" + std::to_string(files.size()) + ".fake");
    write_file(path, fake::encode(frames, h, w));
    files.push_back({path, frames, h, w});
  };
  add(1, 512, 511);    // just under 256 KiB: read into a buffer
  add(1, 512, 512);    // just over (the 16-byte header): mapped
  add(1, 300, 400);    // under: the first buffer serves it
  add(1, 2, 3);        // tiny, after a large buffer was taken
  for (std::uint32_t i = 0; i < 7; ++i) add(i + 1, 5 + i, 7);  // more open at once than buffers are kept
  auto check = [](const File& f, const imio::NDArray& a) {
    REQUIRE(a.shape() == imio::Shape{f.frames, f.h, f.w});
    const auto v = a.values<std::uint8_t>();
    for (std::size_t k = 0; k < v.size(); ++k) {
      const std::size_t frame = k / (f.h * f.w), y = (k / f.w) % f.h, x = k % f.w;
      if (v[k] != fake::pixel(frame, y, x, f.w)) FAIL("pixel " << k << " of " << f.path);
    }
  };
  for (int round = 0; round < 2; ++round) {
    for (const File& f : files) check(f, imio::imread(f.path, {.index = imio::all, .plugin = "fake"}));
  }
  std::vector<imio::ImageFile> open;
  for (const File& f : files) open.push_back(imio::imopen(f.path, "r", {.plugin = "fake"}));
  for (std::size_t i = files.size(); i-- > 0;) check(files[i], open[i].read({.index = imio::all}));
}
