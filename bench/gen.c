/* Input generators for the standard benchmark workloads; see gen.h and
 * BENCHMARKS.md (the project's standard workloads, shared/ beside the repository) for the rules implemented here. */
#include "gen.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

uint64_t fnv1a64(uint64_t h, const void *data, size_t len) {
    const uint8_t *p = data;
    for (size_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= 0x100000001b3ull;
    }
    return h;
}

static const char *const NAMES[W_COUNT] = {
    "recv-small", "recv-large", "recv-text-large", "recv-fragmented", "send-small",
    "send-large", "recv-deflate", "send-deflate", "handshake",
};

static const size_t MESSAGES[W_COUNT] = {
    1000000, 64, 64, 100000, 1000000, 64, 100000, 100000, 100000,
};

/* The table of BENCHMARKS.md. send-deflate has no row of its own: its input
 * is the recv-deflate documents, i.e. recv-deflate's expected column. */
static const bench_reference REFS[W_COUNT] = {
    {1000000, 38000000, 0xf94a0a0d84444dbfull, 32000000, 0xa7392c764763ba1dull},
    {64, 67109760, 0x6f6acd504e473592ull, 67108864, 0x0ad5513312903a7bull},
    {64, 67109760, 0x0034640720c7f7deull, 67108864, 0x1597419be2fb0738ull},
    {100000, 108800000, 0xbba7b82430398c4bull, 102400000, 0x13d631a8873bac12ull},
    {1000000, 32000000, 0xcdb708c9094ea817ull, 32000000, 0xcdb708c9094ea817ull},
    {64, 67108864, 0xeb42a8ff01b98ccfull, 67108864, 0xeb42a8ff01b98ccfull},
    {100000, 18110429, 0x5e958c8da39e017eull, 102400000, 0x1a98d80796e6c229ull},
    {100000, 102400000, 0x1a98d80796e6c229ull, 102400000, 0x1a98d80796e6c229ull},
    {100000, 21800000, 0x9ce7b58e6dfee8b4ull, 2800000, 0x45ea1b4cfff8df7full},
};

const char *bench_workload_name(bench_workload w) {
    return (unsigned)w < W_COUNT ? NAMES[w] : "?";
}

int bench_workload_from_name(const char *name) {
    for (int i = 0; i < W_COUNT; i++)
        if (strcmp(NAMES[i], name) == 0) return i;
    return -1;
}

size_t bench_workload_messages(bench_workload w) {
    return (unsigned)w < W_COUNT ? MESSAGES[w] : 0;
}

const bench_reference *bench_workload_reference(bench_workload w) {
    return (unsigned)w < W_COUNT ? &REFS[w] : NULL;
}

static bench_deflate_hook g_deflate_hook;
static void *g_deflate_userdata;

void bench_set_deflate_hook(bench_deflate_hook hook, void *userdata) {
    g_deflate_hook = hook;
    g_deflate_userdata = userdata;
}

/* ---- building blocks ---------------------------------------------------- */

void bench_fill_bytes(bench_rng *r, uint8_t *out, size_t len) {
    size_t i = 0;
    while (i < len) {
        uint64_t w = bench_rng_next(r);
        for (int b = 0; b < 8 && i < len; b++, i++) out[i] = (uint8_t)(w >> (8 * b));
    }
}

void bench_fill_ascii(bench_rng *r, uint8_t *out, size_t len) {
    bench_fill_bytes(r, out, len);
    for (size_t i = 0; i < len; i++) out[i] = (uint8_t)(0x20 + out[i] % 95);
}

void bench_fill_utf8(bench_rng *r, uint8_t *out, size_t len) {
    size_t i = 0;
    while (i < len) {
        uint64_t x = bench_rng_next(r);
        size_t want = 1 + (size_t)(x & 3);
        if (want > len - i) want = 1;
        uint64_t v = x >> 8;
        uint32_t c;
        switch (want) {
        case 1:
            out[i++] = (uint8_t)(0x20 + v % 95);
            break;
        case 2:
            c = (uint32_t)(0x80 + v % 0x780);
            out[i++] = (uint8_t)(0xC0 | (c >> 6));
            out[i++] = (uint8_t)(0x80 | (c & 0x3F));
            break;
        case 3:
            c = (uint32_t)(0x800 + v % 0xF000);
            if (c >= 0xD800) c += 0x800;
            out[i++] = (uint8_t)(0xE0 | (c >> 12));
            out[i++] = (uint8_t)(0x80 | ((c >> 6) & 0x3F));
            out[i++] = (uint8_t)(0x80 | (c & 0x3F));
            break;
        default:
            c = (uint32_t)(0x10000 + v % 0x100000);
            out[i++] = (uint8_t)(0xF0 | (c >> 18));
            out[i++] = (uint8_t)(0x80 | ((c >> 12) & 0x3F));
            out[i++] = (uint8_t)(0x80 | ((c >> 6) & 0x3F));
            out[i++] = (uint8_t)(0x80 | (c & 0x3F));
            break;
        }
    }
}

void bench_draw_key(bench_rng *r, uint8_t key[4]) {
    uint32_t k = (uint32_t)bench_rng_next(r);
    key[0] = (uint8_t)k;
    key[1] = (uint8_t)(k >> 8);
    key[2] = (uint8_t)(k >> 16);
    key[3] = (uint8_t)(k >> 24);
}

static const char LOREM[] =
    "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt "
    "ut labore et dolore magna aliqua. Ut enim ad minim veniam, quis nostrud exercitation "
    "ullamco laboris nisi ut aliquip ex ea commodo consequat. Duis aute irure dolor in "
    "reprehenderit in voluptate velit esse cillum dolore eu fugiat nulla pariatur. Excepteur "
    "sint occaecat cupidatat non proident, sunt in culpa qui officia deserunt mollit anim id "
    "est laborum. ";

typedef unsigned long long ull;

size_t bench_deflate_document(bench_rng *r, size_t index, uint8_t out[1024]) {
    char buf[1400];
    int n = 0;
#define R() ((ull)bench_rng_next(r))
#define PUT(...) n += snprintf(buf + n, sizeof buf - (size_t)n, __VA_ARGS__)
    /* Each value is drawn into a variable first: argument evaluation order
     * in C is unspecified, and the template fixes the order of drawing. */
    ull a, b, c;
    a = 1700000000000ull + R() % 100000000000ull;
    PUT("{\"id\":%llu,\"type\":\"order\",\"ts\":%llu,", (ull)index, a);
    a = R() % 1000000;
    b = R() % 1000000;
    PUT("\"user\":{\"id\":%llu,\"name\":\"user%llu\",", a, b);
    a = R() % 1000;
    b = R() % 100;
    PUT("\"score\":%llu.%02llu},\"items\":[", a, b);
    for (int item = 0; item < 6; item++) {
        ull sku = R() % 1000000;
        ull qty = 1 + R() % 20;
        ull pi = R() % 10000;
        ull pf = R() % 100;
        ull disc = R() % 50;
        PUT("%s{\"sku\":\"SKU-%06llu\",\"qty\":%llu,\"price\":%llu.%02llu,\"discount\":%llu}",
            item ? "," : "", sku, qty, pi, pf, disc);
    }
    a = R() % 1000000;
    b = R() % 100;
    PUT("],\"total\":%llu.%02llu,\"currency\":\"EUR\",\"status\":\"confirmed\",", a, b);
    a = R() % 90;
    b = R() % 1000000;
    PUT("\"geo\":{\"lat\":%llu.%06llu,", a, b);
    a = R() % 180;
    b = R() % 1000000;
    PUT("\"lon\":%llu.%06llu},", a, b);
    a = R() % 2;
    b = R() % 2;
    c = R() % 2;
    PUT("\"flags\":[%s,%s,%s],\"note\":\"", a == 0 ? "true" : "false", b == 0 ? "true" : "false",
        c == 0 ? "true" : "false");
#undef PUT
#undef R
    if (n < 0 || n > 1022) return 0; /* cannot happen with this template (~600 bytes) */
    memcpy(out, buf, (size_t)n);
    size_t pos = (size_t)n, li = 0;
    while (pos < 1022) {
        out[pos++] = (uint8_t)LOREM[li++];
        if (li == sizeof LOREM - 1) li = 0;
    }
    out[1022] = '"';
    out[1023] = '}';
    return 1024;
}

size_t bench_frame_header_len(size_t payload_len, int masked) {
    size_t h = payload_len < 126 ? 2 : payload_len <= 0xFFFF ? 4 : 10;
    return h + (masked ? 4 : 0);
}

void bench_xor_mask(uint8_t *buf, size_t len, const uint8_t key[4], size_t key_offset) {
    uint8_t k[4];
    for (int j = 0; j < 4; j++) k[j] = key[(key_offset + (size_t)j) & 3];
    uint32_t k32;
    memcpy(&k32, k, 4);
    uint64_t k64 = ((uint64_t)k32 << 32) | k32;
    size_t i = 0;
    /* Four independent words per iteration, so the loop is not bound by
     * one load-xor-store chain (the ceiling rows must really be a ceiling). */
    for (; i + 32 <= len; i += 32) {
        uint64_t w[4];
        memcpy(w, buf + i, 32);
        w[0] ^= k64;
        w[1] ^= k64;
        w[2] ^= k64;
        w[3] ^= k64;
        memcpy(buf + i, w, 32);
    }
    for (; i + 8 <= len; i += 8) {
        uint64_t w;
        memcpy(&w, buf + i, 8);
        w ^= k64;
        memcpy(buf + i, &w, 8);
    }
    for (; i < len; i++) buf[i] ^= k[i & 3];
}

/* 16-byte vectors (SSE2 / NEON, part of every x86-64 and AArch64 baseline),
 * through the GCC/Clang vector extension: still a portable build. An 8-byte
 * word loop alone ran at about half the engine's speed, so it was no ceiling. */
typedef uint64_t bench_v2u64 __attribute__((vector_size(16)));

void bench_xor_copy(uint8_t *dst, const uint8_t *src, size_t len, const uint8_t key[4]) {
    uint32_t k32;
    memcpy(&k32, key, 4);
    uint64_t k64 = ((uint64_t)k32 << 32) | k32;
    bench_v2u64 kv = {k64, k64};
    size_t i = 0;
    for (; i + 64 <= len; i += 64) {
        /* Separate variables, not an array: GCC spilled the array to the stack. */
        bench_v2u64 a, b, c, d;
        memcpy(&a, src + i, 16);
        memcpy(&b, src + i + 16, 16);
        memcpy(&c, src + i + 32, 16);
        memcpy(&d, src + i + 48, 16);
        a ^= kv;
        b ^= kv;
        c ^= kv;
        d ^= kv;
        memcpy(dst + i, &a, 16);
        memcpy(dst + i + 16, &b, 16);
        memcpy(dst + i + 32, &c, 16);
        memcpy(dst + i + 48, &d, 16);
    }
    for (; i + 8 <= len; i += 8) {
        uint64_t w;
        memcpy(&w, src + i, 8);
        w ^= k64;
        memcpy(dst + i, &w, 8);
    }
    for (; i < len; i++) dst[i] = src[i] ^ key[i & 3];
}

size_t bench_write_masked_frame(uint8_t *out, uint8_t first_byte, const uint8_t key[4],
                                const uint8_t *payload, size_t len) {
    size_t p = 0;
    out[p++] = first_byte;
    if (len < 126) {
        out[p++] = (uint8_t)(0x80 | len);
    } else if (len <= 0xFFFF) {
        out[p++] = 0x80 | 126;
        out[p++] = (uint8_t)(len >> 8);
        out[p++] = (uint8_t)len;
    } else {
        out[p++] = 0x80 | 127;
        for (int s = 56; s >= 0; s -= 8) out[p++] = (uint8_t)((uint64_t)len >> s);
    }
    memcpy(out + p, key, 4);
    p += 4;
    memcpy(out + p, payload, len);
    bench_xor_mask(out + p, len, key, 0);
    return p + len;
}

/* ---- SHA-1 (FIPS 180-4) and base64, for the expected accept values ------ */

static uint32_t rol32(uint32_t x, int n) { return (x << n) | (x >> (32 - n)); }

static void sha1_block(uint32_t h[5], const uint8_t *blk) {
    uint32_t w[80];
    for (int t = 0; t < 16; t++)
        w[t] = (uint32_t)blk[4 * t] << 24 | (uint32_t)blk[4 * t + 1] << 16 |
               (uint32_t)blk[4 * t + 2] << 8 | blk[4 * t + 3];
    for (int t = 16; t < 80; t++) w[t] = rol32(w[t - 3] ^ w[t - 8] ^ w[t - 14] ^ w[t - 16], 1);
    uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4];
    for (int t = 0; t < 80; t++) {
        uint32_t f, k;
        if (t < 20) {
            f = (b & c) | (~b & d);
            k = 0x5A827999;
        } else if (t < 40) {
            f = b ^ c ^ d;
            k = 0x6ED9EBA1;
        } else if (t < 60) {
            f = (b & c) | (b & d) | (c & d);
            k = 0x8F1BBCDC;
        } else {
            f = b ^ c ^ d;
            k = 0xCA62C1D6;
        }
        uint32_t tmp = rol32(a, 5) + f + e + k + w[t];
        e = d;
        d = c;
        c = rol32(b, 30);
        b = a;
        a = tmp;
    }
    h[0] += a;
    h[1] += b;
    h[2] += c;
    h[3] += d;
    h[4] += e;
}

void bench_sha1(const uint8_t *data, size_t len, uint8_t out[20]) {
    uint32_t h[5] = {0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476, 0xC3D2E1F0};
    size_t full = len / 64 * 64;
    for (size_t i = 0; i < full; i += 64) sha1_block(h, data + i);
    uint8_t tail[128] = {0};
    size_t rem = len - full;
    memcpy(tail, data + full, rem);
    tail[rem] = 0x80;
    size_t tail_len = rem + 1 + 8 <= 64 ? 64 : 128;
    uint64_t bits = (uint64_t)len * 8;
    for (int j = 0; j < 8; j++) tail[tail_len - 1 - (size_t)j] = (uint8_t)(bits >> (8 * j));
    for (size_t i = 0; i < tail_len; i += 64) sha1_block(h, tail + i);
    for (int j = 0; j < 5; j++) {
        out[4 * j] = (uint8_t)(h[j] >> 24);
        out[4 * j + 1] = (uint8_t)(h[j] >> 16);
        out[4 * j + 2] = (uint8_t)(h[j] >> 8);
        out[4 * j + 3] = (uint8_t)h[j];
    }
}

size_t bench_base64(const uint8_t *data, size_t len, char *out) {
    static const char A[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t o = 0, i = 0;
    for (; i + 3 <= len; i += 3) {
        uint32_t v = (uint32_t)data[i] << 16 | (uint32_t)data[i + 1] << 8 | data[i + 2];
        out[o++] = A[v >> 18];
        out[o++] = A[(v >> 12) & 63];
        out[o++] = A[(v >> 6) & 63];
        out[o++] = A[v & 63];
    }
    if (len - i == 1) {
        uint32_t v = (uint32_t)data[i] << 16;
        out[o++] = A[v >> 18];
        out[o++] = A[(v >> 12) & 63];
        out[o++] = '=';
        out[o++] = '=';
    } else if (len - i == 2) {
        uint32_t v = (uint32_t)data[i] << 16 | (uint32_t)data[i + 1] << 8;
        out[o++] = A[v >> 18];
        out[o++] = A[(v >> 12) & 63];
        out[o++] = A[(v >> 6) & 63];
        out[o++] = '=';
    }
    return o;
}

void bench_accept_value(const char *key, size_t key_len, char out[28]) {
    static const char GUID[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
    uint8_t buf[256];
    uint8_t digest[20];
    if (key_len > sizeof buf - (sizeof GUID - 1)) key_len = sizeof buf - (sizeof GUID - 1);
    memcpy(buf, key, key_len);
    memcpy(buf + key_len, GUID, sizeof GUID - 1);
    bench_sha1(buf, key_len + sizeof GUID - 1, digest);
    bench_base64(digest, 20, out);
}

/* ---- workloads ---------------------------------------------------------- */

#define MIB ((size_t)1 << 20)

static const char REQ_HEAD[] = "GET /chat HTTP/1.1\r\n"
                               "Host: server.example.com\r\n"
                               "Upgrade: websocket\r\n"
                               "Connection: Upgrade\r\n"
                               "Sec-WebSocket-Key: ";
static const char REQ_TAIL[] = "\r\n"
                               "Origin: http://example.com\r\n"
                               "Sec-WebSocket-Version: 13\r\n"
                               "User-Agent: peers-bench/1.0\r\n"
                               "\r\n";
#define REQ_LEN (sizeof REQ_HEAD - 1 + 24 + sizeof REQ_TAIL - 1)

/* Receive workloads whose messages are each one payload, drawn by `fill`,
 * followed by `frames` keys, one per frame of payload_len / frames bytes. */
static int gen_recv(bench_input *in, size_t payload_len, size_t frames, int text,
                    void (*fill)(bench_rng *, uint8_t *, size_t)) {
    size_t frame_len = payload_len / frames;
    size_t per_msg = frames * (bench_frame_header_len(frame_len, 1) + frame_len);
    in->msg_len = payload_len;
    in->input_len = in->messages * per_msg;
    in->input = malloc(in->input_len ? in->input_len : 1);
    uint8_t *payload = malloc(payload_len);
    if (!in->input || !payload) {
        free(payload);
        return -1;
    }
    bench_rng r;
    bench_rng_init(&r);
    uint64_t h = FNV1A64_INIT;
    uint8_t *o = in->input;
    for (size_t m = 0; m < in->messages; m++) {
        fill(&r, payload, payload_len);
        h = fnv1a64(h, payload, payload_len);
        for (size_t f = 0; f < frames; f++) {
            uint8_t key[4];
            bench_draw_key(&r, key);
            uint8_t opcode = f == 0 ? (text ? 0x1 : 0x2) : 0x0;
            uint8_t fin = f + 1 == frames ? 0x80 : 0x00;
            o += bench_write_masked_frame(o, (uint8_t)(fin | opcode), key, payload + f * frame_len,
                                          frame_len);
        }
    }
    free(payload);
    in->expected_len = in->messages * payload_len;
    in->expected_fnv = h;
    return 0;
}

static int gen_send(bench_input *in, size_t payload_len,
                    void (*fill)(bench_rng *, uint8_t *, size_t)) {
    in->msg_len = payload_len;
    in->input_len = in->messages * payload_len;
    in->input = malloc(in->input_len ? in->input_len : 1);
    if (!in->input) return -1;
    bench_rng r;
    bench_rng_init(&r);
    for (size_t m = 0; m < in->messages; m++) fill(&r, in->input + m * payload_len, payload_len);
    in->expected_len = in->input_len;
    in->expected_fnv = fnv1a64(FNV1A64_INIT, in->input, in->input_len);
    return 0;
}

static int gen_handshake(bench_input *in) {
    in->msg_len = REQ_LEN;
    in->input_len = in->messages * REQ_LEN;
    in->input = malloc(in->input_len ? in->input_len : 1);
    in->accepts = malloc(in->messages * 28 + 1);
    if (!in->input || !in->accepts) return -1;
    bench_rng r;
    bench_rng_init(&r);
    uint8_t *o = in->input;
    for (size_t m = 0; m < in->messages; m++) {
        uint8_t raw[16];
        char key[24];
        bench_fill_bytes(&r, raw, 16);
        bench_base64(raw, 16, key);
        memcpy(o, REQ_HEAD, sizeof REQ_HEAD - 1);
        o += sizeof REQ_HEAD - 1;
        memcpy(o, key, 24);
        o += 24;
        memcpy(o, REQ_TAIL, sizeof REQ_TAIL - 1);
        o += sizeof REQ_TAIL - 1;
        bench_accept_value(key, 24, (char *)in->accepts + m * 28);
    }
    in->expected_len = in->messages * 28;
    in->expected_fnv = fnv1a64(FNV1A64_INIT, in->accepts, in->expected_len);
    return 0;
}

/* Deflate documents: each document is followed by one key draw, as in every
 * receive workload. send-deflate sends "the same documents", so it draws
 * (and discards) the keys too, keeping its documents byte-identical. */
static int gen_deflate(bench_input *in, int recv) {
    in->msg_len = 1024;
    size_t docs_len = in->messages * 1024;
    uint8_t *docs = malloc(docs_len ? docs_len : 1);
    uint8_t(*keys)[4] = malloc(in->messages * 4 + 4);
    if (!docs || !keys) {
        free(docs);
        free(keys);
        return -1;
    }
    bench_rng r;
    bench_rng_init(&r);
    for (size_t m = 0; m < in->messages; m++) {
        bench_deflate_document(&r, m, docs + m * 1024);
        bench_draw_key(&r, keys[m]);
    }
    in->expected_len = docs_len;
    in->expected_fnv = fnv1a64(FNV1A64_INIT, docs, docs_len);
    if (!recv) {
        free(keys);
        in->input = docs;
        in->input_len = docs_len;
        in->input_fnv = in->expected_fnv;
        return 0;
    }
    int rc = 0;
    if (g_deflate_hook) {
        /* TODO(issue 3): bench.c/bench_engine plug in the library's
         * permessage-deflate compressor here. */
        rc = g_deflate_hook(g_deflate_userdata, docs, in->messages, (const uint8_t(*)[4])keys,
                            &in->input, &in->input_len);
    } else {
        in->pending = 1;
    }
    free(docs);
    free(keys);
    return rc;
}

int bench_generate(bench_workload w, size_t messages, bench_input *out) {
    memset(out, 0, sizeof *out);
    out->workload = w;
    out->messages = messages;
    int rc;
    switch (w) {
    case W_RECV_SMALL: rc = gen_recv(out, 32, 1, 1, bench_fill_ascii); break;
    case W_RECV_LARGE: rc = gen_recv(out, MIB, 1, 0, bench_fill_bytes); break;
    case W_RECV_TEXT_LARGE: rc = gen_recv(out, MIB, 1, 1, bench_fill_utf8); break;
    case W_RECV_FRAGMENTED: rc = gen_recv(out, 1024, 8, 1, bench_fill_ascii); break;
    case W_SEND_SMALL: rc = gen_send(out, 32, bench_fill_ascii); break;
    case W_SEND_LARGE: rc = gen_send(out, MIB, bench_fill_bytes); break;
    case W_RECV_DEFLATE: rc = gen_deflate(out, 1); break;
    case W_SEND_DEFLATE: rc = gen_deflate(out, 0); break;
    case W_HANDSHAKE: rc = gen_handshake(out); break;
    default: rc = -1; break;
    }
    if (rc != 0) {
        bench_input_free(out);
        return -1;
    }
    if (out->input && w != W_SEND_DEFLATE) out->input_fnv = fnv1a64(FNV1A64_INIT, out->input, out->input_len);
    return 0;
}

void bench_input_free(bench_input *in) {
    free(in->input);
    free(in->accepts);
    in->input = NULL;
    in->accepts = NULL;
}
