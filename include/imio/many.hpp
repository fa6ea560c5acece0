// imio — many resources in one call: imread_many decodes a list of images on
// a thread pool, into separate arrays or into one stacked batch.
//
//   #include <imio/many.hpp>
//   std::vector<imio::ImageResource> files = {"a.png", "b.png", …};
//   imio::ManyResult r = imio::imread_many(files, {.threads = 4});
//   for (auto& item : r.items) if (item.ok()) use(item.image); else log(item.message);
//   auto batch = imio::imread_many(files, {.stack = true}).batch;   // (N, H, W, C)
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
#include <span>
#include <stop_token>
#include <string>
#include <vector>

namespace imio {

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
  /// failed or were skipped are zero. Empty without `stack`, and when no
  /// item could be read.
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

}  // namespace imio
