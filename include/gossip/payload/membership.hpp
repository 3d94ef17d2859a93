#pragma once

// Membership with gossip-style failure detection (van Renesse, Minsky and Hayden, "A gossip-style
// failure detection service", Middleware 1998). Every node keeps a table of the members it knows,
// each with a heartbeat counter, and gossips it on every exchange. A node increments its own
// heartbeat every period; a member whose heartbeat has not grown here for t_fail is declared
// failed, and forgotten t_cleanup after its heartbeat last grew. Failure is a local judgement and
// never travels: a failed member is simply no longer gossiped, so that its stale heartbeat does
// not linger, and remembered meanwhile, so that stale gossip from nodes that have not yet given
// up on it cannot bring it back. t_cleanup >= 2 t_fail makes that safe as long as a heartbeat
// reaches everybody within t_fail, which failure detection presumes anyway.
//
// On top of the paper:
// - generations: a member's version is (generation, heartbeat). A restarted process takes a
//   higher generation, so its new entries supersede whatever the others remember of its old
//   self. By default the generation is the node's clock at its first period (simulated time in
//   the simulator, which only grows); options.generation sets it (a boot count, wall-clock
//   seconds). Should gossip ever claim this node's own address at a version above its own (an
//   earlier life whose generation was not lower, or a forgery), the node moves to the
//   claimed generation + 1: a clock that went backwards heals itself. Gossip is not
//   authenticated, so a forger can still claim a generation just below the reserved top one,
//   which the node cannot move past; it keeps its own generation rather than send sections
//   every peer would refuse. max_members is what bounds the memory a forger can take.
// - leaving: leave() marks the node's own entry left. Within a generation, left is final: it
//   supersedes every alive entry of that generation, so the news cannot be undone by older
//   heartbeats still in flight. A left entry is gossiped for t_fail after it is learned (as long
//   as a heartbeat may take to spread) and remembered for t_cleanup.
// - events: joined, failed, left, recovered (a failed member alive again) and restarted (an
//   alive member seen with a higher generation: it restarted faster than t_fail, and lost its
//   state all the same) reach the user's handler once the table is up to date.
//
// Time has the resolution of a period: read() has no clock, so an entry that grows between two
// periods is stamped (member::since) with the time of the earlier one. A live node therefore
// declares a member failed no later than t_fail plus one period after the member's heartbeat
// last grew here, and no sooner than t_fail minus one period.
//
// Quiet time is also counted in the periods this node ran (when the node says its period: see
// payload_context). A member's quiet time is the lesser of the time since its heartbeat last grew
// here and that many periods run since, times the period. A node whose own loop falls behind (an
// overloaded thread, a paused process) ran fewer exchanges to hear heartbeats through, and should
// not blame the members for its silence; on schedule, the two counts agree within the driver's
// jitter. This is the idea of Lifeguard's local health awareness (Dadgar, Phillips and Currey,
// "Lifeguard: Local Health Awareness for More Accurate Failure Detection", 2018), which stretches
// a node's timeouts while it finds itself slow.
//
// When the table does not fit the datagram, the node's own entry goes first and the others
// follow in address order from where the previous section stopped: over consecutive sections
// the window rotates through the whole table, so that every entry travels once every
// ceil(n / k) sections for n gossiped entries and k per datagram. A rotation bounds every
// entry's wait and costs nothing to choose; in the simulator it kept heartbeats as fresh as a
// random subset did, while sending the most recently refreshed entries first starved the others.
// Each entry still travels only k/n times as often, and t_fail must allow for it: with push-pull,
// fanout 1 and k = 62 entries a section (measured with fixed-width entries of 21 bytes beside a
// view of c = 20), the longest any node went without a member's heartbeat growing, over 200
// rounds, was 6, 12, 28 and 58 periods for n = 50, 100, 200 and 400. Allow about 10 periods per
// ceil(n / k).
//
// Section layout (little-endian, after the node's view section):
//   u16 n, n x (address, varint zigzag(generation - previous generation),
//               flagged varint (zigzag(heartbeat - previous heartbeat), left))   own entry first
// "Previous" is the entry before in the section (0 before the first); differences are taken
// modulo 2^64 (wire/varint.hpp has the encodings). An address appears at most once, and
// generation 2^64 - 1 is reserved.
//
// Why differences: generations and heartbeats are large numbers (a clock reading, a count of
// periods) that differ little between members started about the same time, so an IPv4 entry
// takes about 9 to 13 bytes instead of the 24 of fixed-width fields, and twice as many fit in a
// datagram. That is what bounds how soon a joining node hears of everyone, and how
// stale a heartbeat can get.

#include "../payload/policy.hpp"
#include "../wire/codec.hpp"
#include "../wire/message.hpp"
#include "../wire/reader.hpp"
#include "../wire/varint.hpp"
#include "../wire/writer.hpp"

#include <algorithm>
#include <chrono>
#include <compare>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

namespace gossip::payload {

/// What a node believes of a member. Only alive and left travel; failed is a local judgement.
enum class member_status : std::uint8_t { alive, failed, left };

/// What happened to a member, as reported to the user.
enum class member_event_kind : std::uint8_t {
    joined,    ///< first heard of alive (or again, after it left or was forgotten)
    failed,    ///< its heartbeat has not grown here for t_fail
    left,      ///< it announced a clean leave
    recovered, ///< declared failed here, and alive again (its generation says whether it restarted)
    restarted, ///< alive here, and seen with a higher generation: a new process, without its state
};

[[nodiscard]] constexpr const char* to_string(member_status s) noexcept
{
    switch (s) {
    case member_status::alive: return "alive";
    case member_status::failed: return "failed";
    case member_status::left: return "left";
    }
    return "unknown";
}

[[nodiscard]] constexpr const char* to_string(member_event_kind k) noexcept
{
    switch (k) {
    case member_event_kind::joined: return "joined";
    case member_event_kind::failed: return "failed";
    case member_event_kind::left: return "left";
    case member_event_kind::recovered: return "recovered";
    case member_event_kind::restarted: return "restarted";
    }
    return "unknown";
}

/// One row of a node's membership table.
template <class Address>
struct member {
    Address address{};
    member_status status = member_status::alive;
    std::uint64_t generation = 0;
    std::uint64_t heartbeat = 0;
    /// Local time (the node's clock): for an alive or failed member, when its heartbeat last grew
    /// here; for a member that left, when the leave was learned.
    std::chrono::nanoseconds since{0};
    /// This node's count of periods run, modulo 2^32, at `since`.
    std::uint32_t since_period = 0;

    friend bool operator==(const member&, const member&) = default;
};

/// A change in what a node believes of a member, handed to the table's event handler.
template <class Address>
struct member_event {
    member_event_kind kind = member_event_kind::joined;
    Address address{};
    std::uint64_t generation = 0; ///< of the incarnation the event is about

    friend bool operator==(const member_event&, const member_event&) = default;
};

/// How a membership table judges and bounds its members; check() names an impossible choice.
struct membership_options {
    /// A member whose heartbeat has not grown for this long is declared failed. It must exceed
    /// the time a heartbeat takes to reach every node, or live members are suspected: about
    /// 10 periods per datagram's worth of the table (see the top of this file).
    std::chrono::milliseconds t_fail{20'000};
    /// A failed member is forgotten this long after its heartbeat last grew, a left one this long
    /// after its leave was learned. At least 2 t_fail, so that no stale gossip can revive it.
    std::chrono::milliseconds t_cleanup{40'000};
    /// The most members a table holds besides the node itself; entries about further members are
    /// dropped (and counted), so a flood of fresh addresses cannot grow memory without bound.
    std::size_t max_members = 16384;
    /// This incarnation's generation; it must grow from one start of a process to the next.
    /// Unset: the node's clock at its first period, in nanoseconds.
    std::optional<std::uint64_t> generation;
};

/// The longest t_cleanup accepted: a year, far from where nanoseconds would overflow.
inline constexpr std::chrono::milliseconds max_membership_timeout = std::chrono::hours{24 * 365};

/// Why options are impossible, or nothing.
[[nodiscard]] inline std::optional<std::string> check(const membership_options& o)
{
    if (o.t_fail <= std::chrono::milliseconds::zero()) {
        return "t_fail must be positive";
    }
    if (o.t_cleanup > max_membership_timeout) {
        return "t_cleanup = " + std::to_string(o.t_cleanup.count()) + " ms exceeds the supported maximum of a year";
    }
    if (o.t_cleanup < 2 * o.t_fail) {
        return "t_cleanup = " + std::to_string(o.t_cleanup.count()) +
               " ms is less than 2 x t_fail = " + std::to_string(2 * o.t_fail.count()) +
               " ms; a failed member forgotten sooner could be revived by stale gossip";
    }
    if (o.max_members == 0) {
        return "max_members must be at least 1";
    }
    if (o.generation == std::numeric_limits<std::uint64_t>::max()) {
        return "generation 2^64 - 1 is reserved, so that a node can always move to a higher one";
    }
    return std::nullopt;
}

/// What a membership table has done.
struct membership_statistics {
    std::uint64_t entries_sent = 0;       ///< entries written into sections, the own one included
    std::uint64_t truncated_writes = 0;   ///< sections that could not hold every gossiped entry
    std::uint64_t sections_received = 0;  ///< well-formed sections applied
    std::uint64_t entries_received = 0;   ///< entries in them
    std::uint64_t updates = 0;            ///< entries newer than what this node knew, applied
    std::uint64_t stale_ignored = 0;      ///< entries older than what this node knew
    std::uint64_t dropped_table_full = 0; ///< entries about unknown members refused for want of room
    std::uint64_t joined = 0;             ///< events of each kind
    std::uint64_t failures_detected = 0;
    std::uint64_t left = 0;
    std::uint64_t recovered = 0;
    std::uint64_t restarted = 0;
    std::uint64_t forgotten = 0; ///< failed or left members removed after t_cleanup
    std::uint64_t refuted = 0;   ///< claims about this node answered with a higher generation

    friend bool operator==(const membership_statistics&, const membership_statistics&) = default;
};

// clang-format 14 mangles concepts and requires-clauses: kept as written.
// clang-format off
/// The payload: a membership table with gossip-style failure detection. The table is a vector
/// in address order (hence ordered addresses): 32 bytes a member with a 4-byte address.
template <class Address>
    requires wire::encodable<Address> && std::totally_ordered<Address>
// clang-format on
class membership {
public:
    using address_type = Address;
    using member_type = member<Address>;
    using event_type = member_event<Address>;
    /// Called once the table is up to date, after the read() or on_period() that caused the
    /// event. It must not call read() or on_period().
    using event_handler = std::function<void(const event_type&)>;

    /// The fewest bytes an entry takes on the wire besides its address (two one-byte varints).
    static constexpr std::size_t min_entry_overhead = 2;
    /// The most: a 10-byte varint for each number.
    static constexpr std::size_t max_entry_overhead = 2 * wire::max_varint_bytes;

    membership() : membership(membership_options{}) {}

    /// Throws std::invalid_argument naming the impossible option.
    explicit membership(const membership_options& options, event_handler on_event = {})
        : options_(validated(options)), t_fail_(options.t_fail), t_cleanup_(options.t_cleanup),
          on_event_(std::move(on_event))
    {
    }

    // --- the application's side -----------------------------------------------------------
    void on_event(event_handler handler) { on_event_ = std::move(handler); }

    /// Announces a clean leave: this node's entry turns left (a last heartbeat, so that it is
    /// news everywhere) and it stops beating. Keep the node running for a few periods so that
    /// the news spreads; others report `left` rather than `failed`. Leaving is final for this
    /// incarnation: to come back, start a new one.
    void leave() noexcept
    {
        if (!left_) {
            left_ = true;
            ++heartbeat_;
        }
    }

    [[nodiscard]] bool has_left() const noexcept { return left_; }
    [[nodiscard]] const Address& self() const noexcept { return self_; }
    /// This incarnation's generation; nothing until the first period (unless set in the options).
    [[nodiscard]] std::optional<std::uint64_t> generation() const noexcept { return generation_; }
    [[nodiscard]] std::uint64_t heartbeat() const noexcept { return heartbeat_; }

    /// Every other member this node knows, alive, failed or left, in address order.
    [[nodiscard]] std::span<const member_type> members() const noexcept { return table_; }

    /// The row of another member, or nullptr when unknown (this node itself has none).
    [[nodiscard]] const member_type* find(const Address& a) const noexcept
    {
        const auto it = lower_bound(a);
        return it != table_.end() && it->address == a ? &*it : nullptr;
    }

    /// What this node believes of `a` (itself included), or nothing when it does not know it.
    [[nodiscard]] std::optional<member_status> status_of(const Address& a) const noexcept
    {
        if (a == self_) {
            return left_ ? member_status::left : member_status::alive;
        }
        const auto* m = find(a);
        return m != nullptr ? std::optional(m->status) : std::nullopt;
    }

    /// Other members believed alive.
    [[nodiscard]] std::size_t alive_count() const noexcept
    {
        return static_cast<std::size_t>(std::count_if(table_.begin(), table_.end(), [](const member_type& m) {
            return m.status == member_status::alive;
        }));
    }

    /// Their addresses, in address order: contacts to (re)join a view with, say.
    [[nodiscard]] std::vector<Address> alive_members() const
    {
        std::vector<Address> out;
        out.reserve(alive_count());
        for (const auto& m : table_) {
            if (m.status == member_status::alive) {
                out.push_back(m.address);
            }
        }
        return out;
    }

    /// Heap bytes held: the table and the scratch buffers, by capacity.
    [[nodiscard]] std::size_t memory_bytes() const noexcept
    {
        return table_.capacity() * sizeof(member_type) + incoming_.capacity() * sizeof(incoming_entry) +
               events_.capacity() * sizeof(event_type);
    }

    [[nodiscard]] const membership_statistics& statistics() const noexcept { return stats_; }
    [[nodiscard]] const membership_options& options() const noexcept { return options_; }

    // --- the node's side (payload_policy) ----------------------------------------------------
    void start(const payload_context<Address>& context)
    {
        self_ = context.self;
        period_ = std::max(context.period, std::chrono::nanoseconds::zero());
        // Beyond the longest timeout the count no longer matters (and cannot overflow).
        max_quiet_periods_ = period_ > std::chrono::nanoseconds::zero() ? t_cleanup_ / period_ + 1 : 0;
        // What was heard of this address before it was ours is a claim about this node, not a
        // member: the table never holds this node (read() relies on it).
        if (const auto row = find_row(self_); row != table_.end()) {
            claim_about_self(incoming_entry{.generation = row->generation,
                                            .heartbeat = row->heartbeat,
                                            .address = row->address,
                                            .left = row->status == member_status::left});
            table_.erase(row);
        }
        if (options_.generation) {
            generation_ = std::max(*options_.generation, floor_);
        }
    }

    /// Beats the heart, and judges every member by the node's clock.
    void on_period(std::chrono::nanoseconds now)
    {
        ++periods_;
        if (!clock_started_) {
            clock_started_ = true;
            // Whatever was learned before the clock started was learned just now.
            for (auto& m : table_) {
                m.since = now;
                m.since_period = periods_;
            }
            if (!generation_) {
                generation_ = std::max(static_cast<std::uint64_t>(std::max<std::int64_t>(now.count(), 0)), floor_);
            }
        }
        now_ = now;
        if (!left_) {
            ++heartbeat_;
        }
        std::size_t kept = 0;
        for (std::size_t i = 0; i < table_.size(); ++i) {
            auto& m = table_[i];
            const auto quiet = quiet_time(m);
            if (m.status == member_status::alive && quiet >= t_fail_) {
                m.status = member_status::failed;
                report(member_event_kind::failed, m);
            }
            if (m.status != member_status::alive && quiet >= t_cleanup_) {
                ++stats_.forgotten;
                continue;
            }
            if (kept != i) {
                table_[kept] = std::move(m);
            }
            ++kept;
        }
        table_.resize(kept);
        // After a mass failure, give the memory back.
        if (table_.capacity() > 64 && table_.size() < table_.capacity() / 4) {
            table_.shrink_to_fit();
        }
        dispatch();
    }

    void write(wire::writer& w, wire::message_kind /*kind*/)
    {
        const std::size_t count_at = w.size();
        w.u16(0);
        std::size_t n = 0;
        bool truncated = false;
        entry_chain chain;
        if (generation_) {
            // Only what travels: the address, the status and the version.
            const member_type own{.address = self_,
                                  .status = left_ ? member_status::left : member_status::alive,
                                  .generation = *generation_,
                                  .heartbeat = heartbeat_};
            if (wire::append_if_fits(w, [&](wire::writer& out) { chain.write(out, own); })) {
                chain.advance(own);
                ++n;
            } else {
                truncated = true;
            }
        }
        // The others, from where the last truncated section stopped.
        const std::size_t size = table_.size();
        std::size_t first = resume_ ? static_cast<std::size_t>(lower_bound(*resume_) - table_.begin()) : 0;
        first = first < size ? first : 0;
        for (std::size_t k = 0; k < size && !truncated; ++k) {
            const auto& m = table_[(first + k) % size];
            if (!gossiped(m)) {
                continue;
            }
            if (n == max_entries_per_section ||
                !wire::append_if_fits(w, [&](wire::writer& out) { chain.write(out, m); })) {
                truncated = true;
                resume_ = m.address;
            } else {
                chain.advance(m);
                ++n;
            }
        }
        w.patch_u16(count_at, static_cast<std::uint16_t>(n));
        if (!w.ok()) {
            return;
        }
        stats_.entries_sent += n;
        stats_.truncated_writes += truncated ? 1 : 0;
    }

    [[nodiscard]] bool read(wire::reader& r, wire::message_kind /*kind*/)
    {
        // Parse everything first: a malformed section changes nothing.
        const std::size_t count = r.u16();
        if (!r.ok() || count * min_entry_overhead > r.remaining()) {
            return false;
        }
        // The one pass wins where most entries repeat the table or are older, and loses where
        // most are news, which it keeps and applies in a second walk: each section takes the
        // way that would have suited the one before it. Either way the result is the same.
        if (count >= 3 && !news_heavy_) {
            switch (read_in_order(r, count)) {
            case one_pass::accepted: news_heavy_ = 2 * incoming_.size() > count; return true;
            case one_pass::refused: return false;
            case one_pass::out_of_order: break;
            }
        }
        const std::size_t news = read_any_order(r, count);
        if (news == refused_section) {
            return false;
        }
        if (count >= 3) {
            news_heavy_ = 2 * news > count;
        }
        return true;
    }

private:
    struct incoming_entry {
        std::uint64_t generation = 0;
        std::uint64_t heartbeat = 0;
        Address address{};
        bool left = false;
        bool fresh = false; ///< an unknown member, to be added
    };

    enum class one_pass : std::uint8_t { accepted, refused, out_of_order };

    // The section as honest writers send it (see sort_incoming): its own entry, then a window of
    // its table in address order, wrapped at most once. Each entry is compared with its row as
    // it is read, and only those that change something (newer, unknown, or about this node) are
    // kept, to be applied once the whole section has parsed; an entry that repeats the table,
    // or is older, costs no store. An entry found at or after the row where the previous one
    // was looked up is above it: the table ascends, so only entries it lacks are compared with
    // the one before. Any other order is left to read_any_order, with nothing changed.
    [[nodiscard]] one_pass read_in_order(wire::reader& r, std::size_t count)
    {
        wire::reader in = r; // see read_any_order
        std::uint64_t generation = 0;
        std::uint64_t heartbeat = 0;
        incoming_.clear();
        std::size_t stale = 0;
        const auto end = table_.end();
        incoming_entry first;
        if (!read_entry(in, first, generation, heartbeat)) {
            return one_pass::refused;
        }
        // The first entry's row, or end: a later entry found there, or equal to it when it has
        // none, repeats it.
        const auto first_row = find_row(first.address);
        keep_if_news(first, first_row, stale);
        const bool first_kept = !incoming_.empty();

        incoming_entry e;
        if (!read_entry(in, e, generation, heartbeat)) {
            return one_pass::refused;
        }
        const Address second = e.address; // the start of the window, above all of a wrapped part
        auto from = table_.begin();
        Address unknown_before{};
        const Address* before = nullptr; // the previous entry's address, in its row or a copy
        std::size_t descents = 0;
        std::size_t wrap = 0; // where the wrapped part starts among the kept entries
        for (std::size_t i = 1;;) {
            // Most often the very next row: one equality settles it.
            auto row = from;
            bool found = from != end && from->address == e.address;
            if (!found) {
                row = lower_bound_from(from, e.address);
                found = row != end && row->address == e.address;
            }
            if (!found && before != nullptr && !(*before < e.address)) {
                // Not above the previous entry: where the window wraps, once.
                if (++descents > 1) {
                    return one_pass::out_of_order;
                }
                wrap = incoming_.size();
                row = lower_bound_from(table_.begin(), e.address);
                found = row != end && row->address == e.address;
            }
            if (found) {
                if (row == first_row) {
                    return one_pass::refused;
                }
                before = &row->address;
                from = row + 1;
            } else {
                if (first_row == end && e.address == first.address) {
                    return one_pass::refused;
                }
                unknown_before = e.address;
                before = &unknown_before;
                from = row;
            }
            keep_if_news(e, found ? row : end, stale);
            if (++i == count) {
                break;
            }
            if (!read_entry(in, e, generation, heartbeat)) {
                return one_pass::refused;
            }
        }
        if (!in.ok() || in.remaining() != 0) {
            return one_pass::refused;
        }
        if (descents == 1 && !(*before < second)) {
            return one_pass::out_of_order; // the wrapped part is not wholly below the window
        }
        r = in;
        // The kept entries in address order (repeats were refused above).
        const auto wrapped = descents == 1 ? incoming_.begin() + static_cast<std::ptrdiff_t>(wrap) : incoming_.end();
        put_in_writer_order(incoming_.begin(), wrapped, incoming_.end(), first_kept);
        stats_.stale_ignored += stale;
        apply_sorted(count);
        return one_pass::accepted;
    }

    // Keeps e, read in one pass, when it changes something: its row is `row`, or the end when it
    // has none (an unknown member, or this node: see start()). Counts it in `stale` when older.
    [[gnu::always_inline]] void keep_if_news(const incoming_entry& e, typename std::vector<member_type>::iterator row,
                                             std::size_t& stale)
    {
        if (row != table_.end()) {
            // Most often the same version: three equalities, before the ordering.
            if (e.generation == row->generation && e.heartbeat == row->heartbeat &&
                e.left == (row->status == member_status::left)) {
                return;
            }
            if (!(version(e) > version(*row))) {
                ++stale;
                return;
            }
        }
        incoming_.push_back(e);
    }

    static constexpr std::size_t refused_section = std::numeric_limits<std::size_t>::max();

    // Any order: every entry parsed into incoming_, sorted, checked for repeats, then applied.
    // Returns how many entries were news (see apply_sorted), or refused_section.
    [[nodiscard]] std::size_t read_any_order(wire::reader& r, std::size_t count)
    {
        incoming_.resize(count);
        // On a copy of the reader: the entries' stores cannot touch a local, so its position
        // stays in a register, where through the reference every store had to be read back.
        wire::reader in = r;
        std::uint64_t generation = 0;
        std::uint64_t heartbeat = 0;
        // Where the entries after the first stop ascending (see sort_incoming), noted as they are
        // read, while the previous address is still at hand.
        std::size_t descents = 0;
        std::size_t wrap = count;
        for (std::size_t i = 0; i < count; ++i) {
            auto& e = incoming_[i];
            if (!read_entry(in, e, generation, heartbeat)) {
                return refused_section;
            }
            if (i >= 2 && !(incoming_[i - 1].address < e.address)) {
                ++descents;
                wrap = i;
            }
        }
        r = in;
        if (!r.ok() || r.remaining() != 0) {
            return refused_section;
        }
        // In address order, to find repeats and to merge new members in one pass; an honest
        // sender lists an address once.
        if (!sort_incoming(descents, wrap)) {
            return refused_section;
        }
        return apply_sorted(count);
    }

    // Applies incoming_, in address order without repeats, to the table; `count` entries were
    // received, of which incoming_ holds those that may change something (or all). Returns how
    // many were news: newer than their row, unknown, or about this node.
    std::size_t apply_sorted(std::size_t count)
    {
        std::size_t settled = 0; // equal to their row, or older
        // This node's own entry, if the writer listed it: found once, rather than compared with
        // every entry.
        const auto own = std::lower_bound(incoming_.begin(), incoming_.end(), self_,
                                          [](const incoming_entry& e, const Address& a) { return e.address < a; });
        const incoming_entry* const own_entry = own != incoming_.end() && own->address == self_ ? &*own : nullptr;

        ++stats_.sections_received;
        stats_.entries_received += count;
        std::size_t fresh = 0;
        // The entries ascend, so each one's row lies after the previous one's: the search
        // starts there, and a writer's window of consecutive members finds each row next.
        auto from = table_.begin();
        for (auto& e : incoming_) {
            e.fresh = false;
            if (&e == own_entry) {
                claim_about_self(e);
                continue;
            }
            // Most often the very next row: one equality settles it.
            const auto it =
                from != table_.end() && from->address == e.address ? from : lower_bound_from(from, e.address);
            from = it;
            if (it != table_.end() && it->address == e.address) {
                // Most entries repeat what the table holds, or are older: settled here, without
                // the call that applies a newer one.
                const auto order = version(e) <=> version(*it);
                if (std::is_gt(order)) {
                    apply_newer(*it, e);
                } else {
                    stats_.stale_ignored += std::is_lt(order) ? 1 : 0;
                    ++settled;
                }
                ++from;
            } else if (table_.size() + fresh >= options_.max_members) {
                ++stats_.dropped_table_full;
            } else {
                e.fresh = true;
                ++fresh;
                ++stats_.updates;
                if (!e.left) {
                    report(member_event_kind::joined, e.address, e.generation);
                }
            }
        }
        insert_fresh(fresh);
        dispatch();
        return incoming_.size() - settled;
    }

    // Reads one entry; generation and heartbeat are the previous entry's, and become this one's.
    // Usually both differences take a byte: then, with a codec that reads in place, the entry
    // is checked for room once and read without the reader's checks per field.
    [[gnu::always_inline]] static bool read_entry(wire::reader& in, incoming_entry& e, std::uint64_t& generation,
                                                  std::uint64_t& heartbeat)
    {
        if constexpr (wire::in_place_codec<Address>) {
            const auto rest = in.rest();
            const std::size_t n = wire::codec<Address>::read_in_place(rest, e.address);
            if (n != 0 && rest.size() >= n + 2) {
                const auto g = static_cast<std::uint8_t>(rest[n]);
                const auto h = static_cast<std::uint8_t>(rest[n + 1]);
                if ((g | h) < 0x80U) {
                    generation += wire::unzigzag(g);
                    heartbeat += wire::unzigzag(wire::one_byte_flagged(h, e.left));
                    e.generation = generation;
                    e.heartbeat = heartbeat;
                    in.skip(n + 2);
                    return generation != std::numeric_limits<std::uint64_t>::max();
                }
            }
        }
        if (!wire::codec<Address>::read(in, e.address)) {
            return false;
        }
        generation += wire::unzigzag(wire::read_varint(in));
        heartbeat += wire::unzigzag(wire::read_varint_flagged(in, e.left));
        e.generation = generation;
        e.heartbeat = heartbeat;
        return in.ok() && generation != std::numeric_limits<std::uint64_t>::max();
    }

    static constexpr std::size_t max_entries_per_section = 0xFFFF;
    static constexpr std::size_t max_kept_events = 16; ///< events' scratch kept between calls

    static const membership_options& validated(const membership_options& o)
    {
        if (auto problem = check(o)) {
            throw std::invalid_argument("gossip::payload::membership_options: " + *problem);
        }
        return o;
    }

    // Versions in order: a higher generation wins; within one, leaving is final; then the
    // higher heartbeat.
    [[nodiscard]] static auto version(std::uint64_t generation, bool left, std::uint64_t heartbeat) noexcept
    {
        return std::tuple(generation, left, heartbeat);
    }
    [[nodiscard]] static auto version(const incoming_entry& e) noexcept
    {
        return version(e.generation, e.left, e.heartbeat);
    }
    [[nodiscard]] static auto version(const member_type& m) noexcept
    {
        return version(m.generation, m.status == member_status::left, m.heartbeat);
    }

    [[nodiscard]] auto lower_bound(const Address& a) const noexcept
    {
        return std::lower_bound(table_.begin(), table_.end(), a,
                                [](const member_type& m, const Address& key) { return m.address < key; });
    }
    [[nodiscard]] auto lower_bound(const Address& a) noexcept
    {
        return std::lower_bound(table_.begin(), table_.end(), a,
                                [](const member_type& m, const Address& key) { return m.address < key; });
    }

    // The row of `a`, or the table's end.
    [[nodiscard]] auto find_row(const Address& a) noexcept
    {
        const auto it = lower_bound(a);
        return it != table_.end() && it->address == a ? it : table_.end();
    }

    // The first row at or after `from` whose address is not below `a`, when every row before
    // `from` is below it: a gallop from `from`, then a binary search in the last step.
    [[nodiscard]] auto lower_bound_from(typename std::vector<member_type>::iterator from, const Address& a) noexcept
    {
        const auto end = table_.end();
        std::ptrdiff_t step = 1;
        auto low = from;
        while (end - low > step && low[step - 1].address < a) {
            low += step;
            step *= 2;
        }
        const auto high = end - low > step ? low + step : end;
        return std::lower_bound(low, high, a, [](const member_type& m, const Address& key) { return m.address < key; });
    }

    // Sorts incoming_ by address; false if an address repeats. A writer lists its own entry and
    // then a window of its table in address order that may wrap around: the rest is ascending,
    // or two ascending runs whose second lies wholly below the first. That order is put right
    // with two rotations, in linear time and in place, and it has a repeat only if the first
    // entry's address is among the rest; any other order is sorted and then searched for
    // repeats. read() counts the entries, from the third on, whose address is not above the
    // one before (`descents`) and gives the index of the last of them (`wrap`).
    [[nodiscard]] bool sort_incoming(std::size_t descents, std::size_t wrap)
    {
        const auto below = [](const incoming_entry& a, const incoming_entry& b) { return a.address < b.address; };
        const auto first = incoming_.begin();
        const auto last = incoming_.end();
        if (last - first < 3 || descents > 1 || (descents == 1 && !(last[-1].address < first[1].address))) {
            std::sort(first, last, below);
            return std::adjacent_find(first, last, [](const incoming_entry& a, const incoming_entry& b) {
                       return a.address == b.address;
                   }) == last;
        }
        const auto own =
            put_in_writer_order(first, descents == 1 ? first + static_cast<std::ptrdiff_t>(wrap) : last, last, true);
        // The rest ascended strictly: a repeat can only be the first entry's, now beside it.
        return own + 1 == last || !(own[1].address == own->address);
    }

    using incoming_iterator = typename std::vector<incoming_entry>::iterator;

    // Puts [first, last) in address order, in linear time and in place, when it stands in a
    // writer's order: its own entry first (when `with_own`), then an ascending run, and from
    // `wrapped` on (last if nothing wrapped) a second one wholly below the first. Returns where
    // the own entry went (`first` without one).
    static incoming_iterator put_in_writer_order(incoming_iterator first, incoming_iterator wrapped,
                                                 incoming_iterator last, bool with_own)
    {
        const auto runs = with_own ? first + 1 : first;
        std::rotate(runs, wrapped, last);
        if (!with_own) {
            return first;
        }
        const auto at = std::lower_bound(runs, last, *first, [](const incoming_entry& a, const incoming_entry& b) {
            return a.address < b.address;
        });
        std::rotate(first, runs, at);
        return at - 1;
    }

    void stamp(member_type& m) const noexcept
    {
        m.since = now_;
        m.since_period = periods_;
    }

    // The time since m.since, or the periods run since, times the period, if fewer.
    [[nodiscard]] std::chrono::nanoseconds quiet_time(const member_type& m) const noexcept
    {
        const auto elapsed = now_ - m.since;
        if (period_ == std::chrono::nanoseconds::zero()) {
            return elapsed;
        }
        const std::uint32_t ran = periods_ - m.since_period;
        return std::min(elapsed, period_ * std::min<std::int64_t>(ran, max_quiet_periods_));
    }

    // Failed members stay home; a leave travels for as long as a heartbeat may take to spread.
    [[nodiscard]] bool gossiped(const member_type& m) const noexcept
    {
        return m.status == member_status::alive || (m.status == member_status::left && now_ - m.since < t_fail_);
    }

    // Writes entries as differences from the one written before (see the layout at the top).
    struct entry_chain {
        std::uint64_t generation = 0;
        std::uint64_t heartbeat = 0;

        void write(wire::writer& w, const member_type& m) const
        {
            wire::codec<Address>::write(w, m.address);
            wire::write_varint(w, wire::zigzag(m.generation - generation));
            wire::write_varint_flagged(w, wire::zigzag(m.heartbeat - heartbeat), m.status == member_status::left);
        }
        // Only once the entry is kept: one that did not fit must not shift the next one's base.
        void advance(const member_type& m) noexcept
        {
            generation = m.generation;
            heartbeat = m.heartbeat;
        }
    };

    // Someone speaks of this node. A version above its own comes from an earlier life (or a
    // forgery): move past it, so that this incarnation supersedes it everywhere.
    void claim_about_self(const incoming_entry& e) noexcept
    {
        // Past the highest generation lies only the reserved one, which every peer would refuse:
        // such a claim is not followed (gossip is not authenticated; see the top of this file).
        if (left_ || e.generation >= std::numeric_limits<std::uint64_t>::max() - 1) {
            return;
        }
        if (!generation_) {
            floor_ = std::max(floor_, e.generation + 1);
            return;
        }
        // Strictly newer: our own entry echoed back is no claim.
        if (version(e) > version(*generation_, false, heartbeat_)) {
            generation_ = e.generation + 1;
            ++stats_.refuted;
        }
    }

    // Takes e's version, which is newer than m's, and reports what changed.
    void apply_newer(member_type& m, const incoming_entry& e)
    {
        ++stats_.updates;
        const auto before = m.status;
        const auto before_generation = m.generation;
        m.generation = e.generation;
        m.heartbeat = e.heartbeat;
        if (e.left) {
            if (before != member_status::left || before_generation != e.generation) {
                stamp(m);
            }
            m.status = member_status::left;
            if (before != member_status::left) {
                report(member_event_kind::left, m);
            }
            return;
        }
        m.status = member_status::alive;
        stamp(m);
        if (before == member_status::failed) {
            report(member_event_kind::recovered, m);
        } else if (before == member_status::left) {
            report(member_event_kind::joined, m); // left is final within a generation: a new one
        } else if (e.generation > before_generation) {
            report(member_event_kind::restarted, m);
        }
    }

    // Merges the `count` entries of incoming_ marked fresh (in address order, as read() sorted
    // them) into the table, from the back, so that they need no buffer of their own.
    void insert_fresh(std::size_t count)
    {
        if (count == 0) {
            return;
        }
        std::size_t i = table_.size();
        std::size_t k = i + count;
        if (k > table_.capacity()) {
            // Members arrive a few at a time: grow by a quarter rather than double, for less slack.
            table_.reserve(std::max(k, table_.capacity() + table_.capacity() / 4));
        }
        table_.resize(k);
        for (std::size_t j = incoming_.size(); j > 0;) {
            const auto& e = incoming_[--j];
            if (!e.fresh) {
                continue;
            }
            while (i > 0 && e.address < table_[i - 1].address) {
                table_[--k] = std::move(table_[--i]);
            }
            table_[--k] = member_type{.address = e.address,
                                      .status = e.left ? member_status::left : member_status::alive,
                                      .generation = e.generation,
                                      .heartbeat = e.heartbeat,
                                      .since = now_,
                                      .since_period = periods_};
        }
    }

    void report(member_event_kind kind, const member_type& m) { report(kind, m.address, m.generation); }

    void report(member_event_kind kind, const Address& address, std::uint64_t generation)
    {
        switch (kind) {
        case member_event_kind::joined: ++stats_.joined; break;
        case member_event_kind::failed: ++stats_.failures_detected; break;
        case member_event_kind::left: ++stats_.left; break;
        case member_event_kind::recovered: ++stats_.recovered; break;
        case member_event_kind::restarted: ++stats_.restarted; break;
        }
        events_.push_back(event_type{kind, address, generation});
    }

    void dispatch()
    {
        if (on_event_) {
            for (const auto& e : events_) {
                on_event_(e);
            }
        }
        events_.clear();
        // A burst (joining a cluster: an event per member) is rare; steady state has few events.
        if (events_.capacity() > max_kept_events) {
            events_.shrink_to_fit();
        }
    }

    membership_options options_;
    std::chrono::nanoseconds t_fail_;
    std::chrono::nanoseconds t_cleanup_;
    event_handler on_event_;
    Address self_{};
    std::optional<std::uint64_t> generation_;
    std::uint64_t floor_ = 0; ///< the lowest generation this incarnation may take
    std::uint64_t heartbeat_ = 0;
    bool left_ = false;
    bool clock_started_ = false;
    std::chrono::nanoseconds now_{0};    ///< the node's clock at the latest period
    std::chrono::nanoseconds period_{0}; ///< the node's period; zero: quiet time is the clock's alone
    std::uint32_t periods_ = 0;          ///< periods run, modulo 2^32
    std::int64_t max_quiet_periods_ = 0; ///< the most periods quiet_time() counts: t_cleanup's, and one
    std::vector<member_type> table_;     // in address order
    std::optional<Address> resume_;      ///< where the next section's window starts
    membership_statistics stats_;
    // Scratch, kept between calls so that steady-state gossip allocates nothing.
    std::vector<incoming_entry> incoming_;
    /// Whether most entries of the last section of three or more were news (see read()).
    bool news_heavy_ = false;
    std::vector<event_type> events_;
};

} // namespace gossip::payload
