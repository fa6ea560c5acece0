// XML 1.0 (W3C REC-xml, §2.4–§3.1, §4.1 character references) as far as
// reading OME-XML needs: no DTD processing, only the five predefined
// entities and character references. Iterative, so hostile nesting cannot
// exhaust the stack.
#include "tiff_xml.hpp"

#include <cstdint>

namespace imio::tiff {
namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

bool is_name_char(char c) {
  return !is_space(c) && c != '<' && c != '>' && c != '/' && c != '=' && c != '"' && c != '\'' && c != '&' && c != '\0';
}

std::string local_name(std::string_view name) {
  const auto colon = name.find(':');
  return std::string(colon == std::string_view::npos ? name : name.substr(colon + 1));
}

void append_utf8(std::string& out, std::uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

// Character data with its references replaced; nullopt for an unknown
// entity or a malformed reference.
std::optional<std::string> decode_text(std::string_view raw) {
  std::string out;
  out.reserve(raw.size());
  while (!raw.empty()) {
    const auto amp = raw.find('&');
    out.append(raw.substr(0, amp));
    if (amp == std::string_view::npos) break;
    raw.remove_prefix(amp + 1);
    const auto semi = raw.find(';');
    if (semi == std::string_view::npos || semi > 12) return std::nullopt;
    const std::string_view ref = raw.substr(0, semi);
    raw.remove_prefix(semi + 1);
    if (ref == "lt") {
      out += '<';
    } else if (ref == "gt") {
      out += '>';
    } else if (ref == "amp") {
      out += '&';
    } else if (ref == "quot") {
      out += '"';
    } else if (ref == "apos") {
      out += '\'';
    } else if (ref.size() > 1 && ref[0] == '#') {
      const bool hex = ref[1] == 'x';
      const std::string_view digits = ref.substr(hex ? 2 : 1);
      if (digits.empty()) return std::nullopt;
      std::uint32_t cp = 0;
      for (const char c : digits) {
        std::uint32_t d = 0;
        if (c >= '0' && c <= '9') {
          d = static_cast<std::uint32_t>(c - '0');
        } else if (hex && c >= 'a' && c <= 'f') {
          d = static_cast<std::uint32_t>(c - 'a' + 10);
        } else if (hex && c >= 'A' && c <= 'F') {
          d = static_cast<std::uint32_t>(c - 'A' + 10);
        } else {
          return std::nullopt;
        }
        cp = cp * (hex ? 16 : 10) + d;
        if (cp > 0x10FFFF) return std::nullopt;
      }
      if (cp == 0 || (cp >= 0xD800 && cp <= 0xDFFF)) return std::nullopt;
      append_utf8(out, cp);
    } else {
      return std::nullopt;
    }
  }
  return out;
}

class XmlParser {
 public:
  XmlParser(std::string_view doc, std::size_t max_depth) : doc_(doc), max_depth_(max_depth) {}

  std::optional<XmlElement> parse() {
    std::vector<XmlElement> open;  // the elements being read, innermost last
    std::optional<XmlElement> root;
    while (pos_ < doc_.size()) {
      if (doc_[pos_] != '<') {
        const auto lt = doc_.find('<', pos_);
        const std::string_view raw = doc_.substr(pos_, lt == std::string_view::npos ? std::string_view::npos : lt - pos_);
        pos_ = lt == std::string_view::npos ? doc_.size() : lt;
        if (open.empty()) {
          for (const char c : raw) {
            if (!is_space(c)) return std::nullopt;  // text outside the root
          }
          continue;
        }
        auto text = decode_text(raw);
        if (!text) return std::nullopt;
        open.back().text += *text;
        continue;
      }
      const std::string_view rest = doc_.substr(pos_);
      if (rest.rfind("<?", 0) == 0) {
        if (!skip_past("?>")) return std::nullopt;
      } else if (rest.rfind("<!--", 0) == 0) {
        if (!skip_past("-->")) return std::nullopt;
      } else if (rest.rfind("<![CDATA[", 0) == 0) {
        const auto end = doc_.find("]]>", pos_ + 9);
        if (end == std::string_view::npos || open.empty()) return std::nullopt;
        open.back().text.append(doc_.substr(pos_ + 9, end - pos_ - 9));
        pos_ = end + 3;
      } else if (rest.rfind("<!DOCTYPE", 0) == 0) {
        const auto end = doc_.find('>', pos_);
        // An internal subset could declare entities: not read.
        if (end == std::string_view::npos || doc_.substr(pos_, end - pos_).find('[') != std::string_view::npos) {
          return std::nullopt;
        }
        pos_ = end + 1;
      } else if (rest.rfind("</", 0) == 0) {
        pos_ += 2;
        const std::string_view name = read_name();
        skip_space();
        if (name.empty() || !consume('>') || open.empty() || open.back().name != local_name(name) ||
            open_names_.back() != name) {
          return std::nullopt;
        }
        open_names_.pop_back();
        XmlElement done = std::move(open.back());
        open.pop_back();
        if (open.empty()) {
          if (root) return std::nullopt;
          root = std::move(done);
        } else {
          open.back().children.push_back(std::move(done));
        }
      } else {
        if (root || open.size() >= max_depth_) return std::nullopt;  // a second root, or too deep
        ++pos_;
        XmlElement e;
        const std::string_view name = read_name();
        if (name.empty()) return std::nullopt;
        e.name = local_name(name);
        bool empty_element = false;
        while (true) {
          const bool spaced = skip_space();
          if (consume('>')) break;
          if (consume('/')) {
            if (!consume('>')) return std::nullopt;
            empty_element = true;
            break;
          }
          const std::string_view key = read_name();
          if (key.empty() || !spaced) return std::nullopt;
          skip_space();
          if (!consume('=')) return std::nullopt;
          skip_space();
          if (pos_ >= doc_.size() || (doc_[pos_] != '"' && doc_[pos_] != '\'')) return std::nullopt;
          const char quote = doc_[pos_++];
          const auto end = doc_.find(quote, pos_);
          if (end == std::string_view::npos) return std::nullopt;
          const std::string_view raw = doc_.substr(pos_, end - pos_);
          if (raw.find('<') != std::string_view::npos) return std::nullopt;
          auto value = decode_text(raw);
          if (!value) return std::nullopt;
          pos_ = end + 1;
          e.attributes.emplace_back(local_name(key), std::move(*value));
        }
        if (empty_element) {
          if (open.empty()) {
            root = std::move(e);
          } else {
            open.back().children.push_back(std::move(e));
          }
        } else {
          open.push_back(std::move(e));
          open_names_.push_back(name);
        }
      }
    }
    if (!open.empty()) return std::nullopt;  // unclosed elements
    return root;
  }

 private:
  bool skip_past(std::string_view end) {
    const auto at = doc_.find(end, pos_);
    if (at == std::string_view::npos) return false;
    pos_ = at + end.size();
    return true;
  }

  bool skip_space() {
    const std::size_t start = pos_;
    while (pos_ < doc_.size() && is_space(doc_[pos_])) ++pos_;
    return pos_ > start;
  }

  bool consume(char c) {
    if (pos_ < doc_.size() && doc_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }

  std::string_view read_name() {
    const std::size_t start = pos_;
    while (pos_ < doc_.size() && is_name_char(doc_[pos_])) ++pos_;
    return doc_.substr(start, pos_ - start);
  }

  std::string_view doc_;
  std::size_t max_depth_;
  std::size_t pos_ = 0;
  std::vector<std::string_view> open_names_;  // qualified names of the open elements, for their end tags
};

}  // namespace

const std::string* XmlElement::attribute(std::string_view local) const noexcept {
  for (const auto& [key, value] : attributes) {
    if (key == local) return &value;
  }
  return nullptr;
}

std::optional<XmlElement> parse_xml(std::string_view document, std::size_t max_depth) {
  return XmlParser(document, max_depth).parse();
}

}  // namespace imio::tiff
