// imio — kwargs declared once: the schema a plugin's descriptor gives for
// each method (KwargSpec, MethodSpec) and KwargReader, which validates a
// call's kwargs against it. For plugin authors (<imio/plugin.hpp> includes it).
#pragma once

#include <imio/error.hpp>
#include <imio/export.hpp>
#include <imio/options.hpp>
#include <imio/value.hpp>

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace imio {

/// One keyword argument of a plugin method, as the plugin's descriptor
/// declares it ("kwargs" in plugin.json, docs/writing-plugins.md).
struct KwargSpec {
  /// The keyword ("quality").
  std::string name;
  /// The accepted value types, as Value::type_name() names them, joined by
  /// '|': "bool", "int", "float" (an int is accepted too), "str", "bytes",
  /// "list", "dict", "none", "..." — or "any".
  std::string type = "any";
  /// What the method uses when the kwarg is absent; None when it has no
  /// default (or its default is None).
  Value default_value{};
  /// Inclusive lower bound of an int or float value.
  std::optional<double> minimum{};
  /// Inclusive upper bound of an int or float value.
  std::optional<double> maximum{};
  /// The accepted values (compared as Values), when they are a fixed set.
  std::vector<Value> choices{};
  /// One line for `imio plugins` and the README tables.
  std::string doc{};
};

/// The kwargs of one method of a plugin.
struct MethodSpec {
  /// "open" (the factory's, imopen's kwargs), "read", "iter", "properties",
  /// "metadata", "write", or a plugin extra ("iter_pages").
  std::string method;
  /// Empty, or the variant of the method when its kwargs depend on what was
  /// opened: the ffmpeg plugin's "still" and "video" readers, libtiff's
  /// "pillow" reader, an "open" that differs for "read" and "write".
  std::string variant{};
  /// When the variant applies, in one line (for the docs).
  std::string when{};
  /// The kwargs it accepts, in documentation order.
  std::vector<KwargSpec> kwargs{};

  /// The declaration of `key`, or nullptr.
  const KwargSpec* find(std::string_view key) const noexcept;
};

/// Reads a call's kwargs for one method of one plugin (DECISIONS D10).
///
/// When the registered plugin `plugin` declares the method (a MethodSpec for
/// `method` and `variant`), the constructor validates every kwarg against
/// it — a key given twice, an unknown key (the message lists the accepted
/// ones), a value of the wrong type, out of range or not among the choices
/// are ArgumentErrors naming the plugin, the method and the key — and
/// get() returns declared defaults. Reading a key the method does not
/// declare is a plugin bug (imio::Error).
///
/// A plugin without declarations (one registered at run time without
/// `methods`) gets the same messages from finish(): whatever was not taken
/// is an unknown kwarg, and the accepted keys are those taken.
///
///   KwargReader kw(kwargs, "libpng", "read");
///   auto mode   = kw.take<std::string>("mode");   // std::optional: the caller's value
///   bool rotate = kw.get<bool>("rotate");          // the caller's value or the declared default
///   kw.finish();
class IMIO_EXPORT KwargReader {
 public:
  /// Starts reading `kwargs` (which must outlive the reader) for `plugin`'s
  /// `method`, in its `variant` when the descriptor declares several.
  /// Throws the ArgumentErrors described above.
  KwargReader(const Kwargs& kwargs, std::string_view plugin, std::string_view method, std::string_view variant = {});
  ~KwargReader();
  KwargReader(const KwargReader&) = delete;
  KwargReader& operator=(const KwargReader&) = delete;

  /// The caller's value of `key` as T (bool, integers, double, std::string,
  /// Bytes, Value::List, Dict or Value), or nullopt when absent or None (as
  /// Python's `key=None` defaults mean "not given"; take<Value> returns a
  /// None as given); a value of another type is an ArgumentError naming the
  /// key and both types.
  template <class T>
  std::optional<T> take(std::string_view key) {
    const Value* v = find(key);
    if (v == nullptr || (v->is_none() && !std::is_same_v<T, Value>)) return std::nullopt;
    try {
      return v->template get<T>();
    } catch (const ArgumentError& e) {
      fail(key, e.reason());
    }
  }
  /// The caller's value of `key` as T, or `fallback` when absent.
  template <class T>
  T take(std::string_view key, T fallback) {
    auto v = take<T>(key);
    return v ? std::move(*v) : std::move(fallback);
  }
  /// The caller's value of `key` as T, or the declared default when absent
  /// or None (an imio::Error when the method declares no default for `key`).
  template <class T>
  T get(std::string_view key) {
    if (auto v = take<T>(key)) return std::move(*v);
    return declared_default(key).template get<T>();
  }
  /// Marks `key` as read and returns the caller's raw value, or nullptr.
  const Value* find(std::string_view key);
  /// An ArgumentError "plugin.method(): keyword 'key': reason".
  [[noreturn]] void fail(std::string_view key, std::string_view reason) const;
  /// Without declarations: throws ArgumentError when a kwarg was not taken.
  /// With them, the constructor has checked everything already.
  void finish() const;

  /// The declarations this reader validates against; nullptr when the
  /// plugin declares none for the method.
  const MethodSpec* schema() const noexcept { return schema_; }

 private:
  const Value& declared_default(std::string_view key) const;
  void validate() const;
  [[noreturn]] void unknown(const std::vector<std::string>& keys, std::vector<std::string> accepted) const;

  const Kwargs& kwargs_;
  std::string plugin_, method_;
  std::shared_ptr<const void> owner_;  // keeps schema_'s plugin descriptor alive
  const MethodSpec* schema_ = nullptr;
  std::vector<std::string> accepted_;
  std::vector<bool> taken_;
};

}  // namespace imio
