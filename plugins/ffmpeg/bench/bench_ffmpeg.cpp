// bench_ffmpeg: decoding every frame of a video to RGB.
//
//   bench_ffmpeg [--runs N] [--dir FOLDER] [--only NAME] [--pause S]
//                                               the timing table (of input
//                                               NAME only; with a pause of S
//                                               seconds before every timed
//                                               read-all turn, see below)
//   bench_ffmpeg --iterate FILE                 imiter over FILE only (for
//                                               /usr/bin/time -v peak memory)
//
// Inputs: the corpus's cockatoo.mp4 (h264 yuv444p, 280 x 1280x720) and
// cockatoo_yuv420.mp4, and a 1080p H.264 clip generated here (60 frames).
// Methods, best of N runs after a warm-up, the methods of a table taking
// turns in every run (PyAV included, so a load swing hits all alike):
// Iterating (one frame at a time, nothing kept):
//   FFmpeg direct   libavformat + libavcodec + sws_scale(SWS_BILINEAR) to
//                   rgb24, one frame buffer reused: the floor imio builds on
//   imio imiter     imio::imiter(path), frames from its buffer recycler
//   cv::VideoCapture  read() of every frame (BGR), when OpenCV is built in
//   PyAV            container.decode + to_ndarray('rgb24') per frame, timed
//                   by Python's perf_counter in a subprocess after a warm-up
//                   run in it (when the system Python has av and numpy)
// Reading all frames into one (N,H,W,3) array:
//   FFmpeg direct   the same loop, sws_scale into slot i of one buffer sized
//                   by the container's frame count (new[]: 4 KiB pages)
//   FFmpeg, huge-page stack  the same into a buffer offered to the kernel as
//                   transparent huge pages (2 MiB aligned, MADV_HUGEPAGE), as
//                   numpy's np.empty and imio's large arrays are
//   imio imread     imio::imread(path)
//   cv::VideoCapture  read() of every frame, copied into slot i of one buffer
//                   sized by CAP_PROP_FRAME_COUNT
//   PyAV (imageio)  imageio's pyav read: np.empty((N,H,W,3)), frame i's
//                   to_ndarray('rgb24') stored into slot i
// Memory: the read-all methods write ~774 MB into fresh memory. On a VM whose
// balloon reports free memory to the host (this machine: Firecracker,
// virtio-balloon free page reporting), a huge page that was free for a few
// seconds is faulted in by the host 4 KiB at a time, several times the cost
// of one that was just freed. Methods taking turns in one process (and PyAV,
// timed after a warm-up read in its process) get memory the previous read
// just freed; --pause S sleeps S seconds before every timed read-all turn
// (PyAV: between its warm-up and its timed read), so every method meets the
// memory of a fresh process (3 s is enough here).
// Encoding is bench_ffmpeg_write's (the same x264 settings on both sides).
#include <imio/imio.hpp>

#include "bench_timing.hpp"

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/imgutils.h>
#include <libswscale/swscale.h>
}

#ifdef IMIO_BENCH_OPENCV
#include <opencv2/videoio.hpp>
#endif

#include <sys/mman.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace {

namespace fs = std::filesystem;
using imio_bench::Method;
using imio_bench::turns_best_ms;
using imio_bench::wall;
volatile unsigned char g_sink = 0;

enum class Keep { none, stack, huge_page_stack };

// The stack of all frames: new[] (4 KiB pages), or 2 MiB aligned and
// offered as transparent huge pages.
struct Stack {
  unsigned char* data = nullptr;
  bool huge = false;
  Stack(std::size_t bytes, bool huge_pages) : huge(huge_pages) {
    if (!huge) {
      data = new unsigned char[bytes];  // fresh, not zeroed (no "()"), like an array result
      return;
    }
    constexpr std::size_t kHuge = std::size_t{2} << 20;
    data = static_cast<unsigned char*>(::operator new((bytes + kHuge - 1) / kHuge * kHuge, std::align_val_t{kHuge}));
    ::madvise(data, (bytes + kHuge - 1) / kHuge * kHuge, MADV_HUGEPAGE);
  }
  ~Stack() {
    if (huge) {
      ::operator delete(data, std::align_val_t{std::size_t{2} << 20});
    } else {
      delete[] data;
    }
  }
  Stack(const Stack&) = delete;
  Stack& operator=(const Stack&) = delete;
};

// FFmpeg used directly, the way a C programmer decodes a file to RGB:
// one reused frame buffer, or slot i of one stack of all frames.
std::size_t ffmpeg_direct(const fs::path& path, Keep keep = Keep::none) {
  AVFormatContext* fmt = nullptr;
  if (avformat_open_input(&fmt, path.c_str(), nullptr, nullptr) < 0) std::abort();
  avformat_find_stream_info(fmt, nullptr);
  const AVCodec* codec = nullptr;
  const int si = av_find_best_stream(fmt, AVMEDIA_TYPE_VIDEO, -1, -1, &codec, 0);
  AVCodecContext* dec = avcodec_alloc_context3(codec);
  avcodec_parameters_to_context(dec, fmt->streams[si]->codecpar);
  dec->thread_count = 0;
  avcodec_open2(dec, codec, nullptr);
  AVPacket* pkt = av_packet_alloc();
  AVFrame* frame = av_frame_alloc();
  SwsContext* sws = nullptr;
  std::vector<unsigned char> rgb;
  std::unique_ptr<Stack> all;
  std::size_t n = 0;
  auto drain = [&] {
    while (avcodec_receive_frame(dec, frame) == 0) {
      const std::size_t frame_bytes = static_cast<std::size_t>(frame->width) * frame->height * 3;
      if (sws == nullptr) {
        sws = sws_getContext(frame->width, frame->height, static_cast<AVPixelFormat>(frame->format), frame->width,
                             frame->height, AV_PIX_FMT_RGB24, SWS_BILINEAR, nullptr, nullptr, nullptr);
        if (keep != Keep::none) {
          const auto frames = static_cast<std::size_t>(std::max<std::int64_t>(fmt->streams[si]->nb_frames, 1));
          all = std::make_unique<Stack>(frame_bytes * frames, keep == Keep::huge_page_stack);
        } else {
          rgb.resize(frame_bytes + 64);
        }
      }
      uint8_t* dst[4] = {all ? all->data + n * frame_bytes : rgb.data()};
      int lines[4] = {frame->width * 3};
      sws_scale(sws, frame->data, frame->linesize, 0, frame->height, dst, lines);
      g_sink = g_sink ^ dst[0][0];
      ++n;
    }
  };
  while (av_read_frame(fmt, pkt) >= 0) {
    if (pkt->stream_index == si) {
      avcodec_send_packet(dec, pkt);
      drain();
    }
    av_packet_unref(pkt);
  }
  avcodec_send_packet(dec, nullptr);
  drain();
  sws_freeContext(sws);
  av_frame_free(&frame);
  av_packet_free(&pkt);
  avcodec_free_context(&dec);
  avformat_close_input(&fmt);
  return n;
}

std::size_t imio_iter(const fs::path& path) {
  std::size_t n = 0;
  for (imio::NDArray& f : imio::imiter(path)) {
    g_sink = g_sink ^ static_cast<unsigned char>(f.bytes()[0]);
    ++n;
  }
  return n;
}

#ifdef IMIO_BENCH_OPENCV
std::size_t opencv_capture(const fs::path& path) {
  cv::VideoCapture cap(path.string(), cv::CAP_FFMPEG);
  cv::Mat m;
  std::size_t n = 0;
  while (cap.read(m)) {
    g_sink = g_sink ^ m.data[0];
    ++n;
  }
  return n;
}

std::size_t opencv_read_all(const fs::path& path) {
  cv::VideoCapture cap(path.string(), cv::CAP_FFMPEG);
  const auto count = static_cast<std::size_t>(std::max(cap.get(cv::CAP_PROP_FRAME_COUNT), 1.0));
  cv::Mat m;
  std::unique_ptr<unsigned char[]> all;
  std::size_t n = 0, frame_bytes = 0;
  while (n < count && cap.read(m)) {
    if (!all) {
      frame_bytes = m.total() * m.elemSize();
      all.reset(new unsigned char[frame_bytes * count]);
    }
    std::memcpy(all.get() + n * frame_bytes, m.data, frame_bytes);
    g_sink = g_sink ^ all[n * frame_bytes];
    ++n;
  }
  return n;
}
#endif

// Runs a Python script that writes its time in ms to argv[1]; < 0 when
// PyAV is not installed or the script fails.
double python_ms(const fs::path& dir, const std::string& name, const std::string& script, const std::string& args) {
  static const bool has_pyav = [] {
    const std::string py = IMIO_BENCH_PYTHON;
    return !py.empty() && std::system(("\"" + py + "\" -c \"import av, numpy\" >/dev/null 2>&1").c_str()) == 0;
  }();
  if (!has_pyav) return -1;
  const std::string py = IMIO_BENCH_PYTHON;
  const fs::path file = dir / (name + ".py"), out = dir / (name + "_ms.txt");
  FILE* f = std::fopen(file.c_str(), "w");
  std::fputs(script.c_str(), f);
  std::fclose(f);
  const std::string cmd = "\"" + py + "\" \"" + file.string() + "\" \"" + out.string() + "\" " + args + " 2>/dev/null";
  if (std::system(cmd.c_str()) != 0) return -1;
  FILE* r = std::fopen(out.c_str(), "r");
  double ms = -1;
  if (r == nullptr || std::fscanf(r, "%lf", &ms) != 1) ms = -1;
  if (r != nullptr) std::fclose(r);
  return ms;
}

std::string quoted(const fs::path& p) { return "\"" + p.string() + "\""; }

// PyAV: decode + to_ndarray('rgb24') per frame; with `keep`, as imageio's
// pyav plugin reads index=all: an array sized by the container's count,
// frame i stored into slot i. One run in a fresh process after a warm-up
// run in it (and `pause` seconds), timed by Python's perf_counter (open to
// close, as imio's calls are timed): the caller interleaves it with the
// other methods. Same decoder threads as the others: thread_count 0 (PyAV's
// default, FFmpeg's automatic count) with frame and slice threads.
double pyav_ms(const fs::path& path, const fs::path& dir, bool keep = false, double pause = 0) {
  const std::string script =
      "import sys, time, av, numpy as np\n"
      "for i in range(2):\n"
      "    if i == 1: time.sleep(float(sys.argv[3]))\n"
      "    t = time.perf_counter()\n"
      "    c = av.open(sys.argv[2])\n"
      "    s = c.streams.video[0]\n"
      "    s.thread_type = 'AUTO'\n" +
      std::string(keep ? "    out = np.empty((s.frames, s.height, s.width, 3), np.uint8)\n"
                         "    for k, fr in enumerate(c.decode(video=0)): out[k] = fr.to_ndarray(format='rgb24')\n"
                       : "    for fr in c.decode(video=0): a = fr.to_ndarray(format='rgb24')\n") +
      "    c.close()\n"
      "    ms = (time.perf_counter() - t) * 1000\n" +
      std::string(keep ? "    del out\n" : "") +
      "open(sys.argv[1], 'w').write(str(ms))\n";
  return python_ms(dir, keep ? "pyav_read_all" : "pyav_decode", script, quoted(path) + " " + std::to_string(pause));
}

// `run` after `pause` seconds of sleep (not timed).
std::function<double()> after_pause(double pause, std::function<double()> run) {
  return [pause, run = std::move(run)] {
    if (pause > 0) std::this_thread::sleep_for(std::chrono::duration<double>(pause));
    return run();
  };
}

std::string fmt_pause(double pause) {
  char text[64];
  std::snprintf(text, sizeof text, " (%.1f s pause before each timed turn)", pause);
  return text;
}

void row(const char* name, double ms, double base) {
  if (ms < 0) return;
  std::printf("  %-20s %10.1f ms   %5.2fx\n", name, ms, ms / base);
}

}  // namespace

int main(int argc, char** argv) {
  int runs = 3;
  double pause = 0;
  std::string only;  // a file name: that input only
  fs::path dir = fs::temp_directory_path() / "imio-bench-ffmpeg";
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--iterate" && i + 1 < argc) {
      std::printf("%zu frames\n", imio_iter(argv[++i]));
      return 0;
    }
    if (a == "--runs" && i + 1 < argc) runs = std::atoi(argv[++i]);
    if (a == "--dir" && i + 1 < argc) dir = argv[++i];
    if (a == "--only" && i + 1 < argc) only = argv[++i];
    if (a == "--pause" && i + 1 < argc) pause = std::atof(argv[++i]);
  }
  fs::create_directories(dir);
  const fs::path corpus = IMIO_BENCH_CORPUS;
  std::vector<fs::path> inputs;
  for (const char* name : {"standard/cockatoo.mp4", "standard/cockatoo_yuv420.mp4"}) {
    if (fs::exists(corpus / name)) inputs.push_back(corpus / name);
  }
  const fs::path hd = dir / "hd1080.mp4";
  if (!fs::exists(hd)) {
    imio::NDArray frames({60, 1080, 1920, 3}, imio::DType::uint8);
    auto* p = frames.data<std::uint8_t>();
    for (std::size_t i = 0; i < frames.size(); ++i) p[i] = static_cast<std::uint8_t>((i * 2654435761u) >> 24 & 0x3f) + static_cast<std::uint8_t>((i / 5760) % 190);
    imio::imwrite(hd, frames, {.kwargs = {{"fps", 30}, {"codec", "libx264"}}});
  }
  inputs.push_back(hd);
  if (!only.empty()) {
    std::erase_if(inputs, [&](const fs::path& p) { return p.filename() != only; });
  }
  std::printf("decode all frames to RGB (best of %d, the methods of a table taking turns; ratio to FFmpeg direct)\n", runs);
  for (const fs::path& in : inputs) {
    const std::size_t n = ffmpeg_direct(in);
    std::printf("%s (%zu frames)\n iterate:\n", in.filename().c_str(), n);
    std::vector<Method> iterate = {{"FFmpeg direct", wall([&] { ffmpeg_direct(in); })}, {"imio imiter", wall([&] { imio_iter(in); })}};
#ifdef IMIO_BENCH_OPENCV
    iterate.push_back({"cv::VideoCapture", wall([&] { opencv_capture(in); })});
#endif
    iterate.push_back({"PyAV", [&] { return pyav_ms(in, dir); }});
    const std::vector<double> it = turns_best_ms(runs, iterate);
    for (std::size_t i = 0; i < it.size(); ++i) row(iterate[i].name, it[i], it[0]);
    std::printf(" read all into one array%s:\n", pause > 0 ? fmt_pause(pause).c_str() : "");
    std::vector<Method> all = {
        {"FFmpeg direct", after_pause(pause, wall([&] { ffmpeg_direct(in, Keep::stack); }))},
        {"FFmpeg, huge pages", after_pause(pause, wall([&] { ffmpeg_direct(in, Keep::huge_page_stack); }))},
        {"imio imread", after_pause(pause, wall([&] { g_sink = g_sink ^ static_cast<unsigned char>(imio::imread(in).bytes()[0]); }))}};
#ifdef IMIO_BENCH_OPENCV
    all.push_back({"cv::VideoCapture", after_pause(pause, wall([&] { opencv_read_all(in); }))});
#endif
    all.push_back({"PyAV (imageio)", [&] { return pyav_ms(in, dir, true, pause); }});
    const std::vector<double> al = turns_best_ms(runs, all);
    for (std::size_t i = 0; i < al.size(); ++i) row(all[i].name, al[i], al[0]);
  }
  return g_sink == 255 ? 1 : 0;
}
