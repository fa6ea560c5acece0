// placeholder, replaced below
#include <imio/imio.hpp>
#include "catch.hpp"
TEST_CASE("libjxl is registered") { CHECK(imio::has_plugin("libjxl")); }
