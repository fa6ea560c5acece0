// Comparing imio's arrays with an independent reader's (saved as .npy by a
// Python script), and catching what imio says through its warning handler.
#pragma once

#include <imio/imio.hpp>
#include <imio/plugin.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <istream>
#include <mutex>
#include <streambuf>
#include <string>
#include <vector>

namespace imio_test {

/// The largest absolute difference of two arrays of the same shape and an
/// integer dtype of at most 16 bits (bool, uint8, uint16, int8, int16); -1
/// when the shapes or dtypes differ.
inline double max_abs_diff(const imio::NDArray& a, const imio::NDArray& b) {
  using imio::DType;
  if (a.shape() != b.shape() || a.dtype() != b.dtype()) return -1;
  double worst = 0;
  const std::size_t n = a.size();
  auto value = [](const imio::NDArray& x, std::size_t i) -> double {
    switch (x.dtype()) {
      case DType::bool_:
      case DType::uint8: return std::to_integer<unsigned>(x.bytes()[i]);
      case DType::int8: return static_cast<std::int8_t>(std::to_integer<unsigned>(x.bytes()[i]));
      case DType::uint16: return x.data<std::uint16_t>()[i];
      case DType::int16: return x.data<std::int16_t>()[i];
      default: return std::nan("");
    }
  };
  for (std::size_t i = 0; i < n; ++i) worst = std::max(worst, std::abs(value(a, i) - value(b, i)));
  return worst;
}

/// Collects every imio::warn while alive (and restores the previous handler).
class WarningCapture {
 public:
  WarningCapture() {
    previous_ = imio::set_warning_handler([this](std::string_view source, std::string_view message) {
      std::lock_guard lock(mutex_);
      messages_.push_back(std::string(source) + ": " + std::string(message));
    });
  }
  ~WarningCapture() { imio::set_warning_handler(previous_); }
  WarningCapture(const WarningCapture&) = delete;
  WarningCapture& operator=(const WarningCapture&) = delete;

  std::vector<std::string> messages() const {
    std::lock_guard lock(mutex_);
    return messages_;
  }
  bool any_contains(std::string_view part) const {
    for (const std::string& m : messages()) {
      if (m.find(part) != std::string::npos) return true;
    }
    return false;
  }

 private:
  imio::WarningHandler previous_;
  mutable std::mutex mutex_;
  std::vector<std::string> messages_;
};

/// A std::istream over bytes that cannot seek or tell its size (a pipe, a
/// socket): the shape of input for which a length field is all there is.
class NonSeekableStream : public std::istream {
 public:
  explicit NonSeekableStream(imio::Bytes data) : std::istream(nullptr), buf_(std::move(data)) { rdbuf(&buf_); }

 private:
  class Buf : public std::streambuf {
   public:
    explicit Buf(imio::Bytes data) : data_(std::move(data)) {
      char* p = reinterpret_cast<char*>(data_.data());
      setg(p, p, p + data_.size());
    }

   protected:
    pos_type seekoff(off_type, std::ios_base::seekdir, std::ios_base::openmode) override { return pos_type(off_type(-1)); }
    pos_type seekpos(pos_type, std::ios_base::openmode) override { return pos_type(off_type(-1)); }

   private:
    imio::Bytes data_;
  };
  Buf buf_;
};

}  // namespace imio_test
