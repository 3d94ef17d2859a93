#include "support.hpp"

#include <doctest/doctest.h>

#include <limits>
#include <string>

using gossip::config;
using gossip::config_error;

namespace {

std::string problem(const config& cfg)
{
    auto p = gossip::check(cfg);
    return p ? *p : std::string{};
}

} // namespace

TEST_CASE("the default config is valid")
{
    CHECK_FALSE(gossip::check(config{}).has_value());
    CHECK_NOTHROW(gossip::validate(config{}));
}

TEST_CASE("a view size of zero is refused")
{
    config cfg;
    cfg.view_size = 0;
    CHECK(problem(cfg).find("view_size") != std::string::npos);
    CHECK_THROWS_AS(gossip::validate(cfg), config_error);
}

TEST_CASE("an aging order that names neither order is refused")
{
    gossip::config cfg;
    cfg.aging = static_cast<gossip::view_aging>(7);
    CHECK(gossip::check(cfg).value_or("").find("aging") != std::string::npos);
    cfg.aging = gossip::view_aging::cycle_start;
    CHECK_FALSE(gossip::check(cfg).has_value());
}

TEST_CASE("healer plus swapper above c/2 is refused, and exactly c/2 is accepted")
{
    config cfg;
    cfg.view_size = 20;
    cfg.healer = 6;
    cfg.swapper = 5;
    CHECK(problem(cfg).find("healer (H) = 6 plus swapper (S) = 5 exceeds c/2 = 10") != std::string::npos);
    cfg.swapper = 4;
    CHECK_FALSE(gossip::check(cfg).has_value());
}

TEST_CASE("healer and swapper values whose sum would wrap around are refused")
{
    config cfg;
    cfg.view_size = 10;
    cfg.healer = std::numeric_limits<std::size_t>::max();
    cfg.swapper = 1;
    CHECK(gossip::check(cfg).has_value());
    cfg.healer = 3;
    cfg.swapper = std::numeric_limits<std::size_t>::max() - 1;
    CHECK(gossip::check(cfg).has_value());
}

TEST_CASE("a fanout of zero or above the view size is refused")
{
    config cfg;
    cfg.fanout = 0;
    CHECK(problem(cfg).find("fanout") != std::string::npos);
    cfg.fanout = cfg.view_size + 1;
    CHECK(problem(cfg).find("fanout") != std::string::npos);
    cfg.fanout = cfg.view_size;
    CHECK_FALSE(gossip::check(cfg).has_value());
}

TEST_CASE("a period that is not positive is refused")
{
    config cfg;
    cfg.period = std::chrono::milliseconds{0};
    CHECK(problem(cfg).find("period") != std::string::npos);
    cfg.period = std::chrono::milliseconds{-5};
    CHECK_THROWS_AS(gossip::validate(cfg), config_error);
}

TEST_CASE("a datagram budget outside what UDP can carry is refused")
{
    config cfg;
    cfg.max_message_bytes = 10;
    CHECK(problem(cfg).find("max_message_bytes") != std::string::npos);
    cfg.max_message_bytes = 70000;
    CHECK(problem(cfg).find("max_message_bytes") != std::string::npos);
}

TEST_CASE("a view size beyond the supported maximum is refused")
{
    config cfg;
    cfg.view_size = gossip::max_view_size + 1;
    CHECK(problem(cfg).find("maximum") != std::string::npos);
}

TEST_CASE("constructing a node with an impossible config throws config_error naming the value")
{
    gossip::transport::in_memory_network net(1);
    config cfg;
    cfg.view_size = 10;
    cfg.healer = 6;
    try {
        test::classic_node node(net.endpoint(test::address{0}), cfg, 1);
        FAIL("the node accepted H + S > c/2");
    } catch (const config_error& e) {
        CHECK(std::string(e.what()).find("healer (H) = 6") != std::string::npos);
    }
}

TEST_CASE("the buffer holds c/2 - 1 descriptors besides the sender's own")
{
    CHECK(gossip::buffer_size(test::small_config(30)) == 14);
    CHECK(gossip::buffer_size(test::small_config(2)) == 0);
    CHECK(gossip::buffer_size(test::small_config(1)) == 0);
}
