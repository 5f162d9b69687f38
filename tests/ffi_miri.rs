//! The C ABI driven from Rust exactly as a C caller drives it: raw pointers
//! in, raw pointers out, every pointer the library hands back read with
//! `slice::from_raw_parts` / `CStr` within its documented lifetime.
//!
//! Written to run under Miri (scripts/miri.sh) so that the unsafe code at the
//! boundary (pointer/length arguments, event structs pointing into the
//! connection, output_peek, last_error, the RNG callback and its userdata)
//! is checked for undefined behaviour; inputs are kept small because Miri is
//! about a thousand times slower. It also runs in every `cargo test`.

use std::cell::Cell;
use std::ffi::{c_char, c_int, c_void, CStr};
use std::mem::MaybeUninit;
use std::ptr::{null, null_mut, NonNull};

use wsproto::ffi::config::*;
use wsproto::ffi::conn::*;
use wsproto::ffi::deflate::*;
use wsproto::ffi::event::*;
use wsproto::ffi::handshake::*;
use wsproto::ffi::result::*;
use wsproto::ffi::version::ws_version;

use ws_event_type_t::*;
use ws_result_t::*;

const RFC_KEY: &str = "dGhlIHNhbXBsZSBub25jZQ==";
const RFC_ACCEPT: &str = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";
const CLIENT: WsRoleArg = WsRoleArg(0);
const SERVER: WsRoleArg = WsRoleArg(1);

// ---------------------------------------------------------------- helpers

/// Copies `len` bytes at `p` (which may be NULL only when `len` is 0).
fn bytes_at(p: *const u8, len: usize) -> Vec<u8> {
    if len == 0 {
        return Vec::new();
    }
    assert!(!p.is_null(), "NULL pointer with length {len}");
    // SAFETY: the library documents `p` as valid for `len` bytes until the
    // next mutating call on the connection; callers read it before that.
    unsafe { std::slice::from_raw_parts(p, len) }.to_vec()
}

fn str_of(s: ws_str_t) -> String {
    String::from_utf8(bytes_at(s.ptr.cast(), s.len)).expect("library handed out non-UTF-8")
}

/// A `ws_event_t` with every pointer it exposes copied out.
#[derive(Debug)]
struct Ev {
    ty: ws_event_type_t,
    flags: u32,
    code: u16,
    data: Vec<u8>,
    target: String,
    host: String,
    subprotocol: String,
    extensions: String,
    subprotocols: Vec<String>,
    headers: Vec<(String, String)>,
}

fn poll(c: *mut ws_conn_t) -> Ev {
    // C passes an uninitialised struct; the library must only write it.
    let mut raw = MaybeUninit::<ws_event_t>::uninit();
    assert_eq!(ws_conn_poll_event(c, raw.as_mut_ptr()), WS_OK);
    // SAFETY: WS_OK means the whole struct was written.
    let e = unsafe { raw.assume_init() };
    // A non-mutating call does not end the borrow of the event pointers:
    // read them after one, as a C caller may.
    let _ = ws_conn_state(c);
    let _ = ws_conn_output_len(c);
    let subprotocols = if e.subprotocols_len == 0 {
        Vec::new()
    } else {
        assert!(!e.subprotocols.is_null());
        // SAFETY: documented as an array of `subprotocols_len` entries.
        unsafe { std::slice::from_raw_parts(e.subprotocols, e.subprotocols_len) }.iter().map(|s| str_of(*s)).collect()
    };
    let headers = if e.headers_len == 0 {
        Vec::new()
    } else {
        assert!(!e.headers.is_null());
        // SAFETY: documented as an array of `headers_len` entries.
        unsafe { std::slice::from_raw_parts(e.headers, e.headers_len) }
            .iter()
            .map(|h| (str_of(h.name), str_of(h.value)))
            .collect()
    };
    Ev {
        ty: e.r#type,
        flags: e.flags,
        code: e.code,
        data: bytes_at(e.data, e.len),
        target: str_of(e.target),
        host: str_of(e.host),
        subprotocol: str_of(e.subprotocol),
        extensions: str_of(e.extensions),
        subprotocols,
        headers,
    }
}

fn expect_none(c: *mut ws_conn_t) {
    let e = poll(c);
    assert_eq!(e.ty, WS_EVENT_NONE, "{e:?}");
    assert_eq!((e.flags, e.code, e.data.len(), e.headers.len()), (0, 0, 0, 0));
}

/// Writes out all pending output through peek + partial consumes.
fn drain(c: *mut ws_conn_t) -> Vec<u8> {
    let mut all = Vec::new();
    loop {
        let mut p: *const u8 = null();
        let mut n = usize::MAX;
        assert_eq!(ws_conn_output_peek(c, &mut p, &mut n), WS_OK);
        assert_eq!(n, ws_conn_output_len(c));
        if n == 0 {
            return all;
        }
        // "Write" at most 7 bytes, as a short write would.
        let w = n.min(7);
        all.extend_from_slice(&bytes_at(p, w));
        assert_eq!(ws_conn_output_consume(c, w), WS_OK);
    }
}

/// Writes out all pending output through ws_conn_output_copy with a small buffer.
fn drain_copy(c: *mut ws_conn_t) -> Vec<u8> {
    let mut all = Vec::new();
    let mut buf = [0u8; 5];
    loop {
        let mut n = usize::MAX;
        assert_eq!(ws_conn_output_copy(c, buf.as_mut_ptr().cast(), buf.len(), &mut n), WS_OK);
        if n == 0 {
            return all;
        }
        all.extend_from_slice(&buf[..n]);
    }
}

fn feed(c: *mut ws_conn_t, data: &[u8]) -> ws_result_t {
    ws_conn_receive(c, data.as_ptr().cast(), data.len())
}

fn last_error(c: *const ws_conn_t) -> String {
    let p = ws_conn_last_error(c);
    assert!(!p.is_null());
    // SAFETY: documented as a NUL-terminated string valid until the next mutating call.
    unsafe { CStr::from_ptr(p) }.to_str().unwrap().to_owned()
}

fn cstr(p: *const c_char) -> &'static str {
    assert!(!p.is_null());
    // SAFETY: documented as a static NUL-terminated string.
    unsafe { CStr::from_ptr(p) }.to_str().unwrap()
}

fn wstr(s: &str) -> ws_str_t {
    ws_str_t { ptr: s.as_ptr().cast(), len: s.len() }
}

fn header(name: &str, value: &str) -> ws_header_t {
    ws_header_t { name: wstr(name), value: wstr(value) }
}

/// A masked frame with a payload under 126 bytes.
fn masked(b0: u8, payload: &[u8], key: [u8; 4]) -> Vec<u8> {
    let mut f = vec![b0, 0x80 | payload.len() as u8];
    f.extend_from_slice(&key);
    f.extend(payload.iter().enumerate().map(|(i, b)| b ^ key[i % 4]));
    f
}

fn frames_only(cfg: *const ws_config_t, role: WsRoleArg, trailing: &[u8]) -> *mut ws_conn_t {
    let mut c = null_mut();
    let p = if trailing.is_empty() { null() } else { trailing.as_ptr() };
    assert_eq!(ws_conn_new_frames_only(cfg, role, p.cast(), trailing.len(), &mut c), WS_OK);
    assert!(!c.is_null());
    c
}

fn new_server(cfg: *const ws_config_t) -> *mut ws_conn_t {
    let mut c = null_mut();
    assert_eq!(ws_conn_new_server(cfg, &mut c), WS_OK);
    c
}

fn new_client(cfg: *const ws_config_t) -> *mut ws_conn_t {
    let mut c = null_mut();
    assert_eq!(ws_conn_new_client(cfg, &mut c), WS_OK);
    c
}

fn accept_token(key: &str) -> String {
    let mut out = [0 as c_char; 32];
    let mut n = 0usize;
    assert_eq!(ws_accept_token(key.as_ptr().cast(), key.len(), out.as_mut_ptr().cast(), out.len(), &mut n), WS_OK);
    assert_eq!(n, 28);
    String::from_utf8(bytes_at(out.as_ptr().cast(), n)).unwrap()
}

fn header_value(head: &str, name: &str) -> Option<String> {
    head.split("\r\n").find_map(|l| {
        let (n, v) = l.split_once(':')?;
        n.eq_ignore_ascii_case(name).then(|| v.trim().to_owned())
    })
}

// ---------------------------------------------------------------- tests

#[test]
fn result_strings_version_and_accept_token() {
    let known = [
        (0, "success"),
        (7001, "a required pointer argument was NULL"),
        (7002, "invalid argument"),
        (7003, "not allowed in the connection's current state"),
        (7004, "invalid WebSocket handshake from the peer"),
        (7005, "the connection is closed"),
        (7006, "buffer too small"),
        (7007, "the random number source failed"),
        (7008, "internal panic caught; the connection is poisoned"),
        (7009, "the connection was poisoned by an earlier panic"),
        (7010, "out of memory"),
        (7011, "input not taken: take events and write output first"),
    ];
    for (code, text) in known {
        assert_eq!(cstr(ws_result_str(WsResultArg(code))), text, "{code}");
    }
    for code in [1, 1000, 7000, 7012, u32::MAX] {
        assert_eq!(cstr(ws_result_str(WsResultArg(code))), "unknown result", "{code}");
    }
    // The Rust enum and the raw codes agree.
    assert_eq!(WS_ERR_POISONED as u32, 7009);
    assert_eq!(cstr(ws_version()), env!("CARGO_PKG_VERSION"));

    // RFC 6455 §1.3 example.
    assert_eq!(accept_token(RFC_KEY), RFC_ACCEPT);
    let mut out = [b'#' as c_char; 28];
    let mut n = 99usize;
    let k = RFC_KEY.as_ptr().cast();
    assert_eq!(ws_accept_token(k, 24, out.as_mut_ptr().cast(), 27, &mut n), WS_ERR_BUFFER_TOO_SMALL);
    assert_eq!((n, out[0]), (99, b'#' as c_char), "nothing written on error");
    assert_eq!(ws_accept_token(k, 20, out.as_mut_ptr().cast(), 28, &mut n), WS_ERR_INVALID_ARGUMENT);
    assert_eq!(ws_accept_token(null(), 24, out.as_mut_ptr().cast(), 28, &mut n), WS_ERR_NULL_ARGUMENT);
    assert_eq!(ws_accept_token(k, 24, null_mut(), 28, &mut n), WS_ERR_NULL_ARGUMENT);
    assert_eq!(ws_accept_token(k, 24, out.as_mut_ptr().cast(), 28, null_mut()), WS_ERR_NULL_ARGUMENT);
    assert_eq!(n, 99);
}

#[test]
fn null_arguments_and_free_null() {
    ws_config_free(null_mut());
    ws_conn_free(null_mut());
    let nul = WS_ERR_NULL_ARGUMENT;
    assert_eq!(ws_config_set_max_frame_size(null_mut(), 1), nul);
    assert_eq!(ws_config_set_max_message_size(null_mut(), 1), nul);
    assert_eq!(ws_config_set_max_handshake_size(null_mut(), 1), nul);
    assert_eq!(ws_config_set_max_handshake_headers(null_mut(), 1), nul);
    assert_eq!(ws_config_set_auto_pong(null_mut(), true), nul);
    assert_eq!(ws_config_set_auto_close_reply(null_mut(), true), nul);
    assert_eq!(ws_config_set_message_mode(null_mut(), WsMessageModeArg(0)), nul);
    assert_eq!(ws_config_set_rng(null_mut(), None, null_mut()), nul);
    assert_eq!(ws_config_set_deflate(null_mut(), true), nul);
    assert_eq!(ws_config_set_deflate_accept(null_mut(), 15, false, false), nul);
    assert_eq!(ws_config_set_deflate_compression(null_mut(), 1, 0), nul);
    assert_eq!(ws_conn_new_client(null(), null_mut()), nul);
    assert_eq!(ws_conn_new_server(null(), null_mut()), nul);
    assert_eq!(ws_conn_new_frames_only(null(), SERVER, null(), 0, null_mut()), nul);
    let sentinel = NonNull::<ws_conn_t>::dangling().as_ptr();
    let mut out = sentinel;
    assert_eq!(ws_conn_new_frames_only(null(), SERVER, null(), 3, &mut out), nul);
    let p = ws_deflate_params_t {
        server_no_context_takeover: false,
        client_no_context_takeover: false,
        server_max_window_bits: 15,
        client_max_window_bits: 15,
    };
    assert_eq!(ws_conn_new_frames_only_deflate(null(), SERVER, null(), null(), 0, &mut out), nul);
    assert_eq!(ws_conn_new_frames_only_deflate(null(), SERVER, &p, null(), 0, null_mut()), nul);
    assert_eq!(out, sentinel, "*out untouched on error");

    // Every connection function with a NULL connection.
    let b = [0u8; 4];
    let mut n = 0usize;
    let mut ptr: *const u8 = null();
    let mut ev = MaybeUninit::<ws_event_t>::uninit();
    let c = null_mut();
    assert_eq!(ws_conn_receive(c, b.as_ptr().cast(), 1), nul);
    assert_eq!(ws_conn_receive_eof(c), nul);
    assert_eq!(ws_conn_poll_event(c, ev.as_mut_ptr()), nul);
    assert_eq!(ws_conn_send_request(c, c"h".as_ptr().cast(), 1, c"/".as_ptr().cast(), 1, null(), 0, null(), 0), nul);
    assert_eq!(ws_conn_accept(c, null(), 0, null(), 0), nul);
    assert_eq!(ws_conn_reject(c, 400, null(), 0, false), nul);
    assert_eq!(ws_conn_reject_data(c, b.as_ptr().cast(), 1, true), nul);
    assert_eq!(ws_conn_send_text(c, b.as_ptr().cast(), 1, 0), nul);
    assert_eq!(ws_conn_send_binary(c, b.as_ptr().cast(), 1, 0), nul);
    assert_eq!(ws_conn_send_ping(c, b.as_ptr().cast(), 1), nul);
    assert_eq!(ws_conn_send_pong(c, b.as_ptr().cast(), 1), nul);
    assert_eq!(ws_conn_send_close(c, 1000, null(), 0), nul);
    assert_eq!(ws_conn_output_copy(c, null_mut(), 0, &mut n), nul);
    assert_eq!(ws_conn_output_peek(c, &mut ptr, &mut n), nul);
    assert_eq!(ws_conn_output_consume(c, 0), nul);
    assert_eq!(ws_conn_state(c), ws_state_t::WS_STATE_CLOSED);
    assert_eq!(ws_conn_output_len(c), 0);
    assert!(!ws_conn_wants_close_transport(c));
    assert_eq!(ws_conn_buffered_input(c), 0);
    assert_eq!(ws_conn_handshake_status_hint(c), 0);
    assert!(!ws_conn_deflate_params(c, null_mut()));
    assert_eq!(last_error(c), "");

    // NULL out-pointers and buffers on a live connection.
    let s = frames_only(null(), SERVER, &[]);
    assert_eq!(last_error(s), "");
    assert_eq!(ws_conn_poll_event(s, null_mut()), nul);
    assert!(last_error(s).contains("out"), "{}", last_error(s));
    assert_eq!(ws_conn_receive(s, null(), 2), nul);
    assert!(last_error(s).contains("data"), "{}", last_error(s));
    assert_eq!(ws_conn_receive(s, null(), 0), WS_OK, "NULL with length 0 is allowed");
    assert_eq!(ws_conn_send_text(s, null(), 0, 0), WS_OK);
    assert_eq!(ws_conn_send_binary(s, null(), 0, 0), WS_OK);
    assert_eq!(ws_conn_send_ping(s, null(), 0), WS_OK);
    assert_eq!(ws_conn_send_text(s, null(), 1, 0), nul);
    assert_eq!(ws_conn_output_copy(s, null_mut(), 4, &mut n), nul);
    assert_eq!(ws_conn_output_copy(s, null_mut(), 0, null_mut()), nul);
    assert_eq!(ws_conn_output_peek(s, null_mut(), &mut n), nul);
    assert_eq!(ws_conn_output_peek(s, &mut ptr, null_mut()), nul);
    assert_eq!(ws_conn_output_copy(s, null_mut(), 0, &mut n), WS_OK);
    assert_eq!(n, 0);
    // Empty text, empty binary, empty ping: three 2-byte frames.
    assert_eq!(drain(s), [0x81, 0, 0x82, 0, 0x89, 0]);
    ws_conn_free(s);
}

#[test]
fn config_setters_reject_bad_values() {
    let cfg = ws_config_new();
    assert!(!cfg.is_null());
    let inv = WS_ERR_INVALID_ARGUMENT;
    assert_eq!(ws_config_set_max_frame_size(cfg, 0), inv);
    assert_eq!(ws_config_set_max_message_size(cfg, 0), inv);
    assert_eq!(ws_config_set_max_handshake_size(cfg, 0), inv);
    assert_eq!(ws_config_set_max_handshake_headers(cfg, 0), inv);
    assert_eq!(ws_config_set_message_mode(cfg, WsMessageModeArg(7)), inv);
    assert_eq!(ws_config_set_deflate_accept(cfg, 8, false, false), inv);
    assert_eq!(ws_config_set_deflate_compression(cfg, 10, 0), inv);
    let bad = ws_deflate_params_t {
        server_no_context_takeover: false,
        client_no_context_takeover: false,
        server_max_window_bits: 16,
        client_max_window_bits: 0,
    };
    assert_eq!(ws_config_set_deflate_offers(cfg, &bad, 1), inv);
    assert_eq!(ws_config_set_deflate_offers(cfg, &bad, 0), inv);
    assert_eq!(ws_config_set_deflate_offers(cfg, null(), 1), WS_ERR_NULL_ARGUMENT);
    let mut out = null_mut();
    assert_eq!(ws_conn_new_frames_only(cfg, WsRoleArg(2), null(), 0, &mut out), inv);
    assert_eq!(ws_conn_new_frames_only_deflate(cfg, SERVER, &bad, null(), 0, &mut out), inv);
    assert!(out.is_null());

    // A small frame limit takes effect: a 5-byte frame fails with 1009.
    assert_eq!(ws_config_set_max_frame_size(cfg, 4), WS_OK);
    let s = frames_only(cfg, SERVER, &[]);
    ws_config_free(cfg); // connections hold a copy
    assert_eq!(feed(s, &masked(0x82, b"12345", [1, 2, 3, 4])), WS_OK);
    let e = poll(s);
    assert_eq!((e.ty, e.code, e.flags), (WS_EVENT_CLOSE, 1009, WS_EVENT_FLAG_PROTOCOL_ERROR));
    let out = drain(s);
    assert_eq!(&out[..4], [0x88, out[1], 0x03, 0xf1], "close 1009 sent");
    assert!(ws_conn_wants_close_transport(s));
    ws_conn_free(s);
}

#[test]
fn server_handshake_events_and_frames() {
    let cfg = ws_config_new();
    assert_eq!(ws_config_set_max_handshake_headers(cfg, 16), WS_OK);
    let s = new_server(cfg);
    ws_config_free(cfg);
    assert_eq!(ws_conn_state(s), ws_state_t::WS_STATE_CONNECTING);
    let head = format!(
        "GET /chat?room=1 HTTP/1.1\r\nHost: example.com:8080\r\nUpgrade: websocket\r\n\
         Connection: Upgrade\r\nSec-WebSocket-Key: {RFC_KEY}\r\nSec-WebSocket-Version: 13\r\n\
         Sec-WebSocket-Protocol: chat, superchat\r\nSec-WebSocket-Extensions: x-foo\r\n\
         Sec-WebSocket-Extensions: x-bar; a=1\r\nOrigin:  http://example.com \r\n\r\n"
    );
    let mut wire = head.into_bytes();
    // RFC 6455 §5.7: masked "Hello" arrives right behind the head.
    wire.extend_from_slice(&[0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58]);
    let (a, b) = wire.split_at(40);
    assert_eq!(feed(s, a), WS_OK);
    expect_none(s);
    assert_eq!(ws_conn_buffered_input(s), 40);
    assert_eq!(feed(s, b), WS_OK);

    let e = poll(s);
    assert_eq!(e.ty, WS_EVENT_REQUEST);
    assert_eq!(e.target, "/chat?room=1");
    assert_eq!(e.host, "example.com:8080");
    assert_eq!(e.subprotocols, ["chat", "superchat"]);
    assert_eq!(e.extensions, "x-foo, x-bar; a=1");
    assert_eq!(e.subprotocol, "");
    assert!(e.data.is_empty());
    let names: Vec<&str> = e.headers.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "Host",
            "Upgrade",
            "Connection",
            "Sec-WebSocket-Key",
            "Sec-WebSocket-Version",
            "Sec-WebSocket-Protocol",
            "Sec-WebSocket-Extensions",
            "Sec-WebSocket-Extensions",
            "Origin"
        ]
    );
    assert_eq!(e.headers[8].1, "http://example.com", "value trimmed");
    assert_eq!(e.headers[3].1, RFC_KEY);
    // The frame behind the head waits for the answer to the request.
    expect_none(s);

    // Answers that are refused change nothing.
    assert_eq!(ws_conn_accept(s, c"nope".as_ptr().cast(), 4, null(), 0), WS_ERR_INVALID_ARGUMENT);
    assert!(!last_error(s).is_empty());
    assert_eq!(ws_conn_output_len(s), 0);
    assert_eq!(ws_conn_send_text(s, b"x".as_ptr().cast(), 1, 0), WS_ERR_WRONG_STATE);
    let bad_name = [header("Bad Name", "v")];
    assert_eq!(ws_conn_accept(s, null(), 0, bad_name.as_ptr(), 1), WS_ERR_INVALID_ARGUMENT);

    let extra = [header("X-Server", "miri")];
    assert_eq!(ws_conn_accept(s, c"chat".as_ptr().cast(), 4, extra.as_ptr(), extra.len()), WS_OK);
    assert_eq!(ws_conn_state(s), ws_state_t::WS_STATE_OPEN);
    assert_eq!(ws_conn_accept(s, null(), 0, null(), 0), WS_ERR_WRONG_STATE);
    let resp = String::from_utf8(drain(s)).unwrap();
    assert!(resp.starts_with("HTTP/1.1 101 "), "{resp}");
    assert!(resp.ends_with("\r\n\r\n"));
    assert_eq!(header_value(&resp, "Sec-WebSocket-Accept").as_deref(), Some(RFC_ACCEPT));
    assert_eq!(header_value(&resp, "Sec-WebSocket-Protocol").as_deref(), Some("chat"));
    assert_eq!(header_value(&resp, "X-Server").as_deref(), Some("miri"));
    assert_eq!(header_value(&resp, "Sec-WebSocket-Extensions"), None);

    let e = poll(s);
    assert_eq!((e.ty, e.flags, e.data.as_slice()), (WS_EVENT_TEXT, 3, &b"Hello"[..]));
    expect_none(s);

    // A fragmented binary message with a ping between the fragments.
    let key = [0xa1, 0xb2, 0xc3, 0xd4];
    let mut wire = masked(0x02, &[1, 2, 3], key);
    wire.extend(masked(0x89, b"hi", key));
    wire.extend(masked(0x80, &[4, 5], key));
    assert_eq!(feed(s, &wire), WS_OK);
    let e = poll(s);
    assert_eq!((e.ty, e.data.as_slice()), (WS_EVENT_PING, &b"hi"[..]));
    let e = poll(s);
    assert_eq!((e.ty, e.flags, e.data.as_slice()), (WS_EVENT_BINARY, 3, &[1, 2, 3, 4, 5][..]));
    expect_none(s);
    assert_eq!(drain_copy(s), [0x8a, 2, b'h', b'i'], "auto-pong");

    // Sends: text, binary fragments, a text message split inside a code
    // point, ping, pong; server frames are unmasked.
    assert_eq!(ws_conn_send_text(s, b"hi".as_ptr().cast(), 2, 0), WS_OK);
    assert_eq!(ws_conn_send_binary(s, [1u8, 2].as_ptr().cast(), 2, WS_SEND_MORE), WS_OK);
    assert_eq!(ws_conn_send_text(s, b"x".as_ptr().cast(), 1, 0), WS_ERR_WRONG_STATE);
    assert_eq!(ws_conn_send_binary(s, [3u8].as_ptr().cast(), 1, 0), WS_OK);
    let e_acute = "é".as_bytes();
    assert_eq!(ws_conn_send_text(s, e_acute.as_ptr().cast(), 1, WS_SEND_MORE), WS_OK);
    assert_eq!(ws_conn_send_text(s, e_acute[1..].as_ptr().cast(), 1, 0), WS_OK);
    assert_eq!(ws_conn_send_text(s, [0xffu8].as_ptr().cast(), 1, 0), WS_ERR_INVALID_ARGUMENT);
    assert_eq!(ws_conn_send_text(s, b"x".as_ptr().cast(), 1, 0x80), WS_ERR_INVALID_ARGUMENT);
    assert!(last_error(s).contains("flags"), "{}", last_error(s));
    assert_eq!(ws_conn_send_ping(s, [0u8; 126].as_ptr().cast(), 126), WS_ERR_INVALID_ARGUMENT);
    assert_eq!(ws_conn_send_ping(s, b"p".as_ptr().cast(), 1), WS_OK);
    assert_eq!(ws_conn_send_pong(s, b"q".as_ptr().cast(), 1), WS_OK);
    let expected: &[u8] =
        &[0x81, 2, b'h', b'i', 0x02, 2, 1, 2, 0x80, 1, 3, 0x01, 1, 0xc3, 0x80, 1, 0xa9, 0x89, 1, b'p', 0x8a, 1, b'q'];
    assert_eq!(ws_conn_output_len(s), expected.len());
    assert_eq!(ws_conn_output_consume(s, expected.len() + 1), WS_ERR_INVALID_ARGUMENT);
    assert_eq!(drain(s), expected);

    // The client closes with a reason; the auto-reply echoes the code.
    assert_eq!(feed(s, &masked(0x88, b"\x03\xe8bye", key)), WS_OK);
    let e = poll(s);
    assert_eq!((e.ty, e.code, e.flags, e.data.as_slice()), (WS_EVENT_CLOSE, 1000, 0, &b"bye"[..]));
    assert_eq!(drain(s), [0x88, 2, 0x03, 0xe8]);
    assert!(ws_conn_wants_close_transport(s));
    assert_eq!(ws_conn_state(s), ws_state_t::WS_STATE_CLOSED);
    assert_eq!(feed(s, b"x"), WS_ERR_CLOSED);
    assert!(!last_error(s).is_empty());
    assert_eq!(ws_conn_send_text(s, b"x".as_ptr().cast(), 1, 0), WS_ERR_WRONG_STATE);
    ws_conn_free(s);
}

/// Userdata for the RNG callback: shared, interior-mutable state, as a C
/// caller would pass a pointer to its own struct.
struct RngState {
    calls: Cell<usize>,
    bytes: Cell<usize>,
    fill: u8,
    fail: bool,
}

unsafe extern "C" fn rng_cb(userdata: *mut c_void, buf: *mut u8, len: usize) -> c_int {
    // SAFETY: the userdata is the &RngState given to ws_config_set_rng, alive
    // for as long as the connection; `buf` is writable for `len` bytes.
    let st = unsafe { &*(userdata as *const RngState) };
    st.calls.set(st.calls.get() + 1);
    st.bytes.set(st.bytes.get() + len);
    if st.fail {
        return 1;
    }
    unsafe { std::ptr::write_bytes(buf, st.fill, len) };
    0
}

fn rng_config(st: &RngState) -> *mut ws_config_t {
    let cfg = ws_config_new();
    assert_eq!(ws_config_set_rng(cfg, Some(rng_cb), st as *const RngState as *mut c_void), WS_OK);
    cfg
}

#[test]
fn client_handshake_with_rng_callback() {
    use base64::Engine;
    let st = RngState { calls: Cell::new(0), bytes: Cell::new(0), fill: 0x5a, fail: false };
    let cfg = rng_config(&st);
    let c = new_client(cfg);
    ws_config_free(cfg);
    assert_eq!(st.calls.get(), 0, "no randomness drawn before it is needed");

    assert_eq!(ws_conn_send_text(c, b"x".as_ptr().cast(), 1, 0), WS_ERR_WRONG_STATE);
    assert_eq!(
        ws_conn_send_request(c, null(), 0, c"/".as_ptr().cast(), 1, null(), 0, null(), 0),
        WS_ERR_INVALID_ARGUMENT
    );
    let protos = [wstr("chat"), wstr("v2.chat")];
    let extra = [header("Origin", "http://example.com"), header("Authorization", "Bearer t")];
    let host = "example.com";
    let target = "/chat";
    let rc = ws_conn_send_request(
        c,
        host.as_ptr().cast(),
        host.len(),
        target.as_ptr().cast(),
        target.len(),
        protos.as_ptr(),
        protos.len(),
        extra.as_ptr(),
        extra.len(),
    );
    assert_eq!(rc, WS_OK, "{}", last_error(c));
    assert!(st.calls.get() >= 1 && st.bytes.get() >= 16, "callback used");
    let req = String::from_utf8(drain_copy(c)).unwrap();
    assert!(req.starts_with("GET /chat HTTP/1.1\r\n"), "{req}");
    let key = header_value(&req, "Sec-WebSocket-Key").unwrap();
    assert_eq!(key, base64::engine::general_purpose::STANDARD.encode([0x5a; 16]), "key from the callback's bytes");
    assert_eq!(header_value(&req, "Host").as_deref(), Some("example.com"));
    assert_eq!(header_value(&req, "Sec-WebSocket-Protocol").as_deref(), Some("chat, v2.chat"));
    assert_eq!(header_value(&req, "Authorization").as_deref(), Some("Bearer t"));
    assert_eq!(
        ws_conn_send_request(c, host.as_ptr().cast(), 11, c"/".as_ptr().cast(), 1, null(), 0, null(), 0),
        WS_ERR_WRONG_STATE
    );

    // The server's answer and a first frame in one read.
    let mut wire = format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Accept: {}\r\nSec-WebSocket-Protocol: v2.chat\r\n\r\n",
        accept_token(&key)
    )
    .into_bytes();
    wire.extend_from_slice(&[0x81, 2, b'h', b'i']);
    assert_eq!(feed(c, &wire), WS_OK);
    let e = poll(c);
    assert_eq!(e.ty, WS_EVENT_ACCEPT);
    assert_eq!((e.subprotocol.as_str(), e.extensions.as_str()), ("v2.chat", ""));
    assert_eq!(e.headers.len(), 4);
    assert_eq!(e.headers[4 - 1], ("Sec-WebSocket-Protocol".to_owned(), "v2.chat".to_owned()));
    assert!(e.target.is_empty() && e.host.is_empty() && e.subprotocols.is_empty());
    assert_eq!(ws_conn_state(c), ws_state_t::WS_STATE_OPEN);
    let e = poll(c);
    assert_eq!((e.ty, e.flags, e.data.as_slice()), (WS_EVENT_TEXT, 3, &b"hi"[..]));
    expect_none(c);

    // Client frames are masked with keys from the callback's bytes.
    let calls = st.calls.get();
    assert_eq!(ws_conn_send_text(c, b"Hello".as_ptr().cast(), 5, 0), WS_OK);
    assert_eq!(ws_conn_send_close(c, 1001, null(), 0), WS_OK);
    assert_eq!(ws_conn_send_close(c, 1000, null(), 0), WS_ERR_WRONG_STATE);
    let mut expected = masked(0x81, b"Hello", [0x5a; 4]);
    expected.extend(masked(0x88, &[0x03, 0xe9], [0x5a; 4]));
    assert_eq!(drain(c), expected);
    assert_eq!(st.calls.get(), calls, "masking keys come from the block already drawn");
    assert_eq!(ws_conn_state(c), ws_state_t::WS_STATE_LOCAL_CLOSING);
    assert_eq!(feed(c, &[0x88, 2, 0x03, 0xe9]), WS_OK);
    let e = poll(c);
    assert_eq!((e.ty, e.code), (WS_EVENT_CLOSE, 1001));
    assert!(ws_conn_wants_close_transport(c));
    ws_conn_free(c);
}

#[test]
fn rng_failure_and_default_os_source() {
    let st = RngState { calls: Cell::new(0), bytes: Cell::new(0), fill: 0, fail: true };
    let cfg = rng_config(&st);
    let c = new_client(cfg);
    assert_eq!(
        ws_conn_send_request(c, c"h".as_ptr().cast(), 1, c"/".as_ptr().cast(), 1, null(), 0, null(), 0),
        WS_ERR_RNG
    );
    assert_eq!(st.calls.get(), 1);
    assert!(last_error(c).contains("random"), "{}", last_error(c));
    assert_eq!(ws_conn_output_len(c), 0, "nothing queued");
    ws_conn_free(c);
    let fc = frames_only(cfg, CLIENT, &[]);
    assert_eq!(ws_conn_send_binary(fc, [1u8].as_ptr().cast(), 1, 0), WS_ERR_RNG);
    assert_eq!(ws_conn_output_len(fc), 0);
    ws_conn_free(fc);

    // NULL restores the default source (ChaCha keyed by getrandom).
    assert_eq!(ws_config_set_rng(cfg, None, NonNull::<c_void>::dangling().as_ptr()), WS_OK);
    let fc = frames_only(cfg, CLIENT, &[]);
    ws_config_free(cfg);
    let calls = st.calls.get();
    assert_eq!(ws_conn_send_binary(fc, [1u8, 2, 3].as_ptr().cast(), 3, 0), WS_OK);
    assert_eq!(st.calls.get(), calls, "callback no longer used");
    let out = drain(fc);
    assert_eq!(&out[..2], [0x82, 0x83]);
    let key = [out[2], out[3], out[4], out[5]];
    let payload: Vec<u8> = out[6..].iter().enumerate().map(|(i, b)| b ^ key[i % 4]).collect();
    assert_eq!(payload, [1, 2, 3]);
    ws_conn_free(fc);

    let c = new_client(null());
    assert_eq!(ws_conn_send_request(c, c"h".as_ptr().cast(), 1, c"/".as_ptr().cast(), 1, null(), 0, null(), 0), WS_OK);
    let req = String::from_utf8(drain(c)).unwrap();
    let key = header_value(&req, "Sec-WebSocket-Key").unwrap();
    assert_eq!(key.len(), 24);
    assert_eq!(accept_token(&key).len(), 28, "a valid base64 nonce");
    ws_conn_free(c);
}

#[test]
fn rejection_with_body_reaches_the_client() {
    let c = new_client(null());
    let s = new_server(null());
    assert_eq!(ws_conn_send_request(c, c"h".as_ptr().cast(), 1, c"/x".as_ptr().cast(), 2, null(), 0, null(), 0), WS_OK);
    assert_eq!(feed(s, &drain(c)), WS_OK);
    assert_eq!(poll(s).ty, WS_EVENT_REQUEST);
    assert_eq!(ws_conn_reject(s, 101, null(), 0, false), WS_ERR_INVALID_ARGUMENT);
    assert_eq!(ws_conn_reject_data(s, b"x".as_ptr().cast(), 1, true), WS_ERR_WRONG_STATE);
    let hdrs = [header("Content-Length", "4"), header("X-Why", "testing")];
    assert_eq!(ws_conn_reject(s, 403, hdrs.as_ptr(), hdrs.len(), true), WS_OK);
    assert_eq!(ws_conn_state(s), ws_state_t::WS_STATE_REJECTING);
    assert_eq!(ws_conn_reject_data(s, b"no".as_ptr().cast(), 2, false), WS_OK);
    assert_eq!(ws_conn_reject_data(s, b"pe".as_ptr().cast(), 2, true), WS_OK);
    assert_eq!(ws_conn_reject_data(s, null(), 0, true), WS_ERR_WRONG_STATE);
    let resp = drain(s);
    assert!(ws_conn_wants_close_transport(s));
    ws_conn_free(s);

    assert_eq!(feed(c, &resp), WS_OK);
    let e = poll(c);
    assert_eq!((e.ty, e.code, e.flags), (WS_EVENT_REJECT, 403, WS_EVENT_FLAG_HAS_BODY));
    assert!(e.headers.contains(&("X-Why".to_owned(), "testing".to_owned())), "{:?}", e.headers);
    let mut body = Vec::new();
    loop {
        let e = poll(c);
        assert_eq!(e.ty, WS_EVENT_REJECT_DATA);
        body.extend_from_slice(&e.data);
        if e.flags & WS_EVENT_FLAG_MESSAGE_FINISHED != 0 {
            break;
        }
    }
    assert_eq!(body, b"nope");
    ws_conn_free(c);
}

#[test]
fn bad_request_gets_status_hint() {
    let s = new_server(null());
    let req = format!(
        "GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {RFC_KEY}\r\n\r\n"
    );
    assert_eq!(feed(s, req.as_bytes()), WS_ERR_HANDSHAKE);
    assert!(!last_error(s).is_empty());
    let hint = ws_conn_handshake_status_hint(s);
    assert_eq!(hint, 426);
    assert_eq!(ws_conn_reject(s, hint, null(), 0, false), WS_OK);
    let resp = String::from_utf8(drain(s)).unwrap();
    assert!(resp.starts_with("HTTP/1.1 426"), "{resp}");
    assert_eq!(header_value(&resp, "Sec-WebSocket-Version").as_deref(), Some("13"));
    assert!(ws_conn_wants_close_transport(s));
    ws_conn_free(s);
}

#[test]
fn frames_only_trailing_stream_mode_and_eof() {
    let cfg = ws_config_new();
    assert_eq!(ws_config_set_message_mode(cfg, WsMessageModeArg(1)), WS_OK);
    assert_eq!(ws_config_set_auto_pong(cfg, false), WS_OK);
    let key = [9, 8, 7, 6];
    // Trailing bytes: one whole frame and the first part of the next.
    let mut trailing = masked(0x82, b"abc", key);
    let text = masked(0x81, "héllo".as_bytes(), key);
    trailing.extend_from_slice(&text[..8]); // header (6) + "h" + first byte of "é"
    let s = frames_only(cfg, SERVER, &trailing);
    ws_config_free(cfg);
    assert_eq!(ws_conn_state(s), ws_state_t::WS_STATE_OPEN);
    let e = poll(s);
    assert_eq!((e.ty, e.flags, e.data.as_slice()), (WS_EVENT_BINARY, 3, &b"abc"[..]));
    // Stream mode: the text chunk stops before the split code point.
    let e = poll(s);
    assert_eq!((e.ty, e.flags, e.data.as_slice()), (WS_EVENT_TEXT, 0, &b"h"[..]));
    expect_none(s);
    assert_eq!(feed(s, &text[8..]), WS_OK);
    let e = poll(s);
    assert_eq!((e.ty, e.flags), (WS_EVENT_TEXT, 3));
    assert_eq!(e.data, "éllo".as_bytes());
    // auto-pong off: a ping is reported, nothing is queued.
    assert_eq!(feed(s, &masked(0x89, b"p", key)), WS_OK);
    assert_eq!(poll(s).ty, WS_EVENT_PING);
    assert_eq!(ws_conn_output_len(s), 0);

    assert_eq!(ws_conn_receive_eof(s), WS_OK);
    let e = poll(s);
    assert_eq!((e.ty, e.code, e.flags), (WS_EVENT_CLOSE, 1006, 0));
    expect_none(s);
    assert_eq!(ws_conn_receive_eof(s), WS_OK);
    expect_none(s);
    assert_eq!(feed(s, b"x"), WS_ERR_CLOSED);
    ws_conn_free(s);

    // A server failing the connection: unmasked client frame -> 1002.
    let s = frames_only(null(), SERVER, &[]);
    assert_eq!(feed(s, &[0x81, 1, b'x']), WS_OK);
    let e = poll(s);
    assert_eq!((e.ty, e.code, e.flags), (WS_EVENT_CLOSE, 1002, WS_EVENT_FLAG_PROTOCOL_ERROR));
    let out = drain(s);
    assert_eq!((out[0], out[2], out[3]), (0x88, 0x03, 0xea));
    assert!(ws_conn_wants_close_transport(s));
    ws_conn_free(s);
}

#[test]
fn frames_only_pair_talks_both_ways() {
    let st = RngState { calls: Cell::new(0), bytes: Cell::new(0), fill: 0x33, fail: false };
    let cfg = rng_config(&st);
    let c = frames_only(cfg, CLIENT, &[]);
    let s = frames_only(cfg, SERVER, &[]);
    ws_config_free(cfg);
    // Fragments split inside the code point "ό".
    let kosme = "κόσμε".as_bytes();
    assert_eq!(ws_conn_send_text(c, kosme.as_ptr().cast(), 3, WS_SEND_MORE), WS_OK);
    assert_eq!(ws_conn_send_text(c, kosme[3..].as_ptr().cast(), 7, 0), WS_OK);
    assert_eq!(ws_conn_send_ping(c, b"x".as_ptr().cast(), 1), WS_OK);
    assert_eq!(feed(s, &drain(c)), WS_OK);
    let e = poll(s);
    assert_eq!((e.ty, e.flags), (WS_EVENT_TEXT, 3));
    assert_eq!(e.data, "κόσμε".as_bytes());
    assert_eq!(poll(s).ty, WS_EVENT_PING);
    assert_eq!(ws_conn_send_binary(s, [7u8; 10].as_ptr().cast(), 10, 0), WS_OK);
    assert_eq!(feed(c, &drain_copy(s)), WS_OK);
    let e = poll(c);
    assert_eq!((e.ty, e.data.as_slice()), (WS_EVENT_PONG, &b"x"[..]));
    let e = poll(c);
    assert_eq!((e.ty, e.data.as_slice()), (WS_EVENT_BINARY, &[7u8; 10][..]));
    ws_conn_free(c);
    ws_conn_free(s);
}

#[test]
fn frames_only_deflate_pair() {
    let cfg = ws_config_new();
    assert_eq!(ws_config_set_deflate_compression(cfg, 1, 0), WS_OK);
    let p = ws_deflate_params_t {
        server_no_context_takeover: true,
        client_no_context_takeover: false,
        server_max_window_bits: 9,
        client_max_window_bits: 10,
    };
    let (mut c, mut s) = (null_mut(), null_mut());
    assert_eq!(ws_conn_new_frames_only_deflate(cfg, CLIENT, &p, null(), 0, &mut c), WS_OK);
    assert_eq!(ws_conn_new_frames_only_deflate(cfg, SERVER, &p, null(), 0, &mut s), WS_OK);
    ws_config_free(cfg);
    let mut got = MaybeUninit::<ws_deflate_params_t>::uninit();
    assert!(ws_conn_deflate_params(s, got.as_mut_ptr()));
    // SAFETY: true means `*out` was written.
    assert_eq!(unsafe { got.assume_init() }, p);
    assert!(ws_conn_deflate_params(c, null_mut()));
    let plain = frames_only(null(), SERVER, &[]);
    assert!(!ws_conn_deflate_params(plain, null_mut()));
    ws_conn_free(plain);

    let msg = b"hello hello hello hello hello";
    for _ in 0..2 {
        assert_eq!(ws_conn_send_text(c, msg.as_ptr().cast(), msg.len(), 0), WS_OK);
        let out = drain(c);
        assert_eq!(out[0], 0xc1, "RSV1: compressed");
        assert!(out.len() < 6 + msg.len());
        assert_eq!(feed(s, &out), WS_OK);
        let e = poll(s);
        assert_eq!((e.ty, e.flags, e.data.as_slice()), (WS_EVENT_TEXT, 3, &msg[..]));
    }
    assert_eq!(ws_conn_send_binary(s, msg.as_ptr().cast(), msg.len(), 0), WS_OK);
    assert_eq!(ws_conn_send_binary(s, msg.as_ptr().cast(), 5, WS_SEND_NO_COMPRESS), WS_OK);
    let out = drain(s);
    assert_eq!(out[0], 0xc2);
    let plain_at = out.len() - 7;
    assert_eq!(&out[plain_at..], [0x82, 5, b'h', b'e', b'l', b'l', b'o'], "NO_COMPRESS");
    assert_eq!(feed(c, &out), WS_OK);
    let e = poll(c);
    assert_eq!((e.ty, e.data.as_slice()), (WS_EVENT_BINARY, &msg[..]));
    let e = poll(c);
    assert_eq!((e.ty, e.data.as_slice()), (WS_EVENT_BINARY, &msg[..5]));
    ws_conn_free(c);
    ws_conn_free(s);
}

#[test]
fn deflate_negotiated_through_handshake() {
    let ccfg = ws_config_new();
    let offers = [
        ws_deflate_params_t {
            server_no_context_takeover: true,
            client_no_context_takeover: true,
            server_max_window_bits: 10,
            client_max_window_bits: 15,
        },
        ws_deflate_params_t {
            server_no_context_takeover: false,
            client_no_context_takeover: false,
            server_max_window_bits: 0,
            client_max_window_bits: 0,
        },
    ];
    assert_eq!(ws_config_set_deflate_offers(ccfg, offers.as_ptr(), offers.len()), WS_OK);
    let scfg = ws_config_new();
    assert_eq!(ws_config_set_deflate_accept(scfg, 12, false, false), WS_OK);
    let c = new_client(ccfg);
    let s = new_server(scfg);
    ws_config_free(ccfg);
    ws_config_free(scfg);
    assert_eq!(ws_conn_send_request(c, c"h".as_ptr().cast(), 1, c"/".as_ptr().cast(), 1, null(), 0, null(), 0), WS_OK);
    assert_eq!(feed(s, &drain(c)), WS_OK);
    let e = poll(s);
    assert_eq!(e.ty, WS_EVENT_REQUEST);
    assert!(e.extensions.starts_with("permessage-deflate"), "{}", e.extensions);
    assert!(e.extensions.contains("server_max_window_bits=10"), "{}", e.extensions);
    assert_eq!(ws_conn_accept(s, null(), 0, null(), 0), WS_OK);
    assert_eq!(feed(c, &drain(s)), WS_OK);
    let e = poll(c);
    assert_eq!(e.ty, WS_EVENT_ACCEPT);
    assert!(e.extensions.starts_with("permessage-deflate"), "{}", e.extensions);
    let (mut pc, mut ps) = (MaybeUninit::uninit(), MaybeUninit::uninit());
    assert!(ws_conn_deflate_params(c, pc.as_mut_ptr()));
    assert!(ws_conn_deflate_params(s, ps.as_mut_ptr()));
    // SAFETY: true means `*out` was written.
    let (pc, ps): (ws_deflate_params_t, ws_deflate_params_t) = unsafe { (pc.assume_init(), ps.assume_init()) };
    assert_eq!(pc, ps, "both ends agree");
    assert_eq!((pc.server_max_window_bits, pc.server_no_context_takeover), (10, true));
    let msg = b"abcabcabcabcabcabc";
    assert_eq!(ws_conn_send_text(s, msg.as_ptr().cast(), msg.len(), 0), WS_OK);
    let out = drain(s);
    assert_eq!(out[0], 0xc1);
    assert_eq!(feed(c, &out), WS_OK);
    let e = poll(c);
    assert_eq!((e.ty, e.data.as_slice()), (WS_EVENT_TEXT, &msg[..]));
    ws_conn_free(c);
    ws_conn_free(s);
}

/// Userdata of an RNG callback that calls back into its own connection.
struct ReentrantRng {
    conn: Cell<*mut ws_conn_t>,
    results: Cell<[u32; 4]>,
}

unsafe extern "C" fn reentrant_rng(userdata: *mut c_void, buf: *mut u8, len: usize) -> c_int {
    // SAFETY: the userdata is the &ReentrantRng given to ws_config_set_rng.
    let st = unsafe { &*(userdata as *const ReentrantRng) };
    let c = st.conn.get();
    if !c.is_null() {
        let mut out: *const u8 = null();
        let mut out_len = 0;
        st.results.set([
            ws_conn_send_ping(c, null(), 0) as u32,
            ws_conn_output_peek(c, &mut out, &mut out_len) as u32,
            u32::from(ws_conn_wants_read(c)),
            u32::from(cstr(ws_conn_last_error(c)).contains("inside")),
        ]);
        ws_conn_free(c); // refused: the connection is in use
    }
    // SAFETY: `buf` is writable for `len` bytes.
    unsafe { std::ptr::write_bytes(buf, 0x11, len) };
    0
}

#[test]
fn an_rng_callback_cannot_reenter_its_connection() {
    let st = ReentrantRng { conn: Cell::new(null_mut()), results: Cell::new([0; 4]) };
    let cfg = ws_config_new();
    assert_eq!(ws_config_set_rng(cfg, Some(reentrant_rng), &st as *const ReentrantRng as *mut c_void), WS_OK);
    let c = frames_only(cfg, CLIENT, &[]);
    ws_config_free(cfg);
    st.conn.set(c);
    // Masking this ping draws randomness, and the callback calls into `c`.
    assert_eq!(ws_conn_send_ping(c, b"x".as_ptr().cast(), 1), WS_OK);
    assert_eq!(st.results.get(), [WS_ERR_WRONG_STATE as u32, WS_ERR_WRONG_STATE as u32, 0, 1]);
    st.conn.set(null_mut());
    assert_eq!(drain(c).len(), 2 + 4 + 1, "one masked ping, nothing from the inner calls");
    ws_conn_free(c);
}

#[test]
fn memory_settings_and_queries() {
    let cfg = ws_config_new();
    let inv = WS_ERR_INVALID_ARGUMENT;
    assert_eq!(ws_config_set_memory_budget(cfg, 0), inv);
    assert_eq!(ws_config_set_max_buffered_input(cfg, 0), inv);
    assert_eq!(ws_config_set_output_high_water(cfg, 0), inv);
    assert_eq!(ws_config_set_idle_buffer_retain(cfg, 0), WS_OK);
    assert_eq!(ws_config_set_memory_budget(null_mut(), 1), WS_ERR_NULL_ARGUMENT);
    assert_eq!(ws_config_set_max_buffered_input(cfg, 100), WS_OK);
    let s = frames_only(cfg, SERVER, &[]);
    ws_config_free(cfg);
    assert!(ws_conn_wants_read(s));
    assert!(!ws_conn_wants_read(null()));
    assert_eq!(ws_conn_memory_used(null()), 0);
    // 5000 pings queue 4096 events; parsing pauses with the rest held.
    let ping = masked(0x89, b"", [1, 2, 3, 4]);
    let pings: Vec<u8> = ping.iter().copied().cycle().take(ping.len() * 5000).collect();
    assert_eq!(feed(s, &pings), WS_OK);
    assert!(!ws_conn_wants_read(s));
    assert!(ws_conn_memory_used(s) > pings.len() / 2);
    assert_eq!(feed(s, &pings[..200]), WS_ERR_INPUT_FULL);
    assert!(last_error(s).contains("wait"));
    let mut n = 0;
    while poll(s).ty == WS_EVENT_PING {
        n += 1;
    }
    assert_eq!(n, 5000);
    assert!(ws_conn_wants_read(s));
    drain(s);
    assert!(ws_conn_memory_used(s) < 2048, "{}", ws_conn_memory_used(s));
    ws_conn_free(s);
}
