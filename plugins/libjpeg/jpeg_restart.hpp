// Entering a baseline scan in the middle, at a restart marker (ITU T.81
// §B.2.5 DRI, §F.1.2.3: after RSTn the DC predictions start again from 0,
// and the coded data are byte-aligned), so that a `crop` below the top of
// the image does not entropy-decode every row above it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "jpeg_backend.hpp"

namespace imio::libjpeg {

/// The MCU of a frame's only scan in image pixels (T.81 §A.2): one block of
/// the component when the scan holds one, else the largest sampling
/// factors × 8; and the height of libjpeg's iMCU row (a row group of every
/// component). Zero sizes when the header gives no sampling factors.
struct McuSize {
  std::uint64_t width = 0, height = 0;
  std::uint64_t imcu_height = 0;
};
McuSize mcu_size(const jpeg_decompress_struct& info);

/// The offset in `file` of the frame's SOF marker (its 0xFF), searched
/// among the marker segments before `end`; nullopt when a SOS or a broken
/// segment comes first.
std::optional<std::size_t> find_sof(std::span<const std::byte> file, std::size_t end);

/// The offset of the frame's SOF marker when the frame is sequential and
/// Huffman-coded (SOF0, SOF1) and its stored size is the one libjpeg read in
/// `info` (not a height of 0 that a DNL marker gives, T.81 §B.2.5); else
/// nullopt. `scan_start`: the offset just after the SOS segment.
std::optional<std::size_t> sequential_huffman_sof(const jpeg_decompress_struct& info, std::span<const std::byte> file,
                                                  std::size_t scan_start);

/// The markers of `file` up to `scan_start` with the SOF at `sof` saying
/// `width` × `height`: the head of a stream holding part of the image.
std::vector<unsigned char> resized_head(std::span<const std::byte> file, std::size_t scan_start, std::size_t sof,
                                        std::uint64_t width, std::uint64_t height);

/// The offsets in `file` just after each RSTn marker of the scan whose
/// entropy-coded data start at `scan_start`, in order; the walk ends at the
/// first other marker (T.81 §B.1.1.5: stuffed zeros and fill bytes are data).
std::vector<std::size_t> restart_offsets(std::span<const std::byte> file, std::size_t scan_start);

/// What the scan's RST markers (`restarts`, its restart_offsets) say of
/// the restart intervals (T.81 §B.2.1).
struct RestartMarkers {
  /// One fewer than the intervals the frame holds: the k-th marker starts
  /// interval k, whatever damage the data between them hold (libjpeg stops
  /// at each marker and starts the next interval afresh).
  bool all_there = false;
  /// Numbered RST0…RST7 in turn. A marker lost, extra or with another
  /// number is resynchronised by libjpeg's own rules (jdmarker.c's
  /// jpeg_resync_to_restart), which a decoder entered in the middle or
  /// skipping rows does not reproduce.
  bool in_order = false;
};
RestartMarkers check_restart_markers(const jpeg_decompress_struct& info, std::span<const std::byte> file,
                                     const std::vector<std::size_t>& restarts);

/// A stream that starts at a restart marker: the file's markers up to the
/// scan's data with the frame height reduced by `rows`, then the coded data
/// of the restart interval that begins on MCU row `rows / MCU height`.
struct RestartEntry {
  std::vector<unsigned char> head;
  std::span<const std::byte> tail;
  std::uint32_t rows = 0;  ///< full-size image rows left out above the entry
  /// The number (0–7) of the first RST marker in `tail`: the decoder expects
  /// RST0 there and must accept the file's numbers shifted by this.
  unsigned first_restart = 0;
};

/// The entry closest above full-size row `top` that leaves at least two
/// iMCU rows before it (fancy upsampling looks one row group up; libjpeg
/// skips the rest exactly), or nullopt when the file cannot be entered there:
/// no restart interval, a progressive or non-interleaved multi-scan file,
/// no interval starting on an MCU row early enough, markers missing or extra
/// (RestartMarkers::all_there), or a frame height given by DNL. `info` is
/// the header of `file` as jpeg_read_header left it; `restarts` its
/// restart_offsets.
std::optional<RestartEntry> restart_entry(const jpeg_decompress_struct& info, std::span<const std::byte> file,
                                          std::size_t scan_start, const std::vector<std::size_t>& restarts,
                                          std::uint64_t top);

}  // namespace imio::libjpeg
