// Page geometry and series grouping (spec §5.3.2), from the parsed IFDs.
#include "tiff_pages.hpp"

#include <imio/json.hpp>
#include <imio/checked_math.hpp>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "tiff_decode.hpp"
#include "tiff_ome.hpp"
#include "tiff_scn.hpp"

namespace imio::tiff {
namespace {

constexpr std::string_view kPlugin = "libtiff";

std::uint64_t div_up(std::uint64_t a, std::uint64_t b) { return b == 0 ? 0 : (a + b - 1) / b; }

std::vector<std::uint64_t> all_values(const Entry* e) {
  std::vector<std::uint64_t> v;
  if (e == nullptr) return v;
  v.reserve(e->size());
  for (std::size_t i = 0; i < e->size(); ++i) v.push_back(e->u(i));
  return v;
}

// The uniform value of a per-sample tag, or nullopt when the samples differ.
// Only the first `spp` values count: some writers (LSM, old scanners) list
// more (BitsPerSample 8,8,8,1 for 3 samples), and tifffile and libtiff read
// such pages as their SamplesPerPixel says.
std::optional<std::uint16_t> per_sample(const Ifd& ifd, std::uint16_t tag, std::uint16_t fallback, std::uint16_t spp) {
  const Entry* e = ifd.find(tag);
  if (e == nullptr || e->count == 0) return fallback;
  const std::uint64_t first = e->u(0);
  const std::size_t n = std::min<std::size_t>(e->size(), spp);
  for (std::size_t i = 1; i < n; ++i) {
    if (e->u(i) != first) return std::nullopt;
  }
  return static_cast<std::uint16_t>(first);
}

// tifffile's numpy dtype for the sample format and bit depth (bilevel → bool,
// other odd depths widen to the next integer size).
std::optional<DType> dtype_for(std::uint16_t format, std::uint16_t bps) {
  if (format == 1 || format == 4) {
    if (bps == 1) return DType::bool_;
    if (bps <= 8) return DType::uint8;
    if (bps <= 16) return DType::uint16;
    if (bps <= 32) return DType::uint32;
    if (bps <= 64) return DType::uint64;
  } else if (format == 2) {
    if (bps == 8) return DType::int8;
    if (bps == 16) return DType::int16;
    if (bps == 32) return DType::int32;
    if (bps == 64) return DType::int64;
  } else if (format == 3) {
    if (bps == 16) return DType::float16;
    if (bps == 32) return DType::float32;
    if (bps == 64) return DType::float64;
  }
  return std::nullopt;
}

Shape prepend(std::size_t n, const Shape& s) {
  Shape out{n};
  out.insert(out.end(), s.begin(), s.end());
  return out;
}

// Why the file cannot hold the page's strips or tiles, or "" when it does.
std::string missing_data(const Page& p, std::size_t index, std::uint64_t file_size) {
  for (std::size_t s = 0; s < p.offsets.size() && s < p.counts.size(); ++s) {
    const std::uint64_t at = p.offsets[s], n = p.counts[s];
    if (n == 0 || (at <= file_size && n <= file_size - at)) continue;
    return fmt::format("the file is truncated: {} {} of page {} ({} bytes at offset {}) ends past the end of the file "
                       "({} bytes)",
                       p.tiled ? "tile" : "strip", s, index, n, at, file_size);
  }
  return {};
}

// Why page `index`'s directory lost what the page needs to the end of the
// file, or "" when it did not.
std::string damaged_directory(const Ifd& ifd, std::size_t index) {
  static constexpr std::uint16_t structural[] = {
      kImageWidth, kImageLength, kBitsPerSample, kCompression, kPhotometric, kStripOffsets, kSamplesPerPixel,
      kRowsPerStrip, kStripByteCounts, kPlanarConfig, kPredictor, kColorMap, kTileWidth, kTileLength, kTileOffsets,
      kTileByteCounts, kExtraSamples, kSampleFormat, kYCbCrSubsampling, 347 /* JPEGTables */};
  for (const std::uint16_t tag : ifd.lost) {
    if (std::find(std::begin(structural), std::end(structural), tag) != std::end(structural)) {
      return fmt::format("the file is truncated: the values of tag {} of page {} lie past its end", tag, index);
    }
  }
  return {};
}

Series single(const Page& p, Series::Kind kind) {
  return Series{kind, p.shape, p.dtype, {p}, {}, {}};
}

// A series of `pages` with `shape`, or as many as the file holds when it
// was cut short (with a warning, as tifffile does).
Series shaped_series(Shape shape, std::vector<Page> pages, std::size_t wanted, Series::Kind kind) {
  const Page& first = pages.front();
  if (pages.size() < wanted) {
    warn(kPlugin, fmt::format("the series declares {} pages, the file holds {}", wanted, pages.size()));
    shape = pages.size() == 1 ? first.shape : prepend(pages.size(), first.shape);
  }
  DType dtype = first.dtype;
  return Series{kind, std::move(shape), dtype, std::move(pages), {}, {}};
}

std::optional<Shape> description_shape(const Ifd& ifd) {
  for (std::size_t n = 0; n < 2; ++n) {
    const Entry* d = ifd.find_nth(kImageDescription, n);
    if (d == nullptr) break;
    if (auto s = parse_shape_description(d->text())) return s;
  }
  return std::nullopt;
}

// The `name` a shaped JSON description gives its series (tifffile's
// metadata={'name': ...}), or "".
std::string description_name(const Ifd& ifd) {
  for (std::size_t n = 0; n < 2; ++n) {
    const Entry* d = ifd.find_nth(kImageDescription, n);
    if (d == nullptr) break;
    const auto json = try_from_json(d->text());
    if (!json || !json->is<Dict>() || !json->ref<Dict>().contains("shape")) continue;
    const Value* name = json->ref<Dict>().lookup("name");
    return name != nullptr && name->is<std::string>() ? name->ref<std::string>() : std::string();
  }
  return {};
}

std::vector<Series> shaped(const Structure& st, const std::vector<Page>& pages) {
  std::vector<Series> out;
  std::size_t i = 0;
  while (i < pages.size()) {
    const Page& page = pages[i];
    const auto shape = description_shape(st.ifds[page.ifd]);
    const std::uint64_t per_page = page.shape.empty() ? 0 : product(page.shape);
    if (!shape || per_page == 0 || product(*shape) % per_page != 0) {
      // A page outside any shaped series stands alone.
      out.push_back(single(page, Series::Kind::generic));
      ++i;
      continue;
    }
    const std::size_t wanted = static_cast<std::size_t>(std::max<std::uint64_t>(1, product(*shape) / per_page));
    const std::size_t n = std::min(wanted, pages.size() - i);
    std::vector<Page> group(pages.begin() + static_cast<std::ptrdiff_t>(i),
                            pages.begin() + static_cast<std::ptrdiff_t>(i + n));
    out.push_back(shaped_series(*shape, std::move(group), wanted, Series::Kind::shaped));
    out.back().name = description_name(st.ifds[page.ifd]);
    i += n;
  }
  return out;
}

std::int64_t ij_int(const Dict& ij, std::string_view key) {
  const Value* v = ij.lookup(key);
  return v != nullptr && v->is<std::int64_t>() ? v->get<std::int64_t>() : 1;
}

Series imagej(const Structure& st, const std::vector<Page>& pages) {
  const Page& first = pages.front();
  const Dict ij = parse_imagej(st.ifds[first.ifd].find(kImageDescription)->text());
  const std::int64_t images = std::max<std::int64_t>(1, ij.lookup("images") ? ij_int(ij, "images") : 1);
  Shape shape;
  for (const char* axis : {"frames", "slices", "channels"}) {
    const std::int64_t n = ij_int(ij, axis);
    if (n > 1) shape.push_back(static_cast<std::size_t>(n));
  }
  std::uint64_t declared = product(shape);
  const bool rgb = first.spp > 1 && !first.shape.empty() && first.shape.back() == first.spp;
  // An RGB hyperstack counts its channels in the samples.
  if (rgb && !shape.empty() && shape.back() == first.spp && declared != static_cast<std::uint64_t>(images)) {
    shape.pop_back();
    declared = product(shape);
  }
  if (shape.empty() || declared != static_cast<std::uint64_t>(images)) {
    shape = images > 1 ? Shape{static_cast<std::size_t>(images)} : Shape{};
  }
  const std::size_t wanted = static_cast<std::size_t>(images);
  Shape full = shape;
  full.insert(full.end(), first.shape.begin(), first.shape.end());
  std::vector<Page> group;
  if (pages.size() >= wanted) {
    group.assign(pages.begin(), pages.begin() + static_cast<std::ptrdiff_t>(wanted));
  } else if (first.compression == 1 && !first.tiled && first.offsets.size() == 1 && first.problem.empty()) {
    // ImageJ stores stacks over 4 GiB with one IFD: the other images follow
    // the first one's data contiguously.
    for (std::size_t k = 0; k < wanted; ++k) {
      Page p = first;
      p.offsets[0] += static_cast<std::uint64_t>(k) * first.nbytes();
      if (p.truncated.empty()) p.truncated = missing_data(p, k, st.file_size);
      group.push_back(std::move(p));
    }
  } else {
    group.assign(pages.begin(), pages.end());
  }
  return shaped_series(std::move(full), std::move(group), wanted, Series::Kind::imagej);
}

std::vector<Series> generic(const std::vector<Page>& pages) {
  std::vector<Series> out;
  for (const Page& p : pages) {
    if (p.shape.empty() || product(p.shape) == 0) continue;
    auto it = std::find_if(out.begin(), out.end(), [&](const Series& s) { return s.pages.front().same_kind(p); });
    if (it == out.end()) {
      out.push_back(single(p, Series::Kind::generic));
    } else {
      it->pages.push_back(p);
    }
  }
  for (Series& s : out) {
    if (s.pages.size() > 1) s.shape = prepend(s.pages.size(), s.pages.front().shape);
  }
  return out;
}

// The positions of the height and width axes in a series' shape: its pages
// are (H,W), (H,W,S) or (S,H,W), after any axes of the series.
std::pair<std::size_t, std::size_t> spatial_axes(const Series& s) {
  const Page& p = s.pages.front();
  const std::size_t tail = (p.spp > 1 && p.planar == 1) ? 1 : 0;
  const std::size_t rank = s.shape.size();
  return {rank - 2 - tail, rank - 1 - tail};
}

// tifffile's subresolution(): how many times `b` is `a` reduced by `factor`
// (every spatial axis by the same power, within one pixel of rounding), with
// all other axes equal; nullopt when it is no reduction of `a`.
std::optional<unsigned> reduction_level(const Series& a, const Series& b, unsigned factor) {
  if (a.shape.size() != b.shape.size() || a.shape.size() < 2 || a.dtype != b.dtype) return std::nullopt;
  const Page& pa = a.pages.front();
  const Page& pb = b.pages.front();
  if (pa.shape.size() != pb.shape.size() || (pa.planar == 2) != (pb.planar == 2)) return std::nullopt;  // other axes
  const auto [ya, xa] = spatial_axes(a);
  std::optional<unsigned> level;
  for (std::size_t axis = 0; axis < a.shape.size(); ++axis) {
    const double i = static_cast<double>(a.shape[axis]);
    const double j = static_cast<double>(b.shape[axis]);
    if (axis != ya && axis != xa) {
      if (a.shape[axis] != b.shape[axis]) return std::nullopt;
      continue;
    }
    if (!level) {
      double d = 1;
      for (unsigned r = 0; r < 16 && d <= i; ++r, d *= factor) {
        if (std::abs(i / d - j) < 1.0) {
          level = r;
          break;
        }
      }
      if (!level) return std::nullopt;
    } else {
      const double d = std::pow(static_cast<double>(factor), *level);
      if (d > i || std::abs(i / d - j) >= 1.0) return std::nullopt;
    }
  }
  return level;
}

// tifffile's pyramidize_series(): a later series that is the last level of
// an earlier one reduced once more (by 2, 3 or 4, the first factor that fits
// fixing the rest) becomes that series' next level and leaves the list.
void pyramidize(std::vector<Series>& series) {
  for (std::size_t i = 0; i < series.size(); ++i) {
    Series& top = series[i];
    std::optional<unsigned> factor;
    for (std::size_t j = i + 1; j < series.size();) {
      const Series& last = top.levels.empty() ? top : top.levels.back();
      bool next_level = false;
      if (factor) {
        next_level = reduction_level(last, series[j], *factor) == 1u;
      } else {
        for (const unsigned f : {2u, 3u, 4u}) {
          if (reduction_level(last, series[j], f) == 1u) {
            factor = f;
            next_level = true;
            break;
          }
        }
      }
      if (!next_level) {
        ++j;
        continue;
      }
      top.levels.push_back(std::move(series[j]));
      series.erase(series.begin() + static_cast<std::ptrdiff_t>(j));
    }
  }
}

// Aperio SVS (tifffile's _series_svs): the tiled baseline page and, as its
// levels, the tiled pages after the thumbnail that are not marked reduced;
// the thumbnail (page 1) and then the label and macro pages as series of
// their own. Pages after those are not part of any series, as in tifffile.
std::vector<Series> svs(const Structure& st, const std::vector<Page>& pages) {
  std::vector<Series> out{single(pages.front(), Series::Kind::svs)};
  out.front().name = "Baseline";
  std::size_t next = 1;
  if (next < pages.size()) {
    out.push_back(single(pages[next++], Series::Kind::svs));
    out.back().name = "Thumbnail";
  }
  for (; next < pages.size(); ++next) {
    const Page& p = pages[next];
    if (!p.tiled || (st.ifds[p.ifd].get(kNewSubfileType, 0) & 1u) != 0) break;
    out.front().levels.push_back(single(p, Series::Kind::svs));
    out.front().levels.back().name = "Resolution";
  }
  for (std::size_t k = 0; k < 2 && next < pages.size(); ++k) {
    const Page& p = pages[next++];
    out.push_back(single(p, Series::Kind::svs));
    out.back().name = st.ifds[p.ifd].get(kNewSubfileType, 0) == 9 ? "Macro" : "Label";
  }
  return out;
}

// Hamamatsu NDPI (tifffile's _series_ndpi): the generic series, pyramids
// included, of kind ndpi; the pyramid named by its SlideLabel tag (65427)
// or `Baseline`, a single image named after its source lens magnification
// (65421): -1 the macro image, -2 the map. A tag of another type than
// tifffile expects names nothing (tifffile would name the series after
// whatever value it holds).
void name_ndpi(const Structure& st, std::vector<Series>& series) {
  for (Series& s : series) {
    s.kind = Series::Kind::ndpi;
    const Ifd& ifd = st.ifds[s.pages.front().ifd];
    if (!s.levels.empty()) {
      const Entry* label = ifd.find(kNdpiSlideLabel);
      s.name = label != nullptr && label->type == kAscii ? label->text() : "Baseline";
      continue;
    }
    const Entry* mag = ifd.find(kNdpiMagnification);
    if (mag == nullptr || mag->count != 1 || (mag->type != kFloat && mag->type != kDouble && !mag->is_integer())) {
      continue;
    }
    const double m = mag->is_integer() ? static_cast<double>(mag->s(0)) : mag->f(0);
    if (m == -1.0) s.name = "Macro";
    if (m == -2.0) s.name = "Map";
  }
}

// Why a page of an NDPI file cannot be read, or "" when it can. libtiff
// reads classic TIFF offsets, the low 32 bits of NDPI's 64-bit ones: right
// below 4 GiB only. NDPI stores its pyramid levels as one JPEG stream per
// page whatever its size, which JPEG's 16-bit dimensions cannot describe
// past 65535 pixels (tifffile decodes them through the McuStarts tag's
// restart intervals). CaptureMode 6 and above store 16-bit gray in JPEG
// pages that declare 8-bit RGB (tifffile reinterprets them).
std::string ndpi_problem(const Structure& st, const Page& p) {
  if (st.file_size != UINT64_MAX && st.file_size > 0xFFFFFFFFu) {
    return fmt::format("NDPI files over 4 GiB (their 64-bit offsets) are not supported; this one has {} bytes",
                       st.file_size);
  }
  if (p.compression == 7 && (p.width > 65535 || p.height > 65535)) {
    return fmt::format("NDPI JPEG pages over 65535 pixels on a side are not supported; this one is {}x{}", p.width,
                       p.height);
  }
  const Ifd& first = st.ifds.front();
  if (first.get(kNdpiCaptureMode, 0) >= 6) {
    const Entry* mag = st.ifds[p.ifd].find(kNdpiMagnification);
    if (mag == nullptr || mag->count == 0 || mag->f(0) > 0) {
      return fmt::format("NDPI CaptureMode {} (16-bit samples in its JPEG pages) is not supported",
                         first.get(kNdpiCaptureMode, 0));
    }
  }
  return {};
}

}  // namespace

std::uint64_t product(const Shape& s) {
  auto n = checked_product(std::span<const std::size_t>(s));
  return n ? *n : 0;
}

std::size_t Page::nbytes() const noexcept { return static_cast<std::size_t>(product(shape)) * itemsize(dtype); }

bool Page::same_kind(const Page& o) const noexcept {
  return shape == o.shape && dtype == o.dtype && compression == o.compression && photometric == o.photometric &&
         planar == o.planar && tiled == o.tiled && tile_width == o.tile_width && tile_height == o.tile_height &&
         bps == o.bps && sample_format == o.sample_format && predictor == o.predictor && fill_order == o.fill_order &&
         jpeg_rgb == o.jpeg_rgb && ojpeg_rgb == o.ojpeg_rgb;
}

Page make_page(const Structure& st, std::size_t index) {
  const Ifd& ifd = st.ifds[index];
  Page p;
  p.ifd = index;
  p.width = static_cast<std::uint32_t>(std::min<std::uint64_t>(ifd.get(kImageWidth, 0), 0xFFFFFFFFu));
  p.height = static_cast<std::uint32_t>(std::min<std::uint64_t>(ifd.get(kImageLength, 0), 0xFFFFFFFFu));
  p.spp = static_cast<std::uint16_t>(std::max<std::uint64_t>(1, std::min<std::uint64_t>(ifd.get(kSamplesPerPixel, 1), 0xFFFF)));
  p.compression = static_cast<std::uint16_t>(ifd.get(kCompression, 1));
  p.photometric = static_cast<std::uint16_t>(ifd.get(kPhotometric, 1));
  if (p.compression == 6) {
    // Old-style JPEG (TIFF 6.0 §22) files often lack tags the JPEG stream
    // implies; libtiff (tif_dirread.c) and tifffile assume YCbCr colour,
    // 8-bit samples and three of them when the tags are missing.
    if (ifd.find(kPhotometric) == nullptr || p.photometric == 2) p.photometric = 6;
    if (ifd.find(kSamplesPerPixel) == nullptr && p.photometric == 6) p.spp = 3;
  }
  p.planar = p.spp > 1 ? static_cast<std::uint16_t>(ifd.get(kPlanarConfig, 1)) : 1;
  p.predictor = static_cast<std::uint16_t>(ifd.get(kPredictor, 1));
  p.fill_order = static_cast<std::uint16_t>(ifd.get(kFillOrder, 1));
  const auto bps = per_sample(ifd, kBitsPerSample, p.compression == 6 ? 8 : 1, p.spp);
  const auto format = per_sample(ifd, kSampleFormat, 1, p.spp);
  p.bps = bps.value_or(0);
  p.sample_format = format.value_or(0);
  p.tiled = ifd.find(kTileWidth) != nullptr;
  if (p.tiled) {
    p.tile_width = static_cast<std::uint32_t>(std::min<std::uint64_t>(ifd.get(kTileWidth, 0), 0xFFFFFFFFu));
    p.tile_height = static_cast<std::uint32_t>(std::min<std::uint64_t>(ifd.get(kTileLength, 0), 0xFFFFFFFFu));
    // Some old writers (libtiff's quad-tile.tif) keep tile offsets in the strip tags.
    const bool strip_tags = ifd.find(kTileOffsets) == nullptr;
    p.offsets = all_values(ifd.find(strip_tags ? kStripOffsets : kTileOffsets));
    p.counts = all_values(ifd.find(strip_tags ? kStripByteCounts : kTileByteCounts));
  } else {
    const std::uint64_t rps = ifd.get(kRowsPerStrip, p.height);
    p.rows_per_strip = static_cast<std::uint32_t>(rps == 0 || rps > p.height ? p.height : rps);
    p.offsets = all_values(ifd.find(kStripOffsets));
    p.counts = all_values(ifd.find(kStripByteCounts));
  }
  p.jpeg_rgb = p.compression == 7 && p.photometric == 6 && p.spp == 3;
  // Old-style JPEG YCbCr: libtiff's OJPEG codec returns subsampled YCbCr
  // blocks and has no JPEGCOLORMODE; its RGBA interface converts them, as
  // Pillow does for these files.
  p.ojpeg_rgb = p.compression == 6 && p.photometric == 6 && p.spp == 3 && p.planar == 1;

  const auto dtype = (bps && format) ? dtype_for(*format, *bps) : std::nullopt;
  p.dtype = dtype.value_or(DType::uint8);
  if (p.spp == 1) {
    p.shape = {p.height, p.width};
  } else if (p.planar == 2) {
    p.shape = {p.spp, p.height, p.width};
  } else {
    p.shape = {p.height, p.width, p.spp};
  }

  const std::uint64_t planes = p.planar == 2 ? p.spp : 1;
  const std::uint64_t expected = p.tiled ? div_up(p.width, p.tile_width) * div_up(p.height, p.tile_height) * planes
                                         : div_up(p.height, p.rows_per_strip) * planes;
  if (!bps || !format) {
    p.problem = "the samples of a pixel have different bit depths or formats";
  } else if (!dtype) {
    p.problem = fmt::format("{}-bit samples of SampleFormat {} are not supported", *bps, *format);
  } else if (ifd.get(kImageDepth, 1) > 1) {
    p.problem = "SGI ImageDepth volumes are not supported";
  } else if (p.width == 0 || p.height == 0) {
    p.problem = "the page has no pixels";
  } else if (p.tiled && (p.tile_width == 0 || p.tile_height == 0)) {
    p.problem = "the tile size is zero";
  } else if (p.planar != 1 && p.planar != 2) {
    p.problem = fmt::format("PlanarConfiguration {} is invalid", p.planar);
  } else if (!codec_available(p.compression)) {
    p.problem = fmt::format("compression {} ({}) is not built into this libtiff", p.compression,
                            compression_name(p.compression));
  } else if (p.photometric == 6 && !p.jpeg_rgb && p.spp == 3 && ifd.find(kYCbCrSubsampling) &&
             (ifd.find(kYCbCrSubsampling)->u(0) != 1 || ifd.find(kYCbCrSubsampling)->u(1) != 1) && p.compression != 6) {
    p.problem = "subsampled YCbCr data are not supported";
  } else if (p.offsets.size() != expected) {
    p.problem = fmt::format("the page has {} strip/tile offsets, {} expected", p.offsets.size(), expected);
  } else if (p.counts.size() != p.offsets.size()) {
    if (p.compression == 1 && p.counts.empty() && !p.tiled) {
      // Uncompressed strips without byte counts (the smallest valid TIFFs
      // omit the tag): each strip is full size, as libtiff and tifffile assume.
      const std::uint64_t row = div_up(std::uint64_t{p.width} * (p.planar == 2 ? 1 : p.spp) * p.bps, 8);
      for (std::size_t s = 0; s < p.offsets.size(); ++s) {
        const std::uint64_t first_row = (s % div_up(p.height, p.rows_per_strip)) * p.rows_per_strip;
        p.counts.push_back(row * std::min<std::uint64_t>(p.rows_per_strip, p.height - first_row));
      }
    } else {
      p.problem = "the page's byte counts are missing";
    }
  }
  if (p.problem.empty() && is_ndpi(st.ifds.front())) p.problem = ndpi_problem(st, p);
  p.truncated = damaged_directory(ifd, index);
  if (p.truncated.empty() && p.problem.empty()) p.truncated = missing_data(p, index, st.file_size);
  return p;
}

std::vector<Series> build_series(const Structure& st, const std::vector<Page>& pages, std::string_view file_name) {
  if (pages.empty()) return {};
  const Ifd& first = st.ifds[pages.front().ifd];
  const Entry* desc = first.find(kImageDescription);
  const std::string text = desc != nullptr ? desc->text() : std::string();
  if (text.rfind("ImageJ=", 0) == 0) return {imagej(st, pages)};
  if (description_shape(first)) return shaped(st, pages);
  // tifffile tries OME before its other layouts and groups the pages
  // generically when the OME-XML gives no series.
  if (is_ome_description(text)) {
    if (auto ome = ome_series(pages, text, file_name)) return std::move(*ome);
  }
  if (pages.front().tiled && text.rfind("Aperio ", 0) == 0) return svs(st, pages);
  if (is_scn_description(text)) {
    if (auto scn = scn_series(pages, text)) return std::move(*scn);
  }
  auto series = generic(pages);
  if (series.empty()) series.push_back(single(pages.front(), Series::Kind::generic));
  pyramidize(series);
  if (is_ndpi(first)) name_ndpi(st, series);
  return series;
}

std::string_view kind_name(Series::Kind kind) noexcept {
  switch (kind) {
    case Series::Kind::generic: return "generic";
    case Series::Kind::shaped: return "shaped";
    case Series::Kind::imagej: return "imagej";
    case Series::Kind::svs: return "svs";
    case Series::Kind::ome: return "ome";
    case Series::Kind::scn: return "scn";
    case Series::Kind::ndpi: return "ndpi";
  }
  return "generic";
}

bool is_ndpi(const Ifd& first) noexcept {
  return first.find(kNdpiFileFormat) != nullptr && first.find(kMake) != nullptr;
}

std::optional<Shape> parse_shape_description(std::string_view text) {
  Shape shape;
  if (text.rfind("shape=(", 0) == 0) {
    // tifffile's old format: shape=(2,3,10,10)
    const auto end = text.find(')');
    if (end == std::string_view::npos) return std::nullopt;
    std::string_view body = text.substr(7, end - 7);
    while (!body.empty()) {
      const auto comma = body.find(',');
      std::string item(body.substr(0, comma));
      item.erase(std::remove_if(item.begin(), item.end(), [](unsigned char c) { return std::isspace(c); }), item.end());
      if (!item.empty()) {
        char* stop = nullptr;
        const unsigned long long v = std::strtoull(item.c_str(), &stop, 10);
        if (*stop != '\0') return std::nullopt;
        shape.push_back(static_cast<std::size_t>(v));
      }
      if (comma == std::string_view::npos) break;
      body.remove_prefix(comma + 1);
    }
    return shape;
  }
  const auto json = try_from_json(text);
  if (!json || !json->is<Dict>()) return std::nullopt;
  const Value* s = json->ref<Dict>().lookup("shape");
  if (s == nullptr || !s->is<Value::List>()) return std::nullopt;
  for (const Value& d : s->ref<Value::List>()) {
    if (!d.is<std::int64_t>() || d.get<std::int64_t>() < 0) return std::nullopt;
    shape.push_back(static_cast<std::size_t>(d.get<std::int64_t>()));
  }
  return shape;
}

Dict parse_imagej(std::string_view text) {
  Dict out;
  if (text.rfind("ImageJ=", 0) != 0) return out;
  while (!text.empty()) {
    const auto nl = text.find('\n');
    const std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
    const auto eq = line.find('=');
    if (eq == std::string_view::npos) continue;
    std::string key(line.substr(0, eq));
    const std::string val(line.substr(eq + 1));
    if (key == "ImageJ") {
      out.set(std::move(key), val);  // the version stays a string ("1.11a")
      continue;
    }
    char* stop = nullptr;
    const long long i = std::strtoll(val.c_str(), &stop, 10);
    if (!val.empty() && *stop == '\0') {
      out.set(std::move(key), static_cast<std::int64_t>(i));
      continue;
    }
    const double d = std::strtod(val.c_str(), &stop);
    if (!val.empty() && *stop == '\0') {
      out.set(std::move(key), d);
    } else if (val == "true" || val == "false") {
      out.set(std::move(key), val == "true");
    } else {
      out.set(std::move(key), val);
    }
  }
  return out;
}

}  // namespace imio::tiff
