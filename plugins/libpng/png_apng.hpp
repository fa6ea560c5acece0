// APNG frames as imageio's pillow plugin delivers them: full-canvas
// composites (APNG 1.0 dispose_op / blend_op), with Pillow's choices where
// the specification leaves room — the hidden default image is frame 0, a
// first frame with APNG_DISPOSE_OP_PREVIOUS disposes to background, and
// blending uses Pillow's paste-with-mask arithmetic.
#pragma once

#include <span>
#include <vector>

#include "png_chunks.hpp"
#include "png_codec.hpp"

namespace imio::png {

/// Decodes frames in order into one canvas (raw layout). Memory: the canvas,
/// one frame region and the region a "previous" disposal restores.
class FrameDecoder {
 public:
  /// `pillow_view`: composite what Pillow composites — for a 16-bit colour
  /// APNG the 8-bit high bytes (used with mode=, whose result is 8-bit
  /// anyway); otherwise every sample at the file's depth (D14).
  FrameDecoder(const Chunks& chunks, std::span<const std::byte> file, bool pillow_view = false);

  std::size_t count() const { return chunks_.n_images(); }
  std::size_t next_index() const { return next_; }
  const RawLayout& layout() const { return canvas_layout_; }
  /// Composites the next frame; returns the canvas (valid until the next call).
  const std::byte* next();

  /// The fcTL of Pillow's frame k, or nullptr for the hidden default image.
  const FrameControl* control(std::size_t k) const;

 private:
  void decode_region(const FrameControl& fc, std::vector<std::byte>& out) const;
  void decode_default(std::byte* dst) const;
  void paste(const FrameControl& fc, const std::byte* src, bool over);
  void save_region(const FrameControl& fc, std::vector<std::byte>& out) const;

  const Chunks& chunks_;
  std::span<const std::byte> file_;
  bool narrow_;  // 16-bit samples kept as their high byte
  RawLayout canvas_layout_;
  std::vector<std::byte> canvas_, frame_, dispose_;
  const FrameControl* dispose_extent_ = nullptr;
  bool has_dispose_ = false;
  std::size_t next_ = 0;
};

}  // namespace imio::png
