// run_loop, mailbox and node_driver: a node on a thread of its own, reached from others.

#include "udp_cluster.hpp"

#include <gossip/runtime/mailbox.hpp>
#include <gossip/runtime/run_loop.hpp>

#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>

using namespace std::chrono_literals;
using gossip::payload::member_event_kind;
using event = gossip::payload::member_event<test::udp_address>;

namespace {

// A node on 127.0.0.1 with its run_loop on a thread; its membership events go to a mailbox.
struct threaded_node {
    explicit threaded_node(std::uint64_t seed, std::optional<test::udp_address> join = std::nullopt)
        : node(test::make_agent(test::udp_address::loopback_v4(0), 20ms, 15, seed)), loop(node)
    {
        if (join) {
            node.join(std::span(&*join, 1));
        }
        node.payload().first().on_event([this](const event& e) { events.push(e); });
        thread = std::thread([this] { loop.run(); });
    }
    threaded_node(const threaded_node&) = delete;
    threaded_node& operator=(const threaded_node&) = delete;
    ~threaded_node()
    {
        loop.stop();
        thread.join();
    }

    // Waits up to `limit` for an event of `kind` about `about`.
    bool wait_for(member_event_kind kind, const test::udp_address& about, std::chrono::milliseconds limit)
    {
        const auto deadline = test::steady::now() + limit;
        while (test::steady::now() < deadline) {
            if (auto e = events.pop_for(10ms); e && e->kind == kind && e->address == about) {
                return true;
            }
        }
        return false;
    }

    test::agent node;
    gossip::run_loop<test::agent> loop;
    gossip::mailbox<event> events;
    std::thread thread;
};

} // namespace

TEST_CASE("run_loop: work posted from another thread runs on the loop's thread")
{
    threaded_node n(1);
    std::promise<std::thread::id> ran_on;
    auto future = ran_on.get_future();
    n.loop.post([&](test::agent&) { ran_on.set_value(std::this_thread::get_id()); });
    REQUIRE(future.wait_for(2s) == std::future_status::ready);
    CHECK(future.get() == n.thread.get_id());
}

TEST_CASE("run_loop: periods run on the timer")
{
    threaded_node n(2);
    std::this_thread::sleep_for(200ms);
    std::promise<std::uint64_t> cycles;
    auto future = cycles.get_future();
    n.loop.post([&](test::agent& node) { cycles.set_value(node.statistics().cycles); });
    REQUIRE(future.wait_for(2s) == std::future_status::ready);
    // 200 ms of 20 ms periods, with jitter and a random start: about 9, and surely 3 to 15.
    const auto c = future.get();
    CHECK(c >= 3);
    CHECK(c <= 15);
}

TEST_CASE("run_loop: stop makes run return, from any thread")
{
    auto node = test::make_agent(test::udp_address::loopback_v4(0), 20ms, 15, 3);
    gossip::run_loop loop(node);
    std::atomic<bool> returned{false};
    std::thread t([&] {
        loop.run();
        returned = true;
    });
    std::this_thread::sleep_for(50ms);
    CHECK_FALSE(returned.load());
    loop.stop();
    t.join();
    CHECK(returned.load());
    CHECK(node.payload().first().has_left());
}

TEST_CASE("run_loop: run_until returns at its deadline without leaving")
{
    auto node = test::make_agent(test::udp_address::loopback_v4(0), 20ms, 15, 4);
    gossip::run_loop loop(node);
    CHECK_FALSE(loop.run_until(test::steady::now() + 60ms));
    CHECK_FALSE(node.payload().first().has_left());
    CHECK(node.statistics().cycles >= 1);
}

TEST_CASE("run_loop: a node that stops cleanly is reported left by its peers, never failed")
{
    auto first = std::make_unique<threaded_node>(5);
    const auto first_address = first->node.address();
    threaded_node second(6, first_address);
    REQUIRE(second.wait_for(member_event_kind::joined, first_address, 3s));
    first.reset(); // stop(): leave() and two announcing periods, then the socket closes
    bool left = false;
    bool failed = false;
    const auto deadline = test::steady::now() + 3s;
    while (!left && test::steady::now() < deadline) {
        if (auto e = second.events.pop_for(10ms); e && e->address == first_address) {
            left = left || e->kind == member_event_kind::left;
            failed = failed || e->kind == member_event_kind::failed;
        }
    }
    CHECK(left);
    CHECK_FALSE(failed);
}

TEST_CASE("mailbox: a full mailbox drops its oldest item and counts it")
{
    gossip::mailbox<int> box(2);
    box.push(1);
    box.push(2);
    box.push(3);
    CHECK(box.dropped() == 1);
    CHECK(box.try_pop() == 2);
    CHECK(box.try_pop() == 3);
    CHECK_FALSE(box.try_pop().has_value());
}

TEST_CASE("mailbox: pop_for gives nothing when nothing comes in time")
{
    gossip::mailbox<int> box;
    CHECK_FALSE(box.pop_for(5ms).has_value());
}

TEST_CASE("mailbox: close wakes a waiting reader and keeps what was queued")
{
    gossip::mailbox<int> box;
    box.push(7);
    box.close();
    box.push(8); // ignored
    CHECK(box.pop_for(1s) == 7);
    const auto start = test::steady::now();
    CHECK_FALSE(box.pop_for(10s).has_value());
    CHECK(test::steady::now() - start < 5s);
}

TEST_CASE("node_driver: impossible options are refused")
{
    auto node = test::make_agent(test::udp_address::loopback_v4(0), 20ms, 15, 7);
    gossip::driver_options o;
    o.jitter = 0.9;
    CHECK_THROWS_AS(gossip::node_driver(node, o), std::invalid_argument);
    o.jitter = 0.1;
    o.max_batches = 0;
    CHECK_THROWS_AS(gossip::node_driver(node, o), std::invalid_argument);
}

TEST_CASE("node_driver: a period is due no later than one period after the start")
{
    auto node = test::make_agent(test::udp_address::loopback_v4(0), 20ms, 15, 8);
    const auto start = test::steady::now();
    gossip::node_driver driver(node, {}, start);
    CHECK(driver.next_deadline() >= start);
    CHECK(driver.next_deadline() <= start + 20ms);
    CHECK_FALSE(driver.on_deadline(start - 1ms));
    CHECK(driver.on_deadline(driver.next_deadline()));
    CHECK(node.statistics().cycles == 1);
}

TEST_CASE("node_driver: a loop that falls behind skips the periods it missed instead of bursting")
{
    auto node = test::make_agent(test::udp_address::loopback_v4(0), 20ms, 15, 9);
    const auto start = test::steady::now();
    gossip::node_driver driver(node, {}, start);
    const auto late = start + 10s;
    CHECK(driver.on_deadline(late));
    CHECK_FALSE(driver.on_deadline(late));
    CHECK(driver.next_deadline() > late);
    CHECK(node.statistics().cycles == 1);
}

namespace {

using swim_payload = gossip::payload::swim<test::udp_address>;
using swim_agent = gossip::gossip_node<test::udp, gossip::peer_selection::random, gossip::view_selection::frozen,
                                       gossip::propagation::push, swim_payload>;
using swim_event = gossip::payload::swim_event<test::udp_address>;
using swim_event_kind = gossip::payload::swim_event_kind;

// A SWIM member on 127.0.0.1 with swim_options::local()'s fast timings (at twice the pace), its
// run_loop on a thread; its membership events go to a mailbox.
struct threaded_swim_node {
    explicit threaded_swim_node(std::uint64_t id, std::optional<test::udp_address> join = std::nullopt)
        : node(test::udp(test::udp_address::loopback_v4(0)), config(), id, {}, {}, swim_payload(options(id))),
          loop(node)
    {
        node.payload().on_event([this](const swim_event& e) { events.push(e); });
        if (join) {
            node.join(std::span(&*join, 1));
        }
        thread = std::thread([this] { loop.run(); });
    }
    threaded_swim_node(const threaded_swim_node&) = delete;
    threaded_swim_node& operator=(const threaded_swim_node&) = delete;
    ~threaded_swim_node() { stop(); }

    void stop()
    {
        if (thread.joinable()) {
            loop.stop();
            thread.join();
        }
    }

    static gossip::config config()
    {
        gossip::config cfg;
        cfg.period = 100ms;
        return cfg;
    }

    static gossip::payload::swim_options options(std::uint64_t id)
    {
        auto o = gossip::payload::swim_options::local();
        o.probe_interval = 100ms;
        o.probe_timeout = 50ms;
        o.gossip_interval = 50ms;
        o.seed_retry_interval = 100ms;
        o.id = id;
        return o;
    }

    // Waits up to `limit` for an event of `kind` about member `id`; any failed event about it
    // on the way is noted.
    bool wait_for(swim_event_kind kind, std::uint64_t id, std::chrono::milliseconds limit)
    {
        const auto deadline = test::steady::now() + limit;
        while (test::steady::now() < deadline) {
            if (auto e = events.pop_for(10ms); e && e->id == id) {
                failed_seen = failed_seen || e->kind == swim_event_kind::failed;
                if (e->kind == kind) {
                    return true;
                }
            }
        }
        return false;
    }

    swim_agent node;
    gossip::run_loop<swim_agent> loop;
    gossip::mailbox<swim_event> events;
    std::thread thread;
    bool failed_seen = false;
};

} // namespace

TEST_CASE(
    "run_loop: a SWIM member on its own thread probes its peer, and at stop() leaves: reported left, never failed")
{
    auto first = std::make_unique<threaded_swim_node>(101);
    const auto first_address = first->node.address();
    threaded_swim_node second(102, first_address);
    REQUIRE(second.wait_for(swim_event_kind::joined, 101, 3s));
    REQUIRE(first->wait_for(swim_event_kind::joined, 102, 3s));

    // The loop runs SWIM's own timers: probes go out and are answered, on the loop's thread.
    std::this_thread::sleep_for(300ms);
    std::promise<std::pair<std::uint64_t, std::uint64_t>> counts;
    auto future = counts.get_future();
    second.loop.post([&](swim_agent& n) {
        counts.set_value({n.payload().statistics().probes, n.payload().statistics().acks});
    });
    REQUIRE(future.wait_for(2s) == std::future_status::ready);
    const auto [probes, acks] = future.get();
    CHECK(probes >= 1);
    CHECK(acks >= 1);

    first->stop(); // leave() and two announcing rounds; the socket closes with the node below
    CHECK(first->node.payload().has_left());
    first.reset();
    CHECK(second.wait_for(swim_event_kind::left, 101, 3s));
    CHECK_FALSE(second.failed_seen);
    std::promise<std::size_t> alive;
    auto alive_future = alive.get_future();
    second.loop.post([&](swim_agent& n) { alive.set_value(n.payload().alive_count()); });
    REQUIRE(alive_future.wait_for(2s) == std::future_status::ready);
    CHECK(alive_future.get() == 0);
}
