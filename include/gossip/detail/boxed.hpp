#pragma once

// State that most nodes of a simulation never use, kept out of the node object: a million nodes
// each carrying a few hundred bytes they never touch would double the simulator's memory.

#include <memory>
#include <utility>

namespace gossip::detail {

/// An optional T on the heap, copied deeply: a value type, unlike std::unique_ptr. Empty until
/// emplace(); 8 bytes while empty.
template <class T>
class boxed {
public:
    boxed() = default;
    boxed(const boxed& other) : value_(other.value_ ? std::make_unique<T>(*other.value_) : nullptr) {}
    boxed(boxed&&) noexcept = default;
    boxed& operator=(const boxed& other)
    {
        if (this != &other) {
            value_ = other.value_ ? std::make_unique<T>(*other.value_) : nullptr;
        }
        return *this;
    }
    boxed& operator=(boxed&&) noexcept = default;
    ~boxed() = default;

    template <class... Args>
    T& emplace(Args&&... args)
    {
        value_ = std::make_unique<T>(std::forward<Args>(args)...);
        return *value_;
    }

    [[nodiscard]] explicit operator bool() const noexcept { return value_ != nullptr; }
    [[nodiscard]] T& operator*() noexcept { return *value_; }
    [[nodiscard]] const T& operator*() const noexcept { return *value_; }
    [[nodiscard]] T* operator->() noexcept { return value_.get(); }
    [[nodiscard]] const T* operator->() const noexcept { return value_.get(); }

private:
    std::unique_ptr<T> value_;
};

} // namespace gossip::detail
