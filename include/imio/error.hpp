// imio — the exception hierarchy.
//
// Every imio call reports failure by throwing one of these. The message of
// what() names the plugin, the operation, the resource and the reason, in
// one sentence: "libpng: cannot read '/data/scan.png': IDAT CRC mismatch".
#pragma once

#include <imio/export.hpp>

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace imio {

/// Base of every exception imio throws.
///
/// The parts of the message are kept separately so that the core can add the
/// context a plugin did not know (its own name, the resource) while the
/// exception travels out of a plugin.
class IMIO_EXPORT Error : public std::runtime_error {
 public:
  /// An error with just a reason; the core adds plugin, operation and
  /// resource when the error leaves a plugin call.
  explicit Error(std::string reason);
  /// An error with every part known. Empty parts are left out of what().
  /// @param reason    why it failed ("IDAT CRC mismatch")
  /// @param plugin    canonical plugin name ("libpng"), or "" for the core
  /// @param operation the verb of the message ("read", "write", "open", …)
  /// @param resource  the resource as messages name it (Request::describe())
  Error(std::string reason, std::string plugin, std::string operation, std::string resource);
  ~Error() override;

  /// The full sentence: "<plugin>: cannot <operation> '<resource>': <reason>".
  const char* what() const noexcept override;
  /// The exception's class name as in error.hpp ("IndexError", "DecodeError", …).
  virtual const char* kind() const noexcept;

  /// Why it failed, without the context.
  const std::string& reason() const noexcept { return reason_; }
  /// The plugin that failed ("libpng"); empty for the core or when unknown.
  const std::string& plugin() const noexcept { return plugin_; }
  /// What was being done ("read", "write", …); empty when unknown.
  const std::string& operation() const noexcept { return operation_; }
  /// The resource as messages name it; empty when unknown.
  const std::string& resource() const noexcept { return resource_; }

  /// Fills in the parts that are still empty (used by the core; plugins
  /// normally throw with a reason only).
  void add_context(std::string_view plugin, std::string_view operation, std::string_view resource);

 private:
  void compose();
  std::string reason_, plugin_, operation_, resource_, message_;
};

#define IMIO_DECLARE_ERROR(Name, Base)                        \
  class IMIO_EXPORT Name : public Base {                      \
   public:                                                    \
    using Base::Base;                                         \
    ~Name() override;                                         \
    const char* kind() const noexcept override;               \
  }

/// Cannot open, create, read or write the resource (Python's OSError).
IMIO_DECLARE_ERROR(IOError, Error);
/// A path that does not exist (read) or whose parent folder is missing (write).
IMIO_DECLARE_ERROR(FileNotFoundError, IOError);
/// A plugin refuses a request in its factory; the core collects these.
IMIO_DECLARE_ERROR(InitializationError, Error);
/// A bad option, unknown kwarg, bad io_mode, unknown plugin or bad extension
/// (Python's ValueError and TypeError).
IMIO_DECLARE_ERROR(ArgumentError, Error);
/// An index out of range or negative.
IMIO_DECLARE_ERROR(IndexError, ArgumentError);
/// Corrupt or truncated data.
IMIO_DECLARE_ERROR(DecodeError, Error);
/// The backend refused to encode.
IMIO_DECLARE_ERROR(EncodeError, Error);
/// A Limits bound would be exceeded; the message names the bound and how to raise it.
IMIO_DECLARE_ERROR(LimitError, Error);

#undef IMIO_DECLARE_ERROR

/// One candidate plugin that declined a resource, and why.
struct Refusal {
  std::string plugin;  ///< canonical name of the plugin that declined
  std::string reason;  ///< its reason (the InitializationError's, or why it was not applicable)
};

/// No plugin can read or write the resource. Lists every candidate that was
/// tried and why it declined, and the CMake options of matching plugins that
/// were compiled out.
class IMIO_EXPORT NoPluginError : public IOError {
 public:
  /// @param reason   the summary sentence (it lists the refusals)
  /// @param refusals every candidate that declined, in the order tried
  NoPluginError(std::string reason, std::vector<Refusal> refusals);
  ~NoPluginError() override;
  /// "NoPluginError".
  const char* kind() const noexcept override;
  /// Every candidate plugin that declined, in the order tried (may be empty
  /// when no plugin serves the extension at all).
  const std::vector<Refusal>& refusals() const noexcept { return refusals_; }

 private:
  std::vector<Refusal> refusals_;
};

}  // namespace imio
