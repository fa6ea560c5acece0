// Whether freed array blocks are kept for later arrays (large_blocks.cpp,
// medium_blocks.cpp): not under AddressSanitizer, where a reused block
// would hide a use after free.
#pragma once

#if defined(__SANITIZE_ADDRESS__)
#define IMIO_KEEP_FREED_BLOCKS 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define IMIO_KEEP_FREED_BLOCKS 0
#endif
#endif
#ifndef IMIO_KEEP_FREED_BLOCKS
#define IMIO_KEEP_FREED_BLOCKS 1
#endif
