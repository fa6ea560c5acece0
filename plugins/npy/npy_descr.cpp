#include "npy_descr.hpp"

#include <array>
#include <bit>

#include <fmt/format.h>

namespace imio::npy {
namespace {

struct TypeCode {
  std::string_view code;  // descr without its byte-order character
  DType dtype;
};

// numpy's kind characters: b bool, u unsigned, i signed, f IEEE float.
constexpr std::array<TypeCode, 13> kTypeCodes{{
    {"b1", DType::bool_},
    {"?", DType::bool_},
    {"u1", DType::uint8},
    {"u2", DType::uint16},
    {"u4", DType::uint32},
    {"u8", DType::uint64},
    {"i1", DType::int8},
    {"i2", DType::int16},
    {"i4", DType::int32},
    {"i8", DType::int64},
    {"f2", DType::float16},
    {"f4", DType::float32},
    {"f8", DType::float64},
}};

// Why a descr we do not read is not readable, in numpy's words for its kind.
std::string_view kind_name(std::string_view code) {
  if (code.empty()) return "an empty type string";
  switch (code.front()) {
    case 'c': return "complex numbers";
    case 'O': return "Python objects (pickles)";
    case 'S':
    case 'a': return "byte strings";
    case 'U': return "unicode strings";
    case 'V': return "raw void records";
    case 'M': return "datetime64";
    case 'm': return "timedelta64";
    case 'f': return "a float width imio lacks";
    case 'u':
    case 'i': return "an integer width imio lacks";
    default: return "an unknown type";
  }
}

[[noreturn]] void unsupported(std::string_view descr, std::string_view code) {
  throw DecodeError(fmt::format("unsupported dtype descr '{}' ({}); imio reads b1, u1-u8, i1-i8 and f2-f8 "
                                "in any byte order",
                                descr, kind_name(code)));
}

bool is_order_char(char c) { return c == '<' || c == '>' || c == '=' || c == '|'; }

}  // namespace

ElementType parse_descr(std::string_view descr) {
  std::string_view code = descr;
  char order = '=';
  if (!code.empty() && is_order_char(code.front())) {
    order = code.front();
    code.remove_prefix(1);
  }
  for (const TypeCode& t : kTypeCodes) {
    if (t.code != code) continue;
    const bool little = std::endian::native == std::endian::little;
    const bool foreign = (order == '<' && !little) || (order == '>' && little);
    return {t.dtype, foreign && itemsize(t.dtype) > 1};
  }
  unsupported(descr, code);
}

std::string native_descr(DType dtype) {
  for (const TypeCode& t : kTypeCodes) {
    if (t.dtype != dtype || t.code == "?") continue;
    // numpy marks single-byte types "not applicable" ('|').
    const char order = itemsize(dtype) == 1 ? '|' : (std::endian::native == std::endian::little ? '<' : '>');
    return fmt::format("{}{}", order, t.code);
  }
  throw EncodeError(fmt::format("dtype {} has no .npy descr", name(dtype)));
}

}  // namespace imio::npy
