#pragma once

#include "../config.hpp"
#include "../descriptor.hpp"
#include "../random.hpp"
#include "../view.hpp"

#include <cstddef>
#include <span>

namespace gossip::view_selection {

/// Views never change: the overlay is whatever join() and the bootstrap made it. For studying
/// dissemination over a fixed topology, the complete graph of the classic analyses included (a
/// random-graph bootstrap with c = n - 1 makes peer_selection::random uniform over everybody).
/// Nothing is sent of the view, so messages carry only their header and payload.
struct frozen {
    template <class Address, random_source R>
    std::size_t prepare(view<Address>& /*v*/, std::size_t /*count*/, const config& /*cfg*/, R& /*rng*/) const noexcept
    {
        return 0;
    }

    template <class Address, random_source R>
    void merge(view<Address>& /*v*/, std::span<const descriptor<Address>> /*received*/, const config& /*cfg*/,
               R& /*rng*/) const noexcept
    {
    }
};

} // namespace gossip::view_selection
