#include <imio/options.hpp>
#include <imio/properties.hpp>
#include <imio/value.hpp>

#include <algorithm>
#include <cmath>
#include <ostream>

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace imio {

// ---------------------------------------------------------------- Dict

Dict::Dict() = default;
Dict::Dict(std::initializer_list<Item> items) {
  for (const auto& item : items) set(item.first, item.second);
}
Dict::Dict(const Dict&) = default;
Dict::Dict(Dict&&) noexcept = default;
Dict& Dict::operator=(const Dict&) = default;
Dict& Dict::operator=(Dict&&) noexcept = default;
Dict::~Dict() = default;

const Value* Dict::lookup(std::string_view key) const noexcept {
  for (const auto& [k, v] : items_) {
    if (k == key) return &v;
  }
  return nullptr;
}

bool Dict::contains(std::string_view key) const noexcept { return lookup(key) != nullptr; }

const Value& Dict::at(std::string_view key) const {
  if (const Value* v = lookup(key)) return *v;
  // Name what is there, so a typo or another plugin's key shows itself.
  std::vector<std::string_view> keys;
  for (const auto& [k, unused] : items_) keys.emplace_back(k);
  constexpr std::size_t shown = 24;
  const std::string more = keys.size() > shown ? fmt::format(", … ({} in all)", keys.size()) : std::string();
  if (keys.size() > shown) keys.resize(shown);
  throw ArgumentError(fmt::format("no key '{}' (present: {}{})", key,
                                  keys.empty() ? std::string("none") : fmt::format("{}", fmt::join(keys, ", ")), more));
}

void Dict::throw_wrong_type(std::string_view key, const ArgumentError& error) {
  throw ArgumentError(fmt::format("key '{}': {}", key, error.reason()));
}

Value& Dict::at(std::string_view key) { return const_cast<Value&>(std::as_const(*this).at(key)); }

void Dict::set(std::string key, Value value) {
  for (auto& [k, v] : items_) {
    if (k == key) {
      v = std::move(value);
      return;
    }
  }
  items_.emplace_back(std::move(key), std::move(value));
}

bool Dict::erase(std::string_view key) {
  auto it = std::find_if(items_.begin(), items_.end(), [&](const Item& i) { return i.first == key; });
  if (it == items_.end()) return false;
  items_.erase(it);
  return true;
}

std::size_t Dict::size() const noexcept { return items_.size(); }
bool Dict::empty() const noexcept { return items_.empty(); }
const Dict::Item* Dict::begin() const noexcept { return items_.data(); }
const Dict::Item* Dict::end() const noexcept { return items_.data() + items_.size(); }
const std::vector<Dict::Item>& Dict::items() const noexcept { return items_; }
bool Dict::operator==(const Dict& other) const { return items_ == other.items_; }

// ---------------------------------------------------------------- Value

Value::Value() noexcept = default;
Value::Value(std::nullopt_t) noexcept {}
Value::Value(bool b) noexcept : v_(b) {}
Value::Value(double d) noexcept : v_(d) {}
Value::Value(float f) noexcept : v_(static_cast<double>(f)) {}
Value::Value(const char* s) : v_(std::string(s == nullptr ? "" : s)) {}
Value::Value(std::string s) noexcept : v_(std::move(s)) {}
Value::Value(std::string_view s) : v_(std::string(s)) {}
Value::Value(Bytes b) noexcept : v_(std::move(b)) {}
Value::Value(List l) noexcept : v_(std::move(l)) {}
Value::Value(Dict d) noexcept : v_(std::move(d)) {}
Value::Value(All a) noexcept : v_(a) {}
Value::Value(std::initializer_list<Value> list) : v_(List(list)) {}
Value::Value(std::span<const std::byte> bytes) : v_(Bytes(bytes.begin(), bytes.end())) {}
Value::Value(Storage s) noexcept : v_(std::move(s)) {}
Value::Value(const Value&) = default;
Value::Value(Value&&) noexcept = default;
Value& Value::operator=(const Value&) = default;
Value& Value::operator=(Value&&) noexcept = default;
Value::~Value() = default;

void Value::throw_out_of_range() { throw ArgumentError("integer value does not fit in int64"); }

void Value::throw_type(std::string_view wanted) const {
  throw ArgumentError(fmt::format("expected {}, got {} {}", wanted, type_name(), repr()));
}

std::string_view Value::type_name() const noexcept {
  static constexpr std::string_view names[] = {"none", "bool", "int", "float", "str", "bytes", "list", "dict", "..."};
  return names[v_.index()];
}

namespace {

std::string repr_double(double d) {
  if (std::isnan(d)) return "nan";
  if (std::isinf(d)) return d > 0 ? "inf" : "-inf";
  std::string s = fmt::format("{}", d);
  if (s.find_first_of(".eE") == std::string::npos) s += ".0";
  return s;
}

}  // namespace

std::string Value::repr() const {
  struct Visitor {
    std::string operator()(None) const { return "None"; }
    std::string operator()(bool b) const { return b ? "True" : "False"; }
    std::string operator()(std::int64_t i) const { return std::to_string(i); }
    std::string operator()(double d) const { return repr_double(d); }
    std::string operator()(const std::string& s) const {
      // Python's repr: control characters and quotes escaped, so a message
      // shows what was given ('\t', not a raw tab).
      std::string out = "'";
      for (const char c : s.size() > 60 ? s.substr(0, 57) : s) {
        switch (c) {
          case '\\': out += "\\\\"; break;
          case '\'': out += "\\'"; break;
          case '\t': out += "\\t"; break;
          case '\n': out += "\\n"; break;
          case '\r': out += "\\r"; break;
          default:
            if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
              out += fmt::format("\\x{:02x}", static_cast<unsigned char>(c));
            } else {
              out += c;
            }
        }
      }
      return out + (s.size() > 60 ? "...'" : "'");
    }
    std::string operator()(const Bytes& b) const { return fmt::format("<{} bytes>", b.size()); }
    std::string operator()(const List& l) const {
      std::string out = "[";
      for (std::size_t i = 0; i < l.size(); ++i) {
        if (i > 0) out += ", ";
        if (i == 8) return out + "...]";
        out += l[i].repr();
      }
      return out + "]";
    }
    std::string operator()(const Dict& d) const {
      std::string out = "{";
      std::size_t i = 0;
      for (const auto& [k, v] : d) {
        if (i > 0) out += ", ";
        if (i++ == 8) return out + "...}";
        out += "'" + k + "': " + v.repr();
      }
      return out + "}";
    }
    std::string operator()(All) const { return "..."; }
  };
  return std::visit(Visitor{}, v_);
}

bool Value::operator==(const Value& other) const { return v_ == other.v_; }

// ---------------------------------------------------------------- Index

std::string Index::repr() const {
  if (is_none()) return "None";
  if (is_all()) return "...";
  return std::to_string(value());
}

std::ostream& operator<<(std::ostream& out, const Value& value) { return out << value.repr(); }
std::ostream& operator<<(std::ostream& out, const Dict& dict) { return out << Value(dict).repr(); }

std::ostream& operator<<(std::ostream& out, const ImageProperties& p) {
  const std::string spacing = p.spacing ? fmt::format("({})", fmt::join(*p.spacing, ", ")) : std::string("None");
  return out << fmt::format("ImageProperties(shape=({}{}), dtype={}, n_images={}, is_batch={}, spacing={})",
                            fmt::join(p.shape, ", "), p.shape.size() == 1 ? "," : "", name(p.dtype),
                            p.n_images ? std::to_string(*p.n_images) : std::string("None"),
                            p.is_batch ? "True" : "False", spacing);
}

}  // namespace imio
