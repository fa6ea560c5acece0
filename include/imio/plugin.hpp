// imio — for plugin authors: everything a format backend needs from the
// core, and nothing an application needs. Application code includes
// <imio/imio.hpp>; plugin authors add this umbrella, or the headers it
// gathers, one per concern:
//
//   <imio/byte_source.hpp>    ByteSource, ByteSink: the encoded bytes
//   <imio/request.hpp>        Request: what a factory receives, Limits checks, allocation
//   <imio/kwargs.hpp>         KwargSpec, MethodSpec, KwargReader: kwargs declared once
//   <imio/plugin_spec.hpp>    Plugin, FrameSource, PluginSpec, plugin_spec_from_json
//   <imio/registry.hpp>       register_plugin, plugins()
//   <imio/exif.hpp>           read_exif, read_exif_tags, exif_orientation, apply_orientation
//   <imio/iptc.hpp>           read_iptc_tags, photoshop_resource
//   <imio/icc.hpp>            icc_profile_description
//   <imio/photo_metadata.hpp> add_photo_metadata: exif_tags, iptc_tags, icc_description, orientation
//   <imio/warnings.hpp>       warn, set_warning_handler
//   <imio/checked_math.hpp>   overflow-checked sizes
//   <imio/error_context.hpp>  with_error_context, for plugin extras
//   <imio/json.hpp>           from_json, to_json
//
// and, when they fit: <imio/single_image.hpp> (one-image formats),
// <imio/write_batch.hpp> (Pillow's batch rule for writers),
// <imio/buffered_writer.hpp> (one file from all write calls),
// <imio/array_recycler.hpp> (reused frame buffers) and
// <imio/packed_samples.hpp> (1/2/4-bit samples, one per byte). docs/writing-plugins.md
// tells the whole story.
#pragma once

#include <imio/byte_source.hpp>
#include <imio/checked_math.hpp>
#include <imio/error.hpp>
#include <imio/error_context.hpp>
#include <imio/exif.hpp>
#include <imio/icc.hpp>
#include <imio/iptc.hpp>
#include <imio/json.hpp>
#include <imio/kwargs.hpp>
#include <imio/metadata.hpp>
#include <imio/ndarray.hpp>
#include <imio/options.hpp>
#include <imio/photo_metadata.hpp>
#include <imio/plugin_spec.hpp>
#include <imio/properties.hpp>
#include <imio/registry.hpp>
#include <imio/request.hpp>
#include <imio/resource.hpp>
#include <imio/warnings.hpp>
