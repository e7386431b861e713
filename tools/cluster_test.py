#!/usr/bin/env python3
"""`sluice cluster up` / `status` / `down` against real processes: a small three-tier topology
(stateless s1 → partitioner p1 → HA group g1 = a1 + b1, with a `sluice witness`). Checks that the
nodes outlive `cluster up` in their own sessions, that events flow through the tiers (the
partitioner's sink follows g1's leader), what `status` reports (exactly one leader and one follower
in g1, either member may lead, the follower names the leader), that the survivor leads once the
leader is killed, and the failure paths: already up, a stale state file, a port in use, a node
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
@sink(type='tcp', @map(type='binary'),
      @distribution(strategy='partitioned', partitionKey='userTenantDomain', @destination(group='g1')))
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
  witness: {{ listen: 127.0.0.1:{p['witness']} }}
  groups:
    g1:
      a1: {node('a1')}
      b1: {node('b1')}
""")
    return path


def get_json(port, path):
    with urllib.request.urlopen("http://127.0.0.1:%d%s" % (port, path), timeout=2) as r:
        return json.loads(r.read())


def ha_roles(ports, members=("a1", "b1")):
    """Each member's `ha` view of g1 from its /status ({} when it does not answer)."""
    out = {}
    for m in members:
        try:
            out[m] = get_json(ports[m + "_admin"], "/status").get("ha") or {}
        except OSError:
            out[m] = {}
    return out


def wait_until(condition, timeout):
    """Polls `condition` every 50 ms; its last value (truthy once it held, or at the timeout)."""
    deadline = time.time() + timeout
    while True:
        value = condition()
        if value or time.time() >= deadline:
            return value
        time.sleep(0.05)


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
    ports = {"witness": free_port()}
    for n in names:
        ports[n], ports[n + "_admin"] = free_port(), free_port()
    listen = {n: "127.0.0.1:%d" % ports[n] for n in names}
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
        witness_pid = (state.get("witness") or {}).get("pid")
        t.check(sorted(pids) == sorted(names), "the state file records every node", json.dumps(state))
        t.check(witness_pid is not None and state["witness"].get("listen") == "127.0.0.1:%d" % ports["witness"]
                and alive(witness_pid) and listening(ports["witness"]),
                "the state file records the witness, which runs and listens", json.dumps(state.get("witness")))
        t.check(all(alive(pid) for pid in pids.values()), "the nodes outlive `cluster up`")
        t.check(all(os.getsid(pid) == pid for pid in pids.values()) and os.getsid(0) not in [os.getsid(p) for p in pids.values()],
                "each node leads its own session (detached)")
        t.check(all(os.path.exists(os.path.join(run_dir, n, "node.log")) and os.path.exists(os.path.join(run_dir, n, "node.yaml"))
                    for n in names), "one folder per node with its config and log")
        status = get_json(ports["a1_admin"], "/status")
        t.check((status.get("tier"), status.get("group"), status.get("role")) == ("stateful", "g1", "member")
                and (status.get("ha") or {}).get("group") == "g1" and status["ha"].get("nodeID") == listen["a1"],
                "a node's /status carries tier, group and role from its config, and its HA group", json.dumps(status))

        # The members elect a leader: either may win, but exactly one leads and the other follows it.
        def elected():
            ha = ha_roles(ports)
            leading = [m for m, h in ha.items() if h.get("role") == "leader"]
            following = [m for m, h in ha.items() if h.get("role") == "follower"]
            if len(leading) == 1 and len(following) == 1 and ha[following[0]].get("leader") == listen[leading[0]]:
                return leading[0]
            return None
        leader = wait_until(elected, 15)
        t.check(leader is not None, "g1 elects one leader, and its follower names it (%s leads)" % leader, json.dumps(ha_roles(ports)))
        follower = next((m for m in ("a1", "b1") if m != leader), "b1")

        again = t.sluice("cluster", "up", topology, "--dir", run_dir)
        t.check(again.returncode != 0 and "already running" in again.stderr, "a second `up` refuses: already running",
                again.stderr)

        # Events through all three tiers, and `status` while they flow.
        sender = subprocess.Popen([engine, "send", "--to", listen["s1"], "--stream", "Request",
                                   "--generate", "request", "--count", str(args.count), "--rate", str(args.count // 3), "--batch", "200"],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        time.sleep(1.0)
        st = t.sluice("status", "--topology", topology, "--json", "--interval", "1s")
        rows = {r["node"]: r for r in json.loads(st.stdout)["nodes"]} if st.returncode == 0 else {}
        t.check(sorted(rows) == sorted(names) and all(r["health"] == "ok" for r in rows.values()),
                "status --json: every node healthy", st.stdout + st.stderr)
        t.check(all(rows.get(n, {}).get("eventsInPerSecond", 0) > 0 for n in ("s1", "a1", "b1")),
                "status --json: events per second flow into s1 and into both members of g1 (the follower applies the "
                "replicated log)", st.stdout)
        roles = {n: rows.get(n, {}).get("role") for n in ("a1", "b1")}
        t.check(sorted(roles.values()) == ["follower", "leader"]
                and all(rows.get(n, {}).get("leader") == leader for n in ("a1", "b1")) and roles[leader] == "leader"
                and rows[leader].get("term") is not None and rows[leader].get("term") == rows[follower].get("term")
                and rows.get("p1", {}).get("tier") == "partitioner",
                "status --json: one leader and one follower in one term, both naming %s as leader; tiers" % leader, st.stdout)
        out, err = sender.communicate(timeout=60)
        t.check(sender.returncode == 0, "sluice send through s1 is acknowledged", err[-500:])

        def applied():
            return {m: get_json(ports[m + "_admin"], "/status")["eventsIn"] for m in ("a1", "b1")}
        wait_until(lambda: all(n >= args.count for n in applied().values()), 20)
        t.check(applied() == {"a1": args.count, "b1": args.count},
                "every event reaches g1 once: its leader %s and its follower applied each" % leader, applied())
        table = t.sluice("status", "--node", "127.0.0.1:%d" % ports["a1_admin"], "--interval", "200ms")
        t.check(table.returncode == 0 and "a1" in table.stdout and "HEALTH" in table.stdout, "status --node prints a table",
                table.stdout + table.stderr)

        # The leader killed: the survivor takes over on the witness's vote, within a second or two.
        # A node already dead does not stop `down`.
        os.kill(pids[leader], signal.SIGKILL)
        killed_at = time.time()
        took_over = wait_until(lambda: (ha_roles(ports, [follower])[follower].get("role") or "").startswith("leader"), 10)
        took = time.time() - killed_at
        t.check(took_over and took <= 2.0, "%s leads g1 %.1f s after its leader %s was killed" % (follower, took, leader),
                json.dumps(ha_roles(ports, [follower])))
        # Alone, it leads on the witness's confirmations: degraded once the follower's silence
        # outlasts the failure timeout (heartbeatInterval × heartbeatMaxRetry).
        wait_until(lambda: ha_roles(ports, [follower])[follower].get("degraded") is True, 5)
        st = t.sluice("status", "--topology", topology, "--json", "--interval", "200ms")
        rows = {r["node"]: r for r in json.loads(st.stdout)["nodes"]} if st.returncode == 0 else {}
        t.check(rows.get(leader, {}).get("health") == "down" and rows.get(follower, {}).get("role") == "leader"
                and rows.get(follower, {}).get("leader") == follower and rows.get(follower, {}).get("degraded") is True,
                "status shows the killed %s down and %s leading alone (degraded)" % (leader, follower), st.stdout)
        down = t.sluice("cluster", "down", "--dir", run_dir)
        t.check(down.returncode == 0 and "%s (pid %d): was not running" % (leader, pids[leader]) in down.stdout
                and "%s (pid %d): stopped" % (follower, pids[follower]) in down.stdout
                and "witness (pid %d): stopped" % witness_pid in down.stdout,
                "cluster down stops the rest, the witness too", down.stdout + down.stderr)
        t.check(not any(alive(p) for p in list(pids.values()) + [witness_pid]) and not os.path.exists(state_path),
                "after down: no node and no witness runs, no state file")
        t.check(os.path.exists(os.path.join(run_dir, "a1", "node.log")), "after down: the logs stay")
        down = t.sluice("cluster", "down", topology, "--dir", run_dir)
        t.check(down.returncode == 0 and "nothing to stop" in down.stdout, "a second down has nothing to stop", down.stdout)

        # A stale state file (its processes gone) is replaced.
        json.dump(state, open(state_path, "w"))
        up = t.sluice("cluster", "up", topology, "--dir", run_dir)
        t.check(up.returncode == 0 and "stale" in up.stderr, "up replaces a stale state file", up.stdout + up.stderr)
        t.sluice("cluster", "down", "--dir", run_dir)

        # A port in use: one clear line naming the node (or the witness), nothing started.
        for blocked, named in (("p1", "node p1 listen"), ("witness", "witness listen")):
            with socket.socket() as blocker:
                blocker.bind(("127.0.0.1", ports[blocked]))
                blocker.listen()
                up = t.sluice("cluster", "up", topology, "--dir", run_dir)
            t.check(up.returncode != 0 and "%s: 127.0.0.1:%d is already in use" % (named, ports[blocked]) in up.stderr
                    and not os.path.exists(state_path) and not listening(ports["s1_admin"]),
                    "a port in use (%s) is refused before anything starts" % blocked, up.stderr)

        # A node that dies at start: the error names it with its log's tail, and the rest are stopped.
        broken = make_topology(work, ports, stats_app="broken.siddhi")
        up = t.sluice("cluster", "up", broken, "--dir", run_dir, "--timeout", "20")
        # Both members of g1 run the broken app: whichever exits first is named.
        t.check(up.returncode != 0 and ("node a1 exited" in up.stderr or "node b1 exited" in up.stderr)
                and "Nowhere" in up.stderr, "a node failing at start is named, with its log's tail", "exit %d\n%s%s" % (up.returncode, up.stdout, up.stderr))
        time.sleep(0.2)
        t.check(not os.path.exists(state_path) and not any(listening(ports[n + "_admin"]) for n in names)
                and not listening(ports["witness"]),
                "after a failed up nothing is left running (the witness neither)")
    finally:
        if os.path.exists(state_path):
            t.sluice("cluster", "down", "--dir", run_dir, "--grace", "2")
    for f in t.failures:
        print("FAIL", f)
    print("cluster: %d passed, %d failed" % (t.passed, len(t.failures)))
    return 1 if t.failures else 0


if __name__ == "__main__":
    sys.exit(main())
