#pragma once

// Nodes on real UDP sockets on 127.0.0.1, all driven from the test's thread through the
// node_driver hooks and one poll() over every socket. Every loop is bounded by a deadline.

#include <gossip/gossip.hpp>
#include <gossip/payload/combined.hpp>
#include <gossip/runtime/node_driver.hpp>
#include <gossip/transport/udp.hpp>

#include <poll.h>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace test {

using gossip::transport::udp;
using gossip::transport::udp_address;
using log_store = gossip::payload::lww_map<std::string, std::string>;
using log_payload = gossip::payload::anti_entropy<log_store>;
using udp_membership = gossip::payload::membership<udp_address>;
using agent_payload = gossip::payload::combined<udp_membership, log_payload>;
using agent = gossip::gossip_node<udp, gossip::peer_selection::random, gossip::view_selection::healer,
                                  gossip::propagation::push_pull, agent_payload>;
using steady = std::chrono::steady_clock;

struct logged_event {
    steady::time_point at;
    gossip::payload::member_event_kind kind;
    udp_address about;
};

/// The composition gossip_agent runs, with timeouts scaled to `period`.
inline agent make_agent(udp_address at, std::chrono::milliseconds period, std::size_t t_fail_periods,
                        std::uint64_t seed)
{
    gossip::config cfg;
    cfg.view_size = 12;
    cfg.fanout = 2;
    cfg.period = period;
    gossip::payload::membership_options members;
    members.t_fail = period * static_cast<long>(t_fail_periods);
    members.t_cleanup = 4 * members.t_fail;
    gossip::payload::anti_entropy_options log;
    log.rumors = true;
    log.every = 2;
    return agent(udp(at), cfg, seed, {}, {}, agent_payload(udp_membership(members), log_payload(log)));
}

/// Drives the running nodes of `slots` (those whose `node` is set) through their drivers, on
/// one thread, until done() holds or `limit` passes, sleeping in poll() at most `max_sleep` at a
/// time; whether done() held.
template <class Slot, class Done>
bool drive_until(std::vector<Slot>& slots, Done&& done, std::chrono::milliseconds limit,
                 std::chrono::milliseconds max_sleep)
{
    const auto deadline = steady::now() + limit;
    std::vector<pollfd> fds;
    std::vector<std::size_t> owner;
    const auto running = [&](std::size_t i) { return slots[i].node != nullptr; };
    while (!done()) {
        const auto now = steady::now();
        if (now >= deadline) {
            return false;
        }
        fds.clear();
        owner.clear();
        auto wake = deadline;
        for (std::size_t i = 0; i < slots.size(); ++i) {
            if (!running(i)) {
                continue;
            }
            slots[i].driver->on_deadline(now);
            wake = std::min(wake, slots[i].driver->next_deadline());
            fds.push_back(pollfd{slots[i].driver->fd(), POLLIN, 0});
            owner.push_back(i);
        }
        const auto wait = std::chrono::ceil<std::chrono::milliseconds>(wake - steady::now()).count();
        ::poll(fds.data(), fds.size(), static_cast<int>(std::clamp<long long>(wait, 0, max_sleep.count())));
        for (std::size_t k = 0; k < fds.size(); ++k) {
            if (fds[k].revents != 0 && running(owner[k])) {
                slots[owner[k]].driver->on_readable();
            }
        }
    }
    return true;
}

class udp_cluster {
public:
    struct slot {
        std::unique_ptr<agent> node;
        std::unique_ptr<gossip::node_driver<agent>> driver;
        std::vector<logged_event> events;
        udp_address address;
    };

    udp_cluster(std::size_t n, std::chrono::milliseconds period, std::size_t t_fail_periods = 15)
        : period_(period), t_fail_periods_(t_fail_periods), slots_(n)
    {
        for (std::size_t i = 0; i < n; ++i) {
            start(i, udp_address::loopback_v4(0));
        }
    }

    /// (Re)starts node i at `at`, joining node 0 (node 0 joins nobody).
    void start(std::size_t i, udp_address at)
    {
        auto& s = slots_[i];
        s.driver.reset();
        s.node = std::make_unique<agent>(make_agent(at, period_, t_fail_periods_, 1000 + i + 97 * ++starts_));
        s.address = s.node->address();
        if (i != 0) {
            s.node->join(std::span(&slots_[0].address, 1));
        }
        s.node->payload().first().on_event([&events = s.events](const auto& e) {
            events.push_back(logged_event{steady::now(), e.kind, e.address});
        });
        s.driver = std::make_unique<gossip::node_driver<agent>>(*s.node);
    }

    /// Stops node i without a word: its socket closes, as a killed process's would.
    void crash(std::size_t i)
    {
        slots_[i].driver.reset();
        slots_[i].node.reset();
    }

    [[nodiscard]] bool running(std::size_t i) const { return slots_[i].node != nullptr; }
    [[nodiscard]] agent& node(std::size_t i) { return *slots_[i].node; }
    [[nodiscard]] slot& at(std::size_t i) { return slots_[i]; }
    [[nodiscard]] std::size_t size() const { return slots_.size(); }
    [[nodiscard]] std::chrono::milliseconds period() const { return period_; }

    /// Drives every running node until done() holds or `limit` passes; whether done() held.
    template <class Done>
    bool run_until(Done&& done, std::chrono::milliseconds limit)
    {
        return drive_until(slots_, std::forward<Done>(done), limit, std::chrono::milliseconds{50});
    }

    /// Runs for `d`, whatever happens.
    void run_for(std::chrono::milliseconds d)
    {
        run_until([] { return false; }, d);
    }

    /// Whether every running node holds every other running node alive.
    [[nodiscard]] bool membership_agreed() const
    {
        for (std::size_t i = 0; i < slots_.size(); ++i) {
            if (!running(i)) {
                continue;
            }
            const auto& table = slots_[i].node->payload().first();
            for (std::size_t j = 0; j < slots_.size(); ++j) {
                if (j != i && running(j) &&
                    table.status_of(slots_[j].address) != gossip::payload::member_status::alive) {
                    return false;
                }
            }
        }
        return true;
    }

    /// How many running nodes hold `key` in their log.
    [[nodiscard]] std::size_t holding(const std::string& key) const
    {
        std::size_t n = 0;
        for (const auto& s : slots_) {
            if (s.node && s.node->payload().second().store().find(key) != nullptr) {
                ++n;
            }
        }
        return n;
    }

    [[nodiscard]] std::size_t running_count() const
    {
        return static_cast<std::size_t>(
            std::count_if(slots_.begin(), slots_.end(), [](const auto& s) { return s.node != nullptr; }));
    }

private:
    std::chrono::milliseconds period_;
    std::size_t t_fail_periods_;
    std::vector<slot> slots_;
    std::uint64_t starts_ = 0;
};

} // namespace test
