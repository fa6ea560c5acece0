// A custom plugin: teach imio a new format at run time.
//
//   imio_custom_plugin
//
// The format is "TPGM", a tiny text cousin of PGM: a first line
// "TPGM <width> <height>", then the gray values (0…255) as decimal numbers.
// The plugin describes itself as a built-in plugin's plugin.json does (name,
// extensions, the kwargs of each method) and is registered with
// imio::register_plugin; after that imread/imwrite/improps/immeta use it
// like any built-in plugin, and check its kwargs against the declarations.
// The contract is in <imio/plugin.hpp> (docs/writing-plugins.md).
#include <imio/imio.hpp>
#include <imio/plugin.hpp>
#include <imio/single_image.hpp>  // helpers for one-image formats

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <memory>
#include <optional>
#include <span>
#include <sstream>
#include <string>
#include <utility>
#include <unistd.h>  // getpid

namespace {

// What the plugin is: its descriptor (the same JSON as a plugin folder's
// plugin.json). What it does is the code below.
constexpr const char* kDescriptor = R"json({
  "name": "tpgm",
  "summary": "TPGM, a text cousin of PGM (example)",
  "read": true,
  "write": true,
  "extensions": [{"priority": 100, "names": [".tpgm"]}],
  "write_extensions": [".tpgm"],
  "methods": [
    {"methods": ["open", "read", "iter", "properties", "metadata"], "kwargs": []},
    {"methods": ["write"], "kwargs": [
      {"name": "separator", "type": "str", "default": " ", "choices": [" ", "\t"], "doc": "between the values of a row"}
    ]}
  ]
})json";

class TpgmPlugin final : public imio::Plugin {
 public:
  explicit TpgmPlugin(imio::Request& request) : request_(request) {
    if (request.mode() == imio::IoMode::write) return;
    // Read the header once; the whole text is small, keep it for read().
    const imio::Bytes all = request.source().read_all(request.limits().max_bytes);
    text_.assign(reinterpret_cast<const char*>(all.data()), all.size());
    std::istringstream in(text_);
    std::string magic;
    // InitializationError means "not mine": imio then tries other plugins.
    if (!(in >> magic >> width_ >> height_) || magic != "TPGM") throw imio::InitializationError("not a TPGM file");
    request.check_pixels(width_, height_);  // refuse hostile sizes before allocating
  }

  imio::NDArray read(const imio::Index& index, const imio::Kwargs& kwargs) override {
    imio::KwargReader(kwargs, "tpgm", "read").finish();  // no kwargs: reject any
    const bool batch = imio::single_image_wants_batch(index, "a TPGM file");  // IndexError beyond 0
    imio::NDArray image = request_.allocate({height_, width_}, imio::DType::uint8);
    std::istringstream in(text_);
    std::string skip;
    in >> skip >> skip >> skip;  // the header
    for (std::size_t i = 0; i < width_ * height_; ++i) {
      unsigned v = 0;
      if (!(in >> v) || v > 255) throw imio::DecodeError("pixel " + std::to_string(i) + " missing or above 255");
      image.data<std::uint8_t>()[i] = static_cast<std::uint8_t>(v);
    }
    if (!batch) return image;
    imio::Shape shape = imio::with_batch_axis(image.shape());  // imio::all: a batch of one
    return std::move(image).reshaped(std::move(shape));
  }

  // One image per file: iteration yields it once, decoded when asked for.
  std::unique_ptr<imio::FrameSource> iter(const imio::Kwargs& kwargs) override {
    imio::KwargReader(kwargs, "tpgm", "iter").finish();
    return imio::one_frame([this] { return read({}, {}); });
  }

  imio::ImageProperties properties(const imio::Index& index, const imio::Kwargs& kwargs) override {
    imio::KwargReader(kwargs, "tpgm", "properties").finish();
    if (imio::single_image_wants_batch(index, "a TPGM file")) {
      return {.shape = {1, height_, width_}, .dtype = imio::DType::uint8, .n_images = 1, .is_batch = true};
    }
    return {.shape = {height_, width_}, .dtype = imio::DType::uint8};
  }

  imio::Metadata metadata(const imio::Index&, bool, const imio::Kwargs& kwargs) override {
    imio::KwargReader(kwargs, "tpgm", "metadata").finish();
    imio::Metadata m;
    m.set("format", std::string("TPGM"));
    return m;
  }

  void write(const imio::NDArray& image, const imio::Kwargs& kwargs) override {
    // Checked against the descriptor when made: unknown keys, types, choices.
    imio::KwargReader kw(kwargs, "tpgm", "write");
    const std::string separator = kw.get<std::string>("separator");  // the caller's, or the declared " "
    if (image.ndim() != 2 || image.dtype() != imio::DType::uint8) throw imio::ArgumentError("TPGM holds (H,W) uint8");
    std::ostringstream out;
    out << "TPGM " << image.shape()[1] << ' ' << image.shape()[0] << '\n';
    for (std::size_t y = 0; y < image.shape()[0]; ++y) {
      for (std::size_t x = 0; x < image.shape()[1]; ++x) {
        out << +image.at<std::uint8_t>(y, x) << (x + 1 < image.shape()[1] ? separator : "\n");
      }
    }
    const std::string text = out.str();
    request_.sink().write(text.data(), text.size());  // imio renames the file into place on success
  }

  void write(std::span<const imio::NDArray> images, const imio::Kwargs& kwargs) override {
    if (images.size() != 1) throw imio::ArgumentError("TPGM holds one image");
    write(images[0], kwargs);
  }

 private:
  imio::Request& request_;
  std::string text_;
  std::size_t width_ = 0, height_ = 0;
};

}  // namespace

int main() {
  imio::PluginSpec spec = imio::plugin_spec_from_json(kDescriptor);  // name, extensions, kwargs
  spec.sniff = [](std::span<const std::byte> head) { return head.size() >= 4 && std::memcmp(head.data(), "TPGM", 4) == 0; };
  spec.sniff_bytes = 4;
  spec.factory = [](imio::Request& request, const imio::Kwargs& kwargs) -> std::unique_ptr<imio::Plugin> {
    imio::KwargReader(kwargs, "tpgm", "open").finish();
    return std::make_unique<TpgmPlugin>(request);
  };
  imio::register_plugin(std::move(spec));

  // A (4, 6) uint8 ramp, written and read through the new plugin by extension.
  imio::NDArray ramp({4, 6}, imio::DType::uint8);
  for (std::size_t i = 0; i < 24; ++i) ramp.data<std::uint8_t>()[i] = static_cast<std::uint8_t>(i * 10);
  const auto path = std::filesystem::temp_directory_path() / ("imio-ramp-" + std::to_string(::getpid()) + ".tpgm");
  imio::imwrite(path, ramp, {.kwargs = {{"separator", "\t"}}});
  const imio::ImageProperties p = imio::improps(path);
  std::cout << "wrote " << path.filename().string() << "; improps: (" << p.shape[0] << ", " << p.shape[1] << ") "
            << imio::name(p.dtype) << "; immeta: " << imio::to_json(imio::immeta(path)) << "\n";
  std::cout << "imread: " << (imio::imread(path) == ramp ? "the pixels written" : "different (unexpected)") << "\n";

  // Errors name the resource and the plugin, like a built-in plugin's.
  try {
    (void)imio::imread(path, {.kwargs = {{"colour", true}}});
  } catch (const imio::ArgumentError& e) {
    std::cout << "unknown kwarg -> imio::" << e.kind() << ": " << e.what() << "\n";
  }
  try {
    imio::imwrite(path, ramp, {.kwargs = {{"separator", ","}}});
  } catch (const imio::ArgumentError& e) {
    std::cout << "undeclared choice -> imio::" << e.kind() << ": " << e.what() << "\n";
  }
  std::filesystem::remove(path);
  std::cout << "custom_plugin finished\n";
  return 0;
}
