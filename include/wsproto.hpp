/**
 * @file wsproto.hpp
 * @brief Header-only C++17 RAII wrapper over the wsproto C API (wsproto.h).
 *
 * Error model: no exceptions. Every fallible call returns a
 * `[[nodiscard]] wsproto::status` (the C ws_result_t plus its description);
 * factories return `wsproto::result<T>` (a T or a status). The wrapper
 * itself throws nothing and allocates only in the calls that take lists of
 * strings (send_request, accept, reject), never per message, so it works in
 * code built with -fno-exceptions (game engines) and costs one inlined call
 * per C function.
 *
 * Ownership and lifetimes:
 * - wsproto::config and wsproto::conn own their C handle; they are
 *   move-only, and the destructor frees the handle. A moved-from object is
 *   empty (its calls return WS_ERR_NULL_ARGUMENT, like the C API with NULL).
 * - wsproto::event, wsproto::bytes_view, std::string_view results and
 *   conn::output() BORROW from the connection: valid until the next
 *   non-const call on that conn (the C rule). Copy what you keep.
 * - Arguments are copied by the library before the call returns.
 * - Threading: as in C, a conn is used from one thread at a time.
 *
 * Example (server side, `read`/`write` are your transport):
 * @code
 *   auto c = wsproto::conn::server();           // result<conn>
 *   if (!c) return c.error().code();
 *   wsproto::conn conn = std::move(*c);
 *   (void)conn.receive(bytes_read);              // or check the status
 *   while (auto ev = conn.poll_event()) {        // stops at NONE or error
 *     if (ev->type() == WS_EVENT_REQUEST) (void)conn.accept();
 *     if (ev->type() == WS_EVENT_TEXT) (void)conn.send_text(ev->text());
 *   }
 *   auto out = conn.output(); write(out.data(), out.size());
 *   (void)conn.consume(out.size());
 * @endcode
 */
#ifndef WSPROTO_HPP
#define WSPROTO_HPP

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "wsproto.h"

#if __cplusplus >= 202002L && __has_include(<span>)
#include <span>
#define WSPROTO_HPP_HAS_SPAN 1
#endif

namespace wsproto {

/** The result of a fallible call: WS_OK or a ws_result_t error code. */
class [[nodiscard]] status {
 public:
  constexpr status() noexcept = default;
  constexpr explicit status(uint32_t code) noexcept : code_(code) {}
  /** True on WS_OK. */
  constexpr bool ok() const noexcept { return code_ == WS_OK; }
  constexpr explicit operator bool() const noexcept { return ok(); }
  /** The ws_result_t value (WS_OK, WS_ERR_*). */
  constexpr uint32_t code() const noexcept { return code_; }
  /** Static English description (ws_result_str); never NULL. */
  const char *what() const noexcept { return ws_result_str(static_cast<ws_result_t>(code_)); }
  friend constexpr bool operator==(status a, status b) noexcept { return a.code_ == b.code_; }
  friend constexpr bool operator!=(status a, status b) noexcept { return a.code_ != b.code_; }
  friend constexpr bool operator==(status a, uint32_t c) noexcept { return a.code_ == c; }
  friend constexpr bool operator!=(status a, uint32_t c) noexcept { return a.code_ != c; }

 private:
  uint32_t code_ = WS_OK;
};

/** A T on success, otherwise the status that explains why not. */
template <class T>
class [[nodiscard]] result {
 public:
  result(T value) noexcept(std::is_nothrow_move_constructible_v<T>) : value_(std::move(value)) {}
  result(status s) noexcept : status_(s) {}
  bool has_value() const noexcept { return value_.has_value(); }
  explicit operator bool() const noexcept { return has_value(); }
  /** Precondition: has_value(). */
  T &operator*() & noexcept { return *value_; }
  const T &operator*() const & noexcept { return *value_; }
  T *operator->() noexcept { return &*value_; }
  const T *operator->() const noexcept { return &*value_; }
  /** WS_OK when has_value(). */
  status error() const noexcept { return status_; }

 private:
  std::optional<T> value_;
  status status_{};
};

/** A borrowed byte range (pointer + length), iterable. */
class bytes_view {
 public:
  constexpr bytes_view() noexcept = default;
  constexpr bytes_view(const uint8_t *p, size_t n) noexcept : p_(n ? p : nullptr), n_(n) {}
  bytes_view(const void *p, size_t n) noexcept : bytes_view(static_cast<const uint8_t *>(p), n) {}
  bytes_view(std::string_view s) noexcept : bytes_view(s.data(), s.size()) {}
  /** A NUL-terminated string, without its NUL. */
  bytes_view(const char *s) noexcept : bytes_view(std::string_view(s)) {}
  /** Any contiguous container of bytes (std::vector<uint8_t>, std::string, std::array...). */
  template <class C, class = std::enable_if_t<!std::is_array_v<C>>,
            class = decltype(std::data(std::declval<const C &>())),
            class = std::enable_if_t<sizeof(*std::data(std::declval<const C &>())) == 1>>
  bytes_view(const C &c) noexcept : bytes_view(static_cast<const void *>(std::data(c)), std::size(c)) {}
  constexpr const uint8_t *data() const noexcept { return p_; }
  constexpr size_t size() const noexcept { return n_; }
  constexpr bool empty() const noexcept { return n_ == 0; }
  constexpr const uint8_t *begin() const noexcept { return p_; }
  constexpr const uint8_t *end() const noexcept { return p_ + n_; }
  constexpr uint8_t operator[](size_t i) const noexcept { return p_[i]; }
  /** The same bytes as characters (e.g. a TEXT payload, UTF-8). */
  std::string_view str() const noexcept {
    return {reinterpret_cast<const char *>(p_), n_};
  }
#ifdef WSPROTO_HPP_HAS_SPAN
  std::span<const uint8_t> span() const noexcept { return {p_, n_}; }
#endif

 private:
  const uint8_t *p_ = nullptr;
  size_t n_ = 0;
};

/** ws_str_t as a string_view (not NUL-terminated). */
inline std::string_view view(ws_str_t s) noexcept { return s.len ? std::string_view(s.ptr, s.len) : std::string_view(); }
/** A ws_str_t borrowing `s`. */
inline ws_str_t c_str(std::string_view s) noexcept { return ws_str_t{s.data(), s.size()}; }
/** A ws_header_t borrowing `name` and `value` (for accept/reject/send_request). */
inline ws_header_t header(std::string_view name, std::string_view value) noexcept {
  return ws_header_t{c_str(name), c_str(value)};
}

/** A borrowed view of a contiguous array of T (ws_str_t, ws_header_t). */
template <class T>
class array_view {
 public:
  constexpr array_view() noexcept = default;
  constexpr array_view(const T *p, size_t n) noexcept : p_(n ? p : nullptr), n_(n) {}
  array_view(std::initializer_list<T> l) noexcept : array_view(l.begin(), l.size()) {}
  array_view(const std::vector<T> &v) noexcept : array_view(v.data(), v.size()) {}
  constexpr const T *data() const noexcept { return p_; }
  constexpr size_t size() const noexcept { return n_; }
  constexpr const T *begin() const noexcept { return p_; }
  constexpr const T *end() const noexcept { return p_ + n_; }
  constexpr const T &operator[](size_t i) const noexcept { return p_[i]; }

 private:
  const T *p_ = nullptr;
  size_t n_ = 0;
};

/**
 * One event: a view over a ws_event_t. Everything it points at borrows from
 * the connection until the next non-const call on it.
 */
class event {
 public:
  event() noexcept : ev_{} {}
  explicit event(const ws_event_t &e) noexcept : ev_(e) {}
  /** WS_EVENT_* (WS_EVENT_NONE: nothing pending). */
  uint32_t type() const noexcept { return static_cast<uint32_t>(ev_.type); }
  /** WS_EVENT_FLAG_* bits. */
  uint32_t flags() const noexcept { return ev_.flags; }
  bool message_finished() const noexcept { return (ev_.flags & WS_EVENT_FLAG_MESSAGE_FINISHED) != 0; }
  bool frame_finished() const noexcept { return (ev_.flags & WS_EVENT_FLAG_FRAME_FINISHED) != 0; }
  /** CLOSE: close code; REJECT: HTTP status. */
  uint16_t code() const noexcept { return ev_.code; }
  /** Payload (TEXT, BINARY, PING, PONG, REJECT_DATA) or close reason. */
  bytes_view data() const noexcept { return {ev_.data, ev_.len}; }
  /** The payload as characters (TEXT payload or CLOSE reason, UTF-8). */
  std::string_view text() const noexcept { return data().str(); }
  std::string_view target() const noexcept { return view(ev_.target); }
  std::string_view host() const noexcept { return view(ev_.host); }
  std::string_view subprotocol() const noexcept { return view(ev_.subprotocol); }
  std::string_view extensions() const noexcept { return view(ev_.extensions); }
  array_view<ws_str_t> subprotocols() const noexcept { return {ev_.subprotocols, ev_.subprotocols_len}; }
  array_view<ws_header_t> headers() const noexcept { return {ev_.headers, ev_.headers_len}; }
  /** The value of the first header named `name` (ASCII case-insensitive). */
  std::optional<std::string_view> header_value(std::string_view name) const noexcept {
    for (const ws_header_t &h : headers()) {
      std::string_view n = view(h.name);
      if (n.size() != name.size()) continue;
      bool eq = true;
      for (size_t i = 0; i < n.size() && eq; i++) eq = lower(n[i]) == lower(name[i]);
      if (eq) return view(h.value);
    }
    return std::nullopt;
  }
  /** The underlying C struct. */
  const ws_event_t &c_event() const noexcept { return ev_; }

 private:
  static char lower(char c) noexcept { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; }
  ws_event_t ev_;
};

/** Connection options (ws_config_t); move-only. Setters return status. */
class config {
 public:
  /** Defaults; .valid() is false only if allocation failed. */
  config() noexcept : c_(ws_config_new()) {}
  config(config &&o) noexcept : c_(std::exchange(o.c_, nullptr)) {}
  config &operator=(config &&o) noexcept {
    if (this != &o) { ws_config_free(c_); c_ = std::exchange(o.c_, nullptr); }
    return *this;
  }
  config(const config &) = delete;
  config &operator=(const config &) = delete;
  ~config() { ws_config_free(c_); }
  bool valid() const noexcept { return c_ != nullptr; }

  status max_frame_size(uint64_t n) noexcept { return status(ws_config_set_max_frame_size(c_, n)); }
  status max_message_size(uint64_t n) noexcept { return status(ws_config_set_max_message_size(c_, n)); }
  status max_handshake_size(size_t n) noexcept { return status(ws_config_set_max_handshake_size(c_, n)); }
  status memory_budget(uint64_t n) noexcept { return status(ws_config_set_memory_budget(c_, n)); }
  status max_buffered_input(size_t n) noexcept { return status(ws_config_set_max_buffered_input(c_, n)); }
  status output_high_water(size_t n) noexcept { return status(ws_config_set_output_high_water(c_, n)); }
  status idle_buffer_retain(size_t n) noexcept { return status(ws_config_set_idle_buffer_retain(c_, n)); }
  status auto_pong(bool on) noexcept { return status(ws_config_set_auto_pong(c_, on)); }
  status auto_close_reply(bool on) noexcept { return status(ws_config_set_auto_close_reply(c_, on)); }
  /** WS_MESSAGE_MODE_WHOLE or WS_MESSAGE_MODE_STREAM. */
  status message_mode(uint32_t mode) noexcept {
    return status(ws_config_set_message_mode(c_, static_cast<ws_message_mode_t>(mode)));
  }
  status deflate(bool on) noexcept { return status(ws_config_set_deflate(c_, on)); }
  status deflate_mem_level(uint8_t level) noexcept { return status(ws_config_set_deflate_mem_level(c_, level)); }

  /** The C handle (owned by this object; NULL when empty). */
  ws_config_t *get() noexcept { return c_; }
  const ws_config_t *get() const noexcept { return c_; }

 private:
  ws_config_t *c_;
};

/** One WebSocket connection (ws_conn_t); move-only, freed by the destructor. */
class conn {
 public:
  /** A server connection; `cfg` is copied (may be destroyed afterwards). */
  static result<conn> server(const config *cfg = nullptr) noexcept {
    ws_conn_t *c = nullptr;
    status s(ws_conn_new_server(cfg ? cfg->get() : nullptr, &c));
    if (!s) return s;
    return conn(c);
  }
  /** A client connection; then call send_request(). */
  static result<conn> client(const config *cfg = nullptr) noexcept {
    ws_conn_t *c = nullptr;
    status s(ws_conn_new_client(cfg ? cfg->get() : nullptr, &c));
    if (!s) return s;
    return conn(c);
  }
  /**
   * A connection that starts OPEN (handshake done elsewhere); `role` is
   * WS_ROLE_CLIENT or WS_ROLE_SERVER; `trailing` are bytes read past the
   * handshake (copied).
   */
  static result<conn> frames_only(uint32_t role, const config *cfg = nullptr, bytes_view trailing = {}) noexcept {
    ws_conn_t *c = nullptr;
    status s(ws_conn_new_frames_only(cfg ? cfg->get() : nullptr, static_cast<ws_role_t>(role), trailing.data(),
                                     trailing.size(), &c));
    if (!s) return s;
    return conn(c);
  }
  /** Takes ownership of a C handle (may be NULL). */
  explicit conn(ws_conn_t *c) noexcept : c_(c) {}
  conn(conn &&o) noexcept : c_(std::exchange(o.c_, nullptr)) {}
  conn &operator=(conn &&o) noexcept {
    if (this != &o) { ws_conn_free(c_); c_ = std::exchange(o.c_, nullptr); }
    return *this;
  }
  conn(const conn &) = delete;
  conn &operator=(const conn &) = delete;
  ~conn() { ws_conn_free(c_); }

  /**
   * Feeds bytes read from the transport. WS_ERR_INPUT_FULL: nothing taken;
   * poll events and write output, then feed the same bytes again.
   */
  status receive(bytes_view in) noexcept { return status(ws_conn_receive(c_, in.data(), in.size())); }
  status receive_eof() noexcept { return status(ws_conn_receive_eof(c_)); }

  /**
   * The next event: an event (type() != WS_EVENT_NONE) while one is pending;
   * an empty result when none is (error() == WS_OK) or on error (error()
   * says which). `while (auto ev = conn.poll_event())` drains them.
   */
  result<event> poll_event() noexcept {
    ws_event_t e;
    status s(ws_conn_poll_event(c_, &e));
    if (!s) return s;
    if (e.type == WS_EVENT_NONE) return status();
    return event(e);
  }

  status send_text(std::string_view text, uint32_t flags = 0) noexcept {
    return status(ws_conn_send_text(c_, reinterpret_cast<const uint8_t *>(text.data()), text.size(), flags));
  }
  status send_binary(bytes_view data, uint32_t flags = 0) noexcept {
    return status(ws_conn_send_binary(c_, data.data(), data.size(), flags));
  }
  status send_ping(bytes_view data = {}) noexcept { return status(ws_conn_send_ping(c_, data.data(), data.size())); }
  status send_pong(bytes_view data = {}) noexcept { return status(ws_conn_send_pong(c_, data.data(), data.size())); }
  status send_close(uint16_t code = 1000, std::string_view reason = {}) noexcept {
    return status(ws_conn_send_close(c_, code, reason.data(), reason.size()));
  }

  /** Client: queues the upgrade request (allocates a small array). */
  status send_request(std::string_view host, std::string_view target,
                      std::initializer_list<std::string_view> subprotocols = {},
                      array_view<ws_header_t> headers = {}) {
    std::vector<ws_str_t> subs;
    subs.reserve(subprotocols.size());
    for (std::string_view s : subprotocols) subs.push_back(c_str(s));
    return status(ws_conn_send_request(c_, host.data(), host.size(), target.data(), target.size(),
                                       subs.data(), subs.size(), headers.data(), headers.size()));
  }
  /** Server, after WS_EVENT_REQUEST: accepts (subprotocol empty = none). */
  status accept(std::string_view subprotocol = {}, array_view<ws_header_t> headers = {}) noexcept {
    return status(ws_conn_accept(c_, subprotocol.empty() ? nullptr : subprotocol.data(), subprotocol.size(),
                                 headers.data(), headers.size()));
  }
  /** Server: rejects with an HTTP status. */
  status reject(uint16_t http_status, array_view<ws_header_t> headers = {}, bool has_body = false) noexcept {
    return status(ws_conn_reject(c_, http_status, headers.data(), headers.size(), has_body));
  }
  status reject_data(bytes_view body, bool finished) noexcept {
    return status(ws_conn_reject_data(c_, body.data(), body.size(), finished));
  }

  /** Pending output, borrowed until the next non-const call (empty on error). */
  bytes_view output() const noexcept {
    const uint8_t *p = nullptr;
    size_t n = 0;
    if (ws_conn_output_peek(c_, &p, &n) != WS_OK) return {};
    return {p, n};
  }
  /** Marks `n` bytes of output() as written. */
  status consume(size_t n) noexcept { return status(ws_conn_output_consume(c_, n)); }
  size_t output_len() const noexcept { return ws_conn_output_len(c_); }
  /**
   * Writes output with `write(const uint8_t*, size_t) -> long` (bytes
   * written, <= 0 to stop) until empty or the writer stops; returns the
   * number of bytes written.
   */
  template <class Write>
  size_t drain(Write &&write) {
    size_t total = 0;
    for (;;) {
      bytes_view out = output();
      if (out.empty()) break;
      long w = static_cast<long>(write(out.data(), out.size()));
      if (w <= 0) break;
      if (!consume(static_cast<size_t>(w))) break;
      total += static_cast<size_t>(w);
    }
    return total;
  }

  uint32_t state() const noexcept { return static_cast<uint32_t>(ws_conn_state(c_)); }
  bool wants_read() const noexcept { return ws_conn_wants_read(c_); }
  bool wants_close_transport() const noexcept { return ws_conn_wants_close_transport(c_); }
  size_t memory_used() const noexcept { return ws_conn_memory_used(c_); }
  uint16_t handshake_status_hint() const noexcept { return ws_conn_handshake_status_hint(c_); }
  /** Detail of the last error; borrowed until the next non-const call. */
  std::string_view last_error() const noexcept { return ws_conn_last_error(c_); }
  /** Negotiated permessage-deflate parameters, if any. */
  std::optional<ws_deflate_params_t> deflate_params() const noexcept {
    ws_deflate_params_t p{};
    if (!ws_conn_deflate_params(c_, &p)) return std::nullopt;
    return p;
  }

  /** The C handle (still owned by this object); release() gives it up. */
  ws_conn_t *get() noexcept { return c_; }
  ws_conn_t *release() noexcept { return std::exchange(c_, nullptr); }
  explicit operator bool() const noexcept { return c_ != nullptr; }

 private:
  ws_conn_t *c_;
};

}  // namespace wsproto

#endif  // WSPROTO_HPP
