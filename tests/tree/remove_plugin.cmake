# cmake -DSOURCE_DIR=… -DWORK_DIR=… -DPLUGIN=<name> -DOTHERS=<plugins to build>
#       -DGENERATOR=… -DCXX_COMPILER=… [-DMAKE_PROGRAM=…] [-DCORPUS=…] [-DJOBS=2]
#       -P remove_plugin.cmake
#
# "A plugin is a folder": copies the source tree without plugins/PLUGIN (and
# nothing else removed or edited), then configures it, builds it and runs the
# tests of the plugins it builds (OTHERS), and checks that `imio plugins`
# lists them and not PLUGIN.

cmake_minimum_required(VERSION 3.20)

foreach(var SOURCE_DIR WORK_DIR PLUGIN GENERATOR CXX_COMPILER)
  if("${${var}}" STREQUAL "")
    message(FATAL_ERROR "remove_plugin.cmake: ${var} is not set")
  endif()
endforeach()
if(NOT IS_DIRECTORY "${SOURCE_DIR}/plugins/${PLUGIN}")
  message(FATAL_ERROR "remove_plugin.cmake: there is no plugin folder plugins/${PLUGIN}")
endif()
if(NOT JOBS)
  set(JOBS 2)
endif()

function(run what)
  message(STATUS "remove ${PLUGIN}: ${what}")
  execute_process(COMMAND ${ARGN} WORKING_DIRECTORY "${WORK_DIR}" RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "remove ${PLUGIN}: '${what}' failed (${rc}):\n${out}")
  endif()
  set(last_output "${out}" PARENT_SCOPE)
endfunction()

# The copy: the tracked tree as it is on disk, minus the folder.
set(tree "${WORK_DIR}/source")
file(REMOVE_RECURSE "${tree}")
file(MAKE_DIRECTORY "${tree}")
file(GLOB top RELATIVE "${SOURCE_DIR}" "${SOURCE_DIR}/*")
foreach(entry IN LISTS top)
  if(entry MATCHES "^(build.*|\\.git)$")
    continue()
  endif()
  file(COPY "${SOURCE_DIR}/${entry}" DESTINATION "${tree}" PATTERN "plugins/${PLUGIN}" EXCLUDE)
endforeach()
file(REMOVE_RECURSE "${tree}/plugins/${PLUGIN}")
if(EXISTS "${tree}/plugins/${PLUGIN}")
  message(FATAL_ERROR "remove ${PLUGIN}: the copy still has the folder")
endif()

# A fresh build: the copy keeps the sources' timestamps, so a build folder
# from an earlier run could take a changed file for an older one.
# Debug: what this test proves is that the tree builds and its tests pass
# without the folder, and Debug keeps assertions on. -O0 compiles faster
# than the tests then run slower: 211 s against 246 s in Release, one A/B on
# a 2-core machine; whole CI runs, noisier: 191 s in Release, 200 and 231 s in Debug.
set(build "${WORK_DIR}/build")
file(REMOVE_RECURSE "${build}")
set(args -S "${tree}" -B "${build}" -G "${GENERATOR}" "-DCMAKE_CXX_COMPILER=${CXX_COMPILER}" -DCMAKE_BUILD_TYPE=Debug
         -DIMIO_WARNINGS_AS_ERRORS=ON -DIMIO_BUILD_TESTS=ON -DIMIO_BUILD_EXAMPLES=ON -DIMIO_BUILD_CLI=ON)
if(MAKE_PROGRAM)
  list(APPEND args "-DCMAKE_MAKE_PROGRAM=${MAKE_PROGRAM}")
endif()
# Only the OTHERS are built: every other plugin folder's option is OFF.
file(GLOB folders RELATIVE "${tree}/plugins" "${tree}/plugins/*")
foreach(folder IN LISTS folders)
  if(IS_DIRECTORY "${tree}/plugins/${folder}" AND NOT folder IN_LIST OTHERS)
    string(TOUPPER "${folder}" upper)
    list(APPEND args "-DIMIO_WITH_${upper}=OFF")
  endif()
endforeach()
if(CORPUS)
  list(APPEND args "-DIMIO_TEST_CORPUS=${CORPUS}")
endif()
run("configure" "${CMAKE_COMMAND}" ${args})
# With Ninja: the library, the CLI and the OTHERS' own tests (each plugin's
# tests/ folder has a <dir>/all target), run in their folders. The core's
# tests without a plugin are CI's every-plugin-OFF leg; what only this copy
# can show is that the plugins that lean on PLUGIN build and pass without
# its folder. Other generators build and run everything.
if(GENERATOR STREQUAL "Ninja")
  set(targets imio_cli)
  set(test_dirs "")
  foreach(name IN LISTS OTHERS)
    if(IS_DIRECTORY "${build}/tests/plugins/${name}")
      list(APPEND targets "tests/plugins/${name}/all")
      list(APPEND test_dirs "${build}/tests/plugins/${name}")
    endif()
  endforeach()
  run("build" "${CMAKE_COMMAND}" --build "${build}" --parallel ${JOBS} --target ${targets})
  foreach(dir IN LISTS test_dirs)
    get_filename_component(name "${dir}" NAME)
    run("ctest of ${name}" "${CMAKE_CTEST_COMMAND}" --test-dir "${dir}" --output-on-failure --parallel ${JOBS})
  endforeach()
else()
  run("build" "${CMAKE_COMMAND}" --build "${build}" --parallel ${JOBS})
  # The copy's own tests, but its install matrix, this test itself and the
  # vcpkg port's manifest check: the port (ports/imio) lists the plugins as
  # features, so removing a format from the package is a port change, which
  # check_port.py then names.
  run("ctest" "${CMAKE_CTEST_COMMAND}" --test-dir "${build}" --output-on-failure --parallel ${JOBS} -LE "install|tree|port")
endif()

run("imio plugins" "${build}/src/cli/imio" plugins)
if(last_output MATCHES "\"name\": \"${PLUGIN}\"")
  message(FATAL_ERROR "remove ${PLUGIN}: `imio plugins` still lists ${PLUGIN}:\n${last_output}")
endif()
# Every plugin the copy builds is still there.
foreach(name IN LISTS OTHERS)
  if(NOT last_output MATCHES "\"name\": \"${name}\"")
    message(FATAL_ERROR "remove ${PLUGIN}: `imio plugins` lacks ${name}:\n${last_output}")
  endif()
endforeach()
message(STATUS "remove ${PLUGIN}: the tree builds, the tests of ${OTHERS} pass and imio plugins lists them without it")
