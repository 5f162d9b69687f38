/**
 * @file wsproto.h
 * @brief wsproto: a sans-I/O WebSocket engine (RFC 6455) with a C ABI.
 *
 * The library owns no sockets, threads or timers. You feed it the bytes you
 * read (ws_conn_receive), take events out (ws_conn_poll_event), ask it to
 * encode (ws_conn_send_*, ws_conn_accept, ...) and write the bytes it
 * produced (ws_conn_output_peek + ws_conn_output_consume, or
 * ws_conn_output_copy) to your transport.
 *
 * Conventions:
 * - Every fallible function returns ws_result_t (WS_OK = 0); outputs go
 *   through out-parameters placed last, written only on success.
 *   ws_result_str() describes a code; ws_conn_last_error() gives details.
 * - A required pointer that is NULL yields WS_ERR_NULL_ARGUMENT. A buffer
 *   pointer may be NULL when its length is 0. *_free(NULL) is a no-op.
 * - Byte-string arguments (payloads, host, target, reason, keys...) are
 *   `const void *` with a `size_t` length, so `char` and `uint8_t` buffers
 *   pass without casts; text ones must be UTF-8, and no NUL is needed. All
 *   input buffers are copied or parsed before the call returns. Byte strings
 *   handed out are `const uint8_t *` + length (payloads) or ws_str_t (text,
 *   NOT NUL-terminated); only ws_version(), ws_result_str() and
 *   ws_conn_last_error() return NUL-terminated `const char *`.
 * - Every enum type is 32 bits wide in returns, arguments and struct fields
 *   alike: a `typedef uint32_t` in C (an enum with underlying type uint32_t
 *   in C++ and C23), whatever -fshort-enums says. Flag bits are enum
 *   constants (ws_send_flag_t, ws_event_flag_t) that survive preprocessing.
 * - WSPROTO_VERSION_* and WSPROTO_ABI_VERSION describe this header;
 *   ws_version(), ws_abi_version() and ws_abi_sizeof() describe the library
 *   at run time, for programs and bindings to compare. Caller-owned
 *   output buffers (out-parameters, ws_event_t, ws_conn_output_copy's and
 *   ws_accept_token's buffers) are written during the call only. The library
 *   keeps no pointer to any argument, except the ws_rng_fn userdata.
 * - Pointers the library hands out (event fields, output_peek, last_error)
 *   borrow from the connection and stay valid until the next call that takes
 *   a non-const ws_conn_t* for that connection.
 * - A connection that panicked inside the library returns WS_ERR_PANIC once
 *   and WS_ERR_POISONED for every later call: free it.
 *
 * Thread safety: a ws_conn_t or ws_config_t is not thread-safe. Use each
 * handle from one thread at a time; it may move between threads between
 * calls. Different handles are independent. ws_result_str, ws_version,
 * ws_version_number, ws_abi_version, ws_abi_sizeof and ws_accept_token are
 * thread-safe. A ws_rng_fn callback runs on whatever thread is calling into
 * the connection that needs randomness; a call it makes into that same
 * connection returns WS_ERR_WRONG_STATE (ws_conn_free does nothing) instead
 * of re-entering it.
 *
 * Memory model: a connection's memory grows only with bytes that arrived,
 * never with a length a peer announces, and everything it holds counts
 * against its budget (ws_config_set_memory_budget, default 64 MiB, reported
 * by ws_conn_memory_used): unparsed input, the message being assembled,
 * events not yet taken, output not yet written, handshake data and
 * compressor state. While the caller has not drained what it was given
 * (many events waiting; for data frames also output at its high-water
 * mark), parsing pauses and ws_conn_wants_read() is false: stop reading,
 * poll events, write output, poll again; ws_conn_poll_event() resumes
 * parsing, and wants_read turns true once the held input is parsed. Input
 * fed anyway is kept up to ws_config_set_max_buffered_input, then refused
 * with WS_ERR_INPUT_FULL. While output is backed up, automatic pongs
 * coalesce into one. A message over its limit or over the budget fails the
 * connection with close 1009. What an event borrowed is released by the
 * next call on the connection, and empty buffers shrink to
 * ws_config_set_idle_buffer_retain. When an allocation for the peer's
 * bytes, for a send or for a new handle fails, the call returns
 * WS_ERR_NO_MEMORY (receiving: the connection fails with close 1011) or
 * NULL instead of aborting. Limits saturate: UINT64_MAX means no limit.
 *
 * Example: a server on a connected socket `fd` (error handling shortened):
 * @code
 *   ws_conn_t *conn;
 *   ws_conn_new_server(NULL, &conn);
 *   uint8_t buf[4096];
 *   ssize_t n = 1;
 *   for (;;) {
 *     if (ws_conn_wants_read(conn)) {      // else: input waits to be parsed
 *       n = read(fd, buf, sizeof buf);
 *       ws_result_t r = n > 0 ? ws_conn_receive(conn, buf, (size_t)n)
 *                             : ws_conn_receive_eof(conn);
 *       if (r == WS_ERR_HANDSHAKE)
 *         ws_conn_reject(conn, ws_conn_handshake_status_hint(conn), NULL, 0, false);
 *     }
 *     ws_event_t ev;
 *     while (ws_conn_poll_event(conn, &ev) == WS_OK && ev.type != WS_EVENT_NONE) {
 *       if (ev.type == WS_EVENT_REQUEST)
 *         ws_conn_accept(conn, NULL, 0, NULL, 0);
 *       else if (ev.type == WS_EVENT_TEXT)   // echo
 *         ws_conn_send_text(conn, ev.data, ev.len, 0);
 *     }
 *     const uint8_t *out; size_t out_len;
 *     while (ws_conn_output_peek(conn, &out, &out_len) == WS_OK && out_len > 0) {
 *       ssize_t w = write(fd, out, out_len);
 *       if (w <= 0) break;
 *       ws_conn_output_consume(conn, (size_t)w);
 *     }
 *     if (ws_conn_wants_close_transport(conn) || n <= 0) break;
 *   }
 *   close(fd);
 *   ws_conn_free(conn);
 * @endcode
 */

#ifndef WSPROTO_H
#define WSPROTO_H

/* Generated by cbindgen from src/ffi by build.rs. Do not edit by hand. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/** Major version of this header (the library's is in ws_version()). */
#define WSPROTO_VERSION_MAJOR 0
/** Minor version of this header. */
#define WSPROTO_VERSION_MINOR 1
/** Patch version of this header. */
#define WSPROTO_VERSION_PATCH 0
/** "MAJOR.MINOR.PATCH" of this header; compare with ws_version(). */
#define WSPROTO_VERSION_STRING "0.1.0"
/** MAJOR * 10000 + MINOR * 100 + PATCH; compare with ws_version_number(). */
#define WSPROTO_VERSION_NUMBER 100


/**
 * Largest frame header a server writes (ws_conn_encode_*_header).
 */
#define WS_MAX_SERVER_HEADER_LEN 10

/**
 * Largest frame header (a client's, with its masking key):
 * ws_conn_encode_text()/ws_conn_encode_binary() write at most `len` + this.
 */
#define WS_MAX_HEADER_LEN 14

/**
 * The ABI version of this header: incremented on every change that breaks
 * binary compatibility (a changed struct layout, signature or constant
 * value). It is the number in the shared library's SONAME
 * (libwsproto.so.N). Compare it with ws_abi_version() at run time.
 */
#define WSPROTO_ABI_VERSION 0

/**
 * Result code of every fallible function. Error values start at 7001 so they
 * cannot be confused with close codes, HTTP statuses or errno values.
 */
enum ws_result_t
#if defined(__cplusplus) || __STDC_VERSION__ >= 202311L
  : uint32_t
#endif // defined(__cplusplus) || __STDC_VERSION__ >= 202311L
 {
  /**
   * Success.
   */
  WS_OK = 0,
  /**
   * A required pointer argument was NULL. Nothing changed.
   */
  WS_ERR_NULL_ARGUMENT = 7001,
  /**
   * A value is out of range: control payload > 125 bytes, invalid close
   * code, reason > 123 bytes, text that is not UTF-8, bad header name or
   * value, unknown flag bits, bad option value. Nothing changed.
   */
  WS_ERR_INVALID_ARGUMENT = 7002,
  /**
   * The call is not allowed in the connection's current state (send before
   * OPEN, accept twice, binary while a text message is being fragmented...).
   * Nothing changed.
   */
  WS_ERR_WRONG_STATE = 7003,
  /**
   * The peer's upgrade request or response is invalid. Server: reject with
   * ws_conn_handshake_status_hint() and then close the transport once the
   * output is written; client: close the transport. Detail in
   * ws_conn_last_error().
   */
  WS_ERR_HANDSHAKE = 7004,
  /**
   * Data was fed after the connection closed or after ws_conn_receive_eof().
   */
  WS_ERR_CLOSED = 7005,
  /**
   * The output buffer is too small; nothing was written.
   */
  WS_ERR_BUFFER_TOO_SMALL = 7006,
  /**
   * The random source (OS or the ws_rng_fn callback) failed. Nothing was sent.
   */
  WS_ERR_RNG = 7007,
  /**
   * An internal bug was caught at the library boundary; the connection is
   * now poisoned. Please report it.
   */
  WS_ERR_PANIC = 7008,
  /**
   * The connection was poisoned by an earlier WS_ERR_PANIC; free it.
   */
  WS_ERR_POISONED = 7009,
  /**
   * An allocation failed. From a send: nothing was queued; retry later or
   * close. From ws_conn_receive or
   * ws_conn_poll_event: the connection has failed: a WS_EVENT_CLOSE with
   * code 1011 follows when it could be queued; write out the output and
   * close the transport. From ws_config_new/ws_conn_new_*: nothing was created.
   */
  WS_ERR_NO_MEMORY = 7010,
  /**
   * ws_conn_receive() took nothing: parsing is paused (events wait to be
   * taken, output waits to be written, or a server has not answered the
   * request yet) and the input already held back is at the
   * max_buffered_input limit. Keep the bytes; poll events until
   * WS_EVENT_NONE, write the output (or accept), then feed them again.
   * ws_conn_wants_read() tells in advance.
   */
  WS_ERR_INPUT_FULL = 7011,
};
#ifndef __cplusplus
#if __STDC_VERSION__ >= 202311L
typedef enum ws_result_t ws_result_t;
#else
typedef uint32_t ws_result_t;
#endif // __STDC_VERSION__ >= 202311L
#endif // __cplusplus

/**
 * Connection state (numbered as in Python wsproto).
 */
enum ws_state_t
#if defined(__cplusplus) || __STDC_VERSION__ >= 202311L
  : uint32_t
#endif // defined(__cplusplus) || __STDC_VERSION__ >= 202311L
 {
  /**
   * Handshake in progress.
   */
  WS_STATE_CONNECTING = 0,
  /**
   * Handshake done; data may flow both ways.
   */
  WS_STATE_OPEN = 1,
  /**
   * The peer sent a close frame; we have not answered yet.
   */
  WS_STATE_REMOTE_CLOSING = 2,
  /**
   * We sent a close frame and wait for the peer's.
   */
  WS_STATE_LOCAL_CLOSING = 3,
  /**
   * The closing handshake is over or the connection failed.
   */
  WS_STATE_CLOSED = 4,
  /**
   * Server: a rejection is being sent (ws_conn_reject with a body).
   */
  WS_STATE_REJECTING = 5,
};
#ifndef __cplusplus
#if __STDC_VERSION__ >= 202311L
typedef enum ws_state_t ws_state_t;
#else
typedef uint32_t ws_state_t;
#endif // __STDC_VERSION__ >= 202311L
#endif // __cplusplus

/**
 * What a ws_event_t reports.
 */
enum ws_event_type_t
#if defined(__cplusplus) || __STDC_VERSION__ >= 202311L
  : uint32_t
#endif // defined(__cplusplus) || __STDC_VERSION__ >= 202311L
 {
  /**
   * Nothing pending: feed more input.
   */
  WS_EVENT_NONE = 0,
  /**
   * Server: the client's upgrade request (target, host, subprotocols,
   * extensions, headers). Answer with ws_conn_accept() or ws_conn_reject().
   */
  WS_EVENT_REQUEST = 1,
  /**
   * Client: the server accepted (subprotocol, extensions, headers); the
   * connection is now OPEN.
   */
  WS_EVENT_ACCEPT = 2,
  /**
   * Client: the server rejected the upgrade. `code` = HTTP status,
   * headers; flag HAS_BODY when REJECT_DATA events follow.
   */
  WS_EVENT_REJECT = 3,
  /**
   * Client: a chunk of the rejection body in data/len; flag
   * MESSAGE_FINISHED on the last one.
   */
  WS_EVENT_REJECT_DATA = 4,
  /**
   * A text message or chunk in data/len (always valid UTF-8 ending on a
   * code-point boundary); flags FRAME_FINISHED, MESSAGE_FINISHED.
   */
  WS_EVENT_TEXT = 5,
  /**
   * A binary message or chunk in data/len; flags as for TEXT.
   */
  WS_EVENT_BINARY = 6,
  /**
   * A ping; data/len = payload. With auto-pong on, the pong is already queued.
   */
  WS_EVENT_PING = 7,
  /**
   * A pong; data/len = payload.
   */
  WS_EVENT_PONG = 8,
  /**
   * The connection is closing. `code` = close code (1005 = the peer sent
   * none; 1006 = the transport ended without a close frame); data/len =
   * reason (UTF-8). Flag PROTOCOL_ERROR when the engine failed the
   * connection because of the peer (then `code` is what it sent).
   * Taking this event is what changes the state (as in Python wsproto):
   * events before it (a message that arrived with the close) can still be
   * answered. When it is taken, the close frame that the protocol calls
   * for is queued: the auto-reply to a peer's close (auto close-reply on),
   * or the close that fails the connection (PROTOCOL_ERROR).
   */
  WS_EVENT_CLOSE = 9,
};
#ifndef __cplusplus
#if __STDC_VERSION__ >= 202311L
typedef enum ws_event_type_t ws_event_type_t;
#else
typedef uint32_t ws_event_type_t;
#endif // __STDC_VERSION__ >= 202311L
#endif // __cplusplus

/**
 * Which end of the connection this is.
 */
enum ws_role_t
#if defined(__cplusplus) || __STDC_VERSION__ >= 202311L
  : uint32_t
#endif // defined(__cplusplus) || __STDC_VERSION__ >= 202311L
 {
  /**
   * The end that sent the upgrade request; it masks its frames.
   */
  WS_ROLE_CLIENT = 0,
  /**
   * The end that accepted the upgrade; its frames are not masked.
   */
  WS_ROLE_SERVER = 1,
};
#ifndef __cplusplus
#if __STDC_VERSION__ >= 202311L
typedef enum ws_role_t ws_role_t;
#else
typedef uint32_t ws_role_t;
#endif // __STDC_VERSION__ >= 202311L
#endif // __cplusplus

/**
 * How received data messages are delivered.
 */
enum ws_message_mode_t
#if defined(__cplusplus) || __STDC_VERSION__ >= 202311L
  : uint32_t
#endif // defined(__cplusplus) || __STDC_VERSION__ >= 202311L
 {
  /**
   * Each message arrives as one TEXT/BINARY event with both
   * FRAME_FINISHED and MESSAGE_FINISHED set (bounded by max_message_size).
   */
  WS_MESSAGE_MODE_WHOLE = 0,
  /**
   * Payload arrives in chunks as it is received, flagged FRAME_FINISHED /
   * MESSAGE_FINISHED; text chunks always end on a code-point boundary.
   */
  WS_MESSAGE_MODE_STREAM = 1,
};
#ifndef __cplusplus
#if __STDC_VERSION__ >= 202311L
typedef enum ws_message_mode_t ws_message_mode_t;
#else
typedef uint32_t ws_message_mode_t;
#endif // __STDC_VERSION__ >= 202311L
#endif // __cplusplus

/**
 * Bits of the `send_flags` argument of ws_conn_send_text() and
 * ws_conn_send_binary(); OR them together (0 = a whole, compressible
 * message). Enum constants rather than macros so that they survive
 * preprocessing (LuaJIT ffi.cdef, cffi, ctypes mirrors); the argument itself
 * is a uint32_t.
 */
enum ws_send_flag_t
#if defined(__cplusplus) || __STDC_VERSION__ >= 202311L
  : uint32_t
#endif // defined(__cplusplus) || __STDC_VERSION__ >= 202311L
 {
  /**
   * Not the last fragment; more of this message follows.
   */
  WS_SEND_MORE = 1,
  /**
   * Never compress this message (permessage-deflate).
   */
  WS_SEND_NO_COMPRESS = 2,
  /**
   * The text is already known to be valid UTF-8 (for example the data of
   * a WS_EVENT_TEXT just received, which the library validated), so it is
   * not checked again. Text that is not valid UTF-8 then goes out as is,
   * and the peer will fail the connection (1007): that is the caller's
   * responsibility. Once a fragment is sent with it, the rest of the
   * message is not checked either. Ignored for binary messages.
   */
  WS_SEND_TRUSTED_UTF8 = 4,
};
#ifndef __cplusplus
#if __STDC_VERSION__ >= 202311L
typedef enum ws_send_flag_t ws_send_flag_t;
#else
typedef uint32_t ws_send_flag_t;
#endif // __STDC_VERSION__ >= 202311L
#endif // __cplusplus

/**
 * Bits of ws_event_t.flags (a uint32_t). Enum constants rather than macros
 * so that they survive preprocessing (LuaJIT ffi.cdef, cffi, ctypes mirrors).
 */
enum ws_event_flag_t
#if defined(__cplusplus) || __STDC_VERSION__ >= 202311L
  : uint32_t
#endif // defined(__cplusplus) || __STDC_VERSION__ >= 202311L
 {
  /**
   * The last chunk of a frame (stream mode; always set in whole mode).
   */
  WS_EVENT_FLAG_FRAME_FINISHED = 1,
  /**
   * The last chunk of a message (TEXT/BINARY), or of a rejection body
   * (REJECT_DATA).
   */
  WS_EVENT_FLAG_MESSAGE_FINISHED = 2,
  /**
   * (REJECT) WS_EVENT_REJECT_DATA events with the body follow.
   */
  WS_EVENT_FLAG_HAS_BODY = 4,
  /**
   * (CLOSE) The engine failed the connection because the peer violated
   * the protocol; `code` is the close code it sent (1002/1007/1009).
   */
  WS_EVENT_FLAG_PROTOCOL_ERROR = 8,
};
#ifndef __cplusplus
#if __STDC_VERSION__ >= 202311L
typedef enum ws_event_flag_t ws_event_flag_t;
#else
typedef uint32_t ws_event_flag_t;
#endif // __STDC_VERSION__ >= 202311L
#endif // __cplusplus

/**
 * The structs whose size ws_abi_sizeof() reports, so that a binding that
 * mirrors them (cgo, LuaJIT ffi, ctypes, Zig) can check its layout.
 */
enum ws_abi_struct_t
#if defined(__cplusplus) || __STDC_VERSION__ >= 202311L
  : uint32_t
#endif // defined(__cplusplus) || __STDC_VERSION__ >= 202311L
 {
  /**
   * ws_event_t
   */
  WS_ABI_EVENT = 1,
  /**
   * ws_str_t
   */
  WS_ABI_STR = 2,
  /**
   * ws_header_t
   */
  WS_ABI_HEADER = 3,
  /**
   * ws_deflate_params_t
   */
  WS_ABI_DEFLATE_PARAMS = 4,
  /**
   * ws_allocator_t
   */
  WS_ABI_ALLOCATOR = 5,
  /**
   * ws_event_compact_t
   */
  WS_ABI_EVENT_COMPACT = 6,
};
#ifndef __cplusplus
#if __STDC_VERSION__ >= 202311L
typedef enum ws_abi_struct_t ws_abi_struct_t;
#else
typedef uint32_t ws_abi_struct_t;
#endif // __STDC_VERSION__ >= 202311L
#endif // __cplusplus

/**
 * Connection options. Create with ws_config_new(), change with the
 * ws_config_set_* functions, pass to a ws_conn_new_* function (which copies
 * it) and free with ws_config_free(). A config is not thread-safe; it may be
 * used to create many connections.
 */
typedef struct ws_config_t ws_config_t;

/**
 * One WebSocket connection (client, server or frames-only). Opaque.
 * Not thread-safe: use it from one thread at a time (it may move between
 * threads between calls).
 */
typedef struct ws_conn_t ws_conn_t;

/**
 * An extended CONNECT request (RFC 8441 over HTTP/2, RFC 9220 over
 * HTTP/3) being validated and answered. Opaque; not thread-safe (it may
 * move between threads between calls).
 *
 * Your HTTP/2 stack must announce SETTINGS_ENABLE_CONNECT_PROTOCOL = 1
 * (RFC 8441 §3; RFC 9220 §3 for HTTP/3) for clients to send such requests.
 *
 * Flow: ws_h2_connect_new() -> ws_h2_connect_receive() with the request's
 * decoded field list -> ws_h2_connect_request() to look at it ->
 * ws_h2_connect_accept() for the response field list (send it with your
 * HTTP/2 or HTTP/3 stack; or, after WS_ERR_HANDSHAKE, answer the stream
 * with ws_h2_connect_status_hint()) -> ws_h2_connect_new_conn() for the
 * frames-only connection that carries the stream's DATA -> ws_h2_connect_free().
 */
typedef struct ws_h2_connect_t ws_h2_connect_t;

/**
 * Allocates `size` bytes (never 0) aligned to `align` (a power of two,
 * possibly larger than alignof(max_align_t)); returns NULL on failure,
 * which the library reports as an error where it can (it never aborts
 * inside the hook).
 */
typedef void *(*ws_alloc_fn)(void *userdata, size_t size, size_t align);

/**
 * Resizes the block `ptr` (from this allocator, `old_size` bytes, aligned
 * to `align`) to `new_size` bytes (never 0) with the same alignment,
 * keeping the first min(old_size, new_size) bytes; returns the new block,
 * or NULL on failure with `ptr` left untouched.
 */
typedef void *(*ws_realloc_fn)(void *userdata,
                               void *ptr,
                               size_t old_size,
                               size_t align,
                               size_t new_size);

/**
 * Frees the block `ptr` of `size` bytes aligned to `align`, as returned by
 * this allocator's allocate or reallocate function. `ptr` is never NULL.
 */
typedef void (*ws_free_fn)(void *userdata, void *ptr, size_t size, size_t align);

/**
 * An allocator for ws_set_allocator(). `allocate` and `deallocate` are
 * required; `reallocate` may be NULL (the library then allocates, copies
 * and frees). (The members are not called malloc/realloc/free, which debug
 * allocators often define as macros.)
 * Every function receives `userdata` as given, may be called from any
 * thread that calls into the library (concurrently when different handles
 * are used on different threads), must not call back into the library,
 * and must not unwind.
 */
typedef struct ws_allocator_t {
  /**
   * Allocates (required).
   */
  ws_alloc_fn allocate;
  /**
   * Resizes (optional: NULL = allocate, copy and free).
   */
  ws_realloc_fn reallocate;
  /**
   * Frees (required).
   */
  ws_free_fn deallocate;
  /**
   * Passed as is to every call of the three functions; may be NULL.
   */
  void *userdata;
} ws_allocator_t;

/**
 * Random source callback: fill `buf[0..len)` with cryptographically secure
 * random bytes and return 0, or return non-zero on failure (the call that
 * needed randomness then fails with WS_ERR_RNG). `userdata` is the pointer
 * given to ws_config_set_rng(). The library draws randomness in blocks (it
 * may ask for more bytes than one call needs and keep the rest for later
 * masking keys), so the callback runs synchronously inside some
 * ws_conn_send_request() (Sec-WebSocket-Key) and client-side send calls
 * (masking keys), on whatever thread makes that call: it must be safe to
 * call from any thread the connection is used on. It must not call back
 * into the library with the same connection.
 */
typedef int (*ws_rng_fn)(void *userdata, uint8_t *buf, size_t len);

/**
 * permessage-deflate parameters: one offer (client) or what was negotiated.
 * Window sizes are base-2 logarithms, 9..=15; in an offer, 0 leaves the
 * parameter out (for client_max_window_bits, 15 offers it without a value,
 * which lets the server choose). A client may find client_max_window_bits 8
 * negotiated (a server may ask for it): it then sends stored (uncompressed)
 * DEFLATE blocks, which honour any window.
 */
typedef struct ws_deflate_params_t {
  /**
   * The server resets its compressor after each message.
   */
  bool server_no_context_takeover;
  /**
   * The client resets its compressor after each message.
   */
  bool client_no_context_takeover;
  /**
   * Largest LZ77 window the server compresses with.
   */
  uint8_t server_max_window_bits;
  /**
   * Largest LZ77 window the client compresses with.
   */
  uint8_t client_max_window_bits;
} ws_deflate_params_t;

/**
 * A byte string, NOT NUL-terminated: print with `"%.*s", (int)s.len, s.ptr`.
 * `ptr` may be NULL when `len` is 0.
 */
typedef struct ws_str_t {
  /**
   * The first byte (not NUL-terminated); may be NULL when `len` is 0.
   */
  const char *ptr;
  /**
   * The number of bytes at `ptr`.
   */
  size_t len;
} ws_str_t;

/**
 * An HTTP header: name and value (value trimmed of surrounding whitespace).
 */
typedef struct ws_header_t {
  /**
   * The header name, as received (compare case-insensitively).
   */
  struct ws_str_t name;
  /**
   * The header value.
   */
  struct ws_str_t value;
} ws_header_t;

/**
 * One event, filled by ws_conn_poll_event(). The caller owns the struct;
 * every pointer inside it borrows from the connection and stays valid until
 * the next call that takes a non-const `ws_conn_t *` (including the next
 * ws_conn_poll_event()); copy what you need to keep. One exception: the
 * data of a TEXT or BINARY event may be passed straight to a send or encode
 * call on the same connection (ws_conn_send_text/_binary,
 * ws_conn_encode_*), which never touch received data: an echo or forward
 * needs no copy (text with WS_SEND_TRUSTED_UTF8, as it was validated on
 * receipt). Fields not listed for the event type are zero/NULL. Any pointer
 * may be NULL when its length is 0.
 */
typedef struct ws_event_t {
  /**
   * The kind of event; decides which fields are meaningful.
   */
  ws_event_type_t type;
  /**
   * ws_event_flag_t bits (WS_EVENT_FLAG_*).
   */
  uint32_t flags;
  /**
   * CLOSE: the close code; REJECT: the HTTP status.
   */
  uint16_t code;
  /**
   * REJECT_DATA, TEXT, BINARY, PING, PONG: payload; CLOSE: reason (UTF-8).
   */
  const uint8_t *data;
  /**
   * The number of bytes at `data`.
   */
  size_t len;
  /**
   * REQUEST: the request target (e.g. "/chat?room=1").
   */
  struct ws_str_t target;
  /**
   * REQUEST: the Host header value.
   */
  struct ws_str_t host;
  /**
   * ACCEPT: the subprotocol the server chose (len 0 = none).
   */
  struct ws_str_t subprotocol;
  /**
   * REQUEST: the raw offered Sec-WebSocket-Extensions values joined with
   * ", "; ACCEPT: the negotiated extensions (len 0 = none).
   */
  struct ws_str_t extensions;
  /**
   * REQUEST: the offered subprotocols, in the client's order of preference.
   */
  const struct ws_str_t *subprotocols;
  /**
   * The number of entries at `subprotocols`.
   */
  size_t subprotocols_len;
  /**
   * REQUEST/ACCEPT/REJECT: every header as received, in order.
   */
  const struct ws_header_t *headers;
  /**
   * The number of entries at `headers`.
   */
  size_t headers_len;
} ws_event_t;

/**
 * One event as ws_conn_poll_events() delivers it: the fields of ws_event_t
 * that data and control events use, in 32 bytes instead of 128.
 */
typedef struct ws_event_compact_t {
  /**
   * TEXT, BINARY, PING, PONG: payload; CLOSE: reason (UTF-8);
   * REJECT_DATA: a chunk of the rejection body. May be NULL when `len` is 0.
   */
  const uint8_t *data;
  /**
   * Bytes at `data`.
   */
  size_t len;
  /**
   * WS_EVENT_TEXT, _BINARY, _PING, _PONG, _CLOSE or _REJECT_DATA.
   */
  ws_event_type_t type;
  /**
   * WS_EVENT_FLAG_* bits, as in ws_event_t.
   */
  uint32_t flags;
  /**
   * CLOSE: the close code.
   */
  uint16_t code;
} ws_event_compact_t;

#ifdef __cplusplus
extern "C" {
#endif // __cplusplus

/**
 * Routes every allocation the library makes through `allocator` (its
 * functions and `userdata` are copied; the struct need not outlive the
 * call). Call it once, first: before any other wsproto function, from one
 * thread, while no other thread uses the library. The hook stays for the
 * life of the process. `userdata` must stay valid that long.
 *
 * When the hook returns NULL, ws_config_new() returns NULL and the
 * ws_conn_new_* functions return an error instead of aborting the process.
 *
 * Returns WS_OK; WS_ERR_NULL_ARGUMENT if `allocator`, its `allocate` or
 * its `deallocate` is NULL; WS_ERR_WRONG_STATE if the library has already allocated
 * memory (any earlier call, or an earlier ws_set_allocator()), or if it was
 * built without the allocator hook (cargo feature `c-allocator`, which the
 * CMake build turns on). The allocator in use is unchanged on error.
 */
ws_result_t ws_set_allocator(const struct ws_allocator_t *allocator);

/**
 * Creates a config with safe defaults for a public server: max frame and
 * message size 16 MiB, max handshake head 16 KiB with at most 64 headers,
 * auto-pong and auto close-reply on, WS_MESSAGE_MODE_WHOLE, default random source.
 *
 * Returns NULL only if allocation failed (see ws_set_allocator()). The
 * caller owns the config and must release it with ws_config_free().
 */
struct ws_config_t *ws_config_new(void);

/**
 * Frees a config. NULL is a no-op. Connections created from it are not
 * affected (they hold a copy). `cfg` must not be used afterwards.
 */
void ws_config_free(struct ws_config_t *cfg);

/**
 * Largest accepted frame payload in bytes (default 16 MiB); a larger frame
 * fails the connection with close code 1009.
 *
 * Returns WS_OK; WS_ERR_NULL_ARGUMENT if `cfg` is NULL;
 * WS_ERR_INVALID_ARGUMENT if `bytes` is 0 (config unchanged).
 */
ws_result_t ws_config_set_max_frame_size(struct ws_config_t *cfg, uint64_t bytes);

/**
 * Largest accepted message in bytes, after decompression (default 16 MiB);
 * applies in both message modes; larger fails the connection with 1009.
 *
 * Returns WS_OK; WS_ERR_NULL_ARGUMENT if `cfg` is NULL;
 * WS_ERR_INVALID_ARGUMENT if `bytes` is 0 (config unchanged).
 */
ws_result_t ws_config_set_max_message_size(struct ws_config_t *cfg, uint64_t bytes);

/**
 * Largest accepted HTTP head (request/status line plus headers) in bytes
 * (default 16 KiB). A larger head fails the handshake (server hint 431).
 *
 * Returns WS_OK; WS_ERR_NULL_ARGUMENT if `cfg` is NULL;
 * WS_ERR_INVALID_ARGUMENT if `bytes` is 0 (config unchanged).
 */
ws_result_t ws_config_set_max_handshake_size(struct ws_config_t *cfg, size_t bytes);

/**
 * Most header lines accepted in the HTTP head (default 64). More fails the
 * handshake (server hint 431).
 *
 * Returns WS_OK; WS_ERR_NULL_ARGUMENT if `cfg` is NULL;
 * WS_ERR_INVALID_ARGUMENT if `count` is 0 (config unchanged).
 */
ws_result_t ws_config_set_max_handshake_headers(struct ws_config_t *cfg, size_t count);

/**
 * The per-connection memory budget in bytes (default 64 MiB;
 * UINT64_MAX = no limit): the most a connection may hold for what the peer
 * sends, counted as ws_conn_memory_used() counts it (unparsed input, the
 * message being assembled, events not yet taken, output not yet written,
 * handshake data, compressor state). Memory grows only with bytes that
 * arrived, never with a length a frame header announces. Parsing pauses
 * while events wait to be taken or output waits to be written (see
 * ws_conn_wants_read()); a message that cannot fit in what is left fails
 * the connection with close 1009. Keep it above the max message size plus
 * the output you queue yourself.
 *
 * Returns WS_OK; WS_ERR_NULL_ARGUMENT if `cfg` is NULL;
 * WS_ERR_INVALID_ARGUMENT if `bytes` is 0 (config unchanged).
 */
ws_result_t ws_config_set_memory_budget(struct ws_config_t *cfg, uint64_t bytes);

/**
 * The most input a connection holds unparsed while parsing is paused
 * (default 256 KiB). Past it, ws_conn_receive() takes nothing and returns
 * WS_ERR_INPUT_FULL.
 *
 * Returns WS_OK; WS_ERR_NULL_ARGUMENT if `cfg` is NULL;
 * WS_ERR_INVALID_ARGUMENT if `bytes` is 0 (config unchanged).
 */
ws_result_t ws_config_set_max_buffered_input(struct ws_config_t *cfg, size_t bytes);

/**
 * Output length at which a connection counts as backed up (default
 * 256 KiB): from there on it parses no further data frames until the
 * output is written below the mark (ws_conn_wants_read() is false), and
 * automatic pongs coalesce into one answer to the latest ping (RFC 6455
 * 5.5.3); control frames are still processed.
 *
 * Returns WS_OK; WS_ERR_NULL_ARGUMENT if `cfg` is NULL;
 * WS_ERR_INVALID_ARGUMENT if `bytes` is 0 (config unchanged).
 */
ws_result_t ws_config_set_output_high_water(struct ws_config_t *cfg, size_t bytes);

/**
 * Capacity each internal buffer may keep while it is empty (default
 * 1 KiB). A larger buffer (after a large message, say) is freed as soon as
 * what it held has been taken, so idle connections stay small; a higher
 * value keeps buffers for reuse (fewer allocations, more idle memory).
 * 0 frees every empty buffer; SIZE_MAX never frees.
 *
 * Returns WS_OK, or WS_ERR_NULL_ARGUMENT if `cfg` is NULL.
 */
ws_result_t ws_config_set_idle_buffer_retain(struct ws_config_t *cfg, size_t bytes);

/**
 * Whether received pings are answered with a pong automatically (default
 * true). PING events are delivered either way.
 *
 * Returns WS_OK, or WS_ERR_NULL_ARGUMENT if `cfg` is NULL.
 */
ws_result_t ws_config_set_auto_pong(struct ws_config_t *cfg, bool on);

/**
 * Whether a peer's close frame is answered with a close frame automatically
 * (default true). When off, answer with ws_conn_send_close() after the
 * CLOSE event.
 *
 * Returns WS_OK, or WS_ERR_NULL_ARGUMENT if `cfg` is NULL.
 */
ws_result_t ws_config_set_auto_close_reply(struct ws_config_t *cfg, bool on);

/**
 * Whole messages (default) or streamed chunks; see ws_message_mode_t.
 *
 * Returns WS_OK; WS_ERR_NULL_ARGUMENT if `cfg` is NULL;
 * WS_ERR_INVALID_ARGUMENT if `mode` is not a ws_message_mode_t value.
 */
ws_result_t ws_config_set_message_mode(struct ws_config_t *cfg, ws_message_mode_t mode);

/**
 * Sets the random source for client masking keys and Sec-WebSocket-Key
 * nonces. `rng` NULL restores the default source (a per-connection ChaCha12 stream
 * keyed from the OS RNG, getrandom); `userdata`
 * is then ignored. Otherwise `rng(userdata, buf, len)` is called whenever
 * randomness is needed by a connection created from this config (see
 * ws_rng_fn for the threading rule). The library does not own `userdata`:
 * it must stay valid as long as any connection created from this config
 * exists.
 *
 * Returns WS_OK, or WS_ERR_NULL_ARGUMENT if `cfg` is NULL.
 */
ws_result_t ws_config_set_rng(struct ws_config_t *cfg, ws_rng_fn rng, void *userdata);

/**
 * Creates a client connection in WS_STATE_CONNECTING. Next: ws_conn_send_request().
 *
 * `cfg` may be NULL (defaults); it is copied, so the caller still owns it and
 * may free it right away. On WS_OK `*out` receives a connection the caller
 * owns and must release with ws_conn_free().
 *
 * Returns WS_OK; WS_ERR_NULL_ARGUMENT if `out` is NULL; WS_ERR_NO_MEMORY;
 * WS_ERR_PANIC.
 */
ws_result_t ws_conn_new_client(const struct ws_config_t *cfg, struct ws_conn_t **out);

/**
 * Creates a server connection in WS_STATE_CONNECTING. Next: feed the
 * client's bytes with ws_conn_receive() and poll for a WS_EVENT_REQUEST.
 *
 * `cfg` may be NULL (defaults); it is copied. On WS_OK `*out` receives a
 * connection the caller owns and must release with ws_conn_free().
 *
 * Returns WS_OK; WS_ERR_NULL_ARGUMENT if `out` is NULL; WS_ERR_NO_MEMORY;
 * WS_ERR_PANIC.
 */
ws_result_t ws_conn_new_server(const struct ws_config_t *cfg, struct ws_conn_t **out);

/**
 * Creates a connection whose HTTP upgrade happened elsewhere (an HTTP server
 * that already upgraded, WebSocket over HTTP/2): it starts in
 * WS_STATE_OPEN. `role` says which end we are (a client masks its frames).
 * `trailing[0..trailing_len)` are bytes already read past the handshake;
 * they are copied and parsed as frames (poll for events). `trailing` may be
 * NULL when `trailing_len` is 0. `cfg` may be NULL (defaults); it is copied.
 * On WS_OK `*out` receives a connection the caller must ws_conn_free().
 *
 * Returns WS_OK; WS_ERR_NULL_ARGUMENT if `out` is NULL or `trailing` is NULL
 * with a non-zero length; WS_ERR_INVALID_ARGUMENT if `role` is not a
 * ws_role_t value; WS_ERR_NO_MEMORY; WS_ERR_PANIC.
 */
ws_result_t ws_conn_new_frames_only(const struct ws_config_t *cfg,
                                    ws_role_t role,
                                    const void *trailing,
                                    size_t trailing_len,
                                    struct ws_conn_t **out);

/**
 * Frees a connection and everything it owns (pending output is discarded;
 * event and output pointers become invalid). NULL is a no-op. A poisoned
 * connection may (and should) be freed. Called from the connection's own
 * RNG callback it does nothing (the connection is in use).
 */
void ws_conn_free(struct ws_conn_t *conn);

/**
 * The connection's state. NULL or a poisoned connection -> WS_STATE_CLOSED.
 */
ws_state_t ws_conn_state(const struct ws_conn_t *conn);

/**
 * Feeds `data[0..len)` read from the transport. The bytes are consumed
 * (parsed, or copied to be parsed later) before returning; the caller keeps
 * ownership of `data`, which may be NULL when `len` is 0. Next: call
 * ws_conn_poll_event() until it reports WS_EVENT_NONE, then write out the
 * output. Parsing stops at a frame boundary while many events (4096, or
 * 1 MiB of payload) wait to be taken, and before a data frame while the
 * output is at its high-water mark; the rest of `data` is kept and parsed
 * as events are taken and output is written.
 *
 * Returns WS_OK; WS_ERR_NULL_ARGUMENT; WS_ERR_CLOSED if the connection is
 * closed or ws_conn_receive_eof() was called (input ignored);
 * WS_ERR_HANDSHAKE if the peer's upgrade request/response is invalid
 * (server: answer with ws_conn_reject() using ws_conn_handshake_status_hint()
 * and close the transport once the output is written; client: close the
 * transport); WS_ERR_INPUT_FULL (nothing taken: parsing is paused, or a
 * client's rejection-body events wait to be taken, and the held-back input
 * is at its limit; poll events, write output or accept, then feed the same
 * bytes again; ws_conn_wants_read() tells in advance);
 * WS_ERR_NO_MEMORY (the connection failed: a WS_EVENT_CLOSE with code 1011
 * follows; write the output and close the transport); WS_ERR_RNG (client:
 * the random source failed while masking an automatic pong or close reply,
 * which was not sent; the input was processed). Protocol violations after
 * the handshake are not errors here: they surface as a WS_EVENT_CLOSE with
 * WS_EVENT_FLAG_PROTOCOL_ERROR (1009 when a message exceeds its limit or the
 * memory budget).
 */
ws_result_t ws_conn_receive(struct ws_conn_t *conn, const void *data, size_t len);

/**
 * Tells the connection that the transport reached end of input. If the
 * closing handshake had not finished, a WS_EVENT_CLOSE with code 1006
 * follows (poll for it). Later ws_conn_receive() calls return WS_ERR_CLOSED.
 *
 * Calling it again is harmless (WS_OK, no second CLOSE event).
 *
 * Returns WS_OK; WS_ERR_NULL_ARGUMENT.
 */
ws_result_t ws_conn_receive_eof(struct ws_conn_t *conn);

/**
 * Zero-copy send of a text message (or of one fragment of it with
 * WS_SEND_MORE): encodes the whole frame straight into the caller's
 * `buf[0..cap)`: the header, then the payload, which a client masks in the
 * same pass (one copy in all, no bytes through the connection's output
 * buffer). Use it when you own a send buffer anyway (io_uring, a ring,
 * TLS records) or for a client's large messages; use
 * ws_conn_encode_text_header() for a server that can `writev` its own
 * payload; use ws_conn_send_text() otherwise (simplest; needed for
 * compressed messages).
 *
 * `data[0..len)` is only read during the call (NULL allowed when `len` is
 * 0) and must not overlap `buf`; it may be the data of an event just
 * polled from this connection (echo). `send_flags`: WS_SEND_MORE,
 * WS_SEND_NO_COMPRESS, WS_SEND_TRUSTED_UTF8; same fragmentation and UTF-8
 * rules as ws_conn_send_text(). The connection keeps no pointer to either
 * buffer.
 *
 * On WS_OK, `*out_len` receives the number of bytes written at the start of
 * `buf` (at most `len` + 14): write all of them to the transport before
 * writing the connection's output or another frame. On
 * WS_ERR_BUFFER_TOO_SMALL, `*out_len` receives the size needed and nothing
 * was written or changed. On other errors `*out_len` is not written.
 *
 * Returns WS_OK; WS_ERR_BUFFER_TOO_SMALL; WS_ERR_NULL_ARGUMENT (`conn`,
 * `out_len`, `buf` with `cap` > 0, `data` with `len` > 0);
 * WS_ERR_INVALID_ARGUMENT (not UTF-8, unknown flag bits, or a message
 * permessage-deflate would compress: pass WS_SEND_NO_COMPRESS or use
 * ws_conn_send_text()); WS_ERR_WRONG_STATE (not OPEN / REMOTE_CLOSING, a
 * binary message is being fragmented, or queued output is pending: write it
 * out first); WS_ERR_RNG (client masking key). Nothing changes on error.
 */
ws_result_t ws_conn_encode_text(struct ws_conn_t *conn,
                                const void *data,
                                size_t len,
                                uint32_t send_flags,
                                void *buf,
                                size_t cap,
                                size_t *out_len);

/**
 * Zero-copy send of a binary message (or fragment): as
 * ws_conn_encode_text(), without the UTF-8 rules; WS_ERR_WRONG_STATE also
 * while a text message is being fragmented.
 */
ws_result_t ws_conn_encode_binary(struct ws_conn_t *conn,
                                  const void *data,
                                  size_t len,
                                  uint32_t send_flags,
                                  void *buf,
                                  size_t cap,
                                  size_t *out_len);

/**
 * Server only, zero-copy: writes just the header (at most 10 bytes;
 * WS_MAX_SERVER_HEADER_LEN) of the text frame that carries
 * `data[0..len)` into `buf[0..cap)`. Then write the header followed by your
 * own `data` (e.g. one `writev`/`sendmsg`), both in full, before the
 * connection's output or another frame: the payload is never copied.
 * `data` is read during the call only, to check UTF-8 (skipped with
 * WS_SEND_TRUSTED_UTF8); the connection keeps no pointer to it or to `buf`.
 * A client must mask its payload and cannot use this (WS_ERR_WRONG_STATE:
 * use ws_conn_encode_text()). A compressed message cannot be sent as a
 * header plus the caller's payload: a message permessage-deflate would
 * compress is refused (WS_ERR_INVALID_ARGUMENT; pass WS_SEND_NO_COMPRESS).
 *
 * On WS_OK `*out_len` receives the header size; on WS_ERR_BUFFER_TOO_SMALL
 * the size needed (nothing written or changed); otherwise it is not written.
 *
 * Returns WS_OK; WS_ERR_BUFFER_TOO_SMALL; WS_ERR_NULL_ARGUMENT;
 * WS_ERR_INVALID_ARGUMENT (not UTF-8, unknown flag bits, would be
 * compressed); WS_ERR_WRONG_STATE (client, not OPEN / REMOTE_CLOSING, a
 * binary message is being fragmented, queued output pending). Nothing
 * changes on error.
 */
ws_result_t ws_conn_encode_text_header(struct ws_conn_t *conn,
                                       const void *data,
                                       size_t len,
                                       uint32_t send_flags,
                                       void *buf,
                                       size_t cap,
                                       size_t *out_len);

/**
 * Server only, zero-copy: as ws_conn_encode_text_header() for a binary
 * frame (`data` is only measured: it is not read).
 */
ws_result_t ws_conn_encode_binary_header(struct ws_conn_t *conn,
                                         const void *data,
                                         size_t len,
                                         uint32_t send_flags,
                                         void *buf,
                                         size_t cap,
                                         size_t *out_len);

/**
 * Queues a text message, or one fragment of it when `send_flags` has
 * WS_SEND_MORE (end the message with a call without it). The bytes are
 * copied; `data` may be NULL when `len` is 0. Each fragment must be valid
 * UTF-8 on its own boundaries as a whole message would be (a code point may
 * be split across fragments). Next: write out the output.
 *
 * Returns WS_OK; WS_ERR_NULL_ARGUMENT; WS_ERR_INVALID_ARGUMENT (not UTF-8,
 * unknown flag bits; nothing queued); WS_ERR_WRONG_STATE (not OPEN /
 * REMOTE_CLOSING, or a binary message is being fragmented; nothing queued);
 * WS_ERR_RNG (client masking key; nothing queued); WS_ERR_NO_MEMORY
 * (nothing queued).
 */
ws_result_t ws_conn_send_text(struct ws_conn_t *conn,
                              const void *data,
                              size_t len,
                              uint32_t send_flags);

/**
 * Queues a binary message, or one fragment of it when `send_flags` has
 * WS_SEND_MORE. The bytes are copied; `data` may be NULL when `len` is 0.
 *
 * Returns WS_OK; WS_ERR_NULL_ARGUMENT; WS_ERR_INVALID_ARGUMENT (unknown flag
 * bits); WS_ERR_WRONG_STATE (not OPEN / REMOTE_CLOSING, or a text message is
 * being fragmented); WS_ERR_RNG; WS_ERR_NO_MEMORY. Nothing is queued on error.
 */
ws_result_t ws_conn_send_binary(struct ws_conn_t *conn,
                                const void *data,
                                size_t len,
                                uint32_t send_flags);

/**
 * Queues a ping with payload `data[0..len)` (at most 125 bytes, copied;
 * NULL allowed when `len` is 0).
 *
 * Returns WS_OK; WS_ERR_NULL_ARGUMENT; WS_ERR_INVALID_ARGUMENT (payload >
 * 125); WS_ERR_WRONG_STATE; WS_ERR_RNG; WS_ERR_NO_MEMORY. Nothing is queued
 * on error.
 */
ws_result_t ws_conn_send_ping(struct ws_conn_t *conn, const void *data, size_t len);

/**
 * Queues a pong (unsolicited, or a manual answer when auto-pong is off);
 * same rules as ws_conn_send_ping().
 */
ws_result_t ws_conn_send_pong(struct ws_conn_t *conn, const void *data, size_t len);

/**
 * Starts (or answers) the closing handshake: queues a close frame with
 * `code` and the UTF-8 `reason[0..reason_len)` (at most 123 bytes, copied;
 * NULL allowed when `reason_len` is 0). `code` 0 or 1005 ("no status
 * code", as a WS_EVENT_CLOSE reports it, so a close can be echoed as is)
 * sends a close frame without a status code; then the reason must be
 * empty. After our close
 * frame, no more data may be sent; keep reading until the peer's close
 * (WS_EVENT_CLOSE), then ws_conn_wants_close_transport() turns true.
 *
 * Returns WS_OK; WS_ERR_NULL_ARGUMENT; WS_ERR_INVALID_ARGUMENT (code not
 * sendable per RFC 6455 7.4, reason too long or not UTF-8); WS_ERR_WRONG_STATE
 * (close already sent, or not open); WS_ERR_RNG; WS_ERR_NO_MEMORY. Nothing
 * is queued on error.
 */
ws_result_t ws_conn_send_close(struct ws_conn_t *conn,
                               uint16_t code,
                               const void *reason,
                               size_t reason_len);

/**
 * Number of bytes waiting to be written to the transport. NULL or poisoned -> 0.
 */
size_t ws_conn_output_len(const struct ws_conn_t *conn);

/**
 * Copies min(`cap`, pending) output bytes into `buf` and consumes them;
 * `*out_len` receives the count. `buf` may be NULL when `cap` is 0.
 *
 * Returns WS_OK; WS_ERR_NULL_ARGUMENT (`conn`, `out_len`, or `buf` with
 * `cap` > 0).
 */
ws_result_t ws_conn_output_copy(struct ws_conn_t *conn, void *buf, size_t cap, size_t *out_len);

/**
 * Zero-copy view of the pending output: `*out_ptr` / `*out_len` receive the
 * bytes waiting to be written (`*out_len` may be 0). The bytes belong to the
 * connection and stay valid until the next call that takes a non-const
 * `ws_conn_t *`. After writing some of them to the transport, call
 * ws_conn_output_consume() with the count written.
 *
 * Returns WS_OK; WS_ERR_NULL_ARGUMENT; WS_ERR_POISONED; WS_ERR_PANIC;
 * WS_ERR_WRONG_STATE (called from the connection's own RNG callback).
 */
ws_result_t ws_conn_output_peek(const struct ws_conn_t *conn,
                                const uint8_t **out_ptr,
                                size_t *out_len);

/**
 * Marks the first `n` pending output bytes as written (after a full or
 * partial write of what ws_conn_output_peek() showed).
 *
 * Returns WS_OK; WS_ERR_NULL_ARGUMENT; WS_ERR_INVALID_ARGUMENT if `n` is
 * more than ws_conn_output_len() (nothing consumed).
 */
ws_result_t ws_conn_output_consume(struct ws_conn_t *conn, size_t n);

/**
 * True once the closing handshake is done (or the connection failed, or a
 * rejection was fully sent) and all output has been written: close the
 * transport now. NULL -> false; a poisoned connection -> true.
 */
bool ws_conn_wants_close_transport(const struct ws_conn_t *conn);

/**
 * True when the caller should read from the transport and feed the bytes
 * now. False while input already received waits to be parsed (events,
 * including a rejection body's, wait to be taken, or output is at its
 * high-water mark: write it out, then poll
 * events until WS_EVENT_NONE, which resumes parsing), while a server's
 * request waits for ws_conn_accept()/ws_conn_reject(), and once input is no
 * longer read (closed, failed, end of input). An event loop reads the
 * socket only while it is true, and polls events again after writing
 * output. NULL, poisoned, or called from the connection's own RNG
 * callback -> false.
 */
bool ws_conn_wants_read(const struct ws_conn_t *conn);

/**
 * Bytes the connection holds now, as the memory budget counts them: the
 * capacity of every buffer (unparsed input, the message being assembled,
 * events not yet taken, output not yet written), handshake data, the lists
 * of the last handshake event and compressor state. The connection handle
 * itself (about 1 KiB) is not included. NULL or poisoned -> 0.
 */
size_t ws_conn_memory_used(const struct ws_conn_t *conn);

/**
 * Input bytes held while waiting for a complete handshake head or frame
 * (bounded by the configured limits). NULL or poisoned -> 0.
 */
size_t ws_conn_buffered_input(const struct ws_conn_t *conn);

/**
 * Server, after ws_conn_receive() returned WS_ERR_HANDSHAKE: the HTTP status
 * to reject with: 400 (malformed request), 426 (missing or unsupported
 * Sec-WebSocket-Version; the rejection then carries
 * Sec-WebSocket-Version: 13) or 431 (head too large / too many headers).
 * 0 otherwise, and for NULL or a poisoned connection.
 */
uint16_t ws_conn_handshake_status_hint(const struct ws_conn_t *conn);

/**
 * The detailed message of the most recent error returned by a function
 * taking this connection (it is kept until the next error, successes do
 * not clear it); "" if there was none. NUL-terminated; owned by the
 * connection and valid until the next call that takes a non-const
 * `ws_conn_t *`; do not free it. NULL -> "".
 */
const char *ws_conn_last_error(const struct ws_conn_t *conn);

/**
 * Turns permessage-deflate on (`on` true, with defaults: a client offers
 * `permessage-deflate; client_max_window_bits`, a server accepts offers
 * with windows up to 15 bits, level 6, no threshold) or off.
 *
 * Memory (zlib state, per connection, exact; `cargo run --release
 * --example memory`): the inflater takes 46.6 KiB whatever the window; the
 * compressor about 128 KiB + 4 * 2^window_bits + 7 * 2^(mem_level + 6)
 * bytes: 371 KiB at 15 bits and memLevel 8, 134 KiB at 9 bits and
 * memLevel 1. Each is created when the first compressed message needs it.
 * With context takeover both stay for the connection's life (418 KiB in
 * all by default; lower it with ws_config_set_deflate_accept() windows and
 * ws_config_set_deflate_mem_level()). Where no context takeover was
 * negotiated (the peer's flag for the inflater, ours for the compressor),
 * a state is freed after each message, so an idle connection holds none,
 * at the cost of creating it again for the next message. See
 * ws_config_set_deflate_warm_up() for the opposite trade.
 *
 * Returns WS_OK, or WS_ERR_NULL_ARGUMENT if `cfg` is NULL.
 */
ws_result_t ws_config_set_deflate(struct ws_config_t *cfg, bool on);

/**
 * Client: the offers to send, in order of preference (each one a
 * permessage-deflate element of Sec-WebSocket-Extensions). Turns
 * permessage-deflate on. `offers[0..count)` is copied.
 *
 * Returns WS_OK; WS_ERR_NULL_ARGUMENT if `cfg` or `offers` is NULL;
 * WS_ERR_INVALID_ARGUMENT if `count` is 0 or a window is not 0 or 9..=15
 * (config unchanged).
 */
ws_result_t ws_config_set_deflate_offers(struct ws_config_t *cfg,
                                         const struct ws_deflate_params_t *offers,
                                         size_t count);

/**
 * What a server accepts: `max_window_bits` (9..=15) caps the window it
 * compresses with, and the client_max_window_bits it asks of a client whose
 * offer carries that parameter (RFC 7692 §7.1.2.2: a client that did not
 * offer it cannot be limited, and the server then accepts its 15-bit
 * window); the two flags ask for no context takeover in each direction.
 * For a client, `max_window_bits` caps the server_max_window_bits of its
 * offers. Turns permessage-deflate on.
 *
 * The peer's negotiated window is not enforced on receive: the inflater
 * always holds a 32 KiB window (46.6 KiB of state in all, whatever the
 * window) and decodes a peer that refers further back than it negotiated,
 * as zlib does. Such a peer gains nothing (our memory does not depend on
 * its window); detecting it would take a second DEFLATE decoder. The
 * window only lowers what our compressor holds.
 *
 * Returns WS_OK; WS_ERR_NULL_ARGUMENT if `cfg` is NULL;
 * WS_ERR_INVALID_ARGUMENT if `max_window_bits` is not 9..=15 (config unchanged).
 */
ws_result_t ws_config_set_deflate_accept(struct ws_config_t *cfg,
                                         uint8_t max_window_bits,
                                         bool server_no_context_takeover,
                                         bool client_no_context_takeover);

/**
 * Compression level 0..=9 (default 6; 1 is fastest, 9 smallest) and the
 * size threshold: whole messages shorter than `threshold` bytes are sent
 * uncompressed (default 0: compress everything). Turns permessage-deflate on.
 *
 * Returns WS_OK; WS_ERR_NULL_ARGUMENT if `cfg` is NULL;
 * WS_ERR_INVALID_ARGUMENT if `level` > 9 (config unchanged).
 */
ws_result_t ws_config_set_deflate_compression(struct ws_config_t *cfg,
                                              uint8_t level,
                                              size_t threshold);

/**
 * The compressor's zlib memory level, 1..=9 (default 8): its block buffers
 * take 7 * 2^(mem_level + 6) bytes (112 KiB at 8, 896 bytes at 1). A lower
 * level saves memory at a small cost in compression ratio; the wire format
 * does not change. Applies to every connection later made from `cfg`.
 * Turns permessage-deflate on.
 *
 * Returns WS_OK; WS_ERR_NULL_ARGUMENT if `cfg` is NULL;
 * WS_ERR_INVALID_ARGUMENT if `mem_level` is not 1..=9 (config unchanged).
 */
ws_result_t ws_config_set_deflate_mem_level(struct ws_config_t *cfg, uint8_t mem_level);

/**
 * Warm-up (`warm_up` true; default false): a connection made from `cfg`
 * creates its inflater and compressor as soon as permessage-deflate is
 * negotiated (server: in ws_conn_accept(); client: when the server's
 * response is received; frames-only: at creation), and keeps both for its
 * whole life, also with no context takeover (the compressor is then reset
 * after each message instead of freed). The first compressed message then
 * allocates no zlib state (no first-message stall), and once the
 * connection's own buffers have grown to the message size, messages
 * allocate nothing at all (tests/deflate_warm.rs) provided idle buffers are
 * kept: set ws_config_set_idle_buffer_retain() to at least your usual
 * message size (the default, 1 KiB, frees larger buffers between
 * messages). The price is that
 * memory, held while idle (418 KiB with the defaults, see
 * ws_config_set_deflate()).
 *
 * Without warm-up, states are created on first use and freed between
 * messages where no context takeover allows, which costs time per
 * message: compressing and inflating a 1 KB message with no context
 * takeover takes about twice as long with the states freed each time as
 * warm (`cargo run --release --example memory` prints both).
 *
 * If memory runs out during warm-up, the states are created on first use
 * instead. Turns permessage-deflate on.
 *
 * Returns WS_OK, or WS_ERR_NULL_ARGUMENT if `cfg` is NULL.
 */
ws_result_t ws_config_set_deflate_warm_up(struct ws_config_t *cfg, bool warm_up);

/**
 * The permessage-deflate parameters in force on `conn`: true and `*out`
 * written when compression was negotiated (or given to a frames-only
 * connection); false otherwise, and for NULL or poisoned connections.
 * `out` may be NULL to only ask whether it was negotiated.
 */
bool ws_conn_deflate_params(const struct ws_conn_t *conn, struct ws_deflate_params_t *out);

/**
 * ws_conn_new_frames_only() for a connection whose handshake, done
 * elsewhere, negotiated permessage-deflate with `params` (copied; windows
 * 9..=15). The config's deflate options (level, threshold) apply. As there:
 * `cfg` may be NULL (defaults) and is copied; `trailing[0..trailing_len)` is
 * copied and parsed (NULL allowed when the length is 0); on WS_OK `*out`
 * receives a connection the caller owns and must release with ws_conn_free().
 *
 * Returns WS_OK; WS_ERR_NULL_ARGUMENT if `out` or `params` is NULL, or
 * `trailing` is NULL with a non-zero length; WS_ERR_INVALID_ARGUMENT for a
 * bad `role` or window; WS_ERR_NO_MEMORY (nothing was created);
 * WS_ERR_PANIC.
 */
ws_result_t ws_conn_new_frames_only_deflate(const struct ws_config_t *cfg,
                                            ws_role_t role,
                                            const struct ws_deflate_params_t *params,
                                            const void *trailing,
                                            size_t trailing_len,
                                            struct ws_conn_t **out);

/**
 * Takes the next pending event into `*out` (the whole struct is
 * overwritten; unused fields are zeroed). When nothing is pending, returns
 * WS_OK with `out->type == WS_EVENT_NONE`: feed more input then. Call it in
 * a loop after every ws_conn_receive()/ws_conn_receive_eof() until NONE.
 * Pointers in `*out` borrow from the connection until its next mutating
 * call (see ws_event_t).
 *
 * Taking an event may do work: releasing what earlier events borrowed,
 * parsing input held back while parsing was paused, and, for a
 * WS_EVENT_CLOSE, queueing the automatic close reply or the close frame
 * that fails the connection.
 *
 * Returns WS_OK; WS_ERR_NULL_ARGUMENT (`*out` untouched); WS_ERR_POISONED;
 * WS_ERR_PANIC. With the event still written to `*out`: WS_ERR_RNG (the
 * random source failed while masking an automatic close reply or pong,
 * client role; that frame was not sent: close the transport once the output
 * is written), WS_ERR_NO_MEMORY (parsing held-back input failed for lack of
 * memory; the connection has failed, its WS_EVENT_CLOSE 1011 follows).
 */
ws_result_t ws_conn_poll_event(struct ws_conn_t *conn, struct ws_event_t *out);

/**
 * Batch poll: takes up to `cap` pending events into `out[0..cap)`, in
 * order, and stores how many in `*out_count` (0: nothing pending, feed more
 * input). One call instead of one per event, and 32 bytes filled per event
 * instead of ws_event_t's 128: for the data phase of a busy connection.
 *
 * The data of every event of one call stays valid together, until the next
 * call that takes a non-const `ws_conn_t *` (except that, as for
 * ws_event_t, it may be passed to a send or encode call on this
 * connection). `out` is written during the call only.
 *
 * A CLOSE event is only ever the first (and then the only) event of a
 * batch: the events before it come in the batch before, so they can still
 * be answered (sent back) before the close reply is queued, which happens
 * when the CLOSE is taken. The batch stops after it.
 *
 * Handshake events (REQUEST, ACCEPT, REJECT) are not delivered here: the
 * batch stops before one, and if one is next, the call returns
 * WS_ERR_WRONG_STATE with `*out_count` 0: take it with ws_conn_poll_event().
 * Mixing both calls is allowed.
 *
 * Returns WS_OK; WS_ERR_NULL_ARGUMENT (`out_count`, or `out` with `cap` >
 * 0); WS_ERR_WRONG_STATE (a handshake event is next); WS_ERR_POISONED;
 * WS_ERR_PANIC. As ws_conn_poll_event(): WS_ERR_RNG or WS_ERR_NO_MEMORY
 * with the event that caused it as the last one counted in `*out_count`
 * (the batch stops there).
 */
ws_result_t ws_conn_poll_events(struct ws_conn_t *conn,
                                struct ws_event_compact_t *out,
                                size_t cap,
                                size_t *out_count);

/**
 * Creates a handle for one extended CONNECT request. `cfg` may be NULL
 * (defaults: permessage-deflate off); it is copied (only its
 * permessage-deflate settings matter here: what the server accepts), so the
 * caller may free it right away. On WS_OK `*out` receives a handle the
 * caller owns and must release with ws_h2_connect_free().
 *
 * Returns WS_OK; WS_ERR_NULL_ARGUMENT if `out` is NULL; WS_ERR_PANIC.
 */
ws_result_t ws_h2_connect_new(const struct ws_config_t *cfg, struct ws_h2_connect_t **out);

/**
 * Frees a handle and everything it owns (pointers it handed out become
 * invalid). NULL is a no-op.
 */
void ws_h2_connect_free(struct ws_h2_connect_t *h);

/**
 * Validates the request's decoded field list `fields[0..fields_len)`, as
 * an HTTP/2 (or HTTP/3) library delivers it: lowercase names,
 * pseudo-header fields first (each name/value a byte string; copied; NULL
 * allowed for a length of 0). Checked: `:method` CONNECT, `:protocol`
 * websocket, `:scheme` http or https, `:path` starting with '/', a
 * non-empty `:authority`, each pseudo-header once and before every regular
 * field, no unknown pseudo-header, lowercase names, values without
 * NUL/CR/LF or surrounding whitespace, no connection-specific field
 * (connection, upgrade, keep-alive, proxy-connection, transfer-encoding; te
 * only as "trailers"), exactly one `sec-websocket-version: 13`, and
 * subprotocols in `sec-websocket-protocol` that are tokens. There is no
 * Sec-WebSocket-Key over HTTP/2 (RFC 8441 §5); one that is present is
 * ignored. Call it once per handle.
 *
 * Returns WS_OK (next: ws_h2_connect_request(), ws_h2_connect_accept());
 * WS_ERR_HANDSHAKE (the request is malformed or not a WebSocket extended
 * CONNECT: answer the stream with ws_h2_connect_status_hint(), 400, adding
 * `sec-websocket-version: 13` if the version was the problem; details in
 * ws_h2_connect_last_error()); WS_ERR_NULL_ARGUMENT; WS_ERR_WRONG_STATE
 * (called before on this handle).
 */
ws_result_t ws_h2_connect_receive(struct ws_h2_connect_t *h,
                                  const struct ws_header_t *fields,
                                  size_t fields_len);

/**
 * The valid request as a WS_EVENT_REQUEST written to `*out`: `target` is
 * `:path`, `host` is `:authority`, `subprotocols` the offered ones in order,
 * `extensions` the offered sec-websocket-extensions values (joined with
 * ", "), `headers` every field as received, pseudo-headers included.
 * Pointers in `*out` borrow from the handle until its next non-const call
 * or ws_h2_connect_free().
 *
 * Returns WS_OK; WS_ERR_NULL_ARGUMENT; WS_ERR_WRONG_STATE (no valid request
 * received; `*out` untouched).
 */
ws_result_t ws_h2_connect_request(struct ws_h2_connect_t *h, struct ws_event_t *out);

/**
 * Accepts the request: `subprotocol[0..subprotocol_len)` is the one chosen
 * from the offered list (NULL or length 0 = none); permessage-deflate is
 * negotiated from the config given to ws_h2_connect_new(), exactly as
 * ws_conn_accept() does; `extra_headers` (lowercase token names, not
 * pseudo-headers, connection-specific fields or the sec-websocket-protocol/
 * -extensions fields the engine writes; UTF-8) follow. Everything is copied.
 *
 * On WS_OK `*fields_out` points to `*fields_len` response fields to send
 * with your HTTP/2 or HTTP/3 stack, in order: `:status` `200`, then
 * `sec-websocket-protocol` and `sec-websocket-extensions` when chosen, then
 * the extra headers. They borrow from the handle until
 * ws_h2_connect_free(). Next: ws_h2_connect_new_conn().
 *
 * Returns WS_OK; WS_ERR_NULL_ARGUMENT; WS_ERR_INVALID_ARGUMENT (subprotocol
 * not offered or not a token, bad extra header, not UTF-8; nothing changes,
 * the call may be retried); WS_ERR_WRONG_STATE (no valid request, or
 * already accepted).
 */
ws_result_t ws_h2_connect_accept(struct ws_h2_connect_t *h,
                                 const void *subprotocol,
                                 size_t subprotocol_len,
                                 const struct ws_header_t *extra_headers,
                                 size_t extra_headers_len,
                                 const struct ws_header_t **fields_out,
                                 size_t *fields_len);

/**
 * After ws_h2_connect_accept(): true and `*out` written (when `out` is not
 * NULL) if permessage-deflate was negotiated; false otherwise, and for a
 * NULL handle.
 */
bool ws_h2_connect_deflate_params(const struct ws_h2_connect_t *h, struct ws_deflate_params_t *out);

/**
 * After ws_h2_connect_accept(): creates the server's frames-only
 * connection (WS_STATE_OPEN) for the stream, with the negotiated
 * permessage-deflate parameters, if any. `cfg` gives its limits and
 * options; pass the config given to ws_h2_connect_new() (NULL = defaults);
 * it is copied. `trailing[0..trailing_len)` are stream DATA bytes already
 * received (copied and parsed as frames; NULL allowed when the length is
 * 0). Feed further DATA with ws_conn_receive(), send the output as DATA,
 * and end the stream once ws_conn_wants_close_transport() is true. On WS_OK
 * `*out` receives a connection the caller owns and must release with
 * ws_conn_free(); the handle may be freed at once.
 *
 * Returns WS_OK; WS_ERR_NULL_ARGUMENT (`out` NULL, or `trailing` NULL with
 * a non-zero length); WS_ERR_WRONG_STATE (not accepted yet); WS_ERR_PANIC.
 */
ws_result_t ws_h2_connect_new_conn(const struct ws_h2_connect_t *h,
                                   const struct ws_config_t *cfg,
                                   const void *trailing,
                                   size_t trailing_len,
                                   struct ws_conn_t **out);

/**
 * After WS_ERR_HANDSHAKE from ws_h2_connect_receive(): the status to answer
 * the stream with (400); 0 otherwise, and for a NULL handle.
 */
uint16_t ws_h2_connect_status_hint(const struct ws_h2_connect_t *h);

/**
 * The detailed message of the most recent error returned by a function
 * taking this handle; "" if there was none. NUL-terminated; owned by the
 * handle and valid until its next non-const call or ws_h2_connect_free();
 * do not free it. NULL -> "".
 */
const char *ws_h2_connect_last_error(const struct ws_h2_connect_t *h);

/**
 * Server, on a fresh connection from ws_conn_new_server() that has received
 * nothing yet: takes an upgrade request that another HTTP/1.1 parser has
 * already read (an HTTP server, llhttp, picohttpparser, an nginx or h2o
 * module; Python wsproto's initiate_upgrade_connection), instead of
 * ws_conn_receive(). `method` and `target` are as in the request line (the
 * version is taken to be HTTP/1.1: do not pass HTTP/1.0 requests);
 * `headers` are the header fields as received, in order (byte strings,
 * not necessarily UTF-8); `trailing` are bytes the parser read past the
 * head (frames the client sent early), kept until ws_conn_accept() as with
 * ws_conn_receive(). Everything is copied; every pointer may be NULL when
 * its length is 0.
 *
 * The request is validated exactly as if it had arrived on the wire (it is
 * rebuilt into the head it stands for and parsed by the same code, under the
 * same limits), so on WS_OK a WS_EVENT_REQUEST is pending: poll it, then
 * answer with ws_conn_accept() or ws_conn_reject() and write out the output.
 *
 * Returns WS_OK; WS_ERR_NULL_ARGUMENT; WS_ERR_HANDSHAKE (the request is
 * invalid, or cannot be written as an HTTP/1.1 head: a method or target
 * with whitespace or control characters, a header name that is not a
 * token, a value with CR, LF or NUL; answer with ws_conn_reject() using
 * ws_conn_handshake_status_hint(): 400, 426 or 431);
 * WS_ERR_WRONG_STATE (a client, or a server that has already received
 * input; nothing changes).
 */
ws_result_t ws_conn_receive_request(struct ws_conn_t *conn,
                                    const void *method,
                                    size_t method_len,
                                    const void *target,
                                    size_t target_len,
                                    const struct ws_header_t *headers,
                                    size_t headers_len,
                                    const void *trailing,
                                    size_t trailing_len);

/**
 * Client: queues the HTTP upgrade request. `host` (the Host header value,
 * e.g. "example.com:8080") and `target` (e.g. "/chat") are UTF-8 byte
 * strings with explicit lengths; `subprotocols` lists the offered
 * subprotocols in order of preference; `extra_headers` are added verbatim
 * (e.g. Origin, Authorization). Everything is copied; every array and string
 * pointer may be NULL when its length is 0. A fresh Sec-WebSocket-Key is
 * drawn from the random source. Next: write out the output, feed the
 * server's answer with ws_conn_receive(), poll for WS_EVENT_ACCEPT or
 * WS_EVENT_REJECT.
 *
 * Returns WS_OK; WS_ERR_NULL_ARGUMENT; WS_ERR_INVALID_ARGUMENT (empty or
 * malformed host/target, subprotocol not a token, bad header name/value,
 * not UTF-8); WS_ERR_WRONG_STATE (not a client, or already sent);
 * WS_ERR_RNG. Nothing is queued on error.
 */
ws_result_t ws_conn_send_request(struct ws_conn_t *conn,
                                 const void *host,
                                 size_t host_len,
                                 const void *target,
                                 size_t target_len,
                                 const struct ws_str_t *subprotocols,
                                 size_t subprotocols_len,
                                 const struct ws_header_t *extra_headers,
                                 size_t extra_headers_len);

/**
 * Server, after WS_EVENT_REQUEST: queues the 101 Switching Protocols
 * response; the connection becomes OPEN. `subprotocol` is the one chosen
 * from the offered list (NULL or length 0 = none); `extra_headers` are added
 * verbatim. Everything is copied. Next: write out the output, then exchange
 * frames.
 *
 * Returns WS_OK; WS_ERR_NULL_ARGUMENT; WS_ERR_INVALID_ARGUMENT (subprotocol
 * not offered by the client or not a token, bad header); WS_ERR_WRONG_STATE
 * (no request received yet, not a server, already answered, or the client
 * is gone: end of input or closed). Nothing is queued on error. The request's data (and a WS_EVENT_REQUEST not yet taken) is
 * released once it is answered.
 */
ws_result_t ws_conn_accept(struct ws_conn_t *conn,
                           const void *subprotocol,
                           size_t subprotocol_len,
                           const struct ws_header_t *extra_headers,
                           size_t extra_headers_len);

/**
 * Server: queues a rejection response head with HTTP `status` and
 * `headers` (copied; NULL allowed when `headers_len` is 0), either in
 * answer to a WS_EVENT_REQUEST or after ws_conn_receive() returned
 * WS_ERR_HANDSHAKE (use ws_conn_handshake_status_hint() as the status).
 * `status` must be a final status, 200..599 (1xx are interim responses the
 * client would keep waiting after; 101 would accept).
 * `has_body` false: the response is complete (Content-Length: 0 is added
 * unless given, except for 204 and 304) and the connection is CLOSED once
 * the output is written.
 * `has_body` true: state REJECTING; send the body with ws_conn_reject_data()
 * (give Content-Length or close the transport after the body). 204 and 304
 * never have a body: `has_body` must be false for them, a 204 may not carry
 * Content-Length or Transfer-Encoding, a 304 not Transfer-Encoding.
 *
 * Returns WS_OK; WS_ERR_NULL_ARGUMENT; WS_ERR_INVALID_ARGUMENT (status not
 * in 200..599, a body or body framing header for 204/304, bad header);
 * WS_ERR_WRONG_STATE (not a server, already answered, or the client is
 * gone: end of input or closed). Nothing is queued and nothing changes on
 * error.
 */
ws_result_t ws_conn_reject(struct ws_conn_t *conn,
                           uint16_t status,
                           const struct ws_header_t *headers,
                           size_t headers_len,
                           bool has_body);

/**
 * Server, in WS_STATE_REJECTING: queues `data[0..len)` of the rejection body
 * (copied; NULL allowed when `len` is 0). `body_finished` true ends the
 * body; the connection is CLOSED once the output is written.
 *
 * Returns WS_OK; WS_ERR_NULL_ARGUMENT; WS_ERR_WRONG_STATE (not rejecting with
 * a body, or the body already finished).
 */
ws_result_t ws_conn_reject_data(struct ws_conn_t *conn,
                                const void *data,
                                size_t len,
                                bool body_finished);

/**
 * Computes the Sec-WebSocket-Accept value for a Sec-WebSocket-Key
 * (base64(SHA-1(key ++ RFC 6455 GUID))), e.g. for a handshake done outside
 * this library. `key[0..key_len)` must be the base64 of 16 bytes (24
 * chars). Writes exactly 28 chars to `out` (no NUL terminator) and 28 to
 * `*out_len`. Needs no connection; thread-safe.
 *
 * Returns WS_OK; WS_ERR_NULL_ARGUMENT (`key`, `out` or `out_len` NULL);
 * WS_ERR_INVALID_ARGUMENT (key is not base64 of 16 bytes);
 * WS_ERR_BUFFER_TOO_SMALL (`out_cap` < 28; nothing written).
 */
ws_result_t ws_accept_token(const void *key,
                            size_t key_len,
                            void *out,
                            size_t out_cap,
                            size_t *out_len);

/**
 * A static, NUL-terminated English description of a result code;
 * "unknown result" for a value that is not a ws_result_t. Never NULL; the
 * string lives for the whole program and must not be freed.
 */
const char *ws_result_str(ws_result_t r);

/**
 * The library version ("MAJOR.MINOR.PATCH", equal to WSPROTO_VERSION_STRING
 * of the header it was built with), a static NUL-terminated string; never
 * NULL, never freed. Thread-safe.
 */
const char *ws_version(void);

/**
 * The library version as one number, MAJOR * 10000 + MINOR * 100 + PATCH
 * (the form of WSPROTO_VERSION_NUMBER). Thread-safe.
 */
uint32_t ws_version_number(void);

/**
 * The ABI version the library was built with. A program or binding built
 * against a header whose WSPROTO_ABI_VERSION differs must not use this
 * library. Thread-safe.
 */
uint32_t ws_abi_version(void);

/**
 * `sizeof` of a public struct as the library was compiled (e.g.
 * `ws_abi_sizeof(WS_ABI_EVENT) == sizeof(ws_event_t)` when the header and
 * the library agree); 0 for a value that is not a ws_abi_struct_t.
 * Thread-safe.
 */
size_t ws_abi_sizeof(ws_abi_struct_t which);

#ifdef __cplusplus
}  // extern "C"
#endif  // __cplusplus

#endif  /* WSPROTO_H */
