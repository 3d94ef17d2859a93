#pragma once

// The node the fuzzer attacks and the seed corpus comes from: peer sampling with membership and
// an anti-entropy store (rumors on) in one payload, over the in-memory network, with small limits
// so that the fuzzer reaches them.

#include <gossip/gossip.hpp>
#include <gossip/payload/combined.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>

namespace fuzz {

using address = gossip::transport::in_memory_address;
using table = gossip::payload::membership<address>;
using store = gossip::payload::anti_entropy<gossip::payload::lww_map<std::string, std::string>>;
using payload = gossip::payload::combined<table, store>;
using node = gossip::gossip_node<gossip::transport::in_memory, gossip::peer_selection::random,
                                 gossip::view_selection::healer, gossip::propagation::push_pull, payload>;

inline constexpr std::size_t view_size = 8;
inline constexpr std::size_t max_members = 32;
inline constexpr auto period = std::chrono::milliseconds(1000); // the config's default

inline gossip::config node_config()
{
    gossip::config cfg;
    cfg.view_size = view_size;
    cfg.max_message_bytes = 1400;
    return cfg;
}

inline payload node_payload()
{
    gossip::payload::membership_options members;
    members.max_members = max_members;
    // A few periods, so that what an input forges fails and is forgotten within the fuzzer's run.
    members.t_fail = 2 * period;
    members.t_cleanup = 4 * period;
    gossip::payload::anti_entropy_options data;
    data.rumors = true;
    data.max_probes = 8;
    return payload(table(members), store(data));
}

/// The fuzzers hand nodes datagrams with made-up sources: the network must not vouch for them,
/// so that the defences against forged sources (cookies, answer budgets) are fuzzed too.
inline gossip::transport::network_options forged_sources()
{
    gossip::transport::network_options o;
    o.authentic_sources = false;
    return o;
}

inline node make_node(gossip::transport::in_memory_network& net, std::uint32_t index)
{
    return node(net.endpoint(address{index}), node_config(), 1000 + index, {}, {}, node_payload());
}

} // namespace fuzz
