// Writing your own policy: a peer selection that never contacts the same peer twice in a row.
//
// A policy is any type with the members its concept asks for; nothing in the library changes.
// The node owns one instance per node, so the policy may keep state (here, the last peer).

#include <gossip/gossip.hpp>

#include <cstdio>
#include <optional>

struct never_twice_in_a_row {
    std::optional<gossip::transport::in_memory_address> last;

    template <class Address, gossip::random_source R>
    std::size_t select(std::span<const gossip::descriptor<Address>> view, std::span<std::size_t> chosen, R& rng)
    {
        if (view.empty() || chosen.empty()) {
            return 0;
        }
        std::size_t i = gossip::uniform_index(rng, view.size());
        if (last && view[i].address == *last && view.size() > 1) {
            i = (i + 1 + gossip::uniform_index(rng, view.size() - 1)) % view.size(); // any other
        }
        last = view[i].address;
        chosen[0] = i;
        return 1;
    }
};

static_assert(gossip::peer_selection_policy<never_twice_in_a_row, gossip::transport::in_memory_address, gossip::pcg32>);

using node = gossip::gossip_node<gossip::transport::in_memory, never_twice_in_a_row, gossip::view_selection::swapper,
                                 gossip::propagation::push_pull>;

int main()
{
    gossip::config cfg;
    cfg.view_size = 20;
    gossip::sim::simulator<node> sim(10'000, cfg, /*seed=*/2026);
    sim.bootstrap(gossip::sim::lattice{});
    std::printf("%6s %10s %10s %12s %10s\n", "round", "in-deg sd", "clustering", "path length", "components");
    for (int r = 0; r <= 30; r += 5) {
        const auto m = sim.measure();
        std::printf("%6zu %10.2f %10.4f %12.2f %10zu\n", sim.round(), m.in_degree_stddev, m.clustering_coefficient,
                    m.average_path_length, m.components);
        sim.run(5);
    }
}
