#pragma once

// Variable-length integers for fields that are usually small: LEB128 (seven bits a byte, low
// groups first, the high bit set on every byte but the last), zigzag for signed differences, and
// a variant whose first byte also carries one flag bit.
//
// A reader refuses a varint that runs past the end, that is longer than a 64-bit value needs, or
// whose last byte carries bits above 64. Longer-than-needed encodings of a value (0x80 0x00 for
// 0) are accepted: they decode to the one value, and refusing them would buy nothing.

#include "reader.hpp"
#include "writer.hpp"

#include <cstddef>
#include <cstdint>

namespace gossip::wire {

/// The most bytes a varint of a 64-bit value takes.
inline constexpr std::size_t max_varint_bytes = 10;

/// Maps signed differences to unsigned values small in magnitude: 0, -1, 1, -2 ... to 0, 1, 2, 3.
/// The difference of two unsigned values is taken modulo 2^64 and read as signed, so that any
/// two values round-trip exactly, however far apart.
[[nodiscard]] constexpr std::uint64_t zigzag(std::uint64_t difference) noexcept
{
    return (difference << 1U) ^ (std::uint64_t{0} - (difference >> 63U));
}

/// The inverse of zigzag().
[[nodiscard]] constexpr std::uint64_t unzigzag(std::uint64_t v) noexcept
{
    return (v >> 1U) ^ (std::uint64_t{0} - (v & 1U));
}

/// Appends v in LEB128: one byte below 128, at most max_varint_bytes.
inline void write_varint(writer& w, std::uint64_t v) noexcept
{
    while (v >= 0x80U) {
        w.u8(static_cast<std::uint8_t>(v | 0x80U));
        v >>= 7U;
    }
    w.u8(static_cast<std::uint8_t>(v));
}

/// read_varint() for any length, as a loop; read_varint() takes one byte itself and calls it for
/// longer values only, so that callers do not inline the loop.
[[nodiscard]] inline std::uint64_t read_varint_loop(reader& r) noexcept
{
    std::uint64_t v = 0;
    for (unsigned shift = 0; shift < 64; shift += 7) {
        const std::uint8_t byte = r.u8();
        if (!r.ok()) {
            return 0;
        }
        const std::uint64_t group = byte & 0x7FU;
        // The tenth byte holds the 64th bit alone.
        if (shift == 63 && group > 1) {
            break;
        }
        v |= group << shift;
        if ((byte & 0x80U) == 0) {
            return v;
        }
    }
    r.fail();
    return 0;
}

/// Reads a LEB128 value; on a malformed one, yields 0 and fails the reader. Forced inline for
/// its one-byte case, the usual one (a small count, a difference of zero), which costs a
/// compare and a load; longer ones take the loop.
[[nodiscard]] [[gnu::always_inline]] inline std::uint64_t read_varint(reader& r) noexcept
{
    std::uint8_t byte = 0;
    if (r.next_below(0x80U, byte)) {
        return byte;
    }
    return read_varint_loop(r);
}

/// Appends v with one flag bit: the first byte holds the flag and v's low six bits, the rest of v
/// follows in LEB128 (so 0-63 take one byte, and a 64-bit value with its flag at most 10).
inline void write_varint_flagged(writer& w, std::uint64_t v, bool flag) noexcept
{
    const auto low = static_cast<std::uint8_t>(((v & 0x3FU) << 1U) | (flag ? 1U : 0U));
    const std::uint64_t high = v >> 6U;
    if (high == 0) {
        w.u8(low);
        return;
    }
    w.u8(static_cast<std::uint8_t>(low | 0x80U));
    write_varint(w, high);
}

/// The value and flag of a flagged varint whose first byte `b` is its last (b < 0x80): the
/// flag in the low bit, the value above it.
[[nodiscard]] constexpr std::uint64_t one_byte_flagged(std::uint8_t b, bool& flag) noexcept
{
    flag = (b & 1U) != 0;
    return b >> 1U;
}

/// read_varint_flagged() for any length; see read_varint_loop().
[[nodiscard]] inline std::uint64_t read_varint_flagged_loop(reader& r, bool& flag) noexcept
{
    const std::uint8_t first = r.u8();
    flag = (first & 1U) != 0;
    std::uint64_t v = (first >> 1U) & 0x3FU;
    if ((first & 0x80U) != 0) {
        const std::uint64_t high = read_varint(r);
        // Only 58 bits are left above the first byte's six.
        if (high >> 58U != 0) {
            r.fail();
        }
        v |= high << 6U;
    }
    if (!r.ok()) {
        flag = false;
        return 0;
    }
    return v;
}

/// Reads what write_varint_flagged() wrote; on a malformed value, yields 0 and fails the reader.
/// Forced inline for its one-byte case, as read_varint().
[[nodiscard]] [[gnu::always_inline]] inline std::uint64_t read_varint_flagged(reader& r, bool& flag) noexcept
{
    std::uint8_t first = 0;
    if (r.next_below(0x80U, first)) {
        return one_byte_flagged(first, flag);
    }
    return read_varint_flagged_loop(r, flag);
}

} // namespace gossip::wire
