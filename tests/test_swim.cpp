// SWIM membership (payload/swim.hpp): probing, suspicion and refutation, dissemination,
// identity, metadata, user broadcasts, anti-entropy, and bad input. Lifeguard's parts have
// tests of their own in test_swim_lifeguard.cpp.

#include "swim_support.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <span>
#include <stdexcept>
#include <vector>

using namespace std::chrono_literals;
using namespace test::swim;
using gossip::payload::swim_formulas::expected_confirmations;
using gossip::payload::swim_formulas::retransmit_limit;
using gossip::payload::swim_formulas::suspicion_timeout;

namespace {

std::vector<std::byte> bytes_of(std::initializer_list<int> values)
{
    std::vector<std::byte> out;
    for (const int v : values) {
        out.push_back(static_cast<std::byte>(v));
    }
    return out;
}

// Answers every ping it sent with an ack from the target, as a healthy cluster would.
void ack_all(driven& d, const std::vector<sent>& messages)
{
    for (const auto& m : messages) {
        if (type_of(m) == type::ping) {
            const auto [ok, answer] = d.receive(m.to, section(type::ack).seq(seq_of(m)));
            CHECK(ok);
            CHECK(answer.empty());
        }
    }
}

} // namespace

// --- options and formulas -------------------------------------------------------------------

TEST_CASE("swim options that cannot work are refused with the reason")
{
    options o;
    o.probe_timeout = o.probe_interval;
    CHECK_THROWS_WITH_AS(payload{o}, doctest::Contains("probe_timeout"), std::invalid_argument);
    o = options{};
    o.metadata.resize(513);
    CHECK_THROWS_WITH_AS(payload{o}, doctest::Contains("metadata"), std::invalid_argument);
    o = options{};
    o.gossip_fanout = 0;
    CHECK(gossip::payload::check(o).has_value());
    CHECK_FALSE(gossip::payload::check(options{}).has_value());
    CHECK_FALSE(gossip::payload::check(options::wan()).has_value());
    CHECK_FALSE(gossip::payload::check(options::local()).has_value());
}

TEST_CASE("the suspicion timeout falls from its longest to its least as confirmations arrive")
{
    const options o;
    const auto least = min_suspicion(o, 100);
    const auto most = max_suspicion(o, 100);
    CHECK(least == 8s); // 4 * log10(100) * 1 s
    CHECK(most == 48s);
    const auto k = expected_confirmations(o, 100);
    REQUIRE(k == 3);
    CHECK(suspicion_timeout(least, most, 0, k) == most);
    CHECK(suspicion_timeout(least, most, 1, k) < most);
    CHECK(suspicion_timeout(least, most, 2, k) < suspicion_timeout(least, most, 1, k));
    CHECK(suspicion_timeout(least, most, 3, k) == least);
    CHECK(suspicion_timeout(least, most, 9, k) == least);
    // Halfway in log scale: log(2) / log(4) of the way down after one confirmation.
    CHECK(suspicion_timeout(least, most, 1, k) == 28s);
}

TEST_CASE("each update is sent lambda times ceil(log10(n + 1)) times, a user broadcast twice as many")
{
    options o; // lambda = 6
    CHECK(retransmit_limit(o, 1) == 6);
    CHECK(retransmit_limit(o, 9) == 6);
    CHECK(retransmit_limit(o, 10) == 12);
    CHECK(retransmit_limit(o, 1000) == 24);
    CHECK(gossip::payload::swim_formulas::broadcast_retransmit_limit(o, 9) == 12);
    o.retransmit_mult = 4; // memberlist's
    CHECK(retransmit_limit(o, 128) == 12);
}

// --- probing ------------------------------------------------------------------------------

TEST_CASE("round-robin probing reaches every member once per pass")
{
    constexpr std::size_t n = 10;
    driven d(fast(), n);
    const auto period = fast().probe_interval;
    std::map<std::uint64_t, int> probed;
    for (std::size_t pass = 0; pass < 3; ++pass) {
        std::set<std::uint64_t> this_pass;
        for (std::size_t k = 0; k + 1 < n; ++k) {
            const auto messages = d.timer_at(d.now + period);
            const auto pings =
                std::count_if(messages.begin(), messages.end(), [](const sent& m) { return type_of(m) == type::ping; });
            REQUIRE(pings == 1);
            for (const auto& m : messages) {
                if (type_of(m) == type::ping) {
                    this_pass.insert(target_of(m));
                }
            }
            ack_all(d, messages);
        }
        CHECK(this_pass.size() == n - 1); // each of the n - 1 others exactly once
    }
    CHECK(d.p.statistics().acks == 3 * (n - 1));
    CHECK(d.p.statistics().probes_failed == 0);
}

TEST_CASE("a silent target is probed through others, then suspected at the end of the period")
{
    driven d(fast(), 6);
    auto messages = d.timer_at(100ms);
    REQUIRE(messages.size() == 1);
    const auto target = target_of(messages[0]);
    const auto seq = seq_of(messages[0]);
    // No ack: at the probe timeout, k = 3 ping-reqs to three other members.
    messages = d.timer_at(100ms + fast().probe_timeout);
    REQUIRE(messages.size() == 3);
    std::set<std::uint32_t> relays;
    for (const auto& m : messages) {
        CHECK(type_of(m) == type::ping_req);
        CHECK(target_of(m) == target);
        CHECK(seq_of(m) == seq);
        CHECK(m.to.index + 1 != target);
        relays.insert(m.to.index);
    }
    CHECK(relays.size() == 3);
    CHECK(d.p.find(target)->state == state::alive);
    // Still nothing at the end of the period: suspected.
    (void)d.timer_at(200ms);
    CHECK(d.p.find(target)->state == state::suspect);
    CHECK(d.p.statistics().suspicions == 1);
    REQUIRE(d.events.size() == 1);
    CHECK(d.events[0].kind == event_kind::suspected);
}

TEST_CASE("a nack counts once per relay asked, and not at all from anyone else")
{
    driven d(fast(), 6);
    auto messages = d.timer_at(100ms);
    const auto seq = seq_of(messages[0]);
    messages = d.timer_at(140ms);
    REQUIRE(messages.size() == 3);
    (void)d.receive(address{77}, section(type::nack).seq(seq)); // never asked
    CHECK(d.p.statistics().nacks_received == 0);
    (void)d.receive(messages[0].to, section(type::nack).seq(seq));
    (void)d.receive(messages[0].to, section(type::nack).seq(seq)); // again
    CHECK(d.p.statistics().nacks_received == 1);
    (void)d.timer_at(200ms);
    CHECK(d.p.statistics().probes_failed == 1);
    CHECK(d.p.statistics().missed_nacks == 2); // the two relays that stayed silent
}

TEST_CASE("an ack forwarded by a relay saves the target from suspicion")
{
    driven d(fast(), 6);
    auto messages = d.timer_at(100ms);
    const auto target = target_of(messages[0]);
    const auto seq = seq_of(messages[0]);
    messages = d.timer_at(140ms);
    REQUIRE(!messages.empty());
    // A relay (not the target's address) forwards the ack.
    const auto [ok, answer] = d.receive(messages[0].to, section(type::ack).seq(seq));
    CHECK(ok);
    (void)d.timer_at(200ms);
    CHECK(d.p.find(target)->state == state::alive);
    CHECK(d.p.statistics().indirect_acks == 1);
    CHECK(d.p.statistics().probes_failed == 0);
}

TEST_CASE("a ping is answered with an ack to its sender, and a ping for another id is not")
{
    driven d(fast(), 3);
    auto [ok, answer] = d.receive(address{7}, section(type::ping).seq(41).u64(1));
    CHECK(ok);
    REQUIRE(answer.size() == 1);
    CHECK(answer[0].to == address{7});
    CHECK(type_of(answer[0]) == type::ack);
    CHECK(seq_of(answer[0]) == 41);
    // A ping meant for a predecessor at this address (another id) gets no answer.
    std::tie(ok, answer) = d.receive(address{7}, section(type::ping).seq(42).u64(555));
    CHECK(ok);
    CHECK(answer.empty());
    CHECK(d.p.statistics().pings_misaddressed == 1);
}

TEST_CASE("a relay pings the target for the requester and forwards its ack")
{
    driven d(fast(), 4);
    auto [ok, answer] = d.receive(address{2}, section(type::ping_req).seq(9).u64(4).u8(0).u8(0).u8(0).u8(0));
    // The target address above is in_memory address 0, this very node: refused as nonsense.
    CHECK(ok);
    CHECK(answer.empty());
    CHECK(d.p.statistics().relays_refused == 1);

    section req(type::ping_req);
    req.seq(9).u64(4).u8(3).u8(0).u8(0).u8(0); // member 4, at in_memory address 3
    std::tie(ok, answer) = d.receive(address{2}, req);
    CHECK(ok);
    REQUIRE(answer.size() == 1);
    CHECK(answer[0].to == address{3});
    CHECK(type_of(answer[0]) == type::ping);
    CHECK(target_of(answer[0]) == 4);
    std::tie(ok, answer) = d.receive(address{3}, section(type::ack).seq(seq_of(answer[0])));
    CHECK(ok);
    REQUIRE(answer.size() == 1);
    CHECK(answer[0].to == address{2});
    CHECK(type_of(answer[0]) == type::ack);
    CHECK(seq_of(answer[0]) == 9);
}

// --- suspicion and refutation -------------------------------------------------------------

TEST_CASE("a member refutes a suspicion of itself with a higher incarnation")
{
    driven d(fast(), 3);
    REQUIRE(d.p.incarnation() == 0);
    auto [ok, answer] = d.receive(address{1}, section(type::gossip).suspect(1, 0, 2));
    CHECK(ok);
    CHECK(d.p.incarnation() == 1);
    CHECK(d.p.statistics().refutations == 1);
    // The refutation rides on the next message: an alive record at incarnation 1.
    std::tie(ok, answer) = d.receive(address{1}, section(type::ping).seq(1).u64(1));
    REQUIRE(answer.size() == 1);
    gossip::wire::reader r(answer[0].section);
    CHECK(r.u8() == 3); // ack
    (void)r.u32();
    CHECK(r.u8() == 1); // alive
    CHECK(r.u64() == 1);
    CHECK(gossip::wire::read_varint(r) == 1);
    // An old suspicion (below the incarnation) changes nothing.
    std::tie(ok, answer) = d.receive(address{1}, section(type::gossip).suspect(1, 0, 2));
    CHECK(d.p.incarnation() == 1);
    // A failure claimed at the current incarnation is refuted too.
    std::tie(ok, answer) = d.receive(address{1}, section(type::gossip).failed(1, 1, 2));
    CHECK(d.p.incarnation() == 2);
}

TEST_CASE("incarnation precedence: alive needs a higher incarnation, suspicion an equal one, failure wins")
{
    driven d(fast(), 3);
    // member 2 at address 1
    auto apply = [&](const section& s) { CHECK(d.receive(address{2}, s).first); };
    apply(section(type::gossip).suspect(2, 0, 3));
    CHECK(d.p.find(2)->state == state::suspect);
    apply(section(type::gossip).alive(2, 0, address{1})); // not higher: no effect
    CHECK(d.p.find(2)->state == state::suspect);
    apply(section(type::gossip).alive(2, 1, address{1}));
    CHECK(d.p.find(2)->state == state::alive);
    CHECK(d.p.statistics().false_suspicions == 1);
    apply(section(type::gossip).suspect(2, 0, 3)); // older than what we know
    CHECK(d.p.find(2)->state == state::alive);
    apply(section(type::gossip).failed(2, 1, 3));
    CHECK(d.p.find(2)->state == state::failed);
    apply(section(type::gossip).alive(2, 1, address{1})); // same incarnation cannot revive
    CHECK(d.p.find(2)->state == state::failed);
    apply(section(type::gossip).alive(2, 2, address{1}));
    CHECK(d.p.find(2)->state == state::alive);
    std::vector<event_kind> kinds;
    for (const auto& e : d.events) {
        kinds.push_back(e.kind);
    }
    CHECK(kinds ==
          std::vector<event_kind>{event_kind::suspected, event_kind::alive, event_kind::failed, event_kind::joined});
}

TEST_CASE("a member failed again at a later incarnation is not revived by an alive from before")
{
    driven d(fast(), 3);
    auto apply = [&](const section& s) { CHECK(d.receive(address{2}, s).first); };
    apply(section(type::gossip).failed(2, 3, 3));
    REQUIRE(d.p.find(2)->state == state::failed);
    // Member 2 refuted to 5 (news this member missed), then failed again at 5.
    apply(section(type::gossip).failed(2, 5, 3));
    CHECK(d.p.find(2)->state == state::failed);
    CHECK(d.p.find(2)->incarnation == 5);
    apply(section(type::gossip).alive(2, 5, address{1})); // late news from between the two
    CHECK(d.p.find(2)->state == state::failed);
    apply(section(type::gossip).alive(2, 6, address{1})); // really back
    CHECK(d.p.find(2)->state == state::alive);
    CHECK(std::count_if(d.events.begin(), d.events.end(),
                        [](const event& e) { return e.kind == event_kind::failed; }) == 1);
}

TEST_CASE("a claim older than a member's refutation makes it send its alive record again")
{
    driven d(fast(), 3);
    (void)d.receive(address{1}, section(type::gossip).suspect(1, 0, 2));
    REQUIRE(d.p.incarnation() == 1);
    // Acks carry the refutation until its retransmissions run out.
    const auto ack_carries_updates = [&](std::uint32_t seq) {
        const auto [ok, answer] = d.receive(address{1}, section(type::ping).seq(seq).u64(1));
        REQUIRE(answer.size() == 1);
        return answer[0].section.size() > 5; // more than the type and the seq
    };
    std::uint32_t seq = 1;
    while (ack_carries_updates(seq) && seq < 100) {
        ++seq;
    }
    REQUIRE(seq < 100);
    CHECK_FALSE(ack_carries_updates(++seq));
    // Someone still suspects this member at incarnation 0: the alive record goes out again.
    (void)d.receive(address{1}, section(type::gossip).suspect(1, 0, 2));
    CHECK(d.p.incarnation() == 1);
    CHECK(ack_carries_updates(++seq));
}

TEST_CASE("a crashed member is suspected, then declared failed by every other member")
{
    cluster c(12, fast(), 11);
    c.run_for(2s);
    c.sim->crash(5);
    const auto crashed_at = c.sim->now();
    const auto victim = id_of(5);
    REQUIRE(c.run_until([&] { return c.believers(victim, state::failed) == 11; }, 30s));
    CHECK(c.count(event_kind::suspected, victim) >= 1);
    CHECK(c.count(event_kind::failed, victim) == 11);
    // Detected by all within the least suspicion timeout, plus a few probe periods for the
    // probes that find it (and confirm it) and for the news to spread.
    const auto detected = c.sim->now() - crashed_at;
    CHECK(detected <= min_suspicion(fast(), 12) + 4 * fast().probe_interval);
    // Nobody else was declared failed.
    CHECK(c.count_others(event_kind::failed, victim) == 0);
}

TEST_CASE("a suspected member that is alive refutes, and nobody declares it failed")
{
    // A cut link between 0 and 3 and no indirect probes: 0 suspects 3, which refutes.
    auto o = fast();
    o.indirect_checks = 0;
    cluster c(6, o, 5);
    c.sim->network().cut_link(address{0}, address{3});
    c.run_for(20s);
    CHECK(c.count(event_kind::suspected, id_of(3)) >= 1);
    CHECK(c.count(event_kind::alive, id_of(3)) >= 1);
    CHECK(c.at(3).statistics().refutations >= 1);
    CHECK(c.at(3).incarnation() >= 1);
    CHECK(c.count(event_kind::failed, id_of(3)) == 0);
}

TEST_CASE("an indirect probe reaches a member through others when one link is cut")
{
    cluster c(8, fast(), 21);
    c.sim->network().cut_link(address{0}, address{4});
    c.run_for(30s);
    // 0 and 4 cannot talk, yet neither suspects the other: others relay.
    CHECK(c.count(event_kind::suspected, id_of(4)) == 0);
    CHECK(c.count(event_kind::suspected, id_of(0)) == 0);
    CHECK(c.at(0).statistics().indirect_acks > 0);
    CHECK(c.at(4).statistics().indirect_acks > 0);
    CHECK(c.all_see_all());
}

TEST_CASE("more accusers bring a suspicion's timeout down")
{
    driven d(fast(), 10);
    (void)d.receive(address{2}, section(type::gossip).suspect(5, 0, 3));
    const auto o = fast();
    const auto most = max_suspicion(o, 10);
    const auto least = min_suspicion(o, 10);
    (void)d.timer_at(least + 1ms);
    CHECK(d.p.find(5)->state == state::suspect); // one accuser: not yet
    (void)d.receive(address{3}, section(type::gossip).suspect(5, 0, 4));
    (void)d.receive(address{4}, section(type::gossip).suspect(5, 0, 6));
    (void)d.receive(address{4}, section(type::gossip).suspect(5, 0, 6)); // the same accuser again
    CHECK(d.p.statistics().confirmations == 2);
    (void)d.timer_at(least + 2ms);
    CHECK(d.p.find(5)->state == state::suspect); // two of three: still above the least
    (void)d.receive(address{5}, section(type::gossip).suspect(5, 0, 7));
    CHECK(d.p.statistics().confirmations == 3);
    (void)d.timer_at(least + 3ms);
    CHECK(d.p.find(5)->state == state::failed); // three: the least, long past
    CHECK(least + 3ms < most);
    CHECK(d.p.statistics().failures == 1);
}

// --- joining, leaving, identity -------------------------------------------------------------

TEST_CASE("members that join one seed all come to know each other")
{
    cluster c(24, fast(), 3, /*formed=*/false);
    c.join_all();
    REQUIRE(c.run_until([&] { return c.all_see_all(); }, 10s));
    for (std::size_t i = 0; i < c.size(); ++i) {
        CHECK(c.at(i).alive_count() == c.size() - 1);
    }
    CHECK(c.count_others(event_kind::failed, 0) == 0);
}

TEST_CASE("a joiner retries its seeds until one answers")
{
    cluster c(4, fast(), 8, /*formed=*/false);
    c.sim->crash(0);
    const std::vector<address> seed{address{0}};
    c.sim->join(1, seed);
    c.run_for(1s);
    CHECK(c.at(1).alive_count() == 0);
    const auto contacts = c.at(1).statistics().seed_contacts;
    CHECK(contacts >= 5); // every seed_retry_interval while alone
    c.sim->restart(0, {});
    REQUIRE(c.run_until([&] { return c.at(1).alive_count() == 1 && c.at(0).alive_count() == 1; }, 2s));
    c.run_for(1s);
    const auto after = c.at(1).statistics().seed_contacts;
    c.run_for(1s);
    CHECK(c.at(1).statistics().seed_contacts == after); // no more retries once it knows someone
}

TEST_CASE("a member that leaves is reported left, not failed")
{
    cluster c(8, fast(), 13);
    c.run_for(1s);
    c.sim->act(2, [](node& n) { n.leave(); });
    c.run_for(3s);
    CHECK(c.believers(id_of(2), state::left) == 7);
    CHECK(c.count(event_kind::left, id_of(2)) == 7);
    c.sim->crash(2); // the process exits
    c.run_for(20s);
    CHECK(c.count(event_kind::failed, id_of(2)) == 0);
    CHECK(c.count(event_kind::suspected, id_of(2)) == 0);
}

TEST_CASE("a new process at an old address is a new member, and its predecessor is found failed")
{
    cluster c(6, fast(), 17);
    c.run_for(1s);
    const auto old_id = id_of(3);
    c.sim->crash(3);
    c.ids[3] = 1000; // the new process draws a new id
    c.sim->restart(3, std::vector<address>{address{0}});
    REQUIRE(c.run_until([&] { return c.believers(1000, state::alive) == 5; }, 5s));
    // Every node, the newcomer included, finds the predecessor failed.
    REQUIRE(c.run_until([&] { return c.believers(old_id, state::failed) == 6; }, 30s));
    CHECK(c.at(3).statistics().pings_misaddressed > 0); // pings for its predecessor went unanswered
}

TEST_CASE("a process that restarts with its id at a new address takes over from its earlier life")
{
    cluster c(7, fast(), 19, /*formed=*/false);
    // Node 6 stays out; nodes 0..5 form the cluster.
    const std::vector<address> seed{address{0}};
    for (std::size_t i = 1; i < 6; ++i) {
        c.sim->join(i, seed);
    }
    c.sim->crash(6);
    REQUIRE(c.run_until([&] { return c.at(0).alive_count() == 5; }, 5s));
    c.run_for(1s);
    const auto id = id_of(4);
    const auto before = c.at(1).find(id)->incarnation;
    // Member 4 dies at address 4 and comes back, same id, at address 6.
    c.sim->crash(4);
    c.ids[6] = id;
    c.sim->restart(6, seed);
    REQUIRE(c.run_until(
        [&] {
            for (std::size_t i = 0; i < 4; ++i) {
                const auto m = c.at(i).find(id);
                if (!m || m->address != address{6} || m->state != state::alive) {
                    return false;
                }
            }
            return true;
        },
        10s));
    CHECK(c.at(6).incarnation() > before); // it heard of its old self and superseded it
    CHECK(c.at(6).statistics().refutations >= 1);
}

TEST_CASE("failed and left members are forgotten after reclaim_after, at the end of a probe pass")
{
    auto o = fast();
    o.reclaim_after = 1000ms;
    driven d(o, 4);
    (void)d.receive(address{1}, section(type::gossip).failed(2, 0, 3).left(3, 1));
    CHECK(d.p.find(2)->state == state::failed);
    CHECK(d.p.find(3)->state == state::left);
    CHECK(d.p.size() == 4);
    // Passes of the round-robin run on; after reclaim_after the two are gone, member 4 stays.
    for (auto t = 100ms; t <= 1500ms; t += 100ms) {
        for (const auto& m : d.timer_at(t)) {
            if (type_of(m) == type::ping) {
                (void)d.receive(m.to, section(type::ack).seq(seq_of(m)));
            }
        }
    }
    CHECK_FALSE(d.p.find(2).has_value());
    CHECK_FALSE(d.p.find(3).has_value());
    CHECK(d.p.find(4).has_value());
    CHECK(d.p.statistics().reclaimed == 2);
    // Forgotten, an id may come back at any incarnation.
    (void)d.receive(address{1}, section(type::gossip).alive(2, 0, address{1}));
    CHECK(d.p.find(2)->state == state::alive);
}

// --- metadata and broadcasts -----------------------------------------------------------------

TEST_CASE("metadata set at runtime reaches every member, reported as an update")
{
    auto o = fast();
    o.metadata = bytes_of({'d', 'c', '1'});
    cluster c(8, o, 23, /*formed=*/false);
    c.join_all();
    REQUIRE(c.run_until([&] { return c.all_see_all(); }, 10s));
    for (std::size_t i = 1; i < c.size(); ++i) {
        const auto m = c.at(i).find(id_of(0));
        REQUIRE(m.has_value());
        CHECK(std::ranges::equal(m->metadata, o.metadata));
    }
    const auto updated = bytes_of({'d', 'c', '2', '!'});
    c.sim->act(0, [&](node& n) { n.payload().set_metadata(updated); });
    REQUIRE(c.run_until(
        [&] {
            for (std::size_t i = 1; i < c.size(); ++i) {
                if (!std::ranges::equal(c.at(i).find(id_of(0))->metadata, updated)) {
                    return false;
                }
            }
            return true;
        },
        5s));
    CHECK(c.count(event_kind::updated, id_of(0)) == c.size() - 1);
    CHECK_THROWS_AS(c.at(0).set_metadata(std::vector<std::byte>(513)), std::invalid_argument);
}

TEST_CASE("a user broadcast reaches every member exactly once")
{
    cluster c(16, fast(), 29);
    c.run_for(500ms);
    std::vector<std::uint64_t> sent_ids;
    for (int k = 0; k < 5; ++k) {
        c.sim->act(static_cast<std::size_t>(k),
                   [&](node& n) { sent_ids.push_back(n.payload().broadcast(bytes_of({k}))); });
    }
    c.run_for(5s);
    for (std::size_t i = 0; i < c.size(); ++i) {
        auto got = c.delivered[i];
        std::sort(got.begin(), got.end());
        CHECK(std::adjacent_find(got.begin(), got.end()) == got.end()); // once each
        const std::size_t own = i < 5 ? 1 : 0;
        CHECK(got.size() + own == 5);
    }
}

TEST_CASE("a broadcast too large for a datagram is refused with the reason")
{
    driven d(fast(), 2);
    const std::vector<std::byte> big(d.p.max_broadcast_bytes() + 1);
    CHECK_THROWS_WITH_AS(d.p.broadcast(big), doctest::Contains("at most"), std::invalid_argument);
    CHECK_NOTHROW(d.p.broadcast(std::vector<std::byte>(d.p.max_broadcast_bytes())));
}

TEST_CASE("user broadcasts keep their share of the room under a burst of membership updates")
{
    gossip::detail::broadcast_queue q(1000);
    for (std::uint64_t k = 0; k < 100; ++k) {
        std::vector<std::byte> update(20, std::byte{1});
        q.push(k, false, update);
    }
    std::vector<std::byte> user(30, std::byte{2});
    q.push(7, true, user);
    std::vector<std::byte> buffer(200);
    gossip::wire::writer w{std::span(buffer)};
    q.write(w, 200, 4, 0.25);
    const auto written = w.written();
    const auto users = std::count(written.begin(), written.end(), std::byte{2});
    CHECK(users == 30);          // the user item got in
    CHECK(written.size() > 150); // and membership filled the rest
}

TEST_CASE("an emptied queue is empty, and user broadcasts outlast membership updates")
{
    gossip::detail::broadcast_queue q(100);
    q.push(1, false, std::vector<std::byte>(10, std::byte{1}));
    q.push(2, true, std::vector<std::byte>(10, std::byte{2}));
    std::vector<int> sent;
    for (int k = 0; k < 6; ++k) {
        std::vector<std::byte> buffer(20);
        gossip::wire::writer w{std::span(buffer)};
        q.write(w, 20, gossip::detail::broadcast_queue::limits{2, 4}, 0.5);
        sent.push_back(static_cast<int>(w.size() / 10));
    }
    CHECK(sent == std::vector{2, 2, 1, 1, 0, 0}); // the user item goes twice as often
    CHECK(q.empty());
}

TEST_CASE("queued updates go fewest-sent first, newest first, at most the limit, and a newer one replaces the older")
{
    gossip::detail::broadcast_queue q(100);
    const auto item = [](int tag) { return std::vector<std::byte>(10, static_cast<std::byte>(tag)); };
    q.push(1, false, item(1));
    q.push(2, false, item(2));
    const auto write_one = [&](std::uint32_t limit) {
        std::vector<std::byte> buffer(10);
        gossip::wire::writer w{std::span(buffer)};
        q.write(w, 10, limit, 0);
        return w.size() == 10 ? static_cast<int>(buffer[0]) : 0;
    };
    CHECK(write_one(2) == 2); // newest first
    CHECK(write_one(2) == 1); // then the one sent fewer times
    CHECK(write_one(2) == 2);
    CHECK(write_one(2) == 1);
    CHECK(write_one(2) == 0); // both sent twice: gone
    CHECK(q.empty());
    q.push(3, false, item(3));
    q.push(3, false, item(4)); // replaces
    CHECK(q.size() == 1);
    CHECK(write_one(1) == 4);
    CHECK(write_one(1) == 0);
}

TEST_CASE("a flood of one class of broadcasts cannot push the other out of the queue")
{
    gossip::detail::broadcast_queue q(4, 4);
    for (std::uint64_t k = 0; k < 4; ++k) {
        q.push(k, false, std::vector<std::byte>(10, std::byte{1}));
    }
    std::size_t dropped = 0;
    for (std::uint64_t k = 0; k < 100; ++k) {
        dropped += q.push(k, true, std::vector<std::byte>(10, std::byte{2}));
    }
    CHECK(dropped == 96);
    CHECK(q.size() == 8);
    std::vector<std::byte> buffer(200);
    gossip::wire::writer w{std::span(buffer)};
    q.write(w, 200, 4, 0.25);
    const auto written = w.written();
    CHECK(std::count(written.begin(), written.end(), std::byte{1}) == 40); // every membership update
    CHECK(std::count(written.begin(), written.end(), std::byte{2}) == 40); // the four newest user ones
}

TEST_CASE("updates replaced while nothing is written do not pile up in the queue")
{
    gossip::detail::broadcast_queue q(100);
    for (std::uint64_t k = 0; k < 10'000; ++k) {
        q.push(k % 3, false, std::vector<std::byte>(10, std::byte{1}));
    }
    CHECK(q.size() == 3);
    CHECK(q.held() <= 2 * 3 + 64);
}

// --- anti-entropy and partitions ----------------------------------------------------------------

TEST_CASE("a sync page passes a suspicion on under its first accuser's name")
{
    driven d(fast(), 3);
    (void)d.receive(address{2}, section(type::gossip).suspect(2, 0, 3)); // member 3 accuses 2
    REQUIRE(d.p.find(2)->state == state::suspect);
    // A sync opening with another digest draws a page of every member.
    const auto [ok, answer] = d.receive(address{2}, section(type::sync).u8(1).u64(12345).u64(0).u64(0));
    CHECK(ok);
    REQUIRE(answer.size() == 1);
    gossip::wire::reader r(answer[0].section);
    (void)r.u8(); // sync
    (void)r.u8(); // flags
    (void)r.u64();
    (void)r.u64();
    (void)r.u64();
    std::optional<std::uint64_t> accuser;
    while (r.ok() && r.remaining() > 0) {
        const auto tag = r.u8();
        const auto id = r.u64();
        (void)gossip::wire::read_varint(r);
        if ((tag & 0x7FU) == 1) {
            address a{};
            REQUIRE(gossip::wire::codec<address>::read(r, a));
            REQUIRE((tag & 0x80U) == 0);
        } else if (tag == 2 || tag == 3) {
            const auto by = r.u64();
            if (tag == 2 && id == 2) {
                accuser = by;
            }
        }
    }
    REQUIRE(accuser.has_value());
    CHECK(*accuser == 3); // not this member, which only heard of it
}

TEST_CASE("a sync between equal states costs one small datagram and no answer")
{
    driven d(fast(), 3);
    // Another member with the same view: 1, 2, 3 alive at incarnation 0. Its digest is ours.
    driven other(fast(), 3);
    std::vector<sent> opened;
    for (auto t = 100ms; opened.empty() && t < 20s; t += 100ms) {
        const auto messages = d.timer_at(t);
        ack_all(d, messages);
        for (const auto& m : messages) {
            if (type_of(m) == type::sync) {
                opened.push_back(m);
            }
        }
    }
    REQUIRE(opened.size() == 1);
    CHECK(opened[0].section.size() <= 26);
    gossip::wire::reader r(opened[0].section);
    const bool ok = other.p.receive(address{0}, r, 0ns, other.out);
    CHECK(ok);
    CHECK(take(other.out).empty());
    CHECK(other.p.statistics().syncs_equal == 1);
}

TEST_CASE("a sync between different states pages both member lists across")
{
    // Two clusters of 120 that never met; one member of each syncs with the other's.
    constexpr std::size_t half = 120;
    cluster c(2 * half, fast(), 31, /*formed=*/false);
    const std::vector<address> left_seed{address{0}};
    const std::vector<address> right_seed{address{half}};
    for (std::size_t i = 1; i < half; ++i) {
        c.sim->join(i, left_seed);
        c.sim->join(half + i, right_seed);
    }
    REQUIRE(
        c.run_until([&] { return c.at(0).alive_count() == half - 1 && c.at(half).alive_count() == half - 1; }, 10s));
    c.sim->join(0, right_seed); // 120 members' worth of state each way: more than one page
    REQUIRE(c.run_until([&] { return c.all_see_all(); }, 10s));
    CHECK(c.at(half).statistics().sync_pages >= 2);
}

TEST_CASE("after a partition heals, the two sides merge again")
{
    auto o = fast();
    cluster c(10, o, 37);
    c.run_for(1s);
    std::vector<address> side;
    for (std::uint32_t i = 0; i < 5; ++i) {
        side.push_back(address{i});
    }
    c.sim->network().partition(side);
    // Long enough for each side to declare the other failed.
    REQUIRE(c.run_until(
        [&] { return c.believers(id_of(0), state::failed) == 5 && c.believers(id_of(9), state::failed) == 5; }, 60s));
    c.sim->network().heal();
    REQUIRE(c.run_until([&] { return c.all_see_all(); }, 30s, 100ms));
    CHECK(c.count(event_kind::joined, id_of(0)) >= 5);
}

TEST_CASE("an isolated member goes back to its seeds and rejoins")
{
    cluster c(6, fast(), 41);
    c.run_for(1s);
    c.sim->act(5, [](node& n) { n.join(std::vector<address>{address{0}}); });
    c.run_for(100ms);
    const std::vector<address> alone{address{5}};
    c.sim->network().partition(alone);
    REQUIRE(c.run_until([&] { return c.at(5).alive_count() == 0; }, 60s));
    const auto contacts = c.at(5).statistics().seed_contacts;
    c.run_for(1s);
    CHECK(c.at(5).statistics().seed_contacts > contacts);
    c.sim->network().heal();
    REQUIRE(c.run_until([&] { return c.all_see_all(); }, 10s));
}

// --- load -------------------------------------------------------------------------------------

TEST_CASE("an idle member's load does not grow with the cluster")
{
    const auto load = [](std::size_t n) {
        cluster c(n, fast(), 43);
        c.run_for(3s); // let the start settle
        const auto before = c.sim->network().statistics();
        c.run_for(10s);
        const auto after = c.sim->network().statistics();
        const double seconds = 10;
        return std::pair<double, double>{static_cast<double>(after.sent - before.sent) / seconds /
                                             static_cast<double>(n),
                                         static_cast<double>(after.bytes_sent - before.bytes_sent) / seconds /
                                             static_cast<double>(n)};
    };
    const auto small = load(8);
    const auto large = load(128);
    // One ping and one ack per probe interval (100 ms here), plus the rare sync.
    CHECK(small.first == doctest::Approx(20).epsilon(0.05));
    CHECK(large.first == doctest::Approx(small.first).epsilon(0.05));
    CHECK(large.second < small.second * 1.2);
}

// --- bad input ----------------------------------------------------------------------------------

TEST_CASE("malformed swim sections are refused whole, counted, and change nothing")
{
    driven d(fast(), 4);
    const auto before = d.p.members().size();
    const auto refuse = [&](std::vector<std::byte> bytes) {
        gossip::wire::reader r(bytes);
        CHECK_FALSE(d.p.receive(address{1}, r, d.now, d.out));
        CHECK(take(d.out).empty());
    };
    refuse({});                                             // no type
    refuse(bytes_of({9}));                                  // unknown type
    refuse(bytes_of({1, 5}));                               // ping cut short
    refuse(bytes_of({5, 7}));                               // unknown update tag
    refuse(bytes_of({5, 0x82, 1, 2, 3, 4, 5, 6, 7, 8, 0})); // metadata flag on a suspicion
    refuse(bytes_of({6, 8, 0, 0, 0, 0, 0, 0, 0, 0}));       // sync with unknown flags, cut short
    // A valid alive record followed by garbage: the record is not applied either.
    {
        section s(type::gossip);
        s.alive(77, 0, address{9}).u8(0xFF);
        gossip::wire::reader r(s.bytes());
        CHECK_FALSE(d.p.receive(address{1}, r, d.now, d.out));
    }
    CHECK_FALSE(d.p.find(77).has_value());
    CHECK(d.p.members().size() == before);
    CHECK(d.p.statistics().malformed == 7);
}

TEST_CASE("random bytes never crash a swim member, and every refusal is counted")
{
    driven d(fast(), 5);
    gossip::pcg32 rng(5);
    std::uint64_t refused = 0;
    for (int k = 0; k < 20000; ++k) {
        std::vector<std::byte> bytes(rng() % 64);
        for (auto& b : bytes) {
            b = static_cast<std::byte>(rng());
        }
        if (!bytes.empty() && k % 2 == 0) {
            bytes[0] = static_cast<std::byte>(1 + rng() % 6); // a known type, to go deeper
        }
        gossip::wire::reader r(bytes);
        refused += d.p.receive(address{static_cast<std::uint32_t>(rng() % 8)}, r, d.now, d.out) ? 0 : 1;
        (void)take(d.out);
        if (k % 100 == 0) {
            (void)d.timer_at(d.now + 10ms);
        }
    }
    CHECK(refused > 0);
    CHECK(d.p.statistics().malformed == refused);
}

TEST_CASE("a full table refuses news of further members and counts it")
{
    auto o = fast();
    o.max_members = 3;
    driven d(o, 3); // members 2 and 3 known
    (void)d.receive(address{1}, section(type::gossip).alive(10, 0, address{10}).alive(11, 0, address{11}));
    CHECK(d.p.find(10).has_value());
    CHECK_FALSE(d.p.find(11).has_value());
    CHECK(d.p.statistics().dropped_table_full == 1);
}
