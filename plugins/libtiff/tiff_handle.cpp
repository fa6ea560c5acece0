// The key function of imio::plugin::LibTiff: its vtable and typeinfo are
// emitted here, inside libimio (also when the plugin is a loadable module:
// HANDLE_SOURCES), and exported with the class (IMIO_EXPORT), so
// ImageFile::plugin_as<LibTiff>()'s dynamic_cast works from applications
// linking the shared library.
#include <imio/plugins/libtiff.hpp>

namespace imio::plugin {

LibTiff::~LibTiff() = default;

}  // namespace imio::plugin
