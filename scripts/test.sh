#!/usr/bin/env bash
# Builds and runs every test with the `release` preset (g++ at -O3, warnings as errors, with the
# examples and the benchmarks): unit and behaviour tests, the loopback UDP, run-loop and agent
# process tests, the allocation test, the compile-fail tests, the README's examples, the consumer
# projects, a compile of every header on its own, and the hygiene tests (clang-tidy on the
# headers, skipped unless clang-tidy is installed, which GOSSIP_WITH_TIDY=1 does; Doxygen
# comments); asan and tsan repeat none of the last three. Optimised, because g++ reports some
# warnings (-Warray-bounds, -Wrestrict) only at -O3, where users build. Other presets
# (CMakePresets.json): dev (Debug at -Og with assertions, quicker to rebuild while you work),
# asan, tsan, clang; for example `scripts/test.sh dev`.
set -euo pipefail
cd "$(dirname "$0")/.."
preset=${1:-release}
case "$preset" in
  asan | tsan | clang) export GOSSIP_WITH_CLANG=1 ;;
esac
case "$preset" in
  release | clang) export GOSSIP_WITH_BENCHMARKS=1 ;;
esac
scripts/install-deps.sh

cmake --preset "$preset"
case "$preset" in
  asan | tsan) # the headers' own compile is the same check without sanitizers
    cmake --build --preset "$preset" -j "$(nproc)" ;;
  *) # one build for both, so that the headers' compile fills the cores while the tests' last files build
    cmake --build --preset "$preset" -j "$(nproc)" --target all all_verify_interface_header_sets ;;
esac
ctest --preset "$preset" -j "$(nproc)"
