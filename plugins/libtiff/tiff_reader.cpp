// Reading: which pages an (index, page) pair selects and the shape they
// form; improps answers from the same selection, so it always equals what
// read returns (D11), and decodes nothing.
#include "tiff_reader.hpp"

#include <imio/plugins/libtiff.hpp>
#include <imio/checked_math.hpp>
#include <imio/pixel_box.hpp>

#include <algorithm>
#include <deque>
#include <map>
#include <utility>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "tiff_decode.hpp"
#include "tiff_ifd.hpp"
#include "tiff_meta.hpp"
#include "tiff_pages.hpp"
#include "tiff_photo.hpp"

namespace imio::tiff {
namespace {

constexpr std::string_view kPlugin = "libtiff";

// What a read returns: these pages, one after the other, as `shape`.
struct Selection {
  std::vector<const Page*> pages;  // of the file's structure, or of its SubIFDs' (`level`)
  Shape shape;
  DType dtype = DType::uint8;
  bool batch = false;
  std::optional<std::size_t> n_images;
  bool level_applied = false;  // `level` chose series found in the main IFD chain (no SubIFDs to follow)
};

// The page argument: none, an integer, or imio::all.
struct PageArg {
  bool given = false, all = false;
  std::size_t value = 0;
};

// `crop`: Pillow's box (<imio/pixel_box.hpp>), right and bottom exclusive.
using Box = PixelBox;

struct ReadArgs {
  Index index;
  PageArg page;
  unsigned threads = 0;
  std::optional<Box> crop;
  std::size_t level = 0;  // tifffile's pyramid level: 0 the pages, k their k-th SubIFD or the series' k-th level
};

Shape prepend(std::size_t n, const Shape& s) {
  Shape out{n};
  out.insert(out.end(), s.begin(), s.end());
  return out;
}

class TiffReader final : public plugin::LibTiff {
 public:
  explicit TiffReader(Request& request) : request_(request) {
    st_ = parse_structure(request.source(), request.limits());
    pages_.reserve(st_.ifds.size());
    for (std::size_t i = 0; i < st_.ifds.size(); ++i) pages_.push_back(make_page(st_, i));
    const std::optional<std::filesystem::path> path = request.local_path();
    series_ = build_series(st_, pages_, path ? path->filename().string() : std::string());
  }

  NDArray read(const Index& index, const Kwargs& kwargs) override {
    const ReadArgs args = parse_args(index, kwargs, "read");
    if (pages_.empty()) return read_pageless(args);
    return read_selection(select(args, /*for_read=*/true), args);
  }

  std::unique_ptr<FrameSource> iter(const Kwargs& kwargs) override {
    KwargReader kw(kwargs, kPlugin, "iter");
    ReadArgs args;
    take_region_args(kw, args);
    kw.finish();
    struct Series final : FrameSource {
      TiffReader& reader;
      ReadArgs args;
      std::size_t next_index = 0;
      Series(TiffReader& r, ReadArgs a) : reader(r), args(std::move(a)) {}
      std::optional<NDArray> next() override {
        if (next_index >= reader.series_.size()) return std::nullopt;
        args.index = Index(next_index++);
        return reader.read_selection(reader.select(args, true), args);
      }
    };
    return std::make_unique<Series>(*this, args);
  }

  // tifffile's iter_pages (spec §5.3.3): all/none → every page of the file,
  // k → the pages of series k; each page decoded as read(index=all, page=p).
  std::unique_ptr<FrameSource> iter_pages(const Index& index, const Kwargs& kwargs) override {
    KwargReader kw(kwargs, kPlugin, "iter_pages");
    ReadArgs args;
    take_region_args(kw, args);
    kw.finish();
    std::vector<const Page*> list;
    if (index.is_integer()) {
      if (index.value() < 0) throw IndexError(fmt::format("index {} is out of range (negative)", index.value()));
      for (const Page& p : series_at(index).pages) list.push_back(&p);
    } else {
      for (const Page& p : pages_) list.push_back(&p);
    }
    struct Pages final : FrameSource {
      TiffReader& reader;
      std::vector<const Page*> list;
      ReadArgs args;
      std::size_t next_page = 0;
      Pages(TiffReader& r, std::vector<const Page*> l, ReadArgs a) : reader(r), list(std::move(l)), args(std::move(a)) {}
      std::optional<NDArray> next() override {
        if (next_page >= list.size()) return std::nullopt;
        return reader.read_selection(one_page(*list[next_page++]), args);
      }
    };
    return std::make_unique<Pages>(*this, std::move(list), args);
  }

  ImageProperties properties(const Index& index, const Kwargs& kwargs) override {
    const ReadArgs args = parse_args(index, kwargs, "properties");
    if (pages_.empty()) {
      const NDArray empty = read_pageless(args);  // what read returns (D11)
      return {.shape = empty.shape(), .dtype = empty.dtype()};
    }
    Selection sel = select_level(select(args, /*for_read=*/false), args.level);
    apply_crop(args.crop, sel);
    check_complete(sel.pages);  // a truncated file: the error read gives, found without decoding
    ImageProperties props{.shape = sel.shape, .dtype = sel.dtype, .n_images = sel.n_images, .is_batch = sel.batch};
    if (!sel.pages.empty()) props.spacing = page_resolution(st_, *sel.pages.front());
    return props;
  }

  Metadata metadata(const Index& index, bool /*exclude_applied*/, const Kwargs& kwargs) override {
    KwargReader kw(kwargs, kPlugin, "metadata");
    const PageArg page = take_page(kw);
    kw.finish();
    // Spec §5.3.5: no page and index none/all → the file level.
    // Beyond tifffile (docs/metadata.md): the normalised photo entries of
    // the page, or of the first IFD at the file level.
    if (!page.given && !index.is_integer()) {
      Metadata m = file_metadata(st_, pages_, series_);
      if (!st_.ifds.empty()) add_photo_entries(m, request_.source(), st_, st_.ifds.front());
      return m;
    }
    const Page* p = nullptr;
    if (index.is_all()) {
      p = &file_page(page.all ? 0 : page.value);
    } else {
      const Series& s = series_at(index);
      p = &series_page(s, page.given && !page.all ? page.value : 0);
    }
    Metadata m = page_metadata(request_.source(), st_, *p);
    add_photo_entries(m, request_.source(), st_, st_.ifds[p->ifd]);
    return m;
  }

 private:
  static PageArg take_page(KwargReader& kw) {
    PageArg arg;
    const Value* v = kw.find("page");
    if (v == nullptr || v->is_none()) return arg;
    arg.given = true;
    if (v->is<All>()) {
      arg.all = true;
    } else {
      const auto k = v->get<std::int64_t>();
      if (k < 0) throw IndexError(fmt::format("page {} is out of range (negative)", k));
      arg.value = static_cast<std::size_t>(k);
    }
    return arg;
  }

  ReadArgs parse_args(const Index& index, const Kwargs& kwargs, std::string_view method) const {
    KwargReader kw(kwargs, kPlugin, method);
    ReadArgs args;
    args.index = index;
    args.page = take_page(kw);
    // tifffile's own names: `key` selects pages like `page`, `series` like `index`.
    if (const Value* key = kw.find("key"); key != nullptr && !key->is_none()) {
      if (args.page.given) kw.fail("key", "`page` and `key` select the same thing; give one of them");
      const auto k = key->get<std::int64_t>();
      if (k < 0) throw IndexError(fmt::format("key {} is out of range (negative)", k));
      args.page = {true, false, static_cast<std::size_t>(k)};
    }
    if (const Value* series = kw.find("series"); series != nullptr && !series->is_none()) {
      if (!index.is_none()) kw.fail("series", "`index` and `series` select the same thing; give one of them");
      const auto k = series->get<std::int64_t>();
      if (k < 0) throw IndexError(fmt::format("series {} is out of range (negative)", k));
      args.index = Index(k);
    }
    take_region_args(kw, args);
    kw.finish();
    return args;
  }

  // The kwargs read, iter and iter_pages share: maxworkers, level, crop.
  static void take_region_args(KwargReader& kw, ReadArgs& args) {
    args.threads = kw.take<unsigned>("maxworkers", 0u);
    args.level = kw.take<std::size_t>("level", 0);
    args.crop = take_pixel_box(kw, "crop");
  }

  // A selection read with the call's level, crop and threads.
  NDArray read_selection(Selection sel, const ReadArgs& args) {
    sel = select_level(std::move(sel), args.level);
    const std::optional<Window> window = apply_crop(args.crop, sel);
    return decode(sel, args.threads, window);
  }

  // The window `crop` asks of every selected page, and the shape of the
  // selection with each page's height and width replaced by the window's.
  // Every page must contain the box; the series' shape must end with the
  // pages' (it does for generic, ImageJ and shaped series of whole pages).
  static std::optional<Window> apply_crop(const std::optional<Box>& crop, Selection& sel) {
    if (!crop || sel.pages.empty()) return std::nullopt;
    const Box& c = *crop;
    for (const Page* p : sel.pages) {
      if (c.left >= c.right || c.top >= c.bottom || c.right > p->width || c.bottom > p->height) {
        throw ArgumentError(fmt::format("crop=[{}, {}, {}, {}] is not a region of the {} x {} page ([left, top, right, "
                                        "bottom], right and bottom exclusive)",
                                        c.left, c.top, c.right, c.bottom, p->width, p->height));
      }
    }
    const Window w{static_cast<std::uint32_t>(c.left), static_cast<std::uint32_t>(c.top),
                   static_cast<std::uint32_t>(c.right), static_cast<std::uint32_t>(c.bottom)};
    const Page& first = *sel.pages.front();
    const Shape& page_shape = first.shape;
    if (sel.shape.size() < page_shape.size() ||
        !std::equal(page_shape.begin(), page_shape.end(), sel.shape.end() - static_cast<std::ptrdiff_t>(page_shape.size()))) {
      throw ArgumentError(fmt::format("crop needs a series whose last axes are its pages' ({}); this one is ({})",
                                      fmt::join(page_shape, ", "), fmt::join(sel.shape, ", ")));
    }
    const Shape cropped = window_shape(first, w);
    std::copy(cropped.begin(), cropped.end(), sel.shape.end() - static_cast<std::ptrdiff_t>(cropped.size()));
    return w;
  }

  const Series& series_at(const Index& index) const {
    const std::size_t k = index.is_integer() ? static_cast<std::size_t>(index.value()) : 0;
    if (k >= series_.size()) {
      throw IndexError(fmt::format("index {} is out of range: the file holds {} series", k, series_.size()));
    }
    return series_[k];
  }

  const Page& series_page(const Series& s, std::size_t p) const {
    if (p >= s.pages.size()) {
      throw IndexError(fmt::format("page {} is out of range: the series holds {} pages", p, s.pages.size()));
    }
    return s.pages[p];
  }

  const Page& file_page(std::size_t p) const {
    if (p >= pages_.size()) {
      throw IndexError(fmt::format("page {} is out of range: the file holds {} pages", p, pages_.size()));
    }
    return pages_[p];
  }

  // A TIFF whose header says it has no page (first IFD offset 0) reads as
  // tifffile reads it: an empty float64 array (and nothing to stack for
  // index=all). A header pointing at a page the file does not hold is a
  // DecodeError (parse_structure).
  NDArray read_pageless(const ReadArgs& a) const {
    if (a.index.is_all() && !a.page.given) throw ArgumentError("the file has no pages: nothing to stack");
    warn(kPlugin, "the file has no readable page; the result is empty");
    return NDArray(Shape{0}, DType::float64);
  }

  static Selection one_page(const Page& p) { return Selection{{&p}, p.shape, p.dtype, false, std::nullopt, false}; }

  // Level `level` of a series whose levels lie in the main IFD chain
  // (generic pyramids, SVS, NDPI, SCN), as tifffile's `series.levels[level]`; nullptr
  // for a series without such levels, whose levels are its pages' SubIFDs.
  static const Series* chain_level(const Series& s, std::size_t level) {
    if (level == 0 || s.levels.empty()) return nullptr;
    if (level > s.levels.size()) {
      throw IndexError(fmt::format("level {} is out of range: the series has {} levels (itself and {} reduced)", level,
                                   s.levels.size() + 1, s.levels.size()));
    }
    return &s.levels[level - 1];
  }

  // Spec §5.3.3 (read) and §5.3.6 (properties, with D11: the same shapes).
  Selection select(const ReadArgs& a, bool for_read) const {
    if (a.index.is_all()) {
      if (a.page.given && !a.page.all) return one_page(file_page(a.page.value));
      if (a.page.all) {
        if (pages_.empty()) throw IndexError("the file has no pages");
        // Every page of the file, stacked.
        Selection sel{{}, prepend(pages_.size(), pages_.front().shape), pages_.front().dtype, true, pages_.size(), false};
        for (const Page& p : pages_) {
          if (for_read && (p.shape != pages_.front().shape || p.dtype != pages_.front().dtype)) {
            throw ArgumentError("the pages have different shapes or dtypes and cannot be stacked");
          }
          sel.pages.push_back(&p);
        }
        return sel;
      }
      // With `level`, every series is replaced by its level when the main
      // IFD chain holds the levels (select_level follows SubIFDs otherwise).
      bool chain = false;
      for (const Series& s : series_) chain = chain || (a.level > 0 && !s.levels.empty());
      const auto leveled = [&](std::size_t k) -> const Series& {
        if (!chain) return series_[k];
        const Series* l = chain_level(series_[k], a.level);
        if (l == nullptr) {
          throw IndexError(fmt::format("level {} is out of range: series {} has no reduced levels", a.level, k));
        }
        return *l;
      };
      const Series& s0 = leveled(0);
      Selection sel{{}, prepend(series_.size(), s0.shape), s0.dtype, true, series_.size(), chain};
      for (std::size_t k = 0; k < series_.size(); ++k) {
        const Series& s = leveled(k);
        if (s.shape != s0.shape || s.dtype != s0.dtype) {
          if (for_read) {
            throw ArgumentError(fmt::format("the series have different shapes (({}) {} and ({}) {}) and cannot be stacked",
                                            fmt::join(s0.shape, ", "), name(s0.dtype), fmt::join(s.shape, ", "),
                                            name(s.dtype)));
          }
          // Nothing to describe that read would return: tifffile's answer,
          // (number of series, *shape of the file's first page).
          sel.shape = prepend(series_.size(), pages_.front().shape);
        }
        for (const Page& p : s.pages) sel.pages.push_back(&p);
      }
      return sel;
    }
    const Series& base = series_at(a.index);
    const Series* level = chain_level(base, a.level);
    const Series& s = level != nullptr ? *level : base;
    if (a.page.given && !a.page.all) {
      Selection sel = one_page(series_page(s, a.page.value));
      sel.level_applied = level != nullptr;
      return sel;
    }
    Selection sel{{}, s.shape, s.dtype, false, std::nullopt, level != nullptr};
    for (const Page& p : s.pages) sel.pages.push_back(&p);
    return sel;
  }

  // Pyramid level k ≥ 1 (tifffile's `level` for SubIFD pyramids, as tifffile
  // writes them with `subifds=` and OME-TIFF stores them): each page's k-th
  // SubIFD (TIFF Technical Note 1), all of one shape and dtype, in the place
  // of the page in the series' shape.
  Selection select_level(Selection sel, std::size_t level) {
    if (level == 0 || sel.pages.empty() || sel.level_applied) return sel;
    const Shape page_shape = sel.pages.front()->shape;
    std::vector<const Page*> pages;
    pages.reserve(sel.pages.size());
    for (const Page* p : sel.pages) pages.push_back(&sub_page(*p, level));
    const Page& first = *pages.front();
    for (const Page* p : pages) {
      if (p->shape != first.shape || p->dtype != first.dtype) {
        throw DecodeError(fmt::format("level {} has pages of different shapes or dtypes (({}) {} and ({}) {})", level,
                                      fmt::join(first.shape, ", "), name(first.dtype), fmt::join(p->shape, ", "),
                                      name(p->dtype)));
      }
    }
    if (sel.shape.size() < page_shape.size() ||
        !std::equal(page_shape.begin(), page_shape.end(), sel.shape.end() - static_cast<std::ptrdiff_t>(page_shape.size()))) {
      throw ArgumentError(fmt::format("level needs a series whose last axes are its pages' ({}); this one is ({})",
                                      fmt::join(page_shape, ", "), fmt::join(sel.shape, ", ")));
    }
    Shape shape(sel.shape.begin(), sel.shape.end() - static_cast<std::ptrdiff_t>(page_shape.size()));
    shape.insert(shape.end(), first.shape.begin(), first.shape.end());
    sel.shape = std::move(shape);
    sel.dtype = first.dtype;
    sel.pages = std::move(pages);
    return sel;
  }

  // The `level`-th SubIFD of `page` as a page, read on first use.
  const Page& sub_page(const Page& page, std::size_t level) {
    if (page.subifd) throw ArgumentError("level applies to the pages of the file's main IFD chain");
    const Entry* subifds = st_.ifds[page.ifd].find(kSubIfds);
    const std::size_t levels = 1 + (subifds == nullptr ? 0 : subifds->size());
    if (level >= levels) {
      throw IndexError(fmt::format("level {} is out of range: page {} has {} level{} (itself and {} SubIFD{})", level,
                                   page.ifd, levels, levels == 1 ? "" : "s", levels - 1, levels == 2 ? "" : "s"));
    }
    const auto key = std::make_pair(page.ifd, level);
    if (const auto it = sub_index_.find(key); it != sub_index_.end()) return sub_pages_[it->second];
    const std::uint64_t offset = subifds->u(level - 1);
    if (sub_st_.ifds.empty()) {
      sub_st_.little = st_.little;
      sub_st_.bigtiff = st_.bigtiff;
      sub_st_.file_size = st_.file_size;
    }
    std::optional<Ifd> ifd = offset < 8 ? std::nullopt : read_ifd_at(request_.source(), st_, offset);
    if (!ifd) throw DecodeError(fmt::format("cannot read SubIFD {} of page {} at offset {}", level - 1, page.ifd, offset));
    request_.check_frames(sub_st_.ifds.size() + 1);
    sub_st_.ifds.push_back(std::move(*ifd));
    sub_pages_.push_back(make_page(sub_st_, sub_st_.ifds.size() - 1));
    sub_pages_.back().subifd = true;
    sub_index_.emplace(key, sub_pages_.size() - 1);
    return sub_pages_.back();
  }

  // The structure holding the selection's pages: the file's, or its SubIFDs'.
  const Structure& structure_of(const Selection& sel) const {
    return !sel.pages.empty() && sel.pages.front()->subifd ? sub_st_ : st_;
  }

  NDArray decode(const Selection& sel, unsigned threads, const std::optional<Window>& window = std::nullopt) {
    const std::uint64_t bytes = check_read(request_, sel.pages, window);
    const auto want = checked_product(std::span<const std::size_t>(sel.shape));
    if (!want || *want * itemsize(sel.dtype) != bytes) {
      throw DecodeError(fmt::format("the pages do not fill the series shape ({})", fmt::join(sel.shape, ", ")));
    }
    NDArray out = request_.allocate(sel.shape, sel.dtype);
    decode_pages(request_, structure_of(sel), sel.pages, out.bytes(), threads, window);
    return out;
  }

  Request& request_;
  Structure st_;
  std::vector<Page> pages_;
  std::vector<Series> series_;
  // SubIFDs read for `level`: their structure, their pages (a deque: the
  // selections point at them) and where (page, level) is in it.
  Structure sub_st_;
  std::deque<Page> sub_pages_;
  std::map<std::pair<std::size_t, std::size_t>, std::size_t> sub_index_;
};

}  // namespace

std::unique_ptr<Plugin> open_reader(Request& request) { return std::make_unique<TiffReader>(request); }

}  // namespace imio::tiff
