// When transport::compressed pays. First, the ratio on real traffic: every datagram of four
// simulated clusters (SWIM idle, SWIM forming through one seed, the heartbeat table, and
// anti-entropy replicas of an agent-style log) goes through compressed<>'s send path, and the
// table gives bytes offered, bytes sent and the share of datagrams that shrank. Then, with Google
// Benchmark, what compressing and expanding cost per datagram, on datagrams captured from those
// runs, beside a plain copy of the same bytes.
//
//   cmake --build build/release --target compression && build/release/bench/compression

#include "keeping_transport.hpp"

#include <gossip/gossip_node.hpp>
#include <gossip/payload/anti_entropy.hpp>
#include <gossip/payload/lww_map.hpp>
#include <gossip/payload/membership.hpp>
#include <gossip/payload/swim.hpp>
#include <gossip/peer_selection/random.hpp>
#include <gossip/propagation/push.hpp>
#include <gossip/propagation/push_pull.hpp>
#include <gossip/transport/compressed.hpp>
#include <gossip/transport/in_memory.hpp>
#include <gossip/view_selection/blind.hpp>
#include <gossip/view_selection/frozen.hpp>
#include <gossip/view_selection/healer.hpp>

#include <benchmark/benchmark.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <span>
#include <string>
#include <utility>
#include <vector>

namespace {

using namespace std::chrono_literals;
using gossip::transport::in_memory;
using gossip::transport::in_memory_address;
using gossip::transport::in_memory_network;

// compressed<counting>::send is the sending side without a network.
using counting = bench::keeping_transport;

// Sees every datagram of a run, compresses it, and keeps the largest as a benchmark sample.
struct meter {
    gossip::transport::compressed<counting> compressor{counting{}};
    std::vector<std::byte> sample;
    bool on = true;

    void see(std::span<const std::byte> bytes)
    {
        if (!on) {
            return;
        }
        (void)compressor.send(in_memory_address{1}, bytes);
        if (bytes.size() > sample.size()) {
            sample.assign(bytes.begin(), bytes.end());
        }
    }
};

// Steps a cluster on simulated time: deliveries (metered), payload timers, and a tick each period.
template <class Node>
void run(in_memory_network& net, std::vector<Node>& nodes, meter& m, std::chrono::milliseconds period,
         std::chrono::milliseconds duration, std::chrono::milliseconds step = 10ms)
{
    const auto end = net.now() + duration;
    auto next_tick = net.now();
    while (net.now() < end) {
        net.advance(step);
        net.deliver([&](in_memory_address from, in_memory_address to, std::span<const std::byte> bytes) {
            m.see(bytes);
            nodes[to.index].on_datagram(from, bytes);
        });
        for (auto& x : nodes) {
            x.on_timer();
        }
        if (net.now() >= next_tick) {
            next_tick += period;
            for (auto& x : nodes) {
                x.tick();
            }
        }
    }
}

using swim = gossip::payload::swim<in_memory_address>;
using swim_node = gossip::gossip_node<in_memory, gossip::peer_selection::random, gossip::view_selection::frozen,
                                      gossip::propagation::push, swim>;

std::vector<swim_node> swim_cluster(in_memory_network& net, std::uint32_t n, gossip::config& cfg, bool formed)
{
    const auto o = gossip::payload::swim_options::lan();
    cfg.period = std::chrono::duration_cast<std::chrono::milliseconds>(o.gossip_interval);
    std::vector<swim_node> nodes;
    std::vector<gossip::payload::swim_known_member<in_memory_address>> everyone;
    for (std::uint32_t i = 0; i < n; ++i) {
        everyone.push_back({std::uint64_t{i} + 1, in_memory_address{i}});
    }
    for (std::uint32_t i = 0; i < n; ++i) {
        auto oi = o;
        oi.id = std::uint64_t{i} + 1;
        nodes.emplace_back(net.endpoint(in_memory_address{i}), cfg, 7 + i, gossip::peer_selection::random{},
                           gossip::view_selection::frozen{}, swim(oi));
        if (formed) {
            nodes.back().payload().preload(everyone);
        }
    }
    return nodes;
}

meter swim_idle(std::uint32_t n)
{
    in_memory_network net(n);
    gossip::config cfg;
    auto nodes = swim_cluster(net, n, cfg, true);
    meter m;
    m.on = false;
    run(net, nodes, m, cfg.period, 5s); // past the first probes
    m.on = true;
    run(net, nodes, m, cfg.period, 30s);
    return m;
}

meter swim_forming(std::uint32_t n)
{
    in_memory_network net(n);
    gossip::config cfg;
    auto nodes = swim_cluster(net, n, cfg, false);
    meter m;
    const std::vector<in_memory_address> seed{in_memory_address{0}};
    for (std::uint32_t i = 1; i < n; ++i) {
        nodes[i].join(seed);
        run(net, nodes, m, cfg.period, 50ms);
    }
    run(net, nodes, m, cfg.period, 20s);
    return m;
}

meter heartbeat_table(std::uint32_t n)
{
    using membership = gossip::payload::membership<in_memory_address>;
    using node = gossip::gossip_node<in_memory, gossip::peer_selection::random, gossip::view_selection::healer,
                                     gossip::propagation::push_pull, membership>;
    in_memory_network net(n);
    gossip::config cfg;
    cfg.view_size = 20;
    std::vector<node> nodes;
    for (std::uint32_t i = 0; i < n; ++i) {
        nodes.emplace_back(net.endpoint(in_memory_address{i}), cfg, 11 + i);
    }
    for (std::uint32_t i = 1; i < n; ++i) {
        const std::vector<in_memory_address> contact{in_memory_address{i - 1}};
        nodes[i].join(contact);
    }
    meter m;
    m.on = false;
    run(net, nodes, m, cfg.period, 20s);
    m.on = true;
    run(net, nodes, m, cfg.period, 30s);
    return m;
}

meter anti_entropy_log(std::uint32_t replicas, int entries_each)
{
    using store = gossip::payload::lww_map<std::string, std::string>;
    using kv = gossip::payload::anti_entropy<store>;
    using node = gossip::gossip_node<in_memory, gossip::peer_selection::random, gossip::view_selection::blind,
                                     gossip::propagation::push_pull, kv>;
    in_memory_network net(replicas);
    gossip::config cfg;
    cfg.view_size = replicas - 1;
    std::vector<node> nodes;
    for (std::uint32_t i = 0; i < replicas; ++i) {
        nodes.emplace_back(net.endpoint(in_memory_address{i}), cfg, 31 + i);
    }
    for (std::uint32_t i = 0; i < replicas; ++i) {
        std::vector<in_memory_address> others;
        for (std::uint32_t j = 0; j < replicas; ++j) {
            if (j != i) {
                others.push_back(in_memory_address{j});
            }
        }
        nodes[i].join(others);
        // As gossip_agent writes them: "address#sequence" -> the line a user typed.
        for (int k = 1; k <= entries_each; ++k) {
            nodes[i].payload().put("127.0.0.1:" + std::to_string(7001 + i) + "#" + std::to_string(k),
                                   "deploy " + std::to_string(4800 + k) + " finished on web-" + std::to_string(i) +
                                       " (eu-west-1a, 12 of 12 checks green)");
        }
    }
    meter m;
    run(net, nodes, m, cfg.period, 60s);
    return m;
}

struct scenario {
    const char* name;
    meter result;
};

std::vector<scenario>& scenarios()
{
    static std::vector<scenario> all;
    return all;
}

void report()
{
    scenarios().push_back({"SWIM, 64 members, idle (30 s)", swim_idle(64)});
    scenarios().push_back({"SWIM, 64 members joining one seed", swim_forming(64)});
    scenarios().push_back({"heartbeat table, 64 members", heartbeat_table(64)});
    scenarios().push_back({"anti-entropy, 8 replicas x 200 log lines", anti_entropy_log(8, 200)});
    std::printf("%-42s %10s %12s %12s %8s %8s\n", "traffic", "datagrams", "bytes", "compressed", "ratio", "shrank");
    for (const auto& s : scenarios()) {
        const auto& st = s.result.compressor.statistics();
        const auto datagrams = st.compressed_sent + st.raw_sent;
        std::printf("%-42s %10llu %12llu %12llu %8.3f %7.1f%%\n", s.name, static_cast<unsigned long long>(datagrams),
                    static_cast<unsigned long long>(st.bytes_offered), static_cast<unsigned long long>(st.bytes_sent),
                    st.ratio(),
                    datagrams == 0 ? 0.0
                                   : 100.0 * static_cast<double>(st.compressed_sent) / static_cast<double>(datagrams));
    }
    std::printf("(ratio: bytes sent over bytes offered; shrank: datagrams sent compressed)\n\n");
}

// The largest datagram each scenario sent, compressed and expanded, beside a copy.
void BM_copy(benchmark::State& state)
{
    const auto& sample = scenarios().at(static_cast<std::size_t>(state.range(0))).result.sample;
    counting t;
    for (auto _ : state) {
        benchmark::DoNotOptimize(t.send(in_memory_address{1}, sample));
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * sample.size()));
    state.SetLabel(std::to_string(sample.size()) + " B, " +
                   scenarios().at(static_cast<std::size_t>(state.range(0))).name);
}

void BM_compress(benchmark::State& state)
{
    const auto& sample = scenarios().at(static_cast<std::size_t>(state.range(0))).result.sample;
    gossip::transport::compressed<counting> t{counting{}};
    for (auto _ : state) {
        benchmark::DoNotOptimize(t.send(in_memory_address{1}, sample));
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * sample.size()));
    state.counters["ratio"] = t.statistics().ratio();
    state.SetLabel(std::to_string(sample.size()) + " B, " +
                   scenarios().at(static_cast<std::size_t>(state.range(0))).name);
}

void BM_expand(benchmark::State& state)
{
    const auto& sample = scenarios().at(static_cast<std::size_t>(state.range(0))).result.sample;
    gossip::transport::compressed<counting> t{counting{}};
    (void)t.send(in_memory_address{1}, sample);
    const std::vector<std::byte> wire = t.inner().last;
    std::size_t handed = 0;
    for (auto _ : state) {
        benchmark::DoNotOptimize(
            t.inbound(in_memory_address{1}, wire, [&](std::span<const std::byte> b) { handed += b.size(); }));
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(handed));
    state.SetLabel(std::to_string(wire.size()) + " B on the wire");
}

} // namespace

BENCHMARK(BM_copy)->DenseRange(0, 3);
BENCHMARK(BM_compress)->DenseRange(0, 3);
BENCHMARK(BM_expand)->DenseRange(0, 3);

int main(int argc, char** argv)
{
    benchmark::Initialize(&argc, argv);
    report();
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
