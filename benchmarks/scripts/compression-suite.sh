#!/usr/bin/env bash
# permessage-deflate off and on side by side (issue 19): the fan-out, 1 channel x 1,000 subscribers,
# 1 publisher, at max rate (a window of WINDOW, default 64, unanswered publishes) and at RATE
# publishes/s (default 50: 50,000 deliveries/s, which both modes keep up with, loadgen's inflating
# included, so the node's CPU compares at equal work), on a fresh node per mode (COMPRESSION false, then true), alternating,
# ROUNDS rounds (default 3). With compression on, every subscriber offers permessage-deflate and
# inflates what it gets (loadgen --compression), so each publish is compressed once by the node and
# the same compressed frame goes to all 1,000. SIZE (default 1024) is the content's bytes: over
# COMPRESSION_MIN_BYTES (256), so every delivery is compressed. loadgen samples the node's CPU
# (--server-pid): the JSON's server_cpu. Prints one line per run: round, compression, loadgen's JSON.
# A failed run (missing deliveries, say) is printed and the suite goes on.
# About ROUNDS x 60 s with the default DURATION (10 s).
#
#   mvn -q -B package -DskipTests && benchmarks/scripts/compression-suite.sh
#
# Needs taskset (util-linux). The node is pinned to CPU 0 with one event loop, loadgen to CPU 1.
set -euo pipefail
rounds=${ROUNDS:-3}
duration=${DURATION:-10}
warmup=${WARMUP:-3}
size=${SIZE:-1024}
window=${WINDOW:-64}
rate=${RATE:-50}
port=${PORT:-3599}
top=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=side-by-side.sh
. "$top/benchmarks/scripts/side-by-side.sh"

for round in $(seq "$rounds"); do
  for compression in false true; do
    start "$top/server/target/switchboard.jar" --compression "$compression"
    flag=()
    [ "$compression" = true ] && flag=(--compression)
    run "round=$round compression=$compression fan-out" --channel-prefix "cz$round$compression" \
      --subscribers 1000 --channels 1 --publishers 1 --window "$window" --size "$size" \
      --duration "$duration" --warmup "$warmup" --server-pid "$server" "${flag[@]}" \
      || echo "(loadgen failed that run: its JSON above says why; the suite goes on)"
    # The same fan-out at a fixed rate both modes keep up with: the node's CPU at equal work.
    run "round=$round compression=$compression fixed-rate" --channel-prefix "cr$round$compression" \
      --subscribers 1000 --channels 1 --publishers 1 --rate "$rate" --size "$size" \
      --duration "$duration" --warmup "$warmup" --server-pid "$server" "${flag[@]}" \
      || echo "(loadgen failed that run: its JSON above says why; the suite goes on)"
    stop
  done
done
