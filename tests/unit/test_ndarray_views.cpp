// NDArray for real work: views of sub-arrays (numpy's a[i]), astype checked
// against numpy for every pair of dtypes, printing, allocation errors.
#include <imio/imio.hpp>

#include <cmath>
#include <cstring>
#include <sstream>
#include <string>

#include "catch.hpp"
#include "python_oracle.hpp"
#include "test_util.hpp"

using imio::ArrayView;
using imio::ConstArrayView;
using imio::DType;
using imio::NDArray;
using imio::Shape;

namespace {

NDArray ramp(Shape shape) {
  NDArray a(std::move(shape), DType::uint16);
  auto v = a.values<std::uint16_t>();
  for (std::size_t i = 0; i < v.size(); ++i) v[i] = static_cast<std::uint16_t>(i);
  return a;
}

std::uint16_t sum(ConstArrayView v) {  // a function taking any array or view
  std::uint16_t s = 0;
  for (const std::uint16_t x : v.values<std::uint16_t>()) s = static_cast<std::uint16_t>(s + x);
  return s;
}

}  // namespace

TEST_CASE("a[i] is a view of the i-th sub-array along the first axis", "[ndarray][view]") {
  NDArray batch = ramp({3, 4, 5, 2});  // (N, H, W, C)
  ArrayView frame = batch[1];
  CHECK(frame.shape() == Shape{4, 5, 2});
  CHECK(frame.dtype() == DType::uint16);
  CHECK(frame.size() == 40);
  CHECK(frame.nbytes() == 80);
  CHECK(frame.strides() == std::vector<std::ptrdiff_t>{20, 4, 2});
  CHECK(frame.bytes() == batch.bytes() + 80);
  CHECK(frame.at<std::uint16_t>(0, 0, 0) == 40);
  CHECK(frame.at<std::uint16_t>(3, 4, 1) == 79);
  // views of views, down to a 0-d element
  CHECK(batch[2][3][4].shape() == Shape{2});
  CHECK(batch[2][3][4].at<std::uint16_t>(1) == 2 * 40 + 3 * 10 + 4 * 2 + 1);
  CHECK(batch[2][3][4][1].shape() == Shape{});
  CHECK(batch[2][3][4][1].at<std::uint16_t>() == 119);
  // writes through a view land in the array
  frame.at<std::uint16_t>(0, 0, 0) = 7;
  CHECK(batch.at<std::uint16_t>(1, 0, 0, 0) == 7);
  // copy() owns its elements
  NDArray owned = frame.copy();
  CHECK(owned.shape() == frame.shape());
  CHECK(std::memcmp(owned.bytes(), frame.bytes(), frame.nbytes()) == 0);
  CHECK(owned.bytes() != frame.bytes());
}

TEST_CASE("views: bounds, dtype and constness are checked", "[ndarray][view]") {
  NDArray a = ramp({2, 3});
  CHECK_THROWS_AS(a[2], imio::IndexError);
  CHECK_THROWS_AS(a[0][3], imio::IndexError);
  CHECK_THROWS_AS(a[0][0][0], imio::IndexError);  // a 0-d view has no sub-arrays
  CHECK_THROWS_AS(a[0].at<std::uint8_t>(0), imio::ArgumentError);
  CHECK_THROWS_AS(a[0].at<std::uint16_t>(0, 0), imio::ArgumentError);
  NDArray empty;
  CHECK_THROWS_AS(empty[0], imio::IndexError);
  const NDArray& c = a;
  ConstArrayView row = c[1];
  static_assert(std::is_same_v<decltype(row.at<std::uint16_t>(0)), const std::uint16_t&>);
  static_assert(!std::is_convertible_v<ConstArrayView, ArrayView>);
  static_assert(std::is_convertible_v<ArrayView, ConstArrayView>);
  // a temporary's buffer dies with it: taking a view of one does not compile
  static_assert(!std::is_convertible_v<NDArray&&, ConstArrayView>);
  CHECK(row.values<std::uint16_t>()[2] == 5);
}

TEST_CASE("an NDArray converts to a view; the view survives a move of the array", "[ndarray][view]") {
  NDArray a = ramp({4, 4});
  CHECK(sum(a) == 120);
  CHECK(sum(a[3]) == 12 + 13 + 14 + 15);
  ConstArrayView v = a.view();
  NDArray moved = std::move(a);  // the buffer moves with the array
  CHECK(v.bytes() == moved.bytes());
  CHECK(sum(v) == 120);
}

TEST_CASE("at<T> checks every index, signed and unsigned", "[ndarray]") {
  NDArray a = ramp({2, 3});
  CHECK(a.at<std::uint16_t>(1, 2) == 5);
  CHECK(a.at<std::uint16_t>(std::size_t{1}, 2u) == 5);
  CHECK_THROWS_AS(a.at<std::uint16_t>(-1, 0), imio::IndexError);
  CHECK_THROWS_AS(a.at<std::uint16_t>(0, 3), imio::IndexError);
  CHECK_THROWS_AS(a.at<std::uint16_t>(std::uint64_t{1} << 63, 0), imio::IndexError);
  CHECK_THROWS_AS(a.at<std::uint16_t>(0), imio::ArgumentError);
}

TEST_CASE("an array too large to allocate is a LimitError, not std::bad_alloc", "[ndarray]") {
  // A byte size that overflows never reaches the allocator.
  CHECK_THROWS_AS(NDArray({std::size_t{1} << 40, std::size_t{1} << 40}, DType::uint8), imio::LimitError);
#ifdef IMIO_TEST_ASAN
  WARN("skipped the allocation failure: AddressSanitizer reports an oversized allocation instead of failing it");
#else
  // 2^46 bytes: below PTRDIFF_MAX, above what the allocator gives.
  CHECK_THROWS_AS(NDArray({std::size_t{1} << 23, std::size_t{1} << 23}, DType::uint8), imio::LimitError);
  CHECK_THROWS_AS(NDArray::uninitialized({std::size_t{1} << 44}, DType::float32), imio::LimitError);
#endif
}

TEST_CASE("operator<< prints dtypes, arrays and views on one line", "[ndarray]") {
  std::ostringstream out;
  NDArray a({300, 451, 3}, DType::uint8);
  out << DType::float32 << " | " << a << " | " << a[0] << " | " << NDArray({5}, DType::bool_);
  CHECK(out.str() == "float32 | NDArray(shape=(300, 451, 3), dtype=uint8) | ArrayView(shape=(451, 3), dtype=uint8) | "
                     "NDArray(shape=(5,), dtype=bool)");
}

TEST_CASE("float16::from_double rounds once, to nearest even", "[ndarray]") {
  CHECK(imio::float16::from_double(1.0).bits == 0x3C00);
  CHECK(imio::float16::from_double(65504.0).bits == 0x7BFF);
  CHECK(imio::float16::from_double(65519.99).bits == 0x7BFF);
  CHECK(imio::float16::from_double(65520.0).bits == 0x7C00);  // halfway to 65536: even is inf
  CHECK(imio::float16::from_double(-0.0).bits == 0x8000);
  CHECK(imio::float16::from_double(0x1p-24).bits == 0x0001);  // the smallest subnormal
  CHECK(imio::float16::from_double(0x1p-25).bits == 0x0000);  // its half: ties to even (zero)
  CHECK(imio::float16::from_double(0x1.8p-25).bits == 0x0001);
  // 1 + 2^-11 + 2^-40 is above the halfway point; through float it would round to 1.0
  CHECK(imio::float16::from_double(1.0 + 0x1p-11 + 0x1p-40).bits == 0x3C01);
  CHECK(imio::float16::from_float(static_cast<float>(1.0 + 0x1p-11 + 0x1p-40)).bits == 0x3C00);
}

TEST_CASE("astype equals numpy's astype for every pair of dtypes", "[ndarray][astype][oracle]") {
  if (!imio_test::python_has("numpy")) {
    WARN("skipped: python3 with numpy is not available");
    return;
  }
  imio_test::TempDir dir;
  // numpy makes each source array from the same values, then the expected
  // result of every cast; imio reads the sources (npy plugin) and casts.
  std::string log;
  const int rc = imio_test::run_python(dir, R"(
import os, sys, warnings
import numpy as np
warnings.simplefilter("ignore")
d = sys.argv[1]
names = ["bool", "uint8", "uint16", "uint32", "uint64", "int8", "int16", "int32", "int64", "float16", "float32", "float64"]
ints = [0, 1, 2, 3, 7, 100, 127, 128, 129, 200, 255, 256, 300, 1000, 32767, 32768, 40000, 65504, 65505, 65519, 65520,
        65535, 65536, 70000, 2**24 + 1, 2**31 - 1, 2**31, 2**32 - 1, 2**32, 5 * 10**9, 2**53 + 1, 2**63 - 1, 2**63, 2**64 - 1]
floats = [0.0, -0.0, 0.5, 1.5, 2.5, -1.5, -0.7, 127.9, 128.0, 255.5, 256.0, 300.7, -129.0, -300.5, 65504.0, 65520.0,
          1e5, 2.0**31, 3e9, -3e9, 2.0**32, 5e9, -5e9, 2.0**53 + 2, 2.0**63, -2.0**63, 1e19, 2.0**64, -1e19, 1e30, -1e30,
          1e300, float("inf"), float("-inf"), float("nan"), 1e-8, 6e-8, 3e-8, 5.960464477539063e-08, 1.0000001]
for s in names:
    if s == "bool":
        src = np.array([False, True, True, False], dtype=s)
    elif s.startswith("float"):
        src = np.array(floats, dtype=np.float64).astype(s)
    else:
        info = np.iinfo(s)
        vals = [v for v in ints + [-v for v in ints] if info.min <= v <= info.max]
        src = np.array(vals, dtype=s)
    np.save(os.path.join(d, "src_%s.npy" % s), src)
    for t in names:
        # element by element: for a float beyond uint32's range numpy's SIMD
        # loop (long arrays) and its scalar loop disagree; imio is the latter
        exp = np.concatenate([src[i:i + 1].astype(t) for i in range(len(src))])
        np.save(os.path.join(d, "exp_%s_%s.npy" % (s, t)), exp)
)",
                                       log);
  REQUIRE(rc == 0);
  const char* names[] = {"bool", "uint8", "uint16", "uint32", "uint64", "int8",
                         "int16", "int32", "int64", "float16", "float32", "float64"};
  for (const char* s : names) {
    const NDArray src = imio::imread(dir / ("src_" + std::string(s) + ".npy"));
    for (const char* t : names) {
      INFO(s << " -> " << t);
      const NDArray expected = imio::imread(dir / ("exp_" + std::string(s) + "_" + std::string(t) + ".npy"));
      const NDArray got = src.astype(imio::dtype_from_name(t));
      REQUIRE(got.shape() == expected.shape());
      REQUIRE(got.dtype() == expected.dtype());
      const std::size_t item = imio::itemsize(got.dtype());
      std::size_t wrong = 0;
      for (std::size_t i = 0; i < got.size(); ++i) {
        const std::byte* g = got.bytes() + i * item;
        const std::byte* e = expected.bytes() + i * item;
        if (std::memcmp(g, e, item) == 0) continue;
        // NaN payloads may differ; both NaN is equal
        const DType dt = got.dtype();
        const bool both_nan = (dt == DType::float64 && std::isnan(got.values<double>()[i]) && std::isnan(expected.values<double>()[i])) ||
                              (dt == DType::float32 && std::isnan(got.values<float>()[i]) && std::isnan(expected.values<float>()[i])) ||
                              (dt == DType::float16 && std::isnan(got.values<imio::float16>()[i].to_float()) &&
                               std::isnan(expected.values<imio::float16>()[i].to_float()));
        if (both_nan) continue;
        ++wrong;
        UNSCOPED_INFO("element " << i << " differs");
      }
      CHECK(wrong == 0);
    }
  }
}
