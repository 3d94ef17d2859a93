#pragma once

#include "../descriptor.hpp"

#include <concepts>
#include <cstddef>
#include <span>

namespace gossip {

// clang-format 14 mangles concepts and requires-clauses: kept as written.
// clang-format off
/// PeerSelection: chooses whom the active side contacts this period.
///
/// Requires `p.select(view, chosen, rng) -> std::size_t`, which writes at most chosen.size()
/// distinct indices into `view` at the front of `chosen` and returns how many it wrote. It may
/// keep state between calls (the node owns it by value); it must not assume the view's order,
/// which view selection changes at every exchange. A small, trivially copyable policy may be
/// asked on a copy (sim::simulator guesses peers ahead to prefetch their memory): select() on a
/// copy must then change nothing outside that copy.
template <class P, class Address, class Random>
concept peer_selection_policy =
    std::movable<P> && requires(P& p, std::span<const descriptor<Address>> view, std::span<std::size_t> chosen,
                                Random& rng) {
        { p.select(view, chosen, rng) } -> std::same_as<std::size_t>;
    };
// clang-format on

} // namespace gossip
