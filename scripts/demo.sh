#!/usr/bin/env bash
# The demo, in two parts.
#
# 1. A real cluster: 16 gossip_agent processes on 127.0.0.1 (UDP), all joining one seed, with
#    SWIM membership (probes, suspicion, Lifeguard). Every agent comes to list every other; one
#    of them broadcasts a line and every process delivers it; one is killed with SIGKILL and
#    every other declares it failed (timed against the suspicion timeout); a line is broadcast
#    while it is down; it is restarted at the same address with the same member id, the others
#    see it join again at a higher incarnation, and it catches up on both lines. Then one agent
#    leaves (SIGTERM) and every other reports it "left", not "failed"; then all leave cleanly.
#    Every datagram is sealed (ChaCha20-Poly1305, gossip_agent --key-file); midway the cluster
#    rotates to a new key (reloaded with SIGHUP) while broadcasts keep arriving.
#    No agent that was running may be declared failed at any point: the demo fails if one is.
# 2. A large simulated run: a 100,000-node overlay that converges from a ring lattice, loses half
#    its nodes at once and heals (examples/overlay_demo).
#
# The restart keeps the member's id (gossip_agent --id, the id the agent printed when it first
# started), because that shows SWIM's identity model at work: a member is a stable id, not an
# address or a process. The others hold the id failed at incarnation i; the new process starts
# at incarnation 0, hears of its old failure from the seed, refutes it with incarnation i + 1,
# and the others report the same id "joined" again. (Restarted without --id, it would draw a
# new id: the old id would stay failed until forgotten, and a second member would join at the
# same address, which shows less.)
#
# `--membership heartbeat` (or GOSSIP_DEMO_MEMBERSHIP=heartbeat) runs part 1 on the older
# heartbeat membership instead: failure after t_fail = 15 periods, "member recovered" after the
# restart.
#
# Usage: scripts/demo.sh [--processes N] [--period MS] [--membership swim|heartbeat]
#                        [--probe-interval MS] [overlay_demo options, try --help]
# Every wait is bounded; on a timeout the script shows the agents' logs and fails.
set -euo pipefail
cd "$(dirname "$0")/.."

processes=16
period=100 # the anti-entropy log's period (and the heartbeat membership's)
membership=${GOSSIP_DEMO_MEMBERSHIP:-swim}
# SWIM's timings: swim_options::local(), the loopback profile. Suspicion timeout for n members:
# from suspicion_mult * max(1, log10 n) probe intervals (three others confirmed the suspicion)
# up to 6 times that (nobody else did yet).
probe_interval=200
suspicion_mult=3
sim_args=()
show_help=0
while [ $# -gt 0 ]; do
  case "$1" in
    --processes) processes="$2"; shift 2 ;;
    --period) period="$2"; shift 2 ;;
    --membership) membership="$2"; shift 2 ;;
    --probe-interval) probe_interval="$2"; shift 2 ;;
    --help|-h) show_help=1; sim_args+=("$1"); shift ;;
    *) sim_args+=("$1"); shift ;;
  esac
done
if [ "$processes" -lt 4 ]; then
  echo "demo: --processes must be at least 4" >&2
  exit 2
fi
case "$membership" in
  swim | heartbeat) ;;
  *) echo "demo: --membership must be swim or heartbeat" >&2; exit 2 ;;
esac
probe_timeout=$((probe_interval / 2))

scripts/install-deps.sh
# GOSSIP_DEMO_BUILD names a build directory already configured with the examples (CI passes the
# release preset's, which holds them); without it, build/demo is configured for the demo alone.
build=${GOSSIP_DEMO_BUILD:-build/demo}
if [ -z "${GOSSIP_DEMO_BUILD:-}" ]; then
  cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
    -DGOSSIP_BUILD_TESTS=OFF -DGOSSIP_BUILD_BENCHMARKS=OFF -DGOSSIP_BUILD_EXAMPLES=ON >/dev/null
fi
cmake --build "$build" -j "$(nproc)" --target gossip_agent overlay_demo

if [ "$show_help" = 1 ]; then
  echo "usage: scripts/demo.sh [--processes N] [--period MS] [--membership swim|heartbeat] [--probe-interval MS]"
  echo "                       [options of the simulated run, below]"
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
seconds() { printf "%d.%02d" $(($1 / 1000)) $(($1 % 1000 / 10)); }
seconds_since() { seconds $(($(now_ms) - $1)); }
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
  local deadline=$(($(date +%s) + limit))
  until "$@"; do
    [ "$(date +%s)" -lt "$deadline" ] || fail "timed out after ${limit} s waiting until $what"
    sleep 0.1
  done
}

# start_agent INDEX BIND [JOIN [MORE OPTIONS...]]: runs agent INDEX in the background, logging to
# INDEX.log. Agent 1 reads its stdin from a FIFO the script keeps open, to broadcast with.
start_agent() {
  local i=$1 bind=$2 join=${3:-}
  shift $(($# < 3 ? $# : 3))
  local log="$logs/$i.log"
  # Without timestamps: the narration parses the lines by field, and keeps its own clock.
  local args=(--bind "$bind" --period "$period" --membership "$membership" --key-file "$logs/keys" --label demo
    --no-timestamps)
  if [ "$membership" = swim ]; then
    args+=(--probe-interval "$probe_interval" --probe-timeout "$probe_timeout" --suspicion-mult "$suspicion_mult")
  fi
  [ -n "$join" ] && args+=(--join "$join")
  args+=("$@")
  if [ "$i" = 1 ]; then
    "$agent" "${args[@]}" <"$logs/in.fifo" >>"$log" 2>&1 &
  else
    "$agent" "${args[@]}" </dev/null >>"$log" 2>&1 &
  fi
  pids[i]=$!
}

# stop_agent INDEX SIGNAL: signals agent INDEX and waits up to 10 s for it to exit (the shell's
# report of a killed job is kept out of the narration).
stop_agent() {
  local pid=${pids[$1]} deadline=$(($(date +%s) + 10))
  {
    kill "-$2" "$pid" || true
    while kill -0 "$pid"; do
      [ "$(date +%s)" -lt "$deadline" ] || fail "agent $1 did not exit within 10 s of SIG$2"
      sleep 0.05
    done
    wait "$pid" || true
  } 2>/dev/null
}

address_of() { sed -n 's/^ready \([^ ]*\).*/\1/p' "$logs/$1.log" | tail -n 1; }
id_of() { sed -n 's/^ready .* id=\([0-9a-fx]*\).*/\1/p' "$logs/$1.log" | tail -n 1; }
ready() { [ -n "$(address_of "$1")" ]; }
# has_event LOG KIND ADDRESS: whether LOG holds "member KIND ADDRESS" (the address whole).
has_event() { awk -v k="$2" -v a="$3" '$1 == "member" && $2 == k && $3 == a { found = 1; exit } END { exit !found }' "$1"; }
# count_event KIND ADDRESS [SKIP]: how many agents' logs (other than agent SKIP) hold that event.
count_event() {
  local n=0 i
  for i in $(seq 0 $((processes - 1))); do
    [ "$i" = "${3:--1}" ] && continue
    has_event "$logs/$i.log" "$1" "$2" && n=$((n + 1))
  done
  echo "$n"
}
# all_report N KIND ADDRESS [SKIP]: whether at least N agents' logs hold that event.
all_report() { [ "$(count_event "$2" "$3" "${4:--1}")" -ge "$1" ]; }
# count_logs TEXT [SKIP]: how many agents' logs (other than agent SKIP) contain TEXT.
count_logs() {
  local n=0 i
  for i in $(seq 0 $((processes - 1))); do
    [ "$i" = "${2:--1}" ] && continue
    grep -qF -- "$1" "$logs/$i.log" && n=$((n + 1))
  done
  echo "$n"
}
logs_with() { [ "$(count_logs "$2" "${3:--1}")" -ge "$1" ]; }
# Every agent has heard of all the others join (distinct addresses).
all_joined() {
  local i
  for i in $(seq 0 $((processes - 1))); do
    [ "$(awk '$1 == "member" && $2 == "joined" { print $3 }' "$logs/$i.log" | sort -u | wc -l)" -ge $((processes - 1)) ] ||
      return 1
  done
}
# rejoined_everywhere ADDRESS SKIP: every agent but SKIP reports ADDRESS joined (swim) or recovered
# (heartbeat) after it reported it failed.
rejoined_everywhere() {
  local kind=joined i
  [ "$membership" = heartbeat ] && kind=recovered
  for i in $(seq 0 $((processes - 1))); do
    [ "$i" = "$2" ] && continue
    awk -v a="$1" -v k="$kind" '$1 == "member" && $3 == a && $2 == "failed" { down = 1 }
      $1 == "member" && $3 == a && $2 == k && down { back = 1 } END { exit !back }' "$logs/$i.log" || return 1
  done
}
# false_failures: reports of a running agent declared failed, in every log (the killed agent's
# first life included): any "member failed" line but each log's first about the victim.
false_failures() {
  local n=0 f
  for f in "$logs"/*.log "$logs"/*.log.txt; do
    n=$((n + $(awk -v v="$victim_address" '$1 == "member" && $2 == "failed" { if ($3 != v || seen++) n++ }
      END { print n + 0 }' "$f")))
  done
  echo "$n"
}

echo "== Part 1: a cluster of $processes processes on 127.0.0.1, over UDP"
if [ "$membership" = swim ]; then
  # The suspicion timeout for this many members, as swim_options.hpp computes it.
  read -r least most < <(awk -v n="$processes" -v t="$probe_interval" -v a="$suspicion_mult" \
    'BEGIN { s = log(n) / log(10); if (s < 1) s = 1; printf "%d %d\n", a * s * t, 6 * a * s * t }')
  echo "   membership: SWIM with Lifeguard, a probe every ${probe_interval} ms (timeout ${probe_timeout} ms);" \
    "suspicion timeout for $processes members: $(seconds "$least") s once three others confirm, up to" \
    "$(seconds "$most") s; broadcasts: a log gossiped every ${period} ms"
else
  echo "   membership: heartbeats every ${period} ms, failed after t_fail = 15 periods = $((15 * period)) ms"
fi
random_key() { od -An -tx1 -N32 /dev/urandom | tr -d ' \n'; }
key1=$(random_key)
printf '1 %s\n' "$key1" >"$logs/keys"
echo "   sealing: every datagram sealed with ChaCha20-Poly1305 under key 1 (--key-file), cluster label 'demo'"
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
echo "/members" >&"$to_agent1"
listed() { [ "$(grep -c '^members ' "$logs/1.log")" -ge "$processes" ]; }
wait_until 10 "agent 1 answers /members" listed
say "agent 1's /members: $(grep -c '^members .* alive' "$logs/1.log") of $processes members alive, itself included:"
grep -h '^members ' "$logs/1.log" | sed -n '1,2p;$p' | sed "s/^/           agent 1: /"

echo "hello from agent 1" >&"$to_agent1"
wait_until 20 "every agent delivers the broadcast" logs_with "$processes" "hello from agent 1"
say "agent 1 broadcast 'hello from agent 1'; all $processes agents delivered it:"
for i in 0 $((processes - 1)); do
  grep -h "hello from agent 1" "$logs/$i.log" | sed "s/^/           agent $i: /"
done

victim=$((processes / 2))
victim_address=$(address_of "$victim")
victim_id=$(id_of "$victim")
stop_agent "$victim" KILL
killed_at=$(now_ms)
if [ "$membership" = swim ]; then
  say "killed agent $victim ($victim_address, id $victim_id) with SIGKILL"
  wait_until 30 "an agent suspects agent $victim" all_report 1 suspected "$victim_address" "$victim"
  suspected_at=$(now_ms)
  say "first suspected after $(seconds $((suspected_at - killed_at))) s (a probe and its indirect probes went unanswered)"
else
  say "killed agent $victim ($victim_address) with SIGKILL"
fi
wait_until 30 "every other agent declares agent $victim failed" \
  all_report $((processes - 1)) failed "$victim_address" "$victim"
detect=$(seconds_since "$killed_at")
if [ "$membership" = swim ]; then
  say "all $((processes - 1)) others declared it failed ${detect} s after the kill, $(seconds_since "$suspected_at") s" \
    "after the script saw the first suspicion (suspicion timeout: $(seconds "$least") s confirmed, up to $(seconds "$most") s):"
else
  say "all $((processes - 1)) others declared it failed within ${detect} s (t_fail = 15 periods = $((15 * period)) ms):"
fi
grep -h "^member [a-z]* $victim_address\( \|$\)" "$logs/0.log" | sed "s/^/           agent 0: /"

echo "sent while agent $victim was down" >&"$to_agent1"
wait_until 20 "the live agents deliver the second broadcast" \
  logs_with $((processes - 1)) "sent while agent $victim was down" "$victim"
say "agent 1 broadcast 'sent while agent $victim was down'; the $((processes - 1)) live agents delivered it"

mv "$logs/$victim.log" "$logs/$victim-before-kill.log.txt"
if [ "$membership" = swim ]; then
  start_agent "$victim" "$victim_address" "$seed" --id "$victim_id"
  say "restarted agent $victim at $victim_address with its old id (--id $victim_id), joining the seed"
  wait_until 30 "every other agent sees agent $victim join again" rejoined_everywhere "$victim_address" "$victim"
  incarnation=$(grep -h "^member joined $victim_address " "$logs/0.log" | tail -n 1 | sed 's/.*incarnation=//')
  say "all $((processes - 1)) others saw the same id join again, at incarnation $incarnation (it refuted its failure):"
  grep -h "^member joined $victim_address " "$logs/0.log" | sed "s/^/           agent 0: /"
else
  start_agent "$victim" "$victim_address" "$seed"
  say "restarted agent $victim at $victim_address, joining the seed"
  wait_until 30 "every other agent sees agent $victim recover" rejoined_everywhere "$victim_address" "$victim"
  say "all $((processes - 1)) others saw it come back (member recovered)"
fi
wait_until 30 "the restarted agent catches up on both broadcasts" \
  grep -qF "sent while agent $victim was down" "$logs/$victim.log"
grep -qF "hello from agent 1" "$logs/$victim.log" || fail "the restarted agent lacks the first broadcast"
say "agent $victim caught up on what it missed:"
grep -h "^deliver" "$logs/$victim.log" | sed "s/^/           agent $victim: /"

# Key rotation on the running cluster: the new key is listed second everywhere (accepted, not yet
# used), then first (sealing with it, the old one still accepted), then alone (the old one gone).
# Each step reaches every agent (SIGHUP reloads the key file) before the next; a broadcast goes
# out after each, and every agent must deliver it.
key2=$(random_key)
rotate() {
  local step=$1 expect=$2 line=$3
  printf '%s' "$step" >"$logs/keys"
  for i in $(seq 0 $((processes - 1))); do kill -HUP "${pids[$i]}"; done
  wait_until 10 "every agent reloads its keys ($expect)" logs_with "$processes" "keys reloaded $expect"
  echo "$line" >&"$to_agent1"
  wait_until 20 "every agent delivers '$line'" logs_with "$processes" "$line"
}
rotate "$(printf '1 %s\n2 %s\n' "$key1" "$key2")" "primary=1 keys=1,2" "rotation 1: key 2 installed"
say "key 2 installed on all $processes agents (SIGHUP), key 1 still seals; the next broadcast reached all"
rotate "$(printf '2 %s\n1 %s\n' "$key2" "$key1")" "primary=2 keys=2,1" "rotation 2: sealed with key 2"
say "key 2 seals on all agents, key 1 still accepted; the next broadcast reached all"
rotate "$(printf '2 %s\n' "$key2")" "primary=2 keys=2" "rotation 3: key 1 removed"
say "key 1 removed everywhere; the next broadcast reached all"
echo "/stats" >&"$to_agent1"
wait_until 10 "agent 1 answers /stats" grep -q '^stats ' "$logs/1.log"
opened=$(sed -n 's/^stats .* opened=\([0-9]*\).*/\1/p' "$logs/1.log" | tail -n 1)
refused=$(sed -n 's/^stats .* refused=\([0-9]*\).*/\1/p' "$logs/1.log" | tail -n 1)
say "agent 1 opened $opened sealed datagrams and refused $refused during the whole run"

exec {to_agent1}>&-
leaver=$((processes - 1))
leaver_address=$(address_of "$leaver")
stop_agent "$leaver" TERM
left_at=$(now_ms)
wait_until 20 "every other agent reports agent $leaver left" \
  all_report $((processes - 1)) left "$leaver_address" "$leaver"
[ "$(count_event failed "$leaver_address" "$leaver")" = 0 ] || fail "an agent reported agent $leaver failed"
say "SIGTERM to agent $leaver: it announced its leave; all $((processes - 1)) others report it left within" \
  "$(seconds_since "$left_at") s, none failed"
for i in $(seq 0 $((processes - 2))); do kill -TERM "${pids[$i]}" 2>/dev/null || true; done
for i in $(seq 0 $((processes - 2))); do stop_agent "$i" TERM; done
pids=()
left=$(grep -l "^left " "$logs"/[0-9]*.log | wc -l)
say "SIGTERM to the rest: $left of $processes agents announced their leave and exited cleanly"
[ "$left" = "$processes" ] || fail "only $left of $processes agents exited cleanly"
wrong=$(false_failures)
[ "$wrong" = 0 ] || fail "$wrong reports of a running agent declared failed"
if [ "$membership" = swim ]; then
  suspicions=$(cat "$logs"/*.log "$logs"/*.log.txt | awk -v v="$victim_address" '$1 == "member" && $2 == "suspected" && $3 != v' | wc -l)
  say "false failures: 0 (suspicions of running agents, all refuted in time: $suspicions)"
else
  say "false failures: 0"
fi
echo "   (logs: $logs/*.log)"
echo

echo "== Part 2: a large simulated run"
"$build/examples/overlay_demo" "${sim_args[@]}"
