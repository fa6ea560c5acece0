# Shared by scripts/demo.sh, scripts/test.sh and .ci/run (sourced, not run).
#
# The Debian packages imio needs, and imio_ensure_packages, which installs
# the missing ones: `apt-get update` once, then `apt-get install -y`, only
# for packages `dpkg -s` does not report as installed; through sudo when not
# root.

# Compiler, build tools and the core's one dependency.
IMIO_BUILD_PACKAGES=(cmake ninja-build g++ pkg-config libfmt-dev)
# The format plugins' backends (a plugin whose backend is missing is left
# out of an AUTO build).
IMIO_PLUGIN_PACKAGES=(libpng-dev libjpeg62-turbo-dev libgif-dev libtiff-dev libraw-dev
                      libavcodec-dev libavformat-dev libavutil-dev libavfilter-dev libswscale-dev
                      libcurl4-openssl-dev libzip-dev)
# The tests: Catch2, and Python readers the tests compare against.
# libraw-bin (dcraw_emu), libtiff-tools (tiffinfo, tiffcp), ffmpeg (ffprobe) and
# libjpeg-turbo-progs (cjpeg, djpeg) are
# independent readers for the RAW, TIFF and video tests.
IMIO_TEST_PACKAGES=(catch2 python3 python3-numpy python3-pil python3-tifffile python3-av
                    libraw-bin libtiff-tools ffmpeg libjpeg-turbo-progs)
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
