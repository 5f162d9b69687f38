/* wsproto benchmark harness: the standard workloads of
 * BENCHMARKS.md (the project's standard workloads, shared/ beside the repository), driven through the C ABI (include/wsproto.h).
 *
 * For each workload: the input is generated before any clock starts; one
 * verification pass (untimed) runs the workload while hashing what the engine
 * delivers or produces and checks count, bytes and FNV-1a digest; then R
 * timed runs (median reported) touch nothing but what "deliver" requires: a
 * pointer and a length per message. Ceiling rows (one-pass copy+XOR of the
 * same bytes; raw zlib inflate/deflate for the deflate workloads) are
 * measured the same way.
 *
 * recv-deflate's input is built with the library's own compressor (client
 * role) and checked against the table's digest; the system zlib only checks
 * send-deflate's output and gives the deflate ceiling rows.
 *
 * --heap N: per-connection heap with and without permessage-deflate over N
 * connections (default 1000, 100 with --quick, 0 = off; off with --only).
 *
 * Usage: bench [--quick] [--runs R] [--isolate] [--json FILE] [--only w1,w2] [--heap N] */
#define _GNU_SOURCE
#include "gen.h"
#include "variants.h"
#include "wsproto.h"

#include <zlib.h>

#include <errno.h>
#include <malloc.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_RUNS 64
#define CHUNK ((size_t)64 << 10)
#define DRAIN_THRESHOLD ((size_t)64 << 10)

enum { ST_OK = 0, ST_SKIPPED = 1, ST_FAILED = 2 };

typedef struct result {
    int workload;
    int status;
    char note[200];
    char unit[16];
    int nruns;
    double runs[MAX_RUNS];      /* figure per run, in `unit` */
    double value;               /* median of runs */
    double mb_per_s;            /* deflate workloads: uncompressed MB/s at the median */
    int has_ceiling;
    double ceiling_runs[MAX_RUNS];
    double ceiling;             /* median, in `unit` */
    long peak_rss_kib;          /* process peak during the timed runs (input included) */
    long engine_rss_kib;        /* that peak minus the RSS just before them: the engine's own */
    size_t messages;
} result;

typedef struct stats {
    size_t messages;
    uint64_t bytes;
    uint64_t fnv;
    uintptr_t sink;
    char err[200];
} stats;

static volatile uintptr_t g_sink; /* keeps delivered pointers observable */

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void set_err(stats *st, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(st->err, sizeof st->err, fmt, ap);
    va_end(ap);
}

static void conn_err(stats *st, ws_conn_t *c, const char *what, ws_result_t rc) {
    set_err(st, "%s: %s (%s)", what, ws_result_str(rc), c ? ws_conn_last_error(c) : "");
}

/* ---- deterministic RNG for client masking keys ------------------------- */

static int det_rng(void *userdata, uint8_t *buf, size_t len) {
    bench_rng *r = userdata;
    bench_fill_bytes(r, buf, len);
    return 0;
}

/* Output buffer of the ceiling rows, reused across runs. */
static uint8_t *g_dst;
static size_t g_dst_cap;

/* The copy out that stands in for a socket write goes to the same offset
 * within a 64-byte line as its source. glibc (2.36 here) copies large blocks
 * with `rep movsb`, which on AMD Zen runs at 2.8 instead of ~48 GB/s when the
 * destination sits 1-31 bytes past the source's offset in a line (measured on
 * this machine's EPYC): a heap-layout accident that halved the send-small row
 * at random, and not what a write(2) of the same bytes costs. */
#define SAME_LINE_OFFSET(base, src) ((size_t)(((uintptr_t)(src) - (uintptr_t)(base)) & 63))

static int ensure_dst(size_t n) {
    if (g_dst_cap >= n) return 0;
    free(g_dst);
    g_dst = aligned_alloc(64, (n + 63) & ~(size_t)63);
    if (!g_dst) return -1;
    memset(g_dst, 0, n); /* pre-touch: page faults are not the ceiling */
    g_dst_cap = n;
    return 0;
}

/* ---- permessage-deflate ------------------------------------------------ */

/* What both deflate workloads negotiate: context takeover on, 15-bit windows
 * both ways; level 6 from the config. */
static const ws_deflate_params_t DEFLATE_PARAMS = {
    .server_no_context_takeover = false,
    .client_no_context_takeover = false,
    .server_max_window_bits = 15,
    .client_max_window_bits = 15,
};

static int is_deflate(bench_workload w) { return w == W_RECV_DEFLATE || w == W_SEND_DEFLATE; }

/* A frames-only deflate connection in `role`, level 6, no threshold. */
static ws_result_t new_deflate_conn(ws_role_t role, ws_rng_fn rng, void *rng_data, ws_conn_t **out) {
    ws_config_t *cfg = ws_config_new();
    if (!cfg) return WS_ERR_PANIC;
    ws_result_t rc = ws_config_set_deflate_compression(cfg, 6, 0);
    if (rc == WS_OK && rng) rc = ws_config_set_rng(cfg, rng, rng_data);
    if (rc == WS_OK) rc = ws_conn_new_frames_only_deflate(cfg, role, &DEFLATE_PARAMS, NULL, 0, out);
    ws_config_free(cfg);
    return rc;
}

/* Parses one frame header at p (n bytes available). Returns the header
 * length including any masking key, 0 if truncated; *len gets the payload
 * length, *key the key (NULL when unmasked). */
static size_t parse_header(const uint8_t *p, size_t n, uint64_t *len, const uint8_t **key) {
    if (n < 2) return 0;
    uint64_t l = p[1] & 0x7F;
    size_t hl = 2;
    if (l == 126) hl = 4;
    else if (l == 127) hl = 10;
    int masked = p[1] >> 7;
    if (n < hl + (masked ? 4 : 0)) return 0;
    if (hl == 4) l = (uint64_t)p[2] << 8 | p[3];
    if (hl == 10) {
        l = 0;
        for (int i = 0; i < 8; i++) l = l << 8 | p[2 + i];
    }
    *len = l;
    *key = masked ? p + hl : NULL;
    return hl + (masked ? 4 : 0);
}

/* recv-deflate input, built by the library itself: a client-role frames-only
 * deflate connection sends the documents (level 6, 15-bit window, context
 * takeover: one compressor for the whole stream, sync flush, tail removed, as
 * RFC 7692 requires), and each produced frame is re-masked with the key the
 * generator drew for it (the client's own keys come in blocks from its RNG,
 * so they cannot follow the generator's sequence). The harness then checks
 * the stream's digest against BENCHMARKS.md, which also pins the library's
 * compressor output to the reference one. No system zlib involved. */
static int lib_deflate_hook(void *userdata, const uint8_t *docs, size_t n_docs,
                            const uint8_t (*keys)[4], uint8_t **out, size_t *out_len) {
    (void)userdata;
    bench_rng masks = {0x0123456789ABCDEFull};
    ws_conn_t *c = NULL;
    if (new_deflate_conn(WS_ROLE_CLIENT, det_rng, &masks, &c) != WS_OK) return -1;
    size_t cap = n_docs * 1100 + 64; /* documents compress; bounds checked anyway */
    uint8_t *buf = malloc(cap);
    uint8_t *tmp = malloc(2048);
    size_t len = 0;
    int ok = buf && tmp;
    for (size_t m = 0; m < n_docs && ok; m++) {
        const uint8_t *p;
        size_t n;
        uint64_t plen;
        const uint8_t *key;
        ok = ws_conn_send_text(c, docs + m * 1024, 1024, 0) == WS_OK &&
             ws_conn_output_peek(c, &p, &n) == WS_OK;
        size_t hl = ok ? parse_header(p, n, &plen, &key) : 0;
        /* exactly one masked FIN text frame with RSV1 per document */
        ok = hl && p[0] == 0xC1 && key && hl + plen == n && plen <= 2048 &&
             len + bench_frame_header_len(plen, 1) + plen <= cap;
        if (!ok) {
            fprintf(stderr, "recv-deflate generation: unexpected client output for document %zu\n", m);
            break;
        }
        memcpy(tmp, p + hl, plen);
        bench_xor_mask(tmp, plen, key, 0);
        len += bench_write_masked_frame(buf + len, 0xC1, keys[m], tmp, plen);
        ok = ws_conn_output_consume(c, n) == WS_OK;
    }
    ws_conn_free(c);
    free(tmp);
    if (!ok) {
        free(buf);
        return -1;
    }
    *out = buf;
    *out_len = len;
    return 0;
}

/* Ceilings for the deflate workloads: raw inflate / raw deflate of the same
 * documents with the system zlib (NOT zlib-rs, which the library uses and
 * BENCHMARKS.md's limit column measures; bench/rust reports that one). One
 * stream for the whole run (context takeover), sync flush per message, output
 * into a reused buffer. */
typedef struct zpayloads {
    uint8_t *buf;   /* unmasked payloads, each followed by 00 00 ff ff */
    size_t *off;    /* n + 1 offsets */
    size_t n;
} zpayloads;

static int recv_deflate_payloads(const bench_input *in, zpayloads *zp) {
    zp->n = in->messages;
    zp->buf = malloc(in->input_len + 4 * in->messages);
    zp->off = malloc((in->messages + 1) * sizeof *zp->off);
    if (!zp->buf || !zp->off) return -1;
    const uint8_t *p = in->input, *end = in->input + in->input_len;
    size_t o = 0;
    for (size_t m = 0; m < in->messages; m++) {
        uint64_t len;
        const uint8_t *key;
        size_t hl = parse_header(p, (size_t)(end - p), &len, &key);
        if (!hl || !key || len > (uint64_t)(end - p) - hl) return -1;
        zp->off[m] = o;
        memcpy(zp->buf + o, p + hl, len);
        bench_xor_mask(zp->buf + o, len, key, 0);
        memcpy(zp->buf + o + len, "\x00\x00\xff\xff", 4);
        o += len + 4;
        p += hl + len;
    }
    zp->off[in->messages] = o;
    return 0;
}

static double ceiling_inflate(const zpayloads *zp, size_t msg_len) {
    if (ensure_dst(msg_len + 64) != 0) return -1;
    z_stream z;
    memset(&z, 0, sizeof z);
    if (inflateInit2(&z, -15) != Z_OK) return -1;
    uintptr_t sink = 0;
    int ok = 1;
    double t0 = now_s();
    for (size_t m = 0; m < zp->n && ok; m++) {
        z.next_in = zp->buf + zp->off[m];
        z.avail_in = (uInt)(zp->off[m + 1] - zp->off[m]);
        z.next_out = g_dst;
        z.avail_out = (uInt)(msg_len + 64);
        int rc = inflate(&z, Z_SYNC_FLUSH);
        ok = (rc == Z_OK || rc == Z_BUF_ERROR) && z.avail_in == 0 && z.avail_out == 64;
        sink += g_dst[0];
    }
    double t1 = now_s();
    inflateEnd(&z);
    g_sink = sink;
    return ok ? t1 - t0 : -1;
}

static double ceiling_deflate(const bench_input *in) {
    size_t cap = in->msg_len * 2 + 64;
    if (ensure_dst(cap) != 0) return -1;
    z_stream z;
    memset(&z, 0, sizeof z);
    if (deflateInit2(&z, 6, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) != Z_OK) return -1;
    uintptr_t sink = 0;
    int ok = 1;
    double t0 = now_s();
    for (size_t m = 0; m < in->messages && ok; m++) {
        z.next_in = (uint8_t *)(uintptr_t)(in->input + m * in->msg_len);
        z.avail_in = (uInt)in->msg_len;
        z.next_out = g_dst;
        z.avail_out = (uInt)cap;
        ok = deflate(&z, Z_SYNC_FLUSH) == Z_OK && z.avail_in == 0 && z.avail_out > 0;
        sink += g_dst[0];
    }
    double t1 = now_s();
    deflateEnd(&z);
    g_sink = sink;
    return ok ? t1 - t0 : -1;
}

/* ---- receive workloads (server role, frames-only) ----------------------- */

static int run_recv(const bench_input *in, int hash, stats *st, double *secs) {
    memset(st, 0, sizeof *st);
    st->fnv = FNV1A64_INIT;
    ws_conn_t *c = NULL;
    ws_result_t rc = is_deflate(in->workload)
                         ? new_deflate_conn(WS_ROLE_SERVER, NULL, NULL, &c)
                         : ws_conn_new_frames_only(NULL, WS_ROLE_SERVER, NULL, 0, &c);
    if (rc != WS_OK) {
        conn_err(st, NULL, "server setup", rc);
        return -1;
    }
    size_t messages = 0;
    uint64_t bytes = 0, h = FNV1A64_INIT;
    uintptr_t sink = 0;
    ws_event_t ev;
    int ok = 1;
    double t0 = now_s();
    for (size_t off = 0; off < in->input_len && ok; off += CHUNK) {
        size_t n = in->input_len - off < CHUNK ? in->input_len - off : CHUNK;
        rc = ws_conn_receive(c, in->input + off, n);
        if (rc != WS_OK) {
            conn_err(st, c, "ws_conn_receive", rc);
            ok = 0;
            break;
        }
        for (;;) {
            rc = ws_conn_poll_event(c, &ev);
            if (rc != WS_OK) {
                conn_err(st, c, "ws_conn_poll_event", rc);
                ok = 0;
                break;
            }
            if (ev.type == WS_EVENT_NONE) break;
            if (ev.type != WS_EVENT_TEXT && ev.type != WS_EVENT_BINARY) {
                set_err(st, "unexpected event type %d (code %u, flags %u) after %zu messages",
                        (int)ev.type, ev.code, ev.flags, messages);
                ok = 0;
                break;
            }
            if (ev.flags & WS_EVENT_FLAG_MESSAGE_FINISHED) messages++;
            bytes += ev.len;
            sink += (uintptr_t)ev.data + ev.len;
            if (hash) h = fnv1a64(h, ev.data, ev.len);
        }
    }
    double t1 = now_s();
    ws_conn_free(c);
    g_sink = sink;
    *secs = t1 - t0;
    st->messages = messages;
    st->bytes = bytes;
    st->fnv = h;
    st->sink = sink;
    return ok ? 0 : -1;
}

/* Ceiling: copy each frame's payload out of the stream, unmasking it on the
 * way (one pass, 8-byte words): the least work that delivers the bytes. */
static double ceiling_recv(const bench_input *in) {
    if (ensure_dst(in->msg_len) != 0) return -1;
    const uint8_t *p = in->input, *end = in->input + in->input_len;
    uintptr_t sink = 0;
    double t0 = now_s();
    while (p < end) {
        uint64_t len = p[1] & 0x7F;
        size_t hl = 2;
        if (len == 126) {
            len = (uint64_t)p[2] << 8 | p[3];
            hl = 4;
        } else if (len == 127) {
            len = 0;
            for (int i = 0; i < 8; i++) len = len << 8 | p[2 + i];
            hl = 10;
        }
        const uint8_t *key = p + hl;
        bench_xor_copy(g_dst, p + hl + 4, len, key);
        sink += g_dst[len - 1];
        p += hl + 4 + len;
    }
    double t1 = now_s();
    g_sink = sink;
    return t1 - t0;
}

/* ---- send workloads (client role, frames-only, built-in mask keys) ------- */

typedef struct capture {
    uint8_t *buf;
    size_t len, cap;
} capture;

static int drain(ws_conn_t *c, capture *cap, stats *st) {
    const uint8_t *p;
    size_t n;
    ws_result_t rc = ws_conn_output_peek(c, &p, &n);
    if (rc != WS_OK) {
        conn_err(st, c, "ws_conn_output_peek", rc);
        return -1;
    }
    if (cap) {
        if (cap->len + n > cap->cap) {
            set_err(st, "produced more output than the capture buffer holds");
            return -1;
        }
        memcpy(cap->buf + cap->len, p, n);
        cap->len += n;
    } else if (n > 0) {
        /* What a socket write does with the bytes: copy them out (into a
         * reused, pre-touched buffer), as the README's usage implies. */
        if (ensure_dst(n + 64) != 0) {
            set_err(st, "out of memory");
            return -1;
        }
        memcpy(g_dst + SAME_LINE_OFFSET(g_dst, p), p, n);
    }
    st->sink += (uintptr_t)p + n;
    rc = ws_conn_output_consume(c, n);
    if (rc != WS_OK) {
        conn_err(st, c, "ws_conn_output_consume", rc);
        return -1;
    }
    return 0;
}

static int run_send(const bench_input *in, capture *cap, stats *st, double *secs) {
    memset(st, 0, sizeof *st);
    ws_conn_t *c = NULL;
    ws_result_t rc;
    if (is_deflate(in->workload)) {
        /* send-deflate: server role (unmasked frames), compression negotiated */
        rc = new_deflate_conn(WS_ROLE_SERVER, NULL, NULL, &c);
    } else {
        ws_config_t *cfg = ws_config_new();
        if (!cfg) {
            set_err(st, "ws_config_new failed");
            return -1;
        }
        /* The default configuration: the library's own mask keys (the
         * deterministic det_rng is a tuned variant, in variants.c). */
        rc = ws_conn_new_frames_only(cfg, WS_ROLE_CLIENT, NULL, 0, &c);
        ws_config_free(cfg);
    }
    if (rc != WS_OK) {
        conn_err(st, NULL, "sender setup", rc);
        return -1;
    }
    int text = in->workload != W_SEND_LARGE;
    int ok = 1;
    double t0 = now_s();
    for (size_t m = 0; m < in->messages; m++) {
        const uint8_t *payload = in->input + m * in->msg_len;
        rc = text ? ws_conn_send_text(c, payload, in->msg_len, 0)
                  : ws_conn_send_binary(c, payload, in->msg_len, 0);
        if (rc != WS_OK) {
            conn_err(st, c, "ws_conn_send", rc);
            ok = 0;
            break;
        }
        if (ws_conn_output_len(c) > DRAIN_THRESHOLD && drain(c, cap, st) != 0) {
            ok = 0;
            break;
        }
    }
    if (ok && drain(c, cap, st) != 0) ok = 0;
    double t1 = now_s();
    ws_conn_free(c);
    g_sink = st->sink;
    *secs = t1 - t0;
    st->messages = in->messages;
    return ok ? 0 : -1;
}

/* Parses the captured frames and hashes the payloads. send-small/large:
 * client frames (FIN, masked, right opcode), unmasked here. send-deflate:
 * server frames (FIN, RSV1, text, unmasked) whose payloads are inflated here
 * with the system zlib, one raw-inflate stream for the whole run (context
 * takeover), 00 00 ff ff put back after each: an inflater independent of the
 * library's own. */
static int parse_sent(const bench_input *in, const capture *cap, stats *st) {
    int deflate = in->workload == W_SEND_DEFLATE;
    int text = in->workload != W_SEND_LARGE;
    uint8_t want_b0 = (uint8_t)(0x80 | (deflate ? 0x40 : 0) | (text ? 0x1 : 0x2));
    size_t tmp_cap = in->msg_len * 2 + 64;
    uint8_t *tmp = malloc(tmp_cap), *out = malloc(in->msg_len + 64);
    z_stream z;
    memset(&z, 0, sizeof z);
    if (!tmp || !out || (deflate && inflateInit2(&z, -15) != Z_OK)) {
        free(tmp);
        free(out);
        set_err(st, "parse_sent setup failed");
        return -1;
    }
    const uint8_t *p = cap->buf, *end = cap->buf + cap->len;
    uint64_t h = FNV1A64_INIT, bytes = 0;
    size_t messages = 0;
    int ok = 1;
    while (p < end && ok) {
        uint64_t len;
        const uint8_t *key;
        size_t hl = parse_header(p, (size_t)(end - p), &len, &key);
        ok = 0;
        if (!hl) {
            set_err(st, "truncated frame header");
        } else if (p[0] != want_b0 || !key == !deflate) {
            set_err(st, "frame %zu: first byte %02x, mask bit %d", messages, p[0], p[1] >> 7);
        } else if (len > (uint64_t)(end - p) - hl || len + 4 > tmp_cap ||
                   (!deflate && len != in->msg_len)) {
            set_err(st, "frame %zu: payload length %llu", messages, (unsigned long long)len);
        } else {
            ok = 1;
        }
        if (!ok) break;
        memcpy(tmp, p + hl, len);
        const uint8_t *payload = tmp;
        size_t plen = len;
        if (key) bench_xor_mask(tmp, len, key, 0);
        if (deflate) {
            memcpy(tmp + len, "\x00\x00\xff\xff", 4);
            z.next_in = tmp;
            z.avail_in = (uInt)(len + 4);
            z.next_out = out;
            z.avail_out = (uInt)(in->msg_len + 64);
            int zrc = inflate(&z, Z_SYNC_FLUSH);
            if ((zrc != Z_OK && zrc != Z_BUF_ERROR) || z.avail_in != 0) {
                set_err(st, "frame %zu: zlib inflate: %d %s", messages, zrc, z.msg ? z.msg : "");
                ok = 0;
                break;
            }
            payload = out;
            plen = in->msg_len + 64 - z.avail_out;
            if (plen != in->msg_len) {
                set_err(st, "frame %zu inflates to %zu bytes", messages, plen);
                ok = 0;
                break;
            }
        }
        h = fnv1a64(h, payload, plen);
        bytes += plen;
        messages++;
        p += hl + len;
    }
    if (deflate) inflateEnd(&z);
    free(tmp);
    free(out);
    st->messages = messages;
    st->bytes = bytes;
    st->fnv = h;
    return ok ? 0 : -1;
}

/* Ceiling: copy each payload behind a header into a reused output buffer,
 * masking it on the way (one pass, 8-byte words). */
static double ceiling_send(const bench_input *in) {
    if (ensure_dst(in->msg_len + 64) != 0) return -1;
    bench_rng masks = {0x0123456789ABCDEFull};
    uintptr_t sink = 0;
    double t0 = now_s();
    for (size_t m = 0; m < in->messages; m++) {
        uint8_t key[4];
        bench_draw_key(&masks, key);
        /* header slot of 64 bytes, so the payload starts 16-byte aligned */
        size_t hl = 64;
        bench_xor_copy(g_dst + hl, in->input + m * in->msg_len, in->msg_len, key);
        sink += g_dst[hl];
    }
    double t1 = now_s();
    g_sink = sink;
    return t1 - t0;
}

/* ---- handshake (server role) ------------------------------------------- */

static const uint8_t *find_ci(const uint8_t *hay, size_t n, const char *needle) {
    size_t k = strlen(needle);
    for (size_t i = 0; i + k <= n; i++)
        if (strncasecmp((const char *)hay + i, needle, k) == 0) return hay + i;
    return NULL;
}

static int run_handshake(const bench_input *in, int hash, stats *st, double *secs) {
    memset(st, 0, sizeof *st);
    uint64_t h = FNV1A64_INIT, bytes = 0;
    size_t done = 0;
    uintptr_t sink = 0;
    int ok = 1;
    ws_event_t ev;
    double t0 = now_s();
    for (size_t m = 0; m < in->messages; m++) {
        ws_conn_t *c = NULL;
        ws_result_t rc = ws_conn_new_server(NULL, &c);
        if (rc != WS_OK) { conn_err(st, NULL, "ws_conn_new_server", rc); ok = 0; break; }
        rc = ws_conn_receive(c, in->input + m * in->msg_len, in->msg_len);
        if (rc == WS_OK) rc = ws_conn_poll_event(c, &ev);
        if (rc != WS_OK || ev.type != WS_EVENT_REQUEST) {
            if (rc == WS_OK) set_err(st, "request %zu: event %d instead of REQUEST", m, (int)ev.type);
            else conn_err(st, c, "receive/poll request", rc);
            ws_conn_free(c);
            ok = 0;
            break;
        }
        rc = ws_conn_accept(c, NULL, 0, NULL, 0);
        const uint8_t *out = NULL;
        size_t n = 0;
        if (rc == WS_OK) rc = ws_conn_output_peek(c, &out, &n);
        if (rc != WS_OK) { conn_err(st, c, "accept/peek", rc); ws_conn_free(c); ok = 0; break; }
        sink += (uintptr_t)out + n;
        if (hash) {
            const uint8_t *a = find_ci(out, n, "\r\nSec-WebSocket-Accept:");
            if (n < 12 || memcmp(out, "HTTP/1.1 101", 12) != 0 || !a) {
                set_err(st, "request %zu: response is not a 101 with an accept header", m);
                ws_conn_free(c);
                ok = 0;
                break;
            }
            a += strlen("\r\nSec-WebSocket-Accept:");
            while (a < out + n && (*a == ' ' || *a == '\t')) a++;
            if (out + n - a < 28) { set_err(st, "request %zu: short accept value", m); ws_conn_free(c); ok = 0; break; }
            h = fnv1a64(h, a, 28);
            bytes += 28;
        }
        ws_conn_free(c);
        done++;
    }
    double t1 = now_s();
    g_sink = sink;
    *secs = t1 - t0;
    st->messages = done;
    st->bytes = bytes;
    st->fnv = h;
    return ok ? 0 : -1;
}

/* ---- memory -------------------------------------------------------------- */

/* A field of /proc/self/status in KiB, or -1. */
static long status_kib(const char *field) {
    FILE *f = fopen("/proc/self/status", "r");
    if (!f) return -1;
    char line[256];
    long v = -1;
    size_t k = strlen(field);
    while (fgets(line, sizeof line, f))
        if (strncmp(line, field, k) == 0 && line[k] == ':') {
            v = atol(line + k + 1);
            break;
        }
    fclose(f);
    return v;
}

/* Resets the process's RSS high-water mark (Linux >= 4.0), so that the peak
 * read afterwards covers only the timed runs, not generation or the
 * verification pass's capture buffers. Returns 0 when it worked. */
static int reset_peak_rss(void) {
    malloc_trim(0); /* give freed heap back first, or the runs would reuse it unseen */
    FILE *f = fopen("/proc/self/clear_refs", "w");
    if (!f) return -1;
    int ok = fputs("5", f) >= 0;
    return fclose(f) == 0 && ok ? 0 : -1;
}

/* ---- per-connection heap ------------------------------------------------ */

/* Bytes the allocator has handed out: arena chunks in use plus mmapped blocks
 * (large allocations such as a deflate state may be mmapped). */
static size_t heap_in_use(void) {
    struct mallinfo2 mi = mallinfo2();
    return mi.uordblks + mi.hblkhd;
}

typedef struct heap_figures {
    double idle, after_recv, after_send; /* bytes per connection */
    double rss_after_send;               /* KiB per connection (VmRSS delta) */
    double left_after_free;              /* bytes per connection still in use after ws_conn_free */
} heap_figures;

/* Creates n frames-only server connections (with or without deflate), then
 * feeds each one masked 1 KiB text message (`frame`) and sends one (`doc`),
 * draining the output: heap deltas per connection at each step. */
static int heap_measure(int deflate, size_t n, const uint8_t *frame, size_t frame_len,
                        const uint8_t *doc, heap_figures *hf) {
    ws_conn_t **conns = calloc(n, sizeof *conns);
    if (!conns) return -1;
    malloc_trim(0);
    size_t base = heap_in_use();
    long rss0 = status_kib("VmRSS");
    int ok = 1;
    for (size_t i = 0; i < n && ok; i++)
        ok = (deflate ? new_deflate_conn(WS_ROLE_SERVER, NULL, NULL, &conns[i])
                      : ws_conn_new_frames_only(NULL, WS_ROLE_SERVER, NULL, 0, &conns[i])) == WS_OK;
    hf->idle = ((double)heap_in_use() - (double)base) / (double)n;
    for (size_t i = 0; i < n && ok; i++) {
        ws_event_t ev;
        ok = ws_conn_receive(conns[i], frame, frame_len) == WS_OK &&
             ws_conn_poll_event(conns[i], &ev) == WS_OK && ev.type == WS_EVENT_TEXT &&
             ev.len == 1024 && memcmp(ev.data, doc, 1024) == 0 &&
             ws_conn_poll_event(conns[i], &ev) == WS_OK && ev.type == WS_EVENT_NONE;
    }
    hf->after_recv = ((double)heap_in_use() - (double)base) / (double)n;
    for (size_t i = 0; i < n && ok; i++) {
        ok = ws_conn_send_text(conns[i], doc, 1024, 0) == WS_OK &&
             ws_conn_output_consume(conns[i], ws_conn_output_len(conns[i])) == WS_OK &&
             ws_conn_output_len(conns[i]) == 0;
    }
    hf->after_send = ((double)heap_in_use() - (double)base) / (double)n;
    hf->rss_after_send = (double)(status_kib("VmRSS") - rss0) / (double)n;
    for (size_t i = 0; i < n; i++) ws_conn_free(conns[i]);
    free(conns);
    hf->left_after_free = ((double)heap_in_use() - (double)base) / (double)n;
    return ok ? 0 : -1;
}

static int heap_report(size_t n) {
    bench_input rd, sd;
    if (bench_generate(W_RECV_DEFLATE, 1, &rd) != 0 || rd.pending) return -1;
    if (bench_generate(W_SEND_DEFLATE, 1, &sd) != 0) {
        bench_input_free(&rd);
        return -1;
    }
    /* the same first document, as a plain masked text frame */
    uint8_t plain[1024 + 14];
    const uint8_t key[4] = {0x11, 0x22, 0x33, 0x44};
    size_t plain_len = bench_write_masked_frame(plain, 0x81, key, sd.input, 1024);
    heap_figures off, on;
    int rc = heap_measure(0, n, plain, plain_len, sd.input, &off);
    if (rc == 0) rc = heap_measure(1, n, rd.input, rd.input_len, sd.input, &on);
    bench_input_free(&rd);
    bench_input_free(&sd);
    if (rc != 0) {
        printf("heap: FAILED (a connection did not deliver or send the message)\n");
        return -1;
    }
    printf("\nheap per connection (mallinfo2 in-use + mmapped deltas over %zu frames-only server connections;\n"
           "message = one 1 KiB text document received, then one sent and drained)\n", n);
    printf("%-22s %12s %16s %16s %14s %12s\n", "", "idle", "after 1 recv", "after 1 send", "RSS after",
           "after free");
    const heap_figures *f[2] = {&off, &on};
    const char *name[2] = {"no deflate", "deflate (15/15, ctx)"};
    for (int i = 0; i < 2; i++)
        printf("%-22s %10.0f B %14.0f B %14.0f B %10.1f KiB %10.0f B\n", name[i], f[i]->idle,
               f[i]->after_recv, f[i]->after_send, f[i]->rss_after_send, f[i]->left_after_free);
    return 0;
}

/* ---- driver ------------------------------------------------------------- */

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(const double *v, int n) {
    double tmp[MAX_RUNS];
    memcpy(tmp, v, (size_t)n * sizeof *v);
    qsort(tmp, (size_t)n, sizeof *tmp, cmp_double);
    return n % 2 ? tmp[n / 2] : (tmp[n / 2 - 1] + tmp[n / 2]) / 2;
}

static int is_recv(bench_workload w) {
    return w == W_RECV_SMALL || w == W_RECV_LARGE || w == W_RECV_TEXT_LARGE ||
           w == W_RECV_FRAGMENTED || w == W_RECV_DEFLATE;
}

static int is_bandwidth(bench_workload w) {
    return w == W_RECV_LARGE || w == W_RECV_TEXT_LARGE || w == W_SEND_LARGE;
}

static double figure(bench_workload w, const bench_input *in, double secs) {
    if (is_bandwidth(w)) return (double)in->expected_len / secs / 1e9;
    return (double)in->messages / secs;
}

static int run_once(const bench_input *in, int verify, capture *cap, stats *st, double *secs) {
    bench_workload w = in->workload;
    if (is_recv(w)) return run_recv(in, verify, st, secs);
    if (w == W_HANDSHAKE) return run_handshake(in, verify, st, secs);
    int rc = run_send(in, verify ? cap : NULL, st, secs);
    if (rc == 0 && verify) rc = parse_sent(in, cap, st);
    return rc;
}

static void run_workload(bench_workload w, int quick, int runs, result *res) {
    memset(res, 0, sizeof *res);
    res->workload = w;
    snprintf(res->unit, sizeof res->unit, "%s",
             is_bandwidth(w) ? "GB/s" : w == W_HANDSHAKE ? "handshakes/s" : "msg/s");
    size_t n = bench_workload_messages(w);
    if (quick) n = n / 100 ? n / 100 : 1;
    bench_input in;
    if (bench_generate(w, n, &in) != 0 || in.pending) {
        res->status = ST_FAILED;
        snprintf(res->note, sizeof res->note, "input generation failed");
        bench_input_free(&in);
        return;
    }
    res->messages = n;
    capture cap = {0};
    if (!is_recv(w) && w != W_HANDSHAKE) {
        cap.cap = in.input_len + in.messages * 14;
        cap.buf = malloc(cap.cap);
        if (!cap.buf) {
            res->status = ST_FAILED;
            snprintf(res->note, sizeof res->note, "out of memory");
            bench_input_free(&in);
            return;
        }
    }

    /* Verification pass (untimed): what was delivered or produced must be
     * exactly what was generated, and, at full size, what the table says. */
    stats st;
    double secs;
    int rc = run_once(&in, 1, &cap, &st, &secs);
    free(cap.buf);
    const bench_reference *ref = bench_workload_reference(w);
    if (rc != 0) {
        res->status = ST_FAILED;
        snprintf(res->note, sizeof res->note, "verification run: %.170s", st.err);
    } else if (st.messages != in.messages || st.bytes != in.expected_len || st.fnv != in.expected_fnv) {
        res->status = ST_FAILED;
        snprintf(res->note, sizeof res->note,
                 "delivered %zu msgs / %llu bytes / fnv %016llx, expected %zu / %zu / %016llx",
                 st.messages, (unsigned long long)st.bytes, (unsigned long long)st.fnv,
                 in.messages, in.expected_len, (unsigned long long)in.expected_fnv);
    } else if (!quick && (st.fnv != ref->expected_fnv || in.input_fnv != ref->input_fnv)) {
        res->status = ST_FAILED;
        snprintf(res->note, sizeof res->note, "digests differ from the BENCHMARKS.md table");
    }
    if (res->status != ST_OK) {
        bench_input_free(&in);
        return;
    }

    long rss_before = -1, peak = -1;
    if (reset_peak_rss() == 0) rss_before = status_kib("VmRSS");
    /* One untimed warm-up after the reset: the peak still counts it, but the
     * first timed run does not pay the page faults of freshly trimmed memory. */
    if (run_once(&in, 0, NULL, &st, &secs) != 0) {
        res->status = ST_FAILED;
        snprintf(res->note, sizeof res->note, "warm-up run: %.170s", st.err);
        bench_input_free(&in);
        return;
    }
    for (int r = 0; r < runs; r++) {
        if (run_once(&in, 0, NULL, &st, &secs) != 0 || st.messages != in.messages) {
            res->status = ST_FAILED;
            snprintf(res->note, sizeof res->note, "timed run %d: %.170s", r, st.err);
            bench_input_free(&in);
            return;
        }
        res->runs[r] = figure(w, &in, secs);
    }
    if (rss_before >= 0) peak = status_kib("VmHWM");
    res->nruns = runs;
    res->value = median(res->runs, runs);
    if (is_deflate(w)) res->mb_per_s = res->value * (double)in.msg_len / 1e6;
    zpayloads zp = {0};
    if (w == W_RECV_DEFLATE && recv_deflate_payloads(&in, &zp) != 0) {
        res->status = ST_FAILED;
        snprintf(res->note, sizeof res->note, "could not extract the compressed payloads");
    }
    if (res->status == ST_OK && (is_bandwidth(w) || is_deflate(w))) {
        for (int r = 0; r < runs; r++) {
            double s = w == W_RECV_DEFLATE   ? ceiling_inflate(&zp, in.msg_len)
                       : w == W_SEND_DEFLATE ? ceiling_deflate(&in)
                       : is_recv(w)          ? ceiling_recv(&in)
                                             : ceiling_send(&in);
            res->ceiling_runs[r] = s > 0 ? figure(w, &in, s) : 0;
        }
        res->has_ceiling = 1;
        res->ceiling = median(res->ceiling_runs, runs);
    }
    free(zp.buf);
    free(zp.off);
    bench_input_free(&in);
    if (peak >= 0) {
        res->peak_rss_kib = peak;
        res->engine_rss_kib = peak - rss_before;
    } else { /* no clear_refs: fall back to the whole process's peak */
        struct rusage ru;
        getrusage(RUSAGE_SELF, &ru);
        res->peak_rss_kib = ru.ru_maxrss;
        res->engine_rss_kib = -1;
    }
}

/* Runs one workload in a fresh child so its peak RSS is its own. */
static void run_isolated(bench_workload w, int quick, int runs, result *res) {
    int fds[2];
    if (pipe(fds) != 0) {
        run_workload(w, quick, runs, res);
        return;
    }
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        close(fds[0]);
        result r;
        run_workload(w, quick, runs, &r);
        const char *p = (const char *)&r;
        size_t left = sizeof r;
        while (left) {
            ssize_t k = write(fds[1], p, left);
            if (k <= 0) _exit(1);
            p += k;
            left -= (size_t)k;
        }
        _exit(0);
    }
    close(fds[1]);
    memset(res, 0, sizeof *res);
    char *p = (char *)res;
    size_t got = 0;
    while (pid > 0 && got < sizeof *res) {
        ssize_t k = read(fds[0], p + got, sizeof *res - got);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) break;
        got += (size_t)k;
    }
    close(fds[0]);
    int status = 0;
    if (pid > 0) waitpid(pid, &status, 0);
    if (got != sizeof *res) {
        memset(res, 0, sizeof *res);
        res->workload = w;
        res->status = ST_FAILED;
        snprintf(res->note, sizeof res->note, "child process died (status %d)", status);
    }
}

static void machine(char *out, size_t cap) {
    char model[160] = "unknown CPU";
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (f) {
        char line[256];
        while (fgets(line, sizeof line, f)) {
            if (strncmp(line, "model name", 10) == 0) {
                char *v = strchr(line, ':');
                if (v) {
                    v += 1 + (v[1] == ' ');
                    v[strcspn(v, "\n")] = 0;
                    snprintf(model, sizeof model, "%s", v);
                }
                break;
            }
        }
        fclose(f);
    }
    struct utsname u;
    uname(&u);
    snprintf(out, cap, "%s, %ld cores, %s %s %s", model, sysconf(_SC_NPROCESSORS_ONLN), u.sysname,
             u.release, u.machine);
}

static void print_value(FILE *f, double v) {
    if (v >= 1e6) fprintf(f, "%.4gM", v / 1e6);
    else if (v >= 1e3) fprintf(f, "%.4gk", v / 1e3);
    else fprintf(f, "%.4g", v);
}

static void usage(void) {
    fprintf(stderr, "usage: bench [--quick] [--runs R] [--isolate] [--json FILE] [--only w1,w2,...] [--heap N]\n"
                    "             [--variants | --no-variants]\n");
}

int main(int argc, char **argv) {
    int quick = 0, runs = 5, isolate = 0, variants = -1;
    long heap_conns = -1;
    const char *json = NULL, *only = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--quick") == 0) quick = 1;
        else if (strcmp(argv[i], "--isolate") == 0) isolate = 1;
        else if (strcmp(argv[i], "--runs") == 0 && i + 1 < argc) runs = atoi(argv[++i]);
        else if (strcmp(argv[i], "--json") == 0 && i + 1 < argc) json = argv[++i];
        else if (strcmp(argv[i], "--heap") == 0 && i + 1 < argc) heap_conns = atol(argv[++i]);
        else if (strcmp(argv[i], "--only") == 0 && i + 1 < argc) only = argv[++i];
        else if (strcmp(argv[i], "--variants") == 0) variants = 1;
        else if (strcmp(argv[i], "--no-variants") == 0) variants = 0;
        else {
            usage();
            return 2;
        }
    }
    if (runs < 1 || runs > MAX_RUNS) {
        fprintf(stderr, "--runs must be 1..%d\n", MAX_RUNS);
        return 2;
    }
    int selected[W_COUNT];
    for (int w = 0; w < W_COUNT; w++) selected[w] = only == NULL;
    if (only) {
        char buf[512];
        snprintf(buf, sizeof buf, "%s", only);
        for (char *tok = strtok(buf, ","); tok; tok = strtok(NULL, ",")) {
            int w = bench_workload_from_name(tok);
            if (w < 0) {
                fprintf(stderr, "unknown workload %s\n", tok);
                return 2;
            }
            selected[w] = 1;
        }
    }

    /* recv-deflate's input comes from the library's own compressor */
    bench_set_deflate_hook(lib_deflate_hook, NULL);
    if (heap_conns < 0) heap_conns = only ? 0 : quick ? 100 : 1000;

    char mach[400];
    machine(mach, sizeof mach);
    printf("wsproto %s bench: %s, median of %d runs%s%s\nmachine: %s\n", ws_version(),
           quick ? "QUICK (1/100 of each workload)" : "full workloads", runs,
           isolate ? ", one process per workload" : "",
           isolate ? "" : " (peak RSS: the timed runs' process peak)", mach);
    printf("ceiling: one-pass copy+XOR (recv-large, recv-text-large, send-large); raw inflate/deflate\n"
           "of the same documents with the SYSTEM zlib %s (recv-deflate, send-deflate), not zlib-rs:\n"
           "bench/rust measures the zlib-rs ceiling of BENCHMARKS.md\n", zlibVersion());
    printf("%-16s %10s %-13s %10s %9s %10s %12s  %s\n", "workload", "messages", "unit", "median",
           "ceiling", "peak RSS", "engine RSS", "runs / note");

    result results[W_COUNT];
    int failures = 0;
    for (int w = 0; w < W_COUNT; w++) {
        if (!selected[w]) continue;
        result *r = &results[w];
        if (isolate) run_isolated((bench_workload)w, quick, runs, r);
        else run_workload((bench_workload)w, quick, runs, r);
        printf("%-16s %10zu %-13s ", bench_workload_name((bench_workload)w), r->messages, r->unit);
        if (r->status == ST_OK) {
            printf("%10.4g ", r->value);
            if (r->has_ceiling) printf("%9.4g ", r->ceiling);
            else printf("%9s ", "");
            printf("%6ld MiB %8ld KiB  ", r->peak_rss_kib / 1024, r->engine_rss_kib);
            for (int i = 0; i < r->nruns; i++) {
                print_value(stdout, r->runs[i]);
                putchar(' ');
            }
            if (r->has_ceiling && r->ceiling > 0) printf(" [%.2fx ceiling]", r->value / r->ceiling);
            if (r->mb_per_s > 0) printf(" [%.1f MB/s uncompressed]", r->mb_per_s);
            putchar('\n');
        } else {
            printf("%10s %9s %10s %12s  %s\n", r->status == ST_SKIPPED ? "skipped" : "FAILED", "", "",
                   "", r->note);
            failures += r->status == ST_FAILED;
        }
        fflush(stdout);
    }

    if (heap_conns > 0 && heap_report((size_t)heap_conns) != 0) failures++;
    if (variants < 0) variants = only == NULL;
    if (variants && variants_report(quick, runs) != 0) {
        fprintf(stderr, "variants: FAILED\n");
        failures++;
    }

    if (json) {
        FILE *f = fopen(json, "w");
        if (!f) {
            perror(json);
            return 1;
        }
        fprintf(f, "{");
        int first = 1;
        for (int w = 0; w < W_COUNT; w++) {
            if (!selected[w] || results[w].status != ST_OK) continue;
            result *r = &results[w];
            fprintf(f, "%s\n  \"%s\": {\"value\": %.6g, \"unit\": \"%s\", \"runs\": [", first ? "" : ",",
                    bench_workload_name((bench_workload)w), r->value, r->unit);
            for (int i = 0; i < r->nruns; i++) fprintf(f, "%s%.6g", i ? ", " : "", r->runs[i]);
            fprintf(f, "], \"messages\": %zu, \"peak_rss_kib\": %ld, \"engine_rss_kib\": %ld",
                    r->messages, r->peak_rss_kib, r->engine_rss_kib);
            if (r->mb_per_s > 0) fprintf(f, ", \"uncompressed_mb_per_s\": %.6g", r->mb_per_s);
            if (r->has_ceiling) {
                fprintf(f, ", \"ceiling\": {\"value\": %.6g, \"runs\": [", r->ceiling);
                for (int i = 0; i < r->nruns; i++) fprintf(f, "%s%.6g", i ? ", " : "", r->ceiling_runs[i]);
                fprintf(f, "]}");
            }
            fprintf(f, "}");
            first = 0;
        }
        fprintf(f, "\n}\n");
        fclose(f);
    }
    free(g_dst);
    return failures ? 1 : 0;
}
