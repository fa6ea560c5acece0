# cmake -DSOURCE_DIR=… -DWORK_DIR=… -DMODE=add_subdirectory|FetchContent
#       -DGENERATOR=… [-DMAKE_PROGRAM=…] -DCXX_COMPILER=… -P run_embed_test.cmake
#
# Builds tests/install/embed, which takes imio from the checkout SOURCE_DIR
# by MODE, and runs its consumer. Only the core and the npy plugin are built
# (every other plugin and resource backend OFF), in Debug: what is tested is
# the embedding, not the backends or the optimiser, and the build stays short
# (-O0 compiles the core in about half the time of -O3).
cmake_minimum_required(VERSION 3.20)
foreach(var SOURCE_DIR WORK_DIR MODE GENERATOR CXX_COMPILER)
  if("${${var}}" STREQUAL "")
    message(FATAL_ERROR "run_embed_test.cmake: ${var} is not set")
  endif()
endforeach()

set(options "-DIMIO_WITH_HTTP=OFF" "-DIMIO_WITH_ZIP=OFF")
file(GLOB descriptors "${SOURCE_DIR}/plugins/*/plugin.json")
foreach(file IN LISTS descriptors)
  file(READ "${file}" json)
  string(JSON name GET "${json}" name)
  string(JSON option GET "${json}" option)
  if(name STREQUAL "npy")
    list(APPEND options "-D${option}=ON")
  else()
    list(APPEND options "-D${option}=OFF")
  endif()
endforeach()
set(generator_args -G "${GENERATOR}")
if(MAKE_PROGRAM)
  list(APPEND generator_args "-DCMAKE_MAKE_PROGRAM=${MAKE_PROGRAM}")
endif()

file(REMOVE_RECURSE "${WORK_DIR}")
file(MAKE_DIRECTORY "${WORK_DIR}/data")
function(step what)
  message(STATUS "embed test (${MODE}): ${what}")
  execute_process(COMMAND ${ARGN} WORKING_DIRECTORY "${WORK_DIR}" RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "embed test (${MODE}): '${what}' failed (${rc}):\n${out}")
  endif()
  set(step_output "${out}" PARENT_SCOPE)
endfunction()

step("configure" ${CMAKE_COMMAND} -S "${CMAKE_CURRENT_LIST_DIR}/embed" -B "${WORK_DIR}/build" ${generator_args}
  "-DCMAKE_CXX_COMPILER=${CXX_COMPILER}" -DCMAKE_BUILD_TYPE=Debug
  "-DIMIO_EMBED_MODE=${MODE}" "-DIMIO_EMBED_SOURCE=${SOURCE_DIR}" ${options})
step("build" ${CMAKE_COMMAND} --build "${WORK_DIR}/build" --parallel 2)
step("run the consumer" "${WORK_DIR}/build/consumer" "${WORK_DIR}/data")
if(NOT step_output MATCHES "consumer: ok")
  message(FATAL_ERROR "embed test (${MODE}): the consumer did not report ok:\n${step_output}")
endif()
message(STATUS "embed test (${MODE}): passed")
