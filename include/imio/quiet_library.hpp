// imio — for plugins whose backend prints on stderr and has no API to stop
// it (libjxl 0.7's failure traces, GDCM's bundled IJG libjpeg warnings):
// that library's own calls of the printf family are pointed at functions
// that print nothing. imio promises nothing on stderr; redirecting fd 2
// would mute the whole process and race with other threads, and defining
// fprintf & co. in libimio would change them for every library.
#pragma once

#include <imio/export.hpp>

#include <string_view>

namespace imio {

/// Silences one shared library: the library that defines `symbol` (looked
/// up with dlsym in the process's global scope), when its file name starts
/// with `file_prefix` ("libjxl", "libgdcmjpeg8"), gets the printf-family
/// slots of its own PLT/GOT (fprintf, vfprintf, printf, fputs, puts, fputc,
/// putc, fwrite and their fortified `__*_chk` forms) pointed at functions
/// that write nothing. The program and every other library keep theirs.
///
/// Nothing is changed, and false returned, when: the symbol is not found
/// or lives in a library of another name (a static backend inside the
/// program or libimio, whose slots serve other code too); a slot holds
/// something other than what the dynamic linker put there (someone else
/// hooked it); the system is not glibc on x86-64 or AArch64; or the
/// environment variable `keep_variable` is set to anything but "" or "0"
/// (to see the library's messages while debugging).
///
/// The one effect beyond imio: another user of the same library in the
/// process no longer gets its messages. Safe to call from several threads
/// and more than once (a slot already pointed at the silent functions is
/// left as it is); never throws.
/// @return whether at least one slot of the library now points at a silent function
IMIO_EXPORT bool silence_library_output(const char* symbol, std::string_view file_prefix,
                                        const char* keep_variable) noexcept;

}  // namespace imio
