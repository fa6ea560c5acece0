// imio — Value and Dict: the dynamically typed values of keyword arguments
// and metadata (Python's None, bool, int, float, str, bytes, list and dict).
#pragma once

#include <imio/error.hpp>
#include <imio/export.hpp>
#include <imio/ndarray.hpp>

#include <concepts>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace imio {

class Value;

/// An insertion-ordered map from string keys to Values (Python's dict).
/// Keys are unique; set() replaces an existing key in place.
class IMIO_EXPORT Dict {
 public:
  using Item = std::pair<std::string, Value>;

  Dict();
  Dict(std::initializer_list<Item> items);
  Dict(const Dict&);
  Dict(Dict&&) noexcept;
  Dict& operator=(const Dict&);
  Dict& operator=(Dict&&) noexcept;
  ~Dict();

  bool contains(std::string_view key) const noexcept;
  /// The value of `key`; ArgumentError when absent.
  const Value& at(std::string_view key) const;
  Value& at(std::string_view key);
  /// Pointer to the value of `key`, or nullptr.
  const Value* lookup(std::string_view key) const noexcept;
  /// Sets `key` (appended when new, replaced in place otherwise).
  void set(std::string key, Value value);
  /// Removes `key`; returns whether it was there.
  bool erase(std::string_view key);

  /// The value as T; ArgumentError when absent or of another type.
  template <class T>
  T get(std::string_view key) const;
  /// The value as T, or nullopt when absent; ArgumentError when of another type.
  template <class T>
  std::optional<T> find(std::string_view key) const;

  std::size_t size() const noexcept;
  bool empty() const noexcept;
  const Item* begin() const noexcept;
  const Item* end() const noexcept;
  const std::vector<Item>& items() const noexcept;

  bool operator==(const Dict& other) const;

 private:
  std::vector<Item> items_;
};

/// Python's Ellipsis: `index = imio::all` stacks every image.
struct All {
  friend bool operator==(All, All) = default;
};
inline constexpr All all{};

/// A dynamically typed value: none | bool | int64 | double | string | Bytes |
/// list of Value | Dict | All (the `...` some kwargs accept).
///
/// Converts implicitly from bool, any integer, floating point, const char*
/// (never to bool), std::string, std::string_view, Bytes, Dict and
/// initializer lists (`{100, 200, 300}` is a list).
class IMIO_EXPORT Value {
 public:
  using None = std::monostate;
  using List = std::vector<Value>;
  using Storage = std::variant<None, bool, std::int64_t, double, std::string, Bytes, List, Dict, All>;

  Value() noexcept;
  Value(std::nullopt_t) noexcept;
  Value(bool b) noexcept;
  template <std::integral I>
    requires(!std::same_as<I, bool>)
  Value(I i) : Value(from_integer(i)) {}
  Value(double d) noexcept;
  Value(float f) noexcept;
  Value(const char* s);
  Value(std::string s) noexcept;
  Value(std::string_view s);
  Value(Bytes b) noexcept;
  Value(List l) noexcept;
  Value(Dict d) noexcept;
  Value(All a) noexcept;
  Value(std::initializer_list<Value> list);

  Value(const Value&);
  Value(Value&&) noexcept;
  Value& operator=(const Value&);
  Value& operator=(Value&&) noexcept;
  ~Value();

  bool is_none() const noexcept { return std::holds_alternative<None>(v_); }
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

  const Storage& storage() const noexcept { return v_; }

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
  } else if constexpr (std::is_same_v<T, double> || std::is_same_v<T, float>) {
    if (const auto* i = std::get_if<std::int64_t>(&v_)) return static_cast<T>(*i);
    return static_cast<T>(ref<double>());
  } else if constexpr (std::is_same_v<T, bool>) {
    return ref<bool>();
  } else if constexpr (std::is_integral_v<T>) {
    std::int64_t i = 0;
    if (const auto* d = std::get_if<double>(&v_); d && *d == static_cast<double>(static_cast<std::int64_t>(*d))) {
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
  return at(key).template get<T>();
}

template <class T>
std::optional<T> Dict::find(std::string_view key) const {
  const Value* v = lookup(key);
  if (v == nullptr) return std::nullopt;
  return v->template get<T>();
}

}  // namespace imio
