#!/usr/bin/env bash
# Memory per idle connection: starts a node, measures heap (after a full GC) and RSS, holds N idle
# connections open with loadgen (each subscribed to one of 100 channels, no traffic), measures
# again, and prints the difference per connection. Bounded: loadgen exits by itself.
#
#   benchmarks/scripts/idle-memory.sh 5000
#   benchmarks/scripts/idle-memory.sh 5000 --cork-frames true     # node options after the count
#
# Needs the jars: mvn -q -B package -DskipTests
set -euo pipefail
n=${1:?usage: idle-memory.sh CONNECTIONS [NODE OPTION VALUE]...}
shift
port=${PORT:-3599}
top=$(cd "$(dirname "$0")/../.." && pwd)
server_jar=$top/server/target/switchboard.jar
loadgen_jar=$top/benchmarks/target/loadgen.jar

java -jar "$server_jar" --app-host 127.0.0.1 --app-port "$port" --io-threads 2 "$@" >/tmp/idle-memory-server.log 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true; kill $loadgen 2>/dev/null || true' EXIT
loadgen=
for _ in $(seq 50); do grep -q "listening on" /tmp/idle-memory-server.log && break; sleep 0.2; done

measure() { # prints "heap_kib rss_kib"
  jcmd "$server" GC.run >/dev/null
  sleep 1
  local heap rss
  heap=$(jcmd "$server" GC.heap_info | grep -oE 'used [0-9]+K' | head -1 | grep -oE '[0-9]+')
  rss=$(grep VmRSS "/proc/$server/status" | grep -oE '[0-9]+')
  echo "$heap $rss"
}

read -r heap0 rss0 < <(measure)
hold=$(( 30 + n / 500 ))
java -jar "$loadgen_jar" --url "ws://127.0.0.1:$port/api/connect" --subscribers "$n" --channels 100 \
  --publishers 0 --warmup 0 --duration "$hold" >/tmp/idle-memory-loadgen.log 2>&1 &
loadgen=$!
# loadgen's progress line says "connections 5,000" once all are in.
all=$(echo "$n" | sed ':a;s/\B[0-9]\{3\}\>/,&/;ta')
for _ in $(seq 600); do grep -q "connections $all " /tmp/idle-memory-loadgen.log && break; sleep 0.5; done
grep -q "connections $all " /tmp/idle-memory-loadgen.log || { echo "loadgen did not connect $n"; cat /tmp/idle-memory-loadgen.log; exit 1; }
read -r heap1 rss1 < <(measure)
awk -v n="$n" -v h0="$heap0" -v h1="$heap1" -v r0="$rss0" -v r1="$rss1" 'BEGIN {
  printf "connections %d: heap %+d KiB (%.0f bytes/connection), RSS %+d KiB (%.0f bytes/connection)\n",
    n, h1 - h0, (h1 - h0) * 1024 / n, r1 - r0, (r1 - r0) * 1024 / n }'
