#include <imio/plugin_spec.hpp>

namespace imio {

FrameSource::~FrameSource() = default;
Plugin::~Plugin() = default;

// The core calls only the methods of a handle's mode (ImageFile checks it),
// so these run only for a plugin whose spec claims a capability it lacks.
NDArray Plugin::read(const Index&, const Kwargs&) { throw IOError("this plugin does not read"); }
std::unique_ptr<FrameSource> Plugin::iter(const Kwargs&) { throw IOError("this plugin does not read"); }
ImageProperties Plugin::properties(const Index&, const Kwargs&) { throw IOError("this plugin does not read"); }
Metadata Plugin::metadata(const Index&, bool, const Kwargs&) { throw IOError("this plugin does not read"); }
void Plugin::write(const NDArray&, const Kwargs&) { throw IOError("this plugin does not write"); }
void Plugin::write(std::span<const NDArray>, const Kwargs&) { throw IOError("this plugin does not write"); }

}  // namespace imio
