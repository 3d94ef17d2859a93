#pragma once

// What every transport decorator (transport::sealed, transport::compressed, transport::rate_limited) passes through to
// the transport it wraps unchanged: its address, and what the loops and the simulators need of
// it (fd, receive, flush, its clock). A decorator derives from this and adds send() and inbound().

#include "../transport/policy.hpp"

#include <chrono>
#include <cstddef>
#include <span>
#include <utility>

namespace gossip::detail {

template <class Inner>
class transport_decorator {
public:
    using address_type = typename Inner::address_type;
    using inner_type = Inner;

    [[nodiscard]] address_type local_address() const { return inner_.local_address(); }

    // clang-format off
    [[nodiscard]] int fd() const noexcept
        requires requires(const Inner& i) { i.fd(); }
    {
        return inner_.fd();
    }

    /// Datagrams go to the node as they are: the node hands them to the decorator's inbound().
    template <class Deliver>
    std::size_t receive(Deliver&& deliver)
        requires requires(Inner& i) { i.receive(std::declval<Deliver&>()); }
    {
        return inner_.receive(std::forward<Deliver>(deliver));
    }

    void flush()
        requires requires(Inner& i) { i.flush(); }
    {
        inner_.flush();
    }

    [[nodiscard]] std::chrono::nanoseconds now() const
        requires transport_with_clock<Inner>
    {
        return inner_.now();
    }
    // clang-format on

    [[nodiscard]] Inner& inner() noexcept { return inner_; }
    [[nodiscard]] const Inner& inner() const noexcept { return inner_; }

protected:
    explicit transport_decorator(Inner inner) : inner_(std::move(inner)) {}

    /// Inner's own inbound check first, when it has one (a rate limit is cheaper than a tag),
    /// then own(the bytes Inner handed on), which returns whether it passed them on too.
    template <class Own>
    bool inbound_after_inner(const address_type& from, std::span<const std::byte> bytes, Own&& own)
    {
        if constexpr (transport_with_inbound<Inner>) {
            bool passed = false;
            const bool inner_passed =
                inner_.inbound(from, bytes, [&](std::span<const std::byte> inside) { passed = own(inside); });
            return inner_passed && passed;
        } else {
            return own(bytes);
        }
    }

    /// The inner transport's clock when it keeps one (simulated time), steady_clock otherwise.
    [[nodiscard]] std::chrono::nanoseconds inner_clock() const
    {
        if constexpr (transport_with_clock<Inner>) {
            return inner_.now();
        } else {
            return std::chrono::duration_cast<std::chrono::nanoseconds>(
                std::chrono::steady_clock::now().time_since_epoch());
        }
    }

    Inner inner_;
};

/// Whether T, or any transport it decorates, compresses what it sends.
template <class T>
[[nodiscard]] consteval bool compresses_below()
{
    if constexpr (requires { T::compresses_datagrams; }) {
        return true;
    } else if constexpr (requires { typename T::inner_type; }) {
        return compresses_below<typename T::inner_type>();
    } else {
        return false;
    }
}

} // namespace gossip::detail
