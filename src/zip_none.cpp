// Zip members in a build without libzip (IMIO_WITH_ZIP=OFF or not found):
// recognised, and refused with a message that says so.
#include <fmt/format.h>

#include "zip_member.hpp"

namespace imio::detail {
namespace {

[[noreturn]] void unsupported(const std::filesystem::path& archive, const std::string& member, const char* verb) {
  throw IOError(fmt::format("'{}' is a member of the zip archive '{}'; this build of imio cannot {} zip members "
                            "(it was built without libzip: IMIO_WITH_ZIP)",
                            member, archive.string(), verb));
}

}  // namespace

std::unique_ptr<ByteSource> zip_member_source(const std::filesystem::path& archive, const std::string& member,
                                              std::uint64_t) {
  unsupported(archive, member, "read");
}

void zip_check_writable(const std::filesystem::path& archive, const std::string& member) {
  unsupported(archive, member, "write");
}

void zip_put_member(const std::filesystem::path& archive, const std::string& member, const std::filesystem::path&) {
  unsupported(archive, member, "write");
}

}  // namespace imio::detail
