// Reading: one OpenEXR file opened with the library (after exr_scan's
// checks), a read planned from the kwargs without decoding (improps), then
// decoded straight into the result array; and the headers as metadata.
#pragma once

#include <imio/plugin.hpp>

#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "exr_scan.hpp"

#include <ImfForward.h>

namespace imio::exr {

class MemoryInput;

/// The read kwargs (plugin.json), parsed once per call.
struct ReadArgs {
  std::optional<std::vector<std::string>> channels;
  bool display_window = false;
  int level_x = 0, level_y = 0;
  std::optional<DType> dtype;
};
ReadArgs read_args(const Kwargs& kwargs, std::string_view method);

/// What a read of one part returns and where its pixels come from.
struct Plan {
  std::size_t part = 0;
  std::vector<std::string> channels;
  DType dtype = DType::float32;
  Shape shape;  ///< (H, W) or (H, W, C)
  // The pixels' window (data window of the level, or display window) in
  // the file's coordinates, and the data window the samples come from.
  std::int64_t x0 = 0, y0 = 0;
  std::int64_t data_x0 = 0, data_y0 = 0, data_x1 = 0, data_y1 = 0;
  bool tiled = false;
  int level_x = 0, level_y = 0;
};

class ExrFile {
 public:
  ExrFile(std::span<const std::byte> data, const std::string& name, const Limits& limits);
  ~ExrFile();
  ExrFile(const ExrFile&) = delete;
  ExrFile& operator=(const ExrFile&) = delete;

  std::size_t parts() const { return scan_.parts.size(); }
  /// The plan of reading `part` (DecodeError for a deep part; ArgumentError
  /// for unknown channels or levels).
  Plan plan(std::size_t part, const ReadArgs& args) const;
  /// Decodes `plan` into `dst` (shape and dtype as planned, C order).
  void decode(const Plan& plan, std::byte* dst, const Request& request);
  /// Every header attribute of `part` by name.
  Metadata metadata(std::size_t part) const;

 private:
  const Imf::Header& header(std::size_t part) const;
  Scan scan_;
  std::unique_ptr<MemoryInput> stream_;
  std::unique_ptr<Imf::MultiPartInputFile> file_;
};

/// "OpenEXR 3.1.5"
std::string openexr_version();

}  // namespace imio::exr
