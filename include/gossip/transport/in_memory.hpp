#pragma once

// A simulated network inside one process: a delivery queue ordered by arrival time, with seeded
// loss, delay and jitter, partitions and crashes. Bytes live in one arena that is reused (and
// compacted when mostly dead), so steady-state traffic allocates nothing per message.

#include "../detail/flag_guard.hpp"
#include "../detail/prefetch.hpp"
#include "../random.hpp"
#include "../wire/codec.hpp"

#include <algorithm>
#include <chrono>
#include <compare>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <span>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace gossip::transport {

/// A node's address in an in_memory_network: its index.
struct in_memory_address {
    std::uint32_t index = 0;

    // clang-tidy 14 takes the 0 that the defaulted <=> compares with for a null pointer
    // (llvm/llvm-project#53961): a false positive.
    // NOLINTNEXTLINE(modernize-use-nullptr)
    friend constexpr auto operator<=>(const in_memory_address&, const in_memory_address&) = default;
};

/// Seeded impairments of the simulated network.
struct network_options {
    double loss = 0.0;                      ///< probability that a datagram is lost
    std::chrono::nanoseconds delay{0};      ///< fixed one-way latency
    std::chrono::nanoseconds jitter{0};     ///< extra latency, uniform in [0, jitter)
    std::size_t max_datagram_bytes = 65507; ///< larger datagrams are refused, as UDP would
    std::uint64_t seed = 1;
    /// Whether a datagram's source is always its true sender. True for a simulation, where
    /// datagrams come only from endpoints' send(): nodes then skip the defences against forged
    /// sources (address cookies, bounded answers), and their bytes. False for a test that hands
    /// nodes datagrams with made-up sources, to exercise those defences.
    bool authentic_sources = true;
};

/// What happened to the datagrams handed to the network.
struct network_statistics {
    std::uint64_t sent = 0; ///< accepted from a live sender
    std::uint64_t bytes_sent = 0;
    std::uint64_t delivered = 0; ///< handed to the receiver
    std::uint64_t bytes_delivered = 0;
    std::uint64_t lost = 0;        ///< dropped by the loss rate
    std::uint64_t partitioned = 0; ///< dropped because sender and receiver were apart
    std::uint64_t to_crashed = 0;  ///< arrived at a crashed node
    std::uint64_t refused = 0;     ///< refused at send: sender down, unknown address, oversized

    friend bool operator==(const network_statistics&, const network_statistics&) = default;
};

class in_memory;

/// The datagrams sent on one thread while a simulator runs a synchronous round over several
/// threads (in_memory_network::capture_on_this_thread): each thread keeps its own, and the
/// simulator merges them in a fixed order, so that nothing is shared while nodes run.
struct captured_sends {
    struct datagram {
        std::uint32_t from = 0;
        std::uint32_t to = 0;
        std::uint32_t offset = 0;
        std::uint32_t size = 0;
    };
    std::vector<datagram> datagrams;
    std::vector<std::byte> bytes;
    network_statistics statistics; ///< sent, bytes_sent and refused, as send() counts them

    void clear() noexcept
    {
        datagrams.clear();
        bytes.clear();
        statistics = {};
    }

    [[nodiscard]] std::span<const std::byte> bytes_of(const datagram& d) const noexcept
    {
        return std::span<const std::byte>(bytes).subspan(d.offset, d.size);
    }
};

/// What becomes of a captured datagram (in_memory_network::fate_of).
enum class datagram_fate : std::uint8_t { delivered, partitioned, lost, to_crashed };

/// The simulated network that in_memory endpoints send through, with seeded loss, delay,
/// partitions and crashes: for tests and simulations that must replay exactly. Single-threaded;
/// the owner advances its clock and calls deliver() to decide when datagrams arrive.
class in_memory_network {
public:
    using address = in_memory_address;
    using duration = std::chrono::nanoseconds;

    explicit in_memory_network(std::size_t nodes = 0, const network_options& options = {})
        : up_(nodes, 1), rng_(mix_seed(options.seed, 0x6e6574)), max_datagram_(options.max_datagram_bytes),
          authentic_(options.authentic_sources)
    {
        set_loss(options.loss);
        set_delay(options.delay, options.jitter);
    }

    in_memory_network(const in_memory_network&) = delete;
    in_memory_network& operator=(const in_memory_network&) = delete;
    in_memory_network(in_memory_network&&) = delete;
    in_memory_network& operator=(in_memory_network&&) = delete;
    ~in_memory_network() = default;

    [[nodiscard]] std::size_t size() const noexcept { return up_.size(); }

    /// network_options::authentic_sources.
    [[nodiscard]] bool sources_authentic() const noexcept { return authentic_; }

    /// Adds a node, up, and returns its address.
    address add_node()
    {
        up_.push_back(1);
        if (!group_.empty()) {
            group_.push_back(0);
        }
        if (!receive_delay_.empty()) {
            receive_delay_.push_back(slowness{});
        }
        return address{static_cast<std::uint32_t>(up_.size() - 1)};
    }

    /// The transport policy for the node at `a`.
    [[nodiscard]] in_memory endpoint(address a);

    // --- time -------------------------------------------------------------------------------
    [[nodiscard]] duration now() const noexcept { return now_; }
    void advance(duration d) noexcept { now_ += d; }
    void advance_to(duration t) noexcept { now_ = std::max(now_, t); }

    /// When the next queued datagram arrives, or duration::max() when none is queued.
    [[nodiscard]] duration next_arrival() const noexcept
    {
        return queue_.empty() ? duration::max() : duration{queue_.front().at};
    }

    // --- impairments ------------------------------------------------------------------------
    void set_loss(double probability)
    {
        if (!(probability >= 0.0 && probability <= 1.0)) {
            throw std::invalid_argument("in_memory_network: loss must be within [0, 1]");
        }
        loss_ = chance(probability);
    }

    void set_delay(duration delay, duration jitter = duration::zero())
    {
        if (delay < duration::zero() || jitter < duration::zero()) {
            throw std::invalid_argument("in_memory_network: delay and jitter must not be negative");
        }
        delay_ = delay;
        jitter_ = jitter;
    }

    /// Makes a node slow to take in what arrives (an overloaded process): every datagram for
    /// `a` arrives `delay` later than the network would bring it, plus up to `jitter` more at
    /// random. Zero for both makes it ordinary again.
    void set_receive_delay(address a, duration delay, duration jitter = duration::zero())
    {
        check(a);
        if (delay < duration::zero() || jitter < duration::zero()) {
            throw std::invalid_argument("in_memory_network: delay and jitter must not be negative");
        }
        if (receive_delay_.empty()) {
            if (delay == duration::zero() && jitter == duration::zero()) {
                return;
            }
            receive_delay_.assign(up_.size(), slowness{});
        }
        receive_delay_[a.index] = slowness{delay, jitter};
    }

    /// What set_receive_delay() gave `a`: its fixed delay and jitter.
    [[nodiscard]] std::pair<duration, duration> receive_delay(address a) const noexcept
    {
        if (a.index >= receive_delay_.size()) {
            return {duration::zero(), duration::zero()};
        }
        return {receive_delay_[a.index].delay, receive_delay_[a.index].jitter};
    }

    /// A crashed node sends nothing, and what arrives for it is dropped. State is the node's
    /// business: the network only stops carrying its traffic.
    void crash(address a)
    {
        check(a);
        up_[a.index] = 0;
    }

    void restart(address a)
    {
        check(a);
        up_[a.index] = 1;
    }
    [[nodiscard]] bool is_up(address a) const noexcept { return a.index < up_.size() && up_[a.index] != 0; }

    /// Cuts the nodes in `side` off from everybody else (who stay together); replaces any
    /// earlier partition, and leaves cut links cut.
    void partition(std::span<const address> side)
    {
        for (auto a : side) {
            check(a);
        }
        group_.clear();
        for (auto a : side) {
            set_group(a, 1);
        }
    }

    /// Places a node in a partition group; only nodes of the same group reach each other.
    void set_group(address a, std::uint32_t group)
    {
        check(a);
        if (group_.empty()) {
            group_.assign(up_.size(), 0);
        }
        group_[a.index] = group;
    }

    /// Every node reaches every other again (cut links included).
    void heal() noexcept
    {
        group_.clear();
        cut_.clear();
    }

    /// Cuts the link between a and b, both ways, whatever the partition groups say: a broken
    /// route, or a firewall rule, between two nodes that each still reach everybody else.
    void cut_link(address a, address b)
    {
        check(a);
        check(b);
        const auto key = link_key(a, b);
        const auto at = std::lower_bound(cut_.begin(), cut_.end(), key);
        if (at == cut_.end() || *at != key) {
            cut_.insert(at, key);
        }
    }

    /// Restores a link cut_link() cut.
    void restore_link(address a, address b) noexcept
    {
        const auto key = link_key(a, b);
        const auto at = std::lower_bound(cut_.begin(), cut_.end(), key);
        if (at != cut_.end() && *at == key) {
            cut_.erase(at);
        }
    }

    /// Whether a datagram from `from` would get through to `to`; false for unknown addresses.
    [[nodiscard]] bool reachable(address from, address to) const noexcept
    {
        if (from.index >= up_.size() || to.index >= up_.size()) {
            return false;
        }
        if (!cut_.empty() && std::binary_search(cut_.begin(), cut_.end(), link_key(from, to))) {
            return false;
        }
        return group_.empty() || group_[from.index] == group_[to.index];
    }

    /// A function told the index of every node about to receive a datagram, ahead of the send;
    /// the simulator uses it to prefetch the receiver's memory.
    using send_hint = void (*)(void* context, std::uint32_t receiver) noexcept;

    void set_send_hint(send_hint hint, void* context) noexcept
    {
        hint_ = hint;
        hint_context_ = context;
    }

    /// Starts loading what a datagram to or from `a` will consult (whether it is up, its side of
    /// a partition): for a simulator that knows ahead whom a turn will involve.
    void prefetch_state(address a) const noexcept
    {
        if (a.index < up_.size()) {
            detail::prefetch(up_.data() + a.index, 1);
            if (!group_.empty()) {
                detail::prefetch(group_.data() + a.index, sizeof(std::uint32_t));
            }
        }
    }

    void expect_send(address to) const noexcept
    {
        if (hint_ != nullptr && to.index < up_.size()) {
            hint_(hint_context_, to.index);
        }
    }

    // --- synchronous rounds over threads (sim::simulator::run_synchronous_round) --------------
    /// While `c` is set on the calling thread, send() appends there instead of queueing, and
    /// touches nothing of the network's but what it only reads. nullptr ends the capture.
    static void capture_on_this_thread(captured_sends* c) noexcept { capture_slot() = c; }

    /// Whether datagrams arrive at once: no delay, jitter or slow receiver, which a
    /// synchronous round needs.
    [[nodiscard]] bool immediate() const noexcept
    {
        return delay_ == duration::zero() && jitter_ == duration::zero() &&
               std::all_of(receive_delay_.begin(), receive_delay_.end(), [](const slowness& s) {
                   return s.delay == duration::zero() && s.jitter == duration::zero();
               });
    }

    /// The fate of a captured datagram, as send() and deliver() would decide it, counted
    /// nowhere (several threads may ask at once); `draw`, a uniform 32-bit value, decides loss in
    /// place of the network's random stream.
    [[nodiscard]] datagram_fate fate_of(address from, address to, std::uint32_t draw) const noexcept
    {
        if (!reachable(from, to)) {
            return datagram_fate::partitioned;
        }
        if (loss_.hit(draw)) {
            return datagram_fate::lost;
        }
        if (!is_up(to)) {
            return datagram_fate::to_crashed;
        }
        return datagram_fate::delivered;
    }

    /// Counts a fate of `size` bytes into `s`, as the network counts its own.
    static void count(network_statistics& s, datagram_fate fate, std::size_t size) noexcept
    {
        switch (fate) {
        case datagram_fate::partitioned: ++s.partitioned; break;
        case datagram_fate::lost: ++s.lost; break;
        case datagram_fate::to_crashed: ++s.to_crashed; break;
        case datagram_fate::delivered:
            ++s.delivered;
            s.bytes_delivered += size;
            break;
        }
    }

    /// Queues a datagram that a capture judged delivered but that could not be handed over in
    /// its round: it arrives when the network next delivers, counted as delivered then.
    void enqueue(address from, address to, std::span<const std::byte> bytes)
    {
        --stats_.delivered;
        stats_.bytes_delivered -= bytes.size();
        store(entry{now_.count(), next_seq_++, 0, static_cast<std::uint32_t>(bytes.size()), from.index, to.index},
              bytes);
    }

    /// Adds what captures and judgements counted elsewhere (sent, refused and the fates).
    void add_judged(const network_statistics& s) noexcept
    {
        stats_.sent += s.sent;
        stats_.bytes_sent += s.bytes_sent;
        stats_.refused += s.refused;
        stats_.delivered += s.delivered;
        stats_.bytes_delivered += s.bytes_delivered;
        stats_.lost += s.lost;
        stats_.partitioned += s.partitioned;
        stats_.to_crashed += s.to_crashed;
    }

    // --- traffic ----------------------------------------------------------------------------
    /// Queues one datagram. Returns false when refused at the sender (counted as refused);
    /// a datagram lost or cut off by a partition is accepted, as a real network would.
    bool send(address from, address to, std::span<const std::byte> bytes)
    {
        if (captured_sends* c = capture_slot(); c != nullptr) {
            return capture(*c, from, to, bytes);
        }
        if (!is_up(from) || to.index >= up_.size() || bytes.size() > max_datagram_) {
            ++stats_.refused;
            return false;
        }
        ++stats_.sent;
        stats_.bytes_sent += bytes.size();
        if (!reachable(from, to)) {
            ++stats_.partitioned;
            return true;
        }
        if (loss_(rng_)) {
            ++stats_.lost;
            return true;
        }
        auto at = now_ + delay_;
        if (jitter_ > duration::zero()) {
            at += duration{static_cast<duration::rep>(static_cast<double>(jitter_.count()) *
                                                      (static_cast<double>(rng_()) / 4294967296.0))};
        }
        if (!receive_delay_.empty()) {
            const slowness& slow = receive_delay_[to.index];
            at += slow.delay;
            if (slow.jitter > duration::zero()) {
                at += duration{static_cast<duration::rep>(static_cast<double>(slow.jitter.count()) *
                                                          (static_cast<double>(rng_()) / 4294967296.0))};
            }
        }
        store(entry{at.count(), next_seq_++, 0, static_cast<std::uint32_t>(bytes.size()), from.index, to.index}, bytes);
        return true;
    }

    /// Hands every datagram due by now() to handler(from, to, bytes), in arrival order,
    /// including those sent by the handler itself that are due at once. Returns how many were
    /// handed over. The bytes are valid only during the call.
    template <class Handler>
    std::size_t deliver(Handler&& handler)
    {
        if (delivering_) {
            throw std::logic_error("in_memory_network::deliver is not re-entrant");
        }
        const detail::flag_guard guard(delivering_);

        std::size_t count = 0;
        while (!queue_.empty() && queue_.front().at <= now_.count()) {
            std::pop_heap(queue_.begin(), queue_.end(), later);
            const entry e = queue_.back();
            queue_.pop_back();
            live_bytes_ -= e.size;
            if (up_[e.to] == 0) {
                ++stats_.to_crashed;
                continue;
            }
            // The handler may send, which may move the arena: hand it a stable copy.
            inbox_.assign(arena_.begin() + e.offset, arena_.begin() + e.offset + e.size);
            if (queue_.empty()) {
                arena_.clear();
            }
            ++stats_.delivered;
            stats_.bytes_delivered += e.size;
            ++count;
            handler(address{e.from}, address{e.to}, std::span<const std::byte>(inbox_));
        }
        return count;
    }

    /// Drops everything in flight (a network-wide outage), counting it as lost.
    void clear_in_flight() noexcept
    {
        stats_.lost += queue_.size();
        queue_.clear();
        arena_.clear();
        live_bytes_ = 0;
    }

    [[nodiscard]] std::size_t in_flight() const noexcept { return queue_.size(); }
    [[nodiscard]] const network_statistics& statistics() const noexcept { return stats_; }

    /// Bytes the network itself holds (queue and arena capacity), for memory accounting.
    [[nodiscard]] std::size_t memory_bytes() const noexcept
    {
        return up_.capacity() + group_.capacity() * sizeof(std::uint32_t) +
               receive_delay_.capacity() * sizeof(slowness) + queue_.capacity() * sizeof(entry) + arena_.capacity() +
               spare_.capacity() + inbox_.capacity();
    }

private:
    [[nodiscard]] static captured_sends*& capture_slot() noexcept
    {
        thread_local captured_sends* slot = nullptr;
        return slot;
    }

    // send() during a capture: the checks that need no writes, then the datagram kept aside.
    bool capture(captured_sends& c, address from, address to, std::span<const std::byte> bytes) const
    {
        if (!is_up(from) || to.index >= up_.size() || bytes.size() > max_datagram_) {
            ++c.statistics.refused;
            return false;
        }
        const std::size_t offset = c.bytes.size();
        if (offset + bytes.size() > std::uint64_t{0xFFFFFFFF}) {
            throw std::length_error("in_memory_network: more than 4 GiB sent by one thread in one wave");
        }
        // The bytes first: should either allocation fail, no record points past them.
        c.bytes.insert(c.bytes.end(), bytes.begin(), bytes.end());
        try {
            c.datagrams.push_back(captured_sends::datagram{from.index, to.index, static_cast<std::uint32_t>(offset),
                                                           static_cast<std::uint32_t>(bytes.size())});
        } catch (...) {
            c.bytes.resize(offset);
            throw;
        }
        ++c.statistics.sent;
        c.statistics.bytes_sent += bytes.size();
        return true;
    }

    void check(address a) const
    {
        if (a.index >= up_.size()) {
            throw std::out_of_range("in_memory_network: no node " + std::to_string(a.index));
        }
    }

    struct entry {
        std::int64_t at;
        std::uint64_t seq;
        std::uint32_t offset;
        std::uint32_t size;
        std::uint32_t from;
        std::uint32_t to;
    };

    // A min-heap on (arrival, send order): ties leave in the order they were sent.
    static constexpr bool later(const entry& a, const entry& b) noexcept
    {
        return a.at != b.at ? a.at > b.at : a.seq > b.seq;
    }

    void store(entry e, std::span<const std::byte> bytes)
    {
        if (arena_.size() + bytes.size() > arena_.capacity() && live_bytes_ * 2 < arena_.size()) {
            compact();
        }
        if (arena_.size() + bytes.size() > std::uint64_t{0xFFFFFFFF}) {
            throw std::length_error("in_memory_network: more than 4 GiB in flight");
        }
        e.offset = static_cast<std::uint32_t>(arena_.size());
        arena_.insert(arena_.end(), bytes.begin(), bytes.end());
        live_bytes_ += bytes.size();
        queue_.push_back(e);
        std::push_heap(queue_.begin(), queue_.end(), later);
    }

    // Moves the live datagrams into the spare arena; the two swap roles and keep their capacity.
    void compact()
    {
        spare_.clear();
        for (auto& e : queue_) {
            const auto offset = static_cast<std::uint32_t>(spare_.size());
            spare_.insert(spare_.end(), arena_.begin() + e.offset, arena_.begin() + e.offset + e.size);
            e.offset = offset;
        }
        arena_.swap(spare_);
    }

    struct slowness {
        duration delay{0};
        duration jitter{0};
    };

    [[nodiscard]] static std::uint64_t link_key(address a, address b) noexcept
    {
        const auto low = std::min(a.index, b.index);
        const auto high = std::max(a.index, b.index);
        return (std::uint64_t{low} << 32U) | high;
    }

    std::vector<std::uint64_t> cut_; // sorted; empty: no link cut
    std::vector<std::uint8_t> up_;
    std::vector<std::uint32_t> group_;    // empty: no partition
    std::vector<slowness> receive_delay_; // empty: nobody slow
    std::vector<entry> queue_;
    std::vector<std::byte> arena_;
    std::vector<std::byte> spare_;
    std::vector<std::byte> inbox_;
    std::size_t live_bytes_ = 0;
    std::uint64_t next_seq_ = 0;
    duration now_{0};
    duration delay_{0};
    duration jitter_{0};
    chance loss_;
    pcg32 rng_;
    std::size_t max_datagram_;
    bool authentic_ = true;
    network_statistics stats_;
    send_hint hint_ = nullptr;
    void* hint_context_ = nullptr;
    bool delivering_ = false;
};

/// The Transport policy over an in_memory_network: one node's endpoint, 16 bytes.
class in_memory {
public:
    using address_type = in_memory_address;

    in_memory(in_memory_network& network, address_type self) noexcept : network_(&network), self_(self) {}

    [[nodiscard]] address_type local_address() const noexcept { return self_; }

    bool send(const address_type& to, std::span<const std::byte> bytes) { return network_->send(self_, to, bytes); }

    void expect_send(const address_type& to) const noexcept { network_->expect_send(to); }

    /// The network's simulated time.
    [[nodiscard]] std::chrono::nanoseconds now() const noexcept { return network_->now(); }

    [[nodiscard]] bool sources_authentic() const noexcept { return network_->sources_authentic(); }

    [[nodiscard]] in_memory_network& network() const noexcept { return *network_; }

private:
    in_memory_network* network_; // not owning: the network outlives its endpoints
    address_type self_;
};

inline in_memory in_memory_network::endpoint(address a)
{
    check(a);
    return {*this, a};
}

} // namespace gossip::transport

template <>
struct std::hash<gossip::transport::in_memory_address> {
    std::size_t operator()(const gossip::transport::in_memory_address& a) const noexcept { return a.index; }
};

namespace gossip::wire {

template <>
struct codec<transport::in_memory_address> {
    static constexpr std::size_t max_size = 4;
    static constexpr bool fixed_size = true;
    static void write(writer& w, const transport::in_memory_address& a) noexcept { w.u32(a.index); }
    static bool read(reader& r, transport::in_memory_address& a) noexcept
    {
        a.index = r.u32();
        return r.ok();
    }
    static void store(std::byte* at, const transport::in_memory_address& a) noexcept { store_le32(at, a.index); }
    static bool load(const std::byte* at, transport::in_memory_address& a) noexcept
    {
        a.index = load_le32(at);
        return true;
    }
};

} // namespace gossip::wire
