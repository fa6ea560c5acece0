// The openexr plugin: OpenEXR images (scanline and tiled, mip/rip levels,
// multi-part files as a sequence of images) through the OpenEXR library,
// read as float16/float32/uint32 arrays (H, W[, C]).
#include <imio/plugin.hpp>
#include <imio/single_image.hpp>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "exr_read.hpp"
#include "exr_scan.hpp"
#include "exr_write.hpp"

namespace imio {
namespace exr {
namespace {

constexpr std::string_view kPlugin = "openexr";

class ExrReader final : public Plugin {
 public:
  explicit ExrReader(Request& request)
      : request_(request),
        data_(whole_data(request.source(), owned_, request.limits().max_bytes)),
        file_(data_, request.describe(), request.limits()) {}

  // index omitted → part 0; k → part k; imio::all → every part stacked
  // (their shapes and dtypes must agree).
  NDArray read(const Index& index, const Kwargs& kwargs) override {
    const ReadArgs a = read_args(kwargs, "read");
    if (index.is_all()) {
      const std::vector<Plan> plans = all_plans(a);
      NDArray out = request_.allocate(with_batch_axis(plans[0].shape, plans.size()), plans[0].dtype);
      const std::size_t each = out.nbytes() / plans.size();
      for (std::size_t k = 0; k < plans.size(); ++k) file_.decode(plans[k], out.bytes() + k * each, request_);
      return out;
    }
    const Plan p = plan(part_of(index), a);
    NDArray out = request_.allocate(p.shape, p.dtype);
    file_.decode(p, out.bytes(), request_);
    return out;
  }

  std::unique_ptr<FrameSource> iter(const Kwargs& kwargs) override {
    struct Parts final : FrameSource {
      ExrReader& r;
      ReadArgs a;
      std::size_t next_part = 0;
      Parts(ExrReader& reader, ReadArgs args) : r(reader), a(std::move(args)) {}
      std::optional<NDArray> next() override {
        if (next_part == r.file_.parts()) return std::nullopt;
        const Plan p = r.plan(next_part++, a);
        NDArray out = r.request_.allocate(p.shape, p.dtype);
        r.file_.decode(p, out.bytes(), r.request_);
        return out;
      }
    };
    return std::make_unique<Parts>(*this, read_args(kwargs, "iter"));
  }

  ImageProperties properties(const Index& index, const Kwargs& kwargs) override {
    const ReadArgs a = read_args(kwargs, "properties");
    if (index.is_all()) {
      const std::vector<Plan> plans = all_plans(a);
      return {.shape = with_batch_axis(plans[0].shape, plans.size()), .dtype = plans[0].dtype, .n_images = plans.size(), .is_batch = true};
    }
    const Plan p = plan(part_of(index), a);
    return {.shape = p.shape, .dtype = p.dtype, .n_images = file_.parts()};
  }

  // Every attribute of the part's header (imio::all → part 0's, D13).
  Metadata metadata(const Index& index, bool, const Kwargs& kwargs) override {
    read_args(kwargs, "metadata");
    return file_.metadata(index.is_all() ? 0 : part_of(index));
  }

 private:
  std::size_t part_of(const Index& index) const {
    const std::size_t n = file_.parts();
    const std::size_t k = index.is_none() ? 0 : static_cast<std::size_t>(index.value());
    if (k >= n) throw IndexError(fmt::format("index {} is out of range: the file holds {} part(s)", index.repr(), n));
    return k;
  }

  Plan plan(std::size_t part, const ReadArgs& a) const {
    Plan p = file_.plan(part, a);
    request_.check_pixels(p.shape[1], p.shape[0], p.channels.size());
    return p;
  }

  std::vector<Plan> all_plans(const ReadArgs& a) const {
    request_.check_frames(file_.parts());
    std::vector<Plan> plans;
    for (std::size_t k = 0; k < file_.parts(); ++k) {
      plans.push_back(plan(k, a));
      const Plan& first = plans.front();
      if (plans.back().shape != first.shape || plans.back().dtype != first.dtype) {
        throw ArgumentError(fmt::format("the parts differ (part 0: {} {}, part {}: {} {}): imio::all stacks parts of one shape and dtype; "
                                        "read them one by one or with imiter",
                                        fmt::join(first.shape, "x"), name(first.dtype), k, fmt::join(plans.back().shape, "x"),
                                        name(plans.back().dtype)));
      }
    }
    return plans;
  }

  Request& request_;
  Bytes owned_;
  std::span<const std::byte> data_;
  ExrFile file_;
};

// One write call makes the file: one image a single-part file, a list or a
// batch a multi-part file. It is encoded in memory and written at close.
class ExrWriter final : public Plugin {
 public:
  explicit ExrWriter(Request& request) : request_(request) {}

  void write(const NDArray& image, const Kwargs& kwargs) override { store(encode(std::span<const NDArray>(&image, 1), false, kwargs, request_)); }
  void write(std::span<const NDArray> images, const Kwargs& kwargs) override {
    if (images.empty()) throw ArgumentError("no images to write");
    store(encode(images, true, kwargs, request_));
  }
  void close() override {
    if (encoded_) request_.sink().write(encoded_->data(), encoded_->size());
    encoded_.reset();
  }

 private:
  void store(Bytes bytes) {
    if (encoded_) {
      throw ArgumentError("an OpenEXR file is made by one write call: pass a list (or is_batch=True) to write several images as parts");
    }
    encoded_ = std::move(bytes);
  }
  Request& request_;
  std::optional<Bytes> encoded_;
};

std::unique_ptr<Plugin> open_exr(Request& request, const Kwargs& kwargs) {
  KwargReader(kwargs, kPlugin, "open").finish();
  if (request.mode() == IoMode::write) return std::make_unique<ExrWriter>(request);
  if (!has_magic(request.first_bytes(4))) throw InitializationError("not an OpenEXR file (it does not start with the magic number 76 2f 31 01)");
  // From here the file claims to be OpenEXR: damage is a DecodeError (D4).
  return std::make_unique<ExrReader>(request);
}

}  // namespace
}  // namespace exr

namespace builtin {

PluginSpec openexr_plugin_spec() {
  PluginSpec spec;
  spec.sniff = exr::has_magic;
  spec.sniff_bytes = 4;
  spec.factory = exr::open_exr;
  spec.backend = exr::openexr_version();
  return spec;
}

}  // namespace builtin
}  // namespace imio
