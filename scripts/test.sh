#!/usr/bin/env bash
# Builds and runs every test with the `dev` preset (Debug at -Og, warnings as errors): unit and behaviour
# tests, the loopback UDP and run-loop tests, the allocation test, the compile-fail tests, the
# consumer projects, a compile of every header on its own, and the hygiene tests (clang-tidy on the
# headers, skipped unless clang-tidy is installed, which GOSSIP_WITH_TIDY=1 does; Doxygen
# comments); asan and tsan repeat none of the last three. Other presets (CMakePresets.json):
# release, asan, tsan, clang; for example `scripts/test.sh asan`.
set -euo pipefail
cd "$(dirname "$0")/.."
preset=${1:-dev}
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
