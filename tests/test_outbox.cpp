// The node's skeleton for payloads that talk on their own: the outbox, direct messages, payload
// timers, the exchange gate, joining, member changes feeding the view, and combined's routing.

#include "support.hpp"
#include "talking_payload.hpp"

#include <gossip/runtime/node_driver.hpp>
#include <gossip/transport/udp.hpp>

#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <span>
#include <stdexcept>
#include <vector>

using namespace std::chrono_literals;
using times = std::vector<std::chrono::nanoseconds>;
using test::address;
using talker = test::talking_payload<address>;
using talking_node = gossip::gossip_node<gossip::transport::in_memory, gossip::peer_selection::random,
                                         gossip::view_selection::blind, gossip::propagation::push_pull, talker>;
using pair_of_talkers = gossip::payload::combined<talker, talker>;
using combined_node =
    gossip::gossip_node<gossip::transport::in_memory, gossip::peer_selection::random, gossip::view_selection::blind,
                        gossip::propagation::push_pull, pair_of_talkers>;

namespace {

// Delivers what is in flight to nodes[to], until nothing is left.
template <class Node>
void deliver(gossip::transport::in_memory_network& net, std::vector<Node>& nodes)
{
    while (net.in_flight() > 0) {
        net.deliver([&](address from, address to, std::span<const std::byte> bytes) {
            nodes[to.index].on_datagram(from, bytes);
        });
    }
}

template <class Node>
std::vector<Node> two_nodes(gossip::transport::in_memory_network& net)
{
    std::vector<Node> nodes;
    nodes.emplace_back(net.endpoint(address{0}), test::small_config(), 1);
    nodes.emplace_back(net.endpoint(address{1}), test::small_config(), 2);
    return nodes;
}

} // namespace

TEST_CASE("an outbox encodes each send as a whole direct datagram from its node")
{
    gossip::outbox<address> out(address{4}, 100);
    CHECK(out.send(address{9}, [](gossip::wire::writer& w) { w.u16(0xBEEF); }));
    CHECK(out.size() == 1);
    std::vector<std::pair<address, std::vector<std::byte>>> sent;
    out.drain([&](const address& to, std::span<const std::byte> bytes) {
        sent.emplace_back(to, std::vector(bytes.begin(), bytes.end()));
    });
    CHECK(out.empty());
    REQUIRE(sent.size() == 1);
    CHECK(sent[0].first == address{9});
    std::vector<test::descriptor> view;
    const auto m = gossip::wire::decode<address>(sent[0].second, 8, view);
    REQUIRE(m.error == gossip::wire::decode_error::none);
    CHECK(m.kind == gossip::wire::message_kind::direct);
    CHECK(m.sender == address{4});
    REQUIRE(m.payload.size() == 2);
    CHECK(m.payload[0] == std::byte{0xEF});
}

TEST_CASE("an outbox refuses a section larger than the datagram budget, and counts it")
{
    gossip::outbox<address> out(address{1}, 64);
    const std::vector<std::byte> big(out.section_room() + 1);
    CHECK_FALSE(out.send(address{2}, [&](gossip::wire::writer& w) { w.bytes(big); }));
    CHECK(out.empty());
    CHECK(out.refused() == 1);
    const std::vector<std::byte> fits(out.section_room());
    CHECK(out.send(address{2}, [&](gossip::wire::writer& w) { w.bytes(fits); }));
}

TEST_CASE("an outbox scope prefixes each section sent inside it, the outer scope first")
{
    gossip::outbox<address> out(address{1}, 100);
    {
        const auto outer = out.enter(1);
        const auto inner = out.enter(0);
        CHECK(out.send(address{2}, [](gossip::wire::writer& w) { w.u8(7); }));
    }
    CHECK(out.send(address{2}, [](gossip::wire::writer& w) { w.u8(8); }));
    std::vector<std::vector<std::byte>> payloads;
    out.drain([&](const address&, std::span<const std::byte> bytes) {
        std::vector<test::descriptor> view;
        const auto m = gossip::wire::decode<address>(bytes, 8, view);
        payloads.emplace_back(m.payload.begin(), m.payload.end());
    });
    REQUIRE(payloads.size() == 2);
    CHECK(payloads[0] == std::vector{std::byte{1}, std::byte{0}, std::byte{7}});
    CHECK(payloads[1] == std::vector{std::byte{8}});
}

TEST_CASE("a payload's timer runs when the node is woken, and what it sends is answered directly")
{
    gossip::transport::in_memory_network net(2);
    auto nodes = two_nodes<talking_node>(net);
    CHECK(nodes[0].next_timer() == talker::never);
    nodes[0].payload().peer = address{1};
    nodes[0].payload().ping_at = 5ms;
    CHECK(nodes[0].next_timer() == 5ms);
    nodes[0].on_timer(); // early: nothing due
    CHECK(net.in_flight() == 0);
    net.advance(5ms);
    nodes[0].on_timer();
    CHECK(nodes[0].next_timer() == talker::never);
    deliver(net, nodes);
    CHECK(nodes[1].payload().pinged_at == times{5ms});
    CHECK(nodes[0].payload().ponged_at == times{5ms});
    CHECK(nodes[0].statistics().messages_sent == 1);
    CHECK(nodes[1].statistics().accepted == 1);
    CHECK(nodes[0].statistics().accepted == 1);
}

TEST_CASE("a direct message to a node whose payload does not talk on its own is counted unexpected")
{
    gossip::transport::in_memory_network net(2);
    auto nodes = two_nodes<talking_node>(net);
    test::classic_node plain(net.endpoint(address{1}), test::small_config(), 3);
    nodes[0].payload().peer = address{1};
    nodes[0].payload().ping_at = 0ns;
    nodes[0].on_timer();
    net.deliver([&](address from, address, std::span<const std::byte> bytes) { plain.on_datagram(from, bytes); });
    CHECK(plain.statistics().dropped_unexpected == 1);
    CHECK(plain.statistics().accepted == 0);
}

TEST_CASE("a malformed direct message is counted and not answered")
{
    gossip::transport::in_memory_network net(2);
    auto nodes = two_nodes<talking_node>(net);
    gossip::outbox<address> forger(address{0}, 100);
    forger.send(address{1}, [](gossip::wire::writer& w) { w.u8('x'); });
    forger.drain([&](const address&, std::span<const std::byte> bytes) { nodes[1].on_datagram(address{0}, bytes); });
    CHECK(nodes[1].statistics().dropped_malformed == 1);
    CHECK(net.in_flight() == 0);
}

TEST_CASE("a payload that declines the exchange keeps the node from its periodic requests")
{
    gossip::transport::in_memory_network net(2);
    auto nodes = two_nodes<talking_node>(net);
    nodes[0].join(std::vector{address{1}});
    nodes[0].payload().exchange = false;
    nodes[0].tick();
    CHECK(net.in_flight() == 0);
    CHECK(nodes[0].statistics().cycles == 1);
    nodes[0].payload().exchange = true;
    nodes[0].tick();
    CHECK(net.in_flight() == 1);
}

TEST_CASE("joining hands the contacts to a payload that contacts seeds itself")
{
    gossip::transport::in_memory_network net(2);
    auto nodes = two_nodes<talking_node>(net);
    nodes[0].join(std::vector{address{1}});
    CHECK(nodes[0].payload().seeds == std::vector{address{1}});
    CHECK(nodes[0].view().contains(address{1}));
}

TEST_CASE("members that come up enter the view and members that go down leave it")
{
    gossip::transport::in_memory_network net(40);
    auto cfg = test::small_config(4);
    talking_node n(net.endpoint(address{0}), cfg, 7);
    auto& changes = n.payload().changes;
    changes = {{address{0}, true}, {address{1}, true}, {address{2}, true}};
    n.on_timer();                // any call into the payload takes its changes
    CHECK(n.view().size() == 2); // not itself
    CHECK(n.view().contains(address{1}));
    changes = {{address{1}, false}};
    n.on_timer();
    CHECK_FALSE(n.view().contains(address{1}));
    CHECK(n.view().size() == 1);
    // Many more than fit: the view stays at c, made only of members that came up.
    for (std::uint32_t a = 3; a < 40; ++a) {
        changes.emplace_back(address{a}, true);
    }
    n.on_timer();
    CHECK(n.view().size() == 4);
    CHECK(n.view().well_formed(address{0}, 4));
}

TEST_CASE("a view fed with more members than it holds is a uniform sample of them")
{
    // Reservoir sampling: each of 40 members fed in order ends in a view of 4 with chance 1/10.
    constexpr int trials = 4000;
    std::vector<int> kept(40, 0);
    gossip::transport::in_memory_network net(41);
    for (int t = 0; t < trials; ++t) {
        talking_node n(net.endpoint(address{40}), test::small_config(4), static_cast<std::uint64_t>(t));
        for (std::uint32_t a = 0; a < 40; ++a) {
            n.payload().changes.emplace_back(address{a}, true);
        }
        n.on_timer();
        for (const auto& d : n.view().descriptors()) {
            ++kept[d.address.index];
        }
    }
    for (const int k : kept) {
        CHECK(k == doctest::Approx(trials / 10).epsilon(0.2)); // 400 each, give or take 80 (about 4 sigma)
    }
}

TEST_CASE("combined routes a direct message to the part that sent it, and back")
{
    gossip::transport::in_memory_network net(2);
    auto nodes = two_nodes<combined_node>(net);
    auto& second = nodes[0].payload().second();
    second.peer = address{1};
    second.ping_at = 0ns;
    CHECK(nodes[0].next_timer() == 0ns);
    nodes[0].on_timer();
    deliver(net, nodes);
    CHECK(nodes[1].payload().second().pinged_at.size() == 1);
    CHECK(nodes[1].payload().first().pinged_at.empty());
    CHECK(nodes[0].payload().second().ponged_at.size() == 1);
    CHECK(nodes[0].payload().first().ponged_at.empty());
    // A part number that is neither: refused.
    gossip::outbox<address> forger(address{0}, 100);
    forger.send(address{1}, [](gossip::wire::writer& w) {
        w.u8(2);
        w.u8('p');
    });
    forger.drain([&](const address&, std::span<const std::byte> bytes) { nodes[1].on_datagram(address{0}, bytes); });
    CHECK(nodes[1].statistics().dropped_malformed == 1);
}

TEST_CASE("node_driver wakes at the payload's deadline when it comes before the next period")
{
    using udp_talker = test::talking_payload<gossip::transport::udp_address>;
    using udp_node = gossip::gossip_node<gossip::transport::udp, gossip::peer_selection::random,
                                         gossip::view_selection::blind, gossip::propagation::push_pull, udp_talker>;
    auto cfg = test::small_config();
    cfg.period = std::chrono::hours{1};
    udp_node n(gossip::transport::udp(gossip::transport::udp_address::resolve("127.0.0.1:0")), cfg, 1);
    gossip::driver_options options;
    options.random_start = false;
    const auto start = std::chrono::steady_clock::now();
    gossip::node_driver driver(n, options, start);
    CHECK(driver.next_deadline() == start); // the first period, at once
    CHECK(driver.on_deadline(start));
    CHECK(driver.next_period() > start + std::chrono::minutes{50});
    // Due now: the node reads the real clock when the timer runs, so the deadline must have come.
    const auto due = std::chrono::steady_clock::now();
    n.payload().ping_at = std::chrono::duration_cast<std::chrono::nanoseconds>(due.time_since_epoch());
    CHECK(driver.next_deadline() == due);
    CHECK_FALSE(driver.on_deadline(due));   // not the period...
    REQUIRE(n.payload().woken.size() == 1); // ...but the payload's timer
    CHECK(driver.next_deadline() == driver.next_period());
}

TEST_CASE("payloads nested deeper than max_depth are refused with the reason")
{
    gossip::outbox<gossip::transport::in_memory_address> box{gossip::transport::in_memory_address{0}, 1400};
    const auto nest = [&](auto& self, std::size_t depth) -> void {
        if (depth == 0) {
            return;
        }
        const auto scope = box.enter(static_cast<std::uint8_t>(depth));
        self(self, depth - 1);
    };
    CHECK_NOTHROW(nest(nest, gossip::outbox<gossip::transport::in_memory_address>::max_depth));
    CHECK_THROWS_WITH_AS(nest(nest, gossip::outbox<gossip::transport::in_memory_address>::max_depth + 1),
                         doctest::Contains("max_depth"), std::length_error);
    // Every scope unwound: a section sent now carries no prefix.
    CHECK(box.send(gossip::transport::in_memory_address{1}, [](gossip::wire::writer& w) { w.u8(7); }));
}
