// gossip_agent as a user runs it: real processes on 127.0.0.1, driven through stdin and stdout,
// and attacked from a socket of the test's own. Every wait is bounded.

#include "agent_process.hpp"
#include "udp_cluster.hpp"

#include <gossip/payload/swim.hpp>

#include <doctest/doctest.h>

#include <netinet/in.h>
#include <sys/socket.h>

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

using namespace std::chrono_literals;
using test::agent_process;

namespace {

const std::string agent_program = GOSSIP_AGENT_PATH;

// A directory of its own under the system's temporary directory, removed at the end.
struct scratch_dir {
    std::filesystem::path path;
    scratch_dir()
    {
        std::string pattern = (std::filesystem::temp_directory_path() / "gossip-agent-test-XXXXXX").string();
        REQUIRE(::mkdtemp(pattern.data()) != nullptr);
        path = pattern;
    }
    scratch_dir(const scratch_dir&) = delete;
    scratch_dir& operator=(const scratch_dir&) = delete;
    ~scratch_dir()
    {
        std::error_code ignored;
        std::filesystem::remove_all(path, ignored);
    }
};

// "ready 127.0.0.1:PORT ..." -> "127.0.0.1:PORT".
std::string address_in(const std::string& ready_line)
{
    const auto from = ready_line.find(' ') + 1;
    return ready_line.substr(from, ready_line.find(' ', from) - from);
}

std::string ready_address(agent_process& a)
{
    const auto line = a.wait_for("ready ", 10s);
    REQUIRE(line.has_value());
    return address_in(*line);
}

// A UDP socket of the test's own, aimed at an agent.
class flooder {
public:
    explicit flooder(const std::string& target) : socket_(gossip::transport::udp_address::loopback_v4(0))
    {
        to_ = gossip::transport::udp_address::resolve(target);
    }
    bool send(std::span<const std::byte> bytes) { return socket_.send(to_, bytes); }
    void flush() { socket_.flush(); }

private:
    gossip::transport::udp socket_;
    gossip::transport::udp_address to_;
};

const char* const key_line = "7 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n";

} // namespace

TEST_CASE("agent: a sealed, rate-limited agent under a flood of forged datagrams keeps its cluster and counts them")
{
    scratch_dir dir;
    const auto keys = (dir.path / "keys").string();
    std::ofstream(keys) << key_line;
    agent_process a(agent_program, {"--bind", "127.0.0.1:0", "--key-file", keys, "--period", "100", "--compress",
                                    "--rate-limit", "200000", "--exit-on-eof"});
    const auto a_address = ready_address(a);
    agent_process b(agent_program, {"--bind", "127.0.0.1:0", "--join", a_address, "--key-file", keys, "--period", "100",
                                    "--compress", "--exit-on-eof"});
    const auto b_address = ready_address(b);
    REQUIRE(a.wait_for("member joined", 10s));
    REQUIRE(b.wait_for("member joined", 10s));
    const auto rss_before = a.rss_kib();
    REQUIRE(rss_before > 0);

    // 20,000 datagrams of 1,000 bytes over about a second: a third plaintext that looks like a
    // node's, a third with the cluster's key id and a made-up tag, a third random. About 20 MB, a
    // hundred times the limit. Spread over a second so that the agent reads much of it even on a
    // busy machine (the kernel drops what overflows the socket's buffer).
    flooder attacker(a_address);
    std::mt19937_64 rng(1);
    std::vector<std::byte> datagram(1000);
    std::size_t sent = 0;
    const auto deadline = std::chrono::steady_clock::now() + 3s; // well within a suspicion timeout
    for (std::size_t i = 0; i < 20'000 && std::chrono::steady_clock::now() < deadline; ++i) {
        for (auto& byte : datagram) {
            byte = static_cast<std::byte>(rng());
        }
        if (i % 3 == 0) {
            datagram[0] = std::byte{0x53}; // the node's magic
            datagram[1] = std::byte{0x47};
        } else if (i % 3 == 1) {
            datagram[0] = std::byte{7};
        }
        sent += attacker.send(datagram) ? 1 : 0;
        if (i % 20 == 0) {
            attacker.flush();
            std::this_thread::sleep_for(1ms);
        }
    }
    attacker.flush();
    CHECK(sent > 5'000);

    // The agent still hears its peer: a broadcast made after the flood arrives.
    b.say("after the flood");
    CHECK(a.wait_for("after the flood", 15s).has_value());
    const auto refused = a.stat("refused");
    const auto dropped = a.stat("rate_dropped_in");
    REQUIRE(refused.has_value());
    REQUIRE(dropped.has_value());
    CHECK(*dropped > 0);
    CHECK(*refused > 0);
    MESSAGE("flood of ", sent, " datagrams: ", *dropped, " over the rate, ", *refused, " refused by sealing");
    CHECK(a.stat("malformed") == 0); // none reached the node
    CHECK(a.stat("log") == 1);
    // Nothing a stranger sends is kept: the resident set did not grow with the flood.
    const auto rss_after = a.rss_kib();
    CHECK(rss_after < rss_before + 8 * 1024);
    MESSAGE("resident set ", rss_before, " KiB before the flood, ", rss_after, " KiB after");
    // And it kept its peer: the limit drops the peer's datagrams among the flood's, so a suspicion
    // may come and be refuted, but the peer was never declared failed and is alive now.
    for (const auto& line : a.lines()) {
        CHECK_FALSE((line.find(b_address) != std::string::npos && line.rfind("member failed", 0) == 0));
    }
    a.say("/members");
    CHECK(a.wait_for("members " + b_address + " alive", 10s).has_value());
    CHECK(a.stop(5s) == 0);
}

TEST_CASE("agent: an unsealed agent takes at most --max-log entries from a peer that floods its log")
{
    agent_process a(agent_program, {"--bind", "127.0.0.1:0", "--period", "50", "--max-log", "200", "--exit-on-eof"});
    const auto a_address = ready_address(a);

    // The attacker speaks the agent's protocol: SWIM, and the log over anti-entropy, in plaintext.
    using log_store = gossip::payload::lww_map<std::string, std::string>;
    using log_payload = gossip::payload::anti_entropy<log_store>;
    using swim = gossip::payload::swim<gossip::transport::udp_address>;
    using payload = gossip::payload::combined<swim, log_payload>;
    using attacker_node = gossip::gossip_node<gossip::transport::udp, gossip::peer_selection::random,
                                              gossip::view_selection::frozen, gossip::propagation::push_pull, payload>;
    gossip::config cfg;
    cfg.period = 50ms;
    gossip::payload::anti_entropy_options log;
    log.rumors = true;
    log.every = 1;
    struct slot {
        std::unique_ptr<attacker_node> node;
        std::unique_ptr<gossip::node_driver<attacker_node>> driver;
    };
    std::vector<slot> attacker(1);
    attacker[0].node =
        std::make_unique<attacker_node>(gossip::transport::udp(gossip::transport::udp_address::loopback_v4(0)), cfg, 5,
                                        gossip::peer_selection::random{}, gossip::view_selection::frozen{},
                                        payload(swim(gossip::payload::swim_options::local()), log_payload(log)));
    for (int i = 0; i < 5000; ++i) {
        attacker[0].node->payload().second().put("forged#" + std::to_string(i), "x");
    }
    const auto seed = gossip::transport::udp_address::resolve(a_address);
    attacker[0].node->join(std::span(&seed, 1));
    attacker[0].driver = std::make_unique<gossip::node_driver<attacker_node>>(*attacker[0].node);

    std::uint64_t refused = 0;
    auto next_ask = std::chrono::steady_clock::now();
    const bool refusing = test::drive_until(
        attacker,
        [&] {
            if (std::chrono::steady_clock::now() < next_ask) {
                return false;
            }
            next_ask = std::chrono::steady_clock::now() + 500ms;
            refused = a.stat("log_refused", 2s).value_or(0);
            return refused > 1000;
        },
        30s, 50ms);
    CHECK(refusing);
    const auto held = a.stat("log");
    REQUIRE(held.has_value());
    CHECK(*held == 200);
    MESSAGE("held ", *held, " forged entries, refused ", refused);
    CHECK(a.stop(5s) == 0);
}

TEST_CASE("agent: --help prints the usage on stdout and exits 0")
{
    agent_process a(agent_program, {"--help"});
    CHECK(a.wait_for("usage: gossip_agent", 10s).has_value());
    CHECK(a.wait_for("--rate-limit", 10s).has_value());
    CHECK(a.wait_exit(10s) == 0);
}

TEST_CASE("agent: a command line that cannot run exits 2, naming the option")
{
    agent_process a(agent_program, {"--bind", "127.0.0.1:0", "--view", "-1"});
    CHECK(a.wait_for("gossip_agent: --view: '-1' is not a whole number", 10s).has_value());
    CHECK(a.wait_exit(10s) == 2);
}

TEST_CASE("agent: every line is stamped with the time, unless --no-timestamps")
{
    agent_process stamped(agent_program, {"--bind", "127.0.0.1:0", "--exit-on-eof"});
    REQUIRE(stamped.wait_for("ready ", 10s));
    stamped.say("/members");
    REQUIRE(stamped.wait_for("members ", 10s));
    CHECK(stamped.stamped() == stamped.lines().size());
    agent_process plain(agent_program, {"--bind", "127.0.0.1:0", "--exit-on-eof", "--no-timestamps"});
    REQUIRE(plain.wait_for("ready ", 10s));
    CHECK(plain.stamped() == 0);
}

TEST_CASE("agent: a join that nobody answers says so, and the agent keeps trying")
{
    gossip::transport::udp silent(gossip::transport::udp_address::loopback_v4(0)); // never answers
    const auto seed = silent.local_address().to_string();
    agent_process a(agent_program, {"--bind", "127.0.0.1:0", "--join", seed, "--exit-on-eof"});
    REQUIRE(a.wait_for("ready ", 10s));
    CHECK(a.wait_for("join: no answer from " + seed + " within 3 s; still trying", 10s).has_value());
    CHECK(a.stop(5s) == 0);
}
