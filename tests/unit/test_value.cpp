// Value, Dict, Index, options aggregates and the JSON encoding.
#include <imio/imio.hpp>

#include <array>
#include <cmath>
#include <limits>
#include <span>
#include <sstream>
#include <string>
#include <vector>

#include "catch.hpp"
#include "test_util.hpp"

using imio::Dict;
using imio::Value;

TEST_CASE("Value converts from the C++ types a caller writes", "[value]") {
  CHECK(Value(true).is<bool>());
  CHECK(Value(3).is<std::int64_t>());
  CHECK(Value(std::uint8_t{3}).get<std::int64_t>() == 3);
  CHECK(Value(2.5).is<double>());
  CHECK(Value(2.5f).get<double>() == 2.5);
  CHECK(Value("text").is<std::string>());  // never bool
  CHECK(Value(std::string("s")).get<std::string>() == "s");
  CHECK(Value(std::string_view("v")).get<std::string>() == "v");
  CHECK(Value(imio::Bytes{std::byte{1}}).is<imio::Bytes>());
  CHECK(Value().is_none());
  CHECK(Value(imio::all).is<imio::All>());
  const Value list = {100, 200, 300};
  REQUIRE(list.is<Value::List>());
  CHECK(list.ref<Value::List>().size() == 3);
  CHECK_THROWS_AS(Value(std::numeric_limits<std::uint64_t>::max()), imio::ArgumentError);
}

TEST_CASE("Value::get converts numbers sensibly and reports type mismatches", "[value]") {
  CHECK(Value(3).get<double>() == 3.0);
  CHECK(Value(4.0).get<int>() == 4);
  CHECK_THROWS_AS(Value(4.5).get<int>(), imio::ArgumentError);
  CHECK_THROWS_AS(Value(300).get<std::uint8_t>(), imio::ArgumentError);
  CHECK_THROWS_AS(Value(-1).get<unsigned>(), imio::ArgumentError);
  try {
    (void)Value("x").get<bool>();
    FAIL("expected ArgumentError");
  } catch (const imio::ArgumentError& e) {
    CHECK(std::string(e.what()).find("expected bool, got str 'x'") != std::string::npos);
  }
  CHECK(Value({1, "a", 2.5, Value()}).repr() == "[1, 'a', 2.5, None]");
  CHECK(Value("a\tb\n'c'\\\x01").repr() == R"('a\tb\n\'c\'\\\x01')");  // as Python's repr
}

TEST_CASE("Value::get checks a float's range before converting it (no undefined behaviour)", "[value]") {
  CHECK_THROWS_AS(Value(1e300).get<int>(), imio::ArgumentError);
  CHECK_THROWS_AS(Value(-1e300).get<std::int64_t>(), imio::ArgumentError);
  CHECK_THROWS_AS(Value(0x1p63).get<std::int64_t>(), imio::ArgumentError);  // just beyond INT64_MAX
  CHECK(Value(-0x1p63).get<std::int64_t>() == INT64_MIN);
  CHECK_THROWS_AS(Value(std::numeric_limits<double>::quiet_NaN()).get<int>(), imio::ArgumentError);
  CHECK_THROWS_AS(Value(std::numeric_limits<double>::infinity()).get<std::uint8_t>(), imio::ArgumentError);
  CHECK_THROWS_AS(Value(1e300).get<float>(), imio::ArgumentError);
  CHECK(Value(1e30).get<float>() == 1e30f);
  CHECK(std::isinf(Value(std::numeric_limits<double>::infinity()).get<float>()));
  CHECK(std::isnan(Value(std::numeric_limits<double>::quiet_NaN()).get<float>()));
}

TEST_CASE("Dict keeps insertion order and unique keys", "[value]") {
  Dict d{{"b", 1}, {"a", "x"}};
  d.set("c", 2.0);
  d.set("b", 5);
  std::vector<std::string> keys;
  for (const auto& [k, v] : d) keys.push_back(k);
  CHECK(keys == std::vector<std::string>{"b", "a", "c"});
  CHECK(d.get<std::int64_t>("b") == 5);
  CHECK(d.find<std::string>("a") == "x");
  CHECK_FALSE(d.find<std::string>("zz").has_value());
  CHECK_THROWS_AS(d.get<std::int64_t>("zz"), imio::ArgumentError);
  CHECK_THROWS_AS(d.get<std::string>("b"), imio::ArgumentError);
  CHECK(d.erase("a"));
  CHECK_FALSE(d.contains("a"));
  Dict nested{{"inner", Dict{{"k", Value::List{1, 2}}}}};
  CHECK(nested.at("inner").ref<Dict>().at("k").ref<Value::List>().size() == 2);
}

TEST_CASE("to_json follows the CLI encoding", "[json]") {
  Dict d;
  d.set("none", Value());
  d.set("flag", true);
  d.set("int", -3);
  d.set("float", 72.009);
  d.set("whole", 24.0);
  d.set("nan", std::nan(""));
  d.set("inf", -std::numeric_limits<double>::infinity());
  d.set("text", "a\"b\\c\n");
  d.set("list", Value::List{1, "x"});
  d.set("map", Dict{{"k", false}});
  d.set("all", imio::all);
  CHECK(imio::to_json(d) ==
        R"({"none": null, "flag": true, "int": -3, "float": 72.009, "whole": 24.0, "nan": {"float": "nan"}, )"
        R"("inf": {"float": "-inf"}, "text": "a\"b\\c\n", "list": [1, "x"], "map": {"k": false}, "all": "..."})");

  imio::Bytes small{std::byte{0xDE}, std::byte{0xAD}};
  CHECK(imio::to_json(Value(small)) == R"({"bytes_hex": "dead", "len": 2})");
  imio::Bytes exactly64(64, std::byte{0});
  CHECK(imio::to_json(Value(exactly64)).find(R"("len": 64)") != std::string::npos);
  imio::Bytes long_bytes(65);
  for (std::size_t i = 0; i < 65; ++i) long_bytes[i] = static_cast<std::byte>(i);
  CHECK(imio::to_json(Value(long_bytes)) ==
        R"({"bytes_len": 65, "sha256": "4bfd2c8b6f1eec7a2afeb48b934ee4b2694182027e6d0fc075074f2fabb31781", )"
        R"("head_hex": "000102030405060708090a0b0c0d0e0f"})");
}

TEST_CASE("Index is none, an integer or all", "[options]") {
  imio::Index none;
  CHECK(none.is_none());
  imio::Index k = 42;
  CHECK(k.is_integer());
  CHECK(k.value() == 42);
  imio::Index a = imio::all;
  CHECK(a.is_all());
  CHECK(a.repr() == "...");
  CHECK(none.repr() == "None");
  CHECK(imio::Index(-1).value() == -1);
}

TEST_CASE("options read like Python keyword arguments (API.md examples compile)", "[options]") {
  imio::ReadOptions r{.index = 42};
  CHECK(r.index.value() == 42);
  imio::ReadOptions rot{.kwargs = {{"rotate", true}}};
  CHECK(rot.kwargs[0].second.get<bool>());
  imio::WriteOptions w{.kwargs = {{"quality", 90}}};
  CHECK(w.kwargs[0].second.get<int>() == 90);
  imio::WriteOptions png{.extension = ".png"};
  CHECK(png.extension == ".png");
  imio::WriteOptions gif{.kwargs = {{"duration", {100, 200, 300}}, {"loop", 0}, {"mode", "L"}}};
  CHECK(gif.kwargs[0].second.ref<Value::List>().size() == 3);
  CHECK(gif.kwargs[2].second.get<std::string>() == "L");
  imio::ReadOptions all{.index = imio::all, .plugin = "pyav", .kwargs = {{"format", Value()}}};
  CHECK(all.index.is_all());
  imio::MetaOptions m{.exclude_applied = false};
  CHECK_FALSE(m.exclude_applied);
  imio::PropCall p{.index = 0};
  CHECK(p.index.value() == 0);
}

TEST_CASE("Value is made from containers and views of numbers and strings", "[value]") {
  CHECK(Value(std::vector<int>{1, 2, 3}) == Value({1, 2, 3}));
  CHECK(Value(std::array<double, 2>{72.0, 72.0}) == Value({72.0, 72.0}));
  const std::string names[] = {"a", "b"};
  CHECK(Value(std::span<const std::string>(names)) == Value({"a", "b"}));
  CHECK(Value(std::vector<std::string_view>{"x"}) == Value(Value::List{"x"}));
  CHECK(Value(std::vector<bool>{true, false}) == Value({true, false}));
  CHECK(Value(std::string_view("text")).is<std::string>());        // a string, never a list of chars
  CHECK(Value(std::string("text")).is<std::string>());
  const std::byte raw[] = {std::byte{1}, std::byte{2}};
  CHECK(Value(std::span<const std::byte>(raw)) == Value(imio::Bytes{std::byte{1}, std::byte{2}}));  // bytes, not a list
  CHECK(Value(imio::Bytes{std::byte{9}}).is<imio::Bytes>());
}

TEST_CASE("Metadata lookups name the key, and the keys present when it is missing", "[value]") {
  const imio::Metadata m{{"Make", "Canon"}, {"dpi", Value({72.0, 72.0})}};
  auto msg = imio_test::message_of<imio::ArgumentError>([&] { (void)m.get<std::string>("Model"); });
  CHECK(msg.find("no key 'Model' (present: Make, dpi)") != std::string::npos);
  msg = imio_test::message_of<imio::ArgumentError>([&] { (void)m.get<std::int64_t>("Make"); });
  CHECK(msg.find("key 'Make': expected int, got str 'Canon'") != std::string::npos);
  msg = imio_test::message_of<imio::ArgumentError>([&] { (void)m.find<bool>("dpi"); });
  CHECK(msg.find("key 'dpi': expected bool, got list") != std::string::npos);
  CHECK_FALSE(m.find<bool>("absent"));
  msg = imio_test::message_of<imio::ArgumentError>([&] { (void)imio::Metadata{}.at("x"); });
  CHECK(msg.find("no key 'x' (present: none)") != std::string::npos);
}

TEST_CASE("operator<< prints Values and Metadata as Python's repr, properties as imageio's", "[value]") {
  std::ostringstream out;
  out << Value({1, "a", 2.5, Value()}) << " | " << imio::Metadata{{"Make", "Canon"}, {"n", 3}} << " | "
      << imio::ImageProperties{.shape = {300, 451, 3}, .dtype = imio::DType::uint8} << " | "
      << imio::ImageProperties{.shape = {4}, .dtype = imio::DType::float32, .n_images = 4, .is_batch = true,
                               .spacing = std::vector<double>{0.5}};
  CHECK(out.str() == "[1, 'a', 2.5, None] | {'Make': 'Canon', 'n': 3} | "
                     "ImageProperties(shape=(300, 451, 3), dtype=uint8, n_images=None, is_batch=False, spacing=None) | "
                     "ImageProperties(shape=(4,), dtype=float32, n_images=4, is_batch=True, spacing=(0.5))");
}
