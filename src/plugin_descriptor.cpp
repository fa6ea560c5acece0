#include "plugin_descriptor.hpp"

#include <imio/json.hpp>

#include <algorithm>
#include <initializer_list>

#include <fmt/format.h>

#include "kwarg_check.hpp"
#include "uri.hpp"

namespace imio {
namespace detail {
namespace {

// A JSON object read key by key: every key must be known, every value of
// its expected type; messages name the path to the value.
class Object {
 public:
  Object(const Value& v, std::string where, std::initializer_list<std::string_view> known) : where_(std::move(where)) {
    if (!v.is<Dict>()) fail(where_, fmt::format("expected an object, got {}", v.type_name()));
    dict_ = &v.ref<Dict>();
    for (const auto& [key, value] : *dict_) {
      if (std::find(known.begin(), known.end(), key) == known.end()) fail(where_, fmt::format("unknown key '{}'", key));
    }
  }

  const Value* find(std::string_view key) const { return dict_->lookup(key); }

  std::string string(std::string_view key, bool required = false) const {
    const Value* v = find(key);
    if (v == nullptr) {
      if (required) fail(where_, fmt::format("the key '{}' is required", key));
      return {};
    }
    if (!v->is<std::string>()) fail(path(key), fmt::format("expected a string, got {}", v->type_name()));
    return v->ref<std::string>();
  }

  bool boolean(std::string_view key, bool fallback) const {
    const Value* v = find(key);
    if (v == nullptr) return fallback;
    if (!v->is<bool>()) fail(path(key), fmt::format("expected true or false, got {}", v->type_name()));
    return v->get<bool>();
  }

  std::vector<std::string> strings(std::string_view key) const {
    std::vector<std::string> out;
    for (const Value& e : list(key)) {
      if (!e.is<std::string>()) fail(path(key), fmt::format("expected a list of strings, found {}", e.type_name()));
      out.push_back(e.ref<std::string>());
    }
    return out;
  }

  const Value::List& list(std::string_view key) const {
    static const Value::List none;
    const Value* v = find(key);
    if (v == nullptr) return none;
    if (!v->is<Value::List>()) fail(path(key), fmt::format("expected a list, got {}", v->type_name()));
    return v->ref<Value::List>();
  }

  std::optional<double> number(std::string_view key) const {
    const Value* v = find(key);
    if (v == nullptr) return std::nullopt;
    if (!v->is<std::int64_t>() && !v->is<double>()) fail(path(key), fmt::format("expected a number, got {}", v->type_name()));
    return v->get<double>();
  }

  std::string path(std::string_view key) const { return fmt::format("{}.{}", where_, key); }

  [[noreturn]] static void fail(std::string_view where, std::string_view reason) {
    throw ArgumentError(fmt::format("plugin descriptor: {}: {}", where, reason));
  }

 private:
  std::string where_;
  const Dict* dict_ = nullptr;
};

KwargSpec parse_kwarg(const Value& v, const std::string& where) {
  const Object o(v, where, {"name", "type", "default", "min", "max", "choices", "doc"});
  KwargSpec k;
  k.name = o.string("name", true);
  k.type = o.string("type", true);
  if (const Value* d = o.find("default")) k.default_value = *d;
  k.minimum = o.number("min");
  k.maximum = o.number("max");
  k.choices = o.list("choices");
  k.doc = o.string("doc", true);
  return k;
}

std::vector<MethodSpec> parse_methods(const Object& root) {
  std::vector<MethodSpec> out;
  const Value::List& groups = root.list("methods");
  for (std::size_t g = 0; g < groups.size(); ++g) {
    const Object group(groups[g], fmt::format("{}[{}]", root.path("methods"), g), {"methods", "variant", "when", "kwargs"});
    std::vector<KwargSpec> kwargs;
    const Value::List& list = group.list("kwargs");
    for (std::size_t i = 0; i < list.size(); ++i) kwargs.push_back(parse_kwarg(list[i], fmt::format("{}[{}]", group.path("kwargs"), i)));
    const std::vector<std::string> names = group.strings("methods");
    if (names.empty()) Object::fail(group.path("methods"), "names no method");
    for (const std::string& method : names) {
      out.push_back({.method = method, .variant = group.string("variant"), .when = group.string("when"), .kwargs = kwargs});
    }
  }
  return out;
}

std::vector<ExtensionPriority> parse_extensions(const Object& root) {
  std::vector<ExtensionPriority> out;
  const Value::List& groups = root.list("extensions");
  for (std::size_t g = 0; g < groups.size(); ++g) {
    const Object group(groups[g], fmt::format("{}[{}]", root.path("extensions"), g), {"priority", "names"});
    const auto priority = group.number("priority");
    if (!priority || *priority != static_cast<int>(*priority)) Object::fail(group.path("priority"), "expected an integer");
    for (const std::string& name : group.strings("names")) out.push_back({name, static_cast<int>(*priority)});
  }
  return out;
}

std::string check_extension(const std::string& plugin, std::string ext) {
  if (ext.size() < 2 || ext.front() != '.') {
    throw ArgumentError(fmt::format("plugin '{}': extension '{}' must start with a dot", plugin, ext));
  }
  return to_lower(ext);
}

}  // namespace

Descriptor parse_descriptor(std::string_view json) {
  const Value doc = from_json(json);
  // Messages name the file by its plugin once the name is known.
  std::string where = "plugin.json";
  if (const Value* name = doc.is<Dict>() ? doc.ref<Dict>().lookup("name") : nullptr; name && name->is<std::string>()) {
    where = name->ref<std::string>() + "/plugin.json";
  }
  const Object root(doc, where,
                    {"name", "aliases", "summary", "option", "fallback_rank", "packages", "read", "write", "extensions",
                     "write_extensions", "named_writes_any_extension", "methods"});
  Descriptor d;
  PluginSpec& s = d.spec;
  s.name = root.string("name", true);
  d.option = root.string("option");
  if (const Value* packages = root.find("packages")) {
    d.vcpkg_feature = Object(*packages, root.path("packages"), {"debian", "debian_test", "vcpkg_feature"}).string("vcpkg_feature");
  }
  s.aliases = root.strings("aliases");
  s.summary = root.string("summary");
  s.can_read = root.boolean("read", true);
  s.can_write = root.boolean("write", false);
  s.extensions = parse_extensions(root);
  s.write_extensions = root.strings("write_extensions");
  s.named_writes_any_extension = root.boolean("named_writes_any_extension", false);
  s.methods = parse_methods(root);
  check_declarations(s);
  return d;
}

void check_declarations(PluginSpec& spec) {
  if (spec.name.empty()) throw ArgumentError("a plugin needs a name");
  for (auto& e : spec.extensions) e.extension = check_extension(spec.name, e.extension);
  for (auto& e : spec.write_extensions) e = check_extension(spec.name, e);
  if (!spec.write_extensions.empty() && !spec.can_write) {
    throw ArgumentError(fmt::format("plugin '{}' lists write extensions but does not write", spec.name));
  }
  for (std::size_t m = 0; m < spec.methods.size(); ++m) {
    const MethodSpec& method = spec.methods[m];
    const std::string where = fmt::format("plugin '{}', method '{}'{}", spec.name, method.method,
                                          method.variant.empty() ? std::string() : " (" + method.variant + ")");
    if (method.method.empty()) throw ArgumentError(fmt::format("plugin '{}': a method without a name", spec.name));
    for (std::size_t n = 0; n < m; ++n) {
      if (spec.methods[n].method == method.method && spec.methods[n].variant == method.variant) {
        throw ArgumentError(fmt::format("{}: declared twice", where));
      }
    }
    for (std::size_t i = 0; i < method.kwargs.size(); ++i) {
      const KwargSpec& k = method.kwargs[i];
      if (k.name.empty()) throw ArgumentError(fmt::format("{}: a kwarg without a name", where));
      if (method.find(k.name) != &k) throw ArgumentError(fmt::format("{}: kwarg '{}' declared twice", where, k.name));
      if (!valid_kwarg_types(k.type)) throw ArgumentError(fmt::format("{}: kwarg '{}': unknown type '{}'", where, k.name, k.type));
      for (const Value& c : k.choices) {
        KwargSpec unconstrained = k;
        unconstrained.choices.clear();
        if (auto why = kwarg_violation(unconstrained, c)) {
          throw ArgumentError(fmt::format("{}: kwarg '{}': choice {}: {}", where, k.name, c.repr(), *why));
        }
      }
      if (!k.default_value.is_none()) {
        if (auto why = kwarg_violation(k, k.default_value)) {
          throw ArgumentError(fmt::format("{}: kwarg '{}': default {}: {}", where, k.name, k.default_value.repr(), *why));
        }
      }
    }
  }
}

}  // namespace detail

PluginSpec plugin_spec_from_json(std::string_view descriptor) { return detail::parse_descriptor(descriptor).spec; }

const MethodSpec* PluginSpec::find_method(std::string_view method, std::string_view variant) const noexcept {
  for (const MethodSpec& m : methods) {
    if (m.method == method && m.variant == variant) return &m;
  }
  return nullptr;
}

}  // namespace imio
