// Writing: one image checked against the kwargs and encoded by OpenJPEG
// into memory as a JP2 file or a raw codestream. The only write-side file
// that includes <openjpeg.h> (through j2k_codec.hpp).
#pragma once

#include <imio/kwargs.hpp>
#include <imio/ndarray.hpp>
#include <imio/request.hpp>

#include <cstddef>
#include <span>
#include <vector>

namespace imio::openjpeg {

/// The file for `images` (one image, or a batch of one) with the write
/// kwargs. Everything is checked before OpenJPEG runs: ArgumentError for
/// what cannot be written, EncodeError when OpenJPEG fails.
std::vector<std::byte> encode(std::span<const NDArray> images, bool listed, const Kwargs& kwargs, const Request& request);

}  // namespace imio::openjpeg
