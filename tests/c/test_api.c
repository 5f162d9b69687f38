/* API contract tests: NULL handling, state and argument errors, result
 * strings, output buffer helpers, last_error, EOF, the RNG callback. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wsproto.h"
#include "check.h"

#define NUL WS_ERR_NULL_ARGUMENT

static ws_conn_t *frames(ws_role_t role, const ws_config_t *cfg) {
  ws_conn_t *c = NULL;
  CHECK_RC(NULL, ws_conn_new_frames_only(cfg, role, NULL, 0, &c), WS_OK);
  return c;
}

static void test_null_arguments(void) {
  /* config */
  ws_config_t *cfg = ws_config_new();
  CHECK(cfg != NULL);
  ws_config_free(cfg);
  ws_config_free(NULL);
  CHECK_RC(NULL, ws_config_set_max_frame_size(NULL, 10), NUL);
  CHECK_RC(NULL, ws_config_set_max_message_size(NULL, 10), NUL);
  CHECK_RC(NULL, ws_config_set_max_handshake_size(NULL, 10), NUL);
  CHECK_RC(NULL, ws_config_set_max_handshake_headers(NULL, 10), NUL);
  CHECK_RC(NULL, ws_config_set_auto_pong(NULL, true), NUL);
  CHECK_RC(NULL, ws_config_set_auto_close_reply(NULL, true), NUL);
  CHECK_RC(NULL, ws_config_set_message_mode(NULL, WS_MESSAGE_MODE_STREAM), NUL);
  CHECK_RC(NULL, ws_config_set_rng(NULL, NULL, NULL), NUL);

  /* constructors */
  CHECK_RC(NULL, ws_conn_new_client(NULL, NULL), NUL);
  CHECK_RC(NULL, ws_conn_new_server(NULL, NULL), NUL);
  CHECK_RC(NULL, ws_conn_new_frames_only(NULL, WS_ROLE_SERVER, NULL, 0, NULL), NUL);
  ws_conn_t *out = (ws_conn_t *)&out; /* sentinel: must stay untouched on error */
  CHECK_RC(NULL, ws_conn_new_frames_only(NULL, WS_ROLE_SERVER, NULL, 5, &out), NUL);
  CHECK(out == (ws_conn_t *)&out);
  ws_conn_free(NULL);

  /* every connection function with a NULL connection */
  uint8_t b[8] = {0};
  size_t n = 0;
  const uint8_t *p = NULL;
  ws_event_t ev;
  CHECK_RC(NULL, ws_conn_receive(NULL, b, 1), NUL);
  CHECK_RC(NULL, ws_conn_receive_eof(NULL), NUL);
  CHECK_RC(NULL, ws_conn_poll_event(NULL, &ev), NUL);
  CHECK_RC(NULL, ws_conn_send_request(NULL, "h", 1, "/", 1, NULL, 0, NULL, 0), NUL);
  CHECK_RC(NULL, ws_conn_accept(NULL, NULL, 0, NULL, 0), NUL);
  CHECK_RC(NULL, ws_conn_reject(NULL, 400, NULL, 0, false), NUL);
  CHECK_RC(NULL, ws_conn_reject_data(NULL, b, 1, true), NUL);
  CHECK_RC(NULL, ws_conn_send_text(NULL, b, 1, 0), NUL);
  CHECK_RC(NULL, ws_conn_send_binary(NULL, b, 1, 0), NUL);
  CHECK_RC(NULL, ws_conn_send_ping(NULL, b, 1), NUL);
  CHECK_RC(NULL, ws_conn_send_pong(NULL, b, 1), NUL);
  CHECK_RC(NULL, ws_conn_send_close(NULL, 1000, NULL, 0), NUL);
  CHECK_RC(NULL, ws_conn_output_copy(NULL, b, sizeof b, &n), NUL);
  CHECK_RC(NULL, ws_conn_output_peek(NULL, &p, &n), NUL);
  CHECK_RC(NULL, ws_conn_output_consume(NULL, 0), NUL);
  CHECK(ws_conn_state(NULL) == WS_STATE_CLOSED);
  CHECK(ws_conn_output_len(NULL) == 0);
  CHECK(ws_conn_buffered_input(NULL) == 0);
  CHECK(ws_conn_handshake_status_hint(NULL) == 0);
  CHECK(!ws_conn_wants_close_transport(NULL));
  CHECK(ws_conn_last_error(NULL) != NULL && ws_conn_last_error(NULL)[0] == '\0');

  /* NULL data/out pointers on a live connection */
  ws_conn_t *c = frames(WS_ROLE_SERVER, NULL);
  if (c) {
    CHECK(ws_conn_last_error(c) != NULL && ws_conn_last_error(c)[0] == '\0');
    CHECK_RC(c, ws_conn_receive(c, NULL, 1), NUL);
    CHECK_RC(c, ws_conn_receive(c, NULL, 0), WS_OK); /* NULL with length 0 is allowed */
    CHECK_RC(c, ws_conn_poll_event(c, NULL), NUL);
    CHECK_RC(c, ws_conn_send_text(c, NULL, 3, 0), NUL);
    CHECK_RC(c, ws_conn_send_binary(c, NULL, 3, 0), NUL);
    CHECK_RC(c, ws_conn_send_ping(c, NULL, 3), NUL);
    CHECK_RC(c, ws_conn_send_pong(c, NULL, 3), NUL);
    CHECK_RC(c, ws_conn_send_close(c, 1000, NULL, 3), NUL);
    CHECK(ws_conn_output_len(c) == 0);
    CHECK_RC(c, ws_conn_output_copy(c, b, sizeof b, NULL), NUL);
    CHECK_RC(c, ws_conn_output_copy(c, NULL, 4, &n), NUL);
    CHECK_RC(c, ws_conn_output_peek(c, NULL, &n), NUL);
    CHECK_RC(c, ws_conn_output_peek(c, &p, NULL), NUL);
    CHECK(ws_conn_last_error(c)[0] != '\0');
    /* zero-length sends with NULL are fine */
    CHECK_RC(c, ws_conn_send_binary(c, NULL, 0, 0), WS_OK);
    CHECK_RC(c, ws_conn_send_ping(c, NULL, 0), WS_OK);
    CHECK_RC(c, ws_conn_output_copy(c, NULL, 0, &n), WS_OK);
    CHECK(n == 0 && ws_conn_output_len(c) == 4);
    ws_conn_free(c);
  }
  ws_conn_t *cl = NULL;
  CHECK_RC(NULL, ws_conn_new_client(NULL, &cl), WS_OK);
  if (cl) {
    ws_str_t bad_proto = {NULL, 4};
    ws_header_t bad_hdr = {{"X", 1}, {NULL, 2}};
    CHECK_RC(cl, ws_conn_send_request(cl, NULL, 4, "/", 1, NULL, 0, NULL, 0), NUL);
    CHECK_RC(cl, ws_conn_send_request(cl, "h", 1, NULL, 1, NULL, 0, NULL, 0), NUL);
    CHECK_RC(cl, ws_conn_send_request(cl, "h", 1, "/", 1, NULL, 1, NULL, 0), NUL);
    CHECK_RC(cl, ws_conn_send_request(cl, "h", 1, "/", 1, &bad_proto, 1, NULL, 0), NUL);
    CHECK_RC(cl, ws_conn_send_request(cl, "h", 1, "/", 1, NULL, 0, NULL, 2), NUL);
    CHECK_RC(cl, ws_conn_send_request(cl, "h", 1, "/", 1, NULL, 0, &bad_hdr, 1), NUL);
    CHECK(ws_conn_output_len(cl) == 0);
    CHECK(ws_conn_state(cl) == WS_STATE_CONNECTING);
    ws_conn_free(cl);
  }
  ws_conn_t *sv = NULL;
  CHECK_RC(NULL, ws_conn_new_server(NULL, &sv), WS_OK);
  if (sv) {
    CHECK_RC(sv, ws_conn_accept(sv, NULL, 3, NULL, 0), NUL);
    CHECK_RC(sv, ws_conn_accept(sv, NULL, 0, NULL, 1), NUL);
    CHECK_RC(sv, ws_conn_reject(sv, 400, NULL, 1, false), NUL);
    CHECK_RC(sv, ws_conn_reject_data(sv, NULL, 1, true), NUL);
    ws_conn_free(sv);
  }

  /* handshake helper */
  char tok[28];
  CHECK_RC(NULL, ws_accept_token(NULL, 24, tok, sizeof tok, &n), NUL);
  CHECK_RC(NULL, ws_accept_token("dGhlIHNhbXBsZSBub25jZQ==", 24, NULL, 28, &n), NUL);
  CHECK_RC(NULL, ws_accept_token("dGhlIHNhbXBsZSBub25jZQ==", 24, tok, sizeof tok, NULL), NUL);
}

static void test_result_str(void) {
  static const ws_result_t all[] = {WS_OK,
                                    WS_ERR_NULL_ARGUMENT,
                                    WS_ERR_INVALID_ARGUMENT,
                                    WS_ERR_WRONG_STATE,
                                    WS_ERR_HANDSHAKE,
                                    WS_ERR_CLOSED,
                                    WS_ERR_BUFFER_TOO_SMALL,
                                    WS_ERR_RNG,
                                    WS_ERR_PANIC,
                                    WS_ERR_POISONED,
                                    WS_ERR_NO_MEMORY,
                                    WS_ERR_INPUT_FULL};
  size_t count = sizeof all / sizeof all[0];
  for (size_t i = 0; i < count; i++) {
    const char *s = ws_result_str(all[i]);
    CHECK(s != NULL && s[0] != '\0' && strcmp(s, "unknown result") != 0);
    for (size_t j = 0; j < i; j++) CHECK(strcmp(s, ws_result_str(all[j])) != 0);
  }
  CHECK(strcmp(ws_result_str((ws_result_t)1), "unknown result") == 0);
  CHECK(strcmp(ws_result_str((ws_result_t)7000), "unknown result") == 0);
  CHECK(strcmp(ws_result_str((ws_result_t)7012), "unknown result") == 0);
  CHECK(strcmp(ws_result_str((ws_result_t)-1), "unknown result") == 0);
  CHECK(WS_OK == 0 && WS_ERR_NULL_ARGUMENT == 7001 && WS_ERR_POISONED == 7009);
  CHECK(WS_EVENT_FLAG_FRAME_FINISHED == 1u && WS_EVENT_FLAG_MESSAGE_FINISHED == 2u && WS_EVENT_FLAG_HAS_BODY == 4u &&
        WS_EVENT_FLAG_PROTOCOL_ERROR == 8u && WS_SEND_MORE == 1u && WS_SEND_NO_COMPRESS == 2u);
}

static void test_version(void) {
  const char *v = ws_version();
  CHECK(v != NULL);
  if (!v) return;
  int dots = 0;
  for (const char *p = v; *p; p++) {
    if (*p == '.') dots++;
    else CHECK(*p >= '0' && *p <= '9');
  }
  CHECK(dots == 2 && v[0] != '.' && v[strlen(v) - 1] != '.');
}

static void test_accept_token(void) {
  char out[40];
  size_t n = 0;
  CHECK_RC(NULL, ws_accept_token("dGhlIHNhbXBsZSBub25jZQ==", 24, out, sizeof out, &n), WS_OK);
  CHECK(n == 28 && memcmp(out, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", 28) == 0);
  n = 99;
  memset(out, '#', sizeof out);
  CHECK_RC(NULL, ws_accept_token("dGhlIHNhbXBsZSBub25jZQ==", 24, out, 27, &n), WS_ERR_BUFFER_TOO_SMALL);
  CHECK(n == 99 && out[0] == '#');
  CHECK_RC(NULL, ws_accept_token("not a key", 9, out, sizeof out, &n), WS_ERR_INVALID_ARGUMENT);
  CHECK_RC(NULL, ws_accept_token("dGhlIHNhbXBsZSBub25jZQ==", 20, out, sizeof out, &n), WS_ERR_INVALID_ARGUMENT);
}

static void test_config_validation(void) {
  ws_config_t *cfg = ws_config_new();
  CHECK(cfg != NULL);
  CHECK_RC(NULL, ws_config_set_max_frame_size(cfg, 0), WS_ERR_INVALID_ARGUMENT);
  CHECK_RC(NULL, ws_config_set_max_message_size(cfg, 0), WS_ERR_INVALID_ARGUMENT);
  CHECK_RC(NULL, ws_config_set_max_handshake_size(cfg, 0), WS_ERR_INVALID_ARGUMENT);
  CHECK_RC(NULL, ws_config_set_max_handshake_headers(cfg, 0), WS_ERR_INVALID_ARGUMENT);
  CHECK_RC(NULL, ws_config_set_message_mode(cfg, (ws_message_mode_t)7), WS_ERR_INVALID_ARGUMENT);
  CHECK_RC(NULL, ws_config_set_max_frame_size(cfg, 1), WS_OK);
  CHECK_RC(NULL, ws_config_set_max_message_size(cfg, UINT64_MAX), WS_OK);
  CHECK_RC(NULL, ws_config_set_max_handshake_size(cfg, 1), WS_OK);
  CHECK_RC(NULL, ws_config_set_max_handshake_headers(cfg, 1), WS_OK);
  CHECK_RC(NULL, ws_config_set_auto_pong(cfg, false), WS_OK);
  CHECK_RC(NULL, ws_config_set_auto_close_reply(cfg, false), WS_OK);
  CHECK_RC(NULL, ws_config_set_message_mode(cfg, WS_MESSAGE_MODE_STREAM), WS_OK);
  CHECK_RC(NULL, ws_config_set_rng(cfg, NULL, NULL), WS_OK);
  ws_conn_t *c = NULL;
  CHECK_RC(NULL, ws_conn_new_frames_only(cfg, (ws_role_t)5, NULL, 0, &c), WS_ERR_INVALID_ARGUMENT);
  CHECK(c == NULL);
  /* the config is copied: freeing it right away leaves the connection working */
  CHECK_RC(NULL, ws_config_set_max_frame_size(cfg, 4), WS_OK);
  CHECK_RC(NULL, ws_conn_new_frames_only(cfg, WS_ROLE_SERVER, NULL, 0, &c), WS_OK);
  ws_config_free(cfg);
  if (c) {
    /* auto-pong off: a ping yields an event but no pong */
    uint8_t ping[] = {0x89, 0x81, 1, 2, 3, 4, 'p' ^ 1};
    CHECK_RC(c, ws_conn_receive(c, ping, sizeof ping), WS_OK);
    ws_event_t ev;
    CHECK_RC(c, ws_conn_poll_event(c, &ev), WS_OK);
    CHECK(ev.type == WS_EVENT_PING && ev.len == 1 && ev.data[0] == 'p');
    CHECK(ws_conn_output_len(c) == 0);
    /* max frame size 4 from the freed config still applies */
    uint8_t bin[] = {0x82, 0x85, 0, 0, 0, 0, 1, 2, 3, 4, 5};
    CHECK_RC(c, ws_conn_receive(c, bin, sizeof bin), WS_OK);
    CHECK_RC(c, ws_conn_poll_event(c, &ev), WS_OK);
    CHECK(ev.type == WS_EVENT_CLOSE && ev.code == 1009 && (ev.flags & WS_EVENT_FLAG_PROTOCOL_ERROR));
    ws_conn_free(c);
  }
}

/* A close that must be refused as INVALID_ARGUMENT, on a fresh connection so
 * one wrong answer cannot hide the others. */
static void close_refused(uint16_t code, const char *reason, size_t len) {
  ws_conn_t *s = frames(WS_ROLE_SERVER, NULL);
  if (!s) return;
  ws_result_t rc = ws_conn_send_close(s, code, reason, len);
  if (rc != WS_ERR_INVALID_ARGUMENT) {
    fprintf(stderr, "send_close(%u, %zu-byte reason) = %s, want WS_ERR_INVALID_ARGUMENT\n", code, len,
            ws_result_str(rc));
    failures++;
  }
  CHECK(ws_conn_output_len(s) == 0);
  CHECK(ws_conn_state(s) == WS_STATE_OPEN);
  ws_conn_free(s);
}

static void test_close_arguments(void) {
  char reason[124];
  memset(reason, 'r', sizeof reason);
  close_refused(999, NULL, 0);
  close_refused(1004, NULL, 0);
  close_refused(1006, NULL, 0);
  close_refused(1015, NULL, 0);
  close_refused(5000, NULL, 0);
  close_refused(1000, reason, 124);
  close_refused(1000, "\xc3", 1);
  close_refused(0, "why", 3);
  close_refused(1005, "why", 3);
  ws_conn_t *s = frames(WS_ROLE_SERVER, NULL);
  if (s) {
    CHECK_RC(s, ws_conn_send_close(s, 4999, reason, 123), WS_OK);
    uint8_t out[256];
    size_t n = 0;
    CHECK_RC(s, ws_conn_output_copy(s, out, sizeof out, &n), WS_OK);
    CHECK(n == 2 + 2 + 123 && out[0] == 0x88 && out[1] == 125 && out[2] == 0x13 && out[3] == 0x87);
    ws_conn_free(s);
  }
  /* 0 and 1005 both mean "no status code": 1005 itself never reaches the
   * wire (RFC 6455 7.4.1), the frame goes out with an empty payload. */
  uint16_t no_code[] = {0, 1005};
  for (size_t i = 0; i < 2; i++) {
    s = frames(WS_ROLE_SERVER, NULL);
    if (s) {
      CHECK_RC(s, ws_conn_send_close(s, no_code[i], NULL, 0), WS_OK);
      CHECK(ws_conn_output_len(s) == 2);
      ws_conn_free(s);
    }
  }
}

static void test_wrong_state_and_invalid(void) {
  uint8_t buf[256];
  ws_conn_t *cl = NULL, *sv = NULL;
  CHECK_RC(NULL, ws_conn_new_client(NULL, &cl), WS_OK);
  CHECK_RC(NULL, ws_conn_new_server(NULL, &sv), WS_OK);
  if (cl && sv) {
    CHECK_RC(cl, ws_conn_send_text(cl, (const uint8_t *)"x", 1, 0), WS_ERR_WRONG_STATE);
    CHECK_RC(cl, ws_conn_send_ping(cl, NULL, 0), WS_ERR_WRONG_STATE);
    CHECK_RC(cl, ws_conn_send_close(cl, 1000, NULL, 0), WS_ERR_WRONG_STATE);
    CHECK_RC(cl, ws_conn_accept(cl, NULL, 0, NULL, 0), WS_ERR_WRONG_STATE);
    CHECK_RC(cl, ws_conn_reject(cl, 400, NULL, 0, false), WS_ERR_WRONG_STATE);
    CHECK(ws_conn_last_error(cl)[0] != '\0');
    CHECK_RC(sv, ws_conn_send_request(sv, "h", 1, "/", 1, NULL, 0, NULL, 0), WS_ERR_WRONG_STATE);
    CHECK_RC(sv, ws_conn_accept(sv, NULL, 0, NULL, 0), WS_ERR_WRONG_STATE); /* no request yet */
    CHECK_RC(sv, ws_conn_send_binary(sv, (const uint8_t *)"x", 1, 0), WS_ERR_WRONG_STATE);
    CHECK_RC(sv, ws_conn_reject_data(sv, (const uint8_t *)"x", 1, true), WS_ERR_WRONG_STATE);
    CHECK(ws_conn_output_len(cl) == 0 && ws_conn_output_len(sv) == 0);
    /* invalid request arguments */
    ws_str_t bad_proto = {"a b", 3};
    ws_header_t crlf = {{"X-A", 3}, {"v\r\nInjected: 1", 15}};
    ws_header_t bad_name = {{"X A", 3}, {"v", 1}};
    CHECK_RC(cl, ws_conn_send_request(cl, "", 0, "/", 1, NULL, 0, NULL, 0), WS_ERR_INVALID_ARGUMENT);
    CHECK_RC(cl, ws_conn_send_request(cl, "h", 1, "/", 1, &bad_proto, 1, NULL, 0), WS_ERR_INVALID_ARGUMENT);
    CHECK_RC(cl, ws_conn_send_request(cl, "h", 1, "/", 1, NULL, 0, &crlf, 1), WS_ERR_INVALID_ARGUMENT);
    CHECK_RC(cl, ws_conn_send_request(cl, "h", 1, "/", 1, NULL, 0, &bad_name, 1), WS_ERR_INVALID_ARGUMENT);
    CHECK_RC(cl, ws_conn_send_request(cl, "h\xff", 2, "/", 1, NULL, 0, NULL, 0), WS_ERR_INVALID_ARGUMENT);
    CHECK(ws_conn_output_len(cl) == 0);
    CHECK_RC(cl, ws_conn_send_request(cl, "h", 1, "/", 1, NULL, 0, NULL, 0), WS_OK);
    CHECK_RC(cl, ws_conn_send_request(cl, "h", 1, "/", 1, NULL, 0, NULL, 0), WS_ERR_WRONG_STATE);
  }
  ws_conn_free(cl);
  ws_conn_free(sv);

  ws_conn_t *s = frames(WS_ROLE_SERVER, NULL);
  if (!s) return;
  memset(buf, 'a', sizeof buf);
  CHECK_RC(s, ws_conn_send_ping(s, buf, 126), WS_ERR_INVALID_ARGUMENT);
  CHECK_RC(s, ws_conn_send_pong(s, buf, 126), WS_ERR_INVALID_ARGUMENT);
  CHECK_RC(s, ws_conn_send_ping(s, buf, 125), WS_OK);
  CHECK_RC(s, ws_conn_send_text(s, (const uint8_t *)"\xff", 1, 0), WS_ERR_INVALID_ARGUMENT);
  CHECK_RC(s, ws_conn_send_text(s, (const uint8_t *)"x", 1, 0x80), WS_ERR_INVALID_ARGUMENT);
  CHECK(ws_conn_last_error(s)[0] != '\0');
  CHECK(ws_conn_output_len(s) == 2 + 125); /* only the valid ping */
  /* binary while a text message is fragmented */
  CHECK_RC(s, ws_conn_send_text(s, (const uint8_t *)"a", 1, WS_SEND_MORE), WS_OK);
  CHECK_RC(s, ws_conn_send_binary(s, (const uint8_t *)"b", 1, 0), WS_ERR_WRONG_STATE);
  CHECK_RC(s, ws_conn_send_text(s, (const uint8_t *)"c", 1, WS_SEND_NO_COMPRESS), WS_OK);
  CHECK_RC(s, ws_conn_send_close(s, 1000, (const char *)buf, 123), WS_OK);
  CHECK(ws_conn_state(s) == WS_STATE_LOCAL_CLOSING);
  CHECK_RC(s, ws_conn_send_text(s, (const uint8_t *)"x", 1, 0), WS_ERR_WRONG_STATE);
  CHECK_RC(s, ws_conn_send_close(s, 1000, NULL, 0), WS_ERR_WRONG_STATE);
  ws_conn_free(s);
}

static void test_output_helpers(void) {
  ws_conn_t *s = frames(WS_ROLE_SERVER, NULL);
  if (!s) return;
  CHECK_RC(s, ws_conn_send_binary(s, (const uint8_t *)"0123456789", 10, 0), WS_OK);
  CHECK(ws_conn_output_len(s) == 12);
  uint8_t buf[32];
  size_t n = 0;
  CHECK_RC(s, ws_conn_output_copy(s, buf, 5, &n), WS_OK);
  CHECK(n == 5 && memcmp(buf, "\x82\x0a" "012", 5) == 0);
  CHECK(ws_conn_output_len(s) == 7);
  const uint8_t *p = NULL;
  CHECK_RC(s, ws_conn_output_peek(s, &p, &n), WS_OK);
  CHECK(n == 7 && p != NULL && memcmp(p, "3456789", 7) == 0);
  CHECK_RC(s, ws_conn_output_consume(s, 8), WS_ERR_INVALID_ARGUMENT);
  CHECK(ws_conn_output_len(s) == 7);
  CHECK_RC(s, ws_conn_output_consume(s, 3), WS_OK);
  CHECK_RC(s, ws_conn_output_peek(s, &p, &n), WS_OK);
  CHECK(n == 4 && memcmp(p, "6789", 4) == 0);
  CHECK_RC(s, ws_conn_output_consume(s, 0), WS_OK);
  CHECK_RC(s, ws_conn_output_copy(s, buf, sizeof buf, &n), WS_OK);
  CHECK(n == 4 && memcmp(buf, "6789", 4) == 0);
  CHECK_RC(s, ws_conn_output_copy(s, buf, sizeof buf, &n), WS_OK);
  CHECK(n == 0);
  CHECK_RC(s, ws_conn_output_peek(s, &p, &n), WS_OK);
  CHECK(n == 0);
  CHECK_RC(s, ws_conn_output_consume(s, 1), WS_ERR_INVALID_ARGUMENT);
  ws_conn_free(s);
}

static void test_eof(void) {
  ws_conn_t *s = frames(WS_ROLE_SERVER, NULL);
  if (!s) return;
  /* half a frame buffered, then EOF */
  uint8_t half[] = {0x81, 0x85, 0, 0, 0, 0, 'h'};
  CHECK_RC(s, ws_conn_receive(s, half, sizeof half), WS_OK);
  CHECK(ws_conn_buffered_input(s) > 0);
  CHECK_RC(s, ws_conn_receive_eof(s), WS_OK);
  ws_event_t ev;
  CHECK_RC(s, ws_conn_poll_event(s, &ev), WS_OK);
  CHECK(ev.type == WS_EVENT_CLOSE && ev.code == 1006);
  CHECK_RC(s, ws_conn_poll_event(s, &ev), WS_OK);
  CHECK(ev.type == WS_EVENT_NONE);
  CHECK(ws_conn_state(s) == WS_STATE_CLOSED);
  CHECK_RC(s, ws_conn_receive(s, half, sizeof half), WS_ERR_CLOSED);
  CHECK(ws_conn_last_error(s)[0] != '\0');
  CHECK_RC(s, ws_conn_receive_eof(s), WS_OK); /* repeated EOF: harmless, no second CLOSE */
  CHECK_RC(s, ws_conn_poll_event(s, &ev), WS_OK);
  CHECK(ev.type == WS_EVENT_NONE);
  CHECK_RC(s, ws_conn_send_text(s, (const uint8_t *)"x", 1, 0), WS_ERR_WRONG_STATE);
  CHECK(ws_conn_wants_close_transport(s));
  ws_conn_free(s);
}

typedef struct {
  int calls;
  size_t bytes;
  uint8_t fill;
  bool fail;
} rng_state_t;

static int test_rng(void *userdata, uint8_t *buf, size_t len) {
  rng_state_t *st = userdata;
  st->calls++;
  if (st->fail) return -1;
  st->bytes += len;
  memset(buf, st->fill, len);
  return 0;
}

static void test_rng_callback(void) {
  rng_state_t st = {0, 0, 0xAB, false};
  ws_config_t *cfg = ws_config_new();
  CHECK_RC(NULL, ws_config_set_rng(cfg, test_rng, &st), WS_OK);

  /* client key = base64 of 16 bytes from the callback */
  ws_conn_t *c = NULL;
  CHECK_RC(NULL, ws_conn_new_client(cfg, &c), WS_OK);
  if (c) {
    CHECK_RC(c, ws_conn_send_request(c, "h", 1, "/", 1, NULL, 0, NULL, 0), WS_OK);
    CHECK(st.calls > 0 && st.bytes >= 16);
    const uint8_t *p = NULL;
    size_t n = 0;
    CHECK_RC(c, ws_conn_output_peek(c, &p, &n), WS_OK);
    const char *want = "q6urq6urq6urq6urq6urqw=="; /* base64(16 x 0xAB) */
    bool found = false;
    for (size_t i = 0; p && i + 24 <= n; i++)
      if (memcmp(p + i, want, 24) == 0) found = true;
    CHECK(found);
    ws_conn_free(c);
  }

  /* client masking key from the callback: all-zero key leaves the payload clear */
  st.fill = 0;
  st.calls = 0;
  c = frames(WS_ROLE_CLIENT, cfg);
  if (c) {
    CHECK_RC(c, ws_conn_send_text(c, (const uint8_t *)"hi", 2, 0), WS_OK);
    CHECK(st.calls > 0);
    uint8_t out[16];
    size_t n = 0;
    CHECK_RC(c, ws_conn_output_copy(c, out, sizeof out, &n), WS_OK);
    CHECK(n == 8 && memcmp(out, "\x81\x82\0\0\0\0hi", 8) == 0);
    /* a failing RNG: the library may draw randomness in blocks, so the
     * failure shows once the block is used up; then WS_ERR_RNG and nothing queued */
    st.fail = true;
    ws_result_t rc = WS_OK;
    int sends = 0;
    while (rc == WS_OK && sends < 10000) {
      size_t before = ws_conn_output_len(c);
      rc = ws_conn_send_ping(c, NULL, 0);
      if (rc == WS_OK) CHECK(ws_conn_output_len(c) == before + 6);
      else CHECK(ws_conn_output_len(c) == before);
      sends++;
    }
    CHECK_RC(c, rc, WS_ERR_RNG);
    CHECK(ws_conn_last_error(c)[0] != '\0');
    CHECK_RC(c, ws_conn_send_text(c, (const uint8_t *)"hi", 2, 0), WS_ERR_RNG);
    st.fail = false;
    size_t before = ws_conn_output_len(c);
    CHECK_RC(c, ws_conn_send_ping(c, NULL, 0), WS_OK);
    CHECK(ws_conn_output_len(c) == before + 6);
    ws_conn_free(c);
  }

  /* failing from the start: the first send fails and queues nothing */
  st.fail = true;
  c = frames(WS_ROLE_CLIENT, cfg);
  if (c) {
    CHECK_RC(c, ws_conn_send_binary(c, (const uint8_t *)"x", 1, 0), WS_ERR_RNG);
    CHECK(ws_conn_output_len(c) == 0);
    ws_conn_free(c);
  }
  c = NULL;
  CHECK_RC(NULL, ws_conn_new_client(cfg, &c), WS_OK);
  if (c) {
    CHECK_RC(c, ws_conn_send_request(c, "h", 1, "/", 1, NULL, 0, NULL, 0), WS_ERR_RNG);
    CHECK(ws_conn_output_len(c) == 0);
    CHECK(ws_conn_state(c) == WS_STATE_CONNECTING);
    ws_conn_free(c);
  }

  /* NULL restores the OS RNG: the callback is no longer called */
  st.calls = 0;
  CHECK_RC(NULL, ws_config_set_rng(cfg, NULL, &st), WS_OK);
  c = frames(WS_ROLE_CLIENT, cfg);
  if (c) {
    CHECK_RC(c, ws_conn_send_text(c, (const uint8_t *)"hi", 2, 0), WS_OK);
    CHECK(st.calls == 0);
    ws_conn_free(c);
  }
  ws_config_free(cfg);
}

int main(void) {
  test_null_arguments();
  test_result_str();
  test_version();
  test_accept_token();
  test_config_validation();
  test_close_arguments();
  test_wrong_state_and_invalid();
  test_output_helpers();
  test_eof();
  test_rng_callback();

  if (failures) {
    fprintf(stderr, "test_api: %d failure(s)\n", failures);
    return 1;
  }
  printf("test_api: ok\n");
  return 0;
}
