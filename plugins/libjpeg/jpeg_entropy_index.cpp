// The MCU index of a baseline scan and the streams cut from it (see jpeg_entropy_index.hpp).
#include "jpeg_entropy_index.hpp"

#include <algorithm>
#include <atomic>
#include <limits>
#include <memory>
#include <system_error>
#include <thread>

namespace imio::libjpeg {
namespace {

// Chunks of a split walk per thread (walk_in_parts). More chunks end the
// threads' walks closer together; each one costs a resynchronisation (a
// few MCUs walked twice) and a start of speculate().
constexpr unsigned kChunksPerWorker = 32;
// Who walks a chunk of a split walk.
constexpr int kFree = 0, kWalker = 1, kHelper = 2;

// Entries per MCU row at most: a 65 535-pixel-wide 4:4:4 row has 8 192 MCUs,
// indexed every 32; an ordinary photograph every 8.
constexpr std::uint64_t kEntriesPerRow = 256;

// The largest DC value an 8-bit scan can code: category 15 (libjpeg accepts
// DC symbols up to 15, jdhuff.c); a prediction beyond it is a damaged file.
constexpr std::int32_t kLargestDc = 32767;

// A block's AC codes (T.81 §F.2.2.2), up to EOB or the 63rd coefficient; a
// run past the block's end ends it as in libjpeg (jdhuff.c's loop over
// k < 64). A step takes at most 27 bits (a code of up to 12 bits and 15
// extra bits, or two codes within 12 bits), so a fill of the reader (at
// least 56 bits) serves two steps, and the DC code's fill (which left at
// least 29 bits) the first one. The walk before (10-bit lookups, one code
// and one fill per step) took 1.4× as long over a 12.6 MP photograph's
// scan: 11.7 against 8.4 ms.
[[gnu::always_inline]] inline bool walk_ac(ScanReader& reader, const HuffmanTable& ac) {
  static_assert(2 * (HuffmanTable::kLookahead + 15) <= 56);
  enum Next { kMore, kFill, kEnd, kBroken };
  unsigned k = 1;
  const auto step = [&reader, &ac, &k]() {
    const HuffmanTable::AcStep next = ac.ac_steps[reader.peek(HuffmanTable::kLookahead)];
    if (next.bits != 0 && k + next.first_advance < 64) [[likely]] {
      reader.skip(next.bits);
      k += next.advance;
      return k >= 64 ? kEnd : kMore;
    }
    if (next.bits != 0) {  // two codes, and the first ends the block
      reader.skip(next.first_bits);
      return kEnd;
    }
    const int rs = reader.decode(ac);  // a longer code (it tops the reader up)
    if (rs < 0) return kBroken;
    const auto size = static_cast<unsigned>(rs & 15);
    reader.ensure(size);
    reader.skip(size);
    k += ac_coefficients(static_cast<unsigned>(rs));
    return k >= 64 ? kEnd : kFill;  // the fill may not cover another step
  };
  Next n = step();
  while (n != kEnd) {
    if (n == kBroken) return false;
    reader.fill();
    n = step();
    if (n == kMore) n = step();
  }
  return true;
}

}  // namespace

std::optional<EntropyIndex> EntropyIndex::create(const jpeg_decompress_struct& info, std::span<const std::byte> file,
                                                 std::size_t scan_start) {
  if (info.progressive_mode || info.arith_code || info.restart_interval != 0 || info.data_precision != 8 ||
      info.comps_in_scan != info.num_components || info.num_components < 1 || info.num_components > 4 ||
      info.image_width == 0 || info.image_height == 0 || scan_start >= file.size()) {
    return std::nullopt;
  }
  const std::optional<std::size_t> sof = sequential_huffman_sof(info, file, scan_start);
  if (!sof) return std::nullopt;
  // SOS: FF DA, Ls = 6 + 2 × Ns (T.81 §B.2.3), then the coded data.
  const std::size_t sos_length = 8 + 2 * static_cast<std::size_t>(info.comps_in_scan);
  if (scan_start < sos_length || std::to_integer<unsigned>(file[scan_start - sos_length]) != 0xFF ||
      std::to_integer<unsigned>(file[scan_start - sos_length + 1]) != 0xDA) {
    return std::nullopt;
  }
  const McuSize mcu = mcu_size(info);
  if (mcu.width == 0 || mcu.height == 0) return std::nullopt;

  EntropyIndex index(file, scan_start);
  index.scan_start_ = scan_start;
  index.sof_ = *sof;
  index.sos_ = scan_start - sos_length;
  index.width_ = info.image_width;
  index.height_ = info.image_height;
  index.mcu_ = mcu;
  index.per_row_ = (index.width_ + mcu.width - 1) / mcu.width;
  index.rows_ = (index.height_ + mcu.height - 1) / mcu.height;
  index.row_step_ = std::max<std::uint64_t>(1, mcu.imcu_height / mcu.height);
  index.stride_ = std::max<std::uint64_t>(8, (index.per_row_ + kEntriesPerRow - 1) / kEntriesPerRow);
  index.per_row_entries_ = (index.per_row_ + index.stride_ - 1) / index.stride_;
  // An MCU holds H × V blocks of each component in scan order (T.81
  // §A.2.3), one block when the scan has one component.
  index.dc_tables_.reserve(static_cast<std::size_t>(info.comps_in_scan));
  index.ac_tables_.reserve(static_cast<std::size_t>(info.comps_in_scan));
  for (int i = 0; i < info.comps_in_scan; ++i) {
    const jpeg_component_info* c = info.cur_comp_info[i];
    if (c == nullptr || c->dc_tbl_no < 0 || c->dc_tbl_no >= NUM_HUFF_TBLS || c->ac_tbl_no < 0 ||
        c->ac_tbl_no >= NUM_HUFF_TBLS) {
      return std::nullopt;
    }
    const JHUFF_TBL* dc = info.dc_huff_tbl_ptrs[c->dc_tbl_no];
    const JHUFF_TBL* ac = info.ac_huff_tbl_ptrs[c->ac_tbl_no];
    if (dc == nullptr || ac == nullptr) return std::nullopt;
    // Components that share a table (the two chroma ones, as a rule) copy
    // it: building one of 12-bit lookups takes about 20 µs, a copy 1 µs.
    int same = 0;
    while (same < i && (info.cur_comp_info[same]->dc_tbl_no != c->dc_tbl_no ||
                        info.cur_comp_info[same]->ac_tbl_no != c->ac_tbl_no)) {
      ++same;
    }
    if (same < i) {
      index.dc_tables_.push_back(index.dc_tables_[static_cast<std::size_t>(same)]);
      index.ac_tables_.push_back(index.ac_tables_[static_cast<std::size_t>(same)]);
    } else {
      index.dc_tables_.emplace_back();
      index.ac_tables_.emplace_back();
      if (!index.dc_tables_.back().build(*dc) || !index.ac_tables_.back().build(*ac)) return std::nullopt;
      index.ac_tables_.back().build_ac_steps();
      // DC symbols are bit counts of at most 15; libjpeg rejects a table
      // with others when it starts decoding (jdhuff.c), after this.
      for (unsigned k = 16; k < 256; ++k) {
        if (index.dc_tables_.back().length[k] != 0) return std::nullopt;
      }
    }
    const int blocks = info.comps_in_scan == 1 ? 1 : c->h_samp_factor * c->v_samp_factor;
    for (int b = 0; b < blocks; ++b) index.membership_.push_back(static_cast<std::uint8_t>(i));
  }
  if (index.membership_.size() > 10) return std::nullopt;  // T.81 §B.2.3: at most 10 blocks per MCU
  index.entries_.push_back({0, {}});
  return index;
}

// Inlined into the walks, so that the reader stays in registers.
[[gnu::always_inline]] inline bool EntropyIndex::walk_mcu(ScanReader& reader, Predictions& dc,
                                                          std::int32_t largest) const {
  // T.81 §F.2.2: per block a DC difference, then the AC codes (walk_ac);
  // only the DC values are kept.
  for (const std::uint8_t c : membership_) {
    // The buffer is topped up without a branch on the bits left: that
    // branch mispredicted often enough to show.
    reader.fill();
    const std::uint32_t ahead = reader.peek(32);
    const HuffmanTable::Fast f = dc_tables_[c].fast[ahead >> (32 - HuffmanTable::kLookahead)];
    if (f.length != 0) {
      // The category's code and its extra bits in one step, with no branch
      // on whether there are any (category 0 reads 0).
      const unsigned s = f.symbol;
      dc[c] += extend(((ahead << f.length) >> 1) >> (31 - s), s);
      reader.skip(f.length + s);
    } else {
      const int s = reader.decode(dc_tables_[c]);
      if (s < 0) return false;
      if (s > 0) {
        reader.ensure(static_cast<unsigned>(s));
        dc[c] += extend(reader.take(static_cast<unsigned>(s)), static_cast<unsigned>(s));
      }
      reader.fill();  // walk_ac's first step takes up to 27 bits unfilled
    }
    if (!walk_ac(reader, ac_tables_[c])) return false;
  }
  // Checked once per MCU, not per block (1 % of a walk): the padding covers
  // an MCU's blocks (UnstuffedScan::kPadding), and ten blocks move a
  // prediction by at most ten times the largest DC difference.
  for (const std::int32_t v : dc) {
    if (v > largest || v < -largest) return false;
  }
  return !reader.overrun();
}

bool EntropyIndex::reach(std::uint64_t row, const WalkThreads& threads) {
  const std::uint64_t target = std::min(row, rows_) * per_row_;
  if (next_mcu_ < target && !broken_ && threads.workers > 1) walk_in_parts(target, threads);
  if (next_mcu_ < target && !broken_) walk(target, std::numeric_limits<std::uint64_t>::max());
  return next_mcu_ >= target;
}

void EntropyIndex::walk(std::uint64_t end, std::uint64_t stop) {
  ScanReader reader = reader_;  // local copies, kept in registers
  Predictions dc = dc_;
  std::uint64_t mcu = next_mcu_;
  EntryClock clock(mcu, per_row_, stride_);
  while (mcu < end && reader.position() < stop) {
    if (!walk_mcu(reader, dc, kLargestDc)) {
      broken_ = true;
      break;
    }
    ++mcu;
    if (clock.passed_one()) entries_.push_back({reader.position(), dc});
  }
  reader_ = reader;
  dc_ = dc;
  next_mcu_ = mcu;
}

EntropyIndex::ChunkWalk EntropyIndex::speculate(std::uint64_t from, std::uint64_t stop, const std::atomic<bool>* cancelled,
                                                const ChunkWalk* next) const {
  // Relative predictions may reach twice the largest DC value; the bound
  // only keeps a damaged file's sums from overflowing.
  constexpr std::int32_t kLargestRelative = std::int32_t{1} << 24;
  constexpr int kRestarts = 64;
  // MCUs walked past `stop` to meet `next` (resynchronising took 21 at most
  // in the measurements quoted in the header).
  constexpr std::size_t kLinkMcus = 64;
  ChunkWalk walked;
  std::vector<Boundary>& found = walked.found;
  ScanReader reader(scan_, from);
  Predictions dc{}, low{}, high{};
  std::size_t past_stop = 0, in_next = 0;
  for (int restarts = 0; restarts <= kRestarts;) {
    const std::uint64_t at = reader.position();
    found.push_back({at, dc});
    for (std::size_t c = 0; c < dc.size(); ++c) {
      low[c] = std::min(low[c], dc[c]);
      high[c] = std::max(high[c], dc[c]);
    }
    if (cancelled != nullptr && cancelled->load(std::memory_order_relaxed)) break;
    if (at >= stop) {
      if (next == nullptr || ++past_stop > kLinkMcus) break;
      const std::vector<Boundary>& after = next->found;
      while (in_next < after.size() && after[in_next].at < at) ++in_next;
      if (in_next == after.size() || after[in_next].at == at) break;  // met it (or never will)
    }
    // No run of the scan holds more MCUs than the image: a damaged scan of
    // short codes (zeros) would otherwise note a start every few bits.
    if (found.size() > per_row_ * rows_) break;
    if (!walk_mcu(reader, dc, kLargestRelative)) {
      // A code the tables do not have: this walk is not in step with the
      // scan (in an undamaged file). Start again one bit further.
      if (reader.overrun()) break;
      found.clear();
      reader = ScanReader(scan_, at + 1);
      dc = low = high = {};
      ++restarts;
    }
  }
  walked.low = low;
  walked.high = high;
  return walked;
}

// A split walk's chunks (see walk_in_parts), shared with its helpers: their
// jobs may end after the walk, using this state and nothing else once
// `running` says they are done with the index.
struct EntropyIndex::SplitWalk {
  struct Chunk {
    std::atomic<int> owner{kFree};
    std::atomic<bool> walked{false};  // a helper's `walk` is complete (release/acquire)
    ChunkWalk walk;
  };
  std::uint64_t from = 0, stop = 0;
  std::size_t count = 0;
  std::unique_ptr<Chunk[]> chunks;
  std::atomic<bool> cancelled{false};  // the walk needs no more chunks: helpers stop
  std::atomic<unsigned> running{0};    // helpers that may still use the index

  std::uint64_t start_of(std::size_t k) const { return from + (stop - from) / count * k; }
  std::uint64_t end_of(std::size_t k) const { return k + 1 == count ? stop : start_of(k + 1); }
  /// Takes chunk k for `who`; false when another has it (`*had` then says who).
  bool take(std::size_t k, int who, int* had) {
    *had = kFree;
    return chunks[k].owner.compare_exchange_strong(*had, who, std::memory_order_acq_rel);
  }
};

void EntropyIndex::walk_in_parts(std::uint64_t target, const WalkThreads& threads) {
  // Where the walk to `target` ends, guessed in proportion to the MCUs left
  // in the scan (rows of sky take fewer bits than rows of grass), and a
  // sixteenth more (a guess in proportion to the MCUs was 14 % short in a
  // photograph whose lower half codes in more bits).
  const std::uint64_t from = reader_.position();
  if (from >= scan_.bits()) return;
  const double share = static_cast<double>(target - next_mcu_) / static_cast<double>(per_row_ * rows_ - next_mcu_);
  const auto length = static_cast<std::uint64_t>(static_cast<double>(scan_.bits() - from) * share);
  const std::uint64_t part_bits = std::max<std::uint64_t>(16, threads.part_bits);
  const auto workers = static_cast<unsigned>(std::min<std::uint64_t>(threads.workers, length / part_bits));
  if (workers < 2) return;
  // The stretch is cut into chunks of equal bits. This thread walks them
  // from the first on; the helpers take them from the last one down, each
  // the highest that nobody has taken, until they meet this thread: the
  // threads finish within about a chunk of each other whatever the bits
  // cost. (Halves fixed in advance left one thread idle for 0.15 ms of a
  // 3.9 ms walk of a 12.6 MP photograph, for 0.4–0.6 ms of it upside down.)
  const auto split = std::make_shared<SplitWalk>();
  split->from = from;
  split->stop = std::min(scan_.bits(), from + length + length / 16);
  split->count = static_cast<std::size_t>(
      std::min<std::uint64_t>(std::uint64_t{kChunksPerWorker} * workers, (split->stop - from) / (part_bits / 16)));
  split->chunks = std::make_unique<SplitWalk::Chunk[]>(split->count);
  split->chunks[0].owner.store(kWalker, std::memory_order_relaxed);
  // The last split walk's helpers have long finished their chunks.
  helpers_.clear();
  for (unsigned h = 1; h < workers; ++h) {
    split->running.fetch_add(1, std::memory_order_relaxed);
    try {
      helpers_.emplace_back([this, split] {
        int had = kFree;
        for (std::size_t k = split->count - 1; k > 0 && !split->cancelled.load(std::memory_order_relaxed); --k) {
          if (!split->take(k, kHelper, &had)) {
            if (had == kWalker) break;  // met the walk: the chunks below are its
            continue;                   // another helper's
          }
          SplitWalk::Chunk& c = split->chunks[k];
          // The chunk after it, when walked already (by this helper, as a
          // rule): this walk goes on until it meets that one's MCU starts,
          // so that the walk that takes both need not resynchronise between
          // them (joining 32 chunks took 0.13–0.17 ms when each needed it).
          const SplitWalk::Chunk* after = k + 1 < split->count ? &split->chunks[k + 1] : nullptr;
          const bool linked = after != nullptr && after->walked.load(std::memory_order_acquire);
          try {
            c.walk = speculate(split->start_of(k), split->end_of(k), &split->cancelled, linked ? &after->walk : nullptr);
          } catch (...) {  // memory: the walk takes the chunk MCU by MCU
            c.walk = {};
          }
          c.walked.store(true, std::memory_order_release);
        }
        split->running.fetch_sub(1, std::memory_order_release);  // the index is not used after this
      });
    } catch (const std::system_error&) {  // no thread: this one walks the chunks left
      split->running.fetch_sub(1, std::memory_order_relaxed);
      break;
    }
  }
  walk(target, split->end_of(0));
  int had = kFree;
  for (std::size_t k = 1; k < split->count && next_mcu_ < target && !broken_; ++k) {
    if (split->take(k, kWalker, &had)) {
      walk(target, split->end_of(k));
      continue;
    }
    // The helpers have this chunk and every one after it: each is taken
    // once it is walked (the first is the last a helper took).
    for (; k < split->count && next_mcu_ < target && !broken_; ++k) {
      const SplitWalk::Chunk& c = split->chunks[k];
      while (!c.walked.load(std::memory_order_acquire)) std::this_thread::yield();
      join_chunk(c.walk);
    }
    break;
  }
  // The helpers stop (when the target came first, in the middle of a
  // chunk) and are waited for only until they leave the index alone, not
  // until their jobs end: those are let go at the next split walk or with
  // the index (a new thread's join cost 0.13–0.17 ms on this project's VM
  // even after its work was done, see jpeg_helper_threads.hpp).
  split->cancelled.store(true, std::memory_order_relaxed);
  while (split->running.load(std::memory_order_acquire) != 0) std::this_thread::yield();
}

bool EntropyIndex::join_chunk(const ChunkWalk& walked) {
  const std::vector<Boundary>& found = walked.found;
  // This walk goes on MCU by MCU until it stands where the chunk's walk
  // found an MCU's start: from there on that walk is the scan's walk (the
  // same bits read from the same place in the same step of an MCU), with
  // its MCU count and its predictions off by what they were there.
  const std::uint64_t total = per_row_ * rows_;
  std::size_t j = 0;
  for (;;) {
    if (broken_ || next_mcu_ >= total) return false;
    const std::uint64_t at = reader_.position();
    while (j < found.size() && found[j].at < at) ++j;
    if (j == found.size()) return false;  // past all of them: the chunk's walk never fell in step
    if (found[j].at == at) break;
    walk(next_mcu_ + 1, std::numeric_limits<std::uint64_t>::max());
  }
  Predictions offset{};
  for (std::size_t c = 0; c < offset.size(); ++c) offset[c] = dc_[c] - found[j].dc[c];
  // Records j + 1 … last are the MCUs after this walk's, and only the
  // entries among them are looked at (a record at a time, taking 32 chunks
  // cost 0.15 ms: their records come from another core's cache). A
  // prediction out of bounds once shifted (a damaged file, or one of the
  // records before the chunk's walk fell in step) leaves the chunk to this
  // walk, which breaks where walk() breaks.
  const std::size_t last = static_cast<std::size_t>(std::min<std::uint64_t>(found.size() - 1, j + (total - next_mcu_)));
  for (std::size_t c = 0; c < offset.size(); ++c) {
    if (std::int64_t{walked.low[c]} + offset[c] < -kLargestDc || std::int64_t{walked.high[c]} + offset[c] > kLargestDc) {
      return false;
    }
  }
  const std::uint64_t first_mcu = next_mcu_;  // record j's
  const auto shifted = [&offset](Predictions dc) {
    for (std::size_t c = 0; c < dc.size(); ++c) dc[c] += offset[c];
    return dc;
  };
  for (std::uint64_t mcu = next_entry(first_mcu); mcu <= first_mcu + (last - j); mcu = next_entry(mcu)) {
    const Boundary& b = found[j + static_cast<std::size_t>(mcu - first_mcu)];
    entries_.push_back({b.at, shifted(b.dc)});
  }
  next_mcu_ = first_mcu + (last - j);
  mcus_from_chunks_ += last - j;
  dc_ = shifted(found[last].dc);
  reader_ = ScanReader(scan_, found[last].at);
  return true;
}

std::uint64_t EntropyIndex::next_entry(std::uint64_t mcu) const {
  // Entries stand at every stride_-th MCU start of a row and at each row's
  // start (EntryClock).
  const std::uint64_t column = mcu % per_row_;
  const std::uint64_t next = (column / stride_ + 1) * stride_;
  return mcu - column + std::min(next, per_row_);
}

std::optional<EntropyIndex::Band> EntropyIndex::band(const PixelBox& box, const WalkThreads& threads) {
  if (box.left >= box.right || box.top >= box.bottom || box.right > width_ || box.bottom > height_) return std::nullopt;
  // As restart_columns: one MCU column beside the box, two iMCU rows above
  // and below it, up to an iMCU row.
  Band b;
  b.first = (box.left >= mcu_.width ? box.left - mcu_.width : 0) / mcu_.width;
  b.end = std::min(width_ - 1, box.right - 1 + mcu_.width) / mcu_.width + 1;
  const std::uint64_t margin = 2 * mcu_.imcu_height;
  b.top = (box.top >= margin ? (box.top - margin) / mcu_.height : 0) / row_step_ * row_step_;
  b.bottom = std::min(rows_, (box.bottom - 1 + margin) / mcu_.height + 1);
  // Worth it only when the band holds at most half the MCUs that libjpeg
  // would entropy-decode for the box (every MCU down to its rows' end): a
  // band near the image's width costs a second decoder and the cut for
  // nothing (a 32×32 box of a 128×128 image on a handle: 119 µs against
  // libjpeg's 98 µs).
  if (2 * (b.end - b.first) * (b.bottom - b.top) > per_row_ * b.bottom) return std::nullopt;
  if (!reach(b.bottom, threads)) return std::nullopt;
  return b;
}

std::optional<ColumnEntry> EntropyIndex::cut(const Band& band) const {
  // A row whose first DC difference the table cannot code: start the band
  // at an earlier entry, down to the row's first MCU.
  for (std::uint64_t first = band.first;;) {
    if (std::optional<ColumnEntry> e = cut(first, band.end, band.top, band.bottom)) return e;
    if (first == 0) return std::nullopt;
    first = (first - 1) / stride_ * stride_;
  }
}

std::optional<ColumnEntry> EntropyIndex::columns(const PixelBox& box, const WalkThreads& threads) {
  const std::optional<Band> b = band(box, threads);
  return b ? cut(*b) : std::nullopt;
}

std::optional<ColumnEntry> EntropyIndex::cut(std::uint64_t first, std::uint64_t end, std::uint64_t top,
                                             std::uint64_t bottom) const {
  ColumnEntry e;
  e.left = static_cast<std::uint32_t>(first * mcu_.width);
  e.top = static_cast<std::uint32_t>(top * mcu_.height);
  // The band's width counts to the image's right edge when it holds the
  // last, maybe partial, MCU column; its height likewise at the bottom.
  const std::uint64_t width = end == per_row_ ? width_ - e.left : (end - first) * mcu_.width;
  const std::uint64_t height = bottom == rows_ ? height_ - e.top : (bottom - top) * mcu_.height;
  std::vector<unsigned char>& s = e.stream;
  s = resized_head(file_, scan_start_, sof_, width, height);
  const std::uint64_t band_start = entry(top, first).at;
  const std::uint64_t band_end = bottom == rows_ ? entry(rows_, 0).at : entry(bottom, 0).at;
  s.reserve(s.size() + (band_end - band_start) / 8 * (end - first) / per_row_ + 1024);
  StuffedWriter out(s);
  // The band's rows follow each other in one entropy-coded segment, as in
  // the file; only each row's first DC differences change: the decoder's
  // predictions there are those after the band's previous row (0 before
  // the first), not the file's. No restart interval: libjpeg-turbo 2.1
  // decodes a scan with one through its slower Huffman path (jdhuff.c
  // decode_mcu: no decode_mcu_fast when restart_interval != 0), a half of a
  // 1024×768 box 1.51 against 1.42 ms.
  Predictions decoder_dc{};
  for (std::uint64_t r = top; r < bottom; ++r) {
    // The band's MCUs lie between entries: walk to them from the entries
    // before (cheaper than libjpeg decoding up to stride_ - 1 more MCUs on
    // each side).
    const std::optional<Entry> from = locate(r, first);
    const std::optional<Entry> past = end == per_row_ ? locate(r + 1, 0) : locate(r, end);
    if (!from || !past) return std::nullopt;
    const std::uint64_t to = past->at;
    ScanReader reader(scan_, from->at);
    Predictions shift{};
    for (std::size_t c = 0; c < shift.size(); ++c) shift[c] = from->dc[c] - decoder_dc[c];
    if (!recode_first_mcu(reader, out, shift)) return std::nullopt;
    const std::uint64_t here = reader.position();
    if (here > to) return std::nullopt;
    out.copy(reader, to - here);
    decoder_dc = past->dc;
  }
  out.end_segment(0xD9);  // EOI
  return e;
}

std::optional<EntropyIndex::Entry> EntropyIndex::locate(std::uint64_t row, std::uint64_t column) const {
  Entry at = entry(row, column);
  ScanReader reader(scan_, at.at);
  for (std::uint64_t k = column % stride_; k > 0; --k) {
    if (!walk_mcu(reader, at.dc, kLargestDc)) return std::nullopt;
  }
  at.at = reader.position();
  return at;
}

bool EntropyIndex::recode_first_mcu(ScanReader& reader, StuffedWriter& out, const Predictions& shift) const {
  std::array<bool, 4> seen{};
  for (const std::uint8_t c : membership_) {
    if (reader.overrun()) return false;  // before the padding runs out (UnstuffedScan::kPadding)
    const HuffmanTable& dc_table = dc_tables_[c];
    const int s = reader.decode(dc_table);
    if (s < 0) return false;
    int value = 0;
    if (s > 0) {
      reader.ensure(static_cast<unsigned>(s));
      value = extend(reader.take(static_cast<unsigned>(s)), static_cast<unsigned>(s));
    }
    if (!seen[c]) {  // the component's first block: its prediction changes
      seen[c] = true;
      value += shift[c];
    }
    const unsigned category = magnitude_category(value);
    if (category > 15 || dc_table.length[category] == 0) return false;
    out.put(dc_table.code[category], dc_table.length[category]);
    if (category > 0) out.put(magnitude_bits(value, category), category);
    const HuffmanTable& ac = ac_tables_[c];
    for (unsigned k = 1; k < 64; ++k) {
      const int rs = reader.decode(ac);
      if (rs < 0) return false;
      out.put(ac.code[static_cast<unsigned>(rs)], ac.length[static_cast<unsigned>(rs)]);
      const auto size = static_cast<unsigned>(rs & 15);
      const auto run = static_cast<unsigned>(rs >> 4);
      if (size != 0) {
        k += run;
        reader.ensure(size);
        out.put(reader.take(size), size);
      } else if (run == 15) {
        k += 15;
      } else {
        break;
      }
    }
  }
  return !reader.overrun();
}

}  // namespace imio::libjpeg
