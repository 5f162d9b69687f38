/*
 * client: a WebSocket client on top of wsproto, with blocking sockets.
 *
 * Echo mode (expects an echo server):
 *   client ws://HOST:PORT/PATH [--text MSG]... [--text-size N]... [--binary-size N]...
 *          [--count N] [--fragment N] [--subprotocol NAME]... [--timeout SECONDS]
 *          [--deflate] [--deflate-offer PARAMS]... [--expect-deflate]
 * sends the messages in command-line order (the whole list --count times),
 * prints each reply as "< text: ..." / "< binary: N bytes", checks that it is
 * the echo of what was sent, then closes with 1000 and prints "closed: CODE".
 * --fragment N sends each message as frames of at most N bytes.
 * --deflate offers permessage-deflate (RFC 7692) with the default offer;
 * --deflate-offer "server_no_context_takeover;client_max_window_bits=10"
 * sends that offer instead (repeat it for several offers, most preferred
 * first). After the handshake "deflate: ..." shows what was negotiated (or
 * "deflate: none"); --expect-deflate fails the run when nothing was.
 *
 * Autobahn|Testsuite driver mode (against a fuzzing server):
 *   client --autobahn ws://HOST:PORT --agent NAME [--cases N-M]
 *          [--deflate] [--deflate-offer PARAMS]...
 * asks /getCaseCount, runs each case (/runCase?case=N&agent=NAME) echoing
 * every message back, then asks /updateReports?agent=NAME.
 * --deflate offers permessage-deflate to every case, as two alternatives so
 * that the suite can pick any of its configurations (cases 12.x and 13.x):
 * "client_max_window_bits", then "client_no_context_takeover;
 * client_max_window_bits"; whatever the server answers within those offers
 * is accepted (including client_max_window_bits=8). --deflate-offer replaces
 * these offers. Each case line then says whether compression was negotiated.
 *
 * Exit status: 0 on success, 1 on any failure, 2 on bad usage.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <wsproto.h>

#define READ_CHUNK (64 * 1024)
#define MAX_SUBPROTOCOLS 16

/* ------------------------------------------------------------------------ */
/* URL                                                                      */
/* ------------------------------------------------------------------------ */

struct url {
  char host[256];  /* without brackets, for getaddrinfo */
  char port[8];
  char hostport[270]; /* Host header value */
  char path[2048];
};

/* Parses ws://host[:port][/path]; "[v6addr]" hosts are accepted. */
static int parse_url(const char *s, struct url *u) {
  if (strncmp(s, "ws://", 5) != 0) {
    fprintf(stderr, "client: only ws:// URLs are supported: %s\n", s);
    return -1;
  }
  s += 5;
  const char *host_end, *rest;
  if (*s == '[') {
    host_end = strchr(s, ']');
    if (!host_end) return -1;
    rest = host_end + 1;
    s++;
  } else {
    host_end = s + strcspn(s, ":/?");
    rest = host_end;
  }
  size_t hlen = (size_t)(host_end - s);
  if (hlen == 0 || hlen >= sizeof u->host) return -1;
  memcpy(u->host, s, hlen);
  u->host[hlen] = '\0';

  strcpy(u->port, "80");
  if (*rest == ':') {
    rest++;
    size_t plen = strspn(rest, "0123456789");
    if (plen == 0 || plen >= sizeof u->port) return -1;
    memcpy(u->port, rest, plen);
    u->port[plen] = '\0';
    rest += plen;
  }
  if (*rest != '\0' && *rest != '/' && *rest != '?') return -1;
  int n = snprintf(u->path, sizeof u->path, "%s%s", *rest == '/' ? "" : "/", rest);
  if (n < 0 || (size_t)n >= sizeof u->path) return -1;

  bool v6 = strchr(u->host, ':') != NULL;
  bool default_port = strcmp(u->port, "80") == 0;
  snprintf(u->hostport, sizeof u->hostport, "%s%s%s%s%s", v6 ? "[" : "", u->host, v6 ? "]" : "",
           default_port ? "" : ":", default_port ? "" : u->port);
  return 0;
}

/* ------------------------------------------------------------------------ */
/* A blocking WebSocket session                                             */
/* ------------------------------------------------------------------------ */

struct session {
  int fd;
  ws_conn_t *ws;
  bool eof; /* the server closed the TCP connection */
  uint8_t buf[READ_CHUNK];
};

static int connect_tcp(const struct url *u, int timeout_s) {
  struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                           .ai_flags = AI_NUMERICSERV};
  struct addrinfo *res;
  int err = getaddrinfo(u->host, u->port, &hints, &res);
  if (err) {
    fprintf(stderr, "client: %s:%s: %s\n", u->host, u->port, gai_strerror(err));
    return -1;
  }
  int fd = -1;
  for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
    fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0) continue;
    /* Every blocking read/write gives up after the timeout. */
    struct timeval tv = {.tv_sec = timeout_s};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) break;
    close(fd);
    fd = -1;
  }
  if (fd < 0) fprintf(stderr, "client: connect %s:%s: %s\n", u->host, u->port, strerror(errno));
  else {
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  }
  freeaddrinfo(res);
  return fd;
}

static void session_close(struct session *s) {
  if (s->fd >= 0) close(s->fd);
  s->fd = -1;
  ws_conn_free(s->ws);
  s->ws = NULL;
}

/* Sends all pending engine output (blocking). */
static int session_flush(struct session *s) {
  while (ws_conn_output_len(s->ws) > 0) {
    const uint8_t *ptr;
    size_t len;
    if (ws_conn_output_peek(s->ws, &ptr, &len) != WS_OK) return -1;
    ssize_t n = send(s->fd, ptr, len, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      fprintf(stderr, "client: send: %s\n",
              errno == EAGAIN || errno == EWOULDBLOCK ? "timed out" : strerror(errno));
      return -1;
    }
    ws_conn_output_consume(s->ws, (size_t)n);
  }
  return 0;
}

/*
 * Reads once from the socket and feeds the engine (EOF included).  The caller
 * then polls events.  Returns -1 on a transport error or timeout.
 */
static int session_read(struct session *s) {
  if (s->eof) return -1;
  ssize_t n;
  do n = recv(s->fd, s->buf, sizeof s->buf, 0);
  while (n < 0 && errno == EINTR);
  if (n < 0) {
    fprintf(stderr, "client: recv: %s\n",
            errno == EAGAIN || errno == EWOULDBLOCK ? "timed out" : strerror(errno));
    return -1;
  }
  ws_result_t r;
  if (n == 0) {
    s->eof = true;
    r = ws_conn_receive_eof(s->ws);
    if (r == WS_ERR_CLOSED) return 0; /* already closed: nothing to report */
  } else {
    r = ws_conn_receive(s->ws, s->buf, (size_t)n);
  }
  if (r != WS_OK) {
    fprintf(stderr, "client: receive: %s (%s)\n", ws_result_str(r), ws_conn_last_error(s->ws));
    return -1;
  }
  return 0;
}

/* Next event, reading from the socket as needed.  Sends auto-pongs and close
 * replies as they are queued. */
static int session_next_event(struct session *s, ws_event_t *ev) {
  for (;;) {
    ws_result_t r = ws_conn_poll_event(s->ws, ev);
    if (r != WS_OK) {
      fprintf(stderr, "client: %s (%s)\n", ws_result_str(r), ws_conn_last_error(s->ws));
      return -1;
    }
    if (session_flush(s) < 0) return -1;
    if (ev->type != WS_EVENT_NONE) return 0;
    if (session_read(s) < 0) return -1;
  }
}

/*
 * Connects and performs the opening handshake.  On success the session is
 * OPEN.  Returns -1 on any failure (the session is then closed).
 */
static int session_open(struct session *s, const struct url *u, const char *path,
                        const ws_config_t *cfg, const ws_str_t *protos, size_t nprotos,
                        int timeout_s, bool verbose) {
  s->fd = -1;
  s->ws = NULL;
  s->eof = false;
  ws_result_t r = ws_conn_new_client(cfg, &s->ws);
  if (r != WS_OK) {
    fprintf(stderr, "client: ws_conn_new_client: %s\n", ws_result_str(r));
    return -1;
  }
  s->fd = connect_tcp(u, timeout_s);
  if (s->fd < 0) goto fail;
  r = ws_conn_send_request(s->ws, u->hostport, strlen(u->hostport), path, strlen(path), protos,
                           nprotos, NULL, 0);
  if (r != WS_OK) {
    fprintf(stderr, "client: send_request: %s (%s)\n", ws_result_str(r), ws_conn_last_error(s->ws));
    goto fail;
  }
  if (session_flush(s) < 0) goto fail;

  ws_event_t ev;
  if (session_next_event(s, &ev) < 0) goto fail;
  if (ev.type == WS_EVENT_ACCEPT) {
    if (verbose && ev.subprotocol.len)
      printf("subprotocol: %.*s\n", (int)ev.subprotocol.len, ev.subprotocol.ptr);
    return 0;
  }
  if (ev.type == WS_EVENT_REJECT)
    fprintf(stderr, "client: %s%s rejected with HTTP %u\n", u->hostport, path, (unsigned)ev.code);
  else
    fprintf(stderr, "client: unexpected event %d during the handshake\n", (int)ev.type);
fail:
  session_close(s);
  return -1;
}

/*
 * Waits for the closing handshake to complete and for the server to close the
 * TCP connection (RFC 6455 7.1.1: the server closes first).  Messages that
 * still arrive meanwhile are dropped.  Stores the code of the server's close
 * frame in *code.
 */
static int session_finish_close(struct session *s, uint16_t *code) {
  bool got_close = false;
  while (!s->eof) {
    ws_event_t ev;
    if (session_next_event(s, &ev) < 0) {
      /* The only acceptable end: TCP closed after the close frames. */
      return got_close && s->eof ? 0 : -1;
    }
    if (ev.type == WS_EVENT_CLOSE && !got_close) {
      got_close = true;
      *code = ev.code;
      if (ev.code == 1006) return -1; /* TCP ended without a close frame */
    }
  }
  return got_close ? 0 : -1;
}

/* ------------------------------------------------------------------------ */
/* Echo mode                                                                */
/* ------------------------------------------------------------------------ */

struct message {
  bool text;
  const char *data; /* text from --text; NULL for --text-size */
  size_t size;      /* --binary-size, --text-size */
};

#define MAX_OFFERS 8

/* Everything echo mode needs besides the URL and the messages. */
struct echo_opts {
  long count;
  size_t fragment; /* 0 = one frame per message */
  const ws_str_t *protos;
  size_t nprotos;
  int timeout_s;
  bool deflate;
  bool expect_deflate;
  ws_deflate_params_t offers[MAX_OFFERS];
  size_t noffers;
};

/*
 * Parses one offer, "param[=value];param..." (an optional leading
 * "permessage-deflate" is skipped), into *p.  Unset windows stay 0 (left out
 * of the offer); client_max_window_bits without a value is 15.
 */
static int parse_offer(const char *spec, ws_deflate_params_t *p) {
  *p = (ws_deflate_params_t){0};
  char buf[256];
  if (strlen(spec) >= sizeof buf) return -1;
  strcpy(buf, spec);
  for (char *save = NULL, *tok = strtok_r(buf, ";", &save); tok;
       tok = strtok_r(NULL, ";", &save)) {
    while (*tok == ' ' || *tok == '\t') tok++;
    char *end = tok + strlen(tok);
    while (end > tok && (end[-1] == ' ' || end[-1] == '\t')) *--end = '\0';
    if (*tok == '\0' || !strcmp(tok, "permessage-deflate")) continue;
    char *eq = strchr(tok, '=');
    long bits = -1;
    if (eq) {
      *eq = '\0';
      char *e;
      bits = strtol(eq + 1, &e, 10);
      if (eq[1] == '\0' || *e != '\0' || bits < 9 || bits > 15) return -1;
    }
    if (!strcmp(tok, "server_no_context_takeover") && !eq) p->server_no_context_takeover = true;
    else if (!strcmp(tok, "client_no_context_takeover") && !eq) p->client_no_context_takeover = true;
    else if (!strcmp(tok, "server_max_window_bits") && eq) p->server_max_window_bits = (uint8_t)bits;
    else if (!strcmp(tok, "client_max_window_bits")) p->client_max_window_bits = eq ? (uint8_t)bits : 15;
    else return -1;
  }
  return 0;
}

static void print_deflate(const ws_conn_t *ws) {
  ws_deflate_params_t p;
  if (ws_conn_deflate_params(ws, &p))
    printf("deflate: server_no_context_takeover=%d client_no_context_takeover=%d "
           "server_max_window_bits=%u client_max_window_bits=%u\n",
           (int)p.server_no_context_takeover, (int)p.client_no_context_takeover,
           (unsigned)p.server_max_window_bits, (unsigned)p.client_max_window_bits);
  else
    printf("deflate: none\n");
}

/* Sends one message, in frames of at most `fragment` bytes when non-zero. */
static ws_result_t send_message(ws_conn_t *ws, bool text, const uint8_t *p, size_t len,
                                size_t fragment) {
  size_t off = 0;
  do {
    size_t n = len - off;
    uint32_t flags = 0;
    if (fragment && n > fragment) {
      n = fragment;
      flags = WS_SEND_MORE;
    }
    ws_result_t r = text ? ws_conn_send_text(ws, p + off, n, flags)
                         : ws_conn_send_binary(ws, p + off, n, flags);
    if (r != WS_OK) return r;
    off += n;
  } while (off < len);
  return WS_OK;
}

static void fill_text(uint8_t *p, size_t n, size_t seed) {
  static const char alphabet[] = "abcdefghijklmnopqrstuvwxyz ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
  for (size_t i = 0; i < n; i++) p[i] = (uint8_t)alphabet[(i * 7u + i / 64u + seed) % 63u];
}

static void fill_pattern(uint8_t *p, size_t n, size_t seed) {
  for (size_t i = 0; i < n; i++) p[i] = (uint8_t)((i * 31u + seed * 7u + 1u) & 0xffu);
}

/*
 * Applies the permessage-deflate options to cfg: the explicit offers if any,
 * else `fallback` (NULL: the library's default offer) when --deflate was
 * given.  Returns -1 (with a message) if the library refused them.
 */
static int configure_deflate(ws_config_t *cfg, const struct echo_opts *o, const ws_deflate_params_t *fallback,
                             size_t nfallback) {
  ws_result_t r = WS_OK;
  if (o->noffers) r = ws_config_set_deflate_offers(cfg, o->offers, o->noffers);
  else if (o->deflate && fallback) r = ws_config_set_deflate_offers(cfg, fallback, nfallback);
  else if (o->deflate) r = ws_config_set_deflate(cfg, true);
  if (r != WS_OK) {
    fprintf(stderr, "client: deflate offers: %s\n", ws_result_str(r));
    return -1;
  }
  return 0;
}

static int run_echo(const struct url *u, const struct message *msgs, size_t nmsgs,
                    const struct echo_opts *o) {
  int status = 1;
  uint8_t *payload = NULL;
  ws_config_t *cfg = ws_config_new();
  struct session *s = malloc(sizeof *s);
  if (!cfg || !s) {
    fputs("client: out of memory\n", stderr);
    goto out;
  }
  ws_config_set_auto_pong(cfg, true);
  ws_config_set_auto_close_reply(cfg, true);
  /* Room for large echoes (the default limit is 16 MiB). */
  ws_config_set_max_message_size(cfg, 256u << 20);
  ws_config_set_max_frame_size(cfg, 256u << 20);
  if (configure_deflate(cfg, o, NULL, 0) < 0) goto out;

  if (session_open(s, u, u->path, cfg, o->protos, o->nprotos, o->timeout_s, true) < 0) {
    free(s);
    s = NULL;
    goto out;
  }
  if (o->deflate || o->noffers || o->expect_deflate) print_deflate(s->ws);
  if (o->expect_deflate && !ws_conn_deflate_params(s->ws, NULL)) {
    fputs("client: permessage-deflate was not negotiated\n", stderr);
    goto out_session;
  }

  for (long round = 0; round < o->count; round++) {
    for (size_t i = 0; i < nmsgs; i++) {
      const struct message *m = &msgs[i];
      size_t len = m->data ? strlen(m->data) : m->size;
      free(payload);
      payload = malloc(len ? len : 1);
      if (!payload) {
        fputs("client: out of memory\n", stderr);
        goto out_session;
      }
      if (m->data) memcpy(payload, m->data, len);
      else if (m->text) fill_text(payload, len, i);
      else fill_pattern(payload, len, i);

      ws_result_t r = send_message(s->ws, m->text, payload, len, o->fragment);
      if (r != WS_OK) {
        fprintf(stderr, "client: send: %s (%s)\n", ws_result_str(r), ws_conn_last_error(s->ws));
        goto out_session;
      }
      if (m->data) printf("> text: %s\n", m->data);
      else printf("> %s: %zu bytes\n", m->text ? "text" : "binary", len);
      fflush(stdout);
      if (session_flush(s) < 0) goto out_session;

      /* Wait for the echo; pings are answered by the engine meanwhile. */
      ws_event_t ev;
      do {
        if (session_next_event(s, &ev) < 0) goto out_session;
        if (ev.type == WS_EVENT_CLOSE) {
          fprintf(stderr, "client: server closed with %u before echoing\n", (unsigned)ev.code);
          goto out_session;
        }
      } while (ev.type != WS_EVENT_TEXT && ev.type != WS_EVENT_BINARY);

      if (ev.type == WS_EVENT_TEXT && m->data)
        printf("< text: %.*s\n", (int)ev.len, (const char *)ev.data);
      else printf("< %s: %zu bytes\n", ev.type == WS_EVENT_TEXT ? "text" : "binary", ev.len);
      fflush(stdout);
      bool same = (ev.type == WS_EVENT_TEXT) == m->text && ev.len == len &&
                  (len == 0 || memcmp(ev.data, payload, len) == 0);
      if (!same) {
        fprintf(stderr, "client: reply is not the echo of message %zu\n", i + 1);
        goto out_session;
      }
    }
  }

  ws_result_t r = ws_conn_send_close(s->ws, 1000, NULL, 0);
  if (r != WS_OK) {
    fprintf(stderr, "client: send_close: %s\n", ws_result_str(r));
    goto out_session;
  }
  if (session_flush(s) < 0) goto out_session;
  uint16_t code = 0;
  if (session_finish_close(s, &code) < 0) {
    fprintf(stderr, "client: closing handshake did not complete\n");
    goto out_session;
  }
  printf("closed: %u\n", (unsigned)code);
  status = 0;

out_session:
  session_close(s);
out:
  free(s);
  free(payload);
  ws_config_free(cfg);
  return status;
}

/* ------------------------------------------------------------------------ */
/* Autobahn driver mode                                                     */
/* ------------------------------------------------------------------------ */

/* Percent-encodes everything but unreserved characters (RFC 3986). */
static void url_encode(const char *in, char *out, size_t cap) {
  static const char hex[] = "0123456789ABCDEF";
  size_t o = 0;
  for (; *in && o + 4 < cap; in++) {
    unsigned char ch = (unsigned char)*in;
    if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
        strchr("-._~", ch)) {
      out[o++] = (char)ch;
    } else {
      out[o++] = '%';
      out[o++] = hex[ch >> 4];
      out[o++] = hex[ch & 15];
    }
  }
  out[o] = '\0';
}

/*
 * Runs one fuzzing-server endpoint: echoes every message back until the
 * server closes.  When count_out is non-NULL the first text message is parsed
 * as a number (getCaseCount).  Returns -1 if the endpoint could not be run at
 * all (connection, handshake); a case whose connection the engine failed is
 * still a run case: the fuzzing server judges it.
 */
static int autobahn_endpoint(const struct url *u, const char *path, const ws_config_t *cfg,
                             int timeout_s, long *count_out, uint16_t *close_code, bool *deflated) {
  struct session *s = malloc(sizeof *s);
  uint8_t *copy = NULL;
  size_t copy_cap = 0;
  int status = -1;
  if (!s) return -1;
  if (session_open(s, u, path, cfg, NULL, 0, timeout_s, false) < 0) {
    free(s);
    return -1;
  }
  *close_code = 1006;
  if (deflated) *deflated = ws_conn_deflate_params(s->ws, NULL);
  for (;;) {
    ws_event_t ev;
    if (session_next_event(s, &ev) < 0) {
      /* EOF or a failed connection: the case is over either way. */
      status = s->eof || ws_conn_state(s->ws) == WS_STATE_CLOSED ? 0 : -1;
      break;
    }
    if (ev.type == WS_EVENT_TEXT || ev.type == WS_EVENT_BINARY) {
      if (count_out) {
        char num[32];
        size_t n = ev.len < sizeof num - 1 ? ev.len : sizeof num - 1;
        memcpy(num, ev.data, n);
        num[n] = '\0';
        char *end;
        *count_out = strtol(num, &end, 10);
        if (end == num) *count_out = -1;
        continue;
      }
      /* Copy first: the event's data is invalid once send mutates the conn. */
      if (ev.len > copy_cap) {
        uint8_t *p = realloc(copy, ev.len);
        if (!p) break;
        copy = p;
        copy_cap = ev.len;
      }
      bool text = ev.type == WS_EVENT_TEXT;
      size_t len = ev.len;
      if (len) memcpy(copy, ev.data, len);
      ws_result_t r = text ? ws_conn_send_text(s->ws, copy, len, 0)
                           : ws_conn_send_binary(s->ws, copy, len, 0);
      if (r != WS_OK && r != WS_ERR_WRONG_STATE) {
        fprintf(stderr, "client: echo: %s\n", ws_result_str(r));
        break;
      }
      if (session_flush(s) < 0) break;
    } else if (ev.type == WS_EVENT_CLOSE) {
      *close_code = ev.code;
    }
    if (ws_conn_wants_close_transport(s->ws)) {
      /* Closing handshake done: give the server a moment to close first,
       * then close our side regardless. */
      struct timeval tv = {.tv_sec = 1};
      setsockopt(s->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
      while (recv(s->fd, s->buf, sizeof s->buf, 0) > 0) {
      }
      status = 0;
      break;
    }
  }
  session_close(s);
  free(s);
  free(copy);
  return status;
}

static int run_autobahn(const struct url *u, const char *agent, long first, long last,
                        int timeout_s, const struct echo_opts *o) {
  int status = 1;
  char agent_enc[3 * 256 + 1];
  char path[1024];
  url_encode(agent, agent_enc, sizeof agent_enc);

  ws_config_t *cfg = ws_config_new();
  if (!cfg) return 1;
  ws_config_set_auto_pong(cfg, true);
  ws_config_set_auto_close_reply(cfg, true);
  /* The suite's largest messages are 16 MiB. */
  ws_config_set_max_message_size(cfg, 64u << 20);
  ws_config_set_max_frame_size(cfg, 64u << 20);
  /* The suite's servers choose among the offers by what each one allows:
   * the first for the default cases, the second when they want to ask for
   * client_no_context_takeover (cases 13.2, 13.5-13.7). */
  const ws_deflate_params_t suite_offers[2] = {
      {.client_max_window_bits = 15},
      {.client_no_context_takeover = true, .client_max_window_bits = 15},
  };
  if (configure_deflate(cfg, o, suite_offers, 2) < 0) goto out;
  bool want_deflate = o->deflate || o->noffers;

  long count = -1;
  uint16_t code;
  bool deflated = false;
  if (autobahn_endpoint(u, "/getCaseCount", cfg, timeout_s, &count, &code, NULL) < 0 || count < 0) {
    fputs("client: could not get the case count\n", stderr);
    goto out;
  }
  printf("autobahn: %ld cases\n", count);
  if (last <= 0 || last > count) last = count;
  if (first < 1) first = 1;

  long ran = 0;
  for (long i = first; i <= last; i++) {
    snprintf(path, sizeof path, "/runCase?case=%ld&agent=%s", i, agent_enc);
    if (autobahn_endpoint(u, path, cfg, timeout_s, NULL, &code, &deflated) < 0) {
      fprintf(stderr, "client: case %ld could not be run\n", i);
      goto out;
    }
    if (want_deflate)
      printf("case %ld: closed %u, %s\n", i, (unsigned)code, deflated ? "permessage-deflate" : "uncompressed");
    else
      printf("case %ld: closed %u\n", i, (unsigned)code);
    fflush(stdout);
    ran++;
  }

  snprintf(path, sizeof path, "/updateReports?agent=%s", agent_enc);
  if (autobahn_endpoint(u, path, cfg, timeout_s, NULL, &code, NULL) < 0) {
    fputs("client: updateReports failed\n", stderr);
    goto out;
  }
  printf("autobahn: ran %ld cases, reports updated\n", ran);
  status = 0;
out:
  ws_config_free(cfg);
  return status;
}

/* ------------------------------------------------------------------------ */
/* main                                                                     */
/* ------------------------------------------------------------------------ */

static void usage(FILE *f) {
  fputs("usage: client ws://HOST:PORT/PATH [--text MSG]... [--text-size N]... [--binary-size N]...\n"
        "              [--count N] [--fragment N] [--subprotocol NAME]... [--timeout SECONDS]\n"
        "              [--deflate] [--deflate-offer PARAMS]... [--expect-deflate]\n"
        "  PARAMS: e.g. \"server_no_context_takeover;client_max_window_bits=10\"\n"
        "       client --autobahn ws://HOST:PORT --agent NAME [--cases N-M] [--timeout SECONDS]\n"
        "              [--deflate] [--deflate-offer PARAMS]...\n",
        f);
}

static bool parse_long(const char *s, long min, long *out) {
  char *end;
  errno = 0;
  long v = strtol(s, &end, 10);
  if (*s == '\0' || *end != '\0' || errno || v < min) return false;
  *out = v;
  return true;
}

int main(int argc, char **argv) {
  const char *url_arg = NULL, *agent = NULL, *cases = NULL;
  bool autobahn = false;
  long count = 1, timeout_s = 10, fragment = 0;
  struct echo_opts eo = {0};
  struct message *msgs = calloc((size_t)argc, sizeof *msgs);
  ws_str_t protos[MAX_SUBPROTOCOLS];
  size_t nmsgs = 0, nprotos = 0;
  int status = 2;
  if (!msgs) return 1;

  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    bool has_value = i + 1 < argc;
    long v;
    if (!strcmp(a, "--text") && has_value) {
      msgs[nmsgs++] = (struct message){.text = true, .data = argv[++i]};
    } else if (!strcmp(a, "--text-size") && has_value) {
      if (!parse_long(argv[++i], 0, &v)) goto bad;
      msgs[nmsgs++] = (struct message){.text = true, .size = (size_t)v};
    } else if (!strcmp(a, "--fragment") && has_value) {
      if (!parse_long(argv[++i], 1, &fragment)) goto bad;
    } else if (!strcmp(a, "--deflate")) {
      eo.deflate = true;
    } else if (!strcmp(a, "--expect-deflate")) {
      eo.expect_deflate = true;
    } else if (!strcmp(a, "--deflate-offer") && has_value) {
      if (eo.noffers == MAX_OFFERS || parse_offer(argv[++i], &eo.offers[eo.noffers]) < 0) {
        fprintf(stderr, "client: bad --deflate-offer '%s'\n", argv[i]);
        goto bad;
      }
      eo.noffers++;
    } else if (!strcmp(a, "--binary-size") && has_value) {
      if (!parse_long(argv[++i], 0, &v)) goto bad;
      msgs[nmsgs++] = (struct message){.text = false, .size = (size_t)v};
    } else if (!strcmp(a, "--count") && has_value) {
      if (!parse_long(argv[++i], 0, &count)) goto bad;
    } else if (!strcmp(a, "--timeout") && has_value) {
      if (!parse_long(argv[++i], 1, &timeout_s)) goto bad;
    } else if (!strcmp(a, "--subprotocol") && has_value) {
      if (nprotos == MAX_SUBPROTOCOLS) goto bad;
      i++;
      protos[nprotos++] = (ws_str_t){.ptr = argv[i], .len = strlen(argv[i])};
    } else if (!strcmp(a, "--autobahn") && has_value) {
      autobahn = true;
      url_arg = argv[++i];
    } else if (!strcmp(a, "--agent") && has_value) {
      agent = argv[++i];
    } else if (!strcmp(a, "--cases") && has_value) {
      cases = argv[++i];
    } else if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
      usage(stdout);
      status = 0;
      goto out;
    } else if (a[0] != '-' && !url_arg) {
      url_arg = a;
    } else {
      fprintf(stderr, "client: unknown or incomplete option '%s'\n", a);
      goto bad;
    }
  }
  if (!url_arg) goto bad;

  struct url u;
  if (parse_url(url_arg, &u) < 0) {
    fprintf(stderr, "client: bad URL '%s'\n", url_arg);
    goto bad;
  }

  if (autobahn) {
    long first = 1, last = 0;
    if (!agent || nmsgs) goto bad;
    if (cases) {
      char *end;
      first = strtol(cases, &end, 10);
      last = *end == '-' ? strtol(end + 1, &end, 10) : first;
      if (*end != '\0' || first < 1 || last < first) goto bad;
    }
    status = run_autobahn(&u, agent, first, last, (int)timeout_s, &eo);
  } else {
    eo.count = count;
    eo.fragment = (size_t)fragment;
    eo.protos = protos;
    eo.nprotos = nprotos;
    eo.timeout_s = (int)timeout_s;
    status = run_echo(&u, msgs, nmsgs, &eo);
  }
  goto out;

bad:
  usage(stderr);
  status = 2;
out:
  free(msgs);
  return status;
}
