# Optional resource backends of the core (docs/resources.md): http(s) URLs
# and standard-image downloads through libcurl (IMIO_WITH_HTTP), members of
# zip archives through libzip (IMIO_WITH_ZIP). Each option is AUTO (built
# when the library is found), ON (a missing library is a configure error) or
# OFF; without the library the core reports such resources as an IOError
# that says what this build lacks.
#
# imio_resource_backend(<NAME>
#   PACKAGE "<find_package args>"   how to find the library
#   FOUND <var>                     the variable find_package sets
#   TARGET <imported target>        linked PRIVATE into imio
#   SOURCES <files>...              compiled when found
#   FALLBACK <files>...             compiled otherwise
#   FIND_DEPENDENCY "<args>")       find_dependency() of a static imio's consumers
function(imio_resource_backend name)
  cmake_parse_arguments(ARG "" "FOUND;TARGET;FIND_DEPENDENCY" "PACKAGE;SOURCES;FALLBACK" ${ARGN})
  imio_tristate_option(IMIO_WITH_${name} "${name} resources (${ARG_TARGET})")
  set(use OFF)
  if(NOT IMIO_WITH_${name} STREQUAL "OFF")
    find_package(${ARG_PACKAGE} QUIET)
    if(${ARG_FOUND} AND TARGET ${ARG_TARGET})
      set(use ON)
    elseif(IMIO_WITH_${name} STREQUAL "ON")
      message(FATAL_ERROR "IMIO_WITH_${name}=ON but ${ARG_TARGET} was not found. Install it or configure "
                          "with -DIMIO_WITH_${name}=OFF.")
    endif()
  endif()
  if(use)
    target_sources(imio PRIVATE ${ARG_SOURCES})
    target_link_libraries(imio PRIVATE ${ARG_TARGET})
    set_property(GLOBAL APPEND PROPERTY IMIO_FIND_DEPENDENCIES "${ARG_FIND_DEPENDENCY}")
    set_property(GLOBAL APPEND PROPERTY IMIO_ENABLED_RESOURCES ${name})
    message(STATUS "imio: ${name} resources through ${ARG_TARGET}")
  else()
    target_sources(imio PRIVATE ${ARG_FALLBACK})
    message(STATUS "imio: ${name} resources disabled (IMIO_WITH_${name}=${IMIO_WITH_${name}})")
  endif()
  set(IMIO_HAVE_${name} ${use} PARENT_SCOPE)
endfunction()
