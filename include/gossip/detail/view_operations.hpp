#pragma once

// The steps of Jelasity et al.'s view.select(c, H, S, buffer) and of buffer preparation, shared
// by every ready-made view selection. They work on the view's storage in place and keep the
// order of what they do not remove, because the swapper step relies on it: after prepare(), the
// descriptors just sent sit at the head of the view.

#include "../descriptor.hpp"
#include "../random.hpp"
#include "scratch.hpp"

#include <algorithm>
#include <array>
#include <bit>
#include <cassert>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <vector>

namespace gossip::detail {

// clang-format 14 mangles concepts and requires-clauses: kept as written.
// clang-format off
/// An address type whose own quick hash the library's tables take: index_hash(a), found by
/// argument-dependent lookup (udp_address has one).
template <class Address>
concept quick_hashable_address = requires(const Address& a) {
    { index_hash(a) } -> std::convertible_to<std::uint64_t>;
};
// clang-format on

// clang-format off
/// Address types with neither index_hash nor std::hash fall back to plain scans.
template <class Address>
concept hashable_address = quick_hashable_address<Address> || requires(const Address& a) {
    { std::hash<Address>{}(a) } -> std::convertible_to<std::size_t>;
};
// clang-format on

// clang-format off
/// The hash the tables below take: index_hash when the type has one, else std::hash. Either
/// way the caller takes its fibonacci_slot, not its low bits (std::hash of an integer is often
/// the identity).
template <class Address>
    requires hashable_address<Address>
// clang-format on
[[nodiscard]] [[gnu::always_inline]] inline std::uint64_t address_hash(const Address& a) noexcept
{
    if constexpr (quick_hashable_address<Address>) {
        return static_cast<std::uint64_t>(index_hash(a));
    } else {
        return static_cast<std::uint64_t>(std::hash<Address>{}(a));
    }
}

/// The slot of hash h in a table of 2^bits (0 < bits <= 64): the top bits of h times 2^64 / phi.
[[nodiscard]] [[gnu::always_inline]] inline std::size_t fibonacci_slot(std::uint64_t h, unsigned bits) noexcept
{
    return static_cast<std::size_t>((h * 0x9e3779b97f4a7c15ULL) >> (64U - bits));
}

/// A 256-bit presence filter over addresses: "certainly absent" in one probe, so that merging
/// a sample of m into a view of n costs about n + m operations instead of n * m comparisons.
/// Address types without a hash answer "maybe" to everything, which leaves the plain scan.
template <class Address, std::size_t Words = 4>
class presence_filter {
public:
    presence_filter() noexcept
    {
        // Two words a step: g++ clears that with vector stores, which the inserts' loads can
        // take their bytes from. Cleared as one block it became a string store (rep stos), which
        // the processor cannot forward from: each first insert into a word waited for it.
        for (std::size_t i = 0; i < Words; i += 2) {
            words_[i] = 0;
            words_[i + 1 < Words ? i + 1 : i] = 0;
        }
    }

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

    /// may_contain(a), then insert(a), with one hash.
    [[nodiscard]] bool test_and_insert(const Address& a) noexcept
    {
        if constexpr (hashable_address<Address>) {
            return test_and_insert_hash(address_hash(a));
        } else {
            return true;
        }
    }

    /// test_and_insert() for an address whose address_hash() the caller has.
    [[nodiscard]] bool test_and_insert_hash(std::uint64_t h) noexcept
    {
        const auto b = bit_of(h);
        auto& word = words_[b >> 6U];
        const std::uint64_t mask = std::uint64_t{1} << (b & 63U);
        const bool was = (word & mask) != 0;
        word |= mask;
        return was;
    }

private:
    static_assert(Words >= 1 && (Words & (Words - 1)) == 0, "a power of two of 64-bit words");
    static constexpr unsigned bits = static_cast<unsigned>(std::countr_zero(Words * 64));

    static std::size_t bit(const Address& a) noexcept { return bit_of(address_hash(a)); }
    static std::size_t bit_of(std::uint64_t h) noexcept { return fibonacci_slot(h, bits); }

    std::array<std::uint64_t, Words> words_;
};

/// Appends `received`; where an address is already present the younger copy survives, in its
/// own place: a fresher received copy replaces the old one at the tail (so that swapping away
/// the head, which holds what was just sent, cannot discard fresh news), an older one is dropped.
///
/// The scan on a raw buffer: `out` holds n0 descriptors and room for received.size() more;
/// returns the new size. Filter answers "certainly absent" for most of what a large overlay
/// sends, so that the view is scanned only for the rest. `found` counts the received addresses
/// that were present.
template <class Filter, class Address>
[[nodiscard]] std::size_t append_fresh_in(descriptor<Address>* out, std::size_t n0,
                                          std::span<const descriptor<Address>> received, std::size_t& found)
{
    Filter present;
    for (std::size_t i = 0; i < n0; ++i) {
        present.insert(out[i].address);
    }
    std::size_t n = n0;
    for (const auto& r : received) {
        if (present.may_contain(r.address)) {
            auto* it = std::find_if(out, out + n, [&](const auto& d) { return d.address == r.address; });
            if (it != out + n) {
                ++found;
                if (r.age < it->age) {
                    // Common: every reply carries its sender, whom the asker already knew.
                    std::copy(it + 1, out + n, it);
                    out[n - 1] = r;
                }
                continue;
            }
        }
        out[n++] = r;
        present.insert(r.address);
    }
    return n;
}

/// This is the plain form: a linear search of the view per received descriptor.
template <class Address>
void append_fresh_scan(std::vector<descriptor<Address>>& v, std::span<const descriptor<Address>> received)
{
    const std::size_t n0 = v.size();
    v.resize(n0 + received.size());
    std::size_t found = 0;
    v.resize(append_fresh_in<presence_filter<Address>>(v.data(), n0, received, found));
}

/// append_fresh_indexed with index slots of type Slot (descriptor index + 1; 0: empty), which
/// must hold n0 + received.size().
template <class Slot, class Address>
[[nodiscard]] bool append_fresh_indexed_in(std::vector<descriptor<Address>>& v,
                                           std::span<const descriptor<Address>> received)
{
    const std::size_t n0 = v.size();
    const std::size_t total = n0 + received.size();
    // At most a quarter full: a probe that meets another address is a branch mispredicted.
    unsigned bits = 6;
    while ((std::size_t{1} << bits) < 4 * total) {
        ++bits;
    }
    struct slots_tag {};
    struct replaced_tag {};
    scratch_vector<Slot, slots_tag> slots_lease;
    scratch_vector<std::uint8_t, replaced_tag> replaced_lease;
    auto& slots = slots_lease.get();
    auto& replaced = replaced_lease.get();
    slots.assign(std::size_t{1} << bits, 0);
    const std::size_t mask = slots.size() - 1;
    Slot* table = slots.data();
    const auto* in = v.data();
    // The slot holding `a`, or the empty one where it would go.
    const auto slot_of = [&](const Address& a, const descriptor<Address>* entries) -> Slot& {
        auto i = fibonacci_slot(address_hash(a), bits);
        while (table[i] != 0 && !(entries[table[i] - 1].address == a)) {
            i = (i + 1) & mask;
        }
        return table[i];
    };
    for (std::size_t i = 0; i < n0; ++i) {
        auto& s = slot_of(in[i].address, in);
        if (s != 0) {
            return false;
        }
        s = static_cast<Slot>(i + 1);
    }
    replaced.assign(total, 0);
    v.resize(total);
    descriptor<Address>* out = v.data();
    std::size_t n = n0;
    std::uint32_t any_replaced = 0;
    for (const auto& r : received) {
        auto& s = slot_of(r.address, out);
        // out[n] is free (n < total here): written first, kept or not after.
        out[n] = r;
        if (s == 0) {
            s = static_cast<Slot>(++n);
            continue;
        }
        // Whether the received copy is the fresher one is a coin toss to a branch predictor:
        // decided without a branch. Common: every reply carries its sender, whom the asker knew.
        const std::size_t old = s - 1U;
        const auto fresher = static_cast<std::uint32_t>(r.age < out[old].age);
        replaced[old] = static_cast<std::uint8_t>(replaced[old] | fresher);
        any_replaced |= fresher;
        n += fresher;
        const auto keep = static_cast<Slot>(0U - fresher); // all ones when fresher
        s = static_cast<Slot>((s & static_cast<Slot>(~keep)) | (static_cast<Slot>(n) & keep));
    }
    if (any_replaced != 0) {
        // From the first replaced one on, so that no descriptor is copied onto itself: those
        // copies made the processor wait for its own stores (a failed store-to-load forwarding,
        // as a descriptor's two halves overlap) on every descriptor of the view. Branch-free:
        // which ones were replaced is random data.
        auto kept = static_cast<std::size_t>(std::find(replaced.begin(), replaced.end(), 1) - replaced.begin());
        for (std::size_t i = kept + 1; i < n; ++i) {
            out[kept] = out[i];
            kept += 1U - replaced[i];
        }
        n = kept;
    }
    v.resize(n);
    return true;
}

// clang-format off
/// append_fresh with a hash index over the addresses: one probe per descriptor rather than a
/// scan of the view, which mattered because nearly every received descriptor is already in the
/// view once a cluster has mixed. The result is append_fresh_scan's, in the same order: a copy
/// replaced by a fresher one is marked rather than moved, the fresher one is appended, and the
/// marked ones are removed at the end, which leaves the others in the order the moves would have.
/// Returns false, having changed nothing, when `v` holds an address twice (no view does), where
/// the scan's choice of copy is kept by falling back to it.
template <class Address>
    requires hashable_address<Address>
// clang-format on
[[nodiscard]] bool append_fresh_indexed(std::vector<descriptor<Address>>& v,
                                        std::span<const descriptor<Address>> received)
{
    // 16-bit slots for any view a config allows (c and a sample each at most 4,096): a smaller
    // table to clear.
    if (v.size() + received.size() < 0xFFFF) {
        return append_fresh_indexed_in<std::uint16_t>(v, received);
    }
    return append_fresh_indexed_in<std::uint32_t>(v, received);
}

/// The most descriptors, view and sample together, that append_fresh_small takes.
inline constexpr std::size_t small_merge = 255;

/// append_fresh_in with a table of indices instead of a filter and a scan, for at most
/// small_merge descriptors: every descriptor's index (plus one) in 256 slots, by address hash,
/// with linear probing. A received address is found, or known absent, in about one probe,
/// where the scan compared it with the descriptors one by one and mispredicted where it
/// stopped; the table costs more than the filter where nearly every address is absent.
// clang-format off
template <class Address>
    requires hashable_address<Address>
// clang-format on
[[nodiscard]] std::size_t append_fresh_table_in(descriptor<Address>* out, std::size_t n0,
                                                std::span<const descriptor<Address>> received,
                                                std::size_t& found) noexcept
{
    assert(n0 + received.size() <= small_merge);
    // A fresher copy does not shift the descriptors after the one it replaces, which would
    // change their indices: it goes at the tail, the replaced index is noted, and the noted ones
    // are removed at the end in one pass, which leaves the order the shifts left. The replaced
    // slot becomes a tombstone and the copy takes a slot further along, so that a search meets
    // copies in the order of their indices, as the scan did (a view with repeats included).
    //
    // The table outlives the call, so that no call clears it: a slot counts only if it carries
    // this call's stamp, and once the stamps have gone round the table is cleared.
    using slot_type = std::uint16_t;
    constexpr unsigned value_width = 9; // an index plus one (at most small_merge), or tombstone
    constexpr std::uint32_t value_bits = (1U << value_width) - 1U;
    constexpr std::uint32_t tombstone = value_bits;
    constexpr std::uint32_t stamps = 1U << (16U - value_width);
    thread_local std::array<slot_type, 256> table{};
    thread_local std::uint32_t stamp = 0;
    if (++stamp == stamps) {
        table.fill(0);
        stamp = 1;
    }
    const std::uint32_t mark = stamp << value_width;
    slot_type* const slots = table.data();
    // 0: empty (or left by an earlier call); else the index plus one, or tombstone.
    const auto held = [&](std::size_t s) noexcept {
        const std::uint32_t v = slots[s];
        return (v & ~value_bits) == mark ? v & value_bits : std::uint32_t{0};
    };
    const auto hold = [&](std::size_t s, std::uint32_t v) noexcept { slots[s] = static_cast<slot_type>(mark | v); };
    const auto home = [](const Address& a) noexcept { return fibonacci_slot(address_hash(a), 8); };
    const auto first_free = [&](std::size_t s) noexcept {
        while (held(s) != 0) {
            s = (s + 1) & 255U;
        }
        return s;
    };
    for (std::size_t i = 0; i < n0; ++i) {
        hold(first_free(home(out[i].address)), static_cast<std::uint32_t>(i + 1));
    }
    std::array<std::uint8_t, small_merge> replaced; // NOLINT(cppcoreguidelines-pro-type-member-init): [0, gone) only
    std::size_t gone = 0;
    std::size_t n = n0;
    for (const auto& r : received) {
        std::size_t s = home(r.address);
        std::uint32_t v = held(s);
        while (v != 0 && (v == tombstone || !(out[v - 1].address == r.address))) {
            s = (s + 1) & 255U;
            v = held(s);
        }
        if (v != 0) {
            ++found;
            const std::size_t at = v - 1;
            if (r.age < out[at].age) {
                // Common: every reply carries its sender, whom the asker already knew.
                replaced[gone++] = static_cast<std::uint8_t>(at);
                hold(s, tombstone);
                hold(first_free(s), static_cast<std::uint32_t>(n + 1));
                out[n++] = r;
            }
            continue;
        }
        hold(s, static_cast<std::uint32_t>(n + 1));
        out[n++] = r;
    }
    if (gone == 0) {
        return n;
    }
    if (gone > 1) {
        std::sort(replaced.begin(), replaced.begin() + static_cast<std::ptrdiff_t>(gone));
    }
    std::size_t to = replaced[0];
    for (std::size_t k = 0; k < gone; ++k) {
        const std::size_t from = replaced[k] + std::size_t{1};
        const std::size_t until = k + 1 < gone ? replaced[k + 1] : n;
        std::copy(out + from, out + until, out + to);
        to += until - from;
    }
    return to;
}

/// append_fresh_scan for the merge of every view a simulation holds and every sample a UDP node
/// takes (view and sample together at most small_merge), on a raw buffer: `out` holds the view
/// in [0, n0) and has room for received.size() more; returns the new size. Nothing is
/// allocated.
///
/// Both forms leave what append_fresh_scan leaves; which one runs is a matter of speed alone.
/// In a large overlay nearly every received address is new, and the filter answers that in one
/// probe; in a small cluster, whose views overlap, most are present, and each scan for one
/// costs more than the table. So each call takes the table when, in the call before it on this
/// thread, more than a quarter of the received addresses were present.
// clang-format off
template <class Address>
    requires hashable_address<Address>
// clang-format on
[[nodiscard]] std::size_t append_fresh_small(descriptor<Address>* out, std::size_t n0,
                                             std::span<const descriptor<Address>> received) noexcept
{
    assert(n0 + received.size() <= small_merge);
    thread_local bool many_present = false;
    std::size_t found = 0;
    // The table holds small_merge descriptors at most (one slot stays empty, and indices take a
    // byte); past that only the filter and scan are right, however the caller got there.
    const bool table = many_present && n0 + received.size() <= small_merge;
    const std::size_t n = table ? append_fresh_table_in(out, n0, received, found)
                                : append_fresh_in<presence_filter<Address, 16>>(out, n0, received, found);
    many_present = found * 4 > received.size();
    return n;
}

/// Appends `received`; where an address is already present the younger copy survives, in its
/// own place: a fresher received copy replaces the old one at the tail (so that swapping away
/// the head, which holds what was just sent, cannot discard fresh news), an older one is dropped.
template <class Address>
void append_fresh(std::vector<descriptor<Address>>& v, std::span<const descriptor<Address>> received)
{
    if constexpr (hashable_address<Address>) {
        if (append_fresh_indexed(v, received)) {
            return;
        }
    }
    append_fresh_scan(v, received);
}

/// Where the k most extreme ages (the oldest, or the youngest) begin: every age strictly beyond
/// `age` is in, and so are the first `at_cut` (by position) of those equal to it.
struct age_cut {
    std::uint32_t age = 0;
    std::uint32_t at_cut = 0;
};

enum class extreme : std::uint8_t { oldest, youngest };

/// The cut for the k most extreme ages when none reaches 63, from a histogram of the ages; or
/// nothing. `used` marks the buckets in use, which leads from one age in use to the next
/// without visiting the empty buckets.
template <class Count, class Address>
[[nodiscard]] std::optional<age_cut> find_age_cut_by_histogram(std::span<const descriptor<Address>> v, std::size_t k,
                                                               extreme e)
{
    std::array<Count, 64> count{};
    std::uint64_t used = 0;
    for (const auto& d : v) {
        const std::uint32_t bucket = d.age < 63U ? d.age : 63U;
        ++count[bucket];
        used |= std::uint64_t{1} << bucket;
    }
    if ((used >> 63U) != 0) {
        return std::nullopt;
    }
    std::size_t taken = 0;
    while (true) {
        const auto bucket =
            static_cast<std::uint32_t>(e == extreme::oldest ? 63 - std::countl_zero(used) : std::countr_zero(used));
        if (taken + count[bucket] >= k) {
            return age_cut{bucket, static_cast<std::uint32_t>(k - taken)};
        }
        taken += count[bucket];
        used &= ~(std::uint64_t{1} << bucket);
    }
}

/// Finds the cut for the k most extreme ages, 0 < k < size. Ages in a view span a few dozen
/// exchanges, so a 64-bucket histogram finds the cut in one pass; a wider spread falls back to
/// a selection over a copy.
template <class Address>
[[nodiscard]] age_cut find_age_cut(std::span<const descriptor<Address>> v, std::size_t k, extreme e)
{
    // Byte counts for the views of a simulation: a 64-byte histogram, cleared by a store or two
    // whose bytes the counting then reads straight back (a larger one is cleared by a string
    // instruction, which the processor cannot forward from: every first count waited for it).
    const auto by_histogram = v.size() <= 255 ? find_age_cut_by_histogram<std::uint8_t>(v, k, e)
                                              : find_age_cut_by_histogram<std::uint32_t>(v, k, e);
    if (by_histogram) {
        return *by_histogram;
    }
    std::array<std::uint32_t, 64> count{};
    std::uint32_t lo = v[0].age;
    std::uint32_t hi = v[0].age;
    for (const auto& d : v) {
        lo = std::min(lo, d.age);
        hi = std::max(hi, d.age);
    }
    if (hi - lo < 64) {
        for (const auto& d : v) {
            ++count[d.age - lo];
        }
        std::size_t taken = 0;
        const std::uint32_t span = hi - lo;
        for (std::uint32_t i = 0; i <= span; ++i) {
            const std::uint32_t bucket = e == extreme::oldest ? span - i : i;
            if (taken + count[bucket] >= k) {
                return age_cut{lo + bucket, static_cast<std::uint32_t>(k - taken)};
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
        strictly += (e == extreme::oldest ? a > cut : a < cut) ? 1 : 0;
    }
    return age_cut{cut, static_cast<std::uint32_t>(k - strictly)};
}

/// Tells, descriptor by descriptor in view order, whether each is among the k most extreme ages
/// that `cut` describes: 1 or 0. Arithmetic rather than branches, as ages are random data to a
/// branch predictor. Keeps count of the ages equal to the cut seen so far, so each descriptor
/// is asked about once, in order.
class extreme_marker {
public:
    extreme_marker(age_cut cut, extreme e) noexcept
        : flip_(e == extreme::oldest ? 0U : ~0U), cut_key_(cut.age ^ flip_), at_cut_(cut.at_cut)
    {
    }

    [[nodiscard]] std::uint32_t operator()(std::uint32_t age) noexcept
    {
        // Youngest first is oldest first on the ages' complements: one comparison for both.
        const std::uint32_t key = age ^ flip_;
        const auto is_cut = static_cast<std::uint32_t>(key == cut_key_);
        const auto take = is_cut & static_cast<std::uint32_t>(seen_at_cut_ < at_cut_);
        seen_at_cut_ += is_cut;
        return static_cast<std::uint32_t>(key > cut_key_) | take;
    }

private:
    std::uint32_t flip_;
    std::uint32_t cut_key_;
    std::uint32_t at_cut_;
    std::uint32_t seen_at_cut_ = 0;
};

/// Marks, for each descriptor, whether it is among the k most extreme ages: 1 or 0 in `out`.
template <class Address>
void mark_extreme(std::span<const descriptor<Address>> v, age_cut cut, extreme e, std::uint8_t* out) noexcept
{
    extreme_marker extreme_one(cut, e);
    for (std::size_t i = 0; i < v.size(); ++i) {
        out[i] = static_cast<std::uint8_t>(extreme_one(v[i].age));
    }
}

/// Removes exactly k of the n descriptors at `data`, the oldest or the youngest, keeping the
/// others in order; returns how many are left. Among equal ages at the cut, the earlier ones go.
template <class Address>
[[nodiscard]] std::size_t remove_extreme_ages_in(descriptor<Address>* data, std::size_t n, std::size_t k, extreme e)
{
    if (k == 0) {
        return n;
    }
    if (k >= n) {
        return 0;
    }
    if (k == 1) {
        // The common case of a merge (one newcomer over c): the first of the most extreme, in
        // one pass.
        std::size_t at = 0;
        for (std::size_t i = 1; i < n; ++i) {
            const bool beyond = e == extreme::oldest ? data[i].age > data[at].age : data[i].age < data[at].age;
            at = beyond ? i : at;
        }
        std::copy(data + at + 1, data + n, data + at);
        return n - 1;
    }
    const auto cut = find_age_cut(std::span<const descriptor<Address>>(data, n), k, e);
    // Marked as the descriptors are compacted. Nothing moves before the first one dropped: a
    // descriptor copied onto itself waits for its own store.
    extreme_marker dropped(cut, e);
    std::size_t i = 0;
    while (i < n && dropped(data[i].age) == 0) {
        ++i;
    }
    std::size_t kept = i;
    for (++i; i < n; ++i) {
        const std::uint32_t drop = dropped(data[i].age);
        data[kept] = data[i];
        kept += 1U - drop;
    }
    return kept;
}

/// Removes exactly k descriptors, the oldest or the youngest, keeping the others in order.
/// Among equal ages at the cut, the earlier ones go.
template <class Address>
void remove_extreme_ages(std::vector<descriptor<Address>>& v, std::size_t k, extreme e)
{
    v.resize(remove_extreme_ages_in(v.data(), v.size(), k, e));
}

/// prepare_buffer's steps for 0 < healer <= n, with the scratch space supplied: `old` and
/// `order` hold n + 1 entries, `out` n + 1 descriptors (the branch-free loops write one slot
/// past what they keep).
template <class Address, random_source R>
void prepare_buffer_in(descriptor<Address>* v, std::size_t n, std::size_t k, std::size_t h, R& rng, std::uint8_t* old,
                       std::uint32_t* order, descriptor<Address>* out)
{
    // Indices of the young first, then (when the young are too few) of the old, each in view
    // order; marking the old as the young are listed.
    std::size_t young = 0;
    if (h == n) {
        std::fill(old, old + n, std::uint8_t{1});
    } else {
        extreme_marker oldest(find_age_cut(std::span<const descriptor<Address>>(v, n), h, extreme::oldest),
                              extreme::oldest);
        for (std::size_t i = 0; i < n; ++i) {
            const std::uint32_t is_old = oldest(v[i].age);
            old[i] = static_cast<std::uint8_t>(is_old);
            order[young] = static_cast<std::uint32_t>(i);
            young += 1U - is_old;
        }
    }
    if (k > young) {
        std::size_t tail = young;
        for (std::size_t i = 0; i < n; ++i) {
            order[tail] = static_cast<std::uint32_t>(i);
            tail += old[i];
        }
    }
    // When k > young every young index is chosen, and the old ones drawn follow contiguously.
    partial_shuffle(std::span(order, young), k, rng);
    if (k > young) {
        partial_shuffle(std::span(order + young, n - young), k - young, rng);
    }
    // The chosen go first; everything else keeps its order. `old` now marks "already placed".
    for (std::size_t j = 0; j < k; ++j) {
        out[j] = v[order[j]];
        old[order[j]] = 2;
    }
    std::size_t placed = k;
    for (std::size_t i = 0; i < n; ++i) {
        out[placed] = v[i];
        placed += old[i] == 2 ? 0U : 1U;
    }
    std::copy(out, out + n, v);
}

/// Puts `count` descriptors, drawn uniformly from all but the `healer` oldest, at the front of
/// the view, in random order; the others follow in their previous order. Only when fewer than
/// `count` are young does the buffer take the rest uniformly from the oldest, as the framework's
/// "permute, move the oldest H to the end, send the head" does. Returns the buffer's size.
template <class Address, random_source R>
std::size_t prepare_buffer(std::vector<descriptor<Address>>& v, std::size_t count, std::size_t healer, R& rng)
{
    const std::size_t n = v.size();
    const std::size_t h = std::min(healer, n);
    const std::size_t k = std::min(count, n);
    if (h == 0) {
        partial_shuffle(std::span(v), k, rng);
        return k;
    }
    if (n < small_merge) {
        // The views of a simulation: indices on the stack, nothing to size; descriptors in a
        // buffer sized once per thread (on the stack, their default values would be written
        // out on every call).
        std::array<std::uint8_t, small_merge + 1> old;
        std::array<std::uint32_t, small_merge + 1> order;
        thread_local std::vector<descriptor<Address>> out(small_merge + 1);
        prepare_buffer_in(v.data(), n, k, h, rng, old.data(), order.data(), out.data());
        return k;
    }
    thread_local std::vector<std::uint8_t> old;
    thread_local std::vector<std::uint32_t> order;
    thread_local std::vector<descriptor<Address>> out;
    old.resize(n + 1);
    order.resize(n + 1);
    out.resize(n + 1);
    prepare_buffer_in(v.data(), n, k, h, rng, old.data(), order.data(), out.data());
    return k;
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
void merge_view(std::vector<descriptor<Address>>& view, std::span<const descriptor<Address>> received, std::size_t c,
                std::size_t healer, std::size_t swapper, surplus rule, R& rng)
{
    if constexpr (hashable_address<Address>) {
        if (view.size() + received.size() <= small_merge) {
            // The same steps on a raw buffer that is sized once per thread.
            thread_local std::vector<descriptor<Address>> buffer(small_merge);
            descriptor<Address>* v = buffer.data();
            std::copy(view.begin(), view.end(), v);
            {
                std::size_t n = append_fresh_small(v, view.size(), received);
                const auto excess = [&] { return n > c ? n - c : std::size_t{0}; };
                n = remove_extreme_ages_in(v, n, std::min(healer, excess()), extreme::oldest);
                const std::size_t swapped = std::min(swapper, excess());
                std::copy(v + swapped, v + n, v);
                n -= swapped;
                switch (rule) {
                case surplus::random:
                    for (std::size_t k = excess(); k > 0; --k) {
                        const std::size_t i = uniform_index(rng, n);
                        v[i] = v[n - 1];
                        --n;
                    }
                    break;
                case surplus::oldest: n = remove_extreme_ages_in(v, n, excess(), extreme::oldest); break;
                case surplus::youngest: n = remove_extreme_ages_in(v, n, excess(), extreme::youngest); break;
                }
                view.assign(v, v + n);
                return;
            }
        }
    }
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
