// gossip_agent's command line (examples/agent_options.hpp): strict numbers, ranges and units,
// errors that name the option at fault, and settings that cannot work together refused with the
// reason.

#include "agent_options.hpp"

#include <doctest/doctest.h>

#include <chrono>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

using namespace std::chrono_literals;

namespace {

agent::parsed parse(std::initializer_list<std::string_view> words)
{
    const std::vector<std::string_view> args(words);
    return agent::parse(args);
}

// The message parse() refuses `words` with, or "" when it takes them.
std::string refusal(std::initializer_list<std::string_view> words)
{
    try {
        (void)parse(words);
    } catch (const agent::usage_error& e) {
        return e.what();
    }
    return "";
}

} // namespace

TEST_CASE("agent options: a minimal command line takes the documented defaults")
{
    const auto p = parse({"--bind", "127.0.0.1:7000"});
    CHECK_FALSE(p.help);
    const auto& o = p.values;
    CHECK(o.bind.to_string() == "127.0.0.1:7000");
    CHECK(o.membership == "swim");
    CHECK(o.strategy == "push_pull");
    CHECK(o.period == 200ms);
    CHECK(o.seal == "plain");
    CHECK(o.timestamps);
    CHECK(o.swim.probe_timeout == o.swim.probe_interval / 2);
    CHECK(parse({"--bind", "127.0.0.1:7000", "--key-file", "k"}).values.seal == "require");
}

TEST_CASE("agent options: --help asks for the usage, wherever it stands")
{
    CHECK(parse({"--help"}).help);
    CHECK(parse({"--bind", "127.0.0.1:1", "-h"}).help);
    CHECK(refusal({"--period", "oops", "--help"}).starts_with("--period: ")); // an error before it stays one
}

TEST_CASE("agent options: durations are whole milliseconds, or carry ms or s")
{
    CHECK(parse({"--bind", "127.0.0.1:1", "--period", "250"}).values.period == 250ms);
    CHECK(parse({"--bind", "127.0.0.1:1", "--period", "250ms"}).values.period == 250ms);
    CHECK(parse({"--bind", "127.0.0.1:1", "--period", "1.5s"}).values.period == 1500ms);
    CHECK(refusal({"--bind", "127.0.0.1:1", "--period", "1.5"}) ==
          "--period: '1.5' is not a whole number of milliseconds");
    CHECK(refusal({"--bind", "127.0.0.1:1", "--period", "-5"}).starts_with("--period: '-5' is not a duration"));
    CHECK(refusal({"--bind", "127.0.0.1:1", "--period", "abc"}).starts_with("--period: 'abc' is not a duration"));
    CHECK(refusal({"--bind", "127.0.0.1:1", "--period", "0"}) == "--period: '0' is outside [1 ms, 1 h]");
    CHECK(refusal({"--bind", "127.0.0.1:1", "--period", "2h"}).starts_with("--period: '2h' is not a duration"));
    CHECK(parse({"--bind", "127.0.0.1:1", "--period", "1.005s"}).values.period == 1005ms); // exact, no rounding
    CHECK(parse({"--bind", "127.0.0.1:1", "--period", "0.5s"}).values.period == 500ms);
    CHECK(refusal({"--bind", "127.0.0.1:1", "--period", "1.0005s"}) ==
          "--period: '1.0005s' is finer than a millisecond");
    for (const std::string_view bad : {"1e3", "ms", "s", "inf", "nan", "1.", ".5s", "1..5s", "0x10"}) {
        CAPTURE(bad);
        CHECK(refusal({"--bind", "127.0.0.1:1", "--period", bad}).starts_with("--period: '"));
    }
    CHECK(refusal({"--bind", "127.0.0.1:1", "--period", "99999999999999999999"}) ==
          "--period: '99999999999999999999' is outside [1 ms, 1 h]");
}

TEST_CASE("agent options: a count that is not all digits is refused, naming the option")
{
    for (const std::string_view bad : {"-1", "abc", "1.5", "+3", " 3", "3 ", ""}) {
        CAPTURE(bad);
        CHECK(refusal({"--bind", "127.0.0.1:1", "--view", bad}) ==
              "--view: '" + std::string(bad) + "' is not a whole number");
    }
}

TEST_CASE("agent options: values outside their range are refused with the range")
{
    CHECK(refusal({"--bind", "127.0.0.1:1", "--view", "0"}) == "--view: '0' is outside [1, 4096]");
    CHECK(refusal({"--bind", "127.0.0.1:1", "--view", "99999999999999999999"}) ==
          "--view: '99999999999999999999' is outside [1, 4096]");
    CHECK(refusal({"--bind", "127.0.0.1:1", "--max-bytes", "10"}) == "--max-bytes: '10' is outside [64, 65507]");
    CHECK(
        refusal({"--bind", "127.0.0.1:1", "--rate-limit", "100"}).starts_with("--rate-limit: '100' is outside [1500,"));
    CHECK(refusal({"--bind", "127.0.0.1:1", "--suspicion-mult", "0.5"}) ==
          "--suspicion-mult: '0.5' is outside [1, 64]");
    CHECK(refusal({"--bind", "127.0.0.1:1", "--suspicion-mult", "80"}) == "--suspicion-mult: '80' is outside [1, 64]");
    CHECK(refusal({"--bind", "127.0.0.1:1", "--fanout", "30"}).find("fanout = 30 exceeds view_size (c) = 20") !=
          std::string::npos);
}

TEST_CASE("agent options: a heartbeat t_fail shorter than three periods is refused with the reason")
{
    CHECK(refusal({"--bind", "127.0.0.1:1", "--membership", "heartbeat", "--t-fail", "50", "--period", "200"}) ==
          "--t-fail: 50 ms is shorter than 3 periods (600 ms): members would be declared failed between two of "
          "their heartbeats");
    CHECK(parse({"--bind", "127.0.0.1:1", "--membership", "heartbeat", "--t-fail", "600", "--period", "200"})
              .values.t_fail == 600ms);
    CHECK(parse({"--bind", "127.0.0.1:1", "--membership", "heartbeat", "--period", "100"}).values.t_fail == 1500ms);
}

TEST_CASE("agent options: --join takes a comma-separated list, and refuses an empty one or an empty element")
{
    CHECK(parse({"--bind", "127.0.0.1:1", "--join", "127.0.0.1:2,127.0.0.1:3"}).values.join.size() == 2);
    CHECK(refusal({"--bind", "127.0.0.1:1", "--join", ""}) == "--join: needs at least one HOST:PORT");
    CHECK(refusal({"--bind", "127.0.0.1:1", "--join", "127.0.0.1:2,"}) == "--join: an empty address in the list");
    CHECK(refusal({"--bind", "127.0.0.1:1", "--join", "127.0.0.1:99999"}).starts_with("--join: "));
}

TEST_CASE("agent options: options of the other membership are refused")
{
    CHECK(refusal({"--bind", "127.0.0.1:1", "--t-fail", "5s"}) == "--t-fail applies to --membership heartbeat");
    CHECK(refusal({"--bind", "127.0.0.1:1", "--membership", "heartbeat", "--probe-interval", "1s"}) ==
          "--probe-interval applies to --membership swim");
    CHECK(refusal({"--bind", "127.0.0.1:1", "--membership", "gossip"}) ==
          "--membership: 'gossip' is not one of swim, heartbeat");
}

TEST_CASE("agent options: unknown options, stray words and missing values are named")
{
    CHECK(refusal({"--bind", "127.0.0.1:1", "--frob", "1"}) == "unknown option --frob (--help lists them)");
    CHECK(refusal({"--bind", "127.0.0.1:1", "stray"}).starts_with("'stray' is not an option"));
    CHECK(refusal({"--bind", "127.0.0.1:1", "--period"}) == "--period: needs a value");
    CHECK(refusal({"--period", "200"}) == "--bind is required (--help lists the options)");
}

TEST_CASE("agent options: sealing stages other than plain need a key file")
{
    CHECK(refusal({"--bind", "127.0.0.1:1", "--seal", "require"}) == "--seal require needs --key-file");
    CHECK(refusal({"--bind", "127.0.0.1:1", "--seal", "maybe"}).starts_with("--seal: 'maybe' is not one of"));
}

TEST_CASE("agent options: SWIM timings that cannot work are refused with the reason")
{
    CHECK(refusal({"--bind", "127.0.0.1:1", "--probe-interval", "200", "--probe-timeout", "300"})
              .starts_with("SWIM: probe_timeout = 300 ms must be positive and below probe_interval = 200 ms"));
    CHECK(refusal({"--bind", "127.0.0.1:1", "--id", "0xZZ"}).starts_with("--id: '0xZZ' is neither"));
    CHECK(parse({"--bind", "127.0.0.1:1", "--id", "0x2a"}).values.swim.id == 42U);
}
