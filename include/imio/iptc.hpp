// imio — IPTC IIM metadata for plugins: the datasets of an IIM block, and
// the IIM block inside Photoshop image resources.
#pragma once

#include <imio/export.hpp>
#include <imio/metadata.hpp>
#include <imio/value.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

namespace imio {

/// The datasets of an IPTC IIM 4.2 block (what Photoshop resource 0x0404
/// and TIFF tag 33723 hold), named as exiftool 12.57 names them
/// ("Keywords" for 2:25, "By-line" for 2:80, "Caption-Abstract" for
/// 2:120, …); datasets of other records, or that exiftool does not name,
/// are keyed "record:dataset" ("2:200"). Values: binary numbers
/// (ApplicationRecordVersion, FileFormat, …) → int; undefined data
/// (RasterizedCaption, ObjectPreviewData) → bytes; the rest → str (UTF-8
/// kept, other bytes read as Latin-1). A repeated dataset → a list of its
/// values in file order. NUL bytes after the last dataset (padding) end
/// the block.
/// @throws DecodeError naming the IPTC block and the reason when a dataset
///   runs past the end or a byte where a dataset starts is not IIM's tag
///   marker 0x1C.
IMIO_EXPORT Metadata read_iptc_tags(std::span<const std::byte> iim);

/// The data of the first Photoshop image resource `id` ("8BIM", id, Pascal
/// name, 32-bit size; Photoshop File Formats, Image Resource Blocks) in
/// `resources`, as a JPEG APP13 "Photoshop 3.0\0" segment holds them
/// (without that prefix); none when absent. 0x0404 is the IPTC IIM block.
/// @throws DecodeError when a resource runs past the end or its signature
///   is not "8BIM" (or Adobe's other "8B64", "AgHg", "DCSR", "PHUT", "MeSa").
IMIO_EXPORT std::optional<Bytes> photoshop_resource(std::span<const std::byte> resources, std::uint16_t id);

}  // namespace imio
