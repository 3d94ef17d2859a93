#pragma once

// transport::rate_limited<Inner>: a token bucket on the bytes a member sends, and another on the
// bytes it takes in, so that neither a runaway payload nor a flood from outside can take more
// than its share of a link or of the loop. What is over budget is dropped and counted, never
// queued: gossip repairs a lost datagram, while a queue would only add delay.
//
// Composes with the other decorators, innermost so that it counts bytes on the wire:
// compressed<sealed<rate_limited<udp>>> checks the receive budget before any cryptography or
// decoding, and limits compressed, sealed bytes on the way out.

#include "../detail/token_bucket.hpp"
#include "../detail/transport_decorator.hpp"
#include "policy.hpp"

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <span>
#include <stdexcept>
#include <utility>

namespace gossip::transport {

/// Budgets in bytes per second; 0 leaves that direction unlimited. A burst is what a bucket
/// holds when full: the most that can go at once after a quiet spell.
struct rate_limit_options {
    std::uint64_t send_bytes_per_second = 0;
    std::uint64_t send_burst_bytes = 65'536;
    std::uint64_t receive_bytes_per_second = 0;
    std::uint64_t receive_burst_bytes = 262'144;
};

/// What each bucket let through and dropped.
struct rate_limit_statistics {
    std::uint64_t sent = 0;
    std::uint64_t send_dropped = 0;
    std::uint64_t send_dropped_bytes = 0;
    std::uint64_t received = 0;
    std::uint64_t receive_dropped = 0;
    std::uint64_t receive_dropped_bytes = 0;
};

// clang-format 14 mangles concepts and requires-clauses: kept as written.
// clang-format off
/// Inner, with what it sends and what it takes in held to byte budgets.
template <class Inner>
    requires transport_policy<Inner>
// clang-format on
class rate_limited : public gossip::detail::transport_decorator<Inner> {
    using base = gossip::detail::transport_decorator<Inner>;
    using base::inner_;

public:
    using address_type = typename Inner::address_type;

    rate_limited(Inner inner, const rate_limit_options& options)
        : base(std::move(inner)), send_(checked(options).send_bytes_per_second, options.send_burst_bytes),
          receive_(options.receive_bytes_per_second, options.receive_burst_bytes)
    {
    }

    bool send(const address_type& to, std::span<const std::byte> bytes)
    {
        if (!send_.take(bytes.size(), this->inner_clock())) {
            ++stats_.send_dropped;
            stats_.send_dropped_bytes += bytes.size();
            return false;
        }
        ++stats_.sent;
        return inner_.send(to, bytes);
    }

    /// Hands on what fits the receive budget (through Inner's own check, if it has one).
    template <class F>
    bool inbound(const address_type& from, std::span<const std::byte> bytes, F&& f)
    {
        if (!receive_.take(bytes.size(), this->inner_clock())) {
            ++stats_.receive_dropped;
            stats_.receive_dropped_bytes += bytes.size();
            return false;
        }
        ++stats_.received;
        return this->inbound_after_inner(from, bytes, [&](std::span<const std::byte> inside) {
            f(inside);
            return true;
        });
    }

    [[nodiscard]] const rate_limit_statistics& statistics() const noexcept { return stats_; }

private:
    static const rate_limit_options& checked(const rate_limit_options& o)
    {
        if ((o.send_bytes_per_second != 0 && o.send_burst_bytes == 0) ||
            (o.receive_bytes_per_second != 0 && o.receive_burst_bytes == 0)) {
            throw std::invalid_argument("gossip::transport::rate_limited: a limited direction needs a burst of at "
                                        "least one datagram");
        }
        return o;
    }

    gossip::detail::token_bucket send_;
    gossip::detail::token_bucket receive_;
    rate_limit_statistics stats_;
};

} // namespace gossip::transport
