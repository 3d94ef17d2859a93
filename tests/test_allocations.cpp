// Steady-state traffic allocates nothing per message: once views, queues and scratch buffers
// have grown to their working size, a round of exchanges makes no call to operator new.

#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include "support.hpp"

#include <gossip/runtime/node_driver.hpp>
#include <gossip/transport/udp.hpp>

#include <doctest/doctest.h>

#include <poll.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <memory>
#include <new>
#include <vector>

namespace {
std::atomic<std::size_t> allocations{0};
} // namespace

void* operator new(std::size_t size)
{
    allocations.fetch_add(1, std::memory_order_relaxed);
    if (void* p = std::malloc(size == 0 ? 1 : size)) {
        return p;
    }
    throw std::bad_alloc();
}

void operator delete(void* p) noexcept { std::free(p); }

void operator delete(void* p, std::size_t /*size*/) noexcept { std::free(p); }

TEST_CASE("rounds of push-pull exchanges allocate nothing once warmed up")
{
    gossip::sim::simulator<test::classic_node> sim(2000, test::small_config(30), 1);
    sim.bootstrap(gossip::sim::random_graph{});
    sim.run(5);
    const auto before = allocations.load();
    sim.run(10);
    CHECK(allocations.load() - before == 0);
    CHECK(sim.network().statistics().delivered > 2000 * 10);
}

TEST_CASE("delayed, jittered and lossy traffic allocates nothing once warmed up")
{
    gossip::transport::network_options net;
    net.delay = std::chrono::milliseconds{700};
    net.jitter = std::chrono::milliseconds{900};
    net.loss = 0.1;
    gossip::sim::simulator<
        test::node<gossip::peer_selection::random, gossip::view_selection::swapper, gossip::propagation::push_pull>>
        sim(2000, test::small_config(30), 2, net);
    sim.bootstrap(gossip::sim::random_graph{});
    sim.run(10);
    const auto before = allocations.load();
    sim.run(10);
    CHECK(allocations.load() - before == 0);
}

TEST_CASE("nodes exchanging over UDP sockets allocate nothing per datagram once warmed up")
{
    using gossip::transport::udp_address;
    using member_node =
        gossip::gossip_node<gossip::transport::udp, gossip::peer_selection::random, gossip::view_selection::healer,
                            gossip::propagation::push_pull, gossip::payload::membership<udp_address>>;
    constexpr std::size_t n = 6;
    auto cfg = test::small_config(8);
    cfg.fanout = 2;
    cfg.period = std::chrono::milliseconds{5};
    std::vector<std::unique_ptr<member_node>> nodes;
    std::vector<std::unique_ptr<gossip::node_driver<member_node>>> drivers;
    for (std::size_t i = 0; i < n; ++i) {
        nodes.push_back(std::make_unique<member_node>(gossip::transport::udp(udp_address::loopback_v4(0)), cfg, i + 1));
    }
    for (std::size_t i = 0; i < n; ++i) {
        const auto seed = nodes[0]->address();
        if (i != 0) {
            nodes[i]->join(std::span(&seed, 1));
        }
        drivers.push_back(std::make_unique<gossip::node_driver<member_node>>(*nodes[i]));
    }
    std::vector<pollfd> fds;
    for (const auto& d : drivers) {
        fds.push_back(pollfd{d->fd(), POLLIN, 0});
    }
    // Periods run back to back, without waiting for the clock: a bounded number of steps.
    const auto step = [&] {
        for (auto& d : drivers) {
            d->tick_now();
        }
        ::poll(fds.data(), fds.size(), 2);
        for (auto& d : drivers) {
            d->on_readable();
        }
    };
    for (int i = 0; i < 200; ++i) {
        step();
    }
    std::uint64_t accepted_before = 0;
    for (const auto& node : nodes) {
        accepted_before += node->statistics().accepted;
    }
    const auto before = allocations.load();
    for (int i = 0; i < 100; ++i) {
        step();
    }
    const auto allocated = allocations.load() - before;
    std::uint64_t accepted = 0;
    for (const auto& node : nodes) {
        accepted += node->statistics().accepted;
        CHECK(node->payload().alive_count() == n - 1);
    }
    CHECK(accepted - accepted_before > 100 * n);
    CHECK(allocated == 0);
}
