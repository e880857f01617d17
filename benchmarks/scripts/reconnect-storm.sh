#!/usr/bin/env bash
# The reconnect-storm rows of docs/benchmarks.md (issue 18): subscribers drop their connections at
# random or all at once while publishers go on, reconnect with recover, and loadgen counts per
# subscriber and publisher the gaps, duplicates and out-of-order deliveries across the reconnects,
# the recoveries that said recovered:false (and what they lost), and the recovery latency.
#
# One node with history, then two cluster nodes with history through a local Redis: publishers on
# node A, subscribers spread over B and A, each reconnect going to the other node; last, node B is
# killed with SIGKILL in the middle of a run and its subscribers recover on A. Redis and the nodes
# (one event loop each) share CPU 0, loadgen runs on CPU 1, all on loopback. Prints loadgen's
# summary of each run and writes its JSON result to /tmp/reconnect-storm-NAME.json. Takes about
# three minutes; every run is bounded by its --duration.
#
#   benchmarks/scripts/reconnect-storm.sh
#   ONLY=one-node benchmarks/scripts/reconnect-storm.sh     # just the runs whose names match
#
# Needs the jars (mvn -q -B package -DskipTests), taskset (util-linux), curl, and redis-server on
# PATH or the embedded-redis jar in ~/.m2 (the server module's tests download it).
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
redis_port=${REDIS_PORT:-6398}
a=${PORT_A:-3594}
b=${PORT_B:-3595}
solo=${PORT_SOLO:-3593}
history=${HISTORY_SIZE:-10000}
log=/tmp/reconnect-storm

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
    --io-threads 1 --max-message-rate 0 --line-port 0 --history-size "$history" "$@" >"$log-$port.log" 2>&1 &
  pids+=($!)
  echo $! >"$log-$port.pid"
}
node "$a" --redis-endpoint "127.0.0.1:$redis_port"
node "$b" --redis-endpoint "127.0.0.1:$redis_port"
node "$solo"
for port in "$a" "$b" "$solo"; do
  for _ in $(seq 100); do curl -fs "127.0.0.1:$port/health" >/dev/null && break; sleep 0.2; done
done

url() { echo "ws://127.0.0.1:$1/api/connect"; }

run() { # name, loadgen options...
  local name=$1
  shift
  [[ $name =~ ${ONLY:-.} ]] || return 0
  echo "== $name"
  taskset -c 1 java -jar "$top/benchmarks/target/loadgen.jar" --channel-prefix "$name" --no-progress \
    --out "$log-$name.json" "$@" | grep -E '^(deliveries|latency|errors|reconnects|after|recovery|warning)' || true
}

common=(--subscribers 1000 --channels 10 --publishers 2 --rate 1000 --duration 20 --warmup 3)
# One node: every recovery should say recovered:true.
run one-node-random  --url "$(url "$solo")" "${common[@]}" --drop-every 5s
run one-node-storm   --url "$(url "$solo")" "${common[@]}" --drop-all-every 5s
# Two nodes: subscribers start on B and A, each reconnect goes to the other node, publishers on A.
run two-nodes-random --url "$(url "$b"),$(url "$a")" --publish-url "$(url "$a")" "${common[@]}" --drop-every 5s
run two-nodes-storm  --url "$(url "$b"),$(url "$a")" --publish-url "$(url "$a")" "${common[@]}" --drop-all-every 5s
# Node B killed (SIGKILL) 10 s into the run: the connections of its subscribers end, each reconnects
# to the next --url, A, and recovers there. --recover: no drops of loadgen's own.
if [[ two-nodes-kill =~ ${ONLY:-.} ]]; then
  (sleep 10; kill -9 "$(cat "$log-$b.pid")") &
  killer=$!
  run two-nodes-kill --url "$(url "$b"),$(url "$a")" --publish-url "$(url "$a")" "${common[@]}" --recover
  wait "$killer" || true
fi
