// The libjpeg plugin's kept helper threads (jpeg_helper_threads.hpp): jobs
// run once each and are waited for, an idle thread is reused (also after it
// fell asleep), busy ones leave jobs to new threads, and a forked child
// gets threads of its own.
#include <atomic>
#include <chrono>
#include <optional>
#include <set>
#include <thread>
#include <vector>

#include <sys/wait.h>
#include <unistd.h>

#include <imio/hardware_threads.hpp>

#include "catch.hpp"
#include "jpeg_helper_threads.hpp"

namespace {

using imio::libjpeg::HelperJob;

// Jobs this thread has run (a new thread's id may be an old one's).
thread_local int t_jobs = 0;

// Runs a job that counts itself; how many the thread it ran on has run.
int run_job(std::atomic<int>& runs) {
  int jobs = 0;
  bool elsewhere = false;
  const std::thread::id caller = std::this_thread::get_id();
  {
    const HelperJob job([&] {
      jobs = ++t_jobs;
      elsewhere = std::this_thread::get_id() != caller;
      runs.fetch_add(1);
    });
  }  // waits
  CHECK(elsewhere);
  return jobs;
}

}  // namespace

TEST_CASE("libjpeg helper threads: a job runs once on another thread and is waited for", "[libjpeg][threads]") {
  std::atomic<int> runs{0};
  const int before = t_jobs;
  run_job(runs);
  CHECK(runs == 1);
  CHECK(t_jobs == before);  // not on this thread
  // wait() returns once the job has returned, and may be called twice.
  std::atomic<bool> finished{false};
  const HelperJob slow([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    finished = true;
  });
  slow.wait();
  CHECK(finished);
  slow.wait();
}

TEST_CASE("libjpeg helper threads: an idle kept thread takes the next job, awake or asleep", "[libjpeg][threads]") {
  if (imio::hardware_threads() < 2) {
    WARN("skipped: one hardware thread, so every job gets a new thread");
    return;
  }
  std::atomic<int> runs{0};
  const int first = run_job(runs);
  CHECK(run_job(runs) == first + 1);  // the same thread, still spinning
  std::this_thread::sleep_for(std::chrono::milliseconds(30));  // past its spin: asleep
  CHECK(run_job(runs) == first + 2);
  CHECK(runs == 3);
}

TEST_CASE("libjpeg helper threads: jobs beyond the idle threads get threads of their own", "[libjpeg][threads]") {
  // Twenty jobs at once, each waiting until all have started: none may
  // wait for another's thread.
  constexpr int kJobs = 20;
  std::atomic<int> started{0};
  std::vector<std::thread::id> ids(kJobs);
  {
    std::vector<HelperJob> jobs;
    for (int i = 0; i < kJobs; ++i) {
      jobs.emplace_back([&, i] {
        ids[static_cast<std::size_t>(i)] = std::this_thread::get_id();
        started.fetch_add(1);
        while (started.load() < kJobs) std::this_thread::yield();
      });
    }
  }
  CHECK(started == kJobs);
  CHECK(std::set<std::thread::id>(ids.begin(), ids.end()).size() == kJobs);
}

TEST_CASE("libjpeg helper threads: a forked child runs jobs on threads of its own", "[libjpeg][threads]") {
  std::atomic<int> runs{0};
  run_job(runs);  // the parent keeps a thread (the child has none of it)
  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    std::atomic<int> child_runs{0};
    const int first = run_job(child_runs);
    const bool reused = run_job(child_runs) == first + 1 || imio::hardware_threads() < 2;
    ::_exit(child_runs == 2 && reused ? 0 : 1);
  }
  int status = 0;
  REQUIRE(::waitpid(child, &status, 0) == child);
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  const int jobs = run_job(runs);
  if (imio::hardware_threads() > 1) CHECK(jobs >= 2);  // the parent's kept thread, still there
}
