// SHA-256 (FIPS 180-4), for the digests of long byte values in JSON output.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

namespace imio::detail {

std::array<std::uint8_t, 32> sha256(std::span<const std::byte> data);
/// Lower-case hexadecimal of `data`.
std::string to_hex(std::span<const std::byte> data);

}  // namespace imio::detail
