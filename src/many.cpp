// imread_many: every item read as imread reads it, on a ThreadPool. Workers
// claim items in input order from one counter, so a stop (cancellation, a
// failure with stop_at_first_error, a stack mismatch) leaves exactly the
// items after the last claimed one unstarted.
#include <imio/imio.hpp>
#include <imio/checked_math.hpp>
#include <imio/many.hpp>

#include <atomic>
#include <cstring>
#include <mutex>
#include <optional>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "core_access.hpp"
#include "thread_pool.hpp"

namespace imio {
namespace {

std::string describe_array(const Shape& shape, DType dtype) {
  return fmt::format("shape ({}) and dtype {}", fmt::join(shape, ", "), name(dtype));
}

OpenOptions open_options(const ReadOptions& read) {
  return {.plugin = read.plugin, .extension = read.extension, .kwargs = {}, .limits = read.limits};
}

// The (N, …) batch of `stack`, sized by the first item whose properties can
// be read; that item stays open for its decode.
struct StackPlan {
  ImageProperties item;   // every item's shape and dtype
  std::size_t first = 0;  // the item that set it
  std::optional<ImageFile> first_file;
  NDArray batch;    // allocated here, unless the caller gave options.out
  ArrayView slots;  // the batch or options.out
};

class ManyReader {
 public:
  ManyReader(std::span<const ImageResource> resources, const ManyOptions& options)
      : resources_(resources), options_(options), items_(resources.size()) {}

  ManyResult run() {
    const std::size_t n = resources_.size();
    if (options_.stack && !plan_stack()) return finish();
    const std::size_t left = n - std::min(n, next_.load()) + (first_pending_ ? 1 : 0);
    const std::size_t threads = std::min(detail::default_thread_count(options_.threads), left);
    if (threads > 1) {
      detail::ThreadPool pool(threads - 1);
      for (std::size_t t = 0; t + 1 < threads; ++t) pool.submit([this] { work(); });
      work();  // the calling thread decodes too
    } else if (threads == 1) {
      work();
    }
    return finish();
  }

 private:
  bool halted() const noexcept { return halt_.load(std::memory_order_relaxed) || options_.stop.stop_requested(); }

  // Opens items in order until one gives its properties: they size the
  // batch. Items that fail to open before are failed items.
  bool plan_stack() {
    const std::size_t n = resources_.size();
    while (!halted()) {
      const std::size_t i = next_.fetch_add(1);
      if (i >= n) return false;
      try {
        ImageFile file = imopen(resources_[i], "r", open_options(options_.read));
        plan_.item = file.properties({.index = options_.read.index, .kwargs = options_.read.kwargs});
        plan_.first = i;
        plan_.first_file.emplace(std::move(file));
        break;
      } catch (...) {
        record_failure(i, std::current_exception());
        done();
      }
    }
    if (!plan_.first_file) return false;
    Shape shape = plan_.item.shape;
    shape.insert(shape.begin(), n);
    if (options_.out.bytes() != nullptr) {
      // The caller's batch: no allocation, hence no limits to check.
      if (options_.out.shape() != shape || options_.out.dtype() != plan_.item.dtype) {
        throw ArgumentError(fmt::format("imread_many(stack=true): the output batch has {}, but the {} items stack to {} "
                                        "(item {} ('{}') has {})",
                                        describe_array(options_.out.shape(), options_.out.dtype()), n,
                                        describe_array(shape, plan_.item.dtype), plan_.first, resources_[plan_.first].describe(),
                                        describe_array(plan_.item.shape, plan_.item.dtype)));
      }
      plan_.slots = options_.out;
      first_pending_ = true;
      return true;
    }
    const Limits limits = effective_limits(options_.read.limits);
    if (n > limits.max_frames) {
      throw LimitError(fmt::format("imread_many: {} images exceed max_frames={}", n, limits.max_frames));
    }
    const auto bytes = checked_nbytes(shape, plan_.item.dtype);
    if (!bytes || *bytes > limits.max_bytes) {
      throw LimitError(fmt::format("imread_many: a batch of {} exceeds max_bytes={}", describe_array(shape, plan_.item.dtype),
                                   limits.max_bytes));
    }
    plan_.batch = NDArray::uninitialized(std::move(shape), plan_.item.dtype);
    plan_.slots = plan_.batch;
    first_pending_ = true;
    return true;
  }

  void work() {
    // The stack's first item, opened by plan_stack, is decoded by whichever
    // worker comes first, in parallel with the others.
    if (first_pending_.exchange(false)) process(plan_.first);
    const std::size_t n = resources_.size();
    while (!halted()) {
      const std::size_t i = next_.fetch_add(1);
      if (i >= n) return;
      process(i);
    }
  }

  void process(std::size_t i) {
    try {
      decode(i);
    } catch (...) {
      record_failure(i, std::current_exception());
    }
    done();
  }

  void decode(std::size_t i) {
    const ReadOptions& read = options_.read;
    if (!options_.stack) {
      items_[i].image = imread(resources_[i], read);
      items_[i].status = ItemStatus::ok;
      return;
    }
    std::optional<ImageFile> file;
    if (i == plan_.first) {
      file = std::move(plan_.first_file);
    } else {
      file.emplace(imopen(resources_[i], "r", open_options(read)));
      const ImageProperties props = file->properties({.index = read.index, .kwargs = read.kwargs});
      if (props.shape != plan_.item.shape || props.dtype != plan_.item.dtype) {
        record_mismatch(i, props);
        return;
      }
    }
    ArrayView slot = plan_.slots[i];
    detail::CoreAccess::decode_into(*file, slot, {.index = read.index, .kwargs = read.kwargs});
    file->close();
    items_[i].status = ItemStatus::ok;
  }

  void record_failure(std::size_t i, std::exception_ptr error) {
    ItemResult& item = items_[i];
    item.status = ItemStatus::failed;
    item.image = NDArray();
    item.error = error;
    try {
      std::rethrow_exception(error);
    } catch (const std::exception& e) {
      item.message = e.what();
    } catch (...) {
      item.message = "unknown exception";
    }
    if (options_.stop_at_first_error) {
      std::lock_guard lock(mutex_);
      if (!first_error_) first_error_ = error;
      halt_ = true;
    }
  }

  // Stacking cannot go on: stop, and report the lowest index at the end.
  void record_mismatch(std::size_t i, const ImageProperties& props) {
    std::lock_guard lock(mutex_);
    halt_ = true;
    if (mismatch_ && mismatch_->index < i) return;
    mismatch_ = Mismatch{i, fmt::format("imread_many(stack=true): item {} ('{}') has {}, but item {} ('{}') has {}; "
                                        "stacking needs equal shapes and dtypes",
                                        i, resources_[i].describe(), describe_array(props.shape, props.dtype), plan_.first,
                                        resources_[plan_.first].describe(), describe_array(plan_.item.shape, plan_.item.dtype))};
  }

  void done() {
    if (!options_.progress) return;
    std::lock_guard lock(mutex_);
    ++done_;
    if (progress_error_) return;
    try {
      options_.progress(done_, resources_.size());
    } catch (...) {
      progress_error_ = std::current_exception();
      halt_ = true;
    }
  }

  ManyResult finish() {
    if (progress_error_) std::rethrow_exception(progress_error_);
    if (mismatch_) throw ArgumentError(mismatch_->message);
    if (first_error_) std::rethrow_exception(first_error_);
    // Errors and stack mismatches were thrown above: what is left unstarted was cancelled.
    for (std::size_t i = 0; i < items_.size(); ++i) {
      ItemResult& item = items_[i];
      if (item.status == ItemStatus::skipped) item.message = "cancelled";
      // A failed or skipped item's slot holds no pixels of it: zero, not garbage.
      if (item.status != ItemStatus::ok && plan_.slots.bytes() != nullptr) std::memset(plan_.slots[i].bytes(), 0, plan_.slots[i].nbytes());
    }
    return {.items = std::move(items_), .batch = std::move(plan_.batch)};
  }

  struct Mismatch {
    std::size_t index;
    std::string message;
  };

  std::span<const ImageResource> resources_;
  const ManyOptions& options_;
  std::vector<ItemResult> items_;  // item i is written only by the worker that claimed i
  StackPlan plan_;
  std::atomic<std::size_t> next_{0};
  std::atomic<bool> halt_{false};
  std::atomic<bool> first_pending_{false};
  std::mutex mutex_;  // guards what follows, and serialises progress calls
  std::size_t done_ = 0;
  std::exception_ptr first_error_, progress_error_;
  std::optional<Mismatch> mismatch_;
};

}  // namespace

ManyResult imread_many(std::span<const ImageResource> resources, const ManyOptions& options) {
  return ManyReader(resources, options).run();
}

}  // namespace imio
