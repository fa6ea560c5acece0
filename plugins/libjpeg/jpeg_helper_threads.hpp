// Threads that a crop's split work runs on (the entropy index's walk, the
// two bands of a large box): the plugin keeps the ones it starts and
// reuses them while they are idle.
//
// Why: on this project's 2-core VM, starting a thread cost the caller
// 0.05–0.07 ms and the thread 0.1–0.3 ms more before it ran (the other
// core had been idle), and joining one 0.04–0.17 ms even after its work
// was done (its exit hands its stack back to the kernel). A bottom-right
// crop of 1/16 of a 12.6 MP photograph started two threads and took 6 ms.
// A kept thread waits for its next job spinning for a while (kSpin), then
// asleep.
#pragma once

#include <functional>
#include <memory>
#include <thread>

namespace imio::libjpeg {

/// `job` run on another thread: a kept idle one, else (all busy, or as many
/// as the hardware's threads kept already) a new one.
class HelperJob {
 public:
  /// Starts `job`, which must not throw. std::system_error when no thread
  /// can be had (the caller then runs the job itself).
  explicit HelperJob(std::function<void()> job);
  /// Waits for the job (a new thread is joined).
  ~HelperJob();
  HelperJob(HelperJob&&) noexcept;
  HelperJob& operator=(HelperJob&&) = delete;
  HelperJob(const HelperJob&) = delete;
  HelperJob& operator=(const HelperJob&) = delete;

  /// Waits until the job has returned, spinning: a caller waits for a job
  /// it expects soon.
  void wait() const;

  struct Done;

 private:
  std::shared_ptr<Done> done_;
  std::jthread own_;  // a new thread's (no kept one was idle)
};

}  // namespace imio::libjpeg
