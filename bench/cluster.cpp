// A cluster of N real nodes over UDP on 127.0.0.1, all in this process and driven by ONE thread:
// every node has its own socket, registered once with one epoll instance, and the loop calls each
// node's node_driver hooks (fd(), next_deadline(), on_readable(), on_deadline()), as an
// application's own event loop would. Deadlines wait in a min-heap, so a wake-up costs what is
// due and ready rather than O(N) (Linux only: epoll). The node is the one
// examples/gossip_agent.cpp runs: random peers, healer views, push-pull, and membership beside an
// anti-entropy log with rumors.
//
// For each N it measures, on fresh clusters (one per repeat):
//   join        every node joins one seed (the seed joins nobody); time until every node sees
//               all N alive in its membership table;
//   broadcast   then one put at a random node; time until the last other node delivers it;
//   sections    (before the repeats, on a cluster of its own) membership entries per section the
//               nodes actually wrote, from which t_fail follows; again over the idle window;
//   idle_cpu    (first repeat) process CPU over a window of steady state, per node and second,
//               user and kernel, and the part spent inside the nodes' hooks;
//   memory      (first repeat) VmRSS and heap after that window minus before the nodes existed
//               (a small cluster runs first, so that what the process allocates once is not
//               charged to the first N);
//   detection   (first --detect-repeats repeats) one node stops (no leave: its socket closes
//               and nobody drives it); time until every other node reports it failed;
//   false failures over the whole run: `failed` events about a node that was running.
//
// Output: one line of key=value pairs per figure on stdout, progress on stderr. See README.md
// next to this file.

#include "cpu_time.hpp"
#include "heap_in_use.hpp"

#include <gossip/gossip.hpp>
#include <gossip/payload/combined.hpp>
#include <gossip/runtime/node_driver.hpp>
#include <gossip/transport/udp.hpp>

#include <sys/epoll.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <exception>
#include <fstream>
#include <optional>
#include <span>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace {

using gossip::transport::udp;
using gossip::transport::udp_address;
using log_store = gossip::payload::lww_map<std::string, std::string>;
using log_payload = gossip::payload::anti_entropy<log_store>;
using membership = gossip::payload::membership<udp_address>;
using agent_payload = gossip::payload::combined<membership, log_payload>;
using node_type = gossip::gossip_node<udp, gossip::peer_selection::random, gossip::view_selection::healer,
                                      gossip::propagation::push_pull, agent_payload>;
using driver_type = gossip::node_driver<node_type>;
using clock_type = std::chrono::steady_clock;
using gossip::payload::member_event_kind;
using namespace std::chrono_literals;

// --- options -------------------------------------------------------------------------------

struct options {
    std::vector<std::size_t> nodes{16, 64, 128};
    std::chrono::milliseconds period{200};
    std::size_t fanout = 3;
    std::size_t repeats = 20;
    std::uint64_t seed = 42;
    std::size_t view_size = 20;          // as gossip_agent
    std::size_t max_bytes = 1400;        // the config's default
    double first_share = 0.5;            // combined's default: membership gets at most half
    double t_fail_periods = 10;          // per datagram's worth of the table (membership.hpp)
    std::chrono::milliseconds t_fail{0}; // 0: from t_fail_periods
    double idle_seconds = 5;
    std::size_t detect_repeats = 5;
    bool quick = false;
};

[[noreturn]] void usage(const std::string& problem)
{
    std::fprintf(stderr,
                 "%s\nusage: cluster [--nodes 16,64,128] [--period MS] [--fanout F] [--repeats R] [--seed S]\n"
                 "               [--quick] [--view C] [--max-bytes B] [--first-share X] [--t-fail-periods P]\n"
                 "               [--t-fail MS] [--idle-seconds S] [--detect-repeats D]\n"
                 "  --quick: N = 16 and 64, 3 repeats, a 2 s idle window, 1 detection (for CI)\n",
                 problem.c_str());
    std::exit(2);
}

std::vector<std::size_t> parse_list(std::string_view s)
{
    std::vector<std::size_t> out;
    while (!s.empty()) {
        const auto at = s.find(',');
        out.push_back(std::stoul(std::string(s.substr(0, at))));
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
    bool nodes_given = false;
    bool repeats_given = false;
    bool idle_given = false;
    bool detect_given = false;
    for (int i = 1; i < argc; ++i) {
        const std::string flag = argv[i];
        if (flag == "--quick") {
            o.quick = true;
            continue;
        }
        if (flag == "--help" || flag == "-h") {
            usage("cluster: N UDP nodes on 127.0.0.1 in one process, one epoll loop");
        }
        if (i + 1 >= argc) {
            usage("missing value after " + flag);
        }
        const std::string value = argv[++i];
        try {
            if (flag == "--nodes") {
                o.nodes = parse_list(value);
                nodes_given = true;
            } else if (flag == "--period") {
                o.period = std::chrono::milliseconds(std::stol(value));
            } else if (flag == "--fanout") {
                o.fanout = std::stoul(value);
            } else if (flag == "--repeats") {
                o.repeats = std::stoul(value);
                repeats_given = true;
            } else if (flag == "--seed") {
                o.seed = std::stoull(value);
            } else if (flag == "--view") {
                o.view_size = std::stoul(value);
            } else if (flag == "--max-bytes") {
                o.max_bytes = std::stoul(value);
            } else if (flag == "--first-share") {
                o.first_share = std::stod(value);
            } else if (flag == "--t-fail-periods") {
                o.t_fail_periods = std::stod(value);
            } else if (flag == "--t-fail") {
                o.t_fail = std::chrono::milliseconds(std::stol(value));
            } else if (flag == "--idle-seconds") {
                o.idle_seconds = std::stod(value);
                idle_given = true;
            } else if (flag == "--detect-repeats") {
                o.detect_repeats = std::stoul(value);
                detect_given = true;
            } else {
                usage("unknown option " + flag);
            }
        } catch (const std::exception& e) {
            usage(flag + " " + value + ": " + e.what());
        }
    }
    if (o.quick) {
        if (!nodes_given) {
            o.nodes = {16, 64};
        }
        if (!repeats_given) {
            o.repeats = 3;
        }
        if (!idle_given) {
            o.idle_seconds = 2;
        }
        if (!detect_given) {
            o.detect_repeats = 1;
        }
    }
    if (o.nodes.empty() || std::any_of(o.nodes.begin(), o.nodes.end(), [](std::size_t n) { return n < 2; })) {
        usage("--nodes needs values of at least 2");
    }
    if (o.repeats == 0 || o.period <= 0ms || o.idle_seconds <= 0 || o.t_fail_periods <= 0) {
        usage("--repeats, --period, --idle-seconds and --t-fail-periods must be positive");
    }
    o.detect_repeats = std::min(o.detect_repeats, o.repeats);
    return o;
}

// --- small helpers ---------------------------------------------------------------------------

double ms(clock_type::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

std::string fixed(double v, int decimals = 1)
{
    char buffer[64];
    std::snprintf(buffer, sizeof buffer, "%.*f", decimals, v);
    return buffer;
}

double median(std::vector<double> v)
{
    if (v.empty()) {
        return NAN;
    }
    std::sort(v.begin(), v.end());
    const std::size_t m = v.size() / 2;
    return v.size() % 2 == 1 ? v[m] : (v[m - 1] + v[m]) / 2;
}

double worst(const std::vector<double>& v) { return v.empty() ? NAN : *std::max_element(v.begin(), v.end()); }

/// The q-quantile (nearest rank) of v.
double quantile(std::vector<double> v, double q)
{
    if (v.empty()) {
        return NAN;
    }
    std::sort(v.begin(), v.end());
    const auto rank = static_cast<std::size_t>(std::ceil(q * static_cast<double>(v.size())));
    return v[std::min(v.size() - 1, rank > 0 ? rank - 1 : 0)];
}

/// A field of /proc/self/status in kB ("VmRSS:"), as bytes; 0 when unreadable.
std::size_t proc_status_bytes(const std::string& field)
{
    std::ifstream in("/proc/self/status");
    std::string line;
    while (std::getline(in, line)) {
        if (line.rfind(field, 0) == 0) {
            return std::stoul(line.substr(field.size())) * 1024;
        }
    }
    return 0;
}

/// The 1-minute load average, as /proc/loadavg gives it ("?" when unreadable): other work on
/// the machine shows in every figure here.
std::string load_average()
{
    std::ifstream in("/proc/loadavg");
    std::string one;
    return in >> one ? one : "?";
}

/// One counter of the kernel's Udp line in /proc/net/snmp (system wide), or 0.
std::uint64_t udp_snmp(const std::string& name)
{
    std::ifstream in("/proc/net/snmp");
    std::string header;
    std::string values;
    while (std::getline(in, header)) {
        if (header.rfind("Udp:", 0) == 0 && std::getline(in, values)) {
            std::istringstream h(header);
            std::istringstream v(values);
            std::string key;
            std::string value;
            while (h >> key && v >> value) {
                if (key == name) {
                    return std::stoull(value);
                }
            }
        }
    }
    return 0;
}

/// Returns freed heap to the system, so that an RSS difference measures what is in use.
void trim_heap()
{
#if GOSSIP_BENCH_HAVE_MALLINFO2
    ::malloc_trim(0);
#endif
}

/// Makes room for `needed` descriptors: the soft RLIMIT_NOFILE goes up to the hard one if it
/// must. Throws with the reason when even the hard limit is too low.
void ensure_descriptors(std::size_t needed)
{
    rlimit limit{};
    if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) {
        throw std::system_error(errno, std::generic_category(), "getrlimit(RLIMIT_NOFILE)");
    }
    if (limit.rlim_cur == RLIM_INFINITY || limit.rlim_cur >= needed) {
        return;
    }
    if (limit.rlim_max != RLIM_INFINITY && limit.rlim_max < needed) {
        throw std::runtime_error("cluster: " + std::to_string(needed) +
                                 " file descriptors needed (one socket a node), but the hard RLIMIT_NOFILE is " +
                                 std::to_string(limit.rlim_max) +
                                 "; raise it (ulimit -Hn, limits.conf) or run fewer nodes");
    }
    const rlim_t before = limit.rlim_cur;
    limit.rlim_cur = limit.rlim_max;
    if (::setrlimit(RLIMIT_NOFILE, &limit) != 0) {
        throw std::system_error(errno, std::generic_category(),
                                "cluster: cannot raise the soft RLIMIT_NOFILE from " + std::to_string(before) + " to " +
                                    std::to_string(limit.rlim_max) + " for " + std::to_string(needed) + " descriptors");
    }
    std::fprintf(stderr, "cluster: raised the soft RLIMIT_NOFILE from %llu to %llu\n",
                 static_cast<unsigned long long>(before), static_cast<unsigned long long>(limit.rlim_max));
}

// --- one cluster -------------------------------------------------------------------------------

/// Port -> node index, for the nodes of the cluster alive now (127.0.0.1 only).
class port_map {
public:
    port_map() : index_(65536, -1) {}
    void set(const udp_address& a, std::size_t i) { index_[a.port()] = static_cast<std::int32_t>(i); }
    void clear() { std::fill(index_.begin(), index_.end(), -1); }
    [[nodiscard]] std::optional<std::size_t> find(const udp_address& a) const
    {
        const auto i = index_[a.port()];
        return a.is_v4() && i >= 0 ? std::optional(static_cast<std::size_t>(i)) : std::nullopt;
    }

private:
    std::vector<std::int32_t> index_;
};

struct cluster_settings {
    std::size_t n = 0;
    gossip::config cfg;
    gossip::payload::membership_options members;
    gossip::payload::anti_entropy_options log;
    double first_share = 0.5;
    std::uint64_t seed = 0;
};

/// What the loop has done, for the CPU figure's breakdown.
struct loop_counters {
    std::uint64_t waits = 0; // epoll_wait() calls
    // Of them, those that timed out: they slept. In one thread a socket only turns ready by the
    // loop's own sends (loopback delivers within sendmmsg), so the others return at once.
    std::uint64_t sleeps = 0;
    std::uint64_t periods = 0;
    std::uint64_t readables = 0;
    // Thread CPU time, while profiling: the periods that were due (with the timer heap's pops and
    // pushes), epoll_wait(), and the sockets that were ready.
    std::chrono::nanoseconds deadline_cpu{0};
    std::chrono::nanoseconds wait_cpu{0};
    std::chrono::nanoseconds readable_cpu{0};
    clock_type::duration max_late{0}; // how late a period ran, at most
    std::uint64_t late_periods = 0;   // periods that ran more than half a period late
};

/// What the nodes' membership sections held: every message a node sends carries one.
struct section_counters {
    std::uint64_t sections = 0;  // messages sent, plus those the node failed to send
    std::uint64_t entries = 0;   // membership_statistics::entries_sent
    std::uint64_t truncated = 0; // sections that could not hold every gossiped member
    std::uint64_t bytes = 0;     // of the messages sent

    section_counters operator-(const section_counters& o) const
    {
        return {sections - o.sections, entries - o.entries, truncated - o.truncated, bytes - o.bytes};
    }
    [[nodiscard]] double entries_per_section() const
    {
        return sections == 0 ? NAN : static_cast<double>(entries) / static_cast<double>(sections);
    }
    [[nodiscard]] double truncated_share() const
    {
        return sections == 0 ? NAN : static_cast<double>(truncated) / static_cast<double>(sections);
    }
};

/// N nodes, their drivers and sockets, one epoll loop, and what their events tell.
class cluster {
public:
    cluster(const cluster_settings& s, port_map& ports) : s_(s), ports_(&ports)
    {
        // Everything of the harness's own is allocated here, before the nodes, so that the memory
        // figure can leave it out.
        const std::size_t n = s_.n;
        state_.assign(n * n, 0);
        alive_.assign(n, 0);
        running_.assign(n, 0); // attach() sets it
        got_.assign(n, 0);
        complete_at_.assign(n, std::nullopt);
        generation_.assign(n, 0);
        events_.resize(n);
        timers_.reserve(2 * n); // a stopped node's entry lingers until it surfaces
        drivers_.reserve(n);
        addresses_.reserve(n);
        key_.reserve(32);
        epoll_ = ::epoll_create1(EPOLL_CLOEXEC);
        if (epoll_ < 0) {
            throw std::system_error(errno, std::generic_category(), "epoll_create1");
        }
    }
    cluster(const cluster&) = delete;
    cluster& operator=(const cluster&) = delete;
    ~cluster()
    {
        ::close(epoll_);
        ports_->clear();
    }

    /// Opens the sockets and builds the nodes: node 0 is the seed, every other joins it alone.
    void populate()
    {
        const std::size_t n = s_.n;
        for (std::size_t i = 0; i < n; ++i) {
            udp socket(udp_address::loopback_v4(0));
            const udp_address self = socket.local_address();
            ports_->set(self, i);
            addresses_.push_back(self);
            membership table(s_.members, [this, i](const membership::event_type& e) { on_member(i, e); });
            log_payload log(s_.log, log_store{}, [this, i](const log_store::entry_type& e) { on_change(i, e); });
            nodes_.emplace_back(std::move(socket), s_.cfg, gossip::mix_seed(s_.seed, i + 1),
                                gossip::peer_selection::random{}, gossip::view_selection::healer{},
                                agent_payload(std::move(table), std::move(log), s_.first_share));
        }
        const std::span<const udp_address> seed(&addresses_[0], 1);
        for (std::size_t i = 1; i < n; ++i) {
            nodes_[i].join(seed);
        }
    }

    /// Starts every node's clock now (each first period at a random offset within a period).
    clock_type::time_point start()
    {
        const auto now = clock_type::now();
        for (std::size_t i = 0; i < s_.n; ++i) {
            gossip::driver_options d;
            d.seed = gossip::mix_seed(s_.seed, 0x1000000 + i) | 1U;
            drivers_.emplace_back(nodes_[i], d, now);
            attach(i);
        }
        started_ = now;
        return now;
    }

    /// Runs the loop until done() or the deadline; returns done().
    template <class Done>
    bool run_until(Done&& done, clock_type::time_point deadline)
    {
        while (!done()) {
            const auto now = clock_type::now();
            if (now >= deadline) {
                return false;
            }
            step(deadline);
            if (sample_quiet_ && now >= next_sample_) {
                sample_quiet(now);
                next_sample_ = now + 1s;
            }
        }
        return true;
    }

    void run_for(clock_type::duration d)
    {
        run_until([] { return false; }, clock_type::now() + d);
    }

    /// One put at node `origin`, under a key of its own; it spreads from the origin's next period.
    void broadcast(std::size_t origin, std::size_t number)
    {
        key_ = "broadcast#" + std::to_string(number);
        std::fill(got_.begin(), got_.end(), 0);
        delivered_ = 0;
        delivered_at_.reset();
        nodes_[origin].payload().second().put(key_, "hello");
        got_[origin] = 1;
    }

    /// Stops node `v` without a leave: nobody drives it any more and its socket closes.
    void crash(std::size_t v)
    {
        detach(v);
        nodes_[v].transport().close();
        victim_ = v;
        victim_failed_ = 0;
        victim_first_at_.reset();
        victim_dead_at_.reset();
    }

    /// Checks the event bookkeeping against the tables themselves: every node's alive_count().
    [[nodiscard]] bool tables_agree_all_alive() const
    {
        return std::all_of(nodes_.begin(), nodes_.end(),
                           [&](const node_type& n) { return n.payload().first().alive_count() == s_.n - 1; });
    }

    [[nodiscard]] std::size_t size() const noexcept { return s_.n; }
    [[nodiscard]] std::deque<node_type>& nodes() noexcept { return nodes_; }
    [[nodiscard]] const loop_counters& counters() const noexcept { return loop_; }
    [[nodiscard]] const std::optional<clock_type::time_point>& all_alive_at() const noexcept { return all_alive_at_; }
    /// When node i first saw all the others alive, if it has.
    [[nodiscard]] const std::optional<clock_type::time_point>& complete_at(std::size_t i) const noexcept
    {
        return complete_at_[i];
    }
    [[nodiscard]] const std::optional<clock_type::time_point>& delivered_at() const noexcept { return delivered_at_; }
    /// When the first, and the last, of the others reported the stopped node failed.
    [[nodiscard]] const std::optional<clock_type::time_point>& victim_first_at() const noexcept
    {
        return victim_first_at_;
    }
    [[nodiscard]] const std::optional<clock_type::time_point>& victim_dead_at() const noexcept
    {
        return victim_dead_at_;
    }
    [[nodiscard]] std::size_t delivered() const noexcept { return delivered_; }
    [[nodiscard]] std::size_t complete() const noexcept { return complete_; }
    [[nodiscard]] std::uint64_t false_failures() const noexcept { return false_failures_; }
    [[nodiscard]] std::uint64_t recovered() const noexcept { return recovered_; }
    [[nodiscard]] std::uint64_t restarted() const noexcept { return restarted_; }
    [[nodiscard]] std::uint64_t foreign() const noexcept { return foreign_; }
    [[nodiscard]] clock_type::duration max_quiet() const noexcept { return max_quiet_; }
    void sample_quiet(bool on) { sample_quiet_ = on; }
    /// Reads the thread's CPU clock around each part of the loop (a few system calls per turn).
    void profile(bool on) { profile_ = on; }

    /// The membership sections' counters, summed over the nodes (stopped ones included: the
    /// counters only grow).
    [[nodiscard]] section_counters section_totals() const
    {
        section_counters total;
        for (const auto& n : nodes_) {
            const auto& node = n.statistics();
            const auto& table = n.payload().first().statistics();
            total.sections += node.messages_sent + node.send_failures;
            total.bytes += node.bytes_sent;
            total.entries += table.entries_sent;
            total.truncated += table.truncated_writes;
        }
        return total;
    }

    /// The sockets' counters, summed over the nodes.
    [[nodiscard]] gossip::transport::udp_statistics udp_totals() const
    {
        gossip::transport::udp_statistics total;
        for (const auto& n : nodes_) {
            const auto& t = n.transport().statistics();
            total.datagrams_sent += t.datagrams_sent;
            total.datagrams_received += t.datagrams_received;
            total.send_calls += t.send_calls;
            total.receive_calls += t.receive_calls;
            total.send_errors += t.send_errors;
        }
        return total;
    }

private:
    // A deadline in the heap: node i's next period, valid while the node's generation is the one
    // it was pushed with (a stopped node's entry is dropped when it surfaces).
    struct timer {
        clock_type::time_point due;
        std::uint32_t node;
        std::uint32_t generation;
    };
    // std::push_heap keeps the greatest first: the latest-due compares least.
    static bool later(const timer& a, const timer& b) noexcept { return a.due > b.due; }

    void push_timer(std::size_t i)
    {
        timers_.push_back(timer{drivers_[i].next_deadline(), static_cast<std::uint32_t>(i), generation_[i]});
        std::push_heap(timers_.begin(), timers_.end(), later);
    }

    // Node i runs from now: its socket joins the epoll set (level-triggered, so a flood that
    // on_readable() leaves unread comes back next turn) and its deadline the heap.
    void attach(std::size_t i)
    {
        epoll_event e{};
        e.events = EPOLLIN;
        e.data.u64 = i;
        if (::epoll_ctl(epoll_, EPOLL_CTL_ADD, drivers_[i].fd(), &e) != 0) {
            throw std::system_error(errno, std::generic_category(), "epoll_ctl(EPOLL_CTL_ADD)");
        }
        running_[i] = 1;
        ++generation_[i];
        push_timer(i);
    }

    // Node i stops: out of the epoll set before its socket closes (a descriptor number can be
    // reused), and its heap entry goes stale.
    void detach(std::size_t i)
    {
        if (running_[i] == 0) {
            return;
        }
        if (::epoll_ctl(epoll_, EPOLL_CTL_DEL, drivers_[i].fd(), nullptr) != 0) {
            throw std::system_error(errno, std::generic_category(), "epoll_ctl(EPOLL_CTL_DEL)");
        }
        running_[i] = 0;
        ++generation_[i];
    }

    // One turn of the loop: the periods that are due, earliest first, one epoll_wait() until the
    // next deadline, then the sockets that are ready. Only on_deadline() moves a driver's
    // next_deadline() (on_readable() never does), so a node's heap entry is replaced right there.
    void step(clock_type::time_point limit)
    {
        const auto cpu0 = profile_ ? thread_cpu() : 0ns;
        auto now = clock_type::now();
        const auto half_period = std::chrono::duration_cast<clock_type::duration>(s_.cfg.period) / 2;
        while (!timers_.empty() && timers_.front().due <= now) {
            std::pop_heap(timers_.begin(), timers_.end(), later);
            const timer t = timers_.back();
            timers_.pop_back();
            if (t.generation != generation_[t.node]) {
                continue;
            }
            const auto late = now - t.due;
            loop_.max_late = std::max(loop_.max_late, late);
            loop_.late_periods += late > half_period ? 1 : 0;
            drivers_[t.node].on_deadline(now);
            ++loop_.periods;
            push_timer(t.node);
            now = clock_type::now();
        }
        const auto next = timers_.empty() ? limit : std::min(limit, timers_.front().due);
        int timeout = 0;
        if (next > now) {
            // Rounded up: waking a little late is harmless, waking early spins.
            timeout = static_cast<int>(
                std::min<std::int64_t>(std::chrono::ceil<std::chrono::milliseconds>(next - now).count(), 60'000));
        }
        const auto cpu1 = profile_ ? thread_cpu() : 0ns;
        const int rc = ::epoll_wait(epoll_, events_.data(), static_cast<int>(events_.size()), timeout);
        const auto cpu2 = profile_ ? thread_cpu() : 0ns;
        ++loop_.waits;
        loop_.sleeps += rc == 0 && timeout > 0 ? 1 : 0;
        if (rc < 0 && errno != EINTR) {
            throw std::system_error(errno, std::generic_category(), "epoll_wait");
        }
        for (int k = 0; k < rc; ++k) {
            const auto i = static_cast<std::size_t>(events_[static_cast<std::size_t>(k)].data.u64);
            if (running_[i] != 0) {
                drivers_[i].on_readable();
                ++loop_.readables;
            }
        }
        if (profile_) {
            const auto cpu3 = thread_cpu();
            loop_.deadline_cpu += cpu1 - cpu0;
            loop_.wait_cpu += cpu2 - cpu1;
            loop_.readable_cpu += cpu3 - cpu2;
        }
    }

    static std::chrono::nanoseconds thread_cpu() noexcept
    {
        timespec t{};
        ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
        return std::chrono::seconds(t.tv_sec) + std::chrono::nanoseconds(t.tv_nsec);
    }

    // The longest any running node has gone without a running member's heartbeat growing. A
    // node's rows carry no time until its first period (membership stamps them then).
    void sample_quiet(clock_type::time_point now)
    {
        const auto node_now = std::chrono::duration_cast<std::chrono::nanoseconds>(now.time_since_epoch());
        for (std::size_t i = 0; i < s_.n; ++i) {
            if (running_[i] == 0 || nodes_[i].statistics().cycles == 0) {
                continue;
            }
            for (const auto& m : nodes_[i].payload().first().members()) {
                const auto j = ports_->find(m.address);
                if (m.status == gossip::payload::member_status::alive && j && running_[*j] != 0) {
                    const auto quiet = std::chrono::duration_cast<clock_type::duration>(node_now - m.since);
                    max_quiet_ = std::max(max_quiet_, quiet);
                }
            }
        }
    }

    // Node i's membership table changed about someone.
    void on_member(std::size_t i, const membership::event_type& e)
    {
        const auto j = ports_->find(e.address);
        if (!j) {
            ++foreign_;
            return;
        }
        auto& believed = state_[i * s_.n + *j];
        switch (e.kind) {
        case member_event_kind::joined:
        case member_event_kind::recovered:
            recovered_ += e.kind == member_event_kind::recovered ? 1 : 0;
            if (believed == 0) {
                believed = 1;
                if (++alive_[i] == s_.n - 1) {
                    if (!complete_at_[i]) {
                        complete_at_[i] = clock_type::now();
                    }
                    if (++complete_ == s_.n && !all_alive_at_) {
                        all_alive_at_ = clock_type::now();
                    }
                }
            }
            break;
        case member_event_kind::failed:
        case member_event_kind::left:
            if (believed != 0) {
                believed = 0;
                if (alive_[i]-- == s_.n - 1) {
                    --complete_;
                }
            }
            if (e.kind == member_event_kind::failed) {
                if (running_[*j] != 0) {
                    ++false_failures_;
                    if (false_failures_ <= 5) {
                        std::fprintf(stderr,
                                     "cluster: FALSE FAILURE: node %zu declared running node %zu failed at +%.0f ms\n",
                                     i, *j, ms(clock_type::now() - started_));
                    }
                } else if (victim_ && *j == *victim_) {
                    if (!victim_first_at_) {
                        victim_first_at_ = clock_type::now();
                    }
                    if (++victim_failed_ == s_.n - 1) {
                        victim_dead_at_ = clock_type::now();
                    }
                }
            }
            break;
        case member_event_kind::restarted: ++restarted_; break;
        }
    }

    // Node i's store changed: a delivery when it is the current broadcast.
    void on_change(std::size_t i, const log_store::entry_type& e)
    {
        if (e.key == key_ && got_[i] == 0) {
            got_[i] = 1;
            if (++delivered_ == s_.n - 1) {
                delivered_at_ = clock_type::now();
            }
        }
    }

    cluster_settings s_;
    port_map* ports_;
    // The harness's bookkeeping.
    std::vector<std::uint8_t> state_; // n x n: does node i believe node j alive
    std::vector<std::size_t> alive_;  // per node: others it believes alive
    std::vector<std::uint8_t> running_;
    std::vector<std::uint8_t> got_;
    int epoll_ = -1;
    std::vector<epoll_event> events_;       // what one epoll_wait() returns, at most one per node
    std::vector<timer> timers_;             // a heap: the earliest deadline first
    std::vector<std::uint32_t> generation_; // per node: bumped when it starts or stops
    std::vector<udp_address> addresses_;
    std::size_t complete_ = 0;
    std::vector<std::optional<clock_type::time_point>> complete_at_; // per node: first saw all alive
    std::optional<clock_type::time_point> all_alive_at_;
    std::string key_;
    std::size_t delivered_ = 0;
    std::optional<clock_type::time_point> delivered_at_;
    std::optional<std::size_t> victim_;
    std::size_t victim_failed_ = 0;
    std::optional<clock_type::time_point> victim_first_at_;
    std::optional<clock_type::time_point> victim_dead_at_;
    std::uint64_t false_failures_ = 0;
    std::uint64_t recovered_ = 0;
    std::uint64_t restarted_ = 0;
    std::uint64_t foreign_ = 0;
    clock_type::time_point started_{};
    bool sample_quiet_ = true;
    bool profile_ = false;
    clock_type::time_point next_sample_{};
    clock_type::duration max_quiet_{0};
    loop_counters loop_;
    // The nodes and their drivers (a deque: nodes never move once built).
    std::deque<node_type> nodes_;
    std::vector<driver_type> drivers_;
};

// --- one N -------------------------------------------------------------------------------------

struct results {
    std::vector<double> join_ms;
    std::vector<double> node_join_ms; // every node of every converged repeat
    std::vector<double> seed_join_ms;
    std::vector<double> deliver_ms;
    std::vector<double> detect_all_ms;
    std::vector<double> detect_first_ms;
    std::size_t join_timeouts = 0;
    std::size_t deliver_timeouts = 0;
    std::size_t detect_timeouts = 0;
    std::size_t disagreements = 0; // event bookkeeping vs alive_count()
    std::uint64_t false_failures = 0;
    std::uint64_t recovered = 0;
    std::uint64_t restarted = 0;
    std::uint64_t foreign = 0;
    std::uint64_t send_errors = 0;
    clock_type::duration max_quiet{0};
    // idle window
    double idle_wall_s = 0;
    bench::cpu_times idle_cpu;
    std::uint64_t idle_datagrams = 0;
    std::uint64_t idle_send_calls = 0;    // sendmmsg calls that the kernel took
    std::uint64_t idle_receive_calls = 0; // recvmmsg calls that returned datagrams
    std::uint64_t idle_waits = 0;
    std::uint64_t idle_sleeps = 0;
    std::uint64_t idle_periods = 0;
    std::uint64_t idle_readables = 0;
    std::uint64_t idle_late_periods = 0;
    section_counters idle_sections;
    // the profiled window after it: process CPU, and thread CPU by part of the loop
    double profile_wall_s = 0;
    bench::cpu_times profile_cpu;
    double profile_deadline_s = 0;
    double profile_wait_s = 0;
    double profile_readable_s = 0;
    // memory
    std::size_t rss_before = 0;
    std::size_t rss_after = 0;
    std::size_t heap_before = 0;
    std::size_t heap_joined = 0;
    std::size_t heap_after = 0;
    std::size_t membership_bytes = 0; // per node: its membership table's memory_bytes()
    std::size_t view_bytes = 0;       // per node: descriptors in its view
    // the whole run
    std::uint64_t rcvbuf_errors = 0;
    std::uint64_t max_late_periods = 0;
    clock_type::duration max_late{0};
    double wall_s = 0;
};

cluster_settings settings_for(const options& o, std::size_t n, std::chrono::milliseconds t_fail, std::uint64_t seed)
{
    cluster_settings s;
    s.n = n;
    s.cfg.view_size = o.view_size;
    s.cfg.fanout = o.fanout;
    s.cfg.period = o.period;
    s.cfg.max_message_bytes = o.max_bytes;
    s.members.t_fail = t_fail;
    s.members.t_cleanup = 2 * t_fail;
    s.log.rumors = true; // as gossip_agent: a put spreads at once, sessions repair what rumors miss
    s.log.every = 2;
    s.first_share = o.first_share;
    s.seed = seed;
    return s;
}

// c and d: CPU over a window of steady state, then memory, then the same window again shorter
// with the thread's CPU clock read around each part of the loop (a few system calls a turn, so
// that the first window stays clean).
void measure_idle(cluster& c, const options& o, results& r)
{
    const auto window = [](double seconds) {
        return std::chrono::duration_cast<clock_type::duration>(std::chrono::duration<double>(seconds));
    };
    const std::size_t n = c.size();
    const auto period = std::chrono::duration_cast<clock_type::duration>(o.period);
    c.run_for(std::max<clock_type::duration>(1s, 5 * period)); // settle: the broadcast's rumor dies out
    c.sample_quiet(false);

    const auto before = c.counters();
    const auto udp_before = c.udp_totals();
    const auto sections_before = c.section_totals();
    const auto cpu_before = bench::cpu_usage(RUSAGE_SELF);
    const auto wall_before = clock_type::now();
    c.run_for(window(o.idle_seconds));
    const auto wall_after = clock_type::now();
    const auto cpu_after = bench::cpu_usage(RUSAGE_SELF);
    const auto after = c.counters();
    const auto udp_after = c.udp_totals();
    r.idle_sections = c.section_totals() - sections_before;
    r.idle_wall_s = std::chrono::duration<double>(wall_after - wall_before).count();
    r.idle_cpu = {cpu_after.user - cpu_before.user, cpu_after.system - cpu_before.system};
    r.idle_datagrams = udp_after.datagrams_sent - udp_before.datagrams_sent;
    r.idle_send_calls = udp_after.send_calls - udp_before.send_calls;
    r.idle_receive_calls = udp_after.receive_calls - udp_before.receive_calls;
    r.idle_waits = after.waits - before.waits;
    r.idle_sleeps = after.sleeps - before.sleeps;
    r.idle_periods = after.periods - before.periods;
    r.idle_readables = after.readables - before.readables;
    r.idle_late_periods = after.late_periods - before.late_periods;

    r.rss_after = proc_status_bytes("VmRSS:");
    r.heap_after = bench::heap_in_use();
    for (auto& node : c.nodes()) {
        r.membership_bytes += node.payload().first().memory_bytes();
        r.view_bytes += node.view().descriptors().size() * sizeof(node_type::descriptor_type);
    }
    r.membership_bytes /= n;
    r.view_bytes /= n;

    c.profile(true);
    const auto p_before = c.counters();
    const auto p_cpu_before = bench::cpu_usage(RUSAGE_SELF);
    const auto p_wall_before = clock_type::now();
    c.run_for(window(std::min(o.idle_seconds / 2, 2.0)));
    const auto p_after = c.counters();
    const auto p_cpu_after = bench::cpu_usage(RUSAGE_SELF);
    r.profile_wall_s = std::chrono::duration<double>(clock_type::now() - p_wall_before).count();
    c.profile(false);
    c.sample_quiet(true);
    const auto seconds = [](std::chrono::nanoseconds d) { return std::chrono::duration<double>(d).count(); };
    r.profile_cpu = {p_cpu_after.user - p_cpu_before.user, p_cpu_after.system - p_cpu_before.system};
    r.profile_deadline_s = seconds(p_after.deadline_cpu - p_before.deadline_cpu);
    r.profile_wait_s = seconds(p_after.wait_cpu - p_before.wait_cpu);
    r.profile_readable_s = seconds(p_after.readable_cpu - p_before.readable_cpu);
}

results measure(const options& o, std::size_t n, port_map& ports, std::chrono::milliseconds t_fail)
{
    results r;
    const auto whole_start = clock_type::now();
    const std::uint64_t rcvbuf_before = udp_snmp("RcvbufErrors");
    const auto period = std::chrono::duration_cast<clock_type::duration>(o.period);
    for (std::size_t rep = 0; rep < o.repeats; ++rep) {
        const auto s = settings_for(o, n, t_fail, gossip::mix_seed(o.seed, n * 1000 + rep));
        gossip::pcg32 rng(gossip::mix_seed(s.seed, 7));
        const bool measure_idle_here = rep == 0;

        cluster c(s, ports);
        if (measure_idle_here) {
            trim_heap();
            r.rss_before = proc_status_bytes("VmRSS:");
            r.heap_before = bench::heap_in_use();
        }
        c.populate();
        const auto t0 = c.start();

        // a. join
        std::string join_note = "-";
        const auto join_limit = 60s + 2 * t_fail;
        if (c.run_until([&] { return c.all_alive_at().has_value(); }, t0 + join_limit)) {
            r.join_ms.push_back(ms(*c.all_alive_at() - t0));
            for (std::size_t i = 0; i < n; ++i) {
                r.node_join_ms.push_back(ms(*c.complete_at(i) - t0));
            }
            r.seed_join_ms.push_back(ms(*c.complete_at(0) - t0));
            join_note = fixed(r.join_ms.back(), 0);
            r.disagreements += c.tables_agree_all_alive() ? 0 : 1;
        } else {
            ++r.join_timeouts;
            std::fprintf(stderr,
                         "cluster: n=%zu repeat %zu: join did not converge in %.0f s (%zu of %zu nodes complete)\n", n,
                         rep + 1, ms(join_limit) / 1000, c.complete(), n);
        }
        if (measure_idle_here) {
            r.heap_joined = bench::heap_in_use();
        }

        // b. broadcast
        std::string deliver_note = "-";
        const std::size_t origin = gossip::uniform_index(rng, n);
        const auto t1 = clock_type::now();
        c.broadcast(origin, rep);
        const auto deliver_limit = 30s + 4 * t_fail;
        if (c.run_until([&] { return c.delivered_at().has_value(); }, t1 + deliver_limit)) {
            r.deliver_ms.push_back(ms(*c.delivered_at() - t1));
            deliver_note = fixed(r.deliver_ms.back(), 0);
        } else {
            ++r.deliver_timeouts;
            std::fprintf(stderr, "cluster: n=%zu repeat %zu: broadcast reached %zu of %zu others in %.0f s\n", n,
                         rep + 1, c.delivered(), n - 1, ms(deliver_limit) / 1000);
        }

        // c, d. idle CPU and memory, on the first cluster
        if (measure_idle_here) {
            measure_idle(c, o, r);
        }

        // e. failure detection
        std::string detect_note;
        if (rep < o.detect_repeats) {
            const std::size_t victim = gossip::uniform_index(rng, n);
            const auto t2 = clock_type::now();
            c.crash(victim);
            const auto detect_limit = 2 * t_fail + 20 * period + 10s;
            if (c.run_until([&] { return c.victim_dead_at().has_value(); }, t2 + detect_limit)) {
                r.detect_all_ms.push_back(ms(*c.victim_dead_at() - t2));
                r.detect_first_ms.push_back(ms(*c.victim_first_at() - t2));
                detect_note = ", detection " + fixed(r.detect_all_ms.back(), 0) + " ms";
            } else {
                ++r.detect_timeouts;
                detect_note = ", detection TIMED OUT";
            }
        }

        r.false_failures += c.false_failures();
        r.recovered += c.recovered();
        r.restarted += c.restarted();
        r.foreign += c.foreign();
        r.send_errors += c.udp_totals().send_errors;
        r.max_quiet = std::max(r.max_quiet, c.max_quiet());
        r.max_late = std::max(r.max_late, c.counters().max_late);
        r.max_late_periods += c.counters().late_periods;
        std::fprintf(stderr, "cluster: n=%zu repeat %zu/%zu: join %s ms, broadcast %s ms%s, false failures %llu\n", n,
                     rep + 1, o.repeats, join_note.c_str(), deliver_note.c_str(), detect_note.c_str(),
                     static_cast<unsigned long long>(c.false_failures()));
    }
    r.rcvbuf_errors = udp_snmp("RcvbufErrors") - rcvbuf_before;
    r.wall_s = std::chrono::duration<double>(clock_type::now() - whole_start).count();
    return r;
}

/// The membership sections of a cluster of n in steady state, on a cluster of its own before the
/// repeats: t_fail follows from how many entries a section actually holds (entries vary in size,
/// and combined<> may lend the second payload's unused room), so it cannot be computed ahead.
/// Its t_fail is long, so that nobody fails while it joins.
struct section_probe {
    section_counters counts;
    bool joined = false;
};

section_probe probe_sections(const options& o, std::size_t n, port_map& ports)
{
    const auto period = std::chrono::duration_cast<clock_type::duration>(o.period);
    cluster c(settings_for(o, n, std::chrono::minutes(10), gossip::mix_seed(o.seed, n * 1000 + 999)), ports);
    c.populate();
    const auto t0 = c.start();
    section_probe p;
    p.joined = c.run_until([&] { return c.all_alive_at().has_value(); }, t0 + 60s);
    if (!p.joined) {
        std::fprintf(stderr,
                     "cluster: n=%zu: the section probe did not converge in 60 s (%zu of %zu complete); "
                     "measuring its sections anyway\n",
                     n, c.complete(), n);
    }
    c.run_for(2 * period); // every table full, every section at its steady size
    const auto before = c.section_totals();
    c.run_for(std::max<clock_type::duration>(1s, 5 * period));
    p.counts = c.section_totals() - before;
    return p;
}

/// A small cluster run once before anything is measured, so that what a process allocates once
/// (the thread's receive buffers, say) is not charged to the first N's nodes.
void warm_up(const options& o, port_map& ports)
{
    cluster c(settings_for(o, 8, 10 * o.period, o.seed), ports);
    c.populate();
    const auto t0 = c.start();
    c.run_until([&] { return c.all_alive_at().has_value(); }, t0 + 5s);
    c.broadcast(1, 0);
    c.run_for(std::max<clock_type::duration>(1s, 5 * std::chrono::duration_cast<clock_type::duration>(o.period)));
}

const char* yes_no(bool b) { return b ? "yes" : "no"; }

} // namespace

int main(int argc, char** argv)
{
    const options o = parse(argc, argv);
    try {
        ensure_descriptors(*std::max_element(o.nodes.begin(), o.nodes.end()) + 64);
        port_map ports;
        warm_up(o, ports);
        bool trouble = false; // a cluster misbehaved: the exit status says so, for CI
        for (const std::size_t n : o.nodes) {
            gossip::config cfg;
            cfg.view_size = o.view_size;
            cfg.fanout = o.fanout;
            cfg.period = o.period;
            cfg.max_message_bytes = o.max_bytes;
            (void)gossip::validate(cfg);
            const section_probe probe = probe_sections(o, n, ports);
            const double k = probe.counts.entries_per_section();
            if (!(k >= 2)) {
                throw std::runtime_error("cluster: the membership section holds fewer than 2 entries; raise "
                                         "--max-bytes or --first-share");
            }
            // Every other member travels once every ceil((n - 1) / (k - 1)) sections of a node
            // (its own entry always goes first): allow t_fail_periods per such window. Sections
            // that never truncate carry everyone each time: one window.
            const double windows = probe.counts.truncated == 0 ? 1.0 : std::ceil(static_cast<double>(n - 1) / (k - 1));
            const double advised_ms = std::ceil(o.t_fail_periods * windows * static_cast<double>(o.period.count()));
            const auto t_fail =
                o.t_fail.count() > 0 ? o.t_fail : std::chrono::milliseconds(static_cast<std::int64_t>(advised_ms));
            const std::string head = "n=" + std::to_string(n) + " period_ms=" + std::to_string(o.period.count()) +
                                     " fanout=" + std::to_string(o.fanout);
            std::printf("config %s view=%zu max_bytes=%zu first_share=%s membership_entries_per_section=%s "
                        "truncated_share=%s t_fail_ms=%lld t_cleanup_ms=%lld repeats=%zu detect_repeats=%zu idle_s=%s "
                        "seed=%llu load_average=%s\n",
                        head.c_str(), o.view_size, o.max_bytes, fixed(o.first_share, 2).c_str(), fixed(k, 2).c_str(),
                        fixed(probe.counts.truncated_share(), 3).c_str(), static_cast<long long>(t_fail.count()),
                        static_cast<long long>(2 * t_fail.count()), o.repeats, o.detect_repeats,
                        fixed(o.idle_seconds, 1).c_str(), static_cast<unsigned long long>(o.seed),
                        load_average().c_str());
            std::fflush(stdout);
            std::fprintf(stderr, "cluster: n=%zu, %zu repeats, t_fail %lld ms\n", n, o.repeats,
                         static_cast<long long>(t_fail.count()));

            const results r = measure(o, n, ports, t_fail);
            const double nn = static_cast<double>(n);
            std::printf("join %s join_median_ms=%s join_worst_ms=%s join_timeouts=%zu repeats=%zu "
                        "node_p50_ms=%s node_p90_ms=%s seed_median_ms=%s\n",
                        head.c_str(), fixed(median(r.join_ms)).c_str(), fixed(worst(r.join_ms)).c_str(),
                        r.join_timeouts, o.repeats, fixed(quantile(r.node_join_ms, 0.5)).c_str(),
                        fixed(quantile(r.node_join_ms, 0.9)).c_str(), fixed(median(r.seed_join_ms)).c_str());
            std::printf("broadcast %s deliver_median_ms=%s deliver_worst_ms=%s deliver_timeouts=%zu repeats=%zu\n",
                        head.c_str(), fixed(median(r.deliver_ms)).c_str(), fixed(worst(r.deliver_ms)).c_str(),
                        r.deliver_timeouts, o.repeats);
            const double per = 1000.0 / nn / r.idle_wall_s; // seconds of CPU -> ms per node-second
            const double cpu_s = r.idle_cpu.user + r.idle_cpu.system;
            const auto per_node_s = [&](std::uint64_t count) {
                return fixed(static_cast<double>(count) / nn / r.idle_wall_s, 1);
            };
            std::printf("idle_cpu %s cpu_ms_per_node_s=%s user_ms_per_node_s=%s sys_ms_per_node_s=%s "
                        "datagrams_sent_per_node_s=%s sendmmsg_per_node_s=%s recvmmsg_with_data_per_node_s=%s "
                        "readable_wakeups_per_node_s=%s periods_per_node_s=%s waits_per_s=%s sleeping_waits_per_s=%s "
                        "late_periods=%llu busy_fraction=%s window_s=%s\n",
                        head.c_str(), fixed(cpu_s * per, 4).c_str(), fixed(r.idle_cpu.user * per, 4).c_str(),
                        fixed(r.idle_cpu.system * per, 4).c_str(), per_node_s(r.idle_datagrams).c_str(),
                        per_node_s(r.idle_send_calls).c_str(), per_node_s(r.idle_receive_calls).c_str(),
                        per_node_s(r.idle_readables).c_str(), per_node_s(r.idle_periods).c_str(),
                        fixed(static_cast<double>(r.idle_waits) / r.idle_wall_s, 0).c_str(),
                        fixed(static_cast<double>(r.idle_sleeps) / r.idle_wall_s, 0).c_str(),
                        static_cast<unsigned long long>(r.idle_late_periods), fixed(cpu_s / r.idle_wall_s, 3).c_str(),
                        fixed(r.idle_wall_s, 2).c_str());
            // The nodes' part is the thread's CPU inside on_deadline() and on_readable(), user and
            // kernel; the harness's is the rest of the process's (epoll_wait() is most of it).
            const double pper = 1000.0 / nn / r.profile_wall_s;
            const double p_cpu_s = r.profile_cpu.user + r.profile_cpu.system;
            const double p_nodes_s = r.profile_deadline_s + r.profile_readable_s;
            // (No user/sys split here: the kernel samples it on scheduler ticks, too few in this
            // short window; the idle_cpu line has it.)
            std::printf("idle_cpu_parts %s cpu_ms_per_node_s=%s nodes_ms_per_node_s=%s periods_ms_per_node_s=%s "
                        "readable_ms_per_node_s=%s harness_ms_per_node_s=%s wait_ms_per_node_s=%s window_s=%s\n",
                        head.c_str(), fixed(p_cpu_s * pper, 4).c_str(), fixed(p_nodes_s * pper, 4).c_str(),
                        fixed(r.profile_deadline_s * pper, 4).c_str(), fixed(r.profile_readable_s * pper, 4).c_str(),
                        fixed((p_cpu_s - p_nodes_s) * pper, 4).c_str(), fixed(r.profile_wait_s * pper, 4).c_str(),
                        fixed(r.profile_wall_s, 2).c_str());
            const auto& sec = r.idle_sections;
            std::printf("sections %s membership_entries_per_section=%s truncated_share=%s bytes_per_message=%s "
                        "sections_per_node_s=%s window_s=%s\n",
                        head.c_str(), fixed(sec.entries_per_section(), 2).c_str(),
                        fixed(sec.truncated_share(), 3).c_str(),
                        fixed(sec.sections == 0 ? NAN
                                                : static_cast<double>(sec.bytes) / static_cast<double>(sec.sections),
                              0)
                            .c_str(),
                        per_node_s(sec.sections).c_str(), fixed(r.idle_wall_s, 2).c_str());
            const auto signed_per_node = [&](std::size_t after, std::size_t before) {
                return (static_cast<double>(after) - static_cast<double>(before)) / nn;
            };
            std::printf("memory %s rss_bytes_per_node=%s heap_bytes_per_node=%s heap_at_join_bytes_per_node=%s "
                        "membership_bytes_per_node=%zu view_bytes_per_node=%zu node_object_bytes=%zu "
                        "driver_object_bytes=%zu\n",
                        head.c_str(), fixed(signed_per_node(r.rss_after, r.rss_before), 0).c_str(),
                        fixed(signed_per_node(r.heap_after, r.heap_before), 0).c_str(),
                        fixed(signed_per_node(r.heap_joined, r.heap_before), 0).c_str(), r.membership_bytes,
                        r.view_bytes, sizeof(node_type), sizeof(driver_type));
            std::printf("detection %s detect_all_median_ms=%s detect_all_worst_ms=%s detect_first_median_ms=%s "
                        "t_fail_ms=%lld detect_timeouts=%zu repeats=%zu\n",
                        head.c_str(), fixed(median(r.detect_all_ms)).c_str(), fixed(worst(r.detect_all_ms)).c_str(),
                        fixed(median(r.detect_first_ms)).c_str(), static_cast<long long>(t_fail.count()),
                        r.detect_timeouts, r.detect_all_ms.size() + r.detect_timeouts);
            std::printf("false_failures %s false_failures=%llu recovered=%llu restarted=%llu max_quiet_ms=%s "
                        "t_fail_ms=%lld bookkeeping_disagreements=%zu foreign_events=%llu\n",
                        head.c_str(), static_cast<unsigned long long>(r.false_failures),
                        static_cast<unsigned long long>(r.recovered), static_cast<unsigned long long>(r.restarted),
                        fixed(ms(r.max_quiet), 0).c_str(), static_cast<long long>(t_fail.count()), r.disagreements,
                        static_cast<unsigned long long>(r.foreign));
            std::printf("loop %s max_period_late_ms=%s periods_late_over_half_period=%llu udp_rcvbuf_errors=%llu "
                        "send_errors=%llu wall_s=%s load_average=%s\n",
                        head.c_str(), fixed(ms(r.max_late), 1).c_str(),
                        static_cast<unsigned long long>(r.max_late_periods),
                        static_cast<unsigned long long>(r.rcvbuf_errors),
                        static_cast<unsigned long long>(r.send_errors), fixed(r.wall_s, 1).c_str(),
                        load_average().c_str());

            const bool joined_all = r.join_timeouts == 0 && !r.join_ms.empty();
            trouble = trouble || !joined_all || r.deliver_timeouts > 0 || r.detect_timeouts > 0 ||
                      r.false_failures > 0 || r.disagreements > 0;
            if (n == 128 && o.period == 200ms && o.fanout == 3) {
                const double rss_kib = signed_per_node(r.rss_after, r.rss_before) / 1024;
                const double heap_kib = signed_per_node(r.heap_after, r.heap_before) / 1024;
                std::printf("verdict %s target_join_worst_under_2s=%s target_join_median_under_1s=%s "
                            "target_rss_under_40KiB_per_node=%s target_heap_under_40KiB_per_node=%s "
                            "target_idle_cpu_under_0.1ms_per_node_s=%s\n",
                            head.c_str(), yes_no(joined_all && worst(r.join_ms) < 2000),
                            yes_no(joined_all && median(r.join_ms) < 1000), yes_no(rss_kib < 40), yes_no(heap_kib < 40),
                            yes_no(cpu_s * per < 0.1));
            }
            if (n == 1024 && o.period >= 20ms && o.period <= 100ms) {
                std::printf("verdict %s target_converged=%s target_zero_false_failures=%s\n", head.c_str(),
                            yes_no(joined_all), yes_no(r.false_failures == 0));
            }
            std::fflush(stdout);
        }
        if (trouble) {
            std::fprintf(stderr, "cluster: some cluster did not converge, lost a broadcast or a detection, reported a "
                                 "false failure, or its events disagreed with its tables (see above)\n");
            return 3;
        }
    } catch (const std::exception& e) {
        std::fprintf(stderr, "%s\n", e.what());
        return 1;
    }
    return 0;
}
