//! Helpers shared by the integration tests: an independent frame builder and
//! parser (written from RFC 6455 §5.2, not from the engine's code) and owned
//! copies of events for comparison.
#![allow(dead_code)]

use wsproto::{CloseSource, Connection, DataKind, Event};

pub const KEY: [u8; 4] = [0x37, 0xfa, 0x21, 0x3d];

/// Builds one frame. `first` is the whole first byte (FIN, RSV, opcode).
pub fn raw_frame(first: u8, payload: &[u8], mask: Option<[u8; 4]>) -> Vec<u8> {
    let mut f = vec![first];
    let m = if mask.is_some() { 0x80 } else { 0 };
    let n = payload.len();
    if n < 126 {
        f.push(m | n as u8);
    } else if n < 65536 {
        f.push(m | 126);
        f.extend_from_slice(&(n as u16).to_be_bytes());
    } else {
        f.push(m | 127);
        f.extend_from_slice(&(n as u64).to_be_bytes());
    }
    match mask {
        Some(k) => {
            f.extend_from_slice(&k);
            f.extend(payload.iter().enumerate().map(|(i, b)| b ^ k[i % 4]));
        }
        None => f.extend_from_slice(payload),
    }
    f
}

/// A masked frame from a client: `fin` + opcode.
pub fn client_frame(fin: bool, opcode: u8, payload: &[u8]) -> Vec<u8> {
    raw_frame(((fin as u8) << 7) | opcode, payload, Some(KEY))
}

/// An unmasked frame from a server.
pub fn server_frame(fin: bool, opcode: u8, payload: &[u8]) -> Vec<u8> {
    raw_frame(((fin as u8) << 7) | opcode, payload, None)
}

pub fn close_payload(code: u16, reason: &str) -> Vec<u8> {
    let mut p = code.to_be_bytes().to_vec();
    p.extend_from_slice(reason.as_bytes());
    p
}

/// A frame as seen on the wire, unmasked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WireFrame {
    pub fin: bool,
    pub rsv: u8,
    pub opcode: u8,
    pub masked: bool,
    pub payload: Vec<u8>,
}

/// Parses a byte stream into frames; panics on a truncated stream.
pub fn parse_frames(mut b: &[u8]) -> Vec<WireFrame> {
    let mut out = Vec::new();
    while !b.is_empty() {
        let fin = b[0] & 0x80 != 0;
        let rsv = (b[0] >> 4) & 7;
        let opcode = b[0] & 0xf;
        let masked = b[1] & 0x80 != 0;
        let mut pos = 2;
        let len = match b[1] & 0x7f {
            126 => {
                pos = 4;
                u16::from_be_bytes([b[2], b[3]]) as usize
            }
            127 => {
                pos = 10;
                u64::from_be_bytes(b[2..10].try_into().unwrap()) as usize
            }
            n => n as usize,
        };
        let key = if masked {
            let k = [b[pos], b[pos + 1], b[pos + 2], b[pos + 3]];
            pos += 4;
            Some(k)
        } else {
            None
        };
        let mut payload = b[pos..pos + len].to_vec();
        if let Some(k) = key {
            for (i, x) in payload.iter_mut().enumerate() {
                *x ^= k[i % 4];
            }
        }
        out.push(WireFrame { fin, rsv, opcode, masked, payload });
        b = &b[pos + len..];
    }
    out
}

/// An event with owned data, for comparisons.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Ev {
    Request { target: String, host: String, subprotocols: Vec<String> },
    Accept { subprotocol: Option<String>, extensions: String },
    Reject { status: u16, has_body: bool },
    RejectData(Vec<u8>, bool),
    Data { text: bool, data: Vec<u8>, frame_finished: bool, message_finished: bool },
    Ping(Vec<u8>),
    Pong(Vec<u8>),
    Close { code: u16, reason: String, source: CloseSource },
}

impl Ev {
    pub fn text(s: &str) -> Ev {
        Ev::Data { text: true, data: s.as_bytes().to_vec(), frame_finished: true, message_finished: true }
    }
    pub fn binary(b: &[u8]) -> Ev {
        Ev::Data { text: false, data: b.to_vec(), frame_finished: true, message_finished: true }
    }
    pub fn close(code: u16, source: CloseSource) -> Ev {
        Ev::Close { code, reason: String::new(), source }
    }
}

pub fn own(e: Event<'_>) -> Ev {
    match e {
        Event::Request(r) => Ev::Request {
            target: r.target().into(),
            host: r.host().into(),
            subprotocols: r.subprotocols().map(String::from).collect(),
        },
        Event::Accept(a) => {
            Ev::Accept { subprotocol: a.subprotocol().map(String::from), extensions: a.extensions().into() }
        }
        Event::Reject(r) => Ev::Reject { status: r.status(), has_body: r.has_body() },
        Event::RejectData { data, body_finished } => Ev::RejectData(data.to_vec(), body_finished),
        Event::Data { kind, data, frame_finished, message_finished } => {
            Ev::Data { text: kind == DataKind::Text, data: data.to_vec(), frame_finished, message_finished }
        }
        Event::Ping(p) => Ev::Ping(p.to_vec()),
        Event::Pong(p) => Ev::Pong(p.to_vec()),
        Event::Close { code, reason, source } => Ev::Close { code, reason: reason.into(), source },
    }
}

/// Takes every pending event.
pub fn drain(c: &mut Connection) -> Vec<Ev> {
    let mut v = Vec::new();
    while let Some(e) = c.next_event() {
        v.push(own(e));
    }
    v
}

/// Feeds `bytes` in pieces of the given sizes (cycled), draining events
/// after each piece, and returns all events in order.
pub fn feed_in_pieces(c: &mut Connection, bytes: &[u8], sizes: &[usize]) -> Vec<Ev> {
    let mut evs = Vec::new();
    let mut rest = bytes;
    let mut i = 0;
    while !rest.is_empty() {
        let n = sizes[i % sizes.len()].clamp(1, rest.len());
        i += 1;
        let (piece, tail) = rest.split_at(n);
        rest = tail;
        if c.receive(piece).is_err() {
            break;
        }
        evs.extend(drain(c));
    }
    evs
}

/// Merges consecutive stream-mode chunks of the same frame so events from
/// different splits compare equal.
pub fn merge_chunks(evs: Vec<Ev>) -> Vec<Ev> {
    let mut out: Vec<Ev> = Vec::new();
    for e in evs {
        if let (
            Some(Ev::Data { text: t0, data: d0, frame_finished: false, .. }),
            Ev::Data { text, data, frame_finished, message_finished },
        ) = (out.last_mut(), &e)
        {
            if *t0 == *text {
                d0.extend_from_slice(data);
                let merged = Ev::Data {
                    text: *text,
                    data: std::mem::take(d0),
                    frame_finished: *frame_finished,
                    message_finished: *message_finished,
                };
                *out.last_mut().unwrap() = merged;
                continue;
            }
        }
        out.push(e);
    }
    out
}

/// Small deterministic PRNG for split points.
pub struct XorShift(pub u64);
impl XorShift {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}
