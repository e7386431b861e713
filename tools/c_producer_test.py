#!/usr/bin/env python3
"""The C producer (perf/loadgen-c: protoc-c code from proto/, liblz4, the frame layout) against a real
node: every event it sends arrives at a subscriber exactly as the C code built it, with LZ4 frames
and without, in full batches and in odd ones. This is the check that the wire contract is proto/ plus
the frame header, not Swift internals.

    python3 tools/c_producer_test.py --engine .build/debug/sluice
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, ".."))
sys.path.insert(0, HERE)
from testkit import Checks, free_port, status, stop, write  # noqa: E402

APP = """@app:name('CProducerCheck')
define stream Load (id long, tenant string, value long);
from Load select id, tenant, value insert into Out;
"""


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--engine", required=True)
    ap.add_argument("--count", type=int, default=100_000)
    args = ap.parse_args()
    engine = os.path.abspath(args.engine)
    t = Checks()
    build = subprocess.run(["make", "-s", "-C", os.path.join(ROOT, "perf", "loadgen-c")], capture_output=True, text=True)
    t.check(build.returncode == 0, "the C producer builds from proto/ (protoc-c) and liblz4", build.stdout + build.stderr)
    if build.returncode != 0:
        sys.exit(1)
    loadgen = os.path.join(ROOT, "perf", "loadgen-c", "loadgen")
    work = tempfile.mkdtemp(prefix="sluice-c-producer-")
    write(os.path.join(work, "app.siddhi"), APP)
    port, admin = free_port(), free_port()
    processes = []
    try:
        log = open(os.path.join(work, "node.log"), "w")
        processes.append(subprocess.Popen([engine, "node", "--app", os.path.join(work, "app.siddhi"), "--listen",
                                           "127.0.0.1:%d" % port, "--admin", "127.0.0.1:%d" % admin], stdout=log, stderr=log))
        time.sleep(0.5)
        offset = 0
        for name, extra, count in [("lz4, batches of 1,024", ["--batch", "1024"], args.count),
                                   ("no lz4, batches of 7", ["--batch", "7", "--no-lz4"], 2_000)]:
            out = os.path.join(work, "out-%d.jsonl" % offset)
            subscriber = subprocess.Popen([engine, "subscribe", "--to", "127.0.0.1:%d" % port, "--stream", "Out",
                                           "--count", str(count), "--timeout", "60"],
                                          stdout=open(out, "w"), stderr=open(out + ".err", "w"))
            processes.append(subscriber)
            deadline = time.time() + 20
            while "Out" not in (status(admin) or {}).get("subscriptions", {}) and time.time() < deadline:
                time.sleep(0.05)
            run = subprocess.run([loadgen, "--to", "127.0.0.1:%d" % port, "--stream", "Load", "--count", str(count)] + extra,
                                 capture_output=True, text=True, timeout=120)
            result = json.loads(run.stdout.strip().splitlines()[-1]) if run.returncode == 0 and run.stdout.strip() else {}
            t.check(run.returncode == 0 and result.get("acked") == count, "%s: the node acknowledged all %d events" % (name, count),
                    run.stdout + run.stderr)
            subscriber.wait(timeout=60)
            rows = [json.loads(line) for line in open(out) if line.strip()]
            expected = [{"stream": "Out", "timestamp": 1_700_000_000_000 + i, "expired": False,
                         "data": [i, "tenant%02d.com" % (i % 50), i * 7 % 1000]} for i in range(1, count + 1)]
            t.check(rows == expected, "%s: the subscriber got every event exactly as the C code built it" % name,
                    "got %d rows; first difference: %s" % (len(rows), next(((a, b) for a, b in zip(rows, expected) if a != b), None)))
            offset += 1
    finally:
        stop(processes)
    print("c-producer: %d passed, %d failed" % (t.passed, len(t.failures)))
    sys.exit(1 if t.failures else 0)



if __name__ == "__main__":
    main()
