#include "fake_plugin.hpp"

#include <cstring>
#include <mutex>
#include <new>
#include <string>

namespace fake {

Stats& stats() {
  static Stats s;
  return s;
}

namespace {

constexpr char kMagic[4] = {'F', 'A', 'K', 'E'};

std::uint32_t le32(const std::byte* p) {
  return std::to_integer<std::uint32_t>(p[0]) | (std::to_integer<std::uint32_t>(p[1]) << 8) |
         (std::to_integer<std::uint32_t>(p[2]) << 16) | (std::to_integer<std::uint32_t>(p[3]) << 24);
}

void put32(imio::Bytes& out, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<std::byte>((v >> (8 * i)) & 0xFF));
}

// A frame buffer that counts itself alive, to observe imiter's memory.
imio::NDArray counted_frame(std::size_t h, std::size_t w) {
  void* p = ::operator new(h * w == 0 ? 1 : h * w);
  const int live = ++stats().live_frames;
  int seen = stats().max_live_frames.load();
  while (live > seen && !stats().max_live_frames.compare_exchange_weak(seen, live)) {
  }
  return imio::NDArray::adopt(p, {h, w}, imio::DType::uint8, [](void* q) {
    --stats().live_frames;
    ::operator delete(q);
  });
}

class FakePlugin final : public imio::Plugin {
 public:
  FakePlugin(imio::Request& request, std::string name) : request_(request), name_(std::move(name)) {
    if (request.mode() == imio::IoMode::write) return;
    std::byte head[16];
    request.source().seek(0);
    request.source().read_exact(head, sizeof head);
    if (std::memcmp(head, kMagic, 4) != 0) throw imio::InitializationError("not FAKE data");
    frames_ = le32(head + 4);
    h_ = le32(head + 8);
    w_ = le32(head + 12);
    request.check_pixels(w_, h_);
  }

  imio::NDArray read(const imio::Index& index, const imio::Kwargs& kwargs) override {
    imio::KwargReader kw(kwargs, name_, "read");
    const bool invert = kw.take<bool>("invert", false);
    kw.finish();
    // Like imageio's GIF: no index means every frame when there are several.
    if (index.is_all() || (index.is_none() && frames_ != 1)) {
      request_.check_frames(frames_);
      imio::NDArray out = request_.allocate({frames_, h_, w_}, imio::DType::uint8);
      for (std::size_t f = 0; f < frames_; ++f) decode_into(f, out.data<std::uint8_t>() + f * h_ * w_, invert);
      return out;
    }
    const std::size_t k = index.is_none() ? 0 : static_cast<std::size_t>(index.value());
    if (k >= frames_) {
      throw imio::IndexError("index " + std::to_string(k) + " is out of range: " + std::to_string(frames_) + " frames");
    }
    imio::NDArray out = counted_frame(h_, w_);
    decode_into(k, out.data<std::uint8_t>(), invert);
    return out;
  }

  std::unique_ptr<imio::FrameSource> iter(const imio::Kwargs& kwargs) override {
    imio::KwargReader(kwargs, name_, "iter").finish();
    struct Frames final : imio::FrameSource {
      FakePlugin* self;
      std::size_t next_frame = 0;
      explicit Frames(FakePlugin* p) : self(p) {}
      std::optional<imio::NDArray> next() override {
        if (next_frame >= self->frames_) return std::nullopt;
        imio::NDArray out = counted_frame(self->h_, self->w_);
        self->decode_into(next_frame++, out.data<std::uint8_t>(), false);
        return out;
      }
    };
    return std::make_unique<Frames>(this);
  }

  imio::ImageProperties properties(const imio::Index& index, const imio::Kwargs& kwargs) override {
    imio::KwargReader kw(kwargs, name_, "properties");
    kw.take<bool>("invert");
    kw.finish();
    if (index.is_all() || (index.is_none() && frames_ != 1)) {
      return {.shape = {frames_, h_, w_}, .dtype = imio::DType::uint8, .n_images = frames_, .is_batch = true, .spacing = {}};
    }
    if (index.is_integer() && static_cast<std::size_t>(index.value()) >= frames_) throw imio::IndexError("out of range");
    return {.shape = {h_, w_}, .dtype = imio::DType::uint8, .n_images = {}, .is_batch = false, .spacing = {}};
  }

  imio::Metadata metadata(const imio::Index&, bool exclude_applied, const imio::Kwargs& kwargs) override {
    imio::KwargReader(kwargs, name_, "metadata").finish();
    imio::Metadata m;
    m.set("frames", static_cast<std::int64_t>(frames_));
    m.set("shape", imio::Value::List{static_cast<std::int64_t>(w_), static_cast<std::int64_t>(h_)});
    m.set("exclude_applied", exclude_applied);
    return m;
  }

  void write(const imio::NDArray& image, const imio::Kwargs& kwargs) override {
    if (image.ndim() == 2) {
      write_frames(1, image.shape()[0], image.shape()[1], image, kwargs);
    } else if (image.ndim() == 3) {
      write_frames(image.shape()[0], image.shape()[1], image.shape()[2], image, kwargs);
    } else {
      throw imio::ArgumentError("fake writes (H,W) or (N,H,W) uint8");
    }
  }

  void write(std::span<const imio::NDArray> images, const imio::Kwargs& kwargs) override {
    write(imio::NDArray::stack(images), kwargs);
  }

  void close() override { ++stats().closes; }

 private:
  void decode_into(std::size_t f, std::uint8_t* dst, bool invert) {
    ++stats().decodes;
    imio::ByteSource& src = request_.source();
    src.seek(16 + f * h_ * w_);
    src.read_exact(dst, h_ * w_);
    if (invert) {
      for (std::size_t i = 0; i < h_ * w_; ++i) dst[i] = static_cast<std::uint8_t>(255 - dst[i]);
    }
  }

  void write_frames(std::size_t n, std::size_t h, std::size_t w, const imio::NDArray& data, const imio::Kwargs& kwargs) {
    imio::KwargReader kw(kwargs, name_, "write");
    const auto fail_after = kw.take<std::int64_t>("fail_after_bytes");
    kw.finish();
    if (data.dtype() != imio::DType::uint8) throw imio::ArgumentError("fake writes uint8 only");
    imio::Bytes header;
    for (char c : kMagic) header.push_back(static_cast<std::byte>(c));
    put32(header, static_cast<std::uint32_t>(n));
    put32(header, static_cast<std::uint32_t>(h));
    put32(header, static_cast<std::uint32_t>(w));
    imio::ByteSink& sink = request_.sink();
    sink.write(header.data(), header.size());
    if (fail_after) {
      sink.write(data.bytes(), std::min<std::size_t>(static_cast<std::size_t>(*fail_after), data.nbytes()));
      throw imio::EncodeError("simulated encoder failure");
    }
    sink.write(data.bytes(), data.nbytes());
  }

  imio::Request& request_;
  std::string name_;
  std::size_t frames_ = 0, h_ = 0, w_ = 0;
};

imio::PluginSpec fake_spec(std::string name, int priority) {
  imio::PluginSpec spec;
  spec.name = name;
  spec.aliases = {"fakealias"};
  spec.extensions = {{".fake", priority}};
  spec.can_read = true;
  spec.can_write = true;
  spec.sniff = [](std::span<const std::byte> head) { return head.size() >= 4 && std::memcmp(head.data(), kMagic, 4) == 0; };
  spec.sniff_bytes = 4;
  spec.backend = "fake 1.0";
  spec.factory = [name](imio::Request& request, const imio::Kwargs& kwargs) -> std::unique_ptr<imio::Plugin> {
    imio::KwargReader kw(kwargs, name, "open");
    kw.take<bool>("strict");
    kw.finish();
    if (request.mode() == imio::IoMode::write && request.extension() != ".fake") {
      throw imio::InitializationError("writes only .fake files");
    }
    auto plugin = std::make_unique<FakePlugin>(request, name);
    ++stats().opens;
    return plugin;
  };
  return spec;
}

}  // namespace

void register_fakes() {
  static std::once_flag once;
  std::call_once(once, [] {
    imio::register_plugin(fake_spec("fake", 10));
    imio::register_plugin(fake_spec("fake2", 20));
    imio::PluginSpec picky;
    picky.name = "picky";
    picky.extensions = {{".fake", 5}};
    picky.can_write = true;
    picky.factory = [](imio::Request&, const imio::Kwargs&) -> std::unique_ptr<imio::Plugin> {
      throw imio::InitializationError("picky says no");
    };
    imio::register_plugin(std::move(picky));
  });
}

imio::Bytes encode(std::uint32_t frames, std::uint32_t h, std::uint32_t w) {
  imio::Bytes out;
  for (char c : kMagic) out.push_back(static_cast<std::byte>(c));
  put32(out, frames);
  put32(out, h);
  put32(out, w);
  // Sized once and written through a pointer: push_back per pixel took a
  // quarter of test_remote_resources' time in the -O0 sanitizer build.
  const std::size_t header = out.size();
  out.resize(header + std::size_t{frames} * h * w);
  std::byte* p = out.data() + header;
  for (std::size_t f = 0; f < frames; ++f) {
    for (std::size_t y = 0; y < h; ++y) {
      for (std::size_t x = 0; x < w; ++x) *p++ = static_cast<std::byte>(pixel(f, y, x, w));
    }
  }
  return out;
}

}  // namespace fake
