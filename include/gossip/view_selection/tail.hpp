#pragma once

#include "generalized.hpp"

namespace gossip::view_selection {

/// The parameters of view_selection::tail: no healing, no swapping, the youngest surplus goes.
struct tail_parameters {
    static constexpr std::size_t healer(const config& /*cfg*/) noexcept { return 0; }
    static constexpr std::size_t swapper(const config& /*cfg*/) noexcept { return 0; }
    static constexpr detail::surplus surplus = detail::surplus::youngest;
};

/// Keeps the c oldest descriptors. Clings to what it knows, so it learns of newcomers (and
/// forgets the dead) slowly; kept as the third point of the classic comparison.
using tail = basic_hs<tail_parameters>;

} // namespace gossip::view_selection
