#!/usr/bin/env python3
"""Identity through stateless queries: one producer batch retried through another stateless node
forwards outputs with the same identity, so the node behind applies it once.

Two stateless nodes s1 and s2 (a filter, a round-robin tcp sink to the partitioners p1 and p2), two
partitioners (a projection, a tcp sink to the receiver r). The same producer (same producer id, same
generated batches) sends all its batches to s1, then all of them again to s2, as a producer does
when s1 dies before acknowledging. Both paths derive the same identities hop by hop, whichever
partitioner each batch goes through, and r applies every event once: its subscriber must see each
request id exactly once.

    python3 tools/identity_test.py --engine .build/debug/sluice
"""
import argparse
import collections
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from testkit import Checks, REQUEST_SCHEMA_IDS, free_port, status, stop, write  # noqa: E402


MARKER = 999_999_999



def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--engine", required=True)
    ap.add_argument("--count", type=int, default=20_000)
    args = ap.parse_args()
    engine = os.path.abspath(args.engine)
    work = tempfile.mkdtemp(prefix="sluice-identity-")
    t = Checks()
    ports = {n: (free_port(), free_port()) for n in ("r", "p1", "p2", "s1", "s2")}
    listen = lambda n: "127.0.0.1:%d" % ports[n][0]
    apps = {
        "r": f"""@app:name('Receiver')
define stream Request ({REQUEST_SCHEMA_IDS});
from Request select requestId, userTenantDomain as tenant insert into Processed;
""",
        "p": f"""@app:name('Partitioner')
define stream RequestIn ({REQUEST_SCHEMA_IDS});
@sink(type='tcp', url='tcp://{listen("r")}/Request', @map(type='binary'))
define stream Request ({REQUEST_SCHEMA_IDS});
from RequestIn select * insert into Request;
""",
        "s": f"""@app:name('Intake')
define stream Request ({REQUEST_SCHEMA_IDS});
@sink(type='tcp', @map(type='binary'),
      @distribution(strategy='roundRobin', @destination(url='tcp://{listen("p1")}/RequestIn'),
                    @destination(url='tcp://{listen("p2")}/RequestIn')))
define stream ValidRequest ({REQUEST_SCHEMA_IDS});
from Request[responseTime >= 0] select * insert into ValidRequest;
""",
    }
    processes = []
    try:
        for node in ("r", "p1", "p2", "s1", "s2"):
            app = os.path.join(work, node + ".siddhi")
            write(app, apps[node[0]])
            log = open(os.path.join(work, node + ".log"), "w")
            processes.append(subprocess.Popen([engine, "node", "--app", app, "--id", node, "--listen", listen(node),
                                               "--admin", "127.0.0.1:%d" % ports[node][1]], stdout=log, stderr=log))
            deadline = time.time() + 30
            while status(ports[node][1]) is None:
                if time.time() > deadline:
                    raise SystemExit("%s did not start; see %s" % (node, log.name))
                time.sleep(0.05)
        out = os.path.join(work, "processed.jsonl")
        processes.append(subprocess.Popen([engine, "subscribe", "--to", listen("r"), "--stream", "Processed",
                                           "--credit", "1024", "--timeout", "120"], stdout=open(out, "w"),
                                          stderr=open(out + ".err", "w")))
        deadline = time.time() + 20
        while not (status(ports["r"][1]) or {}).get("subscriptions", {}).get("Processed"):
            if time.time() > deadline:
                raise SystemExit("the subscriber never attached")
            time.sleep(0.05)
        # One unrelated batch first moves s2's round robin one step, so that each retried batch goes
        # to the other partitioner than its first copy did: the identities must then match across nodes.
        marker = os.path.join(work, "marker.jsonl")
        write(marker, json.dumps({"stream": "Request", "timestamp": 1, "data": ["web", "k", "app", "a1", "o", "/c", "Api", "1",
                                                                                   "c", "Gold", "h", "u", "tenant00.com", 1,
                                                                                   False, 5, 4, MARKER]}) + "\n")
        sent = subprocess.run([engine, "send", "--to", listen("s2"), "--stream", "Request", "--events", marker,
                               "--schema", REQUEST_SCHEMA_IDS, "--producer-id", "78"], capture_output=True, text=True, timeout=60)
        t.check(sent.returncode == 0, "an unrelated batch goes through s2 first", sent.stderr[-500:])
        for node in ("s1", "s2"):
            sent = subprocess.run([engine, "send", "--to", listen(node), "--stream", "Request", "--generate", "request", "--ids",
                                   "--producer-id", "77", "--count", str(args.count), "--batch", "500"],
                                  capture_output=True, text=True, timeout=300)
            t.check(sent.returncode == 0, "the producer's batches are acknowledged by %s" % node, sent.stderr[-500:])
        # Both copies have passed once the partitioners applied them all; then r has what it will get.
        deadline = time.time() + 60
        while time.time() < deadline:
            through = sum((status(ports[p][1]) or {}).get("eventsIn", 0) for p in ("p1", "p2"))
            if through >= 2 * args.count + 1:
                break
            time.sleep(0.1)
        time.sleep(1.0)
        through = {p: (status(ports[p][1]) or {}).get("eventsIn", 0) for p in ("p1", "p2")}
        t.check(sum(through.values()) == 2 * args.count + 1 and all(through.values()),
                "both copies went through the partitioners, each batch's copies through different ones", through)
        seen = collections.Counter()
        for line in open(out):
            if line.endswith("\n"):
                seen[json.loads(line)["data"][0]] += 1
        duplicated = sum(1 for c in seen.values() if c > 1)
        t.check(set(seen) == set(range(1, args.count + 1)) | {MARKER},
                "the receiver got every request id", "%d distinct of %d" % (len(seen), args.count + 1))
        t.check(duplicated == 0, "the retried copy was recognised at every hop: no id twice", "%d duplicated" % duplicated)
        applied = (status(ports["r"][1]) or {}).get("eventsIn")
        t.check(applied == args.count + 1, "the receiver applied each event once", applied)
    finally:
        stop(processes)
    print("identity: %d passed, %d failed" % (t.passed, len(t.failures)))
    sys.exit(1 if t.failures else 0)


if __name__ == "__main__":
    main()
