#pragma once

// Anti-entropy (Demers et al., PODC 1987): every `every` periods a node opens a session with
// each peer it contacts, and the two find where their stores differ and exchange exactly those
// entries. The difference is found with the stores' Merkle trees (merkle_tree.hpp): equal stores
// compare with one root hash, and stores that differ in d entries exchange O(d log n) hashes.
//
// A session is a conversation of datagrams that keeps its state in the messages, not in the
// nodes, so that any number of sessions can interleave, and a lost datagram only ends one early:
//
//   opener                                       peer
//   request:   root summary               --->   equal: "in sync", done. Else: its children
//                                         <---   answers: child summaries, or items (key, digest)
//   follow-up: probes for what differs,   --->   answers to the probes; the entries wanted;
//              wants (keys to pull), entries     the entries pushed are merged
//              (pushed)                   <---   ...
//
// The opener compares each answer with its own tree (compare_children / compare_items), which
// yields the next probes and the keys that differ. Under pull it asks for the peer's entries for
// those keys; under push it sends its own; under push-pull both, and the store's own merge rule
// (last writer wins, in lww_map) settles keys both have. Every message fits the datagram budget.
// What does not fit is passed back instead of lost where that is cheap (a probe the peer could
// not answer comes back as "deferred", a wanted entry that did not fit comes back as an
// "offer", to be asked for again), and otherwise dropped and counted: the next session finds
// it again, because only what is still different is explored. A conversation ends when neither
// side has anything left to say, or after max_steps messages.
//
// Optionally (options.rumors) a local write also spreads at once as a rumor (rumor_set): the
// fast, unreliable path, backed by anti-entropy, which reaches every live node eventually.
//
// Section layout (little-endian, after the node's view section):
//   u8 step                        messages so far in this conversation (0 in a request)
//   u8 flags                       1: root summary follows; 2: rumor section follows
//   [u64 hash, u64 count]          the sender's root summary
//   [u16 length, rumor section]    rumor_set's section
//   u16 n answers, each            u8 form (0 children, 1 items), u8 depth, u64 prefix, then
//                                    children: u8 m, m x (u8 nibble, u64 hash, u64 count)
//                                    items:    u16 m, m x (u64 key, u64 digest)
//   u16 n entries                  the store's entries (wire::codec of entry_type)
//   u16 n offers                   u64 key hashes the sender would send if asked
//   u16 n deferred probes          probes the sender could not answer yet, to be asked again
//   u16 n probes                   each u8 kind (0 expand, 1 list, 2 entries, 3 offer), u8 depth,
//                                    u64 prefix, and for entries u64 from (first key wanted)
//   u16 n wants                    u64 key hashes whose entries the sender asks for

#include "../random.hpp"
#include "../wire/codec.hpp"
#include "../wire/message.hpp"
#include "../wire/reader.hpp"
#include "../wire/writer.hpp"
#include "merkle_tree.hpp"
#include "policy.hpp"
#include "rumor_set.hpp"

#include <algorithm>
#include <array>
#include <chrono>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace gossip::payload {

// clang-format 14 mangles concepts and requires-clauses: kept as written.
// clang-format off
/// A store anti_entropy can keep in sync: lww_map and replicated_set are two. It keeps its
/// entries in a merkle_tree under 64-bit key hashes, hands out the entry for a key hash, merges
/// an entry from a peer (true when that changed it), and names its own writes by an origin.
template <class S>
concept replicated_store =
    std::movable<S> && wire::encodable<typename S::entry_type> &&
    requires(S& s, const S& cs, const typename S::entry_type& e, std::uint64_t key) {
        { cs.tree() } -> std::same_as<const merkle_tree&>;
        { cs.entry(key) } -> std::same_as<const typename S::entry_type*>;
        { s.merge(e) } -> std::same_as<bool>;
        { cs.origin() } -> std::convertible_to<std::uint64_t>;
        s.set_origin(key);
    };
// clang-format on

/// How anti_entropy runs its sessions: which way entries travel, how often, and the bounds that
/// keep one conversation inside a datagram budget. Checked by check() and by the constructor.
struct anti_entropy_options {
    spread mode = spread::push_pull; ///< which way entries travel in a session
    std::uint32_t every = 1;         ///< a node opens sessions every this many periods
    std::uint32_t max_steps = 255;   ///< messages in one conversation, at most (<= 255)
    std::size_t max_probes = 64;     ///< probes in one message, at most
    bool rumors = false;             ///< also spread each local write at once as a rumor
    rumor_options rumor{};           ///< how, when rumors is set
};

/// Why options are impossible, or nothing.
[[nodiscard]] inline std::optional<std::string> check(const anti_entropy_options& o)
{
    if (o.every == 0) {
        return "every must be at least 1 period";
    }
    if (o.max_steps == 0 || o.max_steps > 255) {
        return "max_steps = " + std::to_string(o.max_steps) + " is outside [1, 255]";
    }
    if (o.max_probes == 0) {
        return "max_probes must be at least 1";
    }
    if (o.rumors) {
        if (auto problem = check(o.rumor)) {
            return "rumor: " + *problem;
        }
    }
    return std::nullopt;
}

/// Counters of one node's anti-entropy traffic, for measuring what a session costs and how
/// often stores already agree.
struct anti_entropy_statistics {
    std::uint64_t sessions_opened = 0;  ///< root summaries sent
    std::uint64_t sessions_in_sync = 0; ///< root summaries received that matched ours
    std::uint64_t hashes_sent = 0;      ///< subtree summaries sent, root summaries included
    std::uint64_t digests_sent = 0;     ///< (key, digest) pairs sent
    std::uint64_t probes_sent = 0;
    std::uint64_t entries_sent = 0;
    std::uint64_t entries_received = 0;
    std::uint64_t entries_applied = 0;   ///< received entries that changed the store
    std::uint64_t dropped = 0;           ///< probes or keys left for a later session for want of room
    std::uint64_t conversations_cut = 0; ///< conversations ended by max_steps

    friend bool operator==(const anti_entropy_statistics&, const anti_entropy_statistics&) = default;
};

// clang-format off
/// The payload: a replicated store kept in sync by anti-entropy sessions.
template <class Store>
    requires replicated_store<Store>
// clang-format on
class anti_entropy {
public:
    using store_type = Store;
    using entry_type = typename Store::entry_type;
    /// Called for every entry from a peer that changed the store.
    using change_handler = std::function<void(const entry_type&)>;

    anti_entropy() : anti_entropy(anti_entropy_options{}) {}

    /// Throws std::invalid_argument naming the impossible option.
    explicit anti_entropy(const anti_entropy_options& options, Store store = Store{}, change_handler on_change = {})
        : options_(validated(options)), store_(std::move(store)),
          rumors_(options.rumors ? options.rumor : rumor_options{}), on_change_(std::move(on_change))
    {
    }

    // --- the application's side -----------------------------------------------------------
    [[nodiscard]] const Store& store() const noexcept { return store_; }

    // clang-format off
    /// Local writes, forwarded to the store; the entry written spreads from here.
    template <class... Args>
        requires requires(Store& s, Args&&... args) {
            { s.put(std::forward<Args>(args)...) } -> std::convertible_to<const entry_type&>;
        }
    // clang-format on
    const entry_type& put(Args&&... args) { return spread_local(store_.put(std::forward<Args>(args)...)); }
    // clang-format off
    template <class... Args>
        requires requires(Store& s, Args&&... args) {
            { s.insert(std::forward<Args>(args)...) } -> std::convertible_to<const entry_type&>;
        }
    // clang-format on
    const entry_type& insert(Args&&... args) { return spread_local(store_.insert(std::forward<Args>(args)...)); }
    // clang-format off
    template <class... Args>
        requires requires(Store& s, Args&&... args) {
            { s.erase(std::forward<Args>(args)...) } -> std::convertible_to<const entry_type&>;
        }
    // clang-format on
    const entry_type& erase(Args&&... args) { return spread_local(store_.erase(std::forward<Args>(args)...)); }

    void on_change(change_handler handler) { on_change_ = std::move(handler); }

    [[nodiscard]] const anti_entropy_statistics& statistics() const noexcept { return stats_; }
    [[nodiscard]] const anti_entropy_options& options() const noexcept { return options_; }
    /// The rumor side, when options().rumors is set.
    [[nodiscard]] const rumor_set<entry_type>& rumors() const noexcept { return rumors_; }

    // --- the node's side (payload_policy) ----------------------------------------------------
    template <class Address>
    void start(const payload_context<Address>& context)
    {
        // Sessions are spread over the periods: not every node opens in the same one.
        phase_ = static_cast<std::uint32_t>(mix_seed(context.seed, 0x616e7469) % options_.every);
        if (store_.origin() == 0) {
            store_.set_origin(mix_seed(context.seed, 0x6f726967) | 1U);
        }
        rumors_.start(context);
    }

    void on_period(std::chrono::nanoseconds now)
    {
        ++period_;
        if (options_.rumors) {
            rumors_.on_period(now);
        }
    }

    [[nodiscard]] bool wants_reply() const noexcept
    {
        return (options_.rumors && rumors_.wants_reply()) || !to_answer_.empty() || !serving_.empty() ||
               !next_probes_.empty() || !wants_.empty() || !to_send_.empty();
    }

    void write(wire::writer& w, wire::message_kind kind)
    {
        const bool request = kind == wire::message_kind::request;
        const bool opening = request && (period_ + phase_) % options_.every == 0;
        const std::size_t budget = w.remaining();
        w.u8(request ? 0 : static_cast<std::uint8_t>(std::min<std::uint32_t>(step_ + 1U, 255U)));
        w.u8(static_cast<std::uint8_t>((opening ? flag_opening : 0U) | (options_.rumors ? flag_rumors : 0U)));
        if (opening) {
            const auto root = *store_.tree().summary(merkle_node_id::root());
            w.u64(root.hash);
            w.u64(root.count);
            ++stats_.sessions_opened;
            ++stats_.hashes_sent;
        }
        if (options_.rumors) {
            // Rumors take at most half the budget when the session has work of its own.
            const bool busy = !request && (!to_answer_.empty() || !serving_.empty() || !to_send_.empty() ||
                                           !next_probes_.empty() || !wants_.empty());
            const std::size_t room = w.remaining() > fixed_size + 2 ? w.remaining() - fixed_size - 2 : 0;
            write_rumors(w, kind, std::min<std::size_t>(busy ? budget / 2 : room, 0xFFFF));
        }
        if (request) {
            for (std::size_t i = 0; i < section_count; ++i) {
                w.u16(0);
            }
            return;
        }
        write_sections(w, budget);
        clear_pending();
    }

    [[nodiscard]] bool read(wire::reader& r, wire::message_kind kind)
    {
        clear_pending();
        if (!parse(r)) {
            return false;
        }
        // Compare the answers with our own tree before anything changes: a malformed answer
        // refuses the whole section.
        delta_.missing_here.clear();
        delta_.missing_there.clear();
        found_probes_.clear();
        only_mine_.clear();
        for (const auto& a : in_answers_) {
            bool ok = true;
            if (a.children) {
                ok = compare_children(store_.tree(), a.node, std::span(in_summaries_).subspan(a.first, a.count),
                                      found_probes_, delta_, &only_mine_);
            } else if (a.count == 0) {
                // The peer holds nothing here: what we hold is offered whole, not key by key.
                const auto mine = store_.tree().summary(a.node);
                if (mine && mine->count > 0) {
                    only_mine_.push_back(a.node);
                }
            } else {
                ok = compare_items(store_.tree(), a.node, std::span(in_items_).subspan(a.first, a.count), delta_);
            }
            if (!ok) {
                return false;
            }
        }
        // An empty rumor section is what a sender writes when no rumor fitted: nothing to read.
        if (rumor_bytes_ && !rumor_bytes_->empty()) {
            wire::reader section(*rumor_bytes_);
            if (!rumors_.read(section, kind, [this](rumor_id, const entry_type& e) { apply(e); })) {
                return false;
            }
        }

        // From here on the section is accepted.
        for (std::size_t i = 0; i < in_entry_count_; ++i) {
            apply(in_entries_[i]);
        }
        stats_.entries_received += in_entry_count_;
        step_ = in_step_;
        if (in_step_ >= options_.max_steps) {
            ++stats_.conversations_cut;
            return true;
        }
        if (in_opening_) {
            const auto mine = *store_.tree().summary(merkle_node_id::root());
            if (mine.same_content(*in_opening_)) {
                ++stats_.sessions_in_sync;
            } else {
                to_answer_.push_back({merkle_node_id::root(), ask::expand, 0});
            }
        }
        // Depth first: the probes just found go before those the peer deferred, so that a
        // session reaches entries early, and whatever is dropped is found again next time.
        next_probes_.clear();
        for (const auto& found : found_probes_) {
            const auto mine = store_.tree().summary(found.node);
            const bool lacking = !mine || mine->count == 0;
            next_probes_.push_back({found.node,
                                    lacking && options_.mode != spread::push ? ask::entries
                                    : found.kind == merkle_probe_kind::list  ? ask::list
                                                                             : ask::expand,
                                    found.node.prefix});
        }
        if (options_.mode != spread::pull) {
            for (const auto& node : only_mine_) {
                next_probes_.push_back({node, ask::offer, 0});
            }
        }
        next_probes_.insert(next_probes_.end(), in_deferred_.begin(), in_deferred_.end());
        for (const auto& p : in_probes_) {
            serve(p);
        }
        if (options_.mode != spread::push) {
            wants_.insert(wants_.end(), delta_.missing_here.begin(), delta_.missing_here.end());
        }
        wants_.insert(wants_.end(), in_offers_.begin(), in_offers_.end());
        if (options_.mode != spread::pull) {
            to_send_.insert(to_send_.end(), delta_.missing_there.begin(), delta_.missing_there.end());
        }
        to_send_.insert(to_send_.end(), in_wants_.begin(), in_wants_.end());
        unique(wants_);
        unique(to_send_);
        return true;
    }

private:
    static constexpr std::uint8_t flag_opening = 1;
    static constexpr std::uint8_t flag_rumors = 2;
    static constexpr std::size_t section_count = 6;
    static constexpr std::size_t count_size = 2; // a section's u16 count
    static constexpr std::size_t fixed_size = 2 + 2 * section_count;
    static constexpr std::size_t probe_size = 10;
    static constexpr std::size_t resumable_probe_size = 18; // an entries probe, with its `from`
    static constexpr std::size_t summary_size = 17;
    static constexpr std::size_t item_size = 16;
    static constexpr std::size_t answer_header = 10;
    // Room answers leave for the control sections after them when no entries wait.
    static constexpr std::size_t section_floor = 64;
    // An entries probe for a larger subtree is answered with its children instead: the asker
    // splits it, and the responder never copies out more than this many items per probe.
    static constexpr std::uint64_t entries_limit = 4096;
    static constexpr std::size_t max_scans = 8;

    // What a probe asks of the peer about one subtree: its children's summaries (or its items,
    // when it holds few), its items, or its entries themselves (for a subtree the asker lacks
    // entirely, where comparing digests would be wasted).
    // An offer turns the question around: "I hold entries here that you lack; ask me for them".
    enum class ask : std::uint8_t { expand = 0, list = 1, entries = 2, offer = 3 };
    struct probe {
        merkle_node_id node;
        ask kind = ask::expand;
        std::uint64_t from = 0; ///< entries: the first key hash still wanted, for a resumed transfer
    };

    struct parsed_answer {
        merkle_node_id node;
        bool children = false;
        std::size_t first = 0;
        std::size_t count = 0;
    };

    static const anti_entropy_options& validated(const anti_entropy_options& o)
    {
        if (auto problem = check(o)) {
            throw std::invalid_argument("gossip::payload::anti_entropy_options: " + *problem);
        }
        return o;
    }

    const entry_type& spread_local(const entry_type& e)
    {
        if (options_.rumors) {
            rumors_.broadcast(e);
        }
        return e;
    }

    void apply(const entry_type& e)
    {
        if (store_.merge(e)) {
            ++stats_.entries_applied;
            if (on_change_) {
                on_change_(e);
            }
        }
    }

    void clear_pending() noexcept
    {
        to_answer_.clear();
        serving_.clear();
        next_probes_.clear();
        wants_.clear();
        to_send_.clear();
    }

    // A probe from the peer, for the next write: an answer to make, or entries to send.
    void serve(const probe& p)
    {
        if (p.kind == ask::offer) {
            next_probes_.push_back({p.node, ask::entries, p.node.prefix});
            return;
        }
        if (p.kind != ask::entries) {
            to_answer_.push_back(p);
            return;
        }
        const auto here = store_.tree().summary(p.node);
        const std::uint64_t count = here ? here->count : 0;
        if (count == 0) {
            to_answer_.push_back({p.node, ask::list, 0}); // "nothing here" lets the asker push
        } else if (count > entries_limit && p.node.depth < merkle_max_depth) {
            to_answer_.push_back({p.node, ask::expand, 0});
        } else {
            serving_.push_back(p);
        }
    }

    static void unique(std::vector<std::uint64_t>& keys)
    {
        std::sort(keys.begin(), keys.end());
        keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
    }

    // --- reading ------------------------------------------------------------------------------
    static bool read_probe(wire::reader& r, probe& p)
    {
        const auto kind = r.u8();
        const auto depth = r.u8();
        const auto prefix = r.u64();
        p = {merkle_node_id{depth, prefix}, static_cast<ask>(kind), 0};
        if (p.kind == ask::entries) {
            p.from = r.u64();
        }
        return r.ok() && kind <= 3 && p.node.valid() && (p.kind != ask::entries || p.node.contains(p.from));
    }

    static bool read_probes(wire::reader& r, std::vector<probe>& out)
    {
        const std::size_t n = r.u16();
        if (!r.ok() || n * probe_size > r.remaining()) {
            return false;
        }
        out.resize(n);
        return std::all_of(out.begin(), out.end(), [&](probe& p) { return read_probe(r, p); });
    }

    static bool read_keys(wire::reader& r, std::vector<std::uint64_t>& out)
    {
        const std::size_t n = r.u16();
        if (!r.ok() || n * 8 > r.remaining()) {
            return false;
        }
        out.resize(n);
        for (auto& k : out) {
            k = r.u64();
        }
        return r.ok();
    }

    bool parse(wire::reader& r)
    {
        in_step_ = r.u8();
        const auto flags = r.u8();
        if (!r.ok() || (flags & ~(flag_opening | flag_rumors)) != 0) {
            return false;
        }
        in_opening_.reset();
        if ((flags & flag_opening) != 0) {
            merkle_summary s{merkle_node_id::root(), r.u64(), r.u64()};
            in_opening_ = s;
        }
        rumor_bytes_.reset();
        if ((flags & flag_rumors) != 0) {
            const std::size_t length = r.u16();
            const auto bytes = r.bytes(length);
            // A peer spreading rumors where we do not: its rumor section is skipped.
            if (options_.rumors) {
                rumor_bytes_ = bytes;
            }
        }
        if (!r.ok()) {
            return false;
        }

        const std::size_t answers = r.u16();
        if (!r.ok() || answers * (answer_header + 1) > r.remaining()) {
            return false;
        }
        in_answers_.clear();
        in_summaries_.clear();
        in_items_.clear();
        for (std::size_t i = 0; i < answers; ++i) {
            const auto form = r.u8();
            const auto depth = r.u8();
            const merkle_node_id node{depth, r.u64()};
            if (!r.ok() || form > 1 || !node.valid()) {
                return false;
            }
            parsed_answer a{node, form == 0, 0, 0};
            if (a.children) {
                a.first = in_summaries_.size();
                a.count = r.u8();
                if (!r.ok() || a.count > merkle_fanout || node.depth >= merkle_max_depth ||
                    a.count * summary_size > r.remaining()) {
                    return false;
                }
                for (std::size_t c = 0; c < a.count; ++c) {
                    const auto nibble = r.u8();
                    const auto hash = r.u64();
                    const auto count = r.u64();
                    if (nibble >= merkle_fanout) {
                        return false;
                    }
                    in_summaries_.push_back({node.child(nibble), hash, count});
                }
            } else {
                a.first = in_items_.size();
                a.count = r.u16();
                if (!r.ok() || a.count * item_size > r.remaining()) {
                    return false;
                }
                for (std::size_t c = 0; c < a.count; ++c) {
                    const auto key = r.u64();
                    const auto digest = r.u64();
                    in_items_.push_back({key, digest});
                }
            }
            in_answers_.push_back(a);
        }
        const std::size_t entries = r.u16();
        // An entry takes at least its 17-byte version header.
        if (!r.ok() || entries * 17 > r.remaining()) {
            return false;
        }
        if (in_entries_.size() < entries) {
            in_entries_.resize(entries);
        }
        in_entry_count_ = entries;
        for (std::size_t i = 0; i < entries; ++i) {
            if (!wire::codec<entry_type>::read(r, in_entries_[i])) {
                return false;
            }
        }
        return read_keys(r, in_offers_) && read_probes(r, in_deferred_) && read_probes(r, in_probes_) &&
               read_keys(r, in_wants_) && r.ok() && r.remaining() == 0;
    }

    // --- writing ------------------------------------------------------------------------------

    void write_rumors(wire::writer& w, wire::message_kind kind, std::size_t room)
    {
        rumor_buffer_.resize(room);
        wire::writer section{std::span(rumor_buffer_)};
        rumors_.write(section, kind);
        w.u16(static_cast<std::uint16_t>(section.ok() ? section.size() : 0));
        if (section.ok()) {
            w.bytes(section.written());
        }
    }

    // Answers, entries, offers, deferred probes, probes, wants: in that order of priority.
    void write_sections(wire::writer& w, std::size_t budget)
    {
        // Answers keep the conversation going; half the budget at most when entries wait too,
        // and always room to pass back the probes left unanswered. The five sections after the
        // answers need their counts at least.
        const bool entries_waiting = !to_send_.empty() || !serving_.empty();
        std::size_t limit = w.size() + room(w, 5 * count_size + (entries_waiting ? 0 : section_floor));
        if (entries_waiting) {
            limit = std::min(limit, w.size() + budget / 2);
        }
        const std::size_t answers_at = w.size();
        w.u16(0);
        std::uint16_t answers = 0;
        unanswered_.clear();
        for (std::size_t i = 0; i < to_answer_.size(); ++i) {
            const std::size_t keep = std::min(probe_size * (to_answer_.size() - i - 1), room(w, 0));
            if (write_answer(w, limit > keep ? limit - keep : 0, to_answer_[i])) {
                ++answers;
            } else {
                unanswered_.push_back(to_answer_[i]);
            }
        }
        w.patch_u16(answers_at, answers);

        // Entries: those wanted or pushed, then the subtrees asked for, resumable where they stop.
        // Room stays for the control sections, and for offers of what does not fit.
        const std::size_t control =
            std::min(room(w, 0) / 2, resumable_probe_size * (unanswered_.size() + serving_.size() +
                                                             std::min(next_probes_.size(), options_.max_probes)) +
                                         8 * wants_.size() + 2 * 4);
        const std::size_t offer_room = to_send_.empty() ? 0 : std::min(8 * to_send_.size() + 2, room(w, 0) / 4);
        const std::size_t entries_limit_at = w.size() + room(w, control + offer_room);
        const std::size_t entries_at = w.size();
        w.u16(0);
        std::uint16_t entries = 0;
        const auto append_entry = [&](const entry_type& e) {
            const auto write = [&](wire::writer& out) { wire::codec<entry_type>::write(out, e); };
            if (entries == 0xFFFF || !wire::append_if_fits(w, write, entries_limit_at)) {
                return false;
            }
            ++entries;
            return true;
        };
        offers_.clear();
        for (const auto key : to_send_) {
            if (const entry_type* e = store_.entry(key); e != nullptr && (!offers_.empty() || !append_entry(*e))) {
                offers_.push_back(key);
            }
        }
        bool full = !offers_.empty();
        std::size_t scanned = 0;
        for (const auto& p : serving_) {
            // A bound on the work one message can cause: probes beyond it wait for the next.
            if (full || scanned++ == max_scans) {
                full = true;
                unanswered_.push_back(p);
                continue;
            }
            serve_items_.clear();
            store_.tree().items(p.node, serve_items_);
            for (const auto& item : serve_items_) {
                const entry_type* e = item.key >= p.from ? store_.entry(item.key) : nullptr;
                if (e != nullptr && !append_entry(*e)) {
                    unanswered_.push_back({p.node, ask::entries, item.key});
                    full = true;
                    break;
                }
            }
        }
        w.patch_u16(entries_at, entries);
        stats_.entries_sent += entries;

        const std::size_t offered = write_keys(w, offers_, w.size() + room(w, control));
        stats_.dropped += offers_.size() - offered;
        write_probes(w, unanswered_, w.size() + room(w, 2 * count_size + 8 * std::min<std::size_t>(wants_.size(), 16)),
                     std::size_t{0xFFFF});
        stats_.probes_sent +=
            write_probes(w, next_probes_, w.size() + room(w, 2 + 8 * std::min<std::size_t>(wants_.size(), 16)),
                         options_.max_probes);
        const std::size_t sent_wants = write_keys(w, wants_, w.size() + room(w, 0));
        stats_.dropped += wants_.size() - sent_wants;
    }

    bool write_answer(wire::writer& w, std::size_t limit, const probe& question)
    {
        const auto here = store_.tree().summary(question.node);
        const std::uint64_t count = here ? here->count : 0;
        // A list too long for the room left becomes an expansion, which always fits in a few
        // hundred bytes; the asker probes further down.
        const std::size_t space = limit > w.size() ? limit - w.size() : 0;
        const bool as_items = count <= merkle_list_threshold ||
                              (question.kind == ask::list && answer_header + 2 + count * item_size <= space) ||
                              question.node.depth >= merkle_max_depth;
        answer_children_.clear();
        answer_items_.clear();
        if (as_items) {
            store_.tree().items(question.node, answer_items_);
        } else {
            std::array<merkle_summary, merkle_fanout> buffer{};
            const std::size_t n = store_.tree().children(question.node, buffer);
            answer_children_.assign(buffer.begin(), buffer.begin() + static_cast<std::ptrdiff_t>(n));
        }
        if (as_items && answer_items_.size() > 0xFFFF) {
            return false;
        }
        const bool fits = wire::append_if_fits(
            w,
            [&](wire::writer& out) {
                out.u8(as_items ? 1 : 0);
                out.u8(static_cast<std::uint8_t>(question.node.depth));
                out.u64(question.node.prefix);
                if (as_items) {
                    out.u16(static_cast<std::uint16_t>(answer_items_.size()));
                    for (const auto& item : answer_items_) {
                        out.u64(item.key);
                        out.u64(item.digest);
                    }
                } else {
                    out.u8(static_cast<std::uint8_t>(answer_children_.size()));
                    for (const auto& s : answer_children_) {
                        out.u8(static_cast<std::uint8_t>(detail::merkle_nibble(s.node.prefix, question.node.depth)));
                        out.u64(s.hash);
                        out.u64(s.count);
                    }
                }
            },
            limit);
        if (fits) {
            stats_.hashes_sent += answer_children_.size();
            stats_.digests_sent += answer_items_.size();
        }
        return fits;
    }

    [[nodiscard]] static std::size_t room(const wire::writer& w, std::size_t keep) noexcept
    {
        return w.remaining() > keep ? w.remaining() - keep : 0;
    }

    // Writes a u16 count and as many elements as fit before `limit`, at most `most`; returns
    // how many.
    template <class T, class WriteOne>
    static std::size_t write_list(wire::writer& w, std::span<const T> items, std::size_t limit, std::size_t most,
                                  WriteOne&& write_one)
    {
        const std::size_t count_at = w.size();
        w.u16(0);
        std::uint16_t written = 0;
        for (const auto& item : items) {
            if (written >= std::min<std::size_t>(most, 0xFFFF) ||
                !wire::append_if_fits(
                    w, [&](wire::writer& out) { write_one(out, item); }, limit)) {
                break;
            }
            ++written;
        }
        w.patch_u16(count_at, written);
        return written;
    }

    std::size_t write_probes(wire::writer& w, std::span<const probe> probes, std::size_t limit, std::size_t most)
    {
        const std::size_t written = write_list(w, probes, limit, most, [](wire::writer& out, const probe& p) {
            out.u8(static_cast<std::uint8_t>(p.kind));
            out.u8(static_cast<std::uint8_t>(p.node.depth));
            out.u64(p.node.prefix);
            if (p.kind == ask::entries) {
                out.u64(p.from);
            }
        });
        stats_.dropped += probes.size() - written;
        return written;
    }

    static std::size_t write_keys(wire::writer& w, std::span<const std::uint64_t> keys, std::size_t limit)
    {
        return write_list(w, keys, limit, 0xFFFF, [](wire::writer& out, std::uint64_t key) { out.u64(key); });
    }

    anti_entropy_options options_;
    Store store_;
    rumor_set<entry_type> rumors_;
    change_handler on_change_;
    anti_entropy_statistics stats_;
    std::int64_t period_ = 0;
    std::uint32_t phase_ = 0;
    std::uint32_t step_ = 0;

    // Between a read() and the write() of its answer.
    std::vector<probe> to_answer_;
    std::vector<probe> next_probes_;
    std::vector<std::uint64_t> wants_;
    std::vector<std::uint64_t> to_send_;

    // Parsing and writing scratch, kept for its capacity.
    std::uint32_t in_step_ = 0;
    std::optional<merkle_summary> in_opening_;
    std::optional<std::span<const std::byte>> rumor_bytes_;
    std::vector<parsed_answer> in_answers_;
    std::vector<merkle_summary> in_summaries_;
    std::vector<merkle_item> in_items_;
    std::vector<probe> in_deferred_;
    std::vector<probe> in_probes_;
    std::vector<std::uint64_t> in_wants_;
    std::vector<entry_type> in_entries_;
    std::size_t in_entry_count_ = 0;
    std::vector<std::uint64_t> in_offers_;
    std::vector<merkle_probe> found_probes_;
    std::vector<merkle_node_id> only_mine_;
    merkle_delta delta_;
    std::vector<probe> unanswered_;
    std::vector<probe> serving_;
    std::vector<merkle_item> serve_items_;
    std::vector<merkle_summary> answer_children_;
    std::vector<merkle_item> answer_items_;
    std::vector<std::uint64_t> offers_;
    std::vector<std::byte> rumor_buffer_;
};

} // namespace gossip::payload
