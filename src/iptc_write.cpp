// The IPTC IIM writer (IIM 4.2 §1.5) and Photoshop image resource blocks.
#include <imio/error.hpp>
#include <imio/iptc.hpp>
#include <imio/metadata_write.hpp>

#include <algorithm>
#include <charconv>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include <fmt/format.h>

#include "iptc_names.hpp"

namespace imio {
namespace {

using namespace iptc_detail;

struct Dataset {
  std::uint8_t record, number;
  Bytes data;
};

void put_be(Bytes& out, std::uint64_t v, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) out.push_back(static_cast<std::byte>((v >> (8 * i)) & 0xFF));
}

// "record:dataset" → the numbers, or none.
std::optional<std::pair<unsigned, unsigned>> numbered(std::string_view key) {
  const auto colon = key.find(':');
  if (colon == std::string_view::npos) return std::nullopt;
  unsigned r = 0, d = 0;
  const auto [e1, c1] = std::from_chars(key.data(), key.data() + colon, r);
  const auto [e2, c2] = std::from_chars(key.data() + colon + 1, key.data() + key.size(), d);
  if (c1 != std::errc() || c2 != std::errc() || e1 != key.data() + colon || e2 != key.data() + key.size()) {
    return std::nullopt;
  }
  return std::pair{r, d};
}

Bytes dataset_data(std::string_view key, std::optional<Kind> kind, const Value& v) {
  const auto fail = [&](std::string_view reason) -> Bytes {
    throw ArgumentError(fmt::format("IPTC dataset '{}': {}", key, reason));
  };
  if (kind == kUint) {
    if (!v.is<std::int64_t>()) return fail(fmt::format("expects an int (a binary number), got {}", v.type_name()));
    const std::int64_t i = v.ref<std::int64_t>();
    if (i < 0 || i > 0xFFFFFFFFLL) return fail(fmt::format("{} does not fit 32 bits unsigned", i));
    Bytes out;
    put_be(out, static_cast<std::uint64_t>(i), i <= 0xFFFF ? 2 : 4);
    return out;
  }
  if (kind == kBinary) {
    if (!v.is<Bytes>()) return fail(fmt::format("expects bytes, got {}", v.type_name()));
    return v.ref<Bytes>();
  }
  if (v.is<std::string>()) {
    const auto& s = v.ref<std::string>();
    const auto* p = reinterpret_cast<const std::byte*>(s.data());
    return Bytes(p, p + s.size());
  }
  if (!kind && v.is<Bytes>()) return v.ref<Bytes>();
  return fail(fmt::format("expects a str{}, got {}", kind ? "" : " or bytes", v.type_name()));
}

}  // namespace

Bytes write_iptc_tags(const Metadata& datasets) {
  std::vector<Dataset> out;
  for (const auto& item : datasets) {
    const std::string& key = item.first;  // not a structured binding: lambdas below capture it (clang 14)
    const Value& value = item.second;
    std::optional<Kind> kind;
    unsigned record = 0, number = 0;
    const auto it = std::find_if(std::begin(kNames), std::end(kNames), [&](const DatasetName& d) { return key == d.name; });
    if (it != std::end(kNames)) {
      record = it->record;
      number = it->dataset;
      kind = it->kind;
    } else if (const auto rn = numbered(key)) {
      std::tie(record, number) = *rn;
      if (record < 1 || record > 255 || number > 255) {
        throw ArgumentError(fmt::format("IPTC dataset '{}': record 1…255 and dataset 0…255 expected", key));
      }
      // a numbered key of a named dataset reads back under the name: same kind
      const auto named = std::find_if(std::begin(kNames), std::end(kNames),
                                      [&](const DatasetName& d) { return d.record == record && d.dataset == number; });
      if (named != std::end(kNames)) kind = named->kind;
    } else {
      throw ArgumentError(fmt::format("IPTC dataset '{}': unknown name (exiftool's names, or \"record:dataset\")", key));
    }
    if (value.is<Value::List>()) {
      if (value.ref<Value::List>().empty()) throw ArgumentError(fmt::format("IPTC dataset '{}': an empty list", key));
      for (const Value& v : value.ref<Value::List>()) {
        out.push_back({static_cast<std::uint8_t>(record), static_cast<std::uint8_t>(number), dataset_data(key, kind, v)});
      }
    } else {
      out.push_back({static_cast<std::uint8_t>(record), static_cast<std::uint8_t>(number), dataset_data(key, kind, value)});
    }
  }
  // IIM §1.5.1: records in ascending order; the order within a record is kept.
  std::stable_sort(out.begin(), out.end(), [](const Dataset& a, const Dataset& b) { return a.record < b.record; });
  Bytes iim;
  for (const Dataset& d : out) {
    iim.push_back(std::byte{0x1C});
    iim.push_back(static_cast<std::byte>(d.record));
    iim.push_back(static_cast<std::byte>(d.number));
    if (d.data.size() <= 0x7FFF) {
      put_be(iim, d.data.size(), 2);
    } else {
      if (d.data.size() > 0xFFFFFFFFULL) throw ArgumentError("IPTC: a dataset of more than 4 GiB");
      put_be(iim, 0x8004, 2);  // §1.5.4: the length follows in 4 octets
      put_be(iim, d.data.size(), 4);
    }
    iim.insert(iim.end(), d.data.begin(), d.data.end());
  }
  return iim;
}

Bytes photoshop_resource_block(std::uint16_t id, std::span<const std::byte> data) {
  Bytes out;
  for (const char c : {'8', 'B', 'I', 'M'}) out.push_back(static_cast<std::byte>(c));
  put_be(out, id, 2);
  put_be(out, 0, 2);  // an empty Pascal name, padded to an even size
  put_be(out, data.size(), 4);
  out.insert(out.end(), data.begin(), data.end());
  if (data.size() & 1) out.push_back(std::byte{0});
  return out;
}

}  // namespace imio
