#include "spe_header.hpp"

#include <imio/checked_math.hpp>
#include <imio/error.hpp>
#include <imio/warnings.hpp>

#include <array>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstring>
#include <map>
#include <string_view>
#include <utility>

#include <fmt/format.h>

namespace imio::spe {
namespace {

// ---------------------------------------------------------------- header fields

template <class T>
T field(std::span<const std::byte> h, std::size_t offset) {
  T v{};
  std::memcpy(&v, h.data() + offset, sizeof v);  // SPE is little-endian; so are the hosts imio supports
  return v;
}

std::uint16_t u16(std::span<const std::byte> h, std::size_t at) { return field<std::uint16_t>(h, at); }
std::int16_t i16(std::span<const std::byte> h, std::size_t at) { return field<std::int16_t>(h, at); }
double f32(std::span<const std::byte> h, std::size_t at) { return static_cast<double>(field<float>(h, at)); }

// numpy's fixed-length bytes ('S'): trailing NULs dropped.
std::string fixed_bytes(std::span<const std::byte> h, std::size_t at, std::size_t n) {
  std::string s(reinterpret_cast<const char*>(h.data() + at), n);
  while (!s.empty() && s.back() == '\0') s.pop_back();
  return s;
}

// Decoding a byte string the way Python's bytes.decode(encoding) does, for
// the encodings SPE files use; nullopt when the bytes are not valid.
std::optional<std::string> decode(const std::string& raw, const std::string& encoding) {
  std::string out;
  if (encoding == "latin1" || encoding == "latin-1" || encoding == "iso-8859-1" || encoding == "l1") {
    for (const char c : raw) {
      const auto u = static_cast<unsigned char>(c);
      if (u < 0x80) {
        out += c;
      } else {
        out += static_cast<char>(0xC0 | (u >> 6));
        out += static_cast<char>(0x80 | (u & 0x3F));
      }
    }
    return out;
  }
  if (encoding == "ascii") {
    for (const char c : raw) {
      if (static_cast<unsigned char>(c) >= 0x80) return std::nullopt;
    }
    return raw;
  }
  // utf-8: checked for well-formedness (no overlongs, surrogates or > U+10FFFF)
  for (std::size_t i = 0; i < raw.size();) {
    const auto c = static_cast<unsigned char>(raw[i]);
    std::size_t n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (n == 0 || i + n > raw.size()) return std::nullopt;
    std::uint32_t cp = n == 1 ? c : c & (0x7F >> n);
    for (std::size_t k = 1; k < n; ++k) {
      const auto d = static_cast<unsigned char>(raw[i + k]);
      if ((d & 0xC0) != 0x80) return std::nullopt;
      cp = (cp << 6) | (d & 0x3F);
    }
    static constexpr std::uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < kMin[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return std::nullopt;
    i += n;
  }
  return raw;
}

// A header string as imageio gives it: decoded, or (when the encoding does
// not fit, which imageio only logs) the bytes.
Value text(const std::string& raw, const std::string& encoding, std::string_view key) {
  if (auto s = decode(raw, encoding)) return Value(std::move(*s));
  imio::warn("spe", fmt::format("cannot decode the \"{}\" metadata string as {}: kept as bytes", key, encoding));
  return Value(std::span<const std::byte>(reinterpret_cast<const std::byte*>(raw.data()), raw.size()));
}

// ---------------------------------------------------------------- Python's int() and float() of a slice

std::string_view strip(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

std::optional<std::int64_t> py_int(std::string_view s) {
  s = strip(s);
  bool negative = false;
  if (!s.empty() && (s.front() == '+' || s.front() == '-')) {
    negative = s.front() == '-';
    s.remove_prefix(1);
  }
  if (s.empty()) return std::nullopt;
  std::int64_t v = 0;
  for (const char c : s) {
    if (c < '0' || c > '9' || v > (INT64_MAX - 9) / 10) return std::nullopt;
    v = v * 10 + (c - '0');
  }
  return negative ? -v : v;
}

std::optional<double> py_float(std::string_view s) {
  s = strip(s);
  if (s.empty()) return std::nullopt;
  if (s.front() == '+') s.remove_prefix(1);
  double v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return v;
}

// Python's s[a:b] on a str of characters (these comments are ASCII in
// practice; latin-1 keeps one byte per character).
std::string_view slice(const std::string& s, std::size_t a, std::size_t b) {
  if (a >= s.size()) return {};
  return std::string_view(s).substr(a, std::min(b, s.size()) - a);
}

// ---------------------------------------------------------------- SDT-control

const std::map<std::string, std::string>& sequence_types() {
  static const std::map<std::string, std::string> m{
      {"SEQU", "standard"}, {"SETO", "TOCCSL"}, {"KINE", "kinetics"}, {"SEAR", "arbitrary"}};
  return m;
}

// SDT-control's date "02Jul2018" and time "094615", month names German or
// English (latin-1 bytes: "J\xe4n", "M\xe4r").
std::optional<std::string> sdt_datetime(const std::string& date, const std::string& time) {
  static const std::pair<std::string_view, int> months[] = {
      {"J\xe4n", 1}, {"Jan", 1}, {"Feb", 2}, {"M\xe4r", 3}, {"Mar", 3}, {"Apr", 4}, {"Mai", 5}, {"May", 5},
      {"Jun", 6},    {"Jul", 7}, {"Aug", 8}, {"Sep", 9},    {"Okt", 10}, {"Oct", 10}, {"Nov", 11},
      {"Dez", 12},   {"Dec", 12}};
  int month = 0;
  for (const auto& [name, number] : months) {
    if (slice(date, 2, 5) == name) month = number;
  }
  const auto year = py_int(slice(date, 5, 9));
  const auto day = py_int(slice(date, 0, 2));
  const auto hour = py_int(slice(time, 0, 2));
  const auto minute = py_int(slice(time, 2, 4));
  const auto second = py_int(slice(time, 4, 6));
  if (month == 0 || !year || !day || !hour || !minute || !second) return std::nullopt;
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (*year % 4 == 0 && *year % 100 != 0) || *year % 400 == 0;
  const int days = kDays[month - 1] + (month == 2 && leap ? 1 : 0);
  if (*year < 1 || *year > 9999 || *day < 1 || *day > days || *hour < 0 || *hour > 23 || *minute < 0 ||
      *minute > 59 || *second < 0 || *second > 59) {
    return std::nullopt;
  }
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}", *year, month, *day, *hour, *minute, *second);
}

// The SDT-control fields of comment format 5.xx, decoded as imageio's
// SDTControlSpec does (a field that does not parse is None).
void sdt_fields(const std::vector<std::string>& c, int minor, Metadata& m) {
  const std::string& c1 = c[1];
  const std::string& c4 = c[4];
  auto as_int = [](std::string_view s) { return py_int(s) ? Value(*py_int(s)) : Value(); };
  auto as_float = [](std::string_view s, double scale) { return py_float(s) ? Value(*py_float(s) * scale) : Value(); };
  auto as_flag = [&](std::size_t at, char c) { return at < c4.size() ? Value(c4[at] == c) : Value(); };
  m.set("sdt_major_version", as_int(slice(c4, 66, 68)));
  m.set("sdt_minor_version", as_int(slice(c4, 68, 70)));
  m.set("sdt_controller_name", std::string(slice(c4, 0, 6)));
  m.set("exposure_time", as_float(slice(c1, 64, 73), 1e-6));
  m.set("color_code", std::string(slice(c4, 10, 14)));
  m.set("detection_channels", as_int(slice(c4, 15, 16)));
  m.set("background_subtraction", as_flag(14, 'B'));
  m.set("em_active", as_flag(32, 'E'));
  m.set("em_gain", as_int(slice(c4, 28, 32)));
  m.set("modulation_active", as_flag(33, 'A'));
  m.set("pixel_size", as_float(slice(c4, 25, 28), 0.1));
  const auto seq = sequence_types().find(std::string(slice(c4, 6, 10)));
  m.set("sequence_type", seq != sequence_types().end() ? Value(seq->second) : Value());
  m.set("grid", as_float(slice(c4, 16, 25), 1e-6));
  m.set("n_macro", as_int(slice(c1, 0, 4)));
  m.set("delay_macro", as_float(slice(c1, 10, 19), 1e-3));
  m.set("n_mini", as_int(slice(c1, 4, 7)));
  m.set("delay_mini", as_float(slice(c1, 19, 28), 1e-6));
  m.set("n_micro", as_int(slice(c1, 7, 10)));
  m.set("delay_micro", as_float(slice(c1, 28, 37), 1e-6));
  m.set("n_subpics", as_int(slice(c1, 7, 10)));
  m.set("delay_shutter", as_float(slice(c1, 73, 79), 1e-6));
  m.set("delay_prebleach", as_float(slice(c1, 37, 46), 1e-6));
  m.set("bleach_time", as_float(slice(c1, 46, 55), 1e-6));
  m.set("recovery_time", as_float(slice(c1, 55, 64), 1e-6));
  if (minor >= 1) {
    const std::string_view z = slice(c4, 34, 35);
    m.set("bleach_piezo_active", Value(z == "z"));
  }
}

// Metadata without one key (Dict has no erase: rebuilt).
Metadata without(const Metadata& m, std::initializer_list<std::string_view> keys) {
  Metadata out;
  for (const auto& [k, v] : m) {
    if (std::find(keys.begin(), keys.end(), k) == keys.end()) out.set(k, v);
  }
  return out;
}

// ---------------------------------------------------------------- the XML footer

// The attributes of the tag starting at `at` (after "<Name").
std::map<std::string, std::string> attributes(std::string_view xml, std::size_t at) {
  std::map<std::string, std::string> out;
  const std::size_t end = xml.find('>', at);
  const std::string_view tag = xml.substr(at, end == std::string_view::npos ? std::string_view::npos : end - at);
  for (std::size_t i = 0; i < tag.size();) {
    const std::size_t eq = tag.find('=', i);
    if (eq == std::string_view::npos) break;
    std::size_t name_start = eq;
    while (name_start > i && !std::isspace(static_cast<unsigned char>(tag[name_start - 1]))) --name_start;
    const std::size_t q = tag.find_first_of("\"'", eq);
    if (q == std::string_view::npos) break;
    const std::size_t q2 = tag.find(tag[q], q + 1);
    if (q2 == std::string_view::npos) break;
    out[std::string(strip(tag.substr(name_start, eq - name_start)))] = std::string(tag.substr(q + 1, q2 - q - 1));
    i = q2 + 1;
  }
  return out;
}

std::uint64_t attr_uint(const std::map<std::string, std::string>& a, const std::string& key) {
  const auto it = a.find(key);
  if (it == a.end()) throw DecodeError(fmt::format("the SPE 3.0 XML footer's DataBlock has no {} attribute", key));
  const auto v = py_int(it->second);
  if (!v || *v < 0) throw DecodeError(fmt::format("the SPE 3.0 XML footer's {}=\"{}\" is not a count", key, it->second));
  return static_cast<std::uint64_t>(*v);
}

}  // namespace

Layout parse_layout(std::span<const std::byte> h, std::string_view footer) {
  Layout l;
  const auto datatype = i16(h, 108);
  switch (datatype) {
    case 0: l.dtype = DType::float32; break;
    case 1: l.dtype = DType::int32; break;
    case 2: l.dtype = DType::int16; break;
    case 3: l.dtype = DType::uint16; break;
    case 8: l.dtype = DType::uint32; break;
    default: throw DecodeError(fmt::format("unknown SPE data type {} (0 float32, 1 int32, 2 int16, 3 uint16, 8 uint32)", datatype));
  }
  l.width = u16(h, 42);
  l.height = u16(h, 656);
  l.declared_frames = field<std::int32_t>(h, 1446);
  l.file_header_ver = field<float>(h, 1992);
  l.xml_footer_offset = field<std::uint64_t>(h, 678);
  const std::size_t item = itemsize(l.dtype);
  l.regions = {Region{l.width, l.height, 0}};
  l.frame_stride = static_cast<std::uint64_t>(l.width) * l.height * item;
  if (l.file_header_ver >= 3 && !footer.empty()) {
    // LightField's DataFormat: a Frame block (count, pixelFormat, stride)
    // holding one Region block per region of interest.
    const std::size_t fmt_at = footer.find("<DataFormat");
    const std::size_t frame_at = fmt_at == std::string_view::npos ? fmt_at : footer.find("<DataBlock", fmt_at);
    if (frame_at != std::string_view::npos) {
      const auto frame = attributes(footer, frame_at + 10);
      if (const auto pf = frame.find("pixelFormat"); pf != frame.end()) {
        static const std::map<std::string, DType> formats{{"MonochromeUnsigned16", DType::uint16},
                                                          {"MonochromeUnsigned32", DType::uint32},
                                                          {"MonochromeFloating32", DType::float32}};
        const auto it = formats.find(pf->second);
        if (it == formats.end()) throw DecodeError(fmt::format("unknown SPE 3.0 pixelFormat \"{}\"", pf->second));
        l.dtype = it->second;
      }
      std::vector<Region> regions;
      std::uint64_t offset = 0;
      const std::size_t end = footer.find("</DataFormat", frame_at);
      for (std::size_t at = footer.find("<DataBlock", frame_at + 10); at < end; at = footer.find("<DataBlock", at + 10)) {
        const auto r = attributes(footer, at + 10);
        const auto type = r.find("type");
        if (type == r.end() || type->second != "Region") continue;
        Region region{static_cast<std::size_t>(attr_uint(r, "width")), static_cast<std::size_t>(attr_uint(r, "height")),
                      offset};
        const auto bytes = checked_mul(checked_mul(region.width, region.height).value_or(UINT64_MAX), itemsize(l.dtype));
        const std::uint64_t size = r.count("size") ? attr_uint(r, "size") : bytes.value_or(UINT64_MAX);
        if (!bytes || size < *bytes) {
          throw DecodeError(fmt::format("SPE 3.0 region of {}x{} pixels in {} bytes", region.width, region.height, size));
        }
        offset = checked_add(offset, size).value_or(UINT64_MAX);
        regions.push_back(region);
        if (regions.size() > 4096) throw DecodeError("SPE 3.0 XML footer with more than 4096 regions");
      }
      if (!regions.empty()) {
        l.regions = std::move(regions);
        l.frame_stride = frame.count("stride") ? attr_uint(frame, "stride") : offset;
        if (l.frame_stride < offset) {
          throw DecodeError(fmt::format("SPE 3.0 frame stride {} is smaller than its regions ({} bytes)", l.frame_stride,
                                        offset));
        }
        if (frame.count("count")) l.declared_frames = static_cast<std::int64_t>(attr_uint(frame, "count"));
      }
    }
  }
  return l;
}

bool plausible(std::span<const std::byte> h, std::uint64_t file_size) {
  if (h.size() < kHeaderSize || file_size < kHeaderSize) return false;
  const auto datatype = i16(h, 108);
  if (datatype != 0 && datatype != 1 && datatype != 2 && datatype != 3 && datatype != 8) return false;
  const float ver = field<float>(h, 1992);
  if (!std::isfinite(ver) || ver < 0 || ver > 100) return false;
  if (field<std::int32_t>(h, 1446) < 0) return false;
  if (ver >= 3) {
    const auto xml = field<std::uint64_t>(h, 678);
    if (xml < kHeaderSize || xml > file_size) return false;
  }
  return true;
}

Metadata metadata_v2(std::span<const std::byte> h, const std::string& enc, bool sdt_control) {
  Metadata m;
  // ROIs: NumROI of the 10 slots (at least one)
  std::int64_t nr = i16(h, 1510);
  nr = nr < 1 ? 1 : std::min<std::int64_t>(nr, 10);
  Value::List rois;
  for (std::int64_t i = 0; i < nr; ++i) {
    const std::size_t at = 1512 + static_cast<std::size_t>(i) * 12;
    Dict roi;
    roi.set("top_left", Value::List{Value(u16(h, at)), Value(u16(h, at + 6))});
    roi.set("bottom_right", Value::List{Value(u16(h, at + 2)), Value(u16(h, at + 8))});
    roi.set("bin", Value::List{Value(u16(h, at + 4)), Value(u16(h, at + 10))});
    rois.emplace_back(std::move(roi));
  }
  m.set("ROIs", Value(std::move(rois)));
  m.set("chip_size", Value::List{Value(u16(h, 6)), Value(u16(h, 18))});
  m.set("virt_chip_size", Value::List{Value(i16(h, 14)), Value(i16(h, 16))});
  m.set("pre_pixels", Value::List{Value(i16(h, 98)), Value(i16(h, 102))});
  m.set("post_pixels", Value::List{Value(i16(h, 100)), Value(i16(h, 104))});
  m.set("controller_version", Value(i16(h, 0)));
  m.set("logic_output", Value(i16(h, 2)));
  m.set("amp_high_cap_low_noise", Value(u16(h, 4)));
  m.set("mode", Value(i16(h, 8)));
  m.set("exposure_sec", Value(f32(h, 10)));
  const std::string date = fixed_bytes(h, 20, 10);
  m.set("date", text(date, enc, "date"));
  m.set("detector_temp", Value(f32(h, 36)));
  m.set("detector_type", Value(i16(h, 40)));
  m.set("st_diode", Value(i16(h, 44)));
  m.set("delay_time", Value(f32(h, 46)));
  m.set("shutter_control", Value(u16(h, 50)));
  m.set("absorb_live", Value(i16(h, 52) != 0));
  m.set("absorb_mode", Value(u16(h, 54)));
  m.set("can_do_virtual_chip", Value(i16(h, 56) != 0));
  m.set("threshold_min_live", Value(i16(h, 58) != 0));
  m.set("threshold_min_val", Value(f32(h, 60)));
  m.set("threshold_max_live", Value(i16(h, 64) != 0));
  m.set("threshold_max_val", Value(f32(h, 66)));
  const std::string time_local = fixed_bytes(h, 172, 7);
  m.set("time_local", text(time_local, enc, "time_local"));
  m.set("time_utc", text(fixed_bytes(h, 179, 7), enc, "time_utc"));
  m.set("adc_offset", Value(u16(h, 188)));
  m.set("adc_rate", Value(u16(h, 190)));
  m.set("adc_type", Value(u16(h, 192)));
  m.set("adc_resolution", Value(u16(h, 194)));
  m.set("adc_bit_adjust", Value(u16(h, 196)));
  m.set("gain", Value(u16(h, 198)));
  std::vector<std::string> comments;
  Value::List comment_values;
  for (std::size_t i = 0; i < 5; ++i) {
    comments.push_back(fixed_bytes(h, 200 + 80 * i, 80));
    comment_values.push_back(text(comments.back(), enc, "comments"));
  }
  m.set("comments", Value(std::move(comment_values)));
  const auto g = u16(h, 600);
  Value::List geometric;
  if ((g & 1) != 0) geometric.emplace_back("rotate");
  if ((g & 2) != 0) geometric.emplace_back("reverse");
  if ((g & 4) != 0) geometric.emplace_back("flip");
  m.set("geometric", Value(std::move(geometric)));
  m.set("sw_version", text(fixed_bytes(h, 688, 16), enc, "sw_version"));
  const std::string spare_4 = fixed_bytes(h, 742, 436);
  m.set("spare_4", Value(std::span<const std::byte>(reinterpret_cast<const std::byte*>(spare_4.data()), spare_4.size())));
  m.set("readout_time", Value(f32(h, 672)));
  m.set("xml_footer_offset", Value(field<std::uint64_t>(h, 678)));
  static constexpr const char* kControllers[] = {
      "new120 (Type II)", "old120 (Type I)", "ST130", "ST121", "ST138", "DC131 (PentaMax)", "ST133 (MicroMax/Roper)",
      "ST135 (GPIB)",     "VTCCD",           "ST116 (GPIB)", "OMA3 (GPIB)", "OMA4"};
  const auto type = i16(h, 704);
  m.set("type", type >= 1 && type <= 12 ? Value(kControllers[type - 1]) : Value());
  m.set("clockspeed_us", Value(f32(h, 1428)));
  static constexpr const char* kReadout[] = {"full frame", "frame transfer", "kinetics"};
  const auto readout = u16(h, 1480);
  m.set("readout_mode", readout >= 1 && readout <= 3 ? Value(kReadout[readout - 1]) : Value());
  m.set("window_size", Value(u16(h, 1482)));
  m.set("file_header_ver", Value(f32(h, 1992)));
  if (!sdt_control) return m;

  // SDT-control: "COMVER" and the format version at the end of comment 4.
  if (slice(comments[4], 70, 76) != "COMVER") return m;
  const auto major = py_int(slice(comments[4], 76, 78));
  const auto minor = py_int(slice(comments[4], 78, 80));
  if (!major || !minor || *major < 0 || *minor < 0) return m;
  Metadata out = without(m, {"comments"});
  if (*major == 5) sdt_fields(comments, static_cast<int>(*minor), out);
  const std::string comment(strip(comments[0] + comments[2]));
  out.set("comment", text(comment, enc, "comment"));
  if (const auto dt = sdt_datetime(date, time_local)) {
    out = without(out, {"date", "time_local"});
    out.set("datetime", *dt);
  }
  if (auto script = decode(spare_4, enc)) {
    out = without(out, {"spare_4"});
    out.set("modulation_script", std::move(*script));
  } else {
    imio::warn("spe", "cannot decode SDT-control's laser modulation script (spare_4) as " + enc);
  }
  return without(out, {"time_utc", "exposure_sec"});
}

}  // namespace imio::spe
