#!/usr/bin/env python3
"""The seed's three tiers on loopback in one run: binary against JSON/HTTP (issue 4), and binary with the
stateful tier as HA groups with sync replication against the same without replication (issue 5).

Both runs have the same shape and the same stateful app as examples/seed-topology: one stateless node
(binary in from `sluice send`), two partitioner nodes reached round-robin, two stateful nodes reached by
the partitioned hash of userTenantDomain, running the per-tenant statistics. Only the links between the
tiers differ: `@sink(type='tcp', @map(type='binary'))` and `@source(type='tcp')`, or the seed's
`@sink(type='http', @map(type='json'))` and `@source(type='http', receiver.url=…)`. Each run sends
COUNT generated Request events and waits until the stateful tier has applied all of them; the figure is
COUNT / (time until then). Prints one line per run and the ratio.

With --replication, the stateful tier is two HA groups (a1+b1, c1+d1, one `sluice witness`), the
partitioner's destinations are `@destination(group=…)`, and the run is repeated for `sync` (the default,
acknowledged once the follower holds a batch) and compared with the same topology's single nodes.

Usage: perf/scripts/tiers.py [--count N] [--http-count N] [--batch N] [--engine .build/release/sluice] [--replication] [--no-http] [--group-names]
"""
import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tools"))
from testkit import REQUEST_SCHEMA, free_port, stop, write  # noqa: E402

# The seed-topology apps carry the generator's request id (`sluice send --ids`).
SCHEMA = REQUEST_SCHEMA + ", requestId long"

STATS = open(os.path.join(ROOT, "examples", "seed-topology", "apps", "tenant-stats.siddhi")).read()
# --stateful-app forward: the stateful tier only forwards ids, so what is measured is the tiers and
# replication rather than the per-tenant statistics.
FORWARD = """@app:name('Forward')
@source(type='tcp', @map(type='binary'))
define stream Request (%s);
from Request select requestId, userTenantDomain as tenant insert into Processed;
"""


def apps(http, ports, groups=False):
    """App text per node name: s1, p1, p2, a1, c1 (and b1, d1 with `groups`)."""
    def source(node):
        if http:
            stream = "RequestIn" if node.startswith("p") else "Request"
            return "@source(type='http', receiver.url='http://127.0.0.1:%d/%s', @map(type='json'))" % (ports[node]["http"], stream)
        return "@source(type='tcp', @map(type='binary'))"

    def destination(node, stream):
        if groups and node in ("a1", "c1"):
            return "@destination(group='%s')" % {"a1": "g1", "c1": "g2"}[node]
        if http:
            return "@destination(publisher.url='http://127.0.0.1:%d/%s')" % (ports[node]["http"], stream)
        return "@destination(url='tcp://127.0.0.1:%d/%s')" % (ports[node]["listen"], stream)

    sink = "http" if http else "tcp"
    mapping = "json" if http else "binary"
    intake = f"""@app:name('Intake')
@source(type='tcp', @map(type='binary'))
define stream RequestIn ({SCHEMA});
@sink(type='{sink}', @map(type='{mapping}'),
      @distribution(strategy='roundRobin', {destination('p1', 'RequestIn')}, {destination('p2', 'RequestIn')}))
define stream Request ({SCHEMA});
from RequestIn[userTenantDomain != '' and responseTime >= 0] select * insert into Request;
"""
    partitioner = lambda node: f"""@app:name('Partitioner')
{source(node)}
define stream RequestIn ({SCHEMA});
@sink(type='{sink}', @map(type='{mapping}'),
      @distribution(strategy='partitioned', partitionKey='userTenantDomain', {destination('a1', 'Request')}, {destination('c1', 'Request')}))
define stream Request ({SCHEMA});
from RequestIn select * insert into Request;
"""
    stats = lambda node: (FORWARD % SCHEMA if STATEFUL_APP == "forward" else STATS).replace(
        "@source(type='tcp', @map(type='binary'))", source(node))
    return {"s1": intake, "p1": partitioner("p1"), "p2": partitioner("p2"), "a1": stats("a1"), "c1": stats("c1"),
            "b1": stats("b1"), "d1": stats("d1")}


def status(admin):
    with urllib.request.urlopen("http://127.0.0.1:%d/status" % admin, timeout=2) as r:
        return json.load(r)


STATEFUL_APP = "stats"
BATCH = 1024
PER_PROCESS = False
STATEFUL = {"a1": ("g1", "b1"), "b1": ("g1", "a1"), "c1": ("g2", "d1"), "d1": ("g2", "c1")}


def run(engine, http, count, work, replication=None, group_names=False):
    """One run; `replication` (sync/async) makes the stateful tier HA groups. `group_names`: the
    partitioners name their destinations g1 and g2 even for single nodes (one-member groups), so
    that the tenants split between them exactly as in the replicated run."""
    ha = replication is not None
    stateful = ["a1", "b1", "c1", "d1"] if ha else ["a1", "c1"]
    nodes = stateful + ["p1", "p2", "s1"]
    ports = {n: {"listen": free_port(), "admin": free_port(), "http": free_port()} for n in STATEFUL.keys() | {"p1", "p2", "s1", "w"}}
    texts = apps(http, ports, groups=ha or group_names)
    # A fresh folder per run: a witness remembers the log of the group it served before.
    folder = tempfile.mkdtemp(prefix=("http" if http else ("binary-" + replication if ha else "binary")) + "-", dir=work)
    groups = ("groups: { g1: [127.0.0.1:%d, 127.0.0.1:%d], g2: [127.0.0.1:%d, 127.0.0.1:%d] }" % tuple(
        ports[n]["listen"] for n in ("a1", "b1", "c1", "d1")) if ha else
        "groups: { g1: [127.0.0.1:%d], g2: [127.0.0.1:%d] }" % (ports["a1"]["listen"], ports["c1"]["listen"]))
    procs = []
    try:
        if ha:
            os.makedirs(folder, exist_ok=True)
            log = open(os.path.join(folder, "w.log"), "w")
            procs.append(subprocess.Popen([engine, "witness", "--listen", "127.0.0.1:%d" % ports["w"]["listen"],
                                           "--data-dir", os.path.join(folder, "data-w")], stdout=log, stderr=log))
        # Downstream first, so each sink finds its destinations listening.
        for node in nodes:
            path = os.path.join(folder, node + ".siddhi")
            write(path, texts[node])
            lines = ["node: { id: %s, listen: 127.0.0.1:%d, admin: 127.0.0.1:%d, dataDir: %s }"
                     % (node, ports[node]["listen"], ports[node]["admin"], os.path.join(folder, "data-" + node)),
                     groups, "apps: [ %s ]" % path]
            if ha and node in STATEFUL:
                group, peer = STATEFUL[node]
                lines.append("cluster: { enabled: true, groupId: %s, peer: 127.0.0.1:%d, witness: 127.0.0.1:%d, replication: %s }"
                             % (group, ports[peer]["listen"], ports["w"]["listen"], replication))
            config = os.path.join(folder, node + ".yaml")
            write(config, "\n".join(lines) + "\n")
            log = open(path.replace(".siddhi", ".log"), "w")
            procs.append(subprocess.Popen([engine, "node", "--config", config], stdout=log, stderr=log))
            deadline = time.time() + 30
            while True:
                try:
                    status(ports[node]["admin"])
                    break
                except OSError:
                    if time.time() > deadline:
                        raise SystemExit("%s did not start; see %s" % (node, log.name))
                    time.sleep(0.1)
        if ha:
            # Each group has elected its leader before the load starts.
            deadline = time.time() + 30
            while sum(1 for n in stateful if status(ports[n]["admin"]).get("ha", {}).get("role") == "leader") < 2:
                if time.time() > deadline:
                    raise SystemExit("the groups elected no leaders; see " + folder)
                time.sleep(0.05)
        start = time.time()
        sent = subprocess.run([engine, "send", "--to", "127.0.0.1:%d" % ports["s1"]["listen"], "--stream", "RequestIn",
                               "--generate", "request", "--ids", "--count", str(count), "--batch", str(BATCH)], capture_output=True, text=True)
        if sent.returncode != 0:
            raise SystemExit("send failed: " + sent.stderr[-500:])

        def applied():
            # Both members of a group apply the same log: a group has applied what its leader has.
            per = {n: status(ports[n]["admin"])["eventsIn"] for n in stateful}
            return (max(per["a1"], per.get("b1", 0)), max(per["c1"], per.get("d1", 0)))
        deadline = time.time() + 600
        while sum(applied()) < count:
            if time.time() > deadline:
                raise SystemExit("the stateful tier applied only %d of %d events" % (sum(applied()), count))
            time.sleep(0.05)
        seconds = time.time() - start
        if PER_PROCESS:
            names = (["w"] if ha else []) + nodes
            tick = os.sysconf("SC_CLK_TCK")
            for name, proc in zip(names, procs):
                with open("/proc/%d/stat" % proc.pid) as f:
                    fields = f.read().rsplit(")", 1)[1].split()
                switches = 0
                for task in os.listdir("/proc/%d/task" % proc.pid):
                    with open("/proc/%d/task/%s/status" % (proc.pid, task)) as f:
                        switches += sum(int(l.split()[1]) for l in f if l.endswith("ctxt_switches:\t" + l.split("\t")[-1]) and "ctxt" in l)
                print("  %-3s CPU %.2f s, %d context switches, %d page faults"
                      % (name, (int(fields[11]) + int(fields[12])) / tick, switches, int(fields[7])))
        return count / seconds, seconds, list(applied())
    finally:
        stop(procs)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--count", type=int, default=300_000)
    ap.add_argument("--engine", default=os.path.join(ROOT, ".build", "release", "sluice"))
    ap.add_argument("--replication", action="store_true", help="also run the stateful tier as HA groups (sync)")
    ap.add_argument("--no-http", action="store_true", help="skip the JSON/HTTP run")
    ap.add_argument("--stateful-app", choices=["stats", "forward"], default="stats")
    ap.add_argument("--http-count", type=int, help="events for the JSON/HTTP run (default: --count); it is ~50x slower")
    ap.add_argument("--batch", type=int, default=1024, help="events per batch that `sluice send` sends (its default 1024)")
    ap.add_argument("--group-names", action="store_true",
                    help="name the partitioner's destinations g1 and g2 in every run, so that the tenants split the same way each time")
    ap.add_argument("--repeat", type=int, default=1,
                    help="run the binary runs (with --replication, alternating pairs) this many times and report medians")
    ap.add_argument("--per-process", action="store_true", help="print each node's CPU time at the end of a run")
    args = ap.parse_args()
    global STATEFUL_APP, BATCH, PER_PROCESS
    PER_PROCESS = args.per_process
    STATEFUL_APP = args.stateful_app
    BATCH = args.batch
    work = tempfile.mkdtemp(prefix="sluice-tiers-perf-")
    results = {}
    binary = [("binary", False, None, args.replication or args.group_names)] + ([("binary+sync", False, "sync", True)] if args.replication else [])
    # Runs without and with replication alternate, so that each pair shares the machine's mood.
    runs = binary * args.repeat + ([] if args.no_http else [("json/http", True, None, False)])
    for name, http, replication, group_names in runs:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        count = args.http_count if http and args.http_count else args.count
        eps, seconds, split = run(args.engine, http, count, work, replication, group_names)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        # Every node, the witness and the sender are this script's children, reaped by the run.
        cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
        results.setdefault(name, []).append(eps)
        line = "%-12s %9.0f events/s end to end (%d events in %.2f s; groups %d + %d; CPU of all processes %.2f s, %.2f µs/event)" \
            % (name, eps, count, seconds, split[0], split[1], cpu, 1e6 * cpu / count)
        # A run that repeats is indented, and its median follows in the plain format.
        print(("  run %d: " % len(results[name]) + line) if runs.count((name, http, replication, group_names)) > 1 else line)
    if args.repeat > 1:
        for name in results:
            if len(results[name]) > 1:
                print("%-12s %9.0f events/s end to end (median of %d runs: %s)"
                      % (name, statistics.median(results[name]), len(results[name]), ", ".join("%.0f" % e for e in results[name])))
    if "json/http" in results:
        print("ratio binary / json-http: %.1fx" % (statistics.median(results["binary"]) / results["json/http"][0]))
    if "binary+sync" in results:
        ratios = [100 * s / b for b, s in zip(results["binary"], results["binary+sync"])]
        print("sync replication keeps %.0f%% of the throughput without it%s"
              % (statistics.median(ratios), " (median of %d pairs: %s)" % (len(ratios), ", ".join("%.0f%%" % r for r in ratios))
                 if len(ratios) > 1 else ""))
    print("apps and logs in", work)


if __name__ == "__main__":
    main()
