# cmake -DINCLUDE_DIR=<include/imio> -P check_includes.cmake
#
# Fails when a public header includes anything but a C++ standard library
# header or <imio/...>: the installed surface must not drag in fmt, a codec
# library or a private header of src/.

cmake_minimum_required(VERSION 3.20)

if(NOT IS_DIRECTORY "${INCLUDE_DIR}")
  message(FATAL_ERROR "INCLUDE_DIR '${INCLUDE_DIR}' is not a folder")
endif()

# C++20's standard library headers ([headers] tables 24-26), including the
# <cname> forms of the C library.
set(standard_headers
  algorithm any array atomic barrier bit bitset charconv chrono codecvt compare complex concepts
  condition_variable coroutine deque exception execution expected filesystem format forward_list
  fstream functional future initializer_list iomanip ios iosfwd iostream istream iterator latch
  limits list locale map memory memory_resource mutex new numbers numeric optional ostream queue
  random ranges ratio regex scoped_allocator semaphore set shared_mutex source_location span
  sstream stack stdexcept stop_token streambuf string string_view syncstream system_error thread
  tuple type_traits typeindex typeinfo unordered_map unordered_set utility valarray variant
  vector version
  cassert cctype cerrno cfenv cfloat cinttypes climits clocale cmath csetjmp csignal cstdarg
  cstddef cstdint cstdio cstdlib cstring ctime cuchar cwchar cwctype)

file(GLOB headers "${INCLUDE_DIR}/*.hpp")
list(APPEND headers ${EXTRA_HEADERS})  # the built plugins' public headers
if(NOT headers)
  message(FATAL_ERROR "no headers found in ${INCLUDE_DIR}")
endif()

set(bad "")
set(count 0)
foreach(header IN LISTS headers)
  get_filename_component(name "${header}" NAME)
  file(STRINGS "${header}" lines REGEX "^[ \t]*#[ \t]*include")
  foreach(line IN LISTS lines)
    math(EXPR count "${count} + 1")
    if(line MATCHES "^[ \t]*#[ \t]*include[ \t]*<imio/(plugins/)?[A-Za-z0-9_]+\\.hpp>")
      continue()
    endif()
    if(line MATCHES "^[ \t]*#[ \t]*include[ \t]*<([a-z_]+)>" AND CMAKE_MATCH_1 IN_LIST standard_headers)
      continue()
    endif()
    string(STRIP "${line}" line)
    list(APPEND bad "${name}: ${line}")
  endforeach()
endforeach()

list(LENGTH headers n_headers)
if(bad)
  list(JOIN bad "\n  " bad_text)
  message(FATAL_ERROR "public headers may include only standard headers and <imio/...>; found:\n  ${bad_text}")
endif()
message(STATUS "${n_headers} public headers, ${count} includes: standard library and <imio/...> only")
