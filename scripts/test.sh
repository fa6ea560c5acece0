#!/usr/bin/env bash
# Builds everything with warnings as errors and runs the whole test suite,
# on a fresh Debian bookworm machine: installs the Debian packages it needs
# when missing, configures (tests, CLI, examples on), builds, runs ctest.
#
#   ./scripts/test.sh [extra cmake arguments]
#   BUILD_DIR=... JOBS=... ./scripts/test.sh
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$root/scripts/lib.sh"

imio_ensure_packages "${IMIO_BUILD_PACKAGES[@]}" "${IMIO_PLUGIN_PACKAGES[@]}" "${IMIO_TEST_PACKAGES[@]}"

build="${BUILD_DIR:-$root/build-test}"
jobs="$(imio_jobs)"
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DIMIO_WARNINGS_AS_ERRORS=ON -DIMIO_BUILD_TESTS=ON -DIMIO_BUILD_CLI=ON -DIMIO_BUILD_EXAMPLES=ON "$@"
cmake --build "$build" --parallel "$jobs"
ctest --test-dir "$build" --output-on-failure --parallel "$jobs"
