// Nodes with sockets of their own on 127.0.0.1, exchanging real datagrams: the library as a
// deployment runs it, minus the processes (scripts/demo.sh shows those).

#include "udp_cluster.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <string>

using namespace std::chrono_literals;
using gossip::payload::member_event_kind;
using gossip::payload::member_status;

namespace {

constexpr auto period = 20ms;
constexpr std::size_t t_fail_periods = 15;
constexpr std::size_t nodes = 12;

bool no_failure_reported_about_a_running_node(test::udp_cluster& c, std::size_t except = nodes)
{
    for (std::size_t i = 0; i < c.size(); ++i) {
        for (const auto& e : c.at(i).events) {
            for (std::size_t j = 0; j < c.size(); ++j) {
                if (j != except && e.kind == member_event_kind::failed && e.about == c.at(j).address) {
                    return false;
                }
            }
        }
    }
    return true;
}

} // namespace

TEST_CASE("udp cluster: nodes that all join one seed agree on the membership")
{
    test::udp_cluster c(nodes, period, t_fail_periods);
    CHECK(c.run_until([&] { return c.membership_agreed(); }, 5s));
    CHECK(no_failure_reported_about_a_running_node(c));
    for (std::size_t i = 0; i < nodes; ++i) {
        CHECK(c.node(i).payload().first().alive_count() == nodes - 1);
        CHECK(c.node(i).statistics().dropped_malformed == 0);
    }
}

TEST_CASE("udp cluster: a broadcast reaches every node")
{
    test::udp_cluster c(nodes, period, t_fail_periods);
    REQUIRE(c.run_until([&] { return c.membership_agreed(); }, 5s));
    c.node(3).payload().second().put("from-3", "hello");
    c.node(7).payload().second().put("from-7", "world");
    CHECK(c.run_until([&] { return c.holding("from-3") == nodes && c.holding("from-7") == nodes; }, 5s));
}

TEST_CASE("udp cluster: a node that stops without a leave is declared failed by every other within the bound")
{
    test::udp_cluster c(nodes, period, t_fail_periods);
    REQUIRE(c.run_until([&] { return c.membership_agreed(); }, 5s));
    const std::size_t victim = 5;
    const auto address = c.at(victim).address;
    const auto stopped = test::steady::now();
    c.crash(victim);
    const auto all_declared = [&] {
        for (std::size_t i = 0; i < nodes; ++i) {
            if (c.running(i) && c.node(i).payload().first().status_of(address) != member_status::failed) {
                return false;
            }
        }
        return true;
    };
    REQUIRE(c.run_until(all_declared, 5s));
    // The bound: T_fail after the heartbeat last grew, plus one period of resolution, plus the
    // time the last heartbeat took to spread (a few periods), with slack for a loaded machine.
    const auto bound = period * static_cast<long>(t_fail_periods + 1) + 30 * period;
    for (std::size_t i = 0; i < nodes; ++i) {
        if (i == victim) {
            continue;
        }
        const auto& events = c.at(i).events;
        const auto it = std::find_if(events.begin(), events.end(), [&](const auto& e) {
            return e.kind == member_event_kind::failed && e.about == address;
        });
        REQUIRE(it != events.end());
        CHECK(it->at - stopped <= bound);
        CHECK(it->at - stopped >= period * static_cast<long>(t_fail_periods - 1) - period);
    }
    CHECK(no_failure_reported_about_a_running_node(c, victim));
}

TEST_CASE("udp cluster: a restarted node rejoins at its address and catches up on what it missed")
{
    test::udp_cluster c(nodes, period, t_fail_periods);
    REQUIRE(c.run_until([&] { return c.membership_agreed(); }, 5s));
    c.node(1).payload().second().put("before", "seen by everyone");
    REQUIRE(c.run_until([&] { return c.holding("before") == nodes; }, 5s));

    const std::size_t victim = 4;
    const auto address = c.at(victim).address;
    c.crash(victim);
    REQUIRE(c.run_until([&] { return c.node(0).payload().first().status_of(address) == member_status::failed; }, 5s));
    c.node(2).payload().second().put("while-down", "missed by the crashed node");
    REQUIRE(c.run_until([&] { return c.holding("while-down") == nodes - 1; }, 5s));

    c.start(victim, address);
    CHECK(c.node(victim).address() == address);
    const auto recovered_everywhere = [&] {
        for (std::size_t i = 0; i < nodes; ++i) {
            if (i != victim && c.node(i).payload().first().status_of(address) != member_status::alive) {
                return false;
            }
        }
        return true;
    };
    CHECK(c.run_until([&] { return recovered_everywhere() && c.membership_agreed(); }, 5s));
    CHECK(c.run_until([&] { return c.holding("before") == nodes && c.holding("while-down") == nodes; }, 5s));
    const auto& events = c.at(0).events;
    CHECK(std::any_of(events.begin(), events.end(),
                      [&](const auto& e) { return e.kind == member_event_kind::recovered && e.about == address; }));
}
