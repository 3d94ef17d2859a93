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

#include <concepts>
#include <cstddef>

namespace gossip::wire {

/// Primary template: deliberately undefined, so a type without a codec is named in the error.
template <class T>
struct codec;

/// A type with a codec: written into a writer, read back from a reader, with a known bound on
/// its size so that message budgets can be computed ahead of time.
template <class T>
concept encodable = requires(writer& w, reader& r, const T& in, T& out) {
    { codec<T>::max_size } -> std::convertible_to<std::size_t>;
    codec<T>::write(w, in);
    { codec<T>::read(r, out) } -> std::same_as<bool>;
};

} // namespace gossip::wire
