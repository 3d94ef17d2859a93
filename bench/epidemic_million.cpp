// One rumor spread to 10^6 nodes in the abstract epidemic model (gossip::sim::epidemic): push,
// pull and push-pull, under the feedback-counter rule and under "spread for M rounds", each
// dissemination timed from the origin's first round until no node spreads the rumor any more.
// The full simulator needs tens of seconds for the same; see README.md next to this file for the
// figures and how they compare.

#include "heap_in_use.hpp"

#include <gossip/sim/epidemic.hpp>

#include <benchmark/benchmark.h>

#include <chrono>
#include <cstddef>
#include <cstdint>

namespace {

using gossip::payload::interest;
using gossip::payload::spread;
using gossip::payload::stop;
using gossip::sim::round_order;

constexpr std::size_t nodes = 1'000'000;
constexpr std::uint64_t seed = 42;

/// One dissemination per iteration, on a model built once per benchmark (its arrays are reused).
/// The origin changes every iteration. Time is the wall time of disseminate() (UseManualTime).
///
/// Counters (means over the iterations):
/// - rounds: rounds until no node was infective.
/// - t_last, t_avg: round at which the last node, and the average node, learned the rumor.
/// - residue: fraction of the nodes never reached.
/// - traffic: messages carrying the rumor, per node.
/// - ns_per_node_round: wall time / (nodes * rounds).
/// - bytes_per_node: heap the model holds, divided by the nodes (0 off glibc).
void BM_disseminate(benchmark::State& state, spread mode, stop rule, round_order order)
{
    gossip::sim::epidemic_options o;
    o.rumor.mode = mode;
    o.rumor.loss = interest::feedback;
    o.rumor.rule = rule;
    o.rumor.k = 2;
    o.rumor.rounds = 40;
    o.order = order;
    const std::size_t heap_before = bench::heap_in_use();
    gossip::sim::epidemic model(nodes, o, seed);
    const std::size_t heap_after = bench::heap_in_use();

    double rounds = 0;
    double t_last = 0;
    double t_avg = 0;
    double residue = 0;
    double traffic = 0;
    double seconds = 0;
    std::size_t origin = 0;
    for (auto _ : state) {
        const auto start = std::chrono::steady_clock::now();
        const auto r = gossip::sim::disseminate(model, origin);
        const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        state.SetIterationTime(elapsed);
        seconds += elapsed;
        rounds += static_cast<double>(r.rounds);
        t_last += static_cast<double>(r.t_last);
        t_avg += r.t_avg;
        residue += r.residue;
        traffic += r.traffic;
        origin = (origin + 7919) % nodes;
    }
    const auto average = [](double x) { return benchmark::Counter(x, benchmark::Counter::kAvgIterations); };
    state.counters["rounds"] = average(rounds);
    state.counters["t_last"] = average(t_last);
    state.counters["t_avg"] = average(t_avg);
    state.counters["residue"] = average(residue);
    state.counters["traffic"] = average(traffic);
    state.counters["ns_per_node_round"] = benchmark::Counter(rounds > 0 ? seconds * 1e9 / (rounds * nodes) : 0.0);
    state.counters["bytes_per_node"] =
        benchmark::Counter(static_cast<double>(heap_after - heap_before) / static_cast<double>(nodes));
}

#define GOSSIP_EPIDEMIC_BENCH(NAME, MODE, RULE, ORDER)                                                                 \
    BENCHMARK_CAPTURE(BM_disseminate, NAME, MODE, RULE, ORDER)                                                         \
        ->Iterations(3)                                                                                                \
        ->UseManualTime()                                                                                              \
        ->Unit(benchmark::kMillisecond)

// clang-format 14 would write a/b as a / b, and these names are stringised: kept as written.
// clang-format off
GOSSIP_EPIDEMIC_BENCH(push/counter_k2, spread::push, stop::counter, round_order::sequential);
GOSSIP_EPIDEMIC_BENCH(pull/counter_k2, spread::pull, stop::counter, round_order::sequential);
GOSSIP_EPIDEMIC_BENCH(push_pull/counter_k2, spread::push_pull, stop::counter, round_order::sequential);
GOSSIP_EPIDEMIC_BENCH(push/rounds_M40, spread::push, stop::rounds, round_order::sequential);
GOSSIP_EPIDEMIC_BENCH(pull/rounds_M40, spread::pull, stop::rounds, round_order::sequential);
GOSSIP_EPIDEMIC_BENCH(push_pull/rounds_M40, spread::push_pull, stop::rounds, round_order::sequential);
GOSSIP_EPIDEMIC_BENCH(push_pull/counter_k2/synchronous, spread::push_pull, stop::counter, round_order::synchronous);
GOSSIP_EPIDEMIC_BENCH(push_pull/rounds_M40/synchronous, spread::push_pull, stop::rounds, round_order::synchronous);
// clang-format on

} // namespace

BENCHMARK_MAIN();
