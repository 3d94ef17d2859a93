#include "support.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <array>
#include <set>
#include <vector>

using gossip::config;
using test::address;
using test::descriptor;

namespace {

gossip::view<address> make_view(const std::vector<descriptor>& items)
{
    gossip::view<address> v;
    v.storage() = items;
    return v;
}

std::set<std::uint32_t> ids(const gossip::view<address>& v)
{
    std::set<std::uint32_t> out;
    for (const auto& d : v) {
        out.insert(d.address.index);
    }
    return out;
}

template <class Selection>
void merge(Selection s, gossip::view<address>& v, const std::vector<descriptor>& received, const config& cfg,
           std::uint64_t seed = 1)
{
    gossip::pcg32 rng(seed);
    s.merge(v, std::span<const descriptor>(received), cfg, rng);
}

/// How often each address (by index, up to 15) is in the buffer `Selection` prepares from
/// `items`, over `trials` seeds.
template <class Selection>
std::array<int, 16> sent_counts(const std::vector<descriptor>& items, std::size_t k, const config& cfg, int trials)
{
    std::array<int, 16> sent{};
    for (int t = 0; t < trials; ++t) {
        auto v = make_view(items);
        gossip::pcg32 rng(static_cast<std::uint64_t>(t));
        const auto n = Selection{}.prepare(v, k, cfg, rng);
        REQUIRE(n == std::min(k, items.size()));
        for (std::size_t i = 0; i < n; ++i) {
            ++sent[v[i].address.index];
        }
    }
    return sent;
}

} // namespace

TEST_CASE_TEMPLATE("a merge never leaves more than c descriptors or an address twice", Selection,
                   gossip::view_selection::random, gossip::view_selection::head, gossip::view_selection::tail,
                   gossip::view_selection::healer, gossip::view_selection::swapper, gossip::view_selection::generalized)
{
    gossip::pcg32 rng(99);
    config cfg = test::small_config(10);
    cfg.healer = 2;
    cfg.swapper = 3;
    Selection selection;
    gossip::view<address> v;
    for (int round = 0; round < 500; ++round) {
        std::vector<descriptor> received;
        std::set<std::uint32_t> seen;
        const auto m = gossip::uniform_below(rng, 8);
        while (received.size() < m) {
            const auto id = gossip::uniform_below(rng, 40) + 1;
            if (seen.insert(id).second) {
                received.push_back(descriptor{address{id}, gossip::uniform_below(rng, 20)});
            }
        }
        const auto sent = selection.prepare(v, 4, cfg, rng);
        CHECK(sent <= std::min<std::size_t>(4, v.size()));
        selection.merge(v, std::span<const descriptor>(received), cfg, rng);
        REQUIRE(v.size() <= 10);
        REQUIRE(v.well_formed(address{0}, 10));
        v.increase_age();
    }
}

TEST_CASE("a duplicate address keeps the younger of its two ages")
{
    auto v = make_view(test::descriptors({{1, 5}, {2, 1}}));
    merge(gossip::view_selection::random{}, v, test::descriptors({{1, 2}, {2, 7}}), test::small_config(4));
    REQUIRE(v.size() == 2);
    CHECK(v[v.find(address{1})].age == 2);
    CHECK(v[v.find(address{2})].age == 1);
}

TEST_CASE("below c, a merge keeps everything")
{
    auto v = make_view(test::descriptors({{1, 5}}));
    merge(gossip::view_selection::tail{}, v, test::descriptors({{2, 0}, {3, 0}}), test::small_config(4));
    CHECK(ids(v) == std::set<std::uint32_t>{1, 2, 3});
}

TEST_CASE("healer drops the oldest descriptors first")
{
    // c = 4, H = c/2 = 2: the two oldest of the six go.
    auto v = make_view(test::descriptors({{1, 0}, {2, 1}, {3, 9}, {4, 8}}));
    merge(gossip::view_selection::healer{}, v, test::descriptors({{5, 0}, {6, 2}}), test::small_config(4));
    CHECK(ids(v) == std::set<std::uint32_t>{1, 2, 5, 6});
}

TEST_CASE("swapper drops the descriptors at the head of the view, which are the ones just sent")
{
    // c = 4, S = c/2 = 2: descriptors 1 and 2 were sent, so they are given away.
    auto v = make_view(test::descriptors({{1, 0}, {2, 0}, {3, 7}, {4, 7}}));
    merge(gossip::view_selection::swapper{}, v, test::descriptors({{5, 3}, {6, 3}}), test::small_config(4));
    CHECK(ids(v) == std::set<std::uint32_t>{3, 4, 5, 6});
}

TEST_CASE("head view selection keeps the youngest descriptors")
{
    auto v = make_view(test::descriptors({{1, 3}, {2, 4}, {3, 5}, {4, 6}}));
    merge(gossip::view_selection::head{}, v, test::descriptors({{5, 0}, {6, 1}}), test::small_config(4));
    CHECK(ids(v) == std::set<std::uint32_t>{1, 2, 5, 6});
}

TEST_CASE("tail view selection keeps the oldest descriptors")
{
    auto v = make_view(test::descriptors({{1, 3}, {2, 4}, {3, 5}, {4, 6}}));
    merge(gossip::view_selection::tail{}, v, test::descriptors({{5, 0}, {6, 1}}), test::small_config(4));
    CHECK(ids(v) == std::set<std::uint32_t>{1, 2, 3, 4});
}

TEST_CASE("random view selection keeps each candidate with equal probability")
{
    std::array<int, 7> kept{};
    constexpr int trials = 30000;
    for (int t = 0; t < trials; ++t) {
        auto v = make_view(test::descriptors({{1, 0}, {2, 0}, {3, 0}, {4, 0}}));
        merge(gossip::view_selection::random{}, v, test::descriptors({{5, 0}, {6, 0}}), test::small_config(4),
              static_cast<std::uint64_t>(t));
        for (const auto& d : v) {
            ++kept[d.address.index];
        }
    }
    for (std::uint32_t id = 1; id <= 6; ++id) {
        CHECK(kept[id] == doctest::Approx(trials * 4.0 / 6.0).epsilon(0.03));
    }
}

TEST_CASE("generalized selection takes H and S from the config")
{
    config cfg = test::small_config(4);
    cfg.healer = 0;
    cfg.swapper = 2;
    auto v = make_view(test::descriptors({{1, 0}, {2, 0}, {3, 7}, {4, 7}}));
    merge(gossip::view_selection::generalized{}, v, test::descriptors({{5, 3}, {6, 3}}), cfg);
    CHECK(ids(v) == std::set<std::uint32_t>{3, 4, 5, 6});

    cfg.healer = 2;
    cfg.swapper = 0;
    v = make_view(test::descriptors({{1, 0}, {2, 1}, {3, 9}, {4, 8}}));
    merge(gossip::view_selection::generalized{}, v, test::descriptors({{5, 0}, {6, 2}}), cfg);
    CHECK(ids(v) == std::set<std::uint32_t>{1, 2, 5, 6});
}

TEST_CASE("healer applies H before S before random removal")
{
    // c = 6, H = 1, S = 2, nine candidates: the oldest (4) goes, then the head two (1, 2), and
    // nothing is left to remove at random.
    config cfg = test::small_config(6);
    cfg.healer = 1;
    cfg.swapper = 2;
    auto v = make_view(test::descriptors({{1, 0}, {2, 0}, {3, 2}, {4, 9}, {5, 3}, {6, 1}}));
    merge(gossip::view_selection::generalized{}, v, test::descriptors({{7, 0}, {8, 0}, {9, 0}}), cfg);
    CHECK(ids(v) == std::set<std::uint32_t>{3, 5, 6, 7, 8, 9});
}

TEST_CASE("prepare never puts the H oldest descriptors into the buffer")
{
    config cfg = test::small_config(8); // healer preset: H = 4
    for (std::uint64_t seed = 0; seed < 200; ++seed) {
        auto v = make_view(test::descriptors({{1, 7}, {2, 0}, {3, 6}, {4, 1}, {5, 5}, {6, 2}, {7, 4}, {8, 3}}));
        gossip::pcg32 rng(seed);
        const auto n = gossip::view_selection::healer{}.prepare(v, 3, cfg, rng);
        REQUIRE(n == 3);
        for (std::size_t i = 0; i < n; ++i) {
            CHECK(v[i].age < 4);
        }
        CHECK(v.size() == 8);
    }
}

TEST_CASE("prepare picks the buffer uniformly among the descriptors it may send")
{
    constexpr int trials = 20000;
    const auto sent = sent_counts<gossip::view_selection::random>(
        test::descriptors({{1, 0}, {2, 0}, {3, 0}, {4, 0}, {5, 0}, {6, 0}, {7, 0}, {8, 0}}), 2, test::small_config(8),
        trials);
    for (std::uint32_t id = 1; id <= 8; ++id) {
        CHECK(sent[id] == doctest::Approx(trials * 2.0 / 8.0).epsilon(0.05));
    }
}

TEST_CASE("ages saturate instead of wrapping to fresh")
{
    auto v = make_view(test::descriptors({{1, 0xFFFFFFFFU}, {2, 3}}));
    v.increase_age();
    CHECK(v[0].age == 0xFFFFFFFFU);
    CHECK(v[1].age == 4);
}

TEST_CASE("ages spread wider than the fast path's histogram still cut exactly")
{
    // The oldest two of ages {0, 1000, 5, 70000} are 70000 and 1000.
    auto v = make_view(test::descriptors({{1, 0}, {2, 1000}, {3, 5}, {4, 70000}}));
    merge(gossip::view_selection::head{}, v, test::descriptors({{5, 2}, {6, 3}}), test::small_config(4));
    CHECK(ids(v) == std::set<std::uint32_t>{1, 3, 5, 6});
}

TEST_CASE("a fresher copy of a descriptor that was just sent survives the swapper")
{
    // Descriptors 1 and 2 were sent (they sit at the head), and 2 comes back fresher. The fresh
    // copy takes the tail, so swapping away the head gives up 1 and the stale 3, not 2.
    config cfg = test::small_config(4);
    cfg.swapper = 2;
    auto v = make_view(test::descriptors({{1, 0}, {2, 3}, {3, 5}, {4, 7}}));
    merge(gossip::view_selection::generalized{}, v, test::descriptors({{2, 1}, {5, 0}, {6, 0}}), cfg);
    CHECK(ids(v) == std::set<std::uint32_t>{2, 4, 5, 6});
    REQUIRE(v.contains(address{2}));
    CHECK(v[v.find(address{2})].age == 1);
}

TEST_CASE("an older copy of a known descriptor is dropped and the known one keeps its place")
{
    auto v = make_view(test::descriptors({{1, 2}, {2, 3}}));
    merge(gossip::view_selection::random{}, v, test::descriptors({{1, 9}}), test::small_config(4));
    REQUIRE(v.size() == 2);
    CHECK(v[0] == descriptor{address{1}, 2});
}

TEST_CASE("when the young cannot fill the buffer, the oldest fill it uniformly")
{
    // c = 8, healer preset: H = 4 of the 4 descriptors are "oldest", so the buffer of 3 comes
    // from them, and each must be sent about 3/4 of the time.
    constexpr int trials = 8000;
    const auto sent = sent_counts<gossip::view_selection::healer>(test::descriptors({{1, 0}, {2, 1}, {3, 2}, {4, 3}}),
                                                                  3, test::small_config(8), trials);
    for (std::uint32_t id = 1; id <= 4; ++id) {
        CHECK(sent[id] == doctest::Approx(trials * 3.0 / 4.0).epsilon(0.04));
    }
}

TEST_CASE("with healer, prepare draws the buffer uniformly among the young")
{
    // c = 8, H = 4: the four youngest (ages 0..3) are each sent 2/4 of the time.
    constexpr int trials = 8000;
    const auto sent = sent_counts<gossip::view_selection::healer>(
        test::descriptors({{1, 7}, {2, 0}, {3, 6}, {4, 1}, {5, 5}, {6, 2}, {7, 4}, {8, 3}}), 2, test::small_config(8),
        trials);
    for (std::uint32_t id : {2U, 4U, 6U, 8U}) {
        CHECK(sent[id] == doctest::Approx(trials / 2.0).epsilon(0.05));
    }
    for (std::uint32_t id : {1U, 3U, 5U, 7U}) {
        CHECK(sent[id] == 0);
    }
}

TEST_CASE("a view of more than 255 descriptors, 280 of one age, drops exactly its H oldest, the earlier first")
{
    // 280 descriptors of age 5 (more than a byte counts), then 20 of age 9, then the 20 of age
    // 9 again among them: H = 10 takes the first ten of age 9 in view order.
    std::vector<descriptor> items;
    for (std::uint32_t i = 0; i < 300; ++i) {
        items.push_back(descriptor{address{i + 1}, i >= 140 && i < 160 ? 9U : 5U});
    }
    config cfg = test::small_config(300);
    cfg.healer = 10;
    cfg.swapper = 0;
    auto v = make_view(items);
    std::vector<descriptor> received;
    for (std::uint32_t i = 0; i < 10; ++i) {
        received.push_back(descriptor{address{1000 + i}, 0});
    }
    merge(gossip::view_selection::generalized{}, v, received, cfg);
    REQUIRE(v.size() == 300);
    for (std::uint32_t i = 141; i <= 150; ++i) {
        CHECK_FALSE(v.contains(address{i}));
    }
    for (std::uint32_t i = 151; i <= 160; ++i) {
        CHECK(v.contains(address{i}));
    }
}

TEST_CASE("a view of more than 255 descriptors never sends its H oldest")
{
    std::vector<descriptor> items;
    for (std::uint32_t i = 0; i < 400; ++i) {
        items.push_back(descriptor{address{i + 1}, i % 40}); // ten of each age 0..39
    }
    config cfg = test::small_config(400);
    cfg.healer = 200; // the ages 20..39
    for (std::uint64_t seed = 0; seed < 20; ++seed) {
        auto v = make_view(items);
        gossip::pcg32 rng(seed);
        const auto n = gossip::view_selection::generalized{}.prepare(v, 150, cfg, rng);
        REQUIRE(n == 150);
        REQUIRE(v.size() == 400);
        for (std::size_t i = 0; i < n; ++i) {
            CHECK(v[i].age < 20);
        }
        CHECK(ids(v).size() == 400);
    }
}

TEST_CASE("ages are counted exactly past 255 of one age: the buffer takes the young beyond 280 old ones")
{
    // 280 descriptors of age 9, then 20 of age 5. H = 290: the 280 and the first ten of age 5
    // are the oldest, and the buffer of ten is the last ten, whatever the draws.
    std::vector<descriptor> items;
    for (std::uint32_t i = 0; i < 300; ++i) {
        items.push_back(descriptor{address{i + 1}, i < 280 ? 9U : 5U});
    }
    config cfg = test::small_config(300);
    cfg.healer = 290;
    for (std::uint64_t seed = 0; seed < 5; ++seed) {
        auto v = make_view(items);
        gossip::pcg32 rng(seed);
        REQUIRE(gossip::view_selection::generalized{}.prepare(v, 10, cfg, rng) == 10);
        std::set<std::uint32_t> sent;
        for (std::size_t i = 0; i < 10; ++i) {
            sent.insert(v[i].address.index);
        }
        CHECK(sent == std::set<std::uint32_t>{291, 292, 293, 294, 295, 296, 297, 298, 299, 300});
    }
}
