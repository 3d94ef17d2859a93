#include <gossip/payload/merkle_tree.hpp>
#include <gossip/random.hpp>

#include <doctest/doctest.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <map>
#include <vector>

using gossip::payload::merkle_delta;
using gossip::payload::merkle_item;
using gossip::payload::merkle_node_id;
using gossip::payload::merkle_probe;
using gossip::payload::merkle_probe_kind;
using gossip::payload::merkle_summary;
using gossip::payload::merkle_tree;

namespace {

using store = std::map<std::uint64_t, std::uint64_t>; // the reference: key -> digest

std::uint64_t draw64(gossip::pcg32& rng)
{
    const std::uint64_t high = rng();
    return (high << 32U) | rng();
}

/// A random item. Two draw64 calls in one argument list would run in an unspecified order, and
/// g++ and clang++ would then test different data.
merkle_item draw_item(gossip::pcg32& rng)
{
    const std::uint64_t key = draw64(rng);
    return {key, draw64(rng)};
}

store random_store(gossip::pcg32& rng, std::size_t n)
{
    store s;
    while (s.size() < n) {
        const merkle_item item = draw_item(rng);
        s.emplace(item.key, item.digest);
    }
    return s;
}

merkle_tree tree_of(const store& s)
{
    merkle_tree t;
    for (const auto& [key, digest] : s) {
        t.insert_or_assign(key, digest);
    }
    return t;
}

std::vector<merkle_item> all_items(const merkle_tree& t)
{
    std::vector<merkle_item> out;
    t.items(merkle_node_id::root(), out);
    return out;
}

std::vector<merkle_item> items_of(const store& s)
{
    std::vector<merkle_item> out;
    for (const auto& [key, digest] : s) {
        out.push_back({key, digest});
    }
    return out;
}

/// The symmetric difference as diff() reports it, computed directly.
struct expected_difference {
    std::vector<std::uint64_t> missing_in_a;
    std::vector<std::uint64_t> missing_in_b;
};

expected_difference difference_of(const store& a, const store& b)
{
    expected_difference out;
    for (const auto& [key, digest] : b) {
        const auto it = a.find(key);
        if (it == a.end() || it->second != digest) {
            out.missing_in_a.push_back(key);
        }
    }
    for (const auto& [key, digest] : a) {
        const auto it = b.find(key);
        if (it == b.end() || it->second != digest) {
            out.missing_in_b.push_back(key);
        }
    }
    return out;
}

/// A copy of `s` that differs from it in d items: a third reassigned, a third removed, a third
/// added.
store with_changes(const store& s, std::size_t d, gossip::pcg32& rng)
{
    store out = s;
    std::vector<std::uint64_t> keys;
    for (const auto& [key, digest] : s) {
        keys.push_back(key);
    }
    gossip::shuffle(std::span(keys), rng);
    for (std::size_t i = 0; i < d; ++i) {
        switch (i % 3) {
        case 0: out[keys[i]] = draw64(rng); break;
        case 1: out.erase(keys[i]); break;
        default: {
            const merkle_item item = draw_item(rng);
            out.emplace(item.key, item.digest);
            break;
        }
        }
    }
    return out;
}

/// The mean number of hashes diff() exchanges between a tree of n random items and a copy that
/// differs in d of them, over a few seeds. Built without a reference store, to stay fast at 10^5.
double mean_hashes(std::size_t n, std::size_t d)
{
    constexpr int runs = 5;
    std::size_t total = 0;
    for (int run = 0; run < runs; ++run) {
        gossip::pcg32 rng(gossip::mix_seed(n, static_cast<std::uint64_t>(run)));
        merkle_tree a;
        std::vector<std::uint64_t> keys(n);
        for (auto& key : keys) {
            key = draw64(rng);
            a.insert_or_assign(key, draw64(rng));
        }
        merkle_tree b = a;
        for (std::size_t i = 0; i < d; ++i) { // the keys are random, so the first d are a random choice
            switch (i % 3) {
            case 0: b.insert_or_assign(keys[i], draw64(rng)); break;
            case 1: b.erase(keys[i]); break;
            default: {
                const merkle_item item = draw_item(rng);
                b.insert_or_assign(item.key, item.digest);
                break;
            }
            }
        }
        const auto result = diff(a, b);
        REQUIRE(result.missing_in_a.size() + result.missing_in_b.size() ==
                d + (d + 2) / 3); // a reassigned key is in both
        total += result.hashes;
    }
    return static_cast<double>(total) / runs;
}

} // namespace

// --- the store ---------------------------------------------------------------------------------

TEST_CASE("merkle_tree: an empty tree has root hash 0, size 0 and no items")
{
    const merkle_tree t;
    CHECK(t.root() == 0);
    CHECK(t.size() == 0);
    CHECK(t.empty());
    CHECK(all_items(t).empty());
    CHECK(t.summary(merkle_node_id::root()) == merkle_summary{merkle_node_id::root(), 0, 0});
    CHECK(t.well_formed());
}

TEST_CASE("merkle_tree: find gives the digest of a present key and nothing for an absent one")
{
    merkle_tree t;
    t.insert_or_assign(5, 50);
    t.insert_or_assign(7, 70);
    CHECK(t.find(5) == 50U);
    CHECK(t.find(7) == 70U);
    CHECK_FALSE(t.find(6).has_value());
}

TEST_CASE("merkle_tree: insert_or_assign tells a new key from a reassigned one and keeps the latest digest")
{
    merkle_tree t;
    CHECK(t.insert_or_assign(1, 10));
    CHECK_FALSE(t.insert_or_assign(1, 11));
    CHECK(t.size() == 1);
    CHECK(t.find(1) == 11U);
    CHECK(t.root() == gossip::payload::merkle_item_hash(1, 11));
}

TEST_CASE("merkle_tree: assigning a key the digest it already has changes nothing")
{
    merkle_tree t;
    t.insert_or_assign(1, 10);
    const auto root = t.root();
    CHECK_FALSE(t.insert_or_assign(1, 10));
    CHECK(t.root() == root);
    CHECK(t.size() == 1);
}

TEST_CASE("merkle_tree: erase of a missing key is a no-op")
{
    gossip::pcg32 rng(1);
    merkle_tree t = tree_of(random_store(rng, 1000));
    const auto root = t.root();
    const auto items = all_items(t);
    CHECK_FALSE(t.erase(draw64(rng)));
    CHECK(t.root() == root);
    CHECK(t.size() == 1000);
    CHECK(all_items(t) == items);
    merkle_tree empty;
    CHECK_FALSE(empty.erase(0));
    CHECK(empty.empty());
}

TEST_CASE("merkle_tree: erasing every item gives back the empty tree")
{
    gossip::pcg32 rng(2);
    const store s = random_store(rng, 500);
    merkle_tree t = tree_of(s);
    for (const auto& [key, digest] : s) {
        REQUIRE(t.erase(key));
    }
    CHECK(t.root() == 0);
    CHECK(t.empty());
    CHECK(t.well_formed());
}

TEST_CASE("merkle_tree: clear empties the tree, which then works as new")
{
    gossip::pcg32 rng(3);
    merkle_tree t = tree_of(random_store(rng, 300));
    t.clear();
    CHECK(t.empty());
    CHECK(t.root() == 0);
    t.insert_or_assign(9, 90);
    CHECK(t.root() == gossip::payload::merkle_item_hash(9, 90));
    CHECK(t.well_formed());
}

TEST_CASE("merkle_tree: a copy is independent of the original")
{
    gossip::pcg32 rng(4);
    merkle_tree a = tree_of(random_store(rng, 200));
    const merkle_tree b = a;
    const auto root = b.root();
    a.insert_or_assign(draw64(rng), 1);
    CHECK(b.root() == root);
    CHECK(a.root() != root);
}

// --- the hash ----------------------------------------------------------------------------------

TEST_CASE("merkle_tree: the item hash is pinned, because replicas of different versions compare it")
{
    CHECK(gossip::payload::merkle_item_hash(0, 0) == 0x48218226ff3cd4bfULL);
    CHECK(gossip::payload::merkle_item_hash(1, 2) == 0x081a5c1377856b73ULL);
}

TEST_CASE("merkle_tree: the root is the wrapping sum of the item hashes")
{
    gossip::pcg32 rng(5);
    const store s = random_store(rng, 100);
    std::uint64_t sum = 0;
    for (const auto& [key, digest] : s) {
        sum += gossip::payload::merkle_item_hash(key, digest);
    }
    CHECK(tree_of(s).root() == sum);
}

TEST_CASE("merkle_tree: the root does not depend on insertion order")
{
    gossip::pcg32 rng(6);
    auto items = items_of(random_store(rng, 2000));
    merkle_tree sorted;
    for (const auto& i : items) {
        sorted.insert_or_assign(i.key, i.digest);
    }
    for (int round = 0; round < 5; ++round) {
        gossip::shuffle(std::span(items), rng);
        merkle_tree shuffled;
        for (const auto& i : items) {
            shuffled.insert_or_assign(i.key, i.digest);
        }
        CHECK(shuffled.root() == sorted.root());
        CHECK(all_items(shuffled) == all_items(sorted));
    }
}

TEST_CASE("merkle_tree: the root is equal if and only if the contents are equal")
{
    gossip::pcg32 rng(7);
    for (int round = 0; round < 200; ++round) {
        const std::size_t n = 1 + gossip::uniform_index(rng, round < 100 ? 40 : 3000);
        const store base = random_store(rng, n);
        const auto root = tree_of(base).root();
        const auto some_key =
            std::next(base.begin(), static_cast<std::ptrdiff_t>(gossip::uniform_index(rng, n)))->first;

        store added = base;
        const merkle_item extra_item = draw_item(rng);
        added.emplace(extra_item.key, extra_item.digest);
        CHECK(tree_of(added).root() != root);

        store removed = base;
        removed.erase(some_key);
        CHECK(tree_of(removed).root() != root);

        store reassigned = base;
        reassigned[some_key] ^= std::uint64_t{1} << gossip::uniform_below(rng, 64);
        CHECK(tree_of(reassigned).root() != root);

        store swapped = removed; // same size as base, one key replaced by another
        swapped.emplace(draw64(rng), base.at(some_key));
        CHECK(tree_of(swapped).root() != root);

        merkle_tree round_trip = tree_of(base);
        const std::uint64_t extra = draw64(rng);
        if (!base.contains(extra)) {
            round_trip.insert_or_assign(extra, draw64(rng));
            round_trip.erase(extra);
        }
        round_trip.insert_or_assign(some_key, base.at(some_key) + 1);
        round_trip.insert_or_assign(some_key, base.at(some_key));
        CHECK(round_trip.root() == root);
    }
}

// --- incremental maintenance ---------------------------------------------------------------------

TEST_CASE("merkle_tree: incremental updates give the same tree as one built from scratch")
{
    gossip::pcg32 rng(8);
    merkle_tree t;
    store reference;
    std::vector<std::uint64_t> keys; // every key ever used, so that erases and reassigns hit
    for (int step = 1; step <= 20000; ++step) {
        // Grow for the first half and shrink in the second, so that buckets split and merge.
        const std::uint32_t grow = step <= 10000 ? 6 : 3;
        const std::uint32_t op = gossip::uniform_below(rng, 10);
        if (op < grow || keys.empty()) {
            const std::uint64_t key = draw64(rng);
            keys.push_back(key);
            const std::uint64_t digest = draw64(rng);
            CHECK(t.insert_or_assign(key, digest) == reference.insert_or_assign(key, digest).second);
        } else if (op < 8) {
            const std::uint64_t key = keys[gossip::uniform_index(rng, keys.size())];
            CHECK(t.erase(key) == (reference.erase(key) == 1));
        } else {
            const std::uint64_t key = keys[gossip::uniform_index(rng, keys.size())];
            const std::uint64_t digest = draw64(rng);
            t.insert_or_assign(key, digest);
            reference[key] = digest;
        }
        if (step <= 2000) {
            REQUIRE(t.well_formed()); // every split and merge of a small tree
        }
        if (step % 1000 == 0) {
            const merkle_tree fresh = tree_of(reference);
            REQUIRE(t.well_formed());
            CHECK(t.size() == reference.size());
            CHECK(t.root() == fresh.root());
            CHECK(all_items(t) == items_of(reference));
            std::array<merkle_summary, 16> mine{};
            std::array<merkle_summary, 16> theirs{};
            const std::size_t n = t.children(merkle_node_id::root(), mine);
            REQUIRE(n == fresh.children(merkle_node_id::root(), theirs));
            CHECK(std::equal(mine.begin(), mine.begin() + static_cast<std::ptrdiff_t>(n), theirs.begin()));
        }
    }
}

TEST_CASE("merkle_tree: summary, children and items describe exactly the items under a node, at every depth")
{
    gossip::pcg32 rng(9);
    const store s = random_store(rng, 5000);
    const merkle_tree t = tree_of(s);
    for (int probe = 0; probe < 300; ++probe) {
        // A node on the path of a present key, at a random depth: inside branches and buckets.
        const std::uint64_t key =
            std::next(s.begin(), static_cast<std::ptrdiff_t>(gossip::uniform_index(rng, s.size())))->first;
        const auto depth = gossip::uniform_below(rng, 17);
        const merkle_node_id node{depth, depth == 0 ? 0 : key & (~std::uint64_t{0} << (64U - 4U * depth))};

        std::vector<merkle_item> expected;
        merkle_summary expected_summary{node, 0, 0};
        for (const auto& [k, digest] : s) {
            if (node.contains(k)) {
                expected.push_back({k, digest});
                expected_summary.hash += gossip::payload::merkle_item_hash(k, digest);
                ++expected_summary.count;
            }
        }
        CHECK(t.summary(node) == expected_summary);
        std::vector<merkle_item> listed;
        CHECK(t.items(node, listed) == expected.size());
        CHECK(listed == expected);

        std::array<merkle_summary, 16> children{};
        const std::size_t n = t.children(node, children);
        merkle_summary sum{node, 0, 0};
        for (std::size_t i = 0; i < n; ++i) {
            CHECK(children[i].node.is_child_of(node));
            CHECK(children[i].count > 0);
            CHECK(t.summary(children[i].node) == children[i]);
            if (i > 0) {
                CHECK(children[i - 1].node.prefix < children[i].node.prefix);
            }
            sum.hash += children[i].hash;
            sum.count += children[i].count;
        }
        if (depth < 16) {
            CHECK(sum == expected_summary);
        } else {
            CHECK(n == 0);
        }
    }
}

TEST_CASE("merkle_tree: keys that share all but their last byte take the comparison down to the deepest level")
{
    // 256 keys under one depth-14 node. The tree stores a chain of 14 branches, and a comparison
    // that differs in one key must expand every level down to that key's depth-16 node.
    constexpr std::uint64_t base = 0xabcdef0123456700ULL;
    store a;
    for (std::uint64_t i = 0; i < 256; ++i) {
        a[base | i] = i;
    }
    const merkle_tree ta = tree_of(a);
    CHECK(ta.well_formed());
    const merkle_node_id deepest{16, base | 0x25};
    CHECK(ta.summary(deepest) == merkle_summary{deepest, gossip::payload::merkle_item_hash(base | 0x25, 0x25), 1});
    std::array<merkle_summary, 16> children{};
    CHECK(ta.children(deepest, children) == 0);

    store b = a;
    b[base | 0x25] = 1000;
    b.erase(base | 0x03);
    const auto result = diff(ta, tree_of(b));
    const auto expected = difference_of(a, b);
    CHECK(result.missing_in_a == expected.missing_in_a);
    CHECK(result.missing_in_b == expected.missing_in_b);
    CHECK(result.round_trips == 17); // the opening, 15 more expansions, then the lists at depth 16
}

// --- comparing two trees ---------------------------------------------------------------------

TEST_CASE("merkle_tree: diff finds exactly the keys only in a, only in b, and with different digests")
{
    gossip::pcg32 rng(10);
    for (int round = 0; round < 100; ++round) {
        const std::size_t n = gossip::uniform_index(rng, round < 50 ? 50 : 5000);
        const std::size_t d = gossip::uniform_index(rng, std::max<std::size_t>(n, 1));
        const store a = random_store(rng, n);
        const store b = with_changes(a, d, rng);
        const auto result = diff(tree_of(a), tree_of(b));
        const auto expected = difference_of(a, b);
        CHECK(result.missing_in_a == expected.missing_in_a);
        CHECK(result.missing_in_b == expected.missing_in_b);
    }
}

TEST_CASE("merkle_tree: diff against an empty tree lists every item and exchanges no more hashes than the first level")
{
    gossip::pcg32 rng(11);
    const store s = random_store(rng, 10000);
    const merkle_tree full = tree_of(s);
    const merkle_tree empty;

    const auto pulled = diff(empty, full);
    CHECK(pulled.missing_in_a.size() == s.size());
    CHECK(pulled.missing_in_b.empty());
    CHECK(pulled.items == s.size());
    CHECK(pulled.hashes <= 1 + 16);

    const auto pushed = diff(full, empty);
    CHECK(pushed.missing_in_b.size() == s.size());
    CHECK(pushed.items == 0);
    CHECK(pushed.hashes == 1);
}

TEST_CASE("merkle_tree: equal trees cost one hash and one round trip")
{
    gossip::pcg32 rng(12);
    for (const std::size_t n : {std::size_t{0}, std::size_t{1}, std::size_t{100}, std::size_t{100000}}) {
        auto items = items_of(random_store(rng, n));
        merkle_tree x;
        merkle_tree y;
        for (const auto& i : items) {
            x.insert_or_assign(i.key, i.digest);
        }
        gossip::shuffle(std::span(items), rng);
        for (const auto& i : items) {
            y.insert_or_assign(i.key, i.digest);
        }
        const auto result = diff(x, y);
        CHECK(result.hashes == 1);
        CHECK(result.round_trips == 1);
        CHECK(result.items == 0);
        CHECK(result.probes == 0);
        CHECK(result.missing_in_a.empty());
        CHECK(result.missing_in_b.empty());
    }
}

TEST_CASE("merkle_tree: the hashes exchanged grow with the difference, not with the store")
{
    const double small_store = mean_hashes(1000, 10);
    const double large_store = mean_hashes(100000, 10);
    MESSAGE("d = 10: " << small_store << " hashes at n = 1000, " << large_store << " at n = 100000");
    // 100x the items costs about log16(100000) / log16(1000) = 5/3 as many levels; nowhere near 100x.
    CHECK(large_store < 4 * small_store);

    const double more_differences = mean_hashes(100000, 100);
    CHECK(more_differences > 4 * large_store);
}

TEST_CASE("merkle_tree: the hashes exchanged stay within 16 per differing item per level")
{
    for (const std::size_t n : {1000U, 10000U, 100000U}) {
        for (const std::size_t d : {1U, 10U, 100U}) {
            // Levels expanded: those where a subtree of n / 16^depth items holds more than the list
            // threshold, plus one for the unlucky subtrees that exceed the mean.
            std::size_t levels = 1;
            for (double items = static_cast<double>(n); items > gossip::payload::merkle_list_threshold; items /= 16) {
                ++levels;
            }
            const double bound = 1.0 + 16.0 * static_cast<double>(d * levels);
            CHECK(mean_hashes(n, d) <= bound);
        }
    }
}

// --- hostile input -------------------------------------------------------------------------------

TEST_CASE("merkle_tree: node ids with a depth beyond 16 or bits below their prefix are invalid and get no answer")
{
    gossip::pcg32 rng(13);
    const merkle_tree t = tree_of(random_store(rng, 1000));
    const std::array<merkle_node_id, 4> bad{{
        {17, 0},
        {0xffffffffU, 0},
        {1, 0x0800000000000000ULL}, // depth 1 fixes only the top nibble
        {0, 1},
    }};
    for (const auto& node : bad) {
        CHECK_FALSE(node.valid());
        CHECK_FALSE(t.summary(node).has_value());
        std::array<merkle_summary, 16> children{};
        CHECK(t.children(node, children) == 0);
        std::vector<merkle_item> items;
        CHECK(t.items(node, items) == 0);
        std::vector<merkle_summary> answered_children;
        std::vector<merkle_item> answered_items;
        gossip::payload::answer(t, {node, merkle_probe_kind::expand}, answered_children, answered_items);
        gossip::payload::answer(t, {node, merkle_probe_kind::list}, answered_children, answered_items);
        CHECK(answered_children.empty());
        CHECK(answered_items.empty());
    }
    std::vector<merkle_summary> children;
    std::vector<merkle_item> items;
    gossip::payload::answer(t, {merkle_node_id::root(), static_cast<merkle_probe_kind>(7)}, children, items);
    CHECK(children.empty());
    CHECK(items.empty());
}

TEST_CASE("merkle_tree: compare_children refuses summaries no honest peer sends, and changes nothing")
{
    gossip::pcg32 rng(14);
    const merkle_tree mine = tree_of(random_store(rng, 1000));
    const merkle_node_id root = merkle_node_id::root();
    const merkle_summary c1{root.child(1), 5, 100};
    const merkle_summary c2{root.child(2), 6, 100};

    const auto refused = [&](const merkle_node_id& parent, std::vector<merkle_summary> theirs) {
        std::vector<merkle_probe> next;
        merkle_delta delta;
        const bool accepted = gossip::payload::compare_children(mine, parent, theirs, next, delta);
        return !accepted && next.empty() && delta.missing_here.empty() && delta.missing_there.empty();
    };
    CHECK(refused({17, 0}, {}));                                     // parent too deep
    CHECK(refused({16, 0}, {}));                                     // the deepest nodes have no children
    CHECK(refused({1, 1}, {}));                                      // parent with bits below its prefix
    CHECK(refused(root, {c2, c1}));                                  // unsorted
    CHECK(refused(root, {c1, c1}));                                  // duplicated
    CHECK(refused(root, {{{17, 0}, 5, 1}}));                         // child too deep
    CHECK(refused(root, {{{2, 0}, 5, 1}}));                          // grandchild, not child
    CHECK(refused(root, {{{1, 0x0100000000000000ULL}, 5, 1}}));      // bits below the child's prefix
    CHECK(refused(root.child(3), {{root.child(4).child(0), 5, 1}})); // not under the parent
    CHECK(refused(root, {{root.child(1), 5, 0}}));                   // empty children are never sent
    // clang-format 14 would put each call of this long chain on a line of its own: kept as written.
    // clang-format off
    CHECK(refused(root.child(1).child(2).child(3).child(4).child(5).child(6).child(7).child(8).child(9).child(10)
                      .child(11).child(12).child(13).child(14).child(15),
                  {{root.child(1).child(2).child(3).child(4).child(5).child(6).child(7).child(8).child(9).child(10)
                        .child(11).child(12).child(13).child(14).child(15).child(0), 5, 2}})); // 2 items, 1 key
    // clang-format on

    std::vector<merkle_probe> next;
    merkle_delta delta;
    CHECK(gossip::payload::compare_children(mine, root, std::vector<merkle_summary>{c1, c2}, next, delta));
    CHECK(next.size() == 2); // the honest version is accepted
}

TEST_CASE("merkle_tree: compare_items refuses items no honest peer sends, and changes nothing")
{
    gossip::pcg32 rng(15);
    const merkle_tree mine = tree_of(random_store(rng, 1000));
    const merkle_node_id node{1, 0x3000000000000000ULL};
    const merkle_item a{0x3000000000000001ULL, 1};
    const merkle_item b{0x3000000000000002ULL, 2};

    const auto refused = [&](const merkle_node_id& at, std::vector<merkle_item> theirs) {
        merkle_delta delta;
        const bool accepted = gossip::payload::compare_items(mine, at, theirs, delta);
        return !accepted && delta.missing_here.empty() && delta.missing_there.empty();
    };
    CHECK(refused({17, 0}, {a}));
    CHECK(refused({1, 0x3100000000000000ULL}, {a}));
    CHECK(refused(node, {b, a}));                       // unsorted
    CHECK(refused(node, {a, a}));                       // duplicated
    CHECK(refused(node, {{0x4000000000000000ULL, 1}})); // outside the node

    merkle_delta delta;
    CHECK(gossip::payload::compare_items(mine, node, std::vector<merkle_item>{a, b}, delta));
    CHECK(delta.missing_here.size() == 2);
}
