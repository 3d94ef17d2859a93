#pragma once

// A Merkle tree over a replica's store, for anti-entropy. Two replicas whose stores are equal
// agree on one root hash. Replicas that differ in d items find those items by comparing
// subtrees level by level, which costs O(d log n) hashes instead of the whole store.
//
// The tree never sees values. The caller hashes each key to 64 bits and each value (or version)
// to a 64-bit digest, and the tree keeps (key, digest) pairs.
//
// Shape. A fixed 16-ary prefix tree over the key: the node at depth d (the root is depth 0)
// covers the keys whose top 4*d bits equal its prefix, and 16 levels exhaust the key. The shape
// depends on the keys alone, so two replicas' trees compare node by node. Storage is sparse: a
// subtree of at most 64 items is kept as one sorted bucket, and its inner nodes are computed when
// asked for. Memory is proportional to the items, not to 16^depth.
//
// The hash of a subtree is the wrapping sum of merkle_item_hash(key, digest) over its items. The
// sum does not depend on order, so every insertion order gives the same root, and an update
// adds a delta to the O(depth) nodes above the item.
//
// Comparing two trees is a short protocol whose responder keeps no state, so a payload can carry
// it in datagrams (diff() below runs it in process):
//
//   requester (a)                               responder (b), stateless
//   -------------------------------------       ----------------------------------------------
//   send a.summary(root)                        equal to b.summary(root)? answer "in sync"
//                                               else answer(b, {root, expand})
//   for each answer: compare_children() or      answer(b, probe) for each probe: the node's
//   compare_items() against a's own subtree     non-empty children's summaries, or its items
//   -> differing keys, and the next probes      when it holds few (list, or expand with <= 8)
//   send the probes; repeat until none
//
// Descending stops where b holds at most merkle_list_threshold items, so the number of levels
// follows log16(n), not the 16 levels of the key.

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

// In gossip::detail: a gossip::payload::detail would hide gossip::detail from the other payloads.
namespace gossip::detail {

// SplitMix64's finaliser: a bijection on 64 bits with full avalanche.
[[nodiscard]] constexpr std::uint64_t merkle_mix(std::uint64_t z) noexcept
{
    z = (z ^ (z >> 30U)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27U)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31U);
}

// The key bits that a node at `depth` fixes. Depth 0 fixes none; a shift by 64 would be UB.
[[nodiscard]] constexpr std::uint64_t merkle_prefix_mask(std::uint32_t depth) noexcept
{
    return depth == 0 ? 0 : ~std::uint64_t{0} << (64U - 4U * depth);
}

// The nibble of `key` that picks the child of a node at `depth` (< 16).
[[nodiscard]] constexpr std::size_t merkle_nibble(std::uint64_t key, std::uint32_t depth) noexcept
{
    return static_cast<std::size_t>((key >> (60U - 4U * depth)) & 0xFU);
}

} // namespace gossip::detail

namespace gossip::payload {

/// Children per node: one for each value of a 4-bit nibble of the key.
inline constexpr std::size_t merkle_fanout = 16;
/// Depth of the deepest nodes. A node at this depth covers exactly one key.
inline constexpr std::uint32_t merkle_max_depth = 16;
/// A subtree that holds at most this many items is answered with its items rather than with
/// its children. Beyond this, the 16 summaries of an expansion cost about what the items would.
inline constexpr std::uint64_t merkle_list_threshold = 8;

/// The hash of one item. A subtree's hash is the wrapping sum of its items' hashes. Replicas
/// compare these values, so the function is part of the protocol and must never change.
///
/// Collision properties:
/// - It is not cryptographic. The mix can be inverted and the sum is linear, so anyone who
///   chooses keys or digests can build two different sets with the same hash. A malicious peer
///   can therefore hide a difference or invent one. Anti-entropy with this tree assumes that
///   the replicas trust each other.
/// - For data nobody chose adversarially, two different sets of the same size have the same
///   hash with probability about 2^-64 per comparison. Summaries also carry the item count, so
///   sets of different sizes never compare equal.
/// - A change of one key's digest always changes the hash: for a fixed key the function is a
///   bijection of the digest. An added or removed item changes the count. So comparing
///   summaries always detects a single change; only two or more changes can cancel out, with
///   the probability above.
[[nodiscard]] constexpr std::uint64_t merkle_item_hash(std::uint64_t key, std::uint64_t digest) noexcept
{
    // The constant keeps the pair (0, 0), which tests and users reach first, away from hash 0.
    return detail::merkle_mix(detail::merkle_mix(key + 0x9e3779b97f4a7c15ULL) ^ digest);
}

/// One entry of the store: the caller's 64-bit key hash and its 64-bit content digest.
struct merkle_item {
    std::uint64_t key = 0;
    std::uint64_t digest = 0;

    friend bool operator==(const merkle_item&, const merkle_item&) = default;
};

/// A node of the prefix tree: its depth (0 = root, at most merkle_max_depth) and its prefix, the
/// top 4*depth bits of the keys it covers, left-aligned, with the bits below them zero.
/// It may come from a peer, so every function that takes one checks valid() first.
struct merkle_node_id {
    std::uint32_t depth = 0;
    std::uint64_t prefix = 0;

    [[nodiscard]] static constexpr merkle_node_id root() noexcept { return {}; }

    /// A depth the tree has, and no bit set below the prefix.
    [[nodiscard]] constexpr bool valid() const noexcept
    {
        return depth <= merkle_max_depth && (prefix & ~detail::merkle_prefix_mask(depth)) == 0;
    }

    /// Whether the node covers `key`. Meaningful for a valid id.
    [[nodiscard]] constexpr bool contains(std::uint64_t key) const noexcept
    {
        return (key & detail::merkle_prefix_mask(depth)) == prefix;
    }

    /// The child that covers the keys whose next nibble is `nibble`. For a valid id above the
    /// deepest level, and nibble < merkle_fanout.
    [[nodiscard]] constexpr merkle_node_id child(std::size_t nibble) const noexcept
    {
        return {depth + 1, prefix | (static_cast<std::uint64_t>(nibble) << (60U - 4U * depth))};
    }

    /// Whether this is a valid id one level below `parent` and inside it.
    [[nodiscard]] constexpr bool is_child_of(const merkle_node_id& parent) const noexcept
    {
        return valid() && parent.valid() && depth == parent.depth + 1 && parent.contains(prefix);
    }

    friend bool operator==(const merkle_node_id&, const merkle_node_id&) = default;
};

/// What one side says about one of its subtrees: the hash and number of its items. Two subtrees
/// with the same summary hold the same items (see merkle_item_hash for how sure that is).
struct merkle_summary {
    merkle_node_id node;
    std::uint64_t hash = 0;
    std::uint64_t count = 0;

    /// Same hash and same count; the ids are compared by whoever pairs the summaries up.
    [[nodiscard]] constexpr bool same_content(const merkle_summary& other) const noexcept
    {
        return hash == other.hash && count == other.count;
    }

    friend bool operator==(const merkle_summary&, const merkle_summary&) = default;
};

/// What a requester asks about a node it has found to differ.
enum class merkle_probe_kind : std::uint8_t {
    expand, ///< the summaries of the node's non-empty children, or its items if it holds few
    list,   ///< all the items under the node
};

/// One question a requester sends about a node of the peer's tree; answer() replies to it
/// without keeping state.
struct merkle_probe {
    merkle_node_id node;
    merkle_probe_kind kind = merkle_probe_kind::expand;

    friend bool operator==(const merkle_probe&, const merkle_probe&) = default;
};

/// The (key, digest) pairs of one replica, summarised by a 16-ary prefix tree whose hashes are
/// kept up to date on every change. A value type: copies are independent. Takes about 25 to 33
/// heap bytes per item with random keys (bench/README.md), against 16 for the pair itself.
class merkle_tree {
public:
    merkle_tree() = default;

    /// Adds the item, or gives an existing key the new digest. True when the key was new.
    /// O(depth) plus the work on one bucket of at most 64 items.
    bool insert_or_assign(std::uint64_t key, std::uint64_t digest)
    {
        const std::uint64_t hash = merkle_item_hash(key, digest);
        std::array<std::uint32_t, merkle_max_depth> path{};
        std::uint32_t depth = 0;
        slot s = walk(key, path, depth);

        std::uint64_t delta = hash;
        bool added = true;
        if (s == no_slot) {
            s = new_bucket();
            bucket& b = buckets_[bucket_index(s)];
            b.items.push_back({key, digest});
            b.hash = hash;
            set_slot(path, depth, key, s);
        } else {
            bucket& b = buckets_[bucket_index(s)];
            const auto at = std::ranges::lower_bound(b.items, key, {}, &merkle_item::key);
            if (at != b.items.end() && at->key == key) {
                if (at->digest == digest) {
                    return false;
                }
                delta = hash - merkle_item_hash(key, at->digest);
                at->digest = digest;
                added = false;
            } else {
                b.items.insert(at, {key, digest});
            }
            b.hash += delta;
        }
        for (std::uint32_t d = 0; d < depth; ++d) {
            branches_[path[d]].hash += delta;
            branches_[path[d]].count += added ? 1U : 0U;
        }
        if (added && buckets_[bucket_index(s)].items.size() > bucket_capacity) {
            set_slot(path, depth, key, split(s, depth));
        }
        return added;
    }

    /// Removes the key's item. False, and nothing changes, when the key is absent. O(depth)
    /// plus the work on one bucket.
    bool erase(std::uint64_t key)
    {
        std::array<std::uint32_t, merkle_max_depth> path{};
        std::uint32_t depth = 0;
        const slot s = walk(key, path, depth);
        if (s == no_slot) {
            return false;
        }
        bucket& b = buckets_[bucket_index(s)];
        const auto at = std::ranges::lower_bound(b.items, key, {}, &merkle_item::key);
        if (at == b.items.end() || at->key != key) {
            return false;
        }
        const std::uint64_t hash = merkle_item_hash(key, at->digest);
        b.items.erase(at);
        b.hash -= hash;
        if (b.items.empty()) {
            free_bucket(s);
            set_slot(path, depth, key, no_slot);
        }
        for (std::uint32_t d = 0; d < depth; ++d) {
            branches_[path[d]].hash -= hash;
            branches_[path[d]].count -= 1;
        }
        // Every branch holds more than a bucket would, so that memory follows the items. Only
        // the branches on the path lost an item; the topmost one that fell short absorbs the rest.
        for (std::uint32_t d = 0; d < depth; ++d) {
            if (branches_[path[d]].count <= bucket_capacity) {
                set_slot(path, d, key, merge(path[d]));
                break;
            }
        }
        return true;
    }

    /// The key's digest, if the key is present.
    [[nodiscard]] std::optional<std::uint64_t> find(std::uint64_t key) const noexcept
    {
        slot s = root_;
        for (std::uint32_t depth = 0; is_branch(s); ++depth) {
            s = branches_[s].children[detail::merkle_nibble(key, depth)];
        }
        if (s == no_slot) {
            return std::nullopt;
        }
        const auto& items = buckets_[bucket_index(s)].items;
        const auto at = std::ranges::lower_bound(items, key, {}, &merkle_item::key);
        if (at == items.end() || at->key != key) {
            return std::nullopt;
        }
        return at->digest;
    }

    [[nodiscard]] std::size_t size() const noexcept { return static_cast<std::size_t>(slot_count(root_)); }
    [[nodiscard]] bool empty() const noexcept { return root_ == no_slot; }

    /// The root hash: 0 for an empty tree, otherwise the sum of every item's hash.
    [[nodiscard]] std::uint64_t root() const noexcept { return slot_hash(root_); }

    /// Removes every item and releases the memory.
    void clear() noexcept
    {
        branches_ = {};
        buckets_ = {};
        free_branches_ = {};
        free_buckets_ = {};
        root_ = no_slot;
    }

    // --- the responder's side of a comparison: answers about any node, from any peer ---------

    /// The hash and item count of a subtree (0 and 0 when it is empty), or nothing for an
    /// invalid id. O(depth), plus one bucket when the node lies inside one.
    [[nodiscard]] std::optional<merkle_summary> summary(const merkle_node_id& node) const noexcept
    {
        if (!node.valid()) {
            return std::nullopt;
        }
        const place p = locate(node);
        merkle_summary out{node, 0, 0};
        if (is_branch(p.at) || (is_bucket(p.at) && p.depth == node.depth)) {
            out.hash = slot_hash(p.at);
            out.count = slot_count(p.at);
        } else if (is_bucket(p.at)) {
            for (const merkle_item& item : items_under(buckets_[bucket_index(p.at)].items, node)) {
                out.hash += merkle_item_hash(item.key, item.digest);
                ++out.count;
            }
        }
        return out;
    }

    /// Writes the summaries of the node's non-empty children to `out`, in nibble order, and
    /// returns how many. Writes none for an invalid id or a node at the deepest level.
    [[nodiscard]] std::size_t children(const merkle_node_id& node,
                                       std::span<merkle_summary, merkle_fanout> out) const noexcept
    {
        if (!node.valid() || node.depth >= merkle_max_depth) {
            return 0;
        }
        const place p = locate(node);
        std::size_t written = 0;
        if (is_branch(p.at)) {
            const branch& br = branches_[p.at];
            for (std::size_t i = 0; i < merkle_fanout; ++i) {
                if (br.children[i] != no_slot) {
                    out[written++] = {node.child(i), slot_hash(br.children[i]), slot_count(br.children[i])};
                }
            }
        } else if (is_bucket(p.at)) {
            // The items are sorted, so each child's items are contiguous.
            for (const merkle_item& item : items_under(buckets_[bucket_index(p.at)].items, node)) {
                const merkle_node_id child = node.child(detail::merkle_nibble(item.key, node.depth));
                if (written == 0 || out[written - 1].node != child) {
                    out[written++] = {child, 0, 0};
                }
                out[written - 1].hash += merkle_item_hash(item.key, item.digest);
                ++out[written - 1].count;
            }
        }
        return written;
    }

    /// Appends the items under the node to `out`, in key order, and returns how many. Appends
    /// none for an invalid id.
    std::size_t items(const merkle_node_id& node, std::vector<merkle_item>& out) const
    {
        if (!node.valid()) {
            return 0;
        }
        const std::size_t before = out.size();
        const place p = locate(node);
        if (is_branch(p.at)) {
            append_all(p.at, out);
        } else if (is_bucket(p.at)) {
            const auto under = items_under(buckets_[bucket_index(p.at)].items, node);
            out.insert(out.end(), under.begin(), under.end());
        }
        return out.size() - before;
    }

    /// The storage invariants, checked from scratch: every stored hash and count matches its
    /// items, buckets are sorted, small and non-empty, and every branch holds more than a bucket
    /// may. For tests and debug assertions.
    [[nodiscard]] bool well_formed() const { return check(root_, merkle_node_id::root()); }

private:
    // A bucket splits into a branch when it would hold more than this. Larger buckets save
    // memory (fewer branches and vectors); a query inside one filters at most this many items.
    // Of 16, 32 and 64, 64 took the least memory (26 against 43 bytes per item at 10^6 items)
    // and updated fastest at 10^6 items; 16 updates small trees faster. Storage only: the
    // protocol never sees it.
    static constexpr std::size_t bucket_capacity = 64;

    // A reference to a subtree: a branch's index, a bucket's index with the top bit set, or none.
    using slot = std::uint32_t;
    static constexpr slot no_slot = 0xffff'ffffU;
    static constexpr slot bucket_bit = 0x8000'0000U;

    // A node with more than bucket_capacity items below it. The root of the tree is one when the
    // tree holds that many; no node at depth 15 or 16 is one, since those cover at most 16 keys.
    struct branch {
        std::uint64_t hash = 0;
        std::uint64_t count = 0;
        std::array<slot, merkle_fanout> children{};
    };

    // Every item of one small subtree, sorted by key.
    struct bucket {
        std::uint64_t hash = 0;
        std::vector<merkle_item> items;
    };

    // Where a search for a node stopped: the slot, at the depth of the node it stands for.
    struct place {
        slot at = no_slot;
        std::uint32_t depth = 0;
    };

    [[nodiscard]] static constexpr bool is_branch(slot s) noexcept { return (s & bucket_bit) == 0; }
    [[nodiscard]] static constexpr bool is_bucket(slot s) noexcept { return s != no_slot && (s & bucket_bit) != 0; }
    [[nodiscard]] static constexpr std::uint32_t bucket_index(slot s) noexcept { return s & ~bucket_bit; }

    [[nodiscard]] std::uint64_t slot_hash(slot s) const noexcept
    {
        return s == no_slot ? 0 : is_branch(s) ? branches_[s].hash : buckets_[bucket_index(s)].hash;
    }

    [[nodiscard]] std::uint64_t slot_count(slot s) const noexcept
    {
        return s == no_slot ? 0 : is_branch(s) ? branches_[s].count : buckets_[bucket_index(s)].items.size();
    }

    // The items of a sorted bucket that lie under `node`: one contiguous run.
    [[nodiscard]] static std::span<const merkle_item> items_under(const std::vector<merkle_item>& items,
                                                                  const merkle_node_id& node) noexcept
    {
        const auto first = std::ranges::lower_bound(items, node.prefix, {}, &merkle_item::key);
        const auto last = std::find_if(first, items.end(), [&](const merkle_item& i) { return !node.contains(i.key); });
        return {first, last};
    }

    // Follows `key` down the branches, recording them, to the bucket or empty slot that holds
    // it. `depth` comes back as that slot's depth.
    slot walk(std::uint64_t key, std::array<std::uint32_t, merkle_max_depth>& path, std::uint32_t& depth) const noexcept
    {
        slot s = root_;
        depth = 0;
        while (is_branch(s)) {
            path[depth] = s;
            s = branches_[s].children[detail::merkle_nibble(key, depth)];
            ++depth;
        }
        return s;
    }

    [[nodiscard]] place locate(const merkle_node_id& node) const noexcept
    {
        place p{root_, 0};
        while (p.depth < node.depth && is_branch(p.at)) {
            p.at = branches_[p.at].children[detail::merkle_nibble(node.prefix, p.depth)];
            ++p.depth;
        }
        return p;
    }

    // Makes `s` the subtree at `depth` on key's path, whose branches `path` lists.
    void set_slot(const std::array<std::uint32_t, merkle_max_depth>& path, std::uint32_t depth, std::uint64_t key,
                  slot s) noexcept
    {
        if (depth == 0) {
            root_ = s;
        } else {
            branches_[path[depth - 1]].children[detail::merkle_nibble(key, depth - 1)] = s;
        }
    }

    slot new_bucket()
    {
        if (!free_buckets_.empty()) {
            const std::uint32_t i = free_buckets_.back();
            free_buckets_.pop_back();
            return i | bucket_bit;
        }
        buckets_.emplace_back();
        return static_cast<slot>(buckets_.size() - 1) | bucket_bit;
    }

    void free_bucket(slot s)
    {
        buckets_[bucket_index(s)] = bucket{}; // releases the vector, so memory follows the items
        free_buckets_.push_back(bucket_index(s));
    }

    slot new_branch()
    {
        slot s = 0;
        if (!free_branches_.empty()) {
            s = free_branches_.back();
            free_branches_.pop_back();
        } else {
            branches_.emplace_back();
            s = static_cast<slot>(branches_.size() - 1);
        }
        branches_[s] = branch{};
        branches_[s].children.fill(no_slot);
        return s;
    }

    // Turns an overfull bucket at `depth` into a branch whose children are buckets, splitting
    // again any child that is still overfull. Returns the branch.
    slot split(slot s, std::uint32_t depth)
    {
        const std::vector<merkle_item> items = std::move(buckets_[bucket_index(s)].items);
        const std::uint64_t hash = buckets_[bucket_index(s)].hash;
        free_bucket(s);
        const slot b = new_branch();
        branches_[b].hash = hash;
        branches_[b].count = items.size();
        for (auto first = items.begin(); first != items.end();) {
            const std::size_t nibble = detail::merkle_nibble(first->key, depth);
            const auto last = std::find_if(first, items.end(), [&](const merkle_item& i) {
                return detail::merkle_nibble(i.key, depth) != nibble;
            });
            slot child = new_bucket();
            bucket& c = buckets_[bucket_index(child)];
            c.items.assign(first, last);
            for (const merkle_item& i : c.items) {
                c.hash += merkle_item_hash(i.key, i.digest);
            }
            // Keys are distinct, so more than one item never reaches the deepest level.
            if (c.items.size() > bucket_capacity) {
                child = split(child, depth + 1);
            }
            branches_[b].children[nibble] = child;
            first = last;
        }
        return b;
    }

    // Turns a branch into one bucket with every item below it. Returns the bucket.
    slot merge(slot b)
    {
        std::vector<merkle_item> items;
        items.reserve(static_cast<std::size_t>(branches_[b].count));
        const std::uint64_t hash = branches_[b].hash;
        take_all(b, items);
        const slot s = new_bucket();
        buckets_[bucket_index(s)].items = std::move(items);
        buckets_[bucket_index(s)].hash = hash;
        return s;
    }

    // Moves the items below `s` to `out`, in key order, and frees the subtree.
    void take_all(slot s, std::vector<merkle_item>& out)
    {
        if (is_bucket(s)) {
            const auto& items = buckets_[bucket_index(s)].items;
            out.insert(out.end(), items.begin(), items.end());
            free_bucket(s);
        } else if (s != no_slot) {
            for (const slot child : branches_[s].children) {
                take_all(child, out);
            }
            free_branches_.push_back(s);
        }
    }

    void append_all(slot s, std::vector<merkle_item>& out) const
    {
        if (is_bucket(s)) {
            const auto& items = buckets_[bucket_index(s)].items;
            out.insert(out.end(), items.begin(), items.end());
        } else if (s != no_slot) {
            for (const slot child : branches_[s].children) {
                append_all(child, out);
            }
        }
    }

    [[nodiscard]] bool check(slot s, const merkle_node_id& node) const
    {
        if (s == no_slot) {
            return true;
        }
        if (is_bucket(s)) {
            const bucket& b = buckets_[bucket_index(s)];
            std::uint64_t hash = 0;
            for (std::size_t i = 0; i < b.items.size(); ++i) {
                if (!node.contains(b.items[i].key) || (i > 0 && b.items[i - 1].key >= b.items[i].key)) {
                    return false;
                }
                hash += merkle_item_hash(b.items[i].key, b.items[i].digest);
            }
            return !b.items.empty() && b.items.size() <= bucket_capacity && hash == b.hash;
        }
        const branch& br = branches_[s];
        if (node.depth >= merkle_max_depth || br.count <= bucket_capacity) {
            return false;
        }
        std::uint64_t hash = 0;
        std::uint64_t count = 0;
        for (std::size_t i = 0; i < merkle_fanout; ++i) {
            if (!check(br.children[i], node.child(i))) {
                return false;
            }
            hash += slot_hash(br.children[i]);
            count += slot_count(br.children[i]);
        }
        return hash == br.hash && count == br.count;
    }

    std::vector<branch> branches_;
    std::vector<bucket> buckets_;
    std::vector<std::uint32_t> free_branches_;
    std::vector<std::uint32_t> free_buckets_;
    slot root_ = no_slot;
};

// --- the protocol steps ----------------------------------------------------------------------

/// The responder's side of one probe. Keeps no state, so any datagram can be answered on its
/// own. `expand` gets the summaries of the node's non-empty children, or, when the responder holds
/// at most merkle_list_threshold items there, those items. `list` gets every item under the node.
/// Appends to `children` or to `items`, never to both; an invalid probe gets nothing.
inline void answer(const merkle_tree& tree, const merkle_probe& probe, std::vector<merkle_summary>& children,
                   std::vector<merkle_item>& items)
{
    if (!probe.node.valid()) {
        return;
    }
    if (probe.kind == merkle_probe_kind::expand) {
        const auto here = tree.summary(probe.node);
        if (here && here->count > merkle_list_threshold) {
            std::array<merkle_summary, merkle_fanout> buffer{};
            const std::size_t n = tree.children(probe.node, buffer);
            children.insert(children.end(), buffer.begin(), buffer.begin() + static_cast<std::ptrdiff_t>(n));
            return;
        }
    } else if (probe.kind != merkle_probe_kind::list) {
        return; // a kind this version does not know
    }
    tree.items(probe.node, items);
}

/// The keys on which a requester and its peer disagree, as far as the requester has looked.
struct merkle_delta {
    /// The peer holds an item for these keys that the requester lacks: the requester has no such
    /// key, or has it with another digest.
    std::vector<std::uint64_t> missing_here;
    /// The requester holds an item for these keys that the peer lacks.
    std::vector<std::uint64_t> missing_there;
};

/// The requester's step for an answer made of child summaries: `theirs` is what the peer holds
/// under `parent`. Compares them with the requester's own children; records in `delta` the keys
/// of the children only the requester has, and appends to `next` a probe for each child that
/// differs: `list` when the peer holds at most merkle_list_threshold items there or the
/// requester holds none, `expand` otherwise.
///
/// Refuses (returns false, changes nothing) an answer that no honest peer sends: an invalid
/// parent, a child that is not a valid child of `parent`, children out of order or repeated, or
/// a count of 0 or beyond what the child's key range can hold.
///
/// A hostile peer can still claim 16 large children at every level; a payload bounds the probes
/// it sends per exchange by its datagram budget.
///
/// With `only_mine`, a child only the requester has goes there as a whole instead of as keys in
/// delta.missing_there: a payload can then offer the subtree rather than list it.
[[nodiscard]] inline bool compare_children(const merkle_tree& mine, const merkle_node_id& parent,
                                           std::span<const merkle_summary> theirs, std::vector<merkle_probe>& next,
                                           merkle_delta& delta, std::vector<merkle_node_id>* only_mine = nullptr)
{
    if (!parent.valid() || parent.depth >= merkle_max_depth) {
        return false;
    }
    for (std::size_t i = 0; i < theirs.size(); ++i) {
        const merkle_summary& s = theirs[i];
        if (!s.node.is_child_of(parent) || (i > 0 && theirs[i - 1].node.prefix >= s.node.prefix)) {
            return false;
        }
        // A node at depth d covers 2^(64 - 4d) keys; here 1 <= d <= 16, so the shift is in [0, 60].
        if (s.count == 0 || ((s.count - 1) >> (64U - 4U * s.node.depth)) != 0) {
            return false;
        }
    }

    std::array<merkle_summary, merkle_fanout> own{};
    const std::size_t own_count = mine.children(parent, own);
    std::vector<merkle_item> scratch;
    std::size_t i = 0;
    std::size_t j = 0;
    while (i < own_count || j < theirs.size()) {
        if (j == theirs.size() || (i < own_count && own[i].node.prefix < theirs[j].node.prefix)) {
            if (only_mine != nullptr) {
                only_mine->push_back(own[i].node);
                ++i;
                continue;
            }
            scratch.clear();
            mine.items(own[i].node, scratch);
            for (const merkle_item& item : scratch) {
                delta.missing_there.push_back(item.key);
            }
            ++i;
        } else if (i == own_count || theirs[j].node.prefix < own[i].node.prefix) {
            next.push_back({theirs[j].node, merkle_probe_kind::list});
            ++j;
        } else {
            if (!own[i].same_content(theirs[j])) {
                next.push_back({theirs[j].node, theirs[j].count <= merkle_list_threshold ? merkle_probe_kind::list
                                                                                         : merkle_probe_kind::expand});
            }
            ++i;
            ++j;
        }
    }
    return true;
}

/// The requester's step for an answer made of items: `theirs` is everything the peer holds under
/// `node`. Compares them with the requester's own items there and records every difference in
/// `delta`; a key held by both with different digests goes into both lists.
///
/// Refuses (returns false, changes nothing) an invalid node, a key outside it, or keys out of
/// order or repeated.
[[nodiscard]] inline bool compare_items(const merkle_tree& mine, const merkle_node_id& node,
                                        std::span<const merkle_item> theirs, merkle_delta& delta)
{
    if (!node.valid()) {
        return false;
    }
    for (std::size_t i = 0; i < theirs.size(); ++i) {
        if (!node.contains(theirs[i].key) || (i > 0 && theirs[i - 1].key >= theirs[i].key)) {
            return false;
        }
    }
    std::vector<merkle_item> own;
    mine.items(node, own);
    std::size_t i = 0;
    std::size_t j = 0;
    while (i < own.size() || j < theirs.size()) {
        if (j == theirs.size() || (i < own.size() && own[i].key < theirs[j].key)) {
            delta.missing_there.push_back(own[i++].key);
        } else if (i == own.size() || theirs[j].key < own[i].key) {
            delta.missing_here.push_back(theirs[j++].key);
        } else {
            if (own[i].digest != theirs[j].digest) {
                delta.missing_here.push_back(own[i].key);
                delta.missing_there.push_back(own[i].key);
            }
            ++i;
            ++j;
        }
    }
    return true;
}

/// The outcome of diff(a, b), and what it cost on the wire.
struct merkle_diff {
    /// Keys for which b holds an item that a lacks (a has no such key, or another digest). Sorted.
    std::vector<std::uint64_t> missing_in_a;
    /// Keys for which a holds an item that b lacks. Sorted.
    std::vector<std::uint64_t> missing_in_b;
    /// Summaries exchanged: a's root summary, then every child summary b sent.
    std::size_t hashes = 0;
    /// Items (key, digest) b sent.
    std::size_t items = 0;
    /// Probes (node ids) a sent after the opening.
    std::size_t probes = 0;
    /// Request and answer pairs, each batching every probe of one level.
    std::size_t round_trips = 0;
};

/// Runs the comparison protocol between two trees in process, exactly as two replicas would
/// over the wire, with a as the requester and b as the responder. Equal trees cost one hash and
/// one round trip; otherwise the cost grows with the difference and log16 of the size.
[[nodiscard]] inline merkle_diff diff(const merkle_tree& a, const merkle_tree& b)
{
    merkle_diff out;
    // Round trip 1: a's root summary. b answers "in sync" when its own matches, else it
    // answers as it would to {root, expand}.
    const auto opening = a.summary(merkle_node_id::root());
    out.hashes = 1;
    out.round_trips = 1;
    if (b.summary(merkle_node_id::root())->same_content(*opening)) {
        return out;
    }
    merkle_delta delta;
    std::vector<merkle_probe> probes{{merkle_node_id::root(), merkle_probe_kind::expand}};
    std::vector<merkle_probe> next;
    std::vector<merkle_summary> children;
    std::vector<merkle_item> items;
    while (true) {
        for (const merkle_probe& probe : probes) {
            children.clear();
            items.clear();
            answer(b, probe, children, items);
            out.hashes += children.size();
            out.items += items.size();
            // Two honest trees never produce an answer that is refused.
            const bool accepted = children.empty() ? compare_items(a, probe.node, items, delta)
                                                   : compare_children(a, probe.node, children, next, delta);
            static_cast<void>(accepted);
        }
        if (next.empty()) {
            break;
        }
        probes.swap(next);
        next.clear();
        out.probes += probes.size();
        ++out.round_trips;
    }
    std::ranges::sort(delta.missing_here);
    std::ranges::sort(delta.missing_there);
    out.missing_in_a = std::move(delta.missing_here);
    out.missing_in_b = std::move(delta.missing_there);
    return out;
}

} // namespace gossip::payload
