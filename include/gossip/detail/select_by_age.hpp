#pragma once

#include "../descriptor.hpp"
#include "../random.hpp"

#include <algorithm>
#include <cstddef>
#include <span>

namespace gossip::detail {

/// Writes the indices of the min(chosen.size(), view.size()) descriptors that `prefer` ranks
/// first (by age) into chosen. Ties are broken uniformly at random with one draw: find the best
/// age, count who has it, take the r-th of them. The passes are branch-free, since ages are
/// random data that a branch predictor cannot learn.
template <class Address, random_source R, class Prefer>
std::size_t select_by_age(std::span<const descriptor<Address>> view, std::span<std::size_t> chosen, R& rng,
                          Prefer prefer)
{
    const std::size_t n = view.size();
    const std::size_t k = std::min(chosen.size(), n);
    const auto taken = [&](std::size_t i, std::size_t s) {
        bool t = false;
        for (std::size_t j = 0; j < s; ++j) {
            t |= chosen[j] == i;
        }
        return t;
    };
    for (std::size_t s = 0; s < k; ++s) {
        // The best age and how many have it, in one pass: a better one starts the count anew.
        bool found = false;
        std::uint32_t best = 0;
        std::uint32_t ties = 0;
        for (std::size_t i = 0; i < n; ++i) {
            const bool free = !taken(i, s);
            const bool better = free && (!found || prefer(view[i].age, best));
            const bool equal = free && found && view[i].age == best;
            ties = better ? 1U : ties + (equal ? 1U : 0U);
            best = better ? view[i].age : best;
            found = found || better;
        }
        std::uint32_t r = uniform_below(rng, ties);
        for (std::size_t i = 0; i < n; ++i) {
            if (view[i].age == best && !taken(i, s)) {
                if (r == 0) {
                    chosen[s] = i;
                    break;
                }
                --r;
            }
        }
    }
    return k;
}

} // namespace gossip::detail
