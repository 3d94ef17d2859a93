#pragma once

// What the decorator fuzzers (fuzz_sealed.cpp, fuzz_compressed.cpp) share: an invariant check
// that aborts, which libFuzzer reports as a crash with the input saved, and a transport that
// keeps what it is handed instead of sending it.

#include "../../bench/keeping_transport.hpp"

#include <cstdio>
#include <cstdlib>

namespace fuzz {

inline void check(bool ok, const char* invariant)
{
    if (!ok) {
        std::fprintf(stderr, "fuzz: invariant violated: %s\n", invariant);
        std::abort();
    }
}

/// Keeps the last datagram sent, so that the harness can replay, cut or change it: the
/// benchmarks' transport of the same purpose.
using keeper = bench::keeping_transport;

} // namespace fuzz
