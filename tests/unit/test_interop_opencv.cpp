// <imio/interop/opencv.hpp>: cv::Mat views of arrays and frames, arrays
// sharing a Mat's pixels; built only when OpenCV's core is installed.
#include <imio/imio.hpp>
#include <imio/interop/opencv.hpp>

#include <type_traits>
#include <vector>

#include "catch.hpp"

template <class A>
concept mat_of = requires(A&& a) { imio::interop::to_mat(static_cast<A&&>(a)); };

using imio::DType;
using imio::NDArray;
namespace interop = imio::interop;

TEST_CASE("to_mat views an RGB image without copying, channels in imio's order", "[interop]") {
  NDArray img({4, 5, 3}, DType::uint8);
  img.at<std::uint8_t>(1, 2, 0) = 200;  // R
  img.at<std::uint8_t>(1, 2, 2) = 50;   // B
  cv::Mat m = interop::to_mat(img);
  CHECK(m.type() == CV_8UC3);
  CHECK(m.rows == 4);
  CHECK(m.cols == 5);
  CHECK(m.data == reinterpret_cast<uchar*>(img.bytes()));
  CHECK(m.at<cv::Vec3b>(1, 2)[0] == 200);
  m.at<cv::Vec3b>(3, 4)[1] = 9;  // writes land in the array
  CHECK(img.at<std::uint8_t>(3, 4, 1) == 9);
  // OpenCV's BGR order is a channel swap away (cv::cvtColor in imgproc does the same)
  cv::Mat bgr;
  cv::mixChannels(std::vector<cv::Mat>{m}, std::vector<cv::Mat>{bgr = cv::Mat(m.size(), m.type())}, {0, 2, 1, 1, 2, 0});
  CHECK(bgr.at<cv::Vec3b>(1, 2)[2] == 200);
  CHECK(bgr.at<cv::Vec3b>(1, 2)[0] == 50);
}

TEST_CASE("to_mat of a frame view, of gray, float16 and n-dimensional arrays", "[interop]") {
  NDArray batch({3, 6, 7}, DType::float32);
  batch.at<float>(2, 5, 6) = 1.5f;
  cv::Mat frame = interop::to_mat(batch[2]);
  CHECK(frame.type() == CV_32FC1);
  CHECK(frame.at<float>(5, 6) == 1.5f);
  CHECK(frame.data == reinterpret_cast<uchar*>(batch.bytes()) + 2 * 6 * 7 * 4);
  const NDArray half({2, 2}, DType::float16);
  CHECK(interop::to_mat(half).type() == CV_16FC1);
  static_assert(mat_of<NDArray&> && mat_of<const NDArray&> && !mat_of<NDArray>);  // no Mat over a temporary
  NDArray volume({2, 3, 4, 600}, DType::uint16);  // 600 > CV_CN_MAX: an n-dimensional Mat
  cv::Mat nd = interop::to_mat(volume);
  CHECK(nd.dims == 4);
  CHECK(nd.size[3] == 600);
  NDArray u64({2, 2}, DType::uint64), flags({2, 2}, DType::bool_);
  CHECK_THROWS_AS(interop::to_mat(u64), imio::ArgumentError);
  CHECK_THROWS_AS(interop::to_mat(flags), imio::ArgumentError);
}

TEST_CASE("from_mat shares a continuous Mat's pixels and keeps them alive", "[interop]") {
  NDArray a;
  const uchar* pixels = nullptr;
  {
    cv::Mat m(3, 4, CV_16UC4, cv::Scalar(1, 2, 3, 4));
    pixels = m.data;
    a = interop::from_mat(m);
  }  // the Mat is gone; the array holds its own reference
  CHECK(a.shape() == imio::Shape{3, 4, 4});
  CHECK(a.dtype() == DType::uint16);
  CHECK(reinterpret_cast<const uchar*>(a.bytes()) == pixels);
  CHECK(a.at<std::uint16_t>(2, 3, 3) == 4);
}

TEST_CASE("from_mat copies a region of interest, which is not continuous", "[interop]") {
  cv::Mat m(10, 10, CV_8UC1);
  for (int y = 0; y < 10; ++y)
    for (int x = 0; x < 10; ++x) m.at<uchar>(y, x) = static_cast<uchar>(y * 10 + x);
  const NDArray roi = interop::from_mat(m(cv::Rect(2, 3, 4, 5)));  // x, y, w, h
  CHECK(roi.shape() == imio::Shape{5, 4});
  CHECK(roi.at<std::uint8_t>(0, 0) == 32);
  CHECK(roi.at<std::uint8_t>(4, 3) == 75);
  CHECK_THROWS_AS(interop::from_mat(cv::Mat()), imio::ArgumentError);
}
