#pragma once

// Heap bytes in use, for the benchmarks' bytes-per-node and bytes-per-item counters.

#include <cstddef>

// __GLIBC__ comes from <features.h>, which <cstddef> pulls in on glibc.
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 33))
#include <malloc.h>
#define GOSSIP_BENCH_HAVE_MALLINFO2 1
#else
#define GOSSIP_BENCH_HAVE_MALLINFO2 0
#endif

namespace bench {

/// Heap bytes in use right now: glibc's in-use chunks over every arena (uordblks) plus blocks
/// served by mmap (hblkhd), which is where big vectors land. 0 where mallinfo2 does not exist.
inline std::size_t heap_in_use() noexcept
{
#if GOSSIP_BENCH_HAVE_MALLINFO2
    const struct mallinfo2 info = mallinfo2();
    return info.uordblks + info.hblkhd;
#else
    return 0;
#endif
}

} // namespace bench
