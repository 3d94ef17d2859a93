// libFuzzer target: a sealed transport's inbound check under attack. Each input is a script:
// raw bytes, or one of a handful of datagrams the harness sealed itself, delivered intact,
// with bytes changed, cut short, or lengthened. After every operation:
//   - a datagram passes only if it is one of the harness's own, intact, delivered for the first
//     time, and the plaintext handed on is exactly what was sealed;
//   - every other datagram is refused, and counted under exactly one reason.
// A violated invariant aborts (fuzz_support.hpp).

#include "fuzz_support.hpp"

#include <gossip/transport/in_memory.hpp>
#include <gossip/transport/sealed.hpp>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace {

using gossip::transport::in_memory_address;

using fuzz::check;
using fuzz::keeper;

gossip::transport::keyring keys()
{
    gossip::transport::keyring k;
    for (std::uint8_t id = 1; id <= 2; ++id) {
        gossip::transport::sealing_key key;
        key.id = id;
        key.bytes.fill(static_cast<std::byte>(id * 17));
        k.install(key);
    }
    return k;
}

gossip::transport::sealed_options options()
{
    gossip::transport::sealed_options o;
    o.label = "fuzz";
    o.max_senders = 4;
    return o;
}

constexpr std::size_t originals = 6;

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    const auto in = std::as_bytes(std::span(data, size));
    gossip::transport::sealed<keeper> sender(keeper{}, keys(), options());
    gossip::transport::sealed<keeper> receiver(keeper{}, keys(), options());
    std::array<std::vector<std::byte>, originals> plain;
    std::array<std::vector<std::byte>, originals> sealed;
    for (std::size_t i = 0; i < originals; ++i) {
        plain[i].assign(i * 37, static_cast<std::byte>(i));
        if (i == 3) {
            sender.keys().use(2);
        }
        check(sender.send(in_memory_address{1}, plain[i]), "the harness can seal");
        sealed[i] = sender.inner().last;
    }
    std::array<bool, originals> delivered{};
    std::uint64_t offered = 0;
    std::size_t at = 0;
    const auto byte = [&] { return at < in.size() ? std::to_integer<std::uint8_t>(in[at++]) : std::uint8_t{0}; };
    while (at < in.size()) {
        const std::uint8_t op = byte() % 5;
        std::vector<std::byte> datagram;
        std::size_t original = originals; // none
        switch (op) {
        case 0: { // raw bytes
            const std::size_t n = std::min<std::size_t>(byte(), in.size() - at);
            datagram.assign(in.begin() + static_cast<std::ptrdiff_t>(at),
                            in.begin() + static_cast<std::ptrdiff_t>(at + n));
            at += n;
            break;
        }
        case 1: // an original, intact
            original = byte() % originals;
            datagram = sealed[original];
            break;
        case 2: { // an original with bytes changed
            datagram = sealed[byte() % originals];
            const std::size_t changes = 1 + byte() % 4;
            for (std::size_t k = 0; k < changes; ++k) {
                const std::size_t where = (std::size_t{byte()} << 8U | byte()) % datagram.size();
                const auto flip = static_cast<std::byte>(byte() | 1U); // never a no-op
                datagram[where] ^= flip;
            }
            break;
        }
        case 3: { // an original cut short
            datagram = sealed[byte() % originals];
            datagram.resize((std::size_t{byte()} << 8U | byte()) % datagram.size());
            break;
        }
        default: { // an original with bytes appended
            datagram = sealed[byte() % originals];
            const std::size_t extra = 1 + byte() % 16;
            for (std::size_t k = 0; k < extra; ++k) {
                datagram.push_back(static_cast<std::byte>(byte()));
            }
            break;
        }
        }
        // Changes may cancel out, and bytes appended to a cut datagram may restore it.
        for (std::size_t k = 0; k < originals && original == originals; ++k) {
            if (datagram == sealed[k]) {
                original = k;
            }
        }
        ++offered;
        std::vector<std::byte> handed;
        bool called = false;
        const bool passed = receiver.inbound(in_memory_address{0}, datagram, [&](std::span<const std::byte> p) {
            called = true;
            handed.assign(p.begin(), p.end());
        });
        check(passed == called, "the node hears of a datagram exactly when it passes");
        if (passed) {
            check(original < originals, "only the harness's own intact datagrams pass");
            check(!delivered[original], "each passes once");
            check(handed == plain[original], "the plaintext handed on is what was sealed");
            delivered[original] = true;
        } else {
            check(original >= originals || delivered[original], "an intact first delivery passes");
        }
        const auto& s = receiver.statistics();
        check(s.opened + s.refused() == offered, "every datagram passes or is refused, once");
    }
    return 0;
}
