# cmake -DSOURCE_DIR=… -DCONSUMER_DIR=… -DWORK_DIR=… [options] -P run_install_test.cmake
#
# One install check (check_port.py runs it once per configuration of the
# install matrix, passing the options):
#  1. configure a fresh build of SOURCE_DIR (tests and examples off, the
#     options EXTRA_OPTIONS gives, shared or static), build it and install
#     it into WORK_DIR/prefix;
#  2. check the installed tree (headers, CMake package, pkg-config file);
#  3. configure, build and run the consumer with CMAKE_PREFIX_PATH=prefix and
#     find_package(imio CONFIG REQUIRED); then with every built plugin as a
#     required component; and check that a missing component or an
#     incompatible version fails the find;
#  4. move the prefix elsewhere and build and run the consumer with
#     `pkg-config --cflags --libs imio` (relocatable .pc), when pkg-config exists.

cmake_minimum_required(VERSION 3.20)

foreach(var SOURCE_DIR CONSUMER_DIR WORK_DIR GENERATOR CXX_COMPILER BUILD_TYPE SHARED)
  if("${${var}}" STREQUAL "")
    message(FATAL_ERROR "run_install_test.cmake: ${var} is not set")
  endif()
endforeach()
string(REPLACE "," ";" ENABLED_PLUGINS "${ENABLED_PLUGINS}")
# EXTRA_OPTIONS: further cache settings (comma-separated NAME=VALUE), e.g. the
# install layout a vcpkg port uses. BUILD_DIR: the imio build folder; outside
# WORK_DIR it is kept between runs, so a matrix of configurations rebuilds
# only what a changed option affects (tests/install/check_port.py).
string(REPLACE "," ";" EXTRA_OPTIONS "${EXTRA_OPTIONS}")
if(NOT BUILD_DIR)
  set(BUILD_DIR "${WORK_DIR}/build")
endif()

set(prefix "${WORK_DIR}/prefix")
set(data "${WORK_DIR}/data")
file(REMOVE_RECURSE "${WORK_DIR}")
file(MAKE_DIRECTORY "${data}")

set(generator_args -G "${GENERATOR}")
if(MAKE_PROGRAM)
  list(APPEND generator_args "-DCMAKE_MAKE_PROGRAM=${MAKE_PROGRAM}")
endif()
set(common_args ${generator_args} "-DCMAKE_CXX_COMPILER=${CXX_COMPILER}" "-DCMAKE_BUILD_TYPE=${BUILD_TYPE}")

# run(<what> <expect: PASS|FAIL> <out-var> COMMAND …): runs a step, prints
# its output when the outcome is not the expected one, and stops the test.
function(run what expect out_var)
  cmake_parse_arguments(ARG "" "WORKING_DIRECTORY" "COMMAND" ${ARGN})
  if(NOT ARG_WORKING_DIRECTORY)
    set(ARG_WORKING_DIRECTORY "${WORK_DIR}")
  endif()
  message(STATUS "install test: ${what}")
  execute_process(COMMAND ${ARG_COMMAND}
    WORKING_DIRECTORY "${ARG_WORKING_DIRECTORY}"
    RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
  if(expect STREQUAL "PASS" AND NOT rc EQUAL 0)
    message(FATAL_ERROR "install test: '${what}' failed (${rc}):\n${out}")
  elseif(expect STREQUAL "FAIL" AND rc EQUAL 0)
    message(FATAL_ERROR "install test: '${what}' succeeded but should have failed:\n${out}")
  endif()
  set(${out_var} "${out}" PARENT_SCOPE)
endfunction()

# ---------------------------------------------------------------- 1. build and install

set(option_args "")
foreach(opt IN LISTS EXTRA_OPTIONS)
  list(APPEND option_args "-D${opt}")
endforeach()
run("configure imio (shared=${SHARED}, ${BUILD_TYPE})" PASS out
  COMMAND ${CMAKE_COMMAND} -S "${SOURCE_DIR}" -B "${BUILD_DIR}" ${common_args}
    "-DBUILD_SHARED_LIBS=${SHARED}" "-DCMAKE_INSTALL_PREFIX=${prefix}"
    -DIMIO_BUILD_TESTS=OFF -DIMIO_BUILD_EXAMPLES=OFF -DIMIO_BUILD_BENCHMARKS=OFF -DIMIO_INSTALL=ON
    "-DIMIO_WARNINGS_AS_ERRORS=${WARNINGS_AS_ERRORS}" ${option_args})
run("build imio" PASS out COMMAND ${CMAKE_COMMAND} --build "${BUILD_DIR}" --parallel 2)
run("install imio into ${prefix}" PASS out COMMAND ${CMAKE_COMMAND} --install "${BUILD_DIR}")

# ---------------------------------------------------------------- 2. the installed tree

file(GLOB_RECURSE config_files "${prefix}/*/imioConfig.cmake")
file(GLOB_RECURSE version_files "${prefix}/*/imioConfigVersion.cmake")
file(GLOB_RECURSE pc_files "${prefix}/*/imio.pc")
if(NOT config_files OR NOT version_files OR NOT pc_files)
  message(FATAL_ERROR "install test: imioConfig.cmake, imioConfigVersion.cmake or imio.pc is missing under ${prefix}")
endif()
foreach(header imio.hpp plugin.hpp export.hpp version.hpp ndarray.hpp error.hpp)
  if(NOT EXISTS "${prefix}/include/imio/${header}")
    message(FATAL_ERROR "install test: ${prefix}/include/imio/${header} was not installed")
  endif()
endforeach()
# Plugins' public headers (imio_add_plugin PUBLIC_HEADERS): those of the
# built plugins, and no others.
file(GLOB plugin_headers RELATIVE "${prefix}/include/imio/plugins" "${prefix}/include/imio/plugins/*.hpp")
foreach(header IN LISTS plugin_headers)
  string(REGEX REPLACE "\\.hpp$" "" plugin "${header}")
  if(NOT plugin IN_LIST ENABLED_PLUGINS)
    message(FATAL_ERROR "install test: include/imio/plugins/${header} was installed, but imio has no ${plugin} plugin")
  endif()
endforeach()
foreach(plugin IN LISTS ENABLED_PLUGINS)
  if(EXISTS "${SOURCE_DIR}/plugins/${plugin}/include/imio/plugins/${plugin}.hpp" AND NOT "${plugin}.hpp" IN_LIST plugin_headers)
    message(FATAL_ERROR "install test: include/imio/plugins/${plugin}.hpp was not installed")
  endif()
endforeach()
# Plugin modules (EXTRA_OPTIONS IMIO_PLUGIN_MODULES=ON): one per built
# plugin, in the plugin folder below the library's.
if("IMIO_PLUGIN_MODULES=ON" IN_LIST EXTRA_OPTIONS)
  foreach(plugin IN LISTS ENABLED_PLUGINS)
    file(GLOB_RECURSE module "${prefix}/*/imio/plugins/imio_${plugin}.so")
    if(NOT module)
      message(FATAL_ERROR "install test: the module imio_${plugin}.so was not installed under <libdir>/imio/plugins")
    endif()
  endforeach()
endif()
# The core's private headers (src/*.hpp) stay private: an installed header
# named like one is a leak unless include/imio has a public one of that
# name (include/imio/registry.hpp is public, src/registry.hpp is not).
file(GLOB private_headers RELATIVE "${SOURCE_DIR}/src" "${SOURCE_DIR}/src/*.hpp")
foreach(header IN LISTS private_headers)
  if(EXISTS "${prefix}/include/imio/${header}" AND NOT EXISTS "${SOURCE_DIR}/include/imio/${header}")
    message(FATAL_ERROR "install test: the private header src/${header} was installed")
  endif()
endforeach()

# ---------------------------------------------------------------- 3. find_package consumer

set(consumer_args ${common_args} "-DCMAKE_PREFIX_PATH=${prefix}")
run("configure the consumer (find_package(imio CONFIG REQUIRED))" PASS out
  COMMAND ${CMAKE_COMMAND} -S "${CONSUMER_DIR}" -B "${WORK_DIR}/consumer" ${consumer_args})
run("build the consumer" PASS out COMMAND ${CMAKE_COMMAND} --build "${WORK_DIR}/consumer")
run("run the consumer" PASS out COMMAND "${WORK_DIR}/consumer/consumer" "${data}")
message(STATUS "${out}")
if(NOT out MATCHES "consumer: ok")
  message(FATAL_ERROR "install test: the consumer did not report ok")
endif()
if("ffmpeg" IN_LIST ENABLED_PLUGINS AND NOT out MATCHES "plugin_as<imio::plugin::FFmpeg>\\(\\) works")
  message(FATAL_ERROR "install test: the consumer did not use the FFmpeg extras")
endif()

if(ENABLED_PLUGINS)
  list(JOIN ENABLED_PLUGINS "," components)
  run("configure the consumer with COMPONENTS ${ENABLED_PLUGINS}" PASS out
    COMMAND ${CMAKE_COMMAND} -S "${CONSUMER_DIR}" -B "${WORK_DIR}/consumer-components" ${consumer_args}
      "-DIMIO_CONSUMER_COMPONENTS=${components}")
endif()
run("configure the consumer with a missing component (must fail)" FAIL out
  COMMAND ${CMAKE_COMMAND} -S "${CONSUMER_DIR}" -B "${WORK_DIR}/consumer-missing" ${consumer_args}
    "-DIMIO_CONSUMER_COMPONENTS=nosuchplugin")
if(NOT out MATCHES "lacks[ \t\r\n]+the[ \t\r\n]+requested[ \t\r\n]+plugin")
  message(FATAL_ERROR "install test: a missing component failed without imio's message:\n${out}")
endif()
# A plugin imio has a folder for but this installation lacks: the message
# says how to get it, by CMake option and by vcpkg feature.
file(GLOB descriptors "${SOURCE_DIR}/plugins/*/plugin.json")
foreach(file IN LISTS descriptors)
  file(READ "${file}" json)
  string(JSON plugin GET "${json}" name)
  string(JSON feature ERROR_VARIABLE no_feature GET "${json}" packages vcpkg_feature)
  if(plugin IN_LIST ENABLED_PLUGINS OR no_feature)
    continue()
  endif()
  run("configure the consumer with the unbuilt plugin ${plugin} as a component (must fail)" FAIL out
    COMMAND ${CMAKE_COMMAND} -S "${CONSUMER_DIR}" -B "${WORK_DIR}/consumer-unbuilt" ${consumer_args}
      "-DIMIO_CONSUMER_COMPONENTS=${plugin}")
  string(REGEX REPLACE "[ \t\r\n]+" " " out "${out}")
  if(NOT out MATCHES "-DIMIO_WITH_[A-Z0-9_]+=ON" OR NOT out MATCHES "vcpkg install imio\\[${feature}\\]")
    message(FATAL_ERROR "install test: the missing component ${plugin} does not name its CMake option and vcpkg feature:\n${out}")
  endif()
  break()
endforeach()
run("configure the consumer asking for imio 99 (must fail)" FAIL out
  COMMAND ${CMAKE_COMMAND} -S "${CONSUMER_DIR}" -B "${WORK_DIR}/consumer-version" ${consumer_args}
    "-DIMIO_CONSUMER_VERSION=99")

# ---------------------------------------------------------------- 4. pkg-config consumer

if(NOT PKG_CONFIG OR NOT EXISTS "${PKG_CONFIG}")
  message(STATUS "install test: pkg-config not found; the pkg-config consumer check is skipped")
  return()
endif()
# The .pc file is relocatable: use the tree from another place.
set(moved "${WORK_DIR}/moved-prefix")
file(RENAME "${prefix}" "${moved}")
list(GET pc_files 0 pc_file)
string(REPLACE "${prefix}" "${moved}" pc_file "${pc_file}")
get_filename_component(pc_dir "${pc_file}" DIRECTORY)
set(ENV{PKG_CONFIG_PATH} "${pc_dir}")
# No --static for a static imio: its imio.pc names the backends in Requires
# (cmake/ImioInstall.cmake), linked as installed.
set(pc_args --cflags --libs imio)
list(JOIN pc_args " " pc_text)
run("pkg-config ${pc_text}" PASS flags COMMAND "${PKG_CONFIG}" ${pc_args})
run("pkg-config --variable=libdir imio" PASS libdir COMMAND "${PKG_CONFIG}" --variable=libdir imio)
run("pkg-config --modversion imio" PASS version COMMAND "${PKG_CONFIG}" --modversion imio)
string(STRIP "${flags}" flags)
string(STRIP "${libdir}" libdir)
string(STRIP "${version}" version)
get_filename_component(libdir_real "${libdir}" REALPATH)
string(FIND "${libdir_real}" "${moved}" at)
if(NOT at EQUAL 0)
  message(FATAL_ERROR "install test: imio.pc is not relocatable: libdir is '${libdir}' after moving the prefix to ${moved}")
endif()
separate_arguments(flag_list UNIX_COMMAND "${flags}")
run("compile the consumer with pkg-config's flags (${flags})" PASS out
  COMMAND "${CXX_COMPILER}" -std=c++20 "-DIMIO_CONSUMER_EXPECTED_VERSION=\"${version}\""
    "${CONSUMER_DIR}/main.cpp" -o "${WORK_DIR}/consumer-pkg-config" ${flag_list} "-Wl,-rpath,${libdir}")
run("run the pkg-config consumer" PASS out COMMAND "${WORK_DIR}/consumer-pkg-config" "${data}")
message(STATUS "${out}")
if(NOT out MATCHES "consumer: ok")
  message(FATAL_ERROR "install test: the pkg-config consumer did not report ok")
endif()
message(STATUS "install test: passed")
