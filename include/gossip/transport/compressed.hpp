#pragma once

// transport::compressed<Inner>: datagrams compressed on the way out with a small LZ77 codec
// (detail/lz_codec.hpp) and expanded on the way in, with a hard bound on what any datagram may
// expand to. A datagram that would not shrink goes as it is, so compression never costs more
// than the CPU time of trying.
//
// A compressed datagram: u8 0xC3 (format) | varint decoded size | LZ77 sequences.
// Anything else is handed on unchanged; a datagram of the node's own that happens to start
// with 0xC3 is always framed, so the two never mix up.
//
// Bomb-proof: the decoded size is read and checked against `max_decompressed_bytes` before a
// byte is decoded, the decoder never writes past it, and a datagram that decodes to any other
// size, or leaves input over, is refused and counted. A stranger can therefore make a member
// spend at most max_decompressed_bytes of memory and time per datagram, and nothing is kept
// between datagrams.
//
// With sealing, compress first: compressed<sealed<udp>>. Ciphertext does not compress, and the
// decoder then only ever sees authenticated bytes. The type sealed<compressed<T>> is refused at
// compile time for that reason. Compressing before sealing lets an eavesdropper learn how much a
// datagram repeats itself from its length; where one datagram can carry both a secret and bytes
// an attacker chooses, and the attacker can watch lengths, leave compression off.

#include "../detail/lz_codec.hpp"
#include "../detail/scratch.hpp"
#include "../detail/transport_decorator.hpp"
#include "../wire/reader.hpp"
#include "../wire/varint.hpp"
#include "policy.hpp"

#include <cstddef>
#include <cstdint>
#include <span>
#include <stdexcept>
#include <utility>
#include <vector>

namespace gossip::transport {

/// When to compress, and the most a datagram may expand to.
struct compression_options {
    /// false: send datagrams as they are (but for one that starts with the format byte, which
    /// is always framed), and still expand the frames that arrive. Members
    /// that run compressed<> read both forms, so a cluster turns compression on member by member
    /// with no downtime: first all of them run it with this off, then each turns it on.
    bool send_compressed = true;
    /// Datagrams smaller than this go as they are: a SWIM ping has little to repeat.
    std::size_t min_bytes = 64;
    /// The most bytes a received datagram may decode to; larger claims are refused unread. Set
    /// it to the cluster's config::max_message_bytes to bound a stranger's datagram by what a
    /// member could have sent.
    std::size_t max_decompressed_bytes = 65'507;
};

/// What was compressed, what was sent as it was, and what was refused.
struct compression_statistics {
    std::uint64_t compressed_sent = 0;
    std::uint64_t raw_sent = 0;          ///< too small, or would not have shrunk
    std::uint64_t bytes_offered = 0;     ///< bytes handed to send(), before compression
    std::uint64_t bytes_sent = 0;        ///< bytes passed on, after compression
    std::uint64_t expanded = 0;          ///< compressed datagrams received and decoded
    std::uint64_t raw_received = 0;      ///< received datagrams handed on as they were
    std::uint64_t refused_malformed = 0; ///< a frame that did not decode to its stated size
    std::uint64_t refused_too_large = 0; ///< a stated size above max_decompressed_bytes

    [[nodiscard]] std::uint64_t refused() const noexcept { return refused_malformed + refused_too_large; }
    /// Bytes sent over bytes offered: below 1 when compression pays.
    [[nodiscard]] double ratio() const noexcept
    {
        return bytes_offered == 0 ? 1.0 : static_cast<double>(bytes_sent) / static_cast<double>(bytes_offered);
    }
};

// clang-format 14 mangles concepts and requires-clauses: kept as written.
// clang-format off
/// Inner, with datagrams compressed when that makes them smaller and expanded, within a bound,
/// on the way in.
template <class Inner>
    requires transport_policy<Inner>
// clang-format on
class compressed : public gossip::detail::transport_decorator<Inner> {
    using base = gossip::detail::transport_decorator<Inner>;
    using base::inner_;

    // Tags of the scratch buffers this decorator leases (detail::scratch_vector).
    struct buffer_tag {};
    struct plain_tag {};

public:
    using address_type = typename Inner::address_type;
    /// Read by transport::sealed, which refuses to seal what is compressed after sealing.
    static constexpr bool compresses_datagrams = true;
    static constexpr std::uint8_t format = 0xC3;

    explicit compressed(Inner inner, const compression_options& options = {})
        : base(std::move(inner)), options_(checked(options))
    {
    }

    bool send(const address_type& to, std::span<const std::byte> bytes)
    {
        stats_.bytes_offered += bytes.size();
        const bool must_frame = !bytes.empty() && std::to_integer<std::uint8_t>(bytes[0]) == format;
        if ((!options_.send_compressed || bytes.size() < options_.min_bytes) && !must_frame) {
            return send_raw(to, bytes);
        }
        // Scratch that nests: a transport that delivers at once may have this member answer
        // from inside the send below, and that send compresses into a buffer of its own.
        gossip::detail::scratch_vector<std::byte, buffer_tag> lease;
        std::vector<std::byte>& out = lease.get();
        out.clear();
        out.push_back(std::byte{format});
        (void)gossip::detail::append_varint(out, bytes.size()); // no limit: cannot fail
        // Worth it only if smaller; a datagram that must be framed may grow by its header.
        const std::size_t limit =
            must_frame ? out.size() + 2 * wire::max_varint_bytes + bytes.size() : bytes.size() - 1;
        if (!encoder_.encode(bytes, out, limit)) {
            if (!must_frame) {
                return send_raw(to, bytes);
            }
            // Cannot happen (all literals fit the limit), but never send a frame half written.
            return false;
        }
        ++stats_.compressed_sent;
        stats_.bytes_sent += out.size();
        return inner_.send(to, out);
    }

    /// Expands what arrived (after Inner's own check, if it has one): f(original bytes) and
    /// true, or false, counted, for a frame that does not decode within the bound.
    template <class F>
    bool inbound(const address_type& from, std::span<const std::byte> bytes, F&& f)
    {
        return this->inbound_after_inner(from, bytes,
                                         [&](std::span<const std::byte> inside) { return expand_and_hand(inside, f); });
    }

    [[nodiscard]] const compression_statistics& statistics() const noexcept { return stats_; }
    [[nodiscard]] const compression_options& options() const noexcept { return options_; }
    /// Turns sending compressed on or off on a running member (see send_compressed).
    void set_send_compressed(bool on) noexcept { options_.send_compressed = on; }

private:
    static const compression_options& checked(const compression_options& o)
    {
        if (o.max_decompressed_bytes == 0 || o.max_decompressed_bytes > 65'507) {
            throw std::invalid_argument("gossip::transport::compressed: max_decompressed_bytes must be within "
                                        "[1, 65507], the most a UDP datagram holds");
        }
        return o;
    }

    bool send_raw(const address_type& to, std::span<const std::byte> bytes)
    {
        ++stats_.raw_sent;
        stats_.bytes_sent += bytes.size();
        return inner_.send(to, bytes);
    }

    template <class F>
    bool expand_and_hand(std::span<const std::byte> bytes, F& f)
    {
        if (bytes.empty() || std::to_integer<std::uint8_t>(bytes[0]) != format) {
            ++stats_.raw_received;
            f(bytes);
            return true;
        }
        wire::reader r(bytes.subspan(1));
        const std::uint64_t size = wire::read_varint(r);
        if (!r.ok() || size == 0) {
            ++stats_.refused_malformed;
            return false;
        }
        if (size > options_.max_decompressed_bytes) {
            ++stats_.refused_too_large;
            return false;
        }
        // Leased while the node handles it; a datagram opened meanwhile expands into its own.
        gossip::detail::scratch_vector<std::byte, plain_tag> lease;
        std::vector<std::byte>& out = lease.get();
        out.resize(static_cast<std::size_t>(size));
        if (gossip::detail::lz_decode(r.rest(), std::span(out)) != gossip::detail::lz_error::none) {
            ++stats_.refused_malformed;
            return false;
        }
        ++stats_.expanded;
        f(std::span<const std::byte>(out));
        return true;
    }

    compression_options options_;
    gossip::detail::lz_encoder encoder_;
    compression_statistics stats_;
};

} // namespace gossip::transport
