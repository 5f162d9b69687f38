/* The one-pass small-message send paths through the C API, against the
 * general paths and an independent frame builder, byte for byte with
 * masking keys from a fixed RNG callback:
 *   - ws_conn_send_text/_binary, output taken with peek + consume (the
 *     one-pass path whenever the output has room and the key pool a key);
 *   - ws_conn_encode_text/_binary into a buffer of exactly the frame's size
 *     (the general path: the one-pass writer wants 8 spare bytes);
 *   - the same into a roomier buffer (the one-pass path).
 * Random lengths around the 125-byte limit, ASCII, multi-byte and invalid
 * UTF-8, the trusted flag, random partial drains, both roles, and enough
 * messages to cross several key-pool refills. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wsproto.h"
#include "check.h"

/* Keystream byte i of the fixed RNG: a function of the position only, so a
 * model can follow it however the library splits its requests. */
static uint8_t stream_byte(uint64_t i) {
  uint64_t x = (i >> 3) * 0x9e3779b97f4a7c15ull + 0x632be59bd9b4e019ull;
  x ^= x >> 29;
  x *= 0xbf58476d1ce4e5b9ull;
  x ^= x >> 32;
  return (uint8_t)(x >> (8 * (i & 7)));
}

static int fixed_rng(void *userdata, uint8_t *buf, size_t len) {
  uint64_t *pos = userdata;
  for (size_t i = 0; i < len; i++) buf[i] = stream_byte((*pos)++);
  return 0;
}

static uint64_t seed = 88172645463325252ull;
static uint64_t next_rand(void) {
  seed ^= seed << 13;
  seed ^= seed >> 7;
  seed ^= seed << 17;
  return seed;
}

static ws_conn_t *conn_with_rng(ws_role_t role, uint64_t *pos) {
  ws_config_t *cfg = ws_config_new();
  ws_conn_t *c = NULL;
  if (!cfg || ws_config_set_rng(cfg, fixed_rng, pos) != WS_OK ||
      ws_conn_new_frames_only(cfg, role, NULL, 0, &c) != WS_OK) {
    fprintf(stderr, "setup failed\n");
    exit(1);
  }
  ws_config_free(cfg);
  return c;
}

/* Independent frame builder (RFC 6455 §5.2), lengths up to 65535. */
static size_t build_frame(uint8_t *out, uint8_t first, const uint8_t *p, size_t len, const uint8_t *key) {
  size_t h = 0;
  out[h++] = first;
  uint8_t m = key ? 0x80 : 0;
  if (len < 126) {
    out[h++] = m | (uint8_t)len;
  } else {
    out[h++] = m | 126;
    out[h++] = (uint8_t)(len >> 8);
    out[h++] = (uint8_t)len;
  }
  if (key) memcpy(out + h, key, 4), h += 4;
  for (size_t i = 0; i < len; i++) out[h + i] = key ? p[i] ^ key[i % 4] : p[i];
  return h + len;
}

static int valid_utf8_model(const uint8_t *p, size_t n) {
  /* Only the shapes this test makes: ASCII, C3 A9, and the invalid ones. */
  for (size_t i = 0; i < n; i++) {
    if (p[i] < 0x80) continue;
    if (p[i] == 0xc3 && i + 1 < n && p[i + 1] == 0xa9) {
      i++;
      continue;
    }
    return 0;
  }
  return 1;
}

/* Encodes with ws_conn_encode_* into a buffer `extra` bytes larger than the
 * frame; returns the result and the frame in `out`/`*n`. */
static ws_result_t encode_into(ws_conn_t *c, int text, const uint8_t *p, size_t len, uint32_t flags, size_t extra,
                               uint8_t *out, size_t *n) {
  size_t need = 0;
  ws_result_t rc = text ? ws_conn_encode_text(c, p, len, flags, NULL, 0, &need)
                        : ws_conn_encode_binary(c, p, len, flags, NULL, 0, &need);
  if (rc != WS_ERR_BUFFER_TOO_SMALL) return rc;
  uint8_t *buf = malloc(need + extra);
  memset(buf, 0x5a, need + extra);
  rc = text ? ws_conn_encode_text(c, p, len, flags, buf, need + extra, n)
            : ws_conn_encode_binary(c, p, len, flags, buf, need + extra, n);
  if (rc == WS_OK) {
    CHECK(*n == need);
    for (size_t i = need; i < need + extra; i++) CHECK(buf[i] == 0x5a); /* nothing after the frame */
    memcpy(out, buf, *n);
  } else {
    for (size_t i = 0; i < need + extra; i++) CHECK(buf[i] == 0x5a); /* nothing written on error */
  }
  free(buf);
  return rc;
}

static void differential(ws_role_t role) {
  uint64_t pq = 0, pg = 0, pf = 0; /* each connection's position in the stream */
  ws_conn_t *q = conn_with_rng(role, &pq), *g = conn_with_rng(role, &pg), *f = conn_with_rng(role, &pf);
  uint64_t model_pos = 0;
  uint8_t data[256], want[300], got[300];
  size_t sent = 0;
  for (int step = 0; step < 4000; step++) {
    int text = next_rand() % 3 != 0;
    size_t len = next_rand() % 4 == 0 ? 120 + next_rand() % 12 : next_rand() % 126;
    for (size_t i = 0; i < len; i++) data[i] = (uint8_t)(' ' + next_rand() % 95);
    int shape = (int)(next_rand() % 4);
    if (shape == 0 && len >= 2) {
      size_t at = next_rand() % (len - 1);
      data[at] = 0xc3, data[at + 1] = 0xa9;
    } else if (shape == 1 && len >= 1) {
      data[next_rand() % len] = (uint8_t)(0x80 + next_rand() % 0x80);
    }
    uint32_t flags = next_rand() % 8 == 0 ? WS_SEND_TRUSTED_UTF8 : 0;
    int invalid = text && !(flags & WS_SEND_TRUSTED_UTF8) && !valid_utf8_model(data, len);
    size_t want_n = 0;
    if (!invalid) {
      uint8_t key[4];
      if (role == WS_ROLE_CLIENT)
        for (int k = 0; k < 4; k++) key[k] = stream_byte(model_pos++);
      want_n = build_frame(want, text ? 0x81 : 0x82, data, len, role == WS_ROLE_CLIENT ? key : NULL);
    }
    ws_result_t want_rc = invalid ? WS_ERR_INVALID_ARGUMENT : WS_OK;

    /* Queued: the frame is what the output grew by. */
    size_t before = ws_conn_output_len(q);
    ws_result_t rc = text ? ws_conn_send_text(q, data, len, flags) : ws_conn_send_binary(q, data, len, flags);
    CHECK_RC(q, rc, want_rc);
    const uint8_t *p;
    size_t n;
    CHECK_RC(q, ws_conn_output_peek(q, &p, &n), WS_OK);
    if (rc == WS_OK && want_rc == WS_OK) {
      CHECK(n == before + want_n);
      if (n == before + want_n && memcmp(p + before, want, want_n) != 0) {
        fprintf(stderr, "step %d: queued frame differs (len %zu, text %d)\n", step, len, text);
        failures++;
      }
    } else {
      CHECK(n == before);
    }
    switch (next_rand() % 4) {
    case 0: CHECK_RC(q, ws_conn_output_consume(q, ws_conn_output_len(q)), WS_OK); break;
    case 1: CHECK_RC(q, ws_conn_output_consume(q, next_rand() % (ws_conn_output_len(q) + 1)), WS_OK); break;
    default: break;
    }

    /* Exact buffer (general path) and roomy buffer (one-pass path). */
    size_t extras[2] = {0, 8 + next_rand() % 8};
    ws_conn_t *cs[2] = {g, f};
    for (int k = 0; k < 2; k++) {
      size_t got_n = 0;
      rc = encode_into(cs[k], text, data, len, flags, extras[k], got, &got_n);
      CHECK_RC(cs[k], rc, want_rc);
      if (rc == WS_OK && want_rc == WS_OK && (got_n != want_n || memcmp(got, want, want_n) != 0)) {
        fprintf(stderr, "step %d: encode (extra %zu) frame differs (len %zu, text %d)\n", step, extras[k], len, text);
        failures++;
      }
    }
    sent += !invalid;
  }
  CHECK(sent > 2000);
  CHECK(ws_conn_state(q) == WS_STATE_OPEN && ws_conn_state(g) == WS_STATE_OPEN && ws_conn_state(f) == WS_STATE_OPEN);
  if (role == WS_ROLE_CLIENT) CHECK(model_pos > 4 * 2000); /* several 4 KiB pool refills */
  ws_conn_free(q);
  ws_conn_free(g);
  ws_conn_free(f);
}

int main(void) {
  differential(WS_ROLE_CLIENT);
  differential(WS_ROLE_SERVER);
  if (failures) fprintf(stderr, "%d check(s) failed\n", failures);
  else printf("test_send_fast: ok\n");
  return failures != 0;
}
