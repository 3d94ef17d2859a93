// The program every consumer test builds. It includes the whole library and runs 200 simulated
// nodes for 20 rounds, from views that hold one earlier node each. It exits non-zero unless the
// overlay is one component and every view is full.

#include <gossip/gossip.hpp>

#include <cstdio>

using node = gossip::gossip_node<gossip::transport::in_memory, gossip::peer_selection::random,
                                 gossip::view_selection::healer, gossip::propagation::push_pull>;

int main()
{
    const gossip::config cfg; // c = 30
    gossip::sim::simulator<node> sim(200, cfg, /*seed=*/42);
    sim.bootstrap(gossip::sim::growing{}); // each node knows one earlier node
    sim.run(20);

    std::size_t full_views = 0;
    for (const node& n : sim.nodes()) {
        full_views += n.view().size() == cfg.view_size ? 1 : 0;
    }
    const auto m = sim.measure();
    std::printf("gossip %s: %zu nodes, %zu component(s), %zu full views\n", gossip::version_string, m.live_nodes,
                m.components, full_views);
    return m.live_nodes == 200 && m.components == 1 && full_views == 200 ? 0 : 1;
}
