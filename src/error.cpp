#include <imio/error.hpp>

#include <utility>

namespace imio {

Error::Error(std::string reason) : std::runtime_error(reason), reason_(std::move(reason)) { compose(); }

Error::Error(std::string reason, std::string plugin, std::string operation, std::string resource)
    : std::runtime_error(reason),
      reason_(std::move(reason)),
      plugin_(std::move(plugin)),
      operation_(std::move(operation)),
      resource_(std::move(resource)) {
  compose();
}

Error::~Error() = default;

const char* Error::what() const noexcept { return message_.c_str(); }
const char* Error::kind() const noexcept { return "Error"; }

void Error::add_context(std::string_view plugin, std::string_view operation, std::string_view resource) {
  if (plugin_.empty()) plugin_ = plugin;
  if (operation_.empty()) operation_ = operation;
  if (resource_.empty()) resource_ = resource;
  compose();
}

// "<plugin>: cannot <operation> '<resource>': <reason>", leaving out what is unknown.
void Error::compose() {
  message_.clear();
  if (!plugin_.empty()) message_ += plugin_ + ": ";
  if (!operation_.empty() || !resource_.empty()) {
    message_ += "cannot " + (operation_.empty() ? std::string("use") : operation_);
    if (!resource_.empty()) message_ += " '" + resource_ + "'";
    message_ += ": ";
  }
  message_ += reason_;
}

#define IMIO_DEFINE_ERROR(Name)                             \
  Name::~Name() = default;                                  \
  const char* Name::kind() const noexcept { return #Name; }

IMIO_DEFINE_ERROR(IOError)
IMIO_DEFINE_ERROR(FileNotFoundError)
IMIO_DEFINE_ERROR(InitializationError)
IMIO_DEFINE_ERROR(ArgumentError)
IMIO_DEFINE_ERROR(IndexError)
IMIO_DEFINE_ERROR(DecodeError)
IMIO_DEFINE_ERROR(EncodeError)
IMIO_DEFINE_ERROR(LimitError)

#undef IMIO_DEFINE_ERROR

NoPluginError::NoPluginError(std::string reason, std::vector<Refusal> refusals)
    : IOError(std::move(reason)), refusals_(std::move(refusals)) {}
NoPluginError::~NoPluginError() = default;
const char* NoPluginError::kind() const noexcept { return "NoPluginError"; }

}  // namespace imio
