#include "image_file_state.hpp"

#include <imio/error_context.hpp>

#include <utility>

#include <fmt/format.h>

#include "core_access.hpp"
#include "request_impl.hpp"

namespace imio {
namespace {

// The core rejects negative indices for every plugin (DECISIONS D9).
void check_index(const Index& index) {
  if (index.is_integer() && index.value() < 0) {
    throw IndexError(fmt::format("index {} is negative; imio supports indices from 0 and imio::all", index.value()));
  }
}

}  // namespace

ImageFile::ImageFile(State* state) noexcept : state_(state) {}
ImageFile::ImageFile(ImageFile&& other) noexcept : state_(std::exchange(other.state_, nullptr)) {}

ImageFile& ImageFile::operator=(ImageFile&& other) noexcept {
  if (this != &other) {
    ImageFile previous(std::move(*this));  // closed by its destructor
    state_ = std::exchange(other.state_, nullptr);
  }
  return *this;
}

ImageFile::~ImageFile() {
  if (state_ != nullptr && !state_->closed) finish_on_destruction();
  delete state_;
}

void ImageFile::finish_on_destruction() noexcept {
  if (std::uncaught_exceptions() > state_->uncaught_at_open) {
    // Dying while an exception unwinds: a write stays incomplete, so discard it.
    state_->closed = true;
    state_->plugin.reset();
    detail::CoreAccess::impl(*state_->request).abort();
    return;
  }
  try {
    close();
  } catch (...) {
    // A destructor never throws; close() reports errors to those who call it.
  }
}

ImageFile::State& ImageFile::open_state(const char* operation) const {
  if (!state_ || state_->closed) {
    throw IOError(fmt::format("cannot {}: the ImageFile is closed", operation));
  }
  return *state_;
}

// Reading from a handle opened with "w", or writing to one opened with "r".
ImageFile::State& ImageFile::open_state(const char* operation, IoMode needed) const {
  State& s = open_state(operation);
  if (s.request->mode() != needed) {
    throw IOError(fmt::format("cannot {}: the ImageFile is open for {}", operation,
                              needed == IoMode::read ? "writing" : "reading"));
  }
  return s;
}

NDArray ImageFile::read(const ReadCall& call) {
  State& s = open_state("read", IoMode::read);
  return with_error_context(s.plugin_name, "read", s.request->describe(), [&] {
    check_index(call.index);
    return s.plugin->read(call.index, call.kwargs);
  });
}

ImageProperties ImageFile::properties(const PropCall& call) {
  State& s = open_state("read properties", IoMode::read);
  return with_error_context(s.plugin_name, "read properties of", s.request->describe(), [&] {
    check_index(call.index);
    return s.plugin->properties(call.index, call.kwargs);
  });
}

Metadata ImageFile::metadata(const MetaCall& call) {
  State& s = open_state("read metadata", IoMode::read);
  return with_error_context(s.plugin_name, "read metadata of", s.request->describe(), [&] {
    check_index(call.index);
    return s.plugin->metadata(call.index, call.exclude_applied, call.kwargs);
  });
}

void ImageFile::write(const NDArray& image, const WriteCall& call) {
  State& s = open_state("write", IoMode::write);
  with_error_context(s.plugin_name, "write", s.request->describe(), [&] {
    if (image.empty() && image.ndim() == 0) throw ArgumentError("cannot write an empty NDArray");
    s.plugin->write(image, call.kwargs);
  });
}

void ImageFile::write(std::span<const NDArray> images, const WriteCall& call) {
  State& s = open_state("write", IoMode::write);
  with_error_context(s.plugin_name, "write", s.request->describe(), [&] {
    if (images.empty()) throw ArgumentError("cannot write an empty list of images");
    s.request->check_frames(images.size());
    s.plugin->write(images, call.kwargs);
  });
}

FrameRange ImageFile::iter(const IterCall& call) {
  open_state("iterate", IoMode::read);
  auto source = std::make_unique<FrameRange::Source>();
  source->file = this;
  source->kwargs = call.kwargs;
  return FrameRange(source.release());
}

std::optional<Bytes> ImageFile::close() {
  if (!state_ || state_->closed) return std::nullopt;
  State& s = *state_;
  s.closed = true;
  try {
    return with_error_context(s.plugin_name, s.request->mode() == IoMode::write ? "write" : "close",
                           s.request->describe(), [&] {
                             s.plugin->close();
                             s.plugin.reset();  // release the backend's handles before the file moves into place
                             return detail::CoreAccess::impl(*s.request).commit();
                           });
  } catch (...) {
    s.plugin.reset();
    detail::CoreAccess::impl(*s.request).abort();
    throw;
  }
}

IoMode ImageFile::mode() const { return open_state("get the mode").request->mode(); }

bool ImageFile::closed() const noexcept { return !state_ || state_->closed; }

const std::string& ImageFile::plugin_name() const { return open_state("get the plugin").plugin_name; }

Plugin& ImageFile::plugin() { return *open_state("get the plugin").plugin; }

std::string ImageFile::describe() const { return state_ ? state_->request->describe() : std::string("<moved-from>"); }

void ImageFile::throw_wrong_plugin(const char* wanted) const {
  throw ArgumentError(fmt::format("the resource is served by plugin '{}', not by the requested type {}",
                                  state_ ? state_->plugin_name : std::string("?"), wanted));
}

// ---------------------------------------------------------------- FrameRange

FrameRange::FrameRange(Source* source) noexcept : source_(source) {}
FrameRange::FrameRange(FrameRange&& other) noexcept : source_(std::exchange(other.source_, nullptr)) {}

FrameRange& FrameRange::operator=(FrameRange&& other) noexcept {
  if (this != &other) {
    delete source_;
    source_ = std::exchange(other.source_, nullptr);
  }
  return *this;
}

FrameRange::~FrameRange() { delete source_; }

FrameRange::iterator FrameRange::begin() {
  Source& src = *source_;
  if (!src.started) {
    src.started = true;
    if (src.open) {
      src.owned.emplace(src.open());
      src.file = &*src.owned;
    }
    ImageFile::State& s = src.file->open_state("iterate", IoMode::read);
    src.frames = with_error_context(s.plugin_name, "iterate", s.request->describe(),
                                 [&] { return s.plugin->iter(src.kwargs); });
    if (!advance()) return {};
  }
  return iterator(src.done ? nullptr : this);
}

bool FrameRange::advance() {
  Source& src = *source_;
  if (src.done) return false;
  ImageFile::State& s = src.file->open_state("iterate");
  std::optional<NDArray> next;
  try {
    next = with_error_context(s.plugin_name, "read", s.request->describe(), [&] { return src.frames->next(); });
  } catch (...) {
    src.done = true;
    throw;
  }
  if (!next) {
    src.done = true;
    src.frames.reset();
    src.current = NDArray();
    if (src.owned) src.owned->close();  // release the resource as soon as the range is exhausted
    return false;
  }
  src.current = std::move(*next);
  return true;
}

NDArray& FrameRange::current() noexcept { return source_->current; }

}  // namespace imio
