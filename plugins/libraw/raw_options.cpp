// rawpy's postprocess() parameters → LibRaw's libraw_output_params_t.
#include "raw_options.hpp"

#include <libraw/libraw.h>

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <span>
#include <utility>
#include <vector>

#include <fmt/format.h>

namespace imio::libraw {
namespace {

struct Named {
  std::string_view name;
  int value;
};

// rawpy's enums (DemosaicAlgorithm, FBDDNoiseReductionMode, ColorSpace,
// HighlightMode) by member name; only the values LibRaw 0.20 implements
// without its GPL demosaic packs.
constexpr Named kDemosaic[] = {{"LINEAR", 0}, {"VNG", 1}, {"PPG", 2}, {"AHD", 3},
                               {"DCB", 4},    {"DHT", 11}, {"AAHD", 12}};
constexpr Named kFbdd[] = {{"Off", 0}, {"Light", 1}, {"Full", 2}};
constexpr Named kColor[] = {{"raw", 0},      {"sRGB", 1}, {"Adobe", 2}, {"Wide", 3},
                            {"ProPhoto", 4}, {"XYZ", 5},  {"ACES", 6}};
constexpr Named kHighlight[] = {{"Clip", 0}, {"Ignore", 1}, {"Blend", 2}, {"ReconstructDefault", 5}};

bool same_name(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

std::string names_of(std::span<const Named> table) {
  std::string out;
  for (const Named& n : table) out += fmt::format("{}'{}' ({})", out.empty() ? "" : ", ", n.name, n.value);
  return out;
}

// An enum kwarg: rawpy's member name (any case) or its integer value.
// `extra_ints` accepts further integers (highlight rebuild levels 3–9).
std::optional<int> take_enum(KwargReader& kw, std::string_view key, std::span<const Named> table,
                             int extra_min = 1, int extra_max = 0) {
  const Value* v = kw.find(key);
  if (v == nullptr || v->is_none()) return std::nullopt;
  if (v->is<std::string>()) {
    const std::string& text = v->ref<std::string>();
    for (const Named& n : table) {
      if (same_name(n.name, text)) return n.value;
    }
  } else if (v->is<std::int64_t>()) {
    const std::int64_t i = v->get<std::int64_t>();
    for (const Named& n : table) {
      if (n.value == i) return n.value;
    }
    if (i >= extra_min && i <= extra_max) return static_cast<int>(i);
  } else {
    kw.fail(key, fmt::format("must be a name or an integer, not {}", v->type_name()));
  }
  kw.fail(key, fmt::format("{} is not one of {}{}", v->repr(), names_of(table),
                           extra_min <= extra_max ? fmt::format(", or {}–{}", extra_min, extra_max) : ""));
}

template <class T, std::size_t N>
std::optional<std::array<T, N>> take_numbers(KwargReader& kw, std::string_view key) {
  const Value* v = kw.find(key);
  if (v == nullptr || v->is_none()) return std::nullopt;
  if (!v->is<Value::List>() || v->ref<Value::List>().size() != N) {
    kw.fail(key, fmt::format("must be a list of {} numbers, not {}", N, v->repr()));
  }
  std::array<T, N> out{};
  const Value::List& list = v->ref<Value::List>();
  for (std::size_t i = 0; i < N; ++i) {
    if (!list[i].is<std::int64_t>() && !list[i].is<double>()) {
      kw.fail(key, fmt::format("must be a list of {} numbers, not {}", N, v->repr()));
    }
    if constexpr (std::is_integral_v<T>) {
      if (!list[i].is<std::int64_t>()) kw.fail(key, fmt::format("must be a list of {} integers", N));
      out[i] = static_cast<T>(list[i].get<std::int64_t>());
    } else {
      out[i] = static_cast<T>(list[i].get<double>());
    }
  }
  return out;
}

DevelopOptions take_develop(KwargReader& kw) {
  DevelopOptions o;
  o.user_qual = take_enum(kw, "demosaic_algorithm", kDemosaic).value_or(-1);
  // Types, ranges and defaults: plugin.json (rawpy's postprocess() defaults).
  o.half_size = kw.get<bool>("half_size");
  o.four_color_rgb = kw.get<bool>("four_color_rgb");
  o.dcb_iterations = kw.get<int>("dcb_iterations");
  o.dcb_enhance = kw.get<bool>("dcb_enhance");
  o.fbdd_noiserd = take_enum(kw, "fbdd_noise_reduction", kFbdd).value_or(0);
  o.noise_thr = kw.take<float>("noise_thr").value_or(0.0F);
  o.med_passes = kw.get<int>("median_filter_passes");
  o.use_camera_wb = kw.get<bool>("use_camera_wb");
  o.use_auto_wb = kw.get<bool>("use_auto_wb");
  o.user_wb = take_numbers<float, 4>(kw, "user_wb");
  o.output_color = take_enum(kw, "output_color", kColor).value_or(1);
  o.output_bps = kw.get<int>("output_bps");
  o.user_flip = kw.take<int>("user_flip").value_or(-1);
  o.user_black = kw.take<int>("user_black").value_or(-1);
  o.user_cblack = take_numbers<int, 4>(kw, "user_cblack");
  o.user_sat = kw.take<int>("user_sat").value_or(-1);
  o.no_auto_bright = kw.get<bool>("no_auto_bright");
  o.auto_bright_thr = kw.take<float>("auto_bright_thr");
  o.adjust_maximum_thr = kw.get<float>("adjust_maximum_thr");
  o.bright = kw.get<float>("bright");
  o.highlight = take_enum(kw, "highlight_mode", kHighlight, 3, 9).value_or(0);
  o.exp_shift = kw.take<float>("exp_shift");
  o.exp_preserve_highlights = kw.get<float>("exp_preserve_highlights");
  o.no_auto_scale = kw.get<bool>("no_auto_scale");
  if (auto g = take_numbers<double, 2>(kw, "gamma")) {
    if (!((*g)[0] > 0)) kw.fail("gamma", "the power must be positive");
    o.gamma = *g;
  }
  if (auto ca = take_numbers<double, 2>(kw, "chromatic_aberration")) {
    if (!((*ca)[0] > 0) || !((*ca)[1] > 0)) kw.fail("chromatic_aberration", "the scales must be positive");
    o.chromatic_aberration = ca;
  }
  o.bad_pixels_path = kw.take<std::string>("bad_pixels_path").value_or(std::string());
  return o;
}

}  // namespace

ReadSettings take_read_settings(const Kwargs& kwargs, std::string_view method) {
  KwargReader kw(kwargs, kPlugin, method);
  ReadSettings s;
  const bool raw = kw.get<bool>("raw");
  const bool thumbnail = kw.get<bool>("thumbnail");
  if (raw && thumbnail) kw.fail("thumbnail", "raw=true and thumbnail=true exclude each other");
  if (raw || thumbnail) {
    s.output = raw ? Output::raw : Output::thumbnail;
    // Development options would be silently ignored: name them.
    for (const auto& [key, value] : kwargs) {
      if (key != "raw" && key != "thumbnail") {
        kw.fail(key, fmt::format("is a development option, and {}=true returns undeveloped pixels", raw ? "raw" : "thumbnail"));
      }
    }
    return s;
  }
  s.develop = take_develop(kw);
  kw.finish();
  return s;
}

void apply_options(const DevelopOptions& o, LibRaw& processor) {
  libraw_output_params_t& p = processor.imgdata.params;
  p.user_qual = o.user_qual;
  p.half_size = o.half_size ? 1 : 0;
  p.four_color_rgb = o.four_color_rgb ? 1 : 0;
  p.dcb_iterations = o.dcb_iterations;
  p.dcb_enhance_fl = o.dcb_enhance ? 1 : 0;
  p.fbdd_noiserd = o.fbdd_noiserd;
  p.threshold = o.noise_thr;
  p.med_passes = o.med_passes;
  p.use_camera_wb = o.use_camera_wb ? 1 : 0;
  p.use_auto_wb = o.use_auto_wb ? 1 : 0;
  for (int i = 0; i < 4; ++i) p.user_mul[i] = o.user_wb ? (*o.user_wb)[static_cast<std::size_t>(i)] : 0.0F;
  p.output_color = o.output_color;
  p.output_bps = o.output_bps;
  p.user_flip = o.user_flip;
  p.user_black = o.user_black;
  // LibRaw marks an unset per-channel black with a value below -1000000.
  for (int i = 0; i < 4; ++i) p.user_cblack[i] = o.user_cblack ? (*o.user_cblack)[static_cast<std::size_t>(i)] : -1000001;
  p.user_sat = o.user_sat;
  p.no_auto_bright = o.no_auto_bright ? 1 : 0;
  p.auto_bright_thr = o.auto_bright_thr.value_or(LIBRAW_DEFAULT_AUTO_BRIGHTNESS_THRESHOLD);
  p.adjust_maximum_thr = o.adjust_maximum_thr;
  p.bright = o.bright;
  p.highlight = o.highlight;
  p.exp_correc = o.exp_shift ? 1 : 0;
  p.exp_shift = o.exp_shift.value_or(1.0F);
  p.exp_preser = o.exp_preserve_highlights;
  p.no_auto_scale = o.no_auto_scale ? 1 : 0;
  // rawpy (like dcraw's -g) takes the power itself and hands LibRaw its inverse.
  p.gamm[0] = 1.0 / o.gamma[0];
  p.gamm[1] = o.gamma[1];
  p.aber[0] = o.chromatic_aberration ? 1.0 / (*o.chromatic_aberration)[0] : 1.0;
  p.aber[2] = o.chromatic_aberration ? 1.0 / (*o.chromatic_aberration)[1] : 1.0;
  p.bad_pixels = o.bad_pixels_path.empty() ? nullptr : const_cast<char*>(o.bad_pixels_path.c_str());
}

}  // namespace imio::libraw
