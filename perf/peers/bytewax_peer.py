#!/usr/bin/env python3
"""bytewax (one worker) running the peer jobs.

Input: a bytewax FixedPartitionedSource with one partition that generates the events of common.py
in batches (--batch, 10,000 by default): numpy computes a batch's columns, which become a list of
(tenant, ts, responseTime) tuples, and bytewax takes the whole list in one next_batch call. Batching
the input is how bytewax sources work (Kafka and file sources hand over batches too); every operator
after it still runs per item in Python.

window: key_on(tenant) -> fold_window with EventClock(ts, wait 0 s) and TumblingWindower(1000 s,
aligned to the epoch), the accumulator (count, sum); windows close on the watermark and at the end
of input. ordered=False: the items are folded in arrival order rather than re-sorted by timestamp
(they already are in order, and count/sum do not depend on the order); to_system_utc returns None,
since the event times are in 2023 and the windows close on items and EOF, not on the wall clock.
now_getter is a constant: bytewax's EventClock otherwise moves the watermark on with the system
time elapsed since the latest item, which turns items late (and drops them) whenever a batch takes
longer than the event-time gap between two items of one tenant (50 ms here); with a constant the
watermark is the largest event time seen, as in the other engines.
filter: op.filter(responseTime > 500) into a sink whose write_batch counts the rows and sums
responseTime (every row reaches the sink).

    python bytewax_peer.py --job window --events 1000000
"""

from datetime import datetime, timedelta, timezone

import common as c

EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def main():
    def extra(ap):
        ap.add_argument("--batch", type=int, default=10_000, help="events per input batch")

    a = c.parse_args(extra)
    config = "workers=1,batch=%d" % a.batch
    try:
        from importlib.metadata import version as pkg_version

        import bytewax.operators as op
        import numpy as np
        from bytewax.dataflow import Dataflow
        from bytewax.inputs import FixedPartitionedSource, StatefulSourcePartition
        from bytewax.operators.windowing import EventClock, TumblingWindower, fold_window
        from bytewax.outputs import DynamicSink, StatelessSinkPartition
        from bytewax.testing import run_main

        version = pkg_version("bytewax")
    except Exception as e:  # noqa
        c.emit_error("bytewax", config, a.job, a.events, "import bytewax: %s" % e)
        return

    names = np.array([c.tenant_name(t) for t in range(c.TENANTS)], dtype=object)
    n_events = a.events
    batch = a.batch

    class EventPartition(StatefulSourcePartition):
        def __init__(self, start):
            self.next_i = start

        def next_batch(self):
            lo = self.next_i
            if lo >= n_events:
                raise StopIteration()
            hi = min(n_events, lo + batch)
            self.next_i = hi
            i = np.arange(lo, hi, dtype=np.int64)
            return list(zip(names[(i * c.TENANT_MULT) % c.TENANTS].tolist(),
                            (c.BASE_TS + i).tolist(),
                            ((i * c.RT_MULT) % c.RT_MOD).tolist()))

        def snapshot(self):
            return self.next_i

    class EventSource(FixedPartitionedSource):
        def list_parts(self):
            return ["events"]

        def build_part(self, step_id, for_part, resume_state):
            return EventPartition(resume_state or 0)

    class CallbackPartition(StatelessSinkPartition):
        def __init__(self, fn):
            self.fn = fn

        def write_batch(self, items):
            self.fn(items)

    class CallbackSink(DynamicSink):
        def __init__(self, fn):
            self.fn = fn

        def build(self, step_id, worker_index, worker_count):
            return CallbackPartition(self.fn)

    try:
        flow = Dataflow("sluice_peer_" + a.job)
        events = op.input("events", flow, EventSource())
        if a.job == "window":
            out = []
            keyed = op.key_on("by_tenant", events, lambda e: e[0])
            clock = EventClock(ts_getter=lambda e: EPOCH + timedelta(milliseconds=e[1]),
                               wait_for_system_duration=timedelta(0),
                               now_getter=lambda: EPOCH,
                               to_system_utc=lambda _t: None)
            windower = TumblingWindower(length=timedelta(milliseconds=c.WINDOW_MS), align_to=EPOCH)
            win = fold_window("tumble", keyed, clock, windower,
                              builder=lambda: (0, 0),
                              folder=lambda acc, e: (acc[0] + 1, acc[1] + e[2]),
                              merger=lambda x, y: (x[0] + y[0], x[1] + y[1]),
                              ordered=False)
            op.output("out", win.down, CallbackSink(out.extend))
            late = []
            op.output("late", win.late, CallbackSink(late.extend))
            sw = c.Stopwatch()
            run_main(flow)
            seconds = sw.seconds()
            # window id k is the window starting k * length after the epoch.
            rows = [(wid * c.WINDOW_MS, tenant, cnt, s / cnt) for tenant, (wid, (cnt, s)) in out]
            result = c.canonical_window(rows)
            fields = {"lateItems": len(late)}
            note = ("bytewax dataflow, one worker (run_main): generator source in batches, key_on "
                    "tenant, fold_window (EventClock, TumblingWindower 1000 s, ordered=False) "
                    "keeping (count, sum); seconds = run_main, generation included")
        else:
            totals = [0, 0]
            fields = {}

            def count(items):
                totals[0] += len(items)
                totals[1] += sum(e[2] for e in items)

            kept = op.filter("filter", events, lambda e: e[2] > c.FILTER_THRESHOLD)
            op.output("out", kept, CallbackSink(count))
            sw = c.Stopwatch()
            run_main(flow)
            seconds = sw.seconds()
            result = c.canonical_filter(*totals)
            note = ("bytewax dataflow, one worker (run_main): generator source in batches, op.filter "
                    "into a sink counting rows and summing responseTime per written batch; "
                    "seconds = run_main, generation included")
        c.emit("bytewax", config, a.job, a.events, seconds, result, version, note=note, **fields)
    except Exception as e:  # noqa
        c.emit_error("bytewax", config, a.job, a.events, "%s: %s" % (type(e).__name__, e), version)


if __name__ == "__main__":
    main()
