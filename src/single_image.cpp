// Helpers for one-image plugins (include/imio/single_image.hpp).
#include <imio/single_image.hpp>

#include <fmt/format.h>

#include <utility>

namespace imio {

bool single_image_wants_batch(const Index& index, std::string_view container) {
  if (index.is_all()) return true;
  if (index.is_integer() && index.value() != 0) {
    throw IndexError(fmt::format("index {} is out of range: {} holds 1 image", index.repr(), container));
  }
  return false;
}

Shape with_batch_axis(const Shape& shape, std::size_t n) {
  Shape out{n};
  out.insert(out.end(), shape.begin(), shape.end());
  return out;
}

std::unique_ptr<FrameSource> one_frame(std::function<NDArray()> produce) {
  struct OneFrame final : FrameSource {
    std::function<NDArray()> produce;
    bool done = false;
    explicit OneFrame(std::function<NDArray()> p) : produce(std::move(p)) {}
    std::optional<NDArray> next() override {
      if (std::exchange(done, true)) return std::nullopt;
      return produce();
    }
  };
  return std::make_unique<OneFrame>(std::move(produce));
}

std::span<const std::byte> whole_data(ByteSource& source, Bytes& storage, std::uint64_t max_bytes) {
  if (const auto view = source.contiguous()) return *view;
  source.seek(0);
  storage = source.read_all(max_bytes);
  return storage;
}

}  // namespace imio
