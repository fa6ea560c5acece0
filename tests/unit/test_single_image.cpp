// The helpers for one-image plugins (<imio/single_image.hpp>).
#include <imio/single_image.hpp>

#include <algorithm>
#include <cstring>
#include <string>

#include "catch.hpp"

namespace {

// A source that is not in memory (contiguous() gives nothing) and starts
// positioned past its beginning, as a plugin finds it after sniffing.
class StreamedSource final : public imio::ByteSource {
 public:
  explicit StreamedSource(imio::Bytes data) : data_(std::move(data)) { pos_ = data_.size() / 2; }
  std::size_t read(void* dst, std::size_t n) override {
    const std::size_t k = std::min<std::size_t>(n, data_.size() > pos_ ? data_.size() - pos_ : 0);
    std::memcpy(dst, data_.data() + pos_, k);
    pos_ += k;
    return k;
  }
  void seek(std::uint64_t pos) override { pos_ = static_cast<std::size_t>(pos); }
  std::uint64_t tell() const override { return pos_; }
  std::optional<std::uint64_t> size() const override { return std::nullopt; }  // a pipe

 private:
  imio::Bytes data_;
  std::size_t pos_ = 0;
};

class MemorySource final : public imio::ByteSource {
 public:
  explicit MemorySource(const imio::Bytes& data) : data_(data) {}
  std::size_t read(void*, std::size_t) override { throw std::logic_error("whole_data must use the view"); }
  void seek(std::uint64_t) override {}
  std::uint64_t tell() const override { return 0; }
  std::optional<std::uint64_t> size() const override { return data_.size(); }
  std::optional<std::span<const std::byte>> contiguous() const override { return std::span<const std::byte>(data_); }

 private:
  const imio::Bytes& data_;
};

imio::Bytes bytes_of(const std::string& s) {
  imio::Bytes b(s.size());
  std::memcpy(b.data(), s.data(), s.size());
  return b;
}

}  // namespace

TEST_CASE("single_image_wants_batch: none and 0 are the image, all a batch, others IndexError", "[single_image]") {
  CHECK_FALSE(imio::single_image_wants_batch(imio::Index{}, "a JPEG file"));
  CHECK_FALSE(imio::single_image_wants_batch(imio::Index{0}, "a JPEG file"));
  CHECK(imio::single_image_wants_batch(imio::Index{imio::all}, "a JPEG file"));
  try {
    imio::single_image_wants_batch(imio::Index{3}, "a JPEG file");
    FAIL("index 3 was accepted");
  } catch (const imio::IndexError& e) {
    CHECK(std::string(e.what()).find("index 3 is out of range: a JPEG file holds 1 image") != std::string::npos);
  }
}

TEST_CASE("with_batch_axis prepends the batch size", "[single_image]") {
  CHECK(imio::with_batch_axis(imio::Shape{4, 5, 3}) == imio::Shape{1, 4, 5, 3});
  CHECK(imio::with_batch_axis(imio::Shape{2}, 7) == imio::Shape{7, 2});
  CHECK(imio::with_batch_axis(imio::Shape{}) == imio::Shape{1});
}

TEST_CASE("one_frame decodes once, when asked, then ends", "[single_image]") {
  int calls = 0;
  auto frames = imio::one_frame([&calls] {
    ++calls;
    return imio::NDArray(imio::Shape{2, 3}, imio::DType::uint8);
  });
  CHECK(calls == 0);  // nothing decoded before the iteration starts
  const auto first = frames->next();
  REQUIRE(first.has_value());
  CHECK(first->shape() == imio::Shape{2, 3});
  CHECK_FALSE(frames->next().has_value());
  CHECK_FALSE(frames->next().has_value());
  CHECK(calls == 1);
}

TEST_CASE("one_frame passes the producer's exception to the caller of next()", "[single_image]") {
  auto frames = imio::one_frame([]() -> imio::NDArray { throw imio::DecodeError("broken"); });
  CHECK_THROWS_AS(frames->next(), imio::DecodeError);
}

TEST_CASE("whole_data: the in-memory view itself, or everything read from position 0", "[single_image]") {
  const imio::Bytes data = bytes_of("0123456789");
  imio::Bytes storage;
  MemorySource memory(data);
  const auto view = imio::whole_data(memory, storage, 1000);
  CHECK(view.data() == data.data());  // not copied
  CHECK(storage.empty());

  StreamedSource streamed(data);
  const auto read = imio::whole_data(streamed, storage, 1000);
  CHECK(read.data() == storage.data());
  CHECK(std::string(reinterpret_cast<const char*>(read.data()), read.size()) == "0123456789");

  StreamedSource too_long(data);
  imio::Bytes other;
  CHECK_THROWS_AS(imio::whole_data(too_long, other, 4), imio::LimitError);
}
