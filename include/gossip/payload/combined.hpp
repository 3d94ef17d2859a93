#pragma once

// Two payloads on the same exchanges: membership beside a replicated store, say, so that one
// datagram carries heartbeats and data alike. Each keeps its own section and never sees the
// other's bytes.
//
// Section layout: u16 length of the first's section | the first's section | the second's
// section (the rest).
//
// The budget: the first may take at most first_share of the room left in the datagram, and the
// second takes whatever the first left, so a first payload that fills every byte it is offered
// (membership rotating through a large table) cannot starve the second.

#include "../random.hpp"
#include "policy.hpp"

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <utility>

namespace gossip::payload {

template <payload_policy First, payload_policy Second>
class combined {
public:
    using first_type = First;
    using second_type = Second;

    combined() = default;

    /// first_share in (0, 1]: the most of the remaining room the first section may take. Throws
    /// std::invalid_argument outside that range.
    explicit combined(First first, Second second = Second{}, double first_share = 0.5)
        : first_(std::move(first)), second_(std::move(second)), first_share_(checked(first_share))
    {
    }

    [[nodiscard]] First& first() noexcept { return first_; }
    [[nodiscard]] const First& first() const noexcept { return first_; }
    [[nodiscard]] Second& second() noexcept { return second_; }
    [[nodiscard]] const Second& second() const noexcept { return second_; }
    [[nodiscard]] double first_share() const noexcept { return first_share_; }

    template <class Address>
    void start(const payload_context<Address>& context)
    {
        // Each part gets a seed of its own: two parts of one type must not make the same choices.
        if constexpr (payload_with_start<First, Address>) {
            first_.start(payload_context<Address>{context.self, mix_seed(context.seed, 1)});
        }
        if constexpr (payload_with_start<Second, Address>) {
            second_.start(payload_context<Address>{context.self, mix_seed(context.seed, 2)});
        }
    }

    void on_period(std::chrono::nanoseconds now)
    {
        if constexpr (payload_with_period<First>) {
            first_.on_period(now);
        }
        if constexpr (payload_with_period<Second>) {
            second_.on_period(now);
        }
    }

    [[nodiscard]] bool wants_reply() const
        requires payload_with_replies<First> || payload_with_replies<Second>
    {
        return replies(first_) || replies(second_);
    }

    void leave()
        requires payload_with_leave<First> || payload_with_leave<Second>
    {
        if constexpr (payload_with_leave<First>) {
            first_.leave();
        }
        if constexpr (payload_with_leave<Second>) {
            second_.leave();
        }
    }

    void write(wire::writer& w, wire::message_kind kind)
    {
        const std::size_t length_at = w.size();
        w.u16(0);
        if (!w.ok()) {
            return;
        }
        const auto room = std::min<std::size_t>(w.remaining(), 0xFFFF);
        const auto share = static_cast<std::size_t>(static_cast<double>(room) * first_share_);
        wire::writer part{w.unused().first(share)};
        first_.write(part, kind);
        if (!part.ok()) {
            w.fail();
            return;
        }
        w.advance(part.size());
        w.patch_u16(length_at, static_cast<std::uint16_t>(part.size()));
        second_.write(w, kind);
    }

    [[nodiscard]] bool read(wire::reader& r, wire::message_kind kind)
    {
        const std::size_t length = r.u16();
        const auto first_bytes = r.bytes(length);
        if (!r.ok()) {
            return false;
        }
        wire::reader first_section(first_bytes);
        if (!first_.read(first_section, kind)) {
            return false;
        }
        return second_.read(r, kind);
    }

private:
    template <class P>
    static bool replies(const P& p)
    {
        if constexpr (payload_with_replies<P>) {
            return p.wants_reply();
        } else {
            return false;
        }
    }

    static double checked(double share)
    {
        if (!(share > 0.0 && share <= 1.0)) {
            throw std::invalid_argument("combined: first_share = " + std::to_string(share) + " is outside (0, 1]");
        }
        return share;
    }

    First first_{};
    Second second_{};
    double first_share_ = 0.5;
};

} // namespace gossip::payload
