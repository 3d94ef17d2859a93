#pragma once

#include "../config.hpp"
#include "../descriptor.hpp"
#include "../view.hpp"

#include <concepts>
#include <cstddef>
#include <span>

namespace gossip {

// clang-format 14 mangles concepts and requires-clauses: kept as written.
// clang-format off
/// ViewSelection: decides what a node tells a peer and what it keeps of what it is told.
///
/// Requires
/// - `v.prepare(view, count, cfg, rng) -> std::size_t`: reorders the view so that its first n
///   descriptors are the ones to send (n <= count) and returns n. The node sends them together
///   with its own fresh descriptor.
/// - `v.merge(view, received, cfg, rng)`: folds a received sample into the view. The node has
///   already removed its own address and duplicates from `received`; merge must leave the view
///   with at most cfg.view_size descriptors and no address twice.
template <class V, class Address, class Random>
concept view_selection_policy =
    std::movable<V> && requires(V& v, view<Address>& vw, std::span<const descriptor<Address>> received,
                                std::size_t count, const config& cfg, Random& rng) {
        { v.prepare(vw, count, cfg, rng) } -> std::same_as<std::size_t>;
        v.merge(vw, received, cfg, rng);
    };
// clang-format on

} // namespace gossip
