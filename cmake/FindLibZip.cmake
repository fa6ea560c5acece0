# FindLibZip: libzip as the imported target LibZip::LibZip.
#
# imio does not use libzip's own CMake package: Debian's (libzip-dev)
# references the zipcmp/zipmerge/ziptool programs of another package and
# fails to load without them. Installed beside imioConfig.cmake, so a static
# imio's consumers find libzip the same way.
find_package(PkgConfig QUIET)
if(PKG_CONFIG_FOUND)
  pkg_check_modules(PC_LIBZIP QUIET libzip)
endif()
find_path(LibZip_INCLUDE_DIR zip.h HINTS ${PC_LIBZIP_INCLUDE_DIRS})
find_library(LibZip_LIBRARY NAMES zip libzip HINTS ${PC_LIBZIP_LIBRARY_DIRS})
set(LibZip_VERSION "${PC_LIBZIP_VERSION}")
mark_as_advanced(LibZip_INCLUDE_DIR LibZip_LIBRARY)

include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(LibZip REQUIRED_VARS LibZip_LIBRARY LibZip_INCLUDE_DIR VERSION_VAR LibZip_VERSION)

if(LibZip_FOUND AND NOT TARGET LibZip::LibZip)
  add_library(LibZip::LibZip UNKNOWN IMPORTED)
  set_target_properties(LibZip::LibZip PROPERTIES
    IMPORTED_LOCATION "${LibZip_LIBRARY}"
    INTERFACE_INCLUDE_DIRECTORIES "${LibZip_INCLUDE_DIR}")
  # A static libzip needs its own dependencies (zlib, bzip2, …) on the link.
  if(LibZip_LIBRARY MATCHES "\\.a$" AND PC_LIBZIP_STATIC_LINK_LIBRARIES)
    set_property(TARGET LibZip::LibZip PROPERTY INTERFACE_LINK_LIBRARIES "${PC_LIBZIP_STATIC_LINK_LIBRARIES}")
  endif()
endif()
