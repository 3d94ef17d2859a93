#pragma once

namespace gossip::propagation {

/// The active side sends its buffer; the passive side merges it and does not answer.
struct push {
    static constexpr bool pushes = true;
    static constexpr bool pulls = false;
};

} // namespace gossip::propagation
