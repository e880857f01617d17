#!/usr/bin/env bash
# Two builds of the node side by side: the fan-out at max rate (1 channel x 1,000 subscribers) and
# 20k deliveries/s over 100 channels x 10, against jar A then jar B, alternating, ROUNDS rounds
# (default 3). Each node runs pinned to CPU 0 with one event loop, loadgen pinned to CPU 1, on
# loopback; a fresh node for every run. Prints one line per run: round, jar, scenario, loadgen's
# JSON. Takes about ROUNDS x 1.5 minutes.
#
#   git worktree add /tmp/before <commit> && (cd /tmp/before && mvn -q -B package -DskipTests)
#   mvn -q -B package -DskipTests
#   benchmarks/scripts/ab-suite.sh /tmp/before/server/target/switchboard.jar server/target/switchboard.jar
#
# Needs taskset (util-linux).
set -euo pipefail
[ $# -eq 2 ] || { echo "usage: $0 A.jar B.jar" >&2; exit 2; }
jars=("$1" "$2")
rounds=${ROUNDS:-3}
port=${PORT:-3599}
top=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=side-by-side.sh
. "$top/benchmarks/scripts/side-by-side.sh"

for round in $(seq "$rounds"); do
  for i in 0 1; do
    name=$([ "$i" -eq 0 ] && echo A || echo B)
    start "${jars[$i]}"
    run "round=$round jar=$name max-1x1000" --channel-prefix "m$round$name" \
      --subscribers 1000 --channels 1 --publishers 1 --window 256 --duration 15 --warmup 5
    run "round=$round jar=$name rate-20k-100x10" --channel-prefix "r$round$name" \
      --subscribers 1000 --channels 100 --publishers 4 --rate 2000 --duration 15 --warmup 5
    stop
  done
done
