#pragma once

// Metrics: a node's counters and gauges in one snapshot (its own, its payload's parts', and every
// layer of its transport's), and the Prometheus text exposition of a snapshot. No server: hand
// the text to whatever serves /metrics in your process.
//
//   const auto m = gossip::snapshot(node);            // on the node's thread
//   std::string text = gossip::to_prometheus(m, {{"node", node.address().to_string()}});
//
// Counters are named after the statistics they come from, prefixed by their part (node_, swim_,
// anti_entropy_, sealed_, udp_, ...) and ending in _total; gauges are not. A payload or
// transport of your own joins in with an overload `void describe(gossip::metrics_snapshot&,
// const your_statistics&)` found by argument-dependent lookup, for the type its statistics()
// returns.

#include "payload/anti_entropy.hpp"
#include "payload/membership.hpp"
#include "payload/rumor_set.hpp"
#include "payload/swim.hpp"
#include "statistics.hpp"
#include "transport/compressed.hpp"
#include "transport/rate_limited.hpp"
#include "transport/sealed.hpp"
#include "transport/udp.hpp"

#include <array>
#include <charconv>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace gossip {

/// Whether a figure only grows (counter) or goes up and down (gauge).
enum class metric_kind : std::uint8_t { counter, gauge };

/// One figure: a name without prefix (snake_case; counters end in _total), its help text, and
/// its value. Counters keep their exact integer; gauges are doubles.
struct metric {
    std::string name;
    std::string help;
    metric_kind kind = metric_kind::counter;
    std::uint64_t count = 0;
    double value = 0;
};

/// Figures in the order they were added; a name appears once (a later add under the same name
/// is refused, so the exposition stays valid).
class metrics_snapshot {
public:
    void counter(std::string_view name, std::string_view help, std::uint64_t count)
    {
        add(metric{std::string(name), std::string(help), metric_kind::counter, count, 0});
    }
    void gauge(std::string_view name, std::string_view help, double value)
    {
        add(metric{std::string(name), std::string(help), metric_kind::gauge, 0, value});
    }

    [[nodiscard]] std::span<const metric> items() const noexcept { return items_; }
    [[nodiscard]] std::size_t size() const noexcept { return items_.size(); }

    /// The figure with this name, or nothing.
    [[nodiscard]] const metric* find(std::string_view name) const noexcept
    {
        for (const auto& m : items_) {
            if (m.name == name) {
                return &m;
            }
        }
        return nullptr;
    }

private:
    void add(metric m)
    {
        if (find(m.name) == nullptr) {
            items_.push_back(std::move(m));
        }
    }

    std::vector<metric> items_;
};

// --- the library's statistics ---------------------------------------------------------------

inline void describe(metrics_snapshot& m, const node_statistics& s)
{
    m.counter("node_cycles_total", "Active periods started.", s.cycles);
    m.counter("node_messages_sent_total", "Datagrams sent by the node.", s.messages_sent);
    m.counter("node_bytes_sent_total", "Bytes sent by the node.", s.bytes_sent);
    m.counter("node_send_failures_total", "Sends refused by the transport, or too large.", s.send_failures);
    m.counter("node_accepted_total", "Datagrams decoded and applied.", s.accepted);
    m.counter("node_bytes_received_total", "Bytes of every datagram received.", s.bytes_received);
    m.counter("node_dropped_malformed_total", "Datagrams that failed to decode, or whose section was refused.",
              s.dropped_malformed);
    m.counter("node_dropped_unexpected_total", "Well-formed datagrams not meant for this node.", s.dropped_unexpected);
    m.counter("node_dropped_by_transport_total", "Datagrams refused by the transport's inbound check.",
              s.dropped_by_transport);
    m.counter("node_answers_limited_total", "Answers not sent to unproven addresses (amplification bound).",
              s.answers_limited);
    m.counter("node_seed_contacts_total", "Exchanges opened with a seed not in the view.", s.seed_contacts);
}

inline void describe(metrics_snapshot& m, const payload::swim_statistics& s)
{
    m.counter("swim_probes_total", "Pings sent as this member's own probes.", s.probes);
    m.counter("swim_acks_total", "Probes answered directly.", s.acks);
    m.counter("swim_indirect_acks_total", "Probes answered through a relay.", s.indirect_acks);
    m.counter("swim_probes_failed_total", "Probes that ended without any ack.", s.probes_failed);
    m.counter("swim_indirect_probes_total", "Ping-reqs sent.", s.indirect_probes);
    m.counter("swim_relays_total", "Ping-reqs served for others.", s.relays);
    m.counter("swim_relays_refused_total", "Ping-reqs dropped: too many at once.", s.relays_refused);
    m.counter("swim_nacks_sent_total", "Relays whose target stayed silent.", s.nacks_sent);
    m.counter("swim_nacks_received_total", "Nacks for this member's own probes.", s.nacks_received);
    m.counter("swim_missed_nacks_total", "Ping-reqs that brought neither ack nor nack.", s.missed_nacks);
    m.counter("swim_late_acks_total", "Acks for no probe or relay under way.", s.late_acks);
    m.counter("swim_stalls_total", "Probes abandoned because this member's loop ran late.", s.stalls);
    m.counter("swim_suspicions_total", "Members this member suspected after its own probe.", s.suspicions);
    m.counter("swim_suspected_total", "Members that turned suspect here.", s.suspected);
    m.counter("swim_confirmations_total", "Distinct further accusers of a suspect.", s.confirmations);
    m.counter("swim_refutations_total", "Claims about this member refuted.", s.refutations);
    m.counter("swim_false_suspicions_total", "Suspects later refuted.", s.false_suspicions);
    m.counter("swim_failures_total", "Members declared failed here.", s.failures);
    m.counter("swim_joined_total", "Joined events.", s.joined);
    m.counter("swim_failed_total", "Failed events, declared here or heard.", s.failed);
    m.counter("swim_left_total", "Left events.", s.left);
    m.counter("swim_updated_total", "Updated events.", s.updated);
    m.counter("swim_reclaimed_total", "Failed or left members forgotten.", s.reclaimed);
    m.counter("swim_gossip_messages_total", "Gossip datagrams sent.", s.gossip_messages);
    m.counter("swim_syncs_total", "Full-state syncs opened.", s.syncs);
    m.counter("swim_syncs_equal_total", "Syncs that found equal states.", s.syncs_equal);
    m.counter("swim_sync_pages_total", "Pages of state sent.", s.sync_pages);
    m.counter("swim_seed_contacts_total", "Join messages sent to seeds.", s.seed_contacts);
    m.counter("swim_updates_sent_total", "Piggybacked updates written.", s.updates_sent);
    m.counter("swim_updates_received_total", "Updates read.", s.updates_received);
    m.counter("swim_stale_updates_total", "Updates older than what this member knew.", s.stale_updates);
    m.counter("swim_dropped_table_full_total", "News of members refused: max_members.", s.dropped_table_full);
    m.counter("swim_dropped_queue_full_total", "Updates dropped from a full queue.", s.dropped_queue_full);
    m.counter("swim_delivered_total", "User broadcasts delivered.", s.delivered);
    m.counter("swim_duplicates_total", "User broadcasts heard again.", s.duplicates);
    m.counter("swim_malformed_total", "Sections refused.", s.malformed);
}

inline void describe(metrics_snapshot& m, const payload::membership_statistics& s)
{
    m.counter("membership_entries_sent_total", "Entries written into sections.", s.entries_sent);
    m.counter("membership_truncated_writes_total", "Sections that could not hold every entry.", s.truncated_writes);
    m.counter("membership_sections_received_total", "Well-formed sections applied.", s.sections_received);
    m.counter("membership_entries_received_total", "Entries received.", s.entries_received);
    m.counter("membership_updates_total", "Entries newer than what this node knew.", s.updates);
    m.counter("membership_stale_ignored_total", "Entries older than what this node knew.", s.stale_ignored);
    m.counter("membership_dropped_table_full_total", "Entries about unknown members refused: max_members.",
              s.dropped_table_full);
    m.counter("membership_joined_total", "Joined events.", s.joined);
    m.counter("membership_failures_detected_total", "Failed events.", s.failures_detected);
    m.counter("membership_left_total", "Left events.", s.left);
    m.counter("membership_recovered_total", "Recovered events.", s.recovered);
    m.counter("membership_restarted_total", "Restarted events.", s.restarted);
    m.counter("membership_forgotten_total", "Members removed after t_cleanup.", s.forgotten);
    m.counter("membership_refuted_total", "Claims about this node refuted.", s.refuted);
}

inline void describe(metrics_snapshot& m, const payload::rumor_statistics& s)
{
    m.counter("rumor_broadcast_total", "Rumors started here.", s.broadcast);
    m.counter("rumor_delivered_total", "Rumors learned from peers.", s.delivered);
    m.counter("rumor_duplicates_total", "Copies of rumors already known.", s.duplicates);
    m.counter("rumor_refused_too_old_total", "Copies older than this node could recognise.", s.refused_too_old);
    m.counter("rumor_copies_sent_total", "Rumor copies written into messages.", s.rumors_sent);
    m.counter("rumor_update_messages_total", "Messages sent carrying at least one rumor.", s.update_messages);
    m.counter("rumor_removed_total", "Infective to removed transitions.", s.removed);
}

inline void describe(metrics_snapshot& m, const payload::anti_entropy_statistics& s)
{
    m.counter("anti_entropy_sessions_opened_total", "Root summaries sent.", s.sessions_opened);
    m.counter("anti_entropy_sessions_in_sync_total", "Root summaries received that matched.", s.sessions_in_sync);
    m.counter("anti_entropy_hashes_sent_total", "Subtree summaries sent.", s.hashes_sent);
    m.counter("anti_entropy_digests_sent_total", "Key and digest pairs sent.", s.digests_sent);
    m.counter("anti_entropy_probes_sent_total", "Probes sent.", s.probes_sent);
    m.counter("anti_entropy_entries_sent_total", "Entries sent.", s.entries_sent);
    m.counter("anti_entropy_entries_received_total", "Entries received.", s.entries_received);
    m.counter("anti_entropy_entries_applied_total", "Received entries that changed the store.", s.entries_applied);
    m.counter("anti_entropy_dropped_total", "Probes or keys left for a later session.", s.dropped);
    m.counter("anti_entropy_conversations_cut_total", "Conversations ended by max_steps.", s.conversations_cut);
}

inline void describe(metrics_snapshot& m, const transport::udp_statistics& s)
{
    m.counter("udp_datagrams_received_total", "Datagrams read from the socket.", s.datagrams_received);
    m.counter("udp_bytes_received_total", "Bytes read from the socket.", s.bytes_received);
    m.counter("udp_dropped_oversized_total", "Datagrams longer than the bound.", s.dropped_oversized);
    m.counter("udp_dropped_bad_source_total", "Datagrams from an unsupported address family.", s.dropped_bad_source);
    m.counter("udp_receive_errors_total", "Receive errors.", s.receive_errors);
    m.counter("udp_datagrams_sent_total", "Datagrams accepted by the kernel.", s.datagrams_sent);
    m.counter("udp_bytes_sent_total", "Bytes accepted by the kernel.", s.bytes_sent);
    m.counter("udp_send_errors_total", "Sends refused by the kernel.", s.send_errors);
    m.counter("udp_refused_total", "Sends refused before the kernel.", s.refused);
}

inline void describe(metrics_snapshot& m, const transport::sealed_statistics& s)
{
    m.counter("sealed_sent_total", "Datagrams sealed.", s.sealed_sent);
    m.counter("sealed_plain_sent_total", "Datagrams sent in plaintext.", s.plain_sent);
    m.counter("sealed_opened_total", "Sealed datagrams authenticated.", s.opened);
    m.counter("sealed_plain_accepted_total", "Plaintext datagrams accepted.", s.plain_accepted);
    m.counter("sealed_refused_plain_total", "Plaintext refused under require_sealed.", s.refused_plain);
    m.counter("sealed_refused_short_total", "Datagrams too short or of another format.", s.refused_short);
    m.counter("sealed_refused_key_total", "Datagrams under a key id not installed.", s.refused_key);
    m.counter("sealed_refused_tag_total", "Forged, tampered or foreign datagrams.", s.refused_tag);
    m.counter("sealed_refused_replay_total", "Replayed datagrams.", s.refused_replay);
    m.counter("sealed_refused_clock_total", "Datagrams with a timestamp outside the allowed skew.", s.refused_clock);
    m.counter("sealed_refused_senders_total", "Datagrams from senders past max_senders.", s.refused_senders);
    m.counter("sealed_refused_too_large_total", "Sends that would not fit a datagram once sealed.",
              s.refused_too_large);
    m.counter("sealed_unsealable_total", "Sends with no primary key.", s.unsealable);
}

inline void describe(metrics_snapshot& m, const transport::compression_statistics& s)
{
    m.counter("compressed_sent_total", "Datagrams sent compressed.", s.compressed_sent);
    m.counter("compressed_raw_sent_total", "Datagrams sent as they were.", s.raw_sent);
    m.counter("compressed_bytes_offered_total", "Bytes handed to the compressor.", s.bytes_offered);
    m.counter("compressed_bytes_sent_total", "Bytes passed on after compression.", s.bytes_sent);
    m.counter("compressed_expanded_total", "Compressed datagrams expanded.", s.expanded);
    m.counter("compressed_raw_received_total", "Datagrams received as they were.", s.raw_received);
    m.counter("compressed_refused_malformed_total", "Frames that did not decode.", s.refused_malformed);
    m.counter("compressed_refused_too_large_total", "Frames stating too large a size.", s.refused_too_large);
}

inline void describe(metrics_snapshot& m, const transport::rate_limit_statistics& s)
{
    m.counter("rate_limited_sent_total", "Datagrams within the send budget.", s.sent);
    m.counter("rate_limited_send_dropped_total", "Datagrams over the send budget.", s.send_dropped);
    m.counter("rate_limited_send_dropped_bytes_total", "Bytes over the send budget.", s.send_dropped_bytes);
    m.counter("rate_limited_received_total", "Datagrams within the receive budget.", s.received);
    m.counter("rate_limited_receive_dropped_total", "Datagrams over the receive budget.", s.receive_dropped);
    m.counter("rate_limited_receive_dropped_bytes_total", "Bytes over the receive budget.", s.receive_dropped_bytes);
}

// --- a node's whole stack ---------------------------------------------------------------------

namespace detail {

template <class Part>
void describe_part(metrics_snapshot& m, const Part& part)
{
    if constexpr (requires { describe(m, part.statistics()); }) {
        describe(m, part.statistics());
    }
    if constexpr (requires {
                      part.first();
                      part.second();
                  }) { // payload::combined
        describe_part(m, part.first());
        describe_part(m, part.second());
    }
    if constexpr (requires { part.inner(); }) { // a transport decorator
        describe_part(m, part.inner());
    }
    if constexpr (requires { part.store().size(); }) { // anti_entropy
        m.gauge("store_entries", "Entries held in the replicated store.", static_cast<double>(part.store().size()));
    }
    if constexpr (requires {
                      part.alive_count();
                      part.size();
                      part.members();
                  }) { // swim
        m.gauge("members_alive", "Other members believed alive or suspect.", static_cast<double>(part.alive_count()));
        m.gauge("members_known", "Members known, this one and the failed included.", static_cast<double>(part.size()));
    }
}

} // namespace detail

/// Every figure of `node`: its own statistics, its view's size, its payload's (each part of a
/// combined one) and every layer of its transport's. Call it where the node lives (its thread).
template <class Node>
[[nodiscard]] metrics_snapshot snapshot(const Node& node)
{
    metrics_snapshot m;
    describe(m, node.statistics());
    m.gauge("view_size", "Peers in the node's view.", static_cast<double>(node.view().size()));
    detail::describe_part(m, node.payload());
    detail::describe_part(m, node.transport());
    return m;
}

// --- the Prometheus text format ---------------------------------------------------------------

namespace detail {

inline void append_escaped(std::string& out, std::string_view text, bool quote)
{
    for (const char c : text) {
        if (c == '\\') {
            out += "\\\\";
        } else if (c == '\n') {
            out += "\\n";
        } else if (quote && c == '"') {
            out += "\\\"";
        } else {
            out += c;
        }
    }
}

[[nodiscard]] inline bool valid_metric_name(std::string_view name) noexcept
{
    if (name.empty()) {
        return false;
    }
    for (std::size_t i = 0; i < name.size(); ++i) {
        const char c = name[i];
        const bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':';
        if (!letter && !(i > 0 && c >= '0' && c <= '9')) {
            return false;
        }
    }
    return true;
}

} // namespace detail

/// A label on every sample: name and value.
using metric_label = std::pair<std::string, std::string>;

/// The Prometheus text exposition (format 0.0.4) of a snapshot: HELP, TYPE and one sample per
/// figure, each name prefixed with `prefix` and an underscore, each sample carrying `labels`.
/// Throws std::invalid_argument for a prefix or label name Prometheus would refuse.
[[nodiscard]] inline std::string to_prometheus(const metrics_snapshot& m, std::span<const metric_label> labels = {},
                                               std::string_view prefix = "gossip")
{
    if (!detail::valid_metric_name(prefix)) {
        throw std::invalid_argument("gossip::to_prometheus: '" + std::string(prefix) + "' is not a valid name prefix");
    }
    std::string label_text;
    for (const auto& [name, value] : labels) {
        if (!detail::valid_metric_name(name) || name.find(':') != std::string::npos || name.starts_with("__")) {
            throw std::invalid_argument("gossip::to_prometheus: '" + name + "' is not a valid label name");
        }
        label_text += label_text.empty() ? "{" : ",";
        label_text += name;
        label_text += "=\"";
        detail::append_escaped(label_text, value, true);
        label_text += '"';
    }
    if (!label_text.empty()) {
        label_text += '}';
    }
    std::string out;
    for (const auto& x : m.items()) {
        std::string name(prefix);
        name += '_';
        name += x.name;
        out += "# HELP ";
        out += name;
        out += ' ';
        detail::append_escaped(out, x.help, false);
        out += "\n# TYPE ";
        out += name;
        out += x.kind == metric_kind::counter ? " counter\n" : " gauge\n";
        out += name;
        out += label_text;
        out += ' ';
        std::array<char, 32> number{};
        char* const first = number.data();
        char* const last = first + number.size();
        const auto written =
            x.kind == metric_kind::counter ? std::to_chars(first, last, x.count) : std::to_chars(first, last, x.value);
        out.append(first, written.ptr);
        out += '\n';
    }
    return out;
}

/// The same, with labels given in place: to_prometheus(m, {{"node", "n1"}}).
[[nodiscard]] inline std::string to_prometheus(const metrics_snapshot& m, std::initializer_list<metric_label> labels,
                                               std::string_view prefix = "gossip")
{
    return to_prometheus(m, std::span<const metric_label>(labels.begin(), labels.size()), prefix);
}

} // namespace gossip
