// The 'desc' tag of an ICC profile (ICC.1:2010 §7.3 tag table, §9.2.41
// profileDescriptionTag). The profile comes from untrusted files: the tag
// table and every offset in it are checked against the profile.
#include <imio/error.hpp>
#include <imio/icc.hpp>

#include "text_bytes.hpp"

#include <cstdint>
#include <string>
#include <string_view>

#include <fmt/format.h>

namespace imio {
namespace {

constexpr std::uint64_t kMaxTags = 1024;  // real profiles have a few dozen

std::uint64_t be(std::span<const std::byte> p, std::size_t at, int n) {
  std::uint64_t v = 0;
  for (int i = 0; i < n; ++i) v = (v << 8) | std::to_integer<std::uint64_t>(p[at + static_cast<std::size_t>(i)]);
  return v;
}

// UTF-16BE (surrogate pairs joined; a lone surrogate becomes U+FFFD) up to
// the first NUL.
std::string utf16be(std::span<const std::byte> s) {
  std::string out;
  for (std::size_t i = 0; i + 1 < s.size(); i += 2) {
    std::uint32_t c = static_cast<std::uint32_t>(be(s, i, 2));
    if (c == 0) break;
    if (c >= 0xD800 && c <= 0xDBFF && i + 3 < s.size()) {
      const auto low = static_cast<std::uint32_t>(be(s, i + 2, 2));
      if (low >= 0xDC00 && low <= 0xDFFF) {
        c = 0x10000 + ((c - 0xD800) << 10) + (low - 0xDC00);
        i += 2;
      } else {
        c = 0xFFFD;
      }
    } else if (c >= 0xD800 && c <= 0xDFFF) {
      c = 0xFFFD;
    }
    text_detail::append_utf8(out, c);
  }
  return out;
}

}  // namespace

std::string icc_profile_description(std::span<const std::byte> profile) {
  const auto fail = [&](const std::string& reason) {
    throw DecodeError(fmt::format("ICC profile ({} bytes): {}", profile.size(), reason));
  };
  if (profile.size() < 132) fail("shorter than its 128-byte header and tag count");
  const std::uint64_t count = be(profile, 128, 4);
  if (count > kMaxTags) fail(fmt::format("declares {} tags (imio reads at most {})", count, kMaxTags));
  if (12 * count > profile.size() - 132) fail(fmt::format("its table of {} tags runs past the end", count));
  for (std::size_t i = 0; i < count; ++i) {
    const std::size_t entry = 132 + 12 * i;
    if (be(profile, entry, 4) != 0x64657363) continue;  // 'desc'
    const std::uint64_t offset = be(profile, entry + 4, 4), size = be(profile, entry + 8, 4);
    if (offset > profile.size() || size > profile.size() - offset || size < 12) {
      fail(fmt::format("its 'desc' tag ({} bytes at offset {}) lies past the end", size, offset));
    }
    const auto tag = profile.subspan(static_cast<std::size_t>(offset), static_cast<std::size_t>(size));
    const std::uint64_t type = be(tag, 0, 4);
    if (type == 0x64657363) {  // 'desc': textDescriptionType, ICC.1:2001-04 §6.5.17
      const std::uint64_t n = be(tag, 8, 4);  // ASCII count, NUL included
      if (n > tag.size() - 12) fail(fmt::format("its 'desc' text of {} bytes runs past the tag", n));
      std::string text(reinterpret_cast<const char*>(tag.data() + 12), static_cast<std::size_t>(n));
      if (const auto nul = text.find('\0'); nul != std::string::npos) text.resize(nul);
      return text;
    }
    if (type == 0x6D6C7563) {  // 'mluc': multiLocalizedUnicodeType, ICC.1:2010 §10.13
      if (tag.size() < 16) fail("its 'desc' tag is cut");
      const std::uint64_t records = be(tag, 8, 4), record_size = be(tag, 12, 4);
      if (records == 0) return {};
      if (record_size < 12 || records > (tag.size() - 16) / record_size) {
        fail(fmt::format("its 'desc' tag declares {} records of {} bytes, past the tag", records, record_size));
      }
      std::size_t chosen = 0;
      for (std::size_t r = 0; r < records; ++r) {
        const std::size_t at = 16 + r * static_cast<std::size_t>(record_size);
        if (be(tag, at, 2) == 0x656E && be(tag, at + 2, 2) == 0x5553) {  // "en", "US"
          chosen = r;
          break;
        }
      }
      const std::size_t at = 16 + chosen * static_cast<std::size_t>(record_size);
      const std::uint64_t length = be(tag, at + 4, 4), start = be(tag, at + 8, 4);
      if (start > tag.size() || length > tag.size() - start) {
        fail(fmt::format("its 'desc' string ({} bytes at offset {}) lies past the tag", length, start));
      }
      return utf16be(tag.subspan(static_cast<std::size_t>(start), static_cast<std::size_t>(length)));
    }
    fail(fmt::format("its 'desc' tag has type '{}' (neither 'desc' nor 'mluc')",
                     std::string_view(reinterpret_cast<const char*>(tag.data()), 4)));
  }
  return {};
}

}  // namespace imio
