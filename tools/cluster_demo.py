#!/usr/bin/env python3
"""`make demo`'s three-tier run: `sluice cluster up` the seed topology, drive `sluice send --generate
request` through it for about --seconds with a live progress line (events/s per tier, from
`sluice status --json`), print the per-tenant statistics both groups emitted and a summary, and
`sluice cluster down` at the end, on failure and on Ctrl-C.
"""
import argparse
import collections
import json
import os
import signal
import subprocess
import sys
import tempfile
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
    totals = dict.fromkeys(TIERS, 0)
    for row in rows.values():
        if row.get("tier") in totals and row.get(key) is not None:
            totals[row["tier"]] += row[key]
    return totals


def subscriptions(admin):
    try:
        with urllib.request.urlopen("http://%s/status" % admin, timeout=2) as r:
            return json.loads(r.read()).get("subscriptions", {})
    except OSError:
        return {}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--engine", required=True)
    ap.add_argument("--topology", required=True)
    ap.add_argument("--seconds", type=float, default=30, help="how long to send for")
    ap.add_argument("--rate", type=int, default=60_000, help="events per second to offer")
    ap.add_argument("--dir", help="the cluster's run directory (default: cluster up's, .sluice/<name>)")
    args = ap.parse_args()
    engine = os.path.abspath(args.engine)
    topology = os.path.abspath(args.topology)
    where = ["--dir", os.path.abspath(args.dir)] if args.dir else []
    count = int(args.seconds * args.rate)
    children = []

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
    try:
        nodes = {row["node"]: row for row in status(engine, topology).values()}
        leaders = sorted({row["leader"] for row in nodes.values() if row.get("leader")})
        outputs = {}
        for leader in leaders:
            outputs[leader] = tempfile.NamedTemporaryFile("w+", prefix="tenantstats-%s-" % leader, suffix=".jsonl",
                                                          delete=False)
            children.append(subprocess.Popen([engine, "subscribe", "--to", nodes[leader]["listen"], "--stream",
                                              "TenantStats", "--timeout", "3600"], stdout=outputs[leader],
                                             stderr=subprocess.DEVNULL))
        deadline = time.time() + 30
        while time.time() < deadline and not all(subscriptions(nodes[l]["admin"]).get("TenantStats") for l in leaders):
            time.sleep(0.1)

        producers = ",".join(row["listen"] for row in nodes.values() if row["tier"] == "stateless")
        print("\n== sluice send --to %s --stream Request --generate request --count %d --rate %d"
              % (producers, count, args.rate))
        started = time.time()
        sender = subprocess.Popen([engine, "send", "--to", producers, "--stream", "Request", "--generate", "request",
                                   "--count", str(count), "--rate", str(args.rate)],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        children.append(sender)
        live = sys.stdout.isatty()
        peak = dict.fromkeys(TIERS, 0.0)
        totals = dict.fromkeys(TIERS, 0)
        # Until the sender is done and the stateful tier has applied all it acknowledged (or stalls).
        last_progress, last_total = time.time(), -1
        while True:
            rows = status(engine, topology)
            rates, totals = per_tier(rows, "eventsInPerSecond"), per_tier(rows, "eventsIn")
            peak = {t: max(peak[t], rates[t]) for t in TIERS}
            down = [n for n, r in rows.items() if r["health"] != "ok"]
            # One line rewritten in place on a terminal; a line a second in a log.
            sys.stdout.write(("\r" if live else "") + "  %4.0fs  in/s: stateless %9s  partitioner %9s  stateful %9s   total %s → %s%s   "
                             % (time.time() - started, "{:,.0f}".format(rates["stateless"]),
                                "{:,.0f}".format(rates["partitioner"]), "{:,.0f}".format(rates["stateful"]),
                                "{:,}".format(totals["stateless"]), "{:,}".format(totals["stateful"]),
                                ("  DOWN: " + ",".join(down)) if down else "") + ("" if live else "\n"))
            sys.stdout.flush()
            if totals["stateful"] != last_total:
                last_progress, last_total = time.time(), totals["stateful"]
            if sender.poll() is not None and (totals["stateful"] >= count or time.time() - last_progress > 10):
                break
        if live:
            print()
        out, err = sender.communicate()
        result = json.loads(out.strip().splitlines()[-1]) if out.strip().startswith("{") else {}
        if sender.returncode != 0:
            print("sluice send failed: %s" % err.strip()[-500:])
        drained = time.time() - started

        # Each tenant's minutes close when a later event of that tenant arrives: the last one stays open.
        time.sleep(0.5)
        for proc in children[:len(leaders)]:
            proc.terminate()
            proc.wait(timeout=10)
        per_tenant = collections.defaultdict(lambda: {"minutes": 0, "requests": 0, "weighted": 0.0, "max": 0,
                                                      "throttled": 0, "group": None})
        for leader, fh in outputs.items():
            fh.flush()
            with open(fh.name) as rows_file:
                for line in rows_file:
                    if not line.startswith("{"):
                        continue
                    tenant, requests, avg, maximum, throttled = json.loads(line)["data"]
                    t = per_tenant[tenant]
                    t["minutes"] += 1
                    t["requests"] += requests
                    t["weighted"] += avg * requests
                    t["max"] = max(t["max"], maximum)
                    t["throttled"] += throttled
                    t["group"] = nodes[leader]["group"]
            os.unlink(fh.name)
        print("\n== TenantStats, per tenant over its closed minutes (subscribed to %s)" % ", ".join(leaders))
        print("%-14s %5s %7s %10s %8s %7s %9s" % ("TENANT", "GROUP", "MINUTES", "REQUESTS", "AVG ms", "MAX ms", "THROTTLED"))
        for tenant, t in sorted(per_tenant.items(), key=lambda kv: -kv[1]["requests"]):
            print("%-14s %5s %7d %10s %8.1f %7d %9d" % (tenant, t["group"], t["minutes"], "{:,}".format(t["requests"]),
                                                      t["weighted"] / max(1, t["requests"]), t["max"], t["throttled"]))
        groups = collections.Counter(t["group"] for t in per_tenant.values())
        print("\n== summary")
        print("  sent %s, acked %s in %.1f s: %s events/s offered at --rate %s"
              % ("{:,}".format(result.get("sent", 0)), "{:,}".format(result.get("acked", 0)), result.get("seconds", 0),
                 "{:,}".format(result.get("eventsPerSecond", 0)), "{:,}".format(args.rate)))
        print("  events applied per tier: " + ", ".join("%s %s" % (t, "{:,}".format(totals[t])) for t in TIERS))
        print("  peak events/s per tier:  " + ", ".join("%s %s" % (t, "{:,.0f}".format(peak[t])) for t in TIERS))
        print("  end to end: %s events through three tiers in %.1f s = %s events/s"
              % ("{:,}".format(totals["stateful"]), drained, "{:,.0f}".format(totals["stateful"] / max(drained, 1e-9))))
        print("  tenants per group: " + ", ".join("%s %d" % kv for kv in sorted(groups.items())))
        ok = sender.returncode == 0 and result.get("acked") == count and totals["stateful"] == count
        print("  result: %s" % ("every acknowledged event reached the stateful tier" if ok else "INCOMPLETE"))
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


if __name__ == "__main__":
    sys.exit(main())
