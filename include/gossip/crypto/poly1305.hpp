#pragma once

// Poly1305 (RFC 8439 section 2.5), the one-time authenticator: the message, 16 bytes at a time,
// as the coefficients of a polynomial evaluated at r modulo 2^130 - 5, plus s. The accumulator is
// kept in five 26-bit limbs so that every product fits 64 bits without compiler extensions, and
// nothing branches on secret data.

#include "chacha20.hpp"

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

namespace gossip::crypto {

inline constexpr std::size_t poly1305_key_bytes = 32;
inline constexpr std::size_t poly1305_tag_bytes = 16;

/// A 128-bit authenticator.
using poly1305_tag = std::array<std::byte, poly1305_tag_bytes>;

/// Poly1305 over a message fed in pieces: update(), pad16() where AEAD pads, then finish().
class poly1305 {
public:
    /// `key` is r (clamped here) then s; it must never authenticate two messages.
    explicit poly1305(std::span<const std::byte, poly1305_key_bytes> key) noexcept
    {
        const std::byte* k = key.data();
        // r's clamping folded into the masks of its limbs.
        r_[0] = detail::load32_le(k + 0) & 0x3ffffffU;
        r_[1] = (detail::load32_le(k + 3) >> 2U) & 0x3ffff03U;
        r_[2] = (detail::load32_le(k + 6) >> 4U) & 0x3ffc0ffU;
        r_[3] = (detail::load32_le(k + 9) >> 6U) & 0x3f03fffU;
        r_[4] = (detail::load32_le(k + 12) >> 8U) & 0x00fffffU;
        for (std::size_t i = 0; i < 4; ++i) {
            s_[i] = detail::load32_le(k + 16 + 4 * i);
        }
    }

    void update(std::span<const std::byte> data) noexcept
    {
        std::size_t at = 0;
        if (buffered_ > 0) {
            const std::size_t n = std::min(data.size(), buffer_.size() - buffered_);
            std::copy_n(data.begin(), n, buffer_.begin() + static_cast<std::ptrdiff_t>(buffered_));
            buffered_ += n;
            at = n;
            if (buffered_ < buffer_.size()) {
                return;
            }
            absorb(buffer_.data(), full_block);
            buffered_ = 0;
        }
        for (; data.size() - at >= 16; at += 16) {
            absorb(data.data() + at, full_block);
        }
        std::copy(data.begin() + static_cast<std::ptrdiff_t>(at), data.end(), buffer_.begin());
        buffered_ = data.size() - at;
    }

    /// Zeros up to the next multiple of 16 bytes (AEAD's padding).
    void pad16() noexcept
    {
        if (buffered_ > 0) {
            std::fill(buffer_.begin() + static_cast<std::ptrdiff_t>(buffered_), buffer_.end(), std::byte{0});
            absorb(buffer_.data(), full_block);
            buffered_ = 0;
        }
    }

    [[nodiscard]] poly1305_tag finish() noexcept
    {
        if (buffered_ > 0) {
            // A short last block: its bytes, then a 1, then zeros; no 2^128 bit.
            buffer_[buffered_] = std::byte{1};
            std::fill(buffer_.begin() + static_cast<std::ptrdiff_t>(buffered_) + 1, buffer_.end(), std::byte{0});
            absorb(buffer_.data(), 0);
            buffered_ = 0;
        }
        constexpr std::uint32_t mask26 = 0x3ffffffU;
        auto h = h_;
        // Carry fully.
        std::uint32_t c = h[1] >> 26U;
        h[1] &= mask26;
        for (std::size_t i = 2; i < 5; ++i) {
            h[i] += c;
            c = h[i] >> 26U;
            h[i] &= mask26;
        }
        h[0] += c * 5;
        c = h[0] >> 26U;
        h[0] &= mask26;
        h[1] += c;
        // g = h + 5 - 2^130; take g when it does not go negative (h >= p), in constant time.
        std::array<std::uint32_t, 5> g{};
        g[0] = h[0] + 5;
        c = g[0] >> 26U;
        g[0] &= mask26;
        for (std::size_t i = 1; i < 4; ++i) {
            g[i] = h[i] + c;
            c = g[i] >> 26U;
            g[i] &= mask26;
        }
        g[4] = h[4] + c - (1U << 26U);
        const std::uint32_t take_g = (g[4] >> 31U) - 1U; // all ones when g did not borrow
        for (std::size_t i = 0; i < 5; ++i) {
            h[i] = (h[i] & ~take_g) | (g[i] & take_g);
        }
        // h mod 2^128 in four 32-bit words, plus s.
        const std::array<std::uint32_t, 4> words{
            h[0] | (h[1] << 26U),
            (h[1] >> 6U) | (h[2] << 20U),
            (h[2] >> 12U) | (h[3] << 14U),
            (h[3] >> 18U) | (h[4] << 8U),
        };
        poly1305_tag tag{};
        std::uint64_t sum = 0;
        for (std::size_t i = 0; i < 4; ++i) {
            sum += std::uint64_t{words[i]} + s_[i];
            detail::store32_le(tag.data() + 4 * i, static_cast<std::uint32_t>(sum));
            sum >>= 32U;
        }
        return tag;
    }

private:
    static constexpr std::uint32_t full_block = 1U << 24U; // 2^128, in the top limb

    void absorb(const std::byte* m, std::uint32_t high_bit) noexcept
    {
        constexpr std::uint32_t mask26 = 0x3ffffffU;
        h_[0] += detail::load32_le(m + 0) & mask26;
        h_[1] += (detail::load32_le(m + 3) >> 2U) & mask26;
        h_[2] += (detail::load32_le(m + 6) >> 4U) & mask26;
        h_[3] += (detail::load32_le(m + 9) >> 6U) & mask26;
        h_[4] += (detail::load32_le(m + 12) >> 8U) | high_bit;

        using u64 = std::uint64_t;
        const u64 r0 = r_[0];
        const u64 r1 = r_[1];
        const u64 r2 = r_[2];
        const u64 r3 = r_[3];
        const u64 r4 = r_[4];
        // 2^130 = 5 modulo p: limbs that overflow the top wrap around times 5.
        const u64 s1 = r1 * 5;
        const u64 s2 = r2 * 5;
        const u64 s3 = r3 * 5;
        const u64 s4 = r4 * 5;
        const u64 h0 = h_[0];
        const u64 h1 = h_[1];
        const u64 h2 = h_[2];
        const u64 h3 = h_[3];
        const u64 h4 = h_[4];
        u64 d0 = h0 * r0 + h1 * s4 + h2 * s3 + h3 * s2 + h4 * s1;
        u64 d1 = h0 * r1 + h1 * r0 + h2 * s4 + h3 * s3 + h4 * s2;
        u64 d2 = h0 * r2 + h1 * r1 + h2 * r0 + h3 * s4 + h4 * s3;
        u64 d3 = h0 * r3 + h1 * r2 + h2 * r1 + h3 * r0 + h4 * s4;
        u64 d4 = h0 * r4 + h1 * r3 + h2 * r2 + h3 * r1 + h4 * r0;
        d1 += d0 >> 26U;
        d2 += d1 >> 26U;
        d3 += d2 >> 26U;
        d4 += d3 >> 26U;
        h_[0] = static_cast<std::uint32_t>(d0 & mask26);
        h_[1] = static_cast<std::uint32_t>(d1 & mask26);
        h_[2] = static_cast<std::uint32_t>(d2 & mask26);
        h_[3] = static_cast<std::uint32_t>(d3 & mask26);
        h_[4] = static_cast<std::uint32_t>(d4 & mask26);
        h_[0] += static_cast<std::uint32_t>(d4 >> 26U) * 5;
        h_[1] += h_[0] >> 26U;
        h_[0] &= mask26;
    }

    std::array<std::uint32_t, 5> r_{};
    std::array<std::uint32_t, 5> h_{};
    std::array<std::uint32_t, 4> s_{};
    std::array<std::byte, 16> buffer_{};
    std::size_t buffered_ = 0;
};

} // namespace gossip::crypto
