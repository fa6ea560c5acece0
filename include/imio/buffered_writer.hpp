// imio — a writer whose write calls all go into one file, encoded at close
// (spec §5.1.6 "Buffering": imageio's pillow plugin gathers the frames of
// every write call and saves them when the file is closed).
#pragma once

#include <imio/plugin.hpp>

#include <span>

namespace imio {

/// The Plugin of such a writer. `Pending` gathers the calls and encodes the
/// file:
///
///     void add(std::span<const NDArray> images, bool from_list, const Kwargs& kwargs, const Request& request);
///     void flush(Request& request);   // at close: encode and write the file
///
/// A single array arrives with `from_list` false (it may hold a batch of
/// frames: pillow_write_is_batch), a list with `from_list` true; an empty
/// list is an ArgumentError.
template <class Pending>
class BufferedWriter final : public Plugin {
 public:
  /// A writer for `request` (opened in "w" mode); nothing is written before close().
  explicit BufferedWriter(Request& request) : request_(request) {}

  /// Gathers one array (an image, or a batch the format's rule accepts).
  void write(const NDArray& image, const Kwargs& kwargs) override {
    pending_.add(std::span<const NDArray>(&image, 1), false, kwargs, request_);
  }
  /// Gathers a list of images; an empty list is an ArgumentError.
  void write(std::span<const NDArray> images, const Kwargs& kwargs) override {
    if (images.empty()) throw ArgumentError("no images to write");
    pending_.add(images, true, kwargs, request_);
  }
  /// Encodes everything gathered and writes the file.
  void close() override { pending_.flush(request_); }

 private:
  Request& request_;
  Pending pending_;
};

}  // namespace imio
