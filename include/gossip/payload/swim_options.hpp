#pragma once

// The knobs of payload::swim and the formulas that turn them into timeouts and retransmission
// counts, kept apart from the protocol so that docs/tuning.md, the simulator and the tests can
// use the very same functions.
//
// With n members (this node included), probe interval T, multipliers alpha (suspicion_mult),
// beta (suspicion_max_mult), lambda (retransmit_mult) and K expected confirmations:
//   suspicion timeout, least   min = alpha * max(1, log10 n) * T
//   suspicion timeout, most    max = beta * min              (Lifeguard's dynamic suspicion)
//   after C confirmations      max(min, max - (max - min) * log(C + 1) / log(K + 1))
//   transmissions per update   lambda * ceil(log10(n + 1)); twice that for a user broadcast
//   full-state sync            every sync_interval, times ceil(log2 n - log2 32) + 1 above 32

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace gossip::payload {

/// Lifeguard (Dadgar, Phillips and Currey, "Lifeguard: Local Health Awareness for More Accurate
/// Failure Detection", 2018): each part can be switched off, to measure what it buys.
struct lifeguard_options {
    /// Local health multiplier (LHA-Probe): failed probes, missed nacks, refutations and a loop
    /// found running late raise a score in [0, max_health_multiplier - 1]; acks lower it. Probe
    /// interval and timeout stretch by (score + 1), so a node that is itself slow probes less
    /// eagerly and blames others less.
    bool local_health = true;
    /// The most the probe interval and timeout stretch.
    std::uint32_t max_health_multiplier = 8;
    /// Dynamic suspicion (LHA-Suspicion): a suspicion starts at the longest timeout and shrinks
    /// towards the shortest as independent members confirm it. Off: the shortest, fixed.
    bool dynamic_suspicion = true;
    /// Confirmations from distinct members that bring the timeout down to its least (K).
    std::uint32_t expected_confirmations = 3;
    /// Buddy system: a ping to a suspected member carries the suspicion first, so that the
    /// member hears of it at once and can refute it.
    bool buddy = true;
    /// A member relaying a ping-req answers nack when the target stays silent, so that a prober
    /// that hears neither ack nor nack can tell that its own network or loop is at fault.
    bool nack = true;

    /// Plain SWIM (Das, Gupta and Motivala, 2002) with suspicion: every part off.
    [[nodiscard]] static lifeguard_options off() noexcept
    {
        lifeguard_options o;
        o.local_health = false;
        o.dynamic_suspicion = false;
        o.buddy = false;
        o.nack = false;
        return o;
    }
};

/// How a swim payload probes, suspects and spreads; check() names an impossible choice.
/// The defaults are a LAN profile close to the best-known SWIM libraries'.
struct swim_options {
    /// T: a member probes one other member per period (randomized round-robin).
    std::chrono::milliseconds probe_interval{1000};
    /// Wait for a direct ack this long before asking others to probe; below probe_interval,
    /// and well above a round trip.
    std::chrono::milliseconds probe_timeout{500};
    /// k: members asked to probe a silent target indirectly (ping-req).
    std::size_t indirect_checks = 3;
    /// Updates waiting to be spread go to gossip_fanout members every gossip_interval, besides
    /// riding on every probe and ack; nothing is sent while nothing waits.
    std::chrono::milliseconds gossip_interval{200};
    std::size_t gossip_fanout = 3;
    /// Failed members keep being gossiped to for this long, so that a member wrongly declared
    /// failed hears of it and refutes.
    std::chrono::milliseconds gossip_to_the_dead{30'000};
    /// lambda: each update is sent lambda * ceil(log10(n + 1)) times by each member, and a user
    /// broadcast twice as many (nothing repairs a broadcast a member missed). memberlist uses 4;
    /// 6 closed the gaps that 4 left when a thousand members joined in 20 s (docs/tuning.md).
    double retransmit_mult = 6;
    /// alpha: the least suspicion timeout is alpha * max(1, log10 n) probe intervals.
    double suspicion_mult = 4;
    /// beta: the longest suspicion timeout is beta times the least (dynamic suspicion).
    double suspicion_max_mult = 6;
    /// Anti-entropy: a full-state sync with one random member this often (scaled up above 32
    /// members); equal states cost one datagram of a few dozen bytes. Failed members are tried
    /// as often, so that a healed partition merges again.
    std::chrono::milliseconds sync_interval{30'000};
    /// While this node knows no live member, its seeds are contacted again this often.
    std::chrono::milliseconds seed_retry_interval{1'000};
    /// Failed and left members are forgotten this long after the news (their id may then come
    /// back at any incarnation).
    std::chrono::milliseconds reclaim_after{std::chrono::minutes{5}};
    /// The most members a table holds, failed and left included; news of further members is
    /// dropped and counted, so that a flood of fresh ids cannot grow memory without bound.
    std::size_t max_members = 65'536;
    /// The most membership updates waiting to be spread, and apart from them the most user
    /// broadcasts; past either, that class's most-sent are dropped and counted.
    std::size_t max_queued = 8'192;
    /// While user broadcasts wait, they are sure of this share of each datagram's room, so that
    /// membership traffic cannot starve them (and the rest is membership's when it needs it).
    double user_share = 0.25;
    /// Ids of user broadcasts remembered, to deliver each once.
    std::size_t broadcast_memory = 4'096;
    /// Ping-reqs relayed at once; more are dropped and counted.
    std::size_t max_relays = 64;
    /// Start the first probe and gossip at a random point of their first interval, so that
    /// members started together do not probe in lock step. false starts them at once: with
    /// members started together, probes then run in step, as the paper's analysis assumes.
    bool spread_start = true;
    /// This member's stable identity. Unset: drawn from the node's seed. Give the same id to a
    /// process that restarts and should be known as the same member (at a new address too).
    std::optional<std::uint64_t> id;
    /// This member's metadata (tags), at most max_metadata_bytes; spread with its alive record.
    std::vector<std::byte> metadata;
    lifeguard_options lifeguard{};

    /// The LAN profile: the defaults.
    [[nodiscard]] static swim_options lan() { return {}; }
    /// A WAN profile: longer timeouts and rarer probes for round trips of a few hundred ms.
    [[nodiscard]] static swim_options wan()
    {
        swim_options o;
        o.probe_interval = std::chrono::milliseconds{5'000};
        o.probe_timeout = std::chrono::milliseconds{3'000};
        o.gossip_interval = std::chrono::milliseconds{500};
        o.suspicion_mult = 6;
        o.sync_interval = std::chrono::milliseconds{60'000};
        return o;
    }
    /// A profile for one machine (loopback, tests): fast probes and short timeouts.
    [[nodiscard]] static swim_options local()
    {
        swim_options o;
        o.probe_interval = std::chrono::milliseconds{200};
        o.probe_timeout = std::chrono::milliseconds{100};
        o.gossip_interval = std::chrono::milliseconds{100};
        o.suspicion_mult = 3;
        o.sync_interval = std::chrono::milliseconds{5'000};
        o.seed_retry_interval = std::chrono::milliseconds{200};
        return o;
    }
};

/// The most metadata a member may carry.
inline constexpr std::size_t max_metadata_bytes = 512;

/// Why options are impossible, or nothing.
[[nodiscard]] inline std::optional<std::string> check(const swim_options& o)
{
    using std::chrono::milliseconds;
    if (o.probe_interval <= milliseconds::zero()) {
        return "probe_interval must be positive";
    }
    if (o.probe_timeout <= milliseconds::zero() || o.probe_timeout >= o.probe_interval) {
        return "probe_timeout = " + std::to_string(o.probe_timeout.count()) + " ms must be positive and below " +
               "probe_interval = " + std::to_string(o.probe_interval.count()) +
               " ms: indirect probes need the rest of the period";
    }
    if (o.gossip_interval <= milliseconds::zero() || o.sync_interval <= milliseconds::zero() ||
        o.seed_retry_interval <= milliseconds::zero()) {
        return "gossip_interval, sync_interval and seed_retry_interval must be positive";
    }
    if (o.gossip_to_the_dead < milliseconds::zero() || o.reclaim_after <= milliseconds::zero()) {
        return "gossip_to_the_dead must not be negative, and reclaim_after must be positive";
    }
    // Deadlines are nanoseconds, stretched by up to 64 (health) and 64 (suspicion): a day per
    // interval keeps every product far inside 64 bits.
    constexpr std::chrono::hours day{24};
    if (o.probe_interval > day || o.gossip_interval > day || o.sync_interval > day || o.seed_retry_interval > day ||
        o.gossip_to_the_dead > day) {
        return "probe_interval, gossip_interval, sync_interval, seed_retry_interval and gossip_to_the_dead must be "
               "at most a day";
    }
    if (o.reclaim_after > std::chrono::hours{24 * 365}) {
        return "reclaim_after exceeds the supported maximum of a year";
    }
    if (!(o.retransmit_mult >= 1 && o.retransmit_mult <= 64)) {
        return "retransmit_mult must be within [1, 64]";
    }
    if (!(o.suspicion_mult >= 1 && o.suspicion_mult <= 64)) {
        return "suspicion_mult must be within [1, 64]";
    }
    if (!(o.suspicion_max_mult >= 1 && o.suspicion_max_mult <= 64)) {
        return "suspicion_max_mult must be within [1, 64]";
    }
    if (o.gossip_fanout == 0 || o.gossip_fanout > 64 || o.indirect_checks > 64) {
        return "gossip_fanout must be within [1, 64], and indirect_checks at most 64";
    }
    if (o.max_members == 0 || o.max_members > 0xFFFFFFF0U) {
        return "max_members must be within [1, 2^32 - 16]";
    }
    if (o.max_queued == 0 || o.broadcast_memory == 0) {
        return "max_queued and broadcast_memory must be at least 1";
    }
    if (!(o.user_share >= 0 && o.user_share < 1)) {
        return "user_share must be within [0, 1)";
    }
    if (o.metadata.size() > max_metadata_bytes) {
        return "metadata holds " + std::to_string(o.metadata.size()) + " bytes; at most " +
               std::to_string(max_metadata_bytes) + " are allowed";
    }
    if (o.lifeguard.max_health_multiplier == 0 || o.lifeguard.max_health_multiplier > 64) {
        return "lifeguard.max_health_multiplier must be within [1, 64]";
    }
    if (o.lifeguard.expected_confirmations > 32) {
        return "lifeguard.expected_confirmations must be at most 32";
    }
    return std::nullopt;
}

namespace swim_formulas {

/// The least suspicion timeout for n members: alpha * max(1, log10 n) * T.
[[nodiscard]] inline std::chrono::nanoseconds min_suspicion(const swim_options& o, std::size_t n)
{
    const double scale = std::max(1.0, std::log10(static_cast<double>(std::max<std::size_t>(n, 1))));
    const auto t = std::chrono::duration_cast<std::chrono::nanoseconds>(o.probe_interval);
    return std::chrono::nanoseconds{
        static_cast<std::int64_t>(o.suspicion_mult * scale * static_cast<double>(t.count()))};
}

/// The longest: beta times the least, when suspicion is dynamic; the least otherwise.
[[nodiscard]] inline std::chrono::nanoseconds max_suspicion(const swim_options& o, std::size_t n)
{
    const auto least = min_suspicion(o, n);
    if (!o.lifeguard.dynamic_suspicion) {
        return least;
    }
    return std::chrono::nanoseconds{
        static_cast<std::int64_t>(o.suspicion_max_mult * static_cast<double>(least.count()))};
}

/// Confirmations expected for n members: K, but no more than the n - 2 members other than the
/// suspect and the first accuser; 0 when suspicion is not dynamic.
[[nodiscard]] inline std::uint32_t expected_confirmations(const swim_options& o, std::size_t n)
{
    if (!o.lifeguard.dynamic_suspicion || n < 3) {
        return 0;
    }
    return static_cast<std::uint32_t>(std::min<std::size_t>(o.lifeguard.expected_confirmations, n - 2));
}

/// The suspicion timeout after `confirmations` independent confirmations, counted from the start
/// of the suspicion: max(min, max - (max - min) * log(C + 1) / log(K + 1)).
[[nodiscard]] inline std::chrono::nanoseconds suspicion_timeout(std::chrono::nanoseconds least,
                                                                std::chrono::nanoseconds most,
                                                                std::uint32_t confirmations, std::uint32_t expected)
{
    if (expected == 0 || most <= least) {
        return least;
    }
    const double fraction =
        std::log(static_cast<double>(confirmations) + 1.0) / std::log(static_cast<double>(expected) + 1.0);
    const double raw = static_cast<double>(most.count()) - fraction * static_cast<double>((most - least).count());
    return std::max(least, std::chrono::nanoseconds{static_cast<std::int64_t>(std::floor(raw))});
}

/// Transmissions of each update by each member: ceil(lambda * ceil(log10(n + 1))), at least 1.
[[nodiscard]] inline std::uint32_t retransmit_limit(const swim_options& o, std::size_t n)
{
    const double scale = std::ceil(std::log10(static_cast<double>(n) + 1.0));
    return static_cast<std::uint32_t>(std::max(1.0, std::ceil(o.retransmit_mult * scale)));
}

/// Transmissions of each user broadcast by each member: twice an update's, since a periodic sync
/// repairs membership but nothing repairs a broadcast.
[[nodiscard]] inline std::uint32_t broadcast_retransmit_limit(const swim_options& o, std::size_t n)
{
    return 2 * retransmit_limit(o, n);
}

/// The full-state sync interval for n members: longer above 32, so that the cluster's total sync
/// traffic grows more slowly than n.
[[nodiscard]] inline std::chrono::nanoseconds sync_interval(const swim_options& o, std::size_t n)
{
    const auto base = std::chrono::duration_cast<std::chrono::nanoseconds>(o.sync_interval);
    if (n <= 32) {
        return base;
    }
    const double factor = std::ceil(std::log2(static_cast<double>(n)) - std::log2(32.0)) + 1.0;
    return std::chrono::nanoseconds{static_cast<std::int64_t>(factor * static_cast<double>(base.count()))};
}

/// The expected number of probe periods until some member first probes a member that failed at
/// the start of a period, for n members each probing one other uniformly: 1 / (1 - (1 - 1/(n-1))^(n-1)),
/// which tends to e / (e - 1) ~ 1.582 (Das et al. 2002).
[[nodiscard]] inline double expected_first_detection_periods(std::size_t n)
{
    if (n < 2) {
        return 0;
    }
    const auto others = static_cast<double>(n - 1);
    return 1.0 / (1.0 - std::pow(1.0 - 1.0 / others, others));
}

} // namespace swim_formulas

} // namespace gossip::payload
