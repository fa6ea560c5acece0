// OpenEXR's streams over imio's memory (a memory-mapped or buffered file to
// read, a growing buffer to write), and OpenEXR's Iex exceptions turned into
// imio's at the plugin boundary.
#pragma once

#include <imio/error.hpp>
#include <imio/ndarray.hpp>

#include <ImfIO.h>

#include <cstddef>
#include <cstdint>
#include <new>
#include <span>
#include <string>
#include <utility>

namespace imio::exr {

/// A read-only IStream over bytes that outlive it; memory-mapped in
/// OpenEXR's sense, so the library decodes from the bytes without copying.
class MemoryInput final : public Imf::IStream {
 public:
  MemoryInput(std::span<const std::byte> data, const std::string& name);
  bool isMemoryMapped() const override { return true; }
  bool read(char c[], int n) override;
  char* readMemoryMapped(int n) override;
  std::uint64_t tellg() override { return pos_; }
  void seekg(std::uint64_t pos) override { pos_ = pos; }

 private:
  void need(int n) const;
  std::span<const std::byte> data_;
  std::uint64_t pos_ = 0;
};

/// An OStream into memory (OpenEXR seeks back to fill the offset tables).
class MemoryOutput final : public Imf::OStream {
 public:
  MemoryOutput() : Imf::OStream("<memory>") {}
  void write(const char c[], int n) override;
  std::uint64_t tellp() override { return pos_; }
  void seekp(std::uint64_t pos) override { pos_ = pos; }
  const Bytes& bytes() const { return bytes_; }

 private:
  Bytes bytes_;
  std::uint64_t pos_ = 0;
};

/// Runs `f`, turning the exceptions OpenEXR throws (Iex::BaseExc and the
/// standard library's) into `E` (DecodeError or EncodeError) with the
/// library's message; imio's own exceptions pass unchanged.
template <class E, class F>
decltype(auto) guarded(F&& f) {
  try {
    return std::forward<F>(f)();
  } catch (const Error&) {
    throw;
  } catch (const std::bad_alloc&) {
    throw LimitError("out of memory in the OpenEXR library");
  } catch (const std::exception& e) {
    throw E(e.what());
  }
}

}  // namespace imio::exr
