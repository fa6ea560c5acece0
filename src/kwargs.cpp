#include <imio/plugin.hpp>

#include <algorithm>

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace imio {

KwargReader::KwargReader(const Kwargs& kwargs, std::string_view plugin, std::string_view method)
    : kwargs_(kwargs), plugin_(plugin), method_(method), taken_(kwargs.size(), false) {
  for (std::size_t i = 0; i < kwargs.size(); ++i) {
    for (std::size_t j = 0; j < i; ++j) {
      if (kwargs[i].first == kwargs[j].first) fail(kwargs[i].first, "the keyword is given twice");
    }
  }
}

const Value* KwargReader::find(std::string_view key) {
  if (std::find(accepted_.begin(), accepted_.end(), key) == accepted_.end()) accepted_.emplace_back(key);
  for (std::size_t i = 0; i < kwargs_.size(); ++i) {
    if (kwargs_[i].first == key) {
      taken_[i] = true;
      return &kwargs_[i].second;
    }
  }
  return nullptr;
}

void KwargReader::fail(std::string_view key, std::string_view reason) const {
  throw ArgumentError(fmt::format("{}.{}(): keyword '{}': {}", plugin_, method_, key, reason));
}

void KwargReader::throw_bad_type(std::string_view key, std::string_view reason) const { fail(key, reason); }

void KwargReader::finish() const {
  std::vector<std::string> unknown;
  for (std::size_t i = 0; i < kwargs_.size(); ++i) {
    if (!taken_[i]) unknown.push_back("'" + kwargs_[i].first + "'");
  }
  if (unknown.empty()) return;
  std::vector<std::string> accepted = accepted_;
  std::sort(accepted.begin(), accepted.end());
  throw ArgumentError(fmt::format("{}.{}() got unexpected keyword argument{} {}; accepted: {}", plugin_, method_,
                                  unknown.size() > 1 ? "s" : "", fmt::join(unknown, ", "),
                                  accepted.empty() ? std::string("none") : fmt::format("{}", fmt::join(accepted, ", "))));
}

}  // namespace imio
