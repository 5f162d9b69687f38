/* Frame-level tests for the C API: frames-only connections fed frames built
 * by this file (with its own masking code), checked against RFC 6455 5-7. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wsproto.h"
#include "check.h"

enum { OP_CONT = 0, OP_TEXT = 1, OP_BINARY = 2, OP_CLOSE = 8, OP_PING = 9, OP_PONG = 10 };

static const uint8_t MASK_KEY[4] = {0x37, 0xfa, 0x21, 0x3d};

/* Writes one frame into out (which must be large enough); returns its size.
 * first_byte_extra lets a test set RSV bits; mask selects client framing. */
static size_t frame(uint8_t *out, bool fin, int opcode, const void *payload, size_t len, bool mask,
                    uint8_t first_byte_extra) {
  size_t i = 0;
  out[i++] = (uint8_t)((fin ? 0x80 : 0) | first_byte_extra | (opcode & 0x0f));
  uint8_t m = mask ? 0x80 : 0;
  if (len < 126) {
    out[i++] = (uint8_t)(m | len);
  } else if (len <= 0xffff) {
    out[i++] = (uint8_t)(m | 126);
    out[i++] = (uint8_t)(len >> 8);
    out[i++] = (uint8_t)len;
  } else {
    out[i++] = (uint8_t)(m | 127);
    for (int s = 56; s >= 0; s -= 8) out[i++] = (uint8_t)((uint64_t)len >> s);
  }
  if (mask) {
    memcpy(out + i, MASK_KEY, 4);
    i += 4;
  }
  const uint8_t *p = payload;
  for (size_t j = 0; j < len; j++) out[i + j] = mask ? (uint8_t)(p[j] ^ MASK_KEY[j & 3]) : p[j];
  return i + len;
}

/* A client frame (masked, no RSV bits). */
static size_t cframe(uint8_t *out, bool fin, int opcode, const void *payload, size_t len) {
  return frame(out, fin, opcode, payload, len, true, 0);
}

typedef struct {
  bool fin;
  int rsv, opcode;
  bool masked;
  uint8_t key[4];
  const uint8_t *payload; /* masked bytes still masked */
  size_t len, size;
} parsed_t;

/* Parses one frame at buf; returns false if incomplete. */
static bool parse(const uint8_t *buf, size_t n, parsed_t *f) {
  if (n < 2) return false;
  f->fin = (buf[0] & 0x80) != 0;
  f->rsv = (buf[0] >> 4) & 7;
  f->opcode = buf[0] & 0x0f;
  f->masked = (buf[1] & 0x80) != 0;
  uint64_t len = buf[1] & 0x7f;
  size_t i = 2;
  if (len == 126) {
    if (n < 4) return false;
    len = ((uint64_t)buf[2] << 8) | buf[3];
    i = 4;
  } else if (len == 127) {
    if (n < 10) return false;
    len = 0;
    for (int k = 0; k < 8; k++) len = (len << 8) | buf[2 + k];
    i = 10;
  }
  if (f->masked) {
    if (n < i + 4) return false;
    memcpy(f->key, buf + i, 4);
    i += 4;
  }
  if (n - i < len) return false;
  f->payload = buf + i;
  f->len = (size_t)len;
  f->size = i + (size_t)len;
  return true;
}

static size_t take_output(ws_conn_t *c, uint8_t *buf, size_t cap) {
  size_t n = 0;
  CHECK_RC(c, ws_conn_output_copy(c, buf, cap, &n), WS_OK);
  CHECK(ws_conn_output_len(c) == 0);
  return n;
}

static uint64_t max_message; /* 0 = default; set by the message-size tests */

static ws_conn_t *server(ws_message_mode_t mode, uint64_t max_frame) {
  ws_config_t *cfg = ws_config_new();
  CHECK(cfg != NULL);
  CHECK_RC(NULL, ws_config_set_message_mode(cfg, mode), WS_OK);
  if (max_frame) CHECK_RC(NULL, ws_config_set_max_frame_size(cfg, max_frame), WS_OK);
  if (max_message) CHECK_RC(NULL, ws_config_set_max_message_size(cfg, max_message), WS_OK);
  ws_conn_t *c = NULL;
  CHECK_RC(NULL, ws_conn_new_frames_only(cfg, WS_ROLE_SERVER, NULL, 0, &c), WS_OK);
  ws_config_free(cfg);
  if (c) CHECK(ws_conn_state(c) == WS_STATE_OPEN);
  return c;
}

static void feed(ws_conn_t *c, const uint8_t *data, size_t len, size_t chunk) {
  for (size_t off = 0; off < len; off += chunk) {
    size_t n = len - off < chunk ? len - off : chunk;
    CHECK_RC(c, ws_conn_receive(c, data + off, n), WS_OK);
  }
}

static void expect_none(ws_conn_t *c) {
  ws_event_t ev;
  CHECK_RC(c, ws_conn_poll_event(c, &ev), WS_OK);
  if (ev.type != WS_EVENT_NONE) {
    fprintf(stderr, "unexpected event type %d\n", (int)ev.type);
    failures++;
  }
}

/* Polls one event and checks type, payload and flags (flags -1 = don't check). */
static void expect(ws_conn_t *c, ws_event_type_t type, const void *data, size_t len, long flags) {
  ws_event_t ev;
  CHECK_RC(c, ws_conn_poll_event(c, &ev), WS_OK);
  if (ev.type != type) {
    fprintf(stderr, "event type %d, want %d\n", (int)ev.type, (int)type);
    failures++;
    return;
  }
  CHECK(ev.len == len);
  CHECK(ev.len != len || len == 0 || memcmp(ev.data, data, len) == 0);
  if (flags >= 0) CHECK(ev.flags == (uint32_t)flags);
}

#define WHOLE (WS_EVENT_FLAG_FRAME_FINISHED | WS_EVENT_FLAG_MESSAGE_FINISHED)

/* Text, binary (7-, 16- and 64-bit lengths), ping with auto-pong, fed at
 * once, byte by byte and in odd chunks. */
static void test_data_frames(size_t chunk) {
  ws_conn_t *s = server(WS_MESSAGE_MODE_WHOLE, 0);
  if (!s) return;
  size_t big = 70000;
  uint8_t *payload = malloc(big);
  uint8_t *buf = malloc(big + 1024);
  for (size_t i = 0; i < big; i++) payload[i] = (uint8_t)(i * 7 + 3);

  size_t n = cframe(buf, true, OP_TEXT, "Hello", 5);
  n += cframe(buf + n, true, OP_BINARY, payload, 300);
  n += cframe(buf + n, true, OP_TEXT, "", 0);
  n += cframe(buf + n, true, OP_PING, "abc", 3);
  feed(s, buf, n, chunk);
  expect(s, WS_EVENT_TEXT, "Hello", 5, WHOLE);
  expect(s, WS_EVENT_BINARY, payload, 300, WHOLE);
  expect(s, WS_EVENT_TEXT, "", 0, WHOLE);
  expect(s, WS_EVENT_PING, "abc", 3, -1);
  expect_none(s);
  CHECK(ws_conn_buffered_input(s) == 0);

  /* auto-pong: an unmasked pong with the same payload */
  uint8_t out[256];
  size_t on = take_output(s, out, sizeof out);
  parsed_t f;
  CHECK(parse(out, on, &f) && f.size == on);
  CHECK(f.fin && f.opcode == OP_PONG && !f.masked && f.rsv == 0 && f.len == 3 && memcmp(f.payload, "abc", 3) == 0);

  n = cframe(buf, true, OP_BINARY, payload, big);
  feed(s, buf, n, chunk == 1 ? 4093 : chunk);
  expect(s, WS_EVENT_BINARY, payload, big, WHOLE);
  n = cframe(buf, true, OP_PONG, "unsolicited", 11);
  feed(s, buf, n, chunk);
  expect(s, WS_EVENT_PONG, "unsolicited", 11, -1);
  expect_none(s);
  CHECK(ws_conn_output_len(s) == 0);
  free(payload);
  free(buf);
  ws_conn_free(s);
}

/* Frames the server sends: exact bytes, unmasked, fragmentation flags. */
static void test_server_sends(void) {
  ws_conn_t *s = server(WS_MESSAGE_MODE_WHOLE, 0);
  if (!s) return;
  uint8_t out[512];
  CHECK_RC(s, ws_conn_send_text(s, (const uint8_t *)"hi", 2, 0), WS_OK);
  size_t n = take_output(s, out, sizeof out);
  CHECK(n == 4 && memcmp(out, "\x81\x02hi", 4) == 0);

  CHECK_RC(s, ws_conn_send_text(s, (const uint8_t *)"Hel", 3, WS_SEND_MORE), WS_OK);
  CHECK_RC(s, ws_conn_send_ping(s, (const uint8_t *)"p", 1), WS_OK);
  CHECK_RC(s, ws_conn_send_text(s, (const uint8_t *)"lo", 2, 0), WS_OK);
  n = take_output(s, out, sizeof out);
  CHECK(n == 5 + 3 + 4 && memcmp(out, "\x01\x03Hel\x89\x01p\x80\x02lo", n) == 0);

  uint8_t data[200];
  memset(data, 'z', sizeof data);
  CHECK_RC(s, ws_conn_send_binary(s, data, sizeof data, 0), WS_OK);
  n = take_output(s, out, sizeof out);
  parsed_t f;
  CHECK(parse(out, n, &f) && f.size == n && f.fin && f.opcode == OP_BINARY && f.len == 200 && !f.masked);
  CHECK(n == 4 + 200 && out[1] == 126);

  CHECK_RC(s, ws_conn_send_close(s, 1001, "going away", 10), WS_OK);
  CHECK(ws_conn_state(s) == WS_STATE_LOCAL_CLOSING);
  n = take_output(s, out, sizeof out);
  CHECK(parse(out, n, &f) && f.opcode == OP_CLOSE && f.len == 12 && f.payload[0] == 0x03 && f.payload[1] == 0xe9 &&
        memcmp(f.payload + 2, "going away", 10) == 0);
  CHECK(!ws_conn_wants_close_transport(s));
  /* the peer answers: closing handshake complete */
  uint8_t in[32];
  size_t in_n = cframe(in, true, OP_CLOSE, "\x03\xe9", 2);
  CHECK_RC(s, ws_conn_receive(s, in, in_n), WS_OK);
  ws_event_t ev;
  CHECK_RC(s, ws_conn_poll_event(s, &ev), WS_OK);
  CHECK(ev.type == WS_EVENT_CLOSE && ev.code == 1001 && (ev.flags & WS_EVENT_FLAG_PROTOCOL_ERROR) == 0);
  CHECK(ws_conn_state(s) == WS_STATE_CLOSED);
  CHECK(ws_conn_output_len(s) == 0); /* no second close frame */
  CHECK(ws_conn_wants_close_transport(s));
  ws_conn_free(s);
}

/* A client masks every frame with a fresh key; unmasking gives the payload back. */
static void test_client_masks(void) {
  ws_conn_t *c = NULL;
  CHECK_RC(c, ws_conn_new_frames_only(NULL, WS_ROLE_CLIENT, NULL, 0, &c), WS_OK);
  if (!c) return;
  uint8_t out[256];
  const char *msg = "masked message";
  CHECK_RC(c, ws_conn_send_text(c, (const uint8_t *)msg, strlen(msg), 0), WS_OK);
  CHECK_RC(c, ws_conn_send_text(c, (const uint8_t *)msg, strlen(msg), 0), WS_OK);
  size_t n = take_output(c, out, sizeof out);
  parsed_t f1, f2;
  CHECK(parse(out, n, &f1) && parse(out + f1.size, n - f1.size, &f2) && f1.size + f2.size == n);
  CHECK(f1.masked && f2.masked && f1.opcode == OP_TEXT && f1.len == strlen(msg));
  char plain[64];
  for (size_t i = 0; i < f1.len && i < sizeof plain; i++) plain[i] = (char)(f1.payload[i] ^ f1.key[i & 3]);
  CHECK(f1.len < sizeof plain && memcmp(plain, msg, f1.len) == 0);
  CHECK(memcmp(f1.key, f2.key, 4) != 0); /* 2^-32 chance of a false failure */
  /* a server's frames are unmasked; a masked one is a violation for a client */
  uint8_t in[32];
  size_t in_n = frame(in, true, OP_TEXT, "ok", 2, false, 0);
  CHECK_RC(c, ws_conn_receive(c, in, in_n), WS_OK);
  expect(c, WS_EVENT_TEXT, "ok", 2, WHOLE);
  in_n = frame(in, true, OP_TEXT, "no", 2, true, 0);
  CHECK_RC(c, ws_conn_receive(c, in, in_n), WS_OK);
  ws_event_t ev;
  CHECK_RC(c, ws_conn_poll_event(c, &ev), WS_OK);
  CHECK(ev.type == WS_EVENT_CLOSE && ev.code == 1002 && (ev.flags & WS_EVENT_FLAG_PROTOCOL_ERROR));
  ws_conn_free(c);
}

/* Bytes already read past an external handshake are parsed first. */
static void test_trailing(void) {
  uint8_t in[64];
  size_t n = cframe(in, true, OP_TEXT, "early", 5);
  n += cframe(in + n, false, OP_BINARY, "ab", 2); /* incomplete message stays buffered */
  ws_conn_t *s = NULL;
  CHECK_RC(s, ws_conn_new_frames_only(NULL, WS_ROLE_SERVER, in, n, &s), WS_OK);
  if (!s) return;
  expect(s, WS_EVENT_TEXT, "early", 5, WHOLE);
  expect_none(s);
  n = cframe(in, true, OP_CONT, "cd", 2);
  CHECK_RC(s, ws_conn_receive(s, in, n), WS_OK);
  expect(s, WS_EVENT_BINARY, "abcd", 4, WHOLE);
  ws_conn_free(s);
}

/* Fragmented messages in whole mode: a ping between fragments, UTF-8 split
 * across fragments, empty fragments. */
static void test_fragments(void) {
  ws_conn_t *s = server(WS_MESSAGE_MODE_WHOLE, 0);
  if (!s) return;
  uint8_t buf[256];
  size_t n = cframe(buf, false, OP_TEXT, "Hel", 3);
  n += cframe(buf + n, true, OP_PING, "!", 1);
  n += cframe(buf + n, false, OP_CONT, "", 0);
  n += cframe(buf + n, true, OP_CONT, "lo", 2);
  feed(s, buf, n, n);
  expect(s, WS_EVENT_PING, "!", 1, -1);
  expect(s, WS_EVENT_TEXT, "Hello", 5, WHOLE);
  expect_none(s);
  /* U+00E9 (C3 A9) and U+1F600 (F0 9F 98 80) split across fragments */
  n = cframe(buf, false, OP_TEXT, "caf\xc3", 4);
  n += cframe(buf + n, false, OP_CONT, "\xa9 \xf0\x9f", 4);
  n += cframe(buf + n, true, OP_CONT, "\x98\x80", 2);
  feed(s, buf, n, 1);
  expect(s, WS_EVENT_TEXT, "caf\xc3\xa9 \xf0\x9f\x98\x80", 10, WHOLE);
  expect_none(s);
  ws_conn_free(s);
}

static bool utf8_complete(const uint8_t *p, size_t n) {
  size_t i = 0;
  while (i < n) {
    uint8_t b = p[i];
    size_t k = b < 0x80 ? 1 : (b >> 5) == 6 ? 2 : (b >> 4) == 14 ? 3 : (b >> 3) == 30 ? 4 : 0;
    if (k == 0 || i + k > n) return false;
    for (size_t j = 1; j < k; j++)
      if ((p[i + j] & 0xc0) != 0x80) return false;
    i += k;
  }
  return true;
}

/* Stream mode: chunks with FRAME_FINISHED / MESSAGE_FINISHED; text chunks end
 * on code-point boundaries even when fed byte by byte. */
static void test_stream_mode(size_t chunk) {
  ws_conn_t *s = server(WS_MESSAGE_MODE_STREAM, 0);
  if (!s) return;
  uint8_t buf[256];
  const char *p1 = "h\xc3\xa9llo \xe2\x82\xac";  /* 10 bytes */
  const char *p2 = " w\xf0\x9f\x98\x80rld"; /* 9 bytes */
  size_t n = cframe(buf, false, OP_TEXT, p1, 10);
  n += cframe(buf + n, true, OP_CONT, p2, 9);
  char got[64];
  size_t got_len = 0;
  int frames_done = 0, messages_done = 0;
  for (size_t off = 0; off < n; off += chunk) {
    size_t k = n - off < chunk ? n - off : chunk;
    CHECK_RC(s, ws_conn_receive(s, buf + off, k), WS_OK);
    ws_event_t ev;
    for (;;) {
      CHECK_RC(s, ws_conn_poll_event(s, &ev), WS_OK);
      if (ev.type == WS_EVENT_NONE) break;
      CHECK(ev.type == WS_EVENT_TEXT);
      CHECK(messages_done == 0);
      CHECK(utf8_complete(ev.data, ev.len));
      if (got_len + ev.len <= sizeof got && ev.len) memcpy(got + got_len, ev.data, ev.len);
      got_len += ev.len;
      if (ev.flags & WS_EVENT_FLAG_FRAME_FINISHED) {
        frames_done++;
        if (frames_done == 1) CHECK(got_len == 10 && !(ev.flags & WS_EVENT_FLAG_MESSAGE_FINISHED));
      }
      if (ev.flags & WS_EVENT_FLAG_MESSAGE_FINISHED) {
        messages_done++;
        CHECK(ev.flags & WS_EVENT_FLAG_FRAME_FINISHED);
      }
      CHECK((ev.flags & ~(uint32_t)WHOLE) == 0);
    }
  }
  CHECK(frames_done == 2 && messages_done == 1);
  CHECK(got_len == 19 && memcmp(got, "h\xc3\xa9llo \xe2\x82\xac w\xf0\x9f\x98\x80rld", 19) == 0);
  /* binary in stream mode delivers the same bytes */
  uint8_t bin[100];
  for (int i = 0; i < 100; i++) bin[i] = (uint8_t)(255 - i);
  n = cframe(buf, true, OP_BINARY, bin, 100);
  size_t total = 0;
  bool finished = false;
  feed(s, buf, n, chunk);
  ws_event_t ev;
  for (;;) {
    CHECK_RC(s, ws_conn_poll_event(s, &ev), WS_OK);
    if (ev.type == WS_EVENT_NONE) break;
    CHECK(ev.type == WS_EVENT_BINARY && !finished);
    CHECK(total + ev.len <= 100 && (ev.len == 0 || memcmp(ev.data, bin + total, ev.len) == 0));
    total += ev.len;
    if (ev.flags & WS_EVENT_FLAG_MESSAGE_FINISHED) finished = true;
  }
  CHECK(finished && total == 100);
  ws_conn_free(s);
}

/* A peer's protocol violation: a CLOSE event with the code and the
 * PROTOCOL_ERROR flag, a close frame with that code in the output, and the
 * transport may be closed once the output is written. */
static void violation(const char *name, const uint8_t *in, size_t n, uint16_t want_code, uint64_t max_frame) {
  ws_conn_t *s = server(WS_MESSAGE_MODE_WHOLE, max_frame);
  if (!s) return;
  CHECK_RC(s, ws_conn_receive(s, in, n), WS_OK);
  ws_event_t ev;
  CHECK_RC(s, ws_conn_poll_event(s, &ev), WS_OK);
  while (ev.type == WS_EVENT_TEXT || ev.type == WS_EVENT_BINARY || ev.type == WS_EVENT_PING)
    CHECK_RC(s, ws_conn_poll_event(s, &ev), WS_OK);
  if (ev.type != WS_EVENT_CLOSE || ev.code != want_code || !(ev.flags & WS_EVENT_FLAG_PROTOCOL_ERROR)) {
    fprintf(stderr, "%s: event %d code %u flags %u, want CLOSE %u with PROTOCOL_ERROR\n", name, (int)ev.type,
            ev.code, ev.flags, want_code);
    failures++;
  }
  if (ev.type == WS_EVENT_CLOSE) CHECK(utf8_complete(ev.data, ev.len));
  uint8_t out[256];
  size_t on = take_output(s, out, sizeof out);
  parsed_t f = {0};
  /* skip an auto-pong that may precede the close frame */
  size_t off = 0;
  while (parse(out + off, on - off, &f) && f.opcode == OP_PONG) off += f.size;
  bool ok = parse(out + off, on - off, &f) && f.opcode == OP_CLOSE && f.len >= 2 &&
            ((f.payload[0] << 8) | f.payload[1]) == want_code && !f.masked;
  if (!ok) {
    fprintf(stderr, "%s: no close frame with code %u in the output (%zu bytes)\n", name, want_code, on);
    failures++;
  }
  CHECK(ws_conn_state(s) == WS_STATE_CLOSED);
  CHECK(ws_conn_wants_close_transport(s));
  CHECK_RC(s, ws_conn_send_text(s, (const uint8_t *)"x", 1, 0), WS_ERR_WRONG_STATE);
  expect_none(s);
  ws_conn_free(s);
}

static void test_violations(void) {
  uint8_t b[512];
  size_t n;
  uint8_t big[130];
  memset(big, 'a', sizeof big);

  n = frame(b, true, OP_TEXT, "hi", 2, false, 0);
  violation("unmasked client frame", b, n, 1002, 0);
  n = frame(b, true, OP_TEXT, "hi", 2, true, 0x40);
  violation("RSV1 without extension", b, n, 1002, 0);
  n = frame(b, true, OP_TEXT, "hi", 2, true, 0x10);
  violation("RSV3", b, n, 1002, 0);
  n = cframe(b, true, 3, "hi", 2);
  violation("reserved opcode 3", b, n, 1002, 0);
  n = cframe(b, true, 0xB, "hi", 2);
  violation("reserved control opcode 0xB", b, n, 1002, 0);
  n = cframe(b, true, OP_PING, big, 126);
  violation("ping payload 126", b, n, 1002, 0);
  n = cframe(b, false, OP_PING, "x", 1);
  violation("fragmented ping", b, n, 1002, 0);
  n = cframe(b, true, OP_CONT, "x", 1);
  violation("continuation without start", b, n, 1002, 0);
  n = cframe(b, false, OP_TEXT, "a", 1);
  n += cframe(b + n, true, OP_TEXT, "b", 1);
  violation("new message inside fragmented one", b, n, 1002, 0);
  n = cframe(b, true, OP_CLOSE, "\x03", 1);
  violation("close payload of 1 byte", b, n, 1002, 0);
  n = cframe(b, true, OP_CLOSE, "\x03\xed", 2); /* 1005 may not be sent */
  violation("close code 1005 on the wire", b, n, 1002, 0);
  n = cframe(b, true, OP_CLOSE, "\x03\xe7", 2); /* 999 */
  violation("close code 999", b, n, 1002, 0);
  n = cframe(b, true, OP_TEXT, "ok\xff", 3);
  violation("invalid UTF-8 text", b, n, 1007, 0);
  n = cframe(b, false, OP_TEXT, "\xed\xa0", 2); /* surrogate U+D800 prefix: fails fast */
  violation("surrogate in a fragment", b, n, 1007, 0);
  n = cframe(b, true, OP_CLOSE, "\x03\xe8\xc3\x28", 4);
  violation("close reason not UTF-8", b, n, 1007, 0);
  n = cframe(b, true, OP_BINARY, big, 17);
  violation("frame over max_frame_size", b, n, 1009, 16);
  n = cframe(b, true, OP_BINARY, big, 16);
  n += cframe(b + n, true, OP_PING, big, 17); /* control frames obey max_frame_size too */
  violation("ping over max_frame_size", b, n, 1009, 16);

  max_message = 20;
  n = cframe(b, false, OP_TEXT, big, 12);
  n += cframe(b + n, true, OP_CONT, big, 9);
  violation("fragments over max_message_size", b, n, 1009, 0);
  n = cframe(b, true, OP_BINARY, big, 21);
  violation("one frame over max_message_size", b, n, 1009, 0);
  /* exactly at the limit is fine */
  ws_conn_t *s = server(WS_MESSAGE_MODE_WHOLE, 0);
  if (s) {
    n = cframe(b, false, OP_TEXT, big, 12);
    n += cframe(b + n, true, OP_CONT, big, 8);
    CHECK_RC(s, ws_conn_receive(s, b, n), WS_OK);
    expect(s, WS_EVENT_TEXT, big, 20, WHOLE);
    ws_conn_free(s);
  }
  max_message = 0;
}

/* Closing handshake from the peer, with and without a status code. */
static void test_peer_close(const char *payload, size_t len, uint16_t want_code, const char *want_reason) {
  ws_conn_t *s = server(WS_MESSAGE_MODE_WHOLE, 0);
  if (!s) return;
  uint8_t b[160];
  size_t n = cframe(b, true, OP_CLOSE, payload, len);
  feed(s, b, n, 1);
  ws_event_t ev;
  CHECK_RC(s, ws_conn_poll_event(s, &ev), WS_OK);
  CHECK(ev.type == WS_EVENT_CLOSE && ev.code == want_code && ev.flags == 0);
  CHECK(ev.len == strlen(want_reason) && (ev.len == 0 || memcmp(ev.data, want_reason, ev.len) == 0));
  /* auto close-reply: one unmasked close frame echoing the code */
  uint8_t out[160];
  size_t on = take_output(s, out, sizeof out);
  parsed_t f;
  CHECK(parse(out, on, &f) && f.size == on && f.opcode == OP_CLOSE && !f.masked);
  if (want_code != 1005) CHECK(f.len >= 2 && ((f.payload[0] << 8) | f.payload[1]) == want_code);
  CHECK(ws_conn_state(s) == WS_STATE_CLOSED);
  CHECK(ws_conn_wants_close_transport(s));
  CHECK_RC(s, ws_conn_receive(s, b, n), WS_ERR_CLOSED);
  ws_conn_free(s);
}

int main(void) {
  test_data_frames(1 << 20);
  test_data_frames(1);
  test_data_frames(5);
  test_server_sends();
  test_client_masks();
  test_trailing();
  test_fragments();
  test_stream_mode(1 << 20);
  test_stream_mode(1);
  test_stream_mode(3);
  test_violations();
  test_peer_close("\x03\xe8" "bye", 5, 1000, "bye");
  test_peer_close("", 0, 1005, "");
  test_peer_close("\x0f\xa0", 2, 4000, "");

  if (failures) {
    fprintf(stderr, "test_frames: %d failure(s)\n", failures);
    return 1;
  }
  printf("test_frames: ok\n");
  return 0;
}
