#!/usr/bin/env bash
# Builds the examples in Release and runs the demo: a simulated 100,000-node overlay that
# converges from a ring lattice, loses half its nodes at once and heals. Extra arguments go to
# the demo (try --help).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh

build=build/demo
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DGOSSIP_BUILD_TESTS=OFF -DGOSSIP_BUILD_BENCHMARKS=OFF -DGOSSIP_BUILD_EXAMPLES=ON >/dev/null
cmake --build "$build" -j "$(nproc)" --target overlay_demo
"$build/examples/overlay_demo" "$@"
