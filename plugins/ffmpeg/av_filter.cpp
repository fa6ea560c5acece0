#include "av_filter.hpp"

#include <imio/error.hpp>

#include <map>
#include <string>
#include <vector>

#include <fmt/format.h>

extern "C" {
#include <libavfilter/buffersink.h>
#include <libavfilter/buffersrc.h>
#include <libavutil/pixdesc.h>
}

namespace imio::ffmpeg {
namespace {

// FFmpeg's option-string syntax: "k=v:k2=v2"; ':' '\\' and '\'' in values are escaped.
std::string escape_value(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == ':' || c == '\\' || c == '\'' || c == ',' || c == ';' || c == '[' || c == ']' || c == '=') out += '\\';
    out += c;
  }
  return out;
}

// (filter_name, args): args is a string in FFmpeg's syntax or a mapping.
std::pair<std::string, std::string> filter_of(const Value& entry, std::string_view kwarg) {
  if (!entry.is<Value::List>() || entry.ref<Value::List>().size() != 2 || !entry.ref<Value::List>()[0].is<std::string>()) {
    throw ArgumentError(fmt::format("{}: each filter is a pair (filter_name, args), got {}", kwarg, entry.repr()));
  }
  const auto& pair = entry.ref<Value::List>();
  std::string args;
  if (pair[1].is<Dict>()) {
    for (const auto& [k, v] : pair[1].ref<Dict>()) {
      if (!args.empty()) args += ':';
      args += k + "=" + escape_value(option_text(v, "filter argument"));
    }
  } else if (!pair[1].is_none()) {
    args = option_text(pair[1], "filter argument");
  }
  return {pair[0].get<std::string>(), args};
}

}  // namespace

void check_filter_spec(const FilterSpec& spec) {
  if (!spec.sequence.is_none()) {
    if (!spec.sequence.is<Value::List>()) throw ArgumentError("filter_sequence must be a list of (filter_name, args) pairs");
    for (const Value& e : spec.sequence.ref<Value::List>()) (void)filter_of(e, "filter_sequence");
  }
  if (!spec.graph.is_none()) {
    if (!spec.graph.is<Value::List>() || spec.graph.ref<Value::List>().size() != 2 ||
        !spec.graph.ref<Value::List>()[0].is<Dict>() || !spec.graph.ref<Value::List>()[1].is<Value::List>()) {
      throw ArgumentError("filter_graph must be a pair (nodes, edges): a mapping name -> (filter_name, args) and a list of edges");
    }
  }
}

FilterGraph::FilterGraph(const FilterSpec& spec, const AVFrame& first, AVRational time_base, AVRational frame_rate)
    : graph_(avfilter_graph_alloc()) {
  if (!graph_) throw std::bad_alloc();
  check_filter_spec(spec);
  graph_->nb_threads = 1;
  auto create = [&](const std::string& filter, const std::string& name, const std::string& args) {
    const AVFilter* f = avfilter_get_by_name(filter.c_str());
    if (f == nullptr) throw ArgumentError(fmt::format("'{}' is not a filter FFmpeg knows", filter));
    AVFilterContext* ctx = nullptr;
    const int ret = avfilter_graph_create_filter(&ctx, f, name.c_str(), args.empty() ? nullptr : args.c_str(), nullptr, graph_.get());
    if (ret < 0) throw ArgumentError(describe_failure(fmt::format("filter {} ('{}') cannot be set up", filter, args), ret));
    return ctx;
  };
  auto link = [](AVFilterContext* a, unsigned pa, AVFilterContext* b, unsigned pb) {
    const int ret = avfilter_link(a, pa, b, pb);
    if (ret < 0) throw ArgumentError(describe_failure(fmt::format("cannot connect {} to {}", a->name, b->name), ret));
  };
  const AVRational sar = first.sample_aspect_ratio.num > 0 ? first.sample_aspect_ratio : AVRational{1, 1};
  std::string src_args = fmt::format("video_size={}x{}:pix_fmt={}:time_base={}/{}:pixel_aspect={}/{}", first.width,
                                     first.height, first.format, time_base.num, time_base.den, sar.num, sar.den);
  if (frame_rate.num > 0 && frame_rate.den > 0) src_args += fmt::format(":frame_rate={}/{}", frame_rate.num, frame_rate.den);
  src_ = create("buffer", "video_in", src_args);
  sink_ = create("buffersink", "video_out", "");
  AVFilterContext* tail = src_;
  if (!spec.sequence.is_none()) {
    int i = 0;
    for (const Value& e : spec.sequence.ref<Value::List>()) {
      auto [name, args] = filter_of(e, "filter_sequence");
      AVFilterContext* ctx = create(name, fmt::format("seq{}_{}", i++, name), args);
      link(tail, 0, ctx, 0);
      tail = ctx;
    }
  }
  if (spec.graph.is_none()) {
    link(tail, 0, sink_, 0);
  } else {
    const auto& parts = spec.graph.ref<Value::List>();
    std::map<std::string, AVFilterContext*> nodes{{"video_in", tail}, {"video_out", sink_}};
    for (const auto& [node, def] : parts[0].ref<Dict>()) {
      if (node == "video_in" || node == "video_out") throw ArgumentError(fmt::format("filter_graph: node name '{}' is reserved", node));
      auto [name, args] = filter_of(def, "filter_graph");
      nodes[node] = create(name, "graph_" + node, args);
    }
    for (const Value& edge : parts[1].ref<Value::List>()) {
      const bool ok = edge.is<Value::List>() && edge.ref<Value::List>().size() == 4;
      if (!ok) throw ArgumentError("filter_graph: each edge is (from_node, to_node, from_output_pad, to_input_pad)");
      const auto& e = edge.ref<Value::List>();
      const auto from = nodes.find(e[0].get<std::string>()), to = nodes.find(e[1].get<std::string>());
      if (from == nodes.end() || to == nodes.end()) throw ArgumentError(fmt::format("filter_graph: edge {} names an unknown node", edge.repr()));
      link(from->second, e[2].get<unsigned>(), to->second, e[3].get<unsigned>());
    }
  }
  const int ret = avfilter_graph_config(graph_.get(), nullptr);
  if (ret < 0) throw ArgumentError(describe_failure("the filter graph is not valid (all nodes must be connected)", ret));
}

void FilterGraph::push(AVFrame* frame) {
  if (eof_pushed_) return;
  if (frame == nullptr) eof_pushed_ = true;
  const int ret = av_buffersrc_add_frame_flags(src_, frame, AV_BUFFERSRC_FLAG_KEEP_REF);
  if (ret < 0) throw DecodeError(describe_failure("the filter graph rejects a frame", ret));
}

AVRational FilterGraph::output_time_base() const noexcept { return av_buffersink_get_time_base(sink_); }

bool FilterGraph::pull(AVFrame* out) {
  av_frame_unref(out);
  const int ret = av_buffersink_get_frame(sink_, out);
  if (ret >= 0) return true;
  if (ret == AVERROR_EOF) {
    drained_ = true;
    return false;
  }
  if (ret == AVERROR(EAGAIN)) return false;
  throw DecodeError(describe_failure("the filter graph fails", ret));
}

}  // namespace imio::ffmpeg
