#pragma once

#include "generalized.hpp"

namespace gossip::view_selection {

/// (H, S) = (0, c/2): what is sent is given away. Evens out in-degree best (Cyclon's choice),
/// but heals slowly.
struct swapper_parameters {
    static constexpr std::size_t healer(const config& /*cfg*/) noexcept { return 0; }
    static constexpr std::size_t swapper(const config& cfg) noexcept { return cfg.view_size / 2; }
    static constexpr detail::surplus surplus = detail::surplus::random;
};

using swapper = basic_hs<swapper_parameters>;

} // namespace gossip::view_selection
