/* Input generators for the standard benchmark workloads (BENCHMARKS.md (the project's standard workloads, shared/ beside the repository)).
 *
 * Everything here runs before the clock starts: it builds the exact byte
 * streams the workloads feed to an engine and the digest of what the engine
 * must deliver, so that any implementation fed the same bytes can be checked
 * against the same numbers. */
#ifndef WSPROTO_BENCH_GEN_H
#define WSPROTO_BENCH_GEN_H

#include <stddef.h>
#include <stdint.h>

#define BENCH_SEED 0x9E3779B97F4A7C15ull
#define FNV1A64_INIT 0xcbf29ce484222325ull

typedef struct bench_rng {
    uint64_t s;
} bench_rng;

static inline void bench_rng_init(bench_rng *r) { r->s = BENCH_SEED; }
static inline uint64_t bench_rng_next(bench_rng *r) {
    uint64_t x = r->s;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    r->s = x;
    return x;
}

uint64_t fnv1a64(uint64_t h, const void *data, size_t len);

typedef enum bench_workload {
    W_RECV_SMALL = 0,
    W_RECV_LARGE,
    W_RECV_TEXT_LARGE,
    W_RECV_FRAGMENTED,
    W_SEND_SMALL,
    W_SEND_LARGE,
    W_RECV_DEFLATE,
    W_SEND_DEFLATE,
    W_HANDSHAKE,
    W_COUNT
} bench_workload;

const char *bench_workload_name(bench_workload w);
int bench_workload_from_name(const char *name); /* -1 if unknown */
size_t bench_workload_messages(bench_workload w); /* full-size message count */

/* Reference digests from the BENCHMARKS.md table (full-size inputs). */
typedef struct bench_reference {
    uint64_t messages;
    uint64_t input_len;
    uint64_t input_fnv;
    uint64_t expected_len; /* 0 when the table has no expected column */
    uint64_t expected_fnv;
} bench_reference;
const bench_reference *bench_workload_reference(bench_workload w);

/* A generated workload.
 * - recv-*: input = the masked client frames a server receives; expected =
 *   the payloads it must deliver, concatenated (not stored, only digested).
 * - send-small/send-large/send-deflate: input = the message payloads,
 *   concatenated (each msg_len bytes); expected = the same bytes.
 * - handshake: input = the upgrade requests, concatenated (each msg_len
 *   bytes); expected = the Sec-WebSocket-Accept values (28 bytes each),
 *   stored in `accepts` for the harness to compare against.
 * - recv-deflate: input is the compressed frame stream, which needs a
 *   permessage-deflate compressor; until one is plugged in through
 *   bench_set_deflate_hook() it is left empty (input == NULL, pending = 1). */
typedef struct bench_input {
    bench_workload workload;
    size_t messages;
    size_t msg_len;       /* uniform payload (or request) length of one message */
    uint8_t *input;
    size_t input_len;
    uint64_t input_fnv;
    size_t expected_len;
    uint64_t expected_fnv;
    uint8_t *accepts;     /* handshake only: messages * 28 bytes */
    int pending;          /* input could not be generated yet (recv-deflate without a hook) */
} bench_input;

/* Compressor hook for recv-deflate (TODO: plug the library's own
 * permessage-deflate in once it lands). Given the documents (n of 1024
 * bytes, concatenated) and one masking key per document, it must produce the
 * stream of masked FIN text frames with RSV1 set whose payloads are the raw
 * deflate (level 6, 15-bit window, one compressor for the whole stream, sync
 * flush, trailing 00 00 ff ff removed) of each document. Returns 0 on
 * success and a malloc'ed buffer in *out / *out_len. */
typedef int (*bench_deflate_hook)(void *userdata, const uint8_t *docs, size_t n_docs,
                                  const uint8_t (*keys)[4], uint8_t **out, size_t *out_len);
void bench_set_deflate_hook(bench_deflate_hook hook, void *userdata);

/* Generates workload `w` with `messages` messages (the full count, or fewer
 * for quick runs: the first `messages` of the full stream). Returns 0 on
 * success, -1 on allocation failure. */
int bench_generate(bench_workload w, size_t messages, bench_input *out);
void bench_input_free(bench_input *in);

/* Building blocks, exposed for tests and the ceiling rows. */
void bench_fill_bytes(bench_rng *r, uint8_t *out, size_t len);
void bench_fill_ascii(bench_rng *r, uint8_t *out, size_t len);
void bench_fill_utf8(bench_rng *r, uint8_t *out, size_t len);
void bench_draw_key(bench_rng *r, uint8_t key[4]);
size_t bench_deflate_document(bench_rng *r, size_t index, uint8_t out[1024]);
/* Writes a masked client frame header (with the key) and the masked payload;
 * returns the bytes written. first_byte = FIN/RSV/opcode byte. */
size_t bench_write_masked_frame(uint8_t *out, uint8_t first_byte, const uint8_t key[4],
                                const uint8_t *payload, size_t len);
size_t bench_frame_header_len(size_t payload_len, int masked);
void bench_xor_mask(uint8_t *buf, size_t len, const uint8_t key[4], size_t key_offset);
/* dst = src XOR key, one pass, 16-byte vectors then 8-byte words (the ceiling rows' kernel). */
void bench_xor_copy(uint8_t *dst, const uint8_t *src, size_t len, const uint8_t key[4]);

void bench_sha1(const uint8_t *data, size_t len, uint8_t out[20]);
size_t bench_base64(const uint8_t *data, size_t len, char *out); /* returns chars written */
/* Sec-WebSocket-Accept for a key (RFC 6455 §4.2.2): 28 chars, no NUL. */
void bench_accept_value(const char *key, size_t key_len, char out[28]);

#endif
