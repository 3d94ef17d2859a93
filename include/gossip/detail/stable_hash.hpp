#pragma once

// A 64-bit hash of bytes that every build computes alike (unlike std::hash), because replicas
// compare the values: a key's place in the Merkle tree and a value's digest depend on it.
// Not cryptographic; see payload::merkle_item_hash for what that means for anti-entropy.

#include "../payload/merkle_tree.hpp"
#include "../wire/codec.hpp"
#include "../wire/writer.hpp"
#include "scratch.hpp"

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>

namespace gossip::detail {

[[nodiscard]] inline std::uint64_t stable_hash(std::span<const std::byte> bytes, std::uint64_t seed = 0) noexcept
{
    std::uint64_t h = merkle_mix(seed ^ (0x2545f4914f6cdd1dULL + bytes.size()));
    std::size_t i = 0;
    for (; i + 8 <= bytes.size(); i += 8) {
        std::uint64_t word = 0;
        for (std::size_t b = 0; b < 8; ++b) {
            word |= std::uint64_t{static_cast<std::uint8_t>(bytes[i + b])} << (8U * b);
        }
        h = merkle_mix(h ^ word) + 0x9e3779b97f4a7c15ULL;
    }
    std::uint64_t tail = 0;
    for (std::size_t b = 0; i + b < bytes.size(); ++b) {
        tail |= std::uint64_t{static_cast<std::uint8_t>(bytes[i + b])} << (8U * b);
    }
    return merkle_mix(h ^ tail);
}

// clang-format 14 mangles concepts and requires-clauses: kept as written.
// clang-format off
/// The stable hash of a value's wire encoding. A value too large for its codec hashes as the
/// empty input, which cannot happen for a value that also travels.
template <class T>
    requires wire::encodable<T>
// clang-format on
[[nodiscard]] std::uint64_t stable_hash_of(const T& value, std::uint64_t seed = 0)
{
    struct encoding_tag {};
    scratch_vector<std::byte, encoding_tag> lease;
    auto& buffer = lease.get();
    buffer.resize(wire::codec<T>::max_size);
    wire::writer w{std::span(buffer)};
    wire::codec<T>::write(w, value);
    return stable_hash(w.ok() ? w.written() : std::span<const std::byte>{}, seed);
}

} // namespace gossip::detail
