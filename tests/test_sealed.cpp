// transport::sealed: what a sealed cluster accepts and refuses. Forged, tampered, truncated,
// replayed, foreign-label, unknown-key and stale datagrams never reach a node; keys rotate and
// plaintext clusters upgrade without a member going deaf.

#include "swim_support.hpp"

#include <gossip/transport/sealed.hpp>

#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <span>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

using namespace std::chrono_literals;
using gossip::transport::in_memory;
using gossip::transport::in_memory_address;
using gossip::transport::in_memory_network;
using gossip::transport::keyring;
using gossip::transport::sealed;
using gossip::transport::sealed_options;
using gossip::transport::sealing_key;
using gossip::transport::sealing_stage;
using test::bytes_of;

namespace {

sealing_key key_of(std::uint8_t id, std::uint8_t fill)
{
    sealing_key k;
    k.id = id;
    std::fill(k.bytes.begin(), k.bytes.end(), std::byte{fill});
    return k;
}

keyring ring(std::initializer_list<sealing_key> keys)
{
    keyring r;
    for (const auto& k : keys) {
        r.install(k);
    }
    return r;
}

sealed_options labelled(std::string label, sealing_stage stage = sealing_stage::require_sealed)
{
    sealed_options o;
    o.label = std::move(label);
    o.stage = stage;
    return o;
}

// Two sealed endpoints on an in-memory network, and what reached b's "node".
struct pair : test::decorated_pair<sealed<in_memory>> {
    pair(keyring ka, keyring kb, sealed_options oa = labelled("c1"), sealed_options ob = labelled("c1"))
        : decorated_pair([&](in_memory endpoint, int index) {
              return index == 0 ? sealed<in_memory>(std::move(endpoint), std::move(ka), std::move(oa))
                                : sealed<in_memory>(std::move(endpoint), std::move(kb), std::move(ob));
          })
    {
    }
};

} // namespace

TEST_CASE("sealed: a datagram arrives intact, and the wire never shows it in the clear")
{
    pair p(ring({key_of(1, 7)}), ring({key_of(1, 7)}));
    const auto message = bytes_of("membership news: member 42 is alive at incarnation 3");
    REQUIRE(p.a.send(in_memory_address{1}, message));
    CHECK(p.deliver() == 1);
    REQUIRE(p.at_b.size() == 1);
    CHECK(p.at_b[0] == message);
    REQUIRE(p.wire.size() == 1);
    CHECK(p.wire[0].size() == message.size() + sealed<in_memory>::overhead);
    CHECK(std::search(p.wire[0].begin(), p.wire[0].end(), message.begin(), message.begin() + 10) == p.wire[0].end());
    CHECK(p.b.statistics().opened == 1);
}

TEST_CASE("sealed: every single-bit change anywhere in a datagram is refused")
{
    pair p(ring({key_of(1, 7)}), ring({key_of(1, 7)}));
    REQUIRE(p.a.send(in_memory_address{1}, bytes_of("hello, sealed world")));
    p.net.deliver([&](in_memory_address, in_memory_address, std::span<const std::byte> bytes) {
        p.wire.emplace_back(bytes.begin(), bytes.end());
    });
    const auto original = p.wire.at(0);
    std::size_t refused = 0;
    for (std::size_t i = 0; i < original.size(); ++i) {
        for (int bit = 0; bit < 8; ++bit) {
            auto tampered = original;
            tampered[i] ^= static_cast<std::byte>(1U << bit);
            refused += p.offer(tampered) ? 0 : 1;
        }
    }
    CHECK(refused == original.size() * 8);
    CHECK(p.at_b.empty());
    const auto& s = p.b.statistics();
    CHECK(s.refused() == refused);
    CHECK(s.refused_tag > 0);
    CHECK(s.refused_key > 0); // the key-id byte: refused before any cryptography
    CHECK(p.offer(original)); // the untouched datagram still passes
}

TEST_CASE("sealed: truncated datagrams are refused, whatever their length")
{
    pair p(ring({key_of(1, 7)}), ring({key_of(1, 7)}));
    REQUIRE(p.a.send(in_memory_address{1}, bytes_of("a datagram to cut short")));
    p.net.deliver([&](in_memory_address, in_memory_address, std::span<const std::byte> bytes) {
        p.wire.emplace_back(bytes.begin(), bytes.end());
    });
    const auto& original = p.wire.at(0);
    for (std::size_t n = 0; n < original.size(); ++n) {
        CHECK_FALSE(p.offer(std::span(original).first(n)));
    }
    CHECK(p.at_b.empty());
    CHECK(p.b.statistics().refused() == original.size());
}

TEST_CASE("sealed: a replayed datagram is refused, and so is one far below the window")
{
    pair p(ring({key_of(1, 7)}), ring({key_of(1, 7)}));
    std::vector<std::vector<std::byte>> sent;
    for (int i = 0; i < 100; ++i) {
        REQUIRE(p.a.send(in_memory_address{1}, bytes_of("message " + std::to_string(i))));
    }
    p.net.deliver([&](in_memory_address, in_memory_address, std::span<const std::byte> bytes) {
        sent.emplace_back(bytes.begin(), bytes.end());
    });
    REQUIRE(sent.size() == 100);
    // Out of order within the window is fine: 99, then 50..98.
    CHECK(p.offer(sent[99]));
    for (std::size_t i = 50; i < 99; ++i) {
        CHECK(p.offer(sent[i]));
    }
    CHECK(p.at_b.size() == 50);
    // Each again: refused. Below the window (more than 64 behind the highest): refused.
    CHECK_FALSE(p.offer(sent[99]));
    CHECK_FALSE(p.offer(sent[60]));
    CHECK_FALSE(p.offer(sent[10]));
    CHECK(p.b.statistics().refused_replay == 3);
    CHECK(p.at_b.size() == 50);
}

TEST_CASE("sealed: another cluster's label, or another key, is refused")
{
    SUBCASE("same key, another label")
    {
        pair p(ring({key_of(1, 7)}), ring({key_of(1, 7)}), labelled("prod"), labelled("staging"));
        REQUIRE(p.a.send(in_memory_address{1}, bytes_of("for prod only")));
        CHECK(p.deliver() == 0);
        CHECK(p.b.statistics().refused_tag == 1);
    }
    SUBCASE("same id, another key")
    {
        pair p(ring({key_of(1, 7)}), ring({key_of(1, 8)}));
        REQUIRE(p.a.send(in_memory_address{1}, bytes_of("hello")));
        CHECK(p.deliver() == 0);
        CHECK(p.b.statistics().refused_tag == 1);
    }
    SUBCASE("a key id not installed")
    {
        pair p(ring({key_of(2, 7)}), ring({key_of(1, 7)}));
        REQUIRE(p.a.send(in_memory_address{1}, bytes_of("hello")));
        CHECK(p.deliver() == 0);
        CHECK(p.b.statistics().refused_key == 1);
    }
}

TEST_CASE("sealed: plaintext and forged datagrams never reach the node")
{
    pair p(ring({key_of(1, 7)}), ring({key_of(1, 7)}));
    // A plaintext gossip datagram ("GS" magic), and bytes dressed as a sealed one.
    std::vector<std::byte> plain = {std::byte{0x47}, std::byte{0x53}, std::byte{1}, std::byte{4}};
    CHECK_FALSE(p.offer(plain));
    std::vector<std::byte> forged(80, std::byte{0x11});
    forged[0] = std::byte{0xC5};
    forged[1] = std::byte{1};
    CHECK_FALSE(p.offer(forged));
    CHECK(p.at_b.empty());
    CHECK(p.b.statistics().refused_plain == 1);
    CHECK(p.b.statistics().refused_tag == 1);
}

TEST_CASE("sealed: a datagram stamped outside the clock skew is refused")
{
    in_memory_network net(2);
    sealed<in_memory> a(net.endpoint(in_memory_address{0}), ring({key_of(1, 7)}), labelled("c"));
    sealed_options o = labelled("c");
    o.max_clock_skew = 10s;
    sealed<in_memory> b(net.endpoint(in_memory_address{1}), ring({key_of(1, 7)}), o);
    REQUIRE(a.send(in_memory_address{1}, bytes_of("recorded now")));
    std::vector<std::byte> recorded;
    net.deliver([&](in_memory_address, in_memory_address, std::span<const std::byte> bytes) {
        recorded.assign(bytes.begin(), bytes.end());
    });
    net.advance(30s); // replayed 30 s later, to a receiver that never saw it
    CHECK_FALSE(b.inbound(in_memory_address{0}, recorded, [](std::span<const std::byte>) {}));
    CHECK(b.statistics().refused_clock == 1);
}

TEST_CASE("sealed: senders past max_senders are refused rather than replays let through")
{
    in_memory_network net(5);
    sealed_options o = labelled("c");
    o.max_senders = 2;
    sealed<in_memory> b(net.endpoint(in_memory_address{0}), ring({key_of(1, 7)}), o);
    std::vector<sealed<in_memory>> senders;
    for (std::uint32_t i = 1; i <= 3; ++i) {
        senders.emplace_back(net.endpoint(in_memory_address{i}), ring({key_of(1, 7)}), labelled("c"));
        REQUIRE(senders.back().send(in_memory_address{0}, bytes_of("hi")));
    }
    std::size_t passed = 0;
    net.deliver([&](in_memory_address from, in_memory_address, std::span<const std::byte> bytes) {
        passed += b.inbound(from, bytes, [](std::span<const std::byte>) {}) ? 1 : 0;
    });
    CHECK(passed == 2);
    CHECK(b.statistics().refused_senders == 1);
    CHECK(b.senders_tracked() == 2);
    // Once the first two fall silent for twice the skew, a new sender is heard.
    net.advance(o.max_clock_skew * 2 + 1s);
    REQUIRE(senders[2].send(in_memory_address{0}, bytes_of("again")));
    net.deliver([&](in_memory_address from, in_memory_address, std::span<const std::byte> bytes) {
        passed += b.inbound(from, bytes, [](std::span<const std::byte>) {}) ? 1 : 0;
    });
    CHECK(passed == 3);
}

TEST_CASE("sealed: keys rotate on running members without a datagram lost")
{
    pair p(ring({key_of(1, 7)}), ring({key_of(1, 7)}));
    std::size_t sent = 0;
    const auto exchange = [&] {
        REQUIRE(p.a.send(in_memory_address{1}, bytes_of("tick " + std::to_string(sent++))));
        return p.deliver();
    };
    CHECK(exchange() == 1);
    // 1. Install the new key everywhere; nobody seals with it yet.
    p.b.keys().install(key_of(2, 9));
    CHECK(exchange() == 1);
    p.a.keys().install(key_of(2, 9));
    CHECK(exchange() == 1);
    // 2. Make it primary, member by member: both keys are accepted meanwhile.
    p.a.keys().use(2);
    CHECK(exchange() == 1);
    p.b.keys().use(2);
    CHECK(exchange() == 1);
    // 3. Remove the old one everywhere.
    p.a.keys().remove(1);
    p.b.keys().remove(1);
    CHECK(exchange() == 1);
    CHECK(p.at_b.size() == sent);
    CHECK(p.b.statistics().refused() == 0);
    // The primary key cannot be removed, and only an installed key can become primary.
    CHECK_THROWS_WITH_AS(p.a.keys().remove(2), doctest::Contains("primary"), std::invalid_argument);
    CHECK_THROWS_WITH_AS(p.a.keys().use(5), doctest::Contains("not installed"), std::invalid_argument);
}

TEST_CASE("sealed: a plaintext cluster upgrades to sealed in three stages without a datagram lost")
{
    pair p(ring({key_of(1, 7)}), ring({key_of(1, 7)}), labelled("c", sealing_stage::send_plain),
           labelled("c", sealing_stage::send_plain));
    std::size_t sent = 0;
    const auto exchange = [&] {
        REQUIRE(p.a.send(in_memory_address{1}, bytes_of("tick " + std::to_string(sent++))));
        return p.deliver();
    };
    CHECK(exchange() == 1);
    CHECK(p.b.statistics().plain_accepted == 1);
    p.a.set_stage(sealing_stage::send_sealed); // a seals; b still accepts plaintext and sealed
    CHECK(exchange() == 1);
    p.b.set_stage(sealing_stage::send_sealed);
    CHECK(exchange() == 1);
    p.a.set_stage(sealing_stage::require_sealed);
    p.b.set_stage(sealing_stage::require_sealed);
    CHECK(exchange() == 1);
    CHECK(p.at_b.size() == sent);
    CHECK(p.b.statistics().opened == 3);
    // Now a plaintext datagram is refused.
    CHECK_FALSE(p.offer(std::vector<std::byte>{std::byte{0x47}, std::byte{0x53}}));
}

TEST_CASE("sealed: a sealed transport cannot be copied, and one moved from never reuses a nonce")
{
    static_assert(!std::is_copy_constructible_v<sealed<in_memory>>);
    static_assert(!std::is_copy_assignable_v<sealed<in_memory>>);
    // An inner transport that still sends once moved from (in_memory's endpoints do not).
    struct keeper {
        using address_type = in_memory_address;
        std::vector<std::vector<std::byte>>* out = nullptr;
        [[nodiscard]] address_type local_address() const { return address_type{0}; }
        bool send(const address_type&, std::span<const std::byte> bytes)
        {
            out->emplace_back(bytes.begin() + 2, bytes.begin() + 14); // epoch and counter
            return true;
        }
    };
    std::vector<std::vector<std::byte>> nonces;
    sealed<keeper> first(keeper{&nonces}, ring({key_of(1, 7)}), labelled("c"));
    REQUIRE(first.send(in_memory_address{1}, bytes_of("one")));
    sealed<keeper> second(std::move(first));
    REQUIRE(second.send(in_memory_address{1}, bytes_of("two")));
    // What is moved from has no keys left to seal with; given one again, it starts a new epoch.
    CHECK_FALSE(first.send(in_memory_address{1}, bytes_of("lost"))); // NOLINT(bugprone-use-after-move)
    CHECK(first.statistics().unsealable == 1);
    first.keys().install(key_of(1, 7));
    first.keys().use(1);
    REQUIRE(first.send(in_memory_address{1}, bytes_of("three")));
    REQUIRE(nonces.size() == 3);
    CHECK(nonces[0] != nonces[1]);
    CHECK(nonces[1] != nonces[2]);
    CHECK(nonces[0] != nonces[2]);
    // The moved-to transport went on with the epoch; the moved-from one drew a new one.
    CHECK(std::equal(nonces[0].begin(), nonces[0].begin() + 8, nonces[1].begin()));
    CHECK_FALSE(std::equal(nonces[0].begin(), nonces[0].begin() + 8, nonces[2].begin()));
}

TEST_CASE("sealed: impossible setups are refused with the reason")
{
    in_memory_network net(1);
    CHECK_THROWS_WITH_AS(sealed<in_memory>(net.endpoint(in_memory_address{0}), keyring{}, labelled("c")),
                         doctest::Contains("no key"), std::invalid_argument);
    sealed_options o = labelled("c");
    o.max_clock_skew = 0s;
    CHECK_THROWS_WITH_AS(sealed<in_memory>(net.endpoint(in_memory_address{0}), ring({key_of(1, 1)}), o),
                         doctest::Contains("max_clock_skew"), std::invalid_argument);
    o.max_clock_skew = 25h;
    CHECK_THROWS_WITH_AS(sealed<in_memory>(net.endpoint(in_memory_address{0}), ring({key_of(1, 1)}), o),
                         doctest::Contains("max_clock_skew"), std::invalid_argument);
    sealed<in_memory> plain(net.endpoint(in_memory_address{0}), keyring{}, labelled("c", sealing_stage::send_plain));
    CHECK_THROWS_WITH_AS(plain.set_stage(sealing_stage::send_sealed), doctest::Contains("no primary key"),
                         std::invalid_argument);
}

// --- a sealed SWIM cluster under attack ---------------------------------------------------------

TEST_CASE("sealed: a SWIM cluster ignores a forged leave and forged news from a stranger")
{
    using swim = gossip::payload::swim<in_memory_address>;
    using node = gossip::gossip_node<sealed<in_memory>, gossip::peer_selection::random, gossip::view_selection::frozen,
                                     gossip::propagation::push, swim>;
    constexpr std::uint32_t n = 4;
    in_memory_network net(n + 1); // the last address is the attacker's
    gossip::config cfg;
    cfg.period = 20ms;
    std::vector<node> nodes;
    auto o = test::swim::fast();
    std::vector<gossip::payload::swim_known_member<in_memory_address>> everyone;
    for (std::uint32_t i = 0; i < n; ++i) {
        everyone.push_back({test::swim::id_of(i), in_memory_address{i}});
    }
    for (std::uint32_t i = 0; i < n; ++i) {
        auto oi = o;
        oi.id = test::swim::id_of(i);
        nodes.emplace_back(sealed<in_memory>(net.endpoint(in_memory_address{i}), ring({key_of(1, 3)}), labelled("c")),
                           cfg, 100 + i, gossip::peer_selection::random{}, gossip::view_selection::frozen{}, swim(oi));
        nodes.back().payload().preload(everyone);
    }
    const auto run_for = [&](std::chrono::milliseconds d) {
        const auto end = net.now() + d;
        while (net.now() < end) {
            net.advance(5ms);
            net.deliver([&](in_memory_address from, in_memory_address to, std::span<const std::byte> bytes) {
                if (to.index < n) {
                    nodes[to.index].on_datagram(from, bytes);
                }
            });
            for (auto& x : nodes) {
                x.on_timer();
                x.tick();
            }
        }
    };
    run_for(500ms);
    // The attacker, without the key, claims member 2 left at the top incarnation, in plaintext
    // and dressed as a sealed datagram, to every member.
    gossip::outbox<in_memory_address> forger(in_memory_address{n}, 1400);
    forger.send(in_memory_address{0}, [](gossip::wire::writer& w) {
        w.u8(5); // gossip
        w.u8(4); // left
        w.u64(test::swim::id_of(2));
        gossip::wire::write_varint(w, 0xFFFFFFFFU);
    });
    std::vector<std::byte> forged;
    forger.drain(
        [&](const in_memory_address&, std::span<const std::byte> bytes) { forged.assign(bytes.begin(), bytes.end()); });
    auto dressed = forged;
    dressed.insert(dressed.begin(), std::size_t{34}, std::byte{0});
    dressed[0] = std::byte{0xC5};
    dressed[1] = std::byte{1};
    for (std::uint32_t i = 0; i < n; ++i) {
        nodes[i].on_datagram(in_memory_address{n}, forged);
        nodes[i].on_datagram(in_memory_address{n}, dressed);
    }
    run_for(2s);
    for (std::uint32_t i = 0; i < n; ++i) {
        CHECK(nodes[i].statistics().dropped_by_transport >= 2);
        if (i != 2) {
            const auto m = nodes[i].payload().find(test::swim::id_of(2));
            REQUIRE(m.has_value());
            CHECK(m->state == gossip::payload::swim_state::alive);
        }
        CHECK(nodes[i].payload().alive_count() == n - 1);
    }
}

TEST_CASE("sealed: a stranger's forged store entry rewrites a plain replica but never a sealed one")
{
    using map = gossip::payload::lww_map<std::uint32_t, std::uint32_t>;
    using kv = gossip::payload::anti_entropy<map>;
    using plain_node = gossip::gossip_node<in_memory, gossip::peer_selection::random, gossip::view_selection::blind,
                                           gossip::propagation::push_pull, kv>;
    using sealed_node = gossip::gossip_node<sealed<in_memory>, gossip::peer_selection::random,
                                            gossip::view_selection::blind, gossip::propagation::push_pull, kv>;
    in_memory_network net(3); // 0: a sealed replica, 1: a plain replica, 2: the forger
    gossip::config cfg;
    cfg.view_size = 4;
    cfg.period = 100ms;
    sealed_node guarded(sealed<in_memory>(net.endpoint(in_memory_address{0}), ring({key_of(1, 5)}), labelled("c")), cfg,
                        1);
    plain_node open_replica(net.endpoint(in_memory_address{1}), cfg, 2);
    guarded.payload().put(std::uint32_t{7}, std::uint32_t{1});
    open_replica.payload().put(std::uint32_t{7}, std::uint32_t{1});
    // The forger holds key 7 at the highest clock a replica accepts, under another's origin.
    map forged_store(99);
    CHECK(forged_store.merge(map::entry_type{7, std::uint32_t{666}, gossip::payload::version{map::max_clock, 1}}));
    plain_node forger(net.endpoint(in_memory_address{2}), cfg, 3, {}, {}, kv({}, forged_store));
    const std::vector<in_memory_address> targets{in_memory_address{0}, in_memory_address{1}};
    forger.join(targets);
    for (int round = 0; round < 40; ++round) {
        forger.tick();
        net.advance(cfg.period);
        net.deliver([&](in_memory_address from, in_memory_address to, std::span<const std::byte> bytes) {
            if (to.index == 0) {
                guarded.on_datagram(from, bytes);
            } else if (to.index == 1) {
                open_replica.on_datagram(from, bytes);
            } else {
                forger.on_datagram(from, bytes);
            }
        });
    }
    REQUIRE(open_replica.payload().store().find(7) != nullptr);
    CHECK(*open_replica.payload().store().find(7) == 666); // the attack works on a plain replica
    REQUIRE(guarded.payload().store().find(7) != nullptr);
    CHECK(*guarded.payload().store().find(7) == 1); // and not on a sealed one
    CHECK(guarded.statistics().dropped_by_transport > 0);
    CHECK(guarded.statistics().accepted == 0);
}
