#!/usr/bin/env python3
"""Pathway running the peer jobs.

Input: pw.io.python.read with a ConnectorSubject whose run() generates the events of common.py and
hands them to Pathway one row at a time (self.next), committing every --batch rows (10,000 by
default), so the engine takes them in minibatches; the run ends when the subject has sent them all.

window: windowby(ts, tumbling(duration=1,000,000, origin=0), instance=tenant) with count and
avg(responseTime), Pathway's default temporal behavior: a window's result is updated (retracted
and re-inserted) as its rows come, so its last value is final; --behavior exactly_once emits each
window once, after event time passed its end (or at the end of input), and ran ~2.5x slower here.
The result reaches Python through pw.io.subscribe, which keeps the latest row per (window, tenant).
The input's max_backlog_size (--backlog, 100,000) keeps the generator thread from running ahead of
the engine (unbounded, it queued most of the input in memory).
filter: filter(responseTime > 500).select(tenant, ts, responseTime) into pw.io.subscribe, whose
on_change counts the rows and sums responseTime (every row reaches the callback).

    python pathway_peer.py --job window --events 2000000
"""

import os

import common as c


def main():
    def extra(ap):
        ap.add_argument("--batch", type=int, default=10_000, help="rows per commit of the input")
        ap.add_argument("--behavior", choices=["default", "exactly_once", "cutoff"],
                        default="default",
                        help="default: windows emit updated results as rows come (final values at "
                             "the end); exactly_once: each window once, when closed (about 2.5x "
                             "slower here, and holds more memory); cutoff: common_behavior(cutoff=0)")
        ap.add_argument("--threads", type=int, default=1)
        ap.add_argument("--backlog", type=int, default=100_000,
                        help="max_backlog_size of the input (0: unbounded)")

    a = c.parse_args(extra)
    config = "threads=%d,batch=%d" % (a.threads, a.batch)
    if a.job == "window":
        config += ",behavior=%s" % a.behavior
    os.environ.setdefault("PATHWAY_THREADS", str(a.threads))
    try:
        import pathway as pw

        version = pw.__version__
    except Exception as e:  # noqa
        c.emit_error("pathway", config, a.job, a.events, "import pathway: %s" % e)
        return

    n_events = a.events
    batch = a.batch
    tm, tn, base, rtm, rtmod = c.TENANT_MULT, c.TENANTS, c.BASE_TS, c.RT_MULT, c.RT_MOD
    names = [c.tenant_name(t) for t in range(tn)]

    class Events(pw.Schema):
        tenant: str
        ts: int
        responseTime: int

    class EventSubject(pw.io.python.ConnectorSubject):
        def run(self):
            nxt = self.next
            for lo in range(0, n_events, batch):
                for i in range(lo, min(n_events, lo + batch)):
                    nxt(tenant=names[(i * tm) % tn], ts=base + i, responseTime=(i * rtm) % rtmod)
                self.commit()

    try:
        events = pw.io.python.read(EventSubject(), schema=Events, autocommit_duration_ms=None,
                                    max_backlog_size=a.backlog or None)
        if a.job == "window":
            behavior = {"exactly_once": pw.temporal.exactly_once_behavior(),
                        "cutoff": pw.temporal.common_behavior(cutoff=0),
                        "default": None}[a.behavior]
            win = events.windowby(events.ts, window=pw.temporal.tumbling(duration=c.WINDOW_MS, origin=0),
                                  instance=events.tenant, behavior=behavior)
            out = win.reduce(start=pw.this._pw_window_start, tenant=pw.this._pw_instance,
                             cnt=pw.reducers.count(), avg_rt=pw.reducers.avg(pw.this.responseTime))
            latest = {}

            def on_change(key, row, time, is_addition):
                k = (row["start"], row["tenant"])
                if is_addition:
                    latest[k] = (row["cnt"], row["avg_rt"])
                elif latest.get(k) == (row["cnt"], row["avg_rt"]):
                    del latest[k]

            pw.io.subscribe(out, on_change=on_change)
            sw = c.Stopwatch()
            pw.run(monitoring_level=pw.MonitoringLevel.NONE)
            seconds = sw.seconds()
            result = c.canonical_window([(w, t, n, avg) for (w, t), (n, avg) in latest.items()])
            note = ("Pathway: pw.io.python subject (per-row next, commit per batch), windowby "
                    "tumbling 1,000,000 on ts, instance tenant, count/avg, %s behavior, results via "
                    "pw.io.subscribe; seconds = pw.run, generation included" % a.behavior)
        else:
            totals = [0, 0, 0]

            def on_change(key, row, time, is_addition):
                if is_addition:
                    totals[0] += 1
                    totals[1] += row["responseTime"]
                else:
                    totals[2] += 1

            kept = events.filter(events.responseTime > c.FILTER_THRESHOLD) \
                .select(pw.this.tenant, pw.this.ts, pw.this.responseTime)
            pw.io.subscribe(kept, on_change=on_change)
            sw = c.Stopwatch()
            pw.run(monitoring_level=pw.MonitoringLevel.NONE)
            seconds = sw.seconds()
            result = c.canonical_filter(totals[0], totals[1])
            if totals[2]:
                result["retractions"] = totals[2]
            note = ("Pathway: pw.io.python subject (per-row next, commit per batch), filter + select "
                    "into pw.io.subscribe counting rows and summing responseTime in on_change; "
                    "seconds = pw.run, generation included")
        c.emit("pathway", config, a.job, a.events, seconds, result, version, note=note)
    except Exception as e:  # noqa
        c.emit_error("pathway", config, a.job, a.events, "%s: %s" % (type(e).__name__, e), version)


if __name__ == "__main__":
    main()
