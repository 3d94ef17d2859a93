#!/usr/bin/env bash
# Installs what building gossip needs and the machine lacks, from Debian's/Ubuntu's archive:
# a C++20 compiler, CMake, Ninja, doctest and libsodium (tests), and on request Google Benchmark
# (GOSSIP_WITH_BENCHMARKS=1), Clang with its sanitizer and libFuzzer runtimes
# (GOSSIP_WITH_CLANG=1), clang-format (GOSSIP_WITH_FORMAT=1), clang-tidy (GOSSIP_WITH_TIDY=1, for
# scripts/tidy.sh, which ctest skips without it) and gnuplot (GOSSIP_WITH_GNUPLOT=1, for
# scripts/plot-dissemination.sh).
# Does nothing when everything is present. Needs root or sudo only when something is missing.
set -euo pipefail

missing=()
command -v cmake >/dev/null 2>&1 || missing+=(cmake)
command -v ninja >/dev/null 2>&1 || missing+=(ninja-build)
command -v g++ >/dev/null 2>&1 || missing+=(g++)
[ -f /usr/include/doctest/doctest.h ] || missing+=(doctest-dev)
[ -f /usr/include/sodium.h ] || missing+=(libsodium-dev) # tests only: a cross-check of the AEAD
command -v pkg-config >/dev/null 2>&1 || missing+=(pkgconf) # for the pkg-config consumer test
if [ "${GOSSIP_WITH_BENCHMARKS:-0}" = 1 ] && [ ! -f /usr/include/benchmark/benchmark.h ]; then
  missing+=(libbenchmark-dev)
fi

if [ "${GOSSIP_WITH_CLANG:-0}" = 1 ]; then
  if ! command -v clang++ >/dev/null 2>&1; then
    missing+=(clang)
  elif ! echo 'int main() {}' | clang++ -x c++ -fsanitize=address,undefined - -o /dev/null 2>/dev/null; then
    # The sanitizer runtimes are a package of their own on some releases.
    major=$(clang++ -dumpversion | cut -d. -f1)
    missing+=("libclang-rt-$major-dev")
  fi
fi
if [ "${GOSSIP_WITH_FORMAT:-0}" = 1 ] && ! command -v clang-format-14 >/dev/null 2>&1 &&
  ! command -v clang-format >/dev/null 2>&1; then
  missing+=(clang-format)
fi
if [ "${GOSSIP_WITH_TIDY:-0}" = 1 ] && ! command -v clang-tidy-14 >/dev/null 2>&1 &&
  ! command -v clang-tidy >/dev/null 2>&1; then
  missing+=(clang-tidy)
fi
if [ "${GOSSIP_WITH_GNUPLOT:-0}" = 1 ] && ! command -v gnuplot >/dev/null 2>&1; then
  missing+=(gnuplot-nox)
fi

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

echo "installing: ${missing[*]}"
if [ "$(id -u)" -eq 0 ]; then
  sudo=()
elif command -v sudo >/dev/null 2>&1; then
  sudo=(sudo)
else
  echo "error: ${missing[*]} missing, and neither root nor sudo is available to install them" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
