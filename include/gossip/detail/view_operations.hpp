#pragma once

// The steps of Jelasity et al.'s view.select(c, H, S, buffer) and of buffer preparation, shared
// by every ready-made view selection. They work on the view's storage in place and keep the
// order of what they do not remove, because the swapper step relies on it: after prepare(), the
// descriptors just sent sit at the head of the view.

#include "../descriptor.hpp"
#include "../random.hpp"

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <vector>

namespace gossip::detail {

/// A 256-bit presence filter over addresses: "certainly absent" in one probe, so that merging
/// a sample of m into a view of n costs about n + m operations instead of n * m comparisons.
/// Address types without std::hash fall back to the plain scan.
template <class Address>
concept hashable_address = requires(const Address& a) {
    { std::hash<Address>{}(a) } -> std::convertible_to<std::size_t>;
};

template <class Address>
class presence_filter {
public:
    void insert(const Address& a) noexcept
    {
        if constexpr (hashable_address<Address>) {
            const auto b = bit(a);
            words_[b >> 6U] |= std::uint64_t{1} << (b & 63U);
        }
    }

    [[nodiscard]] bool may_contain(const Address& a) const noexcept
    {
        if constexpr (hashable_address<Address>) {
            const auto b = bit(a);
            return (words_[b >> 6U] >> (b & 63U) & 1U) != 0;
        } else {
            return true;
        }
    }

private:
    static std::size_t bit(const Address& a) noexcept
    {
        // Fibonacci hashing: std::hash of an integer is often the identity.
        return static_cast<std::size_t>((static_cast<std::uint64_t>(std::hash<Address>{}(a)) * 0x9e3779b97f4a7c15ULL) >>
                                        56U);
    }

    std::array<std::uint64_t, 4> words_{};
};

/// Appends `received`, keeping the younger age where an address is already present.
template <class Address>
void append_fresh(std::vector<descriptor<Address>>& v, std::span<const descriptor<Address>> received)
{
    presence_filter<Address> present;
    for (const auto& d : v) {
        present.insert(d.address);
    }
    std::size_t n = v.size();
    v.resize(n + received.size());
    descriptor<Address>* out = v.data();
    for (const auto& r : received) {
        if (present.may_contain(r.address)) {
            auto* it = std::find_if(out, out + n, [&](const auto& d) { return d.address == r.address; });
            if (it != out + n) {
                it->age = std::min(it->age, r.age);
                continue;
            }
        }
        out[n++] = r;
        present.insert(r.address);
    }
    v.resize(n);
}

/// Where the k most extreme ages (the oldest, or the youngest) begin: every age strictly beyond
/// `age` is in, and so are the first `at_cut` of those equal to it.
struct age_cut {
    std::uint32_t age = 0;
    std::size_t at_cut = 0;
};

enum class extreme : std::uint8_t { oldest, youngest };

[[nodiscard]] constexpr bool beyond(extreme e, std::uint32_t age, std::uint32_t cut) noexcept
{
    return e == extreme::oldest ? age > cut : age < cut;
}

/// Finds the cut for the k most extreme ages, 0 < k < size. Ages in a view span a few dozen
/// exchanges, so a 64-bucket histogram finds the cut in one pass; a wider spread falls back to
/// a selection over a copy.
template <class Address>
[[nodiscard]] age_cut find_age_cut(std::span<const descriptor<Address>> v, std::size_t k, extreme e)
{
    std::uint32_t lo = v[0].age;
    std::uint32_t hi = v[0].age;
    for (const auto& d : v) {
        lo = std::min(lo, d.age);
        hi = std::max(hi, d.age);
    }
    if (hi - lo < 64) {
        std::array<std::uint32_t, 64> count{};
        for (const auto& d : v) {
            ++count[d.age - lo];
        }
        std::size_t taken = 0;
        for (std::uint32_t i = 0; i <= hi - lo; ++i) {
            const std::uint32_t bucket = e == extreme::oldest ? hi - lo - i : i;
            if (taken + count[bucket] >= k) {
                return age_cut{lo + bucket, k - taken};
            }
            taken += count[bucket];
        }
    }
    thread_local std::vector<std::uint32_t> ages;
    ages.resize(v.size());
    for (std::size_t i = 0; i < v.size(); ++i) {
        ages[i] = v[i].age;
    }
    const auto nth = ages.begin() + static_cast<std::ptrdiff_t>(k - 1);
    if (e == extreme::oldest) {
        std::nth_element(ages.begin(), nth, ages.end(), std::greater<>{});
    } else {
        std::nth_element(ages.begin(), nth, ages.end());
    }
    const std::uint32_t cut = *nth;
    std::size_t strictly = 0;
    for (auto a : ages) {
        strictly += beyond(e, a, cut) ? 1 : 0;
    }
    return age_cut{cut, k - strictly};
}

/// Removes exactly k descriptors, the oldest or the youngest, keeping the others in order.
/// Among equal ages at the cut, the earlier ones go.
template <class Address>
void remove_extreme_ages(std::vector<descriptor<Address>>& v, std::size_t k, extreme e)
{
    if (k == 0) {
        return;
    }
    if (k >= v.size()) {
        v.clear();
        return;
    }
    auto [cut, at_cut] = find_age_cut(std::span<const descriptor<Address>>(v), k, e);
    // Branch-free compaction: which descriptors go depends on random ages, which a branch
    // predictor cannot learn.
    descriptor<Address>* data = v.data();
    std::size_t kept = 0;
    for (std::size_t i = 0; i < v.size(); ++i) {
        const auto d = data[i];
        const bool take_at_cut = (d.age == cut) & (at_cut > 0);
        at_cut -= take_at_cut ? 1 : 0;
        data[kept] = d;
        kept += (beyond(e, d.age, cut) | take_at_cut) ? 0 : 1;
    }
    v.resize(kept);
}

/// Moves the `healer` oldest descriptors to the end (they are not sent), then `count` random
/// others to the front. Returns how many descriptors the buffer takes from the front.
template <class Address, random_source R>
std::size_t prepare_buffer(std::vector<descriptor<Address>>& v, std::size_t count, std::size_t healer, R& rng)
{
    const std::size_t n = v.size();
    const std::size_t h = std::min(healer, n);
    if (h > 0 && h < n) {
        auto [cut, at_cut] = find_age_cut(std::span<const descriptor<Address>>(v), h, extreme::oldest);
        // Stable, branch-free partition through a scratch copy: the young to the front, the h
        // oldest to the back.
        thread_local std::vector<descriptor<Address>> copy;
        copy.assign(v.begin(), v.end());
        descriptor<Address>* out = v.data();
        std::size_t young = 0;
        std::size_t old = n - h;
        for (std::size_t i = 0; i < n; ++i) {
            const auto d = copy[i];
            const bool take_at_cut = (d.age == cut) & (at_cut > 0);
            at_cut -= take_at_cut ? 1 : 0;
            const bool is_old = (d.age > cut) | take_at_cut;
            out[is_old ? old : young] = d;
            old += is_old ? 1 : 0;
            young += is_old ? 0 : 1;
        }
    }
    partial_shuffle(std::span(v).first(n - std::min(h, n)), count, rng);
    return std::min(count, n);
}

/// What to drop once healer and swapper have had their turn and the view is still above c.
enum class surplus : std::uint8_t {
    random,   ///< uniformly random descriptors (Jelasity et al.'s removeAtRandom)
    oldest,   ///< the oldest: keeps the youngest ("head" view selection)
    youngest, ///< the youngest: keeps the oldest ("tail" view selection)
};

/// view.select(c, H, S, received): append, drop the H oldest, the S sent, then the surplus.
/// Works in a per-thread scratch buffer so that the view's own allocation never grows past c:
/// at a million nodes, a view that doubled its capacity once would double the simulator's memory.
template <class Address, random_source R>
void merge_view(std::vector<descriptor<Address>>& view, std::span<const descriptor<Address>> received,
                std::size_t c, std::size_t healer, std::size_t swapper, surplus rule, R& rng)
{
    thread_local std::vector<descriptor<Address>> v;
    v.assign(view.begin(), view.end());
    append_fresh(v, received);
    const auto excess = [&] { return v.size() > c ? v.size() - c : std::size_t{0}; };
    remove_extreme_ages(v, std::min(healer, excess()), extreme::oldest);
    v.erase(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(std::min(swapper, excess())));
    switch (rule) {
    case surplus::random:
        for (std::size_t k = excess(); k > 0; --k) {
            const std::size_t i = uniform_index(rng, v.size());
            v[i] = v.back();
            v.pop_back();
        }
        break;
    case surplus::oldest: remove_extreme_ages(v, excess(), extreme::oldest); break;
    case surplus::youngest: remove_extreme_ages(v, excess(), extreme::youngest); break;
    }
    view.assign(v.begin(), v.end());
}

} // namespace gossip::detail
