// The three Plugin classes of the ffmpeg plugin, made by its factory.
#pragma once

#include <imio/plugin.hpp>

#include <memory>
#include <string>

#include "av_input.hpp"

namespace imio::ffmpeg {

/// Video semantics (spec §5.2): index omitted → every frame.
std::unique_ptr<Plugin> make_video_reader(Request& request, std::unique_ptr<Input> input);

/// Whether FFmpeg's decoder `codec` is for a single-image format imageio
/// reads with Pillow (BMP, WebP, TGA, PNM, …; DECISIONS D23).
bool is_still_codec(AVCodecID codec) noexcept;
/// Pillow semantics for those formats (D23).
std::unique_ptr<Plugin> make_still_reader(Request& request, std::unique_ptr<Input> input);

/// The muxer for a write: `container` when given, else guessed from the
/// file name (D22: `extension=` decides when given). Empty when none fits.
const AVOutputFormat* guess_muxer(Request& request, const std::optional<std::string>& container);
/// Writes through the muxer (spec §5.2.5, D19, D21).
std::unique_ptr<Plugin> make_writer(Request& request, const AVOutputFormat* muxer);

}  // namespace imio::ffmpeg
