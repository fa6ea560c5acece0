// ImageFile::read_into: decoding into the caller's memory. The caller's
// array is offered to the plugin through Request::allocate (see
// request_impl.hpp's OutputTarget); a plugin whose result lands elsewhere
// (a converted or rotated copy, a buffer of its backend) costs one copy.
#include "image_file_state.hpp"

#include <imio/error_context.hpp>

#include <cstdint>
#include <cstring>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "core_access.hpp"
#include "request_impl.hpp"

namespace imio {
namespace {

using RequestImpl = detail::CoreAccess::RequestImpl;

std::string describe_array(const Shape& shape, DType dtype) {
  return fmt::format("shape ({}) and dtype {}", fmt::join(shape, ", "), name(dtype));
}

void check_target(ConstArrayView out, const ImageProperties& props) {
  if (out.shape() != props.shape || out.dtype() != props.dtype) {
    throw ArgumentError(fmt::format("the output array has {}, but this read gives {} (as improps says)",
                                    describe_array(out.shape(), out.dtype()), describe_array(props.shape, props.dtype)));
  }
  if (out.bytes() == nullptr && detail::element_count(props.shape) != 0) {
    throw ArgumentError("the output array has no data (a default-constructed or moved-from array)");
  }
}

// Clears the request's target however the read ends: the plugin must not
// reach the caller's memory after the call.
class TargetScope {
 public:
  TargetScope(RequestImpl& request, RequestImpl::OutputTarget* target) noexcept : request_(request) {
    request_.target = target;
  }
  ~TargetScope() { request_.target = nullptr; }
  TargetScope(const TargetScope&) = delete;
  TargetScope& operator=(const TargetScope&) = delete;

 private:
  RequestImpl& request_;
};

}  // namespace

void ImageFile::read_into(ArrayView out, const ReadCall& call) {
  const ImageProperties props = properties({.index = call.index, .kwargs = call.kwargs});
  State& s = open_state("read", IoMode::read);
  with_error_context(s.plugin_name, "read", s.request->describe(), [&] { check_target(out, props); });
  decode_into(out, call);
}

void ImageFile::read_into(const StridedArrayView& out, const ReadCall& call) {
  if (out.is_c_contiguous()) {
    read_into(ArrayView(out.bytes(), out.shape(), out.dtype()), call);
    return;
  }
  const ImageProperties props = properties({.index = call.index, .kwargs = call.kwargs});
  State& s = open_state("read", IoMode::read);
  with_error_context(s.plugin_name, "read", s.request->describe(),
                     [&] { check_target(ConstArrayView(out.bytes(), out.shape(), out.dtype()), props); });
  // No plugin writes strided rows: decode as read() does, then one copy.
  const NDArray image = read(call);
  with_error_context(s.plugin_name, "read", s.request->describe(), [&] { out.assign(image); });
}

bool ImageFile::decode_into(ArrayView out, const ReadCall& call) {
  State& s = open_state("read", IoMode::read);
  RequestImpl& request = detail::CoreAccess::impl(*s.request);
  return with_error_context(s.plugin_name, "read", s.request->describe(), [&] {
    RequestImpl::OutputTarget target{.data = out.bytes(), .shape = out.shape(), .dtype = out.dtype()};
    // Memory less aligned than an NDArray's is not offered: backends may
    // choose SIMD paths by alignment (swscale does), and their pixels must
    // not depend on where the caller's array lies.
    const bool offer = reinterpret_cast<std::uintptr_t>(out.bytes()) % NDArray::alignment == 0;
    NDArray result;
    {
      TargetScope scope(request, offer ? &target : nullptr);
      result = s.plugin->read(call.index, call.kwargs);
    }
    if (result.shape() != out.shape() || result.dtype() != out.dtype()) {
      throw Error(fmt::format("the plugin returned {} where its properties gave {} (a plugin defect: please report it)",
                              describe_array(result.shape(), result.dtype()), describe_array(out.shape(), out.dtype())));
    }
    if (result.bytes() == out.bytes()) return true;
    // memmove: a plugin's result may borrow part of the caller's memory.
    if (result.nbytes() != 0) std::memmove(out.bytes(), result.bytes(), result.nbytes());
    return false;
  });
}

}  // namespace imio
