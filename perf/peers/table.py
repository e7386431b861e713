#!/usr/bin/env python3
"""Prints the peers' JSON lines as a table; with Sluice's lines among them (peer "sluice", from
perf/Sources/PeerJob, or given with --sluice FILE) also Sluice's rate over each peer's, and whether
the peer's result equals Sluice's.

    python table.py perf/results/peers-latest.jsonl [--sluice sluice.jsonl] [--events N]

Sluice's window result carries the canonical text itself ("canonical"); it is hashed here into the
same {"sha256", "rows"} form as the peers' results.
"""

import argparse
import hashlib
import json
import sys

import common as c


def normalise(line):
    """Sluice's window result {"rows", "canonical": text} -> {"sha256", "rows"}; others unchanged."""
    r = line.get("result")
    if isinstance(r, dict) and "canonical" in r:
        text = r["canonical"]
        line = dict(line)
        line["result"] = {"sha256": hashlib.sha256(text.encode()).hexdigest(),
                          "rows": len(text.split("\n")) if text else 0}
    if "matchesReference" not in line and "result" in line and line.get("events"):
        try:
            line["matchesReference"] = line["result"] == c.load_reference(line["events"])[line["job"]]
        except Exception:  # noqa: no reference to hand
            pass
    return line


def read_lines(path):
    out = []
    with (sys.stdin if path == "-" else open(path)) as f:
        for raw in f:
            raw = raw.strip()
            if raw.startswith("{"):
                try:
                    out.append(normalise(json.loads(raw)))
                except ValueError:
                    pass
    return out


def fmt_rate(r):
    return "%.3f" % (r / 1e6) if r else "-"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("files", nargs="+")
    ap.add_argument("--sluice", help="JSON lines of Sluice's PeerJob to compare with")
    ap.add_argument("--events", type=int, help="only lines of this N")
    a = ap.parse_args()
    lines = [ln for p in a.files for ln in read_lines(p)]
    if a.sluice:
        lines += read_lines(a.sluice)
    if a.events:
        lines = [ln for ln in lines if ln.get("events") == a.events]
    sluice = {}
    for ln in lines:
        if ln.get("peer") == "sluice" and "error" not in ln:
            sluice[(ln["job"], ln["events"])] = ln  # the last one of a job and N counts
    head = ["peer", "config", "job", "events", "seconds", "M ev/s", "matches ref"]
    if sluice:
        head += ["sluice/peer", "= sluice"]
    rows = []
    for ln in lines:
        if "error" in ln:
            rows.append([ln.get("peer", "?"), ln.get("config", ""), ln.get("job", ""),
                         str(ln.get("events", "")), "-", "-", "ERROR: " + ln["error"][:60]])
            continue
        row = [ln["peer"], ln.get("config", ""), ln["job"], str(ln["events"]),
               "%.2f" % ln["seconds"], fmt_rate(ln.get("eventsPerSecond")),
               {True: "yes", False: "NO"}.get(ln.get("matchesReference"), "?")]
        s = sluice.get((ln["job"], ln["events"]))
        if s:
            if ln["peer"] == "sluice":
                row += ["1", "-"]
            else:
                ratio = s["eventsPerSecond"] / ln["eventsPerSecond"] if ln.get("eventsPerSecond") else None
                row += ["%.1fx" % ratio if ratio else "-",
                        "yes" if ln.get("result") == s.get("result") else "NO"]
        elif sluice:
            row += ["-", "-"]
        rows.append(row)
    widths = [max(len(str(r[i])) for r in rows + [head] if i < len(r)) for i in range(len(head))]
    print("  ".join(h.ljust(w) for h, w in zip(head, widths)))
    print("  ".join("-" * w for w in widths))
    for r in rows:
        print("  ".join(str(v).ljust(w) for v, w in zip(r, widths)).rstrip())


if __name__ == "__main__":
    main()
