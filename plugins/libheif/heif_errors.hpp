// libheif's status codes as imio exceptions, and libheif's one-time
// initialisation.
#pragma once

#include <string_view>

struct heif_error;

namespace imio::heif {

/// heif_init() once per process (thread-safe; libheif counts the calls and
/// the plugin never deinitialises: its codecs stay registered).
void ensure_initialised();

/// Throws for a failed libheif call: LimitError for libheif's security
/// limits, DecodeError otherwise; `what` says what the plugin was doing.
void check(const heif_error& err, std::string_view what);

/// The same for the writing side: ArgumentError for what the caller chose
/// (a parameter the encoder refuses), EncodeError otherwise.
void check_encode(const heif_error& err, std::string_view what);

}  // namespace imio::heif
