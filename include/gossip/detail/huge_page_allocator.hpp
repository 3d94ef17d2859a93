#pragma once

// An allocator for the simulator's largest arrays, which asks for huge pages.

#include <cstddef>
#include <cstdlib>
#include <memory>
#include <new>

#if defined(__linux__)
#include <sys/mman.h>
#endif

namespace gossip::detail {

/// std::allocator, except that an allocation of at least huge_page_bytes is aligned to a huge
/// page and, where Linux offers transparent huge pages on request, asked to be backed by them.
/// At a million nodes a simulator's nodes fill hundreds of megabytes that every round visits at
/// random: on 4 KiB pages nearly every visit misses the TLB too, and the page walk holds the
/// processor up even for a prefetch. Elsewhere, or when the system declines, these are ordinary
/// pages, and nothing else changes.
template <class T>
class huge_page_allocator {
public:
    using value_type = T;

    static constexpr std::size_t huge_page_bytes = std::size_t{2} << 20U;

    huge_page_allocator() noexcept = default;
    template <class U>
    huge_page_allocator(const huge_page_allocator<U>& /*other*/) noexcept
    {
    }

    [[nodiscard]] T* allocate(std::size_t n)
    {
        if (n > static_cast<std::size_t>(-1) / sizeof(T)) {
            throw std::bad_array_new_length();
        }
        const std::size_t bytes = n * sizeof(T);
        if (bytes < huge_page_bytes || alignof(T) > huge_page_bytes) {
            return std::allocator<T>{}.allocate(n);
        }
        const std::size_t rounded = (bytes + huge_page_bytes - 1) / huge_page_bytes * huge_page_bytes;
        void* p = std::aligned_alloc(huge_page_bytes, rounded);
        if (p == nullptr) {
            throw std::bad_alloc();
        }
#if defined(__linux__) && defined(MADV_HUGEPAGE)
        // A request: refused (no transparent huge pages, or "never"), the pages stay small.
        static_cast<void>(::madvise(p, rounded, MADV_HUGEPAGE));
#endif
        return static_cast<T*>(p);
    }

    void deallocate(T* p, std::size_t n) noexcept
    {
        if (n * sizeof(T) < huge_page_bytes || alignof(T) > huge_page_bytes) {
            std::allocator<T>{}.deallocate(p, n);
            return;
        }
        std::free(p);
    }

    template <class U>
    friend bool operator==(const huge_page_allocator& /*a*/, const huge_page_allocator<U>& /*b*/) noexcept
    {
        return true;
    }
};

} // namespace gossip::detail
