#!/usr/bin/env bash
# The loadgen rows of docs/benchmarks.md: a node pinned to CPU 0 with one event loop ("the server
# on one core"), loadgen pinned to CPU 1, on loopback. Prints loadgen's JSON line for each run.
# Takes about three minutes; every run is bounded by its --duration.
#
#   benchmarks/scripts/loadgen-suite.sh
#
# Needs the jars (mvn -q -B package -DskipTests) and taskset (util-linux).
set -euo pipefail
port=${PORT:-3599}
top=$(cd "$(dirname "$0")/../.." && pwd)
url="ws://127.0.0.1:$port/api/connect"

taskset -c 0 java -jar "$top/server/target/switchboard.jar" --app-host 127.0.0.1 --app-port "$port" \
  --io-threads 1 --max-message-rate 0 >/tmp/loadgen-suite-server.log 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
for _ in $(seq 50); do grep -q "listening on" /tmp/loadgen-suite-server.log && break; sleep 0.2; done

run() { # name, loadgen options...
  local name=$1
  shift
  printf '%-34s ' "$name"
  taskset -c 1 java -jar "$top/benchmarks/target/loadgen.jar" --url "$url" --channel-prefix "$name" --json "$@" \
    | tail -1
}

run max-1x1000            --subscribers 1000 --channels 1 --publishers 1 --window 256 --duration 20 --warmup 5
run rate-10k-1x1000       --subscribers 1000 --channels 1 --publishers 1 --rate 10 --duration 20 --warmup 5
run rate-50k-1x1000       --subscribers 1000 --channels 1 --publishers 1 --rate 50 --duration 20 --warmup 5
run rate-100k-1x1000      --subscribers 1000 --channels 1 --publishers 1 --rate 100 --duration 20 --warmup 5
run rate-20k-100x10       --subscribers 1000 --channels 100 --publishers 4 --rate 2000 --duration 20 --warmup 5
