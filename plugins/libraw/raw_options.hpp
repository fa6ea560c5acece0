// The read kwargs of the libraw plugin: rawpy's postprocess() parameters
// with rawpy's names and defaults (spec §5.4.2), plus imio's `raw` and
// `thumbnail` outputs.
#pragma once

#include <imio/plugin.hpp>

#include <array>
#include <optional>
#include <string>
#include <string_view>

class LibRaw;

namespace imio::libraw {

inline constexpr std::string_view kPlugin = "libraw";

/// rawpy.Params, field by field (None → LibRaw's own default).
struct DevelopOptions {
  int user_qual = -1;  // demosaic_algorithm: None → LibRaw's choice (AHD)
  bool half_size = false;
  bool four_color_rgb = false;
  int dcb_iterations = 0;
  bool dcb_enhance = false;
  int fbdd_noiserd = 0;
  float noise_thr = 0;
  int med_passes = 0;
  bool use_camera_wb = false;
  bool use_auto_wb = false;
  std::optional<std::array<float, 4>> user_wb;
  int output_color = 1;  // sRGB
  int output_bps = 8;
  int user_flip = -1;
  int user_black = -1;
  std::optional<std::array<int, 4>> user_cblack;
  int user_sat = -1;
  bool no_auto_bright = false;
  std::optional<float> auto_bright_thr;
  float adjust_maximum_thr = 0.75F;
  float bright = 1.0F;
  int highlight = 0;
  std::optional<float> exp_shift;
  float exp_preserve_highlights = 0;
  bool no_auto_scale = false;
  std::array<double, 2> gamma{2.222, 4.5};
  std::optional<std::array<double, 2>> chromatic_aberration;
  std::string bad_pixels_path;
};

enum class Output { developed, raw, thumbnail };

struct ReadSettings {
  Output output = Output::developed;
  DevelopOptions develop;
};

/// Parses the kwargs of read, iter or properties; ArgumentError for unknown
/// names, wrong types, values out of range, and development options given
/// with `raw=true` or `thumbnail=true` (they would be ignored).
ReadSettings take_read_settings(const Kwargs& kwargs, std::string_view method);

/// Sets LibRaw's output parameters as rawpy's postprocess() does.
/// `processor` must outlive nothing here: strings are copied into `options`,
/// which must stay alive until processing ends.
void apply_options(const DevelopOptions& options, LibRaw& processor);

}  // namespace imio::libraw
