// http(s) through libcurl (spec §2.8, §2.9).
#include <curl/curl.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <functional>
#include <random>
#include <string_view>

#include <fmt/format.h>

#include "http.hpp"
#include "spool.hpp"

namespace imio::detail {
namespace {

namespace fs = std::filesystem;

constexpr long kMaxRedirects = 10;
constexpr int kDownloadAttempts = 3;

void ensure_global_init() {
  // curl_global_init is not thread-safe in every libcurl: once, here.
  static const CURLcode rc = curl_global_init(CURL_GLOBAL_DEFAULT);
  if (rc != CURLE_OK) throw IOError(fmt::format("libcurl cannot start: {}", curl_easy_strerror(rc)));
}

// spec §2.9: whole seconds, ignored unless all digits; imageio's default 5 s.
long timeout_seconds() {
  for (const char* name : {"IMIO_REQUEST_TIMEOUT", "IMAGEIO_REQUEST_TIMEOUT"}) {
    const char* v = std::getenv(name);
    if (v == nullptr) continue;
    const std::string_view s(v);
    if (s.empty() || s.size() > 6 || !std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; })) {
      continue;
    }
    const long t = std::strtol(v, nullptr, 10);
    if (t > 0) return t;
  }
  return 5;
}

// Where one transfer delivers the body. Exceptions thrown by the body writer
// or the progress callback cannot cross libcurl (C): they are kept here,
// the transfer is stopped, and they are rethrown after it.
struct Transfer {
  std::function<void(const void*, std::size_t)> write;
  const DownloadProgress* progress = nullptr;
  std::uint64_t max_bytes = 0;
  std::uint64_t received = 0;
  std::exception_ptr error;
};

std::size_t on_body(char* data, std::size_t size, std::size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const std::size_t n = size * count;
  try {
    if (n > t->max_bytes - t->received) {
      throw LimitError(fmt::format("the body exceeds max_bytes={} (raise it with Limits{{.max_bytes = …}})", t->max_bytes));
    }
    t->write(data, n);
    t->received += n;
    return n;
  } catch (...) {
    t->error = std::current_exception();
    return 0;  // any count but n stops the transfer
  }
}

int on_progress(void* user, curl_off_t total, curl_off_t now, curl_off_t, curl_off_t) {
  auto* t = static_cast<Transfer*>(user);
  try {
    (*t->progress)(static_cast<std::uint64_t>(std::max<curl_off_t>(now, 0)),
                   static_cast<std::uint64_t>(std::max<curl_off_t>(total, 0)));
    return 0;
  } catch (...) {
    t->error = std::current_exception();
    return 1;  // abort
  }
}

struct Outcome {
  CURLcode code = CURLE_OK;
  long status = 0;
  curl_off_t content_length = -1;
  std::string detail;
};

struct Easy {
  Easy() : handle(curl_easy_init()) {
    if (handle == nullptr) throw IOError("libcurl cannot create a transfer");
  }
  ~Easy() { curl_easy_cleanup(handle); }
  Easy(const Easy&) = delete;
  Easy& operator=(const Easy&) = delete;
  CURL* handle;
};

Outcome perform(const std::string& url, Transfer& t) {
  ensure_global_init();
  Easy easy;
  CURL* c = easy.handle;
  char error_buffer[CURL_ERROR_SIZE] = {};
  const long timeout = timeout_seconds();
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, error_buffer);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);  // threads: no SIGALRM for DNS timeouts
  curl_easy_setopt(c, CURLOPT_FAILONERROR, 1L);
  curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt(c, CURLOPT_MAXREDIRS, kMaxRedirects);
  // Only http(s), also after a redirect (no file:// or other schemes).
#if LIBCURL_VERSION_NUM >= 0x075500
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
#else
  curl_easy_setopt(c, CURLOPT_PROTOCOLS, static_cast<long>(CURLPROTO_HTTP | CURLPROTO_HTTPS));
  curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS, static_cast<long>(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
  // The timeout bounds connecting and any stall (imageio's requests
  // timeout), not the whole transfer: a large body on a slow link is fine.
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, timeout);
  curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, timeout);
  curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, static_cast<curl_off_t>(std::min<std::uint64_t>(t.max_bytes, INT64_MAX)));
  curl_easy_setopt(c, CURLOPT_USERAGENT, "imio");
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &t);
  if (t.progress != nullptr && *t.progress) {
    curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(c, CURLOPT_XFERINFODATA, &t);
  }
  Outcome out;
  out.code = curl_easy_perform(c);
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &out.status);
  curl_easy_getinfo(c, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &out.content_length);
  out.detail = error_buffer[0] != '\0' ? error_buffer : curl_easy_strerror(out.code);
  if (t.error) std::rethrow_exception(t.error);
  return out;
}

[[noreturn]] void fail(const Outcome& o, const Transfer& t) {
  switch (o.code) {
    case CURLE_HTTP_RETURNED_ERROR:
      if (o.status == 404 || o.status == 410) {
        throw FileNotFoundError(fmt::format("HTTP status {}: the server has no such file", o.status));
      }
      throw IOError(fmt::format("HTTP status {}", o.status));
    case CURLE_FILESIZE_EXCEEDED:
      throw LimitError(fmt::format("the body of {} bytes exceeds max_bytes={} (raise it with Limits{{.max_bytes = …}})",
                                   o.content_length, t.max_bytes));
    case CURLE_OPERATION_TIMEDOUT:
      throw IOError(fmt::format("timed out after {} s without data (IMIO_REQUEST_TIMEOUT sets the seconds): {}",
                                timeout_seconds(), o.detail));
    case CURLE_PARTIAL_FILE:
      throw IOError(fmt::format("the body is truncated: the connection closed after {} of {} bytes", t.received,
                                o.content_length));
    case CURLE_TOO_MANY_REDIRECTS: throw IOError(fmt::format("more than {} redirects", kMaxRedirects));
    default: throw IOError(o.detail);
  }
}

bool transient(CURLcode code) {
  switch (code) {
    case CURLE_COULDNT_CONNECT:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_PARTIAL_FILE:
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_GOT_NOTHING: return true;
    default: return false;
  }
}

fs::path part_file(const fs::path& dest) {
  thread_local std::mt19937 rng{std::random_device{}()};
  return dest.parent_path() / fmt::format(".{}.{:08x}.part", dest.filename().string(), rng());
}

}  // namespace

bool http_supported() noexcept { return true; }

std::unique_ptr<ByteSource> http_fetch(const std::string& url, std::uint64_t max_bytes) {
  Spool spool(max_bytes);
  Transfer t;
  t.max_bytes = max_bytes;
  t.write = [&spool](const void* data, std::size_t n) { spool.append(data, n); };
  const Outcome o = perform(url, t);
  if (o.code != CURLE_OK) fail(o, t);
  return spool.finish();
}

void http_download(const std::string& url, const fs::path& dest, std::uint64_t max_bytes,
                   const DownloadProgress& progress) {
  std::error_code ec;
  fs::create_directories(dest.parent_path(), ec);
  if (ec) throw IOError(fmt::format("cannot create the folder '{}': {}", dest.parent_path().string(), ec.message()));
  for (int attempt = 1;; ++attempt) {
    const fs::path part = part_file(dest);
    std::FILE* f = std::fopen(part.c_str(), "wbx");
    if (f == nullptr) throw IOError(fmt::format("cannot create '{}': {}", part.string(), std::strerror(errno)));
    Transfer t;
    t.max_bytes = max_bytes;
    t.progress = &progress;
    t.write = [f](const void* data, std::size_t n) {
      if (std::fwrite(data, 1, n, f) != n) throw IOError(fmt::format("cannot write the download: {}", std::strerror(errno)));
    };
    Outcome o;
    try {
      o = perform(url, t);
    } catch (...) {
      std::fclose(f);
      fs::remove(part, ec);
      throw;
    }
    const bool written = std::fclose(f) == 0;
    // Verified by size: everything the server announced arrived, and something did.
    const bool complete = o.content_length < 0 || t.received == static_cast<std::uint64_t>(o.content_length);
    if (o.code == CURLE_OK && written && complete && t.received > 0) {
      fs::rename(part, dest, ec);
      if (!ec) return;
      fs::remove(part, ec);
      throw IOError(fmt::format("cannot move the download to '{}': {}", dest.string(), ec.message()));
    }
    fs::remove(part, ec);
    if (o.code == CURLE_OK) {
      throw IOError(!written ? std::string("cannot write the download (disk full?)")
                             : fmt::format("the download has {} bytes where the server announced {}", t.received,
                                           o.content_length));
    }
    if (attempt < kDownloadAttempts && transient(o.code)) continue;
    fail(o, t);
  }
}

}  // namespace imio::detail
