#!/usr/bin/env bash
# Builds and runs every test: unit and behaviour tests, the allocation test, the compile-fail
# tests, and a compile of every header on its own. Optimised, with assertions left on.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh

build=build/test
cmake -S . -B "$build" -G Ninja \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O2 -g" \
  -DGOSSIP_BUILD_BENCHMARKS=OFF
cmake --build "$build" -j "$(nproc)"
cmake --build "$build" -j "$(nproc)" --target all_verify_interface_header_sets # each header on its own
ctest --test-dir "$build" -j "$(nproc)" --output-on-failure
