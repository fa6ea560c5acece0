// The npy plugin: NumPy .npy files read and written by imio, checked against
// files made by hand here and, when the system Python has numpy, against
// numpy.save and numpy.load themselves.
#include <imio/imio.hpp>
#include <imio/plugin.hpp>

#include <algorithm>
#include <bit>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <random>
#include <span>
#include <sstream>
#include <streambuf>
#include <string>
#include <string_view>
#include <vector>

#include "catch.hpp"
#include "test_paths.hpp"
#include "python_oracle.hpp"
#include "test_util.hpp"

namespace {

namespace fs = std::filesystem;
using imio::Bytes;
using imio::DType;
using imio::NDArray;
using imio::Shape;

constexpr DType kAllDTypes[] = {DType::bool_, DType::uint8,   DType::uint16,  DType::uint32,
                                DType::uint64, DType::int8,   DType::int16,   DType::int32,
                                DType::int64,  DType::float16, DType::float32, DType::float64};

using imio_test::contains;

using imio_test::message_of;
using imio_test::read_file;
using imio_test::to_bytes;
using imio_test::to_string;
using imio_test::write_file;

// A .npy file made by hand: magic, version, header length, the dict text
// padded with spaces to a 64-byte boundary and '\n', then `data`.
Bytes npy_file(std::string_view dict, std::span<const std::byte> data = {}, int major = 1) {
  const std::size_t prefix = major == 1 ? 10 : 12;
  std::string header(dict);
  while ((prefix + header.size() + 1) % 64 != 0) header += ' ';
  header += '\n';
  std::string out("\x93NUMPY", 6);
  out += static_cast<char>(major);
  out += '\0';
  for (std::size_t i = 0; i < prefix - 8; ++i) out += static_cast<char>((header.size() >> (8 * i)) & 0xFF);
  out += header;
  Bytes file = to_bytes(out);
  file.insert(file.end(), data.begin(), data.end());
  return file;
}

std::string dict_text(std::string_view descr, std::string_view shape, bool fortran = false) {
  return "{'descr': '" + std::string(descr) + "', 'fortran_order': " + (fortran ? "True" : "False") +
         ", 'shape': " + std::string(shape) + ", }";
}

Bytes raw(std::initializer_list<int> values) {
  Bytes out;
  for (const int v : values) out.push_back(static_cast<std::byte>(v));
  return out;
}

// A deterministic array whose bytes cover every bit pattern class: random
// bytes (so floats include NaNs with payloads), bools as 0/1, and for
// float16 the special values up front.
NDArray sample(const Shape& shape, DType dtype, std::uint32_t seed = 7) {
  NDArray a(shape, dtype);
  std::mt19937 rng(seed);
  for (std::size_t i = 0; i < a.nbytes(); ++i) a.bytes()[i] = static_cast<std::byte>(rng() & 0xFF);
  if (dtype == DType::bool_) {
    for (std::size_t i = 0; i < a.nbytes(); ++i) a.bytes()[i] = a.bytes()[i] & std::byte{1};
  }
  if (dtype == DType::float16) {
    // quiet NaN with payload, signalling NaN, negative NaN, +inf, -inf, -0, smallest subnormal
    const std::uint16_t special[] = {0x7E01, 0x7C01, 0xFE55, 0x7C00, 0xFC00, 0x8000, 0x0001};
    for (std::size_t i = 0; i < a.size() && i < std::size(special); ++i) a.values<imio::float16>()[i].bits = special[i];
  }
  return a;
}

std::string native_descr(DType d) {
  const char order = std::endian::native == std::endian::little ? '<' : '>';
  switch (d) {
    case DType::bool_: return "|b1";
    case DType::uint8: return "|u1";
    case DType::int8: return "|i1";
    case DType::uint16: return std::string(1, order) + "u2";
    case DType::uint32: return std::string(1, order) + "u4";
    case DType::uint64: return std::string(1, order) + "u8";
    case DType::int16: return std::string(1, order) + "i2";
    case DType::int32: return std::string(1, order) + "i4";
    case DType::int64: return std::string(1, order) + "i8";
    case DType::float16: return std::string(1, order) + "f2";
    case DType::float32: return std::string(1, order) + "f4";
    case DType::float64: return std::string(1, order) + "f8";
  }
  return "?";
}

// A stream that cannot seek or tell, handing out a few bytes at a time
// (a pipe or a socket, as imio sees it).
class OneWayBuf : public std::streambuf {
 public:
  explicit OneWayBuf(Bytes data) : data_(std::move(data)) {}

 protected:
  int_type underflow() override {
    if (pos_ >= data_.size()) return traits_type::eof();
    const std::size_t n = std::min(sizeof window_, data_.size() - pos_);
    std::memcpy(window_, data_.data() + pos_, n);
    pos_ += n;
    setg(window_, window_, window_ + n);
    return traits_type::to_int_type(window_[0]);
  }

 private:
  Bytes data_;
  std::size_t pos_ = 0;
  char window_[7];
};

NDArray read_one_way(const Bytes& file, const imio::ReadOptions& options = {}) {
  OneWayBuf buf(file);
  std::istream in(&buf);
  return imio::imread(in, options);
}

// ---------------------------------------------------------------- numpy, when present

using imio_test::python;
using imio_test::run_python;
bool numpy_available() { return imio_test::python_has("numpy"); }

std::vector<std::string> words(const std::string& line) {
  std::istringstream in(line);
  std::vector<std::string> out;
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

}  // namespace

// ---------------------------------------------------------------- round trips

TEST_CASE("npy: every dtype round-trips bit-exactly through a file", "[npy]") {
  imio_test::TempDir dir;
  for (const DType dtype : kAllDTypes) {
    INFO("dtype " << imio::name(dtype));
    const NDArray a = sample({3, 5, 2}, dtype);
    const fs::path path = dir / ("a_" + std::string(imio::name(dtype)) + ".npy");
    CHECK_FALSE(imio::imwrite(path, a).has_value());
    const NDArray b = imio::imread(path);
    CHECK(b.dtype() == dtype);
    CHECK(b.shape() == Shape{3, 5, 2});
    CHECK(b == a);
    CHECK(imio::immeta(path).get<std::string>("descr") == native_descr(dtype));
  }
}

TEST_CASE("npy: float16 NaN payloads, infinities and bools keep their exact bytes", "[npy]") {
  NDArray h({7}, DType::float16);
  const std::uint16_t bits[] = {0x7E01, 0x7C01, 0xFE55, 0x7C00, 0xFC00, 0x8000, 0x0001};
  for (std::size_t i = 0; i < 7; ++i) h.values<imio::float16>()[i].bits = bits[i];
  const auto file = imio::imwrite("<bytes>", h, {.extension = ".npy"});
  REQUIRE(file.has_value());
  const NDArray back = imio::imread(*file);
  for (std::size_t i = 0; i < 7; ++i) CHECK(back.values<imio::float16>()[i].bits == bits[i]);

  NDArray b({4}, DType::bool_);
  b.values<bool>()[1] = true;
  b.values<bool>()[3] = true;
  CHECK(imio::imread(*imio::imwrite("<bytes>", b, {.extension = ".npy"})) == b);
}

TEST_CASE("npy: every ndim from 0 to 5 and empty axes round-trip", "[npy]") {
  const Shape shapes[] = {{}, {7}, {3, 4}, {2, 3, 4}, {2, 1, 3, 2}, {1, 2, 3, 1, 2}, {0}, {2, 0, 3}};
  for (const Shape& shape : shapes) {
    INFO("ndim " << shape.size());
    const NDArray a = sample(shape, DType::int16);
    const auto file = imio::imwrite("<bytes>", a, {.extension = ".npy"});
    REQUIRE(file.has_value());
    const NDArray b = imio::imread(*file);
    CHECK(b.shape() == shape);
    CHECK(b == a);
    CHECK(imio::improps(*file).shape == shape);
  }
}

TEST_CASE("npy: \"<bytes>\" returns the encoded file, laid out as numpy.save lays it out", "[npy]") {
  const NDArray a({3, 4}, DType::float32);
  const auto file = imio::imwrite("<bytes>", a, {.extension = ".npy"});
  REQUIRE(file.has_value());
  REQUIRE(file->size() == 128 + 48);
  // numpy 1.24: np.save(f, np.zeros((3, 4), '<f4')) — header length 118 (0x76),
  // 21 - len('3') spaces of growth room, padding to 64 bytes, '\n'.
  std::string expected = std::string("\x93NUMPY\x01\x00\x76\x00", 10) +
                         "{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }" + std::string(20, ' ');
  expected += std::string(127 - expected.size(), ' ') + "\n";
  if constexpr (std::endian::native == std::endian::little) CHECK(to_string(std::span(*file).first(128)) == expected);

  // A scalar, a one-tuple: numpy's tuple spelling.
  const auto scalar = imio::imwrite("<bytes>", NDArray({}, DType::uint8), {.extension = ".npy"});
  CHECK(contains(to_string(*scalar), "'shape': (), }"));
  const auto line = imio::imwrite("<bytes>", NDArray({5}, DType::uint8), {.extension = ".npy"});
  CHECK(contains(to_string(*line), "'shape': (5,), }"));
  CHECK(contains(to_string(*line), "'descr': '|u1'"));
}

TEST_CASE("npy: the array data start at a multiple of 64 bytes for any shape", "[npy]") {
  for (std::size_t ndim = 0; ndim < 12; ++ndim) {
    const Shape shape(ndim, 2);
    const auto file = imio::imwrite("<bytes>", NDArray(shape, DType::uint8), {.extension = ".npy"});
    REQUIRE(file.has_value());
    const std::size_t header_len = std::to_integer<std::size_t>((*file)[8]) | (std::to_integer<std::size_t>((*file)[9]) << 8);
    CHECK((10 + header_len) % 64 == 0);
    CHECK((*file)[10 + header_len - 1] == std::byte{'\n'});
    CHECK(file->size() == 10 + header_len + (std::size_t{1} << ndim));
  }
}

TEST_CASE("npy: a header longer than 65535 bytes is written as format version 2.0", "[npy]") {
  const Shape shape(22000, 1);  // "(1, 1, …)" is 66000 characters
  const NDArray a = sample(shape, DType::uint16);
  const auto file = imio::imwrite("<bytes>", a, {.extension = ".npy"});
  REQUIRE(file.has_value());
  CHECK((*file)[6] == std::byte{2});
  const std::uint32_t header_len = std::to_integer<std::uint32_t>((*file)[8]) | (std::to_integer<std::uint32_t>((*file)[9]) << 8) |
                                   (std::to_integer<std::uint32_t>((*file)[10]) << 16) |
                                   (std::to_integer<std::uint32_t>((*file)[11]) << 24);
  CHECK((12 + header_len) % 64 == 0);
  CHECK(imio::imread(*file) == a);
}

TEST_CASE("npy: reading and writing through streams and memory", "[npy]") {
  const NDArray a = sample({4, 3}, DType::float64);

  SECTION("ostream and istream") {
    std::ostringstream out;
    CHECK_FALSE(imio::imwrite(out, a, {.extension = ".npy"}).has_value());
    std::istringstream in(out.str());
    CHECK(imio::imread(in) == a);
  }
  SECTION("a stream that cannot seek") {
    const Bytes file = *imio::imwrite("<bytes>", a, {.extension = ".npy"});
    CHECK(read_one_way(file) == a);
    OneWayBuf buf(file);
    std::istream in(&buf);
    CHECK(imio::improps(in).shape == Shape{4, 3});
  }
  SECTION("Bytes and spans in memory") {
    const Bytes file = *imio::imwrite("<bytes>", a, {.extension = ".npy"});
    CHECK(imio::imread(file) == a);
    CHECK(imio::imread(std::span<const std::byte>(file)) == a);
  }
  SECTION("the extension is optional when reading: the signature is enough") {
    imio_test::TempDir dir;
    write_file(dir / "no_extension", *imio::imwrite("<bytes>", a, {.extension = ".npy"}));
    auto file = imio::imopen(dir / "no_extension", "r");
    CHECK(file.plugin_name() == "npy");
    CHECK(file.read() == a);
  }
}

TEST_CASE("npy: a list of arrays is written stacked along a new first axis", "[npy]") {
  imio_test::TempDir dir;
  std::vector<NDArray> frames;
  for (std::uint32_t i = 0; i < 3; ++i) frames.push_back(sample({2, 3}, DType::uint8, i));
  imio::imwrite(dir / "stack.npy", std::span<const NDArray>(frames));
  const NDArray back = imio::imread(dir / "stack.npy");
  CHECK(back.shape() == Shape{3, 2, 3});
  CHECK(back == NDArray::stack(frames));

  SECTION("arrays of different shapes or dtypes cannot be stacked") {
    frames.push_back(sample({3, 2}, DType::uint8));
    CHECK_THROWS_AS(imio::imwrite(dir / "bad.npy", std::span<const NDArray>(frames)), imio::ArgumentError);
    frames.back() = sample({2, 3}, DType::int8);
    CHECK_THROWS_AS(imio::imwrite(dir / "bad.npy", std::span<const NDArray>(frames)), imio::ArgumentError);
    CHECK_FALSE(fs::exists(dir / "bad.npy"));
  }
  SECTION("an empty NDArray is refused, alone or in a list") {
    CHECK_THROWS_AS(imio::imwrite(dir / "empty.npy", NDArray()), imio::ArgumentError);
    frames.emplace_back();
    CHECK_THROWS_AS(imio::imwrite(dir / "empty.npy", std::span<const NDArray>(frames)), imio::ArgumentError);
    CHECK_FALSE(fs::exists(dir / "empty.npy"));
  }
}

TEST_CASE("npy: bool bytes other than 0 and 1 become 1 on read and on write", "[npy]") {
  const Bytes file = npy_file(dict_text("|b1", "(5,)"), raw({0, 1, 2, 255, 0}));
  const NDArray a = imio::imread(file);
  REQUIRE(a.dtype() == DType::bool_);
  const Bytes expected = raw({0, 1, 1, 1, 0});
  CHECK(std::equal(a.bytes(), a.bytes() + 5, expected.begin()));

  NDArray odd({3}, DType::bool_);
  odd.bytes()[0] = std::byte{7};
  odd.bytes()[2] = std::byte{0x80};
  const Bytes written = *imio::imwrite("<bytes>", odd, {.extension = ".npy"});
  const Bytes tail(written.end() - 3, written.end());
  CHECK(tail == raw({1, 0, 1}));
}

// ---------------------------------------------------------------- files made by hand

TEST_CASE("npy: format versions 1.0, 2.0 and 3.0 are read", "[npy]") {
  const Bytes data = raw({1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6, 0});  // <u2: 1..6
  for (const int major : {1, 2, 3}) {
    INFO("version " << major << ".0");
    const NDArray a = imio::imread(npy_file(dict_text("<u2", "(2, 3)"), data, major));
    REQUIRE(a.shape() == Shape{2, 3});
    CHECK(a.at<std::uint16_t>(0, 0) == 1);
    CHECK(a.at<std::uint16_t>(1, 2) == 6);
  }
  SECTION("other versions are a DecodeError naming the version") {
    Bytes v4 = npy_file(dict_text("<u2", "(2, 3)"), data, 2);
    v4[6] = std::byte{4};
    CHECK(contains(message_of<imio::DecodeError>([&] { imio::imread(v4); }), "4.0"));
    Bytes v15 = npy_file(dict_text("<u2", "(2, 3)"), data, 1);
    v15[7] = std::byte{5};
    CHECK(contains(message_of<imio::DecodeError>([&] { imio::imread(v15); }), "1.5"));
  }
}

TEST_CASE("npy: the header dict is parsed like the Python literal it is", "[npy]") {
  const Bytes data = raw({10, 20, 30, 40, 50, 60});
  const char* dicts[] = {
      "{'shape': (2, 3), 'fortran_order': False, 'descr': '|u1'}",
      "{ 'descr' : '|u1' ,\n 'fortran_order':False,'shape':( 2 ,3 , ) , }",
      "{\"descr\": \"|u1\", \"fortran_order\": False, \"shape\": (2, 3)}",
      "{'descr': 'u1', 'fortran_order': False, 'shape': (2, 3), }",
      "{'descr': '<u1', 'fortran_order': False, 'shape': (2L, 3L), }",  // Python 2 longs
      "{'descr': '|u1', 'fortran_order': False, 'shape': (+2, 3), }",
      "{'descr':'|u1','fortran_order':False,'shape':(2,3)}\t\r\n  ",
  };
  for (const char* dict : dicts) {
    INFO(dict);
    const NDArray a = imio::imread(npy_file(dict, data));
    CHECK(a.shape() == Shape{2, 3});
    CHECK(a.at<std::uint8_t>(1, 2) == 60);
  }
  SECTION("Python 2 longs only in versions 1.0 and 2.0") {
    CHECK_THROWS_AS(imio::imread(npy_file("{'descr': '|u1', 'fortran_order': False, 'shape': (2L, 3L), }", data, 3)),
                    imio::DecodeError);
  }
  SECTION("a scalar and a one-tuple") {
    CHECK(imio::imread(npy_file(dict_text("|u1", "()"), raw({9}))).shape() == Shape{});
    CHECK(imio::imread(npy_file(dict_text("|u1", "(6,)"), data)).shape() == Shape{6});
  }
}

TEST_CASE("npy: big-endian data are byte-swapped to native order", "[npy]") {
  SECTION("integers") {
    const NDArray u2 = imio::imread(npy_file(dict_text(">u2", "(2,)"), raw({0x01, 0x02, 0xA0, 0xB0})));
    CHECK(u2.values<std::uint16_t>()[0] == 0x0102);
    CHECK(u2.values<std::uint16_t>()[1] == 0xA0B0);
    const NDArray i4 = imio::imread(npy_file(dict_text(">i4", "(2,)"), raw({0xFF, 0xFF, 0xFF, 0xFE, 0x12, 0x34, 0x56, 0x78})));
    CHECK(i4.values<std::int32_t>()[0] == -2);
    CHECK(i4.values<std::int32_t>()[1] == 0x12345678);
    const NDArray u8 = imio::imread(npy_file(dict_text(">u8", "(1,)"), raw({1, 2, 3, 4, 5, 6, 7, 8})));
    CHECK(u8.values<std::uint64_t>()[0] == 0x0102030405060708ull);
    const NDArray i8 = imio::imread(npy_file(dict_text(">i8", "(1,)"), raw({0x80, 0, 0, 0, 0, 0, 0, 0})));
    CHECK(i8.values<std::int64_t>()[0] == INT64_MIN);
  }
  SECTION("floats") {
    // 1.5f is 0x3FC00000; -2.0 is 0xC000000000000000; half 1.0 is 0x3C00.
    const NDArray f4 = imio::imread(npy_file(dict_text(">f4", "(1,)"), raw({0x3F, 0xC0, 0x00, 0x00})));
    CHECK(f4.values<float>()[0] == 1.5f);
    const NDArray f8 = imio::imread(npy_file(dict_text(">f8", "(1,)"), raw({0xC0, 0, 0, 0, 0, 0, 0, 0})));
    CHECK(f8.values<double>()[0] == -2.0);
    const NDArray f2 = imio::imread(npy_file(dict_text(">f2", "(2,)"), raw({0x3C, 0x00, 0x7E, 0x01})));
    CHECK(f2.values<imio::float16>()[0].bits == 0x3C00);
    CHECK(f2.values<imio::float16>()[1].bits == 0x7E01);
  }
  SECTION("'<', '=', '|' and no order character need no swap here") {
    const Bytes le = raw({0x02, 0x01});
    CHECK(imio::imread(npy_file(dict_text("<u2", "(1,)"), le)).values<std::uint16_t>()[0] == 0x0102);
    if constexpr (std::endian::native == std::endian::little) {
      CHECK(imio::imread(npy_file(dict_text("=u2", "(1,)"), le)).values<std::uint16_t>()[0] == 0x0102);
      CHECK(imio::imread(npy_file(dict_text("|u2", "(1,)"), le)).values<std::uint16_t>()[0] == 0x0102);
      CHECK(imio::imread(npy_file(dict_text("u2", "(1,)"), le)).values<std::uint16_t>()[0] == 0x0102);
    }
  }
  SECTION("metadata keep the descr as the file states it") {
    const Bytes file = npy_file(dict_text(">u2", "(2,)"), raw({0x01, 0x02, 0xA0, 0xB0}));
    CHECK(imio::immeta(file).get<std::string>("descr") == ">u2");
    CHECK(imio::improps(file).dtype == DType::uint16);
  }
}

TEST_CASE("npy: Fortran-order data are transposed to C order", "[npy]") {
  // Element (i, j, k) of a (2, 3, 4) array is 100 i + 10 j + k; in Fortran
  // order the first axis varies fastest.
  Bytes data;
  for (int k = 0; k < 4; ++k)
    for (int j = 0; j < 3; ++j)
      for (int i = 0; i < 2; ++i) {
        const auto v = static_cast<std::uint16_t>(100 * i + 10 * j + k);
        data.push_back(static_cast<std::byte>(v >> 8));  // stored big-endian too
        data.push_back(static_cast<std::byte>(v & 0xFF));
      }
  const Bytes file = npy_file(dict_text(">u2", "(2, 3, 4)", true), data);
  auto check = [](const NDArray& a) {
    REQUIRE(a.shape() == Shape{2, 3, 4});
    for (std::size_t i = 0; i < 2; ++i)
      for (std::size_t j = 0; j < 3; ++j)
        for (std::size_t k = 0; k < 4; ++k) CHECK(a.at<std::uint16_t>(i, j, k) == 100 * i + 10 * j + k);
  };
  SECTION("from memory (transposed where the data lie)") { check(imio::imread(file)); }
  SECTION("from a file (memory-mapped)") {
    imio_test::TempDir dir;
    write_file(dir / "f.npy", file);
    check(imio::imread(dir / "f.npy"));
  }
  SECTION("from a stream that cannot seek (through a scratch buffer)") { check(read_one_way(file)); }
  SECTION("metadata say so; properties give the C-order shape") {
    CHECK(imio::immeta(file).get<bool>("fortran_order"));
    CHECK(imio::improps(file).shape == Shape{2, 3, 4});
  }
  SECTION("2-D, one byte per element, unit axes") {
    // (2, 1, 3): element (i, 0, j) = 10 i + j, stored column by column.
    const NDArray a = imio::imread(npy_file(dict_text("|u1", "(2, 1, 3)", true), raw({0, 10, 1, 11, 2, 12})));
    REQUIRE(a.shape() == Shape{2, 1, 3});
    CHECK(a.at<std::uint8_t>(0, 0, 2) == 2);
    CHECK(a.at<std::uint8_t>(1, 0, 0) == 10);
    CHECK(a.at<std::uint8_t>(1, 0, 2) == 12);
  }
}

// ---------------------------------------------------------------- index, properties, metadata

TEST_CASE("npy: a file holds one array: index none, 0 and all", "[npy]") {
  const NDArray a = sample({2, 3}, DType::int32);
  const Bytes file = *imio::imwrite("<bytes>", a, {.extension = ".npy"});

  CHECK(imio::imread(file) == a);
  CHECK(imio::imread(file, {.index = 0}) == a);
  const NDArray batch = imio::imread(file, {.index = imio::all});
  CHECK(batch.shape() == Shape{1, 2, 3});
  CHECK(std::memcmp(batch.bytes(), a.bytes(), a.nbytes()) == 0);

  const auto msg = message_of<imio::IndexError>([&] { imio::imread(file, {.index = 1}); });
  CHECK(contains(msg, "index 1 is out of range: the file holds 1 image"));
  CHECK_THROWS_AS(imio::imread(file, {.index = -1}), imio::IndexError);
  CHECK_THROWS_AS(imio::improps(file, {.index = 2}), imio::IndexError);
  CHECK_THROWS_AS(imio::immeta(file, {.index = 1}), imio::IndexError);

  int count = 0;
  for (const NDArray& frame : imio::imiter(file)) {
    CHECK(frame == a);
    ++count;
  }
  CHECK(count == 1);
}

TEST_CASE("npy: properties follow the index and equal what read returns", "[npy]") {
  const Bytes file = *imio::imwrite("<bytes>", sample({4, 5}, DType::float32), {.extension = ".npy"});
  const imio::ImageProperties one = imio::improps(file);
  CHECK(one == imio::ImageProperties{.shape = {4, 5}, .dtype = DType::float32});
  CHECK(imio::improps(file, {.index = 0}) == one);
  const imio::ImageProperties all = imio::improps(file, {.index = imio::all});
  CHECK(all == imio::ImageProperties{.shape = {1, 4, 5}, .dtype = DType::float32, .n_images = 1, .is_batch = true});
  CHECK(imio::imread(file, {.index = imio::all}).shape() == all.shape);
}

TEST_CASE("npy: properties and metadata read the header only", "[npy]") {
  // A valid header for 8 MB of float64 and no data at all: improps says the
  // file is truncated, as imread does (D11), from the file's size.
  const Bytes header_only = npy_file(dict_text("<f8", "(1000, 1000)"));
  CHECK(contains(message_of<imio::DecodeError>([&] { imio::improps(header_only); }), "truncated"));
  CHECK(imio::immeta(header_only).get<std::string>("descr") == "<f8");
  const auto msg = message_of<imio::DecodeError>([&] { imio::imread(header_only); });
  CHECK(contains(msg, "truncated"));
}

TEST_CASE("npy: metadata hold descr, fortran_order and shape for index none, 0 and all", "[npy]") {
  const Bytes file = npy_file(dict_text("<i2", "(3, 1)"), raw({1, 0, 2, 0, 3, 0}));
  for (const imio::Index index : {imio::Index(), imio::Index(0), imio::Index(imio::all)}) {
    INFO("index " << index.repr());
    const imio::Metadata meta = imio::immeta(file, {.index = index});
    REQUIRE(meta.size() == 3);
    CHECK(meta.get<std::string>("descr") == "<i2");
    CHECK(meta.get<bool>("fortran_order") == false);
    CHECK(meta.at("shape") == imio::Value({3, 1}));
  }
  CHECK(imio::immeta(npy_file(dict_text("|u1", "()"), raw({1}))).at("shape") == imio::Value(imio::Value::List{}));
}

// ---------------------------------------------------------------- arguments

TEST_CASE("npy: unknown keyword arguments are an ArgumentError naming the key", "[npy]") {
  imio_test::TempDir dir;
  const fs::path path = dir / "a.npy";
  imio::imwrite(path, sample({2, 2}, DType::uint8));
  const imio::Kwargs bad{{"mmap_mode", "r"}};
  auto names_key = [](const std::string& msg) { return contains(msg, "mmap_mode") && contains(msg, "npy"); };

  CHECK(names_key(message_of<imio::ArgumentError>([&] { imio::imread(path, {.kwargs = bad}); })));
  CHECK(names_key(message_of<imio::ArgumentError>([&] { imio::improps(path, {.kwargs = bad}); })));
  CHECK(names_key(message_of<imio::ArgumentError>([&] { imio::immeta(path, {.kwargs = bad}); })));
  CHECK(names_key(message_of<imio::ArgumentError>([&] {
    for (const NDArray& a : imio::imiter(path, {.kwargs = bad})) (void)a;
  })));
  CHECK(names_key(message_of<imio::ArgumentError>([&] { imio::imopen(path, "r", {.kwargs = bad}); })));
  const auto write_msg = message_of<imio::ArgumentError>(
      [&] { imio::imwrite(dir / "b.npy", sample({2, 2}, DType::uint8), {.kwargs = {{"allow_pickle", true}}}); });
  CHECK(contains(write_msg, "allow_pickle"));
  CHECK(contains(write_msg, "npy.write"));
  CHECK_FALSE(fs::exists(dir / "b.npy"));
}

TEST_CASE("npy: the plugin writes only .npy and .npz files", "[npy]") {
  imio_test::TempDir dir;
  const NDArray a = sample({2, 2}, DType::uint8);
  const auto msg = message_of<imio::NoPluginError>([&] { imio::imwrite(dir / "x.png", a, {.plugin = "npy"}); });
  CHECK(contains(msg, "writes only .npy and .npz files"));
  CHECK_THROWS_AS(imio::imwrite("<bytes>", a, {.plugin = "npy", .extension = ".png"}), imio::NoPluginError);
  CHECK(fs::is_empty(dir.path()));
  // extension= decides for "<bytes>" and for paths alike
  CHECK(imio::imwrite("<bytes>", a, {.plugin = "npy", .extension = ".NPY"}).has_value());
}

TEST_CASE("npy: data without the signature are refused; a broken header is a DecodeError", "[npy]") {
  // (not another format's signature either: that plugin would claim the data, D4)
  const Bytes not_npy = to_bytes("plain text, not an array and not an image");
  const auto msg = message_of<imio::NoPluginError>([&] { imio::imread(not_npy, {.plugin = "npy"}); });
  CHECK(contains(msg, "npy ("));
  CHECK_THROWS_AS(imio::imread(not_npy, {.extension = ".npy"}), imio::NoPluginError);
  CHECK_THROWS_AS(imio::imread(Bytes{}, {.extension = ".npy"}), imio::NoPluginError);

  // The signature makes it NumPy's: no other plugin is asked (DECISIONS D4).
  const Bytes broken = npy_file("{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4) ");
  CHECK_THROWS_AS(imio::imread(broken), imio::DecodeError);
  CHECK_THROWS_AS(imio::improps(broken), imio::DecodeError);
}

TEST_CASE("npy: plugins() lists npy for .npy and .npz, reading and writing", "[npy]") {
  const auto all = imio::plugins();
  const auto it = std::find_if(all.begin(), all.end(), [](const imio::PluginInfo& p) { return p.name == "npy"; });
  REQUIRE(it != all.end());
  CHECK(it->aliases == std::vector<std::string>{"NPZ"});  // imageio's NPZ plugin (D1)
  CHECK(it->extensions == std::vector<std::string>{".npy", ".npz"});
  CHECK(it->can_read);
  CHECK(it->can_write);
  CHECK_FALSE(it->backend.empty());
}

// ---------------------------------------------------------------- writing safely

TEST_CASE("npy: a second write on one handle is an ArgumentError and the target stays as it was", "[npy]") {
  imio_test::TempDir dir;
  const fs::path target = dir / "keep.npy";
  const NDArray original = sample({2, 2}, DType::uint8, 1);
  imio::imwrite(target, original);
  const Bytes before = read_file(target);

  auto two_writes = [&] {
    auto file = imio::imopen(target, "w");
    file.write(sample({3, 3}, DType::uint8, 2));
    file.write(sample({3, 3}, DType::uint8, 3));
  };
  const auto msg = message_of<imio::ArgumentError>(two_writes);
  CHECK(contains(msg, "one array"));
  CHECK(read_file(target) == before);
  CHECK(std::distance(fs::directory_iterator(dir.path()), fs::directory_iterator()) == 1);

  SECTION("when the caller goes on and closes, the first array is the file") {
    auto file = imio::imopen(target, "w");
    const NDArray first = sample({3, 3}, DType::uint8, 2);
    file.write(first);
    CHECK_THROWS_AS(file.write(first), imio::ArgumentError);
    file.close();
    CHECK(imio::imread(target) == first);
  }
  SECTION("a write refused for its arguments leaves the handle free for the next") {
    auto file = imio::imopen(target, "w");
    std::vector<NDArray> mixed;
    mixed.push_back(sample({2, 2}, DType::uint8));
    mixed.push_back(sample({2, 3}, DType::uint8));
    CHECK_THROWS_AS(file.write(std::span<const NDArray>(mixed)), imio::ArgumentError);
    const NDArray ok = sample({4}, DType::uint8, 9);
    file.write(ok);
    file.close();
    CHECK(imio::imread(target) == ok);
  }
}

TEST_CASE("npy: an ImageFile opened for writing cannot read", "[npy]") {
  imio_test::TempDir dir;
  auto file = imio::imopen(dir / "w.npy", "w");
  CHECK_THROWS_AS(file.read(), imio::IOError);
  CHECK_THROWS_AS(file.properties(), imio::IOError);
}

// ---------------------------------------------------------------- hostile input

TEST_CASE("npy: hostile headers are a DecodeError, never a crash", "[npy][hostile]") {
  const Bytes some = raw({1, 2, 3, 4, 5, 6, 7, 8});
  const char* dicts[] = {
      "{'descr': '<f8', 'fortran_order': False, 'shape': (4611686018427387904, 4611686018427387904), }",
      "{'descr': '<f8', 'fortran_order': False, 'shape': (2**62, 2**62), }",
      "{'descr': '|u1', 'fortran_order': False, 'shape': (9223372036854775807, 9223372036854775807, 2), }",
      "{'descr': '|u1', 'fortran_order': False, 'shape': (99999999999999999999999,), }",
      "{'descr': '|u1', 'fortran_order': False, 'shape': (-1, 8), }",
      "{'descr': '<f4', 'shape': (2,), }",
      "{'descr': '<f4', 'fortran_order': False, }",
      "{'fortran_order': False, 'shape': (2,), }",
      "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), ",
      "{'descr': '<f4",
      "{'descr': '<f4', 'fortran_order': False, 'shape': (2,",
      "{'descr': '<c16', 'fortran_order': False, 'shape': (1,), }",
      "{'descr': [('x', '<f4'), ('y', '<i2')], 'fortran_order': False, 'shape': (1,), }",
      "{'descr': '|O', 'fortran_order': False, 'shape': (1,), }",
      "{'descr': '<U8', 'fortran_order': False, 'shape': (1,), }",
      "{'descr': '<M8[ns]', 'fortran_order': False, 'shape': (1,), }",
      "{'descr': '<f16', 'fortran_order': False, 'shape': (1,), }",
      "{'descr': '|u1', 'fortran_order': 0, 'shape': (1,), }",
      "{'descr': '|u1', 'fortran_order': False, 'shape': (8), }",
      "{'descr': '|u1', 'fortran_order': False, 'shape': [8], }",
      "{'descr': '|u1', 'fortran_order': False, 'shape': ((8,),), }",
      "{'descr': '|u1', 'fortran_order': False, 'shape': (0x8,), }",
      "{'descr': '|u1', 'fortran_order': False, 'shape': (8,), 'extra': 1}",
      "{'descr': '|u1', 'descr': '|u1', 'fortran_order': False, 'shape': (8,)}",
      "{'descr': '|u1', 'fortran_order': False, 'shape': (8,)} trailing",
      "{'descr': '|u1' 'fortran_order': False, 'shape': (8,)}",
      "{}",
      "",
      "\xff\xfe\x00garbage\x00",
      "[1, 2, 3]",
  };
  for (const char* dict : dicts) {
    INFO(dict);
    const Bytes file = npy_file(dict, some);
    CHECK_THROWS_AS(imio::improps(file), imio::DecodeError);
    CHECK_THROWS_AS(imio::imread(file), imio::DecodeError);
    CHECK_THROWS_AS(read_one_way(file), imio::DecodeError);
  }
  SECTION("unsupported dtypes are named in the message") {
    const auto msg = message_of<imio::DecodeError>(
        [&] { imio::imread(npy_file("{'descr': '<c16', 'fortran_order': False, 'shape': (1,), }", some)); });
    CHECK(contains(msg, "'<c16'"));
    CHECK(contains(msg, "complex"));
    const auto list = message_of<imio::DecodeError>([&] {
      imio::imread(npy_file("{'descr': [('x', '<f4')], 'fortran_order': False, 'shape': (1,), }", some));
    });
    CHECK(contains(list, "[('x', '<f4')]"));
  }
}

TEST_CASE("npy: broken preambles and truncated data are a DecodeError", "[npy][hostile]") {
  const Bytes good = npy_file(dict_text("<u4", "(4, 4)"), Bytes(64, std::byte{1}));
  SECTION("the file ends inside the version or the header length") {
    for (const std::size_t n : {7u, 8u, 9u}) CHECK_THROWS_AS(imio::imread(Bytes(good.begin(), good.begin() + n)), imio::DecodeError);
  }
  SECTION("the header length points past the end") {
    Bytes bad = good;
    bad[8] = std::byte{0x60};
    bad[9] = std::byte{0xEA};  // 60000
    CHECK(contains(message_of<imio::DecodeError>([&] { imio::imread(bad); }), "past the end"));
    CHECK_THROWS_AS(read_one_way(bad), imio::DecodeError);
  }
  SECTION("a version 2.0 header length of 2 GiB is refused without buffering it") {
    Bytes bad = npy_file(dict_text("<u4", "(4, 4)"), Bytes(64, std::byte{1}), 2);
    bad[11] = std::byte{0x7F};
    CHECK_THROWS_AS(read_one_way(bad), imio::DecodeError);
    CHECK_THROWS_AS(imio::imread(bad), imio::DecodeError);
  }
  SECTION("the data end early") {
    for (const std::size_t cut : {1u, 4u, 63u}) {
      const Bytes shorter(good.begin(), good.end() - static_cast<std::ptrdiff_t>(cut));
      CHECK(contains(message_of<imio::DecodeError>([&] { imio::imread(shorter); }), "truncated"));
      CHECK_THROWS_AS(read_one_way(shorter), imio::DecodeError);
      imio_test::TempDir dir;
      write_file(dir / "short.npy", shorter);
      CHECK_THROWS_AS(imio::imread(dir / "short.npy"), imio::DecodeError);
      CHECK_THROWS_AS(imio::improps(dir / "short.npy"), imio::DecodeError);
    }
  }
  SECTION("a header claiming far more than the file holds fails before allocating") {
    // 1 TiB claimed: a DecodeError from the size check, not an allocation failure.
    const Bytes huge = npy_file(dict_text("|u1", "(1048576, 1048576)"), Bytes(16));
    const auto msg = message_of<imio::DecodeError>([&] { imio::imread(huge); });
    CHECK(contains(msg, "truncated"));
    imio_test::TempDir dir;
    write_file(dir / "huge.npy", huge);
    CHECK_THROWS_AS(imio::imread(dir / "huge.npy"), imio::DecodeError);
    // A stream of unknown length: the Limits stop it before allocating.
    // plugin= keeps other plugins from probing (FFmpeg reads a short stream
    // to its end, which makes its length known).
    const auto limit = message_of<imio::LimitError>([&] { read_one_way(huge, {.plugin = "npy"}); });
    CHECK(contains(limit, "max_bytes"));
  }
}

TEST_CASE("npy: Limits::max_bytes is checked before the array is allocated", "[npy]") {
  imio_test::TempDir dir;
  const fs::path path = dir / "big.npy";
  imio::imwrite(path, sample({100, 100}, DType::float64));
  const auto msg = message_of<imio::LimitError>([&] { imio::imread(path, {.limits = {.max_bytes = 1000}}); });
  CHECK(contains(msg, "max_bytes"));
  CHECK(imio::imread(path, {.limits = {.max_bytes = 80000}}).shape() == Shape{100, 100});
  // The header alone fits: properties need no allocation of the array.
  CHECK(imio::improps(path, {.limits = {.max_bytes = 1000}}).shape == Shape{100, 100});
}

TEST_CASE("npy: random corruption of a file never crashes", "[npy][hostile]") {
  const Bytes good = *imio::imwrite("<bytes>", sample({3, 4, 5}, DType::float32), {.extension = ".npy"});
  // Half the edits use the header's own alphabet, to reach deep into the parser.
  constexpr std::string_view alphabet = "{}()[]'\":, _+-0123456789LTrueFalsedescrfortran_ordershape<>|=fiub\n";
  std::mt19937 rng(12345);
  int decoded = 0, refused = 0;
  for (int round = 0; round < 3000; ++round) {
    Bytes file = good;
    const int edits = 1 + static_cast<int>(rng() % 3);
    for (int e = 0; e < edits; ++e) {
      // mostly inside the preamble and header, where the parser lives
      const std::size_t at = rng() % 4 == 0 ? rng() % file.size() : 6 + rng() % 122;
      file[at] = round % 2 ? static_cast<std::byte>(rng() & 0xFF) : static_cast<std::byte>(alphabet[rng() % alphabet.size()]);
    }
    if (rng() % 5 == 0) file.resize(rng() % file.size());
    try {
      const NDArray a = imio::imread(file);
      CHECK(a.nbytes() <= file.size());
      ++decoded;
    } catch (const imio::Error&) {
      ++refused;
    }
  }
  CHECK(decoded + refused == 3000);
  CHECK(refused > 0);
}

// ---------------------------------------------------------------- numpy as the independent reader and writer

TEST_CASE("npy: files numpy.save wrote read as numpy reads them", "[npy][numpy]") {
  if (!numpy_available()) {
    WARN("skipped: " << (python().empty() ? std::string("no python3") : python()) << " has no numpy");
    return;
  }
  imio_test::TempDir dir;
  // Every dtype, both byte orders, C and Fortran order, ndim 0..4 and an
  // empty array; the expected values are numpy's own C-order little-endian bytes.
  static constexpr std::string_view script = R"PY(
import os, sys
import numpy as np
out = sys.argv[1]
rng = np.random.default_rng(20240611)
names = ['bool', 'uint8', 'uint16', 'uint32', 'uint64', 'int8', 'int16', 'int32', 'int64',
         'float16', 'float32', 'float64']
shapes = [(), (5,), (3, 4), (2, 3, 4), (2, 1, 3, 2), (0, 3)]
lines = []
for name in names:
    base = np.dtype(name)
    for endian in '<>':
        if base.itemsize == 1 and endian == '>':
            continue
        dt = base.newbyteorder(endian) if base.itemsize > 1 else base
        for order in 'CF':
            for i, shape in enumerate(shapes):
                n = int(np.prod(shape))
                if name == 'bool':
                    a = (rng.integers(0, 2, size=n) == 1).reshape(shape)
                else:
                    noise = rng.integers(0, 256, size=n * dt.itemsize, dtype=np.uint8).tobytes()
                    a = np.frombuffer(noise, dtype=dt).reshape(shape)
                a = np.array(a, order=order)  # keeps 0-d arrays 0-d
                stem = '%s_%s_%s_%d' % (name, 'be' if endian == '>' else 'le', order, i)
                np.save(os.path.join(out, stem + '.npy'), a)
                c = np.array(a, order='C')
                with open(os.path.join(out, stem + '.raw'), 'wb') as f:
                    f.write((c.byteswap() if c.dtype.byteorder == '>' else c).tobytes())
                lines.append(' '.join([stem, name, order] + [str(d) for d in shape]))
with open(os.path.join(out, 'manifest.txt'), 'w') as f:
    f.write('\n'.join(lines) + '\n')
)PY";
  std::string log;
  REQUIRE(run_python(dir, script, log) == 0);
  INFO(log);
  std::ifstream manifest(dir / "manifest.txt");
  int checked = 0, fortran = 0;
  for (std::string line; std::getline(manifest, line);) {
    const auto w = words(line);
    if (w.size() < 3) continue;
    INFO(line);
    Shape shape;
    for (std::size_t i = 3; i < w.size(); ++i) shape.push_back(std::stoull(w[i]));
    const fs::path npy = dir / (w[0] + ".npy");
    const Bytes expected = read_file(dir / (w[0] + ".raw"));
    const NDArray a = imio::imread(npy);
    CHECK(a.dtype() == imio::dtype_from_name(w[1]));
    CHECK(a.shape() == shape);
    REQUIRE(a.nbytes() == expected.size());
    if constexpr (std::endian::native == std::endian::little) {
      CHECK(std::equal(a.bytes(), a.bytes() + a.nbytes(), expected.begin()));
      CHECK(read_one_way(read_file(npy)) == a);  // the scratch-buffer path
    }
    CHECK(imio::improps(npy) == imio::ImageProperties{.shape = shape, .dtype = a.dtype()});
    if (imio::immeta(npy).get<bool>("fortran_order")) ++fortran;
    ++checked;
  }
  CHECK(checked == 252);
  CHECK(fortran > 0);
}

TEST_CASE("npy: files imio wrote are read by numpy.load and equal numpy.save's bytes", "[npy][numpy]") {
  if (!numpy_available()) {
    WARN("skipped: " << (python().empty() ? std::string("no python3") : python()) << " has no numpy");
    return;
  }
  imio_test::TempDir dir;
  const Shape shapes[] = {{}, {5}, {3, 4}, {2, 3, 4}, {2, 1, 3, 2}, {1, 2, 1, 2, 3}, {0, 3}, {123456}};
  std::string manifest;
  for (const DType dtype : kAllDTypes) {
    for (std::size_t s = 0; s < std::size(shapes); ++s) {
      const std::string stem = std::string(imio::name(dtype)) + "_" + std::to_string(s);
      const NDArray a = sample(shapes[s], dtype, static_cast<std::uint32_t>(s));
      imio::imwrite(dir / (stem + ".npy"), a);
      write_file(dir / (stem + ".raw"), std::span<const std::byte>(a.bytes(), a.nbytes()));
      manifest += stem + " " + std::string(imio::name(dtype));
      for (const std::size_t d : shapes[s]) manifest += " " + std::to_string(d);
      manifest += "\n";
    }
  }
  // and a stacked list
  std::vector<NDArray> frames;
  for (std::uint32_t i = 0; i < 3; ++i) frames.push_back(sample({4, 2}, DType::uint16, i));
  imio::imwrite(dir / "stacked.npy", std::span<const NDArray>(frames));
  const NDArray stacked = NDArray::stack(frames);
  write_file(dir / "stacked.raw", std::span<const std::byte>(stacked.bytes(), stacked.nbytes()));
  manifest += "stacked uint16 3 4 2\n";
  write_file(dir / "manifest.txt", to_bytes(manifest));

  static constexpr std::string_view script = R"PY(
import io, os, sys
import numpy as np
d = sys.argv[1]
same_bytes = hasattr(np.lib.format, 'GROWTH_AXIS_MAX_DIGITS')  # numpy >= 1.23 lays headers out as imio does
bad = checked = 0
for line in open(os.path.join(d, 'manifest.txt')):
    w = line.split()
    if not w:
        continue
    stem, name, shape = w[0], w[1], tuple(int(x) for x in w[2:])
    path = os.path.join(d, stem + '.npy')
    a = np.load(path, allow_pickle=False)
    raw = open(os.path.join(d, stem + '.raw'), 'rb').read()
    problems = []
    if a.dtype != np.dtype(name) or not a.dtype.isnative:
        problems.append('dtype %s' % a.dtype.str)
    if a.shape != shape:
        problems.append('shape %s' % (a.shape,))
    if a.tobytes() != raw:
        problems.append('values differ')
    if same_bytes:
        buf = io.BytesIO()
        np.save(buf, a)
        if buf.getvalue() != open(path, 'rb').read():
            problems.append('file bytes differ from numpy.save')
    checked += 1
    if problems:
        bad += 1
        print(stem, ', '.join(problems))
print('checked %d files, %d bad, byte comparison %s' % (checked, bad, 'on' if same_bytes else 'off'))
sys.exit(1 if bad or checked == 0 else 0)
)PY";
  std::string log;
  const int status = run_python(dir, script, log);
  INFO(log);
  CHECK(status == 0);
  CHECK(contains(log, "checked 97 files, 0 bad"));
}
