// The IPTC-IIM dataset names (IIM 4.2 records 1 and 2, as exiftool names
// them) and how each dataset's value is typed, shared by the IPTC reader
// (iptc.cpp) and writer (iptc_write.cpp).
#pragma once

#include <cstdint>

namespace imio::iptc_detail {

/// How a dataset's value reads: text, an unsigned binary number, or bytes.
enum Kind : std::uint8_t { kText, kUint, kBinary };

/// A dataset's record and number, its name and kind.
struct DatasetName {
  std::uint8_t record, dataset;
  const char* name;
  Kind kind;
};

/// Every named dataset, sorted by record and number.
inline constexpr DatasetName kNames[] = {
#include "iptc_names.inc"
};

}  // namespace imio::iptc_detail
