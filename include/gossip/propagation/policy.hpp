#pragma once

#include <concepts>

namespace gossip {

// clang-format 14 mangles concepts and requires-clauses: kept as written.
// clang-format off
/// Propagation: who sends views in an exchange.
///
/// Requires two constants: `P::pushes` (the active side sends its buffer) and `P::pulls` (the
/// passive side answers with its buffer). At least one is true: an exchange in which nobody
/// sends anything is not an exchange.
template <class P>
concept propagation_policy = requires {
    { P::pushes } -> std::convertible_to<bool>;
    { P::pulls } -> std::convertible_to<bool>;
} && (static_cast<bool>(P::pushes) || static_cast<bool>(P::pulls));
// clang-format on

} // namespace gossip
