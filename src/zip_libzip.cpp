// Zip members through libzip (spec §2.3).
#include <zip.h>

#include <memory>

#include <fmt/format.h>

#include "spool.hpp"
#include "zip_member.hpp"

namespace imio::detail {
namespace {

namespace fs = std::filesystem;

std::string error_text(int code) {
  zip_error_t e;
  zip_error_init_with_code(&e, code);
  std::string text = zip_error_strerror(&e);
  zip_error_fini(&e);
  return text;
}

struct ArchiveCloser {
  void operator()(zip_t* za) const noexcept { zip_discard(za); }
};
using Archive = std::unique_ptr<zip_t, ArchiveCloser>;

struct FileCloser {
  void operator()(zip_file_t* f) const noexcept { zip_fclose(f); }
};

Archive open_archive(const fs::path& archive, int flags) {
  int code = 0;
  zip_t* za = zip_open(archive.c_str(), flags, &code);
  if (za != nullptr) return Archive(za);
  if (code == ZIP_ER_NOENT) throw FileNotFoundError(fmt::format("the zip archive '{}' does not exist", archive.string()));
  if (code == ZIP_ER_NOZIP || code == ZIP_ER_INCONS) {
    throw IOError(fmt::format("'{}' is not a zip archive ({})", archive.string(), error_text(code)));
  }
  throw IOError(fmt::format("cannot open the zip archive '{}': {}", archive.string(), error_text(code)));
}

void check_member_name(const fs::path& archive, const std::string& member) {
  if (member.empty() || member.back() == '/') {
    throw IOError(fmt::format("'{}/{}' names a folder of the zip archive, not a member", archive.string(), member));
  }
}

}  // namespace

std::unique_ptr<ByteSource> zip_member_source(const fs::path& archive, const std::string& member,
                                              std::uint64_t max_bytes) {
  check_member_name(archive, member);
  Archive za = open_archive(archive, ZIP_RDONLY);
  const zip_int64_t index = zip_name_locate(za.get(), member.c_str(), 0);
  if (index < 0) {
    // spec E19: imageio raises KeyError; imio maps it to FileNotFoundError.
    throw FileNotFoundError(fmt::format("the zip archive '{}' has no member '{}'", archive.string(), member));
  }
  const auto at = static_cast<zip_uint64_t>(index);
  Spool spool(max_bytes);
  zip_stat_t st;
  zip_stat_init(&st);
  if (zip_stat_index(za.get(), at, 0, &st) == 0 && (st.valid & ZIP_STAT_SIZE) != 0) spool.expect(st.size);

  std::unique_ptr<zip_file_t, FileCloser> file(zip_fopen_index(za.get(), at, 0));
  if (!file) {
    throw IOError(fmt::format("cannot read the member '{}' of the zip archive '{}': {}", member, archive.string(),
                              zip_strerror(za.get())));
  }
  std::byte chunk[65536];
  for (;;) {
    const zip_int64_t got = zip_fread(file.get(), chunk, sizeof chunk);
    if (got == 0) break;
    if (got < 0) {
      // CRC mismatches and broken deflate streams: damaged data.
      throw DecodeError(fmt::format("the member '{}' of the zip archive '{}' is damaged: {}", member,
                                    archive.string(), zip_file_strerror(file.get())));
    }
    spool.append(chunk, static_cast<std::size_t>(got));
  }
  return spool.finish();
}

void zip_check_writable(const fs::path& archive, const std::string& member) {
  check_member_name(archive, member);
  std::error_code ec;
  if (fs::exists(archive, ec)) open_archive(archive, ZIP_RDONLY);
}

void zip_put_member(const fs::path& archive, const std::string& member, const fs::path& data) {
  Archive za = open_archive(archive, ZIP_CREATE);
  zip_source_t* src = zip_source_file(za.get(), data.c_str(), 0, -1);
  if (src == nullptr) {
    throw IOError(fmt::format("cannot add the member '{}' to the zip archive '{}': {}", member, archive.string(),
                              zip_strerror(za.get())));
  }
  // Replace, not append a duplicate as imageio does (docs/resources.md).
  if (zip_file_add(za.get(), member.c_str(), src, ZIP_FL_OVERWRITE | ZIP_FL_ENC_UTF_8) < 0) {
    zip_source_free(src);
    throw IOError(fmt::format("cannot add the member '{}' to the zip archive '{}': {}", member, archive.string(),
                              zip_strerror(za.get())));
  }
  // zip_close writes the new archive into a temporary sibling and renames
  // it over the old one only when complete; on failure the archive is as it was.
  if (zip_close(za.get()) != 0) {
    throw IOError(fmt::format("cannot write the zip archive '{}': {}", archive.string(), zip_strerror(za.get())));
  }
  (void)za.release();  // closed
}

}  // namespace imio::detail
