/*
 * game_loop: wsproto embedded in a single-threaded fixed-timestep game loop.
 *
 * Every tick (default 60 Hz) the loop:
 *   1. accepts at most ACCEPTS_PER_TICK new connections (non-blocking);
 *   2. pumps each connection once: one non-blocking read of at most
 *      READ_BUDGET bytes (only while ws_conn_wants_read() and no refused
 *      bytes are waiting), ws_conn_receive, at most EVENT_BUDGET events
 *      taken, output written with what the socket takes;
 *   3. runs the game simulation (here: counts messages);
 *   4. sleeps until the next tick (absolute deadline, so ticks do not drift).
 * Work per tick is bounded by (connections x (READ_BUDGET bytes fed +
 * EVENT_BUDGET events)); anything left waits for the next tick, and the
 * engine pauses parsing (wants_read false) instead of buffering it.
 *
 * Memory: the connection table is static; the loop allocates nothing. The
 * engine allocates while buffers grow to their working size and then
 * reuses them: with idle_buffer_retain at least the largest message, the
 * steady state allocates nothing per message. --self-test proves it with a
 * counting allocator: through ws_set_allocator() when the header has it
 * (WSPROTO_ABI_VERSION), otherwise by linking the static library with
 * -Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc,--wrap=free (+
 * posix_memalign, aligned_alloc), which routes the library's calls into
 * __wrap_* below (no LD_PRELOAD). A bot client (a wsproto client on a
 * loopback socket, pumped by the same loop) sends messages; after a
 * warm-up the allocation counter must not move.
 *
 * Usage: game_loop [--port N] [--hz N] [--deflate]   (a server; prints
 *                   "listening on PORT"; echoes every message)
 *        game_loop --self-test                       (exit 0 on success)
 * Linux/POSIX sockets.
 */
#define _POSIX_C_SOURCE 200809L
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "wsproto.h"

#define MAX_CONNS 64
#define ACCEPTS_PER_TICK 8
#define READ_BUDGET (64 * 1024) /* bytes read and fed per connection per tick */
#define EVENT_BUDGET 64         /* events taken per connection per tick */
#define MAX_MESSAGE (16u << 20)

/* ---- counting allocator ------------------------------------------------ */

static unsigned long n_alloc, n_free;

#ifdef WSPROTO_ABI_VERSION
/* Issue 9's allocator hook: every allocation of the library comes here. */
static void *count_alloc(void *ud, size_t size, size_t align) {
  (void)ud;
  void *p = NULL;
  if (posix_memalign(&p, align < sizeof(void *) ? sizeof(void *) : align, size) != 0) return NULL;
  n_alloc++;
  return p;
}
static void count_free(void *ud, void *p, size_t size, size_t align) {
  (void)ud, (void)size, (void)align;
  n_free++;
  free(p);
}
static const char *install_counter(void) {
  ws_allocator_t a = {count_alloc, NULL, count_free, NULL};
  return ws_set_allocator(&a) == WS_OK ? "ws_set_allocator" : NULL;
}
#else
/* -Wl,--wrap=...: the static library's calls to malloc & co. land here. */
void *__real_malloc(size_t);
void *__real_calloc(size_t, size_t);
void *__real_realloc(void *, size_t);
void __real_free(void *);
int __real_posix_memalign(void **, size_t, size_t);
void *__real_aligned_alloc(size_t, size_t);
void *__wrap_malloc(size_t n) { n_alloc++; return __real_malloc(n); }
void *__wrap_calloc(size_t a, size_t b) { n_alloc++; return __real_calloc(a, b); }
void *__wrap_realloc(void *p, size_t n) { n_alloc++; if (p) n_free++; return __real_realloc(p, n); }
void __wrap_free(void *p) { if (p) n_free++; __real_free(p); }
int __wrap_posix_memalign(void **p, size_t a, size_t n) { n_alloc++; return __real_posix_memalign(p, a, n); }
void *__wrap_aligned_alloc(size_t a, size_t n) { n_alloc++; return __real_aligned_alloc(a, n); }
static const char *install_counter(void) { return "-Wl,--wrap=malloc (static link)"; }
#endif

/* ---- connections ------------------------------------------------------- */

struct peer {
  bool used, eof, eof_fed, client;
  int fd;
  ws_conn_t *conn;
  size_t in_len; /* bytes read and not yet taken (kept on WS_ERR_INPUT_FULL) */
  uint8_t in[READ_BUDGET];
};

static struct peer peers[MAX_CONNS]; /* static: no allocation per connection */
static unsigned long msgs_echoed, msgs_back, bytes_fed_max_tick;

static void peer_close(struct peer *p) {
  close(p->fd);
  ws_conn_free(p->conn);
  p->used = false;
}

static void set_nonblocking(int fd) {
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

static struct peer *peer_add(int fd, ws_conn_t *conn, bool client) {
  for (int i = 0; i < MAX_CONNS; i++) {
    if (!peers[i].used) {
      struct peer *p = &peers[i];
      p->used = true, p->eof = p->eof_fed = false, p->client = client;
      p->fd = fd, p->conn = conn, p->in_len = 0;
      return p;
    }
  }
  return NULL;
}

/* What to do with each result of ws_conn_receive (see docs/embedding.md). */
static bool feed(struct peer *p) {
  if (p->in_len == 0) return true;
  ws_result_t r = ws_conn_receive(p->conn, p->in, p->in_len);
  switch (r) {
    case WS_OK: p->in_len = 0; return true;
    case WS_ERR_INPUT_FULL: return true; /* keep the bytes; take events first */
    case WS_ERR_HANDSHAKE:              /* answer, then close once written */
      p->in_len = 0;
      ws_conn_reject(p->conn, ws_conn_handshake_status_hint(p->conn), NULL, 0, false);
      return true;
    case WS_ERR_NO_MEMORY: /* failed: a close 1011 is queued; write it, close */
    case WS_ERR_RNG:       /* input processed; an automatic reply was not sent */
    case WS_ERR_CLOSED:    /* after the close: drop the bytes */
      p->in_len = 0;
      return true;
    default: return false; /* PANIC/POISONED: free the connection */
  }
}

static void take_events(struct peer *p) {
  ws_event_t ev;
  for (int budget = EVENT_BUDGET; budget > 0; budget--) {
    if (ws_conn_poll_event(p->conn, &ev) != WS_OK || ev.type == WS_EVENT_NONE) return;
    switch (ev.type) {
      case WS_EVENT_REQUEST: ws_conn_accept(p->conn, NULL, 0, NULL, 0); break;
      case WS_EVENT_TEXT:
      case WS_EVENT_BINARY:
        if (p->client) {
          msgs_back++; /* the bot got its echo */
        } else {
          /* "Game logic": echo. Event data is borrowed until the next call
           * on this connection: sending it is that call, and the engine
           * copies it first. */
          if (ev.type == WS_EVENT_TEXT)
            ws_conn_send_text(p->conn, ev.data, ev.len, 0);
          else
            ws_conn_send_binary(p->conn, ev.data, ev.len, 0);
          msgs_echoed++;
        }
        break;
      default: break; /* PING/CLOSE answered by the engine; PONG ignored */
    }
  }
}

/* One bounded pump of one connection. Returns false once it is closed. */
static bool pump(struct peer *p, unsigned long *fed) {
  if (p->in_len == 0 && !p->eof && ws_conn_wants_read(p->conn)) {
    ssize_t n = recv(p->fd, p->in, sizeof p->in, 0);
    if (n > 0) p->in_len = (size_t)n, *fed += (size_t)n;
    else if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) p->eof = true;
  }
  if (!feed(p)) return false;
  take_events(p);
  if (p->eof && p->in_len == 0 && !p->eof_fed) {
    p->eof_fed = true;
    ws_conn_receive_eof(p->conn);
    take_events(p);
  }
  const uint8_t *out;
  size_t len;
  while (ws_conn_output_peek(p->conn, &out, &len) == WS_OK && len > 0) {
    ssize_t w = send(p->fd, out, len, MSG_NOSIGNAL);
    if (w <= 0) {
      if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
      return false;
    }
    ws_conn_output_consume(p->conn, (size_t)w);
  }
  if (ws_conn_wants_close_transport(p->conn)) return false;
  /* Input ended and nothing is left to write or take: done. */
  if (p->eof_fed && ws_conn_output_len(p->conn) == 0 && !ws_conn_wants_read(p->conn)) return false;
  return true;
}

static ws_config_t *make_config(bool deflate) {
  ws_config_t *cfg = ws_config_new();
  if (!cfg) return NULL;
  ws_config_set_max_message_size(cfg, MAX_MESSAGE);
  ws_config_set_deflate(cfg, deflate);
  /* Keep working buffers between messages: no allocation per message. */
  ws_config_set_idle_buffer_retain(cfg, 256 * 1024);
  return cfg;
}

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void sleep_until(struct timespec *deadline, long tick_ns) {
  deadline->tv_nsec += tick_ns;
  while (deadline->tv_nsec >= 1000000000L) deadline->tv_nsec -= 1000000000L, deadline->tv_sec++;
  clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, deadline, NULL);
}

/* One tick: accept, pump every connection, simulate. */
static void tick(int lfd, const ws_config_t *cfg) {
  for (int i = 0; lfd >= 0 && i < ACCEPTS_PER_TICK; i++) {
    int fd = accept(lfd, NULL, NULL);
    if (fd < 0) break;
    set_nonblocking(fd);
    ws_conn_t *conn = NULL;
    if (ws_conn_new_server(cfg, &conn) != WS_OK || !peer_add(fd, conn, false)) {
      ws_conn_free(conn);
      close(fd);
    }
  }
  unsigned long fed = 0;
  for (int i = 0; i < MAX_CONNS; i++)
    if (peers[i].used && !pump(&peers[i], &fed)) peer_close(&peers[i]);
  if (fed > bytes_fed_max_tick) bytes_fed_max_tick = fed;
  /* simulate(world, dt) would run here. */
}

static int listen_on(int port) {
  int lfd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
  setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(lfd, (struct sockaddr *)&a, sizeof a) != 0 || listen(lfd, 64) != 0) return -1;
  fcntl(lfd, F_SETFL, O_NONBLOCK);
  return lfd;
}

static int bound_port(int lfd) {
  struct sockaddr_in a;
  socklen_t len = sizeof a;
  getsockname(lfd, (struct sockaddr *)&a, &len);
  return ntohs(a.sin_port);
}

static int self_test(void) {
  const char *how = install_counter();
  if (!how) { fprintf(stderr, "game_loop: cannot install the counting allocator\n"); return 1; }
  ws_config_t *cfg = make_config(true);
  int lfd = listen_on(0);
  if (!cfg || lfd < 0) return 1;
  /* The bot: a wsproto client on a loopback socket, in the same loop. */
  int cfd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)bound_port(lfd))};
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(cfd, (struct sockaddr *)&a, sizeof a) != 0) return 1;
  set_nonblocking(cfd);
  ws_conn_t *bot_conn = NULL;
  if (ws_conn_new_client(cfg, &bot_conn) != WS_OK) return 1;
  if (ws_conn_send_request(bot_conn, "localhost", 9, "/game", 5, NULL, 0, NULL, 0) != WS_OK) {
    fprintf(stderr, "game_loop: send_request: %s\n", ws_conn_last_error(bot_conn));
    return 1;
  }
  struct peer *bot = peer_add(cfd, bot_conn, true);
  if (!bot) return 1;

  uint8_t msg[200];
  memset(msg, 'g', sizeof msg);
  const int warm = 100, steady = 400, per_tick = 8;
  unsigned long a0 = 0, f0 = 0, sent_steady = 0, back0 = 0;
  size_t server_mem = 0;
  struct timespec deadline;
  clock_gettime(CLOCK_MONOTONIC, &deadline);
  double t0 = now_s();
  for (int t = 0; t < warm + steady; t++) {
    if (t == warm) a0 = n_alloc, f0 = n_free, back0 = msgs_back;
    if (bot->used && ws_conn_state(bot->conn) == WS_STATE_OPEN)
      for (int k = 0; k < per_tick; k++) {
        msg[0] = (uint8_t)('a' + (t + k) % 26); /* vary the payload */
        if (ws_conn_send_binary(bot->conn, msg, sizeof msg, 0) == WS_OK && t >= warm) sent_steady++;
      }
    tick(lfd, cfg);
    sleep_until(&deadline, 1000000L); /* 1 kHz for the test */
  }
  for (int i = 0; i < MAX_CONNS; i++)
    if (peers[i].used && !peers[i].client) server_mem = ws_conn_memory_used(peers[i].conn);
  unsigned long allocs = n_alloc - a0, frees = n_free - f0, got = msgs_back - back0;
  double dt = now_s() - t0;
  /* Closing handshake, then everything is freed. */
  ws_conn_send_close(bot->conn, 1000, "bye", 3);
  for (int t = 0; t < 200 && bot->used; t++) tick(lfd, cfg);
  for (int i = 0; i < MAX_CONNS; i++)
    if (peers[i].used) peer_close(&peers[i]);
  ws_config_free(cfg);
  close(lfd);
  printf("game_loop: counting allocator via %s: %lu allocations during set-up and warm-up\n", how, a0);
  printf("game_loop: steady state: %lu messages sent, %lu echoes back in %d ticks: "
         "%lu allocations, %lu frees (%.3f per message)\n",
         sent_steady, got, steady, allocs, frees, got ? (double)allocs / (double)got : 0.0);
  printf("game_loop: server connection memory (ws_conn_memory_used, deflate on): %zu bytes; "
         "max bytes fed in one tick: %lu; %.2f s\n", server_mem, bytes_fed_max_tick, dt);
  if (got < (unsigned long)(steady * per_tick) / 2) {
    fprintf(stderr, "game_loop: too few echoes\n");
    return 1;
  }
  if (a0 == 0) {
    fprintf(stderr, "game_loop: the counting allocator saw nothing\n");
    return 1;
  }
  if (allocs != 0) {
    fprintf(stderr, "game_loop: FAIL: the steady state allocated\n");
    return 1;
  }
  printf("game_loop: self-test ok\n");
  return 0;
}

int main(int argc, char **argv) {
  int port = 9001, hz = 60;
  bool deflate = false;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--self-test")) return self_test();
    if (!strcmp(argv[i], "--port") && i + 1 < argc) port = atoi(argv[++i]);
    else if (!strcmp(argv[i], "--hz") && i + 1 < argc) hz = atoi(argv[++i]);
    else if (!strcmp(argv[i], "--deflate")) deflate = true;
    else { fprintf(stderr, "usage: game_loop [--port N] [--hz N] [--deflate] | --self-test\n"); return 2; }
  }
  if (hz <= 0) hz = 60;
  ws_config_t *cfg = make_config(deflate);
  int lfd = listen_on(port);
  if (!cfg || lfd < 0) { perror("game_loop: listen"); return 1; }
  printf("listening on %d\n", bound_port(lfd));
  fflush(stdout);
  struct timespec deadline;
  clock_gettime(CLOCK_MONOTONIC, &deadline);
  for (;;) {
    tick(lfd, cfg);
    sleep_until(&deadline, 1000000000L / hz);
  }
}
