// Writes the fuzzer's seed corpus: a handful of valid datagrams, one file each, into the
// directory given as the only argument. Most are captured from three honest nodes of the
// fuzzed type gossiping over the in-memory network (requests, replies and follow-ups carrying
// views, membership with a leave, and anti-entropy sessions and rumors); a few are the same
// messages re-addressed with udp_address senders and views, for the decoder alone.
//
//   make_corpus <directory>

#include "fuzz_node.hpp"

#include <gossip/transport/udp_address.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>
#include <span>
#include <string>
#include <utility>
#include <vector>

namespace {

using fuzz::address;
using gossip::transport::udp_address;
using gossip::wire::message_kind;
using bytes = std::vector<std::byte>;

constexpr std::size_t per_kind = 6; // captured messages kept per message kind

const char* name_of(message_kind kind)
{
    switch (kind) {
    case message_kind::request: return "request";
    case message_kind::reply: return "reply";
    case message_kind::follow_up: return "follow-up";
    case message_kind::direct: return "direct";
    }
    return "unknown";
}

// A udp_address-form message carrying the same payload as a captured one.
bytes readdressed(message_kind kind, bool v6, std::span<const std::byte> payload)
{
    const auto at = [&](std::uint16_t port) {
        return v6 ? udp_address::loopback_v6(port) : udp_address::v4({10, 0, 0, 1}, port);
    };
    const std::vector<gossip::descriptor<udp_address>> view{{at(7001), 0}, {at(7002), 4}, {at(7003), 9}};
    const std::span<const gossip::descriptor<udp_address>> sent(view);
    bytes out(payload.size() + 256);
    gossip::wire::writer w{std::span(out)};
    const bool has_view = kind == message_kind::request || kind == message_kind::reply;
    if (!gossip::wire::encode(w, kind, at(7000), has_view ? &sent : nullptr,
                              [&](gossip::wire::writer& o) { o.bytes(payload); })) {
        return {};
    }
    out.resize(w.size());
    return out;
}

// A captured request whose membership section is replaced by one naming 40 members nobody
// knows, more than a table of fuzz::max_members takes: the table-full path, for the fuzzer.
bytes crowded(std::span<const std::byte> request)
{
    std::vector<gossip::descriptor<address>> view;
    const auto m = gossip::wire::decode<address>(request, gossip::max_view_size, view);
    gossip::wire::reader r(m.payload);
    const std::size_t members_length = r.u16();
    (void)r.bytes(members_length);
    const auto store = r.bytes(r.remaining());
    if (m.error != gossip::wire::decode_error::none || !r.ok()) {
        return {};
    }
    bytes members(2 + 40 * (4 + 20));
    gossip::wire::writer w{std::span(members)};
    w.u16(40);
    for (std::uint32_t i = 0; i < 40; ++i) {
        gossip::wire::codec<address>::write(w, address{100 + i});
        // Generation 1 throughout, heartbeat i + 1, as differences from the entry before.
        gossip::wire::write_varint(w, gossip::wire::zigzag(i == 0 ? 1 : 0));
        gossip::wire::write_varint_flagged(w, gossip::wire::zigzag(1), i % 5 == 0); // some have left
    }
    bytes out(request.size() + members.size() + 64);
    gossip::wire::writer o{std::span(out)};
    const std::span<const gossip::descriptor<address>> sent(view);
    const auto write_payload = [&](gossip::wire::writer& p) {
        p.u16(static_cast<std::uint16_t>(w.size()));
        p.bytes(w.written());
        p.bytes(store);
    };
    const bool ok = gossip::wire::encode(o, m.kind, m.sender, m.has_view ? &sent : nullptr, write_payload);
    if (!ok) {
        return {};
    }
    out.resize(o.size());
    return out;
}

} // namespace

int main(int argc, char** argv)
{
    if (argc != 2) {
        std::fprintf(stderr, "usage: %s <corpus directory>\n", argv[0]);
        return 2;
    }
    const std::filesystem::path directory(argv[1]);
    std::filesystem::create_directories(directory);

    gossip::transport::in_memory_network net(3, fuzz::forged_sources());
    std::vector<fuzz::node> nodes;
    for (std::uint32_t i = 0; i < 3; ++i) {
        nodes.push_back(fuzz::make_node(net, i));
    }
    for (std::uint32_t i = 0; i < 3; ++i) {
        const std::array<address, 2> others{address{(i + 1) % 3}, address{(i + 2) % 3}};
        nodes[i].join(others);
        for (int k = 0; k < 3 + static_cast<int>(i) * 4; ++k) {
            nodes[i].payload().second().put("key-" + std::to_string(i) + "-" + std::to_string(k),
                                            std::string(static_cast<std::size_t>(k) + 1, 'v'));
        }
    }

    std::array<std::size_t, 4> kept{};
    std::set<bytes> seen;
    std::vector<std::pair<message_kind, bytes>> captured;
    const auto capture = [&](std::span<const std::byte> datagram) {
        std::vector<gossip::descriptor<address>> view;
        const auto m = gossip::wire::decode<address>(datagram, gossip::max_view_size, view);
        const auto k = static_cast<std::size_t>(m.kind);
        if (m.error != gossip::wire::decode_error::none || kept[k] >= per_kind) {
            return;
        }
        bytes b(datagram.begin(), datagram.end());
        if (seen.insert(b).second) {
            ++kept[k];
            captured.emplace_back(m.kind, std::move(b));
        }
    };

    for (int round = 0; round < 12; ++round) {
        if (round == 6) {
            nodes[2].payload().first().leave(); // its leave travels in the rounds after
            nodes[0].payload().second().put(std::string("late"), std::string("write"));
        }
        net.advance(fuzz::period);
        for (auto& n : nodes) {
            n.tick();
        }
        net.deliver([&](address from, address to, std::span<const std::byte> datagram) {
            if (round % 2 == 1 || round >= 6) {
                capture(datagram);
            }
            nodes[to.index].on_datagram(from, datagram);
        });
    }

    std::size_t written = 0;
    const auto write = [&](const std::string& name, const bytes& b) {
        std::ofstream out(directory / name, std::ios::binary);
        out.write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
        written += out ? 1 : 0;
    };
    for (std::size_t i = 0; i < captured.size(); ++i) {
        const auto& [kind, b] = captured[i];
        write("seed-" + std::to_string(i) + "-" + name_of(kind), b);
    }
    // The payloads of the first request and reply again, behind udp_address senders and views.
    std::size_t readdressed_count = 0;
    for (const auto& [kind, b] : captured) {
        if (readdressed_count >= 4 || kind == message_kind::follow_up) {
            continue;
        }
        std::vector<gossip::descriptor<address>> view;
        const auto m = gossip::wire::decode<address>(b, gossip::max_view_size, view);
        for (const bool v6 : {false, true}) {
            const auto again = readdressed(kind, v6, m.payload);
            if (!again.empty()) {
                write("udp-" + std::to_string(readdressed_count++) + (v6 ? "-v6-" : "-v4-") + name_of(kind), again);
            }
        }
    }
    for (const auto& [kind, b] : captured) {
        if (kind == message_kind::request && b.size() < 600) {
            if (const auto c = crowded(b); !c.empty()) {
                write("crowded-request", c);
                break;
            }
        }
    }
    std::printf("wrote %zu seeds (%zu requests, %zu replies, %zu follow-ups, %zu udp_address) to %s\n", written,
                kept[1], kept[2], kept[3], readdressed_count, directory.c_str());
    return written > 0 ? 0 : 1;
}
