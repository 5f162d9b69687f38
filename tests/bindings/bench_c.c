/* 32-byte echoes in memory through the C ABI directly: the baseline for the
 * per-binding figures (scripts/bindings.sh bench). One iteration: client
 * send_binary -> output_copy -> server receive -> poll_event -> send_binary
 * (echo) -> output_copy -> client receive -> poll_event. */
#define _POSIX_C_SOURCE 199309L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "wsproto.h"

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(void) {
  ws_conn_t *cl, *sv;
  if (ws_conn_new_frames_only(NULL, WS_ROLE_CLIENT, NULL, 0, &cl) != WS_OK ||
      ws_conn_new_frames_only(NULL, WS_ROLE_SERVER, NULL, 0, &sv) != WS_OK)
    return 1;
  uint8_t msg[32], buf[4096];
  memset(msg, 'x', sizeof msg);
  const long iters = 1000000;
  ws_event_t ev;
  size_t n;
  double t0 = now();
  for (long i = 0; i < iters; i++) {
    ws_conn_send_binary(cl, msg, sizeof msg, 0);
    ws_conn_output_copy(cl, buf, sizeof buf, &n);
    ws_conn_receive(sv, buf, n);
    ws_conn_poll_event(sv, &ev);
    ws_conn_send_binary(sv, ev.data, ev.len, 0);
    ws_conn_output_copy(sv, buf, sizeof buf, &n);
    ws_conn_receive(cl, buf, n);
    if (ws_conn_poll_event(cl, &ev) != WS_OK || ev.len != 32) return 1;
  }
  double dt = now() - t0;
  printf("c:    %.0f echoes/s (32 B, in memory, %ld iterations)\n", (double)iters / dt, iters);
  ws_conn_free(cl);
  ws_conn_free(sv);
  return 0;
}
