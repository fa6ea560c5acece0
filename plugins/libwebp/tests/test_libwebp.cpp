#include <imio/imio.hpp>
#include <imio/plugin.hpp>

#include "catch.hpp"

TEST_CASE("placeholder") { CHECK(imio::has_plugin("libwebp")); }
