#pragma once

namespace gossip::detail {

/// Raises a flag for the lifetime of a scope and lowers it however the scope ends.
class flag_guard {
public:
    explicit flag_guard(bool& flag) noexcept : flag_(flag) { flag_ = true; }
    flag_guard(const flag_guard&) = delete;
    flag_guard& operator=(const flag_guard&) = delete;
    ~flag_guard() { flag_ = false; }

private:
    bool& flag_;
};

} // namespace gossip::detail
