// One gossip node as a process: peer sampling, membership with failure detection, and a
// replicated log of broadcasts, over UDP.
//
//   gossip_agent --bind 127.0.0.1:7001 --join 127.0.0.1:7000 [--strategy push_pull] [--period 200]
//
// Every line read on stdin is broadcast (a rumor, backed by anti-entropy, so that a node that
// was down catches up on what it missed). Lines starting with '/' are commands: /members,
// /stats, /leave. Everything the node sees is printed on stdout, one event per line:
//
//   ready 127.0.0.1:7001
//   member joined 127.0.0.1:7000
//   deliver 127.0.0.1:7000#3 hello            (origin#sequence, then the text)
//   member failed 127.0.0.1:7005
//
// SIGINT or SIGTERM (or /leave, or the end of stdin with --exit-on-eof) stops it cleanly: it
// announces its leave, and the others report "member left" rather than "failed".

#include <gossip/gossip.hpp>
#include <gossip/payload/combined.hpp>
#include <gossip/runtime/mailbox.hpp>
#include <gossip/runtime/run_loop.hpp>
#include <gossip/transport/udp.hpp>

#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <functional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace {

using gossip::transport::udp;
using gossip::transport::udp_address;
using log_store = gossip::payload::lww_map<std::string, std::string>;
using log_payload = gossip::payload::anti_entropy<log_store>;
using membership = gossip::payload::membership<udp_address>;
using agent_payload = gossip::payload::combined<membership, log_payload>;

struct options {
    udp_address bind;
    std::vector<udp_address> join;
    std::string strategy = "push_pull";
    std::chrono::milliseconds period{200};
    std::size_t fanout = 2;
    std::size_t view_size = 20;
    std::chrono::milliseconds t_fail{0}; // 0: 15 periods
    std::size_t max_bytes = 1400;
    bool exit_on_eof = false;
};

[[noreturn]] void usage(const std::string& problem)
{
    std::fprintf(stderr,
                 "%s\nusage: gossip_agent --bind HOST:PORT [--join HOST:PORT,...] [--strategy push|pull|push_pull]\n"
                 "                    [--period MS] [--fanout N] [--view C] [--t-fail MS] [--max-bytes B]\n"
                 "                    [--exit-on-eof]\n",
                 problem.c_str());
    std::exit(2);
}

std::vector<std::string> split(std::string_view s, char by)
{
    std::vector<std::string> out;
    while (!s.empty()) {
        const auto at = s.find(by);
        out.emplace_back(s.substr(0, at));
        if (at == std::string_view::npos) {
            break;
        }
        s.remove_prefix(at + 1);
    }
    return out;
}

options parse(int argc, char** argv)
{
    options o;
    bool bound = false;
    for (int i = 1; i < argc; ++i) {
        const std::string flag = argv[i];
        if (flag == "--exit-on-eof") {
            o.exit_on_eof = true;
            continue;
        }
        if (i + 1 >= argc) {
            usage("missing value after " + flag);
        }
        const std::string value = argv[++i];
        try {
            if (flag == "--bind") {
                o.bind = udp_address::resolve(value);
                bound = true;
            } else if (flag == "--join") {
                for (const auto& a : split(value, ',')) {
                    o.join.push_back(udp_address::resolve(a));
                }
            } else if (flag == "--strategy") {
                o.strategy = value;
            } else if (flag == "--period") {
                o.period = std::chrono::milliseconds(std::stol(value));
            } else if (flag == "--fanout") {
                o.fanout = std::stoul(value);
            } else if (flag == "--view") {
                o.view_size = std::stoul(value);
            } else if (flag == "--t-fail") {
                o.t_fail = std::chrono::milliseconds(std::stol(value));
            } else if (flag == "--max-bytes") {
                o.max_bytes = std::stoul(value);
            } else {
                usage("unknown option " + flag);
            }
        } catch (const std::exception& e) {
            usage(flag + ": " + e.what());
        }
    }
    if (!bound) {
        usage("--bind is required");
    }
    if (o.strategy != "push" && o.strategy != "pull" && o.strategy != "push_pull") {
        usage("--strategy must be push, pull or push_pull");
    }
    if (o.t_fail.count() == 0) {
        o.t_fail = 15 * o.period;
    }
    return o;
}

// One line at a time, whole, whatever other threads print.
void say(const std::string& line)
{
    std::fwrite(line.data(), 1, line.size(), stdout);
    std::fputc('\n', stdout);
    std::fflush(stdout);
}

// SIGINT and SIGTERM are blocked in every thread and taken by one that waits for them, so that
// stopping is ordinary code rather than a signal handler's. SIGUSR1 releases that thread at exit.
sigset_t stop_signals()
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGUSR1);
    return set;
}

std::uint64_t wall_clock_ns()
{
    return static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
            .count());
}

// Lines from stdin, handed to `line` until stop is set or stdin ends. poll() with a timeout, so
// that the thread notices a stop without needing stdin to close.
void read_lines(const std::atomic<bool>& stop, const std::function<void(std::string)>& line,
                const std::function<void()>& at_eof)
{
    std::string pending;
    char buffer[4096];
    while (!stop.load()) {
        pollfd in{STDIN_FILENO, POLLIN, 0};
        if (::poll(&in, 1, 100) <= 0) {
            continue;
        }
        const auto n = ::read(STDIN_FILENO, buffer, sizeof buffer);
        if (n <= 0) {
            if (!pending.empty()) {
                line(std::move(pending));
            }
            at_eof();
            return;
        }
        pending.append(buffer, static_cast<std::size_t>(n));
        for (auto at = pending.find('\n'); at != std::string::npos; at = pending.find('\n')) {
            line(pending.substr(0, at));
            pending.erase(0, at + 1);
        }
    }
}

template <class Propagation>
int run(const options& o)
{
    using node_type = gossip::gossip_node<udp, gossip::peer_selection::random, gossip::view_selection::healer,
                                          Propagation, agent_payload>;
    gossip::config cfg;
    cfg.view_size = o.view_size;
    cfg.fanout = o.fanout;
    cfg.period = o.period;
    cfg.max_message_bytes = o.max_bytes;

    const std::uint64_t generation = wall_clock_ns();
    gossip::payload::membership_options members;
    members.t_fail = o.t_fail;
    members.t_cleanup = 2 * o.t_fail;
    members.generation = generation;
    gossip::payload::anti_entropy_options log;
    log.rumors = true; // a broadcast spreads at once, and sessions repair what rumors missed
    log.every = 2;

    udp socket(o.bind);
    const udp_address self = socket.local_address();
    const std::string self_text = self.to_string();
    node_type node(std::move(socket), cfg, generation ^ std::hash<udp_address>{}(self),
                   gossip::peer_selection::random{}, gossip::view_selection::healer{},
                   agent_payload(membership(members), log_payload(log)));
    node.join(o.join);
    node.payload().first().on_event([](const membership::event_type& e) {
        say(std::string("member ") + gossip::payload::to_string(e.kind) + " " + e.address.to_string());
    });
    node.payload().second().on_change([](const log_store::entry_type& e) {
        if (e.value) {
            say("deliver " + e.key + " " + *e.value);
        }
    });

    gossip::run_loop<node_type> loop(node);
    const sigset_t signals = stop_signals();
    std::thread signal_waiter([&] {
        int received = 0;
        if (::sigwait(&signals, &received) == 0 && received != SIGUSR1) {
            loop.stop();
        }
    });

    std::uint64_t sequence = 0;
    std::atomic<bool> stop_reading{false};
    std::thread reader(
        read_lines, std::cref(stop_reading),
        [&](std::string text) {
            // Runs on the reader thread: everything that touches the node is posted.
            loop.post([&, text = std::move(text)](node_type& n) {
                if (text == "/leave") {
                    loop.stop();
                } else if (text == "/members") {
                    for (const auto& m : n.payload().first().members()) {
                        say("members " + m.address.to_string() + " " + gossip::payload::to_string(m.status) +
                            " heartbeat=" + std::to_string(m.heartbeat));
                    }
                } else if (text == "/stats") {
                    const auto& s = n.statistics();
                    const auto& t = n.transport().statistics();
                    say("stats sent=" + std::to_string(s.messages_sent) + " accepted=" + std::to_string(s.accepted) +
                        " malformed=" + std::to_string(s.dropped_malformed) + " unexpected=" +
                        std::to_string(s.dropped_unexpected) + " oversized=" + std::to_string(t.dropped_oversized) +
                        " send_errors=" + std::to_string(t.send_errors) +
                        " alive=" + std::to_string(n.payload().first().alive_count()) +
                        " log=" + std::to_string(n.payload().second().store().size()));
                } else if (!text.empty()) {
                    const std::string key = self_text + "#" + std::to_string(++sequence);
                    n.payload().second().put(key, text);
                    say("deliver " + key + " " + text);
                }
            });
        },
        [&] {
            if (o.exit_on_eof) {
                loop.stop();
            }
        });

    say("ready " + self_text + " strategy=" + o.strategy);
    loop.run();
    stop_reading.store(true);
    reader.join();
    ::pthread_kill(signal_waiter.native_handle(), SIGUSR1);
    signal_waiter.join();
    say("left " + self_text);
    return 0;
}

} // namespace

int main(int argc, char** argv)
{
    const options o = parse(argc, argv);
    const sigset_t signals = stop_signals();
    ::pthread_sigmask(SIG_BLOCK, &signals, nullptr); // before any thread starts: they inherit it
    try {
        if (o.strategy == "push") {
            return run<gossip::propagation::push>(o);
        }
        if (o.strategy == "pull") {
            return run<gossip::propagation::pull>(o);
        }
        return run<gossip::propagation::push_pull>(o);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "gossip_agent: %s\n", e.what());
        return 1;
    }
}
