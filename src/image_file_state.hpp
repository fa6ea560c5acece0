// The insides of ImageFile and FrameRange.
#pragma once

#include <imio/image_file.hpp>
#include <imio/plugin.hpp>

#include <exception>
#include <functional>
#include <memory>
#include <optional>

#include "registry.hpp"

namespace imio {

struct ImageFile::State {
  explicit State(detail::OpenedResource opened)
      : request(std::move(opened.request)), plugin(std::move(opened.plugin)), plugin_name(std::move(opened.plugin_name)) {}
  std::unique_ptr<Request> request;
  std::unique_ptr<Plugin> plugin;
  std::string plugin_name;
  bool closed = false;
  /// Exceptions in flight when the handle was made: more at destruction
  /// means the handle dies in unwinding, and a write must be discarded.
  int uncaught_at_open = std::uncaught_exceptions();
};

struct FrameRange::Source {
  /// imiter: opens the resource at the first begin().
  std::function<ImageFile()> open;
  /// ImageFile::iter: the borrowed handle.
  ImageFile* file = nullptr;
  std::optional<ImageFile> owned;
  Kwargs kwargs;
  std::unique_ptr<FrameSource> frames;
  NDArray current;
  bool started = false;
  bool done = false;
};

}  // namespace imio
