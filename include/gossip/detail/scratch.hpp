#pragma once

#include <vector>

namespace gossip::detail {

/// A vector for temporary work that keeps its capacity between uses on a thread, so that the
/// hot path does not allocate. `Tag` separates unrelated uses. Should a use nest inside another
/// of the same kind (a transport that delivers to a node from within send(), say), the inner one
/// gets a vector of its own instead of clobbering the outer one's contents.
template <class T, class Tag>
class scratch_vector {
public:
    scratch_vector() noexcept : vector_(busy_ ? &own_ : &shared_), owner_(!busy_) { busy_ = true; }
    scratch_vector(const scratch_vector&) = delete;
    scratch_vector& operator=(const scratch_vector&) = delete;
    ~scratch_vector()
    {
        if (owner_) {
            busy_ = false;
        }
    }

    [[nodiscard]] std::vector<T>& get() noexcept { return *vector_; }

private:
    inline static thread_local std::vector<T> shared_;
    inline static thread_local bool busy_ = false;
    std::vector<T> own_;
    std::vector<T>* vector_;
    bool owner_;
};

} // namespace gossip::detail
