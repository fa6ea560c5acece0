#include "registry.hpp"

#include <algorithm>
#include <climits>
#include <mutex>
#include <shared_mutex>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "extension_table.hpp"
#include "guard.hpp"
#include "request_impl.hpp"
#include "uri.hpp"

namespace imio {
namespace detail {
namespace {

using SpecPtr = std::shared_ptr<const PluginSpec>;

class Registry {
 public:
  static Registry& instance() {
    static Registry r;
    return r;
  }

  std::vector<SpecPtr> snapshot() const {
    std::shared_lock lock(mutex_);
    return specs_;
  }

  void add(PluginSpec spec) {
    validate(spec);
    std::unique_lock lock(mutex_);
    for (const auto& s : specs_) {
      if (s->name == spec.name) throw ArgumentError(fmt::format("a plugin named '{}' is already registered", spec.name));
      for (const auto& alias : spec.aliases) {
        if (alias == s->name) throw ArgumentError(fmt::format("alias '{}' is the name of a registered plugin", alias));
      }
      if (std::find(s->aliases.begin(), s->aliases.end(), spec.name) != s->aliases.end()) {
        throw ArgumentError(fmt::format("'{}' is already an alias of plugin '{}'", spec.name, s->name));
      }
    }
    specs_.push_back(std::make_shared<const PluginSpec>(std::move(spec)));
  }

 private:
  Registry() {
    for (PluginSpec& spec : builtin_plugin_specs()) {
      if (spec.extensions.empty()) {
        for (const std::string& ext : table_extensions_of(spec.name)) {
          const auto& order = table_plugins_for(ext);
          const auto rank = std::find(order.begin(), order.end(), spec.name) - order.begin();
          spec.extensions.push_back({ext, static_cast<int>(10 * (rank + 1))});
        }
      }
      add(std::move(spec));
    }
  }

  static void validate(PluginSpec& spec) {
    if (spec.name.empty()) throw ArgumentError("a plugin needs a name");
    if (!spec.factory) throw ArgumentError(fmt::format("plugin '{}' has no factory", spec.name));
    for (auto& e : spec.extensions) {
      if (e.extension.size() < 2 || e.extension.front() != '.') {
        throw ArgumentError(fmt::format("plugin '{}': extension '{}' must start with a dot", spec.name, e.extension));
      }
      e.extension = to_lower(e.extension);
    }
  }

  mutable std::shared_mutex mutex_;
  std::vector<SpecPtr> specs_;
};

int priority_for(const PluginSpec& spec, std::string_view extension) {
  for (const auto& e : spec.extensions) {
    if (e.extension == extension) return e.priority;
  }
  return INT_MAX;
}

std::vector<SpecPtr> ordered_by_priority(std::vector<SpecPtr> specs, std::string_view extension) {
  std::stable_sort(specs.begin(), specs.end(), [&](const SpecPtr& a, const SpecPtr& b) {
    return priority_for(*a, extension) < priority_for(*b, extension);
  });
  return specs;
}

// plugin= : a canonical name, or an alias (all plugins carrying it).
std::vector<SpecPtr> named_plugins(const std::vector<SpecPtr>& all, std::string_view name, std::string_view extension) {
  std::vector<SpecPtr> out;
  for (const auto& s : all) {
    if (s->name == name) return {s};
    if (std::find(s->aliases.begin(), s->aliases.end(), name) != s->aliases.end()) out.push_back(s);
  }
  if (!out.empty()) return ordered_by_priority(std::move(out), extension);

  std::vector<std::string> missing;
  for (const auto& p : planned_plugins()) {
    if (p.name == name || p.alias == name) missing.push_back(fmt::format("{} (CMake option {})", p.name, p.cmake_option));
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
    if (mode == IoMode::read && spec.sniff && !(chosen && request.impl().body_pending())) {
      const auto head = guarded("", "read", request.describe(), [&] { return request.first_bytes(spec.sniff_bytes); });
      if (!spec.sniff(head)) return refuse(spec, "the data do not start with its signature");
    }
    try {
      auto plugin = guarded(spec.name, "open", request.describe(), [&] { return spec.factory(request, kwargs); });
      if (plugin) return plugin;
      return refuse(spec, "its factory returned no plugin");
    } catch (const InitializationError& e) {
      return refuse(spec, e.reason());
    }
  }

  std::unique_ptr<Plugin> refuse(const PluginSpec& spec, std::string reason) {
    refusals.push_back({spec.name, std::move(reason)});
    request.impl().rewind();
    return nullptr;
  }
};

std::string list_refusals(const std::vector<Refusal>& refusals) {
  std::vector<std::string> parts;
  for (const auto& r : refusals) parts.push_back(fmt::format("{} ({})", r.plugin, r.reason));
  return fmt::format("{}", fmt::join(parts, "; "));
}

// "…which this build lacks": planned plugins the table names for the extension.
std::string compiled_out_hint(const std::vector<SpecPtr>& all, std::string_view extension) {
  std::vector<std::string> hints;
  for (const std::string& name : table_plugins_for(extension)) {
    const bool present = std::any_of(all.begin(), all.end(), [&](const SpecPtr& s) { return s->name == name; });
    if (present) continue;
    if (const auto* p = find_planned(name)) hints.push_back(fmt::format("{} (CMake option {})", p->name, p->cmake_option));
  }
  if (hints.empty()) return {};
  return fmt::format(". The extension {} is served by plugins this build lacks: {}", extension, fmt::join(hints, ", "));
}

[[noreturn]] void no_plugin(const std::vector<SpecPtr>& all, Selection& sel, std::string_view extension,
                            std::string_view named) {
  const bool reading = sel.mode == IoMode::read;
  const UriKind kind = sel.request.impl().uri.kind;
  std::string reason;
  if (!named.empty()) {
    reason = fmt::format("plugin '{}' cannot {} it: {}", named, reading ? "read" : "write", list_refusals(sel.refusals));
  } else if (!reading && extension.empty() && (kind == UriKind::bytes_target || kind == UriKind::ostream)) {
    throw ArgumentError("cannot tell which format to write without an extension: pass extension= (for example \".png\")",
                        "", "write", sel.request.describe());
  } else if (!reading) {
    std::vector<std::string> writable;
    for (const auto& s : all) {
      if (!s->can_write) continue;
      for (const auto& e : s->extensions) writable.push_back(e.extension);
    }
    std::sort(writable.begin(), writable.end());
    writable.erase(std::unique(writable.begin(), writable.end()), writable.end());
    reason = fmt::format("no plugin writes {} files{} (writable extensions: {})",
                         extension.empty() ? std::string("extension-less") : std::string(extension),
                         sel.refusals.empty() ? std::string() : ": " + list_refusals(sel.refusals),
                         writable.empty() ? std::string("none") : fmt::format("{}", fmt::join(writable, " ")));
  } else {
    reason = fmt::format("no plugin can read it{}", sel.refusals.empty() ? std::string() : ": " + list_refusals(sel.refusals));
  }
  reason += compiled_out_hint(all, extension);
  throw NoPluginError(std::move(reason), std::move(sel.refusals));
}

}  // namespace

OpenedResource open_resource(const ImageResource& resource, const OpenArgs& args) {
  const char* operation = args.mode == IoMode::read ? "read" : "write";
  auto impl = guarded("", operation, resource.describe(),
                      [&] { return std::make_unique<Request::Impl>(resource, args.mode, args.extension, args.limits); });
  impl->requested_plugin = args.plugin;
  auto request = std::make_unique<Request>(std::move(impl));
  static const Kwargs no_kwargs;
  Selection sel{*request, args.mode, args.kwargs ? *args.kwargs : no_kwargs, {}, {}};
  const auto all = Registry::instance().snapshot();
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
      std::vector<SpecPtr> serving;
      for (const auto& s : all) {
        if (priority_for(*s, ext) != INT_MAX) serving.push_back(s);
      }
      for (const auto& spec : ordered_by_priority(std::move(serving), ext)) {
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

}  // namespace detail

void register_plugin(PluginSpec spec) { detail::Registry::instance().add(std::move(spec)); }

std::vector<PluginInfo> plugins() {
  std::vector<PluginInfo> out;
  for (const auto& s : detail::Registry::instance().snapshot()) {
    PluginInfo info{s->name, s->aliases, {}, s->can_read, s->can_write, s->backend};
    for (const auto& e : s->extensions) info.extensions.push_back(e.extension);
    out.push_back(std::move(info));
  }
  return out;
}

}  // namespace imio
