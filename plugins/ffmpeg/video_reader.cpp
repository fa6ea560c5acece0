// Video read side (spec §5.2.2–5.2.4, DECISIONS D9, D11, D12, D13, D20):
// every frame from the start for index omitted/all, frame k as the k-th step
// of iter() yields it, properties without decoding, container and frame
// metadata.
#include <imio/array_recycler.hpp>
#include <imio/plugin.hpp>

#include <algorithm>
#include <cstring>
#include <memory>
#include <new>
#include <optional>
#include <vector>

#include <fmt/format.h>

extern "C" {
#include <libavutil/pixdesc.h>
}

#include "av_filter.hpp"
#include "converter_pool.hpp"
#include "ffmpeg_plugins.hpp"
#include "pixel_layout.hpp"

namespace imio::ffmpeg {
namespace {

struct ReadArgs {
  std::optional<AVPixelFormat> format = AV_PIX_FMT_RGB24;  // nullopt: keep the decoded format
  FilterSpec filters;
  std::optional<bool> constant_framerate;
  Threading threading;
};

// Which kwargs a method takes (spec §5.2.2–5.2.4).
enum Accepts : unsigned { kFormat = 1, kFilters = 2, kFrameRate = 4, kThreads = 8 };

ReadArgs read_args(const Kwargs& kwargs, std::string_view method, unsigned accepts) {
  KwargReader kw(kwargs, kPlugin, method, "video");  // `accepts` mirrors plugin.json's declarations
  ReadArgs a;
  if ((accepts & kFormat) != 0) {
    if (const Value* f = kw.find("format")) {
      if (f->is_none()) {
        a.format.reset();
      } else {
        a.format = pixel_format_by_name(f->ref<std::string>());
      }
    }
  }
  if ((accepts & kFilters) != 0) {
    if (const Value* v = kw.find("filter_sequence")) a.filters.sequence = *v;
    if (const Value* v = kw.find("filter_graph")) a.filters.graph = *v;
    check_filter_spec(a.filters);
  }
  if ((accepts & kFrameRate) != 0) {
    a.constant_framerate = kw.take<bool>("constant_framerate");
  }
  if ((accepts & kThreads) != 0) {
    a.threading.count = kw.get<int>("thread_count");
    a.threading.type = kw.take<std::string>("thread_type");
  }
  kw.finish();
  return a;
}

[[noreturn]] void out_of_range(std::int64_t k, std::optional<std::int64_t> n = std::nullopt) {
  if (n) throw IndexError(fmt::format("index {} is out of range: the video has {} frames", k, *n));
  throw IndexError(fmt::format("index {} is out of range: the video ends before frame {}", k, k));
}

// Frames from the decoder, through the filter graph when one is asked for
// (the graph is built from the first frame; frames queued in it at the end
// are flushed, spec §5.2.2).
class FrameStream {
 public:
  FrameStream(Input& input, FilterSpec filters) : input_(input), filters_(std::move(filters)), tmp_(make_frame()) {}

  bool next(AVFrame* out) {
    if (filters_.empty()) return input_.next_frame(out);
    for (;;) {
      if (graph_ && graph_->pull(out)) return true;
      if (graph_ && graph_->drained()) return false;
      if (input_done_) {
        if (!graph_) return false;
        graph_->push(nullptr);
        continue;
      }
      if (!input_.next_frame(tmp_.get())) {
        input_done_ = true;
        continue;
      }
      if (!graph_) graph_ = std::make_unique<FilterGraph>(filters_, *tmp_, input_.stream()->time_base, input_.frame_rate());
      graph_->push(tmp_.get());
    }
  }

 private:
  Input& input_;
  FilterSpec filters_;
  FramePtr tmp_;
  std::unique_ptr<FilterGraph> graph_;
  bool input_done_ = false;
};

std::string picture_type(AVPictureType t) {
  switch (t) {
    case AV_PICTURE_TYPE_I: return "I";
    case AV_PICTURE_TYPE_P: return "P";
    case AV_PICTURE_TYPE_B: return "B";
    case AV_PICTURE_TYPE_S: return "S";
    case AV_PICTURE_TYPE_SI: return "SI";
    case AV_PICTURE_TYPE_SP: return "SP";
    case AV_PICTURE_TYPE_BI: return "BI";
    default: return "NONE";
  }
}

// PyAV names side data by the enum's suffix (AV_FRAME_DATA_SEI_UNREGISTERED → "SEI_UNREGISTERED").
std::string side_data_name(AVFrameSideDataType t) {
  switch (t) {
    case AV_FRAME_DATA_PANSCAN: return "PANSCAN";
    case AV_FRAME_DATA_A53_CC: return "A53_CC";
    case AV_FRAME_DATA_STEREO3D: return "STEREO3D";
    case AV_FRAME_DATA_MATRIXENCODING: return "MATRIXENCODING";
    case AV_FRAME_DATA_DOWNMIX_INFO: return "DOWNMIX_INFO";
    case AV_FRAME_DATA_REPLAYGAIN: return "REPLAYGAIN";
    case AV_FRAME_DATA_DISPLAYMATRIX: return "DISPLAYMATRIX";
    case AV_FRAME_DATA_AFD: return "AFD";
    case AV_FRAME_DATA_MOTION_VECTORS: return "MOTION_VECTORS";
    case AV_FRAME_DATA_SKIP_SAMPLES: return "SKIP_SAMPLES";
    case AV_FRAME_DATA_AUDIO_SERVICE_TYPE: return "AUDIO_SERVICE_TYPE";
    case AV_FRAME_DATA_MASTERING_DISPLAY_METADATA: return "MASTERING_DISPLAY_METADATA";
    case AV_FRAME_DATA_GOP_TIMECODE: return "GOP_TIMECODE";
    case AV_FRAME_DATA_SPHERICAL: return "SPHERICAL";
    case AV_FRAME_DATA_CONTENT_LIGHT_LEVEL: return "CONTENT_LIGHT_LEVEL";
    case AV_FRAME_DATA_ICC_PROFILE: return "ICC_PROFILE";
    case AV_FRAME_DATA_S12M_TIMECODE: return "S12M_TIMECODE";
    case AV_FRAME_DATA_DYNAMIC_HDR_PLUS: return "DYNAMIC_HDR_PLUS";
    case AV_FRAME_DATA_REGIONS_OF_INTEREST: return "REGIONS_OF_INTEREST";
    case AV_FRAME_DATA_VIDEO_ENC_PARAMS: return "VIDEO_ENC_PARAMS";
    case AV_FRAME_DATA_SEI_UNREGISTERED: return "SEI_UNREGISTERED";
    case AV_FRAME_DATA_FILM_GRAIN_PARAMS: return "FILM_GRAIN_PARAMS";
    default: {
      const char* n = av_frame_side_data_name(t);
      return n != nullptr ? n : fmt::format("SIDE_DATA_{}", static_cast<int>(t));
    }
  }
}

void add_tags(Metadata& meta, const AVDictionary* tags) {
  const AVDictionaryEntry* e = nullptr;
  while ((e = av_dict_get(tags, "", e, AV_DICT_IGNORE_SUFFIX)) != nullptr) meta.set(e->key, std::string(e->value));
}

// The (N, frame…) result of read_all, filled slot by slot (see read_all).
class FrameBatch {
 public:
  explicit FrameBatch(Request& request) : request_(request) {}

  /// Sets the frame layout and reserves `expected` frames (bounded by the
  /// limits: a hostile count must not reserve more than may be returned).
  void start(Shape frame_shape, DType dtype, std::int64_t expected) {
    frame_bytes_ = static_cast<std::size_t>(request_.check_array(frame_shape, dtype));
    frame_shape_ = std::move(frame_shape);
    dtype_ = dtype;
    const Limits& limits = request_.limits();
    std::uint64_t cap = expected > 0 ? static_cast<std::uint64_t>(expected) : 16;
    cap = std::min<std::uint64_t>({cap, limits.max_frames, std::max<std::uint64_t>(limits.max_bytes / std::max<std::size_t>(frame_bytes_, 1), 1)});
    // The reservation is address space: pages are mapped only as frames
    // arrive, a frame at a time (allocate_gradually, prefault). A header may claim more frames than the system lets us
    // reserve (strict overcommit); then start smaller and grow as frames
    // actually decode.
    for (;;) {
      try {
        reserve(static_cast<std::size_t>(std::max<std::uint64_t>(cap, 1)));
        return;
      } catch (const LimitError&) {
        // cap is within the limits: this is the allocation itself failing
        // (NDArray turns std::bad_alloc into LimitError).
        if (cap <= 16) throw;
        cap /= 4;
      } catch (const std::bad_alloc&) {
        if (cap <= 16) throw;
        cap /= 4;
      }
    }
  }

  /// Memory for the next frame (frame_bytes() bytes), growing the buffer
  /// when the reservation is used up.
  std::byte* next_slot() {
    request_.check_frames(n_ + 1);
    if (n_ == capacity_) {
      // The count was too low: regrow geometrically, keeping what decoded.
      NDArray old = std::move(data_);
      const std::size_t kept = n_;
      reserve(capacity_ * 2);
      Request::prefault(data_.bytes(), kept * frame_bytes_);
      std::memcpy(data_.bytes(), old.bytes(), kept * frame_bytes_);
    }
    std::byte* slot = data_.bytes() + n_++ * frame_bytes_;
    Request::prefault(slot, frame_bytes_);
    return slot;
  }

  std::size_t frames() const noexcept { return n_; }
  /// The next next_slot() moves the frames to a larger buffer.
  bool full() const noexcept { return n_ == capacity_; }
  const Shape& frame_shape() const noexcept { return frame_shape_; }
  DType dtype() const noexcept { return dtype_; }

  /// The (frames(), frame…) array.
  NDArray finish() && {
    Shape shape = frame_shape_;
    shape.insert(shape.begin(), n_);
    if (n_ == capacity_) return std::move(data_).reshaped(std::move(shape));
    if (n_ * 2 < capacity_) {
      // Far fewer frames than announced: hand back memory of the right size.
      NDArray out = request_.allocate(shape, dtype_);
      std::memcpy(out.bytes(), data_.bytes(), out.nbytes());
      return out;
    }
    // The unused tail was never written: a view of the head owns the buffer.
    auto owner = std::make_shared<NDArray>(std::move(data_));
    std::byte* head = owner->bytes();
    return NDArray::adopt(head, std::move(shape), dtype_, [owner](void*) mutable { owner.reset(); });
  }

 private:
  void reserve(std::size_t frames) {
    Shape shape = frame_shape_;
    shape.insert(shape.begin(), frames);
    data_ = request_.allocate_gradually(shape, dtype_);
    capacity_ = frames;
  }

  Request& request_;
  Shape frame_shape_;
  DType dtype_ = DType::uint8;
  std::size_t frame_bytes_ = 0, n_ = 0, capacity_ = 0;
  NDArray data_;
};

// ReadHandle: the imio::plugin::FFmpeg extras (tags, set_video_filter).
class VideoReader final : public ReadHandle {
 public:
  VideoReader(Request& request, std::unique_ptr<Input> input)
      : ReadHandle(request, *input), request_(request), input_(std::move(input)) {}

  NDArray read(const Index& index, const Kwargs& kwargs) override {
    ReadArgs a = read_args(kwargs, "read", kFormat | kFilters | kFrameRate | kThreads);
    a.filters = filters_for(std::move(a.filters));
    LogScope log;
    if (index.is_integer()) return read_one(index.value(), a);
    return read_all(a);
  }

  std::unique_ptr<FrameSource> iter(const Kwargs& kwargs) override {
    ReadArgs a = read_args(kwargs, "iter", kFormat | kFilters | kThreads);
    a.filters = filters_for(std::move(a.filters));
    struct Frames final : FrameSource {
      VideoReader& r;
      ReadArgs a;
      FrameStream stream;
      FramePtr frame = make_frame();
      ArrayRecycler recycler;
      Frames(VideoReader& reader, ReadArgs args) : r(reader), a(std::move(args)), stream(*r.input_, a.filters) {}
      std::optional<NDArray> next() override {
        LogScope log;
        if (!stream.next(frame.get())) return std::nullopt;
        return r.to_array(*frame, a.format, &recycler);
      }
    };
    // From the handle's current decode position (frame 0 on a fresh handle).
    // thread_type None keeps FFmpeg's default (frame+slice) where imageio
    // picks SLICE: the same pixels, and x264's one-slice frames decode on
    // every core instead of one. Threading applies from frame 0 on.
    input_->set_threading(a.threading);
    if (!input_->next_index()) {
      input_->rewind();
    } else if (*input_->next_index() == 0) {
      input_->to_start();
    }
    return std::make_unique<Frames>(*this, std::move(a));
  }

  ImageProperties properties(const Index& index, const Kwargs& kwargs) override {
    const ReadArgs a = read_args(kwargs, "properties", kFormat);
    LogScope log;
    const PixelLayout layout = layout_of(a.format.value_or(input_->pixel_format()));
    Shape shape = layout.shape(input_->width(), input_->height());
    if (index.is_integer()) return {.shape = shape, .dtype = layout.dtype};
    // D11: exactly what read returns, so the frames that decode: neither the
    // container's stated count nor its packets (issue #19: a cut MOV states
    // 25 frames and holds 5; a cut MP4 lists 12 and holds 6).
    input_->set_threading(a.threading);
    // (0 when nothing decodes: imread raises there, imageio's improps says 0.)
    const auto n = static_cast<std::size_t>(input_->count_decoded_frames());
    shape.insert(shape.begin(), n);
    return {.shape = shape, .dtype = layout.dtype, .n_images = n, .is_batch = true};
  }

  Metadata metadata(const Index& index, bool, const Kwargs& kwargs) override {
    const ReadArgs a = read_args(kwargs, "metadata", kFrameRate);
    LogScope log;
    if (index.is_integer()) {
      FramePtr f = frame_at(index.value(), a);
      Metadata m;
      m.set("key_frame", is_key_frame(*f));
      if (f->pts != AV_NOPTS_VALUE) {
        m.set("time", static_cast<double>(f->pts) * av_q2d(input_->stream()->time_base));
      } else {
        m.set("time", Value());
      }
      m.set("interlaced_frame", is_interlaced(*f));
      m.set("frame_type", picture_type(f->pict_type));
      for (int i = 0; i < f->nb_side_data; ++i) {
        const AVFrameSideData* sd = f->side_data[i];
        const auto* p = reinterpret_cast<const std::byte*>(sd->data);
        m.set(side_data_name(sd->type), Bytes(p, p + sd->size));
      }
      return m;
    }
    // D13: the container and stream, whatever was read before.
    const AVStream* st = input_->stream();
    Metadata m;
    m.set("video_format", std::string(av_get_pix_fmt_name(input_->pixel_format()) ? av_get_pix_fmt_name(input_->pixel_format()) : "none"));
    m.set("codec", std::string(input_->codec()->name));
    m.set("long_codec", std::string(input_->codec()->long_name ? input_->codec()->long_name : input_->codec()->name));
    const char* profile = av_get_profile_name(input_->codec(), st->codecpar->profile);
    m.set("profile", profile != nullptr ? Value(std::string(profile)) : Value());
    m.set("fps", av_q2d(input_->frame_rate()));
    if (st->duration != AV_NOPTS_VALUE) m.set("duration", static_cast<double>(st->duration) * av_q2d(st->time_base));
    add_tags(m, input_->container()->metadata);
    add_tags(m, st->metadata);  // stream tags override container tags (spec §5.2.4)
    return m;
  }

  // With a `recycler` (imiter), a frame reuses the buffer of a frame the
  // caller already dropped: no fresh pages to fault in for every frame.
  NDArray to_array(const AVFrame& frame, std::optional<AVPixelFormat> format, ArrayRecycler* recycler = nullptr) {
    const PixelLayout layout = layout_of(format.value_or(static_cast<AVPixelFormat>(frame.format)));
    request_.check_pixels(static_cast<std::uint64_t>(frame.width), static_cast<std::uint64_t>(frame.height));
    Shape shape = layout.shape(frame.width, frame.height);
    NDArray out;
    if (recycler != nullptr) {
      request_.check_array(shape, layout.dtype);
      out = recycler->allocate(std::move(shape), layout.dtype);
    } else {
      out = request_.allocate(shape, layout.dtype);
    }
    converter_.convert(frame, layout, out.bytes());
    return out;
  }

 private:
  bool constant_rate(const ReadArgs& a) const { return a.constant_framerate.value_or(!input_->variable_frame_rate()); }

  // Frame k, decoded and unfiltered, as iter() would yield it.
  FramePtr frame_at(std::int64_t k, const ReadArgs& a) {
    if (!input_->seek_to(k, constant_rate(a))) out_of_range(k);
    FramePtr f = make_frame();
    if (!input_->next_frame(f.get())) out_of_range(k);
    return f;
  }

  NDArray read_one(std::int64_t k, ReadArgs& a) {
    FramePtr f = frame_at(k, a);
    if (a.filters.empty()) return to_array(*f, a.format);
    // A filter sees this one frame; filters that need several (a delay)
    // cannot serve single-frame reads (spec §5.2.2).
    FilterGraph graph(a.filters, *f, input_->stream()->time_base, input_->frame_rate());
    graph.push(f.get());
    FramePtr out = make_frame();
    if (!graph.pull(out.get())) {
      graph.push(nullptr);
      if (!graph.pull(out.get())) throw ArgumentError("the filters give no frame for a single input frame (use index=all or imiter)");
    }
    return to_array(*out, a.format);
  }

  // D12: sized by the frames actually decoded. Every frame is converted
  // straight into its slot of one batch buffer (no per-frame array, no
  // assembling copy), pre-sized from the container's count or, when it
  // states none (Matroska), the packets counted by demuxing. A count that
  // is too low regrows the buffer geometrically; one that is too high
  // leaves a tail that was never touched (so never paged in), cut off
  // without a copy.
  NDArray read_all(ReadArgs& a) {
    // thread_type None: FFmpeg's default (frame+slice) already runs frame
    // threads wherever the codec has them, which is spec §5.2.2's "FRAME";
    // keeping it also keeps the decoder (and frame 0) the constructor opened.
    input_->set_threading(a.threading);
    const std::int64_t expected = input_->stream()->nb_frames > 0 ? input_->stream()->nb_frames : input_->count_frames();
    input_->to_start();
    FrameStream stream(*input_, a.filters);
    FramePtr frame = make_frame();
    FrameBatch batch(request_);
    // Declared after `batch`: on an error its workers stop before the
    // buffer they write into is freed.
    std::optional<ConverterPool> pool;
    while (stream.next(frame.get())) {
      const PixelLayout layout = layout_of(a.format.value_or(static_cast<AVPixelFormat>(frame->format)));
      if (batch.frames() == 0) {
        request_.check_pixels(static_cast<std::uint64_t>(frame->width), static_cast<std::uint64_t>(frame->height));
        batch.start(layout.shape(frame->width, frame->height), layout.dtype, expected);
        pool.emplace(converter_, ConverterPool::workers_for(frame->width, frame->height, a.threading.count));
      } else if (layout.shape(frame->width, frame->height) != batch.frame_shape() || layout.dtype != batch.dtype()) {
        throw DecodeError(fmt::format("frame {} has another size or layout than frame 0: the frames cannot be stacked", batch.frames()));
      }
      if (batch.full()) pool->drain();  // growing moves the slots being written
      pool->convert(*frame, layout, batch.next_slot());
    }
    if (batch.frames() == 0) throw DecodeError("no frame of the video decodes");
    pool->drain();
    return std::move(batch).finish();
  }

  Request& request_;
  std::unique_ptr<Input> input_;
  FrameConverter converter_;
};

}  // namespace

std::unique_ptr<Plugin> make_video_reader(Request& request, std::unique_ptr<Input> input) {
  return std::make_unique<VideoReader>(request, std::move(input));
}

}  // namespace imio::ffmpeg
