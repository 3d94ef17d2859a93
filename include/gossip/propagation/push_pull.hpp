#pragma once

namespace gossip::propagation {

/// Both sides send their buffer in one round trip and both merge what they receive.
struct push_pull {
    static constexpr bool pushes = true;
    static constexpr bool pulls = true;
};

} // namespace gossip::propagation
