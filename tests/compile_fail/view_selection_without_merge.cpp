// A view selection that can prepare a buffer but never merges what it receives.
#include <gossip/gossip.hpp>

struct never_merges {
    template <class Address, class R>
    std::size_t prepare(gossip::view<Address>&, std::size_t, const gossip::config&, R&)
    {
        return 0;
    }
};

gossip::gossip_node<gossip::transport::in_memory, gossip::peer_selection::tail, never_merges,
                    gossip::propagation::push_pull>* node = nullptr;

int main() { return node == nullptr ? 0 : 1; }
