#pragma once

#include "generalized.hpp"

namespace gossip::view_selection {

/// The parameters of view_selection::random: H = S = 0, the surplus at random.
struct random_parameters {
    static constexpr std::size_t healer(const config& /*cfg*/) noexcept { return 0; }
    static constexpr std::size_t swapper(const config& /*cfg*/) noexcept { return 0; }
    static constexpr detail::surplus surplus = detail::surplus::random;
};

/// H = S = 0: keep a uniformly random c of the view and the received sample ("rand", or blind).
using random = basic_hs<random_parameters>;

} // namespace gossip::view_selection
