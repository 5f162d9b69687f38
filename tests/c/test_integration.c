/* Handshake integration with other HTTP stacks, through the real shared
 * library:
 *  - ws_conn_receive_request(): a request another HTTP/1.1 parser already
 *    read gives the same REQUEST event and the same answers as the same
 *    request fed as bytes;
 *  - ws_h2_connect_*: an RFC 8441 extended CONNECT field list, as an HTTP/2
 *    library delivers it (pseudo-headers first, lowercase names), then a
 *    frames-only connection with the negotiated permessage-deflate. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wsproto.h"
#include "check.h"

#define KEY "dGhlIHNhbXBsZSBub25jZQ=="
#define S(lit) {lit, sizeof(lit) - 1}
#define H(n, v) {S(n), S(v)}
#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static bool str_is(ws_str_t s, const char *lit) {
  size_t n = strlen(lit);
  return s.len == n && (n == 0 || (s.ptr != NULL && memcmp(s.ptr, lit, n) == 0));
}

static bool str_eq(ws_str_t a, ws_str_t b) {
  return a.len == b.len && (a.len == 0 || memcmp(a.ptr, b.ptr, a.len) == 0);
}

static const ws_header_t REQUEST_HEADERS[] = {
    H("Host", "example.com:8080"),
    H("Upgrade", "websocket"),
    H("Connection", "keep-alive, Upgrade"),
    H("Sec-WebSocket-Key", KEY),
    H("Sec-WebSocket-Version", "13"),
    H("Sec-WebSocket-Protocol", "chat, superchat"),
    H("Origin", "http://example.com"),
};

static const char REQUEST_BYTES[] =
    "GET /chat?room=1 HTTP/1.1\r\n"
    "Host: example.com:8080\r\n"
    "Upgrade: websocket\r\n"
    "Connection: keep-alive, Upgrade\r\n"
    "Sec-WebSocket-Key: " KEY "\r\n"
    "Sec-WebSocket-Version: 13\r\n"
    "Sec-WebSocket-Protocol: chat, superchat\r\n"
    "Origin: http://example.com\r\n"
    "\r\n";

/* A masked text frame "hi" (key 01 02 03 04) sent early by the client. */
static const uint8_t EARLY[] = {0x81, 0x82, 0x01, 0x02, 0x03, 0x04, 'h' ^ 1, 'i' ^ 2};

static size_t take_all(ws_conn_t *c, uint8_t *buf, size_t cap) {
  size_t n = 0;
  CHECK_RC(c, ws_conn_output_copy(c, buf, cap, &n), WS_OK);
  return n;
}

/* The same request through ws_conn_receive() and ws_conn_receive_request():
 * same REQUEST event, same 101 bytes, same early frame after accept. */
static void test_receive_request_matches_the_wire(void) {
  ws_conn_t *a = NULL, *b = NULL;
  CHECK_RC(a, ws_conn_new_server(NULL, &a), WS_OK);
  CHECK_RC(b, ws_conn_new_server(NULL, &b), WS_OK);
  if (!a || !b) goto out;
  CHECK_RC(a, ws_conn_receive(a, (const uint8_t *)REQUEST_BYTES, strlen(REQUEST_BYTES)), WS_OK);
  CHECK_RC(a, ws_conn_receive(a, EARLY, sizeof EARLY), WS_OK);
  CHECK_RC(b, ws_conn_receive_request(b, "GET", 3, "/chat?room=1", 12, REQUEST_HEADERS, COUNT(REQUEST_HEADERS),
                                      EARLY, sizeof EARLY),
           WS_OK);
  ws_event_t ea, eb;
  CHECK_RC(a, ws_conn_poll_event(a, &ea), WS_OK);
  CHECK_RC(b, ws_conn_poll_event(b, &eb), WS_OK);
  CHECK(ea.type == WS_EVENT_REQUEST && eb.type == WS_EVENT_REQUEST);
  if (ea.type == WS_EVENT_REQUEST && eb.type == WS_EVENT_REQUEST) {
    CHECK(str_is(eb.target, "/chat?room=1") && str_eq(ea.target, eb.target));
    CHECK(str_is(eb.host, "example.com:8080") && str_eq(ea.host, eb.host));
    CHECK(eb.subprotocols_len == 2 && ea.subprotocols_len == 2);
    for (size_t i = 0; i < 2 && i < eb.subprotocols_len && i < ea.subprotocols_len; i++)
      CHECK(str_eq(ea.subprotocols[i], eb.subprotocols[i]));
    CHECK(eb.headers_len == COUNT(REQUEST_HEADERS) && ea.headers_len == eb.headers_len);
    for (size_t i = 0; i < eb.headers_len && i < ea.headers_len; i++)
      CHECK(str_eq(ea.headers[i].name, eb.headers[i].name) && str_eq(ea.headers[i].value, eb.headers[i].value));
  }
  CHECK_RC(a, ws_conn_accept(a, "chat", 4, NULL, 0), WS_OK);
  CHECK_RC(b, ws_conn_accept(b, "chat", 4, NULL, 0), WS_OK);
  uint8_t oa[1024], ob[1024];
  size_t na = take_all(a, oa, sizeof oa), nb = take_all(b, ob, sizeof ob);
  CHECK(na > 0 && na == nb && memcmp(oa, ob, na) == 0);
  CHECK(ws_conn_state(b) == WS_STATE_OPEN);
  CHECK_RC(b, ws_conn_poll_event(b, &eb), WS_OK);
  CHECK(eb.type == WS_EVENT_TEXT && eb.len == 2 && memcmp(eb.data, "hi", 2) == 0);
  /* Only once, and only on a fresh server. */
  CHECK_RC(b, ws_conn_receive_request(b, "GET", 3, "/", 1, REQUEST_HEADERS, COUNT(REQUEST_HEADERS), NULL, 0),
           WS_ERR_WRONG_STATE);
out:
  ws_conn_free(a);
  ws_conn_free(b);
}

/* Invalid requests: the same error and status hint as on the wire, then
 * ws_conn_reject(); header injection through a value is impossible. */
static void test_receive_request_refusals(void) {
  static const ws_header_t no_version[] = {H("Host", "h"), H("Upgrade", "websocket"), H("Connection", "Upgrade"),
                                           H("Sec-WebSocket-Key", KEY)};
  static const ws_header_t with_body[] = {H("Host", "h"),
                                          H("Upgrade", "websocket"),
                                          H("Connection", "Upgrade"),
                                          H("Sec-WebSocket-Key", KEY),
                                          H("Sec-WebSocket-Version", "13"),
                                          H("Content-Length", "7")};
  static const ws_header_t injected[] = {H("Host", "h\r\nSec-WebSocket-Version: 13"), H("Upgrade", "websocket"),
                                         H("Connection", "Upgrade"), H("Sec-WebSocket-Key", KEY)};
  struct {
    const char *method;
    const ws_header_t *h;
    size_t n;
    uint16_t hint;
  } cases[] = {
      {"GET", no_version, COUNT(no_version), 426},
      {"GET", with_body, COUNT(with_body), 400},
      {"GET", injected, COUNT(injected), 400},
      {"POST", REQUEST_HEADERS, COUNT(REQUEST_HEADERS), 400},
  };
  for (size_t i = 0; i < COUNT(cases); i++) {
    ws_conn_t *s = NULL;
    CHECK_RC(s, ws_conn_new_server(NULL, &s), WS_OK);
    if (!s) continue;
    CHECK_RC(s, ws_conn_receive_request(s, cases[i].method, strlen(cases[i].method), "/", 1, cases[i].h, cases[i].n,
                                        NULL, 0),
             WS_ERR_HANDSHAKE);
    CHECK(ws_conn_last_error(s)[0] != '\0');
    if (ws_conn_handshake_status_hint(s) != cases[i].hint) {
      fprintf(stderr, "case %zu: hint %u, want %u\n", i, ws_conn_handshake_status_hint(s), cases[i].hint);
      failures++;
    }
    ws_event_t ev;
    CHECK_RC(s, ws_conn_poll_event(s, &ev), WS_OK);
    CHECK(ev.type == WS_EVENT_NONE);
    CHECK_RC(s, ws_conn_accept(s, NULL, 0, NULL, 0), WS_ERR_WRONG_STATE);
    CHECK_RC(s, ws_conn_reject(s, ws_conn_handshake_status_hint(s), NULL, 0, false), WS_OK);
    CHECK(ws_conn_state(s) == WS_STATE_CLOSED);
    ws_conn_free(s);
  }
  ws_conn_t *c = NULL;
  CHECK_RC(c, ws_conn_new_client(NULL, &c), WS_OK);
  CHECK_RC(c, ws_conn_receive_request(c, "GET", 3, "/", 1, REQUEST_HEADERS, COUNT(REQUEST_HEADERS), NULL, 0),
           WS_ERR_WRONG_STATE);
  CHECK_RC(c, ws_conn_receive_request(c, NULL, 3, "/", 1, NULL, 0, NULL, 0), WS_ERR_NULL_ARGUMENT);
  ws_conn_free(c);
  CHECK(ws_conn_receive_request(NULL, "GET", 3, "/", 1, NULL, 0, NULL, 0) == WS_ERR_NULL_ARGUMENT);
}

/* An extended CONNECT request as an h2 library delivers it. */
static const ws_header_t CONNECT[] = {
    H(":method", "CONNECT"),
    H(":protocol", "websocket"),
    H(":scheme", "https"),
    H(":path", "/chat"),
    H(":authority", "server.example.com"),
    H("sec-websocket-protocol", "chat, superchat"),
    H("sec-websocket-extensions", "permessage-deflate; client_max_window_bits"),
    H("sec-websocket-version", "13"),
    H("origin", "http://www.example.com"),
};

static void test_h2_connect(void) {
  ws_config_t *cfg = ws_config_new();
  CHECK(cfg != NULL);
  CHECK(ws_config_set_deflate_accept(cfg, 12, false, true) == WS_OK);
  ws_h2_connect_t *h = NULL;
  CHECK(ws_h2_connect_new(cfg, &h) == WS_OK);
  if (!h) {
    ws_config_free(cfg);
    return;
  }
  ws_event_t ev;
  CHECK(ws_h2_connect_request(h, &ev) == WS_ERR_WRONG_STATE);
  CHECK(ws_h2_connect_receive(h, CONNECT, COUNT(CONNECT)) == WS_OK);
  CHECK(ws_h2_connect_receive(h, CONNECT, COUNT(CONNECT)) == WS_ERR_WRONG_STATE);
  CHECK(ws_h2_connect_request(h, &ev) == WS_OK);
  CHECK(ev.type == WS_EVENT_REQUEST);
  CHECK(str_is(ev.target, "/chat") && str_is(ev.host, "server.example.com"));
  CHECK(ev.subprotocols_len == 2 && str_is(ev.subprotocols[1], "superchat"));
  CHECK(str_is(ev.extensions, "permessage-deflate; client_max_window_bits"));
  CHECK(ev.headers_len == COUNT(CONNECT) && str_is(ev.headers[0].name, ":method"));

  const ws_header_t *fields = NULL;
  size_t nfields = 0;
  ws_header_t bad_extra = H("Connection", "close");
  CHECK(ws_h2_connect_accept(h, "mqtt", 4, NULL, 0, &fields, &nfields) == WS_ERR_INVALID_ARGUMENT);
  CHECK(ws_h2_connect_last_error(h)[0] != '\0');
  CHECK(ws_h2_connect_accept(h, NULL, 0, &bad_extra, 1, &fields, &nfields) == WS_ERR_INVALID_ARGUMENT);
  CHECK(fields == NULL && nfields == 0);
  ws_conn_t *conn = NULL;
  CHECK(ws_h2_connect_new_conn(h, cfg, NULL, 0, &conn) == WS_ERR_WRONG_STATE && conn == NULL);

  ws_header_t extra = H("server", "wsproto-test");
  CHECK(ws_h2_connect_accept(h, "chat", 4, &extra, 1, &fields, &nfields) == WS_OK);
  CHECK(nfields == 4);
  if (nfields == 4) {
    CHECK(str_is(fields[0].name, ":status") && str_is(fields[0].value, "200"));
    CHECK(str_is(fields[1].name, "sec-websocket-protocol") && str_is(fields[1].value, "chat"));
    CHECK(str_is(fields[2].name, "sec-websocket-extensions") &&
          str_is(fields[2].value, "permessage-deflate; client_no_context_takeover; server_max_window_bits=12; "
                                              "client_max_window_bits=12"));
    CHECK(str_is(fields[3].name, "server") && str_is(fields[3].value, "wsproto-test"));
  }
  CHECK(ws_h2_connect_accept(h, NULL, 0, NULL, 0, &fields, &nfields) == WS_ERR_WRONG_STATE);
  ws_deflate_params_t p;
  CHECK(ws_h2_connect_deflate_params(h, &p));
  CHECK(p.client_max_window_bits == 12 && p.client_no_context_takeover && !p.server_no_context_takeover &&
        p.server_max_window_bits == 12);

  /* The stream's DATA: a compressed client message arrives with the accept. */
  ws_conn_t *client = NULL;
  CHECK_RC(client, ws_conn_new_frames_only_deflate(NULL, WS_ROLE_CLIENT, &p, NULL, 0, &client), WS_OK);
  char text[600];
  for (size_t i = 0; i < sizeof text; i++) text[i] = "abcabcabd"[i % 9];
  CHECK_RC(client, ws_conn_send_text(client, (const uint8_t *)text, sizeof text, 0), WS_OK);
  uint8_t wire[2048];
  size_t n = client ? take_all(client, wire, sizeof wire) : 0;
  CHECK(n > 2 && n < sizeof text && (wire[0] & 0x40));
  CHECK(ws_h2_connect_new_conn(h, cfg, wire, n, &conn) == WS_OK);
  ws_h2_connect_free(h);
  ws_config_free(cfg);
  if (conn) {
    CHECK(ws_conn_state(conn) == WS_STATE_OPEN);
    CHECK(ws_conn_deflate_params(conn, NULL));
    CHECK_RC(conn, ws_conn_poll_event(conn, &ev), WS_OK);
    CHECK(ev.type == WS_EVENT_TEXT && ev.len == sizeof text && memcmp(ev.data, text, sizeof text) == 0);
    CHECK_RC(conn, ws_conn_send_text(conn, (const uint8_t *)text, sizeof text, 0), WS_OK);
    n = take_all(conn, wire, sizeof wire);
    CHECK(n > 2 && (wire[0] & 0x40));
    CHECK_RC(client, ws_conn_receive(client, wire, n), WS_OK);
    CHECK_RC(client, ws_conn_poll_event(client, &ev), WS_OK);
    CHECK(ev.type == WS_EVENT_TEXT && ev.len == sizeof text);
  }
  ws_conn_free(conn);
  ws_conn_free(client);
}

static void test_h2_connect_refusals(void) {
  static const ws_header_t not_connect[] = {H(":method", "GET"), H(":scheme", "https"), H(":path", "/"),
                                            H(":authority", "a"), H("sec-websocket-version", "13")};
  static const ws_header_t no_protocol[] = {H(":method", "CONNECT"), H(":scheme", "https"), H(":path", "/"),
                                            H(":authority", "a"), H("sec-websocket-version", "13")};
  static const ws_header_t late_pseudo[] = {H(":method", "CONNECT"),        H(":protocol", "websocket"),
                                            H(":scheme", "https"),          H(":authority", "a"),
                                            H("sec-websocket-version", "13"), H(":path", "/")};
  static const ws_header_t upgrade[] = {H(":method", "CONNECT"),   H(":protocol", "websocket"), H(":scheme", "https"),
                                        H(":path", "/"),           H(":authority", "a"),        H("upgrade", "websocket"),
                                        H("sec-websocket-version", "13")};
  static const ws_header_t version[] = {H(":method", "CONNECT"), H(":protocol", "websocket"), H(":scheme", "https"),
                                        H(":path", "/"),         H(":authority", "a"),        H("sec-websocket-version", "8")};
  struct {
    const ws_header_t *f;
    size_t n;
  } cases[] = {{not_connect, COUNT(not_connect)}, {no_protocol, COUNT(no_protocol)}, {late_pseudo, COUNT(late_pseudo)},
               {upgrade, COUNT(upgrade)},         {version, COUNT(version)}};
  for (size_t i = 0; i < COUNT(cases); i++) {
    ws_h2_connect_t *h = NULL;
    CHECK(ws_h2_connect_new(NULL, &h) == WS_OK);
    if (!h) continue;
    CHECK(ws_h2_connect_status_hint(h) == 0);
    if (ws_h2_connect_receive(h, cases[i].f, cases[i].n) != WS_ERR_HANDSHAKE) {
      fprintf(stderr, "h2 case %zu not refused\n", i);
      failures++;
    }
    CHECK(ws_h2_connect_status_hint(h) == 400);
    CHECK(ws_h2_connect_last_error(h)[0] != '\0');
    ws_event_t ev;
    CHECK(ws_h2_connect_request(h, &ev) == WS_ERR_WRONG_STATE);
    const ws_header_t *fields = NULL;
    size_t nfields = 0;
    CHECK(ws_h2_connect_accept(h, NULL, 0, NULL, 0, &fields, &nfields) == WS_ERR_WRONG_STATE);
    ws_h2_connect_free(h);
  }
  /* No deflate config: the offer is declined, no extension field. */
  ws_h2_connect_t *h = NULL;
  CHECK(ws_h2_connect_new(NULL, &h) == WS_OK);
  CHECK(ws_h2_connect_receive(h, CONNECT, COUNT(CONNECT)) == WS_OK);
  const ws_header_t *fields = NULL;
  size_t nfields = 0;
  CHECK(ws_h2_connect_accept(h, NULL, 0, NULL, 0, &fields, &nfields) == WS_OK);
  CHECK(nfields == 1 && str_is(fields[0].value, "200"));
  CHECK(!ws_h2_connect_deflate_params(h, NULL));
  ws_h2_connect_free(h);
  ws_h2_connect_free(NULL);
  CHECK(ws_h2_connect_new(NULL, NULL) == WS_ERR_NULL_ARGUMENT);
  CHECK(ws_h2_connect_receive(NULL, CONNECT, 1) == WS_ERR_NULL_ARGUMENT);
  CHECK(ws_h2_connect_status_hint(NULL) == 0);
  CHECK(ws_h2_connect_last_error(NULL)[0] == '\0');
}

int main(void) {
  test_receive_request_matches_the_wire();
  test_receive_request_refusals();
  test_h2_connect();
  test_h2_connect_refusals();
  if (failures) {
    fprintf(stderr, "test_integration: %d failure(s)\n", failures);
    return 1;
  }
  printf("test_integration: ok\n");
  return 0;
}
