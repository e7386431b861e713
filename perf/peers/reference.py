#!/usr/bin/env python3
"""Reference results for the peer benchmarks, computed with numpy (vectorised, in chunks).

    python reference.py --events 20000000        # prints the JSON and caches it in .data/reference-N.json

Output: {"events": N, "window": {"sha256", "rows"}, "filter": {"rows", "sumResponseTime"}}
"""

import argparse
import json
import os
import time

import numpy as np

import common as c

CHUNK = 4_000_000


def compute(n):
    """Returns (window_rows, filter_result): window_rows as (startMs, tenant, count, avg) tuples."""
    first_ts = c.BASE_TS
    first_win = c.window_start(first_ts)
    nwin = (c.window_start(first_ts + max(n - 1, 0)) - first_win) // c.WINDOW_MS + 1
    counts = np.zeros(nwin * c.TENANTS, dtype=np.int64)
    sums = np.zeros(nwin * c.TENANTS, dtype=np.int64)
    f_rows = 0
    f_sum = 0
    for lo in range(0, n, CHUNK):
        i = np.arange(lo, min(n, lo + CHUNK), dtype=np.int64)
        tenant = (i * c.TENANT_MULT) % c.TENANTS
        rt = (i * c.RT_MULT) % c.RT_MOD  # i * 2654435761 < 2^63 for i < 2^31
        ts = c.BASE_TS + i
        win = (ts - ts % c.WINDOW_MS - first_win) // c.WINDOW_MS
        key = win * c.TENANTS + tenant
        counts += np.bincount(key, minlength=counts.size)
        sums += np.bincount(key, weights=rt, minlength=sums.size).astype(np.int64)  # < 2^53: exact
        sel = rt > c.FILTER_THRESHOLD
        f_rows += int(np.count_nonzero(sel))
        f_sum += int(rt[sel].sum())
    rows = []
    for key in np.nonzero(counts)[0]:
        cnt = int(counts[key])
        w, t = divmod(int(key), c.TENANTS)
        rows.append((first_win + w * c.WINDOW_MS, c.tenant_name(t), cnt, int(sums[key]) / cnt))
    return rows, c.canonical_filter(f_rows, f_sum)


def self_check():
    """The vectorised form against the per-event formula on a small N."""
    n = 2_345_678
    rows, filt = compute(n)
    agg = {}
    f_rows = f_sum = 0
    for i in range(n):
        tenant, ts, rt = c.event(i)
        k = (c.window_start(ts), tenant)
        a = agg.setdefault(k, [0, 0])
        a[0] += 1
        a[1] += rt
        if rt > c.FILTER_THRESHOLD:
            f_rows += 1
            f_sum += rt
    slow = [(w, t, cnt, s / cnt) for (w, t), (cnt, s) in agg.items()]
    assert c.canonical_window(rows) == c.canonical_window(slow), "window mismatch"
    assert filt == c.canonical_filter(f_rows, f_sum), "filter mismatch"
    return True


def compute_and_store(n):
    rows, filt = compute(n)
    out = {"events": n, "window": c.canonical_window(rows), "filter": filt}
    os.makedirs(c.DATA_DIR, exist_ok=True)
    tmp = c.reference_path(n) + ".tmp"
    with open(tmp, "w") as f:
        json.dump(out, f)
    os.replace(tmp, c.reference_path(n))
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--events", type=int, default=20_000_000)
    ap.add_argument("--self-check", action="store_true", help="compare with a per-event loop on 2.3 M events")
    ap.add_argument("--lines", action="store_true", help="print the canonical window lines instead")
    a = ap.parse_args()
    if a.self_check:
        self_check()
        print("reference self-check ok")
        return
    if a.lines:
        rows, _ = compute(a.events)
        print("\n".join(sorted("%d,%s,%d,%.6f" % r for r in rows)))
        return
    t = time.perf_counter()
    out = compute_and_store(a.events)
    out["seconds"] = round(time.perf_counter() - t, 3)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
