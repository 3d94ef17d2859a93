// libFuzzer target: a SWIM member under attack. Each input is read as a script of operations,
// most of them well-formed SWIM messages whose fields come from the input (so that the fuzzer
// reaches suspicion, refutation, relaying and syncing, not only the decoder), some raw bytes, and
// some passing of time. After every operation:
//   - every datagram the node received ended in exactly one of accepted / dropped_malformed /
//     dropped_unexpected;
//   - the member list holds the member itself exactly once, first, and no id twice;
//   - it holds at most max_members others, and alive_count() counts exactly the alive and
//     suspect ones;
//   - the local health score stays below its maximum multiplier;
//   - right after the timers ran, the next timer is not in the past: what was due has run (a
//     driver would spin otherwise). A message may move a deadline into the past (a confirmed
//     suspicion); the next wake-up then runs it at once.
// A violated invariant aborts, which libFuzzer reports as a crash with the input saved.
//
// scripts/fuzz.sh builds and runs it, beside gossip_fuzz_decode.

#include <gossip/gossip.hpp>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <set>
#include <span>
#include <vector>

namespace {

using namespace std::chrono_literals;
using address = gossip::transport::in_memory_address;
using swim = gossip::payload::swim<address>;
using node = gossip::gossip_node<gossip::transport::in_memory, gossip::peer_selection::random,
                                 gossip::view_selection::frozen, gossip::propagation::push, swim>;

constexpr std::size_t max_members = 24;
constexpr std::uint32_t addresses = 8;

void check(bool ok, const char* invariant)
{
    if (!ok) {
        std::fprintf(stderr, "fuzz_swim: invariant violated: %s\n", invariant);
        std::abort();
    }
}

// Reads the input a byte at a time; zeros once it runs out.
class script {
public:
    explicit script(std::span<const std::byte> in) : in_(in) {}
    [[nodiscard]] bool done() const noexcept { return at_ >= in_.size(); }
    std::uint8_t byte() { return at_ < in_.size() ? std::to_integer<std::uint8_t>(in_[at_++]) : 0; }
    std::uint64_t small_id() { return 1 + byte() % 40; } // a small set, so that ids collide
    std::span<const std::byte> bytes(std::size_t n)
    {
        n = std::min(n, in_.size() - std::min(at_, in_.size()));
        const auto out = in_.subspan(at_, n);
        at_ += n;
        return out;
    }

private:
    std::span<const std::byte> in_;
    std::size_t at_ = 0;
};

// Updates drawn from the script: alive, suspect, failed, left, user, in any mix.
void write_updates(script& s, gossip::wire::writer& w)
{
    const std::size_t count = s.byte() % 6;
    for (std::size_t k = 0; k < count; ++k) {
        const std::uint8_t tag = 1 + s.byte() % 5;
        const bool meta = tag == 1 && (s.byte() & 1) != 0;
        w.u8(static_cast<std::uint8_t>(tag | (meta ? 0x80 : 0)));
        w.u64(tag == 5 ? s.byte() : s.small_id());
        if (tag != 5) {
            gossip::wire::write_varint(w, s.byte() % 4);
        }
        switch (tag) {
        case 1:
            w.u32(s.byte() % addresses);
            if (meta) {
                const auto m = s.bytes(1 + s.byte() % 16);
                gossip::wire::write_varint(w, m.size());
                w.bytes(m);
            }
            break;
        case 2:
        case 3: w.u64(s.small_id()); break;
        case 5: {
            const auto b = s.bytes(s.byte() % 16);
            gossip::wire::write_varint(w, b.size());
            w.bytes(b);
            break;
        }
        default: break;
        }
    }
}

// Datagrams with made-up sources: the network must not vouch for them, so that the defences
// against forged sources are fuzzed too.
gossip::transport::network_options forged_sources()
{
    gossip::transport::network_options o;
    o.authentic_sources = false;
    return o;
}

struct harness {
    gossip::transport::in_memory_network net{addresses, forged_sources()};
    node victim{net.endpoint(address{0}), config(), 7, {}, {}, swim(options())};
    std::uint64_t delivered = 0;

    static gossip::config config()
    {
        gossip::config c;
        c.period = 200ms;
        return c;
    }

    static gossip::payload::swim_options options()
    {
        auto o = gossip::payload::swim_options::local();
        o.id = 1;
        o.max_members = max_members;
        o.max_queued = 64;
        o.max_relays = 4;
        o.reclaim_after = 5s;
        o.metadata = {std::byte{'x'}};
        return o;
    }

    void deliver(address from, std::span<const std::byte> bytes)
    {
        ++delivered;
        victim.on_datagram(from, bytes);
    }

    // What the victim sends goes nowhere (nobody else runs), but must not pile up. The sequence
    // numbers of its pings are kept, so that forged acks and nacks can name its probes.
    void drain()
    {
        net.deliver([&](address from, address, std::span<const std::byte> bytes) {
            std::vector<gossip::descriptor<address>> view;
            const auto m = gossip::wire::decode<address>(bytes, 16, view);
            if (from.index != 0 || m.error != gossip::wire::decode_error::none || m.payload.size() < 5) {
                return;
            }
            const auto type = std::to_integer<std::uint8_t>(m.payload[0]);
            if (type == 1 || type == 2) { // ping, ping-req
                gossip::wire::reader r(m.payload.subspan(1));
                seqs[next_seq++ % seqs.size()] = r.u32();
            }
        });
        net.clear_in_flight();
    }

    // A sequence number: mostly one the victim used lately, sometimes any.
    std::uint32_t seq(script& s)
    {
        const std::uint8_t b = s.byte();
        return b < 192 ? seqs[b % seqs.size()] + (b % 3 == 0 ? 1U : 0U) : b;
    }

    std::array<std::uint32_t, 4> seqs{};
    std::size_t next_seq = 0;

    void invariants(bool timers_ran)
    {
        const auto& s = victim.statistics();
        check(s.accepted + s.dropped_malformed + s.dropped_unexpected == delivered,
              "every datagram is accepted or dropped, once");
        const auto& p = victim.payload();
        const auto members = p.members();
        check(!members.empty() && members.front().self && members.front().id == 1, "the member itself comes first");
        std::set<std::uint64_t> ids;
        std::size_t live = 0;
        for (const auto& m : members) {
            check(ids.insert(m.id).second, "no id twice");
            check(m.self == (&m == &members.front()), "only the first is the member itself");
            if (!m.self &&
                (m.state == gossip::payload::swim_state::alive || m.state == gossip::payload::swim_state::suspect)) {
                ++live;
            }
        }
        check(members.size() <= max_members + 1, "at most max_members others");
        check(p.alive_count() == live, "alive_count counts the alive and the suspect");
        check(p.health() < p.options().lifeguard.max_health_multiplier, "the health score stays below its maximum");
        check(!timers_ran || victim.next_timer() >= victim.now(), "no timer is left behind");
    }
};

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    harness h;
    script s(std::as_bytes(std::span(data, size)));
    const std::vector<address> seeds{address{1}};
    h.victim.join(seeds);
    h.drain();
    h.invariants(true);
    while (!s.done()) {
        const std::uint8_t op = s.byte() % 9;
        const address from{s.byte() % addresses};
        gossip::outbox<address> forger(from, 1400);
        switch (op) {
        case 0: { // raw bytes
            const auto b = s.bytes(s.byte());
            h.deliver(from, b);
            break;
        }
        case 6: { // time passes, and the node runs what is due
            const auto step = std::chrono::milliseconds(s.byte()) * 5;
            h.net.advance(step);
            h.victim.on_timer();
            h.victim.tick();
            break;
        }
        default: { // a SWIM message: 1 ping, 2 ping-req, 3 ack, 4 nack, 5 gossip, 7 sync, 8 sync with a page
            const std::uint8_t type = op == 7 || op == 8 ? 6 : op;
            forger.send(address{0}, [&](gossip::wire::writer& w) {
                w.u8(type);
                switch (type) {
                case 1:
                    w.u32(s.byte());
                    w.u64(s.byte() < 128 ? 1 : s.small_id());
                    break;
                case 2:
                    w.u32(s.byte());
                    w.u64(s.small_id());
                    w.u32(s.byte() % addresses);
                    break;
                case 3:
                case 4: w.u32(h.seq(s)); break;
                case 6:
                    w.u8(static_cast<std::uint8_t>(op == 8 ? 2 | (s.byte() & 5) : s.byte() & 1));
                    w.u64(s.byte());
                    w.u64(s.byte() < 200 ? 0 : s.small_id());
                    w.u64(s.byte() < 200 ? 0 : s.small_id());
                    break;
                default: break;
                }
                write_updates(s, w);
            });
            forger.drain([&](const address&, std::span<const std::byte> bytes) { h.deliver(from, bytes); });
            break;
        }
        }
        h.drain();
        h.invariants(op == 6);
    }
    return 0;
}
