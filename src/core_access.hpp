// The core's way into the public classes' private parts: constructing a
// Request, an ImageFile or a FrameRange, and reaching a Request's state.
// Plugins and applications cannot (the classes befriend only this type).
#pragma once

#include <imio/image_file.hpp>
#include <imio/many.hpp>
#include <imio/request.hpp>

#include <memory>

namespace imio::detail {

struct CoreAccess {
  using RequestImpl = Request::Impl;

  static Request::Impl& impl(Request& request) noexcept { return *request.impl_; }
  static std::unique_ptr<Request> request(std::unique_ptr<Request::Impl> impl);  // request.cpp
  static ImageFile image_file(std::unique_ptr<ImageFile::State> state) noexcept { return ImageFile(state.release()); }
  /// ImageFile::read_into without the shape check (imread_many checks
  /// once per item itself); true when no copy was needed.
  static bool decode_into(ImageFile& file, ArrayView out, const ReadCall& call) { return file.decode_into(out, call); }
  static ManyStream many_stream(ManyStream::State* state) noexcept { return ManyStream(state); }
  static FrameRange frame_range(std::unique_ptr<FrameRange::Source> source) noexcept {
    return FrameRange(source.release());
  }
};

}  // namespace imio::detail
