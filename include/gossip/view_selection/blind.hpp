#pragma once

#include "random.hpp"

namespace gossip::view_selection {

/// The (H, S) = (0, 0) preset: blind to ages and to what was sent. The same rule as random.
using blind = random;

} // namespace gossip::view_selection
