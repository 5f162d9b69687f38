// 32-byte echoes in memory through include/wsproto.hpp (compare bench_c.c).
#include <chrono>
#include <cstdio>

#include "wsproto.hpp"

int main() {
  auto cl = wsproto::conn::frames_only(WS_ROLE_CLIENT);
  auto sv = wsproto::conn::frames_only(WS_ROLE_SERVER);
  if (!cl || !sv) return 1;
  uint8_t msg[32], buf[4096];
  for (auto &b : msg) b = 'x';
  const long iters = 1000000;
  auto t0 = std::chrono::steady_clock::now();
  for (long i = 0; i < iters; i++) {
    (void)cl->send_binary(wsproto::bytes_view(msg, sizeof msg));
    size_t n = 0;
    ws_conn_output_copy(cl->get(), buf, sizeof buf, &n);
    (void)sv->receive(wsproto::bytes_view(buf, n));
    auto ev = sv->poll_event();
    (void)sv->send_binary(ev->data());
    auto out = sv->output();
    (void)cl->receive(out);  // the server's output goes straight in (views)
    (void)sv->consume(out.size());
    auto back = cl->poll_event();
    if (!back || back->data().size() != 32) return 1;
  }
  std::chrono::duration<double> dt = std::chrono::steady_clock::now() - t0;
  std::printf("c++:  %.0f echoes/s (32 B, in memory, %ld iterations)\n", iters / dt.count(), iters);
  return 0;
}
