#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>

namespace gossip::wire {

/// Reads little-endian fields from untrusted bytes. A read past the end yields zero and turns
/// the reader failed for good, so a decoder reads its fields and checks ok() once; no read ever
/// leaves the span.
class reader {
public:
    explicit reader(std::span<const std::byte> in) noexcept : in_(in) {}

    [[nodiscard]] [[gnu::always_inline]] std::uint8_t u8() noexcept { return get<std::uint8_t>(); }
    [[nodiscard]] [[gnu::always_inline]] std::uint16_t u16() noexcept { return get<std::uint16_t>(); }
    [[nodiscard]] [[gnu::always_inline]] std::uint32_t u32() noexcept { return get<std::uint32_t>(); }
    [[nodiscard]] [[gnu::always_inline]] std::uint64_t u64() noexcept { return get<std::uint64_t>(); }

    /// The next n bytes, or an empty span (and failure) when fewer remain.
    [[nodiscard]] std::span<const std::byte> bytes(std::size_t n) noexcept
    {
        if (!take(n)) {
            return {};
        }
        auto out = in_.subspan(offset_ - n, n);
        return out;
    }

    /// The bytes not read yet (none once failed), for a codec that parses a field in place and
    /// then consumes it with skip().
    [[nodiscard]] std::span<const std::byte> rest() const noexcept
    {
        return ok_ ? in_.subspan(offset_) : std::span<const std::byte>{};
    }

    /// Consumes the next byte into `out` if there is one and it is below `limit`; else consumes
    /// nothing, leaves the reader as it was, and answers false. The one-byte case of a varint.
    [[nodiscard]] [[gnu::always_inline]] bool next_below(std::uint8_t limit, std::uint8_t& out) noexcept
    {
        if (ok_ && offset_ < in_.size()) {
            const auto b = static_cast<std::uint8_t>(in_[offset_]);
            if (b < limit) {
                out = b;
                ++offset_;
                return true;
            }
        }
        return false;
    }

    /// Consumes n bytes, as bytes(n) does, without handing them out.
    void skip(std::size_t n) noexcept { (void)take(n); }

    /// Marks the input malformed for a reason the reader cannot see (a bad value, not a short one).
    void fail() noexcept { ok_ = false; }

    [[nodiscard]] bool ok() const noexcept { return ok_; }
    [[nodiscard]] std::size_t remaining() const noexcept { return ok_ ? in_.size() - offset_ : 0; }
    [[nodiscard]] std::size_t offset() const noexcept { return offset_; }

private:
    bool take(std::size_t n) noexcept
    {
        if (!ok_ || n > in_.size() - offset_) {
            ok_ = false;
            return false;
        }
        offset_ += n;
        return true;
    }

    // Always inlined: a decoder's per-field calls would otherwise dominate its cost.
    template <class T>
    [[gnu::always_inline]] inline T get() noexcept
    {
        T v{};
        if (ok_ && sizeof(T) <= in_.size() - offset_) {
            const std::byte* at = in_.data() + offset_;
            offset_ += sizeof(T);
            if constexpr (std::endian::native == std::endian::little) {
                std::memcpy(&v, at, sizeof(T));
            } else {
                std::uint64_t w = 0;
                for (std::size_t i = 0; i < sizeof(T); ++i) {
                    w |= std::uint64_t{static_cast<std::uint8_t>(at[i])} << (8U * i);
                }
                v = static_cast<T>(w);
            }
        } else {
            ok_ = false;
        }
        return v;
    }

    std::span<const std::byte> in_;
    std::size_t offset_ = 0;
    bool ok_ = true;
};

} // namespace gossip::wire
