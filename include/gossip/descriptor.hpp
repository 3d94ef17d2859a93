#pragma once

#include <cstdint>

namespace gossip {

/// What a node knows of a peer: where to reach it, and how many exchanges ago that news was
/// fresh. Ages only ever grow locally; a young descriptor is recent news.
template <class Address>
struct descriptor {
    Address address{};
    std::uint32_t age = 0;

    friend constexpr bool operator==(const descriptor&, const descriptor&) = default;
};

} // namespace gossip
