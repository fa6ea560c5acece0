// Many threads at once (docs/thread-safety.md): every built format read from
// the same files and from memory, iterated, written, while other threads
// change the default limits, the warning handler and the registered
// plugins. Each result must equal the one-thread reference. Run under
// ThreadSanitizer (-DIMIO_SANITIZE=thread) it also proves the absence of
// data races in what it exercises.
#include <imio/imio.hpp>
#include <imio/plugin.hpp>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "catch.hpp"
#include "test_util.hpp"

namespace {

using imio::DType;
using imio::NDArray;

struct Sample {
  std::string name;        // file name, whose extension picks the writer
  std::vector<NDArray> frames;
  imio::Kwargs kwargs;     // for the write
};

NDArray gradient(imio::Shape shape, int seed) {
  NDArray a(std::move(shape), DType::uint8);
  auto v = a.values<std::uint8_t>();
  for (std::size_t i = 0; i < v.size(); ++i) v[i] = static_cast<std::uint8_t>((i * 7 + static_cast<std::size_t>(seed) * 13) % 251);
  return a;
}

// One sample per writable format of this build (a format whose plugin is
// missing is left out).
std::vector<Sample> samples() {
  std::vector<Sample> out;
  auto add = [&](const char* plugin, std::string name, std::size_t frames, imio::Kwargs kwargs = {}) {
    if (!imio::has_plugin(plugin)) return;
    Sample s{std::move(name), {}, std::move(kwargs)};
    for (std::size_t f = 0; f < frames; ++f) s.frames.push_back(gradient({24, 32, 3}, static_cast<int>(f)));
    out.push_back(std::move(s));
  };
  add("npy", "a.npy", 1);
  add("libpng", "a.png", 1);
  add("libpng", "anim.png", 3);
  add("libjpeg", "a.jpg", 1);
  add("giflib", "a.gif", 3);
  add("libtiff", "a.tif", 3);
  add("libwebp", "a.webp", 1, {{"lossless", true}});
  add("ffmpeg", "a.bmp", 1);
  add("ffmpeg", "a.mp4", 8, {{"codec", "mpeg4"}});
  return out;
}

struct Reference {
  const Sample* sample = nullptr;
  std::filesystem::path path;
  imio::Bytes bytes;
  NDArray pixels;
  imio::ImageProperties props;
  std::string meta;
  std::size_t frames = 0;
};

}  // namespace

TEST_CASE("every format reads, iterates and writes from many threads at once, as from one", "[threads]") {
  imio_test::TempDir dir;
  const std::vector<Sample> all = samples();
  std::vector<Reference> refs;
  for (const Sample& s : all) {
    Reference r;
    r.sample = &s;
    r.path = dir / s.name;
    imio::imwrite(r.path, std::span<const NDArray>(s.frames), {.kwargs = s.kwargs});
    r.bytes = imio_test::read_file(r.path);
    r.pixels = imio::imread(r.path, {.index = imio::all});
    r.props = imio::improps(r.path, {.index = imio::all});
    r.meta = imio::to_json(imio::immeta(r.path));
    for (const NDArray& f : imio::imiter(r.path)) r.frames += f.empty() ? 0 : 1;
    refs.push_back(std::move(r));
  }
  REQUIRE_FALSE(refs.empty());

  std::atomic<int> failures{0};
  std::atomic<bool> stop{false};
  auto check = [&](bool ok) {
    if (!ok) ++failures;
  };
  std::vector<std::thread> threads;
  constexpr int kReaders = 6;
  for (int t = 0; t < kReaders; ++t) {
    threads.emplace_back([&, t] {
      for (int round = 0; round < 4; ++round) {
        for (std::size_t i = 0; i < refs.size(); ++i) {
          const Reference& r = refs[(i + static_cast<std::size_t>(t)) % refs.size()];
          try {
            // the same path from every thread, and the same bytes from memory
            check(imio::imread(r.path, {.index = imio::all}) == r.pixels);
            check(imio::imread(std::span<const std::byte>(r.bytes), {.index = imio::all, .extension = r.path.extension().string()}) == r.pixels);
            check(imio::improps(r.path, {.index = imio::all}) == r.props);
            check(imio::to_json(imio::immeta(r.path)) == r.meta);
            std::size_t n = 0;
            for (const NDArray& f : imio::imiter(r.path)) n += f.empty() ? 0 : 1;
            check(n == r.frames);
            // a write of this thread's own, read back
            const auto own = dir / ("t" + std::to_string(t) + "_" + r.path.filename().string());
            imio::imwrite(own, std::span<const NDArray>(r.sample->frames), {.kwargs = r.sample->kwargs});
            check(imio::improps(own, {.index = imio::all}).shape == r.props.shape);
          } catch (const std::exception& e) {
            UNSCOPED_INFO(r.path.filename().string() << ": " << e.what());
            ++failures;
          }
        }
      }
    });
  }
  // Meanwhile: the process-wide settings change under the readers.
  threads.emplace_back([&] {
    for (int k = 0; !stop; ++k) {
      imio::set_default_limits({.max_pixels = (k % 2) ? (1u << 28) : (1u << 27)});  // both hold every sample
      imio::set_warning_handler([](std::string_view, std::string_view) {});
      (void)imio::plugins();
      std::this_thread::yield();
    }
    imio::set_default_limits({});
    imio::set_warning_handler({});
  });
  threads.emplace_back([&] {
    for (int k = 0; k < 50; ++k) {
      imio::PluginSpec spec;
      spec.name = "threads_" + std::to_string(k);
      spec.extensions = {{".threads" + std::to_string(k), 100}};
      spec.factory = [](imio::Request&, const imio::Kwargs&) -> std::unique_ptr<imio::Plugin> {
        throw imio::InitializationError("a test plugin that refuses everything");
      };
      imio::register_plugin(std::move(spec));
      (void)imio::has_plugin("threads_" + std::to_string(k));
    }
  });
  for (int t = 0; t < kReaders; ++t) threads[static_cast<std::size_t>(t)].join();
  stop = true;
  for (std::size_t t = kReaders; t < threads.size(); ++t) threads[t].join();
  CHECK(failures == 0);
  CHECK(imio::has_plugin("threads_49"));
}
