#include "support.hpp"

#include <doctest/doctest.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

using gossip::payload::interest;
using gossip::payload::rumor_options;
using gossip::payload::spread;
using gossip::payload::stop;
using gossip::wire::message_kind;
using rumors = gossip::payload::rumor_set<std::string>;

namespace {

rumors started(const rumor_options& o, std::uint64_t seed)
{
    rumors p(o);
    p.start(gossip::payload_context<test::address>{test::address{static_cast<std::uint32_t>(seed)}, seed});
    return p;
}

using test::feed;
using test::section;

// One push exchange between two payloads, as a node pair carries it: request, then reply.
void push_exchange(rumors& from, rumors& to)
{
    feed(to, section(from, message_kind::request), message_kind::request);
    feed(from, section(to, message_kind::reply), message_kind::reply);
}

// A push section written by hand: one rumor with the given id and age.
std::vector<std::byte> raw_push(gossip::payload::rumor_id id, std::uint16_t age, const std::string& value)
{
    std::vector<std::byte> bytes(64 + value.size());
    gossip::wire::writer w{std::span(bytes)};
    w.u16(0);
    w.u16(1);
    w.u64(id);
    w.u16(age);
    gossip::wire::codec<std::string>::write(w, value);
    w.u16(0);
    REQUIRE(w.ok());
    bytes.resize(w.size());
    return bytes;
}

rumor_options push_options(interest loss, stop rule, std::uint32_t k)
{
    rumor_options o;
    o.mode = spread::push;
    o.loss = loss;
    o.rule = rule;
    o.k = k;
    return o;
}

} // namespace

TEST_CASE("a node is susceptible before hearing a rumor and infective after")
{
    const auto o = push_options(interest::feedback, stop::counter, 2);
    auto a = started(o, 1);
    auto b = started(o, 2);
    const auto id = a.broadcast("hello");
    CHECK(a.infective(id));
    CHECK_FALSE(b.knows(id));
    std::vector<std::string> got;
    b.on_delivery([&](gossip::payload::rumor_id, const std::string& v) { got.push_back(v); });
    push_exchange(a, b);
    CHECK(b.knows(id));
    CHECK(b.infective(id));
    CHECK(got == std::vector<std::string>{"hello"});
}

TEST_CASE("feedback and counter: removed after k unnecessary contacts, not before")
{
    const auto o = push_options(interest::feedback, stop::counter, 2);
    auto a = started(o, 1);
    auto b = started(o, 2);
    const auto id = a.broadcast("x");
    push_exchange(a, b); // necessary: b learns it
    CHECK(a.infective(id));
    push_exchange(a, b); // unnecessary 1
    CHECK(a.infective(id));
    push_exchange(a, b); // unnecessary 2
    CHECK_FALSE(a.infective(id));
    CHECK(a.knows(id));
    CHECK(a.statistics().removed == 1);
}

TEST_CASE("feedback and counter: a necessary contact resets the count")
{
    const auto o = push_options(interest::feedback, stop::counter, 2);
    auto a = started(o, 1);
    auto b = started(o, 2);
    auto c = started(o, 3);
    const auto id = a.broadcast("x");
    push_exchange(a, b);
    push_exchange(a, b); // unnecessary 1
    push_exchange(a, c); // necessary: back to 0
    push_exchange(a, b); // unnecessary 1 again
    CHECK(a.infective(id));
    push_exchange(a, b); // unnecessary 2
    CHECK_FALSE(a.infective(id));
}

TEST_CASE("blind and counter: removed after k contacts whatever the partner knew")
{
    const auto o = push_options(interest::blind, stop::counter, 2);
    auto a = started(o, 1);
    const auto id = a.broadcast("x");
    std::vector<rumors> others;
    for (std::uint64_t s = 2; s < 4; ++s) {
        others.push_back(started(o, s));
    }
    push_exchange(a, others[0]); // necessary, but blind counts it
    CHECK(a.infective(id));
    push_exchange(a, others[1]);
    CHECK_FALSE(a.infective(id));
    CHECK(others[1].knows(id));
}

TEST_CASE("blind and coin with k = 1: removed after the first contact")
{
    const auto o = push_options(interest::blind, stop::coin, 1);
    auto a = started(o, 1);
    auto b = started(o, 2);
    const auto id = a.broadcast("x");
    push_exchange(a, b);
    CHECK_FALSE(a.infective(id));
    CHECK(b.infective(id));
}

TEST_CASE("feedback and coin: only unnecessary contacts flip the coin")
{
    const auto o = push_options(interest::feedback, stop::coin, 1);
    auto a = started(o, 1);
    auto b = started(o, 2);
    const auto id = a.broadcast("x");
    push_exchange(a, b); // necessary: no flip
    CHECK(a.infective(id));
    push_exchange(a, b); // unnecessary: the coin (probability 1/1) stops it
    CHECK_FALSE(a.infective(id));
}

TEST_CASE("coin with k = 4 stops after about 4 unnecessary contacts on average")
{
    const auto o = push_options(interest::feedback, stop::coin, 4);
    double total = 0;
    constexpr int trials = 400;
    for (int t = 0; t < trials; ++t) {
        auto a = started(o, 1000 + static_cast<std::uint64_t>(t));
        auto b = started(o, 5000 + static_cast<std::uint64_t>(t));
        const auto id = a.broadcast("x");
        push_exchange(a, b);
        int contacts = 0;
        while (a.infective(id) && contacts < 1000) {
            push_exchange(a, b);
            ++contacts;
        }
        total += contacts;
    }
    CHECK(total / trials == doctest::Approx(4.0).epsilon(0.15));
}

TEST_CASE("rounds rule: spread in exactly the M periods after it is learned, whatever the contacts")
{
    auto o = push_options(interest::feedback, stop::rounds, 1);
    o.rounds = 3;
    auto a = started(o, 1);
    auto b = started(o, 2);
    const auto id = a.broadcast("x");
    for (int period = 1; period <= 3; ++period) {
        a.on_period({});
        push_exchange(a, b);
        CHECK(a.infective(id));
    }
    a.on_period({});
    CHECK_FALSE(a.infective(id));
}

TEST_CASE("a rumor is delivered once however many copies arrive")
{
    const auto o = push_options(interest::feedback, stop::counter, 100);
    auto a = started(o, 1);
    auto b = started(o, 2);
    int deliveries = 0;
    b.on_delivery([&](gossip::payload::rumor_id, const std::string&) { ++deliveries; });
    a.broadcast("x");
    for (int i = 0; i < 10; ++i) {
        push_exchange(a, b);
    }
    CHECK(deliveries == 1);
    CHECK(b.statistics().duplicates == 9);
}

TEST_CASE("an id forgotten for want of room is refused rather than delivered again")
{
    auto o = push_options(interest::feedback, stop::counter, 100);
    o.memory = 1;
    auto a = started(o, 1);
    auto b = started(o, 2);
    int deliveries = 0;
    b.on_delivery([&](gossip::payload::rumor_id, const std::string&) { ++deliveries; });
    const auto first = a.broadcast("first");
    push_exchange(a, b);
    const auto second = a.broadcast("second");
    push_exchange(a, b); // b remembers only `second` now
    CHECK_FALSE(b.knows(first));
    CHECK(b.knows(second));
    push_exchange(a, b); // another copy of `first`
    CHECK(deliveries == 2);
    CHECK(b.statistics().refused_too_old >= 1);
}

TEST_CASE("ids age out after twice max_age periods, and so old a copy is refused")
{
    auto o = push_options(interest::feedback, stop::counter, 100);
    o.max_age = 4;
    auto a = started(o, 1);
    auto b = started(o, 2);
    const auto id = a.broadcast("x");
    push_exchange(a, b);
    for (int p = 0; p < 8; ++p) {
        b.on_period({});
    }
    CHECK(b.knows(id));
    b.on_period({});
    CHECK_FALSE(b.knows(id));
    int deliveries = 0;
    b.on_delivery([&](gossip::payload::rumor_id, const std::string&) { ++deliveries; });
    CHECK(feed(b, raw_push(id, 5, "x"), message_kind::request));
    CHECK(deliveries == 0);
    CHECK(b.statistics().refused_too_old == 1);
}

TEST_CASE("a rumor older than max_age stops spreading")
{
    auto o = push_options(interest::feedback, stop::counter, 100);
    o.max_age = 3;
    auto a = started(o, 1);
    const auto id = a.broadcast("x");
    for (int p = 0; p < 3; ++p) {
        a.on_period({});
    }
    CHECK(a.infective(id));
    a.on_period({});
    CHECK_FALSE(a.infective(id));
}

TEST_CASE("pull: the answer carries only the rumors the asker lacks")
{
    rumor_options o;
    o.mode = spread::pull;
    o.k = 100;
    auto asker = started(o, 1);
    auto holder = started(o, 2);
    const auto known = holder.broadcast("known");
    const auto fresh = holder.broadcast("fresh");
    // Teach the asker the first rumor through a pull of its own.
    feed(holder, section(asker, message_kind::request), message_kind::request);
    feed(asker, section(holder, message_kind::reply), message_kind::reply);
    REQUIRE(asker.knows(known));
    REQUIRE(asker.knows(fresh));
    const auto only = holder.broadcast("only");
    feed(holder, section(asker, message_kind::request), message_kind::request);
    const auto answer = section(holder, message_kind::reply);
    // The asker's digest listed two of the three: one rumor travels, after the first two.
    CHECK(holder.statistics().rumors_sent == 2 + 1);
    feed(asker, answer, message_kind::reply);
    CHECK(asker.knows(only));
    CHECK(asker.statistics().duplicates == 0);
}

namespace {

// One pull by `asker` answered by `holder`.
void pull_from(rumors& holder, rumors& asker)
{
    feed(holder, section(asker, message_kind::request), message_kind::request);
    feed(asker, section(holder, message_kind::reply), message_kind::reply);
}

// Pull only, Demers et al.'s rule, counter k.
rumor_options demers_pull(std::uint32_t k)
{
    rumor_options o;
    o.mode = spread::pull;
    o.pull = gossip::payload::pull_rule::demers;
    o.k = k;
    return o;
}

} // namespace

TEST_CASE("Demers pull: the answer carries every infective rumor, needed or not")
{
    const auto o = demers_pull(100);
    auto asker = started(o, 1);
    auto holder = started(o, 2);
    const auto known = holder.broadcast("known");
    pull_from(holder, asker);
    REQUIRE(asker.knows(known));
    const auto fresh = holder.broadcast("fresh");
    pull_from(holder, asker);
    // Both rumors travelled in the second answer, though the asker's digest listed the first.
    CHECK(holder.statistics().rumors_sent == 1 + 2);
    CHECK(holder.statistics().update_messages == 2);
    CHECK(asker.knows(fresh));
    CHECK(asker.statistics().duplicates == 1);
    CHECK(asker.statistics().delivered == 2);
}

TEST_CASE("Demers pull: the askers of one period are one contact, counted when the next period begins")
{
    const auto o = demers_pull(2);
    auto holder = started(o, 1);
    auto a = started(o, 2);
    auto b = started(o, 3);
    auto c = started(o, 4);
    const auto id = holder.broadcast("x");
    pull_from(holder, a);
    pull_from(holder, b);
    REQUIRE(a.knows(id));
    REQUIRE(b.knows(id));
    holder.on_period({});
    // Three askers that all knew, in one period: one unnecessary contact, not three.
    for (int i = 0; i < 3; ++i) {
        pull_from(holder, a);
    }
    CHECK(holder.infective(id));
    holder.on_period({});
    CHECK(holder.infective(id)); // counter 1 of 2
    // One asker that lacked it among two that knew: the period's contact is necessary (a reset).
    pull_from(holder, a);
    pull_from(holder, c);
    pull_from(holder, b);
    holder.on_period({});
    CHECK(holder.infective(id));
    pull_from(holder, a);
    holder.on_period({});
    CHECK(holder.infective(id)); // counter 1 again, not 2
    pull_from(holder, b);
    CHECK(holder.infective(id)); // not before the period ends
    holder.on_period({});
    CHECK_FALSE(holder.infective(id));
}

TEST_CASE("a push request carries the newest rumors first when not all fit")
{
    const auto o = push_options(interest::feedback, stop::counter, 2);
    auto a = started(o, 1);
    auto b = started(o, 2);
    const auto old_id = a.broadcast(std::string(300, 'o'));
    const auto new_id = a.broadcast(std::string(300, 'n'));
    feed(b, section(a, message_kind::request, 400), message_kind::request);
    CHECK(b.knows(new_id));
    CHECK_FALSE(b.knows(old_id));
}

TEST_CASE("a malformed section is refused and changes nothing")
{
    const auto o = push_options(interest::feedback, stop::counter, 2);
    auto a = started(o, 1);
    a.broadcast("hello");
    a.broadcast("world");
    const auto good = section(a, message_kind::request);
    for (std::size_t n = 0; n < good.size(); ++n) {
        auto b = started(o, 2);
        const std::vector<std::byte> cut(good.begin(), good.begin() + static_cast<std::ptrdiff_t>(n));
        CHECK_FALSE(feed(b, cut, message_kind::request));
        CHECK(b.statistics() == gossip::payload::rumor_statistics{});
        CHECK(b.infective_count() == 0);
    }
    auto trailing = good;
    trailing.push_back(std::byte{0});
    auto b = started(o, 2);
    CHECK_FALSE(feed(b, trailing, message_kind::request));
}

TEST_CASE("feedback that is neither 'knew' nor 'new' is refused")
{
    const auto o = push_options(interest::feedback, stop::counter, 2);
    auto a = started(o, 1);
    std::vector<std::byte> bytes(32);
    gossip::wire::writer w{std::span(bytes)};
    w.u16(1);
    w.u64(42);
    w.u8(2);
    w.u16(0);
    w.u16(0);
    bytes.resize(w.size());
    CHECK_FALSE(feed(a, bytes, message_kind::reply));
}

TEST_CASE("impossible rumor options are refused with the reason")
{
    rumor_options o;
    o.k = 0;
    CHECK_THROWS_WITH_AS(rumors{o}, doctest::Contains("k must be at least 1"), std::invalid_argument);
    o = {};
    o.rule = stop::rounds;
    o.rounds = 0;
    CHECK_THROWS_AS(rumors{o}, std::invalid_argument);
    o = {};
    o.max_age = 0;
    CHECK_THROWS_AS(rumors{o}, std::invalid_argument);
    o = {};
    o.memory = 0;
    CHECK_THROWS_AS(rumors{o}, std::invalid_argument);
}
