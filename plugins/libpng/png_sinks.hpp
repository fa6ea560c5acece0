// The rows of a converted read (a palette image, a `mode`) on their way
// into the result without a working copy of the image: the decoded samples
// of a row land at the end of the result's row and are converted in place
// when the result is at least as wide, else they pass through a band of a
// few rows. Either way imread_into allocates nothing in proportion to the
// image (issue #26).
#pragma once

#include <cstddef>
#include <vector>

#include "png_codec.hpp"
#include "png_pixels.hpp"

namespace imio::png {

/// Rows decoded at the end of the result's rows (each `out_row` bytes) and
/// converted in place, forwards, once the decoder is done with them. Needs
/// convert.out_pixel_bytes() >= convert.in_pixel_bytes().
class InPlaceSink final : public RowSink {
 public:
  InPlaceSink(std::byte* out, std::size_t width, const RowConverter& convert);
  std::byte* row(std::size_t y) override { return out_ + y * out_row_ + offset_; }
  void done(std::size_t n) override;
  void restart() override { converted_ = 0; }
  bool rows_stay() const override { return true; }

 private:
  std::byte* out_;
  std::size_t width_, out_row_, offset_, converted_ = 0;
  const RowConverter& convert_;
};

/// Rows decoded into a band of at least two rows (about 64 KiB) and
/// converted into the result as the decoder is done with them: for a
/// result narrower than the decoded samples.
class BandSink final : public RowSink {
 public:
  BandSink(std::byte* out, std::size_t width, std::size_t height, const RowConverter& convert);
  std::byte* row(std::size_t y) override { return band_.data() + (y % rows_) * in_row_; }
  void done(std::size_t n) override;
  void restart() override { converted_ = 0; }
  bool rows_stay() const override { return false; }

 private:
  std::byte* out_;
  std::size_t width_, in_row_, out_row_, rows_, converted_ = 0;
  std::vector<std::byte> band_;
  const RowConverter& convert_;
};

}  // namespace imio::png
