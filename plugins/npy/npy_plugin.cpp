// The npy plugin: NumPy's .npy format, read and written without any
// dependency. One file holds one array, so it indexes like imageio's pillow
// plugin for a single-image file (spec §4.2).
#include <imio/plugin.hpp>
#include <imio/single_image.hpp>

#include <algorithm>
#include <cstring>
#include <optional>
#include <utility>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "npy_descr.hpp"
#include "npy_header.hpp"
#include "npy_layout.hpp"

namespace imio {
namespace npy {
namespace {

constexpr std::string_view kPlugin = "npy";

// Index none or 0 is the array; imio::all adds a leading axis of 1.
bool wants_batch(const Index& index) { return single_image_wants_batch(index, "the file"); }

// ---------------------------------------------------------------- reading

class NpyReader final : public Plugin {
 public:
  explicit NpyReader(Request& request) : request_(request), header_(read_header(request)) {
    element_ = parse_descr(header_.dict.descr);
    nbytes_ = checked_nbytes();
  }

  NDArray read(const Index& index, const Kwargs& kwargs) override {
    KwargReader(kwargs, kPlugin, "read").finish();
    const bool batch = wants_batch(index);
    NDArray array = read_array();
    return batch ? std::move(array).reshaped(with_batch_axis(header_.dict.shape)) : std::move(array);
  }

  std::unique_ptr<FrameSource> iter(const Kwargs& kwargs) override {
    KwargReader(kwargs, kPlugin, "iter").finish();
    return one_frame([this] { return read_array(); });
  }

  // From the header and the file's size: the data are never read, but a file
  // too short for them is the error read gives (D11).
  ImageProperties properties(const Index& index, const Kwargs& kwargs) override {
    KwargReader(kwargs, kPlugin, "properties").finish();
    check_data_present(request_.source());
    if (wants_batch(index)) {
      return {.shape = with_batch_axis(header_.dict.shape), .dtype = element_.dtype, .n_images = 1, .is_batch = true};
    }
    return {.shape = header_.dict.shape, .dtype = element_.dtype};
  }

  Metadata metadata(const Index& index, bool /*exclude_applied*/, const Kwargs& kwargs) override {
    KwargReader(kwargs, kPlugin, "metadata").finish();
    wants_batch(index);  // only checks the range: one array, one header
    Value::List shape;
    for (const std::size_t d : header_.dict.shape) shape.emplace_back(static_cast<std::int64_t>(d));
    return Metadata{{"descr", header_.dict.descr},
                    {"fortran_order", header_.dict.fortran_order},
                    {"shape", Value(std::move(shape))}};
  }

 private:
  // The header's shape and dtype must describe an array that can exist
  // (numpy's npy_intp sizes); a hostile header fails here, not in malloc.
  std::uint64_t checked_nbytes() const {
    const auto n = imio::checked_nbytes(header_.dict.shape, element_.dtype);
    if (!n || *n > static_cast<std::uint64_t>(PTRDIFF_MAX)) {
      throw DecodeError(fmt::format("the header's shape ({}) of {} needs more than 2**63 bytes",
                                    fmt::join(header_.dict.shape, ", "), header_.dict.descr));
    }
    return *n;
  }

  // The data must be in the file before an array that size is allocated.
  void check_data_present(ByteSource& source) const {
    const auto size = source.size();
    if (size && *size - header_.data_offset < nbytes_) {
      throw DecodeError(fmt::format("truncated .npy file: the header promises {} bytes of array data after byte {}, "
                                    "the file holds {}",
                                    nbytes_, header_.data_offset, *size - header_.data_offset));
    }
  }

  // Reads the data as stored (no conversion) into `dst`, with one read: the
  // source picks the fastest copy (memcpy from memory, pread from a file).
  void read_stored(ByteSource& source, std::byte* dst) const {
    source.seek(header_.data_offset);
    const std::size_t got = source.read(dst, static_cast<std::size_t>(nbytes_));
    if (got != nbytes_) {
      throw DecodeError(fmt::format("truncated .npy file: the header promises {} bytes of array data after byte {}, "
                                    "the data end after {}",
                                    nbytes_, header_.data_offset, got));
    }
  }

  // Fortran-order data are read where they lie (a mapped or in-memory file)
  // or into a scratch array, then transposed into the result.
  void read_fortran(ByteSource& source, NDArray& out) const {
    const std::size_t item = itemsize(element_.dtype);
    if (const auto view = source.contiguous()) {
      fortran_to_c(view->data() + header_.data_offset, out.bytes(), header_.dict.shape, item);
      return;
    }
    NDArray scratch = request_.allocate(header_.dict.shape, element_.dtype);
    read_stored(source, scratch.bytes());
    fortran_to_c(scratch.bytes(), out.bytes(), header_.dict.shape, item);
  }

  NDArray read_array() {
    ByteSource& source = request_.source();
    check_data_present(source);
    NDArray out = request_.allocate(header_.dict.shape, element_.dtype);
    if (header_.dict.fortran_order && fortran_differs_from_c(header_.dict.shape)) {
      read_fortran(source, out);
    } else {
      read_stored(source, out.bytes());
    }
    if (element_.byteswap) byteswap_elements(out.bytes(), out.size(), itemsize(element_.dtype));
    if (element_.dtype == DType::bool_) canonicalize_bools(out.bytes(), out.size());
    return out;
  }

  Request& request_;
  Header header_;
  ElementType element_;
  std::uint64_t nbytes_ = 0;
};

// ---------------------------------------------------------------- writing

class NpyWriter final : public Plugin {
 public:
  explicit NpyWriter(Request& request) : request_(request) {}

  void write(const NDArray& image, const Kwargs& kwargs) override {
    KwargReader(kwargs, kPlugin, "write").finish();
    check_first_write();
    check_writable(image);
    emit(image.shape(), image.dtype(), std::span<const NDArray>(&image, 1));
  }

  // A list is stacked along a new first axis, as imageio's np.stack does;
  // the arrays are streamed one after the other instead of copied together.
  void write(std::span<const NDArray> images, const Kwargs& kwargs) override {
    KwargReader(kwargs, kPlugin, "write").finish();
    check_first_write();
    const NDArray& first = images.front();
    for (const NDArray& a : images) {
      check_writable(a);
      if (a.shape() != first.shape() || a.dtype() != first.dtype()) {
        throw ArgumentError(fmt::format("a .npy file holds one array: cannot stack arrays of different shapes or "
                                        "dtypes: ({}) {} and ({}) {}",
                                        fmt::join(first.shape(), ", "), name(first.dtype()), fmt::join(a.shape(), ", "),
                                        name(a.dtype())));
      }
    }
    emit(with_batch_axis(first.shape(), images.size()), first.dtype(), images);
  }


 private:
  void check_first_write() const {
    if (written_) throw ArgumentError("a .npy file holds one array and it was already written (pass a list to stack arrays)");
  }

  static void check_writable(const NDArray& a) {
    if (a.bytes() == nullptr) throw ArgumentError("cannot write an empty (default-constructed) NDArray");
    for (const std::size_t d : a.shape()) {
      if (static_cast<std::uint64_t>(d) > static_cast<std::uint64_t>(INT64_MAX)) {
        throw ArgumentError(fmt::format("axis length {} exceeds numpy's limit of 2**63 - 1", d));
      }
    }
  }

  // Once bytes reach the sink the handle holds its array, even if a write
  // fails half-way; a refused argument leaves it free for another try.
  void emit(const Shape& shape, DType dtype, std::span<const NDArray> arrays) {
    written_ = true;
    ByteSink& sink = request_.sink();
    const std::string header = encode_header(native_descr(dtype), shape);
    sink.write(header.data(), header.size());
    for (const NDArray& a : arrays) {
      if (dtype == DType::bool_) {
        write_bools(sink, a);
      } else if (a.nbytes() > 0) {
        sink.write(a.bytes(), a.nbytes());
      }
    }
  }

  // numpy's bools are 0 and 1; an NDArray filled through bytes() may hold
  // other values, so they go out through a small buffer.
  static void write_bools(ByteSink& sink, const NDArray& a) {
    std::byte chunk[1 << 16];
    for (std::size_t done = 0; done < a.nbytes();) {
      const std::size_t n = std::min(sizeof chunk, a.nbytes() - done);
      copy_canonical_bools(a.bytes() + done, chunk, n);
      sink.write(chunk, n);
      done += n;
    }
  }

  Request& request_;
  bool written_ = false;
};

// ---------------------------------------------------------------- the factory

std::unique_ptr<Plugin> open_npy(Request& request, const Kwargs& kwargs) {
  KwargReader(kwargs, kPlugin, "open").finish();
  if (request.mode() == IoMode::write) return std::make_unique<NpyWriter>(request);  // the extension: plugin.json
  if (!has_magic(request.first_bytes(kMagic.size()))) {
    throw InitializationError("not a NumPy .npy file (it does not start with \\x93NUMPY)");
  }
  // The signature is NumPy's: from here a broken header is a DecodeError (D4).
  return std::make_unique<NpyReader>(request);
}

}  // namespace
}  // namespace npy

namespace builtin {

PluginSpec npy_plugin_spec() {
  PluginSpec spec;
  // What npy is (name, aliases, extensions, kwargs) is its plugin.json; here, what it does.
  spec.sniff = npy::has_magic;
  spec.sniff_bytes = npy::kMagic.size();
  spec.factory = npy::open_npy;
  spec.backend = "imio (built-in)";
  return spec;
}

}  // namespace builtin
}  // namespace imio
