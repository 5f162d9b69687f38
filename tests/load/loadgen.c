/*
 * loadgen: load and soak test for a WebSocket echo server (examples/c/echo_server),
 * written against wsproto's own client API.
 *
 * One thread, one epoll loop, non-blocking sockets.  N connections stay open
 * at once; together they exchange M data messages (mixed sizes, text and
 * binary, some fragmented with WS_SEND_MORE, pings in between).  Every echo
 * is checked byte for byte and in order against a per-connection FIFO of what
 * was sent.  A fraction of the connections closes its socket abruptly in the
 * middle of a fragmented message (RST or FIN, alternately); each is replaced
 * by a fresh connection and the messages it had in flight go back to the pool,
 * so exactly M echoes are verified in the end.
 *
 * With --pid, the server's VmRSS and open descriptors are sampled every 500 ms
 * from /proc: baseline (before the first connection), peak, and after each
 * round (every connection closed).  The run fails if descriptors leaked, the
 * final RSS is not back near the baseline, or it grew from round to round.
 * RSS only falls when the server's allocator gives freed memory back to the
 * kernel: glibc keeps freed heap pages for reuse unless told otherwise, which
 * is why scripts/load.sh starts the server with MALLOC_MMAP_THRESHOLD_=0.
 *
 * Payloads: a message is a 16-character hex tag (connection serial and
 * sequence number) followed by a slice of a fixed random pool (valid UTF-8
 * for text).  The FIFO entry holds the tag, pool offset and length, which is
 * enough to compare every received byte without keeping copies.
 *
 * Exit status: 0 if every check passed, 1 otherwise, 2 on bad usage.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <wsproto.h>

#define TAG_LEN 16
#define POOL_MAIN (1u << 20)            /* slices start in the first MiB */
#define MAX_BODY (256u * 1024u)          /* largest message body */
#define POOL_LEN (POOL_MAIN + MAX_BODY)  /* every slice fits */
#define MAX_MSG (TAG_LEN + MAX_BODY)
#define MAX_PINGS 4                      /* pings in flight per connection */
#define OUT_HIGH_WATER (512u * 1024u)    /* stop queueing new messages above this */
#define READ_CHUNK (64u * 1024u)
#define READ_BUDGET (512u * 1024u)       /* bytes read per wakeup before yielding */
#define NCLASS 3

static const char *CLASS_NAME[NCLASS] = {"16-256 B", "1-16 KiB", "64-256 KiB"};

/* ------------------------------------------------------------------------ */
/* Options, globals                                                         */
/* ------------------------------------------------------------------------ */

struct options {
  const char *host;
  int port;
  long conns;
  long messages;
  int depth;          /* data messages in flight per connection */
  double drop_rate;   /* fraction of connections that disconnect mid-message */
  double frag_rate;   /* fraction of messages sent fragmented */
  double ping_rate;   /* pings per data message */
  double text_rate;
  uint64_t seed;
  long pid;           /* server pid for RSS sampling, 0 = none */
  double timeout;     /* seconds */
  double rss_slack_mib;
  int rounds;
  long rcvbuf;        /* SO_RCVBUF of each connection, 0 = the kernel's default */
  bool quiet;
};

struct expect {
  uint64_t tag;
  uint64_t t_sent;
  uint32_t off;
  uint32_t len; /* body length after the tag */
  uint8_t text;
  uint8_t cls;
};

struct ping {
  uint64_t tag;
  uint32_t off;
  uint32_t len; /* body length after the tag */
};

enum cstate { C_CONNECTING, C_HANDSHAKE, C_OPEN, C_CLOSING, C_DEAD };

struct conn {
  int fd;
  ws_conn_t *ws;
  enum cstate state;
  uint32_t epoll_mask;
  uint64_t serial;
  uint64_t seq;         /* messages started on this connection */
  int64_t drop_at;      /* message index at which to disconnect, -1 = never */
  struct expect *fifo;  /* ring of opt.depth entries */
  int head, count;
  struct ping pings[MAX_PINGS];
  int phead, pcount;
  struct conn *next_dead;
};

static struct options opt;

static struct {
  int epfd;
  struct sockaddr_in addr;
  ws_config_t *cfg;
  uint8_t *bin_pool, *text_pool, *boundary; /* boundary[i]: a code point starts at i */
  uint8_t *scratch;
  uint8_t *readbuf;
  uint64_t rng;
  uint64_t next_serial;
  long open;            /* connections not yet closed */
  long assigned;        /* data messages started and not lost to a drop */
  long verified;
  long lost;            /* messages in flight on dropped connections (re-sent) */
  long served, dropped, clean_closes;
  long text_msgs, bin_msgs, frag_msgs, pings_sent, pongs_ok;
  uint64_t bytes_sent, bytes_echoed;
  long errors;
  long target, round_msgs; /* cumulative messages to verify by the end of this round */
  long pings_lost;
  uint32_t *lat[NCLASS]; /* round trips in microseconds */
  long nlat[NCLASS];
  struct conn *dead;
  /* server sampling */
  long rss_base, rss_peak, rss_final, fd_base, fd_final;
  long *rss_after; /* per round, once every connection closed */
  long served_after_first; /* connections opened after the first round */
  uint64_t next_sample;
} g;

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void fail(const struct conn *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void fail(const struct conn *c, const char *fmt, ...) {
  g.errors++;
  if (g.errors > 20) return; /* the count is reported at the end */
  va_list ap;
  va_start(ap, fmt);
  if (c) fprintf(stderr, "loadgen: conn #%" PRIu64 ": ", c->serial);
  else fputs("loadgen: ", stderr);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
}

/* splitmix64: fast, good enough for picking sizes and offsets. */
static uint64_t rnd(void) {
  uint64_t z = (g.rng += 0x9e3779b97f4a7c15u);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
  return z ^ (z >> 31);
}
static uint32_t rnd_range(uint32_t lo, uint32_t hi) { /* inclusive */
  return lo + (uint32_t)(rnd() % ((uint64_t)hi - lo + 1));
}
static double rnd_unit(void) { return (double)(rnd() >> 11) / (double)(1ull << 53); }

/* ------------------------------------------------------------------------ */
/* Payload pools                                                            */
/* ------------------------------------------------------------------------ */

static size_t put_utf8(uint8_t *p, uint32_t cp) {
  if (cp < 0x80) { p[0] = (uint8_t)cp; return 1; }
  if (cp < 0x800) {
    p[0] = (uint8_t)(0xc0 | (cp >> 6)); p[1] = (uint8_t)(0x80 | (cp & 0x3f)); return 2;
  }
  if (cp < 0x10000) {
    p[0] = (uint8_t)(0xe0 | (cp >> 12)); p[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
    p[2] = (uint8_t)(0x80 | (cp & 0x3f)); return 3;
  }
  p[0] = (uint8_t)(0xf0 | (cp >> 18)); p[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3f));
  p[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f)); p[3] = (uint8_t)(0x80 | (cp & 0x3f));
  return 4;
}

static bool make_pools(void) {
  g.bin_pool = malloc(POOL_LEN);
  g.text_pool = malloc(POOL_LEN);
  g.boundary = calloc(POOL_LEN + 1, 1);
  g.scratch = malloc(MAX_MSG);
  g.readbuf = malloc(READ_CHUNK);
  if (!g.bin_pool || !g.text_pool || !g.boundary || !g.scratch || !g.readbuf) return false;
  for (size_t i = 0; i < POOL_LEN; i += 8) {
    uint64_t r = rnd();
    memcpy(g.bin_pool + i, &r, 8);
  }
  /* Text: mostly ASCII, with 2-, 3- and 4-byte code points (no surrogates). */
  size_t i = 0;
  while (i < POOL_LEN) {
    uint32_t k = rnd_range(0, 99), cp;
    if (k < 60) cp = rnd_range(0x20, 0x7e);
    else if (k < 75) cp = rnd_range(0x80, 0x7ff);
    else if (k < 90) { do cp = rnd_range(0x800, 0xffff); while (cp >= 0xd800 && cp <= 0xdfff); }
    else cp = rnd_range(0x10000, 0x10ffff);
    uint8_t tmp[4];
    size_t n = put_utf8(tmp, cp);
    if (i + n > POOL_LEN) { /* pad the tail with ASCII */
      while (i < POOL_LEN) { g.boundary[i] = 1; g.text_pool[i++] = 'x'; }
      break;
    }
    g.boundary[i] = 1;
    memcpy(g.text_pool + i, tmp, n);
    i += n;
  }
  g.boundary[POOL_LEN] = 1;
  return true;
}

static void put_tag(uint8_t *p, uint64_t tag) {
  static const char hex[] = "0123456789abcdef";
  for (int i = TAG_LEN - 1; i >= 0; i--, tag >>= 4) p[i] = (uint8_t)hex[tag & 15];
}

/* ------------------------------------------------------------------------ */
/* Server sampling                                                          */
/* ------------------------------------------------------------------------ */

static long server_rss_kib(void) {
  char path[64], line[256];
  snprintf(path, sizeof path, "/proc/%ld/status", opt.pid);
  FILE *f = fopen(path, "r");
  if (!f) return -1;
  long kib = -1;
  while (fgets(line, sizeof line, f))
    if (sscanf(line, "VmRSS: %ld kB", &kib) == 1) break;
  fclose(f);
  return kib;
}

static long server_fds(void) {
  char path[64];
  snprintf(path, sizeof path, "/proc/%ld/fd", opt.pid);
  DIR *d = opendir(path);
  if (!d) return -1;
  long n = 0;
  for (struct dirent *e; (e = readdir(d));)
    if (e->d_name[0] != '.') n++;
  closedir(d);
  return n;
}

static void sample_server(void) {
  if (!opt.pid) return;
  long rss = server_rss_kib();
  if (rss > g.rss_peak) g.rss_peak = rss;
}

/* ------------------------------------------------------------------------ */
/* Connections                                                              */
/* ------------------------------------------------------------------------ */

static void set_interest(struct conn *c, uint32_t mask) {
  if (c->epoll_mask == mask) return;
  struct epoll_event ev = {.events = mask, .data.ptr = c};
  if (epoll_ctl(g.epfd, EPOLL_CTL_MOD, c->fd, &ev) == 0) c->epoll_mask = mask;
  else fail(c, "epoll_ctl: %s", strerror(errno));
}

static void conn_release(struct conn *c) {
  if (c->state == C_DEAD) return;
  c->state = C_DEAD;
  close(c->fd); /* also leaves the epoll set */
  ws_conn_free(c->ws);
  c->ws = NULL;
  g.open--;
  /* Freed after the current epoll batch: it may still be listed in it. */
  c->next_dead = g.dead;
  g.dead = c;
}

static struct conn *conn_open(void) {
  struct conn *c = calloc(1, sizeof *c);
  if (!c || !(c->fifo = calloc((size_t)opt.depth, sizeof *c->fifo))) {
    free(c);
    fail(NULL, "out of memory");
    return NULL;
  }
  c->serial = g.next_serial++;
  c->drop_at = -1;
  if (rnd_unit() < opt.drop_rate) {
    long share = g.round_msgs / opt.conns;
    c->drop_at = (int64_t)rnd_range(0, (uint32_t)(share > 1 ? share - 1 : 0));
  }
  c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (c->fd < 0) {
    fail(NULL, "socket: %s", strerror(errno));
    free(c->fifo);
    free(c);
    return NULL;
  }
  int one = 1;
  setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (opt.rcvbuf) { /* before connect: it sets the window offered in the SYN */
    int rb = (int)opt.rcvbuf;
    setsockopt(c->fd, SOL_SOCKET, SO_RCVBUF, &rb, sizeof rb);
  }
  if (ws_conn_new_client(g.cfg, &c->ws) != WS_OK) {
    fail(NULL, "ws_conn_new_client failed");
    close(c->fd);
    free(c->fifo);
    free(c);
    return NULL;
  }
  char host[64];
  int hl = snprintf(host, sizeof host, "%s:%d", opt.host, opt.port);
  ws_result_t r = ws_conn_send_request(c->ws, host, (size_t)hl, "/load", 5, NULL, 0, NULL, 0);
  if (r != WS_OK) fail(c, "send_request: %s", ws_result_str(r));
  c->state = C_CONNECTING;
  c->epoll_mask = EPOLLIN | EPOLLOUT;
  struct epoll_event ev = {.events = c->epoll_mask, .data.ptr = c};
  g.open++;
  g.served++;
  if (connect(c->fd, (struct sockaddr *)&g.addr, sizeof g.addr) < 0 && errno != EINPROGRESS) {
    fail(c, "connect: %s", strerror(errno));
    c->state = C_CONNECTING;
    conn_release(c);
    return NULL;
  }
  if (epoll_ctl(g.epfd, EPOLL_CTL_ADD, c->fd, &ev) < 0) {
    fail(c, "epoll_ctl add: %s", strerror(errno));
    conn_release(c);
    return NULL;
  }
  return c;
}

/* Writes what the socket takes.  Returns false if the connection died. */
static bool conn_flush(struct conn *c) {
  if (c->state == C_CONNECTING) return true; /* wait for the connect to finish */
  while (ws_conn_output_len(c->ws) > 0) {
    const uint8_t *p;
    size_t len;
    if (ws_conn_output_peek(c->ws, &p, &len) != WS_OK || len == 0) break;
    ssize_t n = send(c->fd, p, len, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        set_interest(c, EPOLLIN | EPOLLOUT);
        return true;
      }
      fail(c, "send: %s", strerror(errno));
      conn_release(c);
      return false;
    }
    g.bytes_sent += (uint64_t)n;
    ws_conn_output_consume(c->ws, (size_t)n);
  }
  if (c->state == C_CLOSING && ws_conn_wants_close_transport(c->ws)) {
    g.clean_closes++;
    conn_release(c);
    return false;
  }
  set_interest(c, EPOLLIN);
  return true;
}

static bool send_ping(struct conn *c) {
  if (c->pcount == MAX_PINGS) return true;
  struct ping *p = &c->pings[(c->phead + c->pcount) % MAX_PINGS];
  p->tag = (c->serial << 32) | (0x80000000u | (uint32_t)g.pings_sent);
  p->len = rnd_range(0, 125 - TAG_LEN);
  p->off = rnd_range(0, POOL_MAIN - 1);
  uint8_t buf[125];
  put_tag(buf, p->tag);
  memcpy(buf + TAG_LEN, g.bin_pool + p->off, p->len);
  ws_result_t r = ws_conn_send_ping(c->ws, buf, TAG_LEN + p->len);
  if (r != WS_OK) {
    fail(c, "send_ping: %s (%s)", ws_result_str(r), ws_conn_last_error(c->ws));
    return false;
  }
  c->pcount++;
  g.pings_sent++;
  return true;
}

/* Abrupt disconnect in the middle of a message: RST or FIN, alternately. */
static void conn_abort(struct conn *c) {
  if (g.dropped % 2 == 0) {
    struct linger lg = {.l_onoff = 1, .l_linger = 0};
    setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
  }
  g.dropped++;
  g.assigned -= c->count; /* their echoes will never come: send them again elsewhere */
  g.lost += c->count;
  g.pings_lost += c->pcount;
  conn_release(c);
  conn_open(); /* the replacement */
}

/* Starts one data message.  Returns false if the connection is gone. */
static bool start_message(struct conn *c) {
  bool drop = c->drop_at >= 0 && (int64_t)c->seq == c->drop_at;
  uint32_t k = rnd_range(0, 99), body;
  uint8_t cls;
  if (k < 70) { cls = 0; body = rnd_range(16, 256) - TAG_LEN; }
  else if (k < 95) { cls = 1; body = rnd_range(1024, 16384) - TAG_LEN; }
  else { cls = 2; body = rnd_range(65536, 262144) - TAG_LEN; }
  bool text = rnd_unit() < opt.text_rate;
  uint32_t off = rnd_range(0, POOL_MAIN - 1);
  const uint8_t *src = g.bin_pool;
  if (text) {
    src = g.text_pool;
    while (!g.boundary[off]) off++;
    uint32_t end = off + body;
    while (!g.boundary[end]) end--;
    body = end - off;
  }
  uint64_t tag = (c->serial << 32) | (c->seq & 0x7fffffffu);
  size_t len = TAG_LEN + body;
  put_tag(g.scratch, tag);
  memcpy(g.scratch + TAG_LEN, src + off, body);
  c->seq++;

  /* Fragment boundaries: anywhere, including inside a UTF-8 sequence. */
  size_t cuts[6];
  int nfrag = 1;
  if (drop || rnd_unit() < opt.frag_rate) {
    nfrag = (int)rnd_range(2, 5);
    cuts[0] = 0;
    for (int i = 1; i < nfrag; i++) cuts[i] = rnd_range(0, (uint32_t)len);
    for (int i = 1; i < nfrag; i++) /* insertion sort, tiny */
      for (int j = i; j > 1 && cuts[j] < cuts[j - 1]; j--) {
        size_t t = cuts[j]; cuts[j] = cuts[j - 1]; cuts[j - 1] = t;
      }
  } else {
    cuts[0] = 0;
  }
  cuts[nfrag] = len;

  uint64_t t0 = now_ns();
  for (int i = 0; i < nfrag; i++) {
    bool last = i == nfrag - 1;
    const uint8_t *p = g.scratch + cuts[i];
    size_t n = cuts[i + 1] - cuts[i];
    ws_result_t r = text ? ws_conn_send_text(c->ws, p, n, last ? 0 : WS_SEND_MORE)
                         : ws_conn_send_binary(c->ws, p, n, last ? 0 : WS_SEND_MORE);
    if (r != WS_OK) {
      fail(c, "send %s fragment %d/%d: %s (%s)", text ? "text" : "binary", i + 1, nfrag,
           ws_result_str(r), ws_conn_last_error(c->ws));
      conn_release(c);
      return false;
    }
    if (drop) { /* first fragment out, then vanish */
      if (rnd_unit() < 0.5 && !send_ping(c)) {
        conn_release(c);
        return false;
      }
      if (!conn_flush(c)) return false;
      conn_abort(c);
      return false;
    }
    /* Control frames may sit between the fragments of a message. */
    if (!last && rnd_unit() < 0.2 && !send_ping(c)) {
      conn_release(c);
      return false;
    }
  }
  struct expect *e = &c->fifo[(c->head + c->count) % opt.depth];
  *e = (struct expect){.tag = tag, .t_sent = t0, .off = off, .len = body, .text = text, .cls = cls};
  c->count++;
  g.assigned++;
  if (text) g.text_msgs++;
  else g.bin_msgs++;
  if (nfrag > 1) g.frag_msgs++;
  if (rnd_unit() < opt.ping_rate && !send_ping(c)) {
    conn_release(c);
    return false;
  }
  return true;
}

/* Queues new messages while there is room; closes when the work is done. */
static bool conn_refill(struct conn *c) {
  if (c->state != C_OPEN) return true;
  while (c->count < opt.depth && g.assigned < g.target &&
         ws_conn_output_len(c->ws) < OUT_HIGH_WATER)
    if (!start_message(c)) return false;
  if (c->count == 0 && c->pcount == 0 && g.assigned >= g.target) {
    ws_result_t r = ws_conn_send_close(c->ws, 1000, "done", 4);
    if (r != WS_OK) {
      fail(c, "send_close: %s", ws_result_str(r));
      conn_release(c);
      return false;
    }
    c->state = C_CLOSING;
  }
  return true;
}

static void record_latency(int cls, uint64_t ns) {
  uint64_t us = ns / 1000;
  g.lat[cls][g.nlat[cls]++] = us > UINT32_MAX ? UINT32_MAX : (uint32_t)us;
}

static void check_echo(struct conn *c, const ws_event_t *ev) {
  bool text = ev->type == WS_EVENT_TEXT;
  if (!(ev->flags & WS_EVENT_FLAG_MESSAGE_FINISHED)) {
    fail(c, "partial message event in whole-message mode");
    return;
  }
  if (c->count == 0) {
    fail(c, "unexpected %s message of %zu bytes (nothing in flight)", text ? "text" : "binary",
         ev->len);
    return;
  }
  struct expect *e = &c->fifo[c->head];
  c->head = (c->head + 1) % opt.depth;
  c->count--;
  uint8_t tag[TAG_LEN];
  put_tag(tag, e->tag);
  const uint8_t *src = (e->text ? g.text_pool : g.bin_pool) + e->off;
  if (text != (bool)e->text) {
    fail(c, "message %.16s: sent %s, echoed %s", (const char *)tag, e->text ? "text" : "binary",
         text ? "text" : "binary");
  } else if (ev->len != TAG_LEN + (size_t)e->len) {
    fail(c, "message %.16s: sent %u bytes, echoed %zu (first 16: %.16s)", (const char *)tag,
         TAG_LEN + e->len, ev->len, ev->len >= TAG_LEN ? (const char *)ev->data : "");
  } else if (memcmp(ev->data, tag, TAG_LEN) != 0) {
    fail(c, "out of order: expected message %.16s, got %.16s", (const char *)tag,
         (const char *)ev->data);
  } else if (memcmp(ev->data + TAG_LEN, src, e->len) != 0) {
    size_t i = 0;
    while (ev->data[TAG_LEN + i] == src[i]) i++;
    fail(c, "message %.16s: byte %zu differs (sent %02x, echoed %02x)", (const char *)tag,
         TAG_LEN + i, src[i], ev->data[TAG_LEN + i]);
  } else {
    g.verified++;
    g.bytes_echoed += ev->len;
    record_latency(e->cls, now_ns() - e->t_sent);
  }
}

static void check_pong(struct conn *c, const ws_event_t *ev) {
  if (c->pcount == 0) {
    fail(c, "unsolicited pong of %zu bytes", ev->len);
    return;
  }
  struct ping *p = &c->pings[c->phead];
  c->phead = (c->phead + 1) % MAX_PINGS;
  c->pcount--;
  uint8_t tag[TAG_LEN];
  put_tag(tag, p->tag);
  if (ev->len != TAG_LEN + (size_t)p->len || memcmp(ev->data, tag, TAG_LEN) != 0 ||
      memcmp(ev->data + TAG_LEN, g.bin_pool + p->off, p->len) != 0)
    fail(c, "pong does not match ping %.16s (%zu bytes, expected %u)", (const char *)tag, ev->len,
         TAG_LEN + p->len);
  else
    g.pongs_ok++;
}

/* Returns false if the connection is gone. */
static bool conn_events(struct conn *c) {
  for (;;) {
    ws_event_t ev;
    ws_result_t r = ws_conn_poll_event(c->ws, &ev);
    if (r != WS_OK) {
      fail(c, "poll_event: %s (%s)", ws_result_str(r), ws_conn_last_error(c->ws));
      conn_release(c);
      return false;
    }
    switch (ev.type) {
    case WS_EVENT_NONE:
      return true;
    case WS_EVENT_ACCEPT:
      c->state = C_OPEN;
      break;
    case WS_EVENT_REJECT:
      fail(c, "server rejected the upgrade with %u", (unsigned)ev.code);
      conn_release(c);
      return false;
    case WS_EVENT_TEXT:
    case WS_EVENT_BINARY:
      check_echo(c, &ev);
      break;
    case WS_EVENT_PONG:
      check_pong(c, &ev);
      break;
    case WS_EVENT_CLOSE:
      if (c->state != C_CLOSING || ev.code != 1000) {
        fail(c, "unexpected close %u%s \"%.*s\" (state %d, %d in flight)", (unsigned)ev.code,
             (ev.flags & WS_EVENT_FLAG_PROTOCOL_ERROR) ? " (protocol error)" : "", (int)ev.len,
             (const char *)ev.data, (int)c->state, c->count);
        conn_release(c);
        return false;
      }
      break;
    default:
      fail(c, "unexpected event %d", (int)ev.type);
      break;
    }
  }
}

static void conn_readable(struct conn *c) {
  size_t total = 0;
  while (total < READ_BUDGET) {
    ssize_t n = recv(c->fd, g.readbuf, READ_CHUNK, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) break;
      fail(c, "recv: %s", strerror(errno));
      conn_release(c);
      return;
    }
    if (n == 0) {
      ws_conn_receive_eof(c->ws);
      if (!conn_events(c)) return;
      if (c->state == C_CLOSING && ws_conn_wants_close_transport(c->ws)) {
        g.clean_closes++;
      } else {
        fail(c, "server closed the connection (state %d, %d in flight)", (int)c->state, c->count);
      }
      conn_release(c);
      return;
    }
    total += (size_t)n;
    ws_result_t r = ws_conn_receive(c->ws, g.readbuf, (size_t)n);
    if (r != WS_OK) {
      fail(c, "receive: %s (%s)", ws_result_str(r), ws_conn_last_error(c->ws));
      conn_release(c);
      return;
    }
    if (!conn_events(c)) return;
  }
  if (conn_refill(c)) conn_flush(c);
}

static void conn_writable(struct conn *c) {
  if (c->state == C_CONNECTING) {
    int err = 0;
    socklen_t len = sizeof err;
    getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
    if (err) {
      fail(c, "connect: %s", strerror(err));
      conn_release(c);
      return;
    }
    c->state = C_HANDSHAKE;
  }
  if (conn_refill(c)) conn_flush(c);
}

/* ------------------------------------------------------------------------ */
/* Main                                                                     */
/* ------------------------------------------------------------------------ */

static void usage(FILE *f) {
  fputs("usage: loadgen --port N [options]\n"
        "  --host ADDR         server address (default 127.0.0.1)\n"
        "  --port N            server port (required)\n"
        "  --connections N     concurrent connections (default 1000)\n"
        "  --messages N        data messages to echo and verify in total (default 1000000)\n"
        "  --depth N           messages in flight per connection (default 4)\n"
        "  --drop-rate F       fraction of connections that disconnect mid-message (0.01)\n"
        "  --frag-rate F       fraction of messages sent in 2-5 fragments (0.1)\n"
        "  --ping-rate F       pings per data message (0.02)\n"
        "  --text-rate F       fraction of text messages (0.5)\n"
        "  --seed N            random seed (default 1)\n"
        "  --pid N             server pid: sample its VmRSS and fds from /proc\n"
        "  --rss-slack-mib F   allowed final RSS above baseline, and growth from the first\n"
        "                      round to the last (default 1)\n"
        "  --rounds N          split the messages over N rounds that each open and close\n"
        "                      every connection; server RSS is sampled after each (default 2)\n"
        "  --timeout S         give up after S seconds (default 1200)\n"
        "  --rcvbuf N          SO_RCVBUF of each connection in bytes (default: the kernel's):\n"
        "                      a small one makes the server's writes come up short, so that\n"
        "                      its partial-write paths carry much of the traffic\n"
        "  --quiet             no progress lines\n",
        f);
}

static int parse_args(int argc, char **argv) {
  opt = (struct options){.host = "127.0.0.1", .conns = 1000, .messages = 1000000, .depth = 4,
                         .drop_rate = 0.01, .frag_rate = 0.1, .ping_rate = 0.02,
                         .text_rate = 0.5, .seed = 1, .timeout = 1200, .rss_slack_mib = 1,
                         .rounds = 2};
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    const char *v = i + 1 < argc ? argv[i + 1] : NULL;
    char *end = NULL;
#define NUM(field, conv, lo, hi)                                                               \
  do {                                                                                         \
    if (!v) goto bad;                                                                          \
    errno = 0;                                                                                 \
    double x_ = conv;                                                                          \
    if (errno || *end || end == v || x_ < (lo) || x_ > (hi)) goto bad;                         \
    field = (__typeof__(field))x_;                                                             \
    i++;                                                                                       \
  } while (0)
    if (!strcmp(a, "--host") && v) { opt.host = v; i++; }
    else if (!strcmp(a, "--port")) NUM(opt.port, strtol(v, &end, 10), 1, 65535);
    else if (!strcmp(a, "--connections")) NUM(opt.conns, strtol(v, &end, 10), 1, 1000000);
    else if (!strcmp(a, "--messages")) NUM(opt.messages, strtol(v, &end, 10), 1, 2000000000);
    else if (!strcmp(a, "--depth")) NUM(opt.depth, strtol(v, &end, 10), 1, 1024);
    else if (!strcmp(a, "--drop-rate")) NUM(opt.drop_rate, strtod(v, &end), 0, 1);
    else if (!strcmp(a, "--frag-rate")) NUM(opt.frag_rate, strtod(v, &end), 0, 1);
    else if (!strcmp(a, "--ping-rate")) NUM(opt.ping_rate, strtod(v, &end), 0, 1);
    else if (!strcmp(a, "--text-rate")) NUM(opt.text_rate, strtod(v, &end), 0, 1);
    else if (!strcmp(a, "--seed")) NUM(opt.seed, strtod(v, &end), 0, 1e15);
    else if (!strcmp(a, "--pid")) NUM(opt.pid, strtol(v, &end, 10), 1, 1e9);
    else if (!strcmp(a, "--rss-slack-mib")) NUM(opt.rss_slack_mib, strtod(v, &end), 0, 1e6);
    else if (!strcmp(a, "--rounds")) NUM(opt.rounds, strtol(v, &end, 10), 1, 1000);
    else if (!strcmp(a, "--timeout")) NUM(opt.timeout, strtod(v, &end), 1, 1e6);
    else if (!strcmp(a, "--rcvbuf")) NUM(opt.rcvbuf, strtol(v, &end, 10), 0, 1 << 30);
    else if (!strcmp(a, "--quiet")) opt.quiet = true;
    else if (!strcmp(a, "--help") || !strcmp(a, "-h")) { usage(stdout); exit(0); }
    else goto bad;
    continue;
  bad:
    fprintf(stderr, "loadgen: bad or incomplete option '%s'\n", a);
    usage(stderr);
    return -1;
#undef NUM
  }
  if (!opt.port) {
    fputs("loadgen: --port is required\n", stderr);
    return -1;
  }
  return 0;
}

static int cmp_u32(const void *a, const void *b) {
  uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
  return (x > y) - (x < y);
}

static double pct_ms(const uint32_t *v, long n, double p) {
  if (n == 0) return 0;
  long i = (long)(p * (double)(n - 1) + 0.5);
  return v[i] / 1000.0;
}

static void raise_fd_limit(long need) {
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) != 0) return;
  rlim_t want = (rlim_t)need;
  if (rl.rlim_cur >= want) return;
  rl.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max >= want ? want : rl.rlim_max;
  setrlimit(RLIMIT_NOFILE, &rl);
  getrlimit(RLIMIT_NOFILE, &rl);
  if (rl.rlim_cur < want)
    fprintf(stderr, "loadgen: warning: fd limit %lu < %ld needed\n", (unsigned long)rl.rlim_cur,
            need);
}

static void progress(uint64_t t_start, double before) {
  double s = before + (double)(now_ns() - t_start) / 1e9;
  fprintf(stderr, "loadgen: %6.1fs  %ld/%ld verified  %.0f msg/s  %ld open  %ld dropped",
          s, g.verified, opt.messages, s > 0 ? (double)g.verified / s : 0.0, g.open, g.dropped);
  if (opt.pid) fprintf(stderr, "  server RSS %.1f MiB", server_rss_kib() / 1024.0);
  fputc('\n', stderr);
}

int main(int argc, char **argv) {
  if (parse_args(argc, argv) < 0) return 2;
  signal(SIGPIPE, SIG_IGN);
  raise_fd_limit(opt.conns + 64);
  g.rng = opt.seed;
  g.next_serial = 1;
  g.addr.sin_family = AF_INET;
  g.addr.sin_port = htons((uint16_t)opt.port);
  if (inet_pton(AF_INET, opt.host, &g.addr.sin_addr) != 1) {
    fprintf(stderr, "loadgen: --host must be an IPv4 address\n");
    return 2;
  }
  for (int i = 0; i < NCLASS; i++) g.lat[i] = malloc(sizeof(uint32_t) * (size_t)opt.messages);
  g.cfg = ws_config_new();
  g.epfd = epoll_create1(EPOLL_CLOEXEC);
  if (!g.lat[0] || !g.lat[1] || !g.lat[2] || !g.cfg || g.epfd < 0 || !make_pools()) {
    fputs("loadgen: setup failed\n", stderr);
    return 1;
  }

  if (opt.pid) {
    g.rss_base = g.rss_peak = server_rss_kib();
    g.fd_base = server_fds();
    if (g.rss_base < 0 || g.fd_base < 0) {
      fprintf(stderr, "loadgen: cannot read /proc/%ld\n", opt.pid);
      return 1;
    }
  }

  g.rss_after = calloc((size_t)opt.rounds, sizeof(long));
  if (!g.rss_after) return 1;
  uint64_t t_first = now_ns(), deadline = t_first + (uint64_t)(opt.timeout * 1e9);
  double secs = 0; /* time with connections open, without the settling pauses */
  bool timed_out = false;
  for (int round = 0; round < opt.rounds && !timed_out; round++) {
    g.round_msgs = opt.messages / opt.rounds;
    if (round == opt.rounds - 1) g.round_msgs = opt.messages - g.target;
    g.target += g.round_msgs;
    uint64_t t_start = now_ns();
    uint64_t next_progress = t_start + 5000000000u;
    g.next_sample = t_start + 500000000u;
    long served_before = g.served;
    for (long i = 0; i < opt.conns; i++) conn_open();
    bool mid_sampled = false;

    while (g.open > 0) {
      struct epoll_event evs[256];
      int n = epoll_wait(g.epfd, evs, 256, 100);
      if (n < 0 && errno != EINTR) {
        perror("loadgen: epoll_wait");
        return 1;
      }
      for (int i = 0; i < n; i++) {
        struct conn *c = evs[i].data.ptr;
        if (c->state == C_DEAD) continue;
        uint32_t e = evs[i].events;
        if (e & (EPOLLIN | EPOLLHUP | EPOLLERR)) conn_readable(c);
        if (c->state != C_DEAD && (e & EPOLLOUT)) conn_writable(c);
      }
      while (g.dead) {
        struct conn *c = g.dead;
        g.dead = c->next_dead;
        free(c->fifo);
        free(c);
      }
      uint64_t t = now_ns();
      if (!mid_sampled && g.verified >= g.target - g.round_msgs / 2) {
        sample_server(); /* short rounds could fall between two periodic samples */
        mid_sampled = true;
      }
      if (t >= g.next_sample) {
        sample_server();
        g.next_sample = t + 500000000u;
      }
      if (!opt.quiet && t >= next_progress) {
        progress(t_start, secs);
        next_progress = t + 5000000000u;
      }
      if (t >= deadline) {
        timed_out = true;
        break;
      }
    }
    secs += (double)(now_ns() - t_start) / 1e9;
    if (round > 0) g.served_after_first += g.served - served_before;

    /* Server memory once every connection is closed: wait until it has
     * closed its side of each (descriptor count back to the baseline). */
    if (opt.pid) {
      for (int i = 0; i < 100 && server_fds() > g.fd_base; i++) usleep(100000);
      usleep(500000);
      g.fd_final = server_fds();
      g.rss_final = g.rss_after[round] = server_rss_kib();
      sample_server();
      if (!opt.quiet)
        fprintf(stderr, "loadgen: round %d/%d done: %ld verified, server RSS %.1f MiB, %ld fds\n",
                round + 1, opt.rounds, g.verified, g.rss_final / 1024.0, g.fd_final);
    }
  }

  for (int i = 0; i < NCLASS; i++) qsort(g.lat[i], (size_t)g.nlat[i], sizeof(uint32_t), cmp_u32);
  long nall = g.nlat[0] + g.nlat[1] + g.nlat[2];
  uint32_t *all = malloc(sizeof(uint32_t) * (size_t)(nall ? nall : 1));
  if (all) {
    long k = 0;
    for (int i = 0; i < NCLASS; i++) {
      memcpy(all + k, g.lat[i], sizeof(uint32_t) * (size_t)g.nlat[i]);
      k += g.nlat[i];
    }
    qsort(all, (size_t)nall, sizeof(uint32_t), cmp_u32);
  }

  printf("loadgen: %ld concurrent connections, %ld served in total (%ld dropped mid-message "
         "and replaced, %ld closed cleanly)\n",
         opt.conns, g.served, g.dropped, g.clean_closes);
  printf("loadgen: %ld/%ld messages echoed and verified byte for byte, in order "
         "(%ld text, %ld binary, %ld fragmented; %ld re-sent after drops); %ld/%ld pings ponged "
         "(%ld more lost with dropped connections)\n",
         g.verified, opt.messages, g.text_msgs, g.bin_msgs, g.frag_msgs, g.lost, g.pongs_ok,
         g.pings_sent - g.pings_lost, g.pings_lost);
  printf("loadgen: %.1f s, %.0f messages/s, %.1f MiB/s echoed (%.2f GiB each way)\n", secs,
         (double)g.verified / secs, (double)g.bytes_echoed / secs / 1048576.0,
         (double)g.bytes_echoed / 1073741824.0);
  if (all)
    printf("loadgen: round trip p50 %.2f ms, p99 %.2f ms, max %.2f ms\n", pct_ms(all, nall, 0.5),
           pct_ms(all, nall, 0.99), pct_ms(all, nall, 1.0));
  for (int i = 0; i < NCLASS; i++)
    printf("loadgen:   %-10s %8ld messages  p50 %8.2f ms  p99 %8.2f ms\n", CLASS_NAME[i],
           g.nlat[i], pct_ms(g.lat[i], g.nlat[i], 0.5), pct_ms(g.lat[i], g.nlat[i], 0.99));
  bool ok = true;
  if (opt.pid) {
    printf("loadgen: server RSS baseline %.1f MiB, peak %.1f MiB, final %.1f MiB; "
           "open fds baseline %ld, final %ld\n",
           g.rss_base / 1024.0, g.rss_peak / 1024.0, g.rss_final / 1024.0, g.fd_base, g.fd_final);
    printf("loadgen: server RSS after each round (all connections closed):");
    for (int i = 0; i < opt.rounds; i++) printf(" %.1f", g.rss_after[i] / 1024.0);
    printf(" MiB\n");
    if (opt.rounds > 1 && g.served_after_first > 0)
      printf("loadgen: server RSS change per connection served after the first round: %+.0f bytes\n",
             (double)(g.rss_after[opt.rounds - 1] - g.rss_after[0]) * 1024.0 /
                 (double)g.served_after_first);
    if (g.rss_final < 0 || (double)(g.rss_final - g.rss_base) > opt.rss_slack_mib * 1024.0) {
      printf("loadgen: FAIL: server RSS did not return to its baseline (+%.1f MiB allowed)\n",
             opt.rss_slack_mib);
      ok = false;
    }
    /* Every round serves as many connections as the first: memory held per
     * connection served would show up as growth from round to round. */
    if (opt.rounds > 1 &&
        (double)(g.rss_after[opt.rounds - 1] - g.rss_after[0]) > opt.rss_slack_mib * 1024.0) {
      printf("loadgen: FAIL: server RSS grew by %.1f MiB from the first round to the last\n",
             (g.rss_after[opt.rounds - 1] - g.rss_after[0]) / 1024.0);
      ok = false;
    }
    if (g.fd_final != g.fd_base) {
      printf("loadgen: FAIL: server still holds %ld descriptors more than at the start\n",
             g.fd_final - g.fd_base);
      ok = false;
    }
  }
  if (timed_out) {
    printf("loadgen: FAIL: timed out after %.0f s with %ld connections open\n", opt.timeout,
           g.open);
    ok = false;
  }
  if (g.errors) {
    printf("loadgen: FAIL: %ld errors (the first are on stderr)\n", g.errors);
    ok = false;
  }
  if (g.verified != opt.messages) {
    printf("loadgen: FAIL: %ld of %ld messages verified\n", g.verified, opt.messages);
    ok = false;
  }
  printf("loadgen: %s\n", ok ? "OK" : "FAILED");

  free(all);
  free(g.rss_after);
  for (int i = 0; i < NCLASS; i++) free(g.lat[i]);
  free(g.bin_pool);
  free(g.text_pool);
  free(g.boundary);
  free(g.scratch);
  free(g.readbuf);
  ws_config_free(g.cfg);
  close(g.epfd);
  return ok ? 0 : 1;
}
