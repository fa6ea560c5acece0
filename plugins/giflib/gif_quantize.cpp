#include "gif_quantize.hpp"

#include <algorithm>
#include <array>
#include <unordered_map>

namespace imio::giflib {
namespace {

struct Rgb {
  std::uint8_t r, g, b;
};

Rgb pixel_at(const std::uint8_t* p, int channels) {
  if (channels <= 2) return {p[0], p[0], p[0]};
  return {p[0], p[1], p[2]};
}

bool transparent_at(const std::uint8_t* p, int channels) {
  return (channels == 2 && p[1] < 128) || (channels == 4 && p[3] < 128);
}

std::uint32_t key_of(Rgb c) { return std::uint32_t{c.r} << 16 | std::uint32_t{c.g} << 8 | c.b; }

// A box of the 5-bit histogram: bins [lo, hi] per channel.
struct Box {
  std::array<int, 3> lo{}, hi{};
  std::uint64_t count = 0;
};

constexpr int bin_of(int r, int g, int b) { return (r << 10) | (g << 5) | b; }

void shrink(Box& box, const std::vector<std::uint32_t>& hist) {
  std::array<int, 3> lo{31, 31, 31}, hi{0, 0, 0};
  std::uint64_t count = 0;
  for (int r = box.lo[0]; r <= box.hi[0]; ++r)
    for (int g = box.lo[1]; g <= box.hi[1]; ++g)
      for (int b = box.lo[2]; b <= box.hi[2]; ++b) {
        const std::uint32_t n = hist[bin_of(r, g, b)];
        if (n == 0) continue;
        count += n;
        const int c[3] = {r, g, b};
        for (int i = 0; i < 3; ++i) {
          lo[i] = std::min(lo[i], c[i]);
          hi[i] = std::max(hi[i], c[i]);
        }
      }
  box.count = count;
  if (count) {
    box.lo = lo;
    box.hi = hi;
  }
}

std::vector<Rgb> median_cut(const std::vector<std::uint32_t>& hist, const std::vector<std::array<std::uint64_t, 3>>& sums,
                            int max_colors) {
  std::vector<Box> boxes(1);
  boxes[0].hi = {31, 31, 31};
  shrink(boxes[0], hist);
  while (static_cast<int>(boxes.size()) < max_colors) {
    // Split the box with the most pixels along its longest side.
    int best = -1;
    std::uint64_t best_count = 0;
    for (std::size_t i = 0; i < boxes.size(); ++i) {
      const Box& b = boxes[i];
      const bool splittable = b.lo != b.hi;
      if (splittable && b.count > best_count) {
        best_count = b.count;
        best = static_cast<int>(i);
      }
    }
    if (best < 0) break;
    Box box = boxes[static_cast<std::size_t>(best)];
    int axis = 0;
    for (int i = 1; i < 3; ++i) {
      if (box.hi[i] - box.lo[i] > box.hi[axis] - box.lo[axis]) axis = i;
    }
    // The plane where half of the box's pixels lie below.
    std::vector<std::uint64_t> plane(32, 0);
    for (int r = box.lo[0]; r <= box.hi[0]; ++r)
      for (int g = box.lo[1]; g <= box.hi[1]; ++g)
        for (int b = box.lo[2]; b <= box.hi[2]; ++b) {
          const int c[3] = {r, g, b};
          plane[static_cast<std::size_t>(c[axis])] += hist[bin_of(r, g, b)];
        }
    std::uint64_t acc = 0;
    int cut = box.lo[axis];
    for (int v = box.lo[axis]; v < box.hi[axis]; ++v) {
      acc += plane[static_cast<std::size_t>(v)];
      cut = v;
      if (acc * 2 >= box.count) break;
    }
    Box a = box, b = box;
    a.hi[axis] = cut;
    b.lo[axis] = cut + 1;
    shrink(a, hist);
    shrink(b, hist);
    boxes[static_cast<std::size_t>(best)] = a;
    boxes.push_back(b);
  }
  std::vector<Rgb> palette;
  for (const Box& box : boxes) {
    if (box.count == 0) continue;
    std::array<std::uint64_t, 3> s{};
    for (int r = box.lo[0]; r <= box.hi[0]; ++r)
      for (int g = box.lo[1]; g <= box.hi[1]; ++g)
        for (int b = box.lo[2]; b <= box.hi[2]; ++b) {
          const auto& t = sums[bin_of(r, g, b)];
          for (int i = 0; i < 3; ++i) s[i] += t[i];
        }
    palette.push_back({static_cast<std::uint8_t>((s[0] + box.count / 2) / box.count),
                       static_cast<std::uint8_t>((s[1] + box.count / 2) / box.count),
                       static_cast<std::uint8_t>((s[2] + box.count / 2) / box.count)});
  }
  return palette;
}

int nearest(const std::vector<Rgb>& palette, int r, int g, int b) {
  int best = 0;
  int best_d = 1 << 30;
  for (std::size_t i = 0; i < palette.size(); ++i) {
    const int dr = palette[i].r - r, dg = palette[i].g - g, db = palette[i].b - b;
    const int d = 2 * dr * dr + 4 * dg * dg + 3 * db * db;
    if (d < best_d) {
      best_d = d;
      best = static_cast<int>(i);
    }
  }
  return best;
}

}  // namespace

Quantized quantize(const std::uint8_t* pixels, std::size_t width, std::size_t height, int channels, int max_colors,
                   bool dither) {
  const std::size_t count = width * height;
  Quantized out;
  out.indices.resize(count);
  bool any_transparent = false;
  for (std::size_t i = 0; i < count && !any_transparent; ++i) any_transparent = transparent_at(pixels + i * static_cast<std::size_t>(channels), channels);
  const int opaque_colors = std::max(1, max_colors - (any_transparent ? 1 : 0));

  // Exact palette when the frame has few enough colours: the output equals the input.
  std::unordered_map<std::uint32_t, std::uint8_t> exact;
  std::vector<Rgb> palette;
  bool fits = true;
  for (std::size_t i = 0; i < count; ++i) {
    const std::uint8_t* p = pixels + i * static_cast<std::size_t>(channels);
    if (transparent_at(p, channels)) continue;
    const Rgb c = pixel_at(p, channels);
    if (exact.emplace(key_of(c), static_cast<std::uint8_t>(palette.size())).second) {
      palette.push_back(c);
      if (static_cast<int>(palette.size()) > opaque_colors) {
        fits = false;
        break;
      }
    }
  }
  if (fits) {
    if (palette.empty()) palette.push_back({0, 0, 0});
    for (std::size_t i = 0; i < count; ++i) {
      const std::uint8_t* p = pixels + i * static_cast<std::size_t>(channels);
      out.indices[i] = transparent_at(p, channels) ? static_cast<std::uint8_t>(palette.size())
                                                   : exact.at(key_of(pixel_at(p, channels)));
    }
  } else {
    std::vector<std::uint32_t> hist(32768, 0);
    std::vector<std::array<std::uint64_t, 3>> sums(32768, {0, 0, 0});
    for (std::size_t i = 0; i < count; ++i) {
      const std::uint8_t* p = pixels + i * static_cast<std::size_t>(channels);
      if (transparent_at(p, channels)) continue;
      const Rgb c = pixel_at(p, channels);
      const int bin = bin_of(c.r >> 3, c.g >> 3, c.b >> 3);
      ++hist[static_cast<std::size_t>(bin)];
      auto& s = sums[static_cast<std::size_t>(bin)];
      s[0] += c.r;
      s[1] += c.g;
      s[2] += c.b;
    }
    palette = median_cut(hist, sums, opaque_colors);
    // Nearest palette entry per histogram bin, computed on first use.
    std::vector<std::int16_t> cache(32768, -1);
    auto lookup = [&](int r, int g, int b) {
      const int bin = bin_of(r >> 3, g >> 3, b >> 3);
      auto& e = cache[static_cast<std::size_t>(bin)];
      if (e < 0) e = static_cast<std::int16_t>(nearest(palette, (r & ~7) | 4, (g & ~7) | 4, (b & ~7) | 4));
      return e;
    };
    if (!dither) {
      for (std::size_t i = 0; i < count; ++i) {
        const std::uint8_t* p = pixels + i * static_cast<std::size_t>(channels);
        if (transparent_at(p, channels)) {
          out.indices[i] = static_cast<std::uint8_t>(palette.size());
          continue;
        }
        const Rgb c = pixel_at(p, channels);
        out.indices[i] = static_cast<std::uint8_t>(lookup(c.r, c.g, c.b));
      }
    } else {
      // Floyd–Steinberg: 7/16 right, 3/16 below left, 5/16 below, 1/16 below right.
      const int ch = channels;
      std::vector<std::array<int, 3>> err_cur(width + 2, {0, 0, 0}), err_next(width + 2, {0, 0, 0});
      for (std::size_t i = 0; i < count; ++i) {
        const std::size_t x = i % width;
        if (x == 0 && i > 0) {
          std::swap(err_cur, err_next);
          std::fill(err_next.begin(), err_next.end(), std::array<int, 3>{0, 0, 0});
        }
        const std::uint8_t* p = pixels + i * static_cast<std::size_t>(ch);
        if (transparent_at(p, ch)) {
          out.indices[i] = static_cast<std::uint8_t>(palette.size());
          continue;
        }
        const Rgb c = pixel_at(p, ch);
        const int want[3] = {std::clamp(c.r + err_cur[x + 1][0] / 16, 0, 255), std::clamp(c.g + err_cur[x + 1][1] / 16, 0, 255),
                             std::clamp(c.b + err_cur[x + 1][2] / 16, 0, 255)};
        const int k = nearest(palette, want[0], want[1], want[2]);
        out.indices[i] = static_cast<std::uint8_t>(k);
        const int got[3] = {palette[static_cast<std::size_t>(k)].r, palette[static_cast<std::size_t>(k)].g,
                            palette[static_cast<std::size_t>(k)].b};
        for (int j = 0; j < 3; ++j) {
          const int e = want[j] - got[j];
          err_cur[x + 2][j] += e * 7;
          err_next[x][j] += e * 3;
          err_next[x + 1][j] += e * 5;
          err_next[x + 2][j] += e * 1;
        }
      }
    }
  }
  for (const Rgb& c : palette) {
    out.palette.push_back(c.r);
    out.palette.push_back(c.g);
    out.palette.push_back(c.b);
  }
  if (any_transparent) {
    out.transparent = static_cast<int>(palette.size());
    out.palette.insert(out.palette.end(), {0, 0, 0});
  }
  return out;
}

}  // namespace imio::giflib
