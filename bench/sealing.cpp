// What sealing costs a datagram: transport::sealed<> around a transport that only counts what it
// is handed, against the same transport bare, in one run. BM_seal is the sending side (header,
// ChaCha20, Poly1305), BM_open the receiving side (tag check, decryption, replay window), for
// datagrams of the sizes SWIM and the heartbeat table send (21, 29, 256, 1,400 bytes).
//
//   cmake --build build/release --target sealing && build/release/bench/sealing

#include "keeping_transport.hpp"

#include <gossip/transport/in_memory.hpp>
#include <gossip/transport/sealed.hpp>

#include <benchmark/benchmark.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

namespace {

using gossip::transport::in_memory_address;

using counting = bench::keeping_transport;

gossip::transport::keyring keys()
{
    gossip::transport::keyring k;
    gossip::transport::sealing_key key;
    key.id = 1;
    for (std::size_t i = 0; i < key.bytes.size(); ++i) {
        key.bytes[i] = static_cast<std::byte>(i * 7 + 1);
    }
    k.install(key);
    return k;
}

gossip::transport::sealed_options options()
{
    gossip::transport::sealed_options o;
    o.label = "bench";
    return o;
}

void BM_plain_send(benchmark::State& state)
{
    counting t;
    const std::vector<std::byte> datagram(static_cast<std::size_t>(state.range(0)), std::byte{0x5a});
    for (auto _ : state) {
        benchmark::DoNotOptimize(t.send(in_memory_address{1}, datagram));
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * state.range(0));
}

void BM_seal(benchmark::State& state)
{
    gossip::transport::sealed<counting> t(counting{}, keys(), options());
    const std::vector<std::byte> datagram(static_cast<std::size_t>(state.range(0)), std::byte{0x5a});
    for (auto _ : state) {
        benchmark::DoNotOptimize(t.send(in_memory_address{1}, datagram));
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * state.range(0));
}

void BM_open(benchmark::State& state)
{
    // Datagrams sealed in advance, each opened once (a replay would be refused and cheaper).
    constexpr std::size_t batch = 4096;
    gossip::transport::sealed<counting> sender(counting{}, keys(), options());
    const std::vector<std::byte> datagram(static_cast<std::size_t>(state.range(0)), std::byte{0x5a});
    std::vector<std::vector<std::byte>> sealed;
    for (std::size_t i = 0; i < batch; ++i) {
        (void)sender.send(in_memory_address{1}, datagram);
        sealed.push_back(sender.inner().last);
    }
    std::size_t next = batch;
    std::uint64_t opened = 0;
    std::optional<gossip::transport::sealed<counting>> receiver;
    for (auto _ : state) {
        if (next == batch) {
            state.PauseTiming();
            receiver.emplace(counting{}, keys(), options()); // a fresh replay window
            next = 0;
            state.ResumeTiming();
        }
        opened += receiver->inbound(in_memory_address{0}, sealed[next++],
                                    [](std::span<const std::byte> plain) { benchmark::DoNotOptimize(plain.data()); })
                      ? 1
                      : 0;
    }
    if (opened != static_cast<std::uint64_t>(state.iterations())) {
        state.SkipWithError("a datagram was refused");
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * state.range(0));
}

} // namespace

BENCHMARK(BM_plain_send)->Arg(21)->Arg(29)->Arg(256)->Arg(1400);
BENCHMARK(BM_seal)->Arg(21)->Arg(29)->Arg(256)->Arg(1400);
BENCHMARK(BM_open)->Arg(21)->Arg(29)->Arg(256)->Arg(1400);

BENCHMARK_MAIN();
