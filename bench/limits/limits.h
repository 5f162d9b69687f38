/* C entry points of the per-message limit loops (bench/limits, a Rust
 * staticlib): BENCHMARKS.md's minimal hand-written loops, linked into the C
 * harness so that they run in the same process and the same interleaved
 * runs as the library rows. See src/lib.rs for what each loop does. */
#ifndef WSPROTO_BENCH_LIMITS_H
#define WSPROTO_BENCH_LIMITS_H

#include <stddef.h>
#include <stdint.h>

typedef struct limits_stats {
    uint64_t messages; /* messages handed over (receive, handshake) or frames written (send) */
    uint64_t bytes;    /* hash mode: bytes handed over; send: bytes written */
    uint64_t fnv;      /* hash mode: FNV-1a 64 of what was handed over */
    uint64_t sink;     /* timed mode: folded (pointer, length) of each message */
} limits_stats;

/* Receive limit (recv-small, recv-fragmented): the server's frame walker over
 * `input` (len bytes) fed in `chunk`-byte pieces. hash != 0: digest each
 * delivered message (verification run); 0: only hand over (pointer, length)
 * (timed runs). Returns 0, or minus the reason the input was refused (1 RSV,
 * 2 unmasked, 3 opcode, 4 fragment order, 5 control frame, 6 length, 7 over
 * 16 MiB, 8 invalid UTF-8). `input` is only read during the call; `out` must
 * be valid and is filled. */
int32_t limits_recv(const uint8_t *input, size_t len, size_t chunk, int32_t hash, limits_stats *out);

/* Send limit: one FIN frame (opcode 1 text, 2 binary) per msg_len-byte
 * payload of `payloads` (msg_len * messages bytes), masked with a ChaCha12
 * key when client != 0, written into sink[0..sink_cap) and wrapping to its
 * start when the next frame does not fit (a sink that holds every frame ends
 * up with the whole stream). out->bytes = total written. Returns 0, or -1
 * when one frame (msg_len + 14 bytes) does not fit the sink or msg_len is 0. */
int32_t limits_send(const uint8_t *payloads, size_t msg_len, size_t messages, uint8_t opcode,
                    int32_t client, uint8_t *sink, size_t sink_cap, limits_stats *out);

/* Handshake limit over n requests of req_len bytes each (concatenated):
 * httparse, RFC 6455 4.2.1 checks, SHA-1 + base64, a fixed 129-byte 101.
 * hash != 0: digest each response's 28-byte Sec-WebSocket-Accept value.
 * Returns 0, or minus the reason a request was refused (1 parse, 2 method,
 * 3 Host, 4 Upgrade, 5 Connection, 6 version, 7 key). */
int32_t limits_handshake(const uint8_t *reqs, size_t req_len, size_t n, int32_t hash, limits_stats *out);

#endif
