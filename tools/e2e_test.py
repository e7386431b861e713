#!/usr/bin/env python3
"""Cross-process end to end: `sluice send` (the SDK) → `sluice node` running the seed-node app
(per-tenant lengthBatch statistics) → `sluice subscribe`. The subscriber must receive exactly what
`sluice run` computes from the same events in one process, tenant by tenant in the same order. (The
node's batches reach the partition whole, so across tenants one batch's outputs follow the order in
which the tenants first appear in it, where `sluice run`, one event per chunk, follows each event's
position; see the README's "What runs today".) Ends with `e2e: N passed, M failed`.
"""
import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from testkit import REQUEST_SCHEMA, free_port  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
APP = os.path.join(HERE, "..", "examples", "seed-node", "app.siddhi")
SCHEMA = REQUEST_SCHEMA
APIS = [("PizzaShackAPI", "/pizzashack/1.0.0"), ("WeatherAPI", "/weather/2.1.0"), ("PaymentsAPI", "/payments/v3")]



def write_events(path, count):
    with open(path, "w") as fh:
        for i in range(count):
            tenant = (i * 7919) % 50
            app = (i * 31) % 200
            api = APIS[(i * 7) % len(APIS)]
            ts = 1_700_000_000_000 + i
            rt = (i * 2654435761) % 1000
            data = ["web" if i % 3 else "mobile", "%032x" % (app * 0x9E3779B97F4A7C15 % (1 << 128)), "App-%d" % app,
                    "app-%08d" % app, "owner%d@tenant%02d.com" % (app % 40, tenant), api[1], api[0], "1.0.0", "admin",
                    "Gold", "gw-%d.example.com" % (i % 4), "user%d@tenant%02d.com" % ((i * 17) % 5000, tenant),
                    "tenant%02d.com" % tenant, ts, i % 97 == 0, rt, rt // 2]
            fh.write(json.dumps({"stream": "Request", "timestamp": ts, "data": data}, separators=(",", ":")) + "\n")


def rows(text):
    out = []
    for line in text.splitlines():
        if line.startswith("{"):
            obj = json.loads(line)
            if obj.get("stream") == "TenantStats":
                out.append(obj["data"])
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--engine", required=True)
    ap.add_argument("--count", type=int, default=100_000)
    ap.add_argument("--timeout", type=int, default=300, help="seconds the subscriber waits for its outputs")
    args = ap.parse_args()
    work = tempfile.mkdtemp(prefix="sluice-e2e-")
    events = os.path.join(work, "events.jsonl")
    write_events(events, args.count)
    expected = rows(subprocess.run([args.engine, "run", APP, "--events", events], capture_output=True, text=True,
                                   check=True).stdout)
    port = free_port()
    node = subprocess.Popen([args.engine, "node", "--app", APP, "--listen", "127.0.0.1:%d" % port],
                            stdout=subprocess.DEVNULL, stderr=open(os.path.join(work, "node.log"), "w"))
    failures = []
    try:
        deadline = time.time() + 20
        while time.time() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                time.sleep(0.1)
        # The subscriber writes to a file, not a pipe: nobody reads a pipe while `send` runs, and a
        # full pipe would stall the subscriber until the node drops it as too slow.
        sub_out = open(os.path.join(work, "subscriber.jsonl"), "w+")
        sub_err = open(os.path.join(work, "subscriber.log"), "w")
        sub = subprocess.Popen([args.engine, "subscribe", "--to", "127.0.0.1:%d" % port, "--stream", "TenantStats",
                                "--count", str(len(expected)), "--timeout", str(args.timeout), "--credit", "4096"],
                               stdout=sub_out, stderr=sub_err, text=True)
        time.sleep(0.5)
        sent = subprocess.run([args.engine, "send", "--to", "127.0.0.1:%d" % port, "--stream", "Request",
                               "--events", events, "--schema", SCHEMA], capture_output=True, text=True)
        print("send:", sent.stdout.strip().splitlines()[-1] if sent.stdout.strip() else sent.stderr.strip()[-300:])
        sub.wait(timeout=args.timeout + 30)
        sub_out.seek(0)
        got = rows(sub_out.read())
        print("outputs: expected %d, received %d" % (len(expected), len(got)))
        if sent.returncode != 0:
            failures.append("sluice send failed")
        def per_tenant(rows):
            out = {}
            for r in rows:
                out.setdefault(r[0], []).append(r)
            return out
        want, have = per_tenant(expected), per_tenant(got)
        for tenant in sorted(set(want) | set(have)):
            a, b = want.get(tenant, []), have.get(tenant, [])
            if a != b:
                first = next((i for i, (x, y) in enumerate(zip(a, b)) if x != y), min(len(a), len(b)))
                failures.append("tenant %s: the subscriber's outputs differ from `sluice run` at its row %d" % (tenant, first))
    finally:
        node.terminate()
        node.wait(timeout=10)
    for f in failures:
        print("FAIL", f)
    print("e2e: %d passed, %d failed" % (0 if failures else 1, 1 if failures else 0))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
