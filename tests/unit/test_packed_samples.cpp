// <imio/packed_samples.hpp>: 1-, 2- and 4-bit samples laid out one per
// byte, checked against hand-decoded bytes and against a reader that
// gathers each sample bit by bit, for every start and length within a few
// bytes (the unaligned head, the whole bytes and the tail), with nothing
// written past the samples asked for.
#include <imio/imio.hpp>
#include <imio/packed_samples.hpp>

#include <cstddef>
#include <cstdint>
#include <random>
#include <vector>

#include "catch.hpp"

namespace {

// Sample i of `bits` bits, its bits gathered one at a time, most
// significant first (PNG §7.2).
std::uint8_t gathered(const std::vector<std::uint8_t>& row, std::size_t i, unsigned bits) {
  unsigned v = 0;
  for (unsigned b = 0; b < bits; ++b) {
    const std::size_t at = i * bits + b;
    v = (v << 1) | ((row[at / 8] >> (7 - at % 8)) & 1u);
  }
  return static_cast<std::uint8_t>(v);
}

}  // namespace

TEST_CASE("unpack_samples: known bytes at 1, 2 and 4 bits", "[packed_samples]") {
  const std::uint8_t row[2] = {0xB1, 0x4E};  // 1011 0001 0100 1110
  std::uint8_t out[16] = {};
  REQUIRE(imio::unpack_samples(row, out, 0, 16, 1));
  CHECK(std::vector<std::uint8_t>(out, out + 16) == std::vector<std::uint8_t>{1, 0, 1, 1, 0, 0, 0, 1, 0, 1, 0, 0, 1, 1, 1, 0});
  REQUIRE(imio::unpack_samples(row, out, 0, 8, 2));
  CHECK(std::vector<std::uint8_t>(out, out + 8) == std::vector<std::uint8_t>{2, 3, 0, 1, 1, 0, 3, 2});
  REQUIRE(imio::unpack_samples(row, out, 1, 3, 4));
  CHECK(std::vector<std::uint8_t>(out, out + 3) == std::vector<std::uint8_t>{0x1, 0x4, 0xE});
}

TEST_CASE("unpack_samples: every start and length agree with a bit-by-bit reader", "[packed_samples]") {
  std::mt19937 random(26);
  std::vector<std::uint8_t> row(5);
  for (auto& b : row) b = static_cast<std::uint8_t>(random());
  for (const unsigned bits : {1u, 2u, 4u}) {
    const std::size_t samples = row.size() * 8 / bits;
    for (std::size_t first = 0; first <= samples; ++first) {
      for (std::size_t n = 0; first + n <= samples; ++n) {
        std::vector<std::uint8_t> out(n + 4, 0xA5);
        REQUIRE(imio::unpack_samples(row.data(), out.data(), first, n, bits));
        for (std::size_t k = 0; k < n; ++k) {
          INFO("bits " << bits << ", first " << first << ", n " << n << ", sample " << k);
          REQUIRE(out[k] == gathered(row, first + k, bits));
        }
        for (std::size_t k = n; k < out.size(); ++k) REQUIRE(out[k] == 0xA5);
      }
    }
  }
}

TEST_CASE("unpack_samples: other sample sizes are refused and write nothing", "[packed_samples]") {
  const std::uint8_t row[1] = {0xFF};
  for (const unsigned bits : {0u, 3u, 8u, 16u}) {
    std::uint8_t out[8] = {};
    CHECK_FALSE(imio::unpack_samples(row, out, 0, 2, bits));
    CHECK(out[0] == 0);
  }
}
