// libavfilter graphs built from imageio's filter_sequence / filter_graph
// kwargs (spec §5.2.7).
#pragma once

#include <imio/value.hpp>

#include "av_util.hpp"

namespace imio::ffmpeg {

/// The filters a call asked for; empty when none.
struct FilterSpec {
  Value sequence;  ///< list of [name, args]; None when absent
  Value graph;     ///< [nodes, edges]; None when absent
  bool empty() const noexcept { return sequence.is_none() && graph.is_none(); }
  /// The same filters (a writer keeps its graph when a call repeats them).
  bool operator==(const FilterSpec&) const = default;
};

/// Checks the shape of the kwargs early (ArgumentError naming the problem).
void check_filter_spec(const FilterSpec& spec);

/// A configured filter graph: frames in at "video_in", frames out of "video_out".
class FilterGraph {
 public:
  /// Builds the graph for frames like `first` in `time_base`; the sequence
  /// runs first, then the graph. ArgumentError for unknown filters or bad
  /// arguments (FFmpeg's text included).
  FilterGraph(const FilterSpec& spec, const AVFrame& first, AVRational time_base, AVRational frame_rate);

  /// Feeds a frame (nullptr: end of stream).
  void push(AVFrame* frame);
  /// The next filtered frame; false when the graph needs input or is drained.
  bool pull(AVFrame* out);
  /// True after end of stream was pushed and every frame pulled.
  bool drained() const noexcept { return drained_; }
  /// The time base of the frames pull() gives (filters such as fps or
  /// settb change it; a writer rescales to its encoder's).
  AVRational output_time_base() const noexcept;

 private:
  GraphPtr graph_;
  AVFilterContext* src_ = nullptr;
  AVFilterContext* sink_ = nullptr;
  bool eof_pushed_ = false;
  bool drained_ = false;
};

}  // namespace imio::ffmpeg
