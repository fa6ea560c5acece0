// http(s) in a build without libcurl (IMIO_WITH_HTTP=OFF or not found):
// URLs are recognised and refused with a message that says so.
#include "http.hpp"

namespace imio::detail {

bool http_supported() noexcept { return false; }

std::unique_ptr<ByteSource> http_fetch(const std::string&, std::uint64_t) {
  throw IOError("reading http(s) URLs needs imio built with HTTP support (libcurl: IMIO_WITH_HTTP), which this build lacks");
}

void http_download(const std::string&, const std::filesystem::path&, std::uint64_t, const DownloadProgress&) {
  throw IOError("this imio cannot download (built without HTTP support: IMIO_WITH_HTTP)");
}

}  // namespace imio::detail
