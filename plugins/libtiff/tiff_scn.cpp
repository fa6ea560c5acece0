// Leica SCN series as tifffile 2023.2 builds them (`TiffFile._series_scn`).
// The XML (namespace http://www.leica-microsystems.com/scn/2010/10/01):
//   <scn><collection><image name="…"><pixels>
//     <dimension sizeX sizeY r c z ifd/> …
// one `dimension` per page: resolution r (0 the full one), channel c,
// focal plane z, and the page's index in the IFD chain.
#include "tiff_scn.hpp"

#include <imio/warnings.hpp>

#include <algorithm>
#include <charconv>
#include <map>
#include <string>

#include <fmt/format.h>

#include "tiff_xml.hpp"

namespace imio::tiff {
namespace {

constexpr std::string_view kPlugin = "libtiff";

// Why the XML gives no series imio can read (tifffile raises on most of
// these; it fills missing planes with zeros).
struct NotScn {
  std::string why;
};

std::int64_t int_attribute(const XmlElement& e, std::string_view name, std::optional<std::int64_t> fallback) {
  const std::string* text = e.attribute(name);
  if (text == nullptr) {
    if (fallback) return *fallback;
    throw NotScn{fmt::format("a {} element has no {}", e.name, name)};
  }
  std::string_view t = *text;
  while (!t.empty() && (t.front() == ' ' || t.front() == '+')) t.remove_prefix(1);
  while (!t.empty() && t.back() == ' ') t.remove_suffix(1);
  std::int64_t v = 0;
  const auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
  if (ec != std::errc() || end != t.data() + t.size() || v < 0) {
    throw NotScn{fmt::format("the {} of a {} element is not a count: '{}'", name, e.name, *text)};
  }
  return v;
}

struct Resolution {
  std::int64_t channels = 0, planes = 0;             // the largest c and z seen
  std::map<std::pair<std::int64_t, std::int64_t>, std::size_t> ifds;  // (c, z) → page
};

// One resolution as a series: (C, Z, page...) with length-1 C and Z dropped.
Series resolution_series(const Resolution& res, const std::vector<Page>& pages, const std::string& name) {
  const auto nc = static_cast<std::size_t>(res.channels + 1), nz = static_cast<std::size_t>(res.planes + 1);
  if (nc * nz != res.ifds.size()) {
    throw NotScn{fmt::format("a resolution lists {} of its {} planes", res.ifds.size(), nc * nz)};
  }
  Series s;
  s.kind = Series::Kind::scn;
  s.name = name;
  for (const auto& [cz, ifd] : res.ifds) {  // (c, z) order: c slowest, as tifffile's c * Z + z
    const Page& p = pages[ifd];
    if (!s.pages.empty() && !p.same_kind(s.pages.front())) throw NotScn{"the planes of a resolution differ in geometry"};
    s.pages.push_back(p);
  }
  const Page& first = s.pages.front();
  if (nc > 1) s.shape.push_back(nc);
  if (nz > 1) s.shape.push_back(nz);
  s.shape.insert(s.shape.end(), first.shape.begin(), first.shape.end());
  s.dtype = first.dtype;
  return s;
}

std::vector<Series> series_of(const XmlElement& root, const std::vector<Page>& pages) {
  std::vector<Series> out;
  for (const XmlElement& collection : root.children) {
    if (collection.name != "collection") continue;
    for (const XmlElement& image : collection.children) {
      if (image.name != "image") continue;
      const std::string* name_attr = image.attribute("name");
      const std::string name = name_attr != nullptr ? *name_attr : "Unknown";
      for (const XmlElement& pixels : image.children) {
        if (pixels.name != "pixels") continue;
        std::map<std::int64_t, Resolution> resolutions;
        for (const XmlElement& dim : pixels.children) {
          if (dim.name != "dimension") continue;
          if (int_attribute(image, "sizeZ", 1) > 1) throw NotScn{"Z-stacks are not supported (nor by tifffile)"};
          int_attribute(dim, "sizeX", std::nullopt);
          int_attribute(dim, "sizeY", std::nullopt);
          const std::int64_t c = int_attribute(dim, "c", 0), z = int_attribute(dim, "z", 0);
          const std::int64_t r = int_attribute(dim, "r", 0), ifd = int_attribute(dim, "ifd", std::nullopt);
          if (static_cast<std::uint64_t>(ifd) >= pages.size()) {
            throw NotScn{fmt::format("a dimension names page {}, the file has {}", ifd, pages.size())};
          }
          if (c >= 0x10000 || z >= 0x10000) throw NotScn{fmt::format("channel {} or plane {} is implausible", c, z)};
          Resolution& res = resolutions[r];
          res.channels = std::max(res.channels, c);
          res.planes = std::max(res.planes, z);
          res.ifds[{c, z}] = static_cast<std::size_t>(ifd);
        }
        if (resolutions.empty()) continue;
        std::vector<Series> levels;
        for (const auto& [r, res] : resolutions) levels.push_back(resolution_series(res, pages, name));
        Series top = std::move(levels.front());
        for (std::size_t k = 1; k < levels.size(); ++k) {
          if (levels[k].shape.size() != top.shape.size() || levels[k].dtype != top.dtype) {
            throw NotScn{"a resolution has other axes or another dtype than the image's first"};
          }
          top.levels.push_back(std::move(levels[k]));
        }
        out.push_back(std::move(top));
      }
    }
  }
  return out;
}

}  // namespace

bool is_scn_description(std::string_view description) noexcept {
  std::string_view tail = description.substr(description.size() > 10 ? description.size() - 10 : 0);
  while (!tail.empty() && (tail.front() == ' ' || tail.front() == '\n' || tail.front() == '\r' || tail.front() == '\t')) {
    tail.remove_prefix(1);
  }
  while (!tail.empty() && (tail.back() == ' ' || tail.back() == '\n' || tail.back() == '\r' || tail.back() == '\t' ||
                           tail.back() == '\0')) {
    tail.remove_suffix(1);
  }
  return tail.ends_with("</scn>");
}

std::optional<std::vector<Series>> scn_series(const std::vector<Page>& pages, std::string_view xml) {
  const auto root = parse_xml(xml);
  if (!root) {
    warn(kPlugin, "the Leica SCN XML does not parse; the pages are grouped as generic series");
    return std::nullopt;
  }
  try {
    auto out = series_of(*root, pages);
    if (out.empty()) {
      warn(kPlugin, "the Leica SCN XML gives no image; the pages are grouped as generic series");
      return std::nullopt;
    }
    return out;
  } catch (const NotScn& e) {
    warn(kPlugin, fmt::format("the Leica SCN XML gives no series imio can read ({}); the pages are grouped as generic "
                              "series", e.why));
    return std::nullopt;
  }
}

}  // namespace imio::tiff
