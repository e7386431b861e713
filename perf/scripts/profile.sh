#!/usr/bin/env bash
# Instruction-level profile of each workload with callgrind (counts instructions, so it is
# repeatable on a shared machine). Usage: scripts/profile.sh [OUTDIR]   (default /tmp/sluice-callgrind)
# Needs valgrind. Only the steady-state rounds (measuredRounds) are collected.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-/tmp/sluice-callgrind}
mkdir -p "$out"
swift build -c release --product ProfileRuntime
bin=.build/release/ProfileRuntime
# workload, measured iterations, warm-up iterations (externalTimeBatch: 12 rounds include one flush)
for spec in "filter 20 2" "externalTimeBatch 10 2" "groupBy1000 5 2" "timeWindow 2 1" "lengthBatch 3 2"; do
    set -- $spec
    valgrind --tool=callgrind --callgrind-out-file="$out/$1.out" --toggle-collect='*measuredRounds*' \
        "$bin" "$@" > "$out/$1.log" 2>&1
    echo "=== $1 ($2 measured iterations of 102,400 events)"
    python3 scripts/hotspots.py "$out/$1.out" 15
done
