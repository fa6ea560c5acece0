// What the dicom plugin's sources share (this folder only).
#pragma once

#include <imio/ndarray.hpp>
#include <imio/options.hpp>
#include <imio/value.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace gdcm {
class DataSet;
class FileMetaInformation;
class SequenceOfFragments;
class Tag;
}  // namespace gdcm

namespace imio::dicom {

// Walks the data elements of an uncompressed (not deflated) DICOM stream
// before GDCM parses it, and throws DecodeError for what would make GDCM
// allocate or read past the data, or abort on one of its assertions: a
// value length beyond the end of its data set, item or file, a cut element
// header, an unknown value representation, a sequence without its end,
// nesting deeper than imio reads, pixel-module values GDCM asserts on. A
// deflated data set is inflated (up to max_bytes) to be walked.
//
// Returns the value of the top-level Pixel Data element when it has a
// defined length and lies in `data` as stored, little-endian (not in a
// deflated data set): uncompressed pixels a reader can take from `data`
// without GDCM copying them. Empty otherwise.
std::span<const std::byte> check_structure(std::span<const std::byte> data, std::uint64_t max_bytes);

// The data elements as imio metadata: the keyword of every public element
// (PatientName, PixelSpacing, ...), "(gggg,eeee)" for private and unknown
// ones; numbers as int/float (lists when the value has several), text as
// str (lists for several), sequences as lists of dicts, binary values as
// bytes. The Pixel Data is left out.
Dict to_metadata(const gdcm::FileMetaInformation& header, const gdcm::DataSet& dataset, bool big_endian);

// "(0029,1010)"
std::string tag_text(const gdcm::Tag& tag);

// PALETTE COLOR lookup tables, as pydicom's apply_color_lut reads them.
struct Palette {
  std::vector<std::vector<std::uint16_t>> tables;  // red, green, blue[, alpha]
  std::int64_t first = 0;  // the stored value mapped to entry 0 (lower values too)
  unsigned bits = 16;      // 8 or 16: the output dtype
};

// The palette of the top-level data set (plain tables of 8- or 16-bit
// entries, or segmented ones, PS3.3 C.7.9.2); nullopt without a descriptor;
// DecodeError for tables that are damaged or disagree.
std::optional<Palette> read_palette(const gdcm::DataSet& ds, bool big_endian);

// What a frame of the image is.
struct FrameLayout {
  std::size_t rows = 0, cols = 0, samples = 1, frames = 1;
  DType stored = DType::uint8;
};

// Whether this build has the openjpeg plugin, which decodes the JPEG 2000
// transfer syntaxes (dicom_j2k.cpp says why not GDCM).
bool has_openjpeg();

// Frame k of JPEG 2000 pixel data, decoded by the openjpeg plugin into dst
// (rows × cols × samples of `stored`, interleaved). DecodeError when the
// fragments do not hold one codestream per frame, when a codestream is
// damaged, or when it disagrees with the header.
void decode_j2k_frame(const gdcm::SequenceOfFragments& fragments, std::size_t k, const FrameLayout& frame,
                      std::byte* dst, const Limits& limits);

// A little-endian 32-bit value.
std::uint32_t le32(const unsigned char* p);

// The header of an RLE frame of `n` bytes (PS3.5 G.5) against the image's
// samples: DecodeError unless it is 64 bytes, counts samples ×
// bytes_per_sample segments (at most 15), the first at byte 64 and each at
// or after the one before, inside the frame.
void check_rle_header(const unsigned char* p, std::size_t n, std::size_t samples, std::size_t bytes_per_sample);

// Frame k of RLE Lossless pixel data (PS3.5 Annex G) from its fragment,
// decoded into dst (rows × cols × samples of `stored`, interleaved, native
// byte order). DecodeError when the fragment's header disagrees with the
// frame or a segment holds fewer bytes than the frame needs; bytes a
// segment holds past them (non-conformant padding) are ignored, as by
// pydicom.
void decode_rle_frame(std::span<const std::byte> fragment, std::size_t k, const FrameLayout& frame, std::byte* dst);

}  // namespace imio::dicom
