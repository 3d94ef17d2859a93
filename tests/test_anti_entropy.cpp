#include "support.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <utility>
#include <vector>

using gossip::payload::anti_entropy_options;
using gossip::payload::spread;
using gossip::wire::message_kind;
using map = gossip::payload::lww_map<std::uint32_t, std::string>;
using entry = map::entry_type;
using replica = gossip::payload::anti_entropy<map>;

namespace {

replica started(const anti_entropy_options& o, std::uint64_t seed)
{
    replica p(o);
    p.start(gossip::payload_context<test::address>{test::address{static_cast<std::uint32_t>(seed)}, seed});
    p.on_period(std::chrono::nanoseconds{0});
    return p;
}

using test::feed;
using test::section;

struct conversation {
    std::size_t messages = 0;
    std::size_t bytes = 0;
    std::size_t largest = 0;
};

// One session opened by a with b, carried on as two nodes would: request, reply, follow-ups,
// until neither side has anything to say.
conversation converse(replica& a, replica& b, std::size_t budget = 1400)
{
    conversation c;
    replica* from = &a;
    replica* to = &b;
    auto kind = message_kind::request;
    auto bytes = section(a, kind, budget);
    for (int i = 0; i < 1000; ++i) {
        ++c.messages;
        c.bytes += bytes.size();
        c.largest = std::max(c.largest, bytes.size());
        REQUIRE(feed(*to, bytes, kind));
        if (!to->wants_reply()) {
            break;
        }
        kind = kind == message_kind::request ? message_kind::reply : message_kind::follow_up;
        bytes = section(*to, kind, budget);
        std::swap(from, to);
    }
    return c;
}

std::uint64_t root_hash(const replica& p)
{
    return p.store().tree().summary(gossip::payload::merkle_node_id::root())->hash;
}

bool same_store(const replica& a, const replica& b)
{
    return a.store().tree().summary(gossip::payload::merkle_node_id::root()) ==
           b.store().tree().summary(gossip::payload::merkle_node_id::root());
}

anti_entropy_options with(spread mode)
{
    anti_entropy_options o;
    o.mode = mode;
    return o;
}

} // namespace

// --- the stores --------------------------------------------------------------------------------

TEST_CASE("lww_map: the later write wins whatever the order of arrival")
{
    map writer(1);
    const entry first = writer.put(7, "first");
    const entry second = writer.put(7, "second");
    map forward(2);
    map backward(3);
    CHECK(forward.merge(first));
    CHECK(forward.merge(second));
    CHECK(backward.merge(second));
    CHECK_FALSE(backward.merge(first));
    REQUIRE(forward.find(7) != nullptr);
    CHECK(*forward.find(7) == "second");
    CHECK(*backward.find(7) == "second");
    CHECK(forward.tree().root() == backward.tree().root());
}

TEST_CASE("lww_map: a write made after seeing another wins over it, whatever the origins")
{
    map high(1000);
    map low(1);
    const entry theirs = high.put(1, "from high");
    CHECK(low.merge(theirs));
    const entry mine = low.put(1, "from low, later");
    CHECK(mine.stamp.clock > theirs.stamp.clock);
    CHECK(high.merge(mine));
    CHECK(*high.find(1) == "from low, later");
}

TEST_CASE("lww_map: two writes with one version settle the same way on every replica")
{
    const entry a{5, std::string("apple"), gossip::payload::version{3, 9}};
    const entry b{5, std::string("banana"), gossip::payload::version{3, 9}};
    map one;
    map two;
    one.merge(a);
    one.merge(b);
    two.merge(b);
    two.merge(a);
    CHECK(*one.find(5) == *two.find(5));
    CHECK(map::wins(a, b) != map::wins(b, a));
}

TEST_CASE("lww_map: an erase leaves a tombstone that an older write cannot undo")
{
    map m(1);
    const entry old_write = m.put(3, "x");
    m.erase(3);
    CHECK_FALSE(m.contains(3));
    CHECK(m.tombstones() == 1);
    CHECK(m.size() == 0);
    CHECK_FALSE(m.merge(old_write));
    CHECK_FALSE(m.contains(3));
}

TEST_CASE("lww_map: an entry from a peer with a clock above max_clock is refused, and later writes still win")
{
    map replica(1);
    replica.put(7, "real");
    entry forged{7, std::string("forged"), gossip::payload::version{~std::uint64_t{0}, 99}};
    CHECK_FALSE(replica.merge(forged));
    forged.stamp.clock = map::max_clock + 1;
    CHECK_FALSE(replica.merge(forged));
    CHECK(replica.refused_clock() == 2);
    REQUIRE(replica.find(7) != nullptr);
    CHECK(*replica.find(7) == "real");
    const entry next = replica.put(7, "next"); // the clock did not jump: writes go on
    CHECK(next.stamp.clock == 2);
    forged.stamp.clock = map::max_clock; // the bound itself is allowed
    CHECK(replica.merge(forged));
}

TEST_CASE("lww_map: past max_entries, entries for new keys from peers are refused and counted")
{
    map writer(1);
    std::vector<entry> entries;
    for (int k = 0; k < 10; ++k) {
        entries.push_back(writer.put(k, "v"));
    }
    map replica(2);
    replica.set_max_entries(4);
    std::size_t taken = 0;
    for (const auto& e : entries) {
        taken += replica.merge(e) ? 1 : 0;
    }
    CHECK(taken == 4);
    CHECK(replica.size() == 4);
    CHECK(replica.refused_full() == 6);
    // Newer versions of keys already held still go in, and so do local writes.
    CHECK(replica.merge(writer.put(0, "newer")));
    replica.put(100, "local");
    CHECK(replica.size() == 5);
}

TEST_CASE("lww_map: a tombstone is collected once the clock has passed it by more than the horizon")
{
    map m(1);
    m.set_tombstone_horizon(3);
    m.put(1, "a");
    m.erase(1); // clock 2
    m.put(2, "b");
    m.put(3, "c");
    m.put(4, "d"); // clock 5: 5 - 2 is not above 3
    CHECK(m.tombstones() == 1);
    CHECK(m.tree().size() == 4);
    m.put(5, "e"); // clock 6
    CHECK(m.tombstones() == 0);
    CHECK(m.tombstones_collected() == 1);
    CHECK(m.tree().size() == 4);
    CHECK_FALSE(m.contains(1));
    CHECK(m.tree().well_formed());
}

TEST_CASE("lww_map: without a horizon tombstones are kept for good")
{
    map m(1);
    m.erase(1);
    for (std::uint32_t k = 2; k < 200; ++k) {
        m.put(k, "v");
    }
    CHECK(m.tombstones() == 1);
    CHECK(m.tombstones_collected() == 0);
}

TEST_CASE("lww_map: a clock raised by a peer's entry collects tombstones too")
{
    map m(1);
    m.set_tombstone_horizon(10);
    m.erase(1);
    CHECK(m.merge(entry{2, std::string("far"), gossip::payload::version{50, 7}}));
    CHECK(m.tombstones() == 0);
    CHECK(m.tombstones_collected() == 1);
}

TEST_CASE("lww_map: a tombstone arriving past the horizon is not kept, but still erases an older value")
{
    map m(1);
    m.set_tombstone_horizon(10);
    m.put(1, "old"); // clock 1
    m.merge(entry{2, std::string("x"), gossip::payload::version{100, 7}});
    const entry late_erase{1, std::nullopt, gossip::payload::version{20, 7}};
    CHECK(m.merge(late_erase));
    CHECK_FALSE(m.contains(1));
    CHECK(m.tombstones() == 0);
    CHECK(m.refused_expired() == 1);
    CHECK(m.tree().size() == 1);
    // One for a key it does not hold changes nothing.
    CHECK_FALSE(m.merge(entry{3, std::nullopt, gossip::payload::version{30, 7}}));
    CHECK(m.refused_expired() == 2);
    CHECK(m.tree().size() == 1);
}

TEST_CASE("lww_map: a key erased and written over and over is collected exactly once per horizon")
{
    map m(1);
    m.set_tombstone_horizon(4);
    for (int round = 0; round < 1000; ++round) {
        m.erase(1);
        m.put(1, "again");
    }
    // Each tombstone was overwritten before its horizon: none was ever collected, and the places
    // they held in the queue were let go.
    CHECK(m.tombstones_collected() == 0);
    CHECK(m.collection_queue_size() <= 64);
    REQUIRE(m.find(1) != nullptr);
    m.erase(1); // clock 2001; the stale places of 1997 and 1999 must not collect it early
    m.put(2, "v");
    m.put(3, "v");
    m.put(4, "v"); // clock 2004
    CHECK(m.tombstones() == 1);
    for (std::uint32_t k = 5; k < 8; ++k) {
        m.put(k, "v");
    }
    CHECK(m.tombstones_collected() == 1);
    CHECK_FALSE(m.contains(1));
    CHECK(m.tree().size() == 6);
}

TEST_CASE("lww_map: tombstones for one key at one clock from ever more origins are collected once")
{
    map m(1);
    m.set_tombstone_horizon(10);
    for (std::uint64_t origin = 2; origin < 5000; ++origin) {
        CHECK(m.merge(entry{1, std::nullopt, gossip::payload::version{3, origin}}));
    }
    CHECK(m.tombstones() == 1);
    CHECK(m.collection_queue_size() <= 2 * m.tombstones() + 64);
    m.merge(entry{2, std::string("later"), gossip::payload::version{20, 1}});
    CHECK(m.tombstones() == 0);
    CHECK(m.tombstones_collected() == 1);
}

TEST_CASE("lww_map: setting a horizon collects the tombstones already past it")
{
    map m(1);
    for (std::uint32_t k = 0; k < 10; ++k) {
        m.put(k, "v");
        m.erase(k);
    }
    CHECK(m.tombstones() == 10);
    m.set_tombstone_horizon(5); // clock 20: the tombstones at 2, 4, .., 14 are past it
    CHECK(m.tombstones() == 3);
    CHECK(m.tombstones_collected() == 7);
}

TEST_CASE("replicated_set: insert, erase and insert again")
{
    gossip::payload::replicated_set<std::string> s(1);
    s.insert("a");
    s.insert("b");
    s.erase("a");
    CHECK_FALSE(s.contains("a"));
    CHECK(s.contains("b"));
    s.insert("a");
    CHECK(s.contains("a"));
    CHECK(s.size() == 2);
    std::vector<std::string> seen;
    s.for_each([&](const std::string& v) { seen.push_back(v); });
    std::sort(seen.begin(), seen.end());
    CHECK(seen == std::vector<std::string>{"a", "b"});
}

// --- one session between two replicas ----------------------------------------------------------

TEST_CASE("anti_entropy: equal stores compare with one root hash and no answer")
{
    auto a = started({}, 1);
    auto b = started({}, 2);
    for (std::uint32_t k = 0; k < 500; ++k) {
        b.put(k, std::to_string(k)); // b writes, and a learns the same entries
    }
    auto c0 = converse(b, a);
    REQUIRE(same_store(a, b));
    const auto before_a = a.statistics();
    const auto before_b = b.statistics();
    const auto c = converse(a, b);
    CHECK(c.messages == 1);
    CHECK(a.statistics().hashes_sent - before_a.hashes_sent == 1);
    CHECK(b.statistics().hashes_sent == before_b.hashes_sent);
    CHECK(b.statistics().sessions_in_sync == before_b.sessions_in_sync + 1);
    CHECK(c0.messages > 1);
}

TEST_CASE("anti_entropy: a push-pull session leaves both stores identical")
{
    auto a = started({}, 1);
    auto b = started({}, 2);
    for (std::uint32_t k = 0; k < 100; ++k) {
        a.put(k, std::string("a").append(std::to_string(k)));
    }
    converse(a, b);
    REQUIRE(same_store(a, b));
    for (std::uint32_t k = 200; k < 210; ++k) {
        a.put(k, "only a");
    }
    for (std::uint32_t k = 300; k < 310; ++k) {
        b.put(k, "only b");
    }
    a.put(50, "a's change");
    b.put(50, "b's change, written later");
    b.erase(60);
    const auto c = converse(a, b);
    CHECK(same_store(a, b));
    CHECK(a.store().size() == 119);
    CHECK(*a.store().find(300) == "only b");
    CHECK(*b.store().find(200) == "only a");
    CHECK(*a.store().find(50) == *b.store().find(50));
    CHECK_FALSE(a.store().contains(60));
    CHECK(c.largest <= 1400);
}

TEST_CASE("anti_entropy: hashes exchanged grow with the difference, not with the store")
{
    const auto hashes = [](std::uint32_t n, std::uint32_t d) {
        auto a = started({}, 1);
        auto b = started({}, 2);
        for (std::uint32_t k = 0; k < n; ++k) {
            a.put(k, "v");
        }
        for (int session = 0; session < 20 && !same_store(a, b); ++session) {
            converse(a, b);
        }
        REQUIRE(same_store(a, b));
        for (std::uint32_t k = 0; k < d; ++k) {
            a.put(n + k, "new");
        }
        const auto before = a.statistics().hashes_sent + b.statistics().hashes_sent;
        const auto c = converse(a, b);
        REQUIRE(same_store(a, b));
        return std::pair{a.statistics().hashes_sent + b.statistics().hashes_sent - before, c.bytes};
    };
    const auto [small_store, small_bytes] = hashes(1000, 4);
    const auto [large_store, large_bytes] = hashes(16000, 4);
    const auto [large_diff, large_diff_bytes] = hashes(16000, 64);
    // Sixteen times the store adds one level of the tree: at most one more expansion per change.
    CHECK(large_store <= small_store + 4 * 16 + 1);
    CHECK(large_diff > 4 * large_store);
    CHECK(large_bytes < 16000 * 8 / 20); // far below the keys alone
    MESSAGE("hashes: n=1000 d=4: ", small_store, ", n=16000 d=4: ", large_store, ", n=16000 d=64: ", large_diff,
            "; bytes ", small_bytes, " / ", large_bytes, " / ", large_diff_bytes);
}

TEST_CASE("anti_entropy: push sends the opener's entries and pull fetches the peer's")
{
    for (const auto mode : {spread::push, spread::pull}) {
        auto a = started(with(mode), 1);
        auto b = started(with(mode), 2);
        a.put(1, "a's");
        b.put(2, "b's");
        converse(a, b);
        CHECK(b.store().contains(1) == (mode == spread::push));
        CHECK(a.store().contains(2) == (mode == spread::pull));
        CHECK_FALSE(same_store(a, b));
    }
}

TEST_CASE("anti_entropy: an empty replica catches up on thousands of entries without an oversized datagram")
{
    auto full = started({}, 1);
    auto empty = started({}, 2);
    for (std::uint32_t k = 0; k < 5000; ++k) {
        full.put(k, std::string("value number ").append(std::to_string(k)));
    }
    std::size_t largest = 0;
    int sessions = 0;
    for (; sessions < 40 && !same_store(full, empty); ++sessions) {
        largest = std::max(largest, converse(empty, full, 1400).largest);
    }
    CHECK(same_store(full, empty));
    CHECK(empty.store().size() == 5000);
    CHECK(largest <= 1400);
    MESSAGE("caught up in ", sessions, " sessions");
}

TEST_CASE("anti_entropy: a conversation ends after max_steps messages")
{
    anti_entropy_options o;
    o.max_steps = 3;
    auto a = started(o, 1);
    auto b = started(o, 2);
    for (std::uint32_t k = 0; k < 3000; ++k) {
        a.put(k, "x");
    }
    const auto c = converse(b, a);
    CHECK(c.messages <= 4);
    CHECK(a.statistics().conversations_cut + b.statistics().conversations_cut == 1);
    CHECK_FALSE(same_store(a, b));
}

TEST_CASE("anti_entropy: a malformed section is refused at every truncation and changes nothing")
{
    auto a = started({}, 1);
    auto b = started({}, 2);
    for (std::uint32_t k = 0; k < 40; ++k) {
        a.put(k, "a");
        b.put(k + 20, "b");
    }
    // A follow-up full of entries, answers and probes: take one from the middle of a conversation.
    REQUIRE(feed(b, section(a, message_kind::request), message_kind::request));
    const auto reply = section(b, message_kind::reply);
    REQUIRE(feed(a, reply, message_kind::reply));
    const auto follow_up = section(a, message_kind::follow_up);
    const auto root = root_hash(b);
    for (const auto& message : {reply, follow_up}) {
        for (std::size_t cut = 0; cut < message.size(); ++cut) {
            auto target = started({}, 3);
            const std::vector<std::byte> truncated(message.begin(), message.begin() + static_cast<std::ptrdiff_t>(cut));
            CHECK_FALSE(feed(target, truncated, message_kind::follow_up));
            CHECK(target.store().size() == 0);
            CHECK_FALSE(target.wants_reply());
        }
    }
    // Trailing junk is refused too.
    auto longer = follow_up;
    longer.push_back(std::byte{0});
    CHECK_FALSE(feed(b, longer, message_kind::follow_up));
    CHECK(root_hash(b) == root);
}

TEST_CASE("anti_entropy: random bytes never crash a replica and a refused section leaves it unchanged")
{
    auto p = started({}, 1);
    for (std::uint32_t k = 0; k < 100; ++k) {
        p.put(k, "v");
    }
    gossip::pcg32 rng(99);
    std::vector<std::byte> bytes;
    for (int i = 0; i < 20000; ++i) {
        bytes.resize(gossip::uniform_below(rng, 200));
        for (auto& b : bytes) {
            b = static_cast<std::byte>(gossip::uniform_below(rng, 256));
        }
        // Plausible starts get past the first checks more often.
        if (bytes.size() > 2 && i % 2 == 0) {
            bytes[1] = std::byte{0};
        }
        const auto before = root_hash(p);
        if (!feed(p, bytes, message_kind::follow_up)) {
            CHECK(root_hash(p) == before);
        }
        if (p.wants_reply()) {
            static_cast<void>(section(p, message_kind::follow_up));
        }
    }
    CHECK(p.store().size() >= 100);
}

TEST_CASE("anti_entropy: answers that no honest peer sends are refused")
{
    auto p = started({}, 1);
    p.put(1, "x");
    const auto root = root_hash(p);
    const auto answer = [](std::uint8_t depth, std::uint8_t nibble_a, std::uint8_t nibble_b) {
        std::vector<std::byte> bytes(128);
        gossip::wire::writer w{std::span(bytes)};
        w.u8(1);
        w.u8(0);
        w.u16(1); // one answer
        w.u8(0);  // children
        w.u8(depth);
        w.u64(0);
        w.u8(2);
        for (const auto nibble : {nibble_a, nibble_b}) {
            w.u8(nibble);
            w.u64(123);
            w.u64(10);
        }
        for (int s = 0; s < 5; ++s) {
            w.u16(0);
        }
        bytes.resize(w.size());
        return bytes;
    };
    CHECK(feed(p, answer(0, 1, 2), message_kind::follow_up));
    CHECK_FALSE(feed(p, answer(0, 2, 1), message_kind::follow_up));  // out of order
    CHECK_FALSE(feed(p, answer(0, 3, 3), message_kind::follow_up));  // repeated
    CHECK_FALSE(feed(p, answer(0, 1, 16), message_kind::follow_up)); // no such nibble
    CHECK_FALSE(feed(p, answer(16, 1, 2), message_kind::follow_up)); // below the deepest level
    CHECK_FALSE(feed(p, answer(17, 1, 2), message_kind::follow_up)); // no such depth
    CHECK(root_hash(p) == root);
}

TEST_CASE("anti_entropy: a request written where no rumor fits is still read by its peer")
{
    // Found when address cookies took 8 bytes from a full datagram: with no room left for
    // rumors, the writer sent an empty rumor section, which the reader refused, and with it
    // the whole request.
    anti_entropy_options o;
    o.rumors = true;
    auto a = started(o, 1);
    auto b = started(o, 2);
    a.put(std::uint32_t{1}, std::string(40, 'x')); // a rumor waits to be sent
    std::size_t accepted = 0;
    for (std::size_t room = 20; room < 120; ++room) {
        std::vector<std::byte> buffer(room);
        gossip::wire::writer w{std::span(buffer)};
        a.write(w, message_kind::request);
        if (!w.ok()) {
            continue; // not even the fixed part fits: nothing is sent
        }
        gossip::wire::reader r(w.written());
        CHECK(b.read(r, message_kind::request));
        ++accepted;
    }
    CHECK(accepted > 50);
}

TEST_CASE("anti_entropy: options that cannot work are refused with the reason")
{
    anti_entropy_options o;
    o.every = 0;
    CHECK_THROWS_WITH_AS(replica{o}, doctest::Contains("every"), std::invalid_argument);
    o = {};
    o.max_steps = 256;
    CHECK_THROWS_WITH_AS(replica{o}, doctest::Contains("max_steps"), std::invalid_argument);
    o = {};
    o.max_probes = 0;
    CHECK_THROWS_WITH_AS(replica{o}, doctest::Contains("max_probes"), std::invalid_argument);
    o = {};
    o.rumors = true;
    o.rumor.k = 0;
    CHECK_THROWS_WITH_AS(replica{o}, doctest::Contains("rumor"), std::invalid_argument);
    o.rumors = false; // rumor options matter only when rumors are on
    CHECK_NOTHROW(replica{o});
}

// --- replicas in a simulated network ------------------------------------------------------------

namespace {

using kv = gossip::payload::anti_entropy<gossip::payload::lww_map<std::uint32_t, std::uint32_t>>;
using kv_node = gossip::gossip_node<gossip::transport::in_memory, gossip::peer_selection::random,
                                    gossip::view_selection::blind, gossip::propagation::push_pull, kv>;
using kv_sim = gossip::sim::simulator<kv_node>;

kv_sim make_sim(std::size_t n, std::uint64_t seed, const gossip::payload::anti_entropy_options& o, double loss = 0)
{
    gossip::transport::network_options net;
    net.loss = loss;
    kv_sim sim(n, test::small_config(8), seed, net, [o](std::size_t) { return kv(o); });
    sim.bootstrap(gossip::sim::random_graph{});
    return sim;
}

// Replicas whose stores collect tombstones after `horizon` clock steps.
kv_sim make_sim_with_horizon(std::size_t n, std::uint64_t seed, std::uint64_t horizon)
{
    kv_sim sim(n, test::small_config(8), seed, {}, [horizon](std::size_t) {
        gossip::payload::lww_map<std::uint32_t, std::uint32_t> store;
        store.set_tombstone_horizon(horizon);
        return kv({}, std::move(store));
    });
    sim.bootstrap(gossip::sim::random_graph{});
    return sim;
}

bool all_equal(const kv_sim& sim)
{
    const auto root = [&](std::size_t i) { return sim.node(i).payload().store().tree().root(); };
    for (std::size_t i = 1; i < sim.size(); ++i) {
        if (sim.is_up(i) && !(root(i) == root(0))) {
            return false;
        }
    }
    return true;
}

// Rounds until every live replica holds the same store, or max_rounds.
std::size_t run_until_equal(kv_sim& sim, std::size_t max_rounds)
{
    std::size_t rounds = 0;
    while (rounds < max_rounds && !all_equal(sim)) {
        sim.run_round();
        ++rounds;
    }
    return rounds;
}

} // namespace

TEST_CASE("anti_entropy: replicas converge to identical stores under 30% message loss")
{
    auto sim = make_sim(40, 7, {}, 0.3);
    for (std::size_t i = 0; i < sim.size(); ++i) {
        for (std::uint32_t k = 0; k < 5; ++k) {
            sim.node(i).payload().put(static_cast<std::uint32_t>(i * 100 + k), static_cast<std::uint32_t>(i));
        }
    }
    sim.node(3).payload().put(std::uint32_t{0}, std::uint32_t{333}); // a conflict, settled everywhere alike
    const auto rounds = run_until_equal(sim, 200);
    CHECK(all_equal(sim));
    CHECK(sim.node(17).payload().store().size() == 200);
    MESSAGE("converged in ", rounds, " rounds under 30% loss");
}

TEST_CASE("anti_entropy: the two sides of a healed partition converge")
{
    auto sim = make_sim(30, 8, {});
    std::vector<gossip::transport::in_memory_address> left;
    for (std::uint32_t i = 0; i < 15; ++i) {
        left.push_back(gossip::transport::in_memory_address{i});
    }
    sim.network().partition(left);
    sim.node(0).payload().put(std::uint32_t{1}, std::uint32_t{10});
    sim.node(20).payload().put(std::uint32_t{1}, std::uint32_t{20});
    sim.node(20).payload().put(std::uint32_t{2}, std::uint32_t{20});
    sim.run(20);
    CHECK_FALSE(all_equal(sim));
    CHECK_FALSE(sim.node(5).payload().store().contains(2));
    sim.network().heal();
    run_until_equal(sim, 100);
    CHECK(all_equal(sim));
    CHECK(sim.node(5).payload().store().contains(2));
    CHECK(*sim.node(5).payload().store().find(1) == *sim.node(25).payload().store().find(1));
}

TEST_CASE("anti_entropy: a restarted node catches up on everything it missed")
{
    auto sim = make_sim(30, 9, {});
    sim.node(0).payload().put(std::uint32_t{1}, std::uint32_t{1});
    run_until_equal(sim, 100);
    sim.crash(4);
    for (std::uint32_t k = 10; k < 400; ++k) {
        sim.node(k % 30 == 4 ? 5 : k % 30).payload().put(k, k);
    }
    sim.run(5);
    const std::array contacts{gossip::transport::in_memory_address{7}};
    sim.restart(4, contacts);
    CHECK(sim.node(4).payload().store().size() == 0);
    run_until_equal(sim, 100);
    CHECK(all_equal(sim));
    CHECK(sim.node(4).payload().store().size() == 391);
}

TEST_CASE("anti_entropy: with a horizon, replicas erase, collect the tombstones everywhere and stay identical")
{
    auto sim = make_sim_with_horizon(20, 12, 50);
    for (std::uint32_t k = 0; k < 40; ++k) {
        sim.node(k % 20).payload().put(k, k);
    }
    run_until_equal(sim, 100);
    for (std::uint32_t k = 0; k < 20; ++k) {
        sim.node((k + 3) % 20).payload().erase(k);
    }
    run_until_equal(sim, 100);
    CHECK(sim.node(9).payload().store().tombstones() == 20);
    // Later writes raise the clocks past the horizon (Lamport clocks: a chain of writes, here
    // one busy writer) and every replica collects the same tombstones.
    for (std::uint32_t k = 100; k < 200; ++k) {
        sim.node(4).payload().put(k, k);
    }
    run_until_equal(sim, 100);
    CHECK(all_equal(sim));
    for (std::size_t i = 0; i < sim.size(); ++i) {
        CHECK(sim.node(i).payload().store().tombstones() == 0);
        CHECK(sim.node(i).payload().store().size() == 120);
        CHECK_FALSE(sim.node(i).payload().store().contains(5));
    }
}

TEST_CASE("anti_entropy: a replica away for longer than the horizon brings an erased value back")
{
    // The documented price of collecting tombstones: nobody remembers the erase any more.
    auto sim = make_sim_with_horizon(10, 13, 20);
    sim.node(0).payload().put(std::uint32_t{7}, std::uint32_t{1});
    run_until_equal(sim, 100);
    std::vector<gossip::transport::in_memory_address> away{gossip::transport::in_memory_address{9}};
    sim.network().partition(away);
    sim.node(0).payload().erase(std::uint32_t{7});
    sim.run(30);
    CHECK(sim.node(3).payload().store().tombstones() == 1);
    for (std::uint32_t k = 100; k < 130; ++k) {
        sim.node(0).payload().put(k, k);
    }
    sim.run(40);
    CHECK_FALSE(sim.node(3).payload().store().contains(7));
    CHECK(sim.node(3).payload().store().tombstones() == 0);
    sim.network().heal();
    run_until_equal(sim, 100);
    CHECK(all_equal(sim));
    CHECK(sim.node(3).payload().store().contains(7));
}

TEST_CASE("anti_entropy: rumor mongering backed by anti-entropy reaches every live node")
{
    // Push rumors that stop after one unnecessary contact leave a residue (about 20% of the nodes);
    // anti-entropy every 10 periods reaches the rest.
    const auto reached = [](std::uint32_t every) {
        gossip::payload::anti_entropy_options o;
        o.rumors = true;
        o.rumor.mode = spread::push;
        o.rumor.k = 1;
        o.every = every;
        auto sim = make_sim(300, 11, o);
        sim.run(3);
        for (std::size_t i = 290; i < 300; ++i) {
            sim.crash(i);
        }
        sim.node(0).payload().put(std::uint32_t{42}, std::uint32_t{1});
        sim.run(60);
        std::size_t n = 0;
        for (std::size_t i = 0; i < 290; ++i) {
            n += sim.node(i).payload().store().contains(42) ? 1 : 0;
        }
        return n;
    };
    const auto rumors_alone = reached(std::numeric_limits<std::uint32_t>::max());
    CHECK(rumors_alone < 290);
    CHECK(rumors_alone > 100);
    CHECK(reached(10) == 290);
    MESSAGE("rumors alone reached ", rumors_alone, " of 290 live nodes");
}
