// Median cut as Pillow's Image.quantize(colors) runs it for L and RGB
// images (Pillow 9.4, method MEDIANCUT, kmeans 0). The steps and the
// choices that decide the result:
//  1. histogram of the distinct colours; while it holds more than 65536,
//     every component loses its lowest bit (colours merge);
//  2. boxes live in a binary max-heap keyed by pixel count; the top box is
//     split (single-colour boxes are dropped from the heap) until
//     colours − 1 splits are done or nothing is left to split;
//  3. the split axis has the largest range weighted 77 : 150 : 29 (R, G, B;
//     the first wins a tie); sorted from the highest value down, colours go
//     to the first half until it holds more than half the pixels, together
//     with every colour sharing the last one's value;
//  4. leaves are numbered depth first, the high half first; an entry is the
//     rounded mean of the (unscaled) pixels in its box;
//  5. a pixel takes the nearest entry (squared RGB distance), searching from
//     its own box's entry outwards, so ties go to its own box.
#include "png_quantize.hpp"

#include <algorithm>
#include <array>
#include <numeric>
#include <unordered_map>

namespace imio::png {
namespace {

constexpr std::size_t kMaxHistogram = 65536;
// Alpha (the fourth axis for RGBA) weighs as much as a full luminance step.
constexpr std::array<std::int64_t, 4> kAxisWeight = {77, 150, 29, 256};

using Color = std::array<std::uint8_t, 4>;

std::uint32_t pack(const Color& c) {
  return (std::uint32_t{c[0]} << 24) | (std::uint32_t{c[1]} << 16) | (std::uint32_t{c[2]} << 8) | c[3];
}
Color unpack(std::uint32_t v) {
  return {static_cast<std::uint8_t>(v >> 24), static_cast<std::uint8_t>(v >> 16), static_cast<std::uint8_t>(v >> 8),
          static_cast<std::uint8_t>(v)};
}
std::uint32_t scaled(std::uint32_t packed, int shift) {
  if (shift == 0) return packed;
  Color c = unpack(packed);
  for (auto& x : c) x = static_cast<std::uint8_t>(x >> shift);
  return pack(c);
}

struct Entry {
  Color color;  // scaled
  std::uint64_t count;
};

struct Box {
  std::vector<std::uint32_t> entries;  // indices into the histogram
  std::uint64_t pixels = 0;
  int left = -1, right = -1;
};

class Cutter {
 public:
  Cutter(std::vector<Entry> hist, int axes) : hist_(std::move(hist)), axes_(axes) {}

  // Steps 2 and 3; returns the boxes, boxes_[0] the root.
  std::vector<Box>& run(std::uint64_t total, int colors) {
    Box root;
    root.entries.resize(hist_.size());
    std::iota(root.entries.begin(), root.entries.end(), 0u);
    root.pixels = total;
    boxes_.push_back(std::move(root));
    push(0);
    for (int splits = colors - 1; splits > 0; --splits) {
      int top = -1;
      do {
        top = pop();
      } while (top >= 0 && single_color(boxes_[static_cast<std::size_t>(top)]));
      if (top < 0) break;
      split(static_cast<std::size_t>(top));
      push(boxes_[static_cast<std::size_t>(top)].left);
      push(boxes_[static_cast<std::size_t>(top)].right);
    }
    return boxes_;
  }

 private:
  std::pair<int, int> range(const std::vector<std::uint32_t>& entries, int axis) const {
    int lo = 255, hi = 0;
    for (const std::uint32_t e : entries) {
      lo = std::min<int>(lo, hist_[e].color[static_cast<std::size_t>(axis)]);
      hi = std::max<int>(hi, hist_[e].color[static_cast<std::size_t>(axis)]);
    }
    return {lo, hi};
  }
  bool single_color(const Box& b) const {
    for (int a = 0; a < axes_; ++a) {
      const auto [lo, hi] = range(b.entries, a);
      if (lo != hi) return false;
    }
    return true;
  }

  void split(std::size_t index) {
    std::vector<std::uint32_t> entries = std::move(boxes_[index].entries);
    const std::uint64_t pixels = boxes_[index].pixels;
    int axis = 0;
    std::int64_t best = -1;
    for (int a = 0; a < axes_; ++a) {
      const auto [lo, hi] = range(entries, a);
      const std::int64_t f = (hi - lo) * kAxisWeight[static_cast<std::size_t>(a)];
      if (f > best) {
        best = f;
        axis = a;
      }
    }
    const auto value = [&](std::uint32_t e) { return hist_[e].color[static_cast<std::size_t>(axis)]; };
    std::sort(entries.begin(), entries.end(), [&](std::uint32_t x, std::uint32_t y) { return value(x) > value(y); });
    std::size_t cut = 0;
    std::uint64_t left = 0;
    while (cut < entries.size()) {
      left += hist_[entries[cut++]].count;
      if (left * 2 > pixels) break;
    }
    while (cut < entries.size() && value(entries[cut]) == value(entries[cut - 1])) ++cut;
    if (cut == entries.size()) {  // nothing on the low side: the lowest value moves there
      while (cut > 0 && value(entries[cut - 1]) == value(entries.back())) --cut;
    }
    Box lo, hi;
    hi.entries.assign(entries.begin(), entries.begin() + static_cast<std::ptrdiff_t>(cut));
    lo.entries.assign(entries.begin() + static_cast<std::ptrdiff_t>(cut), entries.end());
    for (const std::uint32_t e : hi.entries) hi.pixels += hist_[e].count;
    lo.pixels = pixels - hi.pixels;
    boxes_[index].left = static_cast<int>(boxes_.size());
    boxes_.push_back(std::move(hi));
    boxes_[index].right = static_cast<int>(boxes_.size());
    boxes_.push_back(std::move(lo));
  }

  // Pillow's heap: 1-based array, ties resolved by these exact comparisons.
  bool above(int a, int b) const {
    return boxes_[static_cast<std::size_t>(a)].pixels > boxes_[static_cast<std::size_t>(b)].pixels;
  }
  void push(int box) {
    heap_.resize(std::max<std::size_t>(heap_.size(), count_ + 2));
    std::size_t k = ++count_;
    while (k != 1 && above(box, heap_[k / 2])) {
      heap_[k] = heap_[k / 2];
      k /= 2;
    }
    heap_[k] = box;
  }
  int pop() {
    if (count_ == 0) return -1;
    const int top = heap_[1], last = heap_[count_--];
    std::size_t k = 1;
    while (k * 2 <= count_) {
      std::size_t child = k * 2;
      if (child < count_ && above(heap_[child + 1], heap_[child])) ++child;
      if (above(last, heap_[child])) break;
      heap_[k] = heap_[child];
      k = child;
    }
    heap_[k] = last;
    return top;
  }

  std::vector<Entry> hist_;
  int axes_;
  std::vector<Box> boxes_;
  std::vector<int> heap_{0};
  std::size_t count_ = 0;
};

Color pixel_at(const std::uint8_t* p, std::size_t i, int channels) {
  switch (channels) {
    case 1: return {p[i], p[i], p[i], 255};
    case 3: return {p[3 * i], p[3 * i + 1], p[3 * i + 2], 255};
    default: return {p[4 * i], p[4 * i + 1], p[4 * i + 2], p[4 * i + 3]};
  }
}

std::uint32_t distance(const Color& a, const Color& b, int axes) {
  std::uint32_t d = 0;
  for (int k = 0; k < axes; ++k) {
    const int x = int{a[static_cast<std::size_t>(k)]} - int{b[static_cast<std::size_t>(k)]};
    d += static_cast<std::uint32_t>(x * x);
  }
  return d;
}

}  // namespace

Quantized median_cut(const std::uint8_t* pixels, std::size_t count, int channels, int colors) {
  const int axes = channels == 4 ? 4 : 3;
  // 1. histogram, coarsened while it is too large
  int shift = 0;
  std::unordered_map<std::uint32_t, std::uint64_t> counts;
  for (std::size_t i = 0; i < count; ++i) {
    ++counts[scaled(pack(pixel_at(pixels, i, channels)), shift)];
    while (counts.size() > kMaxHistogram) {
      ++shift;
      std::unordered_map<std::uint32_t, std::uint64_t> coarser;
      for (const auto& [key, n] : counts) coarser[scaled(key, 1)] += n;
      counts.swap(coarser);
    }
  }
  std::vector<Entry> hist;
  hist.reserve(counts.size());
  for (const auto& [key, n] : counts) hist.push_back({unpack(key), n});

  // 2./3. the cut
  Cutter cutter(hist, axes);
  const std::vector<Box>& boxes = cutter.run(count, colors);

  // 4. leaves depth first, high half first; the histogram entry → its leaf
  std::vector<std::uint16_t> leaf_of(hist.size());
  std::size_t leaves = 0;
  std::vector<int> stack{0};
  while (!stack.empty()) {
    const Box& b = boxes[static_cast<std::size_t>(stack.back())];
    stack.pop_back();
    if (b.left >= 0) {
      stack.push_back(b.right);
      stack.push_back(b.left);
      continue;
    }
    for (const std::uint32_t e : b.entries) leaf_of[e] = static_cast<std::uint16_t>(leaves);
    ++leaves;
  }
  std::unordered_map<std::uint32_t, std::uint16_t> box_of;
  box_of.reserve(hist.size());
  for (std::size_t e = 0; e < hist.size(); ++e) box_of.emplace(pack(hist[e].color), leaf_of[e]);

  Quantized q;
  q.indices.resize(count);
  std::vector<std::array<std::uint64_t, 4>> sum(leaves, {0, 0, 0, 0});
  std::vector<std::uint64_t> members(leaves, 0);
  for (std::size_t i = 0; i < count; ++i) {
    const Color c = pixel_at(pixels, i, channels);
    const std::uint16_t leaf = box_of.at(scaled(pack(c), shift));
    q.indices[i] = static_cast<std::uint8_t>(leaf);
    for (int k = 0; k < 4; ++k) sum[leaf][static_cast<std::size_t>(k)] += c[static_cast<std::size_t>(k)];
    ++members[leaf];
  }
  std::vector<Color> palette(leaves);
  for (std::size_t l = 0; l < leaves; ++l) {
    for (std::size_t k = 0; k < 4; ++k) {
      palette[l][k] = static_cast<std::uint8_t>(0.5 + static_cast<double>(sum[l][k]) / static_cast<double>(members[l]));
    }
  }

  // 5. nearest entry, searched in the order of distance from the box's entry
  std::vector<std::uint32_t> gap(leaves * leaves);
  std::vector<std::uint16_t> order(leaves * leaves);
  for (std::size_t a = 0; a < leaves; ++a) {
    for (std::size_t b = 0; b < leaves; ++b) gap[a * leaves + b] = distance(palette[a], palette[b], axes);
    auto* row = order.data() + a * leaves;
    std::iota(row, row + leaves, std::uint16_t{0});
    std::stable_sort(row, row + leaves, [&](std::uint16_t x, std::uint16_t y) { return gap[a * leaves + x] < gap[a * leaves + y]; });
  }
  std::unordered_map<std::uint32_t, std::uint8_t> nearest;
  for (std::size_t i = 0; i < count; ++i) {
    const Color c = pixel_at(pixels, i, channels);
    const auto [it, fresh] = nearest.try_emplace(pack(c), std::uint8_t{0});
    if (fresh) {
      const std::size_t own = q.indices[i];
      std::size_t best = own;
      std::uint32_t best_d = distance(palette[own], c, axes);
      const std::uint64_t reach = std::uint64_t{best_d} * 4;  // no nearer entry lies farther from `own`
      for (std::size_t j = 0; j < leaves; ++j) {
        const std::size_t cand = order[own * leaves + j];
        if (gap[own * leaves + cand] > reach) break;
        const std::uint32_t d = distance(palette[cand], c, axes);
        if (d < best_d) {
          best_d = d;
          best = cand;
        }
      }
      it->second = static_cast<std::uint8_t>(best);
    }
    q.indices[i] = it->second;
  }
  for (const Color& c : palette) {
    q.palette.insert(q.palette.end(), {c[0], c[1], c[2]});
    if (channels == 4) q.alpha.push_back(c[3]);
  }
  return q;
}

}  // namespace imio::png
