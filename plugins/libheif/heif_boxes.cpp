// ISOBMFF boxes of a HEIF file (ISO/IEC 14496-12 §4.2, ISO/IEC 23008-12
// §9–10): ftyp, meta (hdlr, pitm, iinf/infe, iref, iprp/ipco/ipma), read
// with every size checked. See heif_boxes.hpp.
#include "heif_boxes.hpp"
#include "hevc_sps.hpp"

#include <imio/error.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <set>

namespace imio::heif {
namespace {

// A bounded reader over one box body.
class Cursor {
 public:
  Cursor(std::span<const std::byte> data, std::string_view what) : data_(data), what_(what) {}

  std::size_t left() const { return data_.size() - pos_; }
  std::size_t pos() const { return pos_; }
  bool done() const { return pos_ >= data_.size(); }

  std::uint64_t uint(std::size_t bytes) {
    need(bytes);
    std::uint64_t v = 0;
    for (std::size_t i = 0; i < bytes; ++i) v = (v << 8) | std::to_integer<std::uint8_t>(data_[pos_ + i]);
    pos_ += bytes;
    return v;
  }
  std::uint8_t u8() { return static_cast<std::uint8_t>(uint(1)); }
  std::uint16_t u16() { return static_cast<std::uint16_t>(uint(2)); }
  std::uint32_t u32() { return static_cast<std::uint32_t>(uint(4)); }
  std::string fourcc() {
    need(4);
    std::string s(reinterpret_cast<const char*>(data_.data() + pos_), 4);
    pos_ += 4;
    return s;
  }
  std::span<const std::byte> take(std::size_t n) {
    need(n);
    auto s = data_.subspan(pos_, n);
    pos_ += n;
    return s;
  }
  void skip(std::size_t n) { take(n); }
  // A NUL-terminated string (bounded by the box).
  void skip_cstring() {
    while (!done() && u8() != 0) {
    }
  }

 private:
  void need(std::size_t n) const {
    if (n > left()) {
      throw DecodeError(fmt::format("the file is truncated: the {} box needs {} more byte(s) than it holds", what_, n - left()));
    }
  }
  std::span<const std::byte> data_;
  std::size_t pos_ = 0;
  std::string_view what_;
};

struct Box {
  std::string type;
  std::span<const std::byte> body;
  std::size_t offset = 0;  // of the header, within the parent's body
};

// The child boxes of `body`; a child running past the parent is the
// truncation libheif would report less precisely.
std::vector<Box> children(std::span<const std::byte> body, std::string_view parent, std::size_t base_offset) {
  std::vector<Box> out;
  std::size_t pos = 0;
  while (pos < body.size()) {
    if (body.size() - pos < 8) {
      throw DecodeError(fmt::format("the file is truncated: {} byte(s) at offset {} in the {} cannot hold a box header",
                                    body.size() - pos, base_offset + pos, parent));
    }
    Cursor c(body.subspan(pos), parent);
    std::uint64_t size = c.u32();
    const std::string type = c.fourcc();
    std::size_t header = 8;
    if (size == 1) {
      if (c.left() < 8) throw DecodeError(fmt::format("the file is truncated: the '{}' box's 64-bit size is cut off", type));
      size = c.uint(8);
      header = 16;
    } else if (size == 0) {
      size = body.size() - pos;  // to the end of the parent
    }
    if (size < header) {
      throw DecodeError(fmt::format("the '{}' box at offset {} in the {} declares a size of {} bytes, less than its header",
                                    type, base_offset + pos, parent, size));
    }
    if (size > body.size() - pos) {
      throw DecodeError(fmt::format("the file is truncated: the '{}' box at offset {} in the {} announces {} bytes, {} remain",
                                    type, base_offset + pos, parent, size, body.size() - pos));
    }
    out.push_back(Box{type, body.subspan(pos + header, static_cast<std::size_t>(size) - header), base_offset + pos});
    pos += static_cast<std::size_t>(size);
  }
  return out;
}

bool is_heif_brand(std::string_view b) {
  static constexpr std::string_view kBrands[] = {"heic", "heix", "heim", "heis", "hevc", "hevx", "mif1",
                                                 "msf1", "avif", "avis", "mif2", "miaf"};
  return std::find(std::begin(kBrands), std::end(kBrands), b) != std::end(kBrands);
}

// infe versions 2 and 3 name the item type; 0 and 1 (no type) are
// skipped, as libheif skips them.
void parse_iinf(std::span<const std::byte> body, Container& c) {
  Cursor cur(body, "'iinf'");
  const std::uint8_t version = cur.u8();
  cur.skip(3);
  const std::uint32_t count = version == 0 ? cur.u16() : cur.u32();
  const auto boxes = children(body.subspan(cur.pos()), "'iinf' box", 0);
  if (boxes.size() < count) {
    throw DecodeError(fmt::format("the file is truncated: the 'iinf' box lists {} item(s) but holds {}", count, boxes.size()));
  }
  for (const Box& b : boxes) {
    if (b.type != "infe") continue;
    Cursor e(b.body, "'infe'");
    const std::uint8_t v = e.u8();
    e.skip(3);
    if (v < 2) continue;
    const std::uint32_t id = v == 2 ? e.u16() : e.u32();
    e.u16();  // protection index
    Item& item = c.items[id];
    item.id = id;
    item.type = e.fourcc();
  }
}

void parse_iref(std::span<const std::byte> body, Container& c) {
  Cursor cur(body, "'iref'");
  const std::uint8_t version = cur.u8();
  cur.skip(3);
  const std::size_t id_bytes = version == 0 ? 2 : 4;
  for (const Box& b : children(body.subspan(cur.pos()), "'iref' box", 0)) {
    Cursor r(b.body, "'iref' reference");
    const auto from = static_cast<std::uint32_t>(r.uint(id_bytes));
    const std::uint16_t n = r.u16();
    auto& to = c.items[from].refs[b.type];
    c.items[from].id = from;
    for (std::uint16_t i = 0; i < n; ++i) to.push_back(static_cast<std::uint32_t>(r.uint(id_bytes)));
  }
}

void parse_iloc(std::span<const std::byte> body, Container& c) {
  Cursor cur(body, "'iloc'");
  const std::uint8_t version = cur.u8();
  cur.skip(3);
  const std::uint8_t sizes = cur.u8();
  const std::uint8_t sizes2 = cur.u8();
  const std::size_t offset_size = sizes >> 4, length_size = sizes & 15, base_size = sizes2 >> 4;
  const std::size_t index_size = version == 1 || version == 2 ? (sizes2 & 15) : 0;
  for (std::size_t n : {offset_size, length_size, base_size, index_size}) {
    if (n != 0 && n != 4 && n != 8) throw DecodeError(fmt::format("the 'iloc' box declares a field size of {} bytes (0, 4 or 8 are valid)", n));
  }
  const std::uint32_t count = version < 2 ? cur.u16() : cur.u32();
  for (std::uint32_t k = 0; k < count; ++k) {
    const std::uint32_t id = version < 2 ? cur.u16() : cur.u32();
    int method = 0;
    if (version == 1 || version == 2) method = cur.u16() & 15;
    cur.u16();  // data reference index
    const std::uint64_t base = cur.uint(base_size);
    const std::uint16_t extents = cur.u16();
    Item& item = c.items[id];
    item.id = id;
    item.construction_method = method;
    item.extents.clear();
    for (std::uint16_t e = 0; e < extents; ++e) {
      cur.uint(index_size);
      const std::uint64_t offset = cur.uint(offset_size);
      const std::uint64_t length = cur.uint(length_size);
      item.extents.emplace_back(base + offset, length);  // a sum past 2^64 only points nowhere
    }
  }
}

void parse_iprp(std::span<const std::byte> body, Container& c) {
  std::vector<Property> ipco;
  std::vector<Box> ipma;
  for (const Box& b : children(body, "'iprp' box", 0)) {
    if (b.type == "ipco") {
      for (const Box& p : children(b.body, "'ipco' box", 0)) ipco.push_back(Property{p.type, p.body});
    } else if (b.type == "ipma") {
      ipma.push_back(b);
    }
  }
  for (const Box& b : ipma) {
    Cursor m(b.body, "'ipma'");
    const std::uint8_t version = m.u8();
    m.skip(2);
    const std::uint8_t flags = m.u8();
    const std::uint32_t entries = m.u32();
    for (std::uint32_t k = 0; k < entries; ++k) {
      const std::uint32_t id = version < 1 ? m.u16() : m.u32();
      const std::uint8_t n = m.u8();
      Item& item = c.items[id];
      item.id = id;
      for (std::uint8_t a = 0; a < n; ++a) {
        const std::uint32_t index = (flags & 1) != 0 ? (m.u16() & 0x7fffu) : (m.u8() & 0x7fu);
        if (index == 0) continue;  // "no property"
        if (index > ipco.size()) {
          throw DecodeError(fmt::format("item {} is associated with property {}, but the 'ipco' box holds {}", id, index,
                                        ipco.size()));
        }
        item.properties.push_back(ipco[index - 1]);
      }
    }
  }
}

// An image that needs itself to be decoded: a derived image (grid,
// overlay, identity) among its own `dimg` inputs, or an image whose alpha
// or depth image (`auxl`, from the auxiliary to its master) needs the
// master. libheif would recurse until the stack runs out.
void check_reference_loops(const Container& c) {
  std::map<std::uint32_t, std::vector<std::uint32_t>> needs;  // item → items decoded with it
  for (const auto& [id, item] : c.items) {
    if (auto it = item.refs.find("dimg"); it != item.refs.end()) {
      for (std::uint32_t to : it->second) needs[id].push_back(to);
    }
    if (auto it = item.refs.find("auxl"); it != item.refs.end()) {
      for (std::uint32_t master : it->second) needs[master].push_back(id);
    }
  }
  // Depth-first search with an explicit stack (a hostile file can chain
  // thousands of references).
  std::map<std::uint32_t, int> state;  // 1 on the path, 2 done
  struct Frame {
    std::uint32_t id;
    std::size_t next = 0;
  };
  for (const auto& entry : needs) {
    if (state[entry.first] == 2) continue;
    std::vector<Frame> path{Frame{entry.first}};
    state[entry.first] = 1;
    while (!path.empty()) {
      Frame& f = path.back();
      auto it = needs.find(f.id);
      if (it == needs.end() || f.next == it->second.size()) {
        state[f.id] = 2;
        path.pop_back();
        continue;
      }
      const std::uint32_t to = it->second[f.next++];
      int& s = state[to];
      if (s == 2) continue;
      if (s == 1) {
        std::string chain;
        std::size_t k = 0;
        while (path[k].id != to) ++k;
        for (; k < path.size(); ++k) chain += fmt::format("{} → ", path[k].id);
        throw DecodeError(fmt::format("item references form a loop ({}{}): an image would need itself to be decoded", chain, to));
      }
      s = 1;
      path.push_back(Frame{to});
    }
  }
}

const Property* find_property(const Item& item, std::string_view type) {
  for (const Property& p : item.properties) {
    if (p.type == type) return &p;
  }
  return nullptr;
}

}  // namespace

bool has_signature(std::span<const std::byte> first) {
  if (first.size() < 12) return false;
  Cursor c(first, "'ftyp'");
  const std::uint32_t size = c.u32();
  if (c.fourcc() != "ftyp" || size < 16) return false;
  if (is_heif_brand(c.fourcc())) return true;
  c.skip(4);  // minor version
  const std::size_t end = std::min<std::size_t>(size, first.size());
  while (c.pos() + 4 <= end) {
    if (is_heif_brand(c.fourcc())) return true;
  }
  return false;
}

Container parse(std::span<const std::byte> file) {
  Container c;
  bool have_meta = false;
  // Top-level boxes: stop at the first one that does not fit (the media
  // data of a file cut short are libheif's to report when it reads them),
  // but ftyp and meta must be whole.
  std::size_t pos = 0;
  while (pos + 8 <= file.size()) {
    Cursor h(file.subspan(pos), "top-level");
    std::uint64_t size = h.u32();
    const std::string type = h.fourcc();
    std::size_t header = 8;
    if (size == 1) {
      if (h.left() < 8) break;
      size = h.uint(8);
      header = 16;
    } else if (size == 0) {
      size = file.size() - pos;
    }
    if (size < header) throw DecodeError(fmt::format("the '{}' box at offset {} declares a size of {} bytes, less than its header", type, pos, size));
    if (size > file.size() - pos) {
      if (type == "ftyp" || type == "meta") {
        throw DecodeError(fmt::format("the file is truncated: the '{}' box at offset {} announces {} bytes, {} remain", type, pos, size,
                                      file.size() - pos));
      }
      break;
    }
    const auto body = file.subspan(pos + header, static_cast<std::size_t>(size) - header);
    if (type == "ftyp") {
      Cursor f(body, "'ftyp'");
      c.major_brand = f.fourcc();
      f.u32();
      while (f.left() >= 4) c.compatible_brands.push_back(f.fourcc());
    } else if (type == "moov") {
      c.has_moov = true;
    } else if (type == "meta" && !have_meta) {
      have_meta = true;
      Cursor m(body, "'meta'");
      m.skip(4);  // version, flags
      for (const Box& b : children(body.subspan(4), "'meta' box", pos + header + 4)) {
        if (b.type == "pitm") {
          Cursor p(b.body, "'pitm'");
          const std::uint8_t v = p.u8();
          p.skip(3);
          c.primary = v == 0 ? p.u16() : p.u32();
        } else if (b.type == "iinf") {
          parse_iinf(b.body, c);
        } else if (b.type == "iref") {
          parse_iref(b.body, c);
        } else if (b.type == "iloc") {
          parse_iloc(b.body, c);
        } else if (b.type == "idat") {
          c.idat = b.body;
        } else if (b.type == "iprp") {
          parse_iprp(b.body, c);
        }
      }
    }
    pos += static_cast<std::size_t>(size);
  }
  if (c.major_brand.empty()) throw DecodeError("the file has no 'ftyp' box");
  c.has_meta = have_meta;
  check_reference_loops(c);
  // every item's HEVC configuration, before libde265 sees (and prints on) it
  for (const auto& [id, item] : c.items) {
    if (const Property* p = find_property(item, "hvcC")) check_hevc_config(p->payload);
  }
  return c;
}

std::optional<Grid> grid_of(const Container& c, std::span<const std::byte> file, std::uint32_t id) {
  auto it = c.items.find(id);
  if (it == c.items.end() || it->second.extents.empty()) return std::nullopt;
  const Item& item = it->second;
  const std::span<const std::byte> space = item.construction_method == 1 ? c.idat : item.construction_method == 0 ? file : std::span<const std::byte>{};
  const auto [offset, length] = item.extents.front();
  if (offset > space.size() || length < 8 || length > space.size() - offset) return std::nullopt;
  Cursor g(space.subspan(static_cast<std::size_t>(offset), static_cast<std::size_t>(length)), "'grid' item's");
  g.u8();  // version
  const bool wide = (g.u8() & 1) != 0;
  Grid grid;
  grid.rows = g.u8() + 1u;
  grid.columns = g.u8() + 1u;
  if (wide && g.left() < 8) return std::nullopt;
  grid.width = static_cast<std::uint32_t>(g.uint(wide ? 4 : 2));
  grid.height = static_cast<std::uint32_t>(g.uint(wide ? 4 : 2));
  return grid;
}

std::optional<std::pair<std::uint32_t, std::uint32_t>> ispe_of(const Container& c, std::uint32_t id) {
  auto it = c.items.find(id);
  if (it == c.items.end()) return std::nullopt;
  const Property* p = find_property(it->second, "ispe");
  if (p == nullptr || p->payload.size() < 12) return std::nullopt;
  Cursor k(p->payload, "'ispe'");
  k.u32();  // version, flags
  const std::uint32_t w = k.u32();
  return std::pair{w, k.u32()};
}

std::optional<std::pair<std::uint32_t, std::uint32_t>> displayed_size(const Container& c, std::uint32_t id) {
  auto size = ispe_of(c, id);
  if (!size) return std::nullopt;
  for (const std::string& t : transformations_of(c, id)) {
    if (t == "irot 90" || t == "irot 270") {
      std::swap(size->first, size->second);
    } else if (t.starts_with("clap ")) {
      const auto x = t.find('x');
      size->first = static_cast<std::uint32_t>(std::stoul(t.substr(5, x - 5)));
      size->second = static_cast<std::uint32_t>(std::stoul(t.substr(x + 1)));
    }
  }
  return size;
}

bool is_av1(const Container& c, std::uint32_t id) {
  std::set<std::uint32_t> seen;
  while (seen.insert(id).second) {
    auto it = c.items.find(id);
    if (it == c.items.end()) return false;
    if (it->second.type == "av01") return true;
    auto dimg = it->second.refs.find("dimg");
    if (dimg == it->second.refs.end() || dimg->second.empty()) return false;
    id = dimg->second.front();
  }
  return false;
}

std::string chroma_of(const Container& c, std::uint32_t id) {
  // A derived image has the chroma of its first input (a grid's tiles).
  std::set<std::uint32_t> seen;
  while (seen.insert(id).second) {
    auto it = c.items.find(id);
    if (it == c.items.end()) return {};
    const Item& item = it->second;
    if (const Property* p = find_property(item, "hvcC"); p != nullptr && p->payload.size() >= 17) {
      switch (std::to_integer<int>(p->payload[16]) & 3) {
        case 0: return "monochrome";
        case 1: return "420";
        case 2: return "422";
        default: return "444";
      }
    }
    if (const Property* p = find_property(item, "av1C"); p != nullptr && p->payload.size() >= 3) {
      const int b = std::to_integer<int>(p->payload[2]);
      if ((b & 0x10) != 0) return "monochrome";
      const bool sx = (b & 0x08) != 0, sy = (b & 0x04) != 0;
      return sx && sy ? "420" : sx ? "422" : "444";
    }
    auto dimg = item.refs.find("dimg");
    if (dimg == item.refs.end() || dimg->second.empty()) return {};
    id = dimg->second.front();
  }
  return {};
}

std::vector<std::string> transformations_of(const Container& c, std::uint32_t id) {
  std::vector<std::string> out;
  auto it = c.items.find(id);
  if (it == c.items.end()) return out;
  for (const Property& p : it->second.properties) {
    if (p.type == "irot" && !p.payload.empty()) {
      out.push_back(fmt::format("irot {}", (std::to_integer<int>(p.payload[0]) & 3) * 90));
    } else if (p.type == "imir" && !p.payload.empty()) {
      out.push_back(fmt::format("imir {}", std::to_integer<int>(p.payload[0]) & 1));
    } else if (p.type == "clap" && p.payload.size() >= 16) {
      Cursor k(p.payload, "'clap'");
      const std::uint64_t wn = k.u32(), wd = k.u32(), hn = k.u32(), hd = k.u32();
      if (wd != 0 && hd != 0) out.push_back(fmt::format("clap {}x{}", (wn + wd / 2) / wd, (hn + hd / 2) / hd));
    }
  }
  return out;
}

}  // namespace imio::heif
