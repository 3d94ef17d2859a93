// A user's own policy, written without touching the library, composes like the built-in ones.

#include "support.hpp"

#include <doctest/doctest.h>

#include <optional>

namespace {

/// Never contacts the same peer twice in a row (when it has a choice).
struct no_repeat {
    std::optional<test::address> last;

    template <class Address, class R>
    std::size_t select(std::span<const gossip::descriptor<Address>> view, std::span<std::size_t> chosen, R& rng)
    {
        if (view.empty() || chosen.empty()) {
            return 0;
        }
        std::size_t i = gossip::uniform_index(rng, view.size());
        if (last && view[i].address == *last && view.size() > 1) {
            i = (i + 1 + gossip::uniform_index(rng, view.size() - 1)) % view.size();
        }
        last = view[i].address;
        chosen[0] = i;
        return 1;
    }
};

using custom_node = gossip::gossip_node<gossip::transport::in_memory, no_repeat, gossip::view_selection::swapper,
                                        gossip::propagation::push_pull>;

} // namespace

TEST_CASE("a custom peer selection models the concept and keeps its own state per node")
{
    static_assert(gossip::peer_selection_policy<no_repeat, test::address, gossip::pcg32>);
    gossip::transport::in_memory_network net(3);
    custom_node node(net.endpoint(test::address{0}), test::small_config(4), 1);
    const auto known = test::addresses({1, 2});
    node.join(known);
    std::optional<test::address> previous;
    for (int t = 0; t < 50; ++t) {
        node.tick();
        std::optional<test::address> target;
        net.deliver([&](test::address, test::address to, std::span<const std::byte>) { target = to; });
        REQUIRE(target);
        CHECK(target != previous);
        previous = target;
    }
}

TEST_CASE("a custom policy runs in the simulator like a built-in one")
{
    gossip::sim::simulator<custom_node> sim(300, test::small_config(10), 3);
    sim.bootstrap(gossip::sim::lattice{});
    sim.run(30);
    const auto m = sim.measure();
    CHECK(m.components == 1);
    CHECK(m.in_degree_mean == doctest::Approx(10.0));
}
