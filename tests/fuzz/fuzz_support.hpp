#pragma once

// What the decorator fuzzers (fuzz_sealed.cpp, fuzz_compressed.cpp) share: an invariant check
// that aborts, which libFuzzer reports as a crash with the input saved, and a transport that
// keeps what it is handed instead of sending it.

#include <gossip/transport/in_memory.hpp>

#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <span>
#include <vector>

namespace fuzz {

inline void check(bool ok, const char* invariant)
{
    if (!ok) {
        std::fprintf(stderr, "fuzz: invariant violated: %s\n", invariant);
        std::abort();
    }
}

/// Keeps the last datagram sent, so that the harness can replay, cut or change it.
struct keeper {
    using address_type = gossip::transport::in_memory_address;
    std::vector<std::byte> last;
    [[nodiscard]] address_type local_address() const { return address_type{0}; }
    bool send(const address_type&, std::span<const std::byte> bytes)
    {
        last.assign(bytes.begin(), bytes.end());
        return true;
    }
};

} // namespace fuzz
