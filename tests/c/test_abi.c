/* The header and the library agree: version macros against ws_version() and
 * ws_version_number(), WSPROTO_ABI_VERSION against ws_abi_version(), every
 * public struct's sizeof against ws_abi_sizeof(), every enum type 4 bytes
 * wide (CMake also builds this file with -fshort-enums as
 * test_abi_short_enums), flag bits are enum constants (not macros) whose
 * values the library honours, every result code in the header has a
 * description, and byte-string arguments take char and uint8_t buffers
 * alike. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "check.h"

/* Flags must not be macros: bindings that mirror a preprocessed header
 * (LuaJIT ffi.cdef, cffi) would lose them. */
#if defined(WS_SEND_MORE) || defined(WS_SEND_NO_COMPRESS) || defined(WS_EVENT_FLAG_FRAME_FINISHED) || \
    defined(WS_EVENT_FLAG_MESSAGE_FINISHED) || defined(WS_EVENT_FLAG_HAS_BODY) ||                       \
    defined(WS_EVENT_FLAG_PROTOCOL_ERROR) || defined(WS_OK)
#error "flag and result constants must be enum constants, not macros"
#endif

/* The version macros exist for the preprocessor (#if). */
#if !defined(WSPROTO_VERSION_MAJOR) || !defined(WSPROTO_VERSION_MINOR) || !defined(WSPROTO_VERSION_PATCH) || \
    !defined(WSPROTO_VERSION_STRING) || !defined(WSPROTO_VERSION_NUMBER) || !defined(WSPROTO_ABI_VERSION)
#error "version macros missing"
#endif
#if WSPROTO_VERSION_NUMBER != WSPROTO_VERSION_MAJOR * 10000 + WSPROTO_VERSION_MINOR * 100 + WSPROTO_VERSION_PATCH
#error "WSPROTO_VERSION_NUMBER does not match MAJOR/MINOR/PATCH"
#endif

static void versions(void) {
  char s[64];
  snprintf(s, sizeof s, "%d.%d.%d", WSPROTO_VERSION_MAJOR, WSPROTO_VERSION_MINOR, WSPROTO_VERSION_PATCH);
  CHECK(strcmp(s, WSPROTO_VERSION_STRING) == 0);
  CHECK(strcmp(ws_version(), WSPROTO_VERSION_STRING) == 0);
  CHECK(ws_version_number() == WSPROTO_VERSION_NUMBER);
  CHECK(ws_abi_version() == WSPROTO_ABI_VERSION);
}

static void sizes(void) {
  CHECK(ws_abi_sizeof(WS_ABI_EVENT) == sizeof(ws_event_t));
  CHECK(ws_abi_sizeof(WS_ABI_STR) == sizeof(ws_str_t));
  CHECK(ws_abi_sizeof(WS_ABI_HEADER) == sizeof(ws_header_t));
  CHECK(ws_abi_sizeof(WS_ABI_DEFLATE_PARAMS) == sizeof(ws_deflate_params_t));
  CHECK(ws_abi_sizeof(WS_ABI_ALLOCATOR) == sizeof(ws_allocator_t));
  CHECK(ws_abi_sizeof(WS_ABI_EVENT_COMPACT) == sizeof(ws_event_compact_t));
  CHECK(ws_abi_sizeof((ws_abi_struct_t)0) == 0);
  CHECK(ws_abi_sizeof((ws_abi_struct_t)1000) == 0);

  /* Every enum type is exactly 32 bits, in this translation unit too
   * (which may be compiled with -fshort-enums). */
  CHECK(sizeof(ws_result_t) == 4);
  CHECK(sizeof(ws_state_t) == 4);
  CHECK(sizeof(ws_event_type_t) == 4);
  CHECK(sizeof(ws_role_t) == 4);
  CHECK(sizeof(ws_message_mode_t) == 4);
  CHECK(sizeof(ws_send_flag_t) == 4);
  CHECK(sizeof(ws_event_flag_t) == 4);
  CHECK(sizeof(ws_abi_struct_t) == 4);
  ws_event_t ev;
  CHECK(sizeof ev.type == 4);
}

static void result_codes(void) {
  const ws_result_t codes[] = {
      WS_OK, WS_ERR_NULL_ARGUMENT, WS_ERR_INVALID_ARGUMENT, WS_ERR_WRONG_STATE, WS_ERR_HANDSHAKE,
      WS_ERR_CLOSED, WS_ERR_BUFFER_TOO_SMALL, WS_ERR_RNG, WS_ERR_PANIC, WS_ERR_POISONED,
      WS_ERR_NO_MEMORY, WS_ERR_INPUT_FULL,
  };
  for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
    if (strcmp(ws_result_str(codes[i]), "unknown result") == 0) {
      fprintf(stderr, "result code %u has no description\n", (unsigned)codes[i]);
      failures++;
    }
  }
  CHECK(WS_OK == 0);
  CHECK(WS_ERR_NULL_ARGUMENT == 7001);
  CHECK(strcmp(ws_result_str((ws_result_t)6999), "unknown result") == 0);
}

/* A masked client frame (key 0) carrying `payload`. */
static size_t client_frame(uint8_t *out, uint8_t opcode, int fin, const char *payload, size_t len) {
  out[0] = (uint8_t)((fin ? 0x80 : 0) | opcode);
  out[1] = (uint8_t)(0x80 | len);
  memset(out + 2, 0, 4);
  memcpy(out + 6, payload, len);
  return 6 + len;
}

static void flags_and_byte_arguments(void) {
  ws_conn_t *s = NULL;
  CHECK_RC(NULL, ws_conn_new_frames_only(NULL, WS_ROLE_SERVER, NULL, 0, &s), WS_OK);
  if (!s) return;
  CHECK(ws_conn_state(s) == WS_STATE_OPEN);

  /* Event flags: a whole message carries both FINISHED bits. */
  uint8_t frame[64];
  size_t n = client_frame(frame, 0x1, 1, "hi", 2);
  CHECK_RC(s, ws_conn_receive(s, frame, n), WS_OK);
  ws_event_t ev;
  CHECK_RC(s, ws_conn_poll_event(s, &ev), WS_OK);
  CHECK(ev.type == WS_EVENT_TEXT);
  CHECK(ev.flags == (uint32_t)(WS_EVENT_FLAG_FRAME_FINISHED | WS_EVENT_FLAG_MESSAGE_FINISHED));
  CHECK(ev.len == 2 && memcmp(ev.data, "hi", 2) == 0);

  /* Send flags: MORE then a final fragment; an unknown bit is refused. */
  const uint8_t bin[3] = {1, 2, 3};
  const char text[] = "abc";
  CHECK_RC(s, ws_conn_send_binary(s, bin, 2, WS_SEND_MORE | WS_SEND_NO_COMPRESS), WS_OK);
  CHECK_RC(s, ws_conn_send_binary(s, bin + 2, 1, 0), WS_OK);
  CHECK_RC(s, ws_conn_send_text(s, text, 3, 16), WS_ERR_INVALID_ARGUMENT);
  uint8_t out[64];
  size_t out_len = 0;
  CHECK_RC(s, ws_conn_output_copy(s, out, sizeof out, &out_len), WS_OK);
  const uint8_t want[] = {0x02, 0x02, 1, 2, 0x80, 0x01, 3};
  CHECK(out_len == sizeof want && memcmp(out, want, sizeof want) == 0);

  /* Byte-string arguments are const void *: a char buffer and a uint8_t
   * buffer both pass without casts, for text and binary alike. */
  const uint8_t utf8_bytes[] = {0xc3, 0xa9};
  CHECK_RC(s, ws_conn_send_text(s, text, 3, 0), WS_OK);
  CHECK_RC(s, ws_conn_send_text(s, utf8_bytes, 2, 0), WS_OK);
  CHECK_RC(s, ws_conn_send_binary(s, text, 3, 0), WS_OK);
  CHECK_RC(s, ws_conn_send_close(s, 1000, "bye", 3), WS_OK);
  CHECK(ws_conn_state(s) == WS_STATE_LOCAL_CLOSING);
  ws_conn_free(s);

  char token[28];
  size_t token_len = 0;
  CHECK_RC(NULL, ws_accept_token("dGhlIHNhbXBsZSBub25jZQ==", 24, token, sizeof token, &token_len), WS_OK);
  CHECK(token_len == 28 && memcmp(token, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", 28) == 0);
}

int main(void) {
  versions();
  sizes();
  result_codes();
  flags_and_byte_arguments();
  if (failures) {
    fprintf(stderr, "test_abi: %d check(s) failed\n", failures);
    return 1;
  }
  printf("test_abi: ok (wsproto %s, ABI %u, sizeof(ws_event_t) %zu)\n", ws_version(), ws_abi_version(),
         sizeof(ws_event_t));
  return 0;
}
