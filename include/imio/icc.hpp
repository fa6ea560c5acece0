// imio — ICC profiles for plugins: the profile description.
#pragma once

#include <imio/export.hpp>

#include <cstddef>
#include <span>
#include <string>

namespace imio {

/// The description of an ICC profile: its 'desc' tag, a v2
/// textDescriptionType (ICC.1:2001-04 §6.5.17, the ASCII part) or a v4
/// multiLocalizedUnicodeType (ICC.1:2010 §10.13; the en-US record, else
/// the first), as UTF-8. Empty when the profile has no 'desc' tag.
/// @throws DecodeError naming the ICC profile and the reason when the
///   header or tag table is cut or declares more than 1024 tags, or the
///   'desc' tag or a string in it lies past the end.
IMIO_EXPORT std::string icc_profile_description(std::span<const std::byte> profile);

}  // namespace imio
