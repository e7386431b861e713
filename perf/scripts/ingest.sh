#!/usr/bin/env bash
# One node over loopback, a pass-through query, seed-style Request events (17 attributes):
# binary batches from `sluice send` against the same node's JSON/HTTP source (wrk posting
# 1,024-event arrays in Siddhi's {"event":{…}} form), in one run. Prints both rates and the ratio.
# Usage: perf/scripts/ingest.sh [COUNT]   (default 2,000,000 events per binary run, 3 runs)
set -euo pipefail
cd "$(dirname "$0")/../.."
count=${1:-2000000}
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk; }
swift build -c release --product sluice >/dev/null 2>&1
bin=.build/release/sluice
work=$(mktemp -d /tmp/sluice-ingest-XXXX)
schema="meta_clientType string, applicationConsumerKey string, applicationName string, applicationId string,
    applicationOwner string, apiContext string, apiName string, apiVersion string, apiCreator string, apiTier string,
    apiHostname string, username string, userTenantDomain string, requestTimestamp long, throttledOut bool,
    responseTime long, backendTime long"
cat > "$work/app.siddhi" <<APP
@source(type='tcp', @map(type='binary'))
@source(type='http', receiver.url='http://127.0.0.1:18009/Request', @map(type='json'))
define stream Request ($schema);
from Request select * insert into Out;
APP
# 1,024 generated events as one JSON array body, the same generator `sluice send` uses.
"$bin" generate request --count 1024 > "$work/events.jsonl"
python3 - "$work" <<'PY'
import json, sys
work = sys.argv[1]
names = ["meta_clientType", "applicationConsumerKey", "applicationName", "applicationId", "applicationOwner",
         "apiContext", "apiName", "apiVersion", "apiCreator", "apiTier", "apiHostname", "username",
         "userTenantDomain", "requestTimestamp", "throttledOut", "responseTime", "backendTime"]
events = [json.loads(l)["data"] for l in open(work + "/events.jsonl") if l.strip()]
body = [{"event": dict(zip(names, e))} for e in events]
open(work + "/body.json", "w").write(json.dumps(body, separators=(",", ":")))
open(work + "/post.lua", "w").write('wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\n'
    'local f = io.open("%s/body.json", "rb")\nwrk.body = f:read("*all")\nf:close()\n' % work)
PY
"$bin" node --app "$work/app.siddhi" --listen 127.0.0.1:17801 > "$work/node.log" 2>&1 &
node=$!
trap 'kill $node 2>/dev/null || true' EXIT
for _ in $(seq 50); do (exec 3<>/dev/tcp/127.0.0.1/17801) 2>/dev/null && break; sleep 0.1; done
binary=()
for run in 1 2 3; do
    line=$("$bin" send --to 127.0.0.1:17801 --stream Request --generate request --count "$count" | tail -1)
    echo "binary run $run: $line"
    binary+=("$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["eventsPerSecond"])' "$line")")
done
wrk_out=$(wrk -t1 -c4 -d8s -s "$work/post.lua" http://127.0.0.1:18009/Request)
echo "$wrk_out" | sed 's/^/wrk: /'
rps=$(echo "$wrk_out" | awk '/Requests\/sec/ {print $2}')
bytes=$(wc -c < "$work/body.json")
python3 - "$rps" "$bytes" "${binary[@]}" <<'PY'
import sys
rps, body = float(sys.argv[1]), int(sys.argv[2])
binary = sorted(float(x) for x in sys.argv[3:])
json_eps = rps * 1024
median = binary[len(binary) // 2]
print("binary: %.2f M events/s (median of %s)" % (median / 1e6, ", ".join("%.2f" % (b / 1e6) for b in binary)))
print("json/http: %.0f K events/s (%.1f requests/s of 1,024 events, %d bytes/event)" % (json_eps / 1e3, rps, body // 1024))
print("ratio binary / json-http: %.1fx" % (median / json_eps))
PY
