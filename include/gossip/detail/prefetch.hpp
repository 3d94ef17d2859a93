#pragma once

#include <cstddef>

namespace gossip::detail {

/// Asks the processor to start loading the cache lines of [p, p + bytes) for reading. A hint
/// only: a no-op where the compiler offers no way to express it.
inline void prefetch(const void* p, std::size_t bytes = 64) noexcept
{
#if defined(__GNUC__) || defined(__clang__)
    const auto* c = static_cast<const char*>(p);
    for (std::size_t offset = 0; offset < bytes; offset += 64) {
        __builtin_prefetch(c + offset);
    }
#else
    static_cast<void>(p);
    static_cast<void>(bytes);
#endif
}

} // namespace gossip::detail
