// NDArray::astype: numpy's element conversions (astype with casting="unsafe",
// as numpy 1.24 performs them on x86-64), for every pair of the 12 dtypes.
#include <imio/ndarray.hpp>

#include <cstdint>
#include <limits>
#include <type_traits>

namespace imio {
namespace {

// numpy converts floats to integers with C casts, which x86-64 compiles to
// cvttsd2si: the value truncated toward zero, and for NaN or a value
// outside the instruction's 32- or 64-bit range the "integer indefinite"
// value (the sign bit alone). Narrower targets take the low bits of the
// 32-bit conversion, uint32 those of the 64-bit one. Written out here
// because in C++ such a cast is undefined behaviour.
std::int32_t truncate32(double d) {
  return d > -2147483649.0 && d < 2147483648.0 ? static_cast<std::int32_t>(d) : std::numeric_limits<std::int32_t>::min();
}

std::int64_t truncate64(double d) {
  return d >= -0x1p63 && d < 0x1p63 ? static_cast<std::int64_t>(d) : std::numeric_limits<std::int64_t>::min();
}

// x86-64 has no double → uint64 instruction: compilers convert values from
// 2^63 up as (d - 2^63) with the top bit set again, and the rest (negative
// values and NaN too) as int64.
std::uint64_t truncate_u64(double d) {
  if (d >= 0x1p63) return static_cast<std::uint64_t>(truncate64(d - 0x1p63)) ^ (std::uint64_t{1} << 63);
  return static_cast<std::uint64_t>(truncate64(d));
}

template <class D>
D from_floating(double d) {
  if constexpr (std::is_same_v<D, bool>) {
    return d != 0.0 || d != d;  // NaN is true, as numpy's nonzero test
  } else if constexpr (std::is_same_v<D, float16>) {
    return float16::from_double(d);
  } else if constexpr (std::is_floating_point_v<D>) {
    return static_cast<D>(d);  // IEEE: beyond float's range is ±inf
  } else if constexpr (std::is_same_v<D, std::int64_t>) {
    return truncate64(d);
  } else if constexpr (std::is_same_v<D, std::uint64_t>) {
    return truncate_u64(d);
  } else if constexpr (std::is_same_v<D, std::uint32_t>) {
    return static_cast<std::uint32_t>(truncate64(d));
  } else {
    return static_cast<D>(truncate32(d));  // int32 itself, and the low bits for 8/16-bit targets
  }
}

template <class D, class S>
D convert(S v) {
  if constexpr (std::is_same_v<S, float16>) {
    return from_floating<D>(static_cast<double>(v.to_float()));
  } else if constexpr (std::is_floating_point_v<S>) {
    if constexpr (std::is_same_v<D, float16> && std::is_same_v<S, float>) return float16::from_float(v);
    return from_floating<D>(static_cast<double>(v));
  } else if constexpr (std::is_same_v<D, bool>) {
    return v != 0;
  } else if constexpr (std::is_same_v<D, float16>) {
    return float16::from_double(static_cast<double>(v));  // exact below 2^53, and every int beyond 65519 is inf
  } else {
    return static_cast<D>(v);  // integers wrap modulo 2^bits (C++20), bool is 0 or 1
  }
}

template <class D, class S>
void convert_all(const S* in, D* out, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) out[i] = convert<D>(in[i]);
}

template <class F>
void with_type(DType dtype, F&& f) {
  switch (dtype) {
    case DType::bool_: return f(bool{});
    case DType::uint8: return f(std::uint8_t{});
    case DType::uint16: return f(std::uint16_t{});
    case DType::uint32: return f(std::uint32_t{});
    case DType::uint64: return f(std::uint64_t{});
    case DType::int8: return f(std::int8_t{});
    case DType::int16: return f(std::int16_t{});
    case DType::int32: return f(std::int32_t{});
    case DType::int64: return f(std::int64_t{});
    case DType::float16: return f(float16{});
    case DType::float32: return f(float{});
    case DType::float64: return f(double{});
  }
}

}  // namespace

NDArray NDArray::astype(DType dtype) const {
  if (data_ == nullptr) return {};
  if (dtype == dtype_) return copy();
  NDArray out = uninitialized(shape_, dtype);
  const std::size_t n = size();
  with_type(dtype_, [&](auto source) {
    using S = decltype(source);
    with_type(dtype, [&](auto target) {
      using D = decltype(target);
      convert_all(reinterpret_cast<const S*>(data_), reinterpret_cast<D*>(out.data_), n);
    });
  });
  return out;
}

}  // namespace imio
