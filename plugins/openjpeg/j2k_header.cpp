// The JP2 boxes and the codestream's main header, read before OpenJPEG
// reads them: see j2k_header.hpp. ISO/IEC 15444-1 (JPEG 2000 Part 1):
// Annex A (codestream syntax) and Annex I (the JP2 file format).
#include "j2k_header.hpp"

#include <imio/error.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>

namespace imio::openjpeg {
namespace {

constexpr std::array<std::uint8_t, 12> kJp2Signature = {0x00, 0x00, 0x00, 0x0c, 0x6a, 0x50, 0x20, 0x20, 0x0d, 0x0a, 0x87, 0x0a};
// The uuid of an XMP packet in a JP2 file (the XMP specification, part 3).
constexpr std::array<std::uint8_t, 16> kXmpUuid = {0xbe, 0x7a, 0xcf, 0xcb, 0x97, 0xa9, 0x42, 0xe8,
                                                   0x9c, 0x71, 0x99, 0x94, 0x91, 0xe3, 0xaf, 0xac};
// The uuids of EXIF ("JpgTiffExif->JP2") and IPTC IIM blocks, as exiftool
// and Adobe write them.
constexpr std::array<std::uint8_t, 16> kExifUuid = {'J', 'p', 'g', 'T', 'i', 'f', 'f', 'E',
                                                    'x', 'i', 'f', '-', '>', 'J', 'P', '2'};
constexpr std::array<std::uint8_t, 16> kIptcUuid = {0x33, 0xc7, 0xa4, 0xd2, 0xb8, 0x1d, 0x47, 0x23,
                                                    0xa0, 0xba, 0xf1, 0xa3, 0xe0, 0x97, 0xad, 0x38};

// Codestream markers (Table A.2).
constexpr std::uint16_t SOC = 0xff4f, SIZ = 0xff51, COD = 0xff52, COC = 0xff53, COM = 0xff64, SOT = 0xff90,
                        SOD = 0xff93, EOC = 0xffd9;

using Bytes = std::span<const std::byte>;

std::uint8_t u8(Bytes b, std::size_t at) { return static_cast<std::uint8_t>(b[at]); }
std::uint16_t be16(Bytes b, std::size_t at) { return static_cast<std::uint16_t>(u8(b, at) << 8 | u8(b, at + 1)); }

// A uuid box holding XMP, EXIF or IPTC: its data into `boxes` (the last one wins).
void uuid_box(Bytes body, Jp2Boxes& boxes) {
  if (body.size() < 16) return;
  const auto is = [&](const std::array<std::uint8_t, 16>& id) { return std::memcmp(body.data(), id.data(), 16) == 0; };
  std::vector<std::byte>* into = is(kXmpUuid) ? &boxes.xmp : is(kExifUuid) ? &boxes.exif : is(kIptcUuid) ? &boxes.iptc : nullptr;
  if (into != nullptr) into->assign(body.begin() + 16, body.end());
}
std::uint32_t be32(Bytes b, std::size_t at) { return std::uint32_t{be16(b, at)} << 16 | be16(b, at + 2); }
std::uint64_t be64(Bytes b, std::size_t at) { return std::uint64_t{be32(b, at)} << 32 | be32(b, at + 4); }

std::string type_text(std::uint32_t type) {
  std::string s;
  for (int shift = 24; shift >= 0; shift -= 8) {
    const char c = static_cast<char>((type >> shift) & 0xff);
    s += (c >= 0x20 && c < 0x7f) ? c : '?';
  }
  return s;
}

constexpr std::uint32_t box_type(const char (&t)[5]) {
  return std::uint32_t(std::uint8_t(t[0])) << 24 | std::uint32_t(std::uint8_t(t[1])) << 16 | std::uint32_t(std::uint8_t(t[2])) << 8 |
         std::uint8_t(t[3]);
}

[[noreturn]] void truncated(const std::string& what) { throw DecodeError("the file is truncated: " + what); }

struct Box {
  std::uint32_t type = 0;
  std::size_t offset = 0;  ///< of the box header
  Bytes body;
};

// The box at `pos` of `data` (a file or a superbox's body); pos moves past it.
Box next_box(Bytes data, std::size_t& pos, std::string_view parent) {
  const std::size_t left = data.size() - pos;
  if (left < 8) truncated(fmt::format("{} bytes at offset {} of {} are too few for a box header", left, pos, parent));
  Box box;
  box.offset = pos;
  std::uint64_t length = be32(data, pos);
  box.type = be32(data, pos + 4);
  std::size_t header = 8;
  if (length == 1) {
    if (left < 16) truncated(fmt::format("the '{}' box at offset {} of {} ends inside its header", type_text(box.type), pos, parent));
    length = be64(data, pos + 8);
    header = 16;
  } else if (length == 0) {
    length = left;  // to the end of the data
  }
  if (length < header) {
    throw DecodeError(fmt::format("the '{}' box at offset {} of {} declares a length of {} bytes, less than its header", type_text(box.type),
                                  pos, parent, length));
  }
  if (length > left) {
    truncated(fmt::format("the '{}' box at offset {} of {} announces {} bytes, {} remain", type_text(box.type), pos, parent, length, left));
  }
  box.body = data.subspan(pos + header, static_cast<std::size_t>(length) - header);
  pos += static_cast<std::size_t>(length);
  return box;
}

void need(Bytes body, std::size_t n, std::string_view what) {
  if (body.size() < n) throw DecodeError(fmt::format("the '{}' box holds {} bytes, fewer than the {} it needs", what, body.size(), n));
}

double resolution_dpi(Bytes b, std::size_t at_n, std::size_t at_d, std::size_t at_e) {
  const double n = be16(b, at_n), d = be16(b, at_d);
  const auto e = static_cast<std::int8_t>(u8(b, at_e));
  if (d == 0) return 0;
  return n / d * std::pow(10.0, e) * 0.0254;  // pixels per metre → per inch
}

void parse_res(Bytes body, Jp2Boxes& out) {
  std::size_t pos = 0;
  while (pos < body.size()) {
    const Box box = next_box(body, pos, "the 'res ' box");
    if (box.type != box_type("resc") && box.type != box_type("resd")) continue;
    need(box.body, 10, type_text(box.type));
    // VR_N, VR_D, HR_N, HR_D, VR_E, HR_E (Table I.7)
    const double y = resolution_dpi(box.body, 0, 2, 8), x = resolution_dpi(box.body, 4, 6, 9);
    if (x <= 0 || y <= 0) continue;
    (box.type == box_type("resc") ? out.capture_dpi : out.display_dpi) = std::pair{x, y};
  }
}

Palette parse_pclr(Bytes body) {
  need(body, 3, "pclr");
  Palette p;
  p.entries = be16(body, 0);
  const int columns = u8(body, 2);
  if (p.entries == 0 || p.entries > 1024 || columns == 0) {
    throw DecodeError(fmt::format("the palette (pclr) declares {} entries of {} columns (1…1024 entries, at least one column)", p.entries, columns));
  }
  need(body, 3 + std::size_t(columns), "pclr");
  std::size_t row = 0;
  for (int c = 0; c < columns; ++c) {
    const int b = u8(body, 3 + std::size_t(c));
    if ((b & 0x7f) + 1 > 38) throw DecodeError(fmt::format("palette column {} declares {} bits (at most 38)", c, (b & 0x7f) + 1));
    p.column_bits.push_back(b);
    row += std::size_t((b & 0x7f) + 8) / 8;
  }
  need(body, 3 + std::size_t(columns) + row * p.entries, "pclr");
  return p;
}

void parse_jp2h(Bytes body, Jp2Boxes& out) {
  std::size_t pos = 0;
  bool have_ihdr = false;
  std::optional<std::vector<Palette::Channel>> cmap;
  while (pos < body.size()) {
    const Box box = next_box(body, pos, "the JP2 header box (jp2h)");
    if (box.type == box_type("ihdr")) {
      need(box.body, 14, "ihdr");
      out.ihdr_height = be32(box.body, 0);
      out.ihdr_width = be32(box.body, 4);
      out.ihdr_components = be16(box.body, 8);
      out.ihdr_bpc = u8(box.body, 10);
      have_ihdr = true;
    } else if (box.type == box_type("colr") && out.colr_method == 0) {  // the first colr box applies (I.5.3.3)
      need(box.body, 3, "colr");
      out.colr_method = u8(box.body, 0);
      if (out.colr_method == 1) {
        need(box.body, 7, "colr");
        out.enumcs = be32(box.body, 3);
      } else if (out.colr_method == 2 || out.colr_method == 3) {
        out.icc.assign(box.body.begin() + 3, box.body.end());
      }
    } else if (box.type == box_type("pclr")) {
      out.palette = parse_pclr(box.body);
    } else if (box.type == box_type("cmap")) {
      std::vector<Palette::Channel> channels;
      for (std::size_t i = 0; i + 4 <= box.body.size(); i += 4) {
        channels.push_back({be16(box.body, i), u8(box.body, i + 2) == 1, u8(box.body, i + 3)});
      }
      cmap = std::move(channels);
    } else if (box.type == box_type("cdef")) {
      need(box.body, 2, "cdef");
      const std::size_t n = be16(box.body, 0);
      need(box.body, 2 + 6 * n, "cdef");
      for (std::size_t i = 0; i < n; ++i) out.cdef.push_back({be16(box.body, 2 + 6 * i), be16(box.body, 4 + 6 * i), be16(box.body, 6 + 6 * i)});
    } else if (box.type == box_type("res ")) {
      parse_res(box.body, out);
    }
  }
  if (!have_ihdr) throw DecodeError("the JP2 header box (jp2h) has no image header box (ihdr)");
  if (out.palette) {
    if (!cmap) throw DecodeError("the JP2 file has a palette (pclr) but no component mapping box (cmap)");
    out.palette->channels = std::move(*cmap);
  }
}

void parse_jp2(Bytes file, Header& h) {
  std::size_t pos = 12;  // after the signature box
  bool have_jp2h = false;
  bool fragmented = false;
  while (pos < file.size()) {
    const Box box = next_box(file, pos, "the file");
    if (box.type == box_type("ftyp")) {
      need(box.body, 8, "ftyp");
      h.boxes.brand = type_text(be32(box.body, 0));
    } else if (box.type == box_type("jp2h")) {
      if (!have_jp2h) parse_jp2h(box.body, h.boxes);
      have_jp2h = true;
    } else if (box.type == box_type("ftbl")) {
      fragmented = true;
    } else if (box.type == box_type("uuid")) {
      uuid_box(box.body, h.boxes);
    } else if (box.type == box_type("xml ")) {
      h.boxes.xml.emplace_back(reinterpret_cast<const char*>(box.body.data()), box.body.size());
    } else if (box.type == box_type("jp2c")) {
      if (!have_jp2h) throw DecodeError("the JP2 file has no header box (jp2h) before its codestream (jp2c)");
      h.cs.offset = static_cast<std::size_t>(box.body.data() - file.data());
      h.cs.length = box.body.size();
      // Metadata boxes may follow the codestream; OpenJPEG never reads
      // them, so a damaged one there is not an error.
      try {
        while (pos < file.size()) {
          const Box more = next_box(file, pos, "the file");
          if (more.type == box_type("uuid")) {
            uuid_box(more.body, h.boxes);
          } else if (more.type == box_type("xml ")) {
            h.boxes.xml.emplace_back(reinterpret_cast<const char*>(more.body.data()), more.body.size());
          }
        }
      } catch (const DecodeError&) {
      }
      return;
    }
  }
  if (fragmented) throw DecodeError("the codestream is stored in fragments (a JPX fragment table, ftbl), which OpenJPEG does not read");
  truncated(have_jp2h ? "it ends before the codestream box (jp2c)" : "it ends before the JP2 header box (jp2h)");
}

// A coding style's SPcod/SPcoc fields at `at` (Table A.15), `precincts`
// when the style flag says they are given.
CodingStyle parse_spcod(Bytes seg, std::size_t at, bool precincts, std::string_view marker) {
  if (seg.size() < at + 5) throw DecodeError(fmt::format("the {} marker segment is too short", marker));
  CodingStyle s;
  s.levels = u8(seg, at);
  const int xcb = u8(seg, at + 1), ycb = u8(seg, at + 2);
  s.codeblock_style = u8(seg, at + 3);
  s.reversible = u8(seg, at + 4) == 1;
  if (s.levels > 32) throw DecodeError(fmt::format("the {} marker declares {} decomposition levels (at most 32)", marker, s.levels));
  if (xcb > 8 || ycb > 8 || xcb + ycb > 8) {
    throw DecodeError(fmt::format("the {} marker declares {}x{} code-blocks (at most 1024 per side and 4096 samples)", marker, 1 << std::min(xcb + 2, 30),
                                  1 << std::min(ycb + 2, 30)));
  }
  s.codeblock_w = 1 << (xcb + 2);
  s.codeblock_h = 1 << (ycb + 2);
  if (precincts) {
    if (seg.size() < at + 5 + std::size_t(s.levels) + 1) throw DecodeError(fmt::format("the {} marker segment is too short for its precinct sizes", marker));
    for (int r = 0; r <= s.levels; ++r) {
      const int pp = u8(seg, at + 5 + std::size_t(r));
      s.precincts.emplace_back(pp & 0x0f, pp >> 4);
    }
  }
  return s;
}

void parse_siz(Bytes seg, Codestream& cs) {
  // seg: the SIZ segment after the marker (Lsiz first), Table A.9.
  if (seg.size() < 38) throw DecodeError("the SIZ marker segment is too short");
  cs.rsiz = be16(seg, 2);
  const std::uint32_t xsiz = be32(seg, 4), ysiz = be32(seg, 8), xo = be32(seg, 12), yo = be32(seg, 16);
  cs.tile_w = be32(seg, 20);
  cs.tile_h = be32(seg, 24);
  cs.tile_x0 = be32(seg, 28);
  cs.tile_y0 = be32(seg, 32);
  const std::uint16_t csiz = be16(seg, 36);
  if (xsiz <= xo || ysiz <= yo) throw DecodeError(fmt::format("the SIZ marker declares an empty image ({}..{} x {}..{})", xo, xsiz, yo, ysiz));
  // OpenJPEG keeps reference-grid coordinates in 32-bit signed integers.
  if (xsiz > 0x7fffffffu || ysiz > 0x7fffffffu) {
    throw DecodeError(fmt::format("the SIZ marker declares a reference grid of {} x {}, beyond OpenJPEG's 2^31 - 1", xsiz, ysiz));
  }
  if (cs.tile_w == 0 || cs.tile_h == 0 || cs.tile_x0 > xo || cs.tile_y0 > yo || std::uint64_t{cs.tile_x0} + cs.tile_w <= xo ||
      std::uint64_t{cs.tile_y0} + cs.tile_h <= yo) {
    throw DecodeError(fmt::format("the SIZ marker declares tiles of {} x {} at ({}, {}), which do not cover the image origin ({}, {})", cs.tile_w,
                                  cs.tile_h, cs.tile_x0, cs.tile_y0, xo, yo));
  }
  if (csiz == 0 || csiz > 16384) throw DecodeError(fmt::format("the SIZ marker declares {} components (1…16384)", csiz));
  if (seg.size() != 38 + 3 * std::size_t{csiz}) {
    throw DecodeError(fmt::format("the SIZ marker segment is {} bytes long, but {} components need {}", seg.size(), csiz, 38 + 3 * std::size_t{csiz}));
  }
  cs.x0 = xo;
  cs.y0 = yo;
  cs.x1 = xsiz;
  cs.y1 = ysiz;
  cs.tiles_x = static_cast<std::uint32_t>((std::uint64_t{xsiz} - cs.tile_x0 + cs.tile_w - 1) / cs.tile_w);
  cs.tiles_y = static_cast<std::uint32_t>((std::uint64_t{ysiz} - cs.tile_y0 + cs.tile_h - 1) / cs.tile_h);
  if (cs.tiles() > 65535) {
    throw DecodeError(fmt::format("the SIZ marker declares {} x {} tiles; a codestream has at most 65535 (Isot is 16 bits)", cs.tiles_x, cs.tiles_y));
  }
  for (std::size_t c = 0; c < csiz; ++c) {
    Component comp;
    const int ssiz = u8(seg, 38 + 3 * c);
    comp.precision = (ssiz & 0x7f) + 1;
    comp.is_signed = (ssiz & 0x80) != 0;
    comp.dx = u8(seg, 39 + 3 * c);
    comp.dy = u8(seg, 40 + 3 * c);
    if (comp.dx == 0 || comp.dy == 0) throw DecodeError(fmt::format("component {} declares a subsampling of {} x {}", c, comp.dx, comp.dy));
    if (comp.precision > 31) {
      throw DecodeError(fmt::format("component {} has {}-bit samples; the standard allows 38, OpenJPEG at most 31", c, comp.precision));
    }
    cs.components.push_back(comp);
  }
  cs.levels.assign(csiz, cs.style.levels);
}

// A COC segment (Table A.18): the component it names and its style.
void parse_coc(Bytes seg, Codestream& cs, std::vector<int>& levels) {
  const std::size_t ncomp = cs.components.size();
  const std::size_t idx_bytes = ncomp < 257 ? 1 : 2;
  if (seg.size() < 2 + idx_bytes + 1) throw DecodeError("the COC marker segment is too short");
  const std::size_t c = idx_bytes == 1 ? u8(seg, 2) : be16(seg, 2);
  if (c >= ncomp) throw DecodeError(fmt::format("a COC marker names component {} of {}", c, ncomp));
  const bool precincts = (u8(seg, 2 + idx_bytes) & 1) != 0;
  levels[c] = parse_spcod(seg, 3 + idx_bytes, precincts, "COC").levels;
}

// The marker segments from `pos` to the marker `stop` (SOT for the main
// header, SOD for a tile-part header) within `data`; `on_segment(marker,
// seg)` sees each (seg: from the length field on). Returns the position of `stop`.
template <class F>
std::size_t walk_segments(Bytes data, std::size_t pos, std::uint16_t stop, std::string_view where, F&& on_segment) {
  for (;;) {
    if (data.size() - pos < 2) truncated(fmt::format("the codestream ends inside the {} (at byte {})", where, pos));
    const std::uint16_t marker = be16(data, pos);
    if (marker == stop) return pos;
    if ((marker >> 8) != 0xff || marker < 0xff30) {
      throw DecodeError(fmt::format("the {} holds 0x{:04x} at codestream byte {} where a marker belongs", where, marker, pos));
    }
    if (marker == EOC) throw DecodeError(fmt::format("the codestream ends (EOC) inside the {}", where));
    if (marker <= 0xff3f) {  // markers without a segment (A.1.4)
      pos += 2;
      continue;
    }
    if (data.size() - pos < 4) truncated(fmt::format("the codestream ends inside the {} (at byte {})", where, pos));
    const std::size_t length = be16(data, pos + 2);
    if (length < 2) throw DecodeError(fmt::format("marker 0x{:04x} at codestream byte {} declares a length of {}", marker, pos, length));
    if (data.size() - pos - 2 < length) {
      truncated(fmt::format("marker segment 0x{:04x} at codestream byte {} announces {} bytes, {} remain", marker, pos, length, data.size() - pos - 2));
    }
    on_segment(marker, data.subspan(pos + 2, length));
    pos += 2 + length;
  }
}

void parse_codestream(Bytes cs_data, Codestream& cs) {
  if (cs_data.size() < 4) truncated("the codestream ends before its SIZ marker");
  if (be16(cs_data, 0) != SOC || be16(cs_data, 2) != SIZ) throw DecodeError("the codestream does not start with the SOC and SIZ markers");
  if (cs_data.size() < 6) truncated("the codestream ends inside its SIZ marker");
  const std::size_t lsiz = be16(cs_data, 4);
  if (cs_data.size() - 4 < lsiz) truncated(fmt::format("the SIZ marker segment announces {} bytes, {} remain", lsiz, cs_data.size() - 4));
  parse_siz(cs_data.subspan(4, lsiz), cs);

  bool have_cod = false;
  std::vector<int> coc_levels(cs.components.size(), -1);
  std::size_t pos = walk_segments(cs_data, 4 + lsiz, SOT, "main header", [&](std::uint16_t marker, Bytes seg) {
    if (marker == COD) {
      if (seg.size() < 7) throw DecodeError("the COD marker segment is too short");
      const int scod = u8(seg, 2);
      cs.progression = u8(seg, 3);
      cs.layers = be16(seg, 4);
      cs.mct = u8(seg, 6);
      if (cs.progression > 4) throw DecodeError(fmt::format("the COD marker declares progression order {} (0…4)", cs.progression));
      if (cs.layers == 0) throw DecodeError("the COD marker declares 0 quality layers");
      cs.style = parse_spcod(seg, 7, (scod & 1) != 0, "COD");
      have_cod = true;
    } else if (marker == COC) {
      parse_coc(seg, cs, coc_levels);
    } else if (marker == COM && seg.size() >= 4 && be16(seg, 2) == 1) {
      cs.comments.emplace_back(reinterpret_cast<const char*>(seg.data() + 4), seg.size() - 4);
    }
  });
  if (!have_cod) throw DecodeError("the codestream's main header has no COD marker");
  for (std::size_t c = 0; c < cs.components.size(); ++c) cs.levels[c] = coc_levels[c] >= 0 ? coc_levels[c] : cs.style.levels;

  // The tile-parts (A.4.2): each SOT's Psot leads to the next, the last
  // is followed by EOC; every tile has at least one. Tile-part headers
  // may change a tile's decomposition levels (COD/COC), which bounds `reduce`.
  std::vector<bool> seen(static_cast<std::size_t>(cs.tiles()), false);
  for (;;) {
    if (cs_data.size() - pos < 2) {
      truncated(fmt::format("the codestream ends after {} tile-part(s) without its end marker (EOC)", cs.tile_parts));
    }
    const std::uint16_t marker = be16(cs_data, pos);
    if (marker == EOC) break;
    if (marker != SOT) {
      throw DecodeError(fmt::format("codestream byte {} holds 0x{:04x} where a tile-part (SOT) or the end (EOC) belongs", pos, marker));
    }
    if (cs_data.size() - pos < 12) truncated(fmt::format("the codestream ends inside the SOT marker at byte {}", pos));
    const std::uint16_t isot = be16(cs_data, pos + 4);
    const std::uint32_t psot = be32(cs_data, pos + 6);
    if (be16(cs_data, pos + 2) != 10) throw DecodeError(fmt::format("the SOT marker at codestream byte {} has a length other than 10", pos));
    if (isot >= seen.size()) throw DecodeError(fmt::format("a tile-part names tile {} of {}", isot, seen.size()));
    const std::size_t end = psot == 0 ? cs_data.size() : pos + psot;
    if (psot != 0 && psot < 14) throw DecodeError(fmt::format("the tile-part of tile {} declares {} bytes (Psot), too few for its header", isot, psot));
    if (psot != 0 && cs_data.size() - pos < psot) {
      truncated(fmt::format("the tile-part of tile {} at codestream byte {} announces {} bytes, {} remain", isot, pos, psot, cs_data.size() - pos));
    }
    std::vector<int> tile_levels = cs.levels;
    walk_segments(cs_data.subspan(0, end), pos + 12, SOD, "tile-part header", [&](std::uint16_t m, Bytes seg) {
      if (m == COD) {
        if (seg.size() < 7) throw DecodeError("a tile-part's COD marker segment is too short");
        const int levels = parse_spcod(seg, 7, (u8(seg, 2) & 1) != 0, "COD").levels;
        for (int& l : tile_levels) l = std::min(l, levels);
      } else if (m == COC) {
        std::vector<int> coc(cs.components.size(), -1);
        parse_coc(seg, cs, coc);
        for (std::size_t c = 0; c < coc.size(); ++c) {
          if (coc[c] >= 0) tile_levels[c] = std::min(tile_levels[c], coc[c]);
        }
      }
    });
    for (std::size_t c = 0; c < cs.levels.size(); ++c) cs.levels[c] = std::min(cs.levels[c], tile_levels[c]);
    seen[isot] = true;
    ++cs.tile_parts;
    if (psot == 0) {  // the last tile-part runs to the EOC marker that ends the codestream
      if (cs_data.size() - pos < 14 || be16(cs_data, cs_data.size() - 2) != EOC) {
        truncated(fmt::format("the last tile-part (of tile {}) runs to the end of the data, which has no end marker (EOC)", isot));
      }
      break;
    }
    pos = end;
  }
  const auto missing = std::find(seen.begin(), seen.end(), false);
  if (missing != seen.end()) {
    throw DecodeError(fmt::format("tile {} of {} has no tile-part: the codestream ends (EOC) before all tiles", missing - seen.begin(), seen.size()));
  }
}

}  // namespace

int Codestream::min_resolutions() const {
  int n = 33;
  for (int l : levels) n = std::min(n, l + 1);
  return n;
}

bool has_signature(std::span<const std::byte> first) {
  if (first.size() >= 4 && be16(first, 0) == SOC && be16(first, 2) == SIZ) return true;
  return first.size() >= 12 && std::memcmp(first.data(), kJp2Signature.data(), 12) == 0;
}

Header parse(std::span<const std::byte> file) {
  Header h;
  if (file.size() >= 12 && std::memcmp(file.data(), kJp2Signature.data(), 12) == 0) {
    h.jp2 = true;
    parse_jp2(file, h);
  } else {
    h.cs.offset = 0;
    h.cs.length = file.size();
  }
  parse_codestream(file.subspan(h.cs.offset, h.cs.length), h.cs);
  return h;
}

std::vector<std::byte> resolution_box(double dpi_x, double dpi_y) {
  // N/D × 10^E pixels per metre with D = 127: dpi × 10000/254 = dpi × 5000/127,
  // so N = dpi × 5000 / 10^E; the smallest E that fits N in 16 bits keeps
  // the most digits (integral dpi up to 1310 are exact with E = 2).
  const auto encode = [](double dpi, std::uint16_t& n, std::int8_t& e) {
    for (int exp = -3; exp <= 20; ++exp) {
      const double v = std::round(dpi * 5000.0 / std::pow(10.0, exp));
      if (v <= 65535) {
        n = static_cast<std::uint16_t>(std::max(1.0, v));
        e = static_cast<std::int8_t>(exp);
        return;
      }
    }
    n = 65535;
    e = 20;
  };
  std::uint16_t nx = 0, ny = 0;
  std::int8_t ex = 0, ey = 0;
  encode(dpi_x, nx, ex);
  encode(dpi_y, ny, ey);
  std::vector<std::byte> box;
  const auto put16 = [&](std::uint32_t v) {
    box.push_back(std::byte(v >> 8));
    box.push_back(std::byte(v & 0xff));
  };
  const auto put32 = [&](std::uint32_t v) {
    put16(v >> 16);
    put16(v & 0xffff);
  };
  put32(8 + 18);
  put32(box_type("res "));
  put32(18);
  put32(box_type("resc"));
  put16(ny);
  put16(127);
  put16(nx);
  put16(127);
  box.push_back(std::byte(static_cast<std::uint8_t>(ey)));
  box.push_back(std::byte(static_cast<std::uint8_t>(ex)));
  return box;
}

std::vector<std::byte> edit_jp2h(std::span<const std::byte> jp2, std::span<const std::byte> icc, std::span<const std::byte> extra) {
  const auto put32 = [](std::vector<std::byte>& v, std::size_t at, std::uint64_t x) {
    for (int i = 0; i < 4; ++i) v[at + std::size_t(i)] = std::byte((x >> (24 - 8 * i)) & 0xff);
  };
  std::size_t pos = 12;
  while (pos < jp2.size()) {
    const Box box = next_box(jp2, pos, "the encoded file");
    if (box.type != box_type("jp2h")) continue;
    if (static_cast<std::size_t>(box.body.data() - jp2.data()) - box.offset != 8) break;
    std::vector<std::byte> out(jp2.begin(), box.body.begin());
    std::size_t inner = 0;
    while (inner < box.body.size()) {
      const std::size_t from = inner;
      const Box child = next_box(box.body, inner, "the encoded header box");
      if (child.type == box_type("colr") && !icc.empty()) {
        // Method 2 (restricted ICC), precedence 0, approximation 0.
        const std::size_t at = out.size();
        out.resize(at + 11);
        put32(out, at, 11 + icc.size());
        put32(out, at + 4, box_type("colr"));
        out[at + 8] = std::byte{2};
        out.insert(out.end(), icc.begin(), icc.end());
        continue;
      }
      out.insert(out.end(), box.body.begin() + static_cast<std::ptrdiff_t>(from), box.body.begin() + static_cast<std::ptrdiff_t>(inner));
    }
    out.insert(out.end(), extra.begin(), extra.end());
    const std::uint64_t length = out.size() - box.offset;
    if (length > 0xffffffffu) throw EncodeError("the JP2 header box would exceed 4 GB");
    put32(out, box.offset, length);
    out.insert(out.end(), jp2.begin() + static_cast<std::ptrdiff_t>(pos), jp2.end());
    return out;
  }
  throw EncodeError("OpenJPEG's JP2 file has no header box (jp2h) to add the colour and resolution boxes to");
}

}  // namespace imio::openjpeg
