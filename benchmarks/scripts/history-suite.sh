#!/usr/bin/env bash
# What history costs on the fan-out path (issue 18), side by side: the previous jar, this jar with
# history off (HISTORY_SIZE=0: the path must not change), and this jar with history on
# (HISTORY_SIZE=1000: one append per publish, every delivery handed to the loops in a task). The
# fan-out at max rate (1 channel x 1,000 subscribers) and 20k deliveries/s over 100 channels x 10,
# alternating, ROUNDS rounds (default 3). Each node pinned to CPU 0 with one event loop, loadgen to
# CPU 1, on loopback; a fresh node for every run. Prints one line per run: round, mode, scenario,
# loadgen's JSON. Takes about ROUNDS x 2.5 minutes.
#
#   git worktree add /tmp/before <commit> && (cd /tmp/before && mvn -q -B package -DskipTests)
#   mvn -q -B package -DskipTests
#   benchmarks/scripts/history-suite.sh /tmp/before/server/target/switchboard.jar
#
# Needs taskset (util-linux).
set -euo pipefail
[ $# -eq 1 ] || { echo "usage: $0 PREVIOUS.jar" >&2; exit 2; }
previous=$1
rounds=${ROUNDS:-3}
port=${PORT:-3599}
top=$(cd "$(dirname "$0")/../.." && pwd)
this="$top/server/target/switchboard.jar"
# shellcheck source=side-by-side.sh
. "$top/benchmarks/scripts/side-by-side.sh"

for round in $(seq "$rounds"); do
  for mode in previous off on; do
    case $mode in
      previous) start "$previous" ;;
      off) start "$this" ;;
      on) start "$this" --history-size 1000 ;;
    esac
    run "round=$round mode=$mode max-1x1000" --channel-prefix "m$round$mode" \
      --subscribers 1000 --channels 1 --publishers 1 --window 256 --duration 15 --warmup 5
    run "round=$round mode=$mode rate-20k-100x10" --channel-prefix "r$round$mode" \
      --subscribers 1000 --channels 100 --publishers 4 --rate 2000 --duration 15 --warmup 5
    stop
  done
done
