#!/usr/bin/env bash
# Runs the peers' job (perf/peers/README.md) in Flink, Spark, bytewax and pathway, checks every result
# against reference.py, appends one JSON line per run to the out file and prints a table.
#
#   perf/peers/run.sh [--events N] [--out FILE.jsonl] [--only flink,spark,bytewax,pathway,sluice]
#                     [--timeout SECONDS] [--pathway-events N] [--flink-sources datagen,sequence]
#
# --events          events per job (20,000,000; 1,000,000 for a quick run)
# --out             JSON lines are appended here (perf/results/peers-latest.jsonl)
# --only            peers to run (all of them); `sluice` runs Sluice's PeerJob if it is already built
#                   ($SLUICE_PEERJOB or perf/.build/release/PeerJob; this script never builds it), so
#                   that the table shows Sluice's rate over each peer's
# --timeout         per job, in seconds (900); a job past it is killed and recorded as an error line
# --pathway-events  N for pathway alone (--events); pathway runs ~0.1-0.2 M events/s
# --flink-sources   Flink's generators (datagen,sequence): the SQL datagen connector, NumberSequenceSource
#
# The virtual environment perf/peers/.venv is made on first use and re-made when requirements.txt or
# constraints.txt change (a stamp file); Java 17 is the system `java`. Logs: perf/peers/.data/logs/.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
EVENTS=20000000
OUT="$ROOT/perf/results/peers-latest.jsonl"
ONLY="flink,spark,bytewax,pathway,sluice"
TIMEOUT=900
PATHWAY_EVENTS=""
FLINK_SOURCES="datagen,sequence"

while [ $# -gt 0 ]; do
    case "$1" in
        --events) EVENTS="$2"; shift 2 ;;
        --out) OUT="$2"; shift 2 ;;
        --only) ONLY="$2"; shift 2 ;;
        --timeout) TIMEOUT="$2"; shift 2 ;;
        --pathway-events) PATHWAY_EVENTS="$2"; shift 2 ;;
        --flink-sources) FLINK_SOURCES="$2"; shift 2 ;;
        -h|--help) sed -n '2,21p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "run.sh: unknown option $1" >&2; exit 2 ;;
    esac
done
PATHWAY_EVENTS="${PATHWAY_EVENTS:-$EVENTS}"
case "$OUT" in /*) ;; *) OUT="$PWD/$OUT" ;; esac
wants() { case ",$ONLY," in *",$1,"*) return 0 ;; *) return 1 ;; esac; }

# --- the virtual environment -------------------------------------------------------------------
VENV="$HERE/.venv"
PY="$VENV/bin/python"
STAMP_FILE="$VENV/.peers-stamp"
STAMP="$(cat "$HERE/requirements.txt" "$HERE/constraints.txt" | sha256sum | cut -d' ' -f1) $(python3 --version 2>&1)"
if [ ! -x "$PY" ] || [ "$(cat "$STAMP_FILE" 2>/dev/null)" != "$STAMP" ]; then
    echo "== installing the peers into $VENV (takes a minute or two, ~2.5 GB)"
    t0=$(date +%s)
    rm -rf "$VENV"
    python3 -m venv "$VENV"
    "$PY" -m pip install -q --disable-pip-version-check -r "$HERE/requirements.txt"
    echo "$STAMP" > "$STAMP_FILE"
    echo "== installed in $(( $(date +%s) - t0 )) s, $(du -sh "$VENV" | cut -f1)"
fi
if wants flink || wants spark; then
    java -version 2>&1 | head -1 | sed 's/^/== java: /' || { echo "run.sh: no java on PATH (Flink and Spark need Java 17)" >&2; }
fi

mkdir -p "$HERE/.data/logs" "$(dirname "$OUT")"
RUN_LINES="$(mktemp)"
trap 'rm -f "$RUN_LINES"' EXIT
cd "$HERE"

echo "== reference, $EVENTS events: $("$PY" reference.py --events "$EVENTS")"
if [ "$PATHWAY_EVENTS" != "$EVENTS" ] && wants pathway; then
    echo "== reference, $PATHWAY_EVENTS events: $("$PY" reference.py --events "$PATHWAY_EVENTS")"
fi

# run_job NAME PEER CONFIG JOB N COMMAND...: runs one job under the timeout (the whole process group,
# JVMs included, is killed past it) and records its JSON line, or an error line.
run_job() {
    local name="$1" peer="$2" config="$3" job="$4" n="$5"; shift 5
    local log="$HERE/.data/logs/$name.log" out line rc load
    out="$(mktemp)"
    load="$(cut -d' ' -f1 /proc/loadavg)"
    printf '%-34s ' "$name" >&2
    set +e
    timeout --kill-after=30 "$TIMEOUT" "$@" > "$out" 2> "$log"
    rc=$?
    set -e
    line="$(grep '^{' "$out" | tail -n 1 || true)"
    cat "$out" >> "$log"
    rm -f "$out"
    if [ -z "$line" ]; then
        local why="exited with status $rc, no JSON line (log: perf/peers/.data/logs/$name.log)"
        [ "$rc" = 124 ] || [ "$rc" = 137 ] && why="timed out after $TIMEOUT s"
        line="$(PEER="$peer" CONFIG="$config" JOB="$job" N="$n" WHY="$why" "$PY" -c '
import json, os
print(json.dumps({"peer": os.environ["PEER"], "config": os.environ["CONFIG"], "job": os.environ["JOB"],
                  "events": int(os.environ["N"]), "error": os.environ["WHY"]}))')"
    fi
    # When and under what load (1-minute load average before the job) it ran; Sluice's canonical
    # window text becomes the {sha256, rows} form and gets its matchesReference (table.normalise).
    line="$(LINE="$line" LOAD="$load" "$PY" -c '
import json, os, time
import table
d = table.normalise(json.loads(os.environ["LINE"]))
d["ranAt"] = time.strftime("%Y-%m-%dT%H:%M:%S%z")
d["loadAvg1Before"] = float(os.environ["LOAD"])
print(json.dumps(d))')"
    echo "$line" >> "$RUN_LINES"
    echo "$line" >> "$OUT"
    "$PY" -c '
import json, sys
d = json.loads(sys.argv[1])
if "error" in d:
    print("ERROR " + d["error"])
else:
    print("%8.2f s %9.3f M ev/s  match=%s" % (d["seconds"], (d.get("eventsPerSecond") or 0) / 1e6,
                                          d.get("matchesReference")))' "$line" >&2
}

for job in window filter; do
    if wants sluice; then
        PEERJOB="${SLUICE_PEERJOB:-$ROOT/perf/.build/release/PeerJob}"
        if [ -x "$PEERJOB" ]; then
            run_job "sluice-$job" sluice "embedded" "$job" "$EVENTS" "$PEERJOB" --events "$EVENTS" --job "$job"
        else
            echo "(sluice: no PeerJob at $PEERJOB; build it with swift build -c release --product PeerJob in perf/)" >&2
        fi
    fi
    if wants flink; then
        for src in ${FLINK_SOURCES//,/ }; do
            for p in 1 2; do
                run_job "flink-$src-p$p-$job" flink "parallelism=$p,source=$src" "$job" "$EVENTS" \
                    "$PY" flink_peer.py --job "$job" --events "$EVENTS" --parallelism "$p" --source "$src"
            done
        done
    fi
    if wants spark; then
        for mb in 1000000 0; do
            label="$mb"; [ "$mb" = 0 ] && label=all
            run_job "spark-mb$label-$job" spark "local[2],microBatch=$label" "$job" "$EVENTS" \
                "$PY" spark_peer.py --job "$job" --events "$EVENTS" --batch-events "$mb"
        done
    fi
    if wants bytewax; then
        run_job "bytewax-$job" bytewax "workers=1,batch=10000" "$job" "$EVENTS" \
            "$PY" bytewax_peer.py --job "$job" --events "$EVENTS"
    fi
    if wants pathway; then
        config="threads=1,batch=10000"; [ "$job" = window ] && config="$config,behavior=default"
        run_job "pathway-$job" pathway "$config" "$job" "$PATHWAY_EVENTS" \
            "$PY" pathway_peer.py --job "$job" --events "$PATHWAY_EVENTS"
    fi
done

echo
echo "== $(grep -c . "$RUN_LINES") runs appended to $OUT"
"$PY" table.py "$RUN_LINES"
