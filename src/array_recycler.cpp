// ArrayRecycler (include/imio/array_recycler.hpp).
#include <imio/array_recycler.hpp>
#include <imio/checked_math.hpp>

#include <mutex>
#include <span>
#include <utility>
#include <vector>

namespace imio {

struct ArrayRecycler::State {
  std::mutex mutex;
  std::vector<NDArray> idle;  // flat uint8 buffers from NDArray::uninitialized
  std::size_t keep = 0;
};

ArrayRecycler::ArrayRecycler(std::size_t keep) : state_(std::make_shared<State>()) { state_->keep = keep; }
ArrayRecycler::~ArrayRecycler() = default;
ArrayRecycler::ArrayRecycler(ArrayRecycler&&) noexcept = default;
ArrayRecycler& ArrayRecycler::operator=(ArrayRecycler&&) noexcept = default;

NDArray ArrayRecycler::allocate(Shape shape, DType dtype) {
  std::shared_ptr<NDArray> buffer;
  if (const auto n = checked_nbytes(shape, dtype)) {
    std::lock_guard<std::mutex> lock(state_->mutex);
    for (auto it = state_->idle.begin(); it != state_->idle.end(); ++it) {
      if (it->nbytes() == *n) {
        buffer = std::make_shared<NDArray>(std::move(*it));
        state_->idle.erase(it);
        break;
      }
    }
  }
  // The core's allocation (alignment, huge pages, the overflow LimitError)
  // makes new buffers; the recycler only keeps them alive between frames.
  if (!buffer) buffer = std::make_shared<NDArray>(NDArray::uninitialized(shape, dtype));
  std::byte* data = buffer->bytes();
  std::weak_ptr<State> home = state_;
  return NDArray::adopt(data, std::move(shape), dtype, [home, buffer](void*) {
    if (auto state = home.lock()) {
      std::lock_guard<std::mutex> lock(state->mutex);
      if (state->idle.size() < state->keep) state->idle.push_back(std::move(*buffer));
    }
  });
}

}  // namespace imio
