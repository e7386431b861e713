#!/usr/bin/env python3
"""HA groups under faults, with real processes on loopback and a Jepsen-style checker.

Each scenario starts one group (data nodes a and b, a `sluice witness`), runs the seed's stateful
app (examples/seed-topology/apps/tenant-stats.siddhi, whose `Processed` stream forwards every
request's id), offers load with `sluice send --generate request --ids --ack-log`, follows the
group's output with `sluice subscribe --to a,b`, injects a fault, then checks from the checker's
own records:
  lost        acknowledged ids never delivered (must be 0)
  duplicated  ids delivered more than once (must be 0); in `sink-failover` the outputs leave the
              group through a tcp sink to another node, whose subscriber the checker reads, and in
              `node-witness` the witness is a node that also runs an app (as a partitioner can)
  out of order ids of one tenant delivered in a different order than sent (must be 0)
  gap         the longest pause in delivery (kill -9 of the leader: below 1 s)
  leaders     never two nodes leading the same term; no flapping (fewer than 3 elections a minute)

By default the peer link between the data nodes goes through a relay in this process that can
drop all traffic in one or both directions (a partition, which needs no root): a TCP send into a
silent peer keeps succeeding, as it would in a real partition. With `--net netns` (root, `ip` and
`iptables`; `make chaos` uses it where available) each data node runs in its own network namespace
behind a veth pair, the peer link is a direct connection, and a partition is an iptables DROP rule
in the forwarding path between the two namespaces: the kernel drops the packets, both nodes still
reach the witness, the producer and the subscriber.

    python3 tools/ha_test.py --engine .build/debug/sluice [--scenario NAME] [--count N --rate R] [--net netns]
    python3 tools/ha_test.py --engine .build/release/sluice --scenario soak --count 5000000 --rate R --kills 10
"""
import argparse
import collections
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from testkit import Checks, free_port, status, stop, write  # noqa: E402

APP = os.path.join(HERE, "..", "examples", "seed-topology", "apps", "tenant-stats.siddhi")
TENANT, REQUEST_ID = 1, 0  # columns of Processed


class Relay:
    """A TCP relay for one direction of the peer link (and the answers on the same connection).
    `block(forward, backward)` drops what flows in either direction, keeping the connections up."""

    def __init__(self, target_port):
        self.target = ("127.0.0.1", target_port)
        self.server = socket.socket()
        self.server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.server.bind(("127.0.0.1", 0))
        self.server.listen(16)
        self.port = self.server.getsockname()[1]
        self.forward_blocked = self.backward_blocked = False
        self.closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def block(self, forward, backward):
        self.forward_blocked, self.backward_blocked = forward, backward

    def _accept(self):
        while not self.closed:
            try:
                client, _ = self.server.accept()
            except OSError:
                continue
            try:
                upstream = socket.create_connection(self.target, timeout=2)
                upstream.settimeout(None)
            except OSError:
                client.close()  # the target is down: so is the link
                continue
            threading.Thread(target=self._pump, args=(client, upstream, True), daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client, False), daemon=True).start()

    def _pump(self, source, sink, forward):
        try:
            while True:
                data = source.recv(65536)
                if not data:
                    break
                if not (self.forward_blocked if forward else self.backward_blocked):
                    sink.sendall(data)
        except OSError:
            pass
        for s in (source, sink):
            try:
                s.close()
            except OSError:
                pass

    def close(self):
        self.closed = True
        self.server.close()



class Namespaces:
    """Data nodes a and b each in a network namespace of their own, reached from the root namespace
    through a veth pair (10.77.1.0/24 for a, 10.77.2.0/24 for b); the witness, the producer and the
    subscriber stay in the root namespace. Traffic between a and b is forwarded by the root namespace,
    where a chain of this run's iptables rules can drop it in either direction."""

    PREFIX = "slha%d" % (os.getpid() % 100000)

    def __init__(self):
        self.names = {"a": self.PREFIX + "a", "b": self.PREFIX + "b"}
        self.inside = {"a": "10.77.1.2", "b": "10.77.2.2"}
        self.outside = {"a": "10.77.1.1", "b": "10.77.2.1"}
        self.chain = self.PREFIX.upper()
        self.down()  # leftovers of a run that was killed
        for node, net in (("a", 1), ("b", 2)):
            ns, veth = self.names[node], self.names[node] + "v"
            self.sh("ip", "netns", "add", ns)
            self.sh("ip", "link", "add", veth, "type", "veth", "peer", "name", veth + "p")
            self.sh("ip", "link", "set", veth + "p", "netns", ns)
            self.sh("ip", "addr", "add", self.outside[node] + "/24", "dev", veth)
            self.sh("ip", "link", "set", veth, "up")
            self.sh("ip", "netns", "exec", ns, "ip", "addr", "add", self.inside[node] + "/24", "dev", veth + "p")
            self.sh("ip", "netns", "exec", ns, "ip", "link", "set", veth + "p", "up")
            self.sh("ip", "netns", "exec", ns, "ip", "link", "set", "lo", "up")
            self.sh("ip", "netns", "exec", ns, "ip", "route", "add", "default", "via", self.outside[node])
        self.sh("sysctl", "-qw", "net.ipv4.ip_forward=1")
        self.sh("iptables", "-N", self.chain)
        self.sh("iptables", "-I", "FORWARD", "-j", self.chain)
        # A Docker-style FORWARD policy of DROP would cut the namespaces off: accept their traffic.
        self.sh("iptables", "-A", self.chain, "-s", "10.77.0.0/16", "-d", "10.77.0.0/16", "-j", "RETURN")

    @staticmethod
    def available():
        if os.geteuid() != 0:
            return "not root"
        for tool in ("ip", "iptables"):
            if subprocess.run(["which", tool], capture_output=True).returncode != 0:
                return "no %s" % tool
        return None

    @staticmethod
    def sh(*args, check=True):
        p = subprocess.run(list(args), capture_output=True, text=True)
        if check and p.returncode != 0:
            raise RuntimeError("%s: %s" % (" ".join(args), p.stderr.strip()))
        return p

    def prefix(self, node):
        return ["ip", "netns", "exec", self.names[node]] if node in self.names else []

    def block(self, a_to_b, b_to_a):
        """Drops (True) or passes the packets from a to b and from b to a."""
        self.sh("iptables", "-F", self.chain)
        for drop, source, target in ((a_to_b, "a", "b"), (b_to_a, "b", "a")):
            if drop:
                self.sh("iptables", "-A", self.chain, "-s", self.inside[source], "-d", self.inside[target], "-j", "DROP")
        self.sh("iptables", "-A", self.chain, "-s", "10.77.0.0/16", "-d", "10.77.0.0/16", "-j", "RETURN")

    def down(self):
        self.sh("iptables", "-D", "FORWARD", "-j", self.chain, check=False)
        self.sh("iptables", "-F", self.chain, check=False)
        self.sh("iptables", "-X", self.chain, check=False)
        for ns in self.names.values():
            self.sh("ip", "netns", "del", ns, check=False)
            self.sh("ip", "link", "del", ns + "v", check=False)


class Group:
    """Data nodes a and b (peer links through relays, or in namespaces of their own) and a witness,
    as separate processes."""

    def __init__(self, engine, work, heartbeat_ms=100, app=APP, witness_in_node=False, net=None):
        """`witness_in_node`: the witness is a partitioner-like node (`witness: { enabled: true }` in its
        config, a pass-through app) instead of a `sluice witness` process. `net`: "netns" puts a and b
        in network namespaces (`Namespaces`) and partitions them with iptables instead of relays."""
        self.engine, self.work, self.witness_in_node = engine, work, witness_in_node
        self.ports = {n: free_port() for n in ("a", "b", "w", "a_admin", "b_admin")}
        self.net = Namespaces() if net == "netns" else None
        self.hosts = {"a": "127.0.0.1", "b": "127.0.0.1", "w": "127.0.0.1"}
        if self.net:
            self.hosts = {"a": self.net.inside["a"], "b": self.net.inside["b"], "w": self.net.outside["a"]}
            self.relays = {}
        else:
            self.relays = {"a": Relay(self.ports["b"]), "b": Relay(self.ports["a"])}  # a's link to b, b's link to a
        self.processes = {}
        self.heartbeat_ms = heartbeat_ms
        self.faults = []  # (time, node, signal name), for the failover timeline
        for me, other in (("a", "b"), ("b", "a")):
            peer = "%s:%d" % (self.hosts[other], self.ports[other])
            write(os.path.join(work, me + ".yaml"), "\n".join([
                "node: { id: %s, listen: %s:%d, admin: %s:%d, dataDir: %s }"
                % (me, self.hosts[me], self.ports[me], self.hosts[me], self.ports[me + "_admin"], os.path.join(work, "data-" + me)),
                "cluster: { enabled: true, groupId: g1, peer: %s, peerId: %s, witness: %s,"
                % ("127.0.0.1:%d" % self.relays[me].port if self.relays else peer, peer, self.listen("w")),
                "           heartbeatInterval: %dms, heartbeatMaxRetry: 3 }" % heartbeat_ms,
                "apps: [ %s ]" % os.path.abspath(app), ""]))
        if witness_in_node:
            write(os.path.join(work, "w.siddhi"), "define stream Tick (n long);\nfrom Tick select n insert into Tock;\n")
            write(os.path.join(work, "w.yaml"), "\n".join([
                "node: { id: w, listen: %s, dataDir: %s, tier: partitioner }" % (self.listen("w"), os.path.join(work, "data-w")),
                "witness: { enabled: true, heartbeatInterval: %dms, heartbeatMaxRetry: 3 }" % heartbeat_ms,
                "apps: [ %s ]" % os.path.join(work, "w.siddhi"), ""]))

    def listen(self, node):
        return "%s:%d" % (self.hosts[node], self.ports[node])

    def start(self, node):
        log = open(os.path.join(self.work, node + ".log"), "a")
        if node == "w" and not self.witness_in_node:
            args = [self.engine, "witness", "--listen", self.listen("w"), "--data-dir", os.path.join(self.work, "data-w"),
                    "--heartbeat-interval", str(self.heartbeat_ms)]
        else:
            args = [self.engine, "node", "--config", os.path.join(self.work, node + ".yaml")]
        # `ip netns exec` execs the node, so the process is the node itself (signals reach it).
        self.processes[node] = subprocess.Popen((self.net.prefix(node) if self.net else []) + args, stdout=log, stderr=log)

    def block(self, node, outgoing, incoming):
        """Drops what `node` sends to its peer (`outgoing`) and what it receives from it (`incoming`)."""
        if self.net:
            a_to_b, b_to_a = (outgoing, incoming) if node == "a" else (incoming, outgoing)
            self.net.block(a_to_b, b_to_a)
        elif outgoing and incoming:
            for r in self.relays.values():
                r.block(True, True)
        else:
            # The relay of `node`'s own link: forward is what it sends, backward the answers.
            for r in self.relays.values():
                r.block(False, False)
            self.relays[node].block(outgoing, incoming)

    def up(self, timeout=30):
        for node in ("w", "a", "b"):
            self.start(node)
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.leader() and self.follower():
                return
            time.sleep(0.05)
        raise RuntimeError("no leader and follower within %d s; see %s" % (timeout, self.work))

    def status(self, node):
        return status(self.ports[node + "_admin"], host=self.hosts[node])

    def role(self, node):
        s = self.status(node)
        return (s or {}).get("ha", {}).get("role")

    def leader(self):
        return next((n for n in ("a", "b") if (self.role(n) or "").startswith("leader")), None)

    def follower(self):
        return next((n for n in ("a", "b") if self.role(n) == "follower"), None)

    def kill(self, node, sig=signal.SIGKILL):
        self.faults.append((time.time(), node, signal.Signals(sig).name))
        self.processes[node].send_signal(sig)
        if sig == signal.SIGKILL:
            self.processes[node].wait()

    def down(self):
        for p in self.processes.values():
            if p.poll() is None:
                try:
                    p.send_signal(signal.SIGCONT)
                except OSError:
                    pass
        stop(list(self.processes.values()))
        for r in self.relays.values():
            r.close()
        if self.net:
            self.net.down()


class LeaderWatch(threading.Thread):
    """Polls both nodes: which node claimed to lead which term, as seen from outside."""

    def __init__(self, group):
        super().__init__(daemon=True)
        self.group, self.claims, self.running = group, collections.defaultdict(set), True

    def run(self):
        while self.running:
            for node in ("a", "b"):
                s = self.group.status(node)
                ha = (s or {}).get("ha") or {}
                if ha.get("role", "").startswith("leader"):
                    self.claims[ha["term"]].add(node)
            time.sleep(0.02)


class Arrivals(threading.Thread):
    """Tails the subscriber's output file: how many lines so far, and when they arrived (for the
    delivery gap). Reads only what was appended since the last look."""

    def __init__(self, path):
        super().__init__(daemon=True)
        self.path, self.times, self.running, self.lines = path, [], True, 0

    def __call__(self):
        return self.lines

    def run(self):
        offset = 0
        while self.running:
            try:
                with open(self.path, "rb") as fh:
                    fh.seek(offset)
                    chunk = fh.read()
            except OSError:
                chunk = b""
            # Count complete lines only; a partial one is read again next time.
            end = chunk.rfind(b"\n") + 1
            if end:
                n = chunk.count(b"\n", 0, end)
                offset += end
                self.lines += n
                self.times.append((time.time(), n))
            time.sleep(0.005)


def check_run(t, name, ack_log, outputs, sent):
    """The Jepsen-style accounting: every acknowledged id delivered once, per-tenant order kept."""
    acked, failed = set(), 0
    with open(ack_log) as fh:
        for line in fh:
            first, last, outcome = line.split()
            ids = range(int(first), int(last) + 1)
            if outcome == "ok":
                acked.update(ids)
            else:
                failed += len(ids)
    seen = collections.Counter()
    last_per_tenant, out_of_order = {}, 0
    with open(outputs) as fh:
        for line in fh:
            if not line.endswith("\n"):
                continue
            data = json.loads(line)["data"]
            rid, tenant = data[REQUEST_ID], data[TENANT]
            seen[rid] += 1
            if seen[rid] == 1:
                if last_per_tenant.get(tenant, 0) > rid:
                    out_of_order += 1
                last_per_tenant[tenant] = rid
    lost = len(acked - set(seen))
    duplicated = sum(1 for c in seen.values() if c > 1)
    phantom = sum(1 for rid in seen if rid < 1 or rid > sent)
    print("     %s: sent %d, acked %d, failed %d, delivered %d, lost %d, duplicated %d, out of order %d"
          % (name, sent, len(acked), failed, len(seen), lost, duplicated, out_of_order))
    t.check(len(acked) == sent, "%s: every batch acknowledged in the end" % name, "acked %d of %d" % (len(acked), sent))
    t.check(lost == 0, "%s: no acknowledged event lost" % name, "%d lost" % lost)
    t.check(duplicated == 0, "%s: no event delivered twice" % name, "%d duplicated" % duplicated)
    t.check(out_of_order == 0 and phantom == 0, "%s: per-tenant order kept, nothing unsent delivered" % name,
            "%d out of order, %d phantom" % (out_of_order, phantom))
    return {"sent": sent, "acked": len(acked), "delivered": len(seen), "lost": lost, "duplicated": duplicated}


def timeline(times, start, step=0.5):
    """Deliveries per second in bins of `step` seconds from `start`: [{"t": the bin's middle, "eventsPerSecond": n}]."""
    counts = collections.Counter()
    for at, n in times:
        if at >= start:
            counts[int((at - start) // step)] += n
    last = max(counts) if counts else -1
    return [{"t": round((k + 0.5) * step, 3), "eventsPerSecond": int(counts[k] / step)} for k in range(last + 1)]


def longest_gap(times, start, end):
    """The longest pause between deliveries within [start, end] (seconds)."""
    inside = [at for at, _ in times if start <= at <= end]
    return max((b - a for a, b in zip(inside, inside[1:])), default=0.0)


# The group's `Processed` stream leaves through a tcp sink to a plain node, which forwards it to its
# own subscriber: exactly once then needs the group's output identity, the receiving node's
# deduplication, and the new leader's resend from the replicated watermark.
SINK_APP = """@app:name('SinkForwarder')
@source(type='tcp', @map(type='binary'))
define stream Request (meta_clientType string, applicationConsumerKey string, applicationName string, applicationId string,
    applicationOwner string, apiContext string, apiName string, apiVersion string, apiCreator string, apiTier string,
    apiHostname string, username string, userTenantDomain string, requestTimestamp long, throttledOut bool,
    responseTime long, backendTime long, requestId long);
@sink(type='tcp', url='tcp://127.0.0.1:%d/Processed', @map(type='binary'))
define stream Processed (requestId long, tenant string);
from Request select requestId, userTenantDomain as tenant insert into Processed;
"""
RECEIVER_APP = """@app:name('Receiver')
define stream Processed (requestId long, tenant string);
from Processed select * insert into Received;
"""


def scenario(engine, base, name, count, rate, t, fault, via_sink=False, witness_in_node=False, net=None):
    """Runs one group under `fault(group, progress)` and checks it. Returns the run's figures."""
    print("== %s: %d events at %d/s%s%s" % (name, count, rate, "; outputs through a tcp sink to another node" if via_sink else "",
                                           "; data nodes in network namespaces" if net else ""))
    work = tempfile.mkdtemp(prefix=name + "-", dir=base)
    processes = []
    app, receiver = APP, None
    if via_sink:
        receiver = {"listen": free_port(), "admin": free_port()}
        app = os.path.join(work, "forwarder.siddhi")
    group = Group(engine, work, app=app, witness_in_node=witness_in_node, net=net)
    # The receiver and the clients live in the root namespace, at an address both data nodes reach.
    root = group.hosts["w"]
    if via_sink:
        write(app, SINK_APP.replace("127.0.0.1", root) % receiver["listen"])
        write(os.path.join(work, "receiver.siddhi"), RECEIVER_APP)
        log = open(os.path.join(work, "receiver.log"), "w")
        processes.append(subprocess.Popen([engine, "node", "--app", os.path.join(work, "receiver.siddhi"), "--id", "receiver",
                                           "--listen", "%s:%d" % (root, receiver["listen"]),
                                           "--admin", "%s:%d" % (root, receiver["admin"])], stdout=log, stderr=log))
    watch = LeaderWatch(group)
    try:
        group.up()
        first_leader = group.leader()
        outputs = os.path.join(work, "processed.jsonl")
        if via_sink:
            source, stream = "%s:%d" % (root, receiver["listen"]), "Received"
            attached = lambda: (status(receiver["admin"], host=root) or {}).get("subscriptions", {}).get("Received")
        else:
            source, stream = group.listen("a") + "," + group.listen("b"), "Processed"
            attached = lambda: any((group.status(n) or {}).get("subscriptions", {}).get("Processed") for n in ("a", "b"))
        subscriber = subprocess.Popen([engine, "subscribe", "--to", source, "--stream", stream, "--credit", "256", "--timeout", "300"],
                                      stdout=open(outputs, "w"), stderr=open(outputs + ".err", "w"))
        processes.append(subscriber)
        deadline = time.time() + 20
        while not attached():
            if time.time() > deadline:
                raise RuntimeError("the subscriber never attached")
            time.sleep(0.05)
        arrivals = Arrivals(outputs)
        arrivals.start()
        watch.start()
        ack_log = os.path.join(work, "acks.log")
        started = time.time()
        sender = subprocess.Popen([engine, "send", "--to", group.listen("a") + "," + group.listen("b"), "--stream", "Request",
                                   "--generate", "request", "--ids", "--ack-log", ack_log, "--count", str(count),
                                   "--rate", str(rate), "--batch", "100", "--in-flight", "32"],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        processes.append(sender)

        fault_window = fault(group, arrivals, first_leader, count)
        out, err = sender.communicate(timeout=900)
        t.check(sender.returncode == 0, "%s: sluice send finished" % name, err[-800:])
        try:
            print("     sluice send: %s" % out.strip().splitlines()[-1])
        except IndexError:
            pass
        # Drain: every acknowledged id must reach the subscriber.
        deadline = time.time() + 60
        while arrivals.lines < count and time.time() < deadline:
            time.sleep(0.1)
        time.sleep(0.5)
        arrivals.running = watch.running = False
        figures = check_run(t, name, ack_log, outputs, count)
        gap = longest_gap(arrivals.times, *fault_window) if fault_window else 0.0
        figures["failoverGapMs"] = int(gap * 1000)
        doubled = {term: nodes for term, nodes in watch.claims.items() if len(nodes) > 1}
        t.check(not doubled, "%s: never two leaders in one term" % name, doubled)
        elections = len(watch.claims)
        figures["terms"] = elections
        figures["timeline"] = timeline(arrivals.times, started)
        figures["faults"] = [{"t": round(at - started, 3), "node": node, "signal": sig} for at, node, sig in group.faults]
        return figures, group, watch
    finally:
        watch.running = False
        stop(processes)
        group.down()


def wait_progress(progress, at_least, timeout=60):
    deadline = time.time() + timeout
    while progress() < at_least:
        if time.time() > deadline:
            raise RuntimeError("no progress to %d events" % at_least)
        time.sleep(0.02)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--engine", required=True)
    ap.add_argument("--scenario", action="append", help="run only these (default: all)")
    ap.add_argument("--count", type=int, default=40_000)
    ap.add_argument("--rate", type=int, default=10_000)
    ap.add_argument("--json", help="append each scenario's figures to this file as JSON lines")
    ap.add_argument("--kills", type=int, default=10, help="soak: how many times the leader is killed")
    ap.add_argument("--report", help="write a Markdown report of the figures here")
    ap.add_argument("--append-to", help="also append that report to this file (perf/RESULTS.md)")
    ap.add_argument("--net", choices=["relay", "netns", "auto"], default="relay",
                    help="how partitions are made: a relay in this process (default), network namespaces and iptables "
                         "(root), or netns where available and the relay otherwise")
    args = ap.parse_args()
    if args.net == "auto":
        missing = Namespaces.available()
        args.net = "relay" if missing else "netns"
        print("partitions: %s" % ("network namespaces and iptables" if args.net == "netns" else "the relay (netns: %s)" % missing))
    elif args.net == "netns" and Namespaces.available():
        sys.exit("--net netns: %s" % Namespaces.available())
    engine = os.path.abspath(args.engine)
    base = tempfile.mkdtemp(prefix="sluice-ha-")
    t = Checks()
    results = {}

    def kill_leader(group, progress, leader, count):
        wait_progress(progress, count // 3)
        killed_at = time.time()
        group.kill(leader)
        deadline = time.time() + 5
        while time.time() < deadline and not (group.leader() and group.leader() != leader):
            time.sleep(0.01)
        taken = group.leader()
        print("     killed %s (the leader); %s leads after %.0f ms" % (leader, taken, (time.time() - killed_at) * 1000))
        t.check(taken is not None and taken != leader, "kill-leader: the follower took over", taken)
        return (killed_at - 0.05, killed_at + 3)

    def kill_follower(group, progress, leader, count):
        follower = "b" if leader == "a" else "a"
        wait_progress(progress, count // 4)
        group.kill(follower)
        wait_progress(progress, count // 2)
        group.start(follower)
        deadline = time.time() + 15
        caught = False
        while time.time() < deadline:
            f, l = group.status(follower), group.status(leader)
            if f and l and f.get("ha", {}).get("role") == "follower" and l["ha"].get("followerLag") == 0 \
                    and f["ha"]["commitIndex"] >= l["ha"]["commitIndex"] - 2:
                caught = True
                break
            time.sleep(0.05)
        t.check(caught, "kill-follower: the restarted follower caught up (snapshot + log tail)",
                (group.status(follower) or {}).get("ha"))
        t.check(group.leader() == leader, "kill-follower: the leader kept leading", group.leader())
        return None

    def partition(group, progress, leader, count):
        wait_progress(progress, count // 4)
        group.block(leader, True, True)
        time.sleep(2.0)
        degraded = (group.status(leader) or {}).get("ha", {}).get("degraded")
        group.block(leader, False, False)
        t.check(degraded is True, "partition: the leader went on degraded, on the witness's vote", degraded)
        t.check(group.leader() == leader, "partition: no election while the witness sees the leader", group.leader())
        return None

    def one_way(group, progress, leader, count):
        wait_progress(progress, count // 4)
        group.block(leader, True, False)  # what the leader sends its follower is dropped
        time.sleep(2.0)
        group.block(leader, False, False)
        t.check(group.leader() is not None, "one-way partition: a leader remains", group.leader())
        return None

    def pause_leader(group, progress, leader, count):
        wait_progress(progress, count // 3)
        paused_at = time.time()
        group.kill(leader, signal.SIGSTOP)
        time.sleep(0.6)  # twice the failure timeout (3 × 100 ms)
        other = "b" if leader == "a" else "a"
        group.kill(leader, signal.SIGCONT)
        deadline = time.time() + 5
        while time.time() < deadline and not (group.role(leader) == "follower" and (group.role(other) or "").startswith("leader")):
            time.sleep(0.02)
        t.check((group.role(other) or "").startswith("leader") and group.role(leader) == "follower",
                "pause-leader: the follower leads, the woken leader follows", (group.role(other), group.role(leader)))
        return (paused_at, paused_at + 3)

    def soak(group, progress, leader, count):
        """`make chaos`: the leader killed `--kills` times, each victim restarted after a pause so
        that it can catch up and take the next turn."""
        gaps.clear()
        for k in range(args.kills):
            wait_progress(progress, count * (k + 1) // (args.kills + 1), timeout=600)
            if count - progress() < args.rate * 3:
                print("     kill %d skipped: less than 3 s of load left to measure a gap in" % (k + 1))
                break
            victim = group.leader()
            if victim is None:
                t.check(False, "soak: a leader before kill %d" % (k + 1))
                return None
            killed_at = time.time()
            group.kill(victim)
            time.sleep(3.0)
            # The longest pause in delivery around the kill (outputs in flight may still arrive first).
            gaps.append(longest_gap(progress.times, killed_at - 0.05, killed_at + 3.0))
            print("     kill %d: %s; longest pause in delivery %.0f ms" % (k + 1, victim, gaps[-1] * 1000))
            group.start(victim)
            deadline = time.time() + 60
            while time.time() < deadline and group.role(victim) != "follower":
                time.sleep(0.05)
            # Let it catch up before it may have to lead.
            while time.time() < deadline and ((group.status(group.leader() or victim) or {}).get("ha") or {}).get("followerLag", 1) != 0:
                time.sleep(0.05)
        return None

    def no_fault(group, progress, leader, count):
        return None

    def kill_leader_behind_sink(group, progress, leader, count):
        return kill_leader(group, progress, leader, count)

    gaps = []
    scenarios = [("baseline", no_fault), ("kill-leader", kill_leader), ("kill-follower", kill_follower), ("partition", partition),
                 ("one-way-partition", one_way), ("pause-leader", pause_leader), ("sink-failover", kill_leader_behind_sink),
                 ("node-witness", kill_leader),
                 ("soak", soak)]
    for name, fault in scenarios:
        if (args.scenario and name not in args.scenario) or (not args.scenario and name in ("soak", "baseline")):
            continue
        try:
            figures, _, watch = scenario(engine, base, name, args.count, args.rate, t, fault, via_sink=name == "sink-failover",
                                         witness_in_node=name == "node-witness", net=args.net if args.net == "netns" else None)
        except Exception as e:  # noqa: BLE001  (report and go on with the next scenario)
            t.check(False, "%s: ran to the end" % name, e)
            continue
        results[name] = figures
        print("     %s" % json.dumps({k: v for k, v in figures.items() if k != "timeline"}))
        if name in ("kill-leader", "node-witness"):
            t.check(figures["failoverGapMs"] < 1000, "kill-leader: delivery paused less than 1 s", figures["failoverGapMs"])
        if name == "soak" and gaps:
            ordered = sorted(gaps)
            figures["kills"] = len(gaps)
            figures["gapP50Ms"] = int(ordered[len(ordered) // 2] * 1000)
            figures["gapP99Ms"] = int(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000)
            figures["gapMaxMs"] = int(ordered[-1] * 1000)
            t.check(figures["gapP99Ms"] <= 1000, "soak: failover gap p99 under 1 s", figures)
        if name in ("partition", "kill-follower"):
            t.check(figures["terms"] <= 1, "%s: no election at all" % name, figures["terms"])
        if args.json:
            with open(args.json, "a") as fh:
                fh.write(json.dumps(dict(figures, scenario=name)) + "\n")
    if args.report:
        write_report(args, results, t)
    print("%d checks passed, %d failed%s" % (t.passed, len(t.failures),
                                             "" if not t.failures else ": " + "; ".join(t.failures)))
    sys.exit(1 if t.failures else 0)


def write_report(args, results, t):
    lines = ["## HA under faults, real processes (%s)" % time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "",
             "Command: `python3 tools/ha_test.py --engine %s %s--count %d --rate %d --kills %d --net %s`"
             % (os.path.relpath(args.engine), "".join("--scenario %s " % s for s in args.scenario or []), args.count,
                args.rate, args.kills, args.net), "",
             "One group (2 data nodes + `sluice witness`) on %s, the seed's stateful app, sync replication, "
             "heartbeats 100 ms × 3. Counts come from the checker (`--ack-log` and the followed `Processed` stream), "
             "not from node counters." % ("loopback, partitions through the test's relay" if args.net != "netns" else
                                          "one machine with each data node in its own network namespace (veth pairs), "
                                          "partitions as iptables DROP rules between them"), "",
             "| scenario | sent | acked | delivered | lost | duplicated | terms | failover gap |",
             "|---|---|---|---|---|---|---|---|"]
    for name, f in results.items():
        gap = ("p50 %d ms, p99 %d ms, max %d ms over %d kills" % (f["gapP50Ms"], f["gapP99Ms"], f["gapMaxMs"], f["kills"])
               if "kills" in f else ("%d ms" % f["failoverGapMs"] if f.get("failoverGapMs") else "-"))
        lines.append("| %s | %d | %d | %d | %d | %d | %d | %s |" % (name, f["sent"], f["acked"], f["delivered"], f["lost"],
                                                                 f["duplicated"], f["terms"], gap))
    lines += ["", "Checks: %d passed, %d failed%s." % (t.passed, len(t.failures),
                                                       "" if not t.failures else " (" + "; ".join(t.failures) + ")"), ""]
    text = "\n".join(lines)
    write(args.report, text)
    if args.append_to:
        with open(args.append_to, "a") as fh:
            fh.write("\n" + text)


if __name__ == "__main__":
    main()
