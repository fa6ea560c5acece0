// MD5 (RFC 1321), for the GUID of an extended XMP packet (XMP Part 3
// §1.1.3.1 names the extension by the MD5 digest of its bytes). Not for
// security.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

namespace imio::detail {

std::array<std::uint8_t, 16> md5(std::span<const std::byte> data);

}  // namespace imio::detail
