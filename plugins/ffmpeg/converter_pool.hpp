// Converting decoded frames on more than one thread when a whole video is
// read into one array.
//
// Why: with frame-threaded decoding the decoder already runs on FFmpeg's
// threads, and the pixel-format conversion (libswscale, one frame at a
// time on the reading thread) becomes the critical path: for yuv444p
// H.264 at 720p it costs as much wall time as the decoding. Frames are
// independent, so converting frame k on one thread while the reading
// thread converts k+1 gives the same pixels in less time (measured 8-13 %
// less for cockatoo.mp4 on two cores). swscale's own `threads` option is
// not used: it slices each frame, which is not guaranteed to give the
// same pixels as PyAV's single-slice conversion.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

#include "av_util.hpp"
#include "pixel_layout.hpp"

namespace imio::ffmpeg {

/// Converts frames into caller-owned memory, on `workers` threads besides
/// the calling one. A frame handed to convert() is taken over (its
/// reference moved), so the caller may reuse its AVFrame at once; the
/// memory at `dst` must stay valid until drain() returns.
class ConverterPool {
 public:
  /// `own` converts on the calling thread (the reader's converter, so its
  /// swscale context serves read after read); with 0 workers it converts
  /// every frame.
  ConverterPool(FrameConverter& own, std::size_t workers);
  /// Stops and joins the workers (pending conversions are finished first).
  ~ConverterPool();
  ConverterPool(const ConverterPool&) = delete;
  ConverterPool& operator=(const ConverterPool&) = delete;

  /// The worker count for a read of frames of `width` × `height` with the
  /// decoder's `thread_count` (1 = the caller wants one thread: no workers).
  static std::size_t workers_for(int width, int height, int thread_count);

  /// Converts `frame` (which is left empty) to `layout` at `dst`: on a
  /// free worker, else on the calling thread. Rethrows a worker's failure.
  void convert(AVFrame& frame, const PixelLayout& layout, std::byte* dst);
  /// Waits until every conversion has finished; rethrows a worker's failure.
  void drain();

 private:
  struct Job {
    FramePtr frame;
    PixelLayout layout;
    std::byte* dst;
  };
  void work();
  void rethrow_failure();  // with mutex_ held

  FrameConverter& own_;  // the calling thread's
  std::mutex mutex_;
  std::condition_variable wake_, idle_;
  std::deque<Job> jobs_;
  std::size_t busy_ = 0, workers_ = 0;
  bool stop_ = false;
  std::exception_ptr failure_;
  std::vector<std::thread> threads_;
};

}  // namespace imio::ffmpeg
