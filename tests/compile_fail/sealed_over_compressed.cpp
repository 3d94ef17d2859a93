// Sealing what is then compressed: ciphertext does not shrink, so the library refuses the order.
#include <gossip/transport/compressed.hpp>
#include <gossip/transport/in_memory.hpp>
#include <gossip/transport/sealed.hpp>

using wrong_order = gossip::transport::sealed<gossip::transport::compressed<gossip::transport::in_memory>>;

int main() { return sizeof(wrong_order) > 0 ? 0 : 1; }
