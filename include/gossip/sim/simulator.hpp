#pragma once

// Many nodes in one process over an in_memory_network, in synchronous rounds as the papers run
// them: each round every live node, in a fresh random order, starts its exchanges, and each
// exchange runs to completion before the next node's (unless the network delays it). A seed
// fixes everything: the same seed gives the same views, traffic and figures.
//
// run_synchronous_round() is the other order, spread over threads: every node ticks on the
// round's state, then the datagrams travel in waves. It gives the same run for a seed whatever
// the thread count; two threads ran a 10^6-node round 1.9 times as fast as one.

#include "../config.hpp"
#include "../detail/huge_page_allocator.hpp"
#include "../detail/prefetch.hpp"
#include "../random.hpp"
#include "../transport/in_memory.hpp"
#include "overlay_metrics.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <barrier>
#include <chrono>
#include <cmath>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <latch>
#include <memory>
#include <mutex>
#include <span>
#include <stdexcept>
#include <string>
#include <thread>
#include <type_traits>
#include <vector>

namespace gossip::detail {

// How both simulators seed their network and their nodes, from the run's seed (a node's
// generation counts its restarts).
[[nodiscard]] inline transport::network_options simulated_network(transport::network_options net, std::uint64_t seed)
{
    net.seed = mix_seed(seed, net.seed);
    return net;
}

[[nodiscard]] inline std::uint64_t simulated_node_seed(std::uint64_t seed, std::uint64_t generation,
                                                       std::size_t node) noexcept
{
    return mix_seed(mix_seed(seed, generation), node);
}

} // namespace gossip::detail

namespace gossip::sim {

/// Bootstrap: every view starts with c distinct, uniformly random other nodes.
struct random_graph {};

/// Bootstrap: a ring lattice; every node knows its c/2 nearest neighbours on each side.
struct lattice {};

/// Bootstrap: a network that grows; each new node knows one node that joined before it.
/// joins_per_round = 0 puts every node in at once; otherwise the first node starts alone and
/// that many join at the start of each round.
struct growing {
    std::size_t joins_per_round = 0;
};

// clang-format 14 mangles concepts and requires-clauses: kept as written.
// clang-format off
/// A reference to something small the simulator may copy to ask it a question without changing
/// it: trivially copyable, so that the copy shares nothing with the original.
template <class T>
concept small_copyable_reference = std::is_lvalue_reference_v<T> &&
                                   std::is_trivially_copy_constructible_v<std::remove_cvref_t<T>> &&
                                   std::is_trivially_copyable_v<std::remove_cvref_t<T>> &&
                                   sizeof(std::remove_cvref_t<T>) <= 64;

/// A node whose peer selection run_round() may ask ahead, on copies, whom it would contact.
template <class Node>
concept guessable_peers = requires(Node& node, std::span<std::size_t> chosen) {
    { node.peer_selection() } -> small_copyable_reference;
    { node.random() } -> small_copyable_reference;
    { node.peer_selection().select(node.view().descriptors(), chosen, node.random()) }
        -> std::same_as<std::size_t>;
};

/// A node type the simulator can drive: a gossip_node over the in-memory transport.
template <class Node>
concept simulated_node =
    std::same_as<typename Node::address_type, transport::in_memory_address> &&
    std::constructible_from<Node, transport::in_memory, const config&, std::uint64_t> && std::movable<Node> &&
    requires(Node& node, const Node& cnode, std::span<const transport::in_memory_address> contacts,
             std::span<const std::byte> bytes) {
        node.tick();
        node.on_datagram(transport::in_memory_address{}, bytes);
        node.join(contacts);
        cnode.view().descriptors();
    };
// clang-format on

/// N nodes over one in_memory_network in synchronous rounds (see the header comment): for
/// studying a protocol at scale, with failures, reproducibly from a seed.
template <simulated_node Node>
class simulator {
public:
    using node_type = Node;
    using address = transport::in_memory_address;

    simulator(std::size_t nodes, const config& cfg, std::uint64_t seed, const transport::network_options& net = {})
        : simulator(nodes, cfg, seed, net,
                    [](transport::in_memory endpoint, const config& c, std::uint64_t node_seed, std::size_t) {
                        return Node(endpoint, c, node_seed);
                    })
    {
    }

    // clang-format off
    /// As above, with each node's payload made by make_payload(i): a rumor_set with the options
    /// under study, say, or one that reports deliveries to the experiment.
    template <class PayloadFactory>
        requires std::invocable<PayloadFactory&, std::size_t>
    // clang-format on
    simulator(std::size_t nodes, const config& cfg, std::uint64_t seed, const transport::network_options& net,
              PayloadFactory make_payload)
        : simulator(nodes, cfg, seed, net,
                    [make = std::move(make_payload)](transport::in_memory endpoint, const config& c,
                                                     std::uint64_t node_seed, std::size_t i) mutable {
                        return Node(endpoint, c, node_seed, typename Node::peer_selection_type{},
                                    typename Node::view_selection_type{}, make(i));
                    })
    {
    }

    // --- bootstrapping ----------------------------------------------------------------------
    void bootstrap(random_graph /*topology*/)
    {
        const std::size_t n = nodes_.size();
        const std::size_t want = n > 0 ? std::min(config_.view_size, n - 1) : 0;
        std::vector<address> contacts;
        std::vector<std::uint32_t> everyone;
        for (std::size_t i = 0; i < n; ++i) {
            contacts.clear();
            if (want * 4 < n) {
                // Rejection is cheap while c is far below n.
                while (contacts.size() < want) {
                    const address a{static_cast<std::uint32_t>(uniform_index(rng_, n))};
                    if (a.index != i && std::find(contacts.begin(), contacts.end(), a) == contacts.end()) {
                        contacts.push_back(a);
                    }
                }
            } else {
                // c close to n: draw from the others directly.
                everyone.clear();
                for (std::size_t j = 0; j < n; ++j) {
                    if (j != i) {
                        everyone.push_back(static_cast<std::uint32_t>(j));
                    }
                }
                partial_shuffle(std::span(everyone), want, rng_);
                for (std::size_t j = 0; j < want; ++j) {
                    contacts.push_back(address{everyone[j]});
                }
            }
            nodes_[i].join(contacts);
        }
    }

    void bootstrap(lattice /*topology*/)
    {
        // The nearest c/2 on each side; on a small ring the two sides meet, and join() skips
        // the repeats, so that every node still knows min(c, n - 1) others.
        const std::size_t n = nodes_.size();
        const std::size_t half = std::min((config_.view_size + 1) / 2, n / 2);
        std::vector<address> contacts;
        for (std::size_t i = 0; i < n; ++i) {
            contacts.clear();
            for (std::size_t d = 1; d <= half; ++d) {
                contacts.push_back(address{static_cast<std::uint32_t>((i + d) % n)});
                contacts.push_back(address{static_cast<std::uint32_t>((i + n - d) % n)});
            }
            nodes_[i].join(contacts);
        }
    }

    void bootstrap(growing topology)
    {
        const std::size_t n = nodes_.size();
        if (topology.joins_per_round == 0) {
            for (std::size_t i = 1; i < n; ++i) {
                join_one(i, i);
            }
            return;
        }
        joins_per_round_ = topology.joins_per_round;
        joined_ = std::min<std::size_t>(1, n);
        for (std::size_t i = joined_; i < n; ++i) {
            network_->crash(address{static_cast<std::uint32_t>(i)});
        }
    }

    // --- running ----------------------------------------------------------------------------
    /// One round: time advances by one period, due datagrams arrive, then every live node in a
    /// fresh random order ticks, each exchange delivered before the next node's turn.
    void run_round()
    {
        network_->advance(std::chrono::duration_cast<std::chrono::nanoseconds>(config_.period));
        ++round_;
        admit_joiners();
        deliver_due();
        shuffle(std::span(order_), rng_);
        const std::size_t n = order_.size();
        // At a million nodes every node and view a turn touches is a cache miss, unless asked
        // for a few turns ahead: a turn (one exchange) lasts far longer than a load. The
        // visiting order is known, so the node four turns ahead is requested, then its view;
        // the peer it will most likely contact is worked out from that view two turns ahead,
        // and that peer's node and then its view requested in turn. Below look_ahead_from the
        // guess cost more than it saved (measured at 10^4 nodes).
        const bool ahead = n >= look_ahead_from;
        std::uint32_t peer_next = no_peer; // the likely peer of order_[k + 1]
        for (std::size_t k = 0; k < n; ++k) {
            if (ahead) {
                if (k + 4 < n) {
                    prefetch_node(nodes_.data(), order_[k + 4]);
                    network_->prefetch_state(address{order_[k + 4]});
                }
                if (k + 3 < n) {
                    prefetch_view(order_[k + 3]);
                }
                if (peer_next != no_peer) {
                    prefetch_view(peer_next);
                }
                peer_next = k + 2 < n ? likely_peer(order_[k + 2]) : no_peer;
                if (peer_next != no_peer) {
                    prefetch_node(nodes_.data(), peer_next);
                    network_->prefetch_state(address{peer_next});
                }
            } else {
                if (k + 2 < n) {
                    prefetch_node(nodes_.data(), order_[k + 2]);
                }
                if (k + 1 < n) {
                    prefetch_view(order_[k + 1]);
                }
            }
            const auto i = order_[k];
            if (network_->is_up(address{i})) {
                nodes_[i].tick();
                deliver_due();
            }
        }
    }

    void run(std::size_t rounds)
    {
        for (std::size_t r = 0; r < rounds; ++r) {
            run_round();
        }
    }

    /// One round in synchronous order, spread over `threads` threads (0: one per hardware
    /// thread). Every live node ticks as the round begins, each seeing only its own state; then
    /// the datagrams sent travel in waves: each wave hands every node what the previous one
    /// sent it, in order of sender index and sending order, until none is left (or max_waves
    /// have run: what is still in flight then goes through the network's queue and arrives
    /// when the next round begins, its answers judged by the network's own stream). A request's
    /// answer therefore arrives a wave after the request, and a node answers the requests of a
    /// round with the view it ticked with plus what earlier waves brought. Loss is decided per
    /// datagram from the seed, the round, the wave and the datagram's place in that order, so a
    /// seed gives the same run whatever the thread count (not the same run as run_round(),
    /// whose order is sequential). Needs a network that delivers at once (no delay or jitter:
    /// std::logic_error otherwise). Payload handlers run on several threads, one node each.
    void run_synchronous_round(std::size_t threads = 0)
    {
        if (!network_->immediate()) {
            throw std::logic_error("simulator::run_synchronous_round: the network delays datagrams; a synchronous "
                                   "round needs them delivered at once (use run_round)");
        }
        network_->advance(std::chrono::duration_cast<std::chrono::nanoseconds>(config_.period));
        ++round_;
        admit_joiners();
        deliver_due();
        synchronous_round(threads);
    }

    /// `rounds` synchronous rounds (see run_synchronous_round).
    void run_synchronous(std::size_t rounds, std::size_t threads = 0)
    {
        for (std::size_t r = 0; r < rounds; ++r) {
            run_synchronous_round(threads);
        }
    }

    /// Runs `rounds` rounds, calling observer(*this) after each.
    template <std::invocable<simulator&> Observer>
    void run(std::size_t rounds, Observer&& observer)
    {
        for (std::size_t r = 0; r < rounds; ++r) {
            run_round();
            observer(*this);
        }
    }

    /// Delays every datagram by `rounds` rounds (periods), plus up to `jitter_rounds` more at
    /// random. A datagram delayed by d >= 1 rounds arrives at the start of the round d later.
    void set_delay_in_rounds(std::size_t rounds, std::size_t jitter_rounds = 0)
    {
        const auto period = std::chrono::duration_cast<std::chrono::nanoseconds>(config_.period);
        network_->set_delay(period * static_cast<std::int64_t>(rounds),
                            period * static_cast<std::int64_t>(jitter_rounds));
    }

    // --- failures ---------------------------------------------------------------------------
    void crash(std::size_t i) { network_->crash(address_of(i)); }

    /// Crashes round(fraction * live) live nodes chosen uniformly; returns how many.
    std::size_t crash_fraction(double fraction)
    {
        if (!(fraction >= 0.0 && fraction <= 1.0)) {
            throw std::invalid_argument("simulator::crash_fraction: fraction must be within [0, 1]");
        }
        std::vector<std::uint32_t> live;
        for (std::size_t i = 0; i < nodes_.size(); ++i) {
            if (is_up(i)) {
                live.push_back(static_cast<std::uint32_t>(i));
            }
        }
        const auto k = static_cast<std::size_t>(std::llround(fraction * static_cast<double>(live.size())));
        partial_shuffle(std::span(live), k, rng_);
        for (std::size_t j = 0; j < k; ++j) {
            crash(live[j]);
        }
        return k;
    }

    /// Brings node i back with fresh state (a new process), knowing `contacts`.
    void restart(std::size_t i, std::span<const address> contacts)
    {
        const auto a = address_of(i);
        nodes_[i] =
            make_node_(network_->endpoint(a), config_, gossip::detail::simulated_node_seed(seed_, ++restarts_, i), i);
        nodes_[i].join(contacts);
        network_->restart(a);
    }

    // --- observation ------------------------------------------------------------------------
    [[nodiscard]] std::size_t size() const noexcept { return nodes_.size(); }
    [[nodiscard]] std::size_t round() const noexcept { return round_; }
    [[nodiscard]] bool is_up(std::size_t i) const noexcept { return network_->is_up(address_of_unchecked(i)); }
    [[nodiscard]] Node& node(std::size_t i) { return nodes_.at(i); }
    [[nodiscard]] const Node& node(std::size_t i) const { return nodes_.at(i); }
    /// From this many nodes on, run_round() guesses each node's peer a few turns ahead, to
    /// have the peer's memory loaded in time: from copies of the node's peer selection and
    /// random source, when both are small and trivially copyable (as the library's are), so
    /// that the guess touches nothing but the copies. Only loads depend on the guess: a run is
    /// the same either way, provided that select() on a copy changes nothing outside it (see
    /// peer_selection_policy).
    static constexpr std::size_t look_ahead_from = std::size_t{1} << 16U;

    /// Whether run_round() guesses this node type's peers ahead (above).
    static constexpr bool guesses_peers = guessable_peers<Node>;

    [[nodiscard]] std::span<Node> nodes() noexcept { return nodes_; }
    [[nodiscard]] std::span<const Node> nodes() const noexcept { return nodes_; }
    [[nodiscard]] transport::in_memory_network& network() noexcept { return *network_; }
    [[nodiscard]] const transport::in_memory_network& network() const noexcept { return *network_; }
    [[nodiscard]] const config& configuration() const noexcept { return config_; }

    /// The overlay as a directed graph: node u links to every address in its view.
    [[nodiscard]] directed_graph overlay() const
    {
        directed_graph g;
        const std::size_t n = nodes_.size();
        g.live.resize(n);
        g.offsets.assign(n + 1, 0);
        std::size_t edges = 0;
        for (std::size_t u = 0; u < n; ++u) {
            edges += nodes_[u].view().size();
        }
        g.targets.reserve(edges);
        for (std::size_t u = 0; u < n; ++u) {
            g.live[u] = is_up(u) ? 1 : 0;
            for (const auto& d : nodes_[u].view().descriptors()) {
                if (d.address.index < n) {
                    g.targets.push_back(d.address.index);
                }
            }
            g.offsets[u + 1] = static_cast<std::uint32_t>(g.targets.size());
        }
        return g;
    }

    [[nodiscard]] overlay_metrics measure(const metrics_options& options = {}) const
    {
        return sim::measure(overlay(), options);
    }

private:
    using node_maker = std::function<Node(transport::in_memory, const config&, std::uint64_t, std::size_t)>;

    simulator(std::size_t nodes, const config& cfg, std::uint64_t seed, const transport::network_options& net,
              node_maker make_node)
        : network_(std::make_unique<transport::in_memory_network>(checked_size(nodes),
                                                                  gossip::detail::simulated_network(net, seed))),
          config_(validate(cfg)), seed_(seed), rng_(mix_seed(seed, 0x73696d)), joined_(nodes),
          make_node_(std::move(make_node))
    {
        nodes_.reserve(nodes);
        order_.reserve(nodes);
        for (std::size_t i = 0; i < nodes; ++i) {
            nodes_.push_back(make_node_(network_->endpoint(address_of_unchecked(i)), config_,
                                        gossip::detail::simulated_node_seed(seed_, 0, i), i));
            order_.push_back(static_cast<std::uint32_t>(i));
        }
        // The nodes' storage never moves after this (not even when the simulator does).
        network_->set_send_hint(&simulator::prefetch_node, nodes_.data());
    }

    static std::size_t checked_size(std::size_t nodes)
    {
        if (nodes > 0xFFFFFFFEULL) {
            throw std::invalid_argument("simulator: at most 2^32 - 2 nodes");
        }
        return nodes;
    }

    [[nodiscard]] address address_of(std::size_t i) const
    {
        if (i >= nodes_.size()) {
            throw std::out_of_range("simulator: no node " + std::to_string(i));
        }
        return address_of_unchecked(i);
    }

    [[nodiscard]] static address address_of_unchecked(std::size_t i) noexcept
    {
        return address{static_cast<std::uint32_t>(i)};
    }

    // Node i learns one uniformly chosen node among the first `among`.
    void join_one(std::size_t i, std::size_t among)
    {
        const address contact{static_cast<std::uint32_t>(uniform_index(rng_, among))};
        nodes_[i].join(std::span(&contact, 1));
    }

    void admit_joiners()
    {
        if (joins_per_round_ == 0) {
            return;
        }
        const std::size_t until = std::min(nodes_.size(), joined_ + joins_per_round_);
        for (; joined_ < until; ++joined_) {
            join_one(joined_, joined_);
            network_->restart(address_of_unchecked(joined_));
        }
    }

    // --- synchronous rounds over threads ------------------------------------------------------
    struct inbox_entry {
        std::uint32_t thread = 0;
        std::uint32_t index = 0; // into that thread's captured datagrams
    };

    /// The most waves a round runs; what is still in flight then arrives next round.
    static constexpr std::size_t max_waves = 64;

    void synchronous_round(std::size_t threads)
    {
        const std::size_t n = nodes_.size();
        std::size_t t = threads != 0 ? threads : std::max<std::size_t>(1, std::thread::hardware_concurrency());
        t = std::max<std::size_t>(1, std::min(t, n));
        for (auto& side : captures_) {
            side.resize(t);
            for (auto& c : side) {
                c.clear();
            }
        }
        buckets_.resize(t);
        for (auto& row : buckets_) {
            row.resize(t);
            for (auto& b : row) {
                b.clear();
            }
        }
        judged_.assign(t, transport::network_statistics{});
        inboxes_.resize(t);
        const auto lo = [&](std::size_t w) { return n * w / t; };
        // The thread whose range of nodes holds node x.
        const auto owner = [&](std::uint32_t x) {
            std::size_t w = std::min(t - 1, static_cast<std::size_t>(std::uint64_t{x} * t / n));
            while (w + 1 < t && lo(w + 1) <= x) {
                ++w;
            }
            while (lo(w) > x) {
                --w;
            }
            return w;
        };
        std::size_t wave = 0;
        std::size_t side = 0;      // captures_[side]: what the phase that just ended sent (for the
                                   // barrier's completion; each thread keeps its own copy)
        bool judging_done = false; // which half of a wave the barrier closes
        bool more = false;
        // Of the nodes that throw, the lowest index's exception is rethrown: the same one on any
        // number of threads. (A failure between phases counts as node n.)
        std::exception_ptr failure;
        std::size_t failed_at = n + 1;
        std::mutex failure_lock;
        const auto fail = [&](std::size_t at) {
            const std::scoped_lock lock(failure_lock);
            if (at < failed_at) {
                failed_at = at;
                failure = std::current_exception();
            }
        };
        const auto guarded = [&](std::size_t at, auto&& f) {
            try {
                f();
            } catch (...) {
                fail(at);
            }
        };
        // After every thread judged its own datagrams: the counts, whether any was delivered,
        // and, at the last wave, the leftovers handed to the ordinary queue in sending order.
        const auto after_judging = [&] {
            bool any = false;
            for (std::size_t w = 0; w < t; ++w) {
                network_->add_judged(judged_[w]);
                judged_[w] = {};
                for (std::size_t v = 0; v < t; ++v) {
                    any = any || !buckets_[w][v].empty();
                }
            }
            if (any && wave + 1 >= max_waves) {
                auto& sent = captures_[side];
                for (std::size_t w = 0; w < t; ++w) {
                    delivered_.clear();
                    for (auto& b : buckets_[w]) {
                        delivered_.insert(delivered_.end(), b.begin(), b.end());
                        b.clear();
                    }
                    std::sort(delivered_.begin(), delivered_.end(),
                              [](const inbox_entry& a, const inbox_entry& b) { return a.index < b.index; });
                    for (const auto& e : delivered_) {
                        const auto& d = sent[e.thread].datagrams[e.index];
                        network_->enqueue(address{d.from}, address{d.to}, sent[e.thread].bytes_of(d));
                    }
                }
                any = false;
            }
            for (auto& c : captures_[side ^ 1U]) {
                c.clear(); // read by the wave before; written by the next
            }
            side ^= 1U;
            ++wave;
            more = any;
        };
        const auto between_phases = [&]() noexcept {
            if (!judging_done) {
                judging_done = true; // the sends are in: the threads judge them next
                return;
            }
            judging_done = false;
            try {
                after_judging();
            } catch (...) { // out of memory, say: the round ends, and the caller hears of it
                fail(n);
                more = false;
            }
        };
        std::barrier sync(static_cast<std::ptrdiff_t>(t), between_phases);
        const std::uint64_t round_key = mix_seed(seed_, 0x73796e63);
        // Thread w judges the datagrams it sent: loss from the seed, round, wave and the
        // datagram's place in sending order over all threads; the delivered ones are sorted
        // out by the thread that owns their receiver.
        const auto judge = [&](std::size_t w, std::size_t sent_side) {
            const auto& sent = captures_[sent_side];
            std::uint64_t place = 0;
            for (std::size_t v = 0; v < w; ++v) {
                place += sent[v].datagrams.size();
            }
            const std::uint64_t key = mix_seed(round_key, round_ * max_waves + wave);
            auto& counts = judged_[w];
            counts.sent += sent[w].statistics.sent;
            counts.bytes_sent += sent[w].statistics.bytes_sent;
            counts.refused += sent[w].statistics.refused;
            const auto& ds = sent[w].datagrams;
            for (std::uint32_t i = 0; i < ds.size(); ++i) {
                const auto draw = static_cast<std::uint32_t>(mix_seed(key, place++) >> 32U);
                const auto fate = network_->fate_of(address{ds[i].from}, address{ds[i].to}, draw);
                transport::in_memory_network::count(counts, fate, ds[i].size);
                if (fate == transport::datagram_fate::delivered) {
                    buckets_[w][owner(ds[i].to)].push_back(inbox_entry{static_cast<std::uint32_t>(w), i});
                }
            }
        };
        // Thread w hands its nodes what arrived for them, in order of sender thread and sending
        // order (the global sending order), sorted stably by receiver.
        const auto deliver = [&](std::size_t w, std::size_t arrived_side) {
            const auto& arrived = captures_[arrived_side];
            const std::size_t first = lo(w);
            const std::size_t last = lo(w + 1);
            auto& box = inboxes_[w];
            box.offsets.assign(last - first + 1, 0);
            std::size_t total = 0;
            for (std::size_t v = 0; v < t; ++v) {
                for (const auto& e : buckets_[v][w]) {
                    ++box.offsets[arrived[e.thread].datagrams[e.index].to - first + 1];
                }
                total += buckets_[v][w].size();
            }
            for (std::size_t i = 1; i < box.offsets.size(); ++i) {
                box.offsets[i] += box.offsets[i - 1];
            }
            box.entries.resize(total);
            box.fill.assign(box.offsets.begin(), box.offsets.end() - 1);
            for (std::size_t v = 0; v < t; ++v) {
                for (const auto& e : buckets_[v][w]) {
                    box.entries[box.fill[arrived[e.thread].datagrams[e.index].to - first]++] = e;
                }
                buckets_[v][w].clear();
            }
            transport::in_memory_network::capture_on_this_thread(&captures_[arrived_side ^ 1U][w]);
            for (std::size_t r = first; r < last; ++r) {
                // The receivers come in order, their views each somewhere on the heap.
                if (r + 4 < last) {
                    prefetch_view(static_cast<std::uint32_t>(r + 4));
                }
                for (std::uint32_t k = box.offsets[r - first]; k < box.offsets[r - first + 1]; ++k) {
                    // The datagrams lie where their senders left them: their records are loaded
                    // eight ahead, which tells where their bytes are four ahead.
                    if (k + 8 < total) {
                        const auto& ahead = arrived[box.entries[k + 8].thread];
                        gossip::detail::prefetch(ahead.datagrams.data() + box.entries[k + 8].index,
                                                 sizeof(ahead.datagrams[0]));
                    }
                    if (k + 4 < total) {
                        const auto& ahead = arrived[box.entries[k + 4].thread];
                        const auto bytes = ahead.bytes_of(ahead.datagrams[box.entries[k + 4].index]);
                        gossip::detail::prefetch(bytes.data(), bytes.size());
                    }
                    const auto& from = arrived[box.entries[k].thread];
                    const auto& d = from.datagrams[box.entries[k].index];
                    guarded(r, [&] { nodes_[r].on_datagram(address{d.from}, from.bytes_of(d)); });
                }
            }
            transport::in_memory_network::capture_on_this_thread(nullptr);
        };
        const auto worker = [&](std::size_t w) {
            transport::in_memory_network::capture_on_this_thread(&captures_[0][w]);
            for (std::size_t i = lo(w); i < lo(w + 1); ++i) {
                if (network_->is_up(address_of_unchecked(i))) {
                    guarded(i, [&] { nodes_[i].tick(); });
                }
            }
            transport::in_memory_network::capture_on_this_thread(nullptr);
            std::size_t mine = 0; // this thread's copy of `side`, flipped in step with it
            // `more` is set by the barrier's completion, between the two halves of a wave.
            for (;;) {                  // NOLINT(bugprone-infinite-loop)
                sync.arrive_and_wait(); // the sends are in
                guarded(n, [&] { judge(w, mine); });
                sync.arrive_and_wait(); // judged
                if (!more) {
                    break;
                }
                deliver(w, mine);
                mine ^= 1U;
            }
        };
        {
            // Helpers wait for all of them to have started: should one fail to start, the others
            // leave before reaching the barrier, which expects every one.
            std::latch started(1);
            std::atomic<bool> abandoned{false};
            std::vector<std::jthread> helpers;
            try {
                helpers.reserve(t - 1);
                for (std::size_t w = 1; w < t; ++w) {
                    helpers.emplace_back([&, w] {
                        started.wait();
                        if (!abandoned) {
                            worker(w);
                        }
                    });
                }
            } catch (...) {
                abandoned = true;
                started.count_down();
                throw;
            }
            started.count_down();
            worker(0);
        }
        if (failure) {
            std::rethrow_exception(failure);
        }
    }

    static void prefetch_node(void* nodes, std::uint32_t index) noexcept
    {
        gossip::detail::prefetch(static_cast<const Node*>(nodes) + index, sizeof(Node));
    }

    void prefetch_view(std::uint32_t index) const noexcept
    {
        const auto items = nodes_[index].view().descriptors();
        gossip::detail::prefetch(items.data(), items.size_bytes());
    }

    static constexpr std::uint32_t no_peer = 0xFFFFFFFF; // no node has this index (checked_size)

    // The peer that node `index`'s next tick would most likely contact first, for prefetching
    // only: asked of copies of its peer selection and random source, so that nothing changes.
    // The guess is wrong when the view changes before the tick, which costs a useless load.
    [[nodiscard]] std::uint32_t likely_peer(std::uint32_t index)
    {
        if constexpr (guesses_peers) {
            Node& node = nodes_[index];
            const auto view = node.view().descriptors();
            if (view.empty()) {
                return no_peer;
            }
            auto peers = node.peer_selection();
            auto rng = node.random();
            std::array<std::size_t, 1> chosen{};
            if (peers.select(view, std::span(chosen), rng) == 0 || chosen[0] >= view.size()) {
                return no_peer;
            }
            // A view may name an address the simulator has no node for (see overlay()).
            const std::uint32_t peer = view[chosen[0]].address.index;
            return peer < nodes_.size() ? peer : no_peer;
        } else {
            static_cast<void>(index);
            return no_peer;
        }
    }

    void deliver_due()
    {
        network_->deliver([this](address from, address to, std::span<const std::byte> bytes) {
            nodes_[to.index].on_datagram(from, bytes);
        });
    }

    std::unique_ptr<transport::in_memory_network> network_; // stable address for the endpoints
    config config_;
    std::uint64_t seed_;
    pcg32 rng_;
    std::vector<Node, gossip::detail::huge_page_allocator<Node>> nodes_;
    std::vector<std::uint32_t> order_;
    std::size_t round_ = 0;
    std::size_t joined_;
    std::size_t joins_per_round_ = 0;
    std::uint64_t restarts_ = 0;
    node_maker make_node_;
    // Synchronous rounds: the two sides of each wave's captured datagrams (one per thread), and
    // the inbox they were sorted into by receiver.
    std::array<std::vector<transport::captured_sends>, 2> captures_;
    std::vector<std::vector<std::vector<inbox_entry>>> buckets_; // [sender thread][receiver's thread]
    std::vector<transport::network_statistics> judged_;          // per thread, for one wave
    struct inbox {
        std::vector<std::uint32_t> offsets; // per receiver of the thread's range, into entries
        std::vector<std::uint32_t> fill;
        std::vector<inbox_entry> entries;
    };
    std::vector<inbox> inboxes_; // per thread
    std::vector<inbox_entry> delivered_;
};

} // namespace gossip::sim
