#include "support.hpp"

#include <doctest/doctest.h>

#include <array>
#include <functional>
#include <memory>
#include <set>
#include <vector>

using gossip::wire::message_kind;
using test::address;
using test::descriptor;
namespace ps = gossip::peer_selection;
namespace vs = gossip::view_selection;
namespace pr = gossip::propagation;

namespace {

/// A handful of nodes on one network, with every datagram recorded as it is delivered.
template <class Node>
struct cluster {
    struct seen {
        address from;
        address to;
        message_kind kind;
        bool has_view;
        std::vector<descriptor> sample;
    };

    explicit cluster(std::size_t n, gossip::config cfg = test::small_config(8)) : net(n)
    {
        for (std::size_t i = 0; i < n; ++i) {
            nodes.emplace_back(net.endpoint(address{static_cast<std::uint32_t>(i)}), cfg, 100 + i);
        }
    }

    void deliver()
    {
        net.deliver([&](address from, address to, std::span<const std::byte> bytes) {
            std::vector<descriptor> sample;
            const auto m = gossip::wire::decode<address>(bytes, 64, sample);
            REQUIRE(m.error == gossip::wire::decode_error::none);
            log.push_back(seen{from, to, m.kind, m.has_view, sample});
            nodes[to.index].on_datagram(from, bytes);
        });
    }

    Node& operator[](std::size_t i) { return nodes[i]; }

    gossip::transport::in_memory_network net;
    std::vector<Node> nodes;
    std::vector<seen> log;
};

std::set<std::uint32_t> ids(const gossip::view<address>& v)
{
    std::set<std::uint32_t> out;
    for (const auto& d : v) {
        out.insert(d.address.index);
    }
    return out;
}

} // namespace

TEST_CASE("join skips the node's own address, repeats, and anything beyond c")
{
    cluster<test::classic_node> c(1, test::small_config(3));
    const auto contacts = test::addresses({0, 1, 1, 2, 3, 4});
    c[0].join(contacts);
    CHECK(ids(c[0].view()) == std::set<std::uint32_t>{1, 2, 3});
    for (const auto& d : c[0].view()) {
        CHECK(d.age == 0);
    }
}

TEST_CASE("a node that knows nobody starts no exchange")
{
    cluster<test::classic_node> c(1);
    c[0].tick();
    CHECK(c[0].statistics().cycles == 1);
    CHECK(c[0].statistics().messages_sent == 0);
    CHECK(c.net.in_flight() == 0);
}

TEST_CASE("push: the passive side merges the sender's buffer and does not answer")
{
    cluster<test::node<ps::random, vs::random, pr::push>> c(3);
    const auto known = test::addresses({1, 2});
    c[0].join(std::span(known).first(1)); // 0 knows 1
    c[0].join(std::span(known).last(1));  // and 2
    c[0].tick();
    c.deliver();
    REQUIRE(c.log.size() == 1);
    CHECK(c.log[0].kind == message_kind::request);
    CHECK(c.log[0].has_view);
    const auto target = c.log[0].to.index;
    // The receiver learns of the sender; with c = 8 the buffer holds c/2 - 1 = 3 more.
    CHECK(c[target].view().contains(address{0}));
    CHECK(c[target].statistics().messages_sent == 0);
}

TEST_CASE("pull: the request carries no view and only the active side merges the reply")
{
    cluster<test::node<ps::random, vs::random, pr::pull>> c(3);
    const auto a = test::addresses({1});
    const auto b = test::addresses({2});
    c[0].join(a);
    c[1].join(b);
    c[0].tick();
    c.deliver();
    REQUIRE(c.log.size() == 2);
    CHECK(c.log[0].kind == message_kind::request);
    CHECK_FALSE(c.log[0].has_view);
    CHECK(c.log[1].kind == message_kind::reply);
    CHECK(c.log[1].has_view);
    CHECK(ids(c[0].view()) == std::set<std::uint32_t>{1, 2}); // 1's fresh self and its view
    CHECK(ids(c[1].view()) == std::set<std::uint32_t>{2});    // the passive side learned nothing
}

TEST_CASE("push-pull: both sides merge what the other sent")
{
    cluster<test::node<ps::random, vs::random, pr::push_pull>> c(4);
    const auto a = test::addresses({1, 2});
    const auto b = test::addresses({3});
    c[0].join(std::span(a).first(1));
    c[1].join(b);
    c[0].tick();
    c.deliver();
    REQUIRE(c.log.size() == 2);
    CHECK(c.log[0].has_view);
    CHECK(c.log[1].has_view);
    CHECK(ids(c[0].view()) == std::set<std::uint32_t>{1, 3});
    CHECK(ids(c[1].view()) == std::set<std::uint32_t>{0, 3});
}

TEST_CASE("the buffer holds at most c/2 - 1 descriptors from the view, and no receiver keeps itself")
{
    cluster<test::node<ps::random, vs::random, pr::push>> c(20, test::small_config(10));
    const auto everyone = test::addresses({1, 2, 3, 4, 5, 6, 7, 8, 9, 10});
    c[0].join(everyone);
    for (int t = 0; t < 30; ++t) {
        c[0].tick();
        c.deliver();
    }
    for (const auto& s : c.log) {
        CHECK(s.sample.size() <= 4);
    }
    for (std::size_t i = 1; i <= 10; ++i) {
        CHECK_FALSE(c[i].view().contains(address{static_cast<std::uint32_t>(i)}));
    }
}

TEST_CASE("fanout k contacts k distinct peers each period")
{
    auto cfg = test::small_config(8);
    cfg.fanout = 3;
    cluster<test::node<ps::random, vs::random, pr::push>> c(6, cfg);
    const auto known = test::addresses({1, 2, 3, 4, 5});
    c[0].join(known);
    c[0].tick();
    c.deliver();
    std::set<std::uint32_t> targets;
    for (const auto& s : c.log) {
        targets.insert(s.to.index);
    }
    CHECK(c.log.size() == 3);
    CHECK(targets.size() == 3);
}

TEST_CASE("ages grow by one each active period")
{
    cluster<test::node<ps::random, vs::random, pr::push>> c(3);
    const auto known = test::addresses({1, 2});
    c[0].join(known);
    c.net.crash(address{1});
    c.net.crash(address{2});
    for (int t = 0; t < 4; ++t) {
        c[0].tick();
    }
    for (const auto& d : c[0].view()) {
        CHECK(d.age == 4);
    }
}

TEST_CASE("a malformed datagram is counted and leaves the view untouched")
{
    cluster<test::classic_node> c(2);
    const auto known = test::addresses({1});
    c[0].join(known);
    const auto before = c[0].view();
    const std::vector<std::byte> junk{std::byte{0x47}, std::byte{0x53}, std::byte{1}, std::byte{1}, std::byte{200}};
    c[0].on_datagram(address{1}, junk);
    CHECK(c[0].statistics().dropped_malformed == 1);
    CHECK(c[0].statistics().accepted == 0);
    CHECK(c[0].view() == before);
    CHECK(c.net.in_flight() == 0);
}

namespace {

std::vector<std::byte> request_from(address sender, const std::vector<descriptor>& sample,
                                    message_kind kind = message_kind::request)
{
    std::vector<std::byte> buffer(1400);
    gossip::wire::writer w{std::span(buffer)};
    const std::span<const descriptor> s(sample);
    REQUIRE(gossip::wire::encode(w, kind, sender, &s, [](auto&) {}));
    buffer.resize(w.size());
    return buffer;
}

} // namespace

TEST_CASE("a datagram that claims to come from the node itself is dropped")
{
    cluster<test::classic_node> c(3);
    c[0].on_datagram(address{1}, request_from(address{0}, test::descriptors({{2, 0}})));
    CHECK(c[0].statistics().dropped_unexpected == 1);
    CHECK(c[0].view().empty());
}

TEST_CASE("a push-only node drops replies, which it never asks for")
{
    cluster<test::node<ps::random, vs::random, pr::push>> c(3);
    c[0].on_datagram(address{1}, request_from(address{1}, test::descriptors({{2, 0}}), message_kind::reply));
    CHECK(c[0].statistics().dropped_unexpected == 1);
    CHECK(c[0].view().empty());
}

TEST_CASE("a sample listing the receiver itself or one address twice is cleaned before merging")
{
    cluster<test::node<ps::random, vs::random, pr::push>> c(5);
    c[0].on_datagram(address{1}, request_from(address{1}, test::descriptors({{0, 0}, {2, 9}, {2, 3}, {3, 1}})));
    CHECK(c[0].statistics().accepted == 1);
    CHECK(ids(c[0].view()) == std::set<std::uint32_t>{1, 2, 3});
    CHECK(c[0].view()[c[0].view().find(address{2})].age == 4); // the younger copy, aged once
}

TEST_CASE("a sample larger than the view, from a peer with a larger c, is merged and trimmed to c")
{
    cluster<test::node<ps::random, vs::random, pr::push>> c(2, test::small_config(4));
    std::vector<descriptor> many;
    for (std::uint32_t i = 10; i < 20; ++i) {
        many.push_back(descriptor{address{i}, 0});
    }
    c[0].on_datagram(address{1}, request_from(address{1}, many));
    CHECK(c[0].statistics().accepted == 1);
    CHECK(c[0].view().size() == 4);
    CHECK(c[0].view().well_formed(address{0}, 4));
}

TEST_CASE("a pull node does not merge a view pushed at it by a peer composed otherwise")
{
    cluster<test::node<ps::random, vs::random, pr::pull>> c(3);
    c[0].on_datagram(address{1}, request_from(address{1}, test::descriptors({{2, 0}})));
    CHECK(c[0].statistics().accepted == 1);
    CHECK(c[0].view().empty());
    CHECK(c[0].statistics().messages_sent == 1); // it still answers the request
}

TEST_CASE("a datagram budget smaller than c/2 descriptors trims the buffer instead of oversending")
{
    auto cfg = test::small_config(60);
    cfg.max_message_bytes = 100; // room for (100 - 15) / 8 = 10 descriptors
    cluster<test::node<ps::random, vs::random, pr::push>> c(70, cfg);
    std::vector<address> known;
    for (std::uint32_t i = 1; i <= 60; ++i) {
        known.push_back(address{i});
    }
    c[0].join(known);
    c[0].tick();
    c.deliver();
    REQUIRE(c.log.size() == 1);
    CHECK(c.log[0].sample.size() == 10);
    CHECK(c.net.statistics().bytes_sent <= 100);
}

TEST_CASE("random_peer draws uniformly from the view, and nothing from an empty one")
{
    cluster<test::classic_node> c(1);
    CHECK_FALSE(c[0].random_peer().has_value());
    const auto known = test::addresses({1, 2, 3, 4});
    c[0].join(known);
    std::array<int, 5> drawn{};
    for (int i = 0; i < 8000; ++i) {
        const auto p = c[0].random_peer();
        REQUIRE(p.has_value());
        ++drawn[p->index];
    }
    CHECK(drawn[0] == 0);
    for (std::size_t id = 1; id <= 4; ++id) {
        CHECK(drawn[id] == doctest::Approx(2000).epsilon(0.08));
    }
}

namespace {

// A transport that delivers inside send(): the strictest test of a node's re-entrancy, since the
// receiver's reply reaches the sender before the sender's send() has returned.
struct synchronous_transport {
    using address_type = address;
    using deliver_fn = std::function<void(address, address, std::span<const std::byte>)>;

    address self;
    std::shared_ptr<deliver_fn> deliver;

    [[nodiscard]] address local_address() const { return self; }
    bool send(const address& to, std::span<const std::byte> bytes)
    {
        (*deliver)(self, to, bytes);
        return true;
    }
};

} // namespace

TEST_CASE("a transport that delivers from inside send() does not mix up the nodes' samples")
{
    using sync_node = gossip::gossip_node<synchronous_transport, ps::random, vs::random, pr::push_pull>;
    auto deliver = std::make_shared<synchronous_transport::deliver_fn>();
    std::vector<sync_node> nodes;
    const auto cfg = test::small_config(10); // buffers of c/2 - 1 = 4
    for (std::uint32_t i = 0; i < 6; ++i) {
        nodes.emplace_back(synchronous_transport{address{i}, deliver}, cfg, i);
    }
    *deliver = [&](address from, address to, std::span<const std::byte> bytes) {
        nodes[to.index].on_datagram(from, bytes);
    };
    const auto known = test::addresses({1, 2, 3, 4});
    const auto other = test::addresses({5});
    nodes[0].join(known);
    nodes[1].join(other);
    nodes[0].tick(); // to one of 1..4, which answers while node 0 is still sending
    std::size_t target = 1;
    while (nodes[target].statistics().accepted == 0) {
        ++target;
    }
    // The target learned node 0 and every other descriptor node 0 sent it.
    CHECK(nodes[target].view().contains(address{0}));
    for (std::uint32_t id = 1; id <= 4; ++id) {
        if (id != target) {
            CHECK(nodes[target].view().contains(address{id}));
        }
    }
    CHECK(nodes[0].statistics().accepted == 1); // the reply
    for (const auto& n : nodes) {
        CHECK(n.view().well_formed(n.address(), 10));
    }
}
