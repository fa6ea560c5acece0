#include "json_input.hpp"

#include <imio/json.hpp>

#include <utility>

namespace imio::cli {

Value parse_kwarg_value(std::string_view text) {
  if (text == "...") return Value(all);
  if (auto v = try_from_json(text)) return std::move(*v);
  return Value(std::string(text));
}

}  // namespace imio::cli
