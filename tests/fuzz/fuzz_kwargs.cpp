// Kwargs and plugin descriptors: the input as a JSON object of kwargs,
// checked by KwargReader against every declared method of every registered
// plugin, and as a plugin descriptor.
#include <imio/plugin.hpp>

#include <cstdint>
#include <string_view>

#include "fuzz_exercise.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  static const std::vector<imio::PluginInfo> plugins = imio::plugins();
  imio_fuzz::attempt("plugin_spec_from_json", [&] { (void)imio::plugin_spec_from_json(text); });
  const auto json = imio::try_from_json(text);
  if (!json || !json->is<imio::Dict>()) return 0;
  imio::Kwargs kwargs;
  for (const auto& [key, value] : json->ref<imio::Dict>()) kwargs.emplace_back(key, value);
  for (const imio::PluginInfo& p : plugins) {
    for (const imio::MethodSpec& m : p.methods) {
      imio_fuzz::attempt("KwargReader", [&] {
        imio::KwargReader kw(kwargs, p.name, m.method, m.variant);
        // What validation let through must read as its declared type.
        for (const imio::KwargSpec& k : m.kwargs) (void)kw.find(k.name);
        kw.finish();
      });
    }
  }
  return 0;
}
