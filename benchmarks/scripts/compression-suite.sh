#!/usr/bin/env bash
# permessage-deflate off and on side by side (issue 19): the fan-out at max rate, 1 channel x 1,000
# subscribers, 1 publisher, on a fresh node each time (COMPRESSION false, then true), alternating,
# ROUNDS rounds (default 3). With compression on, every subscriber offers permessage-deflate and
# inflates what it gets (loadgen --compression), so each publish is compressed once by the node and
# the same compressed frame goes to all 1,000. SIZE (default 1024) is the content's bytes: over
# COMPRESSION_MIN_BYTES (256), so every delivery is compressed. loadgen samples the node's CPU
# (--server-pid): the JSON's server_cpu. Prints one line per run: round, compression, loadgen's JSON.
# A failed run (missing deliveries, say) is printed and the suite goes on.
# About ROUNDS x 30 s with the default DURATION (10 s).
#
#   mvn -q -B package -DskipTests && benchmarks/scripts/compression-suite.sh
#
# Needs taskset (util-linux). The node is pinned to CPU 0 with one event loop, loadgen to CPU 1.
set -euo pipefail
rounds=${ROUNDS:-3}
duration=${DURATION:-10}
warmup=${WARMUP:-3}
size=${SIZE:-1024}
window=${WINDOW:-256}
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
    stop
  done
done
