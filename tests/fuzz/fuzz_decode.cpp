// libFuzzer target: every input is one datagram, handed
//   (a) to wire::decode<udp_address>: whatever it accepts must re-encode to the same bytes, and
//       whatever it refuses must leave no descriptors behind;
//   (b) to a whole node's on_datagram (membership + anti-entropy with rumors, over the in-memory
//       network), twice, with a period and an honest peer's traffic around it. After every
//       datagram: the view is well formed, the membership table sorted, bounded and free of
//       the node itself, the store's hash tree consistent, every datagram the node received
//       ended in exactly one of accepted / dropped_malformed / dropped_unexpected, and the
//       honest peer refused nothing the attacked node sent it.
// A violated invariant aborts, which libFuzzer reports as a crash with the input saved.
//
// scripts/fuzz.sh builds and runs it; tests/fuzz/make_corpus.cpp writes its seed corpus.

#include "fuzz_node.hpp"

#include <gossip/transport/udp_address.hpp>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <span>
#include <vector>

namespace {

using gossip::transport::udp_address;

void check(bool ok, const char* invariant)
{
    if (!ok) {
        std::fprintf(stderr, "fuzz_decode: invariant violated: %s\n", invariant);
        std::abort();
    }
}

// --- (a) the decoder alone ---------------------------------------------------------------------

void decode_alone(std::span<const std::byte> datagram)
{
    static std::vector<gossip::descriptor<udp_address>> view;
    const auto m = gossip::wire::decode<udp_address>(datagram, gossip::max_view_size, view);
    if (m.error != gossip::wire::decode_error::none) {
        check(view.empty(), "a refused datagram leaves no descriptors");
        return;
    }
    check(view.size() <= gossip::max_view_size, "no more descriptors than asked for");
    check(m.has_view || view.empty(), "descriptors only with the view flag");
    check(m.payload.empty() || (m.payload.data() >= datagram.data() &&
                                m.payload.data() + m.payload.size() <= datagram.data() + datagram.size()),
          "the payload lies inside the datagram");
    static std::vector<std::byte> again;
    again.assign(datagram.size() + 64, std::byte{0});
    gossip::wire::writer w{std::span(again)};
    const std::span<const gossip::descriptor<udp_address>> sent(view);
    const bool encoded = gossip::wire::encode(w, m.kind, m.sender, m.has_view ? &sent : nullptr,
                                              [&](gossip::wire::writer& out) { out.bytes(m.payload); });
    check(encoded, "an accepted datagram re-encodes");
    check(w.size() == datagram.size() && std::equal(datagram.begin(), datagram.end(), again.begin()),
          "an accepted datagram re-encodes to the same bytes");
}

// --- (b) a whole node ---------------------------------------------------------------------------

using fuzz::address;

struct harness {
    gossip::transport::in_memory_network net{4, fuzz::forged_sources()};
    fuzz::node target = fuzz::make_node(net, 0);
    fuzz::node peer = fuzz::make_node(net, 1); // honest: everything the target sends it must decode
    std::uint64_t delivered_to_target = 0;

    harness()
    {
        const std::array<address, 3> contacts{address{1}, address{2}, address{3}};
        target.join(contacts);
        const std::array<address, 1> back{address{0}};
        peer.join(back);
        target.payload().second().put(std::string("alpha"), std::string("1"));
        target.payload().second().put(std::string("beta"), std::string("2"));
        peer.payload().second().put(std::string("gamma"), std::string("3"));
        round();
    }

    void verify() const
    {
        const auto& s = target.statistics();
        check(s.accepted + s.dropped_malformed + s.dropped_unexpected == delivered_to_target,
              "every datagram is counted once");
        check(target.view().well_formed(target.address(), fuzz::view_size), "the target's view is well formed");
        check(peer.view().well_formed(peer.address(), fuzz::view_size), "the peer's view is well formed");
        const auto members = target.payload().first().members();
        check(members.size() <= fuzz::max_members, "the membership table is bounded");
        check(std::adjacent_find(members.begin(), members.end(),
                                 [](const auto& x, const auto& y) { return !(x.address < y.address); }) ==
                  members.end(),
              "the membership table is in strict address order");
        check(std::none_of(members.begin(), members.end(),
                           [&](const auto& m) { return m.address == target.address(); }),
              "the membership table never holds the node itself");
        check(target.payload().second().store().tree().well_formed(), "the store's hash tree is consistent");
        check(peer.statistics().dropped_malformed == 0, "the peer refuses nothing the target sends");
        check(peer.statistics().dropped_unexpected == 0, "the peer expects everything the target sends");
    }

    void to_target(address from, std::span<const std::byte> bytes)
    {
        ++delivered_to_target;
        target.on_datagram(from, bytes);
        verify();
    }

    // Everything in flight, answers included, until the conversations end (max_steps bounds them).
    void pump()
    {
        net.deliver([&](address from, address to, std::span<const std::byte> bytes) {
            if (to.index == 0) {
                to_target(from, bytes);
            } else if (to.index == 1) {
                peer.on_datagram(from, bytes);
                verify();
            }
        });
    }

    void round()
    {
        net.advance(fuzz::period);
        target.tick();
        peer.tick();
        pump();
    }
};

void through_a_node(std::span<const std::byte> datagram)
{
    harness h;
    h.to_target(address{1}, datagram);
    h.pump();
    h.round();
    h.to_target(address{1}, datagram); // the same again, to a node that has moved on
    h.pump();
    for (int i = 0; i < 4; ++i) { // long enough for whatever it forged to fail and be forgotten
        h.round();
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    const std::span<const std::byte> datagram(reinterpret_cast<const std::byte*>(data), size);
    decode_alone(datagram);
    through_a_node(datagram);
    return 0;
}
