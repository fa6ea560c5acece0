// libjxl's thread pool (JxlThreadParallelRunner) sized by imio: one per
// decoder or encoder, owned here.
#pragma once

#include <memory>

namespace imio::jxl {

/// The worker threads for a `thread_count` kwarg: 0 → one per core
/// (libjxl's default, the hardware's concurrency), else the given count.
unsigned worker_threads(unsigned thread_count);

/// A JxlThreadParallelRunner with worker_threads(thread_count) threads, or
/// none when that is 1 (libjxl then works on the calling thread).
class Runner {
 public:
  explicit Runner(unsigned thread_count);
  ~Runner();
  Runner(const Runner&) = delete;
  Runner& operator=(const Runner&) = delete;
  /// The runner's opaque pointer for Jxl{De,En}coderSetParallelRunner, or nullptr.
  void* opaque() const { return runner_; }

 private:
  void* runner_ = nullptr;
};

}  // namespace imio::jxl
