#pragma once

// Where a payload that talks on its own (SWIM's pings, acks and ping-reqs) puts what it sends.
// The node owns one outbox and lends it to the payload for the length of a call; each send()
// encodes a whole datagram of kind direct at once (header, then the payload's section), and the
// node hands the queue to its transport right after the call returns. So a payload never sees
// the transport, sending costs no virtual call, and the order of sends is the order of calls,
// which keeps a simulation replayable from its seed.
//
// A composite payload (payload::combined) routes replies to the part that sent: it enters a
// scope that prefixes every section sent inside it with the part's number, and reads that
// number back before handing a received section on.

#include "detail/answer_budget.hpp"
#include "detail/flag_guard.hpp"
#include "wire/codec.hpp"
#include "wire/message.hpp"
#include "wire/writer.hpp"

#include <algorithm>
#include <array>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <stdexcept>
#include <utility>
#include <vector>

namespace gossip {

/// What a node has queued for its transport on behalf of its payload; see the top of this file.
template <wire::encodable Address>
class outbox {
public:
    /// The deepest nesting of composite payloads whose parts can send.
    static constexpr std::size_t max_depth = 8;

    outbox() = default;
    /// Messages come from `self` and hold at most `max_message_bytes` bytes, header included.
    outbox(const Address& self, std::size_t max_message_bytes) : self_(self), max_bytes_(max_message_bytes) {}

    // clang-format 14 mangles concepts and requires-clauses: kept as written.
    // clang-format off
    /// Queues one datagram for `to`. write(wire::writer&) appends the section; it is given the
    /// room left (section_room()) and may fill it. false, and nothing is queued, when the
    /// writer failed (the section did not fit); such messages are counted in refused().
    template <class Write>
        requires std::invocable<Write&, wire::writer&>
    // clang-format on
    bool send(const Address& to, Write&& write)
    {
        // An answer to an address not proven yet gets the room its budget leaves, and the
        // section writes what fits there.
        const bool limited = budget_ && budget_->to == to;
        const std::size_t room = budget_ ? budget_->room(to, max_bytes_) : max_bytes_;
        const std::size_t at = bytes_.size();
        bytes_.resize(at + room);
        wire::writer w{std::span(bytes_).subspan(at, room)};
        const bool ok = wire::encode<Address>(w, wire::message_kind::direct, self_, nullptr, [&](wire::writer& out) {
            for (std::size_t i = 0; i < depth_; ++i) {
                out.u8(prefix_[i]);
            }
            write(out);
        });
        if (!ok) {
            bytes_.resize(at);
            ++(limited ? limited_ : refused_);
            return false;
        }
        bytes_.resize(at + w.size());
        queue_.push_back(queued{to, at, w.size()});
        if (budget_) {
            budget_->spend(to, w.size());
        }
        return true;
    }

    /// Says that `a` answered something only a receiver at that address could have known (an
    /// ack carrying a ping's sequence number): the node then answers it without the
    /// amplification bound (see gossip::max_amplification).
    void proven(const Address& a)
    {
        if (proven_.size() < max_proven_per_call) {
            proven_.push_back(a);
        }
    }

    /// The most bytes a section sent now can take, at least (an address whose encoding is
    /// shorter than its codec's max_size leaves a little more).
    [[nodiscard]] std::size_t section_room() const noexcept
    {
        // magic, version, kind, body length, sender, flags, payload length; no view count.
        const std::size_t overhead = 2 + 1 + 1 + 2 + wire::codec<Address>::max_size + 1 + 2 + depth_;
        return max_bytes_ > overhead ? max_bytes_ - overhead : 0;
    }

    /// While the returned scope lives, every section sent starts with `part` (after the
    /// prefixes of the scopes around it). For composite payloads.
    class scope {
    public:
        scope(const scope&) = delete;
        scope& operator=(const scope&) = delete;
        scope(scope&&) = delete;
        scope& operator=(scope&&) = delete;
        ~scope() { --box_->depth_; }

    private:
        friend class outbox;
        scope(outbox& box, std::uint8_t part) : box_(&box)
        {
            if (box_->depth_ == max_depth) {
                throw std::length_error("gossip::outbox: payloads nested deeper than max_depth");
            }
            box_->prefix_[box_->depth_] = part;
            ++box_->depth_;
        }
        outbox* box_;
    };

    [[nodiscard]] scope enter(std::uint8_t part) { return scope(*this, part); }

    // --- the node's side ------------------------------------------------------------------
    [[nodiscard]] bool empty() const noexcept { return queue_.empty(); }
    [[nodiscard]] std::size_t size() const noexcept { return queue_.size(); }
    [[nodiscard]] std::uint64_t refused() const noexcept { return refused_; }
    /// Messages not sent since the last call because the amplification bound left no room.
    [[nodiscard]] std::uint64_t take_limited() noexcept { return std::exchange(limited_, 0); }

    /// The node's answer budget, while it handles a datagram from an address not proven yet;
    /// sends to that address spend from it.
    [[nodiscard]] std::optional<detail::answer_budget<Address>>& budget() noexcept { return budget_; }

    /// Hands each address proven since the last call to f, and forgets them.
    template <class F>
    void take_proven(F&& f)
    {
        for (const auto& a : proven_) {
            f(a);
        }
        proven_.clear();
    }
    [[nodiscard]] const Address& self() const noexcept { return self_; }

    /// Hands every queued datagram to send(to, bytes), in order, and empties the queue. What is
    /// sent from inside send() (a transport that delivers at once to a node answering through
    /// this same outbox) is handed over after, by the same call.
    template <class Send>
    void drain(Send&& send)
    {
        if (draining_) {
            return; // the outer drain reaches what is queued now
        }
        const detail::flag_guard guard(draining_);
        while (!queue_.empty()) {
            // The batch being sent is set aside, so that sends made meanwhile cannot move it.
            std::swap(queue_, sending_queue_);
            std::swap(bytes_, sending_bytes_);
            for (const queued& q : sending_queue_) {
                send(q.to, std::span<const std::byte>(sending_bytes_).subspan(q.offset, q.size));
            }
            sending_queue_.clear();
            sending_bytes_.clear();
        }
    }

private:
    struct queued {
        Address to{};
        std::size_t offset = 0;
        std::size_t size = 0;
    };

    static constexpr std::size_t max_proven_per_call = 64;

    Address self_{};
    std::size_t max_bytes_ = 1400;
    std::optional<detail::answer_budget<Address>> budget_;
    std::vector<Address> proven_;
    std::uint64_t limited_ = 0;
    std::vector<queued> queue_;
    std::vector<std::byte> bytes_;
    std::vector<queued> sending_queue_;
    std::vector<std::byte> sending_bytes_;
    std::array<std::uint8_t, max_depth> prefix_{};
    std::size_t depth_ = 0;
    std::uint64_t refused_ = 0;
    bool draining_ = false;
};

} // namespace gossip
