#include "counting_new.hpp"

#include <imio/ndarray.hpp>

#include <atomic>
#include <cstdlib>
#include <new>

namespace {

std::atomic<std::size_t> g_threshold{0};  // 0: not counting
std::atomic<std::size_t> g_count{0};
std::atomic<bool> g_plain_on{false};
std::atomic<std::size_t> g_plain_largest{0};

void* aligned(std::size_t n, std::align_val_t al) {
  const auto a = static_cast<std::size_t>(al);
  if (const std::size_t t = g_threshold.load(std::memory_order_relaxed); t != 0 && n >= t) g_count.fetch_add(1);
  // aligned_alloc wants a size that is a multiple of the alignment.
  void* p = std::aligned_alloc(a, n == 0 ? a : (n + a - 1) / a * a);
  if (p == nullptr) throw std::bad_alloc();
  return p;
}

void* plain(std::size_t n) {
  if (g_plain_on.load(std::memory_order_relaxed)) {
    std::size_t seen = g_plain_largest.load(std::memory_order_relaxed);
    while (n > seen && !g_plain_largest.compare_exchange_weak(seen, n)) {
    }
  }
  void* p = std::malloc(n == 0 ? 1 : n);
  if (p == nullptr) throw std::bad_alloc();
  return p;
}

}  // namespace

void* operator new(std::size_t n) { return plain(n); }
void* operator new[](std::size_t n) { return plain(n); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }

// The nothrow forms too (std::stable_sort's temporary buffer uses them): a
// sanitizer's operator new paired with the free() above is a mismatch.
void* operator new(std::size_t n, const std::nothrow_t&) noexcept {
  try {
    return plain(n);
  } catch (...) {
    return nullptr;
  }
}
void* operator new[](std::size_t n, const std::nothrow_t& tag) noexcept { return operator new(n, tag); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }

void* operator new(std::size_t n, std::align_val_t al) { return aligned(n, al); }
void* operator new[](std::size_t n, std::align_val_t al) { return aligned(n, al); }
void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void* operator new(std::size_t n, std::align_val_t al, const std::nothrow_t&) noexcept {
  try {
    return aligned(n, al);
  } catch (...) {
    return nullptr;
  }
}
void* operator new[](std::size_t n, std::align_val_t al, const std::nothrow_t& tag) noexcept {
  return operator new(n, al, tag);
}
void operator delete(void* p, std::align_val_t, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t, const std::nothrow_t&) noexcept { std::free(p); }

namespace imio_test {

LargeAllocations::LargeAllocations(std::size_t min_bytes) {
  // Arrays' blocks kept from destroyed arrays would serve new arrays
  // without an operator new to count: none are kept when counting starts.
  imio::release_kept_memory();
  g_count = 0;
  g_threshold = min_bytes == 0 ? 1 : min_bytes;
}
LargeAllocations::~LargeAllocations() { g_threshold = 0; }
std::size_t LargeAllocations::count() const { return g_count.load(); }

PlainAllocations::PlainAllocations() {
  g_plain_largest = 0;
  g_plain_on = true;
}
PlainAllocations::~PlainAllocations() { g_plain_on = false; }
std::size_t PlainAllocations::largest() const { return g_plain_largest.load(); }

}  // namespace imio_test
