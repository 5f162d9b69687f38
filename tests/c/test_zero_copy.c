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

int main(void) {
  client_encode_roundtrip();
  server_header_then_own_payload();
  refusals_change_nothing();
  compressed_messages_refused();
  if (failures) fprintf(stderr, "%d check(s) failed\n", failures);
  return failures != 0;
}
