// <imio/json.hpp>: the one JSON codec of imio (CLI, plugins, descriptors).
#include <imio/json.hpp>

#include <cmath>
#include <limits>
#include <string>

#include "catch.hpp"
#include "test_util.hpp"

using imio::Dict;
using imio::from_json;
using imio::JsonStyle;
using imio::to_json;
using imio::try_from_json;
using imio::Value;
using imio_test::contains;
using imio_test::message_of;

TEST_CASE("from_json reads every JSON type into Value", "[json]") {
  CHECK(from_json("true") == Value(true));
  CHECK(from_json(" null ").is_none());
  CHECK(from_json("-2") == Value(-2));
  CHECK(from_json("2.5") == Value(2.5));
  CHECK(from_json("1E-2") == Value(0.01));
  CHECK(from_json(R"([1, [2.5, "x"], null])") == Value({1, Value({2.5, "x"}), Value()}));
  CHECK(from_json(R"({"a": 1, "b": [true]})") == Value(Dict{{"a", 1}, {"b", Value{true}}}));
  CHECK(from_json("{}") == Value(Dict{}));
  CHECK(from_json("[]") == Value(Value::List{}));
}

TEST_CASE("JSON strings decode their escapes to UTF-8", "[json]") {
  CHECK(from_json(R"("a\"b\\c\/d\n\t\b\f\r")") == Value("a\"b\\c/d\n\t\b\f\r"));
  CHECK(from_json(R"("\u00e9")") == Value("\xC3\xA9"));
  CHECK(from_json(R"("\u20ac")") == Value("\xE2\x82\xAC"));
  CHECK(from_json(R"("\ud83d\ude00")") == Value("\xF0\x9F\x98\x80"));
  CHECK_FALSE(try_from_json(R"("\ud83d")"));        // lone high surrogate
  CHECK_FALSE(try_from_json(R"("\ude00")"));        // lone low surrogate
  CHECK_FALSE(try_from_json(R"("\ud83d\u0041")"));  // high surrogate + not a low one
  CHECK_FALSE(try_from_json(R"("\x")"));
  CHECK_FALSE(try_from_json("\"a\nb\""));  // a raw control character
}

TEST_CASE("JSON numbers beyond int64 and Python's non-finite floats are floats", "[json]") {
  CHECK(from_json("9223372036854775807") == Value(INT64_MAX));
  CHECK(from_json("-9223372036854775808") == Value(INT64_MIN));
  CHECK(from_json("9223372036854775808").is<double>());
  CHECK(from_json("1e999") == Value(HUGE_VAL));
  CHECK(from_json("-Infinity") == Value(-HUGE_VAL));
  CHECK(from_json("Infinity") == Value(HUGE_VAL));
  const Value nan = from_json("NaN");
  REQUIRE(nan.is<double>());
  CHECK(std::isnan(nan.get<double>()));
}

TEST_CASE("from_json refuses what is not exactly one document, naming the offset", "[json]") {
  for (const char* bad : {"", "01", "1.", ".5", "-", "+1", "1e", "[1,", "[1,]", "{\"a\" 1}", "{a: 1}", "{\"a\": 1,}",
                          "True", "'single'", "3 4", "nul", "[1] x", "\"open"}) {
    INFO(bad);
    CHECK_FALSE(try_from_json(bad));
    CHECK_THROWS_AS(from_json(bad), imio::ArgumentError);
  }
  const auto msg = message_of<imio::ArgumentError>([] { from_json("[1, 2 x"); });
  CHECK(contains(msg, "byte 6"));
  CHECK(contains(msg, "',' or ']'"));
}

TEST_CASE("JSON objects keep document order, a repeated key keeps the last value", "[json]") {
  const auto v = try_from_json(R"({"z": 1, "a": 2, "z": 3})");
  REQUIRE(v);
  const auto& d = v->ref<Dict>();
  REQUIRE(d.size() == 2);
  CHECK(d.items()[0].first == "z");
  CHECK(d.items()[0].second == Value(3));
  CHECK(d.items()[1].first == "a");
}

TEST_CASE("deeply nested JSON is refused, not a stack overflow", "[json]") {
  const std::string deep(100000, '[');
  CHECK_FALSE(try_from_json(deep + std::string(100000, ']')));
  const std::string ok = std::string(256, '[') + std::string(256, ']');
  CHECK(try_from_json(ok));
}

TEST_CASE("to_json and from_json round-trip JSON values; strict style refuses the rest", "[json]") {
  const Value v = Dict{{"shape", Value{3, 4}}, {"name", "x \"q\"\n\x01"}, {"f", 1.0}, {"g", 0.1}, {"n", Value()},
                       {"nested", Dict{{"t", true}}}};
  const std::string text = to_json(v, JsonStyle::strict);
  CHECK(text == R"({"shape": [3, 4], "name": "x \"q\"\n\u0001", "f": 1.0, "g": 0.1, "n": null, "nested": {"t": true}})");
  CHECK(from_json(text) == v);
  CHECK(to_json(v) == text);  // tagged and strict agree on plain JSON values
  CHECK_THROWS_AS(to_json(Value(imio::Bytes{std::byte{1}}), JsonStyle::strict), imio::ArgumentError);
  CHECK_THROWS_AS(to_json(Value(imio::all), JsonStyle::strict), imio::ArgumentError);
  CHECK_THROWS_AS(to_json(Value(std::numeric_limits<double>::quiet_NaN()), JsonStyle::strict), imio::ArgumentError);
  CHECK(to_json(Value(std::numeric_limits<double>::infinity())) == R"({"float": "inf"})");
  CHECK(to_json(Value(imio::all)) == R"("...")");
}
