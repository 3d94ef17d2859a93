// Rumor-mongering experiments: one update started at a random node, followed until nobody spreads
// it any more, repeated over seeded runs, for every combination of the options given. Prints a
// table (mean ± standard deviation over the runs) and optionally writes it as CSV, together with
// the mean fraction of nodes reached after each round (for plots).
//
//   dissemination --nodes 1000 --spread push --interest feedback,blind --stop counter,coin
//                 --k 1,2,3,4,5 --runs 100 --csv table.csv --curves curves.csv
//
// Peers are drawn by peer_selection::random from views of c descriptors that either keep
// shuffling (blind view selection, push-pull: the overlay of a running system) or stay frozen
// after a random-graph bootstrap (--overlay frozen; with --view-size all, the complete graph of
// the classic analyses).
//
// --model abstract runs the same rules in gossip::sim::epidemic instead: peers uniform over all
// the other nodes, no views and no wire, two orders of magnitude faster, so that 10^6 nodes take
// about a second per run:
//
//   dissemination --model abstract --nodes 1000,10000,100000,1000000 --spread push,pull,push_pull
//                 --stop rounds --rounds 40 --runs 10

#include <gossip/gossip.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <unistd.h>
#include <vector>

namespace {

using gossip::payload::interest;
using gossip::payload::spread;
using gossip::payload::stop;
using rumors = gossip::payload::rumor_set<std::uint32_t>;
using gossip::sim::round_order;

enum class model_kind { full, abstract };

template <class ViewSelection>
using node = gossip::gossip_node<gossip::transport::in_memory, gossip::peer_selection::random, ViewSelection,
                                 gossip::propagation::push_pull, rumors>;

struct options {
    std::vector<std::size_t> nodes{1000};
    std::vector<spread> spreads{spread::push};
    std::vector<interest> interests{interest::feedback};
    std::vector<stop> stops{stop::counter};
    std::vector<std::uint32_t> ks{2};
    std::vector<std::size_t> fanouts{1};
    std::vector<double> losses{0.0};
    std::vector<model_kind> models{model_kind::full};
    std::vector<round_order> orders{round_order::sequential};
    std::vector<gossip::payload::pull_rule> pulls{gossip::payload::pull_rule::digest};
    std::uint32_t rounds = 10; // M, for --stop rounds
    std::uint32_t max_age = gossip::payload::rumor_options{}.max_age;
    std::size_t runs = 20;
    std::size_t view_size = 30; // 0: everybody
    bool frozen = false;
    std::uint64_t seed = 1;
    std::size_t max_rounds = 10000;
    std::string csv;
    std::string curves;
    bool progress = isatty(2) != 0;
};

const char* name(spread s) { return s == spread::push ? "push" : s == spread::pull ? "pull" : "push_pull"; }
const char* name(interest i) { return i == interest::feedback ? "feedback" : "blind"; }
const char* name(stop s) { return s == stop::counter ? "counter" : s == stop::coin ? "coin" : "rounds"; }
const char* name(gossip::payload::pull_rule p) { return p == gossip::payload::pull_rule::digest ? "digest" : "demers"; }
const char* name(model_kind m) { return m == model_kind::full ? "full" : "abstract"; }
const char* name(round_order r) { return r == round_order::sequential ? "sequential" : "synchronous"; }

std::vector<std::string> split(const std::string& s)
{
    std::vector<std::string> out;
    std::stringstream in(s);
    for (std::string item; std::getline(in, item, ',');) {
        out.push_back(item);
    }
    return out;
}

template <class T, class Parse>
std::vector<T> list(const std::string& flag, const std::string& value, Parse parse)
{
    std::vector<T> out;
    for (const auto& item : split(value)) {
        out.push_back(parse(item));
    }
    if (out.empty()) {
        throw std::invalid_argument(flag + " needs at least one value");
    }
    return out;
}

std::size_t number(const std::string& s)
{
    std::size_t used = 0;
    const auto v = std::stoull(s, &used);
    if (used != s.size()) {
        throw std::invalid_argument("not a number: " + s);
    }
    return v;
}

options parse(int argc, char** argv)
{
    options o;
    for (int i = 1; i < argc; ++i) {
        const std::string flag = argv[i];
        if (flag == "--help" || flag == "-h") {
            std::cout << "usage: dissemination [options]   (lists are comma-separated; every combination runs)\n"
                         "  --nodes N,...           nodes (default 1000)\n"
                         "  --spread push,pull,push_pull   how rumors travel (default push)\n"
                         "  --interest feedback,blind      which contacts count (default feedback)\n"
                         "  --stop counter,coin,rounds     when a node stops spreading (default counter)\n"
                         "  --k K,...               counter threshold or 1/k coin (default 2)\n"
                         "  --rounds M              rounds of spreading for --stop rounds (default 10)\n"
                         "  --pull digest,demers    how a pull is answered: only what the asker lacks, each\n"
                         "                          asker a contact; or every infective rumor, the askers of\n"
                         "                          a round one contact, as Demers et al. (default digest)\n"
                         "  --max-age A             rounds a rumor may travel before it is dropped\n"
                         "                          (default 64; at most 30000)\n"
                         "  --fanout N,...          peers contacted per round (default 1)\n"
                         "  --loss P,...            message loss rate (default 0)\n"
                         "  --runs R                seeded runs per combination (default 20)\n"
                         "  --view-size C|all       view size; all = every other node (default 30)\n"
                         "  --overlay shuffling|frozen     views keep exchanging, or stay as bootstrapped\n"
                         "  --model full,abstract   the full simulator, or the abstract model (sim/epidemic.hpp):\n"
                         "                          peers uniform over everybody, no views, so --view-size\n"
                         "                          and --overlay do not apply to it (default full)\n"
                         "  --order sequential,synchronous  abstract model only: the simulator's order within\n"
                         "                          a round, or Demers' (default sequential)\n"
                         "  --seed S                first seed (default 1)\n"
                         "  --max-rounds R          give up after R rounds (default 10000)\n"
                         "  --csv FILE              the table as CSV\n"
                         "  --curves FILE           mean fraction reached after each round, as CSV\n"
                         "  --progress / --quiet    force the progress line on or off\n";
            std::exit(0);
        }
        if (flag == "--progress") {
            o.progress = true;
            continue;
        }
        if (flag == "--quiet") {
            o.progress = false;
            continue;
        }
        if (i + 1 >= argc) {
            throw std::invalid_argument(flag + " needs a value");
        }
        const std::string v = argv[++i];
        if (flag == "--nodes") {
            o.nodes = list<std::size_t>(flag, v, number);
        } else if (flag == "--spread") {
            o.spreads = list<spread>(flag, v, [](const std::string& s) {
                if (s == "push") return spread::push;
                if (s == "pull") return spread::pull;
                if (s == "push_pull" || s == "push-pull") return spread::push_pull;
                throw std::invalid_argument("--spread: push, pull or push_pull, not " + s);
            });
        } else if (flag == "--interest") {
            o.interests = list<interest>(flag, v, [](const std::string& s) {
                if (s == "feedback") return interest::feedback;
                if (s == "blind") return interest::blind;
                throw std::invalid_argument("--interest: feedback or blind, not " + s);
            });
        } else if (flag == "--stop") {
            o.stops = list<stop>(flag, v, [](const std::string& s) {
                if (s == "counter") return stop::counter;
                if (s == "coin") return stop::coin;
                if (s == "rounds" || s == "ttl") return stop::rounds;
                throw std::invalid_argument("--stop: counter, coin or rounds, not " + s);
            });
        } else if (flag == "--k") {
            o.ks = list<std::uint32_t>(flag, v,
                                       [](const std::string& s) { return static_cast<std::uint32_t>(number(s)); });
        } else if (flag == "--rounds") {
            o.rounds = static_cast<std::uint32_t>(number(v));
        } else if (flag == "--pull") {
            o.pulls = list<gossip::payload::pull_rule>(flag, v, [](const std::string& s) {
                if (s == "digest") return gossip::payload::pull_rule::digest;
                if (s == "demers") return gossip::payload::pull_rule::demers;
                throw std::invalid_argument("--pull: digest or demers, not " + s);
            });
        } else if (flag == "--max-age") {
            const auto a = number(v);
            if (a == 0 || a > 30000) {
                throw std::invalid_argument("--max-age: between 1 and 30000 rounds, not " + v);
            }
            o.max_age = static_cast<std::uint32_t>(a);
        } else if (flag == "--fanout") {
            o.fanouts = list<std::size_t>(flag, v, number);
        } else if (flag == "--loss") {
            o.losses = list<double>(flag, v, [](const std::string& s) { return std::stod(s); });
        } else if (flag == "--runs") {
            o.runs = number(v);
        } else if (flag == "--view-size") {
            o.view_size = v == "all" ? 0 : number(v);
        } else if (flag == "--overlay") {
            if (v != "shuffling" && v != "frozen") {
                throw std::invalid_argument("--overlay: shuffling or frozen, not " + v);
            }
            o.frozen = v == "frozen";
        } else if (flag == "--model") {
            o.models = list<model_kind>(flag, v, [](const std::string& s) {
                if (s == "full") return model_kind::full;
                if (s == "abstract") return model_kind::abstract;
                throw std::invalid_argument("--model: full or abstract, not " + s);
            });
        } else if (flag == "--order") {
            o.orders = list<round_order>(flag, v, [](const std::string& s) {
                if (s == "sequential") return round_order::sequential;
                if (s == "synchronous") return round_order::synchronous;
                throw std::invalid_argument("--order: sequential or synchronous, not " + s);
            });
        } else if (flag == "--seed") {
            o.seed = number(v);
        } else if (flag == "--max-rounds") {
            o.max_rounds = number(v);
        } else if (flag == "--csv") {
            o.csv = v;
        } else if (flag == "--curves") {
            o.curves = v;
        } else {
            throw std::invalid_argument("unknown option " + flag + " (try --help)");
        }
    }
    if (o.runs == 0) {
        throw std::invalid_argument("--runs must be at least 1");
    }
    return o;
}

struct experiment {
    std::size_t nodes;
    gossip::payload::rumor_options rumor;
    std::size_t fanout;
    double loss;
    model_kind model = model_kind::full;
    round_order order = round_order::sequential;

    [[nodiscard]] std::string label() const
    {
        std::string s = std::string(name(rumor.mode)) + " " + name(rumor.loss) + " " + name(rumor.rule);
        s += rumor.rule == stop::rounds ? " M=" + std::to_string(rumor.rounds) : " k=" + std::to_string(rumor.k);
        if (fanout != 1) {
            s += " N=" + std::to_string(fanout);
        }
        if (rumor.pull == gossip::payload::pull_rule::demers && rumor.mode != spread::push) {
            s += " demers-pull";
        }
        if (model == model_kind::abstract) {
            s += order == round_order::sequential ? " (abstract)" : " (abstract, sync)";
        }
        return s;
    }
};

template <class Node>
gossip::sim::dissemination_result run_one(const options& o, const experiment& e, std::uint64_t seed)
{
    gossip::config cfg;
    cfg.view_size = o.view_size == 0 ? e.nodes - 1 : std::min(o.view_size, e.nodes - 1);
    cfg.fanout = std::min(e.fanout, cfg.view_size);
    gossip::transport::network_options net;
    net.loss = e.loss;
    gossip::sim::simulator<Node> sim(e.nodes, cfg, seed, net, [&](std::size_t) { return rumors(e.rumor); });
    sim.bootstrap(gossip::sim::random_graph{});
    if (!o.frozen) {
        sim.run(5); // let the views mix before the update starts
    }
    gossip::pcg32 pick(gossip::mix_seed(seed, 0x6f726967));
    gossip::sim::dissemination_options d;
    d.max_rounds = o.max_rounds;
    return gossip::sim::disseminate(sim, gossip::uniform_index(pick, e.nodes), std::uint32_t{1}, d);
}

gossip::sim::dissemination_result run_abstract(const options& o, const experiment& e, std::uint64_t seed)
{
    gossip::sim::epidemic_options m;
    m.rumor = e.rumor;
    m.fanout = e.fanout;
    m.message_loss = e.loss;
    m.order = e.order;
    gossip::sim::epidemic model(e.nodes, m, seed);
    gossip::pcg32 pick(gossip::mix_seed(seed, 0x6f726967));
    gossip::sim::dissemination_options d;
    d.max_rounds = o.max_rounds;
    return gossip::sim::disseminate(model, gossip::uniform_index(pick, e.nodes), d);
}

std::string plus_minus(const gossip::sim::spread_of& s, int precision)
{
    char buffer[64];
    std::snprintf(buffer, sizeof buffer, "%.*f ± %.*f", precision, s.mean, precision, s.stddev);
    return buffer;
}

} // namespace

int main(int argc, char** argv)
{
    options o;
    try {
        o = parse(argc, argv);
    } catch (const std::exception& e) {
        std::cerr << "dissemination: " << e.what() << "\n";
        return 2;
    }

    std::vector<experiment> plan;
    for (auto n : o.nodes) {
        for (auto s : o.spreads) {
            for (auto i : o.interests) {
                for (auto st : o.stops) {
                    for (auto k : (st == stop::rounds ? std::vector<std::uint32_t>{0} : o.ks)) {
                        for (auto f : o.fanouts) {
                            for (auto l : o.losses) {
                                for (auto m : o.models) {
                                    const auto orders = m == model_kind::full
                                                            ? std::vector<round_order>{round_order::sequential}
                                                            : o.orders;
                                    for (auto order : orders) {
                                        for (auto p : o.pulls) {
                                            if (s == spread::push && p != o.pulls.front()) {
                                                continue; // the pull rule does not apply to push
                                            }
                                            experiment e{n, {}, f, l, m, order};
                                            e.rumor.mode = s;
                                            e.rumor.loss = i;
                                            e.rumor.rule = st;
                                            e.rumor.k = k == 0 ? 1 : k;
                                            e.rumor.rounds = o.rounds;
                                            e.rumor.max_age = o.max_age;
                                            e.rumor.pull = p;
                                            plan.push_back(e);
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    std::ofstream csv;
    std::ofstream curves;
    if (!o.csv.empty()) {
        csv.open(o.csv);
        csv << "nodes,spread,interest,stop,k,rounds_m,fanout,loss,runs,residue,residue_sd,traffic,traffic_sd,"
               "t_avg,t_avg_sd,t_last,t_last_sd,bytes_per_node,bytes_per_node_sd,model,order,pull,max_age\n";
    }
    if (!o.curves.empty()) {
        curves.open(o.curves);
        curves << "label,nodes,round,reached\n";
    }
    if ((!o.csv.empty() && !csv) || (!o.curves.empty() && !curves)) {
        std::cerr << "dissemination: cannot write the output files\n";
        return 1;
    }

    int width = 36;
    for (const auto& e : plan) {
        width = std::max(width, static_cast<int>(e.label().size()));
    }
    std::printf("%-8s %-*s %5s  %-19s %-15s %-15s %-15s %s\n", "nodes", width, "strategy", "loss", "residue", "traffic",
                "t_avg", "t_last", "bytes/node");
    const auto started = std::chrono::steady_clock::now();
    for (std::size_t x = 0; x < plan.size(); ++x) {
        const auto& e = plan[x];
        std::vector<gossip::sim::dissemination_result> results;
        bool complete = true;
        for (std::size_t r = 0; r < o.runs; ++r) {
            if (o.progress) {
                std::fprintf(stderr, "\r[%zu/%zu] n=%zu %s: run %zu/%zu   ", x + 1, plan.size(), e.nodes,
                             e.label().c_str(), r + 1, o.runs);
            }
            const std::uint64_t seed = gossip::mix_seed(o.seed, r);
            if (e.model == model_kind::abstract) {
                results.push_back(run_abstract(o, e, seed));
            } else {
                results.push_back(o.frozen ? run_one<node<gossip::view_selection::frozen>>(o, e, seed)
                                           : run_one<node<gossip::view_selection::blind>>(o, e, seed));
            }
            complete = complete && results.back().quiescent;
        }
        if (o.progress) {
            std::fprintf(stderr, "\r%80s\r", "");
        }
        const auto s = gossip::sim::summarize(results);
        // The abstract model encodes nothing: no bytes to show.
        const std::string bytes =
            e.model == model_kind::abstract ? "-" : std::to_string(std::lround(s.bytes_per_node.mean));
        std::printf("%-8zu %-*s %5.2f  %-19s %-15s %-15s %-15s %s%s\n", e.nodes, width, e.label().c_str(), e.loss,
                    plus_minus(s.residue, 4).c_str(), plus_minus(s.traffic, 2).c_str(), plus_minus(s.t_avg, 2).c_str(),
                    plus_minus(s.t_last, 2).c_str(), bytes.c_str(), complete ? "" : "  (round limit hit)");
        std::fflush(stdout);
        if (csv) {
            csv << e.nodes << ',' << name(e.rumor.mode) << ',' << name(e.rumor.loss) << ',' << name(e.rumor.rule) << ','
                << e.rumor.k << ',' << e.rumor.rounds << ',' << e.fanout << ',' << e.loss << ',' << s.runs << ','
                << s.residue.mean << ',' << s.residue.stddev << ',' << s.traffic.mean << ',' << s.traffic.stddev << ','
                << s.t_avg.mean << ',' << s.t_avg.stddev << ',' << s.t_last.mean << ',' << s.t_last.stddev << ','
                << s.bytes_per_node.mean << ',' << s.bytes_per_node.stddev << ',' << name(e.model) << ','
                << name(e.order) << ',' << name(e.rumor.pull) << ',' << e.rumor.max_age << '\n';
        }
        if (curves) {
            for (std::size_t round = 0; round < s.reached_by_round.size(); ++round) {
                curves << '"' << e.label() << "\"," << e.nodes << ',' << round << ',' << s.reached_by_round[round]
                       << '\n';
            }
        }
    }
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    std::fprintf(stderr, "%zu combinations x %zu runs in %.1f s\n", plan.size(), o.runs, seconds);
    return 0;
}
