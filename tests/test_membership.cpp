#include "support.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <bit>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <span>
#include <vector>

using gossip::payload::member_event_kind;
using gossip::payload::member_status;
using gossip::payload::membership_options;
using gossip::wire::message_kind;
using table = gossip::payload::membership<test::address>;
using event = gossip::payload::member_event<test::address>;
using namespace std::chrono_literals;

namespace {

using member_node = gossip::gossip_node<gossip::transport::in_memory, gossip::peer_selection::random,
                                        gossip::view_selection::blind, gossip::propagation::push_pull, table>;
using simulator = gossip::sim::simulator<member_node>;

constexpr auto period = 1000ms; // the config's default: one round of the simulator

membership_options timeouts(std::chrono::milliseconds t_fail, std::chrono::milliseconds t_cleanup)
{
    membership_options o;
    o.t_fail = t_fail;
    o.t_cleanup = t_cleanup;
    return o;
}

// Periods a member must stay quiet before it is declared failed.
std::size_t periods_of(std::chrono::milliseconds t) { return static_cast<std::size_t>((t + period - 1ms) / period); }

std::size_t round_of(std::chrono::nanoseconds t) { return static_cast<std::size_t>(t / period); }

member_status status_after(member_event_kind kind)
{
    switch (kind) {
    case member_event_kind::failed: return member_status::failed;
    case member_event_kind::left: return member_status::left;
    default: return member_status::alive;
    }
}

// A simulated cluster whose every event is logged with the round it happened in.
struct cluster {
    struct record {
        std::size_t round = 0;
        std::size_t observer = 0;
        event what;
    };

    std::vector<record> events;
    std::unique_ptr<simulator> sim;

    cluster(std::size_t n, const membership_options& o, std::uint64_t seed, std::size_t max_message_bytes = 1400)
    {
        auto cfg = test::small_config(20);
        cfg.max_message_bytes = max_message_bytes;
        sim = std::make_unique<simulator>(n, cfg, seed, gossip::transport::network_options{}, [this, o](std::size_t i) {
            return table(o, [this, i](const event& e) {
                events.push_back(record{sim->round(), i, e});
                // The handler sees the table as the event left it.
                CHECK(sim->node(i).payload().status_of(e.address) == status_after(e.kind));
            });
        });
        sim->bootstrap(gossip::sim::random_graph{});
    }
    cluster(const cluster&) = delete;
    cluster& operator=(const cluster&) = delete;
    cluster(cluster&&) = delete;
    cluster& operator=(cluster&&) = delete;
    ~cluster() = default;

    [[nodiscard]] const table& at(std::size_t i) const { return sim->node(i).payload(); }

    /// Events of one kind about one member, at most one per observer; the rounds they came in.
    [[nodiscard]] std::vector<std::optional<std::size_t>> rounds_of(member_event_kind kind, std::size_t about) const
    {
        std::vector<std::optional<std::size_t>> out(sim->size());
        for (const auto& r : events) {
            if (r.what.kind == kind && r.what.address == test::address{static_cast<std::uint32_t>(about)}) {
                CHECK_FALSE(out[r.observer].has_value());
                out[r.observer] = r.round;
            }
        }
        return out;
    }

    [[nodiscard]] std::size_t count(member_event_kind kind) const
    {
        return static_cast<std::size_t>(
            std::count_if(events.begin(), events.end(), [&](const record& r) { return r.what.kind == kind; }));
    }

    /// Live nodes other than `about` that believe it has `status`.
    [[nodiscard]] std::size_t believing(std::size_t about, std::optional<member_status> status) const
    {
        std::size_t n = 0;
        for (std::size_t i = 0; i < sim->size(); ++i) {
            if (i != about && sim->is_up(i) &&
                at(i).status_of(test::address{static_cast<std::uint32_t>(about)}) == status) {
                ++n;
            }
        }
        return n;
    }

    [[nodiscard]] std::size_t live_others(std::size_t about) const
    {
        std::size_t n = 0;
        for (std::size_t i = 0; i < sim->size(); ++i) {
            n += i != about && sim->is_up(i) ? 1 : 0;
        }
        return n;
    }
};

// --- one table on its own -----------------------------------------------------------------

struct entry {
    std::uint32_t address = 0;
    std::uint64_t generation = 0;
    std::uint64_t heartbeat = 0;
    std::uint8_t status = 0;
};

table started(std::uint32_t self, const membership_options& o = {}, std::vector<event>* log = nullptr)
{
    table t(o);
    if (log != nullptr) {
        t.on_event([log](const event& e) { log->push_back(e); });
    }
    t.start(gossip::payload_context<test::address>{test::address{self}, self});
    return t;
}

std::vector<std::byte> section(table& t, std::size_t budget = 1400)
{
    return test::section(t, message_kind::request, budget);
}

/// A section as the wire layout has it: each entry's generation and heartbeat as differences
/// from the entry before.
std::vector<std::byte> raw(std::span<const entry> entries, std::size_t count_override = 0)
{
    std::vector<std::byte> bytes(2 + entries.size() * (4 + table::max_entry_overhead));
    gossip::wire::writer w{std::span(bytes)};
    w.u16(static_cast<std::uint16_t>(count_override != 0 ? count_override : entries.size()));
    std::uint64_t generation = 0;
    std::uint64_t heartbeat = 0;
    for (const auto& e : entries) {
        w.u32(e.address);
        gossip::wire::write_varint(w, gossip::wire::zigzag(e.generation - generation));
        gossip::wire::write_varint_flagged(w, gossip::wire::zigzag(e.heartbeat - heartbeat), e.status == 1);
        generation = e.generation;
        heartbeat = e.heartbeat;
    }
    REQUIRE(w.ok());
    bytes.resize(w.size());
    return bytes;
}

std::vector<std::byte> raw(std::initializer_list<entry> entries, std::size_t count_override = 0)
{
    return raw(std::span(entries.begin(), entries.size()), count_override);
}

bool feed(table& t, const std::vector<std::byte>& bytes) { return test::feed(t, bytes, message_kind::request); }

std::vector<entry> decode(const std::vector<std::byte>& bytes)
{
    gossip::wire::reader r{std::span(bytes)};
    std::vector<entry> out(r.u16());
    std::uint64_t generation = 0;
    std::uint64_t heartbeat = 0;
    for (auto& e : out) {
        e.address = r.u32();
        generation += gossip::wire::unzigzag(gossip::wire::read_varint(r));
        bool left = false;
        heartbeat += gossip::wire::unzigzag(gossip::wire::read_varint_flagged(r, left));
        e.generation = generation;
        e.heartbeat = heartbeat;
        e.status = left ? 1 : 0;
    }
    REQUIRE(r.ok());
    REQUIRE(r.remaining() == 0);
    return out;
}

constexpr test::address addr(std::uint32_t i) { return test::address{i}; }

} // namespace

// --- in the simulator ---------------------------------------------------------------------

TEST_CASE("membership: every node learns every member")
{
    // 200 members do not fit a 600-byte datagram (about 70 entries of 6 bytes do, beside the
    // view): the window rotates. t_fail allows 10 periods per window's worth of the table, so
    // nobody is suspected.
    cluster c(200, timeouts(40s, 80s), 1, 600);
    c.sim->run(60);
    std::uint64_t truncated = 0;
    for (std::size_t i = 0; i < c.sim->size(); ++i) {
        CAPTURE(i);
        const auto& t = c.at(i);
        CHECK(t.members().size() == 199);
        CHECK(t.alive_count() == 199);
        CHECK(t.alive_members().size() == 199);
        CHECK(t.find(addr(static_cast<std::uint32_t>(i))) == nullptr);
        CHECK(t.status_of(addr(static_cast<std::uint32_t>(i))) == member_status::alive);
        CHECK(t.statistics().joined == 199);
        truncated += t.statistics().truncated_writes;
    }
    CHECK(truncated > 0);
    CHECK(c.count(member_event_kind::joined) == 200 * 199);
    CHECK(c.count(member_event_kind::failed) == 0);
}

TEST_CASE("membership: a crashed node is declared failed by every live node within its T_fail bound")
{
    const auto o = timeouts(10s, 40s);
    constexpr std::size_t n = 100;
    cluster c(n, o, 2, 4096); // whole tables: 100 entries of at most 24 bytes
    c.sim->run(20);
    REQUIRE(c.count(member_event_kind::failed) == 0);
    const std::size_t victim = 17;
    const std::size_t crashed_at = c.sim->round();
    c.sim->crash(victim);
    // A heartbeat reaches every node within log2(n) rounds when whole tables travel both ways.
    const std::size_t spread = static_cast<std::size_t>(std::bit_width(n));
    const std::size_t fail = periods_of(o.t_fail);
    c.sim->run(spread + fail + 10);
    const auto failed = c.rounds_of(member_event_kind::failed, victim);
    for (std::size_t i = 0; i < n; ++i) {
        if (i == victim) {
            continue;
        }
        CAPTURE(i);
        REQUIRE(failed[i].has_value());
        const auto* m = c.at(i).find(addr(victim));
        REQUIRE(m != nullptr);
        CHECK(m->status == member_status::failed);
        // Locally: t_fail after its heartbeat last grew here (stamped at the period's start).
        const std::size_t seen = round_of(m->since);
        CHECK(*failed[i] == seen + fail);
        // Globally: its last heartbeat had spread within log2(n) rounds of the crash.
        CHECK(seen <= crashed_at + spread);
        CHECK(*failed[i] <= crashed_at + spread + fail);
    }
    // Nobody else was suspected, ever.
    CHECK(c.count(member_event_kind::failed) == n - 1);
}

TEST_CASE("membership: a restarted node is seen alive again with a higher generation")
{
    const auto o = timeouts(10s, 40s);
    cluster c(50, o, 3);
    c.sim->run(15);
    const std::size_t victim = 9;
    const auto old_generation = c.at(victim).generation();
    REQUIRE(old_generation.has_value());
    c.sim->crash(victim);
    c.sim->run(periods_of(o.t_fail) + 8);
    REQUIRE(c.believing(victim, member_status::failed) == 49);
    const auto contacts = test::addresses({0, 1, 2});
    c.sim->restart(victim, contacts);
    c.sim->run(8);
    const auto new_generation = c.at(victim).generation();
    REQUIRE(new_generation.has_value());
    CHECK(*new_generation > *old_generation);
    const auto recovered = c.rounds_of(member_event_kind::recovered, victim);
    for (std::size_t i = 0; i < c.sim->size(); ++i) {
        if (i == victim) {
            continue;
        }
        CAPTURE(i);
        const auto* m = c.at(i).find(addr(victim));
        REQUIRE(m != nullptr);
        CHECK(m->status == member_status::alive);
        CHECK(m->generation == *new_generation); // the old entry is superseded
        CHECK(recovered[i].has_value());
    }
    for (const auto& r : c.events) {
        if (r.what.kind == member_event_kind::recovered) {
            CHECK(r.what.generation == *new_generation);
        }
    }
    // The new incarnation learned everybody, and had no reason to move its generation again.
    CHECK(c.at(victim).alive_count() == 49);
    CHECK(c.at(victim).statistics().refuted == 0);
    CHECK(c.count(member_event_kind::failed) == 49);
    CHECK(c.count(member_event_kind::restarted) == 0);
}

TEST_CASE("membership: a node restarted within T_fail is reported restarted, never failed")
{
    const auto o = timeouts(10s, 40s);
    cluster c(50, o, 4);
    c.sim->run(15);
    const std::size_t victim = 21;
    const auto old_generation = c.at(victim).generation();
    c.sim->crash(victim);
    c.sim->run(2);
    const auto contacts = test::addresses({3});
    c.sim->restart(victim, contacts);
    c.sim->run(periods_of(o.t_fail) + 8);
    const auto new_generation = c.at(victim).generation();
    REQUIRE(new_generation.has_value());
    CHECK(*new_generation > *old_generation);
    const auto restarted = c.rounds_of(member_event_kind::restarted, victim);
    for (std::size_t i = 0; i < c.sim->size(); ++i) {
        if (i != victim) {
            CAPTURE(i);
            CHECK(restarted[i].has_value());
            CHECK(c.at(i).find(addr(victim))->generation == *new_generation);
        }
    }
    CHECK(c.count(member_event_kind::failed) == 0);
    CHECK(c.count(member_event_kind::recovered) == 0);
}

TEST_CASE("membership: a leave spreads and is reported as left, not failed")
{
    const auto o = timeouts(10s, 30s);
    cluster c(60, o, 5);
    c.sim->run(15);
    const std::size_t leaver = 11;
    auto& p = c.sim->node(leaver).payload();
    const auto heartbeat = p.heartbeat();
    p.leave();
    CHECK(p.has_left());
    CHECK(p.status_of(addr(leaver)) == member_status::left);
    c.sim->run(3);                         // it lingers, gossiping its leave, and then its process exits
    CHECK(p.heartbeat() == heartbeat + 1); // a last beat, and no more
    c.sim->crash(leaver);
    c.sim->run(periods_of(o.t_fail) + 8);
    const auto left = c.rounds_of(member_event_kind::left, leaver);
    for (std::size_t i = 0; i < c.sim->size(); ++i) {
        if (i != leaver) {
            CAPTURE(i);
            CHECK(left[i].has_value());
            CHECK(c.at(i).status_of(addr(leaver)) == member_status::left);
        }
    }
    CHECK(c.count(member_event_kind::left) == 59);
    CHECK(c.count(member_event_kind::failed) == 0);
    // Forgotten t_cleanup after the leave was learned, and not brought back.
    c.sim->run(periods_of(o.t_cleanup));
    CHECK(c.believing(leaver, std::nullopt) == 59);
    c.sim->run(20);
    CHECK(c.believing(leaver, std::nullopt) == 59);
    CHECK(c.count(member_event_kind::joined) == 60 * 59);
}

TEST_CASE("membership: a failed member is forgotten T_cleanup after its heartbeat last grew")
{
    const auto o = timeouts(10s, 20s);
    cluster c(50, o, 6);
    c.sim->run(10);
    const std::size_t victim = 30;
    c.sim->crash(victim);
    std::vector<std::optional<std::size_t>> seen(c.sim->size());
    std::vector<std::optional<std::size_t>> forgotten(c.sim->size());
    c.sim->run(50, [&](simulator& s) {
        for (std::size_t i = 0; i < s.size(); ++i) {
            if (const auto* m = c.at(i).find(addr(victim))) {
                seen[i] = round_of(m->since);
                CHECK_FALSE(forgotten[i].has_value()); // never back once forgotten
            } else if (i != victim && !forgotten[i]) {
                forgotten[i] = s.round();
            }
        }
    });
    for (std::size_t i = 0; i < c.sim->size(); ++i) {
        if (i != victim) {
            CAPTURE(i);
            REQUIRE(seen[i].has_value());
            REQUIRE(forgotten[i].has_value());
            CHECK(*forgotten[i] == *seen[i] + periods_of(o.t_cleanup));
        }
    }
    CHECK(c.count(member_event_kind::failed) == 49);
    CHECK(c.count(member_event_kind::joined) == 50 * 49);
}

TEST_CASE(
    "membership: a partitioned node is declared failed, and recovered with the same generation when the partition heals")
{
    const auto o = timeouts(10s, 60s);
    cluster c(40, o, 7);
    c.sim->run(10);
    const std::size_t island = 5;
    const auto generation = c.at(island).generation();
    const auto side = test::addresses({island});
    c.sim->network().partition(side);
    c.sim->run(periods_of(o.t_fail) + 8);
    CHECK(c.believing(island, member_status::failed) == 39);
    CHECK(c.at(island).alive_count() == 0); // and it thinks everybody else failed
    c.sim->network().heal();
    c.sim->run(10);
    CHECK(c.believing(island, member_status::alive) == 39);
    CHECK(c.at(island).alive_count() == 39);
    CHECK(c.at(island).generation() == generation);
    CHECK(c.count(member_event_kind::recovered) == 2 * 39);
    for (const auto& r : c.events) {
        if (r.what.kind == member_event_kind::recovered && r.what.address == addr(island)) {
            CHECK(r.what.generation == *generation);
        }
    }
}

// --- one table, by hand -------------------------------------------------------------------

TEST_CASE("membership: stale gossip does not revive a failed member before T_cleanup")
{
    std::vector<event> log;
    auto t = started(1, timeouts(5s, 10s), &log);
    t.on_period(1s);
    REQUIRE(feed(t, raw({{7, 100, 10, 0}})));
    for (auto now = 2s; now <= 6s; now += 1s) {
        t.on_period(now);
    }
    REQUIRE(t.status_of(addr(7)) == member_status::failed);
    REQUIRE(log.size() == 2);
    for (auto now = 7s; now <= 10s; now += 1s) {
        CHECK(feed(t, raw({{7, 100, 10, 0}}))); // the same heartbeat
        CHECK(feed(t, raw({{7, 100, 9, 0}})));  // an older one
        CHECK(feed(t, raw({{7, 99, 500, 0}}))); // an older generation
        t.on_period(now);
        CHECK(t.status_of(addr(7)) == member_status::failed);
    }
    CHECK(log.size() == 2);
    CHECK(t.statistics().stale_ignored == 8);
    t.on_period(11s); // t_cleanup after its heartbeat last grew, at 1 s
    CHECK(t.status_of(addr(7)) == std::nullopt);
    CHECK(t.statistics().forgotten == 1);
}

TEST_CASE("membership: a failed member whose heartbeat grows again is recovered")
{
    std::vector<event> log;
    auto t = started(1, timeouts(5s, 10s), &log);
    t.on_period(1s);
    REQUIRE(feed(t, raw({{7, 100, 10, 0}, {8, 100, 10, 0}})));
    t.on_period(6s);
    REQUIRE(t.alive_count() == 0);
    REQUIRE(feed(t, raw({{7, 100, 11, 0}, {8, 101, 0, 0}})));
    CHECK(t.alive_count() == 2);
    REQUIRE(log.size() == 6);
    CHECK(log[4] == event{member_event_kind::recovered, addr(7), 100});
    CHECK(log[5] == event{member_event_kind::recovered, addr(8), 101}); // a restart, by its generation
    t.on_period(10s);
    CHECK(t.alive_count() == 2); // timed from the recovery, at 6 s
}

TEST_CASE("membership: a node whose own periods fall behind does not blame members for the periods it did not run")
{
    std::vector<event> log;
    auto t = table(timeouts(5s, 10s));
    t.on_event([&log](const event& e) { log.push_back(e); });
    t.start(gossip::payload_context<test::address>{addr(1), 1, std::chrono::seconds{1}});
    t.on_period(1s);
    REQUIRE(feed(t, raw({{7, 100, 10, 0}})));
    // The loop stalls: 20 s pass in two periods. Two periods of silence are not five.
    t.on_period(11s);
    t.on_period(21s);
    CHECK(t.status_of(addr(7)) == member_status::alive);
    // Back on schedule, the member stays quiet: failed once five periods ran without news.
    t.on_period(22s);
    t.on_period(23s);
    CHECK(t.status_of(addr(7)) == member_status::alive);
    t.on_period(24s);
    CHECK(t.status_of(addr(7)) == member_status::failed);
    REQUIRE(log.size() == 2);
    CHECK(log[1] == event{member_event_kind::failed, addr(7), 100});
}

TEST_CASE("membership: on schedule, counting periods changes nothing: failure comes at t_fail")
{
    auto t = table(timeouts(5s, 10s));
    t.start(gossip::payload_context<test::address>{addr(1), 1, std::chrono::seconds{1}});
    t.on_period(1s);
    REQUIRE(feed(t, raw({{7, 100, 10, 0}})));
    for (auto now = 2s; now <= 5s; now += 1s) {
        t.on_period(now);
        CHECK(t.status_of(addr(7)) == member_status::alive);
    }
    t.on_period(6s);
    CHECK(t.status_of(addr(7)) == member_status::failed);
}

TEST_CASE("membership: more periods than time do not hasten a failure")
{
    auto t = table(timeouts(5s, 10s));
    t.start(gossip::payload_context<test::address>{addr(1), 1, std::chrono::seconds{1}});
    t.on_period(1s);
    REQUIRE(feed(t, raw({{7, 100, 10, 0}})));
    // A driver that runs periods faster than it said: ten periods within 4.5 s.
    for (int i = 1; i <= 10; ++i) {
        t.on_period(1s + i * 450ms);
    }
    CHECK(t.status_of(addr(7)) == member_status::alive);
    t.on_period(6s);
    CHECK(t.status_of(addr(7)) == member_status::failed);
}

TEST_CASE("membership: a leave is final within its generation")
{
    std::vector<event> log;
    auto t = started(1, {}, &log);
    t.on_period(1s);
    REQUIRE(feed(t, raw({{7, 3, 10, 0}})));
    REQUIRE(feed(t, raw({{7, 3, 11, 1}})));
    CHECK(t.status_of(addr(7)) == member_status::left);
    REQUIRE(feed(t, raw({{7, 3, 50, 0}}))); // heartbeats in flight from before the leave
    CHECK(t.status_of(addr(7)) == member_status::left);
    CHECK(t.statistics().stale_ignored == 1);
    REQUIRE(feed(t, raw({{7, 4, 1, 0}}))); // a new incarnation
    CHECK(t.status_of(addr(7)) == member_status::alive);
    const std::vector<event> expected{{member_event_kind::joined, addr(7), 3},
                                      {member_event_kind::left, addr(7), 3},
                                      {member_event_kind::joined, addr(7), 4}};
    CHECK(log == expected);
}

TEST_CASE("membership: a leave is gossiped for T_fail and remembered for T_cleanup")
{
    auto t = started(1, timeouts(5s, 10s));
    t.on_period(1s);
    REQUIRE(feed(t, raw({{7, 3, 11, 1}}))); // never seen alive: remembered, but no event
    CHECK(t.statistics().left == 0);
    const auto carries_7 = [&] {
        const auto entries = decode(section(t));
        return std::any_of(entries.begin(), entries.end(),
                           [](const entry& e) { return e.address == 7 && e.status == 1; });
    };
    CHECK(carries_7());
    t.on_period(5s);
    CHECK(carries_7());
    t.on_period(6s);
    CHECK_FALSE(carries_7());
    CHECK(t.status_of(addr(7)) == member_status::left);
    REQUIRE(feed(t, raw({{7, 3, 10, 0}}))); // stale: refused while remembered
    CHECK(t.status_of(addr(7)) == member_status::left);
    t.on_period(11s);
    CHECK(t.status_of(addr(7)) == std::nullopt);
}

TEST_CASE("membership: a node that hears of itself at a higher version moves to a higher generation")
{
    membership_options o;
    o.generation = 5;
    auto t = started(1, o);
    CHECK(t.generation() == 5u);
    t.on_period(1s);
    t.on_period(2s);
    REQUIRE(t.heartbeat() == 2);
    REQUIRE(feed(t, raw({{1, 5, 2, 0}})));   // its own entry, echoed back
    REQUIRE(feed(t, raw({{1, 4, 100, 0}}))); // an earlier life
    CHECK(t.generation() == 5u);
    REQUIRE(feed(t, raw({{1, 5, 3, 0}}))); // an earlier life with the same generation
    CHECK(t.generation() == 6u);
    REQUIRE(feed(t, raw({{1, 6, 0, 1}}))); // a claim that it left
    CHECK(t.generation() == 7u);
    CHECK(t.statistics().refuted == 2);
    // A claim it cannot move past (only the reserved generation is higher) is not followed, so
    // that its sections stay readable.
    REQUIRE(feed(t, raw({{1, std::numeric_limits<std::uint64_t>::max() - 1, 0, 0}})));
    CHECK(t.generation() == 7u);
    const auto entries = decode(section(t));
    auto peer = started(2);
    CHECK(feed(peer, section(t)));
    REQUIRE_FALSE(entries.empty());
    CHECK(entries.front().address == 1);
    CHECK(entries.front().generation == 7);
    CHECK(entries.front().status == 0);
    CHECK(t.members().empty());
}

TEST_CASE("membership: what a table heard of an address before the node started there is a claim about the node")
{
    // Read before start(): the address was a member then. Once it is the node's own, the table
    // holds no row for it, and its version is one the node's generation must pass.
    table t;
    REQUIRE(feed(t, raw({{5, 5'000'000'000, 3, 0}, {6, 7, 1, 0}, {7, 7, 1, 0}})));
    REQUIRE(t.members().size() == 3);
    t.start(gossip::payload_context<test::address>{addr(5), 5});
    t.on_period(1s);
    REQUIRE(t.members().size() == 2);
    CHECK(t.find(addr(5)) == nullptr);
    CHECK(t.generation() == 5'000'000'001U);
    CHECK(t.status_of(addr(5)) == member_status::alive);
}

TEST_CASE("membership: the generation comes from the clock at the first period unless set")
{
    auto t = started(1);
    CHECK_FALSE(t.generation().has_value());
    // Before its first period a node says nothing of itself; what it learns is timed from then.
    CHECK(decode(section(t)).empty());
    constexpr std::uint64_t earlier = 50'000'000'000; // an earlier life, its clock ahead of ours
    REQUIRE(feed(t, raw({{7, 1, 1, 0}, {1, earlier, 0, 0}})));
    t.on_period(40s);
    CHECK(t.generation() == earlier + 1);
    t.on_period(40s + membership_options{}.t_fail - 1s);
    CHECK(t.status_of(addr(7)) == member_status::alive);
    auto u = started(2);
    u.on_period(123s);
    CHECK(u.generation() == std::uint64_t{123'000'000'000});
    const auto entries = decode(section(u));
    REQUIRE(entries.size() == 1);
    CHECK(entries.front().heartbeat == 1);
}

TEST_CASE("membership: a table larger than the datagram rotates so that every entry travels")
{
    auto t = started(0);
    t.on_period(1s);
    // Learned interleaved, five sections of every fifth address, merged into one ordered table.
    for (std::uint32_t s = 0; s < 5; ++s) {
        std::vector<entry> others;
        for (std::uint32_t a = 300 - s; a >= 1 && a <= 300; a -= 5) {
            others.push_back(entry{a, 1, 1, 0});
        }
        REQUIRE(feed(t, raw(others)));
    }
    REQUIRE(t.members().size() == 300);
    // The own entry and 18 others, whichever 18: they all have the same generation and heartbeat.
    std::vector<entry> nineteen{entry{0, 1'000'000'000, 1, 0}};
    for (std::uint32_t a = 1; a <= 18; ++a) {
        nineteen.push_back(entry{a, 1, 1, 0});
    }
    const std::size_t budget = raw(nineteen).size();
    std::vector<std::uint32_t> sent;
    const std::size_t sections = (300 + 17) / 18;
    for (std::size_t s = 0; s < sections; ++s) {
        const auto entries = decode(section(t, budget));
        REQUIRE(entries.size() == 19);
        CHECK(entries.front().address == 0);
        for (std::size_t k = 1; k < entries.size(); ++k) {
            sent.push_back(entries[k].address);
        }
    }
    // One rotation sends every entry once, in address order, and the next starts over.
    REQUIRE(sent.size() == sections * 18);
    for (std::size_t k = 0; k < sent.size(); ++k) {
        CHECK(sent[k] == k % 300 + 1);
    }
    CHECK(t.statistics().truncated_writes == sections);
    CHECK(t.statistics().entries_sent == sections * 19);
}

TEST_CASE("membership: a malformed section is refused at every truncation point and leaves the table unchanged")
{
    auto a = started(1);
    a.on_period(1s);
    REQUIRE(feed(a, raw({{7, 1, 5, 0}, {8, 2, 6, 1}, {9, 3, 7, 0}})));
    const auto good = section(a);
    REQUIRE(decode(good).size() == 4);
    const auto fresh_b = [] {
        auto b = started(2);
        b.on_period(1s);
        REQUIRE(feed(b, raw({{7, 1, 2, 0}, {3, 1, 1, 0}})));
        return b;
    };
    const auto reference = fresh_b();
    const std::vector<gossip::payload::member<test::address>> before(reference.members().begin(),
                                                                     reference.members().end());
    for (std::size_t n = 0; n < good.size(); ++n) {
        CAPTURE(n);
        std::vector<event> log;
        auto b = fresh_b();
        b.on_event([&](const event& e) { log.push_back(e); });
        const std::vector<std::byte> cut(good.begin(), good.begin() + static_cast<std::ptrdiff_t>(n));
        CHECK_FALSE(feed(b, cut));
        CHECK(std::equal(b.members().begin(), b.members().end(), before.begin(), before.end()));
        CHECK(b.statistics() == reference.statistics());
        CHECK(log.empty());
    }
    auto trailing = good;
    trailing.push_back(std::byte{0});
    auto b = fresh_b();
    CHECK_FALSE(feed(b, trailing));
    CHECK(std::equal(b.members().begin(), b.members().end(), before.begin(), before.end()));
    CHECK(feed(b, good)); // and the whole section is fine
    CHECK(b.members().size() == 5);
}

TEST_CASE(
    "membership: sections with a bad number, a repeated address, a reserved generation or an absurd count are refused")
{
    auto t = started(1);
    t.on_period(1s);
    REQUIRE(feed(t, raw({{7, 1, 1, 0}})));
    constexpr auto reserved = std::numeric_limits<std::uint64_t>::max();
    // One entry about member 8, its two numbers given byte by byte.
    const auto with_numbers = [](std::initializer_list<std::uint8_t> numbers) {
        std::vector<std::byte> bytes{std::byte{1}, std::byte{0}, std::byte{8},
                                     std::byte{0}, std::byte{0}, std::byte{0}};
        for (const auto b : numbers) {
            bytes.push_back(std::byte{b});
        }
        return bytes;
    };
    REQUIRE(feed(t, with_numbers({0x02, 0x02}))); // well formed: generation 1, heartbeat 1
    const auto before = t.statistics();
    CHECK_FALSE(feed(t, with_numbers({0x02}))); // the heartbeat missing
    CHECK_FALSE(feed(t, with_numbers({0x82}))); // the generation cut short
    CHECK_FALSE(feed(t, with_numbers({0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x02, 0x02}))); // 65 bits
    CHECK_FALSE(
        feed(t, with_numbers({0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00, 0x02}))); // 11 bytes
    CHECK_FALSE(feed(t, with_numbers(
                            {0x02, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x04}))); // a 65-bit heartbeat
    CHECK_FALSE(feed(t, raw({{8, 1, 1, 0}, {9, 1, 1, 0}, {8, 1, 2, 0}})));                         // an address twice
    CHECK_FALSE(feed(t, raw({{8, reserved, 1, 0}})));           // no higher generation could follow
    CHECK_FALSE(feed(t, raw({{8, 1, 1, 0}}, 0xFFFF)));          // a count the bytes cannot hold
    CHECK_FALSE(feed(t, raw({{8, 1, 1, 0}, {9, 1, 1, 0}}, 1))); // fewer entries than bytes
    CHECK(t.statistics() == before);
    CHECK(t.members().size() == 2);
    CHECK(t.generation() == std::uint64_t{1'000'000'000});
}

TEST_CASE("membership: the table stays bounded under a flood of fresh addresses")
{
    auto o = timeouts(5s, 10s);
    o.max_members = 64;
    auto t = started(0, o);
    t.on_period(1s);
    std::uint32_t next = 1;
    for (int s = 0; s < 40; ++s) {
        std::vector<entry> junk;
        for (int k = 0; k < 50; ++k) {
            junk.push_back(entry{next++, 1, 1, static_cast<std::uint8_t>(k % 2)});
        }
        REQUIRE(feed(t, raw(junk)));
    }
    CHECK(t.members().size() == 64);
    CHECK(t.statistics().dropped_table_full == 40 * 50 - 64);
    CHECK(t.memory_bytes() < 64 * 4 * sizeof(gossip::payload::member<test::address>) + 64 * 1024);
    // Silent, the flood is declared failed and forgotten, and makes room again.
    t.on_period(11s);
    CHECK(t.members().empty());
    REQUIRE(feed(t, raw({{5000, 1, 1, 0}})));
    CHECK(t.alive_count() == 1);
}

TEST_CASE("membership: impossible options are refused with the reason")
{
    auto o = timeouts(0s, 10s);
    CHECK_THROWS_WITH_AS(table{o}, doctest::Contains("t_fail must be positive"), std::invalid_argument);
    o = timeouts(10s, 19s);
    CHECK_THROWS_WITH_AS(table{o}, doctest::Contains("less than 2 x t_fail"), std::invalid_argument);
    o = timeouts(10s, 20s);
    CHECK_NOTHROW(table{o});
    o = timeouts(1s, std::chrono::hours{24 * 366});
    CHECK_THROWS_AS(table{o}, std::invalid_argument);
    o = {};
    o.max_members = 0;
    CHECK_THROWS_WITH_AS(table{o}, doctest::Contains("max_members"), std::invalid_argument);
    o = {};
    o.generation = std::numeric_limits<std::uint64_t>::max();
    CHECK_THROWS_WITH_AS(table{o}, doctest::Contains("reserved"), std::invalid_argument);
    CHECK(gossip::payload::check(membership_options{}) == std::nullopt);
}

namespace {

/// n entries at distinct ascending addresses from 1 on (0 is the reader's), each with one of
/// `generations` generations and a random heartbeat.
std::vector<entry> ascending_entries(gossip::pcg32& rng, std::size_t n, std::uint64_t generations)
{
    std::vector<entry> out;
    std::uint32_t address = 0;
    for (std::size_t i = 0; i < n; ++i) {
        address += 1 + rng() % 5;
        out.push_back(entry{address, 1 + rng() % generations, rng() % 1000, 0});
    }
    return out;
}

/// The entries of `sorted` as a writer lists them: the writer (one of them) first, then the
/// others as a window that starts at a random place and wraps around, or (one trial in four) in
/// any order. One trial in five, the writer also speaks of the reader (address 0), anywhere; that
/// entry joins `sorted` too.
std::vector<entry> writer_order(gossip::pcg32& rng, std::vector<entry>& sorted, int trial)
{
    const std::size_t n = sorted.size();
    const std::size_t writer = rng() % n;
    std::vector<entry> rest;
    for (std::size_t i = 0; i < n; ++i) {
        if (i != writer) {
            rest.push_back(sorted[i]);
        }
    }
    if (trial % 4 == 3) {
        gossip::shuffle(std::span(rest), rng);
    } else {
        std::rotate(rest.begin(), rest.begin() + static_cast<std::ptrdiff_t>(rng() % rest.size()), rest.end());
    }
    std::vector<entry> wire{sorted[writer]};
    wire.insert(wire.end(), rest.begin(), rest.end());
    if (trial % 5 == 1) {
        const entry about_reader{0, 2'000'000'000, 1 + rng() % 9, 0};
        sorted.insert(sorted.begin(), about_reader);
        wire.insert(wire.begin() + static_cast<std::ptrdiff_t>(rng() % (wire.size() + 1)), about_reader);
    }
    return wire;
}

} // namespace

TEST_CASE("a section's entries are taken the same in any order: a wrapped window with the writer's own entry first, "
          "or shuffled")
{
    // Whatever the order on the wire, the reader's table is the one a section in address order
    // gives: the fast path (two ascending runs and the writer's entry) and the sort must agree.
    gossip::pcg32 rng(77);
    for (int trial = 0; trial < 300; ++trial) {
        CAPTURE(trial);
        const std::size_t n = 3 + rng() % 40;
        auto sorted = ascending_entries(rng, n, 3);
        const auto wire = writer_order(rng, sorted, trial);

        table expected = started(0);
        table got = started(0);
        expected.on_period(1s);
        got.on_period(1s);
        REQUIRE(feed(expected, raw(sorted)));
        REQUIRE(feed(got, raw(wire)));
        REQUIRE(got.members().size() == n);
        for (std::size_t i = 0; i < n; ++i) {
            CHECK(got.members()[i].address == expected.members()[i].address);
            CHECK(got.members()[i].generation == expected.members()[i].generation);
            CHECK(got.members()[i].heartbeat == expected.members()[i].heartbeat);
        }
        CHECK(got.statistics() == expected.statistics());
        CHECK(got.generation() == expected.generation());
        CHECK(got.statistics().refuted == (trial % 5 == 1 ? 1U : 0U));
    }
}

TEST_CASE("a section is taken as its entries would be one by one in address order, whatever the reader knew of them")
{
    // The reader already knows some of the section's members, at older, equal or newer
    // versions, some of them failed or left, and members the section does not list. A section
    // in a writer's order (its own entry, then a window that wraps) is compared as it is read
    // with the rows it names; any other order is sorted first. Either way the table, the
    // events and the statistics must be those of the entries fed alone, in address order.
    gossip::pcg32 rng(80);
    for (int trial = 0; trial < 400; ++trial) {
        CAPTURE(trial);
        const std::size_t n = 3 + rng() % 40;
        auto sorted = ascending_entries(rng, n, 4);
        for (auto& e : sorted) {
            e.address *= 2; // room between them for members the writer does not list
            e.status = rng() % 9 == 0 ? 1 : 0;
        }
        const auto wire = writer_order(rng, sorted, trial);

        // What the reader knew: a version near the section's for about half of its members, and
        // members of its own between them. The first group fails before the second is heard of.
        std::vector<entry> failing;
        std::vector<entry> known;
        for (const auto& e : sorted) {
            if (e.address == 0 || rng() % 2 == 0) {
                continue;
            }
            entry k = e;
            k.generation = e.generation + (rng() % 3) - 1;
            k.heartbeat = e.heartbeat + (rng() % 5) - 2;
            k.status = rng() % 6 == 0 ? 1 : 0;
            (rng() % 4 == 0 ? failing : known).push_back(k);
        }
        for (std::size_t i = 0; i < 4; ++i) {
            known.push_back(entry{2 * (1 + rng() % 120) + 1, 1 + rng() % 3, rng() % 1000, 0});
        }
        membership_options o;
        if (trial % 7 == 2) {
            o.max_members = failing.size() + known.size() + rng() % 4; // fresh members may be dropped
        }
        std::vector<event> got_events;
        std::vector<event> expected_events;
        table got = started(0, o, &got_events);
        table expected = started(0, o, &expected_events);
        for (table* t : {&got, &expected}) {
            t->on_period(1s);
            for (const auto& e : failing) {
                REQUIRE(feed(*t, raw({e})));
            }
            t->on_period(1s + o.t_fail + 1s);
            if (trial % 2 == 0) {
                for (const auto& e : known) {
                    feed(*t, raw({e}));
                }
            } else {
                // As one section of news: the reader then takes the next section by parsing,
                // sorting and applying it, rather than in one pass (see membership::read).
                std::sort(known.begin(), known.end(),
                          [](const entry& a, const entry& b) { return a.address < b.address; });
                known.erase(std::unique(known.begin(), known.end(),
                                        [](const entry& a, const entry& b) { return a.address == b.address; }),
                            known.end());
                REQUIRE(feed(*t, raw(known)));
            }
        }
        REQUIRE(std::ranges::equal(got.members(), expected.members()));
        got_events.clear();
        expected_events.clear();
        const auto before = got.statistics();

        REQUIRE(feed(got, raw(wire)));
        for (const auto& e : sorted) {
            REQUIRE(feed(expected, raw({e})));
        }
        CHECK(std::ranges::equal(got.members(), expected.members()));
        CHECK(got_events == expected_events);
        CHECK(got.generation() == expected.generation());
        CHECK(got.statistics().sections_received == before.sections_received + 1);
        auto expected_statistics = expected.statistics();
        expected_statistics.sections_received = got.statistics().sections_received;
        CHECK(got.statistics() == expected_statistics);
    }
}

TEST_CASE("membership: a section that lists an address twice is refused wherever the two entries stand")
{
    // Sections shaped as writers send them (the writer's entry, then a window that may wrap),
    // and shuffled ones, each with one entry repeated at a random place: the repeat may fall
    // in either run, straddle them, or repeat the writer's own entry.
    gossip::pcg32 rng(78);
    for (int trial = 0; trial < 600; ++trial) {
        CAPTURE(trial);
        const std::size_t n = 2 + rng() % 40;
        auto wire = ascending_entries(rng, n, 1);
        if (trial % 4 == 3) {
            gossip::shuffle(std::span(wire), rng);
        } else {
            std::rotate(wire.begin() + 1, wire.begin() + 1 + static_cast<std::ptrdiff_t>(rng() % (n - 1)), wire.end());
            std::swap(wire[0], wire[rng() % n]);
        }
        auto repeat = wire[rng() % n];
        repeat.heartbeat += rng() % 2; // the same address, at the same or another version
        wire.insert(wire.begin() + static_cast<std::ptrdiff_t>(rng() % (n + 1)), repeat);

        // Half the trials, the reader already knows some of them: a repeat is then also found
        // among entries compared with their rows as they are read.
        table t = started(0);
        t.on_period(1s);
        if (trial % 2 == 1) {
            for (const auto& e : wire) {
                if (rng() % 2 == 0) {
                    feed(t, raw({e}));
                }
            }
        }
        // One trial in three, the reader has just taken a section of news (members the wire does
        // not list), so that it reads the next one by parsing, sorting and applying it.
        if (trial % 3 == 2) {
            REQUIRE(feed(t, raw({{10'001, 1, 1, 0}, {10'002, 1, 1, 0}, {10'003, 1, 1, 0}})));
        }
        const std::vector<gossip::payload::member<test::address>> known(t.members().begin(), t.members().end());
        const auto before = t.statistics();
        CHECK_FALSE(feed(t, raw(wire)));
        CHECK(std::ranges::equal(t.members(), known));
        CHECK(t.statistics() == before);
    }
}

TEST_CASE("membership over udp_address: a section is read as written, whatever the size of its numbers, and every cut "
          "of it is refused")
{
    // udp_address's codec reads in place, so entries whose differences take a byte each are read
    // on a path of their own: sections mix those with longer numbers, leaves and IPv6 entries.
    using udp_address = gossip::transport::udp_address;
    using udp_table = gossip::payload::membership<udp_address>;
    struct udp_entry {
        udp_address address;
        std::uint64_t generation;
        std::uint64_t heartbeat;
        bool left;
    };
    gossip::pcg32 rng(79);
    for (int trial = 0; trial < 200; ++trial) {
        CAPTURE(trial);
        std::vector<udp_entry> entries;
        const std::size_t n = 1 + rng() % 30;
        for (std::size_t i = 0; i < n; ++i) {
            const auto id = static_cast<std::uint8_t>(10 + i);
            const udp_address a = rng() % 5 == 0
                                      ? udp_address::v6({0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, id}, 7000)
                                      : udp_address::v4({10, 0, 0, id}, 7000);
            const auto spread = [&] { return rng() % 3 == 0 ? std::uint64_t{rng()} << 20U : rng() % 40; };
            entries.push_back(udp_entry{a, 1'000 + spread(), spread(), rng() % 7 == 0});
        }
        std::vector<std::byte> bytes(2 + n * 40);
        gossip::wire::writer w{std::span(bytes)};
        w.u16(static_cast<std::uint16_t>(n));
        std::uint64_t generation = 0;
        std::uint64_t heartbeat = 0;
        for (const auto& e : entries) {
            gossip::wire::codec<udp_address>::write(w, e.address);
            gossip::wire::write_varint(w, gossip::wire::zigzag(e.generation - generation));
            gossip::wire::write_varint_flagged(w, gossip::wire::zigzag(e.heartbeat - heartbeat), e.left);
            generation = e.generation;
            heartbeat = e.heartbeat;
        }
        REQUIRE(w.ok());
        bytes.resize(w.size());

        const auto fresh = [] {
            udp_table t;
            t.start(gossip::payload_context<udp_address>{udp_address::v4({10, 0, 0, 1}, 7000), 1});
            t.on_period(1s);
            return t;
        };
        for (std::size_t cut = 0; cut < bytes.size(); ++cut) {
            auto t = fresh();
            const auto before = t.statistics();
            // A copy of exactly the cut, so that a read past it is a read past the allocation.
            const std::vector<std::byte> part(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(cut));
            CHECK_FALSE(test::feed(t, part, message_kind::request));
            CHECK(t.members().empty());
            CHECK(t.statistics() == before);
        }
        auto t = fresh();
        REQUIRE(test::feed(t, bytes, message_kind::request));
        std::sort(entries.begin(), entries.end(), [](const auto& a, const auto& b) { return a.address < b.address; });
        REQUIRE(t.members().size() == n);
        for (std::size_t i = 0; i < n; ++i) {
            CHECK(t.members()[i].address == entries[i].address);
            CHECK(t.members()[i].generation == entries[i].generation);
            CHECK(t.members()[i].heartbeat == entries[i].heartbeat);
            CHECK((t.members()[i].status == member_status::left) == entries[i].left);
        }
    }
}
