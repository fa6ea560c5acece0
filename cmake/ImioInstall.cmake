# Install rules: the imio library with its exported CMake targets
# (find_package(imio CONFIG)), the public headers, and a pkg-config file.
# Included by the top-level CMakeLists.txt when IMIO_INSTALL is on, after
# imio_finish_plugins() (so IMIO_ENABLED_PLUGINS is known).
#
# Plugins record what a static imio needs from its consumers in global
# properties (see cmake/ImioPlugins.cmake and docs/writing-plugins.md):
#   IMIO_FIND_DEPENDENCIES          arguments of one find_dependency() call each
#   IMIO_PKGCONFIG_REQUIRES_PRIVATE pkg-config module names (libpng, libtiff-4, …)
#   IMIO_PKGCONFIG_LIBS_PRIVATE     raw linker flags for deps without a .pc file

include(CMakePackageConfigHelpers)

set(IMIO_INSTALL_CMAKEDIR "${CMAKE_INSTALL_LIBDIR}/cmake/imio"
    CACHE STRING "Where imioConfig.cmake is installed (relative to the prefix)")
set(IMIO_INSTALL_PKGCONFIGDIR "${CMAKE_INSTALL_LIBDIR}/pkgconfig"
    CACHE STRING "Where imio.pc is installed (relative to the prefix)")
mark_as_advanced(IMIO_INSTALL_CMAKEDIR IMIO_INSTALL_PKGCONFIGDIR)

# ---------------------------------------------------------------- library and headers

install(TARGETS imio
  EXPORT imioTargets
  RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT runtime
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT runtime NAMELINK_COMPONENT development
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT development)
# (No INCLUDES DESTINATION: the target's $<INSTALL_INTERFACE:include>
# already exports it, and both together list the folder twice.)

# Plugin modules (IMIO_PLUGIN_MODULES): beside libimio, in the folder it
# looks in (IMIO_PLUGIN_INSTALL_DIR, relative to CMAKE_INSTALL_LIBDIR). Not
# exported: nothing links them, libimio loads them.
get_property(_imio_plugin_modules GLOBAL PROPERTY IMIO_PLUGIN_MODULE_TARGETS)
if(_imio_plugin_modules)
  install(TARGETS ${_imio_plugin_modules}
    LIBRARY DESTINATION "${IMIO_PLUGIN_INSTALL_DIR}" COMPONENT runtime)
endif()

file(GLOB _imio_public_headers CONFIGURE_DEPENDS "${PROJECT_SOURCE_DIR}/include/imio/*.hpp")
install(FILES
    ${_imio_public_headers}
    "${PROJECT_BINARY_DIR}/include/imio/export.hpp"
    "${PROJECT_BINARY_DIR}/include/imio/version.hpp"
  DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}/imio"
  COMPONENT development)
# Opt-in, header-only bridges to other libraries (<imio/interop/opencv.hpp>
# includes OpenCV; imio itself does not depend on it).
install(DIRECTORY "${PROJECT_SOURCE_DIR}/include/imio/interop"
  DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}/imio"
  COMPONENT development
  FILES_MATCHING PATTERN "*.hpp")
# Plugins' headers for backend-specific extras (imio_add_plugin PUBLIC_HEADERS),
# only those of the plugins built into this library.
get_property(_imio_plugin_headers GLOBAL PROPERTY IMIO_PLUGIN_PUBLIC_HEADERS)
if(_imio_plugin_headers)
  install(FILES ${_imio_plugin_headers}
    DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}/imio/plugins"
    COMPONENT development)
endif()

# ---------------------------------------------------------------- documentation

# The guides and each built plugin's page (its kwargs, metadata keys,
# limits), in the layout of the source tree so that their links hold:
# <docdir>/README.md, <docdir>/docs/…, <docdir>/plugins/<name>/README.md.
install(FILES "${PROJECT_SOURCE_DIR}/README.md" DESTINATION "${CMAKE_INSTALL_DOCDIR}" COMPONENT docs)
install(DIRECTORY "${PROJECT_SOURCE_DIR}/docs/" DESTINATION "${CMAKE_INSTALL_DOCDIR}/docs" COMPONENT docs
  FILES_MATCHING PATTERN "*.md" PATTERN "api" EXCLUDE)
foreach(_imio_plugin IN LISTS IMIO_ENABLED_PLUGINS)
  install(FILES "${PROJECT_SOURCE_DIR}/plugins/${_imio_plugin}/README.md" "${PROJECT_SOURCE_DIR}/plugins/${_imio_plugin}/plugin.json"
    DESTINATION "${CMAKE_INSTALL_DOCDIR}/plugins/${_imio_plugin}" COMPONENT docs)
endforeach()

# ---------------------------------------------------------------- CMake package

install(EXPORT imioTargets
  NAMESPACE imio::
  FILE imioTargets.cmake
  DESTINATION "${IMIO_INSTALL_CMAKEDIR}"
  COMPONENT development)

# A shared imio hides its dependencies; a static one hands them to the
# consumer's link, so its package config must find them first.
set(IMIO_CONFIG_FIND_DEPENDENCIES "")
if(NOT BUILD_SHARED_LIBS)
  get_property(_imio_deps GLOBAL PROPERTY IMIO_FIND_DEPENDENCIES)
  list(PREPEND _imio_deps fmt Threads)
  list(REMOVE_DUPLICATES _imio_deps)
  foreach(_imio_dep IN LISTS _imio_deps)
    string(APPEND IMIO_CONFIG_FIND_DEPENDENCIES "find_dependency(${_imio_dep})\n")
  endforeach()
  # Backends found through pkg-config (imio_find_pkg_config): the same
  # imported targets, made from the consumer's pkg-config.
  get_property(_imio_pc_deps GLOBAL PROPERTY IMIO_PKG_CONFIG_DEPENDENCIES)
  if(_imio_pc_deps)
    string(APPEND IMIO_CONFIG_FIND_DEPENDENCIES "find_dependency(PkgConfig)\n")
  endif()
  foreach(_imio_dep IN LISTS _imio_pc_deps)
    string(REPLACE " " ";" _imio_words "${_imio_dep}")
    list(POP_FRONT _imio_words _imio_prefix)
    list(JOIN _imio_words " " _imio_modules)
    string(APPEND IMIO_CONFIG_FIND_DEPENDENCIES
      "if(NOT TARGET PkgConfig::${_imio_prefix})\n"
      "  pkg_check_modules(${_imio_prefix} QUIET IMPORTED_TARGET ${_imio_modules})\n"
      "  if(NOT ${_imio_prefix}_FOUND)\n"
      "    set(imio_FOUND FALSE)\n"
      "    set(imio_NOT_FOUND_MESSAGE \"this static imio links the pkg-config modules ${_imio_modules}, which pkg-config does not find\")\n"
      "    set(CMAKE_MODULE_PATH \"\${_imio_module_path}\")\n"
      "    return()\n"
      "  endif()\n"
      "endif()\n")
  endforeach()
endif()
set(IMIO_CONFIG_PLUGINS "${IMIO_ENABLED_PLUGINS}")
set(IMIO_CONFIG_PLANNED_PLUGINS "${IMIO_PLANNED_PLUGINS}")
set(IMIO_CONFIG_VCPKG_FEATURES "")
foreach(_imio_plugin IN LISTS IMIO_PLANNED_PLUGINS)
  if(IMIO_PLUGIN_${_imio_plugin}_VCPKG_FEATURE)
    list(APPEND IMIO_CONFIG_VCPKG_FEATURES "${_imio_plugin}=${IMIO_PLUGIN_${_imio_plugin}_VCPKG_FEATURE}")
  endif()
endforeach()
set(IMIO_CONFIG_SHARED "${BUILD_SHARED_LIBS}")

configure_package_config_file(
  "${PROJECT_SOURCE_DIR}/cmake/imioConfig.cmake.in"
  "${PROJECT_BINARY_DIR}/packaging/imioConfig.cmake"
  INSTALL_DESTINATION "${IMIO_INSTALL_CMAKEDIR}")
write_basic_package_version_file(
  "${PROJECT_BINARY_DIR}/packaging/imioConfigVersion.cmake"
  VERSION ${PROJECT_VERSION}
  COMPATIBILITY SameMajorVersion)
install(FILES
    "${PROJECT_BINARY_DIR}/packaging/imioConfig.cmake"
    "${PROJECT_BINARY_DIR}/packaging/imioConfigVersion.cmake"
  DESTINATION "${IMIO_INSTALL_CMAKEDIR}"
  COMPONENT development)
# FindLibZip.cmake only where imioConfig.cmake uses it: a static imio with
# zip support. Anywhere else it is noise, and vcpkg's usage heuristics
# would tell users to link LibZip::LibZip themselves.
get_property(_imio_resources GLOBAL PROPERTY IMIO_ENABLED_RESOURCES)
if(NOT BUILD_SHARED_LIBS AND "ZIP" IN_LIST _imio_resources)
  install(FILES "${PROJECT_SOURCE_DIR}/cmake/FindLibZip.cmake"
    DESTINATION "${IMIO_INSTALL_CMAKEDIR}"
    COMPONENT development)
endif()

# ---------------------------------------------------------------- pkg-config

# Relocatable: every path is relative to the folder holding imio.pc.
if(IS_ABSOLUTE "${IMIO_INSTALL_PKGCONFIGDIR}")
  set(IMIO_PC_PREFIX "${CMAKE_INSTALL_PREFIX}")
else()
  file(RELATIVE_PATH _imio_pc_up "/${IMIO_INSTALL_PKGCONFIGDIR}" "/")
  string(REGEX REPLACE "/$" "" _imio_pc_up "${_imio_pc_up}")
  set(IMIO_PC_PREFIX "\${pcfiledir}/${_imio_pc_up}")
endif()
foreach(_imio_dir LIBDIR INCLUDEDIR)
  if(IS_ABSOLUTE "${CMAKE_INSTALL_${_imio_dir}}")
    set(IMIO_PC_${_imio_dir} "${CMAKE_INSTALL_${_imio_dir}}")
  else()
    set(IMIO_PC_${_imio_dir} "\${prefix}/${CMAKE_INSTALL_${_imio_dir}}")
  endif()
endforeach()

# A shared libimio carries its dependencies. A static one names them in
# Requires and Libs (not the .private fields), so that a plain
# `pkg-config --libs imio` links it against the backends as installed —
# shared ones on Debian. With Requires.private only `--static` would list
# them, and `--static` also expands the backends' own private dependencies,
# which fails where their static libraries are not installed (Debian's
# FFmpeg names dozens). vcpkg's static triplets can still use --static.
set(IMIO_PC_REQUIRES "")
set(IMIO_PC_LIBS "")
set(IMIO_PC_CFLAGS "")
if(NOT BUILD_SHARED_LIBS)
  get_property(_imio_pc_requires GLOBAL PROPERTY IMIO_PKGCONFIG_REQUIRES_PRIVATE)
  get_property(_imio_pc_libs GLOBAL PROPERTY IMIO_PKGCONFIG_LIBS_PRIVATE)
  # The backends plugins name in FIND_DEPENDENCY, for plugins that set
  # neither property: CMake's Find module name → pkg-config module or flag.
  set(_imio_pc_for_PNG libpng)
  set(_imio_pc_for_ZLIB zlib)
  set(_imio_pc_for_JPEG libjpeg)
  set(_imio_pc_for_TIFF libtiff-4)
  set(_imio_pc_for_LibRaw libraw)
  set(_imio_pc_for_GIF -lgif)  # giflib ships no .pc file upstream
  set(_imio_pc_for_CURL libcurl)    # http(s) resources (cmake/ImioResources.cmake)
  set(_imio_pc_for_LibZip libzip)   # zip members (cmake/FindLibZip.cmake)
  get_property(_imio_deps GLOBAL PROPERTY IMIO_FIND_DEPENDENCIES)
  foreach(_imio_dep IN LISTS _imio_deps)
    string(REGEX REPLACE "[ ;].*" "" _imio_dep "${_imio_dep}")
    set(_imio_item "${_imio_pc_for_${_imio_dep}}")
    if(_imio_item MATCHES "^-")
      list(APPEND _imio_pc_libs "${_imio_item}")
    elseif(_imio_item)
      list(APPEND _imio_pc_requires "${_imio_item}")
    endif()
  endforeach()
  list(PREPEND _imio_pc_requires fmt)
  list(PREPEND _imio_pc_libs -pthread)
  list(REMOVE_DUPLICATES _imio_pc_requires)
  list(REMOVE_DUPLICATES _imio_pc_libs)
  list(JOIN _imio_pc_requires ", " IMIO_PC_REQUIRES)
  list(JOIN _imio_pc_libs " " IMIO_PC_LIBS)
  string(PREPEND IMIO_PC_LIBS " ")
  set(IMIO_PC_CFLAGS " -DIMIO_STATIC_DEFINE")
endif()

configure_file("${PROJECT_SOURCE_DIR}/cmake/imio.pc.in" "${PROJECT_BINARY_DIR}/packaging/imio.pc" @ONLY)
install(FILES "${PROJECT_BINARY_DIR}/packaging/imio.pc"
  DESTINATION "${IMIO_INSTALL_PKGCONFIGDIR}"
  COMPONENT development)

# ---------------------------------------------------------------- the CLI

# The command-line tool (installed by src/cli) finds the library next to it
# wherever the tree is installed, unless its owner chose a run path.
if(TARGET imio_cli AND BUILD_SHARED_LIBS
   AND NOT IS_ABSOLUTE "${CMAKE_INSTALL_BINDIR}" AND NOT IS_ABSOLUTE "${CMAKE_INSTALL_LIBDIR}")
  get_target_property(_imio_cli_rpath imio_cli INSTALL_RPATH)
  if(NOT _imio_cli_rpath)
    file(RELATIVE_PATH _imio_bin_to_lib "/${CMAKE_INSTALL_BINDIR}" "/${CMAKE_INSTALL_LIBDIR}")
    set_target_properties(imio_cli PROPERTIES INSTALL_RPATH "\$ORIGIN/${_imio_bin_to_lib}")
  endif()
endif()
