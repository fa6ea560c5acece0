// imio — the options of the six functions (imageio's keyword arguments).
//
// Options are aggregates, so C++20 designated initializers read like Python
// keyword arguments; every function and ImageFile method also takes the
// plugin kwargs alone, as a Python user writes them:
//
//   imio::imread("movie.mp4", {.index = 42, .kwargs = {{"thread_type", "FRAME"}}});
//   imio::imwrite("a.jpg", img, {{"quality", 90}});           // the kwargs: {.kwargs = {{"quality", 90}}}
#pragma once

#include <imio/export.hpp>
#include <imio/value.hpp>

#include <concepts>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace imio {

/// Which image(s) a call addresses: none (the plugin's documented default),
/// an integer k (the k-th image; negative → IndexError), or imio::all (every
/// image stacked along a new first axis). Mirrors imageio's `index=None|k|...`.
class Index {
 public:
  /// None: the plugin's documented default (`index=None`).
  constexpr Index() noexcept = default;
  /// The k-th image (`index=k`). A negative k is accepted here and rejected
  /// with IndexError by the call that receives it.
  template <std::integral I>
    requires(!std::same_as<I, bool>)
  constexpr Index(I k) noexcept : v_(static_cast<std::int64_t>(k)) {}
  /// Every image, stacked (`index=...`).
  constexpr Index(All) noexcept : v_(All{}) {}
  /// None when `k` is empty, else the k-th image (`index=k if k is not None`).
  template <std::integral I>
    requires(!std::same_as<I, bool>)
  constexpr Index(const std::optional<I>& k) noexcept {
    if (k) v_ = static_cast<std::int64_t>(*k);
  }

  /// Whether this is None (the plugin's default).
  constexpr bool is_none() const noexcept { return std::holds_alternative<std::monostate>(v_); }
  /// Whether this is imio::all.
  constexpr bool is_all() const noexcept { return std::holds_alternative<All>(v_); }
  /// Whether this is an integer index (see value()).
  constexpr bool is_integer() const noexcept { return std::holds_alternative<std::int64_t>(v_); }
  /// The integer; only meaningful when is_integer().
  constexpr std::int64_t value() const noexcept {
    const auto* k = std::get_if<std::int64_t>(&v_);
    return k ? *k : 0;
  }
  /// "None", "...", or the integer, for messages.
  IMIO_EXPORT std::string repr() const;

  /// Same kind (none, integer, all) and, for integers, the same value.
  friend constexpr bool operator==(const Index&, const Index&) = default;

 private:
  std::variant<std::monostate, std::int64_t, All> v_{};
};

/// Whether a resource is opened for reading ("r") or writing ("w").
enum class IoMode : std::uint8_t { read, write };

/// One plugin keyword argument: its name and value (`{"quality", 90}`).
using Kwarg = std::pair<std::string, Value>;
/// Plugin-specific keyword arguments, in the order given. A key given twice
/// is an ArgumentError.
using Kwargs = std::vector<Kwarg>;

/// The name of a plugin (canonical name or imageio alias) in the options: a
/// string that can be made from one string only, so that the kwargs
/// shorthand `{{"quality", 90}}` can never become `std::string("quality", 90)`
/// (the first member of the options it would otherwise initialise).
class PluginName : public std::string {
 public:
  /// No plugin named: chosen by extension or signature.
  PluginName() = default;
  /// A name (nullptr reads as the empty string).
  PluginName(const char* name) : std::string(name == nullptr ? "" : name) {}
  /// A name.
  PluginName(std::string name) noexcept : std::string(std::move(name)) {}
  /// A name (copied).
  PluginName(std::string_view name) : std::string(name) {}
};

/// Resource bounds, checked before large allocations. A zero field means
/// "use the process default" (default_limits()).
struct Limits {
  /// Pixels of one image (height × width, all planes/pages of one ndimage count).
  std::uint64_t max_pixels = 0;
  /// Images in one result or written in one call.
  std::uint64_t max_frames = 0;
  /// Bytes of one allocation: an output array, or input buffered in memory.
  std::uint64_t max_bytes = 0;
  /// Field-wise equality (zero fields compare as zero, not as the defaults).
  friend bool operator==(const Limits&, const Limits&) = default;
};

/// The process-wide defaults: 2^28 pixels, 2^20 frames, 4 GiB.
/// Thread-safe.
IMIO_EXPORT Limits default_limits() noexcept;
/// Replaces the process-wide defaults; zero fields restore imio's built-in
/// value of that field. Thread-safe.
IMIO_EXPORT void set_default_limits(const Limits& limits) noexcept;
/// `limits` with its zero fields replaced by the process defaults.
IMIO_EXPORT Limits effective_limits(const Limits& limits) noexcept;

/// Options of imread() and improps().
struct ReadOptions {
  Index index{};            ///< which image(s): none (plugin default), k, or imio::all
  PluginName plugin{};      ///< canonical name ("libpng") or imageio alias ("pillow")
  std::string extension{};  ///< ".png": pretend the resource has this extension
  Kwargs kwargs{};          ///< forwarded to Plugin::read / Plugin::properties
  Limits limits{};          ///< bounds of this call; zero fields use default_limits()
};

/// Options of imiter().
struct IterOptions {
  PluginName plugin{};      ///< canonical name or imageio alias; empty: chosen by extension/signature
  std::string extension{};  ///< ".gif": pretend the resource has this extension
  Kwargs kwargs{};          ///< forwarded to Plugin::iter
  Limits limits{};          ///< bounds of this call; zero fields use default_limits()
};

/// Options of imwrite().
struct WriteOptions {
  PluginName plugin{};      ///< canonical name or imageio alias; empty: chosen by extension
  std::string extension{};  ///< also decides the encoded format for "<bytes>" and streams
  Kwargs kwargs{};          ///< forwarded to Plugin::write
  Limits limits{};          ///< bounds of this call; zero fields use default_limits()
};

/// Options of immeta().
struct MetaOptions {
  Index index{};            ///< which image's metadata: none (plugin default), k, or imio::all
  PluginName plugin{};      ///< canonical name or imageio alias; empty: chosen by extension/signature
  std::string extension{};  ///< pretend the resource has this extension
  /// Drop entries the read would apply to the pixels (e.g. Orientation with rotate=true).
  bool exclude_applied = true;
  Kwargs kwargs{};  ///< forwarded to Plugin::metadata
  Limits limits{};  ///< bounds of this call; zero fields use default_limits()
};

/// Options of imopen(); kwargs go to the plugin's factory (constructor).
struct OpenOptions {
  PluginName plugin{};      ///< canonical name or imageio alias; empty: chosen by extension/signature
  std::string extension{};  ///< pretend the resource has this extension
  Kwargs kwargs{};          ///< forwarded to the plugin's factory (PluginSpec::factory)
  Limits limits{};          ///< bounds of every call on the ImageFile; zero fields use default_limits()
};

/// Arguments of ImageFile::read().
struct ReadCall {
  Index index{};    ///< which image(s): none (plugin default), k, or imio::all
  Kwargs kwargs{};  ///< forwarded to Plugin::read
};

/// Arguments of ImageFile::properties().
struct PropCall {
  Index index{};    ///< which image(s), as for ReadCall
  Kwargs kwargs{};  ///< forwarded to Plugin::properties
};

/// Arguments of ImageFile::metadata().
struct MetaCall {
  Index index{};                ///< which image's metadata, as for ReadCall
  bool exclude_applied = true;  ///< as MetaOptions::exclude_applied
  Kwargs kwargs{};              ///< forwarded to Plugin::metadata
};

/// Arguments of ImageFile::iter().
struct IterCall {
  Kwargs kwargs{};  ///< forwarded to Plugin::iter
};

/// Arguments of ImageFile::write().
struct WriteCall {
  Kwargs kwargs{};  ///< forwarded to Plugin::write
};

}  // namespace imio
