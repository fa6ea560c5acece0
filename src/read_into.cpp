// ImageFile::read_into: decoding into the caller's memory. A contiguous
// array is offered to the plugin through Request::allocate, a row-padded
// view through Request::row_target (see request_impl.hpp's OutputTarget); a
// plugin whose result lands elsewhere (a converted or rotated copy, a buffer
// of its backend, a plugin that writes no strided rows) costs one copy.
#include "image_file_state.hpp"

#include <imio/error_context.hpp>

#include <cstdint>
#include <cstring>
#include <optional>
#include <vector>

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

void check_result(const NDArray& result, const Shape& shape, DType dtype) {
  if (result.shape() != shape || result.dtype() != dtype) {
    throw Error(fmt::format("the plugin returned {} where its properties gave {} (a plugin defect: please report it)",
                            describe_array(result.shape(), result.dtype()), describe_array(shape, dtype)));
  }
}

// The first axis's stride when a plugin may write the view row by row: the
// axes after the first are one C-contiguous block, rows do not overlap
// (a row-padded region, a flipped image), and there is at least one element
// (a stand-in array needs an address). Else nullopt: the view takes a copy.
std::optional<std::ptrdiff_t> row_stride(const StridedArrayView& out) {
  const Shape& shape = out.shape();
  if (shape.size() < 2 || out.bytes() == nullptr || out.size() == 0) return std::nullopt;
  const Shape row_shape(shape.begin() + 1, shape.end());
  const StridedArrayView row(out.bytes(), row_shape, out.dtype(),
                             std::vector<std::ptrdiff_t>(out.strides().begin() + 1, out.strides().end()));
  if (!row.is_c_contiguous()) return std::nullopt;
  const auto row_bytes = static_cast<std::ptrdiff_t>(detail::element_count(row_shape) * itemsize(out.dtype()));
  const std::ptrdiff_t stride = out.strides()[0];
  const std::ptrdiff_t magnitude = stride < 0 ? -stride : stride;
  if (shape[0] > 1 && magnitude < row_bytes) return std::nullopt;
  return stride;
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
  decode_rows_into(out, call);
}

void ImageFile::decode_rows_into(const StridedArrayView& out, const ReadCall& call) {
  State& s = open_state("read", IoMode::read);
  RequestImpl& request = detail::CoreAccess::impl(*s.request);
  with_error_context(s.plugin_name, "read", s.request->describe(), [&] {
    RequestImpl::OutputTarget target{.data = out.bytes(), .shape = out.shape(), .dtype = out.dtype(),
                                     .row_stride = row_stride(out)};
    NDArray result;
    {
      // A view that is not row-padded (a planar plane, a column stride) is
      // not offered: allocate() would hand it out as contiguous memory.
      TargetScope scope(request, target.row_stride ? &target : nullptr);
      result = s.plugin->read(call.index, call.kwargs);
    }
    check_result(result, out.shape(), out.dtype());
    if (!target.rows_written || result.bytes() != out.bytes()) out.assign(result);
  });
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
    check_result(result, out.shape(), out.dtype());
    if (result.bytes() == out.bytes()) return true;
    // memmove: a plugin's result may borrow part of the caller's memory.
    if (result.nbytes() != 0) std::memmove(out.bytes(), result.bytes(), result.nbytes());
    return false;
  });
}

}  // namespace imio
