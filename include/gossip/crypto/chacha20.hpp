#pragma once

// ChaCha20 as RFC 8439 defines it for IETF protocols: a 256-bit key, a 96-bit nonce and a 32-bit
// block counter. Portable and branch-free on secret data; written for datagrams of a few hundred
// bytes, where a scalar implementation costs about as much as the setup of a vectorised one.

#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <span>

namespace gossip::crypto {

inline constexpr std::size_t chacha20_key_bytes = 32;
inline constexpr std::size_t chacha20_nonce_bytes = 12;
inline constexpr std::size_t chacha20_block_bytes = 64;

/// A 256-bit key.
using chacha20_key = std::array<std::byte, chacha20_key_bytes>;
/// A 96-bit nonce: never twice under one key.
using chacha20_nonce = std::array<std::byte, chacha20_nonce_bytes>;

namespace detail {

[[nodiscard]] constexpr std::uint32_t load32_le(const std::byte* p) noexcept
{
    return std::uint32_t{std::to_integer<std::uint8_t>(p[0])} |
           (std::uint32_t{std::to_integer<std::uint8_t>(p[1])} << 8U) |
           (std::uint32_t{std::to_integer<std::uint8_t>(p[2])} << 16U) |
           (std::uint32_t{std::to_integer<std::uint8_t>(p[3])} << 24U);
}

constexpr void store32_le(std::byte* p, std::uint32_t v) noexcept
{
    p[0] = static_cast<std::byte>(v);
    p[1] = static_cast<std::byte>(v >> 8U);
    p[2] = static_cast<std::byte>(v >> 16U);
    p[3] = static_cast<std::byte>(v >> 24U);
}

constexpr void quarter_round(std::array<std::uint32_t, 16>& x, int a, int b, int c, int d) noexcept
{
    auto& xa = x[static_cast<std::size_t>(a)];
    auto& xb = x[static_cast<std::size_t>(b)];
    auto& xc = x[static_cast<std::size_t>(c)];
    auto& xd = x[static_cast<std::size_t>(d)];
    xa += xb;
    xd = std::rotl(xd ^ xa, 16);
    xc += xd;
    xb = std::rotl(xb ^ xc, 12);
    xa += xb;
    xd = std::rotl(xd ^ xa, 8);
    xc += xd;
    xb = std::rotl(xb ^ xc, 7);
}

} // namespace detail

/// The ChaCha20 quarter round on four words, as RFC 8439 section 2.1 states it (for tests).
constexpr void chacha20_quarter_round(std::uint32_t& a, std::uint32_t& b, std::uint32_t& c, std::uint32_t& d) noexcept
{
    std::array<std::uint32_t, 16> x{a, b, c, d};
    detail::quarter_round(x, 0, 1, 2, 3);
    a = x[0];
    b = x[1];
    c = x[2];
    d = x[3];
}

/// Key and nonce set up once; blocks drawn by counter.
class chacha20 {
public:
    chacha20(std::span<const std::byte, chacha20_key_bytes> key,
             std::span<const std::byte, chacha20_nonce_bytes> nonce) noexcept
    {
        // "expand 32-byte k"
        state_[0] = 0x61707865U;
        state_[1] = 0x3320646eU;
        state_[2] = 0x79622d32U;
        state_[3] = 0x6b206574U;
        for (std::size_t i = 0; i < 8; ++i) {
            state_[4 + i] = detail::load32_le(key.data() + 4 * i);
        }
        for (std::size_t i = 0; i < 3; ++i) {
            state_[13 + i] = detail::load32_le(nonce.data() + 4 * i);
        }
    }

    /// The 64-byte keystream block at `counter`.
    void block(std::uint32_t counter, std::span<std::byte, chacha20_block_bytes> out) const noexcept
    {
        std::array<std::uint32_t, 16> x = state_;
        x[12] = counter;
        const std::array<std::uint32_t, 16> input = x;
        for (int round = 0; round < 10; ++round) {
            detail::quarter_round(x, 0, 4, 8, 12); // columns
            detail::quarter_round(x, 1, 5, 9, 13);
            detail::quarter_round(x, 2, 6, 10, 14);
            detail::quarter_round(x, 3, 7, 11, 15);
            detail::quarter_round(x, 0, 5, 10, 15); // diagonals
            detail::quarter_round(x, 1, 6, 11, 12);
            detail::quarter_round(x, 2, 7, 8, 13);
            detail::quarter_round(x, 3, 4, 9, 14);
        }
        for (std::size_t i = 0; i < 16; ++i) {
            detail::store32_le(out.data() + 4 * i, x[i] + input[i]);
        }
    }

    /// out = in XOR the keystream from block `counter` on; in and out may be the same bytes.
    /// A message longer than 256 GiB would wrap the counter: the callers here send datagrams.
    void apply(std::uint32_t counter, std::span<const std::byte> in, std::span<std::byte> out) const noexcept
    {
        std::array<std::byte, chacha20_block_bytes> stream{};
        std::size_t done = 0;
        while (done < in.size()) {
            block(counter++, stream);
            const std::size_t n = in.size() - done < stream.size() ? in.size() - done : stream.size();
            for (std::size_t i = 0; i < n; ++i) {
                out[done + i] = in[done + i] ^ stream[i];
            }
            done += n;
        }
    }

private:
    std::array<std::uint32_t, 16> state_{};
};

} // namespace gossip::crypto
