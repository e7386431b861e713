#!/usr/bin/env python3
"""The seed's three tiers on loopback, binary against JSON/HTTP, in one run (issue 4).

Both runs have the same shape and the same stateful app as examples/seed-topology: one stateless node
(binary in from `sluice send`), two partitioner nodes reached round-robin, two stateful nodes reached by
the partitioned hash of userTenantDomain, running the per-tenant statistics. Only the links between the
tiers differ: `@sink(type='tcp', @map(type='binary'))` and `@source(type='tcp')`, or the seed's
`@sink(type='http', @map(type='json'))` and `@source(type='http', receiver.url=…)`. Each run sends
COUNT generated Request events and waits until the stateful tier has applied all of them; the figure is
COUNT / (time until then). Prints one line per run and the ratio.

Usage: perf/scripts/tiers.py [--count N] [--engine .build/release/sluice]
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tools"))
from testkit import REQUEST_SCHEMA, free_port, stop, write  # noqa: E402

STATS = open(os.path.join(ROOT, "examples", "seed-topology", "apps", "tenant-stats.siddhi")).read()


def apps(http, ports):
    """App text per node name: s1, p1, p2, a1, c1."""
    def source(node):
        if http:
            stream = "RequestIn" if node.startswith("p") else "Request"
            return "@source(type='http', receiver.url='http://127.0.0.1:%d/%s', @map(type='json'))" % (ports[node]["http"], stream)
        return "@source(type='tcp', @map(type='binary'))"

    def destination(node, stream):
        if http:
            return "@destination(publisher.url='http://127.0.0.1:%d/%s')" % (ports[node]["http"], stream)
        return "@destination(url='tcp://127.0.0.1:%d/%s')" % (ports[node]["listen"], stream)

    sink = "http" if http else "tcp"
    mapping = "json" if http else "binary"
    intake = f"""@app:name('Intake')
@source(type='tcp', @map(type='binary'))
define stream RequestIn ({REQUEST_SCHEMA});
@sink(type='{sink}', @map(type='{mapping}'),
      @distribution(strategy='roundRobin', {destination('p1', 'RequestIn')}, {destination('p2', 'RequestIn')}))
define stream Request ({REQUEST_SCHEMA});
from RequestIn[userTenantDomain != '' and responseTime >= 0] select * insert into Request;
"""
    partitioner = lambda node: f"""@app:name('Partitioner')
{source(node)}
define stream RequestIn ({REQUEST_SCHEMA});
@sink(type='{sink}', @map(type='{mapping}'),
      @distribution(strategy='partitioned', partitionKey='userTenantDomain', {destination('a1', 'Request')}, {destination('c1', 'Request')}))
define stream Request ({REQUEST_SCHEMA});
from RequestIn select * insert into Request;
"""
    stats = lambda node: STATS.replace("@source(type='tcp', @map(type='binary'))", source(node))
    return {"s1": intake, "p1": partitioner("p1"), "p2": partitioner("p2"), "a1": stats("a1"), "c1": stats("c1")}


def status(admin):
    with urllib.request.urlopen("http://127.0.0.1:%d/status" % admin, timeout=2) as r:
        return json.load(r)


def run(engine, http, count, work):
    ports = {n: {"listen": free_port(), "admin": free_port(), "http": free_port()} for n in ["s1", "p1", "p2", "a1", "c1"]}
    texts = apps(http, ports)
    procs = []
    try:
        # Downstream first, so each sink finds its destinations listening.
        for node in ["a1", "c1", "p1", "p2", "s1"]:
            path = os.path.join(work, "http" if http else "binary", node + ".siddhi")
            write(path, texts[node])
            log = open(path.replace(".siddhi", ".log"), "w")
            procs.append(subprocess.Popen([engine, "node", "--app", path, "--id", node,
                                           "--listen", "127.0.0.1:%d" % ports[node]["listen"],
                                           "--admin", "127.0.0.1:%d" % ports[node]["admin"]],
                                          stdout=log, stderr=log))
            deadline = time.time() + 30
            while True:
                try:
                    status(ports[node]["admin"])
                    break
                except OSError:
                    if time.time() > deadline:
                        raise SystemExit("%s did not start; see %s" % (node, log.name))
                    time.sleep(0.1)
        start = time.time()
        sent = subprocess.run([engine, "send", "--to", "127.0.0.1:%d" % ports["s1"]["listen"], "--stream", "RequestIn",
                               "--generate", "request", "--count", str(count)], capture_output=True, text=True)
        if sent.returncode != 0:
            raise SystemExit("send failed: " + sent.stderr[-500:])
        deadline = time.time() + 600
        while True:
            applied = sum(status(ports[n]["admin"])["eventsIn"] for n in ["a1", "c1"])
            if applied >= count:
                break
            if time.time() > deadline:
                raise SystemExit("the stateful tier applied only %d of %d events" % (applied, count))
            time.sleep(0.05)
        seconds = time.time() - start
        split = [status(ports[n]["admin"])["eventsIn"] for n in ["a1", "c1"]]
        return count / seconds, seconds, split
    finally:
        stop(procs)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--count", type=int, default=300_000)
    ap.add_argument("--engine", default=os.path.join(ROOT, ".build", "release", "sluice"))
    args = ap.parse_args()
    work = tempfile.mkdtemp(prefix="sluice-tiers-perf-")
    results = {}
    for http in (False, True):
        eps, seconds, split = run(args.engine, http, args.count, work)
        name = "json/http" if http else "binary"
        results[name] = eps
        print("%-9s %9.0f events/s end to end (%d events in %.2f s; stateful a1 %d, c1 %d)"
              % (name, eps, args.count, seconds, split[0], split[1]))
    print("ratio binary / json-http: %.1fx" % (results["binary"] / results["json/http"]))
    print("apps and logs in", work)


if __name__ == "__main__":
    main()
