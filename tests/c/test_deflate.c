/* permessage-deflate (RFC 7692) through the C API: config validation,
 * negotiation between a client and a server connection pumped in memory,
 * ws_conn_deflate_params for several offers, RSV1 on compressed and
 * WS_SEND_NO_COMPRESS frames, and frames-only deflate connections fed the
 * RFC 7692 section 7.2.3 examples; the memLevel and warm-up settings. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wsproto.h"
#include "check.h"

#define INVALID WS_ERR_INVALID_ARGUMENT
#define NUL WS_ERR_NULL_ARGUMENT

static bool params_eq(ws_deflate_params_t a, ws_deflate_params_t b) {
  return a.server_no_context_takeover == b.server_no_context_takeover &&
         a.client_no_context_takeover == b.client_no_context_takeover &&
         a.server_max_window_bits == b.server_max_window_bits &&
         a.client_max_window_bits == b.client_max_window_bits;
}

static void print_params(const char *what, ws_deflate_params_t p) {
  fprintf(stderr, "    %s: snct=%d cnct=%d smwb=%u cmwb=%u\n", what, (int)p.server_no_context_takeover,
          (int)p.client_no_context_takeover, (unsigned)p.server_max_window_bits,
          (unsigned)p.client_max_window_bits);
}

/* Moves all pending output of `from` into `to`. */
static void pump(ws_conn_t *from, ws_conn_t *to) {
  uint8_t buf[8192];
  size_t n;
  while (ws_conn_output_len(from) > 0) {
    CHECK_RC(from, ws_conn_output_copy(from, buf, sizeof buf, &n), WS_OK);
    if (n == 0) break;
    CHECK_RC(to, ws_conn_receive(to, buf, n), WS_OK);
  }
}

/* The first pending output bytes (without consuming them). */
static size_t peek(const ws_conn_t *c, const uint8_t **p) {
  size_t n = 0;
  *p = NULL;
  CHECK_RC(NULL, ws_conn_output_peek(c, p, &n), WS_OK);
  return n;
}

/* Does a request head contain `needle`? */
static bool output_contains(const ws_conn_t *c, const char *needle) {
  const uint8_t *p;
  size_t n = peek(c, &p);
  size_t k = strlen(needle);
  for (size_t i = 0; i + k <= n; i++)
    if (memcmp(p + i, needle, k) == 0) return true;
  return false;
}

/*
 * Handshake between a client made from `ccfg` and a server made from `scfg`,
 * in memory. On return both are OPEN (checked) and the caller owns them.
 */
static void handshake(const ws_config_t *ccfg, const ws_config_t *scfg, ws_conn_t **cl,
                      ws_conn_t **sv) {
  CHECK_RC(NULL, ws_conn_new_client(ccfg, cl), WS_OK);
  CHECK_RC(NULL, ws_conn_new_server(scfg, sv), WS_OK);
  CHECK_RC(*cl, ws_conn_send_request(*cl, "example.com", 11, "/", 1, NULL, 0, NULL, 0), WS_OK);
  pump(*cl, *sv);
  ws_event_t ev;
  CHECK_RC(*sv, ws_conn_poll_event(*sv, &ev), WS_OK);
  CHECK(ev.type == WS_EVENT_REQUEST);
  CHECK_RC(*sv, ws_conn_accept(*sv, NULL, 0, NULL, 0), WS_OK);
  pump(*sv, *cl);
  CHECK_RC(*cl, ws_conn_poll_event(*cl, &ev), WS_OK);
  CHECK(ev.type == WS_EVENT_ACCEPT);
  CHECK(ws_conn_state(*cl) == WS_STATE_OPEN);
  CHECK(ws_conn_state(*sv) == WS_STATE_OPEN);
}

static void test_config_validation(void) {
  ws_config_t *cfg = ws_config_new();
  ws_deflate_params_t ok = {false, false, 0, 0};
  CHECK_RC(NULL, ws_config_set_deflate(NULL, true), NUL);
  CHECK_RC(NULL, ws_config_set_deflate_offers(NULL, &ok, 1), NUL);
  CHECK_RC(NULL, ws_config_set_deflate_offers(cfg, NULL, 1), NUL);
  CHECK_RC(NULL, ws_config_set_deflate_accept(NULL, 15, false, false), NUL);
  CHECK_RC(NULL, ws_config_set_deflate_compression(NULL, 6, 0), NUL);

  CHECK_RC(NULL, ws_config_set_deflate_offers(cfg, &ok, 0), INVALID);
  const uint8_t bad_windows[] = {1, 8, 16, 255};
  for (size_t i = 0; i < sizeof bad_windows; i++) {
    ws_deflate_params_t b = ok;
    b.server_max_window_bits = bad_windows[i];
    CHECK_RC(NULL, ws_config_set_deflate_offers(cfg, &b, 1), INVALID);
    b = ok;
    b.client_max_window_bits = bad_windows[i];
    CHECK_RC(NULL, ws_config_set_deflate_offers(cfg, &b, 1), INVALID);
    CHECK_RC(NULL, ws_config_set_deflate_accept(cfg, bad_windows[i], false, false), INVALID);
  }
  /* A bad offer after a good one: the whole list is refused. */
  ws_deflate_params_t two[2] = {ok, {false, false, 8, 0}};
  CHECK_RC(NULL, ws_config_set_deflate_offers(cfg, two, 2), INVALID);
  CHECK_RC(NULL, ws_config_set_deflate_accept(cfg, 0, false, false), INVALID);
  CHECK_RC(NULL, ws_config_set_deflate_compression(cfg, 10, 0), INVALID);

  /* None of the refused calls turned compression on: no offer is sent. */
  ws_conn_t *c = NULL;
  CHECK_RC(NULL, ws_conn_new_client(cfg, &c), WS_OK);
  CHECK_RC(c, ws_conn_send_request(c, "h", 1, "/", 1, NULL, 0, NULL, 0), WS_OK);
  CHECK(!output_contains(c, "permessage-deflate"));
  CHECK(!ws_conn_deflate_params(c, NULL));
  ws_conn_free(c);

  for (uint8_t w = 9; w <= 15; w++) {
    ws_deflate_params_t p = {true, true, w, w};
    CHECK_RC(NULL, ws_config_set_deflate_offers(cfg, &p, 1), WS_OK);
    CHECK_RC(NULL, ws_config_set_deflate_accept(cfg, w, false, false), WS_OK);
  }
  CHECK_RC(NULL, ws_config_set_deflate_offers(cfg, &ok, 1), WS_OK);
  CHECK_RC(NULL, ws_config_set_deflate_compression(cfg, 0, 0), WS_OK);
  CHECK_RC(NULL, ws_config_set_deflate_compression(cfg, 9, 1 << 20), WS_OK);

  /* set_deflate(false) turns it off again; set_deflate(true) sends the default offer. */
  CHECK_RC(NULL, ws_config_set_deflate(cfg, false), WS_OK);
  CHECK_RC(NULL, ws_conn_new_client(cfg, &c), WS_OK);
  CHECK_RC(c, ws_conn_send_request(c, "h", 1, "/", 1, NULL, 0, NULL, 0), WS_OK);
  CHECK(!output_contains(c, "permessage-deflate"));
  ws_conn_free(c);
  CHECK_RC(NULL, ws_config_set_deflate(cfg, true), WS_OK);
  CHECK_RC(NULL, ws_conn_new_client(cfg, &c), WS_OK);
  CHECK_RC(c, ws_conn_send_request(c, "h", 1, "/", 1, NULL, 0, NULL, 0), WS_OK);
  CHECK(output_contains(c, "permessage-deflate"));
  CHECK(output_contains(c, "client_max_window_bits"));
  CHECK(!ws_conn_deflate_params(c, NULL)); /* offered, not negotiated yet */
  ws_conn_free(c);

  /* Frames-only constructor: arguments are checked. */
  ws_conn_t *out = (ws_conn_t *)&out;
  ws_deflate_params_t dp = {false, false, 15, 15};
  CHECK_RC(NULL, ws_conn_new_frames_only_deflate(cfg, WS_ROLE_SERVER, NULL, NULL, 0, &out), NUL);
  CHECK_RC(NULL, ws_conn_new_frames_only_deflate(cfg, WS_ROLE_SERVER, &dp, NULL, 3, &out), NUL);
  CHECK_RC(NULL, ws_conn_new_frames_only_deflate(cfg, WS_ROLE_SERVER, &dp, NULL, 0, NULL), NUL);
  CHECK_RC(NULL, ws_conn_new_frames_only_deflate(cfg, (ws_role_t)7, &dp, NULL, 0, &out), INVALID);
  dp.server_max_window_bits = 8;
  CHECK_RC(NULL, ws_conn_new_frames_only_deflate(cfg, WS_ROLE_SERVER, &dp, NULL, 0, &out), INVALID);
  dp.server_max_window_bits = 15;
  dp.client_max_window_bits = 0; /* "absent" is for offers, not negotiated params */
  CHECK_RC(NULL, ws_conn_new_frames_only_deflate(cfg, WS_ROLE_SERVER, &dp, NULL, 0, &out), INVALID);
  CHECK(out == (ws_conn_t *)&out);

  CHECK(!ws_conn_deflate_params(NULL, NULL));
  ws_deflate_params_t untouched = {true, true, 3, 3};
  CHECK(!ws_conn_deflate_params(NULL, &untouched));
  ws_config_free(cfg);
}

struct negotiation {
  const char *name;
  ws_deflate_params_t offers[2]; /* count = 0: ws_config_set_deflate(true) */
  size_t noffers;
  int server_window; /* 0: server default */
  bool server_snct, server_cnct;
  bool server_deflate;
  bool want_negotiated;
  ws_deflate_params_t want;
};

static const struct negotiation NEGOTIATIONS[] = {
    {"default offer, default server", {{0}}, 0, 0, false, false, true, true, {false, false, 15, 15}},
    {"server without deflate", {{0}}, 0, 0, false, false, false, false, {0}},
    {"server_no_context_takeover; client_max_window_bits=10",
     {{true, false, 0, 10}}, 1, 0, false, false, true, true, {true, false, 15, 10}},
    {"client_no_context_takeover; server_max_window_bits=12",
     {{false, true, 12, 0}}, 1, 0, false, false, true, true, {false, true, 12, 15}},
    {"both windows 9, both no context takeover",
     {{true, true, 9, 9}}, 1, 0, false, false, true, true, {true, true, 9, 9}},
    {"server asks for no context takeover both ways",
     {{0}}, 0, 15, true, true, true, true, {true, true, 15, 15}},
    {"server limits its window to 10",
     {{false, false, 0, 15}}, 1, 10, false, false, true, true, {false, false, 10, 10}},
    /* The server takes the first acceptable offer. That offer has no
     * client_max_window_bits, so the server may not limit the client's
     * window (RFC 7692 7.1.2.2): it inflates with 15 bits while it
     * compresses with its own 10. */
    {"first of two offers chosen",
     {{true, false, 0, 0}, {false, false, 0, 15}}, 2, 10, false, false, true, true,
     {true, false, 10, 15}},
};

/* One text message from `from` to `to`; checks RSV1 and the payload. */
static void exchange(ws_conn_t *from, ws_conn_t *to, const char *msg, uint32_t flags,
                     bool want_rsv1, const char *name) {
  size_t len = strlen(msg);
  CHECK_RC(from, ws_conn_send_text(from, (const uint8_t *)msg, len, flags), WS_OK);
  const uint8_t *p;
  size_t n = peek(from, &p);
  CHECK(n >= 2);
  if (n >= 2 && ((p[0] & 0x40) != 0) != want_rsv1) {
    fprintf(stderr, "  [%s] first byte 0x%02x, want RSV1 %s\n", name, p[0], want_rsv1 ? "set" : "clear");
    failures++;
  }
  pump(from, to);
  ws_event_t ev;
  CHECK_RC(to, ws_conn_poll_event(to, &ev), WS_OK);
  CHECK(ev.type == WS_EVENT_TEXT && ev.len == len && memcmp(ev.data, msg, len) == 0);
}

static void test_negotiation(void) {
  const size_t count = sizeof NEGOTIATIONS / sizeof NEGOTIATIONS[0];
  for (size_t i = 0; i < count; i++) {
    const struct negotiation *t = &NEGOTIATIONS[i];
    ws_config_t *ccfg = ws_config_new(), *scfg = ws_config_new();
    if (t->noffers) CHECK_RC(NULL, ws_config_set_deflate_offers(ccfg, t->offers, t->noffers), WS_OK);
    else CHECK_RC(NULL, ws_config_set_deflate(ccfg, true), WS_OK);
    if (t->server_deflate) CHECK_RC(NULL, ws_config_set_deflate(scfg, true), WS_OK);
    if (t->server_window)
      CHECK_RC(NULL, ws_config_set_deflate_accept(scfg, (uint8_t)t->server_window, t->server_snct,
                                                  t->server_cnct), WS_OK);
    ws_conn_t *cl = NULL, *sv = NULL;
    handshake(ccfg, scfg, &cl, &sv);
    ws_deflate_params_t got_c = {0}, got_s = {0};
    bool neg_c = ws_conn_deflate_params(cl, &got_c);
    bool neg_s = ws_conn_deflate_params(sv, &got_s);
    bool ok = neg_c == t->want_negotiated && neg_s == t->want_negotiated;
    if (ok && t->want_negotiated) ok = params_eq(got_c, t->want) && params_eq(got_s, t->want);
    if (!ok) {
      fprintf(stderr, "%s:%d: negotiation '%s': client %s, server %s\n", __FILE__, __LINE__, t->name,
              neg_c ? "negotiated" : "none", neg_s ? "negotiated" : "none");
      print_params("want  ", t->want);
      print_params("client", got_c);
      print_params("server", got_s);
      failures++;
    }
    /* Messages flow both ways, compressed (RSV1) only when negotiated; a
     * second one exercises context takeover (or its reset). */
    const char *msg = "hello hello hello hello, compressible hello";
    for (int round = 0; round < 2; round++) {
      exchange(cl, sv, msg, 0, t->want_negotiated, t->name);
      exchange(sv, cl, msg, 0, t->want_negotiated, t->name);
    }
    /* WS_SEND_NO_COMPRESS: a plain frame (RSV1 clear) that still arrives. */
    exchange(sv, cl, msg, WS_SEND_NO_COMPRESS, false, t->name);
    exchange(cl, sv, msg, WS_SEND_NO_COMPRESS, false, t->name);
    exchange(sv, cl, "", 0, t->want_negotiated, t->name);
    ws_conn_free(cl);
    ws_conn_free(sv);
    ws_config_free(ccfg);
    ws_config_free(scfg);
  }
}

/* RFC 7692 7.2.3.1: "Hello" compressed, as one unmasked frame. */
static const uint8_t HELLO[] = {0xc1, 0x07, 0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00};
/* 7.2.3.2: the second "Hello" with context takeover refers back to the first. */
static const uint8_t HELLO_AGAIN[] = {0xc1, 0x05, 0xf2, 0x00, 0x11, 0x00, 0x00};

static void expect_text(ws_conn_t *c, const char *want) {
  ws_event_t ev;
  CHECK_RC(c, ws_conn_poll_event(c, &ev), WS_OK);
  size_t n = strlen(want);
  if (!(ev.type == WS_EVENT_TEXT && ev.len == n && memcmp(ev.data, want, n) == 0)) {
    fprintf(stderr, "%s:%d: want TEXT \"%s\", got type %d len %zu\n", __FILE__, __LINE__, want,
            (int)ev.type, ev.len);
    failures++;
  }
}

static void test_frames_only_rfc_examples(void) {
  ws_config_t *cfg = ws_config_new();
  ws_deflate_params_t dp = {false, false, 15, 15};

  /* Client role: the server's frames are unmasked, exactly as in the RFC. */
  ws_conn_t *c = NULL;
  CHECK_RC(NULL, ws_conn_new_frames_only_deflate(cfg, WS_ROLE_CLIENT, &dp, NULL, 0, &c), WS_OK);
  ws_deflate_params_t got = {0};
  CHECK(ws_conn_deflate_params(c, &got) && params_eq(got, dp));
  CHECK(ws_conn_state(c) == WS_STATE_OPEN);
  CHECK_RC(c, ws_conn_receive(c, HELLO, sizeof HELLO), WS_OK);
  expect_text(c, "Hello");
  CHECK_RC(c, ws_conn_receive(c, HELLO_AGAIN, sizeof HELLO_AGAIN), WS_OK);
  expect_text(c, "Hello");
  ws_conn_free(c);

  /* Server role: the same frame masked, fed in the trailing bytes. */
  const uint8_t key[4] = {0x37, 0xfa, 0x21, 0x3d};
  uint8_t masked[6 + sizeof HELLO - 2];
  masked[0] = HELLO[0];
  masked[1] = (uint8_t)(0x80 | HELLO[1]);
  memcpy(masked + 2, key, 4);
  for (size_t i = 0; i < sizeof HELLO - 2; i++) masked[6 + i] = HELLO[2 + i] ^ key[i % 4];
  CHECK_RC(NULL, ws_conn_new_frames_only_deflate(cfg, WS_ROLE_SERVER, &dp, masked, sizeof masked, &c),
           WS_OK);
  expect_text(c, "Hello");
  /* Fed again byte by byte. */
  for (size_t i = 0; i < sizeof masked; i++) CHECK_RC(c, ws_conn_receive(c, masked + i, 1), WS_OK);
  expect_text(c, "Hello");
  ws_conn_free(c);

  /* Without context takeover for the server's direction, the back-reference
   * of the second RFC frame points at nothing: the client must fail it. */
  ws_deflate_params_t nct = {true, false, 15, 15};
  CHECK_RC(NULL, ws_conn_new_frames_only_deflate(cfg, WS_ROLE_CLIENT, &nct, NULL, 0, &c), WS_OK);
  CHECK_RC(c, ws_conn_receive(c, HELLO, sizeof HELLO), WS_OK);
  expect_text(c, "Hello");
  CHECK_RC(c, ws_conn_receive(c, HELLO_AGAIN, sizeof HELLO_AGAIN), WS_OK);
  ws_event_t ev;
  CHECK_RC(c, ws_conn_poll_event(c, &ev), WS_OK);
  CHECK(ev.type == WS_EVENT_CLOSE && (ev.flags & WS_EVENT_FLAG_PROTOCOL_ERROR));
  ws_conn_free(c);

  /* A plain frames-only connection has no deflate and refuses RSV1. */
  CHECK_RC(NULL, ws_conn_new_frames_only(cfg, WS_ROLE_CLIENT, NULL, 0, &c), WS_OK);
  CHECK(!ws_conn_deflate_params(c, NULL));
  CHECK_RC(c, ws_conn_receive(c, HELLO, sizeof HELLO), WS_OK);
  CHECK_RC(c, ws_conn_poll_event(c, &ev), WS_OK);
  CHECK(ev.type == WS_EVENT_CLOSE && ev.code == 1002);
  ws_conn_free(c);

  /* What a frames-only deflate server sends, a frames-only deflate client
   * reads back; the threshold leaves short messages uncompressed. */
  ws_conn_t *sv = NULL, *cl = NULL;
  CHECK_RC(NULL, ws_config_set_deflate_compression(cfg, 9, 16), WS_OK);
  CHECK_RC(NULL, ws_conn_new_frames_only_deflate(cfg, WS_ROLE_SERVER, &dp, NULL, 0, &sv), WS_OK);
  CHECK_RC(NULL, ws_conn_new_frames_only_deflate(cfg, WS_ROLE_CLIENT, &dp, NULL, 0, &cl), WS_OK);
  exchange(sv, cl, "Hello", 0, false, "below threshold");
  exchange(sv, cl, "Hello, Hello, Hello, Hello", 0, true, "above threshold");
  exchange(cl, sv, "Hello, Hello, Hello, Hello", 0, true, "client above threshold");
  ws_conn_free(sv);
  ws_conn_free(cl);
  ws_config_free(cfg);
}

/* memLevel and warm-up: argument checks, and messages flow both ways with
 * every combination, with and without context takeover (the states are then
 * freed between messages unless warm). */
static void test_memory_settings(void) {
  CHECK_RC(NULL, ws_config_set_deflate_mem_level(NULL, 8), NUL);
  CHECK_RC(NULL, ws_config_set_deflate_warm_up(NULL, true), NUL);
  ws_config_t *cfg = ws_config_new();
  CHECK_RC(NULL, ws_config_set_deflate_mem_level(cfg, 0), INVALID);
  CHECK_RC(NULL, ws_config_set_deflate_mem_level(cfg, 10), INVALID);
  CHECK_RC(NULL, ws_config_set_deflate_mem_level(cfg, 255), INVALID);
  /* Refused calls left compression off. */
  ws_conn_t *c = NULL;
  CHECK_RC(NULL, ws_conn_new_client(cfg, &c), WS_OK);
  CHECK_RC(c, ws_conn_send_request(c, "h", 1, "/", 1, NULL, 0, NULL, 0), WS_OK);
  CHECK(!output_contains(c, "permessage-deflate"));
  ws_conn_free(c);
  /* Either setter turns it on. */
  CHECK_RC(NULL, ws_config_set_deflate_mem_level(cfg, 1), WS_OK);
  CHECK_RC(NULL, ws_conn_new_client(cfg, &c), WS_OK);
  CHECK_RC(c, ws_conn_send_request(c, "h", 1, "/", 1, NULL, 0, NULL, 0), WS_OK);
  CHECK(output_contains(c, "permessage-deflate"));
  ws_conn_free(c);
  ws_config_free(cfg);
  cfg = ws_config_new();
  CHECK_RC(NULL, ws_config_set_deflate_warm_up(cfg, false), WS_OK);
  CHECK_RC(NULL, ws_conn_new_client(cfg, &c), WS_OK);
  CHECK_RC(c, ws_conn_send_request(c, "h", 1, "/", 1, NULL, 0, NULL, 0), WS_OK);
  CHECK(output_contains(c, "permessage-deflate"));
  ws_conn_free(c);
  ws_config_free(cfg);

  const uint8_t levels[] = {1, 8, 9};
  for (size_t l = 0; l < sizeof levels; l++) {
    for (int warm = 0; warm < 2; warm++) {
      for (int nct = 0; nct < 2; nct++) {
        ws_config_t *ccfg = ws_config_new(), *scfg = ws_config_new();
        ws_deflate_params_t offer = {nct != 0, nct != 0, 0, 15};
        CHECK_RC(NULL, ws_config_set_deflate_offers(ccfg, &offer, 1), WS_OK);
        CHECK_RC(NULL, ws_config_set_deflate(scfg, true), WS_OK);
        ws_config_t *both[2] = {ccfg, scfg};
        for (int i = 0; i < 2; i++) {
          CHECK_RC(NULL, ws_config_set_deflate_mem_level(both[i], levels[l]), WS_OK);
          CHECK_RC(NULL, ws_config_set_deflate_warm_up(both[i], warm != 0), WS_OK);
        }
        ws_conn_t *cl = NULL, *sv = NULL;
        handshake(ccfg, scfg, &cl, &sv);
        ws_deflate_params_t got = {0};
        CHECK(ws_conn_deflate_params(sv, &got));
        CHECK(got.server_no_context_takeover == (nct != 0));
        char name[64];
        snprintf(name, sizeof name, "memLevel %u, warm %d, nct %d", (unsigned)levels[l], warm, nct);
        const char *msgs[] = {"warm or cold, the same text comes back", "", "again: warm or cold, the same text"};
        for (int round = 0; round < 3; round++) {
          exchange(cl, sv, msgs[round], 0, true, name);
          exchange(sv, cl, msgs[round], 0, true, name);
        }
        ws_conn_free(cl);
        ws_conn_free(sv);
        ws_config_free(ccfg);
        ws_config_free(scfg);
      }
    }
  }
}

int main(void) {
  test_config_validation();
  test_negotiation();
  test_frames_only_rfc_examples();
  test_memory_settings();
  if (failures) {
    printf("test_deflate: %d failures\n", failures);
    return 1;
  }
  printf("test_deflate: ok\n");
  return 0;
}
