#pragma once

// SipHash-2-4 (Aumasson and Bernstein, 2012): a pseudorandom function with a 128-bit key and a
// 64-bit output, fast on short inputs. The node uses it for its address cookies (see
// gossip::max_amplification): without the key, a cookie for one address says nothing about the
// cookie of another.

#include "chacha20.hpp"

#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <span>

namespace gossip::crypto {

inline constexpr std::size_t siphash_key_bytes = 16;
/// A SipHash key: 128 bits.
using siphash_key = std::array<std::byte, siphash_key_bytes>;

namespace detail {

constexpr void sip_round(std::uint64_t& v0, std::uint64_t& v1, std::uint64_t& v2, std::uint64_t& v3) noexcept
{
    v0 += v1;
    v1 = std::rotl(v1, 13);
    v1 ^= v0;
    v0 = std::rotl(v0, 32);
    v2 += v3;
    v3 = std::rotl(v3, 16);
    v3 ^= v2;
    v0 += v3;
    v3 = std::rotl(v3, 21);
    v3 ^= v0;
    v2 += v1;
    v1 = std::rotl(v1, 17);
    v1 ^= v2;
    v2 = std::rotl(v2, 32);
}

[[nodiscard]] constexpr std::uint64_t load64_le(const std::byte* p) noexcept
{
    return std::uint64_t{load32_le(p)} | (std::uint64_t{load32_le(p + 4)} << 32U);
}

} // namespace detail

/// SipHash-2-4 of `message` under `key`.
[[nodiscard]] constexpr std::uint64_t siphash24(const siphash_key& key, std::span<const std::byte> message) noexcept
{
    const std::uint64_t k0 = detail::load64_le(key.data());
    const std::uint64_t k1 = detail::load64_le(key.data() + 8);
    std::uint64_t v0 = k0 ^ 0x736f6d6570736575ULL;
    std::uint64_t v1 = k1 ^ 0x646f72616e646f6dULL;
    std::uint64_t v2 = k0 ^ 0x6c7967656e657261ULL;
    std::uint64_t v3 = k1 ^ 0x7465646279746573ULL;
    const std::size_t whole = message.size() / 8 * 8;
    for (std::size_t i = 0; i < whole; i += 8) {
        const std::uint64_t m = detail::load64_le(message.data() + i);
        v3 ^= m;
        detail::sip_round(v0, v1, v2, v3);
        detail::sip_round(v0, v1, v2, v3);
        v0 ^= m;
    }
    // The last block: the remaining bytes, and the length's low byte on top.
    std::uint64_t last = static_cast<std::uint64_t>(message.size() & 0xFFU) << 56U;
    for (std::size_t i = whole; i < message.size(); ++i) {
        last |= std::uint64_t{std::to_integer<std::uint8_t>(message[i])} << (8U * (i - whole));
    }
    v3 ^= last;
    detail::sip_round(v0, v1, v2, v3);
    detail::sip_round(v0, v1, v2, v3);
    v0 ^= last;
    v2 ^= 0xFFU;
    for (int i = 0; i < 4; ++i) {
        detail::sip_round(v0, v1, v2, v3);
    }
    return v0 ^ v1 ^ v2 ^ v3;
}

} // namespace gossip::crypto
