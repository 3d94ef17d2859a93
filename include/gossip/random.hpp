#pragma once

// Random sources. Simulations must replay bit for bit from a seed on every standard library,
// so nothing here goes through std::uniform_int_distribution or std::shuffle, whose outputs
// are implementation-defined.

#include <bit>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <random>
#include <span>
#include <utility>

namespace gossip {

// clang-format 14 mangles concepts and requires-clauses: kept as written.
// clang-format off
/// A source of uniformly distributed 32-bit words: what every randomised policy draws from.
/// std::mt19937 models it; so does gossip::pcg32, whose 8 bytes of state suit a node that is
/// one of a million.
template <class R>
concept random_source = std::uniform_random_bit_generator<R> && (R::min() == 0) &&
                        (R::max() == std::numeric_limits<std::uint32_t>::max());
// clang-format on

/// SplitMix64 finaliser: turns (seed, stream) pairs into well-spread, independent seeds.
[[nodiscard]] constexpr std::uint64_t mix_seed(std::uint64_t seed, std::uint64_t stream = 0) noexcept
{
    std::uint64_t z = seed + 0x9e3779b97f4a7c15ULL * (stream + 1);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/// PCG-XSH-RR 64/32 (O'Neill, 2014) on one fixed stream: 8 bytes of state, statistically strong,
/// and fast enough to draw inside the inner loops of view selection.
class pcg32 {
public:
    using result_type = std::uint32_t;

    constexpr pcg32() noexcept : pcg32(0) {}
    constexpr explicit pcg32(std::uint64_t seed) noexcept
    {
        step();
        state_ += seed;
        step();
    }

    static constexpr result_type min() noexcept { return 0; }
    static constexpr result_type max() noexcept { return std::numeric_limits<result_type>::max(); }

    constexpr result_type operator()() noexcept
    {
        const std::uint64_t old = state_;
        step();
        const auto xorshifted = static_cast<std::uint32_t>(((old >> 18U) ^ old) >> 27U);
        const auto rotation = static_cast<int>(old >> 59U);
        return std::rotr(xorshifted, rotation);
    }

    friend constexpr bool operator==(const pcg32&, const pcg32&) noexcept = default;

private:
    constexpr void step() noexcept { state_ = state_ * 6364136223846793005ULL + 1442695040888963407ULL; }

    std::uint64_t state_ = 0;
};

namespace detail {

// The rare rejection path of uniform_below, kept out of line so the common path inlines.
template <random_source R>
[[gnu::noinline]] constexpr std::uint32_t uniform_below_slow(R& rng, std::uint32_t bound,
                                                             std::uint64_t product) noexcept
{
    const std::uint32_t threshold = static_cast<std::uint32_t>(-bound) % bound;
    while (static_cast<std::uint32_t>(product) < threshold) {
        product = std::uint64_t{static_cast<std::uint32_t>(rng())} * bound;
    }
    return static_cast<std::uint32_t>(product >> 32U);
}

} // namespace detail

/// A uniform integer in [0, bound), bound > 0, by Lemire's multiply-and-reject method: unbiased,
/// and the same sequence on every platform. Always inlined: a dozen instructions, drawn dozens of
/// times per exchange, where a call costs a third as much again.
template <random_source R>
[[nodiscard, gnu::always_inline]] constexpr std::uint32_t uniform_below(R& rng, std::uint32_t bound) noexcept
{
    const std::uint64_t product = std::uint64_t{static_cast<std::uint32_t>(rng())} * bound;
    if (static_cast<std::uint32_t>(product) < bound) [[unlikely]] {
        return detail::uniform_below_slow(rng, bound, product);
    }
    return static_cast<std::uint32_t>(product >> 32U);
}

/// A uniform index in [0, size), size > 0.
template <random_source R>
[[nodiscard]] constexpr std::size_t uniform_index(R& rng, std::size_t size) noexcept
{
    return uniform_below(rng, static_cast<std::uint32_t>(size));
}

/// A Bernoulli trial with success probability p, precomputed as a 32-bit threshold so that
/// hot paths (per-message loss) cost one draw and one compare.
class chance {
public:
    constexpr chance() noexcept = default;
    constexpr explicit chance(double probability) noexcept
        : threshold_(probability <= 0.0   ? 0
                     : probability >= 1.0 ? std::uint64_t{1} << 32U
                                          : static_cast<std::uint64_t>(probability * 4294967296.0))
    {
    }

    template <random_source R>
    [[nodiscard]] constexpr bool operator()(R& rng) const noexcept
    {
        return threshold_ != 0 && std::uint64_t{static_cast<std::uint32_t>(rng())} < threshold_;
    }

    [[nodiscard]] constexpr bool never() const noexcept { return threshold_ == 0; }

    /// The same decision for a uniform 32-bit value drawn elsewhere.
    [[nodiscard]] constexpr bool hit(std::uint32_t draw) const noexcept
    {
        return threshold_ != 0 && std::uint64_t{draw} < threshold_;
    }

private:
    std::uint64_t threshold_ = 0;
};

/// Fisher–Yates over the whole range.
template <class T, random_source R>
constexpr void shuffle(std::span<T> items, R& rng) noexcept
{
    for (std::size_t i = items.size(); i > 1; --i) {
        const std::size_t j = uniform_index(rng, i);
        using std::swap;
        swap(items[i - 1], items[j]);
    }
}

/// Moves k uniformly chosen elements (in random order) to the front; the rest keep no order.
/// Costs k draws instead of a full shuffle's size().
template <class T, random_source R>
constexpr void partial_shuffle(std::span<T> items, std::size_t k, R& rng) noexcept
{
    const std::size_t n = items.size();
    if (k > n) {
        k = n;
    }
    for (std::size_t i = 0; i < k && i + 1 < n; ++i) {
        const std::size_t j = i + uniform_index(rng, n - i);
        using std::swap;
        swap(items[i], items[j]);
    }
}

} // namespace gossip
