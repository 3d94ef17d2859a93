#pragma once

// Wall-clock timing shared by the benchmark programs that time simulated rounds by hand.

#include <benchmark/benchmark.h>

#include <chrono>

namespace bench {

inline double seconds_since(std::chrono::steady_clock::time_point start)
{
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

/// One round(sim) per benchmark iteration, each reported as the iteration's manual time (so
/// set-up stays out of the figure); returns the seconds timed in all.
template <class Simulator, class Round>
double timed_rounds(benchmark::State& state, Simulator& sim, Round round)
{
    double timed_seconds = 0.0;
    for (auto _ : state) {
        const auto start = std::chrono::steady_clock::now();
        round(sim);
        const double elapsed = seconds_since(start);
        state.SetIterationTime(elapsed);
        timed_seconds += elapsed;
    }
    return timed_seconds;
}

/// As above, with sim.run_round().
template <class Simulator>
double timed_rounds(benchmark::State& state, Simulator& sim)
{
    return timed_rounds(state, sim, [](Simulator& s) { s.run_round(); });
}

} // namespace bench
