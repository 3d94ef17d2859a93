#pragma once

// The runtime knobs of a node, validated once, at construction, so that a bad value is reported
// where it was written rather than discovered as odd behaviour a thousand rounds later.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>

namespace gossip {

/// Thrown by gossip_node (and anything else that takes a config) when a value is impossible.
class config_error : public std::invalid_argument {
public:
    using std::invalid_argument::invalid_argument;
};

/// When the active side of an exchange makes its view one cycle older (the passive side always
/// ages after merging a request, as in the paper).
enum class view_aging : std::uint8_t {
    /// Jelasity et al.'s order: after merging the reply (after sending, when nothing is pulled).
    /// A reply that has not come by the next cycle is given up, and the view ages then.
    after_exchange,
    /// Before the cycle's peer selection (the order of earlier builds): the reply's
    /// descriptors enter one cycle younger relative to the rest of the view.
    cycle_start,
};

/// Runtime parameters shared by every policy combination.
///
/// The names follow Jelasity et al., "Gossip-based peer sampling" (ACM TOCS 2007):
/// c is the view size, H the healer parameter, S the swapper parameter.
struct config {
    /// c: the most descriptors a view holds. A buffer sent in an exchange holds c/2 of them.
    std::size_t view_size = 30;
    /// H: how many of the oldest descriptors are kept out of an outgoing buffer and dropped
    /// first on merge. Used by view_selection::generalized; the presets fix their own.
    std::size_t healer = 0;
    /// S: how many of the descriptors just sent are dropped on merge (swapped away).
    std::size_t swapper = 0;
    /// How many peers the active side contacts each period.
    std::size_t fanout = 1;
    /// Time between two active exchanges; simulators in round mode treat one round as one period.
    std::chrono::milliseconds period{1000};
    /// The largest datagram a node sends; the default is safe under a 1500-byte MTU.
    std::size_t max_message_bytes = 1400;
    /// Every this many periods, a node also exchanges with one of the seeds it joined through
    /// that is not in its view (0: never). Without it, a partition that lasts long enough for
    /// every view to forget the other side stays split after it heals; with it, the seeds see
    /// about n / seed_refresh extra exchanges a period.
    std::size_t seed_refresh = 0;
    /// When the active side ages its view. The order changes the overlay (the in-degree spread
    /// with healer, say: docs/view_selection.md), not its cost.
    view_aging aging = view_aging::after_exchange;

    friend bool operator==(const config&, const config&) = default;
};

/// Smallest datagram budget accepted: enough for a header and a useful sample.
inline constexpr std::size_t min_message_bytes = 64;
/// UDP's hard limit on a payload over IPv4.
inline constexpr std::size_t max_datagram_bytes = 65507;
/// Views are indexed with 32-bit integers on the hot path and counted with 16 bits on the wire.
inline constexpr std::size_t max_view_size = 4096;
/// The most a node answers an address it has not seen answer it, in bytes, for each byte that
/// address sent: a stranger who forges its source address cannot turn a node into an amplifier
/// against somebody else (QUIC bounds unvalidated addresses by the same factor). A payload
/// proves an address with outbox::proven() (SWIM: an ack carrying its ping's sequence number).
inline constexpr std::size_t max_amplification = 3;

/// The reason a config is impossible, or nothing when it is valid.
[[nodiscard]] inline std::optional<std::string> check(const config& cfg)
{
    const auto c = cfg.view_size;
    if (c == 0) {
        return "view_size (c) must be at least 1";
    }
    if (c > max_view_size) {
        return "view_size (c) = " + std::to_string(c) + " exceeds the supported maximum of " +
               std::to_string(max_view_size);
    }
    if (cfg.aging != view_aging::after_exchange && cfg.aging != view_aging::cycle_start) {
        return "aging = " + std::to_string(static_cast<int>(cfg.aging)) + " is neither after_exchange nor cycle_start";
    }
    // Written so that no sum can wrap around: H > c/2 alone already fails.
    if (cfg.healer > c / 2 || cfg.swapper > c / 2 - cfg.healer) {
        return "healer (H) = " + std::to_string(cfg.healer) + " plus swapper (S) = " + std::to_string(cfg.swapper) +
               " exceeds c/2 = " + std::to_string(c / 2) + "; the exchanged buffer only holds c/2 descriptors";
    }
    if (cfg.fanout == 0) {
        return "fanout must be at least 1";
    }
    if (cfg.fanout > c) {
        return "fanout = " + std::to_string(cfg.fanout) + " exceeds view_size (c) = " + std::to_string(c) +
               "; a node cannot contact more distinct peers than it knows";
    }
    if (cfg.period <= std::chrono::milliseconds::zero()) {
        return "period must be positive";
    }
    if (cfg.max_message_bytes < min_message_bytes || cfg.max_message_bytes > max_datagram_bytes) {
        return "max_message_bytes = " + std::to_string(cfg.max_message_bytes) + " is outside [" +
               std::to_string(min_message_bytes) + ", " + std::to_string(max_datagram_bytes) + "]";
    }
    return std::nullopt;
}

/// Returns cfg unchanged, or throws config_error naming the first impossible value.
inline const config& validate(const config& cfg)
{
    if (auto problem = check(cfg)) {
        throw config_error("gossip::config: " + *problem);
    }
    return cfg;
}

/// How many descriptors from the view go into one exchanged buffer (the sender's own
/// descriptor is the c/2-th).
[[nodiscard]] constexpr std::size_t buffer_size(const config& cfg) noexcept
{
    return cfg.view_size / 2 > 0 ? cfg.view_size / 2 - 1 : 0;
}

} // namespace gossip
