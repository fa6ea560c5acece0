// imio — the machine's hardware threads, asked once per process. For
// plugins choosing a default thread count, and for applications.
#pragma once

#include <imio/export.hpp>

namespace imio {

/// std::thread::hardware_concurrency(), at least 1, asked once per process.
///
/// Why not ask each time: glibc answers by reading
/// /sys/devices/system/cpu/online (three system calls, about 2 µs), and a
/// plugin that asked on every call made 500 reads of 64×64 JPEGs 1.18× a
/// plain libjpeg loop instead of 1.05×. Thread-safe.
IMIO_EXPORT unsigned hardware_threads() noexcept;

}  // namespace imio
