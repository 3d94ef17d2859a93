#pragma once

// AEAD_CHACHA20_POLY1305 (RFC 8439 section 2.8): ChaCha20 encrypts from block 1 on, block 0
// gives Poly1305 its one-time key, and the tag covers the associated data and the ciphertext,
// each padded to 16 bytes, then both lengths. A nonce must never be used twice with one key:
// transport/sealed.hpp says how it makes sure of that.

#include "chacha20.hpp"
#include "poly1305.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

namespace gossip::crypto {

inline constexpr std::size_t aead_tag_bytes = poly1305_tag_bytes;

namespace detail {

[[nodiscard]] inline poly1305_tag aead_tag(const chacha20& cipher, std::span<const std::byte> aad,
                                           std::span<const std::byte> ciphertext) noexcept
{
    std::array<std::byte, chacha20_block_bytes> block0{};
    cipher.block(0, block0);
    poly1305 mac(std::span<const std::byte, poly1305_key_bytes>(block0.data(), poly1305_key_bytes));
    mac.update(aad);
    mac.pad16();
    mac.update(ciphertext);
    mac.pad16();
    std::array<std::byte, 16> lengths{};
    const auto put64 = [&](std::size_t at, std::uint64_t v) {
        store32_le(lengths.data() + at, static_cast<std::uint32_t>(v));
        store32_le(lengths.data() + at + 4, static_cast<std::uint32_t>(v >> 32U));
    };
    put64(0, aad.size());
    put64(8, ciphertext.size());
    mac.update(lengths);
    return mac.finish();
}

} // namespace detail

/// Whether two tags are equal, in time that does not depend on where they differ.
[[nodiscard]] inline bool tags_equal(std::span<const std::byte, aead_tag_bytes> a,
                                     std::span<const std::byte, aead_tag_bytes> b) noexcept
{
    unsigned difference = 0;
    for (std::size_t i = 0; i < aead_tag_bytes; ++i) {
        difference |= std::to_integer<unsigned>(a[i] ^ b[i]);
    }
    return difference == 0;
}

/// Encrypts `plaintext` into `ciphertext` (the same size; they may be the same bytes) and
/// returns the tag over `aad` and the ciphertext.
[[nodiscard]] inline poly1305_tag seal(std::span<const std::byte, chacha20_key_bytes> key,
                                       std::span<const std::byte, chacha20_nonce_bytes> nonce,
                                       std::span<const std::byte> aad, std::span<const std::byte> plaintext,
                                       std::span<std::byte> ciphertext) noexcept
{
    const chacha20 cipher(key, nonce);
    cipher.apply(1, plaintext, ciphertext.first(plaintext.size()));
    return detail::aead_tag(cipher, aad, ciphertext.first(plaintext.size()));
}

/// Checks `tag` over `aad` and `ciphertext`; only when it matches, decrypts into `plaintext`
/// (the same size; they may be the same bytes) and returns true. Nothing is written otherwise.
[[nodiscard]] inline bool open(std::span<const std::byte, chacha20_key_bytes> key,
                               std::span<const std::byte, chacha20_nonce_bytes> nonce, std::span<const std::byte> aad,
                               std::span<const std::byte> ciphertext, std::span<const std::byte, aead_tag_bytes> tag,
                               std::span<std::byte> plaintext) noexcept
{
    const chacha20 cipher(key, nonce);
    const poly1305_tag expected = detail::aead_tag(cipher, aad, ciphertext);
    if (!tags_equal(expected, tag)) {
        return false;
    }
    cipher.apply(1, ciphertext, plaintext.first(ciphertext.size()));
    return true;
}

} // namespace gossip::crypto
