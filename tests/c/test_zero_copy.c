/* The zero-copy send paths of the C API: ws_conn_encode_text/_binary (frame
 * straight into a caller buffer, client masking in the same pass) and
 * ws_conn_encode_*_header (server: header only, payload written by the
 * caller), plus WS_SEND_TRUSTED_UTF8. The frames are decoded by a peer
 * connection of the real library. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wsproto.h"
#include "check.h"

static ws_conn_t *frames_only(ws_role_t role) {
  ws_conn_t *c = NULL;
  if (ws_conn_new_frames_only(NULL, role, NULL, 0, &c) != WS_OK) {
    fprintf(stderr, "ws_conn_new_frames_only failed\n");
    exit(1);
  }
  return c;
}

/* Feeds `wire` to `peer` and checks it yields one whole message of `type`
 * with `data[0..len)`. */
static void expect_message(ws_conn_t *peer, const uint8_t *wire, size_t wire_len, ws_event_type_t type,
                           const uint8_t *data, size_t len) {
  CHECK_RC(peer, ws_conn_receive(peer, wire, wire_len), WS_OK);
  ws_event_t ev;
  CHECK_RC(peer, ws_conn_poll_event(peer, &ev), WS_OK);
  CHECK(ev.type == type);
  CHECK(ev.len == len);
  CHECK(len == 0 || memcmp(ev.data, data, len) == 0);
  CHECK(ev.flags & WS_EVENT_FLAG_MESSAGE_FINISHED);
  CHECK_RC(peer, ws_conn_poll_event(peer, &ev), WS_OK);
  CHECK(ev.type == WS_EVENT_NONE);
}

static void client_encode_roundtrip(void) {
  ws_conn_t *c = frames_only(WS_ROLE_CLIENT), *s = frames_only(WS_ROLE_SERVER);
  static const size_t lens[] = {0, 1, 125, 126, 65535, 65536, 300000};
  for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
    size_t len = lens[i];
    uint8_t *data = malloc(len + 1);
    for (size_t j = 0; j < len; j++) data[j] = (uint8_t)(j * 13 + 5);
    size_t need = 0;
    /* Too small (NULL with cap 0): the size needed, nothing changed. */
    CHECK_RC(c, ws_conn_encode_binary(c, data, len, 0, NULL, 0, &need), WS_ERR_BUFFER_TOO_SMALL);
    size_t head = 2 + 4 + (len < 126 ? 0 : len <= 0xffff ? 2 : 8);
    CHECK(need == len + head);
    CHECK(need <= len + WS_MAX_HEADER_LEN);
    uint8_t *buf = malloc(need);
    size_t n = 0;
    CHECK_RC(c, ws_conn_encode_binary(c, data, len, 0, buf, need - 1, &n), WS_ERR_BUFFER_TOO_SMALL);
    CHECK(n == need);
    n = 0;
    CHECK_RC(c, ws_conn_encode_binary(c, data, len, 0, buf, need, &n), WS_OK);
    CHECK(n == need);
    CHECK(buf[1] & 0x80); /* masked */
    CHECK(ws_conn_output_len(c) == 0);
    expect_message(s, buf, n, WS_EVENT_BINARY, data, len);
    free(buf);
    free(data);
  }
  ws_conn_free(c);
  ws_conn_free(s);
}

static void server_header_then_own_payload(void) {
  ws_conn_t *s = frames_only(WS_ROLE_SERVER), *c = frames_only(WS_ROLE_CLIENT);
  size_t len = 1 << 20;
  uint8_t *data = malloc(len);
  for (size_t j = 0; j < len; j++) data[j] = (uint8_t)j;
  uint8_t head[WS_MAX_SERVER_HEADER_LEN];
  size_t n = 0;
  CHECK_RC(s, ws_conn_encode_binary_header(s, data, len, 0, head, 9, &n), WS_ERR_BUFFER_TOO_SMALL);
  CHECK(n == 10);
  CHECK_RC(s, ws_conn_encode_binary_header(s, data, len, 0, head, sizeof head, &n), WS_OK);
  CHECK(n == 10);
  uint8_t *wire = malloc(n + len);
  memcpy(wire, head, n);
  memcpy(wire + n, data, len); /* stands in for writev(header, payload) */
  expect_message(c, wire, n + len, WS_EVENT_BINARY, data, len);
  free(wire);

  const char *hi = "h\xc3\xa9llo";
  CHECK_RC(s, ws_conn_encode_text_header(s, (const uint8_t *)hi, strlen(hi), 0, head, sizeof head, &n), WS_OK);
  CHECK(n == 2 && head[0] == 0x81 && head[1] == strlen(hi));
  CHECK_RC(s, ws_conn_encode_text_header(s, (const uint8_t *)"\xff", 1, 0, head, sizeof head, &n),
           WS_ERR_INVALID_ARGUMENT);

  /* A client cannot send a header alone. */
  CHECK_RC(c, ws_conn_encode_binary_header(c, data, 10, 0, head, sizeof head, &n), WS_ERR_WRONG_STATE);
  free(data);
  ws_conn_free(s);
  ws_conn_free(c);
}

static void refusals_change_nothing(void) {
  ws_conn_t *s = frames_only(WS_ROLE_SERVER);
  uint8_t buf[64];
  size_t n = 0;
  CHECK_RC(s, ws_conn_encode_text(s, (const uint8_t *)"a", 1, 0, buf, sizeof buf, NULL), WS_ERR_NULL_ARGUMENT);
  CHECK_RC(s, ws_conn_encode_text(s, NULL, 1, 0, buf, sizeof buf, &n), WS_ERR_NULL_ARGUMENT);
  CHECK_RC(s, ws_conn_encode_text(s, (const uint8_t *)"a", 1, 0, NULL, 8, &n), WS_ERR_NULL_ARGUMENT);
  CHECK_RC(s, ws_conn_encode_text(s, (const uint8_t *)"a", 1, 0x80, buf, sizeof buf, &n), WS_ERR_INVALID_ARGUMENT);
  CHECK_RC(NULL, ws_conn_encode_text(NULL, (const uint8_t *)"a", 1, 0, buf, sizeof buf, &n), WS_ERR_NULL_ARGUMENT);

  /* Queued output pending: refused until written. */
  CHECK_RC(s, ws_conn_send_ping(s, (const uint8_t *)"p", 1), WS_OK);
  CHECK_RC(s, ws_conn_encode_binary(s, (const uint8_t *)"x", 1, 0, buf, sizeof buf, &n), WS_ERR_WRONG_STATE);
  CHECK_RC(s, ws_conn_encode_binary_header(s, (const uint8_t *)"x", 1, 0, buf, sizeof buf, &n), WS_ERR_WRONG_STATE);
  CHECK_RC(s, ws_conn_output_consume(s, ws_conn_output_len(s)), WS_OK);

  /* Fragments: text started zero-copy, continued queued, binary refused meanwhile. */
  CHECK_RC(s, ws_conn_encode_text(s, (const uint8_t *)"ab", 2, WS_SEND_MORE, buf, sizeof buf, &n), WS_OK);
  CHECK(n == 4 && buf[0] == 0x01);
  CHECK_RC(s, ws_conn_encode_binary(s, (const uint8_t *)"x", 1, 0, buf, sizeof buf, &n), WS_ERR_WRONG_STATE);
  CHECK_RC(s, ws_conn_encode_text(s, (const uint8_t *)"cd", 2, 0, buf, sizeof buf, &n), WS_OK);
  CHECK(n == 4 && buf[0] == 0x80);

  /* Trusted text goes out unchecked. */
  CHECK_RC(s, ws_conn_encode_text(s, (const uint8_t *)"\xff", 1, 0, buf, sizeof buf, &n), WS_ERR_INVALID_ARGUMENT);
  CHECK_RC(s, ws_conn_encode_text(s, (const uint8_t *)"\xff", 1, WS_SEND_TRUSTED_UTF8, buf, sizeof buf, &n), WS_OK);
  CHECK(n == 3 && buf[2] == 0xff);
  CHECK_RC(s, ws_conn_send_text(s, (const uint8_t *)"\xfe", 1, 0), WS_ERR_INVALID_ARGUMENT);
  CHECK_RC(s, ws_conn_send_text(s, (const uint8_t *)"\xfe", 1, WS_SEND_TRUSTED_UTF8), WS_OK);
  CHECK(ws_conn_output_len(s) == 3);
  CHECK_RC(s, ws_conn_output_consume(s, 3), WS_OK);

  /* After our close: no more data. */
  CHECK_RC(s, ws_conn_send_close(s, 1000, NULL, 0), WS_OK);
  CHECK_RC(s, ws_conn_output_consume(s, ws_conn_output_len(s)), WS_OK);
  CHECK_RC(s, ws_conn_encode_binary(s, (const uint8_t *)"x", 1, 0, buf, sizeof buf, &n), WS_ERR_WRONG_STATE);
  ws_conn_free(s);
}

static void compressed_messages_refused(void) {
  ws_deflate_params_t params;
  memset(&params, 0, sizeof params);
  params.server_max_window_bits = 15;
  params.client_max_window_bits = 15;
  ws_config_t *cfg = ws_config_new();
  CHECK(cfg != NULL);
  CHECK_RC(NULL, ws_config_set_deflate(cfg, true), WS_OK);
  ws_conn_t *s = NULL;
  CHECK_RC(NULL, ws_conn_new_frames_only_deflate(cfg, WS_ROLE_SERVER, &params, NULL, 0, &s), WS_OK);
  ws_config_free(cfg);
  if (!s) return;
  static uint8_t big[4096];
  memset(big, 'a', sizeof big);
  static uint8_t buf[8192];
  size_t n = 0;
  CHECK_RC(s, ws_conn_encode_text(s, big, sizeof big, 0, buf, sizeof buf, &n), WS_ERR_INVALID_ARGUMENT);
  CHECK_RC(s, ws_conn_encode_text_header(s, big, sizeof big, 0, buf, sizeof buf, &n), WS_ERR_INVALID_ARGUMENT);
  CHECK_RC(s, ws_conn_encode_text(s, big, sizeof big, WS_SEND_NO_COMPRESS, buf, sizeof buf, &n), WS_OK);
  CHECK(n == sizeof big + 4 && (buf[0] & 0x40) == 0);
  ws_conn_free(s);
}


/* Moves all pending output of `from` into `to`. */
static void pump(ws_conn_t *from, ws_conn_t *to) {
  const uint8_t *p;
  size_t n;
  CHECK_RC(from, ws_conn_output_peek(from, &p, &n), WS_OK);
  if (n) CHECK_RC(to, ws_conn_receive(to, p, n), WS_OK);
  CHECK_RC(from, ws_conn_output_consume(from, n), WS_OK);
}

static void batch_poll(void) {
  ws_conn_t *c = frames_only(WS_ROLE_CLIENT), *s = frames_only(WS_ROLE_SERVER);
  char msg[16];
  for (int i = 0; i < 10; i++) {
    int len = snprintf(msg, sizeof msg, "message %d", i);
    CHECK_RC(c, ws_conn_send_text(c, (const uint8_t *)msg, (size_t)len, 0), WS_OK);
  }
  CHECK_RC(c, ws_conn_send_ping(c, (const uint8_t *)"pi", 2), WS_OK);
  CHECK_RC(c, ws_conn_send_binary(c, (const uint8_t *)"\x01\x02", 2, 0), WS_OK);
  CHECK_RC(c, ws_conn_send_close(c, 1000, "bye", 3), WS_OK);
  pump(c, s);

  ws_event_compact_t ev[4];
  size_t n = 99, total = 0;
  CHECK_RC(s, ws_conn_poll_events(s, ev, 4, NULL), WS_ERR_NULL_ARGUMENT);
  CHECK_RC(s, ws_conn_poll_events(s, NULL, 4, &n), WS_ERR_NULL_ARGUMENT);
  CHECK(sizeof(ws_event_compact_t) <= 32);
  /* Batches of 4, 4 and 3, every event of a batch readable together; the
     CLOSE comes alone in a fourth, so the events before it can still be
     answered before the close reply is queued. */
  const size_t batch_sizes[4] = {4, 4, 3, 1};
  for (int b = 0; b < 4; b++) {
    CHECK_RC(s, ws_conn_poll_events(s, ev, 4, &n), WS_OK);
    CHECK(n == batch_sizes[b]);
    for (size_t i = 0; i < n && i < 4; i++, total++) {
      if (total < 10) {
        int len = snprintf(msg, sizeof msg, "message %d", (int)total);
        CHECK(ev[i].type == WS_EVENT_TEXT && ev[i].len == (size_t)len && memcmp(ev[i].data, msg, (size_t)len) == 0);
        CHECK(ev[i].flags == (WS_EVENT_FLAG_FRAME_FINISHED | WS_EVENT_FLAG_MESSAGE_FINISHED));
      } else if (total == 10) {
        CHECK(ev[i].type == WS_EVENT_PING && ev[i].len == 2 && memcmp(ev[i].data, "pi", 2) == 0);
      } else if (total == 11) {
        CHECK(ev[i].type == WS_EVENT_BINARY && ev[i].len == 2 && ev[i].data[1] == 2);
      } else {
        CHECK(ev[i].type == WS_EVENT_CLOSE && ev[i].code == 1000 && ev[i].len == 3);
        CHECK(memcmp(ev[i].data, "bye", 3) == 0);
      }
    }
    if (b == 2) {
      CHECK(ws_conn_state(s) == WS_STATE_OPEN);
      CHECK_RC(s, ws_conn_send_binary(s, ev[2].data, ev[2].len, 0), WS_OK);
    }
    /* Mixing with the single poll: nothing is lost or repeated. */
    if (b == 0) {
      ws_event_t one;
      CHECK_RC(s, ws_conn_poll_event(s, &one), WS_OK);
      CHECK(one.type == WS_EVENT_TEXT && one.len == 9 && memcmp(one.data, "message 4", 9) == 0);
      total++;
    }
  }
  CHECK(total == 13);
  CHECK_RC(s, ws_conn_poll_events(s, ev, 4, &n), WS_OK);
  CHECK(n == 0);
  CHECK(ws_conn_state(s) == WS_STATE_CLOSED || ws_conn_state(s) == WS_STATE_REMOTE_CLOSING);
  ws_conn_free(c);
  ws_conn_free(s);

  /* A handshake event is not delivered compactly. */
  ws_conn_t *hc = NULL, *hs = NULL;
  CHECK_RC(NULL, ws_conn_new_client(NULL, &hc), WS_OK);
  CHECK_RC(NULL, ws_conn_new_server(NULL, &hs), WS_OK);
  CHECK_RC(hc, ws_conn_send_request(hc, "h", 1, "/", 1, NULL, 0, NULL, 0), WS_OK);
  pump(hc, hs);
  CHECK_RC(hs, ws_conn_poll_events(hs, ev, 4, &n), WS_ERR_WRONG_STATE);
  CHECK(n == 0);
  ws_event_t one;
  CHECK_RC(hs, ws_conn_poll_event(hs, &one), WS_OK);
  CHECK(one.type == WS_EVENT_REQUEST);
  ws_conn_free(hc);
  ws_conn_free(hs);
}

int main(void) {
  client_encode_roundtrip();
  server_header_then_own_payload();
  refusals_change_nothing();
  compressed_messages_refused();
  batch_poll();
  if (failures) fprintf(stderr, "%d check(s) failed\n", failures);
  return failures != 0;
}
