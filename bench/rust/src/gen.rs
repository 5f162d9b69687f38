//! Input generators for the BENCHMARKS.md workloads: a port of bench/gen.c,
//! checked against the same digest table.

use std::fmt::Write as _;

use base64::Engine as _;
use flate2::{Compress, Compression, FlushCompress};
use sha1::{Digest, Sha1};

pub const SEED: u64 = 0x9E37_79B9_7F4A_7C15;
pub const FNV_INIT: u64 = 0xcbf2_9ce4_8422_2325;
pub const MIB: usize = 1 << 20;

pub fn fnv1a64(mut h: u64, data: &[u8]) -> u64 {
    for &b in data {
        h ^= b as u64;
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// xorshift64 with shifts 13, 7, 17.
#[derive(Clone)]
pub struct Rng(pub u64);

impl Rng {
    pub fn new() -> Rng {
        Rng(SEED)
    }
    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }
    pub fn fill_bytes(&mut self, out: &mut [u8]) {
        for chunk in out.chunks_mut(8) {
            let w = self.next().to_le_bytes();
            chunk.copy_from_slice(&w[..chunk.len()]);
        }
    }
    pub fn fill_ascii(&mut self, out: &mut [u8]) {
        self.fill_bytes(out);
        for b in out.iter_mut() {
            *b = 0x20 + *b % 95;
        }
    }
    pub fn fill_utf8(&mut self, out: &mut [u8]) {
        let len = out.len();
        let mut i = 0;
        while i < len {
            let r = self.next();
            let mut want = 1 + (r & 3) as usize;
            if want > len - i {
                want = 1;
            }
            let v = r >> 8;
            let c = match want {
                1 => 0x20 + (v % 95) as u32,
                2 => 0x80 + (v % 0x780) as u32,
                3 => {
                    let c = 0x800 + (v % 0xF000) as u32;
                    if c >= 0xD800 {
                        c + 0x800
                    } else {
                        c
                    }
                }
                _ => 0x10000 + (v % 0x10_0000) as u32,
            };
            let ch = char::from_u32(c).expect("generator yields scalar values only");
            ch.encode_utf8(&mut out[i..i + want]);
            i += want;
        }
    }
    pub fn key(&mut self) -> [u8; 4] {
        (self.next() as u32).to_le_bytes()
    }
}

impl Default for Rng {
    fn default() -> Self {
        Rng::new()
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Workload {
    RecvSmall,
    RecvLarge,
    RecvTextLarge,
    RecvFragmented,
    SendSmall,
    SendLarge,
    RecvDeflate,
    SendDeflate,
    Handshake,
}

pub const ALL: [Workload; 9] = [
    Workload::RecvSmall,
    Workload::RecvLarge,
    Workload::RecvTextLarge,
    Workload::RecvFragmented,
    Workload::SendSmall,
    Workload::SendLarge,
    Workload::RecvDeflate,
    Workload::SendDeflate,
    Workload::Handshake,
];

/// One row of the BENCHMARKS.md digest table.
pub struct Reference {
    pub messages: usize,
    pub input_len: usize,
    pub input_fnv: u64,
    pub expected_len: usize,
    pub expected_fnv: u64,
}

const fn r(messages: usize, input_len: usize, input_fnv: u64, expected_len: usize, expected_fnv: u64) -> Reference {
    Reference { messages, input_len, input_fnv, expected_len, expected_fnv }
}

impl Workload {
    pub fn name(self) -> &'static str {
        match self {
            Workload::RecvSmall => "recv-small",
            Workload::RecvLarge => "recv-large",
            Workload::RecvTextLarge => "recv-text-large",
            Workload::RecvFragmented => "recv-fragmented",
            Workload::SendSmall => "send-small",
            Workload::SendLarge => "send-large",
            Workload::RecvDeflate => "recv-deflate",
            Workload::SendDeflate => "send-deflate",
            Workload::Handshake => "handshake",
        }
    }
    pub fn from_name(name: &str) -> Option<Workload> {
        ALL.iter().copied().find(|w| w.name() == name)
    }
    /// The table row; send-deflate's input is the recv-deflate documents.
    pub fn reference(self) -> Reference {
        match self {
            Workload::RecvSmall => r(1_000_000, 38_000_000, 0xf94a0a0d84444dbf, 32_000_000, 0xa7392c764763ba1d),
            Workload::RecvLarge => r(64, 67_109_760, 0x6f6acd504e473592, 67_108_864, 0x0ad5513312903a7b),
            Workload::RecvTextLarge => r(64, 67_109_760, 0x0034640720c7f7de, 67_108_864, 0x1597419be2fb0738),
            Workload::RecvFragmented => r(100_000, 108_800_000, 0xbba7b82430398c4b, 102_400_000, 0x13d631a8873bac12),
            Workload::SendSmall => r(1_000_000, 32_000_000, 0xcdb708c9094ea817, 32_000_000, 0xcdb708c9094ea817),
            Workload::SendLarge => r(64, 67_108_864, 0xeb42a8ff01b98ccf, 67_108_864, 0xeb42a8ff01b98ccf),
            Workload::RecvDeflate => r(100_000, 18_110_429, 0x5e958c8da39e017e, 102_400_000, 0x1a98d80796e6c229),
            Workload::SendDeflate => r(100_000, 102_400_000, 0x1a98d80796e6c229, 102_400_000, 0x1a98d80796e6c229),
            Workload::Handshake => r(100_000, 21_800_000, 0x9ce7b58e6dfee8b4, 2_800_000, 0x45ea1b4cfff8df7f),
        }
    }
}

/// A generated workload; see bench/gen.h for what `input` holds per kind.
pub struct Input {
    pub workload: Workload,
    pub messages: usize,
    /// Uniform payload (or request) length.
    pub msg_len: usize,
    pub input: Vec<u8>,
    pub input_fnv: u64,
    pub expected_len: usize,
    pub expected_fnv: u64,
    /// handshake: the expected accept values, 28 bytes each.
    pub accepts: Vec<u8>,
    /// recv-deflate / send-deflate: the documents, concatenated.
    pub docs: Vec<u8>,
}

pub fn frame_header_len(len: usize, masked: bool) -> usize {
    (if len < 126 {
        2
    } else if len <= 0xFFFF {
        4
    } else {
        10
    }) + if masked { 4 } else { 0 }
}

/// XOR with the key, 8 bytes at a time.
pub fn xor_mask(buf: &mut [u8], key: [u8; 4]) {
    let k = u32::from_ne_bytes(key) as u64;
    let k64 = (k << 32) | k;
    let mut chunks = buf.chunks_exact_mut(8);
    for c in &mut chunks {
        let w = u64::from_ne_bytes(c.try_into().unwrap()) ^ k64;
        c.copy_from_slice(&w.to_ne_bytes());
    }
    for (i, b) in chunks.into_remainder().iter_mut().enumerate() {
        *b ^= key[i & 3];
    }
}

/// `dst = src ^ key`, one pass, 8-byte words (the ceiling rows' kernel).
pub fn xor_copy(dst: &mut [u8], src: &[u8], key: [u8; 4]) {
    let k = u32::from_ne_bytes(key) as u64;
    let k64 = (k << 32) | k;
    let n = src.len() / 8 * 8;
    for (d, s) in dst[..n].chunks_exact_mut(8).zip(src[..n].chunks_exact(8)) {
        d.copy_from_slice(&(u64::from_ne_bytes(s.try_into().unwrap()) ^ k64).to_ne_bytes());
    }
    for i in n..src.len() {
        dst[i] = src[i] ^ key[i & 3];
    }
}

pub fn write_masked_frame(out: &mut Vec<u8>, first_byte: u8, key: [u8; 4], payload: &[u8]) {
    out.push(first_byte);
    let len = payload.len();
    if len < 126 {
        out.push(0x80 | len as u8);
    } else if len <= 0xFFFF {
        out.push(0x80 | 126);
        out.extend_from_slice(&(len as u16).to_be_bytes());
    } else {
        out.push(0x80 | 127);
        out.extend_from_slice(&(len as u64).to_be_bytes());
    }
    out.extend_from_slice(&key);
    let start = out.len();
    out.extend_from_slice(payload);
    xor_mask(&mut out[start..], key);
}

const LOREM: &str = "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt ut labore et dolore magna aliqua. Ut enim ad minim veniam, quis nostrud exercitation ullamco laboris nisi ut aliquip ex ea commodo consequat. Duis aute irure dolor in reprehenderit in voluptate velit esse cillum dolore eu fugiat nulla pariatur. Excepteur sint occaecat cupidatat non proident, sunt in culpa qui officia deserunt mollit anim id est laborum. ";

/// Document `index` of the deflate workloads, exactly 1024 bytes.
pub fn deflate_document(r: &mut Rng, index: usize, out: &mut Vec<u8>) {
    let mut s = String::with_capacity(1024);
    // Rust evaluates arguments left to right, so drawing inside write! keeps
    // the template's order of drawing.
    let _ =
        write!(s, "{{\"id\":{index},\"type\":\"order\",\"ts\":{},", 1_700_000_000_000u64 + r.next() % 100_000_000_000);
    let _ = write!(s, "\"user\":{{\"id\":{},\"name\":\"user{}\",", r.next() % 1_000_000, r.next() % 1_000_000);
    let _ = write!(s, "\"score\":{}.{:02}}},\"items\":[", r.next() % 1000, r.next() % 100);
    for item in 0..6 {
        let _ = write!(
            s,
            "{}{{\"sku\":\"SKU-{:06}\",\"qty\":{},\"price\":{}.{:02},\"discount\":{}}}",
            if item > 0 { "," } else { "" },
            r.next() % 1_000_000,
            1 + r.next() % 20,
            r.next() % 10_000,
            r.next() % 100,
            r.next() % 50
        );
    }
    let _ = write!(
        s,
        "],\"total\":{}.{:02},\"currency\":\"EUR\",\"status\":\"confirmed\",",
        r.next() % 1_000_000,
        r.next() % 100
    );
    let _ = write!(s, "\"geo\":{{\"lat\":{}.{:06},", r.next() % 90, r.next() % 1_000_000);
    let _ = write!(s, "\"lon\":{}.{:06}}},", r.next() % 180, r.next() % 1_000_000);
    let _ = write!(s, "\"flags\":[{},{},{}],\"note\":\"", r.next() & 1 == 0, r.next() & 1 == 0, r.next() & 1 == 0);
    assert!(s.len() <= 1022, "document head too long");
    let start = out.len();
    out.extend_from_slice(s.as_bytes());
    let filler = LOREM.as_bytes().iter().cycle();
    let need = 1022 - s.len();
    out.extend(filler.take(need));
    out.extend_from_slice(b"\"}");
    debug_assert_eq!(out.len() - start, 1024);
}

pub fn accept_value(key: &[u8]) -> [u8; 28] {
    let mut h = Sha1::new();
    h.update(key);
    h.update(b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11");
    let mut out = [0u8; 28];
    let n = base64::engine::general_purpose::STANDARD
        .encode_slice(h.finalize(), &mut out)
        .expect("28 bytes hold a base64 SHA-1");
    debug_assert_eq!(n, 28);
    out
}

/// Raw deflate of each document (level 6, 15-bit window, one compressor for
/// the whole stream, sync flush, 00 00 ff ff removed), as the recv-deflate
/// rule says. Returns the per-document payloads.
pub fn compress_documents(docs: &[u8]) -> Vec<Vec<u8>> {
    let mut c = Compress::new_with_window_bits(Compression::new(6), false, 15);
    let mut out = Vec::with_capacity(docs.len() / 1024);
    let mut buf = vec![0u8; 4096];
    for doc in docs.chunks(1024) {
        let before_in = c.total_in();
        let mut payload = Vec::with_capacity(256);
        loop {
            let consumed = (c.total_in() - before_in) as usize;
            let before_out = c.total_out();
            c.compress(&doc[consumed..], &mut buf, FlushCompress::Sync).expect("deflate");
            let produced = (c.total_out() - before_out) as usize;
            payload.extend_from_slice(&buf[..produced]);
            // Done once all input is in and the flush did not fill the buffer.
            if (c.total_in() - before_in) as usize == doc.len() && produced < buf.len() {
                break;
            }
        }
        assert!(payload.ends_with(&[0, 0, 0xff, 0xff]), "sync flush ends with an empty stored block");
        payload.truncate(payload.len() - 4);
        out.push(payload);
    }
    out
}

fn gen_recv(inp: &mut Input, payload_len: usize, frames: usize, text: bool, fill: fn(&mut Rng, &mut [u8])) {
    let frame_len = payload_len / frames;
    inp.msg_len = payload_len;
    let mut out = Vec::with_capacity(inp.messages * frames * (frame_header_len(frame_len, true) + frame_len));
    let mut r = Rng::new();
    let mut payload = vec![0u8; payload_len];
    let mut h = FNV_INIT;
    for _ in 0..inp.messages {
        fill(&mut r, &mut payload);
        h = fnv1a64(h, &payload);
        for f in 0..frames {
            let key = r.key();
            let opcode = if f > 0 {
                0x0
            } else if text {
                0x1
            } else {
                0x2
            };
            let fin = if f + 1 == frames { 0x80 } else { 0 };
            write_masked_frame(&mut out, fin | opcode, key, &payload[f * frame_len..(f + 1) * frame_len]);
        }
    }
    inp.input = out;
    inp.expected_len = inp.messages * payload_len;
    inp.expected_fnv = h;
}

fn gen_send(inp: &mut Input, payload_len: usize, fill: fn(&mut Rng, &mut [u8])) {
    inp.msg_len = payload_len;
    let mut out = vec![0u8; inp.messages * payload_len];
    let mut r = Rng::new();
    for m in out.chunks_mut(payload_len) {
        fill(&mut r, m);
    }
    inp.expected_len = out.len();
    inp.expected_fnv = fnv1a64(FNV_INIT, &out);
    inp.input = out;
}

fn gen_handshake(inp: &mut Input) {
    let mut r = Rng::new();
    let mut out = Vec::with_capacity(inp.messages * 218);
    let mut accepts = Vec::with_capacity(inp.messages * 28);
    for _ in 0..inp.messages {
        let mut raw = [0u8; 16];
        r.fill_bytes(&mut raw);
        let key = base64::engine::general_purpose::STANDARD.encode(raw);
        let start = out.len();
        out.extend_from_slice(b"GET /chat HTTP/1.1\r\nHost: server.example.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ");
        out.extend_from_slice(key.as_bytes());
        out.extend_from_slice(
            b"\r\nOrigin: http://example.com\r\nSec-WebSocket-Version: 13\r\nUser-Agent: peers-bench/1.0\r\n\r\n",
        );
        inp.msg_len = out.len() - start;
        accepts.extend_from_slice(&accept_value(key.as_bytes()));
    }
    inp.input = out;
    inp.expected_len = accepts.len();
    inp.expected_fnv = fnv1a64(FNV_INIT, &accepts);
    inp.accepts = accepts;
}

/// Documents with one key drawn after each (as every receive workload does);
/// send-deflate sends the same documents and discards the keys.
fn gen_deflate(inp: &mut Input, recv: bool) {
    inp.msg_len = 1024;
    let mut r = Rng::new();
    let mut docs = Vec::with_capacity(inp.messages * 1024);
    let mut keys = Vec::with_capacity(inp.messages);
    for i in 0..inp.messages {
        deflate_document(&mut r, i, &mut docs);
        keys.push(r.key());
    }
    inp.expected_len = docs.len();
    inp.expected_fnv = fnv1a64(FNV_INIT, &docs);
    if recv {
        let payloads = compress_documents(&docs);
        let mut out = Vec::with_capacity(payloads.iter().map(|p| p.len() + 14).sum());
        for (p, key) in payloads.iter().zip(keys) {
            write_masked_frame(&mut out, 0x80 | 0x40 | 0x1, key, p);
        }
        inp.input = out;
    } else {
        inp.input = docs.clone();
    }
    inp.docs = docs;
}

/// Generates workload `w` with its first `messages` messages.
pub fn generate(w: Workload, messages: usize) -> Input {
    let mut inp = Input {
        workload: w,
        messages,
        msg_len: 0,
        input: Vec::new(),
        input_fnv: 0,
        expected_len: 0,
        expected_fnv: 0,
        accepts: Vec::new(),
        docs: Vec::new(),
    };
    match w {
        Workload::RecvSmall => gen_recv(&mut inp, 32, 1, true, Rng::fill_ascii),
        Workload::RecvLarge => gen_recv(&mut inp, MIB, 1, false, Rng::fill_bytes),
        Workload::RecvTextLarge => gen_recv(&mut inp, MIB, 1, true, Rng::fill_utf8),
        Workload::RecvFragmented => gen_recv(&mut inp, 1024, 8, true, Rng::fill_ascii),
        Workload::SendSmall => gen_send(&mut inp, 32, Rng::fill_ascii),
        Workload::SendLarge => gen_send(&mut inp, MIB, Rng::fill_bytes),
        Workload::RecvDeflate => gen_deflate(&mut inp, true),
        Workload::SendDeflate => gen_deflate(&mut inp, false),
        Workload::Handshake => gen_handshake(&mut inp),
    }
    inp.input_fnv = fnv1a64(FNV_INIT, &inp.input);
    inp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_value_matches_rfc6455_example() {
        assert_eq!(&accept_value(b"dGhlIHNhbXBsZSBub25jZQ=="), b"s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    }

    #[test]
    fn fnv1a64_known_values() {
        assert_eq!(fnv1a64(FNV_INIT, b""), 0xcbf29ce484222325);
        assert_eq!(fnv1a64(FNV_INIT, b"a"), 0xaf63dc4c8601ec8c);
    }

    #[test]
    fn utf8_text_is_valid_and_exact_length() {
        let mut r = Rng::new();
        for len in [1, 2, 3, 4, 5, 7, 1000, 4099] {
            let mut buf = vec![0u8; len];
            r.fill_utf8(&mut buf);
            assert!(std::str::from_utf8(&buf).is_ok(), "len {len}");
        }
    }

    #[test]
    fn documents_are_1024_bytes_of_json_shape() {
        let mut r = Rng::new();
        let mut out = Vec::new();
        deflate_document(&mut r, 7, &mut out);
        assert_eq!(out.len(), 1024);
        assert!(out.starts_with(b"{\"id\":7,\"type\":\"order\",\"ts\":17"));
        assert!(out.ends_with(b"\"}"));
    }

    #[test]
    fn quick_inputs_are_prefixes_of_full_ones() {
        for w in [Workload::RecvFragmented, Workload::Handshake, Workload::RecvDeflate] {
            let small = generate(w, 10);
            let large = generate(w, 20);
            assert!(large.input.starts_with(&small.input), "{}", w.name());
        }
    }

    #[test]
    fn masked_frame_round_trips() {
        let mut out = Vec::new();
        let payload: Vec<u8> = (0..300u32).map(|i| i as u8).collect();
        write_masked_frame(&mut out, 0x82, [1, 2, 3, 4], &payload);
        assert_eq!(&out[..4], &[0x82, 0x80 | 126, 1, 44]);
        let mut body = out[8..].to_vec();
        xor_mask(&mut body, [1, 2, 3, 4]);
        assert_eq!(body, payload);
    }
}
