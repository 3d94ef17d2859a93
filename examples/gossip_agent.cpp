// One gossip node as a process: membership with failure detection (SWIM with Lifeguard, or the
// older heartbeat table), and a replicated log of broadcasts, over UDP.
//
//   gossip_agent --bind 127.0.0.1:7001 --join 127.0.0.1:7000 [--membership swim|heartbeat]
//                [--strategy push_pull] [--period 200] [--id 0x2a]
//
// Membership. By default it is SWIM (payload::swim): each member probes one other every probe
// interval, suspects what does not answer, and declares failed what stays suspected for the
// suspicion timeout; members are stable 64-bit ids (--id keeps one across restarts; without it
// every start draws a new one) at an address and an incarnation. The node's view is exactly the
// SWIM-fed sample of live members (view_selection::frozen: SWIM adds members that come up and
// removes failed ones). `--membership heartbeat` runs the heartbeat table (payload::membership)
// over a healer view instead, as earlier versions did.
//
// Every line read on stdin is broadcast (a rumor, backed by anti-entropy, so that a node that
// was down catches up on what it missed). Lines starting with '/' are commands: /members,
// /stats, /leave, and with SWIM /meta TEXT (this member's metadata; others report "updated").
// Everything the node sees is printed on stdout, one event per line:
//
//   ready 127.0.0.1:7001 strategy=push_pull membership=swim id=0x5d1e...
//   member joined 127.0.0.1:7000 id=0x93a0... incarnation=0
//   deliver 127.0.0.1:7000#3 hello            (origin#sequence, then the text)
//   member suspected 127.0.0.1:7005 id=0x11f2... incarnation=0
//   member failed 127.0.0.1:7005 id=0x11f2... incarnation=0
//
// SWIM reports joined, suspected, alive (a suspicion refuted), failed, left and updated
// (metadata or address changed); the heartbeat table reports joined, failed, left, recovered and
// restarted, without ids. Output goes through a bounded queue to a thread of its own, so that a
// slow reader of stdout cannot stall the gossip (past the bound, the oldest lines are dropped
// and counted on stderr).
//
// SIGINT or SIGTERM (or /leave, or the end of stdin with --exit-on-eof) stops it cleanly: it
// announces its leave, and the others report "member left" rather than "failed".
//
// Sealing (transport::sealed). With --key-file FILE, every datagram is sealed with
// ChaCha20-Poly1305 under the cluster's keys, and forged, replayed or foreign ones are refused.
// The file holds one key a line, "ID HEX" (an id from 0 to 255, 64 hex digits); the first
// listed seals, all are accepted. SIGHUP reloads it on the running agent: listed keys are
// installed, the first becomes primary, unlisted ones are removed. That is a rotation without
// downtime: list the new key second everywhere, then first everywhere, then alone. --label TEXT
// names the cluster (authenticated, never sent). --seal plain|sealed|require is the upgrade stage
// (require by default with a key file; without one, plaintext). Commands: /key install ID HEX,
// /key use ID, /key remove ID, /seal STAGE; /stats counts what was opened and refused.
// --max-log N (100,000 by default) bounds the log entries taken from peers; past it, entries
// for new keys are refused and counted (log_refused in /stats).
//
// The transport is compressed<sealed<rate_limited<udp>>>. --compress sends datagrams compressed
// when that makes them smaller; every agent reads compressed datagrams whether or not it sends
// them, so a cluster can turn it on agent by agent. --rate-limit B drops what arrives past B
// bytes a second, before any cryptography (after a quiet spell a burst of a quarter second's
// worth, or of 64 KiB if that is more, goes through); --send-limit B does the same to what leaves. /stats shows the compression ratio and the drops.

#include "agent_options.hpp"

#include <gossip/gossip.hpp>
#include <gossip/payload/combined.hpp>
#include <gossip/payload/swim.hpp>
#include <gossip/runtime/mailbox.hpp>
#include <gossip/runtime/run_loop.hpp>
#include <gossip/transport/compressed.hpp>
#include <gossip/transport/rate_limited.hpp>
#include <gossip/transport/sealed.hpp>
#include <gossip/transport/udp.hpp>

#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cinttypes>
#include <csignal>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <exception>
#include <fstream>
#include <functional>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

namespace {

using namespace std::chrono_literals;
using gossip::transport::udp;
using gossip::transport::udp_address;
using sealed_udp = gossip::transport::sealed<gossip::transport::rate_limited<udp>>;
using agent_transport = gossip::transport::compressed<sealed_udp>;
using log_store = gossip::payload::lww_map<std::string, std::string>;
using log_payload = gossip::payload::anti_entropy<log_store>;
using agent::options;
using agent::detail::to_bytes;

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

std::string hex_id(std::uint64_t id)
{
    char text[24];
    std::snprintf(text, sizeof text, "0x%016" PRIx64, id);
    return text;
}

std::string to_text(std::span<const std::byte> bytes)
{
    std::string out(bytes.size(), '\0');
    for (std::size_t i = 0; i < bytes.size(); ++i) {
        out[i] = static_cast<char>(bytes[i]);
    }
    return out;
}

gossip::transport::sealing_stage stage_of(const std::string& name)
{
    if (name == "plain") {
        return gossip::transport::sealing_stage::send_plain;
    }
    if (name == "sealed") {
        return gossip::transport::sealing_stage::send_sealed;
    }
    if (name == "require") {
        return gossip::transport::sealing_stage::require_sealed;
    }
    throw std::invalid_argument("a stage is plain, sealed or require, not '" + name + "'");
}

// "ID HEX": a key id from 0 to 255 and 64 hex digits.
gossip::transport::sealing_key parse_key(const std::string& id, const std::string& hex)
{
    gossip::transport::sealing_key key;
    std::size_t used = 0;
    const auto number = std::stoul(id, &used);
    if (used != id.size() || number > 255) {
        throw std::invalid_argument("a key id is a number from 0 to 255, not '" + id + "'");
    }
    if (hex.size() != 2 * key.bytes.size() || hex.find_first_not_of("0123456789abcdefABCDEF") != std::string::npos) {
        throw std::invalid_argument("key " + id + ": expected 64 hex digits");
    }
    key.id = static_cast<std::uint8_t>(number);
    for (std::size_t i = 0; i < key.bytes.size(); ++i) {
        key.bytes[i] = static_cast<std::byte>(std::stoul(hex.substr(2 * i, 2), nullptr, 16));
    }
    return key;
}

// The keys of a key file, in order: the first seals. Blank lines and '#' comments are skipped.
std::vector<gossip::transport::sealing_key> read_key_file(const std::string& path)
{
    std::ifstream in(path);
    if (!in) {
        throw std::runtime_error("cannot read the key file " + path);
    }
    std::vector<gossip::transport::sealing_key> keys;
    std::string line;
    for (int number = 1; std::getline(in, line); ++number) {
        const auto words = split(line, ' ');
        if (words.empty() || words[0].empty() || words[0][0] == '#') {
            continue;
        }
        if (words.size() != 2) {
            throw std::runtime_error(path + ":" + std::to_string(number) + ": expected \"ID HEX\"");
        }
        try {
            keys.push_back(parse_key(words[0], words[1]));
        } catch (const std::exception& e) {
            throw std::runtime_error(path + ":" + std::to_string(number) + ": " + e.what());
        }
    }
    if (keys.empty()) {
        throw std::runtime_error("the key file " + path + " holds no key");
    }
    return keys;
}

// Makes the keyring what the file lists: each installed, the first primary, the rest removed.
std::string apply_keys(gossip::transport::keyring& ring, const std::vector<gossip::transport::sealing_key>& keys)
{
    for (const auto& k : keys) {
        ring.install(k);
    }
    ring.use(keys.front().id);
    for (int id = 0; id < 256; ++id) {
        const auto listed = std::any_of(keys.begin(), keys.end(), [&](const auto& k) { return k.id == id; });
        if (!listed && ring.contains(static_cast<std::uint8_t>(id))) {
            ring.remove(static_cast<std::uint8_t>(id));
        }
    }
    std::string ids;
    for (const auto& k : keys) {
        if (!ids.empty()) {
            ids += ',';
        }
        ids += std::to_string(k.id);
    }
    return "primary=" + std::to_string(keys.front().id) + " keys=" + ids;
}

// stdout, written by a thread of its own: the gossip thread only queues lines (a short lock),
// so that a reader that does not keep up costs lost lines, never a stalled node. Lines keep the
// order they were queued in, whatever thread queued them.
class printer {
public:
    explicit printer(bool timestamps) : timestamps_(timestamps), thread_([this] { run(); }) {}
    printer(const printer&) = delete;
    printer& operator=(const printer&) = delete;
    ~printer() { finish(); }

    /// Queues a line, stamped with the time it was said (UTC, to the millisecond) unless
    /// timestamps are off; never waits for the terminal.
    void say(std::string line) { lines_.push(timestamps_ ? stamp() + line : std::move(line)); }

    /// Prints what is queued, then stops the thread.
    void finish()
    {
        if (!thread_.joinable()) {
            return;
        }
        done_.store(true);
        lines_.close();
        thread_.join();
    }

private:
    static std::string stamp()
    {
        const auto now = std::chrono::system_clock::now();
        const auto seconds = std::chrono::system_clock::to_time_t(now);
        const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
        std::tm utc{};
        ::gmtime_r(&seconds, &utc);
        char text[40];
        const auto n = std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S", &utc);
        std::snprintf(text + n, sizeof text - n, ".%03uZ ", static_cast<unsigned>(ms) % 1000U);
        return text;
    }

    void run()
    {
        std::uint64_t reported = 0;
        for (;;) {
            auto line = lines_.pop_for(100ms);
            if (!line) {
                if (done_.load()) {
                    return;
                }
                continue;
            }
            if (const auto lost = lines_.dropped(); lost > reported) {
                std::fprintf(stderr, "gossip_agent: stdout is slow: %" PRIu64 " lines dropped\n", lost - reported);
                reported = lost;
            }
            std::fwrite(line->data(), 1, line->size(), stdout);
            std::fputc('\n', stdout);
            std::fflush(stdout);
        }
    }

    gossip::mailbox<std::string> lines_{4096};
    std::atomic<bool> done_{false};
    bool timestamps_;
    std::thread thread_; // last: it starts in the constructor and reads the members above
};

// SIGINT and SIGTERM are blocked in every thread and taken by one that waits for them, so that
// stopping is ordinary code rather than a signal handler's. SIGUSR1 releases that thread at exit.
sigset_t stop_signals()
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGUSR1);
    sigaddset(&set, SIGHUP); // reloads the key file
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

// What differs between the two memberships: the payload, the view it goes with, and what is
// printed of it.

struct heartbeat_flavor {
    using membership_type = gossip::payload::membership<udp_address>;
    using view_selection = gossip::view_selection::healer;
    static constexpr const char* name = "heartbeat";
    // Views forget the other side of a long partition: every 25 periods each agent also talks to
    // a seed it does not hold, so that the cluster re-merges once the network heals.
    static constexpr std::size_t seed_refresh = 25;

    static membership_type make(const options& o, std::uint64_t generation)
    {
        gossip::payload::membership_options members;
        members.t_fail = o.t_fail;
        members.t_cleanup = 2 * o.t_fail;
        members.generation = generation;
        return membership_type(members);
    }

    static void hook(membership_type& m, printer& out)
    {
        m.on_event([&out](const membership_type::event_type& e) {
            out.say(std::string("member ") + gossip::payload::to_string(e.kind) + " " + e.address.to_string());
        });
    }

    static std::string identity(const membership_type& /*m*/) { return ""; }

    static void list(const membership_type& m, printer& out)
    {
        out.say("members " + m.self().to_string() + " " + (m.has_left() ? "left" : "alive") +
                " heartbeat=" + std::to_string(m.heartbeat()) + " self");
        for (const auto& r : m.members()) {
            out.say("members " + r.address.to_string() + " " + gossip::payload::to_string(r.status) +
                    " heartbeat=" + std::to_string(r.heartbeat));
        }
    }

    static std::string stats(const membership_type& m) { return " alive=" + std::to_string(m.alive_count()); }

    static bool command(membership_type& /*m*/, const std::string& /*text*/, printer& /*out*/) { return false; }
};

struct swim_flavor {
    using membership_type = gossip::payload::swim<udp_address>;
    using view_selection = gossip::view_selection::frozen;
    static constexpr const char* name = "swim";
    static constexpr std::size_t seed_refresh = 0; // SWIM syncs with failed members to re-merge

    static membership_type make(const options& o, std::uint64_t /*generation*/) { return membership_type(o.swim); }

    static void hook(membership_type& m, printer& out)
    {
        // Runs on the loop thread, inside the payload: it only formats a line and queues it.
        m.on_event([&out](const membership_type::event_type& e) {
            out.say(std::string("member ") + gossip::payload::to_string(e.kind) + " " + e.address.to_string() +
                    " id=" + hex_id(e.id) + " incarnation=" + std::to_string(e.incarnation));
        });
    }

    static std::string identity(const membership_type& m) { return " id=" + hex_id(m.id()); }

    static void list(const membership_type& m, printer& out)
    {
        for (const auto& r : m.members()) {
            std::string line = "members " + r.address.to_string() + " " + gossip::payload::to_string(r.state) +
                               " id=" + hex_id(r.id) + " incarnation=" + std::to_string(r.incarnation);
            if (!r.metadata.empty()) {
                line += " meta=" + to_text(r.metadata);
            }
            if (r.self) {
                line += " self";
            }
            out.say(std::move(line));
        }
    }

    static std::string stats(const membership_type& m)
    {
        const auto& s = m.statistics();
        return " alive=" + std::to_string(m.alive_count()) + " members=" + std::to_string(m.size()) +
               " incarnation=" + std::to_string(m.incarnation()) + " health=" + std::to_string(m.health()) +
               " probes=" + std::to_string(s.probes) + " probes_failed=" + std::to_string(s.probes_failed) +
               " suspected=" + std::to_string(s.suspected) + " false_suspicions=" + std::to_string(s.false_suspicions) +
               " failures=" + std::to_string(s.failures) + " refutations=" + std::to_string(s.refutations);
    }

    static bool command(membership_type& m, const std::string& text, printer& out)
    {
        constexpr std::string_view meta = "/meta ";
        if (text.rfind(meta, 0) != 0) {
            return false;
        }
        try {
            m.set_metadata(to_bytes(std::string_view(text).substr(meta.size())));
            out.say("meta " + text.substr(meta.size()));
        } catch (const std::exception& e) {
            out.say(std::string("error ") + e.what());
        }
        return true;
    }
};

// The log, holding at most `most` entries from peers (what a flood can make it hold).
log_store bounded_log(std::size_t most)
{
    log_store store;
    store.set_max_entries(most);
    return store;
}

// /key install ID HEX, /key use ID, /key remove ID, /seal plain|sealed|require.
std::string sealing_command(sealed_udp& t, const std::string& text)
{
    const auto words = split(text, ' ');
    if (words[0] == "/seal" && words.size() == 2) {
        t.set_stage(stage_of(words[1]));
        return "seal " + words[1];
    }
    if (words[0] == "/key" && words.size() == 4 && words[1] == "install") {
        t.keys().install(parse_key(words[2], words[3]));
        return "key installed " + words[2];
    }
    if (words[0] == "/key" && words.size() == 3 && (words[1] == "use" || words[1] == "remove")) {
        const auto id = parse_key(words[2], std::string(64, '0')).id;
        if (words[1] == "use") {
            t.keys().use(id);
            return "key primary " + words[2];
        }
        t.keys().remove(id);
        return "key removed " + words[2];
    }
    throw std::invalid_argument("usage: /key install ID HEX, /key use ID, /key remove ID, /seal plain|sealed|require");
}

template <class Propagation, class Flavor>
int run(const options& o)
{
    using membership_type = typename Flavor::membership_type;
    using agent_payload = gossip::payload::combined<membership_type, log_payload>;
    using view_selection = typename Flavor::view_selection;
    using node_type = gossip::gossip_node<agent_transport, gossip::peer_selection::random, view_selection, Propagation,
                                          agent_payload>;
    gossip::config cfg;
    cfg.view_size = o.view_size;
    cfg.fanout = o.fanout;
    cfg.period = o.period;
    cfg.max_message_bytes = o.max_bytes;
    cfg.seed_refresh = Flavor::seed_refresh;

    const std::uint64_t generation = wall_clock_ns();
    gossip::payload::anti_entropy_options log;
    log.rumors = true; // a broadcast spreads at once, and sessions repair what rumors missed
    log.every = 2;

    printer out(o.timestamps);
    gossip::transport::keyring ring;
    std::string key_summary = "none";
    if (!o.key_file.empty()) {
        key_summary = apply_keys(ring, read_key_file(o.key_file));
    }
    gossip::transport::sealed_options sealing;
    sealing.label = o.label;
    sealing.stage = stage_of(o.seal);
    gossip::transport::rate_limit_options limits;
    limits.receive_bytes_per_second = o.rate_limit;
    limits.receive_burst_bytes = std::max<std::uint64_t>(o.rate_limit / 4, 65'536);
    limits.send_bytes_per_second = o.send_limit;
    limits.send_burst_bytes = std::max<std::uint64_t>(o.send_limit / 4, 65'536);
    gossip::transport::compression_options compression;
    compression.send_compressed = o.compress;
    compression.max_decompressed_bytes = o.max_bytes;
    agent_transport socket(sealed_udp(gossip::transport::rate_limited<udp>(udp(o.bind), limits), std::move(ring),
                                      sealing),
                           compression);
    const udp_address self = socket.local_address();
    const std::string self_text = self.to_string();
    node_type node(std::move(socket), cfg, generation ^ std::hash<udp_address>{}(self),
                   gossip::peer_selection::random{}, view_selection{},
                   agent_payload(Flavor::make(o, generation), log_payload(log, bounded_log(o.max_log))));
    Flavor::hook(node.payload().first(), out);
    node.payload().second().on_change([&out](const log_store::entry_type& e) {
        if (e.value) {
            out.say("deliver " + e.key + " " + *e.value);
        }
    });

    gossip::run_loop<node_type> loop(node);
    const sigset_t signals = stop_signals();
    std::thread signal_waiter([&] {
        int received = 0;
        while (::sigwait(&signals, &received) == 0) {
            if (received == SIGHUP) { // reload the keys, on the loop's thread
                loop.post([&](node_type& n) {
                    try {
                        if (o.key_file.empty()) {
                            throw std::runtime_error("no --key-file to reload");
                        }
                        out.say("keys reloaded " + apply_keys(n.transport().inner().keys(), read_key_file(o.key_file)));
                    } catch (const std::exception& e) {
                        out.say(std::string("error ") + e.what());
                    }
                });
                continue;
            }
            if (received != SIGUSR1) {
                loop.stop();
            }
            return;
        }
    });

    std::uint64_t sequence = 0;
    std::atomic<bool> stop_reading{false};
    std::thread reader(
        read_lines, std::cref(stop_reading),
        [&](std::string text) {
            // Runs on the reader thread: everything that touches the node is posted.
            loop.post([&, text = std::move(text)](node_type& n) {
                auto& members = n.payload().first();
                if (text == "/leave") {
                    loop.stop();
                } else if (text == "/members") {
                    Flavor::list(members, out);
                } else if (text == "/stats") {
                    const auto& s = n.statistics();
                    const auto& zip = n.transport().statistics();
                    const auto& seal = n.transport().inner().statistics();
                    const auto& rate = n.transport().inner().inner().statistics();
                    const auto& t = n.transport().inner().inner().inner().statistics();
                    char ratio[16];
                    std::snprintf(ratio, sizeof ratio, "%.3f", zip.ratio());
                    out.say(
                        "stats sent=" + std::to_string(s.messages_sent) + " accepted=" + std::to_string(s.accepted) +
                        " malformed=" + std::to_string(s.dropped_malformed) + " unexpected=" +
                        std::to_string(s.dropped_unexpected) + " oversized=" + std::to_string(t.dropped_oversized) +
                        " send_errors=" + std::to_string(t.send_errors) +
                        " sealed_sent=" + std::to_string(seal.sealed_sent) + " opened=" + std::to_string(seal.opened) +
                        " plain_accepted=" + std::to_string(seal.plain_accepted) + " refused=" +
                        std::to_string(seal.refused()) + " compressed_sent=" + std::to_string(zip.compressed_sent) +
                        " ratio=" + ratio + " expand_refused=" + std::to_string(zip.refused()) +
                        " rate_dropped_in=" + std::to_string(rate.receive_dropped) +
                        " rate_dropped_out=" + std::to_string(rate.send_dropped) + Flavor::stats(members) +
                        " view=" + std::to_string(n.view().size()) +
                        " log=" + std::to_string(n.payload().second().store().size()) + " log_refused=" +
                        std::to_string(n.payload().second().store().refused_full() +
                                       n.payload().second().store().refused_clock()));
                } else if (text.rfind("/key ", 0) == 0 || text.rfind("/seal ", 0) == 0) {
                    try {
                        out.say(sealing_command(n.transport().inner(), text));
                    } catch (const std::exception& e) {
                        out.say(std::string("error ") + e.what());
                    }
                } else if (!text.empty() && !Flavor::command(members, text, out)) {
                    const std::string key = self_text + "#" + std::to_string(++sequence);
                    n.payload().second().put(key, text);
                    out.say("deliver " + key + " " + text);
                }
            });
        },
        [&] {
            if (o.exit_on_eof) {
                loop.stop();
            }
        });

    out.say("ready " + self_text + " strategy=" + o.strategy + " membership=" + Flavor::name +
            Flavor::identity(node.payload().first()) + " seal=" + o.seal + " " + key_summary);
    node.join(o.join);
    node.transport().flush(); // what SWIM sent the seeds leaves now, not at the first timer
    // A join that nobody answers says so (the node keeps trying): checked once, after 3 s.
    std::thread join_watch([&] {
        for (int i = 0; i < 30 && !o.join.empty() && !stop_reading.load(); ++i) {
            std::this_thread::sleep_for(100ms);
        }
        if (o.join.empty() || stop_reading.load()) {
            return;
        }
        loop.post([&](node_type& n) {
            if (n.payload().first().alive_count() == 0) {
                std::string seeds;
                for (const auto& a : o.join) {
                    if (!seeds.empty()) {
                        seeds += ',';
                    }
                    seeds += a.to_string();
                }
                out.say("join: no answer from " + seeds + " within 3 s; still trying");
            }
        });
    });
    loop.run();
    stop_reading.store(true);
    join_watch.join();
    reader.join();
    ::pthread_kill(signal_waiter.native_handle(), SIGUSR1);
    signal_waiter.join();
    out.say("left " + self_text);
    out.finish();
    return 0;
}

template <class Flavor>
int run_with(const options& o)
{
    if (o.strategy == "push") {
        return run<gossip::propagation::push, Flavor>(o);
    }
    if (o.strategy == "pull") {
        return run<gossip::propagation::pull, Flavor>(o);
    }
    return run<gossip::propagation::push_pull, Flavor>(o);
}

} // namespace

int main(int argc, char** argv)
{
    options o;
    try {
        const std::vector<std::string_view> args(argv + 1, argv + argc);
        const auto parsed = agent::parse(args);
        if (parsed.help) {
            std::fputs(agent::usage_text().c_str(), stdout);
            return 0;
        }
        o = parsed.values;
    } catch (const agent::usage_error& e) {
        std::fprintf(stderr, "gossip_agent: %s\n", e.what());
        return 2;
    }
    const sigset_t signals = stop_signals();
    ::pthread_sigmask(SIG_BLOCK, &signals, nullptr); // before any thread starts: they inherit it
    try {
        if (o.membership == "heartbeat") {
            return run_with<heartbeat_flavor>(o);
        }
        return run_with<swim_flavor>(o);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "gossip_agent: %s\n", e.what());
        return 1;
    }
}
