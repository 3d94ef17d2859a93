#!/usr/bin/env bash
# The demo, in two parts.
#
# 1. A real cluster: 16 gossip_agent processes on 127.0.0.1 (UDP), all joining one seed. One of
#    them broadcasts a line and every process delivers it; one is killed with SIGKILL and every
#    other declares it failed; a line is broadcast while it is down; it is restarted at the same
#    address, the others see it recover, and it catches up on both lines. Then all leave cleanly.
# 2. A large simulated run: a 100,000-node overlay that converges from a ring lattice, loses half
#    its nodes at once and heals (examples/overlay_demo).
#
# Usage: scripts/demo.sh [--processes N] [--period MS] [overlay_demo options, try --help]
# Every wait is bounded; on a timeout the script shows the agents' logs and fails.
set -euo pipefail
cd "$(dirname "$0")/.."

processes=16
period=100
sim_args=()
show_help=0
while [ $# -gt 0 ]; do
  case "$1" in
    --processes) processes="$2"; shift 2 ;;
    --period) period="$2"; shift 2 ;;
    --help|-h) show_help=1; sim_args+=("$1"); shift ;;
    *) sim_args+=("$1"); shift ;;
  esac
done
if [ "$processes" -lt 3 ]; then
  echo "demo: --processes must be at least 3" >&2
  exit 2
fi

scripts/install-deps.sh
build=build/demo
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DGOSSIP_BUILD_TESTS=OFF -DGOSSIP_BUILD_BENCHMARKS=OFF -DGOSSIP_BUILD_EXAMPLES=ON >/dev/null
cmake --build "$build" -j "$(nproc)" --target gossip_agent overlay_demo

if [ "$show_help" = 1 ]; then
  echo "usage: scripts/demo.sh [--processes N] [--period MS] [options of the simulated run, below]"
  echo
  "$build/examples/overlay_demo" --help
  exit 0
fi

agent="$build/examples/gossip_agent"
logs="$build/cluster"
rm -rf "$logs"
mkdir -p "$logs"

pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
}
trap cleanup EXIT

now_ms() { echo $(($(date +%s%N) / 1000000)); }
seconds_since() { local ms=$(($(now_ms) - $1)); printf "%d.%02d" $((ms / 1000)) $((ms % 1000 / 10)); }
started=$(now_ms)
elapsed() { printf "%6s s" "$(seconds_since "$started")"; }
say() { echo "[$(elapsed)] $*"; }

fail() {
  echo "demo: $*" >&2
  for f in "$logs"/*.log; do echo "--- $f"; tail -n 8 "$f"; done >&2
  exit 1
}

# wait_until SECONDS DESCRIPTION COMMAND...: runs COMMAND every 0.1 s until it succeeds.
wait_until() {
  local limit=$1 what=$2
  shift 2
  local deadline=$(( $(date +%s) + limit ))
  until "$@"; do
    [ "$(date +%s)" -lt "$deadline" ] || fail "timed out after ${limit} s waiting until $what"
    sleep 0.1
  done
}

# start_agent INDEX BIND [JOIN]: runs agent INDEX in the background, logging to INDEX.log.
# Agent 1 reads its stdin from a FIFO the script keeps open, to broadcast with.
start_agent() {
  local i=$1 bind=$2 join=${3:-}
  local log="$logs/$i.log"
  local args=(--bind "$bind" --period "$period")
  [ -n "$join" ] && args+=(--join "$join")
  if [ "$i" = 1 ]; then
    "$agent" "${args[@]}" <"$logs/in.fifo" >>"$log" 2>&1 &
  else
    "$agent" "${args[@]}" </dev/null >>"$log" 2>&1 &
  fi
  pids[$i]=$!
}

address_of() { sed -n 's/^ready \([^ ]*\).*/\1/p' "$logs/$1.log" | tail -n 1; }
ready() { [ -n "$(address_of "$1")" ]; }
# count_logs PATTERN [SKIP]: how many agents' logs (other than agent SKIP) contain PATTERN.
count_logs() {
  local n=0 i
  for i in $(seq 0 $((processes - 1))); do
    [ "$i" = "${2:--1}" ] && continue
    grep -qF -- "$1" "$logs/$i.log" && n=$((n + 1))
  done
  echo "$n"
}
# logs_with N PATTERN [SKIP]: whether at least N agents' logs contain PATTERN.
logs_with() { [ "$(count_logs "$2" "${3:--1}")" -ge "$1" ]; }
all_joined() {
  local i
  for i in $(seq 0 $((processes - 1))); do
    [ "$(grep -c '^member joined' "$logs/$i.log")" -ge $((processes - 1)) ] || return 1
  done
}

echo "== Part 1: a cluster of $processes processes on 127.0.0.1, gossiping over UDP (period ${period} ms)"
mkfifo "$logs/in.fifo"
start_agent 0 127.0.0.1:0
wait_until 10 "the seed is ready" ready 0
seed=$(address_of 0)
say "seed agent 0 listens at $seed"
for i in $(seq 1 $((processes - 1))); do
  start_agent "$i" 127.0.0.1:0 "$seed"
  if [ "$i" = 1 ]; then exec {to_agent1}>"$logs/in.fifo"; fi
done
for i in $(seq 1 $((processes - 1))); do wait_until 10 "agent $i is ready" ready "$i"; done
say "$processes agents started, each joining only the seed"
wait_until 30 "every agent lists all $((processes - 1)) others as members" all_joined
say "membership agreed: every agent lists the $((processes - 1)) others"

echo "hello from agent 1" >&"$to_agent1"
wait_until 20 "every agent delivers the broadcast" logs_with "$processes" "hello from agent 1"
say "agent 1 broadcast 'hello from agent 1'; all $processes agents delivered it:"
for i in 0 $((processes - 1)); do
  grep -h "hello from agent 1" "$logs/$i.log" | sed "s/^/           agent $i: /"
done

victim=$((processes / 2))
victim_address=$(address_of "$victim")
kill -9 "${pids[$victim]}"
wait "${pids[$victim]}" 2>/dev/null || true
killed_at=$(now_ms)
say "killed agent $victim ($victim_address) with SIGKILL"
wait_until 30 "every other agent declares agent $victim failed" \
  logs_with $((processes - 1)) "member failed $victim_address" "$victim"
detect=$(seconds_since "$killed_at")
say "all $((processes - 1)) others declared it failed within ${detect} s (t_fail = 15 periods = $((15 * period)) ms):"
grep -h "member failed $victim_address" "$logs/0.log" | sed "s/^/           agent 0: /"

echo "sent while agent $victim was down" >&"$to_agent1"
wait_until 20 "the live agents deliver the second broadcast" \
  logs_with $((processes - 1)) "sent while agent $victim was down" "$victim"
say "agent 1 broadcast 'sent while agent $victim was down'; the $((processes - 1)) live agents delivered it"

mv "$logs/$victim.log" "$logs/$victim-before-kill.log.txt"
start_agent "$victim" "$victim_address" "$seed"
say "restarted agent $victim at $victim_address, joining the seed"
wait_until 30 "every other agent sees agent $victim recover" \
  logs_with $((processes - 1)) "member recovered $victim_address" "$victim"
say "all $((processes - 1)) others saw it come back (member recovered)"
wait_until 30 "the restarted agent catches up on both broadcasts" \
  grep -qF "sent while agent $victim was down" "$logs/$victim.log"
grep -qF "hello from agent 1" "$logs/$victim.log" || fail "the restarted agent lacks the first broadcast"
say "agent $victim caught up on what it missed:"
grep -h "^deliver" "$logs/$victim.log" | sed "s/^/           agent $victim: /"

exec {to_agent1}>&-
for i in $(seq 0 $((processes - 1))); do kill -TERM "${pids[$i]}" 2>/dev/null || true; done
for i in $(seq 0 $((processes - 1))); do wait "${pids[$i]}" 2>/dev/null || true; done
pids=()
left=$(grep -l "^left " "$logs"/[0-9]*.log | wc -l)
say "SIGTERM to all: $left of $processes agents announced their leave and exited cleanly"
echo "   (logs: $logs/*.log)"
echo

echo "== Part 2: a large simulated run"
"$build/examples/overlay_demo" "${sim_args[@]}"
