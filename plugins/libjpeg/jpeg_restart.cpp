// Restart-marker entry points of a baseline scan (see jpeg_restart.hpp).
#include "jpeg_restart.hpp"

#include <cstring>

namespace imio::libjpeg {
namespace {

unsigned at(std::span<const std::byte> f, std::size_t i) { return std::to_integer<unsigned>(f[i]); }

// SOF0…SOF15 except DHT (C4), JPG (C8) and DAC (CC): T.81 Table B.1.
bool is_sof(unsigned m) { return m >= 0xC0 && m <= 0xCF && m != 0xC4 && m != 0xC8 && m != 0xCC; }

}  // namespace

McuSize mcu_size(const jpeg_decompress_struct& info) {
  const jpeg_component_info& c0 = info.comp_info[0];
  if (c0.h_samp_factor <= 0 || c0.v_samp_factor <= 0) return {};
  const bool single = info.comps_in_scan == 1;
  McuSize m;
  m.width = single ? 8u * info.max_h_samp_factor / c0.h_samp_factor : 8u * info.max_h_samp_factor;
  m.height = single ? 8u * info.max_v_samp_factor / c0.v_samp_factor : 8u * info.max_v_samp_factor;
  m.imcu_height = 8u * info.max_v_samp_factor;
  return m;
}

std::optional<std::size_t> find_sof(std::span<const std::byte> f, std::size_t end) {
  std::size_t pos = 2;  // after SOI
  while (pos + 4 <= end) {
    if (at(f, pos) != 0xFF) return std::nullopt;
    const unsigned m = at(f, pos + 1);
    if (m == 0xFF) {  // fill byte
      ++pos;
      continue;
    }
    if (is_sof(m)) return pos;
    if (m == 0xDA) return std::nullopt;  // SOS before any SOF
    pos += 2 + ((at(f, pos + 2) << 8) | at(f, pos + 3));
  }
  return std::nullopt;
}

std::optional<std::size_t> sequential_huffman_sof(const jpeg_decompress_struct& info, std::span<const std::byte> file,
                                                  std::size_t scan_start) {
  const std::optional<std::size_t> sof = find_sof(file, scan_start);
  if (!sof || *sof + 9 > scan_start) return std::nullopt;
  if (const unsigned m = at(file, *sof + 1); m != 0xC0 && m != 0xC1) return std::nullopt;
  if (((at(file, *sof + 5) << 8) | at(file, *sof + 6)) != info.image_height ||
      ((at(file, *sof + 7) << 8) | at(file, *sof + 8)) != info.image_width) {
    return std::nullopt;
  }
  return sof;
}

std::vector<unsigned char> resized_head(std::span<const std::byte> file, std::size_t scan_start, std::size_t sof,
                                        std::uint64_t width, std::uint64_t height) {
  const auto* begin = reinterpret_cast<const unsigned char*>(file.data());
  std::vector<unsigned char> head(begin, begin + scan_start);
  head[sof + 5] = static_cast<unsigned char>(height >> 8);
  head[sof + 6] = static_cast<unsigned char>(height & 0xFF);
  head[sof + 7] = static_cast<unsigned char>(width >> 8);
  head[sof + 8] = static_cast<unsigned char>(width & 0xFF);
  return head;
}

std::vector<std::size_t> restart_offsets(std::span<const std::byte> file, std::size_t scan_start) {
  std::vector<std::size_t> out;
  const std::size_t n = file.size();
  std::size_t pos = scan_start;
  while (pos + 1 < n) {
    const void* ff = std::memchr(file.data() + pos, 0xFF, n - pos - 1);
    if (ff == nullptr) break;
    pos = static_cast<std::size_t>(static_cast<const std::byte*>(ff) - file.data());
    const unsigned m = at(file, pos + 1);
    if (m >= 0xD0 && m <= 0xD7) {
      pos += 2;
      out.push_back(pos);
    } else if (m == 0x00 || m == 0xFF) {
      ++pos;
    } else {
      break;  // the end of the scan
    }
  }
  return out;
}

RestartMarkers check_restart_markers(const jpeg_decompress_struct& info, std::span<const std::byte> file,
                                     const std::vector<std::size_t>& restarts) {
  RestartMarkers m;
  const McuSize mcu = mcu_size(info);
  if (info.restart_interval == 0 || mcu.width == 0 || mcu.height == 0) return m;
  const std::uint64_t mcus = (info.image_width + mcu.width - 1) / mcu.width * ((info.image_height + mcu.height - 1) / mcu.height);
  m.all_there = restarts.size() + 1 == (mcus + info.restart_interval - 1) / info.restart_interval;
  m.in_order = true;
  for (std::size_t i = 0; i < restarts.size() && m.in_order; ++i) m.in_order = at(file, restarts[i] - 1) == 0xD0 + i % 8;
  return m;
}

std::optional<RestartEntry> restart_entry(const jpeg_decompress_struct& info, std::span<const std::byte> file,
                                          std::size_t scan_start, const std::vector<std::size_t>& restarts,
                                          std::uint64_t top) {
  const std::uint64_t interval = info.restart_interval;
  if (interval == 0 || restarts.empty() || info.progressive_mode || info.comps_in_scan != info.num_components ||
      info.image_height == 0 || scan_start > file.size()) {
    return std::nullopt;
  }
  const McuSize mcu = mcu_size(info);
  const std::uint64_t mcu_w = mcu.width, mcu_h = mcu.height, imcu_h = mcu.imcu_height;
  if (mcu_w == 0 || mcu_h == 0) return std::nullopt;
  const std::uint64_t mcus_per_row = (info.image_width + mcu_w - 1) / mcu_w;
  if (top < 2 * imcu_h + mcu_h) return std::nullopt;
  // Interval k starts after the k-th marker only when no marker is lost or extra.
  if (!check_restart_markers(info, file, restarts).all_there) return std::nullopt;
  // The latest MCU row r, two iMCU rows above `top`, where an interval
  // begins (r × MCUs per row a multiple of the interval): interval k, after
  // the k-th marker; the next marker is RST(k mod 8), which the decoder is
  // told to take for RST0.
  for (std::uint64_t r = (top - 2 * imcu_h) / mcu_h; r > 0; --r) {
    if (r * mcus_per_row % interval != 0) continue;
    const std::uint64_t k = r * mcus_per_row / interval;
    if (k > restarts.size()) continue;
    const std::optional<std::size_t> sof = find_sof(file, scan_start);
    if (!sof || *sof + 9 > scan_start) return std::nullopt;
    const std::uint64_t height = (at(file, *sof + 5) << 8) | at(file, *sof + 6);
    if (height != info.image_height || r * mcu_h >= height) return std::nullopt;  // DNL, or no rows left
    RestartEntry e;
    e.rows = static_cast<std::uint32_t>(r * mcu_h);
    e.head = resized_head(file, scan_start, *sof, info.image_width, height - e.rows);
    e.tail = file.subspan(restarts[k - 1]);
    e.first_restart = static_cast<unsigned>(k % 8);
    return e;
  }
  return std::nullopt;
}

}  // namespace imio::libjpeg
