// Request::Impl: the resolved resource of one call, its lazily opened source
// or sink, and the atomic-write bookkeeping.
#pragma once

#include <imio/plugin.hpp>

#include <atomic>
#include <filesystem>
#include <memory>
#include <optional>

#include "byte_io.hpp"
#include "uri.hpp"

namespace imio {

struct Request::Impl {
  /// Resolves and validates `resource` for `mode` (spec §2): missing files,
  /// missing parent folders, read-only targets, unknown standard images,
  /// bad extensions all throw here.
  Impl(const ImageResource& resource, IoMode mode, std::string_view explicit_extension, const Limits& limits);
  ~Impl();

  /// Puts the resource back to its first byte for the next candidate plugin
  /// (DECISIONS D3), and discards anything a refusing writer produced.
  void rewind();
  /// Completes a write: the temporary sibling is renamed over the target,
  /// a stream is flushed; returns the encoded bytes for "<bytes>".
  std::optional<Bytes> commit();
  /// Discards a write: the temporary sibling is removed. Never throws.
  void abort() noexcept;

  ByteSource& source();
  /// True for a URL whose body has not been fetched yet: selection then
  /// leaves signature tests to the fallback phase, so that a plugin chosen
  /// by extension (FFmpeg for .mp4) may open the URL itself.
  bool body_pending() const noexcept { return uri.kind == detail::UriKind::http && !source_; }
  ByteSink& sink();
  std::optional<std::filesystem::path> local_path();

  /// The caller's memory of one read_into call (see OutputTarget).
  struct OutputTarget {
    std::byte* data = nullptr;
    Shape shape;
    DType dtype = DType::uint8;
    /// Bytes between rows (items of the first axis) when the target is
    /// row-padded (row_target() hands it out); nullopt when it is one
    /// contiguous block (allocate() does).
    std::optional<std::ptrdiff_t> row_stride = std::nullopt;
    /// Set by rows_written(): the plugin filled every row in place.
    std::atomic<bool> rows_written{false};
    /// Handed to an allocate() already: a second array of the same shape
    /// (a plugin's scratch and its result) must not share the memory.
    /// Atomic because a plugin may allocate from its own worker threads.
    std::atomic<bool> taken{false};
  };

  ImageResource resource;
  IoMode mode;
  /// Set by read_into for the duration of one Plugin::read: allocate() of
  /// exactly this shape and dtype returns the caller's memory (once).
  OutputTarget* target = nullptr;
  /// The caller's memory when `target` is set, of exactly `shape` and
  /// `dtype`, and not yet handed out; else nullopt.
  std::optional<NDArray> borrow_target(const Shape& shape, DType dtype);
  /// The caller's rows when `target` is row-padded, of exactly `shape` and
  /// `dtype`, and not yet handed out; else nullopt.
  std::optional<RowTarget> borrow_rows(const Shape& shape, DType dtype);
  detail::ClassifiedUri uri;
  std::string extension;
  std::string description;
  std::string requested_plugin;
  Limits limits;

 private:
  std::filesystem::path temporary_path();
  void remove_temporary() noexcept;

  std::unique_ptr<ByteSource> source_;
  Bytes first_bytes_;
  friend class Request;

  // write state
  std::unique_ptr<detail::MemorySink> memory_sink_;
  std::unique_ptr<detail::FileSink> file_sink_;
  std::unique_ptr<detail::OStreamSink> stream_sink_;
  std::optional<std::filesystem::path> temp_;
};

}  // namespace imio
