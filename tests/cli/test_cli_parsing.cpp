// The command line and the kwarg VALUE syntax of `imio` (design/CLI.md),
// checked on the parser itself.
#include <cmath>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "catch.hpp"
#include "command_line.hpp"
#include "json_input.hpp"
#include "progress.hpp"

using imio::Value;
using imio::cli::Command;
using imio::cli::parse_command_line;
using imio::cli::parse_kwarg_value;
using imio::cli::UsageError;

namespace {

imio::cli::Invocation parse(std::vector<std::string_view> args) { return parse_command_line(args); }

bool is_usage_error(std::vector<std::string_view> args) {
  try {
    parse_command_line(args);
  } catch (const UsageError&) {
    return true;
  }
  return false;
}

}  // namespace

TEST_CASE("a kwarg VALUE that parses as JSON becomes that value") {
  CHECK(parse_kwarg_value("true") == Value(true));
  CHECK(parse_kwarg_value("false") == Value(false));
  CHECK(parse_kwarg_value("null").is_none());
  CHECK(parse_kwarg_value("3") == Value(3));
  CHECK(parse_kwarg_value("-2") == Value(-2));
  CHECK(parse_kwarg_value("2.5") == Value(2.5));
  CHECK(parse_kwarg_value("1e3") == Value(1000.0));
  CHECK(parse_kwarg_value("1E-2") == Value(0.01));
  CHECK(parse_kwarg_value("[100,200]") == Value({100, 200}));
  CHECK(parse_kwarg_value(" [ 1 , [2.5, \"x\"] , null ] ") == Value({1, Value({2.5, "x"}), Value()}));
  CHECK(parse_kwarg_value("\"text\"") == Value("text"));
  const Value dict(imio::Dict{{"a", 1}, {"b", Value(Value::List{Value(true)})}});
  CHECK(parse_kwarg_value(R"({"a": 1, "b": [true]})") == dict);
  CHECK(parse_kwarg_value("{}") == Value(imio::Dict{}));
  CHECK(parse_kwarg_value("[]") == Value(Value::List{}));
}

TEST_CASE("a kwarg VALUE that is not JSON is taken as a string") {
  CHECK(parse_kwarg_value("RGB") == Value("RGB"));
  CHECK(parse_kwarg_value("") == Value(""));
  CHECK(parse_kwarg_value("01") == Value("01"));
  CHECK(parse_kwarg_value("[1,") == Value("[1,"));
  CHECK(parse_kwarg_value("1.") == Value("1."));
  CHECK(parse_kwarg_value("True") == Value("True"));
  CHECK(parse_kwarg_value("'single'") == Value("'single'"));
  CHECK(parse_kwarg_value("3 4") == Value("3 4"));
  CHECK(parse_kwarg_value("\"\\x\"") == Value("\"\\x\""));
}

TEST_CASE("the kwarg VALUE ... stands for imio::all") {
  CHECK(parse_kwarg_value("...") == Value(imio::all));
  CHECK(parse_kwarg_value("\"...\"") == Value("..."));
}

TEST_CASE("a kwarg VALUE that is not one JSON document stays text (lone surrogate)") {
  CHECK(parse_kwarg_value(R"("\ud83d")") == Value(R"("\ud83d")"));
}

TEST_CASE("options take their value as --opt value or --opt=value") {
  const auto a = parse({"props", "x.npy", "--index", "2", "--plugin", "npy", "--extension", ".npy"});
  CHECK(a.command == Command::props);
  REQUIRE(a.positionals == std::vector<std::string>{"x.npy"});
  CHECK(a.index == imio::Index(2));
  CHECK(a.plugin == "npy");
  CHECK(a.extension == ".npy");
  const auto b = parse({"props", "--index=all", "--plugin=npy", "--extension=.npy", "x.npy"});
  CHECK(b.index == imio::Index(imio::all));
  CHECK(b.plugin == "npy");
  CHECK(b.extension == ".npy");
  CHECK(parse({"props", "x", "--index=-1"}).index == imio::Index(-1));
  CHECK(parse({"props", "x"}).index.is_none());
}

TEST_CASE("--kw is repeatable and keeps its order") {
  const auto a = parse({"convert", "in.gif", "out.npy", "--kw", "mode=RGBA", "--kw=page=...", "--kw", "x=[1, 2]",
                        "--write-kw", "q=90", "--write-plugin", "npy", "--write-extension", ".npy"});
  REQUIRE(a.kwargs.size() == 3);
  CHECK(a.kwargs[0] == std::pair<std::string, Value>{"mode", "RGBA"});
  CHECK(a.kwargs[1] == std::pair<std::string, Value>{"page", imio::all});
  CHECK(a.kwargs[2] == std::pair<std::string, Value>{"x", {1, 2}});
  REQUIRE(a.write_kwargs.size() == 1);
  CHECK(a.write_kwargs[0] == std::pair<std::string, Value>{"q", 90});
  CHECK(a.write_plugin == "npy");
  CHECK(a.write_extension == ".npy");
  CHECK(parse({"props", "x", "--kw", "k=a=b"}).kwargs[0].second == Value("a=b"));
}

TEST_CASE("meta takes --exclude-applied=true|false") {
  CHECK(parse({"meta", "x"}).exclude_applied);
  CHECK_FALSE(parse({"meta", "x", "--exclude-applied=false"}).exclude_applied);
  CHECK(parse({"meta", "x", "--exclude-applied", "true"}).exclude_applied);
  CHECK(is_usage_error({"meta", "x", "--exclude-applied=no"}));
  CHECK(is_usage_error({"props", "x", "--exclude-applied=false"}));
}

TEST_CASE("\"-\" is a positional and -- ends the options") {
  CHECK(parse({"convert", "-", "-", "--write-extension", ".npy"}).positionals == std::vector<std::string>{"-", "-"});
  CHECK(parse({"props", "--", "--odd-name"}).positionals == std::vector<std::string>{"--odd-name"});
}

TEST_CASE("--help and --version") {
  CHECK(parse({"--help"}).command == Command::help);
  CHECK(parse({"-h"}).command == Command::help);
  CHECK(parse({"convert", "--help"}).command == Command::help);
  CHECK(parse({"--version"}).command == Command::version);
  CHECK(std::string(imio::cli::usage()).find("imio convert URI OUT") != std::string::npos);
}

TEST_CASE("a bad command line is a UsageError") {
  CHECK(is_usage_error({}));
  CHECK(is_usage_error({"frobnicate"}));
  CHECK(is_usage_error({"props"}));
  CHECK(is_usage_error({"props", "a", "b"}));
  CHECK(is_usage_error({"convert", "a"}));
  CHECK(is_usage_error({"iter", "a"}));
  CHECK(is_usage_error({"plugins", "a"}));
  CHECK(is_usage_error({"plugins", "--plugin", "npy"}));
  CHECK(is_usage_error({"props", "a", "--frobnicate"}));
  CHECK(is_usage_error({"props", "a", "-x"}));
  CHECK(is_usage_error({"props", "a", "--index"}));
  CHECK(is_usage_error({"props", "a", "--index", "one"}));
  CHECK(is_usage_error({"props", "a", "--index", "1.5"}));
  CHECK(is_usage_error({"props", "a", "--index="}));
  CHECK(is_usage_error({"props", "a", "--index", "1", "--index", "2"}));
  CHECK(is_usage_error({"iter", "a", "dir", "--index", "0"}));
  CHECK(is_usage_error({"props", "a", "--kw", "novalue"}));
  CHECK(is_usage_error({"props", "a", "--kw", "=1"}));
  CHECK(is_usage_error({"props", "a", "--write-plugin", "npy"}));
  CHECK(is_usage_error({"convert", "a", "-"}));
  CHECK(is_usage_error({"--version", "x"}));
}

TEST_CASE("--max-pixels, --max-frames and --max-bytes set the call's Limits") {
  const auto inv = parse({"convert", "a", "b", "--max-pixels", "100", "--max-frames=3", "--max-bytes", "4096"});
  CHECK(inv.limits.max_pixels == 100);
  CHECK(inv.limits.max_frames == 3);
  CHECK(inv.limits.max_bytes == 4096);
  CHECK(parse({"props", "a"}).limits == imio::Limits{});  // the library's defaults
  CHECK(parse({"props", "a", "--max-bytes", "1"}).limits.max_bytes == 1);
  CHECK(parse({"meta", "a", "--max-bytes", "1"}).limits.max_bytes == 1);
  CHECK(parse({"iter", "a", "dir", "--max-bytes", "1"}).limits.max_bytes == 1);
  CHECK(is_usage_error({"props", "a", "--max-pixels", "0"}));
  CHECK(is_usage_error({"props", "a", "--max-pixels", "-5"}));
  CHECK(is_usage_error({"props", "a", "--max-frames", "many"}));
  CHECK(is_usage_error({"props", "a", "--max-bytes", "1e9"}));
  CHECK(is_usage_error({"props", "a", "--max-bytes", "99999999999999999999999"}));
  CHECK(is_usage_error({"plugins", "--max-bytes", "1"}));
}

TEST_CASE("iter takes the write options; --write-extension needs its dot") {
  const auto inv = parse({"iter", "a.gif", "out", "--write-extension", ".png", "--write-kw", "compress_level=1"});
  CHECK(inv.write_extension == ".png");
  REQUIRE(inv.write_kwargs.size() == 1);
  CHECK(inv.write_kwargs[0].first == "compress_level");
  CHECK(parse({"iter", "a.gif", "out", "--write-plugin", "libpng"}).write_plugin == "libpng");
  CHECK(is_usage_error({"iter", "a.gif", "out", "--write-extension", "png"}));
  CHECK(is_usage_error({"convert", "a.gif", "b", "--write-extension", "."}));
}

TEST_CASE("the progress line: a carriage return, the frame and the total when known") {
  CHECK(imio::cli::progress_line(120, std::nullopt) == "\rframe 120");
  CHECK(imio::cli::progress_line(120, 300) == "\rframe 120/300");
  CHECK(imio::cli::progress_clear(0).empty());
  CHECK(imio::cli::progress_clear(5) == "\r     \r");
}

TEST_CASE("the progress line is drawn only when enabled, and erased at the end") {
  std::ostringstream off;
  {
    imio::cli::Progress p(off, false);
    p.frame(1);
    p.frame(2);
  }
  CHECK(off.str().empty());
  std::ostringstream on;
  {
    imio::cli::Progress p(on, true);
    p.set_total(2);
    p.frame(1);
  }
  CHECK(on.str() == "\rframe 1/2\r" + std::string(9, ' ') + "\r");
}
