#!/usr/bin/env bash
# CPU a listening client spends in one minute against a server that answers every poll at
# once with an error, next to a healthy idle server as the baseline (issue #4: "well under
# 1 % of a core"). All traffic stays on 127.0.0.1. Usage: bench/idle_cpu.sh [SECONDS]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
seconds="${1:-60}"
cargo build --release -q -p gnomeqq-cli -p smartqq-emulator
bin=target/release
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$work"' EXIT

# name port knobs-json
scenarios=(
  "healthy-idle 18801 {\"poll_hold\":60}"
  "instant-ok-error 18802 {\"poll_hold\":0,\"poll_idle_mode\":\"ok_error\"}"
  "instant-103 18803 {\"conflict_session\":true}"
  "instant-http504 18804 {\"poll_hold\":0,\"poll_idle_mode\":\"http504\"}"
)
declare -A client_pid
for scenario in "${scenarios[@]}"; do
  read -r name port knobs <<<"$scenario"
  "$bin/smartqq-sandbox" --listen "127.0.0.1:$port" --auto-confirm 0 >"$work/$name.sandbox" 2>&1 &
  for _ in $(seq 50); do curl -s "127.0.0.1:$port/sandbox/counters" >/dev/null && break; sleep 0.1; done
  HOME="$work/$name" "$bin/gnomeqq-cli" --server "http://127.0.0.1:$port" --data-dir "$work/$name" \
    listen >"$work/$name.out" 2>"$work/$name.err" &
  client_pid[$name]=$!
  for _ in $(seq 100); do grep -q "Online as" "$work/$name.out" 2>/dev/null && break; sleep 0.1; done
  curl -s -XPOST "127.0.0.1:$port/sandbox/knobs" -d "$knobs" >/dev/null
done

# CPU time of every thread of a process, in nanoseconds (schedstat is finer than the
# 10 ms clock ticks of /proc/PID/stat).
cpu_ns() { cat /proc/"$1"/task/*/schedstat | awk '{sum += $1} END {print sum}'; }
declare -A before polls_before
for scenario in "${scenarios[@]}"; do
  read -r name port _ <<<"$scenario"
  before[$name]=$(cpu_ns "${client_pid[$name]}")
  polls_before[$name]=$(curl -s "127.0.0.1:$port/sandbox/counters" | python3 -c 'import json,sys; print(json.load(sys.stdin)["requests"].get("/channel/poll2",0))')
done
sleep "$seconds"
printf '%-18s %12s %12s %10s\n' scenario cpu_ms "%_of_core" polls
for scenario in "${scenarios[@]}"; do
  read -r name port _ <<<"$scenario"
  after=$(cpu_ns "${client_pid[$name]}")
  polls=$(curl -s "127.0.0.1:$port/sandbox/counters" | python3 -c 'import json,sys; print(json.load(sys.stdin)["requests"].get("/channel/poll2",0))')
  ms=$(python3 -c "print(f'{($after - ${before[$name]}) / 1e6:.2f}')")
  pct=$(python3 -c "print(f'{($after - ${before[$name]}) / ($seconds * 1e9) * 100:.4f}')")
  printf '%-18s %12s %12s %10s\n' "$name" "$ms" "$pct" "$(( polls - polls_before[$name] ))"
done
