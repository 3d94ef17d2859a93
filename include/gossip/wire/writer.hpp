#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <span>

namespace gossip::wire {

/// Writes little-endian fields into a fixed buffer. Writing past the end never touches memory:
/// the writer turns failed and stays so, and the caller checks ok() once at the end.
class writer {
public:
    explicit writer(std::span<std::byte> out) noexcept : out_(out) {}

    // Copied member by member, each at its own width. A defaulted copy moves the position and
    // the failure flag as one 16-byte block, and a writer is copied right after writing (by
    // append_if_fits, once per element of a section), when those two members were just stored
    // apart: such a load cannot be served from the pending stores and waits until they are
    // written out, which took most of the time of writing a membership section.
    // NOLINTNEXTLINE(modernize-use-equals-default): the point is not to be the default
    writer(const writer& other) noexcept : out_(other.out_), size_(other.size_), ok_(other.ok_) {}
    // NOLINTNEXTLINE(modernize-use-equals-default): as above
    writer& operator=(const writer& other) noexcept
    {
        out_ = other.out_;
        size_ = other.size_;
        ok_ = other.ok_;
        return *this;
    }
    ~writer() = default;

    [[gnu::always_inline]] void u8(std::uint8_t v) noexcept { put(v); }
    [[gnu::always_inline]] void u16(std::uint16_t v) noexcept { put(v); }
    [[gnu::always_inline]] void u32(std::uint32_t v) noexcept { put(v); }
    [[gnu::always_inline]] void u64(std::uint64_t v) noexcept { put(v); }

    void bytes(std::span<const std::byte> data) noexcept
    {
        if (!reserve(data.size())) {
            return;
        }
        if (!data.empty()) {
            std::memcpy(out_.data() + size_, data.data(), data.size());
        }
        size_ += data.size();
    }

    /// Overwrites a 16-bit field written earlier (lengths known only once the body is written).
    void patch_u16(std::size_t offset, std::uint16_t v) noexcept
    {
        if (offset + 2 <= size_) {
            out_[offset] = static_cast<std::byte>(v & 0xFFU);
            out_[offset + 1] = static_cast<std::byte>(v >> 8U);
        }
    }

    /// Overwrites an 8-bit field written earlier.
    void patch_u8(std::size_t offset, std::uint8_t v) noexcept
    {
        if (offset < size_) {
            out_[offset] = static_cast<std::byte>(v);
        }
    }

    /// Overwrites a 64-bit field written earlier.
    void patch_u64(std::size_t offset, std::uint64_t v) noexcept
    {
        if (offset + 8 <= size_) {
            for (std::size_t i = 0; i < 8; ++i) {
                out_[offset + i] = static_cast<std::byte>((v >> (8U * i)) & 0xFFU);
            }
        }
    }

    /// The room not written yet, for a nested writer whose bytes are then kept with advance().
    [[nodiscard]] std::span<std::byte> unused() noexcept { return ok_ ? out_.subspan(size_) : std::span<std::byte>{}; }

    /// Keeps n bytes written into unused() by someone else.
    void advance(std::size_t n) noexcept
    {
        if (reserve(n)) {
            size_ += n;
        }
    }

    /// Marks the output failed for a reason the writer cannot see (a value too long to encode).
    void fail() noexcept { ok_ = false; }

    [[nodiscard]] bool ok() const noexcept { return ok_; }
    [[nodiscard]] std::size_t size() const noexcept { return size_; }
    [[nodiscard]] std::size_t remaining() const noexcept { return out_.size() - size_; }
    [[nodiscard]] std::span<const std::byte> written() const noexcept { return out_.first(size_); }

private:
    bool reserve(std::size_t n) noexcept
    {
        if (!ok_ || n > out_.size() - size_) {
            ok_ = false;
            return false;
        }
        return true;
    }

    // Always inlined, as reader::get is.
    template <class T>
    [[gnu::always_inline]] inline void put(T v) noexcept
    {
        if (!reserve(sizeof(T))) {
            return;
        }
        if constexpr (std::endian::native == std::endian::little) {
            std::memcpy(out_.data() + size_, &v, sizeof(T));
        } else {
            for (std::size_t i = 0; i < sizeof(T); ++i) {
                out_[size_ + i] = static_cast<std::byte>((std::uint64_t{v} >> (8U * i)) & 0xFFU);
            }
        }
        size_ += sizeof(T);
    }

    std::span<std::byte> out_;
    std::size_t size_ = 0;
    bool ok_ = true;
};

/// Writes one element through write(out) only if all of it fits, within the writer and before
/// `limit` bytes in all; otherwise w is left as it was. Sections built of elements use it to stop
/// cleanly at the datagram budget instead of failing the whole message.
template <class Write>
bool append_if_fits(writer& w, Write&& write, std::size_t limit = std::numeric_limits<std::size_t>::max())
{
    writer attempt = w;
    write(attempt);
    if (!attempt.ok() || attempt.size() > limit) {
        return false;
    }
    w = attempt;
    return true;
}

} // namespace gossip::wire
