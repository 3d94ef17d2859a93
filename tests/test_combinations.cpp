// All 27 classic combinations of peer selection x view selection x propagation (Jelasity et al.),
// plus the (H, S) presets, compile, run under loss and delay, and keep every view well formed.

#include "support.hpp"

#include <doctest/doctest.h>

#include <string>
#include <tuple>
#include <typeinfo>

namespace ps = gossip::peer_selection;
namespace vs = gossip::view_selection;
namespace pr = gossip::propagation;

namespace {

template <class... T>
struct list {
};

template <class PeerSelection, class ViewSelection, class Propagation>
void exercise(const char* name)
{
    using node = test::node<PeerSelection, ViewSelection, Propagation>;
    CAPTURE(name);
    gossip::config cfg = test::small_config(12);
    gossip::transport::network_options net;
    net.loss = 0.1;
    net.delay = std::chrono::milliseconds{300};
    net.jitter = std::chrono::milliseconds{900}; // up to one period late: exchanges overlap
    gossip::sim::simulator<node> sim(120, cfg, 17, net);
    sim.bootstrap(gossip::sim::random_graph{});
    std::uint64_t exchanges = 0;
    sim.run(25, [&](auto& s) {
        for (std::size_t i = 0; i < s.size(); ++i) {
            const auto& n = s.node(i);
            REQUIRE(n.view().well_formed(n.address(), cfg.view_size));
        }
    });
    for (std::size_t i = 0; i < sim.size(); ++i) {
        exchanges += sim.node(i).statistics().accepted;
    }
    CHECK(exchanges > 120 * 10); // the protocol really ran
    CHECK(sim.measure().live_nodes == 120);
}

template <class P, class V, class... R>
void for_each_propagation(const char* name, list<R...>)
{
    (exercise<P, V, R>(name), ...);
}

template <class P, class... V>
void for_each_view_selection(list<V...>)
{
    (for_each_propagation<P, V>(typeid(P).name(), list<pr::push, pr::pull, pr::push_pull>{}), ...);
}

} // namespace

TEST_CASE("all 27 classic combinations run and keep their views well formed")
{
    using views = list<vs::random, vs::head, vs::tail>;
    for_each_view_selection<ps::random>(views{});
    for_each_view_selection<ps::head>(views{});
    for_each_view_selection<ps::tail>(views{});
}

TEST_CASE("the healer, swapper and generalized view selections run with every peer selection")
{
    using views = list<vs::healer, vs::swapper, vs::generalized>;
    for_each_view_selection<ps::random>(views{});
    for_each_view_selection<ps::head>(views{});
    for_each_view_selection<ps::tail>(views{});
}
