// imio — Value and Dict: the dynamically typed values of keyword arguments
// and metadata (Python's None, bool, int, float, str, bytes, list and dict).
#pragma once

#include <imio/error.hpp>
#include <imio/export.hpp>
#include <imio/ndarray.hpp>

#include <concepts>
#include <cstdint>
#include <initializer_list>
#include <iosfwd>
#include <limits>
#include <iterator>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

namespace imio {

class Value;

/// An insertion-ordered map from string keys to Values (Python's dict).
/// Keys are unique; set() replaces an existing key in place.
class IMIO_EXPORT Dict {
 public:
  /// One entry: the key and its value.
  using Item = std::pair<std::string, Value>;

  /// An empty map.
  Dict();
  /// A map of `items` in the given order; a repeated key keeps its first
  /// position and its last value (as set() does).
  Dict(std::initializer_list<Item> items);
  /// Copies every entry (deep copy of nested lists and maps).
  Dict(const Dict&);
  /// Takes the entries of another map, which is left empty.
  Dict(Dict&&) noexcept;
  /// Replaces the entries with copies of another map's.
  Dict& operator=(const Dict&);
  /// Replaces the entries with those of another map, which is left empty.
  Dict& operator=(Dict&&) noexcept;
  ~Dict();

  /// Whether `key` is present.
  bool contains(std::string_view key) const noexcept;
  /// The value of `key`; ArgumentError when absent.
  const Value& at(std::string_view key) const;
  /// The value of `key`, modifiable in place; ArgumentError when absent.
  Value& at(std::string_view key);
  /// Pointer to the value of `key`, or nullptr.
  const Value* lookup(std::string_view key) const noexcept;
  /// Sets `key` (appended when new, replaced in place otherwise).
  void set(std::string key, Value value);
  /// Removes `key`; returns whether it was there.
  bool erase(std::string_view key);

  /// The value as T; ArgumentError when absent (naming the key and the keys
  /// present) or of another type (naming the key and both types).
  template <class T>
  T get(std::string_view key) const;
  /// The value as T, or nullopt when absent; ArgumentError naming the key
  /// and both types when of another type.
  template <class T>
  std::optional<T> find(std::string_view key) const;

  /// Number of entries.
  std::size_t size() const noexcept;
  /// Whether there are no entries.
  bool empty() const noexcept;
  /// First entry, in insertion order (for range-for).
  const Item* begin() const noexcept;
  /// Past the last entry.
  const Item* end() const noexcept;
  /// The entries in insertion order.
  const std::vector<Item>& items() const noexcept;

  /// Same entries in the same order (order matters, as in the JSON of `imio meta`).
  bool operator==(const Dict& other) const;

 private:
  [[noreturn]] static void throw_wrong_type(std::string_view key, const ArgumentError& error);
  std::vector<Item> items_;
};

/// Python's Ellipsis: `index = imio::all` stacks every image.
struct All {
  /// Always true: there is only one Ellipsis.
  friend bool operator==(All, All) = default;
};
/// The Ellipsis value: `{.index = imio::all}` reads every image stacked.
inline constexpr All all{};

/// A range a Value becomes a list from: a container or view (std::vector,
/// std::array, std::span, …) of numbers, strings or Values — not a string,
/// not bytes, not already a Value list.
template <class R>
concept ListRange = requires(const R& r) {
  std::begin(r);
  std::end(r);
  typename R::value_type;
} && !std::is_convertible_v<const R&, std::string_view> && !std::is_same_v<R, Bytes> &&
    !std::is_same_v<R, std::vector<Value>> &&
    (std::is_arithmetic_v<typename R::value_type> || std::is_same_v<typename R::value_type, Value> ||
     std::is_convertible_v<typename R::value_type, std::string_view> || std::is_same_v<typename R::value_type, const char*>);

/// A dynamically typed value: none | bool | int64 | double | string | Bytes |
/// list of Value | Dict | All (the `...` some kwargs accept).
///
/// Converts implicitly from bool, any integer, floating point, const char*
/// (never to bool), std::string, std::string_view, Bytes, Dict and
/// initializer lists (`{100, 200, 300}` is a list).
class IMIO_EXPORT Value {
 public:
  /// Python's None.
  using None = std::monostate;
  /// Python's list.
  using List = std::vector<Value>;
  /// The alternatives a Value can hold, in type_name() order.
  using Storage = std::variant<None, bool, std::int64_t, double, std::string, Bytes, List, Dict, All>;

  /// None.
  Value() noexcept;
  /// None (`std::nullopt` reads as Python's None).
  Value(std::nullopt_t) noexcept;
  /// A bool.
  Value(bool b) noexcept;
  /// An int, stored as int64; an unsigned value above INT64_MAX is an ArgumentError.
  template <std::integral I>
    requires(!std::same_as<I, bool>)
  Value(I i) : Value(from_integer(i)) {}
  /// A float.
  Value(double d) noexcept;
  /// A float, widened to double.
  Value(float f) noexcept;
  /// A str (copied); nullptr gives the empty string. Never a bool.
  Value(const char* s);
  /// A str.
  Value(std::string s) noexcept;
  /// A str (copied).
  Value(std::string_view s);
  /// A bytes value.
  Value(Bytes b) noexcept;
  /// A list.
  Value(List l) noexcept;
  /// A dict.
  Value(Dict d) noexcept;
  /// The Ellipsis (`...`).
  Value(All a) noexcept;
  /// A list of the given values: `Value{100, 200, 300}`.
  Value(std::initializer_list<Value> list);
  /// A list of the range's elements (numbers, strings or Values):
  /// std::vector<int>, std::array<double, 2>, std::span<const std::string>, …
  template <class Range>
    requires ListRange<Range>
  Value(const Range& range) : v_(List(std::begin(range), std::end(range))) {}
  /// A bytes value (copied) from a view of bytes.
  Value(std::span<const std::byte> bytes);

  /// Deep copy (lists and maps included).
  Value(const Value&);
  /// Takes the contents of another value (left valid but unspecified).
  Value(Value&&) noexcept;
  /// Deep copy assignment.
  Value& operator=(const Value&);
  /// Move assignment.
  Value& operator=(Value&&) noexcept;
  ~Value();

  /// Whether the value is None.
  bool is_none() const noexcept { return std::holds_alternative<None>(v_); }
  /// Whether the stored alternative is exactly T (one of Storage's types;
  /// no conversion: `is<double>()` is false for an int).
  template <class T>
  bool is() const noexcept {
    return std::holds_alternative<T>(v_);
  }
  /// The stored alternative; ArgumentError naming both types when it is another.
  /// get<double>() also accepts an integer; get<int64_t>() accepts a double
  /// holding an integral value.
  template <class T>
  T get() const;
  /// Reference to the stored alternative T; ArgumentError when it is another.
  template <class T>
  const T& ref() const;

  /// "none", "bool", "int", "float", "str", "bytes", "list", "dict", "..."
  std::string_view type_name() const noexcept;
  /// A short Python-like rendering for messages: 3, 2.5, 'text', b'…'(12 bytes), [1, 2].
  std::string repr() const;

  /// The underlying variant, for std::visit.
  const Storage& storage() const noexcept { return v_; }

  /// Same alternative and equal contents (an int never equals a float).
  bool operator==(const Value& other) const;

 private:
  template <class I>
  static Value from_integer(I i) {
    if constexpr (std::is_unsigned_v<I> && sizeof(I) >= sizeof(std::int64_t)) {
      if (i > static_cast<std::uint64_t>(INT64_MAX)) throw_out_of_range();
    }
    return Value(Storage(std::in_place_type<std::int64_t>, static_cast<std::int64_t>(i)));
  }
  explicit Value(Storage s) noexcept;
  [[noreturn]] static void throw_out_of_range();
  [[noreturn]] void throw_type(std::string_view wanted) const;

  Storage v_;
};

template <class T>
const T& Value::ref() const {
  if (const T* p = std::get_if<T>(&v_)) return *p;
  if constexpr (std::is_same_v<T, bool>) throw_type("bool");
  else if constexpr (std::is_same_v<T, std::int64_t>) throw_type("int");
  else if constexpr (std::is_same_v<T, double>) throw_type("float");
  else if constexpr (std::is_same_v<T, std::string>) throw_type("str");
  else if constexpr (std::is_same_v<T, Bytes>) throw_type("bytes");
  else if constexpr (std::is_same_v<T, List>) throw_type("list");
  else if constexpr (std::is_same_v<T, Dict>) throw_type("dict");
  else throw_type("...");
}

template <class T>
T Value::get() const {
  if constexpr (std::is_same_v<T, Value>) {
    return *this;
  } else if constexpr (std::is_same_v<T, double>) {
    if (const auto* i = std::get_if<std::int64_t>(&v_)) return static_cast<double>(*i);
    return ref<double>();
  } else if constexpr (std::is_same_v<T, float>) {
    // A finite double beyond float's range has no float: converting it is
    // undefined behaviour, so the range is checked first.
    const double d = get<double>();
    constexpr double top = std::numeric_limits<float>::max(), huge = std::numeric_limits<double>::max();
    if ((d > top && d <= huge) || (d < -top && d >= -huge)) throw_type("float in range");  // ±inf and NaN convert
    return static_cast<float>(d);
  } else if constexpr (std::is_same_v<T, bool>) {
    return ref<bool>();
  } else if constexpr (std::is_integral_v<T>) {
    std::int64_t i = 0;
    if (const auto* d = std::get_if<double>(&v_)) {
      // The range before the cast: a double outside int64 (1e300, NaN) has
      // no integer, and converting it is undefined behaviour.
      if (!(*d >= -0x1p63 && *d < 0x1p63) || *d != static_cast<double>(static_cast<std::int64_t>(*d))) {
        throw_type(std::is_signed_v<T> ? "int in range" : "non-negative int in range");
      }
      i = static_cast<std::int64_t>(*d);
    } else {
      i = ref<std::int64_t>();
    }
    if (!std::in_range<T>(i)) throw_type(std::is_signed_v<T> ? "int in range" : "non-negative int in range");
    return static_cast<T>(i);
  } else {
    return ref<T>();
  }
}

template <class T>
T Dict::get(std::string_view key) const {
  const Value& v = at(key);
  try {
    return v.template get<T>();
  } catch (const ArgumentError& e) {
    throw_wrong_type(key, e);
  }
}

template <class T>
std::optional<T> Dict::find(std::string_view key) const {
  const Value* v = lookup(key);
  if (v == nullptr) return std::nullopt;
  try {
    return v->template get<T>();
  } catch (const ArgumentError& e) {
    throw_wrong_type(key, e);
  }
}

/// Python's repr of the value (`{'Make': 'Canon', 'dpi': [72.0, 72.0]}`).
IMIO_EXPORT std::ostream& operator<<(std::ostream& out, const Value& value);
/// Python's repr of the map.
IMIO_EXPORT std::ostream& operator<<(std::ostream& out, const Dict& dict);

}  // namespace imio
