// Kept helper threads (see jpeg_helper_threads.hpp).
#include "jpeg_helper_threads.hpp"

#include <imio/hardware_threads.hpp>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <mutex>
#include <utility>

#include <unistd.h>

namespace imio::libjpeg {

struct HelperJob::Done {
  std::atomic<bool> flag{false};
};

namespace {

// How long a kept thread waits for its next job spinning before it sleeps.
// A crop's second job (its lower band) comes about 0.1 ms after its first
// (the walk), and a loop's next crop about 0.5 ms after one ends; a thread
// woken from sleep ran 0.1–0.3 ms after it was woken on this project's VM.
constexpr std::chrono::microseconds kSpin{1000};

// At most as many kept threads as the hardware runs at once, less the
// caller's; up to this many.
constexpr std::size_t kMostKept = 8;

class KeptThread {
 public:
  KeptThread() : thread_([this] { run(); }) {}
  ~KeptThread() {
    state_.store(kStopping, std::memory_order_release);
    state_.notify_one();
  }  // thread_ is joined after the store (members go in reverse)
  KeptThread(const KeptThread&) = delete;
  KeptThread& operator=(const KeptThread&) = delete;

  /// Takes the thread for a job when it is idle.
  bool take() {
    int idle = kIdle;
    return state_.compare_exchange_strong(idle, kTaken, std::memory_order_acquire);
  }
  /// Hands the taken thread `job`; `done` is set once it has returned.
  void assign(std::function<void()> job, std::shared_ptr<HelperJob::Done> done) {
    job_ = std::move(job);
    done_ = std::move(done);
    state_.store(kAssigned, std::memory_order_release);
    state_.notify_one();
  }

 private:
  enum : int { kIdle, kTaken, kAssigned, kStopping };

  void run() {
    for (;;) {
      const int state = wait_for_job();
      if (state == kStopping) return;
      job_();
      job_ = nullptr;
      const std::shared_ptr<HelperJob::Done> done = std::move(done_);
      state_.store(kIdle, std::memory_order_release);  // before `done`: its waiter may hand the next job
      done->flag.store(true, std::memory_order_release);
    }
  }
  // The state once it is kAssigned or kStopping.
  int wait_for_job() {
    const auto sleep_at = std::chrono::steady_clock::now() + kSpin;
    for (unsigned n = 1;; ++n) {
      const int state = state_.load(std::memory_order_acquire);
      if (state == kAssigned || state == kStopping) return state;
      // Taken: the job follows at once. Idle past kSpin: asleep until the
      // state changes (assign() and the destructor notify).
      if (state == kIdle && n % 64 == 0 && std::chrono::steady_clock::now() > sleep_at) {
        state_.wait(kIdle, std::memory_order_acquire);
      } else {
        std::this_thread::yield();
      }
    }
  }

  std::atomic<int> state_{kIdle};
  std::function<void()> job_;
  std::shared_ptr<HelperJob::Done> done_;
  std::jthread thread_;  // last: it starts once the state above exists
};

class KeptThreads {
 public:
  KeptThreads() : pid_(::getpid()) {}
  pid_t pid() const { return pid_; }

  /// Hands `job` to an idle kept thread, keeping a new one when none is
  /// idle and fewer than the limit are kept; false when all are busy.
  bool assign(std::function<void()>& job, const std::shared_ptr<HelperJob::Done>& done) {
    for (;;) {
      const std::size_t kept = count_.load(std::memory_order_acquire);
      for (std::size_t i = 0; i < kept; ++i) {
        if (threads_[i]->take()) {
          threads_[i]->assign(std::move(job), done);
          return true;
        }
      }
      const std::scoped_lock lock(mutex_);
      if (count_.load(std::memory_order_relaxed) != kept) continue;  // another caller kept one meanwhile
      if (kept >= std::min(kMostKept, std::size_t{hardware_threads()} - 1)) return false;
      threads_[kept] = std::make_unique<KeptThread>();  // std::system_error: no thread
      count_.store(kept + 1, std::memory_order_release);
    }
  }

 private:
  pid_t pid_;
  std::mutex mutex_;  // for keeping a new thread
  std::array<std::unique_ptr<KeptThread>, kMostKept> threads_;
  std::atomic<std::size_t> count_{0};
};

// Set when the holder below is destroyed (an atomic bool has no
// destructor to run, so it can still be read then): a job started later, by
// a static object's destructor at the program's exit, gets a new thread.
std::atomic<bool> g_holder_gone{false};

// The process's kept threads. A forked child makes its own: it has none of
// its parent's threads, and leaves the parent's object alone. The threads
// are stopped and joined at exit, or when libimio is unloaded.
struct KeptThreadsHolder {
  std::atomic<KeptThreads*> current{nullptr};
  std::mutex mutex;
  KeptThreadsHolder() = default;
  KeptThreadsHolder(const KeptThreadsHolder&) = delete;
  KeptThreadsHolder& operator=(const KeptThreadsHolder&) = delete;
  ~KeptThreadsHolder() {
    g_holder_gone.store(true);
    KeptThreads* threads = current.load();
    if (threads != nullptr && threads->pid() == ::getpid()) delete threads;
  }
  KeptThreads& get() {
    KeptThreads* threads = current.load(std::memory_order_acquire);
    if (threads != nullptr && threads->pid() == ::getpid()) return *threads;
    const std::scoped_lock lock(mutex);
    threads = current.load(std::memory_order_relaxed);
    if (threads == nullptr || threads->pid() != ::getpid()) {
      threads = new KeptThreads;  // a parent's object is left as it is, never freed
      current.store(threads, std::memory_order_release);
    }
    return *threads;
  }
};

KeptThreadsHolder& kept_threads() {
  static KeptThreadsHolder holder;
  return holder;
}

}  // namespace

HelperJob::HelperJob(std::function<void()> job) : done_(std::make_shared<Done>()) {
  if (hardware_threads() > 1 && !g_holder_gone.load() && kept_threads().get().assign(job, done_)) return;
  own_ = std::jthread([job = std::move(job), done = done_] {
    job();
    done->flag.store(true, std::memory_order_release);
  });
}

HelperJob::HelperJob(HelperJob&&) noexcept = default;

HelperJob::~HelperJob() {
  if (done_) wait();
}

void HelperJob::wait() const {
  while (!done_->flag.load(std::memory_order_acquire)) std::this_thread::yield();
}

}  // namespace imio::libjpeg
