#include <imio/imio.hpp>
#include <imio/registry.hpp>
#include "catch.hpp"
TEST_CASE("placeholder") { CHECK(imio::has_plugin("openjpeg")); }
