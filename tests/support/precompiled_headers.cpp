// The source of imio_test_pch (tests/CMakeLists.txt): compiled only to make
// the precompiled header of Catch2 and <imio/imio.hpp> that every test reuses.
