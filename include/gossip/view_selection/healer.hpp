#pragma once

#include "generalized.hpp"

namespace gossip::view_selection {

/// The parameters of view_selection::healer: H = c/2, S = 0, the surplus at random.
struct healer_parameters {
    static constexpr std::size_t healer(const config& cfg) noexcept { return cfg.view_size / 2; }
    static constexpr std::size_t swapper(const config& /*cfg*/) noexcept { return 0; }
    static constexpr detail::surplus surplus = detail::surplus::random;
};

/// (H, S) = (c/2, 0): the oldest half never travels and goes first. Removes dead links fastest,
/// at the price of a less even in-degree.
using healer = basic_hs<healer_parameters>;

} // namespace gossip::view_selection
