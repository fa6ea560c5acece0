#include <imio/plugin.hpp>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <random>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "core_access.hpp"
#include "gradual_memory.hpp"
#include "http.hpp"
#include "request_impl.hpp"
#include "standard_images.hpp"
#include "zip_member.hpp"

namespace imio {

namespace fs = std::filesystem;
using detail::UriKind;

namespace {

std::string original_text(const ImageResource& r) {
  return r.kind() == ImageResource::Kind::path ? r.path() : r.text();
}

// spec §2.8: imageio:NAME and imageio:ARCHIVE.zip/MEMBER resolve to local files.
detail::ClassifiedUri resolve_standard_image(const std::string& name, IoMode mode) {
  if (mode == IoMode::write) throw IOError("standard images (imageio:NAME) are read-only");
  const auto zip = name.find(".zip/");
  if (zip != std::string::npos) {
    const fs::path archive = detail::find_standard_image(name.substr(0, zip + 4));
    return detail::classify(ImageResource(archive / name.substr(zip + 5)), mode);
  }
  return {.kind = UriKind::path, .path = detail::find_standard_image(name), .member = {}, .text = {}};
}

// The file at `path`, opened for reading; what is wrong with it as the
// errors spec §1.8 names. Opened here rather than stat-ed and opened later:
// one system call less on every read from a path.
std::unique_ptr<ByteSource> open_readable_path(const fs::path& path, const ImageResource& given) {
  try {
    return detail::file_source(path);
  } catch (const FileNotFoundError&) {
    // spec §1.8 E2: a missing relative name that is a standard image's name
    const std::string text = original_text(given);
    if (text.find_first_of("/\\") == std::string::npos && detail::is_standard_image(text)) {
      throw FileNotFoundError(fmt::format("no such file; it looks like a standard image: use \"imageio:{}\"", text));
    }
    throw FileNotFoundError("no such file");
  }
}

void check_writable_path(const fs::path& path) {
  std::error_code ec;
  const fs::path parent = path.parent_path();
  if (!parent.empty() && !fs::is_directory(parent, ec)) {
    throw FileNotFoundError(fmt::format("the folder '{}' does not exist", parent.string()));
  }
  if (fs::is_directory(path, ec)) throw IOError("is a directory");
}

}  // namespace

// ---------------------------------------------------------------- Impl

Request::Impl::Impl(const ImageResource& resource_, IoMode mode_, std::string_view explicit_extension,
                    const Limits& limits_)
    : resource(resource_), mode(mode_), uri(detail::classify(resource_, mode_)), limits(effective_limits(limits_)) {
  // The extension comes from the name as given (imageio:chelsea.png → .png).
  extension = detail::request_extension(uri, explicit_extension);
  description = detail::describe(resource, uri);
  const bool reading = mode == IoMode::read;
  switch (uri.kind) {
    case UriKind::standard_image:
      uri = resolve_standard_image(uri.text, mode);
      description = uri.kind == UriKind::path ? uri.path.string() : (uri.path / uri.member).string();
      if (uri.kind == UriKind::path) source_ = open_readable_path(uri.path, resource);
      break;
    case UriKind::path:
      if (reading) {
        source_ = open_readable_path(uri.path, resource);
      } else {
        check_writable_path(uri.path);
      }
      break;
    case UriKind::zip_member: break;
    case UriKind::http:
      if (!reading) throw IOError("http(s) URLs are read-only: imio does not upload");
      break;
    case UriKind::ftp: throw IOError("ftp(s) resources are not supported");
    case UriKind::device:
      if (!reading) throw IOError(fmt::format("'{}' is a read-only device", uri.text));
      throw IOError(fmt::format("'{}' is a device (webcam, screen, clipboard); imio has no plugin that reads devices", uri.text));
    case UriKind::bytes_target: description = "<bytes>"; break;
    case UriKind::memory:
      if (!reading) throw IOError("encoded bytes in memory are read-only; write to \"<bytes>\" to get the encoded bytes");
      break;
    case UriKind::istream:
      if (!reading) throw IOError("an input stream cannot be written to");
      break;
    case UriKind::ostream:
      if (reading) throw IOError("an output stream cannot be read from");
      break;
  }
  if (uri.kind == UriKind::zip_member) {
    // Also after imageio:chelsea.zip/chelsea.png resolved to a zip member.
    description = (uri.path / uri.member).string();
    if (reading) {
      // Missing members fail here, before any plugin is tried (spec E19).
      source_ = detail::zip_member_source(uri.path, uri.member, limits.max_bytes);
    } else {
      check_writable_path(uri.path);
      detail::zip_check_writable(uri.path, uri.member);
    }
  }
}

Request::Impl::~Impl() { remove_temporary(); }

ByteSource& Request::Impl::source() {
  if (source_) return *source_;
  if (mode != IoMode::read) throw IOError("a write request has no source");
  switch (uri.kind) {
    case UriKind::path: source_ = detail::file_source(uri.path); break;
    case UriKind::memory: source_ = detail::memory_source(resource.memory()); break;
    case UriKind::istream: source_ = detail::stream_source(*resource.istream(), limits.max_bytes); break;
    case UriKind::http: source_ = detail::http_fetch(uri.text, limits.max_bytes); break;
    default: throw IOError("the resource cannot be read");
  }
  return *source_;
}

fs::path Request::Impl::temporary_path() {
  if (!temp_) {
    static std::atomic<unsigned> counter{0};
    thread_local std::mt19937 rng{std::random_device{}()};
    const std::string name = fmt::format(".{}.imio-{:08x}{:x}{}", uri.path.filename().string(), rng(), counter++,
                                         extension.empty() ? ".tmp" : extension);
    temp_ = uri.path.parent_path() / name;
  }
  return *temp_;
}

ByteSink& Request::Impl::sink() {
  if (mode != IoMode::write) throw IOError("a read request has no sink");
  switch (uri.kind) {
    case UriKind::bytes_target:
      if (!memory_sink_) memory_sink_ = std::make_unique<detail::MemorySink>(limits.max_bytes);
      return *memory_sink_;
    case UriKind::ostream:
      if (!stream_sink_) stream_sink_ = std::make_unique<detail::OStreamSink>(*resource.ostream());
      return *stream_sink_;
    case UriKind::path:
    case UriKind::zip_member: break;  // a temporary sibling (of the archive)
    default: throw IOError("the resource cannot be written");
  }
  if (file_sink_) return *file_sink_;
  // The temporary sibling: same folder (so the final rename is atomic), new
  // file (O_EXCL), the permissions the target has or a new file would get.
  for (int attempt = 0;; ++attempt) {
    const fs::path tmp = temporary_path();
    const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd < 0 && errno == EEXIST && attempt < 8) {
      temp_.reset();
      continue;
    }
    if (fd < 0) throw IOError(fmt::format("cannot create '{}': {}", tmp.string(), std::strerror(errno)));
    struct stat st {};
    if (::stat(uri.path.c_str(), &st) == 0) ::fchmod(fd, st.st_mode & 07777);
    std::FILE* f = ::fdopen(fd, "wb");
    if (f == nullptr) {
      ::close(fd);
      remove_temporary();
      throw IOError(fmt::format("cannot open '{}': {}", tmp.string(), std::strerror(errno)));
    }
    file_sink_ = std::make_unique<detail::FileSink>(f, tmp);
    return *file_sink_;
  }
}

std::optional<fs::path> Request::Impl::local_path() {
  if (mode == IoMode::read) return uri.kind == UriKind::path ? std::optional<fs::path>(uri.path) : std::nullopt;
  if (uri.kind != UriKind::path && uri.kind != UriKind::zip_member) return std::nullopt;
  if (file_sink_) throw IOError("local_path() after sink(): a plugin writes through one or the other");
  return temporary_path();
}

void Request::Impl::remove_temporary() noexcept {
  file_sink_.reset();
  if (temp_) {
    std::error_code ec;
    fs::remove(*temp_, ec);
    temp_.reset();
  }
}

void Request::Impl::rewind() {
  if (source_) source_->seek(0);
  if (mode == IoMode::write) {
    memory_sink_.reset();
    remove_temporary();
    if (stream_sink_ && stream_sink_->tell() != 0) stream_sink_->seek(0);
  }
}

std::optional<Bytes> Request::Impl::commit() {
  switch (uri.kind) {
    case UriKind::bytes_target: return memory_sink_ ? memory_sink_->take() : Bytes{};
    case UriKind::ostream:
      if (stream_sink_) stream_sink_->finish();
      return std::nullopt;
    case UriKind::path:
    case UriKind::zip_member: break;
    default: return std::nullopt;
  }
  if (file_sink_) {
    file_sink_->finish();
    file_sink_.reset();
  }
  std::error_code ec;
  if (uri.kind == UriKind::zip_member) {
    if (temp_ && fs::exists(*temp_, ec)) {
      detail::zip_put_member(uri.path, uri.member, *temp_);
      remove_temporary();
    }
    return std::nullopt;
  }
  if (temp_ && fs::exists(*temp_, ec)) {
    fs::rename(*temp_, uri.path, ec);
    if (ec) throw IOError(fmt::format("cannot move the written file into place: {}", ec.message()));
    temp_.reset();
  }
  return std::nullopt;
}

void Request::Impl::abort() noexcept {
  memory_sink_.reset();
  stream_sink_.reset();
  remove_temporary();
}

// ---------------------------------------------------------------- Request

Request::Request(std::unique_ptr<Impl> impl) noexcept : impl_(std::move(impl)) {}

std::unique_ptr<Request> detail::CoreAccess::request(std::unique_ptr<Request::Impl> impl) {
  return std::unique_ptr<Request>(new Request(std::move(impl)));
}

Request::Request(Request&&) noexcept = default;
Request& Request::operator=(Request&&) noexcept = default;
Request::~Request() = default;

const ImageResource& Request::resource() const noexcept { return impl_->resource; }
IoMode Request::mode() const noexcept { return impl_->mode; }
const std::string& Request::extension() const noexcept { return impl_->extension; }
const std::string& Request::describe() const noexcept { return impl_->description; }
const std::string& Request::requested_plugin() const noexcept { return impl_->requested_plugin; }
const std::string& Request::url() const noexcept {
  static const std::string none;
  return impl_->uri.kind == UriKind::http ? impl_->uri.text : none;
}
ByteSource& Request::source() { return impl_->source(); }
ByteSink& Request::sink() { return impl_->sink(); }
std::optional<fs::path> Request::local_path() { return impl_->local_path(); }
const Limits& Request::limits() const noexcept { return impl_->limits; }

std::span<const std::byte> Request::first_bytes(std::size_t n) {
  ByteSource& src = source();
  if (auto all = src.contiguous()) return all->first(std::min(n, all->size()));
  Bytes& cache = impl_->first_bytes_;
  if (cache.size() < n) {
    const std::uint64_t here = src.tell();
    cache.resize(n);
    src.seek(0);
    cache.resize(src.read(cache.data(), n));
    src.seek(here);
  }
  return std::span<const std::byte>(cache).first(std::min(n, cache.size()));
}

void Request::check_pixels(std::uint64_t width, std::uint64_t height, std::uint64_t planes) const {
  auto px = checked_mul(width, height);
  if (px) px = checked_mul(*px, planes);
  const std::uint64_t max = impl_->limits.max_pixels;
  if (!px || *px > max) {
    throw LimitError(fmt::format("an image of {} x {}{} pixels exceeds max_pixels={} (raise it with "
                                 "Limits{{.max_pixels = …}} or imio::set_default_limits)",
                                 width, height, planes > 1 ? fmt::format(" x {}", planes) : std::string(), max));
  }
}

void Request::check_frames(std::uint64_t n) const {
  const std::uint64_t max = impl_->limits.max_frames;
  if (n > max) {
    throw LimitError(fmt::format("{} images exceed max_frames={} (raise it with Limits{{.max_frames = …}} or "
                                 "imio::set_default_limits; imiter reads one image at a time)",
                                 n, max));
  }
}

void Request::check_bytes(std::uint64_t n) const {
  const std::uint64_t max = impl_->limits.max_bytes;
  if (n > max) {
    throw LimitError(fmt::format("{} bytes exceed max_bytes={} (raise it with Limits{{.max_bytes = …}} or "
                                 "imio::set_default_limits)",
                                 n, max));
  }
}

std::uint64_t Request::check_array(const Shape& shape, DType dtype) const {
  const auto n = checked_nbytes(shape, dtype);
  // An overflowing product exceeds any max_bytes, UINT64_MAX included.
  if (!n) {
    throw LimitError(fmt::format("an array of shape ({}) and dtype {} has more than 2**64 bytes", fmt::join(shape, ", "), name(dtype)));
  }
  check_bytes(*n);
  return *n;
}

std::optional<NDArray> Request::Impl::borrow_target(const Shape& shape, DType dtype) {
  if (target == nullptr || target->row_stride || dtype != target->dtype || shape != target->shape ||
      target->taken.exchange(true)) {
    return std::nullopt;
  }
  // Decoding into the caller's memory (imread_into): the array borrows it
  // and frees nothing when it dies.
  return NDArray::adopt(target->data, shape, dtype, [](void*) noexcept {});
}

std::optional<RowTarget> Request::Impl::borrow_rows(const Shape& shape, DType dtype) {
  if (target == nullptr || !target->row_stride || dtype != target->dtype || shape != target->shape ||
      shape.empty() || target->taken.exchange(true)) {
    return std::nullopt;
  }
  const std::size_t rows = shape[0];
  const std::size_t row_bytes = rows == 0 ? 0 : static_cast<std::size_t>(*checked_nbytes(shape, dtype)) / rows;
  return RowTarget(target->data, *target->row_stride, rows, row_bytes);
}

std::optional<RowTarget> Request::row_target(const Shape& shape, DType dtype) const {
  check_array(shape, dtype);
  return impl_->borrow_rows(shape, dtype);
}

NDArray Request::rows_written(const RowTarget& rows) const {
  const auto* t = impl_->target;
  if (t == nullptr || !t->row_stride || rows.first_row() != t->data || rows.stride() != *t->row_stride) {
    throw Error("rows_written() of rows that are not this call's row_target() (a plugin defect: please report it)");
  }
  impl_->target->rows_written = true;
  // A stand-in the core recognises by its address; its memory is never
  // read (the rows may run backwards or have gaps).
  return NDArray::adopt(t->data, t->shape, t->dtype, [](void*) noexcept {});
}

NDArray Request::allocate(const Shape& shape, DType dtype, bool zeroed) const {
  const std::uint64_t n = check_array(shape, dtype);
  if (std::optional<NDArray> borrowed = impl_->borrow_target(shape, dtype)) {
    if (zeroed) std::memset(borrowed->bytes(), 0, static_cast<std::size_t>(n));
    return std::move(*borrowed);
  }
  return zeroed ? NDArray(shape, dtype) : NDArray::uninitialized(shape, dtype);
}

// Only a contiguous target: under a row-padded one, a plugin that cannot
// write rows allocates its result anyway, so saving working memory (libpng's
// windowed inflate) would only make the read slower.
bool Request::fills_caller_memory() const noexcept { return impl_->target != nullptr && !impl_->target->row_stride; }

NDArray Request::allocate_gradually(const Shape& shape, DType dtype) const {
  const std::uint64_t n = check_array(shape, dtype);
  if (std::optional<NDArray> borrowed = impl_->borrow_target(shape, dtype)) return std::move(*borrowed);
  return detail::small_page_array(shape, dtype, static_cast<std::size_t>(n));
}

void Request::prefault(std::byte* data, std::size_t n) noexcept { detail::prefault_pages(data, n); }

}  // namespace imio
