// What every imio fuzz target does with its input: the public API on
// in-memory bytes under tight Limits. An imio::Error is the expected answer
// to bad input; anything else (another exception, a crash, a sanitizer
// report, a hang) is a finding.
#pragma once

#include <imio/imio.hpp>
#include <imio/plugin.hpp>

#include <cstdint>
#include <cstdlib>
#include <cstdio>
#include <exception>
#include <span>
#include <string>
#include <vector>

namespace imio_fuzz {

/// Bounds small enough that a fuzzer's input cannot make a call slow by
/// asking for huge arrays (the defaults are checked by the unit tests).
inline imio::Limits tight_limits() { return {.max_pixels = 1u << 20, .max_frames = 64, .max_bytes = 64u << 20}; }

/// Stops the fuzzer on an exception that is not imio's: a plugin let a
/// backend's or the standard library's error escape.
[[noreturn]] inline void foreign_exception(const char* call, const char* what) {
  std::fprintf(stderr, "imio fuzz: %s threw a non-imio exception: %s\n", call, what);
  std::abort();
}

template <class F>
void attempt(const char* call, F&& f) {
  try {
    f();
  } catch (const imio::Error&) {
    // the expected answer to bad input
  } catch (const std::exception& e) {
    foreign_exception(call, e.what());
  } catch (...) {
    foreign_exception(call, "(not a std::exception)");
  }
}

/// Which calls a target makes (a parser's target makes only those that
/// reach it without decoding pixels).
enum Calls : unsigned {
  kProps = 1,
  kMeta = 2,
  kRead = 4,
  kReadAll = 8,
  kIter = 16,
  kAll = 31,
  /// Crops through one imopen handle: a reader's later crops take paths a
  /// single read does not (the JPEG entropy index).
  kCrops = 32,
};

/// Three crops of the first image through one handle, not strict and
/// strict: a box in the middle, the bottom-right pixel, the top rows.
inline void crop_on_handle(const imio::ImageResource& resource, const char* plugin, const imio::Limits& limits) {
  imio::ImageFile file = imio::imopen(resource, "r", {.plugin = plugin, .limits = limits});
  const std::vector<std::size_t> shape = file.properties().shape;
  if (shape.size() < 2 || shape[0] == 0 || shape[1] == 0) return;
  const auto h = static_cast<std::int64_t>(shape[0]), w = static_cast<std::int64_t>(shape[1]);
  for (const bool strict : {false, true}) {
    for (const imio::Value& box : {imio::Value{w / 4, h / 3, w / 2 + 1, h * 2 / 3 + 1}, imio::Value{w - 1, h - 1, w, h},
                                   imio::Value{0, 0, w, h / 8 + 1}}) {
      attempt("read(crop)", [&] { (void)file.read({.kwargs = {{"crop", box}, {"strict", strict}}}); });
    }
  }
}

/// The calls of `calls` on `data`, through `plugin` (empty: chosen by
/// signature, as for an unnamed resource), with `kwargs` for the reads.
inline void exercise(std::span<const std::byte> data, const char* plugin, unsigned calls, const imio::Kwargs& kwargs = {}) {
  const imio::Limits limits = tight_limits();
  const imio::ImageResource resource(data);
  if (calls & kProps) attempt("improps", [&] { (void)imio::improps(resource, {.plugin = plugin, .kwargs = kwargs, .limits = limits}); });
  if (calls & kMeta) attempt("immeta", [&] { (void)imio::immeta(resource, {.plugin = plugin, .limits = limits}); });
  if (calls & kRead) attempt("imread", [&] { (void)imio::imread(resource, {.plugin = plugin, .kwargs = kwargs, .limits = limits}); });
  if (calls & kReadAll) {
    attempt("imread(all)", [&] { (void)imio::imread(resource, {.index = imio::all, .plugin = plugin, .kwargs = kwargs, .limits = limits}); });
  }
  if (calls & kCrops) attempt("imopen", [&] { crop_on_handle(resource, plugin, limits); });
  if (calls & kIter) {
    // imiter streams in constant memory, so the Limits do not stop a long
    // valid video (a seed): the target stops where imread(all) would.
    attempt("imiter", [&] {
      std::uint64_t frames = 0;
      for (const imio::NDArray& frame : imio::imiter(resource, {.plugin = plugin, .kwargs = kwargs, .limits = limits})) {
        (void)frame;
        if (++frames == limits.max_frames) break;
      }
    });
  }
}

/// The library prints nothing; warnings are dropped here too.
inline void quiet() {
  static const bool done = [] {
    imio::set_warning_handler({});
    return true;
  }();
  (void)done;
}

}  // namespace imio_fuzz
