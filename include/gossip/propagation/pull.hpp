#pragma once

namespace gossip::propagation {

/// The active side asks; the passive side answers with its buffer, which the active side merges.
struct pull {
    static constexpr bool pushes = false;
    static constexpr bool pulls = true;
};

} // namespace gossip::propagation
