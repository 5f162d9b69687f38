/* Labelled rows beside the standard table: the same send inputs through the
 * default path, the zero-copy paths and tuned variants, the server role, an
 * echo workload, and the per-message "limit" loops of BENCHMARKS.md, all in
 * one run so that ratios compare like with like.
 *
 * The limit rows call bench/limits (limits.h): BENCHMARKS.md's minimal
 * hand-written Rust loops, linked in as a staticlib. Each is first run once
 * in verification mode on the same input and must hand over exactly what the
 * library must (message count, bytes, FNV-1a digest; send: the frames are
 * parsed and unmasked here). The older portable-C loops below stay as a
 * second, slower reference, labelled "C reference"; no ratio uses them.
 *
 * Every variant runs `runs` times, interleaved with the others (variant A
 * run 1, B run 1, ..., A run 2, ...), and reports its median: on a shared
 * machine, load changes hit every row alike. */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gen.h"
#include "limits/limits.h"
#include "variants.h"
#include "wsproto.h"

#define VMAX_RUNS 64
#define VCHUNK ((size_t)64 << 10)
#define SINK_CAP (((size_t)2 << 20) + 64)

static volatile uintptr_t v_sink;
static uint8_t *sink_buf; /* stands in for the socket: pre-touched, reused */

static double vnow(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int vcmp(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double vmedian(double *v, int n) {
    double tmp[VMAX_RUNS];
    memcpy(tmp, v, (size_t)n * sizeof *v);
    qsort(tmp, (size_t)n, sizeof *tmp, vcmp);
    return n % 2 ? tmp[n / 2] : (tmp[n / 2 - 1] + tmp[n / 2]) / 2;
}

static void fail(const char *what, ws_conn_t *c, ws_result_t rc) {
    fprintf(stderr, "variants: %s: %s (%s)\n", what, ws_result_str(rc), c ? ws_conn_last_error(c) : "");
    exit(1);
}

/* ---- ChaCha12 keystream for the C reference loops (8 blocks at a time) ----- */

typedef struct chacha_pool {
    uint32_t key[8];
    uint64_t counter;
    uint8_t buf[4096];
    size_t used;
} chacha_pool;

#define ROTL(v, n) (((v) << (n)) | ((v) >> (32 - (n))))

static void chacha8x(const uint32_t key[8], uint64_t counter, uint8_t out[512]) {
    uint32_t x[16][8], init[16][8];
    static const uint32_t c[4] = {0x61707865, 0x3320646e, 0x79622d32, 0x6b206574};
    for (int l = 0; l < 8; l++) {
        for (int i = 0; i < 4; i++) init[i][l] = c[i];
        for (int i = 0; i < 8; i++) init[4 + i][l] = key[i];
        uint64_t ctr = counter + (uint64_t)l;
        init[12][l] = (uint32_t)ctr;
        init[13][l] = (uint32_t)(ctr >> 32);
        init[14][l] = init[15][l] = 0;
    }
    memcpy(x, init, sizeof x);
#define QR(a, b, cc, d)                                                          \
    for (int l = 0; l < 8; l++) {                                                \
        x[a][l] += x[b][l]; x[d][l] ^= x[a][l]; x[d][l] = ROTL(x[d][l], 16);     \
        x[cc][l] += x[d][l]; x[b][l] ^= x[cc][l]; x[b][l] = ROTL(x[b][l], 12);   \
        x[a][l] += x[b][l]; x[d][l] ^= x[a][l]; x[d][l] = ROTL(x[d][l], 8);      \
        x[cc][l] += x[d][l]; x[b][l] ^= x[cc][l]; x[b][l] = ROTL(x[b][l], 7);    \
    }
    for (int r = 0; r < 6; r++) {
        QR(0, 4, 8, 12) QR(1, 5, 9, 13) QR(2, 6, 10, 14) QR(3, 7, 11, 15)
        QR(0, 5, 10, 15) QR(1, 6, 11, 12) QR(2, 7, 8, 13) QR(3, 4, 9, 14)
    }
#undef QR
    for (int w = 0; w < 16; w++)
        for (int l = 0; l < 8; l++) {
            uint32_t v = x[w][l] + init[w][l];
            memcpy(out + 64 * l + 4 * w, &v, 4);
        }
}

static void chacha_refill(chacha_pool *p) {
    for (size_t off = 0; off < sizeof p->buf; off += 512) {
        chacha8x(p->key, p->counter, p->buf + off);
        p->counter += 8;
    }
    memcpy(p->key, p->buf, 32); /* fast key erasure, as the library does */
    p->used = 32;
}

static inline void chacha_key(chacha_pool *p, uint8_t k[4]) {
    if (p->used + 4 > sizeof p->buf) chacha_refill(p);
    memcpy(k, p->buf + p->used, 4);
    p->used += 4;
}

/* ---- send variants ------------------------------------------------------- */

enum send_mode {
    SEND_QUEUED_COPY,   /* send_*, then peek + copy out + consume (README usage) */
    SEND_QUEUED_NOCOPY, /* send_*, then peek + consume without copying (old bench) */
    SEND_ENCODE,        /* ws_conn_encode_* straight into the sink */
    SEND_HEADER,        /* server: ws_conn_encode_*_header; payload not touched */
};

static int xorshift_rng(void *userdata, uint8_t *buf, size_t len) {
    bench_fill_bytes(userdata, buf, len);
    return 0;
}

static void drain_out(ws_conn_t *c, int copy) {
    const uint8_t *p;
    size_t n;
    ws_result_t rc = ws_conn_output_peek(c, &p, &n);
    if (rc != WS_OK) fail("peek", c, rc);
    size_t off = 0;
    while (copy && off < n) { /* a socket write, in pieces that fit the sink */
        /* Same offset in a 64-byte line as the source: see bench.c's
         * SAME_LINE_OFFSET (glibc's rep movsb on AMD Zen). */
        size_t at = (size_t)(((uintptr_t)(p + off) - (uintptr_t)sink_buf) & 63);
        size_t k = n - off < SINK_CAP - 64 ? n - off : SINK_CAP - 64;
        memcpy(sink_buf + at, p + off, k);
        off += k;
    }
    v_sink += (uintptr_t)p + n;
    rc = ws_conn_output_consume(c, n);
    if (rc != WS_OK) fail("consume", c, rc);
}

/* idle_buffer_retain of the variant rows: 0 = the default (1 KiB). */
static size_t g_retain;

static double run_send_variant(const bench_input *in, ws_role_t role, enum send_mode mode, int tuned_keys) {
    bench_rng masks = {0x0123456789ABCDEFull};
    ws_config_t *cfg = ws_config_new();
    if (!cfg) fail("ws_config_new", NULL, WS_ERR_NO_MEMORY);
    if (tuned_keys) ws_config_set_rng(cfg, xorshift_rng, &masks);
    if (g_retain) ws_config_set_idle_buffer_retain(cfg, g_retain);
    ws_conn_t *c = NULL;
    ws_result_t rc = ws_conn_new_frames_only(cfg, role, NULL, 0, &c);
    ws_config_free(cfg);
    if (rc != WS_OK) fail("frames_only", NULL, rc);
    int text = in->workload != W_SEND_LARGE;
    size_t len = in->msg_len, off = 0, n = 0;
    double t0 = vnow();
    for (size_t m = 0; m < in->messages; m++) {
        const uint8_t *payload = in->input + m * len;
        switch (mode) {
        case SEND_QUEUED_COPY:
        case SEND_QUEUED_NOCOPY:
            rc = text ? ws_conn_send_text(c, payload, len, 0) : ws_conn_send_binary(c, payload, len, 0);
            if (rc != WS_OK) fail("send", c, rc);
            if (ws_conn_output_len(c) >= VCHUNK) drain_out(c, mode == SEND_QUEUED_COPY);
            break;
        case SEND_ENCODE:
            if (off + len + 14 > SINK_CAP) off = 0; /* the sink was "written" */
            rc = text ? ws_conn_encode_text(c, payload, len, 0, sink_buf + off, SINK_CAP - off, &n)
                      : ws_conn_encode_binary(c, payload, len, 0, sink_buf + off, SINK_CAP - off, &n);
            if (rc != WS_OK) fail("encode", c, rc);
            off += n;
            break;
        case SEND_HEADER: {
            uint8_t head[WS_MAX_SERVER_HEADER_LEN];
            rc = text ? ws_conn_encode_text_header(c, payload, len, WS_SEND_TRUSTED_UTF8, head, sizeof head, &n)
                      : ws_conn_encode_binary_header(c, payload, len, 0, head, sizeof head, &n);
            if (rc != WS_OK) fail("encode header", c, rc);
            v_sink += head[0] + n + (uintptr_t)payload; /* writev(head, payload) would go here */
            break;
        }
        }
    }
    if (mode == SEND_QUEUED_COPY || mode == SEND_QUEUED_NOCOPY) drain_out(c, mode == SEND_QUEUED_COPY);
    double t1 = vnow();
    v_sink += off;
    ws_conn_free(c);
    return t1 - t0;
}

/* C reference for the send limit: a header and the payload (XOR-masked with
 * a ChaCha12 key for a client) into a reused sink, one pass, portable C. */
static double run_send_limit_c(const bench_input *in, int client) {
    chacha_pool pool = {{1, 2, 3, 4, 5, 6, 7, 8}, 0, {0}, 4096};
    size_t len = in->msg_len, off = 0;
    uint8_t b0 = in->workload == W_SEND_LARGE ? 0x82 : 0x81;
    double t0 = vnow();
    for (size_t m = 0; m < in->messages; m++) {
        const uint8_t *payload = in->input + m * len;
        if (off + len + 14 > SINK_CAP) off = 0;
        uint8_t *o = sink_buf + off;
        size_t h = 2;
        o[0] = b0;
        if (len < 126) {
            o[1] = (uint8_t)len;
        } else if (len <= 0xffff) {
            o[1] = 126, o[2] = (uint8_t)(len >> 8), o[3] = (uint8_t)len, h = 4;
        } else {
            o[1] = 127;
            for (int i = 0; i < 8; i++) o[2 + i] = (uint8_t)((uint64_t)len >> (56 - 8 * i));
            h = 10;
        }
        if (client) {
            uint8_t k[4];
            chacha_key(&pool, k);
            o[1] |= 0x80;
            memcpy(o + h, k, 4);
            bench_xor_copy(o + h + 4, payload, len, k);
            h += 4;
        } else {
            memcpy(o + h, payload, len);
        }
        off += h + len;
    }
    double t1 = vnow();
    v_sink += off + sink_buf[0];
    return t1 - t0;
}

/* ---- receive C reference loop (recv-small, recv-fragmented) --------------- */

/* UTF-8 check: ASCII words fast, a plain DFA-free validator otherwise. */
static int valid_utf8(const uint8_t *s, size_t n) {
    size_t i = 0;
    while (i < n) {
        if (i + 8 <= n) {
            uint64_t w;
            memcpy(&w, s + i, 8);
            if (!(w & 0x8080808080808080ull)) {
                i += 8;
                continue;
            }
        }
        uint8_t c = s[i];
        if (c < 0x80) { i++; continue; }
        size_t k = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC2 ? 2 : 0;
        if (!k || c > 0xF4 || i + k > n) return 0;
        for (size_t j = 1; j < k; j++)
            if ((s[i + j] & 0xC0) != 0x80) return 0;
        if (k == 3 && ((c == 0xE0 && s[i + 1] < 0xA0) || (c == 0xED && s[i + 1] > 0x9F))) return 0;
        if (k == 4 && ((c == 0xF0 && s[i + 1] < 0x90) || (c == 0xF4 && s[i + 1] > 0x8F))) return 0;
        i += k;
    }
    return 1;
}

/* C reference: the minimal frame walker of BENCHMARKS.md over the same 64 KiB chunks:
 * checks RSV, mask bit, opcode and fragment order, XOR-copies each payload
 * once into one reused buffer (reassembling fragments), validates text,
 * hands over (pointer, length). Frames split across chunks are resumed. */
static double run_recv_limit_c(const bench_input *in, size_t *delivered) {
    static uint8_t msg[1 << 20];
    uint8_t head[14];
    size_t head_len = 0, msg_len = 0, need = 0, left = 0, koff = 0, count = 0;
    uint8_t key[4] = {0};
    int in_payload = 0, fin = 0, in_message = 0;
    uintptr_t sink = 0;
    double t0 = vnow();
    for (size_t off = 0; off < in->input_len; off += VCHUNK) {
        const uint8_t *p = in->input + off;
        const uint8_t *end = p + (in->input_len - off < VCHUNK ? in->input_len - off : VCHUNK);
        while (p < end) {
            if (!in_payload) {
                if (head_len == 0 && end - p >= 14) { /* whole header here: no byte loop */
                    size_t h = (p[1] & 0x7F) == 126 ? 4 : (p[1] & 0x7F) == 127 ? 10 : 2;
                    memcpy(head, p, h + 4);
                    p += h + 4;
                    head_len = h + 4;
                    uint8_t b0 = head[0], b1 = head[1], op = b0 & 0x0F;
                    if ((b0 & 0x70) || !(b1 & 0x80) || (op != 0 && op != 1 && op != 2) ||
                        (op == 0) != in_message)
                        return -1;
                    need = head_len;
                } else {
                    head[head_len++] = *p++;
                }
                if (head_len == 2) {
                    uint8_t b0 = head[0], b1 = head[1], op = b0 & 0x0F;
                    if ((b0 & 0x70) || !(b1 & 0x80) || (op != 0 && op != 1 && op != 2) ||
                        (op == 0) != in_message)
                        return -1;
                    need = 2 + ((b1 & 0x7F) == 126 ? 2 : (b1 & 0x7F) == 127 ? 8 : 0) + 4;
                }
                if (head_len < 2 || head_len < need) continue;
                uint64_t len = head[1] & 0x7F;
                size_t h = 2;
                if (len == 126) len = (uint64_t)head[2] << 8 | head[3], h = 4;
                else if (len == 127) {
                    len = 0;
                    for (int i = 0; i < 8; i++) len = len << 8 | head[2 + i];
                    h = 10;
                }
                if (msg_len + len > sizeof msg) return -1;
                memcpy(key, head + h, 4);
                fin = head[0] >> 7;
                in_message = !fin;
                left = (size_t)len;
                koff = 0;
                head_len = 0;
                in_payload = 1;
            }
            size_t k = (size_t)(end - p) < left ? (size_t)(end - p) : left;
            uint8_t rk[4] = {key[koff & 3], key[(koff + 1) & 3], key[(koff + 2) & 3], key[(koff + 3) & 3]};
            bench_xor_copy(msg + msg_len, p, k, rk);
            msg_len += k;
            koff += k;
            p += k;
            left -= k;
            if (left) continue;
            in_payload = 0;
            if (fin) {
                if (!valid_utf8(msg, msg_len)) return -1;
                sink += (uintptr_t)msg + msg_len; /* handed over */
                count++;
                msg_len = 0;
            }
        }
    }
    double t1 = vnow();
    v_sink += sink;
    *delivered = count;
    return t1 - t0;
}

/* Default C API receive: receive + poll (128-byte ws_event_t), as bench.c's
 * standard rows, repeated here so the limit is measured in the same run. */
static double run_recv_api(const bench_input *in, size_t *delivered) {
    ws_conn_t *c = NULL;
    ws_result_t rc = ws_conn_new_frames_only(NULL, WS_ROLE_SERVER, NULL, 0, &c);
    if (rc != WS_OK) fail("frames_only", NULL, rc);
    size_t count = 0;
    uintptr_t sink = 0;
    ws_event_t ev;
    double t0 = vnow();
    for (size_t off = 0; off < in->input_len; off += VCHUNK) {
        size_t n = in->input_len - off < VCHUNK ? in->input_len - off : VCHUNK;
        rc = ws_conn_receive(c, in->input + off, n);
        if (rc != WS_OK) fail("receive", c, rc);
        while ((rc = ws_conn_poll_event(c, &ev)) == WS_OK && ev.type != WS_EVENT_NONE) {
            count += (ev.flags & WS_EVENT_FLAG_MESSAGE_FINISHED) != 0;
            sink += (uintptr_t)ev.data + ev.len;
        }
        if (rc != WS_OK) fail("poll", c, rc);
    }
    double t1 = vnow();
    ws_conn_free(c);
    v_sink += sink;
    *delivered = count;
    return t1 - t0;
}

/* Batch poll: receive + ws_conn_poll_events into 64 compact events. */
static double run_recv_batch(const bench_input *in, size_t *delivered) {
    ws_conn_t *c = NULL;
    ws_result_t rc = ws_conn_new_frames_only(NULL, WS_ROLE_SERVER, NULL, 0, &c);
    if (rc != WS_OK) fail("frames_only", NULL, rc);
    size_t count = 0, n = 0;
    uintptr_t sink = 0;
    ws_event_compact_t ev[64];
    double t0 = vnow();
    for (size_t off = 0; off < in->input_len; off += VCHUNK) {
        size_t len = in->input_len - off < VCHUNK ? in->input_len - off : VCHUNK;
        rc = ws_conn_receive(c, in->input + off, len);
        if (rc != WS_OK) fail("receive", c, rc);
        while ((rc = ws_conn_poll_events(c, ev, 64, &n)) == WS_OK && n > 0)
            for (size_t i = 0; i < n; i++) {
                count += (ev[i].flags & WS_EVENT_FLAG_MESSAGE_FINISHED) != 0;
                sink += (uintptr_t)ev[i].data + ev[i].len;
            }
        if (rc != WS_OK) fail("poll_events", c, rc);
    }
    double t1 = vnow();
    ws_conn_free(c);
    v_sink += sink;
    *delivered = count;
    return t1 - t0;
}

/* ---- echo: receive each message, send it back, drain the output ----------- */

static double run_echo(const bench_input *in, enum send_mode mode, size_t *echoed) {
    ws_conn_t *c = NULL;
    ws_result_t rc = ws_conn_new_frames_only(NULL, WS_ROLE_SERVER, NULL, 0, &c);
    if (rc != WS_OK) fail("frames_only", NULL, rc);
    size_t count = 0, n = 0;
    ws_event_t ev;
    double t0 = vnow();
    for (size_t off = 0; off < in->input_len; off += VCHUNK) {
        size_t len = in->input_len - off < VCHUNK ? in->input_len - off : VCHUNK;
        rc = ws_conn_receive(c, in->input + off, len);
        if (rc != WS_OK) fail("receive", c, rc);
        size_t so = 0;
        while ((rc = ws_conn_poll_event(c, &ev)) == WS_OK && ev.type != WS_EVENT_NONE) {
            if (!(ev.flags & WS_EVENT_FLAG_MESSAGE_FINISHED)) continue;
            /* the event's data goes straight back: no scratch copy */
            if (mode == SEND_ENCODE) {
                if (so + ev.len + 14 > SINK_CAP) so = 0;
                rc = ws_conn_encode_text(c, ev.data, ev.len, WS_SEND_TRUSTED_UTF8, sink_buf + so, SINK_CAP - so, &n);
                so += n;
            } else {
                rc = ws_conn_send_text(c, ev.data, ev.len, WS_SEND_TRUSTED_UTF8);
            }
            if (rc != WS_OK) fail("echo", c, rc);
            count++;
        }
        if (rc != WS_OK) fail("poll", c, rc);
        if (mode != SEND_ENCODE) drain_out(c, 1);
    }
    double t1 = vnow();
    ws_conn_free(c);
    *echoed = count;
    return t1 - t0;
}

/* ---- handshake C reference loop ------------------------------------------- */

static int ieq(const uint8_t *a, const char *b, size_t n) { return strncasecmp((const char *)a, b, n) == 0; }

/* C reference: request line and headers walked once; Host, Upgrade: websocket,
 * Connection: upgrade, version 13 and a 24-char key required; SHA-1 +
 * base64 of key+GUID; a fixed 129-byte 101 with the accept value copied in. */
static double run_handshake_limit_c(const bench_input *in, size_t *done) {
    static const char tmpl[] = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                               "Sec-WebSocket-Accept: ____________________________\r\n\r\n";
    uint8_t out[160];
    size_t ok = 0;
    double t0 = vnow();
    for (size_t m = 0; m < in->messages; m++) {
        const uint8_t *p = in->input + m * in->msg_len, *end = p + in->msg_len;
        if (end - p < 16 || memcmp(p, "GET ", 4) != 0) return -1;
        const uint8_t *eol = memchr(p, '\n', (size_t)(end - p));
        if (!eol || memcmp(eol - 9, "HTTP/1.1", 8) != 0) return -1;
        p = eol + 1;
        int host = 0, upgrade = 0, connection = 0, version = 0;
        const uint8_t *key = NULL;
        size_t key_len = 0;
        while (p < end && *p != '\r') {
            eol = memchr(p, '\n', (size_t)(end - p));
            if (!eol) return -1;
            const uint8_t *colon = memchr(p, ':', (size_t)(eol - p));
            if (!colon) return -1;
            size_t nl = (size_t)(colon - p);
            const uint8_t *v = colon + 1, *ve = eol - 1;
            while (v < ve && (*v == ' ' || *v == '\t')) v++;
            size_t vl = (size_t)(ve - v);
            if (nl == 4 && ieq(p, "host", 4)) host = 1;
            else if (nl == 7 && ieq(p, "upgrade", 7)) upgrade = vl == 9 && ieq(v, "websocket", 9);
            else if (nl == 10 && ieq(p, "connection", 10)) connection = vl >= 7 && memmem(v, vl, "pgrade", 6) != NULL;
            else if (nl == 21 && ieq(p, "sec-websocket-version", 21)) version = vl == 2 && v[0] == '1' && v[1] == '3';
            else if (nl == 17 && ieq(p, "sec-websocket-key", 17)) key = v, key_len = vl;
            p = eol + 1;
        }
        if (!host || !upgrade || !connection || !version || key_len != 24) return -1;
        memcpy(out, tmpl, sizeof tmpl - 1);
        bench_accept_value((const char *)key, key_len, (char *)out + 97);
        v_sink += out[97] + out[124];
        ok++;
    }
    double t1 = vnow();
    *done = ok;
    return t1 - t0;
}

static double run_handshake_api(const bench_input *in, size_t *done) {
    ws_event_t ev;
    size_t ok = 0;
    double t0 = vnow();
    for (size_t m = 0; m < in->messages; m++) {
        ws_conn_t *c = NULL;
        ws_result_t rc = ws_conn_new_server(NULL, &c);
        if (rc == WS_OK) rc = ws_conn_receive(c, in->input + m * in->msg_len, in->msg_len);
        if (rc == WS_OK) rc = ws_conn_poll_event(c, &ev);
        if (rc == WS_OK && ev.type == WS_EVENT_REQUEST) rc = ws_conn_accept(c, NULL, 0, NULL, 0);
        const uint8_t *out;
        size_t n;
        if (rc == WS_OK) rc = ws_conn_output_peek(c, &out, &n);
        if (rc != WS_OK) fail("handshake", c, rc);
        v_sink += (uintptr_t)out + n;
        ws_conn_free(c);
        ok++;
    }
    double t1 = vnow();
    *done = ok;
    return t1 - t0;
}

/* ---- the limit loops (bench/limits, Rust) ---------------------------------- */

static double run_send_limit(const bench_input *in, int client) {
    limits_stats st;
    uint8_t op = in->workload == W_SEND_LARGE ? 2 : 1;
    double t0 = vnow();
    int32_t rc = limits_send(in->input, in->msg_len, in->messages, op, client, sink_buf, SINK_CAP, &st);
    double t1 = vnow();
    if (rc != 0) {
        fprintf(stderr, "variants: limits_send: %d\n", rc);
        exit(1);
    }
    v_sink += st.sink + st.bytes;
    return t1 - t0;
}

static double run_recv_limit(const bench_input *in, size_t *delivered) {
    limits_stats st;
    double t0 = vnow();
    int32_t rc = limits_recv(in->input, in->input_len, VCHUNK, 0, &st);
    double t1 = vnow();
    v_sink += st.sink;
    *delivered = st.messages;
    return rc == 0 ? t1 - t0 : -1;
}

static double run_handshake_limit(const bench_input *in, size_t *done) {
    limits_stats st;
    double t0 = vnow();
    int32_t rc = limits_handshake(in->input, in->msg_len, in->messages, 0, &st);
    double t1 = vnow();
    v_sink += st.sink;
    *done = st.messages;
    return rc == 0 ? t1 - t0 : -1;
}

static int check_digest(const char *what, const bench_input *in, int32_t rc, uint64_t messages, uint64_t bytes,
                        uint64_t fnv) {
    if (rc == 0 && messages == in->messages && bytes == in->expected_len && fnv == in->expected_fnv) {
        printf("  verified: %-36s %8llu messages, %10llu bytes, fnv1a64 %016llx (= what the library must deliver)\n", what,
               (unsigned long long)messages, (unsigned long long)bytes, (unsigned long long)fnv);
        return 0;
    }
    fprintf(stderr,
            "variants: %s: rc %d, %llu messages / %llu bytes / fnv %016llx, expected %zu / %zu / %016llx\n", what,
            rc, (unsigned long long)messages, (unsigned long long)bytes, (unsigned long long)fnv, in->messages,
            in->expected_len, (unsigned long long)in->expected_fnv);
    return -1;
}

/* Verification run of the receive and handshake limits: what they hand
 * over must be what the library must deliver (the generator's digest). */
static int verify_limit(const bench_input *in, const char *what) {
    limits_stats st;
    int32_t rc = in->workload == W_HANDSHAKE ? limits_handshake(in->input, in->msg_len, in->messages, 1, &st)
                                             : limits_recv(in->input, in->input_len, VCHUNK, 1, &st);
    return check_digest(what, in, rc, st.messages, st.bytes, st.fnv);
}

/* Verification run of the send limit: every frame into one buffer, then
 * parsed here (FIN + opcode, mask bit by role, length), unmasked and hashed. */
static int verify_send_limit(const bench_input *in, int client, const char *what) {
    size_t cap = in->messages * (in->msg_len + 14);
    uint8_t *buf = malloc(cap), *tmp = malloc(in->msg_len);
    uint8_t want_b0 = in->workload == W_SEND_LARGE ? 0x82 : 0x81;
    limits_stats st;
    int32_t rc = buf && tmp ? limits_send(in->input, in->msg_len, in->messages, want_b0 & 0x0F, client, buf, cap, &st)
                            : -1;
    uint64_t h = FNV1A64_INIT, bytes = 0, messages = 0;
    size_t p = 0, end = rc == 0 ? st.bytes : 0;
    while (rc == 0 && p < end) {
        if (end - p < 2 || buf[p] != want_b0 || (buf[p + 1] >> 7) != client) {
            rc = -2;
            break;
        }
        uint64_t len = buf[p + 1] & 0x7F;
        size_t at = 2;
        if (len == 126 && end - p >= 4) len = (uint64_t)buf[p + 2] << 8 | buf[p + 3], at = 4;
        else if (len == 127 && end - p >= 10)
            for (len = 0, at = 2; at < 10; at++) len = len << 8 | buf[p + at];
        size_t hl = at + (client ? 4 : 0);
        if (len != in->msg_len || end - p < hl + in->msg_len) {
            rc = -3;
            break;
        }
        memcpy(tmp, buf + p + hl, in->msg_len);
        if (client) bench_xor_mask(tmp, in->msg_len, buf + p + at, 0);
        h = fnv1a64(h, tmp, in->msg_len);
        bytes += in->msg_len;
        messages++;
        p += hl + in->msg_len;
    }
    free(buf);
    free(tmp);
    return check_digest(what, in, rc, messages, bytes, h);
}

/* ---- report -------------------------------------------------------------- */

typedef struct row {
    const char *workload, *label;
    double runs[VMAX_RUNS];
    double value;
} row;

static void print_row(const row *r, const char *unit, double limit) {
    printf("  %-16s %-58s %10.4g %-6s", r->workload, r->label, r->value, unit);
    if (limit > 0) printf("  %.2fx limit", r->value / limit);
    putchar('\n');
}

static double rate(double count, double secs) { return secs > 0 ? count / secs : 0; }

int variants_report(int quick, int runs) {
    if (runs > VMAX_RUNS) runs = VMAX_RUNS;
    sink_buf = malloc(SINK_CAP);
    if (!sink_buf) return -1;
    memset(sink_buf, 1, SINK_CAP);
    printf("\nlabelled variants (median of %d interleaved runs; limit = BENCHMARKS.md's minimal hand-written loop\n"
           "(bench/limits, Rust), same run, every ratio against it; \"C reference\" = the older portable-C loop, slower,\n"
           "shown for comparison only; default = built-in ChaCha12 mask keys and output taken with peek + copy out +\n"
           "consume; connections use the default idle_buffer_retain of 1 KiB unless the row says otherwise)\n",
           runs);

    /* send-small and send-large, both roles */
    bench_workload sends[2] = {W_SEND_SMALL, W_SEND_LARGE};
    for (int wi = 0; wi < 2; wi++) {
        bench_workload w = sends[wi];
        size_t n = bench_workload_messages(w);
        if (quick) n = n / 100 ? n / 100 : 1;
        bench_input in;
        if (bench_generate(w, n, &in) != 0) return -1;
        const char *name = bench_workload_name(w);
        int large = w == W_SEND_LARGE;
        char what[64];
        snprintf(what, sizeof what, "%s client limit", name);
        if (verify_send_limit(&in, 1, what) != 0) return -1;
        snprintf(what, sizeof what, "%s server limit", name);
        if (verify_send_limit(&in, 0, what) != 0) return -1;
        double per = large ? (double)in.msg_len / 1e9 : 1; /* GB/s or msg/s */
        enum { C_LIMIT = 4, S_LIMIT = 10, NROWS = 12 };
        row rows[NROWS] = {
            {name, "client default (built-in keys, peek+copy+consume)", {0}, 0},
            {name, "client zero-copy ws_conn_encode_* (built-in keys)", {0}, 0},
            {name, "client tuned: xorshift keys, peek+consume, no copy out", {0}, 0},
            {name, "client tuned: xorshift keys + zero-copy", {0}, 0},
            {name, "client LIMIT (Rust: ChaCha12Rng key, one-pass masked copy)", {0}, 0},
            {name, "client C reference (portable C, 8-block ChaCha12)", {0}, 0},
            {name, "client default, idle_buffer_retain 4 MiB", {0}, 0},
            {name, "server default (peek+copy+consume)", {0}, 0},
            {name, "server zero-copy ws_conn_encode_*", {0}, 0},
            {name, "server header-only (payload not copied; writev moves it)", {0}, 0},
            {name, "server LIMIT (Rust: header + one copy)", {0}, 0},
            {name, "server C reference (portable C: header + memcpy)", {0}, 0},
        };
        for (int r = 0; r < runs; r++) {
            double m = (double)in.messages * per;
            rows[0].runs[r] = rate(m, run_send_variant(&in, WS_ROLE_CLIENT, SEND_QUEUED_COPY, 0));
            rows[1].runs[r] = rate(m, run_send_variant(&in, WS_ROLE_CLIENT, SEND_ENCODE, 0));
            rows[2].runs[r] = rate(m, run_send_variant(&in, WS_ROLE_CLIENT, SEND_QUEUED_NOCOPY, 1));
            rows[3].runs[r] = rate(m, run_send_variant(&in, WS_ROLE_CLIENT, SEND_ENCODE, 1));
            rows[4].runs[r] = rate(m, run_send_limit(&in, 1));
            rows[5].runs[r] = rate(m, run_send_limit_c(&in, 1));
            g_retain = (size_t)4 << 20;
            rows[6].runs[r] = rate(m, run_send_variant(&in, WS_ROLE_CLIENT, SEND_QUEUED_COPY, 0));
            g_retain = 0;
            rows[7].runs[r] = rate(m, run_send_variant(&in, WS_ROLE_SERVER, SEND_QUEUED_COPY, 0));
            rows[8].runs[r] = rate(m, run_send_variant(&in, WS_ROLE_SERVER, SEND_ENCODE, 0));
            rows[9].runs[r] = rate(m, run_send_variant(&in, WS_ROLE_SERVER, SEND_HEADER, 0));
            rows[10].runs[r] = rate(m, run_send_limit(&in, 0));
            rows[11].runs[r] = rate(m, run_send_limit_c(&in, 0));
        }
        for (size_t i = 0; i < NROWS; i++) rows[i].value = vmedian(rows[i].runs, runs);
        for (size_t i = 0; i < NROWS; i++)
            print_row(&rows[i], large ? "GB/s" : "msg/s", i < 7 ? rows[C_LIMIT].value : rows[S_LIMIT].value);
        bench_input_free(&in);
    }

    /* receive: the C API against the frame-walker limit; echo */
    bench_workload recvs[2] = {W_RECV_SMALL, W_RECV_FRAGMENTED};
    for (int wi = 0; wi < 2; wi++) {
        bench_workload w = recvs[wi];
        size_t n = bench_workload_messages(w);
        if (quick) n = n / 100 ? n / 100 : 1;
        bench_input in;
        if (bench_generate(w, n, &in) != 0) return -1;
        const char *name = bench_workload_name(w);
        char what[64];
        snprintf(what, sizeof what, "%s limit", name);
        if (verify_limit(&in, what) != 0) return -1;
        enum { LIMIT = 2, NROWS = 6 };
        row rows[NROWS] = {
            {name, "C API default (receive + poll_event)", {0}, 0},
            {name, "C API batch poll (ws_conn_poll_events, 64 compact)", {0}, 0},
            {name, "LIMIT (Rust frame walker, XOR copy, ASCII/simdutf8)", {0}, 0},
            {name, "C reference (portable-C frame walker)", {0}, 0},
            {name, "echo: send_text TRUSTED_UTF8 + peek+copy+consume", {0}, 0},
            {name, "echo: encode_text TRUSTED_UTF8 into the sink", {0}, 0},
        };
        for (int r = 0; r < runs; r++) {
            size_t got = 0;
            double s = run_recv_api(&in, &got);
            if (got != in.messages) return -1;
            rows[0].runs[r] = rate((double)got, s);
            s = run_recv_batch(&in, &got);
            if (got != in.messages) return -1;
            rows[1].runs[r] = rate((double)got, s);
            s = run_recv_limit(&in, &got);
            if (s < 0 || got != in.messages) {
                fprintf(stderr, "variants: the limit loop rejected %s's input\n", name);
                return -1;
            }
            rows[2].runs[r] = rate((double)got, s);
            s = run_recv_limit_c(&in, &got);
            if (s < 0 || got != in.messages) {
                fprintf(stderr, "variants: the C reference loop rejected %s's input\n", name);
                return -1;
            }
            rows[3].runs[r] = rate((double)got, s);
            s = run_echo(&in, SEND_QUEUED_COPY, &got);
            if (got != in.messages) return -1;
            rows[4].runs[r] = rate((double)got, s);
            s = run_echo(&in, SEND_ENCODE, &got);
            if (got != in.messages) return -1;
            rows[5].runs[r] = rate((double)got, s);
        }
        for (size_t i = 0; i < NROWS; i++) rows[i].value = vmedian(rows[i].runs, runs);
        for (size_t i = 0; i < NROWS; i++) print_row(&rows[i], "msg/s", i < 4 ? rows[LIMIT].value : 0);
        bench_input_free(&in);
    }

    {
        size_t n = bench_workload_messages(W_HANDSHAKE);
        if (quick) n = n / 100 ? n / 100 : 1;
        bench_input in;
        if (bench_generate(W_HANDSHAKE, n, &in) != 0) return -1;
        if (verify_limit(&in, "handshake limit (accept values)") != 0) return -1;
        row rows[] = {
            {"handshake", "C API default (new, receive, poll, accept, peek, free)", {0}, 0},
            {"handshake", "LIMIT (Rust: httparse, 4.2.1 checks, sha1 + base64, 101)", {0}, 0},
            {"handshake", "C reference (portable C: header walk, gen.c SHA-1)", {0}, 0},
        };
        for (int r = 0; r < runs; r++) {
            size_t got = 0;
            rows[0].runs[r] = rate((double)in.messages, run_handshake_api(&in, &got));
            double s = run_handshake_limit(&in, &got);
            if (s < 0 || got != in.messages) {
                fprintf(stderr, "variants: the handshake limit loop rejected the input\n");
                return -1;
            }
            rows[1].runs[r] = rate((double)got, s);
            s = run_handshake_limit_c(&in, &got);
            if (s < 0 || got != in.messages) {
                fprintf(stderr, "variants: the handshake C reference loop rejected the input\n");
                return -1;
            }
            rows[2].runs[r] = rate((double)got, s);
        }
        for (size_t i = 0; i < 3; i++) rows[i].value = vmedian(rows[i].runs, runs);
        for (size_t i = 0; i < 3; i++) print_row(&rows[i], "hs/s", rows[1].value);
        bench_input_free(&in);
    }
    free(sink_buf);
    return 0;
}
