// Members of zip archives (spec §2.3): `archive.zip/inner/path.png`.
// Implemented with libzip (zip_libzip.cpp) or, without it, by zip_none.cpp,
// whose functions throw an IOError saying this build cannot do it.
#pragma once

#include <imio/plugin.hpp>

#include <filesystem>
#include <memory>
#include <string>

namespace imio::detail {

/// The decompressed member, as a seekable source (memory, or a temporary
/// file when large). FileNotFoundError naming archive and member when the
/// archive has no such member; IOError when the archive cannot be read;
/// LimitError beyond `max_bytes`; DecodeError for damaged data.
std::unique_ptr<ByteSource> zip_member_source(const std::filesystem::path& archive, const std::string& member,
                                              std::uint64_t max_bytes);

/// Checks, before anything is encoded, that `member` can be written into
/// `archive` (an existing archive must be a readable zip archive).
void zip_check_writable(const std::filesystem::path& archive, const std::string& member);

/// Adds `member` with the contents of the file `data`, replacing a member of
/// that name. The archive (created when absent) is rewritten into a
/// temporary sibling that replaces it only when complete, so a failure
/// leaves it as it was.
void zip_put_member(const std::filesystem::path& archive, const std::string& member, const std::filesystem::path& data);

}  // namespace imio::detail
