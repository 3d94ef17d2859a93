#include "support.hpp"

#include <doctest/doctest.h>

#include <array>
#include <cstdint>
#include <vector>

using gossip::wire::decode_error;
using gossip::wire::message_kind;
using test::address;
using test::descriptor;

namespace {

std::vector<std::byte> encode_request(const std::vector<descriptor>& view, address sender = address{7},
                                      std::vector<std::byte> payload = {})
{
    std::vector<std::byte> buffer(1400);
    gossip::wire::writer w{std::span(buffer)};
    const std::span<const descriptor> sent(view);
    const bool ok = gossip::wire::encode(w, message_kind::request, sender, &sent,
                                         [&](gossip::wire::writer& out) { out.bytes(payload); });
    REQUIRE(ok);
    buffer.resize(w.size());
    return buffer;
}

gossip::wire::decoded<address> decode(std::span<const std::byte> bytes, std::vector<descriptor>& out,
                                      std::size_t limit = 30)
{
    return gossip::wire::decode<address>(bytes, limit, out);
}

} // namespace

TEST_CASE("a message decodes to exactly what was encoded")
{
    const auto view = test::descriptors({{1, 0}, {2, 5}, {300000, 4000000000U}});
    const std::vector<std::byte> payload{std::byte{1}, std::byte{2}, std::byte{3}};
    const auto bytes = encode_request(view, address{9}, payload);
    std::vector<descriptor> out;
    const auto m = decode(bytes, out);
    REQUIRE(m.error == decode_error::none);
    CHECK(m.kind == message_kind::request);
    CHECK(m.sender == address{9});
    CHECK(m.has_view);
    CHECK(out == view);
    CHECK(std::vector<std::byte>(m.payload.begin(), m.payload.end()) == payload);
}

TEST_CASE("a message without a view says so and carries no descriptors")
{
    std::vector<std::byte> buffer(100);
    gossip::wire::writer w{std::span(buffer)};
    REQUIRE(gossip::wire::encode<address>(w, message_kind::reply, address{3}, nullptr, [](auto&) {}));
    std::vector<descriptor> out{descriptor{address{1}, 1}};
    const auto m = decode(w.written(), out);
    REQUIRE(m.error == decode_error::none);
    CHECK(m.kind == message_kind::reply);
    CHECK_FALSE(m.has_view);
    CHECK(out.empty());
}

TEST_CASE("the header is little-endian with the documented magic and version")
{
    const auto bytes = encode_request(test::descriptors({{1, 2}}));
    CHECK(bytes[0] == std::byte{0x47}); // 'G'
    CHECK(bytes[1] == std::byte{0x53}); // 'S'
    CHECK(bytes[2] == std::byte{gossip::wire::protocol_version});
    CHECK(bytes[3] == std::byte{1}); // request
    const std::size_t body = std::to_integer<std::size_t>(bytes[4]) | std::to_integer<std::size_t>(bytes[5]) << 8U;
    CHECK(body == bytes.size() - 6);
}

TEST_CASE("every truncation of a valid message is refused")
{
    const auto bytes =
        encode_request(test::descriptors({{1, 0}, {2, 1}, {3, 2}}), address{4}, {std::byte{9}, std::byte{9}});
    std::vector<descriptor> out;
    for (std::size_t n = 0; n < bytes.size(); ++n) {
        const auto m = decode(std::span(bytes).first(n), out);
        CHECK(m.error != decode_error::none);
        CHECK(out.empty());
    }
}

TEST_CASE("trailing bytes after a valid message are refused")
{
    auto bytes = encode_request(test::descriptors({{1, 0}}));
    bytes.push_back(std::byte{0});
    std::vector<descriptor> out;
    CHECK(decode(bytes, out).error == decode_error::bad_length);
}

TEST_CASE("a wrong magic, version, kind or flag is refused with its reason")
{
    const auto good = encode_request(test::descriptors({{1, 0}}));
    std::vector<descriptor> out;

    auto bytes = good;
    bytes[0] = std::byte{0x00};
    CHECK(decode(bytes, out).error == decode_error::bad_magic);

    bytes = good;
    bytes[2] = std::byte{99};
    CHECK(decode(bytes, out).error == decode_error::bad_version);

    bytes = good;
    bytes[3] = std::byte{5};
    CHECK(decode(bytes, out).error == decode_error::bad_kind);

    bytes = good;
    bytes[3] = std::byte{0};
    CHECK(decode(bytes, out).error == decode_error::bad_kind);

    bytes = good;
    bytes[10] = std::byte{0x81}; // flags follow the 4-byte sender at offset 6
    CHECK(decode(bytes, out).error == decode_error::bad_flags);
}

TEST_CASE("a body length that lies is refused")
{
    auto bytes = encode_request(test::descriptors({{1, 0}, {2, 0}}));
    std::vector<descriptor> out;
    bytes[4] = std::byte{static_cast<unsigned char>(std::to_integer<unsigned>(bytes[4]) + 1)};
    CHECK(decode(bytes, out).error == decode_error::bad_length);
}

TEST_CASE("a descriptor count above the receiver's limit is refused before anything is read")
{
    std::vector<descriptor> many;
    for (std::uint32_t i = 0; i < 20; ++i) {
        many.push_back(descriptor{address{i}, i});
    }
    const auto bytes = encode_request(many);
    std::vector<descriptor> out;
    CHECK(decode(bytes, out, 19).error == decode_error::too_many_descriptors);
    CHECK(decode(bytes, out, 20).error == decode_error::none);
}

TEST_CASE("a count that promises more descriptors than the datagram holds is refused")
{
    auto bytes = encode_request(test::descriptors({{1, 0}}));
    bytes[11] = std::byte{30}; // the count field, right after the flags
    std::vector<descriptor> out;
    CHECK(decode(bytes, out).error == decode_error::truncated);
    CHECK(out.empty());
}

TEST_CASE("random bytes never crash the decoder, and whatever it accepts re-encodes to the same bytes")
{
    gossip::pcg32 rng(2024);
    std::vector<descriptor> out;
    std::vector<std::byte> junk;
    std::vector<std::byte> again(2048);
    int accepted = 0;
    for (int trial = 0; trial < 200000; ++trial) {
        junk.resize(gossip::uniform_below(rng, 64));
        for (auto& b : junk) {
            b = static_cast<std::byte>(gossip::uniform_below(rng, 4) == 0 ? 0 : rng());
        }
        // Most trials start with a valid header, a length that matches and small counts, so the
        // decoder gets past its first checks and into the sections.
        if (trial % 4 != 0 && junk.size() >= 12) {
            junk[0] = std::byte{0x47};
            junk[1] = std::byte{0x53};
            junk[2] = std::byte{1};
            junk[3] = std::byte{static_cast<unsigned char>(1 + trial % 2)};
            junk[4] = std::byte{static_cast<unsigned char>(junk.size() - 6)};
            junk[5] = std::byte{0};
            junk[10] = std::byte{static_cast<unsigned char>(trial % 3 == 0 ? 1 : 0)};
            junk[12 % junk.size()] = std::byte{static_cast<unsigned char>(gossip::uniform_below(rng, 4))};
        }
        const auto m = decode(junk, out, 16);
        if (m.error != decode_error::none) {
            continue;
        }
        ++accepted;
        gossip::wire::writer w{std::span(again)};
        const std::span<const descriptor> view(out);
        REQUIRE(gossip::wire::encode(w, m.kind, m.sender, m.has_view ? &view : nullptr,
                                     [&](gossip::wire::writer& o) { o.bytes(m.payload); }));
        REQUIRE(std::vector<std::byte>(w.written().begin(), w.written().end()) == junk);
    }
    CHECK(accepted > 100); // the generator does reach well-formed messages
}

TEST_CASE("the writer refuses to write past its buffer and stays failed")
{
    std::array<std::byte, 5> buffer{};
    gossip::wire::writer w{std::span(buffer)};
    w.u32(1);
    CHECK(w.ok());
    w.u16(2);
    CHECK_FALSE(w.ok());
    w.u8(3);
    CHECK_FALSE(w.ok());
    CHECK(w.size() == 4);
}

TEST_CASE("a message that does not fit the budget is not encoded")
{
    std::vector<descriptor> view;
    for (std::uint32_t i = 0; i < 100; ++i) {
        view.push_back(descriptor{address{i}, 0});
    }
    std::vector<std::byte> buffer(200);
    gossip::wire::writer w{std::span(buffer)};
    const std::span<const descriptor> sent(view);
    CHECK_FALSE(gossip::wire::encode(w, message_kind::request, address{1}, &sent, [](auto&) {}));
}

TEST_CASE("descriptors_that_fit matches what encode actually fits")
{
    constexpr std::size_t budget = 200;
    const std::size_t n = gossip::wire::descriptors_that_fit<address>(budget);
    std::vector<descriptor> view;
    for (std::uint32_t i = 0; i < n; ++i) {
        view.push_back(descriptor{address{i}, 0});
    }
    std::vector<std::byte> buffer(budget);
    gossip::wire::writer w{std::span(buffer)};
    const std::span<const descriptor> sent(view);
    CHECK(gossip::wire::encode(w, message_kind::request, address{1}, &sent, [](auto&) {}));
    view.push_back(descriptor{address{999}, 0});
    gossip::wire::writer w2{std::span(buffer)};
    const std::span<const descriptor> more(view);
    CHECK_FALSE(gossip::wire::encode(w2, message_kind::request, address{1}, &more, [](auto&) {}));
}

TEST_CASE("a follow-up carries a payload and no view")
{
    std::vector<std::byte> buffer(100);
    gossip::wire::writer w{std::span(buffer)};
    REQUIRE(gossip::wire::encode<address>(w, message_kind::follow_up, address{3}, nullptr,
                                          [](gossip::wire::writer& out) { out.u8(42); }));
    std::vector<descriptor> out;
    const auto m = decode(w.written(), out);
    REQUIRE(m.error == decode_error::none);
    CHECK(m.kind == message_kind::follow_up);
    CHECK_FALSE(m.has_view);
    CHECK(m.payload.size() == 1);
}

TEST_CASE("a follow-up that claims to carry a view is refused")
{
    auto bytes = encode_request(test::descriptors({{1, 0}}));
    bytes[3] = std::byte{3}; // request -> follow-up, flags still say a view follows
    std::vector<descriptor> out;
    CHECK(decode(bytes, out).error == decode_error::bad_flags);
}

TEST_CASE("a direct message carries a payload and no view")
{
    std::vector<std::byte> buffer(100);
    gossip::wire::writer w{std::span(buffer)};
    REQUIRE(gossip::wire::encode<address>(w, message_kind::direct, address{3}, nullptr,
                                          [](gossip::wire::writer& out) { out.u16(7); }));
    std::vector<descriptor> out;
    const auto m = decode(w.written(), out);
    REQUIRE(m.error == decode_error::none);
    CHECK(m.kind == message_kind::direct);
    CHECK_FALSE(m.has_view);
    CHECK(m.payload.size() == 2);
}

TEST_CASE("a direct message that claims to carry a view is refused")
{
    auto bytes = encode_request(test::descriptors({{1, 0}}));
    bytes[3] = std::byte{4}; // request -> direct, flags still say a view follows
    std::vector<descriptor> out;
    CHECK(decode(bytes, out).error == decode_error::bad_flags);
}

TEST_CASE("the reader's rest() shows what is left, skip() consumes it, and both respect failure")
{
    const std::array<std::byte, 5> bytes{std::byte{1}, std::byte{2}, std::byte{3}, std::byte{4}, std::byte{5}};
    gossip::wire::reader r(bytes);
    CHECK(r.rest().size() == 5);
    CHECK(r.u8() == 1);
    CHECK(r.rest().size() == 4);
    CHECK(r.rest()[0] == std::byte{2});
    r.skip(2);
    CHECK(r.ok());
    CHECK(r.offset() == 3);
    CHECK(r.u8() == 4);
    r.skip(2); // one byte left: skipping two fails the reader, as bytes(2) would
    CHECK_FALSE(r.ok());
    CHECK(r.rest().empty());
    CHECK(r.remaining() == 0);
    CHECK(r.u8() == 0);
    gossip::wire::reader exact(bytes);
    exact.skip(5);
    CHECK(exact.ok());
    CHECK(exact.rest().empty());
    exact.skip(0);
    CHECK(exact.ok());
}

TEST_CASE("a reader failed by fail() or by a short read reads nothing more, whatever is left")
{
    const std::array<std::byte, 8> bytes{};
    gossip::wire::reader told(bytes);
    CHECK(told.u16() == 0);
    told.fail();
    CHECK_FALSE(told.ok());
    CHECK(told.remaining() == 0);
    CHECK(told.rest().empty());
    CHECK(told.offset() == 2);
    CHECK(told.u8() == 0);
    CHECK(told.bytes(0).empty());
    CHECK_FALSE(told.ok());
    CHECK(told.offset() == 2);
    gossip::wire::reader short_read(bytes);
    CHECK(short_read.u32() == 0);
    CHECK(short_read.u64() == 0); // 4 left: fails
    CHECK_FALSE(short_read.ok());
    CHECK(short_read.u8() == 0); // the 4 left are not read after all
    CHECK(short_read.u16() == 0);
    CHECK_FALSE(short_read.ok());
    CHECK(short_read.remaining() == 0);
    CHECK(short_read.offset() == 4);
}

TEST_CASE("wire: cookies round-trip, and a direct message carrying one is refused")
{
    std::array<std::byte, 128> buffer{};
    gossip::wire::cookies carried;
    carried.echoed = 0x1122334455667788ULL;
    carried.issued = 0x99aabbccddeeff00ULL;
    gossip::wire::writer w{std::span(buffer)};
    REQUIRE(gossip::wire::encode<test::address>(
        w, gossip::wire::message_kind::reply, test::address{3}, nullptr, [](gossip::wire::writer& out) { out.u8(7); },
        carried));
    std::vector<test::descriptor> view;
    const auto msg = gossip::wire::decode<test::address>(w.written(), 16, view);
    REQUIRE(msg.error == gossip::wire::decode_error::none);
    CHECK(msg.carried.echoed == carried.echoed);
    CHECK(msg.carried.issued == carried.issued);
    REQUIRE(msg.payload.size() == 1);
    for (std::size_t cut = 1; cut < w.size(); ++cut) {
        CHECK(gossip::wire::decode<test::address>(w.written().first(cut), 16, view).error !=
              gossip::wire::decode_error::none);
    }
    gossip::wire::writer d{std::span(buffer)};
    REQUIRE(gossip::wire::encode<test::address>(
        d, gossip::wire::message_kind::direct, test::address{3}, nullptr, [](gossip::wire::writer&) {}, carried));
    CHECK(gossip::wire::decode<test::address>(d.written(), 16, view).error == gossip::wire::decode_error::bad_flags);
}
