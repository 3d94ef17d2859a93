#pragma once

// Many nodes in one process on simulated time, event by event: each node runs its periods on its
// own jittered schedule (as node_driver does on a real clock), its payload's timers fire at the
// deadlines the payload asks for (a SWIM probe timeout, a suspicion running out), and datagrams
// arrive when the in_memory_network's latency, jitter and loss say. Where sim::simulator runs the
// papers' synchronous rounds, this one runs what a deployment would do, and a seed still replays
// it exactly: ties are broken by the order events were scheduled in.
//
// A node can be made slow (an overloaded process): what arrives for it waits a delay before it is
// handled, and so do its periods and timers, as if its loop lagged behind that much.

#include "../config.hpp"
#include "../random.hpp"
#include "../transport/in_memory.hpp"
#include "simulator.hpp"

#include <algorithm>
#include <chrono>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

namespace gossip::sim {

/// How an event_simulator paces its nodes.
struct event_options {
    /// Each period lasts the node's period times a factor drawn uniformly from
    /// [1 - jitter, 1 + jitter]; within [0, 0.5]. 0 with aligned_start runs every node in step.
    double jitter = 0.1;
    /// Every node starts its first period at time 0 rather than at a random point of the first
    /// period (and its payload's first timer likewise, at time 0).
    bool aligned_start = false;
};

/// N nodes over one in_memory_network on simulated time (see the header comment): for studying
/// a protocol whose timing matters, failure detectors first, reproducibly from a seed.
template <simulated_node Node>
class event_simulator {
public:
    using node_type = Node;
    using address = transport::in_memory_address;
    using duration = std::chrono::nanoseconds;

    event_simulator(std::size_t nodes, const config& cfg, std::uint64_t seed,
                    const transport::network_options& net = {}, const event_options& options = {})
        : event_simulator(nodes, cfg, seed, net, options,
                          [](transport::in_memory endpoint, const config& c, std::uint64_t node_seed, std::size_t) {
                              return Node(endpoint, c, node_seed);
                          })
    {
    }

    // clang-format 14 mangles concepts and requires-clauses: kept as written.
    // clang-format off
    /// As above, with each node's payload made by make_payload(i) (a SWIM payload with the
    /// options under study and an event handler that records what the experiment measures).
    template <class PayloadFactory>
        requires std::invocable<PayloadFactory&, std::size_t>
    // clang-format on
    event_simulator(std::size_t nodes, const config& cfg, std::uint64_t seed, const transport::network_options& net,
                    const event_options& options, PayloadFactory make_payload)
        : event_simulator(nodes, cfg, seed, net, options,
                          [make = std::move(make_payload)](transport::in_memory endpoint, const config& c,
                                                           std::uint64_t node_seed, std::size_t i) mutable {
                              return Node(endpoint, c, node_seed, typename Node::peer_selection_type{},
                                          typename Node::view_selection_type{}, make(i));
                          })
    {
    }

    event_simulator(const event_simulator&) = delete;
    event_simulator& operator=(const event_simulator&) = delete;
    event_simulator(event_simulator&&) = delete;
    event_simulator& operator=(event_simulator&&) = delete;
    ~event_simulator() = default;

    // --- running ----------------------------------------------------------------------------
    [[nodiscard]] duration now() const noexcept { return network_->now(); }

    /// Runs every event due up to and including `t`, then sets the clock to `t`.
    void run_until(duration t)
    {
        while (true) {
            const duration arrival = network_->next_arrival();
            const duration event = queue_.empty() ? duration::max() : queue_.front().at;
            const duration next = std::min(arrival, event);
            if (next > t || next == duration::max()) {
                break;
            }
            network_->advance_to(next);
            ++events_;
            if (arrival <= event) {
                network_->deliver([this](address from, address to, std::span<const std::byte> bytes) {
                    nodes_[to.index].on_datagram(from, bytes);
                    reschedule_timer(to.index);
                });
            } else {
                run_event();
            }
        }
        network_->advance_to(t);
    }

    void run_for(duration d) { run_until(now() + d); }

    /// Events handled so far (deliveries and node wake-ups).
    [[nodiscard]] std::uint64_t events() const noexcept { return events_; }

    // --- the nodes --------------------------------------------------------------------------
    /// Node i learns `contacts` (gossip_node::join) now.
    void join(std::size_t i, std::span<const address> contacts)
    {
        node(i).join(contacts);
        reschedule_timer(i);
    }

    /// Runs f(node) on node i now (a broadcast, a leave, a metadata update), then takes account
    /// of the timers it may have set.
    template <std::invocable<Node&> F>
    void act(std::size_t i, F&& f)
    {
        f(node(i));
        reschedule_timer(i);
    }

    /// Stops node i: it sends nothing more, what arrives for it is lost, and it runs no timer.
    void crash(std::size_t i)
    {
        network_->crash(address_of(i));
        ++generation_[i];
    }

    /// Brings node i back as a new process (fresh state, a new seed) knowing `contacts`.
    void restart(std::size_t i, std::span<const address> contacts)
    {
        const auto a = address_of(i);
        ++generation_[i];
        nodes_[i] =
            make_node_(network_->endpoint(a), config_, gossip::detail::simulated_node_seed(seed_, ++restarts_, i), i);
        network_->restart(a);
        schedule_start(i, now());
        nodes_[i].join(contacts);
        reschedule_timer(i);
    }

    /// Makes node i slow: what arrives for it, and its own periods and timers, wait `delay` plus
    /// up to `jitter` more at random. Zero for both makes it ordinary again.
    void set_slow(std::size_t i, duration delay, duration jitter = duration::zero())
    {
        network_->set_receive_delay(address_of(i), delay, jitter);
        if (slow_.empty()) {
            slow_.assign(nodes_.size(), slowness{});
        }
        slow_[i] = slowness{delay, jitter};
    }

    [[nodiscard]] bool is_up(std::size_t i) const noexcept
    {
        return network_->is_up(address{static_cast<std::uint32_t>(i)});
    }
    [[nodiscard]] std::size_t size() const noexcept { return nodes_.size(); }
    [[nodiscard]] Node& node(std::size_t i) { return nodes_.at(i); }
    [[nodiscard]] const Node& node(std::size_t i) const { return nodes_.at(i); }
    [[nodiscard]] std::span<Node> nodes() noexcept { return nodes_; }
    [[nodiscard]] transport::in_memory_network& network() noexcept { return *network_; }
    [[nodiscard]] const transport::in_memory_network& network() const noexcept { return *network_; }
    [[nodiscard]] const config& configuration() const noexcept { return config_; }

private:
    using node_maker = std::function<Node(transport::in_memory, const config&, std::uint64_t, std::size_t)>;

    enum class kind : std::uint8_t { period, timer };

    struct event {
        duration at{0};
        std::uint64_t order = 0; ///< ties leave in the order they were scheduled
        std::uint32_t node = 0;
        std::uint32_t generation = 0;
        kind what = kind::period;
    };

    struct slowness {
        duration delay{0};
        duration jitter{0};
    };

    static constexpr bool later(const event& a, const event& b) noexcept
    {
        return a.at != b.at ? a.at > b.at : a.order > b.order;
    }

    event_simulator(std::size_t nodes, const config& cfg, std::uint64_t seed, const transport::network_options& net,
                    const event_options& options, node_maker make_node)
        : network_(std::make_unique<transport::in_memory_network>(checked_size(nodes),
                                                                  gossip::detail::simulated_network(net, seed))),
          config_(validate(cfg)), options_(checked(options)), seed_(seed), rng_(mix_seed(seed, 0x6576656e74)),
          make_node_(std::move(make_node))
    {
        nodes_.reserve(nodes);
        for (std::size_t i = 0; i < nodes; ++i) {
            nodes_.push_back(make_node_(network_->endpoint(address_of(i)), config_,
                                        gossip::detail::simulated_node_seed(seed_, 0, i), i));
        }
        generation_.assign(nodes, 0);
        timer_at_.assign(nodes, duration::max());
        deadline_.assign(nodes, duration::max());
        next_period_.assign(nodes, duration::max());
        for (std::size_t i = 0; i < nodes; ++i) {
            schedule_start(i, duration::zero());
            reschedule_timer(i);
        }
    }

    static std::size_t checked_size(std::size_t nodes)
    {
        if (nodes > 0xFFFFFFFEULL) {
            throw std::invalid_argument("event_simulator: at most 2^32 - 2 nodes");
        }
        return nodes;
    }

    static event_options checked(const event_options& o)
    {
        if (!(o.jitter >= 0.0 && o.jitter <= 0.5)) {
            throw std::invalid_argument("event_options::jitter = " + std::to_string(o.jitter) + " is outside [0, 0.5]");
        }
        return o;
    }

    [[nodiscard]] address address_of(std::size_t i) const
    {
        if (i >= network_->size()) {
            throw std::out_of_range("event_simulator: no node " + std::to_string(i));
        }
        return address{static_cast<std::uint32_t>(i)};
    }

    [[nodiscard]] double uniform01() { return static_cast<double>(rng_()) / 4294967296.0; }

    [[nodiscard]] duration period() const { return std::chrono::duration_cast<duration>(config_.period); }

    // How late a slow node gets to a wake-up.
    [[nodiscard]] duration lag(std::size_t i)
    {
        if (slow_.empty()) {
            return duration::zero();
        }
        const slowness& s = slow_[i];
        if (s.jitter == duration::zero()) {
            return s.delay;
        }
        return s.delay + duration{static_cast<duration::rep>(static_cast<double>(s.jitter.count()) * uniform01())};
    }

    void push(duration at, std::size_t i, kind what)
    {
        queue_.push_back(event{at, next_order_++, static_cast<std::uint32_t>(i), generation_[i], what});
        std::push_heap(queue_.begin(), queue_.end(), later);
    }

    void schedule_start(std::size_t i, duration from)
    {
        const duration offset =
            options_.aligned_start
                ? duration::zero()
                : duration{static_cast<duration::rep>(static_cast<double>(period().count()) * uniform01())};
        next_period_[i] = from + offset;
        push(next_period_[i] + lag(i), i, kind::period);
        timer_at_[i] = duration::max();
        deadline_[i] = duration::max();
    }

    // Asks node i for its payload's next deadline and schedules a wake-up for it, unless one is
    // scheduled for that deadline already (the old one, now stale, is skipped when it comes).
    void reschedule_timer(std::size_t i)
    {
        if (!network_->is_up(address{static_cast<std::uint32_t>(i)})) {
            return;
        }
        const duration deadline = nodes_[i].next_timer();
        if (deadline == deadline_[i] && timer_at_[i] != duration::max()) {
            return;
        }
        deadline_[i] = deadline;
        if (deadline == duration::max()) {
            timer_at_[i] = duration::max();
            return;
        }
        timer_at_[i] = std::max(deadline, now()) + lag(i);
        push(timer_at_[i], i, kind::timer);
    }

    void run_event()
    {
        std::pop_heap(queue_.begin(), queue_.end(), later);
        const event e = queue_.back();
        queue_.pop_back();
        const std::size_t i = e.node;
        if (e.generation != generation_[i] || !network_->is_up(address{e.node})) {
            return;
        }
        Node& n = nodes_[i];
        if (e.what == kind::period) {
            n.tick();
            const double factor = 1.0 + options_.jitter * (2.0 * uniform01() - 1.0);
            next_period_[i] += duration{static_cast<duration::rep>(static_cast<double>(period().count()) * factor)};
            next_period_[i] = std::max(next_period_[i], now());
            push(next_period_[i] + lag(i), i, kind::period);
        } else {
            if (e.at != timer_at_[i]) {
                return; // superseded
            }
            timer_at_[i] = duration::max();
            deadline_[i] = duration::max();
            n.on_timer();
        }
        reschedule_timer(i);
    }

    std::unique_ptr<transport::in_memory_network> network_; // stable address for the endpoints
    config config_;
    event_options options_;
    std::uint64_t seed_;
    pcg32 rng_;
    std::vector<Node> nodes_;
    std::vector<event> queue_; // a min-heap on (at, order)
    std::vector<std::uint32_t> generation_;
    std::vector<duration> timer_at_;    ///< the wake-up scheduled for each node's payload timer
    std::vector<duration> deadline_;    ///< the deadline it was scheduled for
    std::vector<duration> next_period_; ///< each node's next period, before its lag
    std::vector<slowness> slow_;        // empty: nobody slow
    std::uint64_t next_order_ = 0;
    std::uint64_t restarts_ = 0;
    std::uint64_t events_ = 0;
    node_maker make_node_;
};

} // namespace gossip::sim
