// A transport that can say where it is but cannot send.
#include <gossip/gossip.hpp>

struct mute_transport {
    using address_type = gossip::transport::in_memory_address;
    address_type local_address() const { return {}; }
};

gossip::gossip_node<mute_transport, gossip::peer_selection::tail, gossip::view_selection::healer,
                    gossip::propagation::push_pull>* node = nullptr;

int main() { return node == nullptr ? 0 : 1; }
