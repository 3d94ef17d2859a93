// Lifeguard's parts in payload::swim: the local health score (LHA-Probe), dynamic suspicion
// (LHA-Suspicion), the buddy system and nacks; and the scenario they exist for, slow members.

#include "swim_support.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <vector>

using namespace std::chrono_literals;
using namespace test::swim;

namespace {

// Runs one probe period from `start`: the ping, then (no ack) the ping-reqs at the timeout, and
// the end of the period. Returns the ping-reqs sent.
std::vector<sent> silent_period(driven& d, std::chrono::nanoseconds start)
{
    const auto o = d.p.options();
    const auto k = d.p.health() + 1;
    (void)d.timer_at(start);
    auto reqs = d.timer_at(start + o.probe_timeout * k);
    (void)d.timer_at(start + o.probe_interval * k);
    std::erase_if(reqs, [](const sent& m) { return type_of(m) != type::ping_req; });
    return reqs;
}

} // namespace

TEST_CASE("failed probes whose relays do not even nack raise the local health score")
{
    driven d(fast(), 8);
    REQUIRE(d.p.health() == 0);
    const auto reqs = silent_period(d, 100ms);
    REQUIRE(reqs.size() == 3);
    CHECK(d.p.statistics().missed_nacks == 3);
    CHECK(d.p.health() == 3); // one per missed nack
}

TEST_CASE("a failed probe whose relays all nack leaves the local health score alone")
{
    driven d(fast(), 8);
    (void)d.timer_at(100ms);
    const auto reqs = d.timer_at(140ms);
    REQUIRE(reqs.size() == 3);
    for (const auto& r : reqs) {
        const auto [ok, answer] = d.receive(r.to, section(type::nack).seq(seq_of(r)));
        CHECK(ok);
    }
    (void)d.timer_at(200ms);
    CHECK(d.p.statistics().probes_failed == 1);
    CHECK(d.p.statistics().nacks_received == 3);
    CHECK(d.p.health() == 0); // the relays could not reach it either: the target's fault
}

TEST_CASE("acks bring the local health score down, one per probe")
{
    driven d(fast(), 8);
    (void)silent_period(d, 100ms);
    REQUIRE(d.p.health() >= 3);
    // From now on every ping is answered: each ack takes one off the score.
    std::vector<std::uint32_t> after_acks;
    for (auto t = 300ms; t < 10s && d.p.health() > 0; t += 10ms) {
        for (const auto& m : d.timer_at(t)) {
            if (type_of(m) == type::ping) {
                const auto before = d.p.health();
                (void)d.receive(m.to, section(type::ack).seq(seq_of(m)));
                CHECK(d.p.health() == before - 1);
                after_acks.push_back(d.p.health());
            }
        }
    }
    CHECK(d.p.health() == 0);
    CHECK(!after_acks.empty());
}

TEST_CASE("the local health score stretches the probe interval and timeout")
{
    driven d(fast(), 8);
    (void)silent_period(d, 100ms);
    REQUIRE(d.p.health() == 3);
    // The next probe started as the failed one ended, at 200 ms; its timeout and period are
    // four times as long.
    const auto start = 200ms;
    auto messages = d.timer_at(start + fast().probe_timeout);
    CHECK(std::none_of(messages.begin(), messages.end(), [](const sent& m) { return type_of(m) == type::ping_req; }));
    messages = d.timer_at(start + 4 * fast().probe_timeout);
    CHECK(std::count_if(messages.begin(), messages.end(), [](const sent& m) { return type_of(m) == type::ping_req; }) ==
          3);
}

TEST_CASE("the local health score saturates below its maximum multiplier")
{
    auto o = fast();
    o.lifeguard.max_health_multiplier = 4;
    driven d(o, 8);
    auto t = 100ms;
    for (int k = 0; k < 5; ++k) {
        (void)silent_period(d, t);
        t += 8 * o.probe_interval;
    }
    CHECK(d.p.health() == 3);
}

TEST_CASE("a member whose loop stalls abandons its probe instead of suspecting the target")
{
    driven d(fast(), 8);
    const auto messages = d.timer_at(100ms);
    REQUIRE(!messages.empty());
    // The loop sleeps through the probe timeout and the whole period (a paused process).
    (void)d.timer_at(100ms + 10 * fast().probe_interval);
    CHECK(d.p.statistics().stalls == 1);
    CHECK(d.p.statistics().suspicions == 0);
    CHECK(d.p.health() == 1);
    for (const auto& m : d.p.members()) {
        CHECK(m.state == state::alive);
    }
}

TEST_CASE("without local health the same stall makes the member suspect its target")
{
    auto o = fast();
    o.lifeguard.local_health = false;
    driven d(o, 8);
    (void)d.timer_at(100ms);
    (void)d.timer_at(100ms + 10 * o.probe_interval);
    CHECK(d.p.statistics().stalls == 0);
    CHECK(d.p.statistics().suspicions == 1);
}

TEST_CASE("refuting a suspicion of itself raises a member's local health score")
{
    driven d(fast(), 4);
    (void)d.receive(address{1}, section(type::gossip).suspect(1, 0, 2));
    CHECK(d.p.incarnation() == 1);
    CHECK(d.p.health() == 1);
}

TEST_CASE("a relay nacks its requester when the target stays silent")
{
    driven d(fast(), 4);
    section req(type::ping_req);
    req.seq(77).u64(4).u8(3).u8(0).u8(0).u8(0); // member 4 at address 3
    auto [ok, answer] = d.receive(address{5}, req);
    REQUIRE(ok);
    REQUIRE(answer.size() == 1);
    const auto nacks_at = [&](std::chrono::nanoseconds t) {
        auto messages = d.timer_at(t);
        std::erase_if(messages, [](const sent& m) { return type_of(m) != type::nack; });
        return messages;
    };
    // Nothing before 80 % of the probe timeout...
    CHECK(nacks_at(fast().probe_timeout * 3 / 4).empty());
    // ... then a nack to the requester.
    const auto nacks = nacks_at(fast().probe_timeout * 4 / 5);
    REQUIRE(nacks.size() == 1);
    CHECK(nacks[0].to == address{5});
    CHECK(type_of(nacks[0]) == type::nack);
    CHECK(seq_of(nacks[0]) == 77);
    CHECK(d.p.statistics().nacks_sent == 1);
    CHECK(nacks_at(fast().probe_interval).empty());
}

TEST_CASE("without nacks a relay stays silent")
{
    auto o = fast();
    o.lifeguard.nack = false;
    driven d(o, 4);
    section req(type::ping_req);
    req.seq(77).u64(4).u8(3).u8(0).u8(0).u8(0);
    (void)d.receive(address{5}, req);
    auto messages = d.timer_at(o.probe_timeout);
    CHECK(std::none_of(messages.begin(), messages.end(), [](const sent& m) { return type_of(m) == type::nack; }));
    CHECK(d.p.statistics().nacks_sent == 0);
}

TEST_CASE("the buddy system tells a suspect of its suspicion first thing in the next ping")
{
    driven d(fast(), 3);
    (void)d.receive(address{2}, section(type::gossip).suspect(2, 0, 3)); // member 2 is suspect
    // Probe until the round-robin reaches member 2; drain the queue with acks meanwhile.
    bool checked = false;
    for (auto t = 100ms; t < 2s && !checked; t += 100ms) {
        for (const auto& m : d.timer_at(t)) {
            if (type_of(m) != type::ping) {
                continue;
            }
            if (target_of(m) == 2) {
                gossip::wire::reader r(m.section);
                (void)r.u8();
                (void)r.u32();
                (void)r.u64();
                CHECK(r.u8() == 2);  // a suspicion...
                CHECK(r.u64() == 2); // ...of the very member probed
                checked = true;
            } else {
                (void)d.receive(m.to, section(type::ack).seq(seq_of(m)));
            }
        }
    }
    CHECK(checked);
}

TEST_CASE("with dynamic suspicion off, a suspicion times out after the least timeout, whatever the confirmations")
{
    auto o = fast();
    o.lifeguard = gossip::payload::lifeguard_options::off();
    driven d(o, 10);
    (void)d.receive(address{2}, section(type::gossip).suspect(5, 0, 3));
    const auto least = min_suspicion(o, 10);
    CHECK(max_suspicion(o, 10) == least);
    (void)d.timer_at(least - 1ms);
    CHECK(d.p.find(5)->state == state::suspect);
    (void)d.timer_at(least);
    CHECK(d.p.find(5)->state == state::failed);
    CHECK(d.p.statistics().confirmations == 0);
}

TEST_CASE("with dynamic suspicion, an unconfirmed suspicion lasts the longest timeout")
{
    driven d(fast(), 10);
    (void)d.receive(address{2}, section(type::gossip).suspect(5, 0, 3));
    const auto most = max_suspicion(fast(), 10);
    // Acks keep this member's own probes from adding accusations of their own.
    for (auto t = 100ms; t < most - 100ms; t += 100ms) {
        for (const auto& m : d.timer_at(t)) {
            if (type_of(m) == type::ping && target_of(m) != 5) {
                (void)d.receive(m.to, section(type::ack).seq(seq_of(m)));
            }
        }
        if (d.p.find(5)->state != state::suspect) {
            break;
        }
    }
    // Its own probe of 5 failed at some point and counted as one confirmation at most.
    CHECK(d.p.statistics().confirmations <= 1);
    const auto least = min_suspicion(fast(), 10);
    CHECK(d.p.find(5)->state == state::suspect);
    CHECK(most - 100ms > least);
}

// --- the scenario Lifeguard exists for ---------------------------------------------------------

namespace {

struct slow_run {
    std::size_t suspicions_of_healthy = 0; ///< suspected events about members that were not slow
    std::size_t failures_of_healthy = 0;   ///< failed events about members that were not slow
    std::uint64_t raised_by_slow = 0;      ///< suspicions the slow members raised themselves
};

// 24 members, 3 of them slow: what arrives for them waits up to two probe intervals, and their
// own timers run late as much.
slow_run run_with_slow_members(const options& o)
{
    constexpr std::size_t n = 24;
    cluster c(n, o, 97);
    const std::vector<std::size_t> slow{3, 11, 17};
    for (const auto i : slow) {
        c.sim->set_slow(i, 0ms, o.probe_interval * 2);
    }
    c.run_for(120s);
    slow_run out;
    for (const auto& r : c.log) {
        const bool about_slow =
            std::any_of(slow.begin(), slow.end(), [&](std::size_t i) { return id_of(i) == r.what.id; });
        if (about_slow) {
            continue;
        }
        out.suspicions_of_healthy += r.what.kind == event_kind::suspected ? 1 : 0;
        out.failures_of_healthy += r.what.kind == event_kind::failed ? 1 : 0;
    }
    for (const auto i : slow) {
        out.raised_by_slow += c.at(i).statistics().suspicions;
    }
    return out;
}

} // namespace

TEST_CASE("with slow members, Lifeguard keeps them from accusing healthy members")
{
    auto with = fast();
    auto without = fast();
    without.lifeguard = gossip::payload::lifeguard_options::off();
    const auto on = run_with_slow_members(with);
    const auto off = run_with_slow_members(without);
    MESSAGE("suspicions raised by the slow members: ", on.raised_by_slow, " with Lifeguard, ", off.raised_by_slow,
            " without; healthy members suspected: ", on.suspicions_of_healthy, " / ", off.suspicions_of_healthy,
            "; failed: ", on.failures_of_healthy, " / ", off.failures_of_healthy);
    CHECK(off.raised_by_slow > 0);
    CHECK(on.raised_by_slow * 4 <= off.raised_by_slow);
    CHECK(on.suspicions_of_healthy * 4 <= off.suspicions_of_healthy);
    CHECK(on.failures_of_healthy <= off.failures_of_healthy);
}
