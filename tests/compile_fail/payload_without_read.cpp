// A payload that writes its section but cannot read one back.
#include <gossip/gossip.hpp>

struct write_only {
    void write(gossip::wire::writer&, gossip::wire::message_kind) {}
};

gossip::gossip_node<gossip::transport::in_memory, gossip::peer_selection::tail, gossip::view_selection::healer,
                    gossip::propagation::push_pull, write_only>* node = nullptr;

int main() { return node == nullptr ? 0 : 1; }
