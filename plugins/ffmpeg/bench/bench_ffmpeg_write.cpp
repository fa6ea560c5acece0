// bench_ffmpeg_write: encoding the 280 frames of cockatoo.mp4 (1280x720,
// rgb24) to an mp4 with libx264, as imio does it, as PyAV does it, and as a
// C programmer does it with FFmpeg's libraries directly.
//
//   bench_ffmpeg_write [--runs N] [--frames N] [--dir FOLDER]
//
// Two encoder settings, each used by every method so the outputs are
// equivalent (the x264 settings string each file carries is printed):
//   PyAV's defaults   add_stream('libx264') sets bit_rate=1024000 (x264 ABR
//                     at 1 Mbit/s) and thread_count=0;
//   FFmpeg's defaults libx264's own: CRF 23, no bit rate (imio's default).
// Methods, best of N after a warm-up round, the methods interleaved in each
// round (bench_timing.hpp's turns_best_ms, fair under a changing load):
//   FFmpeg direct   libavformat + libavcodec, sws_scale(SWS_BILINEAR) rgb24 →
//                   yuv420p into one reused frame, thread_count=0
//   imio imwrite    imio::imwrite(path, frames, codec=libx264[, bitrate])
//   imio (slices)   the same with codec_options thread_type=slice: PyAV's
//                   codec context has thread_type SLICE, so x264 runs
//                   sliced threads (2 slices per frame here) where FFmpeg's
//                   default, and imio's, is frame threads; with it imio's
//                   file has exactly PyAV's x264 settings
//   imio write_frame  imopen + plugin_as<FFmpeg>: init_video_stream("libx264")
//                   and one write_frame per frame (FFmpeg's defaults only:
//                   init_video_stream has no bit-rate option, as imageio's)
//   PyAV            container.add_stream + VideoFrame.from_ndarray + encode,
//                   timed by Python's perf_counter in a subprocess, when the
//                   system Python has av and numpy.
// The imio outputs are checked to read back as (280,720,1280,3) (spec §6,
// behaviour 78 at full length).
#include <imio/imio.hpp>
#include <imio/plugins/ffmpeg.hpp>

#include "bench_timing.hpp"

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libswscale/swscale.h>
}

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <string>
#include <vector>

namespace {

namespace fs = std::filesystem;
using imio_bench::Method;
using imio_bench::turns_best_ms;
using imio_bench::wall;

[[noreturn]] void die(const char* what) {
  std::fprintf(stderr, "bench_ffmpeg_write: %s\n", what);
  std::exit(1);
}

// libx264 through FFmpeg's libraries, the plain way; bit_rate 0 = CRF 23.
void ffmpeg_direct(const imio::NDArray& frames, const fs::path& out, std::int64_t bit_rate) {
  const int n = static_cast<int>(frames.shape()[0]);
  const int h = static_cast<int>(frames.shape()[1]), w = static_cast<int>(frames.shape()[2]);
  AVFormatContext* fmt = nullptr;
  if (avformat_alloc_output_context2(&fmt, nullptr, nullptr, out.c_str()) < 0) die("no muxer");
  const AVCodec* codec = avcodec_find_encoder_by_name("libx264");
  if (codec == nullptr) die("no libx264");
  AVStream* st = avformat_new_stream(fmt, nullptr);
  AVCodecContext* enc = avcodec_alloc_context3(codec);
  enc->width = w;
  enc->height = h;
  enc->pix_fmt = AV_PIX_FMT_YUV420P;
  enc->time_base = AVRational{1, 24};
  enc->framerate = AVRational{24, 1};
  enc->thread_count = 0;
  enc->bit_rate = bit_rate;
  if ((fmt->oformat->flags & AVFMT_GLOBALHEADER) != 0) enc->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
  if (avcodec_open2(enc, codec, nullptr) < 0) die("libx264 does not open");
  avcodec_parameters_from_context(st->codecpar, enc);
  st->time_base = enc->time_base;
  if (avio_open(&fmt->pb, out.c_str(), AVIO_FLAG_WRITE) < 0 || avformat_write_header(fmt, nullptr) < 0) die("cannot start the file");
  SwsContext* sws = sws_getContext(w, h, AV_PIX_FMT_RGB24, w, h, AV_PIX_FMT_YUV420P, SWS_BILINEAR, nullptr, nullptr, nullptr);
  AVFrame* yuv = av_frame_alloc();
  yuv->width = w;
  yuv->height = h;
  yuv->format = AV_PIX_FMT_YUV420P;
  av_frame_get_buffer(yuv, 64);
  AVPacket* pkt = av_packet_alloc();
  auto drain = [&] {
    while (avcodec_receive_packet(enc, pkt) == 0) {
      av_packet_rescale_ts(pkt, enc->time_base, st->time_base);
      pkt->stream_index = st->index;
      av_interleaved_write_frame(fmt, pkt);
    }
  };
  const std::size_t frame_bytes = frames.nbytes() / static_cast<std::size_t>(n);
  for (int i = 0; i < n; ++i) {
    av_frame_make_writable(yuv);
    const auto* src = reinterpret_cast<const std::uint8_t*>(frames.bytes() + static_cast<std::size_t>(i) * frame_bytes);
    const int stride = w * 3;
    sws_scale(sws, &src, &stride, 0, h, yuv->data, yuv->linesize);
    yuv->pts = i;
    avcodec_send_frame(enc, yuv);
    drain();
  }
  avcodec_send_frame(enc, nullptr);
  drain();
  av_write_trailer(fmt);
  avio_closep(&fmt->pb);
  av_packet_free(&pkt);
  av_frame_free(&yuv);
  sws_freeContext(sws);
  avcodec_free_context(&enc);
  avformat_free_context(fmt);
}

void imio_write_frames(const imio::NDArray& frames, const fs::path& out) {
  auto file = imio::imopen(out, "w");
  auto& ff = file.plugin_as<imio::plugin::FFmpeg>();
  ff.init_video_stream("libx264");
  const imio::Shape shape(frames.shape().begin() + 1, frames.shape().end());
  const std::size_t bytes = frames.nbytes() / frames.shape()[0];
  for (std::size_t i = 0; i < frames.shape()[0]; ++i) {
    // A view of frame i (no copy), as an application's own buffer would be.
    ff.write_frame(imio::NDArray::adopt(const_cast<std::byte*>(frames.bytes()) + i * bytes, shape, imio::DType::uint8, [](void*) {}));
  }
  file.close();
}

// PyAV's encode loop once, timed in the system Python (perf_counter around
// the encoding only); < 0 when PyAV or numpy is missing. bit_rate < 0
// keeps PyAV's default.
double pyav_ms(const fs::path& npy, const fs::path& out, std::int64_t bit_rate, const fs::path& dir) {
  const std::string py = IMIO_BENCH_PYTHON;
  if (py.empty() || std::system(("\"" + py + "\" -c \"import av, numpy\" >/dev/null 2>&1").c_str()) != 0) return -1;
  const fs::path script = dir / "pyav_write.py", result = dir / "pyav_write_ms.txt";
  std::ofstream(script) << "import sys, time, av, numpy as np\n"
                           "frames = np.load(sys.argv[1])\n"
                           "bit_rate = int(sys.argv[3])\n"
                           "def encode():\n"
                           "    c = av.open(sys.argv[2], 'w')\n"
                           "    s = c.add_stream('libx264', rate=24)\n"
                           "    s.width, s.height, s.pix_fmt = frames.shape[2], frames.shape[1], 'yuv420p'\n"
                           "    if bit_rate >= 0: s.bit_rate = bit_rate\n"
                           "    for a in frames:\n"
                           "        for p in s.encode(av.VideoFrame.from_ndarray(a, format='rgb24')): c.mux(p)\n"
                           "    for p in s.encode(): c.mux(p)\n"
                           "    c.close()\n"
                           "t = time.perf_counter()\n"
                           "encode()\n"
                           "open(sys.argv[4], 'w').write(str((time.perf_counter() - t) * 1000))\n";
  const std::string cmd = "\"" + py + "\" \"" + script.string() + "\" \"" + npy.string() + "\" \"" + out.string() + "\" " +
                          std::to_string(bit_rate) + " \"" + result.string() + "\"";
  if (std::system(cmd.c_str()) != 0) return -1;
  double ms = -1;
  std::ifstream(result) >> ms;
  return ms;
}

// The settings string x264 writes into its stream ("cabac=1 ref=3 …").
std::string x264_settings(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  const std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const std::size_t at = data.find("options: ");
  if (at == std::string::npos) return "(none)";
  const std::size_t end = data.find('\0', at);
  return data.substr(at + 9, end == std::string::npos ? std::string::npos : end - at - 9);
}

// x264's settings but the thread counts (they follow the machine, not the caller).
std::string without_threads(const std::string& s) {
  std::string out, word;
  for (std::size_t i = 0; i <= s.size(); ++i) {
    if (i == s.size() || s[i] == ' ') {
      if (word.rfind("threads=", 0) != 0 && word.rfind("lookahead_threads=", 0) != 0) out += word + ' ';
      word.clear();
    } else {
      word += s[i];
    }
  }
  return out;
}

void check_read_back(const fs::path& file, std::size_t n) {
  const imio::ImageProperties p = imio::improps(file);
  if (p.shape != imio::Shape{n, 720, 1280, 3}) die(("wrong shape read back from " + file.string()).c_str());
}

void row(const char* name, double ms, double base, const fs::path& out) {
  if (ms < 0) return;
  std::printf("  %-18s %9.1f ms  %5.2fx   %7.0f kB\n", name, ms, ms / base, static_cast<double>(fs::file_size(out)) / 1024);
}

}  // namespace

int main(int argc, char** argv) {
  int runs = 2;
  std::size_t n_frames = 280;
  fs::path dir = fs::temp_directory_path() / "imio-bench-ffmpeg-write";
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i];
    if (a == "--runs") runs = std::atoi(argv[i + 1]);
    else if (a == "--frames") n_frames = static_cast<std::size_t>(std::atoi(argv[i + 1]));
    else if (a == "--dir") dir = argv[i + 1];
  }
  const fs::path cockatoo = fs::path(IMIO_BENCH_CORPUS) / "standard" / "cockatoo.mp4";
  if (!fs::exists(cockatoo)) die("the corpus's standard/cockatoo.mp4 is missing");
  fs::create_directories(dir);
  imio::NDArray all = imio::imread(cockatoo);
  const std::size_t n = std::min(n_frames, all.shape()[0]);
  imio::Shape shape = all.shape();
  shape[0] = n;
  imio::NDArray frames(shape, imio::DType::uint8);
  std::copy(all.bytes(), all.bytes() + frames.nbytes(), frames.bytes());
  all = imio::NDArray();
  const fs::path npy = dir / "frames.npy";
  imio::imwrite(npy, frames);

  struct Setting {
    const char* title;
    std::int64_t bit_rate;  // for FFmpeg/imio; PyAV: -1 keeps its default
    std::int64_t pyav_bit_rate;
    bool write_frame;
  };
  const Setting settings[] = {
      {"PyAV's defaults (ABR 1 Mbit/s)", 1024000, -1, false},
      {"FFmpeg's defaults (CRF 23; imio's default)", 0, 0, true},
  };
  std::printf("encode %zu frames 1280x720 rgb24 → libx264 yuv420p mp4 (best of %d, methods interleaved)\n", n, runs);
  for (const Setting& s : settings) {
    std::printf("%s\n", s.title);
    imio::Kwargs kw = {{"codec", "libx264"}};
    if (s.bit_rate > 0) kw.emplace_back("bitrate", s.bit_rate);
    imio::Kwargs sliced_kw = kw;
    sliced_kw.emplace_back("codec_options", imio::Dict{{"thread_type", "slice"}});
    // Each method writes its own file; PyAV's time is as Python measured it.
    std::vector<Method> methods;
    std::vector<fs::path> outs;
    auto add = [&](const char* name, const char* file, std::function<double(const fs::path&)> run) {
      outs.push_back(dir / file);
      methods.push_back({name, [run = std::move(run), out = outs.back()] { return run(out); }});
    };
    auto timed = [](std::function<void(const fs::path&)> f) {
      return [f](const fs::path& out) { return wall([&] { f(out); })(); };
    };
    add("FFmpeg direct", "direct.mp4", timed([&](const fs::path& o) { ffmpeg_direct(frames, o, s.bit_rate); }));
    add("imio imwrite", "imwrite.mp4", timed([&](const fs::path& o) { imio::imwrite(o, frames, {.kwargs = kw}); }));
    if (s.write_frame) add("imio write_frame", "write_frame.mp4", timed([&](const fs::path& o) { imio_write_frames(frames, o); }));
    add("imio (slices)", "imwrite_slices.mp4", timed([&](const fs::path& o) { imio::imwrite(o, frames, {.kwargs = sliced_kw}); }));
    add("PyAV", "pyav.mp4", [&](const fs::path& o) { return pyav_ms(npy, o, s.pyav_bit_rate, dir); });
    const std::vector<double> best = turns_best_ms(runs, methods);
    for (std::size_t i = 0; i < methods.size(); ++i) row(methods[i].name, best[i], best[0], outs[i]);
    check_read_back(outs[1], n);
    if (s.write_frame) check_read_back(outs[2], n);
    const std::size_t py = methods.size() - 1, sliced = py - 1;
    const bool have_pyav = best[py] >= 0;
    if (have_pyav) std::printf("  imio imwrite / PyAV = %.2f, imio (slices) / PyAV = %.2f\n", best[1] / best[py], best[sliced] / best[py]);
    const std::string ref = without_threads(x264_settings(outs[0]));
    std::printf("  x264 settings (FFmpeg direct): %s\n", x264_settings(outs[0]).c_str());
    std::printf("  same x264 settings but threads:");
    for (std::size_t i = 1; i < py; ++i) {
      std::printf(" %s %s;", methods[i].name, without_threads(x264_settings(outs[i])) == ref ? "yes" : "NO");
    }
    if (have_pyav) {
      std::printf(" PyAV %s", without_threads(x264_settings(outs[py])) == ref ? "yes" : "NO");
      if (without_threads(x264_settings(outs[py])) != ref) std::printf("\n  x264 settings (PyAV): %s", x264_settings(outs[py]).c_str());
      std::printf("\n  imio (slices) has PyAV's x264 settings: %s", x264_settings(outs[sliced]) == x264_settings(outs[py]) ? "yes" : "NO");
    }
    std::printf("\n");
  }
  return 0;
}
