// The .npy header (NumPy Enhancement Proposal 1, "A simple file format for
// NumPy arrays"): the magic string, the format version, the header length
// and the header itself, a Python dict literal such as
//   {'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }
// padded with spaces and a final '\n' so the array data are aligned.
#pragma once

#include <imio/ndarray.hpp>
#include <imio/plugin.hpp>

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace imio::npy {

/// "\x93NUMPY": the first six bytes of every .npy file.
inline constexpr std::string_view kMagic{"\x93NUMPY", 6};

/// True when `first_bytes` starts with kMagic (the plugin's sniff).
bool has_magic(std::span<const std::byte> first_bytes) noexcept;

/// The format version: 1.0 has a 2-byte header length, 2.0 a 4-byte one,
/// 3.0 is 2.0 with a UTF-8 (instead of latin-1) header.
struct Version {
  std::uint8_t major = 1;
  std::uint8_t minor = 0;
};

/// The three keys of the header dict, as the file states them.
struct HeaderDict {
  std::string descr;
  bool fortran_order = false;
  Shape shape;
};

/// A parsed header: what it says and where the array data begin.
struct Header {
  Version version;
  HeaderDict dict;
  std::uint64_t data_offset = 0;
};

/// The largest header imio reads. Headers of the dtypes imio supports are a
/// few hundred bytes; numpy.load itself refuses more than 10000 by default.
inline constexpr std::uint32_t kMaxHeaderLen = 1u << 20;

/// Parses the header dict the way numpy evaluates it (a Python literal):
/// keys in any order, any whitespace, a trailing comma; shape a tuple of
/// non-negative ints; versions 1.0 and 2.0 also accept Python 2's `3L`.
/// Anything else → DecodeError with the offending position.
HeaderDict parse_header_dict(std::string_view text, Version version);

/// Reads and parses the header at the start of the request's source (whose
/// magic the caller has checked). Checks the header length against the
/// data size, kMaxHeaderLen and the request's max_bytes before buffering it.
Header read_header(Request& request);

/// The same for a .npy file held in `source` (an .npz member); `request`
/// gives the limits.
Header read_header(ByteSource& source, const Request& request);

/// Everything before the array data, byte for byte as numpy.save writes it
/// for a C-order array (numpy versions with GROWTH_AXIS_MAX_DIGITS; the
/// tests compare with the installed numpy): version 1.0 (2.0 when the header needs
/// more than 65535 bytes), keys sorted, room to grow the first axis, and
/// padding so the data start at a multiple of 64 bytes.
std::string encode_header(std::string_view descr, const Shape& shape);

}  // namespace imio::npy
