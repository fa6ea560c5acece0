#include "converter_pool.hpp"

#include <imio/hardware_threads.hpp>

#include <algorithm>
#include <utility>

namespace imio::ffmpeg {

ConverterPool::ConverterPool(FrameConverter& own, std::size_t workers) : own_(own), workers_(workers) {
  threads_.reserve(workers);
  for (std::size_t i = 0; i < workers; ++i) threads_.emplace_back([this] { work(); });
}

ConverterPool::~ConverterPool() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
  }
  wake_.notify_all();
  for (std::thread& t : threads_) t.join();
}

std::size_t ConverterPool::workers_for(int width, int height, int thread_count) {
  // Below about 256 x 256 a conversion takes less than handing it over.
  constexpr long long kMinPixels = 256 * 256;
  if (thread_count == 1 || static_cast<long long>(width) * height < kMinPixels) return 0;
  // Up to 3 workers: beyond that the decoder, not the conversion, limits.
  const unsigned cores = hardware_threads();
  return std::min<std::size_t>(cores - 1, 3);
}

void ConverterPool::convert(AVFrame& frame, const PixelLayout& layout, std::byte* dst) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    rethrow_failure();
    if (jobs_.size() + busy_ < workers_) {
      FramePtr owned = make_frame();
      av_frame_move_ref(owned.get(), &frame);
      jobs_.push_back({std::move(owned), layout, dst});
      wake_.notify_one();
      return;
    }
  }
  // Every worker is busy: the calling thread converts this one itself.
  own_.convert(frame, layout, dst);
  av_frame_unref(&frame);
}

void ConverterPool::drain() {
  std::unique_lock<std::mutex> lock(mutex_);
  idle_.wait(lock, [this] { return jobs_.empty() && busy_ == 0; });
  rethrow_failure();
}

void ConverterPool::rethrow_failure() {
  if (failure_) std::rethrow_exception(std::exchange(failure_, nullptr));
}

void ConverterPool::work() {
  FrameConverter converter;  // each thread its own swscale context
  std::unique_lock<std::mutex> lock(mutex_);
  for (;;) {
    wake_.wait(lock, [this] { return stop_ || !jobs_.empty(); });
    if (jobs_.empty()) return;  // stop_, nothing left to do
    Job job = std::move(jobs_.front());
    jobs_.pop_front();
    ++busy_;
    lock.unlock();
    std::exception_ptr failure;
    try {
      converter.convert(*job.frame, job.layout, job.dst);
    } catch (...) {
      failure = std::current_exception();
    }
    job.frame.reset();
    lock.lock();
    --busy_;
    if (failure && !failure_) failure_ = failure;
    if (jobs_.empty() && busy_ == 0) idle_.notify_all();
  }
}

}  // namespace imio::ffmpeg
