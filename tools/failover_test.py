#!/usr/bin/env python3
"""Stateless-tier failover: a producer sends to two nodes; one is killed with SIGKILL mid-run.

Checks that the producer's every event is acknowledged, and that every acknowledged event reached
a subscriber of one of the nodes (the killed node's outputs up to the kill, the survivor's after):
no acknowledged event is lost. Duplicates (batches applied on the killed node whose ack was lost,
then resent) are reported; exactly-once across failover comes with the HA groups.
Ends with `failover: N passed, M failed`.
"""
import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from testkit import free_port  # noqa: E402

# Each event carries a unique id, so the check is exact.
APP = """
@source(type='tcp', @map(type='binary'))
define stream Request (id long, tenant string, responseTime long);

from Request select id, tenant insert into Seen;
"""
SCHEMA = "id long, tenant string, responseTime long"



def wait_listening(port, timeout=20):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return True
        except OSError:
            time.sleep(0.1)
    return False


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--engine", required=True)
    ap.add_argument("--count", type=int, default=200_000)
    ap.add_argument("--rate", type=int, default=80_000)
    ap.add_argument("--kill-after", type=float, default=1.0)
    args = ap.parse_args()
    work = tempfile.mkdtemp(prefix="sluice-failover-")
    app = os.path.join(work, "app.siddhi")
    with open(app, "w") as fh:
        fh.write(APP)
    ports = [free_port(), free_port()]
    procs = []
    failures = []
    try:
        nodes = [subprocess.Popen([args.engine, "node", "--app", app, "--listen", "127.0.0.1:%d" % p, "--id", "n%d" % i,
                                   "--credit", "8"], stdout=subprocess.DEVNULL,
                                  stderr=open(os.path.join(work, "node%d.log" % i), "w"))
                 for i, p in enumerate(ports)]
        procs += nodes
        for p in ports:
            if not wait_listening(p):
                print("FAIL node on port %d did not start" % p)
                print("failover: 0 passed, 1 failed")
                return 1
        outs = [os.path.join(work, "seen%d.jsonl" % i) for i in range(2)]
        # Subscribers stop on their own (stdout is flushed at exit), well after the producer is done.
        sub_timeout = args.kill_after + args.count / args.rate + 6
        subs = [subprocess.Popen([args.engine, "subscribe", "--to", "127.0.0.1:%d" % p, "--stream", "Seen",
                                  "--credit", "100000", "--timeout", str(sub_timeout)],
                                 stdout=open(outs[i], "w"), stderr=subprocess.DEVNULL)
                for i, p in enumerate(ports)]
        procs += subs
        time.sleep(0.5)
        events = os.path.join(work, "events.jsonl")
        with open(events, "w") as fh:
            for i in range(args.count):
                fh.write('{"stream":"Request","timestamp":%d,"data":[%d,"tenant%02d.com",%d]}\n'
                         % (1_700_000_000_000 + i, i, (i * 7919) % 50, (i * 2654435761) % 1000))
        sender = subprocess.Popen([args.engine, "send", "--to", ",".join("127.0.0.1:%d" % p for p in ports),
                                   "--stream", "Request", "--events", events, "--schema", SCHEMA,
                                   "--rate", str(args.rate), "--batch", "500", "--in-flight", "16"],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        procs.append(sender)
        time.sleep(args.kill_after)
        nodes[0].send_signal(signal.SIGKILL)
        out, err = sender.communicate(timeout=180)
        result = None
        for line in out.splitlines():
            if line.startswith("{"):
                result = json.loads(line)
        if result is None:
            failures.append("sluice send printed no result (exit %d): %s" % (sender.returncode, err.strip()[-300:]))
        else:
            print("send:", json.dumps(result))
            if result.get("acked") != args.count or result.get("sent") != args.count:
                failures.append("not every event was acknowledged: %s" % result)
        for s in subs:
            try:
                s.wait(timeout=sub_timeout + 10)
            except subprocess.TimeoutExpired:
                s.kill()
        seen = []
        for path in outs:
            with open(path) as fh:
                for line in fh:
                    line = line.strip()
                    if line.startswith("{"):
                        seen.append(json.loads(line)["data"][0])
        unique = set(seen)
        print("outputs: %d rows, %d distinct events, %d duplicates (node 0 killed after %.1f s)"
              % (len(seen), len(unique), len(seen) - len(unique), args.kill_after))
        missing = set(range(args.count)) - unique
        if missing:
            failures.append("%d acknowledged events never reached a subscriber (e.g. id %d)" % (len(missing), min(missing)))
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
    for f in failures:
        print("FAIL", f)
    print("failover: %d passed, %d failed" % (0 if failures else 1, 1 if failures else 0))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
