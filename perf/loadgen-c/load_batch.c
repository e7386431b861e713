#include "load_batch.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sluice/v1/batch.pb-c.h"

LoadBatch *load_batch_new(long long capacity, long long tenants) {
    LoadBatch *b = calloc(1, sizeof *b);
    if (!b || capacity < 1 || tenants < 1 || tenants > 100) return NULL;
    b->capacity = capacity;
    b->tenants = tenants;
    b->deltas = malloc(sizeof(int64_t) * (size_t)capacity);
    b->ids = malloc(sizeof(int64_t) * (size_t)capacity);
    b->values = malloc(sizeof(int64_t) * (size_t)capacity);
    b->lengths = malloc(sizeof(uint32_t) * (size_t)capacity);
    b->arena = malloc(16 * (size_t)capacity);
    if (!b->deltas || !b->ids || !b->values || !b->lengths || !b->arena) return NULL;
    /* The tenant names, written once; each event copies its own. */
    for (long long k = 0; k < tenants; k++) b->tenant_lengths[k] = (uint32_t)sprintf(b->tenant_names[k], "tenant%02lld.com", k);
    return b;
}

size_t load_batch_encode(LoadBatch *b, uint32_t stream_id, uint64_t producer_id, uint64_t sequence, long long first_id,
                         long long n) {
    size_t arena_size = 0;
    for (long long i = 0; i < n; i++) {
        long long id = first_id + i;
        b->deltas[i] = i == 0 ? 1700000000000LL + id : 1;
        b->ids[i] = id;
        b->values[i] = id * 7 % 1000;
        uint32_t k = (uint32_t)(id % b->tenants);
        memcpy(b->arena + arena_size, b->tenant_names[k], b->tenant_lengths[k]);
        b->lengths[i] = b->tenant_lengths[k];
        arena_size += b->tenant_lengths[k];
    }
    Sluice__V1__Column id_column = SLUICE__V1__COLUMN__INIT, tenant_column = SLUICE__V1__COLUMN__INIT,
                       value_column = SLUICE__V1__COLUMN__INIT;
    id_column.type = SLUICE__V1__ATTRIBUTE_TYPE__ATTRIBUTE_TYPE_LONG;
    id_column.n_longs = (size_t)n;
    id_column.longs = b->ids;
    tenant_column.type = SLUICE__V1__ATTRIBUTE_TYPE__ATTRIBUTE_TYPE_STRING;
    tenant_column.n_string_lengths = (size_t)n;
    tenant_column.string_lengths = b->lengths;
    tenant_column.string_arena.len = arena_size;
    tenant_column.string_arena.data = b->arena;
    value_column.type = SLUICE__V1__ATTRIBUTE_TYPE__ATTRIBUTE_TYPE_LONG;
    value_column.n_longs = (size_t)n;
    value_column.longs = b->values;
    Sluice__V1__Column *columns[] = {&id_column, &tenant_column, &value_column};
    Sluice__V1__EventBatch message = SLUICE__V1__EVENT_BATCH__INIT;
    message.stream_id = stream_id;
    message.producer_id = producer_id;
    message.sequence = sequence;
    message.event_count = (uint32_t)n;
    message.n_timestamp_deltas = (size_t)n;
    message.timestamp_deltas = b->deltas;
    message.n_columns = 3;
    message.columns = columns;
    size_t bytes = sluice__v1__event_batch__get_packed_size(&message);
    if (bytes > b->packed_capacity) {
        b->packed_capacity = bytes * 2;
        b->packed = realloc(b->packed, b->packed_capacity);
        if (!b->packed) return 0;
    }
    sluice__v1__event_batch__pack(&message, b->packed);
    return bytes;
}
