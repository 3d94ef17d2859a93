#pragma once

#include "../config.hpp"
#include "../descriptor.hpp"
#include "../detail/view_operations.hpp"
#include "../random.hpp"
#include "../view.hpp"

#include <cstddef>
#include <span>

namespace gossip::view_selection {

/// The (H, S) view selection of Jelasity et al. with its parameters supplied by `Parameters`:
/// `Parameters::healer(cfg)` and `Parameters::swapper(cfg)`. H of the oldest descriptors are
/// never sent and are dropped first; S of those just sent are dropped next; what is still above
/// c goes by `Parameters::surplus` (at random unless a preset says otherwise).
template <class Parameters>
struct basic_hs {
    template <class Address, random_source R>
    std::size_t prepare(view<Address>& v, std::size_t count, const config& cfg, R& rng) const
    {
        return detail::prepare_buffer(v.storage(), count, Parameters::healer(cfg), rng);
    }

    template <class Address, random_source R>
    void merge(view<Address>& v, std::span<const descriptor<Address>> received, const config& cfg, R& rng) const
    {
        detail::merge_view(v.storage(), received, cfg.view_size, Parameters::healer(cfg), Parameters::swapper(cfg),
                           Parameters::surplus, rng);
    }
};

/// H and S as the config says: the whole spectrum between the presets.
struct config_parameters {
    static constexpr std::size_t healer(const config& cfg) noexcept { return cfg.healer; }
    static constexpr std::size_t swapper(const config& cfg) noexcept { return cfg.swapper; }
    static constexpr detail::surplus surplus = detail::surplus::random;
};

/// H and S read from config::healer and config::swapper at run time, the surplus at random: for
/// sweeping the (H, S) plane without a type per point.
using generalized = basic_hs<config_parameters>;

} // namespace gossip::view_selection
