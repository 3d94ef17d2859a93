#include <gossip/random.hpp>
#include <gossip/transport/udp_address.hpp>

#include <doctest/doctest.h>

#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <algorithm>
#include <array>
#include <compare>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <tuple>
#include <unordered_set>
#include <vector>

using gossip::transport::address_error;
using gossip::transport::udp_address;

namespace {

// The reason try_parse gives for `text`; fails the test when it parses.
std::string refusal(const std::string& text)
{
    std::string error;
    const auto parsed = udp_address::try_parse(text, &error);
    CHECK_MESSAGE(!parsed.has_value(), "'", text, "' was accepted as ", parsed ? parsed->to_string() : "");
    return error;
}

std::array<std::uint8_t, 16> v6_bytes(const char* text)
{
    std::array<std::uint8_t, 16> out{};
    REQUIRE(::inet_pton(AF_INET6, text, out.data()) == 1);
    return out;
}

std::vector<std::byte> encoded(const udp_address& a)
{
    std::vector<std::byte> buffer(gossip::wire::codec<udp_address>::max_size);
    gossip::wire::writer w{std::span(buffer)};
    gossip::wire::codec<udp_address>::write(w, a);
    REQUIRE(w.ok());
    buffer.resize(w.size());
    return buffer;
}

std::optional<udp_address> decoded(std::span<const std::byte> bytes)
{
    gossip::wire::reader r(bytes);
    udp_address a;
    if (!gossip::wire::codec<udp_address>::read(r, a)) {
        return std::nullopt;
    }
    return a;
}

// Random addresses of both families, from a small pool of hosts, ports and scopes so that
// equal ones and near neighbours turn up often.
udp_address random_address(gossip::pcg32& rng)
{
    const auto port = static_cast<std::uint16_t>(7000 + rng() % 4);
    if (rng() % 2 == 0) {
        return udp_address::v4({static_cast<std::uint8_t>(rng() % 3), 0, 0, static_cast<std::uint8_t>(rng() % 4)},
                               port);
    }
    std::array<std::uint8_t, 16> ip{};
    ip[0] = static_cast<std::uint8_t>(rng() % 3);
    ip[7] = static_cast<std::uint8_t>(rng() % 2);
    ip[8] = static_cast<std::uint8_t>(rng() % 2);
    ip[15] = static_cast<std::uint8_t>(rng() % 4);
    return udp_address::v6(ip, port, rng() % 2);
}

// The members in the order of comparison: family, the bytes in order, the port, the scope.
auto fields(const udp_address& a)
{
    return std::tuple(static_cast<int>(a.ip_family()), a.bytes(), a.port(), a.scope());
}

// FNV-1a, byte by byte, over the family, the address bytes (4 or 16) and the port, low byte
// first: what std::hash<udp_address> has always returned.
std::uint64_t fnv1a(const udp_address& a)
{
    std::vector<std::uint8_t> in{static_cast<std::uint8_t>(a.ip_family())};
    in.insert(in.end(), a.bytes().begin(), a.bytes().begin() + (a.is_v4() ? 4 : 16));
    in.push_back(static_cast<std::uint8_t>(a.port() & 0xFFU));
    in.push_back(static_cast<std::uint8_t>(a.port() >> 8U));
    std::uint64_t h = 0xcbf29ce484222325ULL;
    for (const auto b : in) {
        h = (h ^ b) * 0x100000001b3ULL;
    }
    return h;
}

// The codec's write as it was, one field at a time: the reference for the fast one.
void write_fields(gossip::wire::writer& w, const udp_address& a)
{
    w.u8(static_cast<std::uint8_t>(a.ip_family()));
    const auto ip = std::as_bytes(std::span(a.bytes()));
    w.bytes(a.is_v4() ? ip.first(4) : ip);
    w.u16(a.port());
}

} // namespace

// --- parsing ---------------------------------------------------------------------------------

TEST_CASE("udp_address: parse reads a numeric IPv4 address and port")
{
    const auto a = udp_address::parse("192.168.1.20:7000");
    CHECK(a.is_v4());
    CHECK(a == udp_address::v4({192, 168, 1, 20}, 7000));
    CHECK(a.port() == 7000);
    CHECK(a.scope() == 0);
}

TEST_CASE("udp_address: parse reads a bracketed IPv6 address and port")
{
    const auto a = udp_address::parse("[2001:db8::7]:443");
    CHECK(a.is_v6());
    CHECK(a == udp_address::v6(v6_bytes("2001:db8::7"), 443));
    CHECK(udp_address::parse("[::1]:7000") == udp_address::loopback_v6(7000));
}

TEST_CASE("udp_address: parse reads an IPv6 scope given as an interface index")
{
    const auto a = udp_address::parse("[fe80::1%3]:7000");
    CHECK(a.is_v6());
    CHECK(a.scope() == 3);
    CHECK(a.port() == 7000);
    CHECK(a.bytes() == v6_bytes("fe80::1"));
}

TEST_CASE("udp_address: parse accepts the ends of the port range")
{
    CHECK(udp_address::parse("127.0.0.1:0").port() == 0);
    CHECK(udp_address::parse("127.0.0.1:65535").port() == 65535);
    CHECK(udp_address::parse("[::1]:65535").port() == 65535);
}

TEST_CASE("udp_address: to_string writes what parse reads back")
{
    CHECK(udp_address::v4({127, 0, 0, 1}, 7000).to_string() == "127.0.0.1:7000");
    CHECK(udp_address::loopback_v6(7000).to_string() == "[::1]:7000");
    CHECK(udp_address::v6(v6_bytes("fe80::1"), 9, 4).to_string() == "[fe80::1%4]:9");
    CHECK(udp_address{}.to_string() == "0.0.0.0:0");
}

TEST_CASE("udp_address: to_string then parse gives back the same address")
{
    const std::vector<udp_address> addresses{
        udp_address{},
        udp_address::v4({10, 0, 0, 1}, 1),
        udp_address::v4({255, 255, 255, 255}, 65535),
        udp_address::loopback_v4(0),
        udp_address::loopback_v6(7000),
        udp_address::v6(v6_bytes("2001:db8:0:1:2:3:4:5"), 12345),
        udp_address::v6(v6_bytes("::ffff:192.0.2.1"), 80),
        udp_address::v6(v6_bytes("fe80::abcd"), 5000, 2),
        udp_address::v6(std::array<std::uint8_t, 16>{}, 0),
    };
    for (const auto& a : addresses) {
        CAPTURE(a.to_string());
        CHECK(udp_address::parse(a.to_string()) == a);
    }
}

// --- refusing, with the reason --------------------------------------------------------------

TEST_CASE("udp_address: an address without a port is refused as missing host:port")
{
    CHECK(refusal("127.0.0.1").find("expected host:port") != std::string::npos);
    CHECK(refusal("").find("expected host:port") != std::string::npos);
}

TEST_CASE("udp_address: an empty port is refused as not a number")
{
    CHECK(refusal("127.0.0.1:").find("the port must be a number from 0 to 65535") != std::string::npos);
    CHECK(refusal("[::1]:").find("the port must be a number from 0 to 65535") != std::string::npos);
}

TEST_CASE("udp_address: a port above 65535 is refused")
{
    for (const std::string text :
         {"127.0.0.1:65536", "127.0.0.1:70000", "[::1]:99999", "127.0.0.1:99999999999999999999999"}) {
        CAPTURE(text);
        CHECK(refusal(text).find("the port must be a number from 0 to 65535") != std::string::npos);
    }
}

TEST_CASE("udp_address: a port that is not a plain decimal number is refused")
{
    for (const std::string text : {"127.0.0.1:http", "127.0.0.1:-1", "127.0.0.1:+80", "127.0.0.1: 80", "127.0.0.1:80 ",
                                   "127.0.0.1:0x50", "127.0.0.1:8o", "[::1]:7000x"}) {
        CAPTURE(text);
        CHECK(refusal(text).find("the port must be a number from 0 to 65535") != std::string::npos);
    }
}

TEST_CASE("udp_address: an IPv6 address without brackets is refused with the bracketed form suggested")
{
    for (const std::string text : {"::1:7000", "2001:db8::7:443", "fe80::1%2:7000"}) {
        CAPTURE(text);
        CHECK(refusal(text).find("write an IPv6 address in brackets, as [::1]:7000") != std::string::npos);
    }
}

TEST_CASE("udp_address: an opening bracket without a closing one is refused")
{
    CHECK(refusal("[::1:7000").find("needs a closing ']'") != std::string::npos);
    CHECK(refusal("[").find("needs a closing ']'") != std::string::npos);
}

TEST_CASE("udp_address: a bracketed address not followed by ':port' is refused")
{
    CHECK(refusal("[::1]7000").find("expected ':port' after ']'") != std::string::npos);
    CHECK(refusal("[::1]").find("expected ':port' after ']'") != std::string::npos);
}

TEST_CASE("udp_address: an empty host is refused")
{
    CHECK(refusal(":7000").find("the host is empty") != std::string::npos);
    CHECK(refusal("[]:7000").find("the host is empty") != std::string::npos);
}

TEST_CASE("udp_address: a host that is not a numeric address of its family is refused and named")
{
    CHECK(refusal("256.1.1.1:80").find("'256.1.1.1' is not an IPv4 address") != std::string::npos);
    CHECK(refusal("1.2.3:80").find("'1.2.3' is not an IPv4 address") != std::string::npos);
    CHECK(refusal("[::g]:80").find("'::g' is not an IPv6 address") != std::string::npos);
    CHECK(refusal("[127.0.0.1]:80").find("'127.0.0.1' is not an IPv6 address") != std::string::npos);
}

TEST_CASE("udp_address: an IPv6 scope that is not an interface index is refused and named")
{
    CHECK(refusal("[fe80::1%no-such-interface]:7000").find("unknown IPv6 scope 'no-such-interface'") !=
          std::string::npos);
    CHECK(refusal("[fe80::1%]:7000").find("unknown IPv6 scope ''") != std::string::npos);
}

TEST_CASE("udp_address: every refusal quotes the text it refused")
{
    CHECK(refusal("1.2.3.4:99999").rfind("invalid address '1.2.3.4:99999': ", 0) == 0);
}

TEST_CASE("udp_address: try_parse without an error string only says no")
{
    CHECK_FALSE(udp_address::try_parse("127.0.0.1").has_value());
    CHECK(udp_address::try_parse("127.0.0.1:1") == udp_address::loopback_v4(1));
}

TEST_CASE("udp_address: parse throws address_error with the reason try_parse gives")
{
    CHECK_THROWS_WITH_AS((void)udp_address::parse("127.0.0.1:65536"),
                         "invalid address '127.0.0.1:65536': the port must be a number from 0 to 65535", address_error);
    // An address_error is an invalid_argument, for callers that catch the standard one.
    CHECK_THROWS_AS((void)udp_address::parse("nonsense"), std::invalid_argument);
}

// --- names -----------------------------------------------------------------------------------

TEST_CASE("udp_address: parse refuses a host name and points to resolve")
{
    const auto why = refusal("localhost:7000");
    CHECK(why.find("'localhost' is not an IPv4 address") != std::string::npos);
    CHECK(why.find("resolve()") != std::string::npos);
    CHECK_THROWS_AS((void)udp_address::parse("localhost:7000"), address_error);
}

TEST_CASE("udp_address: resolve looks up a host name")
{
    const auto a = udp_address::resolve("localhost:7000");
    CHECK((a == udp_address::loopback_v4(7000) || a == udp_address::loopback_v6(7000)));
}

TEST_CASE("udp_address: resolve takes numeric addresses as parse does, without a lookup")
{
    CHECK(udp_address::resolve("10.1.2.3:9") == udp_address::v4({10, 1, 2, 3}, 9));
    CHECK(udp_address::resolve("[::1]:9") == udp_address::loopback_v6(9));
}

TEST_CASE("udp_address: resolve refuses a host name with a bad port as parse would")
{
    for (const std::string text :
         {"localhost:65536", "localhost:70000", "localhost:", "localhost: 80", "localhost:http", "localhost:-1"}) {
        CAPTURE(text);
        CHECK_THROWS_WITH_AS((void)udp_address::resolve(text),
                             doctest::Contains("the port must be a number from 0 to 65535"), address_error);
    }
}

TEST_CASE("udp_address: resolve refuses a name without a port or without a host")
{
    CHECK_THROWS_WITH_AS((void)udp_address::resolve("localhost"), doctest::Contains("expected host:port"),
                         address_error);
    CHECK_THROWS_WITH_AS((void)udp_address::resolve(":7000"), doctest::Contains("the host is empty"), address_error);
}

// --- a value type ----------------------------------------------------------------------------

TEST_CASE("udp_address: the default address is 0.0.0.0:0")
{
    const udp_address a;
    CHECK(a.is_v4());
    CHECK(a.port() == 0);
    CHECK(a == udp_address::v4({0, 0, 0, 0}, 0));
}

TEST_CASE("udp_address: equal addresses need the same family, bytes, port and scope")
{
    const auto ip = v6_bytes("fe80::1");
    CHECK(udp_address::v4({1, 2, 3, 4}, 5) == udp_address::v4({1, 2, 3, 4}, 5));
    CHECK(udp_address::v4({1, 2, 3, 4}, 5) != udp_address::v4({1, 2, 3, 4}, 6));
    CHECK(udp_address::v4({1, 2, 3, 4}, 5) != udp_address::v4({1, 2, 3, 5}, 5));
    CHECK(udp_address::v6(ip, 5, 1) != udp_address::v6(ip, 5, 2));
    // 0.0.0.0 and :: have the same (zero) bytes: the family tells them apart.
    CHECK(udp_address::v4({0, 0, 0, 0}, 5) != udp_address::v6(std::array<std::uint8_t, 16>{}, 5));
}

TEST_CASE("udp_address: IPv4 addresses sort before IPv6, each family by its bytes, then by port")
{
    const auto v4_low = udp_address::v4({1, 0, 0, 0}, 9000);
    const auto v4_low_later_port = udp_address::v4({1, 0, 0, 0}, 9001);
    const auto v4_high = udp_address::v4({2, 0, 0, 0}, 1);
    const auto v6_low = udp_address::v6(v6_bytes("::1"), 1);
    const auto v6_high = udp_address::v6(v6_bytes("2001:db8::1"), 1);
    CHECK(v4_low < v4_low_later_port);
    CHECK(v4_low_later_port < v4_high);
    CHECK(v4_high < v6_low);
    CHECK(v6_low < v6_high);
    const std::set<udp_address> sorted{v6_high, v4_high, v6_low, v4_low_later_port, v4_low};
    CHECK(std::vector<udp_address>(sorted.begin(), sorted.end()) ==
          std::vector<udp_address>{v4_low, v4_low_later_port, v4_high, v6_low, v6_high});
}

TEST_CASE("udp_address: equal addresses hash alike, and the hash tells common neighbours apart")
{
    const std::hash<udp_address> hash;
    CHECK(hash(udp_address::parse("10.0.0.1:7000")) == hash(udp_address::v4({10, 0, 0, 1}, 7000)));
    // The scope is not hashed, so addresses that differ only there collide, which is allowed.
    const auto ip = v6_bytes("fe80::1");
    CHECK(hash(udp_address::v6(ip, 1, 1)) == hash(udp_address::v6(ip, 1, 2)));
    std::unordered_set<std::size_t> hashes;
    std::unordered_set<udp_address> set;
    for (std::uint16_t port = 7000; port < 7100; ++port) {
        for (std::uint8_t host = 1; host <= 10; ++host) {
            hashes.insert(hash(udp_address::v4({10, 0, 0, host}, port)));
            set.insert(udp_address::v4({10, 0, 0, host}, port));
        }
    }
    CHECK(hashes.size() == 1000);
    CHECK(set.size() == 1000);
    CHECK(set.count(udp_address::v4({10, 0, 0, 3}, 7050)) == 1);
}

TEST_CASE("udp_address: comparisons follow family, bytes, port and scope, whatever the layout")
{
    gossip::pcg32 rng(11);
    std::vector<udp_address> pool;
    for (int i = 0; i < 400; ++i) {
        pool.push_back(random_address(rng));
    }
    for (const auto& a : pool) {
        for (const auto& b : pool) {
            REQUIRE((a == b) == (fields(a) == fields(b)));
            REQUIRE((a <=> b) == (fields(a) <=> fields(b)));
        }
    }
}

TEST_CASE("udp_address: std::hash is still FNV-1a over family, bytes and port (node_driver seeds from it)")
{
    const std::hash<udp_address> hash;
    CHECK(hash(udp_address::v4({127, 0, 0, 1}, 7000)) == 0x1a0885a02c301c1aULL);
    gossip::pcg32 rng(12);
    for (int i = 0; i < 2000; ++i) {
        const auto a = random_address(rng);
        CAPTURE(a.to_string());
        REQUIRE(hash(a) == fnv1a(a));
    }
}

TEST_CASE("udp_address: index_hash is equal for equal addresses and spreads a cluster's evenly")
{
    // Equal addresses, however made, hash alike.
    CHECK(index_hash(udp_address::parse("10.0.0.1:7000")) == index_hash(udp_address::v4({10, 0, 0, 1}, 7000)));
    gossip::pcg32 rng(13);
    for (int i = 0; i < 2000; ++i) {
        const auto a = random_address(rng);
        const auto b = random_address(rng);
        if (a == b) {
            REQUIRE(index_hash(a) == index_hash(b));
        }
    }
    // Clusters as deployed: one host and many ports, many hosts and one port, and IPv6. No two
    // share a hash, and the tables' bucket (the top bits after a Fibonacci multiply, as
    // detail::append_fresh_indexed and presence_filter take them) is about uniform.
    std::vector<std::vector<udp_address>> clusters(4);
    for (std::uint16_t port = 7000; port < 9000; ++port) {
        clusters[0].push_back(udp_address::v4({127, 0, 0, 1}, port));
        clusters[1].push_back(udp_address::v4({127, 0, 0, 1}, static_cast<std::uint16_t>(2 * port)));
    }
    for (unsigned host = 0; host < 2048; ++host) {
        clusters[2].push_back(
            udp_address::v4({10, 0, static_cast<std::uint8_t>(host >> 8U), static_cast<std::uint8_t>(host)}, 7000));
        auto ip = v6_bytes("fd00::");
        ip[14] = static_cast<std::uint8_t>(host >> 8U);
        ip[15] = static_cast<std::uint8_t>(host);
        clusters[3].push_back(udp_address::v6(ip, 7000));
    }
    for (const auto& cluster : clusters) {
        std::unordered_set<std::uint64_t> hashes;
        for (const auto& a : cluster) {
            hashes.insert(index_hash(a));
        }
        CHECK(hashes.size() == cluster.size());
        for (const unsigned bits : {6U, 7U, 8U}) {
            std::vector<double> count(std::size_t{1} << bits);
            for (const auto& a : cluster) {
                count[(index_hash(a) * 0x9e3779b97f4a7c15ULL) >> (64U - bits)] += 1;
            }
            // Pearson's statistic over its degrees of freedom: about 1 when uniform.
            const double expected = static_cast<double>(cluster.size()) / static_cast<double>(count.size());
            double chi = 0;
            for (const double c : count) {
                chi += (c - expected) * (c - expected) / expected;
            }
            CAPTURE(bits);
            CHECK(chi / static_cast<double>(count.size() - 1) < 1.6);
        }
    }
}

TEST_CASE("udp_address: std::unordered containers hold a large cluster with short buckets")
{
    std::unordered_set<udp_address> set;
    for (unsigned host = 0; host < 250; ++host) {
        for (std::uint16_t port = 7000; port < 7100; ++port) {
            set.insert(udp_address::v4({10, 0, 0, static_cast<std::uint8_t>(host)}, port));
        }
    }
    CHECK(set.size() == 25000);
    std::size_t longest = 0;
    for (std::size_t b = 0; b < set.bucket_count(); ++b) {
        longest = std::max(longest, set.bucket_size(b));
    }
    CHECK(longest <= 10);
    CHECK(set.count(udp_address::v4({10, 0, 0, 17}, 7042)) == 1);
    CHECK(set.count(udp_address::v4({10, 0, 0, 17}, 7100)) == 0);
}

TEST_CASE("udp_address: with_port keeps the host and changes the port")
{
    const auto a = udp_address::v6(v6_bytes("fe80::1"), 1, 7).with_port(2);
    CHECK(a == udp_address::v6(v6_bytes("fe80::1"), 2, 7));
}

// --- the system's socket addresses -------------------------------------------------------------

TEST_CASE("udp_address: to_sockaddr and from_sockaddr agree for both families")
{
    for (const auto& a : {udp_address::v4({192, 0, 2, 1}, 7000), udp_address::v6(v6_bytes("fe80::1"), 7001, 5)}) {
        CAPTURE(a.to_string());
        sockaddr_storage sa{};
        const socklen_t length = a.to_sockaddr(sa);
        CHECK(length == (a.is_v4() ? sizeof(sockaddr_in) : sizeof(sockaddr_in6)));
        CHECK(udp_address::from_sockaddr(reinterpret_cast<const sockaddr*>(&sa), length) == a);
    }
}

TEST_CASE("udp_address: from_sockaddr refuses other families, short lengths and null")
{
    sockaddr_un unix_socket{};
    unix_socket.sun_family = AF_UNIX;
    CHECK_FALSE(udp_address::from_sockaddr(reinterpret_cast<const sockaddr*>(&unix_socket), sizeof unix_socket));
    sockaddr_storage sa{};
    const socklen_t length = udp_address::loopback_v4(1).to_sockaddr(sa);
    CHECK_FALSE(udp_address::from_sockaddr(reinterpret_cast<const sockaddr*>(&sa), length - 1));
    CHECK_FALSE(udp_address::from_sockaddr(nullptr, 0));
}

// --- the wire ---------------------------------------------------------------------------------

TEST_CASE("udp_address: an IPv4 address travels in 7 bytes and comes back equal")
{
    const auto a = udp_address::v4({192, 0, 2, 33}, 0xABCD);
    const auto bytes = encoded(a);
    CHECK(bytes == std::vector<std::byte>{std::byte{4}, std::byte{192}, std::byte{0}, std::byte{2}, std::byte{33},
                                          std::byte{0xCD}, std::byte{0xAB}});
    CHECK(decoded(bytes) == a);
}

TEST_CASE("udp_address: an IPv6 address travels in 19 bytes and comes back equal")
{
    const auto a = udp_address::v6(v6_bytes("2001:db8::1234"), 7000);
    const auto bytes = encoded(a);
    CHECK(bytes.size() == 19);
    CHECK(bytes.size() == gossip::wire::codec<udp_address>::max_size);
    CHECK(bytes[0] == std::byte{6});
    CHECK(decoded(bytes) == a);
}

TEST_CASE("udp_address: the IPv6 scope stays home")
{
    const auto a = udp_address::v6(v6_bytes("fe80::1"), 7000, 3);
    const auto back = decoded(encoded(a));
    REQUIRE(back.has_value());
    CHECK(back->scope() == 0);
    CHECK(*back == udp_address::v6(v6_bytes("fe80::1"), 7000));
}

TEST_CASE("udp_address: the codec refuses a family byte other than 4 or 6")
{
    auto v4 = encoded(udp_address::loopback_v4(1));
    auto v6 = encoded(udp_address::loopback_v6(1));
    for (unsigned family = 0; family < 256; ++family) {
        if (family == 4 || family == 6) {
            continue;
        }
        CAPTURE(family);
        v4[0] = std::byte{static_cast<unsigned char>(family)};
        v6[0] = std::byte{static_cast<unsigned char>(family)};
        CHECK_FALSE(decoded(v4).has_value());
        CHECK_FALSE(decoded(v6).has_value());
    }
}

TEST_CASE("udp_address: the codec refuses every truncation of an encoded address")
{
    for (const auto& a : {udp_address::v4({192, 0, 2, 1}, 7000), udp_address::v6(v6_bytes("2001:db8::1"), 7000)}) {
        const auto bytes = encoded(a);
        for (std::size_t n = 0; n < bytes.size(); ++n) {
            CAPTURE(a.to_string());
            CAPTURE(n);
            CHECK_FALSE(decoded(std::span(bytes).first(n)).has_value());
        }
    }
}

TEST_CASE("udp_address: an IPv4 family byte followed by IPv6 length reads 7 bytes and leaves the rest")
{
    // The codec reads what its family byte announces; the message decoder then finds the rest
    // does not parse, so a family byte flipped from 6 to 4 cannot smuggle bytes through.
    auto bytes = encoded(udp_address::loopback_v6(7000));
    bytes[0] = std::byte{4};
    gossip::wire::reader r(bytes);
    udp_address a;
    REQUIRE(gossip::wire::codec<udp_address>::read(r, a));
    CHECK(a.is_v4());
    CHECK(r.remaining() == bytes.size() - 7);
}

TEST_CASE("udp_address: the codec writes what field-by-field writing wrote, in buffers of every size")
{
    gossip::pcg32 rng(14);
    for (int i = 0; i < 200; ++i) {
        const auto a = random_address(rng);
        for (std::size_t room = 0; room <= 24; ++room) {
            CAPTURE(a.to_string());
            CAPTURE(room);
            // Two bytes already written, so that the address lands at an offset.
            std::vector<std::byte> fast(room + 2, std::byte{0xEE});
            std::vector<std::byte> slow(room + 2, std::byte{0xEE});
            gossip::wire::writer wf{std::span(fast)};
            gossip::wire::writer ws{std::span(slow)};
            wf.u16(0x1234);
            ws.u16(0x1234);
            gossip::wire::codec<udp_address>::write(wf, a);
            write_fields(ws, a);
            REQUIRE(wf.ok() == ws.ok());
            if (ws.ok()) {
                REQUIRE(wf.size() == ws.size());
                REQUIRE(fast == slow);
            }
        }
    }
}

TEST_CASE("udp_address: the codec reads every prefix and corruption as field-by-field reading did")
{
    gossip::pcg32 rng(15);
    for (int i = 0; i < 200; ++i) {
        const auto a = random_address(rng);
        auto bytes = encoded(a);
        bytes.push_back(std::byte{0x5A}); // a byte after it, left for the next field
        for (std::size_t n = 0; n <= bytes.size(); ++n) {
            for (const int family : {-1, 0, 4, 6}) {
                auto input = std::vector<std::byte>(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(n));
                if (family >= 0 && n > 0) {
                    input[0] = std::byte{static_cast<unsigned char>(family)};
                }
                CAPTURE(a.to_string());
                CAPTURE(n);
                CAPTURE(family);
                // What field-by-field reading made of it.
                const auto f = input.empty() ? 0U : static_cast<unsigned>(input[0]);
                const std::size_t length = f == 4 ? 7 : 19;
                const bool valid = (f == 4 || f == 6) && input.size() >= length;
                // Target filled with something else first: the read must set every member.
                udp_address out = udp_address::v6(v6_bytes("2001:db8::ffff"), 1, 9);
                gossip::wire::reader r(input);
                const bool ok = gossip::wire::codec<udp_address>::read(r, out);
                REQUIRE(ok == valid);
                if (valid) {
                    REQUIRE(r.ok());
                    REQUIRE(r.offset() == length);
                    REQUIRE(out.scope() == 0);
                    REQUIRE(out.is_v4() == (f == 4));
                    std::array<std::uint8_t, 16> ip{};
                    for (std::size_t k = 0; k < length - 3; ++k) {
                        ip[k] = static_cast<std::uint8_t>(input[1 + k]);
                    }
                    REQUIRE(out.bytes() == ip);
                    REQUIRE(out.port() == (static_cast<unsigned>(input[length - 2]) |
                                           static_cast<unsigned>(input[length - 1]) << 8U));
                } else {
                    // A bad family byte is a bad address (the reader stays ok); a short one
                    // is a truncation (the reader fails).
                    REQUIRE(r.ok() == (!input.empty() && f != 4 && f != 6));
                    REQUIRE(out == udp_address::v6(v6_bytes("2001:db8::ffff"), 1, 9));
                }
            }
        }
    }
}
