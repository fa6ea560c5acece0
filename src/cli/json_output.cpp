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
    d.set("extensions", list_of(info.extensions));
    d.set("read", info.can_read);
    d.set("write", info.can_write);
    d.set("backend", info.backend);
    list.emplace_back(std::move(d));
  }
  return to_json(Value(std::move(list)));
}

}  // namespace imio::cli
