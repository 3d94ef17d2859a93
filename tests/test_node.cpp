#include "support.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <set>
#include <span>
#include <utility>
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

TEST_CASE("after_exchange aging: the active side ages after merging the reply, as in Jelasity et al.")
{
    auto cfg = test::small_config(8);
    cluster<test::node<ps::random, vs::blind, pr::pull>> c(3, cfg);
    REQUIRE(cfg.aging == gossip::view_aging::after_exchange); // the default
    c[0].join(test::addresses({1}));
    c[1].join(test::addresses({2}));
    c[0].tick();
    c.deliver();
    REQUIRE(c.log.size() == 2);
    // The reply brought 1 (age 0) and 2 (age 0 at 1): both merged, then the cycle's aging.
    CHECK(c[0].view()[c[0].view().find(address{1})].age == 1);
    CHECK(c[0].view()[c[0].view().find(address{2})].age == 1);
}

TEST_CASE("cycle_start aging: the active side ages before selecting, so the reply enters younger")
{
    auto cfg = test::small_config(8);
    cfg.aging = gossip::view_aging::cycle_start;
    cluster<test::node<ps::random, vs::blind, pr::pull>> c(3, cfg);
    c[0].join(test::addresses({1}));
    c[1].join(test::addresses({2}));
    c[0].tick();
    c.deliver();
    REQUIRE(c.log.size() == 2);
    CHECK(c[0].view()[c[0].view().find(address{1})].age == 0);
    CHECK(c[0].view()[c[0].view().find(address{2})].age == 0);
}

TEST_CASE("after_exchange aging: a reply that never comes is given up at the next cycle, which ages the view")
{
    cluster<test::node<ps::random, vs::blind, pr::pull>> c(3);
    c[0].join(test::addresses({1, 2}));
    c.net.crash(address{1});
    c.net.crash(address{2});
    c[0].tick();
    for (const auto& d : c[0].view()) {
        CHECK(d.age == 0); // the reply may still come
    }
    for (int t = 0; t < 3; ++t) {
        c[0].tick();
    }
    for (const auto& d : c[0].view()) {
        CHECK(d.age == 3); // one cycle older per reply given up; the last one is still awaited
    }
}

TEST_CASE("after_exchange aging: a push-only node ages at the end of its cycle, having sent")
{
    cluster<test::node<ps::random, vs::blind, pr::push>> c(3);
    c[0].join(test::addresses({1, 2}));
    c[0].tick();
    for (const auto& d : c[0].view()) {
        CHECK(d.age == 1);
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

// --- the receive path's shortcuts, against plain reference versions ---------------------------

namespace {

using gossip::transport::udp_address;

// What sanitize promises: the node's own address out; of an address given twice, one copy with
// the youngest age, where the first copy was.
template <class Address>
std::vector<gossip::descriptor<Address>> reference_sanitized(const std::vector<gossip::descriptor<Address>>& sample,
                                                             const Address& self)
{
    std::vector<gossip::descriptor<Address>> out;
    for (const auto& d : sample) {
        if (d.address == self) {
            continue;
        }
        const auto it = std::find_if(out.begin(), out.end(), [&](const auto& e) { return e.address == d.address; });
        if (it != out.end()) {
            it->age = std::min(it->age, d.age);
        } else {
            out.push_back(d);
        }
    }
    return out;
}

template <class Address>
std::vector<std::byte> request_with(const Address& sender, const std::vector<gossip::descriptor<Address>>& sample)
{
    std::vector<std::byte> buffer(4096);
    gossip::wire::writer w{std::span(buffer)};
    const std::span<const gossip::descriptor<Address>> s(sample);
    REQUIRE(gossip::wire::encode(w, message_kind::request, sender, &s, [](auto&) {}));
    buffer.resize(w.size());
    return buffer;
}

// Two nodes alike but for their own address: `raw` receives samples full of its own address and
// of repeats, `clean` the same samples as the reference cleans them. Their views must stay equal.
// `others` are the addresses besides the nodes' own.
template <class Node>
void check_twins(Node& raw, Node& clean, const std::vector<typename Node::address_type>& others, std::uint64_t seed)
{
    using address_type = typename Node::address_type;
    using entry = gossip::descriptor<address_type>;
    const std::vector<address_type> contacts(others.begin(), others.begin() + 4);
    raw.join(contacts);
    clean.join(contacts);
    gossip::pcg32 rng(seed);
    // Index 0 stands for the receiving node itself.
    const auto at = [&](const Node& n, std::size_t i) { return i == 0 ? n.address() : others[i - 1]; };
    for (int round = 0; round < 400; ++round) {
        std::vector<std::pair<std::size_t, std::uint32_t>> picks;
        const std::size_t n = rng() % 24;
        for (std::size_t k = 0; k < n; ++k) {
            picks.emplace_back(rng() % (others.size() + 1), rng() % 12);
        }
        const std::size_t sender = 1 + rng() % others.size();
        const auto sample_for = [&](const Node& node, const auto& list) {
            std::vector<entry> out;
            for (const auto& [i, age] : list) {
                out.push_back(entry{at(node, i), age});
            }
            return out;
        };
        // The node appends the sender, fresh, before cleaning: so does the reference. The clean
        // twin then gets it without that last copy when it was not in the sample already (its
        // own node appends it again).
        auto with_sender = sample_for(clean, picks);
        with_sender.push_back(entry{at(clean, sender), 0});
        auto cleaned = reference_sanitized(with_sender, clean.address());
        if (cleaned.back().address == at(clean, sender) &&
            std::none_of(picks.begin(), picks.end(), [&](const auto& p) { return p.first == sender; })) {
            cleaned.pop_back();
        }
        raw.on_datagram(at(raw, sender), request_with(at(raw, sender), sample_for(raw, picks)));
        clean.on_datagram(at(clean, sender), request_with(at(clean, sender), cleaned));
        CAPTURE(round);
        REQUIRE(raw.statistics().accepted == clean.statistics().accepted);
        REQUIRE(std::vector<entry>(raw.view().begin(), raw.view().end()) ==
                std::vector<entry>(clean.view().begin(), clean.view().end()));
    }
}

template <class Address>
std::vector<gossip::descriptor<Address>> random_descriptors(gossip::pcg32& rng, const std::vector<Address>& pool,
                                                            std::size_t n, std::uint32_t ages)
{
    std::vector<gossip::descriptor<Address>> out;
    for (std::size_t k = 0; k < n; ++k) {
        out.push_back(gossip::descriptor<Address>{pool[rng() % pool.size()], rng() % ages});
    }
    return out;
}

template <class Address>
std::vector<gossip::descriptor<Address>> distinct(std::vector<gossip::descriptor<Address>> v)
{
    std::vector<gossip::descriptor<Address>> out;
    for (const auto& d : v) {
        if (std::none_of(out.begin(), out.end(), [&](const auto& e) { return e.address == d.address; })) {
            out.push_back(d);
        }
    }
    return out;
}

// append_fresh's hash index against its plain scan, on random views and samples (with repeats in
// the sample, and sometimes in the view, where the index must decline and change nothing).
template <class Address>
void check_append_fresh(const std::vector<Address>& pool, std::uint64_t seed)
{
    using entry = gossip::descriptor<Address>;
    gossip::pcg32 rng(seed);
    for (int round = 0; round < 3000; ++round) {
        CAPTURE(round);
        auto view = random_descriptors(rng, pool, rng() % 40, 20);
        const bool repeats_in_view = rng() % 8 == 0;
        if (!repeats_in_view) {
            view = distinct(view);
        }
        const auto received = random_descriptors(rng, pool, rng() % 30, 20);
        auto indexed = view;
        auto scanned = view;
        gossip::detail::append_fresh_scan(scanned, std::span<const entry>(received));
        const bool done = gossip::detail::append_fresh_indexed(indexed, std::span<const entry>(received));
        if (done) {
            REQUIRE(indexed == scanned);
        } else {
            REQUIRE(indexed == view);
            REQUIRE(distinct(view).size() < view.size());
        }
        if (distinct(view).size() == view.size()) {
            REQUIRE(done);
        }
        auto merged = view;
        gossip::detail::append_fresh(merged, std::span<const entry>(received));
        REQUIRE(merged == scanned);
        // The raw form that merge_view takes for small views, repeats in the view included, and
        // the two searches it chooses between: they also agree on what was found.
        std::vector<entry> raw(view.size() + received.size());
        std::copy(view.begin(), view.end(), raw.begin());
        auto by_filter = raw;
        auto by_table = raw;
        raw.resize(gossip::detail::append_fresh_small(raw.data(), view.size(), std::span<const entry>(received)));
        REQUIRE(raw == scanned);
        std::size_t found_by_filter = 0;
        std::size_t found_by_table = 0;
        by_filter.resize(
            gossip::detail::append_fresh_in<gossip::detail::presence_filter<Address, 16>>(by_filter.data(), view.size(),
                                                                                          std::span<const entry>(
                                                                                              received),
                                                                                          found_by_filter));
        by_table.resize(gossip::detail::append_fresh_table_in(by_table.data(), view.size(),
                                                              std::span<const entry>(received), found_by_table));
        REQUIRE(by_filter == scanned);
        REQUIRE(by_table == scanned);
        REQUIRE(found_by_table == found_by_filter);
    }
}

} // namespace

TEST_CASE("the sample is cleaned as before: self out, one copy of each address, the youngest, where it first was")
{
    using push_node = test::node<ps::random, vs::healer, pr::push>;
    gossip::transport::in_memory_network net_raw(1);
    gossip::transport::in_memory_network net_clean(1);
    const auto cfg = test::small_config(8);
    push_node raw(net_raw.endpoint(address{0}), cfg, 5);
    push_node clean(net_clean.endpoint(address{0}), cfg, 5);
    std::vector<address> others;
    for (std::uint32_t i = 1; i <= 14; ++i) {
        others.push_back(address{i});
    }
    check_twins(raw, clean, others, 21);
}

TEST_CASE("a UDP node cleans its sample as before, with udp_address's own hash")
{
    using udp_push_node = gossip::gossip_node<gossip::transport::udp, ps::random, vs::healer, pr::push>;
    const auto cfg = test::small_config(8);
    udp_push_node raw(gossip::transport::udp(udp_address::loopback_v4(0)), cfg, 5);
    udp_push_node clean(gossip::transport::udp(udp_address::loopback_v4(0)), cfg, 5);
    std::vector<udp_address> others;
    for (std::uint8_t i = 1; i <= 10; ++i) {
        others.push_back(udp_address::v4({127, 77, 0, i}, 7000));
    }
    // Same host as the nodes, other ports, and IPv6: neighbours of their own addresses.
    others.push_back(raw.address().with_port(static_cast<std::uint16_t>(raw.address().port() ^ 1U)));
    others.push_back(udp_address::loopback_v6(7000));
    others.push_back(udp_address::loopback_v6(7001));
    check_twins(raw, clean, others, 22);
    CHECK(raw.transport().queued() == 0); // push: nothing answered
}

TEST_CASE("append_fresh's hash index gives what the plain scan gives, for both address types")
{
    std::vector<address> small;
    for (std::uint32_t i = 0; i < 24; ++i) {
        small.push_back(address{i * 7919});
    }
    check_append_fresh(small, 31);
    std::vector<udp_address> udp;
    for (std::uint8_t i = 0; i < 12; ++i) {
        udp.push_back(udp_address::v4({127, 0, 0, i}, 7000));
        udp.push_back(udp_address::v4({127, 0, 0, 1}, static_cast<std::uint16_t>(7000 + i)));
    }
    udp.push_back(udp_address::loopback_v6(7000));
    check_append_fresh(udp, 32);
}

TEST_CASE("append_fresh's table of indices gives what the plain scan gives when full to its bound")
{
    // View and sample fill all small_merge places of the table, most of the sample present: long
    // probe runs, each replaced descriptor's tombstone, and the stamps going round between calls.
    using entry = gossip::descriptor<udp_address>;
    gossip::pcg32 rng(33);
    const auto at = [](std::uint32_t i) {
        return udp_address::v4({10, 1, static_cast<std::uint8_t>(i >> 8U), static_cast<std::uint8_t>(i)}, 7000);
    };
    for (int round = 0; round < 400; ++round) {
        CAPTURE(round);
        const std::size_t n0 = 150 + rng() % 90;
        std::vector<entry> view;
        for (std::size_t i = 0; i < n0; ++i) {
            view.push_back(entry{at(static_cast<std::uint32_t>(i * 3)), rng() % 9});
        }
        // One round in four, the view repeats some of its addresses (the scan's order of copies
        // must hold along long probe runs too).
        if (round % 4 == 0) {
            for (int k = 0; k < 20; ++k) {
                view[rng() % n0].address = view[rng() % n0].address;
            }
        }
        std::vector<entry> received;
        for (std::size_t i = n0; i < gossip::detail::small_merge; ++i) {
            const auto id = static_cast<std::uint32_t>(rng() % 4 == 0 ? 1000 + i : (rng() % n0) * 3);
            received.push_back(entry{at(id), rng() % 9});
        }
        auto scanned = view;
        gossip::detail::append_fresh_scan(scanned, std::span<const entry>(received));
        std::vector<entry> by_table(gossip::detail::small_merge);
        std::copy(view.begin(), view.end(), by_table.begin());
        auto by_filter = by_table;
        std::size_t found_by_table = 0;
        std::size_t found_by_filter = 0;
        by_table.resize(gossip::detail::append_fresh_table_in(by_table.data(), n0, std::span<const entry>(received),
                                                              found_by_table));
        by_filter.resize(
            gossip::detail::append_fresh_in<gossip::detail::presence_filter<udp_address, 16>>(by_filter.data(), n0,
                                                                                              std::span<const entry>(
                                                                                                  received),
                                                                                              found_by_filter));
        REQUIRE(by_table == scanned);
        REQUIRE(by_filter == scanned);
        REQUIRE(found_by_table == found_by_filter);
    }
}

TEST_CASE("merge_view's small-view path selects what the steps of view.select give one by one")
{
    using entry = gossip::descriptor<address>;
    using gossip::detail::surplus;
    std::vector<address> pool;
    for (std::uint32_t i = 0; i < 60; ++i) {
        pool.push_back(address{i * 7919});
    }
    gossip::pcg32 rng(77);
    for (int round = 0; round < 2000; ++round) {
        CAPTURE(round);
        const auto view = distinct(random_descriptors(rng, pool, rng() % 40, 20));
        const auto received = random_descriptors(rng, pool, rng() % 30, 20);
        const std::size_t c = 1 + rng() % 30;
        const std::size_t healer = rng() % (c / 2 + 1);
        const std::size_t swapper = rng() % (c / 2 - healer + 1);
        const auto rule = static_cast<surplus>(rng() % 3);
        gossip::pcg32 draws(round);
        auto merged = view;
        gossip::detail::merge_view(merged, std::span<const entry>(received), c, healer, swapper, rule, draws);
        // The reference: the same steps on a vector.
        gossip::pcg32 reference_draws(round);
        auto v = view;
        gossip::detail::append_fresh_scan(v, std::span<const entry>(received));
        const auto excess = [&] { return v.size() > c ? v.size() - c : std::size_t{0}; };
        gossip::detail::remove_extreme_ages(v, std::min(healer, excess()), gossip::detail::extreme::oldest);
        v.erase(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(std::min(swapper, excess())));
        if (rule == surplus::random) {
            for (std::size_t k = excess(); k > 0; --k) {
                const std::size_t i = gossip::uniform_index(reference_draws, v.size());
                v[i] = v.back();
                v.pop_back();
            }
        } else {
            gossip::detail::remove_extreme_ages(v, excess(),
                                                rule == surplus::oldest ? gossip::detail::extreme::oldest
                                                                        : gossip::detail::extreme::youngest);
        }
        REQUIRE(merged == v);
    }
}

TEST_CASE("append_fresh's hash index takes wide slots for a view and sample past 65,534")
{
    using entry = gossip::descriptor<udp_address>;
    std::vector<entry> view;
    for (std::uint32_t i = 0; i < 65530; ++i) {
        view.push_back(entry{udp_address::v4({10, static_cast<std::uint8_t>(i >> 16U),
                                              static_cast<std::uint8_t>(i >> 8U), static_cast<std::uint8_t>(i)},
                                             7000),
                             i % 50});
    }
    std::vector<entry> received;
    for (std::uint32_t i = 0; i < 12; ++i) {
        // Every other one known (at a younger or older age), the rest new.
        const std::uint32_t id = i % 2 == 0 ? i * 5000 : 70000 + i;
        received.push_back(entry{udp_address::v4({10, static_cast<std::uint8_t>(id >> 16U),
                                                  static_cast<std::uint8_t>(id >> 8U), static_cast<std::uint8_t>(id)},
                                                 7000),
                                 i % 3 == 0 ? 100U : 0U});
    }
    auto indexed = view;
    auto scanned = view;
    gossip::detail::append_fresh_scan(scanned, std::span<const entry>(received));
    REQUIRE(gossip::detail::append_fresh_indexed(indexed, std::span<const entry>(received)));
    CHECK(indexed == scanned);
}

TEST_CASE("removing the single oldest or youngest takes the first of the most extreme, as the general cut does")
{
    using entry = gossip::descriptor<address>;
    gossip::pcg32 rng(41);
    for (int round = 0; round < 3000; ++round) {
        std::vector<entry> v;
        const std::size_t n = 2 + rng() % 30;
        const std::uint32_t spread = round % 3 == 0 ? 4 : (round % 3 == 1 ? 60 : 100000);
        for (std::size_t i = 0; i < n; ++i) {
            v.push_back(entry{address{static_cast<std::uint32_t>(i)}, rng() % spread});
        }
        for (const auto e : {gossip::detail::extreme::oldest, gossip::detail::extreme::youngest}) {
            // The general path: the cut, the marks, and everything but the marked one.
            const auto cut = gossip::detail::find_age_cut(std::span<const entry>(v), 1, e);
            std::vector<std::uint8_t> marks(v.size());
            gossip::detail::mark_extreme(std::span<const entry>(v), cut, e, marks.data());
            std::vector<entry> expected;
            for (std::size_t i = 0; i < v.size(); ++i) {
                if (marks[i] == 0) {
                    expected.push_back(v[i]);
                }
            }
            auto got = v;
            gossip::detail::remove_extreme_ages(got, 1, e);
            CAPTURE(round);
            REQUIRE(got == expected);
        }
    }
}

TEST_CASE(
    "removing the k oldest or youngest drops the k most extreme, the earlier first among equals, keeping the order")
{
    using entry = gossip::descriptor<address>;
    using gossip::detail::extreme;
    gossip::pcg32 rng(43);
    for (int round = 0; round < 3000; ++round) {
        CAPTURE(round);
        std::vector<entry> v;
        // One round in ten past 255 descriptors, where the counts of one age outgrow a byte.
        const bool large = round % 10 == 9;
        const std::size_t n = large ? 250 + rng() % 400 : 2 + rng() % 60;
        // Narrow ages (one pass), ages past 63 within 64 of each other, and a wide spread; a
        // large view's narrow ages are very narrow, hundreds to an age.
        const std::uint32_t base = round % 3 == 1 ? 100 : 0;
        const std::uint32_t spread = round % 3 == 2 ? 100000 : (round % 3 == 1 ? 64 : (large ? 2 : 20));
        for (std::size_t i = 0; i < n; ++i) {
            v.push_back(entry{address{static_cast<std::uint32_t>(i)}, base + rng() % spread});
        }
        const std::size_t k = rng() % (n + 1);
        for (const auto e : {extreme::oldest, extreme::youngest}) {
            // The reference: rank by age (the extreme first), then by position; drop the first k.
            std::vector<std::size_t> rank(n);
            for (std::size_t i = 0; i < n; ++i) {
                rank[i] = i;
            }
            std::stable_sort(rank.begin(), rank.end(), [&](std::size_t a, std::size_t b) {
                return e == extreme::oldest ? v[a].age > v[b].age : v[a].age < v[b].age;
            });
            std::vector<bool> drop(n, false);
            for (std::size_t j = 0; j < k; ++j) {
                drop[rank[j]] = true;
            }
            std::vector<entry> expected;
            for (std::size_t i = 0; i < n; ++i) {
                if (!drop[i]) {
                    expected.push_back(v[i]);
                }
            }
            auto got = v;
            gossip::detail::remove_extreme_ages(got, k, e);
            REQUIRE(got == expected);
        }
    }
}

TEST_CASE("presence_filter::test_and_insert answers as may_contain did, then holds the address")
{
    gossip::detail::presence_filter<udp_address> one;
    gossip::detail::presence_filter<udp_address> other;
    gossip::pcg32 rng(51);
    for (int i = 0; i < 500; ++i) {
        const auto a =
            udp_address::v4({10, 0, static_cast<std::uint8_t>(rng() % 4), static_cast<std::uint8_t>(rng())}, 7000);
        const bool before = other.may_contain(a);
        other.insert(a);
        REQUIRE(one.test_and_insert(a) == before);
        REQUIRE(one.may_contain(a));
    }
}

TEST_CASE("ages grown by a request saturate at the largest age instead of wrapping to fresh")
{
    cluster<test::node<ps::random, vs::random, pr::push>> c(3);
    const std::uint32_t oldest = std::numeric_limits<std::uint32_t>::max();
    c[0].on_datagram(address{1}, request_from(address{1}, test::descriptors({{2, oldest}, {2, oldest}})));
    REQUIRE(c[0].statistics().accepted == 1);
    CHECK(c[0].view()[c[0].view().find(address{2})].age == oldest);
    CHECK(c[0].view()[c[0].view().find(address{1})].age == 1);
}
