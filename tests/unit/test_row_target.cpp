// The core's side of Request::row_target (imread_into a row-padded view):
// which views are offered, once, with which address and stride; what
// allocate() and fills_caller_memory() say meanwhile; rows_written() of
// foreign rows is a plugin defect; a plugin that ignores the rows is copied.
#include <imio/imio.hpp>
#include <imio/plugin.hpp>
#include <imio/registry.hpp>
#include <imio/row_target.hpp>
#include <imio/strided_view.hpp>

#include <cstring>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "catch.hpp"
#include "test_util.hpp"

namespace {

using imio::DType;
using imio::NDArray;
using imio::RowTarget;
using imio::Shape;
using imio::StridedArrayView;

const Shape kShape{4, 5, 3};
constexpr std::size_t kRowBytes = 15;

std::byte value(std::size_t y, std::size_t i) { return static_cast<std::byte>((y * kRowBytes + i) * 7 % 251 + 1); }

void fill(const RowTarget& rows) {
  for (std::size_t y = 0; y < rows.rows(); ++y) {
    for (std::size_t i = 0; i < rows.row_bytes(); ++i) rows.row(y)[i] = value(y, i);
  }
}

// What the probe plugin does, and what it saw during its last read.
enum class Mode { rows, twice, foreign, ignore };
struct Seen {
  Mode mode = Mode::rows;
  std::optional<RowTarget> rows;
  bool second_offer = false;
  bool fills_caller_memory = false;
  std::byte* allocated = nullptr;
};
Seen& seen() {
  static Seen s;
  return s;
}

class Probe final : public imio::Plugin {
 public:
  explicit Probe(imio::Request& request) : request_(request) {}
  NDArray read(const imio::Index&, const imio::Kwargs&) override {
    Seen& s = seen();
    s.fills_caller_memory = request_.fills_caller_memory();
    s.rows = request_.row_target(kShape, DType::uint8);
    if (s.mode == Mode::twice) s.second_offer = request_.row_target(kShape, DType::uint8).has_value();
    if (s.rows && s.mode == Mode::foreign) {
      std::vector<std::byte> other(kRowBytes * 4);
      return request_.rows_written(RowTarget(other.data(), kRowBytes, 4, kRowBytes));
    }
    if (s.rows && s.mode != Mode::ignore) {
      fill(*s.rows);
      return request_.rows_written(*s.rows);
    }
    NDArray out = request_.allocate(kShape, DType::uint8);
    s.allocated = out.bytes();
    fill(RowTarget(out.view()));
    return out;
  }
  std::unique_ptr<imio::FrameSource> iter(const imio::Kwargs&) override {
    throw imio::Error("not used");
  }
  imio::ImageProperties properties(const imio::Index&, const imio::Kwargs&) override {
    return {.shape = kShape, .dtype = DType::uint8};
  }
  imio::Metadata metadata(const imio::Index&, bool, const imio::Kwargs&) override { return {}; }

 private:
  imio::Request& request_;
};

void register_probe() {
  static std::once_flag once;
  std::call_once(once, [] {
    imio::register_plugin({.name = "rowprobe",
                           .extensions = {{".rowprobe", 10}},
                           .can_read = true,
                           .sniff = [](std::span<const std::byte> head) {
                             return head.size() >= 8 && std::memcmp(head.data(), "ROWPROBE", 8) == 0;
                           },
                           .sniff_bytes = 8,
                           .factory = [](imio::Request& request, const imio::Kwargs&) -> std::unique_ptr<imio::Plugin> {
                             return std::make_unique<Probe>(request);
                           }});
  });
}

const imio::Bytes& probe_file() {
  static const imio::Bytes file = imio_test::to_bytes("ROWPROBE");
  return file;
}

// Memory of `rows` rows of `pitch` bytes, all 0xA5.
std::vector<std::byte> guarded(std::size_t pitch, std::size_t rows) { return std::vector<std::byte>(pitch * rows, std::byte{0xA5}); }

// Row y at `first + y * stride` holds value(y, …); every other byte is 0xA5.
bool only_rows(const std::vector<std::byte>& memory, const std::byte* first, std::ptrdiff_t stride) {
  std::vector<bool> inside(memory.size(), false);
  for (std::size_t y = 0; y < kShape[0]; ++y) {
    const std::byte* row = first + static_cast<std::ptrdiff_t>(y) * stride;
    for (std::size_t i = 0; i < kRowBytes; ++i) {
      if (row[i] != value(y, i)) return false;
      inside[static_cast<std::size_t>(row - memory.data()) + i] = true;
    }
  }
  for (std::size_t i = 0; i < memory.size(); ++i) {
    if (!inside[i] && memory[i] != std::byte{0xA5}) return false;
  }
  return true;
}

}  // namespace

TEST_CASE("row_target offers the caller's row-padded view once, at its address and stride", "[row_target]") {
  register_probe();
  seen() = {};
  SECTION("rows apart (a region of a wider canvas)") {
    std::vector<std::byte> memory = guarded(20, 5);
    imio::imread_into(probe_file(), StridedArrayView(memory.data() + 20, kShape, DType::uint8, {20, 3, 1}));
    REQUIRE(seen().rows);
    CHECK(seen().rows->first_row() == memory.data() + 20);
    CHECK(seen().rows->stride() == 20);
    CHECK(seen().rows->rows() == 4);
    CHECK(seen().rows->row_bytes() == kRowBytes);
    CHECK_FALSE(seen().rows->contiguous());
    CHECK_FALSE(seen().fills_caller_memory);  // allocate() would not return the view
    CHECK(only_rows(memory, memory.data() + 20, 20));
  }
  SECTION("rows backwards (a flipped image), packed") {
    std::vector<std::byte> memory = guarded(kRowBytes, 4);
    std::byte* first = memory.data() + 3 * kRowBytes;
    imio::imread_into(probe_file(), StridedArrayView(first, kShape, DType::uint8, {-15, 3, 1}));
    REQUIRE(seen().rows);
    CHECK(seen().rows->stride() == -15);
    CHECK(only_rows(memory, first, -15));
  }
  SECTION("once per call") {
    seen().mode = Mode::twice;
    std::vector<std::byte> memory = guarded(16, 4);
    imio::imread_into(probe_file(), StridedArrayView(memory.data(), kShape, DType::uint8, {16, 3, 1}));
    CHECK(seen().rows);
    CHECK_FALSE(seen().second_offer);
    CHECK(only_rows(memory, memory.data(), 16));
  }
}

TEST_CASE("row_target is absent for contiguous targets, plain reads and views that are not row-padded", "[row_target]") {
  register_probe();
  seen() = {};
  SECTION("a contiguous array is allocate()'s") {
    NDArray out(kShape, DType::uint8);
    imio::imread_into(probe_file(), out);
    CHECK_FALSE(seen().rows);
    CHECK(seen().fills_caller_memory);
    CHECK(seen().allocated == out.bytes());
  }
  SECTION("imread") {
    const NDArray image = imio::imread(probe_file());
    CHECK_FALSE(seen().rows);
    CHECK_FALSE(seen().fills_caller_memory);
  }
  SECTION("planar memory (the last axis not packed): copied, never handed out as contiguous") {
    std::vector<std::byte> memory = guarded(kRowBytes * 4, 1);
    imio::imread_into(probe_file(), StridedArrayView(memory.data(), kShape, DType::uint8, {5, 1, 20}));
    CHECK_FALSE(seen().rows);
    CHECK(seen().allocated != nullptr);
    CHECK(seen().allocated != memory.data());
    CHECK(memory[20 * 2 + 5 * 3 + 4] == value(3, 4 * 3 + 2));  // element (3, 4, 2)
  }
  SECTION("rows overlapping one another (|stride| below a row): copied") {
    std::vector<std::byte> memory = guarded(10, 6);
    imio::imread_into(probe_file(), StridedArrayView(memory.data(), kShape, DType::uint8, {10, 3, 1}));
    CHECK_FALSE(seen().rows);
    CHECK(memory[30 + 14] == value(3, 14));  // the last row, written last
  }
}

TEST_CASE("rows a plugin takes but does not use are copied; foreign rows are a plugin defect", "[row_target]") {
  register_probe();
  seen() = {};
  std::vector<std::byte> memory = guarded(24, 4);
  const StridedArrayView view(memory.data(), kShape, DType::uint8, {24, 3, 1});
  SECTION("ignored: the plugin's own array is copied into the view") {
    seen().mode = Mode::ignore;
    imio::imread_into(probe_file(), view);
    CHECK(seen().rows);
    CHECK(seen().allocated != nullptr);
    CHECK(only_rows(memory, memory.data(), 24));
  }
  SECTION("foreign") {
    seen().mode = Mode::foreign;
    const std::string m = imio_test::message_of<imio::Error>([&] { imio::imread_into(probe_file(), view); });
    CHECK(imio_test::contains(m, "plugin defect"));
    CHECK(imio_test::contains(m, "rowprobe"));
  }
}
