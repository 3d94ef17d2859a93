// Anti-entropy experiments: n replicas of a last-writer-wins map, `writes` updates made at random
// nodes, then rounds until every live replica holds the same map. Repeated over seeded runs for
// each way entries travel; prints the rounds to converge, the datagrams and bytes per node, and
// the Merkle hashes per session (mean ± standard deviation over the runs).
//
//   anti_entropy --nodes 1000 --writes 1 --spread push,pull,push_pull --loss 0,0.3 --runs 10
//
// Every node opens one session per period (fanout 1) with a peer from a shuffling view of c = 20.

#include <gossip/gossip.hpp>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

using gossip::payload::spread;
using store = gossip::payload::lww_map<std::uint32_t, std::uint64_t>;
using replica = gossip::payload::anti_entropy<store>;
using node = gossip::gossip_node<gossip::transport::in_memory, gossip::peer_selection::random,
                                 gossip::view_selection::blind, gossip::propagation::push_pull, replica>;

struct options {
    std::vector<std::size_t> nodes{1000};
    std::vector<spread> spreads{spread::push, spread::pull, spread::push_pull};
    std::vector<double> losses{0.0};
    std::size_t writes = 1;
    std::size_t runs = 10;
    std::uint64_t seed = 1;
    std::size_t max_rounds = 1000;
};

std::vector<std::string> split(const std::string& s)
{
    std::vector<std::string> out;
    std::stringstream in(s);
    for (std::string item; std::getline(in, item, ',');) {
        out.push_back(item);
    }
    return out;
}

const char* name(spread s) { return s == spread::push ? "push" : s == spread::pull ? "pull" : "push_pull"; }

[[noreturn]] void usage(const std::string& problem)
{
    std::fprintf(stderr,
                 "%s\nusage: anti_entropy [--nodes N,..] [--spread push,pull,push_pull] [--loss P,..] [--writes W]\n"
                 "                    [--runs R] [--seed S] [--max-rounds M]\n",
                 problem.c_str());
    std::exit(2);
}

options parse(int argc, char** argv)
{
    options o;
    for (int i = 1; i < argc; ++i) {
        const std::string flag = argv[i];
        if (flag == "--help") {
            usage("Anti-entropy convergence over a simulated network.");
        }
        if (i + 1 >= argc) {
            usage("missing value after " + flag);
        }
        const std::string value = argv[++i];
        try {
            if (flag == "--nodes") {
                o.nodes.clear();
                for (const auto& v : split(value)) {
                    o.nodes.push_back(std::stoul(v));
                }
            } else if (flag == "--spread") {
                o.spreads.clear();
                for (const auto& v : split(value)) {
                    if (v == "push" || v == "pull" || v == "push_pull") {
                        o.spreads.push_back(v == "push"   ? spread::push
                                            : v == "pull" ? spread::pull
                                                          : spread::push_pull);
                    } else {
                        usage("unknown spread '" + v + "'");
                    }
                }
            } else if (flag == "--loss") {
                o.losses.clear();
                for (const auto& v : split(value)) {
                    o.losses.push_back(std::stod(v));
                }
            } else if (flag == "--writes") {
                o.writes = std::stoul(value);
            } else if (flag == "--runs") {
                o.runs = std::stoul(value);
            } else if (flag == "--seed") {
                o.seed = std::stoull(value);
            } else if (flag == "--max-rounds") {
                o.max_rounds = std::stoul(value);
            } else {
                usage("unknown option " + flag);
            }
        } catch (const std::logic_error&) {
            usage("bad value '" + value + "' for " + flag);
        }
    }
    for (const auto n : o.nodes) {
        if (n < 2) {
            usage("--nodes must be at least 2");
        }
    }
    for (const auto p : o.losses) {
        if (!(p >= 0.0 && p < 1.0)) {
            usage("--loss must be in [0, 1)");
        }
    }
    if (o.runs == 0) {
        usage("--runs must be at least 1");
    }
    return o;
}

struct run_result {
    double rounds = 0;
    double messages_per_node = 0;
    double bytes_per_node = 0;
    double hashes_per_session = 0;
    bool converged = false;
};

bool converged(const gossip::sim::simulator<node>& sim)
{
    const auto root = [&](std::size_t i) {
        return sim.node(i).payload().store().tree().summary(gossip::payload::merkle_node_id::root());
    };
    const auto first = root(0);
    for (std::size_t i = 1; i < sim.size(); ++i) {
        if (root(i) != first) {
            return false;
        }
    }
    return true;
}

run_result run_once(std::size_t n, spread mode, double loss, std::size_t writes, std::uint64_t seed,
                    std::size_t max_rounds)
{
    gossip::config cfg;
    cfg.view_size = 20;
    gossip::transport::network_options net;
    net.loss = loss;
    gossip::payload::anti_entropy_options o;
    o.mode = mode;
    gossip::sim::simulator<node> sim(n, cfg, seed, net, [&](std::size_t) { return replica(o); });
    sim.bootstrap(gossip::sim::random_graph{});
    sim.run(3); // shuffle the views away from the bootstrap graph
    const auto base = [&] {
        std::uint64_t messages = 0;
        std::uint64_t bytes = 0;
        for (const auto& x : sim.nodes()) {
            messages += x.statistics().messages_sent;
            bytes += x.statistics().bytes_sent;
        }
        return std::pair{messages, bytes};
    }();
    gossip::pcg32 rng(gossip::mix_seed(seed, 7));
    for (std::size_t w = 0; w < writes; ++w) {
        sim.node(gossip::uniform_index(rng, n)).payload().put(static_cast<std::uint32_t>(w), w + 1);
    }
    run_result r;
    std::size_t rounds = 0;
    while (rounds < max_rounds && !converged(sim)) {
        sim.run_round();
        ++rounds;
    }
    r.converged = converged(sim);
    r.rounds = static_cast<double>(rounds);
    std::uint64_t messages = 0;
    std::uint64_t bytes = 0;
    std::uint64_t hashes = 0;
    std::uint64_t sessions = 0;
    for (const auto& x : sim.nodes()) {
        messages += x.statistics().messages_sent;
        bytes += x.statistics().bytes_sent;
        hashes += x.payload().statistics().hashes_sent;
        sessions += x.payload().statistics().sessions_opened;
    }
    r.messages_per_node = static_cast<double>(messages - base.first) / static_cast<double>(n);
    r.bytes_per_node = static_cast<double>(bytes - base.second) / static_cast<double>(n);
    r.hashes_per_session = sessions > 0 ? static_cast<double>(hashes) / static_cast<double>(sessions) : 0;
    return r;
}

} // namespace

int main(int argc, char** argv)
{
    const options o = parse(argc, argv);
    std::printf("%-9s %-10s %-5s %-6s  %-15s %-15s %-17s %s\n", "nodes", "spread", "loss", "writes", "rounds",
                "datagrams/node", "bytes/node", "hashes/session");
    for (const auto n : o.nodes) {
        for (const auto loss : o.losses) {
            for (const auto mode : o.spreads) {
                std::vector<double> rounds;
                std::vector<double> messages;
                std::vector<double> bytes;
                std::vector<double> hashes;
                std::size_t failed = 0;
                for (std::size_t r = 0; r < o.runs; ++r) {
                    const auto x = run_once(n, mode, loss, o.writes, gossip::mix_seed(o.seed, r), o.max_rounds);
                    failed += x.converged ? 0 : 1;
                    rounds.push_back(x.rounds);
                    messages.push_back(x.messages_per_node);
                    bytes.push_back(x.bytes_per_node);
                    hashes.push_back(x.hashes_per_session);
                }
                const auto show = [](const std::vector<double>& xs) {
                    const auto s = gossip::sim::mean_and_stddev(xs);
                    char buffer[64];
                    std::snprintf(buffer, sizeof buffer, "%.1f ± %.1f", s.mean, s.stddev);
                    return std::string(buffer);
                };
                std::printf("%-9zu %-10s %-5.2f %-6zu  %-15s %-15s %-17s %s%s\n", n, name(mode), loss, o.writes,
                            show(rounds).c_str(), show(messages).c_str(), show(bytes).c_str(), show(hashes).c_str(),
                            failed > 0 ? "  (some runs did not converge)" : "");
            }
        }
    }
}
