// wire/varint.hpp: LEB128, zigzag, and the varint that carries a flag in its first byte.

#include <gossip/wire/varint.hpp>

#include <doctest/doctest.h>

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <limits>
#include <vector>

namespace {

using bytes = std::vector<std::byte>;

bytes of(std::initializer_list<unsigned> values)
{
    bytes out;
    for (const auto v : values) {
        out.push_back(static_cast<std::byte>(v));
    }
    return out;
}

bytes varint(std::uint64_t v)
{
    bytes out(gossip::wire::max_varint_bytes);
    gossip::wire::writer w{std::span(out)};
    gossip::wire::write_varint(w, v);
    REQUIRE(w.ok());
    out.resize(w.size());
    return out;
}

bytes flagged(std::uint64_t v, bool flag)
{
    bytes out(gossip::wire::max_varint_bytes);
    gossip::wire::writer w{std::span(out)};
    gossip::wire::write_varint_flagged(w, v, flag);
    REQUIRE(w.ok());
    out.resize(w.size());
    return out;
}

constexpr auto max = std::numeric_limits<std::uint64_t>::max();

} // namespace

TEST_CASE("varint: values encode as LEB128, seven bits a byte, low groups first")
{
    CHECK(varint(0) == of({0x00}));
    CHECK(varint(1) == of({0x01}));
    CHECK(varint(127) == of({0x7F}));
    CHECK(varint(128) == of({0x80, 0x01}));
    CHECK(varint(300) == of({0xAC, 0x02}));
    CHECK(varint(624'485) == of({0xE5, 0x8E, 0x26}));
    CHECK(varint(max) == of({0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01}));
}

TEST_CASE("varint: every encoding reads back to its value, and consumes exactly its bytes")
{
    for (const std::uint64_t v : {std::uint64_t{0}, std::uint64_t{63}, std::uint64_t{64}, std::uint64_t{1} << 35U,
                                  (std::uint64_t{1} << 63U) - 1, std::uint64_t{1} << 63U, max}) {
        CAPTURE(v);
        auto encoded = varint(v);
        encoded.push_back(std::byte{0x5A}); // whatever follows stays unread
        gossip::wire::reader r{std::span(encoded)};
        CHECK(gossip::wire::read_varint(r) == v);
        CHECK(r.ok());
        CHECK(r.remaining() == 1);
    }
}

TEST_CASE("varint: a longer encoding than needed reads as its value")
{
    const auto padded = of({0x81, 0x80, 0x00});
    gossip::wire::reader r{std::span(padded)};
    CHECK(gossip::wire::read_varint(r) == 1);
    CHECK(r.ok());
}

TEST_CASE("varint: a cut, overlong or overflowing varint fails the reader")
{
    for (const auto& bad :
         {of({}), of({0x80}), of({0xFF, 0xFF}), of({0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x02}),
          of({0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00})}) {
        CAPTURE(bad.size());
        gossip::wire::reader r{std::span(bad)};
        CHECK(gossip::wire::read_varint(r) == 0);
        CHECK_FALSE(r.ok());
    }
}

TEST_CASE("zigzag: small differences of either sign become small values, and any two values round-trip")
{
    CHECK(gossip::wire::zigzag(0) == 0);
    CHECK(gossip::wire::zigzag(max) == 1); // -1
    CHECK(gossip::wire::zigzag(1) == 2);
    CHECK(gossip::wire::zigzag(max - 1) == 3); // -2
    CHECK(gossip::wire::zigzag((std::uint64_t{1} << 63U) - 1) == max - 1);
    CHECK(gossip::wire::zigzag(std::uint64_t{1} << 63U) == max); // the most negative
    for (const std::uint64_t a : {std::uint64_t{0}, std::uint64_t{5}, max - 1, std::uint64_t{1} << 40U}) {
        for (const std::uint64_t b : {std::uint64_t{0}, std::uint64_t{7}, max - 1, std::uint64_t{3} << 50U}) {
            CAPTURE(a);
            CAPTURE(b);
            CHECK(a + gossip::wire::unzigzag(gossip::wire::zigzag(b - a)) == b);
        }
    }
}

TEST_CASE("varint_flagged: the flag and six bits share the first byte")
{
    CHECK(flagged(0, false) == of({0x00}));
    CHECK(flagged(0, true) == of({0x01}));
    CHECK(flagged(63, false) == of({0x7E}));
    CHECK(flagged(64, true) == of({0x81, 0x01}));
    CHECK(flagged(max, true).size() == gossip::wire::max_varint_bytes);
    for (const std::uint64_t v :
         {std::uint64_t{0}, std::uint64_t{63}, std::uint64_t{64}, std::uint64_t{1} << 58U, max}) {
        for (const bool f : {false, true}) {
            CAPTURE(v);
            CAPTURE(f);
            const auto encoded = flagged(v, f);
            gossip::wire::reader r{std::span(encoded)};
            bool flag = !f;
            CHECK(gossip::wire::read_varint_flagged(r, flag) == v);
            CHECK(flag == f);
            CHECK(r.ok());
            CHECK(r.remaining() == 0);
        }
    }
}

TEST_CASE("varint_flagged: a value above 64 bits fails the reader")
{
    // Six bits in the first byte, then 59 more: one too many.
    const auto bad = of({0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x04});
    gossip::wire::reader r{std::span(bad)};
    bool flag = true;
    CHECK(gossip::wire::read_varint_flagged(r, flag) == 0);
    CHECK_FALSE(flag);
    CHECK_FALSE(r.ok());
}
