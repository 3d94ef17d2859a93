#pragma once

#include "../descriptor.hpp"
#include "../detail/select_by_age.hpp"
#include "../random.hpp"

#include <cstddef>
#include <cstdint>
#include <span>

namespace gossip::peer_selection {

/// The oldest descriptors: the peers not heard of for longest. Spreads contact evenly and, with
/// a healer, finds dead links soonest (the choice of Cyclon and of Jelasity et al.'s best designs).
struct tail {
    template <class Address, random_source R>
    std::size_t select(std::span<const descriptor<Address>> view, std::span<std::size_t> chosen, R& rng) const
    {
        return detail::select_by_age(view, chosen, rng, [](std::uint32_t a, std::uint32_t b) { return a > b; });
    }
};

} // namespace gossip::peer_selection
