#pragma once

// gossip::cluster_node: the common case, ready-made. A member of a cluster over UDP with SWIM
// membership (Lifeguard included) and a replicated key-value store (an lww_map kept in sync by
// rumors backed by anti-entropy), running on a thread of its own:
//
//   gossip::cluster_node node("127.0.0.1:7001");            // LAN settings
//   node.on_member_event([](const auto& e) { ... });          // on the node's thread
//   node.start();
//   node.join("127.0.0.1:7000");
//   node.put("config/leader", "n1");
//   for (const auto& m : node.members()) { ... }             // this node included
//   // the destructor leaves the cluster and stops the thread
//
// basic_cluster_node<Transport, Store> is the same with another transport (sealed<udp>, say) or
// another store; gossip_node remains there for every other composition, and node() or call()
// reach the one inside.
//
// Threads: once start()ed, the node lives on its own thread, and every member function here is
// safe from any thread: writes are posted to the node's thread, and reads (get, members, call)
// wait for it, which takes as long as one turn of its loop (microseconds when idle). Handlers run
// on the node's thread: keep them short, and hand work elsewhere (a runtime/mailbox.hpp mailbox);
// an exception a handler throws is caught and counted (handler_failures()), never fatal. Before
// start(), calls act directly on the caller's thread: set things up from one thread. After
// stop(), reads still work and writes throw std::logic_error. Like a destructor, stop() must not
// run while another thread is inside a call on the same node; from a handler, it only asks the
// loop to stop (the thread is joined by the next stop() or the destructor elsewhere).

#include "config.hpp"
#include "gossip_node.hpp"
#include "metrics.hpp"
#include "payload/anti_entropy.hpp"
#include "payload/combined.hpp"
#include "payload/lww_map.hpp"
#include "payload/swim.hpp"
#include "payload/swim_options.hpp"
#include "peer_selection/random.hpp"
#include "propagation/push_pull.hpp"
#include "runtime/run_loop.hpp"
#include "transport/udp.hpp"
#include "transport/udp_address.hpp"
#include "view_selection/frozen.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <concepts>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <initializer_list>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

namespace gossip {

/// Everything a cluster_node is tuned by, with profiles for where it runs. Start from a profile
/// and change what you must: `auto o = cluster_options::lan(); o.membership.id = my_id;`.
struct cluster_options {
    /// The node's own exchanges (rumors and store sessions ride on them): period, fanout,
    /// datagram size. view_size bounds the members it exchanges with, not the membership.
    config node{};
    /// SWIM: probe interval and timeout, suspicion, this member's id and metadata.
    payload::swim_options membership{};
    /// The store's sessions: one every `store.every` periods, plus a rumor per write.
    payload::anti_entropy_options store{};
    /// Entries a peer can make the store hold, at most (what a flood can take); 0: no bound.
    std::size_t max_store_entries = 100'000;
    /// Seeds the node's random choices; unset: drawn from std::random_device.
    std::optional<std::uint64_t> seed{};

    /// One machine (tests, loopback demos): 100 ms exchanges, 200 ms probes, a killed member
    /// declared failed within about a second.
    [[nodiscard]] static cluster_options local()
    {
        cluster_options o = with_exchanges(std::chrono::milliseconds{100}, 2);
        o.membership = payload::swim_options::local();
        return o;
    }
    /// A data centre: 200 ms exchanges, 1 s probes, a store session every second; a killed
    /// member declared failed in about 5 s, and a write seen everywhere well within a second.
    [[nodiscard]] static cluster_options lan()
    {
        cluster_options o = with_exchanges(std::chrono::milliseconds{200}, 5);
        o.membership = payload::swim_options::lan();
        return o;
    }
    /// Across regions: 1 s exchanges, 5 s probes with 3 s timeouts, a store session every 10 s,
    /// and datagrams of at most 1,200 bytes (paths with tunnels have smaller MTUs).
    [[nodiscard]] static cluster_options wan()
    {
        cluster_options o = with_exchanges(std::chrono::milliseconds{1000}, 10);
        o.node.max_message_bytes = 1200;
        o.membership = payload::swim_options::wan();
        return o;
    }

private:
    static cluster_options with_exchanges(std::chrono::milliseconds period, std::uint32_t store_every)
    {
        cluster_options o;
        o.node.period = period;
        o.node.fanout = 2;
        o.node.view_size = 32;
        o.store.rumors = true;
        o.store.every = store_every;
        return o;
    }
};

/// A member as a cluster_node reports it: a copy, safe to keep.
template <class Address>
struct cluster_member {
    std::uint64_t id = 0;
    Address address{};
    payload::swim_state state = payload::swim_state::alive;
    std::uint32_t incarnation = 0;
    std::vector<std::byte> metadata;
    bool self = false; ///< this node itself
};

// clang-format 14 mangles concepts and requires-clauses: kept as written.
// clang-format off
/// A cluster member on a thread of its own: SWIM membership and a replicated store over
/// Transport (see the top of this file). cluster_node is the UDP one with a string map.
template <class Transport = transport::udp, class Store = payload::lww_map<std::string, std::string>>
    requires pollable_transport<Transport> && payload::replicated_store<Store>
// clang-format on
class basic_cluster_node {
public:
    using transport_type = Transport;
    using address_type = typename Transport::address_type;
    using membership_type = payload::swim<address_type>;
    using store_type = Store;
    using store_payload_type = payload::anti_entropy<Store>;
    using payload_type = payload::combined<membership_type, store_payload_type>;
    using node_type =
        gossip_node<Transport, peer_selection::random, view_selection::frozen, propagation::push_pull, payload_type>;
    using member = cluster_member<address_type>;
    using member_event = payload::swim_event<address_type>;
    using entry_type = typename Store::entry_type;

    /// A member over `transport`. Throws config_error or std::invalid_argument naming an
    /// impossible option.
    explicit basic_cluster_node(Transport transport, const cluster_options& options = cluster_options::lan())
        : node_(std::make_unique<node_type>(std::move(transport), options.node, seed_of(options),
                                            peer_selection::random{}, view_selection::frozen{},
                                            payload_type(membership_type(options.membership),
                                                         store_payload_type(options.store, bounded_store(options)))))
    {
    }

    // clang-format off
    /// A member on a socket bound to `bind`, "host:port" (port 0: any free one). Throws
    /// transport::address_error for an address that does not parse or resolve, and
    /// std::system_error when the socket cannot be bound.
    explicit basic_cluster_node(std::string_view bind, const cluster_options& options = cluster_options::lan())
        requires std::constructible_from<Transport, address_type> &&
                 requires(std::string_view s) { { address_type::resolve(s) } -> std::same_as<address_type>; }
        : basic_cluster_node(Transport(address_type::resolve(bind)), options)
    {
    }
    // clang-format on

    basic_cluster_node(const basic_cluster_node&) = delete;
    basic_cluster_node& operator=(const basic_cluster_node&) = delete;
    basic_cluster_node(basic_cluster_node&&) = delete;
    basic_cluster_node& operator=(basic_cluster_node&&) = delete;

    /// Leaves the cluster and stops the thread, if running.
    ~basic_cluster_node()
    {
        try {
            stop();
        } catch (...) { // NOLINT(bugprone-empty-catch): a destructor must not throw; stop() reports it
        }
    }

    // --- running --------------------------------------------------------------------------------
    /// Starts the node's thread. Once only: a stopped node stays stopped.
    void start()
    {
        if (loop_ || stopped_) {
            throw std::logic_error("gossip::cluster_node::start: already started");
        }
        auto loop = std::make_unique<run_loop<node_type>>(*node_);
        run_loop<node_type>& running_loop = *loop;
        std::thread thread([this, &running_loop] {
            loop_thread_.store(std::this_thread::get_id());
            try {
                running_loop.run();
            } catch (...) {
                failure_ = std::current_exception();
            }
            exited_.store(true);
        });
        loop_ = std::move(loop); // only once the thread exists: a failed start leaves no loop
        thread_ = std::move(thread);
    }

    /// Announces the leave, then stops the thread (a few periods' worth of goodbyes). Rethrows
    /// what stopped the node's loop, should anything have.
    void stop()
    {
        if (!loop_) {
            return;
        }
        loop_->stop();
        if (on_loop_thread()) {
            return; // from a handler: the loop ends after it; the thread is joined later
        }
        thread_.join();
        loop_.reset();
        stopped_ = true;
        if (failure_) {
            std::rethrow_exception(std::exchange(failure_, nullptr));
        }
    }

    /// Whether the node's thread runs: started, not stopped, and its loop did not fail.
    [[nodiscard]] bool running() const noexcept { return loop_ != nullptr && !exited_.load(); }

    // --- joining --------------------------------------------------------------------------------
    /// Contacts the seeds, and keeps contacting them while this member knows nobody alive.
    void join(std::span<const address_type> seeds)
    {
        std::vector<address_type> copy(seeds.begin(), seeds.end());
        post([copy = std::move(copy)](node_type& n) { n.join(copy); });
    }
    void join(std::initializer_list<address_type> seeds) { join(std::span(seeds.begin(), seeds.size())); }
    // clang-format off
    /// Seeds as text: "host:port", several separated by commas. Throws transport::address_error
    /// naming one that does not parse or resolve (before contacting any).
    void join(std::string_view seeds)
        requires requires(std::string_view s) { { address_type::resolve(s) } -> std::same_as<address_type>; }
    // clang-format on
    {
        std::vector<address_type> parsed;
        while (!seeds.empty()) {
            const auto comma = seeds.find(',');
            parsed.push_back(address_type::resolve(seeds.substr(0, comma)));
            seeds.remove_prefix(comma == std::string_view::npos ? seeds.size() : comma + 1);
        }
        join(std::span<const address_type>(parsed));
    }

    /// Whether this member knows another alive: it has heard from the cluster.
    [[nodiscard]] bool joined() const
    {
        return call([](const node_type& n) { return n.payload().first().alive_count() > 0; });
    }

    /// Waits until joined() or `limit`; whether joined. Needs start(): false at once without it.
    /// When it returns false, no seed answered: statistics().seed_contacts counts the attempts.
    [[nodiscard]] bool wait_joined(std::chrono::milliseconds limit) const
    {
        const auto deadline = std::chrono::steady_clock::now() + limit;
        for (;;) {
            if (joined()) {
                return true;
            }
            if (!running() || std::chrono::steady_clock::now() >= deadline) {
                return false;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds{10});
        }
    }

    // --- the cluster ----------------------------------------------------------------------------
    /// Every member known, this one first (alive, suspect, failed and left alike).
    [[nodiscard]] std::vector<member> members() const
    {
        return call([](const node_type& n) {
            std::vector<member> out;
            for (const auto& m : n.payload().first().members()) {
                out.push_back(member{m.id, m.address, m.state, m.incarnation,
                                     std::vector<std::byte>(m.metadata.begin(), m.metadata.end()), m.self});
            }
            return out;
        });
    }

    /// Only the members believed alive (or suspect), this one first.
    [[nodiscard]] std::vector<member> alive_members() const
    {
        auto all = members();
        std::erase_if(all, [](const member& m) {
            return m.state != payload::swim_state::alive && m.state != payload::swim_state::suspect;
        });
        return all;
    }

    /// Called on the node's thread for each change in what this member believes of another.
    void on_member_event(std::function<void(const member_event&)> handler)
    {
        post([handler = guarded(std::move(handler))](node_type& n) mutable {
            n.payload().first().on_event(std::move(handler));
        });
    }

    /// Replaces this member's metadata (tags, at most payload::max_metadata_bytes) and spreads it.
    void set_metadata(std::span<const std::byte> bytes)
    {
        post([copy = std::vector<std::byte>(bytes.begin(), bytes.end())](node_type& n) {
            n.payload().first().set_metadata(copy);
        });
    }

    /// Sends bytes to every member once (a SWIM user broadcast: fast, not stored, not repaired
    /// for a member that was down). Throws std::invalid_argument when it cannot fit a datagram.
    void broadcast(std::span<const std::byte> bytes)
    {
        const std::vector<std::byte> copy(bytes.begin(), bytes.end());
        call([&copy](node_type& n) { (void)n.payload().first().broadcast(copy); });
    }

    /// Called on the node's thread for each broadcast from another member, with its id.
    void on_broadcast(std::function<void(std::uint64_t, std::span<const std::byte>)> handler)
    {
        post([handler = guarded(std::move(handler))](node_type& n) mutable {
            n.payload().first().on_broadcast(std::move(handler));
        });
    }

    // --- the store ------------------------------------------------------------------------------
    // clang-format off
    /// Writes a value (it spreads from here); posted when running.
    template <class K, class V>
        requires requires(store_payload_type& s, K&& k, V&& v) { s.put(std::forward<K>(k), std::forward<V>(v)); }
    // clang-format on
    void put(K&& key, V&& value)
    {
        post([key = owned<key_of<Store>>(std::forward<K>(key)), value = owned<value_of<Store>>(std::forward<V>(value))](
                 node_type& n) mutable { n.payload().second().put(std::move(key), std::move(value)); });
    }

    // clang-format off
    /// Erases a key (a tombstone spreads from here); posted when running.
    template <class K>
        requires requires(store_payload_type& s, K&& k) { s.erase(std::forward<K>(k)); }
    // clang-format on
    void erase(K&& key)
    {
        post([key = owned<key_of<Store>>(std::forward<K>(key))](node_type& n) mutable {
            n.payload().second().erase(std::move(key));
        });
    }

    // clang-format off
    /// A copy of the value held for `key`, or nothing.
    template <class K>
        requires requires(const Store& s, const K& k) { { s.find(k) } -> std::convertible_to<const void*>; }
    // clang-format on
    [[nodiscard]] auto get(const K& key) const
    {
        using value_type = std::remove_cvref_t<decltype(*std::declval<const Store&>().find(key))>;
        return call([&key](const node_type& n) -> std::optional<value_type> {
            const auto* v = n.payload().second().store().find(key);
            return v != nullptr ? std::optional<value_type>(*v) : std::nullopt;
        });
    }

    /// Called on the node's thread for each entry from a peer that changed the store.
    void on_change(std::function<void(const entry_type&)> handler)
    {
        post([handler = guarded(std::move(handler))](node_type& n) mutable {
            n.payload().second().on_change(std::move(handler));
        });
    }

    /// Exceptions thrown by handlers, caught so that the node goes on.
    [[nodiscard]] std::uint64_t handler_failures() const noexcept { return handler_failures_->load(); }

    // --- everything else ------------------------------------------------------------------------
    /// Runs f(node) on the node's thread and returns what it returns (or throws what it throws);
    /// directly when not running. The way to anything this class does not offer.
    template <class F>
    auto call(F&& f) const -> std::invoke_result_t<F&, node_type&>
    {
        using result = std::invoke_result_t<F&, node_type&>;
        if (!loop_ || on_loop_thread()) {
            return f(*node_);
        }
        throw_if_exited();
        // Not a std::promise: its shared state, and the exception in it, could be destroyed on
        // the node's thread after the caller had rethrown it. Here the result (or exception) is
        // handed over under a lock once the node's thread holds no reference to it any more, so
        // everything done to it afterwards happens on the caller's thread.
        // What f returned: nothing (held as true), a reference (held as a reference_wrapper), or a value.
        using held =
            std::conditional_t<std::is_void_v<result>, bool,
                               std::conditional_t<std::is_reference_v<result>,
                                                  std::reference_wrapper<std::remove_reference_t<result>>, result>>;
        struct outcome {
            std::mutex lock;
            std::condition_variable ready_signal;
            bool ready = false;
            std::exception_ptr error;
            std::optional<held> value;
        };
        auto done = std::make_shared<outcome>();
        loop_->post([&f, done](node_type& n) {
            std::exception_ptr error;
            std::optional<held> value;
            try {
                if constexpr (std::is_void_v<result>) {
                    f(n);
                    value.emplace(true);
                } else {
                    value.emplace(f(n));
                }
            } catch (...) {
                error = std::current_exception();
            }
            // Out of the handler: the runtime holds no reference to the exception any more.
            const std::scoped_lock hold(done->lock);
            done->error = std::move(error);
            done->value = std::move(value);
            done->ready = true;
            done->ready_signal.notify_all();
        });
        std::unique_lock hold(done->lock);
        // A loop that fails never runs what was posted: check now and then rather than hang.
        while (!done->ready_signal.wait_for(hold, std::chrono::milliseconds{50}, [&] { return done->ready; })) {
            hold.unlock();
            throw_if_exited();
            hold.lock();
        }
        if (done->error) {
            std::rethrow_exception(std::exchange(done->error, nullptr));
        }
        if constexpr (std::is_reference_v<result>) {
            return static_cast<result>(done->value->get());
        } else if constexpr (!std::is_void_v<result>) {
            return std::move(*done->value);
        }
    }

    /// The node itself, for use before start() or after stop() (or from a handler).
    [[nodiscard]] node_type& node() noexcept { return *node_; }
    [[nodiscard]] const node_type& node() const noexcept { return *node_; }

    /// This member's address and id (fixed at construction).
    [[nodiscard]] address_type address() const { return node_->address(); }
    [[nodiscard]] std::uint64_t id() const
    {
        return call([](const node_type& n) { return n.payload().first().id(); });
    }

    /// SWIM's counters (probes, suspicions, seed contacts, ...).
    [[nodiscard]] payload::swim_statistics statistics() const
    {
        return call([](const node_type& n) { return n.payload().first().statistics(); });
    }

    /// Every counter and gauge of the node, its membership, its store and its transport, in one
    /// snapshot; gossip::to_prometheus() formats it for a /metrics endpoint.
    [[nodiscard]] metrics_snapshot metrics() const
    {
        return call([](const node_type& n) { return snapshot(n); });
    }

private:
    static std::uint64_t seed_of(const cluster_options& o)
    {
        if (o.seed) {
            return *o.seed;
        }
        std::random_device device;
        return (std::uint64_t{device()} << 32U) ^ device();
    }

    static Store bounded_store(const cluster_options& o)
    {
        Store s;
        if constexpr (requires { s.set_max_entries(o.max_store_entries); }) {
            s.set_max_entries(o.max_store_entries);
        }
        return s;
    }

    // The store's key and value types where it names them (lww_map does), else void.
    template <class S>
    struct store_types {
        using key = void;
        using value = void;
    };
    template <class S>
    requires requires
    {
        typename S::key_type;
        typename S::mapped_type;
    }
    struct store_types<S> {
        using key = typename S::key_type;
        using value = typename S::mapped_type;
    };
    template <class S>
    using key_of = typename store_types<S>::key;
    template <class S>
    using value_of = typename store_types<S>::value;

    // What a posted write keeps: the store's own type where it has one, so that a char* from the
    // caller is copied now rather than read later on the node's thread; else the decayed value.
    template <class Own, class T>
    static auto owned(T&& x)
    {
        if constexpr (!std::is_void_v<Own>) {
            if constexpr (std::constructible_from<Own, T&&>) {
                return Own(std::forward<T>(x));
            } else {
                return std::decay_t<T>(std::forward<T>(x));
            }
        } else {
            return std::decay_t<T>(std::forward<T>(x));
        }
    }

    [[nodiscard]] bool on_loop_thread() const noexcept { return loop_thread_.load() == std::this_thread::get_id(); }

    void throw_if_exited() const
    {
        if (exited_.load()) {
            throw std::runtime_error("gossip::cluster_node: the node's loop has stopped (stop() says why)");
        }
    }

    // Writes: posted to the running loop; done here before start() (and what they send leaves
    // at once); refused after stop().
    template <class F>
    void post(F&& f)
    {
        if (stopped_) {
            throw std::logic_error("gossip::cluster_node: stopped; writes go nowhere");
        }
        if (loop_ && !on_loop_thread()) {
            throw_if_exited();
            loop_->post(std::forward<F>(f));
            return;
        }
        f(*node_);
        if (!loop_) {
            node_->transport().flush();
        }
    }

    // A handler whose exceptions are caught and counted: a bad handler must not stop the node.
    template <class... Args>
    std::function<void(Args...)> guarded(std::function<void(Args...)> handler) const
    {
        if (!handler) {
            return handler;
        }
        return [failures = handler_failures_, handler = std::move(handler)](Args... args) {
            try {
                handler(std::forward<Args>(args)...);
            } catch (...) {
                failures->fetch_add(1);
            }
        };
    }

    std::unique_ptr<node_type> node_;
    std::unique_ptr<run_loop<node_type>> loop_;
    std::thread thread_;
    std::exception_ptr failure_;
    std::atomic<std::thread::id> loop_thread_{};
    std::atomic<bool> exited_{false};
    // Shared with the handlers, which the node (inside) may outlive no longer than this.
    std::shared_ptr<std::atomic<std::uint64_t>> handler_failures_ = std::make_shared<std::atomic<std::uint64_t>>(0);
    bool stopped_ = false;
};

/// The common case: UDP, SWIM, a map from string to string.
using cluster_node = basic_cluster_node<>;

} // namespace gossip
