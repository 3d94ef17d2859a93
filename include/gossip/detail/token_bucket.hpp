#pragma once

// A token bucket in bytes, for transport::rate_limited: refilled continuously, in doubles (exact
// to a byte for any realistic rate and burst), never above its burst.

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>

namespace gossip::detail {

/// A token bucket in bytes, refilled continuously at `rate` a second up to `burst`.
class token_bucket {
public:
    token_bucket(std::uint64_t rate, std::uint64_t burst)
        : rate_(static_cast<double>(rate)), burst_(static_cast<double>(burst)), tokens_(burst_)
    {
    }

    /// Takes `bytes` if the bucket holds them at `now`.
    bool take(std::size_t bytes, std::chrono::nanoseconds now) noexcept
    {
        if (rate_ == 0) {
            return true;
        }
        if (started_ && now > last_) {
            tokens_ = std::min(burst_, tokens_ + static_cast<double>((now - last_).count()) * rate_ / 1e9);
        }
        if (!started_ || now > last_) {
            last_ = now;
        }
        started_ = true;
        const auto need = static_cast<double>(bytes);
        if (need > tokens_) {
            return false;
        }
        tokens_ -= need;
        return true;
    }

private:
    double rate_;
    double burst_;
    double tokens_;
    std::chrono::nanoseconds last_{0};
    bool started_ = false;
};

} // namespace gossip::detail
