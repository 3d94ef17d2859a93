#pragma once

#include "../wire/message.hpp"
#include "../wire/reader.hpp"
#include "../wire/writer.hpp"

#include <chrono>
#include <concepts>
#include <cstdint>

namespace gossip {

// clang-format 14 mangles concepts and requires-clauses: kept as written.
// clang-format off
/// Payload: the application state that rides on every exchange.
///
/// Requires
/// - `p.write(w, kind)`: appends this node's payload section for an outgoing message of `kind`;
///   it must fit w.remaining() (the writer fails, and the message is not sent, when it does not);
/// - `p.read(r, kind) -> bool`: applies a received section; false means it was malformed, and the
///   node counts the datagram as dropped. The reader spans exactly the section.
///
/// Optionally (each detected on its own; see the concepts below):
/// - `p.start(const payload_context<Address>&)`: called once by the node's constructor;
/// - `p.on_period(now)`: called at the start of every active period, before anything is sent;
/// - `p.wants_reply() -> bool`: asked right after read(); true makes the node answer the sender
///   even where the propagation policy would not (a payload-only reply to a request, or a
///   follow-up to a reply or follow-up), and lets a push-only node accept replies at all.
///   The answer's section comes from write() with the answer's kind.
template <class P>
concept payload_policy = std::movable<P> && requires(P& p, wire::writer& w, wire::reader& r, wire::message_kind kind) {
    p.write(w, kind);
    { p.read(r, kind) } -> std::same_as<bool>;
};
// clang-format on

/// What a node tells its payload at construction: its own address, a seed for the payload's own
/// random choices (derived from the node's seed, so that a run still replays exactly), and the
/// period on_period() is meant to be called at.
template <class Address>
struct payload_context {
    Address self{};
    std::uint64_t seed = 0;
    /// config::period; zero when unknown. A driver that falls behind calls on_period() less often.
    std::chrono::nanoseconds period{0};
};

// clang-format off
/// A payload that wants to know its node's address and a seed.
template <class P, class Address>
concept payload_with_start = requires(P& p, const payload_context<Address>& context) { p.start(context); };
// clang-format on

// clang-format off
/// A payload with work to do every period (aging rumors, beating a heart, checking timeouts).
/// `now` is the node's clock: the transport's when it has one, std::chrono::steady_clock's
/// otherwise.
template <class P>
concept payload_with_period = requires(P& p, std::chrono::nanoseconds now) { p.on_period(now); };
// clang-format on

// clang-format off
/// A payload that can ask for an answer to what it has just read.
template <class P>
concept payload_with_replies = requires(const P& p) {
    { p.wants_reply() } -> std::same_as<bool>;
};
// clang-format on

// clang-format off
/// A payload that can announce that its node leaves the cluster (membership can); run_loop
/// calls leave() at shutdown and sends a last few periods.
template <class P>
concept payload_with_leave = requires(P& p) { p.leave(); };
// clang-format on

} // namespace gossip
