// The fits plugin: FITS images through cfitsio, read as imageio's FITS
// plugin (astropy.io.fits) reads them: every image HDU with data is one
// image, BZERO/BSCALE/BLANK applied as astropy applies them by default, the
// header as metadata; images written with a header.
//
// cfitsio keeps process-wide state (its error-message stack, and internal
// tables unless built reentrant): every call into it holds one mutex, and
// every failure's messages are taken off the stack into the exception.
#include <imio/checked_math.hpp>
#include <imio/plugin.hpp>
#include <imio/single_image.hpp>

#include <fitsio.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace imio {
namespace fits {
namespace {

constexpr std::string_view kPlugin = "fits";
constexpr int kMaxAxes = 16;

std::mutex& cfitsio_mutex() {
  static std::mutex m;
  return m;
}

// The error's text: cfitsio's status text and the messages it stacked,
// which are removed from its (process-wide) stack.
std::string take_messages(int status) {
  char text[FLEN_STATUS] = {0};
  fits_get_errstatus(status, text);
  std::string out = text;
  char msg[FLEN_ERRMSG] = {0};
  std::string detail;
  while (fits_read_errmsg(msg) != 0) {
    if (detail.empty()) detail = msg;  // the first is the most specific
  }
  fits_clear_errmsg();
  if (!detail.empty() && detail != out) out += " (" + detail + ")";
  return out;
}

[[noreturn]] void fail(int status, std::string_view what) {
  throw DecodeError(fmt::format("cfitsio: {}: {}", what, take_messages(status)));
}

void check(int status, std::string_view what) {
  if (status != 0) fail(status, what);
}

// ---------------------------------------------------------------- header cards

// A card's value string as astropy gives it: str (quotes removed, '' → '),
// bool, int, float, or None (no value).
Value card_value(const std::string& raw) {
  std::string v = raw;
  while (!v.empty() && v.back() == ' ') v.pop_back();
  std::size_t start = v.find_first_not_of(' ');
  if (start == std::string::npos) return Value();
  v = v.substr(start);
  if (v.front() == '\'') {
    std::string s;
    for (std::size_t i = 1; i < v.size(); ++i) {
      if (v[i] == '\'') {
        if (i + 1 < v.size() && v[i + 1] == '\'') {
          s += '\'';
          ++i;
          continue;
        }
        break;
      }
      s += v[i];
    }
    while (!s.empty() && s.back() == ' ') s.pop_back();  // FITS: trailing blanks are not significant
    return Value(std::move(s));
  }
  if (v == "T") return Value(true);
  if (v == "F") return Value(false);
  char* end = nullptr;
  errno = 0;
  const long long i = std::strtoll(v.c_str(), &end, 10);
  if (end != nullptr && *end == '\0' && errno == 0) return Value(static_cast<std::int64_t>(i));
  std::string f = v;
  std::replace(f.begin(), f.end(), 'D', 'E');
  std::replace(f.begin(), f.end(), 'd', 'e');
  const double d = std::strtod(f.c_str(), &end);
  if (end != nullptr && *end == '\0') return Value(d);
  return Value(v);  // complex and other forms: the text
}

// ---------------------------------------------------------------- one image HDU

struct ImageHdu {
  int number = 0;  // cfitsio's 1-based HDU number
  int bitpix = 0;  // as stored (ZBITPIX for a compressed image)
  Shape shape;     // numpy order: NAXISn … NAXIS1
  double bzero = 0;
  double bscale = 1;
  std::optional<std::int64_t> blank;
  bool compressed = false;
};

struct Options {
  bool uint = true;
  bool do_not_scale = false;
  bool ignore_blank = false;
};

// What astropy's ImageHDU.data is for these options: the dtype and how to
// get there from the stored values.
enum class Conversion { none, unsigned_offset, signed_byte, scaled };

struct Plan {
  DType dtype = DType::uint8;
  DType stored = DType::uint8;
  Conversion conversion = Conversion::none;
};

DType stored_dtype(int bitpix) {
  switch (bitpix) {
    case 8: return DType::uint8;
    case 16: return DType::int16;
    case 32: return DType::int32;
    case 64: return DType::int64;
    case -32: return DType::float32;
    case -64: return DType::float64;
    default: throw DecodeError(fmt::format("BITPIX {} is not a FITS data type", bitpix));
  }
}

Plan plan_for(const ImageHdu& h, const Options& o) {
  Plan p;
  p.stored = stored_dtype(h.bitpix);
  p.dtype = p.stored;
  if (o.do_not_scale) return p;
  const std::optional<std::int64_t> blank = o.ignore_blank || h.bitpix < 0 ? std::nullopt : h.blank;
  const bool unscaled = h.bzero == 0 && h.bscale == 1;
  if (unscaled && !blank) return p;
  if (!unscaled && h.bitpix > 0 && h.bscale == 1) {
    // astropy's pseudo-unsigned integers (uint=True) and signed bytes
    if (o.uint && h.bitpix > 8 && h.bzero == std::ldexp(1.0, h.bitpix - 1)) {
      p.dtype = h.bitpix == 16 ? DType::uint16 : h.bitpix == 32 ? DType::uint32 : DType::uint64;
      p.conversion = Conversion::unsigned_offset;
      return p;
    }
    if (h.bitpix == 8 && h.bzero == -128) {
      p.dtype = DType::int8;
      p.conversion = Conversion::signed_byte;
      return p;
    }
  }
  // the rest is floating point: float32 up to 16 bits, float64 beyond;
  // float data keep their type
  p.dtype = h.bitpix < 0 ? p.stored : h.bitpix > 16 ? DType::float64 : DType::float32;
  p.conversion = Conversion::scaled;
  return p;
}

int cfitsio_type(DType d) {
  switch (d) {
    case DType::uint8: return TBYTE;
    case DType::int16: return TSHORT;
    case DType::int32: return TINT;
    case DType::int64: return TLONGLONG;
    case DType::float32: return TFLOAT;
    case DType::float64: return TDOUBLE;
    default: return 0;
  }
}

template <class Raw, class Out>
void scale_into(const Raw* raw, Out* out, std::size_t n, Out scale, Out zero, bool has_blank, std::int64_t blank_value) {
  for (std::size_t i = 0; i < n; ++i) {
    if constexpr (std::is_integral_v<Raw>) {
      if (has_blank && static_cast<std::int64_t>(raw[i]) == blank_value) {
        out[i] = std::numeric_limits<Out>::quiet_NaN();
        continue;
      }
    }
    Out v = static_cast<Out>(raw[i]);
    if (scale != Out(1)) v = v * scale;
    if (zero != Out(0)) v = v + zero;
    out[i] = v;
  }
}

template <class Out>
void scale_from(DType stored, const std::byte* raw, Out* out, std::size_t n, const ImageHdu& h, bool has_blank,
                std::int64_t blank) {
  const auto s = static_cast<Out>(h.bscale);
  const auto z = static_cast<Out>(h.bzero);
  switch (stored) {
    case DType::uint8: scale_into(reinterpret_cast<const std::uint8_t*>(raw), out, n, s, z, has_blank, blank); break;
    case DType::int16: scale_into(reinterpret_cast<const std::int16_t*>(raw), out, n, s, z, has_blank, blank); break;
    case DType::int32: scale_into(reinterpret_cast<const std::int32_t*>(raw), out, n, s, z, has_blank, blank); break;
    case DType::int64: scale_into(reinterpret_cast<const std::int64_t*>(raw), out, n, s, z, has_blank, blank); break;
    case DType::float32: scale_into(reinterpret_cast<const float*>(raw), out, n, s, z, has_blank, blank); break;
    case DType::float64: scale_into(reinterpret_cast<const double*>(raw), out, n, s, z, has_blank, blank); break;
    default: break;
  }
}

// ---------------------------------------------------------------- reading

Options read_options(KwargReader& kw) {
  Options o;
  o.uint = kw.get<bool>("uint");
  o.do_not_scale = kw.get<bool>("do_not_scale_image_data");
  o.ignore_blank = kw.get<bool>("ignore_blank");
  (void)kw.get<bool>("cache");  // accepted as imageio accepts it: the file is read once anyway
  return o;
}

class FitsReader final : public Plugin {
 public:
  explicit FitsReader(Request& request) : request_(request) {
    ByteSource& src = request.source();
    if (const auto view = src.contiguous()) {
      data_ = *view;
    } else {
      owned_ = src.read_all(request.limits().max_bytes);
      data_ = owned_;
    }
    std::lock_guard lock(cfitsio_mutex());
    int status = 0;
    // cfitsio keeps the addresses of the pointer and the size (members, so
    // they live as long as the file); READONLY: it does not write to the data
    mem_ = const_cast<std::byte*>(data_.data());
    mem_size_ = data_.size();
    fitsfile* f = nullptr;
    if (fits_open_memfile(&f, "imio.fits", READONLY, &mem_, &mem_size_, 0, nullptr, &status) != 0) {
      if (f != nullptr) {
        int ignored = 0;
        fits_close_file(f, &ignored);
      }
      fail(status, "cannot open the FITS data");
    }
    file_ = f;
    try {
      scan();
    } catch (...) {
      close_locked();
      throw;
    }
  }

  ~FitsReader() override {
    std::lock_guard lock(cfitsio_mutex());
    close_locked();
  }
  FitsReader(const FitsReader&) = delete;
  FitsReader& operator=(const FitsReader&) = delete;

  NDArray read(const Index& index, const Kwargs& kwargs) override {
    KwargReader kw(kwargs, kPlugin, "read");
    const Options o = read_options(kw);
    if (!index.is_all()) return read_hdu(hdu_of(index), o);
    const auto [shape, dtype] = stack_shape(o);
    NDArray out = request_.allocate(shape, dtype);
    std::size_t at = 0;
    for (const ImageHdu& h : images_) {
      NDArray one = read_hdu(h, o);
      std::memcpy(out.bytes() + at, one.bytes(), one.nbytes());
      at += one.nbytes();
    }
    return out;
  }

  std::unique_ptr<FrameSource> iter(const Kwargs& kwargs) override {
    KwargReader kw(kwargs, kPlugin, "iter");
    struct Hdus final : FrameSource {
      FitsReader& r;
      Options o;
      std::size_t k = 0;
      Hdus(FitsReader& reader, Options options) : r(reader), o(options) {}
      std::optional<NDArray> next() override {
        if (k >= r.images_.size()) return std::nullopt;
        return r.read_hdu(r.images_[k++], o);
      }
    };
    return std::make_unique<Hdus>(*this, read_options(kw));
  }

  ImageProperties properties(const Index& index, const Kwargs& kwargs) override {
    KwargReader kw(kwargs, kPlugin, "properties");
    const Options o = read_options(kw);
    if (!index.is_all()) {
      const ImageHdu& h = hdu_of(index);
      return {.shape = h.shape, .dtype = plan_for(h, o).dtype};
    }
    const auto [shape, dtype] = stack_shape(o);
    return {.shape = shape, .dtype = dtype, .n_images = images_.size(), .is_batch = true};
  }

  // The image HDU's header: every keyword with its value, `COMMENT` and
  // `HISTORY` as lists of their texts, `comments` the keywords' comments.
  Metadata metadata(const Index& index, bool /*exclude_applied*/, const Kwargs& kwargs) override {
    KwargReader kw(kwargs, kPlugin, "metadata");
    const ImageHdu& h = index.is_all() ? hdu_of(Index{}) : hdu_of(index);
    std::lock_guard lock(cfitsio_mutex());
    int status = 0;
    fits_movabs_hdu(file_, h.number, nullptr, &status);
    int nkeys = 0, more = 0;
    fits_get_hdrspace(file_, &nkeys, &more, &status);
    check(status, "cannot read the header");
    Metadata meta;
    Dict comments;
    Value::List comment_cards, history_cards;
    for (int i = 1; i <= nkeys; ++i) {
      char name[FLEN_KEYWORD] = {0}, value[FLEN_VALUE] = {0}, comment[FLEN_COMMENT] = {0};
      fits_read_keyn(file_, i, name, value, comment, &status);
      check(status, "cannot read a header card");
      const std::string key = name;
      if (key == "COMMENT") {
        comment_cards.emplace_back(std::string(comment));
      } else if (key == "HISTORY") {
        history_cards.emplace_back(std::string(comment));
      } else if (!key.empty() && key != "CONTINUE") {
        meta.set(key, card_value(value));
        if (comment[0] != '\0') comments.set(key, std::string(comment));
      }
    }
    if (!comment_cards.empty()) meta.set("COMMENT", Value(std::move(comment_cards)));
    if (!history_cards.empty()) meta.set("HISTORY", Value(std::move(history_cards)));
    meta.set("comments", Value(std::move(comments)));
    return meta;
  }

 private:
  void close_locked() noexcept {
    if (file_ != nullptr) {
      int status = 0;
      fits_close_file(file_, &status);
      fits_clear_errmsg();
      file_ = nullptr;
    }
  }

  // Every HDU holding an image with data, as astropy's is_image HDUs whose
  // data are not None; their sizes checked against the data before any read.
  void scan() {
    int status = 0;
    int count = 0;
    fits_get_num_hdus(file_, &count, &status);
    check(status, "cannot count the HDUs");
    for (int n = 1; n <= count; ++n) {
      int type = 0;
      fits_movabs_hdu(file_, n, &type, &status);
      check(status, fmt::format("cannot read HDU {}", n));
      if (type != IMAGE_HDU) continue;  // tile-compressed images report IMAGE_HDU too
      ImageHdu h;
      h.number = n;
      int naxis = 0;
      LONGLONG naxes[kMaxAxes] = {0};
      fits_get_img_paramll(file_, kMaxAxes, &h.bitpix, &naxis, naxes, &status);
      check(status, fmt::format("cannot read the image parameters of HDU {}", n));
      if (naxis > kMaxAxes) throw DecodeError(fmt::format("HDU {} has {} axes (imio reads up to {})", n, naxis, kMaxAxes));
      if (naxis == 0) continue;
      bool empty = false;
      for (int a = naxis; a-- > 0;) {
        if (naxes[a] < 0) throw DecodeError(fmt::format("HDU {}: NAXIS{} is negative", n, a + 1));
        if (naxes[a] == 0) empty = true;
        h.shape.push_back(static_cast<std::size_t>(naxes[a]));
      }
      if (empty) continue;
      h.compressed = fits_is_compressed_image(file_, &status) != 0;
      double v = 0;
      if (fits_read_key_dbl(file_, "BZERO", &v, nullptr, &status) == 0) h.bzero = v;
      status = status == KEY_NO_EXIST ? 0 : status;
      if (fits_read_key_dbl(file_, "BSCALE", &v, nullptr, &status) == 0) h.bscale = v;
      status = status == KEY_NO_EXIST ? 0 : status;
      LONGLONG blank = 0;
      if (fits_read_key_lnglng(file_, "BLANK", &blank, nullptr, &status) == 0) h.blank = blank;
      status = status == KEY_NO_EXIST || status == VALUE_UNDEFINED || status == BAD_INTKEY ? 0 : status;
      fits_clear_errmsg();
      check(status, fmt::format("cannot read the scaling keywords of HDU {}", n));
      const auto bytes = checked_nbytes(h.shape, stored_dtype(h.bitpix));
      if (!bytes) throw DecodeError(fmt::format("HDU {}: an image of that size cannot exist", n));
      if (!h.compressed) {
        LONGLONG head = 0, start = 0, end = 0;
        fits_get_hduaddrll(file_, &head, &start, &end, &status);
        check(status, fmt::format("cannot locate the data of HDU {}", n));
        if (static_cast<std::uint64_t>(start) > data_.size() || data_.size() - static_cast<std::uint64_t>(start) < *bytes) {
          throw DecodeError(fmt::format("truncated FITS file: HDU {} needs {} bytes of data after byte {}, the file "
                                        "holds {}",
                                        n, *bytes, start, data_.size()));
        }
      }
      images_.push_back(std::move(h));
    }
  }

  const ImageHdu& hdu_of(const Index& index) const {
    if (images_.empty()) throw IndexError("the FITS file holds no image with data");
    const std::size_t k = index.is_none() ? 0 : static_cast<std::size_t>(index.value());
    if (k >= images_.size()) {
      throw IndexError(fmt::format("index {} is out of range: the FITS file holds {} image{} with data", k,
                                   images_.size(), images_.size() == 1 ? "" : "s"));
    }
    return images_[k];
  }

  std::pair<Shape, DType> stack_shape(const Options& o) const {
    if (images_.empty()) throw IndexError("the FITS file holds no image with data: nothing to stack");
    request_.check_frames(images_.size());
    const Plan first = plan_for(images_[0], o);
    for (const ImageHdu& h : images_) {
      if (h.shape != images_[0].shape || plan_for(h, o).dtype != first.dtype) {
        throw DecodeError(fmt::format("cannot stack the images of the FITS file (index=all): HDU {} is ({}) {}, HDU "
                                      "{} is ({}) {}",
                                      images_[0].number - 1, fmt::join(images_[0].shape, ", "), name(first.dtype),
                                      h.number - 1, fmt::join(h.shape, ", "), name(plan_for(h, o).dtype)));
      }
    }
    return {with_batch_axis(images_[0].shape, images_.size()), first.dtype};
  }

  NDArray read_hdu(const ImageHdu& h, const Options& o) {
    const Plan p = plan_for(h, o);
    NDArray out = request_.allocate(h.shape, p.dtype);
    NDArray scratch;
    std::byte* raw = out.bytes();
    if (p.conversion == Conversion::scaled && p.stored != p.dtype) {
      scratch = request_.allocate(h.shape, p.stored);
      raw = scratch.bytes();
    }
    {
      std::lock_guard lock(cfitsio_mutex());
      int status = 0;
      fits_movabs_hdu(file_, h.number, nullptr, &status);
      fits_set_bscale(file_, 1.0, 0.0, &status);  // the stored values: imio scales as astropy does
      LONGLONG first[kMaxAxes];
      std::fill(std::begin(first), std::end(first), LONGLONG{1});
      int anynul = 0;
      fits_read_pixll(file_, cfitsio_type(p.stored), first, static_cast<LONGLONG>(out.size()), nullptr, raw, &anynul,
                      &status);
      check(status, fmt::format("cannot read the image of HDU {}", h.number - 1));
    }
    const std::size_t n = out.size();
    switch (p.conversion) {
      case Conversion::none: break;
      case Conversion::unsigned_offset:
        // stored signed + 2**(bits-1) == the unsigned value: flip the sign bit
        if (p.dtype == DType::uint16) {
          for (auto& v : out.values<std::uint16_t>()) v ^= 0x8000u;
        } else if (p.dtype == DType::uint32) {
          for (auto& v : out.values<std::uint32_t>()) v ^= 0x80000000u;
        } else {
          for (auto& v : out.values<std::uint64_t>()) v ^= 0x8000000000000000ull;
        }
        break;
      case Conversion::signed_byte:
        for (std::size_t i = 0; i < n; ++i) out.bytes()[i] ^= std::byte{0x80};
        break;
      case Conversion::scaled: {
        const bool has_blank = !o.ignore_blank && h.bitpix > 0 && h.blank.has_value();
        const std::int64_t blank = has_blank ? *h.blank : 0;
        if (p.dtype == DType::float32) {
          scale_from(p.stored, raw, out.values<float>().data(), n, h, has_blank, blank);
        } else {
          scale_from(p.stored, raw, out.values<double>().data(), n, h, has_blank, blank);
        }
        break;
      }
    }
    return out;
  }

  Request& request_;
  Bytes owned_;
  std::span<const std::byte> data_;
  void* mem_ = nullptr;
  std::size_t mem_size_ = 0;
  fitsfile* file_ = nullptr;
  std::vector<ImageHdu> images_;
};

// ---------------------------------------------------------------- writing

// Keywords cfitsio writes from the array itself.
bool structural(const std::string& key) {
  static const char* const kKeys[] = {"SIMPLE", "BITPIX", "EXTEND", "XTENSION", "PCOUNT", "GCOUNT",
                                      "BZERO",  "BSCALE", "END",    "NAXIS",    "comments"};
  if (std::find_if(std::begin(kKeys), std::end(kKeys), [&](const char* k) { return key == k; }) != std::end(kKeys)) {
    return true;
  }
  return key.rfind("NAXIS", 0) == 0;
}

class FitsWriter final : public Plugin {
 public:
  explicit FitsWriter(Request& request) : request_(request) {
    std::lock_guard lock(cfitsio_mutex());
    int status = 0;
    buffer_size_ = 2880 * 4;
    buffer_ = std::malloc(buffer_size_);
    if (buffer_ == nullptr) throw Error("out of memory");
    if (fits_create_memfile(&file_, &buffer_, &buffer_size_, 2880 * 64, std::realloc, &status) != 0) {
      std::free(buffer_);
      buffer_ = nullptr;
      throw EncodeError(fmt::format("cfitsio: cannot create a FITS file in memory: {}", take_messages(status)));
    }
  }

  ~FitsWriter() override {
    std::lock_guard lock(cfitsio_mutex());
    if (file_ != nullptr) {
      int status = 0;
      fits_close_file(file_, &status);
      fits_clear_errmsg();
    }
    std::free(buffer_);
  }
  FitsWriter(const FitsWriter&) = delete;
  FitsWriter& operator=(const FitsWriter&) = delete;

  void write(const NDArray& image, const Kwargs& kwargs) override { write(std::span<const NDArray>(&image, 1), kwargs); }

  // Each array is one HDU: the first the primary, the others IMAGE extensions.
  void write(std::span<const NDArray> images, const Kwargs& kwargs) override {
    KwargReader kw(kwargs, kPlugin, "write");
    const Value* header = kw.find("header");
    if (header != nullptr && !header->is_none() && !header->is<Dict>()) kw.fail("header", "expects a dict");
    for (const NDArray& a : images) {
      if (a.bytes() == nullptr) throw ArgumentError("cannot write an empty (default-constructed) NDArray");
      if (img_type(a.dtype()) == 0) {
        throw ArgumentError(fmt::format("FITS has no {} images (uint8, int8, int16, uint16, int32, uint32, int64, "
                                        "uint64, float32, float64)",
                                        name(a.dtype())));
      }
      if (a.shape().empty() || a.shape().size() > 999) throw ArgumentError("a FITS image has 1 to 999 axes");
    }
    std::lock_guard lock(cfitsio_mutex());
    for (const NDArray& a : images) {
      int status = 0;
      std::vector<LONGLONG> naxes(a.shape().rbegin(), a.shape().rend());
      fits_create_imgll(file_, img_type(a.dtype()), static_cast<int>(naxes.size()), naxes.data(), &status);
      if (header != nullptr && header->is<Dict>()) put_header(header->get<Dict>(), status);
      std::vector<LONGLONG> first(naxes.size(), 1);
      fits_write_pixll(file_, data_type(a.dtype()), first.data(), static_cast<LONGLONG>(a.size()),
                       const_cast<std::byte*>(a.bytes()), &status);
      if (status != 0) throw EncodeError(fmt::format("cfitsio: cannot write the image: {}", take_messages(status)));
    }
  }

  void close() override {
    std::lock_guard lock(cfitsio_mutex());
    if (file_ == nullptr) return;
    int status = 0;
    LONGLONG head = 0, start = 0, end = 0;
    fits_get_hduaddrll(file_, &head, &start, &end, &status);
    fits_close_file(file_, &status);
    file_ = nullptr;
    if (status != 0) throw EncodeError(fmt::format("cfitsio: cannot finish the FITS file: {}", take_messages(status)));
    // the file ends with the last HDU's data, padded to 2880 bytes
    const auto size = static_cast<std::size_t>((end + 2879) / 2880 * 2880);
    if (size > buffer_size_) throw EncodeError("cfitsio: the FITS file is shorter than its last HDU");
    request_.sink().write(buffer_, size);
  }

 private:
  static int img_type(DType d) {
    switch (d) {
      case DType::uint8: return BYTE_IMG;
      case DType::int8: return SBYTE_IMG;
      case DType::int16: return SHORT_IMG;
      case DType::uint16: return USHORT_IMG;
      case DType::int32: return LONG_IMG;
      case DType::uint32: return ULONG_IMG;
      case DType::int64: return LONGLONG_IMG;
      case DType::uint64: return ULONGLONG_IMG;
      case DType::float32: return FLOAT_IMG;
      case DType::float64: return DOUBLE_IMG;
      default: return 0;
    }
  }
  static int data_type(DType d) {
    switch (d) {
      case DType::uint8: return TBYTE;
      case DType::int8: return TSBYTE;
      case DType::int16: return TSHORT;
      case DType::uint16: return TUSHORT;
      case DType::int32: return TINT;
      case DType::uint32: return TUINT;
      case DType::int64: return TLONGLONG;
      case DType::uint64: return TULONGLONG;
      case DType::float32: return TFLOAT;
      case DType::float64: return TDOUBLE;
      default: return 0;
    }
  }

  // The metadata's cards (as the reader gives them) on the current HDU.
  void put_header(const Dict& h, int& status) {
    const Value* comments = h.lookup("comments");
    for (const auto& [key, value] : h) {
      if (structural(key) || status != 0) continue;
      if (key.size() > 8 && key.rfind("HIERARCH", 0) != 0) {
        throw ArgumentError(fmt::format("fits.write(): keyword 'header': '{}' is longer than a FITS keyword (8)", key));
      }
      if (key == "COMMENT" || key == "HISTORY") {
        if (!value.is<Value::List>()) continue;
        for (const Value& line : value.get<Value::List>()) {
          if (!line.is<std::string>()) continue;
          if (key == "COMMENT") {
            fits_write_comment(file_, line.get<std::string>().c_str(), &status);
          } else {
            fits_write_history(file_, line.get<std::string>().c_str(), &status);
          }
        }
        continue;
      }
      std::string comment;
      if (comments != nullptr && comments->is<Dict>()) {
        if (const Value* c = comments->ref<Dict>().lookup(key); c != nullptr && c->is<std::string>()) {
          comment = c->get<std::string>();
        }
      }
      const char* cm = comment.empty() ? nullptr : comment.c_str();
      if (value.is<bool>()) {
        int b = value.get<bool>() ? 1 : 0;
        fits_update_key(file_, TLOGICAL, key.c_str(), &b, cm, &status);
      } else if (value.is<std::int64_t>()) {
        LONGLONG v = value.get<std::int64_t>();
        fits_update_key(file_, TLONGLONG, key.c_str(), &v, cm, &status);
      } else if (value.is<double>()) {
        double v = value.get<double>();
        fits_update_key(file_, TDOUBLE, key.c_str(), &v, cm, &status);
      } else if (value.is<std::string>()) {
        std::string v = value.get<std::string>();
        fits_update_key(file_, TSTRING, key.c_str(), v.data(), cm, &status);
      } else if (value.is_none()) {
        fits_write_key_null(file_, key.c_str(), cm, &status);
      } else {
        throw ArgumentError(fmt::format("fits.write(): keyword 'header': '{}' has a {} value (FITS cards hold bool, int, "
                                        "float, str or None)",
                                        key, value.type_name()));
      }
    }
    if (status != 0) throw EncodeError(fmt::format("cfitsio: cannot write the header: {}", take_messages(status)));
  }

  Request& request_;
  void* buffer_ = nullptr;
  std::size_t buffer_size_ = 0;
  fitsfile* file_ = nullptr;
};

// ---------------------------------------------------------------- the factory

bool has_signature(std::span<const std::byte> first) {
  static constexpr std::string_view kSimple = "SIMPLE  =";
  if (first.size() < 30 || std::memcmp(first.data(), kSimple.data(), kSimple.size()) != 0) return false;
  return static_cast<char>(first[29]) == 'T';
}

std::unique_ptr<Plugin> open_fits(Request& request, const Kwargs& kwargs) {
  KwargReader(kwargs, kPlugin, "open");
  if (request.mode() == IoMode::write) return std::make_unique<FitsWriter>(request);
  if (!has_signature(request.first_bytes(30))) {
    throw InitializationError("not a FITS file (it does not start with the card SIMPLE  = T)");
  }
  return std::make_unique<FitsReader>(request);
}

std::string version() {
  float v = 0;
  fits_get_version(&v);
  return fmt::format("cfitsio {}.{}.{}", CFITSIO_MAJOR, CFITSIO_MINOR, CFITSIO_MICRO);
}

}  // namespace
}  // namespace fits

namespace builtin {

PluginSpec fits_plugin_spec() {
  PluginSpec spec;
  // What fits is (name, aliases, extensions, kwargs) is its plugin.json; here, what it does.
  spec.sniff = fits::has_signature;
  spec.sniff_bytes = 30;
  spec.factory = fits::open_fits;
  spec.backend = fits::version();
  return spec;
}

}  // namespace builtin
}  // namespace imio
