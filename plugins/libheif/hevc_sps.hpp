// The HEVC sequence parameter sets of a HEIF file's `hvcC` boxes, checked
// before libde265 parses them: libde265 1.0.11 prints "SPS error: …" on
// stderr with fprintf (no API silences it) when an SPS breaks the
// constraints of its compute_derived_values, and then refuses the stream.
// The plugin refuses such an SPS itself, with the same outcome and no print.
#pragma once

#include <cstddef>
#include <span>

namespace imio::heif {

/// Checks every SPS NAL unit (type 33) of an `hvcC` box body
/// (HEVCDecoderConfigurationRecord, ISO/IEC 14496-15 §8.3.3). Throws
/// DecodeError for a record or SPS cut short, or an SPS whose picture size,
/// coding/transform block sizes, transform hierarchy depths or bit depths
/// break H.265 §7.4.3.2.1.
void check_hevc_config(std::span<const std::byte> hvcc);

}  // namespace imio::heif
