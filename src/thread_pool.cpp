#include "thread_pool.hpp"

#include <imio/hardware_threads.hpp>

#include <algorithm>
#include <utility>

namespace imio {

unsigned hardware_threads() noexcept {
  static const unsigned threads = std::max(std::thread::hardware_concurrency(), 1u);
  return threads;
}

}  // namespace imio

namespace imio::detail {

std::size_t default_thread_count(std::size_t requested) noexcept {
  if (requested != 0) return requested;
  return hardware_threads();
}

ThreadPool::ThreadPool(std::size_t threads) {
  const std::size_t n = std::max<std::size_t>(threads, 1);
  workers_.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    workers_.emplace_back([this](std::stop_token stop) { work(stop); });
  }
}

ThreadPool::~ThreadPool() {
  for (auto& w : workers_) w.request_stop();
  workers_.clear();  // joins; a stopping worker still empties the queue first
}

void ThreadPool::submit(std::function<void()> task) {
  {
    std::lock_guard lock(mutex_);
    tasks_.push_back(std::move(task));
  }
  ready_.notify_one();
}

void ThreadPool::drop_pending() {
  std::lock_guard lock(mutex_);
  tasks_.clear();
}

void ThreadPool::work(std::stop_token stop) {
  for (;;) {
    std::function<void()> task;
    {
      std::unique_lock lock(mutex_);
      // wait() returns with an empty queue only once a stop is requested.
      ready_.wait(lock, stop, [this] { return !tasks_.empty(); });
      if (tasks_.empty()) return;
      task = std::move(tasks_.front());
      tasks_.pop_front();
    }
    task();
  }
}

}  // namespace imio::detail
