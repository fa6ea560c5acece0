// See hevc_sps.hpp. The syntax is H.265 §7.3.2.2.1 (seq_parameter_set_rbsp)
// and §7.3.3 (profile_tier_level), read only as far as the fields the
// checks need; ue(v) is Exp-Golomb (§9.2).
#include "hevc_sps.hpp"

#include <imio/error.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <cstdint>
#include <vector>

namespace imio::heif {
namespace {

// The RBSP of a NAL unit: its payload without the emulation prevention
// bytes (0x000003 → 0x0000, §7.4.2).
std::vector<std::uint8_t> rbsp_of(std::span<const std::byte> nal) {
  std::vector<std::uint8_t> out;
  out.reserve(nal.size());
  int zeros = 0;
  for (std::byte b : nal) {
    const auto v = std::to_integer<std::uint8_t>(b);
    if (zeros >= 2 && v == 3) {
      zeros = 0;
      continue;
    }
    zeros = v == 0 ? zeros + 1 : 0;
    out.push_back(v);
  }
  return out;
}

class BitReader {
 public:
  explicit BitReader(const std::vector<std::uint8_t>& data) : data_(data) {}

  std::uint32_t bits(int n) {
    std::uint32_t v = 0;
    for (int i = 0; i < n; ++i) {
      if (pos_ >= data_.size() * 8) throw DecodeError("damaged HEVC stream: the sequence parameter set is cut short");
      v = (v << 1) | ((data_[pos_ / 8] >> (7 - pos_ % 8)) & 1u);
      ++pos_;
    }
    return v;
  }
  void skip(std::size_t n) {
    if (n > data_.size() * 8 - pos_) throw DecodeError("damaged HEVC stream: the sequence parameter set is cut short");
    pos_ += n;
  }
  // ue(v), at most 32 bits of value as libde265 reads it
  std::uint32_t ue() {
    int zeros = 0;
    while (bits(1) == 0) {
      if (++zeros > 31) throw DecodeError("damaged HEVC stream: an Exp-Golomb code of the sequence parameter set is too long");
    }
    return static_cast<std::uint32_t>((std::uint64_t{1} << zeros) - 1 + bits(zeros));
  }

 private:
  const std::vector<std::uint8_t>& data_;
  std::size_t pos_ = 0;
};

[[noreturn]] void refuse(const std::string& what) {
  throw DecodeError(fmt::format("damaged HEVC stream: the sequence parameter set breaks H.265 §7.4.3.2.1 ({})", what));
}

void check_sps(std::span<const std::byte> nal) {
  const std::vector<std::uint8_t> rbsp = rbsp_of(nal);
  BitReader r(rbsp);
  r.skip(16);  // NAL unit header
  r.skip(4);   // sps_video_parameter_set_id
  const std::uint32_t max_sub_layers_minus1 = r.bits(3);
  r.skip(1);  // sps_temporal_id_nesting_flag
  // profile_tier_level(1, max_sub_layers_minus1)
  r.skip(96);  // general profile, tier, flags and level
  std::vector<bool> profile_present, level_present;
  for (std::uint32_t i = 0; i < max_sub_layers_minus1; ++i) {
    profile_present.push_back(r.bits(1) != 0);
    level_present.push_back(r.bits(1) != 0);
  }
  if (max_sub_layers_minus1 > 0) r.skip(2 * (8 - max_sub_layers_minus1));
  for (std::uint32_t i = 0; i < max_sub_layers_minus1; ++i) {
    if (profile_present[i]) r.skip(88);
    if (level_present[i]) r.skip(8);
  }
  r.ue();  // sps_seq_parameter_set_id
  const std::uint32_t chroma_format_idc = r.ue();
  if (chroma_format_idc > 3) refuse(fmt::format("chroma_format_idc {}", chroma_format_idc));
  if (chroma_format_idc == 3) r.skip(1);  // separate_colour_plane_flag
  const std::uint64_t width = r.ue(), height = r.ue();
  if (r.bits(1) != 0) {  // conformance window
    for (int i = 0; i < 4; ++i) r.ue();
  }
  const std::uint64_t bit_depth_luma = std::uint64_t{r.ue()} + 8, bit_depth_chroma = std::uint64_t{r.ue()} + 8;
  if (bit_depth_luma > 16 || bit_depth_chroma > 16) {
    refuse(fmt::format("bit depths {} and {}, at most 16", bit_depth_luma, bit_depth_chroma));
  }
  r.ue();  // log2_max_pic_order_cnt_lsb_minus4
  const bool ordering_for_all = r.bits(1) != 0;
  for (std::uint32_t i = ordering_for_all ? 0 : max_sub_layers_minus1; i <= max_sub_layers_minus1; ++i) {
    r.ue();
    r.ue();
    r.ue();
  }
  const std::uint64_t log2_min_cb = std::uint64_t{r.ue()} + 3;
  const std::uint64_t log2_ctb = log2_min_cb + r.ue();
  const std::uint64_t log2_min_tb = std::uint64_t{r.ue()} + 2;
  const std::uint64_t log2_max_tb = log2_min_tb + r.ue();
  const std::uint64_t depth_inter = r.ue(), depth_intra = r.ue();
  if (log2_ctb > 6 || log2_max_tb > 5) {
    refuse(fmt::format("coding tree blocks of 2^{}, transform blocks up to 2^{}", log2_ctb, log2_max_tb));
  }
  const std::uint64_t min_cb = std::uint64_t{1} << log2_min_cb;
  if (width == 0 || height == 0 || width % min_cb != 0 || height % min_cb != 0) {
    refuse(fmt::format("a picture of {}x{} is not a multiple of the minimum coding block, {}", width, height, min_cb));
  }
  if (log2_min_tb > log2_min_cb || log2_max_tb > std::min<std::uint64_t>(log2_ctb, 5)) {
    refuse(fmt::format("transform blocks of 2^{} to 2^{} in coding blocks of 2^{} to 2^{}", log2_min_tb, log2_max_tb,
                       log2_min_cb, log2_ctb));
  }
  if (depth_inter > log2_ctb - log2_min_tb || depth_intra > log2_ctb - log2_min_tb) {
    refuse(fmt::format("transform hierarchy depths {} and {} where at most {}", depth_inter, depth_intra,
                       log2_ctb - log2_min_tb));
  }
}

std::uint32_t be(std::span<const std::byte> b, std::size_t at, std::size_t n) {
  if (at + n > b.size()) throw DecodeError("the file is truncated: the 'hvcC' box is cut short");
  std::uint32_t v = 0;
  for (std::size_t i = 0; i < n; ++i) v = (v << 8) | std::to_integer<std::uint8_t>(b[at + i]);
  return v;
}

}  // namespace

void check_hevc_config(std::span<const std::byte> hvcc) {
  // 22 bytes of configuration, then the NAL unit arrays
  std::size_t at = 22;
  const std::uint32_t arrays = be(hvcc, at++, 1);
  for (std::uint32_t a = 0; a < arrays; ++a) {
    const std::uint32_t nal_type = be(hvcc, at, 1) & 0x3F;
    const std::uint32_t count = be(hvcc, at + 1, 2);
    at += 3;
    for (std::uint32_t k = 0; k < count; ++k) {
      const std::uint32_t length = be(hvcc, at, 2);
      at += 2;
      if (length > hvcc.size() - at) throw DecodeError("the file is truncated: a NAL unit of the 'hvcC' box is cut short");
      if (nal_type == 33) check_sps(hvcc.subspan(at, length));
      at += length;
    }
  }
}

}  // namespace imio::heif
