// The npy plugin's .npz archives: files numpy.savez / numpy.savez_compressed
// wrote (made here at test time) read as numpy.load reads them, files imio
// wrote read by numpy.load, and damaged archives are clean errors.
#include <imio/imio.hpp>
#include <imio/plugin.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "catch.hpp"
#include "python_oracle.hpp"
#include "test_paths.hpp"
#include "test_util.hpp"

namespace {

namespace fs = std::filesystem;
using imio::Bytes;
using imio::DType;
using imio::NDArray;
using imio::Shape;
using imio_test::contains;
using imio_test::message_of;
using imio_test::read_file;
using imio_test::run_python;
using imio_test::write_file;

bool numpy_available() { return imio_test::python_has("numpy"); }

#define REQUIRE_NUMPY()                                                   \
  if (!numpy_available()) {                                               \
    WARN("skipped: " << imio_test::python() << " has no numpy");          \
    return;                                                               \
  }

NDArray sample(const Shape& shape, DType dtype, std::uint32_t seed) {
  NDArray a(shape, dtype);
  std::mt19937 rng(seed);
  for (std::size_t i = 0; i < a.nbytes(); ++i) a.bytes()[i] = static_cast<std::byte>(rng() & 0xFF);
  if (dtype == DType::bool_) {
    for (std::size_t i = 0; i < a.nbytes(); ++i) a.bytes()[i] &= std::byte{1};
  }
  return a;
}

std::vector<std::string> words(const std::string& line) {
  std::istringstream in(line);
  std::vector<std::string> out;
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

// Two small arrays written by imio as an .npz in memory.
Bytes small_npz(bool compress) {
  const NDArray arrays[] = {sample({3, 4}, DType::uint16, 1), sample({5}, DType::float32, 2)};
  return *imio::imwrite("<bytes>", std::span<const NDArray>(arrays),
                        {.extension = ".npz", .kwargs = {{"compress", compress}}});
}

}  // namespace

TEST_CASE("npz: archives numpy.savez and numpy.savez_compressed wrote read as numpy.load reads them", "[npz][numpy]") {
  REQUIRE_NUMPY();
  imio_test::TempDir dir;
  // Members of every kind: dtypes, both byte orders, Fortran order, 0-d,
  // empty, named and positional; the expected bytes are numpy's C-order
  // little-endian copies.
  static constexpr std::string_view script = R"PY(
import os, sys
import numpy as np
out = sys.argv[1]
rng = np.random.default_rng(2024)
arrays = {
    'arr_0': rng.integers(0, 65535, size=(4, 5), dtype=np.uint16),
    'big': rng.integers(-2**31, 2**31 - 1, size=(3, 2, 2), dtype=np.int32).astype('>i4'),
    'fortran': np.asfortranarray(rng.random((6, 7)).astype(np.float32)),
    'flags': rng.integers(0, 2, size=(9,)) == 1,
    'scalar': np.array(3.5),
    'empty': np.zeros((0, 3), dtype=np.int8),
    'half': rng.random((2, 3)).astype(np.float16),
}
lines = []
for name, fn in (('stored', np.savez), ('deflated', np.savez_compressed)):
    fn(os.path.join(out, name + '.npz'), **arrays)
for key, a in arrays.items():
    c = np.array(a, order='C')
    with open(os.path.join(out, key + '.raw'), 'wb') as f:
        f.write((c.byteswap() if c.dtype.byteorder == '>' else c).tobytes())
    lines.append(' '.join([key, c.dtype.newbyteorder('=').name] + [str(d) for d in a.shape]))
with open(os.path.join(out, 'manifest.txt'), 'w') as f:
    f.write('\n'.join(lines) + '\n')
with open(os.path.join(out, 'files.txt'), 'w') as f:
    f.write(' '.join(np.load(os.path.join(out, 'stored.npz')).files) + '\n')
)PY";
  std::string log;
  REQUIRE(run_python(dir, script, log) == 0);
  INFO(log);
  std::vector<std::vector<std::string>> members;
  std::ifstream manifest(dir / "manifest.txt");
  for (std::string line; std::getline(manifest, line);) {
    if (!line.empty()) members.push_back(words(line));
  }
  REQUIRE(members.size() == 7);
  std::ifstream files(dir / "files.txt");
  std::string files_line;
  std::getline(files, files_line);
  const auto numpy_files = words(files_line);
  for (const char* archive : {"stored.npz", "deflated.npz"}) {
    INFO(archive);
    const fs::path path = dir / archive;
    // numpy's order is the archive's order: index k is NpzFile.files[k].
    const imio::Metadata meta = imio::immeta(path);
    std::vector<std::string> keys;
    for (const imio::Value& v : meta.at("keys").get<imio::Value::List>()) keys.push_back(v.get<std::string>());
    CHECK(keys == numpy_files);
    for (const auto& m : members) {
      INFO(m[0]);
      Shape shape;
      for (std::size_t i = 2; i < m.size(); ++i) shape.push_back(std::stoull(m[i]));
      const auto k = static_cast<std::size_t>(std::find(keys.begin(), keys.end(), m[0]) - keys.begin());
      REQUIRE(k < keys.size());
      const NDArray by_key = imio::imread(path, {.kwargs = {{"key", m[0]}}});
      const NDArray by_index = imio::imread(path, {.index = k});
      CHECK(by_key == by_index);
      CHECK(by_key.dtype() == imio::dtype_from_name(m[1]));
      CHECK(by_key.shape() == shape);
      const Bytes expected = read_file(dir / (m[0] + ".raw"));
      REQUIRE(by_key.nbytes() == expected.size());
      CHECK(std::equal(by_key.bytes(), by_key.bytes() + by_key.nbytes(), expected.begin()));
      // improps equals imread for the same arguments (D11), from the header
      CHECK(imio::improps(path, {.index = k}) == imio::ImageProperties{.shape = shape, .dtype = by_key.dtype()});
      CHECK(imio::immeta(path, {.kwargs = {{"key", m[0] + ".npy"}}}).get<std::string>("key") == m[0]);
      // the same from memory
      CHECK(imio::imread(read_file(path), {.index = k}) == by_key);
    }
    // iter yields the members in order
    std::size_t n = 0;
    for (const NDArray& a : imio::imiter(path)) {
      CHECK(a == imio::imread(path, {.index = n}));
      ++n;
    }
    CHECK(n == members.size());
    // the members differ in shape: index=all is a DecodeError naming two of them
    const auto msg = message_of<imio::DecodeError>([&] { imio::imread(path, {.index = imio::all}); });
    CHECK(contains(msg, "cannot stack"));
    CHECK_THROWS_AS(imio::improps(path, {.index = imio::all}), imio::DecodeError);
  }
}

TEST_CASE("npz: archives imio wrote are read by numpy.load, stored and deflated, named and positional", "[npz][numpy]") {
  REQUIRE_NUMPY();
  imio_test::TempDir dir;
  const DType dtypes[] = {DType::bool_,  DType::uint8, DType::uint16,  DType::uint32,  DType::uint64, DType::int8,
                          DType::int16, DType::int32, DType::int64, DType::float16, DType::float32, DType::float64};
  std::vector<NDArray> arrays;
  std::string manifest;
  for (std::size_t i = 0; i < std::size(dtypes); ++i) {
    arrays.push_back(sample({i + 1, 3}, dtypes[i], static_cast<std::uint32_t>(i)));
    write_file(dir / ("arr_" + std::to_string(i) + ".raw"),
               std::span<const std::byte>(arrays.back().bytes(), arrays.back().nbytes()));
    manifest += "arr_" + std::to_string(i) + " " + std::string(imio::name(dtypes[i])) + "\n";
  }
  write_file(dir / "manifest.txt", imio_test::to_bytes(manifest));
  imio::imwrite(dir / "deflated.npz", std::span<const NDArray>(arrays));
  imio::imwrite(dir / "stored.npz", std::span<const NDArray>(arrays), {.kwargs = {{"compress", false}}});
  {
    // two writes on one handle, the second named
    imio::ImageFile f = imio::imopen(dir / "named.npz", "w");
    f.write(arrays[0]);
    f.write(std::span<const NDArray>(arrays.data() + 1, 2),
            {.kwargs = {{"keys", imio::Value::List{imio::Value("first"), imio::Value("second")}}}});
    f.close();
  }
  // a stream that cannot seek: the archive streams out member by member
  std::ostringstream stream;
  imio::imwrite(stream, std::span<const NDArray>(arrays), {.extension = ".npz"});
  const std::string streamed = stream.str();
  write_file(dir / "streamed.npz", imio_test::to_bytes(streamed));
  static constexpr std::string_view script = R"PY(
import os, sys, zipfile
import numpy as np
out = sys.argv[1]
names = [l.split() for l in open(os.path.join(out, 'manifest.txt')) if l.strip()]
for archive, method in (('deflated', zipfile.ZIP_DEFLATED), ('stored', zipfile.ZIP_STORED), ('streamed', zipfile.ZIP_DEFLATED)):
    path = os.path.join(out, archive + '.npz')
    with zipfile.ZipFile(path) as z:
        assert z.testzip() is None, archive
        assert all(i.compress_type == method for i in z.infolist()), archive
    with np.load(path) as f:
        assert f.files == [n for n, _ in names], (archive, f.files)
        for key, dtype in names:
            a = f[key]
            assert a.dtype == np.dtype(dtype), (archive, key, a.dtype)
            raw = open(os.path.join(out, key + '.raw'), 'rb').read()
            if a.dtype == bool:
                assert a.tobytes() == bytes(b & 1 for b in raw), (archive, key)
            else:
                assert a.tobytes() == raw, (archive, key)
with np.load(os.path.join(out, 'named.npz')) as f:
    assert f.files == ['arr_0', 'first', 'second'], f.files
print('ok')
)PY";
  std::string log;
  CHECK(run_python(dir, script, log) == 0);
  INFO(log);
  CHECK(contains(log, "ok"));
  // and imio reads back what it wrote
  for (std::size_t i = 0; i < arrays.size(); ++i) {
    CHECK(imio::imread(dir / "stored.npz", {.index = i}) == arrays[i]);
    CHECK(imio::imread(dir / "streamed.npz", {.index = i}) == arrays[i]);
  }
  CHECK(imio::imread(dir / "named.npz", {.kwargs = {{"key", "second"}}}) == arrays[2]);
}

TEST_CASE("npz: index, key and index=all follow imageio's NPZ plugin", "[npz]") {
  const NDArray both[] = {sample({4, 5}, DType::int16, 3), sample({4, 5}, DType::int16, 4)};
  const NDArray& a = both[0];
  const NDArray& b = both[1];
  const Bytes npz = *imio::imwrite("<bytes>", std::span<const NDArray>(both), {.extension = ".npz"});
  CHECK(imio::imread(npz) == a);  // index none: the first member
  CHECK(imio::imread(npz, {.index = 1}) == b);
  const NDArray stack = imio::imread(npz, {.index = imio::all});
  CHECK(stack.shape() == Shape{2, 4, 5});
  CHECK(std::memcmp(stack.bytes() + a.nbytes(), b.bytes(), b.nbytes()) == 0);
  CHECK(imio::improps(npz, {.index = imio::all}) ==
        imio::ImageProperties{.shape = {2, 4, 5}, .dtype = DType::int16, .n_images = 2, .is_batch = true});
  CHECK(imio::improps(npz) == imio::ImageProperties{.shape = {4, 5}, .dtype = DType::int16});
  const auto idx = message_of<imio::IndexError>([&] { imio::imread(npz, {.index = 2}); });
  CHECK(contains(idx, "holds 2 arrays"));
  CHECK_THROWS_AS(imio::improps(npz, {.index = 2}), imio::IndexError);
  const auto key = message_of<imio::IndexError>([&] { imio::imread(npz, {.kwargs = {{"key", "nope"}}}); });
  CHECK(contains(key, "arr_0, arr_1"));
  CHECK_THROWS_AS(imio::imread(npz, {.index = 1, .kwargs = {{"key", "arr_0"}}}), imio::ArgumentError);
  CHECK_THROWS_AS(imio::imread(npz, {.kwargs = {{"rotate", true}}}), imio::ArgumentError);
  // the imageio name selects the plugin (D1)
  CHECK(imio::imread(npz, {.plugin = "NPZ"}) == a);
  // metadata: the member's header, its key and every key
  const imio::Metadata meta = imio::immeta(npz, {.index = 1});
  CHECK(meta.get<std::string>("key") == "arr_1");
  CHECK(meta.at("keys").get<imio::Value::List>().size() == 2);
  CHECK(meta.contains("descr"));
}

TEST_CASE("npz: an empty archive holds no images", "[npz]") {
  // the end record alone, as numpy.savez writes it for no arrays
  Bytes empty(22, std::byte{0});
  const unsigned char sig[] = {'P', 'K', 5, 6};
  std::memcpy(empty.data(), sig, 4);
  CHECK_THROWS_AS(imio::imread(empty, {.extension = ".npz"}), imio::IndexError);
  CHECK_THROWS_AS(imio::imread(empty, {.index = imio::all, .extension = ".npz"}), imio::IndexError);
  CHECK(imio::immeta(empty, {.extension = ".npz"}).at("keys").get<imio::Value::List>().empty());
  std::size_t n = 0;
  for (const NDArray& x : imio::imiter(empty, {.extension = ".npz"})) n += x.size() > 0 ? 1 : 1;
  CHECK(n == 0);
}

TEST_CASE("npz: a zip of other files is not an .npz; an .npz with a foreign member fails naming it", "[npz]") {
  imio_test::TempDir dir;
  // a .npz member that is not a .npy array: a stored member "notes.txt"
  const NDArray a = sample({2, 2}, DType::uint8, 5);
  Bytes npz = *imio::imwrite("<bytes>", a, {.extension = ".npz", .kwargs = {{"compress", false}}});
  // rename the member in both headers (same length): arr_0.npy → notes.txt
  std::string text = imio_test::to_string(npz);
  for (std::size_t at = text.find("arr_0.npy"); at != std::string::npos; at = text.find("arr_0.npy", at + 1)) {
    text.replace(at, 9, "notes.txt");
  }
  const Bytes foreign = imio_test::to_bytes(text);
  CHECK_THROWS_AS(imio::imread(foreign), imio::NoPluginError);  // no name: not an .npz
  // named .npz it is one: numpy.load reads any member (its key is the whole name)
  CHECK(imio::imread(foreign, {.extension = ".npz", .kwargs = {{"key", "notes.txt"}}}) == a);
  // a member that is not a .npy array is a DecodeError naming it
  std::string not_npy = text;
  not_npy.replace(not_npy.find("NUMPY"), 5, "NUMPX");
  const auto msg = message_of<imio::DecodeError>([&] { imio::imread(imio_test::to_bytes(not_npy), {.extension = ".npz"}); });
  CHECK(contains(msg, "notes.txt"));
  CHECK(contains(msg, "not a .npy array"));
}

TEST_CASE("npz: damaged archives are DecodeErrors within a second, never a crash", "[npz][hostile]") {
  for (const bool compress : {false, true}) {
    INFO("compress " << compress);
    const Bytes good = small_npz(compress);
    const NDArray first = imio::imread(good, {.extension = ".npz"});
    // every truncation
    for (std::size_t n = 0; n < good.size(); ++n) {
      const Bytes cut(good.begin(), good.begin() + static_cast<std::ptrdiff_t>(n));
      try {
        imio::imread(cut, {.extension = ".npz"});
        FAIL("a truncated archive of " << n << " bytes was read");
      } catch (const imio::DecodeError&) {
      } catch (const imio::NoPluginError&) {
      }
    }
    // random corruption: an error or (in padding and names) the same pixels, never a crash
    std::mt19937 rng(11);
    const auto start = std::chrono::steady_clock::now();
    for (int trial = 0; trial < 400; ++trial) {
      Bytes bad = good;
      for (int k = 0; k < 3; ++k) bad[rng() % bad.size()] = static_cast<std::byte>(rng() & 0xFF);
      try {
        for (std::size_t i = 0; i < 2; ++i) {
          imio::improps(bad, {.index = i, .extension = ".npz"});
          imio::imread(bad, {.index = i, .extension = ".npz"});
        }
      } catch (const imio::Error&) {
      }
    }
    CHECK(std::chrono::steady_clock::now() - start < std::chrono::duration<double>(imio_test::time_bound(20)));
    CHECK(first.shape() == Shape{3, 4});
  }
}

TEST_CASE("npz: lying sizes fail before anything is allocated", "[npz][hostile]") {
  const Bytes good = small_npz(true);
  std::string text = imio_test::to_string(good);
  // the central directory's uncompressed size of the first member → 2**32-2 (no zip64 needed)
  const std::size_t cd = text.find(std::string("PK\x01\x02", 4));
  REQUIRE(cd != std::string::npos);
  Bytes lying = good;
  for (std::size_t i = 0; i < 4; ++i) lying[cd + 24 + i] = static_cast<std::byte>(i == 0 ? 0xFE : 0xFF);
  const auto start = std::chrono::steady_clock::now();
  const auto msg = message_of<imio::DecodeError>([&] { imio::imread(lying, {.extension = ".npz"}); });
  CHECK(contains(msg, "more than deflate can give"));
  // a member count larger than the directory can hold
  Bytes count = good;
  const std::size_t end = text.rfind(std::string("PK\x05\x06", 4));
  count[end + 10] = std::byte{0xFF};
  count[end + 11] = std::byte{0x7F};
  CHECK_THROWS_AS(imio::imread(count, {.extension = ".npz"}), imio::DecodeError);
  // a member whose header promises more data than the member holds: truncated, not allocated
  const NDArray small = sample({2}, DType::uint8, 1);
  const Bytes npz = *imio::imwrite("<bytes>", small, {.extension = ".npz", .kwargs = {{"compress", false}}});
  std::string h = imio_test::to_string(npz);
  const std::size_t shape = h.find("(2,)");
  REQUIRE(shape != std::string::npos);
  h.replace(shape, 4, "(9,)");
  const auto truncated = message_of<imio::DecodeError>([&] { imio::imread(imio_test::to_bytes(h), {.extension = ".npz"}); });
  CHECK(contains(truncated, "truncated"));
  CHECK(contains(truncated, "arr_0.npy"));
  CHECK_THROWS_AS(imio::improps(imio_test::to_bytes(h), {.extension = ".npz"}), imio::DecodeError);
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::duration<double>(imio_test::time_bound(1)));
}

TEST_CASE("npz: Limits::max_bytes bounds the member arrays", "[npz]") {
  const NDArray big = sample({1000, 1000}, DType::uint8, 9);
  const Bytes npz = *imio::imwrite("<bytes>", big, {.extension = ".npz"});
  CHECK_THROWS_AS(imio::imread(npz, {.extension = ".npz", .limits = {.max_bytes = 100000}}), imio::LimitError);
  CHECK(imio::imread(npz, {.extension = ".npz"}) == big);
}
