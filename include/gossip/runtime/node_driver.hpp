#pragma once

// What it takes to run a node on a real clock and a real socket, as three hooks for whatever
// event loop the application already has (poll, epoll, kqueue, libuv, asio...):
//
//   fd()              the descriptor to watch for readability;
//   next_deadline()   when on_deadline() must run next: the next period, or the payload's next
//                     timer (a SWIM probe timeout) if that comes first;
//   on_readable()     reads and handles what arrived, then sends the answers;
//   on_deadline(now)  runs the period and the payload's timers that are due, then sends.
//
// Ask next_deadline() again after on_readable() too: what arrives can set a payload timer (a
// ping-req to relay, say) earlier than the one known before.
//
// run_loop drives one node with these and poll(); a process hosting many nodes on one thread
// (a test, a benchmark) calls them for each. The driver calls nothing concurrently: call it from
// one thread, the one that owns the node.
//
// Periods start at a random offset within the first period and are jittered, so that nodes
// started together do not fall into lock step (Floyd and Jacobson's synchronisation of periodic
// messages). A loop that falls behind skips the periods it missed rather than bursting them.

#include "../random.hpp"

#include <algorithm>
#include <chrono>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <stdexcept>
#include <string>

namespace gossip {

// clang-format 14 mangles concepts and requires-clauses: kept as written.
// clang-format off
/// A transport a loop can wait on: a descriptor that turns readable, a receive() that hands
/// waiting datagrams to a callback without blocking, and a flush() for queued sends.
/// transport::udp is one.
template <class T>
concept pollable_transport = requires(T& t, const T& ct) {
    { ct.fd() } -> std::convertible_to<int>;
    { t.receive([](const typename T::address_type&, std::span<const std::byte>) {}) } -> std::convertible_to<std::size_t>;
    t.flush();
};
// clang-format on

/// How a node_driver paces a node's periods and bounds the work of one wake-up.
struct driver_options {
    /// Each period lasts the node's period times a factor drawn uniformly from
    /// [1 - jitter, 1 + jitter]; in [0, 0.5].
    double jitter = 0.1;
    /// Start the first period at a random point of the first period rather than at once.
    bool random_start = true;
    /// How many receive batches one on_readable() handles at most before it returns, so that a
    /// flood cannot keep a loop from its timers.
    std::size_t max_batches = 16;
    /// Seeds the jitter; 0 derives a seed from the node's address.
    std::uint64_t seed = 0;
};

// clang-format off
/// Runs a node on the real clock from an event loop the application already has: watch fd(),
/// call on_readable() when it turns readable and on_deadline() at next_deadline(). Use run_loop
/// instead for a node on a thread of its own.
template <class Node>
    requires pollable_transport<typename Node::transport_type>
// clang-format on
class node_driver {
public:
    using clock = std::chrono::steady_clock;

    /// The node must outlive the driver. Throws std::invalid_argument on impossible options.
    explicit node_driver(Node& node, const driver_options& options = {}, clock::time_point now = clock::now())
        : node_(&node), options_(checked(options)), rng_(seed_for(node, options.seed))
    {
        next_ = now;
        if (options_.random_start) {
            next_ += std::chrono::duration_cast<clock::duration>(node.configuration().period * uniform01());
        }
    }

    [[nodiscard]] int fd() const noexcept { return node_->transport().fd(); }
    [[nodiscard]] clock::time_point next_deadline() const noexcept { return std::min(next_, timer_deadline()); }
    /// The next period alone.
    [[nodiscard]] clock::time_point next_period() const noexcept { return next_; }
    [[nodiscard]] Node& node() noexcept { return *node_; }

    /// Handles the datagrams waiting, up to max_batches batches; returns how many were read.
    std::size_t on_readable()
    {
        auto& transport = node_->transport();
        std::size_t total = 0;
        for (std::size_t b = 0; b < options_.max_batches; ++b) {
            const std::size_t got = transport.receive(
                [this](const auto& from, std::span<const std::byte> bytes) { node_->on_datagram(from, bytes); });
            transport.flush();
            total += got;
            if (got == 0) {
                break;
            }
        }
        return total;
    }

    /// Runs the period if it is due at `now`, and the payload's timers if they are; returns
    /// whether the period ran.
    bool on_deadline(clock::time_point now = clock::now())
    {
        if (timer_deadline() <= now) {
            node_->on_timer();
            node_->transport().flush();
        }
        if (now < next_) {
            return false;
        }
        node_->tick();
        node_->transport().flush();
        const auto period = std::chrono::duration_cast<clock::duration>(node_->configuration().period);
        next_ +=
            std::chrono::duration_cast<clock::duration>(period * (1.0 + options_.jitter * (2.0 * uniform01() - 1.0)));
        if (next_ <= now) {
            // Fell behind (a stopped process, a loaded machine): skip rather than burst.
            next_ = now + period / 2 + std::chrono::duration_cast<clock::duration>(period * uniform01() / 2);
        }
        return true;
    }

    /// Runs a period now, whatever the schedule (a leave to announce, say), and the payload's
    /// timers, and sends what they queued.
    void tick_now()
    {
        node_->tick();
        node_->on_timer();
        node_->transport().flush();
    }

private:
    // The payload's next timer on the steady clock (the node's clock, when its transport keeps
    // none of its own, is the steady clock's time since its epoch).
    [[nodiscard]] clock::time_point timer_deadline() const noexcept
    {
        const auto at = node_->next_timer();
        if (at >= std::chrono::duration_cast<std::chrono::nanoseconds>(clock::time_point::max().time_since_epoch())) {
            return clock::time_point::max();
        }
        return clock::time_point(std::chrono::duration_cast<clock::duration>(at));
    }

    double uniform01() { return static_cast<double>(rng_()) / 4294967296.0; }

    static std::uint64_t seed_for(const Node& node, std::uint64_t seed)
    {
        if (seed != 0) {
            return seed;
        }
        return mix_seed(std::hash<typename Node::address_type>{}(node.address()), 0x6472697665);
    }

    static driver_options checked(const driver_options& o)
    {
        if (!(o.jitter >= 0.0 && o.jitter <= 0.5)) {
            throw std::invalid_argument("driver_options::jitter = " + std::to_string(o.jitter) +
                                        " is outside [0, 0.5]");
        }
        if (o.max_batches == 0) {
            throw std::invalid_argument("driver_options::max_batches must be at least 1");
        }
        return o;
    }

    Node* node_;
    driver_options options_;
    pcg32 rng_;
    clock::time_point next_;
};

} // namespace gossip
