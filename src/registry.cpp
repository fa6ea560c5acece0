#include "registry.hpp"

#include <algorithm>
#include <atomic>
#include <climits>
#include <map>
#include <mutex>
#include <shared_mutex>
#include <unordered_map>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "core_access.hpp"
#include "plugin_descriptor.hpp"
#include "request_impl.hpp"
#include "uri.hpp"

namespace imio {
namespace detail {
namespace {

using SpecPtr = std::shared_ptr<const PluginSpec>;

// A plugin folder left out of this build: what the "rebuild with" hints need.
struct Unbuilt {
  std::string name;
  std::vector<std::string> aliases;
  std::vector<std::string> extensions;
  std::string option;
  std::string vcpkg_feature;
};

// How to get a plugin this build lacks, for each way of installing imio:
// "libraw (CMake option IMIO_WITH_LIBRAW, vcpkg feature imio[raw])".
std::string rebuild_hint(const Unbuilt& u) {
  if (u.vcpkg_feature.empty()) return fmt::format("{} (CMake option {})", u.name, u.option);
  return fmt::format("{} (CMake option {}, vcpkg feature imio[{}])", u.name, u.option, u.vcpkg_feature);
}

// A plugin built as a loadable module (IMIO_PLUGIN_MODULES): its code
// (sniff, factory, backend), loaded once, on the first call that needs it,
// by whichever thread gets there first. A failed load is kept and reported
// again, as a new exception, to every later call.
class LazyModule {
 public:
  LazyModule(std::string name, PluginSpec (*load)(const std::string&)) : name_(std::move(name)), load_(load) {}

  // @throws IOError naming the plugin, the module and the loader's reason
  const PluginSpec& code() {
    std::call_once(once_, [this] {
      try {
        code_ = load_(name_);
        loaded_.store(true, std::memory_order_release);
      } catch (const Error& e) {
        failure_ = {e.reason(), e.plugin(), e.operation(), e.resource()};
      } catch (const std::exception& e) {
        failure_ = {e.what(), name_, "load", ""};
      }
    });
    if (!loaded_.load(std::memory_order_acquire)) {
      throw IOError(failure_.reason, failure_.plugin, failure_.operation, failure_.resource);
    }
    return code_;
  }

  // The backend when the module is loaded (without loading it), else "".
  std::string loaded_backend() const {
    return loaded_.load(std::memory_order_acquire) ? code_.backend : std::string();
  }

 private:
  struct Failure {
    std::string reason, plugin, operation, resource;
  };
  std::string name_;
  PluginSpec (*load_)(const std::string&);
  std::once_flag once_;
  std::atomic<bool> loaded_{false};
  PluginSpec code_;   // written once, inside call_once
  Failure failure_;   // likewise
};

int priority_for(const PluginSpec& spec, std::string_view extension);
std::vector<SpecPtr> ordered_by_priority(const std::vector<SpecPtr>& specs, std::string_view extension,
                                         bool keep_undeclared);

// The registered plugins, and for each declared extension the plugins that
// serve it in the order they are tried: worked out once per registration,
// not per call.
struct Plugins {
  std::vector<SpecPtr> all;
  std::unordered_map<std::string, std::vector<SpecPtr>> by_extension;

  const std::vector<SpecPtr>& serving(const std::string& extension) const {
    static const std::vector<SpecPtr> none;
    const auto it = by_extension.find(extension);
    return it == by_extension.end() ? none : it->second;
  }
};

class Registry {
 public:
  static Registry& instance() {
    static Registry r;
    return r;
  }

  // The registered plugins as they are now. Registration is rare and calls
  // are many: every add() publishes a new list, so a call takes a reference
  // instead of copying the list (and counting up every plugin) each time.
  std::shared_ptr<const Plugins> snapshot() const {
    std::shared_lock lock(mutex_);
    return specs_;
  }

  SpecPtr find(std::string_view name) const {
    std::shared_lock lock(mutex_);
    for (const auto& s : specs_->all) {
      if (s->name == name) return s;
    }
    return nullptr;
  }

  const std::vector<Unbuilt>& unbuilt() const noexcept { return unbuilt_; }

  // The plugin module named `name`, or nullptr when that plugin is not a
  // module (compiled in, or registered at run time).
  LazyModule* module(std::string_view name) const {
    const auto it = modules_.find(name);
    return it == modules_.end() ? nullptr : it->second.get();
  }

  // What runs `spec`: a module's code, loaded now if it was not yet; else
  // the spec itself.
  const PluginSpec& code_of(const PluginSpec& spec) const {
    LazyModule* m = module(spec.name);
    return m != nullptr ? m->code() : spec;
  }

  void add(PluginSpec spec) {
    if (!spec.factory) throw ArgumentError(fmt::format("plugin '{}' has no factory", spec.name));
    check_declarations(spec);
    std::unique_lock lock(mutex_);
    for (const auto& s : specs_->all) {
      if (s->name == spec.name) throw ArgumentError(fmt::format("a plugin named '{}' is already registered", spec.name));
      for (const auto& alias : spec.aliases) {
        if (alias == s->name) throw ArgumentError(fmt::format("alias '{}' is the name of a registered plugin", alias));
      }
      if (std::find(s->aliases.begin(), s->aliases.end(), spec.name) != s->aliases.end()) {
        throw ArgumentError(fmt::format("'{}' is already an alias of plugin '{}'", spec.name, s->name));
      }
    }
    auto specs = std::make_shared<Plugins>();
    specs->all = specs_->all;
    specs->all.push_back(std::make_shared<const PluginSpec>(std::move(spec)));
    for (const auto& s : specs->all) {
      for (const auto& e : s->extensions) {
        auto& serving = specs->by_extension[e.extension];
        if (serving.empty()) serving = ordered_by_priority(specs->all, e.extension, false);
      }
    }
    specs_ = std::move(specs);
  }

 private:
  // The built-ins: each folder's descriptor gives what the plugin is, its
  // code (when built) what it does.
  Registry() {
    for (const BuiltinPlugin& folder : builtin_plugins()) {
      Descriptor d = parse_descriptor(folder.descriptor);
      if (folder.spec == nullptr && folder.load_module == nullptr) {
        Unbuilt u{d.spec.name, d.spec.aliases, {}, d.option, d.vcpkg_feature};
        for (const auto& e : d.spec.extensions) u.extensions.push_back(e.extension);
        unbuilt_.push_back(std::move(u));
        continue;
      }
      if (folder.load_module != nullptr) {
        // A module: the descriptor now, the code on first need (code_of).
        auto module = std::make_unique<LazyModule>(d.spec.name, folder.load_module);
        LazyModule* m = module.get();
        d.spec.factory = [m](Request& request, const Kwargs& kwargs) { return m->code().factory(request, kwargs); };
        modules_.emplace(d.spec.name, std::move(module));
        add(std::move(d.spec));
        continue;
      }
      PluginSpec code = folder.spec();
      PluginSpec& spec = d.spec;
      spec.sniff = std::move(code.sniff);
      spec.sniff_bytes = code.sniff_bytes;
      spec.factory = std::move(code.factory);
      spec.backend = std::move(code.backend);
      add(std::move(spec));
    }
  }

  mutable std::shared_mutex mutex_;
  std::shared_ptr<const Plugins> specs_ = std::make_shared<const Plugins>();
  std::vector<Unbuilt> unbuilt_;  // set by the constructor, then read-only
  std::map<std::string, std::unique_ptr<LazyModule>, std::less<>> modules_;  // likewise
};

int priority_for(const PluginSpec& spec, std::string_view extension) {
  for (const auto& e : spec.extensions) {
    if (e.extension == extension) return e.priority;
  }
  return INT_MAX;
}

// The plugins of `specs` that declare `extension` (all of them when
// `keep_undeclared`), lowest priority number first, registration order
// among equals. Each priority is looked up once.
std::vector<SpecPtr> ordered_by_priority(const std::vector<SpecPtr>& specs, std::string_view extension,
                                         bool keep_undeclared) {
  std::vector<std::pair<int, const SpecPtr*>> ranked;
  for (const SpecPtr& s : specs) {
    const int priority = priority_for(*s, extension);
    if (keep_undeclared || priority != INT_MAX) ranked.emplace_back(priority, &s);
  }
  std::stable_sort(ranked.begin(), ranked.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<SpecPtr> out;
  out.reserve(ranked.size());
  for (const auto& r : ranked) out.push_back(*r.second);
  return out;
}

// plugin= : a canonical name, or an alias (all plugins carrying it).
std::vector<SpecPtr> named_plugins(const std::vector<SpecPtr>& all, std::string_view name, std::string_view extension) {
  std::vector<SpecPtr> out;
  for (const auto& s : all) {
    if (s->name == name) return {s};
    if (std::find(s->aliases.begin(), s->aliases.end(), name) != s->aliases.end()) out.push_back(s);
  }
  if (!out.empty()) return ordered_by_priority(out, extension, true);

  std::vector<std::string> missing;
  for (const Unbuilt& u : Registry::instance().unbuilt()) {
    if (u.name == name || std::find(u.aliases.begin(), u.aliases.end(), name) != u.aliases.end()) {
      missing.push_back(rebuild_hint(u));
    }
  }
  if (!missing.empty()) {
    throw NoPluginError(fmt::format("plugin '{}' is not part of this build of imio; rebuild with {}", name,
                                    fmt::join(missing, ", ")),
                        {});
  }
  std::vector<std::string> names;
  for (const auto& s : all) names.push_back(s->name);
  throw ArgumentError(fmt::format("'{}' is not a registered plugin name (registered: {}; imageio's names pillow, "
                                  "pyav, tifffile and rawpy are accepted as aliases)",
                                  name, fmt::join(names, ", ")));
}

struct Selection {
  Request& request;
  IoMode mode;
  const Kwargs& kwargs;
  std::vector<Refusal> refusals;
  std::vector<std::string> tried;

  bool was_tried(const PluginSpec& spec) const {
    return std::find(tried.begin(), tried.end(), spec.name) != tried.end();
  }

  // One candidate: capability, signature, then the factory. nullptr = refused.
  // `chosen`: named by plugin= or serving the extension; such a candidate
  // gets a URL before its body is fetched (its factory may open the URL
  // itself, like FFmpeg; any other one fetches it through source()).
  std::unique_ptr<Plugin> attempt(const PluginSpec& spec, bool chosen) {
    tried.push_back(spec.name);
    if (mode == IoMode::read && !spec.can_read) return refuse(spec, "it cannot read");
    if (mode == IoMode::write && !spec.can_write) return refuse(spec, "it cannot write (read-only plugin)");
    if (mode == IoMode::write && !writes_extension(spec)) return refuse(spec, writes_only(spec));
    const PluginSpec& code = Registry::instance().code_of(spec);  // loads a plugin module
    if (mode == IoMode::read && code.sniff && !(chosen && CoreAccess::impl(request).body_pending())) {
      const auto head = with_error_context("", "read", request.describe(), [&] { return request.first_bytes(code.sniff_bytes); });
      if (!code.sniff(head)) return refuse(spec, "the data do not start with its signature");
    }
    try {
      auto plugin = with_error_context(spec.name, "open", request.describe(), [&] { return code.factory(request, kwargs); });
      if (plugin) return plugin;
      return refuse(spec, "its factory returned no plugin");
    } catch (const InitializationError& e) {
      return refuse(spec, e.reason());
    }
  }

  // The write-extension rule of every plugin that lists its write extensions:
  // one of them, or — when the plugin was named — a target without
  // extension (or any target, for plugins that say so).
  bool writes_extension(const PluginSpec& spec) const {
    if (spec.write_extensions.empty()) return true;  // the factory decides
    const std::string& ext = request.extension();
    if (std::find(spec.write_extensions.begin(), spec.write_extensions.end(), ext) != spec.write_extensions.end()) return true;
    const bool named = !request.requested_plugin().empty();
    return named && (ext.empty() || spec.named_writes_any_extension);
  }

  std::string writes_only(const PluginSpec& spec) const {
    const std::string& ext = request.extension();
    std::string list = spec.write_extensions.front();
    for (std::size_t i = 1; i < spec.write_extensions.size(); ++i) {
      list += (i + 1 == spec.write_extensions.size() ? " and " : ", ") + spec.write_extensions[i];
    }
    return fmt::format("it writes only {} files, not {}", list, ext.empty() ? std::string("a target without extension") : "'" + ext + "'");
  }

  std::unique_ptr<Plugin> refuse(const PluginSpec& spec, std::string reason) {
    refusals.push_back({spec.name, std::move(reason)});
    CoreAccess::impl(request).rewind();
    return nullptr;
  }
};

std::string list_refusals(const std::vector<Refusal>& refusals) {
  std::vector<std::string> parts;
  for (const auto& r : refusals) parts.push_back(fmt::format("{} ({})", r.plugin, r.reason));
  return fmt::format("{}", fmt::join(parts, "; "));
}

// Each writer and what it writes, one entry per plugin (its extensions, or
// its own word when its backend decides, as FFmpeg does by muxer); a writer
// that declares the extension and still refused gives its reason.
std::string list_writers(const std::vector<SpecPtr>& all, const std::vector<Refusal>& refusals, std::string_view extension) {
  std::vector<std::string> parts;
  for (const auto& s : all) {
    if (!s->can_write) continue;
    const auto refusal = std::find_if(refusals.begin(), refusals.end(), [&](const Refusal& r) { return r.plugin == s->name; });
    const auto& exts = s->write_extensions;
    const bool declared = std::find(exts.begin(), exts.end(), extension) != exts.end();
    if (!exts.empty() && !declared) {
      parts.push_back(fmt::format("{} ({})", s->name, fmt::join(exts, ", ")));
    } else if (refusal != refusals.end()) {
      parts.push_back(fmt::format("{} ({})", s->name, refusal->reason));
    } else {
      parts.push_back(fmt::format("{} ({})", s->name, exts.empty() ? s->summary : fmt::format("{}", fmt::join(exts, ", "))));
    }
  }
  return parts.empty() ? std::string("none") : fmt::format("{}", fmt::join(parts, "; "));
}

// "…which this build lacks": plugin folders left out of the build that serve the extension.
std::string compiled_out_hint(std::string_view extension) {
  std::vector<std::string> hints;
  for (const Unbuilt& u : Registry::instance().unbuilt()) {
    if (std::find(u.extensions.begin(), u.extensions.end(), extension) != u.extensions.end()) {
      hints.push_back(rebuild_hint(u));
    }
  }
  if (hints.empty()) return {};
  return fmt::format(". The extension {} is served by plugins this build lacks: {}", extension, fmt::join(hints, ", "));
}

[[noreturn]] void no_plugin(const std::vector<SpecPtr>& all, Selection& sel, std::string_view extension,
                            std::string_view named) {
  const bool reading = sel.mode == IoMode::read;
  const UriKind kind = CoreAccess::impl(sel.request).uri.kind;
  std::string reason;
  if (!named.empty()) {
    reason = fmt::format("plugin '{}' cannot {} it: {}", named, reading ? "read" : "write", list_refusals(sel.refusals));
  } else if (!reading && extension.empty() && (kind == UriKind::bytes_target || kind == UriKind::ostream)) {
    throw ArgumentError("cannot tell which format to write without an extension: pass extension= (for example \".png\")",
                        "", "write", sel.request.describe());
  } else if (!reading) {
    reason = fmt::format("no plugin writes {} files; the plugins that write: {}",
                         extension.empty() ? std::string("extension-less") : std::string(extension),
                         list_writers(all, sel.refusals, extension));
  } else {
    reason = fmt::format("no plugin can read it{}", sel.refusals.empty() ? std::string() : ": " + list_refusals(sel.refusals));
  }
  reason += compiled_out_hint(extension);
  throw NoPluginError(std::move(reason), std::move(sel.refusals));
}

}  // namespace

OpenedResource open_resource(const ImageResource& resource, const OpenArgs& args) {
  const char* operation = args.mode == IoMode::read ? "read" : "write";
  // The resource is described only when there is an error to name it in:
  // describing a path costs as much as the rest of a small file's opening.
  std::unique_ptr<CoreAccess::RequestImpl> impl;
  try {
    impl = std::make_unique<CoreAccess::RequestImpl>(resource, args.mode, args.extension, args.limits);
  } catch (...) {
    with_error_context("", operation, resource.describe(), [] { throw; });
  }
  impl->requested_plugin = args.plugin;
  auto request = CoreAccess::request(std::move(impl));
  static const Kwargs no_kwargs;
  Selection sel{*request, args.mode, args.kwargs ? *args.kwargs : no_kwargs, {}, {}};
  const auto snapshot = Registry::instance().snapshot();
  const std::vector<SpecPtr>& all = snapshot->all;
  const std::string& ext = request->extension();

  auto accept = [&](std::unique_ptr<Plugin> plugin, const SpecPtr& spec) {
    return OpenedResource{std::move(request), std::move(plugin), spec->name};
  };
  try {
    if (!args.plugin.empty()) {
      for (const auto& spec : named_plugins(all, args.plugin, ext)) {
        if (auto p = sel.attempt(*spec, true)) return accept(std::move(p), spec);
      }
      no_plugin(all, sel, ext, args.plugin);
    }
    if (!ext.empty()) {
      for (const auto& spec : snapshot->serving(ext)) {
        if (auto p = sel.attempt(*spec, true)) return accept(std::move(p), spec);
      }
    }
    // The fallback: every plugin not yet tried, in registration order. For
    // writes only writers are candidates: a reader's refusal says nothing.
    for (const auto& spec : all) {
      if (sel.was_tried(*spec) || (args.mode == IoMode::write && !spec->can_write)) continue;
      if (auto p = sel.attempt(*spec, false)) return accept(std::move(p), spec);
    }
    no_plugin(all, sel, ext, {});
  } catch (Error& e) {
    e.add_context("", operation, request ? request->describe() : resource.describe());
    throw;
  }
}

std::shared_ptr<const PluginSpec> registered_spec(std::string_view name) { return Registry::instance().find(name); }

}  // namespace detail

void register_plugin(PluginSpec spec) { detail::Registry::instance().add(std::move(spec)); }

bool has_plugin(std::string_view name) { return detail::Registry::instance().find(name) != nullptr; }

std::vector<PluginInfo> plugins() { return detail::plugin_infos(true); }

namespace detail {

// A module's backend: loading it when asked; a module that does not load
// says why instead of failing the whole listing.
std::string backend_of(const PluginSpec& spec, bool load) {
  LazyModule* m = Registry::instance().module(spec.name);
  if (m == nullptr) return spec.backend;
  if (!load) return m->loaded_backend();
  try {
    return m->code().backend;
  } catch (const Error& e) {
    return fmt::format("(module not loaded: {})", e.what());
  }
}

std::vector<PluginInfo> plugin_infos(bool with_backends) {
  std::vector<PluginInfo> out;
  const auto snapshot = Registry::instance().snapshot();  // keeps the list alive while it is read
  for (const auto& s : snapshot->all) {
    PluginInfo info{s->name, s->aliases, {}, s->can_read, s->can_write, backend_of(*s, with_backends), s->summary,
                    s->extensions, s->write_extensions, s->methods};
    for (const auto& e : s->extensions) info.extensions.push_back(e.extension);
    out.push_back(std::move(info));
  }
  return out;
}

}  // namespace detail

}  // namespace imio
