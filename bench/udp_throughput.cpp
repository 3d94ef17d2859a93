// How many gossip datagrams a node receives and answers per second over loopback UDP, beside
// what the kernel alone delivers in the same run, how many it receives and processes when it
// answers none, and what encoding and decoding a full message costs.
//
// The node is the composition of examples/gossip_agent.cpp: gossip_node<udp, random, healer,
// push_pull, combined<membership<udp_address>, anti_entropy<lww_map<string, string>>>>. The
// requests it receives were written by a second node of that composition: real requests, with
// a view sample, a membership section and an anti-entropy section with rumors. The node that
// answers none is the same composition with push instead of push_pull, fed by a writer of its
// own composition whose anti-entropy sessions and rumors are off.
//
// Each timed iteration drains a receive buffer filled beforehand (untimed) by a plain sender
// socket, so that only the draining is timed, whatever else the machine is doing meanwhile.
//
// See README.md next to this file for what each figure means, how to build and run, and the
// figures measured.

#include "cpu_time.hpp"
#include "timing.hpp"

#include <gossip/gossip.hpp>
#include <gossip/payload/combined.hpp>
#include <gossip/runtime/node_driver.hpp>
#include <gossip/transport/udp.hpp>

#include <benchmark/benchmark.h>

#include <netinet/in.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <exception>
#include <fstream>
#include <limits>
#include <memory>
#include <new>
#include <numeric>
#include <optional>
#include <span>
#include <sstream>
#include <stdexcept>
#include <string>
#include <system_error>
#include <type_traits>
#include <utility>
#include <vector>

// Every allocation through operator new is counted, so that the drains can report how many a
// datagram costs (the transport promises none once its buffers have grown).
namespace {
std::uint64_t allocations = 0;
} // namespace

// Kept out of line: GCC would otherwise see free() meet a pointer from operator new where they
// are inlined together (-Wmismatched-new-delete), which is fine here, as both are ours.
[[gnu::noinline]] void* operator new(std::size_t size)
{
    ++allocations;
    if (void* p = std::malloc(size != 0 ? size : 1)) {
        return p;
    }
    throw std::bad_alloc();
}
[[gnu::noinline]] void operator delete(void* p) noexcept { std::free(p); }
[[gnu::noinline]] void operator delete(void* p, std::size_t /*size*/) noexcept { std::free(p); }

namespace {

using gossip::transport::udp;
using gossip::transport::udp_address;
using log_store = gossip::payload::lww_map<std::string, std::string>;
using log_payload = gossip::payload::anti_entropy<log_store>;
using membership = gossip::payload::membership<udp_address>;
using membership_statistics = gossip::payload::membership_statistics;
using agent_payload = gossip::payload::combined<membership, log_payload>;
using agent_node = gossip::gossip_node<udp, gossip::peer_selection::random, gossip::view_selection::healer,
                                       gossip::propagation::push_pull, agent_payload>;
// The same node receiving without answering: push only, and requests whose anti-entropy section
// opens no session and carries no rumor, so that neither the view exchange nor the payload asks
// for a reply.
using quiet_node = gossip::gossip_node<udp, gossip::peer_selection::random, gossip::view_selection::healer,
                                       gossip::propagation::push, agent_payload>;
using byte_vector = std::vector<std::byte>;
using namespace std::chrono_literals;

constexpr std::size_t view_size = 30;      // c: a request carries c/2 - 1 = 14 descriptors and the sender
constexpr std::size_t members = 60;        // in both nodes' membership tables, besides themselves
constexpr std::size_t pool_size = 256;     // distinct requests, replayed in a cycle
constexpr std::size_t warm_up_ticks = 64;  // the writer's periods before the requests are kept
constexpr std::size_t put_every = 16;      // the writer appends to its log every this many periods
constexpr int socket_buffer = 8 << 20;     // SO_RCVBUF and SO_SNDBUF asked for (capped by rmem_max)
constexpr std::size_t max_fill = 4096;     // datagrams per fill at most
constexpr std::size_t batch = 32;          // per recvmmsg / sendmmsg, as udp_options::batch
constexpr std::size_t slot = 2048 + 1;     // as udp_options::max_datagram_bytes + 1
constexpr std::size_t max_sendmmsg = 1024; // UIO_MAXIOV: the most one sendmmsg takes
static_assert(members >= view_size && members <= 250, "the peers are 127.0.0.2 to 127.0.0.251");

// --- plain sockets ------------------------------------------------------------------------------

[[noreturn]] void fail(const std::string& what) { throw std::system_error(errno, std::generic_category(), what); }

/// An owned descriptor.
class socket_fd {
public:
    explicit socket_fd(int fd) noexcept : fd_(fd) {}
    socket_fd(socket_fd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
    socket_fd& operator=(socket_fd&&) = delete;
    socket_fd(const socket_fd&) = delete;
    socket_fd& operator=(const socket_fd&) = delete;
    ~socket_fd()
    {
        if (fd_ >= 0) {
            ::close(fd_);
        }
    }
    [[nodiscard]] int get() const noexcept { return fd_; }

private:
    int fd_;
};

/// A blocking IPv4 UDP socket bound at `at`, with both buffers as large as the system allows.
socket_fd open_socket(const udp_address& at)
{
    socket_fd s(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    if (s.get() < 0) {
        fail("socket");
    }
    const int size = socket_buffer;
    if (::setsockopt(s.get(), SOL_SOCKET, SO_RCVBUF, &size, sizeof size) != 0 ||
        ::setsockopt(s.get(), SOL_SOCKET, SO_SNDBUF, &size, sizeof size) != 0) {
        fail("setsockopt");
    }
    sockaddr_storage sa{};
    const socklen_t length = at.to_sockaddr(sa);
    if (::bind(s.get(), reinterpret_cast<const sockaddr*>(&sa), length) != 0) {
        fail("bind " + at.to_string());
    }
    return s;
}

udp_address local_address(int fd)
{
    sockaddr_storage sa{};
    socklen_t length = sizeof sa;
    if (::getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &length) != 0) {
        fail("getsockname");
    }
    return udp_address::from_sockaddr(reinterpret_cast<const sockaddr*>(&sa), length).value();
}

int receive_buffer_bytes(int fd)
{
    int size = 0;
    socklen_t length = sizeof size;
    if (::getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, &length) != 0) {
        fail("getsockopt SO_RCVBUF");
    }
    return size;
}

/// What the kernel says of a socket's receive queue in /proc/net/udp: the bytes it holds
/// (sk_rmem_alloc, the datagrams' true size with their buffers) and the datagrams it has dropped
/// since it was opened. Nothing when the file cannot be read.
struct queue_state {
    std::size_t bytes = 0;
    std::uint64_t drops = 0;
};

std::optional<queue_state> kernel_queue(int fd)
{
    struct stat st {};
    if (::fstat(fd, &st) != 0) {
        return std::nullopt;
    }
    const std::string inode = std::to_string(st.st_ino);
    std::ifstream in("/proc/net/udp");
    std::string line;
    std::getline(in, line); // the header
    while (std::getline(in, line)) {
        // sl local rem st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode ref pointer drops
        std::istringstream fields(line);
        std::vector<std::string> f;
        for (std::string s; fields >> s;) {
            f.push_back(s);
        }
        if (f.size() < 13 || f[9] != inode) {
            continue;
        }
        const auto colon = f[4].find(':');
        if (colon == std::string::npos) {
            return std::nullopt;
        }
        return queue_state{std::stoul(f[4].substr(colon + 1), nullptr, 16), std::stoull(f[12])};
    }
    return std::nullopt;
}

// --- the nodes ----------------------------------------------------------------------------------

gossip::config node_config()
{
    gossip::config cfg;
    cfg.view_size = view_size;
    cfg.period = 200ms; // as gossip_agent; no period runs while measured
    cfg.max_message_bytes = 1400;
    return cfg;
}

/// As gossip_agent (rumors on, a session every 2 periods); `quiet`: no rumors, and sessions
/// never open within a run.
agent_payload make_payload(std::uint64_t generation, bool quiet)
{
    gossip::payload::membership_options m;
    m.t_fail = 1h; // nobody fails while measured
    m.t_cleanup = 2h;
    m.generation = generation;
    gossip::payload::anti_entropy_options log;
    log.rumors = !quiet;
    log.every = quiet ? std::numeric_limits<std::uint32_t>::max() : 2;
    return agent_payload(membership(m), log_payload(log));
}

template <class Node>
Node make_node(const udp_address& at, std::uint64_t generation, std::uint64_t seed)
{
    gossip::transport::udp_options o;
    o.batch = batch;
    o.max_datagram_bytes = slot - 1;
    o.receive_buffer_bytes = socket_buffer;
    o.send_buffer_bytes = socket_buffer;
    return Node(udp(at, o), node_config(), seed, gossip::peer_selection::random{}, gossip::view_selection::healer{},
                make_payload(generation, std::is_same_v<Node, quiet_node>));
}

/// A membership section listing `addresses` alive, generation 1, at `heartbeat`.
byte_vector membership_section(std::span<const udp_address> addresses, std::uint64_t heartbeat)
{
    byte_vector out(2 +
                    addresses.size() * (gossip::wire::codec<udp_address>::max_size + membership::max_entry_overhead));
    gossip::wire::writer w{std::span(out)};
    w.u16(static_cast<std::uint16_t>(addresses.size()));
    // Each entry's numbers are differences from the entry before (0 before the first).
    bool first = true;
    for (const auto& a : addresses) {
        gossip::wire::codec<udp_address>::write(w, a);
        gossip::wire::write_varint(w, gossip::wire::zigzag(first ? 1 : 0));
        gossip::wire::write_varint_flagged(w, gossip::wire::zigzag(first ? heartbeat : 0), false);
        first = false;
    }
    out.resize(w.size());
    return out;
}

void teach(membership& table, std::span<const udp_address> addresses, std::uint64_t heartbeat)
{
    const auto section = membership_section(addresses, heartbeat);
    gossip::wire::reader r(section);
    if (!table.read(r, gossip::wire::message_kind::request)) {
        throw std::logic_error("the membership section was refused");
    }
}

/// Waits up to a second for one datagram on a blocking socket.
byte_vector receive_one(int fd)
{
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 1000) != 1) {
        throw std::runtime_error("no request arrived from the writing node");
    }
    byte_vector out(slot);
    const auto got = ::recv(fd, out.data(), out.size(), 0);
    if (got < 0) {
        fail("recv");
    }
    out.resize(static_cast<std::size_t>(got));
    return out;
}

// --- the rig ------------------------------------------------------------------------------------

enum class path { raw, transport, echo, full, quiet_raw, no_reply };

/// A pool of requests replayed at one node's socket: the sender's datagrams, prepared once, and
/// how many of them one fill queues.
struct replay {
    sockaddr_storage target{};
    socklen_t target_length = 0;
    std::vector<mmsghdr> headers;
    std::vector<iovec> vectors;
    int fd = -1;                ///< the receiving node's socket
    int receive_buffer = 0;     ///< its SO_RCVBUF
    std::size_t true_size = 0;  ///< bytes the kernel charges for one queued request
    std::size_t capacity = 0;   ///< requests the buffer holds
    std::size_t fill_count = 0; ///< requests per fill: 3/4 of capacity, a multiple of batch, at most max_fill
    std::size_t fill_bytes = 0; ///< their bytes
};

/// Runs `writer` for warm_up_ticks + pool_size periods and keeps the requests of the last
/// pool_size, received at `sink`; `keeping` is called once, before the first kept period. The
/// writer lives: its heartbeat and its table's grow every period, and with `puts` it appends to
/// its log every put_every periods, and its rumors and anti-entropy sessions go out with its
/// requests.
template <class Node, class OnKeep>
std::vector<byte_vector> record_requests(Node& writer, int sink, std::span<const udp_address> peers, bool puts,
                                         OnKeep&& keeping)
{
    std::vector<byte_vector> pool;
    const std::string self = writer.address().to_string();
    for (std::size_t t = 0; t < warm_up_ticks + pool_size; ++t) {
        if (t == warm_up_ticks) {
            keeping();
        }
        teach(writer.payload().first(), peers, 2 + t);
        if (puts && t % put_every == 0) {
            writer.payload().second().put(self + "#" + std::to_string(t / put_every),
                                          "line " + std::to_string(t / put_every) +
                                              " of the replicated log, as typed on stdin");
        }
        writer.tick();
        writer.transport().flush();
        auto request = receive_one(sink);
        if (t >= warm_up_ticks) {
            pool.push_back(std::move(request));
        }
    }
    if (writer.transport().statistics().send_errors != 0) {
        throw std::runtime_error("the writing node could not send");
    }
    return pool;
}

/// Everything the drain benchmarks share, built once.
///
/// - `writer` (node A) writes the requests. Its view holds 30 addresses 127.0.0.k:P, which all
///   reach `sink`, one socket bound at 0.0.0.0:P; its table holds 60 such members.
/// - `node` (node B) at 127.0.0.1 receives them, from `sender`, a plain socket at 127.0.0.1 that
///   replays the pool of requests; B's replies go back to `sender`, which is drained untimed.
/// - `quiet_writer` (A') and `quiet_node` (B') are the same pair composed with push rather than
///   push-pull, and with anti-entropy sessions and rumors off: B' receives and processes A''s
///   requests (view merge, membership section, an empty anti-entropy section) and answers none.
///   `sender` replays those too.
class rig {
public:
    rig()
        : sink_(open_socket(udp_address::v4({0, 0, 0, 0}, 0))),
          writer_(make_node<agent_node>(udp_address::loopback_v4(0), 1000, 1)),
          node_(make_node<agent_node>(udp_address::loopback_v4(0), 2000, 2)), driver_(node_, driver_settings()),
          quiet_writer_(make_node<quiet_node>(udp_address::loopback_v4(0), 3000, 4)),
          quiet_node_(make_node<quiet_node>(udp_address::loopback_v4(0), 4000, 5)),
          quiet_driver_(quiet_node_, driver_settings()), sender_(open_socket(udp_address::loopback_v4(0)))
    {
        const std::uint16_t port = local_address(sink_.get()).port();
        std::vector<udp_address> peers; // 127.0.0.2:P, 127.0.0.3:P, ...
        for (std::size_t k = 0; k < members; ++k) {
            peers.push_back(udp_address::v4({127, 0, 0, static_cast<std::uint8_t>(2 + k)}, port));
        }
        const auto view = std::span(peers).first(view_size);
        writer_.join(view);
        node_.join(view);
        quiet_writer_.join(view);
        quiet_node_.join(view);
        teach(writer_.payload().first(), peers, 1);
        teach(node_.payload().first(), peers, 1);
        teach(quiet_writer_.payload().first(), peers, 1);
        teach(quiet_node_.payload().first(), peers, 1);

        membership_statistics members_before;
        gossip::payload::anti_entropy_statistics log_before;
        gossip::payload::rumor_statistics rumors_before;
        pool_ = record_requests(writer_, sink_.get(), peers, true, [&] {
            members_before = writer_.payload().first().statistics();
            log_before = writer_.payload().second().statistics();
            rumors_before = writer_.payload().second().rumors().statistics();
        });
        const auto kept = static_cast<double>(pool_.size());
        workload_.members =
            static_cast<double>(writer_.payload().first().statistics().entries_sent - members_before.entries_sent) /
            kept;
        workload_.opens =
            static_cast<double>(writer_.payload().second().statistics().sessions_opened - log_before.sessions_opened) /
            kept;
        workload_.rumors = static_cast<double>(writer_.payload().second().rumors().statistics().rumors_sent -
                                               rumors_before.rumors_sent) /
                           kept;
        for (const auto& d : pool_) {
            workload_.smallest = std::min(workload_.smallest, d.size());
            workload_.largest = std::max(workload_.largest, d.size());
        }

        membership_statistics quiet_before;
        quiet_pool_ = record_requests(quiet_writer_, sink_.get(), peers, false,
                                      [&] { quiet_before = quiet_writer_.payload().first().statistics(); });
        if (quiet_writer_.payload().second().statistics().sessions_opened != 0 ||
            quiet_writer_.payload().second().rumors().statistics().rumors_sent != 0) {
            throw std::logic_error("the quiet writer opened a session or sent a rumor");
        }
        quiet_members_ =
            static_cast<double>(quiet_writer_.payload().first().statistics().entries_sent - quiet_before.entries_sent) /
            static_cast<double>(quiet_pool_.size());

        raw_bytes_.resize(batch * slot);
        for (std::size_t i = 0; i < batch; ++i) {
            raw_vectors_[i] = iovec{raw_bytes_.data() + i * slot, slot};
        }
        set_up(full_, pool_, node_.address(), node_.transport().fd());
        set_up(quiet_, quiet_pool_, quiet_node_.address(), quiet_node_.transport().fd());

        // Warm up: the nodes learn the writers, their members' heartbeats and rumors, and the
        // scratch buffers grow to their batch. In the timed drains every request has been seen.
        drain(path::full, pool_.size());
        drain(path::no_reply, quiet_pool_.size());
        drain_replies();
        for (int i = 0; i < 2; ++i) {
            fill(path::full, full_.fill_count);
            drain(path::full, full_.fill_count);
            drain_replies();
            fill(path::no_reply, quiet_.fill_count);
            drain(path::no_reply, quiet_.fill_count);
        }
    }

    /// What the requests of the pool carry, on average.
    struct workload {
        double members = 0.0; ///< membership entries, the writer's own included
        double rumors = 0.0;  ///< rumors pushed
        double opens = 0.0;   ///< anti-entropy sessions opened (a root summary)
        std::size_t smallest = std::numeric_limits<std::size_t>::max();
        std::size_t largest = 0;
    };

    [[nodiscard]] const workload& pool_workload() const noexcept { return workload_; }
    /// The replay of a path: the quiet pool at B' (quiet_raw, no_reply), else the pool at B.
    [[nodiscard]] const replay& replay_of(path p) const noexcept
    {
        return p == path::quiet_raw || p == path::no_reply ? quiet_ : full_;
    }
    [[nodiscard]] std::size_t fill_count(path p = path::full) const noexcept { return replay_of(p).fill_count; }
    [[nodiscard]] std::size_t fill_bytes(path p = path::full) const noexcept { return replay_of(p).fill_bytes; }
    [[nodiscard]] std::size_t capacity(path p = path::full) const noexcept { return replay_of(p).capacity; }
    [[nodiscard]] double quiet_members() const noexcept { return quiet_members_; }
    [[nodiscard]] const std::vector<byte_vector>& pool() const noexcept { return pool_; }
    [[nodiscard]] const std::vector<byte_vector>& quiet_pool() const noexcept { return quiet_pool_; }
    /// Where the replayed requests come from.
    [[nodiscard]] udp_address sender_address() const { return local_address(sender_.get()); }
    [[nodiscard]] agent_node& writer() noexcept { return writer_; }
    [[nodiscard]] agent_node& node() noexcept { return node_; }
    [[nodiscard]] quiet_node& quiet() noexcept { return quiet_node_; }

    /// The sender queues n requests of path p's pool at its node (untimed). Loopback hands each
    /// datagram to the receiving socket within the call, so they are all waiting when this
    /// returns.
    void fill(path p, std::size_t n)
    {
        auto& headers = (p == path::quiet_raw || p == path::no_reply ? quiet_ : full_).headers;
        std::size_t done = 0;
        while (done < n) {
            const auto chunk = static_cast<unsigned>(std::min(n - done, max_sendmmsg));
            const int sent = ::sendmmsg(sender_.get(), headers.data() + done, chunk, 0);
            if (sent < 0) {
                if (errno == EINTR) {
                    continue;
                }
                fail("sendmmsg to the node");
            }
            done += static_cast<std::size_t>(sent);
        }
    }

    /// Reads n datagrams at the node by one of the paths; returns how many were read, fewer
    /// when the socket ran dry first (a datagram lost).
    std::size_t drain(path p, std::size_t n)
    {
        switch (p) {
        case path::raw: return drain_raw(full_.fd, n, false);
        case path::echo: return drain_raw(full_.fd, n, true);
        case path::transport: return drain_transport(n);
        case path::full: return drain_node(driver_, n);
        case path::quiet_raw: return drain_raw(quiet_.fd, n, false);
        case path::no_reply: return drain_node(quiet_driver_, n);
        }
        return 0;
    }

    /// Reads whatever came back to the sender (untimed); returns how many datagrams.
    std::size_t drain_replies()
    {
        std::size_t total = 0;
        for (;;) {
            set_up_raw_headers();
            const int got =
                ::recvmmsg(sender_.get(), raw_headers_.data(), static_cast<unsigned>(batch), MSG_DONTWAIT, nullptr);
            if (got < 0 && errno == EINTR) {
                continue;
            }
            if (got <= 0) {
                return total;
            }
            total += static_cast<std::size_t>(got);
        }
    }

    [[nodiscard]] std::uint64_t node_drops(path p = path::full) const { return drops(replay_of(p).fd); }
    [[nodiscard]] std::uint64_t sender_drops() const { return drops(sender_.get()); }
    [[nodiscard]] std::uint64_t echo_send_errors() const noexcept { return echo_send_errors_; }

private:
    static gossip::driver_options driver_settings()
    {
        gossip::driver_options o;
        o.random_start = false;
        o.seed = 3;
        return o;
    }

    static std::uint64_t drops(int fd)
    {
        const auto q = kernel_queue(fd);
        return q ? q->drops : 0;
    }

    void set_up_raw_headers() noexcept
    {
        for (std::size_t i = 0; i < batch; ++i) {
            raw_headers_[i] = mmsghdr{};
            raw_headers_[i].msg_hdr.msg_name = &raw_names_[i];
            raw_headers_[i].msg_hdr.msg_namelen = sizeof(sockaddr_storage);
            raw_headers_[i].msg_hdr.msg_iov = &raw_vectors_[i];
            raw_headers_[i].msg_hdr.msg_iovlen = 1;
        }
    }

    // recvmmsg in batches of 32 into buffers allocated once, reading one byte of every 64 of
    // each datagram (every cache line) into a sum. With `echo`, each batch is then sent back to
    // where it came from with one sendmmsg: the system calls a node makes, without the node.
    std::size_t drain_raw(int fd, std::size_t n, bool echo)
    {
        std::size_t total = 0;
        std::uint64_t sum = 0;
        while (total < n) {
            set_up_raw_headers();
            const int got = ::recvmmsg(fd, raw_headers_.data(), static_cast<unsigned>(batch), MSG_DONTWAIT, nullptr);
            if (got < 0 && errno == EINTR) {
                continue;
            }
            if (got <= 0) {
                break;
            }
            const auto count = static_cast<std::size_t>(got);
            for (std::size_t i = 0; i < count; ++i) {
                const std::byte* d = raw_bytes_.data() + i * slot;
                for (std::size_t at = 0; at < raw_headers_[i].msg_len; at += 64) {
                    sum += static_cast<std::uint8_t>(d[at]);
                }
                raw_vectors_[i].iov_len = raw_headers_[i].msg_len; // for the echo
            }
            if (echo) {
                std::size_t sent = 0;
                while (sent < count) {
                    const int s = ::sendmmsg(fd, raw_headers_.data() + sent, static_cast<unsigned>(count - sent), 0);
                    if (s < 0) {
                        if (errno != EINTR) {
                            ++echo_send_errors_;
                            ++sent;
                        }
                        continue;
                    }
                    sent += static_cast<std::size_t>(s);
                }
            }
            for (std::size_t i = 0; i < count; ++i) {
                raw_vectors_[i].iov_len = slot;
            }
            total += count;
        }
        benchmark::DoNotOptimize(sum);
        return total;
    }

    std::size_t drain_transport(std::size_t n)
    {
        auto& t = node_.transport();
        std::size_t total = 0;
        while (total < n) {
            const std::size_t got = t.receive([](const udp_address&, std::span<const std::byte>) {});
            if (got == 0) {
                break;
            }
            total += got;
        }
        return total;
    }

    template <class Driver>
    static std::size_t drain_node(Driver& driver, std::size_t n)
    {
        std::size_t total = 0;
        while (total < n) {
            const std::size_t got = driver.on_readable();
            if (got == 0) {
                break;
            }
            total += got;
        }
        return total;
    }

    /// Prepares the sender's datagrams to `to` (the pool in a cycle), and measures how many
    /// the receiving socket `fd` holds: the bytes one fill of the pool takes in the kernel,
    /// against SO_RCVBUF. A fill then uses 3/4 of that, at most max_fill. The queued pool is
    /// left for the caller to drain.
    void set_up(replay& r, std::vector<byte_vector>& pool, const udp_address& to, int fd)
    {
        r.fd = fd;
        r.target_length = to.to_sockaddr(r.target);
        r.headers.resize(max_fill);
        r.vectors.resize(max_fill);
        for (std::size_t i = 0; i < max_fill; ++i) {
            auto& d = pool[i % pool.size()];
            r.vectors[i] = iovec{d.data(), d.size()};
            r.headers[i] = mmsghdr{};
            r.headers[i].msg_hdr.msg_name = &r.target;
            r.headers[i].msg_hdr.msg_namelen = r.target_length;
            r.headers[i].msg_hdr.msg_iov = &r.vectors[i];
            r.headers[i].msg_hdr.msg_iovlen = 1;
        }
        r.receive_buffer = receive_buffer_bytes(fd);
        fill(&r == &quiet_ ? path::no_reply : path::full, pool.size());
        const auto queued = kernel_queue(fd);
        r.true_size = queued && queued->bytes > 0 ? queued->bytes / pool.size() : 4096; // a guess without /proc
        r.capacity = static_cast<std::size_t>(r.receive_buffer) / r.true_size;
        r.fill_count = std::min(max_fill, r.capacity * 3 / 4 / batch * batch);
        if (r.fill_count < batch) {
            throw std::runtime_error("the receive buffer holds fewer than " + std::to_string(batch) +
                                     " requests; raise net.core.rmem_max");
        }
        for (std::size_t i = 0; i < r.fill_count; ++i) {
            r.fill_bytes += r.headers[i].msg_hdr.msg_iov->iov_len;
        }
    }

    socket_fd sink_;
    agent_node writer_;
    agent_node node_;
    gossip::node_driver<agent_node> driver_;
    quiet_node quiet_writer_;
    quiet_node quiet_node_;
    gossip::node_driver<quiet_node> quiet_driver_;
    socket_fd sender_;
    std::vector<byte_vector> pool_;
    std::vector<byte_vector> quiet_pool_;
    workload workload_;
    double quiet_members_ = 0.0;
    replay full_;
    replay quiet_;

    byte_vector raw_bytes_;
    std::array<mmsghdr, batch> raw_headers_{};
    std::array<iovec, batch> raw_vectors_{};
    std::array<sockaddr_storage, batch> raw_names_{};
    std::uint64_t echo_send_errors_ = 0;
};

/// The rig, built at first use; nothing (and the reason in `error`) if it cannot be.
rig* shared_rig(std::string& error)
{
    static std::string failure;
    static std::unique_ptr<rig> instance = [&]() -> std::unique_ptr<rig> {
        try {
            return std::make_unique<rig>();
        } catch (const std::exception& e) {
            failure = e.what();
            return nullptr;
        }
    }();
    error = failure;
    return instance.get();
}

double median(std::vector<double> values)
{
    if (values.empty()) {
        return 0.0;
    }
    const auto middle = values.begin() + static_cast<std::ptrdiff_t>(values.size() / 2);
    std::nth_element(values.begin(), middle, values.end());
    return *middle;
}

/// What the drains of one path added up to, beside the time benchmark::State keeps.
struct drain_totals {
    std::uint64_t replies = 0;     ///< received back at the sender
    std::uint64_t reply_drops = 0; ///< dropped by the sender's full buffer
    bench::cpu_times cpu;          ///< during the timed drains only
    std::uint64_t allocations = 0; ///< during the timed drains only
    std::uint64_t reply_bytes = 0; ///< of the node's replies (full path)
    std::uint64_t in_sync = 0;     ///< anti-entropy sessions found in sync (full path)
};

/// One fill, then the timed drain by path `p`, then the checks (untimed). Returns the seconds
/// timed, or nothing after reporting an error through `state`.
std::optional<double> timed_drain(benchmark::State& state, rig& r, path p, drain_totals& totals)
{
    const std::size_t n = r.fill_count(p);
    const auto& stats = r.node().statistics();
    const auto& transport_stats = r.node().transport().statistics();
    const auto node_before = stats;
    const auto transport_before = transport_stats;
    const auto& quiet_stats = r.quiet().statistics();
    const auto quiet_before = quiet_stats;
    const auto in_sync_before = r.node().payload().second().statistics().sessions_in_sync;
    const std::uint64_t echo_errors_before = r.echo_send_errors();
    const std::uint64_t drops_before = r.node_drops(p);
    const std::uint64_t sender_drops_before = r.sender_drops();
    r.fill(p, n);
    if (r.node_drops(p) != drops_before) {
        state.SkipWithError("the node's receive buffer dropped requests; lower max_fill");
        return std::nullopt;
    }

    const bench::cpu_times cpu_before = bench::cpu_usage(RUSAGE_THREAD);
    const std::uint64_t allocations_before = allocations;
    const auto start = std::chrono::steady_clock::now();
    const std::size_t got = r.drain(p, n);
    const double elapsed = bench::seconds_since(start);
    totals.allocations += allocations - allocations_before;
    const bench::cpu_times cpu_after = bench::cpu_usage(RUSAGE_THREAD);
    totals.cpu.user += cpu_after.user - cpu_before.user;
    totals.cpu.system += cpu_after.system - cpu_before.system;

    if (got != n) {
        state.SkipWithError("fewer datagrams were read than sent");
        return std::nullopt;
    }
    if (p == path::transport && transport_stats.datagrams_received - transport_before.datagrams_received != n) {
        state.SkipWithError("the transport did not count every datagram");
        return std::nullopt;
    }
    if (p == path::full) {
        if (stats.accepted - node_before.accepted != n || stats.messages_sent - node_before.messages_sent != n ||
            stats.send_failures != node_before.send_failures) {
            state.SkipWithError("the node did not accept and answer every request");
            return std::nullopt;
        }
        if (transport_stats.send_errors != transport_before.send_errors) {
            state.SkipWithError("the kernel refused replies");
            return std::nullopt;
        }
        totals.reply_bytes += stats.bytes_sent - node_before.bytes_sent;
        totals.in_sync += r.node().payload().second().statistics().sessions_in_sync - in_sync_before;
    }
    if (p == path::no_reply) {
        if (quiet_stats.accepted - quiet_before.accepted != n ||
            quiet_stats.messages_sent != quiet_before.messages_sent ||
            quiet_stats.send_failures != quiet_before.send_failures) {
            state.SkipWithError("the quiet node did not accept every request, or answered one");
            return std::nullopt;
        }
        if (r.drain_replies() != 0) {
            state.SkipWithError("the quiet node answered");
            return std::nullopt;
        }
    }
    if (p == path::echo && r.echo_send_errors() != echo_errors_before) {
        state.SkipWithError("the kernel refused echoed datagrams");
        return std::nullopt;
    }
    if (p == path::full || p == path::echo) {
        totals.replies += r.drain_replies();
        totals.reply_drops += r.sender_drops() - sender_drops_before;
    }
    return elapsed;
}

void set_common_counters(benchmark::State& state, rig& r, path p = path::full)
{
    state.counters["fill"] = benchmark::Counter(static_cast<double>(r.fill_count(p)));
    state.counters["fits"] = benchmark::Counter(static_cast<double>(r.capacity(p)));
    state.counters["B_per_dgram"] =
        benchmark::Counter(static_cast<double>(r.fill_bytes(p)) / static_cast<double>(r.fill_count(p)));
}

/// Datagrams one node drains per second, by one path:
/// - raw: recvmmsg batches of 32 into buffers allocated once, one byte read per cache line;
/// - transport: udp::receive with a deliver that does nothing;
/// - echo: raw, and each batch sent back to its source with one sendmmsg (a node's system calls);
/// - full: node_driver::on_readable(): udp::receive, node.on_datagram for each request (decode,
///   both payload sections, the reply written and queued, the view merged), one sendmmsg of the
///   replies per batch.
/// - no_reply: the same at the quiet node B' (push, no sessions, no rumors), with the quiet
///   pool: decode, both payload sections, the view merged, and no reply.
/// - quiet_raw: raw, on B''s socket with the quiet pool (datagrams of that size).
///
/// Each iteration: the sender queues `fill` requests at the node (untimed), the node drains them
/// (timed), the checks run and the replies are drained (untimed).
///
/// Counters:
/// - fill: datagrams per iteration, 3/4 of `fits`, the datagrams the node's receive buffer holds
///   (SO_RCVBUF over the bytes the kernel charges for one, read in /proc/net/udp); B_per_dgram:
///   their mean size.
/// - median_per_s: datagrams per second of the median iteration (steadier than the mean, which
///   items_per_second shows, when the machine is busy).
/// - user_ns, sys_ns: this thread's CPU time per datagram during the drains, in user space and
///   in the kernel (getrusage; the kernel samples the split at its tick, so it is approximate).
/// - allocs: heap allocations (operator new) per datagram during the drains.
/// - replies: replies received at the sender per request (echo and full; 1 when none was lost);
///   reply_drops: replies the sender's full buffer dropped; reply_B: the node's mean reply size;
///   in_sync: the share of requests whose anti-entropy root matched the node's store.
void BM_drain(benchmark::State& state, path p)
{
    std::string error;
    rig* r = shared_rig(error);
    if (r == nullptr) {
        state.SkipWithError(error.c_str());
        return;
    }
    std::vector<double> times;
    drain_totals totals;
    for (auto _ : state) {
        const auto elapsed = timed_drain(state, *r, p, totals);
        if (!elapsed) {
            break;
        }
        state.SetIterationTime(*elapsed);
        times.push_back(*elapsed);
    }
    const auto n = static_cast<double>(r->fill_count(p));
    const double datagrams = n * static_cast<double>(state.iterations());
    state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(r->fill_count(p)));
    state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(r->fill_bytes(p)));
    set_common_counters(state, *r, p);
    const double m = median(times);
    state.counters["median_per_s"] = benchmark::Counter(m > 0.0 ? n / m : 0.0);
    state.counters["user_ns"] = benchmark::Counter(totals.cpu.user * 1e9 / datagrams);
    state.counters["sys_ns"] = benchmark::Counter(totals.cpu.system * 1e9 / datagrams);
    state.counters["allocs"] = benchmark::Counter(static_cast<double>(totals.allocations) / datagrams);
    if (p == path::full || p == path::echo) {
        state.counters["replies"] = benchmark::Counter(static_cast<double>(totals.replies) / datagrams);
        state.counters["reply_drops"] = benchmark::Counter(static_cast<double>(totals.reply_drops));
    }
    if (p == path::no_reply) {
        state.counters["members"] = benchmark::Counter(r->quiet_members());
    }
    if (p == path::full) {
        state.counters["reply_B"] = benchmark::Counter(static_cast<double>(totals.reply_bytes) / datagrams);
        state.counters["in_sync"] = benchmark::Counter(static_cast<double>(totals.in_sync) / datagrams);
    }
}

BENCHMARK_CAPTURE(BM_drain, raw, path::raw)->UseManualTime()->Iterations(200)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_drain, transport, path::transport)
    ->UseManualTime()
    ->Iterations(200)
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_drain, echo, path::echo)->UseManualTime()->Iterations(200)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_drain, full, path::full)->UseManualTime()->Iterations(200)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_drain, quiet_raw, path::quiet_raw)
    ->UseManualTime()
    ->Iterations(200)
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_drain, no_reply, path::no_reply)->UseManualTime()->Iterations(200)->Unit(benchmark::kMillisecond);

/// The six paths in turn within each iteration (fill, drain raw; fill, drain transport; fill,
/// drain echo; fill, drain full; fill, drain quiet_raw; fill, drain no_reply), so that they see
/// the same machine: the ratios are the figures to quote. The iteration time is the sum of the
/// six drains.
///
/// Counters: raw_per_s, transport_per_s, echo_per_s, full_per_s, quiet_raw_per_s,
/// no_reply_per_s: datagrams per second of each path over the whole run (its datagrams over its
/// total time); transport_over_raw, echo_over_raw, full_over_raw, full_over_echo,
/// no_reply_over_raw (against raw on the full pool) and no_reply_over_quiet_raw (against raw on
/// the quiet pool's smaller datagrams): ratios of those; full_over_raw_median: the median over
/// iterations of the iteration's own ratio; full_user_ns, full_sys_ns, no_reply_user_ns,
/// no_reply_sys_ns: CPU time per datagram of the full and no_reply paths, in user space and in
/// the kernel; no_reply_B: the quiet pool's mean datagram size.
void BM_drain_interleaved(benchmark::State& state)
{
    std::string error;
    rig* r = shared_rig(error);
    if (r == nullptr) {
        state.SkipWithError(error.c_str());
        return;
    }
    constexpr std::array paths{path::raw, path::transport, path::echo, path::full, path::quiet_raw, path::no_reply};
    enum : std::size_t { raw, transport, echo, full, quiet_raw, no_reply };
    std::array<double, paths.size()> seconds{};
    std::array<drain_totals, paths.size()> totals{};
    std::vector<double> ratios;
    bool ok = true;
    for (auto _ : state) {
        std::array<double, paths.size()> times{};
        for (std::size_t i = 0; i < paths.size() && ok; ++i) {
            const auto elapsed = timed_drain(state, *r, paths[i], totals[i]);
            ok = elapsed.has_value();
            times[i] = elapsed.value_or(0.0);
            seconds[i] += times[i];
        }
        if (!ok) {
            break;
        }
        state.SetIterationTime(std::accumulate(times.begin(), times.end(), 0.0));
        ratios.push_back(times[raw] / times[full]);
    }
    const auto iterations = static_cast<double>(state.iterations());
    const auto datagrams = [&](std::size_t i) { return static_cast<double>(r->fill_count(paths[i])) * iterations; };
    const auto rate = [&](std::size_t i) { return seconds[i] > 0.0 ? datagrams(i) / seconds[i] : 0.0; };
    const auto ratio = [&](std::size_t i, std::size_t j) { return rate(j) > 0.0 ? rate(i) / rate(j) : 0.0; };
    set_common_counters(state, *r);
    state.counters["raw_per_s"] = benchmark::Counter(rate(raw));
    state.counters["transport_per_s"] = benchmark::Counter(rate(transport));
    state.counters["echo_per_s"] = benchmark::Counter(rate(echo));
    state.counters["full_per_s"] = benchmark::Counter(rate(full));
    state.counters["quiet_raw_per_s"] = benchmark::Counter(rate(quiet_raw));
    state.counters["no_reply_per_s"] = benchmark::Counter(rate(no_reply));
    state.counters["transport_over_raw"] = benchmark::Counter(ratio(transport, raw));
    state.counters["echo_over_raw"] = benchmark::Counter(ratio(echo, raw));
    state.counters["full_over_raw"] = benchmark::Counter(ratio(full, raw));
    state.counters["full_over_echo"] = benchmark::Counter(ratio(full, echo));
    state.counters["no_reply_over_raw"] = benchmark::Counter(ratio(no_reply, raw));
    state.counters["no_reply_over_quiet_raw"] = benchmark::Counter(ratio(no_reply, quiet_raw));
    state.counters["full_over_raw_median"] = benchmark::Counter(median(ratios));
    state.counters["full_user_ns"] = benchmark::Counter(totals[full].cpu.user * 1e9 / datagrams(full));
    state.counters["full_sys_ns"] = benchmark::Counter(totals[full].cpu.system * 1e9 / datagrams(full));
    state.counters["no_reply_user_ns"] = benchmark::Counter(totals[no_reply].cpu.user * 1e9 / datagrams(no_reply));
    state.counters["no_reply_sys_ns"] = benchmark::Counter(totals[no_reply].cpu.system * 1e9 / datagrams(no_reply));
    state.counters["no_reply_B"] = benchmark::Counter(static_cast<double>(r->fill_bytes(path::no_reply)) /
                                                      static_cast<double>(r->fill_count(path::no_reply)));
    state.counters["reply_drops"] =
        benchmark::Counter(static_cast<double>(totals[echo].reply_drops + totals[full].reply_drops));
}

BENCHMARK(BM_drain_interleaved)->UseManualTime()->Iterations(100)->Unit(benchmark::kMillisecond);

// --- encoding and decoding a full message -------------------------------------------------------

/// A request of the pool taken apart: what wire::encode needs to write it again.
struct request_parts {
    udp_address sender;
    std::vector<gossip::descriptor<udp_address>> view;
    byte_vector payload;
};

std::vector<request_parts> take_apart(const std::vector<byte_vector>& pool)
{
    std::vector<request_parts> out;
    for (const auto& d : pool) {
        request_parts p;
        const auto m = gossip::wire::decode<udp_address>(d, gossip::max_view_size, p.view);
        if (m.error != gossip::wire::decode_error::none || m.kind != gossip::wire::message_kind::request) {
            throw std::logic_error(std::string("a request of the pool does not decode: ") + to_string(m.error));
        }
        p.sender = m.sender;
        p.payload.assign(m.payload.begin(), m.payload.end());
        out.push_back(std::move(p));
    }
    return out;
}

std::size_t total_bytes(const std::vector<byte_vector>& pool)
{
    std::size_t n = 0;
    for (const auto& d : pool) {
        n += d.size();
    }
    return n;
}

/// gossip::wire::encode of the requests of the pool (sender, 14 descriptors of a full view of
/// c = 30, and the combined payload section, copied in), into a 1400-byte buffer. Each written
/// request is checked once, before timing, to equal the node's own bytes.
///
/// Counters describe the pool: B_per_msg, B_min, B_max: request sizes; members, rumors: entries
/// of each section per request; opens: the share of requests that open an anti-entropy session.
void BM_wire_encode(benchmark::State& state)
{
    std::string error;
    rig* r = shared_rig(error);
    if (r == nullptr) {
        state.SkipWithError(error.c_str());
        return;
    }
    const auto parts = take_apart(r->pool());
    byte_vector buffer(1400);
    const auto encode = [&](const request_parts& p) {
        gossip::wire::writer w{std::span(buffer)};
        const std::span<const gossip::descriptor<udp_address>> view(p.view);
        const bool ok = gossip::wire::encode(w, gossip::wire::message_kind::request, p.sender, &view,
                                             [&](gossip::wire::writer& out) { out.bytes(p.payload); });
        return ok ? w.size() : 0;
    };
    for (std::size_t i = 0; i < parts.size(); ++i) {
        const std::size_t n = encode(parts[i]);
        if (n != r->pool()[i].size() ||
            !std::equal(buffer.begin(), buffer.begin() + static_cast<std::ptrdiff_t>(n), r->pool()[i].begin())) {
            state.SkipWithError("wire::encode did not write the node's bytes again");
            return;
        }
    }
    std::size_t next = 0;
    std::size_t bytes = 0;
    for (auto _ : state) {
        bytes += encode(parts[next]);
        benchmark::DoNotOptimize(buffer.data());
        benchmark::ClobberMemory();
        next = next + 1 == parts.size() ? 0 : next + 1;
    }
    state.SetItemsProcessed(state.iterations());
    state.SetBytesProcessed(static_cast<std::int64_t>(bytes));
    const auto& w = r->pool_workload();
    state.counters["B_per_msg"] =
        benchmark::Counter(static_cast<double>(total_bytes(r->pool())) / static_cast<double>(r->pool().size()));
    state.counters["B_min"] = benchmark::Counter(static_cast<double>(w.smallest));
    state.counters["B_max"] = benchmark::Counter(static_cast<double>(w.largest));
    state.counters["members"] = benchmark::Counter(w.members);
    state.counters["rumors"] = benchmark::Counter(w.rumors);
    state.counters["opens"] = benchmark::Counter(w.opens);
}

BENCHMARK(BM_wire_encode)->MinTime(0.3);

/// gossip::wire::decode of the requests of the pool, with full validation, the view sample into
/// a vector reused across calls, and the node's own limit on descriptors (max_view_size).
void BM_wire_decode(benchmark::State& state)
{
    std::string error;
    rig* r = shared_rig(error);
    if (r == nullptr) {
        state.SkipWithError(error.c_str());
        return;
    }
    const auto& pool = r->pool();
    std::vector<gossip::descriptor<udp_address>> view;
    view.reserve(view_size);
    std::size_t next = 0;
    std::size_t bytes = 0;
    bool ok = true;
    for (auto _ : state) {
        const auto m = gossip::wire::decode<udp_address>(pool[next], gossip::max_view_size, view);
        ok = ok && m.error == gossip::wire::decode_error::none;
        benchmark::DoNotOptimize(m);
        bytes += pool[next].size();
        next = next + 1 == pool.size() ? 0 : next + 1;
    }
    if (!ok) {
        state.SkipWithError("a request did not decode");
    }
    state.SetItemsProcessed(state.iterations());
    state.SetBytesProcessed(static_cast<std::int64_t>(bytes));
}

BENCHMARK(BM_wire_decode)->MinTime(0.3);

/// The combined payload section of a request, as the writing node writes it: membership (its own
/// entry and the next members of its rotation, within half the room) and anti-entropy (root
/// summary when a session opens, and the rumors), into the room a datagram of 1400 bytes leaves
/// after the header and 14 descriptors. No period passes between writes, so whether a session
/// opens is the same in every one (counter `opens`).
///
/// Counters: B_per_section, the mean section size.
void BM_payload_write(benchmark::State& state)
{
    std::string error;
    rig* r = shared_rig(error);
    if (r == nullptr) {
        state.SkipWithError(error.c_str());
        return;
    }
    auto& payload = r->writer().payload();
    // The room send_message leaves: 1400 minus the header, the sender, the view and the length.
    const auto parts = take_apart(r->pool());
    const std::size_t overhead = r->pool()[0].size() - parts[0].payload.size();
    byte_vector buffer(1400 - overhead);
    const auto opened_before = payload.second().statistics().sessions_opened;
    std::size_t bytes = 0;
    bool ok = true;
    for (auto _ : state) {
        gossip::wire::writer w{std::span(buffer)};
        payload.write(w, gossip::wire::message_kind::request);
        ok = ok && w.ok();
        bytes += w.size();
        benchmark::DoNotOptimize(buffer.data());
        benchmark::ClobberMemory();
    }
    if (!ok) {
        state.SkipWithError("the payload did not fit");
    }
    const auto iterations = static_cast<double>(state.iterations());
    state.SetItemsProcessed(state.iterations());
    state.SetBytesProcessed(static_cast<std::int64_t>(bytes));
    state.counters["B_per_section"] = benchmark::Counter(static_cast<double>(bytes) / iterations);
    state.counters["opens"] = benchmark::Counter(
        static_cast<double>(payload.second().statistics().sessions_opened - opened_before) / iterations);
}

BENCHMARK(BM_payload_write)->MinTime(0.3);

/// The node-level write of a whole request, as gossip_node::send_message does it minus the view
/// selection's prepare: wire::encode with the writer's 14 descriptors and its payload written in
/// place.
void BM_message_write(benchmark::State& state)
{
    std::string error;
    rig* r = shared_rig(error);
    if (r == nullptr) {
        state.SkipWithError(error.c_str());
        return;
    }
    auto& node = r->writer();
    const auto parts = take_apart(r->pool());
    const std::span<const gossip::descriptor<udp_address>> view(parts[0].view);
    const auto sender = node.address();
    byte_vector buffer(1400);
    std::size_t bytes = 0;
    bool ok = true;
    for (auto _ : state) {
        gossip::wire::writer w{std::span(buffer)};
        ok = gossip::wire::encode(w, gossip::wire::message_kind::request, sender, &view,
                                  [&](gossip::wire::writer& out) {
                                      node.payload().write(out, gossip::wire::message_kind::request);
                                  }) &&
             ok;
        bytes += w.size();
        benchmark::DoNotOptimize(buffer.data());
        benchmark::ClobberMemory();
    }
    if (!ok) {
        state.SkipWithError("the request did not fit");
    }
    state.SetItemsProcessed(state.iterations());
    state.SetBytesProcessed(static_cast<std::int64_t>(bytes));
    state.counters["B_per_msg"] =
        benchmark::Counter(static_cast<double>(bytes) / static_cast<double>(state.iterations()));
}

BENCHMARK(BM_message_write)->MinTime(0.3);

/// The receiving node's payload reading the combined sections of the pool's requests: membership
/// (parse, validate, put in address order, find each row; every entry already known, as in the
/// timed drains) and anti-entropy (root summary compared, rumors parsed, each already known).
void BM_payload_read(benchmark::State& state)
{
    std::string error;
    rig* r = shared_rig(error);
    if (r == nullptr) {
        state.SkipWithError(error.c_str());
        return;
    }
    auto& payload = r->node().payload();
    const auto parts = take_apart(r->pool());
    std::size_t next = 0;
    std::size_t bytes = 0;
    bool ok = true;
    for (auto _ : state) {
        gossip::wire::reader in(parts[next].payload);
        ok = payload.read(in, gossip::wire::message_kind::request) && ok;
        bytes += parts[next].payload.size();
        next = next + 1 == parts.size() ? 0 : next + 1;
    }
    if (!ok) {
        state.SkipWithError("a section was refused");
    }
    state.SetItemsProcessed(state.iterations());
    state.SetBytesProcessed(static_cast<std::int64_t>(bytes));
}

BENCHMARK(BM_payload_read)->MinTime(0.3);

/// The node that answers none (B') handling the quiet pool's requests by node.on_datagram, as
/// the no_reply drain does, without the socket: decode, both payload sections, the view merged.
/// CPU time: the user-space part of no_reply, steadier than the drains' user_ns.
void BM_node_receive(benchmark::State& state)
{
    std::string error;
    rig* r = shared_rig(error);
    if (r == nullptr) {
        state.SkipWithError(error.c_str());
        return;
    }
    auto& node = r->quiet();
    const auto& pool = r->quiet_pool();
    const auto from = r->sender_address();
    const auto accepted_before = node.statistics().accepted;
    const auto sent_before = node.statistics().messages_sent;
    std::size_t next = 0;
    std::size_t bytes = 0;
    for (auto _ : state) {
        node.on_datagram(from, pool[next]);
        bytes += pool[next].size();
        next = next + 1 == pool.size() ? 0 : next + 1;
    }
    if (node.statistics().accepted - accepted_before != static_cast<std::uint64_t>(state.iterations()) ||
        node.statistics().messages_sent != sent_before) {
        state.SkipWithError("the quiet node refused a request or answered one");
    }
    state.SetItemsProcessed(state.iterations());
    state.SetBytesProcessed(static_cast<std::int64_t>(bytes));
}

BENCHMARK(BM_node_receive)->MinTime(0.3);

} // namespace

BENCHMARK_MAIN();
