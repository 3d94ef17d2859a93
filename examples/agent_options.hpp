#pragma once

// gossip_agent's command line, parsed strictly: a number is all digits (durations may carry a
// unit, ms or s), out-of-range values are refused with the range, every error names the option at
// fault, and settings that cannot work together are refused with the reason. tests/
// test_agent_options.cpp holds it to that.

#include <gossip/config.hpp>
#include <gossip/payload/swim_options.hpp>
#include <gossip/transport/udp_address.hpp>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <initializer_list>
#include <iterator>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace agent {

using gossip::transport::udp_address;

/// Everything gossip_agent is run with.
struct options {
    udp_address bind;
    std::vector<udp_address> join;
    std::string membership = "swim";
    std::string strategy = "push_pull";
    std::chrono::milliseconds period{200};
    std::size_t fanout = 2;
    std::size_t view_size = 20;
    std::chrono::milliseconds t_fail{0}; // heartbeat; 0 until parsed: then 15 periods unless given
    std::size_t max_bytes = 1400;
    bool exit_on_eof = false;
    bool timestamps = true;
    std::string key_file; // empty: no keys
    std::string label = "gossip-agent";
    std::string seal;              // plain, sealed or require; empty until parsed
    std::size_t max_log = 100'000; // log entries taken from peers, at most
    bool compress = false;
    std::uint64_t rate_limit = 0; // bytes received a second; 0: no limit
    std::uint64_t send_limit = 0; // bytes sent a second; 0: no limit
    // SWIM: swim_options::local() unless given.
    gossip::payload::swim_options swim = gossip::payload::swim_options::local();
};

/// A command line that cannot run: the message names the option and the reason.
class usage_error : public std::invalid_argument {
public:
    using std::invalid_argument::invalid_argument;
};

/// What parse() found: the options, or a request for the usage text.
struct parsed {
    options values;
    bool help = false;
};

/// The heartbeat table needs a few heartbeats within t_fail, or members are declared failed
/// between two of them.
inline constexpr std::size_t min_t_fail_periods = 3;

[[nodiscard]] inline std::string usage_text()
{
    return "usage: gossip_agent --bind HOST:PORT [--join HOST:PORT,...] [options]\n"
           "\n"
           "One gossip node over UDP: membership, and a replicated log of the lines read on stdin.\n"
           "Durations are whole milliseconds, or carry a unit: 200, 200ms, 1.5s.\n"
           "\n"
           "  --membership swim|heartbeat   SWIM with Lifeguard (default), or the heartbeat table\n"
           "  --strategy push|pull|push_pull   how the node's own exchanges go (default push_pull)\n"
           "  --period DURATION             the node's exchange period (default 200 ms)\n"
           "  --fanout N                    peers per exchange, 1 to --view (default 2)\n"
           "  --view C                      peers the node exchanges with, 1 to 4096 (default 20)\n"
           "  --max-bytes B                 largest datagram, 64 to 65507 (default 1400)\n"
           "  --max-log N                   log entries taken from peers, at most (default 100000)\n"
           "  --exit-on-eof                 stop (and leave) when stdin ends\n"
           "  --no-timestamps               print lines without the leading UTC time\n"
           "sealing:\n"
           "  --key-file FILE               seal every datagram; lines of 'ID HEX', the first seals\n"
           "  --label TEXT                  the cluster's name, authenticated (default gossip-agent)\n"
           "  --seal plain|sealed|require   the upgrade stage (default require with keys, else plain)\n"
           "traffic:\n"
           "  --compress                    send datagrams compressed when that makes them smaller\n"
           "  --rate-limit B                drop what arrives past B bytes a second (at least 1500)\n"
           "  --send-limit B                drop what leaves past B bytes a second (at least 1500)\n"
           "SWIM (the default membership):\n"
           "  --probe-interval DURATION     default 200 ms\n"
           "  --probe-timeout DURATION      below the interval (default half of it)\n"
           "  --suspicion-mult X            the least suspicion timeout in probe intervals, 1 to 64\n"
           "  --id ID                       this member's id, 0x-prefixed hex or decimal\n"
           "  --meta TEXT                   this member's metadata\n"
           "heartbeat:\n"
           "  --t-fail DURATION             declare failed after this long unheard (default 15 periods;\n"
           "                                at least 3 periods)\n"
           "  --help                        this text\n";
}

namespace detail {

[[noreturn]] inline void fail(std::string_view flag, const std::string& why)
{
    throw usage_error(std::string(flag) + ": " + why);
}

// Appended piece by piece: g++ 12 at -O3 reports -Wrestrict on `"'" + std::string + "'"` (a false
// positive, GCC bug 105329).
inline std::string quoted(std::string_view text)
{
    std::string out;
    out.reserve(text.size() + 2);
    out += '\'';
    out += text;
    out += '\'';
    return out;
}

// All digits, no sign, no spaces, within [low, high].
inline std::uint64_t whole(std::string_view flag, std::string_view text, std::uint64_t low, std::uint64_t high)
{
    std::uint64_t value = 0;
    const auto* end = text.data() + text.size();
    const auto [at, ec] = std::from_chars(text.data(), end, value);
    if (text.empty() || text.front() == '+' || ec == std::errc::invalid_argument || at != end) {
        fail(flag, quoted(text) + " is not a whole number");
    }
    if (ec == std::errc::result_out_of_range || value < low || value > high) {
        fail(flag, quoted(text) + " is outside [" + std::to_string(low) + ", " + std::to_string(high) + "]");
    }
    return value;
}

// A decimal number (digits, at most one point), finite, within [low, high].
inline double real(std::string_view flag, std::string_view text, double low, double high)
{
    double value = 0;
    const auto* end = text.data() + text.size();
    const auto [at, ec] = std::from_chars(text.data(), end, value, std::chars_format::fixed);
    if (text.empty() || text.front() == '-' || text.front() == '+' || ec != std::errc{} || at != end ||
        !std::isfinite(value)) {
        fail(flag, quoted(text) + " is not a number");
    }
    if (value < low || value > high) {
        char range[64];
        std::snprintf(range, sizeof range, "[%g, %g]", low, high);
        fail(flag, quoted(text) + " is outside " + range);
    }
    return value;
}

// "250", "250ms", "1.5s": whole milliseconds within [1 ms, 1 h]. Read as integers (digits, and
// for seconds up to three decimals), so that 1.005s is 1005 ms exactly.
inline std::chrono::milliseconds duration(std::string_view flag, std::string_view text)
{
    bool seconds = false;
    std::string_view number = text;
    if (number.ends_with("ms")) {
        number.remove_suffix(2);
    } else if (number.ends_with("s")) {
        number.remove_suffix(1);
        seconds = true;
    }
    const auto point = number.find('.');
    const std::string_view whole_part = number.substr(0, point);
    const std::string_view fraction = point == std::string_view::npos ? std::string_view{} : number.substr(point + 1);
    const auto digits = [](std::string_view d) { return d.find_first_not_of("0123456789") == std::string_view::npos; };
    if (whole_part.empty() || !digits(whole_part) || !digits(fraction) ||
        (point != std::string_view::npos && fraction.empty())) {
        fail(flag, quoted(text) + " is not a duration (200, 200ms or 1.5s)");
    }
    if (!seconds && !fraction.empty()) {
        fail(flag, quoted(text) + " is not a whole number of milliseconds");
    }
    if (fraction.size() > 3) {
        fail(flag, quoted(text) + " is finer than a millisecond");
    }
    constexpr std::uint64_t most_ms = 3'600'000;
    if (whole_part.size() > 10) {
        fail(flag, quoted(text) + " is outside [1 ms, 1 h]");
    }
    std::uint64_t ms = 0;
    std::from_chars(whole_part.data(), whole_part.data() + whole_part.size(), ms);
    if (seconds) {
        std::uint64_t thousandths = 0;
        for (std::size_t i = 0; i < 3; ++i) {
            thousandths = thousandths * 10 + (i < fraction.size() ? static_cast<std::uint64_t>(fraction[i] - '0') : 0);
        }
        ms = ms * 1000 + thousandths;
    }
    if (ms < 1 || ms > most_ms) {
        fail(flag, quoted(text) + " is outside [1 ms, 1 h]");
    }
    return std::chrono::milliseconds(static_cast<std::int64_t>(ms));
}

// "0x..." is hexadecimal, anything else decimal; the whole string must be a number.
inline std::uint64_t id(std::string_view flag, std::string_view text)
{
    const bool hex = text.size() > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X');
    const std::string_view digits = hex ? text.substr(2) : text;
    std::uint64_t value = 0;
    const auto* end = digits.data() + digits.size();
    const auto [at, ec] = std::from_chars(digits.data(), end, value, hex ? 16 : 10);
    if (digits.empty() || digits.front() == '+' || digits.front() == '-' || ec != std::errc{} || at != end) {
        fail(flag, quoted(text) + " is neither 0x-prefixed hexadecimal nor decimal, below 2^64");
    }
    return value;
}

inline std::vector<udp_address> addresses(std::string_view flag, std::string_view text)
{
    std::vector<udp_address> out;
    if (text.empty()) {
        fail(flag, "needs at least one HOST:PORT");
    }
    for (;;) {
        const auto comma = text.find(',');
        const auto one = text.substr(0, comma);
        if (one.empty()) {
            fail(flag, "an empty address in the list");
        }
        try {
            out.push_back(udp_address::resolve(one));
        } catch (const std::exception& e) {
            fail(flag, e.what());
        }
        if (comma == std::string_view::npos) {
            return out;
        }
        text.remove_prefix(comma + 1);
    }
}

inline std::string one_of(std::string_view flag, std::string_view text, std::initializer_list<std::string_view> words)
{
    std::string list;
    for (const auto w : words) {
        if (w == text) {
            return std::string(text);
        }
        list += list.empty() ? "" : ", ";
        list += w;
    }
    fail(flag, quoted(text) + " is not one of " + list);
}

inline std::vector<std::byte> to_bytes(std::string_view s)
{
    std::vector<std::byte> out(s.size());
    for (std::size_t i = 0; i < s.size(); ++i) {
        out[i] = static_cast<std::byte>(s[i]);
    }
    return out;
}

} // namespace detail

/// Parses the arguments after the program's name. Throws usage_error naming the option at fault.
[[nodiscard]] inline parsed parse(std::span<const std::string_view> args)
{
    parsed result;
    options& o = result.values;
    bool bound = false;
    bool probe_timeout_given = false;
    std::vector<std::string> swim_flags;
    std::vector<std::string> heartbeat_flags;
    for (std::size_t i = 0; i < args.size(); ++i) {
        const std::string_view flag = args[i];
        if (flag == "--help" || flag == "-h") {
            result.help = true;
            return result;
        }
        if (flag == "--exit-on-eof") {
            o.exit_on_eof = true;
            continue;
        }
        if (flag == "--compress") {
            o.compress = true;
            continue;
        }
        if (flag == "--no-timestamps") {
            o.timestamps = false;
            continue;
        }
        if (!flag.starts_with("--")) {
            throw usage_error(detail::quoted(flag) + " is not an option (options start with --; --help lists them)");
        }
        static constexpr std::string_view with_values[] =
            {"--bind",          "--join",           "--membership", "--strategy",   "--period",
             "--fanout",        "--view",           "--t-fail",     "--max-bytes",  "--probe-interval",
             "--probe-timeout", "--suspicion-mult", "--id",         "--max-log",    "--key-file",
             "--label",         "--seal",           "--meta",       "--rate-limit", "--send-limit"};
        if (std::find(std::begin(with_values), std::end(with_values), flag) == std::end(with_values)) {
            throw usage_error("unknown option " + std::string(flag) + " (--help lists them)");
        }
        if (i + 1 >= args.size()) {
            detail::fail(flag, "needs a value");
        }
        const std::string_view value = args[++i];
        if (flag == "--bind") {
            const auto a = detail::addresses(flag, value);
            if (a.size() != 1) {
                detail::fail(flag, "takes one HOST:PORT");
            }
            o.bind = a.front();
            bound = true;
        } else if (flag == "--join") {
            for (const auto& a : detail::addresses(flag, value)) {
                o.join.push_back(a);
            }
        } else if (flag == "--membership") {
            o.membership = detail::one_of(flag, value, {"swim", "heartbeat"});
        } else if (flag == "--strategy") {
            o.strategy = detail::one_of(flag, value, {"push", "pull", "push_pull"});
        } else if (flag == "--period") {
            o.period = detail::duration(flag, value);
        } else if (flag == "--fanout") {
            o.fanout = detail::whole(flag, value, 1, gossip::max_view_size);
        } else if (flag == "--view") {
            o.view_size = detail::whole(flag, value, 1, gossip::max_view_size);
        } else if (flag == "--t-fail") {
            o.t_fail = detail::duration(flag, value);
            heartbeat_flags.emplace_back(flag);
        } else if (flag == "--max-bytes") {
            o.max_bytes = detail::whole(flag, value, gossip::min_message_bytes, gossip::max_datagram_bytes);
        } else if (flag == "--probe-interval") {
            o.swim.probe_interval = detail::duration(flag, value);
            swim_flags.emplace_back(flag);
        } else if (flag == "--probe-timeout") {
            o.swim.probe_timeout = detail::duration(flag, value);
            probe_timeout_given = true;
            swim_flags.emplace_back(flag);
        } else if (flag == "--suspicion-mult") {
            o.swim.suspicion_mult = detail::real(flag, value, 1, 64);
            swim_flags.emplace_back(flag);
        } else if (flag == "--id") {
            o.swim.id = detail::id(flag, value);
            swim_flags.emplace_back(flag);
        } else if (flag == "--max-log") {
            o.max_log = detail::whole(flag, value, 1, 100'000'000);
        } else if (flag == "--key-file") {
            if (value.empty()) {
                detail::fail(flag, "needs a file name");
            }
            o.key_file = value;
        } else if (flag == "--label") {
            o.label = value;
        } else if (flag == "--seal") {
            o.seal = detail::one_of(flag, value, {"plain", "sealed", "require"});
        } else if (flag == "--meta") {
            if (value.size() > gossip::payload::max_metadata_bytes) {
                detail::fail(flag, std::to_string(value.size()) + " bytes; at most " +
                                       std::to_string(gossip::payload::max_metadata_bytes));
            }
            o.swim.metadata = detail::to_bytes(value);
            swim_flags.emplace_back(flag);
        } else if (flag == "--rate-limit") {
            o.rate_limit = detail::whole(flag, value, 1'500, 1'000'000'000'000);
        } else { // --send-limit
            o.send_limit = detail::whole(flag, value, 1'500, 1'000'000'000'000);
        }
    }
    if (!bound) {
        throw usage_error("--bind is required (--help lists the options)");
    }
    gossip::config cfg;
    cfg.view_size = o.view_size;
    cfg.fanout = o.fanout;
    cfg.period = o.period;
    cfg.max_message_bytes = o.max_bytes;
    if (auto problem = gossip::check(cfg)) {
        throw usage_error("--view, --fanout, --period, --max-bytes: " + *problem);
    }
    if (o.membership == "swim") {
        if (!heartbeat_flags.empty()) {
            throw usage_error(heartbeat_flags.front() + " applies to --membership heartbeat");
        }
        if (!probe_timeout_given) {
            o.swim.probe_timeout = o.swim.probe_interval / 2; // local(): 100 ms of 200
        }
        if (auto problem = gossip::payload::check(o.swim)) {
            throw usage_error("SWIM: " + *problem);
        }
    } else {
        if (!swim_flags.empty()) {
            throw usage_error(swim_flags.front() + " applies to --membership swim");
        }
        const auto least = static_cast<long>(min_t_fail_periods) * o.period;
        if (o.t_fail.count() == 0) {
            o.t_fail = 15 * o.period;
        } else if (o.t_fail < least) {
            throw usage_error("--t-fail: " + std::to_string(o.t_fail.count()) + " ms is shorter than " +
                              std::to_string(min_t_fail_periods) + " periods (" + std::to_string(least.count()) +
                              " ms): members would be declared failed between two of their heartbeats");
        }
    }
    if (o.seal.empty()) {
        o.seal = o.key_file.empty() ? "plain" : "require";
    }
    if (o.seal != "plain" && o.key_file.empty()) {
        throw usage_error("--seal " + o.seal + " needs --key-file");
    }
    return result;
}

} // namespace agent
