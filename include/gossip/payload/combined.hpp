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

#include "../random.hpp"
#include "policy.hpp"

#include <algorithm>
#include <chrono>
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

    template <class Address>
    void start(const payload_context<Address>& context)
    {
        // Each part gets a seed of its own: two parts of one type must not make the same choices.
        if constexpr (payload_with_start<First, Address>) {
            first_.start(payload_context<Address>{context.self, mix_seed(context.seed, 1), context.period});
        }
        if constexpr (payload_with_start<Second, Address>) {
            second_.start(payload_context<Address>{context.self, mix_seed(context.seed, 2), context.period});
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
