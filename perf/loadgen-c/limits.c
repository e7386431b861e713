/*
 * What this machine allows, measured on one core next to the Sluice figures (issue 6): memcpy
 * bandwidth, and LZ4 compression and decompression speed on the very EventBatch bytes that loadgen
 * sends. Prints one JSON line. (Loopback TCP bandwidth comes from iperf3: perf/scripts/limits.sh.)
 *
 *   limits [--seconds 2] [--batch 1024]
 */
#include <lz4.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "load_batch.h"

static double now_seconds(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
    double seconds = 2;
    long long batch = 1024;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--seconds")) seconds = atof(argv[i + 1]);
        else if (!strcmp(argv[i], "--batch")) batch = atoll(argv[i + 1]);
    }
    /* memcpy: 64 MiB back and forth, larger than any cache here. */
    size_t size = 64u << 20;
    char *a = malloc(size), *b = malloc(size);
    if (!a || !b) return 1;
    memset(a, 1, size);
    memset(b, 2, size);
    double copied = 0, start = now_seconds(), elapsed;
    do {
        memcpy(b, a, size);
        memcpy(a, b, size);
        copied += 2.0 * (double)size;
    } while ((elapsed = now_seconds() - start) < seconds);
    double memcpy_gbs = copied / elapsed / 1e9;

    /* LZ4 on 64 distinct batches of loadgen's events, round and round. */
    enum { BATCHES = 64 };
    LoadBatch *scratch = load_batch_new(batch, 50);
    if (!scratch) return 1;
    uint8_t *raw[BATCHES], *packed[BATCHES];
    int raw_size[BATCHES], packed_size[BATCHES];
    for (int k = 0; k < BATCHES; k++) {
        size_t n = load_batch_encode(scratch, 1, 42, (uint64_t)k + 1, (long long)k * batch + 1, batch);
        raw[k] = malloc(n);
        memcpy(raw[k], scratch->packed, n);
        raw_size[k] = (int)n;
        packed[k] = malloc((size_t)LZ4_compressBound((int)n));
    }
    double bytes_in = 0, events = 0;
    long long rounds = 0;
    start = now_seconds();
    do {
        int k = (int)(rounds++ % BATCHES);
        packed_size[k] = LZ4_compress_default((const char *)raw[k], (char *)packed[k], raw_size[k], LZ4_compressBound(raw_size[k]));
        bytes_in += raw_size[k];
        events += (double)batch;
    } while ((elapsed = now_seconds() - start) < seconds);
    double compress_mbs = bytes_in / elapsed / 1e6, compress_eps = events / elapsed;
    double ratio = 0;
    for (int k = 0; k < BATCHES; k++) ratio += (double)raw_size[k] / (double)packed_size[k];
    ratio /= BATCHES;

    char *out = malloc((size_t)raw_size[0] * 2);
    bytes_in = events = 0;
    rounds = 0;
    start = now_seconds();
    do {
        int k = (int)(rounds++ % BATCHES);
        if (LZ4_decompress_safe((const char *)packed[k], out, packed_size[k], raw_size[k] * 2) != raw_size[k]) return 1;
        bytes_in += raw_size[k];
        events += (double)batch;
    } while ((elapsed = now_seconds() - start) < seconds);
    double decompress_mbs = bytes_in / elapsed / 1e6, decompress_eps = events / elapsed;

    printf("{\"memcpyGBps\":%.2f,\"lz4CompressMBps\":%.0f,\"lz4CompressEventsPerSecond\":%.0f,"
           "\"lz4DecompressMBps\":%.0f,\"lz4DecompressEventsPerSecond\":%.0f,\"bytesPerEvent\":%.1f,\"lz4Ratio\":%.2f}\n",
           memcpy_gbs, compress_mbs, compress_eps, decompress_mbs, decompress_eps, (double)raw_size[0] / (double)batch, ratio);
    return 0;
}
