#include <imio/plugin.hpp>

namespace imio {

FrameSource::~FrameSource() = default;
Plugin::~Plugin() = default;

void Plugin::write(const NDArray&, const Kwargs&) { throw IOError("this plugin cannot write"); }
void Plugin::write(std::span<const NDArray>, const Kwargs&) { throw IOError("this plugin cannot write"); }

}  // namespace imio
