// take_pixel_box: the one reader of Pillow-style boxes given as kwargs.
#include <imio/pixel_box.hpp>

#include <imio/exif.hpp>

#include <algorithm>

#include <fmt/format.h>

namespace imio {

std::optional<PixelBox> take_pixel_box(KwargReader& kw, std::string_view key) {
  const auto list = kw.take<Value::List>(key);
  if (!list) return std::nullopt;
  if (list->size() != 4) kw.fail(key, fmt::format("expects [left, top, right, bottom], not {} values", list->size()));
  std::uint64_t v[4];
  for (std::size_t i = 0; i < 4; ++i) {
    const Value& e = (*list)[i];
    if (!e.is<std::int64_t>() || e.get<std::int64_t>() < 0) {
      kw.fail(key, fmt::format("expects four non-negative integers [left, top, right, bottom], not {}", e.repr()));
    }
    v[i] = static_cast<std::uint64_t>(e.get<std::int64_t>());
  }
  return PixelBox{v[0], v[1], v[2], v[3]};
}

PixelBox stored_box(int orientation, std::uint64_t height, std::uint64_t width, const PixelBox& upright) {
  // Two opposite corners (the last pixel, not the exclusive bound) map to
  // two opposite corners of the stored box under any of the eight
  // orientations, each a flip and/or transpose.
  const auto [y0, x0] = stored_position(orientation, height, width, upright.top, upright.left);
  const auto [y1, x1] = stored_position(orientation, height, width, upright.bottom - 1, upright.right - 1);
  return {std::min(x0, x1), std::min(y0, y1), std::max(x0, x1) + 1, std::max(y0, y1) + 1};
}

}  // namespace imio
