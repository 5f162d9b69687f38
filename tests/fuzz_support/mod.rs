//! The fuzz targets' bodies and the invariants they check, shared by the
//! libFuzzer targets in `fuzz/fuzz_targets/` (which include this file with
//! `#[path]`) and by `tests/fuzz_regressions.rs`, which replays every corpus
//! seed and saved crash input through the same code on stable `cargo test`.
//!
//! Every target takes raw bytes; its first bytes are "knobs" (config, role,
//! chunk sizes), the rest is fed to the engine. The layouts are documented on
//! each target function and mirrored by `fuzz/make_seeds.py`.
//!
//! Invariants checked on every input (a failed one panics, which the fuzzer
//! reports as a crash):
//! - no panic inside the engine;
//! - `buffered_input()` stays within the configured limits, and data
//!   delivered per message never exceeds `max_message_size`;
//! - every state change is a legal (possibly multi-step) transition;
//! - every byte the engine writes parses back as well-formed output under an
//!   independent parser ([`Wire`]): HTTP head first where there is a
//!   handshake, then frames masked iff the sender is a client, control frames
//!   FIN and at most 125 bytes, valid close payloads, nothing after a close;
//! - `receive` after CLOSED or EOF fails with `ErrorKind::Closed`;
//! - a refused send (wrong state, bad argument) changes neither state nor output.
#![allow(dead_code)]

use wsproto::config::RngFn;
use wsproto::{
    CloseSource, Config, Connection, DataKind, DeflateConfig, DeflateParams, ErrorKind, Event, MessageMode, Role, State,
};

// ---- Input decoding ------------------------------------------------------

/// Reads knob bytes from the front of the input; 0 once it is used up.
pub struct Knobs<'a>(pub &'a [u8]);

impl<'a> Knobs<'a> {
    pub fn byte(&mut self) -> u8 {
        match self.0.split_first() {
            Some((&b, rest)) => {
                self.0 = rest;
                b
            }
            None => 0,
        }
    }
    pub fn rest(self) -> &'a [u8] {
        self.0
    }
}

const MESSAGE_SIZES: [u64; 8] = [16 << 20, 0, 1, 7, 125, 126, 1000, 65536];
const FRAME_SIZES: [u64; 4] = [16 << 20, 0, 125, 65536];
const HANDSHAKE_SIZES: [usize; 8] = [16 << 10, 0, 16, 100, 200, 512, 1024, 4096];
const HEADER_COUNTS: [usize; 4] = [64, 0, 3, 8];
/// Every fuzzed connection's memory budget: small enough that inputs reach it.
pub const MEMORY_BUDGET: u64 = 1 << 20;
/// What the close reporting a budget overrun may add on top of it.
const BUDGET_SLACK: usize = 1 << 10;

/// Limits the checker holds the connection to.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    pub max_message: u64,
    pub max_handshake: usize,
    pub stream: bool,
}

/// Builds a config from two knob bytes.
///
/// `a`: bit 0 stream mode, bit 1 auto-pong off, bit 2 auto close-reply off,
/// bits 3-5 max message size, bits 6-7 max frame size.
/// `b`: bits 0-2 max handshake size, bits 3-4 max header count, bit 5 an RNG
/// that fails (after `b >> 6` successful draws of 256 bytes).
pub fn config_from(a: u8, b: u8, seed: u64) -> (Config, Limits) {
    let stream = a & 1 != 0;
    let max_message = MESSAGE_SIZES[((a >> 3) & 7) as usize];
    let max_handshake = HANDSHAKE_SIZES[(b & 7) as usize];
    let config = Config {
        max_frame_size: FRAME_SIZES[(a >> 6) as usize],
        max_message_size: max_message,
        max_handshake_size: max_handshake,
        max_handshake_headers: HEADER_COUNTS[((b >> 3) & 3) as usize],
        auto_pong: a & 2 == 0,
        auto_close_reply: a & 4 == 0,
        message_mode: if stream { MessageMode::Stream } else { MessageMode::Whole },
        rng: Some(rng(seed, if b & 0x20 != 0 { Some((b >> 6) as usize) } else { None })),
        deflate: None,
        memory_budget: MEMORY_BUDGET,
        ..Config::default()
    };
    (config, Limits { max_message, max_handshake, stream })
}

/// A deterministic RNG (xorshift), so every input replays identically; with
/// `fail_after`, it fails after that many calls.
pub fn rng(seed: u64, fail_after: Option<usize>) -> RngFn {
    let mut s = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    let mut calls = 0usize;
    Box::new(move |buf: &mut [u8]| {
        if fail_after.is_some_and(|n| calls >= n) {
            return false;
        }
        calls += 1;
        for b in buf.iter_mut() {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            *b = (s >> 24) as u8;
        }
        true
    })
}

/// Negotiated permessage-deflate parameters from one knob byte: bit 0
/// server_no_context_takeover, bit 1 client_no_context_takeover, bits 2-4 and
/// 5-7 the server and client windows (9..=15).
pub fn params_from(b: u8) -> DeflateParams {
    DeflateParams {
        server_no_context_takeover: b & 1 != 0,
        client_no_context_takeover: b & 2 != 0,
        server_max_window_bits: 9 + ((b >> 2) & 7) % 7,
        client_max_window_bits: 9 + (b >> 5) % 7,
    }
}

/// A deflate config from one knob byte: level, memory level, threshold.
pub fn deflate_config_from(b: u8, offers: Vec<DeflateParams>) -> DeflateConfig {
    DeflateConfig {
        offers,
        max_window_bits: 15,
        server_no_context_takeover: b & 0x40 != 0,
        client_no_context_takeover: b & 0x80 != 0,
        level: b % 10,
        mem_level: 1 + (b / 10) % 9,
        threshold: [0, 1, 16, 200][((b >> 4) & 3) as usize],
        warm_up: b % 7 == 0,
    }
}

// ---- Owned events ---------------------------------------------------------

/// An event with owned data, for comparison and later checks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Owned {
    Request { target: String, host: String, key: String, subprotocols: Vec<String>, extensions: Vec<String> },
    Accept { subprotocol: Option<String>, extensions: String },
    Reject { status: u16, has_body: bool },
    RejectData { data: Vec<u8>, finished: bool },
    Data { text: bool, data: Vec<u8>, frame_finished: bool, message_finished: bool },
    Ping(Vec<u8>),
    Pong(Vec<u8>),
    Close { code: u16, reason: String, source: CloseSource },
}

impl Owned {
    pub fn of(e: &Event<'_>) -> Owned {
        match *e {
            Event::Request(r) => Owned::Request {
                target: r.target().into(),
                host: r.host().into(),
                key: r.key().into(),
                subprotocols: r.subprotocols().map(String::from).collect(),
                extensions: r.extensions().map(String::from).collect(),
            },
            Event::Accept(a) => {
                Owned::Accept { subprotocol: a.subprotocol().map(String::from), extensions: a.extensions().into() }
            }
            Event::Reject(r) => Owned::Reject { status: r.status(), has_body: r.has_body() },
            Event::RejectData { data, body_finished } => {
                Owned::RejectData { data: data.to_vec(), finished: body_finished }
            }
            Event::Data { kind, data, frame_finished, message_finished } => {
                Owned::Data { text: kind == DataKind::Text, data: data.to_vec(), frame_finished, message_finished }
            }
            Event::Ping(p) => Owned::Ping(p.to_vec()),
            Event::Pong(p) => Owned::Pong(p.to_vec()),
            Event::Close { code, reason, source } => Owned::Close { code, reason: reason.into(), source },
        }
    }
}

// ---- State transitions ------------------------------------------------------

/// One-step transitions the engine may make.
fn step(from: State, to: State) -> bool {
    use State::*;
    matches!(
        (from, to),
        (Connecting, Open | Closed | Rejecting)
            | (Open, LocalClosing | RemoteClosing | Closed)
            | (LocalClosing, Closed)
            | (RemoteClosing, Closed)
            | (Rejecting, Closed)
    )
}

/// One call may make several steps (a 101 followed by a close frame goes
/// CONNECTING → OPEN → REMOTE_CLOSING): `to` must be reachable from `from`.
pub fn reachable(from: State, to: State) -> bool {
    use State::*;
    if from == to {
        return true;
    }
    let all = [Connecting, Open, RemoteClosing, LocalClosing, Closed, Rejecting];
    let mut seen = vec![from];
    let mut i = 0;
    while i < seen.len() {
        let s = seen[i];
        for &t in &all {
            if step(s, t) && !seen.contains(&t) {
                if t == to {
                    return true;
                }
                seen.push(t);
            }
        }
        i += 1;
    }
    false
}

// ---- Independent output parser ---------------------------------------------

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum WirePhase {
    /// An HTTP head (request or response) comes first.
    Head,
    Frames,
    /// A rejection body: opaque bytes.
    Raw,
}

/// A frame as written: (opcode, fin, rsv1, payload unmasked).
pub type WireFrame = (u8, bool, bool, Vec<u8>);

/// Parses what one side writes, written from RFC 6455 §5 without the
/// engine's code, and asserts that it is well formed.
pub struct Wire {
    /// The sender is a client: its frames must be masked.
    client: bool,
    /// permessage-deflate is in force: RSV1 allowed on a message's first frame.
    pub deflate: bool,
    phase: WirePhase,
    buf: Vec<u8>,
    /// Data message in progress: (text, compressed, payload so far if text and uncompressed).
    message: Option<(bool, bool, Vec<u8>)>,
    close_seen: bool,
    /// The HTTP head, once written.
    pub head: Vec<u8>,
    /// Frames seen, as (opcode, fin, rsv1, payload unmasked).
    pub frames: Vec<WireFrame>,
}

impl Wire {
    pub fn new(client: bool, handshake: bool, deflate: bool) -> Wire {
        Wire {
            client,
            deflate,
            phase: if handshake { WirePhase::Head } else { WirePhase::Frames },
            buf: Vec::new(),
            message: None,
            close_seen: false,
            head: Vec::new(),
            frames: Vec::new(),
        }
    }

    /// Feeds output; asserts that it ends on a frame (or head) boundary,
    /// since the engine writes whole frames per call.
    pub fn feed(&mut self, data: &[u8]) {
        self.buf.extend_from_slice(data);
        loop {
            match self.phase {
                WirePhase::Raw => {
                    self.buf.clear();
                    return;
                }
                WirePhase::Head => {
                    let Some(end) = self.buf.windows(4).position(|w| w == b"\r\n\r\n") else { break };
                    let head: Vec<u8> = self.buf.drain(..end + 4).collect();
                    self.phase = check_head(&head, self.client);
                    self.head = head;
                }
                WirePhase::Frames => {
                    if !self.next_frame() {
                        break;
                    }
                }
            }
        }
        assert!(
            self.buf.is_empty(),
            "output does not end on a frame/head boundary ({:?}): {:02x?}",
            self.phase,
            &self.buf[..self.buf.len().min(32)]
        );
    }

    /// Parses one whole frame from the buffer; false if incomplete.
    fn next_frame(&mut self) -> bool {
        let b = &self.buf;
        if b.len() < 2 {
            return false;
        }
        let (b0, b1) = (b[0], b[1]);
        let masked = b1 & 0x80 != 0;
        let (len, mut pos) = match b1 & 0x7f {
            126 => {
                if b.len() < 4 {
                    return false;
                }
                let n = u16::from_be_bytes([b[2], b[3]]) as u64;
                assert!(n >= 126, "16-bit length {n} is not minimal");
                (n, 4)
            }
            127 => {
                if b.len() < 10 {
                    return false;
                }
                let n = u64::from_be_bytes(b[2..10].try_into().expect("8 bytes"));
                assert!(n >> 63 == 0, "64-bit length with its top bit set");
                assert!(n > 0xffff, "64-bit length {n} is not minimal");
                (n, 10)
            }
            n => (n as u64, 2),
        };
        let key = if masked {
            if b.len() < pos + 4 {
                return false;
            }
            pos += 4;
            Some([b[pos - 4], b[pos - 3], b[pos - 2], b[pos - 1]])
        } else {
            None
        };
        if ((b.len() - pos) as u64) < len {
            return false;
        }
        let len = len as usize;
        let mut payload = b[pos..pos + len].to_vec();
        if let Some(k) = key {
            for (i, x) in payload.iter_mut().enumerate() {
                *x ^= k[i % 4];
            }
        }
        self.buf.drain(..pos + len);
        self.check_frame(b0, masked, payload);
        true
    }

    fn check_frame(&mut self, b0: u8, masked: bool, payload: Vec<u8>) {
        let fin = b0 & 0x80 != 0;
        let rsv1 = b0 & 0x40 != 0;
        let opcode = b0 & 0x0f;
        assert!(!self.close_seen, "frame (opcode {opcode:#x}) written after a close frame");
        assert_eq!(b0 & 0x30, 0, "RSV2/RSV3 set");
        assert_eq!(masked, self.client, "masked must equal 'sender is a client'");
        match opcode {
            0x8..=0xa => {
                assert!(fin, "fragmented control frame");
                assert!(!rsv1, "RSV1 on a control frame");
                assert!(payload.len() <= 125, "control payload of {} bytes", payload.len());
                if opcode == 0x8 {
                    check_close_payload(&payload);
                    self.close_seen = true;
                }
                self.frames.push((opcode, fin, rsv1, payload));
            }
            0x0..=0x2 => {
                let first = opcode != 0;
                match (&mut self.message, first) {
                    (Some(_), true) => panic!("new data frame while a fragmented message is in progress"),
                    (None, false) => panic!("continuation frame without a message"),
                    _ => {}
                }
                if rsv1 {
                    assert!(self.deflate, "RSV1 without permessage-deflate");
                    assert!(first, "RSV1 on a continuation frame");
                }
                if first {
                    self.message = Some((opcode == 1, rsv1, Vec::new()));
                }
                let m = self.message.as_mut().expect("set above");
                if m.0 && !m.1 {
                    m.2.extend_from_slice(&payload);
                }
                if fin {
                    let (text, compressed, bytes) = self.message.take().expect("in progress");
                    if text && !compressed {
                        assert!(std::str::from_utf8(&bytes).is_ok(), "text message written is not UTF-8");
                    }
                }
                self.frames.push((opcode, fin, rsv1, payload));
            }
            op => panic!("reserved opcode {op:#x} written"),
        }
    }

    /// True once a close frame has been written.
    pub fn close_written(&self) -> bool {
        self.close_seen
    }
}

/// Checks an HTTP head the engine wrote; returns what follows it.
fn check_head(head: &[u8], client: bool) -> WirePhase {
    let text = std::str::from_utf8(head).expect("HTTP head is not UTF-8");
    for line in text[..text.len() - 4].split("\r\n") {
        assert!(!line.contains('\r') && !line.contains('\n'), "bare CR/LF in the head: {line:?}");
    }
    let first = text.split("\r\n").next().expect("a first line");
    if client {
        assert!(first.starts_with("GET ") && first.ends_with(" HTTP/1.1"), "bad request line {first:?}");
        assert!(text.contains("\r\nSec-WebSocket-Key: "), "request without a key");
        WirePhase::Frames
    } else {
        let status = first.strip_prefix("HTTP/1.1 ").expect("status line starts with HTTP/1.1");
        let code: u16 = status.get(..3).and_then(|s| s.parse().ok()).expect("3-digit status");
        assert!((100..=599).contains(&code), "status {code}");
        if code == 101 {
            assert!(text.contains("\r\nSec-WebSocket-Accept: "), "101 without Sec-WebSocket-Accept");
            WirePhase::Frames
        } else {
            WirePhase::Raw
        }
    }
}

fn check_close_payload(p: &[u8]) {
    assert_ne!(p.len(), 1, "close payload of 1 byte");
    if p.len() >= 2 {
        let code = u16::from_be_bytes([p[0], p[1]]);
        assert!(
            matches!(code, 1000..=1003 | 1007..=1014 | 3000..=4999),
            "close frame with code {code}, which may not be sent"
        );
        assert!(std::str::from_utf8(&p[2..]).is_ok(), "close reason is not UTF-8");
    }
}

/// The Sec-WebSocket-Key value in a request head.
pub fn key_in_head(head: &[u8]) -> Option<String> {
    let text = std::str::from_utf8(head).ok()?;
    let line = text.split("\r\n").find_map(|l| l.strip_prefix("Sec-WebSocket-Key: "))?;
    Some(line.trim().to_string())
}

// ---- The checked connection -------------------------------------------------

/// A header may be half read on top of a full message.
const SLACK: u64 = 14;

/// A connection wrapped so that every call is followed by the invariant checks.
pub struct Checked {
    pub conn: Connection,
    pub limits: Limits,
    pub state: State,
    pub wire: Wire,
    /// Everything the engine wrote, in order.
    pub out_log: Vec<u8>,
    pub events: Vec<Owned>,
    /// Data delivered so far in the current (streamed) message.
    inbound: u64,
    closes: Vec<CloseSource>,
    rejected: Option<bool>,
    eof: bool,
    /// The connection has been past CONNECTING (not just CLOSED from it).
    opened: bool,
    /// Largest input handed over in one call made in CONNECTING.
    handshake_fed: usize,
}

impl Checked {
    /// Wraps a connection; `handshake` when its output starts with an HTTP head.
    pub fn new(conn: Connection, limits: Limits, handshake: bool) -> Checked {
        let deflate = conn.negotiated_deflate().is_some();
        let client = conn.role() == Role::Client;
        let mut c = Checked {
            state: if handshake { State::Connecting } else { State::Open },
            conn,
            limits,
            wire: Wire::new(client, handshake, deflate),
            out_log: Vec::new(),
            events: Vec::new(),
            inbound: 0,
            closes: Vec::new(),
            rejected: None,
            eof: false,
            opened: !handshake,
            handshake_fed: 0,
        };
        c.after(0);
        c
    }

    /// Checks state, buffered input and output after a call that was handed
    /// `fed` input bytes.
    pub fn after(&mut self, fed: usize) {
        let s = self.conn.state();
        assert!(reachable(self.state, s), "illegal transition {:?} -> {s:?}", self.state);
        if self.state == State::Connecting {
            self.handshake_fed = self.handshake_fed.max(fed);
        }
        self.state = s;
        let buffered = self.conn.buffered_input() as u64;
        if s != State::Connecting && s != State::Closed {
            self.opened = true;
        }
        // A head (plus whatever arrived with it) while connecting; a partial
        // head may stay buffered when the connection closes before opening.
        let bound = if !self.opened {
            self.limits.max_handshake as u64 + self.handshake_fed as u64
        } else {
            // Plus input held back unparsed while parsing paused, which is
            // at most what this call was handed.
            self.limits.max_message + SLACK + fed as u64
        };
        assert!(buffered <= bound, "buffered_input {buffered} > {bound} in state {s:?}");
        let used = self.conn.memory_used();
        assert!(used <= MEMORY_BUDGET as usize + BUDGET_SLACK, "memory_used {used} over the budget in state {s:?}");
        if self.conn.negotiated_deflate().is_some() {
            self.wire.deflate = true;
        }
        let out = self.conn.output().to_vec();
        self.wire.feed(&out);
        self.out_log.extend_from_slice(&out);
        self.conn.consume_output(out.len());
        assert!(self.conn.output().is_empty(), "consume_output left bytes");
    }

    /// `receive`, with its contract checked. Returns the error kind, if any.
    pub fn receive(&mut self, data: &[u8]) -> Option<ErrorKind> {
        let before = self.state;
        let r = self.conn.receive(data);
        if before == State::Closed || self.eof {
            assert_eq!(r.as_ref().err().map(|e| e.kind), Some(ErrorKind::Closed), "receive after CLOSED/EOF");
        }
        self.after(data.len());
        self.drain();
        // Taking a Close event changes the state and may queue a close frame.
        self.after(0);
        r.err().map(|e| e.kind)
    }

    pub fn receive_eof(&mut self) {
        let r = self.conn.receive_eof();
        self.eof = true;
        self.after(0);
        self.drain();
        self.after(0);
        assert_eq!(self.state, State::Closed, "state after EOF ({r:?})");
        let again = self.conn.receive(b"x");
        assert_eq!(again.err().map(|e| e.kind), Some(ErrorKind::Closed), "receive after EOF");
        self.after(0);
    }

    /// Takes every queued event, checking each.
    pub fn drain(&mut self) {
        while let Some(e) = self.conn.next_event() {
            let o = Owned::of(&e);
            self.check_event(&o);
            self.events.push(o);
        }
        assert_eq!(self.conn.pending_events(), 0);
    }

    fn check_event(&mut self, o: &Owned) {
        if let Some(&last) = self.closes.last() {
            let eof_after_peer = last == CloseSource::Peer && self.closes.len() == 1;
            assert!(
                matches!(o, Owned::Close { source: CloseSource::Eof, .. }) && eof_after_peer,
                "event after a Close event: {o:?}"
            );
        }
        match o {
            Owned::Data { text, data, frame_finished, message_finished } => {
                assert!(self.rejected.is_none(), "data event on a rejected connection");
                assert!(!message_finished || *frame_finished, "message finished inside a frame");
                if !self.limits.stream {
                    assert!(frame_finished & message_finished, "whole mode delivered a partial message");
                }
                self.inbound += data.len() as u64;
                assert!(
                    self.inbound <= self.limits.max_message,
                    "delivered {} bytes of a message, limit {}",
                    self.inbound,
                    self.limits.max_message
                );
                if *message_finished {
                    self.inbound = 0;
                }
                if *text {
                    assert!(std::str::from_utf8(data).is_ok(), "text data is not whole UTF-8: {data:02x?}");
                }
            }
            Owned::Ping(p) | Owned::Pong(p) => assert!(p.len() <= 125),
            Owned::Close { code, reason, source } => {
                match source {
                    CloseSource::Peer => {
                        assert!(
                            *code == 1005 || matches!(code, 1000..=1003 | 1007..=1014 | 3000..=4999),
                            "peer close with code {code} accepted"
                        );
                        assert!(reason.len() <= 123);
                    }
                    CloseSource::Eof => assert_eq!(*code, 1006),
                    CloseSource::Violation => {
                        assert!(matches!(code, 1002 | 1007 | 1009), "violation close code {code}")
                    }
                }
                self.closes.push(*source);
            }
            Owned::Reject { has_body, .. } => {
                assert!(self.rejected.is_none(), "second Reject");
                self.rejected = Some(*has_body);
            }
            Owned::RejectData { finished, .. } => {
                assert_eq!(self.rejected, Some(true), "RejectData without a Reject that has a body");
                if *finished {
                    self.rejected = Some(false);
                }
            }
            Owned::Request { .. } | Owned::Accept { .. } => {
                assert!(
                    !self.events.iter().any(|e| matches!(e, Owned::Request { .. } | Owned::Accept { .. })),
                    "second handshake event"
                );
            }
        }
    }

    /// Runs a send-side call: on error, neither state nor output may change.
    pub fn send(&mut self, f: impl FnOnce(&mut Connection) -> wsproto::Result<()>) -> Option<ErrorKind> {
        let state = self.conn.state();
        let pending = self.conn.output().len();
        let r = f(&mut self.conn);
        if let Err(e) = &r {
            if e.kind != ErrorKind::Rng {
                assert_eq!(self.conn.state(), state, "a refused call changed the state ({e:?})");
                assert_eq!(self.conn.output().len(), pending, "a refused call wrote output ({e:?})");
            }
        }
        self.after(0);
        r.err().map(|e| e.kind)
    }

    pub fn saw_request(&self) -> bool {
        self.events.iter().any(|e| matches!(e, Owned::Request { .. }))
    }
}

// ---- Targets ----------------------------------------------------------------

/// frame_parser: `[cfg_a, cfg_b, flags, split, bytes...]`. Frames-only server
/// and client are each fed `bytes`: with flags bit 0, the first `split`
/// bytes as `frames_only`'s trailing input, the rest via `receive` (else in
/// two `receive` calls split there). Then flags bits 1-4 try sends (ping,
/// text, close, binary fragment), and input ends.
pub fn frame_parser(data: &[u8]) {
    let mut k = Knobs(data);
    let (a, b, flags, split) = (k.byte(), k.byte(), k.byte(), k.byte());
    let bytes = k.rest();
    let split = (split as usize).min(bytes.len());
    for role in [Role::Server, Role::Client] {
        let (config, limits) = config_from(a, b, split as u64);
        let mut c = if flags & 1 != 0 {
            let conn = Connection::frames_only(role, config, None, &bytes[..split]);
            let mut c = Checked::new(conn, limits, false);
            c.drain();
            c
        } else {
            let mut c = Checked::new(Connection::frames_only(role, config, None, &[]), limits, false);
            c.receive(&bytes[..split]);
            c
        };
        c.receive(&bytes[split..]);
        try_sends(&mut c, flags >> 1);
        c.receive_eof();
        try_sends(&mut c, flags >> 1);
    }
}

fn try_sends(c: &mut Checked, bits: u8) {
    if bits & 1 != 0 {
        c.send(|c| c.send_ping(b"ping"));
        c.send(|c| c.send_ping(&[0u8; 126]));
    }
    if bits & 2 != 0 {
        c.send(|c| c.send_text("h\u{e9}llo"));
        c.send(|c| c.send_data(DataKind::Text, b"\xff", true, true));
    }
    if bits & 4 != 0 {
        c.send(|c| c.send_close(Some(1005), "reason"));
        c.send(|c| c.send_close(Some(1000), "bye"));
    }
    if bits & 8 != 0 {
        c.send(|c| c.send_data(DataKind::Binary, b"frag", false, true));
        c.send(|c| c.send_data(DataKind::Text, b"other", true, true));
    }
}

/// handshake_server: `[cfg_a, cfg_b, flags, split, bytes...]`. A server is fed
/// `bytes` in two pieces split at `split`; once a Request arrives it accepts
/// (flags bit 0 clear; bit 1: with the first offered subprotocol) or rejects
/// (bit 0 set; bit 2: with a body). After a Handshake error it rejects with
/// the hinted status. Flags bit 3: permessage-deflate configured.
pub fn handshake_server(data: &[u8]) {
    let mut k = Knobs(data);
    let (a, b, flags, split) = (k.byte(), k.byte(), k.byte(), k.byte());
    let bytes = k.rest();
    let split = (split as usize * 4).min(bytes.len());
    let (mut config, limits) = config_from(a, b, 7);
    if flags & 8 != 0 {
        config.deflate = Some(deflate_config_from(flags, vec![]));
    }
    let mut c = Checked::new(Connection::server(config), limits, true);
    let mut answered = false;
    for piece in [&bytes[..split], &bytes[split..]] {
        let err = c.receive(piece);
        if answered {
            continue;
        }
        if err == Some(ErrorKind::Handshake) {
            let hint = c.conn.handshake_status_hint();
            assert!(matches!(hint, 400 | 426 | 431), "status hint {hint}");
            server_reject(&mut c, hint, flags & 4 != 0);
            answered = true;
        } else if c.saw_request() {
            if flags & 1 != 0 {
                server_reject(&mut c, 403, flags & 4 != 0);
            } else {
                let proto = c.events.iter().find_map(|e| match e {
                    Owned::Request { subprotocols, .. } if flags & 2 != 0 => subprotocols.first().cloned(),
                    _ => None,
                });
                let r = c.send(|conn| conn.accept(proto.as_deref(), &[("X-Fuzz", "1")]));
                assert!(matches!(r, None | Some(ErrorKind::Rng)), "accept failed: {r:?}");
                c.drain();
            }
            answered = true;
        }
    }
    if c.state == State::Open {
        c.send(|c| c.send_text("x"));
    }
    c.receive_eof();
}

fn server_reject(c: &mut Checked, status: u16, body: bool) {
    let r = c.send(|conn| conn.reject(status, &[("Content-Type", "text/plain")], body));
    assert_eq!(r, None, "reject failed");
    if body {
        assert_eq!(c.state, State::Rejecting);
        c.send(|conn| conn.reject_data(b"no", false));
        c.send(|conn| conn.reject_data(b"pe", true));
    }
    assert_eq!(c.state, State::Closed);
}

/// handshake_client: `[cfg_a, cfg_b, flags, split, bytes...]`. A client sends
/// its request (flags bit 0: offering subprotocols "chat", "superchat"; bit
/// 1: with permessage-deflate configured), then is fed the response. With
/// bit 2 a valid 101 head for the key it sent comes first (bit 3: it names
/// subprotocol "chat"; bit 4: the head is left open so `bytes` can add
/// header lines), so frames get exercised. The response is fed in two pieces
/// split at `split * 4` bytes.
pub fn handshake_client(data: &[u8]) {
    let mut k = Knobs(data);
    let (a, b, flags, split) = (k.byte(), k.byte(), k.byte(), k.byte());
    let bytes = k.rest();
    let (mut config, limits) = config_from(a, b, 11);
    if flags & 2 != 0 {
        let offers = vec![DeflateParams::default(), params_from(split)];
        config.deflate = Some(deflate_config_from(b, offers));
    }
    let mut c = Checked::new(Connection::client(config), limits, true);
    assert_eq!(c.receive(b"early"), Some(ErrorKind::WrongState), "receive before send_request");
    let protos: &[&str] = if flags & 1 != 0 { &["chat", "superchat"] } else { &[] };
    if c.send(|conn| conn.send_request("example.com", "/chat?x=1", protos, &[("Origin", "http://a.example")])).is_some()
    {
        return;
    }
    let key = key_in_head(&c.wire.head).expect("the request carries a key");
    let mut response = Vec::new();
    if flags & 4 != 0 {
        let accept = wsproto::handshake::accept_token(key.as_bytes());
        response.extend_from_slice(
            b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ",
        );
        response.extend_from_slice(&accept);
        response.extend_from_slice(b"\r\n");
        if flags & 8 != 0 {
            response.extend_from_slice(b"Sec-WebSocket-Protocol: chat\r\n");
        }
        if flags & 16 == 0 {
            response.extend_from_slice(b"\r\n");
        }
    }
    response.extend_from_slice(bytes);
    let split = (split as usize * 4).min(response.len());
    c.receive(&response[..split]);
    c.receive(&response[split..]);
    if c.state == State::Open {
        c.send(|c| c.send_binary(b"hello"));
    }
    c.receive_eof();
}

/// deflate: `[cfg_a, params, codec, flags, bytes...]`. (1) A frames-only
/// connection (role: flags bit 0) with the negotiated `params` is fed
/// `bytes`. (2) Round trip: the same role sends `bytes` as messages
/// (count and fragments from flags bits 1-4; bit 5 text when UTF-8; bit 6
/// compression not allowed for odd messages) and a connection of the other
/// role must receive identical data.
pub fn deflate(data: &[u8]) {
    let mut k = Knobs(data);
    let (a, pb, codec, flags) = (k.byte(), k.byte(), k.byte(), k.byte());
    let bytes = k.rest();
    let params = params_from(pb);
    let role = if flags & 1 != 0 { Role::Client } else { Role::Server };
    let peer_role = if role == Role::Client { Role::Server } else { Role::Client };
    let make = |role: Role, a: u8, seed: u64| {
        let (mut config, limits) = config_from(a, 0, seed);
        config.deflate = Some(deflate_config_from(codec, vec![params]));
        (Connection::frames_only(role, config, Some(params), &[]), limits)
    };

    // (1) Arbitrary input to a compressing connection.
    let (conn, limits) = make(role, a, 1);
    let mut c = Checked::new(conn, limits, false);
    c.receive(bytes);
    c.receive_eof();

    // (2) Round trip, with default (large) limits on the receiver.
    let (conn, limits) = make(role, 0, 2);
    let mut tx = Checked::new(conn, limits, false);
    let (conn, limits) = make(peer_role, a & 1, 3);
    let mut rx = Checked::new(conn, limits, false);
    let messages = 1 + ((flags >> 1) & 3) as usize;
    let fragments = 1 + ((flags >> 3) & 3) as usize;
    let per = bytes.len().div_ceil(messages).max(1);
    let mut sent: Vec<(bool, Vec<u8>)> = Vec::new();
    for (i, msg) in bytes.chunks(per).enumerate() {
        let text = flags & 0x20 != 0 && std::str::from_utf8(msg).is_ok();
        let kind = if text { DataKind::Text } else { DataKind::Binary };
        let allow = flags & 0x40 == 0 || i % 2 == 0;
        let step = msg.len().div_ceil(fragments).max(1);
        let pieces: Vec<&[u8]> = msg.chunks(step).collect();
        for (j, piece) in pieces.iter().enumerate() {
            // Fragments may split a code point: the engine validates text
            // incrementally across a message's fragments, so all must pass.
            let r = tx.send(|conn| conn.send_data(kind, piece, j + 1 == pieces.len(), allow));
            assert_eq!(r, None, "send_data failed");
        }
        sent.push((text, msg.to_vec()));
        let wire = tx.out_log.split_off(0);
        rx.receive(&wire);
    }
    let mut got: Vec<(bool, Vec<u8>)> = Vec::new();
    let mut cur: Option<(bool, Vec<u8>)> = None;
    for e in &rx.events {
        match e {
            Owned::Data { text, data, message_finished, .. } => {
                let m = cur.get_or_insert_with(|| (*text, Vec::new()));
                assert_eq!(m.0, *text, "kind changed inside a message");
                m.1.extend_from_slice(data);
                if *message_finished {
                    got.push(cur.take().expect("set"));
                }
            }
            other => panic!("round trip produced {other:?}"),
        }
    }
    assert!(cur.is_none(), "round trip left a message unfinished");
    assert_eq!(got, sent, "round trip changed the data");
}

/// connection_chunked: `[cfg_a, cfg_b, mode, c0, c1, c2, c3, bytes...]`.
/// mode & 3: frames-only server, frames-only client, handshake server
/// (accepts the first Request), handshake client (a valid 101 is put first);
/// mode bit 2: frames-only with permessage-deflate (params from `c0`). `bytes` is
/// fed once whole and once in chunks of sizes cycling through c0..c3 (0 → 1
/// byte); events, output, final state must agree (streamed chunks merged).
pub fn connection_chunked(data: &[u8]) {
    let mut k = Knobs(data);
    let (a, b, mode) = (k.byte(), k.byte(), k.byte());
    let sizes = [k.byte(), k.byte(), k.byte(), k.byte()];
    let bytes = k.rest();
    let run = |chunked: bool| -> (Vec<Merged>, (Vec<u8>, Vec<WireFrame>), State) {
        let (mut config, limits) = config_from(a, b & 0x1f, 5);
        let deflate = mode & 4 != 0 && mode & 2 == 0;
        if deflate {
            config.deflate = Some(deflate_config_from(sizes[1], vec![params_from(sizes[0])]));
        }
        let mut c = match mode & 3 {
            0 | 1 => {
                let role = if mode & 3 == 0 { Role::Server } else { Role::Client };
                let params = deflate.then(|| params_from(sizes[0]));
                Checked::new(Connection::frames_only(role, config, params, &[]), limits, false)
            }
            2 => Checked::new(Connection::server(config), limits, true),
            _ => Checked::new(Connection::client(config), limits, true),
        };
        let mut input = Vec::new();
        if mode & 3 == 3 && c.send(|conn| conn.send_request("h", "/", &[], &[])).is_none() {
            let key = key_in_head(&c.wire.head).expect("key");
            input.extend_from_slice(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n");
            input.extend_from_slice(b"Connection: Upgrade\r\nSec-WebSocket-Accept: ");
            input.extend_from_slice(&wsproto::handshake::accept_token(key.as_bytes()));
            input.extend_from_slice(b"\r\n\r\n");
        }
        input.extend_from_slice(bytes);
        let mut pos = 0;
        let mut i = 0;
        let mut accepted = false;
        while pos < input.len() {
            let n = if chunked { (sizes[i % 4] as usize).max(1) } else { input.len() };
            let end = (pos + n).min(input.len());
            let err = c.receive(&input[pos..end]);
            pos = end;
            i += 1;
            if mode & 3 == 2 && !accepted && c.saw_request() {
                accepted = true;
                c.send(|conn| conn.accept(None, &[]));
            }
            if matches!(err, Some(ErrorKind::Handshake | ErrorKind::Closed)) {
                break;
            }
        }
        c.receive_eof();
        // Which violation a message is failed for may depend on chunking when
        // it is compressed (corrupt data, too big, or bad UTF-8 in what was
        // inflated so far, whichever shows first), and the reason text
        // follows the violation: compare codes (without deflate) only.
        let events = merge_stream(&c.events)
            .into_iter()
            .map(|e| match e {
                Merged::Other(Owned::Close { code, source: CloseSource::Violation, .. }) => {
                    Merged::Other(Owned::Close {
                        code: if deflate { 0 } else { code },
                        reason: String::new(),
                        source: CloseSource::Violation,
                    })
                }
                e => e,
            })
            .collect::<Vec<_>>();
        let violated =
            events.iter().any(|e| matches!(e, Merged::Other(Owned::Close { source: CloseSource::Violation, .. })));
        let mut frames = c.wire.frames.clone();
        if let Some(last) = frames.last_mut().filter(|f| f.0 == 0x8 && violated) {
            last.3.truncate(if deflate { 0 } else { 2 });
        }
        (events, (c.wire.head.clone(), frames), c.state)
    };
    let whole = run(false);
    let chunked = run(true);
    assert_eq!(whole.2, chunked.2, "final state differs when chunked");
    assert_eq!(whole.1, chunked.1, "output differs when chunked");
    assert_eq!(whole.0.len(), chunked.0.len(), "event count differs: {:?} vs {:?}", whole.0, chunked.0);
    for (x, y) in whole.0.iter().zip(&chunked.0) {
        match (x, y) {
            // A message cut short by a violation: chunked feeding may have
            // handed out more of its valid prefix first.
            (Merged::Partial(p), Merged::Partial(q)) => {
                let n = p.1.len().min(q.1.len());
                let same_kind = p.0 == q.0 || n == 0;
                assert!(same_kind && p.1[..n] == q.1[..n], "partial messages disagree: {p:?} vs {q:?}")
            }
            _ => assert_eq!(x, y, "events differ when chunked"),
        }
    }
}

/// Events with streamed chunks merged into whole (or partial) messages.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Merged {
    Message(bool, Vec<u8>),
    /// Data of a message that never finished.
    Partial((bool, Vec<u8>)),
    Other(Owned),
}

pub fn merge_stream(events: &[Owned]) -> Vec<Merged> {
    let mut out = Vec::new();
    let mut cur: Option<(bool, Vec<u8>)> = None;
    for e in events {
        match e {
            Owned::Data { text, data, message_finished, .. } => {
                let m = cur.get_or_insert_with(|| (*text, Vec::new()));
                m.1.extend_from_slice(data);
                if *message_finished {
                    let (t, d) = cur.take().expect("set");
                    out.push(Merged::Message(t, d));
                }
            }
            other => {
                if matches!(other, Owned::Close { .. }) {
                    out.push(Merged::Partial(cur.take().unwrap_or((false, Vec::new()))));
                }
                out.push(Merged::Other(other.clone()));
            }
        }
    }
    if let Some(m) = cur {
        out.push(Merged::Partial(m));
    }
    out
}
