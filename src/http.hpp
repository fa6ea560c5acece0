// http(s) resources (spec §2.9) and standard-image downloads (§2.8).
// Implemented with libcurl (http_curl.cpp) or, without it, by http_none.cpp,
// whose functions throw an IOError saying this build cannot do it.
#pragma once

#include <imio/plugin.hpp>
#include <imio/standard_images.hpp>

#include <filesystem>
#include <memory>
#include <string>

namespace imio::detail {

/// False in a build without libcurl.
bool http_supported() noexcept;

/// Fetches the body of `url` (redirects followed, timeouts of
/// IMIO_REQUEST_TIMEOUT / IMAGEIO_REQUEST_TIMEOUT seconds, default 5) into a
/// seekable source: memory, or a temporary file beyond Spool's threshold.
/// HTTP errors → IOError with the status (404 and 410 FileNotFoundError);
/// a body beyond `max_bytes` → LimitError; truncated bodies and timeouts →
/// IOError.
std::unique_ptr<ByteSource> http_fetch(const std::string& url, std::uint64_t max_bytes);

/// Downloads `url` into `dest`: written to a temporary sibling, checked
/// against the announced size, then renamed; a failure (or a progress
/// callback that throws) leaves no file behind. Transient network failures
/// are retried (3 attempts in all).
void http_download(const std::string& url, const std::filesystem::path& dest, std::uint64_t max_bytes,
                   const DownloadProgress& progress);

}  // namespace imio::detail
