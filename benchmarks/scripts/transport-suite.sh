#!/usr/bin/env bash
# The node on each transport side by side: NIO, epoll and io_uring, alternating, ROUNDS rounds
# (default 3), each scenario on a fresh node pinned to CPU 0 with one event loop, loadgen pinned to
# CPU 1, on loopback. Scenarios: the fan-out at max rate (1 channel x 1,000 subscribers), a
# publish-heavy run at max rate (100 publishers over 100 channels, 100 subscribers) and 2,000
# publishes/s over 100 channels x 10 subscribers (latency). Prints one line per run: round,
# transport, scenario, loadgen's JSON. About ROUNDS x 2.5 minutes with the default DURATION (10 s).
#
#   mvn -q -B package -DskipTests && benchmarks/scripts/transport-suite.sh
#
# Needs taskset (util-linux). A transport that cannot load here makes the node exit 2: the script stops.
set -euo pipefail
rounds=${ROUNDS:-3}
duration=${DURATION:-10}
port=${PORT:-3599}
top=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=side-by-side.sh
. "$top/benchmarks/scripts/side-by-side.sh"

for round in $(seq "$rounds"); do
  for t in nio epoll io_uring; do
    start "$top/server/target/switchboard.jar" --transport "$t"
    run "round=$round transport=$t fan-out" --channel-prefix "fo$round$t" \
      --subscribers 1000 --channels 1 --publishers 1 --window 256 --duration "$duration" --warmup 3
    run "round=$round transport=$t publish-heavy" --channel-prefix "ph$round$t" \
      --subscribers 100 --channels 100 --publishers 100 --window 64 --duration "$duration" --warmup 3
    run "round=$round transport=$t latency-2k" --channel-prefix "lt$round$t" \
      --subscribers 1000 --channels 100 --publishers 4 --rate 2000 --duration "$duration" --warmup 3
    stop
  done
done
