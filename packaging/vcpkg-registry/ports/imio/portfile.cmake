# imio's vcpkg port, registry form: generated from the overlay port
# (ports/imio/portfile.cmake) by scripts/registry_port.py. Edit the
# overlay port and regenerate; never this file.
# Release archive of the tag v<version>. At release, REPO and SHA512 are
# filled in by scripts/registry_port.py --repo ... --sha512 ...
vcpkg_from_github(
  OUT_SOURCE_PATH SOURCE_PATH
  REPO OWNER/imio
  REF "v${VERSION}"
  SHA512 0
  HEAD_REF main
)

# One feature per backend, each an explicit IMIO_WITH_<X>=ON/OFF (never AUTO:
# a port must not pick up whatever happens to be installed): the format
# plugins, and the core's http(s) and zip resources. npy (zlib, a port
# dependency), spe and radiance need no optional backend and are always built.
# One feature shapes the build instead: plugin-modules (IMIO_PLUGIN_MODULES,
# dynamic triplets only, vcpkg.json's "supports").
vcpkg_check_features(OUT_FEATURE_OPTIONS FEATURE_OPTIONS
  FEATURES
    png     IMIO_WITH_LIBPNG
    jpeg    IMIO_WITH_LIBJPEG
    tiff    IMIO_WITH_LIBTIFF
    gif     IMIO_WITH_GIFLIB
    exr     IMIO_WITH_OPENEXR
    webp    IMIO_WITH_LIBWEBP
    heif    IMIO_WITH_LIBHEIF
    jxl     IMIO_WITH_LIBJXL
    openjpeg IMIO_WITH_OPENJPEG
    ffmpeg  IMIO_WITH_FFMPEG
    raw     IMIO_WITH_LIBRAW
    fits    IMIO_WITH_FITS
    dicom   IMIO_WITH_DICOM
    http    IMIO_WITH_HTTP
    zip     IMIO_WITH_ZIP
    libdeflate IMIO_WITH_LIBDEFLATE
    plugin-modules IMIO_PLUGIN_MODULES
)

# The plugins whose backends are found through pkg-config: always FFmpeg,
# cfitsio, libjxl and libdeflate (libpng's optional inflater); libwebp,
# libheif, LibRaw and OpenJPEG when their CMake packages are absent.
set(IMIO_PKG_CONFIG_OPTIONS "")
foreach(feature IN ITEMS ffmpeg fits jxl webp heif raw openjpeg libdeflate)
  if(feature IN_LIST FEATURES)
    vcpkg_find_acquire_program(PKGCONFIG)
    set(IMIO_PKG_CONFIG_OPTIONS "-DPKG_CONFIG_EXECUTABLE=${PKGCONFIG}")
    break()
  endif()
endforeach()

# The library only: no tests, examples, benchmarks, documentation target or
# command-line tool in a port build (tests, examples and the docs target
# default to ON at the top level; benchmarks are named for clarity).
vcpkg_cmake_configure(
  SOURCE_PATH "${SOURCE_PATH}"
  OPTIONS
    ${FEATURE_OPTIONS}
    ${IMIO_PKG_CONFIG_OPTIONS}
    -DIMIO_WITH_NPY=ON
    -DIMIO_WITH_SPE=ON
    -DIMIO_WITH_RADIANCE=ON
    -DIMIO_BUILD_TESTS=OFF
    -DIMIO_BUILD_EXAMPLES=OFF
    -DIMIO_BUILD_BENCHMARKS=OFF
    -DIMIO_BUILD_DOCS=OFF
    -DIMIO_BUILD_CLI=OFF
    -DIMIO_INSTALL_CMAKEDIR=share/imio
)
vcpkg_cmake_install()
vcpkg_copy_pdbs()
vcpkg_cmake_config_fixup(PACKAGE_NAME imio CONFIG_PATH share/imio)
vcpkg_fixup_pkgconfig()

file(REMOVE_RECURSE "${CURRENT_PACKAGES_DIR}/debug/include" "${CURRENT_PACKAGES_DIR}/debug/share")
file(INSTALL "${CMAKE_CURRENT_LIST_DIR}/usage" DESTINATION "${CURRENT_PACKAGES_DIR}/share/${PORT}")
vcpkg_install_copyright(FILE_LIST "${SOURCE_PATH}/LICENSE")
