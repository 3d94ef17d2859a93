#pragma once

// Every policy concept in one include.

#include "payload/policy.hpp"
#include "peer_selection/policy.hpp"
#include "propagation/policy.hpp"
#include "random.hpp"
#include "transport/policy.hpp"
#include "view_selection/policy.hpp"
