// The compile-fail harness's control: a complete custom peer selection, which must compile.
#include <gossip/gossip.hpp>

struct first_peer {
    template <class Address, class R>
    std::size_t select(std::span<const gossip::descriptor<Address>> view, std::span<std::size_t> chosen, R&)
    {
        if (view.empty() || chosen.empty()) {
            return 0;
        }
        chosen[0] = 0;
        return 1;
    }
};

gossip::gossip_node<gossip::transport::in_memory, first_peer, gossip::view_selection::healer,
                    gossip::propagation::push_pull>* node = nullptr;

int main() { return node == nullptr ? 0 : 1; }
