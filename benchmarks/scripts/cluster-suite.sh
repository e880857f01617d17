#!/usr/bin/env bash
# The cross-node rows of docs/benchmarks.md: publishers on node A, subscribers on node B, through a
# local Redis; and the same load against one node without Redis, for comparison. Redis and both
# nodes (one event loop each) share CPU 0, loadgen runs on CPU 1, all on loopback. Prints loadgen's
# JSON line for each run. Takes about three minutes; every run is bounded by its --duration.
#
#   benchmarks/scripts/cluster-suite.sh
#   ONLY=100x1 benchmarks/scripts/cluster-suite.sh     # just the runs whose names match
#   HISTORY_SIZE=1000 benchmarks/scripts/cluster-suite.sh   # with history (issue 18) on every node
#
# Needs the jars (mvn -q -B package -DskipTests), taskset (util-linux), and redis-server on PATH or
# the embedded-redis jar in ~/.m2 (the server module's tests download it).
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
redis_port=${REDIS_PORT:-6399}
a=${PORT_A:-3597}
b=${PORT_B:-3598}
solo=${PORT_SOLO:-3596}
log=/tmp/cluster-suite

redis=$(command -v redis-server || true)
if [ -z "$redis" ]; then
  jar=$(find ~/.m2/repository/com/github/codemonstur/embedded-redis -name 'embedded-redis-*.jar' | sort | tail -1)
  [ -n "$jar" ] || { echo "no redis-server on PATH and no embedded-redis jar in ~/.m2" >&2; exit 1; }
  unzip -o -q -j "$jar" redis-server-6.2.6-v5-linux-amd64 -d "$log-bin"
  redis="$log-bin/redis-server-6.2.6-v5-linux-amd64"
  chmod +x "$redis"
fi

pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true' EXIT
taskset -c 0 "$redis" --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no >"$log-redis.log" 2>&1 &
pids+=($!)
node() { # port, extra options...
  local port=$1
  shift
  taskset -c 0 java -jar "$top/server/target/switchboard.jar" --app-host 127.0.0.1 --app-port "$port" \
    --io-threads 1 --max-message-rate 0 --line-port 0 --history-size "${HISTORY_SIZE:-0}" "$@" >"$log-$port.log" 2>&1 &
  pids+=($!)
}
node "$a" --redis-endpoint "127.0.0.1:$redis_port"
node "$b" --redis-endpoint "127.0.0.1:$redis_port"
node "$solo"
for port in "$a" "$b" "$solo"; do
  for _ in $(seq 100); do curl -fs "127.0.0.1:$port/health" >/dev/null && break; sleep 0.2; done
done

run() { # name, subscriber port, publisher port, loadgen options...
  local name=$1 sub=$2 pub=$3
  shift 3
  [[ $name =~ ${ONLY:-.} ]] || return 0
  printf '%-30s ' "$name"
  taskset -c 1 java -jar "$top/benchmarks/target/loadgen.jar" --url "ws://127.0.0.1:$sub/api/connect" \
    --publish-url "ws://127.0.0.1:$pub/api/connect" --channel-prefix "$name" --json "$@" | tail -1 || true
}

# Fixed rates only: across nodes nothing slows a publisher down when the other node's subscribers
# fall behind (its ok comes from its own node), so a max-rate run measures overload, not throughput.
run one-node-rate-100k-1x1000     "$solo" "$solo" --subscribers 1000 --channels 1 --publishers 1 --rate 100 --duration 15 --warmup 3
run cross-node-rate-100k-1x1000   "$b" "$a"       --subscribers 1000 --channels 1 --publishers 1 --rate 100 --duration 15 --warmup 3
run one-node-rate-300k-1x1000     "$solo" "$solo" --subscribers 1000 --channels 1 --publishers 1 --rate 300 --duration 15 --warmup 3
run cross-node-rate-300k-1x1000   "$b" "$a"       --subscribers 1000 --channels 1 --publishers 1 --rate 300 --duration 15 --warmup 3
run one-node-rate-20k-100x10      "$solo" "$solo" --subscribers 1000 --channels 100 --publishers 4 --rate 2000 --duration 15 --warmup 3
run cross-node-rate-20k-100x10    "$b" "$a"       --subscribers 1000 --channels 100 --publishers 4 --rate 2000 --duration 15 --warmup 3
run one-node-rate-5k-100x1        "$solo" "$solo" --subscribers 100 --channels 100 --publishers 4 --rate 5000 --duration 15 --warmup 3
run cross-node-rate-5k-100x1      "$b" "$a"       --subscribers 100 --channels 100 --publishers 4 --rate 5000 --duration 15 --warmup 3
run one-node-rate-10k-100x1       "$solo" "$solo" --subscribers 100 --channels 100 --publishers 4 --rate 10000 --duration 15 --warmup 3
run cross-node-rate-10k-100x1     "$b" "$a"       --subscribers 100 --channels 100 --publishers 4 --rate 10000 --duration 15 --warmup 3
