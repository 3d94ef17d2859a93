// sim::simulator::run_synchronous_round: the round spread over threads. It runs here, with the
// threaded tests, so that the ThreadSanitizer build checks it.

#include "support.hpp"

#include <doctest/doctest.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <span>
#include <stdexcept>
#include <vector>

namespace ps = gossip::peer_selection;
namespace vs = gossip::view_selection;
namespace pr = gossip::propagation;
using gossip::sim::simulator;

namespace {

using blind_node = test::node<ps::random, vs::blind, pr::push_pull>;
using healer_node = test::node<ps::tail, vs::healer, pr::push_pull>;

template <class Node>
std::vector<std::uint32_t> every_view(const simulator<Node>& sim)
{
    std::vector<std::uint32_t> out;
    for (const auto& n : sim.nodes()) {
        for (const auto& d : n.view()) {
            out.push_back(d.address.index);
            out.push_back(d.age);
        }
        out.push_back(0xFFFFFFFFU);
    }
    return out;
}

template <class Node>
simulator<Node> lossy(std::size_t n, std::uint64_t seed)
{
    gossip::transport::network_options net;
    net.loss = 0.1;
    simulator<Node> sim(n, test::small_config(20), seed, net);
    sim.bootstrap(gossip::sim::random_graph{});
    return sim;
}

} // namespace

TEST_CASE("a synchronous round gives the same run for a seed whatever the thread count")
{
    auto one = lossy<healer_node>(1500, 3);
    one.crash(7);
    one.run_synchronous(12, 1);
    const auto views = every_view(one);
    for (const std::size_t threads : {2U, 3U, 8U}) {
        CAPTURE(threads);
        auto many = lossy<healer_node>(1500, 3);
        many.crash(7);
        many.run_synchronous(12, threads);
        CHECK(every_view(many) == views);
        CHECK(many.network().statistics() == one.network().statistics());
    }
    CHECK(one.network().statistics().lost > 0);
    CHECK(one.network().statistics().to_crashed > 0);
    // Another seed, another run.
    auto other = lossy<healer_node>(1500, 4);
    other.crash(7);
    other.run_synchronous(12, 2);
    CHECK(every_view(other) != views);
}

TEST_CASE("synchronous rounds turn a ring lattice into an overlay as short and unclustered as a random graph")
{
    const auto ring = test::check_ring_mixes<blind_node>([](auto& sim) { sim.run_synchronous(40, 2); });
    // Every node asked once a round and was answered: two datagrams a node a round.
    CHECK(ring.network().statistics().sent == 2 * ring.size() * 40);
    CHECK(ring.network().statistics().delivered == 2 * ring.size() * 40);
}

TEST_CASE("in a synchronous round a request is answered a wave later, and the view ages after the answer")
{
    simulator<blind_node> sim(2, test::small_config(8), 1);
    const gossip::transport::in_memory_address other{1};
    sim.node(0).join(std::span(&other, 1));
    sim.run_synchronous_round(2);
    // Node 0 asked node 1, which learned it and answered; both aged after merging.
    REQUIRE(sim.node(1).view().size() == 1);
    CHECK(sim.node(1).view()[0].address.index == 0);
    CHECK(sim.node(1).view()[0].age == 1);
    CHECK(sim.node(0).view()[0].age == 1);
    CHECK(sim.network().statistics().delivered == 2);
}

TEST_CASE("a rumor spreads through synchronous rounds on two threads, delivered once at each node")
{
    using rumor_node = gossip::gossip_node<gossip::transport::in_memory, ps::random, vs::blind, pr::push_pull,
                                           gossip::payload::rumor_set<std::uint32_t>>;
    auto o = test::rumor(gossip::payload::spread::push_pull, gossip::payload::interest::feedback,
                         gossip::payload::stop::counter, 4);
    simulator<rumor_node> sim(1000, test::small_config(20), 9, {},
                              [&](std::size_t) { return gossip::payload::rumor_set<std::uint32_t>(o); });
    sim.bootstrap(gossip::sim::random_graph{});
    const auto id = sim.node(0).payload().broadcast(42);
    sim.run_synchronous(40, 2);
    std::size_t knowing = 0;
    std::uint64_t delivered = 0;
    for (const auto& n : sim.nodes()) {
        knowing += n.payload().knows(id) ? 1 : 0;
        delivered += n.payload().statistics().delivered;
        CHECK(n.payload().infective_count() == 0); // the epidemic is over
    }
    CHECK(knowing >= 990); // rumor mongering may leave a residue (here 1 node)
    CHECK(delivered == knowing - 1);
}

TEST_CASE("a synchronous round refuses a network that delays datagrams")
{
    gossip::transport::network_options net;
    net.delay = std::chrono::milliseconds(5);
    simulator<blind_node> sim(10, test::small_config(4), 1, net);
    sim.bootstrap(gossip::sim::random_graph{});
    CHECK_THROWS_AS(sim.run_synchronous_round(2), std::logic_error);
    sim.run_round(); // the sequential round takes it
    sim.network().set_delay(std::chrono::nanoseconds{0});
    sim.network().set_receive_delay(gossip::transport::in_memory_address{3}, std::chrono::milliseconds(1));
    CHECK_THROWS_AS(sim.run_synchronous_round(2), std::logic_error); // a slow receiver delays too
    sim.network().set_receive_delay(gossip::transport::in_memory_address{3}, std::chrono::nanoseconds{0});
    CHECK_NOTHROW(sim.run_synchronous_round(2)); // ordinary again
}
