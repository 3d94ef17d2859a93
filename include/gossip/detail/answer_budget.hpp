#pragma once

// What may still go back to the address a node is answering, while it handles one datagram from
// an address not proven yet (see gossip::max_amplification). One budget serves the node's own
// reply and whatever the payload sends through the outbox meanwhile.

#include <algorithm>
#include <cstddef>

namespace gossip::detail {

template <class Address>
struct answer_budget {
    Address to{};
    std::size_t left = 0;

    /// The room a datagram to `a` may take, at most `max`.
    [[nodiscard]] std::size_t room(const Address& a, std::size_t max) const
    {
        return a == to ? std::min(max, left) : max;
    }

    /// Counts a datagram to `a` of `bytes` (which room() allowed) against the budget.
    void spend(const Address& a, std::size_t bytes) noexcept
    {
        if (a == to) {
            left -= bytes;
        }
    }
};

} // namespace gossip::detail
