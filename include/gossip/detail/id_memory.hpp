#pragma once

// A bounded memory of 64-bit ids: which rumors a node has seen. Lookups go through an
// open-addressing table; a ring in arrival order says which id to forget first. Nothing is
// allocated until the first id arrives, so a million idle nodes cost a few words each.
// Ids may come from peers: a key the owner draws from its seed decides where each id lands,
// so that a sender cannot choose ids that pile up in one run of the table.

#include "../random.hpp"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

namespace gossip::detail {

class id_memory {
public:
    struct entry {
        std::uint64_t id = 0;
        std::int64_t born = 0; ///< when the rumor was born, in the owner's periods
    };

    explicit id_memory(std::size_t capacity = 4096) : capacity_(capacity > 0 ? capacity : 1) {}

    /// Places ids by `key` from now on (the ids remembered stay remembered).
    void rekey(std::uint64_t key)
    {
        key_ = key;
        if (!table_.empty()) {
            std::vector<std::uint64_t> old(table_.size(), 0);
            old.swap(table_);
            used_ = 0;
            for (const auto id : old) {
                if (id != 0) {
                    place(id);
                }
            }
        }
    }

    [[nodiscard]] std::size_t size() const noexcept { return size_; }
    [[nodiscard]] std::size_t capacity() const noexcept { return capacity_; }

    [[nodiscard]] bool contains(std::uint64_t id) const noexcept
    {
        if (id == 0) {
            return has_zero_;
        }
        if (table_.empty()) {
            return false;
        }
        for (std::size_t i = slot(id);; i = (i + 1) & mask()) {
            if (table_[i] == id) {
                return true;
            }
            if (table_[i] == 0) {
                return false;
            }
        }
    }

    /// Remembers an id not yet remembered. When full, the earliest remembered id is forgotten
    /// first and returned, so that the owner can refuse whatever it can no longer recognise.
    std::optional<entry> insert(std::uint64_t id, std::int64_t born)
    {
        std::optional<entry> evicted;
        if (size_ == capacity_) {
            evicted = ring_[head_];
            pop_front();
        }
        if (ring_.size() < capacity_ && ring_.size() == size_) {
            // Growing a wrapped ring: straighten it first, so that appending keeps the order.
            std::rotate(ring_.begin(), ring_.begin() + static_cast<std::ptrdiff_t>(head_), ring_.end());
            head_ = 0;
            ring_.push_back(entry{id, born});
        } else {
            ring_[(head_ + size_) % ring_.size()] = entry{id, born};
        }
        ++size_;
        if (id == 0) {
            has_zero_ = true;
        } else {
            if ((used_ + 1) * 2 > table_.size()) {
                grow();
            }
            place(id);
        }
        return evicted;
    }

    /// Forgets, in arrival order, every id born before `cutoff`, stopping at the first younger one.
    void expire(std::int64_t cutoff) noexcept
    {
        while (size_ > 0 && ring_[head_].born < cutoff) {
            pop_front();
        }
    }

    /// The ids remembered, newest first, while f(entry) returns true.
    template <class F>
    void for_each_newest_first(F&& f) const
    {
        for (std::size_t k = size_; k > 0; --k) {
            if (!f(ring_[(head_ + k - 1) % ring_.size()])) {
                return;
            }
        }
    }

    /// Bytes held on the heap.
    [[nodiscard]] std::size_t memory_bytes() const noexcept
    {
        return ring_.capacity() * sizeof(entry) + table_.capacity() * sizeof(std::uint64_t);
    }

private:
    [[nodiscard]] std::size_t mask() const noexcept { return table_.size() - 1; }

    [[nodiscard]] std::size_t slot(std::uint64_t id) const noexcept
    {
        return static_cast<std::size_t>(mix_seed(id, key_)) & mask();
    }

    void place(std::uint64_t id) noexcept
    {
        std::size_t i = slot(id);
        while (table_[i] != 0) {
            i = (i + 1) & mask();
        }
        table_[i] = id;
        ++used_;
    }

    void grow()
    {
        std::vector<std::uint64_t> old;
        old.swap(table_);
        table_.assign(old.empty() ? 16 : old.size() * 2, 0);
        used_ = 0;
        for (const auto id : old) {
            if (id != 0) {
                place(id);
            }
        }
    }

    void erase(std::uint64_t id) noexcept
    {
        if (id == 0) {
            has_zero_ = false;
            return;
        }
        std::size_t i = slot(id);
        while (table_[i] != id) {
            if (table_[i] == 0) {
                return;
            }
            i = (i + 1) & mask();
        }
        // Backward-shift deletion: later members of the probe run move up, so no tombstones.
        std::size_t hole = i;
        for (std::size_t j = (i + 1) & mask(); table_[j] != 0; j = (j + 1) & mask()) {
            const std::size_t home = slot(table_[j]);
            const bool movable = hole <= j ? (home <= hole || home > j) : (home <= hole && home > j);
            if (movable) {
                table_[hole] = table_[j];
                hole = j;
            }
        }
        table_[hole] = 0;
        --used_;
    }

    void pop_front() noexcept
    {
        erase(ring_[head_].id);
        head_ = (head_ + 1) % ring_.size();
        --size_;
    }

    std::size_t capacity_;
    std::uint64_t key_ = 0;
    std::vector<entry> ring_;
    std::vector<std::uint64_t> table_; // 0 marks an empty slot; id 0 itself lives in has_zero_
    std::size_t head_ = 0;
    std::size_t size_ = 0;
    std::size_t used_ = 0;
    bool has_zero_ = false;
};

} // namespace gossip::detail
