// A small, bounded XML reader for the XML some TIFF writers keep in the
// ImageDescription (OME-XML): elements, attributes and character data, with
// namespace prefixes dropped. Enough for reading a document's structure; it
// validates well-formedness (matching tags, one root) but no schema, and
// refuses DTDs with an internal subset and unknown entities.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace imio::tiff {

struct XmlElement {
  std::string name;  ///< local name (a namespace prefix removed)
  std::vector<std::pair<std::string, std::string>> attributes;  ///< local names; values with entities decoded
  std::vector<XmlElement> children;
  std::string text;  ///< the character data directly inside, entities decoded

  /// The value of attribute `local_name`, or nullptr.
  const std::string* attribute(std::string_view local_name) const noexcept;
};

/// The root element of `document`, or nullopt when it is not well-formed XML
/// or nests deeper than `max_depth` elements.
std::optional<XmlElement> parse_xml(std::string_view document, std::size_t max_depth = 256);

}  // namespace imio::tiff
