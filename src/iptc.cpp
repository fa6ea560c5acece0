// IPTC IIM 4.2 datasets (§1.5: tag marker 0x1C, record, dataset, length,
// data) and Photoshop image resources (Photoshop File Formats, "Image
// Resource Blocks"). Both come from untrusted files: every length is checked
// against the block before use, and the work is one pass over the block.
#include <imio/error.hpp>
#include <imio/iptc.hpp>

#include <algorithm>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "iptc_names.hpp"
#include "text_bytes.hpp"

namespace imio {
namespace {

using namespace iptc_detail;

const DatasetName* dataset_name(std::uint8_t record, std::uint8_t dataset) {
  for (const DatasetName& d : kNames) {
    if (d.record == record && d.dataset == dataset) return &d;
  }
  return nullptr;
}

std::uint64_t big_endian(std::span<const std::byte> b) {
  std::uint64_t v = 0;
  for (const std::byte x : b) v = (v << 8) | std::to_integer<std::uint64_t>(x);
  return v;
}

Value dataset_value(const DatasetName* name, std::span<const std::byte> data) {
  const Kind kind = name != nullptr ? name->kind : kText;
  if (kind == kBinary) return Bytes(data.begin(), data.end());
  if (kind == kUint && data.size() <= 4) return static_cast<std::int64_t>(big_endian(data));
  const std::string_view text(reinterpret_cast<const char*>(data.data()), data.size());
  return text_detail::utf8_or_latin1(text);
}

}  // namespace

Metadata read_iptc_tags(std::span<const std::byte> iim) {
  const auto fail = [&](const std::string& reason) {
    throw DecodeError(fmt::format("IPTC block ({} bytes): {}", iim.size(), reason));
  };
  std::vector<std::pair<std::string, Value>> datasets;
  std::size_t pos = 0;
  while (pos < iim.size()) {
    const auto marker = std::to_integer<unsigned>(iim[pos]);
    if (marker == 0) break;  // padding after the last dataset
    if (marker != 0x1C) fail(fmt::format("byte 0x{:02x} at offset {} is not a dataset's tag marker 0x1C", marker, pos));
    if (iim.size() - pos < 5) fail(fmt::format("the dataset at offset {} is cut", pos));
    const auto record = std::to_integer<std::uint8_t>(iim[pos + 1]);
    const auto number = std::to_integer<std::uint8_t>(iim[pos + 2]);
    std::uint64_t length = big_endian(iim.subspan(pos + 3, 2));
    pos += 5;
    if (length & 0x8000) {  // IIM §1.5.4 extended dataset: the low bits count the length's octets
      const std::uint64_t octets = length & 0x7FFF;
      if (octets > 4 || iim.size() - pos < octets) {
        fail(fmt::format("dataset {}:{} has an extended length of {} octets", record, number, octets));
      }
      length = big_endian(iim.subspan(pos, static_cast<std::size_t>(octets)));
      pos += static_cast<std::size_t>(octets);
    }
    if (length > iim.size() - pos) {
      fail(fmt::format("dataset {}:{} at offset {} declares {} bytes, past the end", record, number, pos, length));
    }
    const DatasetName* name = dataset_name(record, number);
    datasets.emplace_back(name != nullptr ? std::string(name->name) : fmt::format("{}:{}", record, number),
                          dataset_value(name, iim.subspan(pos, static_cast<std::size_t>(length))));
    pos += static_cast<std::size_t>(length);
  }
  // Repeated datasets gathered into lists, in first-appearance order.
  std::vector<std::pair<std::string, Value::List>> gathered;
  std::map<std::string, std::size_t> index;
  for (auto& [key, value] : datasets) {
    const auto [it, fresh] = index.try_emplace(key, gathered.size());
    if (fresh) gathered.emplace_back(key, Value::List{});
    gathered[it->second].second.push_back(std::move(value));
  }
  Metadata out;
  for (auto& [key, values] : gathered) {
    if (values.size() == 1) out.set(key, std::move(values.front()));
    else out.set(key, Value(std::move(values)));
  }
  return out;
}

std::optional<Bytes> photoshop_resource(std::span<const std::byte> resources, std::uint16_t id) {
  const auto fail = [&](const std::string& reason) {
    throw DecodeError(fmt::format("Photoshop resources ({} bytes): {}", resources.size(), reason));
  };
  std::size_t pos = 0;
  while (pos < resources.size()) {
    if (std::to_integer<unsigned>(resources[pos]) == 0) break;  // padding
    if (resources.size() - pos < 7) fail(fmt::format("the resource at offset {} is cut", pos));
    const std::string_view signature(reinterpret_cast<const char*>(resources.data() + pos), 4);
    if (signature != "8BIM" && signature != "8B64" && signature != "AgHg" && signature != "DCSR" &&
        signature != "PHUT" && signature != "MeSa") {
      fail(fmt::format("the resource at offset {} has no '8BIM' signature", pos));
    }
    const auto resource_id = static_cast<std::uint16_t>(big_endian(resources.subspan(pos + 4, 2)));
    // the name: a Pascal string padded to an even size, length byte included
    const std::size_t name_size = (std::to_integer<std::size_t>(resources[pos + 6]) + 2) & ~std::size_t{1};
    pos += 6 + name_size;
    if (pos > resources.size() || resources.size() - pos < 4) fail(fmt::format("resource 0x{:04x} is cut", resource_id));
    const std::uint64_t size = big_endian(resources.subspan(pos, 4));
    pos += 4;
    if (size > resources.size() - pos) {
      fail(fmt::format("resource 0x{:04x} declares {} bytes, past the end", resource_id, size));
    }
    const auto data = resources.subspan(pos, static_cast<std::size_t>(size));
    if (resource_id == id) return Bytes(data.begin(), data.end());
    pos += static_cast<std::size_t>(size + (size & 1));  // data padded to an even size
  }
  return std::nullopt;
}

}  // namespace imio
