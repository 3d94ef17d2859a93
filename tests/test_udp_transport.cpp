// The UDP transport on real sockets, on the loopback interfaces only (127.0.0.1 and ::1), with
// ports the kernel picks. Every wait is bounded by a deadline, so a lost datagram fails a test
// instead of hanging it.
//
// The second half sends bad input to a whole node (UDP, membership beside an anti-entropy store,
// driven by node_driver) and checks that each datagram is dropped and counted, the view stays
// well formed, the membership table stays bounded, and the node still works afterwards.

#include "support.hpp"

#include <gossip/payload/combined.hpp>
#include <gossip/runtime/node_driver.hpp>
#include <gossip/transport/udp.hpp>

#include <doctest/doctest.h>

#include <poll.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

using gossip::transport::udp;
using gossip::transport::udp_address;
using gossip::transport::udp_options;
using gossip::wire::message_kind;
using namespace std::chrono_literals;

namespace {

using bytes = std::vector<std::byte>;
using steady = std::chrono::steady_clock;

/// How long any test waits for the loopback interface, at most.
constexpr auto patience = 2s;

bytes pattern(std::size_t n, std::uint8_t seed = 1)
{
    bytes out(n);
    for (std::size_t i = 0; i < n; ++i) {
        out[i] = static_cast<std::byte>(seed + i * 7);
    }
    return out;
}

struct datagram {
    udp_address from;
    bytes data;
};

void wait_readable(int fd, int ms)
{
    pollfd p{fd, POLLIN, 0};
    (void)::poll(&p, 1, ms);
}

/// Reads from `socket` until it has read `count` datagrams (delivered or dropped) or the
/// deadline passes; returns the delivered ones.
std::vector<datagram> read_datagrams(udp& socket, std::uint64_t count)
{
    std::vector<datagram> got;
    const std::uint64_t target = socket.statistics().datagrams_received + count;
    const auto deadline = steady::now() + patience;
    while (socket.statistics().datagrams_received < target && steady::now() < deadline) {
        const auto read = socket.receive([&](const udp_address& from, std::span<const std::byte> data) {
            got.push_back(datagram{from, bytes(data.begin(), data.end())});
        });
        if (read == 0) {
            wait_readable(socket.fd(), 10);
        }
    }
    return got;
}

std::optional<udp> bind_v6(const udp_options& options = {})
{
    try {
        return udp(udp_address::loopback_v6(0), options);
    } catch (const std::system_error&) {
        return std::nullopt;
    }
}

} // namespace

// --- the socket ------------------------------------------------------------------------------

TEST_CASE("udp: a socket bound to port 0 reports the port the kernel picked")
{
    const udp socket(udp_address::loopback_v4(0));
    CHECK(socket.local_address().is_v4());
    CHECK(socket.local_address().with_port(0) == udp_address::loopback_v4(0));
    CHECK(socket.local_address().port() != 0);
    CHECK(socket.fd() >= 0);
}

TEST_CASE("udp: a datagram sent over IPv4 loopback arrives whole, from the sender's address")
{
    udp a(udp_address::loopback_v4(0));
    udp b(udp_address::loopback_v4(0));
    const auto message = pattern(300);
    REQUIRE(a.send(b.local_address(), message));
    a.flush();
    const auto got = read_datagrams(b, 1);
    REQUIRE(got.size() == 1);
    CHECK(got[0].from == a.local_address());
    CHECK(got[0].data == message);
    CHECK(a.statistics().datagrams_sent == 1);
    CHECK(a.statistics().bytes_sent == 300);
    CHECK(b.statistics().datagrams_received == 1);
    CHECK(b.statistics().bytes_received == 300);
}

TEST_CASE("udp: an empty datagram is carried too")
{
    udp a(udp_address::loopback_v4(0));
    udp b(udp_address::loopback_v4(0));
    REQUIRE(a.send(b.local_address(), {}));
    a.flush();
    const auto got = read_datagrams(b, 1);
    REQUIRE(got.size() == 1);
    CHECK(got[0].data.empty());
}

TEST_CASE("udp: IPv6 loopback carries datagrams, from the sender's address")
{
    auto a = bind_v6();
    auto b = bind_v6();
    if (!a || !b) {
        MESSAGE("skipped: ::1 cannot be bound here");
        return;
    }
    CHECK(a->local_address().is_v6());
    const auto message = pattern(40, 9);
    REQUIRE(a->send(b->local_address(), message));
    a->flush();
    const auto got = read_datagrams(*b, 1);
    REQUIRE(got.size() == 1);
    CHECK(got[0].from == a->local_address());
    CHECK(got[0].data == message);
}

TEST_CASE("udp: a datagram for the other address family is refused and counted")
{
    udp v4(udp_address::loopback_v4(0));
    CHECK_FALSE(v4.send(udp_address::loopback_v6(7000), pattern(10)));
    CHECK(v4.statistics().refused == 1);
    CHECK(v4.queued() == 0);
    v4.flush();
    CHECK(v4.statistics().datagrams_sent == 0);
    CHECK(v4.statistics().send_calls == 0);

    if (auto v6 = bind_v6()) {
        CHECK_FALSE(v6->send(udp_address::loopback_v4(7000), pattern(10)));
        CHECK(v6->statistics().refused == 1);
        CHECK(v6->queued() == 0);
    } else {
        MESSAGE("IPv6 half skipped: ::1 cannot be bound here");
    }
}

TEST_CASE("udp: a datagram longer than UDP can carry is refused before the kernel")
{
    udp a(udp_address::loopback_v4(0));
    CHECK_FALSE(a.send(udp_address::loopback_v4(7000), bytes(65508)));
    CHECK(a.statistics().refused == 1);
    CHECK(a.queued() == 0);
}

TEST_CASE("udp: sends wait in the queue until flush() hands them to the kernel in one call")
{
    udp a(udp_address::loopback_v4(0));
    udp b(udp_address::loopback_v4(0));
    for (std::uint8_t i = 0; i < 3; ++i) {
        REQUIRE(a.send(b.local_address(), pattern(20, i)));
    }
    CHECK(a.queued() == 3);
    CHECK(a.statistics().datagrams_sent == 0);
    CHECK(b.receive([](const udp_address&, std::span<const std::byte>) {}) == 0);
    a.flush();
    CHECK(a.queued() == 0);
    CHECK(a.statistics().datagrams_sent == 3);
#if defined(__linux__)
    CHECK(a.statistics().send_calls == 1);
#endif
    const auto got = read_datagrams(b, 3);
    REQUIRE(got.size() == 3);
    for (std::uint8_t i = 0; i < 3; ++i) {
        CHECK(got[i].data == pattern(20, i)); // in the order sent
    }
}

TEST_CASE("udp: a full send queue goes to the kernel before another datagram joins it")
{
    udp_options options;
    options.batch = 4;
    udp a(udp_address::loopback_v4(0), options);
    udp b(udp_address::loopback_v4(0));
    for (std::uint8_t i = 0; i < 4; ++i) {
        REQUIRE(a.send(b.local_address(), pattern(8, i)));
    }
    CHECK(a.queued() == 4);
    CHECK(a.statistics().datagrams_sent == 0);
    REQUIRE(a.send(b.local_address(), pattern(8, 4)));
    CHECK(a.queued() == 1);
    CHECK(a.statistics().datagrams_sent == 4);
    a.flush();
    CHECK(a.statistics().datagrams_sent == 5);
    CHECK(read_datagrams(b, 5).size() == 5);
}

TEST_CASE("udp: one receive() reads at most one batch")
{
    udp a(udp_address::loopback_v4(0));
    udp_options options;
    options.batch = 4;
    udp b(udp_address::loopback_v4(0), options);
    for (std::uint8_t i = 0; i < 10; ++i) {
        REQUIRE(a.send(b.local_address(), pattern(8, i)));
    }
    a.flush();
    std::size_t delivered = 0;
    const auto deadline = steady::now() + patience;
    while (delivered < 10 && steady::now() < deadline) {
        wait_readable(b.fd(), 10);
        const auto read = b.receive([&](const udp_address&, std::span<const std::byte>) { ++delivered; });
        CHECK(read <= 4);
    }
    CHECK(delivered == 10);
}

TEST_CASE("udp: receive() with nothing waiting returns 0 at once")
{
    udp a(udp_address::loopback_v4(0));
    const auto start = steady::now();
    CHECK(a.receive([](const udp_address&, std::span<const std::byte>) { FAIL("nothing was sent"); }) == 0);
    CHECK(steady::now() - start < 500ms); // it does not block: a blocking read would never return
    CHECK(a.statistics().receive_errors == 0);
}

TEST_CASE("udp: a datagram longer than max_datagram_bytes is dropped and counted, never delivered cut")
{
    udp a(udp_address::loopback_v4(0));
    udp_options options;
    options.max_datagram_bytes = 100;
    udp b(udp_address::loopback_v4(0), options);
    REQUIRE(a.send(b.local_address(), pattern(101, 1)));
    REQUIRE(a.send(b.local_address(), pattern(100, 2)));
    REQUIRE(a.send(b.local_address(), pattern(5000, 3)));
    REQUIRE(a.send(b.local_address(), pattern(99, 4)));
    a.flush();
    const auto got = read_datagrams(b, 4);
    REQUIRE(got.size() == 2);
    CHECK(got[0].data == pattern(100, 2));
    CHECK(got[1].data == pattern(99, 4));
    CHECK(b.statistics().datagrams_received == 4);
    CHECK(b.statistics().dropped_oversized == 2);
}

TEST_CASE("udp: binding a port in use throws std::system_error naming the address")
{
    const udp first(udp_address::loopback_v4(0));
    const auto taken = first.local_address();
    try {
        const udp second(taken);
        FAIL("a second socket was bound at ", taken.to_string());
    } catch (const std::system_error& e) {
        CHECK(std::string(e.what()).find(taken.to_string()) != std::string::npos);
        CHECK(e.code() == std::errc::address_in_use);
    }
}

TEST_CASE("udp: an address no local interface has cannot be bound, and the error names it")
{
    // 192.0.2.0/24 is reserved for documentation: no interface of a test machine holds it.
    const auto nowhere = udp_address::v4({192, 0, 2, 1}, 0);
    try {
        const udp socket(nowhere);
        MESSAGE("skipped: this host binds addresses it does not have (net.ipv4.ip_nonlocal_bind)");
    } catch (const std::system_error& e) {
        CHECK(std::string(e.what()).find(nowhere.to_string()) != std::string::npos);
        CHECK(e.code() == std::errc::address_not_available);
    }
}

TEST_CASE("udp: options outside their ranges are refused, naming the option")
{
    const auto refused = [](udp_options o, const std::string& name) {
        CAPTURE(name);
        CHECK_THROWS_WITH_AS(udp(udp_address::loopback_v4(0), o), doctest::Contains(name.c_str()),
                             std::invalid_argument);
    };
    udp_options o;
    o.batch = 0;
    refused(o, "batch");
    o.batch = 1025;
    refused(o, "batch");
    o = {};
    o.max_datagram_bytes = 0;
    refused(o, "max_datagram_bytes");
    o.max_datagram_bytes = 65508;
    refused(o, "max_datagram_bytes");
    o = {};
    o.batch = 1024;
    o.max_datagram_bytes = 65507;
    CHECK_NOTHROW(udp(udp_address::loopback_v4(0), o));
}

TEST_CASE("udp: a closed socket refuses sends and reads nothing")
{
    udp a(udp_address::loopback_v4(0));
    REQUIRE(a.send(udp_address::loopback_v4(9), pattern(4)));
    a.close();
    CHECK(a.fd() < 0);
    CHECK(a.queued() == 0);
    CHECK_FALSE(a.send(udp_address::loopback_v4(9), pattern(4)));
    CHECK(a.receive([](const udp_address&, std::span<const std::byte>) {}) == 0);
}

TEST_CASE("udp: a moved transport keeps the socket and the moved-from one owns nothing")
{
    udp a(udp_address::loopback_v4(0));
    const int fd = a.fd();
    const auto at = a.local_address();
    udp b(std::move(a));
    CHECK(b.fd() == fd);
    CHECK(b.local_address() == at);
    CHECK(a.fd() < 0); // NOLINT(bugprone-use-after-move): what a move leaves is the point
}

// --- bad input through a whole node ----------------------------------------------------------

namespace {

namespace ps = gossip::peer_selection;
namespace vs = gossip::view_selection;
namespace pr = gossip::propagation;
using member_table = gossip::payload::membership<udp_address>;
using log_store = gossip::payload::anti_entropy<gossip::payload::lww_map<std::string, std::string>>;
using agent_payload = gossip::payload::combined<member_table, log_store>;
using udp_node = gossip::gossip_node<udp, ps::random, vs::healer, pr::push_pull, agent_payload>;
using udp_descriptor = gossip::descriptor<udp_address>;
using gossip::payload::membership_options;

constexpr std::size_t view_size = 8;
constexpr std::size_t max_members = 64;

gossip::payload::anti_entropy_options store_options()
{
    gossip::payload::anti_entropy_options o;
    o.rumors = true;
    return o;
}

membership_options member_options(std::chrono::milliseconds t_fail = 20s)
{
    membership_options o;
    o.max_members = max_members;
    o.t_fail = t_fail;
    o.t_cleanup = 2 * t_fail;
    return o;
}

udp_node make_node(std::uint64_t seed, const membership_options& members = member_options())
{
    gossip::config cfg;
    cfg.view_size = view_size;
    cfg.period = 20ms;
    return udp_node(udp(udp_address::loopback_v4(0)), cfg, seed, {}, {},
                    agent_payload(member_table(members), log_store(store_options())));
}

gossip::driver_options at_once()
{
    gossip::driver_options o;
    o.random_start = false;
    o.seed = 7;
    return o;
}

/// Addresses of nobody: loopback, so that whatever a node sends them never leaves the machine.
udp_address nobody(std::uint32_t i)
{
    return udp_address::v4({127, 77, static_cast<std::uint8_t>(i >> 8U), static_cast<std::uint8_t>(i)},
                           static_cast<std::uint16_t>(20000 + i % 1000));
}

/// Bytes built field by field.
struct builder {
    bytes out = bytes(65536);
    gossip::wire::writer w{std::span(out)};

    bytes done()
    {
        REQUIRE(w.ok());
        return bytes(w.written().begin(), w.written().end());
    }
};

/// A membership section: count, then (address, generation, heartbeat) per entry, each number a
/// difference from the entry before (docs/wire.md): every member alive at `generation`, heartbeat 1.
bytes membership_section(const std::vector<udp_address>& members, std::uint64_t generation = 1)
{
    builder b;
    b.w.u16(static_cast<std::uint16_t>(members.size()));
    bool first = true;
    for (const auto& a : members) {
        gossip::wire::codec<udp_address>::write(b.w, a);
        gossip::wire::write_varint(b.w, gossip::wire::zigzag(first ? generation : 0));
        gossip::wire::write_varint_flagged(b.w, gossip::wire::zigzag(first ? 1 : 0), false);
        first = false;
    }
    return b.done();
}

/// What a live anti-entropy store with rumors writes into a message of `kind`.
bytes store_section(message_kind kind)
{
    log_store store(store_options());
    store.start(gossip::payload_context<udp_address>{nobody(0), 11});
    store.on_period(0ns);
    store.put(std::string("key"), std::string("value"));
    return test::section(store, kind);
}

/// The combined payload: u16 length of the membership section, it, then the store's.
bytes combined_section(const bytes& members, const bytes& store)
{
    builder b;
    b.w.u16(static_cast<std::uint16_t>(members.size()));
    b.w.bytes(members);
    b.w.bytes(store);
    return b.done();
}

bytes message(message_kind kind, const udp_address& sender, const std::vector<udp_descriptor>* view,
              const bytes& payload)
{
    builder b;
    const auto write_payload = [&](gossip::wire::writer& w) { w.bytes(payload); };
    if (view != nullptr) {
        const std::span<const udp_descriptor> sent(*view);
        REQUIRE(gossip::wire::encode(b.w, kind, sender, &sent, write_payload));
    } else {
        REQUIRE(gossip::wire::encode<udp_address>(b.w, kind, sender, nullptr, write_payload));
    }
    return b.done();
}

/// A well-formed request from `sender` with a view of `view`, announcing `members`.
bytes request(const udp_address& sender, const std::vector<udp_descriptor>& view,
              const std::vector<udp_address>& members = {})
{
    return message(message_kind::request, sender, &view,
                   combined_section(membership_section(members), store_section(message_kind::request)));
}

std::vector<udp_descriptor> some_view()
{
    return {udp_descriptor{nobody(1), 0}, udp_descriptor{nobody(2), 3}, udp_descriptor{nobody(3), 7}};
}

// Offsets in a message from an IPv4 sender: header, then the 7-byte sender, flags, view count.
constexpr std::size_t at_kind = 3;
constexpr std::size_t at_length = 4;
constexpr std::size_t at_view_count = 6 + 7 + 1;

void put_u16(bytes& b, std::size_t at, std::uint16_t v)
{
    b[at] = static_cast<std::byte>(v & 0xFFU);
    b[at + 1] = static_cast<std::byte>(v >> 8U);
}

std::uint16_t get_u16(const bytes& b, std::size_t at)
{
    return static_cast<std::uint16_t>(std::to_integer<unsigned>(b[at]) | std::to_integer<unsigned>(b[at + 1]) << 8U);
}

/// A node under test, a driver for it, and a socket of the test's own to send it anything.
struct target {
    udp_node node;
    gossip::node_driver<udp_node> driver;
    udp attacker{udp_address::loopback_v4(0)};

    explicit target(const membership_options& members = member_options())
        : node(make_node(42, members)), driver(node, at_once())
    {
    }
    target(const target&) = delete;
    target& operator=(const target&) = delete;
    target(target&&) = delete;
    target& operator=(target&&) = delete;
    ~target() = default;

    [[nodiscard]] udp_address address() const { return node.address(); }

    /// Every datagram the node took from its socket ended in exactly one of its three counts.
    [[nodiscard]] bool accounted() const
    {
        const auto& s = node.statistics();
        const auto& t = node.transport().statistics();
        return s.accepted + s.dropped_malformed + s.dropped_unexpected ==
               t.datagrams_received - t.dropped_oversized - t.dropped_bad_source;
    }

    [[nodiscard]] bool well_formed() const { return node.view().well_formed(address(), view_size); }

    /// The table in strict address order, without the node itself, within max_members.
    [[nodiscard]] bool table_sound() const
    {
        const auto members = node.payload().first().members();
        const bool ordered = std::adjacent_find(members.begin(), members.end(), [](const auto& a, const auto& b) {
                                 return !(a.address < b.address);
                             }) == members.end();
        const bool no_self =
            std::none_of(members.begin(), members.end(), [&](const auto& m) { return m.address == address(); });
        return ordered && no_self && members.size() <= max_members;
    }

    [[nodiscard]] std::uint64_t received() const { return node.transport().statistics().datagrams_received; }

    /// Sends every datagram from the attacker's socket, a socket buffer's worth at a time, and
    /// has the node read each one before the next lot.
    void hit(const std::vector<bytes>& datagrams)
    {
        constexpr std::size_t lot = 32;
        for (std::size_t first = 0; first < datagrams.size(); first += lot) {
            const std::size_t n = std::min(lot, datagrams.size() - first);
            for (std::size_t i = first; i < first + n; ++i) {
                REQUIRE(attacker.send(address(), datagrams[i]));
            }
            attacker.flush();
            const std::uint64_t expected = received() + n;
            const auto deadline = steady::now() + patience;
            while (received() < expected && steady::now() < deadline) {
                if (driver.on_readable() == 0) {
                    wait_readable(driver.fd(), 5);
                }
            }
            REQUIRE(received() == expected);
            // The node's answers to what looked valid: read and ignored.
            while (attacker.receive([](const udp_address&, std::span<const std::byte>) {}) != 0) {
            }
        }
    }

    void hit(const bytes& datagram) { hit(std::vector<bytes>{datagram}); }
};

} // namespace

TEST_CASE("udp node: a well-formed request from the test's builder is accepted (the control)")
{
    target t;
    t.hit(request(nobody(9), some_view(), {nobody(9)}));
    CHECK(t.node.statistics().accepted == 1);
    CHECK(t.node.view().contains(nobody(9)));
    CHECK(t.node.payload().first().find(nobody(9)) != nullptr);
    CHECK(t.accounted());
}

TEST_CASE("udp node: every prefix of a valid request is dropped as malformed and changes nothing")
{
    target t;
    const auto whole = request(nobody(9), some_view(), {nobody(9), nobody(10)});
    std::vector<bytes> prefixes;
    for (std::size_t n = 0; n < whole.size(); ++n) {
        prefixes.emplace_back(whole.begin(), whole.begin() + static_cast<std::ptrdiff_t>(n));
    }
    t.hit(prefixes);
    CHECK(t.node.statistics().dropped_malformed == whole.size());
    CHECK(t.node.statistics().accepted == 0);
    CHECK(t.node.view().empty());
    CHECK(t.node.payload().first().members().empty());
    CHECK(t.node.payload().second().statistics().entries_received == 0);
    CHECK(t.accounted());
}

TEST_CASE("udp node: a wrong magic or protocol version is dropped as malformed")
{
    target t;
    const auto good = request(nobody(9), some_view());
    std::vector<bytes> bad;
    for (const std::size_t at : {0, 1}) {
        auto b = good;
        b[at] ^= std::byte{0xFF};
        bad.push_back(b);
    }
    for (const unsigned version : {0U, 2U, 255U}) {
        auto b = good;
        b[2] = std::byte{static_cast<unsigned char>(version)};
        bad.push_back(b);
    }
    t.hit(bad);
    CHECK(t.node.statistics().dropped_malformed == bad.size());
    CHECK(t.node.view().empty());
    CHECK(t.accounted());
}

TEST_CASE("udp node: a message kind the protocol does not have is dropped as malformed")
{
    target t;
    const auto good = request(nobody(9), some_view());
    std::vector<bytes> bad;
    for (const unsigned kind : {0U, 4U, 255U}) {
        auto b = good;
        b[at_kind] = std::byte{static_cast<unsigned char>(kind)};
        bad.push_back(b);
    }
    t.hit(bad);
    CHECK(t.node.statistics().dropped_malformed == bad.size());
    CHECK(t.accounted());
}

TEST_CASE("udp node: a body length that disagrees with the datagram is dropped as malformed")
{
    target t;
    const auto good = request(nobody(9), some_view());
    const auto length = get_u16(good, at_length);
    std::vector<bytes> bad;
    for (const std::uint16_t lie :
         {std::uint16_t(length - 1), std::uint16_t(length + 1), std::uint16_t{0}, std::uint16_t{0xFFFF}}) {
        auto b = good;
        put_u16(b, at_length, lie);
        bad.push_back(b);
    }
    auto longer = good; // the datagram longer than its header says
    longer.push_back(std::byte{0});
    bad.push_back(longer);
    t.hit(bad);
    CHECK(t.node.statistics().dropped_malformed == bad.size());
    CHECK(t.node.view().empty());
    CHECK(t.accounted());
}

TEST_CASE("udp node: a view count that lies or is absurd is dropped as malformed")
{
    target t;
    const auto good = request(nobody(9), some_view());
    REQUIRE(get_u16(good, at_view_count) == 3);
    std::vector<bytes> bad;
    for (const std::uint16_t count :
         {std::uint16_t{4}, std::uint16_t{200}, std::uint16_t{4096}, std::uint16_t{4097}, std::uint16_t{0xFFFF}}) {
        auto b = good;
        put_u16(b, at_view_count, count);
        bad.push_back(b);
    }
    t.hit(bad);
    CHECK(t.node.statistics().dropped_malformed == bad.size());
    CHECK(t.node.view().empty());
    CHECK(t.accounted());
}

TEST_CASE("udp node: payload sections whose lengths or counts lie are dropped as malformed")
{
    target t;
    const auto store = store_section(message_kind::request);
    const auto members = membership_section({nobody(10)});
    // Where the store's section is the broken one, the membership section is empty: combined
    // applies its first section before it reads the second, so a member named there would be
    // learned from a datagram that is then counted as malformed.
    const auto no_members = membership_section({});
    const auto view = some_view();
    const auto send = [&](const bytes& payload) { return message(message_kind::request, nobody(9), &view, payload); };
    std::vector<bytes> bad;
    {
        // The membership section's length runs past the payload.
        auto payload = combined_section(members, store);
        put_u16(payload, 0, 0xFFFF);
        bad.push_back(send(payload));
    }
    {
        // A membership count far above what the section holds.
        auto m = members;
        put_u16(m, 0, 0xFFFF);
        bad.push_back(send(combined_section(m, store)));
    }
    {
        // One entry announced, none there.
        builder b;
        b.w.u16(1);
        bad.push_back(send(combined_section(b.done(), store)));
    }
    {
        // The store's answers count (after its step and flags bytes) far above what follows.
        builder b;
        b.w.u8(1);
        b.w.u8(0);
        b.w.u16(0xFFFF);
        for (int i = 0; i < 5; ++i) {
            b.w.u16(0);
        }
        bad.push_back(message(message_kind::follow_up, nobody(9), nullptr, combined_section(no_members, b.done())));
    }
    {
        // A store entry whose key string claims 65,535 bytes.
        builder b;
        b.w.u8(1);
        b.w.u8(0);
        b.w.u16(0); // answers
        b.w.u16(1); // entries
        b.w.u64(1);
        b.w.u64(1);
        b.w.u8(1);
        b.w.u16(0xFFFF); // the key's length
        b.w.u64(0);
        for (int i = 0; i < 4; ++i) {
            b.w.u16(0);
        }
        bad.push_back(message(message_kind::follow_up, nobody(9), nullptr, combined_section(no_members, b.done())));
    }
    {
        // The payload length says less than the bytes that follow it.
        auto b = send(combined_section(members, store));
        const std::size_t at_payload_length = at_view_count + 2 + 3 * 11;
        put_u16(b, at_payload_length, static_cast<std::uint16_t>(get_u16(b, at_payload_length) - 1));
        bad.push_back(b);
    }
    t.hit(bad);
    CHECK(t.node.statistics().dropped_malformed == bad.size());
    CHECK(t.node.statistics().accepted == 0);
    CHECK(t.node.view().empty());
    CHECK(t.node.payload().first().members().empty());
    CHECK(t.accounted());
}

TEST_CASE("udp node: duplicate and self entries in a view section are merged away")
{
    target t;
    const auto self = t.address();
    const std::vector<udp_descriptor> view{
        udp_descriptor{self, 0},      udp_descriptor{nobody(1), 5}, udp_descriptor{nobody(1), 1},
        udp_descriptor{nobody(2), 2}, udp_descriptor{nobody(1), 9}, udp_descriptor{self, 3},
        udp_descriptor{nobody(9), 4}, udp_descriptor{nobody(2), 0},
    };
    t.hit(request(nobody(9), view));
    CHECK(t.node.statistics().accepted == 1);
    CHECK(t.well_formed());
    CHECK_FALSE(t.node.view().contains(self));
    CHECK(t.node.view().contains(nobody(1)));
    CHECK(t.node.view().contains(nobody(2)));
    CHECK(t.node.view().contains(nobody(9)));
    CHECK(t.node.view().size() == 3);
    CHECK(t.accounted());
}

TEST_CASE("udp node: a message claiming the node's own address as its sender is dropped as unexpected")
{
    target t;
    t.hit(request(t.address(), some_view()));
    CHECK(t.node.statistics().dropped_unexpected == 1);
    CHECK(t.node.statistics().accepted == 0);
    CHECK(t.node.view().empty());
    CHECK(t.accounted());
}

TEST_CASE("udp node: a membership section naming an address twice is dropped whole")
{
    target t;
    t.hit(request(nobody(9), some_view(), {nobody(10), nobody(11), nobody(10)}));
    CHECK(t.node.statistics().dropped_malformed == 1);
    CHECK(t.node.payload().first().members().empty());
    CHECK(t.accounted());
}

TEST_CASE("udp node: a datagram longer than the socket accepts never reaches the node")
{
    target t;
    std::vector<udp_descriptor> view;
    for (std::uint32_t i = 0; i < 200; ++i) { // 200 x 11 bytes: beyond the default 2048
        view.push_back(udp_descriptor{nobody(i + 1), 0});
    }
    t.hit(request(nobody(9), view));
    CHECK(t.node.transport().statistics().dropped_oversized == 1);
    CHECK(t.node.statistics() == gossip::node_statistics{});
    CHECK(t.node.view().empty());
    CHECK(t.accounted());
}

TEST_CASE("udp node: random bytes are dropped and counted, one count per datagram")
{
    target t;
    gossip::pcg32 rng(99);
    std::vector<bytes> junk(2000);
    for (std::size_t i = 0; i < junk.size(); ++i) {
        auto& b = junk[i];
        b.resize(gossip::uniform_below(rng, 400));
        for (auto& x : b) {
            x = static_cast<std::byte>(rng());
        }
        // Half carry a valid header whose length matches, so they get past the first checks.
        if (i % 2 == 0 && b.size() >= 6) {
            b[0] = std::byte{0x47};
            b[1] = std::byte{0x53};
            b[2] = std::byte{gossip::wire::protocol_version};
            b[3] = std::byte{static_cast<unsigned char>(1 + i % 3)};
            put_u16(b, at_length, static_cast<std::uint16_t>(b.size() - 6));
        }
    }
    t.hit(junk);
    const auto& s = t.node.statistics();
    CHECK(s.dropped_malformed + s.dropped_unexpected == junk.size());
    CHECK(s.accepted == 0);
    CHECK(t.well_formed());
    CHECK(t.node.view().empty());
    CHECK(t.accounted());
}

TEST_CASE("udp node: forged members fill the table to max_members and no further")
{
    target t;
    std::vector<bytes> forged;
    for (std::uint32_t sender = 0; sender < 40; ++sender) {
        std::vector<udp_address> members;
        for (std::uint32_t k = 0; k < 20; ++k) {
            members.push_back(nobody(1000 + sender * 20 + k));
        }
        forged.push_back(request(nobody(sender + 1), some_view(), members));
    }
    t.hit(forged);
    CHECK(t.node.statistics().accepted == forged.size());
    CHECK(t.node.payload().first().members().size() == max_members);
    CHECK(t.node.payload().first().statistics().dropped_table_full == 40 * 20 - max_members);
    CHECK(t.table_sound());
    CHECK(t.well_formed());
    CHECK(t.accounted());
}

TEST_CASE("udp node: after a flood of 20,000 junk datagrams the node is intact and still gossips with a real peer")
{
    // Short timeouts, so that the members forged during the flood are forgotten soon after it.
    const auto members = member_options(100ms);
    target t(members);
    gossip::pcg32 rng(2025);
    const auto self = t.address();
    const auto valid = [&](std::uint32_t i) {
        std::vector<udp_descriptor> view{udp_descriptor{nobody(i % 300), i % 5}, udp_descriptor{self, 0},
                                         udp_descriptor{nobody(i % 300), 2}, udp_descriptor{nobody(i % 7), 1}};
        return request(nobody(i % 500), view, {nobody(5000 + i), nobody(i % 500)});
    };
    std::vector<bytes> flood;
    flood.reserve(20'000);
    for (std::uint32_t i = 0; i < 20'000; ++i) {
        bytes b;
        switch (gossip::uniform_below(rng, 8)) {
        case 0: // random bytes
            b.resize(gossip::uniform_below(rng, 300));
            for (auto& x : b) {
                x = static_cast<std::byte>(rng());
            }
            break;
        case 1: { // a truncated valid request
            b = valid(i);
            b.resize(gossip::uniform_below(rng, static_cast<std::uint32_t>(b.size())));
            break;
        }
        case 2: { // a valid request with a few bytes flipped
            b = valid(i);
            for (int k = 0; k < 3; ++k) {
                b[gossip::uniform_below(rng, static_cast<std::uint32_t>(b.size()))] ^=
                    static_cast<std::byte>(1U + gossip::uniform_below(rng, 255));
            }
            break;
        }
        case 3: { // a header field that lies
            b = valid(i);
            put_u16(b, gossip::uniform_below(rng, 2) == 0 ? at_length : at_view_count,
                    static_cast<std::uint16_t>(rng()));
            break;
        }
        case 4: // from ourselves
            b = request(self, some_view());
            break;
        case 5: // a follow-up that claims a view
            b = valid(i);
            b[at_kind] = std::byte{3};
            break;
        default: // valid, from a forged sender with duplicates, self and a fresh member
            b = valid(i);
            break;
        }
        flood.push_back(std::move(b));
    }
    const auto start = steady::now();
    t.hit(flood);
    MESSAGE("20,000 datagrams read and handled in ",
            std::chrono::duration_cast<std::chrono::milliseconds>(steady::now() - start).count(), " ms");
    const auto& s = t.node.statistics();
    CHECK(s.accepted + s.dropped_malformed + s.dropped_unexpected == flood.size());
    CHECK(s.dropped_malformed > 0);
    CHECK(s.dropped_unexpected > 0);
    CHECK(s.accepted > 0);
    CHECK(t.accounted());
    CHECK(t.well_formed());
    CHECK(t.table_sound());
    CHECK(t.node.payload().first().statistics().dropped_table_full > 0);

    // A real peer now joins through the node; both learn each other, in views and tables.
    auto peer = make_node(43, members);
    gossip::node_driver<udp_node> peer_driver(peer, at_once());
    const std::vector<udp_address> contact{t.address()};
    peer.join(contact);
    const auto know_each_other = [&] {
        return t.node.view().contains(peer.address()) && peer.view().contains(t.address()) &&
               t.node.payload().first().status_of(peer.address()) == gossip::payload::member_status::alive &&
               peer.payload().first().status_of(t.address()) == gossip::payload::member_status::alive;
    };
    const auto deadline = steady::now() + patience;
    while (!know_each_other() && steady::now() < deadline) {
        peer_driver.tick_now();
        t.driver.tick_now();
        wait_readable(t.driver.fd(), 5);
        t.driver.on_readable();
        wait_readable(peer_driver.fd(), 5);
        peer_driver.on_readable();
        t.driver.on_readable();
    }
    CHECK(know_each_other());
    CHECK(t.well_formed());
    CHECK(peer.view().well_formed(peer.address(), view_size));
    CHECK(t.table_sound());
    CHECK(t.accounted());
    CHECK(peer.statistics().dropped_malformed == 0);
}
