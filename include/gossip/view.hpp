#pragma once

// A node's partial view: at most c descriptors, never the node itself, never one address twice.

#include "descriptor.hpp"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>
#include <vector>

namespace gossip {

/// A node's partial view (the paper's c-bounded list of descriptors), owned by gossip_node and
/// reshaped only by its view-selection policy. Read-only for everyone else, so the invariants
/// above (no self, no duplicate, at most c) cannot be broken from outside.
template <class Address>
class view {
public:
    using address_type = Address;
    using value_type = descriptor<Address>;
    using const_iterator = typename std::vector<value_type>::const_iterator;

    view() = default;

    [[nodiscard]] std::size_t size() const noexcept { return items_.size(); }
    [[nodiscard]] bool empty() const noexcept { return items_.empty(); }
    [[nodiscard]] const value_type& operator[](std::size_t i) const noexcept { return items_[i]; }
    [[nodiscard]] const_iterator begin() const noexcept { return items_.begin(); }
    [[nodiscard]] const_iterator end() const noexcept { return items_.end(); }
    [[nodiscard]] std::span<const value_type> descriptors() const noexcept { return items_; }

    [[nodiscard]] bool contains(const Address& a) const noexcept { return find(a) != npos; }

    static constexpr std::size_t npos = std::numeric_limits<std::size_t>::max();

    [[nodiscard]] std::size_t find(const Address& a) const noexcept
    {
        for (std::size_t i = 0; i < items_.size(); ++i) {
            if (items_[i].address == a) {
                return i;
            }
        }
        return npos;
    }

    /// The storage itself, for view-selection policies. Whoever mutates it keeps the invariants
    /// (no self, no duplicate, at most c); gossip_node checks them in debug builds.
    [[nodiscard]] std::vector<value_type>& storage() noexcept { return items_; }

    /// Every descriptor one exchange older; saturates rather than wrapping to "fresh".
    void increase_age() noexcept
    {
        for (auto& d : items_) {
            d.age += d.age != std::numeric_limits<std::uint32_t>::max() ? 1U : 0U;
        }
    }

    /// True when the invariants hold for a node at `self` with view size c.
    [[nodiscard]] bool well_formed(const Address& self, std::size_t c) const
    {
        if (items_.size() > c) {
            return false;
        }
        for (std::size_t i = 0; i < items_.size(); ++i) {
            if (items_[i].address == self) {
                return false;
            }
            for (std::size_t j = i + 1; j < items_.size(); ++j) {
                if (items_[i].address == items_[j].address) {
                    return false;
                }
            }
        }
        return true;
    }

    void clear() noexcept { items_.clear(); }

    friend bool operator==(const view&, const view&) = default;

private:
    std::vector<value_type> items_;
};

} // namespace gossip
