#pragma once

#include "random.hpp"

namespace gossip {

/// The ambient choices of a node that are not protocol policies. Derive and override what you
/// need:
///
///   struct my_traits : gossip::default_traits { using random_engine = std::mt19937; };
struct default_traits {
    /// One per node, seeded from the node's seed: a run replays bit for bit.
    using random_engine = pcg32;
};

} // namespace gossip
