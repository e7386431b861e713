#!/usr/bin/env python3
"""The partition mapping of docs/partitioning.md, written from the document alone.

Prints the document's test vectors, so any implementation (the SDK, another language) can be
checked against them:  python3 tools/partition_reference.py
"""
import struct

M = (1 << 64) - 1
P1, P2, P3, P4, P5 = (0x9E3779B185EBCA87, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9,
                      0x85EBCA77C2B2AE63, 0x27D4EB2F165667C5)
PARTITIONS = 4096


def rotl(x, r):
    return ((x << r) | (x >> (64 - r))) & M


def rnd(acc, lane):
    return (rotl((acc + lane * P2) & M, 31) * P1) & M


def merge(acc, v):
    return (((acc ^ rnd(0, v)) * P1) + P4) & M


def xxh64(data: bytes, seed: int = 0) -> int:
    n, i = len(data), 0
    if n >= 32:
        v = [(seed + P1 + P2) & M, (seed + P2) & M, seed, (seed - P1) & M]
        while i + 32 <= n:
            for k in range(4):
                v[k] = rnd(v[k], struct.unpack_from("<Q", data, i + 8 * k)[0])
            i += 32
        h = (rotl(v[0], 1) + rotl(v[1], 7) + rotl(v[2], 12) + rotl(v[3], 18)) & M
        for k in range(4):
            h = merge(h, v[k])
    else:
        h = (seed + P5) & M
    h = (h + n) & M
    while i + 8 <= n:
        h ^= rnd(0, struct.unpack_from("<Q", data, i)[0])
        h = (rotl(h, 27) * P1 + P4) & M
        i += 8
    if i + 4 <= n:
        h ^= (struct.unpack_from("<I", data, i)[0] * P1) & M
        h = (rotl(h, 23) * P2 + P3) & M
        i += 4
    while i < n:
        h ^= (data[i] * P5) & M
        h = (rotl(h, 11) * P1) & M
        i += 1
    h ^= h >> 33
    h = (h * P2) & M
    h ^= h >> 29
    h = (h * P3) & M
    h ^= h >> 32
    return h


def key_bytes(value) -> bytes:
    """The key encoding: str → UTF-8; int → 8 bytes LE (two's complement); float → IEEE double LE
    (-0.0 as 0.0, NaN canonical); bool → one byte; None → no bytes."""
    if value is None:
        return b""
    if isinstance(value, bool):
        return b"\x01" if value else b"\x00"
    if isinstance(value, int):
        return struct.pack("<q", value)
    if isinstance(value, float):
        if value != value:
            return struct.pack("<Q", 0x7FF8000000000000)
        return struct.pack("<d", 0.0 if value == 0 else value)
    return value.encode("utf-8")


def partition_table(names):
    seeds = [xxh64(n.encode("utf-8")) for n in names]
    table = []
    for p in range(PARTITIONS):
        pb = struct.pack("<Q", p)
        # Highest score wins; on a tie, the name that sorts first by its UTF-8 bytes (max keeps the first).
        order = sorted(range(len(names)), key=lambda d: names[d].encode("utf-8"))
        best = max(order, key=lambda d: xxh64(pb, seeds[d]))
        table.append(best)
    return table


def destination(table, value) -> int:
    return table[xxh64(key_bytes(value)) % PARTITIONS]


if __name__ == "__main__":
    tenants = ["tenant%02d.com" % i for i in range(50)]
    print("xxh64('tenant00.com') = 0x%016X, partition %d" % (xxh64(b"tenant00.com"), xxh64(b"tenant00.com") % PARTITIONS))
    seed = partition_table(["http://Ip1:8009/Request", "http://Ip2:8009/Request"])
    print("seed destinations, tenant00..09:", [destination(seed, t) for t in tenants[:10]])
    four = partition_table(["d0", "d1", "d2", "d3"])
    print("d0..d3, tenant00..09:", [destination(four, t) for t in tenants[:10]])
    counts = [0] * 4
    for t in tenants:
        counts[destination(four, t)] += 1
    print("d0..d3, 50 tenants per destination:", counts)
    for v in [42, -1, 1.5, True, None]:
        print("key %r → xxh64 0x%016X" % (v, xxh64(key_bytes(v))))
