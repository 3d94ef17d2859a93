#pragma once

// A payload that talks on its own, as small as one can be: at its deadline it pings a peer, it
// answers a ping with a pong, and it counts what it hears. For the tests of the node's skeleton
// (outbox, timers, direct messages) and of the drivers and simulators that honour it.

#include <gossip/gossip.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

namespace test {

template <class Address>
struct talking_payload {
    static constexpr auto never = std::chrono::nanoseconds::max();

    std::optional<Address> peer; ///< whom to ping at `ping_at`
    std::chrono::nanoseconds ping_at = never;
    bool exchange = true;                            ///< what wants_exchange() answers
    std::vector<std::chrono::nanoseconds> woken;     ///< every on_timer() call's time
    std::vector<std::chrono::nanoseconds> pinged_at; ///< when pings arrived
    std::vector<std::chrono::nanoseconds> ponged_at; ///< when pongs arrived
    std::vector<std::pair<Address, bool>> changes;   ///< peer changes to report
    std::vector<Address> seeds;                      ///< what join() was given

    void write(gossip::wire::writer& /*w*/, gossip::wire::message_kind /*kind*/) const noexcept {}
    [[nodiscard]] bool read(gossip::wire::reader& r, gossip::wire::message_kind /*kind*/) const noexcept
    {
        return r.remaining() == 0;
    }

    [[nodiscard]] std::chrono::nanoseconds next_deadline() const noexcept { return ping_at; }

    void on_timer(std::chrono::nanoseconds now, gossip::outbox<Address>& out)
    {
        woken.push_back(now);
        if (now >= ping_at) {
            ping_at = never;
            if (peer) {
                out.send(*peer, [](gossip::wire::writer& w) { w.u8('p'); });
            }
        }
    }

    [[nodiscard]] bool receive(const Address& from, gossip::wire::reader& r, std::chrono::nanoseconds now,
                               gossip::outbox<Address>& out)
    {
        const auto c = r.u8();
        if (!r.ok() || r.remaining() != 0) {
            return false;
        }
        if (c == 'p') {
            pinged_at.push_back(now);
            out.send(from, [](gossip::wire::writer& w) { w.u8('q'); });
            return true;
        }
        if (c == 'q') {
            ponged_at.push_back(now);
            return true;
        }
        return false;
    }

    [[nodiscard]] bool wants_exchange() const noexcept { return exchange; }

    void join(std::span<const Address> contacts, std::chrono::nanoseconds /*now*/, gossip::outbox<Address>& /*out*/)
    {
        seeds.assign(contacts.begin(), contacts.end());
    }

    template <class F>
    void take_peer_changes(F&& f)
    {
        for (const auto& [a, up] : changes) {
            f(a, up);
        }
        changes.clear();
    }
};

} // namespace test
