// Tests of include/wsproto.hpp against the real library: an in-memory client
// and server exchange the handshake, messages, fragments, ping/pong, close,
// deflate; errors come back as wsproto::status. Built with ASan/UBSan by
// scripts/bindings.sh (C++17, and again as C++20 for the std::span view).
#include "wsproto.hpp"

#include <cstdio>
#include <algorithm>
#include <cstdlib>
#include <string>
#include <vector>

static int failures = 0;
#define CHECK(cond)                                                      \
  do {                                                                   \
    if (!(cond)) {                                                       \
      std::fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
      failures++;                                                        \
    }                                                                    \
  } while (0)

// Moves all pending output of `from` into `to`.
static void pump(wsproto::conn &from, wsproto::conn &to) {
  std::vector<uint8_t> buf;
  from.drain([&](const uint8_t *p, size_t n) {
    buf.insert(buf.end(), p, p + n);
    return static_cast<long>(n);
  });
  if (!buf.empty()) CHECK(to.receive(buf).ok());
}

struct pair {
  wsproto::conn client{nullptr}, server{nullptr};
};

static pair open_pair(bool deflate) {
  wsproto::config cfg;
  CHECK(cfg.valid());
  CHECK(cfg.deflate(deflate).ok());
  auto c = wsproto::conn::client(&cfg);
  auto s = wsproto::conn::server(&cfg);
  CHECK(c && s);
  pair p{std::move(*c), std::move(*s)};
  ws_header_t hdrs[] = {wsproto::header("Origin", "http://test")};
  CHECK(p.client.send_request("localhost", "/chat?x=1", {"v1.test", "chat"}, {hdrs, 1}).ok());
  pump(p.client, p.server);
  auto ev = p.server.poll_event();
  CHECK(ev && ev->type() == WS_EVENT_REQUEST);
  if (ev) {
    CHECK(ev->target() == "/chat?x=1");
    CHECK(ev->host() == "localhost");
    CHECK(ev->subprotocols().size() == 2);
    CHECK(wsproto::view(ev->subprotocols()[1]) == "chat");
    CHECK(ev->header_value("origin") == std::string_view("http://test"));
  }
  CHECK(p.server.accept("chat").ok());
  pump(p.server, p.client);
  auto acc = p.client.poll_event();
  CHECK(acc && acc->type() == WS_EVENT_ACCEPT);
  if (acc) CHECK(acc->subprotocol() == "chat");
  CHECK(p.client.state() == WS_STATE_OPEN && p.server.state() == WS_STATE_OPEN);
  CHECK(p.client.deflate_params().has_value() == deflate);
  return p;
}

static void test_messages(bool deflate) {
  pair p = open_pair(deflate);
  CHECK(p.client.send_text("hello").ok());  // no cast needed
  std::vector<uint8_t> bin(70000);
  for (size_t i = 0; i < bin.size(); i++) bin[i] = static_cast<uint8_t>(i * 7);
  CHECK(p.client.send_binary(bin).ok());
  CHECK(p.client.send_text("frag-", WS_SEND_MORE).ok());
  CHECK(p.client.send_text("ment").ok());
  CHECK(p.client.send_ping("pp").ok());
  pump(p.client, p.server);
  auto e1 = p.server.poll_event();
  CHECK(e1 && e1->type() == WS_EVENT_TEXT && e1->text() == "hello" && e1->message_finished());
  auto e2 = p.server.poll_event();
  CHECK(e2 && e2->type() == WS_EVENT_BINARY && e2->data().size() == bin.size());
  if (e2) CHECK(std::equal(e2->data().begin(), e2->data().end(), bin.begin()));
  auto e3 = p.server.poll_event();
  CHECK(e3 && e3->type() == WS_EVENT_TEXT && e3->text() == "frag-ment");
  auto e4 = p.server.poll_event();
  CHECK(e4 && e4->type() == WS_EVENT_PING && e4->text() == "pp");
  auto none = p.server.poll_event();
  CHECK(!none && none.error().ok());
  pump(p.server, p.client);  // auto pong
  auto pong = p.client.poll_event();
  CHECK(pong && pong->type() == WS_EVENT_PONG && pong->text() == "pp");

  CHECK(p.client.send_close(1000, "bye").ok());
  pump(p.client, p.server);
  auto cl = p.server.poll_event();
  CHECK(cl && cl->type() == WS_EVENT_CLOSE && cl->code() == 1000 && cl->text() == "bye");
  pump(p.server, p.client);  // auto close reply
  auto cl2 = p.client.poll_event();
  CHECK(cl2 && cl2->type() == WS_EVENT_CLOSE && cl2->code() == 1000);
  CHECK(p.client.wants_close_transport() && p.server.wants_close_transport());
}

static void test_errors() {
  auto c = wsproto::conn::client();
  CHECK(c.has_value());
  wsproto::status s = c->send_text("early");
  CHECK(!s && s.code() == WS_ERR_WRONG_STATE);
  CHECK(std::string_view(s.what()).size() > 0);
  CHECK(!c->last_error().empty());
  pair p = open_pair(false);
  CHECK(p.client.send_text(std::string_view("\xff\xfe", 2)) == WS_ERR_INVALID_ARGUMENT);
  CHECK(p.client.send_ping(std::string(126, 'x')) == WS_ERR_INVALID_ARGUMENT);
  CHECK(p.client.send_close(999) == WS_ERR_INVALID_ARGUMENT);
  // A moved-from connection is empty: calls report WS_ERR_NULL_ARGUMENT.
  wsproto::conn moved = std::move(p.client);
  CHECK(!p.client);
  CHECK(p.client.send_text("x") == WS_ERR_NULL_ARGUMENT);
  CHECK(moved.send_text("x").ok());
  // Limits: a message over max_message_size fails the connection with 1009.
  wsproto::config small;
  CHECK(small.max_message_size(16).ok());
  auto srv = wsproto::conn::frames_only(WS_ROLE_SERVER, &small);
  auto cli = wsproto::conn::frames_only(WS_ROLE_CLIENT);
  CHECK(srv && cli);
  CHECK(cli->send_binary(std::string(100, 'a')).ok());
  pump(*cli, *srv);
  auto ev = srv->poll_event();
  CHECK(ev && ev->type() == WS_EVENT_CLOSE && ev->code() == 1009 && (ev->flags() & WS_EVENT_FLAG_PROTOCOL_ERROR));
  // A handshake error gives a status hint.
  auto bad = wsproto::conn::server();
  CHECK(bad->receive(std::string_view("GET / HTTP/1.1\r\nHost: x\r\n\r\n")) == WS_ERR_HANDSHAKE);
  CHECK(bad->handshake_status_hint() >= 400);
  CHECK(bad->reject(bad->handshake_status_hint()).ok());
  CHECK(bad->output_len() > 0);
}

int main() {
  CHECK(sizeof(ws_event_t) > 0);
  test_messages(false);
  test_messages(true);
  test_errors();
#ifdef WSPROTO_HPP_HAS_SPAN
  std::puts("test_hpp: C++20 (std::span views)");
#endif
  if (failures) {
    std::fprintf(stderr, "test_hpp: %d failure(s)\n", failures);
    return 1;
  }
  std::puts("test_hpp: ok");
  return 0;
}
