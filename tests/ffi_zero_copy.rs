//! The new C ABI calls of the send side (ws_conn_encode_*, WS_SEND_TRUSTED_UTF8,
//! ws_conn_poll_events) driven from Rust as a C caller drives them: raw
//! pointers in and out. Small inputs, so it can run under Miri
//! (`cargo +nightly miri test --test ffi_zero_copy`); in particular the echo
//! case, where a send call reads the data of an event that borrows from the
//! same connection.

use std::mem::MaybeUninit;
use std::ptr::{null, null_mut};

use wsproto::ffi::conn::*;
use wsproto::ffi::event::*;
use wsproto::ffi::result::*;

use ws_event_type_t::*;
use ws_result_t::*;

const CLIENT: WsRoleArg = WsRoleArg(0);
const SERVER: WsRoleArg = WsRoleArg(1);

fn frames_only(role: WsRoleArg) -> *mut ws_conn_t {
    let mut c = null_mut();
    assert_eq!(ws_conn_new_frames_only(null(), role, null(), 0, &mut c), WS_OK);
    c
}

/// Moves all pending output of `from` into `to`.
fn pump(from: *mut ws_conn_t, to: *mut ws_conn_t) {
    let mut p = null();
    let mut n = 0;
    assert_eq!(ws_conn_output_peek(from, &mut p, &mut n), WS_OK);
    if n > 0 {
        assert_eq!(ws_conn_receive(to, p.cast(), n), WS_OK);
    }
    assert_eq!(ws_conn_output_consume(from, n), WS_OK);
}

/// Copies `len` bytes at `p` (NULL allowed only when `len` is 0).
fn bytes_at(p: *const u8, len: usize) -> Vec<u8> {
    if len == 0 {
        return Vec::new();
    }
    // SAFETY: the library documents `p` as valid for `len` bytes until the
    // next mutating call on its connection, and none is made before this.
    unsafe { std::slice::from_raw_parts(p, len) }.to_vec()
}

fn poll(c: *mut ws_conn_t) -> ws_event_t {
    let mut ev = MaybeUninit::<ws_event_t>::uninit();
    assert_eq!(ws_conn_poll_event(c, ev.as_mut_ptr().cast()), WS_OK);
    // SAFETY: WS_OK means the library wrote the whole struct.
    unsafe { ev.assume_init() }
}

#[test]
fn encode_into_caller_buffer_and_header_only() {
    let c = frames_only(CLIENT);
    let s = frames_only(SERVER);
    let msg = b"hello, zero copy";
    let mut need = 0;
    assert_eq!(
        ws_conn_encode_text(c, msg.as_ptr().cast(), msg.len(), 0, null_mut(), 0, &mut need),
        WS_ERR_BUFFER_TOO_SMALL
    );
    assert_eq!(need, msg.len() + 6);
    let mut buf = vec![0u8; need];
    let mut n = 0;
    assert_eq!(
        ws_conn_encode_text(c, msg.as_ptr().cast(), msg.len(), 0, buf.as_mut_ptr().cast(), buf.len(), &mut n),
        WS_OK
    );
    assert_eq!(n, need);
    assert_eq!(ws_conn_receive(s, buf.as_ptr().cast(), n), WS_OK);
    let ev = poll(s);
    assert_eq!(ev.r#type, WS_EVENT_TEXT);
    assert_eq!(bytes_at(ev.data, ev.len), msg);

    let mut head = [0u8; WS_MAX_SERVER_HEADER_LEN];
    let payload = [7u8; 200];
    assert_eq!(
        ws_conn_encode_binary_header(
            s,
            payload.as_ptr().cast(),
            payload.len(),
            0,
            head.as_mut_ptr().cast(),
            head.len(),
            &mut n
        ),
        WS_OK
    );
    assert_eq!(n, 4);
    let mut wire = head[..n].to_vec();
    wire.extend_from_slice(&payload);
    assert_eq!(ws_conn_receive(c, wire.as_ptr().cast(), wire.len()), WS_OK);
    let ev = poll(c);
    assert_eq!(ev.r#type, WS_EVENT_BINARY);
    assert_eq!(bytes_at(ev.data, ev.len), payload);
    assert_eq!(
        ws_conn_encode_binary_header(c, payload.as_ptr().cast(), 1, 0, head.as_mut_ptr().cast(), head.len(), &mut n),
        WS_ERR_WRONG_STATE
    );
    ws_conn_free(c);
    ws_conn_free(s);
}

/// The echo case: each event's data goes straight into a send or encode
/// call on the connection it borrows from, and a whole batch of compact
/// events is read after several of them were taken.
#[test]
fn echo_event_data_without_a_copy() {
    let c = frames_only(CLIENT);
    let s = frames_only(SERVER);
    for i in 0..6u8 {
        let m = [b'a' + i; 5];
        assert_eq!(ws_conn_send_text(c, m.as_ptr().cast(), m.len(), 0), WS_OK);
    }
    pump(c, s);
    let mut evs = [MaybeUninit::<ws_event_compact_t>::uninit(); 4];
    let mut echoed = 0;
    let mut zero_copy = Vec::new();
    loop {
        let mut n = 0;
        assert_eq!(ws_conn_poll_events(s, evs.as_mut_ptr().cast(), evs.len(), &mut n), WS_OK);
        if n == 0 {
            break;
        }
        // SAFETY: the library wrote the first `n` elements.
        let got: Vec<ws_event_compact_t> = evs[..n].iter().map(|e| unsafe { e.assume_init() }).collect();
        // Every event of the batch is still readable.
        for e in &got {
            assert_eq!(e.r#type, WS_EVENT_TEXT);
            assert_eq!(bytes_at(e.data, e.len).len(), 5);
        }
        for e in &got {
            if echoed % 2 == 0 {
                assert_eq!(ws_conn_send_text(s, e.data.cast(), e.len, WS_SEND_TRUSTED_UTF8), WS_OK);
                pump(s, c);
            } else {
                let mut buf = [0u8; 16];
                let mut w = 0;
                let r = ws_conn_encode_text(
                    s,
                    e.data.cast(),
                    e.len,
                    WS_SEND_TRUSTED_UTF8,
                    buf.as_mut_ptr().cast(),
                    buf.len(),
                    &mut w,
                );
                assert_eq!(r, WS_OK);
                zero_copy.extend_from_slice(&buf[..w]);
                assert_eq!(ws_conn_receive(c, zero_copy.as_ptr().cast(), zero_copy.len()), WS_OK);
                zero_copy.clear();
            }
            echoed += 1;
        }
    }
    assert_eq!(echoed, 6);
    for i in 0..6u8 {
        let ev = poll(c);
        assert_eq!(ev.r#type, WS_EVENT_TEXT);
        assert_eq!(bytes_at(ev.data, ev.len), [b'a' + i; 5]);
    }
    assert_eq!(poll(c).r#type, WS_EVENT_NONE);
    ws_conn_free(c);
    ws_conn_free(s);
}
