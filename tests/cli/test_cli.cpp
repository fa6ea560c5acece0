// The `imio` program against its contract (design/CLI.md): outputs, exit
// status, one-line errors, stdin and stdout.
#include <imio/imio.hpp>
#include <imio/plugin.hpp>
#include <imio/version.hpp>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "catch.hpp"
#include "json_input.hpp"
#include "run_program.hpp"
#include "test_paths.hpp"
#include "test_util.hpp"

namespace fs = std::filesystem;
using imio_test::ProgramResult;
using imio_test::read_text;
using imio_test::run_imio;
using imio_test::TempDir;

namespace {

[[maybe_unused]] constexpr std::array all_dtypes{
    imio::DType::bool_, imio::DType::uint8,  imio::DType::uint16,  imio::DType::uint32,  imio::DType::uint64,
    imio::DType::int8,  imio::DType::int16,  imio::DType::int32,   imio::DType::int64,   imio::DType::float16,
    imio::DType::float32, imio::DType::float64};

using imio_test::contains;

bool starts_with(const std::string& text, const std::string& prefix) { return text.rfind(prefix, 0) == 0; }

/// The contract for a library failure: exit 1, nothing on stdout, and on
/// stderr exactly one line "imio: <ErrorClass>: <message>".
void check_library_error(const ProgramResult& r, const std::string& error_class) {
  INFO("stderr: " << r.err);
  CHECK(r.status == 1);
  CHECK(r.out.empty());
  CHECK(starts_with(r.err, "imio: " + error_class + ": "));
  CHECK(r.err.size() > ("imio: " + error_class + ": ").size() + 1);
  CHECK(r.err.find('\n') == r.err.size() - 1);
}

/// The contract for a bad command line: exit 2, nothing on stdout, and on
/// stderr two lines: "imio: <the problem>" and the hint to --help (not the
/// whole usage, which would bury the problem).
void check_usage_error(const std::vector<std::string>& args) {
  const ProgramResult r = run_imio(args);
  INFO("args: " << (args.empty() ? std::string() : args[0]) << " ...; stderr: " << r.err);
  CHECK(r.status == 2);
  CHECK(r.out.empty());
  CHECK(starts_with(r.err, "imio: "));
  const auto first_end = r.err.find('\n');
  REQUIRE(first_end != std::string::npos);
  CHECK(first_end > std::string("imio: ").size());
  CHECK(r.err.substr(first_end + 1) == "run 'imio --help' for usage\n");
  CHECK_FALSE(contains(r.err, "Usage:"));
}

/// Random contents, bit patterns included (NaN payloads, subnormals); bool as 0/1.
[[maybe_unused]] imio::NDArray random_array(const imio::Shape& shape, imio::DType dtype, std::uint32_t seed) {
  imio::NDArray a(shape, dtype);
  std::mt19937 rng(seed);
  std::byte* p = a.bytes();
  for (std::size_t i = 0; i < a.nbytes(); ++i) {
    const auto r = static_cast<unsigned>(rng());
    p[i] = static_cast<std::byte>(dtype == imio::DType::bool_ ? (r & 1U) : (r & 0xFFU));
  }
  return a;
}

imio::Value parse_output(const std::string& out) {
  REQUIRE(!out.empty());
  REQUIRE(out.back() == '\n');
  auto v = imio::try_from_json(out);
  REQUIRE(v);
  return *v;
}

void write_text(const fs::path& path, const std::string& text) {
  std::ofstream f(path, std::ios::binary);
  f << text;
}

}  // namespace

TEST_CASE("imio --version prints the version") {
  const ProgramResult r = run_imio({"--version"});
  CHECK(r.status == 0);
  CHECK(r.out == std::string("imio ") + IMIO_VERSION_STRING + "\n");
  CHECK(r.err.empty());
}

TEST_CASE("imio --help prints the usage on stdout") {
  for (const auto& args : {std::vector<std::string>{"--help"}, std::vector<std::string>{"props", "--help"}}) {
    const ProgramResult r = run_imio(args);
    CHECK(r.status == 0);
    CHECK(contains(r.out, "Usage:"));
    CHECK(contains(r.out, "imio plugins"));
    CHECK(r.err.empty());
  }
}

TEST_CASE("a bad command line exits 2 with one line and a hint to --help on stderr, nothing on stdout") {
  check_usage_error({});
  check_usage_error({"frobnicate"});
  check_usage_error({"props"});
  check_usage_error({"props", "a.npy", "b.npy"});
  check_usage_error({"props", "a.npy", "--frobnicate"});
  check_usage_error({"props", "a.npy", "--index", "one"});
  check_usage_error({"props", "a.npy", "--kw", "novalue"});
  check_usage_error({"meta", "a.npy", "--exclude-applied=maybe"});
  check_usage_error({"convert", "a.npy"});
  check_usage_error({"convert", "a.npy", "-"});
  check_usage_error({"iter", "a.npy", "frames", "--index", "0"});
  check_usage_error({"plugins", "extra"});
  check_usage_error({"convert", "a.npy", "b.npy", "--max-pixels", "lots"});
  check_usage_error({"iter", "a.npy", "frames", "--write-extension", "png"});
}

TEST_CASE("imio plugins prints a JSON list of the registered plugins") {
  const ProgramResult r = run_imio({"plugins"});
  REQUIRE(r.status == 0);
  CHECK(r.err.empty());
  const imio::Value v = parse_output(r.out);
  REQUIRE(v.is<imio::Value::List>());
  const auto& list = v.ref<imio::Value::List>();
  CHECK(list.size() == imio::plugins().size());
  for (const auto& item : list) {
    REQUIRE(item.is<imio::Dict>());
    std::vector<std::string> keys;
    for (const auto& [k, unused] : item.ref<imio::Dict>()) keys.push_back(k);
    CHECK(keys == std::vector<std::string>{"name", "aliases", "summary", "extensions", "read", "write", "write_extensions",
                                           "backend", "methods"});
    // Every built-in declares the kwargs of each of its methods, with type, default and doc.
    const auto& methods = item.ref<imio::Dict>().at("methods").ref<imio::Value::List>();
    CHECK_FALSE(methods.empty());
    for (const auto& m : methods) {
      const auto& md = m.ref<imio::Dict>();
      CHECK_FALSE(md.get<std::string>("method").empty());
      for (const auto& k : md.at("kwargs").ref<imio::Value::List>()) {
        const auto& kd = k.ref<imio::Dict>();
        std::vector<std::string> kkeys;
        for (const auto& [kk, unused] : kd) kkeys.push_back(kk);
        CHECK(kkeys == std::vector<std::string>{"name", "type", "default", "min", "max", "choices", "doc"});
        CHECK_FALSE(kd.get<std::string>("type").empty());
        CHECK_FALSE(kd.get<std::string>("doc").empty());
      }
    }
  }
#ifdef IMIO_TEST_HAVE_NPY
  bool found = false;
  for (const auto& item : list) {
    const auto& d = item.ref<imio::Dict>();
    if (d.get<std::string>("name") != "npy") continue;
    found = true;
    const auto& extensions = d.at("extensions").ref<imio::Value::List>();
    CHECK(std::find(extensions.begin(), extensions.end(), imio::Value(".npy")) != extensions.end());
    CHECK(d.get<bool>("read"));
    CHECK(d.get<bool>("write"));
  }
  CHECK(found);
#endif
}

TEST_CASE("a missing file is a FileNotFoundError on one stderr line") {
  TempDir tmp;
  const std::string missing = (tmp / "missing.npy").string();
  check_library_error(run_imio({"props", missing}), "FileNotFoundError");
  check_library_error(run_imio({"meta", missing}), "FileNotFoundError");
  check_library_error(run_imio({"convert", missing, (tmp / "out.npy").string()}), "FileNotFoundError");
  check_library_error(run_imio({"iter", missing, (tmp / "frames").string()}), "FileNotFoundError");
  CHECK_FALSE(fs::exists(tmp / "out.npy"));
  CHECK_FALSE(fs::exists(tmp / "frames"));
}

TEST_CASE("data no plugin can read is a NoPluginError") {
  TempDir tmp;
  write_text(tmp / "garbage.bin", "this is not an image, just some text\n");
  check_library_error(run_imio({"props", (tmp / "garbage.bin").string()}), "NoPluginError");
  check_library_error(run_imio({"props", "-"}, tmp / "garbage.bin"), "NoPluginError");
}

TEST_CASE("an unknown plugin name is an ArgumentError") {
  TempDir tmp;
  write_text(tmp / "garbage.bin", "not an image");
  check_library_error(run_imio({"props", (tmp / "garbage.bin").string(), "--plugin", "frobnicate"}), "ArgumentError");
}

TEST_CASE("python's json module reads the JSON the CLI prints") {
  const std::string python = IMIO_TEST_PYTHON;
  if (python.empty() || !fs::exists(python)) return;  // an optional, independent check
  TempDir tmp;
  std::vector<fs::path> outputs;
  const ProgramResult plugins = run_imio({"plugins"});
  REQUIRE(plugins.status == 0);
  write_text(tmp / "plugins.json", plugins.out);
  outputs.push_back(tmp / "plugins.json");
#ifdef IMIO_TEST_HAVE_NPY
  imio::imwrite(tmp / "a.npy", random_array({4, 6, 3}, imio::DType::uint8, 1));
  const ProgramResult props = run_imio({"props", (tmp / "a.npy").string()});
  const ProgramResult meta = run_imio({"meta", (tmp / "a.npy").string()});
  REQUIRE(props.status == 0);
  REQUIRE(meta.status == 0);
  write_text(tmp / "props.json", props.out);
  write_text(tmp / "meta.json", meta.out);
  outputs.push_back(tmp / "props.json");
  outputs.push_back(tmp / "meta.json");
#endif
  for (const auto& path : outputs) {
    const ProgramResult r = imio_test::run_program(python, {"-c", "import json, sys; json.load(sys.stdin)"}, path);
    INFO(path.filename().string() << ": " << r.err);
    CHECK(r.status == 0);
  }
}

#ifdef IMIO_TEST_HAVE_NPY

TEST_CASE("imio props prints the properties as one JSON object") {
  TempDir tmp;
  const auto path = tmp / "rgb.npy";
  imio::imwrite(path, random_array({3, 4, 3}, imio::DType::uint8, 2));
  const ProgramResult r = run_imio({"props", path.string()});
  REQUIRE(r.status == 0);
  CHECK(r.err.empty());
  CHECK(r.out == "{\"shape\": [3, 4, 3], \"dtype\": \"uint8\", \"n_images\": null, \"is_batch\": false, "
                 "\"spacing\": null}\n");

  const imio::Value v = parse_output(r.out);
  const auto& d = v.ref<imio::Dict>();
  const imio::ImageProperties p = imio::improps(path);
  CHECK(d.at("shape") == imio::Value({3, 4, 3}));
  CHECK(d.get<std::string>("dtype") == std::string(imio::name(p.dtype)));
}

TEST_CASE("imio props passes --index through") {
  TempDir tmp;
  const auto path = tmp / "gray.npy";
  imio::imwrite(path, random_array({5, 7}, imio::DType::uint16, 3));
  const ProgramResult zero = run_imio({"props", path.string(), "--index", "0"});
  REQUIRE(zero.status == 0);
  CHECK(contains(zero.out, "\"shape\": [5, 7], \"dtype\": \"uint16\""));
  check_library_error(run_imio({"props", path.string(), "--index", "1"}), "IndexError");
  check_library_error(run_imio({"props", path.string(), "--index=-1"}), "IndexError");
}

TEST_CASE("imio meta prints the metadata as one JSON object") {
  TempDir tmp;
  const auto path = tmp / "a.npy";
  imio::imwrite(path, random_array({2, 2}, imio::DType::int32, 4));
  for (const char* exclude : {"--exclude-applied=true", "--exclude-applied=false"}) {
    const ProgramResult r = run_imio({"meta", path.string(), exclude});
    REQUIRE(r.status == 0);
    CHECK(r.err.empty());
    CHECK(parse_output(r.out).is<imio::Dict>());
    CHECK(r.out == imio::to_json(imio::immeta(path)) + "\n");
  }
}

TEST_CASE("imio convert a.npy b.npy round-trips every dtype bit-exactly") {
  TempDir tmp;
  std::uint32_t seed = 10;
  for (const imio::DType dtype : all_dtypes) {
    INFO("dtype " << imio::name(dtype));
    const imio::NDArray a = random_array({3, 5, 2}, dtype, ++seed);
    const auto in = tmp / "a.npy";
    const auto out = tmp / "b.npy";
    imio::imwrite(in, a);
    const ProgramResult r = run_imio({"convert", in.string(), out.string()});
    INFO("stderr: " << r.err);
    REQUIRE(r.status == 0);
    CHECK(r.out.empty());
    CHECK(r.err.empty());
    CHECK(imio::imread(out) == a);
    CHECK(read_text(out) == read_text(in));
  }
}

TEST_CASE("imio convert writes .npy in C order with a little-endian descr") {
  TempDir tmp;
  const std::array<std::pair<imio::DType, const char*>, 4> cases{{{imio::DType::bool_, "'|b1'"},
                                                                    {imio::DType::uint16, "'<u2'"},
                                                                    {imio::DType::int64, "'<i8'"},
                                                                    {imio::DType::float32, "'<f4'"}}};
  for (const auto& [dtype, descr] : cases) {
    imio::imwrite(tmp / "a.npy", random_array({2, 3}, dtype, 5));
    REQUIRE(run_imio({"convert", (tmp / "a.npy").string(), (tmp / "b.npy").string()}).status == 0);
    const std::string bytes = read_text(tmp / "b.npy");
    INFO(bytes.substr(0, 128));
    CHECK(starts_with(bytes, "\x93NUMPY"));
    CHECK(contains(bytes.substr(0, 128), descr));
    CHECK(contains(bytes.substr(0, 128), "'fortran_order': False"));
  }
}

TEST_CASE("imio convert URI - writes the encoded bytes to stdout") {
  TempDir tmp;
  const imio::NDArray a = random_array({4, 3, 3}, imio::DType::float64, 6);
  imio::imwrite(tmp / "a.npy", a);
  const auto expected = imio::imwrite("<bytes>", a, {.extension = ".npy"});
  REQUIRE(expected);
  const std::string want(reinterpret_cast<const char*>(expected->data()), expected->size());
  for (const auto& option : {std::vector<std::string>{"--write-extension", ".npy"},
                             std::vector<std::string>{"--write-plugin=npy", "--write-extension=.npy"}}) {
    std::vector<std::string> args{"convert", (tmp / "a.npy").string(), "-"};
    args.insert(args.end(), option.begin(), option.end());
    const ProgramResult r = run_imio(args);
    INFO("stderr: " << r.err);
    REQUIRE(r.status == 0);
    CHECK(r.err.empty());
    CHECK(r.out == want);
  }
}

TEST_CASE("the URI - reads the encoded data from stdin") {
  TempDir tmp;
  const imio::NDArray a = random_array({6, 2}, imio::DType::int16, 7);
  const auto in = tmp / "a.npy";
  imio::imwrite(in, a);
  const ProgramResult props = run_imio({"props", "-"}, in);
  REQUIRE(props.status == 0);
  CHECK(props.out == run_imio({"props", in.string()}).out);
  const ProgramResult meta = run_imio({"meta", "-"}, in);
  REQUIRE(meta.status == 0);
  CHECK(meta.out == run_imio({"meta", in.string()}).out);
  const ProgramResult convert = run_imio({"convert", "-", (tmp / "b.npy").string()}, in);
  INFO("stderr: " << convert.err);
  REQUIRE(convert.status == 0);
  CHECK(imio::imread(tmp / "b.npy") == a);
  const ProgramResult iter = run_imio({"iter", "-", (tmp / "frames").string()}, in);
  REQUIRE(iter.status == 0);
  CHECK(imio::imread(tmp / "frames" / "00000.npy") == a);
}

TEST_CASE("imio iter writes OUTDIR/00000.npy and prints the count") {
  TempDir tmp;
  const imio::NDArray a = random_array({3, 4}, imio::DType::uint8, 8);
  imio::imwrite(tmp / "a.npy", a);
  const auto dir = tmp / "new" / "frames";  // created when missing
  const ProgramResult r = run_imio({"iter", (tmp / "a.npy").string(), dir.string()});
  INFO("stderr: " << r.err);
  REQUIRE(r.status == 0);
  CHECK(r.out == "1\n");
  CHECK(r.err.empty());
  REQUIRE(fs::exists(dir / "00000.npy"));
  CHECK_FALSE(fs::exists(dir / "00001.npy"));
  CHECK(imio::imread(dir / "00000.npy") == a);
}

TEST_CASE("options reach the library: kwargs, plugin and extension") {
  TempDir tmp;
  const auto path = tmp / "a.npy";
  imio::imwrite(path, random_array({2, 3}, imio::DType::uint8, 9));
  check_library_error(run_imio({"props", path.string(), "--kw", "frobnicate=1"}), "ArgumentError");
  check_library_error(run_imio({"convert", path.string(), (tmp / "b.npy").string(), "--write-kw", "frobnicate=[1,2]"}),
                      "ArgumentError");
  CHECK_FALSE(fs::exists(tmp / "b.npy"));
  check_library_error(run_imio({"props", path.string(), "--extension", "npy"}), "ArgumentError");

  // a name without the extension: selected by --plugin or --extension
  fs::copy_file(path, tmp / "noext");
  CHECK(run_imio({"props", (tmp / "noext").string(), "--plugin", "npy"}).status == 0);
  CHECK(run_imio({"props", (tmp / "noext").string(), "--extension", ".npy"}).status == 0);
}

TEST_CASE("writing into a missing folder is a FileNotFoundError") {
  TempDir tmp;
  imio::imwrite(tmp / "a.npy", random_array({2, 3}, imio::DType::uint8, 10));
  check_library_error(run_imio({"convert", (tmp / "a.npy").string(), (tmp / "no" / "b.npy").string()}),
                      "FileNotFoundError");
}

TEST_CASE("garbage named .npy is a NoPluginError") {
  TempDir tmp;
  write_text(tmp / "bad.npy", "not a numpy file at all");
  check_library_error(run_imio({"props", (tmp / "bad.npy").string()}), "NoPluginError");
}

#endif  // IMIO_TEST_HAVE_NPY
