// The normalised photo metadata entries (docs/metadata.md): the core's
// block readers applied to the raw blocks a plugin found.
#include <imio/exif.hpp>
#include <imio/icc.hpp>
#include <imio/iptc.hpp>
#include <imio/photo_metadata.hpp>

#include <cstdint>

namespace imio {
namespace {

const Bytes* bytes_at(const Metadata& meta, const char* key) {
  const Value* v = meta.lookup(key);
  return v != nullptr && v->is<Bytes>() ? &v->ref<Bytes>() : nullptr;
}

// IFD0's Orientation (EXIF 2.32 §4.6.4 A), 0 when absent or not 1…8.
int exif_tags_orientation(const Metadata& meta) {
  const Value* tags = meta.lookup("exif_tags");
  if (tags == nullptr || !tags->is<Dict>()) return 0;
  const Value* ifd0 = tags->ref<Dict>().lookup("IFD0");
  if (ifd0 == nullptr || !ifd0->is<Dict>()) return 0;
  const Value* o = ifd0->ref<Dict>().lookup("Orientation");
  if (o == nullptr || !o->is<std::int64_t>()) return 0;
  const std::int64_t v = o->ref<std::int64_t>();
  return v >= 1 && v <= 8 ? static_cast<int>(v) : 0;
}

}  // namespace

void add_photo_metadata(Metadata& meta, int format_orientation) {
  if (const Bytes* exif = bytes_at(meta, "exif"); exif != nullptr && !meta.contains("exif_tags")) {
    meta.set("exif_tags", read_exif_tags(*exif));
  }
  if (const Bytes* iim = bytes_at(meta, "iptc"); iim != nullptr && !meta.contains("iptc_tags")) {
    meta.set("iptc_tags", read_iptc_tags(*iim));
  }
  if (const Bytes* icc = bytes_at(meta, "icc_profile"); icc != nullptr && !meta.contains("icc_description")) {
    meta.set("icc_description", icc_profile_description(*icc));
  }
  if (meta.contains("orientation")) return;
  const int orientation =
      format_orientation >= 1 && format_orientation <= 8 ? format_orientation : exif_tags_orientation(meta);
  if (orientation != 0) meta.set("orientation", std::int64_t{orientation});
}

}  // namespace imio
