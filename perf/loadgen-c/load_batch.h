/* The load generator's events, encoded as sluice.v1.EventBatch messages with protobuf-c: what
 * loadgen sends and what limits compresses. Schema (id long, tenant string, value long); event id
 * has tenant "tenantNN.com" (NN = id % tenants), value id * 7 % 1000, timestamp 1.7e12 + id. */
#ifndef LOAD_BATCH_H
#define LOAD_BATCH_H

#include <stddef.h>
#include <stdint.h>

typedef struct LoadBatch {
    long long capacity;
    long long tenants;
    int64_t *deltas, *ids, *values;
    uint32_t *lengths;
    uint8_t *arena;
    char tenant_names[100][16];
    uint32_t tenant_lengths[100];
    uint8_t *packed;
    size_t packed_capacity;
} LoadBatch;

/* Scratch for batches of up to `capacity` events over `tenants` (1-100) tenants; NULL when out of memory. */
LoadBatch *load_batch_new(long long capacity, long long tenants);

/* Encodes events first_id ... first_id + n - 1 as one EventBatch; returns its size, the bytes in batch->packed. */
size_t load_batch_encode(LoadBatch *batch, uint32_t stream_id, uint64_t producer_id, uint64_t sequence, long long first_id,
                         long long n);

#endif
