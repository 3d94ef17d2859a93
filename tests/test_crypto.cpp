// ChaCha20, Poly1305 and AEAD_CHACHA20_POLY1305 against every test vector of RFC 8439.
// (test_crypto_libsodium.cpp cross-checks random inputs against libsodium.)

#include "rfc8439_vectors.hpp"

#include <gossip/crypto/chacha20_poly1305.hpp>
#include <gossip/crypto/siphash.hpp>

#include <doctest/doctest.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

using namespace gossip::crypto;

namespace {

std::vector<std::byte> hex(std::string_view text)
{
    const auto nibble = [](char c) { return static_cast<std::uint8_t>(c <= '9' ? c - '0' : c - 'a' + 10); };
    std::vector<std::byte> out;
    for (std::size_t i = 0; i + 1 < text.size(); i += 2) {
        out.push_back(static_cast<std::byte>((nibble(text[i]) << 4U) | nibble(text[i + 1])));
    }
    return out;
}

template <std::size_t N>
std::array<std::byte, N> fixed(std::string_view text)
{
    const auto v = hex(text);
    REQUIRE(v.size() == N);
    std::array<std::byte, N> out{};
    std::copy(v.begin(), v.end(), out.begin());
    return out;
}

} // namespace

TEST_CASE("chacha20: the quarter round matches RFC 8439 2.1.1 and 2.2.1")
{
    for (const auto& v : test::rfc8439::quarter_round_vectors) {
        CAPTURE(v.name);
        auto [a, b, c, d] = v.in;
        chacha20_quarter_round(a, b, c, d);
        CHECK(std::array{a, b, c, d} == v.out);
    }
}

TEST_CASE("chacha20: the block function matches RFC 8439 2.3.2 and A.1")
{
    for (const auto& v : test::rfc8439::block_vectors) {
        CAPTURE(v.name);
        const chacha20 cipher(fixed<32>(v.key), fixed<12>(v.nonce));
        std::array<std::byte, 64> block{};
        cipher.block(v.counter, block);
        CHECK(std::vector<std::byte>(block.begin(), block.end()) == hex(v.block));
    }
}

TEST_CASE("chacha20: encryption matches RFC 8439 2.4.2 and A.2, and decrypts back")
{
    for (const auto& v : test::rfc8439::cipher_vectors) {
        CAPTURE(v.name);
        const chacha20 cipher(fixed<32>(v.key), fixed<12>(v.nonce));
        const auto plain = hex(v.plaintext);
        std::vector<std::byte> out(plain.size());
        cipher.apply(v.counter, plain, out);
        CHECK(out == hex(v.ciphertext));
        cipher.apply(v.counter, out, out); // in place
        CHECK(out == plain);
    }
}

TEST_CASE("poly1305: tags match RFC 8439 2.5.2 and A.3, whole or fed in pieces")
{
    for (const auto& v : test::rfc8439::poly1305_vectors) {
        CAPTURE(v.name);
        const auto key = fixed<32>(v.key);
        const auto message = hex(v.message);
        poly1305 whole(key);
        whole.update(message);
        const auto tag = whole.finish();
        CHECK(std::vector<std::byte>(tag.begin(), tag.end()) == hex(v.tag));
        for (const std::size_t piece : {1U, 7U, 16U, 17U}) {
            poly1305 pieces(key);
            for (std::size_t at = 0; at < message.size(); at += piece) {
                pieces.update(std::span(message).subspan(at, std::min(piece, message.size() - at)));
            }
            CHECK(pieces.finish() == tag);
        }
    }
}

TEST_CASE("poly1305: the one-time key is ChaCha20's block 0, as in RFC 8439 2.6.2 and A.4")
{
    for (const auto& v : test::rfc8439::key_vectors) {
        CAPTURE(v.name);
        const chacha20 cipher(fixed<32>(v.key), fixed<12>(v.nonce));
        std::array<std::byte, 64> block{};
        cipher.block(0, block);
        CHECK(std::vector<std::byte>(block.begin(), block.begin() + 32) == hex(v.one_time_key));
    }
}

TEST_CASE("aead: seal and open match RFC 8439 2.8.2 and A.5")
{
    for (const auto& v : test::rfc8439::aead_vectors) {
        CAPTURE(v.name);
        const auto key = fixed<32>(v.key);
        const auto nonce = fixed<12>(v.nonce);
        const auto aad = hex(v.aad);
        const auto plain = hex(v.plaintext);
        std::vector<std::byte> sealed(plain.size());
        const auto tag = seal(key, nonce, aad, plain, sealed);
        CHECK(sealed == hex(v.ciphertext));
        CHECK(std::vector<std::byte>(tag.begin(), tag.end()) == hex(v.tag));
        std::vector<std::byte> opened(sealed.size());
        CHECK(open(key, nonce, aad, sealed, fixed<16>(v.tag), opened));
        CHECK(opened == plain);
    }
}

TEST_CASE("aead: a changed byte of the ciphertext, the data or the tag fails, and nothing is written")
{
    const auto& v = test::rfc8439::aead_vectors[0];
    const auto key = fixed<32>(v.key);
    const auto nonce = fixed<12>(v.nonce);
    auto aad = hex(v.aad);
    auto ciphertext = hex(v.ciphertext);
    auto tag = fixed<16>(v.tag);
    std::vector<std::byte> out(ciphertext.size(), std::byte{0xAA});
    const auto untouched = out;
    ciphertext[3] ^= std::byte{1};
    CHECK_FALSE(open(key, nonce, aad, ciphertext, tag, out));
    ciphertext[3] ^= std::byte{1};
    aad[0] ^= std::byte{0x80};
    CHECK_FALSE(open(key, nonce, aad, ciphertext, tag, out));
    aad[0] ^= std::byte{0x80};
    tag[15] ^= std::byte{1};
    CHECK_FALSE(open(key, nonce, aad, ciphertext, tag, out));
    CHECK(out == untouched);
    tag[15] ^= std::byte{1};
    CHECK(open(key, nonce, aad, ciphertext, tag, out));
}

TEST_CASE("siphash24: the reference vectors (key 00..0f, messages 00..n-1)")
{
    gossip::crypto::siphash_key key{};
    for (std::size_t i = 0; i < key.size(); ++i) {
        key[i] = static_cast<std::byte>(i);
    }
    std::array<std::byte, 64> message{};
    for (std::size_t i = 0; i < message.size(); ++i) {
        message[i] = static_cast<std::byte>(i);
    }
    const auto mac = [&](std::size_t n) { return gossip::crypto::siphash24(key, std::span(message).first(n)); };
    CHECK(mac(0) == 0x726fdb47dd0e0e31ULL);
    CHECK(mac(8) == 0x93f5f5799a932462ULL);
    CHECK(mac(15) == 0xa129ca6149be45e5ULL); // the example worked in the SipHash paper
}
