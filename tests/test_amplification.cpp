// No amplification (gossip::max_amplification): what a datagram draws back to its source address
// is at most three times its size until that address has shown it receives there, by echoing a
// cookie (node exchanges) or by answering a probe (SWIM). A forged source address therefore
// cannot turn a member into an amplifier against somebody else.

#include "swim_support.hpp"

#include <doctest/doctest.h>

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

using gossip::transport::in_memory;
using gossip::transport::in_memory_address;
using gossip::transport::in_memory_network;

namespace {

using pull_node = gossip::gossip_node<in_memory, gossip::peer_selection::random, gossip::view_selection::healer,
                                      gossip::propagation::pull>;

// A pull request as a stranger writes it, from `sender`, with the cookies given.
// These tests hand nodes datagrams with made-up sources: the network must not vouch for them.
gossip::transport::network_options forged_sources()
{
    gossip::transport::network_options o;
    o.authentic_sources = false;
    return o;
}

std::vector<std::byte> pull_request(in_memory_address sender, const gossip::wire::cookies& carried = {})
{
    std::vector<std::byte> out(64);
    gossip::wire::writer w{std::span(out)};
    REQUIRE(gossip::wire::encode<in_memory_address>(
        w, gossip::wire::message_kind::request, sender, nullptr, [](gossip::wire::writer&) {}, carried));
    out.resize(w.size());
    return out;
}

struct answer {
    std::size_t bytes = 0;
    std::size_t descriptors = 0;
    gossip::wire::cookies carried;
};

// What the node sent to `to` (the last datagram), decoded.
answer answer_to(in_memory_network& net, in_memory_address to)
{
    answer a;
    net.deliver([&](in_memory_address, in_memory_address dest, std::span<const std::byte> bytes) {
        if (dest == to) {
            std::vector<gossip::descriptor<in_memory_address>> view;
            const auto msg = gossip::wire::decode<in_memory_address>(bytes, 4096, view);
            REQUIRE(msg.error == gossip::wire::decode_error::none);
            a = answer{bytes.size(), view.size(), msg.carried};
        }
    });
    return a;
}

// A node with a full view of 30, at address 0; the victim is address 99.
struct pulling {
    in_memory_network net{100, forged_sources()};
    pull_node node;

    pulling() : node(net.endpoint(in_memory_address{0}), config(), 7)
    {
        std::vector<in_memory_address> peers;
        for (std::uint32_t i = 1; i <= 30; ++i) {
            peers.push_back(in_memory_address{i});
        }
        node.join(peers);
    }

    static gossip::config config()
    {
        gossip::config cfg;
        cfg.view_size = 30;
        return cfg;
    }
};

gossip::config swim_config()
{
    gossip::config cfg;
    cfg.period = std::chrono::milliseconds{20};
    return cfg;
}

// A SWIM member at address 0 that knows members `first` to 100 (at addresses of the same number).
test::swim::node swim_member_knowing(in_memory_network& net, std::uint32_t first)
{
    using namespace test::swim;
    node member(net.endpoint(address{0}), swim_config(), 5, gossip::peer_selection::random{},
                gossip::view_selection::frozen{}, payload(fast()));
    std::vector<gossip::payload::swim_known_member<address>> everyone;
    for (std::uint32_t i = first; i <= 100; ++i) {
        everyone.push_back({id_of(i), address{i}});
    }
    member.payload().preload(everyone);
    return member;
}

} // namespace

TEST_CASE("amplification: a forged request draws at most three times its size, with a cookie for its address")
{
    pulling p;
    const in_memory_address victim{99};
    const auto request = pull_request(victim);
    p.node.on_datagram(victim, request);
    const auto a = answer_to(p.net, victim);
    REQUIRE(a.bytes > 0);
    CHECK(a.bytes <= gossip::max_amplification * request.size());
    CHECK(a.descriptors < 14);
    CHECK(a.carried.issued.has_value());
}

TEST_CASE("amplification: an address that echoes its cookie gets full answers")
{
    pulling p;
    const in_memory_address peer{99};
    p.node.on_datagram(peer, pull_request(peer));
    const auto first = answer_to(p.net, peer);
    REQUIRE(first.carried.issued.has_value());
    gossip::wire::cookies echo;
    echo.echoed = first.carried.issued;
    const auto request = pull_request(peer, echo);
    p.node.on_datagram(peer, request);
    const auto full = answer_to(p.net, peer);
    CHECK(full.descriptors == 14); // c/2 less the sender's own descriptor, which the receiver adds
    CHECK(full.bytes > gossip::max_amplification * request.size());
    CHECK_FALSE(full.carried.issued.has_value());
    // Proven: later requests need no cookie.
    p.node.on_datagram(peer, pull_request(peer));
    CHECK(answer_to(p.net, peer).descriptors == 14);
}

TEST_CASE("amplification: a cookie echoed from another address, or made up, proves nothing")
{
    pulling p;
    const in_memory_address attacker{98};
    const in_memory_address victim{99};
    p.node.on_datagram(attacker, pull_request(attacker));
    const auto mine = answer_to(p.net, attacker);
    REQUIRE(mine.carried.issued.has_value());
    for (const std::uint64_t forged : {*mine.carried.issued, std::uint64_t{0}, std::uint64_t{0x0123456789abcdef}}) {
        gossip::wire::cookies echo;
        echo.echoed = forged;
        const auto request = pull_request(victim, echo);
        p.node.on_datagram(victim, request);
        const auto a = answer_to(p.net, victim);
        CHECK(a.bytes <= gossip::max_amplification * request.size());
        CHECK(a.descriptors < 14);
    }
}

TEST_CASE("amplification: a cookie is no longer accepted two minutes after it was issued")
{
    pulling p;
    const in_memory_address peer{99};
    p.node.on_datagram(peer, pull_request(peer));
    const auto first = answer_to(p.net, peer);
    REQUIRE(first.carried.issued.has_value());
    p.net.advance(std::chrono::minutes{2} + std::chrono::seconds{1});
    gossip::wire::cookies echo;
    echo.echoed = first.carried.issued;
    const auto request = pull_request(peer, echo);
    p.node.on_datagram(peer, request);
    CHECK(answer_to(p.net, peer).bytes <= gossip::max_amplification * request.size());
}

TEST_CASE("amplification: peers that talk both ways prove each other and exchange full views")
{
    in_memory_network net(40, forged_sources());
    std::vector<pull_node> nodes;
    for (std::uint32_t i = 0; i < 40; ++i) {
        nodes.emplace_back(net.endpoint(in_memory_address{i}), pulling::config(), 100 + i);
    }
    for (std::uint32_t i = 0; i < 40; ++i) {
        std::vector<in_memory_address> peers;
        for (std::uint32_t k = 1; k <= 30; ++k) {
            peers.push_back(in_memory_address{(i + k) % 40});
        }
        nodes[i].join(peers);
    }
    for (int round = 0; round < 30; ++round) {
        for (auto& n : nodes) {
            n.tick();
        }
        net.advance(std::chrono::seconds{1});
        net.deliver([&](in_memory_address from, in_memory_address to, std::span<const std::byte> bytes) {
            nodes[to.index].on_datagram(from, bytes);
        });
    }
    std::uint64_t limited = 0;
    std::uint64_t sent = 0;
    for (const auto& n : nodes) {
        limited += n.statistics().answers_limited;
        sent += n.statistics().messages_sent;
        CHECK(n.view().size() == 30);
    }
    CHECK(limited == 0); // bounded answers still went out, smaller; none was refused outright
    CHECK(sent > 40 * 30);
}

TEST_CASE("amplification: a SWIM member answers a stranger's sync opening with at most three times its size")
{
    using namespace test::swim;
    in_memory_network net(102, forged_sources());
    auto member = swim_member_knowing(net, 1);
    // A 27-byte sync opening with a digest that differs, from a forged source.
    gossip::outbox<address> forger(address{101}, 1400);
    forger.send(address{0}, [](gossip::wire::writer& w) {
        w.u8(6); // sync
        w.u8(1); // want
        w.u64(12345);
        w.u64(0);
        w.u64(0);
    });
    std::vector<std::byte> opening;
    forger.drain([&](const address&, std::span<const std::byte> b) { opening.assign(b.begin(), b.end()); });
    member.on_datagram(address{101}, opening);
    std::size_t back = 0;
    net.deliver([&](address, address to, std::span<const std::byte> bytes) {
        if (to == address{101}) {
            back += bytes.size();
        }
    });
    CHECK(back <= gossip::max_amplification * opening.size());
}

TEST_CASE("amplification: a SWIM joiner pads its first word to a seed, and gets a full page back")
{
    using namespace test::swim;
    in_memory_network net(102, forged_sources());
    auto seed = swim_member_knowing(net, 2);
    auto o = fast();
    o.id = id_of(1);
    node joiner(net.endpoint(address{1}), swim_config(), 6, gossip::peer_selection::random{},
                gossip::view_selection::frozen{}, payload(o));
    const std::vector<address> contact{address{0}};
    joiner.join(contact);
    std::size_t contact_bytes = 0;
    std::size_t page_bytes = 0;
    // The seed's answers may be delivered within the same call: both directions are watched.
    const auto watch = [&](address from, address to, std::span<const std::byte> bytes) {
        if (to == address{0}) {
            contact_bytes = std::max(contact_bytes, bytes.size());
            seed.on_datagram(from, bytes);
        } else if (to == address{1}) {
            page_bytes = std::max(page_bytes, bytes.size());
        }
    };
    net.deliver(watch);
    net.advance(10ms);
    net.deliver(watch);
    CHECK(contact_bytes * gossip::max_amplification >= swim_config().max_message_bytes - 8);
    CHECK(page_bytes > 1000); // a full page of the seed's 100 members, not a trickle
    CHECK(seed.statistics().answers_limited == 0);
}
