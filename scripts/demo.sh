#!/usr/bin/env bash
# Builds imio and runs its demo (examples/demo.cpp) on a fresh Debian
# bookworm machine: installs the Debian packages it needs when missing,
# configures, builds only the demo, and runs it. Works offline once the
# packages are there.
#
#   ./scripts/demo.sh [extra cmake arguments]
#   BUILD_DIR=... JOBS=... ./scripts/demo.sh
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$root/scripts/lib.sh"

imio_ensure_packages "${IMIO_BUILD_PACKAGES[@]}" "${IMIO_PLUGIN_PACKAGES[@]}"

build="${BUILD_DIR:-$root/build-demo}"
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DIMIO_BUILD_EXAMPLES=ON -DIMIO_BUILD_TESTS=OFF -DIMIO_BUILD_CLI=OFF "$@"
cmake --build "$build" --target imio_demo --parallel "$(imio_jobs)"
echo
"$build/examples/imio_demo"
