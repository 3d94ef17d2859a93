#pragma once

// A transport that keeps the last datagram it is handed instead of sending it: the send path of
// a decorator (sealed<>, compressed<>) without a network, for the benchmarks that time one and
// the fuzzers that replay, cut or change what it kept (tests/fuzz/fuzz_support.hpp).

#include <gossip/transport/in_memory.hpp>

#include <cstddef>
#include <span>
#include <vector>

namespace bench {

struct keeping_transport {
    using address_type = gossip::transport::in_memory_address;
    std::vector<std::byte> last;
    [[nodiscard]] address_type local_address() const { return address_type{0}; }
    bool send(const address_type&, std::span<const std::byte> bytes)
    {
        last.assign(bytes.begin(), bytes.end());
        return true;
    }
};

} // namespace bench
