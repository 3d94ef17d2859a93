#include "support.hpp"

#include <doctest/doctest.h>

#include <cmath>
#include <vector>

using gossip::sim::directed_graph;

namespace {

directed_graph graph(std::size_t n, const std::vector<std::pair<std::uint32_t, std::uint32_t>>& edges)
{
    directed_graph g;
    g.live.assign(n, 1);
    g.offsets.assign(n + 1, 0);
    std::vector<std::vector<std::uint32_t>> out(n);
    for (auto [u, v] : edges) {
        out[u].push_back(v);
    }
    for (std::size_t u = 0; u < n; ++u) {
        g.targets.insert(g.targets.end(), out[u].begin(), out[u].end());
        g.offsets[u + 1] = static_cast<std::uint32_t>(g.targets.size());
    }
    return g;
}

gossip::sim::metrics_options exact()
{
    gossip::sim::metrics_options o;
    o.clustering_samples = 0;
    o.path_length_samples = 0;
    return o;
}

} // namespace

TEST_CASE("a complete graph has clustering 1, path length 1 and one component")
{
    std::vector<std::pair<std::uint32_t, std::uint32_t>> edges;
    for (std::uint32_t u = 0; u < 5; ++u) {
        for (std::uint32_t v = 0; v < 5; ++v) {
            if (u != v) {
                edges.emplace_back(u, v);
            }
        }
    }
    const auto m = gossip::sim::measure(graph(5, edges), exact());
    CHECK(m.clustering_coefficient == doctest::Approx(1.0));
    CHECK(m.average_path_length == doctest::Approx(1.0));
    CHECK(m.components == 1);
    CHECK(m.in_degree_mean == doctest::Approx(4.0));
    CHECK(m.in_degree_stddev == doctest::Approx(0.0));
}

TEST_CASE("a directed ring has no triangles and the path length of an undirected ring")
{
    // Undirected ring of 6: distances from any node are 1, 1, 2, 2, 3: mean 9/5.
    std::vector<std::pair<std::uint32_t, std::uint32_t>> edges;
    for (std::uint32_t u = 0; u < 6; ++u) {
        edges.emplace_back(u, (u + 1) % 6);
    }
    const auto m = gossip::sim::measure(graph(6, edges), exact());
    CHECK(m.clustering_coefficient == doctest::Approx(0.0));
    CHECK(m.average_path_length == doctest::Approx(9.0 / 5.0));
    CHECK(m.components == 1);
    CHECK(m.in_degree_mean == doctest::Approx(1.0));
}

TEST_CASE("a star has all in-degree at the centre")
{
    std::vector<std::pair<std::uint32_t, std::uint32_t>> edges;
    for (std::uint32_t u = 1; u < 5; ++u) {
        edges.emplace_back(u, 0);
    }
    const auto m = gossip::sim::measure(graph(5, edges), exact());
    CHECK(m.in_degree_max == 4);
    CHECK(m.in_degree_mean == doctest::Approx(0.8));
    CHECK(m.in_degree_stddev == doctest::Approx(std::sqrt(0.8 * 0.8 * 4 / 5 + 3.2 * 3.2 / 5)));
}

TEST_CASE("components are counted over live nodes, and links to dead nodes are counted apart")
{
    // 0 <-> 1, 2 <-> 3, 4 -> 5 with 5 dead: components {0,1}, {2,3}, {4}.
    auto g = graph(6, {{0, 1}, {1, 0}, {2, 3}, {3, 2}, {4, 5}});
    g.live[5] = 0;
    const auto m = gossip::sim::measure(g, exact());
    CHECK(m.live_nodes == 5);
    CHECK(m.components == 3);
    CHECK(m.largest_component == 2);
    CHECK(m.dead_links == 1);
}

TEST_CASE("a triangle with a pendant has the textbook mean clustering")
{
    // Triangle 0-1-2 plus 3 attached to 0. Local clustering: 0 -> 1/3, 1 -> 1, 2 -> 1, 3 -> 0
    // (degree 1 counts as 0): mean 7/12.
    const auto m = gossip::sim::measure(graph(4, {{0, 1}, {1, 2}, {2, 0}, {3, 0}}), exact());
    CHECK(m.clustering_coefficient == doctest::Approx(7.0 / 12.0));
}

TEST_CASE("an empty or all-dead graph measures as zeros")
{
    CHECK(gossip::sim::measure(graph(0, {}), exact()) == gossip::sim::overlay_metrics{});
    auto g = graph(3, {{0, 1}});
    g.live.assign(3, 0);
    const auto m = gossip::sim::measure(g, exact());
    CHECK(m == gossip::sim::overlay_metrics{});
}
