/*
 * A Sluice producer in C, built only from proto/ (protoc-c) and the frame layout of
 * docs/protocol.md: hello, welcome, event batches with credit, acks. It shows that the wire
 * contract is proto/ plus six header bytes, and it is a load generator that costs less CPU than
 * the node it drives.
 *
 *   loadgen --to 127.0.0.1:7701 --stream Load --count 1000000 [--batch 1024] [--rate N]
 *           [--producer-id N] [--no-lz4] [--tenants 50]
 *
 * Events have the schema (id long, tenant string, value long): id counts 1, 2, ...; tenant is
 * "tenantNN.com" with NN = id % tenants; value is id * 7 % 1000; the timestamp is
 * 1,700,000,000,000 + id. It prints one JSON line: sent, acked, seconds, eventsPerSecond.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <lz4.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "load_batch.h"
#include "sluice/v1/batch.pb-c.h"
#include "sluice/v1/error.pb-c.h"
#include "sluice/v1/flow.pb-c.h"
#include "sluice/v1/frame.pb-c.h"
#include "sluice/v1/handshake.pb-c.h"
#include "sluice/v1/schema.pb-c.h"

enum { HEADER = 6, FLAG_LZ4 = 1, MAX_FRAME = 16 << 20 };

static void die(const char *what) {
    fprintf(stderr, "loadgen: %s\n", what);
    exit(1);
}

static double now_seconds(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void write_all(int fd, const uint8_t *p, size_t n) {
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR) continue;
            die("write failed: connection lost");
        }
        p += w;
        n -= (size_t)w;
    }
}

static void read_all(int fd, uint8_t *p, size_t n) {
    while (n > 0) {
        ssize_t r = read(fd, p, n);
        if (r == 0) die("the node closed the connection");
        if (r < 0) {
            if (errno == EINTR) continue;
            die("read failed");
        }
        p += r;
        n -= (size_t)r;
    }
}

/* One frame: [u32 length BE][kind][flags][payload]; compressed as [u32 size BE][LZ4 block]. */
static void send_frame(int fd, Sluice__V1__FrameKind kind, const uint8_t *payload, size_t size, int lz4) {
    static uint8_t *buffer;
    static size_t capacity;
    size_t bound = HEADER + 4 + (size_t)LZ4_compressBound((int)size);
    if (bound > capacity) {
        capacity = bound * 2;
        buffer = realloc(buffer, capacity);
        if (!buffer) die("out of memory");
    }
    size_t length = size;
    uint8_t flags = 0;
    if (lz4 && size >= 512) {
        int compressed = LZ4_compress_default((const char *)payload, (char *)buffer + HEADER + 4, (int)size,
                                              (int)(capacity - HEADER - 4));
        if (compressed > 0 && (size_t)compressed + 4 < size) {
            uint32_t original = htonl((uint32_t)size);
            memcpy(buffer + HEADER, &original, 4);
            length = (size_t)compressed + 4;
            flags = FLAG_LZ4;
        }
    }
    if (!flags) memcpy(buffer + HEADER, payload, size);
    if (length > MAX_FRAME) die("a batch is over the 16 MiB frame limit: use a smaller --batch");
    uint32_t be = htonl((uint32_t)length);
    memcpy(buffer, &be, 4);
    buffer[4] = (uint8_t)kind;
    buffer[5] = flags;
    write_all(fd, buffer, HEADER + length);
}

/* Reads one frame's kind and (decompressed) payload into *payload, which it grows. */
static size_t read_frame(int fd, uint8_t *kind, uint8_t **payload, size_t *capacity) {
    uint8_t header[HEADER];
    read_all(fd, header, HEADER);
    uint32_t length;
    memcpy(&length, header, 4);
    length = ntohl(length);
    if (length > MAX_FRAME) die("the node sent a frame over the limit");
    *kind = header[4];
    uint8_t *raw = malloc(length ? length : 1);
    if (!raw) die("out of memory");
    read_all(fd, raw, length);
    size_t size = length;
    if (header[5] & FLAG_LZ4) {
        uint32_t original;
        if (length < 4) die("a compressed frame without its size");
        memcpy(&original, raw, 4);
        original = ntohl(original);
        if (original > 64u << 20) die("a frame would decompress too large");
        if (original > *capacity) {
            *capacity = original;
            *payload = realloc(*payload, original);
        }
        int n = LZ4_decompress_safe((const char *)raw + 4, (char *)*payload, (int)length - 4, (int)original);
        if (n != (int)original) die("a frame does not decompress");
        size = original;
    } else {
        if (length > *capacity) {
            *capacity = length;
            *payload = realloc(*payload, length);
        }
        memcpy(*payload, raw, length);
    }
    free(raw);
    return size;
}

static void send_message(int fd, Sluice__V1__FrameKind kind, const ProtobufCMessage *m) {
    size_t size = protobuf_c_message_get_packed_size(m);
    uint8_t *bytes = malloc(size ? size : 1);
    protobuf_c_message_pack(m, bytes);
    send_frame(fd, kind, bytes, size, 0);
    free(bytes);
}

static void fail_on_error(uint8_t kind, const uint8_t *payload, size_t size) {
    if (kind != SLUICE__V1__FRAME_KIND__FRAME_KIND_ERROR) return;
    Sluice__V1__Error *e = sluice__v1__error__unpack(NULL, size, payload);
    fprintf(stderr, "loadgen: the node refused: %s (code %d)\n", e ? e->message : "?", e ? (int)e->code : -1);
    exit(1);
}

int main(int argc, char **argv) {
    const char *to = NULL, *stream = "Load";
    long long count = 100000, batch = 1024, tenants = 50;
    double rate = 0;
    uint64_t producer_id = 0;
    int lz4 = 1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--no-lz4")) { lz4 = 0; continue; }
        if (!v) die("every option but --no-lz4 takes a value");
        if (!strcmp(a, "--to")) to = v;
        else if (!strcmp(a, "--stream")) stream = v;
        else if (!strcmp(a, "--count")) count = atoll(v);
        else if (!strcmp(a, "--batch")) batch = atoll(v);
        else if (!strcmp(a, "--rate")) rate = atof(v);
        else if (!strcmp(a, "--producer-id")) producer_id = strtoull(v, NULL, 10);
        else if (!strcmp(a, "--tenants")) tenants = atoll(v);
        else die("unknown option (see the comment at the top of loadgen.c)");
        i++;
    }
    if (!to) die("--to HOST:PORT is required");
    if (batch < 1 || count < 0 || tenants < 1 || tenants > 100) die("--batch, --count or --tenants out of range");
    if (!producer_id) {
        srand((unsigned)time(NULL) ^ (unsigned)getpid());
        producer_id = ((uint64_t)rand() << 32) ^ (uint64_t)rand() ^ 1;
    }

    char host[256];
    const char *colon = strrchr(to, ':');
    if (!colon || (size_t)(colon - to) >= sizeof host) die("--to must be HOST:PORT");
    memcpy(host, to, (size_t)(colon - to));
    host[colon - to] = 0;
    struct addrinfo hints = {0}, *address;
    hints.ai_socktype = SOCK_STREAM;
    if (getaddrinfo(host, colon + 1, &hints, &address)) die("cannot resolve --to");
    int fd = socket(address->ai_family, address->ai_socktype, address->ai_protocol);
    if (fd < 0 || connect(fd, address->ai_addr, address->ai_addrlen)) die("cannot connect");
    freeaddrinfo(address);
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);

    /* Hello: a producer of one stream (id long, tenant string, value long). */
    Sluice__V1__Attribute id_attribute = SLUICE__V1__ATTRIBUTE__INIT, tenant_attribute = SLUICE__V1__ATTRIBUTE__INIT,
                          value_attribute = SLUICE__V1__ATTRIBUTE__INIT;
    id_attribute.name = "id";
    id_attribute.type = SLUICE__V1__ATTRIBUTE_TYPE__ATTRIBUTE_TYPE_LONG;
    tenant_attribute.name = "tenant";
    tenant_attribute.type = SLUICE__V1__ATTRIBUTE_TYPE__ATTRIBUTE_TYPE_STRING;
    value_attribute.name = "value";
    value_attribute.type = SLUICE__V1__ATTRIBUTE_TYPE__ATTRIBUTE_TYPE_LONG;
    Sluice__V1__Attribute *attributes[] = {&id_attribute, &tenant_attribute, &value_attribute};
    Sluice__V1__StreamSchema schema = SLUICE__V1__STREAM_SCHEMA__INIT;
    schema.name = (char *)stream;
    schema.n_attributes = 3;
    schema.attributes = attributes;
    Sluice__V1__StreamSchema *schemas[] = {&schema};
    Sluice__V1__Hello hello = SLUICE__V1__HELLO__INIT;
    hello.protocol_version = 1;
    hello.role = SLUICE__V1__ROLE__ROLE_PRODUCER;
    hello.client_name = "sluice-loadgen-c";
    hello.producer_id = producer_id;
    hello.n_streams = 1;
    hello.streams = schemas;
    send_message(fd, SLUICE__V1__FRAME_KIND__FRAME_KIND_HELLO, &hello.base);

    uint8_t kind, *payload = NULL;
    size_t capacity = 0;
    size_t size = read_frame(fd, &kind, &payload, &capacity);
    fail_on_error(kind, payload, size);
    if (kind != SLUICE__V1__FRAME_KIND__FRAME_KIND_WELCOME) die("expected Welcome");
    Sluice__V1__Welcome *welcome = sluice__v1__welcome__unpack(NULL, size, payload);
    if (!welcome || welcome->n_streams != 1) die("the Welcome did not bind the stream");
    uint32_t stream_id = welcome->streams[0]->stream_id;
    long long credit = welcome->initial_credit;
    sluice__v1__welcome__free_unpacked(welcome, NULL);

    LoadBatch *scratch = load_batch_new(batch, tenants);
    if (!scratch) die("out of memory");

    double start = now_seconds();
    long long sent = 0, acked = 0, in_flight = 0;
    uint64_t sequence = 0;
    while (acked < count) {
        /* Send while there is credit and events left. */
        while (credit > 0 && sent < count) {
            long long n = count - sent < batch ? count - sent : batch;
            if (rate > 0) {
                double due = start + (double)sent / rate;
                double wait = due - now_seconds();
                if (wait > 0) {
                    struct timespec t = {(time_t)wait, (long)((wait - (time_t)wait) * 1e9)};
                    nanosleep(&t, NULL);
                }
            }
            size_t bytes = load_batch_encode(scratch, stream_id, producer_id, ++sequence, sent + 1, n);
            if (!bytes) die("out of memory");
            send_frame(fd, SLUICE__V1__FRAME_KIND__FRAME_KIND_EVENT_BATCH, scratch->packed, bytes, lz4);
            sent += n;
            credit--;
            in_flight += n;
        }
        /* Then read what the node says: an Ack returns one credit; a Credit grants more. */
        size = read_frame(fd, &kind, &payload, &capacity);
        fail_on_error(kind, payload, size);
        if (kind == SLUICE__V1__FRAME_KIND__FRAME_KIND_ACK) {
            Sluice__V1__Ack *ack = sluice__v1__ack__unpack(NULL, size, payload);
            if (!ack || ack->producer_id != producer_id || ack->sequence == 0 || ack->sequence > sequence) die("a bad Ack");
            /* Batches are full except the last; the node acknowledges in order. */
            long long n = (long long)ack->sequence * batch > count ? count - ((long long)ack->sequence - 1) * batch : batch;
            acked += n;
            in_flight -= n;
            credit++;
            sluice__v1__ack__free_unpacked(ack, NULL);
        } else if (kind == SLUICE__V1__FRAME_KIND__FRAME_KIND_NACK) {
            Sluice__V1__Nack *nack = sluice__v1__nack__unpack(NULL, size, payload);
            fprintf(stderr, "loadgen: batch %llu refused: %s\n", nack ? (unsigned long long)nack->sequence : 0ULL,
                    nack ? nack->reason : "?");
            exit(1);
        } else if (kind == SLUICE__V1__FRAME_KIND__FRAME_KIND_CREDIT) {
            Sluice__V1__Credit *c = sluice__v1__credit__unpack(NULL, size, payload);
            if (c) credit += c->batches;
            sluice__v1__credit__free_unpacked(c, NULL);
        } else {
            die("the node sent an unexpected frame");
        }
    }
    double seconds = now_seconds() - start;
    printf("{\"sent\":%lld,\"acked\":%lld,\"seconds\":%.3f,\"eventsPerSecond\":%.0f}\n", sent, acked, seconds,
           seconds > 0 ? (double)acked / seconds : 0.0);
    close(fd);
    return 0;
}
