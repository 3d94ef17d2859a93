// A simulated overlay converging: N nodes bootstrapped as a ring lattice (or a random graph, or a
// growing network) run peer sampling, then half of them crash and the survivors heal.
//
//   overlay_demo [--nodes N] [--view-size C] [--rounds R] [--peer random|head|tail]
//                [--view random|blind|head|tail|healer|swapper] [--propagation push|pull|push_pull]
//                [--bootstrap ring|random|growing] [--crash FRACTION] [--loss P] [--seed S]
//                [--aging after-exchange|cycle-start]

#include <gossip/gossip.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <string_view>

namespace {

struct options {
    std::size_t nodes = 100'000;
    std::size_t view_size = 30;
    std::size_t rounds = 30;
    std::string peer = "random";
    std::string view = "healer";
    std::string propagation = "push_pull";
    std::string bootstrap = "ring";
    double crash = 0.5;
    double loss = 0.0;
    std::uint64_t seed = 1;
    gossip::view_aging aging = gossip::view_aging::after_exchange;
};

constexpr const char* usage_text =
    "usage: overlay_demo [--nodes N] [--view-size C] [--rounds R] [--peer random|head|tail]\n"
    "       [--view random|blind|head|tail|healer|swapper] [--propagation push|pull|push_pull]\n"
    "       [--bootstrap ring|random|growing] [--crash FRACTION] [--loss P] [--seed S]\n"
    "       [--aging after-exchange|cycle-start]   when the active side ages its view\n"
    "defaults: 100000 nodes, c = 30, 30 rounds, random peer, healer view, push_pull, ring, crash 0.5\n";

[[noreturn]] void usage(const char* why)
{
    std::fprintf(stderr, "overlay_demo: %s\n%s", why, usage_text);
    std::exit(2);
}

options parse(int argc, char** argv)
{
    options o;
    for (int i = 1; i < argc; ++i) {
        const std::string_view flag = argv[i];
        if (flag == "--help" || flag == "-h") {
            std::fputs(usage_text, stdout);
            std::exit(0);
        }
        if (i + 1 >= argc) {
            usage(("missing value for " + std::string(flag)).c_str());
        }
        const std::string value = argv[++i];
        try {
            if (flag == "--nodes") {
                o.nodes = std::stoul(value);
            } else if (flag == "--view-size") {
                o.view_size = std::stoul(value);
            } else if (flag == "--rounds") {
                o.rounds = std::stoul(value);
            } else if (flag == "--peer") {
                o.peer = value;
            } else if (flag == "--view") {
                o.view = value;
            } else if (flag == "--propagation") {
                o.propagation = value;
            } else if (flag == "--bootstrap") {
                o.bootstrap = value;
            } else if (flag == "--crash") {
                o.crash = std::stod(value);
            } else if (flag == "--loss") {
                o.loss = std::stod(value);
            } else if (flag == "--seed") {
                o.seed = std::stoull(value);
            } else if (flag == "--aging") {
                if (value != "after-exchange" && value != "cycle-start") {
                    usage("--aging must be after-exchange (Jelasity et al.'s order) or cycle-start");
                }
                o.aging = value == "cycle-start" ? gossip::view_aging::cycle_start : gossip::view_aging::after_exchange;
            } else {
                usage(("unknown option " + std::string(flag)).c_str());
            }
        } catch (const std::logic_error&) {
            usage(("bad value for " + std::string(flag) + ": " + value).c_str());
        }
    }
    if (o.nodes < 2) {
        usage("--nodes must be at least 2");
    }
    return o;
}

void header()
{
    std::printf("%6s %8s %9s %8s %10s %8s %6s %10s %9s\n", "round", "live", "in-deg", "sd", "clustering", "path",
                "comps", "dead-links", "ms/round");
}

template <class Sim>
void report(const Sim& sim, double ms)
{
    gossip::sim::metrics_options m;
    m.clustering_samples = 500;
    m.path_length_samples = 8;
    const auto o = sim.measure(m);
    std::printf("%6zu %8zu %9.2f %8.2f %10.4f %8.2f %6zu %10zu %9.1f\n", sim.round(), o.live_nodes, o.in_degree_mean,
                o.in_degree_stddev, o.clustering_coefficient, o.average_path_length, o.components, o.dead_links, ms);
    std::fflush(stdout);
}

template <class Node>
int run(const options& o)
{
    gossip::config cfg;
    cfg.view_size = o.view_size;
    cfg.aging = o.aging;
    gossip::transport::network_options net;
    net.loss = o.loss;
    gossip::sim::simulator<Node> sim(o.nodes, cfg, o.seed, net);
    if (o.bootstrap == "ring") {
        sim.bootstrap(gossip::sim::lattice{});
    } else if (o.bootstrap == "random") {
        sim.bootstrap(gossip::sim::random_graph{});
    } else if (o.bootstrap == "growing") {
        sim.bootstrap(gossip::sim::growing{std::max<std::size_t>(1, o.nodes / 20)});
    } else {
        usage("--bootstrap must be ring, random or growing");
    }
    std::printf("peer sampling: %zu nodes, c = %zu, peer %s, view %s, %s, bootstrap %s, loss %.2f, seed %llu, aging "
                "%s\n\n",
                o.nodes, o.view_size, o.peer.c_str(), o.view.c_str(), o.propagation.c_str(), o.bootstrap.c_str(),
                o.loss, static_cast<unsigned long long>(o.seed),
                o.aging == gossip::view_aging::cycle_start ? "cycle-start" : "after-exchange");
    header();
    report(sim, 0.0);
    const auto timed_round = [&] {
        const auto t0 = std::chrono::steady_clock::now();
        sim.run_round();
        return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    };
    for (std::size_t r = 1; r <= o.rounds; ++r) {
        const double ms = timed_round();
        if (r % 5 == 0 || r == o.rounds) {
            report(sim, ms);
        }
    }
    if (o.crash > 0) {
        const auto crashed = sim.crash_fraction(o.crash);
        std::printf("\n%zu nodes crash at once; the survivors forget them:\n\n", crashed);
        header();
        report(sim, 0.0);
        for (std::size_t r = 1; r <= o.rounds; ++r) {
            const double ms = timed_round();
            if (r % 5 == 0 || r == o.rounds) {
                report(sim, ms);
            }
        }
    }
    return 0;
}

template <class P, class V>
int with_propagation(const options& o)
{
    namespace pr = gossip::propagation;
    using gossip::transport::in_memory;
    if (o.propagation == "push") {
        return run<gossip::gossip_node<in_memory, P, V, pr::push>>(o);
    }
    if (o.propagation == "pull") {
        return run<gossip::gossip_node<in_memory, P, V, pr::pull>>(o);
    }
    if (o.propagation == "push_pull") {
        return run<gossip::gossip_node<in_memory, P, V, pr::push_pull>>(o);
    }
    usage("--propagation must be push, pull or push_pull");
}

template <class P>
int with_view(const options& o)
{
    namespace vs = gossip::view_selection;
    if (o.view == "random" || o.view == "blind") {
        return with_propagation<P, vs::random>(o);
    }
    if (o.view == "head") {
        return with_propagation<P, vs::head>(o);
    }
    if (o.view == "tail") {
        return with_propagation<P, vs::tail>(o);
    }
    if (o.view == "healer") {
        return with_propagation<P, vs::healer>(o);
    }
    if (o.view == "swapper") {
        return with_propagation<P, vs::swapper>(o);
    }
    usage("--view must be random (blind), head, tail, healer or swapper");
}

} // namespace

int main(int argc, char** argv)
{
    const auto o = parse(argc, argv);
    namespace ps = gossip::peer_selection;
    try {
        if (o.peer == "random") {
            return with_view<ps::random>(o);
        }
        if (o.peer == "head") {
            return with_view<ps::head>(o);
        }
        if (o.peer == "tail") {
            return with_view<ps::tail>(o);
        }
    } catch (const gossip::config_error& e) {
        std::fprintf(stderr, "overlay_demo: %s\n", e.what());
        return 2;
    }
    usage("--peer must be random, head or tail");
}
