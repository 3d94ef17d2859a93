#!/usr/bin/env bash
# clang-tidy (the checks of .clang-tidy) on the library's headers: one translation unit that
# includes every header under include/gossip, compiled as the project compiles it (-std=c++20,
# -Iinclude). Only findings in include/gossip count. About 15 s on one core.
#
#   scripts/tidy.sh [baseline]        CLANG_TIDY=/path/to/clang-tidy to choose the binary
#
# Prints "SKIPPED: ..." and succeeds when no clang-tidy is installed (GOSSIP_WITH_TIDY=1
# scripts/install-deps.sh installs one). The baseline (default tests/hygiene/tidy_baseline.txt)
# lists, as "path check", findings known and tolerated for now; they are shown, and any other
# finding fails. Run by ctest as hygiene.clang_tidy.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
baseline=${1:-tests/hygiene/tidy_baseline.txt}

tidy=${CLANG_TIDY:-}
if [ -z "$tidy" ]; then
  for candidate in clang-tidy-14 clang-tidy; do # .clang-tidy is written for 14
    if command -v "$candidate" >/dev/null 2>&1; then
      tidy=$(command -v "$candidate")
      break
    fi
  done
fi
if [ -z "$tidy" ]; then
  echo "SKIPPED: clang-tidy is not installed (GOSSIP_WITH_TIDY=1 scripts/install-deps.sh installs it)"
  exit 0
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# Every header rather than gossip.hpp alone: one left out of gossip.hpp is checked all the same.
find include/gossip -name '*.hpp' | LC_ALL=C sort | sed 's|^include/\(.*\)$|#include <\1>|' >"$work/all_headers.cpp"

"$tidy" --version | grep -i -m 1 version || true
started=$SECONDS
status=0
"$tidy" --quiet --config-file="$root/.clang-tidy" "$work/all_headers.cpp" -- -std=c++20 -I"$root/include" \
  >"$work/output" 2>&1 || status=$?
echo "clang-tidy took $((SECONDS - started)) s"

# Each diagnostic as "path check" (path relative to the root, without ./ or dir/..), against the
# baseline.
awk -v root="$root/" -v baseline="$baseline" -v status="$status" '
BEGIN {
    while ((getline entry < baseline) > 0) {
        sub(/[ \t]+$/, "", entry)
        if (entry != "" && entry !~ /^#/) known[entry] = 1
    }
}
match($0, /^[^ :][^:]*:[0-9]+:[0-9]+: (warning|error): /) {
    path = $0; sub(/:[0-9]+:[0-9]+: .*/, "", path)
    while (sub(/\/\.\//, "/", path)) {}
    while (sub(/\/[^\/.][^\/]*\/\.\.\//, "/", path)) {}
    if (index(path, root) == 1) path = substr(path, length(root) + 1)
    check = "clang-diagnostic-error"
    if (match($0, /\[[^]]+\]$/)) {
        check = substr($0, RSTART + 1, RLENGTH - 2); sub(/,.*/, "", check)
    }
    line = $0; sub(/^[^:]*:/, "", line); sub(/:.*/, "", line)
    key = path " " check
    if (key in known) { ++tolerated; used[key] = 1; print "known (baseline): " path ":" line " " check }
    else { ++fresh; print "FINDING: " path ":" line " " check }
    next
}
END {
    for (key in known) if (!(key in used)) printf "note: \"%s\" no longer occurs; remove it from %s\n", key, baseline
    if (fresh > 0) { printf "%d finding(s) outside the baseline (details above)\n", fresh; exit 1 }
    if (status != 0 && tolerated == 0) { print "clang-tidy failed without a finding (details above)"; exit 1 }
    printf "clang-tidy: no finding in the headers outside the baseline (%d known)\n", tolerated
}' "$work/output" >"$work/summary" || {
  cat "$work/output" "$work/summary"
  exit 1
}
cat "$work/summary"
