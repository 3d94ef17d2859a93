// Metrics: one snapshot of a node's whole stack, and its Prometheus text exposition.

#include "support.hpp"

#include <gossip/metrics.hpp>
#include <gossip/payload/combined.hpp>
#include <gossip/payload/rumor_set.hpp>
#include <gossip/payload/swim.hpp>
#include <gossip/transport/rate_limited.hpp>

#include <doctest/doctest.h>

#include <cstddef>
#include <cstdint>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

using rumors = gossip::payload::rumor_set<std::uint32_t>;
using limited = gossip::transport::rate_limited<gossip::transport::in_memory>;
using rumor_node = gossip::gossip_node<limited, gossip::peer_selection::random, gossip::view_selection::healer,
                                       gossip::propagation::push_pull, rumors>;

// Two nodes that know each other and have exchanged a few rounds, one rumor started.
struct two_nodes {
    gossip::transport::in_memory_network net{2};
    rumor_node a{limited(net.endpoint(gossip::transport::in_memory_address{0}), {}), test::small_config(4), 1};
    rumor_node b{limited(net.endpoint(gossip::transport::in_memory_address{1}), {}), test::small_config(4), 2};

    two_nodes()
    {
        const std::array to_b{gossip::transport::in_memory_address{1}};
        a.join(to_b);
        a.payload().broadcast(7);
        for (int round = 0; round < 3; ++round) {
            a.tick();
            b.tick();
            net.deliver([&](auto from, auto to, std::span<const std::byte> bytes) {
                (to.index == 0 ? a : b).on_datagram(from, bytes);
            });
        }
    }
};

std::vector<std::string> lines_of(const std::string& text)
{
    std::vector<std::string> out;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) {
        out.push_back(line);
    }
    return out;
}

} // namespace

TEST_CASE("metrics: a snapshot holds the node's, the payload's and every transport layer's figures")
{
    two_nodes n;
    const auto m = gossip::snapshot(n.a);
    REQUIRE(m.find("node_messages_sent_total") != nullptr);
    CHECK(m.find("node_messages_sent_total")->count == n.a.statistics().messages_sent);
    CHECK(m.find("node_messages_sent_total")->count > 0);
    REQUIRE(m.find("rumor_broadcast_total") != nullptr);
    CHECK(m.find("rumor_broadcast_total")->count == 1);
    REQUIRE(m.find("rate_limited_sent_total") != nullptr); // the decorator
    CHECK(m.find("rate_limited_sent_total")->count == n.a.transport().statistics().sent);
    REQUIRE(m.find("view_size") != nullptr);
    CHECK(m.find("view_size")->kind == gossip::metric_kind::gauge);
    CHECK(m.find("view_size")->value == static_cast<double>(n.a.view().size()));
}

TEST_CASE("metrics: both parts of a combined payload are described")
{
    using swim = gossip::payload::swim<gossip::transport::in_memory_address>;
    using both = gossip::payload::combined<swim, rumors>;
    using node = gossip::gossip_node<gossip::transport::in_memory, gossip::peer_selection::random,
                                     gossip::view_selection::frozen, gossip::propagation::push_pull, both>;
    gossip::transport::in_memory_network net{1};
    node a(net.endpoint(gossip::transport::in_memory_address{0}), test::small_config(4), 3);
    const auto m = gossip::snapshot(a);
    CHECK(m.find("swim_probes_total") != nullptr);
    CHECK(m.find("members_known") != nullptr);
    CHECK(m.find("rumor_delivered_total") != nullptr);
}

TEST_CASE("metrics: counter names end in _total, and a name is never given twice")
{
    two_nodes n;
    const auto m = gossip::snapshot(n.a);
    std::set<std::string> names;
    for (const auto& x : m.items()) {
        CHECK(names.insert(x.name).second);
        CHECK((x.kind == gossip::metric_kind::counter) == x.name.ends_with("_total"));
        CHECK_FALSE(x.help.empty());
    }
    gossip::metrics_snapshot twice;
    twice.counter("x_total", "first", 1);
    twice.counter("x_total", "second", 2);
    CHECK(twice.size() == 1);
    CHECK(twice.find("x_total")->count == 1);
}

TEST_CASE("prometheus: every figure has its HELP, its TYPE and one sample with the labels")
{
    gossip::metrics_snapshot m;
    m.counter("sent_total", "Datagrams sent.", 18'446'744'073'709'551'615ULL); // exact, not rounded
    m.gauge("view_size", "Peers in the view.", 12);
    const auto text = gossip::to_prometheus(m, {{"node", "127.0.0.1:7000"}, {"zone", "a"}});
    CHECK(lines_of(text) == std::vector<std::string>{
                                "# HELP gossip_sent_total Datagrams sent.",
                                "# TYPE gossip_sent_total counter",
                                "gossip_sent_total{node=\"127.0.0.1:7000\",zone=\"a\"} 18446744073709551615",
                                "# HELP gossip_view_size Peers in the view.",
                                "# TYPE gossip_view_size gauge",
                                "gossip_view_size{node=\"127.0.0.1:7000\",zone=\"a\"} 12",
                            });
    CHECK(gossip::to_prometheus(m, {}, "svc").starts_with("# HELP svc_sent_total"));
}

TEST_CASE("prometheus: label values and help text are escaped")
{
    gossip::metrics_snapshot m;
    m.gauge("g", "line one\nback\\slash", 1);
    const auto text = gossip::to_prometheus(m, {{"node", "a\"b\\c\nd"}});
    CHECK(text.find("# HELP gossip_g line one\\nback\\\\slash\n") != std::string::npos);
    CHECK(text.find("gossip_g{node=\"a\\\"b\\\\c\\nd\"} 1\n") != std::string::npos);
}

TEST_CASE("prometheus: a prefix or label name Prometheus would refuse is refused")
{
    gossip::metrics_snapshot m;
    CHECK_THROWS_AS((void)gossip::to_prometheus(m, {}, "9lives"), std::invalid_argument);
    CHECK_THROWS_AS((void)gossip::to_prometheus(m, {{"bad-name", "x"}}), std::invalid_argument);
    CHECK_THROWS_AS((void)gossip::to_prometheus(m, {{"__reserved", "x"}}), std::invalid_argument);
}
