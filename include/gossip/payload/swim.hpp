#pragma once

// SWIM membership (Das, Gupta and Motivala, "SWIM: Scalable Weakly-consistent Infection-style
// Process Group Membership Protocol", DSN 2002) with Lifeguard (Dadgar, Phillips and Currey,
// 2018). Unlike payload::membership, which gossips a table of heartbeats on every exchange,
// a member here costs its peers a constant load whatever the cluster's size: one probe a period,
// and news only when there is news.
//
// Failure detection. Each probe interval T a member probes one other, in randomized round-robin
// order (the member list is shuffled once per pass, and a newcomer is placed at a random point
// of the rest of the pass), so that every member is probed within two passes. A probe is a ping;
// without an ack within probe_timeout, k other members are asked to ping the target (ping-req)
// and forward its ack; without any ack by the end of the period, the target is suspected.
// A suspicion travels; the suspect, hearing of it, refutes it by raising its incarnation number;
// unrefuted, it turns into failed after the suspicion timeout. The usual precedence holds, for a
// member at incarnation i: alive(j) overrides alive or suspect(i) when j > i; suspect(j)
// overrides suspect(i) when j > i and alive(i) when j >= i; failed(j) and left(j) override alive
// and suspect when j >= i; alive(j) with j > i brings a failed or left member back.
//
// Lifeguard (each part switchable, see lifeguard_options): a local health score stretches this
// member's probe interval and timeout while its own probes fail, its relays' nacks go missing,
// it has to refute suspicions of itself, or its loop runs late; a suspicion's timeout starts long
// and shrinks as distinct members confirm it; a ping to a suspect carries the suspicion first;
// relays nack when the target stays silent.
//
// Dissemination. Updates (alive, suspect, failed, left, and user broadcasts) ride on every
// ping, ack, ping-req and nack, as many as fit, each sent lambda * ceil(log10(n + 1)) times,
// fewest-sent first (detail::broadcast_queue); while any wait, gossip_fanout members also get
// them every gossip_interval. Nothing else is sent while nothing happens. A periodic full-state
// sync with one member repairs what piggybacking lost: it opens with a digest of the alive
// members (equal states end there), and otherwise exchanges the two member lists in pages of one
// datagram each, every page answered by at most one page. Failed members are synced with as
// often, so that the two sides of a healed partition find each other again; while this member
// knows nobody alive, its seeds are contacted again every seed_retry_interval.
//
// Identity. A member is a stable 64-bit id, an address and an incarnation, plus optional
// metadata (at most 512 bytes, spread with its alive record and changed at runtime with
// set_metadata()). A process that restarts with the same id, at the same address or another,
// takes over from its earlier life: it hears of its old state at the first sync and refutes it.
// A new process at an old address (another id) does not answer pings meant for its
// predecessor, which is then found failed. Failed and left members are forgotten after
// reclaim_after.
//
// Wire (the section of a direct message; little-endian, varints as in wire/varint.hpp):
//   u8 type, then by type:
//     1 ping      u32 seq   | u64 target id
//     2 ping-req  u32 seq   | u64 target id | target address
//     3 ack       u32 seq
//     4 nack      u32 seq
//     5 gossip    -
//     6 sync      u8 flags (1 want, 2 page, 4 more) | u64 digest | u64 want cursor | u64 next cursor
//   then updates to the end of the section, each:
//     u8 tag (1 alive, 2 suspect, 3 failed, 4 left, 5 user; 0x80 on alive: metadata follows)
//     alive    u64 id | varint incarnation | address | [varint length | metadata]
//     suspect  u64 id | varint incarnation | u64 accuser id
//     failed   u64 id | varint incarnation | u64 accuser id
//     left     u64 id | varint incarnation
//     user     u64 broadcast id | varint length | bytes
//   or u8 6 (padding) | varint length | that many bytes, skipped: a joiner pads its first word
//   to a seed so that the seed may answer with a full page (see gossip::max_amplification).
// In the node's own exchanges (composed with a replicated store, say) the section is updates
// only. A section is parsed whole before anything in it is applied: a malformed one changes
// nothing.

#include "../config.hpp"
#include "../detail/broadcast_queue.hpp"
#include "../detail/id_memory.hpp"
#include "../outbox.hpp"
#include "../random.hpp"
#include "../wire/codec.hpp"
#include "../wire/reader.hpp"
#include "../wire/varint.hpp"
#include "../wire/writer.hpp"
#include "policy.hpp"
#include "swim_options.hpp"

#include <algorithm>
#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace gossip::payload {

/// What a member believes of another.
enum class swim_state : std::uint8_t {
    alive,
    suspect, ///< probes failed; it may refute until its suspicion times out
    failed,  ///< its suspicion timed out
    left,    ///< it announced a clean leave
};

/// What happened to a member, as reported to the user.
enum class swim_event_kind : std::uint8_t {
    joined,    ///< first heard of alive, or alive again after it failed or left
    suspected, ///< its probes failed; not yet failed
    alive,     ///< a suspicion of it was refuted
    failed,    ///< its suspicion timed out
    left,      ///< it announced a clean leave
    updated,   ///< its metadata or address changed
};

[[nodiscard]] constexpr const char* to_string(swim_state s) noexcept
{
    switch (s) {
    case swim_state::alive: return "alive";
    case swim_state::suspect: return "suspect";
    case swim_state::failed: return "failed";
    case swim_state::left: return "left";
    }
    return "unknown";
}

[[nodiscard]] constexpr const char* to_string(swim_event_kind k) noexcept
{
    switch (k) {
    case swim_event_kind::joined: return "joined";
    case swim_event_kind::suspected: return "suspected";
    case swim_event_kind::alive: return "alive";
    case swim_event_kind::failed: return "failed";
    case swim_event_kind::left: return "left";
    case swim_event_kind::updated: return "updated";
    }
    return "unknown";
}

/// A member as this node sees it. The metadata span lives until the next call into the payload.
template <class Address>
struct swim_member {
    std::uint64_t id = 0;
    Address address{};
    swim_state state = swim_state::alive;
    std::uint32_t incarnation = 0;
    std::span<const std::byte> metadata;
    bool self = false; ///< this node itself
};

/// A change in what this node believes of a member, handed to the event handler.
template <class Address>
struct swim_event {
    swim_event_kind kind = swim_event_kind::joined;
    std::uint64_t id = 0;
    Address address{};
    std::uint32_t incarnation = 0;

    friend bool operator==(const swim_event&, const swim_event&) = default;
};

/// A member known in advance (a simulation that starts from a formed cluster).
template <class Address>
struct swim_known_member {
    std::uint64_t id = 0;
    Address address{};
};

/// What a swim payload has done, refused and observed.
struct swim_statistics {
    std::uint64_t probes = 0;           ///< pings sent as this member's own probes
    std::uint64_t acks = 0;             ///< probes answered directly
    std::uint64_t indirect_acks = 0;    ///< probes answered through a relay
    std::uint64_t probes_failed = 0;    ///< probes that ended without any ack
    std::uint64_t indirect_probes = 0;  ///< ping-reqs sent
    std::uint64_t relays = 0;           ///< ping-reqs served for others
    std::uint64_t relays_refused = 0;   ///< ping-reqs dropped: max_relays at once
    std::uint64_t nacks_sent = 0;       ///< relays whose target stayed silent
    std::uint64_t nacks_received = 0;   ///< for this member's own probes
    std::uint64_t missed_nacks = 0;     ///< ping-reqs that brought neither ack nor nack
    std::uint64_t late_acks = 0;        ///< acks for no probe or relay under way
    std::uint64_t stalls = 0;           ///< probes abandoned because this member's loop ran late
    std::uint64_t suspicions = 0;       ///< members this member suspected after its own probe
    std::uint64_t suspected = 0;        ///< members that turned suspect here (any accuser)
    std::uint64_t confirmations = 0;    ///< distinct further accusers of a suspect
    std::uint64_t refutations = 0;      ///< claims about this member answered with a higher incarnation
    std::uint64_t false_suspicions = 0; ///< suspects later refuted (known false)
    std::uint64_t failures = 0;         ///< members declared failed here (suspicion timed out)
    std::uint64_t joined = 0;           ///< events of each kind
    std::uint64_t failed = 0;           ///< failed events, this member's own declarations or heard
    std::uint64_t left = 0;
    std::uint64_t updated = 0;
    std::uint64_t reclaimed = 0;          ///< failed or left members forgotten
    std::uint64_t pings_misaddressed = 0; ///< pings for another id (a predecessor at this address)
    std::uint64_t gossip_messages = 0;    ///< gossip datagrams sent
    std::uint64_t syncs = 0;              ///< full-state syncs this member opened
    std::uint64_t syncs_equal = 0;        ///< syncs answered by nothing: the digests were equal
    std::uint64_t sync_pages = 0;         ///< pages of state sent
    std::uint64_t seed_contacts = 0;      ///< join messages sent to seeds
    std::uint64_t updates_sent = 0;       ///< piggybacked updates written
    std::uint64_t updates_received = 0;   ///< updates read, in well-formed sections
    std::uint64_t stale_updates = 0;      ///< updates older than what this member knew
    std::uint64_t dropped_table_full = 0; ///< news of members refused: max_members
    std::uint64_t dropped_queue_full = 0; ///< updates dropped from a full queue
    std::uint64_t delivered = 0;          ///< user broadcasts delivered
    std::uint64_t duplicates = 0;         ///< user broadcasts heard again
    std::uint64_t malformed = 0;          ///< sections refused

    friend bool operator==(const swim_statistics&, const swim_statistics&) = default;
};

// clang-format 14 mangles concepts and requires-clauses: kept as written.
// clang-format off
/// The payload: SWIM with Lifeguard (see the top of this file). It drives its own traffic
/// through the node's outbox and timers, and declines the node's periodic exchange
/// (wants_exchange() is false), so that an idle member sends one ping a period and answers one.
template <class Address>
    requires wire::encodable<Address> && std::equality_comparable<Address>
// clang-format on
class swim {
public:
    using address_type = Address;
    using member_type = swim_member<Address>;
    using event_type = swim_event<Address>;
    /// Called once the table is up to date, after the call that caused the event. It must not
    /// call back into the payload's protocol side (read, receive, on_timer).
    using event_handler = std::function<void(const event_type&)>;
    /// A user broadcast delivered: its id and bytes (valid during the call).
    using broadcast_handler = std::function<void(std::uint64_t, std::span<const std::byte>)>;

    swim() : swim(swim_options{}) {}

    /// Throws std::invalid_argument naming the impossible option.
    explicit swim(swim_options options, event_handler on_event = {})
        : options_(validated(std::move(options))), on_event_(std::move(on_event)),
          queue_(options_.max_queued, options_.max_queued), seen_(options_.broadcast_memory),
          my_meta_(options_.metadata)
    {
    }

    // --- the application's side -----------------------------------------------------------
    void on_event(event_handler handler) { on_event_ = std::move(handler); }
    void on_broadcast(broadcast_handler handler) { on_broadcast_ = std::move(handler); }

    /// This member's id: options.id, or drawn from the node's seed at start.
    [[nodiscard]] std::uint64_t id() const noexcept { return my_id_; }
    [[nodiscard]] std::uint32_t incarnation() const noexcept { return my_incarnation_; }
    [[nodiscard]] const Address& address() const noexcept { return self_; }
    [[nodiscard]] const swim_options& options() const noexcept { return options_; }
    [[nodiscard]] const swim_statistics& statistics() const noexcept { return stats_; }
    /// The local health score (Lifeguard's LHM minus one): probes stretch by (health() + 1).
    [[nodiscard]] std::uint32_t health() const noexcept { return health_; }
    [[nodiscard]] bool has_left() const noexcept { return left_; }

    /// Other members believed alive or suspect.
    [[nodiscard]] std::size_t alive_count() const noexcept { return live_; }
    /// Every member known, this one included, alive or not.
    [[nodiscard]] std::size_t size() const noexcept { return rows_.size() + 1; }

    /// Every member known, this one first, then the others in no particular order.
    [[nodiscard]] std::vector<member_type> members() const
    {
        std::vector<member_type> out;
        out.reserve(rows_.size() + 1);
        out.push_back(self_member());
        for (const auto& r : rows_) {
            out.push_back(to_member(r));
        }
        return out;
    }

    /// The member with this id (this one included), or nothing.
    [[nodiscard]] std::optional<member_type> find(std::uint64_t id) const
    {
        if (id == my_id_ && started_) {
            return self_member();
        }
        const auto at = position(id);
        if (at == npos) {
            return std::nullopt;
        }
        return to_member(rows_[at]);
    }

    /// This member's metadata.
    [[nodiscard]] std::span<const std::byte> metadata() const noexcept { return my_meta_; }

    /// Replaces this member's metadata and spreads it (a new incarnation). Throws
    /// std::invalid_argument beyond max_metadata_bytes.
    void set_metadata(std::span<const std::byte> bytes)
    {
        if (bytes.size() > max_metadata_bytes) {
            throw std::invalid_argument("swim::set_metadata: " + std::to_string(bytes.size()) + " bytes; at most " +
                                        std::to_string(max_metadata_bytes) + " are allowed");
        }
        my_meta_.assign(bytes.begin(), bytes.end());
        if (started_ && !left_) {
            raise_incarnation(my_incarnation_);
        }
    }

    /// Spreads bytes to every member, delivered once each through on_broadcast(); returns the
    /// broadcast's id. Not delivered here. Throws std::invalid_argument when it could not fit a
    /// datagram beside the headers.
    std::uint64_t broadcast(std::span<const std::byte> bytes)
    {
        const std::size_t most = max_broadcast_bytes();
        if (bytes.size() > most) {
            throw std::invalid_argument("swim::broadcast: " + std::to_string(bytes.size()) + " bytes; at most " +
                                        std::to_string(most) + " fit a datagram of " +
                                        std::to_string(max_message_bytes_) + " bytes");
        }
        const std::uint64_t id = mix_seed(my_id_ ^ 0x7573657262636173ULL, ++broadcasts_);
        seen_.insert(id, 0);
        queue_user(id, bytes);
        return id;
    }

    /// The longest user broadcast that fits a datagram.
    [[nodiscard]] std::size_t max_broadcast_bytes() const noexcept
    {
        const std::size_t overhead = wire::fixed_overhead<Address> + 1 + 1 + 8 + wire::max_varint_bytes + 8;
        return max_message_bytes_ > overhead ? max_message_bytes_ - overhead : 0;
    }

    /// Announces a clean leave: this member's record turns left at a new incarnation and goes
    /// straight to gossip_fanout members at each of the next three timer runs (gossip_node::leave()
    /// runs one at once). It stops probing. Final for this incarnation of the process.
    void leave()
    {
        if (left_ || !started_) {
            left_ = true;
            return;
        }
        left_ = true;
        ++my_incarnation_;
        leave_announcements_ = 3;
        queue_update(my_id_, [&](wire::writer& w) { write_left(w, my_id_, my_incarnation_); });
    }

    /// Makes the members given known as alive at incarnation 0 without a word on the wire, as if
    /// the cluster had formed already: for simulations that study a formed cluster. Fires no
    /// event.
    void preload(std::span<const swim_known_member<Address>> known)
    {
        rows_.reserve(rows_.size() + known.size());
        for (const auto& k : known) {
            if (k.id == my_id_ || position(k.id) != npos || rows_.size() >= options_.max_members) {
                continue;
            }
            rows_.push_back(row{k.id, now_, 0, k.address, swim_state::alive, false});
            index_insert(static_cast<std::uint32_t>(rows_.size() - 1));
            ++live_;
            note_peer_change(k.address, true);
        }
        reshuffle();
    }

    // --- the node's side: payload_policy and its capabilities ---------------------------------
    void start(const payload_context<Address>& context)
    {
        self_ = context.self;
        rng_ = pcg32(context.seed);
        my_id_ = options_.id.value_or(mix_seed(context.seed, 0x6964));
        max_message_bytes_ = context.max_message_bytes;
        // Keys a sender cannot know: where ids land in the tables, and where sequence numbers
        // start (an answer must name a probe's, which a stranger would have to guess).
        table_key_ = mix_seed(context.seed, 0x7461626c65);
        seen_.rekey(mix_seed(context.seed, 0x6b6579));
        seq_ = static_cast<std::uint32_t>(mix_seed(context.seed, 0x736571));
        if (!rows_.empty()) {
            rebuild_index(); // rows preloaded before the key was known
        }
    }

    [[nodiscard]] bool wants_exchange() const noexcept { return false; }

    /// The node's exchanges (when composed with a payload that needs them) carry updates too.
    void write(wire::writer& w, wire::message_kind /*kind*/) { write_updates(w, w.remaining(), nullptr); }

    [[nodiscard]] bool read(wire::reader& r, wire::message_kind /*kind*/)
    {
        if (!parse_updates(r)) {
            ++stats_.malformed;
            return false;
        }
        apply_updates();
        dispatch();
        return true;
    }

    [[nodiscard]] std::chrono::nanoseconds next_deadline() const noexcept
    {
        if (!started_) {
            return std::chrono::nanoseconds::min();
        }
        if (leave_announcements_ > 0) {
            return now_;
        }
        auto at = left_ ? never : (probe_.active ? probe_deadline() : next_probe_at_);
        if (!queue_.empty()) {
            at = std::min(at, next_gossip_at_);
        }
        at = std::min(at, next_sync_at_);
        if (live_ == 0 && !seeds_.empty()) {
            at = std::min(at, next_seed_at_);
        }
        for (const auto& r : relays_) {
            at = std::min(at, r.nacked || !options_.lifeguard.nack ? r.expires : std::min(r.nack_at, r.expires));
        }
        if (!suspicion_heap_.empty()) {
            at = std::min(at, suspicion_heap_.front().deadline);
        }
        return at;
    }

    void on_timer(std::chrono::nanoseconds now, outbox<Address>& out)
    {
        enter(now);
        if (leave_announcements_ > 0) {
            --leave_announcements_;
            gossip_round(out, true);
        }
        run_relays(now, out);
        if (!left_) {
            run_probe(now, out);
        }
        // After the probe: its own failure may have confirmed a suspicion, past its deadline.
        expire_suspicions(now);
        if (!queue_.empty() && now >= next_gossip_at_) {
            gossip_round(out, false);
        }
        if (now >= next_gossip_at_) {
            next_gossip_at_ += gossip_interval();
            pace_gossip();
        }
        if (now >= next_sync_at_) {
            next_sync_at_ = now + jittered(swim_formulas::sync_interval(options_, live_ + 1));
            open_syncs(out);
        }
        if (live_ == 0 && !seeds_.empty() && now >= next_seed_at_) {
            contact_seeds(out);
        }
        dispatch();
    }

    [[nodiscard]] bool receive(const Address& from, wire::reader& r, std::chrono::nanoseconds now, outbox<Address>& out)
    {
        enter(now);
        const bool ok = handle(from, r, now, out);
        if (!ok) {
            ++stats_.malformed;
        }
        dispatch();
        return ok;
    }

    void join(std::span<const Address> seeds, std::chrono::nanoseconds now, outbox<Address>& out)
    {
        enter(now);
        for (const auto& s : seeds) {
            if (!(s == self_) && std::find(seeds_.begin(), seeds_.end(), s) == seeds_.end() &&
                seeds_.size() < max_seeds) {
                seeds_.push_back(s);
            }
        }
        queue_self_alive();
        contact_seeds(out);
        dispatch();
    }

    template <class F>
    void take_peer_changes(F&& f)
    {
        for (const auto& [a, up] : peer_changes_) {
            f(a, up);
        }
        peer_changes_.clear();
    }

private:
    static constexpr auto never = std::chrono::nanoseconds::max();
    static constexpr std::uint32_t npos = std::numeric_limits<std::uint32_t>::max();
    static constexpr std::size_t max_seeds = 64;
    static constexpr std::size_t max_kept_scratch = 64;
    static constexpr std::size_t max_peer_changes = 16'384;

    enum class type : std::uint8_t { ping = 1, ping_req = 2, ack = 3, nack = 4, gossip = 5, sync = 6 };
    enum class tag : std::uint8_t { alive = 1, suspect = 2, failed = 3, left = 4, user = 5 };
    static constexpr std::uint8_t padding_tag = 6; ///< not an update: skipped by every reader
    static constexpr std::uint8_t tag_has_metadata = 0x80;
    static constexpr std::uint8_t sync_want = 1;
    static constexpr std::uint8_t sync_page = 2;
    static constexpr std::uint8_t sync_more = 4;

    struct row {
        std::uint64_t id = 0;
        std::chrono::nanoseconds since{0}; ///< when its state last changed here
        std::uint32_t incarnation = 0;
        Address address{};
        swim_state state = swim_state::alive;
        bool has_metadata = false;
    };

    struct update {
        tag kind = tag::alive;
        std::uint64_t id = 0;
        std::uint32_t incarnation = 0;
        std::uint64_t accuser = 0;
        Address address{};
        std::span<const std::byte> bytes; ///< metadata or a user broadcast, in the datagram
        bool has_metadata = false;
    };

    struct probe {
        bool active = false;
        bool indirect_sent = false;
        std::uint64_t target = 0;
        std::uint32_t seq = 0;
        std::uint32_t nacks_expected = 0;
        std::uint32_t nacks_received = 0;
        std::chrono::nanoseconds timeout_at{0};
        std::chrono::nanoseconds end_at{0};
    };

    struct relay {
        Address requester{};
        std::uint32_t requester_seq = 0;
        std::uint32_t seq = 0;
        std::chrono::nanoseconds nack_at{0};
        std::chrono::nanoseconds expires{0};
        bool nacked = false;
    };

    struct suspicion {
        std::chrono::nanoseconds start{0};
        std::chrono::nanoseconds least{0};
        std::chrono::nanoseconds most{0};
        std::chrono::nanoseconds deadline{0};
        std::uint32_t incarnation = 0;
        std::uint32_t expected = 0;
        std::uint32_t confirmations = 0;
        std::array<std::uint64_t, 33> accusers{}; ///< the first, then each confirmation's
    };

    struct timed {
        std::chrono::nanoseconds deadline{0};
        std::uint64_t id = 0;
        friend bool operator>(const timed& a, const timed& b) noexcept
        {
            return a.deadline != b.deadline ? a.deadline > b.deadline : a.id > b.id;
        }
    };

    static swim_options validated(swim_options o)
    {
        if (auto problem = check(o)) {
            throw std::invalid_argument("gossip::payload::swim_options: " + *problem);
        }
        return o;
    }

    // --- time -----------------------------------------------------------------------------
    void enter(std::chrono::nanoseconds now)
    {
        now_ = std::max(now_, now);
        if (started_) {
            return;
        }
        started_ = true;
        next_probe_at_ = now + (options_.spread_start ? fraction_of(probe_interval()) : std::chrono::nanoseconds{0});
        next_gossip_at_ = now + (options_.spread_start ? fraction_of(gossip_interval()) : std::chrono::nanoseconds{0});
        next_sync_at_ = now + jittered(swim_formulas::sync_interval(options_, 1));
        next_seed_at_ = now + nanos(options_.seed_retry_interval);
        if (left_) {
            ++my_incarnation_; // left before the first timer: say so at once
            leave_announcements_ = 3;
            queue_update(my_id_, [&](wire::writer& w) { write_left(w, my_id_, my_incarnation_); });
        }
    }

    template <class Rep, class Period>
    [[nodiscard]] static std::chrono::nanoseconds nanos(std::chrono::duration<Rep, Period> d) noexcept
    {
        return std::chrono::duration_cast<std::chrono::nanoseconds>(d);
    }

    [[nodiscard]] std::uint32_t multiplier() const noexcept
    {
        return options_.lifeguard.local_health ? health_ + 1 : 1;
    }
    [[nodiscard]] std::chrono::nanoseconds probe_interval() const noexcept
    {
        return nanos(options_.probe_interval) * multiplier();
    }
    [[nodiscard]] std::chrono::nanoseconds probe_timeout() const noexcept
    {
        return nanos(options_.probe_timeout) * multiplier();
    }
    [[nodiscard]] std::chrono::nanoseconds gossip_interval() const noexcept { return nanos(options_.gossip_interval); }

    // A uniform point of [0, d): spreads members' phases.
    [[nodiscard]] std::chrono::nanoseconds fraction_of(std::chrono::nanoseconds d) noexcept
    {
        return std::chrono::nanoseconds{
            static_cast<std::int64_t>(static_cast<double>(d.count()) * (static_cast<double>(rng_()) / 4294967296.0))};
    }
    // d, give or take a quarter.
    [[nodiscard]] std::chrono::nanoseconds jittered(std::chrono::nanoseconds d) noexcept
    {
        return d * 3 / 4 + fraction_of(d / 2);
    }

    void adjust_health(std::int64_t delta) noexcept
    {
        if (!options_.lifeguard.local_health) {
            return;
        }
        const auto most = static_cast<std::int64_t>(options_.lifeguard.max_health_multiplier) - 1;
        health_ = static_cast<std::uint32_t>(std::clamp<std::int64_t>(std::int64_t{health_} + delta, 0, most));
    }

    // --- the table ---------------------------------------------------------------------------
    [[nodiscard]] std::size_t slot_of(std::uint64_t id) const noexcept
    {
        return static_cast<std::size_t>(mix_seed(id, table_key_));
    }

    [[nodiscard]] std::uint32_t position(std::uint64_t id) const noexcept
    {
        if (slots_.empty()) {
            return npos;
        }
        const std::size_t mask = slots_.size() - 1;
        for (std::size_t i = slot_of(id) & mask;; i = (i + 1) & mask) {
            const std::uint32_t s = slots_[i];
            if (s == 0) {
                return npos;
            }
            if (rows_[s - 1].id == id) {
                return s - 1;
            }
        }
    }

    void index_insert(std::uint32_t at)
    {
        if ((rows_.size() + 1) * 2 > slots_.size()) {
            rebuild_index();
            return; // the rebuild placed every row, this one included
        }
        place(at);
    }

    void place(std::uint32_t at) noexcept
    {
        const std::size_t mask = slots_.size() - 1;
        std::size_t i = slot_of(rows_[at].id) & mask;
        while (slots_[i] != 0) {
            i = (i + 1) & mask;
        }
        slots_[i] = at + 1;
    }

    void rebuild_index()
    {
        std::size_t capacity = 16;
        while (capacity < (rows_.size() + 1) * 2) {
            capacity *= 2;
        }
        slots_.assign(capacity, 0);
        for (std::uint32_t i = 0; i < rows_.size(); ++i) {
            place(i);
        }
    }

    // Swaps two rows and keeps the index right.
    void swap_rows(std::uint32_t a, std::uint32_t b) noexcept
    {
        if (a == b) {
            return;
        }
        const std::size_t mask = slots_.size() - 1;
        const auto repoint = [&](std::uint64_t id, std::uint32_t to) {
            for (std::size_t i = slot_of(id) & mask;; i = (i + 1) & mask) {
                if (slots_[i] != 0 && rows_[slots_[i] - 1].id == id) {
                    slots_[i] = to + 1;
                    return;
                }
            }
        };
        const std::uint64_t id_a = rows_[a].id;
        const std::uint64_t id_b = rows_[b].id;
        repoint(id_a, b);
        // rows_[b] still holds id_b: its slot is found by its own id.
        std::swap(rows_[a], rows_[b]);
        for (std::size_t i = slot_of(id_b) & mask;; i = (i + 1) & mask) {
            if (slots_[i] == b + 1 && rows_[a].id == id_b) {
                slots_[i] = a + 1;
                break;
            }
        }
    }

    [[nodiscard]] static bool is_live(swim_state s) noexcept
    {
        return s == swim_state::alive || s == swim_state::suspect;
    }

    [[nodiscard]] std::span<const std::byte> metadata_of(const row& r) const
    {
        if (!r.has_metadata) {
            return {};
        }
        const auto it = metadata_.find(r.id);
        return it != metadata_.end() ? std::span<const std::byte>(it->second) : std::span<const std::byte>{};
    }

    [[nodiscard]] member_type to_member(const row& r) const
    {
        return member_type{r.id, r.address, r.state, r.incarnation, metadata_of(r), false};
    }

    [[nodiscard]] member_type self_member() const
    {
        return member_type{my_id_,          self_,    left_ ? swim_state::left : swim_state::alive,
                           my_incarnation_, my_meta_, true};
    }

    // A newcomer goes to a random place among the members not yet probed in this pass.
    std::uint32_t insert_row(const row& r)
    {
        rows_.push_back(r);
        const auto at = static_cast<std::uint32_t>(rows_.size() - 1);
        index_insert(at);
        const std::size_t first = std::min<std::size_t>(probe_next_, at);
        const auto to = static_cast<std::uint32_t>(first + uniform_index(rng_, at - first + 1));
        swap_rows(at, to);
        return to;
    }

    // The end of a pass: failed and left members past reclaim_after are forgotten, and the rest
    // is shuffled for the next pass.
    void reshuffle()
    {
        const auto reclaim = nanos(options_.reclaim_after);
        const auto keep = std::remove_if(rows_.begin(), rows_.end(), [&](const row& r) {
            const bool gone = !is_live(r.state) && now_ - r.since >= reclaim;
            if (gone) {
                ++stats_.reclaimed;
                metadata_.erase(r.id);
            }
            return gone;
        });
        rows_.erase(keep, rows_.end());
        shuffle(std::span(rows_), rng_);
        rebuild_index();
        probe_next_ = 0;
    }

    // --- events -----------------------------------------------------------------------------
    void report(swim_event_kind kind, const row& r)
    {
        switch (kind) {
        case swim_event_kind::joined: ++stats_.joined; break;
        case swim_event_kind::suspected: ++stats_.suspected; break;
        case swim_event_kind::alive: break;
        case swim_event_kind::failed: ++stats_.failed; break;
        case swim_event_kind::left: ++stats_.left; break;
        case swim_event_kind::updated: ++stats_.updated; break;
        }
        events_.push_back(event_type{kind, r.id, r.address, r.incarnation});
    }

    void dispatch()
    {
        if (on_event_) {
            for (std::size_t i = 0; i < events_.size(); ++i) {
                on_event_(events_[i]);
            }
        }
        events_.clear();
        if (events_.capacity() > max_kept_scratch) {
            events_.shrink_to_fit();
        }
        if (updates_.capacity() > 4 * max_kept_scratch) {
            updates_.clear();
            updates_.shrink_to_fit();
        }
    }

    void set_state(row& r, swim_state to)
    {
        const bool was_live = is_live(r.state);
        const bool now_live = is_live(to);
        r.state = to;
        r.since = now_;
        if (was_live != now_live) {
            live_ += now_live ? 1 : static_cast<std::size_t>(-1);
            note_peer_change(r.address, now_live);
        }
    }

    // A node takes these after every call; a payload driven on its own, outside a node, is never
    // asked, so the list is bounded: past the bound it starts again (the view it would feed is
    // only a sample).
    void note_peer_change(const Address& a, bool up)
    {
        if (peer_changes_.size() >= max_peer_changes) {
            peer_changes_.clear();
        }
        peer_changes_.emplace_back(a, up);
    }

    // --- encoding updates ---------------------------------------------------------------------
    void write_alive(wire::writer& w, std::uint64_t id, std::uint32_t incarnation, const Address& a,
                     std::span<const std::byte> meta) const
    {
        w.u8(static_cast<std::uint8_t>(tag::alive) | (meta.empty() ? 0 : tag_has_metadata));
        w.u64(id);
        wire::write_varint(w, incarnation);
        wire::codec<Address>::write(w, a);
        if (!meta.empty()) {
            wire::write_varint(w, meta.size());
            w.bytes(meta);
        }
    }

    static void write_accusation(wire::writer& w, tag kind, std::uint64_t id, std::uint32_t incarnation,
                                 std::uint64_t accuser)
    {
        w.u8(static_cast<std::uint8_t>(kind));
        w.u64(id);
        wire::write_varint(w, incarnation);
        w.u64(accuser);
    }

    static void write_left(wire::writer& w, std::uint64_t id, std::uint32_t incarnation)
    {
        w.u8(static_cast<std::uint8_t>(tag::left));
        w.u64(id);
        wire::write_varint(w, incarnation);
    }

    void write_row(wire::writer& w, const row& r) const
    {
        switch (r.state) {
        case swim_state::alive: write_alive(w, r.id, r.incarnation, r.address, metadata_of(r)); break;
        case swim_state::suspect: write_accusation(w, tag::suspect, r.id, r.incarnation, first_accuser(r)); break;
        case swim_state::failed: write_accusation(w, tag::failed, r.id, r.incarnation, my_id_); break;
        case swim_state::left: write_left(w, r.id, r.incarnation); break;
        }
    }

    // Who first suspected r: a page passes the suspicion on under its author's name, so that
    // passing it on never counts as one more independent confirmation.
    [[nodiscard]] std::uint64_t first_accuser(const row& r) const
    {
        const auto it = suspicions_.find(r.id);
        return it != suspicions_.end() ? it->second.accusers[0] : my_id_;
    }

    void write_self(wire::writer& w) const
    {
        if (left_) {
            write_left(w, my_id_, my_incarnation_);
        } else {
            write_alive(w, my_id_, my_incarnation_, self_, my_meta_);
        }
    }

    template <class Write>
    void queue_update(std::uint64_t key, Write&& write)
    {
        std::array<std::byte, 640> buffer{};
        wire::writer w{std::span(buffer)};
        write(w);
        if (w.ok()) {
            if (queue_.empty()) {
                pace_gossip();
            }
            stats_.dropped_queue_full += queue_.push(key, false, w.written());
        }
    }

    void queue_row(const row& r)
    {
        queue_update(r.id, [&](wire::writer& w) { write_row(w, r); });
    }

    void queue_self_alive()
    {
        queue_update(my_id_, [&](wire::writer& w) { write_self(w); });
    }

    void queue_user(std::uint64_t id, std::span<const std::byte> bytes)
    {
        std::vector<std::byte> buffer(1 + 8 + wire::max_varint_bytes + bytes.size());
        wire::writer w{std::span(buffer)};
        w.u8(static_cast<std::uint8_t>(tag::user));
        w.u64(id);
        wire::write_varint(w, bytes.size());
        w.bytes(bytes);
        if (w.ok()) {
            if (queue_.empty()) {
                pace_gossip();
            }
            stats_.dropped_queue_full += queue_.push(id, true, w.written());
        }
    }

    void raise_incarnation(std::uint32_t above)
    {
        if (above == std::numeric_limits<std::uint32_t>::max()) {
            return; // cannot go higher; a forger claimed the top one
        }
        my_incarnation_ = above + 1;
        queue_self_alive();
    }

    // A suspicion, failure or leave claimed of this member at or above its incarnation is refuted
    // with a higher one. A suspicion also counts against its health: others could not reach it,
    // so it may be the slow one.
    void refute(const update& u, bool suspected)
    {
        if (left_ || u.incarnation < my_incarnation_) {
            resend_refutation();
            return;
        }
        ++stats_.refutations;
        if (suspected) {
            adjust_health(1);
        }
        raise_incarnation(u.incarnation);
    }

    // A claim about this member older than its refutation still travels: someone missed the
    // refutation, so it goes out again (once more in all while it waits, however many claims).
    void resend_refutation()
    {
        if (!left_ && my_incarnation_ > 0 && !queue_.waiting(my_id_, false)) {
            queue_self_alive();
        }
    }

    // Piggybacks waiting updates into at most `room` bytes of w; `first`, if given, goes first
    // (the buddy system's suspicion of a probed member).
    void write_updates(wire::writer& w, std::size_t room, const row* first)
    {
        const std::size_t end = w.size() + std::min(room, w.remaining());
        if (first != nullptr) {
            wire::append_if_fits(
                w, [&](wire::writer& out) { write_row(out, *first); }, end);
        }
        const std::size_t written = queue_.write(w, end - std::min(end, w.size()), limit(), options_.user_share);
        stats_.updates_sent += written;
    }

    [[nodiscard]] detail::broadcast_queue::limits limit() const
    {
        const std::size_t n = live_ + 1;
        return {swim_formulas::retransmit_limit(options_, n), swim_formulas::broadcast_retransmit_limit(options_, n)};
    }

    // Gossip rounds keep to their grid, one every gossip_interval from a phase of their own: news
    // that arrives after a quiet spell waits for the next slot rather than going at once, so that
    // a burst does not cross the cluster at the speed of the network.
    void pace_gossip() noexcept
    {
        if (next_gossip_at_ >= now_) {
            return;
        }
        const auto interval = gossip_interval();
        const auto behind = (now_ - next_gossip_at_ + interval - std::chrono::nanoseconds{1}) / interval;
        next_gossip_at_ += behind * interval;
    }

    // --- parsing and applying updates ----------------------------------------------------------
    [[nodiscard]] bool parse_updates(wire::reader& r)
    {
        updates_.clear();
        while (r.ok() && r.remaining() > 0) {
            update u;
            const std::uint8_t t = r.u8();
            if (t == padding_tag) {
                const std::uint64_t n = wire::read_varint(r);
                if (!r.ok() || n > r.remaining()) {
                    return false;
                }
                (void)r.bytes(static_cast<std::size_t>(n));
                continue;
            }
            const auto kind = static_cast<std::uint8_t>(t & ~tag_has_metadata);
            u.has_metadata = (t & tag_has_metadata) != 0;
            if (kind < 1 || kind > 5 || (u.has_metadata && kind != static_cast<std::uint8_t>(tag::alive))) {
                return false;
            }
            u.kind = static_cast<tag>(kind);
            u.id = r.u64();
            if (u.kind != tag::user) {
                const std::uint64_t inc = wire::read_varint(r);
                if (inc > std::numeric_limits<std::uint32_t>::max()) {
                    return false;
                }
                u.incarnation = static_cast<std::uint32_t>(inc);
            }
            switch (u.kind) {
            case tag::alive:
                if (!wire::codec<Address>::read(r, u.address)) {
                    return false;
                }
                if (u.has_metadata) {
                    const std::uint64_t n = wire::read_varint(r);
                    if (n == 0 || n > max_metadata_bytes) {
                        return false;
                    }
                    u.bytes = r.bytes(static_cast<std::size_t>(n));
                }
                break;
            case tag::suspect:
            case tag::failed: u.accuser = r.u64(); break;
            case tag::left: break;
            case tag::user: {
                const std::uint64_t n = wire::read_varint(r);
                if (n > r.remaining()) {
                    return false;
                }
                u.bytes = r.bytes(static_cast<std::size_t>(n));
                break;
            }
            }
            if (!r.ok()) {
                return false;
            }
            updates_.push_back(u);
        }
        return r.ok();
    }

    // `from_sync`: a page of somebody's whole state, whose failures may be old news from the
    // other side of a partition; they are taken as suspicions, so that the accused, if alive,
    // has its suspicion timeout to refute them rather than being declared failed at once.
    void apply_updates(bool from_sync = false)
    {
        stats_.updates_received += updates_.size();
        for (auto& u : updates_) {
            if (from_sync && u.kind == tag::failed) {
                u.kind = tag::suspect;
            }
            switch (u.kind) {
            case tag::alive: apply_alive(u); break;
            case tag::suspect: apply_suspect(u); break;
            case tag::failed:
            case tag::left: apply_gone(u); break;
            case tag::user: apply_user(u); break;
            }
        }
    }

    void apply_alive(const update& u)
    {
        if (u.id == my_id_) {
            // A newer record of this member, or one as new that disagrees (an earlier life of
            // the process, at another address): supersede it.
            const bool disagrees =
                u.incarnation == my_incarnation_ && (!(u.address == self_) || !std::ranges::equal(u.bytes, my_meta_));
            if (!left_ && (u.incarnation > my_incarnation_ || disagrees)) {
                ++stats_.refutations;
                raise_incarnation(u.incarnation);
            }
            return;
        }
        const auto at = position(u.id);
        if (at == npos) {
            if (rows_.size() >= options_.max_members) {
                ++stats_.dropped_table_full;
                return;
            }
            // Inserted as not live, so that set_state() below counts it in and reports it up.
            const row fresh{u.id, now_, u.incarnation, u.address, swim_state::failed, false};
            const auto to = insert_row(fresh);
            row& r = rows_[to];
            store_metadata(r, u);
            set_state(r, swim_state::alive);
            report(swim_event_kind::joined, r);
            queue_row(r);
            return;
        }
        row& r = rows_[at];
        if (u.incarnation <= r.incarnation) {
            ++stats_.stale_updates;
            return;
        }
        const auto before = r.state;
        const bool moved = !(r.address == u.address);
        const bool meta_changed = !std::ranges::equal(metadata_of(r), u.bytes);
        if (moved && is_live(before)) {
            note_peer_change(r.address, false);
            note_peer_change(u.address, true);
        }
        r.address = u.address;
        r.incarnation = u.incarnation;
        store_metadata(r, u);
        if (before == swim_state::suspect) {
            suspicions_.erase(r.id);
            ++stats_.false_suspicions;
        }
        set_state(r, swim_state::alive);
        if (before == swim_state::suspect) {
            report(swim_event_kind::alive, r);
        } else if (!is_live(before)) {
            report(swim_event_kind::joined, r);
        }
        if (is_live(before) && (moved || meta_changed)) {
            report(swim_event_kind::updated, r);
        }
        queue_row(r);
    }

    void store_metadata(row& r, const update& u)
    {
        if (u.bytes.empty()) {
            if (r.has_metadata) {
                metadata_.erase(r.id);
            }
            r.has_metadata = false;
            return;
        }
        metadata_[r.id].assign(u.bytes.begin(), u.bytes.end());
        r.has_metadata = true;
    }

    void apply_suspect(const update& u)
    {
        if (u.id == my_id_) {
            refute(u, /*suspected=*/true);
            return;
        }
        const auto at = position(u.id);
        if (at == npos) {
            return;
        }
        row& r = rows_[at];
        if (!is_live(r.state)) {
            return;
        }
        if (u.incarnation < r.incarnation) {
            ++stats_.stale_updates;
            return;
        }
        if (r.state == swim_state::suspect && u.incarnation == r.incarnation) {
            if (confirm(r, u.accuser)) {
                queue_update(r.id, [&](wire::writer& w) {
                    write_accusation(w, tag::suspect, r.id, r.incarnation, u.accuser);
                });
            }
            return;
        }
        r.incarnation = u.incarnation;
        suspect(r, u.accuser);
        queue_update(r.id, [&](wire::writer& w) { write_accusation(w, tag::suspect, r.id, r.incarnation, u.accuser); });
    }

    void apply_gone(const update& u)
    {
        const bool left = u.kind == tag::left;
        if (u.id == my_id_) {
            refute(u, /*suspected=*/false); // only this member can leave
            return;
        }
        const auto at = position(u.id);
        if (at == npos) {
            return;
        }
        row& r = rows_[at];
        if (u.incarnation < r.incarnation || r.state == swim_state::left ||
            (r.state == swim_state::failed && (!left || u.incarnation == r.incarnation))) {
            if (u.incarnation < r.incarnation) {
                ++stats_.stale_updates;
            } else if (r.state == swim_state::failed && u.incarnation > r.incarnation) {
                // Failed again at a later incarnation (a refutation this member missed): keep
                // it, so that a late alive from before the second failure cannot revive it.
                r.incarnation = u.incarnation;
            }
            return;
        }
        r.incarnation = u.incarnation;
        suspicions_.erase(r.id);
        set_state(r, left ? swim_state::left : swim_state::failed);
        report(left ? swim_event_kind::left : swim_event_kind::failed, r);
        queue_update(r.id, [&](wire::writer& w) {
            if (left) {
                write_left(w, r.id, r.incarnation);
            } else {
                write_accusation(w, tag::failed, r.id, r.incarnation, u.accuser);
            }
        });
    }

    void apply_user(const update& u)
    {
        if (seen_.contains(u.id)) {
            ++stats_.duplicates;
            return;
        }
        seen_.insert(u.id, 0);
        ++stats_.delivered;
        queue_user(u.id, u.bytes);
        if (on_broadcast_) {
            on_broadcast_(u.id, u.bytes);
        }
    }

    // --- suspicion ------------------------------------------------------------------------------
    void suspect(row& r, std::uint64_t accuser)
    {
        const std::size_t n = live_ + 1;
        suspicion s;
        s.start = now_;
        s.least = swim_formulas::min_suspicion(options_, n);
        s.most = swim_formulas::max_suspicion(options_, n);
        s.expected = swim_formulas::expected_confirmations(options_, n);
        s.incarnation = r.incarnation;
        s.accusers[0] = accuser;
        s.deadline = s.start + swim_formulas::suspicion_timeout(s.least, s.most, 0, s.expected);
        suspicions_[r.id] = s;
        push_suspicion(timed{s.deadline, r.id});
        set_state(r, swim_state::suspect);
        report(swim_event_kind::suspected, r);
    }

    // A further accuser: the timeout shrinks. True when it was news.
    bool confirm(const row& r, std::uint64_t accuser)
    {
        const auto it = suspicions_.find(r.id);
        if (it == suspicions_.end() || accuser == r.id) {
            return false;
        }
        suspicion& s = it->second;
        if (s.confirmations >= s.expected) {
            return false; // the timeout is at its least already
        }
        const auto known = std::span(s.accusers).first(s.confirmations + 1);
        if (std::find(known.begin(), known.end(), accuser) != known.end()) {
            return false;
        }
        ++s.confirmations;
        s.accusers[s.confirmations] = accuser;
        ++stats_.confirmations;
        s.deadline = s.start + swim_formulas::suspicion_timeout(s.least, s.most, s.confirmations, s.expected);
        push_suspicion(timed{s.deadline, r.id});
        return true;
    }

    void push_suspicion(timed t)
    {
        if (suspicion_heap_.size() >= 2 * suspicions_.size() + 64) {
            // Moved deadlines leave entries behind until they come due; re-suspicions and
            // confirmations in a flood must not pile them up, so the heap is rebuilt from the
            // suspicions themselves (in deadline-then-id order, whatever the map's order).
            suspicion_heap_.clear();
            for (const auto& [id, sus] : suspicions_) {
                suspicion_heap_.push_back(timed{sus.deadline, id});
            }
            std::make_heap(suspicion_heap_.begin(), suspicion_heap_.end(), std::greater<>{});
        }
        suspicion_heap_.push_back(t);
        std::push_heap(suspicion_heap_.begin(), suspicion_heap_.end(), std::greater<>{});
    }

    void expire_suspicions(std::chrono::nanoseconds now)
    {
        while (!suspicion_heap_.empty() && suspicion_heap_.front().deadline <= now) {
            std::pop_heap(suspicion_heap_.begin(), suspicion_heap_.end(), std::greater<>{});
            const timed t = suspicion_heap_.back();
            suspicion_heap_.pop_back();
            const auto it = suspicions_.find(t.id);
            if (it == suspicions_.end() || it->second.deadline != t.deadline) {
                continue; // refuted, or its deadline moved
            }
            const auto at = position(t.id);
            suspicions_.erase(it);
            if (at == npos || rows_[at].state != swim_state::suspect) {
                continue;
            }
            row& r = rows_[at];
            ++stats_.failures;
            set_state(r, swim_state::failed);
            report(swim_event_kind::failed, r);
            queue_update(r.id, [&](wire::writer& w) { write_accusation(w, tag::failed, r.id, r.incarnation, my_id_); });
        }
        if (suspicion_heap_.empty() && suspicion_heap_.capacity() > max_kept_scratch) {
            suspicion_heap_.shrink_to_fit();
        }
    }

    // --- probing --------------------------------------------------------------------------------
    [[nodiscard]] std::chrono::nanoseconds probe_deadline() const noexcept
    {
        return probe_.indirect_sent ? probe_.end_at : std::min(probe_.timeout_at, probe_.end_at);
    }

    void run_probe(std::chrono::nanoseconds now, outbox<Address>& out)
    {
        if (probe_.active) {
            // A loop that wakes long after a deadline was asleep itself: what it did not hear
            // says nothing of the target (Lifeguard's self-awareness; counted as a stall).
            const bool late = options_.lifeguard.local_health && now - probe_deadline() > nanos(options_.probe_timeout);
            if (late) {
                ++stats_.stalls;
                adjust_health(1);
                probe_.active = false;
                next_probe_at_ = now;
            } else {
                if (!probe_.indirect_sent && now >= probe_.timeout_at) {
                    send_ping_reqs(out);
                }
                if (now >= probe_.end_at) {
                    finish_failed_probe();
                }
            }
        }
        if (!probe_.active && now >= next_probe_at_) {
            start_probe(now, out);
        }
    }

    // The next member of the pass that is alive or suspect, if any.
    [[nodiscard]] std::uint32_t next_target()
    {
        for (std::size_t tries = 0; tries <= rows_.size(); ++tries) {
            if (probe_next_ >= rows_.size()) {
                reshuffle();
                if (rows_.empty()) {
                    return npos;
                }
            }
            const auto at = static_cast<std::uint32_t>(probe_next_++);
            if (is_live(rows_[at].state)) {
                return at;
            }
        }
        return npos;
    }

    void start_probe(std::chrono::nanoseconds now, outbox<Address>& out)
    {
        next_probe_at_ = now + probe_interval();
        const auto at = next_target();
        if (at == npos) {
            return;
        }
        const row& target = rows_[at];
        probe_ = probe{};
        probe_relays_.clear();
        probe_.active = true;
        probe_.target = target.id;
        probe_.seq = ++seq_;
        probe_.timeout_at = now + probe_timeout();
        probe_.end_at = now + probe_interval();
        ++stats_.probes;
        const row* buddy = options_.lifeguard.buddy && target.state == swim_state::suspect ? &target : nullptr;
        send_ping(out, target.address, probe_.seq, target.id, buddy);
    }

    void send_ping(outbox<Address>& out, const Address& to, std::uint32_t seq, std::uint64_t target, const row* first)
    {
        out.send(to, [&](wire::writer& w) {
            w.u8(static_cast<std::uint8_t>(type::ping));
            w.u32(seq);
            w.u64(target);
            write_updates(w, w.remaining(), first);
        });
    }

    void send_short(outbox<Address>& out, const Address& to, type t, std::uint32_t seq)
    {
        out.send(to, [&](wire::writer& w) {
            w.u8(static_cast<std::uint8_t>(t));
            w.u32(seq);
            write_updates(w, w.remaining(), nullptr);
        });
    }

    void send_ping_reqs(outbox<Address>& out)
    {
        probe_.indirect_sent = true;
        const auto target_at = position(probe_.target);
        if (target_at == npos) {
            return;
        }
        const row target = rows_[target_at];
        choose_members(options_.indirect_checks,
                       [&](const row& r) { return r.state == swim_state::alive && r.id != target.id; });
        probe_relays_.clear();
        for (const auto at : chosen_) {
            ++stats_.indirect_probes;
            probe_relays_.emplace_back(rows_[at].address, false);
            out.send(rows_[at].address, [&](wire::writer& w) {
                w.u8(static_cast<std::uint8_t>(type::ping_req));
                w.u32(probe_.seq);
                w.u64(target.id);
                wire::codec<Address>::write(w, target.address);
                write_updates(w, w.remaining(), nullptr);
            });
        }
        probe_.nacks_expected = options_.lifeguard.nack ? static_cast<std::uint32_t>(chosen_.size()) : 0;
    }

    void finish_failed_probe()
    {
        probe_.active = false;
        ++stats_.probes_failed;
        // Lifeguard: every relay that did not even nack points at this member's own trouble;
        // with no relay to tell, a failed probe counts once.
        if (probe_.nacks_expected > 0) {
            const std::uint32_t missed = probe_.nacks_expected - std::min(probe_.nacks_expected, probe_.nacks_received);
            stats_.missed_nacks += missed;
            adjust_health(missed);
        } else {
            adjust_health(1);
        }
        const auto at = position(probe_.target);
        if (at == npos) {
            return;
        }
        row& r = rows_[at];
        if (r.state == swim_state::alive) {
            ++stats_.suspicions;
            suspect(r, my_id_);
            queue_update(r.id,
                         [&](wire::writer& w) { write_accusation(w, tag::suspect, r.id, r.incarnation, my_id_); });
        } else if (r.state == swim_state::suspect && confirm(r, my_id_)) {
            queue_update(r.id,
                         [&](wire::writer& w) { write_accusation(w, tag::suspect, r.id, r.incarnation, my_id_); });
        }
    }

    // Up to k distinct rows matching `eligible`, drawn uniformly, into chosen_.
    template <class Eligible>
    void choose_members(std::size_t k, Eligible&& eligible)
    {
        chosen_.clear();
        if (k == 0 || rows_.empty()) {
            return;
        }
        // Draws with a bounded number of tries keep this O(k) in a large table; a small or mostly
        // ineligible one is scanned instead.
        const std::size_t tries = 4 * k + 8;
        for (std::size_t t = 0; t < tries && chosen_.size() < k && rows_.size() > 4 * k; ++t) {
            const auto at = static_cast<std::uint32_t>(uniform_index(rng_, rows_.size()));
            if (eligible(rows_[at]) && std::find(chosen_.begin(), chosen_.end(), at) == chosen_.end()) {
                chosen_.push_back(at);
            }
        }
        if (chosen_.size() >= k) {
            return;
        }
        chosen_.clear();
        for (std::uint32_t at = 0; at < rows_.size(); ++at) {
            if (eligible(rows_[at])) {
                chosen_.push_back(at);
            }
        }
        partial_shuffle(std::span(chosen_), k, rng_);
        chosen_.resize(std::min(k, chosen_.size()));
    }

    void run_relays(std::chrono::nanoseconds now, outbox<Address>& out)
    {
        std::size_t kept = 0;
        for (std::size_t i = 0; i < relays_.size(); ++i) {
            relay& r = relays_[i];
            if (options_.lifeguard.nack && !r.nacked && now >= r.nack_at && now < r.expires) {
                r.nacked = true;
                ++stats_.nacks_sent;
                send_short(out, r.requester, type::nack, r.requester_seq);
            }
            if (now >= r.expires) {
                continue;
            }
            if (kept != i) {
                relays_[kept] = r;
            }
            ++kept;
        }
        relays_.resize(kept);
    }

    // --- gossip, sync and seeds ------------------------------------------------------------------
    // Sends waiting updates to gossip_fanout members (alive, suspect, or failed recently enough
    // to refute); `leaving` sends this member's leave whatever else waits.
    void gossip_round(outbox<Address>& out, bool leaving)
    {
        const auto dead_window = nanos(options_.gossip_to_the_dead);
        choose_members(options_.gossip_fanout, [&](const row& r) {
            return is_live(r.state) || (r.state == swim_state::failed && now_ - r.since < dead_window);
        });
        for (const auto at : chosen_) {
            const Address to = rows_[at].address;
            const bool sent = out.send(to, [&](wire::writer& w) {
                w.u8(static_cast<std::uint8_t>(type::gossip));
                const std::size_t before = w.size();
                if (leaving) {
                    write_left(w, my_id_, my_incarnation_);
                }
                write_updates(w, w.remaining(), nullptr);
                if (w.size() == before) {
                    w.fail(); // nothing to say after all: send nothing
                }
            });
            stats_.gossip_messages += sent ? 1 : 0;
        }
    }

    // A digest of who is alive at which incarnation: equal states, equal digests.
    [[nodiscard]] std::uint64_t digest() const noexcept
    {
        std::uint64_t sum = left_ ? 0 : mix_seed(my_id_, my_incarnation_);
        for (const auto& r : rows_) {
            if (is_live(r.state)) {
                sum += mix_seed(r.id, r.incarnation);
            }
        }
        return sum;
    }

    void open_syncs(outbox<Address>& out)
    {
        choose_members(1, [](const row& r) { return r.state == swim_state::alive; });
        if (!chosen_.empty()) {
            open_sync(out, rows_[chosen_.front()].address);
        }
        // The other side of a healed partition: a failed member that may be alive after all.
        choose_members(1, [](const row& r) { return r.state == swim_state::failed; });
        if (!chosen_.empty()) {
            open_sync(out, rows_[chosen_.front()].address);
        }
    }

    void open_sync(outbox<Address>& out, const Address& to)
    {
        ++stats_.syncs;
        const std::uint64_t d = digest();
        out.send(to, [&](wire::writer& w) { write_sync_header(w, sync_want, d, 0); });
    }

    // A joiner's first word to a seed: its whole (small) state, and a request for the seed's.
    void contact_seeds(outbox<Address>& out)
    {
        next_seed_at_ = now_ + nanos(options_.seed_retry_interval);
        const std::uint64_t d = digest();
        for (const auto& s : seeds_) {
            ++stats_.seed_contacts;
            out.send(s, [&](wire::writer& w) {
                write_sync_header(w, sync_want | sync_page, d, 0);
                write_page(w, 0);
                // The seed has never heard this address answer: it may send back only
                // max_amplification times what it received, so ask with room for a full page.
                write_padding(w, (max_message_bytes_ + max_amplification - 1) / max_amplification);
            });
        }
    }

    // Pads the datagram being written to `total` bytes (as far as it has room) with an item
    // every reader skips.
    static void write_padding(wire::writer& w, std::size_t total)
    {
        constexpr std::size_t item_overhead = 1 + 3; // the tag and a varint below 2^21
        if (w.size() + item_overhead >= total || w.remaining() <= item_overhead) {
            return;
        }
        std::size_t n = std::min(total - w.size(), w.remaining()) - item_overhead;
        w.u8(padding_tag);
        wire::write_varint(w, n);
        static constexpr std::array<std::byte, 256> zeros{};
        while (n > 0) {
            const std::size_t chunk = std::min(n, zeros.size());
            w.bytes(std::span(zeros).first(chunk));
            n -= chunk;
        }
    }

    // A sync's fixed part; the page, if any, patches `more` and the next cursor.
    static void write_sync_header(wire::writer& w, std::uint8_t flags, std::uint64_t digest, std::uint64_t want)
    {
        w.u8(static_cast<std::uint8_t>(type::sync));
        w.u8(flags);
        w.u64(digest);
        w.u64(want);
        w.u64(0);
    }

    // Writes the members with id >= cursor, ascending, as many as fit (this member among them),
    // right after a sync header that announced a page; sets its `more` flag and next cursor.
    void write_page(wire::writer& w, std::uint64_t cursor)
    {
        const std::size_t flags_at = w.size() - 8 - 8 - 8 - 1;
        const std::size_t next_at = w.size() - 8;
        page_.clear();
        if (my_id_ >= cursor) {
            page_.emplace_back(my_id_, npos); // this member itself
        }
        for (std::uint32_t i = 0; i < rows_.size(); ++i) {
            if (rows_[i].id >= cursor) {
                page_.emplace_back(rows_[i].id, i);
            }
        }
        std::sort(page_.begin(), page_.end());
        std::size_t written = 0;
        for (const auto& entry : page_) {
            const std::uint64_t id = entry.first;
            const std::uint32_t at = entry.second;
            const bool fit = wire::append_if_fits(w, [&](wire::writer& out) {
                if (at == npos) {
                    write_self(out);
                } else {
                    write_row(out, rows_[at]);
                }
            });
            if (!fit) {
                // The rest follows on request. A member too large for a page of its own is
                // skipped rather than asked for forever.
                const std::uint64_t next = written > 0 ? id : id + 1;
                if (next != 0) {
                    const auto flags = std::to_integer<std::uint8_t>(w.written()[flags_at]);
                    w.patch_u8(flags_at, static_cast<std::uint8_t>(flags | sync_more));
                    w.patch_u64(next_at, next);
                }
                break;
            }
            ++written;
        }
        ++stats_.sync_pages;
        if (page_.capacity() > 4096) {
            page_.clear();
            page_.shrink_to_fit();
        }
    }

    // --- receiving ----------------------------------------------------------------------------
    [[nodiscard]] bool handle(const Address& from, wire::reader& r, std::chrono::nanoseconds now, outbox<Address>& out)
    {
        const auto t = r.u8();
        if (!r.ok()) {
            return false;
        }
        switch (static_cast<type>(t)) {
        case type::ping: {
            const std::uint32_t seq = r.u32();
            const std::uint64_t target = r.u64();
            if (!r.ok() || !parse_updates(r)) {
                return false;
            }
            apply_updates();
            if (target != my_id_) {
                ++stats_.pings_misaddressed;
                return true;
            }
            send_short(out, from, type::ack, seq);
            return true;
        }
        case type::ping_req: {
            const std::uint32_t seq = r.u32();
            const std::uint64_t target = r.u64();
            Address target_address{};
            if (!wire::codec<Address>::read(r, target_address) || !parse_updates(r)) {
                return false;
            }
            apply_updates();
            if (relays_.size() >= options_.max_relays || target_address == self_) {
                ++stats_.relays_refused;
                return true;
            }
            ++stats_.relays;
            relay rel;
            rel.requester = from;
            rel.requester_seq = seq;
            rel.seq = ++seq_;
            rel.nack_at = now + nanos(options_.probe_timeout) * 4 / 5;
            rel.expires = now + nanos(options_.probe_interval);
            relays_.push_back(rel);
            send_ping(out, target_address, rel.seq, target, nullptr);
            return true;
        }
        case type::ack:
        case type::nack: {
            const std::uint32_t seq = r.u32();
            if (!r.ok() || !parse_updates(r)) {
                return false;
            }
            apply_updates();
            on_answer(from, seq, static_cast<type>(t) == type::ack, out);
            return true;
        }
        case type::gossip:
            if (!parse_updates(r)) {
                return false;
            }
            apply_updates();
            return true;
        case type::sync: return handle_sync(from, r, out);
        }
        return false;
    }

    void on_answer(const Address& from, std::uint32_t seq, bool ack, outbox<Address>& out)
    {
        if (probe_.active && seq == probe_.seq) {
            if (!ack) {
                // Each relay asked nacks once; a nack from anyone else, or again, says nothing.
                const auto it = std::find(probe_relays_.begin(), probe_relays_.end(), std::pair(from, false));
                if (it != probe_relays_.end()) {
                    it->second = true;
                    ++probe_.nacks_received;
                    ++stats_.nacks_received;
                }
                return;
            }
            probe_.active = false;
            const auto at = position(probe_.target);
            const bool direct = at != npos && rows_[at].address == from;
            ++(direct ? stats_.acks : stats_.indirect_acks);
            // Whoever sent this ack, directly or as a relay, had our sequence number: it
            // receives at its address.
            out.proven(from);
            adjust_health(-1);
            return;
        }
        if (ack) {
            for (std::size_t i = 0; i < relays_.size(); ++i) {
                if (relays_[i].seq == seq) {
                    const relay rel = relays_[i];
                    relays_.erase(relays_.begin() + static_cast<std::ptrdiff_t>(i));
                    send_short(out, rel.requester, type::ack, rel.requester_seq);
                    return;
                }
            }
            ++stats_.late_acks;
        }
    }

    [[nodiscard]] bool handle_sync(const Address& from, wire::reader& r, outbox<Address>& out)
    {
        const std::uint8_t flags = r.u8();
        const std::uint64_t their_digest = r.u64();
        const std::uint64_t want = r.u64();
        const std::uint64_t next = r.u64();
        if (!r.ok() || (flags & ~(sync_want | sync_page | sync_more)) != 0 ||
            ((flags & sync_more) != 0 && (flags & sync_page) == 0)) {
            return false;
        }
        const bool page = (flags & sync_page) != 0;
        const bool more = (flags & sync_more) != 0;
        if (!parse_updates(r)) {
            return false;
        }
        apply_updates(/*from_sync=*/true);
        const bool they_want = (flags & sync_want) != 0;
        // An opening (a digest and a request, no page): equal states end the sync here.
        const bool opening = they_want && !page;
        if (opening && want == 0 && their_digest == digest()) {
            ++stats_.syncs_equal;
            return true;
        }
        bool i_want = false;
        std::uint64_t want_from = 0;
        if (page && more) {
            i_want = true;
            want_from = next;
        } else if (opening && want == 0) {
            i_want = true; // the states differ: theirs too, from the start
        }
        if (!they_want && !i_want) {
            return true;
        }
        const std::uint64_t my_digest = digest();
        out.send(from, [&](wire::writer& w) {
            write_sync_header(w, static_cast<std::uint8_t>((i_want ? sync_want : 0) | (they_want ? sync_page : 0)),
                              my_digest, want_from);
            if (they_want) {
                write_page(w, want);
            }
        });
        return true;
    }

    swim_options options_;
    event_handler on_event_;
    broadcast_handler on_broadcast_;
    detail::broadcast_queue queue_;
    detail::id_memory seen_;
    std::vector<std::byte> my_meta_;
    Address self_{};
    std::uint64_t my_id_ = 0;
    std::uint32_t my_incarnation_ = 0;
    std::uint32_t health_ = 0;
    std::uint32_t seq_ = 0;
    std::uint64_t table_key_ = 0;
    std::uint64_t broadcasts_ = 0;
    std::size_t max_message_bytes_ = 1400;
    std::size_t live_ = 0;
    std::size_t probe_next_ = 0;
    std::uint32_t leave_announcements_ = 0;
    bool started_ = false;
    bool left_ = false;
    pcg32 rng_{};
    std::chrono::nanoseconds now_{0};
    std::chrono::nanoseconds next_probe_at_{0};
    std::chrono::nanoseconds next_gossip_at_{0};
    std::chrono::nanoseconds next_sync_at_{0};
    std::chrono::nanoseconds next_seed_at_{0};
    probe probe_;
    std::vector<row> rows_;            // in probe order
    std::vector<std::uint32_t> slots_; // open addressing: row position + 1, 0 empty
    std::unordered_map<std::uint64_t, std::vector<std::byte>> metadata_;
    std::unordered_map<std::uint64_t, suspicion> suspicions_;
    std::vector<timed> suspicion_heap_;
    std::vector<relay> relays_;
    std::vector<Address> seeds_;
    std::vector<std::pair<Address, bool>> peer_changes_;
    std::vector<event_type> events_;
    swim_statistics stats_;
    // Scratch, kept between calls so that steady state allocates nothing.
    std::vector<update> updates_;
    std::vector<std::uint32_t> chosen_;
    std::vector<std::pair<Address, bool>> probe_relays_; // this probe's relays; true once one nacked
    std::vector<std::pair<std::uint64_t, std::uint32_t>> page_;
};

} // namespace gossip::payload
