#!/usr/bin/env python3
"""`make bench`: every scenario of the performance harness in one run on this machine, with the
machine's limits measured beside them, written to perf/results/<date>/ as results.json plus
report.md with SVG plots (perf/harness/report.py). perf/RESULTS.md gets the summary.

Scenarios (fixed seeds and formulas, so runs compare):
  engine      the engine in one process: the micro-workloads and the peers' job (PeerJob)
  node        one node over loopback: closed loop from the C producer and from `sluice send`,
              open-loop latency from send to subscriber (LatencyProbe, HDR histogram)
  tiers       the seed's three tiers (perf/scripts/tiers.py), without and with sync replication
  tiers-http  the same tiers over the seed's JSON/HTTP links
  failover    the leader of a group killed under open-loop load (tools/ha_test.py kill-leader)
  peers       with --peers (`make bench-peers`): the peers' job in Flink, Spark, bytewax and pathway
              (perf/peers/run.sh) against Sluice embedded and through one node from `sluice send`

    perf/harness/bench.py [--quick] [--peers | --only-peers] [--only engine,node,...] [--out DIR]

--quick runs each scenario small (a few minutes in all) into perf/results/<date>-quick/, which git
ignores; the default sizes are for the figures that go into perf/RESULTS.md.
"""
import argparse
import datetime
import hashlib
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
PERF = os.path.dirname(HERE)
ROOT = os.path.dirname(PERF)
sys.path.insert(0, os.path.join(ROOT, "tools"))
from testkit import free_port, status, stop, write  # noqa: E402
sys.path.insert(0, os.path.join(PERF, "peers"))
import common as peers  # noqa: E402  (the job's formula and canonical results, shared with the peers)

SLUICE = os.path.join(ROOT, ".build", "release", "sluice")
PERF_BIN = os.path.join(PERF, ".build", "release")

# Sizes: (quick, full).
SIZES = {
    "engineIterations": (10, 30),
    "peerEvents": (2_000_000, 20_000_000),
    "cProducerEvents": (5_000_000, 20_000_000),
    "sendEvents": (1_000_000, 4_000_000),
    "latencySeconds": (3, 10),
    "tiersEvents": (100_000, 6_000_000),
    "tiersHttpEvents": (50_000, 1_000_000),
    "failoverEvents": (150_000, 1_200_000),
    "failoverRate": (30_000, 40_000),
}

# The peers' job as one Siddhi app each (perf/peers/README.md); `ts` outside an aggregate is the
# group's last event, which names the window.
PEER_STREAM = "define stream Request (tenant string, ts long, responseTime long);\n"
PEER_APPS = {
    "window": PEER_STREAM + "from Request#window.externalTimeBatch(ts, 1000 sec) select tenant, ts, count() as n, "
                            "avg(responseTime) as avgRt group by tenant insert into Out;\n",
    "filter": PEER_STREAM + "from Request[responseTime > 500] select tenant, ts, responseTime insert into Out;\n",
}
WINDOW_MS = peers.WINDOW_MS
# `sluice send --batch` for the peers' job through a node: per-batch costs (a task hop in the SDK, a
# wake-up of the engine thread, an acknowledgement) halve the rate at 1,024 on 2 shared cores.
NODE_BATCH = 4096


def log(message):
    print("[bench %s] %s" % (time.strftime("%H:%M:%S"), message), flush=True)


def run(args, timeout=1800, cwd=None, check=True):
    p = subprocess.run(args, capture_output=True, text=True, timeout=timeout, cwd=cwd)
    if check and p.returncode != 0:
        raise RuntimeError("%s failed (%d): %s" % (" ".join(map(str, args[:3])), p.returncode, (p.stderr or p.stdout)[-600:]))
    return p


def json_lines(text):
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("{"):
            try:
                out.append(json.loads(line))
            except ValueError:
                pass
    return out


def build():
    log("building sluice, the perf executables and the C producer (release)")
    run(["swift", "build", "-c", "release", "--product", "sluice"], cwd=ROOT)
    for product in ("ProfileRuntime", "PeerJob", "LatencyProbe"):
        run(["swift", "build", "-c", "release", "--product", product], cwd=PERF)
    run(["make", "-s", "-C", os.path.join(PERF, "loadgen-c"), "loadgen", "limits"])


def machine():
    info = {"cpus": os.cpu_count(), "kernel": platform.release(), "loadAverageAtStart": round(os.getloadavg()[0], 2)}
    try:
        with open("/proc/meminfo") as fh:
            info["memoryGiB"] = round(int(fh.readline().split()[1]) / 2**20, 1)
        with open("/proc/cpuinfo") as fh:
            info["cpuModel"] = next((l.split(":", 1)[1].strip() for l in fh if l.startswith("model name")), "?")
    except OSError:
        pass
    return info


class Node:
    """One `sluice node` with an app, on free ports, until closed."""

    def __init__(self, app_text, work, name):
        self.listen, self.admin = free_port(), free_port()
        app = os.path.join(work, name + ".siddhi")
        write(app, app_text)
        self.log = open(os.path.join(work, name + ".log"), "w")
        self.process = subprocess.Popen([SLUICE, "node", "--app", app, "--id", name, "--listen", "127.0.0.1:%d" % self.listen,
                                         "--admin", "127.0.0.1:%d" % self.admin], stdout=self.log, stderr=self.log)
        deadline = time.time() + 30
        while status(self.admin) is None:
            if time.time() > deadline or self.process.poll() is not None:
                raise RuntimeError("the node did not start; see " + self.log.name)
            time.sleep(0.1)

    @property
    def address(self):
        return "127.0.0.1:%d" % self.listen

    def close(self):
        stop([self.process])


# --- scenarios --------------------------------------------------------------------------------

ENGINE_GOALS = {"filter": 100e6, "externalTimeBatch": 25e6, "groupBy1000": 20e6, "timeWindow": 9e6, "lengthBatch": 20e6,
                "join": 2e6, "pattern": 1e6}
# The issue each engine goal belongs to (the rest are issue 2's).
ENGINE_GOAL_ISSUES = {"join": 7, "pattern": 7}


def scenario_engine(size, work):
    iterations = size("engineIterations")
    p = run([os.path.join(PERF_BIN, "ProfileRuntime"), "time", str(iterations), "--json"])
    lines = json_lines(p.stdout)
    baseline = next(l["p50EventsPerSecond"] for l in lines if l["workload"] == "baseline")
    throughput = [{"label": "baseline: " + l["title"], "eventsPerSecond": l["p50EventsPerSecond"]}
                  for l in lines if l["workload"] == "baseline"]
    for l in lines:
        if l["workload"] == "baseline":
            continue
        throughput.append({"label": l["title"], "eventsPerSecond": l["p50EventsPerSecond"], "goal": ENGINE_GOALS.get(l["workload"]),
                           "baseline": baseline, "workload": l["workload"],
                           "note": "p50 of %d rounds of 102,400 events; all events over all time %.1f M/s"
                                   % (iterations, l["overallEventsPerSecond"] / 1e6)})
    events = size("peerEvents")
    for job in ("window", "filter"):
        r = peer_job_embedded(job, events)
        throughput.append({"label": "peers' job, %s (%s events)" % (job, millions(events)), "eventsPerSecond": r["eventsPerSecond"],
                           "baseline": baseline, "workload": "peers-" + job})
    return {"command": "perf/.build/release/ProfileRuntime time %d --json; perf/.build/release/PeerJob --events %d --job window|filter"
                       % (iterations, events),
            "throughput": throughput,
            "notes": ["One thread, batches of 1,024 events in memory. The baseline is a plain Swift loop counting "
                      "`responseTime > 500` over the same columns in the same run: the ratio to it is what compares across machines."]}


def peer_job_embedded(job, events):
    p = run([os.path.join(PERF_BIN, "PeerJob"), "--events", str(events), "--job", job])
    r = json_lines(p.stdout)[-1]
    return r


def scenario_node(size, work, limits):
    throughput, latency, notes = [], [], []
    # Closed loop from the C producer (id long, tenant string, value long) into a pass-through app.
    node = Node("define stream Load (id long, tenant string, value long);\nfrom Load select * insert into Out;\n", work, "ingest-c")
    try:
        count = size("cProducerEvents")
        p = run([os.path.join(PERF, "loadgen-c", "loadgen"), "--to", node.address, "--stream", "Load", "--count", str(count)])
        r = json_lines(p.stdout)[-1]
        throughput.append({"label": "closed loop, C producer, 3 attributes", "eventsPerSecond": r["eventsPerSecond"],
                           "bytesPerEvent": limits.get("bytesPerEvent"),
                           "note": "%s events; bytes per event on the wire as perf/loadgen-c/limits measures them" % millions(count)})
    finally:
        node.close()
    # Closed loop from `sluice send`: the seed's 17-attribute Request events.
    request = run([SLUICE, "generate", "request", "--count", "1"]).stdout
    schema = ("meta_clientType string, applicationConsumerKey string, applicationName string, applicationId string, "
              "applicationOwner string, apiContext string, apiName string, apiVersion string, apiCreator string, apiTier string, "
              "apiHostname string, username string, userTenantDomain string, requestTimestamp long, throttledOut bool, "
              "responseTime long, backendTime long")
    assert request
    node = Node("define stream Request (%s);\nfrom Request select * insert into Out;\n" % schema, work, "ingest-send")
    try:
        count = size("sendEvents")
        p = run([SLUICE, "send", "--to", node.address, "--stream", "Request", "--generate", "request", "--count", str(count)])
        r = json_lines(p.stdout)[-1]
        throughput.append({"label": "closed loop, sluice send, seed Request (17 attributes)", "eventsPerSecond": r["eventsPerSecond"],
                           "goal": 3e6, "note": "%s events; the Swift producer generates and encodes on the same 2 cores" % millions(count)})
    finally:
        node.close()
    seconds = size("latencySeconds")
    for rate, batch in ((700_000, 256),):
        p = run([os.path.join(PERF_BIN, "LatencyProbe"), str(rate), str(seconds), str(batch)])
        r = json_lines(p.stdout)[-1]
        latency.append({"label": "open loop %d K/s, batches of %d" % (rate // 1000, batch), "rate": rate, "p50Ms": r["p50_ms"],
                        "p99Ms": r["p99_ms"], "p999Ms": r["p999_ms"], "maxMs": r["max_ms"], "goalP99Ms": 5})
    notes.append("Latency: producer, node and subscriber over loopback, events carry their due time (open loop, "
                 "so a stall counts against every event it delays), recorded in an HDR histogram.")
    return {"command": "perf/loadgen-c/loadgen; sluice send --generate request; perf/.build/release/LatencyProbe 700000 %d 256" % seconds,
            "throughput": throughput, "latency": latency, "notes": notes}


# Producer batches for the tier runs: the tcp sink's default batch.size. The same binary run with
# `sluice send`'s default (1024) is measured beside it, since per-batch costs weigh more there.
TIERS_BATCH = 4096
# The runs without and with replication alternate this many times; the figures are medians, since
# one pair on this noisy machine ranges over ±10 points of the ratio.
TIERS_PAIRS = 3


def tiers_runs(size):
    count, http_count = size("tiersEvents"), size("tiersHttpEvents")
    script = os.path.join(PERF, "scripts", "tiers.py")
    p = run([sys.executable, script, "--count", str(count), "--http-count", str(http_count), "--replication",
             "--batch", str(TIERS_BATCH), "--repeat", str(TIERS_PAIRS), "--engine", SLUICE], timeout=3600)
    small = run([sys.executable, script, "--count", str(count), "--group-names", "--no-http", "--batch", "1024", "--engine", SLUICE],
                timeout=3600)
    runs = {}
    for text, suffix in ((p.stdout, ""), (small.stdout, "@1024")):
        for line in text.splitlines():
            m = re.match(r"^(\S+)\s+(\d+) events/s", line)
            if m:
                runs[m.group(1) + suffix] = int(m.group(2))
            m = re.match(r"^sync replication keeps (\d+)%", line)
            if m:
                runs["syncRatio"] = int(m.group(1)) / 100
    return (count, http_count), runs, p.stdout + small.stdout


def scenario_tiers(size, work, cache):
    if "tiers" not in cache:  # one run serves both scenarios (setdefault would run it twice)
        cache["tiers"] = tiers_runs(size)
    (count, http_count), runs, text = cache["tiers"]
    throughput = [{"label": "binary, no replication", "eventsPerSecond": runs.get("binary"), "goal": 1e6},
                  {"label": "binary, sync replication (HA groups)", "eventsPerSecond": runs.get("binary+sync")},
                  {"label": "binary, no replication, producer batches of 1024", "eventsPerSecond": runs.get("binary@1024")}]
    notes = ["%d seed Request events from `sluice send --batch %d` through 1 stateless node, 2 partitioners and 2 stateful nodes or groups, "
             "all on this machine's 2 cores; the figure is events over the time until the stateful tier applied all of them. "
             "The last row is the same binary run with `sluice send`'s default batch of 1024 events (`--group-names --no-http --batch 1024`)."
             % (count, TIERS_BATCH)]
    if runs.get("syncRatio"):
        notes.append("Sync replication keeps %.0f %% of the throughput without it (goal 70 %%): the median of %d alternating pairs "
                     "of runs; the first two rows are medians too." % (100 * runs["syncRatio"], TIERS_PAIRS))
    return {"command": "perf/scripts/tiers.py --count %d --http-count %d --replication --batch %d --repeat %d"
                       % (count, http_count, TIERS_BATCH, TIERS_PAIRS),
            "throughput": throughput, "syncRatio": runs.get("syncRatio"), "notes": notes}


def scenario_tiers_http(size, work, cache):
    if "tiers" not in cache:  # one run serves both scenarios (setdefault would run it twice)
        cache["tiers"] = tiers_runs(size)
    (count, http_count), runs, text = cache["tiers"]
    throughput = [{"label": "JSON/HTTP links (the seed's)", "eventsPerSecond": runs.get("json/http")}]
    notes = ["%d events through the same topology with the seed's JSON/HTTP links between the tiers." % http_count]
    if runs.get("binary") and runs.get("json/http"):
        notes.append("Binary links are %.1f× the JSON/HTTP links in the same run (goal 30×)." % (runs["binary"] / runs["json/http"]))
    return {"command": "perf/scripts/tiers.py --count %d --http-count %d --replication --batch %d --repeat %d"
                       % (count, http_count, TIERS_BATCH, TIERS_PAIRS),
            "throughput": throughput, "notes": notes}


def scenario_failover(size, work):
    count, rate = size("failoverEvents"), size("failoverRate")
    out = os.path.join(work, "failover.jsonl")
    p = run([sys.executable, os.path.join(ROOT, "tools", "ha_test.py"), "--engine", SLUICE, "--scenario", "kill-leader",
             "--count", str(count), "--rate", str(rate), "--json", out], timeout=1800, check=False)
    figures = json_lines(open(out).read())[-1] if os.path.exists(out) else {}
    if not figures:
        raise RuntimeError("ha_test.py gave no figures: " + p.stdout[-600:])
    kills = [{"t": f["t"], "node": f["node"]} for f in figures.get("faults", []) if f["signal"] == "SIGKILL"]
    result = {"command": "tools/ha_test.py --scenario kill-leader --count %d --rate %d" % (count, rate),
              "timeline": figures.get("timeline", []), "kills": kills,
              "figures": {"events": count, "rate": rate, "lost": figures.get("lost"), "duplicated": figures.get("duplicated"),
                          "gapMsMax": figures.get("failoverGapMs"), "acked": figures.get("acked"), "delivered": figures.get("delivered")},
              "notes": ["One group (two nodes and a witness) takes seed Request events at a fixed rate from `sluice send` "
                        "(open loop, batches of 100); its leader is killed with SIGKILL a third of the way in. The plot is "
                        "events delivered to the subscriber per second, in half-second bins.",
                        "Checks: %s" % ("all passed" if p.returncode == 0 else "FAILED, see below")]}
    if p.returncode != 0:
        result["notes"].append(p.stdout[-800:])
    return result


# --- peers --------------------------------------------------------------------------------------

def sha(text):
    return hashlib.sha256(text.encode()).hexdigest()


def peer_job_node(job, events, work, reference):
    """The job through one node over loopback from `sluice send`; results checked like a peer's."""
    node = Node("@app:name('Peers%s')\n" % job.capitalize() + PEER_APPS[job], work, "peers-" + job)
    try:
        if job == "window":
            if events % WINDOW_MS:
                raise RuntimeError("the window job over a node needs whole windows: --events a multiple of 1,000,000")
            # Event `events` opens the next window, which flushes the last one and never closes itself.
            send_count, expected = events + 1, events // WINDOW_MS * 50
            extra = []
        else:
            send_count, expected = events, reference["filter"]["rows"]
            extra = ["--quiet", "--sums"]
        subscriber = subprocess.Popen([SLUICE, "subscribe", "--to", node.address, "--stream", "Out", "--count", str(expected),
                                       "--timeout", "900"] + extra, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.time() + 20
        while not (status(node.admin) or {}).get("subscriptions", {}).get("Out"):
            if time.time() > deadline:
                raise RuntimeError("the subscriber did not attach")
            time.sleep(0.05)
        sent = json_lines(run([SLUICE, "send", "--to", node.address, "--stream", "Request", "--generate", "response-times",
                               "--count", str(send_count), "--batch", str(NODE_BATCH)]).stdout)[-1]
        out, err = subscriber.communicate(timeout=900)
        if job == "window":
            rows = []
            for line in out.splitlines():
                tenant, ts, n, avg = json.loads(line)["data"]
                rows.append((ts - ts % WINDOW_MS, tenant, n, avg))
            result = peers.canonical_window(rows)
        else:
            summary = json_lines(out)[-1] if json_lines(out) else {"received": 0, "sums": [None, None, None]}
            result = {"rows": summary["received"], "sumResponseTime": summary["sums"][2]}
        return {"eventsPerSecond": sent["eventsPerSecond"], "seconds": sent["seconds"], "events": send_count, "result": result,
                "note": "events acknowledged (applied) per second, batches of %d; `sluice send`, the node and the "
                        "subscriber share the 2 cores" % NODE_BATCH}
    finally:
        node.close()


def scenario_peers(size, work):
    events = size("peerEvents")
    jobs = []
    out = os.path.join(work, "peers.jsonl")
    p = run(["bash", os.path.join(PERF, "peers", "run.sh"), "--events", str(events), "--out", out,
             "--only", "flink,spark,bytewax,pathway"], timeout=7200, check=False)
    peer_lines = json_lines(open(out).read()) if os.path.exists(out) else []
    reference = reference_results(events)
    for l in peer_lines:
        name = {"flink": "Flink", "spark": "Spark", "bytewax": "bytewax", "pathway": "pathway"}.get(l.get("peer"), l.get("peer"))
        job = {"system": ("%s %s" % (name, l.get("config", ""))).strip(), "job": l.get("job"), "eventsPerSecond": l.get("eventsPerSecond"),
               "events": l.get("events"), "matchesReference": l.get("matchesReference"), "version": l.get("version"), "note": l.get("note")}
        if l.get("error"):
            job["error"] = l["error"]
        jobs.append(job)
    if p.returncode != 0 and not peer_lines:
        jobs.append({"system": "peers", "job": "window", "error": "perf/peers/run.sh failed: " + (p.stderr or p.stdout)[-300:]})
    for job in ("window", "filter"):
        r = peer_job_embedded(job, events)
        res = r["result"]
        if job == "window":
            res = {"rows": res["rows"], "sha256": sha(res["canonical"])}
        jobs.append({"system": "Sluice embedded", "job": job, "eventsPerSecond": r["eventsPerSecond"], "events": events,
                     "matchesReference": matches(job, res, reference), "sluice": True})
        try:
            n = peer_job_node(job, events, work, reference)
            jobs.append({"system": "Sluice, one node over loopback", "job": job, "eventsPerSecond": n["eventsPerSecond"],
                         "events": n["events"], "matchesReference": matches(job, n["result"], reference), "sluice": True, "note": n["note"]})
        except Exception as e:  # noqa: BLE001  (report it and go on)
            jobs.append({"system": "Sluice, one node over loopback", "job": job, "error": str(e)[:300], "sluice": True})
    return {"command": "perf/peers/run.sh --events %d; PeerJob; sluice node + sluice send --generate response-times" % events,
            "jobs": jobs,
            "notes": ["The job: %s events of the formula in perf/peers/README.md, 50 tenants; `window` is a 1,000 s tumbling "
                      "event-time window per tenant with count and avg(responseTime), `filter` is responseTime > 500. Every "
                      "result is compared with perf/peers/reference.py." % millions(events)]}


def reference_results(events):
    """The canonical results (perf/peers/reference.py, with numpy from the peers' venv); computed here
    in plain Python when that venv is missing."""
    venv_python = os.path.join(PERF, "peers", ".venv", "bin", "python")
    if os.path.exists(venv_python):
        p = run([venv_python, os.path.join(PERF, "peers", "reference.py"), "--events", str(events)],
                cwd=os.path.join(PERF, "peers"), check=False)
        lines = json_lines(p.stdout)
        if p.returncode == 0 and lines and "window" in lines[-1]:
            return lines[-1]
    sums, counts = {}, {}
    filtered, total = 0, 0
    for i in range(events):
        tenant, ts, rt = peers.event(i)
        key = (peers.window_start(ts), tenant)
        counts[key] = counts.get(key, 0) + 1
        sums[key] = sums.get(key, 0) + rt
        if rt > peers.FILTER_THRESHOLD:
            filtered, total = filtered + 1, total + rt
    return {"window": peers.canonical_window((k[0], k[1], counts[k], sums[k] / counts[k]) for k in counts),
            "filter": peers.canonical_filter(filtered, total)}


def matches(job, result, reference):
    ref = reference.get(job)
    if not ref:
        return None
    if job == "window":
        return result.get("sha256") == ref.get("sha256") and result.get("rows") == ref.get("rows")
    return result.get("rows") == ref.get("rows") and result.get("sumResponseTime") == ref.get("sumResponseTime")


# --- goals ----------------------------------------------------------------------------------------

def millions(n):
    return "%.3g M" % (n / 1e6) if n >= 1e6 else "%.3g K" % (n / 1e3)


def rate(x):
    return "—" if x is None else ("%.3g M/s" % (x / 1e6) if x >= 1e6 else "%.3g K/s" % (x / 1e3))


def goals(results):
    out = []
    sc = {s["id"]: s for s in results["scenarios"]}

    def add(issue, what, goal, measured, met):
        out.append({"issue": issue, "what": what, "goal": goal, "measured": measured, "met": met})

    for t in sc.get("engine", {}).get("throughput", []):
        if t.get("goal"):
            add(ENGINE_GOAL_ISSUES.get(t.get("workload"), 2), "engine: " + t["label"], ">= %s" % rate(t["goal"]), rate(t["eventsPerSecond"]),
                t["eventsPerSecond"] >= t["goal"])
    node = sc.get("node", {})
    for t in node.get("throughput", []):
        if t.get("goal"):
            add(3, "one node: " + t["label"], ">= %s" % rate(t["goal"]), rate(t["eventsPerSecond"]), t["eventsPerSecond"] >= t["goal"])
    for l in node.get("latency", []):
        add(3, "send → subscriber p99, " + l["label"], "<= 5 ms", "%.2f ms" % l["p99Ms"], l["p99Ms"] <= 5)
    tiers = {t["label"]: t["eventsPerSecond"] for t in sc.get("tiers", {}).get("throughput", [])}
    http = {t["label"]: t["eventsPerSecond"] for t in sc.get("tiers-http", {}).get("throughput", [])}
    b, s, h = tiers.get("binary, no replication"), tiers.get("binary, sync replication (HA groups)"), http.get("JSON/HTTP links (the seed's)")
    if b:
        add(4, "three tiers, binary (producer batches of %d)" % TIERS_BATCH, ">= 1 M/s", rate(b), b >= 1e6)
    b1024 = tiers.get("binary, no replication, producer batches of 1024")
    if b1024:
        add(4, "three tiers, binary (producer batches of 1024)", ">= 1 M/s", rate(b1024), b1024 >= 1e6)
    if b and h:
        add(4, "three tiers, binary ÷ JSON/HTTP", ">= 30×", "%.1f×" % (b / h), b / h >= 30)
    ratio = sc.get("tiers", {}).get("syncRatio") or (s / b if b and s else None)
    if ratio:
        add(5, "three tiers, sync replication ÷ none (median of %d pairs)" % TIERS_PAIRS, ">= 70 %", "%.0f %%" % (100 * ratio), ratio >= 0.7)
    f = sc.get("failover", {}).get("figures")
    if f:
        add(5, "kill -9 of a leader: lost / duplicated", "0 / 0", "%s / %s" % (f.get("lost"), f.get("duplicated")),
            f.get("lost") == 0 and f.get("duplicated") == 0)
        add(5, "kill -9 of a leader: longest pause in delivery", "< 1 s", "%s ms" % f.get("gapMsMax"), (f.get("gapMsMax") or 1e9) < 1000)
    jobs = sc.get("peers", {}).get("jobs", [])
    siddhi = {"window": 7.3e6, "filter": 31.9e6}
    for job in ("window", "filter"):
        peers = [j for j in jobs if j.get("job") == job and not j.get("sluice") and j.get("eventsPerSecond") and not j.get("error")]
        best = max(peers, key=lambda j: j["eventsPerSecond"], default=None)
        emb = next((j for j in jobs if j.get("job") == job and j.get("system") == "Sluice embedded"), None)
        one = next((j for j in jobs if j.get("job") == job and j.get("system", "").startswith("Sluice, one node")), None)
        if emb and emb.get("eventsPerSecond"):
            if best:
                ratio = emb["eventsPerSecond"] / best["eventsPerSecond"]
                add(6, "%s job: embedded ÷ best peer (%s)" % (job, best["system"]), ">= 10×", "%.1f×" % ratio, ratio >= 10)
            ratio = emb["eventsPerSecond"] / siddhi[job]
            add(6, "%s job: embedded ÷ Siddhi's measured %s" % (job, rate(siddhi[job])), ">= 3×", "%.1f×" % ratio, ratio >= 3)
        if one and one.get("eventsPerSecond") and best:
            ratio = one["eventsPerSecond"] / best["eventsPerSecond"]
            add(6, "%s job: one node over loopback ÷ best peer" % job, ">= 2×", "%.1f×" % ratio, ratio >= 2)
    return out


# --- main -----------------------------------------------------------------------------------------

def update_results_md(summary):
    """Puts the summary at the top of perf/RESULTS.md, in place of the last run's."""
    path = os.path.join(PERF, "RESULTS.md")
    text = open(path).read()
    begin, end = "<!-- bench:latest -->", "<!-- /bench:latest -->"
    summary = summary.strip()
    if summary.startswith("### "):
        summary = summary[1:]  # a section of its own under the page title
    block = "%s\n%s\n%s" % (begin, summary, end)
    if begin in text and end in text:
        text = text[:text.index(begin)] + block + text[text.index(end) + len(end):]
    else:
        first_heading = text.index("\n## ") + 1 if "\n## " in text else len(text)
        text = text[:first_heading] + block + "\n\n" + text[first_heading:]
    open(path, "w").write(text)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="small sizes: a few minutes in all")
    ap.add_argument("--peers", action="store_true", help="also run the peers (make bench-peers)")
    ap.add_argument("--only-peers", action="store_true", help="run only the peers scenario (with the limits)")
    ap.add_argument("--only", help="comma-separated scenarios to run")
    ap.add_argument("--out", help="output folder (default perf/results/<date>[-quick])")
    ap.add_argument("--no-build", action="store_true")
    ap.add_argument("--no-results-md", action="store_true", help="do not update perf/RESULTS.md")
    args = ap.parse_args()
    quick = args.quick

    def size(key):
        return SIZES[key][0 if quick else 1]

    date = datetime.date.today().isoformat()
    out_dir = args.out or os.path.join(PERF, "results", date + ("-quick" if quick else "") + ("-peers" if args.only_peers else ""))
    os.makedirs(out_dir, exist_ok=True)
    work = tempfile.mkdtemp(prefix="sluice-bench-")
    if not args.no_build:
        build()
    commit = run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, check=False).stdout.strip()
    dirty = bool(run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT, check=False).stdout.strip())
    results = {"date": date, "startedAt": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
               "commit": commit + ("+changes" if dirty else ""), "mode": "quick" if quick else "full",
               "command": "make bench" + (" QUICK=1" if quick else "") + (" (bench-peers)" if args.peers or args.only_peers else ""),
               "machine": machine(), "scenarios": []}
    log("machine limits (perf/scripts/limits.sh)")
    try:
        results["limits"] = json_lines(run(["bash", os.path.join(PERF, "scripts", "limits.sh"), "2"]).stdout)[-1]
    except Exception as e:  # noqa: BLE001
        results["limits"] = {"error": str(e)[:300]}

    cache = {}
    scenarios = [("engine", "1. The engine in one process", lambda: scenario_engine(size, work)),
                 ("node", "2. One node over loopback", lambda: scenario_node(size, work, results.get("limits", {}))),
                 ("tiers", "3. The seed's three tiers", lambda: scenario_tiers(size, work, cache)),
                 ("tiers-http", "4. The three tiers over JSON/HTTP", lambda: scenario_tiers_http(size, work, cache)),
                 ("failover", "5. Failover under load", lambda: scenario_failover(size, work)),
                 ("peers", "Peers: the same job in other stream processors", lambda: scenario_peers(size, work))]
    only = set(args.only.split(",")) if args.only else None
    for sid, title, body in scenarios:
        if sid == "peers" and not (args.peers or args.only_peers):
            continue
        if args.only_peers and sid != "peers":
            continue
        if only and sid not in only:
            continue
        log("scenario %s" % sid)
        started = time.time()
        try:
            entry = body()
        except Exception as e:  # noqa: BLE001  (a failed scenario is reported, the others still run)
            traceback.print_exc()
            entry = {"error": str(e)[:500]}
        entry.update({"id": sid, "title": title, "seconds": round(time.time() - started, 1)})
        results["scenarios"].append(entry)
        log("scenario %s done in %.0f s%s" % (sid, time.time() - started, ": " + entry["error"] if "error" in entry else ""))
    results["goals"] = goals(results)
    path = os.path.join(out_dir, "results.json")
    with open(path, "w") as fh:
        json.dump(results, fh, indent=1)
    run([sys.executable, os.path.join(HERE, "report.py"), path])
    if not args.no_results_md and not quick:
        summary = run([sys.executable, os.path.join(HERE, "report.py"), "--summary", path]).stdout
        update_results_md(summary)
    shutil.rmtree(work, ignore_errors=True)
    log("report: %s" % os.path.join(out_dir, "report.md"))
    failed = [s["id"] for s in results["scenarios"] if "error" in s]
    if failed:
        log("scenarios that failed: %s" % ", ".join(failed))
        sys.exit(1)


if __name__ == "__main__":
    main()
