// The six functions: thin wrappers over imopen (open, one operation, close).
#include <imio/imio.hpp>
#include <imio/plugin.hpp>

#include <fmt/format.h>

#include "core_access.hpp"
#include "image_file_state.hpp"

namespace imio {
namespace {

IoMode parse_io_mode(std::string_view mode) {
  // "r"/"w", and imageio's legacy two-letter modes (second letter ignored).
  if (mode.size() == 1 || (mode.size() == 2 && std::string_view("iIvV?").find(mode[1]) != std::string_view::npos)) {
    if (mode[0] == 'r') return IoMode::read;
    if (mode[0] == 'w') return IoMode::write;
  }
  throw ArgumentError(fmt::format("invalid io_mode '{}': expected \"r\" or \"w\"", mode));
}

ImageFile open(const ImageResource& resource, IoMode mode, std::string_view plugin, std::string_view extension,
               const Limits& limits, const Kwargs* factory_kwargs = nullptr) {
  detail::OpenArgs args{.mode = mode, .plugin = plugin, .extension = extension, .kwargs = factory_kwargs, .limits = limits};
  return detail::CoreAccess::image_file(std::make_unique<ImageFile::State>(detail::open_resource(resource, args)));
}

}  // namespace

NDArray imread(const ImageResource& resource, const ReadOptions& options) {
  ImageFile file = open(resource, IoMode::read, options.plugin, options.extension, options.limits);
  NDArray out = file.read({.index = options.index, .kwargs = options.kwargs});
  file.close();
  return out;
}

void imread_into(const ImageResource& resource, ArrayView out, const ReadOptions& options) {
  ImageFile file = open(resource, IoMode::read, options.plugin, options.extension, options.limits);
  file.read_into(out, {.index = options.index, .kwargs = options.kwargs});
  file.close();
}

void imread_into(const ImageResource& resource, const StridedArrayView& out, const ReadOptions& options) {
  ImageFile file = open(resource, IoMode::read, options.plugin, options.extension, options.limits);
  file.read_into(out, {.index = options.index, .kwargs = options.kwargs});
  file.close();
}

std::optional<Bytes> imwrite(const ImageResource& resource, const NDArray& image, const WriteOptions& options) {
  ImageFile file = open(resource, IoMode::write, options.plugin, options.extension, options.limits);
  file.write(image, {.kwargs = options.kwargs});
  return file.close();
}

std::optional<Bytes> imwrite(const ImageResource& resource, std::span<const NDArray> images, const WriteOptions& options) {
  ImageFile file = open(resource, IoMode::write, options.plugin, options.extension, options.limits);
  file.write(images, {.kwargs = options.kwargs});
  return file.close();
}

FrameRange imiter(const ImageResource& resource, const IterOptions& options) {
  auto source = std::make_unique<FrameRange::Source>();
  source->kwargs = options.kwargs;
  // The resource is copied into the range and opened at the first begin(),
  // as imageio's generator opens at the first next().
  source->open = [resource, plugin = options.plugin, extension = options.extension, limits = options.limits] {
    return open(resource, IoMode::read, plugin, extension, limits);
  };
  return detail::CoreAccess::frame_range(std::move(source));
}

ImageProperties improps(const ImageResource& resource, const ReadOptions& options) {
  ImageFile file = open(resource, IoMode::read, options.plugin, options.extension, options.limits);
  ImageProperties props = file.properties({.index = options.index, .kwargs = options.kwargs});
  file.close();
  return props;
}

Metadata immeta(const ImageResource& resource, const MetaOptions& options) {
  ImageFile file = open(resource, IoMode::read, options.plugin, options.extension, options.limits);
  Metadata meta = file.metadata({.index = options.index, .exclude_applied = options.exclude_applied, .kwargs = options.kwargs});
  file.close();
  return meta;
}

ImageFile imopen(const ImageResource& resource, std::string_view io_mode, const OpenOptions& options) {
  return open(resource, parse_io_mode(io_mode), options.plugin, options.extension, options.limits, &options.kwargs);
}

}  // namespace imio
