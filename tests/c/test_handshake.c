/* Handshake tests for the C API: scripted HTTP upgrade bytes fed to the real
 * shared library (server side, client side, rejection, invalid requests).
 * Expectations come from the header documentation and RFC 6455 section 4. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ctype.h>

#include "wsproto.h"
#include "check.h"

#define RFC_KEY "dGhlIHNhbXBsZSBub25jZQ=="
#define RFC_ACCEPT "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="

static const char CLIENT_REQUEST[] =
    "GET /chat?room=1 HTTP/1.1\r\n"
    "Host: example.com:8080\r\n"
    "Upgrade: websocket\r\n"
    "Connection: Upgrade\r\n"
    "Sec-WebSocket-Key: " RFC_KEY "\r\n"
    "Sec-WebSocket-Version: 13\r\n"
    "Sec-WebSocket-Protocol: chat, superchat\r\n"
    "Sec-WebSocket-Extensions: x-test; a=1\r\n"
    "Origin: http://example.com\r\n"
    "\r\n";

static bool str_is(ws_str_t s, const char *lit) {
  size_t n = strlen(lit);
  return s.len == n && (n == 0 || (s.ptr != NULL && memcmp(s.ptr, lit, n) == 0));
}

static bool str_is_ci(ws_str_t s, const char *lit) {
  size_t n = strlen(lit);
  if (s.len != n) return false;
  for (size_t i = 0; i < n; i++)
    if (tolower((unsigned char)s.ptr[i]) != tolower((unsigned char)lit[i])) return false;
  return true;
}

/* Case-insensitive search of `needle` in hay[0..len); returns the offset or -1. */
static long find_ci(const uint8_t *hay, size_t len, const char *needle) {
  size_t n = strlen(needle);
  for (size_t i = 0; n <= len && i <= len - n; i++) {
    size_t j = 0;
    while (j < n && tolower(hay[i + j]) == tolower((unsigned char)needle[j])) j++;
    if (j == n) return (long)i;
  }
  return -1;
}

/* Finds header `name` in an HTTP head and copies its trimmed value into out. */
static bool header_value(const uint8_t *head, size_t len, const char *name, char *out, size_t cap) {
  char pat[128];
  snprintf(pat, sizeof pat, "\r\n%s:", name);
  long at = find_ci(head, len, pat);
  if (at < 0) return false;
  size_t i = (size_t)at + strlen(pat);
  while (i < len && (head[i] == ' ' || head[i] == '\t')) i++;
  size_t n = 0;
  while (i < len && head[i] != '\r' && n + 1 < cap) out[n++] = (char)head[i++];
  while (n > 0 && (out[n - 1] == ' ' || out[n - 1] == '\t')) n--;
  out[n] = '\0';
  return true;
}

/* Moves all pending output into buf; returns the byte count. */
static size_t take_output(ws_conn_t *c, uint8_t *buf, size_t cap) {
  size_t n = 0;
  CHECK_RC(c, ws_conn_output_copy(c, buf, cap, &n), WS_OK);
  CHECK(ws_conn_output_len(c) == 0);
  return n;
}

static const ws_header_t *find_header(const ws_event_t *ev, const char *name) {
  for (size_t i = 0; i < ev->headers_len; i++)
    if (str_is_ci(ev->headers[i].name, name)) return &ev->headers[i];
  return NULL;
}

/* Server: the request fed in chunks of `chunk` bytes; REQUEST appears only
 * after the last byte; accept produces a valid 101. */
static void test_server_accept(size_t chunk) {
  ws_conn_t *s = NULL;
  CHECK_RC(s, ws_conn_new_server(NULL, &s), WS_OK);
  if (!s) return;
  CHECK(ws_conn_state(s) == WS_STATE_CONNECTING);

  size_t total = strlen(CLIENT_REQUEST);
  ws_event_t ev;
  for (size_t off = 0; off < total; off += chunk) {
    size_t n = total - off < chunk ? total - off : chunk;
    CHECK_RC(s, ws_conn_receive(s, (const uint8_t *)CLIENT_REQUEST + off, n), WS_OK);
    CHECK_RC(s, ws_conn_poll_event(s, &ev), WS_OK);
    if (off + n < total) {
      if (ev.type != WS_EVENT_NONE) {
        fprintf(stderr, "chunk %zu: event %d before the head was complete (offset %zu)\n", chunk, (int)ev.type, off);
        failures++;
        break;
      }
    }
  }
  CHECK(ev.type == WS_EVENT_REQUEST);
  if (ev.type == WS_EVENT_REQUEST) {
    CHECK(str_is(ev.target, "/chat?room=1"));
    CHECK(str_is(ev.host, "example.com:8080"));
    CHECK(ev.subprotocols_len == 2);
    if (ev.subprotocols_len == 2) {
      CHECK(str_is(ev.subprotocols[0], "chat"));
      CHECK(str_is(ev.subprotocols[1], "superchat"));
    }
    CHECK(str_is(ev.extensions, "x-test; a=1"));
    CHECK(ev.headers_len == 8);
    if (ev.headers_len == 8) {
      CHECK(str_is(ev.headers[0].name, "Host"));
      CHECK(str_is(ev.headers[0].value, "example.com:8080"));
      CHECK(str_is(ev.headers[7].name, "Origin"));
      CHECK(str_is(ev.headers[7].value, "http://example.com"));
    }
    const ws_header_t *key = find_header(&ev, "sec-websocket-key");
    CHECK(key != NULL && str_is(key->value, RFC_KEY));
    CHECK(ev.data == NULL && ev.len == 0 && ev.code == 0 && ev.flags == 0);
    CHECK(ev.subprotocol.len == 0);
  }
  CHECK(ws_conn_buffered_input(s) == 0);
  CHECK_RC(s, ws_conn_poll_event(s, &ev), WS_OK);
  CHECK(ev.type == WS_EVENT_NONE);
  CHECK(ws_conn_output_len(s) == 0);

  ws_header_t extra = {{"X-Server", 8}, {"wsproto-test", 12}};
  CHECK_RC(s, ws_conn_accept(s, "chat", 4, &extra, 1), WS_OK);
  CHECK(ws_conn_state(s) == WS_STATE_OPEN);
  uint8_t out[2048];
  size_t n = take_output(s, out, sizeof out);
  CHECK(n > 12 && memcmp(out, "HTTP/1.1 101", 12) == 0);
  CHECK(n >= 4 && memcmp(out + n - 4, "\r\n\r\n", 4) == 0);
  char v[256];
  CHECK(header_value(out, n, "Sec-WebSocket-Accept", v, sizeof v) && strcmp(v, RFC_ACCEPT) == 0);
  CHECK(header_value(out, n, "Sec-WebSocket-Protocol", v, sizeof v) && strcmp(v, "chat") == 0);
  CHECK(header_value(out, n, "Upgrade", v, sizeof v) && strlen(v) == 9 && find_ci((const uint8_t *)v, 9, "websocket") == 0);
  CHECK(header_value(out, n, "Connection", v, sizeof v) && find_ci((const uint8_t *)v, strlen(v), "upgrade") >= 0);
  CHECK(header_value(out, n, "X-Server", v, sizeof v) && strcmp(v, "wsproto-test") == 0);
  /* The offered extension is unknown (and deflate is off): not accepted. */
  CHECK(!header_value(out, n, "Sec-WebSocket-Extensions", v, sizeof v));
  /* accept twice is a state error and queues nothing */
  CHECK_RC(s, ws_conn_accept(s, NULL, 0, NULL, 0), WS_ERR_WRONG_STATE);
  CHECK(ws_conn_output_len(s) == 0);
  ws_conn_free(s);
}

/* A server connection that has received CLIENT_REQUEST and reported it as a
 * REQUEST event; NULL (with the failure counted) if that did not happen. */
static ws_conn_t *server_after_request(void) {
  ws_conn_t *s = NULL;
  CHECK_RC(s, ws_conn_new_server(NULL, &s), WS_OK);
  if (!s) return NULL;
  CHECK_RC(s, ws_conn_receive(s, (const uint8_t *)CLIENT_REQUEST, strlen(CLIENT_REQUEST)), WS_OK);
  ws_event_t ev;
  CHECK_RC(s, ws_conn_poll_event(s, &ev), WS_OK);
  CHECK(ev.type == WS_EVENT_REQUEST);
  return s;
}

/* Server: accepting a subprotocol the client did not offer is refused. */
static void test_server_accept_unoffered_subprotocol(void) {
  ws_conn_t *s = server_after_request();
  if (!s) return;
  CHECK_RC(s, ws_conn_accept(s, "mqtt", 4, NULL, 0), WS_ERR_INVALID_ARGUMENT);
  CHECK(ws_conn_output_len(s) == 0);
  CHECK(ws_conn_state(s) == WS_STATE_CONNECTING);
  ws_conn_free(s);
}

/* Client: sends a request; returns the Sec-WebSocket-Key it used. */
static bool client_request(ws_conn_t *c, char *key, size_t key_cap) {
  ws_str_t protos[2] = {{"chat", 4}, {"superchat", 9}};
  ws_header_t extra = {{"Origin", 6}, {"http://example.com", 18}};
  CHECK_RC(c, ws_conn_send_request(c, "example.com", 11, "/chat", 5, protos, 2, &extra, 1), WS_OK);
  CHECK(ws_conn_state(c) == WS_STATE_CONNECTING);
  uint8_t out[2048];
  size_t n = take_output(c, out, sizeof out);
  CHECK(n > 20 && memcmp(out, "GET /chat HTTP/1.1\r\n", 20) == 0);
  CHECK(n >= 4 && memcmp(out + n - 4, "\r\n\r\n", 4) == 0);
  char v[256];
  CHECK(header_value(out, n, "Host", v, sizeof v) && strcmp(v, "example.com") == 0);
  CHECK(header_value(out, n, "Upgrade", v, sizeof v) && find_ci((const uint8_t *)v, strlen(v), "websocket") == 0);
  CHECK(header_value(out, n, "Connection", v, sizeof v) && find_ci((const uint8_t *)v, strlen(v), "upgrade") >= 0);
  CHECK(header_value(out, n, "Sec-WebSocket-Version", v, sizeof v) && strcmp(v, "13") == 0);
  CHECK(header_value(out, n, "Origin", v, sizeof v) && strcmp(v, "http://example.com") == 0);
  CHECK(header_value(out, n, "Sec-WebSocket-Protocol", v, sizeof v) && strstr(v, "chat") == v &&
        strstr(v, "superchat") != NULL);
  if (!header_value(out, n, "Sec-WebSocket-Key", key, key_cap)) {
    fprintf(stderr, "no Sec-WebSocket-Key in request\n");
    failures++;
    return false;
  }
  CHECK(strlen(key) == 24 && key[22] == '=' && key[23] == '=');
  return true;
}

/* Sends the client's request (checked by client_request) and writes the
 * Sec-WebSocket-Accept token a server must answer with, NUL-terminated. */
static bool client_request_token(ws_conn_t *c, char token[29]) {
  char key[64];
  if (!client_request(c, key, sizeof key)) return false;
  size_t token_len = 0;
  CHECK_RC(c, ws_accept_token(key, strlen(key), token, 28, &token_len), WS_OK);
  CHECK(token_len == 28);
  token[28] = '\0';
  return token_len == 28;
}

/* Client: a crafted 101 for the key it sent, fed in two pieces. */
static void test_client_accept(void) {
  ws_conn_t *c = NULL;
  CHECK_RC(c, ws_conn_new_client(NULL, &c), WS_OK);
  if (!c) return;
  char token[29];
  if (!client_request_token(c, token)) {
    ws_conn_free(c);
    return;
  }
  char resp[512];
  int rn = snprintf(resp, sizeof resp,
                    "HTTP/1.1 101 Switching Protocols\r\n"
                    "Upgrade: websocket\r\n"
                    "Connection: Upgrade\r\n"
                    "Sec-WebSocket-Accept: %.28s\r\n"
                    "Sec-WebSocket-Protocol: superchat\r\n"
                    "X-Extra: yes\r\n"
                    "\r\n",
                    token);
  size_t half = (size_t)rn / 2;
  ws_event_t ev;
  CHECK_RC(c, ws_conn_receive(c, (const uint8_t *)resp, half), WS_OK);
  CHECK_RC(c, ws_conn_poll_event(c, &ev), WS_OK);
  CHECK(ev.type == WS_EVENT_NONE);
  CHECK_RC(c, ws_conn_receive(c, (const uint8_t *)resp + half, (size_t)rn - half), WS_OK);
  CHECK_RC(c, ws_conn_poll_event(c, &ev), WS_OK);
  CHECK(ev.type == WS_EVENT_ACCEPT);
  if (ev.type == WS_EVENT_ACCEPT) {
    CHECK(str_is(ev.subprotocol, "superchat"));
    CHECK(ev.extensions.len == 0);
    CHECK(ev.headers_len == 5);
    const ws_header_t *x = find_header(&ev, "x-extra");
    CHECK(x != NULL && str_is(x->value, "yes"));
  }
  CHECK(ws_conn_state(c) == WS_STATE_OPEN);
  CHECK_RC(c, ws_conn_poll_event(c, &ev), WS_OK);
  CHECK(ev.type == WS_EVENT_NONE);
  ws_conn_free(c);
}

/* Client: a 101 with a wrong accept token, or an unoffered subprotocol, fails the handshake. */
static void test_client_bad_accept(const char *accept_override, const char *proto) {
  ws_conn_t *c = NULL;
  CHECK_RC(c, ws_conn_new_client(NULL, &c), WS_OK);
  if (!c) return;
  char token[29];
  if (client_request_token(c, token)) {
    char resp[512];
    int rn = snprintf(resp, sizeof resp,
                      "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                      "Sec-WebSocket-Accept: %s\r\n%s%s%s\r\n",
                      accept_override ? accept_override : token, proto ? "Sec-WebSocket-Protocol: " : "",
                      proto ? proto : "", proto ? "\r\n" : "");
    CHECK_RC(c, ws_conn_receive(c, (const uint8_t *)resp, (size_t)rn), WS_ERR_HANDSHAKE);
    CHECK(ws_conn_last_error(c)[0] != '\0');
    ws_event_t ev;
    CHECK_RC(c, ws_conn_poll_event(c, &ev), WS_OK);
    CHECK(ev.type != WS_EVENT_ACCEPT);
    CHECK(ws_conn_state(c) != WS_STATE_OPEN);
  }
  ws_conn_free(c);
}

/* Client and server talk to each other through their output buffers. */
static void test_loopback(void) {
  ws_conn_t *c = NULL, *s = NULL;
  CHECK_RC(c, ws_conn_new_client(NULL, &c), WS_OK);
  CHECK_RC(s, ws_conn_new_server(NULL, &s), WS_OK);
  if (c && s) {
    ws_str_t proto = {"v2.proto", 8};
    CHECK_RC(c, ws_conn_send_request(c, "localhost", 9, "/", 1, &proto, 1, NULL, 0), WS_OK);
    uint8_t buf[4096];
    size_t n = take_output(c, buf, sizeof buf);
    CHECK_RC(s, ws_conn_receive(s, buf, n), WS_OK);
    ws_event_t ev;
    CHECK_RC(s, ws_conn_poll_event(s, &ev), WS_OK);
    CHECK(ev.type == WS_EVENT_REQUEST);
    CHECK(ev.type == WS_EVENT_REQUEST && str_is(ev.target, "/") && str_is(ev.host, "localhost"));
    CHECK(ev.subprotocols_len == 1 && str_is(ev.subprotocols[0], "v2.proto"));
    CHECK_RC(s, ws_conn_accept(s, "v2.proto", 8, NULL, 0), WS_OK);
    n = take_output(s, buf, sizeof buf);
    CHECK_RC(c, ws_conn_receive(c, buf, n), WS_OK);
    CHECK_RC(c, ws_conn_poll_event(c, &ev), WS_OK);
    CHECK(ev.type == WS_EVENT_ACCEPT && str_is(ev.subprotocol, "v2.proto"));
    CHECK(ws_conn_state(c) == WS_STATE_OPEN && ws_conn_state(s) == WS_STATE_OPEN);

    /* one message each way proves both ends agree on framing and masking */
    CHECK_RC(c, ws_conn_send_text(c, (const uint8_t *)"ping?", 5, 0), WS_OK);
    n = take_output(c, buf, sizeof buf);
    CHECK(n == 2 + 4 + 5 && (buf[1] & 0x80) != 0);
    CHECK_RC(s, ws_conn_receive(s, buf, n), WS_OK);
    CHECK_RC(s, ws_conn_poll_event(s, &ev), WS_OK);
    CHECK(ev.type == WS_EVENT_TEXT && ev.len == 5 && memcmp(ev.data, "ping?", 5) == 0);
    CHECK_RC(s, ws_conn_send_binary(s, (const uint8_t *)"\x00\x01\x02", 3, 0), WS_OK);
    n = take_output(s, buf, sizeof buf);
    CHECK(n == 2 + 3 && (buf[1] & 0x80) == 0);
    CHECK_RC(c, ws_conn_receive(c, buf, n), WS_OK);
    CHECK_RC(c, ws_conn_poll_event(c, &ev), WS_OK);
    CHECK(ev.type == WS_EVENT_BINARY && ev.len == 3 && memcmp(ev.data, "\x00\x01\x02", 3) == 0);
  }
  ws_conn_free(c);
  ws_conn_free(s);
}

/* Client: a rejection with a body arrives as REJECT + REJECT_DATA events. */
static void test_client_reject(void) {
  ws_conn_t *c = NULL;
  CHECK_RC(c, ws_conn_new_client(NULL, &c), WS_OK);
  if (!c) return;
  char key[64];
  if (client_request(c, key, sizeof key)) {
    static const char resp[] =
        "HTTP/1.1 403 Forbidden\r\n"
        "Content-Type: text/plain\r\n"
        "Content-Length: 11\r\n"
        "\r\n"
        "not allowed";
    size_t head = strlen(resp) - 11;
    ws_event_t ev;
    /* head plus 3 body bytes, then the rest */
    CHECK_RC(c, ws_conn_receive(c, (const uint8_t *)resp, head + 3), WS_OK);
    CHECK_RC(c, ws_conn_poll_event(c, &ev), WS_OK);
    CHECK(ev.type == WS_EVENT_REJECT);
    if (ev.type == WS_EVENT_REJECT) {
      CHECK(ev.code == 403);
      CHECK((ev.flags & WS_EVENT_FLAG_HAS_BODY) != 0);
      CHECK(ev.headers_len == 2);
      const ws_header_t *ct = find_header(&ev, "content-type");
      CHECK(ct != NULL && str_is(ct->value, "text/plain"));
    }
    char body[64];
    size_t body_len = 0;
    bool finished = false;
    for (int round = 0; round < 2 && !finished; round++) {
      if (round == 1) CHECK_RC(c, ws_conn_receive(c, (const uint8_t *)resp + head + 3, 8), WS_OK);
      for (;;) {
        CHECK_RC(c, ws_conn_poll_event(c, &ev), WS_OK);
        if (ev.type != WS_EVENT_REJECT_DATA) break;
        CHECK(!finished);
        if (body_len + ev.len <= sizeof body) {
          if (ev.len) memcpy(body + body_len, ev.data, ev.len);
          body_len += ev.len;
        }
        if (ev.flags & WS_EVENT_FLAG_MESSAGE_FINISHED) finished = true;
      }
      CHECK(ev.type == WS_EVENT_NONE);
    }
    CHECK(finished);
    CHECK(body_len == 11 && memcmp(body, "not allowed", 11) == 0);
    CHECK(ws_conn_state(c) != WS_STATE_OPEN);
  }
  ws_conn_free(c);
}

/* Server: reject with a body after a REQUEST. */
static void test_server_reject(void) {
  ws_conn_t *s = server_after_request();
  if (!s) return;
  ws_header_t hdrs[2] = {{{"Content-Type", 12}, {"text/plain", 10}}, {{"Content-Length", 14}, {"5", 1}}};
  CHECK_RC(s, ws_conn_reject(s, 101, NULL, 0, false), WS_ERR_INVALID_ARGUMENT);
  /* Interim statuses would leave the client waiting for the final one. */
  CHECK_RC(s, ws_conn_reject(s, 100, NULL, 0, false), WS_ERR_INVALID_ARGUMENT);
  CHECK_RC(s, ws_conn_reject(s, 103, NULL, 0, true), WS_ERR_INVALID_ARGUMENT);
  CHECK_RC(s, ws_conn_reject(s, 199, NULL, 0, false), WS_ERR_INVALID_ARGUMENT);
  CHECK_RC(s, ws_conn_reject(s, 99, NULL, 0, false), WS_ERR_INVALID_ARGUMENT);
  CHECK_RC(s, ws_conn_reject(s, 600, NULL, 0, false), WS_ERR_INVALID_ARGUMENT);
  ws_header_t crlf = {{"X-A", 3}, {"a\r\nb: c", 8}};
  CHECK_RC(s, ws_conn_reject(s, 403, &crlf, 1, false), WS_ERR_INVALID_ARGUMENT);
  CHECK(ws_conn_output_len(s) == 0);
  CHECK(ws_conn_state(s) == WS_STATE_CONNECTING);
  CHECK_RC(s, ws_conn_reject(s, 403, hdrs, 2, true), WS_OK);
  CHECK(ws_conn_state(s) == WS_STATE_REJECTING);
  CHECK_RC(s, ws_conn_send_text(s, (const uint8_t *)"x", 1, 0), WS_ERR_WRONG_STATE);
  CHECK_RC(s, ws_conn_reject_data(s, (const uint8_t *)"no", 2, false), WS_OK);
  CHECK_RC(s, ws_conn_reject_data(s, (const uint8_t *)"pe!", 3, true), WS_OK);
  CHECK(ws_conn_state(s) == WS_STATE_CLOSED);
  CHECK_RC(s, ws_conn_reject_data(s, (const uint8_t *)"more", 4, true), WS_ERR_WRONG_STATE);
  uint8_t out[1024];
  size_t n = take_output(s, out, sizeof out);
  CHECK(n > 12 && memcmp(out, "HTTP/1.1 403", 12) == 0);
  char v[64];
  CHECK(header_value(out, n, "Content-Type", v, sizeof v) && strcmp(v, "text/plain") == 0);
  CHECK(n > 9 && memcmp(out + n - 9, "\r\n\r\nnope!", 9) == 0);
  CHECK(ws_conn_wants_close_transport(s));
  ws_conn_free(s);
}

/* Server: 204 and 304 never carry a body (RFC 9110 15.3.5, 15.4.5). */
static void test_server_reject_bodyless(uint16_t status, const char *want) {
  ws_conn_t *s = server_after_request();
  if (!s) return;
  CHECK_RC(s, ws_conn_reject(s, status, NULL, 0, true), WS_ERR_INVALID_ARGUMENT);
  ws_header_t te = {{"Transfer-Encoding", 17}, {"chunked", 7}};
  CHECK_RC(s, ws_conn_reject(s, status, &te, 1, false), WS_ERR_INVALID_ARGUMENT);
  CHECK(ws_conn_output_len(s) == 0);
  CHECK(ws_conn_state(s) == WS_STATE_CONNECTING);
  CHECK_RC(s, ws_conn_reject_data(s, (const uint8_t *)"body", 4, true), WS_ERR_WRONG_STATE);
  CHECK_RC(s, ws_conn_reject(s, status, NULL, 0, false), WS_OK);
  CHECK(ws_conn_state(s) == WS_STATE_CLOSED);
  CHECK_RC(s, ws_conn_reject_data(s, (const uint8_t *)"body", 4, true), WS_ERR_WRONG_STATE);
  uint8_t out[256];
  size_t n = take_output(s, out, sizeof out);
  CHECK(n == strlen(want) && memcmp(out, want, n) == 0);
  ws_conn_free(s);
}

/* Client: the 101's Upgrade must be a case-insensitive match for "websocket"
 * (RFC 6455 4.1), not a list that contains it. */
static void test_client_upgrade_value(const char *upgrade, ws_result_t want) {
  ws_conn_t *c = NULL;
  CHECK_RC(c, ws_conn_new_client(NULL, &c), WS_OK);
  if (!c) return;
  char token[29];
  if (client_request_token(c, token)) {
    char resp[512];
    int rn = snprintf(resp, sizeof resp,
                      "HTTP/1.2 101 Switching Protocols\r\nUpgrade: %s\r\nConnection: Upgrade\r\n"
                      "Sec-WebSocket-Accept: %s\r\n\r\n",
                      upgrade, token);
    ws_result_t rc = ws_conn_receive(c, (const uint8_t *)resp, (size_t)rn);
    if (rc != want) {
      fprintf(stderr, "Upgrade: %s -> %s, want %s (%s)\n", upgrade, ws_result_str(rc), ws_result_str(want),
              ws_conn_last_error(c));
      failures++;
    }
    ws_event_t ev;
    CHECK_RC(c, ws_conn_poll_event(c, &ev), WS_OK);
    CHECK((ev.type == WS_EVENT_ACCEPT) == (want == WS_OK));
    CHECK((ws_conn_state(c) == WS_STATE_OPEN) == (want == WS_OK));
  }
  ws_conn_free(c);
}

/* Server: a request of a higher HTTP/1.x minor version is processed as
 * HTTP/1.1 (RFC 9112 2.3); a huge max_handshake_headers costs nothing. */
static void test_server_accepts(const char *req, size_t max_headers) {
  ws_config_t *cfg = ws_config_new();
  CHECK(cfg != NULL);
  if (max_headers) CHECK_RC(NULL, ws_config_set_max_handshake_headers(cfg, max_headers), WS_OK);
  ws_conn_t *s = NULL;
  CHECK_RC(s, ws_conn_new_server(cfg, &s), WS_OK);
  ws_config_free(cfg);
  if (!s) return;
  CHECK_RC(s, ws_conn_receive(s, (const uint8_t *)req, strlen(req)), WS_OK);
  ws_event_t ev;
  CHECK_RC(s, ws_conn_poll_event(s, &ev), WS_OK);
  CHECK(ev.type == WS_EVENT_REQUEST);
  CHECK_RC(s, ws_conn_accept(s, NULL, 0, NULL, 0), WS_OK);
  uint8_t out[512];
  size_t n = take_output(s, out, sizeof out);
  CHECK(n > 13 && memcmp(out, "HTTP/1.1 101 ", 13) == 0);
  ws_conn_free(s);
}

/* Server: invalid requests fail with WS_ERR_HANDSHAKE and the right status hint;
 * the rejection can then be sent with that status. */
static void test_bad_request(const char *name, const char *req, uint16_t want_hint, const ws_config_t *cfg) {
  ws_conn_t *s = NULL;
  CHECK_RC(s, ws_conn_new_server(cfg, &s), WS_OK);
  if (!s) return;
  ws_result_t rc = ws_conn_receive(s, (const uint8_t *)req, strlen(req));
  if (rc != WS_ERR_HANDSHAKE) {
    fprintf(stderr, "%s: receive = %s, want WS_ERR_HANDSHAKE\n", name, ws_result_str(rc));
    failures++;
  }
  uint16_t hint = ws_conn_handshake_status_hint(s);
  if (hint != want_hint) {
    fprintf(stderr, "%s: status hint %u, want %u (%s)\n", name, hint, want_hint, ws_conn_last_error(s));
    failures++;
  }
  CHECK(ws_conn_last_error(s)[0] != '\0');
  ws_event_t ev;
  CHECK_RC(s, ws_conn_poll_event(s, &ev), WS_OK);
  CHECK(ev.type == WS_EVENT_NONE);
  CHECK(ws_conn_state(s) != WS_STATE_OPEN);
  CHECK_RC(s, ws_conn_reject(s, hint, NULL, 0, false), WS_OK);
  uint8_t out[1024];
  size_t n = take_output(s, out, sizeof out);
  char status[16];
  snprintf(status, sizeof status, "HTTP/1.1 %u", hint);
  CHECK(n > strlen(status) && memcmp(out, status, strlen(status)) == 0);
  /* The rejection head and nothing else: input after the bad head (a body
   * holding a ping) is not answered. */
  CHECK(n >= 4 && memcmp(out + n - 4, "\r\n\r\n", 4) == 0);
  char v[64];
  if (hint == 426) CHECK(header_value(out, n, "Sec-WebSocket-Version", v, sizeof v) && strcmp(v, "13") == 0);
  CHECK(ws_conn_wants_close_transport(s));
  ws_conn_free(s);
}

#define REQ_LINE "GET / HTTP/1.1\r\n"
#define HOST "Host: h\r\n"
#define UPG "Upgrade: websocket\r\nConnection: Upgrade\r\n"
#define KEY "Sec-WebSocket-Key: " RFC_KEY "\r\n"
#define VER "Sec-WebSocket-Version: 13\r\n"
/* A masked ping "p" with key 01 02 03 04 (7 bytes, no NUL). */
#define PING "\x89\x81\x01\x02\x03\x04q"

int main(void) {
  test_server_accept(strlen(CLIENT_REQUEST));
  test_server_accept(1);
  test_server_accept(7);
  test_server_accept_unoffered_subprotocol();
  test_client_accept();
  test_client_bad_accept("AAAAAAAAAAAAAAAAAAAAAAAAAAA=", NULL);
  test_client_bad_accept(NULL, "not-offered");
  test_loopback();
  test_client_reject();
  test_server_reject();

  test_bad_request("no version", REQ_LINE HOST UPG KEY "\r\n", 426, NULL);
  test_bad_request("version 8", REQ_LINE HOST UPG KEY "Sec-WebSocket-Version: 8\r\n\r\n", 426, NULL);
  test_bad_request("no key", REQ_LINE HOST UPG VER "\r\n", 400, NULL);
  test_bad_request("short key", REQ_LINE HOST UPG "Sec-WebSocket-Key: abcd\r\n" VER "\r\n", 400, NULL);
  test_bad_request("no upgrade", REQ_LINE HOST "Connection: Upgrade\r\n" KEY VER "\r\n", 400, NULL);
  test_bad_request("no host", REQ_LINE UPG KEY VER "\r\n", 400, NULL);
  test_bad_request("POST", "POST / HTTP/1.1\r\n" HOST UPG KEY VER "\r\n", 400, NULL);
  test_bad_request("HTTP/1.0", "GET / HTTP/1.0\r\n" HOST UPG KEY VER "\r\n", 400, NULL);
  test_bad_request("garbage", "hello there\r\n\r\n", 400, NULL);
  test_bad_request("HTTP/2.0", "GET / HTTP/2.0\r\n" HOST UPG KEY VER "\r\n", 400, NULL);
  /* A GET upgrade with a body: 400, and its body (a masked ping) is not read. */
  test_bad_request("Content-Length body", REQ_LINE HOST UPG KEY VER "Content-Length: 7\r\n\r\n" PING, 400, NULL);
  test_bad_request("chunked body", REQ_LINE HOST UPG KEY VER "Transfer-Encoding: chunked\r\n\r\n7\r\n" PING "\r\n0\r\n\r\n",
                   400, NULL);
  test_server_accepts("GET / HTTP/1.2\r\n" HOST UPG KEY VER "\r\n", 0);
  test_server_accepts(REQ_LINE HOST UPG KEY VER "Content-Length: 0\r\n\r\n", 0);
  test_server_accepts(CLIENT_REQUEST, SIZE_MAX);
  test_server_accepts(CLIENT_REQUEST, (size_t)1 << 40);
  test_server_accepts(CLIENT_REQUEST, (size_t)1 << 24);
  test_server_reject_bodyless(204, "HTTP/1.1 204 No Content\r\n\r\n");
  test_server_reject_bodyless(304, "HTTP/1.1 304 Not Modified\r\n\r\n");
  test_client_upgrade_value("websocket, h2c", WS_ERR_HANDSHAKE);
  test_client_upgrade_value("h2c, websocket", WS_ERR_HANDSHAKE);
  test_client_upgrade_value("WebSocket", WS_OK);

  ws_config_t *cfg = ws_config_new();
  CHECK(cfg != NULL);
  CHECK_RC(NULL, ws_config_set_max_handshake_headers(cfg, 3), WS_OK);
  test_bad_request("too many headers", REQ_LINE HOST UPG KEY VER "\r\n", 431, cfg);
  ws_config_free(cfg);
  cfg = ws_config_new();
  CHECK_RC(NULL, ws_config_set_max_handshake_size(cfg, 64), WS_OK);
  test_bad_request("head too large", REQ_LINE HOST UPG KEY VER "\r\n", 431, cfg);
  ws_config_free(cfg);

  if (failures) {
    fprintf(stderr, "test_handshake: %d failure(s)\n", failures);
    return 1;
  }
  printf("test_handshake: ok\n");
  return 0;
}
