// payload::combined: two payloads on the same exchanges, each with a section of its own.

#include "support.hpp"

#include <gossip/payload/combined.hpp>

#include <doctest/doctest.h>

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <vector>

using gossip::wire::message_kind;

namespace {

// Writes `want` bytes of `fill` (as many as fit) and remembers what it read.
struct filler {
    std::byte fill{0};
    std::size_t want = 0;
    std::vector<std::byte> last_read;
    bool reply = false;
    int leaves = 0;
    std::vector<std::uint64_t> seeds;

    void write(gossip::wire::writer& w, message_kind /*kind*/) const
    {
        for (std::size_t i = 0; i < want && w.remaining() > 0; ++i) {
            w.u8(static_cast<std::uint8_t>(fill));
        }
    }
    [[nodiscard]] bool read(gossip::wire::reader& r, message_kind /*kind*/)
    {
        const auto bytes = r.bytes(r.remaining());
        last_read.assign(bytes.begin(), bytes.end());
        for (const auto b : last_read) {
            if (b != fill) {
                return false;
            }
        }
        return true;
    }
    [[nodiscard]] bool wants_reply() const { return reply; }
    void leave() { ++leaves; }
    void start(const gossip::payload_context<test::address>& context) { seeds.push_back(context.seed); }
};

using pair = gossip::payload::combined<filler, filler>;

pair make(std::size_t first_wants, std::size_t second_wants, double share = 0.5)
{
    filler first;
    first.fill = std::byte{0xAA};
    first.want = first_wants;
    filler second;
    second.fill = std::byte{0xBB};
    second.want = second_wants;
    return pair(first, second, share);
}

} // namespace

TEST_CASE("combined: each part reads exactly the section the same part wrote")
{
    auto sender = make(10, 20);
    auto receiver = make(0, 0);
    const auto bytes = test::section(sender, message_kind::request);
    CHECK(bytes.size() == 2 + 10 + 20);
    REQUIRE(test::feed(receiver, bytes, message_kind::request));
    CHECK(receiver.first().last_read == std::vector<std::byte>(10, std::byte{0xAA}));
    CHECK(receiver.second().last_read == std::vector<std::byte>(20, std::byte{0xBB}));
}

TEST_CASE("combined: when both parts want more than the room, each gets its share")
{
    auto sender = make(10'000, 10'000, 0.25);
    // The first section tells the first part wants more; the second is written first from then on.
    for (int section = 0; section < 3; ++section) {
        CAPTURE(section);
        const auto bytes = test::section(sender, message_kind::request, 402);
        auto receiver = make(0, 0);
        REQUIRE(test::feed(receiver, bytes, message_kind::request));
        CHECK(receiver.first().last_read.size() == 100); // a quarter of the 400 bytes after the length
        CHECK(receiver.second().last_read.size() == 300);
    }
}

TEST_CASE("combined: room the first part leaves unused goes to the second")
{
    auto sender = make(5, 10'000);
    for (int section = 0; section < 2; ++section) {
        const auto bytes = test::section(sender, message_kind::request, 202);
        auto receiver = make(0, 0);
        REQUIRE(test::feed(receiver, bytes, message_kind::request));
        CHECK(receiver.first().last_read.size() == 5);
        CHECK(receiver.second().last_read.size() == 195);
    }
}

TEST_CASE("combined: room the second part leaves unused goes to the first, once the first wants more than its share")
{
    auto sender = make(10'000, 5, 0.25);
    const auto first_section = test::section(sender, message_kind::request, 402);
    auto receiver = make(0, 0);
    REQUIRE(test::feed(receiver, first_section, message_kind::request));
    CHECK(receiver.first().last_read.size() == 100); // its share: nothing said yet that it wants more
    CHECK(receiver.second().last_read.size() == 5);
    for (int section = 0; section < 2; ++section) {
        const auto bytes = test::section(sender, message_kind::request, 402);
        REQUIRE(test::feed(receiver, bytes, message_kind::request));
        CHECK(receiver.first().last_read.size() == 395);
        CHECK(receiver.second().last_read.size() == 5);
    }
}

TEST_CASE("combined: a first part that needs more than its share but less than the room keeps getting all it needs")
{
    auto sender = make(150, 5, 0.25);
    (void)test::section(sender, message_kind::request, 402); // its share, 100: it wants more
    for (int section = 0; section < 3; ++section) {
        CAPTURE(section);
        auto receiver = make(0, 0);
        REQUIRE(test::feed(receiver, test::section(sender, message_kind::request, 402), message_kind::request));
        CHECK(receiver.first().last_read.size() == 150);
        CHECK(receiver.second().last_read.size() == 5);
    }
}

TEST_CASE("combined: a first part that stops wanting more gives the room back to the second")
{
    auto sender = make(10'000, 10'000, 0.25);
    (void)test::section(sender, message_kind::request, 402); // the first fills its share
    sender.first().want = 5;
    auto receiver = make(0, 0);
    // The second part wrote first, into its share; the next section sees the first satisfied.
    REQUIRE(test::feed(receiver, test::section(sender, message_kind::request, 402), message_kind::request));
    CHECK(receiver.first().last_read.size() == 5);
    CHECK(receiver.second().last_read.size() == 300);
    REQUIRE(test::feed(receiver, test::section(sender, message_kind::request, 402), message_kind::request));
    CHECK(receiver.first().last_read.size() == 5);
    CHECK(receiver.second().last_read.size() == 395);
}

TEST_CASE("combined: with a share of 1 the first part always writes first and the second gets what is left")
{
    auto sender = make(150, 10'000, 1.0);
    for (int section = 0; section < 2; ++section) {
        const auto bytes = test::section(sender, message_kind::request, 202);
        auto receiver = make(0, 0);
        REQUIRE(test::feed(receiver, bytes, message_kind::request));
        CHECK(receiver.first().last_read.size() == 150);
        CHECK(receiver.second().last_read.size() == 50);
    }
}

TEST_CASE("combined: a first length that overruns the section is refused")
{
    auto sender = make(10, 20);
    auto bytes = test::section(sender, message_kind::request);
    bytes[0] = std::byte{0xFF};
    bytes[1] = std::byte{0x00};
    auto receiver = make(0, 0);
    CHECK_FALSE(test::feed(receiver, bytes, message_kind::request));
    CHECK(receiver.second().last_read.empty());
}

TEST_CASE("combined: a truncated section is refused at every length")
{
    auto sender = make(3, 4);
    const auto bytes = test::section(sender, message_kind::request);
    for (std::size_t n = 0; n < 2; ++n) {
        auto receiver = make(0, 0);
        CHECK_FALSE(test::feed(receiver, std::span(bytes).first(n), message_kind::request));
    }
    for (std::size_t n = 2; n < 2 + 3; ++n) {
        auto receiver = make(0, 0);
        CHECK_FALSE(test::feed(receiver, std::span(bytes).first(n), message_kind::request));
    }
}

TEST_CASE("combined: a part that refuses its section fails the whole section")
{
    auto sender = make(3, 4);
    auto bytes = test::section(sender, message_kind::request);
    bytes.back() = std::byte{0x00}; // not the second part's fill
    auto receiver = make(0, 0);
    CHECK_FALSE(test::feed(receiver, bytes, message_kind::request));
}

TEST_CASE("combined: it wants a reply when either part does")
{
    auto p = make(0, 0);
    CHECK_FALSE(p.wants_reply());
    p.second().reply = true;
    CHECK(p.wants_reply());
    p.second().reply = false;
    p.first().reply = true;
    CHECK(p.wants_reply());
}

TEST_CASE("combined: leave reaches both parts, and start gives them different seeds")
{
    auto p = make(0, 0);
    p.leave();
    CHECK(p.first().leaves == 1);
    CHECK(p.second().leaves == 1);
    p.start(gossip::payload_context<test::address>{test::address{1}, 42});
    REQUIRE(p.first().seeds.size() == 1);
    REQUIRE(p.second().seeds.size() == 1);
    CHECK(p.first().seeds[0] != p.second().seeds[0]);
}

TEST_CASE("combined: a share of zero, or above one, is refused")
{
    CHECK_THROWS_AS(make(0, 0, 0.0), std::invalid_argument);
    CHECK_THROWS_AS(make(0, 0, 1.5), std::invalid_argument);
    CHECK_NOTHROW(make(0, 0, 1.0));
}

namespace {
struct tagged_filler : filler {};
template <class Pair, class T>
concept part_by_type = requires(Pair& p)
{
    p.template get<T>();
};
} // namespace

TEST_CASE("combined: parts are reached by position, and by type when the two types differ")
{
    pair same = make(1, 2);
    CHECK(&same.get<0>() == &same.first());
    CHECK(&same.get<1>() == &same.second());
    gossip::payload::combined<filler, tagged_filler> mixed;
    CHECK(&mixed.get<filler>() == &mixed.first());
    CHECK(&mixed.get<tagged_filler>() == &mixed.second());
    const auto& read_only = mixed;
    CHECK(&read_only.get<tagged_filler>() == &mixed.second());
    // Asking a pair of one type by type does not compile: it would not say which part.
    static_assert(!part_by_type<pair, filler>);
    static_assert(part_by_type<gossip::payload::combined<filler, tagged_filler>, filler>);
}
