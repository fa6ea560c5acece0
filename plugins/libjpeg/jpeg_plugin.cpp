// The libjpeg plugin: JPEG read and write through libjpeg-turbo, behaving
// like imageio's pillow plugin for JPEG (spec §5.1; DECISIONS D8–D10, D17,
// D18). One file holds one image (spec §4.2: index none or 0; imio::all
// gives a batch of one).
#include <imio/hardware_threads.hpp>
#include <imio/metadata_write.hpp>
#include <imio/pixel_box.hpp>
#include <imio/plugin.hpp>
#include <imio/single_image.hpp>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <exception>
#include <optional>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "jpeg_backend.hpp"
#include "jpeg_convert.hpp"
#include "jpeg_entropy_index.hpp"
#include "jpeg_helper_threads.hpp"
#include "jpeg_markers.hpp"
#include "jpeg_metadata.hpp"
#include "jpeg_restart.hpp"
#include "jpeg_restart_columns.hpp"
#include "jpeg_rows.hpp"

namespace imio {
namespace libjpeg {
namespace {

constexpr std::string_view kPlugin = "libjpeg";

bool has_signature(std::span<const std::byte> b) {
  return b.size() >= 3 && b[0] == std::byte{0xFF} && b[1] == std::byte{0xD8} && b[2] == std::byte{0xFF};
}

bool wants_batch(const Index& index) { return single_image_wants_batch(index, "a JPEG file"); }

// `scale`: 1, 1/2, 1/4 or 1/8 (a number, or a string such as "1/4"),
// done by libjpeg's DCT scaling.
unsigned scale_denominator(KwargReader& kw) {
  const Value* v = kw.find("scale");
  if (v == nullptr || v->is_none()) return 1;
  double s = 0;
  if (v->is<std::string>()) {
    const std::string text = v->get<std::string>();
    if (text == "1") s = 1;
    else if (text == "1/2") s = 0.5;
    else if (text == "1/4") s = 0.25;
    else if (text == "1/8") s = 0.125;
  } else {
    s = v->get<double>();  // plugin.json: a number or a string
  }
  if (s == 1) return 1;
  if (s == 0.5) return 2;
  if (s == 0.25) return 4;
  if (s == 0.125) return 8;
  kw.fail("scale", "libjpeg scales by 1, 1/2, 1/4 or 1/8 only");
}

// `crop`: Pillow's box (<imio/pixel_box.hpp>), right and bottom exclusive.
using Box = PixelBox;

struct ReadOptions {
  std::string mode;  // empty: the file's own mode
  bool rotate = false;
  unsigned scale = 1;
  bool strict = true;  // corrupt-data warnings are errors (see jpeg_backend.cpp)
  std::optional<Box> crop;  // in the upright full-size image's pixels
  unsigned workers = 1;     // threads a crop may use: the entropy index's walk, two halves at once (maxworkers)
};

ReadOptions take_read_options(const Kwargs& kwargs, std::string_view method) {
  KwargReader kw(kwargs, kPlugin, method);
  ReadOptions o;
  if (auto mode = kw.take<std::string>("mode")) o.mode = std::move(*mode);  // plugin.json: L, RGB, RGBA, CMYK
  o.rotate = kw.get<bool>("rotate");
  // JPEG has no gamma value: imageio's apply_gamma changes nothing here;
  // writeable_output is imageio's copy-or-view detail (imio's arrays are owned).
  kw.find("apply_gamma");
  kw.find("writeable_output");
  o.scale = scale_denominator(kw);
  o.strict = kw.get<bool>("strict");
  o.crop = take_pixel_box(kw, "crop");
  o.workers = kw.take<unsigned>("maxworkers", 0u);
  if (o.workers == 0) o.workers = std::min(hardware_threads(), 8u);
  kw.finish();
  return o;
}

std::uint32_t scaled(std::uint32_t n, unsigned denom) { return (n + denom - 1) / denom; }

// A crop of at least this many full-size pixels is decoded as its two
// halves by two threads when maxworkers allows and each half has a decoder
// of its own: column bands, the entropy index's bands or a restart entry
// (JpegReader::decode_halves).
constexpr std::uint64_t kSplitBandPixels = std::uint64_t{1} << 19;

// The entropy index is built only for scans of at least this many bytes
// (JpegReader::consider_index).
constexpr std::size_t kSmallestIndexedScan = std::size_t{16} << 10;
// A reader's first crop builds the index when about this many bytes of the
// scan lie above the box (measured: JpegReader::columns_around).
constexpr double kIndexFirstCropAbove = 32 * 1024;

// ---------------------------------------------------------------- reading

class JpegReader final : public Plugin {
 public:
  explicit JpegReader(Request& request) : request_(request) {
    data_ = whole_data(request.source(), owned_, request.limits().max_bytes);
    ReusedDecompressor d = open();
    d->read_header();
    header_ = read_image_header(d->info(), data_);
    orientation_ = exif_orientation(header_.exif);
    header_read_.emplace(std::move(d));
  }

  NDArray read(const Index& index, const Kwargs& kwargs) override {
    const ReadOptions o = take_read_options(kwargs, "read");
    const bool batch = wants_batch(index);
    NDArray image = decode(o);
    if (!batch) return image;
    Shape shape = with_batch_axis(image.shape());
    return std::move(image).reshaped(std::move(shape));
  }

  std::unique_ptr<FrameSource> iter(const Kwargs& kwargs) override {
    return one_frame([this, o = take_read_options(kwargs, "iter")] { return decode(o); });
  }

  // From the header alone (D11: equal to what read returns for the same kwargs).
  ImageProperties properties(const Index& index, const Kwargs& kwargs) override {
    const ReadOptions o = take_read_options(kwargs, "properties");
    const bool batch = wants_batch(index);
    // A cut file is the DecodeError a strict read gives (D11), found without decoding.
    if (o.strict) check_ends_at_eoi();
    Shape shape = result_shape(o);
    if (batch) return {.shape = with_batch_axis(shape), .dtype = DType::uint8, .n_images = 1, .is_batch = true};
    return {.shape = std::move(shape), .dtype = DType::uint8};
  }

  Metadata metadata(const Index& index, bool exclude_applied, const Kwargs& kwargs) override {
    const ReadOptions o = take_read_options(kwargs, "metadata");
    wants_batch(index);  // range check only: one image, one header
    const HeaderInfo& described = header_info();
    Metadata meta = described.info;
    meta.set("mode", header_.mode);
    meta.set("shape", Value{header_.width, header_.height});  // (width, height), as Pillow's size
    if (!header_.exif.empty()) {
      for (const auto& [key, value] : read_exif(header_.exif)) meta.set(key, value);
    }
    add_metadata_entries(meta, described);  // beyond imageio: docs/metadata.md
    // D17: Orientation describes the pixels unless this call's rotate applied it.
    if (exclude_applied && o.rotate) {
      meta.erase("Orientation");
      meta.erase("orientation");
    }
    return meta;
  }

 private:
  ReusedDecompressor open() const {
    return ReusedDecompressor(reinterpret_cast<const unsigned char*>(data_.data()), data_.size(), request_.limits().max_bytes);
  }

  // A decompressor with the header read: the one the constructor read it
  // with, for the first decode (imread reads a file once), else a new one.
  ReusedDecompressor header_read() {
    if (header_read_) {
      ReusedDecompressor d = std::move(*header_read_);
      header_read_.reset();
      d->reset_warning_count();
      return d;
    }
    ReusedDecompressor d = open();
    d->read_header(/*repeat=*/true);
    return d;
  }

  // The header's metadata, described on the first metadata call (an
  // ImageFile is used by one thread at a time: no lock).
  const HeaderInfo& header_info() {
    if (!described_) described_ = describe_header(header_, data_);
    return *described_;
  }

  // Whether the file's data end before the EOI marker, looked for once per
  // reader (a pass over the whole file: 0.35 ms for 1.8 MB, a tenth of a
  // crop on a handle).
  void check_ends_at_eoi() {
    if (!ends_before_eoi_) ends_before_eoi_ = ends_before_eoi(data_);
    if (*ends_before_eoi_) throw DecodeError("the JPEG data end before the EOI marker (the file is truncated or damaged)");
  }

  std::string_view target_mode(const ReadOptions& o) const { return o.mode.empty() ? header_.mode : o.mode; }

  int effective_orientation(const ReadOptions& o) const { return o.rotate ? orientation_ : 0; }

  // The stored image's pixels that `o` returns, in libjpeg's output (scaled)
  // coordinates, before the orientation is applied.
  //
  // `crop` is given in the full-size image as this call would return it
  // without crop (upright when rotate applies an Orientation), so that it
  // means the same box whatever the scale. With scale 1/n the result is the
  // smallest region of the scaled image that covers the box:
  // [⌊left/n⌋, ⌈right/n⌉) × [⌊top/n⌋, ⌈bottom/n⌉). That region is computed
  // on the upright scaled image and then mapped to the stored one, so the
  // result always equals the same crop of imread(scale, rotate).
  Box stored_region(const ReadOptions& o) const {
    const std::uint64_t w = scaled(header_.width, o.scale), h = scaled(header_.height, o.scale);
    if (!o.crop) return {0, 0, w, h};
    const int orientation = effective_orientation(o);
    const bool swap = orientation >= 5 && orientation <= 8;
    const std::uint64_t full_w = swap ? header_.height : header_.width;
    const std::uint64_t full_h = swap ? header_.width : header_.height;
    const Box& c = *o.crop;
    if (c.left >= c.right || c.top >= c.bottom || c.right > full_w || c.bottom > full_h) {
      throw ArgumentError(fmt::format("crop=[{}, {}, {}, {}] is not a region of the {} x {} image ([left, top, right, "
                                      "bottom], right and bottom exclusive, in pixels of the full-size{} image)",
                                      c.left, c.top, c.right, c.bottom, full_w, full_h,
                                      orientation >= 2 && orientation <= 8 ? ", rotated" : ""));
    }
    const std::uint64_t n = o.scale;
    const Box up{c.left / n, c.top / n, (c.right + n - 1) / n, (c.bottom + n - 1) / n};
    return stored_box(orientation, h, w, up);  // in the stored image of h × w (scaled) pixels
  }

  Shape result_shape(const ReadOptions& o) const {
    const int channels = channels_of(target_mode(o));
    const Box r = stored_region(o);
    Shape shape{r.bottom - r.top, r.right - r.left};
    if (channels > 1) shape.push_back(static_cast<std::size_t>(channels));
    return oriented_shape(shape, effective_orientation(o));
  }

  // What decodes one half of a box (decode_halves): a stream cut for it
  // (column bands, the entropy index), the entropy index's band that the
  // decoding thread cuts itself, the file entered at a restart marker, or
  // else the file from its start.
  struct BandSource {
    std::optional<ColumnEntry> columns;
    std::optional<EntropyIndex::Band> index_band;
    std::optional<RestartEntry> entry;
    bool cut() const { return columns || index_band; }
  };

  NDArray decode(const ReadOptions& o) {
    // The whole image is checked, not the scaled or cropped one: libjpeg's
    // buffers for progressive data are full size whatever is returned.
    request_.check_pixels(header_.width, header_.height);
    ReusedDecompressor reused = header_read();
    Decompressor& header = *reused;
    Box region = stored_region(o);
    // A box in a file whose restart intervals split each MCU row into
    // column bands, or in a scan without restart markers that the reader's
    // entropy index has walked: decode a smaller image made of the MCUs
    // around it (jpeg_restart_columns.hpp, jpeg_entropy_index.hpp), so that
    // neither the columns beside it nor the rows above it are entropy-decoded
    // by libjpeg. Else a box well below the
    // top of a file with restart markers: start the decoder at the last
    // suitable marker above it (jpeg_restart.hpp), so that the rows above
    // are not entropy-decoded either.
    BandSource source;  // the whole box's (none: the file from its start, through the header's decoder)
    // A large box is decoded as its upper and lower halves by two threads,
    // each half from its own bands or its own restart entry.
    const bool halves = o.crop && o.workers > 1 &&
                        std::uint64_t{region.right - region.left} * (region.bottom - region.top) * o.scale * o.scale >=
                            kSplitBandPixels;
    Box upper = region, lower = region;
    upper.bottom = lower.top = region.top + (region.bottom - region.top) / 2;
    BandSource upper_source, lower_source;
    if (o.crop) {
      consider_index(header.info(), region, o.scale);
      if (halves) {
        // The lower half first: its walk takes the scan down to the box's
        // end in one walk split among threads, and the upper half's band
        // is then only cut (the other order walked the last rows again on
        // one thread: a bottom-right 1024×768 box of a 12.6 MP photograph,
        // 7.47 against 7.61 ms at best, 7.78 against 7.89 ms at the first quartile).
        // Each half's thread cuts its own band from the index (0.17–0.2 ms
        // each for that box, no longer one after the other).
        band_around(header.info(), lower, o.scale, o.workers, lower_source);
        if (lower_source.cut()) band_around(header.info(), upper, o.scale, o.workers, upper_source);
        if (!upper_source.cut()) lower_source = {};  // bands for both halves, or for neither
      }
      if (!upper_source.cut()) source.columns = columns_around(header.info(), region, o.scale, o.workers);
    }
    // A cropped read stops after the region's last row: a file cut or
    // damaged below it would pass unseen, so a strict read looks for its
    // end as improps does (D11), without decoding. The entropy index's copy
    // of the scan knows already when the data end at EOI (a pass over the
    // file saved: 0.35 ms for 1.8 MB).
    if (o.crop && o.strict) {
      if (!ends_before_eoi_ && index_ && index_->scan_ends_at_eoi()) ends_before_eoi_ = false;
      check_ends_at_eoi();
    }
    const DecodePlan plan = plan_decode(header_.mode, target_mode(o));
    Shape shape{region.bottom - region.top, region.right - region.left};
    if (plan.channels > 1) shape.push_back(static_cast<std::size_t>(plan.channels));
    if (upper_source.cut()) return decode_halves(upper_source, lower_source, upper, lower, shape, plan, o);
    // A lenient crop of a scan whose restart markers are damaged neither
    // enters it at a marker nor skips the rows above the box, but reads
    // them: libjpeg resynchronises at such a marker by its own rules, which
    // jpeg_skip_scanlines did not reproduce either (libjpeg-turbo 2.1.5: the
    // rows below a lost marker came out different), and strict=false
    // promises the whole decode's pixels, damage included. A strict crop
    // enters below a misnumbered marker (an error in a whole decode) and
    // never sees it; a lost or extra one is an error either way.
    const bool read_above = o.crop && !o.strict && !source.columns && region.top > 0 && markers_damaged(header.info());
    if (o.crop && !source.columns && !read_above && region.top > 0) {
      source.entry = restart_entry_above(header.info(), region.top * o.scale);
    }
    if (halves && !source.columns && !read_above) {
      // The lower half from a restart entry of its own, the upper one from
      // the box's entry (or the file's start when it has none).
      lower_source.entry = restart_entry_above(header.info(), lower.top * o.scale);
      if (lower_source.entry && lower_source.entry->rows > (source.entry ? source.entry->rows : 0)) {
        upper_source.entry = std::move(source.entry);
        return decode_halves(upper_source, lower_source, upper, lower, shape, plan, o);
      }
    }
    Output out = output(shape, o);
    decode_band(source, region, plan, out.rows, o, read_above, &header);
    return finish(std::move(out), o);
  }

  // Where the decoded rows go. Under read_into with a row-padded view (a
  // region of the caller's canvas, a flipped image), libjpeg writes into
  // the caller's rows; a rotated result is built elsewhere and copied by
  // the core.
  struct Output {
    std::optional<RowTarget> in_place;
    NDArray array;  // when not in place
    RowTarget rows;
  };
  Output output(const Shape& shape, const ReadOptions& o) {
    const int orientation = effective_orientation(o);
    const bool upright = orientation < 2 || orientation > 8;
    Output out;
    out.in_place = upright ? request_.row_target(shape, DType::uint8) : std::nullopt;
    if (!out.in_place) out.array = request_.allocate(shape, DType::uint8);
    out.rows = out.in_place ? *out.in_place : RowTarget(out.array.view());
    return out;
  }
  NDArray finish(Output out, const ReadOptions& o) {
    if (out.in_place) return request_.rows_written(out.rows);
    const int orientation = effective_orientation(o);
    if (orientation >= 2 && orientation <= 8) return apply_orientation(std::move(out.array), orientation);
    return std::move(out.array);
  }

  // A box of at least kSplitBandPixels full-size pixels as its upper and
  // lower halves, each from its own source (bands with their own margins,
  // or a restart entry), decoded at once by this thread and one more: the
  // band's decode is most of what a crop through the entropy index costs
  // once the index has walked (a handle's centre crop 3.32 → 2.06 ms).
  NDArray decode_halves(const BandSource& upper_band, const BandSource& lower_band, const Box& upper,
                        const Box& lower, const Shape& shape, const DecodePlan& plan, const ReadOptions& o) {
    const std::size_t upper_rows = upper.bottom - upper.top;
    Output out = output(shape, o);
    const RowTarget& rows = out.rows;
    const RowTarget top(rows.first_row(), rows.stride(), upper_rows, rows.row_bytes());
    const RowTarget bottom(rows.row(upper_rows), rows.stride(), rows.rows() - upper_rows, rows.row_bytes());
    std::exception_ptr lower_failed;
    const auto decode_lower = [&] {
      try {
        decode_band(lower_band, lower, plan, bottom, o);
      } catch (...) {
        lower_failed = std::current_exception();
      }
    };
    {
      std::optional<HelperJob> helper;
      try {
        helper.emplace(decode_lower);  // a kept thread of the plugin's (jpeg_helper_threads.hpp)
      } catch (const std::system_error&) {  // no thread: this one decodes both
        decode_lower();
      }
      decode_band(upper_band, upper, plan, top, o);
    }  // waits for the helper's half
    if (lower_failed) std::rethrow_exception(lower_failed);
    return finish(std::move(out), o);
  }

  // `region` (the stored image's pixels at scale 1/o.scale) from `band`
  // into `rows`, the rows above it read instead of skipped when
  // `read_above`. A band with neither columns nor an entry is the file from
  // its start, through `header` when given (the reader's header decoder,
  // reused; not across threads), else a decoder of its own.
  void decode_band(const BandSource& band, Box region, const DecodePlan& plan, const RowTarget& rows,
                   const ReadOptions& o, bool read_above = false, Decompressor* header = nullptr) const {
    const std::uint64_t max_memory = request_.limits().max_bytes;
    std::optional<Decompressor> own;
    // A band of the entropy index is cut here, by the thread decoding it; a
    // row's first DC difference without a code (rare) leaves it to the
    // file from its start.
    const std::optional<ColumnEntry> index_cut = band.index_band ? index_->cut(*band.index_band) : std::nullopt;
    const std::optional<ColumnEntry>& columns = band.columns ? band.columns : index_cut;
    if (columns) {
      // The band starts on whole MCUs (multiples of 8 full-size pixels) and
      // libjpeg scales each block by 1/n (n ≤ 8): its origin is a whole
      // number of scaled pixels.
      own.emplace(columns->stream.data(), columns->stream.size(), max_memory);
      region.left -= columns->left / o.scale;
      region.right -= columns->left / o.scale;
      region.top -= columns->top / o.scale;
      region.bottom -= columns->top / o.scale;
    } else if (band.entry) {
      const std::vector<unsigned char>& head = band.entry->head;
      const std::span<const std::byte> tail = band.entry->tail;
      own.emplace(std::span<const unsigned char>(head.data(), head.size()),
                  std::span<const unsigned char>(reinterpret_cast<const unsigned char*>(tail.data()), tail.size()),
                  max_memory, band.entry->first_restart);
      region.top -= band.entry->rows / o.scale;
      region.bottom -= band.entry->rows / o.scale;
    } else if (header == nullptr) {
      own.emplace(reinterpret_cast<const unsigned char*>(data_.data()), data_.size(), max_memory);
    }
    Decompressor& d = own ? *own : *header;
    d.set_strict(o.strict);
    if (own) d.read_header(/*repeat=*/true);
    d.configure(plan.out_space, o.scale);
    d.start();
    if (region.right - region.left == d.info().output_width && region.bottom - region.top == d.info().output_height) {
      read_whole(d, plan, rows, region.right - region.left);
    } else {
      read_region(d, plan, region, rows, read_above);
    }
  }

  static unsigned char* row_of(const RowTarget& rows, std::size_t y) {
    return reinterpret_cast<unsigned char*>(rows.row(y));
  }

  // The offset just after the SOS segment of the header `info` read from
  // data_, with the scan's RST markers (found once per reader, on the first
  // cropped read).
  std::size_t scan_restarts(const jpeg_decompress_struct& info) {
    const std::size_t scan_start = scan_start_of(info);
    if (!restarts_) restarts_ = restart_offsets(data_, scan_start);
    return scan_start;
  }

  // The offset just after the SOS segment of the header `info` read from data_.
  std::size_t scan_start_of(const jpeg_decompress_struct& info) const {
    const auto* begin = reinterpret_cast<const unsigned char*>(data_.data());
    return static_cast<std::size_t>(info.src->next_input_byte - begin);
  }

  // Whether the single sequential scan of `info` has restart markers lost,
  // extra or out of order (check_restart_markers). Progressive and
  // multi-scan files are entropy-decoded whole before any row, skipped or not.
  bool markers_damaged(const jpeg_decompress_struct& info) {
    if (info.restart_interval == 0 || info.progressive_mode || info.comps_in_scan != info.num_components) return false;
    scan_restarts(info);
    const RestartMarkers m = check_restart_markers(info, data_, *restarts_);
    return !m.all_there || !m.in_order;
  }

  // The restart entry for full-size row `top`.
  std::optional<RestartEntry> restart_entry_above(const jpeg_decompress_struct& info, std::uint64_t top) {
    if (info.restart_interval == 0 || info.progressive_mode) return std::nullopt;
    const std::size_t scan_start = scan_restarts(info);
    return restart_entry(info, data_, scan_start, *restarts_, top);
  }

  // The MCUs around `region` (the stored image's pixels at scale
  // 1/`scale`) as a smaller JPEG: the column bands of its restart intervals
  // (jpeg_restart_columns.hpp), or for a scan without restart markers, the
  // MCUs the reader's entropy index finds (jpeg_entropy_index.hpp), when
  // consider_index built it.
  //
  // The index serves a reader's first crop when the scan's data above the
  // box (in proportion to its rows) reach kIndexFirstCropAbove: its walk
  // beats libjpeg's skipping of those rows (about 0.5× its time on one
  // thread, 0.3× on two), but it first copies the whole scan without its
  // stuffed bytes and the band is decoded a second time. Single crops of a
  // box of a quarter of each side, centred across, at the box tops shown
  // (in ms: libjpeg's crop, the index with two threads, with one):
  //
  //   512×384 (52 KB):  top 0: 0.24, 0.32, 0.30;  96: 0.38, 0.43, 0.39;
  //                     288: 0.61, 0.50, 0.51
  //   1024×768 (191 KB): 0: 0.68, 0.71, 0.67;  96: 0.94, 0.93, 0.86;
  //                     192: 1.20, 1.08, 1.06;  576: 2.21, 1.42, 1.46
  //   2048×1536 (665 KB): 0: 1.96, 1.76, 1.74;  96: 2.47, 2.10, 2.07
  //   4096×3072 (1.8 MB): 0: 5.98, 4.40, 5.48;  192: 7.48, 5.01, 6.35;
  //                     2304: 18.64, 8.24, 11.33
  //
  // (a 256×192 box of the 4096×3072 one at its top: 1.03, 1.03, 1.00 ms).
  // A reader's second crop builds the index whatever the box: a viewer's
  // handle pays for the walk once.
  std::optional<ColumnEntry> columns_around(const jpeg_decompress_struct& info, const Box& region, unsigned scale,
                                            unsigned workers) {
    if (info.progressive_mode || info.arith_code) return std::nullopt;
    const Box full = full_size(region, scale);
    if (info.restart_interval != 0) {
      const std::size_t scan_start = scan_restarts(info);
      return restart_columns(info, data_, scan_start, *restarts_, full);
    }
    return index_ ? index_->columns(full, {.workers = workers}) : std::nullopt;
  }

  // As columns_around, into `source`: for the entropy index (which only
  // sequential Huffman scans have) only the band, walked but not yet cut,
  // which the thread decoding it cuts.
  void band_around(const jpeg_decompress_struct& info, const Box& region, unsigned scale, unsigned workers,
                   BandSource& source) {
    if (info.restart_interval != 0 || !index_) {
      source.columns = columns_around(info, region, scale, workers);
      return;
    }
    source.index_band = index_->band(full_size(region, scale), {.workers = workers});
  }

  // `region` (pixels at scale 1/`scale`) in full-size pixels of the stored image.
  Box full_size(const Box& region, unsigned scale) const {
    return {region.left * scale, region.top * scale, std::min<std::uint64_t>(region.right * scale, header_.width),
            std::min<std::uint64_t>(region.bottom * scale, header_.height)};
  }

  // Builds the entropy index for a crop of `region` (as columns_around)
  // when it pays off (see there); once per reader.
  void consider_index(const jpeg_decompress_struct& info, const Box& region, unsigned scale) {
    if (index_tried_ || info.progressive_mode || info.arith_code || info.restart_interval != 0) return;
    // A small scan is decoded by libjpeg in less time than the index takes
    // to build its tables and cut a band: three crops of 1/16 of the image
    // on one handle took 298 µs with the index and 142 µs without for 4 KB
    // of data, 377 and 393 µs for 15 KB, 804 and 1299 µs for 52 KB.
    const std::size_t scan_start = scan_start_of(info);
    const std::size_t scan_bytes = data_.size() - scan_start;
    if (scan_bytes < kSmallestIndexedScan) return;
    const bool first_pays = static_cast<double>(scan_bytes) * region.top * scale / header_.height >= kIndexFirstCropAbove;
    if (++crops_ >= 2 || first_pays) {
      index_tried_ = true;  // a file the index does not serve is not looked at again
      index_ = EntropyIndex::create(info, data_, scan_start);
    }
  }

  // A large image straight into the result, all rows in one libjpeg loop; a
  // small one, or one that needs a conversion, through RowScratch's rows
  // (jpeg_rows.hpp: aligned rows of a small image are written slowly).
  // The rows may be the caller's, at any stride (RowTarget): libjpeg takes
  // one pointer per row, so a gap or a negative stride costs nothing.
  static void read_whole(Decompressor& d, const DecodePlan& plan, const RowTarget& out, std::size_t width) {
    const std::size_t height = out.rows();
    const std::size_t row_bytes = out.row_bytes();
    if (plan.convert == nullptr && row_bytes * height > kScratchDecodeLimit) {
      std::vector<unsigned char*> rows(height);
      for (std::size_t y = 0; y < height; ++y) rows[y] = row_of(out, y);
      d.read_all_rows(rows.data());
      return;
    }
    constexpr unsigned kRows = RowScratch::kMaxRows;
    RowScratch scratch(kRows, width * static_cast<std::size_t>(plan.decoded_channels));
    unsigned char** ptrs = scratch.rows();
    std::size_t y = 0;
    while (y < height) {
      const unsigned want = static_cast<unsigned>(std::min<std::size_t>(kRows, height - y));
      const unsigned got = d.read_rows(ptrs, want);
      if (plan.convert == nullptr && scratch.contiguous() && out.contiguous()) {
        std::memcpy(row_of(out, y), ptrs[0], got * row_bytes);  // one copy for the block
      } else {
        for (unsigned i = 0; i < got; ++i) {
          unsigned char* row = row_of(out, y + i);
          if (plan.convert == nullptr) {
            std::memcpy(row, ptrs[i], row_bytes);
          } else {
            plan.convert(ptrs[i], row, width);
          }
        }
      }
      y += got;
    }
  }

  // Only the region: libjpeg decodes the columns of the iMCUs it touches
  // (jpeg_crop_scanline) and entropy-decodes the rows above it without the
  // inverse DCT (jpeg_skip_scanlines); rows below it are not decoded.
  // libjpeg.txt ("Partial image decompression"): fancy 4:2:0 and 4:2:2
  // upsampling treats the cropped columns' outer edges as the image's, so
  // their outermost pixels may differ from a full decode; the columns asked
  // are one pixel wider on each side than the region, so that those pixels
  // are never returned (except at the image's own edges, where they are right).
  // Files whose MCU holds more than four luma blocks (4:1:0, 2×4 sampling)
  // decoded with scale 1/2 or 1/4 came out different inside the cropped
  // columns too (libjpeg-turbo 2.1.5, libjpeg-turbo's seed images): they
  // decode whole rows, and only the box is kept.
  static void read_region(Decompressor& d, const DecodePlan& plan, const Box& region, const RowTarget& out,
                          bool read_above) {
    const std::size_t row_bytes = out.row_bytes();
    const auto full_width = static_cast<unsigned>(d.info().output_width);
    const auto left = static_cast<unsigned>(region.left), right = static_cast<unsigned>(region.right);
    unsigned xoffset = left > 0 ? left - 1 : 0;
    unsigned cropped = std::min(full_width, right + 1) - xoffset;
    const bool columns = d.info().max_h_samp_factor * d.info().max_v_samp_factor <= 4;
    if (!columns) {
      xoffset = 0;
      cropped = full_width;
    } else if (xoffset > 0 || cropped < full_width) {
      // Columns that fit in the image's first iMCU column alone came out
      // different at column 0 with fancy 4:2:0 upsampling (libjpeg-turbo
      // 2.1.5, a 256-pixel-wide image: blue off by 2 in some rows); two
      // iMCU columns decode right, so the first one is never asked alone.
      const jpeg_decompress_struct& info = d.info();
      const bool single = info.num_components == 1 && info.comps_in_scan == 1;
      const unsigned imcu = (single ? 1u : static_cast<unsigned>(info.max_h_samp_factor)) * 8u / info.scale_denom;
      if (xoffset < imcu && xoffset + cropped <= imcu && imcu < full_width) cropped = std::min(full_width, imcu + 1) - xoffset;
      d.crop_columns(&xoffset, &cropped);
    }
    const std::size_t width = right - left;
    const std::size_t skip = left - xoffset;  // columns libjpeg decodes left of the region
    constexpr unsigned kRows = RowScratch::kMaxRows;
    const std::size_t pixel = static_cast<std::size_t>(plan.decoded_channels);
    RowScratch scratch(kRows, static_cast<std::size_t>(cropped) * pixel);
    unsigned char** ptrs = scratch.rows();
    if (read_above) {
      for (std::size_t above = region.top; above > 0;) {
        const unsigned got = d.read_rows(ptrs, static_cast<unsigned>(std::min<std::size_t>(kRows, above)));
        if (got == 0) break;
        above -= got;
      }
    } else if (region.top > 0) {
      d.skip_rows(static_cast<unsigned>(region.top));
    }
    const std::size_t height = region.bottom - region.top;
    std::size_t y = 0;
    while (y < height) {
      const unsigned want = static_cast<unsigned>(std::min<std::size_t>(kRows, height - y));
      const unsigned got = d.read_rows(ptrs, want);
      for (unsigned i = 0; i < got; ++i) {
        const unsigned char* in = ptrs[i] + skip * pixel;
        unsigned char* row = row_of(out, y + i);
        if (plan.convert == nullptr) {
          std::memcpy(row, in, row_bytes);
        } else {
          plan.convert(in, row, width);
        }
      }
      y += got;
    }
  }

  Request& request_;
  Bytes owned_;
  std::span<const std::byte> data_;
  ImageHeader header_;
  std::optional<HeaderInfo> described_;  // header_info(), when metadata was asked
  int orientation_ = 0;
  std::optional<std::vector<std::size_t>> restarts_;  // restart_offsets of the scan, when needed
  std::optional<bool> ends_before_eoi_;               // ends_before_eoi(data_), when a strict read asked
  std::optional<EntropyIndex> index_;                 // the scan's MCU index (no restart markers), see columns_around
  unsigned crops_ = 0;                                 // crops of a scan without restart markers before the index
  bool index_tried_ = false;
  std::optional<ReusedDecompressor> header_read_;      // the constructor's, until the first decode
};

// ---------------------------------------------------------------- writing

struct WriteOptions {
  int quality = 75;
  bool optimize = false;
  bool progressive = false;
  int subsampling = -1;  // -1: libjpeg's default (4:2:0), as Pillow
  std::optional<std::pair<int, int>> dpi;
  Bytes icc_profile;
  Bytes exif;     // the APP1 segment's payload ("Exif\0\0" and the block)
  std::vector<Bytes> xmp;  // the APP1 XMP segments' payloads
  Bytes iptc;     // the APP13 segment's payload
  Bytes comment;
  std::string mode;
  int restart_blocks = 0;  // Pillow ≥ 10.2's restart_marker_blocks: MCUs per restart interval
  int restart_rows = 0;    // restart_marker_rows: MCU rows per restart interval
};

// The payload of one JPEG marker segment (its 16-bit length counts itself).
constexpr std::size_t kSegment = 65533;
constexpr char kPhotoshopPrefix[] = "Photoshop 3.0";             // with its NUL: 14 bytes

// plugin.json: bytes or a string.
Bytes bytes_value(const Value& v) {
  if (v.is<Bytes>()) return v.get<Bytes>();
  const std::string& s = v.ref<std::string>();
  Bytes b(s.size());
  if (!s.empty()) std::memcpy(b.data(), s.data(), s.size());  // an empty vector may have no buffer
  return b;
}

WriteOptions take_write_options(const Kwargs& kwargs) {
  KwargReader kw(kwargs, kPlugin, "write");
  WriteOptions o;
  o.quality = kw.get<int>("quality");  // plugin.json: 0…100
  o.optimize = kw.get<bool>("optimize");
  o.progressive = kw.get<bool>("progressive");
  o.restart_blocks = kw.get<int>("restart_marker_blocks");  // plugin.json: 0…65535
  o.restart_rows = kw.get<int>("restart_marker_rows");
  if (const Value* v = kw.find("subsampling"); v != nullptr && !v->is_none()) {
    if (v->is<std::string>()) {
      const std::string s = v->get<std::string>();
      if (s == "4:4:4") o.subsampling = 0;
      else if (s == "4:2:2") o.subsampling = 1;
      else if (s == "4:2:0") o.subsampling = 2;
      else kw.fail("subsampling", fmt::format("'{}' is not one of \"4:4:4\", \"4:2:2\", \"4:2:0\"", s));
    } else {
      const auto s = v->get<std::int64_t>();
      if (s < -1 || s > 2) kw.fail("subsampling", "must be 0 (4:4:4), 1 (4:2:2), 2 (4:2:0) or -1 (default)");
      o.subsampling = static_cast<int>(s);
    }
  }
  if (const Value* v = kw.find("dpi"); v != nullptr && !v->is_none()) {
    if (!v->is<Value::List>() || v->get<Value::List>().size() != 2) kw.fail("dpi", "must be a pair (x, y)");
    const auto& l = v->get<Value::List>();
    double xy[2];
    for (int i = 0; i < 2; ++i) {
      if (!l[i].is<double>() && !l[i].is<std::int64_t>()) kw.fail("dpi", "must be a pair of numbers");
      xy[i] = std::round(l[i].get<double>());
      if (!(xy[i] >= 0 && xy[i] <= 65535)) kw.fail("dpi", "each value must be 0…65535");
    }
    o.dpi = std::pair{static_cast<int>(xy[0]), static_cast<int>(xy[1])};
  }
  if (auto icc = take_icc_kwarg(kw)) o.icc_profile = std::move(*icc);
  // One rule for the orientation (<imio/metadata_write.hpp>): the kwarg wins
  // and is written into the EXIF's IFD0; else the EXIF's own stays.
  std::optional<Bytes> exif = take_exif_kwarg(kw);
  reconcile_orientation(exif, kw.take<int>("orientation"));
  if (exif) {
    // The APP1 identifier (EXIF 2.32 §4.7.2) before the TIFF-structured block.
    static constexpr char kPrefix[] = "Exif\0\0";
    o.exif.assign(reinterpret_cast<const std::byte*>(kPrefix), reinterpret_cast<const std::byte*>(kPrefix) + 6);
    o.exif.insert(o.exif.end(), exif->begin(), exif->end());
    if (o.exif.size() > kSegment) {
      kw.fail("exif", fmt::format("the EXIF block is {} bytes; a JPEG APP1 segment holds {} with its 6-byte prefix",
                                  exif->size(), kSegment - 6));
    }
  }
  std::optional<Bytes> xmp = take_xmp_kwarg(kw), xmp_extended = take_xmp_kwarg(kw, "xmp_extended");
  if (xmp_extended && !xmp) kw.fail("xmp_extended", "needs `xmp`: the standard packet that names the extension");
  if (xmp) {
    // XMP Part 3 §1.1.3: one APP1 segment, or a standard one naming the
    // extension and extension segments for a larger packet (or for the
    // extension given, as immeta's `xmp_extended` gives it).
    try {
      o.xmp = xmp_extended ? xmp_jpeg_segments(*xmp, *xmp_extended) : xmp_jpeg_segments(*xmp);
    } catch (const ArgumentError& e) {
      kw.fail(xmp_extended ? "xmp_extended" : "xmp", e.reason());
    }
  }
  if (auto iptc = take_iptc_kwarg(kw)) {
    // APP13: "Photoshop 3.0\0", then image resources; IPTC IIM is resource 0x0404.
    const Bytes resource = photoshop_resource_block(0x0404, *iptc);
    o.iptc.assign(reinterpret_cast<const std::byte*>(kPhotoshopPrefix),
                  reinterpret_cast<const std::byte*>(kPhotoshopPrefix) + sizeof kPhotoshopPrefix);
    o.iptc.insert(o.iptc.end(), resource.begin(), resource.end());
    if (o.iptc.size() > kSegment) {
      kw.fail("iptc", fmt::format("the IPTC block is {} bytes; a JPEG APP13 segment holds {}", iptc->size(),
                                  kSegment - sizeof kPhotoshopPrefix - 12));
    }
  }
  if (const Value* v = kw.find("comment"); v != nullptr && !v->is_none()) {
    o.comment = bytes_value(*v);
    if (o.comment.size() > 65533) kw.fail("comment", "is too long (a JPEG segment holds 65533 bytes)");
  }
  if (auto mode = kw.take<std::string>("mode")) o.mode = std::move(*mode);
  kw.find("is_batch");  // a batch of more than one image is refused anyway (D8)
  kw.finish();
  return o;
}

class JpegWriter final : public Plugin {
 public:
  explicit JpegWriter(Request& request) : request_(request) {}

  void write(const NDArray& image, const Kwargs& kwargs) override {
    const WriteOptions o = take_write_options(kwargs);
    encode(single_image(image, o), o);
  }

  void write(std::span<const NDArray> images, const Kwargs& kwargs) override {
    const WriteOptions o = take_write_options(kwargs);
    if (images.size() != 1) {
      throw ArgumentError(fmt::format("JPEG holds one image; cannot write {} images", images.size()));
    }
    encode(single_image(images.front(), o), o);
  }


 private:
  struct Layout {
    const NDArray* image;
    std::size_t height, width;
    int channels;
    J_COLOR_SPACE space;
  };

  // Everything is checked here, before the target is touched (D8).
  Layout single_image(const NDArray& image, const WriteOptions& o) const {
    if (written_) throw ArgumentError("a JPEG file holds one image and it was already written");
    if (image.bytes() == nullptr && image.size() != 0) throw ArgumentError("cannot write an empty NDArray");
    Shape shape = image.shape();
    // A batch of one image (N=1 on a 4-D array, or a 3-D gray batch) is that image.
    if (shape.size() == 4 || (shape.size() == 3 && (shape[2] < 1 || shape[2] > 4))) {
      if (shape[0] != 1) {
        throw ArgumentError(fmt::format("JPEG holds one image; cannot write a batch of {} images", shape[0]));
      }
      shape.erase(shape.begin());
    }
    if (shape.size() == 3 && shape[2] == 1) {
      throw ArgumentError("images with a single explicit colour channel (H, W, 1) cannot be written; pass (H, W)");
    }
    if (image.dtype() != DType::uint8) {
      throw ArgumentError(fmt::format("JPEG stores uint8 samples; cannot write {} data", name(image.dtype())));
    }
    std::string mode = o.mode;
    int channels = 0;
    if (shape.size() == 2) {
      channels = 1;
    } else if (shape.size() == 3) {
      channels = static_cast<int>(shape[2]);
    } else {
      throw ArgumentError(fmt::format("cannot write an array of {} dimensions as a JPEG image", shape.size()));
    }
    if (mode.empty()) {
      switch (channels) {
        case 1: mode = "L"; break;
        case 3: mode = "RGB"; break;
        case 4: mode = "RGBA"; break;
        case 2: mode = "LA"; break;
        default:
          throw ArgumentError("images with a single explicit colour channel (H, W, 1) cannot be written; pass (H, W)");
      }
    }
    if (mode == "RGBA" || mode == "LA") {
      throw ArgumentError(fmt::format("cannot write mode {} as JPEG (JPEG has no alpha channel)", mode));
    }
    const int want = mode == "L" ? 1 : mode == "RGB" ? 3 : mode == "CMYK" ? 4 : 0;
    if (want == 0) throw ArgumentError(fmt::format("cannot write mode {} as JPEG (L, RGB or CMYK)", mode));
    if (want != channels) {
      throw ArgumentError(fmt::format("mode {} needs {} channel(s), the array has shape ({})", mode, want,
                                      fmt::join(image.shape(), ", ")));
    }
    if (shape[0] == 0 || shape[1] == 0 || shape[0] > JPEG_MAX_DIMENSION || shape[1] > JPEG_MAX_DIMENSION) {
      throw ArgumentError(fmt::format("JPEG images are 1…{} pixels on a side; got {}×{}", JPEG_MAX_DIMENSION, shape[1],
                                      shape[0]));
    }
    const J_COLOR_SPACE space = channels == 1 ? JCS_GRAYSCALE : channels == 3 ? JCS_RGB : JCS_CMYK;
    return {&image, shape[0], shape[1], channels, space};
  }

  static void sink_write(void* context, const unsigned char* data, std::size_t n) {
    static_cast<ByteSink*>(context)->write(data, n);
  }

  void encode(const Layout& l, const WriteOptions& o) {
    written_ = true;
    Compressor c(&JpegWriter::sink_write, &request_.sink());
    jpeg_compress_struct* ci = &c.info();
    const auto width = static_cast<JDIMENSION>(l.width);
    const auto height = static_cast<JDIMENSION>(l.height);
    const int channels = l.channels;
    const J_COLOR_SPACE space = l.space;
    const int quality = o.quality;
    c.run([ci, width, height, channels, space, quality] {
      ci->image_width = width;
      ci->image_height = height;
      ci->input_components = channels;
      ci->in_color_space = space;
      jpeg_set_defaults(ci);
      jpeg_set_quality(ci, quality, TRUE);
    });
    // Pillow leaves libjpeg's JFIF defaults (unit 0, density 1:1) unless dpi is given.
    if (o.dpi) {
      ci->density_unit = 1;
      ci->X_density = static_cast<UINT16>(o.dpi->first);
      ci->Y_density = static_cast<UINT16>(o.dpi->second);
    }
    ci->optimize_coding = o.optimize ? TRUE : FALSE;
    ci->restart_interval = static_cast<unsigned>(o.restart_blocks);
    ci->restart_in_rows = o.restart_rows;
    if (channels == 3 && o.subsampling >= 0) {
      static constexpr int kFactors[3][2] = {{1, 1}, {2, 1}, {2, 2}};
      ci->comp_info[0].h_samp_factor = kFactors[o.subsampling][0];
      ci->comp_info[0].v_samp_factor = kFactors[o.subsampling][1];
      for (int i = 1; i < 3; ++i) ci->comp_info[i].h_samp_factor = ci->comp_info[i].v_samp_factor = 1;
    }
    if (o.progressive) c.run([ci] { jpeg_simple_progression(ci); });
    c.run([ci] { jpeg_start_compress(ci, TRUE); });
    write_marker(c, JPEG_APP0 + 1, o.exif);
    for (const Bytes& segment : o.xmp) write_marker(c, JPEG_APP0 + 1, segment);
    write_icc(c, o.icc_profile);
    write_marker(c, JPEG_APP0 + 13, o.iptc);
    write_marker(c, JPEG_COM, o.comment);

    const auto* base = reinterpret_cast<const unsigned char*>(l.image->bytes());
    const std::size_t row_bytes = l.width * static_cast<std::size_t>(channels);
    if (space == JCS_CMYK) {
      // Pillow writes CMYK inverted (Adobe's convention), with libjpeg's Adobe marker.
      std::vector<unsigned char> row(row_bytes);
      unsigned char* rp = row.data();
      for (std::size_t y = 0; y < l.height; ++y) {
        const unsigned char* src = base + y * row_bytes;
        for (std::size_t i = 0; i < row_bytes; ++i) row[i] = static_cast<unsigned char>(255 - src[i]);
        c.run([ci, rp] {
          JSAMPROW r = rp;
          jpeg_write_scanlines(ci, &r, 1);
        });
      }
    } else {
      std::vector<JSAMPROW> rows(l.height);
      for (std::size_t y = 0; y < l.height; ++y) rows[y] = const_cast<unsigned char*>(base + y * row_bytes);
      JSAMPROW* r = rows.data();
      c.run([ci, r] {
        while (ci->next_scanline < ci->image_height) {
          jpeg_write_scanlines(ci, r + ci->next_scanline, ci->image_height - ci->next_scanline);
        }
      });
    }
    c.run([ci] { jpeg_finish_compress(ci); });
  }

  static void write_marker(Compressor& c, int marker, const Bytes& data) {
    if (data.empty()) return;
    jpeg_compress_struct* ci = &c.info();
    const auto* p = reinterpret_cast<const JOCTET*>(data.data());
    const auto n = static_cast<unsigned>(data.size());
    c.run([ci, marker, p, n] { jpeg_write_marker(ci, marker, p, n); });
  }

  // ICC profiles larger than a segment are split into numbered APP2 chunks.
  static void write_icc(Compressor& c, const Bytes& icc) {
    if (icc.empty()) return;
    constexpr std::size_t kChunk = 65519;  // 65533 - 14 bytes of chunk header
    const std::size_t count = (icc.size() + kChunk - 1) / kChunk;
    if (count > 255) throw ArgumentError("icc_profile is too large for JPEG (more than 255 APP2 segments)");
    for (std::size_t i = 0; i < count; ++i) {
      const std::size_t n = std::min(kChunk, icc.size() - i * kChunk);
      Bytes chunk(14 + n);
      std::memcpy(chunk.data(), "ICC_PROFILE", 12);
      chunk[12] = static_cast<std::byte>(i + 1);
      chunk[13] = static_cast<std::byte>(count);
      std::memcpy(chunk.data() + 14, icc.data() + i * kChunk, n);
      write_marker(c, JPEG_APP0 + 2, chunk);
    }
  }

  Request& request_;
  bool written_ = false;
};

// ---------------------------------------------------------------- the factory

std::unique_ptr<Plugin> open_jpeg(Request& request, const Kwargs& kwargs) {
  KwargReader(kwargs, kPlugin, "open").finish();
  if (request.mode() == IoMode::write) return std::make_unique<JpegWriter>(request);  // the extension: plugin.json
  if (!has_signature(request.first_bytes(3))) {
    throw InitializationError("not a JPEG file (it does not start with FF D8 FF)");
  }
  // The signature is JPEG's: from here a broken header is a DecodeError (D4).
  return std::make_unique<JpegReader>(request);
}

}  // namespace
}  // namespace libjpeg

namespace builtin {

PluginSpec libjpeg_plugin_spec() {
  PluginSpec spec;
  // What libjpeg is (name, aliases, extensions, kwargs) is its plugin.json; here, what it does.
  spec.sniff = libjpeg::has_signature;
  spec.sniff_bytes = 3;
  spec.factory = libjpeg::open_jpeg;
  spec.backend = fmt::format("{} (libjpeg API {})", libjpeg::library_name(), JPEG_LIB_VERSION);
  return spec;
}

}  // namespace builtin
}  // namespace imio
