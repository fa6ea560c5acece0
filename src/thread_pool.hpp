// ThreadPool: a fixed set of std::jthread workers running submitted tasks in
// submission order; what imread_many and imread_stream decode on.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <vector>
#include <thread>

namespace imio::detail {

/// The number of threads a "0 = the hardware's" option stands for (at least 1).
std::size_t default_thread_count(std::size_t requested) noexcept;

class ThreadPool {
 public:
  /// Starts `threads` workers (at least one).
  explicit ThreadPool(std::size_t threads);
  /// Runs every task still queued, then joins the workers (drop_pending()
  /// first to skip them).
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  /// Queues `task`. Tasks must not throw: a worker has nobody to report to.
  void submit(std::function<void()> task);
  /// Forgets the tasks no worker has started.
  void drop_pending();

 private:
  void work(std::stop_token stop);

  std::mutex mutex_;
  std::condition_variable_any ready_;
  std::deque<std::function<void()>> tasks_;
  std::vector<std::jthread> workers_;  // last: joined before the queue dies
};

}  // namespace imio::detail
