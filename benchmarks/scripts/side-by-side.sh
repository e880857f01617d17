# Sourced by the side-by-side scripts (ab-suite.sh, transport-suite.sh): a node pinned to CPU 0 with
# one event loop, loadgen pinned to CPU 1, on loopback; one node at a time. Expects $top (the
# repository) and $port; sets $server while a node runs, and stops it on exit.
url="ws://127.0.0.1:$port/api/connect"
log=$(mktemp)
server=
trap 'rm -f "$log"; [ -z "$server" ] || kill "$server" 2>/dev/null || true' EXIT

# start JAR [node options...]: starts a node and waits until it listens. SERVER_JAVA_OPTS (unset:
# none) go to the server's JVM only, e.g. "-Dio.netty.recycler.maxCapacityPerThread=4096".
start() {
  local jar=$1
  shift
  # shellcheck disable=SC2086 # SERVER_JAVA_OPTS is a list of JVM options
  taskset -c 0 java ${SERVER_JAVA_OPTS:-} -jar "$jar" --app-host 127.0.0.1 --app-port "$port" --line-port 0 --io-threads 1 \
    --max-message-rate 0 "$@" >"$log" 2>&1 &
  server=$!
  for _ in $(seq 100); do grep -q "listening on" "$log" && return; sleep 0.2; done
  echo "the node did not start ($jar $*): $(cat "$log")" >&2
  exit 1
}

stop() {
  kill "$server"
  wait "$server" 2>/dev/null || true
  server=
}

# run LABEL [loadgen options...]: prints the label and loadgen's JSON line.
run() {
  local label=$1
  shift
  printf '%s ' "$label"
  taskset -c 1 java -jar "$top/benchmarks/target/loadgen.jar" --url "$url" --json --no-progress "$@" | tail -1
}
