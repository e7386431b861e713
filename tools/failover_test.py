#!/usr/bin/env python3
"""Stateless-tier failover: a producer sends to two nodes; one is killed with SIGKILL mid-run.

1. Subscribers on each node: the producer's every event is acknowledged, and every acknowledged
   event reached a subscriber of one of the nodes (the killed node's outputs up to the kill, the
   survivor's after): no acknowledged event is lost. Duplicates (batches applied on the killed node
   whose ack was lost, then resent) are reported.
2. The same two nodes forward through a tcp sink to a third node, as the stateless tier feeds the
   partitioners; the receiver is paused (SIGSTOP) around the kill, so the killed node's sink holds
   undelivered events. A node acknowledges a batch only once its sink has delivered the outputs, so
   the kill loses nothing acknowledged; the batches it had not acknowledged come again through the
   survivor with the same derived identities, so the receiver applies every event exactly once.
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

FORWARDER = """
@source(type='tcp', @map(type='binary'))
define stream Request (id long, tenant string, responseTime long);
@sink(type='tcp', url='tcp://127.0.0.1:%d/Seen', @map(type='binary'))
define stream Seen (id long, tenant string);
from Request select id, tenant insert into Seen;
"""
RECEIVER = """
@source(type='tcp', @map(type='binary'))
define stream Seen (id long, tenant string);
from Seen select id, tenant insert into Received;
"""



def wait_listening(port, timeout=20):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return True
        except OSError:
            time.sleep(0.1)
    return False


def write_events(path, count):
    with open(path, "w") as fh:
        for i in range(count):
            fh.write('{"stream":"Request","timestamp":%d,"data":[%d,"tenant%02d.com",%d]}\n'
                     % (1_700_000_000_000 + i, i, (i * 7919) % 50, (i * 2654435761) % 1000))


def read_ids(path):
    ids = []
    with open(path) as fh:
        for line in fh:
            line = line.strip()
            if line.startswith("{"):
                ids.append(json.loads(line)["data"][0])
    return ids


def start_nodes(args, app, ports, work, name):
    """Two nodes running `app` with little credit, as the stateless tier; None if one did not start."""
    nodes = [subprocess.Popen([args.engine, "node", "--app", app, "--listen", "127.0.0.1:%d" % p, "--id", "%s%d" % (name, i),
                               "--credit", "8"], stdout=subprocess.DEVNULL,
                              stderr=open(os.path.join(work, "%s%d.log" % (name, i)), "w"))
             for i, p in enumerate(ports)]
    return nodes, all(wait_listening(p) for p in ports)


def start_sender(args, work, ports):
    """`sluice send` of COUNT events with unique ids, spread over the nodes at `ports`."""
    events = os.path.join(work, "events.jsonl")
    write_events(events, args.count)
    return subprocess.Popen([args.engine, "send", "--to", ",".join("127.0.0.1:%d" % p for p in ports),
                             "--stream", "Request", "--events", events, "--schema", SCHEMA,
                             "--rate", str(args.rate), "--batch", "500", "--in-flight", "16"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def sender_result(sender):
    """The send's JSON summary, and an error text when it printed none."""
    out, err = sender.communicate(timeout=180)
    result = next((json.loads(line) for line in reversed(out.splitlines()) if line.startswith("{")), None)
    return result, None if result else "sluice send printed no result (exit %d): %s" % (sender.returncode, err.strip()[-300:])


def through_a_sink(args, work):
    """Part 2: two forwarding nodes, one killed, a receiver behind their tcp sinks. Returns failures."""
    os.makedirs(work, exist_ok=True)
    failures = []
    receiver_port, ports = free_port(), [free_port(), free_port()]
    paths = {"receiver": os.path.join(work, "receiver.siddhi"), "forwarder": os.path.join(work, "forwarder.siddhi")}
    with open(paths["receiver"], "w") as fh:
        fh.write(RECEIVER)
    with open(paths["forwarder"], "w") as fh:
        fh.write(FORWARDER % receiver_port)
    procs = []
    try:
        # Little credit: what the receiver has not granted stays in the forwarders' sinks.
        procs.append(subprocess.Popen([args.engine, "node", "--app", paths["receiver"], "--listen", "127.0.0.1:%d" % receiver_port,
                                       "--id", "receiver", "--credit", "2"], stdout=subprocess.DEVNULL,
                                      stderr=open(os.path.join(work, "receiver.log"), "w")))
        if not wait_listening(receiver_port):
            return ["the receiver did not start"]
        nodes, started = start_nodes(args, paths["forwarder"], ports, work, "forwarder")
        procs += nodes
        if not started:
            return ["a forwarder did not start"]
        out = os.path.join(work, "received.jsonl")
        sub_timeout = args.kill_after + args.count / args.rate + 8
        procs.append(subprocess.Popen([args.engine, "subscribe", "--to", "127.0.0.1:%d" % receiver_port, "--stream", "Received",
                                       "--credit", "100000", "--timeout", str(sub_timeout), "--count", str(args.count)],
                                      stdout=open(out, "w"), stderr=subprocess.DEVNULL))
        time.sleep(0.5)
        sender = start_sender(args, work, ports)
        procs.append(sender)
        # The receiver pauses just before the kill, so the killed forwarder's sink holds events it
        # has taken but not delivered: they must not have been acknowledged.
        time.sleep(max(0.0, args.kill_after - 0.5))
        procs[0].send_signal(signal.SIGSTOP)
        time.sleep(0.5)
        nodes[0].send_signal(signal.SIGKILL)
        time.sleep(0.3)
        procs[0].send_signal(signal.SIGCONT)
        result, error = sender_result(sender)
        if error:
            return ["through a sink: " + error]
        print("send (through a sink):", json.dumps(result))
        if result.get("acked") != args.count:
            failures.append("through a sink: not every event was acknowledged: %s" % result)
        try:
            procs[-2].wait(timeout=sub_timeout + 10)
        except subprocess.TimeoutExpired:
            procs[-2].kill()
        seen = read_ids(out)
        unique = set(seen)
        print("received through the sinks: %d rows, %d distinct events, %d duplicates (forwarder 0 killed after %.1f s)"
              % (len(seen), len(unique), len(seen) - len(unique), args.kill_after))
        missing = set(range(args.count)) - unique
        if missing:
            failures.append("through a sink: %d acknowledged events never reached the receiver (e.g. id %d)"
                            % (len(missing), min(missing)))
        if len(seen) != len(unique):
            failures.append("through a sink: %d events reached the receiver twice" % (len(seen) - len(unique)))
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
    return failures


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
        nodes, started = start_nodes(args, app, ports, work, "node")
        procs += nodes
        if not started:
            print("FAIL a node did not start")
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
        sender = start_sender(args, work, ports)
        procs.append(sender)
        time.sleep(args.kill_after)
        nodes[0].send_signal(signal.SIGKILL)
        result, error = sender_result(sender)
        if error:
            failures.append(error)
        else:
            print("send:", json.dumps(result))
            if result.get("acked") != args.count or result.get("sent") != args.count:
                failures.append("not every event was acknowledged: %s" % result)
        for s in subs:
            try:
                s.wait(timeout=sub_timeout + 10)
            except subprocess.TimeoutExpired:
                s.kill()
        seen = [i for path in outs for i in read_ids(path)]
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
    sink_failures = through_a_sink(args, os.path.join(work, "sink"))
    checks = [failures, sink_failures]
    for f in failures + sink_failures:
        print("FAIL", f)
    failed = sum(1 for c in checks if c)
    print("failover: %d passed, %d failed" % (len(checks) - failed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
