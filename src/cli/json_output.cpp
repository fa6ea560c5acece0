#include "json_output.hpp"

#include <imio/metadata.hpp>

#include <utility>

namespace imio::cli {
namespace {

template <class T>
Value::List list_of(const std::vector<T>& items) {
  Value::List out;
  out.reserve(items.size());
  for (const auto& item : items) out.emplace_back(item);
  return out;
}

// A method's kwargs as declared: {"method", "variant", "when", "kwargs":
// [{"name", "type", "default", "min", "max", "choices", "doc"}]}.
Value method_json(const MethodSpec& m) {
  Value::List kwargs;
  for (const KwargSpec& k : m.kwargs) {
    Dict kd;
    kd.set("name", k.name);
    kd.set("type", k.type);
    kd.set("default", k.default_value);
    kd.set("min", k.minimum ? Value(*k.minimum) : Value());
    kd.set("max", k.maximum ? Value(*k.maximum) : Value());
    kd.set("choices", k.choices.empty() ? Value() : Value(k.choices));
    kd.set("doc", k.doc);
    kwargs.emplace_back(std::move(kd));
  }
  Dict d;
  d.set("method", m.method);
  d.set("variant", m.variant.empty() ? Value() : Value(m.variant));
  d.set("when", m.when.empty() ? Value() : Value(m.when));
  d.set("kwargs", std::move(kwargs));
  return d;
}

}  // namespace

std::string props_json(const ImageProperties& props) {
  Dict d;
  d.set("shape", list_of(props.shape));
  d.set("dtype", std::string(name(props.dtype)));
  d.set("n_images", props.n_images ? Value(*props.n_images) : Value());
  d.set("is_batch", props.is_batch);
  d.set("spacing", props.spacing ? Value(list_of(*props.spacing)) : Value());
  return to_json(d);
}

std::string plugins_json(const std::vector<PluginInfo>& infos) {
  Value::List list;
  list.reserve(infos.size());
  for (const PluginInfo& info : infos) {
    Dict d;
    d.set("name", info.name);
    d.set("aliases", list_of(info.aliases));
    d.set("summary", info.summary);
    d.set("extensions", list_of(info.extensions));
    d.set("read", info.can_read);
    d.set("write", info.can_write);
    d.set("write_extensions", list_of(info.write_extensions));
    d.set("backend", info.backend);
    Value::List methods;
    for (const MethodSpec& m : info.methods) methods.push_back(method_json(m));
    d.set("methods", std::move(methods));
    list.emplace_back(std::move(d));
  }
  return to_json(Value(std::move(list)));
}

}  // namespace imio::cli
