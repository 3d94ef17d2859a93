#pragma once

// An IPv4 or IPv6 endpoint, as a small value type: comparable, hashable, printable, parsed from
// "host:port" with a reason when it is not one, and encoded on the wire in at most 19 bytes.

#include "../wire/codec.hpp"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <bit>
#include <charconv>
#include <compare>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>

namespace gossip::transport {

/// Thrown by udp_address::parse and by the UDP transport on an address it cannot use.
class address_error : public std::invalid_argument {
public:
    using std::invalid_argument::invalid_argument;
};

/// An IP address and a UDP port. The IPv6 scope (interface) is kept for link-local addresses on
/// this host, but it is meaningless elsewhere and does not travel on the wire.
class udp_address {
public:
    enum class family : std::uint8_t { v4 = 4, v6 = 6 };

    /// 0.0.0.0:0.
    constexpr udp_address() noexcept = default;

    [[nodiscard]] static constexpr udp_address v4(std::array<std::uint8_t, 4> ip, std::uint16_t port) noexcept
    {
        udp_address a;
        a.family_ = family::v4;
        std::copy(ip.begin(), ip.end(), a.bytes_.begin());
        a.port_ = port;
        return a;
    }
    [[nodiscard]] static constexpr udp_address v6(const std::array<std::uint8_t, 16>& ip, std::uint16_t port,
                                                  std::uint32_t scope = 0) noexcept
    {
        udp_address a;
        a.family_ = family::v6;
        a.bytes_ = ip;
        a.port_ = port;
        a.scope_ = scope;
        return a;
    }
    /// 127.0.0.1:port
    [[nodiscard]] static constexpr udp_address loopback_v4(std::uint16_t port) noexcept
    {
        return v4({127, 0, 0, 1}, port);
    }
    /// [::1]:port
    [[nodiscard]] static constexpr udp_address loopback_v6(std::uint16_t port) noexcept
    {
        std::array<std::uint8_t, 16> ip{};
        ip[15] = 1;
        return v6(ip, port);
    }

    /// Parses a numeric "a.b.c.d:port" or "[v6]:port" (with an optional "%scope" inside the
    /// brackets). Names are not looked up here: that may block on DNS; see resolve().
    [[nodiscard]] static std::optional<udp_address> try_parse(std::string_view text, std::string* error = nullptr)
    {
        const auto fail = [&](std::string why) -> std::optional<udp_address> {
            if (error != nullptr) {
                *error = "invalid address '" + std::string(text) + "': " + std::move(why);
            }
            return std::nullopt;
        };
        std::string_view host;
        std::string_view port_text;
        if (!text.empty() && text.front() == '[') {
            const auto close = text.find(']');
            if (close == std::string_view::npos) {
                return fail("an IPv6 address needs a closing ']'");
            }
            host = text.substr(1, close - 1);
            if (close + 1 >= text.size() || text[close + 1] != ':') {
                return fail("expected ':port' after ']'");
            }
            port_text = text.substr(close + 2);
        } else {
            const auto colon = text.rfind(':');
            if (colon == std::string_view::npos) {
                return fail("expected host:port");
            }
            host = text.substr(0, colon);
            port_text = text.substr(colon + 1);
            if (host.find(':') != std::string_view::npos) {
                return fail("write an IPv6 address in brackets, as [::1]:7000");
            }
        }
        if (host.empty()) {
            return fail("the host is empty");
        }
        const auto port = parse_port(port_text);
        if (!port) {
            return fail("the port must be a number from 0 to 65535");
        }
        const std::string host_string(host);
        if (text.front() == '[') {
            std::string ip = host_string;
            std::uint32_t scope = 0;
            if (const auto percent = ip.find('%'); percent != std::string::npos) {
                const std::string name = ip.substr(percent + 1);
                ip.resize(percent);
                scope = parse_scope(name);
                if (scope == 0) {
                    return fail("unknown IPv6 scope '" + name + "'");
                }
            }
            std::array<std::uint8_t, 16> bytes{};
            if (::inet_pton(AF_INET6, ip.c_str(), bytes.data()) != 1) {
                return fail("'" + ip + "' is not an IPv6 address");
            }
            return v6(bytes, *port, scope);
        }
        std::array<std::uint8_t, 4> bytes{};
        if (::inet_pton(AF_INET, host_string.c_str(), bytes.data()) != 1) {
            return fail("'" + host_string + "' is not an IPv4 address (names are looked up by resolve())");
        }
        return v4(bytes, *port);
    }

    /// As try_parse, but throws address_error with the reason.
    [[nodiscard]] static udp_address parse(std::string_view text)
    {
        std::string error;
        if (auto a = try_parse(text, &error)) {
            return *a;
        }
        throw address_error(error);
    }

    /// Parses "host:port" where host may also be a name ("localhost", "node-3.example"), looked
    /// up with getaddrinfo: it may block. The first address found is taken.
    [[nodiscard]] static udp_address resolve(std::string_view text)
    {
        std::string error;
        if (auto a = try_parse(text, &error)) {
            return *a;
        }
        const auto colon = text.rfind(':');
        if (colon == std::string_view::npos || colon == 0) {
            throw address_error(error);
        }
        const std::string host(text.substr(0, colon));
        const std::string port(text.substr(colon + 1));
        // getaddrinfo would take "70000" for port 4464, and "" or " 80" too: the port follows
        // parse()'s rule, whose refusal `error` already gives.
        if (!parse_port(port)) {
            throw address_error(error);
        }
        addrinfo hints{};
        hints.ai_family = AF_UNSPEC;
        hints.ai_socktype = SOCK_DGRAM;
        hints.ai_flags = AI_NUMERICSERV;
        addrinfo* found = nullptr;
        if (const int rc = ::getaddrinfo(host.c_str(), port.c_str(), &hints, &found); rc != 0) {
            throw address_error("cannot resolve '" + std::string(text) + "': " + ::gai_strerror(rc));
        }
        std::optional<udp_address> result;
        for (const addrinfo* i = found; i != nullptr && !result; i = i->ai_next) {
            result = from_sockaddr(i->ai_addr, i->ai_addrlen);
        }
        ::freeaddrinfo(found);
        if (!result) {
            throw address_error("cannot resolve '" + std::string(text) + "': no IPv4 or IPv6 address");
        }
        return *result;
    }

    /// From a socket address the kernel filled in; nothing for a family other than IPv4/IPv6.
    [[nodiscard]] static std::optional<udp_address> from_sockaddr(const sockaddr* sa, socklen_t length) noexcept
    {
        if (sa == nullptr) {
            return std::nullopt;
        }
        if (sa->sa_family == AF_INET && length >= static_cast<socklen_t>(sizeof(sockaddr_in))) {
            sockaddr_in in{};
            std::memcpy(&in, sa, sizeof in);
            std::array<std::uint8_t, 4> ip{};
            std::memcpy(ip.data(), &in.sin_addr, 4);
            return v4(ip, ntohs(in.sin_port));
        }
        if (sa->sa_family == AF_INET6 && length >= static_cast<socklen_t>(sizeof(sockaddr_in6))) {
            sockaddr_in6 in{};
            std::memcpy(&in, sa, sizeof in);
            std::array<std::uint8_t, 16> ip{};
            std::memcpy(ip.data(), &in.sin6_addr, 16);
            return v6(ip, ntohs(in.sin6_port), in.sin6_scope_id);
        }
        return std::nullopt;
    }

    /// Fills a sockaddr for the system calls; returns its length.
    socklen_t to_sockaddr(sockaddr_storage& out) const noexcept
    {
        out = sockaddr_storage{};
        if (family_ == family::v4) {
            sockaddr_in in{};
            in.sin_family = AF_INET;
            in.sin_port = htons(port_);
            std::memcpy(&in.sin_addr, bytes_.data(), 4);
            std::memcpy(&out, &in, sizeof in);
            return sizeof in;
        }
        sockaddr_in6 in{};
        in.sin6_family = AF_INET6;
        in.sin6_port = htons(port_);
        in.sin6_scope_id = scope_;
        std::memcpy(&in.sin6_addr, bytes_.data(), 16);
        std::memcpy(&out, &in, sizeof in);
        return sizeof in;
    }

    [[nodiscard]] constexpr family ip_family() const noexcept { return family_; }
    [[nodiscard]] constexpr bool is_v4() const noexcept { return family_ == family::v4; }
    [[nodiscard]] constexpr bool is_v6() const noexcept { return family_ == family::v6; }
    [[nodiscard]] constexpr std::uint16_t port() const noexcept { return port_; }
    [[nodiscard]] constexpr std::uint32_t scope() const noexcept { return scope_; }
    /// The address bytes in network order: the first 4 for IPv4, all 16 for IPv6.
    [[nodiscard]] constexpr const std::array<std::uint8_t, 16>& bytes() const noexcept { return bytes_; }

    /// The same host at another port.
    [[nodiscard]] constexpr udp_address with_port(std::uint16_t port) const noexcept
    {
        udp_address a = *this;
        a.port_ = port;
        return a;
    }

    /// "127.0.0.1:7000" or "[::1]:7000": what parse() reads back.
    [[nodiscard]] std::string to_string() const
    {
        std::array<char, INET6_ADDRSTRLEN> text{};
        const bool v4 = family_ == family::v4;
        ::inet_ntop(v4 ? AF_INET : AF_INET6, bytes_.data(), text.data(), text.size());
        // Appended piece by piece into one reserved string: g++ 12 at -O3 reports -Wrestrict on
        // the temporaries of `std::string + std::string` (a false positive, GCC bug 105329).
        std::array<char, 24> numbers{};
        std::string out;
        out.reserve(text.size() + 2 * numbers.size());
        if (!v4) {
            out.push_back('[');
        }
        out.append(text.data());
        if (!v4 && scope_ != 0) {
            out.push_back('%');
            const auto scoped = std::to_chars(numbers.data(), numbers.data() + numbers.size(), scope_);
            out.append(numbers.data(), scoped.ptr);
        }
        if (!v4) {
            out.push_back(']');
        }
        out.push_back(':');
        const auto ported = std::to_chars(numbers.data(), numbers.data() + numbers.size(), port_);
        out.append(numbers.data(), ported.ptr);
        return out;
    }

    /// Written out, as is the order below, because the defaulted ones compare the bytes with a
    /// call to memcmp, which took most of a membership table's sort and searches. Forced inline:
    /// GCC 12 otherwise calls them out of line from the loops that search a view or a table,
    /// where each is a handful of instructions. The bytes go first, as two words: they are where
    /// two addresses of one cluster usually differ.
    [[gnu::always_inline]] friend constexpr bool operator==(const udp_address& a, const udp_address& b) noexcept
    {
        const auto x = native_words(a.bytes_);
        const auto y = native_words(b.bytes_);
        return ((x[0] ^ y[0]) | (x[1] ^ y[1])) == 0 && a.port_ == b.port_ && a.family_ == b.family_ &&
               a.scope_ == b.scope_;
    }

    /// The order of the members: family, then the bytes (lexicographically: two words, first
    /// byte most significant), the port and the scope.
    [[gnu::always_inline]] friend constexpr std::strong_ordering operator<=>(const udp_address& a,
                                                                             const udp_address& b) noexcept
    {
        if (a.family_ != b.family_) {
            return a.family_ <=> b.family_;
        }
        if (const auto x = word(a.bytes_, 0), y = word(b.bytes_, 0); x != y) {
            return x <=> y;
        }
        if (const auto x = word(a.bytes_, 8), y = word(b.bytes_, 8); x != y) {
            return x <=> y;
        }
        if (a.port_ != b.port_) {
            return a.port_ <=> b.port_;
        }
        return a.scope_ <=> b.scope_;
    }

    /// A quick 64-bit mix of the address, for the library's short-lived tables over addresses
    /// (the index of a view merge, the check of a received sample), which take the top bits
    /// after a multiply of their own. One multiply, where std::hash's FNV-1a chains one per byte.
    /// The bytes and the port only: equal addresses still hash alike, and (on a little-endian
    /// machine) an IPv4 address and port land in disjoint bits before the multiply, so that no two
    /// of them collide. Found by
    /// argument-dependent lookup (see detail::address_hash). It is not std::hash, whose values
    /// stay as they were, as node_driver derives seeds from those. Not a defence against chosen
    /// collisions: those tables are bounded by a view and a datagram.
    [[nodiscard]] [[gnu::always_inline]] friend constexpr std::uint64_t index_hash(const udp_address& a) noexcept
    {
        const auto x = native_words(a.bytes_);
        const std::uint64_t h = (x[0] ^ std::uint64_t{a.port_} << 32U ^ std::rotl(x[1], 16)) * 0xbf58476d1ce4e5b9ULL;
        return h ^ (h >> 32U);
    }

private:
    // The codec reads straight into the members. Building a temporary and copying it made the
    // processor wait for its own narrow stores (a failed store-to-load forwarding) on every
    // address of every datagram.
    friend struct wire::codec<udp_address>;

    // The 16 bytes as two numbers in the machine's order: two loads, for equality only.
    [[gnu::always_inline]] static constexpr std::array<std::uint64_t, 2>
    native_words(const std::array<std::uint8_t, 16>& b) noexcept
    {
        return std::bit_cast<std::array<std::uint64_t, 2>>(b);
    }

    // Bytes at..at+7 as one number, the first the most significant: compilers make it one load
    // and a byte swap.
    [[gnu::always_inline]] static constexpr std::uint64_t word(const std::array<std::uint8_t, 16>& b,
                                                               std::size_t at) noexcept
    {
        return std::uint64_t{b[at]} << 56U | std::uint64_t{b[at + 1]} << 48U | std::uint64_t{b[at + 2]} << 40U |
               std::uint64_t{b[at + 3]} << 32U | std::uint64_t{b[at + 4]} << 24U | std::uint64_t{b[at + 5]} << 16U |
               std::uint64_t{b[at + 6]} << 8U | std::uint64_t{b[at + 7]};
    }

    // Decimal digits only, at most 65535.
    static std::optional<std::uint16_t> parse_port(std::string_view text) noexcept
    {
        unsigned value = 0;
        const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
        if (text.empty() || ec != std::errc{} || end != text.data() + text.size() || value > 65535) {
            return std::nullopt;
        }
        return static_cast<std::uint16_t>(value);
    }

    static std::uint32_t parse_scope(const std::string& name) noexcept
    {
        unsigned value = 0;
        const auto [end, ec] = std::from_chars(name.data(), name.data() + name.size(), value);
        if (!name.empty() && ec == std::errc{} && end == name.data() + name.size()) {
            return value;
        }
        return 0;
    }

    // The bytes first, at offset 0: the comparisons and index_hash load them as two 8-byte
    // words, and at offset 0 both words lie within the first 16 bytes of a copied address or
    // table row, which the processor then forwards from its pending stores. (At offset 1, after
    // the family, the second word straddled two stores of every copy and waited for them to be
    // written out.) The order of comparison is operator<=>'s, not this one.
    std::array<std::uint8_t, 16> bytes_{};
    std::uint16_t port_ = 0;
    family family_ = family::v4;
    std::uint32_t scope_ = 0;
};

} // namespace gossip::transport

template <>
struct std::hash<gossip::transport::udp_address> {
    /// FNV-1a over the family, the address bytes (4 or 16) and the port, low byte first. These
    /// values are kept as they are (node_driver seeds from them); the library's own tables use
    /// index_hash instead. Written out per family so that each is one unrolled chain.
    std::size_t operator()(const gossip::transport::udp_address& a) const noexcept
    {
        constexpr std::uint64_t prime = 0x100000001b3ULL;
        std::uint64_t h = 0xcbf29ce484222325ULL;
        h = (h ^ static_cast<std::uint8_t>(a.ip_family())) * prime;
        const auto& b = a.bytes();
        if (a.is_v4()) {
            for (std::size_t i = 0; i < 4; ++i) {
                h = (h ^ b[i]) * prime;
            }
        } else {
            for (std::size_t i = 0; i < 16; ++i) {
                h = (h ^ b[i]) * prime;
            }
        }
        h = (h ^ (a.port() & 0xFFU)) * prime;
        h = (h ^ (a.port() >> 8U)) * prime;
        return static_cast<std::size_t>(h);
    }
};

namespace gossip::wire {

/// u8 family (4 or 6) | 4 or 16 address bytes in network order | u16 port. The scope stays home.
template <>
struct codec<transport::udp_address> {
    static constexpr std::size_t max_size = 1 + 16 + 2;
    /// Forced inline, as read: a membership section writes one address per entry.
    [[gnu::always_inline]] static void write(writer& w, const transport::udp_address& a) noexcept
    {
        // With room for the whole address, its bytes go in with fixed-size copies (a call to
        // memcpy for 4 or 16 bytes cost as much as the rest of an entry).
        const auto out = w.unused();
        if (a.is_v4() && out.size() >= 7) {
            out[0] = std::byte{4};
            std::memcpy(out.data() + 1, a.bytes_.data(), 4);
            put_port(out.data() + 5, a.port_);
            w.advance(7);
            return;
        }
        if (a.is_v6() && out.size() >= 19) {
            out[0] = std::byte{6};
            std::memcpy(out.data() + 1, a.bytes_.data(), 16);
            put_port(out.data() + 17, a.port_);
            w.advance(19);
            return;
        }
        // Too little room: field by field, which fails the writer as it always did.
        w.u8(static_cast<std::uint8_t>(a.ip_family()));
        const auto ip = std::as_bytes(std::span(a.bytes()));
        w.bytes(a.is_v4() ? ip.first(4) : ip);
        w.u16(a.port());
    }
    /// Forced inline: a view sample and a membership section read one address per entry, and
    /// inlined, the reader's position stays in a register.
    [[gnu::always_inline]] static bool read(reader& r, transport::udp_address& a) noexcept
    {
        // The common case in one bounds check: a whole IPv4 address (7 bytes) or IPv6 one (19).
        if (const std::size_t n = read_in_place(r.rest(), a); n != 0) {
            r.skip(n);
            return true;
        }
        // Anything else fails, as field-by-field reading fails it: a bad family leaves the reader
        // ok (the address is bad), a short one fails the reader (truncated).
        const auto family = r.u8();
        if (!r.ok() || (family != 4 && family != 6)) {
            return false;
        }
        (void)r.bytes(family == 4 ? 4 : 16);
        (void)r.u16();
        return false;
    }

    /// read() from raw bytes: 7 (IPv4) or 19 (IPv6), or 0 where read() fails.
    [[nodiscard]] [[gnu::always_inline]] static std::size_t read_in_place(std::span<const std::byte> in,
                                                                          transport::udp_address& a) noexcept
    {
        if (in.empty()) {
            return 0;
        }
        const auto family = static_cast<std::uint8_t>(in[0]);
        if (family == 4 && in.size() >= 7) {
            set(a, transport::udp_address::family::v4, v4_word(in.data() + 1), 0, in.data() + 5);
            return 7;
        }
        if (family == 6 && in.size() >= 19) {
            set(a, transport::udp_address::family::v6, load_word(in.data() + 1), load_word(in.data() + 9),
                in.data() + 17);
            return 19;
        }
        return 0;
    }

private:
    // The 16 address bytes go in as two 8-byte stores, which later 8-byte loads of them (the
    // comparisons, index_hash) take straight from the store buffer. Narrower or wider stores
    // than those loads make the processor wait until the stores are written out.
    static void set(transport::udp_address& a, transport::udp_address::family f, std::uint64_t first,
                    std::uint64_t second, const std::byte* port) noexcept
    {
        a.family_ = f;
        std::memcpy(a.bytes_.data(), &first, 8);
        std::memcpy(a.bytes_.data() + 8, &second, 8);
        a.port_ = static_cast<std::uint16_t>(static_cast<unsigned>(static_cast<std::uint8_t>(port[0])) |
                                             static_cast<unsigned>(static_cast<std::uint8_t>(port[1])) << 8U);
        a.scope_ = 0;
    }

    static void put_port(std::byte* p, std::uint16_t port) noexcept
    {
        p[0] = static_cast<std::byte>(port & 0xFFU);
        p[1] = static_cast<std::byte>(port >> 8U);
    }

    static std::uint64_t load_word(const std::byte* p) noexcept
    {
        std::uint64_t w = 0;
        std::memcpy(&w, p, 8);
        return w;
    }

    // 4 bytes and then 4 zero bytes, as memory, in the machine's order.
    static std::uint64_t v4_word(const std::byte* p) noexcept
    {
        if constexpr (std::endian::native == std::endian::little) {
            std::uint32_t w = 0;
            std::memcpy(&w, p, 4);
            return w;
        } else {
            std::array<std::byte, 8> b{};
            std::memcpy(b.data(), p, 4);
            return std::bit_cast<std::uint64_t>(b);
        }
    }
};

} // namespace gossip::wire
