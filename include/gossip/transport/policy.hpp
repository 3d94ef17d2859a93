#pragma once

#include "../wire/codec.hpp"

#include <chrono>
#include <concepts>
#include <cstddef>
#include <span>

namespace gossip {

// clang-format 14 mangles concepts and requires-clauses: kept as written.
// clang-format off
/// Transport: moves datagrams between addresses and knows nothing about gossip.
///
/// Requires
/// - `T::address_type`: a regular type (copyable, equality-comparable) with a wire codec, so
///   that descriptors can carry it;
/// - `t.local_address()`: the address peers reach this node at;
/// - `t.send(to, bytes) -> bool`: hands one datagram to the network. true means accepted (it may
///   still be lost on the way, as with UDP); false means refused locally and is counted.
///
/// Receiving is driven from outside (a simulator or an event loop), which calls
/// gossip_node::on_datagram; a transport therefore needs no callback into the node. A transport
/// may even deliver synchronously from inside send(): the node is re-entrant.
///
/// Optionally, `t.expect_send(to)`: told as soon as the node has chosen a peer, before it builds
/// the datagram, so that a transport able to warm the path (the simulator prefetches the
/// receiver's memory) can overlap that with the work in between.
template <class T>
concept transport_policy = std::movable<T> && requires(T& t, const T& ct, const typename T::address_type& to,
                                                std::span<const std::byte> bytes) {
    typename T::address_type;
    requires std::regular<typename T::address_type>;
    requires wire::encodable<typename T::address_type>;
    { ct.local_address() } -> std::convertible_to<typename T::address_type>;
    { t.send(to, bytes) } -> std::same_as<bool>;
};
// clang-format on

// clang-format off
/// Whether a transport offers the optional expect_send() hint.
template <class T>
concept transport_with_send_hint = transport_policy<T> && requires(T& t, const typename T::address_type& to) {
    t.expect_send(to);
};
// clang-format on

} // namespace gossip

namespace gossip {

// clang-format off
/// Whether a transport can vouch that a datagram's source address is its true sender:
/// `t.sources_authentic()`. A simulated network that nobody forges for can; a node on such a
/// transport keeps none of the defences against forged sources (address cookies, the bound on
/// answers to an unproven address), which saves their bytes on the wire and their memory.
template <class T>
concept transport_with_source_authenticity = transport_policy<T> && requires(const T& t) {
    { t.sources_authentic() } -> std::convertible_to<bool>;
};
// clang-format on

// clang-format off
/// Whether a transport keeps time of its own: `t.now()`, a std::chrono::nanoseconds since an
/// origin of the transport's choosing. A simulated network keeps simulated time, so that a
/// timeout of three periods is three rounds whatever the host does; a transport without a clock
/// leaves the node on std::chrono::steady_clock.
template <class T>
concept transport_with_clock = transport_policy<T> && requires(const T& t) {
    { t.now() } -> std::convertible_to<std::chrono::nanoseconds>;
};
// clang-format on

} // namespace gossip

namespace gossip {

// clang-format off
/// Whether a transport checks or transforms what arrives before the node decodes it:
/// `t.inbound(from, bytes, f)` calls f(bytes the node should read) and returns true, or returns
/// false, having counted why, for a datagram the node must not see (transport::sealed refuses
/// forged and replayed ones this way). gossip_node::on_datagram goes through it.
template <class T>
concept transport_with_inbound = transport_policy<T> &&
    requires(T& t, const typename T::address_type& from, std::span<const std::byte> bytes) {
    { t.inbound(from, bytes, [](std::span<const std::byte>) {}) } -> std::same_as<bool>;
};
// clang-format on

} // namespace gossip
