#pragma once

// An allocator for the simulator's largest arrays, which asks for huge pages.

#include <cstddef>
#include <cstdint>
#include <memory>

#if defined(__linux__)
#include <sys/mman.h>
#include <unistd.h>
#endif

namespace gossip::detail {

/// std::allocator, except that where Linux offers transparent huge pages on request, an
/// allocation of at least huge_pages_from bytes asks for them. At a million nodes a
/// simulator's nodes fill hundreds of megabytes that every round visits at random: on 4 KiB
/// pages nearly every visit misses the TLB too, and the page walk holds the processor up even
/// for a prefetch. The memory is std::allocator's, so it is counted wherever the heap is; only
/// the pages behind it differ. Where the system declines, nothing changes.
template <class T>
class huge_page_allocator {
public:
    using value_type = T;

    /// Below this, the arrays are few pages, or in cache anyway.
    static constexpr std::size_t huge_pages_from = std::size_t{8} << 20U;

    huge_page_allocator() noexcept = default;
    template <class U>
    huge_page_allocator(const huge_page_allocator<U>& /*other*/) noexcept
    {
    }

    [[nodiscard]] T* allocate(std::size_t n)
    {
        T* p = std::allocator<T>{}.allocate(n);
        if (n * sizeof(T) >= huge_pages_from) {
            advise_huge_pages(p, n * sizeof(T));
        }
        return p;
    }

    void deallocate(T* p, std::size_t n) noexcept { std::allocator<T>{}.deallocate(p, n); }

    template <class U>
    friend bool operator==(const huge_page_allocator& /*a*/, const huge_page_allocator<U>& /*b*/) noexcept
    {
        return true;
    }

private:
    // A request for the whole pages inside [p, p + bytes). A block this large usually comes
    // fresh from the kernel, untouched but for its first page, and then its pages are huge from
    // their first use; a block the heap reuses keeps the pages it has.
    static void advise_huge_pages(void* p, std::size_t bytes) noexcept
    {
#if defined(__linux__) && defined(MADV_HUGEPAGE)
        const long page = ::sysconf(_SC_PAGESIZE);
        if (page <= 0) {
            return;
        }
        const auto size = static_cast<std::size_t>(page);
        const std::size_t misaligned = reinterpret_cast<std::uintptr_t>(p) % size;
        const std::size_t head = misaligned == 0 ? 0 : size - misaligned;
        if (bytes > head + size) {
            // Refused (no transparent huge pages, or "never"): the pages stay small.
            static_cast<void>(
                ::madvise(static_cast<std::byte*>(p) + head, (bytes - head) / size * size, MADV_HUGEPAGE));
        }
#else
        static_cast<void>(p);
        static_cast<void>(bytes);
#endif
    }
};

} // namespace gossip::detail
