#include "hdr_pixels.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

namespace imio::radiance {
namespace {

// rgbe.c's rgbe2float: mantissa × 2^(e − 128 − 8); e = 0 is black.
inline void rgbe_to_float(const std::uint8_t* p, float* rgb) {
  if (p[3] == 0) {
    rgb[0] = rgb[1] = rgb[2] = 0.0f;
    return;
  }
  const float f = std::ldexp(1.0f, int{p[3]} - (128 + 8));
  rgb[0] = static_cast<float>(p[0]) * f;
  rgb[1] = static_cast<float>(p[1]) * f;
  rgb[2] = static_cast<float>(p[2]) * f;
}

class Reader {
 public:
  Reader(std::span<const std::byte> data, std::size_t pos) : data_(data), pos_(pos) {}
  std::size_t remaining() const { return data_.size() - pos_; }
  const std::uint8_t* take(std::size_t n) {
    const auto* p = reinterpret_cast<const std::uint8_t*>(data_.data()) + pos_;
    pos_ += n;
    return p;
  }

 private:
  std::span<const std::byte> data_;
  std::size_t pos_;
};

[[noreturn]] void truncated(std::size_t scanline, std::size_t count) {
  throw DecodeError(fmt::format("the file is truncated: it ends in scanline {} of {}", scanline, count));
}

// One scanline of `n` pixels into `line` (4 bytes per pixel).
void read_scanline(Reader& in, std::uint8_t* line, std::size_t n, std::size_t index, std::size_t count) {
  if (in.remaining() < 4) truncated(index, count);
  const std::uint8_t* head = in.take(4);
  const bool adaptive = n >= 8 && n <= 0x7fff && head[0] == 2 && head[1] == 2 && (head[2] & 0x80) == 0;
  if (adaptive) {
    const std::size_t stated = (std::size_t{head[2]} << 8) | head[3];
    if (stated != n) throw DecodeError(fmt::format("scanline {} states a width of {}, the picture is {} wide", index, stated, n));
    for (std::size_t c = 0; c < 4; ++c) {
      std::size_t x = 0;
      while (x < n) {
        if (in.remaining() < 2) truncated(index, count);
        std::uint8_t code = *in.take(1);
        if (code > 128) {  // a run of code − 128 copies of the next byte
          const std::size_t run = code - 128u;
          if (run > n - x) throw DecodeError(fmt::format("scanline {}: a run of {} overruns the scanline", index, run));
          const std::uint8_t v = *in.take(1);
          for (std::size_t k = 0; k < run; ++k) line[(x + k) * 4 + c] = v;
          x += run;
        } else {  // code literal bytes
          if (code == 0) throw DecodeError(fmt::format("scanline {}: a literal run of length 0", index));
          if (code > n - x) throw DecodeError(fmt::format("scanline {}: a literal run of {} overruns the scanline", index, code));
          if (in.remaining() < code) truncated(index, count);
          const std::uint8_t* v = in.take(code);
          for (std::size_t k = 0; k < code; ++k) line[(x + k) * 4 + c] = v[k];
          x += code;
        }
      }
    }
    return;
  }
  // Flat pixels, with the old form's runs: (1, 1, 1, k) repeats the previous
  // pixel k times, k shifted left by 8 more for each run that follows a run.
  std::size_t x = 0;
  int shift = 0;
  const std::uint8_t* p = head;
  while (true) {
    if (p[0] == 1 && p[1] == 1 && p[2] == 1) {
      if (x == 0) throw DecodeError(fmt::format("scanline {}: a run before the first pixel", index));
      const std::size_t run = shift >= 24 ? n + 1 : std::size_t{p[3]} << shift;
      if (run > n - x) throw DecodeError(fmt::format("scanline {}: a run of {} overruns the scanline", index, run));
      for (std::size_t k = 0; k < run; ++k) std::memcpy(line + (x + k) * 4, line + (x - 1) * 4, 4);
      x += run;
      shift += 8;
    } else {
      std::memcpy(line + x * 4, p, 4);
      ++x;
      shift = 0;
    }
    if (x == n) return;
    if (in.remaining() < 4) truncated(index, count);
    p = in.take(4);
  }
}

// Runs of at least this many equal bytes are worth a run code (rgbe.c's MINRUNLENGTH).
constexpr std::size_t kMinRun = 4;

void encode_component(const std::uint8_t* v, std::size_t n, Bytes& out) {
  auto put = [&](std::uint8_t b) { out.push_back(static_cast<std::byte>(b)); };
  std::size_t x = 0;
  while (x < n) {
    // find the next run of at least kMinRun
    std::size_t run_start = x, run = 0;
    while (run_start < n) {
      run = 1;
      while (run_start + run < n && run < 127 && v[run_start + run] == v[run_start]) ++run;
      if (run >= kMinRun) break;
      run_start += run;
    }
    if (run < kMinRun) run_start = n;
    while (x < run_start) {  // literals before the run, 128 at most per code
      const std::size_t lit = std::min<std::size_t>(128, run_start - x);
      put(static_cast<std::uint8_t>(lit));
      for (std::size_t k = 0; k < lit; ++k) put(v[x + k]);
      x += lit;
    }
    if (run_start < n) {
      put(static_cast<std::uint8_t>(128 + run));
      put(v[run_start]);
      x = run_start + run;
    }
  }
}

}  // namespace

void decode(std::span<const std::byte> file, const Header& h, float* out) {
  const std::size_t n = h.minor.size, count = h.major.size;
  const std::size_t width = h.width(), height = h.height();
  std::vector<std::uint8_t> line(n * 4);
  Reader in(file, h.data_offset);
  const bool standard = h.major.letter == 'Y' && h.major.sign == '-' && h.minor.sign == '+';
  for (std::size_t i = 0; i < count; ++i) {
    read_scanline(in, line.data(), n, i, count);
    if (standard) {
      float* row = out + i * width * 3;
      for (std::size_t j = 0; j < n; ++j) rgbe_to_float(&line[j * 4], row + j * 3);
      continue;
    }
    for (std::size_t j = 0; j < n; ++j) {
      // Radiance's +Y points up (the last row), +X right (the last column).
      const std::size_t along_major = h.major.sign == (h.major.letter == 'Y' ? '-' : '+') ? i : count - 1 - i;
      const std::size_t along_minor = h.minor.sign == (h.minor.letter == 'Y' ? '-' : '+') ? j : n - 1 - j;
      const std::size_t row = h.major.letter == 'Y' ? along_major : along_minor;
      const std::size_t col = h.major.letter == 'Y' ? along_minor : along_major;
      rgbe_to_float(&line[j * 4], out + (row * width + col) * 3);
    }
  }
  (void)height;
}

void encode(const float* rgb, std::size_t height, std::size_t width, const EncodeOptions& options, Bytes& out) {
  std::vector<std::uint8_t> line(width * 4);
  std::vector<std::uint8_t> component(width);
  const bool rle = options.rle && width >= 8 && width <= 0x7fff;
  for (std::size_t y = 0; y < height; ++y) {
    for (std::size_t x = 0; x < width; ++x) {
      float c[3];
      for (std::size_t k = 0; k < 3; ++k) {
        float v = rgb[(y * width + x) * 3 + k];
        if (!(v >= 0.0f) || std::isinf(v)) {
          if (!options.clip) {
            throw ArgumentError(fmt::format("RGBE holds finite samples ≥ 0; pixel (row {}, column {}) has {} (clip=True writes negative "
                                            "and NaN samples as 0, +inf as the largest value)",
                                            y, x, v));
          }
          v = std::isnan(v) || v < 0.0f ? 0.0f : std::numeric_limits<float>::max();
        }
        c[k] = v;
      }
      std::uint8_t* p = &line[x * 4];
      const float m = std::max({c[0], c[1], c[2]});
      if (m < 1e-32f) {
        p[0] = p[1] = p[2] = p[3] = 0;
        continue;
      }
      int e = 0;
      const float scale = std::frexp(m, &e) * 256.0f / m;  // rgbe.c's float2rgbe
      if (e > 127) {  // 2^127 and above: beyond the largest exponent byte
        if (!options.clip) {
          throw ArgumentError(fmt::format("pixel (row {}, column {}) has {}, beyond RGBE's range (below 2^127; clip=True writes the largest value)", y, x, m));
        }
        for (std::size_t k = 0; k < 3; ++k) p[k] = static_cast<std::uint8_t>(c[k] / m * 255.0f);
        p[3] = 255;
        continue;
      }
      for (std::size_t k = 0; k < 3; ++k) p[k] = static_cast<std::uint8_t>(std::min(255.0f, c[k] * scale));
      p[3] = static_cast<std::uint8_t>(e + 128);
    }
    if (!rle) {
      const auto* b = reinterpret_cast<const std::byte*>(line.data());
      out.insert(out.end(), b, b + line.size());
      continue;
    }
    const std::uint8_t head[4] = {2, 2, static_cast<std::uint8_t>(width >> 8), static_cast<std::uint8_t>(width & 0xff)};
    for (std::uint8_t b : head) out.push_back(static_cast<std::byte>(b));
    for (std::size_t k = 0; k < 4; ++k) {
      for (std::size_t x = 0; x < width; ++x) component[x] = line[x * 4 + k];
      encode_component(component.data(), width, out);
    }
  }
}

}  // namespace imio::radiance
