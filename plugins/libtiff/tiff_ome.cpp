// OME-TIFF series as tifffile 2023.2 builds them (`TiffFile._series_ome`),
// for a single file. OME data model: an Image's Pixels give the sizes and
// DimensionOrder (fastest first, always starting XY); TiffData elements map
// runs of IFDs to plane positions; Channel@SamplesPerPixel folds RGB samples
// out of C; a "modulo" annotation splits Z, C or T into two axes.
#include "tiff_ome.hpp"

#include <imio/checked_math.hpp>
#include <imio/warnings.hpp>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <map>
#include <span>
#include <string>

#include <fmt/format.h>

#include "tiff_xml.hpp"

namespace imio::tiff {
namespace {

constexpr std::string_view kPlugin = "libtiff";

// Thrown where tifffile's own parsing would fail (a missing or malformed
// attribute): the file then has no OME series.
struct NotOme {};

std::int64_t to_int(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '+')) text.remove_prefix(1);
  while (!text.empty() && text.back() == ' ') text.remove_suffix(1);
  std::int64_t v = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size()) throw NotOme{};
  return v;
}

std::int64_t int_attribute(const XmlElement& e, std::string_view name, std::int64_t fallback) {
  const std::string* v = e.attribute(name);
  return v == nullptr ? fallback : to_int(*v);
}

double float_attribute(const XmlElement& e, std::string_view name, double fallback) {
  const std::string* v = e.attribute(name);
  if (v == nullptr) return fallback;
  char* stop = nullptr;
  const double d = std::strtod(v->c_str(), &stop);
  if (stop == v->c_str() || *stop != '\0') throw NotOme{};
  return d;
}

// Per modulo annotation ID: the axis it splits (Z, C or T) → the length of
// the new inner axis.
using Modulo = std::map<char, std::size_t>;

std::map<std::string, Modulo> modulo_annotations(const XmlElement& annotations) {
  std::map<std::string, Modulo> out;
  for (const XmlElement& annotation : annotations.children) {
    const std::string* ns = annotation.attribute("Namespace");
    const std::string* id = annotation.attribute("ID");
    if (ns == nullptr || !ns->ends_with("modulo") || id == nullptr) continue;
    Modulo& modulo = out[*id];
    for (const XmlElement& value : annotation.children) {
      for (const XmlElement& group : value.children) {
        for (const XmlElement& along : group.children) {
          const std::string& tag = along.name;
          if (tag.size() < 6 || std::string_view(tag).substr(0, tag.size() - 1).ends_with("Along") == false) continue;
          std::size_t labels = 0;
          if (along.attribute("Start") != nullptr) {
            // numpy.arange(start, end + step, step) has ceil((end + step - start) / step) values.
            const double step = float_attribute(along, "Step", 1.0);
            const double start = float_attribute(along, "Start", 0.0);
            const double stop = float_attribute(along, "End", 0.0) + step;
            const double n = step == 0.0 ? -1.0 : std::ceil((stop - start) / step);
            if (!(n >= 0.0 && n < 1e9)) throw NotOme{};
            labels = static_cast<std::size_t>(n);
          } else {
            labels = static_cast<std::size_t>(std::count_if(along.children.begin(), along.children.end(),
                                                            [](const XmlElement& e) { return e.name == "Label"; }));
          }
          modulo[tag.back()] = labels;
        }
      }
    }
  }
  return out;
}

// tifffile's squeeze: length-1 axes dropped except Y and X.
Shape squeezed(const Shape& shape, std::string_view axes) {
  Shape out;
  for (std::size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] != 1 || axes[i] == 'Y' || axes[i] == 'X') out.push_back(shape[i]);
  }
  return out;
}

// tifffile compares a TiffData's FileName with the file's name ignoring case.
bool same_file_name(std::string_view a, std::string_view b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](unsigned char x, unsigned char y) {
    return std::tolower(x) == std::tolower(y);
  });
}

// One Image's Pixels element as a series of this file's pages; nullopt when
// the Image has no planes here or its shape does not end with its pages'
// (tifffile skips such images).
// `root_uuid` is this file's UUID, learnt from the first TiffData that
// names this file when the root element has none (kept for later Images, as
// tifffile keeps it).
std::optional<Series> pixels_series(const XmlElement& pixels, const std::vector<Page>& pages, const Modulo* modulo,
                                    std::optional<std::string>& root_uuid, std::string_view file_name,
                                    bool& other_files) {
  const std::string* order = pixels.attribute("DimensionOrder");
  if (order == nullptr || order->size() != 5) throw NotOme{};
  std::string axes(order->rbegin(), order->rend());  // slowest first: "TZCYX" for XYCZT
  if (axes.substr(3) != "YX") throw NotOme{};
  Shape shape;
  for (const char ax : axes) {
    const std::int64_t n = int_attribute(pixels, std::string("Size") + ax, -1);
    if (n < 0) throw NotOme{};
    shape.push_back(static_cast<std::size_t>(n));
  }
  std::size_t spp = 1;
  bool first_channel = true;
  std::vector<std::optional<std::size_t>> ifds;  // page per plane, in C order of shape[:3]
  for (const XmlElement& data : pixels.children) {
    if (data.name == "Channel") {
      const auto n = static_cast<std::size_t>(std::max<std::int64_t>(1, int_attribute(data, "SamplesPerPixel", 1)));
      if (first_channel) {
        first_channel = false;
        spp = n;
        if (spp > 1) shape[axes.find('C')] /= spp;
      } else if (n != spp) {
        throw NotOme{};  // tifffile: "OME series cannot handle differing SamplesPerPixel"
      }
      continue;
    }
    if (data.name != "TiffData") continue;
    const std::int64_t ifd = int_attribute(data, "IFD", 0);
    std::int64_t count = int_attribute(data, "NumPlanes", data.attribute("IFD") != nullptr ? 1 : 0);
    count = int_attribute(data, "PlaneCount", count);
    if (ifd < 0 || count < 0) throw NotOme{};
    // More planes than the file has pages means planes are missing (which
    // tifffile fills with zeros and imio does not read); checking it here
    // also bounds the plane list a hostile XML could ask for.
    const auto outer = checked_product(std::span<const std::size_t>(shape.data(), 3));
    if (!outer || *outer > pages.size() || static_cast<std::uint64_t>(count) > pages.size()) throw NotOme{};
    // The first plane's position, row-major over the three outer axes.
    std::size_t index = 0;
    bool valid = true;
    for (std::size_t i = 0; i < 3; ++i) {
      const std::int64_t at = int_attribute(data, std::string("First") + axes[i], 0);
      if (at < 0 || static_cast<std::size_t>(at) >= shape[i]) valid = false;
      index = index * shape[i] + (valid ? static_cast<std::size_t>(at) : 0);
    }
    if (!valid) {
      warn(kPlugin, "the OME series holds an invalid TiffData index; it is ignored");
      continue;
    }
    for (const XmlElement& uuid : data.children) {
      if (uuid.name != "UUID") continue;
      const std::string* name = uuid.attribute("FileName");
      if (!root_uuid && !uuid.text.empty() && name != nullptr && !file_name.empty() && same_file_name(*name, file_name)) {
        root_uuid = uuid.text;
      } else if (uuid.text != root_uuid.value_or(std::string())) {
        other_files = true;  // planes in another file: imio reads one resource
        return std::nullopt;
      }
      break;  // only the first UUID counts
    }
    const std::size_t n = count != 0 ? static_cast<std::size_t>(count) : pages.size();
    if (ifds.size() < n + index) ifds.resize(n + index);
    for (std::size_t i = 0; i < n; ++i) {
      const std::size_t page = static_cast<std::size_t>(ifd) + i;
      if (page >= pages.size()) {
        warn(kPlugin, "the OME series refers to pages the file does not hold");
        break;
      }
      ifds[index + i] = page;
    }
  }
  const auto key = std::find_if(ifds.begin(), ifds.end(), [](const auto& p) { return p.has_value(); });
  if (key == ifds.end()) return std::nullopt;  // no planes in this file
  const Page& keyframe = pages[**key];
  if (spp > 1) {
    if (keyframe.planar == 1) {
      shape.push_back(spp);
      axes += 'S';
    } else {
      shape.insert(shape.end() - 2, spp);
      axes.insert(axes.end() - 2, 'S');
    }
  }
  if (axes.find('S') == std::string::npos) {
    shape.push_back(1);
    axes += 'S';
  }
  const std::uint64_t page_size = product(keyframe.shape);
  const std::uint64_t planes = std::max<std::uint64_t>(page_size == 0 ? 1 : product(shape) / page_size, 1);
  if (planes != ifds.size()) {
    warn(kPlugin, fmt::format("the OME series expects {} planes, the XML maps {}", planes, ifds.size()));
    if (ifds.size() > planes) ifds.resize(static_cast<std::size_t>(planes));
  }
  if (modulo != nullptr) {
    for (const auto& [axis, size] : *modulo) {
      const auto i = axes.find(axis);
      if (i == std::string::npos || size == 0) continue;
      if (shape[i] != size) {
        shape[i] /= size;
        shape.insert(shape.begin() + static_cast<std::ptrdiff_t>(i) + 1, size);
        axes.insert(i + 1, 1, 'Q');  // the modulo axis; its letter matters only for squeezing
      }
    }
  }
  const Shape squeezed_shape = squeezed(shape, axes);
  const Shape& page_shape = keyframe.shape;
  if (squeezed_shape.size() < page_shape.size() ||
      !std::equal(page_shape.begin(), page_shape.end(), squeezed_shape.end() - static_cast<std::ptrdiff_t>(page_shape.size()))) {
    warn(kPlugin, "an OME series whose planes are not its pages is skipped (discontiguous storage)");
    return std::nullopt;
  }
  Series series;
  series.kind = Series::Kind::ome;
  series.shape = squeezed_shape;
  series.dtype = keyframe.dtype;
  for (const auto& page : ifds) {
    // tifffile fills planes the file lacks with zeros, and reads every plane
    // with the first one's geometry; imio reads each page as it is, so it
    // takes the OME grouping only where every plane is there and alike.
    if (!page || !pages[*page].same_kind(keyframe)) throw NotOme{};
    series.pages.push_back(pages[*page]);
  }
  if (product(series.shape) != series.pages.size() * page_size) throw NotOme{};
  return series;
}

}  // namespace

bool is_ome_description(std::string_view description) noexcept {
  std::string_view tail = description.substr(description.size() > 10 ? description.size() - 10 : 0);
  while (!tail.empty() && (tail.back() == ' ' || tail.back() == '\n' || tail.back() == '\r' || tail.back() == '\t' ||
                           tail.back() == '\0')) {
    tail.remove_suffix(1);
  }
  return tail.ends_with("OME>");
}

std::optional<std::vector<Series>> ome_series(const std::vector<Page>& pages, std::string_view xml,
                                              std::string_view file_name) {
  const std::optional<XmlElement> root = parse_xml(xml);
  if (!root) {
    warn(kPlugin, "the OME-XML does not parse; the pages are grouped as generic series");
    return std::nullopt;
  }
  std::optional<std::string> root_uuid;
  if (const std::string* uuid = root->attribute("UUID")) root_uuid = *uuid;
  try {
    std::map<std::string, Modulo> modulo;
    for (const XmlElement& e : root->children) {
      if (e.name == "StructuredAnnotations") modulo.merge(modulo_annotations(e));
    }
    std::vector<Series> out;
    for (const XmlElement& image : root->children) {
      if (image.name == "BinaryOnly") break;  // the XML lives in a companion file
      if (image.name != "Image") continue;
      const Modulo* image_modulo = nullptr;
      for (const XmlElement& ref : image.children) {
        if (ref.name != "AnnotationRef") continue;
        if (const std::string* id = ref.attribute("ID"); id != nullptr && modulo.contains(*id)) image_modulo = &modulo[*id];
        break;
      }
      for (const XmlElement& pixels : image.children) {
        if (pixels.name != "Pixels") continue;
        bool other_files = false;
        auto series = pixels_series(pixels, pages, image_modulo, root_uuid, file_name, other_files);
        if (other_files) {
          warn(kPlugin, "the OME-XML maps planes to other files; imio reads only this one, as generic series");
          return std::nullopt;
        }
        if (series) {
          if (const std::string* name = image.attribute("Name")) series->name = *name;
          out.push_back(std::move(*series));
        }
      }
    }
    if (out.empty()) return std::nullopt;
    return out;
  } catch (const NotOme&) {
    warn(kPlugin, "the OME-XML describes series imio cannot build from this file's pages; they are grouped as generic series");
    return std::nullopt;
  }
}

}  // namespace imio::tiff
