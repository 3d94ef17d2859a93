// SWIM on real UDP sockets on 127.0.0.1: members with sockets of their own, all driven from the
// test's thread through the node_driver hooks and one poll() over every socket, with the fast
// timings of swim_options::local() (halved). Every loop is bounded in time and stops by itself.

#include "udp_cluster.hpp"

#include <gossip/gossip.hpp>
#include <gossip/runtime/node_driver.hpp>
#include <gossip/transport/udp.hpp>

#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <utility>
#include <vector>

using namespace std::chrono_literals;

namespace {

using gossip::transport::udp;
using gossip::transport::udp_address;
using swim = gossip::payload::swim<udp_address>;
using swim_node = gossip::gossip_node<udp, gossip::peer_selection::random, gossip::view_selection::frozen,
                                      gossip::propagation::push, swim>;
using event_kind = gossip::payload::swim_event_kind;
using state = gossip::payload::swim_state;
using steady = std::chrono::steady_clock;

constexpr std::size_t nodes = 8;

/// swim_options::local() at twice its pace: 100 ms probes, 50 ms probe timeout.
gossip::payload::swim_options fast()
{
    auto o = gossip::payload::swim_options::local();
    o.probe_interval = 100ms;
    o.probe_timeout = 50ms;
    o.gossip_interval = 50ms;
    o.seed_retry_interval = 100ms;
    o.sync_interval = 2000ms;
    return o;
}

struct logged_event {
    steady::time_point at;
    event_kind kind = event_kind::joined;
    std::uint64_t id = 0;
    std::uint32_t incarnation = 0;
};

/// n SWIM members on 127.0.0.1; member i has id 1000 + i and joins member 0 (which joins nobody).
class swim_cluster {
public:
    struct slot {
        std::unique_ptr<swim_node> node;
        std::unique_ptr<gossip::node_driver<swim_node>> driver;
        std::vector<logged_event> events;
        std::vector<std::string> delivered; ///< user broadcasts, as text
        udp_address address;
    };

    explicit swim_cluster(std::size_t n, gossip::payload::swim_options options = fast())
        : options_(std::move(options)), slots_(n)
    {
        for (std::size_t i = 0; i < n; ++i) {
            start(i, udp_address::loopback_v4(0));
        }
    }

    static std::uint64_t id_of(std::size_t i) { return 1000 + i; }

    /// (Re)starts member i at `at` with its id, joining member 0 unless it is member 0.
    void start(std::size_t i, udp_address at)
    {
        auto& s = slots_[i];
        s.driver.reset();
        s.node.reset();
        auto options = options_;
        options.id = id_of(i);
        gossip::config cfg;
        cfg.period = 100ms;
        s.node = std::make_unique<swim_node>(udp(at), cfg, 7000 + i + 131 * ++starts_, gossip::peer_selection::random{},
                                             gossip::view_selection::frozen{}, swim(options));
        s.address = s.node->address();
        s.node->payload().on_event([&events = s.events](const swim::event_type& e) {
            events.push_back(logged_event{steady::now(), e.kind, e.id, e.incarnation});
        });
        s.node->payload().on_broadcast([&delivered = s.delivered](std::uint64_t, std::span<const std::byte> bytes) {
            std::string text;
            for (const auto b : bytes) {
                text.push_back(static_cast<char>(b));
            }
            delivered.push_back(std::move(text));
        });
        if (i != 0) {
            s.node->join(std::span(&slots_[0].address, 1));
            s.node->transport().flush();
        }
        s.driver = std::make_unique<gossip::node_driver<swim_node>>(*s.node);
    }

    /// Stops member i without a word: its socket closes, as a killed process's would.
    void crash(std::size_t i)
    {
        slots_[i].driver.reset();
        slots_[i].node.reset();
    }

    /// Member i leaves as run_loop makes it at stop(): leave(), two more rounds, and the socket
    /// closes.
    void leave(std::size_t i)
    {
        auto& s = slots_[i];
        s.node->leave();
        s.node->transport().flush();
        s.driver->tick_now();
        s.driver->tick_now();
        crash(i);
    }

    [[nodiscard]] bool running(std::size_t i) const { return slots_[i].node != nullptr; }
    [[nodiscard]] swim& member(std::size_t i) { return slots_[i].node->payload(); }
    [[nodiscard]] slot& at(std::size_t i) { return slots_[i]; }
    [[nodiscard]] std::size_t size() const { return slots_.size(); }

    /// Drives every running member until done() holds or `limit` passes; whether done() held.
    template <class Done>
    bool run_until(Done&& done, std::chrono::milliseconds limit)
    {
        return test::drive_until(slots_, std::forward<Done>(done), limit, std::chrono::milliseconds{20});
    }

    /// Runs for `d`, whatever happens.
    void run_for(std::chrono::milliseconds d)
    {
        run_until([] { return false; }, d);
    }

    /// Whether every running member holds every other running member alive, and no other.
    [[nodiscard]] bool all_see_each_other()
    {
        for (std::size_t i = 0; i < size(); ++i) {
            if (!running(i)) {
                continue;
            }
            std::size_t alive = 0;
            for (std::size_t j = 0; j < size(); ++j) {
                if (j == i || !running(j)) {
                    continue;
                }
                const auto m = member(i).find(id_of(j));
                if (!m || m->state != state::alive || !(m->address == slots_[j].address)) {
                    return false;
                }
                ++alive;
            }
            if (member(i).alive_count() != alive) {
                return false;
            }
        }
        return true;
    }

    /// Whether every running member but `about` believes member `about` is in state s.
    [[nodiscard]] bool all_others_believe(std::size_t about, state s)
    {
        for (std::size_t i = 0; i < size(); ++i) {
            if (i == about || !running(i)) {
                continue;
            }
            const auto m = member(i).find(id_of(about));
            if (!m || m->state != s) {
                return false;
            }
        }
        return true;
    }

    /// Events of `kind` about member `about` that member i reported.
    [[nodiscard]] std::size_t count(std::size_t i, event_kind kind, std::size_t about) const
    {
        const auto& events = slots_[i].events;
        return static_cast<std::size_t>(std::count_if(events.begin(), events.end(), [&](const logged_event& e) {
            return e.kind == kind && e.id == id_of(about);
        }));
    }

    /// Failed events about any member but `except`, in every member's log.
    [[nodiscard]] std::size_t failures_reported_about_others(std::size_t except) const
    {
        std::size_t n = 0;
        for (const auto& s : slots_) {
            for (const auto& e : s.events) {
                n += e.kind == event_kind::failed && e.id != id_of(except) ? 1 : 0;
            }
        }
        return n;
    }

private:
    gossip::payload::swim_options options_;
    std::vector<slot> slots_;
    std::uint64_t starts_ = 0;
};

} // namespace

TEST_CASE("swim over udp: members that join one seed all come to see each other alive")
{
    swim_cluster c(nodes);
    CHECK(c.run_until([&] { return c.all_see_each_other(); }, 5s));
    for (std::size_t i = 0; i < nodes; ++i) {
        CHECK(c.member(i).alive_count() == nodes - 1);
        CHECK(c.at(i).node->statistics().dropped_malformed == 0);
        for (std::size_t j = 0; j < nodes; ++j) {
            if (j != i) {
                CHECK(c.count(i, event_kind::joined, j) == 1);
            }
        }
    }
    CHECK(c.failures_reported_about_others(nodes) == 0);
}

TEST_CASE("swim over udp: a member stopped without leaving is declared failed by every other within the bound")
{
    swim_cluster c(nodes);
    REQUIRE(c.run_until([&] { return c.all_see_each_other(); }, 5s));
    const std::size_t victim = 5;
    const auto stopped = steady::now();
    c.crash(victim);
    REQUIRE(c.run_until([&] { return c.all_others_believe(victim, state::failed); }, 10s));
    // The bound: a pass of round-robin probing until someone probes it (n - 1 periods at most,
    // about 1.6 on average), the period of that probe, and the longest suspicion timeout, with
    // slack for a loaded machine. Nobody can declare it failed before the least timeout.
    const auto options = fast();
    const auto least = gossip::payload::swim_formulas::min_suspicion(options, nodes);
    const auto most = gossip::payload::swim_formulas::max_suspicion(options, nodes);
    const auto bound = options.probe_interval * static_cast<long>(nodes + 1) + most + 2s;
    for (std::size_t i = 0; i < nodes; ++i) {
        if (i == victim) {
            continue;
        }
        const auto& events = c.at(i).events;
        const auto it = std::find_if(events.begin(), events.end(), [&](const logged_event& e) {
            return e.kind == event_kind::failed && e.id == swim_cluster::id_of(victim);
        });
        REQUIRE(it != events.end());
        CHECK(it->at - stopped <= bound);
        CHECK(it->at - stopped >= least);
        CHECK(c.count(i, event_kind::failed, victim) == 1);
    }
    CHECK(c.failures_reported_about_others(victim) == 0);
}

TEST_CASE("swim over udp: a member that leaves is reported left by every other, never failed")
{
    swim_cluster c(nodes);
    REQUIRE(c.run_until([&] { return c.all_see_each_other(); }, 5s));
    const std::size_t leaver = 3;
    c.leave(leaver);
    REQUIRE(c.run_until([&] { return c.all_others_believe(leaver, state::left); }, 5s));
    for (std::size_t i = 0; i < nodes; ++i) {
        if (i != leaver) {
            CHECK(c.count(i, event_kind::left, leaver) == 1);
            CHECK(c.count(i, event_kind::failed, leaver) == 0);
            CHECK(c.member(i).alive_count() == nodes - 2);
        }
    }
    // Left is final for that incarnation: a few more suspicion timeouts change nothing.
    c.run_for(1s);
    CHECK(c.all_others_believe(leaver, state::left));
    CHECK(c.failures_reported_about_others(nodes) == 0);
}

TEST_CASE("swim over udp: a user broadcast reaches every other member exactly once")
{
    // User broadcasts ride on the piggybacked updates alone (no sync repairs them), each member
    // sending one retransmit_mult * ceil(log10(n + 1)) times: 4 below 9 members, which misses
    // some member of 8 in about 5 % of broadcasts. 8 brings that below 0.03 %.
    auto options = fast();
    options.retransmit_mult = 8;
    swim_cluster c(nodes, options);
    REQUIRE(c.run_until([&] { return c.all_see_each_other(); }, 5s));
    const std::size_t origin = 2;
    const std::string text = "hello over udp";
    std::vector<std::byte> bytes;
    for (const char ch : text) {
        bytes.push_back(static_cast<std::byte>(ch));
    }
    c.member(origin).broadcast(bytes);
    const auto everyone_delivered = [&] {
        for (std::size_t i = 0; i < nodes; ++i) {
            if (i != origin && c.at(i).delivered.empty()) {
                return false;
            }
        }
        return true;
    };
    REQUIRE(c.run_until(everyone_delivered, 5s));
    // Every member retransmits it lambda * ceil(log10(n + 1)) times: let them, then count.
    c.run_for(1s);
    for (std::size_t i = 0; i < nodes; ++i) {
        if (i == origin) {
            CHECK(c.at(i).delivered.empty()); // not delivered where it was sent
        } else {
            REQUIRE(c.at(i).delivered.size() == 1);
            CHECK(c.at(i).delivered.front() == text);
            CHECK(c.member(i).statistics().delivered == 1);
        }
    }
}

TEST_CASE("swim over udp: a member restarted with its id at its address is seen joined again at a higher incarnation")
{
    swim_cluster c(nodes);
    REQUIRE(c.run_until([&] { return c.all_see_each_other(); }, 5s));
    const std::size_t victim = 4;
    const auto address = c.at(victim).address;
    c.crash(victim);
    REQUIRE(c.run_until([&] { return c.all_others_believe(victim, state::failed); }, 10s));
    c.start(victim, address);
    REQUIRE(c.at(victim).address == address);
    CHECK(c.member(victim).incarnation() == 0);
    REQUIRE(c.run_until([&] { return c.all_see_each_other(); }, 5s));
    // It heard of its own failure and refuted it: the others know it at incarnation 1 or above.
    CHECK(c.member(victim).incarnation() >= 1);
    CHECK(c.member(victim).statistics().refutations >= 1);
    for (std::size_t i = 0; i < nodes; ++i) {
        if (i == victim) {
            continue;
        }
        CHECK(c.count(i, event_kind::joined, victim) == 2);
        const auto m = c.member(i).find(swim_cluster::id_of(victim));
        REQUIRE(m.has_value());
        CHECK(m->incarnation >= 1);
    }
    CHECK(c.failures_reported_about_others(victim) == 0);
}
