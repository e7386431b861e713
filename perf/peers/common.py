"""Shared pieces of the peer benchmarks: the event formula, the canonical result forms, the JSON line.

Event i (0 <= i < N):
    tenant       = "tenant%02d" % ((i * 7919) % 50)
    ts           = 1_700_000_000_000 + i            (epoch ms, event time, strictly increasing)
    responseTime = (i * 2654435761) % 1000          (0..999)
Windows: tumbling 1,000 s (1,000,000 ms) on ts, aligned to epoch multiples.

window job: per (window, tenant) count(*) and avg(responseTime); canonical form is the sorted lines
    "{windowStartMs},{tenant},{count},{avg:.6f}" joined with "\\n", reported as sha256 hex and line count.
filter job: events with responseTime > 500; canonical form {"rows": count, "sumResponseTime": sum}.
"""

import argparse
import hashlib
import json
import os
import sys
import time

BASE_TS = 1_700_000_000_000
TENANT_MULT = 7919
TENANTS = 50
RT_MULT = 2654435761
RT_MOD = 1000
WINDOW_MS = 1_000_000
FILTER_THRESHOLD = 500

HERE = os.path.dirname(os.path.abspath(__file__))
DATA_DIR = os.path.join(HERE, ".data")


def tenant_name(t):
    return "tenant%02d" % t


def event(i):
    """One event as (tenant, ts, responseTime), straight from the formula (used by the Python peers)."""
    return ("tenant%02d" % ((i * TENANT_MULT) % TENANTS), BASE_TS + i, (i * RT_MULT) % RT_MOD)


def window_start(ts_ms):
    return ts_ms - ts_ms % WINDOW_MS


def canonical_window(rows):
    """rows: iterable of (windowStartMs:int, tenant:str, count:int, avg:float) -> {"sha256", "rows"}."""
    lines = sorted("%d,%s,%d,%.6f" % (int(w), t, int(c), float(a)) for (w, t, c, a) in rows)
    text = "\n".join(lines)
    if os.environ.get("PEERS_DEBUG"):  # the lines themselves, to diff against reference.py --lines
        log(text)
    return {"sha256": hashlib.sha256(text.encode()).hexdigest(), "rows": len(lines)}


def canonical_filter(rows, sum_rt):
    return {"rows": int(rows), "sumResponseTime": int(sum_rt)}


def reference_path(n):
    return os.path.join(DATA_DIR, "reference-%d.json" % n)


def load_reference(n):
    """The reference for n events, computed (and cached under .data/) by reference.py."""
    p = reference_path(n)
    if not os.path.exists(p):
        import reference  # noqa: late import, numpy only needed here

        reference.compute_and_store(n)
    with open(p) as f:
        return json.load(f)


def parse_args(extra=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--events", type=int, default=20_000_000)
    ap.add_argument("--job", choices=["window", "filter"], required=True)
    if extra:
        extra(ap)
    return ap.parse_args()


def emit(peer, config, job, events, seconds, result, version, note="", **extra):
    """Print the one JSON line of a peer run, with the comparison against the reference."""
    ref = load_reference(events)[job]
    line = {
        "peer": peer,
        "config": config,
        "job": job,
        "events": events,
        "seconds": round(seconds, 3),
        "eventsPerSecond": round(events / seconds) if seconds > 0 else None,
        "result": result,
        "matchesReference": result == ref,
        "version": version,
        "note": note,
    }
    line.update(extra)
    print(json.dumps(line), flush=True)
    return line


def emit_error(peer, config, job, events, message, version=None):
    line = {"peer": peer, "config": config, "job": job, "events": events,
            "error": " ".join(str(message).split())[:500]}
    if version:
        line["version"] = version
    print(json.dumps(line), flush=True)


class Stopwatch:
    def __init__(self):
        self.t0 = time.perf_counter()

    def seconds(self):
        return time.perf_counter() - self.t0


def log(*a):
    print(*a, file=sys.stderr, flush=True)
