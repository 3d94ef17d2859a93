// The membership table measured: what a member costs a node in heap bytes, what merging a
// received datagram of entries costs, writing one, judging the table once a period, and a round
// of a simulated cluster that gossips its membership.
//
// See README.md next to this file for what each figure means, how to build and run, and the
// figures measured.

#include "heap_in_use.hpp"
#include "timing.hpp"

#include <gossip/gossip.hpp>

#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <numeric>
#include <span>
#include <vector>

namespace {

using address = gossip::transport::in_memory_address;
using table = gossip::payload::membership<address>;
using namespace std::chrono_literals;

constexpr std::uint64_t seed = 42;
constexpr std::size_t datagram = 1400; // the config's default

// Members' generations as clock readings of processes started within 67 ms of each other (2^26
// ns), so that the difference between two entries takes 4 bytes, as in a cluster started at once.
std::uint64_t generation_of(std::uint32_t id)
{
    return 1'000'000'000 + (gossip::mix_seed(seed, id) & ((std::uint64_t{1} << 26U) - 1));
}

// An entry on the wire: a 4-byte address, the generation's difference from the entry before
// (4 bytes) and the heartbeat's (1 byte, the same heartbeat throughout). The first entry takes
// 18: its generation from 0 in 5 bytes, and its heartbeat padded to 9 so that it can be
// rewritten in place.
constexpr std::size_t entry_bytes = 4 + 4 + 1;
constexpr std::size_t first_entry_bytes = 4 + 5 + 9;
constexpr std::size_t heartbeat_at = 2 + 4 + 5; // the first entry's heartbeat
constexpr std::size_t entries_per_datagram = 1 + (datagram - 2 - first_entry_bytes) / entry_bytes; // 154

// The heartbeat as a flagged varint padded to 9 bytes (a longer encoding than needed, which
// readers accept): 6 bits in the first byte, 7 in each of the next 8.
void write_padded_heartbeat(std::span<std::byte> at, std::uint64_t heartbeat)
{
    std::uint64_t v = gossip::wire::zigzag(heartbeat);
    at[0] = static_cast<std::byte>(0x80U | ((v & 0x3FU) << 1U));
    v >>= 6U;
    for (std::size_t i = 1; i < 9; ++i) {
        at[i] = static_cast<std::byte>((v & 0x7FU) | (i < 8 ? 0x80U : 0U));
        v >>= 7U;
    }
}

gossip::payload::membership_options long_timeouts()
{
    gossip::payload::membership_options o;
    o.t_fail = 1h; // nobody fails while measured
    o.t_cleanup = 2h;
    o.max_members = 1U << 20U;
    return o;
}

table started_table()
{
    table t(long_timeouts());
    t.start(gossip::payload_context<address>{address{0}, seed});
    t.on_period(1s);
    return t;
}

/// A section as a peer writes it: members `ids`, each at its generation_of(), all alive with the
/// given heartbeat.
std::vector<std::byte> section_of(std::span<const std::uint32_t> ids, std::uint64_t heartbeat)
{
    std::vector<std::byte> bytes(2 + first_entry_bytes + ids.size() * entry_bytes);
    gossip::wire::writer w{std::span(bytes)};
    w.u16(static_cast<std::uint16_t>(ids.size()));
    std::uint64_t previous = 0;
    for (const auto id : ids) {
        w.u32(id);
        gossip::wire::write_varint(w, gossip::wire::zigzag(generation_of(id) - previous));
        if (previous == 0) {
            if (w.size() != heartbeat_at) {
                return {};
            }
            write_padded_heartbeat(w.unused(), heartbeat);
            w.advance(9);
        } else {
            gossip::wire::write_varint_flagged(w, 0, false);
        }
        previous = generation_of(id);
    }
    if (!w.ok()) {
        return {};
    }
    bytes.resize(w.size());
    return bytes;
}

bool feed(table& t, std::span<const std::byte> bytes)
{
    gossip::wire::reader r(bytes);
    return t.read(r, gossip::wire::message_kind::request);
}

/// Teaches t the members 1..n in a random order, a datagram's worth at a time, as gossip would.
bool fill(table& t, std::size_t n)
{
    std::vector<std::uint32_t> ids(n);
    std::iota(ids.begin(), ids.end(), 1U);
    gossip::pcg32 rng(gossip::mix_seed(seed, n));
    gossip::shuffle(std::span(ids), rng);
    for (std::size_t at = 0; at < n; at += entries_per_datagram) {
        const auto chunk = std::span(ids).subspan(at, std::min(entries_per_datagram, n - at));
        if (!feed(t, section_of(chunk, 1))) {
            return false;
        }
    }
    return t.members().size() == n;
}

/// A table of state.range(0) = n members, built from empty by merging datagrams of 154 fresh
/// members each, in a random order. Each timed iteration builds a whole table.
///
/// Counters:
/// - bytes_per_member: heap bytes the table holds (its rows and its scratch), divided by n;
///   0 off glibc.
/// - table_bytes: the same, undivided: what each node of an n-member cluster holds.
/// - ns_per_member: build time divided by n.
void BM_table_bytes(benchmark::State& state)
{
    const auto n = static_cast<std::size_t>(state.range(0));
    double timed_seconds = 0.0;
    double bytes = 0.0;
    for (auto _ : state) {
        const std::size_t heap_before = bench::heap_in_use();
        const auto start = std::chrono::steady_clock::now();
        auto t = std::make_unique<table>(started_table());
        const bool ok = fill(*t, n);
        const double elapsed = bench::seconds_since(start);
        const std::size_t heap_after = bench::heap_in_use();
        if (!ok) {
            state.SkipWithError("the table did not learn every member");
            break;
        }
        state.SetIterationTime(elapsed);
        timed_seconds += elapsed;
        bytes = heap_after > heap_before ? static_cast<double>(heap_after - heap_before) : 0.0;
    }
    state.counters["bytes_per_member"] = benchmark::Counter(bytes / static_cast<double>(n));
    state.counters["table_bytes"] =
        benchmark::Counter(bytes, benchmark::Counter::kDefaults, benchmark::Counter::kIs1024);
    state.counters["ns_per_member"] =
        benchmark::Counter(timed_seconds * 1e9 / (static_cast<double>(n) * static_cast<double>(state.iterations())));
}

BENCHMARK(BM_table_bytes)
    ->ArgName("n")
    ->Arg(100)
    ->Arg(1'000)
    ->Arg(10'000)
    ->UseManualTime()
    ->MinTime(0.2)
    ->Unit(benchmark::kMicrosecond);

/// One read() of a full 1400-byte section (154 entries, no view) by a table of state.range(0) = n
/// members. The entries are a window of consecutive addresses, as a peer's rotation sends them;
/// the windows cycle through the table. With state.range(1) = newer = 1 every entry carries a
/// heartbeat higher than known (each iteration first rewrites the first entry's heartbeat, which
/// the others' differences follow); with newer = 0 the section was read before and changes
/// nothing.
///
/// Counters:
/// - ns_per_entry: time per entry merged.
void BM_merge_datagram(benchmark::State& state)
{
    const auto n = static_cast<std::size_t>(state.range(0));
    const bool newer = state.range(1) != 0;
    auto t = std::make_unique<table>(started_table());
    if (!fill(*t, n)) {
        state.SkipWithError("the table did not learn every member");
        return;
    }
    // A window holds each member at most once: a table smaller than a datagram is sent whole.
    const std::size_t per_window = std::min(entries_per_datagram, n);
    std::vector<std::vector<std::byte>> windows;
    for (std::size_t start = 0; start < n; start += per_window) {
        std::vector<std::uint32_t> ids(per_window);
        for (std::size_t k = 0; k < ids.size(); ++k) {
            ids[k] = static_cast<std::uint32_t>((start + k) % n + 1);
        }
        windows.push_back(section_of(ids, 1));
    }
    std::uint64_t heartbeat = 1;
    std::size_t next = 0;
    bool ok = true;
    for (auto _ : state) {
        auto& bytes = windows[next];
        next = (next + 1) % windows.size();
        if (newer) {
            ++heartbeat;
            write_padded_heartbeat(std::span(bytes).subspan(heartbeat_at, 9), heartbeat);
        }
        ok = feed(*t, bytes) && ok;
    }
    const auto expected = newer ? state.iterations() * per_window : 0;
    if (!ok || t->statistics().updates != n + expected) {
        state.SkipWithError("the datagrams were not merged as expected");
    }
    state.counters["ns_per_entry"] = benchmark::Counter(static_cast<double>(state.iterations() * per_window),
                                                        benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

BENCHMARK(BM_merge_datagram)
    ->ArgNames({"n", "newer"})
    ->ArgsProduct({{100, 1'000, 10'000}, {0, 1}})
    ->MinTime(0.2)
    ->Unit(benchmark::kMicrosecond);

/// One write() of a 1400-byte section from a table of state.range(0) = n members: the own entry
/// and the next 65 of the rotation (the whole table when it fits).
///
/// Counters:
/// - entries: entries per section.
void BM_write_datagram(benchmark::State& state)
{
    const auto n = static_cast<std::size_t>(state.range(0));
    auto t = std::make_unique<table>(started_table());
    if (!fill(*t, n)) {
        state.SkipWithError("the table did not learn every member");
        return;
    }
    std::vector<std::byte> buffer(datagram);
    const auto sent_before = t->statistics().entries_sent;
    for (auto _ : state) {
        gossip::wire::writer w{std::span(buffer)};
        t->write(w, gossip::wire::message_kind::request);
        benchmark::DoNotOptimize(buffer.data());
    }
    state.counters["entries"] = benchmark::Counter(static_cast<double>(t->statistics().entries_sent - sent_before) /
                                                   static_cast<double>(state.iterations()));
}

BENCHMARK(BM_write_datagram)->ArgName("n")->Arg(100)->Arg(1'000)->Arg(10'000)->MinTime(0.2);

/// One on_period() of a table of state.range(0) = n members, none of them quiet for long: a
/// heartbeat and a look at every member's timer.
void BM_period(benchmark::State& state)
{
    const auto n = static_cast<std::size_t>(state.range(0));
    auto t = std::make_unique<table>(started_table());
    if (!fill(*t, n)) {
        state.SkipWithError("the table did not learn every member");
        return;
    }
    for (auto _ : state) {
        t->on_period(2s);
    }
    if (t->alive_count() != n) {
        state.SkipWithError("members were judged failed");
    }
    state.counters["ns_per_member"] = benchmark::Counter(static_cast<double>(state.iterations() * n),
                                                         benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

BENCHMARK(BM_period)->ArgName("n")->Arg(100)->Arg(1'000)->Arg(10'000)->MinTime(0.2);

/// One round of a simulated cluster of state.range(0) = N nodes gossiping their membership
/// (random peer, blind views of c = 20, push-pull, 1400-byte datagrams), once every node knows
/// every other. t_fail allows 10 periods per window's worth of the table, so nobody is suspected.
///
/// Counters:
/// - bytes_per_node: heap bytes of the whole simulator after warm-up, divided by N (nodes, views,
///   network, and each node's table of N - 1 members).
/// - ns_per_node_cycle: round time / N.
/// - wire_B_per_node_cycle: bytes sent per node per round.
/// - known: the fraction of (node, member) pairs known alive after warm-up (1 when converged).
/// - setup_s: seconds to build and warm up (untimed).
void BM_cluster_round(benchmark::State& state)
{
    using node = gossip::gossip_node<gossip::transport::in_memory, gossip::peer_selection::random,
                                     gossip::view_selection::blind, gossip::propagation::push_pull, table>;
    const auto n = static_cast<std::size_t>(state.range(0));
    // At least 61 entries fit next to a view of c = 20 (more: the simulator starts every node at
    // the same time, so generations and heartbeats differ little and entries take 6 bytes).
    const std::size_t windows = (n + 60) / 61;
    gossip::payload::membership_options o;
    o.t_fail = std::chrono::seconds(10 * windows);
    o.t_cleanup = 2 * o.t_fail;
    gossip::config cfg;
    cfg.view_size = 20;

    const auto setup_start = std::chrono::steady_clock::now();
    const std::size_t heap_before = bench::heap_in_use();
    gossip::sim::simulator<node> sim(n, cfg, seed, {}, [&](std::size_t) { return table(o); });
    sim.bootstrap(gossip::sim::random_graph{});
    sim.run(20 + 10 * windows);
    const std::size_t heap_after = bench::heap_in_use();
    const double setup_seconds = bench::seconds_since(setup_start);
    std::size_t known = 0;
    for (std::size_t i = 0; i < n; ++i) {
        known += sim.node(i).payload().alive_count();
    }

    const auto before = sim.network().statistics();
    const double timed_seconds = bench::timed_rounds(state, sim);
    const auto after = sim.network().statistics();
    std::uint64_t failures = 0;
    for (std::size_t i = 0; i < n; ++i) {
        failures += sim.node(i).payload().statistics().failures_detected;
    }
    if (failures != 0) {
        state.SkipWithError("live members were suspected");
    }

    const auto node_cycles = static_cast<double>(n) * static_cast<double>(state.iterations());
    state.counters["bytes_per_node"] = benchmark::Counter(
        heap_after > heap_before ? static_cast<double>(heap_after - heap_before) / static_cast<double>(n) : 0.0);
    state.counters["ns_per_node_cycle"] = benchmark::Counter(timed_seconds * 1e9 / node_cycles);
    state.counters["wire_B_per_node_cycle"] =
        benchmark::Counter(static_cast<double>(after.bytes_sent - before.bytes_sent) / node_cycles);
    state.counters["known"] =
        benchmark::Counter(static_cast<double>(known) / (static_cast<double>(n) * static_cast<double>(n - 1)));
    state.counters["setup_s"] = benchmark::Counter(setup_seconds);
}

BENCHMARK(BM_cluster_round)
    ->ArgName("N")
    ->Arg(100)
    ->Arg(1'000)
    ->Iterations(20)
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);

} // namespace

BENCHMARK_MAIN();
