/* A tiny wsproto user: checks that the header it was compiled with matches
 * the library it runs with, then has a client and a server talk in memory
 * (handshake, one text message each way, closing handshake). Exit status 0
 * and "consumer: ok" on success. */
#include <stdio.h>
#include <string.h>

#include <wsproto.h>

static int failed;
#define EXPECT(cond)                                                      \
  do {                                                                    \
    if (!(cond)) {                                                        \
      fprintf(stderr, "consumer: %s:%d: %s\n", __FILE__, __LINE__, #cond); \
      failed = 1;                                                         \
    }                                                                     \
  } while (0)

/* Moves every pending output byte of `from` into `to`. */
static void pump(ws_conn_t *from, ws_conn_t *to) {
  const uint8_t *out;
  size_t len;
  EXPECT(ws_conn_output_peek(from, &out, &len) == WS_OK);
  if (len > 0) {
    EXPECT(ws_conn_receive(to, out, len) == WS_OK);
    EXPECT(ws_conn_output_consume(from, len) == WS_OK);
  }
}

static ws_event_t next(ws_conn_t *c) {
  ws_event_t ev;
  EXPECT(ws_conn_poll_event(c, &ev) == WS_OK);
  return ev;
}

int main(void) {
  ws_conn_t *client = NULL, *server = NULL;
  ws_event_t ev;

  EXPECT(ws_abi_version() == WSPROTO_ABI_VERSION);
  EXPECT(ws_abi_sizeof(WS_ABI_EVENT) == sizeof(ws_event_t));
  EXPECT(strcmp(ws_version(), WSPROTO_VERSION_STRING) == 0);

  EXPECT(ws_conn_new_client(NULL, &client) == WS_OK);
  EXPECT(ws_conn_new_server(NULL, &server) == WS_OK);
  if (!client || !server) return 1;

  EXPECT(ws_conn_send_request(client, "example.com", 11, "/chat", 5, NULL, 0, NULL, 0) == WS_OK);
  pump(client, server);
  ev = next(server);
  EXPECT(ev.type == WS_EVENT_REQUEST);
  EXPECT(ev.target.len == 5 && memcmp(ev.target.ptr, "/chat", 5) == 0);
  EXPECT(ws_conn_accept(server, NULL, 0, NULL, 0) == WS_OK);
  pump(server, client);
  EXPECT(next(client).type == WS_EVENT_ACCEPT);

  EXPECT(ws_conn_send_text(client, "ping?", 5, 0) == WS_OK);
  pump(client, server);
  ev = next(server);
  EXPECT(ev.type == WS_EVENT_TEXT && ev.len == 5 && memcmp(ev.data, "ping?", 5) == 0);
  EXPECT(ev.flags == (uint32_t)(WS_EVENT_FLAG_FRAME_FINISHED | WS_EVENT_FLAG_MESSAGE_FINISHED));
  EXPECT(ws_conn_send_text(server, "pong!", 5, 0) == WS_OK);
  pump(server, client);
  ev = next(client);
  EXPECT(ev.type == WS_EVENT_TEXT && ev.len == 5 && memcmp(ev.data, "pong!", 5) == 0);

  EXPECT(ws_conn_send_close(client, 1000, "bye", 3) == WS_OK);
  pump(client, server);
  ev = next(server);
  EXPECT(ev.type == WS_EVENT_CLOSE && ev.code == 1000);
  pump(server, client);
  ev = next(client);
  EXPECT(ev.type == WS_EVENT_CLOSE && ev.code == 1000);
  EXPECT(ws_conn_wants_close_transport(client) && ws_conn_wants_close_transport(server));

  ws_conn_free(client);
  ws_conn_free(server);
  if (failed) return 1;
  printf("consumer: ok (wsproto %s, ABI %u)\n", ws_version(), ws_abi_version());
  return 0;
}
