# Shared by scripts/demo.sh, scripts/test.sh and .ci/run (sourced, not run).
#
# The Debian packages imio needs, and imio_ensure_packages, which installs
# the missing ones: `apt-get update` once, then `apt-get install -y`, only
# for packages `dpkg -s` does not report as installed; through sudo when not
# root.

# Compiler, build tools and the core's one dependency.
IMIO_BUILD_PACKAGES=(cmake ninja-build g++ pkg-config libfmt-dev)
IMIO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

# imio_descriptor_packages KEY: the packages every plugin folder's
# plugin.json lists under "packages": {"KEY": [...]} (kept on one line there
# so that this needs no JSON tool on a bare machine).
imio_descriptor_packages() {
  local key="$1" descriptor
  for descriptor in "$IMIO_ROOT"/plugins/*/plugin.json; do
    sed -n "s/.*\"$key\": *\[\([^]]*\)\].*/\1/p" "$descriptor"
  done | tr -d '",' | tr -s ' ' '\n' | sed '/^$/d' | sort -u
}

# The core's optional resources (http(s) through libcurl, zip members
# through libzip), libpng's optional inflater (libdeflate), and each plugin
# folder's backend (a plugin whose backend is missing is left out of an AUTO
# build).
# shellcheck disable=SC2207
IMIO_PLUGIN_PACKAGES=(libcurl4-openssl-dev libzip-dev libdeflate-dev $(imio_descriptor_packages debian))
# The tests: Catch2, Python with numpy (the core's oracle), exiftool and
# Pillow (the metadata parsers' oracles), OpenCV's core
# (the <imio/interop/opencv.hpp> test), and the independent readers each
# plugin's tests compare against (its "debian_test" packages: Pillow,
# tifffile, PyAV, libraw-bin, …).
# shellcheck disable=SC2207
IMIO_TEST_PACKAGES=(catch2 python3 python3-numpy libimage-exiftool-perl python3-pil libopencv-core-dev $(imio_descriptor_packages debian_test))
# The API reference (the `docs` target).
IMIO_DOCS_PACKAGES=(doxygen)

imio_ensure_packages() {
  local missing=() pkg
  for pkg in "$@"; do
    dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
  done
  if [ ${#missing[@]} -eq 0 ]; then
    echo "imio: the Debian packages needed are installed"
    return 0
  fi
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "imio: missing packages (${missing[*]}) and no apt-get: install them by hand" >&2
    return 1
  fi
  local sudo=()
  if [ "$(id -u)" -ne 0 ]; then
    if ! command -v sudo >/dev/null 2>&1; then
      echo "imio: missing packages (${missing[*]}); run as root or install sudo" >&2
      return 1
    fi
    sudo=(sudo)
  fi
  echo "imio: installing ${missing[*]}"
  "${sudo[@]}" apt-get update
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
}

# The number of parallel build jobs: $JOBS, else the number of cores.
imio_jobs() {
  echo "${JOBS:-$(nproc 2>/dev/null || echo 2)}"
}
