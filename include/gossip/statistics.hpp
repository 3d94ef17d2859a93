#pragma once

#include <cstdint>

namespace gossip {

/// What a node has done and refused. Every datagram it receives ends in exactly one of
/// accepted, dropped_malformed or dropped_unexpected.
struct node_statistics {
    std::uint64_t cycles = 0; ///< active periods started
    std::uint64_t messages_sent = 0;
    std::uint64_t bytes_sent = 0;
    std::uint64_t send_failures = 0;        ///< refused by the transport, or too large to send
    std::uint64_t accepted = 0;             ///< datagrams decoded and applied
    std::uint64_t bytes_received = 0;       ///< of every datagram, accepted or not
    std::uint64_t dropped_malformed = 0;    ///< failed to decode, or the payload refused its section
    std::uint64_t dropped_unexpected = 0;   ///< well-formed but not for us: from ourselves, or a reply
                                            ///< a push-only node never asks for
    std::uint64_t dropped_by_transport = 0; ///< refused by the transport's inbound check (a sealed
                                            ///< transport's forged, replayed or foreign datagrams)
    std::uint64_t answers_limited = 0;      ///< answers not sent: to an address not yet proven, they
                                            ///< would have passed max_amplification times the question
    std::uint64_t seed_contacts = 0;        ///< exchanges opened with a seed not in the view (seed_refresh)

    friend bool operator==(const node_statistics&, const node_statistics&) = default;
};

} // namespace gossip
