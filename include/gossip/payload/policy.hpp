#pragma once

#include "../wire/message.hpp"
#include "../wire/reader.hpp"
#include "../wire/writer.hpp"

#include <concepts>

namespace gossip {

/// Payload: the application state that rides on every exchange.
///
/// Requires
/// - `p.write(w, kind)`: appends this node's payload section for an outgoing message of `kind`;
///   it must fit w.remaining() (the writer fails, and the message is not sent, when it does not);
/// - `p.read(r, kind) -> bool`: applies a received section; false means it was malformed, and the
///   node counts the datagram as dropped. The reader spans exactly the section.
template <class P>
concept payload_policy = std::movable<P> && requires(P& p, wire::writer& w, wire::reader& r, wire::message_kind kind) {
    p.write(w, kind);
    { p.read(r, kind) } -> std::same_as<bool>;
};

} // namespace gossip
