#pragma once

#include "generalized.hpp"

namespace gossip::view_selection {

/// The parameters of view_selection::swapper: H = 0, S = c/2, the surplus at random.
struct swapper_parameters {
    static constexpr std::size_t healer(const config& /*cfg*/) noexcept { return 0; }
    static constexpr std::size_t swapper(const config& cfg) noexcept { return cfg.view_size / 2; }
    static constexpr detail::surplus surplus = detail::surplus::random;
};

/// (H, S) = (0, c/2): what is sent is given away. Evens out in-degree best (Cyclon's choice),
/// but heals slowly.
using swapper = basic_hs<swapper_parameters>;

} // namespace gossip::view_selection
