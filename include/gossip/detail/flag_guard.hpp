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

/// Counts one more level of nesting for the lifetime of a scope: a transport that delivers at
/// once may call back into a decorator that is still sending or opening, and the nested call
/// must then use buffers of its own.
class depth_guard {
public:
    explicit depth_guard(int& depth) noexcept : depth_(depth) { ++depth_; }
    depth_guard(const depth_guard&) = delete;
    depth_guard& operator=(const depth_guard&) = delete;
    ~depth_guard() { --depth_; }

private:
    int& depth_;
};

} // namespace gossip::detail
