#include <imio/resource.hpp>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <utility>

#include "uri.hpp"

namespace imio {

// Bytes moved into a resource, shared by its copies: the header stays free
// of <memory> (docs/performance.md, "Header cost").
struct ImageResource::Owned {
  explicit Owned(Bytes&& b) noexcept : bytes(std::move(b)) {}
  const Bytes bytes;
  std::atomic<std::size_t> references{1};
};

ImageResource::ImageResource(const char* uri) : kind_(Kind::text), text_(uri == nullptr ? "" : uri) {}
ImageResource::ImageResource(std::string uri) : kind_(Kind::text), text_(std::move(uri)) {}
ImageResource::ImageResource(std::string_view uri) : kind_(Kind::text), text_(uri) {}
ImageResource::ImageResource(PathText path) : kind_(Kind::path), path_(std::move(path.native)) {}
ImageResource::ImageResource(std::span<const std::byte> data) noexcept : kind_(Kind::memory), memory_(data) {}
ImageResource::ImageResource(const Bytes& data) noexcept : kind_(Kind::memory), memory_(data) {}
ImageResource::ImageResource(Bytes&& data) : kind_(Kind::memory), owned_(new Owned(std::move(data))) {
  memory_ = owned_->bytes;
}
ImageResource::ImageResource(std::istream& in) noexcept : kind_(Kind::istream), in_(&in) {}
ImageResource::ImageResource(std::ostream& out) noexcept : kind_(Kind::ostream), out_(&out) {}
ImageResource::ImageResource(std::iostream& io) noexcept : kind_(Kind::iostream), in_(&io), out_(&io) {}

ImageResource::ImageResource(const ImageResource& other)
    : kind_(other.kind_),
      text_(other.text_),
      path_(other.path_),
      memory_(other.memory_),
      owned_(other.owned_),
      in_(other.in_),
      out_(other.out_) {
  if (owned_ != nullptr) owned_->references.fetch_add(1, std::memory_order_relaxed);
}

ImageResource::ImageResource(ImageResource&& other) noexcept
    : kind_(other.kind_),
      text_(std::move(other.text_)),
      path_(std::move(other.path_)),
      memory_(std::exchange(other.memory_, {})),
      owned_(std::exchange(other.owned_, nullptr)),
      in_(other.in_),
      out_(other.out_) {}

ImageResource& ImageResource::operator=(const ImageResource& other) {
  if (this != &other) *this = ImageResource(other);
  return *this;
}

ImageResource& ImageResource::operator=(ImageResource&& other) noexcept {
  if (this != &other) {
    release();
    kind_ = other.kind_;
    text_ = std::move(other.text_);
    path_ = std::move(other.path_);
    memory_ = std::exchange(other.memory_, {});
    owned_ = std::exchange(other.owned_, nullptr);
    in_ = other.in_;
    out_ = other.out_;
  }
  return *this;
}

ImageResource::~ImageResource() { release(); }

void ImageResource::release() noexcept {
  if (owned_ != nullptr && owned_->references.fetch_sub(1, std::memory_order_acq_rel) == 1) delete owned_;
  owned_ = nullptr;
}

std::string ImageResource::describe() const {
  if (kind_ != Kind::path && kind_ != Kind::text) return detail::describe(*this, {});
  return detail::describe(*this, detail::classify(*this, IoMode::read));
}

namespace detail {
namespace {

bool starts_with_nocase(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && to_lower(s.substr(0, prefix.size())) == prefix;
}

std::filesystem::path home_directory() {
  if (const char* home = std::getenv("HOME"); home != nullptr && *home != '\0') return home;
  return "/";
}

// "~" and "~/x" expand to the home directory (spec §2.1: only a leading ~).
std::filesystem::path expand_user(const std::string& text) {
  if (text == "~") return home_directory();
  if (text.rfind("~/", 0) == 0) return home_directory() / text.substr(2);
  return std::filesystem::path(text);
}

// An absolute path that absolute() and lexically_normal() return unchanged:
// from the root, no empty, "." or ".." component, no trailing separator.
// Most paths a program passes are such; recognising them costs less than
// the two rebuilds (issue #26 item 5: classification was a tenth of a small
// file's read).
bool is_normal_absolute(std::string_view s) {
  if (s.size() < 2 || s.front() != '/' || s.back() == '/') return false;
  for (std::size_t start = 1; start <= s.size();) {
    const std::size_t end = std::min(s.find('/', start), s.size());
    const std::string_view part = s.substr(start, end - start);
    if (part.empty() || part == "." || part == "..") return false;
    start = end + 1;
  }
  return true;
}

std::filesystem::path absolute_path(std::filesystem::path p) {
  if constexpr (std::filesystem::path::preferred_separator == '/') {
    if (is_normal_absolute(p.native())) return p;
  }
  std::error_code ec;
  auto abs = std::filesystem::absolute(p, ec);
  return (ec ? p : abs).lexically_normal();
}

// Whether `s` holds ".zip/" in any case (split_zip's candidates).
bool mentions_zip(std::string_view s) {
  const auto lower = [s](std::size_t i) { return s[i] >= 'A' && s[i] <= 'Z' ? static_cast<char>(s[i] - 'A' + 'a') : s[i]; };
  for (std::size_t at = s.find('.'); at != std::string_view::npos && at + 5 <= s.size(); at = s.find('.', at + 1)) {
    if (lower(at + 1) == 'z' && lower(at + 2) == 'i' && lower(at + 3) == 'p' && s[at + 4] == '/') return true;
  }
  return false;
}

// spec §2.3: a ".zip/" (case-insensitive, not at position 0) splits archive
// and member when the archive part is not a folder and, for reads, exists as
// a file. A real folder named x.zip is a folder: the search goes on past it
// (so the split is at the longest prefix that exists as a file).
std::optional<ClassifiedUri> split_zip(const std::filesystem::path& abs, IoMode mode) {
  if (!mentions_zip(abs.native())) return std::nullopt;
  const std::string s = abs.string();
  const std::string lower = to_lower(s);
  for (std::size_t at = lower.find(".zip/"); at != std::string::npos; at = lower.find(".zip/", at + 1)) {
    if (at == 0) continue;
    const std::filesystem::path archive = s.substr(0, at + 4);
    std::error_code ec;
    if (std::filesystem::is_directory(archive, ec)) continue;
    if (mode == IoMode::read && !std::filesystem::is_regular_file(archive, ec)) return std::nullopt;
    std::string member = s.substr(at + 5);
    while (!member.empty() && (member.front() == '/' || member.front() == '\\')) member.erase(0, 1);
    return ClassifiedUri{.kind = UriKind::zip_member, .path = archive, .member = member, .text = {}};
  }
  return std::nullopt;
}

ClassifiedUri classify_path(std::filesystem::path p, IoMode mode) {
  auto abs = absolute_path(std::move(p));
  if (auto zip = split_zip(abs, mode)) return std::move(*zip);
  return {.kind = UriKind::path, .path = std::move(abs), .member = {}, .text = {}};
}

}  // namespace

std::string to_lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

std::string suffix_of(std::string_view name) {
  const auto slash = name.find_last_of("/\\");
  if (slash != std::string_view::npos) name.remove_prefix(slash + 1);
  const auto dot = name.rfind('.');
  if (dot == std::string_view::npos || dot == 0) return {};
  return to_lower(name.substr(dot));
}

std::string describe(const ImageResource& resource, const ClassifiedUri& uri) {
  using Kind = ImageResource::Kind;
  switch (resource.kind()) {
    case Kind::memory: return "<bytes>";
    case Kind::istream:
    case Kind::ostream:
    case Kind::iostream: return "<stream>";
    case Kind::path:
    case Kind::text: break;
  }
  switch (uri.kind) {
    case UriKind::path: return uri.path.string();
    case UriKind::zip_member: return (uri.path / uri.member).string();
    case UriKind::standard_image: return "imageio:" + uri.text;
    default: return resource.kind() == Kind::path ? resource.path() : resource.text();
  }
}

ClassifiedUri classify(const ImageResource& resource, IoMode mode) {
  using Kind = ImageResource::Kind;
  switch (resource.kind()) {
    case Kind::memory: return {.kind = UriKind::memory, .path = {}, .member = {}, .text = {}};
    case Kind::istream: return {.kind = UriKind::istream, .path = {}, .member = {}, .text = {}};
    case Kind::ostream: return {.kind = UriKind::ostream, .path = {}, .member = {}, .text = {}};
    case Kind::iostream:
      return {.kind = mode == IoMode::read ? UriKind::istream : UriKind::ostream, .path = {}, .member = {}, .text = {}};
    case Kind::path: return classify_path(std::filesystem::path(resource.path()), mode);
    case Kind::text: break;
  }
  const std::string& t = resource.text();
  if (starts_with_nocase(t, "imageio:")) {
    return {.kind = UriKind::standard_image, .path = {}, .member = {}, .text = to_lower(t.substr(8))};
  }
  if (starts_with_nocase(t, "http://") || starts_with_nocase(t, "https://")) {
    return {.kind = UriKind::http, .path = {}, .member = {}, .text = t};
  }
  if (starts_with_nocase(t, "ftp://") || starts_with_nocase(t, "ftps://")) {
    return {.kind = UriKind::ftp, .path = {}, .member = {}, .text = t};
  }
  if (t.rfind("file://", 0) == 0) return classify_path(expand_user(t.substr(7)), mode);
  if (t.rfind("<video", 0) == 0 || t.rfind("<screen>", 0) == 0 || t.rfind("<clipboard>", 0) == 0) {
    return {.kind = UriKind::device, .path = {}, .member = {}, .text = t};
  }
  if (mode == IoMode::write && t.rfind("<bytes>", 0) == 0) {
    return {.kind = UriKind::bytes_target, .path = {}, .member = {}, .text = t};
  }
  return classify_path(expand_user(t), mode);
}

std::string request_extension(const ClassifiedUri& uri, std::string_view explicit_extension) {
  if (!explicit_extension.empty()) {
    if (explicit_extension.front() != '.') {
      throw ArgumentError("extension '" + std::string(explicit_extension) +
                          "' must start with a dot (for example extension=\".png\")");
    }
    return to_lower(explicit_extension);
  }
  switch (uri.kind) {
    case UriKind::path: return suffix_of(uri.path.native());  // suffix_of looks past the last separator itself
    case UriKind::zip_member: return suffix_of(uri.member);
    case UriKind::standard_image: return suffix_of(uri.text);
    case UriKind::http:
    case UriKind::ftp: {
      // The suffix of the URL path: no query string or fragment (spec §2.9).
      std::string_view s = uri.text;
      s.remove_prefix(s.find("://") + 3);
      s = s.substr(0, s.find_first_of("?#"));
      const auto slash = s.find('/');
      return slash == std::string_view::npos ? std::string() : suffix_of(s.substr(slash));
    }
    default: return {};
  }
}

}  // namespace detail
}  // namespace imio
