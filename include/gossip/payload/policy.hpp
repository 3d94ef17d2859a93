#pragma once

#include "../outbox.hpp"
#include "../wire/message.hpp"
#include "../wire/reader.hpp"
#include "../wire/writer.hpp"

#include <chrono>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <span>

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
/// - the capabilities of a payload that talks on its own, below: timers and direct messages
///   (payload_with_messages), a say in whether the node runs its periodic exchange
///   (payload_with_exchange_gate), seeds (payload_with_join), and members to feed the node's
///   view with (payload_with_peer_changes).
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
    /// config::max_message_bytes: the largest datagram the node sends, header included.
    std::size_t max_message_bytes = 1400;
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

// clang-format off
/// A payload with timers of its own: `p.next_deadline()` says when, on the node's clock.
template <class P>
concept payload_with_deadline = requires(const P& p) {
    { p.next_deadline() } -> std::convertible_to<std::chrono::nanoseconds>;
};
// clang-format on

// clang-format off
/// A payload that talks on its own, outside the node's periodic exchanges (SWIM: a ping to a
/// member it chose, an ack when pinged, a ping-req through others, a probe timeout shorter than
/// the node's period).
///
/// Requires
/// - `p.next_deadline() -> std::chrono::nanoseconds`: when on_timer() must run next, on the
///   node's clock; `nanoseconds::max()` for never. Asked after every call into the payload;
/// - `p.on_timer(now, out)`: runs what is due at `now` and queues what it sends in `out`;
/// - `p.receive(from, r, now, out) -> bool`: a direct message from `from` (the transport's
///   source address), its section in `r`; false means malformed, and the node counts it.
///
/// Every driver honours the deadline: gossip_node::next_timer() and on_timer(), node_driver,
/// run_loop and sim::event_simulator, so a seed still replays a simulated run exactly.
template <class P, class Address>
concept payload_with_messages = requires(P& p, const P& cp, const Address& from, wire::reader& r,
                                         std::chrono::nanoseconds now, outbox<Address>& out) {
    { cp.next_deadline() } -> std::convertible_to<std::chrono::nanoseconds>;
    p.on_timer(now, out);
    { p.receive(from, r, now, out) } -> std::same_as<bool>;
};
// clang-format on

// clang-format off
/// A payload that decides whether the node runs its periodic exchange this period: asked at
/// every tick(), after on_period(). A payload that spreads its state on its own (SWIM) answers
/// false, so that an idle node sends nothing but its own probes; composed with a payload that
/// needs the exchanges (a replicated store), the exchange runs when either part wants it.
template <class P>
concept payload_with_exchange_gate = requires(const P& p) {
    { p.wants_exchange() } -> std::same_as<bool>;
};
// clang-format on

// clang-format off
/// A payload that contacts seeds itself when the node joins (SWIM asks them for their member
/// lists). gossip_node::join() hands it the contacts as well as putting them in the view.
template <class P, class Address>
concept payload_with_join = requires(P& p, std::span<const Address> seeds, std::chrono::nanoseconds now,
                                     outbox<Address>& out) {
    p.join(seeds, now, out);
};
// clang-format on

// clang-format off
/// A payload that knows which members are alive and tells the node, so that failure detection
/// feeds the overlay: after every call into the payload the node takes the changes, adds a member
/// that came up to its view (a uniform sample once the view is full) and removes one that went
/// down, so that peer selection never draws a member declared failed.
/// `take_peer_changes(f)` calls f(address, up) for each change since the last call, in order.
template <class P, class Address>
concept payload_with_peer_changes = requires(P& p) {
    p.take_peer_changes([](const Address&, bool) {});
};
// clang-format on

} // namespace gossip
