// Kwargs declared once: plugin descriptors (plugin_spec_from_json), the
// checks KwargReader makes against them, and the write-extension rule.
#include <imio/imio.hpp>
#include <imio/plugin.hpp>

#include <mutex>
#include <string>

#include "catch.hpp"
#include "test_util.hpp"

namespace {

using imio::KwargReader;
using imio::Kwargs;
using imio::Value;
using imio_test::contains;
using imio_test::message_of;

constexpr const char* kDescriptor = R"({
  "name": "declared",
  "summary": "a plugin registered at run time from a descriptor",
  "read": true,
  "write": true,
  "extensions": [{"priority": 10, "names": [".decl", ".DECL2"]}],
  "write_extensions": [".decl"],
  "methods": [
    {"methods": ["open"], "kwargs": []},
    {"methods": ["read", "write"], "kwargs": [
      {"name": "quality", "type": "int", "default": 75, "min": 0, "max": 100, "doc": "a percentage"},
      {"name": "mode", "type": "str|none", "choices": ["RGB", "L"], "doc": "a layout"},
      {"name": "gain", "type": "float", "default": 1.5, "doc": "a factor"},
      {"name": "tags", "type": "list|dict|none", "doc": "anything structured"},
      {"name": "level", "type": "int|none", "min": 1, "doc": "no default"}
    ]},
    {"methods": ["read"], "variant": "other", "when": "for the test", "kwargs": [
      {"name": "only_here", "type": "bool", "default": false, "doc": "a variant's own kwarg"}
    ]}
  ]
})";

// A plugin whose write() records the kwargs it reads through its declarations.
struct Recorder final : imio::Plugin {
  void write(const imio::NDArray&, const Kwargs& kwargs) override {
    KwargReader kw(kwargs, "declared", "write");
    written = kw.get<int>("quality");
  }
  static inline int written = -1;
};

void register_declared() {
  static std::once_flag once;
  std::call_once(once, [] {
    imio::PluginSpec spec = imio::plugin_spec_from_json(kDescriptor);
    spec.factory = [](imio::Request& request, const Kwargs& kwargs) -> std::unique_ptr<imio::Plugin> {
      // It only writes: other tests' reads in this process must not land here.
      if (request.mode() == imio::IoMode::read) throw imio::InitializationError("the test plugin does not read");
      KwargReader(kwargs, "declared", "open").finish();
      return std::make_unique<Recorder>();
    };
    imio::register_plugin(std::move(spec));
  });
}

std::string reader_error(const Kwargs& kwargs, const char* method = "read") {
  register_declared();
  return message_of<imio::ArgumentError>([&] { KwargReader kw(kwargs, "declared", method); });
}

}  // namespace

TEST_CASE("a descriptor gives a run-time plugin its name, extensions and kwargs", "[kwargs]") {
  register_declared();
  const auto infos = imio::plugins();
  const auto it = std::find_if(infos.begin(), infos.end(), [](const imio::PluginInfo& p) { return p.name == "declared"; });
  REQUIRE(it != infos.end());
  CHECK(it->summary == "a plugin registered at run time from a descriptor");
  CHECK(it->extensions == std::vector<std::string>{".decl", ".decl2"});  // lowered
  CHECK(it->priorities.front().priority == 10);
  CHECK(it->write_extensions == std::vector<std::string>{".decl"});
  REQUIRE(it->methods.size() == 4);  // open, read, write, read (other)
  CHECK(it->methods[1].method == "read");
  CHECK(it->methods[1].kwargs.front().default_value == Value(75));
  CHECK(it->methods[3].variant == "other");
}

TEST_CASE("declared kwargs: unknown keys list the accepted ones, sorted", "[kwargs]") {
  const auto msg = reader_error({{"qualty", 80}, {"gian", 2}});
  CHECK(contains(msg, "declared.read() got unexpected keyword arguments 'qualty', 'gian'"));
  CHECK(contains(msg, "accepted: gain, level, mode, quality, tags"));
  // a variant has its own set
  register_declared();
  const auto other = message_of<imio::ArgumentError>([] { KwargReader kw({{"quality", 1}}, "declared", "read", "other"); });
  CHECK(contains(other, "accepted: only_here"));
}

TEST_CASE("declared kwargs: types, ranges and choices are checked before the plugin reads them", "[kwargs]") {
  CHECK(contains(reader_error({{"quality", "high"}}), "keyword 'quality': expected int, got str 'high'"));
  CHECK(contains(reader_error({{"quality", 101}}), "keyword 'quality': must be between 0 and 100, not 101"));
  CHECK(contains(reader_error({{"quality", -1}}), "must be between 0 and 100, not -1"));
  CHECK(contains(reader_error({{"quality", 1e300}}), "expected int, got float"));  // never cast: UB
  CHECK(contains(reader_error({{"quality", 50.5}}), "expected int, got float 50.5"));
  CHECK(contains(reader_error({{"level", 0}}), "must be at least 1, not 0"));
  CHECK(contains(reader_error({{"mode", "CMYK"}}), "must be one of 'RGB', 'L', not 'CMYK'"));
  CHECK(contains(reader_error({{"gain", "x"}}), "expected float, got str 'x'"));
  CHECK(contains(reader_error({{"tags", 3}}), "expected list or dict or none, got int 3"));
  CHECK(contains(reader_error({{"quality", 1}, {"quality", 2}}), "keyword 'quality': the keyword is given twice"));
}

TEST_CASE("declared kwargs: get() gives the declared default, None means not given", "[kwargs]") {
  register_declared();
  const Kwargs none_given;
  KwargReader a(none_given, "declared", "read");
  CHECK(a.get<int>("quality") == 75);
  CHECK(a.get<double>("gain") == 1.5);
  CHECK_FALSE(a.take<std::string>("mode"));
  const Kwargs given{{"quality", 90.0}, {"gain", 2}, {"mode", Value()}, {"level", 3}};
  KwargReader b(given, "declared", "read");
  CHECK(b.get<int>("quality") == 90);   // an integral float is an int
  CHECK(b.get<double>("gain") == 2.0);  // an int is a float
  CHECK_FALSE(b.take<std::string>("mode"));
  CHECK(b.take<Value>("mode") == Value());  // as given
  CHECK(b.take<int>("level") == 3);
  b.finish();
  // reading a key the method does not declare, or a default it lacks, is a plugin bug
  CHECK_THROWS_AS(a.take<int>("undeclared"), imio::Error);
  CHECK_THROWS_AS(a.get<int>("level"), imio::Error);
  CHECK_THROWS_AS(KwargReader(none_given, "declared", "iter"), imio::Error);  // no declaration for iter
}

TEST_CASE("declared kwargs reach the plugin through the six functions", "[kwargs]") {
  register_declared();
  imio::imwrite("<bytes>", imio::NDArray({2, 2}, imio::DType::uint8), {.extension = ".decl", .kwargs = {{"quality", 33}}});
  CHECK(Recorder::written == 33);
  imio::imwrite("<bytes>", imio::NDArray({2, 2}, imio::DType::uint8), {.extension = ".decl"});
  CHECK(Recorder::written == 75);
  const auto msg = message_of<imio::ArgumentError>([] {
    imio::imwrite("<bytes>", imio::NDArray({2, 2}, imio::DType::uint8), {.extension = ".decl", .kwargs = {{"quality", 1e300}}});
  });
  CHECK(contains(msg, "declared"));
  CHECK(contains(msg, "quality"));
}

TEST_CASE("the core applies a plugin's write extensions", "[kwargs][write]") {
  register_declared();
  imio_test::TempDir dir;
  const imio::NDArray img({2, 2}, imio::DType::uint8);
  // .decl2 is served (a read extension) but not written: refused with the reason
  const auto msg = message_of<imio::NoPluginError>([&] { imio::imwrite(dir / "a.decl2", img); });
  CHECK(contains(msg, "declared (.decl)"));  // each writer with what it writes
  // named: a target without extension is fine, another extension is not
  CHECK(imio::imwrite("<bytes>", img, {.plugin = "declared"}));
  CHECK_THROWS_AS(imio::imwrite(dir / "a.png", img, {.plugin = "declared"}), imio::NoPluginError);
}

TEST_CASE("malformed descriptors are ArgumentErrors naming the key", "[kwargs]") {
  auto error = [](const std::string& json) {
    return message_of<imio::ArgumentError>([&] { (void)imio::plugin_spec_from_json(json); });
  };
  CHECK(contains(error("{\"name\": \"x\", \"colour\": 1}"), "x/plugin.json: unknown key 'colour'"));
  CHECK(contains(error("{\"aliases\": []}"), "the key 'name' is required"));
  CHECK(contains(error("not json"), "not JSON"));
  CHECK(contains(error(R"({"name": "x", "extensions": [{"priority": 1.5, "names": [".a"]}]})"), "priority: expected an integer"));
  CHECK(contains(error(R"({"name": "x", "extensions": [{"priority": 1, "names": ["a"]}]})"), "must start with a dot"));
  CHECK(contains(error(R"({"name": "x", "methods": [{"methods": ["read"], "kwargs": [{"name": "q", "type": "integer", "doc": "d"}]}]})"),
                 "unknown type 'integer'"));
  CHECK(contains(error(R"({"name": "x", "methods": [{"methods": ["read"], "kwargs": [{"name": "q", "type": "int", "default": 200, "max": 100, "doc": "d"}]}]})"),
                 "default 200: must be at most 100"));
  CHECK(contains(error(R"({"name": "x", "methods": [{"methods": ["read"], "kwargs": [{"name": "q", "type": "int", "doc": "d"}, {"name": "q", "type": "int", "doc": "d"}]}]})"),
                 "kwarg 'q' declared twice"));
  CHECK(contains(error(R"({"name": "x", "methods": [{"methods": ["read"], "kwargs": []}, {"methods": ["read"], "kwargs": []}]})"),
                 "method 'read': declared twice"));
  CHECK(contains(error(R"({"name": "x", "methods": [{"methods": ["read"], "kwargs": [{"name": "q", "type": "int"}]}]})"),
                 "the key 'doc' is required"));
  CHECK(contains(error(R"({"name": "x", "write_extensions": [".a"]})"), "lists write extensions but does not write"));
}
