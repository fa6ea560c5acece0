// imio — arrays handed to and from OpenCV without copying pixels.
//
// Header-only and opt-in: it includes OpenCV's <opencv2/core.hpp>, so only a
// translation unit that includes it needs OpenCV (link opencv_core). imio
// itself never depends on OpenCV.
//
//   #include <imio/interop/opencv.hpp>
//   imio::NDArray img = imio::imread("photo.png");           // (H, W, 3) RGB
//   cv::Mat view = imio::interop::to_mat(img);                // CV_8UC3, same pixels
//   cv::Mat bgr;  cv::cvtColor(view, bgr, cv::COLOR_RGB2BGR);  // OpenCV's own order
//   imio::NDArray back = imio::interop::from_mat(bgr);        // shares bgr's pixels
#pragma once

#include <imio/error.hpp>
#include <imio/ndarray.hpp>

#include <opencv2/core.hpp>

#include <string>
#include <vector>

namespace imio::interop {

/// OpenCV's depth (CV_8U, …, CV_16F) for an imio dtype. ArgumentError for
/// the dtypes OpenCV has no depth for: bool, uint32, uint64, int64.
inline int cv_depth(DType dtype) {
  switch (dtype) {
    case DType::uint8: return CV_8U;
    case DType::int8: return CV_8S;
    case DType::uint16: return CV_16U;
    case DType::int16: return CV_16S;
    case DType::int32: return CV_32S;
    case DType::float16: return CV_16F;
    case DType::float32: return CV_32F;
    case DType::float64: return CV_64F;
    default: throw ArgumentError("OpenCV has no depth for " + std::string(name(dtype)) + " elements");
  }
}

/// The imio dtype of an OpenCV depth; ArgumentError for an unknown one.
inline DType dtype_of_cv_depth(int depth) {
  switch (depth) {
    case CV_8U: return DType::uint8;
    case CV_8S: return DType::int8;
    case CV_16U: return DType::uint16;
    case CV_16S: return DType::int16;
    case CV_32S: return DType::int32;
    case CV_16F: return DType::float16;
    case CV_32F: return DType::float32;
    case CV_64F: return DType::float64;
    default: throw ArgumentError("OpenCV depth " + std::to_string(depth) + " has no imio dtype");
  }
}

/// A cv::Mat over the view's elements, without copying: `(H, W)` → a
/// one-channel H×W Mat, `(H, W, C)` with C ≤ CV_CN_MAX (512) → a C-channel
/// H×W Mat, other shapes → an n-dimensional one-channel Mat. A frame of a
/// batch is `to_mat(batch[i])`.
///
/// Channels stay in the array's order — RGB(A), as imio reads every file —
/// while OpenCV's imwrite, imshow and drawing assume BGR(A): convert with
/// `cv::cvtColor(m, out, cv::COLOR_RGB2BGR)` (or RGBA2BGRA) for those.
///
/// Lifetime: the Mat does not own the pixels; it is valid while the array's
/// buffer lives (see ArrayView). ArgumentError for an empty view or a dtype
/// OpenCV lacks.
inline cv::Mat to_mat(ArrayView view) {
  if (view.empty()) throw ArgumentError("cannot make a cv::Mat of an empty array");
  const int depth = cv_depth(view.dtype());
  const Shape& s = view.shape();
  void* data = view.bytes();
  if (s.size() == 2) return cv::Mat(static_cast<int>(s[0]), static_cast<int>(s[1]), CV_MAKETYPE(depth, 1), data);
  if (s.size() == 3 && s[2] <= CV_CN_MAX) {
    return cv::Mat(static_cast<int>(s[0]), static_cast<int>(s[1]), CV_MAKETYPE(depth, static_cast<int>(s[2])), data);
  }
  std::vector<int> sizes(s.begin(), s.end());
  return cv::Mat(static_cast<int>(sizes.size()), sizes.data(), CV_MAKETYPE(depth, 1), data);
}

/// A cv::Mat over a read-only view. cv::Mat has no read-only form: the
/// caller must not write through it (or copy it, `to_mat(v).clone()`).
inline cv::Mat to_mat(ConstArrayView view) {
  return to_mat(ArrayView(const_cast<std::byte*>(view.bytes()), view.shape(), view.dtype()));
}

/// to_mat of the whole array (writable).
inline cv::Mat to_mat(NDArray& array) { return to_mat(array.view()); }
/// to_mat of the whole array, not to be written through.
inline cv::Mat to_mat(const NDArray& array) { return to_mat(array.view()); }
/// A temporary's buffer dies with it: no Mat over it.
cv::Mat to_mat(NDArray&& array) = delete;

/// An NDArray holding the Mat's pixels: `(rows, cols)` for one channel,
/// `(rows, cols, channels)` otherwise, `(d0, d1, …)` for an n-dimensional
/// Mat. A continuous Mat is shared, not copied (the array keeps a reference
/// to it, so the pixels live as long as the array); a Mat that is not
/// continuous (a region of interest) is cloned first. Channel order stays
/// OpenCV's — BGR(A) for what cv::imread returned: convert it to RGB first
/// if the array goes to imio::imwrite.
inline NDArray from_mat(const cv::Mat& mat) {
  if (mat.empty()) throw ArgumentError("cannot make an NDArray of an empty cv::Mat");
  cv::Mat m = mat.isContinuous() ? mat : mat.clone();
  Shape shape;
  if (m.dims == 2) {
    shape = {static_cast<std::size_t>(m.rows), static_cast<std::size_t>(m.cols)};
  } else {
    for (int i = 0; i < m.dims; ++i) shape.push_back(static_cast<std::size_t>(m.size[i]));
  }
  if (m.channels() > 1) shape.push_back(static_cast<std::size_t>(m.channels()));
  const DType dtype = dtype_of_cv_depth(m.depth());
  return NDArray::adopt(m.data, std::move(shape), dtype, [m](void*) mutable { m.release(); });
}

}  // namespace imio::interop
