// The Merkle tree that anti-entropy will compare stores with, measured: what a comparison costs
// (time, and hashes and items on the wire) against the store size n and the number of differing
// items d, what an update costs, and how many heap bytes an item takes.
//
// See README.md next to this file for what each figure means, how to build and run, and the
// figures measured.

#include "heap_in_use.hpp"

#include <gossip/payload/merkle_tree.hpp>
#include <gossip/random.hpp>

#include <benchmark/benchmark.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <vector>

namespace {

using gossip::payload::merkle_item;
using gossip::payload::merkle_tree;

constexpr std::uint64_t seed = 42;

std::uint64_t draw64(gossip::pcg32& rng)
{
    const std::uint64_t high = rng();
    return (high << 32U) | rng();
}

/// n items with random 64-bit keys and digests, as a caller that hashes its keys would insert.
std::vector<merkle_item> random_items(std::size_t n, std::uint64_t salt)
{
    gossip::pcg32 rng(gossip::mix_seed(seed, salt));
    std::vector<merkle_item> out(n);
    for (auto& item : out) {
        item.key = draw64(rng);
        item.digest = draw64(rng);
    }
    return out;
}

merkle_tree tree_of(const std::vector<merkle_item>& items)
{
    merkle_tree t;
    for (const auto& item : items) {
        t.insert_or_assign(item.key, item.digest);
    }
    return t;
}

/// One replica's store of n items, built once per n and shared by every benchmark instance:
/// building 10^6 items takes a noticeable part of a second.
struct store {
    std::vector<merkle_item> items;
    merkle_tree tree;
};

const store& store_of(std::size_t n)
{
    static std::map<std::size_t, store> cache;
    auto [it, inserted] = cache.try_emplace(n);
    if (inserted) {
        it->second.items = random_items(n, n);
        it->second.tree = tree_of(it->second.items);
    }
    return it->second;
}

/// A comparison between a replica of state.range(0) = n items and one that differs from it in
/// state.range(1) = d items: a third of them reassigned (new digest), a third removed, a third
/// added. Each timed iteration is one diff(a, b): every round trip of the protocol, both sides'
/// work, in one process. Building the trees is not timed.
///
/// Counters (per comparison):
/// - hashes: summaries exchanged (a's root summary and every child summary b sent).
/// - items: (key, digest) pairs b sent.
/// - probes: node ids a sent after the opening.
/// - round_trips: request and answer pairs, each batching one level's probes.
/// - hashes_per_difference: hashes / d (for d > 0).
void BM_diff(benchmark::State& state)
{
    const auto n = static_cast<std::size_t>(state.range(0));
    const auto d = static_cast<std::size_t>(state.range(1));
    const store& base = store_of(n);
    merkle_tree b = base.tree;
    gossip::pcg32 rng(gossip::mix_seed(seed, 1000 + d));
    for (std::size_t i = 0; i < d; ++i) { // the keys are random, so the first d are a random choice
        switch (i % 3) {
        case 0: b.insert_or_assign(base.items[i].key, draw64(rng)); break;
        case 1: b.erase(base.items[i].key); break;
        default: {
            const std::uint64_t key = draw64(rng);
            b.insert_or_assign(key, draw64(rng));
            break;
        }
        }
    }

    gossip::payload::merkle_diff result;
    for (auto _ : state) {
        result = gossip::payload::diff(base.tree, b);
        benchmark::DoNotOptimize(result.missing_in_a.data());
        benchmark::DoNotOptimize(result.missing_in_b.data());
    }
    // A reassigned key is missing on both sides; the others on one.
    if (result.missing_in_a.size() + result.missing_in_b.size() != d + (d + 2) / 3) {
        state.SkipWithError("diff did not find the differences");
    }
    state.counters["hashes"] = benchmark::Counter(static_cast<double>(result.hashes));
    state.counters["items"] = benchmark::Counter(static_cast<double>(result.items));
    state.counters["probes"] = benchmark::Counter(static_cast<double>(result.probes));
    state.counters["round_trips"] = benchmark::Counter(static_cast<double>(result.round_trips));
    state.counters["hashes_per_difference"] =
        benchmark::Counter(d == 0 ? 0.0 : static_cast<double>(result.hashes) / static_cast<double>(d));
}

BENCHMARK(BM_diff)
    ->ArgNames({"n", "d"})
    ->ArgsProduct({{1'000, 10'000, 100'000, 1'000'000}, {0, 1, 10, 100, 1'000}})
    ->MinTime(0.2)
    ->Unit(benchmark::kMicrosecond);

/// Building a tree of state.range(0) = n random items from empty, one insert_or_assign per item.
/// Each timed iteration builds a whole tree (and destroys it untimed).
///
/// Counters:
/// - ns_per_insert: wall time of the build divided by n.
/// - bytes_per_item: heap bytes the finished tree holds, divided by n; 0 off glibc.
void BM_insert(benchmark::State& state)
{
    const auto n = static_cast<std::size_t>(state.range(0));
    const auto items = random_items(n, 7);
    double timed_seconds = 0.0;
    double bytes = 0.0;
    for (auto _ : state) {
        const std::size_t heap_before = bench::heap_in_use();
        const auto start = std::chrono::steady_clock::now();
        merkle_tree t;
        for (const auto& item : items) {
            t.insert_or_assign(item.key, item.digest);
        }
        benchmark::DoNotOptimize(t.root());
        const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        const std::size_t heap_after = bench::heap_in_use();
        state.SetIterationTime(elapsed);
        timed_seconds += elapsed;
        bytes = heap_after > heap_before ? static_cast<double>(heap_after - heap_before) : 0.0;
    }
    const auto inserts = static_cast<double>(n) * static_cast<double>(state.iterations());
    state.counters["ns_per_insert"] = benchmark::Counter(timed_seconds * 1e9 / inserts);
    state.counters["bytes_per_item"] = benchmark::Counter(bytes / static_cast<double>(n));
}

BENCHMARK(BM_insert)
    ->ArgName("n")
    ->Arg(1'000)
    ->Arg(10'000)
    ->Arg(100'000)
    ->Arg(1'000'000)
    ->UseManualTime()
    ->MinTime(0.5)
    ->Unit(benchmark::kMillisecond);

/// Updates in a tree of state.range(0) = n items, one per timed iteration, cycling through
/// 4096 random keys: a new digest for a present key (reassign), or the removal of a present key
/// followed by its insertion (erase_insert, two updates per iteration; the item leaves and
/// returns, so buckets split and merge at the boundary).
void BM_reassign(benchmark::State& state)
{
    const auto n = static_cast<std::size_t>(state.range(0));
    const store& base = store_of(n);
    merkle_tree t = base.tree;
    constexpr std::size_t touched = 4096;
    std::uint64_t digest = 0;
    std::size_t next = 0;
    for (auto _ : state) {
        const auto& item = base.items[(next * 7919) % n]; // a stride that spreads over the store
        t.insert_or_assign(item.key, ++digest);
        next = (next + 1) % touched;
    }
    benchmark::DoNotOptimize(t.root());
}

void BM_erase_insert(benchmark::State& state)
{
    const auto n = static_cast<std::size_t>(state.range(0));
    const store& base = store_of(n);
    merkle_tree t = base.tree;
    constexpr std::size_t touched = 4096;
    std::size_t next = 0;
    for (auto _ : state) {
        const auto& item = base.items[(next * 7919) % n];
        t.erase(item.key);
        t.insert_or_assign(item.key, item.digest);
        next = (next + 1) % touched;
    }
    if (t.root() != base.tree.root()) {
        state.SkipWithError("erase and insert did not restore the tree");
    }
}

BENCHMARK(BM_reassign)->ArgName("n")->Arg(1'000)->Arg(1'000'000)->MinTime(0.2);
BENCHMARK(BM_erase_insert)->ArgName("n")->Arg(1'000)->Arg(1'000'000)->MinTime(0.2);

} // namespace

BENCHMARK_MAIN();
