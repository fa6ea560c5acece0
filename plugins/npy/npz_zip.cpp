#include "npz_zip.hpp"

#include <imio/error.hpp>

#include <zlib.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <limits>

#include <fmt/format.h>

namespace imio::npy {
namespace {

constexpr std::uint32_t kLocalSig = 0x04034b50;
constexpr std::uint32_t kCentralSig = 0x02014b50;
constexpr std::uint32_t kEndSig = 0x06054b50;
constexpr std::uint32_t kEnd64Sig = 0x06064b50;
constexpr std::uint32_t kEnd64LocatorSig = 0x07064b50;
constexpr std::uint32_t kDescriptorSig = 0x08074b50;
constexpr std::uint32_t kSat32 = 0xFFFFFFFFu;
constexpr std::uint16_t kSat16 = 0xFFFF;
constexpr std::size_t kEndRecord = 22;
constexpr std::size_t kMaxComment = 0xFFFF;

std::uint64_t le(const unsigned char* p, std::size_t n) {
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < n; ++i) v |= static_cast<std::uint64_t>(p[i]) << (8 * i);
  return v;
}

void read_at(ByteSource& source, std::uint64_t pos, void* dst, std::size_t n, const char* what) {
  source.seek(pos);
  if (source.read(dst, n) != n) throw DecodeError(fmt::format("truncated .npz (zip) archive: it ends inside {}", what));
}

// The zip64 extra field (0x0001) replaces the saturated 32-bit fields, in
// the order: size, compressed size, local header offset.
void apply_zip64_extra(ZipEntry& e, const unsigned char* extra, std::size_t len, bool usize_sat, bool csize_sat,
                       bool offset_sat) {
  for (std::size_t at = 0; at + 4 <= len;) {
    const auto id = static_cast<std::uint16_t>(le(extra + at, 2));
    const auto size = static_cast<std::size_t>(le(extra + at + 2, 2));
    if (at + 4 + size > len) break;
    if (id == 0x0001) {
      const unsigned char* p = extra + at + 4;
      std::size_t left = size;
      auto take = [&](std::uint64_t& field, bool saturated) {
        if (!saturated) return;
        if (left < 8) throw DecodeError(fmt::format("the zip64 field of member '{}' is too short", e.name));
        field = le(p, 8);
        p += 8;
        left -= 8;
      };
      take(e.size, usize_sat);
      take(e.compressed_size, csize_sat);
      take(e.local_header_offset, offset_sat);
      return;
    }
    at += 4 + size;
  }
  if (usize_sat || csize_sat || offset_sat) {
    throw DecodeError(fmt::format("member '{}' has saturated 32-bit sizes and no zip64 field", e.name));
  }
}

// Where the member's data start: after its local header, whose name and
// extra lengths may differ from the central directory's.
std::uint64_t data_offset(ByteSource& source, std::uint64_t archive_size, const ZipEntry& e) {
  std::array<unsigned char, 30> h{};
  if (e.local_header_offset > archive_size || archive_size - e.local_header_offset < h.size()) {
    throw DecodeError(fmt::format("the local header of member '{}' lies past the end of the archive", e.name));
  }
  read_at(source, e.local_header_offset, h.data(), h.size(), "a local file header");
  if (le(h.data(), 4) != kLocalSig) {
    throw DecodeError(fmt::format("member '{}': no local file header at offset {}", e.name, e.local_header_offset));
  }
  const std::uint64_t at = e.local_header_offset + h.size() + le(h.data() + 26, 2) + le(h.data() + 28, 2);
  if (at > archive_size || archive_size - at < e.compressed_size) {
    throw DecodeError(fmt::format("truncated .npz (zip) archive: member '{}' needs {} bytes after offset {}, the "
                                  "archive has {}",
                                  e.name, e.compressed_size, at, archive_size > at ? archive_size - at : 0));
  }
  return at;
}

// ---------------------------------------------------------------- member sources

class MemberSource final : public ByteSource {
 public:
  MemberSource(ByteSource& archive, const ZipEntry& entry, std::uint64_t data_at)
      : archive_(archive), entry_(entry), data_at_(data_at) {
    if (entry_.method == 8) {
      if (inflateInit2(&z_, -MAX_WBITS) != Z_OK) throw Error("zlib: inflateInit2 failed (out of memory)");
      z_open_ = true;
    }
  }
  ~MemberSource() override {
    if (z_open_) inflateEnd(&z_);
  }
  MemberSource(const MemberSource&) = delete;
  MemberSource& operator=(const MemberSource&) = delete;

  std::size_t read(void* dst, std::size_t n) override {
    n = static_cast<std::size_t>(std::min<std::uint64_t>(n, entry_.size - pos_));
    if (n == 0) return 0;
    auto* out = static_cast<unsigned char*>(dst);
    const std::size_t got = entry_.method == 8 ? inflate_into(out, n) : copy_stored(out, n);
    crc_ = static_cast<std::uint32_t>(crc32_z(crc_, out, got));
    pos_ += got;
    if (pos_ == entry_.size) finish_check();
    return got;
  }

  void seek(std::uint64_t pos) override {
    if (pos < pos_) restart();
    std::array<unsigned char, 1 << 14> skip{};
    while (pos_ < pos) {
      const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(skip.size(), pos - pos_));
      if (read(skip.data(), n) == 0) return;  // past the end: reads return 0
    }
  }

  std::uint64_t tell() const override { return pos_; }
  std::optional<std::uint64_t> size() const override { return entry_.size; }

  std::optional<std::span<const std::byte>> contiguous() const override {
    if (entry_.method != 0) return std::nullopt;
    const auto whole = archive_.contiguous();
    if (!whole || whole->size() < data_at_ + entry_.size) return std::nullopt;
    return whole->subspan(static_cast<std::size_t>(data_at_), static_cast<std::size_t>(entry_.size));
  }

 private:
  std::size_t copy_stored(unsigned char* out, std::size_t n) {
    archive_.seek(data_at_ + pos_);
    const std::size_t got = archive_.read(out, n);
    if (got != n) throw DecodeError(fmt::format("member '{}' of the .npz archive is truncated", entry_.name));
    return got;
  }

  std::size_t inflate_into(unsigned char* out, std::size_t n) {
    std::size_t done = 0;
    while (done < n) {
      if (ended_) {
        throw DecodeError(fmt::format("member '{}' of the .npz archive inflates to {} bytes, its directory entry says {}",
                                      entry_.name, pos_ + done, entry_.size));
      }
      if (z_.avail_in == 0) {
        const std::uint64_t left = entry_.compressed_size - consumed_;
        if (left == 0) {
          throw DecodeError(fmt::format("member '{}' of the .npz archive: the deflate stream ends early", entry_.name));
        }
        const auto want = static_cast<std::size_t>(std::min<std::uint64_t>(in_.size(), left));
        archive_.seek(data_at_ + consumed_);
        const std::size_t got = archive_.read(in_.data(), want);
        if (got != want) throw DecodeError(fmt::format("member '{}' of the .npz archive is truncated", entry_.name));
        consumed_ += got;
        z_.next_in = in_.data();
        z_.avail_in = static_cast<uInt>(got);
      }
      const std::size_t chunk = std::min<std::size_t>(n - done, std::numeric_limits<uInt>::max());
      z_.next_out = out + done;
      z_.avail_out = static_cast<uInt>(chunk);
      const int rc = ::inflate(&z_, Z_NO_FLUSH);
      done += chunk - z_.avail_out;
      if (rc == Z_STREAM_END) {
        ended_ = true;
      } else if (rc != Z_OK && !(rc == Z_BUF_ERROR && z_.avail_out == 0)) {
        throw DecodeError(fmt::format("member '{}' of the .npz archive: broken deflate data ({})", entry_.name,
                                      z_.msg != nullptr ? z_.msg : "zlib error"));
      }
    }
    return done;
  }

  void finish_check() const {
    if (crc_ != entry_.crc32) {
      throw DecodeError(fmt::format("member '{}' of the .npz archive is damaged: CRC-32 {:08x}, the directory says "
                                    "{:08x}",
                                    entry_.name, crc_, entry_.crc32));
    }
  }

  void restart() {
    pos_ = 0;
    crc_ = 0;
    consumed_ = 0;
    ended_ = false;
    if (z_open_) {
      inflateReset(&z_);
      z_.avail_in = 0;
    }
  }

  ByteSource& archive_;
  ZipEntry entry_;
  std::uint64_t data_at_;
  std::uint64_t pos_ = 0;
  std::uint32_t crc_ = 0;
  z_stream z_{};
  bool z_open_ = false;
  bool ended_ = false;
  std::uint64_t consumed_ = 0;
  std::array<unsigned char, 1 << 16> in_{};
};

void put_le(std::string& out, std::uint64_t v, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) out += static_cast<char>((v >> (8 * i)) & 0xFF);
}

// 1980-01-01 00:00:00, the zip epoch: the archives are reproducible.
constexpr std::uint16_t kDosTime = 0;
constexpr std::uint16_t kDosDate = (0 << 9) | (1 << 5) | 1;

}  // namespace

bool has_zip_signature(std::span<const std::byte> first) noexcept {
  if (first.size() < 4) return false;
  const auto* p = reinterpret_cast<const unsigned char*>(first.data());
  const auto sig = static_cast<std::uint32_t>(le(p, 4));
  return sig == kLocalSig || sig == kEndSig;
}

std::vector<ZipEntry> read_central_directory(ByteSource& source, std::uint64_t size, std::uint64_t max_bytes) {
  if (size < kEndRecord) throw DecodeError("truncated .npz (zip) archive: shorter than a zip end record");
  // The end record: the last 22 bytes, or earlier by the length of a comment.
  const std::uint64_t tail_len = std::min<std::uint64_t>(size, kEndRecord + kMaxComment);
  std::vector<unsigned char> tail(static_cast<std::size_t>(tail_len));
  read_at(source, size - tail_len, tail.data(), tail.size(), "the end record");
  std::size_t end_at = std::string::npos;
  for (std::size_t i = tail.size() - kEndRecord + 1; i-- > 0;) {
    if (le(tail.data() + i, 4) == kEndSig && i + kEndRecord + le(tail.data() + i + 20, 2) <= tail.size()) {
      end_at = i;
      break;
    }
  }
  if (end_at == std::string::npos) {
    throw DecodeError("not a readable .npz (zip) archive: no end-of-central-directory record (truncated or damaged)");
  }
  const unsigned char* end = tail.data() + end_at;
  std::uint64_t count = le(end + 10, 2);
  std::uint64_t cd_size = le(end + 12, 4);
  std::uint64_t cd_offset = le(end + 16, 4);
  if (le(end + 4, 2) != 0 || le(end + 6, 2) != 0) throw DecodeError("multi-disk zip archives are not supported");
  const std::uint64_t end_pos = size - tail_len + end_at;
  if (count == kSat16 || cd_size == kSat32 || cd_offset == kSat32) {
    // ZIP64: a locator just before the end record points at the zip64 end record.
    if (end_pos < 20) throw DecodeError("zip64 archive without its end-record locator");
    std::array<unsigned char, 20> loc{};
    read_at(source, end_pos - 20, loc.data(), loc.size(), "the zip64 locator");
    if (le(loc.data(), 4) != kEnd64LocatorSig) throw DecodeError("zip64 archive without its end-record locator");
    const std::uint64_t rec_at = le(loc.data() + 8, 8);
    std::array<unsigned char, 56> rec{};
    if (rec_at > size || size - rec_at < rec.size()) throw DecodeError("the zip64 end record lies past the end");
    read_at(source, rec_at, rec.data(), rec.size(), "the zip64 end record");
    if (le(rec.data(), 4) != kEnd64Sig) throw DecodeError("no zip64 end record where its locator points");
    count = le(rec.data() + 32, 8);
    cd_size = le(rec.data() + 40, 8);
    cd_offset = le(rec.data() + 48, 8);
  }
  if (cd_offset > size || size - cd_offset < cd_size) {
    throw DecodeError(fmt::format("truncated .npz (zip) archive: its central directory ({} bytes at offset {}) lies "
                                  "past the end of the {} bytes",
                                  cd_size, cd_offset, size));
  }
  if (count > cd_size / 46) {
    throw DecodeError(fmt::format("the zip end record claims {} members in a central directory of {} bytes", count,
                                  cd_size));
  }
  if (cd_size > max_bytes) {
    throw LimitError(fmt::format("the zip central directory of {} bytes exceeds max_bytes ({})", cd_size, max_bytes));
  }
  std::vector<unsigned char> cd(static_cast<std::size_t>(cd_size));
  read_at(source, cd_offset, cd.data(), cd.size(), "the central directory");
  std::vector<ZipEntry> out;
  out.reserve(static_cast<std::size_t>(count));
  std::size_t at = 0;
  for (std::uint64_t i = 0; i < count; ++i) {
    if (cd.size() - at < 46 || le(cd.data() + at, 4) != kCentralSig) {
      throw DecodeError(fmt::format("the zip central directory is damaged at entry {}", i));
    }
    const unsigned char* h = cd.data() + at;
    const auto name_len = static_cast<std::size_t>(le(h + 28, 2));
    const auto extra_len = static_cast<std::size_t>(le(h + 30, 2));
    const auto comment_len = static_cast<std::size_t>(le(h + 32, 2));
    if (cd.size() - at - 46 < name_len + extra_len + comment_len) {
      throw DecodeError(fmt::format("the zip central directory is damaged at entry {}", i));
    }
    ZipEntry e;
    e.flags = static_cast<std::uint16_t>(le(h + 8, 2));
    e.method = static_cast<std::uint16_t>(le(h + 10, 2));
    e.crc32 = static_cast<std::uint32_t>(le(h + 16, 4));
    e.compressed_size = le(h + 20, 4);
    e.size = le(h + 24, 4);
    e.local_header_offset = le(h + 42, 4);
    e.name.assign(reinterpret_cast<const char*>(h + 46), name_len);
    apply_zip64_extra(e, h + 46 + name_len, extra_len, e.size == kSat32, e.compressed_size == kSat32,
                      e.local_header_offset == kSat32);
    if ((e.flags & 1u) != 0) throw DecodeError(fmt::format("member '{}' is encrypted", e.name));
    if (e.method != 0 && e.method != 8) {
      throw DecodeError(fmt::format("member '{}' uses zip compression method {} (imio reads stored (0) and deflate (8))",
                                    e.name, e.method));
    }
    if (e.method == 0 && e.compressed_size != e.size) {
      throw DecodeError(fmt::format("stored member '{}' has a compressed size ({}) other than its size ({})", e.name,
                                    e.compressed_size, e.size));
    }
    if (e.compressed_size > size) {
      throw DecodeError(fmt::format("member '{}' claims {} compressed bytes in an archive of {}", e.name,
                                    e.compressed_size, size));
    }
    // deflate expands at most ~1032:1; a larger claim is a lie.
    if (e.method == 8 && e.size / 1032 > e.compressed_size + 1) {
      throw DecodeError(fmt::format("member '{}' claims {} bytes from {} deflated bytes, more than deflate can give",
                                    e.name, e.size, e.compressed_size));
    }
    out.push_back(std::move(e));
    at += 46 + name_len + extra_len + comment_len;
  }
  return out;
}

std::unique_ptr<ByteSource> open_member(ByteSource& archive, std::uint64_t archive_size, const ZipEntry& entry) {
  const std::uint64_t at = data_offset(archive, archive_size, entry);
  return std::make_unique<MemberSource>(archive, entry, at);
}

// ---------------------------------------------------------------- writing

void ZipWriter::put(const void* data, std::size_t n) {
  if (n == 0) return;
  sink_.write(data, n);
  offset_ += n;
}

void ZipWriter::add(std::string_view name, std::span<const std::span<const std::byte>> parts, bool compress,
                    int level) {
  ZipEntry e;
  e.name = std::string(name);
  e.method = compress ? 8 : 0;
  e.flags = compress ? 0x08 : 0x00;  // deflated: sizes and CRC in a data descriptor
  e.local_header_offset = offset_;
  std::uint64_t total = 0;
  std::uint32_t crc = 0;
  if (!compress) {
    for (const auto& p : parts) {
      crc = static_cast<std::uint32_t>(crc32_z(crc, reinterpret_cast<const Bytef*>(p.data()), p.size()));
      total += p.size();
    }
    e.crc32 = crc;
    e.size = e.compressed_size = total;
  }
  // The local header: version 4.5 (zip64), the zip64 extra with both sizes.
  std::string h;
  put_le(h, kLocalSig, 4);
  put_le(h, 45, 2);
  put_le(h, e.flags, 2);
  put_le(h, e.method, 2);
  put_le(h, kDosTime, 2);
  put_le(h, kDosDate, 2);
  put_le(h, compress ? 0 : e.crc32, 4);
  put_le(h, kSat32, 4);
  put_le(h, kSat32, 4);
  put_le(h, e.name.size(), 2);
  put_le(h, 20, 2);
  h += e.name;
  put_le(h, 0x0001, 2);
  put_le(h, 16, 2);
  put_le(h, e.size, 8);
  put_le(h, e.compressed_size, 8);
  put(h.data(), h.size());
  if (!compress) {
    for (const auto& p : parts) put(p.data(), p.size());
  } else {
    z_stream z{};
    if (deflateInit2(&z, level, Z_DEFLATED, -MAX_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
      throw Error("zlib: deflateInit2 failed (out of memory)");
    }
    struct Ender {
      z_stream* z;
      ~Ender() { deflateEnd(z); }
    } ender{&z};
    std::vector<unsigned char> out(1 << 16);
    std::uint64_t csize = 0;
    auto pump = [&](const std::byte* data, std::size_t n, int flush) {
      z.next_in = reinterpret_cast<Bytef*>(const_cast<std::byte*>(data));
      z.avail_in = static_cast<uInt>(n);
      for (;;) {
        z.next_out = out.data();
        z.avail_out = static_cast<uInt>(out.size());
        const int rc = ::deflate(&z, flush);
        if (rc == Z_STREAM_ERROR) throw Error("zlib: deflate failed");
        const std::size_t produced = out.size() - z.avail_out;
        put(out.data(), produced);
        csize += produced;
        if (flush == Z_FINISH ? rc == Z_STREAM_END : (z.avail_in == 0 && z.avail_out != 0)) break;
      }
    };
    constexpr std::size_t kStep = std::size_t{1} << 30;  // avail_in is 32-bit
    for (const auto& p : parts) {
      crc = static_cast<std::uint32_t>(crc32_z(crc, reinterpret_cast<const Bytef*>(p.data()), p.size()));
      for (std::size_t done = 0; done < p.size(); done += kStep) {
        pump(p.data() + done, std::min(kStep, p.size() - done), Z_NO_FLUSH);
      }
      total += p.size();
    }
    pump(nullptr, 0, Z_FINISH);
    e.crc32 = crc;
    e.size = total;
    e.compressed_size = csize;
    std::string d;
    put_le(d, kDescriptorSig, 4);
    put_le(d, e.crc32, 4);
    put_le(d, e.compressed_size, 8);
    put_le(d, e.size, 8);
    put(d.data(), d.size());
  }
  entries_.push_back(std::move(e));
}

void ZipWriter::finish() {
  const std::uint64_t cd_offset = offset_;
  for (const ZipEntry& e : entries_) {
    const bool big_u = e.size >= kSat32, big_c = e.compressed_size >= kSat32, big_o = e.local_header_offset >= kSat32;
    std::string extra;
    if (big_u) put_le(extra, e.size, 8);
    if (big_c) put_le(extra, e.compressed_size, 8);
    if (big_o) put_le(extra, e.local_header_offset, 8);
    std::string h;
    put_le(h, kCentralSig, 4);
    put_le(h, 45 | (3 << 8), 2);  // made by: 4.5, Unix (permissions below)
    put_le(h, 45, 2);
    put_le(h, e.flags, 2);
    put_le(h, e.method, 2);
    put_le(h, kDosTime, 2);
    put_le(h, kDosDate, 2);
    put_le(h, e.crc32, 4);
    put_le(h, big_c ? kSat32 : e.compressed_size, 4);
    put_le(h, big_u ? kSat32 : e.size, 4);
    put_le(h, e.name.size(), 2);
    put_le(h, extra.empty() ? 0 : extra.size() + 4, 2);
    put_le(h, 0, 2);  // comment
    put_le(h, 0, 2);  // disk
    put_le(h, 0, 2);  // internal attributes
    put_le(h, std::uint64_t{0100600} << 16, 4);  // a regular file, rw-------, as zipfile writes numpy's members
    put_le(h, big_o ? kSat32 : e.local_header_offset, 4);
    h += e.name;
    if (!extra.empty()) {
      put_le(h, 0x0001, 2);
      put_le(h, extra.size(), 2);
      h += extra;
    }
    put(h.data(), h.size());
  }
  const std::uint64_t cd_size = offset_ - cd_offset;
  const std::uint64_t count = entries_.size();
  std::string end;
  if (count >= kSat16 || cd_size >= kSat32 || cd_offset >= kSat32) {
    const std::uint64_t rec_at = offset_;
    put_le(end, kEnd64Sig, 4);
    put_le(end, 44, 8);
    put_le(end, 45, 2);
    put_le(end, 45, 2);
    put_le(end, 0, 4);
    put_le(end, 0, 4);
    put_le(end, count, 8);
    put_le(end, count, 8);
    put_le(end, cd_size, 8);
    put_le(end, cd_offset, 8);
    put_le(end, kEnd64LocatorSig, 4);
    put_le(end, 0, 4);
    put_le(end, rec_at, 8);
    put_le(end, 1, 4);
  }
  put_le(end, kEndSig, 4);
  put_le(end, 0, 2);
  put_le(end, 0, 2);
  put_le(end, std::min<std::uint64_t>(count, kSat16), 2);
  put_le(end, std::min<std::uint64_t>(count, kSat16), 2);
  put_le(end, std::min<std::uint64_t>(cd_size, kSat32), 4);
  put_le(end, std::min<std::uint64_t>(cd_offset, kSat32), 4);
  put_le(end, 0, 2);
  put(end.data(), end.size());
}

}  // namespace imio::npy
