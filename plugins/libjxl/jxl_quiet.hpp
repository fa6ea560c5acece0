// libjxl without stderr output. Debian 12's libjxl 0.7 keeps libjxl's
// failure tracing: every failure inside the decoder (damaged or truncated
// data) prints trace lines such as
// "./lib/jxl/dec_ans.cc:179: JXL_FAILURE: Invalid histogram count." to
// stderr through libjxl's own calls of the printf family. imio prints
// nothing, so those calls are pointed at functions that discard the text.
#pragma once

namespace imio::jxl {

/// Once per process, before the plugin's first libjxl call: when libjxl is
/// a shared library of its own (libjxl.so), the printf-family slots of its
/// PLT/GOT — and only of libjxl, never the program's or another library's —
/// are pointed at functions that print nothing. A static libjxl is left
/// alone, and so is every libjxl when IMIO_LIBJXL_DEBUG is set (to 1) in
/// the environment. How, with every guard: <imio/quiet_library.hpp>.
/// Thread-safe; never throws.
void silence_libjxl() noexcept;

/// Whether silence_libjxl() found libjxl's print slots and redirected them
/// (for the README's claim and the tests).
bool libjxl_silenced() noexcept;

}  // namespace imio::jxl
