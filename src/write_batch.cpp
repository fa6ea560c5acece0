#include <imio/write_batch.hpp>

namespace imio {

bool pillow_write_is_batch(const NDArray& array, bool from_list, std::optional<bool> is_batch,
                           std::optional<bool> single_band_mode) {
  if (from_list) return false;
  if (is_batch) return *is_batch;
  if (single_band_mode) return array.ndim() > (*single_band_mode ? 2u : 3u);
  return array.ndim() == 4 || (array.ndim() == 3 && array.shape()[2] > 4);
}

}  // namespace imio
