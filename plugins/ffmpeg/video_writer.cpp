#include <imio/plugin.hpp>
#include "ffmpeg_plugins.hpp"
namespace imio::ffmpeg {
const AVOutputFormat* guess_muxer(Request&, const std::optional<std::string>&) { return nullptr; }
std::unique_ptr<Plugin> make_writer(Request&, const AVOutputFormat*) { return nullptr; }
}
