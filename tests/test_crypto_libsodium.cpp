// The library's ChaCha20-Poly1305 against libsodium's (crypto_aead_chacha20poly1305_ietf_*),
// on random keys, nonces, data and lengths: the same ciphertext and tag, and each opens the
// other's. libsodium is a test-only dependency; the library itself has none.

#include <gossip/crypto/chacha20_poly1305.hpp>
#include <gossip/crypto/siphash.hpp>

#include <doctest/doctest.h>
#include <sodium.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <random>
#include <vector>

using namespace gossip::crypto;

namespace {

std::vector<std::byte> random_bytes(std::mt19937_64& rng, std::size_t n)
{
    std::vector<std::byte> out(n);
    for (auto& b : out) {
        b = static_cast<std::byte>(rng());
    }
    return out;
}

const auto* as_uchar(const std::vector<std::byte>& v) { return reinterpret_cast<const unsigned char*>(v.data()); }

} // namespace

TEST_CASE("aead: agrees with libsodium on 2,000 random messages of 0 to 1,500 bytes")
{
    REQUIRE(sodium_init() >= 0);
    std::mt19937_64 rng(20261205);
    std::uniform_int_distribution<std::size_t> length(0, 1500);
    std::uniform_int_distribution<std::size_t> aad_length(0, 64);
    for (int run = 0; run < 2000; ++run) {
        const auto key = random_bytes(rng, 32);
        const auto nonce = random_bytes(rng, 12);
        const auto aad = random_bytes(rng, aad_length(rng));
        const auto plain = random_bytes(rng, run < 64 ? static_cast<std::size_t>(run) : length(rng));

        std::vector<std::byte> ours(plain.size());
        const auto tag = seal(std::span<const std::byte, 32>(key.data(), 32),
                              std::span<const std::byte, 12>(nonce.data(), 12), aad, plain, ours);

        std::vector<std::byte> theirs(plain.size() + 16);
        unsigned long long theirs_length = 0;
        crypto_aead_chacha20poly1305_ietf_encrypt(reinterpret_cast<unsigned char*>(theirs.data()), &theirs_length,
                                                  as_uchar(plain), plain.size(), as_uchar(aad), aad.size(), nullptr,
                                                  as_uchar(nonce), as_uchar(key));
        REQUIRE(theirs_length == plain.size() + 16);
        CHECK(std::equal(ours.begin(), ours.end(), theirs.begin()));
        CHECK(std::equal(tag.begin(), tag.end(), theirs.begin() + static_cast<std::ptrdiff_t>(plain.size())));

        // Each opens what the other sealed.
        std::vector<std::byte> opened(plain.size());
        const auto their_tag = std::span<const std::byte, 16>(theirs.data() + plain.size(), 16);
        CHECK(open(std::span<const std::byte, 32>(key.data(), 32), std::span<const std::byte, 12>(nonce.data(), 12),
                   aad, std::span(theirs).first(plain.size()), their_tag, opened));
        CHECK(opened == plain);
        std::vector<std::byte> ours_whole = ours;
        ours_whole.insert(ours_whole.end(), tag.begin(), tag.end());
        std::vector<std::byte> decrypted(plain.size() + 1);
        unsigned long long decrypted_length = 0;
        CHECK(crypto_aead_chacha20poly1305_ietf_decrypt(reinterpret_cast<unsigned char*>(decrypted.data()),
                                                        &decrypted_length, nullptr, as_uchar(ours_whole),
                                                        ours_whole.size(), as_uchar(aad), aad.size(), as_uchar(nonce),
                                                        as_uchar(key)) == 0);
        CHECK(decrypted_length == plain.size());
    }
}

TEST_CASE("siphash24: agrees with libsodium's crypto_shorthash on 2,000 random inputs of 0 to 100 bytes")
{
    REQUIRE(sodium_init() >= 0);
    std::mt19937_64 rng(24);
    for (int i = 0; i < 2000; ++i) {
        const auto key_bytes = random_bytes(rng, gossip::crypto::siphash_key_bytes);
        gossip::crypto::siphash_key key{};
        std::copy(key_bytes.begin(), key_bytes.end(), key.begin());
        const auto message = random_bytes(rng, static_cast<std::size_t>(rng() % 101));
        std::array<unsigned char, crypto_shorthash_BYTES> theirs{};
        crypto_shorthash(theirs.data(), as_uchar(message), message.size(), as_uchar(key_bytes));
        const std::uint64_t ours = gossip::crypto::siphash24(key, message);
        std::uint64_t expected = 0;
        for (std::size_t b = 0; b < 8; ++b) {
            expected |= std::uint64_t{theirs[b]} << (8 * b);
        }
        CHECK(ours == expected);
    }
}
