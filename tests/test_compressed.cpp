// transport::compressed and its LZ77 codec: datagrams arrive intact, repetitive ones shrink, a
// datagram that would not shrink goes as it is, and no frame a stranger writes makes a member
// decode past its bound, read past the input, or hand on anything but what was sent.

#include "support.hpp"

#include <gossip/detail/lz_codec.hpp>
#include <gossip/gossip_node.hpp>
#include <gossip/payload/anti_entropy.hpp>
#include <gossip/payload/lww_map.hpp>
#include <gossip/peer_selection/random.hpp>
#include <gossip/propagation/push_pull.hpp>
#include <gossip/transport/compressed.hpp>
#include <gossip/transport/in_memory.hpp>
#include <gossip/transport/rate_limited.hpp>
#include <gossip/transport/sealed.hpp>
#include <gossip/view_selection/blind.hpp>

#include <doctest/doctest.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <random>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

using gossip::detail::lz_decode;
using gossip::detail::lz_encoder;
using gossip::detail::lz_error;
using gossip::transport::compressed;
using gossip::transport::compression_options;
using gossip::transport::in_memory;
using gossip::transport::in_memory_address;
using gossip::transport::in_memory_network;
using test::bytes_of;

namespace {

std::vector<std::byte> random_bytes(std::mt19937& rng, std::size_t n, unsigned alphabet)
{
    std::vector<std::byte> out(n);
    for (auto& b : out) {
        b = static_cast<std::byte>(rng() % alphabet);
    }
    return out;
}

std::vector<std::byte> round_trip(std::span<const std::byte> in)
{
    lz_encoder encoder;
    std::vector<std::byte> encoded;
    REQUIRE(encoder.encode(in, encoded, 2 * in.size() + 32));
    std::vector<std::byte> out(in.size());
    CHECK(lz_decode(encoded, out) == lz_error::none);
    return out;
}

// Two compressed endpoints; what reached b's "node", and what crossed the wire.
struct pair : test::decorated_pair<compressed<in_memory>> {
    explicit pair(compression_options o = {})
        : decorated_pair([&](in_memory endpoint, int) { return compressed<in_memory>(std::move(endpoint), o); })
    {
    }
};

// A frame: format byte, stated size, then the given sequences.
std::vector<std::byte> frame(std::uint64_t size, std::initializer_list<std::uint8_t> body)
{
    std::vector<std::byte> out{std::byte{0xC3}};
    std::array<std::byte, gossip::wire::max_varint_bytes> v{};
    gossip::wire::writer w{std::span(v)};
    gossip::wire::write_varint(w, size);
    // Byte by byte: g++ 12 at -O3 takes a range insert after one element for an overflow
    // (-Warray-bounds, a false positive).
    for (std::size_t i = 0; i < w.size(); ++i) {
        out.push_back(v[i]);
    }
    for (const auto b : body) {
        out.push_back(std::byte{b});
    }
    return out;
}

} // namespace

TEST_CASE("lz codec: any input decodes to itself, from empty to a full datagram")
{
    std::mt19937 rng(7);
    for (const std::size_t n : {0U, 1U, 3U, 4U, 5U, 17U, 64U, 300U, 1400U, 9000U, 65'507U}) {
        for (const unsigned alphabet : {1U, 2U, 4U, 26U, 256U}) {
            const auto in = random_bytes(rng, n, alphabet);
            CHECK(round_trip(in) == in);
        }
    }
}

TEST_CASE("lz codec: repeats shrink, and overlapping runs are copied byte by byte")
{
    const auto text = bytes_of("127.0.0.1:7001 127.0.0.1:7002 127.0.0.1:7003 127.0.0.1:7004 127.0.0.1:7005");
    lz_encoder encoder;
    std::vector<std::byte> encoded;
    REQUIRE(encoder.encode(text, encoded, text.size()));
    CHECK(encoded.size() < text.size() / 2);
    const std::vector<std::byte> run(5000, std::byte{0xAB});
    encoded.clear();
    REQUIRE(encoder.encode(run, encoded, run.size()));
    CHECK(encoded.size() < 10);
    CHECK(round_trip(run) == run);
}

TEST_CASE("lz codec: an encoding that would pass the limit is given up")
{
    std::mt19937 rng(3);
    const auto noise = random_bytes(rng, 1000, 256);
    lz_encoder encoder;
    std::vector<std::byte> encoded;
    CHECK_FALSE(encoder.encode(noise, encoded, noise.size() - 1));
    CHECK(encoded.size() <= noise.size() - 1);
}

TEST_CASE("lz codec: a match reaching before the output's start is refused")
{
    std::vector<std::byte> out(10);
    // two literals, then a match of 4 at distance 3
    const std::vector<std::byte> bad{std::byte{2}, std::byte{'a'}, std::byte{'b'}, std::byte{0}, std::byte{2}};
    CHECK(lz_decode(bad, out) == lz_error::bad_distance);
}

TEST_CASE("lz codec: literals or a match past the stated size are refused before a byte is written past it")
{
    std::vector<std::byte> out(4, std::byte{0xEE});
    const std::vector<std::byte> long_literals{std::byte{5}, std::byte{1}, std::byte{2},
                                               std::byte{3}, std::byte{4}, std::byte{5}};
    CHECK(lz_decode(long_literals, out) == lz_error::too_long);
    std::vector<std::byte> out8(8);
    // one literal, then a match of 4 + 100 at distance 1: a run far past the 8 bytes stated
    const std::vector<std::byte> long_match{std::byte{1}, std::byte{'x'}, std::byte{100}, std::byte{0}};
    CHECK(lz_decode(long_match, out8) == lz_error::too_long);
}

TEST_CASE("lz codec: a stream that ends early, or runs on after the output is complete, is refused")
{
    std::vector<std::byte> out(3);
    CHECK(lz_decode(std::vector<std::byte>{std::byte{3}, std::byte{'a'}}, out) == lz_error::truncated);
    CHECK(lz_decode(std::vector<std::byte>{}, out) == lz_error::truncated);
    CHECK(lz_decode(std::vector<std::byte>{std::byte{3}, std::byte{'a'}, std::byte{'b'}, std::byte{'c'}, std::byte{0}},
                    out) == lz_error::trailing);
    std::vector<std::byte> out6(6);
    // literals end short of the size, and the match that must follow is missing
    CHECK(lz_decode(std::vector<std::byte>{std::byte{2}, std::byte{'a'}, std::byte{'b'}}, out6) == lz_error::truncated);
}

TEST_CASE("compressed: a datagram arrives intact, smaller on the wire when it repeats itself")
{
    pair p;
    std::string text;
    for (int i = 0; i < 40; ++i) {
        text += "member 127.0.0.1:" + std::to_string(7000 + i) + " alive incarnation 1; ";
    }
    const auto datagram = bytes_of(text);
    REQUIRE(p.a.send(in_memory_address{1}, datagram));
    p.deliver();
    REQUIRE(p.at_b.size() == 1);
    CHECK(p.at_b[0] == datagram);
    REQUIRE(p.wire.size() == 1);
    CHECK(p.wire[0].size() < datagram.size() / 3);
    CHECK(p.a.statistics().compressed_sent == 1);
    CHECK(p.a.statistics().ratio() < 0.34);
    CHECK(p.b.statistics().expanded == 1);
}

TEST_CASE("compressed: a datagram that would not shrink, or is small, goes as it is")
{
    pair p;
    std::mt19937 rng(11);
    const auto noise = random_bytes(rng, 600, 256);
    const auto small = bytes_of("GS ping");
    REQUIRE(p.a.send(in_memory_address{1}, noise));
    REQUIRE(p.a.send(in_memory_address{1}, small));
    p.deliver();
    REQUIRE(p.wire.size() == 2);
    CHECK(p.wire[0] == noise);
    CHECK(p.wire[1] == small);
    REQUIRE(p.at_b.size() == 2);
    CHECK(p.at_b[0] == noise);
    CHECK(p.at_b[1] == small);
    CHECK(p.a.statistics().raw_sent == 2);
    CHECK(p.a.statistics().ratio() == doctest::Approx(1.0));
    CHECK(p.b.statistics().raw_received == 2);
}

TEST_CASE("compressed: a datagram that starts with the format byte is always framed, and arrives as it was")
{
    pair p;
    std::mt19937 rng(5);
    for (const std::size_t n : {1U, 10U, 700U}) {
        auto datagram = random_bytes(rng, n, 256);
        datagram[0] = std::byte{0xC3};
        REQUIRE(p.a.send(in_memory_address{1}, datagram));
        p.deliver();
        REQUIRE_FALSE(p.at_b.empty());
        CHECK(p.at_b.back() == datagram);
        CHECK(p.wire.back() != datagram);
    }
    CHECK(p.a.statistics().compressed_sent == 3);
}

TEST_CASE("compressed: with send_compressed off a member sends as it is and still reads frames")
{
    pair p;
    p.a.set_send_compressed(false);
    const auto datagram = bytes_of(std::string(300, 'x'));
    REQUIRE(p.a.send(in_memory_address{1}, datagram));
    REQUIRE(p.b.send(in_memory_address{0}, datagram)); // b still compresses; a reads it
    p.net.deliver([&](in_memory_address from, in_memory_address, std::span<const std::byte> bytes) {
        p.wire.emplace_back(bytes.begin(), bytes.end());
        if (from == in_memory_address{0}) {
            (void)p.offer(bytes);
        } else {
            CHECK(p.a.inbound(from, bytes, [&](std::span<const std::byte> plain) {
                CHECK(std::vector<std::byte>(plain.begin(), plain.end()) == datagram);
            }));
        }
    });
    REQUIRE(p.wire.size() == 2);
    CHECK(((p.wire[0] == datagram) != (p.wire[1] == datagram))); // a's went as it was, b's framed
    REQUIRE(p.at_b.size() == 1);
    CHECK(p.at_b[0] == datagram);
    CHECK(p.a.statistics().raw_sent == 1);
    CHECK(p.a.statistics().expanded == 1);
    // A datagram that starts with the format byte is framed all the same: b must not mistake it.
    auto looks_framed = datagram;
    looks_framed[0] = std::byte{0xC3};
    REQUIRE(p.a.send(in_memory_address{1}, looks_framed));
    p.deliver();
    CHECK(p.at_b.back() == looks_framed);
}

TEST_CASE("compressed: a frame stating more than max_decompressed_bytes is refused unread")
{
    compression_options o;
    o.max_decompressed_bytes = 1400;
    pair p(o);
    // A few bytes that would expand to 60,000: one literal, then a run.
    CHECK_FALSE(p.offer(frame(60'000, {1, 'x', 0xFF, 0xD7, 0x03, 0})));
    CHECK(p.b.statistics().refused_too_large == 1);
    CHECK_FALSE(p.offer(frame(1401, {1, 'x'})));
    CHECK(p.b.statistics().refused_too_large == 2);
    CHECK(p.at_b.empty());
}

TEST_CASE("compressed: malformed frames are refused and counted, and none reaches the node")
{
    pair p;
    CHECK_FALSE(p.offer(frame(0, {})));                            // nothing to expand to
    CHECK_FALSE(p.offer(std::vector<std::byte>{std::byte{0xC3}})); // no size
    CHECK_FALSE(p.offer(frame(5, {5, 'a', 'b'})));                 // literals cut short
    CHECK_FALSE(p.offer(frame(8, {1, 'a', 0, 4})));                // distance before the start
    CHECK_FALSE(p.offer(frame(2, {2, 'a', 'b', 7})));              // bytes after the end
    CHECK(p.b.statistics().refused_malformed == 5);
    CHECK(p.at_b.empty());
}

TEST_CASE("compressed: every truncation of a frame is refused, and random frames never pass the bound")
{
    compression_options o;
    o.max_decompressed_bytes = 2000;
    pair p(o);
    std::string text;
    for (int i = 0; i < 30; ++i) {
        text += "key-" + std::to_string(i) + "=value-" + std::to_string(i * 7) + ";";
    }
    const auto datagram = bytes_of(text);
    REQUIRE(p.a.send(in_memory_address{1}, datagram));
    std::vector<std::byte> wire;
    p.net.deliver([&](in_memory_address, in_memory_address, std::span<const std::byte> bytes) {
        wire.assign(bytes.begin(), bytes.end());
    });
    REQUIRE(wire.size() < datagram.size());
    for (std::size_t cut = 1; cut < wire.size(); ++cut) {
        CHECK_FALSE(p.offer(std::span<const std::byte>(wire).first(cut)));
    }
    CHECK(p.at_b.empty());
    std::mt19937 rng(13);
    for (int i = 0; i < 20'000; ++i) {
        auto junk = random_bytes(rng, 1 + rng() % 40, 256);
        junk[0] = std::byte{0xC3};
        (void)p.b.inbound(in_memory_address{0}, junk,
                          [&](std::span<const std::byte> plain) { CHECK(plain.size() <= o.max_decompressed_bytes); });
    }
    CHECK(p.b.statistics().expanded + p.b.statistics().refused() == 20'000 + wire.size() - 1);
}

TEST_CASE("compressed: impossible bounds are refused with the reason")
{
    in_memory_network net(1);
    compression_options o;
    o.max_decompressed_bytes = 0;
    CHECK_THROWS_WITH_AS(compressed<in_memory>(net.endpoint(in_memory_address{0}), o),
                         doctest::Contains("max_decompressed_bytes"), std::invalid_argument);
    o.max_decompressed_bytes = 70'000;
    CHECK_THROWS_AS(compressed<in_memory>(net.endpoint(in_memory_address{0}), o), std::invalid_argument);
}

TEST_CASE("compressed: replicas over compressed<sealed<rate_limited<in_memory>>> converge on fewer bytes")
{
    using gossip::transport::rate_limited;
    using gossip::transport::sealed;
    using stack = compressed<sealed<rate_limited<in_memory>>>;
    using map = gossip::payload::lww_map<std::string, std::string>;
    using kv = gossip::payload::anti_entropy<map>;
    using node = gossip::gossip_node<stack, gossip::peer_selection::random, gossip::view_selection::blind,
                                     gossip::propagation::push_pull, kv>;
    constexpr std::uint32_t n = 6;
    in_memory_network net(n);
    gossip::config cfg;
    cfg.view_size = 5;
    gossip::transport::keyring keys;
    gossip::transport::sealing_key key;
    key.id = 2;
    keys.install(key);
    gossip::transport::sealed_options so;
    so.label = "compressed-test";
    gossip::transport::rate_limit_options ro;
    ro.receive_bytes_per_second = 1'000'000;
    std::vector<node> nodes;
    for (std::uint32_t i = 0; i < n; ++i) {
        nodes.emplace_back(stack(sealed<rate_limited<in_memory>>(rate_limited<in_memory>(net.endpoint(
                                                                                             in_memory_address{i}),
                                                                                         ro),
                                                                 keys, so)),
                           cfg, 40 + i);
    }
    for (std::uint32_t i = 0; i < n; ++i) {
        std::vector<in_memory_address> others;
        for (std::uint32_t j = 0; j < n; ++j) {
            if (j != i) {
                others.push_back(in_memory_address{j});
            }
        }
        nodes[i].join(others);
        for (int k = 0; k < 8; ++k) {
            nodes[i].payload().put("service/node-" + std::to_string(i) + "/key-" + std::to_string(k),
                                   "status=healthy region=eu-west-1 zone=a");
        }
    }
    for (int round = 0; round < 30; ++round) {
        for (auto& x : nodes) {
            x.tick();
        }
        net.advance(cfg.period);
        net.deliver([&](in_memory_address from, in_memory_address to, std::span<const std::byte> bytes) {
            nodes[to.index].on_datagram(from, bytes);
        });
    }
    for (auto& x : nodes) {
        CHECK(x.payload().store().size() == n * 8);
        CHECK(x.statistics().dropped_by_transport == 0);
        CHECK(x.transport().statistics().expanded > 0);
        CHECK(x.transport().statistics().ratio() < 0.8);
        CHECK(x.transport().inner().statistics().opened > 0);
    }
}
