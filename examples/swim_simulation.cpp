// SWIM experiments on simulated time (sim::event_simulator): the figures the SWIM and Lifeguard
// papers compare, reproducibly from a seed.
//
//   swim_simulation --scenario detection --nodes 100,1000,10000 --runs 20
//       a member crashes in a formed cluster: time until somebody suspects it, until somebody
//       declares it failed, until everybody has. In the synchronous mode (every member probing in
//       step, no network delay, as the paper's analysis assumes) the first suspicion comes after
//       e / (e - 1) ~ 1.58 protocol periods on average (Das et al. 2002); the asynchronous mode is
//       a deployment's (phases spread, 1 ms +- 1 ms latency).
//   swim_simulation --scenario load --nodes 100,1000,10000
//       datagrams and bytes each member sends per second, idle: constant in N.
//   swim_simulation --scenario loss,slow,combined --fp-nodes 100 --hours 1
//       false positives (a running member declared failed, counted once per member and
//       incarnation) per member-hour, with and without Lifeguard: under 5 % message loss, with
//       10 % of the members slow (what arrives for them, and their own timers, wait a uniform
//       delay of up to --slow-delay), and with both at once.
//
// The SWIM options are the LAN profile (1 s probes, 500 ms timeout, 200 ms gossip, k = 3,
// alpha = 4, beta = 6, K = 3); --probe-interval changes the period. Output: a table per scenario,
// and with --csv one line of key=value pairs per figure.

#include <gossip/gossip.hpp>

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <set>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace {

using namespace std::chrono_literals;
using address = gossip::transport::in_memory_address;
using swim = gossip::payload::swim<address>;
using swim_options = gossip::payload::swim_options;
using event = gossip::payload::swim_event<address>;
using event_kind = gossip::payload::swim_event_kind;
using node = gossip::gossip_node<gossip::transport::in_memory, gossip::peer_selection::random,
                                 gossip::view_selection::frozen, gossip::propagation::push, swim>;
using simulator = gossip::sim::event_simulator<node>;
namespace formulas = gossip::payload::swim_formulas;

struct options {
    std::vector<std::string> scenarios{"detection", "load", "loss", "slow", "combined"};
    std::vector<std::size_t> nodes{100, 1000};
    std::vector<std::size_t> fp_nodes{100};
    std::size_t runs = 10;
    std::uint64_t seed = 1;
    double hours = 1;
    double loss = 0.05;
    double slow_fraction = 0.1;
    std::chrono::milliseconds slow_delay{20'000};
    std::chrono::milliseconds probe_interval{1000};
    bool csv = false;
};

[[noreturn]] void usage(const std::string& problem, int code = 2)
{
    std::fprintf(code == 0 ? stdout : stderr,
                 "%s%susage: swim_simulation [--scenario detection,load,loss,slow] [--nodes 100,1000]\n"
                 "                       [--fp-nodes 100] [--runs R] [--seed S] [--hours H] [--loss P]\n"
                 "                       [--slow-fraction F] [--slow-delay MS] [--probe-interval MS] [--csv]\n"
                 "  --nodes: cluster sizes for detection and load; --fp-nodes: for loss and slow\n",
                 problem.c_str(), problem.empty() ? "" : "\n");
    std::exit(code);
}

template <class T, class Parse>
std::vector<T> parse_list(std::string_view s, Parse parse)
{
    std::vector<T> out;
    while (!s.empty()) {
        const auto at = s.find(',');
        out.push_back(parse(std::string(s.substr(0, at))));
        if (at == std::string_view::npos) {
            break;
        }
        s.remove_prefix(at + 1);
    }
    return out;
}

std::size_t to_size(const std::string& s)
{
    std::size_t used = 0;
    const auto v = std::stoull(s, &used);
    if (used != s.size() || s.empty() || s[0] == '-') {
        throw std::invalid_argument("not a non-negative integer: " + s);
    }
    return static_cast<std::size_t>(v);
}

double to_double(const std::string& s)
{
    std::size_t used = 0;
    const double v = std::stod(s, &used);
    if (used != s.size() || !std::isfinite(v)) {
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
            usage("", 0);
        }
        if (flag == "--csv") {
            o.csv = true;
            continue;
        }
        if (i + 1 >= argc) {
            usage("missing value after " + flag);
        }
        const std::string value = argv[++i];
        try {
            if (flag == "--scenario") {
                o.scenarios = parse_list<std::string>(value, [](std::string s) { return s; });
                for (const auto& s : o.scenarios) {
                    if (s != "detection" && s != "load" && s != "loss" && s != "slow" && s != "combined") {
                        throw std::invalid_argument("unknown scenario " + s);
                    }
                }
            } else if (flag == "--nodes") {
                o.nodes = parse_list<std::size_t>(value, to_size);
            } else if (flag == "--fp-nodes") {
                o.fp_nodes = parse_list<std::size_t>(value, to_size);
            } else if (flag == "--runs") {
                o.runs = to_size(value);
            } else if (flag == "--seed") {
                o.seed = to_size(value);
            } else if (flag == "--hours") {
                o.hours = to_double(value);
            } else if (flag == "--loss") {
                o.loss = to_double(value);
            } else if (flag == "--slow-fraction") {
                o.slow_fraction = to_double(value);
            } else if (flag == "--slow-delay") {
                o.slow_delay = std::chrono::milliseconds(to_size(value));
            } else if (flag == "--probe-interval") {
                o.probe_interval = std::chrono::milliseconds(to_size(value));
            } else {
                usage("unknown option " + flag);
            }
        } catch (const std::exception& e) {
            usage(flag + " " + value + ": " + e.what());
        }
    }
    const auto too_small = [](const std::vector<std::size_t>& v) {
        return v.empty() || std::any_of(v.begin(), v.end(), [](std::size_t n) { return n < 3; });
    };
    if (too_small(o.nodes) || too_small(o.fp_nodes)) {
        usage("--nodes and --fp-nodes need values of at least 3");
    }
    if (o.runs == 0 || !(o.hours > 0) || !(o.loss >= 0 && o.loss < 1) ||
        !(o.slow_fraction >= 0 && o.slow_fraction < 1) || o.probe_interval < 10ms) {
        usage("--runs and --hours must be positive, --loss and --slow-fraction within [0, 1), --probe-interval >= 10");
    }
    return o;
}

struct stat {
    double mean = 0;
    double sd = 0;
};

stat summarize(const std::vector<double>& xs)
{
    if (xs.empty()) {
        return {};
    }
    double sum = 0;
    for (const double x : xs) {
        sum += x;
    }
    const double mean = sum / static_cast<double>(xs.size());
    double sq = 0;
    for (const double x : xs) {
        sq += (x - mean) * (x - mean);
    }
    return {mean, xs.size() > 1 ? std::sqrt(sq / static_cast<double>(xs.size() - 1)) : 0.0};
}

double seconds(std::chrono::nanoseconds d) { return std::chrono::duration<double>(d).count(); }

swim_options lan(const options& o, bool lifeguard = true)
{
    swim_options s = swim_options::lan();
    s.probe_interval = o.probe_interval;
    s.probe_timeout = o.probe_interval / 2;
    if (!lifeguard) {
        s.lifeguard = gossip::payload::lifeguard_options::off();
    }
    return s;
}

// A formed cluster of n SWIM members on the event simulator, its events logged.
struct cluster {
    struct record {
        std::chrono::nanoseconds at;
        std::uint32_t observer;
        event what;
    };

    std::vector<record> log;
    std::unique_ptr<simulator> sim;

    cluster(std::size_t n, const swim_options& s, std::uint64_t seed, const gossip::transport::network_options& net,
            const gossip::sim::event_options& events)
    {
        gossip::config cfg;
        cfg.period = std::chrono::duration_cast<std::chrono::milliseconds>(s.gossip_interval);
        log.reserve(1024);
        sim = std::make_unique<simulator>(n, cfg, seed, net, events, [this, s](std::size_t i) {
            auto own = s;
            own.id = i + 1;
            return swim(own, [this, i](const event& e) {
                // Steady state logs little; a failure logs one event per member.
                log.push_back(record{sim->now(), static_cast<std::uint32_t>(i), e});
            });
        });
        std::vector<gossip::payload::swim_known_member<address>> everyone(n);
        for (std::size_t i = 0; i < n; ++i) {
            everyone[i] = {i + 1, address{static_cast<std::uint32_t>(i)}};
        }
        for (std::size_t i = 0; i < n; ++i) {
            sim->act(i, [&](node& x) { x.payload().preload(everyone); });
        }
    }
};

gossip::transport::network_options lan_network(double loss = 0)
{
    gossip::transport::network_options net;
    net.delay = 1ms;
    net.jitter = 1ms;
    net.loss = loss;
    return net;
}

// --- detection ------------------------------------------------------------------------------

void detection(const options& o, bool synchronous)
{
    const char* mode = synchronous ? "synchronous" : "asynchronous";
    std::printf("\n== detection (%s): a member crashes; probe interval %.1f s\n", mode, seconds(o.probe_interval));
    std::printf("%8s %5s | %22s %9s | %16s %16s | %12s %11s\n", "n", "runs", "first suspicion (T)", "expected",
                "first failed (s)", "all failed (s)", "least susp.", "all / least");
    for (const std::size_t n : o.nodes) {
        auto s = lan(o);
        auto net = lan_network();
        gossip::sim::event_options events;
        if (synchronous) {
            s.spread_start = false;
            events.aligned_start = true;
            events.jitter = 0;
            net.delay = 0ns;
            net.jitter = 0ns;
        }
        const std::size_t runs = n >= 5000 ? std::min<std::size_t>(o.runs, 3) : o.runs;
        std::vector<double> first_suspicion;
        std::vector<double> first_failed;
        std::vector<double> all_failed;
        const auto period = std::chrono::duration_cast<std::chrono::nanoseconds>(o.probe_interval);
        const auto least = formulas::min_suspicion(s, n);
        std::size_t undetected = 0;
        for (std::size_t r = 0; r < runs; ++r) {
            const std::uint64_t seed = gossip::mix_seed(o.seed, r * 7919 + n);
            cluster c(n, s, seed, net, events);
            gossip::pcg32 rng(seed);
            const std::size_t victim = gossip::uniform_index(rng, n);
            // Settle, then crash right before a probe period starts (in the synchronous mode,
            // every member's probes start at whole periods).
            c.sim->run_until(10 * period - 1ns);
            c.sim->crash(victim);
            const auto crashed = c.sim->now();
            const auto limit = crashed + 4 * formulas::max_suspicion(s, n) + 20 * period;
            std::vector<char> seen(n, 0);
            std::size_t observers = 0;
            std::chrono::nanoseconds suspicion = std::chrono::nanoseconds::max();
            std::chrono::nanoseconds failed = std::chrono::nanoseconds::max();
            std::chrono::nanoseconds all = std::chrono::nanoseconds::max();
            std::size_t scanned = 0;
            while (c.sim->now() < limit && all == std::chrono::nanoseconds::max()) {
                c.sim->run_for(period / 10);
                for (; scanned < c.log.size(); ++scanned) {
                    const auto& rec = c.log[scanned];
                    if (rec.what.id != victim + 1) {
                        continue;
                    }
                    if (rec.what.kind == event_kind::suspected) {
                        suspicion = std::min(suspicion, rec.at);
                    } else if (rec.what.kind == event_kind::failed) {
                        failed = std::min(failed, rec.at);
                        if (seen[rec.observer] == 0) {
                            seen[rec.observer] = 1;
                            if (++observers == n - 1) {
                                all = rec.at;
                            }
                        }
                    }
                }
            }
            if (all == std::chrono::nanoseconds::max()) {
                ++undetected;
                continue;
            }
            first_suspicion.push_back(seconds(suspicion - crashed) / seconds(period));
            first_failed.push_back(seconds(failed - crashed));
            all_failed.push_back(seconds(all - crashed));
        }
        const auto fs = summarize(first_suspicion);
        const auto ff = summarize(first_failed);
        const auto af = summarize(all_failed);
        const double expected = formulas::expected_first_detection_periods(n);
        std::printf("%8zu %5zu | %12.2f +- %6.2f %9.3f | %7.2f +- %5.2f %7.2f +- %5.2f | %10.2f s %11.2f\n", n, runs,
                    fs.mean, fs.sd, expected, ff.mean, ff.sd, af.mean, af.sd, seconds(least), af.mean / seconds(least));
        if (undetected > 0) {
            std::printf("         %zu run(s) not detected by all within the limit\n", undetected);
        }
        if (o.csv) {
            std::printf("csv scenario=detection mode=%s n=%zu runs=%zu first_suspicion_periods=%.4f sd=%.4f "
                        "expected_periods=%.4f first_failed_s=%.4f all_failed_s=%.4f all_failed_sd=%.4f "
                        "least_suspicion_s=%.4f undetected=%zu\n",
                        mode, n, runs, fs.mean, fs.sd, expected, ff.mean, af.mean, af.sd, seconds(least), undetected);
        }
    }
}

// --- load -------------------------------------------------------------------------------------

void load(const options& o)
{
    std::printf("\n== load: an idle member's traffic, 60 s after a 10 s settling (probe interval %.1f s)\n",
                seconds(o.probe_interval));
    std::printf("%8s | %18s %18s | %14s\n", "n", "datagrams/member/s", "bytes/member/s", "wall time (s)");
    for (const std::size_t n : o.nodes) {
        const auto started = std::chrono::steady_clock::now();
        cluster c(n, lan(o), gossip::mix_seed(o.seed, n), lan_network(), {});
        c.sim->run_for(10s);
        const auto before = c.sim->network().statistics();
        c.sim->run_for(60s);
        const auto after = c.sim->network().statistics();
        const double member_seconds = 60.0 * static_cast<double>(n);
        const double datagrams = static_cast<double>(after.sent - before.sent) / member_seconds;
        const double bytes = static_cast<double>(after.bytes_sent - before.bytes_sent) / member_seconds;
        const double wall = seconds(std::chrono::steady_clock::now() - started);
        std::printf("%8zu | %18.3f %18.1f | %14.1f\n", n, datagrams, bytes, wall);
        if (o.csv) {
            std::printf("csv scenario=load n=%zu datagrams_per_member_s=%.4f bytes_per_member_s=%.2f\n", n, datagrams,
                        bytes);
        }
    }
}

// --- false positives -----------------------------------------------------------------------------

struct fp_result {
    double member_hours = 0;
    std::size_t healthy_failures = 0; ///< episodes: a healthy member declared failed (once per incarnation)
    std::size_t slow_failures = 0;    ///< the same, of slow members
    std::size_t healthy_suspicions = 0;
    std::uint64_t refutations = 0;
};

fp_result false_positives(const options& o, std::size_t n, bool lifeguard, bool lossy, bool slow)
{
    const auto s = lan(o, lifeguard);
    const auto net = lan_network(lossy ? o.loss : 0.0);
    cluster c(n, s, gossip::mix_seed(o.seed, n * 31 + (slow ? 1 : 0) + (lossy ? 2 : 0)), net, {});
    std::vector<char> is_slow(n, 0);
    if (slow) {
        const auto count = static_cast<std::size_t>(std::llround(o.slow_fraction * static_cast<double>(n)));
        std::vector<std::uint32_t> order(n);
        for (std::uint32_t i = 0; i < n; ++i) {
            order[i] = i;
        }
        gossip::pcg32 rng(gossip::mix_seed(o.seed, 0x736c6f77));
        gossip::partial_shuffle(std::span(order), count, rng);
        for (std::size_t k = 0; k < count; ++k) {
            is_slow[order[k]] = 1;
            c.sim->set_slow(order[k], 0ns, o.slow_delay);
        }
    }
    const auto duration =
        std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::duration<double>(o.hours * 3600.0));
    fp_result out;
    out.member_hours = o.hours * static_cast<double>(n);
    std::set<std::pair<std::uint64_t, std::uint32_t>> episodes;
    std::size_t scanned = 0;
    for (auto t = 0ns; t < duration; t += 60s) {
        c.sim->run_for(std::min<std::chrono::nanoseconds>(60s, duration - t));
        for (; scanned < c.log.size(); ++scanned) {
            const auto& e = c.log[scanned].what;
            const bool of_slow = is_slow[e.id - 1] != 0;
            if (e.kind == event_kind::failed && episodes.insert({e.id, e.incarnation}).second) {
                ++(of_slow ? out.slow_failures : out.healthy_failures);
            }
            if (e.kind == event_kind::suspected && !of_slow) {
                ++out.healthy_suspicions;
            }
        }
        c.log.clear();
        scanned = 0;
    }
    for (std::size_t i = 0; i < n; ++i) {
        out.refutations += c.sim->node(i).payload().statistics().refutations;
    }
    return out;
}

void false_positive_table(const options& o, bool lossy, bool slow)
{
    std::printf("\n== false positives");
    if (lossy) {
        std::printf(" under %.0f %% message loss%s", 100 * o.loss, slow ? " and" : "");
    }
    if (slow) {
        std::printf(" with %.0f %% of the members slow (lags up to %.1f s)", 100 * o.slow_fraction,
                    seconds(o.slow_delay));
    }
    std::printf(", %.2f h simulated\n", o.hours);
    std::printf("%6s %10s | %16s %16s | %9s %9s | %14s %12s\n", "n", "lifeguard", "healthy FP/m-h", "slow FP/m-h",
                "healthy", "slow", "healthy susp.", "refutations");
    for (const std::size_t n : o.fp_nodes) {
        std::array<fp_result, 2> results{};
        for (int on = 1; on >= 0; --on) {
            const auto r = false_positives(o, n, on == 1, lossy, slow);
            results[static_cast<std::size_t>(on)] = r;
            std::printf("%6zu %10s | %16.4f %16.4f | %9zu %9zu | %14zu %12llu\n", n, on == 1 ? "on" : "off",
                        static_cast<double>(r.healthy_failures) / r.member_hours,
                        static_cast<double>(r.slow_failures) / r.member_hours, r.healthy_failures, r.slow_failures,
                        r.healthy_suspicions, static_cast<unsigned long long>(r.refutations));
            if (o.csv) {
                std::printf("csv scenario=%s n=%zu lifeguard=%s member_hours=%.2f healthy_fp=%zu slow_fp=%zu "
                            "healthy_suspicions=%zu refutations=%llu\n",
                            lossy && slow ? "combined"
                            : slow        ? "slow"
                                          : "loss",
                            n, on == 1 ? "on" : "off", r.member_hours, r.healthy_failures, r.slow_failures,
                            r.healthy_suspicions, static_cast<unsigned long long>(r.refutations));
            }
        }
        const auto total = [](const fp_result& r) { return r.healthy_failures + r.slow_failures; };
        const std::size_t with = total(results[1]);
        const std::size_t without = total(results[0]);
        if (with == 0 && without == 0) {
            std::printf("       no false positive with or without Lifeguard\n");
        } else if (with == 0) {
            std::printf("       all false positives: %zu without Lifeguard, none with it\n", without);
        } else {
            std::printf("       all false positives: %zu without Lifeguard, %zu with it: %.1fx fewer\n", without, with,
                        static_cast<double>(without) / static_cast<double>(with));
        }
    }
}

} // namespace

int main(int argc, char** argv)
{
    const options o = parse(argc, argv);
    const auto has = [&](const char* s) {
        return std::find(o.scenarios.begin(), o.scenarios.end(), s) != o.scenarios.end();
    };
    try {
        if (has("detection")) {
            detection(o, true);
            detection(o, false);
        }
        if (has("load")) {
            load(o);
        }
        if (has("loss")) {
            false_positive_table(o, true, false);
        }
        if (has("slow")) {
            false_positive_table(o, false, true);
        }
        if (has("combined")) {
            false_positive_table(o, true, true);
        }
    } catch (const std::exception& e) {
        std::fprintf(stderr, "swim_simulation: %s\n", e.what());
        return 1;
    }
    return 0;
}
