// imio — many resources in one call: imread_many decodes a list of images on
// a thread pool, into separate arrays or into one stacked batch.
//
//   #include <imio/many.hpp>
//   std::vector<imio::ImageResource> files = {"a.png", "b.png", …};
//   imio::ManyResult r = imio::imread_many(files, {.threads = 4});
//   for (auto& item : r.items) if (item.ok()) use(item.image); else log(item.message);
//   auto batch = imio::imread_many(files, {.stack = true}).batch;   // (N, H, W, C)
//   for (imio::ItemResult& item : imio::imread_stream(files, {.prefetch = 8})) { … }   // bounded memory
//
// No imageio counterpart (imageio reads one resource per call); kept out of
// <imio/imio.hpp> because <functional> and <stop_token> are not free.
#pragma once

#include <imio/export.hpp>
#include <imio/ndarray.hpp>
#include <imio/options.hpp>
#include <imio/resource.hpp>

#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <iterator>
#include <span>
#include <stop_token>
#include <string>
#include <vector>

namespace imio {

namespace detail {
struct CoreAccess;
}  // namespace detail

/// Options of imread_many().
struct ManyOptions {
  /// The options of every item's read, as imread takes them (index, plugin,
  /// extension, kwargs, limits).
  ReadOptions read{};
  /// Decoding threads, the calling thread included; 0: the hardware's
  /// (std::thread::hardware_concurrency()). Never more than the items.
  std::size_t threads = 0;
  /// Decode every image straight into its slot of one batch array
  /// (ManyResult::batch, shape (N, …)) instead of one array each. Every item
  /// must have the shape and dtype of the first readable one, else
  /// imread_many throws ArgumentError naming the first that differs.
  bool stack = false;
  /// With `stack`: a batch of your own to decode into instead of a new one
  /// (`.out = batch`, an NDArray or a view, shape (N, …) of the items' shape
  /// and dtype, else ArgumentError naming both). ManyResult::batch is then
  /// empty. Reusing one batch across calls saves its allocation and page
  /// faults. Ignored without `stack`.
  ArrayView out{};
  /// Start no further item once one failed, and throw that item's error
  /// (the exception imread would have thrown) when the running ones are done.
  /// Otherwise every error stays with its item and the others are read.
  bool stop_at_first_error = false;
  /// Called after each item (read or failed) with the number of items done
  /// so far and the total; on a decoding thread (possibly the caller's), one
  /// call at a time, `done` increasing. If it throws, no further item starts
  /// and imread_many rethrows that exception.
  std::function<void(std::size_t done, std::size_t total)> progress{};
  /// Cancellation: once a stop is requested, items not yet started are
  /// skipped (ItemStatus::skipped); items being decoded finish.
  std::stop_token stop{};
};

/// What became of one item of imread_many().
enum class ItemStatus : std::uint8_t {
  ok,       ///< decoded
  failed,   ///< its read threw (ItemResult::error)
  skipped,  ///< not started: cancelled, or stopped after another item failed
};

/// One item of imread_many(), at the index of its resource.
struct ItemResult {
  /// ok, failed or skipped.
  ItemStatus status = ItemStatus::skipped;
  /// The decoded image (ok items without `stack`); empty otherwise.
  NDArray image{};
  /// The exception the read threw (failed items); null otherwise.
  std::exception_ptr error{};
  /// The error's what() (failed), or why the item was skipped; empty when ok.
  std::string message{};

  /// Whether the item was decoded.
  bool ok() const noexcept { return status == ItemStatus::ok; }
  /// Throws the item's error when it failed; nothing otherwise.
  void rethrow() const {
    if (error) std::rethrow_exception(error);
  }
};

/// What imread_many() returns: one ItemResult per resource, in input order,
/// and with `stack` the batch.
struct ManyResult {
  /// One per resource, in the order given.
  std::vector<ItemResult> items{};
  /// With `stack`: the (N, …) batch; item i is batch[i]. Slots of items that
  /// failed or were skipped are zero. Empty without `stack`, with
  /// ManyOptions::out (the pixels are there), and when no item could be read.
  NDArray batch{};

  /// Whether every item was decoded.
  bool all_ok() const noexcept {
    for (const ItemResult& item : items) {
      if (!item.ok()) return false;
    }
    return true;
  }
  /// Throws the error of the first failed item (in input order), if any.
  void rethrow_first_error() const {
    for (const ItemResult& item : items) item.rethrow();
  }
};

/// Reads every resource as imread(resource, options.read) would, on
/// `options.threads` threads, and returns the results in input order. An
/// item's error (missing file, corrupt data, …) is kept with the item and
/// the others are read, unless `stop_at_first_error`.
///
/// Thread-safe: several imread_many calls, and any other imio calls, may run
/// at once. Resources in memory or streams must stay valid during the call;
/// a stream must not appear twice in the list.
///
/// @throws ArgumentError (`stack` and an item of another shape or dtype:
///         the first such item, by index, is named), LimitError (`stack` and
///         the batch exceeds options.read.limits), the first error with
///         `stop_at_first_error`, what `progress` throws
IMIO_EXPORT ManyResult imread_many(std::span<const ImageResource> resources, const ManyOptions& options = {});

/// Options of imread_stream().
struct StreamOptions {
  /// The options of every item's read, as imread takes them.
  ReadOptions read{};
  /// Decoding threads (the consumer's thread does not decode); 0: the
  /// hardware's (std::thread::hardware_concurrency()).
  std::size_t threads = 0;
  /// Items decoded or being decoded ahead of the one the consumer holds:
  /// memory stays at prefetch + 1 images. 0: twice the threads.
  std::size_t prefetch = 0;
};

/// A lazy input range of ItemResult, one per resource in input order, decoded
/// ahead on a thread pool: what imread_stream() returns.
///
/// Decoding starts at begin(). Advancing hands over the next item (waiting
/// for it if needed) and starts the item `prefetch` places further. Errors
/// stay with their items (ItemResult::rethrow()). Destroying the range (or
/// leaving a loop early) drops the items not started and waits for those
/// being decoded. One thread at a time uses the range; the decoding threads
/// are its own.
class IMIO_EXPORT ManyStream {
 public:
  class iterator;
  /// What end() returns.
  using sentinel = std::default_sentinel_t;
  struct State;

  /// Takes over another range (and its decoding).
  ManyStream(ManyStream&& other) noexcept;
  /// Stops this range's decoding and takes over another range.
  ManyStream& operator=(ManyStream&& other) noexcept;
  ManyStream(const ManyStream&) = delete;
  ManyStream& operator=(const ManyStream&) = delete;
  /// Drops the items not started, waits for the ones being decoded.
  ~ManyStream();

  /// Starts decoding (on the first call) and waits for the first item.
  iterator begin();
  /// The end sentinel.
  sentinel end() const noexcept { return {}; }

 private:
  friend struct detail::CoreAccess;
  friend class iterator;
  explicit ManyStream(State* state) noexcept;
  bool advance();
  ItemResult& current() noexcept;
  State* state_ = nullptr;
};

/// The input iterator of a ManyStream. The current item may be moved out
/// (`auto image = std::move(it->image);`): advancing replaces it.
class IMIO_EXPORT ManyStream::iterator {
 public:
  using value_type = ItemResult;                     ///< one item's result
  using difference_type = std::ptrdiff_t;            ///< required by std::input_iterator
  using reference = ItemResult&;                     ///< what operator* returns
  using iterator_concept = std::input_iterator_tag;  ///< single pass

  /// An iterator equal to the end sentinel.
  iterator() noexcept = default;
  /// The current item. Only valid before the end.
  ItemResult& operator*() const noexcept { return stream_->current(); }
  /// Member access to the current item. Only valid before the end.
  ItemResult* operator->() const noexcept { return &stream_->current(); }
  /// Moves to the next item, waiting until it is decoded (or to the end).
  iterator& operator++() {
    if (!stream_->advance()) stream_ = nullptr;
    return *this;
  }
  /// Same as the prefix form.
  void operator++(int) { ++*this; }
  /// True at the end of the range.
  friend bool operator==(const iterator& it, std::default_sentinel_t) noexcept { return it.stream_ == nullptr; }

 private:
  friend class ManyStream;
  explicit iterator(ManyStream* stream) noexcept : stream_(stream) {}
  ManyStream* stream_ = nullptr;
};

/// Reads the resources as imread_many does, but hands the results over one
/// at a time, in input order, decoding at most `options.prefetch` items
/// ahead: for loaders that never hold the whole list in memory. The list is
/// copied; memory or streams it refers to must outlive the range.
///
/// Nothing is read before begin(); per-item errors are in the items.
IMIO_EXPORT ManyStream imread_stream(std::span<const ImageResource> resources, const StreamOptions& options = {});

}  // namespace imio
