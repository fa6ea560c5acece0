# cmake -DSOURCE_DIR=<checkout> -P check_plugin_includes.cmake
#
# Fails when a plugin's source (plugins/<name>/, its tests and benchmarks
# included) includes a header that is neither in its own folder nor public
# (<imio/...> of include/ or of a plugin's include/): plugins talk to the
# core only through include/imio, never through src/ (plugin contract).

cmake_minimum_required(VERSION 3.20)

file(GLOB folders LIST_DIRECTORIES true "${SOURCE_DIR}/plugins/*")
set(bad "")
set(count 0)
foreach(folder IN LISTS folders)
  if(NOT IS_DIRECTORY "${folder}")
    continue()
  endif()
  file(GLOB_RECURSE sources "${folder}/*.cpp" "${folder}/*.hpp")
  foreach(source IN LISTS sources)
    get_filename_component(dir "${source}" DIRECTORY)
    file(RELATIVE_PATH rel "${SOURCE_DIR}" "${source}")
    file(STRINGS "${source}" lines REGEX "^[ \t]*#[ \t]*include")
    foreach(line IN LISTS lines)
      math(EXPR count "${count} + 1")
      if(line MATCHES "^[ \t]*#[ \t]*include[ \t]*\"([^\"]+)\"")
        set(header "${CMAKE_MATCH_1}")
        # Quoted: a file of the plugin's folder (the test support headers
        # catch.hpp, test_*.hpp, python_oracle.hpp and bench_timing.hpp are
        # tests/, reached only from the plugin's tests/ and bench/).
        if(header MATCHES "\\.\\.")
          list(APPEND bad "${rel}: ${line} (no paths out of the folder)")
        elseif(EXISTS "${dir}/${header}" OR EXISTS "${folder}/${header}")
          continue()
        elseif(rel MATCHES "/(tests|bench)/" AND (EXISTS "${SOURCE_DIR}/tests/support/${header}" OR EXISTS "${SOURCE_DIR}/tests/bench/${header}"))
          continue()
        else()
          list(APPEND bad "${rel}: ${line}")
        endif()
      elseif(line MATCHES "^[ \t]*#[ \t]*include[ \t]*<imio/([^>]+)>")
        set(header "${CMAKE_MATCH_1}")
        file(GLOB public "${SOURCE_DIR}/include/imio/${header}" "${SOURCE_DIR}/plugins/*/include/imio/${header}")
        # export.hpp and version.hpp are generated into the build tree.
        if(NOT public AND NOT header MATCHES "^(export|version)\\.hpp$")
          list(APPEND bad "${rel}: ${line}")
        endif()
      endif()
    endforeach()
  endforeach()
endforeach()
if(bad)
  list(JOIN bad "\n  " text)
  message(FATAL_ERROR "plugin sources include headers outside their folder and include/imio:\n  ${text}")
endif()
message(STATUS "checked ${count} includes of the plugin folders")
