// JPEG 2000 frames of a DICOM file through imio's openjpeg plugin (the
// public imread, as libraw reaches libjpeg), not through GDCM's
// JPEG2000Codec: GDCM 3.0's codec reads past its buffers on some damaged
// codestreams (SEGV under AddressSanitizer, not on every run), while the
// openjpeg plugin checks a codestream's header and bounds before OpenJPEG
// decodes it and keeps OpenJPEG's messages off stderr.
#include "dicom_internal.hpp"

#include <imio/imio.hpp>
#include <imio/registry.hpp>

#include <gdcmFragment.h>
#include <gdcmSequenceOfFragments.h>

#include <cstring>
#include <vector>

#include <fmt/format.h>

namespace imio::dicom {
namespace {

std::span<const std::byte> bytes_of(const gdcm::Fragment& fragment) {
  const gdcm::ByteValue* bv = fragment.GetByteValue();
  if (bv == nullptr || bv->GetPointer() == nullptr) return {};
  return {reinterpret_cast<const std::byte*>(bv->GetPointer()), bv->GetLength()};
}

// A codestream (SOC, then SIZ) or a JP2 file (its signature box) starts here.
bool starts_codestream(std::span<const std::byte> b) {
  static constexpr unsigned char kSoc[] = {0xFF, 0x4F, 0xFF, 0x51};
  static constexpr unsigned char kJp2[] = {0x00, 0x00, 0x00, 0x0C, 0x6A, 0x50, 0x20, 0x20};
  return (b.size() >= sizeof kSoc && std::memcmp(b.data(), kSoc, sizeof kSoc) == 0) ||
         (b.size() >= sizeof kJp2 && std::memcmp(b.data(), kJp2, sizeof kJp2) == 0);
}

}  // namespace

bool has_openjpeg() { return has_plugin("openjpeg"); }

void decode_j2k_frame(const gdcm::SequenceOfFragments& fragments, std::size_t k, const FrameLayout& frame,
                      std::byte* dst, const Limits& limits) {
  const std::size_t count = fragments.GetNumberOfFragments();
  // Frame k's fragments [first, last): one per frame, all of them for a
  // single frame, else split where a codestream starts (PS3.5 A.4: a frame
  // may span fragments, a fragment never holds two frames).
  std::size_t first = k, last = k + 1;
  if (frame.frames == 1) {
    first = 0;
    last = count;
  } else if (count != frame.frames) {
    std::vector<std::size_t> starts;
    for (std::size_t i = 0; i < count; ++i) {
      if (i == 0 || starts_codestream(bytes_of(fragments.GetFragment(i)))) starts.push_back(i);
    }
    if (starts.size() != frame.frames) {
      throw DecodeError(fmt::format("the JPEG 2000 pixel data hold {} codestreams in {} fragments for {} frames",
                                    starts.size(), count, frame.frames));
    }
    first = starts[k];
    last = k + 1 < starts.size() ? starts[k + 1] : count;
  }
  std::vector<std::byte> joined;
  std::span<const std::byte> codestream = bytes_of(fragments.GetFragment(first));
  if (last - first > 1) {
    for (std::size_t i = first; i < last; ++i) {
      const auto part = bytes_of(fragments.GetFragment(i));
      joined.insert(joined.end(), part.begin(), part.end());
    }
    codestream = joined;
  }
  if (!starts_codestream(codestream)) {
    throw DecodeError(fmt::format("frame {} is not a JPEG 2000 codestream (no SOC marker or JP2 signature)", k));
  }
  NDArray decoded;
  try {
    decoded = imread(codestream, {.plugin = "openjpeg", .limits = limits});
  } catch (const Error& e) {
    throw DecodeError(fmt::format("frame {}: its JPEG 2000 codestream: {}", k, e.what()));
  }
  const Shape want = frame.samples == 1 ? Shape{frame.rows, frame.cols} : Shape{frame.rows, frame.cols, frame.samples};
  if (decoded.shape() != want) {
    throw DecodeError(fmt::format("frame {}: the JPEG 2000 codestream decodes to {}x{} with {} components; the DICOM "
                                  "header says {}x{}, {} samples",
                                  k, decoded.ndim() > 1 ? decoded.shape()[1] : 0, decoded.shape()[0],
                                  decoded.ndim() > 2 ? decoded.shape()[2] : 1, frame.cols, frame.rows, frame.samples));
  }
  // A codestream's sample type can differ from the header's (8-bit samples
  // in 16 allocated bits, unsigned samples with PixelRepresentation 1):
  // converted as numpy's astype does.
  if (decoded.dtype() != frame.stored) decoded = decoded.astype(frame.stored);
  std::memcpy(dst, decoded.bytes(), decoded.nbytes());
}

}  // namespace imio::dicom
