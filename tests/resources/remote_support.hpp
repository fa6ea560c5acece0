// Helpers of the remote-resource tests: environment overrides and plugin checks.
#pragma once

#include <imio/plugin.hpp>

#include <cstdlib>
#include <optional>
#include <string>

/// Catch2 v2 has no SKIP: the test says why in a warning and ends.
#define IMIO_TEST_SKIP(why) \
  do {                      \
    WARN(why);              \
    return;                 \
  } while (0)

namespace imio_test {

/// Sets (or, with nullopt, unsets) an environment variable for the scope.
class EnvVar {
 public:
  EnvVar(const char* name, const std::optional<std::string>& value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    if (value) {
      ::setenv(name, value->c_str(), 1);
    } else {
      ::unsetenv(name);
    }
  }
  ~EnvVar() {
    if (old_) {
      ::setenv(name_, old_->c_str(), 1);
    } else {
      ::unsetenv(name_);
    }
  }
  EnvVar(const EnvVar&) = delete;
  EnvVar& operator=(const EnvVar&) = delete;

 private:
  const char* name_;
  std::optional<std::string> old_;
};

inline bool has_plugin(const std::string& name) {
  for (const auto& p : imio::plugins()) {
    if (p.name == name) return true;
  }
  return false;
}

}  // namespace imio_test
