#pragma once

// transport::sealed<Inner>: every datagram encrypted and authenticated with ChaCha20-Poly1305
// (RFC 8439) under a cluster key, so that a stranger can neither read nor forge one, nor replay
// one to the member it was sent to.
// It wraps any transport (udp, in_memory, another decorator) and keeps its address type.
//
// A sealed datagram:
//   u8 0xC5 (format) | u8 key id | u64 sender epoch | u32 counter | u32 timestamp (s)
//   | ciphertext | 16-byte tag
// The 18-byte header and the cluster label are the associated data: a datagram sealed for
// another cluster, or with any header byte changed, fails its tag. The key id selects the key
// (no trial decryption); an unknown id is refused before any cryptography.
//
// Nonces. The nonce is the epoch and the counter (12 bytes). All members share a key, so a
// nonce must be unique across senders, not only within one: each sealed transport draws its
// 64-bit epoch from std::random_device when it is made, and counts datagrams from 0. Two members
// collide only if they draw the same epoch: for a million member lifetimes under one key the
// chance is below 2^-24 (birthday bound, 10^12 / 2^65). When the counter would wrap, a new epoch
// is drawn. Unlike random 96-bit nonces, a counter never repeats within an epoch, and unlike a
// counter alone it needs no coordination between members or state kept across restarts.
//
// Replays. A receiver keeps, for each epoch it heard from lately, the highest counter and a
// 64-bit window below it, and refuses a counter it saw or one below the window. The sender's
// timestamp bounds that state: a datagram more than `max_clock_skew` away from the receiver's
// clock is refused, and an epoch silent for twice that long is forgotten, since any datagram of
// it would then be refused by its timestamp. Clocks must therefore agree within max_clock_skew
// (2 minutes by default); in a simulation, the inner transport's clock is used. At most
// `max_senders` epochs are tracked; past that, new ones are refused (counted) rather than old
// ones forgotten, which would let their datagrams be replayed.
//
// What it does not do. The receiver's address is not authenticated: a datagram captured on its
// way to one member can be replayed once to each other member within max_clock_skew (binding
// it to the destination would refuse everything behind a wildcard bind or NAT). Payloads take
// such a copy as they take a duplicate: membership and store updates are idempotent. A member
// whose clock steps back by more than max_clock_skew after a sender fell silent can accept that
// sender's older datagrams again. Nor is the source address: answers go to `from`, as without
// sealing. A process cloned after construction (fork, a VM snapshot) shares its epoch: seal
// with a transport made after the clone.
//
// Rotation without downtime: install() a new key everywhere, use() it everywhere, then remove()
// the old one; members accept every installed key throughout. Plaintext to sealed: stage
// send_plain (accept both, send plain) everywhere, then send_sealed, then require_sealed.

#include "../crypto/chacha20_poly1305.hpp"
#include "../detail/scratch.hpp"
#include "../detail/transport_decorator.hpp"
#include "../random.hpp"
#include "policy.hpp"

#include <algorithm>
#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <random>
#include <span>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <vector>

namespace gossip::transport {

/// The upgrade path from plaintext: every stage accepts sealed datagrams, and all but the last
/// accept plaintext ones.
enum class sealing_stage {
    send_plain,     ///< send plaintext; accept both (members are being given keys)
    send_sealed,    ///< send sealed; accept both (some members may still send plaintext)
    require_sealed, ///< send sealed; refuse plaintext
};

/// How a sealed transport authenticates, which stage of the upgrade it is at, and what it tracks.
struct sealed_options {
    /// Authenticated with every datagram and never sent: clusters with other labels (or the
    /// same keys) cannot talk to each other.
    std::string label;
    sealing_stage stage = sealing_stage::require_sealed;
    /// The most the sender's clock may differ from the receiver's.
    std::chrono::seconds max_clock_skew{120};
    /// Senders (epochs) tracked for replays at once.
    std::size_t max_senders = 65'536;
};

/// Why sealed datagrams were refused, each counted once.
struct sealed_statistics {
    std::uint64_t sealed_sent = 0;
    std::uint64_t plain_sent = 0;
    std::uint64_t opened = 0;            ///< sealed datagrams authenticated and handed on
    std::uint64_t plain_accepted = 0;    ///< plaintext handed on (stages that accept it)
    std::uint64_t refused_plain = 0;     ///< plaintext under require_sealed
    std::uint64_t refused_short = 0;     ///< too short for a header and a tag, or another format
    std::uint64_t refused_key = 0;       ///< a key id not installed
    std::uint64_t refused_tag = 0;       ///< forged, tampered, another label or another key
    std::uint64_t refused_replay = 0;    ///< a counter already seen, or below the window
    std::uint64_t refused_clock = 0;     ///< a timestamp outside max_clock_skew
    std::uint64_t refused_senders = 0;   ///< max_senders epochs tracked already
    std::uint64_t refused_too_large = 0; ///< sends that would not fit a datagram once sealed
    std::uint64_t unsealable = 0;        ///< sends under a sealing stage with no primary key

    [[nodiscard]] std::uint64_t refused() const noexcept
    {
        return refused_plain + refused_short + refused_key + refused_tag + refused_replay + refused_clock +
               refused_senders;
    }
};

/// A key and the id that selects it on the wire.
struct sealing_key {
    std::uint8_t id = 0;
    crypto::chacha20_key bytes{};
};

/// The keys a member accepts, and the one it seals with.
class keyring {
public:
    /// Installs (or replaces) a key; the first installed becomes primary.
    void install(const sealing_key& key)
    {
        const auto it = find(key.id);
        if (it != keys_.end()) {
            it->bytes = key.bytes;
        } else {
            keys_.push_back(key);
        }
        if (!primary_) {
            primary_ = key.id;
        }
    }

    /// Seals with key `id` from now on.
    void use(std::uint8_t id)
    {
        if (find(id) == keys_.end()) {
            throw std::invalid_argument("gossip::transport::keyring: key " + std::to_string(id) +
                                        " is not installed, so it cannot be primary");
        }
        primary_ = id;
    }

    /// Stops accepting key `id`. The primary key cannot be removed: use() another first.
    void remove(std::uint8_t id)
    {
        if (primary_ == id) {
            throw std::invalid_argument("gossip::transport::keyring: key " + std::to_string(id) +
                                        " is primary; use() another before removing it");
        }
        const auto it = find(id);
        if (it != keys_.end()) {
            keys_.erase(it);
        }
    }

    [[nodiscard]] bool empty() const noexcept { return keys_.empty(); }
    [[nodiscard]] std::size_t size() const noexcept { return keys_.size(); }
    [[nodiscard]] std::optional<std::uint8_t> primary() const noexcept { return primary_; }
    [[nodiscard]] bool contains(std::uint8_t id) const noexcept
    {
        return std::any_of(keys_.begin(), keys_.end(), [&](const sealing_key& k) { return k.id == id; });
    }

    /// The key with id `id`, or nullptr.
    [[nodiscard]] const crypto::chacha20_key* key(std::uint8_t id) const noexcept
    {
        for (const auto& k : keys_) {
            if (k.id == id) {
                return &k.bytes;
            }
        }
        return nullptr;
    }

private:
    std::vector<sealing_key>::iterator find(std::uint8_t id)
    {
        return std::find_if(keys_.begin(), keys_.end(), [&](const sealing_key& k) { return k.id == id; });
    }

    std::vector<sealing_key> keys_; // a handful: a linear search beats hashing
    std::optional<std::uint8_t> primary_;
};

// clang-format 14 mangles concepts and requires-clauses: kept as written.
// clang-format off
/// Inner, with every datagram sealed on the way out and opened (or refused) on the way in;
/// the header comment above has the format, the nonces and the replay rules.
template <class Inner>
    requires transport_policy<Inner>
// clang-format on
class sealed : public gossip::detail::transport_decorator<Inner> {
    using base = gossip::detail::transport_decorator<Inner>;
    using base::inner_;

    // Tags of the scratch buffers this decorator leases (detail::scratch_vector).
    struct buffer_tag {};
    struct aad_tag {};
    struct plain_tag {};

public:
    using address_type = typename Inner::address_type;

    static_assert(!gossip::detail::compresses_below<Inner>(),
                  "gossip::transport::sealed<compressed<T>> would compress ciphertext, which does not shrink: "
                  "compress first, as compressed<sealed<T>>");

    static constexpr std::uint8_t format = 0xC5;
    static constexpr std::size_t header_bytes = 1 + 1 + 8 + 4 + 4;
    static constexpr std::size_t overhead = header_bytes + crypto::aead_tag_bytes;

    sealed(Inner inner, keyring keys, sealed_options options = {})
        : base(std::move(inner)), keys_(std::move(keys)), options_(std::move(options)), epoch_(draw_epoch())
    {
        if (keys_.empty() && options_.stage != sealing_stage::send_plain) {
            throw std::invalid_argument(
                "gossip::transport::sealed: no key installed; install one, or start at stage send_plain");
        }
        if (options_.max_clock_skew <= std::chrono::seconds::zero() ||
            options_.max_clock_skew > std::chrono::hours{24} || options_.max_senders == 0) {
            throw std::invalid_argument("gossip::transport::sealed: max_clock_skew must be within (0, 1 day], and "
                                        "max_senders positive");
        }
    }

    // A copy would seal with the same epoch and counters as its original: the same nonces under
    // the same key, which gives away plaintexts and the authenticator. So no copies; and what
    // is moved from starts a new epoch should it ever send again.
    sealed(const sealed&) = delete;
    sealed& operator=(const sealed&) = delete;
    sealed(sealed&& other) noexcept(std::is_nothrow_move_constructible_v<Inner>)
        : base(std::move(other)), keys_(std::move(other.keys_)), options_(std::move(other.options_)),
          epoch_(other.epoch_), counter_(other.counter_), windows_(std::move(other.windows_)), stats_(other.stats_)
    {
        other.counter_ = std::numeric_limits<std::uint32_t>::max(); // its next send draws an epoch
    }
    sealed& operator=(sealed&& other) noexcept(std::is_nothrow_move_assignable_v<Inner>)
    {
        if (this != &other) {
            base::operator=(std::move(other));
            keys_ = std::move(other.keys_);
            options_ = std::move(other.options_);
            epoch_ = other.epoch_;
            counter_ = other.counter_;
            windows_ = std::move(other.windows_);
            stats_ = other.stats_;
            other.counter_ = std::numeric_limits<std::uint32_t>::max();
        }
        return *this;
    }
    ~sealed() = default;

    // --- transport_policy -------------------------------------------------------------------
    bool send(const address_type& to, std::span<const std::byte> bytes)
    {
        if (options_.stage == sealing_stage::send_plain) {
            ++stats_.plain_sent;
            return inner_.send(to, bytes);
        }
        const auto id = keys_.primary();
        const auto* key = id ? keys_.key(*id) : nullptr;
        if (key == nullptr) {
            ++stats_.unsealable; // a keyring emptied under a sealing stage: nothing to seal with
            return false;
        }
        if (bytes.size() > max_plaintext) {
            ++stats_.refused_too_large;
            return false;
        }
        if (counter_ == std::numeric_limits<std::uint32_t>::max()) {
            epoch_ = draw_epoch(); // a new epoch rather than a repeated nonce
            counter_ = 0;
        }
        const std::uint32_t counter = counter_++;
        // Scratch that nests: a transport that delivers at once may have this member answer
        // from inside the send below, and that send seals into buffers of its own.
        gossip::detail::scratch_vector<std::byte, buffer_tag> buffer_lease;
        gossip::detail::scratch_vector<std::byte, aad_tag> aad_lease;
        std::vector<std::byte>& buffer = buffer_lease.get();
        std::vector<std::byte>& aad_scratch = aad_lease.get();
        buffer.resize(overhead + bytes.size());
        std::byte* h = buffer.data();
        h[0] = std::byte{format};
        h[1] = std::byte{*id};
        put_u64(h + 2, epoch_);
        crypto::detail::store32_le(h + 10, counter);
        crypto::detail::store32_le(h + 14, static_cast<std::uint32_t>(seconds_now())); // mod 2^32
        const auto nonce = nonce_of(h);
        const auto aad = associated_data(aad_scratch, std::span<const std::byte>(h, header_bytes));
        const auto body = std::span(buffer).subspan(header_bytes, bytes.size());
        const auto tag = crypto::seal(*key, nonce, aad, bytes, body);
        std::copy(tag.begin(), tag.end(), buffer.begin() + static_cast<std::ptrdiff_t>(header_bytes + bytes.size()));
        ++stats_.sealed_sent;
        return inner_.send(to, buffer);
    }

    /// Opens what arrived for the node: f(plaintext) for an authentic, fresh datagram (or a
    /// plaintext one where the stage accepts it); false, counted, otherwise.
    template <class F>
    bool inbound(const address_type& from, std::span<const std::byte> bytes, F&& f)
    {
        return this->inbound_after_inner(from, bytes,
                                         [&](std::span<const std::byte> inside) { return open_and_hand(inside, f); });
    }

private:
    template <class F>
    bool open_and_hand(std::span<const std::byte> bytes, F& f)
    {
        if (bytes.empty() || std::to_integer<std::uint8_t>(bytes[0]) != format) {
            if (options_.stage == sealing_stage::require_sealed) {
                ++(looks_plain(bytes) ? stats_.refused_plain : stats_.refused_short);
                return false;
            }
            ++stats_.plain_accepted;
            f(bytes);
            return true;
        }
        if (bytes.size() < overhead) {
            ++stats_.refused_short;
            return false;
        }
        const std::byte* h = bytes.data();
        const auto* key = keys_.key(std::to_integer<std::uint8_t>(h[1]));
        if (key == nullptr) {
            ++stats_.refused_key;
            return false;
        }
        const std::uint64_t epoch = get_u64(h + 2);
        const std::uint32_t counter = crypto::detail::load32_le(h + 10);
        const std::uint32_t stamp = crypto::detail::load32_le(h + 14);
        const std::size_t body_size = bytes.size() - overhead;
        const auto body = bytes.subspan(header_bytes, body_size);
        const auto tag = std::span<const std::byte, crypto::aead_tag_bytes>(bytes.data() + header_bytes + body_size,
                                                                            crypto::aead_tag_bytes);
        // The plaintext stays leased while the node handles it (and perhaps opens another
        // datagram delivered meanwhile, into scratch of its own); the associated data only
        // until the tag is checked, so that the answers the node sends reuse it.
        gossip::detail::scratch_vector<std::byte, plain_tag> plain_lease;
        std::vector<std::byte>& plain = plain_lease.get();
        plain.resize(body_size);
        {
            gossip::detail::scratch_vector<std::byte, aad_tag> aad_lease;
            associated_data(aad_lease.get(), bytes.first(header_bytes));
            if (!crypto::open(*key, nonce_of(h), aad_lease.get(), body, tag, plain)) {
                ++stats_.refused_tag;
                return false;
            }
        }
        // Authentic: now its time and its counter are worth believing, and remembering.
        const std::int64_t now = seconds_now();
        const std::int64_t skew = options_.max_clock_skew.count();
        // The stamp is the sender's seconds modulo 2^32: compared by difference, which stays
        // right across the wrap (in 2106).
        const auto off = static_cast<std::int32_t>(stamp - static_cast<std::uint32_t>(now));
        if (off < -skew || off > skew) {
            ++stats_.refused_clock;
            return false;
        }
        if (!fresh(epoch, counter, now)) {
            return false;
        }
        ++stats_.opened;
        f(std::span<const std::byte>(plain));
        return true;
    }

public:
    // --- keys and stages, on a running member -----------------------------------------------
    [[nodiscard]] keyring& keys() noexcept { return keys_; }
    [[nodiscard]] const keyring& keys() const noexcept { return keys_; }
    void set_stage(sealing_stage s)
    {
        if (s != sealing_stage::send_plain && !keys_.primary()) {
            throw std::invalid_argument("gossip::transport::sealed: no primary key to seal with");
        }
        options_.stage = s;
    }
    [[nodiscard]] sealing_stage stage() const noexcept { return options_.stage; }

    [[nodiscard]] const sealed_statistics& statistics() const noexcept { return stats_; }
    [[nodiscard]] std::size_t senders_tracked() const noexcept { return windows_.size(); }

    /// The largest datagram the node may hand over: the inner limit less the sealing overhead.
    static constexpr std::size_t max_plaintext = 65'507 - overhead;

private:
    struct window {
        std::uint32_t highest = 0;
        std::uint64_t seen = 0; ///< bit i: highest - i was seen
        std::int64_t last = 0;  ///< receiver's seconds when last accepted
    };

    // The system's random source (getrandom on Linux), mixed with the time and this object's
    // address, so that even a deterministic random_device would not give every member the
    // same epoch.
    [[nodiscard]] std::uint64_t draw_epoch() const
    {
        std::random_device device;
        const std::uint64_t random = (std::uint64_t{device()} << 32U) | device();
        const auto ticks = static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
        return random ^ mix_seed(ticks, reinterpret_cast<std::uintptr_t>(this));
    }

    static void put_u64(std::byte* p, std::uint64_t v) noexcept
    {
        crypto::detail::store32_le(p, static_cast<std::uint32_t>(v));
        crypto::detail::store32_le(p + 4, static_cast<std::uint32_t>(v >> 32U));
    }

    [[nodiscard]] static std::uint64_t get_u64(const std::byte* p) noexcept
    {
        return std::uint64_t{crypto::detail::load32_le(p)} | (std::uint64_t{crypto::detail::load32_le(p + 4)} << 32U);
    }

    [[nodiscard]] static crypto::chacha20_nonce nonce_of(const std::byte* header) noexcept
    {
        crypto::chacha20_nonce n{};
        std::copy_n(header + 2, n.size(), n.begin()); // epoch then counter
        return n;
    }

    // The header, then the label, into scratch kept between datagrams.
    std::span<const std::byte> associated_data(std::vector<std::byte>& out, std::span<const std::byte> header) const
    {
        out.assign(header.begin(), header.end());
        const auto label = std::as_bytes(std::span(options_.label));
        out.insert(out.end(), label.begin(), label.end());
        return out;
    }

    [[nodiscard]] static bool looks_plain(std::span<const std::byte> bytes) noexcept
    {
        return bytes.size() >= 2 && bytes[0] == std::byte{0x47} && bytes[1] == std::byte{0x53}; // "GS"
    }

    [[nodiscard]] std::int64_t seconds_now() const
    {
        if constexpr (transport_with_clock<Inner>) {
            // Simulated time: seconds from the network's origin, shifted off zero.
            return std::chrono::duration_cast<std::chrono::seconds>(inner_.now()).count() + simulated_origin;
        } else {
            return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
                .count();
        }
    }

    // Whether (epoch, counter) is new; remembers it when it is.
    bool fresh(std::uint64_t epoch, std::uint32_t counter, std::int64_t now)
    {
        auto it = windows_.find(epoch);
        if (it == windows_.end()) {
            if (windows_.size() >= options_.max_senders) {
                if (now != last_full_sweep_) { // at most one sweep a second while full
                    last_full_sweep_ = now;
                    forget_silent(now);
                }
                if (windows_.size() >= options_.max_senders) {
                    ++stats_.refused_senders;
                    return false;
                }
            }
            it = windows_.emplace(epoch, window{counter, 1, now}).first;
            return true;
        }
        window& w = it->second;
        if (counter > w.highest) {
            const std::uint32_t shift = counter - w.highest;
            w.seen = shift >= 64 ? 1 : (w.seen << shift) | 1U;
            w.highest = counter;
        } else {
            const std::uint32_t back = w.highest - counter;
            const std::uint64_t bit = back >= 64 ? 0 : std::uint64_t{1} << back;
            if (bit == 0 || (w.seen & bit) != 0) {
                ++stats_.refused_replay;
                return false;
            }
            w.seen |= bit;
        }
        w.last = now;
        if (++accepted_since_sweep_ >= 4096) {
            forget_silent(now);
        }
        return true;
    }

    // Epochs silent for twice the skew cannot be replayed any more: their timestamps are stale.
    void forget_silent(std::int64_t now)
    {
        accepted_since_sweep_ = 0;
        const std::int64_t horizon = 2 * options_.max_clock_skew.count();
        std::erase_if(windows_, [&](const auto& e) { return now - e.second.last > horizon; });
    }

    static constexpr std::int64_t simulated_origin = 1'000'000'000;

    keyring keys_;
    sealed_options options_;
    std::uint64_t epoch_;
    std::uint32_t counter_ = 0;
    std::int64_t last_full_sweep_ = 0;
    std::unordered_map<std::uint64_t, window> windows_;
    std::size_t accepted_since_sweep_ = 0;
    sealed_statistics stats_;
};

} // namespace gossip::transport
