#!/usr/bin/env python3
"""`make demo`'s three-tier run with a failover: `sluice cluster up` the seed topology, drive
`sluice send --generate request --ids --ack-log` through it for about --seconds with a live progress
line (events/s per tier, from `sluice status --json`), `kill -9` the leader of one stateful group
half way (whichever member leads it, read from its /status), print who took over and how long
delivery paused, then print the per-tenant statistics both groups emitted and a summary, and
`sluice cluster down` at the end, on failure and on Ctrl-C.

The outputs are followed with `sluice subscribe --to <member1>,<member2>` (it follows each group's
leader across the failover). The check uses the checker's own records only, not node counters:

  sent        events `sluice send` offered
  acked       events in batches the stateless tier acknowledged (`--ack-log` lines ending in ok)
  delivered   distinct requestIds seen on the groups' `Processed` streams
  lost        acknowledged requestIds never delivered
  duplicated  requestIds delivered more than once
  failoverGapMs  the longest pause in the killed group's `Processed` deliveries from the kill on
                 (the wall time each output line reached its file)

The last stdout line is that JSON object; the exit status is non-zero when anything was lost or
duplicated (or the run did not complete).
"""
import argparse
import collections
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

TIERS = ("stateless", "partitioner", "stateful")


def run(engine, *args, timeout=120):
    return subprocess.run([engine, *args], capture_output=True, text=True, timeout=timeout)


def status(engine, topology):
    """One `sluice status --json` (it samples twice, a second apart): rows by node, or {} if it failed."""
    st = run(engine, "status", "--topology", topology, "--json", "--interval", "1s", timeout=30)
    if st.returncode != 0:
        return {}
    return {row["node"]: row for row in json.loads(st.stdout)["nodes"]}


def per_tier(rows, key):
    """Totals per tier. A group counts once, by the member that applied the most (its leader: the
    follower applies the same log a little later), so the stateful tier is not counted twice."""
    totals = dict.fromkeys(TIERS, 0)
    best = {}
    for row in rows.values():
        if row.get("tier") not in totals or row.get(key) is None:
            continue
        if row["tier"] == "stateful" and row.get("group"):
            if row["group"] not in best or (row.get("eventsIn") or 0) > (best[row["group"]].get("eventsIn") or 0):
                best[row["group"]] = row
            continue
        totals[row["tier"]] += row[key]
    for row in best.values():
        totals["stateful"] += row[key]
    return totals


def admin_status(admin):
    try:
        with urllib.request.urlopen("http://%s/status" % admin, timeout=1) as r:
            return json.loads(r.read())
    except (OSError, ValueError):
        return None


def ha_role(admin):
    return ((admin_status(admin) or {}).get("ha") or {}).get("role") or ""


def leader_of(members, nodes):
    """The member whose /status says it leads, or None (none, or both during a change)."""
    leading = [m for m in members if ha_role(nodes[m]["admin"]).startswith("leader")]
    return leading[0] if len(leading) == 1 else None


class Tail:
    """Follows the files the subscribers write, recording when each complete line arrived (the
    wall time of the poll that saw it, every few milliseconds) and, for `Processed`, its requestId."""

    def __init__(self, paths, interval=0.005):
        self.paths, self.interval = paths, interval
        self.lock = threading.Lock()
        self.ids = {key: collections.Counter() for key in paths}     # requestId → times seen
        self.arrivals = {key: [] for key in paths}                    # (wall time, lines) per poll
        self.lines = dict.fromkeys(paths, 0)
        self.last_arrival = time.time()
        self._handles, self._rests = {}, dict.fromkeys(paths, b"")
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self):
        self._thread.start()

    def stop(self):
        self._stop.set()
        self._thread.join()
        self._poll_all()  # what arrived after the last poll

    def _run(self):
        while not self._stop.is_set():
            self._poll_all()
            time.sleep(self.interval)

    def _poll_all(self):
        for key, path in self.paths.items():
            if key not in self._handles:
                try:
                    self._handles[key] = open(path, "rb")
                except OSError:
                    continue
            data = self._handles[key].read()
            if not data:
                continue
            now = time.time()
            data = self._rests[key] + data
            cut = data.rfind(b"\n") + 1
            self._rests[key] = data[cut:]
            lines = data[:cut].splitlines()
            ids = []
            if key[1] == "Processed":
                for line in lines:
                    # {"stream":"Processed","timestamp":…,"data":[ID,"tenant"],…}: the id without a JSON parse.
                    start = line.find(b'"data":[')
                    if start >= 0:
                        start += 8
                        ids.append(int(line[start:line.index(b",", start)]))
            with self.lock:
                self.lines[key] += len(lines)
                if lines:
                    self.arrivals[key].append((now, len(lines)))
                    self.last_arrival = now
                self.ids[key].update(ids)

    def delivered(self):
        with self.lock:
            seen = set()
            for key, counter in self.ids.items():
                seen.update(counter)
            return seen

    def longest_gap(self, key, since, until):
        """The longest pause between two arrivals on `key`, counting from the last arrival at or
        before `since` to the last before `until`: (seconds, when it ended)."""
        with self.lock:
            times = [t for t, _ in self.arrivals[key]]
        before = [t for t in times if t <= since]
        points = ([before[-1]] if before else [since]) + [t for t in times if since < t <= until]
        best = (0.0, None)
        for a, b in zip(points, points[1:]):
            if b - a > best[0]:
                best = (b - a, b)
        return best


def read_ack_log(path):
    """(acked ids, failed ids, events in failed batches) from `sluice send --ack-log`."""
    acked, failed = set(), set()
    try:
        with open(path) as fh:
            for line in fh:
                parts = line.split()
                if len(parts) != 3:
                    continue
                first, last = int(parts[0]), int(parts[1])
                (acked if parts[2] == "ok" else failed).update(range(first, last + 1))
    except OSError:
        pass
    return acked, failed


def run_dir_of(topology, given):
    """Where `cluster up` keeps cluster.json: --dir, or `.sluice/<topology name>` under the current directory."""
    if given:
        return os.path.abspath(given)
    with open(topology) as fh:
        match = re.search(r"^name:\s*['\"]?([^'\"\s#]+)", fh.read(), re.M)
    return os.path.abspath(os.path.join(".sluice", match.group(1) if match else "default"))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--engine", required=True)
    ap.add_argument("--topology", required=True)
    ap.add_argument("--seconds", type=float, default=30, help="how long to send for")
    ap.add_argument("--rate", type=int, default=40_000, help="events per second to offer")
    ap.add_argument("--dir", help="the cluster's run directory (default: cluster up's, .sluice/<name>)")
    ap.add_argument("--kill-group", help="the stateful group whose leader is killed (default: the first)")
    ap.add_argument("--kill-after", type=float, help="seconds into the send (default: 40%% of --seconds)")
    args = ap.parse_args()
    engine = os.path.abspath(args.engine)
    topology = os.path.abspath(args.topology)
    where = ["--dir", os.path.abspath(args.dir)] if args.dir else []
    run_dir = run_dir_of(topology, args.dir)
    count = int(args.seconds * args.rate)
    kill_after = args.seconds * 0.4 if args.kill_after is None else args.kill_after
    children = []
    work = tempfile.mkdtemp(prefix="sluice-demo-")
    verdict = None

    def interrupted(signum, _frame):
        raise KeyboardInterrupt("signal %d" % signum)
    # SIGINT too: Python leaves it ignored when started in the background by a shell.
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, interrupted)

    print("== sluice cluster up %s" % os.path.relpath(topology))
    try:
        up = run(engine, "cluster", "up", topology, *where, "--timeout", "60")
    except KeyboardInterrupt:
        # Interrupted half way: stop whatever it had started.
        run(engine, "cluster", "down", topology, *where, "--grace", "10")
        return 130
    sys.stdout.write(up.stdout)
    if up.returncode != 0:
        sys.stderr.write(up.stderr)
        return 1
    tail = None
    try:
        with open(os.path.join(run_dir, "cluster.json")) as fh:
            pids = {n["id"]: n["pid"] for n in json.load(fh)["nodes"]}
        nodes = {row["node"]: row for row in status(engine, topology).values()}
        groups = collections.defaultdict(list)
        for name, row in sorted(nodes.items()):
            if row.get("tier") == "stateful" and row.get("group"):
                groups[row["group"]].append(name)
        groups = dict(sorted(groups.items()))
        if not groups:
            print("`sluice status` found no stateful group in %s" % topology)
            return 1
        kill_group = args.kill_group or next(iter(groups))
        if kill_group not in groups:
            print("no stateful group %s in %s" % (kill_group, ", ".join(groups)))
            return 1

        # Each group elects its leader (either member may win); only the leader takes subscribers.
        deadline = time.time() + 30
        while time.time() < deadline and not all(leader_of(m, nodes) for m in groups.values()):
            time.sleep(0.1)
        leaders = {g: leader_of(m, nodes) for g, m in groups.items()}
        print("\n== leaders: " + ", ".join("%s %s (follower %s)" % (g, leaders[g], ",".join(x for x in m if x != leaders[g]))
                                           for g, m in groups.items()))

        outputs = {}
        for g, members in groups.items():
            to = ",".join(nodes[m]["listen"] for m in members)
            for stream in ("Processed", "TenantStats"):
                outputs[g, stream] = os.path.join(work, "%s-%s.jsonl" % (g, stream))
                children.append(subprocess.Popen([engine, "subscribe", "--to", to, "--stream", stream, "--credit", "256",
                                                  "--timeout", "3600"], stdout=open(outputs[g, stream], "w"),
                                                 stderr=open(outputs[g, stream] + ".err", "w")))
        subscribers = list(children)
        print("== sluice subscribe --to <member1>,<member2> --stream Processed|TenantStats, for each of %s "
              "(follows the leader)" % ", ".join(groups))
        deadline = time.time() + 30
        while time.time() < deadline and not all(
                any(all((admin_status(nodes[m]["admin"]) or {}).get("subscriptions", {}).get(s) for s in ("Processed", "TenantStats"))
                    for m in members) for members in groups.values()):
            time.sleep(0.1)
        tail = Tail(outputs)
        tail.start()

        producers = ",".join(row["listen"] for row in nodes.values() if row["tier"] == "stateless")
        ack_log = os.path.join(work, "acks.log")
        print("\n== sluice send --to %s --stream Request --generate request --ids --ack-log %s --count %d --rate %d"
              % (producers, ack_log, count, args.rate))
        print("   kill -9 of %s's leader after %.0f s" % (kill_group, kill_after))
        started = time.time()
        sender = subprocess.Popen([engine, "send", "--to", producers, "--stream", "Request", "--generate", "request", "--ids",
                                   "--ack-log", ack_log, "--count", str(count), "--rate", str(args.rate)],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        children.append(sender)
        live = sys.stdout.isatty()
        peak = dict.fromkeys(TIERS, 0.0)
        totals = dict.fromkeys(TIERS, 0)
        killed = None            # {"node", "pid", "at", "survivor", "tookOver", "term", "resumed"}
        events = []              # what happened, printed between progress lines
        watcher = None

        def watch_takeover(k):
            """Polls the survivor's /status until it leads; then waits for the killed group's
            `Processed` deliveries to resume."""
            admin = nodes[k["survivor"]]["admin"]
            while time.time() - k["at"] < 30:
                ha = (admin_status(admin) or {}).get("ha") or {}
                if ha.get("role", "").startswith("leader"):
                    k["tookOver"], k["term"] = time.time(), ha.get("term")
                    events.append("   %s took over %s %.0f ms after the kill (term %s)"
                                  % (k["survivor"], kill_group, (k["tookOver"] - k["at"]) * 1000, k["term"]))
                    break
                time.sleep(0.01)
            key = (kill_group, "Processed")
            with tail.lock:
                base = tail.lines[key]
            while time.time() - k["at"] < 60:
                with tail.lock:
                    grown = tail.lines[key] > base and tail.arrivals[key][-1][0] > k.get("tookOver", k["at"])
                if grown:
                    gap, _ = tail.longest_gap(key, k["at"], time.time())
                    k["resumed"] = time.time()
                    events.append("   %s's Processed deliveries resumed: the longest pause since the kill was %.0f ms"
                                  % (kill_group, gap * 1000))
                    break
                time.sleep(0.01)

        # Until the sender is done and every acknowledged id was delivered (or delivery stalls).
        acked = failed = None
        last_progress, last_delivered = time.time(), -1
        while True:
            if killed is None and time.time() - started >= kill_after and sender.poll() is None:
                victim = leader_of(groups[kill_group], nodes)
                if victim is None:
                    events.append("   (no single leader of %s right now; trying again)" % kill_group)
                else:
                    os.kill(pids[victim], signal.SIGKILL)
                    killed = {"node": victim, "pid": pids[victim], "at": time.time(),
                              "survivor": next(m for m in groups[kill_group] if m != victim)}
                    print(("\n" if live else "") + "== kill -9 %s (pid %d), the leader of %s, %.1f s into the send"
                          % (victim, pids[victim], kill_group, killed["at"] - started))
                    watcher = threading.Thread(target=watch_takeover, args=(killed,), daemon=True)
                    watcher.start()
            rows = status(engine, topology)
            while events:
                print(("\n" if live else "") + events.pop(0))
            rates, totals = per_tier(rows, "eventsInPerSecond"), per_tier(rows, "eventsIn")
            peak = {t: max(peak[t], rates[t]) for t in TIERS}
            down = [n for n, r in rows.items() if r["health"] != "ok"]
            delivered = len(tail.delivered())
            # One line rewritten in place on a terminal; a line a second in a log.
            sys.stdout.write(("\r" if live else "") + "  %4.0fs  in/s: stateless %9s  partitioner %9s  stateful %9s   "
                             "total %s → %s, delivered %s%s   "
                             % (time.time() - started, "{:,.0f}".format(rates["stateless"]),
                                "{:,.0f}".format(rates["partitioner"]), "{:,.0f}".format(rates["stateful"]),
                                "{:,}".format(totals["stateless"]), "{:,}".format(totals["stateful"]),
                                "{:,}".format(delivered), ("  DOWN: " + ",".join(down)) if down else "")
                             + ("" if live else "\n"))
            sys.stdout.flush()
            if delivered != last_delivered:
                last_progress, last_delivered = time.time(), delivered
            if sender.poll() is not None:
                if acked is None:
                    acked, failed = read_ack_log(ack_log)
                if acked <= tail.delivered() or time.time() - last_progress > 10:
                    break
        if live:
            print()
        if watcher is not None:
            watcher.join(timeout=30)
        while events:
            print(events.pop(0))
        out, err = sender.communicate()
        result = json.loads(out.strip().splitlines()[-1]) if out.strip().startswith("{") else {}
        if sender.returncode != 0:
            print("sluice send failed: %s" % err.strip()[-500:])
        drained = time.time() - started

        # Each tenant's minutes close when a later event of that tenant arrives: the last one stays open.
        time.sleep(0.5)
        tail.stop()
        for proc in subscribers:
            proc.terminate()
            proc.wait(timeout=10)

        per_tenant = collections.defaultdict(lambda: {"minutes": 0, "requests": 0, "weighted": 0.0, "max": 0,
                                                      "throttled": 0, "group": None})
        for g in groups:
            with open(outputs[g, "TenantStats"]) as rows_file:
                for line in rows_file:
                    if not line.startswith("{") or not line.endswith("\n"):
                        continue
                    tenant, requests, avg, maximum, throttled = json.loads(line)["data"]
                    t = per_tenant[tenant]
                    t["minutes"] += 1
                    t["requests"] += requests
                    t["weighted"] += avg * requests
                    t["max"] = max(t["max"], maximum)
                    t["throttled"] += throttled
                    t["group"] = g
        print("\n== TenantStats, per tenant over its closed minutes (following the leaders of %s)" % ", ".join(groups))
        print("%-14s %5s %7s %10s %8s %7s %9s" % ("TENANT", "GROUP", "MINUTES", "REQUESTS", "AVG ms", "MAX ms", "THROTTLED"))
        for tenant, t in sorted(per_tenant.items(), key=lambda kv: -kv[1]["requests"]):
            print("%-14s %5s %7d %10s %8.1f %7d %9d" % (tenant, t["group"], t["minutes"], "{:,}".format(t["requests"]),
                                                      t["weighted"] / max(1, t["requests"]), t["max"], t["throttled"]))
        tenants_per_group = collections.Counter(t["group"] for t in per_tenant.values())

        # The checker's own records: the ack log and the Processed lines.
        acked, failed = read_ack_log(ack_log)
        seen = collections.Counter()
        for g in groups:
            seen.update(tail.ids[g, "Processed"])
        lost = acked - set(seen)
        duplicated = [i for i, n in seen.items() if n > 1]
        gap, gap_end = (0.0, None)
        if killed:
            gap, gap_end = tail.longest_gap((kill_group, "Processed"), killed["at"], drained + started)
        verdict = {"sent": result.get("sent", 0), "acked": len(acked), "delivered": len(seen), "lost": len(lost),
                   "duplicated": len(duplicated), "failoverGapMs": round(gap * 1000, 1)}

        print("\n== summary")
        print("  sent %s, acked %s in %.1f s: %s events/s offered at --rate %s"
              % ("{:,}".format(result.get("sent", 0)), "{:,}".format(result.get("acked", 0)), result.get("seconds", 0),
                 "{:,}".format(result.get("eventsPerSecond", 0)), "{:,}".format(args.rate)))
        print("  events applied per tier: " + ", ".join("%s %s" % (t, "{:,}".format(totals[t])) for t in TIERS)
              + " (a group counted once)")
        print("  peak events/s per tier:  " + ", ".join("%s %s" % (t, "{:,.0f}".format(peak[t])) for t in TIERS))
        print("  end to end: %s events delivered in %.1f s = %s events/s"
              % ("{:,}".format(len(seen)), drained, "{:,.0f}".format(len(seen) / max(drained, 1e-9))))
        print("  tenants per group: " + ", ".join("%s %d" % kv for kv in sorted(tenants_per_group.items())))
        if killed:
            took = ("%s took over after %.0f ms (term %s)" % (killed["survivor"], (killed["tookOver"] - killed["at"]) * 1000,
                                                              killed["term"])
                    if killed.get("tookOver") else "%s did NOT take over within 30 s" % killed["survivor"])
            print("  failover: killed %s (leader of %s) %.1f s into the send; %s; longest pause in %s's Processed "
                  "deliveries %.0f ms" % (killed["node"], kill_group, killed["at"] - started, took, kill_group, gap * 1000))
        else:
            print("  failover: none (the send ended before --kill-after)")
        print("  checker: %s acked ids, %s delivered, %d lost, %d duplicated, %d in failed batches"
              % ("{:,}".format(len(acked)), "{:,}".format(len(seen)), len(lost), len(duplicated), len(failed)))
        if lost:
            print("    lost e.g. %s" % sorted(lost)[:10])
        if duplicated:
            print("    duplicated e.g. %s" % sorted(duplicated)[:10])
        complete = sender.returncode == 0 and result.get("acked") == count and len(acked) == count
        ok = complete and not lost and not duplicated
        print("  result: %s" % ("every acknowledged event delivered exactly once across the failover" if ok
                                else "INCOMPLETE" if not lost and not duplicated else "LOST OR DUPLICATED EVENTS"))
        return 0 if ok else 1
    except KeyboardInterrupt:
        print("\ninterrupted")
        return 130
    finally:
        # A second Ctrl-C must not cut the clean-up short.
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, signal.SIG_IGN)
        for proc in children:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        print("\n== sluice cluster down")
        down = run(engine, "cluster", "down", topology, *where, "--grace", "10")
        sys.stdout.write(down.stdout + down.stderr)
        if verdict is not None and verdict["lost"] == 0 and verdict["duplicated"] == 0:
            shutil.rmtree(work, ignore_errors=True)
        else:
            print("(the subscribers' outputs and the ack log are in %s)" % work)
        if verdict is not None:
            # The last line: the checker's verdict, for scripts.
            print(json.dumps(verdict, separators=(",", ":")))


if __name__ == "__main__":
    sys.exit(main())
