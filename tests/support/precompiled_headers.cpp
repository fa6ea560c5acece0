// The source of imio_test_pch (tests/CMakeLists.txt): compiled with the
// precompiled header of Catch2 and <imio/imio.hpp> that every test reuses.
// It has no test of its own; Catch2's main comes from imio_test_main.
