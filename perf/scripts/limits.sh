#!/usr/bin/env bash
# What this machine allows, for reading Sluice's figures beside it (issue 6): memcpy bandwidth and
# single-core LZ4 on the very batch bytes perf/loadgen-c sends (perf/loadgen-c/limits), and loopback
# TCP bandwidth (iperf3, installed from Debian when missing). Prints one JSON object.
#
#   perf/scripts/limits.sh [SECONDS]
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
seconds=${1:-2}
command -v iperf3 >/dev/null || { apt-get update -qq && apt-get install -y -qq iperf3 >/dev/null; }
make -s -C "$root/perf/loadgen-c" limits >&2
local_limits=$("$root/perf/loadgen-c/limits" --seconds "$seconds")
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
iperf3 -s -1 -B 127.0.0.1 -p "$port" >/dev/null 2>&1 &
server=$!
sleep 0.3
tcp=$(iperf3 -c 127.0.0.1 -p "$port" -t "$seconds" -J | python3 -c 'import json,sys; print(json.load(sys.stdin)["end"]["sum_received"]["bits_per_second"] / 8e9)')
wait "$server" 2>/dev/null || true
python3 - "$local_limits" "$tcp" <<'PY'
import json, sys
limits = json.loads(sys.argv[1])
limits["loopbackTcpGBps"] = round(float(sys.argv[2]), 2)
print(json.dumps(limits))
PY
