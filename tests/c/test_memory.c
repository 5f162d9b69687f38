/* The memory model from C, with scripted byte feeds: parsing pauses while
 * events wait (ws_conn_wants_read false, WS_ERR_INPUT_FULL past the held
 * input limit), nothing is lost, memory is released once events are taken,
 * automatic pongs coalesce while output is backed up, and a message over the
 * budget fails with 1009. */
#include <stdlib.h>
#include <string.h>

#include "check.h"

static const uint8_t KEY[4] = {0x11, 0x22, 0x33, 0x44};

/* Appends one masked client frame to buf; returns its length. */
static size_t frame(uint8_t *buf, uint8_t b0, const uint8_t *payload, size_t len) {
  size_t n = 0;
  buf[n++] = b0;
  if (len < 126) {
    buf[n++] = (uint8_t)(0x80 | len);
  } else if (len < 65536) {
    buf[n++] = 0x80 | 126;
    buf[n++] = (uint8_t)(len >> 8);
    buf[n++] = (uint8_t)len;
  } else {
    buf[n++] = 0x80 | 127;
    for (int i = 7; i >= 0; i--) buf[n++] = (uint8_t)((uint64_t)len >> (8 * i));
  }
  memcpy(buf + n, KEY, 4);
  n += 4;
  for (size_t i = 0; i < len; i++) buf[n + i] = payload[i] ^ KEY[i % 4];
  return n + len;
}

static ws_conn_t *server(ws_config_t *cfg) {
  ws_conn_t *c = NULL;
  CHECK_RC(NULL, ws_conn_new_frames_only(cfg, WS_ROLE_SERVER, NULL, 0, &c), WS_OK);
  return c;
}

static void paused_parsing_loses_nothing(void) {
  ws_config_t *cfg = ws_config_new();
  CHECK_RC(NULL, ws_config_set_max_buffered_input(cfg, 4096), WS_OK);
  ws_conn_t *c = server(cfg);
  ws_config_free(cfg);
  /* 5000 one-byte binary messages: 4096 events, then parsing pauses. */
  enum { N = 5000, F = 7 };
  uint8_t *in = malloc((size_t)N * F);
  size_t len = 0;
  for (int i = 0; i < N; i++) {
    uint8_t b = (uint8_t)i;
    len += frame(in + len, 0x82, &b, 1);
  }
  CHECK(ws_conn_wants_read(c));
  CHECK_RC(c, ws_conn_receive(c, in, len), WS_OK);
  CHECK(!ws_conn_wants_read(c));
  /* More input while paused: taken up to the limit, then refused whole. */
  CHECK_RC(c, ws_conn_receive(c, in, 70), WS_ERR_INPUT_FULL);
  size_t before = ws_conn_memory_used(c);
  CHECK(before > 4096);
  int got = 0, in_order = 1;
  ws_event_t ev;
  while (ws_conn_poll_event(c, &ev) == WS_OK && ev.type != WS_EVENT_NONE) {
    if (ev.type != WS_EVENT_BINARY || ev.len != 1 || ev.data[0] != (uint8_t)got) in_order = 0;
    got++;
  }
  CHECK(got == N && in_order);
  CHECK(ws_conn_wants_read(c));
  CHECK(ws_conn_memory_used(c) < 2048);
  /* The refused bytes can be fed again now. */
  CHECK_RC(c, ws_conn_receive(c, in, 70), WS_OK);
  got = 0;
  while (ws_conn_poll_event(c, &ev) == WS_OK && ev.type != WS_EVENT_NONE) got++;
  CHECK(got == 10);
  free(in);
  ws_conn_free(c);
}

static void pongs_coalesce_while_output_is_backed_up(void) {
  ws_config_t *cfg = ws_config_new();
  CHECK_RC(NULL, ws_config_set_output_high_water(cfg, 1024), WS_OK);
  ws_conn_t *c = server(cfg);
  ws_config_free(cfg);
  uint8_t in[10 * 1000];
  size_t len = 0;
  for (int i = 0; i < 1000; i++) {
    uint8_t p[4] = {(uint8_t)(i >> 8), (uint8_t)i, 0, 0};
    len += frame(in + len, 0x89, p, 4);
  }
  CHECK_RC(c, ws_conn_receive(c, in, len), WS_OK);
  ws_event_t ev;
  while (ws_conn_poll_event(c, &ev) == WS_OK && ev.type != WS_EVENT_NONE) {
  }
  size_t out = ws_conn_output_len(c);
  CHECK(out >= 1024 && out <= 1024 + 6);
  CHECK(!ws_conn_wants_read(c));
  /* Writing it out lets the held pong (for the latest ping parsed) follow. */
  CHECK_RC(c, ws_conn_output_consume(c, out), WS_OK);
  const uint8_t *p;
  size_t n;
  CHECK_RC(c, ws_conn_output_peek(c, &p, &n), WS_OK);
  CHECK(n == 6 && p[0] == 0x8a && p[1] == 4);
  ws_conn_free(c);
}

static void over_the_budget_is_1009(void) {
  ws_config_t *cfg = ws_config_new();
  CHECK_RC(NULL, ws_config_set_memory_budget(cfg, 64 * 1024), WS_OK);
  ws_conn_t *c = server(cfg);
  ws_config_free(cfg);
  size_t big = 100 * 1024;
  uint8_t *payload = calloc(1, big), *in = malloc(big + 14);
  size_t len = frame(in, 0x82, payload, big);
  CHECK_RC(c, ws_conn_receive(c, in, len), WS_OK);
  CHECK(ws_conn_memory_used(c) <= 64 * 1024 + 512);
  ws_event_t ev;
  CHECK_RC(c, ws_conn_poll_event(c, &ev), WS_OK);
  CHECK(ev.type == WS_EVENT_CLOSE && ev.code == 1009 && (ev.flags & WS_EVENT_FLAG_PROTOCOL_ERROR));
  free(payload);
  free(in);
  ws_conn_free(c);
}

int main(void) {
  paused_parsing_loses_nothing();
  pongs_coalesce_while_output_is_backed_up();
  over_the_budget_is_1009();
  if (failures) fprintf(stderr, "test_memory: %d failure(s)\n", failures);
  return failures != 0;
}
