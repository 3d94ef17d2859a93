#include "support.hpp"

#include <doctest/doctest.h>

#include <chrono>
#include <string>
#include <vector>

using gossip::transport::in_memory_network;
using gossip::transport::network_options;
using test::address;
using namespace std::chrono_literals;

namespace {

struct received {
    address from;
    address to;
    std::vector<std::byte> bytes;
};

std::vector<std::byte> datagram(std::uint8_t tag, std::size_t size = 8)
{
    return std::vector<std::byte>(size, std::byte{tag});
}

std::vector<received> deliver(in_memory_network& net)
{
    std::vector<received> out;
    net.deliver([&](address from, address to, std::span<const std::byte> bytes) {
        out.push_back(received{from, to, {bytes.begin(), bytes.end()}});
    });
    return out;
}

} // namespace

TEST_CASE("a datagram arrives intact, from its sender, at its receiver")
{
    in_memory_network net(3);
    CHECK(net.endpoint(address{0}).send(address{2}, datagram(7, 20)));
    const auto got = deliver(net);
    REQUIRE(got.size() == 1);
    CHECK(got[0].from == address{0});
    CHECK(got[0].to == address{2});
    CHECK(got[0].bytes == datagram(7, 20));
    CHECK(net.statistics().delivered == 1);
    CHECK(net.statistics().bytes_delivered == 20);
}

TEST_CASE("datagrams due at the same time arrive in the order they were sent")
{
    in_memory_network net(2);
    for (std::uint8_t i = 0; i < 10; ++i) {
        net.send(address{0}, address{1}, datagram(i));
    }
    const auto got = deliver(net);
    REQUIRE(got.size() == 10);
    for (std::uint8_t i = 0; i < 10; ++i) {
        CHECK(got[i].bytes[0] == std::byte{i});
    }
}

TEST_CASE("a delayed datagram waits until its arrival time")
{
    network_options opt;
    opt.delay = 50ms;
    in_memory_network net(2, opt);
    net.send(address{0}, address{1}, datagram(1));
    CHECK(deliver(net).empty());
    net.advance(49ms);
    CHECK(deliver(net).empty());
    CHECK(net.next_arrival() == 50ms);
    net.advance(1ms);
    CHECK(deliver(net).size() == 1);
    CHECK(net.in_flight() == 0);
}

TEST_CASE("jitter reorders datagrams but every one arrives within delay + jitter")
{
    network_options opt;
    opt.delay = 10ms;
    opt.jitter = 20ms;
    opt.seed = 3;
    in_memory_network net(2, opt);
    for (std::uint8_t i = 0; i < 50; ++i) {
        net.send(address{0}, address{1}, datagram(i));
    }
    net.advance(9ms);
    CHECK(deliver(net).empty());
    net.advance(21ms);
    const auto got = deliver(net);
    REQUIRE(got.size() == 50);
    bool reordered = false;
    for (std::size_t i = 1; i < got.size(); ++i) {
        reordered = reordered || got[i].bytes[0] < got[i - 1].bytes[0];
    }
    CHECK(reordered);
}

TEST_CASE("the loss rate drops about that fraction, and the same seed drops the same datagrams")
{
    network_options opt;
    opt.loss = 0.3;
    opt.seed = 42;
    in_memory_network a(2, opt);
    in_memory_network b(2, opt);
    std::vector<int> arrived_a;
    std::vector<int> arrived_b;
    for (int i = 0; i < 10000; ++i) {
        a.send(address{0}, address{1}, datagram(1));
        b.send(address{0}, address{1}, datagram(1));
        arrived_a.push_back(static_cast<int>(deliver(a).size()));
        arrived_b.push_back(static_cast<int>(deliver(b).size()));
    }
    CHECK(arrived_a == arrived_b);
    CHECK(a.statistics().lost == doctest::Approx(3000).epsilon(0.06));
    CHECK(a.statistics().lost + a.statistics().delivered == 10000);
}

TEST_CASE("a partition drops traffic between sides, keeps it within each, and heals")
{
    in_memory_network net(4);
    const auto side = test::addresses({0, 1});
    net.partition(side);
    net.send(address{0}, address{1}, datagram(1)); // same side
    net.send(address{2}, address{3}, datagram(2)); // same side
    net.send(address{0}, address{2}, datagram(3)); // across
    net.send(address{3}, address{1}, datagram(4)); // across
    CHECK(deliver(net).size() == 2);
    CHECK(net.statistics().partitioned == 2);

    net.heal();
    net.send(address{0}, address{2}, datagram(5));
    const auto got = deliver(net);
    REQUIRE(got.size() == 1);
    CHECK(got[0].bytes[0] == std::byte{5});
}

TEST_CASE("several partition groups isolate from each other")
{
    in_memory_network net(3);
    net.set_group(address{0}, 1);
    net.set_group(address{1}, 2);
    CHECK_FALSE(net.reachable(address{0}, address{1}));
    CHECK_FALSE(net.reachable(address{0}, address{2}));
    CHECK_FALSE(net.reachable(address{1}, address{2}));
    net.set_group(address{2}, 2);
    CHECK(net.reachable(address{1}, address{2}));
}

TEST_CASE("a crashed node sends nothing and what arrives for it is dropped, until it restarts")
{
    network_options opt;
    opt.delay = 1ms;
    in_memory_network net(2, opt);
    net.send(address{0}, address{1}, datagram(1)); // in flight when 1 crashes
    net.crash(address{1});
    CHECK_FALSE(net.send(address{1}, address{0}, datagram(2)));
    net.advance(1ms);
    CHECK(deliver(net).empty());
    CHECK(net.statistics().to_crashed == 1);
    CHECK(net.statistics().refused == 1);

    net.restart(address{1});
    CHECK(net.send(address{1}, address{0}, datagram(3)));
    net.advance(1ms);
    CHECK(deliver(net).size() == 1);
}

TEST_CASE("datagrams to unknown addresses or over the size limit are refused at the sender")
{
    network_options opt;
    opt.max_datagram_bytes = 100;
    in_memory_network net(2, opt);
    CHECK_FALSE(net.send(address{0}, address{5}, datagram(1)));
    CHECK_FALSE(net.send(address{0}, address{1}, datagram(1, 101)));
    CHECK(net.send(address{0}, address{1}, datagram(1, 100)));
    CHECK(net.statistics().refused == 2);
}

TEST_CASE("a handler's own sends that are due at once are delivered in the same call")
{
    in_memory_network net(2);
    net.send(address{0}, address{1}, datagram(1));
    int hops = 0;
    net.deliver([&](address from, address to, std::span<const std::byte>) {
        if (++hops < 5) {
            net.send(to, from, datagram(2));
        }
    });
    CHECK(hops == 5);
}

TEST_CASE("deliver refuses to be re-entered from its own handler")
{
    in_memory_network net(2);
    net.send(address{0}, address{1}, datagram(1));
    net.send(address{0}, address{1}, datagram(2));
    CHECK_THROWS_AS(net.deliver([&](address, address, std::span<const std::byte>) {
        net.deliver([](address, address, std::span<const std::byte>) {});
    }),
                    std::logic_error);
    // The network is usable again afterwards.
    CHECK(deliver(net).size() == 1);
}

TEST_CASE("impossible impairments are refused")
{
    in_memory_network net(1);
    CHECK_THROWS_AS(net.set_loss(1.5), std::invalid_argument);
    CHECK_THROWS_AS(net.set_loss(-0.1), std::invalid_argument);
    CHECK_THROWS_AS(net.set_delay(-1ms), std::invalid_argument);
    CHECK_THROWS_AS(static_cast<void>(net.endpoint(address{1})), std::out_of_range);
}

TEST_CASE("bytes of delayed datagrams survive arena compaction")
{
    network_options opt;
    opt.delay = 10ms;
    opt.jitter = 10ms;
    in_memory_network net(2, opt);
    std::vector<std::vector<std::byte>> sent;
    std::size_t checked = 0;
    for (int step = 0; step < 400; ++step) {
        auto d = datagram(static_cast<std::uint8_t>(step), 16 + static_cast<std::size_t>(step % 50));
        net.send(address{0}, address{1}, d);
        sent.push_back(d);
        net.advance(1ms);
        net.deliver([&](address, address, std::span<const std::byte> bytes) {
            const auto tag = std::to_integer<std::size_t>(bytes[0]);
            bool match = false;
            for (std::size_t i = tag; i < sent.size(); i += 256) {
                match = match || std::vector<std::byte>(bytes.begin(), bytes.end()) == sent[i];
            }
            CHECK(match);
            ++checked;
        });
    }
    CHECK(checked > 350);
}

TEST_CASE("a partition naming an unknown node is refused and leaves the network as it was")
{
    in_memory_network net(3);
    const auto first = test::addresses({0});
    net.partition(first);
    const auto bad = test::addresses({1, 7});
    CHECK_THROWS_AS(net.partition(bad), std::out_of_range);
    CHECK_FALSE(net.reachable(address{0}, address{1})); // the earlier partition still stands
    CHECK_FALSE(net.reachable(address{0}, address{9}));
    CHECK_THROWS_AS(net.crash(address{3}), std::out_of_range);
}
