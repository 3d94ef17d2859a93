#pragma once

// A queue between threads: the loop thread pushes what happened (membership events, delivered
// messages), any other thread pops. Bounded, so that a consumer that stops reading costs a
// counted loss, never unbounded memory.

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <utility>

namespace gossip {

/// A bounded, thread-safe queue from the loop thread to the application's threads, for
/// delivering events without letting a slow reader stall the node or grow its memory.
template <class T>
class mailbox {
public:
    /// Holds at most `capacity` items; a push beyond that drops the oldest and counts it.
    explicit mailbox(std::size_t capacity = 65536) : capacity_(capacity == 0 ? 1 : capacity) {}

    void push(T item)
    {
        {
            const std::lock_guard lock(mutex_);
            if (closed_) {
                return;
            }
            if (items_.size() >= capacity_) {
                items_.pop_front();
                ++dropped_;
            }
            items_.push_back(std::move(item));
        }
        ready_.notify_one();
    }

    [[nodiscard]] std::optional<T> try_pop()
    {
        const std::lock_guard lock(mutex_);
        return take();
    }

    /// Waits up to `timeout` for an item; nothing on timeout or once closed and empty.
    template <class Rep, class Period>
    [[nodiscard]] std::optional<T> pop_for(std::chrono::duration<Rep, Period> timeout)
    {
        std::unique_lock lock(mutex_);
        ready_.wait_for(lock, timeout, [&] { return !items_.empty() || closed_; });
        return take();
    }

    /// Wakes every waiter; later pushes are ignored, what is queued can still be popped.
    void close()
    {
        {
            const std::lock_guard lock(mutex_);
            closed_ = true;
        }
        ready_.notify_all();
    }

    [[nodiscard]] std::uint64_t dropped() const
    {
        const std::lock_guard lock(mutex_);
        return dropped_;
    }
    [[nodiscard]] std::size_t size() const
    {
        const std::lock_guard lock(mutex_);
        return items_.size();
    }

private:
    std::optional<T> take()
    {
        if (items_.empty()) {
            return std::nullopt;
        }
        T item = std::move(items_.front());
        items_.pop_front();
        return item;
    }

    mutable std::mutex mutex_;
    std::condition_variable ready_;
    std::deque<T> items_;
    std::size_t capacity_;
    std::uint64_t dropped_ = 0;
    bool closed_ = false;
};

} // namespace gossip
