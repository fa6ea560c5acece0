// imio's demo: the library's main job, offline, on arrays it makes itself.
//
//   imio_demo [FOLDER]     writes its files into FOLDER (default: a new
//                          temporary folder, removed at the end)
//
// It makes a few arrays, writes them in the formats this build can write
// (asked of imio::plugins() at run time: PNG, TIFF and GIF when those
// plugins are built, NumPy .npy always with the npy plugin), reads them
// back, and shows improps, immeta, imiter, an imopen handle, encoding to
// memory, and what the errors look like.
#include <imio/imio.hpp>
#include <imio/plugin.hpp>  // imio::plugins(): what this build can read and write

#include <algorithm>
#include <cstdint>
#include <exception>
#include <filesystem>
#include <iostream>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include <unistd.h>  // getpid

namespace fs = std::filesystem;

namespace {

std::string shape_text(const imio::Shape& shape) {
  std::ostringstream out;
  out << '(';
  for (std::size_t i = 0; i < shape.size(); ++i) out << (i ? ", " : "") << shape[i];
  out << (shape.size() == 1 ? ",)" : ")");
  return out.str();
}

std::string describe(const imio::NDArray& a) {
  return shape_text(a.shape()) + " " + std::string(imio::name(a.dtype()));
}

// The writable plugin serving `extension`, if this build has one.
std::optional<imio::PluginInfo> writer_for(std::string_view extension) {
  for (imio::PluginInfo& p : imio::plugins()) {
    if (p.can_write && std::find(p.extensions.begin(), p.extensions.end(), extension) != p.extensions.end()) return p;
  }
  return std::nullopt;
}

// The first of `preferred` this build can write.
std::optional<std::string> pick_format(std::initializer_list<std::string_view> preferred) {
  for (std::string_view ext : preferred) {
    if (writer_for(ext)) return std::string(ext);
  }
  return std::nullopt;
}

// An RGB gradient with a bright square: (64, 96, 3) uint8.
imio::NDArray make_gradient() {
  imio::NDArray img({64, 96, 3}, imio::DType::uint8);
  for (std::size_t y = 0; y < 64; ++y) {
    for (std::size_t x = 0; x < 96; ++x) {
      const bool square = y >= 20 && y < 44 && x >= 36 && x < 60;
      img.at<std::uint8_t>(y, x, 0) = static_cast<std::uint8_t>(x * 255 / 95);
      img.at<std::uint8_t>(y, x, 1) = static_cast<std::uint8_t>(y * 255 / 63);
      img.at<std::uint8_t>(y, x, 2) = square ? 255 : 64;
    }
  }
  return img;
}

// A 16-bit depth map: (48, 48) uint16, distance from the centre.
imio::NDArray make_depth() {
  imio::NDArray img({48, 48}, imio::DType::uint16);
  for (std::size_t y = 0; y < 48; ++y) {
    for (std::size_t x = 0; x < 48; ++x) {
      const auto dy = static_cast<long>(y) - 24, dx = static_cast<long>(x) - 24;
      img.at<std::uint16_t>(y, x) = static_cast<std::uint16_t>((dx * dx + dy * dy) * 40);
    }
  }
  return img;
}

// Four frames of a square moving right, in four flat colours: (32, 32, 3) uint8 each.
std::vector<imio::NDArray> make_frames() {
  const std::uint8_t colours[4][3] = {{230, 40, 40}, {40, 200, 40}, {40, 40, 230}, {240, 240, 40}};
  std::vector<imio::NDArray> frames;
  for (std::size_t f = 0; f < 4; ++f) {
    imio::NDArray frame({32, 32, 3}, imio::DType::uint8);
    for (std::size_t y = 10; y < 22; ++y) {
      for (std::size_t x = 2 + 6 * f; x < 14 + 6 * f; ++x) {
        for (std::size_t c = 0; c < 3; ++c) frame.at<std::uint8_t>(y, x, c) = colours[f][c];
      }
    }
    frames.push_back(std::move(frame));
  }
  return frames;
}

void section(std::string_view title) { std::cout << "\n== " << title << "\n"; }

// Runs `f`, which should throw E; prints what was thrown.
template <class E, class F>
void expect_error(std::string_view what, F&& f) {
  try {
    f();
    std::cout << "  " << what << ": no error (unexpected)\n";
  } catch (const E& e) {
    std::cout << "  " << what << "\n    -> imio::" << e.kind() << ": " << e.what() << "\n";
  }
}

int run(const fs::path& folder) {
  std::cout << "imio " << imio::version_string << " demo; files go to " << folder.string() << "\n";

  section("plugins in this build (imio::plugins())");
  for (const imio::PluginInfo& p : imio::plugins()) {
    std::cout << "  " << p.name << ": " << (p.can_read ? "read" : "") << (p.can_read && p.can_write ? "+" : "")
              << (p.can_write ? "write" : "") << ", " << p.extensions.size() << " extension(s)"
              << (p.backend.empty() ? "" : ", " + p.backend) << "\n";
  }
  // PNG and TIFF keep uint8 RGB and uint16 gray exactly; GIF keeps
  // animations of few colours; .npy keeps anything.
  const auto still = pick_format({".png", ".tif", ".npy"});
  const auto animated = pick_format({".gif", ".tif", ".npy"});
  if (!still || !animated) {
    std::cout << "  this build has no plugin that writes .png, .tif, .gif or .npy; build with the npy plugin "
                 "(IMIO_WITH_NPY, on by default) to see the rest of the demo\n"
                 "\ndemo finished (nothing to write with)\n";
    return 0;
  }

  section("1. arrays made in memory");
  const imio::NDArray gradient = make_gradient();
  const imio::NDArray depth = make_depth();
  const std::vector<imio::NDArray> frames = make_frames();
  std::cout << "  gradient " << describe(gradient) << ", depth " << describe(depth) << ", " << frames.size()
            << " frames of " << describe(frames.front()) << "\n";

  section("2. imwrite, then imread back");
  const fs::path gradient_path = folder / ("gradient" + *still);
  const fs::path depth_path = folder / ("depth" + *still);
  const fs::path frames_path = folder / ("frames" + *animated);
  imio::imwrite(gradient_path, gradient);
  imio::imwrite(depth_path, depth);
  imio::imwrite(frames_path, std::span<const imio::NDArray>(frames));
  for (const auto& [path, original] : {std::pair{gradient_path, &gradient}, std::pair{depth_path, &depth}}) {
    const imio::NDArray back = imio::imread(path);
    std::cout << "  " << path.filename().string() << " (" << fs::file_size(path) << " bytes, plugin "
              << writer_for(path.extension().string())->name << "): read back " << describe(back) << ", "
              << (back == *original ? "identical to what was written" : "differs from what was written") << "\n";
  }
  const imio::NDArray all = imio::imread(frames_path);
  std::cout << "  " << frames_path.filename().string() << ": the list of " << frames.size()
            << " frames reads back as " << describe(all) << "\n";

  section("3. improps: shape and dtype without decoding pixels");
  for (const fs::path& path : {gradient_path, depth_path, frames_path}) {
    const imio::ImageProperties p = imio::improps(path);
    std::cout << "  " << path.filename().string() << ": shape " << shape_text(p.shape) << ", dtype "
              << imio::name(p.dtype) << ", is_batch " << (p.is_batch ? "true" : "false") << "\n";
  }
  const imio::ImageProperties every = imio::improps(frames_path, {.index = imio::all});
  std::cout << "  " << frames_path.filename().string() << " with index=imio::all: shape " << shape_text(every.shape)
            << ", n_images " << (every.n_images ? std::to_string(*every.n_images) : "unknown") << "\n";

  section("4. immeta: the format's own metadata");
  for (const fs::path& path : {gradient_path, frames_path}) {
    std::cout << "  " << path.filename().string() << ": " << imio::to_json(imio::immeta(path)) << "\n";
  }

  section("5. imiter: one image at a time");
  std::size_t n = 0;
  for (const imio::NDArray& image : imio::imiter(frames_path)) {
    std::cout << "  image " << n++ << ": " << describe(image) << "\n";
  }

  section("6. imopen: one handle, several calls");
  {
    imio::ImageFile file = imio::imopen(depth_path, "r");
    const imio::ImageProperties p = file.properties();
    const imio::NDArray first = file.read({.index = 0});
    std::cout << "  plugin " << file.plugin_name() << "; properties " << shape_text(p.shape) << " "
              << imio::name(p.dtype) << "; read(index=0) " << describe(first)
              << "; element (24, 30) = " << first.at<std::uint16_t>(24, 30) << "\n";
    file.close();
    expect_error<imio::IOError>("read after close()", [&] { (void)file.read(); });
  }

  section("7. encoded bytes in memory");
  const std::optional<imio::Bytes> encoded = imio::imwrite("<bytes>", gradient, {.extension = *still});
  const imio::NDArray decoded = imio::imread(*encoded);
  std::cout << "  imwrite(\"<bytes>\", gradient, {.extension = \"" << *still << "\"}) gave " << encoded->size()
            << " bytes; imread of those bytes: " << describe(decoded) << "\n";

  section("8. errors are exceptions of <imio/error.hpp>");
  expect_error<imio::IndexError>("imread(gradient, {.index = 99})",
                                 [&] { (void)imio::imread(gradient_path, {.index = 99}); });
  expect_error<imio::IndexError>("imread(gradient, {.index = -1})",
                                 [&] { (void)imio::imread(gradient_path, {.index = -1}); });
  expect_error<imio::NoPluginError>("imwrite(\"picture.xyz\", gradient)",
                                    [&] { (void)imio::imwrite(folder / "picture.xyz", gradient); });
  expect_error<imio::FileNotFoundError>("imread(\"missing" + *still + "\")",
                                        [&] { (void)imio::imread(folder / ("missing" + *still)); });
  expect_error<imio::ArgumentError>("imread(gradient, {.kwargs = {{\"colour\", 1}}})",
                                    [&] { (void)imio::imread(gradient_path, {.kwargs = {{"colour", 1}}}); });
  expect_error<imio::LimitError>("imread(gradient, {.limits = {.max_bytes = 1024}})",
                                 [&] { (void)imio::imread(gradient_path, {.limits = {.max_bytes = 1024}}); });

  std::cout << "\ndemo finished\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc > 2) {
    std::cerr << "usage: imio_demo [FOLDER]\n";
    return 2;
  }
  const bool temporary = argc < 2;
  const fs::path folder = temporary ? fs::temp_directory_path() / ("imio-demo-" + std::to_string(::getpid()))
                                    : fs::path(argv[1]);
  int status = 1;
  try {
    fs::create_directories(folder);
    status = run(folder);
  } catch (const imio::Error& e) {
    std::cerr << "imio_demo: imio::" << e.kind() << ": " << e.what() << "\n";
  } catch (const std::exception& e) {
    std::cerr << "imio_demo: " << e.what() << "\n";
  }
  if (temporary) {
    std::error_code ec;
    fs::remove_all(folder, ec);
  }
  return status;
}
