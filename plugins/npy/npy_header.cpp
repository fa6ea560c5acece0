#include "npy_header.hpp"

#include <array>
#include <cstdint>
#include <cstring>
#include <optional>

#include <fmt/format.h>

namespace imio::npy {
namespace {

// numpy.lib.format.ARRAY_ALIGN: the data start at a multiple of this.
constexpr std::size_t kArrayAlign = 64;
// numpy.lib.format.GROWTH_AXIS_MAX_DIGITS: spaces reserved so the length of
// the first axis can be rewritten in place when an array grows.
constexpr std::size_t kGrowthAxisMaxDigits = 21;
// numpy's dimensions are npy_intp: at most 2^63 - 1 on 64-bit machines.
constexpr std::uint64_t kMaxDimension = static_cast<std::uint64_t>(INT64_MAX);

// The header as messages quote it: printable ASCII, the rest escaped, cut short.
std::string excerpt(std::string_view text) {
  constexpr std::size_t kMaxShown = 120;
  std::string out;
  for (std::size_t i = 0; i < text.size() && i < kMaxShown; ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c >= 0x20 && c < 0x7F) {
      out += static_cast<char>(c);
    } else {
      out += fmt::format("\\x{:02x}", c);
    }
  }
  if (text.size() > kMaxShown) out += "…";
  return out;
}

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_name_char(char c) { return is_digit(c) || c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

// A recursive-descent reader of the small subset of Python literal syntax a
// .npy header uses (numpy itself evaluates it with ast.literal_eval).
class DictLiteral {
 public:
  DictLiteral(std::string_view text, bool python2_longs) : text_(text), python2_longs_(python2_longs) {}

  HeaderDict parse() {
    HeaderDict dict;
    bool has_descr = false, has_order = false, has_shape = false;
    expect('{', "the header must be a dict starting with '{'");
    while (!consume('}')) {
      const std::size_t key_at = pos_;
      const std::string key = string_literal("a quoted key or '}'");
      expect(':', "':' after a key");
      if (key == "descr") {
        mark(has_descr, key, key_at);
        dict.descr = descr_value();
      } else if (key == "fortran_order") {
        mark(has_order, key, key_at);
        dict.fortran_order = bool_literal();
      } else if (key == "shape") {
        mark(has_shape, key, key_at);
        dict.shape = shape_tuple();
      } else {
        pos_ = key_at;
        fail(fmt::format("unexpected key '{}' (the header holds exactly descr, fortran_order and shape)", excerpt(key)));
      }
      if (consume(',')) continue;
      expect('}', "',' or '}' after a value");
      break;
    }
    skip_space();
    if (pos_ != text_.size()) fail("unexpected text after the dict");
    if (!has_descr) missing("descr");
    if (!has_order) missing("fortran_order");
    if (!has_shape) missing("shape");
    return dict;
  }

 private:
  [[noreturn]] void fail(std::string_view what) const {
    throw DecodeError(fmt::format("malformed .npy header: {} at byte {} of \"{}\"", what, pos_, excerpt(text_)));
  }
  [[noreturn]] void missing(std::string_view key) const {
    throw DecodeError(fmt::format("malformed .npy header: the key '{}' is missing in \"{}\"", key, excerpt(text_)));
  }
  void mark(bool& seen, std::string_view key, std::size_t at) {
    if (seen) {
      pos_ = at;
      fail(fmt::format("the key '{}' is given twice", key));
    }
    seen = true;
  }

  bool at_end() const { return pos_ >= text_.size(); }
  char peek() const { return at_end() ? '\0' : text_[pos_]; }
  void skip_space() {
    while (!at_end() && is_space(text_[pos_])) ++pos_;
  }
  bool consume(char c) {
    skip_space();
    if (peek() != c || at_end()) return false;
    ++pos_;
    return true;
  }
  void expect(char c, std::string_view what) {
    if (!consume(c)) fail(fmt::format("expected {}", what));
  }

  // 'text' or "text"; a backslash keeps the next character (the values we
  // accept never contain escapes, so they need not be decoded).
  std::string string_literal(std::string_view what) {
    skip_space();
    const char quote = peek();
    if (quote != '\'' && quote != '"') fail(fmt::format("expected {}", what));
    const std::size_t start = ++pos_;
    std::string out;
    while (!at_end() && text_[pos_] != quote) {
      if (text_[pos_] == '\n') break;
      if (text_[pos_] == '\\' && pos_ + 1 < text_.size()) ++pos_;
      out += text_[pos_++];
    }
    if (at_end() || text_[pos_] != quote) {
      pos_ = start - 1;
      fail("unterminated string");
    }
    ++pos_;
    return out;
  }

  bool keyword(std::string_view word) {
    if (text_.substr(pos_, word.size()) != word) return false;
    const std::size_t end = pos_ + word.size();
    if (end < text_.size() && is_name_char(text_[end])) return false;
    pos_ = end;
    return true;
  }

  bool bool_literal() {
    skip_space();
    if (keyword("True")) return true;
    if (keyword("False")) return false;
    fail("fortran_order must be True or False");
  }

  // A descr is a type string; a list describes a structured dtype, which
  // imio does not read: report it as the file wrote it.
  std::string descr_value() {
    skip_space();
    if (peek() == '\'' || peek() == '"') return string_literal("a type string");
    if (peek() == '[' || peek() == '(' || peek() == '{') {
      throw DecodeError(fmt::format("unsupported dtype descr {} (a structured dtype); imio reads b1, u1-u8, i1-i8 "
                                    "and f2-f8 in any byte order",
                                    excerpt(balanced_value())));
    }
    fail("descr must be a type string such as '<f4'");
  }

  // The text of a bracketed value, for messages.
  std::string_view balanced_value() {
    const std::size_t start = pos_;
    int depth = 0;
    while (!at_end()) {
      const char c = text_[pos_];
      if (c == '\'' || c == '"') {
        string_literal("a string");
        continue;
      }
      if (c == '[' || c == '(' || c == '{') ++depth;
      if (c == ']' || c == ')' || c == '}') --depth;
      ++pos_;
      if (depth == 0) return text_.substr(start, pos_ - start);
    }
    fail("unterminated bracket");
  }

  // Python tuple syntax: () | (n,) | (n, m[, …][,]); "(n)" is an int, not a tuple.
  Shape shape_tuple() {
    expect('(', "shape to be a tuple such as (3, 4)");
    Shape shape;
    if (consume(')')) return shape;
    for (;;) {
      shape.push_back(dimension());
      if (!consume(',')) {
        expect(')', "',' or ')' in the shape");
        if (shape.size() == 1) fail("shape (n) is an int, not a tuple; numpy writes (n,)");
        return shape;
      }
      if (consume(')')) return shape;
    }
  }

  // A non-negative decimal int (Python allows '_' between digits, and
  // Python 2 wrote longs as 3L).
  std::size_t dimension() {
    skip_space();
    if (peek() == '+') ++pos_;
    if (peek() == '-') fail("negative dimension in the shape");
    if (!is_digit(peek())) fail("expected a dimension (a non-negative int)");
    std::uint64_t value = 0;
    while (is_digit(peek()) || (peek() == '_' && pos_ + 1 < text_.size() && is_digit(text_[pos_ + 1]))) {
      if (peek() == '_') ++pos_;
      const auto digit = static_cast<std::uint64_t>(text_[pos_] - '0');
      if (value > (kMaxDimension - digit) / 10) fail("dimension larger than 2**63 - 1");
      value = value * 10 + digit;
      ++pos_;
    }
    if (python2_longs_ && (peek() == 'L' || peek() == 'l')) ++pos_;
    if (is_name_char(peek())) fail("expected a dimension (a non-negative decimal int)");
    if constexpr (sizeof(std::size_t) < sizeof(std::uint64_t)) {
      if (value > SIZE_MAX) fail("dimension larger than this machine can address");
    }
    return static_cast<std::size_t>(value);
  }

  std::string_view text_;
  std::size_t pos_ = 0;
  bool python2_longs_;
};

std::uint64_t little_endian(const unsigned char* p, std::size_t n) {
  std::uint64_t v = 0;
  for (std::size_t i = n; i-- > 0;) v = (v << 8) | p[i];
  return v;
}

std::string shape_repr(const Shape& shape) {
  if (shape.size() == 1) return fmt::format("({},)", shape[0]);
  std::string out = "(";
  for (std::size_t i = 0; i < shape.size(); ++i) out += fmt::format("{}{}", i ? ", " : "", shape[i]);
  return out + ")";
}

void put_little_endian(std::string& out, std::uint64_t v, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) out += static_cast<char>((v >> (8 * i)) & 0xFF);
}

}  // namespace

bool has_magic(std::span<const std::byte> first_bytes) noexcept {
  return first_bytes.size() >= kMagic.size() && std::memcmp(first_bytes.data(), kMagic.data(), kMagic.size()) == 0;
}

HeaderDict parse_header_dict(std::string_view text, Version version) {
  // Python 2 implementations of numpy wrote longs with an L suffix in
  // versions 1.0 and 2.0 (numpy.lib.format._filter_header).
  return DictLiteral(text, version.major <= 2).parse();
}

Header read_header(Request& request) { return read_header(request.source(), request); }

Header read_header(ByteSource& source, const Request& request) {
  const std::optional<std::uint64_t> size = source.size();
  source.seek(0);
  std::array<unsigned char, 12> preamble{};
  if (source.read(preamble.data(), 8) != 8) throw DecodeError("truncated .npy file: it ends inside the format version");
  if (std::memcmp(preamble.data(), kMagic.data(), kMagic.size()) != 0) {
    throw DecodeError("not a .npy array: it does not start with \\x93NUMPY");
  }
  const Version version{preamble[6], preamble[7]};
  if (version.minor != 0 || version.major < 1 || version.major > 3) {
    throw DecodeError(fmt::format("unsupported .npy format version {}.{} (imio reads 1.0, 2.0 and 3.0)", version.major,
                                  version.minor));
  }
  const std::size_t len_size = version.major == 1 ? 2 : 4;
  if (source.read(preamble.data() + 8, len_size) != len_size) {
    throw DecodeError("truncated .npy file: it ends inside the header length");
  }
  const std::uint64_t header_len = little_endian(preamble.data() + 8, len_size);
  Header header{.version = version, .dict = {}, .data_offset = 8 + len_size + header_len};
  if (size && header.data_offset > *size) {
    throw DecodeError(fmt::format("truncated .npy file: the header of {} bytes runs past the end of the data ({} bytes)",
                                  header_len, *size));
  }
  if (header_len > kMaxHeaderLen) {
    throw DecodeError(fmt::format(".npy header of {} bytes is larger than the {} bytes imio accepts (headers of "
                                  "the dtypes imio reads are a few hundred bytes)",
                                  header_len, kMaxHeaderLen));
  }
  request.check_bytes(header_len);
  std::string text(static_cast<std::size_t>(header_len), '\0');
  if (source.read(text.data(), text.size()) != text.size()) {
    throw DecodeError(fmt::format("truncated .npy file: it ends inside the header of {} bytes", header_len));
  }
  header.dict = parse_header_dict(text, version);
  return header;
}

std::string encode_header(std::string_view descr, const Shape& shape) {
  std::string dict = fmt::format("{{'descr': '{}', 'fortran_order': False, 'shape': {}, }}", descr, shape_repr(shape));
  if (!shape.empty()) {
    const std::size_t digits = fmt::formatted_size("{}", shape[0]);
    if (digits < kGrowthAxisMaxDigits) dict.append(kGrowthAxisMaxDigits - digits, ' ');
  }
  // numpy.lib.format._wrap_header: the '\n' counts into the header, and
  // padding is 1..64 spaces (a full 64 when already aligned).
  const std::size_t hlen = dict.size() + 1;
  std::size_t prefix = kMagic.size() + 2 + 2;
  std::size_t padding = kArrayAlign - (prefix + hlen) % kArrayAlign;
  std::uint8_t major = 1;
  if (hlen + padding > 0xFFFF) {
    major = 2;
    prefix = kMagic.size() + 2 + 4;
    padding = kArrayAlign - (prefix + hlen) % kArrayAlign;
  }
  std::string out(kMagic);
  out += static_cast<char>(major);
  out += '\0';
  put_little_endian(out, hlen + padding, major == 1 ? 2 : 4);
  out += dict;
  out.append(padding, ' ');
  out += '\n';
  return out;
}

}  // namespace imio::npy
