#pragma once

// Rumor mongering as an SIR epidemic (Demers et al., "Epidemic algorithms for replicated database
// maintenance", PODC 1987). For each rumor a node is susceptible (never heard of it), infective
// (spreading it on every exchange) or removed (knows it, has stopped spreading it). When an
// infective node loses interest is the user's choice:
//
//   feedback or blind  whether only unnecessary contacts (the partner already knew) count, or all;
//   counter            removed after k counted contacts; a necessary contact resets the count
//                      (under feedback);
//   coin               removed with probability 1/k after each counted contact;
//   rounds             infective for M periods after learning the rumor, whatever happens
//                      ("send to N peers for M rounds", with N the node's fanout).
//
// Rumors spread by push (requests carry the infective rumors), pull (requests carry a digest of
// the ids the asker knows; the answer carries the infective rumors missing from it, or under
// pull_rule::demers every infective rumor, as in the paper) or both,
// independently of how the node's views propagate: where the node would not answer, the payload
// asks for a payload-only reply. Each rumor has a 64-bit id and an age in periods; ids are
// remembered, up to a bound, for twice the oldest age a rumor may travel at, and a rumor older
// than what a node could still recognise is refused, so that nothing is delivered twice.
//
// Section layout (little-endian, after the node's view section):
//   u16 n, n x (u64 id, u8 knew)                 feedback on the rumors of the request answered
//   u16 n, n x (u64 id, u16 age, value)          rumors, newest first
//   u16 n, n x u64 id                            digest of the ids the sender knows, newest first

#include "../detail/id_memory.hpp"
#include "../payload/policy.hpp"
#include "../random.hpp"
#include "../wire/codec.hpp"
#include "../wire/message.hpp"
#include "../wire/reader.hpp"
#include "../wire/writer.hpp"

#include <algorithm>
#include <chrono>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace gossip::payload {

/// Names a rumor across the cluster: a hash of the originating node's seed and a sequence
/// number, so nodes draw ids without coordination and collide only with negligible probability.
using rumor_id = std::uint64_t;

/// Which way rumors travel in an exchange.
enum class spread : std::uint8_t { push, pull, push_pull };

/// Which contacts count towards losing interest.
enum class interest : std::uint8_t {
    feedback, ///< only unnecessary ones: the partner already knew
    blind,    ///< every one
};

/// When an infective node stops spreading a rumor.
enum class stop : std::uint8_t {
    counter, ///< after k counted contacts
    coin,    ///< with probability 1/k after each counted contact
    rounds,  ///< after M periods (rumor_options::rounds)
};

/// How an infective node answers a pull and counts the askers.
enum class pull_rule : std::uint8_t {
    /// The answer carries only the rumors missing from the asker's digest, and every asker is a
    /// contact: the least traffic.
    digest,
    /// Demers et al.'s pull: the answer carries every infective rumor, whether the asker needed it
    /// or not (each such answer is an update message), and the askers of one period count as a
    /// single contact, applied when the node's next period begins: necessary if any asker lacked
    /// the rumor, unnecessary only when every one knew it. The asker's digest plays the part of
    /// the paper's feedback. With these rules sim::epidemic reproduces the paper's Table 3.
    demers,
};

/// The strategy of a rumor_set (which way rumors travel, when a node loses interest) and the
/// bounds on its memory and messages. Checked by check() and by the constructor.
struct rumor_options {
    spread mode = spread::push_pull;    ///< which way rumors travel
    interest loss = interest::feedback; ///< which contacts count towards losing interest
    stop rule = stop::counter;          ///< when a node stops spreading a rumor
    std::uint32_t k = 2;                ///< counter threshold, or 1/k the coin's probability
    std::uint32_t rounds = 10;          ///< M, for stop::rounds
    std::uint32_t max_age = 64;         ///< periods a rumor may travel; older copies are refused
    pull_rule pull = pull_rule::digest; ///< how pulls are answered and counted (spread::pull, push_pull)
    std::size_t memory = 4096;          ///< ids remembered at most, for duplicate suppression
    std::size_t max_infective = 256;    ///< rumors spread at once; the newest win
    std::size_t max_digest = 64;        ///< ids at most in a pull request's digest
};

/// Why options are impossible, or nothing.
[[nodiscard]] inline std::optional<std::string> check(const rumor_options& o)
{
    if (o.rule != stop::rounds && o.k == 0) {
        return "k must be at least 1 for the counter and coin rules";
    }
    if (o.rule == stop::rounds && o.rounds == 0) {
        return "rounds (M) must be at least 1 for the rounds rule";
    }
    if (o.max_age == 0 || o.max_age > 30000) {
        return "max_age = " + std::to_string(o.max_age) + " is outside [1, 30000] periods";
    }
    if (o.memory == 0) {
        return "memory must hold at least one id";
    }
    if (o.max_infective == 0) {
        return "max_infective must be at least 1";
    }
    return std::nullopt;
}

/// The SIR rule for one contact of an infective copy, shared by rumor_set and the abstract model
/// (sim/epidemic.hpp) so that both lose interest alike. `necessary` says the partner did not know
/// the rumor. Under interest::feedback a necessary contact does not count and resets the counter;
/// under blind every contact counts. A counted contact removes the copy at the k-th (counter) or
/// with probability 1/k (coin, one draw from rng); stop::rounds ignores contacts. Returns whether
/// the copy is removed.
template <random_source R>
[[nodiscard]] constexpr bool loses_interest(const rumor_options& o, std::uint32_t& counter, bool necessary,
                                            R& rng) noexcept
{
    if (o.rule == stop::rounds) {
        return false;
    }
    if (o.loss == interest::feedback && necessary) {
        if (o.rule == stop::counter) {
            counter = 0;
        }
        return false;
    }
    if (o.rule == stop::counter) {
        return ++counter >= o.k;
    }
    return uniform_below(rng, o.k) == 0;
}

/// What a rumor_set has done; the simulator's dissemination figures come from these.
struct rumor_statistics {
    std::uint64_t broadcast = 0;       ///< rumors started here
    std::uint64_t delivered = 0;       ///< rumors learned from peers, each exactly once
    std::uint64_t duplicates = 0;      ///< copies received of rumors already known
    std::uint64_t refused_too_old = 0; ///< copies older than this node could recognise
    std::uint64_t rumors_sent = 0;     ///< rumor copies written into messages
    std::uint64_t update_messages = 0; ///< messages sent carrying at least one rumor
    std::uint64_t removed = 0;         ///< infective -> removed transitions

    friend bool operator==(const rumor_statistics&, const rumor_statistics&) = default;
};

// clang-format 14 mangles concepts and requires-clauses: kept as written.
// clang-format off
/// The payload: a set of rumors of type T (any type with a wire::codec).
template <class T>
    requires wire::encodable<T>
// clang-format on
class rumor_set {
public:
    using value_type = T;
    /// Called once per rumor learned from a peer (not for the node's own broadcasts).
    using delivery_handler = std::function<void(rumor_id, const T&)>;

    rumor_set() : rumor_set(rumor_options{}) {}

    /// Throws std::invalid_argument naming the impossible option.
    explicit rumor_set(const rumor_options& options, delivery_handler on_delivery = {})
        : options_(validated(options)), seen_(options.memory), on_delivery_(std::move(on_delivery))
    {
    }

    // --- the application's side -----------------------------------------------------------
    /// Starts spreading a new rumor from here; returns its id.
    rumor_id broadcast(T value)
    {
        const rumor_id id = fresh_id();
        remember(id, period_);
        make_infective(id, period_, std::move(value));
        ++stats_.broadcast;
        return id;
    }

    void on_delivery(delivery_handler handler) { on_delivery_ = std::move(handler); }

    /// Whether this node has heard of the rumor (or started it), as far as it still remembers.
    [[nodiscard]] bool knows(rumor_id id) const noexcept { return seen_.contains(id); }
    /// Whether it is still spreading it.
    [[nodiscard]] bool infective(rumor_id id) const noexcept { return find_hot(id) != nullptr; }
    [[nodiscard]] std::size_t infective_count() const noexcept { return hot_.size(); }
    [[nodiscard]] const rumor_statistics& statistics() const noexcept { return stats_; }
    [[nodiscard]] const rumor_options& options() const noexcept { return options_; }

    // --- the node's side (payload_policy) ----------------------------------------------------
    template <class Address>
    void start(const payload_context<Address>& context)
    {
        rng_ = pcg32(context.seed);
        origin_ = mix_seed(context.seed, 0x72756d6f72);
        seen_.rekey(mix_seed(context.seed, 0x6b6579));
    }

    void on_period(std::chrono::nanoseconds /*now*/)
    {
        ++period_;
        seen_.expire(period_ - 2 * std::int64_t{options_.max_age});
        if (demers_pull()) {
            // The askers of the period that ended count as one contact, necessary if any lacked it.
            for (auto& r : hot_) {
                if (r.pulled != 0) {
                    r.contact = true;
                    r.necessary = (std::exchange(r.pulled, std::uint8_t{0}) & pulled_necessary) != 0;
                }
            }
            apply_contacts();
        }
        std::erase_if(hot_, [&](const hot_rumor& r) {
            // Learned in period p, it is sent in periods p + 1 ... p + M: M rounds of fanout sends.
            const bool over = (options_.rule == stop::rounds && period_ - r.learned > options_.rounds) ||
                              period_ - r.born > options_.max_age;
            stats_.removed += over ? 1 : 0;
            return over;
        });
    }

    [[nodiscard]] bool wants_reply() const noexcept { return wants_reply_; }

    void write(wire::writer& w, wire::message_kind kind)
    {
        const bool request = kind == wire::message_kind::request;
        // Feedback on the request just read (answers only).
        const std::size_t feedback_at = w.size();
        w.u16(0);
        std::uint16_t n = 0;
        if (!request) {
            for (const auto& f : feedback_) {
                if (!wire::append_if_fits(w, [&](wire::writer& out) {
                        out.u64(f.id);
                        out.u8(f.knew ? 1 : 0);
                    })) {
                    break;
                }
                ++n;
            }
            feedback_.clear();
        }
        w.patch_u16(feedback_at, n);

        // Rumors: a request pushes every infective rumor; an answer carries those the asker lacks.
        const std::size_t rumors_at = w.size();
        w.u16(0);
        n = 0;
        const auto send = [&](const hot_rumor& r) {
            const bool fits = wire::append_if_fits(w, [&](wire::writer& out) {
                out.u64(r.id);
                out.u16(static_cast<std::uint16_t>(std::min<std::int64_t>(period_ - r.born, 0xFFFF)));
                wire::codec<T>::write(out, r.value);
            });
            n += fits ? 1 : 0;
            return fits;
        };
        if (request && options_.mode != spread::pull) {
            for (auto it = hot_.rbegin(); it != hot_.rend(); ++it) {
                if (!send(*it)) {
                    break;
                }
            }
        } else if (!request) {
            for (const auto id : answer_) {
                if (auto* r = find_hot(id); r != nullptr && !send(*r)) {
                    break;
                }
            }
            answer_.clear();
        }
        w.patch_u16(rumors_at, n);
        const std::uint16_t rumors_written = n;

        // Digest: what the asker knows, so that the answer carries only what it lacks.
        const std::size_t digest_at = w.size();
        w.u16(0);
        n = 0;
        if (request && options_.mode != spread::push) {
            seen_.for_each_newest_first([&](const detail::id_memory::entry& e) {
                if (n >= options_.max_digest || !wire::append_if_fits(w, [&](wire::writer& out) { out.u64(e.id); })) {
                    return false;
                }
                ++n;
                return true;
            });
        }
        w.patch_u16(digest_at, n);
        wants_reply_ = false;
        if (!request) {
            apply_pending_pull_contacts();
        }

        if (!w.ok()) {
            return;
        }
        stats_.rumors_sent += rumors_written;
        stats_.update_messages += rumors_written > 0 ? 1 : 0;
        // Blind contacts count when made; feedback waits for the partner's answer.
        if (request && rumors_written > 0 && options_.loss == interest::blind && options_.rule != stop::rounds) {
            std::size_t left = rumors_written;
            for (auto it = hot_.rbegin(); it != hot_.rend() && left > 0; ++it, --left) {
                it->contact = true;
            }
            apply_contacts();
        }
    }

    [[nodiscard]] bool read(wire::reader& r, wire::message_kind kind)
    {
        return read(r, kind, [this](rumor_id id, const T& value) {
            if (on_delivery_) {
                on_delivery_(id, value);
            }
        });
    }

    // clang-format off
    /// read(), with each newly learned rumor handed to `deliver(id, value)` instead of the
    /// delivery handler: for a payload that embeds a rumor_set and must not hand it a pointer to
    /// itself, which a move would leave dangling.
    template <class Deliver>
        requires std::invocable<Deliver&, rumor_id, const T&>
    // clang-format on
    [[nodiscard]] bool read(wire::reader& r, wire::message_kind kind, Deliver&& deliver)
    {
        const bool request = kind == wire::message_kind::request;
        wants_reply_ = false;
        feedback_.clear();
        answer_.clear();
        // Parse everything first: a malformed section changes nothing.
        incoming_feedback_.clear();
        const std::size_t nf = r.u16();
        if (!r.ok() || nf * 9 > r.remaining()) {
            return false;
        }
        for (std::size_t i = 0; i < nf; ++i) {
            const auto id = r.u64();
            const auto knew = r.u8();
            if (knew > 1) {
                return false;
            }
            incoming_feedback_.push_back(feedback_entry{id, knew == 1});
        }
        const std::size_t nr = r.u16();
        if (!r.ok() || nr * 10 > r.remaining()) {
            return false;
        }
        incoming_.resize(std::max(incoming_.size(), nr));
        for (std::size_t i = 0; i < nr; ++i) {
            incoming_[i].id = r.u64();
            incoming_[i].age = r.u16();
            if (!wire::codec<T>::read(r, incoming_[i].value)) {
                return false;
            }
        }
        const std::size_t nd = r.u16();
        if (!r.ok() || nd * 8 != r.remaining()) {
            return false;
        }
        digest_.resize(nd);
        for (auto& id : digest_) {
            id = r.u64();
        }
        if (!r.ok()) {
            return false;
        }

        // Feedback on what we pushed: unnecessary contacts count, necessary ones reset.
        if (!request && options_.loss == interest::feedback && options_.rule != stop::rounds) {
            for (const auto& f : incoming_feedback_) {
                if (auto* h = find_hot(f.id)) {
                    h->contact = true;
                    h->necessary = !f.knew;
                }
            }
            apply_contacts();
        }

        // Rumors received: the new ones are delivered and spread on; feedback says which were new.
        const bool give_feedback = request && options_.loss == interest::feedback && options_.rule != stop::rounds;
        for (std::size_t i = 0; i < nr; ++i) {
            auto& in = incoming_[i];
            const bool knew = accept(in.id, in.age, in.value, deliver);
            if (give_feedback) {
                feedback_.push_back(feedback_entry{in.id, knew});
            }
        }

        // A pull: answer with what the asker lacks; each rumor offered is a contact.
        if (request && options_.mode != spread::push && !hot_.empty()) {
            std::sort(digest_.begin(), digest_.end());
            const auto asker_knows = [&](rumor_id id) {
                if (std::binary_search(digest_.begin(), digest_.end(), id)) {
                    return true;
                }
                return std::any_of(incoming_.begin(), incoming_.begin() + static_cast<std::ptrdiff_t>(nr),
                                   [&](const incoming_rumor& in) { return in.id == id; });
            };
            const bool demers = options_.pull == pull_rule::demers;
            for (auto it = hot_.rbegin(); it != hot_.rend(); ++it) {
                const bool known = asker_knows(it->id);
                if (!known || demers) {
                    answer_.push_back(it->id);
                }
                if (demers) {
                    it->pulled =
                        static_cast<std::uint8_t>(it->pulled | (known ? pulled_unnecessary : pulled_necessary));
                } else if (options_.rule != stop::rounds) {
                    it->contact = true;
                    it->necessary = !known;
                }
            }
            if (options_.rule != stop::rounds && !demers) {
                // Contacts are applied after the answer is written, so that a rumor dropped now
                // still reaches this asker.
                pending_pull_contacts_ = true;
            }
        }
        wants_reply_ = !feedback_.empty() || !answer_.empty();
        if (pending_pull_contacts_ && answer_.empty()) {
            apply_pending_pull_contacts();
        }
        return true;
    }

private:
    static constexpr std::uint8_t pulled_unnecessary = 1;
    static constexpr std::uint8_t pulled_necessary = 2;

    [[nodiscard]] bool demers_pull() const noexcept
    {
        return options_.pull == pull_rule::demers && options_.mode != spread::push;
    }

    // Applies the contacts of the last pull once its answer is written.
    void apply_pending_pull_contacts()
    {
        if (pending_pull_contacts_) {
            pending_pull_contacts_ = false;
            apply_contacts();
        }
    }

    struct hot_rumor {
        rumor_id id = 0;
        std::int64_t born = 0;    ///< in this node's periods (its arrival period minus its age)
        std::int64_t learned = 0; ///< the period this node learned it
        std::uint32_t counter = 0;
        bool contact = false;    ///< scratch: part of the contact being applied
        bool necessary = false;  ///< scratch: the partner did not know it
        std::uint8_t pulled = 0; ///< pull_rule::demers: askers since the last period (pulled_* bits)
        T value{};
    };

    struct incoming_rumor {
        rumor_id id = 0;
        std::uint32_t age = 0;
        T value{};
    };

    struct feedback_entry {
        rumor_id id = 0;
        bool knew = false;
    };

    static const rumor_options& validated(const rumor_options& o)
    {
        if (auto problem = check(o)) {
            throw std::invalid_argument("gossip::payload::rumor_options: " + *problem);
        }
        return o;
    }

    rumor_id fresh_id() noexcept { return mix_seed(origin_, next_sequence_++); }

    [[nodiscard]] hot_rumor* find_hot(rumor_id id) noexcept
    {
        auto it = std::find_if(hot_.begin(), hot_.end(), [&](const hot_rumor& r) { return r.id == id; });
        return it != hot_.end() ? &*it : nullptr;
    }
    [[nodiscard]] const hot_rumor* find_hot(rumor_id id) const noexcept
    {
        return const_cast<rumor_set*>(this)->find_hot(id);
    }

    void remember(rumor_id id, std::int64_t born)
    {
        if (auto evicted = seen_.insert(id, born)) {
            // Forgotten early for want of room: refuse anything that might be a copy of it.
            refuse_born_up_to_ = std::max(refuse_born_up_to_, evicted->born + options_.max_age);
        }
    }

    void make_infective(rumor_id id, std::int64_t born, T value)
    {
        if (hot_.size() == options_.max_infective) {
            // The oldest (first learned) gives way to the newest.
            hot_.erase(hot_.begin());
            ++stats_.removed;
        }
        hot_.push_back(hot_rumor{id, born, period_, 0, false, false, 0, std::move(value)});
    }

    // Returns whether the rumor was already known.
    template <class Deliver>
    bool accept(rumor_id id, std::uint32_t age, T& value, Deliver& deliver)
    {
        if (seen_.contains(id)) {
            ++stats_.duplicates;
            return true;
        }
        const std::int64_t born = period_ - std::int64_t{age};
        if (age > options_.max_age || born <= refuse_born_up_to_) {
            ++stats_.refused_too_old;
            return true; // as far as spreading goes: the asker need not keep pushing it here
        }
        remember(id, born);
        ++stats_.delivered;
        deliver(id, std::as_const(value));
        make_infective(id, born, std::move(value));
        return false;
    }

    // Applies the marked contacts by the shared SIR rule (loses_interest).
    void apply_contacts()
    {
        std::erase_if(hot_, [&](hot_rumor& r) {
            if (!r.contact) {
                return false;
            }
            r.contact = false;
            const bool done = loses_interest(options_, r.counter, std::exchange(r.necessary, false), rng_);
            stats_.removed += done ? 1 : 0;
            return done;
        });
    }

    rumor_options options_;
    detail::id_memory seen_;
    std::vector<hot_rumor> hot_; // in the order learned
    delivery_handler on_delivery_;
    pcg32 rng_{};
    std::uint64_t origin_ = 0;
    std::uint64_t next_sequence_ = 0;
    std::int64_t period_ = 0;
    std::int64_t refuse_born_up_to_ = std::numeric_limits<std::int64_t>::min();
    rumor_statistics stats_;
    // Between a read() and the write() of its answer.
    std::vector<feedback_entry> feedback_;
    std::vector<rumor_id> answer_;
    bool wants_reply_ = false;
    bool pending_pull_contacts_ = false;
    // Parsing scratch.
    std::vector<feedback_entry> incoming_feedback_;
    std::vector<incoming_rumor> incoming_;
    std::vector<rumor_id> digest_;
};

} // namespace gossip::payload
