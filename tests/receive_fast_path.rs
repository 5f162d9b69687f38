//! Differential tests of the receive fast path (src/connection/receive_fast.rs)
//! and of the batch poll: the same random byte streams (whole and fragmented
//! messages, control frames between fragments, compressed messages, invalid
//! UTF-8 split anywhere, protocol errors, limits, pauses) fed in the same
//! random chunks must give the same results everywhere:
//!
//! - the Rust API with the fast path on and off (every frame through the
//!   general parser): every receive result, event, deferred error, pending
//!   count, wants_read, buffered input, memory use and output byte;
//! - the C ABI with ws_conn_poll_event() (one 128-byte event per call) and
//!   with ws_conn_poll_events() (random batch sizes): the same, through the
//!   C calls;
//! - and the Rust API against the C ABI: the same events and receive outcomes.

use std::io::Write;
use std::ptr::{null, null_mut};

use wsproto::ffi::config::*;
use wsproto::ffi::conn::*;
use wsproto::ffi::deflate::*;
use wsproto::ffi::event::*;
use wsproto::ffi::result::*;
use wsproto::{CloseSource, Config, Connection, DataKind, DeflateConfig, DeflateParams, Event, Role};

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

/// What a connection is configured with, for one stream.
#[derive(Clone, Copy, Debug)]
struct Scenario {
    server: bool,
    deflate: bool,
    max_frame: u64,
    max_message: u64,
    budget: u64,
    high_water: usize,
    buffered: usize,
    auto_pong: bool,
}

impl Scenario {
    fn random(r: &mut Rng) -> Scenario {
        let pick = |r: &mut Rng, v: &[u64]| v[r.below(v.len() as u64) as usize];
        Scenario {
            server: r.chance(75),
            deflate: r.chance(30),
            max_frame: pick(r, &[u64::MAX, 16 << 20, 300, 126, 40]),
            max_message: pick(r, &[u64::MAX, 16 << 20, 1000, 200]),
            budget: pick(r, &[u64::MAX, 64 << 20, 256 << 10, 6000]),
            high_water: pick(r, &[256 << 10, 200, 1]) as usize,
            buffered: pick(r, &[256 << 10, 3000]) as usize,
            auto_pong: r.chance(70),
        }
    }

    fn config(&self) -> Config {
        Config {
            max_frame_size: self.max_frame,
            max_message_size: self.max_message,
            memory_budget: self.budget,
            output_high_water: self.high_water,
            max_buffered_input: self.buffered,
            auto_pong: self.auto_pong,
            deflate: self.deflate.then(DeflateConfig::default),
            ..Config::default()
        }
    }
}

/// How a frame's length is written: minimal, or (invalid) in a longer form.
#[derive(Clone, Copy, PartialEq)]
enum LenForm {
    Minimal,
    Wide16,
    Wide64,
}

/// Appends a frame, masked with a random key when `masked` (a client's frame).
fn frame(out: &mut Vec<u8>, r: &mut Rng, b0: u8, payload: &[u8], form: LenForm, masked: bool) {
    out.push(b0);
    let m = if masked { 0x80 } else { 0 };
    let n = payload.len();
    match form {
        LenForm::Minimal if n < 126 => out.push(m | n as u8),
        LenForm::Minimal | LenForm::Wide16 if n <= 0xffff => {
            out.push(m | 126);
            out.extend_from_slice(&(n as u16).to_be_bytes());
        }
        _ => {
            out.push(m | 127);
            out.extend_from_slice(&(n as u64).to_be_bytes());
        }
    }
    if masked {
        let key = (r.next() as u32).to_le_bytes();
        out.extend_from_slice(&key);
        out.extend(payload.iter().enumerate().map(|(i, b)| b ^ key[i & 3]));
    } else {
        out.extend_from_slice(payload);
    }
}

fn text(r: &mut Rng, len: usize) -> Vec<u8> {
    const SAMPLES: [&str; 8] = ["a", "Z", " ", "é", "€", "😀", "\u{7ff}", "\u{10ffff}"];
    let ascii_only = r.chance(60);
    let mut v = Vec::with_capacity(len + 4);
    while v.len() < len {
        if ascii_only || r.chance(70) {
            v.push(b' ' + r.below(95) as u8);
        } else {
            v.extend_from_slice(SAMPLES[r.below(SAMPLES.len() as u64) as usize].as_bytes());
        }
    }
    v
}

fn binary(r: &mut Rng, len: usize) -> Vec<u8> {
    (0..len).map(|_| r.next() as u8).collect()
}

fn length(r: &mut Rng) -> usize {
    match r.below(20) {
        0..=11 => r.below(40) as usize,
        12..=16 => r.below(200) as usize,
        17..=18 => 126 + r.below(3000) as usize,
        _ => 60_000 + r.below(20_000) as usize,
    }
}

/// Raw deflate of `data`, sync-flushed, tail stripped (RFC 7692 §7.2.1).
fn compress(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::new(6));
    e.write_all(data).unwrap();
    e.flush().unwrap();
    let mut v = e.get_ref().clone();
    v.truncate(v.len() - 4);
    v
}

/// Splits `data` into `n` pieces at random places (pieces may be empty).
fn split(r: &mut Rng, data: &[u8], n: usize) -> Vec<Vec<u8>> {
    let mut cuts: Vec<usize> = (1..n).map(|_| r.below(data.len() as u64 + 1) as usize).collect();
    cuts.sort();
    let mut pieces = Vec::new();
    let mut last = 0;
    for c in cuts.into_iter().chain([data.len()]) {
        pieces.push(data[last..c].to_vec());
        last = c;
    }
    pieces
}

/// Makes a text payload invalid somewhere, or cut inside a code point.
fn spoil(r: &mut Rng, t: &mut Vec<u8>) {
    match r.below(3) {
        0 if !t.is_empty() => {
            let i = r.below(t.len() as u64) as usize;
            t[i] = [0x80, 0xff, 0xc0, 0xed][r.below(4) as usize];
        }
        1 => t.extend_from_slice(&[0xe2, 0x82]),
        _ => {
            let i = r.below(t.len() as u64 + 1) as usize;
            t.splice(i..i, [0xf4, 0x90]);
        }
    }
}

/// A random stream of frames as the peer of `sc` sends them.
fn stream(r: &mut Rng, sc: &Scenario) -> Vec<u8> {
    let mut out = Vec::new();
    let masked = sc.server;
    // Sometimes a flood: enough events, or bytes of events, in one read to
    // reach the pause limits (4096 events, 1 MiB of their payload).
    match r.below(100) {
        0..=4 => {
            for _ in 0..4000 + r.below(300) {
                let n = r.below(12) as usize;
                let t = text(r, n);
                if r.chance(90) {
                    frame(&mut out, r, 0x81, &t, LenForm::Minimal, masked);
                } else {
                    frame(&mut out, r, 0x01, &t[..n / 2], LenForm::Minimal, masked);
                    frame(&mut out, r, 0x80, &t[n / 2..], LenForm::Minimal, masked);
                }
            }
        }
        5..=9 => {
            for _ in 0..14 + r.below(6) {
                let n = 60_000 + r.below(20_000) as usize;
                let b = binary(r, n);
                frame(&mut out, r, 0x82, &b, LenForm::Minimal, masked);
            }
        }
        _ => {}
    }
    let items = 1 + r.below(60);
    for _ in 0..items {
        let kind = r.below(100);
        let form =
            if r.chance(97) { LenForm::Minimal } else { [LenForm::Wide16, LenForm::Wide64][r.below(2) as usize] };
        match kind {
            0..=44 => {
                let len = length(r);
                let is_text = r.chance(70);
                let mut p = if is_text { text(r, len) } else { binary(r, len) };
                if is_text && r.chance(3) {
                    spoil(r, &mut p);
                }
                frame(&mut out, r, if is_text { 0x81 } else { 0x82 }, &p, form, masked);
            }
            45..=69 => {
                let len = length(r);
                let is_text = r.chance(70);
                let mut p = if is_text { text(r, len) } else { binary(r, len) };
                if is_text && r.chance(4) {
                    spoil(r, &mut p);
                }
                let n = 2 + r.below(6) as usize;
                for (i, piece) in split(r, &p, n).iter().enumerate() {
                    let op = if i > 0 {
                        0
                    } else if is_text {
                        1
                    } else {
                        2
                    };
                    let fin = if i == n - 1 { 0x80 } else { 0 };
                    frame(&mut out, r, fin | op, piece, form, masked);
                    if r.chance(15) {
                        let n = r.below(20) as usize;
                        let c = binary(r, n);
                        let op = [0x89, 0x8a][r.below(2) as usize];
                        frame(&mut out, r, op, &c, LenForm::Minimal, masked);
                    }
                }
            }
            70..=79 => {
                let n = r.below(126) as usize;
                let c = binary(r, n);
                let op = [0x89, 0x8a][r.below(2) as usize];
                frame(&mut out, r, op, &c, LenForm::Minimal, masked);
            }
            80..=87 => {
                // Compressed (RSV1): fine with deflate negotiated, an error without.
                let n = length(r).min(3000);
                let t = text(r, n);
                let z = compress(&t);
                if r.chance(50) {
                    frame(&mut out, r, 0xc1, &z, form, masked);
                } else {
                    let n = 2 + r.below(3) as usize;
                    let pieces = split(r, &z, n);
                    let last = pieces.len() - 1;
                    for (i, piece) in pieces.iter().enumerate() {
                        let b0 = if i == 0 { 0x41 } else { 0 } | if i == last { 0x80 } else { 0 };
                        frame(&mut out, r, b0, piece, form, masked);
                    }
                }
            }
            _ => {
                // Something a peer must not send, or a close.
                let n = r.below(140) as usize;
                let p = binary(r, n);
                let (b0, mask) = match r.below(9) {
                    0 => (0x80 | 0x20 | 1, masked), // RSV2
                    1 => (0x83, masked),            // reserved opcode
                    2 => (0x81, !masked),           // wrong mask bit
                    3 => (0x80, masked),            // continuation without a message
                    4 => (0x09, masked),            // fragmented ping
                    5 => (0x89, masked),            // ping, maybe longer than 125
                    6 => (0x01, masked),            // a fragment left open (next frame decides)
                    7 => (0x88, masked),            // close (payload random: code maybe invalid)
                    _ => (0x82 | 0x10, masked),     // RSV3
                };
                let p = if b0 == 0x01 && r.chance(50) { text(r, 10) } else { p };
                frame(&mut out, r, b0, &p, form, mask);
            }
        }
    }
    out
}

/// Random chunk sizes covering `len` bytes: single bytes, small and large pieces.
fn chunks(r: &mut Rng, len: usize) -> Vec<usize> {
    let mut v = Vec::new();
    let mut left = len;
    // Byte-sized pieces only for short streams (they are slow in a debug build).
    let style = if len > 100_000 { 2 + r.below(2) } else { r.below(4) };
    while left > 0 {
        let n = match style {
            0 => 1 + r.below(3) as usize,
            1 => 1 + r.below(100) as usize,
            2 => 1 + r.below(70_000) as usize,
            _ => [1, 7, 64 << 10, 500][r.below(4) as usize],
        };
        let n = n.min(left);
        v.push(n);
        left -= n;
    }
    v
}

/// What a driver observed, in order.
#[derive(Debug, PartialEq, Clone)]
enum Rec {
    /// A receive (or receive_eof) outcome: 0 for success, else an error code.
    Receive(u32),
    /// After a receive: pending events, wants_read, buffered input, memory used.
    Status(usize, bool, usize, usize),
    /// An event: type (ws_event_type_t numbering), data, flags, code.
    Event(u32, Vec<u8>, u32, u16),
    /// An error reported while taking events.
    Deferred(u32),
    /// Output taken: its bytes (server) or only its length (client: masked
    /// with random keys).
    Output(Vec<u8>),
}

/// The caller's behaviour after each chunk, decided up front so every
/// driver does the same: how many events to take (usize::MAX = all), and
/// whether to take the output.
struct Plan {
    chunks: Vec<usize>,
    take: Vec<usize>,
    drain_output: Vec<bool>,
    batch_caps: Vec<usize>,
}

fn plan(r: &mut Rng, len: usize) -> Plan {
    let chunks = chunks(r, len);
    let n = chunks.len() + 1;
    let take = (0..n).map(|_| if r.chance(80) { usize::MAX } else { r.below(6) as usize }).collect();
    let drain_output = (0..n).map(|_| r.chance(75)).collect();
    let batch_caps = (0..64).map(|_| 1 + r.below(70) as usize).collect();
    Plan { chunks, take, drain_output, batch_caps }
}

fn kind_code(e: &wsproto::Error) -> u32 {
    e.kind as u32 + 1
}

/// The Rust API, fast path on or off.
fn drive_rust(sc: &Scenario, input: &[u8], p: &Plan, fast: bool) -> Vec<Rec> {
    let role = if sc.server { Role::Server } else { Role::Client };
    let params = sc.deflate.then(DeflateParams::default);
    let mut c = Connection::frames_only(role, sc.config(), params, &[]);
    c.set_receive_fast_path(fast);
    let mut recs = Vec::new();
    let mut pos = 0;
    for (i, &n) in p.chunks.iter().chain([&0]).enumerate() {
        let r = if n == 0 { c.receive_eof() } else { c.receive(&input[pos..pos + n]) };
        pos += n;
        recs.push(Rec::Receive(r.as_ref().map_or_else(kind_code, |_| 0)));
        recs.push(Rec::Status(c.pending_events(), c.wants_read(), c.buffered_input(), c.memory_used()));
        let last = n == 0;
        let want = if last { usize::MAX } else { p.take[i] };
        let mut taken = 0;
        while taken < want {
            let Some(e) = c.next_event() else { break };
            recs.push(rust_event(e));
            taken += 1;
            if let Some(err) = c.take_deferred_error() {
                recs.push(Rec::Deferred(kind_code(&err)));
            }
        }
        if p.drain_output[i] || last {
            let out = c.output().to_vec();
            c.consume_output(out.len());
            if !out.is_empty() {
                recs.push(Rec::Output(if sc.server { out } else { vec![out.len() as u8] }));
            }
        }
    }
    recs
}

fn rust_event(e: Event<'_>) -> Rec {
    use ws_event_type_t::*;
    let ff = WS_EVENT_FLAG_FRAME_FINISHED;
    let mf = WS_EVENT_FLAG_MESSAGE_FINISHED;
    match e {
        Event::Data { kind, data, frame_finished, message_finished } => Rec::Event(
            if kind == DataKind::Text { WS_EVENT_TEXT as u32 } else { WS_EVENT_BINARY as u32 },
            data.to_vec(),
            if frame_finished { ff } else { 0 } | if message_finished { mf } else { 0 },
            0,
        ),
        Event::Ping(p) => Rec::Event(WS_EVENT_PING as u32, p.to_vec(), 0, 0),
        Event::Pong(p) => Rec::Event(WS_EVENT_PONG as u32, p.to_vec(), 0, 0),
        Event::Close { code, reason, source } => Rec::Event(
            WS_EVENT_CLOSE as u32,
            reason.as_bytes().to_vec(),
            if source == CloseSource::Violation { WS_EVENT_FLAG_PROTOCOL_ERROR } else { 0 },
            code,
        ),
        other => panic!("unexpected event {other:?}"),
    }
}

fn bytes_at(p: *const u8, len: usize) -> Vec<u8> {
    if len == 0 {
        return Vec::new();
    }
    // SAFETY: the library documents `p` as valid for `len` bytes until the
    // next mutating call; it is copied at once.
    unsafe { std::slice::from_raw_parts(p, len) }.to_vec()
}

/// The C ABI, taking events one at a time (`batch` false) or in batches.
fn drive_c(sc: &Scenario, input: &[u8], p: &Plan, batch: bool) -> Vec<Rec> {
    let cfg = ws_config_new();
    assert!(!cfg.is_null());
    assert_eq!(ws_config_set_max_frame_size(cfg, sc.max_frame), ws_result_t::WS_OK);
    assert_eq!(ws_config_set_max_message_size(cfg, sc.max_message), ws_result_t::WS_OK);
    assert_eq!(ws_config_set_memory_budget(cfg, sc.budget), ws_result_t::WS_OK);
    assert_eq!(ws_config_set_output_high_water(cfg, sc.high_water), ws_result_t::WS_OK);
    assert_eq!(ws_config_set_max_buffered_input(cfg, sc.buffered), ws_result_t::WS_OK);
    assert_eq!(ws_config_set_auto_pong(cfg, sc.auto_pong), ws_result_t::WS_OK);
    assert_eq!(ws_config_set_deflate(cfg, sc.deflate), ws_result_t::WS_OK);
    let role = WsRoleArg(if sc.server { 1 } else { 0 });
    let mut c = null_mut();
    let rc = if sc.deflate {
        let params: ws_deflate_params_t = DeflateParams::default().into();
        ws_conn_new_frames_only_deflate(cfg, role, &params, null(), 0, &mut c)
    } else {
        ws_conn_new_frames_only(cfg, role, null(), 0, &mut c)
    };
    assert_eq!(rc, ws_result_t::WS_OK);
    ws_config_free(cfg);
    let mut recs = Vec::new();
    let mut pos = 0;
    let mut caps = p.batch_caps.iter().cycle();
    for (i, &n) in p.chunks.iter().chain([&0]).enumerate() {
        let last = n == 0;
        let rc = if last { ws_conn_receive_eof(c) } else { ws_conn_receive(c, input[pos..].as_ptr().cast(), n) };
        pos += n;
        recs.push(Rec::Receive(rc as u32));
        // (The C ABI has no pending-event count: compared on the Rust side.)
        recs.push(Rec::Status(0, ws_conn_wants_read(c), ws_conn_buffered_input(c), ws_conn_memory_used(c)));
        let want = if last { usize::MAX } else { p.take[i] };
        let mut taken = 0;
        if batch {
            let mut evs = [ws_event_compact_t {
                data: null(),
                len: 0,
                r#type: ws_event_type_t::WS_EVENT_NONE,
                flags: 0,
                code: 0,
            }; 70];
            while taken < want {
                let cap = (*caps.next().unwrap()).min(want - taken);
                let mut got = usize::MAX;
                let rc = ws_conn_poll_events(c, evs.as_mut_ptr(), cap, &mut got);
                assert!(got <= cap);
                for e in &evs[..got] {
                    recs.push(Rec::Event(e.r#type as u32, bytes_at(e.data, e.len), e.flags, e.code));
                }
                if rc != ws_result_t::WS_OK {
                    recs.push(Rec::Deferred(rc as u32));
                }
                taken += got;
                if got == 0 {
                    break;
                }
            }
        } else {
            while taken < want {
                // Garbage in every byte: the call must overwrite the whole
                // struct (unused fields zeroed), whichever path takes the event.
                let mut slot = std::mem::MaybeUninit::<ws_event_t>::uninit();
                // SAFETY: writes bytes into the slot's own storage.
                unsafe { slot.as_mut_ptr().cast::<u8>().write_bytes(0xa5, std::mem::size_of::<ws_event_t>()) };
                let rc = ws_conn_poll_event(c, slot.as_mut_ptr());
                // SAFETY: ws_conn_poll_event wrote every field (checked below).
                let e = unsafe { slot.assume_init() };
                check_unused_fields(&e);
                if e.r#type == ws_event_type_t::WS_EVENT_NONE {
                    assert_eq!(rc, ws_result_t::WS_OK);
                    break;
                }
                recs.push(Rec::Event(e.r#type as u32, bytes_at(e.data, e.len), e.flags, e.code));
                if rc != ws_result_t::WS_OK {
                    recs.push(Rec::Deferred(rc as u32));
                }
                taken += 1;
            }
        }
        if p.drain_output[i] || last {
            let (mut ptr, mut len) = (null(), 0);
            assert_eq!(ws_conn_output_peek(c, &mut ptr, &mut len), ws_result_t::WS_OK);
            let out = bytes_at(ptr, len);
            assert_eq!(ws_conn_output_consume(c, len), ws_result_t::WS_OK);
            if !out.is_empty() {
                recs.push(Rec::Output(if sc.server { out } else { vec![out.len() as u8] }));
            }
        }
    }
    ws_conn_free(c);
    recs
}

/// The fields that ws_event_t documents as zero/NULL for a non-handshake
/// event (this scenario has no handshake) are so, and `data` is non-NULL
/// whenever `len` is not 0.
fn check_unused_fields(e: &ws_event_t) {
    use ws_event_type_t::*;
    assert!(matches!(
        e.r#type,
        WS_EVENT_NONE | WS_EVENT_TEXT | WS_EVENT_BINARY | WS_EVENT_PING | WS_EVENT_PONG | WS_EVENT_CLOSE
    ));
    if e.r#type != WS_EVENT_CLOSE {
        assert_eq!(e.code, 0);
    }
    if e.r#type == WS_EVENT_NONE {
        assert!(e.data.is_null() && e.len == 0 && e.flags == 0);
    } else if e.len != 0 {
        assert!(!e.data.is_null());
    }
    for s in [e.target, e.host, e.subprotocol, e.extensions] {
        assert!(s.ptr.is_null() && s.len == 0);
    }
    assert!(e.subprotocols.is_null() && e.subprotocols_len == 0);
    assert!(e.headers.is_null() && e.headers_len == 0);
}

/// The C records with error codes and statuses left out: what the Rust API
/// must match (its error kinds are numbered differently).
fn events_only(recs: &[Rec]) -> Vec<Rec> {
    recs.iter()
        .map(|r| match r {
            Rec::Receive(code) => Rec::Receive((*code != 0) as u32),
            Rec::Event(..) | Rec::Output(..) => r.clone(),
            Rec::Status(_, wants, buffered, _) => Rec::Status(0, *wants, *buffered, 0),
            Rec::Deferred(_) => Rec::Deferred(1),
        })
        .collect()
}

fn check(seed: u64) {
    let mut r = Rng(seed);
    let sc = Scenario::random(&mut r);
    let input = stream(&mut r, &sc);
    let p = plan(&mut r, input.len());
    let fast = drive_rust(&sc, &input, &p, true);
    let general = drive_rust(&sc, &input, &p, false);
    assert!(
        fast == general,
        "seed {seed:#x} {sc:?}: fast path differs from the general parser\nfast: {:?}\ngeneral: {:?}",
        short(&fast),
        short(&general)
    );
    let one = drive_c(&sc, &input, &p, false);
    let batch = drive_c(&sc, &input, &p, true);
    assert!(
        one == batch,
        "seed {seed:#x} {sc:?}: ws_conn_poll_events differs from ws_conn_poll_event\none: {:?}\nbatch: {:?}",
        short(&one),
        short(&batch)
    );
    assert!(
        events_only(&fast) == events_only(&one),
        "seed {seed:#x} {sc:?}: C ABI differs from the Rust API\nrust: {:?}\nc: {:?}",
        short(&events_only(&fast)),
        short(&events_only(&one))
    );
}

/// Records with payloads shortened, for failure messages.
fn short(recs: &[Rec]) -> Vec<String> {
    recs.iter()
        .map(|r| match r {
            Rec::Event(t, d, f, c) => format!("Event({t}, {} bytes {:?}, {f}, {c})", d.len(), &d[..d.len().min(16)]),
            Rec::Output(d) => format!("Output({} bytes)", d.len()),
            other => format!("{other:?}"),
        })
        .collect()
}

#[test]
fn random_streams_agree_across_paths_and_apis() {
    for i in 0..300u64 {
        check(0x9e37_79b9_7f4a_7c15 ^ (i.wrapping_mul(0x2545_f491_4f6c_dd1d) | 1));
    }
}
