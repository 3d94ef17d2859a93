#pragma once

// Rumor mongering at the abstract level of Demers et al. (PODC 1987): n nodes, one rumor, rounds
// in which every node contacts `fanout` peers drawn uniformly from all the others. No views, no
// wire, no network queue: a node is three small numbers (its SIR state, its counter and the round
// it learned the rumor), about 13 bytes with the round's visiting order, so that 10^6 nodes fit
// in cache-friendly arrays and a dissemination takes a second rather than a minute.
//
// The rules are rumor_set's, not a copy of them: losing interest goes through the same
// payload::loses_interest, and an exchange follows rumor_set's steps in the same order.
//
//   push       the asker sends the rumor if it spreads it; blind contacts count when sent, and
//              feedback ones when the partner's answer says whether it knew;
//   pull       the asker tells what it knows; a partner that spreads the rumor answers with it if
//              the asker lacked it; the partner counts the contact at once (it knows the answer);
//   push_pull  both, in one exchange.
//
// Under pull_rule::demers (Demers et al.'s pull) a spreading partner answers every asker with the
// rumor, which counts as an update message whether needed or not, and gathers the askers of a
// round into one contact: necessary if any of them lacked the rumor, unnecessary if all knew it. It
// applies that contact when its own next turn begins (sequential order, as rumor_set does at its
// next period) or at the end of the round (synchronous order).
//
// Every node asks every round (a node that knows nothing still pulls), and every delivered
// request is answered, as in the full simulator. A message is lost with probability
// message_loss, independently; a lost request gets no answer. A contact a sender counts when
// sending (blind push; a pull partner's) counts even when the message is lost.
//
// Two orders within a round (round_order):
//
//   sequential   the full simulator's: every node in a fresh random order takes its turn, and
//                each exchange completes before the next turn. A node that learns the rumor
//                earlier in the round spreads it when its own turn comes. With fanout > 1 a
//                node's requests all leave before the first answer returns. stop::rounds spreads
//                a rumor for M of the node's own turns; a copy older than max_age rounds stops at
//                the node's turn. This is what the cross-validation against the simulator checks.
//   synchronous  Demers': every contact of round r sees the states as they were when the round
//                began, and what the round changes takes effect at its end. A node that learns
//                the rumor in round r spreads it from round r + 1, and until then counts as not
//                knowing it: a second push to it is a necessary contact, and its pull is answered.
//                A copy that loses interest in round r still spreads in the rest of round r.
//                Counters count in the order of the turns. stop::rounds spreads in rounds
//                r + 1 ... r + M, and a copy older than max_age rounds no longer spreads.
//
// What is not modelled: views (targets are uniform over everybody, as with frozen views of
// c = n - 1), crashes, delay, bytes (dissemination_result::bytes is 0), and the payload's memory
// bounds (memory, max_infective, max_digest, which one rumor never reaches). max_age is applied
// as a global age: the simulator's per-node clocks may cut a copy a round earlier.

#include "../payload/rumor_set.hpp"
#include "../random.hpp"
#include "dissemination.hpp"

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace gossip::sim {

/// How a round orders its contacts; see the header comment.
enum class round_order : std::uint8_t {
    sequential,  ///< as the full simulator: a node infected earlier in the round spreads in its turn
    synchronous, ///< as Demers et al.: infected in round r, spreading from round r + 1
};

/// The rumor-mongering strategy to model and the channel it runs over. Checked by check() and
/// by the constructor.
struct epidemic_options {
    /// mode, loss (interest), rule, k, rounds (M) and max_age apply; the memory bounds do not.
    payload::rumor_options rumor{};
    std::size_t fanout = 1;    ///< peers contacted per node per round (at most n - 1 are)
    double message_loss = 0.0; ///< probability that a message (request or answer) is lost
    round_order order = round_order::sequential;
};

/// Why options are impossible, or nothing.
[[nodiscard]] inline std::optional<std::string> check(const epidemic_options& o)
{
    if (auto problem = payload::check(o.rumor)) {
        return problem;
    }
    if (o.fanout == 0) {
        return "fanout must be at least 1";
    }
    if (!(o.message_loss >= 0.0 && o.message_loss <= 1.0)) {
        return "message_loss must be within [0, 1]";
    }
    return std::nullopt;
}

/// A node's state for the rumor.
enum class sir : std::uint8_t { susceptible, infective, removed };

/// The abstract model: construct once (the arrays are reused), then start() and run_round(), or
/// hand it to disseminate(). A seed fixes every choice; repeated runs on one model continue its
/// random streams, so they differ from each other and replay as a sequence.
class epidemic {
public:
    /// Throws std::invalid_argument for impossible options or more than 2^32 - 2 nodes.
    epidemic(std::size_t nodes, const epidemic_options& options, std::uint64_t seed)
        : options_(validated(options, nodes)), n_(static_cast<std::uint32_t>(nodes)),
          fanout_(static_cast<std::uint32_t>(std::min<std::size_t>(options.fanout, nodes > 0 ? nodes - 1 : 0))),
          loss_(options.message_loss), order_rng_(mix_seed(seed, 0x6f72646572)),
          target_rng_(mix_seed(seed, 0x7461726765)), rule_rng_(mix_seed(seed, 0x72756c65)),
          loss_rng_(mix_seed(seed, 0x6c6f7373)), status_(nodes, 0), counter_(nodes, 0), learned_(nodes, 0),
          order_(nodes), exchanges_(fanout_), chosen_(fanout_)
    {
        if (demers_pull()) {
            pulled_.assign(nodes, 0);
        }
        for (std::uint32_t i = 0; i < n_; ++i) {
            order_[i] = i;
        }
    }

    /// A new rumor at `origin`; every other node susceptible; round 0.
    void start(std::size_t origin)
    {
        if (origin >= n_) {
            throw std::out_of_range("epidemic::start: no node " + std::to_string(origin));
        }
        std::fill(status_.begin(), status_.end(), s_code);
        std::fill(counter_.begin(), counter_.end(), 0U);
        if (demers_pull()) {
            std::fill(pulled_.begin(), pulled_.end(), std::uint8_t{0});
        }
        asked_.clear();
        fresh_.clear();
        stopping_.clear();
        round_ = 0;
        susceptible_ = n_;
        infective_ = 0;
        removed_ = 0;
        learned_sum_ = 0;
        t_last_ = 0;
        update_messages_ = 0;
        messages_ = 0;
        learn(static_cast<std::uint32_t>(origin), /*ticked=*/true);
        status_[origin] = i_code; // even when synchronous: the origin spreads in round 1
        fresh_.clear();
    }

    /// One round: every node takes its turn, in a fresh random order.
    void run_round()
    {
        ++round_;
        messages_ += std::uint64_t{n_} * fanout_; // every node asks, whatever it knows
        shuffle_order();
        if (fanout_ == 1) {
            run_turns_single();
        } else {
            for (std::uint32_t k = 0; k < n_; ++k) {
                const std::uint32_t a = order_[k];
                tick(a);
                if (fanout_ > 0) {
                    draw_targets(a);
                    turn(a);
                }
            }
        }
        if (!sequential()) {
            end_synchronous_round();
        }
    }

    // --- observation ------------------------------------------------------------------------
    [[nodiscard]] std::size_t size() const noexcept { return n_; }
    [[nodiscard]] std::size_t round() const noexcept { return round_; }
    [[nodiscard]] const epidemic_options& options() const noexcept { return options_; }
    /// Peers contacted per turn: options().fanout, at most n - 1.
    [[nodiscard]] std::size_t fanout() const noexcept { return fanout_; }

    [[nodiscard]] std::size_t susceptible() const noexcept { return susceptible_; }
    /// Nodes still spreading the rumor: under synchronous order, those that will in the next
    /// round; under sequential order also those whose time is over but whose next turn, which
    /// removes them, has not come (as in the full simulator).
    [[nodiscard]] std::size_t infective() const noexcept { return infective_; }
    [[nodiscard]] std::size_t removed() const noexcept { return removed_; }
    /// Nodes that know the rumor, the origin included.
    [[nodiscard]] std::size_t reached() const noexcept { return n_ - susceptible_; }

    [[nodiscard]] sir state(std::size_t i) const
    {
        // Between rounds only S, I and R exist.
        switch (status_.at(i) & state_mask) {
        case s_code: return sir::susceptible;
        case r_code: return sir::removed;
        default: return sir::infective;
        }
    }
    /// The round in which node i learned the rumor (0 for the origin), if it has.
    [[nodiscard]] std::optional<std::size_t> learned_round(std::size_t i) const
    {
        if ((status_.at(i) & state_mask) == s_code) {
            return std::nullopt;
        }
        return learned_[i];
    }
    /// Sum of learned_round over the reached nodes, and the largest: for t_avg and t_last.
    [[nodiscard]] std::uint64_t learned_round_sum() const noexcept { return learned_sum_; }
    [[nodiscard]] std::size_t last_learned_round() const noexcept { return t_last_; }

    /// Messages carrying the rumor: pushes, and pull answers with it (rumor_set's update_messages).
    [[nodiscard]] std::uint64_t update_messages() const noexcept { return update_messages_; }
    /// Every request and answer sent, as the full simulator sends them.
    [[nodiscard]] std::uint64_t messages() const noexcept { return messages_; }

private:
    // status_ byte: the state in the low three bits; under sequential order with stop::rounds,
    // bit 3 holds the parity of the last round in which the node took its turn.
    static constexpr std::uint8_t s_code = 0;
    static constexpr std::uint8_t i_code = 1;
    static constexpr std::uint8_t r_code = 2;
    static constexpr std::uint8_t fresh_code = 3;    // synchronous: learned this round, susceptible until it ends
    static constexpr std::uint8_t stopping_code = 4; // synchronous: lost interest this round, infective until it ends
    static constexpr std::uint8_t state_mask = 7;
    static constexpr std::uint8_t parity_bit = 8;
    // pulled_ bits: Demers' pull contacts gathered since the node's last turn.
    static constexpr std::uint8_t pulled_unnecessary = 1;
    static constexpr std::uint8_t pulled_necessary = 2;

    // What one exchange carried, between its three steps.
    struct exchange {
        std::uint32_t partner = 0;
        bool pushed = false;     ///< the request carried the rumor
        bool asker_knew = false; ///< the request's digest held it
        bool delivered = false;  ///< the request arrived
        bool partner_knew = false;
        bool answered = false; ///< the answer carried the rumor
        bool answer_delivered = false;
    };

    static const epidemic_options& validated(const epidemic_options& o, std::size_t nodes)
    {
        if (auto problem = check(o)) {
            throw std::invalid_argument("gossip::sim::epidemic: " + *problem);
        }
        if (nodes > 0xFFFFFFFEULL) {
            throw std::invalid_argument("gossip::sim::epidemic: at most 2^32 - 2 nodes");
        }
        return o;
    }

    [[nodiscard]] std::uint8_t code(std::uint32_t i) const noexcept
    {
        return static_cast<std::uint8_t>(status_[i] & state_mask);
    }
    [[nodiscard]] bool unaware(std::uint32_t i) const noexcept { return code(i) == s_code; }
    // Whether i knows the rumor, as far as this round's contacts can tell.
    [[nodiscard]] bool knows(std::uint32_t i) const noexcept { return code(i) != s_code && code(i) != fresh_code; }
    [[nodiscard]] bool spreads(std::uint32_t i) const noexcept { return code(i) == i_code || code(i) == stopping_code; }
    [[nodiscard]] bool sequential() const noexcept { return options_.order == round_order::sequential; }
    [[nodiscard]] bool demers_pull() const noexcept
    {
        return options_.rumor.pull == payload::pull_rule::demers && options_.rumor.mode != payload::spread::push;
    }

    // Demers' pull: partner b was asked this round by someone who knew the rumor (or not).
    void note_pull_contact(std::uint32_t b, bool necessary)
    {
        if (pulled_[b] == 0 && !sequential()) {
            asked_.push_back(b);
        }
        pulled_[b] = static_cast<std::uint8_t>(pulled_[b] | (necessary ? pulled_necessary : pulled_unnecessary));
    }

    // Demers' pull: the askers gathered since i's last turn count as one contact.
    void apply_pull_contacts(std::uint32_t i)
    {
        const std::uint8_t p = std::exchange(pulled_[i], std::uint8_t{0});
        if (p != 0 && spreads(i) &&
            payload::loses_interest(options_.rumor, counter_[i], (p & pulled_necessary) != 0, rule_rng_)) {
            remove(i);
        }
    }
    [[nodiscard]] bool lost() noexcept { return loss_(loss_rng_); }

    [[nodiscard]] bool ticked_this_round(std::uint32_t i) const noexcept
    {
        return ((status_[i] & parity_bit) != 0) == ((round_ & 1U) != 0);
    }

    void set_state(std::uint32_t i, std::uint8_t s) noexcept
    {
        status_[i] = static_cast<std::uint8_t>((status_[i] & ~state_mask) | s);
    }

    // i learns the rumor now. `ticked`: it has had its turn this round (sequential order), so
    // that stop::rounds counts M of its turns from the next one, as rumor_set counts periods.
    void learn(std::uint32_t i, bool ticked)
    {
        set_state(i, sequential() ? i_code : fresh_code);
        if (!sequential()) {
            fresh_.push_back(i);
        }
        learned_[i] = static_cast<std::uint32_t>(std::min<std::size_t>(round_, 0xFFFFFFFFU));
        learned_sum_ += round_;
        t_last_ = round_;
        --susceptible_;
        ++infective_;
        if (options_.rumor.rule == payload::stop::rounds) {
            // The first round whose turn finds it over: learned in period p, it spreads in p + 1 ... p + M.
            const std::uint64_t period = sequential() && !ticked && round_ > 0 ? round_ - 1 : round_;
            counter_[i] =
                static_cast<std::uint32_t>(std::min<std::uint64_t>(period + options_.rumor.rounds + 1, 0xFFFFFFFFU));
        } else {
            counter_[i] = 0;
        }
    }

    // i loses interest: at once under sequential order, at the end of the round under synchronous.
    void remove(std::uint32_t i)
    {
        if (sequential()) {
            set_state(i, r_code);
            --infective_;
            ++removed_;
        } else if (code(i) == i_code) {
            set_state(i, stopping_code);
            stopping_.push_back(i);
        }
    }

    // Whether a copy may no longer spread in round r.
    [[nodiscard]] bool expired(std::uint32_t i, std::size_t r) const noexcept
    {
        return r > options_.rumor.max_age || (options_.rumor.rule == payload::stop::rounds && r >= counter_[i]);
    }

    // Synchronous order: the round's changes take effect, and copies whose time is over by the
    // next round stop now, so that between rounds infective means "spreads next round".
    void end_synchronous_round()
    {
        for (const auto i : asked_) {
            apply_pull_contacts(i);
        }
        asked_.clear();
        for (const auto i : fresh_) {
            set_state(i, i_code);
        }
        fresh_.clear();
        for (const auto i : stopping_) {
            set_state(i, r_code);
            --infective_;
            ++removed_;
        }
        stopping_.clear();
        if (options_.rumor.rule == payload::stop::rounds || round_ + 1 > options_.rumor.max_age) {
            for (std::uint32_t i = 0; i < n_ && infective_ > 0; ++i) {
                if (code(i) == i_code && expired(i, round_ + 1)) {
                    set_state(i, r_code);
                    --infective_;
                    ++removed_;
                }
            }
        }
    }

    // Sequential order: the node's own period begins (rumor_set::on_period).
    void tick(std::uint32_t a)
    {
        if (!sequential()) {
            return;
        }
        if (options_.rumor.rule == payload::stop::rounds) {
            status_[a] = static_cast<std::uint8_t>((status_[a] & ~parity_bit) | ((round_ & 1U) != 0 ? parity_bit : 0));
        }
        if (demers_pull()) {
            apply_pull_contacts(a);
        }
        if (spreads(a) && expired(a, round_)) {
            remove(a);
        }
    }

    [[nodiscard]] std::uint32_t draw_one_target(std::uint32_t a) noexcept
    {
        const std::uint32_t t = uniform_below(target_rng_, n_ - 1);
        return t >= a ? t + 1 : t;
    }

    // fanout_ distinct peers other than a, into exchanges_ (Floyd's algorithm, as
    // peer_selection::random draws from a view).
    void draw_targets(std::uint32_t a) noexcept
    {
        const std::uint32_t others = n_ - 1;
        std::uint32_t written = 0;
        for (std::uint32_t j = others - fanout_; j < others; ++j) {
            const std::uint32_t t = uniform_below(target_rng_, j + 1);
            const auto end = chosen_.begin() + written;
            chosen_[written++] = std::find(chosen_.begin(), end, t) == end ? t : j;
        }
        for (std::uint32_t j = 0; j < fanout_; ++j) {
            exchanges_[j].partner = chosen_[j] >= a ? chosen_[j] + 1 : chosen_[j];
        }
    }

    // The asker writes one request.
    void send_request(std::uint32_t a, exchange& x)
    {
        const auto mode = options_.rumor.mode;
        x.pushed = mode != payload::spread::pull && spreads(a);
        x.asker_knew = knows(a);
        if (x.pushed) {
            ++update_messages_;
            // Blind contacts count when made (rumor_set::write); feedback ones wait for the answer.
            if (options_.rumor.loss == payload::interest::blind &&
                payload::loses_interest(options_.rumor, counter_[a], false, rule_rng_)) {
                remove(a);
            }
        }
        x.delivered = loss_.never() || !lost();
    }

    // The partner reads a request and answers it (rumor_set::read, then write of the answer).
    void answer_request(exchange& x)
    {
        const std::uint32_t b = x.partner;
        ++messages_;
        x.partner_knew = knows(b);
        if (x.pushed && unaware(b)) {
            learn(b, ticked_this_round(b));
        }
        x.answered = false;
        if (options_.rumor.mode != payload::spread::push && spreads(b)) {
            // Under sequential order a partner that learned the rumor from this very push also
            // takes it as a pull contact with an asker that knew: rumor_set does the same.
            const bool known = x.asker_knew || x.pushed;
            if (demers_pull()) {
                x.answered = true;
                note_pull_contact(b, !known);
            } else {
                x.answered = !known;
                if (payload::loses_interest(options_.rumor, counter_[b], !known, rule_rng_)) {
                    remove(b);
                }
            }
            update_messages_ += x.answered ? 1 : 0;
        }
        x.answer_delivered = loss_.never() || !lost();
    }

    // The asker reads the answer: feedback on its push, then the rumor if it was pulled.
    void read_answer(std::uint32_t a, const exchange& x)
    {
        if (x.pushed && options_.rumor.loss == payload::interest::feedback && spreads(a) &&
            payload::loses_interest(options_.rumor, counter_[a], !x.partner_knew, rule_rng_)) {
            remove(a);
        }
        if (x.answered && unaware(a)) {
            learn(a, true);
        }
    }

    // One node's turn with fanout_ targets already drawn: every request leaves before the first
    // answer comes back, as the simulator's queue delivers them.
    void turn(std::uint32_t a)
    {
        for (std::uint32_t j = 0; j < fanout_; ++j) {
            send_request(a, exchanges_[j]);
        }
        for (std::uint32_t j = 0; j < fanout_; ++j) {
            if (exchanges_[j].delivered) {
                answer_request(exchanges_[j]);
            }
        }
        for (std::uint32_t j = 0; j < fanout_; ++j) {
            if (exchanges_[j].delivered && exchanges_[j].answer_delivered) {
                read_answer(a, exchanges_[j]);
            }
        }
    }

    // Fanout 1, the common case: every turn of the round, with the options hoisted out of the
    // loop. The steps are turn()'s for one exchange; the cross-validation tests cover both.
    template <payload::spread Mode, bool Sequential>
    void run_turns_single_as()
    {
        constexpr bool pushes = Mode != payload::spread::pull;
        constexpr bool pulls = Mode != payload::spread::push;
        const bool feedback = options_.rumor.loss == payload::interest::feedback;
        const bool by_rounds = options_.rumor.rule == payload::stop::rounds;
        const bool lossless = loss_.never();
        const bool demers = demers_pull();
        const auto loses = [&](std::uint32_t i, bool necessary) {
            return payload::loses_interest(options_.rumor, counter_[i], necessary, rule_rng_);
        };

        // Targets are drawn `ahead` turns early, so that the two nodes of a turn are already
        // being loaded when it comes: at 10^6 nodes they are cache misses otherwise.
        constexpr std::uint32_t ahead = 16;
        std::array<std::uint32_t, ahead> targets{};
        const auto prepare = [&](std::uint32_t k) {
            const std::uint32_t a = order_[k];
            const std::uint32_t t = draw_one_target(a);
            targets[k % ahead] = t;
            prefetch_node(a);
            prefetch_node(t);
        };
        for (std::uint32_t k = 0; k < std::min(ahead, n_); ++k) {
            prepare(k);
        }
        for (std::uint32_t k = 0; k < n_; ++k) {
            const std::uint32_t a = order_[k];
            const std::uint32_t b = targets[k % ahead];
            if (k + ahead < n_) {
                prepare(k + ahead);
            }
            if constexpr (Sequential) {
                tick(a);
            }
            // The same steps as turn() for one exchange, with the options hoisted out.
            const bool a_spreads = spreads(a);
            if constexpr (!pulls) {
                if (!a_spreads) {
                    // A push from a node that does not spread changes nothing but the count.
                    messages_ += lossless || !lost() ? 1U : 0U;
                    continue;
                }
            }
            const bool pushed = pushes && a_spreads;
            const bool asker_knew = knows(a);
            if (pushed) {
                ++update_messages_;
                if (!feedback && !by_rounds && loses(a, false)) {
                    remove(a);
                }
            }
            if (!lossless && lost()) {
                continue;
            }
            ++messages_;
            const bool partner_knew = knows(b);
            if (pushed && unaware(b)) {
                learn(b, Sequential && ticked_this_round(b));
            }
            bool answered = false;
            if constexpr (pulls) {
                if (spreads(b)) {
                    const bool known = asker_knew || pushed;
                    if (demers) {
                        answered = true;
                        note_pull_contact(b, !known);
                    } else {
                        answered = !known;
                        if (!by_rounds && loses(b, !known)) {
                            remove(b);
                        }
                    }
                    update_messages_ += answered ? 1 : 0;
                }
            }
            if (!lossless && lost()) {
                continue;
            }
            if (pushed && feedback && !by_rounds && spreads(a) && loses(a, !partner_knew)) {
                remove(a);
            }
            if (answered && unaware(a)) {
                learn(a, true);
            }
        }
    }

    void run_turns_single()
    {
        using payload::spread;
        const bool seq = sequential();
        switch (options_.rumor.mode) {
        case spread::push:
            seq ? run_turns_single_as<spread::push, true>() : run_turns_single_as<spread::push, false>();
            break;
        case spread::pull:
            seq ? run_turns_single_as<spread::pull, true>() : run_turns_single_as<spread::pull, false>();
            break;
        case spread::push_pull:
            seq ? run_turns_single_as<spread::push_pull, true>() : run_turns_single_as<spread::push_pull, false>();
            break;
        }
    }

    // gossip::shuffle's draws and swaps, with each swap's far end loaded a few steps early.
    void shuffle_order()
    {
        constexpr std::uint32_t ahead = 8;
        std::array<std::uint32_t, ahead> far{};
        const auto draw = [&](std::uint32_t i) {
            const std::uint32_t j = uniform_below(order_rng_, i);
            far[i % ahead] = j;
#if defined(__GNUC__) || defined(__clang__)
            __builtin_prefetch(order_.data() + j, 1);
#endif
        };
        // Step i swaps order_[i - 1] with order_[j_i]; j_i is drawn `ahead` steps early, in
        // gossip::shuffle's order, so the permutation is the same.
        for (std::uint32_t i = n_; i > 1 && i + ahead > n_; --i) {
            draw(i);
        }
        for (std::uint32_t i = n_; i > 1; --i) {
            const std::uint32_t j = far[i % ahead];
            if (i > ahead + 1) {
                draw(i - ahead);
            }
            std::swap(order_[i - 1], order_[j]);
        }
    }

    void prefetch_node(std::uint32_t i) const noexcept
    {
#if defined(__GNUC__) || defined(__clang__)
        __builtin_prefetch(status_.data() + i);
        if (options_.rumor.rule == payload::stop::rounds) {
            __builtin_prefetch(counter_.data() + i);
        }
#else
        static_cast<void>(i);
#endif
    }

    epidemic_options options_;
    std::uint32_t n_;
    std::uint32_t fanout_;
    chance loss_;
    pcg32 order_rng_;
    pcg32 target_rng_;
    pcg32 rule_rng_;
    pcg32 loss_rng_;
    std::vector<std::uint8_t> status_;
    std::vector<std::uint32_t> counter_; ///< the counter, or under stop::rounds the round it stops
    std::vector<std::uint32_t> learned_;
    std::vector<std::uint32_t> order_;
    std::vector<std::uint8_t> pulled_;    ///< Demers' pull: contacts gathered (pulled_ bits)
    std::vector<std::uint32_t> asked_;    ///< Demers' pull, synchronous: nodes asked this round
    std::vector<std::uint32_t> fresh_;    ///< synchronous: learned this round
    std::vector<std::uint32_t> stopping_; ///< synchronous: lost interest this round
    std::vector<exchange> exchanges_;
    std::vector<std::uint32_t> chosen_;
    std::size_t round_ = 0;
    std::size_t susceptible_ = 0;
    std::size_t infective_ = 0;
    std::size_t removed_ = 0;
    std::uint64_t learned_sum_ = 0;
    std::size_t t_last_ = 0;
    std::uint64_t update_messages_ = 0;
    std::uint64_t messages_ = 0;
};

/// One dissemination in the abstract model: starts the rumor at `origin` and runs rounds until
/// no node is infective (or options.max_rounds). The figures mean what they mean for the full
/// simulator's disseminate(); bytes is 0, since nothing is encoded.
inline dissemination_result disseminate(epidemic& model, std::size_t origin, const dissemination_options& options = {})
{
    model.start(origin);
    const auto n = static_cast<double>(model.size());
    dissemination_result out;
    out.live_nodes = model.size();
    out.reached_by_round.push_back(1.0 / n);
    while (out.rounds < options.max_rounds) {
        model.run_round();
        ++out.rounds;
        out.reached_by_round.push_back(static_cast<double>(model.reached()) / n);
        if (model.infective() == 0) {
            out.quiescent = true;
            break;
        }
    }
    out.reached = model.reached();
    out.residue = 1.0 - static_cast<double>(out.reached) / n;
    out.traffic = static_cast<double>(model.update_messages()) / n;
    out.t_avg = static_cast<double>(model.learned_round_sum()) / static_cast<double>(out.reached);
    out.t_last = model.last_learned_round();
    out.messages = model.messages();
    out.bytes = 0;
    return out;
}

} // namespace gossip::sim
