#pragma once

// A replicated set of T (any type with a wire::codec): an lww_map whose values carry nothing.
// Each element's latest insert or erase wins, by the same versions as lww_map, so an element
// erased and inserted again concurrently ends up in whichever state was written last.

#include "../wire/codec.hpp"
#include "lww_map.hpp"
#include "merkle_tree.hpp"

#include <cstddef>
#include <cstdint>
#include <utility>
#include <variant>

namespace gossip::payload {

// clang-format 14 mangles concepts and requires-clauses: kept as written.
// clang-format off
/// A set of T that anti_entropy keeps in sync across nodes, for when membership itself is the
/// data (tags, subscriptions, known keys). Concurrent insert and erase of one element: the later
/// write wins.
template <class T>
    requires wire::encodable<T>
// clang-format on
class replicated_set {
public:
    using value_type = T;
    using entry_type = lww_entry<T, std::monostate>;

    explicit replicated_set(std::uint64_t origin = 0) noexcept : map_(origin) {}

    /// Each returns the entry written, to be spread.
    const entry_type& insert(T value) { return map_.put(std::move(value), std::monostate{}); }
    const entry_type& erase(T value) { return map_.erase(std::move(value)); }

    [[nodiscard]] bool contains(const T& value) const { return map_.contains(value); }
    [[nodiscard]] std::size_t size() const noexcept { return map_.size(); }
    [[nodiscard]] bool empty() const noexcept { return map_.empty(); }
    [[nodiscard]] std::size_t tombstones() const noexcept { return map_.tombstones(); }
    /// Calls f(value) for every element, in no particular order.
    template <class F>
    void for_each(F&& f) const
    {
        map_.for_each([&](const T& value, std::monostate) { f(value); });
    }

    // What anti_entropy uses; see lww_map.
    [[nodiscard]] const merkle_tree& tree() const noexcept { return map_.tree(); }
    [[nodiscard]] std::uint64_t origin() const noexcept { return map_.origin(); }
    void set_origin(std::uint64_t origin) noexcept { map_.set_origin(origin); }
    [[nodiscard]] const entry_type* entry(std::uint64_t hash) const { return map_.entry(hash); }
    bool merge(const entry_type& incoming) { return map_.merge(incoming); }
    [[nodiscard]] std::uint64_t collisions() const noexcept { return map_.collisions(); }

    // Bounds; see lww_map.
    void set_max_entries(std::size_t n) noexcept { map_.set_max_entries(n); }
    [[nodiscard]] std::size_t max_entries() const noexcept { return map_.max_entries(); }
    [[nodiscard]] std::uint64_t refused_full() const noexcept { return map_.refused_full(); }
    [[nodiscard]] std::uint64_t refused_clock() const noexcept { return map_.refused_clock(); }
    void set_tombstone_horizon(std::uint64_t h) { map_.set_tombstone_horizon(h); }
    [[nodiscard]] std::uint64_t tombstone_horizon() const noexcept { return map_.tombstone_horizon(); }
    [[nodiscard]] std::uint64_t tombstones_collected() const noexcept { return map_.tombstones_collected(); }
    [[nodiscard]] std::uint64_t refused_expired() const noexcept { return map_.refused_expired(); }

private:
    lww_map<T, std::monostate> map_;
};

} // namespace gossip::payload
