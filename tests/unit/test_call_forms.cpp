// One call form everywhere: every function and ImageFile method takes its
// options struct (designated initializers) or the plugin kwargs alone
// (`{{"quality", 90}}`, Python's keyword arguments), identically with g++
// and clang; the shorthand never becomes std::string("quality", 90).
#include <imio/imio.hpp>
#include <imio/plugin.hpp>

#include <cstring>
#include <map>
#include <mutex>
#include <string>
#include <type_traits>

#include "catch.hpp"
#include "test_util.hpp"

namespace {

using imio::Kwargs;
using imio::NDArray;
using imio::Value;

// What the last call of each method received.
std::map<std::string, Kwargs>& seen() {
  static std::map<std::string, Kwargs> m;
  return m;
}

// "KWREC" files hold one 1x1 image; every method records its kwargs.
struct Recorder final : imio::Plugin {
  NDArray read(const imio::Index&, const Kwargs& kwargs) override {
    seen()["read"] = kwargs;
    return NDArray({1, 1}, imio::DType::uint8);
  }
  std::unique_ptr<imio::FrameSource> iter(const Kwargs& kwargs) override {
    seen()["iter"] = kwargs;
    struct None final : imio::FrameSource {
      std::optional<NDArray> next() override { return std::nullopt; }
    };
    return std::make_unique<None>();
  }
  imio::ImageProperties properties(const imio::Index&, const Kwargs& kwargs) override {
    seen()["properties"] = kwargs;
    return {.shape = {1, 1}, .dtype = imio::DType::uint8};
  }
  imio::Metadata metadata(const imio::Index&, bool, const Kwargs& kwargs) override {
    seen()["metadata"] = kwargs;
    return {};
  }
  void write(const NDArray&, const Kwargs& kwargs) override { seen()["write"] = kwargs; }
  void write(std::span<const NDArray>, const Kwargs& kwargs) override { seen()["write_list"] = kwargs; }
};

void register_recorder() {
  static std::once_flag once;
  std::call_once(once, [] {
    imio::register_plugin({.name = "kwrec",
                           .extensions = {{".kwrec", 10}},
                           .can_read = true,
                           .can_write = true,
                           .write_extensions = {".kwrec"},  // not a catch-all writer for other tests
                           .sniff = [](std::span<const std::byte> head) {
                             return head.size() >= 5 && std::memcmp(head.data(), "KWREC", 5) == 0;
                           },
                           .sniff_bytes = 5,
                           .factory = [](imio::Request&, const Kwargs& kwargs) -> std::unique_ptr<imio::Plugin> {
                             seen()["open"] = kwargs;
                             return std::make_unique<Recorder>();
                           }});
  });
}

const Kwargs q90{{"quality", 90}};
const Kwargs two{{"quality", 90}, {"optimize", true}};

// The old trap: a braced pair initialising the options' first member.
template <class T>
concept from_braced_pair = requires { T{{"quality", 90}}; };

}  // namespace

static_assert(!std::is_constructible_v<imio::PluginName, const char*, int>);
static_assert(!from_braced_pair<imio::WriteOptions>);
static_assert(!from_braced_pair<imio::IterOptions>);
static_assert(!from_braced_pair<imio::OpenOptions>);
static_assert(!from_braced_pair<imio::ReadOptions>);
static_assert(!from_braced_pair<imio::MetaOptions>);

TEST_CASE("the six functions take the kwargs shorthand as the plugin's kwargs", "[call-forms]") {
  register_recorder();
  imio_test::TempDir dir;
  const auto path = dir / "a.kwrec";
  imio_test::write_file(path, imio_test::to_bytes("KWREC"));
  const NDArray img({1, 1}, imio::DType::uint8);

  imio::imread(path, {{"quality", 90}});
  CHECK(seen()["read"] == q90);
  imio::imread(path, {{"quality", 90}, {"optimize", true}});
  CHECK(seen()["read"] == two);
  imio::improps(path, {{"quality", 90}});
  CHECK(seen()["properties"] == q90);
  imio::immeta(path, {{"quality", 90}});
  CHECK(seen()["metadata"] == q90);
  for (const NDArray& frame : imio::imiter(path, {{"quality", 90}})) (void)frame;
  CHECK(seen()["iter"] == q90);

  const auto target = dir / "out.kwrec";
  imio::imwrite(target, img, {{"quality", 90}});
  CHECK(seen()["write"] == q90);
  const NDArray list[] = {img.copy(), img.copy()};
  imio::imwrite(target, std::span<const NDArray>(list), {{"quality", 90}, {"optimize", true}});
  CHECK(seen()["write_list"] == two);
  imio::imopen(target, "w", {{"fps", 25}}).close();
  CHECK(seen()["open"] == Kwargs{{"fps", 25}});
}

TEST_CASE("the options structs, {} and the shorthand mean the same call", "[call-forms]") {
  register_recorder();
  imio_test::TempDir dir;
  const auto path = dir / "a.kwrec";
  imio_test::write_file(path, imio_test::to_bytes("KWREC"));
  imio::imread(path, {.index = 0, .kwargs = {{"quality", 90}}});
  CHECK(seen()["read"] == q90);
  imio::imread(path, {.plugin = "kwrec", .kwargs = q90});
  CHECK(seen()["read"] == q90);
  imio::imread(path, {});
  CHECK(seen()["read"].empty());
  imio::imread(path, {.index = std::optional<int>{}});  // Index from an optional: None
  imio::imwrite(dir / "b.kwrec", NDArray({1, 1}, imio::DType::uint8), {.plugin = "kwrec", .kwargs = {{"quality", 90}}});
  CHECK(seen()["write"] == q90);
  imio::imwrite(dir / "c.kwrec", NDArray({1, 1}, imio::DType::uint8), {});
  CHECK(seen()["write"].empty());
}

TEST_CASE("every ImageFile method takes its call struct or the kwargs shorthand", "[call-forms]") {
  register_recorder();
  imio_test::TempDir dir;
  const auto path = dir / "a.kwrec";
  imio_test::write_file(path, imio_test::to_bytes("KWREC"));
  auto in = imio::imopen(path, "r");
  in.read({{"quality", 90}});
  CHECK(seen()["read"] == q90);
  in.read({.index = 0, .kwargs = two});
  CHECK(seen()["read"] == two);
  in.properties({{"quality", 90}});
  CHECK(seen()["properties"] == q90);
  in.properties({.index = imio::all, .kwargs = two});
  CHECK(seen()["properties"] == two);
  in.metadata({{"quality", 90}});
  CHECK(seen()["metadata"] == q90);
  in.metadata({.exclude_applied = false, .kwargs = two});
  CHECK(seen()["metadata"] == two);
  for (const NDArray& f : in.iter({{"quality", 90}})) (void)f;
  CHECK(seen()["iter"] == q90);
  for (const NDArray& f : in.iter({.kwargs = two})) (void)f;
  CHECK(seen()["iter"] == two);

  auto out = imio::imopen(dir / "o.kwrec", "w");
  const NDArray img({1, 1}, imio::DType::uint8);
  out.write(img, {{"quality", 90}});
  CHECK(seen()["write"] == q90);
  out.write(img, {.kwargs = two});  // g++ 12 compiled this before; clang 14 did not
  CHECK(seen()["write"] == two);
  const NDArray list[] = {img.copy()};
  out.write(std::span<const NDArray>(list), {{"quality", 90}});
  CHECK(seen()["write_list"] == q90);
  out.write(std::span<const NDArray>(list), {.kwargs = two});
  CHECK(seen()["write_list"] == two);
  out.close();
}

TEST_CASE("imread_into and ImageFile::read_into take the options, the kwargs shorthand and {}", "[call-forms]") {
  register_recorder();
  imio_test::TempDir dir;
  const auto path = dir / "a.kwrec";
  imio_test::write_file(path, imio_test::to_bytes("KWREC"));
  NDArray out({1, 1}, imio::DType::uint8);
  out.at<std::uint8_t>(0, 0) = 7;
  imio::imread_into(path, out, {{"quality", 90}});
  CHECK(seen()["read"] == q90);
  CHECK(seen()["properties"] == q90);  // the shape check asks with the same kwargs
  CHECK(out.at<std::uint8_t>(0, 0) == 0);  // what the plugin returned
  imio::imread_into(path, out, {{"quality", 90}, {"optimize", true}});
  CHECK(seen()["read"] == two);
  imio::imread_into(path, out, {.index = 0, .kwargs = two});
  CHECK(seen()["read"] == two);
  imio::imread_into(path, out, {});
  CHECK(seen()["read"].empty());
  imio::imread_into(path, out);
  CHECK(seen()["read"].empty());
  auto in = imio::imopen(path, "r");
  in.read_into(out, {{"quality", 90}});
  CHECK(seen()["read"] == q90);
  in.read_into(out, {.index = 0, .kwargs = two});
  CHECK(seen()["read"] == two);
  // A view converts too; a row of one pixel has shape (1), not (1, 1).
  CHECK_THROWS_AS(in.read_into(out[0], {}), imio::ArgumentError);
}

TEST_CASE("Index takes an optional integer: empty means None", "[call-forms]") {
  CHECK(imio::Index(std::optional<int>{}).is_none());
  CHECK(imio::Index(std::optional<long>{3}) == imio::Index(3));
}
