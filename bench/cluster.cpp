// A cluster of N real nodes over UDP on 127.0.0.1, all in this process and driven by ONE thread:
// every node has its own socket, registered once with one epoll instance, and the loop calls each
// node's node_driver hooks (fd(), next_deadline(), on_readable(), on_deadline()), as an
// application's own event loop would. Deadlines wait in a min-heap, so a wake-up costs what is
// due and ready rather than O(N) (Linux only: epoll).
//
// Two nodes can be measured (--payload heartbeat|swim|both):
//   heartbeat   the node examples/gossip_agent.cpp runs: random peers, healer views, push-pull,
//               and membership (a heartbeat table) beside an anti-entropy log with rumors;
//   swim        a SWIM-only node: random peers, a frozen view, push, and payload::swim (SWIM with
//               Lifeguard), which declines the node's periodic exchanges and talks on its own
//               through the node's outbox and timers (the node's period is the gossip interval).
//
// For each N and payload it measures, on fresh clusters (one per repeat):
//   join        node 0 is the seed; the others start at --join-rate a second (all at once for
//               small N) and each joins the seed alone. Per node: time from its start until it
//               lists every member that started before it (or with it) AND every one of those
//               lists it; and the time until every node lists all N - 1 others;
//   broadcast   then one broadcast at a random node (a put to the log; a swim user broadcast);
//               time until the last other node delivers it;
//   sections    (heartbeat, before the repeats, on a cluster of its own) membership entries per
//               section the nodes actually wrote, from which t_fail follows; again over the idle
//               window;
//   idle        (first repeat) bytes (UDP payload) and datagrams sent per node and second; process
//               CPU over the same window, per node and second, user and kernel, and the part spent
//               inside the nodes' hooks;
//   memory      (first repeat) VmRSS and heap after that window minus before the nodes existed
//               (a small cluster runs first, so that what the process allocates once is not
//               charged to the first N);
//   detection   (first --detect-repeats repeats) one node stops (no leave: its socket closes
//               and nobody drives it); time until every other node reports it failed;
//   false failures, in every phase: `failed` events about a node that was running; for swim
//               also `suspected` and `alive` (refuted) events, and the payload's statistics.
//
// Output: one line of key=value pairs per figure on stdout, progress on stderr. See README.md
// next to this file.

#include "cpu_time.hpp"
#include "heap_in_use.hpp"

#include <gossip/gossip.hpp>
#include <gossip/payload/combined.hpp>
#include <gossip/payload/swim.hpp>
#include <gossip/payload/swim_options.hpp>
#include <gossip/runtime/node_driver.hpp>
#include <gossip/transport/udp.hpp>

#include <sys/epoll.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <array>
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
#include <map>
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
using heartbeat_node = gossip::gossip_node<udp, gossip::peer_selection::random, gossip::view_selection::healer,
                                           gossip::propagation::push_pull, agent_payload>;
using swim_payload = gossip::payload::swim<udp_address>;
using swim_node = gossip::gossip_node<udp, gossip::peer_selection::random, gossip::view_selection::frozen,
                                      gossip::propagation::push, swim_payload>;
using swim_statistics = gossip::payload::swim_statistics;
using clock_type = std::chrono::steady_clock;
using gossip::payload::member_event_kind;
using gossip::payload::swim_event_kind;
namespace swim_formulas = gossip::payload::swim_formulas;
using namespace std::chrono_literals;

enum class payload_kind : std::uint8_t { heartbeat, swim };

const char* name_of(payload_kind k) { return k == payload_kind::swim ? "swim" : "heartbeat"; }

struct heartbeat_flavor {
    static constexpr payload_kind kind = payload_kind::heartbeat;
    using node_type = heartbeat_node;
};

struct swim_flavor {
    static constexpr payload_kind kind = payload_kind::swim;
    using node_type = swim_node;
};

/// The phases of a repeat, for the events counted in each.
enum phase : std::size_t { phase_join, phase_broadcast, phase_idle, phase_detection, phase_count };
constexpr std::array<const char*, phase_count> phase_names{"join", "broadcast", "idle", "detection"};
using per_phase = std::array<std::uint64_t, phase_count>;

// --- options -------------------------------------------------------------------------------

struct options {
    std::vector<std::size_t> nodes{16, 64, 128};
    std::vector<payload_kind> payloads{payload_kind::heartbeat, payload_kind::swim};
    std::chrono::milliseconds period{200}; // heartbeat's period
    std::size_t fanout = 3;
    std::size_t repeats = 10;
    std::uint64_t seed = 42;
    std::size_t view_size = 20;          // as gossip_agent
    std::size_t max_bytes = 1400;        // the config's default
    double first_share = 0.5;            // combined's default: membership gets at most half
    double t_fail_periods = 10;          // per datagram's worth of the table (membership.hpp)
    std::chrono::milliseconds t_fail{0}; // 0: from t_fail_periods
    double idle_seconds = 5;
    std::size_t detect_repeats = 5;
    std::optional<double> join_rate; // nodes a second; 0: all at once; unset: auto
    gossip::payload::swim_options swim = gossip::payload::swim_options::lan();
    bool quick = false;
};

/// The join rate for N nodes: --join-rate, or all at once up to 128 nodes and 50 a second above.
double join_rate_for(const options& o, std::size_t n)
{
    if (o.join_rate) {
        return *o.join_rate;
    }
    return n <= 128 ? 0.0 : 50.0;
}

[[noreturn]] void usage(const std::string& problem)
{
    std::fprintf(stderr,
                 "%s\nusage: cluster [--payload heartbeat|swim|both] [--nodes 16,64,128] [--repeats R]\n"
                 "               [--detect-repeats D] [--idle-seconds S] [--join-rate auto|all|R] [--seed S]\n"
                 "               [--quick] [--max-bytes B]\n"
                 "  heartbeat: [--period MS] [--fanout F] [--view C] [--first-share X] [--t-fail-periods P]\n"
                 "             [--t-fail MS]\n"
                 "  swim:      [--probe-interval MS] [--probe-timeout MS] [--gossip-interval MS]\n"
                 "             [--gossip-fanout F] [--suspicion-mult A] [--retransmit-mult L] [--no-lifeguard]\n"
                 "  --payload: both (the default) measures heartbeat, then swim, at each N\n"
                 "  --join-rate: nodes started a second after the seed; all: at once; auto (the default):\n"
                 "               at once up to N = 128, 50 a second above\n"
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
        if (flag == "--no-lifeguard") {
            o.swim.lifeguard = gossip::payload::lifeguard_options::off();
            continue;
        }
        if (flag == "--help" || flag == "-h") {
            usage("cluster: N UDP nodes on 127.0.0.1 in one process, one epoll loop");
        }
        if (i + 1 >= argc) {
            usage("missing value after " + flag);
        }
        const std::string value = argv[++i];
        const auto millis = [&] { return std::chrono::milliseconds(std::stol(value)); };
        try {
            if (flag == "--nodes") {
                o.nodes = parse_list(value);
                nodes_given = true;
            } else if (flag == "--payload") {
                if (value == "heartbeat") {
                    o.payloads = {payload_kind::heartbeat};
                } else if (value == "swim") {
                    o.payloads = {payload_kind::swim};
                } else if (value == "both") {
                    o.payloads = {payload_kind::heartbeat, payload_kind::swim};
                } else {
                    usage("--payload takes heartbeat, swim or both");
                }
            } else if (flag == "--period") {
                o.period = millis();
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
                o.t_fail = millis();
            } else if (flag == "--idle-seconds") {
                o.idle_seconds = std::stod(value);
                idle_given = true;
            } else if (flag == "--detect-repeats") {
                o.detect_repeats = std::stoul(value);
                detect_given = true;
            } else if (flag == "--join-rate") {
                if (value == "auto") {
                    o.join_rate.reset();
                } else if (value == "all") {
                    o.join_rate = 0.0;
                } else {
                    o.join_rate = std::stod(value);
                    if (!(*o.join_rate > 0)) {
                        usage("--join-rate takes auto, all or a positive rate");
                    }
                }
            } else if (flag == "--probe-interval") {
                o.swim.probe_interval = millis();
            } else if (flag == "--probe-timeout") {
                o.swim.probe_timeout = millis();
            } else if (flag == "--gossip-interval") {
                o.swim.gossip_interval = millis();
            } else if (flag == "--gossip-fanout") {
                o.swim.gossip_fanout = std::stoul(value);
            } else if (flag == "--suspicion-mult") {
                o.swim.suspicion_mult = std::stod(value);
            } else if (flag == "--retransmit-mult") {
                o.swim.retransmit_mult = std::stod(value);
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
    if (auto problem = gossip::payload::check(o.swim)) {
        usage("swim: " + *problem);
    }
    o.detect_repeats = std::min(o.detect_repeats, o.repeats);
    return o;
}

// --- small helpers ---------------------------------------------------------------------------

double ms(clock_type::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

template <class Rep, class Period>
long long ms_count(std::chrono::duration<Rep, Period> d)
{
    return static_cast<long long>(std::chrono::duration_cast<std::chrono::milliseconds>(d).count());
}

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

// --- swim statistics, summed -----------------------------------------------------------------

struct swim_field {
    const char* name;
    std::uint64_t swim_statistics::*field;
};

// The counters printed on the swim_stats line (every one of swim_statistics but `delivered`,
// `duplicates`, `joined`, `left` and `updated`, which the events already tell).
constexpr std::array swim_fields{
    swim_field{"probes", &swim_statistics::probes},
    swim_field{"acks", &swim_statistics::acks},
    swim_field{"indirect_acks", &swim_statistics::indirect_acks},
    swim_field{"probes_failed", &swim_statistics::probes_failed},
    swim_field{"indirect_probes", &swim_statistics::indirect_probes},
    swim_field{"relays", &swim_statistics::relays},
    swim_field{"relays_refused", &swim_statistics::relays_refused},
    swim_field{"nacks_sent", &swim_statistics::nacks_sent},
    swim_field{"nacks_received", &swim_statistics::nacks_received},
    swim_field{"missed_nacks", &swim_statistics::missed_nacks},
    swim_field{"late_acks", &swim_statistics::late_acks},
    swim_field{"stalls", &swim_statistics::stalls},
    swim_field{"suspicions", &swim_statistics::suspicions},
    swim_field{"suspected", &swim_statistics::suspected},
    swim_field{"confirmations", &swim_statistics::confirmations},
    swim_field{"refutations", &swim_statistics::refutations},
    swim_field{"false_suspicions", &swim_statistics::false_suspicions},
    swim_field{"failures", &swim_statistics::failures},
    swim_field{"failed", &swim_statistics::failed},
    swim_field{"reclaimed", &swim_statistics::reclaimed},
    swim_field{"pings_misaddressed", &swim_statistics::pings_misaddressed},
    swim_field{"gossip_messages", &swim_statistics::gossip_messages},
    swim_field{"syncs", &swim_statistics::syncs},
    swim_field{"syncs_equal", &swim_statistics::syncs_equal},
    swim_field{"sync_pages", &swim_statistics::sync_pages},
    swim_field{"seed_contacts", &swim_statistics::seed_contacts},
    swim_field{"updates_sent", &swim_statistics::updates_sent},
    swim_field{"updates_received", &swim_statistics::updates_received},
    swim_field{"stale_updates", &swim_statistics::stale_updates},
    swim_field{"dropped_table_full", &swim_statistics::dropped_table_full},
    swim_field{"dropped_queue_full", &swim_statistics::dropped_queue_full},
    swim_field{"malformed", &swim_statistics::malformed},
};

/// swim_statistics summed over nodes (and repeats), field by field as listed above.
struct swim_sums {
    std::array<std::uint64_t, swim_fields.size()> values{};

    void add(const swim_statistics& s)
    {
        for (std::size_t f = 0; f < swim_fields.size(); ++f) {
            values[f] += s.*(swim_fields[f].field);
        }
    }
    swim_sums& operator+=(const swim_sums& o)
    {
        for (std::size_t f = 0; f < values.size(); ++f) {
            values[f] += o.values[f];
        }
        return *this;
    }
    swim_sums operator-(const swim_sums& o) const
    {
        swim_sums d;
        for (std::size_t f = 0; f < values.size(); ++f) {
            d.values[f] = values[f] - o.values[f];
        }
        return d;
    }
    [[nodiscard]] std::uint64_t get(std::string_view name) const
    {
        for (std::size_t f = 0; f < swim_fields.size(); ++f) {
            if (name == swim_fields[f].name) {
                return values[f];
            }
        }
        return 0;
    }
};

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
    gossip::payload::swim_options swim;
    double join_rate = 0; // nodes started a second after the seed; 0: all at once
    std::uint64_t seed = 0;
};

/// What the loop has done, for the CPU figure's breakdown.
struct loop_counters {
    std::uint64_t waits = 0; // epoll_wait() calls
    // Of them, those that timed out: they slept. In one thread a socket only turns ready by the
    // loop's own sends (loopback delivers within sendmmsg), so the others return at once.
    std::uint64_t sleeps = 0;
    std::uint64_t periods = 0; // on_deadline() calls: periods and payload timers
    std::uint64_t readables = 0;
    // Thread CPU time, while profiling: the deadlines that were due (with the timer heap's pops
    // and pushes), epoll_wait(), and the sockets that were ready.
    std::chrono::nanoseconds deadline_cpu{0};
    std::chrono::nanoseconds wait_cpu{0};
    std::chrono::nanoseconds readable_cpu{0};
    clock_type::duration max_late{0}; // how late a deadline ran, at most
    std::uint64_t late_periods = 0;   // deadlines that ran more than half a period late
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
template <class Flavor>
class cluster {
public:
    using node_type = typename Flavor::node_type;
    using driver_type = gossip::node_driver<node_type>;
    static constexpr bool is_swim = Flavor::kind == payload_kind::swim;

    cluster(const cluster_settings& s, port_map& ports) : s_(s), ports_(&ports)
    {
        // Everything of the harness's own is allocated here, before the nodes, so that the memory
        // figure can leave it out.
        const std::size_t n = s_.n;
        state_.assign(n * n, 0);
        alive_.assign(n, 0);
        running_.assign(n, 0); // attach() sets it
        got_.assign(n, 0);
        victim_seen_.assign(n, 0);
        complete_at_.assign(n, std::nullopt);
        generation_.assign(n, 0);
        scheduled_.assign(n, clock_type::time_point::max());
        start_due_.assign(n, clock_type::time_point::max());
        started_at_.assign(n, clock_type::time_point{});
        pending_.assign(n, {0, 0});
        half_at_.assign(n, {std::nullopt, std::nullopt});
        last_lister_.assign(n, 0);
        last_listed_.assign(n, 0);
        predecessors_.assign(n, 0);
        joined_at_.assign(n, std::nullopt);
        events_.resize(n);
        timers_.reserve(4 * n); // stale entries linger until they surface
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

    /// Opens the sockets and builds the nodes; they start with start().
    void populate()
    {
        const std::size_t n = s_.n;
        for (std::size_t i = 0; i < n; ++i) {
            udp socket(udp_address::loopback_v4(0));
            const udp_address self = socket.local_address();
            ports_->set(self, i);
            addresses_.push_back(self);
            const std::uint64_t seed = gossip::mix_seed(s_.seed, i + 1);
            if constexpr (is_swim) {
                swim_payload swim(s_.swim, [this, i](const swim_payload::event_type& e) { on_swim(i, e); });
                swim.on_broadcast([this, i](std::uint64_t id, std::span<const std::byte>) { on_delivery(i, id); });
                nodes_.emplace_back(std::move(socket), s_.cfg, seed, gossip::peer_selection::random{},
                                    gossip::view_selection::frozen{}, std::move(swim));
            } else {
                membership table(s_.members, [this, i](const membership::event_type& e) { on_member(i, e); });
                log_payload log(s_.log, log_store{}, [this, i](const log_store::entry_type& e) { on_change(i, e); });
                nodes_.emplace_back(std::move(socket), s_.cfg, seed, gossip::peer_selection::random{},
                                    gossip::view_selection::healer{},
                                    agent_payload(std::move(table), std::move(log), s_.first_share));
            }
        }
    }

    /// Starts the seed (node 0) now, and schedules the others: all now, or one every
    /// 1 / join_rate seconds. Each node joins the seed alone when it starts (the seed joins
    /// nobody) and its first period comes at a random offset within a period.
    clock_type::time_point start()
    {
        const auto now = clock_type::now();
        for (std::size_t i = 0; i < s_.n; ++i) {
            start_due_[i] = now;
            if (s_.join_rate > 0) {
                start_due_[i] += std::chrono::duration_cast<clock_type::duration>(
                    std::chrono::duration<double>(static_cast<double>(i) / s_.join_rate));
            }
        }
        started_ = now;
        start_due_nodes(now);
        return now;
    }

    /// When the last node is due to start.
    [[nodiscard]] clock_type::time_point last_start_due() const { return start_due_.back(); }
    [[nodiscard]] bool all_started() const noexcept { return next_start_ == s_.n; }
    [[nodiscard]] clock_type::time_point started_at(std::size_t i) const { return started_at_[i]; }
    /// When the last node started, once all have.
    [[nodiscard]] clock_type::time_point last_started_at() const { return started_at_.back(); }

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
            if (sample_ && now >= next_sample_) {
                sample(now);
                next_sample_ = now + 1s;
            }
        }
        return true;
    }

    void run_for(clock_type::duration d)
    {
        run_until([] { return false; }, clock_type::now() + d);
    }

    void set_phase(phase p) noexcept { phase_ = p; }

    /// One broadcast from node `origin`: a put to the log under a key of its own (it spreads
    /// from the origin's next period), or a swim user broadcast (from its next gossip round).
    void broadcast(std::size_t origin, std::size_t number)
    {
        key_ = "broadcast#" + std::to_string(number);
        std::fill(got_.begin(), got_.end(), 0);
        delivered_ = 0;
        delivered_at_.reset();
        got_[origin] = 1;
        if constexpr (is_swim) {
            const auto* bytes = reinterpret_cast<const std::byte*>(key_.data());
            broadcast_id_ = nodes_[origin].payload().broadcast(std::span<const std::byte>(bytes, key_.size()));
        } else {
            nodes_[origin].payload().second().put(key_, "hello");
        }
        reschedule(origin, clock_type::now());
    }

    /// Stops node `v` without a leave: nobody drives it any more and its socket closes.
    void crash(std::size_t v)
    {
        detach(v);
        nodes_[v].transport().close();
        victim_ = v;
        victim_failed_ = 0;
        victim_expected_ = static_cast<std::size_t>(std::count(running_.begin(), running_.end(), 1));
        std::fill(victim_seen_.begin(), victim_seen_.end(), 0);
        victim_first_at_.reset();
        victim_dead_at_.reset();
    }

    /// Running nodes whose own count of live members differs from what their events told.
    [[nodiscard]] std::size_t disagreements() const
    {
        std::size_t d = 0;
        for (std::size_t i = 0; i < s_.n; ++i) {
            if (running_[i] != 0 && alive_count(i) != alive_[i]) {
                ++d;
            }
        }
        return d;
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
    /// Node i's join: from its start until it listed every member that started before it (or
    /// with it), and each of those listed it; nothing while not yet. Nodes that had no such
    /// member (the seed, when nodes start one by one) are not counted: see predecessors().
    [[nodiscard]] std::optional<clock_type::duration> join_time(std::size_t i) const
    {
        if (!joined_at_[i]) {
            return std::nullopt;
        }
        return *joined_at_[i] - started_at_[i];
    }
    /// The two halves of node i's join: until it listed those members (way 0, out), and until
    /// they all listed it (way 1, in).
    [[nodiscard]] std::optional<clock_type::duration> half_time(std::size_t i, std::size_t way) const
    {
        if (!half_at_[i][way]) {
            return std::nullopt;
        }
        return *half_at_[i][way] - started_at_[i];
    }
    /// The pairs node i's join still waits for, each way.
    [[nodiscard]] std::array<std::size_t, 2> pending(std::size_t i) const noexcept { return pending_[i]; }
    [[nodiscard]] std::size_t predecessors(std::size_t i) const noexcept { return predecessors_[i]; }
    /// Pairs (i lists j, where i started before j) that came more than 3 s after j's start.
    [[nodiscard]] std::uint64_t late_pairs() const noexcept { return late_pairs_; }
    /// The member that listed node i last (of those its join waited for).
    [[nodiscard]] std::size_t last_lister(std::size_t i) const noexcept { return last_lister_[i]; }
    /// The member that node i listed last (of those its join waited for).
    [[nodiscard]] std::size_t last_listed(std::size_t i) const noexcept { return last_listed_[i]; }
    /// Every node started has finished its join.
    [[nodiscard]] bool all_joined() const noexcept { return all_started() && joined_ == s_.n; }
    [[nodiscard]] std::size_t joined() const noexcept { return joined_; }
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
    [[nodiscard]] std::size_t victim_failed() const noexcept { return victim_failed_; }
    [[nodiscard]] std::size_t delivered() const noexcept { return delivered_; }
    [[nodiscard]] std::size_t complete() const noexcept { return complete_; }
    [[nodiscard]] const per_phase& false_failures() const noexcept { return false_failures_; }
    [[nodiscard]] const per_phase& suspected_running() const noexcept { return suspected_running_; }
    [[nodiscard]] const per_phase& suspected_stopped() const noexcept { return suspected_stopped_; }
    [[nodiscard]] const per_phase& refuted() const noexcept { return refuted_; }
    [[nodiscard]] std::uint64_t recovered() const noexcept { return recovered_; }
    [[nodiscard]] std::uint64_t restarted() const noexcept { return restarted_; }
    [[nodiscard]] std::uint64_t updated() const noexcept { return updated_; }
    [[nodiscard]] std::uint64_t foreign() const noexcept { return foreign_; }
    [[nodiscard]] clock_type::duration max_quiet() const noexcept { return max_quiet_; }
    [[nodiscard]] std::uint32_t max_health() const noexcept { return max_health_; }
    [[nodiscard]] std::size_t max_unhealthy() const noexcept { return max_unhealthy_; }
    /// Pauses the once-a-second sampling (max quiet, health), to keep CPU windows clean.
    void sampling(bool on) { sample_ = on; }
    /// Reads the thread's CPU clock around each part of the loop (a few system calls per turn).
    void profile(bool on) { profile_ = on; }

    /// The membership sections' counters, summed over the nodes (stopped ones included: the
    /// counters only grow). Heartbeat only.
    [[nodiscard]] section_counters section_totals() const
    {
        section_counters total;
        if constexpr (!is_swim) {
            for (const auto& n : nodes_) {
                const auto& node = n.statistics();
                const auto& table = n.payload().first().statistics();
                total.sections += node.messages_sent + node.send_failures;
                total.bytes += node.bytes_sent;
                total.entries += table.entries_sent;
                total.truncated += table.truncated_writes;
            }
        }
        return total;
    }

    /// The swim payloads' statistics, summed over the nodes (stopped ones included). Swim only.
    [[nodiscard]] swim_sums swim_totals() const
    {
        swim_sums total;
        if constexpr (is_swim) {
            for (const auto& n : nodes_) {
                total.add(n.payload().statistics());
            }
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
            total.bytes_sent += t.bytes_sent;
            total.datagrams_received += t.datagrams_received;
            total.bytes_received += t.bytes_received;
            total.send_calls += t.send_calls;
            total.receive_calls += t.receive_calls;
            total.send_errors += t.send_errors;
        }
        return total;
    }

private:
    // A deadline in the heap: node i's next period or payload timer. It is valid while the node's
    // generation is the one it was pushed with (a stopped node's entries are dropped when they
    // surface) and while it is the node's latest (an earlier deadline may replace it).
    struct timer {
        clock_type::time_point due;
        clock_type::time_point pushed; // a deadline may be past already when it is set
        std::uint32_t node;
        std::uint32_t generation;
    };
    // std::push_heap keeps the greatest first: the latest-due compares least.
    static bool later(const timer& a, const timer& b) noexcept { return a.due > b.due; }

    void push_timer(std::size_t i, clock_type::time_point now)
    {
        scheduled_[i] = drivers_[i].next_deadline();
        timers_.push_back(timer{scheduled_[i], now, static_cast<std::uint32_t>(i), generation_[i]});
        std::push_heap(timers_.begin(), timers_.end(), later);
    }

    // After a call into node i other than on_deadline() (a datagram received, a broadcast), its
    // deadline may have come earlier (a swim payload's relay timer, say): the heap gets a new
    // entry and the old one goes stale. A later deadline keeps the old entry, which then wakes
    // the node for nothing once.
    void reschedule(std::size_t i, clock_type::time_point now)
    {
        if (running_[i] != 0 && drivers_[i].next_deadline() < scheduled_[i]) {
            push_timer(i, now);
        }
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
        push_timer(i, clock_type::now());
    }

    // Node i stops: out of the epoll set before its socket closes (a descriptor number can be
    // reused), and its heap entries go stale.
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

    // j started before i, or with it: i's join waits for the pair (i, j) both ways.
    [[nodiscard]] bool before(std::size_t j, std::size_t i) const noexcept
    {
        return j != i && start_due_[j] <= start_due_[i];
    }

    void start_due_nodes(clock_type::time_point now)
    {
        while (next_start_ < s_.n && start_due_[next_start_] <= now) {
            start_node(next_start_++, now);
        }
    }

    // Node i starts: its driver, its join (a swim payload contacts the seed at once), its socket
    // and deadline in the loop, and the pairs its join waits for.
    void start_node(std::size_t i, clock_type::time_point now)
    {
        gossip::driver_options d;
        d.seed = gossip::mix_seed(s_.seed, 0x1000000 + i) | 1U;
        drivers_.emplace_back(nodes_[i], d, now);
        started_at_[i] = now;
        if (i != 0) {
            nodes_[i].join(std::span<const udp_address>(&addresses_[0], 1));
            nodes_[i].transport().flush();
        }
        attach(i);
        std::array<std::size_t, 2> missing{0, 0};
        for (std::size_t j = 0; j < s_.n; ++j) {
            if (before(j, i)) {
                ++predecessors_[i];
                missing[0] += state_[i * s_.n + j] == 0 ? 1 : 0;
                missing[1] += state_[j * s_.n + i] == 0 ? 1 : 0;
            }
        }
        pending_[i] = missing;
        for (std::size_t way = 0; way < 2; ++way) {
            if (missing[way] == 0) {
                half_at_[i][way] = now;
            }
        }
        if (missing[0] + missing[1] == 0) {
            joined_at_[i] = now;
            ++joined_;
        }
    }

    // One more (delta = -1) or one fewer (+1) of the pairs node i's join waits for: i lists
    // another (way 0), or another lists i (way 1).
    void join_progress(std::size_t i, std::size_t way, int delta)
    {
        if (joined_at_[i] || running_[i] == 0) {
            return;
        }
        auto& p = pending_[i];
        p[way] = static_cast<std::size_t>(static_cast<std::ptrdiff_t>(p[way]) + delta);
        if (p[way] == 0 && !half_at_[i][way]) {
            half_at_[i][way] = clock_type::now();
        }
        if (p[0] + p[1] == 0) {
            joined_at_[i] = clock_type::now();
            ++joined_;
        }
    }

    // One turn of the loop: the nodes due to start, the deadlines that are due, earliest first,
    // one epoll_wait() until the next deadline, then the sockets that are ready. on_deadline()
    // moves a driver's next_deadline(), so its heap entry is replaced right there; on_readable()
    // may move it earlier (a swim payload's timer), so it is checked after that call too.
    void step(clock_type::time_point limit)
    {
        const auto cpu0 = profile_ ? thread_cpu() : 0ns;
        auto now = clock_type::now();
        start_due_nodes(now);
        const auto half_period = std::chrono::duration_cast<clock_type::duration>(s_.cfg.period) / 2;
        while (!timers_.empty() && timers_.front().due <= now) {
            std::pop_heap(timers_.begin(), timers_.end(), later);
            const timer t = timers_.back();
            timers_.pop_back();
            if (t.generation != generation_[t.node] || t.due != scheduled_[t.node]) {
                continue;
            }
            // Late against the deadline, or against when it was set if it was past already (a
            // swim payload's gossip round, due at once when news comes after a quiet spell).
            const auto late = now - std::max(t.due, t.pushed);
            loop_.max_late = std::max(loop_.max_late, late);
            loop_.late_periods += late > half_period ? 1 : 0;
            drivers_[t.node].on_deadline(now);
            ++loop_.periods;
            now = clock_type::now();
            push_timer(t.node, now);
        }
        auto next = timers_.empty() ? limit : std::min(limit, timers_.front().due);
        if (next_start_ < s_.n) {
            next = std::min(next, start_due_[next_start_]);
        }
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
        const auto woke = rc > 0 ? clock_type::now() : now;
        for (int k = 0; k < rc; ++k) {
            const auto i = static_cast<std::size_t>(events_[static_cast<std::size_t>(k)].data.u64);
            if (running_[i] != 0) {
                drivers_[i].on_readable();
                ++loop_.readables;
                reschedule(i, woke);
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

    [[nodiscard]] std::size_t alive_count(std::size_t i) const
    {
        if constexpr (is_swim) {
            return nodes_[i].payload().alive_count();
        } else {
            return nodes_[i].payload().first().alive_count();
        }
    }

    // Once a second: for heartbeat, the longest any running node has gone without a running
    // member's heartbeat growing (a node's rows carry no time until its first period: membership
    // stamps them then); for swim, the highest local health score (Lifeguard) of any running
    // node, and how many nodes had one above 0 at once.
    void sample(clock_type::time_point now)
    {
        if constexpr (is_swim) {
            (void)now;
            std::size_t unhealthy = 0;
            for (std::size_t i = 0; i < s_.n; ++i) {
                if (running_[i] != 0) {
                    const auto h = nodes_[i].payload().health();
                    max_health_ = std::max(max_health_, h);
                    unhealthy += h > 0 ? 1 : 0;
                }
            }
            max_unhealthy_ = std::max(max_unhealthy_, unhealthy);
        } else {
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
    }

    // Node i now lists node j (up) or no longer does.
    void believe(std::size_t i, std::size_t j, bool up)
    {
        auto& believed = state_[i * s_.n + j];
        if ((believed != 0) == up) {
            return;
        }
        believed = up ? 1 : 0;
        if (up) {
            if (++alive_[i] == s_.n - 1) {
                if (!complete_at_[i]) {
                    complete_at_[i] = clock_type::now();
                }
                if (++complete_ == s_.n && !all_alive_at_) {
                    all_alive_at_ = clock_type::now();
                }
            }
        } else if (alive_[i]-- == s_.n - 1) {
            --complete_;
        }
        const int delta = up ? -1 : 1;
        if (before(j, i)) {
            if (up) {
                last_listed_[i] = j;
            }
            join_progress(i, 0, delta);
        }
        if (before(i, j)) {
            if (up) {
                late_pairs_ += clock_type::now() - started_at_[j] > 3s ? 1 : 0;
                last_lister_[j] = i;
            }
            join_progress(j, 1, delta);
        }
    }

    // Node i reported node j failed.
    void reported_failed(std::size_t i, std::size_t j)
    {
        if (running_[j] != 0) {
            const auto total = ++false_failures_[phase_];
            if (total <= 5) {
                std::fprintf(stderr,
                             "cluster: FALSE FAILURE (%s): node %zu declared running node %zu failed at +%.0f ms\n",
                             phase_names[phase_], i, j, ms(clock_type::now() - started_));
            }
        } else if (victim_ && j == *victim_ && running_[i] != 0 && victim_seen_[i] == 0) {
            victim_seen_[i] = 1;
            if (!victim_first_at_) {
                victim_first_at_ = clock_type::now();
            }
            if (++victim_failed_ == victim_expected_) {
                victim_dead_at_ = clock_type::now();
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
        switch (e.kind) {
        case member_event_kind::joined:
        case member_event_kind::recovered:
            recovered_ += e.kind == member_event_kind::recovered ? 1 : 0;
            believe(i, *j, true);
            break;
        case member_event_kind::failed:
        case member_event_kind::left:
            believe(i, *j, false);
            if (e.kind == member_event_kind::failed) {
                reported_failed(i, *j);
            }
            break;
        case member_event_kind::restarted: ++restarted_; break;
        }
    }

    // Node i's swim payload changed its mind about someone.
    void on_swim(std::size_t i, const swim_payload::event_type& e)
    {
        const auto j = ports_->find(e.address);
        if (!j) {
            ++foreign_;
            return;
        }
        switch (e.kind) {
        case swim_event_kind::joined: believe(i, *j, true); break;
        case swim_event_kind::suspected: ++(running_[*j] != 0 ? suspected_running_ : suspected_stopped_)[phase_]; break;
        case swim_event_kind::alive: ++refuted_[phase_]; break;
        case swim_event_kind::failed:
            believe(i, *j, false);
            reported_failed(i, *j);
            break;
        case swim_event_kind::left: believe(i, *j, false); break;
        case swim_event_kind::updated: ++updated_; break;
        }
    }

    // Node i's store changed: a delivery when it is the current broadcast.
    void on_change(std::size_t i, const log_store::entry_type& e)
    {
        if (e.key == key_) {
            delivered(i);
        }
    }

    // Node i delivered a swim user broadcast.
    void on_delivery(std::size_t i, std::uint64_t id)
    {
        if (id == broadcast_id_) {
            delivered(i);
        }
    }

    void delivered(std::size_t i)
    {
        if (got_[i] == 0) {
            got_[i] = 1;
            if (++delivered_ == s_.n - 1) {
                delivered_at_ = clock_type::now();
            }
        }
    }

    cluster_settings s_;
    port_map* ports_;
    // The harness's bookkeeping.
    std::vector<std::uint8_t> state_; // n x n: does node i list node j
    std::vector<std::size_t> alive_;  // per node: others it lists
    std::vector<std::uint8_t> running_;
    std::vector<std::uint8_t> got_;
    std::vector<std::uint8_t> victim_seen_; // per node: reported the stopped node failed
    int epoll_ = -1;
    std::vector<epoll_event> events_;                 // what one epoll_wait() returns, at most one per node
    std::vector<timer> timers_;                       // a heap: the earliest deadline first
    std::vector<std::uint32_t> generation_;           // per node: bumped when it starts or stops
    std::vector<clock_type::time_point> scheduled_;   // per node: the due time of its valid heap entry
    std::vector<clock_type::time_point> start_due_;   // per node: when it is to start
    std::vector<clock_type::time_point> started_at_;  // per node: when it did
    std::vector<std::array<std::size_t, 2>> pending_; // per node: pairs its join still waits for, out and in
    std::vector<std::array<std::optional<clock_type::time_point>, 2>> half_at_; // per node: each way done
    std::uint64_t late_pairs_ = 0;
    std::vector<std::size_t> last_listed_;  // per node: the last member it listed
    std::vector<std::size_t> last_lister_;  // per node: the last member to list it
    std::vector<std::size_t> predecessors_; // per node: members started before it or with it
    std::vector<std::optional<clock_type::time_point>> joined_at_;
    std::size_t next_start_ = 0;
    std::size_t joined_ = 0;
    std::vector<udp_address> addresses_;
    std::size_t complete_ = 0;
    std::vector<std::optional<clock_type::time_point>> complete_at_; // per node: first listed all others
    std::optional<clock_type::time_point> all_alive_at_;
    std::string key_;
    std::uint64_t broadcast_id_ = 0;
    std::size_t delivered_ = 0;
    std::optional<clock_type::time_point> delivered_at_;
    std::optional<std::size_t> victim_;
    std::size_t victim_failed_ = 0;
    std::size_t victim_expected_ = 0;
    std::optional<clock_type::time_point> victim_first_at_;
    std::optional<clock_type::time_point> victim_dead_at_;
    phase phase_ = phase_join;
    per_phase false_failures_{};
    per_phase suspected_running_{};
    per_phase suspected_stopped_{};
    per_phase refuted_{};
    std::uint64_t recovered_ = 0;
    std::uint64_t restarted_ = 0;
    std::uint64_t updated_ = 0;
    std::uint64_t foreign_ = 0;
    clock_type::time_point started_{};
    bool sample_ = true;
    bool profile_ = false;
    clock_type::time_point next_sample_{};
    clock_type::duration max_quiet_{0};
    std::uint32_t max_health_ = 0;
    std::size_t max_unhealthy_ = 0;
    loop_counters loop_;
    // The nodes and their drivers (a deque: nodes never move once built).
    std::deque<node_type> nodes_;
    std::vector<driver_type> drivers_;
};

// --- one N -------------------------------------------------------------------------------------

struct results {
    std::vector<double> join_ms;          // start -> every node lists all others (the old figure)
    std::vector<double> all_after_ms;     // the last node's start -> every node lists all others
    std::vector<double> node_join_ms;     // per node: its start -> it lists those before it, they list it
    std::vector<double> node_lists_ms;    // per node: its start -> it lists those before it
    std::vector<double> node_listed_ms;   // per node: its start -> they all list it
    std::vector<double> node_sees_all_ms; // per node: the cluster's start -> it lists all others
    std::vector<double> seed_join_ms;
    std::vector<double> deliver_ms;
    std::vector<double> detect_all_ms;
    std::vector<double> detect_first_ms;
    std::size_t join_timeouts = 0;
    std::size_t node_join_timeouts = 0; // nodes whose join did not finish within the limit
    std::uint64_t late_pairs = 0;       // listings more than 3 s after the listed node's start
    double join_wall_s = 0;             // the join phases, summed
    std::uint64_t join_bytes = 0;       // sent during them
    std::uint64_t join_datagrams = 0;
    std::size_t deliver_timeouts = 0;
    std::size_t detect_timeouts = 0;
    std::size_t disagreements = 0; // event bookkeeping vs alive_count(), at convergence
    per_phase false_failures{};
    per_phase suspected_running{};
    per_phase suspected_stopped{};
    per_phase refuted{};
    std::uint64_t recovered = 0;
    std::uint64_t restarted = 0;
    std::uint64_t updated = 0;
    std::uint64_t foreign = 0;
    std::uint64_t send_errors = 0;
    clock_type::duration max_quiet{0};
    std::uint32_t max_health = 0;
    std::size_t max_unhealthy = 0;
    swim_sums swim_total; // every repeat, every phase
    // idle window
    double settle_s = 0; // from the broadcast's delivery to the window
    double idle_wall_s = 0;
    bench::cpu_times idle_cpu;
    std::uint64_t idle_datagrams = 0;
    std::uint64_t idle_bytes = 0;
    std::uint64_t idle_send_calls = 0;    // sendmmsg calls that the kernel took
    std::uint64_t idle_receive_calls = 0; // recvmmsg calls that returned datagrams
    std::uint64_t idle_waits = 0;
    std::uint64_t idle_sleeps = 0;
    std::uint64_t idle_periods = 0;
    std::uint64_t idle_readables = 0;
    std::uint64_t idle_late_periods = 0;
    section_counters idle_sections;
    swim_sums idle_swim;
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
    std::size_t membership_bytes = 0; // per node: its membership table's memory_bytes() (heartbeat)
    std::size_t view_bytes = 0;       // per node: descriptors in its view
    // the whole run
    std::uint64_t rcvbuf_errors = 0;
    std::uint64_t max_late_periods = 0;
    clock_type::duration max_late{0};
    double wall_s = 0;
};

cluster_settings settings_for(const options& o, payload_kind kind, std::size_t n, std::chrono::milliseconds t_fail,
                              std::uint64_t seed)
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
    s.swim = o.swim;
    if (kind == payload_kind::swim) {
        // The payload declines the node's exchanges: the period only paces the node's (empty)
        // ticks. It is the gossip interval, as the payload's own rounds.
        s.cfg.period = o.swim.gossip_interval;
    }
    s.join_rate = join_rate_for(o, n);
    s.seed = seed;
    return s;
}

clock_type::duration seconds_of(double seconds)
{
    return std::chrono::duration_cast<clock_type::duration>(std::chrono::duration<double>(seconds));
}

// c and d: traffic and CPU over a window of steady state, then memory, then the same window
// again shorter with the thread's CPU clock read around each part of the loop (a few system
// calls a turn, so that the first window stays clean).
template <class Flavor>
void measure_idle(cluster<Flavor>& c, const options& o, results& r)
{
    const std::size_t n = c.size();
    const auto settle_start = clock_type::now();
    if constexpr (Flavor::kind == payload_kind::swim) {
        // Settle: every update of the join and the broadcast has been sent its lambda log n
        // times, which after a join of many takes a while (each member queues each newcomer):
        // until a whole second passes without a gossip message, for 60 s at most.
        c.run_for(std::max<clock_type::duration>(3s, 2 * o.swim.probe_interval));
        const auto give_up = clock_type::now() + 60s;
        for (;;) {
            const auto gossip_before = c.swim_totals().get("gossip_messages");
            c.run_for(1s);
            if (c.swim_totals().get("gossip_messages") == gossip_before || clock_type::now() >= give_up) {
                break;
            }
        }
    } else {
        const auto period = std::chrono::duration_cast<clock_type::duration>(o.period);
        c.run_for(std::max<clock_type::duration>(1s, 5 * period)); // settle: the broadcast's rumor dies out
    }
    r.settle_s = std::chrono::duration<double>(clock_type::now() - settle_start).count();
    c.sampling(false);

    const auto before = c.counters();
    const auto udp_before = c.udp_totals();
    const auto sections_before = c.section_totals();
    const auto swim_before = c.swim_totals();
    const auto cpu_before = bench::cpu_usage(RUSAGE_SELF);
    const auto wall_before = clock_type::now();
    c.run_for(seconds_of(o.idle_seconds));
    const auto wall_after = clock_type::now();
    const auto cpu_after = bench::cpu_usage(RUSAGE_SELF);
    const auto after = c.counters();
    const auto udp_after = c.udp_totals();
    r.idle_sections = c.section_totals() - sections_before;
    r.idle_swim = c.swim_totals() - swim_before;
    r.idle_wall_s = std::chrono::duration<double>(wall_after - wall_before).count();
    r.idle_cpu = {cpu_after.user - cpu_before.user, cpu_after.system - cpu_before.system};
    r.idle_datagrams = udp_after.datagrams_sent - udp_before.datagrams_sent;
    r.idle_bytes = udp_after.bytes_sent - udp_before.bytes_sent;
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
        if constexpr (Flavor::kind == payload_kind::heartbeat) {
            r.membership_bytes += node.payload().first().memory_bytes();
        }
        r.view_bytes += node.view().descriptors().size() * sizeof(typename cluster<Flavor>::node_type::descriptor_type);
    }
    r.membership_bytes /= n;
    r.view_bytes /= n;

    c.profile(true);
    const auto p_before = c.counters();
    const auto p_cpu_before = bench::cpu_usage(RUSAGE_SELF);
    const auto p_wall_before = clock_type::now();
    c.run_for(seconds_of(std::min(o.idle_seconds / 2, 2.0)));
    const auto p_after = c.counters();
    const auto p_cpu_after = bench::cpu_usage(RUSAGE_SELF);
    r.profile_wall_s = std::chrono::duration<double>(clock_type::now() - p_wall_before).count();
    c.profile(false);
    c.sampling(true);
    const auto seconds = [](std::chrono::nanoseconds d) { return std::chrono::duration<double>(d).count(); };
    r.profile_cpu = {p_cpu_after.user - p_cpu_before.user, p_cpu_after.system - p_cpu_before.system};
    r.profile_deadline_s = seconds(p_after.deadline_cpu - p_before.deadline_cpu);
    r.profile_wait_s = seconds(p_after.wait_cpu - p_before.wait_cpu);
    r.profile_readable_s = seconds(p_after.readable_cpu - p_before.readable_cpu);
}

/// How long each phase may take before it counts as timed out.
struct limits {
    clock_type::duration join; // after the last node is due to start
    clock_type::duration deliver;
    clock_type::duration detect;
};

template <class Flavor>
results measure(const options& o, std::size_t n, port_map& ports, std::chrono::milliseconds t_fail, const limits& lim)
{
    constexpr payload_kind kind = Flavor::kind;
    results r;
    const auto whole_start = clock_type::now();
    const std::uint64_t rcvbuf_before = udp_snmp("RcvbufErrors");
    const std::uint64_t salt = kind == payload_kind::swim ? 0x5357494dULL : 0;
    for (std::size_t rep = 0; rep < o.repeats; ++rep) {
        const auto s = settings_for(o, kind, n, t_fail, gossip::mix_seed(o.seed ^ salt, n * 1000 + rep));
        gossip::pcg32 rng(gossip::mix_seed(s.seed, 7));
        const bool measure_idle_here = rep == 0;

        cluster<Flavor> c(s, ports);
        if (measure_idle_here) {
            trim_heap();
            r.rss_before = proc_status_bytes("VmRSS:");
            r.heap_before = bench::heap_in_use();
        }
        c.populate();
        const auto t0 = c.start();

        // a. join
        c.set_phase(phase_join);
        std::size_t slow_reported = 0;
        const double slow_join_ms = 3000; // the target at N = 1,024: all see all within 3 s of joining
        std::string join_note = "-";
        const bool converged =
            c.run_until([&] { return c.all_joined() && c.all_alive_at().has_value(); }, c.last_start_due() + lim.join);
        std::vector<double> joins_here;
        for (std::size_t i = 0; i < n; ++i) {
            if (c.predecessors(i) == 0) {
                continue; // the seed, when nodes start one by one: nobody to meet
            }
            if (const auto t = c.join_time(i)) {
                r.node_join_ms.push_back(ms(*t));
                joins_here.push_back(ms(*t));
            } else {
                ++r.node_join_timeouts;
            }
            const auto out = c.half_time(i, 0);
            const auto in = c.half_time(i, 1);
            if (out) {
                r.node_lists_ms.push_back(ms(*out));
            }
            if (in) {
                r.node_listed_ms.push_back(ms(*in));
            }
            if (slow_reported < 5 && (!out || !in || ms(std::max(*out, *in)) > slow_join_ms)) {
                ++slow_reported;
                const auto p = c.pending(i);
                std::fprintf(stderr,
                             "cluster: %s n=%zu repeat %zu: slow join: node %zu (started at +%.0f ms, after %zu "
                             "members): it listed them after %s ms (the last: node %zu, started at +%.0f ms), they "
                             "all listed it after %s ms (the last: node %zu, started at +%.0f ms); %zu and %zu pairs "
                             "missing at the end\n",
                             name_of(kind), n, rep + 1, i, ms(c.started_at(i) - t0), c.predecessors(i),
                             out ? fixed(ms(*out), 0).c_str() : "never", c.last_listed(i),
                             ms(c.started_at(c.last_listed(i)) - t0), in ? fixed(ms(*in), 0).c_str() : "never",
                             c.last_lister(i), ms(c.started_at(c.last_lister(i)) - t0), p[0], p[1]);
            }
        }
        r.late_pairs += c.late_pairs();
        {
            const auto u = c.udp_totals();
            r.join_wall_s += std::chrono::duration<double>(clock_type::now() - t0).count();
            r.join_bytes += u.bytes_sent;
            r.join_datagrams += u.datagrams_sent;
        }
        if (converged) {
            r.join_ms.push_back(ms(*c.all_alive_at() - t0));
            r.all_after_ms.push_back(ms(*c.all_alive_at() - c.last_started_at()));
            for (std::size_t i = 0; i < n; ++i) {
                r.node_sees_all_ms.push_back(ms(*c.complete_at(i) - t0));
            }
            r.seed_join_ms.push_back(ms(*c.complete_at(0) - t0));
            join_note = fixed(r.join_ms.back(), 0) + " ms (node join median " + fixed(median(joins_here), 0) +
                        ", worst " + fixed(worst(joins_here), 0) + ")";
            r.disagreements += c.disagreements() > 0 ? 1 : 0;
        } else {
            ++r.join_timeouts;
            join_note = "TIMED OUT";
            std::fprintf(stderr,
                         "cluster: %s n=%zu repeat %zu: join did not converge within %.0f s of the last start "
                         "(%zu of %zu nodes list all, %zu of %zu joins done)\n",
                         name_of(kind), n, rep + 1, ms(lim.join) / 1000, c.complete(), n, c.joined(), n);
        }
        if (measure_idle_here) {
            r.heap_joined = bench::heap_in_use();
        }

        // b. broadcast
        c.set_phase(phase_broadcast);
        std::string deliver_note = "-";
        const std::size_t origin = gossip::uniform_index(rng, n);
        const auto t1 = clock_type::now();
        c.broadcast(origin, rep);
        if (c.run_until([&] { return c.delivered_at().has_value(); }, t1 + lim.deliver)) {
            r.deliver_ms.push_back(ms(*c.delivered_at() - t1));
            deliver_note = fixed(r.deliver_ms.back(), 0);
        } else {
            ++r.deliver_timeouts;
            std::fprintf(stderr, "cluster: %s n=%zu repeat %zu: broadcast reached %zu of %zu others in %.0f s\n",
                         name_of(kind), n, rep + 1, c.delivered(), n - 1, ms(lim.deliver) / 1000);
        }

        // c, d. idle traffic, CPU and memory, on the first cluster
        if (measure_idle_here) {
            c.set_phase(phase_idle);
            measure_idle(c, o, r);
        }

        // e. failure detection
        std::string detect_note;
        if (rep < o.detect_repeats) {
            c.set_phase(phase_detection);
            const std::size_t victim = gossip::uniform_index(rng, n);
            const auto t2 = clock_type::now();
            c.crash(victim);
            if (c.run_until([&] { return c.victim_dead_at().has_value(); }, t2 + lim.detect)) {
                r.detect_all_ms.push_back(ms(*c.victim_dead_at() - t2));
                r.detect_first_ms.push_back(ms(*c.victim_first_at() - t2));
                detect_note = ", detection " + fixed(r.detect_all_ms.back(), 0) + " ms";
            } else {
                ++r.detect_timeouts;
                detect_note = ", detection TIMED OUT (" + std::to_string(c.victim_failed()) + " reported it)";
            }
        }

        for (std::size_t p = 0; p < phase_count; ++p) {
            r.false_failures[p] += c.false_failures()[p];
            r.suspected_running[p] += c.suspected_running()[p];
            r.suspected_stopped[p] += c.suspected_stopped()[p];
            r.refuted[p] += c.refuted()[p];
        }
        r.recovered += c.recovered();
        r.restarted += c.restarted();
        r.updated += c.updated();
        r.foreign += c.foreign();
        r.send_errors += c.udp_totals().send_errors;
        r.max_quiet = std::max(r.max_quiet, c.max_quiet());
        r.max_health = std::max(r.max_health, c.max_health());
        r.max_unhealthy = std::max(r.max_unhealthy, c.max_unhealthy());
        r.swim_total += c.swim_totals();
        r.max_late = std::max(r.max_late, c.counters().max_late);
        r.max_late_periods += c.counters().late_periods;
        std::uint64_t false_failures = 0;
        for (const auto f : c.false_failures()) {
            false_failures += f;
        }
        std::fprintf(stderr, "cluster: %s n=%zu repeat %zu/%zu: join %s, broadcast %s ms%s, false failures %llu\n",
                     name_of(kind), n, rep + 1, o.repeats, join_note.c_str(), deliver_note.c_str(), detect_note.c_str(),
                     static_cast<unsigned long long>(false_failures));
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
    cluster<heartbeat_flavor> c(settings_for(o, payload_kind::heartbeat, n, std::chrono::minutes(10),
                                             gossip::mix_seed(o.seed, n * 1000 + 999)),
                                ports);
    c.populate();
    c.start();
    section_probe p;
    p.joined = c.run_until([&] { return c.all_alive_at().has_value(); }, c.last_start_due() + 60s);
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
template <class Flavor>
void warm_up(const options& o, port_map& ports)
{
    options small = o;
    small.join_rate = 0.0;
    cluster<Flavor> c(settings_for(small, Flavor::kind, 8, 10 * o.period, o.seed), ports);
    c.populate();
    const auto t0 = c.start();
    c.run_until([&] { return c.all_alive_at().has_value(); }, t0 + 5s);
    c.broadcast(1, 0);
    c.run_for(std::max<clock_type::duration>(1s, 5 * std::chrono::duration_cast<clock_type::duration>(o.period)));
}

const char* yes_no(bool b) { return b ? "yes" : "no"; }

std::uint64_t sum(const per_phase& p)
{
    std::uint64_t total = 0;
    for (const auto v : p) {
        total += v;
    }
    return total;
}

/// "total=T join=J broadcast=B idle=I detection=D", each key prefixed.
std::string phases(const char* prefix, const per_phase& p)
{
    std::string out = std::string(prefix) + "=" + std::to_string(sum(p));
    for (std::size_t i = 0; i < phase_count; ++i) {
        out += " " + std::string(prefix) + "_" + phase_names[i] + "=" + std::to_string(p[i]);
    }
    return out;
}

// --- printing ----------------------------------------------------------------------------------

/// The lines both payloads print: join, broadcast, idle traffic, idle CPU, memory, loop.
template <class Flavor>
void print_common(const std::string& head, const options& o, std::size_t n, const results& r, double join_rate)
{
    const double nn = static_cast<double>(n);
    std::printf("join %s join_rate=%s join_median_ms=%s join_worst_ms=%s all_after_last_start_median_ms=%s "
                "all_after_last_start_worst_ms=%s join_timeouts=%zu repeats=%zu node_join_p50_ms=%s "
                "node_join_p90_ms=%s node_join_p99_ms=%s node_join_worst_ms=%s node_join_timeouts=%zu nodes_timed=%zu "
                "node_lists_them_p50_ms=%s node_lists_them_p99_ms=%s node_lists_them_worst_ms=%s "
                "node_listed_by_them_p50_ms=%s node_listed_by_them_p99_ms=%s node_listed_by_them_worst_ms=%s "
                "node_sees_all_p50_ms=%s node_sees_all_p90_ms=%s seed_sees_all_median_ms=%s node_joins_over_3s=%zu "
                "pairs_listed_over_3s_late=%llu join_bytes_per_node_s=%s join_datagrams_per_node_s=%s\n",
                head.c_str(), join_rate > 0 ? fixed(join_rate, 0).c_str() : "all", fixed(median(r.join_ms)).c_str(),
                fixed(worst(r.join_ms)).c_str(), fixed(median(r.all_after_ms)).c_str(),
                fixed(worst(r.all_after_ms)).c_str(), r.join_timeouts, o.repeats,
                fixed(quantile(r.node_join_ms, 0.5)).c_str(), fixed(quantile(r.node_join_ms, 0.9)).c_str(),
                fixed(quantile(r.node_join_ms, 0.99)).c_str(), fixed(worst(r.node_join_ms)).c_str(),
                r.node_join_timeouts, r.node_join_ms.size() + r.node_join_timeouts,
                fixed(quantile(r.node_lists_ms, 0.5)).c_str(), fixed(quantile(r.node_lists_ms, 0.99)).c_str(),
                fixed(worst(r.node_lists_ms)).c_str(), fixed(quantile(r.node_listed_ms, 0.5)).c_str(),
                fixed(quantile(r.node_listed_ms, 0.99)).c_str(), fixed(worst(r.node_listed_ms)).c_str(),
                fixed(quantile(r.node_sees_all_ms, 0.5)).c_str(), fixed(quantile(r.node_sees_all_ms, 0.9)).c_str(),
                fixed(median(r.seed_join_ms)).c_str(),
                static_cast<std::size_t>(
                    std::count_if(r.node_join_ms.begin(), r.node_join_ms.end(), [](double v) { return v > 3000; })) +
                    r.node_join_timeouts,
                static_cast<unsigned long long>(r.late_pairs),
                fixed(static_cast<double>(r.join_bytes) / static_cast<double>(n) / r.join_wall_s, 0).c_str(),
                fixed(static_cast<double>(r.join_datagrams) / static_cast<double>(n) / r.join_wall_s, 1).c_str());
    std::printf("broadcast %s deliver_median_ms=%s deliver_worst_ms=%s deliver_timeouts=%zu repeats=%zu\n",
                head.c_str(), fixed(median(r.deliver_ms)).c_str(), fixed(worst(r.deliver_ms)).c_str(),
                r.deliver_timeouts, o.repeats);
    const auto per_node_s = [&](std::uint64_t count, int decimals = 1) {
        return fixed(static_cast<double>(count) / nn / r.idle_wall_s, decimals);
    };
    std::printf("idle_traffic %s bytes_per_node_s=%s datagrams_per_node_s=%s bytes_per_datagram=%s window_s=%s "
                "settled_s=%s\n",
                head.c_str(), per_node_s(r.idle_bytes).c_str(), per_node_s(r.idle_datagrams, 2).c_str(),
                fixed(r.idle_datagrams == 0 ? NAN
                                            : static_cast<double>(r.idle_bytes) / static_cast<double>(r.idle_datagrams),
                      1)
                    .c_str(),
                fixed(r.idle_wall_s, 2).c_str(), fixed(r.settle_s, 1).c_str());
    const double per = 1000.0 / nn / r.idle_wall_s; // seconds of CPU -> ms per node-second
    const double cpu_s = r.idle_cpu.user + r.idle_cpu.system;
    std::printf("idle_cpu %s cpu_ms_per_node_s=%s user_ms_per_node_s=%s sys_ms_per_node_s=%s "
                "datagrams_sent_per_node_s=%s sendmmsg_per_node_s=%s recvmmsg_with_data_per_node_s=%s "
                "readable_wakeups_per_node_s=%s deadlines_per_node_s=%s waits_per_s=%s sleeping_waits_per_s=%s "
                "late_deadlines=%llu busy_fraction=%s window_s=%s\n",
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
    // (No user/sys split here: the kernel samples it on scheduler ticks, too few in this short
    // window; the idle_cpu line has it.)
    std::printf("idle_cpu_parts %s cpu_ms_per_node_s=%s nodes_ms_per_node_s=%s deadlines_ms_per_node_s=%s "
                "readable_ms_per_node_s=%s harness_ms_per_node_s=%s wait_ms_per_node_s=%s window_s=%s\n",
                head.c_str(), fixed(p_cpu_s * pper, 4).c_str(), fixed(p_nodes_s * pper, 4).c_str(),
                fixed(r.profile_deadline_s * pper, 4).c_str(), fixed(r.profile_readable_s * pper, 4).c_str(),
                fixed((p_cpu_s - p_nodes_s) * pper, 4).c_str(), fixed(r.profile_wait_s * pper, 4).c_str(),
                fixed(r.profile_wall_s, 2).c_str());
    const auto signed_per_node = [&](std::size_t after, std::size_t before) {
        return (static_cast<double>(after) - static_cast<double>(before)) / nn;
    };
    std::printf("memory %s rss_bytes_per_node=%s heap_bytes_per_node=%s heap_at_join_bytes_per_node=%s "
                "membership_bytes_per_node=%s view_bytes_per_node=%zu node_object_bytes=%zu driver_object_bytes=%zu\n",
                head.c_str(), fixed(signed_per_node(r.rss_after, r.rss_before), 0).c_str(),
                fixed(signed_per_node(r.heap_after, r.heap_before), 0).c_str(),
                fixed(signed_per_node(r.heap_joined, r.heap_before), 0).c_str(),
                Flavor::kind == payload_kind::heartbeat ? std::to_string(r.membership_bytes).c_str() : "-",
                r.view_bytes, sizeof(typename Flavor::node_type),
                sizeof(gossip::node_driver<typename Flavor::node_type>));
}

void print_loop(const std::string& head, const results& r)
{
    std::printf("loop %s max_deadline_late_ms=%s deadlines_late_over_half_period=%llu udp_rcvbuf_errors=%llu "
                "send_errors=%llu wall_s=%s load_average=%s\n",
                head.c_str(), fixed(ms(r.max_late), 1).c_str(), static_cast<unsigned long long>(r.max_late_periods),
                static_cast<unsigned long long>(r.rcvbuf_errors), static_cast<unsigned long long>(r.send_errors),
                fixed(r.wall_s, 1).c_str(), load_average().c_str());
}

/// Whether the runs of one N went wrong in a way CI should see (exit status 3).
bool troubled(const results& r)
{
    const bool joined_all = r.join_timeouts == 0 && !r.join_ms.empty();
    return !joined_all || r.deliver_timeouts > 0 || r.detect_timeouts > 0 || sum(r.false_failures) > 0 ||
           r.disagreements > 0;
}

bool run_heartbeat(const options& o, std::size_t n, port_map& ports)
{
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
    // Every other member travels once every ceil((n - 1) / (k - 1)) sections of a node (its own
    // entry always goes first): allow t_fail_periods per such window. Sections that never
    // truncate carry everyone each time: one window.
    const double windows = probe.counts.truncated == 0 ? 1.0 : std::ceil(static_cast<double>(n - 1) / (k - 1));
    const double advised_ms = std::ceil(o.t_fail_periods * windows * static_cast<double>(o.period.count()));
    const auto t_fail =
        o.t_fail.count() > 0 ? o.t_fail : std::chrono::milliseconds(static_cast<std::int64_t>(advised_ms));
    const double join_rate = join_rate_for(o, n);
    const std::string head = "payload=heartbeat n=" + std::to_string(n) +
                             " period_ms=" + std::to_string(o.period.count()) + " fanout=" + std::to_string(o.fanout);
    std::printf("config %s view=%zu max_bytes=%zu first_share=%s membership_entries_per_section=%s "
                "truncated_share=%s t_fail_ms=%lld t_cleanup_ms=%lld join_rate=%s repeats=%zu detect_repeats=%zu "
                "idle_s=%s seed=%llu load_average=%s\n",
                head.c_str(), o.view_size, o.max_bytes, fixed(o.first_share, 2).c_str(), fixed(k, 2).c_str(),
                fixed(probe.counts.truncated_share(), 3).c_str(), static_cast<long long>(t_fail.count()),
                static_cast<long long>(2 * t_fail.count()), join_rate > 0 ? fixed(join_rate, 0).c_str() : "all",
                o.repeats, o.detect_repeats, fixed(o.idle_seconds, 1).c_str(), static_cast<unsigned long long>(o.seed),
                load_average().c_str());
    std::fflush(stdout);
    std::fprintf(stderr, "cluster: heartbeat n=%zu, %zu repeats, t_fail %lld ms\n", n, o.repeats,
                 static_cast<long long>(t_fail.count()));

    const auto period = std::chrono::duration_cast<clock_type::duration>(o.period);
    const limits lim{60s + 2 * t_fail, 30s + 4 * t_fail, 2 * t_fail + 20 * period + 10s};
    const results r = measure<heartbeat_flavor>(o, n, ports, t_fail, lim);
    const double nn = static_cast<double>(n);
    print_common<heartbeat_flavor>(head, o, n, r, join_rate);
    const auto& sec = r.idle_sections;
    std::printf("sections %s membership_entries_per_section=%s truncated_share=%s bytes_per_message=%s "
                "sections_per_node_s=%s window_s=%s\n",
                head.c_str(), fixed(sec.entries_per_section(), 2).c_str(), fixed(sec.truncated_share(), 3).c_str(),
                fixed(sec.sections == 0 ? NAN : static_cast<double>(sec.bytes) / static_cast<double>(sec.sections), 0)
                    .c_str(),
                fixed(static_cast<double>(sec.sections) / nn / r.idle_wall_s, 1).c_str(),
                fixed(r.idle_wall_s, 2).c_str());
    std::printf("detection %s detect_all_median_ms=%s detect_all_worst_ms=%s detect_first_median_ms=%s "
                "t_fail_ms=%lld detect_timeouts=%zu repeats=%zu\n",
                head.c_str(), fixed(median(r.detect_all_ms)).c_str(), fixed(worst(r.detect_all_ms)).c_str(),
                fixed(median(r.detect_first_ms)).c_str(), static_cast<long long>(t_fail.count()), r.detect_timeouts,
                r.detect_all_ms.size() + r.detect_timeouts);
    std::printf("false_failures %s %s recovered=%llu restarted=%llu max_quiet_ms=%s t_fail_ms=%lld "
                "bookkeeping_disagreements=%zu foreign_events=%llu\n",
                head.c_str(), phases("false_failures", r.false_failures).c_str(),
                static_cast<unsigned long long>(r.recovered), static_cast<unsigned long long>(r.restarted),
                fixed(ms(r.max_quiet), 0).c_str(), static_cast<long long>(t_fail.count()), r.disagreements,
                static_cast<unsigned long long>(r.foreign));
    print_loop(head, r);

    const bool joined_all = r.join_timeouts == 0 && !r.join_ms.empty();
    if (n == 128 && o.period == 200ms && o.fanout == 3) {
        const double rss_kib = (static_cast<double>(r.rss_after) - static_cast<double>(r.rss_before)) / nn / 1024;
        const double heap_kib = (static_cast<double>(r.heap_after) - static_cast<double>(r.heap_before)) / nn / 1024;
        const double cpu_ms = (r.idle_cpu.user + r.idle_cpu.system) * 1000.0 / nn / r.idle_wall_s;
        std::printf("verdict %s target_join_worst_under_2s=%s target_join_median_under_1s=%s "
                    "target_rss_under_40KiB_per_node=%s target_heap_under_40KiB_per_node=%s "
                    "target_idle_cpu_under_0.1ms_per_node_s=%s\n",
                    head.c_str(), yes_no(joined_all && worst(r.join_ms) < 2000),
                    yes_no(joined_all && median(r.join_ms) < 1000), yes_no(rss_kib < 40), yes_no(heap_kib < 40),
                    yes_no(cpu_ms < 0.1));
    }
    if (n == 1024 && o.period >= 20ms && o.period <= 100ms) {
        std::printf("verdict %s target_converged=%s target_zero_false_failures=%s\n", head.c_str(), yes_no(joined_all),
                    yes_no(sum(r.false_failures) == 0));
    }
    std::fflush(stdout);
    return troubled(r);
}

/// The SWIM figures of N = 128 in this run, to compare N = 1,024's against.
struct swim_reference {
    std::optional<double> detect_all_median_ms;
    std::optional<double> detect_all_worst_ms;
};

bool run_swim(const options& o, std::size_t n, port_map& ports, swim_reference& reference)
{
    const auto& sw = o.swim;
    const auto least = swim_formulas::min_suspicion(sw, n);
    const auto most = swim_formulas::max_suspicion(sw, n);
    const double least_ms = std::chrono::duration<double, std::milli>(least).count();
    const double join_rate = join_rate_for(o, n);
    const gossip::payload::swim_options lan = gossip::payload::swim_options::lan();
    const bool lan_profile = sw.probe_interval == lan.probe_interval && sw.probe_timeout == lan.probe_timeout &&
                             sw.gossip_interval == lan.gossip_interval && sw.gossip_fanout == lan.gossip_fanout;
    const std::string head = "payload=swim n=" + std::to_string(n) +
                             " probe_interval_ms=" + std::to_string(sw.probe_interval.count()) +
                             " gossip_interval_ms=" + std::to_string(sw.gossip_interval.count()) +
                             " gossip_fanout=" + std::to_string(sw.gossip_fanout);
    std::printf("config %s probe_timeout_ms=%lld indirect_checks=%zu retransmit_mult=%s suspicion_mult=%s "
                "suspicion_max_mult=%s "
                "min_suspicion_ms=%lld max_suspicion_ms=%lld expected_confirmations=%u retransmit_limit=%u "
                "sync_interval_ms=%lld lifeguard=%s node_period_ms=%lld max_bytes=%zu join_rate=%s repeats=%zu "
                "detect_repeats=%zu idle_s=%s seed=%llu load_average=%s\n",
                head.c_str(), static_cast<long long>(sw.probe_timeout.count()), sw.indirect_checks,
                fixed(sw.retransmit_mult, 1).c_str(), fixed(sw.suspicion_mult, 1).c_str(),
                fixed(sw.suspicion_max_mult, 1).c_str(), ms_count(least), ms_count(most),
                swim_formulas::expected_confirmations(sw, n), swim_formulas::retransmit_limit(sw, n),
                ms_count(swim_formulas::sync_interval(sw, n)),
                sw.lifeguard.local_health || sw.lifeguard.dynamic_suspicion || sw.lifeguard.buddy || sw.lifeguard.nack
                    ? "on"
                    : "off",
                static_cast<long long>(sw.gossip_interval.count()), o.max_bytes,
                join_rate > 0 ? fixed(join_rate, 0).c_str() : "all", o.repeats, o.detect_repeats,
                fixed(o.idle_seconds, 1).c_str(), static_cast<unsigned long long>(o.seed), load_average().c_str());
    std::fflush(stdout);
    std::fprintf(stderr, "cluster: swim n=%zu, %zu repeats, least suspicion timeout %.0f ms\n", n, o.repeats, least_ms);

    const auto probe = std::chrono::duration_cast<clock_type::duration>(sw.probe_interval);
    const limits lim{60s, 30s + 10 * probe, std::chrono::duration_cast<clock_type::duration>(most) + 10 * probe + 10s};
    const results r = measure<swim_flavor>(o, n, ports, 0ms, lim);
    const double nn = static_cast<double>(n);
    print_common<swim_flavor>(head, o, n, r, join_rate);
    const auto& idle = r.idle_swim;
    const auto idle_rate = [&](const char* name) {
        return fixed(static_cast<double>(idle.get(name)) / nn / r.idle_wall_s, 3);
    };
    std::printf("idle_swim %s probes_per_node_s=%s indirect_probes_per_node_s=%s gossip_messages_per_node_s=%s "
                "syncs_per_node_s=%s sync_pages_per_node_s=%s updates_sent_per_node_s=%s window_s=%s\n",
                head.c_str(), idle_rate("probes").c_str(), idle_rate("indirect_probes").c_str(),
                idle_rate("gossip_messages").c_str(), idle_rate("syncs").c_str(), idle_rate("sync_pages").c_str(),
                idle_rate("updates_sent").c_str(), fixed(r.idle_wall_s, 2).c_str());
    std::printf("detection %s detect_all_median_ms=%s detect_all_worst_ms=%s detect_first_median_ms=%s "
                "min_suspicion_ms=%lld all_median_over_min_suspicion=%s all_worst_over_min_suspicion=%s "
                "detect_timeouts=%zu repeats=%zu\n",
                head.c_str(), fixed(median(r.detect_all_ms)).c_str(), fixed(worst(r.detect_all_ms)).c_str(),
                fixed(median(r.detect_first_ms)).c_str(), ms_count(least),
                fixed(median(r.detect_all_ms) / least_ms, 2).c_str(),
                fixed(worst(r.detect_all_ms) / least_ms, 2).c_str(), r.detect_timeouts,
                r.detect_all_ms.size() + r.detect_timeouts);
    std::printf("false_failures %s %s bookkeeping_disagreements=%zu foreign_events=%llu\n", head.c_str(),
                phases("false_failures", r.false_failures).c_str(), r.disagreements,
                static_cast<unsigned long long>(r.foreign));
    std::printf("swim_events %s %s %s %s updated=%llu max_health=%u max_nodes_unhealthy=%zu\n", head.c_str(),
                phases("suspected_running", r.suspected_running).c_str(),
                phases("suspected_stopped", r.suspected_stopped).c_str(), phases("refuted", r.refuted).c_str(),
                static_cast<unsigned long long>(r.updated), r.max_health, r.max_unhealthy);
    std::string stats;
    for (std::size_t f = 0; f < swim_fields.size(); ++f) {
        // Appended piece by piece: g++ 12 at -O3 reports -Wrestrict on `"x" + std::string`
        // (a false positive, GCC bug 105329).
        stats += ' ';
        stats += swim_fields[f].name;
        stats += '=';
        stats += std::to_string(r.swim_total.values[f]);
    }
    std::printf("swim_stats %s%s\n", head.c_str(), stats.c_str());
    print_loop(head, r);

    const bool detected_all = r.detect_timeouts == 0 && !r.detect_all_ms.empty();
    if (n == 128 && lan_profile) {
        reference.detect_all_median_ms = median(r.detect_all_ms);
        reference.detect_all_worst_ms = worst(r.detect_all_ms);
        const double bytes = static_cast<double>(r.idle_bytes) / nn / r.idle_wall_s;
        const double datagrams = static_cast<double>(r.idle_datagrams) / nn / r.idle_wall_s;
        std::printf(
            "verdict %s target_idle_at_most_100_bytes_per_node_s=%s target_idle_at_most_2.5_datagrams_per_node_s=%s "
            "target_every_detection_within_2x_min_suspicion=%s target_zero_false_failures=%s\n",
            head.c_str(), yes_no(bytes <= 100), yes_no(datagrams <= 2.5),
            yes_no(detected_all && worst(r.detect_all_ms) <= 2 * least_ms), yes_no(sum(r.false_failures) == 0));
    }
    if (n == 1024 && lan_profile) {
        std::string versus = "unknown_no_n128_in_this_run";
        std::string ratio = "-";
        if (reference.detect_all_median_ms && detected_all) {
            const double x = median(r.detect_all_ms) / *reference.detect_all_median_ms;
            ratio = fixed(x, 2);
            versus = yes_no(x <= 1.5);
        }
        const bool joins = r.node_join_timeouts == 0 && !r.node_join_ms.empty() && worst(r.node_join_ms) <= 3000;
        std::printf("verdict %s target_zero_false_failures=%s target_all_see_all_within_3s_of_joining=%s "
                    "target_detection_median_at_most_1.5x_n128=%s detection_median_over_n128=%s\n",
                    head.c_str(), yes_no(sum(r.false_failures) == 0), yes_no(joins), versus.c_str(), ratio.c_str());
    }
    std::fflush(stdout);
    return troubled(r) || r.node_join_timeouts > 0;
}

} // namespace

int main(int argc, char** argv)
{
    const options o = parse(argc, argv);
    try {
        ensure_descriptors(*std::max_element(o.nodes.begin(), o.nodes.end()) + 64);
        port_map ports;
        const auto wants = [&](payload_kind k) {
            return std::find(o.payloads.begin(), o.payloads.end(), k) != o.payloads.end();
        };
        if (wants(payload_kind::heartbeat)) {
            warm_up<heartbeat_flavor>(o, ports);
        }
        if (wants(payload_kind::swim)) {
            warm_up<swim_flavor>(o, ports);
        }
        bool trouble = false; // a cluster misbehaved: the exit status says so, for CI
        swim_reference reference;
        for (const std::size_t n : o.nodes) {
            for (const payload_kind kind : o.payloads) {
                const bool bad =
                    kind == payload_kind::swim ? run_swim(o, n, ports, reference) : run_heartbeat(o, n, ports);
                trouble = trouble || bad;
            }
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
