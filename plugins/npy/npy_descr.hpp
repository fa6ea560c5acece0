// The `descr` of a .npy header: numpy's type string ("<f4", "|u1", ">i8")
// and the imio DType it maps to.
#pragma once

#include <imio/ndarray.hpp>

#include <string>
#include <string_view>

namespace imio::npy {

/// The element type a descr names, and whether its bytes must be swapped
/// to reach native order (DECISIONS D20: arrays are always native-endian).
struct ElementType {
  DType dtype = DType::uint8;
  bool byteswap = false;
};

/// Parses a type string: an optional byte-order character ('<' little, '>'
/// big, '=' native, '|' not applicable, which numpy also reads as native)
/// followed by b1 | ? | u1 u2 u4 u8 | i1 i2 i4 i8 | f2 f4 f8. Anything else
/// (complex, strings, objects, datetimes, long doubles) → DecodeError naming
/// the descr.
ElementType parse_descr(std::string_view descr);

/// The descr numpy writes for `dtype` in this machine's byte order:
/// "|b1", "|u1", "|i1", "<u2", …, "<f8" on little-endian hosts.
std::string native_descr(DType dtype);

}  // namespace imio::npy
