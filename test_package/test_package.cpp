// Conan's test_package: the packaged headers compile, and a small overlay runs.

#include <gossip/gossip.hpp>

#include <cstdio>

using node = gossip::gossip_node<gossip::transport::in_memory, gossip::peer_selection::random,
                                 gossip::view_selection::healer, gossip::propagation::push_pull>;

int main()
{
    gossip::config cfg;
    cfg.view_size = 8;
    gossip::sim::simulator<node> sim(50, cfg, /*seed=*/1);
    sim.bootstrap(gossip::sim::lattice{});
    sim.run(5);
    const auto m = sim.measure();
    std::printf("gossip %s: %zu nodes, %zu component(s)\n", gossip::version_string, m.live_nodes, m.components);
    return m.components == 1 ? 0 : 1;
}
