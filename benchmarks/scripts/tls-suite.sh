#!/usr/bin/env bash
# TLS side by side (issue 19): the node plain (ws://), over TLS with the JDK's provider and over TLS
# with OpenSSL (wss://, TLS_PROVIDER jdk and openssl), alternating, ROUNDS rounds (default 3), each
# scenario on a fresh node pinned to CPU 0 with one event loop, loadgen pinned to CPU 1, on loopback.
# Scenarios: the fan-out at max rate (1 channel x SUBSCRIBERS, default 1,000: one encode, then one
# encryption per subscriber), and 2,000 publishes/s over 100 channels x 10 (latency). Prints one
# line per run: round, mode, scenario, loadgen's JSON. About ROUNDS x 1.5 minutes with the default
# DURATION (10 s) and WARMUP (3 s).
#
#   mvn -q -B package -DskipTests && benchmarks/scripts/tls-suite.sh
#
# Makes a throwaway certificate (EC P-256, for 127.0.0.1) with the openssl command under
# benchmarks/target/tls/ on first use; loadgen trusts it with --ca-file. Needs taskset (util-linux)
# and openssl. A provider that cannot load makes the node exit 2: the script stops.
set -euo pipefail
rounds=${ROUNDS:-3}
duration=${DURATION:-10}
warmup=${WARMUP:-3}
subscribers=${SUBSCRIBERS:-1000}
port=${PORT:-3598}
top=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=side-by-side.sh
. "$top/benchmarks/scripts/side-by-side.sh"

tls="$top/benchmarks/target/tls"
if [ ! -s "$tls/node.crt" ] || [ ! -s "$tls/node.key" ]; then
  mkdir -p "$tls"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 30 -subj /CN=127.0.0.1 \
    -addext "subjectAltName=IP:127.0.0.1,DNS:localhost" -keyout "$tls/node.key" -out "$tls/node.crt" 2>/dev/null
fi

for round in $(seq "$rounds"); do
  for mode in plain tls-jdk tls-openssl; do
    if [ "$mode" = plain ]; then
      url="ws://127.0.0.1:$port/api/connect"
      trust=()
      start "$top/server/target/switchboard.jar"
    else
      url="wss://127.0.0.1:$port/api/connect"
      trust=(--ca-file "$tls/node.crt")
      start "$top/server/target/switchboard.jar" --tls-cert-file "$tls/node.crt" --tls-key-file "$tls/node.key" \
        --tls-provider "${mode#tls-}"
    fi
    run "round=$round mode=$mode fan-out" "${trust[@]}" --channel-prefix "fo$round$mode" \
      --subscribers "$subscribers" --channels 1 --publishers 1 --window 256 --duration "$duration" --warmup "$warmup"
    run "round=$round mode=$mode latency-2k" "${trust[@]}" --channel-prefix "lt$round$mode" \
      --subscribers "$subscribers" --channels 100 --publishers 4 --rate 2000 --duration "$duration" --warmup "$warmup"
    stop
  done
done
