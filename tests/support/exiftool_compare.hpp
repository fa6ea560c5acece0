// The comparisons of imio's normalised metadata entries (docs/metadata.md)
// with exiftool's `-j -G1 -n -b` objects, shared by the core's EXIF tests
// and the plugins' metadata tests.
#pragma once

#include <imio/json.hpp>
#include <imio/value.hpp>

#include <cmath>
#include <cstdio>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "exiftool_oracle.hpp"
#include "test_util.hpp"

namespace imio_test {

using imio::Bytes;
using imio::Dict;
using imio::Value;

inline double apex_aperture(double v) { return std::pow(2.0, v / 2); }

// What exiftool shows for one of imio's values: exiftool applies value
// conversions even with -n. Returns none for tags whose exiftool value is
// not derived from the tag alone (file offsets), with the reason in `why`.
inline std::optional<Value> exif_view(const std::string& group, const std::string& name, const Value& v,
                                   std::string& why) {
  const auto numbers = imio_numbers(v);
  if (name == "ThumbnailOffset" || name == "StripOffsets" || name == "PreviewImageStart" ||
      name == "JpgFromRawStart" || name == "OtherImageStart") {
    why = "exiftool adds the EXIF block's position in the file";
    return std::nullopt;
  }
  if ((name == "ApertureValue" || name == "MaxApertureValue") && numbers && numbers->size() == 1) {
    return apex_aperture(numbers->front());  // EXIF 2.32 §4.6.5 APEX: F = 2^(Av/2)
  }
  if (name == "ShutterSpeedValue" && numbers && numbers->size() == 1) {
    return std::fabs(numbers->front()) < 100 ? std::pow(2.0, -numbers->front()) : 0.0;  // seconds = 2^-Tv
  }
  if (group == "GPS" && (name == "GPSLatitude" || name == "GPSLongitude" || name == "GPSDestLatitude" ||
                         name == "GPSDestLongitude") && numbers && numbers->size() == 3) {
    const double degrees = (*numbers)[0] + (*numbers)[1] / 60 + (*numbers)[2] / 3600;
    if (std::isnan(degrees)) return std::string();  // 0/0 rationals: exiftool prints ""
    return degrees;
  }
  if (group == "GPS" && name == "GPSTimeStamp" && numbers && std::isnan(numbers->front())) {
    why = "GPSTimeStamp of 0/0 rationals (exiftool prints 00:00:00)";
    return std::nullopt;
  }
  if (group == "GPS" && name == "GPSTimeStamp" && numbers && numbers->size() == 3) {
    return Value(Value::List{(*numbers)[0], (*numbers)[1], (*numbers)[2]});  // compared as h m s below
  }
  if ((name == "UserComment" || name == "GPSProcessingMethod" || name == "GPSAreaInformation") &&
      v.is<Bytes>() && v.ref<Bytes>().size() >= 8) {
    // EXIF 2.32 §4.6.5 Table 9: an 8-byte character code, then the text
    const std::string code = to_string(std::span(v.ref<Bytes>()).first(8));
    if (code.rfind("UNICODE", 0) == 0) {
      why = "UCS-2 comment (exiftool decodes it)";
      return std::nullopt;
    }
    std::string text = to_string(std::span(v.ref<Bytes>()).subspan(8));
    if (const auto nul = text.find('\0'); nul != std::string::npos) text.resize(nul);
    return trim_right(text, " ");
  }
  if (name == "CFAPattern" && v.is<Bytes>() && v.ref<Bytes>().size() >= 4 && numbers) {
    // EXIF 2.32 §4.6.5: columns and rows (SHORTs; cameras write them in
    // either order), then the colours; exiftool shows all as numbers
    const auto& n = *numbers;
    const bool big = n[0] == 0;
    Value::List out{big ? n[0] * 256 + n[1] : n[1] * 256 + n[0], big ? n[2] * 256 + n[3] : n[3] * 256 + n[2]};
    for (std::size_t i = 4; i < n.size(); ++i) out.push_back(n[i]);
    return Value(std::move(out));
  }
  if ((name == "Make" || name == "Model" || name == "Software" || name == "Artist" || name == "Copyright") &&
      v.is<std::string>()) {
    return trim_right(v.ref<std::string>(), " ");  // exiftool trims these five, imio keeps the text
  }
  if (name.rfind("XP", 0) == 0 && numbers) {  // Windows XP tags: UCS-2LE bytes
    std::string out;
    for (std::size_t i = 0; i + 1 < numbers->size(); i += 2) {
      const auto c = static_cast<unsigned>((*numbers)[i]) | (static_cast<unsigned>((*numbers)[i + 1]) << 8);
      if (c == 0) break;
      if (c < 0x80) out += static_cast<char>(c);
      else if (c < 0x800) out += {static_cast<char>(0xC0 | (c >> 6)), static_cast<char>(0x80 | (c & 0x3F))};
      else out += {static_cast<char>(0xE0 | (c >> 12)), static_cast<char>(0x80 | ((c >> 6) & 0x3F)),
                   static_cast<char>(0x80 | (c & 0x3F))};
    }
    return out;
  }
  return v;
}

inline bool same_time(const Value& hms, const Value& theirs) {
  if (!theirs.is<std::string>()) return false;
  double h = 0, m = 0, s = 0;
  if (std::sscanf(theirs.ref<std::string>().c_str(), "%lf:%lf:%lf", &h, &m, &s) != 3) return false;
  const auto& l = hms.ref<Value::List>();
  return close(l[0].get<double>(), h) && close(l[1].get<double>(), m) &&
         std::fabs(l[2].get<double>() - s) < 0.01;
}

// Compares every tag read_exif_tags gives with exiftool's object for the
// same file.
inline void compare_exif_tags(const std::string& file, const Dict& parsed, const Dict& exiftool,
                           OracleTally& tally, std::map<std::string, int>& excluded) {
  for (const auto& [group, ifd] : parsed) {
    for (const auto& [name, value] : ifd.ref<Dict>()) {
      const Value* theirs = exiftool.lookup(group + ":" + name);
      if (theirs == nullptr) {
        ++tally.imio_only;
        ++excluded["exiftool prints no " + group + ":" + name];
        continue;
      }
      std::string why;
      const auto mine = exif_view(group, name, value, why);
      if (!mine) {
        ++excluded[name + ": " + why];
        continue;
      }
      ++tally.compared;
      const bool same = name == "GPSTimeStamp" && mine->is<Value::List>() ? same_time(*mine, *theirs)
                                                                          : same_as_exiftool(*mine, *theirs);
      if (same) {
        ++tally.equal;
      } else {
        tally.mismatches.push_back(file + " " + group + ":" + name + ": imio " + imio::to_json(value).substr(0, 120) +
                                   ", exiftool " + imio::to_json(*theirs).substr(0, 120));
      }
    }
  }
  // and the other way: what exiftool shows in those groups that imio lacks
  for (const auto& [key, value] : exiftool) {
    const auto colon = key.find(':');
    const std::string group = key.substr(0, colon);
    if (group != "IFD0" && group != "ExifIFD" && group != "GPS" && group != "InteropIFD" && group != "IFD1") continue;
    const Value* ifd = parsed.lookup(group);
    if (ifd == nullptr || !ifd->ref<Dict>().contains(key.substr(colon + 1))) {
      ++tally.exiftool_only;
      ++excluded["imio has no " + key];
    }
  }
}

// Whether imio's value is exiftool's, a JSON array matching a list.
inline bool same_or_list(const Value& mine, const Value& theirs) {
  if (theirs.is<Value::List>()) {
    if (!mine.is<Value::List>()) return false;
    const auto& a = mine.ref<Value::List>();
    const auto& b = theirs.ref<Value::List>();
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
      if (!same_as_exiftool(a[i], b[i])) return false;
    }
    return true;
  }
  return same_as_exiftool(mine, theirs);
}

// exiftool's value conversion of IIM dates (CCYYMMDD → CCYY:MM:DD) and
// times (HHMMSS±HHMM → HH:MM:SS±HH:MM), IIM 4.2 §1.5.3; imio keeps the text.
inline Value iptc_view(const std::string& name, const Value& v) {
  if (!v.is<std::string>()) return v;
  const std::string& t = v.ref<std::string>();
  const bool date = name.find("Date") != std::string::npos, time = name.find("Time") != std::string::npos;
  if (date && t.size() == 8) return t.substr(0, 4) + ":" + t.substr(4, 2) + ":" + t.substr(6, 2);
  if (time && t.size() == 11) {
    return t.substr(0, 2) + ":" + t.substr(2, 2) + ":" + t.substr(4, 2) + t.substr(6, 3) + ":" + t.substr(9, 2);
  }
  return v;
}

// A dataset repeated where exiftool's tag is not a list: exiftool shows one
// value unless -a is given; every repeat must equal it.
inline bool same_repeats(const Value& mine, const Value& theirs) {
  if (!mine.is<Value::List>() || theirs.is<Value::List>()) return false;
  for (const Value& v : mine.ref<Value::List>()) {
    if (!same_as_exiftool(v, theirs)) return false;
  }
  return true;
}

// Compares imio's iptc_tags, xmp, iptc and icc entries with exiftool's
// object for the same file; every tag of exiftool's IPTC group must be in
// iptc_tags and the other way round.
inline void compare_photo_entries(const std::string& file, const Dict& meta, const Dict& exiftool, OracleTally& tally) {
  const auto check = [&](const std::string& what, const Value& mine, const Value& theirs) {
    ++tally.compared;
    if (same_or_list(mine, theirs) || same_repeats(mine, theirs)) {
      ++tally.equal;
    } else {
      tally.mismatches.push_back(file + " " + what + ": imio " + imio::to_json(mine).substr(0, 160) + ", exiftool " +
                                 imio::to_json(theirs).substr(0, 160));
    }
  };
  const auto pair = [&](const std::string& key, const std::string& exiftool_key) {
    const Value* mine = meta.lookup(key);
    const Value* theirs = exiftool.lookup(exiftool_key);
    if (mine != nullptr && theirs != nullptr) check(key, *mine, *theirs);
    else if (mine != nullptr) ++tally.imio_only;
    else if (theirs != nullptr) ++tally.exiftool_only, tally.mismatches.push_back(file + " only exiftool has " + exiftool_key);
  };
  pair("xmp", "XMP:XMP");
  pair("iptc", "IPTC:IPTC");
  pair("icc_profile", "ICC_Profile:ICC_Profile");
  pair("icc_description", "ICC_Profile:ProfileDescription");
  const Value* tags = meta.lookup("iptc_tags");
  if (tags != nullptr) {
    for (const auto& [name, value] : tags->ref<Dict>()) {
      if (const Value* theirs = exiftool.lookup("IPTC:" + name)) check("iptc_tags " + name, iptc_view(name, value), *theirs);
      else ++tally.imio_only;
    }
  }
  for (const auto& [key, value] : exiftool) {
    if (key.rfind("IPTC:", 0) != 0 || key == "IPTC:IPTC") continue;
    if (tags == nullptr || !tags->ref<Dict>().contains(key.substr(5))) {
      ++tally.exiftool_only;
      tally.mismatches.push_back(file + " only exiftool has " + key);
    }
  }
}

}  // namespace imio_test
