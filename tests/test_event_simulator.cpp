// sim::event_simulator: nodes on simulated time, event by event, payload timers honoured,
// slow nodes, crashes and restarts, and exact replay from a seed.

#include "swim_support.hpp"
#include "talking_payload.hpp"

#include <doctest/doctest.h>

#include <chrono>
#include <cstddef>
#include <vector>

using namespace std::chrono_literals;
using times = std::vector<std::chrono::nanoseconds>;
using test::address;
using talker = test::talking_payload<address>;
using talking_node = gossip::gossip_node<gossip::transport::in_memory, gossip::peer_selection::random,
                                         gossip::view_selection::blind, gossip::propagation::push_pull, talker>;
using talking_simulator = gossip::sim::event_simulator<talking_node>;

namespace {

gossip::transport::network_options delay_of(std::chrono::nanoseconds d)
{
    gossip::transport::network_options net;
    net.delay = d;
    return net;
}

} // namespace

TEST_CASE("a payload's timer fires at its deadline, between the node's periods")
{
    auto cfg = test::small_config();
    cfg.period = 1000ms;
    talking_simulator sim(2, cfg, 1, delay_of(2ms));
    sim.act(0, [](talking_node& n) {
        n.payload().peer = address{1};
        n.payload().ping_at = 137ms;
    });
    sim.run_until(500ms);
    CHECK(sim.node(0).payload().woken == times{137ms});
    CHECK(sim.node(1).payload().pinged_at == times{139ms});
    CHECK(sim.node(0).payload().ponged_at == times{141ms});
    CHECK(sim.now() == 500ms);
}

TEST_CASE("a slow node takes in what arrives late, and answers late")
{
    auto cfg = test::small_config();
    cfg.period = 1000ms;
    talking_simulator sim(2, cfg, 1, delay_of(1ms));
    sim.set_slow(1, 50ms);
    sim.act(0, [](talking_node& n) {
        n.payload().peer = address{1};
        n.payload().ping_at = 10ms;
    });
    sim.run_until(200ms);
    CHECK(sim.node(1).payload().pinged_at == times{61ms});
    CHECK(sim.node(0).payload().ponged_at == times{62ms});
}

TEST_CASE("a slow node runs its own timers late")
{
    auto cfg = test::small_config();
    cfg.period = 1000ms;
    talking_simulator sim(2, cfg, 1, delay_of(1ms));
    sim.set_slow(0, 30ms);
    sim.act(0, [](talking_node& n) {
        n.payload().peer = address{1};
        n.payload().ping_at = 10ms;
    });
    sim.run_until(200ms);
    CHECK(sim.node(0).payload().woken == times{40ms});
    CHECK(sim.node(1).payload().pinged_at == times{41ms});
}

TEST_CASE("a crashed node runs no timers, and a restarted one starts afresh")
{
    auto cfg = test::small_config();
    cfg.period = 100ms;
    talking_simulator sim(2, cfg, 1, delay_of(1ms));
    sim.act(0, [](talking_node& n) {
        n.payload().peer = address{1};
        n.payload().ping_at = 50ms;
    });
    sim.crash(0);
    sim.run_until(300ms);
    CHECK(sim.node(0).payload().woken.empty());
    CHECK(sim.node(1).payload().pinged_at.empty());
    const auto cycles = sim.node(0).statistics().cycles;
    CHECK(cycles == 0);
    sim.restart(0, std::vector{address{1}});
    CHECK(sim.node(0).payload().seeds == std::vector{address{1}}); // a new node, joined anew
    sim.run_until(600ms);
    CHECK(sim.node(0).statistics().cycles >= 2);
}

TEST_CASE("aligned start runs every node's first period at time zero")
{
    auto cfg = test::small_config();
    cfg.period = 100ms;
    gossip::sim::event_options aligned;
    aligned.aligned_start = true;
    aligned.jitter = 0;
    talking_simulator sim(5, cfg, 1, delay_of(1ms), aligned);
    sim.run_until(0ns);
    for (std::size_t i = 0; i < 5; ++i) {
        CHECK(sim.node(i).statistics().cycles == 1);
    }
    sim.run_until(100ms);
    for (std::size_t i = 0; i < 5; ++i) {
        CHECK(sim.node(i).statistics().cycles == 2);
    }
    talking_simulator spread(5, cfg, 1, delay_of(1ms));
    spread.run_until(0ns);
    std::size_t started = 0;
    for (std::size_t i = 0; i < 5; ++i) {
        started += spread.node(i).statistics().cycles;
    }
    CHECK(started < 5);
}

TEST_CASE("the same seed replays a timed run exactly, and another seed gives another run")
{
    const auto run = [](std::uint64_t seed) {
        test::swim::cluster c(16, test::swim::fast(), seed, /*formed=*/false);
        c.join_all();
        c.sim->crash(7);
        c.run_for(5s);
        std::vector<std::uint64_t> figures{c.sim->network().statistics().sent, c.sim->network().statistics().bytes_sent,
                                           c.sim->events(), c.log.size()};
        for (std::size_t i = 0; i < c.size(); ++i) {
            figures.push_back(c.at(i).statistics().probes);
            figures.push_back(c.at(i).statistics().updates_sent);
        }
        return figures;
    };
    const auto first = run(5);
    CHECK(run(5) == first);
    CHECK(run(6) != first);
}
