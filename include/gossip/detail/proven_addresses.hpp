#pragma once

// The addresses a node has lately seen answer it (see gossip::max_amplification): answers to
// them are not bounded by what they sent. A direct-mapped cache of about one slot for every two
// view entries: a proof takes the slot its address hashes to, evicting whoever held it, so the
// memory is fixed from the start, traffic allocates nothing, and a member evicted simply proves
// itself again at its next answer. Only proofs enter it, so a stranger cannot evict
// anyone. Address types without a hash are never proven, which leaves every answer bounded.

#include "view_operations.hpp"

#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace gossip::detail {

template <class Address>
class proven_addresses {
public:
    /// No room: nobody is ever proven (a node that never answers needs none).
    proven_addresses() = default;

    /// Room for `slots` addresses (rounded up to a power of two, from 2 to max_slots).
    explicit proven_addresses(std::size_t slots) : slots_(std::bit_ceil(std::clamp<std::size_t>(slots, 2, max_slots)))
    {
        if constexpr (hashable_address<Address>) {
            addresses_.resize(slots_); // now, so that traffic never allocates
            used_.resize(slots_);
        }
    }

    static constexpr std::size_t max_slots = 1024;

    void add(const Address& a)
    {
        if constexpr (hashable_address<Address>) {
            if (addresses_.empty()) {
                return;
            }
            const std::size_t at = slot(a);
            addresses_[at] = a;
            used_[at] = true;
        } else {
            (void)a;
        }
    }

    [[nodiscard]] bool contains(const Address& a) const
    {
        if constexpr (hashable_address<Address>) {
            if (addresses_.empty()) {
                return false;
            }
            const std::size_t at = slot(a);
            return used_[at] && addresses_[at] == a;
        } else {
            (void)a;
            return false;
        }
    }

private:
    [[nodiscard]] std::size_t slot(const Address& a) const noexcept
    {
        // Fibonacci hashing: the top bits of the product (std::hash of an integer is often the identity).
        return static_cast<std::size_t>((address_hash(a) * 0x9E37'79B9'7F4A'7C15ULL) >>
                                        (64U - static_cast<unsigned>(std::countr_zero(slots_)))) &
               (slots_ - 1);
    }

    std::size_t slots_ = 0;
    std::vector<Address> addresses_;
    std::vector<bool> used_;
};

} // namespace gossip::detail
