#include "png_sinks.hpp"

#include <algorithm>

namespace imio::png {
namespace {

// A band this size keeps a few rows of a wide image in the L2 cache
// between decode and conversion.
constexpr std::size_t kBandBytes = std::size_t{64} << 10;

}  // namespace

ConvertingSink::ConvertingSink(std::byte* out, std::size_t width, const RowConverter& convert)
    : out_(out), width_(width), out_row_(width * convert.out_pixel_bytes()), convert_(convert) {}

void ConvertingSink::done(std::size_t n) {
  for (; converted_ < n; ++converted_) convert_(row(converted_), out_ + converted_ * out_row_, width_);
}

InPlaceSink::InPlaceSink(std::byte* out, std::size_t width, const RowConverter& convert)
    : ConvertingSink(out, width, convert),
      offset_(width * (convert.out_pixel_bytes() - convert.in_pixel_bytes())) {}

// The band holds at least two rows: the decoder reads back the row above
// the one it writes.
BandSink::BandSink(std::byte* out, std::size_t width, std::size_t height, const RowConverter& convert)
    : ConvertingSink(out, width, convert),
      in_row_(width * convert.in_pixel_bytes()),
      rows_(std::clamp<std::size_t>(kBandBytes / std::max<std::size_t>(in_row_, 1), 2, std::max<std::size_t>(height, 2))),
      band_(rows_ * in_row_) {}

}  // namespace imio::png
