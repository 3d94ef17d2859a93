#pragma once

#include "generalized.hpp"

namespace gossip::view_selection {

/// The parameters of view_selection::head: no healing, no swapping, the oldest surplus goes.
struct head_parameters {
    static constexpr std::size_t healer(const config& /*cfg*/) noexcept { return 0; }
    static constexpr std::size_t swapper(const config& /*cfg*/) noexcept { return 0; }
    static constexpr detail::surplus surplus = detail::surplus::oldest;
};

/// Keeps the c youngest descriptors: the freshest news wins.
using head = basic_hs<head_parameters>;

} // namespace gossip::view_selection
