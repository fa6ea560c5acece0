// The dicom plugin: DICOM images through GDCM. Single- and multi-frame
// images as (H,W[,C]) or (N,H,W[,C]) in the stored dtype, every transfer
// syntax GDCM decodes (JPEG baseline/extended/lossless, JPEG-LS, JPEG 2000,
// RLE, deflate), RescaleSlope/Intercept applied as imageio applies them,
// PALETTE COLOR through its tables, YBR_FULL to RGB, the data elements as
// metadata. Reading only.
//
// GDCM keeps process-wide state in two places imio touches: gdcm::Trace
// (whether and where it prints; silenced once, before the first parse, by
// a std::call_once) and its dictionaries (filled when the library loads,
// then only read). Each reader owns its gdcm::Reader.
#include <imio/checked_math.hpp>
#include <imio/plugin.hpp>
#include <imio/quiet_library.hpp>
#include <imio/single_image.hpp>

#include <gdcmDataSet.h>
#include <gdcmFileMetaInformation.h>
#include <gdcmFragment.h>
#include <gdcmImage.h>
#include <gdcmImageHelper.h>
#include <gdcmReader.h>
#include <gdcmSequenceOfFragments.h>
#include <gdcmTrace.h>
#include <gdcmVersion.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <istream>
#include <limits>
#include <mutex>
#include <optional>
#include <set>
#include <streambuf>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "dicom_internal.hpp"

namespace imio {
namespace dicom {
namespace {

constexpr std::string_view kPlugin = "dicom";

// GDCM prints its warnings and errors on std::cerr through gdcm::Trace
// (process-wide flags). imio never prints: they are switched off once, and
// the plugin's exceptions say what failed. GDCM's JPEG codec decodes through
// its bundled IJG libjpeg (libgdcmjpeg8/12/16.so), whose default message
// handler prints "Corrupt JPEG data: …" warnings on stderr for damaged
// frames, and GDCM does not replace it: those libraries' own printf-family
// calls are silenced (<imio/quiet_library.hpp>; IMIO_GDCM_DEBUG=1 keeps
// them).
void quiet_gdcm() {
  static std::once_flag once;
  std::call_once(once, [] {
    gdcm::Trace::DebugOff();
    gdcm::Trace::WarningOff();
    gdcm::Trace::ErrorOff();
    (void)silence_library_output("gdcmjpeg8_jpeg_std_error", "libgdcmjpeg8", "IMIO_GDCM_DEBUG");
    (void)silence_library_output("gdcmjpeg12_jpeg_std_error", "libgdcmjpeg12", "IMIO_GDCM_DEBUG");
    (void)silence_library_output("gdcmjpeg16_jpeg_std_error", "libgdcmjpeg16", "IMIO_GDCM_DEBUG");
  });
}

// Runs a GDCM call, turning whatever it throws (std::exception, and the
// std::string of gdcmAssertAlwaysMacro) into a DecodeError.
template <class F>
auto guarded(std::string_view what, F&& f) -> decltype(f()) {
  try {
    return f();
  } catch (const Error&) {
    throw;
  } catch (const std::bad_alloc&) {
    throw DecodeError(fmt::format("GDCM: {}: out of memory", what));
  } catch (const std::exception& e) {
    throw DecodeError(fmt::format("GDCM: {}: {}", what, e.what()));
  } catch (...) {
    throw DecodeError(fmt::format("GDCM: {}: the data are damaged (GDCM gave up)", what));
  }
}

// A read-only, seekable std::streambuf over bytes in memory: GDCM parses
// the data where they are (a file is memory-mapped by the core).
class MemoryBuffer final : public std::streambuf {
 public:
  explicit MemoryBuffer(std::span<const std::byte> data) {
    char* p = const_cast<char*>(reinterpret_cast<const char*>(data.data()));
    setg(p, p, p + data.size());
  }

 protected:
  pos_type seekoff(off_type off, std::ios_base::seekdir dir, std::ios_base::openmode which) override {
    if ((which & std::ios_base::in) == 0) return pos_type(off_type(-1));
    const off_type size = egptr() - eback();
    const off_type base = dir == std::ios_base::beg ? 0 : dir == std::ios_base::cur ? gptr() - eback() : size;
    const off_type to = base + off;
    if (to < 0 || to > size) return pos_type(off_type(-1));
    setg(eback(), eback() + to, egptr());
    return pos_type(to);
  }
  pos_type seekpos(pos_type pos, std::ios_base::openmode which) override {
    return seekoff(off_type(pos), std::ios_base::beg, which);
  }
};

std::string trimmed(std::string s) {
  while (!s.empty() && (s.back() == ' ' || s.back() == '\0')) s.pop_back();
  return s;
}

// The text of an element of the top-level data set, trailing blanks removed.
std::optional<std::string> text_of(const gdcm::DataSet& ds, std::uint16_t g, std::uint16_t e) {
  const gdcm::Tag t(g, e);
  if (!ds.FindDataElement(t)) return std::nullopt;
  const gdcm::DataElement& de = ds.GetDataElement(t);
  const gdcm::ByteValue* bv = de.GetByteValue();
  if (bv == nullptr || bv->GetPointer() == nullptr) return std::nullopt;
  return trimmed(std::string(bv->GetPointer(), bv->GetLength()));
}

std::optional<double> decimal_of(const gdcm::DataSet& ds, std::uint16_t g, std::uint16_t e, std::size_t k = 0) {
  const auto s = text_of(ds, g, e);
  if (!s) return std::nullopt;
  std::size_t from = 0;
  for (std::size_t i = 0; i < k; ++i) {
    from = s->find('\\', from);
    if (from == std::string::npos) return std::nullopt;
    ++from;
  }
  const std::string part = s->substr(from, s->find('\\', from) - from);
  char* end = nullptr;
  const double v = std::strtod(part.c_str(), &end);
  if (end == part.c_str() || !std::isfinite(v)) return std::nullopt;
  return v;
}

struct Options {
  bool rescale = true;
  bool invert = false;
  bool palette = true;
};

Options read_options(KwargReader& kw) {
  Options o;
  o.rescale = kw.get<bool>("rescale");
  o.invert = kw.get<bool>("invert_monochrome1");
  o.palette = kw.get<bool>("apply_palette");
  (void)kw.find("progress");  // imageio's progress indicator: nothing to show
  return o;
}

enum class Rescale { none, integer, floating };

// What a read returns for these options, and how it gets there.
struct Plan {
  DType dtype = DType::uint8;
  std::size_t channels = 1;
  bool palette = false;
  bool invert = false;
  Rescale rescale = Rescale::none;
  double slope = 1;
  double intercept = 0;
};

DType dtype_of(const gdcm::PixelFormat& pf) {
  switch (pf.GetScalarType()) {
    case gdcm::PixelFormat::UINT8: return DType::uint8;
    case gdcm::PixelFormat::INT8: return DType::int8;
    case gdcm::PixelFormat::UINT16: return DType::uint16;
    case gdcm::PixelFormat::INT16: return DType::int16;
    case gdcm::PixelFormat::UINT32: return DType::uint32;
    case gdcm::PixelFormat::INT32: return DType::int32;
    case gdcm::PixelFormat::UINT64: return DType::uint64;
    case gdcm::PixelFormat::INT64: return DType::int64;
    case gdcm::PixelFormat::FLOAT32: return DType::float32;
    case gdcm::PixelFormat::FLOAT64: return DType::float64;
    default:
      throw DecodeError(fmt::format("DICOM pixels of {} bits allocated ({}) are not supported by imio",
                                    pf.GetBitsAllocated(), pf.GetScalarTypeAsString()));
  }
}

bool is_integer(DType d) { return d != DType::float16 && d != DType::float32 && d != DType::float64; }
bool is_signed(DType d) { return d == DType::int8 || d == DType::int16 || d == DType::int32 || d == DType::int64; }

// The smallest signed integer type holding [lo, hi].
DType signed_for(double lo, double hi) {
  const double m = std::max(-lo - 1, hi);  // int8 holds -128..127
  if (m < 128) return DType::int8;
  if (m < 32768) return DType::int16;
  if (m < 2147483648.0) return DType::int32;
  return DType::int64;
}

template <class T>
void invert_values(T* p, std::size_t n, std::int64_t lo, std::int64_t hi) {
  for (std::size_t i = 0; i < n; ++i) {
    const auto v = std::clamp(static_cast<std::int64_t>(p[i]), lo, hi);
    p[i] = static_cast<T>(lo + hi - v);
  }
}

template <class In, class Out>
void rescale_values(const In* in, Out* out, std::size_t n, double slope, double intercept, Rescale how) {
  if (how == Rescale::floating) {
    for (std::size_t i = 0; i < n; ++i) out[i] = static_cast<Out>(static_cast<double>(in[i]) * slope + intercept);
    return;
  }
  if constexpr (std::is_integral_v<Out> && std::is_integral_v<In>) {
    const auto s = static_cast<std::int64_t>(slope);
    const auto b = static_cast<std::int64_t>(intercept);
    constexpr auto lo = static_cast<std::int64_t>(std::numeric_limits<Out>::min());
    constexpr auto hi = static_cast<std::int64_t>(std::numeric_limits<Out>::max());
    for (std::size_t i = 0; i < n; ++i) {
      // the type holds the range of the stored bits; values beyond it (bits
      // above BitsStored) are clamped rather than wrapped
      const std::int64_t v = static_cast<std::int64_t>(in[i]) * s + b;
      out[i] = static_cast<Out>(std::clamp(v, lo, hi));
    }
  }
}

template <class In>
void rescale_from(const In* in, NDArray& out, std::size_t offset, std::size_t n, const Plan& p) {
  switch (out.dtype()) {
    case DType::int8: rescale_values(in, out.values<std::int8_t>().data() + offset, n, p.slope, p.intercept, p.rescale); break;
    case DType::int16: rescale_values(in, out.values<std::int16_t>().data() + offset, n, p.slope, p.intercept, p.rescale); break;
    case DType::int32: rescale_values(in, out.values<std::int32_t>().data() + offset, n, p.slope, p.intercept, p.rescale); break;
    case DType::int64: rescale_values(in, out.values<std::int64_t>().data() + offset, n, p.slope, p.intercept, p.rescale); break;
    case DType::float32: rescale_values(in, out.values<float>().data() + offset, n, p.slope, p.intercept, Rescale::floating); break;
    case DType::float64: rescale_values(in, out.values<double>().data() + offset, n, p.slope, p.intercept, Rescale::floating); break;
    default: throw Error("dicom: no rescale into " + std::string(name(out.dtype())));
  }
}

// A gdcm::Image that decodes with the one codec its transfer syntax names.
// gdcm::Bitmap::GetBuffer tries every codec in turn, and after a failed
// JPEG decode the PVRG codec, which runs the external `pvrg-jpeg` program
// through temporary files and lets it print on stderr: imio never wants that.
class Decoder final : public gdcm::Image {
 public:
  Decoder(const gdcm::Image& img, unsigned frames, const gdcm::DataElement& pixels) {
    SetNumberOfDimensions(frames > 1 ? 3 : 2);
    SetDimension(0, img.GetDimension(0));
    SetDimension(1, img.GetDimension(1));
    if (frames > 1) SetDimension(2, frames);
    SetPixelFormat(img.GetPixelFormat());
    SetPhotometricInterpretation(img.GetPhotometricInterpretation());
    SetPlanarConfiguration(img.GetPlanarConfiguration());
    SetTransferSyntax(img.GetTransferSyntax());
    SetNeedByteSwap(img.GetNeedByteSwap());
    SetDataElement(pixels);
  }

  bool decode(char* out) const {
    bool lossy = false;
    switch (static_cast<gdcm::TransferSyntax::TSType>(GetTransferSyntax())) {
      case gdcm::TransferSyntax::JPEGBaselineProcess1:
      case gdcm::TransferSyntax::JPEGExtendedProcess2_4:
      case gdcm::TransferSyntax::JPEGExtendedProcess3_5:
      case gdcm::TransferSyntax::JPEGSpectralSelectionProcess6_8:
      case gdcm::TransferSyntax::JPEGFullProgressionProcess10_12:
      case gdcm::TransferSyntax::JPEGLosslessProcess14:
      case gdcm::TransferSyntax::JPEGLosslessProcess14_1: return TryJPEGCodec(out, lossy);
      case gdcm::TransferSyntax::JPEGLSLossless:
      case gdcm::TransferSyntax::JPEGLSNearLossless: return TryJPEGLSCodec(out, lossy);
      // JPEG 2000 never reaches GDCM's codec: decode_j2k
      case gdcm::TransferSyntax::RLELossless: return TryRLECodec(out, lossy);
      default: return GetTransferSyntax().IsEncapsulated() ? false : TryRAWCodec(out, lossy);
    }
  }
};

class DicomReader final : public Plugin {
 public:
  explicit DicomReader(Request& request) : request_(request) {
    ByteSource& src = request.source();
    if (const auto view = src.contiguous()) {
      data_ = *view;
    } else {
      owned_ = src.read_all(request.limits().max_bytes);
      data_ = owned_;
    }
    const std::span<const std::byte> native = check_structure(data_, request.limits().max_bytes);
    if (native.empty() || !read_without_pixels(native)) read_everything();
    describe();
    scan();
  }

  NDArray read(const Index& index, const Kwargs& kwargs) override {
    KwargReader kw(kwargs, kPlugin, "read");
    const Plan p = plan_for(read_options(kw));
    if (index.is_integer()) {
      const std::size_t k = frame_of(index);
      NDArray out = request_.allocate(frame_shape(p), p.dtype);
      read_frame(k, p, out, 0);
      return out;
    }
    request_.check_frames(frames_);
    const bool stacked = index.is_all() || multi_frame_;
    Shape shape = frame_shape(p);
    if (stacked) shape = with_batch_axis(shape, frames_);
    NDArray out = request_.allocate(shape, p.dtype);
    const std::size_t per_frame = out.size() / frames_;
    if (frames_ > 1 && !frames_decode_alone()) decode_all();
    for (std::size_t k = 0; k < frames_; ++k) read_frame(k, p, out, k * per_frame);
    all_.clear();
    all_.shrink_to_fit();
    return out;
  }

  std::unique_ptr<FrameSource> iter(const Kwargs& kwargs) override {
    KwargReader kw(kwargs, kPlugin, "iter");
    struct Frames final : FrameSource {
      DicomReader& r;
      Plan p;
      std::size_t k = 0;
      Frames(DicomReader& reader, Plan plan) : r(reader), p(plan) {}
      std::optional<NDArray> next() override {
        if (k >= r.frames_) {
          r.all_.clear();
          r.all_.shrink_to_fit();
          return std::nullopt;
        }
        NDArray out = r.request_.allocate(r.frame_shape(p), p.dtype);
        r.read_frame(k++, p, out, 0);
        return out;
      }
    };
    const Plan p = plan_for(read_options(kw));
    request_.check_frames(frames_);
    return std::make_unique<Frames>(*this, p);
  }

  ImageProperties properties(const Index& index, const Kwargs& kwargs) override {
    KwargReader kw(kwargs, kPlugin, "properties");
    const Plan p = plan_for(read_options(kw));
    ImageProperties props;
    props.dtype = p.dtype;
    props.spacing = spacing_;
    if (index.is_integer()) {
      (void)frame_of(index);
      props.shape = frame_shape(p);
      return props;
    }
    if (index.is_all() || multi_frame_) {
      props.shape = with_batch_axis(frame_shape(p), frames_);
      props.n_images = frames_;
      props.is_batch = true;
      return props;
    }
    props.shape = frame_shape(p);
    return props;
  }

  // Every data element (file meta information and data set) by keyword;
  // the same for every index.
  Metadata metadata(const Index& index, bool /*exclude_applied*/, const Kwargs& kwargs) override {
    KwargReader kw(kwargs, kPlugin, "metadata");
    if (index.is_integer()) (void)frame_of(index);
    const gdcm::File& f = reader_->GetFile();
    const bool big = f.GetHeader().GetDataSetTransferSyntax() == gdcm::TransferSyntax::ExplicitVRBigEndian;
    return guarded("cannot read the data elements", [&] { return to_metadata(f.GetHeader(), f.GetDataSet(), big); });
  }

 private:
  // A fresh GDCM reader over data_, from its start.
  void new_reader() {
    reader_ = std::make_unique<gdcm::Reader>();
    buffer_ = std::make_unique<MemoryBuffer>(data_);
    stream_ = std::make_unique<std::istream>(buffer_.get());
    reader_->SetStream(*stream_);
  }

  // Parses the data set with GDCM, the pixel data included (GDCM copies
  // them into its own buffer).
  void read_everything() {
    pixels_ = {};
    new_reader();
    const bool ok = guarded("cannot parse the DICOM data", [&] { return reader_->Read(); });
    if (!ok) throw DecodeError("GDCM cannot parse the DICOM data set (damaged or not DICOM)");
  }

  // Parses every data element but the Pixel Data, whose value `native` (in
  // data_) the frames are then copied from: GDCM's copy of a 65 MB stack
  // (its page faults and the copy) was half of the read's time. Only for
  // uncompressed little-endian whole-byte samples (decode_frame copies
  // those as they are); false for any other image, which read_everything
  // then parses.
  bool read_without_pixels(std::span<const std::byte> native) {
    new_reader();
    const std::set<gdcm::Tag> skip{gdcm::Tag(0x7FE0, 0x0010)};
    const bool ok = guarded("cannot parse the DICOM data",
                            [&] { return reader_->ReadUpToTag(gdcm::Tag(0xFFFF, 0xFFFF), skip); });
    if (!ok) return false;
    const gdcm::File& file = reader_->GetFile();
    const gdcm::TransferSyntax ts = file.GetHeader().GetDataSetTransferSyntax();
    if (ts.IsEncapsulated() || ts == gdcm::TransferSyntax::ExplicitVRBigEndian ||
        ts == gdcm::TransferSyntax::DeflatedExplicitVRLittleEndian) {
      return false;
    }
    const gdcm::DataSet& ds = file.GetDataSet();
    const gdcm::Tag allocated(0x0028, 0x0100);
    const gdcm::ByteValue* bits = ds.FindDataElement(allocated) ? ds.GetDataElement(allocated).GetByteValue() : nullptr;
    if (bits == nullptr || bits->GetLength() < 2) return false;
    const auto* b = reinterpret_cast<const unsigned char*>(bits->GetPointer());
    if ((b[0] | b[1] << 8) < 8) return false;
    if (text_of(ds, 0x0028, 0x0004).value_or("") == "YBR_FULL_422") return false;
    pixels_ = native;
    return true;
  }

  // The image as the data set describes it (gdcm::ImageReader would do
  // this too, but it also runs every codec over the pixel data to compute a
  // lossy flag, PVRG's external program included, which prints on stderr).
  void describe() {
    const gdcm::File& file = reader_->GetFile();
    const gdcm::DataSet& ds = file.GetDataSet();
    const gdcm::TransferSyntax ts = file.GetHeader().GetDataSetTransferSyntax();
    const bool big = ts == gdcm::TransferSyntax::ExplicitVRBigEndian;
    const auto us = [&](std::uint16_t e) -> std::optional<unsigned> {
      const gdcm::Tag t(0x0028, e);
      if (!ds.FindDataElement(t)) return std::nullopt;
      const gdcm::ByteValue* bv = ds.GetDataElement(t).GetByteValue();
      if (bv == nullptr || bv->GetPointer() == nullptr || bv->GetLength() < 2) return std::nullopt;
      const auto* p = reinterpret_cast<const unsigned char*>(bv->GetPointer());
      return big ? unsigned(p[0] << 8 | p[1]) : unsigned(p[1] << 8 | p[0]);
    };
    if (pixels_.empty() && !ds.FindDataElement(gdcm::Tag(0x7FE0, 0x0010))) {
      const auto sop = text_of(ds, 0x0008, 0x0016).value_or("");
      throw DecodeError(fmt::format("the DICOM file holds no image: it has no Pixel Data (7FE0,0010){}",
                                    sop.empty() ? "" : fmt::format(" (SOP Class {})", sop)));
    }
    const auto rows = us(0x0010), cols = us(0x0011), allocated = us(0x0100);
    if (!rows || !cols || !allocated) {
      throw DecodeError("the DICOM image lacks Rows, Columns or BitsAllocated (0028,0010/0011/0100)");
    }
    unsigned frames = 1;
    if (const auto n = text_of(ds, 0x0028, 0x0008)) {
      char* end = nullptr;
      const unsigned long v = std::strtoul(n->c_str(), &end, 10);
      if (end == n->c_str() || v > 0xFFFFFFFFul) throw DecodeError(fmt::format("NumberOfFrames '{}' is not a count", *n));
      frames = std::max(1ul, v);
    }
    const unsigned spp = us(0x0002).value_or(1);
    unsigned bs = us(0x0101).value_or(*allocated);
    if (bs == 0 || bs > *allocated) bs = *allocated;
    unsigned hb = us(0x0102).value_or(bs - 1);
    if (hb >= bs) hb = bs - 1;
    const unsigned pr = us(0x0103).value_or(0);
    if (spp != 1 && spp != 3 && spp != 4) throw DecodeError(fmt::format("DICOM SamplesPerPixel is {}", spp));
    if (pr > 1 || *allocated == 0 || *allocated > 64) {
      throw DecodeError(fmt::format("DICOM pixels of {} bits allocated, representation {}", *allocated, pr));
    }
    desc_.SetNumberOfDimensions(frames > 1 ? 3 : 2);
    desc_.SetDimension(0, *cols);
    desc_.SetDimension(1, *rows);
    if (frames > 1) desc_.SetDimension(2, frames);
    desc_.SetPixelFormat(gdcm::PixelFormat(static_cast<unsigned short>(spp), static_cast<unsigned short>(*allocated),
                                           static_cast<unsigned short>(bs), static_cast<unsigned short>(hb),
                                           static_cast<unsigned short>(pr)));
    gdcm::PhotometricInterpretation pi(gdcm::PhotometricInterpretation::GetPIType(text_of(ds, 0x0028, 0x0004).value_or("").c_str()));
    if (pi == gdcm::PhotometricInterpretation::UNKNOWN || pi == gdcm::PhotometricInterpretation::PI_END) {
      pi = spp == 1 ? gdcm::PhotometricInterpretation::MONOCHROME2 : gdcm::PhotometricInterpretation::RGB;
    }
    desc_.SetPhotometricInterpretation(pi);
    if (spp == 3) desc_.SetPlanarConfiguration(us(0x0006).value_or(0) == 1 ? 1 : 0);
    desc_.SetTransferSyntax(ts);
    desc_.SetNeedByteSwap(big);
    if (pixels_.empty()) desc_.SetDataElement(ds.GetDataElement(gdcm::Tag(0x7FE0, 0x0010)));
  }

  void scan() {
    const gdcm::Image& img = desc_;
    const gdcm::DataSet& ds = reader_->GetFile().GetDataSet();
    const unsigned ndim = img.GetNumberOfDimensions();
    cols_ = img.GetDimension(0);
    rows_ = ndim >= 2 ? img.GetDimension(1) : 1;
    frames_ = ndim >= 3 ? img.GetDimension(2) : 1;
    if (rows_ == 0 || cols_ == 0 || frames_ == 0) {
      throw DecodeError(fmt::format("the DICOM image has no pixels ({} rows, {} columns, {} frames)", rows_, cols_,
                                    frames_));
    }
    multi_frame_ = frames_ > 1;
    const gdcm::PixelFormat& pf = img.GetPixelFormat();
    samples_ = pf.GetSamplesPerPixel();
    if (samples_ != 1 && samples_ != 3) throw DecodeError(fmt::format("DICOM pixels of {} samples", samples_));
    stored_ = dtype_of(pf);
    bits_stored_ = pf.GetBitsStored();
    if (bits_stored_ == 0 || bits_stored_ > 8 * itemsize(stored_)) bits_stored_ = 8 * itemsize(stored_);
    pi_ = img.GetPhotometricInterpretation();
    request_.check_pixels(cols_, rows_, samples_);
    request_.check_frames(frames_);
    const auto bytes = checked_nbytes(Shape{frames_, rows_, cols_, samples_}, stored_);
    if (!bytes) throw DecodeError("the DICOM image is too large to exist");
    frame_bytes_ = *bytes / frames_;
    // The pixel data hold what the header promises: all frames uncompressed,
    // at least one fragment per frame when encapsulated.
    // Uncompressed pixels: in data_ (read_without_pixels), else in GDCM's
    // copy; from here on pixels_ holds them either way.
    const gdcm::DataElement& pd = img.GetDataElement();
    const gdcm::SequenceOfFragments* sf = pixels_.empty() ? pd.GetSequenceOfFragments() : nullptr;
    const gdcm::ByteValue* bv = pixels_.empty() && sf == nullptr ? pd.GetByteValue() : nullptr;
    if (bv != nullptr) pixels_ = {reinterpret_cast<const std::byte*>(bv->GetPointer()), bv->GetLength()};
    if (sf != nullptr) {
      fragments_ = sf->GetNumberOfFragments();
      if (fragments_ < frames_) {
        throw DecodeError(fmt::format("the DICOM pixel data hold {} compressed fragment{} for {} frames", fragments_,
                                      fragments_ == 1 ? "" : "s", frames_));
      }
    } else if (bv != nullptr || !pixels_.empty()) {
      const std::uint64_t need = pf.GetBitsAllocated() < 8 ? 0 : *bytes;
      if (pixels_.size() < need && pi_ != gdcm::PhotometricInterpretation::YBR_FULL_422) {
        throw DecodeError(fmt::format("truncated DICOM pixel data: {} frame{} of {}x{} need {} bytes, the file holds {}",
                                      frames_, frames_ == 1 ? "" : "s", rows_, cols_, need, pixels_.size()));
      }
      native_ = true;
    } else {
      throw DecodeError("the DICOM file's Pixel Data element holds no data");
    }
    const auto ts = static_cast<gdcm::TransferSyntax::TSType>(img.GetTransferSyntax());
    j2k_ = fragments_ > 0 && (ts == gdcm::TransferSyntax::JPEG2000Lossless || ts == gdcm::TransferSyntax::JPEG2000 ||
                              ts == gdcm::TransferSyntax::JPEG2000Part2Lossless ||
                              ts == gdcm::TransferSyntax::JPEG2000Part2);
    // RLE with one fragment per frame (PS3.5 A.4.2 requires it) and whole
    // bytes per sample: decode_rle; other layouts go to GDCM.
    rle_ = ts == gdcm::TransferSyntax::RLELossless && fragments_ == frames_ &&
           pf.GetBitsAllocated() == 8 * itemsize(stored_);
    native_little_ = native_ && img.GetTransferSyntax() != gdcm::TransferSyntax::ExplicitVRBigEndian && pf.GetBitsAllocated() >= 8 &&
                     pi_ != gdcm::PhotometricInterpretation::YBR_FULL_422;
    if (pi_ == gdcm::PhotometricInterpretation::PALETTE_COLOR) {
      try {
        palette_ = read_palette(ds, img.GetTransferSyntax() == gdcm::TransferSyntax::ExplicitVRBigEndian);
        if (!palette_) palette_error_ = "PALETTE COLOR without a Red Palette Color Lookup Table Descriptor (0028,1101)";
      } catch (const DecodeError& e) {
        palette_error_ = e.what();
      }

    }
    // RescaleSlope / RescaleIntercept (0028,1053 / 0028,1052) of the data
    // set, as imageio reads them; an enhanced multi-frame image keeps them in
    // its functional groups, which GDCM reads.
    slope_ = decimal_of(ds, 0x0028, 0x1053);
    intercept_ = decimal_of(ds, 0x0028, 0x1052);
    const bool enhanced = ds.FindDataElement(gdcm::Tag(0x5200, 0x9229));  // shared functional groups
    if (!slope_ && !intercept_ && enhanced) {
      const auto is = guarded("cannot read the rescale values", [&] {
        return gdcm::ImageHelper::GetRescaleInterceptSlopeValue(reader_->GetFile());
      });
      if (is.size() == 2 && (is[1] != 1.0 || is[0] != 0.0)) {
        intercept_ = is[0];
        slope_ = is[1];
      }
    }
    // PixelSpacing (row, column) in mm
    const auto row = decimal_of(ds, 0x0028, 0x0030, 0), col = decimal_of(ds, 0x0028, 0x0030, 1);
    if (row && col) {
      spacing_ = std::vector<double>{*row, *col};
    } else if (enhanced) {
      const auto sp = guarded("cannot read the pixel spacing",
                              [&] { return gdcm::ImageHelper::GetSpacingValue(reader_->GetFile()); });
      if (sp.size() >= 2 && sp[0] > 0 && sp[1] > 0) spacing_ = std::vector<double>{sp[1], sp[0]};
    }
  }

  Plan plan_for(const Options& o) const {
    Plan p;
    p.dtype = stored_;
    p.channels = samples_;
    if (pi_ == gdcm::PhotometricInterpretation::PALETTE_COLOR && o.palette && samples_ == 1) {
      if (!palette_error_.empty()) {
        throw DecodeError(palette_error_ + " (apply_palette=false reads the stored indices)");
      }
      p.palette = true;
      p.channels = palette_->tables.size();
      p.dtype = palette_->bits == 8 ? DType::uint8 : DType::uint16;
      return p;
    }
    p.invert = o.invert && pi_ == gdcm::PhotometricInterpretation::MONOCHROME1 && is_integer(stored_);
    if (!o.rescale || samples_ != 1 || (!slope_ && !intercept_)) return p;
    p.slope = slope_.value_or(1.0);
    p.intercept = intercept_.value_or(0.0);
    if (p.slope == 1.0 && p.intercept == 0.0) return p;  // the identity keeps the stored dtype
    if (!is_integer(stored_)) {
      p.rescale = Rescale::floating;
      return p;
    }
    if (p.slope != std::floor(p.slope) || p.intercept != std::floor(p.intercept) || std::abs(p.slope) > 1e9 ||
        std::abs(p.intercept) > 1e15) {
      p.rescale = Rescale::floating;
      p.dtype = DType::float32;
      return p;
    }
    // the range the stored bits allow, rescaled
    const auto [lo, hi] = stored_range();
    const double a = static_cast<double>(lo) * p.slope + p.intercept;
    const double b = static_cast<double>(hi) * p.slope + p.intercept;
    p.rescale = Rescale::integer;
    p.dtype = signed_for(std::min(a, b), std::max(a, b));
    return p;
  }

  std::pair<std::int64_t, std::int64_t> stored_range() const {
    const unsigned bits = std::min(bits_stored_, 63u);
    if (is_signed(stored_)) return {-(std::int64_t{1} << (bits - 1)), (std::int64_t{1} << (bits - 1)) - 1};
    return {0, (std::int64_t{1} << bits) - 1};
  }

  Shape frame_shape(const Plan& p) const {
    if (p.channels == 1) return {rows_, cols_};
    return {rows_, cols_, p.channels};
  }

  std::size_t frame_of(const Index& index) const {
    const auto k = static_cast<std::uint64_t>(index.value());
    if (k >= frames_) {
      throw IndexError(fmt::format("index {} is out of range: the DICOM file holds {} frame{}", k, frames_,
                                   frames_ == 1 ? "" : "s"));
    }
    return static_cast<std::size_t>(k);
  }

  // Whether frame k can be had without decoding the others.
  bool frames_decode_alone() const { return native_little_ || j2k_ || (fragments_ == frames_ && fragments_ > 0); }

  // GDCM decodes every frame at once (the whole pixel data).
  void decode_all() {
    if (!all_.empty()) return;
    const gdcm::Image& img = desc_;
    const unsigned long length = img.GetBufferLength();
    request_.check_bytes(length);
    all_.resize(length);
    Decoder whole(img, static_cast<unsigned>(frames_), img.GetDataElement());
    if (whole.GetBufferLength() != length) throw DecodeError("GDCM: the decoded size of the pixel data differs");
    const bool ok = guarded("cannot decode the pixel data", [&] { return whole.decode(reinterpret_cast<char*>(all_.data())); });
    if (!ok) {
      all_.clear();
      throw DecodeError(fmt::format("GDCM cannot decode the pixel data ({}: damaged or unsupported)",
                                    img.GetTransferSyntax().GetString()));
    }
    decoded_pi_ = whole.GetPhotometricInterpretation();
    decoded_planar_ = whole.GetPlanarConfiguration();
  }

  // The stored pixels of frame k into dst (frame_bytes_); sets the
  // photometric interpretation and planar configuration they came out in.
  void decode_frame(std::size_t k, std::byte* dst) {
    const gdcm::Image& img = desc_;
    decoded_pi_ = pi_;
    decoded_planar_ = img.GetPlanarConfiguration();
    if (native_little_) {
      std::memcpy(dst, pixels_.data() + k * frame_bytes_, frame_bytes_);
      return;
    }
    if (j2k_) {
      decode_j2k(k, dst);
      return;
    }
    if (rle_) {
      decode_rle(k, dst);
      return;
    }
    if (frames_ == 1) {
      decode_all();
      copy_decoded(0, dst);
      return;
    }
    if (fragments_ == frames_ && fragments_ > 0) {
      decode_one(k, dst);
      return;
    }
    decode_all();
    copy_decoded(k, dst);
  }

  void copy_decoded(std::size_t k, std::byte* dst) const {
    if (all_.size() < (k + 1) * frame_bytes_) {
      throw DecodeError(fmt::format("GDCM decoded {} bytes of pixel data, {} frames need {}", all_.size(), frames_,
                                    frames_ * frame_bytes_));
    }
    std::memcpy(dst, all_.data() + k * frame_bytes_, frame_bytes_);
  }

  // Frame k of JPEG 2000 pixel data, by the openjpeg plugin (dicom_j2k.cpp).
  void decode_j2k(std::size_t k, std::byte* dst) {
    if (!has_openjpeg()) {
      throw DecodeError(fmt::format("the pixel data are JPEG 2000 ({}), which imio decodes with its openjpeg plugin, "
                                    "and this build has none (CMake option IMIO_WITH_OPENJPEG, vcpkg feature openjpeg)",
                                    desc_.GetTransferSyntax().GetString()));
    }
    const gdcm::SequenceOfFragments* sf = desc_.GetDataElement().GetSequenceOfFragments();
    decode_j2k_frame(*sf, k, {rows_, cols_, samples_, frames_, stored_}, dst, request_.limits());
    // OpenJPEG undoes the codestream's component transform: YBR_ICT and
    // YBR_RCT come out as RGB (PS3.5 8.2.4), as GDCM's codec labels them
    decoded_pi_ = pi_ == gdcm::PhotometricInterpretation::YBR_ICT || pi_ == gdcm::PhotometricInterpretation::YBR_RCT
                      ? gdcm::PhotometricInterpretation(gdcm::PhotometricInterpretation::RGB)
                      : pi_;
    decoded_planar_ = 0;
  }

  // Frame k of RLE Lossless data, one fragment per frame (dicom_rle.cpp).
  void decode_rle(std::size_t k, std::byte* dst) {
    const gdcm::ByteValue* bv = desc_.GetDataElement().GetSequenceOfFragments()->GetFragment(k).GetByteValue();
    std::span<const std::byte> fragment;
    if (bv != nullptr && bv->GetPointer() != nullptr) {
      fragment = {reinterpret_cast<const std::byte*>(bv->GetPointer()), bv->GetLength()};
    }
    decode_rle_frame(fragment, k, {rows_, cols_, samples_, frames_, stored_}, dst);
    decoded_pi_ = pi_;  // lossless: the stored colour space, by pixel
    decoded_planar_ = 0;
  }

  // Frame k of encapsulated data with one fragment per frame, decoded as a
  // one-frame image of that fragment.
  void decode_one(std::size_t k, std::byte* dst) {
    const gdcm::Image& img = desc_;
    const gdcm::SequenceOfFragments* sf = img.GetDataElement().GetSequenceOfFragments();
    guarded("cannot decode a frame", [&] {
      gdcm::SmartPointer<gdcm::SequenceOfFragments> seq = new gdcm::SequenceOfFragments;
      seq->AddFragment(sf->GetFragment(k));
      gdcm::DataElement pixels(gdcm::Tag(0x7FE0, 0x0010));
      pixels.SetVLToUndefined();
      pixels.SetVR(gdcm::VR::OB);
      pixels.SetValue(*seq);
      Decoder one(img, 1, pixels);
      if (one.GetBufferLength() != frame_bytes_) throw DecodeError("GDCM: a frame's decoded size differs");
      if (!one.decode(reinterpret_cast<char*>(dst))) {
        throw DecodeError(fmt::format("GDCM cannot decode frame {} ({}: damaged or unsupported)", k,
                                      img.GetTransferSyntax().GetString()));
      }
      decoded_pi_ = one.GetPhotometricInterpretation();
      decoded_planar_ = one.GetPlanarConfiguration();
      return true;
    });
  }

  // Frame k, as the plan says, into out at element offset `offset`.
  void read_frame(std::size_t k, const Plan& p, NDArray& out, std::size_t offset) {
    const bool direct = !p.palette && p.rescale == Rescale::none;  // out holds the stored dtype
    std::vector<std::byte> scratch;
    std::byte* raw = nullptr;
    if (direct) {
      raw = out.bytes() + offset * itemsize(out.dtype());
    } else {
      request_.check_bytes(frame_bytes_);
      scratch.resize(frame_bytes_);
      raw = scratch.data();
    }
    decode_frame(k, raw);
    const std::size_t pixels = rows_ * cols_;
    if (samples_ == 3 && decoded_planar_ == 1) interleave(raw, pixels);
    if (samples_ == 3 && stored_ == DType::uint8 &&
        (decoded_pi_ == gdcm::PhotometricInterpretation::YBR_FULL ||
         decoded_pi_ == gdcm::PhotometricInterpretation::YBR_FULL_422)) {
      ybr_full_to_rgb(reinterpret_cast<std::uint8_t*>(raw), pixels);
    }
    if (p.invert) invert(raw, pixels);
    if (p.palette) {
      if (out.dtype() == DType::uint8) {
        apply_lut<std::uint8_t>(raw, out, offset, pixels);
      } else {
        apply_lut<std::uint16_t>(raw, out, offset, pixels);
      }
    } else if (p.rescale != Rescale::none) {
      const std::size_t n = pixels;
      switch (stored_) {
        case DType::uint8: rescale_from(reinterpret_cast<const std::uint8_t*>(raw), out, offset, n, p); break;
        case DType::int8: rescale_from(reinterpret_cast<const std::int8_t*>(raw), out, offset, n, p); break;
        case DType::uint16: rescale_from(reinterpret_cast<const std::uint16_t*>(raw), out, offset, n, p); break;
        case DType::int16: rescale_from(reinterpret_cast<const std::int16_t*>(raw), out, offset, n, p); break;
        case DType::uint32: rescale_from(reinterpret_cast<const std::uint32_t*>(raw), out, offset, n, p); break;
        case DType::int32: rescale_from(reinterpret_cast<const std::int32_t*>(raw), out, offset, n, p); break;
        case DType::uint64: rescale_from(reinterpret_cast<const std::uint64_t*>(raw), out, offset, n, p); break;
        case DType::int64: rescale_from(reinterpret_cast<const std::int64_t*>(raw), out, offset, n, p); break;
        case DType::float32: rescale_from(reinterpret_cast<const float*>(raw), out, offset, n, p); break;
        case DType::float64: rescale_from(reinterpret_cast<const double*>(raw), out, offset, n, p); break;
        default: break;
      }
    }
  }

  // RRR…GGG…BBB → RGBRGB…
  void interleave(std::byte* raw, std::size_t pixels) const {
    const std::size_t size = itemsize(stored_);
    std::vector<std::byte> planes(raw, raw + pixels * 3 * size);
    for (std::size_t i = 0; i < pixels; ++i) {
      for (std::size_t c = 0; c < 3; ++c) {
        std::memcpy(raw + (i * 3 + c) * size, planes.data() + (c * pixels + i) * size, size);
      }
    }
  }

  // YBR_FULL (JPEG's full-range YCbCr) to RGB, rounded and clipped as
  // pydicom's convert_color_space does.
  static void ybr_full_to_rgb(std::uint8_t* p, std::size_t pixels) {
    constexpr double kGb = 0.114 * 1.772 / 0.587, kGr = 0.299 * 1.402 / 0.587;
    for (std::size_t i = 0; i < pixels; ++i, p += 3) {
      const double y = p[0], cb = p[1] - 128.0, cr = p[2] - 128.0;
      const double rgb[3] = {y + 1.402 * cr, y - kGb * cb - kGr * cr, y + 1.772 * cb};
      for (int c = 0; c < 3; ++c) p[c] = static_cast<std::uint8_t>(std::clamp(std::floor(rgb[c] + 0.5), 0.0, 255.0));
    }
  }

  void invert(std::byte* raw, std::size_t n) const {
    const auto [lo, hi] = stored_range();
    switch (stored_) {
      case DType::uint8: invert_values(reinterpret_cast<std::uint8_t*>(raw), n, lo, hi); break;
      case DType::int8: invert_values(reinterpret_cast<std::int8_t*>(raw), n, lo, hi); break;
      case DType::uint16: invert_values(reinterpret_cast<std::uint16_t*>(raw), n, lo, hi); break;
      case DType::int16: invert_values(reinterpret_cast<std::int16_t*>(raw), n, lo, hi); break;
      case DType::uint32: invert_values(reinterpret_cast<std::uint32_t*>(raw), n, lo, hi); break;
      case DType::int32: invert_values(reinterpret_cast<std::int32_t*>(raw), n, lo, hi); break;
      default: break;
    }
  }

  // PALETTE COLOR: each index through the red, green, blue (and alpha)
  // tables; indices below the first mapped value take entry 0, above the
  // tables' end the last entry (pydicom's apply_color_lut).
  template <class Out>
  void apply_lut(const std::byte* raw, NDArray& out, std::size_t offset, std::size_t pixels) const {
    const std::size_t channels = palette_->tables.size();
    Out* o = out.values<Out>().data() + offset;
    for (std::size_t i = 0; i < pixels; ++i) {
      std::int64_t index = 0;
      switch (stored_) {
        case DType::uint8: index = reinterpret_cast<const std::uint8_t*>(raw)[i]; break;
        case DType::int8: index = reinterpret_cast<const std::int8_t*>(raw)[i]; break;
        case DType::int16: index = reinterpret_cast<const std::int16_t*>(raw)[i]; break;
        default: index = reinterpret_cast<const std::uint16_t*>(raw)[i]; break;
      }
      for (std::size_t c = 0; c < channels; ++c) {
        const auto& lut = palette_->tables[c];
        const std::int64_t k =
            std::clamp<std::int64_t>(index - palette_->first, 0, static_cast<std::int64_t>(lut.size()) - 1);
        o[i * channels + c] = static_cast<Out>(lut[static_cast<std::size_t>(k)]);
      }
    }
  }

  Request& request_;
  Bytes owned_;
  std::span<const std::byte> data_;
  std::unique_ptr<MemoryBuffer> buffer_;
  std::unique_ptr<std::istream> stream_;
  std::unique_ptr<gdcm::Reader> reader_;
  std::span<const std::byte> pixels_;  // uncompressed Pixel Data: in data_ (read_without_pixels) or GDCM's copy (scan)
  gdcm::Image desc_;

  std::size_t rows_ = 0, cols_ = 0, frames_ = 1, samples_ = 1;
  bool multi_frame_ = false;
  DType stored_ = DType::uint8;
  unsigned bits_stored_ = 8;
  gdcm::PhotometricInterpretation pi_;
  std::optional<Palette> palette_;  // PALETTE COLOR's tables
  std::string palette_error_;       // why they cannot be used (apply_palette=false still reads)
  std::size_t frame_bytes_ = 0;
  std::size_t fragments_ = 0;
  bool native_ = false;
  bool native_little_ = false;
  bool j2k_ = false;  // JPEG 2000 pixel data: decoded by the openjpeg plugin
  bool rle_ = false;  // RLE Lossless pixel data decoded by decode_rle_frame
  std::optional<double> slope_, intercept_;
  std::optional<std::vector<double>> spacing_;

  std::vector<std::byte> all_;  // every frame, when GDCM must decode them together
  gdcm::PhotometricInterpretation decoded_pi_;
  unsigned decoded_planar_ = 0;
};

// "DICM" after the 128-byte preamble; or, for files written without the
// preamble, a first element of group 0002 or 0008 in explicit or implicit
// VR little endian.
bool has_signature(std::span<const std::byte> first) {
  if (first.size() >= 132 && std::memcmp(first.data() + 128, "DICM", 4) == 0) return true;
  if (first.size() < 8) return false;
  const auto b = [&](std::size_t i) { return static_cast<unsigned char>(first[i]); };
  if (!((b(0) == 0x02 || b(0) == 0x08) && b(1) == 0x00 && b(3) == 0x00)) return false;
  const bool explicit_vr = b(4) >= 'A' && b(4) <= 'Z' && b(5) >= 'A' && b(5) <= 'Z';
  if (explicit_vr) return b(2) <= 0x20;
  // implicit: (0008,0000..0020) with a short value
  return b(0) == 0x08 && b(2) <= 0x20 && b(6) == 0 && b(7) == 0 && (b(5) == 0 && b(4) <= 0x80);
}

std::unique_ptr<Plugin> open_dicom(Request& request, const Kwargs& kwargs) {
  KwargReader(kwargs, kPlugin, "open");
  if (request.mode() == IoMode::write) throw InitializationError("the dicom plugin does not write DICOM files");
  if (!has_signature(request.first_bytes(132))) {
    throw InitializationError("not a DICOM file (no \"DICM\" after the 128-byte preamble)");
  }
  quiet_gdcm();
  return std::make_unique<DicomReader>(request);
}

}  // namespace
}  // namespace dicom

namespace builtin {

PluginSpec dicom_plugin_spec() {
  PluginSpec spec;
  // What dicom is (name, aliases, extensions, kwargs) is its plugin.json; here, what it does.
  spec.sniff = dicom::has_signature;
  spec.sniff_bytes = 132;
  spec.factory = dicom::open_dicom;
  spec.backend = fmt::format("GDCM {}", gdcm::Version::GetVersion());
  return spec;
}

}  // namespace builtin
}  // namespace imio
