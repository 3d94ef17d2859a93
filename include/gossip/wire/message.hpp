#pragma once

// The one datagram format every exchange uses (version 1, little-endian):
//
//   u16 magic 0x5347 ("GS") | u8 version | u8 kind | u16 body length (bytes after this field)
//   (kind: 1 request, 2 reply, 3 follow-up, 4 direct; neither a follow-up nor a direct message
//   ever carries a view)
//   sender address (its codec) | u8 flags (bit 0: a view follows; bit 1: an echoed cookie
//   follows; bit 2: an issued cookie follows)
//   [u64 echoed cookie]                               only when flags bit 1 is set
//   [u64 issued cookie]                               only when flags bit 2 is set
//   [u16 count | count x (address, u32 age)]          only when flags bit 0 is set
//   u16 payload length | payload bytes
//
// Decoding trusts nothing: every field is bounds-checked, the body length must match the datagram
// exactly, counts are capped by the receiver's own limits, and the first failure names its reason.

#include "../descriptor.hpp"
#include "codec.hpp"
#include "reader.hpp"
#include "writer.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

namespace gossip::wire {

inline constexpr std::uint16_t magic = 0x5347;
inline constexpr std::uint8_t protocol_version = 1;

/// What a datagram is in an exchange, its byte in the header.
enum class message_kind : std::uint8_t {
    request = 1, ///< sent by the active side
    reply = 2,   ///< sent back by the passive side
    /// A further step of the payloads' conversation after a reply (an anti-entropy comparison
    /// walking down a hash tree, say): payload only, answered only if the payload asks to.
    follow_up = 3,
    /// A payload's own message, outside the exchanges: a SWIM ping, ack or ping-req, sent to a
    /// member the payload chose (see gossip::outbox). Payload only; handed to the payload's
    /// receive() and never answered by the node itself.
    direct = 4,
};

/// Why a datagram was refused; none means it decoded.
enum class decode_error : std::uint8_t {
    none,
    truncated,            ///< ended before a field it announced
    bad_magic,            ///< not ours
    bad_version,          ///< a protocol version this build does not speak
    bad_kind,             ///< not one of the message kinds
    bad_length,           ///< body length disagrees with the datagram's size
    bad_flags,            ///< reserved flag bits set
    bad_address,          ///< an address its codec refused
    too_many_descriptors, ///< more than the receiver accepts in one sample
};

[[nodiscard]] constexpr const char* to_string(decode_error e) noexcept
{
    switch (e) {
    case decode_error::none: return "none";
    case decode_error::truncated: return "truncated";
    case decode_error::bad_magic: return "bad magic";
    case decode_error::bad_version: return "bad version";
    case decode_error::bad_kind: return "bad kind";
    case decode_error::bad_length: return "bad length";
    case decode_error::bad_flags: return "bad flags";
    case decode_error::bad_address: return "bad address";
    case decode_error::too_many_descriptors: return "too many descriptors";
    }
    return "unknown";
}

inline constexpr std::uint8_t flag_has_view = 0x01;
/// The receiver's cookie for the sender's address, echoed back to it: the proof that the sender
/// receives at its address (see gossip::max_amplification). Never on a direct message.
inline constexpr std::uint8_t flag_echoes_cookie = 0x02;
/// The sender's cookie for the receiver's address, for the receiver to echo. Never on a direct
/// message.
inline constexpr std::uint8_t flag_issues_cookie = 0x04;

/// The address cookies a message carries (see gossip::max_amplification).
struct cookies {
    std::optional<std::uint64_t> echoed;
    std::optional<std::uint64_t> issued;
};

/// Bytes taken by everything but the view entries and payload bytes (and cookies, 8 bytes each).
template <encodable Address>
inline constexpr std::size_t fixed_overhead = 2 + 1 + 1 + 2 + codec<Address>::max_size + 1 + 2 + 2;

/// Bytes one view entry takes at most.
template <encodable Address>
inline constexpr std::size_t descriptor_size = codec<Address>::max_size + 4;

/// How many descriptors fit a datagram of `budget` bytes with no payload.
template <encodable Address>
[[nodiscard]] constexpr std::size_t descriptors_that_fit(std::size_t budget) noexcept
{
    return budget > fixed_overhead<Address> ? (budget - fixed_overhead<Address>) / descriptor_size<Address> : 0;
}

/// Writes a whole message. write_payload(writer&) appends the payload section's bytes.
/// Returns false (and the writer is failed) when it did not fit.
template <encodable Address, class PayloadWriter>
bool encode(writer& out, message_kind kind, const Address& sender, const std::span<const descriptor<Address>>* view,
            PayloadWriter&& write_payload, const cookies& carried = {})
{
    // Work on a local copy: bytes written through std::byte may alias anything, so the fields
    // of a writer reached by reference would be reloaded after every store.
    writer w = out;
    w.u16(magic);
    w.u8(protocol_version);
    w.u8(static_cast<std::uint8_t>(kind));
    const std::size_t length_at = w.size();
    w.u16(0);
    codec<Address>::write(w, sender);
    w.u8(static_cast<std::uint8_t>((view != nullptr ? flag_has_view : 0) | (carried.echoed ? flag_echoes_cookie : 0) |
                                   (carried.issued ? flag_issues_cookie : 0)));
    if (carried.echoed) {
        w.u64(*carried.echoed);
    }
    if (carried.issued) {
        w.u64(*carried.issued);
    }
    if (view != nullptr) {
        w.u16(static_cast<std::uint16_t>(view->size()));
        bool written = false;
        if constexpr (fixed_size_codec<Address>) {
            // One check for the whole list; the same bytes as the loop below.
            constexpr std::size_t each = codec<Address>::max_size + 4;
            const auto room = w.unused();
            if (room.size() >= view->size() * each) {
                std::byte* at = room.data();
                for (const auto& d : *view) {
                    codec<Address>::store(at, d.address);
                    store_le32(at + codec<Address>::max_size, d.age);
                    at += each;
                }
                w.advance(view->size() * each);
                written = true;
            }
        }
        if (!written) {
            for (const auto& d : *view) {
                codec<Address>::write(w, d.address);
                w.u32(d.age);
            }
        }
    }
    const std::size_t payload_at = w.size();
    w.u16(0);
    write_payload(w);
    const bool fits = w.ok() && w.size() - length_at - 2 <= 0xFFFF;
    if (fits) {
        w.patch_u16(payload_at, static_cast<std::uint16_t>(w.size() - payload_at - 2));
        w.patch_u16(length_at, static_cast<std::uint16_t>(w.size() - length_at - 2));
    }
    out = w;
    return fits;
}

/// A decoded message. The view entries land in the caller's vector; the payload is a view into
/// the datagram, valid as long as it is.
template <class Address>
struct decoded {
    decode_error error = decode_error::none;
    message_kind kind = message_kind::request;
    Address sender{};
    bool has_view = false;
    cookies carried;
    std::span<const std::byte> payload;
};

template <encodable Address>
[[nodiscard]] decoded<Address> decode(std::span<const std::byte> datagram, std::size_t max_descriptors,
                                      std::vector<descriptor<Address>>& view_out)
{
    decoded<Address> out;
    view_out.clear();
    reader r(datagram);
    // Every path returns `out` itself, so that it is built in the caller's place (a copy of it
    // made on return loaded, 16 bytes at a time, members just stored one by one, and waited for
    // those stores to be written out).
    const auto fail = [&](decode_error e) {
        out.error = e;
        view_out.clear();
    };
    const auto m = r.u16();
    const auto version = r.u8();
    const auto kind = r.u8();
    const auto length = r.u16();
    if (!r.ok()) {
        fail(decode_error::truncated);
        return out;
    }
    if (m != magic) {
        fail(decode_error::bad_magic);
        return out;
    }
    if (version != protocol_version) {
        fail(decode_error::bad_version);
        return out;
    }
    if (kind < static_cast<std::uint8_t>(message_kind::request) ||
        kind > static_cast<std::uint8_t>(message_kind::direct)) {
        fail(decode_error::bad_kind);
        return out;
    }
    if (length != r.remaining()) {
        fail(decode_error::bad_length);
        return out;
    }
    out.kind = static_cast<message_kind>(kind);
    if (!codec<Address>::read(r, out.sender)) {
        fail(r.ok() ? decode_error::bad_address : decode_error::truncated);
        return out;
    }
    const auto flags = r.u8();
    if (!r.ok()) {
        fail(decode_error::truncated);
        return out;
    }
    out.has_view = (flags & flag_has_view) != 0;
    constexpr std::uint8_t cookie_flags = flag_echoes_cookie | flag_issues_cookie;
    if ((flags & ~(flag_has_view | cookie_flags)) != 0 ||
        (out.has_view && (out.kind == message_kind::follow_up || out.kind == message_kind::direct)) ||
        ((flags & cookie_flags) != 0 && out.kind == message_kind::direct)) {
        fail(decode_error::bad_flags);
        return out;
    }
    if ((flags & flag_echoes_cookie) != 0) {
        out.carried.echoed = r.u64();
    }
    if ((flags & flag_issues_cookie) != 0) {
        out.carried.issued = r.u64();
    }
    if (!r.ok()) {
        fail(decode_error::truncated);
        return out;
    }
    if (out.has_view) {
        const std::size_t count = r.u16();
        if (!r.ok()) {
            fail(decode_error::truncated);
            return out;
        }
        if (count > max_descriptors) {
            fail(decode_error::too_many_descriptors);
            return out;
        }
        // A lying count cannot make us reserve more than the datagram could hold.
        if (count * 5 > r.remaining()) {
            fail(decode_error::truncated);
            return out;
        }
        view_out.resize(count);
        bool read_all = false;
        if constexpr (fixed_size_codec<Address>) {
            // One check for the whole list when it is all there; a short one goes field by
            // field below, so that the error reported is the same either way.
            constexpr std::size_t each = codec<Address>::max_size + 4;
            if (r.remaining() >= count * each) {
                read_all = true;
                const std::byte* at = r.bytes(count * each).data();
                for (auto& d : view_out) {
                    if (!codec<Address>::load(at, d.address)) {
                        fail(decode_error::bad_address);
                        return out;
                    }
                    d.age = load_le32(at + codec<Address>::max_size);
                    at += each;
                }
            }
        }
        if (!read_all) {
            for (auto& d : view_out) {
                if (!codec<Address>::read(r, d.address)) {
                    fail(r.ok() ? decode_error::bad_address : decode_error::truncated);
                    return out;
                }
                d.age = r.u32();
            }
        }
        if (!r.ok()) {
            fail(decode_error::truncated);
            return out;
        }
    }
    const std::size_t payload_length = r.u16();
    out.payload = r.bytes(payload_length);
    if (!r.ok()) {
        fail(decode_error::truncated);
        return out;
    }
    if (r.remaining() != 0) {
        fail(decode_error::bad_length);
        return out;
    }
    return out;
}

} // namespace gossip::wire
