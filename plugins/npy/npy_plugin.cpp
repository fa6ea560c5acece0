// The npy plugin: NumPy's .npy format, read and written without any
// dependency. One file holds one array, so it indexes like imageio's pillow
// plugin for a single-image file (spec §4.2).
#include <imio/plugin.hpp>
#include <imio/single_image.hpp>

#include <algorithm>
#include <cstring>
#include <optional>
#include <type_traits>
#include <utility>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "npy_descr.hpp"
#include "npy_header.hpp"
#include "npy_layout.hpp"
#include "npz_zip.hpp"

namespace imio {
namespace npy {
namespace {

constexpr std::string_view kPlugin = "npy";

// Index none or 0 is the array; imio::all adds a leading axis of 1.
bool wants_batch(const Index& index) { return single_image_wants_batch(index, "the file"); }

// ---------------------------------------------------------------- reading

// The array a .npy header describes, read from `source` (a .npy file, or a
// member of an .npz archive) without any conversion but to native order, C
// order and canonical bools.
class StoredArray {
 public:
  StoredArray(const Request& request, ByteSource& source, Header header)
      : request_(request), source_(source), header_(std::move(header)) {
    element_ = parse_descr(header_.dict.descr);
    nbytes_ = checked_nbytes();
  }

  const Shape& shape() const { return header_.dict.shape; }
  DType dtype() const { return element_.dtype; }
  const Header& header() const { return header_; }

  // The data must be in the file before an array that size is allocated.
  void check_data_present() const {
    const auto size = source_.size();
    if (size && (*size < header_.data_offset || *size - header_.data_offset < nbytes_)) {
      throw DecodeError(fmt::format("truncated .npy data: the header promises {} bytes of array data after byte {}, "
                                    "the file holds {}",
                                    nbytes_, header_.data_offset,
                                    *size > header_.data_offset ? *size - header_.data_offset : 0));
    }
  }

  NDArray read() const {
    check_data_present();
    // Under imread_into with a row-padded view, C-order data are read row
    // by row into the caller's rows; Fortran order is transposed elsewhere.
    if (!transposed()) {
      if (const auto rows = request_.row_target(header_.dict.shape, element_.dtype)) {
        read_rows(*rows);
        return request_.rows_written(*rows);
      }
    }
    NDArray out = request_.allocate(header_.dict.shape, element_.dtype);
    read_into(out.bytes());
    return out;
  }

  // Decodes into `dst`, which holds nbytes() bytes (a slice of a stack).
  void read_into(std::byte* dst) const {
    check_data_present();
    if (transposed()) {
      read_fortran(dst);
    } else {
      read_stored(whole(dst));
    }
    finish_elements(dst, static_cast<std::size_t>(nbytes_));
  }

  std::uint64_t nbytes() const { return nbytes_; }

  Metadata metadata() const {
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

  // The data's nbytes() at `dst` as one row (a 0-d array has no axis).
  RowTarget whole(std::byte* dst) const {
    const auto n = static_cast<std::size_t>(nbytes_);
    return RowTarget(dst, static_cast<std::ptrdiff_t>(n), 1, n);
  }

  // Reads the data as stored (no conversion) into `rows`: with one read when
  // they are contiguous (the source picks the fastest copy: memcpy from
  // memory, pread from a file), else one read per row.
  void read_stored(const RowTarget& rows) const {
    source_.seek(header_.data_offset);
    const std::size_t rows_per_read = rows.contiguous() ? rows.rows() : 1;
    std::uint64_t done = 0;
    for (std::size_t y = 0; y < rows.rows(); y += rows_per_read) {
      const std::size_t want = rows_per_read * rows.row_bytes();
      const std::size_t got = source_.read(rows.row(y), want);
      done += got;
      if (got != want) {
        throw DecodeError(fmt::format("truncated .npy data: the header promises {} bytes of array data after byte {}, "
                                      "the data end after {}",
                                      nbytes_, header_.data_offset, done));
      }
    }
  }

  bool transposed() const { return header_.dict.fortran_order && fortran_differs_from_c(header_.dict.shape); }

  // Stored bytes to imio's elements: native byte order, bools 0 or 1.
  void finish_elements(std::byte* dst, std::size_t n) const {
    const std::size_t count = n / itemsize(element_.dtype);
    if (element_.byteswap) byteswap_elements(dst, count, itemsize(element_.dtype));
    if (element_.dtype == DType::bool_) canonicalize_bools(dst, count);
  }

  // C-order data into rows at any stride (the caller's row-padded view).
  void read_rows(const RowTarget& rows) const {
    read_stored(rows);
    for (std::size_t y = 0; y < rows.rows(); ++y) finish_elements(rows.row(y), rows.row_bytes());
  }

  // Fortran-order data are read where they lie (a mapped or in-memory file)
  // or into a scratch array, then transposed into the result.
  void read_fortran(std::byte* dst) const {
    const std::size_t item = itemsize(element_.dtype);
    if (const auto view = source_.contiguous()) {
      fortran_to_c(view->data() + header_.data_offset, dst, header_.dict.shape, item);
      return;
    }
    NDArray scratch = request_.allocate(header_.dict.shape, element_.dtype);
    read_stored(whole(scratch.bytes()));
    fortran_to_c(scratch.bytes(), dst, header_.dict.shape, item);
  }

  const Request& request_;
  ByteSource& source_;
  Header header_;
  ElementType element_;
  std::uint64_t nbytes_ = 0;
};

class NpyReader final : public Plugin {
 public:
  explicit NpyReader(Request& request) : array_(request, request.source(), read_header(request)) {}

  NDArray read(const Index& index, const Kwargs& kwargs) override {
    KwargReader(kwargs, kPlugin, "read", "npy");
    const bool batch = wants_batch(index);
    NDArray array = array_.read();
    return batch ? std::move(array).reshaped(with_batch_axis(array_.shape())) : std::move(array);
  }

  std::unique_ptr<FrameSource> iter(const Kwargs& kwargs) override {
    KwargReader(kwargs, kPlugin, "iter", "npy");
    return one_frame([this] { return array_.read(); });
  }

  // From the header and the file's size: the data are never read, but a file
  // too short for them is the error read gives (D11).
  ImageProperties properties(const Index& index, const Kwargs& kwargs) override {
    KwargReader(kwargs, kPlugin, "properties", "npy");
    array_.check_data_present();
    if (wants_batch(index)) {
      return {.shape = with_batch_axis(array_.shape()), .dtype = array_.dtype(), .n_images = 1, .is_batch = true};
    }
    return {.shape = array_.shape(), .dtype = array_.dtype()};
  }

  Metadata metadata(const Index& index, bool /*exclude_applied*/, const Kwargs& kwargs) override {
    KwargReader(kwargs, kPlugin, "metadata", "npy");
    wants_batch(index);  // only checks the range: one array, one header
    return array_.metadata();
  }

 private:
  StoredArray array_;
};

// ---------------------------------------------------------------- writing

// numpy's axis lengths are npy_intp.
void check_writable(const NDArray& a) {
  if (a.bytes() == nullptr) throw ArgumentError("cannot write an empty (default-constructed) NDArray");
  for (const std::size_t d : a.shape()) {
    if (static_cast<std::uint64_t>(d) > static_cast<std::uint64_t>(INT64_MAX)) {
      throw ArgumentError(fmt::format("axis length {} exceeds numpy's limit of 2**63 - 1", d));
    }
  }
}

class NpyWriter final : public Plugin {
 public:
  explicit NpyWriter(Request& request) : request_(request) {}

  void write(const NDArray& image, const Kwargs& kwargs) override {
    KwargReader(kwargs, kPlugin, "write", "npy");
    check_first_write();
    check_writable(image);
    emit(image.shape(), image.dtype(), std::span<const NDArray>(&image, 1));
  }

  // A list is stacked along a new first axis, as imageio's np.stack does;
  // the arrays are streamed one after the other instead of copied together.
  void write(std::span<const NDArray> images, const Kwargs& kwargs) override {
    KwargReader(kwargs, kPlugin, "write", "npy");
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

// ---------------------------------------------------------------- .npz archives

// An archive held in memory when its source cannot say its size (a stream).
class MemorySource final : public ByteSource {
 public:
  explicit MemorySource(Bytes data) : data_(std::move(data)) {}
  std::size_t read(void* dst, std::size_t n) override {
    n = static_cast<std::size_t>(std::min<std::uint64_t>(n, data_.size() - std::min<std::uint64_t>(pos_, data_.size())));
    if (n > 0) std::memcpy(dst, data_.data() + pos_, n);
    pos_ += n;
    return n;
  }
  void seek(std::uint64_t pos) override { pos_ = pos; }
  std::uint64_t tell() const override { return pos_; }
  std::optional<std::uint64_t> size() const override { return data_.size(); }
  std::optional<std::span<const std::byte>> contiguous() const override { return std::span<const std::byte>(data_); }

 private:
  Bytes data_;
  std::uint64_t pos_ = 0;
};

// numpy's key of a member: its name without ".npy" (NpzFile.files).
std::string key_of(const std::string& name) {
  return name.size() >= 4 && name.compare(name.size() - 4, 4, ".npy") == 0 ? name.substr(0, name.size() - 4) : name;
}

// Each member array of an .npz archive is one image, in the archive's order
// (numpy.savez's order, NpzFile.files). Only the members asked for are
// inflated; properties and metadata inflate a member's header only.
class NpzReader final : public Plugin {
 public:
  explicit NpzReader(Request& request) : request_(request) {
    ByteSource& src = request.source();
    if (!src.size()) {
      owned_ = std::make_unique<MemorySource>(src.read_all(request.limits().max_bytes));
      archive_ = owned_.get();
    } else {
      archive_ = &src;
    }
    size_ = *archive_->size();
    entries_ = read_central_directory(*archive_, size_, request.limits().max_bytes);
    for (const ZipEntry& e : entries_) keys_.emplace_back(key_of(e.name));
  }

  NDArray read(const Index& index, const Kwargs& kwargs) override {
    KwargReader kw(kwargs, kPlugin, "read", "npz");
    if (const auto k = member_of(index, kw.take<std::string>("key"))) {
      return naming(*k, [&] { return member(*k).array.read(); });
    }
    return read_stack();
  }

  std::unique_ptr<FrameSource> iter(const Kwargs& kwargs) override {
    KwargReader(kwargs, kPlugin, "iter", "npz");
    struct Members final : FrameSource {
      NpzReader& r;
      std::size_t next_k = 0;
      explicit Members(NpzReader& reader) : r(reader) {}
      std::optional<NDArray> next() override {
        if (next_k >= r.entries_.size()) return std::nullopt;
        const std::size_t k = next_k++;
        return r.naming(k, [&] { return r.member(k).array.read(); });
      }
    };
    return std::make_unique<Members>(*this);
  }

  ImageProperties properties(const Index& index, const Kwargs& kwargs) override {
    KwargReader kw(kwargs, kPlugin, "properties", "npz");
    if (const auto k = member_of(index, kw.take<std::string>("key"))) {
      return naming(*k, [&] {
        const Member m = member(*k);
        m.array.check_data_present();
        return ImageProperties{.shape = m.array.shape(), .dtype = m.array.dtype()};
      });
    }
    const Member& first = stack_check();
    return {.shape = with_batch_axis(first.array.shape(), entries_.size()),
            .dtype = first.array.dtype(),
            .n_images = entries_.size(),
            .is_batch = true};
  }

  // The member's header (descr, fortran_order, shape) and its key, and the
  // keys of every member; index=all describes the first member (D13).
  Metadata metadata(const Index& index, bool /*exclude_applied*/, const Kwargs& kwargs) override {
    KwargReader kw(kwargs, kPlugin, "metadata", "npz");
    Value::List keys;
    for (const std::string& k : keys_) keys.emplace_back(k);
    std::optional<std::size_t> k;
    const auto key = kw.take<std::string>("key");
    if (index.is_all() || (index.is_none() && !key)) {
      if (key) throw ArgumentError("key selects one member: index must be None with it");
      if (!entries_.empty()) k = 0;  // an empty archive: its keys only
    } else {
      k = member_of(index, key);
    }
    Metadata meta;
    if (k) {
      meta = member(*k).array.metadata();
      meta.set("key", keys_[*k]);
    }
    meta.set("keys", Value(std::move(keys)));
    return meta;
  }

 private:
  struct Member {
    std::unique_ptr<ByteSource> source;
    StoredArray array;
  };

  // The member an index or key selects; nullopt for imio::all.
  std::optional<std::size_t> member_of(const Index& index, const std::optional<std::string>& key) const {
    if (key) {
      if (!index.is_none()) {
        throw ArgumentError(fmt::format("key '{}' selects one member: index must be None with it (got {})", *key,
                                        index.repr()));
      }
      for (std::size_t k = 0; k < keys_.size(); ++k) {
        if (keys_[k] == *key || entries_[k].name == *key) return k;
      }
      throw IndexError(fmt::format("the .npz archive has no member '{}' (its keys: {})", *key,
                                   keys_.empty() ? std::string("none") : fmt::format("{}", fmt::join(keys_, ", "))));
    }
    if (index.is_all()) return std::nullopt;
    const std::size_t k = index.is_none() ? 0 : static_cast<std::size_t>(index.value());
    if (k >= entries_.size()) {
      throw IndexError(fmt::format("index {} is out of range: the .npz archive holds {} array{}", k, entries_.size(),
                                   entries_.size() == 1 ? "" : "s"));
    }
    return k;
  }

  // `f()`, whose DecodeErrors name member k.
  template <class F>
  std::invoke_result_t<F&> naming(std::size_t k, F&& f) {
    try {
      return f();
    } catch (const DecodeError& e) {
      if (std::string_view(e.what()).find(entries_[k].name) != std::string_view::npos) throw;
      throw DecodeError(fmt::format("member '{}': {}", entries_[k].name, e.what()));
    }
  }

  // A fresh reader of member k: its header parsed, its data not yet read.
  Member member(std::size_t k) {
    return naming(k, [&] {
      auto source = open_member(*archive_, size_, entries_[k]);
      Header header = read_header(*source, request_);
      StoredArray array(request_, *source, std::move(header));
      return Member{std::move(source), std::move(array)};
    });
  }

  // index=all stacks the members, which must agree in shape and dtype.
  const Member& stack_check() {
    if (entries_.empty()) throw IndexError("the .npz archive holds no arrays: nothing to stack");
    request_.check_frames(entries_.size());
    first_.emplace(member(0));
    for (std::size_t k = 1; k < entries_.size(); ++k) {
      const Member m = member(k);
      if (m.array.shape() != first_->array.shape() || m.array.dtype() != first_->array.dtype()) {
        throw DecodeError(fmt::format("cannot stack the members of the .npz archive (index=all): '{}' is ({}) {}, "
                                      "'{}' is ({}) {}",
                                      keys_[0], fmt::join(first_->array.shape(), ", "), name(first_->array.dtype()),
                                      keys_[k], fmt::join(m.array.shape(), ", "), name(m.array.dtype())));
      }
    }
    return *first_;
  }

  NDArray read_stack() {
    const Member& first = stack_check();
    NDArray out = request_.allocate(with_batch_axis(first.array.shape(), entries_.size()), first.array.dtype());
    const std::uint64_t step = first.array.nbytes();
    for (std::size_t k = 0; k < entries_.size(); ++k) {
      naming(k, [&] { member(k).array.read_into(out.bytes() + k * step); });
    }
    return out;
  }

  Request& request_;
  std::unique_ptr<ByteSource> owned_;
  ByteSource* archive_ = nullptr;
  std::uint64_t size_ = 0;
  std::vector<ZipEntry> entries_;
  std::vector<std::string> keys_;
  std::optional<Member> first_;
};

// Each array written is one member, `arr_0.npy`, `arr_1.npy`, … (numpy.savez's
// names for positional arrays) or the names given as `keys`; each write()
// appends members, close() writes the central directory.
class NpzWriter final : public Plugin {
 public:
  explicit NpzWriter(Request& request) : request_(request) {}

  void write(const NDArray& image, const Kwargs& kwargs) override { write(std::span<const NDArray>(&image, 1), kwargs); }

  void write(std::span<const NDArray> images, const Kwargs& kwargs) override {
    KwargReader kw(kwargs, kPlugin, "write", "npz");
    const bool compress = kw.get<bool>("compress");
    const int level = static_cast<int>(kw.get<std::int64_t>("compress_level"));
    std::vector<std::string> names;
    if (const Value* keys = kw.find("keys"); keys != nullptr && !keys->is_none()) {
      const auto& list = keys->get<Value::List>();
      if (list.size() != images.size()) {
        kw.fail("keys", fmt::format("gives {} names for {} arrays", list.size(), images.size()));
      }
      for (const Value& v : list) {
        if (!v.is<std::string>() || v.get<std::string>().empty()) kw.fail("keys", "expects non-empty strings");
        names.push_back(v.get<std::string>());
      }
    } else {
      for (std::size_t i = 0; i < images.size(); ++i) names.push_back(fmt::format("arr_{}", written_ + i));
    }
    for (const std::string& n : names) {
      if (std::find(used_.begin(), used_.end(), n) != used_.end() ||
          std::count(names.begin(), names.end(), n) > 1) {
        kw.fail("keys", fmt::format("names the member '{}' twice", n));
      }
    }
    for (const NDArray& a : images) check_writable(a);
    for (std::size_t i = 0; i < images.size(); ++i) {
      const NDArray& a = images[i];
      const std::string header = encode_header(native_descr(a.dtype()), a.shape());
      Bytes bools;
      std::span<const std::byte> data(a.bytes(), a.nbytes());
      if (a.dtype() == DType::bool_) {
        bools.resize(a.nbytes());
        copy_canonical_bools(a.bytes(), bools.data(), a.nbytes());
        data = bools;
      }
      const std::span<const std::byte> parts[] = {
          std::span<const std::byte>(reinterpret_cast<const std::byte*>(header.data()), header.size()), data};
      zip_.add(names[i] + ".npy", parts, compress, level);
      used_.push_back(names[i]);
    }
    written_ += images.size();
  }

  void close() override {
    if (!finished_) {
      finished_ = true;
      zip_.finish();
    }
  }

 private:
  Request& request_;
  ZipWriter zip_{request_.sink()};
  std::size_t written_ = 0;
  std::vector<std::string> used_;
  bool finished_ = false;
};

// ---------------------------------------------------------------- the factory

bool is_npz_request(const Request& request) { return request.extension() == ".npz"; }

// Data that start like a zip archive are an .npz when named so, or when
// every member of the archive is a .npy array (numpy.load reads any zip).
bool looks_like_npz(Request& request) {
  if (is_npz_request(request)) return true;
  try {
    ByteSource& src = request.source();
    const auto size = src.size();
    if (!size) return false;
    const auto entries = read_central_directory(src, *size, request.limits().max_bytes);
    return !entries.empty() && std::all_of(entries.begin(), entries.end(), [](const ZipEntry& e) {
      return e.name.size() > 4 && e.name.compare(e.name.size() - 4, 4, ".npy") == 0;
    });
  } catch (const Error&) {
    return false;
  }
}

std::unique_ptr<Plugin> open_npy(Request& request, const Kwargs& kwargs) {
  KwargReader(kwargs, kPlugin, "open");
  if (request.mode() == IoMode::write) {  // the extension: plugin.json
    if (is_npz_request(request)) return std::make_unique<NpzWriter>(request);
    return std::make_unique<NpyWriter>(request);
  }
  const auto first = request.first_bytes(kMagic.size());
  if (has_zip_signature(first)) {
    if (!looks_like_npz(request)) {
      throw InitializationError("a zip archive that is not an .npz (its members are not all .npy arrays)");
    }
    return std::make_unique<NpzReader>(request);
  }
  if (!has_magic(first)) {
    throw InitializationError("not a NumPy .npy or .npz file (it starts neither with \\x93NUMPY nor with a zip signature)");
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
  spec.sniff = [](std::span<const std::byte> first) { return npy::has_magic(first) || npy::has_zip_signature(first); };
  spec.sniff_bytes = npy::kMagic.size();
  spec.factory = npy::open_npy;
  spec.backend = "imio (built-in)";
  return spec;
}

}  // namespace builtin
}  // namespace imio
