#include "support.hpp"

#include <doctest/doctest.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

using gossip::payload::interest;
using gossip::payload::rumor_options;
using gossip::payload::spread;
using gossip::payload::stop;

namespace {

template <class ViewSelection, class Propagation>
using rumor_node = gossip::gossip_node<gossip::transport::in_memory, gossip::peer_selection::random, ViewSelection,
                                       Propagation, gossip::payload::rumor_set<std::uint32_t>>;

using shuffling_node = rumor_node<gossip::view_selection::blind, gossip::propagation::push_pull>;

template <class Node = shuffling_node>
gossip::sim::dissemination_result run_once(std::size_t n, const rumor_options& o, std::uint64_t seed, double loss = 0.0)
{
    gossip::transport::network_options net;
    net.loss = loss;
    gossip::sim::simulator<Node> sim(n, test::small_config(20), seed, net,
                                     [&](std::size_t) { return gossip::payload::rumor_set<std::uint32_t>(o); });
    sim.bootstrap(gossip::sim::random_graph{});
    sim.run(3);
    return gossip::sim::disseminate(sim, 0, std::uint32_t{42});
}

double mean_residue(std::size_t n, const rumor_options& o, int runs)
{
    double sum = 0;
    for (int r = 0; r < runs; ++r) {
        sum += run_once(n, o, 100 + static_cast<std::uint64_t>(r)).residue;
    }
    return sum / runs;
}

} // namespace

TEST_CASE("push-pull rumor mongering reaches every node and then falls silent")
{
    const auto r = run_once(500, test::rumor(spread::push_pull, interest::feedback, stop::counter, 6), 1);
    CHECK(r.quiescent);
    CHECK(r.reached == 500);
    CHECK(r.residue == 0.0);
    CHECK(r.t_last > 0);
    CHECK(r.t_avg <= static_cast<double>(r.t_last));
    CHECK(r.reached_by_round.back() == 1.0);
}

TEST_CASE("every node delivers the rumor exactly once")
{
    const auto o = test::rumor(spread::push_pull, interest::feedback, stop::counter, 6);
    gossip::sim::simulator<shuffling_node> sim(200, test::small_config(20), 7, {}, [&](std::size_t) {
        return gossip::payload::rumor_set<std::uint32_t>(o);
    });
    sim.bootstrap(gossip::sim::random_graph{});
    sim.node(5).payload().broadcast(9);
    sim.run(40);
    std::uint64_t duplicates = 0;
    for (std::size_t i = 0; i < sim.size(); ++i) {
        CHECK(sim.node(i).payload().statistics().delivered == (i == 5 ? 0U : 1U));
        duplicates += sim.node(i).payload().statistics().duplicates;
    }
    CHECK(duplicates > 0); // copies did arrive twice, and were suppressed
}

TEST_CASE("residue falls as k grows")
{
    const double k1 = mean_residue(400, test::rumor(spread::push, interest::feedback, stop::counter, 1), 10);
    const double k4 = mean_residue(400, test::rumor(spread::push, interest::feedback, stop::counter, 4), 10);
    CHECK(k1 > 0.05);
    CHECK(k4 < k1 / 4);
}

TEST_CASE("blind coin rumor mongering leaves a larger residue than feedback counter for the same k")
{
    const double coin = mean_residue(400, test::rumor(spread::push, interest::blind, stop::coin, 2), 10);
    const double counter = mean_residue(400, test::rumor(spread::push, interest::feedback, stop::counter, 2), 10);
    CHECK(coin > counter);
}

TEST_CASE("send to N peers for M rounds: infective exactly M rounds at every node")
{
    auto o = test::rumor(spread::push, interest::blind, stop::rounds, 1);
    o.rounds = 8;
    const auto r = run_once(300, o, 3);
    CHECK(r.quiescent);
    // The last node to learn it spreads it for M more rounds, and then everybody has stopped.
    CHECK(r.rounds <= r.t_last + 8 + 1);
    CHECK(r.residue < 0.02);
}

TEST_CASE("push, pull and push-pull each spread one rumor under a push-only view exchange")
{
    using push_view_node = rumor_node<gossip::view_selection::blind, gossip::propagation::push>;
    for (const auto mode : {spread::push, spread::pull, spread::push_pull}) {
        CAPTURE(static_cast<int>(mode));
        const auto r = run_once<push_view_node>(300, test::rumor(mode, interest::feedback, stop::counter, 4), 5);
        CHECK(r.quiescent);
        CHECK(r.residue < 0.05);
    }
}

TEST_CASE("a rumor spreads over a fixed overlay when views are frozen")
{
    using fixed = rumor_node<gossip::view_selection::frozen, gossip::propagation::push_pull>;
    const auto r = run_once<fixed>(300, test::rumor(spread::push_pull, interest::feedback, stop::counter, 6), 8);
    CHECK(r.residue == 0.0);
    CHECK(r.bytes < 300 * r.rounds * 2 * 64); // no view travels: headers and rumors only
}

TEST_CASE("rumor mongering still terminates under 30% message loss")
{
    const auto r = run_once(300, test::rumor(spread::push_pull, interest::feedback, stop::counter, 3), 9, 0.3);
    CHECK(r.quiescent);
    CHECK(r.residue < 0.1);
}

TEST_CASE("a dissemination run replays exactly from its seed")
{
    const auto o = test::rumor(spread::push, interest::blind, stop::coin, 2);
    const auto a = run_once(300, o, 11);
    const auto b = run_once(300, o, 11);
    CHECK(a.reached == b.reached);
    CHECK(a.bytes == b.bytes);
    CHECK(a.reached_by_round == b.reached_by_round);
}

TEST_CASE("summaries give the mean and the sample standard deviation")
{
    std::vector<gossip::sim::dissemination_result> rs(2);
    rs[0].residue = 0.1;
    rs[1].residue = 0.3;
    rs[0].reached_by_round = {0.5, 1.0};
    rs[1].reached_by_round = {0.5};
    const auto s = gossip::sim::summarize(rs);
    CHECK(s.residue.mean == doctest::Approx(0.2));
    CHECK(s.residue.stddev == doctest::Approx(0.1414213562));
    CHECK(s.reached_by_round == std::vector<double>{0.5, 0.75});
}
