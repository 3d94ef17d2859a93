// cluster_node: the ready-made member (UDP, SWIM, a replicated map) on a thread of its own, driven
// from the test's thread as a service would drive it. Loopback only; every wait is bounded.

#include <gossip/cluster_node.hpp>

#include <doctest/doctest.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

using namespace std::chrono_literals;
using gossip::cluster_node;
using gossip::cluster_options;

namespace {

cluster_options quick(std::uint64_t seed)
{
    auto o = cluster_options::local();
    o.seed = seed;
    return o;
}

// Polls `done` every 10 ms until it holds or `limit` passes; whether it held.
bool eventually(const std::function<bool()>& done, std::chrono::milliseconds limit = 10s)
{
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (!done()) {
        if (std::chrono::steady_clock::now() >= deadline) {
            return false;
        }
        std::this_thread::sleep_for(10ms);
    }
    return true;
}

std::size_t alive_members(const cluster_node& n)
{
    const auto all = n.members();
    return static_cast<std::size_t>(std::count_if(all.begin(), all.end(), [](const auto& m) {
        return m.state == gossip::payload::swim_state::alive;
    }));
}

} // namespace

TEST_CASE("cluster_node: members that join one seed list each other, themselves first")
{
    cluster_node seed("127.0.0.1:0", quick(1));
    cluster_node a("127.0.0.1:0", quick(2));
    cluster_node b("127.0.0.1:0", quick(3));
    for (auto* n : {&seed, &a, &b}) {
        n->start();
    }
    a.join(seed.address().to_string());
    b.join({seed.address()});
    CHECK(a.wait_joined(10s));
    CHECK(b.wait_joined(10s));
    CHECK(eventually([&] { return alive_members(seed) == 3 && alive_members(a) == 3 && alive_members(b) == 3; }));
    const auto listed = a.members();
    REQUIRE_FALSE(listed.empty());
    CHECK(listed.front().self);
    CHECK(listed.front().address == a.address());
    CHECK(listed.front().id == a.id());
}

TEST_CASE("cluster_node: a write on one member is read on every other")
{
    cluster_node a("127.0.0.1:0", quick(4));
    cluster_node b("127.0.0.1:0", quick(5));
    a.start();
    b.start();
    b.join({a.address()});
    REQUIRE(b.wait_joined(10s));
    a.put("leader", "a");
    CHECK(eventually([&] { return b.get(std::string("leader")) == std::optional<std::string>("a"); }));
    b.erase(std::string("leader"));
    CHECK(eventually([&] { return !a.get(std::string("leader")).has_value(); }));
}

TEST_CASE("cluster_node: events reach the handler on the node's thread")
{
    cluster_node a("127.0.0.1:0", quick(6));
    std::atomic<int> joined{0};
    std::atomic<bool> on_node_thread{true};
    const auto test_thread = std::this_thread::get_id();
    a.on_member_event([&](const cluster_node::member_event& e) {
        on_node_thread = on_node_thread && std::this_thread::get_id() != test_thread;
        if (e.kind == gossip::payload::swim_event_kind::joined) {
            ++joined;
        }
    });
    a.start();
    {
        cluster_node b("127.0.0.1:0", quick(7));
        b.start();
        b.join({a.address()});
        CHECK(eventually([&] { return joined.load() == 1; }));
    } // b leaves as it goes
    CHECK(eventually([&] {
        const auto all = a.members();
        return std::any_of(all.begin(), all.end(),
                           [](const auto& m) { return m.state == gossip::payload::swim_state::left; });
    }));
    CHECK(on_node_thread.load());
}

TEST_CASE("cluster_node: with no seed answering, wait_joined says so and the contacts are counted")
{
    // A socket that never answers stands for a seed that is down.
    gossip::transport::udp silent(gossip::transport::udp_address::loopback_v4(0));
    cluster_node a("127.0.0.1:0", quick(8));
    a.start();
    a.join({silent.local_address()});
    CHECK_FALSE(a.wait_joined(700ms));
    CHECK_FALSE(a.joined());
    // Seeds are retried while nobody answers (every 200 ms with the local profile).
    CHECK(a.statistics().seed_contacts >= 2);
}

TEST_CASE("cluster_node: call runs on the node's thread, returns its result and passes on its exception")
{
    cluster_node a("127.0.0.1:0", quick(9));
    CHECK(a.call([](cluster_node::node_type& n) { return n.address(); }) == a.address()); // not started: directly
    a.start();
    const auto caller = std::this_thread::get_id();
    CHECK(a.call([&](cluster_node::node_type&) { return std::this_thread::get_id() != caller; }));
    CHECK_THROWS_AS(a.call([](cluster_node::node_type&) -> int { throw std::runtime_error("no"); }),
                    std::runtime_error);
    // A reference comes back as one, and nothing at all for void.
    CHECK(&a.call([](cluster_node::node_type& n) -> cluster_node::node_type& { return n; }) == &a.node());
    int touched = 0;
    a.call([&](cluster_node::node_type&) { ++touched; });
    CHECK(touched == 1);
    a.stop();
    CHECK_FALSE(a.running());
    CHECK_THROWS_AS(a.start(), std::logic_error);
}

TEST_CASE("cluster_node: impossible options and addresses are refused with the reason")
{
    auto o = quick(10);
    o.membership.probe_timeout = o.membership.probe_interval;
    CHECK_THROWS_WITH_AS(cluster_node("127.0.0.1:0", o), doctest::Contains("probe_timeout"), std::invalid_argument);
    o = quick(10);
    o.node.fanout = 0;
    CHECK_THROWS_AS(cluster_node("127.0.0.1:0", o), gossip::config_error);
    CHECK_THROWS_AS(cluster_node("127.0.0.1:99999", quick(10)), gossip::transport::address_error);
    cluster_node a("127.0.0.1:0", quick(11));
    CHECK_THROWS_AS(a.join("127.0.0.1:7000,not an address"), gossip::transport::address_error);
}

TEST_CASE("cluster_options: the profiles are valid, and slower from local to lan to wan")
{
    const auto local = cluster_options::local();
    const auto lan = cluster_options::lan();
    const auto wan = cluster_options::wan();
    for (const auto* o : {&local, &lan, &wan}) {
        CHECK_FALSE(gossip::check(o->node).has_value());
        CHECK_FALSE(gossip::payload::check(o->membership).has_value());
        CHECK_FALSE(gossip::payload::check(o->store).has_value());
        CHECK(o->store.rumors);
    }
    CHECK(local.membership.probe_interval < lan.membership.probe_interval);
    CHECK(lan.membership.probe_interval < wan.membership.probe_interval);
    CHECK(local.node.period < lan.node.period);
    CHECK(lan.node.period < wan.node.period);
}

TEST_CASE("cluster_node: a handler that throws is counted and the node goes on")
{
    cluster_node a("127.0.0.1:0", quick(12));
    a.on_member_event([](const cluster_node::member_event&) { throw std::runtime_error("a bad handler"); });
    a.start();
    cluster_node b("127.0.0.1:0", quick(13));
    b.start();
    b.join({a.address()});
    CHECK(eventually([&] { return a.handler_failures() >= 1; }));
    CHECK(a.running());
    a.put("still", "working");
    CHECK(eventually([&] { return b.get(std::string("still")).has_value(); }));
}

TEST_CASE("cluster_node: a write keeps its own copy of what the caller passed")
{
    cluster_node a("127.0.0.1:0", quick(14));
    a.start();
    {
        char key[] = "k1";
        char value[] = "v1";
        a.put(key, value);
        key[1] = 'X'; // the caller reuses its buffers at once
        value[1] = 'X';
    }
    CHECK(a.get(std::string("k1")) == std::optional<std::string>("v1"));
}

TEST_CASE("cluster_node: broadcasts reach the other members, and only live members are listed as alive")
{
    cluster_node a("127.0.0.1:0", quick(15));
    std::atomic<int> heard{0};
    a.on_broadcast([&](std::uint64_t, std::span<const std::byte> bytes) { heard += static_cast<int>(bytes.size()); });
    a.start();
    auto b = std::make_unique<cluster_node>("127.0.0.1:0", quick(16));
    b->start();
    b->join({a.address()});
    REQUIRE(b->wait_joined(10s));
    const std::array<std::byte, 3> hello{std::byte{1}, std::byte{2}, std::byte{3}};
    b->broadcast(hello);
    CHECK(eventually([&] { return heard.load() == 3; }));
    CHECK(a.alive_members().size() == 2);
    b.reset(); // leaves
    CHECK(eventually([&] { return a.alive_members().size() == 1; }));
    CHECK(a.members().size() == 2); // still known, as left
}

TEST_CASE("cluster_node: after stop, reads still answer and writes are refused")
{
    cluster_node a("127.0.0.1:0", quick(17));
    a.start();
    a.put("k", "v");
    a.stop();
    CHECK(a.get(std::string("k")) == std::optional<std::string>("v"));
    CHECK_THROWS_AS(a.put("k", "w"), std::logic_error);
    CHECK_FALSE(a.running());
}
