#!/usr/bin/env python3
"""`sluice cluster up` / `status` / `down` against real processes: a small three-tier topology
(stateless s1 → partitioner p1 → group g1 = a1 + b1) whose apps deploy today (single-url tcp sinks).
Checks that the nodes outlive `cluster up` in their own sessions, that events flow through the tiers,
what `status` reports, and the failure paths: already up, a stale state file, a port in use, a node
that dies at start, a node already dead at `down`. Ends with `cluster: N passed, M failed`.
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
import urllib.request
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from testkit import REQUEST_SCHEMA, Checks, free_port, write  # noqa: E402

SCHEMA = REQUEST_SCHEMA




def make_topology(work, ports, stats_app="stats.siddhi"):
    p = ports
    write(os.path.join(work, "apps", "intake.siddhi"), f"""@app:name('Intake')
@source(type='tcp', @map(type='binary'))
define stream Request ({SCHEMA});
@sink(type='tcp', url='tcp://127.0.0.1:{p['p1']}/RequestIn', @map(type='binary'))
define stream ValidRequest ({SCHEMA});
from Request[responseTime >= 0] select * insert into ValidRequest;
""")
    write(os.path.join(work, "apps", "partition.siddhi"), f"""@app:name('Partitioner')
@source(type='tcp', @map(type='binary'))
define stream RequestIn ({SCHEMA});
@sink(type='tcp', url='tcp://127.0.0.1:{p['a1']}/Request', @map(type='binary'))
define stream Request ({SCHEMA});
from RequestIn select * insert into Request;
""")
    write(os.path.join(work, "apps", "stats.siddhi"), f"""@app:name('Stats')
@source(type='tcp', @map(type='binary'))
define stream Request ({SCHEMA});
from Request#window.lengthBatch(100) select userTenantDomain as tenant, count() as n insert into TenantStats;
""")
    write(os.path.join(work, "apps", "broken.siddhi"), "define stream Request (a int);\nfrom Nowhere select a insert into Out;\n")

    def node(name):
        return "{ listen: 127.0.0.1:%d, admin: 127.0.0.1:%d }" % (p[name], p[name + "_admin"])
    path = os.path.join(work, "topology-%s.yaml" % stats_app.split(".")[0])
    write(path, f"""name: small
stateless:
  apps: [ apps/intake.siddhi ]
  nodes:
    s1: {node('s1')}
partitioner:
  apps: [ apps/partition.siddhi ]
  nodes:
    p1: {node('p1')}
stateful:
  apps: [ apps/{stats_app} ]
  groups:
    g1:
      a1: {node('a1')}
      b1: {node('b1')}
""")
    return path


def get_json(port, path):
    with urllib.request.urlopen("http://127.0.0.1:%d%s" % (port, path), timeout=2) as r:
        return json.loads(r.read())


def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        with open("/proc/%d/stat" % pid) as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def listening(port):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
        return True
    except OSError:
        return False


class Run(Checks):
    def __init__(self, engine, work):
        super().__init__()
        self.engine, self.work = engine, work

    def sluice(self, *args, timeout=90):
        return subprocess.run([self.engine, *args], capture_output=True, text=True, timeout=timeout, cwd=self.work)



def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--engine", required=True)
    ap.add_argument("--count", type=int, default=6000)
    args = ap.parse_args()
    engine = os.path.abspath(args.engine)
    work = tempfile.mkdtemp(prefix="sluice-cluster-")
    names = ["s1", "p1", "a1", "b1"]
    ports = {}
    for n in names:
        ports[n], ports[n + "_admin"] = free_port(), free_port()
    topology = make_topology(work, ports)
    run_dir = os.path.join(work, "run")
    state_path = os.path.join(run_dir, "cluster.json")
    t = Run(engine, work)
    try:
        # up: returns (no pipe held open by a node), all healthy, prints the table.
        started = time.time()
        up = t.sluice("cluster", "up", topology, "--dir", run_dir)
        t.check(up.returncode == 0, "cluster up exits 0", up.stdout + up.stderr)
        t.check(all(n in up.stdout for n in names) and "LISTEN" in up.stdout, "cluster up prints where each node listens",
                up.stdout)
        print("     up took %.1fs" % (time.time() - started))
        state = json.load(open(state_path))
        pids = {n["id"]: n["pid"] for n in state["nodes"]}
        t.check(sorted(pids) == sorted(names), "the state file records every node", json.dumps(state))
        t.check(all(alive(pid) for pid in pids.values()), "the nodes outlive `cluster up`")
        t.check(all(os.getsid(pid) == pid for pid in pids.values()) and os.getsid(0) not in [os.getsid(p) for p in pids.values()],
                "each node leads its own session (detached)")
        t.check(all(os.path.exists(os.path.join(run_dir, n, "node.log")) and os.path.exists(os.path.join(run_dir, n, "node.yaml"))
                    for n in names), "one folder per node with its config and log")
        status = get_json(ports["a1_admin"], "/status")
        t.check((status.get("tier"), status.get("group"), status.get("role")) == ("stateful", "g1", "member"),
                "a node's /status carries tier, group and role from its config", json.dumps(status))

        again = t.sluice("cluster", "up", topology, "--dir", run_dir)
        t.check(again.returncode != 0 and "already running" in again.stderr, "a second `up` refuses: already running",
                again.stderr)

        # Events through all three tiers, and `status` while they flow.
        sender = subprocess.Popen([engine, "send", "--to", "127.0.0.1:%d" % ports["s1"], "--stream", "Request",
                                   "--generate", "request", "--count", str(args.count), "--rate", str(args.count // 3), "--batch", "200"],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        time.sleep(1.0)
        st = t.sluice("status", "--topology", topology, "--json", "--interval", "1s")
        rows = {r["node"]: r for r in json.loads(st.stdout)["nodes"]} if st.returncode == 0 else {}
        t.check(sorted(rows) == sorted(names) and all(r["health"] == "ok" for r in rows.values()),
                "status --json: every node healthy", st.stdout + st.stderr)
        t.check(rows.get("s1", {}).get("eventsInPerSecond", 0) > 0 and rows.get("a1", {}).get("eventsInPerSecond", 0) > 0,
                "status --json: events per second flow into s1 and a1", st.stdout)
        t.check([rows.get(n, {}).get("role") for n in ("a1", "b1")] == ["leader", "follower"]
                and rows.get("b1", {}).get("leader") == "a1" and rows.get("p1", {}).get("tier") == "partitioner",
                "status --json: roles, tiers and the group's leader", st.stdout)
        out, err = sender.communicate(timeout=60)
        t.check(sender.returncode == 0, "sluice send through s1 is acknowledged", err[-500:])
        deadline = time.time() + 20
        while time.time() < deadline and get_json(ports["a1_admin"], "/status")["eventsIn"] < args.count:
            time.sleep(0.2)
        t.check(get_json(ports["a1_admin"], "/status")["eventsIn"] == args.count, "every event reaches the group's a1")
        table = t.sluice("status", "--node", "127.0.0.1:%d" % ports["a1_admin"], "--interval", "200ms")
        t.check(table.returncode == 0 and "a1" in table.stdout and "HEALTH" in table.stdout, "status --node prints a table",
                table.stdout + table.stderr)

        # A node already dead does not stop `down`.
        os.kill(pids["b1"], signal.SIGKILL)
        time.sleep(0.3)
        st = t.sluice("status", "--topology", topology, "--json", "--interval", "200ms")
        rows = {r["node"]: r for r in json.loads(st.stdout)["nodes"]} if st.returncode == 0 else {}
        t.check(rows.get("b1", {}).get("health") == "down" and rows.get("a1", {}).get("role") == "leader",
                "status shows a killed node down", st.stdout)
        down = t.sluice("cluster", "down", "--dir", run_dir)
        t.check(down.returncode == 0 and "b1 (pid %d): was not running" % pids["b1"] in down.stdout
                and "a1 (pid %d): stopped" % pids["a1"] in down.stdout, "cluster down stops the rest", down.stdout + down.stderr)
        t.check(not any(alive(p) for p in pids.values()) and not os.path.exists(state_path),
                "after down: no node runs, no state file")
        t.check(os.path.exists(os.path.join(run_dir, "a1", "node.log")), "after down: the logs stay")
        down = t.sluice("cluster", "down", topology, "--dir", run_dir)
        t.check(down.returncode == 0 and "nothing to stop" in down.stdout, "a second down has nothing to stop", down.stdout)

        # A stale state file (its processes gone) is replaced.
        json.dump(state, open(state_path, "w"))
        up = t.sluice("cluster", "up", topology, "--dir", run_dir)
        t.check(up.returncode == 0 and "stale" in up.stderr, "up replaces a stale state file", up.stdout + up.stderr)
        t.sluice("cluster", "down", "--dir", run_dir)

        # A port in use: one clear line naming the node, nothing started.
        with socket.socket() as blocker:
            blocker.bind(("127.0.0.1", ports["p1"]))
            blocker.listen()
            up = t.sluice("cluster", "up", topology, "--dir", run_dir)
        t.check(up.returncode != 0 and "node p1 listen: 127.0.0.1:%d is already in use" % ports["p1"] in up.stderr
                and not os.path.exists(state_path) and not listening(ports["s1_admin"]),
                "a port in use is refused before anything starts", up.stderr)

        # A node that dies at start: the error names it with its log's tail, and the rest are stopped.
        broken = make_topology(work, ports, stats_app="broken.siddhi")
        up = t.sluice("cluster", "up", broken, "--dir", run_dir, "--timeout", "20")
        t.check(up.returncode != 0 and "node a1 exited" in up.stderr and "Nowhere" in up.stderr,
                "a node failing at start is named, with its log's tail", up.stderr)
        time.sleep(0.2)
        t.check(not os.path.exists(state_path) and not any(listening(ports[n + "_admin"]) for n in names),
                "after a failed up nothing is left running")
    finally:
        if os.path.exists(state_path):
            t.sluice("cluster", "down", "--dir", run_dir, "--grace", "2")
    for f in t.failures:
        print("FAIL", f)
    print("cluster: %d passed, %d failed" % (t.passed, len(t.failures)))
    return 1 if t.failures else 0


if __name__ == "__main__":
    sys.exit(main())
