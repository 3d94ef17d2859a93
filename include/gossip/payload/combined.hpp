#pragma once

// Two payloads on the same exchanges: membership beside a replicated store, say, so that one
// datagram carries heartbeats and data alike. Each keeps its own section and never sees the
// other's bytes.
//
// Section layout: u16 length of the first's section | the first's section | the second's
// section (the rest).
//
// The budget: each part is sure of its share of the room left in the datagram when both want
// more: first_share for the first, the rest for the second. Room one part does not use goes to
// the other, so that membership over a large table fills what an idle store leaves, and a burst
// of rumors fills what a small table leaves. Which part writes first decides who gets the
// leftover: while the first part fits its share with room to spare, it writes first and the
// second takes the rest; once it fills its share (it would take more), the second writes first,
// into its own share, and the first takes whatever the second left. The bytes are moved so that
// the section's layout is the same either way.
//
// Parts that talk on their own (payload_with_messages: SWIM) keep doing so: their timers run,
// and their direct messages carry one more byte at the start of the section, the part's number
// (0 for the first, 1 for the second), so that the answer reaches the part that asked. A
// combination wants the node's periodic exchange when either part does (a part that has no say
// always does), joins both parts to the seeds, and reports the member changes of both.

#include "../random.hpp"
#include "policy.hpp"

#include <algorithm>
#include <chrono>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <stdexcept>
#include <string>
#include <utility>

namespace gossip::payload {

/// Two payloads on the same exchanges, each in its own part of the section, sharing the room as
/// the top of this file says: membership beside a replicated store, say.
template <payload_policy First, payload_policy Second>
class combined {
public:
    using first_type = First;
    using second_type = Second;

    combined() = default;

    /// first_share in (0, 1]: the share of the remaining room the first section is sure of when
    /// both parts want more (the second is sure of the rest; at 1, of nothing). Throws
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

    /// The part by position (0: First, 1: Second), as std::get does for a tuple.
    template <std::size_t I>
    requires(I < 2) [[nodiscard]] auto& get() noexcept
    {
        if constexpr (I == 0) {
            return first_;
        } else {
            return second_;
        }
    }
    template <std::size_t I>
    requires(I < 2) [[nodiscard]] const auto& get() const noexcept
    {
        return const_cast<combined&>(*this).template get<I>(); // NOLINT(cppcoreguidelines-pro-type-const-cast)
    }

    /// The part by type, when the two differ: payload().get<swim<udp_address>>() reads better
    /// than first() where a reader must remember the order.
    template <class T>
    requires(std::same_as<T, First> != std::same_as<T, Second>) [[nodiscard]] T& get() noexcept
    {
        return get < std::same_as<T, First> ? 0 : 1 > ();
    }
    template <class T>
    requires(std::same_as<T, First> != std::same_as<T, Second>) [[nodiscard]] const T& get() const noexcept
    {
        return get < std::same_as<T, First> ? 0 : 1 > ();
    }

    template <class Address>
    void start(const payload_context<Address>& context)
    {
        // Each part gets a seed of its own: two parts of one type must not make the same choices.
        if constexpr (payload_with_start<First, Address>) {
            first_.start(payload_context<Address>{context.self, mix_seed(context.seed, 1), context.period,
                                                  context.max_message_bytes});
        }
        if constexpr (payload_with_start<Second, Address>) {
            second_.start(payload_context<Address>{context.self, mix_seed(context.seed, 2), context.period,
                                                   context.max_message_bytes});
        }
    }

    // clang-format 14 mangles concepts and requires-clauses: kept as written.
    // clang-format off
    /// The earlier of the parts' deadlines.
    [[nodiscard]] std::chrono::nanoseconds next_deadline() const
        requires payload_with_deadline<First> || payload_with_deadline<Second>
    // clang-format on
    {
        return std::min(deadline_of(first_), deadline_of(second_));
    }

    // clang-format off
    template <class Address>
        requires payload_with_messages<First, Address> || payload_with_messages<Second, Address>
    // clang-format on
    void on_timer(std::chrono::nanoseconds now, outbox<Address>& out)
    {
        if constexpr (payload_with_messages<First, Address>) {
            const auto scope = out.enter(0);
            first_.on_timer(now, out);
        }
        if constexpr (payload_with_messages<Second, Address>) {
            const auto scope = out.enter(1);
            second_.on_timer(now, out);
        }
    }

    // clang-format off
    /// A direct message: its first byte names the part it is for.
    template <class Address>
        requires payload_with_messages<First, Address> || payload_with_messages<Second, Address>
    // clang-format on
    [[nodiscard]] bool receive(const Address& from, wire::reader& r, std::chrono::nanoseconds now, outbox<Address>& out)
    {
        const auto part = r.u8();
        if (!r.ok()) {
            return false;
        }
        if constexpr (payload_with_messages<First, Address>) {
            if (part == 0) {
                const auto scope = out.enter(0);
                return first_.receive(from, r, now, out);
            }
        }
        if constexpr (payload_with_messages<Second, Address>) {
            if (part == 1) {
                const auto scope = out.enter(1);
                return second_.receive(from, r, now, out);
            }
        }
        return false;
    }

    // clang-format off
    [[nodiscard]] bool wants_exchange() const
        requires payload_with_exchange_gate<First> || payload_with_exchange_gate<Second>
    // clang-format on
    {
        return wants(first_) || wants(second_);
    }

    // clang-format off
    template <class Address>
        requires payload_with_join<First, Address> || payload_with_join<Second, Address>
    // clang-format on
    void join(std::span<const Address> seeds, std::chrono::nanoseconds now, outbox<Address>& out)
    {
        if constexpr (payload_with_join<First, Address>) {
            const auto scope = out.enter(0);
            first_.join(seeds, now, out);
        }
        if constexpr (payload_with_join<Second, Address>) {
            const auto scope = out.enter(1);
            second_.join(seeds, now, out);
        }
    }

    // clang-format off
    template <class F>
        requires requires(First& a, F& f) { a.take_peer_changes(f); } ||
                 requires(Second& b, F& f) { b.take_peer_changes(f); }
    // clang-format on
    void take_peer_changes(F&& f)
    {
        if constexpr (requires { first_.take_peer_changes(f); }) {
            first_.take_peer_changes(f);
        }
        if constexpr (requires { second_.take_peer_changes(f); }) {
            second_.take_peer_changes(f);
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

    // clang-format 14 mangles concepts and requires-clauses: kept as written.
    // clang-format off
    [[nodiscard]] bool wants_reply() const
        requires payload_with_replies<First> || payload_with_replies<Second>
    // clang-format on
    {
        return replies(first_) || replies(second_);
    }

    // clang-format off
    void leave()
        requires payload_with_leave<First> || payload_with_leave<Second>
    // clang-format on
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
        const auto room = w.unused().first(std::min<std::size_t>(w.remaining(), 0xFFFF));
        const auto share = static_cast<std::size_t>(static_cast<double>(room.size()) * first_share_);
        std::size_t first_size = 0;
        std::size_t second_size = 0;
        if (!first_hungry_ || share >= room.size()) {
            if (!write_part(first_, room.first(share), kind, first_size)) {
                w.fail();
                return;
            }
            first_hungry_ = share - first_size < hungry_margin;
            if (!write_part(second_, room.subspan(first_size), kind, second_size)) {
                w.fail();
                return;
            }
        } else {
            if (!write_part(second_, room.subspan(share), kind, second_size)) {
                w.fail();
                return;
            }
            // Out of the first's way, to the end of the room, then back behind the first.
            const std::size_t second_at = room.size() - second_size;
            std::memmove(room.data() + second_at, room.data() + share, second_size);
            if (!write_part(first_, room.first(second_at), kind, first_size)) {
                w.fail();
                return;
            }
            // Still more than its share would hold with room to spare, even if it all fitted here.
            first_hungry_ = first_size + hungry_margin > share;
            std::memmove(room.data() + first_size, room.data() + second_at, second_size);
        }
        w.advance(first_size + second_size);
        w.patch_u16(length_at, static_cast<std::uint16_t>(first_size));
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
    static std::chrono::nanoseconds deadline_of(const P& p)
    {
        if constexpr (payload_with_deadline<P>) {
            return p.next_deadline();
        } else {
            return std::chrono::nanoseconds::max();
        }
    }

    template <class P>
    static bool wants(const P& p)
    {
        if constexpr (payload_with_exchange_gate<P>) {
            return p.wants_exchange();
        } else {
            return true;
        }
    }

    // Writes one part's section at the start of `into`; false when it did not fit.
    template <class P>
    static bool write_part(P& part, std::span<std::byte> into, wire::message_kind kind, std::size_t& size)
    {
        wire::writer out{into};
        part.write(out, kind);
        size = out.size();
        return out.ok();
    }

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

    // A first part that leaves less than this of its room unused is taken to want more: less
    // than the largest membership entry, say, would not fit.
    static constexpr std::size_t hungry_margin = 64;

    First first_{};
    Second second_{};
    double first_share_ = 0.5;
    bool first_hungry_ = false; ///< the first wants more than its share: the second writes first
};

} // namespace gossip::payload
