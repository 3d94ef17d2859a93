// A peer selection that names its member `pick` instead of `select`.
#include <gossip/gossip.hpp>

struct picks_instead_of_selects {
    template <class Address, class R>
    std::size_t pick(std::span<const gossip::descriptor<Address>>, std::span<std::size_t>, R&)
    {
        return 0;
    }
};

gossip::gossip_node<gossip::transport::in_memory, picks_instead_of_selects, gossip::view_selection::healer,
                    gossip::propagation::push_pull>* node = nullptr;

int main() { return node == nullptr ? 0 : 1; }
