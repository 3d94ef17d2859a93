#pragma once

#include "generalized.hpp"

namespace gossip::view_selection {

/// Keeps the c oldest descriptors. Clings to what it knows, so it learns of newcomers (and
/// forgets the dead) slowly; kept as the third point of the classic comparison.
struct tail_parameters {
    static constexpr std::size_t healer(const config& /*cfg*/) noexcept { return 0; }
    static constexpr std::size_t swapper(const config& /*cfg*/) noexcept { return 0; }
    static constexpr detail::surplus surplus = detail::surplus::youngest;
};

using tail = basic_hs<tail_parameters>;

} // namespace gossip::view_selection
