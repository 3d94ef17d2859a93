// Steady-state traffic allocates nothing per message: once views, queues and scratch buffers
// have grown to their working size, a round of exchanges makes no call to operator new.

#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include "support.hpp"

#include <doctest/doctest.h>

#include <atomic>
#include <cstdlib>
#include <new>

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

void operator delete(void* p) noexcept
{
    std::free(p);
}

void operator delete(void* p, std::size_t /*size*/) noexcept
{
    std::free(p);
}

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
    gossip::sim::simulator<test::node<gossip::peer_selection::random, gossip::view_selection::swapper,
                                      gossip::propagation::push_pull>>
        sim(2000, test::small_config(30), 2, net);
    sim.bootstrap(gossip::sim::random_graph{});
    sim.run(10);
    const auto before = allocations.load();
    sim.run(10);
    CHECK(allocations.load() - before == 0);
}
