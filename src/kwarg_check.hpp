// Checking a value against a KwargSpec: shared by KwargReader (a call's
// kwargs) and the descriptor parser (declared defaults and choices).
#pragma once

#include <imio/kwargs.hpp>

#include <optional>
#include <string>
#include <string_view>

namespace imio::detail {

/// Whether `types` ("int|none", "any", …; see KwargSpec::type) lists only
/// known type names.
bool valid_kwarg_types(std::string_view types);

/// Why `value` does not satisfy `spec` (its type, range or choices), or
/// nullopt when it does. The reason reads after "keyword 'name': ".
std::optional<std::string> kwarg_violation(const KwargSpec& spec, const Value& value);

}  // namespace imio::detail
