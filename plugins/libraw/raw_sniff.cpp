#include "raw_sniff.hpp"

#include <algorithm>
#include <cctype>
#include <cstring>
#include <string>

namespace imio::libraw {
namespace {

bool at(std::span<const std::byte> head, std::size_t offset, std::string_view magic) noexcept {
  return head.size() >= offset + magic.size() && std::memcmp(head.data() + offset, magic.data(), magic.size()) == 0;
}

// Phase One (parse_phase_one): "IIII" or "MMMM" somewhere in the first 32
// bytes, then a 4-byte word whose top three bytes spell "Raw".
bool phase_one(std::span<const std::byte> head) noexcept {
  const std::size_t n = std::min<std::size_t>(head.size(), 32);
  for (std::size_t i = 0; i + 4 <= n; ++i) {
    const bool le = at(head, i, "IIII"), be = at(head, i, "MMMM");
    if (!le && !be) continue;
    if (head.size() < i + 8) return false;
    const auto b = [&](std::size_t k) { return std::to_integer<unsigned char>(head[i + 4 + k]); };
    return le ? (b(1) == 'w' && b(2) == 'a' && b(3) == 'R') : (b(0) == 'R' && b(1) == 'a' && b(2) == 'w');
  }
  return false;
}

}  // namespace

bool has_raw_signature(std::span<const std::byte> head) noexcept {
  static constexpr std::string_view kAtZero[] = {
      std::string_view("II*\0", 4), std::string_view("MM\0*", 4),  // TIFF-based: NEF, CR2, DNG, ARW, PEF, SRW, …
      "IIRO", "IIRS", "MMOR",                                       // Olympus ORF
      std::string_view("IIU\0", 4),                                 // Panasonic RW2
      "FUJIFILM",                                                   // Fujifilm RAF
      std::string_view("\0MRM", 4),                                 // Minolta MRW
      "FOVb",                                                       // Sigma X3F
      "ARRI", "XPDS", "NOKIARAW", "PXN", "DSC-Image", "PWAD",       // ARRI, …, Nokia, Logitech, …
      std::string_view("\0\001\0\001\0@", 6),                       // Nikon E-series dumps
  };
  for (const std::string_view m : kAtZero) {
    if (at(head, 0, m)) return true;
  }
  if ((at(head, 0, "II") || at(head, 0, "MM")) && at(head, 6, "HEAPCCDR")) return true;  // Canon CRW
  if (at(head, 4, "ftypcrx ")) return true;                                             // Canon CR3
  if (at(head, 25, "ARECOYK")) return true;                                             // Contax N
  return phase_one(head);
}

bool is_raw_extension(std::string_view extension) noexcept {
  static constexpr std::string_view kExtensions[] = {".dng", ".cr2", ".cr3", ".crw", ".nef", ".nrw", ".arw", ".srf",
                                                     ".sr2", ".raf", ".orf", ".rw2", ".pef", ".srw", ".3fr", ".erf",
                                                     ".kdc", ".dcr", ".mrw", ".mos", ".iiq", ".x3f", ".raw"};
  std::string lower(extension);
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return std::find(std::begin(kExtensions), std::end(kExtensions), lower) != std::end(kExtensions);
}

}  // namespace imio::libraw
