#pragma once

// The gossip skeleton shared by peer sampling, rumor mongering and anti-entropy. Every period
// the active side picks peers and opens an exchange; every datagram is answered by the passive
// side. The policies fill in the blanks; the node owns them by value and calls them directly.

#include "config.hpp"
#include "crypto/siphash.hpp"
#include "descriptor.hpp"
#include "detail/answer_budget.hpp"
#include "detail/boxed.hpp"
#include "detail/prefetch.hpp"
#include "detail/proven_addresses.hpp"
#include "detail/scratch.hpp"
#include "detail/view_operations.hpp"
#include "outbox.hpp"
#include "payload/none.hpp"
#include "payload/policy.hpp"
#include "peer_selection/policy.hpp"
#include "propagation/policy.hpp"
#include "random.hpp"
#include "statistics.hpp"
#include "traits.hpp"
#include "transport/policy.hpp"
#include "view.hpp"
#include "view_selection/policy.hpp"
#include "wire/message.hpp"

#include <algorithm>
#include <array>
#include <cassert>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <random>
#include <span>
#include <type_traits>
#include <utility>
#include <vector>

namespace gossip {

// clang-format 14 mangles concepts and requires-clauses: kept as written.
// clang-format off
/// One gossip node, composed from policies at compile time: a Transport to move bytes, a
/// PeerSelection (whom to contact), a ViewSelection (what to keep), a Propagation (who sends
/// what) and a Payload riding along (membership, rumors, anti-entropy, or none). tick() runs the
/// active side once a period; on_datagram() handles what arrives. Not thread-safe: one thread
/// drives a node.
template <transport_policy Transport, class PeerSelection, class ViewSelection, propagation_policy Propagation,
          payload_policy Payload = payload::none, class Traits = default_traits>
    requires random_source<typename Traits::random_engine> &&
             peer_selection_policy<PeerSelection, typename Transport::address_type, typename Traits::random_engine> &&
             view_selection_policy<ViewSelection, typename Transport::address_type, typename Traits::random_engine>
// clang-format on
class gossip_node {
public:
    using transport_type = Transport;
    using peer_selection_type = PeerSelection;
    using view_selection_type = ViewSelection;
    using propagation_type = Propagation;
    using payload_type = Payload;
    using traits_type = Traits;
    using random_engine = typename Traits::random_engine;
    using address_type = typename Transport::address_type;
    using descriptor_type = descriptor<address_type>;
    using view_type = gossip::view<address_type>;

    /// Throws config_error when cfg is impossible. The seed fixes every random choice the node
    /// will make.
    gossip_node(Transport transport, const config& cfg, std::uint64_t seed, PeerSelection peers = {},
                ViewSelection views = {}, Payload data = {})
        : transport_(std::move(transport)), peers_(std::move(peers)), views_(std::move(views)),
          payload_(std::move(data)), config_(validate(cfg)), rng_(seed), sampling_rng_(mix_seed(seed, 1)),
          buffer_limit_(std::min(buffer_size(cfg), wire::descriptors_that_fit<address_type>(cfg.max_message_bytes)))
    {
        view_.storage().reserve(config_.view_size);
        if (answers && !sources_authentic()) {
            auto& g = guard_.emplace();
            if constexpr (Propagation::pulls || payload_with_replies<Payload>) { // issued cookies come in replies
                g.jar.resize(std::max<std::size_t>(4, 2 * config_.fanout));
            }
            g.proven = detail::proven_addresses<address_type>(std::max<std::size_t>(8, config_.view_size / 2));
            g.cookie_key = draw_cookie_key(seed);
        }
        if constexpr (needs_outbox) {
            outbox_ = outbox<address_type>(address(), config_.max_message_bytes);
        }
        if constexpr (payload_with_start<Payload, address_type>) {
            payload_.start(
                payload_context<address_type>{address(), mix_seed(seed, 2), config_.period, config_.max_message_bytes});
        }
    }

    /// Adds peers to know at start (or after a restart): fresh descriptors, skipping our own
    /// address and those already known, up to c. While a seed is in the view, it is retried
    /// like any peer until it answers; the first max_seeds are also remembered, to be contacted
    /// again every config::seed_refresh periods when not in the view. A payload that contacts
    /// seeds itself
    /// (payload_with_join: SWIM) is handed them too, and what it sends leaves at once.
    void join(std::span<const address_type> contacts)
    {
        if (config_.seed_refresh != 0) {
            if (!seeds_) {
                seeds_.emplace();
            }
            auto& seeds = seeds_->addresses;
            for (const auto& a : contacts) {
                if (seeds.size() < max_seeds && !(a == address()) &&
                    std::find(seeds.begin(), seeds.end(), a) == seeds.end()) {
                    seeds.push_back(a);
                }
            }
        }
        auto& v = view_.storage();
        for (const auto& a : contacts) {
            if (v.size() >= config_.view_size) {
                break;
            }
            if (!(a == address()) && !view_.contains(a)) {
                v.push_back(descriptor_type{a, 0});
            }
        }
        if constexpr (payload_with_join<Payload, address_type>) {
            payload_.join(contacts, now(), outbox_);
            after_payload();
        }
    }

    /// When the payload's next timer is due, on the node's clock (see now()); nanoseconds::max()
    /// when it has none, or keeps no timers. Drivers wake the node then and call on_timer().
    [[nodiscard]] std::chrono::nanoseconds next_timer() const
    {
        if constexpr (payload_with_messages<Payload, address_type>) {
            return payload_.next_deadline();
        } else {
            return std::chrono::nanoseconds::max();
        }
    }

    /// Runs the payload's timers that are due (a probe timeout, say) and sends what they queued.
    /// Harmless when nothing is due.
    void on_timer()
    {
        if constexpr (payload_with_messages<Payload, address_type>) {
            payload_.on_timer(now(), outbox_);
            after_payload();
        }
    }

    /// Announces that this node leaves, when its payload can (payload_with_leave): a payload that
    /// talks on its own sends the news at once; others send it with the next periods.
    void leave()
    {
        if constexpr (payload_with_leave<Payload>) {
            payload_.leave();
        }
        on_timer();
    }

    /// The active side: one period's exchanges. The view ages once a cycle, where
    /// config::aging says: after the reply is merged (Jelasity et al.'s order, the default; at
    /// the next cycle if no reply came), or before the peers are selected.
    void tick()
    {
        ++stats_.cycles;
        if (config_.aging == view_aging::cycle_start || replies_awaited_ > 0) {
            replies_awaited_ = 0; // given up
            age_view();
        }
        aged_by_reply_ = false;
        active_exchanges();
        if (config_.aging == view_aging::after_exchange && replies_awaited_ == 0 && !aged_by_reply_) {
            age_view(); // nothing to wait for: the exchange ended with the sending
        }
    }

private:
    void active_exchanges()
    {
        if constexpr (payload_with_period<Payload>) {
            payload_.on_period(now());
            after_payload();
        }
        if constexpr (payload_with_exchange_gate<Payload>) {
            if (!payload_.wants_exchange()) {
                return;
            }
        }
        if (seeds_ && !seeds_->addresses.empty() && ++seeds_->periods_since >= config_.seed_refresh) {
            contact_seed();
        }
        if (view_.empty()) {
            return;
        }
        struct chosen_tag {};
        struct targets_tag {};
        detail::scratch_vector<std::size_t, chosen_tag> chosen_lease;
        detail::scratch_vector<address_type, targets_tag> targets_lease;
        auto& chosen = chosen_lease.get();
        auto& targets = targets_lease.get();
        chosen.resize(config_.fanout);
        const std::size_t n = std::min(peers_.select(view_.descriptors(), std::span(chosen), rng_), chosen.size());
        targets.clear();
        for (std::size_t i = 0; i < n; ++i) {
            // Trust but verify: a user's policy may hand back nonsense.
            if (chosen[i] < view_.size()) {
                targets.push_back(view_[chosen[i]].address);
                if constexpr (transport_with_send_hint<Transport>) {
                    transport_.expect_send(targets.back());
                }
            }
        }
        if (Propagation::pulls && config_.aging == view_aging::after_exchange) {
            // Before sending: a transport may deliver the reply within send().
            replies_awaited_ = static_cast<std::uint32_t>(targets.size());
        }
        for (const auto& target : targets) {
            send_message(target, wire::message_kind::request, Propagation::pushes);
        }
    }

public:
    /// The passive side, and the active side's half of a round trip: one received datagram.
    /// Anything malformed or unexpected is counted and dropped; it never reaches the view.
    void on_datagram(const address_type& from, std::span<const std::byte> bytes)
    {
        stats_.bytes_received += bytes.size();
        // What this datagram draws back to `from` is bounded until `from` has proven it
        // receives there: a forged source address gets no amplifier.
        const answer_scope scope(*this, from, bytes.size());
        if constexpr (transport_with_inbound<Transport>) {
            const bool passed =
                transport_.inbound(from, bytes, [&](std::span<const std::byte> inside) { on_message(from, inside); });
            if (!passed) {
                ++stats_.dropped_by_transport;
            }
        } else {
            on_message(from, bytes);
        }
    }

    /// The most seeds join() remembers.
    static constexpr std::size_t max_seeds = 16;

private:
    // One exchange with the next seed, in turn, that is not in the view: the way back into a
    // cluster this node has lost track of.
    void contact_seed()
    {
        auto& m = *seeds_;
        m.periods_since = 0;
        for (std::size_t k = 0; k < m.addresses.size(); ++k) {
            const address_type seed = m.addresses[m.next++ % m.addresses.size()];
            if (!view_.contains(seed)) {
                ++stats_.seed_contacts;
                send_message(seed, wire::message_kind::request, Propagation::pushes);
                return;
            }
        }
    }

    // A datagram that passed the transport's inbound check (if it has one).
    void on_message(const address_type& from, std::span<const std::byte> bytes)
    {
        // The view is needed after decoding: start loading it now (a hint, free when cached).
        detail::prefetch(view_.descriptors().data(), view_.descriptors().size_bytes());
        struct sample_tag {};
        detail::scratch_vector<descriptor_type, sample_tag> sample_lease;
        auto& sample = sample_lease.get();
        // A peer with a larger c sends a larger buffer: accept it (merge trims to our c), up to
        // the most any sender could mean.
        const auto msg = wire::decode<address_type>(bytes, max_view_size, sample);
        if (msg.error != wire::decode_error::none) {
            ++stats_.dropped_malformed;
            return;
        }
        if (msg.kind == wire::message_kind::direct) {
            on_direct(from, msg.sender, msg.payload);
            return;
        }
        const bool request = msg.kind == wire::message_kind::request;
        // A reply comes only to a node that pulls or whose payload asks for answers; only such
        // a payload holds conversations of follow-ups.
        const bool expected =
            request || (msg.kind == wire::message_kind::reply && Propagation::pulls) || payload_with_replies<Payload>;
        if (msg.sender == address() || !expected) {
            ++stats_.dropped_unexpected;
            return;
        }
        take_cookies(from, msg.carried);
        wire::reader section(msg.payload);
        const bool read = payload_.read(section, msg.kind);
        after_payload();
        if (!read) {
            ++stats_.dropped_malformed;
            return;
        }
        ++stats_.accepted;
        if (request && Propagation::pulls) {
            send_message(from, wire::message_kind::reply, true);
        } else if (payload_wants_reply()) {
            send_message(from, request ? wire::message_kind::reply : wire::message_kind::follow_up, false);
        }
        // Merge what this composition exchanges: a request's view under push, a reply's under
        // pull. A view from a peer composed otherwise is ignored.
        if (msg.has_view && (request ? Propagation::pushes : Propagation::pulls)) {
            sample.push_back(descriptor_type{msg.sender, 0});
            sanitize(sample);
            views_.merge(view_, std::span<const descriptor_type>(sample), config_, rng_);
            // The check is quadratic in c: worth it for the views of tests, not for c in the hundreds.
            assert(view_.size() > 128 || view_.well_formed(address(), config_.view_size));
        }
        if (request) {
            age_view();
        } else if (msg.kind == wire::message_kind::reply && replies_awaited_ > 0 && --replies_awaited_ == 0) {
            age_view(); // the last reply of this cycle's exchanges is in: the active side ages
            aged_by_reply_ = true;
        }
    }

public:
    /// The peer sampling service itself (getPeer() in Jelasity et al.): a peer drawn uniformly
    /// from the current view, or nothing while the view is empty. It draws from a random source
    /// of its own, seeded from the node's seed: a run stays reproducible, and asking for samples
    /// never changes the protocol's own choices.
    [[nodiscard]] std::optional<address_type> random_peer()
    {
        if (view_.empty()) {
            return std::nullopt;
        }
        return view_[uniform_index(sampling_rng_, view_.size())].address;
    }

    [[nodiscard]] address_type address() const { return transport_.local_address(); }

    /// The node's clock: the transport's when it keeps time (simulated time in a simulator),
    /// std::chrono::steady_clock otherwise.
    [[nodiscard]] std::chrono::nanoseconds now() const
    {
        if constexpr (transport_with_clock<Transport>) {
            return transport_.now();
        } else {
            return std::chrono::duration_cast<std::chrono::nanoseconds>(
                std::chrono::steady_clock::now().time_since_epoch());
        }
    }
    [[nodiscard]] const view_type& view() const noexcept { return view_; }
    [[nodiscard]] const config& configuration() const noexcept { return config_; }
    [[nodiscard]] const node_statistics& statistics() const noexcept { return stats_; }

    [[nodiscard]] Transport& transport() noexcept { return transport_; }
    [[nodiscard]] const Transport& transport() const noexcept { return transport_; }
    [[nodiscard]] Payload& payload() noexcept { return payload_; }
    [[nodiscard]] const Payload& payload() const noexcept { return payload_; }
    [[nodiscard]] PeerSelection& peer_selection() noexcept { return peers_; }
    [[nodiscard]] ViewSelection& view_selection() noexcept { return views_; }
    [[nodiscard]] random_engine& random() noexcept { return rng_; }

private:
    static constexpr bool talks_on_its_own = payload_with_messages<Payload, address_type>;
    static constexpr bool needs_outbox = talks_on_its_own || payload_with_join<Payload, address_type>;
    /// Whether anything ever goes back to the sender of a datagram: only then is it bounded.
    static constexpr bool answers = Propagation::pulls || payload_with_replies<Payload> || needs_outbox;
    struct no_outbox {};

    void on_direct(const address_type& from, const address_type& sender, std::span<const std::byte> section_bytes)
    {
        if constexpr (talks_on_its_own) {
            if (sender == address()) {
                ++stats_.dropped_unexpected;
                return;
            }
            wire::reader section(section_bytes);
            const bool read = payload_.receive(from, section, now(), outbox_);
            after_payload();
            if (!read) {
                ++stats_.dropped_malformed;
                return;
            }
            ++stats_.accepted;
        } else {
            // Only a payload that talks on its own is ever sent direct messages.
            (void)from;
            (void)sender;
            (void)section_bytes;
            ++stats_.dropped_unexpected;
        }
    }

    // After every call into the payload: what it sent leaves, and what it learned of members
    // reaches the view.
    void after_payload()
    {
        if constexpr (needs_outbox) {
            stats_.answers_limited += outbox_.take_limited();
            outbox_.take_proven([this](const address_type& a) {
                if (guard_) {
                    guard_->proven.add(a);
                }
            });
            outbox_.drain([this](const address_type& to, std::span<const std::byte> bytes) {
                if (!transport_.send(to, bytes)) {
                    ++stats_.send_failures;
                    return;
                }
                ++stats_.messages_sent;
                stats_.bytes_sent += bytes.size();
            });
        }
        if constexpr (payload_with_peer_changes<Payload, address_type>) {
            payload_.take_peer_changes([this](const address_type& a, bool up) { feed_view(a, up); });
        }
    }

    // A member came up: into the view while there is room, and then in place of a uniformly
    // drawn descriptor with probability c / (members seen), so that the view stays a uniform
    // sample of them (reservoir sampling). A member went down: out of the view.
    void feed_view(const address_type& a, bool up)
    {
        if (a == address()) {
            return;
        }
        auto& v = view_.storage();
        const auto it = std::find_if(v.begin(), v.end(), [&](const descriptor_type& d) { return d.address == a; });
        if (!up) {
            if (it != v.end()) {
                v.erase(it);
            }
            return;
        }
        if (it != v.end()) {
            it->age = 0;
            return;
        }
        ++members_fed_;
        if (v.size() < config_.view_size) {
            v.push_back(descriptor_type{a, 0});
            return;
        }
        const std::uint64_t j =
            uniform_below(rng_, static_cast<std::uint32_t>(
                                    std::min<std::uint64_t>(members_fed_, std::numeric_limits<std::uint32_t>::max())));
        if (j < v.size()) {
            v[j] = descriptor_type{a, 0};
        }
    }

    [[nodiscard]] bool sources_authentic() const
    {
        if constexpr (transport_with_source_authenticity<Transport>) {
            return transport_.sources_authentic();
        } else {
            return false;
        }
    }

    [[nodiscard]] bool payload_wants_reply() const
    {
        if constexpr (payload_with_replies<Payload>) {
            return payload_.wants_reply();
        } else {
            return false;
        }
    }

    void send_message(const address_type& to, wire::message_kind kind, bool with_view)
    {
        struct buffer_tag {};
        detail::scratch_vector<std::byte, buffer_tag> buffer_lease;
        auto& buffer = buffer_lease.get();
        auto& bound = budget();
        const bool limited = unproven(to);
        const std::size_t room = bound ? bound->room(to, config_.max_message_bytes) : config_.max_message_bytes;
        buffer.resize(room);
        wire::writer w{std::span(buffer)};
        bool encoded = false;
        const auto write_payload = [&](wire::writer& out) { payload_.write(out, kind); };
        const wire::cookies carried = cookies_for(to);
        if (with_view) {
            const std::size_t n = views_.prepare(view_, buffer_limit_, config_, rng_);
            const std::size_t cookie_bytes = (carried.echoed ? 8 : 0) + (carried.issued ? 8 : 0);
            const std::size_t fit =
                limited || cookie_bytes > 0
                    ? wire::descriptors_that_fit<address_type>(room > cookie_bytes ? room - cookie_bytes : 0)
                    : buffer_limit_;
            const auto sent = view_.descriptors().first(std::min({n, buffer_limit_, fit, view_.size()}));
            encoded = wire::encode(w, kind, address(), &sent, write_payload, carried);
        } else {
            encoded = wire::encode<address_type>(w, kind, address(), nullptr, write_payload, carried);
        }
        if (!encoded && limited) {
            ++stats_.answers_limited;
            return;
        }
        if (!encoded || !transport_.send(to, w.written())) {
            ++stats_.send_failures;
            return;
        }
        if (bound) {
            bound->spend(to, w.size());
        }
        ++stats_.messages_sent;
        stats_.bytes_sent += w.size();
    }

    // --- address cookies (see max_amplification) ----------------------------------------------
    // A node answering an address it has not seen answer it issues a cookie for that address:
    // SipHash of the address and the minute under a key of its own. Whoever echoes the cookie
    // back receives at that address, so the node answers it in full from then on (for two
    // minutes at most, then it issues another). It keeps nothing per stranger: the cookie is
    // checked by computing it again. Cookies it was issued are kept in a small jar, one per
    // peer, and echoed with everything it sends that peer.
    [[nodiscard]] std::uint64_t cookie_for(const address_type& a, std::uint32_t minute) const
    {
        std::array<std::byte, wire::codec<address_type>::max_size + 4> input{};
        wire::writer w{std::span(input)};
        wire::codec<address_type>::write(w, a);
        w.u32(minute);
        return crypto::siphash24(guard_->cookie_key, w.written());
    }

    [[nodiscard]] std::uint32_t minute_now() const
    {
        return static_cast<std::uint32_t>(std::chrono::duration_cast<std::chrono::minutes>(now()).count());
    }

    [[nodiscard]] wire::cookies cookies_for(const address_type& to)
    {
        wire::cookies c;
        if (!guard_) {
            return c;
        }
        const auto fresh = now() - std::chrono::minutes{1};
        for (const auto& e : guard_->jar) {
            if (e.used && e.from == to && e.at > fresh) {
                c.echoed = e.cookie;
                break;
            }
        }
        if (unproven(to)) {
            c.issued = cookie_for(to, minute_now());
        }
        return c;
    }

    void take_cookies(const address_type& from, const wire::cookies& carried)
    {
        if (!guard_) {
            return;
        }
        auto& jar = guard_->jar;
        if (carried.issued && !jar.empty()) {
            auto it =
                std::find_if(jar.begin(), jar.end(), [&](const jar_entry& e) { return e.used && e.from == from; });
            if (it == jar.end()) {
                it = jar.begin() + static_cast<std::ptrdiff_t>(guard_->jar_next++ % jar.size());
            }
            *it = jar_entry{from, *carried.issued, now(), true};
        }
        if (carried.echoed && unproven(from)) {
            const std::uint32_t minute = minute_now();
            if (*carried.echoed == cookie_for(from, minute) || *carried.echoed == cookie_for(from, minute - 1)) {
                guard_->proven.add(from);
                lift_answer_bound();
            }
        }
    }

    // From the seed alone on simulated time, so that a run replays; mixed with the system's
    // random source on a real network, so that nobody can compute another's cookies from a
    // seed that was left at its default.
    [[nodiscard]] static crypto::siphash_key draw_cookie_key(std::uint64_t seed)
    {
        std::uint64_t k0 = mix_seed(seed, 0x636f6f6b6965);
        std::uint64_t k1 = mix_seed(seed, 0x6b6579);
        if constexpr (!transport_with_clock<Transport>) {
            std::random_device device;
            k0 ^= (std::uint64_t{device()} << 32U) | device();
            k1 ^= (std::uint64_t{device()} << 32U) | device();
        }
        crypto::siphash_key key{};
        for (std::size_t i = 0; i < 8; ++i) {
            key[i] = static_cast<std::byte>(k0 >> (8 * i));
            key[8 + i] = static_cast<std::byte>(k1 >> (8 * i));
        }
        return key;
    }

    void lift_answer_bound() { budget().reset(); }

    // While a datagram from an address not proven yet is handled: what may go back to it, in
    // the outbox when the node has one (so that the payload's sends spend from it too).
    [[nodiscard]] std::optional<detail::answer_budget<address_type>>& budget() noexcept
    {
        if constexpr (needs_outbox) {
            return outbox_.budget();
        } else {
            if (guard_) {
                return guard_->budget;
            }
            // Never engaged: only a guarded node bounds its answers.
            thread_local std::optional<detail::answer_budget<address_type>> unbounded;
            return unbounded;
        }
    }

    [[nodiscard]] bool unproven(const address_type& a) noexcept
    {
        const auto& bound = budget();
        return bound && bound->to == a;
    }

    class answer_scope {
    public:
        answer_scope(gossip_node& node, const address_type& from, std::size_t received) : node_(node)
        {
            if (!node_.guard_ || node_.budget() || node_.guard_->proven.contains(from)) {
                return; // never answers; nested (a transport that delivers at once); or proven
            }
            owner_ = true;
            node_.budget() = detail::answer_budget<address_type>{from, max_amplification * received};
        }
        answer_scope(const answer_scope&) = delete;
        answer_scope& operator=(const answer_scope&) = delete;
        ~answer_scope()
        {
            if (owner_) {
                node_.lift_answer_bound();
            }
        }

    private:
        gossip_node& node_;
        bool owner_ = false;
    };

    // Once a cycle on each side of an exchange. (A loop with a branch per descriptor, kept here
    // for fear of how GCC 12 vectorises view::increase_age, measured no faster in a round and
    // ran 167 more instructions per node-cycle.)
    void age_view() noexcept { view_.increase_age(); }

    // Our own address out; of an address given twice, the youngest copy stays, where the first
    // copy was. One hash per descriptor; the scan runs only when the filter has seen the hash.
    void sanitize(std::vector<descriptor_type>& sample) const
    {
        const auto self = address();
        detail::presence_filter<address_type> seen;
        descriptor_type* data = sample.data();
        const std::size_t n = sample.size();
        std::size_t kept = 0;
        // One hash per descriptor, which spares most comparisons with this node's address and
        // then feeds the filter.
        std::uint64_t self_hash = 0;
        if constexpr (detail::hashable_address<address_type>) {
            self_hash = detail::address_hash(self);
        }
        for (std::size_t i = 0; i < n; ++i) {
            const auto& d = data[i];
            bool maybe_repeat = true;
            if constexpr (detail::hashable_address<address_type>) {
                const std::uint64_t h = detail::address_hash(d.address);
                if (h == self_hash && d.address == self) {
                    continue;
                }
                maybe_repeat = seen.test_and_insert_hash(h);
            } else if (d.address == self) {
                continue;
            }
            if (maybe_repeat) {
                descriptor_type* const last = data + kept;
                descriptor_type* const it =
                    std::find_if(data, last, [&](const auto& e) { return e.address == d.address; });
                if (it != last) {
                    it->age = std::min(it->age, d.age);
                    continue;
                }
            }
            // Not onto itself: while nothing was dropped, each descriptor stays where it is (a
            // copy onto itself waits for its own stores).
            if (kept != i) {
                data[kept] = d;
            }
            ++kept;
        }
        sample.resize(kept);
    }

    Transport transport_;
    [[no_unique_address]] PeerSelection peers_;
    [[no_unique_address]] ViewSelection views_;
    [[no_unique_address]] Payload payload_;
    config config_;
    random_engine rng_;
    random_engine sampling_rng_;
    std::size_t buffer_limit_;
    view_type view_;
    node_statistics stats_;
    struct seed_memory {
        std::vector<address_type> addresses; // from join(), at most max_seeds
        std::size_t next = 0;
        std::size_t periods_since = 0;
    };
    detail::boxed<seed_memory> seeds_;  ///< only with config::seed_refresh
    std::uint32_t replies_awaited_ = 0; ///< view_aging::after_exchange: this cycle's replies not yet merged
    bool aged_by_reply_ = false;        ///< ...and the last of them came within tick()
    [[no_unique_address]] std::conditional_t<needs_outbox, outbox<address_type>, no_outbox> outbox_{};
    struct no_count {};
    /// Members that came up, for the view's reservoir sample (payloads that report members).
    [[no_unique_address]] std::conditional_t<payload_with_peer_changes<Payload, address_type>, std::uint64_t, no_count>
        members_fed_{};
    struct jar_entry {
        address_type from{};
        std::uint64_t cookie = 0;
        std::chrono::nanoseconds at{0};
        bool used = false;
    };
    // The defences against forged sources: only for a node that answers, on a transport that
    // cannot vouch for sources (see transport_with_source_authenticity).
    struct source_guard {
        /// Cookies peers issued this node, newest replacing oldest; empty when no answer ever comes.
        std::vector<jar_entry> jar;
        std::size_t jar_next = 0;
        detail::proven_addresses<address_type> proven;
        crypto::siphash_key cookie_key{};
        /// The answer budget of a node without an outbox (see budget()).
        std::optional<detail::answer_budget<address_type>> budget;
    };
    detail::boxed<source_guard> guard_;
};

} // namespace gossip
