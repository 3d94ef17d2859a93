#pragma once

// Helpers for the SWIM tests: a cluster of SWIM nodes on the event simulator that logs every
// event with its time, and, for driving one payload by hand, builders and readers of the
// messages in the format documented at the top of payload/swim.hpp.

#include "support.hpp"

#include <gossip/payload/swim.hpp>
#include <gossip/sim/event_simulator.hpp>

#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <vector>

namespace test::swim {

using namespace std::chrono_literals;
using address = gossip::transport::in_memory_address;
using payload = gossip::payload::swim<address>;
using options = gossip::payload::swim_options;
using event = gossip::payload::swim_event<address>;
using event_kind = gossip::payload::swim_event_kind;
using state = gossip::payload::swim_state;
using node = gossip::gossip_node<gossip::transport::in_memory, gossip::peer_selection::random,
                                 gossip::view_selection::frozen, gossip::propagation::push, payload>;
using simulator = gossip::sim::event_simulator<node>;
using gossip::payload::swim_formulas::max_suspicion;
using gossip::payload::swim_formulas::min_suspicion;

/// Member ids in the clusters below: node i is member i + 1 (0 is a valid id, but readable
/// numbers make failures easier to read).
inline std::uint64_t id_of(std::size_t i) { return i + 1; }

/// Fast timings for tests: 100 ms probes, so that a minute is 600 probe periods.
inline options fast()
{
    options o;
    o.probe_interval = 100ms;
    o.probe_timeout = 40ms;
    o.gossip_interval = 20ms;
    o.sync_interval = 2000ms;
    o.seed_retry_interval = 100ms;
    o.gossip_to_the_dead = 3000ms;
    o.reclaim_after = 60'000ms;
    return o;
}

/// N SWIM nodes on the event simulator, every event logged with its time and observer.
struct cluster {
    struct record {
        std::chrono::nanoseconds at{0};
        std::size_t observer = 0;
        event what;
    };

    std::vector<record> log;
    std::vector<std::uint64_t> ids;                    ///< the id each node takes at its next (re)start
    std::vector<options> per_node;                     ///< the options each node takes at its next (re)start
    std::vector<std::vector<std::uint64_t>> delivered; ///< user broadcasts each node delivered
    std::unique_ptr<simulator> sim;

    /// formed: every node starts knowing every other (as if the cluster had formed); otherwise
    /// nobody knows anybody until join().
    cluster(std::size_t n, const options& o, std::uint64_t seed, bool formed = true,
            const gossip::transport::network_options& net = one_ms(), gossip::sim::event_options events = {})
        : per_node(n, o), delivered(n)
    {
        for (std::size_t i = 0; i < n; ++i) {
            ids.push_back(id_of(i));
        }
        gossip::config cfg;
        cfg.period = std::chrono::duration_cast<std::chrono::milliseconds>(o.gossip_interval);
        sim = std::make_unique<simulator>(n, cfg, seed, net, events, [this](std::size_t i) {
            auto opt = per_node[i];
            opt.id = ids[i];
            payload p(opt, [this, i](const event& e) { log.push_back(record{sim->now(), i, e}); });
            p.on_broadcast([this, i](std::uint64_t id, std::span<const std::byte>) { delivered[i].push_back(id); });
            return p;
        });
        if (formed) {
            std::vector<gossip::payload::swim_known_member<address>> everyone;
            for (std::size_t i = 0; i < n; ++i) {
                everyone.push_back({id_of(i), address{static_cast<std::uint32_t>(i)}});
            }
            for (std::size_t i = 0; i < n; ++i) {
                sim->act(i, [&](node& x) { x.payload().preload(everyone); });
            }
        }
    }
    cluster(const cluster&) = delete;
    cluster& operator=(const cluster&) = delete;
    cluster(cluster&&) = delete;
    cluster& operator=(cluster&&) = delete;
    ~cluster() = default;

    static gossip::transport::network_options one_ms()
    {
        gossip::transport::network_options net;
        net.delay = 1ms;
        return net;
    }

    [[nodiscard]] std::size_t size() const { return sim->size(); }
    payload& at(std::size_t i) { return sim->node(i).payload(); }
    void run_for(std::chrono::nanoseconds d) { sim->run_for(d); }

    /// Every node but `except` joins node `seed`, one every `spacing`.
    void join_all(std::size_t seed = 0, std::chrono::nanoseconds spacing = 5ms)
    {
        const std::vector<address> contact{address{static_cast<std::uint32_t>(seed)}};
        for (std::size_t i = 0; i < size(); ++i) {
            if (i != seed) {
                sim->join(i, contact);
                sim->run_for(spacing);
            }
        }
    }

    /// Whether every live node believes every other live node alive (or suspect).
    [[nodiscard]] bool all_see_all()
    {
        for (std::size_t i = 0; i < size(); ++i) {
            if (!sim->is_up(i)) {
                continue;
            }
            for (std::size_t j = 0; j < size(); ++j) {
                if (i == j || !sim->is_up(j)) {
                    continue;
                }
                const auto m = at(i).find(ids[j]);
                if (!m || !(m->state == state::alive || m->state == state::suspect)) {
                    return false;
                }
            }
        }
        return true;
    }

    /// Runs in steps of `step` until pred() holds or `limit` passes; whether it held.
    template <class Pred>
    bool run_until(Pred&& pred, std::chrono::nanoseconds limit, std::chrono::nanoseconds step = 50ms)
    {
        const auto end = sim->now() + limit;
        while (sim->now() < end) {
            if (pred()) {
                return true;
            }
            sim->run_for(step);
        }
        return pred();
    }

    /// Events of `kind` about member `id` seen by anybody (since `from`).
    [[nodiscard]] std::size_t count(event_kind kind, std::uint64_t id, std::chrono::nanoseconds from = {}) const
    {
        return static_cast<std::size_t>(std::count_if(log.begin(), log.end(), [&](const record& r) {
            return r.what.kind == kind && r.what.id == id && r.at >= from;
        }));
    }

    /// Events of `kind` about anybody other than `except`.
    [[nodiscard]] std::size_t count_others(event_kind kind, std::uint64_t except) const
    {
        return static_cast<std::size_t>(std::count_if(log.begin(), log.end(), [&](const record& r) {
            return r.what.kind == kind && r.what.id != except;
        }));
    }

    /// How many distinct live observers other than `about` believe `id` is in state s.
    [[nodiscard]] std::size_t believers(std::uint64_t id, state s)
    {
        std::size_t n = 0;
        for (std::size_t i = 0; i < size(); ++i) {
            if (!sim->is_up(i) || ids[i] == id) {
                continue;
            }
            const auto m = at(i).find(id);
            n += m && m->state == s ? 1 : 0;
        }
        return n;
    }

    [[nodiscard]] std::size_t live_nodes() const
    {
        std::size_t n = 0;
        for (std::size_t i = 0; i < size(); ++i) {
            n += sim->is_up(i) ? 1 : 0;
        }
        return n;
    }
};

// --- one payload by hand ---------------------------------------------------------------------

/// One datagram a payload sent: where to, and its SWIM section.
struct sent {
    address to;
    std::vector<std::byte> section;
};

/// Takes what the payload queued in `out`, decoded down to the sections.
inline std::vector<sent> take(gossip::outbox<address>& out)
{
    std::vector<sent> result;
    out.drain([&](const address& to, std::span<const std::byte> bytes) {
        std::vector<gossip::descriptor<address>> view;
        const auto m = gossip::wire::decode<address>(bytes, 16, view);
        REQUIRE(m.error == gossip::wire::decode_error::none);
        REQUIRE(m.kind == gossip::wire::message_kind::direct);
        result.push_back(sent{to, {m.payload.begin(), m.payload.end()}});
    });
    return result;
}

enum class type : std::uint8_t { ping = 1, ping_req = 2, ack = 3, nack = 4, gossip = 5, sync = 6 };

[[nodiscard]] inline type type_of(const sent& s) { return static_cast<type>(s.section.at(0)); }

/// The sequence number of a ping, ping-req, ack or nack.
[[nodiscard]] inline std::uint32_t seq_of(const sent& s)
{
    gossip::wire::reader r(s.section);
    (void)r.u8();
    return r.u32();
}

/// The target id of a ping or ping-req.
[[nodiscard]] inline std::uint64_t target_of(const sent& s)
{
    gossip::wire::reader r(s.section);
    (void)r.u8();
    (void)r.u32();
    return r.u64();
}

/// Builds a section: a message header, then updates.
class section {
public:
    explicit section(type t) { w_.u8(static_cast<std::uint8_t>(t)); }

    /// The sequence number of a ping, ping-req, ack or nack.
    section& seq(std::uint32_t v)
    {
        w_.u32(v);
        return *this;
    }
    section& varint(std::uint64_t v)
    {
        gossip::wire::write_varint(w_, v);
        return *this;
    }
    section& u64(std::uint64_t v)
    {
        w_.u64(v);
        return *this;
    }
    section& u8(std::uint8_t v)
    {
        w_.u8(v);
        return *this;
    }
    section& alive(std::uint64_t id, std::uint32_t incarnation, address a, std::span<const std::byte> meta = {})
    {
        w_.u8(static_cast<std::uint8_t>(1U | (meta.empty() ? 0U : 0x80U)));
        w_.u64(id);
        gossip::wire::write_varint(w_, incarnation);
        gossip::wire::codec<address>::write(w_, a);
        if (!meta.empty()) {
            gossip::wire::write_varint(w_, meta.size());
            w_.bytes(meta);
        }
        return *this;
    }
    section& suspect(std::uint64_t id, std::uint32_t incarnation, std::uint64_t accuser)
    {
        return accusation(2, id, incarnation, accuser);
    }
    section& failed(std::uint64_t id, std::uint32_t incarnation, std::uint64_t accuser)
    {
        return accusation(3, id, incarnation, accuser);
    }
    section& left(std::uint64_t id, std::uint32_t incarnation)
    {
        w_.u8(4);
        w_.u64(id);
        gossip::wire::write_varint(w_, incarnation);
        return *this;
    }

    [[nodiscard]] std::span<const std::byte> bytes() const { return w_.written(); }

private:
    section& accusation(std::uint8_t tag, std::uint64_t id, std::uint32_t incarnation, std::uint64_t accuser)
    {
        w_.u8(tag);
        w_.u64(id);
        gossip::wire::write_varint(w_, incarnation);
        w_.u64(accuser);
        return *this;
    }

    std::vector<std::byte> buffer_ = std::vector<std::byte>(1400);
    gossip::wire::writer w_{std::span(buffer_)};
};

/// A payload driven by hand: started as member `id` at address 0, knowing members 2..n at
/// addresses 1..n-1 (member k at address k - 1).
struct driven {
    payload p;
    gossip::outbox<address> out{address{0}, 1400};
    std::chrono::nanoseconds now{0};
    std::vector<event> events;

    explicit driven(options o, std::size_t n = 0)
        : p([&] {
              o.id = 1;
              o.spread_start = false;
              return o;
          }())
    {
        p.on_event([this](const event& e) { events.push_back(e); });
        p.start(gossip::payload_context<address>{address{0}, 99, 100ms, 1400});
        std::vector<gossip::payload::swim_known_member<address>> known;
        for (std::size_t k = 2; k <= n; ++k) {
            known.push_back({k, address{static_cast<std::uint32_t>(k - 1)}});
        }
        p.preload(known);
    }

    /// Runs the payload's timers at `t` and returns what it sent.
    std::vector<sent> timer_at(std::chrono::nanoseconds t)
    {
        now = t;
        p.on_timer(now, out);
        return take(out);
    }

    /// Hands it a direct message from `from`; its verdict and what it sent in answer.
    std::pair<bool, std::vector<sent>> receive(address from, const section& s)
    {
        gossip::wire::reader r(s.bytes());
        const bool ok = p.receive(from, r, now, out);
        return {ok, take(out)};
    }
};

} // namespace test::swim
