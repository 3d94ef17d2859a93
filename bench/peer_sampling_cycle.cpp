// One peer-sampling cycle, measured: a synchronous round of gossip::sim::simulator at 10^4, 10^5
// and 10^6 nodes for several policy compositions, plus micro benchmarks of the pieces of an
// exchange (the wire format, and a view selection's prepare + merge) to guide optimisation.
//
// See README.md next to this file for what each figure means, how to build and run, and the
// figures measured.

#include "heap_in_use.hpp"
#include "timing.hpp"

#include <gossip/gossip.hpp>

#include <benchmark/benchmark.h>

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace {

using address = gossip::transport::in_memory_address;

template <class PeerSelection, class ViewSelection, class Propagation>
using node = gossip::gossip_node<gossip::transport::in_memory, PeerSelection, ViewSelection, Propagation>;

// The compositions measured; the names show in the benchmark names.
using rand_blind_pushpull =
    node<gossip::peer_selection::random, gossip::view_selection::blind, gossip::propagation::push_pull>;
using tail_healer_pushpull =
    node<gossip::peer_selection::tail, gossip::view_selection::healer, gossip::propagation::push_pull>;
using tail_swapper_pushpull =
    node<gossip::peer_selection::tail, gossip::view_selection::swapper, gossip::propagation::push_pull>;
using rand_rand_push = node<gossip::peer_selection::random, gossip::view_selection::random, gossip::propagation::push>;

constexpr std::size_t view_size = 30;     // c
constexpr std::size_t warm_up_rounds = 5; // bootstrap views are fresh; a few rounds age and mix them
constexpr std::uint64_t seed = 42;

gossip::config bench_config()
{
    gossip::config cfg;
    cfg.view_size = view_size; // everything else at its default (fanout 1, 1400-byte datagrams)
    return cfg;
}

// --- one round -----------------------------------------------------------------------------

/// One synchronous round (every node ticks once, every exchange runs to completion) of a
/// simulator of state.range(0) nodes, in steady state. The simulator is built once per
/// benchmark instance, outside the timed loop.
///
/// Counters (all per node, per round, so comparable across N):
/// - ns_per_node_cycle: nanoseconds of wall time per node per round (round time / N); the
///   "under 1 s per 10^6-node cycle" target is ns_per_node_cycle < 1000.
/// - bytes_per_node: heap bytes the simulator holds after bootstrap and warm-up, divided by N
///   (nodes, views, network queues and arenas, the policies' scratch buffers); 0 off glibc.
/// - msgs_per_node_cycle: datagrams sent per node per round (network_statistics::sent).
/// - wire_B_per_node_cycle: bytes of those datagrams per node per round.
/// - setup_s: seconds to construct the simulator and bootstrap its views (not timed).
/// - warm_up_s: seconds of the warm-up rounds that follow (not timed either).
template <class Node>
void BM_round(benchmark::State& state)
{
    const auto n = static_cast<std::size_t>(state.range(0));

    const auto setup_start = std::chrono::steady_clock::now();
    const std::size_t heap_before = bench::heap_in_use();
    gossip::sim::simulator<Node> sim(n, bench_config(), seed);
    sim.bootstrap(gossip::sim::random_graph{});
    const double setup_seconds = bench::seconds_since(setup_start);
    const auto warm_up_start = std::chrono::steady_clock::now();
    sim.run(warm_up_rounds);
    const double warm_up_seconds = bench::seconds_since(warm_up_start);
    const std::size_t heap_after = bench::heap_in_use();

    const auto before = sim.network().statistics();
    const double timed_seconds = bench::timed_rounds(state, sim);
    const auto after = sim.network().statistics();

    const auto node_cycles = static_cast<double>(n) * static_cast<double>(state.iterations());
    state.counters["ns_per_node_cycle"] = benchmark::Counter(timed_seconds * 1e9 / node_cycles);
    state.counters["bytes_per_node"] = benchmark::Counter(
        heap_after > heap_before ? static_cast<double>(heap_after - heap_before) / static_cast<double>(n) : 0.0);
    state.counters["msgs_per_node_cycle"] =
        benchmark::Counter(static_cast<double>(after.sent - before.sent) / node_cycles);
    state.counters["wire_B_per_node_cycle"] =
        benchmark::Counter(static_cast<double>(after.bytes_sent - before.bytes_sent) / node_cycles);
    state.counters["setup_s"] = benchmark::Counter(setup_seconds);
    state.counters["warm_up_s"] = benchmark::Counter(warm_up_seconds);
}

// Iteration counts are fixed so that the whole program stays around two minutes on a 2-core VM:
// at 10^6 nodes one round takes on the order of a second and setup several.
#define GOSSIP_BENCH_ROUND(NODE)                                                                                       \
    BENCHMARK_TEMPLATE(BM_round, NODE)                                                                                 \
        ->Arg(10'000)                                                                                                  \
        ->Arg(100'000)                                                                                                 \
        ->Iterations(10)                                                                                               \
        ->UseManualTime()                                                                                              \
        ->Unit(benchmark::kMillisecond);                                                                               \
    BENCHMARK_TEMPLATE(BM_round, NODE)->Arg(1'000'000)->Iterations(3)->UseManualTime()->Unit(benchmark::kMillisecond)

GOSSIP_BENCH_ROUND(rand_blind_pushpull);
GOSSIP_BENCH_ROUND(tail_healer_pushpull);
GOSSIP_BENCH_ROUND(tail_swapper_pushpull);
GOSSIP_BENCH_ROUND(rand_rand_push);

/// One synchronous round over state.range(1) threads (simulator::run_synchronous_round) of
/// state.range(0) nodes, in steady state: the parallel round's figures, to set beside BM_round's.
/// The same counters as BM_round (setup, warm-up and wire counters left out); compare the one-
/// thread and many-thread instances of one run for the speedup.
template <class Node>
void BM_synchronous_round(benchmark::State& state)
{
    const auto n = static_cast<std::size_t>(state.range(0));
    const auto threads = static_cast<std::size_t>(state.range(1));
    gossip::sim::simulator<Node> sim(n, bench_config(), seed);
    sim.bootstrap(gossip::sim::random_graph{});
    sim.run_synchronous(warm_up_rounds, threads);
    const double timed_seconds =
        bench::timed_rounds(state, sim, [threads](auto& s) { s.run_synchronous_round(threads); });
    const auto node_cycles = static_cast<double>(n) * static_cast<double>(state.iterations());
    state.counters["ns_per_node_cycle"] = benchmark::Counter(timed_seconds * 1e9 / node_cycles);
    state.counters["threads"] = benchmark::Counter(static_cast<double>(threads));
}

// Threads 1 and 2: the machines these figures come from have two cores. Add ->Args({n, k}) for more.
#define GOSSIP_BENCH_SYNCHRONOUS(NODE)                                                                                 \
    BENCHMARK_TEMPLATE(BM_synchronous_round, NODE)                                                                     \
        ->Args({100'000, 1})                                                                                           \
        ->Args({100'000, 2})                                                                                           \
        ->Iterations(10)                                                                                               \
        ->UseManualTime()                                                                                              \
        ->Unit(benchmark::kMillisecond);                                                                               \
    BENCHMARK_TEMPLATE(BM_synchronous_round, NODE)                                                                     \
        ->Args({1'000'000, 1})                                                                                         \
        ->Args({1'000'000, 2})                                                                                         \
        ->Iterations(3)                                                                                                \
        ->UseManualTime()                                                                                              \
        ->Unit(benchmark::kMillisecond)

GOSSIP_BENCH_SYNCHRONOUS(rand_blind_pushpull);
GOSSIP_BENCH_SYNCHRONOUS(tail_healer_pushpull);

// --- the pieces ----------------------------------------------------------------------------

constexpr std::size_t full_buffer = gossip::buffer_size(gossip::config{.view_size = view_size}); // 14 at c = 30
static_assert(full_buffer == 14);

std::vector<gossip::descriptor<address>> sample_descriptors(std::size_t count, std::uint64_t salt)
{
    gossip::pcg32 rng(gossip::mix_seed(seed, salt));
    std::vector<gossip::descriptor<address>> out(count);
    for (auto& d : out) {
        d.address = address{static_cast<std::uint32_t>(gossip::uniform_index(rng, 1'000'000))};
        d.age = gossip::uniform_below(rng, 20);
    }
    return out;
}

/// Writes the request a node sends at c = 30: its address, 14 descriptors, no payload.
bool encode_request(std::span<std::byte> buffer, std::span<const gossip::descriptor<address>> sent,
                    gossip::wire::writer& w)
{
    w = gossip::wire::writer{buffer};
    return gossip::wire::encode(w, gossip::wire::message_kind::request, address{7}, &sent,
                                [](gossip::wire::writer& /*out*/) {});
}

/// Encoding a full request into a 1400-byte buffer.
void BM_wire_encode(benchmark::State& state)
{
    const auto descriptors = sample_descriptors(full_buffer, 1);
    const std::span<const gossip::descriptor<address>> sent(descriptors);
    std::vector<std::byte> buffer(bench_config().max_message_bytes);
    gossip::wire::writer w{std::span(buffer)};
    for (auto _ : state) {
        const bool ok = encode_request(std::span(buffer), sent, w);
        benchmark::DoNotOptimize(ok);
        benchmark::DoNotOptimize(buffer.data());
        benchmark::ClobberMemory();
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * static_cast<std::int64_t>(w.size()));
    state.counters["datagram_bytes"] = benchmark::Counter(static_cast<double>(w.size()));
}

/// Decoding (and validating) a full request, with the receiver's limit of c descriptors.
void BM_wire_decode(benchmark::State& state)
{
    const auto descriptors = sample_descriptors(full_buffer, 1);
    std::vector<std::byte> buffer(bench_config().max_message_bytes);
    gossip::wire::writer w{std::span(buffer)};
    if (!encode_request(std::span(buffer), descriptors, w)) {
        state.SkipWithError("encode failed");
        return;
    }
    const auto datagram = w.written();
    std::vector<gossip::descriptor<address>> received;
    received.reserve(view_size);
    for (auto _ : state) {
        benchmark::DoNotOptimize(datagram.data());
        const auto msg = gossip::wire::decode<address>(datagram, view_size, received);
        benchmark::DoNotOptimize(msg);
        benchmark::DoNotOptimize(received.data());
        benchmark::ClobberMemory();
    }
    if (received != descriptors) {
        state.SkipWithError("decode did not give back what was encoded");
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * static_cast<std::int64_t>(datagram.size()));
}

/// Encode followed by decode of a full request: the wire cost of one datagram, both ends.
void BM_wire_encode_decode(benchmark::State& state)
{
    const auto descriptors = sample_descriptors(full_buffer, 1);
    const std::span<const gossip::descriptor<address>> sent(descriptors);
    std::vector<std::byte> buffer(bench_config().max_message_bytes);
    gossip::wire::writer w{std::span(buffer)};
    std::vector<gossip::descriptor<address>> received;
    received.reserve(view_size);
    for (auto _ : state) {
        const bool ok = encode_request(std::span(buffer), sent, w);
        const auto msg = gossip::wire::decode<address>(w.written(), view_size, received);
        benchmark::DoNotOptimize(ok);
        benchmark::DoNotOptimize(msg);
        benchmark::DoNotOptimize(received.data());
        benchmark::ClobberMemory();
    }
    if (received != descriptors) {
        state.SkipWithError("decode did not give back what was encoded");
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * static_cast<std::int64_t>(w.size()));
}

BENCHMARK(BM_wire_encode);
BENCHMARK(BM_wire_decode);
BENCHMARK(BM_wire_encode_decode);

/// One side of an exchange for a view selection, on a full view of c = 30: prepare the 14
/// descriptors to send, then merge a received sample of 15 (14 + the sender's own), then age
/// the view. The samples come from a fixed pool of random addresses among 10^4, so that some
/// overlap the view, as they do in a small overlay.
template <class ViewSelection>
void BM_view_exchange(benchmark::State& state)
{
    const auto cfg = bench_config();
    constexpr std::size_t pool = 256;
    std::vector<std::vector<gossip::descriptor<address>>> samples;
    samples.reserve(pool);
    gossip::pcg32 rng(gossip::mix_seed(seed, 3));
    for (std::size_t s = 0; s < pool; ++s) {
        std::vector<gossip::descriptor<address>> sample;
        while (sample.size() < full_buffer + 1) {
            const address a{static_cast<std::uint32_t>(1 + gossip::uniform_index(rng, 10'000))};
            bool seen = false;
            for (const auto& d : sample) {
                seen = seen || d.address == a;
            }
            if (!seen) {
                sample.push_back({a, gossip::uniform_below(rng, 8)});
            }
        }
        samples.push_back(std::move(sample));
    }

    gossip::view<address> v;
    v.storage().reserve(cfg.view_size);
    for (std::uint32_t i = 0; i < cfg.view_size; ++i) {
        v.storage().push_back({address{20'000 + i}, i % 8});
    }
    ViewSelection policy{};
    std::size_t next = 0;
    for (auto _ : state) {
        const std::size_t sent = policy.prepare(v, full_buffer, cfg, rng);
        benchmark::DoNotOptimize(sent);
        policy.merge(v, std::span<const gossip::descriptor<address>>(samples[next]), cfg, rng);
        v.increase_age();
        next = (next + 1) % pool;
        benchmark::DoNotOptimize(v.descriptors().data());
        benchmark::ClobberMemory();
    }
    if (v.size() != cfg.view_size) {
        state.SkipWithError("the view did not stay full");
    }
}

BENCHMARK_TEMPLATE(BM_view_exchange, gossip::view_selection::blind);
BENCHMARK_TEMPLATE(BM_view_exchange, gossip::view_selection::healer);
BENCHMARK_TEMPLATE(BM_view_exchange, gossip::view_selection::swapper);

} // namespace

BENCHMARK_MAIN();
