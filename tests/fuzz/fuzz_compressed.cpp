// libFuzzer target: transport::compressed's decoder, fed by a stranger. The first input byte
// picks what the rest is:
//   even: a datagram as it arrives (framed when it starts with 0xC3). It is refused and counted
//         under exactly one reason, or handed on within max_decompressed_bytes;
//   odd:  a datagram of a member's own. Sent through compressed<>, it arrives exactly as it was;
//         and with one byte of the frame changed (the second input byte says which), it is
//         refused or handed on within the bound, never more.
// A violated invariant aborts (fuzz_support.hpp).

#include "fuzz_support.hpp"

#include <gossip/transport/compressed.hpp>
#include <gossip/transport/in_memory.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace {

using gossip::transport::in_memory_address;

using fuzz::check;
using fuzz::keeper;

constexpr std::size_t bound = 4096;

gossip::transport::compression_options options()
{
    gossip::transport::compression_options o;
    o.min_bytes = 8;
    o.max_decompressed_bytes = bound;
    return o;
}

// Offers `bytes` and checks the one-reason and bound invariants; what was handed on, if anything.
bool offer(gossip::transport::compressed<keeper>& t, std::span<const std::byte> bytes, std::vector<std::byte>& out)
{
    const auto before = t.statistics();
    bool handed = false;
    const bool passed = t.inbound(in_memory_address{1}, bytes, [&](std::span<const std::byte> plain) {
        check(!handed, "handed on at most once");
        handed = true;
        out.assign(plain.begin(), plain.end());
    });
    const auto& after = t.statistics();
    const auto counted = (after.expanded - before.expanded) + (after.raw_received - before.raw_received) +
                         (after.refused() - before.refused());
    check(counted == 1, "every datagram is counted under exactly one outcome");
    check(passed == handed, "passed exactly when handed on");
    if (handed && !bytes.empty() && bytes[0] == std::byte{0xC3}) {
        check(out.size() <= bound, "a frame never expands past max_decompressed_bytes");
        check(!out.empty(), "a frame never expands to nothing");
    }
    return handed;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    if (size < 2) {
        return 0;
    }
    const auto input = std::as_bytes(std::span(data, size));
    gossip::transport::compressed<keeper> t(keeper{}, options());
    std::vector<std::byte> out;
    if ((data[0] & 1U) == 0) {
        (void)offer(t, input.subspan(1), out);
        return 0;
    }
    const auto original = input.subspan(2, std::min<std::size_t>(size - 2, bound));
    check(t.send(in_memory_address{1}, original), "a send is passed on");
    const std::vector<std::byte> wire = t.inner().last;
    check(offer(t, wire, out), "a member's own datagram is accepted");
    check(std::equal(out.begin(), out.end(), original.begin(), original.end()), "a datagram arrives as it was sent");
    check(wire.size() <= original.size() + 1 + gossip::wire::max_varint_bytes + 2 * gossip::wire::max_varint_bytes,
          "a frame grows by its header at most");
    if (!wire.empty()) {
        auto changed = wire;
        changed[data[1] % changed.size()] ^= std::byte{static_cast<std::uint8_t>(data[1] | 1U)};
        (void)offer(t, changed, out);
    }
    return 0;
}
