// libjxl's thread pool: see jxl_runner.hpp.
#include "jxl_runner.hpp"

#include <imio/error.hpp>

#include <jxl/thread_parallel_runner.h>

#include <algorithm>

namespace imio::jxl {

unsigned worker_threads(unsigned thread_count) {
  if (thread_count != 0) return thread_count;
  return static_cast<unsigned>(std::clamp<std::size_t>(JxlThreadParallelRunnerDefaultNumWorkerThreads(), 1, 64));
}

Runner::Runner(unsigned thread_count) {
  const unsigned n = worker_threads(thread_count);
  if (n <= 1) return;
  runner_ = JxlThreadParallelRunnerCreate(nullptr, n);
  if (runner_ == nullptr) throw IOError("libjxl could not start its worker threads");
}

Runner::~Runner() {
  if (runner_ != nullptr) JxlThreadParallelRunnerDestroy(runner_);
}

}  // namespace imio::jxl
