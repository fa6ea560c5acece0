// Classification of what the caller named (spec §2.1) and extension
// derivation (spec §2.10).
#pragma once

#include <imio/plugin.hpp>

#include <filesystem>
#include <optional>
#include <string>

namespace imio::detail {

enum class UriKind : std::uint8_t {
  path,            ///< a filesystem path (also file://, ~/…)
  zip_member,      ///< archive.zip/member
  standard_image,  ///< imageio:NAME
  http,            ///< http:// or https://
  ftp,             ///< ftp:// or ftps://
  device,          ///< <video0>, <screen>, <clipboard>
  bytes_target,    ///< "<bytes>" in write mode
  memory,          ///< encoded data in memory
  istream,
  ostream,
};

struct ClassifiedUri {
  UriKind kind = UriKind::path;
  /// path: absolute path; zip_member: absolute archive path.
  std::filesystem::path path;
  /// zip_member: the member inside the archive.
  std::string member;
  /// standard_image: the lower-cased name; http/ftp/device/bytes_target: the text.
  std::string text;
};

/// Classifies `resource` for `mode` (the rules of spec §2.1; no file system
/// checks beyond what the zip rule needs).
ClassifiedUri classify(const ImageResource& resource, IoMode mode);

/// What ImageResource::describe() says, from `resource` classified as `uri`
/// (for callers that have classified it already).
std::string describe(const ImageResource& resource, const ClassifiedUri& uri);

/// The extension a request uses: `explicit_extension` (must start with '.',
/// else ArgumentError; lower-cased, DECISIONS D2) or the lower-cased last
/// suffix of the file name or URL path; empty when there is none.
std::string request_extension(const ClassifiedUri& uri, std::string_view explicit_extension);

/// The lower-cased last suffix of a file name ("x.PNG" → ".png", ".hidden" → "").
std::string suffix_of(std::string_view file_name);
std::string to_lower(std::string_view s);

}  // namespace imio::detail
