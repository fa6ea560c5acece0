// KwargReader and the checks behind declared kwargs (<imio/kwargs.hpp>).
#include <imio/kwargs.hpp>

#include <algorithm>
#include <cmath>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "kwarg_check.hpp"
#include "registry.hpp"

namespace imio {
namespace detail {
namespace {

constexpr std::string_view kTypeNames[] = {"any", "none", "bool", "int", "float", "str", "bytes", "list", "dict", "..."};

template <class F>
void for_each_type(std::string_view types, F&& f) {
  for (;;) {
    const auto bar = types.find('|');
    f(types.substr(0, bar));
    if (bar == std::string_view::npos) return;
    types.remove_prefix(bar + 1);
  }
}

bool accepts(std::string_view type, const Value& v) {
  if (type == "any" || type == v.type_name()) return true;
  // As Value::get: a float kwarg takes an int, an int kwarg a float holding an integer.
  if (type == "float") return v.is<std::int64_t>();
  if (type == "int" && v.is<double>()) {
    const double d = v.get<double>();
    return std::isfinite(d) && d == std::trunc(d) && d >= -0x1p63 && d < 0x1p63;
  }
  return false;
}

std::string number_text(double d) {
  if (d == std::trunc(d) && std::abs(d) < 1e15) return fmt::format("{}", static_cast<std::int64_t>(d));
  return fmt::format("{}", d);
}

}  // namespace

bool valid_kwarg_types(std::string_view types) {
  bool ok = !types.empty();
  for_each_type(types, [&](std::string_view t) {
    ok = ok && std::find(std::begin(kTypeNames), std::end(kTypeNames), t) != std::end(kTypeNames);
  });
  return ok;
}

std::optional<std::string> kwarg_violation(const KwargSpec& spec, const Value& value) {
  bool typed = false;
  for_each_type(spec.type, [&](std::string_view t) { typed = typed || accepts(t, value); });
  if (!typed) {
    std::string wanted = spec.type;
    for (std::size_t at = wanted.find('|'); at != std::string::npos; at = wanted.find('|', at)) wanted.replace(at, 1, " or ");
    return fmt::format("expected {}, got {} {}", wanted, value.type_name(), value.repr());
  }
  if (!spec.choices.empty() && std::find(spec.choices.begin(), spec.choices.end(), value) == spec.choices.end()) {
    if (value.is_none() && spec.default_value.is_none()) return std::nullopt;  // None: "not given"
    std::vector<std::string> names;
    for (const Value& c : spec.choices) names.push_back(c.repr());
    return fmt::format("must be one of {}, not {}", fmt::join(names, ", "), value.repr());
  }
  if ((spec.minimum || spec.maximum) && (value.is<std::int64_t>() || value.is<double>())) {
    const double d = value.get<double>();
    const bool low = spec.minimum && !(d >= *spec.minimum);  // NaN is out of every range
    const bool high = spec.maximum && !(d <= *spec.maximum);
    if (low || high) {
      if (spec.minimum && spec.maximum) {
        return fmt::format("must be between {} and {}, not {}", number_text(*spec.minimum), number_text(*spec.maximum), value.repr());
      }
      return fmt::format("must be {} {}, not {}", low ? "at least" : "at most",
                         number_text(low ? *spec.minimum : *spec.maximum), value.repr());
    }
  }
  return std::nullopt;
}

}  // namespace detail

const KwargSpec* MethodSpec::find(std::string_view key) const noexcept {
  for (const KwargSpec& k : kwargs) {
    if (k.name == key) return &k;
  }
  return nullptr;
}

KwargReader::KwargReader(const Kwargs& kwargs, std::string_view plugin, std::string_view method, std::string_view variant)
    : kwargs_(kwargs), plugin_(plugin), method_(method), taken_(kwargs.size(), false) {
  for (std::size_t i = 0; i < kwargs.size(); ++i) {
    for (std::size_t j = 0; j < i; ++j) {
      if (kwargs[i].first == kwargs[j].first) fail(kwargs[i].first, "the keyword is given twice");
    }
  }
  auto spec = detail::registered_spec(plugin);
  if (!spec || spec->methods.empty()) return;  // no declarations: finish() checks what was taken
  schema_ = spec->find_method(method, variant);
  if (schema_ == nullptr) {
    throw Error(fmt::format("{}.{}(): the plugin's descriptor declares no kwargs for this method{} (a plugin bug)",
                            plugin, method, variant.empty() ? std::string() : fmt::format(" in variant '{}'", variant)));
  }
  owner_ = std::move(spec);
  validate();
}

KwargReader::~KwargReader() = default;

void KwargReader::validate() const {
  std::vector<std::string> unknown_keys;
  for (const auto& [key, value] : kwargs_) {
    if (schema_->find(key) == nullptr) unknown_keys.push_back("'" + key + "'");
  }
  if (!unknown_keys.empty()) {
    std::vector<std::string> accepted;
    for (const KwargSpec& k : schema_->kwargs) accepted.push_back(k.name);
    unknown(unknown_keys, std::move(accepted));
  }
  for (const auto& [key, value] : kwargs_) {
    if (auto reason = detail::kwarg_violation(*schema_->find(key), value)) fail(key, *reason);
  }
}

const Value* KwargReader::find(std::string_view key) {
  if (schema_ != nullptr && schema_->find(key) == nullptr) {
    throw Error(fmt::format("{}.{}(): reads keyword '{}', which its descriptor does not declare (a plugin bug)",
                            plugin_, method_, key));
  }
  // The keys read are what finish() lists as accepted, which it does only
  // without a descriptor (with one, the descriptor lists them): a plugin
  // with a descriptor pays no string per lookup.
  if (schema_ == nullptr && std::find(accepted_.begin(), accepted_.end(), key) == accepted_.end()) {
    accepted_.emplace_back(key);
  }
  for (std::size_t i = 0; i < kwargs_.size(); ++i) {
    if (kwargs_[i].first == key) {
      taken_[i] = true;
      return &kwargs_[i].second;
    }
  }
  return nullptr;
}

const Value& KwargReader::declared_default(std::string_view key) const {
  const KwargSpec* k = schema_ != nullptr ? schema_->find(key) : nullptr;
  if (k == nullptr || k->default_value.is_none()) {
    throw Error(fmt::format("{}.{}(): keyword '{}' has no declared default (a plugin bug)", plugin_, method_, key));
  }
  return k->default_value;
}

void KwargReader::fail(std::string_view key, std::string_view reason) const {
  throw ArgumentError(fmt::format("{}.{}(): keyword '{}': {}", plugin_, method_, key, reason));
}

void KwargReader::unknown(const std::vector<std::string>& keys, std::vector<std::string> accepted) const {
  std::sort(accepted.begin(), accepted.end());
  throw ArgumentError(fmt::format("{}.{}() got unexpected keyword argument{} {}; accepted: {}", plugin_, method_,
                                  keys.size() > 1 ? "s" : "", fmt::join(keys, ", "),
                                  accepted.empty() ? std::string("none") : fmt::format("{}", fmt::join(accepted, ", "))));
}

void KwargReader::finish() const {
  if (schema_ != nullptr) return;  // the constructor checked every kwarg
  std::vector<std::string> unknown_keys;
  for (std::size_t i = 0; i < kwargs_.size(); ++i) {
    if (!taken_[i]) unknown_keys.push_back("'" + kwargs_[i].first + "'");
  }
  if (!unknown_keys.empty()) unknown(unknown_keys, accepted_);
}

}  // namespace imio
