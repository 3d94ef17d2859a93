#pragma once

// The customisation point through which a type travels on the wire. Specialise
// gossip::wire::codec<T> for your own address or payload type:
//
//   template <> struct gossip::wire::codec<my_id> {
//       static constexpr std::size_t max_size = 8;                 // bytes, at most
//       static void write(writer& w, const my_id& v) { w.u64(v.value); }
//       static bool read(reader& r, my_id& v) { v.value = r.u64(); return r.ok(); }
//   };

#include "reader.hpp"
#include "writer.hpp"

#include <bit>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <variant>

namespace gossip::wire {

/// Primary template: deliberately undefined, so a type without a codec is named in the error.
template <class T>
struct codec;

// clang-format 14 mangles concepts and requires-clauses: kept as written.
// clang-format off
/// A type with a codec: written into a writer, read back from a reader, with a known bound on
/// its size so that message budgets can be computed ahead of time.
template <class T>
concept encodable = requires(writer& w, reader& r, const T& in, T& out) {
    { codec<T>::max_size } -> std::convertible_to<std::size_t>;
    codec<T>::write(w, in);
    { codec<T>::read(r, out) } -> std::same_as<bool>;
};
// clang-format on

/// Stores a 32-bit value little-endian at `at`, which has room for it.
[[gnu::always_inline]] inline void store_le32(std::byte* at, std::uint32_t v) noexcept
{
    if constexpr (std::endian::native == std::endian::little) {
        std::memcpy(at, &v, 4);
    } else {
        for (std::size_t i = 0; i < 4; ++i) {
            at[i] = static_cast<std::byte>((v >> (8U * i)) & 0xFFU);
        }
    }
}

/// Loads a little-endian 32-bit value from `at`.
[[nodiscard]] [[gnu::always_inline]] inline std::uint32_t load_le32(const std::byte* at) noexcept
{
    std::uint32_t v = 0;
    if constexpr (std::endian::native == std::endian::little) {
        std::memcpy(&v, at, 4);
    } else {
        for (std::size_t i = 0; i < 4; ++i) {
            v |= std::uint32_t{static_cast<std::uint8_t>(at[i])} << (8U * i);
        }
    }
    return v;
}

// clang-format off
/// A codec that can also read from raw bytes: `read_in_place(in, v)` gives the bytes read, or 0
/// where read() would fail (read() then says how). Optional: a parser that checks a whole record
/// for room at once (a membership entry) takes the value without the reader's checks per field.
template <class T>
concept in_place_codec = encodable<T> && requires(std::span<const std::byte> in, T& into) {
    { codec<T>::read_in_place(in, into) } -> std::same_as<std::size_t>;
};
// clang-format on

// clang-format off
/// A codec whose encoding always takes max_size bytes and that can also store and load in
/// place: `store(at, v)` and `load(at, v) -> bool` on max_size bytes, as write and read would.
/// Optional: a list of such values (a view's descriptors) is then checked once for room rather
/// than once per field.
template <class T>
concept fixed_size_codec = encodable<T> && requires(std::byte* out, const std::byte* in, const T& v, T& into) {
    requires codec<T>::fixed_size;
    codec<T>::store(out, v);
    { codec<T>::load(in, into) } -> std::same_as<bool>;
};
// clang-format on

// Codecs for common payload values.

template <>
struct codec<std::uint32_t> {
    static constexpr std::size_t max_size = 4;
    static void write(writer& w, std::uint32_t v) noexcept { w.u32(v); }
    static bool read(reader& r, std::uint32_t& v) noexcept
    {
        v = r.u32();
        return r.ok();
    }
};

template <>
struct codec<std::uint64_t> {
    static constexpr std::size_t max_size = 8;
    static void write(writer& w, std::uint64_t v) noexcept { w.u64(v); }
    static bool read(reader& r, std::uint64_t& v) noexcept
    {
        v = r.u64();
        return r.ok();
    }
};

/// A string travels as a u16 length and its bytes, so at most 65,535 bytes; a longer one fails
/// the writer (and the message is not sent) rather than being cut.
template <>
struct codec<std::string> {
    static constexpr std::size_t max_size = 2 + 0xFFFF;
    static void write(writer& w, const std::string& v) noexcept
    {
        if (v.size() > 0xFFFF) {
            w.fail();
            return;
        }
        w.u16(static_cast<std::uint16_t>(v.size()));
        w.bytes(std::as_bytes(std::span(v.data(), v.size())));
    }
    static bool read(reader& r, std::string& v)
    {
        const std::size_t n = r.u16();
        const auto bytes = r.bytes(n);
        if (!r.ok()) {
            return false;
        }
        v.assign(reinterpret_cast<const char*>(bytes.data()), bytes.size());
        return true;
    }
};

/// Nothing: for a value that is all in its presence (the members of a replicated set).
template <>
struct codec<std::monostate> {
    static constexpr std::size_t max_size = 0;
    static void write(writer& /*w*/, std::monostate /*v*/) noexcept {}
    static bool read(reader& r, std::monostate& /*v*/) noexcept { return r.ok(); }
};

} // namespace gossip::wire
