#pragma once

#include "../wire/message.hpp"
#include "../wire/reader.hpp"
#include "../wire/writer.hpp"

namespace gossip::payload {

/// No application state: pure peer sampling. Refuses a non-empty section, which no honest
/// peer running the same composition would send.
struct none {
    void write(wire::writer& /*w*/, wire::message_kind /*kind*/) const noexcept {}
    [[nodiscard]] bool read(wire::reader& r, wire::message_kind /*kind*/) const noexcept { return r.remaining() == 0; }
};

} // namespace gossip::payload
