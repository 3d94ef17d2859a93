#include <gossip/random.hpp>

#include <doctest/doctest.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <numeric>
#include <random>
#include <vector>

TEST_CASE("pcg32 replays the same sequence from the same seed and another from another seed")
{
    gossip::pcg32 a(42);
    gossip::pcg32 b(42);
    gossip::pcg32 c(43);
    bool differs = false;
    for (int i = 0; i < 1000; ++i) {
        const auto x = a();
        CHECK(x == b());
        differs = differs || x != c();
    }
    CHECK(differs);
}

TEST_CASE("pcg32 and mix_seed produce the pinned values every recorded simulation depends on")
{
    // Pinned so that a change to the generator, its seeding or the seed mixer, which would
    // silently change every simulation and every figure in bench/README.md, fails here first.
    gossip::pcg32 zero(0);
    CHECK(zero() == 3894649422U);
    CHECK(zero() == 2055130073U);
    CHECK(zero() == 2315086854U);
    gossip::pcg32 answer(42);
    CHECK(answer() == 3270867926U);
    CHECK(answer() == 1795671209U);
    CHECK(gossip::mix_seed(1, 0) == 10451216379200822465ULL);
}

TEST_CASE("random engines from the standard library model random_source")
{
    static_assert(gossip::random_source<gossip::pcg32>);
    static_assert(gossip::random_source<std::mt19937>);
    static_assert(!gossip::random_source<std::mt19937_64>); // 64-bit words: not what the policies draw
}

TEST_CASE("uniform_below stays below its bound and covers it evenly")
{
    gossip::pcg32 rng(7);
    constexpr std::uint32_t bound = 10;
    std::array<int, bound> counts{};
    constexpr int draws = 100000;
    for (int i = 0; i < draws; ++i) {
        const auto x = gossip::uniform_below(rng, bound);
        REQUIRE(x < bound);
        ++counts[x];
    }
    // Chi-square with 9 degrees of freedom; 27.9 is the 0.1% critical value. The seed is fixed,
    // so this cannot flake; it catches a biased reduction.
    double chi2 = 0;
    for (auto n : counts) {
        const double expected = draws / static_cast<double>(bound);
        chi2 += (n - expected) * (n - expected) / expected;
    }
    CHECK(chi2 < 27.9);
}

TEST_CASE("uniform_below with bound one always yields zero")
{
    gossip::pcg32 rng(1);
    for (int i = 0; i < 100; ++i) {
        CHECK(gossip::uniform_below(rng, 1) == 0);
    }
}

TEST_CASE("chance never fires at zero, always at one, and about p of the time in between")
{
    gossip::pcg32 rng(3);
    int zero = 0;
    int one = 0;
    int third = 0;
    for (int i = 0; i < 30000; ++i) {
        zero += gossip::chance(0.0)(rng) ? 1 : 0;
        one += gossip::chance(1.0)(rng) ? 1 : 0;
        third += gossip::chance(1.0 / 3)(rng) ? 1 : 0;
    }
    CHECK(zero == 0);
    CHECK(one == 30000);
    CHECK(third == doctest::Approx(10000).epsilon(0.05));
}

TEST_CASE("shuffle and partial_shuffle permute without losing or duplicating elements")
{
    gossip::pcg32 rng(5);
    std::vector<int> v(50);
    std::iota(v.begin(), v.end(), 0);
    gossip::shuffle(std::span(v), rng);
    auto sorted = v;
    std::sort(sorted.begin(), sorted.end());
    std::vector<int> expected(50);
    std::iota(expected.begin(), expected.end(), 0);
    CHECK(sorted == expected);
    CHECK(v != expected);

    gossip::partial_shuffle(std::span(v), 10, rng);
    sorted = v;
    std::sort(sorted.begin(), sorted.end());
    CHECK(sorted == expected);
}

TEST_CASE("partial_shuffle draws each element into the front equally often")
{
    gossip::pcg32 rng(11);
    std::array<int, 8> front_counts{};
    for (int trial = 0; trial < 40000; ++trial) {
        std::array<int, 8> v{0, 1, 2, 3, 4, 5, 6, 7};
        gossip::partial_shuffle(std::span<int>(v), 2, rng);
        ++front_counts[v[0]];
        ++front_counts[v[1]];
    }
    for (auto n : front_counts) {
        CHECK(n == doctest::Approx(10000).epsilon(0.05));
    }
}

TEST_CASE("mix_seed spreads neighbouring seeds and streams apart")
{
    CHECK(gossip::mix_seed(1, 0) != gossip::mix_seed(2, 0));
    CHECK(gossip::mix_seed(1, 0) != gossip::mix_seed(1, 1));
    CHECK(gossip::mix_seed(1, 2) == gossip::mix_seed(1, 2));
}
