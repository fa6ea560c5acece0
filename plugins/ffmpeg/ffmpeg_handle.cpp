// The key function of imio::plugin::FFmpeg: its vtable and typeinfo are
// emitted here, inside libimio (also when the plugin is a loadable module:
// HANDLE_SOURCES), and exported with the class (IMIO_EXPORT), so
// plugin_as()'s dynamic_cast in an application matches the plugin's classes.
#include <imio/plugins/ffmpeg.hpp>

namespace imio::plugin {

FFmpeg::~FFmpeg() = default;

}  // namespace imio::plugin
