#!/usr/bin/env bash
# Batched frames (issue 17, PROTOCOL.md 1a) against unbatched Switchboard and nats-server 2.9 over
# WebSocket, side by side: for each round, each mode's server in turn (a fresh one per
# mode, pinned to CPU 0; Switchboard with one event loop; loadgen pinned to CPU 1), one run per
# shape of SHAPES (default "fan-out fan-in"; the max-rate ones keep a window of unanswered
# publishes per publisher: WINDOW, default 256, for the one fan-out publisher; FANIN_WINDOW,
# default 16, for each of the 100 fan-in ones, so what is in flight at the end, 1,600 publishes x
# 110 deliveries, drains before loadgen stops waiting):
#   fan-out:  1 publisher -> 1 channel -> 1,000 subscribers, max rate;
#   fan-in:   100 publishers -> 1 channel, 10 subscribers, max rate (loadgen --publishers 100
#             --channels 1; every publisher is a member of the channel, as minichats requires, so
#             the server delivers each publish to 110 connections; deliveries/s counts the 10
#             subscribers');
#   rate-2k:  2,000 publishes/s over 100 channels x 10 subscribers (4 publishers): latency;
#   rate-20k: 20,000 publishes/s over the same: latency under load.
# MODES (default "sb sb-batch nats"), in this order each round: sb (Switchboard as it ships:
# one message per frame, corked), sb-batch (loadgen --batch: ?batch=1), nats (loadgen --protocol
# nats against nats-server -c with a websocket block, no compression); also sb-uncorked (the node
# with --cork-frames false: one write per frame), prev (the jar PREV_JAR, as it ships: the build
# to compare against) and floor (the bare Netty WebSocket floor, BareWebSocketServer from
# benchmarks.jar, one event loop: the same writes, one per frame, without the rest of a server).
# ROUNDS rounds (default 3), alternating the modes; DURATION (default 10) and WARMUP (default 3)
# seconds per run; SIZE content bytes (default 40). Prints one line per run: round, mode, shape,
# loadgen's JSON (deliveries_per_s, server_cpu, missing, ...). A failed run is printed and the
# suite goes on. About ROUNDS x modes x shapes x (DURATION + WARMUP + 3) seconds.
#
#   mvn -q -B package -DskipTests && benchmarks/scripts/batch-suite.sh
#   PREV_JAR=/tmp/before/server/target/switchboard.jar MODES="prev sb sb-uncorked sb-batch floor nats" \
#     SHAPES="fan-out fan-in rate-2k rate-20k" benchmarks/scripts/batch-suite.sh   # docs/benchmarks.md's table
#   DURATION=2 WARMUP=1 ROUNDS=1 benchmarks/scripts/batch-suite.sh      # a smoke check
#
# Needs taskset (util-linux) and nats-server on PATH (Debian: apt-get install nats-server).
set -euo pipefail
rounds=${ROUNDS:-3}
duration=${DURATION:-10}
warmup=${WARMUP:-3}
size=${SIZE:-40}
window=${WINDOW:-256}
fanin_window=${FANIN_WINDOW:-16}
port=${PORT:-3599}
modes=${MODES:-sb sb-batch nats}
shape_list=${SHAPES:-fan-out fan-in}
nats_port=${NATS_PORT:-3598}
top=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=side-by-side.sh
. "$top/benchmarks/scripts/side-by-side.sh"
command -v nats-server >/dev/null || { echo "nats-server is not on PATH (apt-get install nats-server)" >&2; exit 1; }
nats_dir=$(mktemp -d)
trap 'rm -rf "$nats_dir" "$log"; [ -z "$server" ] || kill "$server" 2>/dev/null || true' EXIT

start_nats() {
  cat >"$nats_dir/nats.conf" <<CONF
listen: "127.0.0.1:-1"
websocket {
  listen: "127.0.0.1:$nats_port"
  no_tls: true
  compression: false
}
CONF
  taskset -c 0 nats-server -c "$nats_dir/nats.conf" >"$log" 2>&1 &
  server=$!
  for _ in $(seq 100); do grep -q "Server is ready" "$log" && return; sleep 0.2; done
  echo "nats-server did not start: $(cat "$log")" >&2
  exit 1
}

start_floor() {
  # shellcheck disable=SC2086 # SERVER_JAVA_OPTS (side-by-side.sh) is a list of JVM options
  taskset -c 0 java ${SERVER_JAVA_OPTS:-} -cp "$top/benchmarks/target/benchmarks.jar" io.switchboard.benchmarks.broadcast.BareWebSocketServer \
    "$port" 1 >"$log" 2>&1 &
  server=$!
  for _ in $(seq 100); do grep -q "listening on" "$log" && return; sleep 0.2; done
  echo "the floor did not start: $(cat "$log")" >&2
  exit 1
}

shapes() { # mode, loadgen options for the mode...
  local mode=$1 shape
  local -a opts
  shift
  for shape in $shape_list; do
    case $shape in
      fan-out) opts=(--subscribers 1000 --channels 1 --publishers 1 --window "$window") ;;
      fan-in) opts=(--subscribers 10 --channels 1 --publishers 100 --window "$fanin_window") ;;
      rate-2k) opts=(--subscribers 1000 --channels 100 --publishers 4 --rate 2000) ;;
      rate-20k) opts=(--subscribers 1000 --channels 100 --publishers 4 --rate 20000) ;;
      *) echo "unknown shape '$shape' (fan-out, fan-in, rate-2k, rate-20k)" >&2; exit 2 ;;
    esac
    run "round=$round mode=$mode $shape" --channel-prefix "b$round$mode$shape" "${opts[@]}" --size "$size" \
      --duration "$duration" --warmup "$warmup" --server-pid "$server" "$@" \
      || echo "(loadgen failed that run: its JSON above says why; the suite goes on)"
  done
}

for round in $(seq "$rounds"); do
  for mode in $modes; do
    case $mode in
      sb) start "$top/server/target/switchboard.jar"; shapes sb ;;
      sb-batch) start "$top/server/target/switchboard.jar"; shapes sb-batch --batch ;;
      sb-uncorked) start "$top/server/target/switchboard.jar" --cork-frames false; shapes sb-uncorked ;;
      prev) start "${PREV_JAR:?prev: set PREV_JAR to the jar to compare against}"; shapes prev ;;
      floor) start_floor; shapes floor ;;
      nats) start_nats; shapes nats --protocol nats --url "ws://127.0.0.1:$nats_port/" ;;
      *) echo "unknown mode '$mode' (sb, sb-batch, sb-uncorked, prev, floor, nats)" >&2; exit 2 ;;
    esac
    stop
  done
done
