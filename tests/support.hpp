#pragma once

// Small helpers shared by the test files.

#include <gossip/gossip.hpp>

#include <doctest/doctest.h>

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

namespace test {

using address = gossip::transport::in_memory_address;
using descriptor = gossip::descriptor<address>;

template <class PeerSelection, class ViewSelection, class Propagation>
using node = gossip::gossip_node<gossip::transport::in_memory, PeerSelection, ViewSelection, Propagation>;

using classic_node = node<gossip::peer_selection::tail, gossip::view_selection::healer, gossip::propagation::push_pull>;

inline gossip::config small_config(std::size_t c = 8)
{
    gossip::config cfg;
    cfg.view_size = c;
    return cfg;
}

inline std::vector<address> addresses(std::initializer_list<std::uint32_t> ids)
{
    std::vector<address> out;
    for (auto id : ids) {
        out.push_back(address{id});
    }
    return out;
}

inline std::vector<descriptor> descriptors(std::initializer_list<std::pair<std::uint32_t, std::uint32_t>> items)
{
    std::vector<descriptor> out;
    for (auto [id, age] : items) {
        out.push_back(descriptor{address{id}, age});
    }
    return out;
}

/// The bytes of a text, as a datagram or a section to hand around.
inline std::vector<std::byte> bytes_of(std::string_view text)
{
    const auto b = std::as_bytes(std::span(text));
    return {b.begin(), b.end()};
}

/// The view's invariants for the node at `self` with view size c.
template <class View>
bool well_formed(const View& v, address self, std::size_t c)
{
    return v.well_formed(self, c);
}

/// The section a payload writes for an outgoing message of `kind`, within `budget` bytes.
template <class Payload>
std::vector<std::byte> section(Payload& p, gossip::wire::message_kind kind, std::size_t budget = 1400)
{
    std::vector<std::byte> buffer(budget);
    gossip::wire::writer w{std::span(buffer)};
    p.write(w, kind);
    REQUIRE(w.ok());
    buffer.resize(w.size());
    return buffer;
}

/// Hands `bytes` to a payload as the section of a received message of `kind`; its verdict.
template <class Payload>
bool feed(Payload& p, std::span<const std::byte> bytes, gossip::wire::message_kind kind)
{
    gossip::wire::reader r{bytes};
    return p.read(r, kind);
}

/// Rumor options for one termination strategy; the rest at their defaults.
inline gossip::payload::rumor_options rumor(gossip::payload::spread mode, gossip::payload::interest loss,
                                            gossip::payload::stop rule, std::uint32_t k)
{
    gossip::payload::rumor_options o;
    o.mode = mode;
    o.loss = loss;
    o.rule = rule;
    o.k = k;
    return o;
}

/// Two endpoints of an in-memory network under one transport decorator (sealed<>, compressed<>),
/// a at 0 sending to b at 1: what crossed the wire, and what b's check handed on to its "node".
/// `make(endpoint, index)` builds each decorated endpoint.
template <class Decorated>
struct decorated_pair {
    gossip::transport::in_memory_network net{2};
    Decorated a;
    Decorated b;
    std::vector<std::vector<std::byte>> at_b;
    std::vector<std::vector<std::byte>> wire;

    template <class Make>
    explicit decorated_pair(Make&& make)
        : a(make(net.endpoint(gossip::transport::in_memory_address{0}), 0)),
          b(make(net.endpoint(gossip::transport::in_memory_address{1}), 1))
    {
    }

    /// Hands bytes to b as if from a; whether b's check passed them.
    bool offer(std::span<const std::byte> bytes)
    {
        return b.inbound(gossip::transport::in_memory_address{0}, bytes,
                         [&](std::span<const std::byte> plain) { at_b.emplace_back(plain.begin(), plain.end()); });
    }

    /// Delivers what is in flight, recording it on the wire and offering what is for b; how
    /// many b's check passed.
    std::size_t deliver()
    {
        std::size_t passed = 0;
        net.deliver([&](gossip::transport::in_memory_address, gossip::transport::in_memory_address to,
                        std::span<const std::byte> bytes) {
            wire.emplace_back(bytes.begin(), bytes.end());
            if (to.index == 1) {
                passed += offer(bytes) ? 1 : 0;
            }
        });
        return passed;
    }
};

/// Bootstraps a 2,000-node ring lattice (c = 20), runs it with run(sim), and checks that it
/// ends as short and unclustered as a random graph of the same size, in one piece; returns the
/// simulator for further checks.
template <class Node, class Run>
gossip::sim::simulator<Node> check_ring_mixes(Run run)
{
    constexpr std::size_t n = 2000;
    const auto cfg = small_config(20);
    gossip::sim::simulator<Node> random(n, cfg, 5);
    random.bootstrap(gossip::sim::random_graph{});
    const auto reference = random.measure();
    gossip::sim::simulator<Node> ring(n, cfg, 5);
    ring.bootstrap(gossip::sim::lattice{});
    const auto start = ring.measure();
    CHECK(start.average_path_length > 10 * reference.average_path_length);
    run(ring);
    const auto end = ring.measure();
    CHECK(end.average_path_length < 1.1 * reference.average_path_length);
    CHECK(end.clustering_coefficient < 0.1 * start.clustering_coefficient);
    CHECK(end.in_degree_stddev > 0.5 * reference.in_degree_stddev); // no longer a regular lattice
    CHECK(end.components == 1);
    return ring;
}

} // namespace test
