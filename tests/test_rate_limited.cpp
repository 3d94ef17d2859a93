// transport::rate_limited: byte budgets on what a member sends and takes in, drops counted, and
// its composition with sealed<> (the receive budget is checked before any cryptography).

#include <gossip/transport/in_memory.hpp>
#include <gossip/transport/rate_limited.hpp>
#include <gossip/transport/sealed.hpp>

#include <doctest/doctest.h>

#include <chrono>
#include <cstddef>
#include <span>
#include <stdexcept>
#include <vector>

using namespace std::chrono_literals;
using gossip::transport::in_memory;
using gossip::transport::in_memory_address;
using gossip::transport::in_memory_network;
using gossip::transport::rate_limit_options;
using gossip::transport::rate_limited;

namespace {

rate_limit_options sending(std::uint64_t rate, std::uint64_t burst)
{
    rate_limit_options o;
    o.send_bytes_per_second = rate;
    o.send_burst_bytes = burst;
    return o;
}

rate_limit_options receiving(std::uint64_t rate, std::uint64_t burst)
{
    rate_limit_options o;
    o.receive_bytes_per_second = rate;
    o.receive_burst_bytes = burst;
    return o;
}

} // namespace

TEST_CASE("rate_limited: sends past the burst are dropped and counted, and the budget refills with time")
{
    in_memory_network net(2);
    rate_limited<in_memory> t(net.endpoint(in_memory_address{0}), sending(1000, 300));
    const std::vector<std::byte> datagram(100);
    int accepted = 0;
    for (int i = 0; i < 10; ++i) {
        accepted += t.send(in_memory_address{1}, datagram) ? 1 : 0;
    }
    CHECK(accepted == 3); // the burst
    CHECK(t.statistics().send_dropped == 7);
    CHECK(t.statistics().send_dropped_bytes == 700);
    net.advance(200ms); // 200 bytes earned
    CHECK(t.send(in_memory_address{1}, datagram));
    CHECK(t.send(in_memory_address{1}, datagram));
    CHECK_FALSE(t.send(in_memory_address{1}, datagram));
    net.advance(10s); // never more than the burst
    accepted = 0;
    for (int i = 0; i < 10; ++i) {
        accepted += t.send(in_memory_address{1}, datagram) ? 1 : 0;
    }
    CHECK(accepted == 3);
    CHECK(t.statistics().sent == 8);
}

TEST_CASE("rate_limited: a flood past the receive budget is dropped before it reaches the node")
{
    in_memory_network net(2);
    rate_limited<in_memory> t(net.endpoint(in_memory_address{0}), receiving(10'000, 2'000));
    const std::vector<std::byte> datagram(500);
    int handed = 0;
    for (int i = 0; i < 100; ++i) {
        (void)t.inbound(in_memory_address{1}, datagram, [&](std::span<const std::byte>) { ++handed; });
    }
    CHECK(handed == 4);
    CHECK(t.statistics().receive_dropped == 96);
    net.advance(1s);
    for (int i = 0; i < 100; ++i) {
        (void)t.inbound(in_memory_address{1}, datagram, [&](std::span<const std::byte>) { ++handed; });
    }
    CHECK(handed == 8); // refilled to the burst, not to a second's worth
}

TEST_CASE("rate_limited: under sealed<>, the receive budget is spent before any tag is checked")
{
    in_memory_network net(2);
    gossip::transport::keyring keys;
    gossip::transport::sealing_key key;
    key.id = 1;
    keys.install(key);
    gossip::transport::sealed_options o;
    o.label = "c";
    using stack = gossip::transport::sealed<rate_limited<in_memory>>;
    stack receiver(rate_limited<in_memory>(net.endpoint(in_memory_address{0}), receiving(1'000, 1'000)), keys, o);
    std::vector<std::byte> forged(200, std::byte{0x33});
    forged[0] = std::byte{0xC5};
    forged[1] = std::byte{1};
    int refused = 0;
    for (int i = 0; i < 20; ++i) {
        refused += receiver.inbound(in_memory_address{1}, forged, [](std::span<const std::byte>) {}) ? 0 : 1;
    }
    CHECK(refused == 20);
    CHECK(receiver.inner().statistics().receive_dropped == 15); // 5 fit the budget of 1,000 bytes
    CHECK(receiver.statistics().refused_tag == 5);              // only those were checked
}

TEST_CASE("rate_limited: a limited direction without a burst is refused with the reason")
{
    in_memory_network net(1);
    CHECK_THROWS_WITH_AS(rate_limited<in_memory>(net.endpoint(in_memory_address{0}), sending(1000, 0)),
                         doctest::Contains("burst"), std::invalid_argument);
}
