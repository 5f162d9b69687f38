/* ws_set_allocator: every allocation of the library goes through the hook.
 *
 * The hook is a counting bump allocator over its own mmap'd arena (it never
 * calls malloc), so the test can tell its memory from the C heap's:
 *   - installing is refused for NULL arguments, accepted once before any
 *     other call, refused afterwards;
 *   - eight client/server pairs with permessage-deflate (handshake,
 *     compressed messages both ways) hold hundreds of KiB through the hook
 *     while the C heap grows by (almost) nothing: with a sanitizer the
 *     sanitizer's count of malloc'd bytes, otherwise glibc's mallinfo2();
 *   - every block is freed with the size and alignment it was allocated
 *     with, and once everything is freed nothing is left;
 *   - an allocator that fails gives ws_config_new() == NULL and an error
 *     from the ws_conn_new_* functions, not an abort. */
#define _DEFAULT_SOURCE /* MAP_ANONYMOUS, MAP_NORESERVE */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include "check.h"

#if defined(__SANITIZE_ADDRESS__)
#define WS_TEST_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define WS_TEST_ASAN 1
#endif
#endif
#ifdef WS_TEST_ASAN
/* From the sanitizer runtime (sanitizer/allocator_interface.h, which not
 * every compiler installation ships). */
size_t __sanitizer_get_current_allocated_bytes(void);
static size_t heap_bytes(void) { return __sanitizer_get_current_allocated_bytes(); }
#else
#include <malloc.h>
static size_t heap_bytes(void) { return mallinfo2().uordblks; }
#endif

/* ---- the counting allocator */

#define ARENA_SIZE ((size_t)512 << 20)
#define TABLE_SIZE (1u << 18) /* live blocks tracked, open addressing */

struct block {
  void *ptr;
  size_t size, align;
};

static struct {
  uint8_t *arena;
  size_t used;
  int fail; /* non-zero: every allocation fails */
  size_t allocs, frees, reallocs, failed;
  size_t live_bytes, peak_bytes;
  size_t bad_frees; /* unknown pointer, or size/alignment not as allocated */
  struct block table[TABLE_SIZE];
} A;

#define TOMBSTONE ((void *)1)

static size_t slot(void *p) { return (size_t)(((uintptr_t)p >> 4) * 2654435761u) & (TABLE_SIZE - 1); }

static void track(void *p, size_t size, size_t align) {
  size_t i = slot(p);
  while (A.table[i].ptr && A.table[i].ptr != TOMBSTONE) i = (i + 1) & (TABLE_SIZE - 1);
  A.table[i] = (struct block){p, size, align};
}

/* Removes `p` from the table; 0 if it was not there with this size/align. */
static int untrack(void *p, size_t size, size_t align) {
  size_t i = slot(p);
  while (A.table[i].ptr && A.table[i].ptr != p) i = (i + 1) & (TABLE_SIZE - 1);
  if (!A.table[i].ptr) return 0;
  A.table[i].ptr = TOMBSTONE;
  return A.table[i].size == size && A.table[i].align == align;
}

static void *count_alloc(void *ud, size_t size, size_t align) {
  (void)ud;
  if (A.fail || size == 0) {
    A.failed++;
    return NULL;
  }
  size_t start = (A.used + align - 1) & ~(align - 1);
  if (start + size > ARENA_SIZE) {
    A.failed++;
    return NULL;
  }
  A.used = start + size;
  void *p = A.arena + start;
  A.allocs++;
  A.live_bytes += size;
  if (A.live_bytes > A.peak_bytes) A.peak_bytes = A.live_bytes;
  track(p, size, align);
  return p;
}

static void count_free(void *ud, void *ptr, size_t size, size_t align) {
  (void)ud;
  if (!untrack(ptr, size, align)) A.bad_frees++;
  A.frees++;
  A.live_bytes -= size;
}

static void *count_realloc(void *ud, void *ptr, size_t old_size, size_t align, size_t new_size) {
  void *p = count_alloc(ud, new_size, align);
  if (!p) return NULL;
  memcpy(p, ptr, old_size < new_size ? old_size : new_size);
  count_free(ud, ptr, old_size, align);
  A.reallocs++;
  return p;
}

/* ---- a deflate client/server pair talking in memory */

static void pump(ws_conn_t *from, ws_conn_t *to) {
  const uint8_t *out;
  size_t len;
  CHECK_RC(from, ws_conn_output_peek(from, &out, &len), WS_OK);
  if (len) {
    CHECK_RC(to, ws_conn_receive(to, out, len), WS_OK);
    CHECK_RC(from, ws_conn_output_consume(from, len), WS_OK);
  }
}

static ws_event_t next(ws_conn_t *c) {
  ws_event_t ev;
  CHECK_RC(c, ws_conn_poll_event(c, &ev), WS_OK);
  return ev;
}

static uint8_t message[64 << 10];

static void open_pair(const ws_config_t *cfg, ws_conn_t **client, ws_conn_t **server) {
  CHECK_RC(NULL, ws_conn_new_client(cfg, client), WS_OK);
  CHECK_RC(NULL, ws_conn_new_server(cfg, server), WS_OK);
  ws_conn_t *c = *client, *s = *server;
  CHECK_RC(c, ws_conn_send_request(c, "example.com", 11, "/", 1, NULL, 0, NULL, 0), WS_OK);
  pump(c, s);
  CHECK(next(s).type == WS_EVENT_REQUEST);
  CHECK_RC(s, ws_conn_accept(s, NULL, 0, NULL, 0), WS_OK);
  pump(s, c);
  CHECK(next(c).type == WS_EVENT_ACCEPT);
  CHECK(ws_conn_deflate_params(c, NULL) && ws_conn_deflate_params(s, NULL));
  /* A compressed message each way: both compressors and inflaters exist. */
  CHECK_RC(c, ws_conn_send_binary(c, message, sizeof message, 0), WS_OK);
  pump(c, s);
  ws_event_t ev = next(s);
  CHECK(ev.type == WS_EVENT_BINARY && ev.len == sizeof message && memcmp(ev.data, message, sizeof message) == 0);
  CHECK_RC(s, ws_conn_send_text(s, "hello", 5, 0), WS_OK);
  pump(s, c);
  ev = next(c);
  CHECK(ev.type == WS_EVENT_TEXT && ev.len == 5);
}

int main(void) {
  A.arena = mmap(NULL, ARENA_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (A.arena == MAP_FAILED) {
    perror("mmap");
    return 1;
  }
  for (size_t i = 0; i < sizeof message; i++) message[i] = (uint8_t)("abcdefgh"[i % 8] + (i / 4096) % 7);

  /* Installing: NULL arguments refused, then accepted once, first. */
  ws_allocator_t hook = {.allocate = count_alloc, .reallocate = count_realloc, .deallocate = count_free};
  ws_allocator_t no_free = {.allocate = count_alloc};
  CHECK_RC(NULL, ws_set_allocator(NULL), WS_ERR_NULL_ARGUMENT);
  CHECK_RC(NULL, ws_set_allocator(&no_free), WS_ERR_NULL_ARGUMENT);
  CHECK_RC(NULL, ws_set_allocator(&hook), WS_OK);
  CHECK_RC(NULL, ws_set_allocator(&hook), WS_ERR_WRONG_STATE);
  CHECK(A.allocs == 0);

  /* Everything the library holds comes from the hook. */
  size_t heap_before = heap_bytes();
  ws_config_t *cfg = ws_config_new();
  CHECK(cfg != NULL);
  CHECK_RC(NULL, ws_config_set_deflate(cfg, true), WS_OK);
  enum { PAIRS = 8 };
  ws_conn_t *clients[PAIRS] = {0}, *servers[PAIRS] = {0};
  for (int i = 0; i < PAIRS; i++) open_pair(cfg, &clients[i], &servers[i]);
  size_t held = A.live_bytes;
  size_t heap_after = heap_bytes();
  size_t heap_growth = heap_after > heap_before ? heap_after - heap_before : 0;
  CHECK(A.allocs > 0);
  /* Each pair holds two inflaters and two compressors (hundreds of KiB). */
  CHECK(held > (size_t)PAIRS * (256 << 10));
  /* Nothing of that size went to malloc (a little slack for the C
   * runtime's own bookkeeping). */
  CHECK(heap_growth < (16 << 10));
  for (int i = 0; i < PAIRS; i++) {
    ws_conn_free(clients[i]);
    ws_conn_free(servers[i]);
  }
  ws_config_free(cfg);
  CHECK(A.live_bytes == 0);
  CHECK(A.allocs == A.frees);
  CHECK(A.bad_frees == 0);

  /* A failing allocator: errors, not aborts; nothing is written to *out. */
  A.fail = 1;
  CHECK(ws_config_new() == NULL);
  ws_conn_t *sentinel = (ws_conn_t *)&A, *c = sentinel;
  CHECK(ws_conn_new_server(NULL, &c) != WS_OK && c == sentinel);
  CHECK(ws_conn_new_client(NULL, &c) != WS_OK && c == sentinel);
  CHECK(ws_conn_new_frames_only(NULL, WS_ROLE_SERVER, NULL, 0, &c) != WS_OK && c == sentinel);
  CHECK(A.failed >= 4);
  A.fail = 0;
  c = NULL;
  CHECK_RC(NULL, ws_conn_new_server(NULL, &c), WS_OK);
  CHECK(c != NULL && ws_conn_state(c) == WS_STATE_CONNECTING);
  ws_conn_free(c);
  CHECK(A.live_bytes == 0);
  CHECK(A.bad_frees == 0);

  if (failures) {
    fprintf(stderr, "test_allocator: %d check(s) failed (held %zu, C heap growth %zu)\n", failures, held,
            heap_growth);
    return 1;
  }
  printf("test_allocator: ok: %zu allocations, %zu frees, %zu reallocs through the hook; %d deflate pairs held %zu "
         "bytes (peak %zu), C heap grew %zu bytes\n",
         A.allocs, A.frees, A.reallocs, PAIRS, held, A.peak_bytes, heap_growth);
  munmap(A.arena, ARENA_SIZE);
  return 0;
}
