#pragma once

// The figures that compare rumor-mongering strategies (Demers et al. 1987): one update started
// at one node, followed round by round until no node spreads it any more.
//
//   residue   fraction of the live nodes never reached;
//   traffic   update messages (messages carrying at least one rumor) sent per live node;
//   t_avg     mean round at which the reached nodes got it (the origin at round 0);
//   t_last    round at which the last reached node got it;
//   bytes     every byte the network carried meanwhile, views included.

#include "../payload/rumor_set.hpp"
#include "simulator.hpp"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>
#include <stdexcept>
#include <vector>

namespace gossip::sim {

/// The figures of one dissemination (see the header comment), as Demers et al. report them.
struct dissemination_result {
    std::size_t live_nodes = 0;
    std::size_t reached = 0;    ///< live nodes that got the update, the origin included
    double residue = 0;         ///< fraction of the live nodes never reached
    double traffic = 0;         ///< update messages sent per live node
    double t_avg = 0;           ///< mean round at which the reached nodes got it
    std::size_t t_last = 0;     ///< round at which the last reached node got it
    std::size_t rounds = 0;     ///< until no node was infective, or the limit
    bool quiescent = false;     ///< false when the round limit stopped it
    std::uint64_t messages = 0; ///< datagrams sent, of every kind
    std::uint64_t bytes = 0;
    /// reached_by_round[r]: fraction of the live nodes reached after round r (index 0: start).
    std::vector<double> reached_by_round;
};

/// Bounds on one dissemination run.
struct dissemination_options {
    std::size_t max_rounds = 10000; ///< stop here even if some node still spreads the update
};

/// Starts one update at `origin` and runs rounds until no live node is infective. The nodes'
/// payloads are rumor_sets; their delivery handlers are borrowed for the run and cleared after.
template <simulated_node Node, class T>
dissemination_result disseminate(simulator<Node>& sim, std::size_t origin, T value,
                                 const dissemination_options& options = {})
{
    if (origin >= sim.size() || !sim.is_up(origin)) {
        throw std::invalid_argument("disseminate: the origin must be a live node");
    }
    constexpr auto never = std::numeric_limits<std::uint32_t>::max();
    struct clock {
        std::vector<std::uint32_t> first;
        std::uint32_t round = 0;
    } c;
    const std::size_t n = sim.size();
    c.first.assign(n, never);
    std::uint64_t updates_before = 0;
    for (std::size_t i = 0; i < n; ++i) {
        auto& p = sim.node(i).payload();
        updates_before += p.statistics().update_messages;
        clock* shared = &c;
        p.on_delivery([shared, i](payload::rumor_id, const auto&) {
            if (shared->first[i] == never) {
                shared->first[i] = shared->round;
            }
        });
    }
    const auto net_before = sim.network().statistics();
    std::size_t live = 0;
    for (std::size_t i = 0; i < n; ++i) {
        live += sim.is_up(i) ? 1 : 0;
    }

    dissemination_result out;
    out.live_nodes = live;
    const payload::rumor_id id = sim.node(origin).payload().broadcast(std::move(value));
    c.first[origin] = 0;
    std::size_t reached = 1;
    out.reached_by_round.push_back(live > 0 ? 1.0 / static_cast<double>(live) : 0.0);
    while (out.rounds < options.max_rounds) {
        ++c.round;
        sim.run_round();
        ++out.rounds;
        std::size_t infective = 0;
        reached = 0;
        for (std::size_t i = 0; i < n; ++i) {
            if (sim.is_up(i)) {
                reached += c.first[i] != never ? 1 : 0;
                infective += sim.node(i).payload().infective(id) ? 1 : 0;
            }
        }
        out.reached_by_round.push_back(static_cast<double>(reached) / static_cast<double>(live));
        if (infective == 0) {
            out.quiescent = true;
            break;
        }
    }

    std::uint64_t updates_after = 0;
    double sum = 0;
    for (std::size_t i = 0; i < n; ++i) {
        auto& p = sim.node(i).payload();
        updates_after += p.statistics().update_messages;
        p.on_delivery({});
        if (sim.is_up(i) && c.first[i] != never) {
            sum += c.first[i];
            out.t_last = std::max<std::size_t>(out.t_last, c.first[i]);
        }
    }
    const auto& net = sim.network().statistics();
    out.reached = reached;
    out.residue = live > 0 ? 1.0 - static_cast<double>(reached) / static_cast<double>(live) : 0.0;
    out.traffic = live > 0 ? static_cast<double>(updates_after - updates_before) / static_cast<double>(live) : 0.0;
    out.t_avg = reached > 0 ? sum / static_cast<double>(reached) : 0.0;
    out.messages = net.sent - net_before.sent;
    out.bytes = net.bytes_sent - net_before.bytes_sent;
    return out;
}

/// Mean and (sample) standard deviation of one figure over repeated runs.
struct spread_of {
    double mean = 0;
    double stddev = 0;
};

[[nodiscard]] inline spread_of mean_and_stddev(std::span<const double> xs)
{
    spread_of s;
    if (xs.empty()) {
        return s;
    }
    for (const double x : xs) {
        s.mean += x;
    }
    s.mean /= static_cast<double>(xs.size());
    if (xs.size() > 1) {
        double squares = 0;
        for (const double x : xs) {
            squares += (x - s.mean) * (x - s.mean);
        }
        s.stddev = std::sqrt(squares / static_cast<double>(xs.size() - 1));
    }
    return s;
}

/// The figures of several runs of the same experiment.
struct dissemination_summary {
    std::size_t runs = 0;
    spread_of residue, traffic, t_avg, t_last, bytes_per_node;
    /// Mean fraction reached after each round; runs that ended early count as flat after.
    std::vector<double> reached_by_round;
};

[[nodiscard]] inline dissemination_summary summarize(std::span<const dissemination_result> results)
{
    dissemination_summary s;
    s.runs = results.size();
    std::vector<double> xs(results.size());
    const auto figure = [&](auto get) {
        std::transform(results.begin(), results.end(), xs.begin(), get);
        return mean_and_stddev(xs);
    };
    s.residue = figure([](const auto& r) { return r.residue; });
    s.traffic = figure([](const auto& r) { return r.traffic; });
    s.t_avg = figure([](const auto& r) { return r.t_avg; });
    s.t_last = figure([](const auto& r) { return static_cast<double>(r.t_last); });
    s.bytes_per_node = figure([](const auto& r) {
        return r.live_nodes > 0 ? static_cast<double>(r.bytes) / static_cast<double>(r.live_nodes) : 0.0;
    });
    std::size_t longest = 0;
    for (const auto& r : results) {
        longest = std::max(longest, r.reached_by_round.size());
    }
    s.reached_by_round.assign(longest, 0.0);
    for (const auto& r : results) {
        for (std::size_t k = 0; k < longest; ++k) {
            s.reached_by_round[k] +=
                r.reached_by_round.empty() ? 0.0 : r.reached_by_round[std::min(k, r.reached_by_round.size() - 1)];
        }
    }
    for (auto& f : s.reached_by_round) {
        f /= results.empty() ? 1.0 : static_cast<double>(results.size());
    }
    return s;
}

} // namespace gossip::sim
