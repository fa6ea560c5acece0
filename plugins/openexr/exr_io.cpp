#include "exr_io.hpp"

#include <Iex.h>

#include <cstring>

namespace imio::exr {

MemoryInput::MemoryInput(std::span<const std::byte> data, const std::string& name) : Imf::IStream(name.c_str()), data_(data) {}

void MemoryInput::need(int n) const {
  if (n < 0 || pos_ > data_.size() || static_cast<std::uint64_t>(n) > data_.size() - pos_) {
    throw IEX_NAMESPACE::InputExc("Unexpected end of file (the file is truncated).");
  }
}

bool MemoryInput::read(char c[], int n) {
  need(n);
  if (n > 0) std::memcpy(c, data_.data() + pos_, static_cast<std::size_t>(n));
  pos_ += static_cast<std::uint64_t>(n);
  return pos_ < data_.size();
}

char* MemoryInput::readMemoryMapped(int n) {
  need(n);
  // OpenEXR only reads through this pointer (it is the IStream interface's
  // type, not a licence to write).
  char* p = const_cast<char*>(reinterpret_cast<const char*>(data_.data() + pos_));
  pos_ += static_cast<std::uint64_t>(n);
  return p;
}

void MemoryOutput::write(const char c[], int n) {
  if (n <= 0) return;
  const std::uint64_t end = pos_ + static_cast<std::uint64_t>(n);
  if (end > bytes_.size()) bytes_.resize(static_cast<std::size_t>(end));
  std::memcpy(bytes_.data() + pos_, c, static_cast<std::size_t>(n));
  pos_ = end;
}

}  // namespace imio::exr
