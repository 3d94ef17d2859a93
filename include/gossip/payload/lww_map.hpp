#pragma once

// A replicated key-value map in which the last writer wins: every write carries a version, and
// of two entries for one key the replicas keep the same one, whatever order they see them in.
// Replicas that have seen the same writes therefore hold the same map; anti_entropy makes sure
// they see the same writes.
//
// Versions are (Lamport clock, origin). A local write takes a clock above every clock this
// replica has seen, so a write made after another has been seen always wins over it; concurrent
// writes are ordered by clock, then by origin. Should two writes still tie (one origin reusing a
// clock after a restart that lost its state), the encoded entries are compared byte by byte, so
// the choice never depends on arrival order.
//
// An erase writes a tombstone, which must be kept for a while: without it, a replica that missed
// the erase would bring the value back. By default tombstones are kept for good (one entry each).
// With a horizon H (set_tombstone_horizon), a tombstone is collected once the replica's clock has
// passed its clock by more than H, and a tombstone arriving from a peer already past the horizon
// still erases an older value but is not kept. Give every replica the same horizon: one that
// keeps a tombstone another has collected offers it in every session, and the other refuses it
// each time, until the first collects it too. The horizon is in clock units, not seconds. The
// clock is a Lamport clock: a local write takes one above the highest clock seen, so concurrent
// writes on different replicas do not add up, and the clock grows about as fast as the busiest
// writer writes (between syncs). H is "H writes later along a chain of writes". Collection
// needs no agreement between replicas, and every replica collects the same tombstones once its
// clock reaches the same height: the entry with the highest clock can never be collected (nothing
// is more than H above it), so anti-entropy carries it, and that clock, to every replica.
// The price is the classic one (Demers et al. 1987, "death certificates"): a replica that holds an
// erased value and hears nothing while H more writes happen elsewhere brings the value back when
// it returns, since nobody remembers the erase. Pick H above the writes of the longest absence
// you accept, and well above the writes made while an erase spreads: a writer that passes H
// before its erase has reached anyone forgets the erase alone. And trust the writers: one entry
// with a high clock (up to max_clock) collects every tombstone of every replica it reaches, so a
// horizon belongs on a sealed cluster (transport::sealed), where strangers cannot write.
//
// What a peer can make a replica hold is bounded: past max_entries keys (set_max_entries), entries
// for new keys are refused and counted, while local writes still go in (the application's own
// choice); and an entry whose clock is above max_clock (2^62) is refused and counted, because a
// clock near 2^64 would win over every later write to its key and wrap the replica's clock. No
// honest replica gets there: that is 4.6 * 10^18 writes.
//
// Keys are placed in the Merkle tree by a 64-bit hash of their encoding. Two different keys with
// the same hash (probability about n^2 / 2^65 for n keys) cannot both be held; the one arriving
// second is refused and counted.

#include "../detail/stable_hash.hpp"
#include "../wire/codec.hpp"
#include "../wire/reader.hpp"
#include "../wire/writer.hpp"
#include "merkle_tree.hpp"

#include <algorithm>
#include <compare>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <unordered_map>
#include <utility>
#include <vector>

namespace gossip::payload {

/// When and where a write was made. Ordered by clock, then by origin.
struct version {
    std::uint64_t clock = 0;
    std::uint64_t origin = 0;

    // clang-tidy 14 takes the 0 that the defaulted <=> compares with for a null pointer
    // (llvm/llvm-project#53961): a false positive.
    // NOLINTNEXTLINE(modernize-use-nullptr)
    friend constexpr auto operator<=>(const version&, const version&) = default;
};

/// One write: a value for a key, or a tombstone (no value) that records an erase.
template <class K, class V>
struct lww_entry {
    K key{};
    std::optional<V> value{};
    version stamp{};

    friend bool operator==(const lww_entry&, const lww_entry&) = default;
};

} // namespace gossip::payload

namespace gossip::wire {

// clang-format 14 mangles concepts and requires-clauses: kept as written.
// clang-format off
/// u64 clock, u64 origin, u8 has_value, key, value (when has_value is 1).
template <class K, class V>
    requires encodable<K> && encodable<V>
// clang-format on
struct codec<payload::lww_entry<K, V>> {
    static constexpr std::size_t max_size = 17 + codec<K>::max_size + codec<V>::max_size;
    static void write(writer& w, const payload::lww_entry<K, V>& e)
    {
        w.u64(e.stamp.clock);
        w.u64(e.stamp.origin);
        w.u8(e.value ? 1 : 0);
        codec<K>::write(w, e.key);
        if (e.value) {
            codec<V>::write(w, *e.value);
        }
    }
    static bool read(reader& r, payload::lww_entry<K, V>& e)
    {
        e.stamp.clock = r.u64();
        e.stamp.origin = r.u64();
        const auto has_value = r.u8();
        if (!r.ok() || has_value > 1 || !codec<K>::read(r, e.key)) {
            return false;
        }
        if (has_value == 0) {
            e.value.reset();
            return true;
        }
        if (!e.value) {
            e.value.emplace();
        }
        return codec<V>::read(r, *e.value);
    }
};

} // namespace gossip::wire

namespace gossip::payload {

// clang-format off
/// A last-writer-wins map from K to V, both types with a wire::codec, kept in a Merkle tree for
/// anti-entropy. A value type: copies are independent replicas.
template <class K, class V>
    requires wire::encodable<K> && wire::encodable<V>
// clang-format on
class lww_map {
public:
    using key_type = K;
    using mapped_type = V;
    using entry_type = lww_entry<K, V>;

    /// `origin` names this replica in the versions of its writes; replicas should differ in it
    /// (anti_entropy gives each node its own).
    explicit lww_map(std::uint64_t origin = 0) noexcept : origin_(origin) {}

    // --- local writes: each returns the entry written, to be spread ---------------------------
    const entry_type& put(K key, V value) { return write_local(std::move(key), std::optional<V>(std::move(value))); }
    const entry_type& erase(K key) { return write_local(std::move(key), std::nullopt); }

    // --- reads -------------------------------------------------------------------------------
    /// The value for `key`, or nullptr when there is none (never written, or erased).
    [[nodiscard]] const V* find(const K& key) const
    {
        const auto* e = find_entry(key_hash(key));
        return e != nullptr && e->entry.key == key && e->entry.value ? &*e->entry.value : nullptr;
    }
    [[nodiscard]] bool contains(const K& key) const { return find(key) != nullptr; }
    /// Keys with a value.
    [[nodiscard]] std::size_t size() const noexcept { return entries_.size() - tombstones_; }
    [[nodiscard]] bool empty() const noexcept { return size() == 0; }
    /// Erased keys still remembered.
    [[nodiscard]] std::size_t tombstones() const noexcept { return tombstones_; }
    /// Calls f(key, value) for every key with a value, in no particular order.
    template <class F>
    void for_each(F&& f) const
    {
        for (const auto& [hash, s] : entries_) {
            if (s.entry.value) {
                f(s.entry.key, *s.entry.value);
            }
        }
    }
    /// Hash collisions refused (see the header comment).
    [[nodiscard]] std::uint64_t collisions() const noexcept { return collisions_; }

    /// The highest clock an entry from a peer may carry.
    static constexpr std::uint64_t max_clock = std::uint64_t{1} << 62U;
    /// Past this many keys, entries for new keys from peers are refused (0: no bound).
    void set_max_entries(std::size_t n) noexcept { max_entries_ = n; }
    [[nodiscard]] std::size_t max_entries() const noexcept { return max_entries_; }
    /// Entries from peers refused: for a new key when full, or with a clock above max_clock.
    [[nodiscard]] std::uint64_t refused_full() const noexcept { return refused_full_; }
    [[nodiscard]] std::uint64_t refused_clock() const noexcept { return refused_clock_; }

    /// Collects tombstones whose clock is more than `h` below the replica's clock (0: keep them
    /// for good, the default). See the header comment for the risk this takes.
    void set_tombstone_horizon(std::uint64_t h)
    {
        horizon_ = h;
        expiring_.clear();
        if (h != 0) {
            rebuild_expiring();
            collect();
        }
    }
    [[nodiscard]] std::uint64_t tombstone_horizon() const noexcept { return horizon_; }
    /// Tombstones held and then collected after the horizon.
    [[nodiscard]] std::uint64_t tombstones_collected() const noexcept { return collected_; }
    /// Tombstones from peers already past the horizon on arrival: not kept (an older value they
    /// erase is still erased).
    [[nodiscard]] std::uint64_t refused_expired() const noexcept { return refused_expired_; }
    /// Tombstones waiting for collection, with stale places (overwritten since) among them: at
    /// most twice tombstones() plus 64. The memory the horizon costs, in places of 24 bytes.
    [[nodiscard]] std::size_t collection_queue_size() const noexcept { return expiring_.size(); }
    /// The highest clock of an entry this replica has taken; local writes take the next one.
    [[nodiscard]] std::uint64_t clock() const noexcept { return clock_; }

    // --- what anti_entropy uses -----------------------------------------------------------------
    [[nodiscard]] const merkle_tree& tree() const noexcept { return tree_; }
    [[nodiscard]] std::uint64_t origin() const noexcept { return origin_; }
    void set_origin(std::uint64_t origin) noexcept { origin_ = origin; }

    /// The entry held for a key hash (a Merkle key), or nullptr.
    [[nodiscard]] const entry_type* entry(std::uint64_t hash) const
    {
        const auto* s = find_entry(hash);
        return s != nullptr ? &s->entry : nullptr;
    }

    /// Applies an entry from another replica. True when it changed the map (it won over what was
    /// held, or the key was new).
    bool merge(const entry_type& incoming)
    {
        if (incoming.stamp.clock > max_clock) {
            ++refused_clock_;
            return false;
        }
        const std::uint64_t hash = key_hash(incoming.key);
        auto it = entries_.find(hash);
        if (it == entries_.end() && max_entries_ != 0 && entries_.size() >= max_entries_) {
            ++refused_full_;
            return false;
        }
        if (it != entries_.end()) {
            if (!(it->second.entry.key == incoming.key)) {
                ++collisions_;
                return false;
            }
            if (!wins(incoming, it->second.entry)) {
                return false; // its clock is at most the held one's: nothing to raise
            }
        }
        // The clock rises only with an entry that is taken, so that it never passes the highest
        // clock some replica holds (which carries it to the others; see the header comment).
        clock_ = std::max(clock_, incoming.stamp.clock);
        bool changed = true;
        if (!incoming.value && past_horizon(incoming.stamp.clock)) {
            // Keeping it would only have it collected at once: the erase still happens.
            ++refused_expired_;
            changed = it != entries_.end();
            if (changed) {
                remove(it);
            }
        } else {
            store(hash, incoming, it);
        }
        collect();
        return changed;
    }

    /// The Merkle key of a map key: the stable hash of its encoding.
    [[nodiscard]] static std::uint64_t key_hash(const K& key) { return detail::stable_hash_of(key); }

    /// The Merkle digest of an entry: equal digests mean equal entries (up to hash collisions).
    [[nodiscard]] static std::uint64_t digest(const entry_type& e) { return detail::stable_hash_of(e, 0x6c7777); }

    /// Whether `a` wins over `b`, an entry for the same key. A total order: replicas agree.
    [[nodiscard]] static bool wins(const entry_type& a, const entry_type& b)
    {
        if (a.stamp != b.stamp) {
            return a.stamp > b.stamp;
        }
        // The same entry again (gossip delivers most entries more than once) wins nothing, and
        // needs no encodings: each takes a buffer of codec max_size, 128 KiB for two strings.
        if (a == b) {
            return false;
        }
        return encoding(a) > encoding(b);
    }

private:
    struct stored {
        entry_type entry;
        std::uint64_t digest = 0;
    };
    struct expiring {
        version stamp{}; // a tombstone is live while its key holds this version
        std::uint64_t hash = 0;
        friend constexpr auto operator<=>(const expiring&, const expiring&) = default;
    };

    const entry_type& write_local(K key, std::optional<V> value)
    {
        entry_type e{std::move(key), std::move(value), version{clock_ + 1, origin_}};
        const std::uint64_t hash = key_hash(e.key);
        auto it = entries_.find(hash);
        if (it != entries_.end() && !(it->second.entry.key == e.key)) {
            // A different key with the same hash: the write cannot be held. Vanishingly rare.
            ++collisions_;
            last_refused_ = std::move(e);
            return last_refused_;
        }
        ++clock_;
        it = store(hash, e, it);
        collect(); // the clock rose: older tombstones may now be past the horizon
        return it->second.entry;
    }

    auto store(std::uint64_t hash, const entry_type& e, typename std::unordered_map<std::uint64_t, stored>::iterator it)
    {
        const bool was_tombstone = it != entries_.end() && !it->second.entry.value;
        const bool is_tombstone = !e.value;
        if (it == entries_.end()) {
            it = entries_.emplace(hash, stored{e, 0}).first;
        } else {
            it->second.entry = e;
        }
        it->second.digest = digest(e);
        tombstones_ = tombstones_ - (was_tombstone ? 1 : 0) + (is_tombstone ? 1 : 0);
        tree_.insert_or_assign(hash, it->second.digest);
        if (is_tombstone && horizon_ != 0) {
            push_expiring(e.stamp, hash);
        }
        return it;
    }

    void remove(typename std::unordered_map<std::uint64_t, stored>::iterator it)
    {
        tombstones_ -= it->second.entry.value ? 0 : 1;
        tree_.erase(it->first);
        entries_.erase(it);
    }

    [[nodiscard]] bool past_horizon(std::uint64_t clock) const noexcept
    {
        return horizon_ != 0 && clock < clock_ && clock_ - clock > horizon_;
    }

    // Tombstones leave in clock order, from a min-heap. A heap item whose tombstone was
    // overwritten since is stale and skipped; should stale items come to outnumber live
    // tombstones (a key erased over and over), they are filtered out, in time proportional to the
    // heap, so the heap never holds more than twice the tombstones (plus a little).
    void collect()
    {
        while (!expiring_.empty() && past_horizon(expiring_.front().stamp.clock)) {
            std::pop_heap(expiring_.begin(), expiring_.end(), std::greater<>{});
            const expiring top = expiring_.back();
            expiring_.pop_back();
            if (const auto it = live_tombstone(top); it != entries_.end()) {
                remove(it);
                ++collected_;
            }
        }
        if (expiring_.size() > 2 * tombstones_ + 64) {
            std::erase_if(expiring_, [&](const expiring& x) { return live_tombstone(x) == entries_.end(); });
            std::make_heap(expiring_.begin(), expiring_.end(), std::greater<>{});
        }
    }

    [[nodiscard]] auto live_tombstone(const expiring& x)
    {
        const auto it = entries_.find(x.hash);
        const bool live = it != entries_.end() && !it->second.entry.value && it->second.entry.stamp == x.stamp;
        return live ? it : entries_.end();
    }

    void push_expiring(version stamp, std::uint64_t hash)
    {
        expiring_.push_back({stamp, hash});
        std::push_heap(expiring_.begin(), expiring_.end(), std::greater<>{});
    }

    void rebuild_expiring()
    {
        expiring_.clear();
        for (const auto& [hash, s] : entries_) {
            if (!s.entry.value) {
                expiring_.push_back({s.entry.stamp, hash});
            }
        }
        std::make_heap(expiring_.begin(), expiring_.end(), std::greater<>{});
    }

    [[nodiscard]] const stored* find_entry(std::uint64_t hash) const
    {
        const auto it = entries_.find(hash);
        return it != entries_.end() ? &it->second : nullptr;
    }

    // The last resort of wins(), reached only by two writes with one version: their encodings,
    // compared byte by byte.
    [[nodiscard]] static std::vector<std::byte> encoding(const entry_type& e)
    {
        std::vector<std::byte> bytes(wire::codec<entry_type>::max_size);
        wire::writer w{std::span(bytes)};
        wire::codec<entry_type>::write(w, e);
        bytes.resize(w.ok() ? w.size() : 0);
        return bytes;
    }

    std::unordered_map<std::uint64_t, stored> entries_;
    merkle_tree tree_;
    std::uint64_t origin_ = 0;
    std::uint64_t clock_ = 0;
    std::size_t tombstones_ = 0;
    std::uint64_t collisions_ = 0;
    std::size_t max_entries_ = 0;
    std::uint64_t refused_full_ = 0;
    std::uint64_t refused_clock_ = 0;
    std::uint64_t horizon_ = 0;
    std::uint64_t collected_ = 0;
    std::uint64_t refused_expired_ = 0;
    // Tombstones by clock, a min-heap (only with a horizon).
    std::vector<expiring> expiring_;
    entry_type last_refused_{};
};

} // namespace gossip::payload
