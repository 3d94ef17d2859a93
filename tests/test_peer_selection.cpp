#include "support.hpp"

#include <doctest/doctest.h>

#include <array>
#include <set>
#include <vector>

using test::address;
using test::descriptor;

namespace {

template <class Selection>
std::vector<std::size_t> select(Selection s, const std::vector<descriptor>& view, std::size_t k, gossip::pcg32& rng)
{
    std::vector<std::size_t> chosen(k, 999);
    const auto n = s.select(std::span<const descriptor>(view), std::span(chosen), rng);
    chosen.resize(n);
    return chosen;
}

} // namespace

TEST_CASE_TEMPLATE("every peer selection returns distinct indices within the view", Selection,
                   gossip::peer_selection::random, gossip::peer_selection::head, gossip::peer_selection::tail)
{
    gossip::pcg32 rng(1);
    const auto view = test::descriptors({{1, 3}, {2, 3}, {3, 1}, {4, 9}, {5, 3}});
    for (std::size_t k = 0; k <= 7; ++k) {
        const auto chosen = select(Selection{}, view, k, rng);
        CHECK(chosen.size() == std::min<std::size_t>(k, view.size()));
        std::set<std::size_t> distinct(chosen.begin(), chosen.end());
        CHECK(distinct.size() == chosen.size());
        for (auto i : chosen) {
            CHECK(i < view.size());
        }
    }
}

TEST_CASE_TEMPLATE("no peer is selected from an empty view", Selection, gossip::peer_selection::random,
                   gossip::peer_selection::head, gossip::peer_selection::tail)
{
    gossip::pcg32 rng(1);
    CHECK(select(Selection{}, {}, 3, rng).empty());
}

TEST_CASE("tail selects the oldest descriptor")
{
    gossip::pcg32 rng(1);
    const auto view = test::descriptors({{1, 3}, {2, 8}, {3, 1}, {4, 5}});
    CHECK(select(gossip::peer_selection::tail{}, view, 1, rng) == std::vector<std::size_t>{1});
    CHECK(select(gossip::peer_selection::tail{}, view, 2, rng) == std::vector<std::size_t>{1, 3});
}

TEST_CASE("head selects the youngest descriptor")
{
    gossip::pcg32 rng(1);
    const auto view = test::descriptors({{1, 3}, {2, 8}, {3, 1}, {4, 5}});
    CHECK(select(gossip::peer_selection::head{}, view, 1, rng) == std::vector<std::size_t>{2});
    CHECK(select(gossip::peer_selection::head{}, view, 2, rng) == std::vector<std::size_t>{2, 0});
}

TEST_CASE("tail breaks ties between equally old descriptors at random")
{
    gossip::pcg32 rng(5);
    const auto view = test::descriptors({{1, 4}, {2, 1}, {3, 4}, {4, 4}});
    std::array<int, 4> picked{};
    for (int t = 0; t < 3000; ++t) {
        ++picked[select(gossip::peer_selection::tail{}, view, 1, rng).at(0)];
    }
    CHECK(picked[1] == 0);
    CHECK(picked[0] > 800);
    CHECK(picked[2] > 800);
    CHECK(picked[3] > 800);
}

TEST_CASE("random selects every peer equally often")
{
    gossip::pcg32 rng(9);
    const auto view = test::descriptors({{1, 0}, {2, 9}, {3, 4}, {4, 4}, {5, 1}});
    std::array<int, 5> picked{};
    constexpr int trials = 25000;
    for (int t = 0; t < trials; ++t) {
        for (auto i : select(gossip::peer_selection::random{}, view, 2, rng)) {
            ++picked[i];
        }
    }
    for (auto n : picked) {
        CHECK(n == doctest::Approx(trials * 2.0 / 5.0).epsilon(0.04));
    }
}
