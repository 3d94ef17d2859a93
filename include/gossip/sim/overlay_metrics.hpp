#pragma once

// Figures that describe an overlay as a graph, as in Jelasity et al.'s evaluation: in-degree
// spread, clustering, path length, connectivity, and links that point at dead nodes. Computed on
// the live nodes; clustering and path length use the undirected graph and may be sampled.

#include "../random.hpp"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <numeric>
#include <span>
#include <vector>

namespace gossip::sim {

/// The figures Jelasity et al. compare overlays by (see the header comment), computed by
/// measure() over the live nodes.
struct overlay_metrics {
    std::size_t live_nodes = 0;
    double in_degree_mean = 0; ///< over live nodes, counting links from live nodes
    double in_degree_stddev = 0;
    std::size_t in_degree_max = 0;
    double clustering_coefficient = 0; ///< mean local clustering of the undirected graph
    double average_path_length = 0;    ///< mean hop distance between connected live pairs
    std::size_t components = 0;        ///< weakly connected components among live nodes
    std::size_t largest_component = 0;
    std::size_t dead_links = 0; ///< view entries of live nodes that point at dead nodes

    friend bool operator==(const overlay_metrics&, const overlay_metrics&) = default;
};

/// How much of the graph the costly figures sample: exact figures are quadratic in the nodes.
struct metrics_options {
    /// Nodes whose clustering is averaged; 0 means all.
    std::size_t clustering_samples = 1000;
    /// Breadth-first searches whose distances are averaged; 0 means one from every node.
    std::size_t path_length_samples = 32;
    /// Picks the samples; a fixed seed gives the same figures for the same overlay.
    std::uint64_t seed = 7;
};

/// A directed graph in compressed rows: node u links to targets[offsets[u] .. offsets[u+1]).
struct directed_graph {
    std::vector<std::uint32_t> offsets{0};
    std::vector<std::uint32_t> targets;
    std::vector<std::uint8_t> live;

    [[nodiscard]] std::size_t size() const noexcept { return live.size(); }
    [[nodiscard]] std::span<const std::uint32_t> out(std::size_t u) const noexcept
    {
        return std::span(targets).subspan(offsets[u], offsets[u + 1] - offsets[u]);
    }
};

namespace detail {

inline std::uint32_t find_root(std::vector<std::uint32_t>& parent, std::uint32_t x) noexcept
{
    while (parent[x] != x) {
        parent[x] = parent[parent[x]];
        x = parent[x];
    }
    return x;
}

// The undirected graph among live nodes, each adjacency sorted and without repeats.
inline directed_graph undirected_live(const directed_graph& g)
{
    const std::size_t n = g.size();
    std::vector<std::uint32_t> degree(n + 1, 0);
    for (std::size_t u = 0; u < n; ++u) {
        if (g.live[u] == 0) {
            continue;
        }
        for (auto v : g.out(u)) {
            if (v != u && g.live[v] != 0) {
                ++degree[u];
                ++degree[v];
            }
        }
    }
    directed_graph h;
    h.live = g.live;
    h.offsets.assign(n + 1, 0);
    for (std::size_t u = 0; u < n; ++u) {
        h.offsets[u + 1] = h.offsets[u] + degree[u];
    }
    h.targets.resize(h.offsets[n]);
    std::vector<std::uint32_t> fill(h.offsets.begin(), h.offsets.end() - 1);
    for (std::size_t u = 0; u < n; ++u) {
        if (g.live[u] == 0) {
            continue;
        }
        for (auto v : g.out(u)) {
            if (v != u && g.live[v] != 0) {
                h.targets[fill[u]++] = v;
                h.targets[fill[v]++] = static_cast<std::uint32_t>(u);
            }
        }
    }
    // Sort and deduplicate each row in place, then close the gaps.
    std::uint32_t write = 0;
    for (std::size_t u = 0; u < n; ++u) {
        auto first = h.targets.begin() + h.offsets[u];
        auto last = h.targets.begin() + h.offsets[u + 1];
        std::sort(first, last);
        last = std::unique(first, last);
        const auto begin = write;
        for (auto it = first; it != last; ++it) {
            h.targets[write++] = *it;
        }
        h.offsets[u] = begin;
    }
    h.offsets[n] = write;
    h.targets.resize(write);
    return h;
}

} // namespace detail

/// Computes every figure of overlay_metrics for `g`. Deterministic for a given options.seed.
inline overlay_metrics measure(const directed_graph& g, const metrics_options& options = {})
{
    overlay_metrics m;
    const std::size_t n = g.size();
    std::vector<std::uint32_t> in_degree(n, 0);
    for (std::size_t u = 0; u < n; ++u) {
        if (g.live[u] == 0) {
            continue;
        }
        ++m.live_nodes;
        for (auto v : g.out(u)) {
            if (g.live[v] != 0) {
                ++in_degree[v];
            } else {
                ++m.dead_links;
            }
        }
    }
    if (m.live_nodes == 0) {
        return m;
    }
    double sum = 0;
    double sum_sq = 0;
    for (std::size_t u = 0; u < n; ++u) {
        if (g.live[u] != 0) {
            sum += in_degree[u];
            sum_sq += static_cast<double>(in_degree[u]) * in_degree[u];
            m.in_degree_max = std::max<std::size_t>(m.in_degree_max, in_degree[u]);
        }
    }
    const auto live = static_cast<double>(m.live_nodes);
    m.in_degree_mean = sum / live;
    m.in_degree_stddev = std::sqrt(std::max(0.0, sum_sq / live - m.in_degree_mean * m.in_degree_mean));

    const directed_graph h = detail::undirected_live(g);

    // Components, by union-find over the undirected edges.
    std::vector<std::uint32_t> parent(n);
    std::iota(parent.begin(), parent.end(), 0U);
    for (std::size_t u = 0; u < n; ++u) {
        for (auto v : h.out(u)) {
            const auto a = detail::find_root(parent, static_cast<std::uint32_t>(u));
            const auto b = detail::find_root(parent, v);
            if (a != b) {
                parent[std::max(a, b)] = std::min(a, b);
            }
        }
    }
    std::vector<std::uint32_t> component_size(n, 0);
    for (std::size_t u = 0; u < n; ++u) {
        if (g.live[u] != 0) {
            const auto r = detail::find_root(parent, static_cast<std::uint32_t>(u));
            if (component_size[r]++ == 0) {
                ++m.components;
            }
            m.largest_component = std::max<std::size_t>(m.largest_component, component_size[r]);
        }
    }

    // Live nodes in a seeded random order: the first k are the samples.
    std::vector<std::uint32_t> order;
    order.reserve(m.live_nodes);
    for (std::size_t u = 0; u < n; ++u) {
        if (g.live[u] != 0) {
            order.push_back(static_cast<std::uint32_t>(u));
        }
    }
    pcg32 rng(options.seed);
    shuffle(std::span(order), rng);

    // Clustering: the fraction of a node's neighbour pairs that are neighbours themselves.
    const std::size_t cc_samples =
        options.clustering_samples == 0 ? order.size() : std::min(options.clustering_samples, order.size());
    double cc_sum = 0;
    for (std::size_t s = 0; s < cc_samples; ++s) {
        const auto u = order[s];
        const auto nu = h.out(u);
        if (nu.size() < 2) {
            continue;
        }
        std::size_t links = 0;
        for (auto v : nu) {
            const auto nv = h.out(v);
            auto a = nu.begin();
            auto b = nv.begin();
            while (a != nu.end() && b != nv.end()) {
                if (*a < *b) {
                    ++a;
                } else if (*b < *a) {
                    ++b;
                } else {
                    ++links;
                    ++a;
                    ++b;
                }
            }
        }
        const auto k = static_cast<double>(nu.size());
        cc_sum += static_cast<double>(links) / (k * (k - 1)); // each link counted twice
    }
    m.clustering_coefficient = cc_samples > 0 ? cc_sum / static_cast<double>(cc_samples) : 0.0;

    // Path length: breadth-first searches from sampled sources.
    const std::size_t bfs_samples =
        options.path_length_samples == 0 ? order.size() : std::min(options.path_length_samples, order.size());
    constexpr auto unseen = std::uint32_t{0xFFFFFFFF};
    std::vector<std::uint32_t> distance(n, unseen);
    std::vector<std::uint32_t> frontier;
    double path_sum = 0;
    double pairs = 0;
    for (std::size_t s = 0; s < bfs_samples; ++s) {
        std::fill(distance.begin(), distance.end(), unseen);
        frontier.clear();
        frontier.push_back(order[s]);
        distance[order[s]] = 0;
        for (std::size_t head = 0; head < frontier.size(); ++head) {
            const auto u = frontier[head];
            for (auto v : h.out(u)) {
                if (distance[v] == unseen) {
                    distance[v] = distance[u] + 1;
                    path_sum += distance[v];
                    pairs += 1;
                    frontier.push_back(v);
                }
            }
        }
    }
    m.average_path_length = pairs > 0 ? path_sum / pairs : 0.0;
    return m;
}

} // namespace gossip::sim
