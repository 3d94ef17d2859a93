#pragma once

// A small LZ77 codec for datagrams (transport::compressed). Gossip datagrams repeat themselves:
// addresses share their host part, ids and counters their high bytes, keys their prefixes. A
// greedy matcher over one datagram finds those repeats without any state kept between datagrams,
// so that a lost datagram never stops the next from decoding.
//
// Encoded form: a sequence of
//   varint literal count L | L literal bytes | [varint (match length - 4) | varint (distance - 1)]
// where the match part is absent once the output is complete. The decoded size is known to the
// caller (transport::compressed puts it in its header), and the decoder is written to be fed
// anything: it never writes past `expected` bytes, never reads past its input, never copies from
// before the start of its output, and refuses trailing input. Its time is linear in input plus
// output, and the output is bounded by the caller before the first byte is decoded.

#include "../wire/reader.hpp"
#include "../wire/varint.hpp"
#include "../wire/writer.hpp"

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>
#include <vector>

namespace gossip::detail {

inline constexpr std::size_t lz_min_match = 4;

/// Why a decode failed; none when it produced exactly the expected bytes.
enum class lz_error : std::uint8_t { none, truncated, too_long, bad_distance, trailing };

/// Appends v to `out` as a varint (wire/varint.hpp), unless `out` would then pass `limit` bytes.
inline bool append_varint(std::vector<std::byte>& out, std::uint64_t v,
                          std::size_t limit = std::numeric_limits<std::size_t>::max())
{
    std::array<std::byte, wire::max_varint_bytes> bytes{};
    wire::writer w{std::span(bytes)};
    wire::write_varint(w, v);
    if (out.size() + w.size() > limit) {
        return false;
    }
    out.insert(out.end(), bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(w.size()));
    return true;
}

/// Hash-table state for the encoder: kept between calls only to save allocating it.
class lz_encoder {
public:
    /// Appends the encoding of `in` to `out`; returns false if it would exceed `limit` bytes in
    /// total (the caller then sends `in` as it is).
    bool encode(std::span<const std::byte> in, std::vector<std::byte>& out, std::size_t limit)
    {
        table_.fill(no_position);
        const std::size_t n = in.size();
        std::size_t literal_start = 0;
        std::size_t i = 0;
        while (n >= lz_min_match && i + lz_min_match <= n) {
            const std::uint32_t h = hash(in, i);
            const std::uint32_t candidate = table_[h];
            table_[h] = static_cast<std::uint32_t>(i);
            if (candidate == no_position || !same4(in, candidate, i)) {
                ++i;
                continue;
            }
            std::size_t length = lz_min_match;
            while (i + length < n && in[candidate + length] == in[i + length]) {
                ++length;
            }
            if (!put_literals(in.subspan(literal_start, i - literal_start), out, limit) ||
                !append_varint(out, length - lz_min_match, limit) || !append_varint(out, i - candidate - 1, limit)) {
                return false;
            }
            // Positions inside the match feed the table too: later repeats of them are found.
            const std::size_t end = i + length;
            for (std::size_t j = i + 1; j + lz_min_match <= n && j < end; ++j) {
                table_[hash(in, j)] = static_cast<std::uint32_t>(j);
            }
            i = end;
            literal_start = end;
        }
        if (literal_start < n || n == 0) {
            return put_literals(in.subspan(literal_start), out, limit);
        }
        return true;
    }

private:
    static constexpr std::size_t table_bits = 12;
    static constexpr std::uint32_t no_position = 0xFFFF'FFFFU;

    [[nodiscard]] static std::uint32_t load4(std::span<const std::byte> in, std::size_t i) noexcept
    {
        return std::uint32_t{std::to_integer<std::uint8_t>(in[i])} |
               (std::uint32_t{std::to_integer<std::uint8_t>(in[i + 1])} << 8U) |
               (std::uint32_t{std::to_integer<std::uint8_t>(in[i + 2])} << 16U) |
               (std::uint32_t{std::to_integer<std::uint8_t>(in[i + 3])} << 24U);
    }
    [[nodiscard]] static std::uint32_t hash(std::span<const std::byte> in, std::size_t i) noexcept
    {
        return (load4(in, i) * 2'654'435'761U) >> (32U - table_bits);
    }
    [[nodiscard]] static bool same4(std::span<const std::byte> in, std::size_t a, std::size_t b) noexcept
    {
        return load4(in, a) == load4(in, b);
    }
    static bool put_literals(std::span<const std::byte> literals, std::vector<std::byte>& out, std::size_t limit)
    {
        if (!append_varint(out, literals.size(), limit) || out.size() + literals.size() > limit) {
            return false;
        }
        out.insert(out.end(), literals.begin(), literals.end());
        return true;
    }

    std::array<std::uint32_t, std::size_t{1} << table_bits> table_{};
};

/// Decodes `in` into exactly `out.size()` bytes (the caller sized `out` to the expected size,
/// already checked against its bound).
[[nodiscard]] inline lz_error lz_decode(std::span<const std::byte> in, std::span<std::byte> out) noexcept
{
    wire::reader r(in);
    const std::size_t expected = out.size();
    std::size_t produced = 0;
    while (true) {
        const std::uint64_t literals = wire::read_varint(r);
        if (!r.ok()) {
            return lz_error::truncated;
        }
        if (literals > expected - produced) {
            return lz_error::too_long;
        }
        if (literals > r.remaining()) {
            return lz_error::truncated;
        }
        const auto bytes = r.bytes(static_cast<std::size_t>(literals));
        std::copy(bytes.begin(), bytes.end(), out.begin() + static_cast<std::ptrdiff_t>(produced));
        produced += bytes.size();
        if (produced == expected) {
            break;
        }
        const std::uint64_t extra = wire::read_varint(r);
        const std::uint64_t distance_less_one = wire::read_varint(r);
        if (!r.ok()) {
            return lz_error::truncated;
        }
        const std::size_t room = expected - produced;
        if (room < lz_min_match || extra > room - lz_min_match) {
            return lz_error::too_long;
        }
        if (distance_less_one >= produced) {
            return lz_error::bad_distance;
        }
        const std::size_t length = static_cast<std::size_t>(extra) + lz_min_match;
        const std::size_t from = produced - static_cast<std::size_t>(distance_less_one) - 1;
        // Byte by byte: a match may overlap what it is writing (a run).
        for (std::size_t k = 0; k < length; ++k) {
            out[produced + k] = out[from + k];
        }
        produced += length;
        if (produced == expected) {
            break;
        }
    }
    return r.remaining() == 0 ? lz_error::none : lz_error::trailing;
}

} // namespace gossip::detail
