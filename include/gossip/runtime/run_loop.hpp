#pragma once

// A node on its own thread: poll() on the node's socket and a wake-up pipe, periods on a timer,
// work posted from other threads, and a clean shutdown that tells the cluster the node leaves.
//
//   gossip::run_loop loop(node);
//   std::jthread t([&] { loop.run(); });
//   loop.post([](auto& n) { n.payload().second().put("k", "v"); });   // from any thread
//   loop.stop();                                                       // from any thread, or a signal handler
//
// Everything the node does (its payload's event handlers included) happens on the thread inside
// run(), so the node itself needs no locks; other threads reach it only through post(), and hear
// from it through whatever the handlers push into a mailbox.

#include "../detail/wake_pipe.hpp"
#include "../payload/combined.hpp"
#include "node_driver.hpp"

#include <poll.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstddef>
#include <functional>
#include <mutex>
#include <system_error>
#include <utility>
#include <vector>

namespace gossip {

/// How a run_loop paces its node, and how it says goodbye at shutdown.
struct run_options {
    driver_options driver{};
    /// Periods run back to back at shutdown after the payload is told to leave() (when it can),
    /// so that fanout peers each time hear of it before the socket closes. 0 leaves silently.
    std::size_t leave_announcements = 2;
};

// clang-format 14 mangles concepts and requires-clauses: kept as written.
// clang-format off
/// Runs one node on a thread of its own (see the header comment): the simplest way to put a
/// node on a real network. Other threads talk to it through post() and stop().
template <class Node>
    requires pollable_transport<typename Node::transport_type>
// clang-format on
class run_loop {
public:
    using clock = std::chrono::steady_clock;

    /// The node must outlive the loop.
    explicit run_loop(Node& node, const run_options& options = {}) : driver_(node, options.driver), options_(options) {}
    run_loop(const run_loop&) = delete;
    run_loop& operator=(const run_loop&) = delete;

    /// Runs until stop(), then leaves. Throws std::system_error should poll() fail for a reason
    /// other than a signal.
    void run() { run_until(clock::time_point::max()); }

    /// Runs until stop() or `deadline`, whichever comes first; leaves only when stopped.
    /// Returns true when stopped.
    bool run_until(clock::time_point deadline)
    {
        std::array<pollfd, 2> fds{pollfd{driver_.fd(), POLLIN, 0}, pollfd{wake_.fd(), POLLIN, 0}};
        while (!stop_requested_.load(std::memory_order_acquire)) {
            const auto now = clock::now();
            if (now >= deadline) {
                return false;
            }
            driver_.on_deadline(now);
            const auto wake_at = std::min(driver_.next_deadline(), deadline);
            const int rc = ::poll(fds.data(), fds.size(), timeout_ms(wake_at, clock::now()));
            if (rc < 0) {
                if (errno == EINTR) {
                    continue;
                }
                throw std::system_error(errno, std::generic_category(), "poll");
            }
            if (fds[1].revents != 0) {
                wake_.drain();
                run_posted();
            }
            if (fds[0].revents != 0) {
                driver_.on_readable();
            }
        }
        run_posted();
        leave();
        return true;
    }

    /// Asks run() to return. Safe from any thread and from a signal handler: it only stores an
    /// atomic flag and writes a byte to a pipe.
    void stop() noexcept
    {
        stop_requested_.store(true, std::memory_order_release);
        wake_.wake();
    }

    [[nodiscard]] bool stop_requested() const noexcept { return stop_requested_.load(std::memory_order_acquire); }

    /// Runs f(node) on the loop's thread, soon. Safe from any thread.
    template <class F>
    void post(F&& f)
    {
        {
            const std::lock_guard lock(mutex_);
            posted_.emplace_back(std::forward<F>(f));
        }
        wake_.wake();
    }

    [[nodiscard]] node_driver<Node>& driver() noexcept { return driver_; }

private:
    static int timeout_ms(clock::time_point at, clock::time_point now)
    {
        if (at <= now) {
            return 0;
        }
        // Rounded up: waking a little late is harmless, waking early spins.
        const auto ms = std::chrono::ceil<std::chrono::milliseconds>(at - now).count();
        return static_cast<int>(std::min<decltype(ms)>(ms, 60'000));
    }

    void run_posted()
    {
        {
            const std::lock_guard lock(mutex_);
            std::swap(running_, posted_);
        }
        for (auto& f : running_) {
            f(driver_.node());
        }
        running_.clear();
        driver_.node().transport().flush();
    }

    void leave()
    {
        using payload_type = typename Node::payload_type;
        if constexpr (payload_with_leave<payload_type>) {
            if (options_.leave_announcements > 0) {
                driver_.node().leave();
                driver_.node().transport().flush();
                for (std::size_t i = 0; i < options_.leave_announcements; ++i) {
                    driver_.tick_now();
                }
            }
        }
    }

    node_driver<Node> driver_;
    run_options options_;
    detail::wake_pipe wake_;
    std::atomic<bool> stop_requested_{false};
    std::mutex mutex_;
    std::vector<std::function<void(Node&)>> posted_;
    std::vector<std::function<void(Node&)>> running_;
};

} // namespace gossip
