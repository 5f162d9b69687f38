//! The C ABI of the handshake-integration calls, driven from Rust exactly as
//! a C caller drives it (raw pointers in, pointers handed back read within
//! their documented lifetime): ws_conn_receive_request and ws_h2_connect_*.
//!
//! Small inputs, no threads, no I/O: it can run under Miri
//! (`cargo +nightly miri test --test ffi_integration`) to check the unsafe
//! code at that boundary, and runs in every `cargo test`.

use std::ffi::CStr;
use std::mem::MaybeUninit;
use std::ptr::{null, null_mut};

use wsproto::ffi::config::*;
use wsproto::ffi::conn::*;
use wsproto::ffi::deflate::*;
use wsproto::ffi::event::*;
use wsproto::ffi::h2::*;
use wsproto::ffi::handshake::*;
use wsproto::ffi::result::*;

use ws_event_type_t::*;
use ws_result_t::*;

const KEY: &str = "dGhlIHNhbXBsZSBub25jZQ==";

fn bytes_at(p: *const u8, len: usize) -> Vec<u8> {
    if len == 0 {
        return Vec::new();
    }
    assert!(!p.is_null(), "NULL pointer with length {len}");
    // SAFETY: the library documents `p` as valid for `len` bytes for as long
    // as the callers below read it.
    unsafe { std::slice::from_raw_parts(p, len) }.to_vec()
}

fn bstr(s: ws_str_t) -> Vec<u8> {
    bytes_at(s.ptr.cast(), s.len)
}

fn header(name: &[u8], value: &[u8]) -> ws_header_t {
    ws_header_t {
        name: ws_str_t { ptr: name.as_ptr().cast(), len: name.len() },
        value: ws_str_t { ptr: value.as_ptr().cast(), len: value.len() },
    }
}

fn headers_of(p: *const ws_header_t, n: usize) -> Vec<(Vec<u8>, Vec<u8>)> {
    if n == 0 {
        return Vec::new();
    }
    assert!(!p.is_null());
    // SAFETY: documented as an array of `n` entries.
    unsafe { std::slice::from_raw_parts(p, n) }.iter().map(|h| (bstr(h.name), bstr(h.value))).collect()
}

/// Target, host, subprotocols and headers of a REQUEST event.
type RequestView = (Vec<u8>, Vec<u8>, Vec<Vec<u8>>, Vec<(Vec<u8>, Vec<u8>)>);

fn request_view(e: &ws_event_t) -> RequestView {
    assert_eq!(e.r#type, WS_EVENT_REQUEST);
    let subprotocols = if e.subprotocols_len == 0 {
        Vec::new()
    } else {
        // SAFETY: documented as an array of `subprotocols_len` entries.
        unsafe { std::slice::from_raw_parts(e.subprotocols, e.subprotocols_len) }.iter().map(|s| bstr(*s)).collect()
    };
    (bstr(e.target), bstr(e.host), subprotocols, headers_of(e.headers, e.headers_len))
}

fn poll(c: *mut ws_conn_t) -> ws_event_t {
    let mut raw = MaybeUninit::<ws_event_t>::uninit();
    assert_eq!(ws_conn_poll_event(c, raw.as_mut_ptr()), WS_OK);
    // SAFETY: WS_OK means the whole struct was written.
    unsafe { raw.assume_init() }
}

fn drain(c: *mut ws_conn_t) -> Vec<u8> {
    let mut p: *const u8 = null();
    let mut n = 0usize;
    assert_eq!(ws_conn_output_peek(c, &mut p, &mut n), WS_OK);
    let out = bytes_at(p, n);
    assert_eq!(ws_conn_output_consume(c, n), WS_OK);
    out
}

fn cstr(p: *const std::ffi::c_char) -> String {
    assert!(!p.is_null());
    // SAFETY: documented as NUL-terminated and valid until the next non-const call.
    unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned()
}

#[test]
fn receive_request_through_the_c_abi() {
    let names: [&[u8]; 6] =
        [b"Host", b"Upgrade", b"Connection", b"Sec-WebSocket-Key", b"Sec-WebSocket-Version", b"X-Bin"];
    let values: [&[u8]; 6] = [b"h", b"websocket", b"Upgrade", KEY.as_bytes(), b"13", b"\xff\xfe"];
    let list: Vec<ws_header_t> = names.iter().zip(values).map(|(n, v)| header(n, v)).collect();
    let early = [0x89u8, 0x81, 1, 2, 3, 4, b'p' ^ 1];

    let mut s = null_mut();
    assert_eq!(ws_conn_new_server(null(), &mut s), WS_OK);
    let method = "GET";
    let target = "/x?y";
    assert_eq!(
        ws_conn_receive_request(
            s,
            method.as_ptr().cast(),
            method.len(),
            target.as_ptr().cast(),
            target.len(),
            list.as_ptr(),
            list.len(),
            early.as_ptr().cast(),
            early.len(),
        ),
        WS_OK
    );
    drop(list); // copied: the caller's array may go at once
    let e = poll(s);
    let (t, h, sp, hs) = request_view(&e);
    assert_eq!((t, h, sp.len(), hs.len()), (b"/x?y".to_vec(), b"h".to_vec(), 0, 6));
    assert_eq!(hs[5], (b"X-Bin".to_vec(), b"\xff\xfe".to_vec()), "raw bytes kept");
    assert_eq!(ws_conn_accept(s, null(), 0, null(), 0), WS_OK);
    assert!(drain(s).starts_with(b"HTTP/1.1 101 "));
    let e = poll(s);
    assert_eq!((e.r#type, bytes_at(e.data, e.len)), (WS_EVENT_PING, b"p".to_vec()));
    assert_eq!(
        ws_conn_receive_request(s, method.as_ptr().cast(), 3, null(), 0, null(), 0, null(), 0),
        WS_ERR_WRONG_STATE
    );
    assert!(!cstr(ws_conn_last_error(s)).is_empty());
    ws_conn_free(s);

    // A value with CR LF cannot inject a header: a handshake error, hint 400.
    let mut s = null_mut();
    assert_eq!(ws_conn_new_server(null(), &mut s), WS_OK);
    let bad = [header(b"Host", b"h\r\nSec-WebSocket-Version: 13")];
    assert_eq!(
        ws_conn_receive_request(s, method.as_ptr().cast(), 3, target.as_ptr().cast(), 4, bad.as_ptr(), 1, null(), 0),
        WS_ERR_HANDSHAKE
    );
    assert_eq!(ws_conn_handshake_status_hint(s), 400);
    // NULL with a length is refused, not read.
    assert_eq!(ws_conn_receive_request(s, null(), 3, null(), 0, null(), 0, null(), 0), WS_ERR_NULL_ARGUMENT);
    assert_eq!(ws_conn_reject(s, 400, null(), 0, false), WS_OK);
    ws_conn_free(s);
}

#[test]
fn h2_connect_through_the_c_abi() {
    let cfg = ws_config_new();
    assert!(!cfg.is_null());
    assert_eq!(ws_config_set_deflate(cfg, true), WS_OK);
    let mut h = null_mut();
    assert_eq!(ws_h2_connect_new(cfg, &mut h), WS_OK);
    {
        let fields = [
            header(b":method", b"CONNECT"),
            header(b":protocol", b"websocket"),
            header(b":scheme", b"https"),
            header(b":path", b"/chat"),
            header(b":authority", b"example.com"),
            header(b"sec-websocket-version", b"13"),
            header(b"sec-websocket-protocol", b"chat"),
            header(b"sec-websocket-extensions", b"permessage-deflate"),
        ];
        assert_eq!(ws_h2_connect_receive(h, fields.as_ptr(), fields.len()), WS_OK);
    } // the caller's field list is gone: the handle copied it
    let mut raw = MaybeUninit::<ws_event_t>::uninit();
    assert_eq!(ws_h2_connect_request(h, raw.as_mut_ptr()), WS_OK);
    // SAFETY: WS_OK means the whole struct was written.
    let e = unsafe { raw.assume_init() };
    let _ = ws_h2_connect_status_hint(h); // const calls keep the view valid
    let (t, host, sp, hs) = request_view(&e);
    assert_eq!((t, host, sp), (b"/chat".to_vec(), b"example.com".to_vec(), vec![b"chat".to_vec()]));
    assert_eq!(hs.len(), 8);
    assert_eq!(bstr(e.extensions), b"permessage-deflate");

    let mut fp: *const ws_header_t = null();
    let mut fnum = 0usize;
    let bad = [header(b"Upgrade", b"x")];
    assert_eq!(ws_h2_connect_accept(h, null(), 0, bad.as_ptr(), 1, &mut fp, &mut fnum), WS_ERR_INVALID_ARGUMENT);
    assert!(!cstr(ws_h2_connect_last_error(h)).is_empty());
    let sp = "chat";
    assert_eq!(ws_h2_connect_accept(h, sp.as_ptr().cast(), sp.len(), null(), 0, &mut fp, &mut fnum), WS_OK);
    let _ = ws_h2_connect_deflate_params(h, null_mut());
    let fields = headers_of(fp, fnum);
    assert_eq!(
        fields,
        [
            (b":status".to_vec(), b"200".to_vec()),
            (b"sec-websocket-protocol".to_vec(), b"chat".to_vec()),
            (b"sec-websocket-extensions".to_vec(), b"permessage-deflate".to_vec()),
        ]
    );
    let mut p = MaybeUninit::<ws_deflate_params_t>::uninit();
    assert!(ws_h2_connect_deflate_params(h, p.as_mut_ptr()));
    // SAFETY: true means the struct was written.
    let p = unsafe { p.assume_init() };
    assert_eq!((p.server_max_window_bits, p.client_max_window_bits), (15, 15));

    // A client frames-only connection with the same parameters sends a
    // compressed ping-free message; the server connection gets it as trailing data.
    let mut client = null_mut();
    assert_eq!(ws_conn_new_frames_only_deflate(null(), WsRoleArg(0), &p, null(), 0, &mut client), WS_OK);
    assert_eq!(ws_conn_send_text(client, b"hello hello".as_ptr().cast(), 11, 0), WS_OK);
    let wire = drain(client);
    assert_eq!(wire[0] & 0x40, 0x40);
    let mut conn = null_mut();
    assert_eq!(ws_h2_connect_new_conn(h, cfg, wire.as_ptr().cast(), wire.len(), &mut conn), WS_OK);
    ws_h2_connect_free(h);
    ws_config_free(cfg);
    let e = poll(conn);
    assert_eq!((e.r#type, bytes_at(e.data, e.len)), (WS_EVENT_TEXT, b"hello hello".to_vec()));
    assert_eq!(ws_conn_state(conn), ws_state_t::WS_STATE_OPEN);
    ws_conn_free(conn);
    ws_conn_free(client);

    // Refused requests, NULLs.
    let mut h = null_mut();
    assert_eq!(ws_h2_connect_new(null(), &mut h), WS_OK);
    let fields = [header(b":method", b"GET")];
    assert_eq!(ws_h2_connect_receive(h, fields.as_ptr(), 1), WS_ERR_HANDSHAKE);
    assert_eq!(ws_h2_connect_status_hint(h), 400);
    assert!(cstr(ws_h2_connect_last_error(h)).contains("CONNECT"));
    let mut conn = null_mut();
    assert_eq!(ws_h2_connect_new_conn(h, null(), null(), 0, &mut conn), WS_ERR_WRONG_STATE);
    assert!(conn.is_null());
    assert_eq!(ws_h2_connect_receive(h, null(), 1), WS_ERR_WRONG_STATE);
    ws_h2_connect_free(h);
    let mut h = null_mut();
    assert_eq!(ws_h2_connect_new(null(), &mut h), WS_OK);
    assert_eq!(ws_h2_connect_receive(h, null(), 1), WS_ERR_NULL_ARGUMENT);
    assert_eq!(ws_h2_connect_request(h, null_mut()), WS_ERR_NULL_ARGUMENT);
    ws_h2_connect_free(h);
    ws_h2_connect_free(null_mut());
    assert_eq!(ws_h2_connect_new(null(), null_mut()), WS_ERR_NULL_ARGUMENT);
    assert_eq!(ws_h2_connect_receive(null_mut(), null(), 0), WS_ERR_NULL_ARGUMENT);
    assert_eq!(ws_h2_connect_new_conn(null(), null(), null(), 0, &mut conn), WS_ERR_NULL_ARGUMENT);
    assert!(!ws_h2_connect_deflate_params(null(), null_mut()));
    assert_eq!(cstr(ws_h2_connect_last_error(null())), "");
}
