#pragma once

#include "../descriptor.hpp"
#include "../detail/select_by_age.hpp"
#include "../random.hpp"

#include <cstddef>
#include <cstdint>
#include <span>

namespace gossip::peer_selection {

/// The youngest descriptors: the peers heard of most recently. Known to concentrate traffic on
/// a few nodes; kept for comparison with the literature.
struct head {
    template <class Address, random_source R>
    std::size_t select(std::span<const descriptor<Address>> view, std::span<std::size_t> chosen, R& rng) const
    {
        return detail::select_by_age(view, chosen, rng, [](std::uint32_t a, std::uint32_t b) { return a < b; });
    }
};

} // namespace gossip::peer_selection
