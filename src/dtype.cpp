#include <imio/ndarray.hpp>

#include <array>
#include <bit>
#include <cstring>
#include <ostream>
#include <string>

namespace imio {
namespace {

struct DTypeInfo {
  DType dtype;
  std::string_view name;
  std::size_t itemsize;
};

constexpr std::array<DTypeInfo, 12> kDTypes{{
    {DType::bool_, "bool", 1},
    {DType::uint8, "uint8", 1},
    {DType::uint16, "uint16", 2},
    {DType::uint32, "uint32", 4},
    {DType::uint64, "uint64", 8},
    {DType::int8, "int8", 1},
    {DType::int16, "int16", 2},
    {DType::int32, "int32", 4},
    {DType::int64, "int64", 8},
    {DType::float16, "float16", 2},
    {DType::float32, "float32", 4},
    {DType::float64, "float64", 8},
}};

const DTypeInfo& info(DType dtype) noexcept {
  const auto i = static_cast<std::size_t>(dtype);
  return i < kDTypes.size() ? kDTypes[i] : kDTypes[1];
}

}  // namespace

std::string_view name(DType dtype) noexcept { return info(dtype).name; }
std::ostream& operator<<(std::ostream& out, DType dtype) { return out << name(dtype); }
std::size_t itemsize(DType dtype) noexcept { return info(dtype).itemsize; }

DType dtype_from_name(std::string_view name) {
  for (const auto& d : kDTypes) {
    if (d.name == name) return d.dtype;
  }
  throw ArgumentError("unknown dtype '" + std::string(name) + "' (expected a numpy name such as uint8 or float32)");
}

// IEEE 754 binary16 <-> binary32, round to nearest even.
float16 float16::from_float(float value) noexcept {
  const auto x = std::bit_cast<std::uint32_t>(value);
  const std::uint32_t sign = (x >> 16) & 0x8000u;
  const std::uint32_t abs = x & 0x7FFFFFFFu;
  if (abs >= 0x7F800000u) {  // inf or nan (keep nan quiet and non-zero)
    const std::uint32_t mant = abs > 0x7F800000u ? (0x200u | ((abs >> 13) & 0x3FFu)) : 0u;
    return {static_cast<std::uint16_t>(sign | 0x7C00u | mant)};
  }
  if (abs >= 0x477FF000u) return {static_cast<std::uint16_t>(sign | 0x7C00u)};  // overflow → inf
  if (abs < 0x38800000u) {  // subnormal or zero in half precision
    if (abs < 0x33000000u) return {static_cast<std::uint16_t>(sign)};
    // value = mant24 * 2^(exp - 150); one half-precision subnormal step is 2^-24.
    const std::uint32_t exp = abs >> 23;
    const std::uint32_t mant = (abs & 0x7FFFFFu) | 0x800000u;
    const std::uint32_t drop = 126u - exp;  // 14..24
    std::uint32_t half = mant >> drop;
    const std::uint32_t rem = mant & ((1u << drop) - 1u);
    const std::uint32_t halfway = 1u << (drop - 1u);
    if (rem > halfway || (rem == halfway && (half & 1u))) ++half;
    return {static_cast<std::uint16_t>(sign | half)};
  }
  std::uint32_t half = ((abs - 0x38000000u) >> 13);
  const std::uint32_t rem = abs & 0x1FFFu;
  if (rem > 0x1000u || (rem == 0x1000u && (half & 1u))) ++half;
  return {static_cast<std::uint16_t>(sign | half)};
}

// The same rounding from binary64 in one step: through float, a value just
// off a float16 halfway point could round twice.
float16 float16::from_double(double value) noexcept {
  const auto x = std::bit_cast<std::uint64_t>(value);
  const auto sign = static_cast<std::uint32_t>((x >> 48) & 0x8000u);
  const std::uint64_t abs = x & 0x7FFFFFFFFFFFFFFFull;
  if (abs >= 0x7FF0000000000000ull) {  // inf or nan (keep nan quiet and non-zero)
    const std::uint32_t mant = abs > 0x7FF0000000000000ull ? (0x200u | static_cast<std::uint32_t>((abs >> 42) & 0x3FFu)) : 0u;
    return {static_cast<std::uint16_t>(sign | 0x7C00u | mant)};
  }
  if (abs >= 0x40EFFE0000000000ull) return {static_cast<std::uint16_t>(sign | 0x7C00u)};  // >= 65520: inf
  const auto exp = static_cast<std::uint32_t>(abs >> 52);
  if (abs < 0x3F10000000000000ull) {  // below 2^-14: subnormal or zero in half precision
    if (abs <= 0x3E60000000000000ull) return {static_cast<std::uint16_t>(sign)};  // <= 2^-25 rounds to zero
    // value = mant53 * 2^(exp - 1075); one half-precision subnormal step is 2^-24.
    const std::uint64_t mant = (abs & 0xFFFFFFFFFFFFFull) | 0x10000000000000ull;
    const std::uint32_t drop = 1051u - exp;  // 43..53
    auto half = static_cast<std::uint32_t>(mant >> drop);
    const std::uint64_t rem = mant & ((std::uint64_t{1} << drop) - 1u);
    const std::uint64_t halfway = std::uint64_t{1} << (drop - 1u);
    if (rem > halfway || (rem == halfway && (half & 1u))) ++half;
    return {static_cast<std::uint16_t>(sign | half)};
  }
  auto half = static_cast<std::uint32_t>(((exp - 1008u) << 10) | ((abs >> 42) & 0x3FFu));
  const std::uint64_t rem = abs & ((std::uint64_t{1} << 42) - 1u);
  if (rem > (std::uint64_t{1} << 41) || (rem == (std::uint64_t{1} << 41) && (half & 1u))) ++half;
  return {static_cast<std::uint16_t>(sign | half)};
}

float float16::to_float() const noexcept {
  const std::uint32_t sign = (bits & 0x8000u) << 16;
  const std::uint32_t exp = (bits >> 10) & 0x1Fu;
  std::uint32_t mant = bits & 0x3FFu;
  std::uint32_t out = 0;
  if (exp == 0x1F) {
    out = sign | 0x7F800000u | (mant << 13);
  } else if (exp != 0) {
    out = sign | ((exp + 112u) << 23) | (mant << 13);
  } else if (mant == 0) {
    out = sign;
  } else {  // subnormal half → normal float
    std::uint32_t e = 113;
    while ((mant & 0x400u) == 0) {
      mant <<= 1;
      --e;
    }
    out = sign | (e << 23) | ((mant & 0x3FFu) << 13);
  }
  return std::bit_cast<float>(out);
}

}  // namespace imio
