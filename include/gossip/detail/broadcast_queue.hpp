#pragma once

// Updates waiting to ride on outgoing messages (SWIM's piggybacking), each sent a limited number
// of times: fewest-sent first, newest first among equals, so that fresh news overtakes news that
// has already travelled. A newer update under the same key (a member's latest state) replaces
// the older at once. Items wait in buckets by how often they were sent, so that choosing what to
// write costs what is written, not what waits.
//
// Two classes of items share the room: system (membership) and user (application broadcasts),
// each with its own capacity and its own limit on transmissions (nothing repairs a user broadcast a member missed,
// while a periodic sync repairs membership). While user items wait, they are sure of a share of
// the room; the rest goes to system items first, and whatever either class leaves goes to the
// other.

#include "../wire/writer.hpp"

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <unordered_map>
#include <utility>
#include <vector>

namespace gossip::detail {

class broadcast_queue {
public:
    /// At most `system_capacity` membership items and `user_capacity` user items wait; past
    /// either, the most-sent, oldest item of that class is dropped, so that a flood of one class
    /// cannot push the other out.
    explicit broadcast_queue(std::size_t system_capacity = 8192, std::size_t user_capacity = 8192)
        : capacity_{std::max<std::size_t>(system_capacity, 1), std::max<std::size_t>(user_capacity, 1)}
    {
    }

    /// Queues an encoded update under `key`; one already waiting under the same key and class
    /// is replaced. Returns how many items were dropped to stay within capacity (0 or 1).
    std::size_t push(std::uint64_t key, bool user, std::span<const std::byte> bytes)
    {
        const std::size_t c = user ? 1 : 0;
        const std::uint64_t serial = ++serial_;
        const auto [it, fresh] = live_[c].try_emplace(key, serial);
        if (!fresh) {
            it->second = serial; // the old item is stale now, and is skipped and dropped lazily
        }
        if (buckets_.empty()) {
            buckets_.emplace_back();
        }
        buckets_[0].push_back(item{key, serial, 0, user, false, {bytes.begin(), bytes.end()}});
        ++stored_;
        std::size_t dropped = 0;
        if (live_[c].size() > capacity_[c] && drop_most_sent(user)) {
            ++dropped;
        }
        if (stored_ > 2 * size() + 64) {
            compact(); // replaced and dropped items, when nothing was written for a while
        }
        return dropped;
    }

    /// Items held, stale ones (replaced, or dropped for room) included: at most 2 size() + 64,
    /// however long nothing is written.
    [[nodiscard]] std::size_t held() const noexcept { return stored_; }

    /// Whether an item of that class waits under `key`.
    [[nodiscard]] bool waiting(std::uint64_t key, bool user) const { return live_[user ? 1 : 0].contains(key); }

    /// Items waiting (each at most once, whatever replaced it).
    [[nodiscard]] std::size_t size() const noexcept { return live_[0].size() + live_[1].size(); }
    [[nodiscard]] bool empty() const noexcept { return size() == 0; }

    /// How many times, in all, an item of each class is sent.
    struct limits {
        std::uint32_t system = 1;
        std::uint32_t user = 1;
    };

    /// Appends waiting items to w while they fit within `room` more bytes (and w), sending each
    /// at most its class's limit of times in all; user items are sure of `user_share` of the
    /// room while any wait. Returns how many items were written.
    std::size_t write(wire::writer& w, std::size_t room, limits most, double user_share)
    {
        most.system = std::max<std::uint32_t>(most.system, 1);
        most.user = std::max<std::uint32_t>(most.user, 1);
        limits_ = most;
        trim(std::max(most.system, most.user));
        const std::size_t end = w.size() + std::min(room, w.remaining());
        std::size_t written = 0;
        if (has_live(true) && user_share > 0) {
            const auto user_room = static_cast<std::size_t>(static_cast<double>(end - w.size()) * user_share);
            written += fill(w, false, end - user_room);
            written += fill(w, true, end);
        }
        written += fill(w, false, end);
        written += fill(w, true, end);
        advance(); // also drops what is over a limit that shrank, written or not
        if (empty()) {
            release();
        }
        return written;
    }

    /// The same limit for both classes.
    std::size_t write(wire::writer& w, std::size_t room, std::uint32_t limit, double user_share)
    {
        return write(w, room, limits{limit, limit}, user_share);
    }

    /// Forgets everything waiting.
    void clear()
    {
        live_[0].clear();
        live_[1].clear();
        release();
    }

private:
    struct item {
        std::uint64_t key = 0;
        std::uint64_t serial = 0;
        std::uint32_t transmits = 0;
        bool user = false;
        bool written = false; ///< in the message being written
        std::vector<std::byte> bytes;
    };

    [[nodiscard]] bool is_live(const item& i) const
    {
        const auto& live = live_[i.user ? 1 : 0];
        const auto it = live.find(i.key);
        return it != live.end() && it->second == i.serial;
    }

    [[nodiscard]] bool has_live(bool user) const { return !live_[user ? 1 : 0].empty(); }

    void forget(const item& i)
    {
        auto& live = live_[i.user ? 1 : 0];
        const auto it = live.find(i.key);
        if (it != live.end() && it->second == i.serial) {
            live.erase(it);
        }
    }

    // Writes live items of one class, fewest-sent and newest first, until `end`.
    std::size_t fill(wire::writer& w, bool user, std::size_t end)
    {
        std::size_t written = 0;
        for (auto& bucket : buckets_) {
            for (std::size_t k = bucket.size(); k > 0; --k) {
                if (end - w.size() < smallest_item) {
                    return written;
                }
                item& i = bucket[k - 1];
                if (i.written || i.user != user || i.transmits >= limit_of(i) || !is_live(i)) {
                    continue;
                }
                if (w.size() + i.bytes.size() > end) {
                    continue; // a smaller one may still fit
                }
                if (wire::append_if_fits(
                        w, [&](wire::writer& out) { out.bytes(i.bytes); }, end)) {
                    i.written = true;
                    ++written;
                }
            }
        }
        return written;
    }

    [[nodiscard]] std::uint32_t limit_of(const item& i) const noexcept
    {
        return i.user ? limits_.user : limits_.system;
    }

    // Moves what was just written one bucket up (or out, at its class's limit), and drops stale
    // items and items over their limit (the limits shrink when members leave).
    void advance()
    {
        const std::size_t top = buckets_.size();
        buckets_.resize(top + 1);
        for (std::size_t b = top; b > 0; --b) {
            auto& from = buckets_[b - 1];
            auto& to = buckets_[b];
            const std::size_t settled = to.size();
            std::size_t kept = 0;
            for (std::size_t k = 0; k < from.size(); ++k) {
                item& i = from[k];
                if (!is_live(i)) {
                    continue;
                }
                if (i.written) {
                    i.written = false;
                    ++i.transmits;
                }
                if (i.transmits >= limit_of(i)) {
                    forget(i);
                    continue;
                }
                if (i.transmits == b) {
                    to.push_back(std::move(i));
                    continue;
                }
                if (kept != k) {
                    from[kept] = std::move(i);
                }
                ++kept;
            }
            stored_ -= from.size() - kept - (to.size() - settled);
            from.resize(kept);
            // Each bucket stays in the order items were queued, so that newest-first holds
            // among items sent equally often, whenever each was sent.
            std::inplace_merge(to.begin(), to.begin() + static_cast<std::ptrdiff_t>(settled), to.end(),
                               [](const item& x, const item& y) { return x.serial < y.serial; });
        }
        while (!buckets_.empty() && buckets_.back().empty()) {
            buckets_.pop_back();
        }
        fronts_.clear();
    }

    // Drops every stale item (replaced, or dropped for room) at once.
    void compact()
    {
        for (auto& bucket : buckets_) {
            const auto stale = std::remove_if(bucket.begin(), bucket.end(), [&](const item& i) { return !is_live(i); });
            stored_ -= static_cast<std::size_t>(bucket.end() - stale);
            bucket.erase(stale, bucket.end());
        }
        fronts_.clear();
    }

    // An empty queue gives back what a burst made it hold (a join brings an update per member).
    void release()
    {
        std::vector<std::vector<item>>().swap(buckets_);
        std::vector<std::size_t>().swap(fronts_);
        stored_ = 0;
        if (live_[0].bucket_count() > 64) {
            std::unordered_map<std::uint64_t, std::uint64_t>().swap(live_[0]);
        }
        if (live_[1].bucket_count() > 64) {
            std::unordered_map<std::uint64_t, std::uint64_t>().swap(live_[1]);
        }
    }

    // Drops items sent `limit` times or more (the limit shrinks when members leave).
    void trim(std::uint32_t limit)
    {
        while (buckets_.size() > limit) {
            for (const auto& i : buckets_.back()) {
                forget(i);
            }
            stored_ -= buckets_.back().size();
            buckets_.pop_back();
        }
        fronts_.resize(std::min(fronts_.size(), buckets_.size()));
    }

    // The most-sent, oldest item of a class goes first when that class is full. It is only
    // marked stale (compact() and advance() remove it); fronts_ remembers how many items at the
    // head of each bucket are known stale, so that a flood does not rescan them at every push.
    bool drop_most_sent(bool user)
    {
        fronts_.resize(buckets_.size(), 0);
        for (std::size_t b = buckets_.size(); b > 0; --b) {
            auto& bucket = buckets_[b - 1];
            std::size_t& front = fronts_[b - 1];
            for (std::size_t k = front; k < bucket.size(); ++k) {
                const item& i = bucket[k];
                const bool live = is_live(i);
                if (live && i.user == user) {
                    forget(i);
                    if (k == front) {
                        ++front;
                    }
                    return true;
                }
                if (!live && k == front) {
                    ++front;
                }
            }
        }
        return false;
    }

    // No update is shorter: a kind byte and an 8-byte id.
    static constexpr std::size_t smallest_item = 9;

    std::array<std::size_t, 2> capacity_; // system, user
    limits limits_{};
    std::vector<std::vector<item>> buckets_;                               // by transmissions so far
    std::vector<std::size_t> fronts_;                                      // stale items at each bucket's head
    std::array<std::unordered_map<std::uint64_t, std::uint64_t>, 2> live_; // key -> serial of its live item
    std::uint64_t serial_ = 0;
    std::size_t stored_ = 0; // items in the buckets, stale ones included
};

} // namespace gossip::detail
