// A propagation in which neither side sends a view.
#include <gossip/gossip.hpp>

struct silent {
    static constexpr bool pushes = false;
    static constexpr bool pulls = false;
};

gossip::gossip_node<gossip::transport::in_memory, gossip::peer_selection::tail, gossip::view_selection::healer, silent>*
    node = nullptr;

int main() { return node == nullptr ? 0 : 1; }
