// imread_stream: a window of `prefetch` items decoding on a ThreadPool ahead
// of the consumer, handed over in input order.
#include <imio/imio.hpp>
#include <imio/many.hpp>

#include <condition_variable>
#include <map>
#include <mutex>
#include <optional>
#include <utility>
#include <vector>

#include "core_access.hpp"
#include "thread_pool.hpp"

namespace imio {

struct ManyStream::State {
  State(std::span<const ImageResource> list, const StreamOptions& options)
      : resources(list.begin(), list.end()),
        read(options.read),
        threads(detail::default_thread_count(options.threads)),
        prefetch(options.prefetch != 0 ? options.prefetch : 2 * threads) {}

  // Queues item i; its result lands in `ready` under the mutex.
  void submit(std::size_t i) {
    pool->submit([this, i] {
      ItemResult r;
      try {
        r.image = imread(resources[i], read);
        r.status = ItemStatus::ok;
      } catch (const std::exception& e) {
        r.status = ItemStatus::failed;
        r.error = std::current_exception();
        r.message = e.what();
      } catch (...) {
        r.status = ItemStatus::failed;
        r.error = std::current_exception();
        r.message = "unknown exception";
      }
      {
        std::lock_guard lock(mutex);
        ready.emplace(i, std::move(r));
      }
      arrived.notify_all();
    });
  }

  // Waits for item `next`, makes it current, and keeps the window full.
  bool take() {
    if (next >= resources.size()) return false;
    {
      std::unique_lock lock(mutex);
      arrived.wait(lock, [&] { return ready.count(next) != 0; });
      auto node = ready.extract(next);
      current = std::move(node.mapped());
    }
    if (submitted < resources.size()) submit(submitted++);
    ++next;
    return true;
  }

  std::vector<ImageResource> resources;
  ReadOptions read;
  std::size_t threads, prefetch;
  std::size_t submitted = 0;  // items queued so far (consumer thread only)
  std::size_t next = 0;       // the item take() hands over next
  ItemResult current;
  bool started = false, done = false;
  std::mutex mutex;
  std::condition_variable arrived;
  std::map<std::size_t, ItemResult> ready;  // decoded, not yet taken: at most `prefetch`
  std::optional<detail::ThreadPool> pool;   // last: joined before the rest dies
};

ManyStream::ManyStream(State* state) noexcept : state_(state) {}
ManyStream::ManyStream(ManyStream&& other) noexcept : state_(std::exchange(other.state_, nullptr)) {}

ManyStream& ManyStream::operator=(ManyStream&& other) noexcept {
  if (this != &other) {
    ManyStream previous(std::move(*this));
    state_ = std::exchange(other.state_, nullptr);
  }
  return *this;
}

ManyStream::~ManyStream() {
  if (state_ != nullptr && state_->pool) state_->pool->drop_pending();
  delete state_;  // the pool joins the items being decoded
}

ManyStream::iterator ManyStream::begin() {
  State& s = *state_;
  if (!s.started) {
    s.started = true;
    if (!s.resources.empty()) {
      s.pool.emplace(std::min(s.threads, s.resources.size()));
      while (s.submitted < std::min(s.prefetch, s.resources.size())) s.submit(s.submitted++);
    }
    if (!advance()) return {};
  }
  return iterator(s.done ? nullptr : this);
}

bool ManyStream::advance() {
  State& s = *state_;
  if (s.done) return false;
  s.current = ItemResult();  // the previous item's memory goes before the next arrives
  if (!s.take()) {
    s.done = true;
    s.pool.reset();
    return false;
  }
  return true;
}

ItemResult& ManyStream::current() noexcept { return state_->current; }

ManyStream imread_stream(std::span<const ImageResource> resources, const StreamOptions& options) {
  return detail::CoreAccess::many_stream(new ManyStream::State(resources, options));
}

}  // namespace imio
