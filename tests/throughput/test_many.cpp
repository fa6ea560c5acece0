// imread_many: many files on a thread pool give what a loop of imread gives,
// in input order; one broken file is reported at its index; stopping,
// cancelling, progress and stacking behave as documented.
#include <imio/imio.hpp>
#include <imio/many.hpp>
#include <imio/registry.hpp>

#include <atomic>
#include <cstring>
#include <mutex>
#include <stop_token>
#include <string>
#include <vector>

#include "catch.hpp"
#include "test_util.hpp"

namespace {

using imio::DType;
using imio::ImageResource;
using imio::NDArray;

NDArray image(imio::Shape shape, int seed) {
  NDArray a(std::move(shape), DType::uint8);
  auto v = a.values<std::uint8_t>();
  for (std::size_t i = 0; i < v.size(); ++i) v[i] = static_cast<std::uint8_t>((i * 31 + static_cast<std::size_t>(seed) * 17 + i / 50) % 256);
  return a;
}

// The still formats this build writes with a native plugin, in turn: PNG
// (the test needs libpng), JPEG and TIFF when their plugins are built (a
// build without libjpeg sends .jpg to FFmpeg, which writes it as a
// one-frame video).
std::vector<const char*> still_extensions() {
  std::vector<const char*> ext{".png"};
  if (imio::has_plugin("libjpeg")) ext.push_back(".jpg");
  if (imio::has_plugin("libtiff")) ext.push_back(".tif");
  return ext;
}

// `n` files alternating the still formats above, each its own pixels, all
// of `shape` unless listed in `other_shape`.
struct Files {
  imio_test::TempDir dir;
  std::vector<ImageResource> resources;
  std::vector<std::filesystem::path> paths;

  explicit Files(std::size_t n, imio::Shape shape = {48, 40, 3}, std::vector<std::size_t> other_shape = {}) {
    const std::vector<const char*> ext = still_extensions();
    for (std::size_t i = 0; i < n; ++i) {
      const auto path = dir / ("img" + std::to_string(i) + ext[i % ext.size()]);
      const bool other = std::find(other_shape.begin(), other_shape.end(), i) != other_shape.end();
      imio::imwrite(path, image(other ? imio::Shape{shape[0] + 2, shape[1], shape[2]} : shape, static_cast<int>(i)));
      paths.push_back(path);
      resources.emplace_back(path);
    }
  }
  // Item i becomes the first half of a valid PNG: a DecodeError from libpng.
  void truncate(std::size_t i) {
    const auto path = dir / ("broken" + std::to_string(i) + ".png");
    imio::imwrite(path, image({48, 40, 3}, 99));
    imio::Bytes b = imio_test::read_file(path);
    b.resize(b.size() / 2);
    imio_test::write_file(path, b);
    paths[i] = path;
    resources[i] = ImageResource(path);
  }
  std::vector<NDArray> sequential() const {
    std::vector<NDArray> out;
    for (const auto& p : paths) out.push_back(imio::imread(p));
    return out;
  }
};

}  // namespace

TEST_CASE("imread_many over 50 files equals a loop of imread, in input order", "[many]") {
  Files files(50);
  const std::vector<NDArray> expected = files.sequential();
  for (std::size_t threads : {std::size_t{0}, std::size_t{1}, std::size_t{2}, std::size_t{7}}) {
    INFO("threads=" << threads);
    const imio::ManyResult r = imio::imread_many(files.resources, {.threads = threads});
    REQUIRE(r.items.size() == 50);
    CHECK(r.all_ok());
    CHECK(r.batch.empty());
    for (std::size_t i = 0; i < 50; ++i) {
      CHECK(r.items[i].status == imio::ItemStatus::ok);
      CHECK(r.items[i].message.empty());
      CHECK(r.items[i].image == expected[i]);
    }
  }
}

TEST_CASE("a broken file among many is reported at its index and the others are read", "[many]") {
  Files files(50);
  files.truncate(17);
  files.resources[33] = ImageResource(files.dir / "missing.png");
  const imio::ManyResult r = imio::imread_many(files.resources, {.threads = 2});
  REQUIRE(r.items.size() == 50);
  CHECK_FALSE(r.all_ok());
  for (std::size_t i = 0; i < 50; ++i) {
    INFO("item " << i);
    if (i == 17 || i == 33) {
      CHECK(r.items[i].status == imio::ItemStatus::failed);
      CHECK(r.items[i].image.empty());
    } else {
      CHECK(r.items[i].ok());
      CHECK(r.items[i].image == imio::imread(files.paths[i]));
    }
  }
  CHECK_THROWS_AS(r.items[17].rethrow(), imio::DecodeError);
  CHECK(imio_test::contains(r.items[17].message, "broken17.png"));
  CHECK_THROWS_AS(r.items[33].rethrow(), imio::FileNotFoundError);
  CHECK(imio_test::contains(r.items[33].message, "missing.png"));
  CHECK_THROWS_AS(r.rethrow_first_error(), imio::DecodeError);  // 17 comes before 33
}

TEST_CASE("stop_at_first_error throws the item's error and starts nothing after it", "[many]") {
  Files files(50);
  files.truncate(10);
  std::atomic<std::size_t> calls{0};
  CHECK_THROWS_AS(imio::imread_many(files.resources, {.threads = 1, .stop_at_first_error = true,
                                                      .progress = [&](std::size_t, std::size_t) { ++calls; }}),
                  imio::DecodeError);
  CHECK(calls == 11);  // items 0…10, one thread: in order
  calls = 0;
  CHECK_THROWS_AS(imio::imread_many(files.resources, {.threads = 2, .stop_at_first_error = true,
                                                      .progress = [&](std::size_t, std::size_t) { ++calls; }}),
                  imio::DecodeError);
  // The other thread goes on while item 10 decodes, and finishes the item
  // it holds when 10 fails; nothing starts after that.
  CHECK(calls >= 11);
  CHECK(calls < 40);
  // Without the flag the same list reads through.
  CHECK(imio::imread_many(files.resources, {.threads = 2}).items[11].ok());
}

TEST_CASE("the progress callback counts every item once, in increasing order", "[many]") {
  Files files(50);
  files.truncate(5);
  std::mutex m;
  std::vector<std::size_t> done;
  std::vector<std::size_t> totals;
  const imio::ManyResult r = imio::imread_many(files.resources, {.threads = 3, .progress = [&](std::size_t d, std::size_t t) {
                                                                   std::lock_guard lock(m);  // the test's own; calls are serialised anyway
                                                                   done.push_back(d);
                                                                   totals.push_back(t);
                                                                 }});
  REQUIRE(done.size() == 50);
  for (std::size_t i = 0; i < 50; ++i) {
    CHECK(done[i] == i + 1);
    CHECK(totals[i] == 50);
  }
  CHECK(r.items[5].status == imio::ItemStatus::failed);
}

TEST_CASE("a stop request cancels the items not yet started; the others are complete", "[many]") {
  Files files(50);
  std::stop_source stop;
  const imio::ManyResult r = imio::imread_many(files.resources, {.threads = 2, .progress = [&](std::size_t d, std::size_t) {
                                                                   if (d == 5) stop.request_stop();
                                                                 },
                                                                 .stop = stop.get_token()});
  std::size_t ok = 0, skipped = 0;
  for (std::size_t i = 0; i < 50; ++i) {
    const imio::ItemResult& item = r.items[i];
    if (item.ok()) {
      ++ok;
      CHECK(item.image == imio::imread(files.paths[i]));
    } else {
      ++skipped;
      CHECK(item.status == imio::ItemStatus::skipped);
      CHECK(item.message == "cancelled");
      CHECK(item.image.empty());
      CHECK_FALSE(item.error);
    }
  }
  CHECK(ok >= 5);
  CHECK(ok <= 7);  // at most one more item per thread was under way
  CHECK(ok + skipped == 50);
  // Stopped before the call: nothing is read.
  const imio::ManyResult none = imio::imread_many(files.resources, {.stop = stop.get_token()});
  CHECK(none.items.size() == 50);
  for (const auto& item : none.items) CHECK(item.status == imio::ItemStatus::skipped);
}

TEST_CASE("an exception from the progress callback stops the batch and leaves imread_many", "[many]") {
  Files files(20);
  CHECK_THROWS_WITH(imio::imread_many(files.resources, {.threads = 2, .progress = [](std::size_t d, std::size_t) {
                                                          if (d == 3) throw std::runtime_error("enough");
                                                        }}),
                    "enough");
}

TEST_CASE("stack=true decodes every image into its slot of one batch: np.stack of the reads", "[many][stack]") {
  Files files(50);
  files.truncate(20);
  const imio::ManyResult r = imio::imread_many(files.resources, {.threads = 2, .stack = true});
  REQUIRE(r.batch.shape() == imio::Shape{50, 48, 40, 3});
  for (std::size_t i = 0; i < 50; ++i) {
    INFO("item " << i);
    CHECK(r.items[i].image.empty());
    if (i == 20) {
      CHECK(r.items[i].status == imio::ItemStatus::failed);
      CHECK(r.batch[i].copy() == NDArray({48, 40, 3}, DType::uint8));  // a failed slot is zero
    } else {
      CHECK(r.items[i].ok());
      CHECK(r.batch[i].copy() == imio::imread(files.paths[i]));
    }
  }
  // All good: exactly np.stack([imread(f) for f in files]).
  Files clean(12);
  const imio::ManyResult s = imio::imread_many(clean.resources, {.stack = true});
  const std::vector<NDArray> expected = clean.sequential();
  CHECK(s.batch == NDArray::stack(expected));
  // The first item unreadable: the batch takes the shape of the first readable one.
  clean.resources[0] = ImageResource(clean.dir / "missing.png");
  const imio::ManyResult t = imio::imread_many(clean.resources, {.threads = 1, .stack = true});
  CHECK(t.items[0].status == imio::ItemStatus::failed);
  CHECK(t.batch[5].copy() == expected[5]);
}

TEST_CASE("stack=true with an item of another shape is an ArgumentError naming the first one", "[many][stack]") {
  Files files(50, {48, 40, 3}, {23, 41});
  for (std::size_t threads : {std::size_t{1}, std::size_t{2}}) {
    const std::string m = imio_test::message_of<imio::ArgumentError>([&] {
      imio::imread_many(files.resources, {.threads = threads, .stack = true});
    });
    CHECK(imio_test::contains(m, "item 23"));
    CHECK(imio_test::contains(m, "img23."));
    CHECK(imio_test::contains(m, "(50, 40, 3)"));
    CHECK(imio_test::contains(m, "(48, 40, 3)"));
  }
  // Without stack the same list reads, each item at its own shape.
  const imio::ManyResult r = imio::imread_many(files.resources);
  CHECK(r.all_ok());
  CHECK(r.items[23].image.shape() == imio::Shape{50, 40, 3});
}

TEST_CASE("imread_many applies the read options to every item, and accepts an empty list", "[many]") {
  Files files(9);
  const imio::ManyResult r = imio::imread_many(files.resources, {.read = {.kwargs = {{"mode", "L"}}}, .threads = 2});
  // Each item as imread with the same options: the pixels, or the same error.
  std::size_t refused = 0;
  for (std::size_t i = 0; i < 9; ++i) {
    INFO("item " << i);
    try {
      const NDArray expected = imio::imread(files.paths[i], {{"mode", "L"}});
      CHECK(expected.ndim() == 2);
      CHECK(r.items[i].image == expected);
    } catch (const imio::ArgumentError& e) {
      ++refused;
      CHECK(r.items[i].message == e.what());
      CHECK_THROWS_AS(r.items[i].rethrow(), imio::ArgumentError);
    }
  }
  CHECK(refused < 9);
  CHECK(imio::imread_many(std::span<const ImageResource>()).items.empty());
  CHECK(imio::imread_many(std::span<const ImageResource>(), {.stack = true}).batch.empty());
}

TEST_CASE("imread_many reads encoded bytes in memory", "[many]") {
  Files files(6);
  std::vector<imio::Bytes> data;
  for (const auto& p : files.paths) data.push_back(imio_test::read_file(p));
  std::vector<ImageResource> in_memory;
  for (const auto& d : data) in_memory.emplace_back(d);
  const imio::ManyResult r = imio::imread_many(in_memory, {.threads = 3, .stack = true});
  CHECK(r.batch == NDArray::stack(files.sequential()));
}

TEST_CASE("imread_stream hands over every item in input order, errors at their index", "[many][stream]") {
  Files files(50);
  files.truncate(12);
  const std::vector<NDArray> expected = [&] {
    std::vector<NDArray> v;
    for (std::size_t i = 0; i < 50; ++i) v.push_back(i == 12 ? NDArray() : imio::imread(files.paths[i]));
    return v;
  }();
  for (std::size_t prefetch : {std::size_t{0}, std::size_t{1}, std::size_t{5}}) {
    INFO("prefetch=" << prefetch);
    std::size_t i = 0;
    for (imio::ItemResult& item : imio::imread_stream(files.resources, {.threads = 2, .prefetch = prefetch})) {
      if (i == 12) {
        CHECK(item.status == imio::ItemStatus::failed);
        CHECK_THROWS_AS(item.rethrow(), imio::DecodeError);
        CHECK(imio_test::contains(item.message, "broken12.png"));
      } else {
        CHECK(item.ok());
        const NDArray mine = std::move(item.image);  // the consumer may take the array
        CHECK(mine == expected[i]);
      }
      ++i;
    }
    CHECK(i == 50);
  }
}

TEST_CASE("leaving an imread_stream loop early stops its decoding; an empty list yields nothing", "[many][stream]") {
  Files files(40);
  std::size_t seen = 0;
  {
    auto stream = imio::imread_stream(files.resources, {.threads = 2, .prefetch = 4});
    for (imio::ItemResult& item : stream) {
      CHECK(item.image == imio::imread(files.paths[seen]));
      if (++seen == 3) break;
    }
  }  // destroyed with items queued and running: must neither hang nor crash
  CHECK(seen == 3);
  // Never begun: nothing is read.
  { auto unused = imio::imread_stream(files.resources); }
  std::size_t n = 0;
  for (auto& item : imio::imread_stream(std::span<const ImageResource>())) {
    (void)item;
    ++n;
  }
  CHECK(n == 0);
}

TEST_CASE("stack=true with out= decodes into the caller's batch, checked against the items", "[many][stack]") {
  Files files(10);
  files.truncate(4);
  NDArray batch({10, 48, 40, 3}, DType::uint8);
  std::memset(batch.bytes(), 0x5A, batch.nbytes());
  for (int round = 0; round < 2; ++round) {  // the same batch serves twice
    const imio::ManyResult r = imio::imread_many(files.resources, {.threads = 2, .stack = true, .out = batch});
    CHECK(r.batch.empty());
    for (std::size_t i = 0; i < 10; ++i) {
      INFO("item " << i);
      if (i == 4) {
        CHECK(r.items[i].status == imio::ItemStatus::failed);
        CHECK(batch[i].copy() == NDArray({48, 40, 3}, DType::uint8));
      } else {
        CHECK(batch[i].copy() == imio::imread(files.paths[i]));
      }
    }
  }
  NDArray wrong({9, 48, 40, 3}, DType::uint8);
  const std::string m = imio_test::message_of<imio::ArgumentError>([&] {
    imio::imread_many(files.resources, {.stack = true, .out = wrong});
  });
  CHECK(imio_test::contains(m, "shape (9, 48, 40, 3)"));
  CHECK(imio_test::contains(m, "shape (10, 48, 40, 3)"));
  CHECK(wrong == NDArray({9, 48, 40, 3}, DType::uint8));  // untouched
}
