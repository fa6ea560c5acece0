// The data elements of a DICOM file as imio metadata (immeta).
#include "dicom_internal.hpp"

#include <gdcmDataSet.h>
#include <gdcmDict.h>
#include <gdcmDicts.h>
#include <gdcmFileMetaInformation.h>
#include <gdcmGlobal.h>
#include <gdcmSequenceOfItems.h>
#include <gdcmVR.h>

#include <algorithm>
#include <charconv>
#include <cstring>
#include <string_view>
#include <vector>

#include <fmt/format.h>

namespace imio::dicom {
namespace {

constexpr int kMaxDepth = 32;  // check_structure refuses deeper nesting before GDCM parses it

std::string_view trimmed(std::string_view s, bool leading) {
  while (!s.empty() && (s.back() == ' ' || s.back() == '\0')) s.remove_suffix(1);
  if (leading) {
    while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  }
  return s;
}

std::vector<std::string_view> split(std::string_view s) {
  std::vector<std::string_view> out;
  for (;;) {
    const std::size_t at = s.find('\\');
    out.push_back(s.substr(0, at));
    if (at == std::string_view::npos) break;
    s.remove_prefix(at + 1);
  }
  return out;
}

Value number_text(std::string_view s, bool integer) {
  s = trimmed(s, true);
  if (s.empty()) return Value();
  if (integer) {
    std::int64_t v = 0;
    const char* first = s.data() + (s.front() == '+' ? 1 : 0);
    const auto [end, ec] = std::from_chars(first, s.data() + s.size(), v);
    if (ec == std::errc() && end == s.data() + s.size()) return Value(v);
  } else {
    // from_chars for double: libstdc++ 11+
    double v = 0;
    const char* first = s.data() + (s.front() == '+' ? 1 : 0);
    const auto [end, ec] = std::from_chars(first, s.data() + s.size(), v);
    if (ec == std::errc() && end == s.data() + s.size()) return Value(v);
  }
  return Value(std::string(s));  // not a number: the text, as it stands
}

// One value or a list of several (VM > 1), as pydicom gives them.
Value one_or_list(Value::List items) {
  if (items.size() == 1) return std::move(items.front());
  return Value(std::move(items));
}

template <class T>
Value binary_numbers(const char* p, std::size_t n, bool big_endian) {
  Value::List items;
  const std::size_t count = n / sizeof(T);
  if (count == 0) return Value();
  items.reserve(count);
  for (std::size_t i = 0; i < count; ++i) {
    unsigned char b[sizeof(T)];
    std::memcpy(b, p + i * sizeof(T), sizeof(T));
    if (big_endian) std::reverse(std::begin(b), std::end(b));
    T v;
    std::memcpy(&v, b, sizeof(T));
    if constexpr (std::is_floating_point_v<T>) {
      items.emplace_back(static_cast<double>(v));
    } else {
      items.emplace_back(static_cast<std::int64_t>(v));
    }
  }
  return one_or_list(std::move(items));
}

gdcm::VR vr_of(const gdcm::DataElement& de) {
  gdcm::VR vr = de.GetVR();
  if (vr != gdcm::VR::INVALID && vr != gdcm::VR::UN) return vr;
  const gdcm::Tag& t = de.GetTag();
  if (t.IsPrivate()) return vr == gdcm::VR::UN ? vr : gdcm::VR(gdcm::VR::UN);
  const gdcm::DictEntry& e = gdcm::Global::GetInstance().GetDicts().GetDictEntry(t);
  gdcm::VR dict = e.GetVR();
  // ambiguous VRs: the unsigned / byte reading
  if (dict == gdcm::VR::US_SS || dict == gdcm::VR::US_SS_OW) return gdcm::VR::US;
  if (dict == gdcm::VR::OB_OW || dict == gdcm::VR::US_OW) return gdcm::VR::OW;
  if (dict == gdcm::VR::INVALID) return gdcm::VR::UN;
  return dict;
}

std::string key_of(const gdcm::Tag& t) {
  if (!t.IsPrivate()) {
    const gdcm::DictEntry& e = gdcm::Global::GetInstance().GetDicts().GetDictEntry(t);
    const char* keyword = e.GetKeyword();
    if (keyword != nullptr && keyword[0] != '\0') return keyword;
  }
  return tag_text(t);
}

Dict dataset_dict(const gdcm::DataSet& ds, bool big_endian, int depth);

Value element_value(const gdcm::DataElement& de, bool big_endian, int depth) {
  const gdcm::VR vr = vr_of(de);
  if (vr == gdcm::VR::SQ || (!de.IsEmpty() && dynamic_cast<const gdcm::SequenceOfItems*>(&de.GetValue()) != nullptr)) {
    gdcm::SmartPointer<gdcm::SequenceOfItems> sq = de.GetValueAsSQ();
    Value::List items;
    if (sq && depth < kMaxDepth) {
      for (auto it = sq->Begin(); it != sq->End(); ++it) {
        items.emplace_back(dataset_dict(it->GetNestedDataSet(), big_endian, depth + 1));
      }
    }
    return Value(std::move(items));
  }
  const gdcm::ByteValue* bv = de.GetByteValue();
  if (bv == nullptr || bv->GetPointer() == nullptr) {
    return gdcm::VR::IsASCII(vr) ? Value(std::string()) : Value();
  }
  const char* p = bv->GetPointer();
  const std::size_t n = bv->GetLength();
  const std::string_view text(p, n);
  switch (vr) {
    case gdcm::VR::US: return binary_numbers<std::uint16_t>(p, n, big_endian);
    case gdcm::VR::SS: return binary_numbers<std::int16_t>(p, n, big_endian);
    case gdcm::VR::UL: return binary_numbers<std::uint32_t>(p, n, big_endian);
    case gdcm::VR::SL: return binary_numbers<std::int32_t>(p, n, big_endian);
    case gdcm::VR::SV: return binary_numbers<std::int64_t>(p, n, big_endian);
    case gdcm::VR::UV: {
      // beyond int64: kept as bytes
      if (n == 8) {
        std::uint64_t v = 0;
        std::memcpy(&v, p, 8);
        if (big_endian) v = __builtin_bswap64(v);
        if (v <= static_cast<std::uint64_t>(INT64_MAX)) return Value(static_cast<std::int64_t>(v));
      }
      return Value(std::span<const std::byte>(reinterpret_cast<const std::byte*>(p), n));
    }
    case gdcm::VR::FL: return binary_numbers<float>(p, n, big_endian);
    case gdcm::VR::FD: return binary_numbers<double>(p, n, big_endian);
    case gdcm::VR::AT: {
      Value::List items;
      for (std::size_t i = 0; i + 4 <= n; i += 4) {
        std::uint16_t g = 0, e = 0;
        std::memcpy(&g, p + i, 2);
        std::memcpy(&e, p + i + 2, 2);
        if (big_endian) {
          g = static_cast<std::uint16_t>(__builtin_bswap16(g));
          e = static_cast<std::uint16_t>(__builtin_bswap16(e));
        }
        items.emplace_back(tag_text(gdcm::Tag(g, e)));
      }
      return items.empty() ? Value() : one_or_list(std::move(items));
    }
    case gdcm::VR::DS:
    case gdcm::VR::IS: {
      Value::List items;
      for (std::string_view part : split(trimmed(text, false))) items.push_back(number_text(part, vr == gdcm::VR::IS));
      if (items.size() == 1 && items.front().is_none()) return Value(std::string());
      return one_or_list(std::move(items));
    }
    case gdcm::VR::LT:
    case gdcm::VR::ST:
    case gdcm::VR::UT:
    case gdcm::VR::UR: return Value(std::string(trimmed(text, false)));
    case gdcm::VR::AE:
    case gdcm::VR::AS:
    case gdcm::VR::CS:
    case gdcm::VR::DA:
    case gdcm::VR::DT:
    case gdcm::VR::LO:
    case gdcm::VR::PN:
    case gdcm::VR::SH:
    case gdcm::VR::TM:
    case gdcm::VR::UC:
    case gdcm::VR::UI: {
      Value::List items;
      for (std::string_view part : split(trimmed(text, false))) items.emplace_back(std::string(trimmed(part, true)));
      return one_or_list(std::move(items));
    }
    default:  // OB, OW, OD, OF, OL, OV, UN
      return Value(std::span<const std::byte>(reinterpret_cast<const std::byte*>(p), n));
  }
}

Dict dataset_dict(const gdcm::DataSet& ds, bool big_endian, int depth) {
  Dict out;
  for (auto it = ds.Begin(); it != ds.End(); ++it) {
    const gdcm::Tag& t = it->GetTag();
    if (t.GetGroup() == 0x7FE0) continue;  // the pixel data: what imread returns
    std::string key = key_of(t);
    if (out.lookup(key) != nullptr) key = tag_text(t);  // a repeating group's keyword twice
    out.set(key, element_value(*it, big_endian, depth));
  }
  return out;
}

}  // namespace

std::string tag_text(const gdcm::Tag& tag) { return fmt::format("({:04X},{:04X})", tag.GetGroup(), tag.GetElement()); }

Dict to_metadata(const gdcm::FileMetaInformation& header, const gdcm::DataSet& dataset, bool big_endian) {
  Dict out = dataset_dict(header, false, 0);  // the file meta information is always little endian
  Dict body = dataset_dict(dataset, big_endian, 0);
  for (const auto& [k, v] : body) out.set(k, v);
  return out;
}

}  // namespace imio::dicom
