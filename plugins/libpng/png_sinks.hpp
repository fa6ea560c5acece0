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

/// What both sinks share: each decoded row, once the decoder is done with
/// it, converted into its row of the result, in order.
class ConvertingSink : public RowSink {
 public:
  void done(std::size_t n) final;
  void restart() final { converted_ = 0; }

 protected:
  ConvertingSink(std::byte* out, std::size_t width, const RowConverter& convert);
  std::byte* out_;
  std::size_t width_, out_row_;

 private:
  std::size_t converted_ = 0;
  const RowConverter& convert_;
};

/// Rows decoded at the end of the result's rows and converted in place,
/// forwards. Needs convert.out_pixel_bytes() >= convert.in_pixel_bytes().
class InPlaceSink final : public ConvertingSink {
 public:
  InPlaceSink(std::byte* out, std::size_t width, const RowConverter& convert);
  std::byte* row(std::size_t y) override { return out_ + y * out_row_ + offset_; }
  bool rows_stay() const override { return true; }

 private:
  std::size_t offset_;
};

/// Rows decoded into a band of at least two rows (about 64 KiB) and
/// converted into the result from there: for a result narrower than the
/// decoded samples.
class BandSink final : public ConvertingSink {
 public:
  BandSink(std::byte* out, std::size_t width, std::size_t height, const RowConverter& convert);
  std::byte* row(std::size_t y) override { return band_.data() + (y % rows_) * in_row_; }
  bool rows_stay() const override { return false; }

 private:
  std::size_t in_row_, rows_;
  std::vector<std::byte> band_;
};

}  // namespace imio::png
