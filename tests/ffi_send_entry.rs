//! ws_conn_send_text / ws_conn_send_binary (and ws_conn_encode_*, with the
//! header-only ones) through the C ABI against the Rust engine's
//! `send_data_with` (`encode_data`, `encode_header`): the C entry takes its own short path for
//! the common case (flags 0 or WS_SEND_TRUSTED_UTF8, `data` given, a whole
//! small message) and hands everything else to the general path. Both must
//! decide the same: every result code, every output byte (client masks
//! drawn from the same fixed RNG stream), the state afterwards, with random
//! sizes around the one-pass limit (125), contents (ASCII, multi-byte,
//! invalid UTF-8), flags (known and unknown bits), NULL data, fragments,
//! drains, key-pool refills and closes in between.

mod common;
use common::*;

use std::ffi::{c_int, c_void, CStr};
use std::ptr::{null, null_mut};

use wsproto::ffi::config::*;
use wsproto::ffi::conn::*;
use wsproto::ffi::result::ws_result_t;
use wsproto::{Config, Connection, DataKind, Encoded, Role, SendOptions, State};

use ws_result_t::*;

const SEED: u64 = 0x9E37_79B9_7F4A_7C15;

fn fill(x: &mut XorShift, b: &mut [u8]) {
    for c in b.chunks_mut(8) {
        let v = x.next().to_le_bytes();
        c.copy_from_slice(&v[..c.len()]);
    }
}

unsafe extern "C" fn c_rng(userdata: *mut c_void, buf: *mut u8, len: usize) -> c_int {
    // SAFETY: `userdata` is the test's XorShift, alive for the connection;
    // `buf` is writable for `len` bytes (the callback contract).
    let (x, b) = unsafe { (&mut *userdata.cast::<XorShift>(), std::slice::from_raw_parts_mut(buf, len)) };
    fill(x, b);
    0
}

struct Pair {
    c: *mut ws_conn_t,
    r: Connection,
    _x: Box<XorShift>,
}

impl Pair {
    fn new(role: Role) -> Pair {
        let mut x = Box::new(XorShift(SEED));
        let cfg = ws_config_new();
        assert!(!cfg.is_null());
        let ud: *mut XorShift = &mut *x;
        assert_eq!(ws_config_set_rng(cfg, Some(c_rng), ud.cast()), WS_OK);
        let mut c = null_mut();
        let role_arg = WsRoleArg(if role == Role::Client { 0 } else { 1 });
        assert_eq!(ws_conn_new_frames_only(cfg, role_arg, null(), 0, &mut c), WS_OK);
        ws_config_free(cfg);
        let mut rx = XorShift(SEED);
        let config = Config {
            rng: Some(Box::new(move |b: &mut [u8]| {
                fill(&mut rx, b);
                true
            })),
            ..Config::default()
        };
        let r = Connection::frames_only(role, config, None, &[]);
        Pair { c, r, _x: x }
    }

    fn c_output(&self) -> Vec<u8> {
        let (mut p, mut n) = (null(), 0);
        assert_eq!(ws_conn_output_peek(self.c, &mut p, &mut n), WS_OK);
        assert_eq!(ws_conn_output_len(self.c), n);
        if n == 0 {
            return Vec::new();
        }
        // SAFETY: valid for `n` bytes until the next mutating call.
        unsafe { std::slice::from_raw_parts(p, n) }.to_vec()
    }

    fn last_error(&self) -> String {
        // SAFETY: a NUL-terminated string owned by the connection.
        unsafe { CStr::from_ptr(ws_conn_last_error(self.c)) }.to_str().unwrap().to_owned()
    }

    fn check_same(&self, what: &str) {
        assert_eq!(self.c_output(), self.r.output(), "{what}: output");
        let state = match self.r.state() {
            State::Connecting => ws_state_t::WS_STATE_CONNECTING,
            State::Open => ws_state_t::WS_STATE_OPEN,
            State::RemoteClosing => ws_state_t::WS_STATE_REMOTE_CLOSING,
            State::LocalClosing => ws_state_t::WS_STATE_LOCAL_CLOSING,
            State::Closed => ws_state_t::WS_STATE_CLOSED,
            State::Rejecting => ws_state_t::WS_STATE_REJECTING,
        };
        assert_eq!(ws_conn_state(self.c), state, "{what}: state");
    }
}

impl Drop for Pair {
    fn drop(&mut self) {
        ws_conn_free(self.c);
    }
}

fn payload(x: &mut XorShift, len: usize) -> Vec<u8> {
    let mut p = vec![0u8; len];
    match x.next() % 4 {
        // ASCII text.
        0 | 1 => p.iter_mut().for_each(|b| *b = b'a' + (x.next() % 26) as u8),
        // Valid UTF-8 with two-byte sequences (a split one at the end when
        // the length is odd: invalid as a whole message).
        2 => p.chunks_mut(2).for_each(|c| c.copy_from_slice(&"é".as_bytes()[..c.len()])),
        // Random bytes: mostly invalid as text.
        _ => fill(x, &mut p),
    }
    p
}

const FLAGS: [u32; 8] = [
    0,
    0,
    0,
    WS_SEND_TRUSTED_UTF8,
    WS_SEND_NO_COMPRESS,
    WS_SEND_MORE,
    WS_SEND_MORE | WS_SEND_TRUSTED_UTF8,
    8, // unknown bit
];

fn continue_checks(pair: &Pair, what: &str) {
    pair.check_same(what);
}

fn run(role: Role, seed: u64, steps: usize) {
    let mut x = XorShift(seed);
    let p = Pair::new(role);
    let mut pair = p;
    // Sends the C entry's short path could take, and how many went out.
    // ([queued, zero-copy, header only])
    let (mut short, mut short_ok) = ([0; 3], [0; 3]);
    for step in 0..steps {
        let what = format!("{role:?} seed {seed:#x} step {step}");
        let r = x.next();
        if r % 97 == 0 {
            // A close now and then: later sends must fail the same way.
            let rc = ws_conn_send_close(pair.c, 1000, null(), 0);
            let rr = pair.r.send_close(Some(1000), "");
            assert_eq!(rc, rr.as_ref().map_or_else(ws_result_t::from, |_| WS_OK), "{what}: close");
        } else if r % 5 == 0 {
            // Drain all or part of the output.
            let n = pair.r.output().len();
            let k = if r % 3 == 0 { n } else { (x.next() as usize) % (n + 1) };
            assert_eq!(ws_conn_output_consume(pair.c, k), WS_OK);
            pair.r.consume_output(k);
        } else {
            // Queued, zero-copy frame, or (mode 2) header only.
            let mode = x.next() % 3;
            let len = match x.next() % 5 {
                0 => (x.next() % 8) as usize,
                // Header only: 2-, 4- and 10-byte headers.
                4 if mode == 2 => [125, 126, 65535, 65536, 70000][(x.next() % 5) as usize],
                1 => 120 + (x.next() % 10) as usize,
                _ => (x.next() % 140) as usize,
            };
            let data = payload(&mut x, len);
            let flags = FLAGS[(x.next() % FLAGS.len() as u64) as usize];
            let kind = if x.next() % 3 == 0 { DataKind::Binary } else { DataKind::Text };
            let null_data = x.next() % 16 == 0;
            let ptr: *const c_void = if null_data { null() } else { data.as_ptr().cast() };
            // Queued, or zero-copy into a buffer of random room (exact,
            // the one-pass writer's 8 spare bytes, too small).
            let encode = mode != 0;
            if encode && x.next() % 4 != 0 {
                // Mostly with nothing queued, as the zero-copy paths need.
                let n = pair.r.output().len();
                assert_eq!(ws_conn_output_consume(pair.c, n), WS_OK);
                pair.r.consume_output(n);
            }
            let cap = match x.next() % 4 {
                // Header only: about the header's size.
                _ if mode == 2 && x.next() % 2 == 0 => (x.next() % 12) as usize,
                0 => len + 6,
                1 => len + 14,
                2 => len + 22,
                _ => (x.next() as usize) % (len + 16),
            };
            let (mut cbuf, mut rbuf) = (vec![0xa5u8; cap], vec![0xa5u8; cap]);
            let mut out_len = usize::MAX;
            let rc = match (mode, kind) {
                (0, DataKind::Text) => ws_conn_send_text(pair.c, ptr, len, flags),
                (0, DataKind::Binary) => ws_conn_send_binary(pair.c, ptr, len, flags),
                (2, DataKind::Text) => {
                    ws_conn_encode_text_header(pair.c, ptr, len, flags, cbuf.as_mut_ptr().cast(), cap, &mut out_len)
                }
                (2, DataKind::Binary) => {
                    ws_conn_encode_binary_header(pair.c, ptr, len, flags, cbuf.as_mut_ptr().cast(), cap, &mut out_len)
                }
                (_, DataKind::Text) => {
                    ws_conn_encode_text(pair.c, ptr, len, flags, cbuf.as_mut_ptr().cast(), cap, &mut out_len)
                }
                (_, DataKind::Binary) => {
                    ws_conn_encode_binary(pair.c, ptr, len, flags, cbuf.as_mut_ptr().cast(), cap, &mut out_len)
                }
            };
            let expected = if null_data && len > 0 {
                assert_eq!(pair.last_error(), "data is NULL", "{what}");
                WS_ERR_NULL_ARGUMENT
            } else if flags & !(WS_SEND_MORE | WS_SEND_NO_COMPRESS | WS_SEND_TRUSTED_UTF8) != 0 {
                assert_eq!(pair.last_error(), format!("unknown send flags {flags:#x}"), "{what}");
                WS_ERR_INVALID_ARGUMENT
            } else {
                let o = SendOptions {
                    fin: flags & WS_SEND_MORE == 0,
                    allow_compression: flags & WS_SEND_NO_COMPRESS == 0,
                    trusted_utf8: flags & WS_SEND_TRUSTED_UTF8 != 0,
                };
                let d = if null_data { &[][..] } else { &data[..] };
                let r = if encode {
                    let r = if mode == 2 {
                        pair.r.encode_header(kind, d, o, &mut rbuf)
                    } else {
                        pair.r.encode_data(kind, d, o, &mut rbuf)
                    };
                    match r {
                        Ok(Encoded::Written(n)) => {
                            assert_eq!(out_len, n, "{what}: written");
                            assert_eq!(cbuf, rbuf, "{what}: encoded bytes");
                            Ok(())
                        }
                        Ok(Encoded::TooSmall(n)) => {
                            assert_eq!(out_len, n, "{what}: size needed");
                            assert!(cbuf.iter().all(|&b| b == 0xa5), "{what}: nothing written");
                            assert_eq!(pair.last_error(), format!("the frame needs {n} bytes, the buffer has {cap}"));
                            assert_eq!(rc, WS_ERR_BUFFER_TOO_SMALL, "{what}");
                            continue_checks(&pair, &what);
                            continue;
                        }
                        Err(e) => Err(e),
                    }
                } else {
                    pair.r.send_data_with(kind, d, o)
                };
                match r {
                    Ok(()) => WS_OK,
                    Err(e) => {
                        assert_eq!(pair.last_error(), e.message, "{what}");
                        assert!(!encode || out_len == usize::MAX, "{what}: out_len untouched on error");
                        ws_result_t::from(&e)
                    }
                }
            };
            assert_eq!(rc, expected, "{what}: {kind:?} len {len} flags {flags:#x} null {null_data}");
            if flags & !WS_SEND_TRUSTED_UTF8 == 0 && !null_data && (len <= 125 || mode == 2) {
                let n = mode as usize;
                short[n] += 1;
                short_ok[n] += usize::from(rc == WS_OK);
            }
        }
        continue_checks(&pair, &what);
        if pair.r.state() == State::LocalClosing && x.next() % 4 == 0 {
            // Start over, so that most steps run on an open connection.
            pair = Pair::new(role);
        }
    }
    // Most queued ones succeed (the rest: invalid text, a fragment in
    // progress, after a close), and many zero-copy ones (those also need no
    // queued output and room), so the short paths are exercised, not only
    // refusals.
    assert!(short_ok[0] * 2 > short[0], "{short_ok:?} of {short:?} short-path sends succeeded");
    assert!(short_ok[1] * 3 > short[1], "{short_ok:?} of {short:?} short-path sends succeeded");
    // A client's header-only calls all fail (it must mask its payload).
    if role == Role::Server {
        assert!(short_ok[2] * 3 > short[2], "{short_ok:?} of {short:?} short-path sends succeeded");
    } else {
        assert_eq!(short_ok[2], 0);
    }
}

#[test]
fn client_sends_match_the_engine() {
    for seed in 1..=6u64 {
        run(Role::Client, seed.wrapping_mul(0x2545_F491_4F6C_DD1D), 3000);
    }
}

#[test]
fn server_sends_match_the_engine() {
    for seed in 1..=6u64 {
        run(Role::Server, seed.wrapping_mul(0x9E37_79B9), 3000);
    }
}

/// The short entry path keeps the documented refusals: NULL connection,
/// re-entry is covered by ffi_miri; here a connection poisoned by nothing is
/// usable and NULL is refused without touching anything.
#[test]
fn null_connection_is_refused() {
    let d = b"hi";
    assert_eq!(ws_conn_send_text(null_mut(), d.as_ptr().cast(), 2, 0), WS_ERR_NULL_ARGUMENT);
    assert_eq!(ws_conn_send_binary(null_mut(), d.as_ptr().cast(), 2, 0), WS_ERR_NULL_ARGUMENT);
    assert_eq!(ws_conn_output_len(null()), 0);
}
