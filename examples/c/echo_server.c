/*
 * echo_server: a WebSocket echo server on top of wsproto, written as a model
 * of a hardened public endpoint.
 *
 * Shows how to drive the sans-I/O engine from a single-threaded epoll loop
 * with non-blocking sockets and many concurrent connections:
 *
 *   bytes from the socket -> ws_conn_receive -> ws_conn_poll_event until NONE
 *   each event            -> accept / echo / nothing (auto-pong, auto close reply)
 *   engine output         -> send() what the socket takes, ws_conn_output_consume
 *
 * Echoes take the engine's zero-copy send path while nothing is queued
 * ahead of them: a small message is encoded whole into one reused staging
 * buffer (ws_conn_encode_text/_binary), a large one (ZERO_COPY_MIN) has only
 * its header encoded (ws_conn_encode_*_header) and goes out in one sendmsg
 * with the received payload itself. After the events of a read are taken,
 * everything waiting goes out in one sendmsg; only what the socket does not
 * take is copied (to the connection's "tail", written before the engine's
 * output). Per read, that is one recv and one sendmsg (plus one per large
 * echo); epoll_ctl only when the socket fills up or drains.
 *
 * Usage: echo_server [--host ADDR] [--port N] [--subprotocol NAME]...
 *                    [--deflate] [--deflate-window N]
 *                    [--max-message N] [--max-frame N] [--memory-budget N]
 *                    [--output-high-water N] [--max-connections N]
 *                    [--handshake-timeout MS] [--close-timeout MS]
 *                    [--idle-timeout MS] [--keepalive MS]
 *                    [--write-stall-timeout MS] [--sndbuf N] [--verbose]
 * (--help lists the defaults.)
 *
 * What a peer cannot do to it:
 * - Make it buffer without bound: a connection is read only while
 *   ws_conn_wants_read() is true and its pending output (the engine's, plus
 *   the unsent rest of echoes that bypassed it) is below the high-water mark
 *   (--output-high-water, also given to the engine), so a peer that sends
 *   but does not read its echoes is simply not read any more; the engine's
 *   memory budget (--memory-budget) caps the rest. (That unsent rest, at
 *   most STAGE_CAP bytes of staged frames plus one message, is held by the
 *   server in place of the copy the engine's output buffer would hold,
 *   outside the engine's budget.)
 * - Hold a connection forever: the engine owns no clock, so the deadlines are
 *   the server's. A connection still in the opening handshake after
 *   --handshake-timeout gets a 408 if it sent part of a request head (closed
 *   silently if it sent nothing); one that sent nothing, with no output
 *   waiting for it, for --idle-timeout is closed (1001 when open),
 *   optionally after keepalive pings (--keepalive); one whose pending
 *   output made no progress for --write-stall-timeout (a
 *   peer that stopped reading) is closed; one whose closing handshake started
 *   (our close frame queued, or the engine reached CLOSED) is closed at the
 *   latest --close-timeout later, even if the peer never reads what is left.
 * - Make it spin at the descriptor limit: when accept4 fails with EMFILE or
 *   ENFILE (or --max-connections is reached), the listener is taken out of
 *   the epoll set and tried again ACCEPT_PAUSE_MS later; waiting connections
 *   stay in the kernel's backlog meanwhile. At start-up the soft
 *   RLIMIT_NOFILE is raised to the hard limit.
 *
 * Prints exactly one line "listening on PORT" on stdout once it accepts
 * connections (--port 0 picks an ephemeral port).  SIGINT/SIGTERM stop it
 * cleanly: every connection is closed and freed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <netdb.h>
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
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include <wsproto.h>

/* One read buffer for the whole server. Large enough that a big message
 * usually arrives in one recv: the engine then sizes its message buffer once
 * instead of doubling it (and copying) piece by piece, and fewer recv calls
 * are made. (64 KiB cost about 20% more server CPU per message under
 * bench/echo_cpu.sh's mix, up to 256 KiB messages.) */
#define READ_CHUNK (256 * 1024)
#define MAX_EVENTS 64
#define DEFAULT_OUTPUT_HIGH_WATER (4 * 1024 * 1024) /* pending output that pauses reading */
#define MAX_SUBPROTOCOLS 16
#define TIMER_TICK_MS 100   /* how often deadlines are checked while clients exist */
#define ACCEPT_PAUSE_MS 100 /* listener rest after EMFILE/ENFILE */
#define SERVICE_ROUNDS 16   /* event/write rounds per wakeup, for fairness */
#define TRIM_AFTER_FREED (1024 * 1024) /* bytes released that make malloc_trim worth it */
/* Echoes of at least this many bytes go out zero-copy: the frame header from
 * ws_conn_encode_*_header() and the received payload itself, in one sendmsg,
 * instead of being copied into the engine's output buffer. Below it, the
 * copy costs less than the extra system call (smaller echoes are batched
 * into one send per read). */
#define ZERO_COPY_MIN (16 * 1024)
#define STAGE_CAP (64 * 1024) /* staged echo frames per sendmsg (> ZERO_COPY_MIN + 2 headers) */

/* HTTP's answer to a request head that did not arrive in time. The engine
 * cannot ws_conn_reject() a request it has not fully parsed, so this fixed
 * response is written straight to the socket. */
static const char RESPONSE_408[] = "HTTP/1.1 408 Request Timeout\r\n"
                                   "Connection: close\r\n"
                                   "Content-Length: 0\r\n"
                                   "\r\n";

struct options {
  const char *host;
  const char *port;
  const char *subprotocols[MAX_SUBPROTOCOLS]; /* what we support, in order */
  size_t subprotocols_len;
  bool deflate;
  int deflate_window;          /* 0 = engine default (15) */
  uint64_t max_message;        /* 0 = engine default (16 MiB) */
  uint64_t max_frame;          /* 0 = same as max_message */
  uint64_t memory_budget;      /* 0 = engine default (64 MiB) */
  uint64_t output_high_water;  /* bytes */
  uint64_t max_connections;    /* 0 = no limit but the descriptor limit */
  long handshake_timeout_ms;   /* 0 = none */
  long close_timeout_ms;       /* 0 = none */
  long idle_timeout_ms;        /* 0 = none */
  long keepalive_ms;           /* 0 = no pings */
  long write_stall_timeout_ms; /* 0 = none */
  long sndbuf;                 /* SO_SNDBUF of accepted sockets; 0 = the kernel's (autotuned) */
  bool verbose;
};

/* One accepted TCP connection and its WebSocket engine. */
struct client {
  int fd;
  ws_conn_t *ws;
  uint32_t epoll_mask;        /* events currently registered with epoll */
  bool close_after_flush;     /* rejected handshake or fatal error: close once output is sent */
  bool ping_outstanding;      /* keepalive ping sent, nothing received since */
  bool output_pending;        /* output was waiting at the last write attempt */
  bool write_blocked;         /* the socket was full since the output was last drained */
  int64_t handshake_deadline; /* monotonic ms; 0 = none (handshake done) */
  int64_t close_deadline;     /* monotonic ms; 0 = closing has not started */
  int64_t last_activity;      /* monotonic ms of the last input, or of output that had waited
                               * being drained (or of the accept) */
  int64_t last_tx_progress;   /* monotonic ms of the last write progress while output waited */
  /* Input the engine refused with WS_ERR_INPUT_FULL, fed again once it wants
   * to read; the socket is not read while this is held. */
  uint8_t *held;
  size_t held_len;
  /* Frame bytes of a zero-copy echo that the socket did not take at once:
   * the engine counts that frame as sent, so these go out before anything
   * in its output buffer. (The one copy of the echo, made only when the
   * socket is full, in place of the engine's copy.) */
  uint8_t *tail;
  size_t tail_len, tail_off; /* bytes held, bytes of them already written */
  bool zero_copy;            /* no compression negotiated: echoes may bypass the engine's output */
  bool broken;               /* a write failed part-way: close without writing more */
  struct client *prev, *next;
};

struct server {
  struct options opt;
  int epfd, listen_fd, sig_fd;
  ws_config_t *cfg;
  struct client *clients; /* doubly linked, for deadlines and cleanup */
  size_t nclients;
  bool listen_paused;       /* listener out of the epoll set */
  int64_t accept_resume_at; /* when to try accepting again */
  bool trim_wanted;         /* large buffers were freed since the last malloc_trim */
  int64_t last_trim;        /* monotonic ms of the last malloc_trim */
  /* Frames encoded during the current client's event drain (echo_direct),
   * written with its output; always empty between clients. */
  uint8_t *stage;
  size_t stage_len;
};

/* epoll data.ptr tags for the two non-client descriptors. */
static char LISTEN_TAG, SIGNAL_TAG;

static bool g_verbose;

/* Output waiting for the socket: our zero-copy tail, then the engine's. */
static size_t pending_output(const struct client *c) {
  return c->tail_len - c->tail_off + ws_conn_output_len(c->ws);
}

/* Bytes this connection holds (the engine's accounting plus our tail). */
static size_t client_memory(const struct client *c) {
  return ws_conn_memory_used(c->ws) + c->tail_len;
}

static int64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void logf_(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void logf_(const char *fmt, ...) {
  if (!g_verbose) return;
  va_list ap;
  va_start(ap, fmt);
  fputs("echo_server: ", stderr);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
}

static void usage(FILE *f) {
  fputs(
      "usage: echo_server [--host ADDR] [--port N] [--subprotocol NAME]... [--deflate]\n"
      "                   [--deflate-window N] [--max-message N] [--max-frame N]\n"
      "                   [--memory-budget N] [--output-high-water N] [--max-connections N]\n"
      "                   [--handshake-timeout MS] [--close-timeout MS] [--idle-timeout MS]\n"
      "                   [--keepalive MS] [--write-stall-timeout MS] [--sndbuf N] [--verbose]\n"
      "  --host ADDR          address to bind (default 127.0.0.1)\n"
      "  --port N             TCP port (default 9001; 0 = ephemeral)\n"
      "  --subprotocol NAME   accept this subprotocol when a client offers it (repeatable)\n"
      "  --deflate            accept permessage-deflate (RFC 7692) when a client offers it\n"
      "  --deflate-window N   largest LZ77 window, 9..15 (default 15; implies --deflate)\n"
      "  --max-message N      largest message in bytes, after decompression (default 16 MiB;\n"
      "                       18446744073709551615 = no limit); also the frame limit unless\n"
      "                       --max-frame is given\n"
      "  --max-frame N        largest frame payload in bytes (default: the message limit)\n"
      "  --memory-budget N    bytes one connection may hold (default 64 MiB, the engine's;\n"
      "                       18446744073709551615 = no limit)\n"
      "  --output-high-water N  pending output (bytes) above which a connection is not read\n"
      "                       until it drains (default 4 MiB)\n"
      "  --max-connections N  connections served at once; more wait in the listen backlog\n"
      "                       (default 0 = only the descriptor limit)\n"
      "  --handshake-timeout MS  close connections still handshaking after MS ms, with a 408\n"
      "                       if part of a request head arrived (default 10000; 0 = never)\n"
      "  --close-timeout MS   close TCP at the latest MS ms after the closing handshake\n"
      "                       started (default 5000; 0 = never)\n"
      "  --idle-timeout MS    close a connection that sent nothing, with no output waiting for\n"
      "                       it, for MS ms (close code 1001 when open; default 60000; 0 = never)\n"
      "  --keepalive MS       ping an open connection idle for MS ms; its pong counts as\n"
      "                       traffic (default 0 = no pings)\n"
      "  --write-stall-timeout MS  close a connection whose pending output made no progress\n"
      "                       for MS ms, i.e. a peer that stopped reading (default 10000;\n"
      "                       0 = never)\n"
      "  --sndbuf N           kernel send buffer of each connection in bytes (SO_SNDBUF;\n"
      "                       default 0 = the kernel's, autotuned); small values make writes\n"
      "                       come up short (tests of the partial-write paths)\n"
      "  --verbose            log connection events (and negotiated deflate) to stderr\n",
      f);
}

/* ------------------------------------------------------------------------ */
/* Listener                                                                 */
/* ------------------------------------------------------------------------ */

static void listener_pause(struct server *s, int64_t resume_at) {
  if (!s->listen_paused) {
    struct epoll_event ev = {.events = 0, .data.ptr = &LISTEN_TAG};
    epoll_ctl(s->epfd, EPOLL_CTL_MOD, s->listen_fd, &ev);
    s->listen_paused = true;
  }
  s->accept_resume_at = resume_at;
}

static void listener_resume(struct server *s) {
  if (!s->listen_paused) return;
  struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &LISTEN_TAG};
  epoll_ctl(s->epfd, EPOLL_CTL_MOD, s->listen_fd, &ev);
  s->listen_paused = false;
}

static bool at_max_connections(const struct server *s) {
  return s->opt.max_connections && s->nclients >= s->opt.max_connections;
}

/* ------------------------------------------------------------------------ */
/* Client bookkeeping                                                       */
/* ------------------------------------------------------------------------ */

static void client_close(struct server *s, struct client *c) {
  logf_("fd %d: closed (state %d)", c->fd, (int)ws_conn_state(c->ws));
  /* close() also removes the descriptor from the epoll set. */
  close(c->fd);
  ws_conn_free(c->ws);
  free(c->held);
  free(c->tail);
  if (c->prev) c->prev->next = c->next;
  else s->clients = c->next;
  if (c->next) c->next->prev = c->prev;
  s->nclients--;
  free(c);
  /* A slot is free again: accept at the next tick (not before, so that a
   * descriptor-limit pause is kept). */
  if (s->listen_paused && s->accept_resume_at == INT64_MAX) s->accept_resume_at = now_ms();
#ifdef __GLIBC__
  /* glibc keeps freed heap pages mapped for reuse; once the last client is
   * gone, hand them back so the server's RSS returns to its baseline. */
  if (s->nclients == 0) {
    malloc_trim(0);
    s->trim_wanted = false;
  }
#endif
}

static int set_interest(struct server *s, struct client *c, uint32_t mask) {
  if (c->epoll_mask == mask) return 0;
  struct epoll_event ev = {.events = mask, .data.ptr = c};
  if (epoll_ctl(s->epfd, EPOLL_CTL_MOD, c->fd, &ev) < 0) return -1;
  c->epoll_mask = mask;
  return 0;
}

/*
 * Reads and drops whatever input is already queued (bounded).  close() on a
 * socket with unread input sends a RST, which can make the peer lose the
 * response still in flight to it (a rejection, a close frame).
 */
static void discard_input(int fd) {
  char sink[4096];
  for (size_t total = 0; total < (1u << 20);) {
    ssize_t n = recv(fd, sink, sizeof sink, MSG_DONTWAIT);
    if (n <= 0) break;
    total += (size_t)n;
  }
}

/* Sends FIN, drops queued input and frees the connection. */
static void client_finish(struct server *s, struct client *c) {
  /* RFC 6455 7.1.1: the server should close the TCP connection first. */
  shutdown(c->fd, SHUT_WR);
  discard_input(c->fd);
  client_close(s, c);
}

/*
 * Arms the close deadline once the closing handshake has started on our side
 * (close frame queued: LOCAL_CLOSING, or the engine already reached CLOSED),
 * or a rejection / fatal error waits for its output to drain.
 */
static void update_deadlines(const struct server *s, struct client *c) {
  ws_state_t st = ws_conn_state(c->ws);
  if (st != WS_STATE_CONNECTING) c->handshake_deadline = 0;
  bool closing = c->close_after_flush || st == WS_STATE_LOCAL_CLOSING || st == WS_STATE_CLOSED ||
                 st == WS_STATE_REJECTING;
  if (closing && c->close_deadline == 0 && s->opt.close_timeout_ms > 0)
    c->close_deadline = now_ms() + s->opt.close_timeout_ms;
}

/*
 * One sendmsg of what waits, in stream order: the unsent rest of our tail,
 * the frames staged in s->stage during this drain, then either `payload`
 * (the body of a zero-copy echo whose header was just staged) or else the
 * engine's output. The stage is emptied in every case: what the socket did
 * not take of the tail, stage and payload becomes the new tail (the only
 * copy, made only when the socket is full); engine output it did not take
 * stays in the engine.
 *
 * Returns -1 on a socket error or when out of memory for the tail (the
 * connection cannot go on: c->broken), 0 when something is still waiting
 * (the socket is full), 1 when everything offered went out. *wrote is set
 * when any byte went out.
 */
static int client_flush(struct server *s, struct client *c, const uint8_t *payload, size_t plen,
                        bool *wrote) {
  size_t tail_rest = c->tail_len - c->tail_off, stage_len = s->stage_len;
  s->stage_len = 0;
  const uint8_t *out = NULL;
  size_t out_len = 0;
  if (!payload && ws_conn_output_len(c->ws) > 0 &&
      ws_conn_output_peek(c->ws, &out, &out_len) != WS_OK) {
    c->broken = true;
    return -1;
  }
  struct iovec iov[3];
  int k = 0;
  if (tail_rest) iov[k++] = (struct iovec){c->tail + c->tail_off, tail_rest};
  if (stage_len) iov[k++] = (struct iovec){s->stage, stage_len};
  if (plen) iov[k++] = (struct iovec){(void *)payload, plen};
  else if (out_len) iov[k++] = (struct iovec){(void *)out, out_len};
  size_t total = tail_rest + stage_len + plen + out_len;
  if (total == 0) return 1;
  struct msghdr msg = {.msg_iov = iov, .msg_iovlen = (size_t)k};
  ssize_t n;
  do n = sendmsg(c->fd, &msg, MSG_NOSIGNAL);
  while (n < 0 && errno == EINTR);
  if (n < 0) {
    if (errno != EAGAIN && errno != EWOULDBLOCK) {
      logf_("fd %d: send: %s", c->fd, strerror(errno));
      c->broken = true;
      return -1;
    }
    n = 0;
  }
  if (n > 0) {
    *wrote = true;
    c->last_tx_progress = now_ms();
  }
  size_t left = (size_t)n;
  size_t tail_sent = left < tail_rest ? left : tail_rest;
  left -= tail_sent;
  size_t stage_sent = left < stage_len ? left : stage_len;
  left -= stage_sent;
  size_t payload_sent = left < plen ? left : plen;
  left -= payload_sent; /* what is left went out of the engine's output */
  size_t unsent_new = (stage_len - stage_sent) + (plen - payload_sent);
  if (unsent_new == 0) {
    c->tail_off += tail_sent;
    if (c->tail_off == c->tail_len) {
      free(c->tail);
      c->tail = NULL;
      c->tail_len = c->tail_off = 0;
    }
  } else {
    size_t keep = tail_rest - tail_sent;
    uint8_t *t = malloc(keep + unsent_new);
    if (!t) {
      logf_("fd %d: out of memory holding %zu bytes of output", c->fd, keep + unsent_new);
      c->broken = true;
      return -1;
    }
    if (keep) memcpy(t, c->tail + c->tail_off + tail_sent, keep);
    memcpy(t + keep, s->stage + stage_sent, stage_len - stage_sent);
    if (plen - payload_sent)
      memcpy(t + keep + stage_len - stage_sent, payload + payload_sent, plen - payload_sent);
    free(c->tail);
    c->tail = t;
    c->tail_len = keep + unsent_new;
    c->tail_off = 0;
  }
  if (left) ws_conn_output_consume(c->ws, left);
  if ((size_t)n < total) {
    /* A short write on a non-blocking socket: it is full (EPOLLOUT says
     * when it has room again; no second call just to see EAGAIN). */
    c->write_blocked = true;
    if (!c->output_pending) {
      c->output_pending = true;
      c->last_tx_progress = now_ms(); /* the write-stall clock starts now */
    }
    return 0;
  }
  return 1;
}

/*
 * Writes as much pending output (tail, stage, engine output) as the socket
 * accepts. Returns -1 on a socket error, 0 when output is still pending (the
 * socket is full), 1 when everything was written. *wrote tells whether any
 * byte went out.
 */
static int client_write(struct server *s, struct client *c, bool *wrote) {
  *wrote = false;
  if (c->broken) {
    s->stage_len = 0;
    return -1;
  }
  if ((pending_output(c) > 0 || s->stage_len > 0) && !c->output_pending) {
    c->output_pending = true;
    c->last_tx_progress = now_ms(); /* the write-stall clock starts now */
  }
  do {
    int r = client_flush(s, c, NULL, 0, wrote);
    if (r <= 0) return r;
  } while (pending_output(c) > 0);
  c->output_pending = false;
  if (c->write_blocked) {
    /* Output that had to wait for the peer to read is written: the peer was
     * busy, the idle clock starts again now. (Output written at once, such
     * as our own keepalive ping, does not count.) */
    c->write_blocked = false;
    c->last_activity = now_ms();
  }
  return 1;
}

/*
 * Echoes `data[0..len)`, the payload of the event just polled, without the
 * engine's output buffer: a small message is encoded whole into s->stage
 * (ws_conn_encode_*: one copy, into a buffer that stays allocated and warm);
 * a large one has only its header staged, and the stage goes out at once in
 * one sendmsg with the payload itself (zero-copy: the payload pointer is
 * only valid until the next poll). Requires an empty engine output and no
 * tail (the frame must not overtake them); the engine refuses the encoding
 * otherwise, and for any reason ws_conn_send_* would refuse it, changing
 * nothing.
 *
 * Returns 1 when echoed, 0 when the caller should echo through
 * ws_conn_send_text/_binary instead, -1 when the connection broke.
 */
static int echo_direct(struct server *s, struct client *c, bool text, const uint8_t *data,
                       size_t len) {
  bool large = len >= ZERO_COPY_MIN;
  size_t need = (large ? 0 : len) + WS_MAX_SERVER_HEADER_LEN;
  if (STAGE_CAP - s->stage_len < need) {
    bool wrote;
    if (client_flush(s, c, NULL, 0, &wrote) < 0) return -1;
    if (c->tail_len) return 0; /* the socket is full: queue in the engine */
  }
  uint8_t *at = s->stage + s->stage_len;
  size_t cap = STAGE_CAP - s->stage_len, n;
  uint32_t flags = text ? WS_SEND_TRUSTED_UTF8 : 0;
  ws_result_t r;
  if (large)
    r = text ? ws_conn_encode_text_header(c->ws, data, len, flags, at, cap, &n)
             : ws_conn_encode_binary_header(c->ws, data, len, flags, at, cap, &n);
  else
    r = text ? ws_conn_encode_text(c->ws, data, len, flags, at, cap, &n)
             : ws_conn_encode_binary(c->ws, data, len, flags, at, cap, &n);
  if (r != WS_OK) return 0;
  s->stage_len += n;
  if (!large) return 1;
  /* The engine counts the frame as sent: the payload must follow now. */
  bool wrote;
  return client_flush(s, c, data, len, &wrote) < 0 ? -1 : 1;
}

/* Called after WS_ERR_HANDSHAKE: answer with the status the engine suggests. */
static void client_reject(struct client *c) {
  uint16_t status = ws_conn_handshake_status_hint(c->ws);
  logf_("fd %d: bad handshake (%s), rejecting with %u", c->fd, ws_conn_last_error(c->ws),
        (unsigned)status);
  if (ws_conn_reject(c->ws, status, NULL, 0, false) != WS_OK)
    logf_("fd %d: reject failed: %s", c->fd, ws_conn_last_error(c->ws));
  c->close_after_flush = true;
}

/*
 * Feeds bytes read from the socket. WS_ERR_INPUT_FULL keeps them in
 * c->held (the socket is not read again until they are taken).
 */
static void client_feed(struct client *c, const uint8_t *data, size_t len) {
  ws_result_t r = ws_conn_receive(c->ws, data, len);
  if (r == WS_ERR_INPUT_FULL) {
    if (data != c->held) {
      free(c->held); /* never set here: the socket is not read while input is held */
      c->held = malloc(len);
      if (!c->held) {
        logf_("fd %d: out of memory holding input", c->fd);
        c->close_after_flush = true;
        return;
      }
      memcpy(c->held, data, len);
      c->held_len = len;
    }
    logf_("fd %d: input full, %zu bytes held", c->fd, len);
    return;
  }
  if (data == c->held) {
    free(c->held);
    c->held = NULL;
    c->held_len = 0;
  }
  if (r == WS_ERR_HANDSHAKE) {
    client_reject(c);
  } else if (r == WS_ERR_CLOSED) {
    c->close_after_flush = true; /* data after the close handshake: drop it */
  } else if (r != WS_OK) {
    /* NO_MEMORY: the engine failed the connection (its CLOSE 1011 follows). */
    logf_("fd %d: receive: %s (%s)", c->fd, ws_result_str(r), ws_conn_last_error(c->ws));
    c->close_after_flush = true;
  }
}

static const char *pick_subprotocol(const struct options *opt, const ws_event_t *ev,
                                    size_t *len) {
  /* The client lists its preferences in order: take the first we support. */
  for (size_t i = 0; i < ev->subprotocols_len; i++) {
    const ws_str_t *offered = &ev->subprotocols[i];
    for (size_t j = 0; j < opt->subprotocols_len; j++) {
      const char *ours = opt->subprotocols[j];
      if (strlen(ours) == offered->len && memcmp(ours, offered->ptr, offered->len) == 0) {
        *len = offered->len;
        return ours; /* our own copy: the event's pointers die on accept */
      }
    }
  }
  *len = 0;
  return NULL;
}

/*
 * Drain every pending event; *count receives how many were taken. Returns
 * false on a fatal error, after which the caller flushes whatever is queued
 * and closes.
 */
static bool client_drain_events(struct server *s, struct client *c, size_t *count) {
  *count = 0;
  for (;;) {
    /* What the engine queued while taking the last event (an automatic
     * pong, the 101) is moved to the stage, behind the frames staged
     * before it, so that the echoes after it may still bypass the engine's
     * output. Only here, between events: taking output is a mutating call,
     * which would end the borrow of an event's data. */
    size_t queued = ws_conn_output_len(c->ws);
    if (queued && c->zero_copy && c->tail_len == 0 && queued <= STAGE_CAP - s->stage_len) {
      const uint8_t *out;
      size_t out_len;
      if (ws_conn_output_peek(c->ws, &out, &out_len) == WS_OK && out_len == queued) {
        memcpy(s->stage + s->stage_len, out, out_len);
        s->stage_len += out_len;
        ws_conn_output_consume(c->ws, out_len);
      }
    }
    ws_event_t ev;
    ws_result_t r = ws_conn_poll_event(c->ws, &ev);
    if (r == WS_ERR_HANDSHAKE) {
      client_reject(c);
      return true;
    }
    if (r == WS_ERR_NO_MEMORY && ev.type != WS_EVENT_NONE) {
      /* Parsing held-back input failed; the CLOSE 1011 follows. */
      logf_("fd %d: poll_event: out of memory", c->fd);
      c->close_after_flush = true;
      r = WS_OK;
    }
    if (r != WS_OK) {
      logf_("fd %d: poll_event: %s (%s)", c->fd, ws_result_str(r), ws_conn_last_error(c->ws));
      return false;
    }
    if (ev.type == WS_EVENT_NONE) return true;
    ++*count;

    switch (ev.type) {
    case WS_EVENT_REQUEST: {
      logf_("fd %d: upgrade request for %.*s (host %.*s)", c->fd, (int)ev.target.len,
            ev.target.ptr, (int)ev.host.len, ev.host.ptr);
      size_t proto_len;
      const char *proto = pick_subprotocol(&s->opt, &ev, &proto_len);
      /* With --deflate the config enables permessage-deflate: the engine
       * answers a suitable offer in the 101 by itself. */
      r = ws_conn_accept(c->ws, proto, proto_len, NULL, 0);
      if (r != WS_OK) {
        logf_("fd %d: accept: %s (%s)", c->fd, ws_result_str(r), ws_conn_last_error(c->ws));
        return false;
      }
      logf_("fd %d: accepted%s%s", c->fd, proto ? ", subprotocol " : "", proto ? proto : "");
      ws_deflate_params_t dp;
      /* Compressed echoes go through the engine's output (the engine
       * compresses them there); the others may go out zero-copy. */
      c->zero_copy = !ws_conn_deflate_params(c->ws, &dp);
      if (!c->zero_copy)
        logf_("fd %d: permessage-deflate: server_no_context_takeover=%d "
              "client_no_context_takeover=%d server_max_window_bits=%u "
              "client_max_window_bits=%u",
              c->fd, (int)dp.server_no_context_takeover, (int)dp.client_no_context_takeover,
              (unsigned)dp.server_max_window_bits, (unsigned)dp.client_max_window_bits);
      else
        logf_("fd %d: no compression", c->fd);
      break;
    }

    case WS_EVENT_TEXT:
    case WS_EVENT_BINARY: {
      /* Whole-message mode (the default): one event per complete message.
       * Its data goes straight back: sending does not touch what an event
       * borrowed (see ws_event_t), so no scratch copy is needed, and the
       * engine validated the text on receipt, so it is not checked again.
       * While nothing waits in the engine's output or our tail, the echo
       * bypasses the engine's output (echo_direct: staged, or zero-copy
       * when large); otherwise, or with compression, it is queued there
       * behind what waits. Either way it is written after the drain,
       * together with everything else, in one sendmsg. */
      bool text = ev.type == WS_EVENT_TEXT;
      size_t len = ev.len;
      if (c->zero_copy && c->tail_len == 0 && ws_conn_output_len(c->ws) == 0) {
        int z = echo_direct(s, c, text, ev.data, len);
        if (z < 0) return false;
        if (z > 0) {
          logf_("fd %d: echoed %s message of %zu bytes", c->fd, text ? "text" : "binary", len);
          break;
        }
      }
      r = text ? ws_conn_send_text(c->ws, ev.data, len, WS_SEND_TRUSTED_UTF8)
               : ws_conn_send_binary(c->ws, ev.data, len, 0);
      /* WRONG_STATE: the peer started closing; its message is not echoed. */
      if (r != WS_OK && r != WS_ERR_WRONG_STATE) {
        logf_("fd %d: send: %s (%s)", c->fd, ws_result_str(r), ws_conn_last_error(c->ws));
        return false;
      }
      if (r == WS_OK)
        logf_("fd %d: echoed %s message of %zu bytes", c->fd, text ? "text" : "binary", len);
      else
        logf_("fd %d: %s message of %zu bytes not echoed: closing", c->fd, text ? "text" : "binary",
              len);
      break;
    }

    case WS_EVENT_PING: /* the engine already queued (or coalesced) the pong */
      logf_("fd %d: ping (%zu bytes)", c->fd, ev.len);
      break;
    case WS_EVENT_PONG:
      logf_("fd %d: pong (%zu bytes)", c->fd, ev.len);
      break;
    case WS_EVENT_CLOSE: /* the engine already queued the close reply */
      logf_("fd %d: close %u%s \"%.*s\"", c->fd, (unsigned)ev.code,
            (ev.flags & WS_EVENT_FLAG_PROTOCOL_ERROR) ? " (protocol error)" : "", (int)ev.len,
            (const char *)ev.data);
      break;

    default: /* client-side events never reach a server */
      logf_("fd %d: unexpected event %d", c->fd, (int)ev.type);
      break;
    }
  }
}

/*
 * Everything after new input (or writable socket, or a timer): feed held
 * input, take events, write output, and again while writing let the engine
 * resume parsing input it held back; then register what to wait for. The
 * socket is read (EPOLLIN) only while the engine wants input and the output
 * is below the high-water mark, so a peer that does not read its echoes
 * stops being read instead of growing our buffers.
 *
 * Returns false when the connection is finished (and has been freed).
 */
static bool client_service(struct server *s, struct client *c) {
  size_t mem_before = client_memory(c);
  int w = 1;
  for (int round = 0; round < SERVICE_ROUNDS; round++) {
    if (c->held && !c->close_after_flush && ws_conn_wants_read(c->ws))
      client_feed(c, c->held, c->held_len);
    size_t events;
    if (!client_drain_events(s, c, &events)) c->close_after_flush = true;
    bool wrote;
    w = client_write(s, c, &wrote);
    if (w < 0) {
      client_close(s, c);
      return false;
    }
    if (w == 1 && (c->close_after_flush || ws_conn_wants_close_transport(c->ws))) {
      client_finish(s, c);
      return false;
    }
    /* Parsing held back for backed-up output resumes on the next poll once
     * the output is below the mark; stop when a round changed nothing. */
    if (c->close_after_flush || pending_output(c) >= s->opt.output_high_water ||
        (events == 0 && !wrote && !(c->held && ws_conn_wants_read(c->ws))))
      break;
  }

  size_t mem_after = client_memory(c);
  if (mem_before > mem_after && mem_before - mem_after >= TRIM_AFTER_FREED) s->trim_wanted = true;

  uint32_t mask = 0;
  if (!c->close_after_flush && !c->held && ws_conn_wants_read(c->ws) &&
      pending_output(c) < s->opt.output_high_water)
    mask |= EPOLLIN;
  if (w == 0 || pending_output(c) > 0) mask |= EPOLLOUT;
  if (set_interest(s, c, mask) < 0) {
    client_close(s, c);
    return false;
  }
  update_deadlines(s, c);
  return true;
}

/* Returns false when the connection is finished (and has been freed). */
static bool client_on_readable(struct server *s, struct client *c, uint8_t *buf) {
  ssize_t n = recv(c->fd, buf, READ_CHUNK, 0);
  if (n < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return true;
    logf_("fd %d: recv: %s", c->fd, strerror(errno));
    client_close(s, c);
    return false;
  }

  if (n == 0) {
    /* Peer closed its side: let the engine report the 1006/close, send what is
     * left (nothing can be read any more) and close. */
    logf_("fd %d: eof", c->fd);
    ws_conn_receive_eof(c->ws);
    c->close_after_flush = true;
  } else if (!c->close_after_flush) { /* else rejected: ignore anything else */
    c->last_activity = now_ms();
    c->ping_outstanding = false;
    client_feed(c, buf, (size_t)n);
  }
  return client_service(s, c);
}

/* Connection opened too long ago and still handshaking. */
static void client_handshake_timeout(struct server *s, struct client *c, const char *why,
                                     long ms) {
  size_t buffered = ws_conn_buffered_input(c->ws);
  logf_("fd %d: %s after %ld ms (%zu bytes of request buffered)", c->fd, why, ms, buffered);
  c->handshake_deadline = 0;
  if (c->close_after_flush) { /* a rejection is still being written */
    client_close(s, c);
    return;
  }
  if (buffered > 0) {
    /* Part of a request head arrived: answer 408 ourselves, best effort
     * (a fresh socket has room for these few bytes). */
    ssize_t n = send(c->fd, RESPONSE_408, sizeof RESPONSE_408 - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n != (ssize_t)(sizeof RESPONSE_408 - 1)) logf_("fd %d: 408 not fully sent", c->fd);
  }
  client_finish(s, c);
}

/*
 * Enforces the per-connection deadlines and keepalive pings (a linear scan
 * every TIMER_TICK_MS: cheap at this scale; a timer wheel or min-heap would
 * suit hundreds of thousands).
 */
static void check_deadlines(struct server *s) {
  int64_t now = now_ms();
  const struct options *o = &s->opt;
  for (struct client *c = s->clients, *next; c; c = next) {
    next = c->next;
    ws_state_t st = ws_conn_state(c->ws);
    if (c->handshake_deadline && now >= c->handshake_deadline && st == WS_STATE_CONNECTING) {
      client_handshake_timeout(s, c, "handshake timeout", o->handshake_timeout_ms);
      continue;
    }
    if (c->close_deadline && now >= c->close_deadline) {
      logf_("fd %d: close timeout after %ld ms (%zu bytes unsent), closing", c->fd,
            o->close_timeout_ms, pending_output(c));
      client_close(s, c);
      continue;
    }
    if (o->write_stall_timeout_ms > 0 && c->output_pending && pending_output(c) > 0 &&
        now - c->last_tx_progress >= o->write_stall_timeout_ms) {
      logf_("fd %d: write stall: no output progress for %ld ms (%zu bytes unsent), closing",
            c->fd, o->write_stall_timeout_ms, pending_output(c));
      client_close(s, c);
      continue;
    }
    /* While output waits, the write-stall deadline is the one that applies
     * (a peer busy reading our output, or stuck, may not be sending). */
    int64_t idle = c->output_pending ? 0 : now - c->last_activity;
    if (o->idle_timeout_ms > 0 && idle >= o->idle_timeout_ms && c->close_deadline == 0) {
      if (st == WS_STATE_CONNECTING) {
        client_handshake_timeout(s, c, "idle timeout", o->idle_timeout_ms);
        continue;
      }
      logf_("fd %d: idle timeout after %ld ms", c->fd, o->idle_timeout_ms);
      static const char reason[] = "idle timeout";
      if (st != WS_STATE_OPEN ||
          ws_conn_send_close(c->ws, 1001, reason, sizeof reason - 1) != WS_OK) {
        client_close(s, c);
        continue;
      }
      client_service(s, c); /* may free c; arms the close deadline */
      continue;
    }
    if (o->keepalive_ms > 0 && idle >= o->keepalive_ms && !c->ping_outstanding &&
        st == WS_STATE_OPEN && !c->close_after_flush) {
      c->ping_outstanding = true;
      if (ws_conn_send_ping(c->ws, (const uint8_t *)"keepalive", 9) == WS_OK) {
        logf_("fd %d: keepalive ping after %ld ms idle", c->fd, (long)idle);
        client_service(s, c); /* may free c */
      }
    }
  }
#ifdef __GLIBC__
  /* Large buffers were freed (big messages echoed and written): give the
   * pages back so that a burst does not leave the RSS high. */
  if (s->trim_wanted && now - s->last_trim >= 1000) {
    malloc_trim(0);
    s->last_trim = now;
    s->trim_wanted = false;
  }
#endif
  if (s->listen_paused && now >= s->accept_resume_at && !at_max_connections(s))
    listener_resume(s);
}

static void accept_clients(struct server *s) {
  while (!at_max_connections(s)) {
    int fd = accept4(s->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
        /* Out of descriptors (or kernel memory): the listener stays readable
         * while connections wait, so retrying at once would spin. Rest it. */
        logf_("accept: %s: pausing the listener for %d ms (%zu open)", strerror(errno),
              ACCEPT_PAUSE_MS, s->nclients);
        listener_pause(s, now_ms() + ACCEPT_PAUSE_MS);
      } else if (errno != EAGAIN && errno != EWOULDBLOCK) {
        logf_("accept: %s", strerror(errno));
      }
      return;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (s->opt.sndbuf > 0) {
      int sb = (int)s->opt.sndbuf;
      setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sb, sizeof sb);
    }

    struct client *c = calloc(1, sizeof *c);
    ws_result_t r = WS_OK;
    if (!c || (r = ws_conn_new_server(s->cfg, &c->ws)) != WS_OK) {
      logf_("new connection failed: %s", c ? ws_result_str(r) : "out of memory");
      free(c);
      close(fd);
      continue;
    }
    c->fd = fd;
    c->epoll_mask = EPOLLIN;
    c->last_activity = now_ms();
    if (s->opt.handshake_timeout_ms > 0) c->handshake_deadline = c->last_activity + s->opt.handshake_timeout_ms;
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
    if (epoll_ctl(s->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
      logf_("epoll_ctl: %s", strerror(errno));
      ws_conn_free(c->ws);
      free(c);
      close(fd);
      continue;
    }
    c->next = s->clients;
    if (s->clients) s->clients->prev = c;
    s->clients = c;
    s->nclients++;
    logf_("fd %d: connected (%zu open)", fd, s->nclients);
  }
  /* At --max-connections: resume once a client has gone (client_close). */
  logf_("at --max-connections (%zu open): not accepting", s->nclients);
  listener_pause(s, INT64_MAX);
}

/* ------------------------------------------------------------------------ */
/* Setup                                                                    */
/* ------------------------------------------------------------------------ */

static bool parse_num(const char *s, long min, long max, long *out) {
  char *end;
  errno = 0;
  long v = strtol(s, &end, 10);
  if (*s == '\0' || *end != '\0' || errno || v < min || v > max) return false;
  *out = v;
  return true;
}

/* An unsigned 64-bit decimal of at least `min` (UINT64_MAX included). */
static bool parse_u64(const char *s, uint64_t min, uint64_t *out) {
  char *end;
  errno = 0;
  if (*s < '0' || *s > '9') return false;
  unsigned long long v = strtoull(s, &end, 10);
  if (*end != '\0' || errno || v < min) return false;
  *out = (uint64_t)v;
  return true;
}

static int bad_value(const char *opt, const char *v) {
  fprintf(stderr, "echo_server: bad value for %s: '%s'\n", opt, v);
  return -1;
}

static int parse_args(int argc, char **argv, struct options *opt) {
  opt->host = "127.0.0.1";
  opt->port = "9001";
  opt->handshake_timeout_ms = 10000;
  opt->close_timeout_ms = 5000;
  opt->idle_timeout_ms = 60000;
  opt->keepalive_ms = 0;
  opt->write_stall_timeout_ms = 10000;
  opt->output_high_water = DEFAULT_OUTPUT_HIGH_WATER;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    bool has_value = i + 1 < argc;
    long *ms = NULL;
    uint64_t *u64 = NULL;
    uint64_t u64_min = 1;
    if (!strcmp(a, "--handshake-timeout")) ms = &opt->handshake_timeout_ms;
    else if (!strcmp(a, "--close-timeout")) ms = &opt->close_timeout_ms;
    else if (!strcmp(a, "--idle-timeout")) ms = &opt->idle_timeout_ms;
    else if (!strcmp(a, "--keepalive")) ms = &opt->keepalive_ms;
    else if (!strcmp(a, "--write-stall-timeout")) ms = &opt->write_stall_timeout_ms;
    else if (!strcmp(a, "--max-message")) u64 = &opt->max_message;
    else if (!strcmp(a, "--max-frame")) u64 = &opt->max_frame;
    else if (!strcmp(a, "--memory-budget")) u64 = &opt->memory_budget;
    else if (!strcmp(a, "--output-high-water")) u64 = &opt->output_high_water;
    else if (!strcmp(a, "--max-connections")) {
      u64 = &opt->max_connections;
      u64_min = 0;
    }

    if ((ms || u64) && has_value) {
      const char *v = argv[++i];
      if (ms ? !parse_num(v, 0, LONG_MAX, ms) : !parse_u64(v, u64_min, u64)) return bad_value(a, v);
    } else if (!strcmp(a, "--port") && has_value) {
      char *end;
      long p = strtol(argv[++i], &end, 10);
      if (*argv[i] == '\0' || *end != '\0' || p < 0 || p > 65535) {
        fprintf(stderr, "echo_server: bad port '%s'\n", argv[i]);
        return -1;
      }
      opt->port = argv[i];
    } else if (!strcmp(a, "--sndbuf") && has_value) {
      if (!parse_num(argv[++i], 0, INT_MAX, &opt->sndbuf)) return bad_value(a, argv[i]);
    } else if (!strcmp(a, "--host") && has_value) {
      opt->host = argv[++i];
    } else if (!strcmp(a, "--subprotocol") && has_value) {
      if (opt->subprotocols_len == MAX_SUBPROTOCOLS) {
        fprintf(stderr, "echo_server: at most %d subprotocols\n", MAX_SUBPROTOCOLS);
        return -1;
      }
      opt->subprotocols[opt->subprotocols_len++] = argv[++i];
    } else if (!strcmp(a, "--deflate")) {
      opt->deflate = true;
    } else if (!strcmp(a, "--deflate-window") && has_value) {
      long v;
      if (!parse_num(argv[++i], 9, 15, &v)) return bad_value(a, argv[i]);
      opt->deflate_window = (int)v;
      opt->deflate = true;
    } else if (!strcmp(a, "--verbose")) {
      opt->verbose = true;
    } else if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
      usage(stdout);
      exit(0);
    } else {
      fprintf(stderr, "echo_server: unknown or incomplete option '%s'\n", a);
      usage(stderr);
      return -1;
    }
  }
  if (opt->output_high_water > SIZE_MAX) opt->output_high_water = SIZE_MAX;
  return 0;
}

static int open_listener(const struct options *opt) {
  struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                           .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
  struct addrinfo *res;
  int err = getaddrinfo(opt->host, opt->port, &hints, &res);
  if (err) {
    fprintf(stderr, "echo_server: %s:%s: %s\n", opt->host, opt->port, gai_strerror(err));
    return -1;
  }
  int fd = -1;
  for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
    fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0) continue;
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen(fd, SOMAXCONN) == 0) break;
    close(fd);
    fd = -1;
  }
  if (fd < 0) fprintf(stderr, "echo_server: cannot listen on %s:%s: %s\n", opt->host, opt->port,
                      strerror(errno));
  freeaddrinfo(res);
  return fd;
}

static int bound_port(int fd) {
  struct sockaddr_storage ss;
  socklen_t len = sizeof ss;
  if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0) return -1;
  if (ss.ss_family == AF_INET) return ntohs(((struct sockaddr_in *)&ss)->sin_port);
  if (ss.ss_family == AF_INET6) return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
  return -1;
}

static int epoll_add_tag(int epfd, int fd, void *tag) {
  struct epoll_event ev = {.events = EPOLLIN, .data.ptr = tag};
  return epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev);
}

static void server_free(struct server *s) {
  while (s->clients) client_close(s, s->clients);
  if (s->listen_fd >= 0) close(s->listen_fd);
  if (s->sig_fd >= 0) close(s->sig_fd);
  if (s->epfd >= 0) close(s->epfd);
  ws_config_free(s->cfg);
}

static bool configure(struct server *s) {
  const struct options *o = &s->opt;
  ws_config_t *cfg = s->cfg;
  if (ws_config_set_auto_pong(cfg, true) != WS_OK ||
      ws_config_set_auto_close_reply(cfg, true) != WS_OK ||
      ws_config_set_message_mode(cfg, WS_MESSAGE_MODE_WHOLE) != WS_OK ||
      ws_config_set_output_high_water(cfg, (size_t)o->output_high_water) != WS_OK) {
    fputs("echo_server: cannot configure wsproto\n", stderr);
    return false;
  }
  uint64_t max_frame = o->max_frame ? o->max_frame : o->max_message;
  if ((o->max_message && ws_config_set_max_message_size(cfg, o->max_message) != WS_OK) ||
      (max_frame && ws_config_set_max_frame_size(cfg, max_frame) != WS_OK)) {
    fputs("echo_server: bad --max-message or --max-frame\n", stderr);
    return false;
  }
  if (o->memory_budget && ws_config_set_memory_budget(cfg, o->memory_budget) != WS_OK) {
    fputs("echo_server: bad --memory-budget\n", stderr);
    return false;
  }
  if (o->deflate && ws_config_set_deflate(cfg, true) != WS_OK) {
    fputs("echo_server: cannot enable permessage-deflate\n", stderr);
    return false;
  }
  if (o->deflate_window &&
      ws_config_set_deflate_accept(cfg, (uint8_t)o->deflate_window, false, false) != WS_OK) {
    fputs("echo_server: bad --deflate-window\n", stderr);
    return false;
  }
  return true;
}

/* Serving many connections needs many descriptors: use what we may. */
static void raise_fd_limit(void) {
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
}

int main(int argc, char **argv) {
  struct server s = {.epfd = -1, .listen_fd = -1, .sig_fd = -1};
  if (parse_args(argc, argv, &s.opt) < 0) return 2;
  g_verbose = s.opt.verbose;
  raise_fd_limit();

  /* SIGINT/SIGTERM arrive through a signalfd so that shutdown happens in the
   * loop, between events, where everything can be freed safely. */
  sigset_t mask;
  sigemptyset(&mask);
  sigaddset(&mask, SIGINT);
  sigaddset(&mask, SIGTERM);
  if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0) {
    perror("echo_server: sigprocmask");
    return 1;
  }
  signal(SIGPIPE, SIG_IGN); /* belt and braces: send() uses MSG_NOSIGNAL */

  int status = 1;
  uint8_t *buf = malloc(READ_CHUNK);
  s.stage = malloc(STAGE_CAP);
  s.cfg = ws_config_new();
  if (!buf || !s.stage || !s.cfg) {
    fputs("echo_server: out of memory\n", stderr);
    goto out;
  }
  if (!configure(&s)) goto out;

  s.listen_fd = open_listener(&s.opt);
  if (s.listen_fd < 0) goto out;
  s.sig_fd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
  s.epfd = epoll_create1(EPOLL_CLOEXEC);
  if (s.sig_fd < 0 || s.epfd < 0 || epoll_add_tag(s.epfd, s.listen_fd, &LISTEN_TAG) < 0 ||
      epoll_add_tag(s.epfd, s.sig_fd, &SIGNAL_TAG) < 0) {
    perror("echo_server: setup");
    goto out;
  }

  printf("listening on %d\n", bound_port(s.listen_fd));
  fflush(stdout);

  int64_t last_check = now_ms();
  for (bool running = true; running;) {
    struct epoll_event events[MAX_EVENTS];
    /* Sleep until the next tick while any connection may have a deadline or
     * the listener rests. */
    bool timers = s.nclients || s.listen_paused;
    int n = epoll_wait(s.epfd, events, MAX_EVENTS, timers ? TIMER_TICK_MS : -1);
    if (n < 0) {
      if (errno == EINTR) continue;
      perror("echo_server: epoll_wait");
      goto out;
    }
    for (int i = 0; i < n; i++) {
      void *tag = events[i].data.ptr;
      if (tag == &LISTEN_TAG) {
        accept_clients(&s);
      } else if (tag == &SIGNAL_TAG) {
        struct signalfd_siginfo si;
        if (read(s.sig_fd, &si, sizeof si) == (ssize_t)sizeof si) {
          logf_("signal %u: shutting down", si.ssi_signo);
          running = false;
        }
      } else {
        /* A client freed earlier in this batch cannot appear again: each fd
         * is reported at most once per epoll_wait. */
        struct client *c = tag;
        uint32_t e = events[i].events;
        if ((e & EPOLLOUT) && !client_service(&s, c)) continue;
        /* Servicing may have stopped reading: check the current mask. */
        if ((e & (EPOLLIN | EPOLLHUP | EPOLLERR)) && (c->epoll_mask & EPOLLIN))
          client_on_readable(&s, c, buf);
        else if (e & (EPOLLHUP | EPOLLERR))
          client_close(&s, c); /* peer gone while we only waited to write */
      }
    }
    int64_t now = now_ms();
    if (now - last_check >= TIMER_TICK_MS || n == 0) {
      check_deadlines(&s);
      last_check = now;
    }
  }
  status = 0;

out:
  server_free(&s);
  free(s.stage);
  free(buf);
  return status;
}
