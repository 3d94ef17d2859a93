#pragma once

#include "../descriptor.hpp"
#include "../random.hpp"

#include <algorithm>
#include <cstddef>
#include <span>

namespace gossip::peer_selection {

/// Uniformly random distinct peers from the view ("rand" in Jelasity et al.).
struct random {
    template <class Address, random_source R>
    std::size_t select(std::span<const descriptor<Address>> view, std::span<std::size_t> chosen, R& rng) const
    {
        // Floyd's algorithm: k distinct indices in k draws, whatever k is.
        const std::size_t n = view.size();
        const std::size_t k = std::min(chosen.size(), n);
        std::size_t written = 0;
        for (std::size_t j = n - k; j < n; ++j) {
            const std::size_t t = uniform_index(rng, j + 1);
            const auto end = chosen.begin() + static_cast<std::ptrdiff_t>(written);
            chosen[written++] = std::find(chosen.begin(), end, t) == end ? t : j;
        }
        return k;
    }
};

} // namespace gossip::peer_selection
