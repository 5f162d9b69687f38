//! The per-message "limit" loops of BENCHMARKS.md: the least work each
//! workload needs, written by hand, run on the same bytes as the library.
//!
//! - recv-small / recv-fragmented ([`recv`]): a frame walker over the same
//!   64 KiB chunks that checks what a server must (RSV bits, mask bit,
//!   opcode, fragment order, control-frame rules, the 16 MiB message bound),
//!   XOR-copies each payload once into one reused buffer (reassembling
//!   fragments), notes ASCII during the copy and runs simdutf8 only on text
//!   that is not all ASCII, and hands each whole message over as
//!   (pointer, length). No allocation per message.
//! - send ([`send`]): the frame header, a masking key from a buffered
//!   ChaCha12 (`rand_chacha::ChaCha12Rng`, 4 blocks per refill) and the
//!   XOR-masked payload, one pass, into a reused sink (client); header +
//!   one copy for the server role.
//! - handshake ([`handshake`]): httparse, the RFC 6455 4.2.1 checks, SHA-1 +
//!   base64 (the `sha1` and `base64` crates the library uses), a fixed
//!   129-byte 101.
//!
//! Every loop is generic over a [`Deliver`] sink: [`Handover`] for the timed
//! runs (sums pointers and lengths, as the library rows do), [`Digest`] for
//! the verification run (FNV-1a over what is handed over, compared with the
//! digest the library must produce). The `extern "C"` functions at the end
//! are the C harness's entry points (declared in `limits.h`).

use base64::Engine as _;
use rand_chacha::ChaCha12Rng;
use rand_core::{RngCore, SeedableRng};
use sha1::{Digest as _, Sha1};

/// The library's default `max_message_size` (16 MiB): a message over it is refused.
pub const MAX_MESSAGE: usize = 16 << 20;

/// FNV-1a 64 offset basis (BENCHMARKS.md's digests).
pub const FNV_INIT: u64 = 0xcbf2_9ce4_8422_2325;

/// FNV-1a 64 of `data`, continuing from `h`.
pub fn fnv1a64(mut h: u64, data: &[u8]) -> u64 {
    for &b in data {
        h ^= b as u64;
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// Where a loop hands over what it produced: each whole message (receive),
/// or each 101 response (handshake).
pub trait Deliver {
    fn deliver(&mut self, data: &[u8]);
    /// A control frame's payload (opcode 8, 9 or 10). The workloads have
    /// none; a server would answer pings and closes here.
    #[inline(always)]
    fn control(&mut self, _opcode: u8, _data: &[u8]) {}
}

/// Timed runs: keeps (pointer, length) of each message observable, no more.
#[derive(Default)]
pub struct Handover {
    pub messages: u64,
    pub sink: usize,
}

impl Deliver for Handover {
    #[inline(always)]
    fn deliver(&mut self, data: &[u8]) {
        self.messages += 1;
        self.sink = self.sink.wrapping_add(data.as_ptr() as usize + data.len());
    }
}

/// Verification runs: message count, bytes and FNV-1a of what is handed over.
pub struct Digest {
    pub messages: u64,
    pub bytes: u64,
    pub fnv: u64,
}

impl Default for Digest {
    fn default() -> Self {
        Digest { messages: 0, bytes: 0, fnv: FNV_INIT }
    }
}

impl Deliver for Digest {
    fn deliver(&mut self, data: &[u8]) {
        self.messages += 1;
        self.bytes += data.len() as u64;
        self.fnv = fnv1a64(self.fnv, data);
    }
}

/// Handshake verification: digests only the Sec-WebSocket-Accept value of
/// each 101 (what BENCHMARKS.md's handshake digest covers).
#[derive(Default)]
pub struct AcceptDigest(pub Digest);

impl Deliver for AcceptDigest {
    fn deliver(&mut self, data: &[u8]) {
        self.0.deliver(&data[ACCEPT_AT..ACCEPT_AT + 28]);
    }
}

// ---- XOR copy ----------------------------------------------------------------

/// `dst = src ^ key` (key as the 4 mask bytes in little-endian order, already
/// rotated to `src`'s offset in its frame), one pass. Returns non-zero when
/// some output byte has its high bit set, so the caller learns "all ASCII"
/// from the copy itself.
#[inline(always)]
pub fn xor_copy(dst: &mut [u8], src: &[u8], key: u32) -> u64 {
    assert_eq!(dst.len(), src.len());
    // SAFETY: both slices are src.len() bytes long.
    unsafe { xor_copy_raw(dst.as_mut_ptr(), src.as_ptr(), src.len(), key) }
}

/// [`xor_copy`] on raw pointers. From 16 bytes on: 16-byte SSE2 vectors, two
/// per step (x86-64 baseline, no detection needed), the last one overlapping the one
/// before when the length is not a multiple of 16 (its key rotated to its
/// offset), so no scalar tail. Under 16 bytes: an 8-byte word, then bytes.
///
/// # Safety
/// `src` readable and `dst` writable for `n` bytes.
#[inline(always)]
pub unsafe fn xor_copy_raw(dst: *mut u8, src: *const u8, n: usize, key: u32) -> u64 {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::*;
        if n >= 16 {
            let k = _mm_set1_epi32(key as i32);
            let mut acc = _mm_setzero_si128();
            let mut i = 0;
            while i + 32 <= n {
                let v = _mm_xor_si128(_mm_loadu_si128(src.add(i).cast()), k);
                let w = _mm_xor_si128(_mm_loadu_si128(src.add(i + 16).cast()), k);
                _mm_storeu_si128(dst.add(i).cast(), v);
                _mm_storeu_si128(dst.add(i + 16).cast(), w);
                acc = _mm_or_si128(acc, _mm_or_si128(v, w));
                i += 32;
            }
            if i + 16 <= n {
                let v = _mm_xor_si128(_mm_loadu_si128(src.add(i).cast()), k);
                _mm_storeu_si128(dst.add(i).cast(), v);
                acc = _mm_or_si128(acc, v);
                i += 16;
            }
            if i < n {
                let j = n - 16;
                let kj = _mm_set1_epi32(key.rotate_right(8 * (j as u32 & 3)) as i32);
                let v = _mm_xor_si128(_mm_loadu_si128(src.add(j).cast()), kj);
                _mm_storeu_si128(dst.add(j).cast(), v);
                acc = _mm_or_si128(acc, v);
            }
            return _mm_movemask_epi8(acc) as u64;
        }
    }
    let mut i = 0;
    let k64 = key as u64 | (key as u64) << 32;
    let mut acc = 0u64;
    while i + 8 <= n {
        let w = src.add(i).cast::<u64>().read_unaligned() ^ k64;
        dst.add(i).cast::<u64>().write_unaligned(w);
        acc |= w;
        i += 8;
    }
    while i < n {
        // i is past whole 8-byte words of the frame-aligned key: key byte (i & 3).
        let b = *src.add(i) ^ (key >> (8 * (i & 3))) as u8;
        *dst.add(i) = b;
        acc |= b as u64;
        i += 1;
    }
    acc & HIGH_BITS
}

const HIGH_BITS: u64 = 0x8080_8080_8080_8080;

// ---- receive: the frame walker ---------------------------------------------------

/// Why the walker refused the input (a server would close the connection).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecvError {
    /// RSV1-3 set (no extension negotiated): 1002.
    Rsv = 1,
    /// A client frame without the mask bit: 1002.
    Unmasked = 2,
    /// A reserved opcode: 1002.
    Opcode = 3,
    /// A continuation outside a message, or a new message inside one: 1002.
    FragmentOrder = 4,
    /// A control frame fragmented or over 125 bytes: 1002.
    Control = 5,
    /// A 64-bit length with its top bit set: 1002.
    Length = 6,
    /// A message over [`MAX_MESSAGE`]: 1009.
    TooBig = 7,
    /// Text that is not UTF-8: 1007.
    Utf8 = 8,
}

/// The receive limit: a server's frame walker, resumable across chunks.
pub struct Walker {
    msg: Vec<u8>,
    msg_len: usize,
    ctrl: [u8; 125],
    ctrl_len: usize,
    hdr: [u8; 14],
    hdr_len: usize,
    /// Payload bytes left in the current frame (0 between frames).
    left: usize,
    /// Mask key rotated to the next payload byte.
    key: u32,
    in_payload: bool,
    fin: bool,
    /// Current frame's opcode when it is a control frame, else 0.
    ctrl_op: u8,
    in_message: bool,
    text: bool,
    /// Non-zero once the current message has a byte >= 0x80.
    high: u64,
}

impl Default for Walker {
    fn default() -> Self {
        Self::new()
    }
}

impl Walker {
    pub fn new() -> Self {
        Walker {
            msg: Vec::new(),
            msg_len: 0,
            ctrl: [0; 125],
            ctrl_len: 0,
            hdr: [0; 14],
            hdr_len: 0,
            left: 0,
            key: 0,
            in_payload: false,
            fin: false,
            ctrl_op: 0,
            in_message: false,
            text: false,
            high: 0,
        }
    }

    /// Checks a frame's first two bytes and length; sets up its payload.
    #[inline(always)]
    fn start(&mut self, b0: u8, b1: u8, len: u64, key: u32) -> Result<(), RecvError> {
        if b0 & 0x70 != 0 {
            return Err(RecvError::Rsv);
        }
        if b1 & 0x80 == 0 {
            return Err(RecvError::Unmasked);
        }
        let op = b0 & 0x0F;
        let fin = b0 & 0x80 != 0;
        match op {
            0 => {
                if !self.in_message {
                    return Err(RecvError::FragmentOrder);
                }
            }
            1 | 2 => {
                if self.in_message {
                    return Err(RecvError::FragmentOrder);
                }
                self.in_message = true;
                self.text = op == 1;
                self.high = 0;
            }
            8..=10 => {
                if !fin || len > 125 {
                    return Err(RecvError::Control);
                }
                self.ctrl_op = op;
                self.ctrl_len = 0;
                self.fin = true;
                self.key = key;
                self.left = len as usize;
                self.in_payload = true;
                return Ok(());
            }
            _ => return Err(RecvError::Opcode),
        }
        if len >> 63 != 0 {
            return Err(RecvError::Length);
        }
        let need = self.msg_len as u64 + len;
        if need > MAX_MESSAGE as u64 {
            return Err(RecvError::TooBig);
        }
        if need as usize > self.msg.len() {
            self.grow(need as usize);
        }
        self.ctrl_op = 0;
        self.fin = fin;
        self.key = key;
        self.left = len as usize;
        self.in_payload = true;
        Ok(())
    }

    /// The one reused buffer grows to the largest message seen (rarely).
    #[cold]
    #[inline(never)]
    fn grow(&mut self, need: usize) {
        self.msg.resize(need.next_power_of_two().max(4096), 0);
    }

    /// Copies the next `src` bytes of the current frame's payload, unmasking;
    /// hands the message over when its last frame ends.
    #[inline(always)]
    fn payload<D: Deliver>(&mut self, src: &[u8], d: &mut D) -> Result<(), RecvError> {
        let k = src.len();
        if self.ctrl_op == 0 {
            self.high |= xor_copy(&mut self.msg[self.msg_len..self.msg_len + k], src, self.key);
            self.msg_len += k;
        } else {
            xor_copy(&mut self.ctrl[self.ctrl_len..self.ctrl_len + k], src, self.key);
            self.ctrl_len += k;
        }
        self.key = self.key.rotate_right(8 * (k as u32 & 3));
        self.left -= k;
        if self.left == 0 {
            self.in_payload = false;
            if self.ctrl_op != 0 {
                d.control(self.ctrl_op, &self.ctrl[..self.ctrl_len]);
            } else if self.fin {
                let m = &self.msg[..self.msg_len];
                if self.text && self.high != 0 && simdutf8::basic::from_utf8(m).is_err() {
                    return Err(RecvError::Utf8);
                }
                d.deliver(m);
                self.msg_len = 0;
                self.in_message = false;
            }
        }
        Ok(())
    }

    /// The common case with the state in registers: whole data frames
    /// (7- or 16-bit length) inside this chunk, their message fitting the
    /// buffer. Stops at anything else (a frame cut by the chunk's end, a
    /// control frame, a 64-bit length, a protocol error) and leaves it to
    /// the general path of [`Walker::feed`], which decides it. Returns the
    /// offset reached.
    #[inline(always)]
    fn whole_frames<D: Deliver>(&mut self, chunk: &[u8], mut p: usize, d: &mut D) -> Result<usize, RecvError> {
        let n = chunk.len();
        let base = chunk.as_ptr();
        let (mut msg_len, mut in_message, mut text, mut high) = (self.msg_len, self.in_message, self.text, self.high);
        let cap = self.msg.len();
        let msg = self.msg.as_mut_ptr();
        // SAFETY: every read is below `n` (p + 8 <= n covers the first 4
        // header bytes; the key and payload are checked against n - at), every
        // write below `cap` (msg_len + len <= cap).
        unsafe {
            while n - p >= 8 {
                let (b0, b1) = (*base.add(p), *base.add(p + 1));
                let op = b0 & 0x0F;
                // RSV clear, masked, and the opcode fits the fragment order.
                let ok = b0 & 0x70 == 0 && b1 & 0x80 != 0 && if in_message { op == 0 } else { op == 1 || op == 2 };
                let len7 = (b1 & 0x7F) as usize;
                if !ok || len7 == 127 {
                    break;
                }
                let (len, at) = if len7 == 126 {
                    (u16::from_be_bytes([*base.add(p + 2), *base.add(p + 3)]) as usize, p + 4)
                } else {
                    (len7, p + 2)
                };
                if n - at < 4 + len || msg_len + len > cap {
                    break;
                }
                let key = base.add(at).cast::<u32>().read_unaligned().to_le();
                if !in_message {
                    text = op == 1;
                    high = 0;
                }
                high |= xor_copy_raw(msg.add(msg_len), base.add(at + 4), len, key);
                msg_len += len;
                p = at + 4 + len;
                in_message = b0 & 0x80 == 0;
                if !in_message {
                    let m = std::slice::from_raw_parts(msg, msg_len);
                    if text && high != 0 && simdutf8::basic::from_utf8(m).is_err() {
                        return Err(RecvError::Utf8);
                    }
                    d.deliver(m);
                    msg_len = 0;
                }
            }
        }
        (self.msg_len, self.in_message, self.text, self.high) = (msg_len, in_message, text, high);
        Ok(p)
    }

    /// Walks one chunk of input.
    pub fn feed<D: Deliver>(&mut self, chunk: &[u8], d: &mut D) -> Result<(), RecvError> {
        let mut p = 0;
        let n = chunk.len();
        while p < n {
            if !self.in_payload && self.hdr_len == 0 {
                p = self.whole_frames(chunk, p, d)?;
                if p == n {
                    break;
                }
            }
            if !self.in_payload {
                if self.hdr_len == 0 && n - p >= 14 {
                    // The whole header is in this chunk: read it in place.
                    let (b0, b1) = (chunk[p], chunk[p + 1]);
                    let (len, hl) = match b1 & 0x7F {
                        126 => (u16::from_be_bytes([chunk[p + 2], chunk[p + 3]]) as u64, 4),
                        127 => (u64::from_be_bytes(chunk[p + 2..p + 10].try_into().unwrap()), 10),
                        l => (l as u64, 2),
                    };
                    let key = u32::from_le_bytes(chunk[p + hl..p + hl + 4].try_into().unwrap());
                    p += hl + 4;
                    self.start(b0, b1, len, key)?;
                } else {
                    p += self.header_bytes(&chunk[p..])?;
                    if !self.in_payload {
                        continue;
                    }
                }
                if self.left == 0 {
                    self.payload(&[], d)?;
                    continue;
                }
            }
            let k = self.left.min(n - p);
            self.payload(&chunk[p..p + k], d)?;
            p += k;
        }
        Ok(())
    }

    /// A header split across chunks: collects it byte by byte (once per
    /// chunk at most). Returns the bytes taken.
    #[cold]
    #[inline(never)]
    fn header_bytes(&mut self, src: &[u8]) -> Result<usize, RecvError> {
        let mut used = 0;
        while used < src.len() {
            self.hdr[self.hdr_len] = src[used];
            self.hdr_len += 1;
            used += 1;
            if self.hdr_len < 2 {
                continue;
            }
            let hl = match self.hdr[1] & 0x7F {
                126 => 4,
                127 => 10,
                _ => 2,
            };
            if self.hdr_len < hl + 4 {
                continue;
            }
            let h = self.hdr;
            let len = match hl {
                4 => u16::from_be_bytes([h[2], h[3]]) as u64,
                10 => u64::from_be_bytes(h[2..10].try_into().unwrap()),
                _ => (h[1] & 0x7F) as u64,
            };
            let key = u32::from_le_bytes(h[hl..hl + 4].try_into().unwrap());
            self.hdr_len = 0;
            self.start(h[0], h[1], len, key)?;
            break;
        }
        Ok(used)
    }
}

/// Receive limit over `input` fed in `chunk`-byte pieces (64 KiB in the workloads).
#[inline(never)]
pub fn recv<D: Deliver>(input: &[u8], chunk: usize, d: &mut D) -> Result<(), RecvError> {
    let mut w = Walker::new();
    for c in input.chunks(chunk) {
        w.feed(c, d)?;
    }
    Ok(())
}

// ---- send ----------------------------------------------------------------------

/// The masking-key source of the send limit: ChaCha12 from `rand_chacha`,
/// which computes 4 blocks (256 bytes, 64 keys) per refill with SIMD chosen
/// at run time. Seeded with a fixed key here (seeding is outside the loop;
/// a real client seeds it from the OS).
pub fn key_source() -> ChaCha12Rng {
    ChaCha12Rng::from_seed([0x5a; 32])
}

/// Send limit: one frame per `msg_len`-byte payload of `payloads` (FIN,
/// `opcode`), masked with a fresh ChaCha12 key for a client, written into
/// `sink` at increasing offsets and back at its start when the next frame
/// does not fit (the sink was "written to the socket"). Returns the total
/// bytes written; a sink that holds every frame ends up with the whole
/// stream. Panics if one frame does not fit the sink.
#[inline(never)]
pub fn send(payloads: &[u8], msg_len: usize, opcode: u8, client: bool, sink: &mut [u8]) -> usize {
    let mut rng = key_source();
    let (b1, hl) = if msg_len < 126 {
        (msg_len as u8, 2)
    } else if msg_len <= 0xFFFF {
        (126, 4)
    } else {
        (127, 10)
    };
    let b1 = b1 | if client { 0x80 } else { 0 };
    let head = [0x80 | opcode, b1];
    let frame = hl + if client { 4 } else { 0 } + msg_len;
    assert!(frame <= sink.len(), "sink smaller than one frame");
    let messages = payloads.len().checked_div(msg_len).unwrap_or(0);
    let (cap, out) = (sink.len(), sink.as_mut_ptr());
    let mut off = 0;
    // SAFETY: every frame is written at off with off + frame <= cap, and
    // reads payload m at m * msg_len, below payloads.len().
    unsafe {
        for m in 0..messages {
            let src = payloads.as_ptr().add(m * msg_len);
            if off + frame > cap {
                off = 0; // the sink was "written to the socket"
            }
            let o = out.add(off);
            o.cast::<[u8; 2]>().write_unaligned(head);
            match hl {
                2 => {}
                4 => o.add(2).cast::<[u8; 2]>().write_unaligned((msg_len as u16).to_be_bytes()),
                _ => o.add(2).cast::<[u8; 8]>().write_unaligned((msg_len as u64).to_be_bytes()),
            }
            if client {
                let key = rng.next_u32();
                o.add(hl).cast::<[u8; 4]>().write_unaligned(key.to_le_bytes());
                xor_copy_raw(o.add(hl + 4), src, msg_len, key);
            } else {
                std::ptr::copy_nonoverlapping(src, o.add(hl), msg_len);
            }
            off += frame;
        }
    }
    messages * frame
}

// ---- handshake -------------------------------------------------------------------

/// The fixed 101 response; the accept value goes at [`ACCEPT_AT`].
pub const RESPONSE: &[u8; 129] = b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
Sec-WebSocket-Accept: ____________________________\r\n\r\n";
/// Offset of the 28-byte Sec-WebSocket-Accept value in [`RESPONSE`].
pub const ACCEPT_AT: usize = 97;
const GUID: &[u8] = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/// Why a request was refused (a server would answer 400 or 426).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HandshakeError {
    /// Not a complete HTTP/1.1 request head (httparse error or partial), or
    /// bytes after it.
    Parse = 1,
    /// Not GET, or HTTP/1.0.
    Method = 2,
    /// Host missing, empty or repeated.
    Host = 3,
    /// Upgrade missing, repeated or without "websocket".
    Upgrade = 4,
    /// Connection without the "upgrade" token.
    Connection = 5,
    /// Sec-WebSocket-Version missing, repeated or not 13.
    Version = 6,
    /// Sec-WebSocket-Key missing, repeated or not base64 of 16 bytes.
    Key = 7,
}

/// True when the comma-separated `list` has `token` (ASCII case-insensitive).
#[inline]
fn list_has(list: &[u8], token: &[u8]) -> bool {
    list.split(|&b| b == b',').any(|t| t.trim_ascii().eq_ignore_ascii_case(token))
}

/// Handshake limit for one request: parse, RFC 6455 4.2.1 checks, the 101
/// with its accept value written into `out`.
#[inline(always)]
pub fn accept_one(req: &[u8], out: &mut [u8; 129]) -> Result<(), HandshakeError> {
    // Room for 32 headers, left uninitialised (httparse writes what it uses).
    let mut headers = [const { std::mem::MaybeUninit::<httparse::Header<'_>>::uninit() }; 32];
    let mut r = httparse::Request::new(&mut []);
    match r.parse_with_uninit_headers(req, &mut headers) {
        Ok(httparse::Status::Complete(n)) if n == req.len() => {}
        _ => return Err(HandshakeError::Parse),
    }
    if r.method != Some("GET") || r.version != Some(1) {
        return Err(HandshakeError::Method);
    }
    let (mut hosts, mut upgrades, mut versions, mut keys) = (0, 0, 0, 0);
    let (mut host_ok, mut upgrade_ok, mut connection_ok, mut version_ok) = (false, false, false, false);
    let mut key: &[u8] = &[];
    for h in r.headers.iter() {
        let name = h.name.as_bytes();
        match name.len() {
            4 if name.eq_ignore_ascii_case(b"host") => {
                hosts += 1;
                host_ok = !h.value.is_empty();
            }
            7 if name.eq_ignore_ascii_case(b"upgrade") => {
                upgrades += 1;
                upgrade_ok = list_has(h.value, b"websocket");
            }
            10 if name.eq_ignore_ascii_case(b"connection") => connection_ok |= list_has(h.value, b"upgrade"),
            17 if name.eq_ignore_ascii_case(b"sec-websocket-key") => {
                keys += 1;
                key = h.value;
            }
            21 if name.eq_ignore_ascii_case(b"sec-websocket-version") => {
                versions += 1;
                version_ok = h.value == b"13";
            }
            _ => {}
        }
    }
    if hosts != 1 || !host_ok {
        return Err(HandshakeError::Host);
    }
    if upgrades != 1 || !upgrade_ok {
        return Err(HandshakeError::Upgrade);
    }
    if !connection_ok {
        return Err(HandshakeError::Connection);
    }
    if versions != 1 || !version_ok {
        return Err(HandshakeError::Version);
    }
    let mut raw = [0u8; 18];
    if keys != 1
        || key.len() != 24
        || !matches!(base64::engine::general_purpose::STANDARD.decode_slice(key, &mut raw), Ok(16))
    {
        return Err(HandshakeError::Key);
    }
    let mut sha = Sha1::new();
    sha.update(key);
    sha.update(GUID);
    let hash = sha.finalize();
    out.copy_from_slice(RESPONSE);
    let n = base64::engine::general_purpose::STANDARD
        .encode_slice(hash, &mut out[ACCEPT_AT..ACCEPT_AT + 28])
        .expect("20 bytes are 28 base64 characters");
    debug_assert_eq!(n, 28);
    Ok(())
}

/// Handshake limit over `n` requests of `req_len` bytes each, concatenated:
/// each 101 is written into one reused 129-byte buffer and handed over.
#[inline(never)]
pub fn handshake<D: Deliver>(reqs: &[u8], req_len: usize, d: &mut D) -> Result<(), HandshakeError> {
    let mut out = [0u8; 129];
    for req in reqs.chunks_exact(req_len) {
        accept_one(req, &mut out)?;
        d.deliver(&out);
    }
    Ok(())
}

// ---- C entry points (limits.h) -----------------------------------------------------

/// Results of a C entry point: messages handed over (or frames written), and
/// in verification mode their bytes and FNV-1a; `sink` folds the handed-over
/// pointers and lengths (timed mode) or the bytes written (send).
#[repr(C)]
pub struct LimitsStats {
    pub messages: u64,
    pub bytes: u64,
    pub fnv: u64,
    pub sink: u64,
}

/// # Safety
/// `ptr` must be valid for `len` bytes (or `len` 0).
unsafe fn slice<'a>(ptr: *const u8, len: usize) -> &'a [u8] {
    if len == 0 {
        &[]
    } else {
        std::slice::from_raw_parts(ptr, len)
    }
}

fn fill(out: &mut LimitsStats, hash: bool, h: &Handover, g: &Digest) {
    if hash {
        out.messages = g.messages;
        out.bytes = g.bytes;
        out.fnv = g.fnv;
    } else {
        out.messages = h.messages;
        out.sink = std::hint::black_box(h.sink) as u64;
    }
}

/// See limits.h.
///
/// # Safety
/// `input` valid for `len` bytes; `out` a valid pointer.
#[no_mangle]
pub unsafe extern "C" fn limits_recv(
    input: *const u8,
    len: usize,
    chunk: usize,
    hash: i32,
    out: *mut LimitsStats,
) -> i32 {
    let input = slice(input, len);
    let out = &mut *out;
    *out = LimitsStats { messages: 0, bytes: 0, fnv: FNV_INIT, sink: 0 };
    let (mut h, mut g) = (Handover::default(), Digest::default());
    let rc = if hash != 0 { recv(input, chunk, &mut g) } else { recv(input, chunk, &mut h) };
    fill(out, hash != 0, &h, &g);
    match rc {
        Ok(()) => 0,
        Err(e) => -(e as i32),
    }
}

/// See limits.h.
///
/// # Safety
/// `payloads` valid for `msg_len * messages` bytes, `sink` for `sink_cap`
/// bytes (writable), `out` a valid pointer.
#[no_mangle]
pub unsafe extern "C" fn limits_send(
    payloads: *const u8,
    msg_len: usize,
    messages: usize,
    opcode: u8,
    client: i32,
    sink: *mut u8,
    sink_cap: usize,
    out: *mut LimitsStats,
) -> i32 {
    let out = &mut *out;
    let frame = msg_len + 14;
    if frame > sink_cap || sink.is_null() || msg_len == 0 {
        return -1;
    }
    let payloads = slice(payloads, msg_len * messages);
    let sink = std::slice::from_raw_parts_mut(sink, sink_cap);
    let total = send(payloads, msg_len, opcode, client != 0, sink);
    *out = LimitsStats { messages: messages as u64, bytes: total as u64, fnv: 0, sink: sink[0] as u64 };
    0
}

/// See limits.h.
///
/// # Safety
/// `reqs` valid for `req_len * n` bytes; `out` a valid pointer.
#[no_mangle]
pub unsafe extern "C" fn limits_handshake(
    reqs: *const u8,
    req_len: usize,
    n: usize,
    hash: i32,
    out: *mut LimitsStats,
) -> i32 {
    let out = &mut *out;
    *out = LimitsStats { messages: 0, bytes: 0, fnv: FNV_INIT, sink: 0 };
    if req_len == 0 {
        return -(HandshakeError::Parse as i32);
    }
    let reqs = slice(reqs, req_len * n);
    let (mut h, mut g) = (Handover::default(), AcceptDigest::default());
    let rc = if hash != 0 { handshake(reqs, req_len, &mut g) } else { handshake(reqs, req_len, &mut h) };
    fill(out, hash != 0, &h, &g.0);
    match rc {
        Ok(()) => 0,
        Err(e) => -(e as i32),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A masked client frame.
    fn frame(b0: u8, payload: &[u8], key: [u8; 4]) -> Vec<u8> {
        let mut f = vec![b0];
        let n = payload.len();
        if n < 126 {
            f.push(0x80 | n as u8);
        } else if n <= 0xFFFF {
            f.push(0x80 | 126);
            f.extend_from_slice(&(n as u16).to_be_bytes());
        } else {
            f.push(0x80 | 127);
            f.extend_from_slice(&(n as u64).to_be_bytes());
        }
        f.extend_from_slice(&key);
        f.extend(payload.iter().enumerate().map(|(i, &b)| b ^ key[i & 3]));
        f
    }

    fn digest(msgs: &[Vec<u8>]) -> (u64, u64, u64) {
        let mut d = Digest::default();
        for m in msgs {
            d.deliver(m);
        }
        (d.messages, d.bytes, d.fnv)
    }

    fn walk(input: &[u8], chunk: usize) -> Result<(u64, u64, u64), RecvError> {
        let mut d = Digest::default();
        recv(input, chunk, &mut d)?;
        Ok((d.messages, d.bytes, d.fnv))
    }

    #[test]
    fn xor_copy_matches_bytewise_mask() {
        let src: Vec<u8> = (0..200u32).map(|i| (i * 7 + 3) as u8).collect();
        let key = [0x12, 0x9a, 0x7f, 0xe1];
        for n in 0..src.len() {
            for rot in 0..4 {
                let k = u32::from_le_bytes(key).rotate_right(8 * rot as u32);
                let mut dst = vec![0u8; n];
                let high = xor_copy(&mut dst, &src[..n], k);
                let want: Vec<u8> = src[..n].iter().enumerate().map(|(i, &b)| b ^ key[(i + rot) & 3]).collect();
                assert_eq!(dst, want, "n {n} rot {rot}");
                assert_eq!(high != 0, want.iter().any(|&b| b >= 0x80), "n {n} rot {rot}");
            }
        }
    }

    #[test]
    fn walker_delivers_the_same_messages_for_every_chunk_size() {
        let key = [1, 2, 3, 0x85];
        let text: Vec<u8> = "héllo wörld ✓ 𝄞 ".repeat(20).into_bytes();
        let big: Vec<u8> = (0..70_000u32).map(|i| (i % 251) as u8).collect();
        let mut input = Vec::new();
        let mut msgs = Vec::new();
        // small ASCII text, binary with a 16-bit and a 64-bit length, UTF-8 text
        input.extend(frame(0x81, b"hello", key));
        msgs.push(b"hello".to_vec());
        input.extend(frame(0x82, &big[..300], key));
        msgs.push(big[..300].to_vec());
        input.extend(frame(0x82, &big, key));
        msgs.push(big.clone());
        input.extend(frame(0x81, &text, key));
        msgs.push(text.clone());
        // fragmented text with a ping between fragments, split inside a code point
        input.extend(frame(0x01, &text[..7], key));
        input.extend(frame(0x89, b"ping", key));
        input.extend(frame(0x00, &text[7..200], key));
        input.extend(frame(0x80, &text[200..], key));
        msgs.push(text.clone());
        // empty messages
        input.extend(frame(0x81, b"", key));
        msgs.push(Vec::new());
        input.extend(frame(0x02, b"", key));
        input.extend(frame(0x80, b"x", key));
        msgs.push(b"x".to_vec());
        let want = digest(&msgs);
        for chunk in (1..64).chain([100, 1000, 4096, 65536, input.len()]) {
            assert_eq!(walk(&input, chunk), Ok(want), "chunk {chunk}");
        }
    }

    #[test]
    fn walker_refuses_what_a_server_must_refuse() {
        let key = [9, 8, 7, 6];
        let cases: Vec<(Vec<u8>, RecvError)> = vec![
            (frame(0xC1, b"rsv1", key), RecvError::Rsv),
            (frame(0xA1, b"rsv2", key), RecvError::Rsv),
            // (an unmasked header is complete after 2 bytes; the walker decides
            // once it has what would be the key's 4 bytes too)
            ([vec![0x81, 0x02], b"hi".to_vec(), b"more".to_vec()].concat(), RecvError::Unmasked),
            (frame(0x83, b"op3", key), RecvError::Opcode),
            (frame(0x8B, b"opB", key), RecvError::Opcode),
            (frame(0x80, b"cont", key), RecvError::FragmentOrder),
            ([frame(0x01, b"a", key), frame(0x81, b"b", key)].concat(), RecvError::FragmentOrder),
            (frame(0x09, b"frag ping", key), RecvError::Control),
            (frame(0x89, &[b'p'; 126], key), RecvError::Control),
            (frame(0x81, &[0xC3, 0x28], key), RecvError::Utf8),
            ([frame(0x01, &[0xE2, 0x82], key), frame(0x80, &[0x28], key)].concat(), RecvError::Utf8),
            ([vec![0x82, 0xFF], (1u64 << 63).to_be_bytes().to_vec(), key.to_vec()].concat(), RecvError::Length),
            (
                [vec![0x82, 0xFF], ((MAX_MESSAGE + 1) as u64).to_be_bytes().to_vec(), key.to_vec()].concat(),
                RecvError::TooBig,
            ),
        ];
        for (i, (input, err)) in cases.iter().enumerate() {
            for chunk in [1, 3, 64, 65536] {
                assert_eq!(walk(input, chunk), Err(*err), "case {i}, chunk {chunk}");
            }
        }
    }

    #[test]
    fn send_writes_frames_that_parse_back() {
        for &(len, client) in &[(1, true), (32, true), (125, false), (126, true), (65535, false), (65536, true)] {
            let payloads: Vec<u8> = (0..len * 3).map(|i| (i % 253) as u8).collect();
            let mut sink = vec![0u8; 3 * (len + 14)];
            let n = send(&payloads, len, 2, client, &mut sink);
            let mut p = 0;
            let mut got = Vec::new();
            while p < n {
                assert_eq!(sink[p], 0x82);
                assert_eq!(sink[p + 1] >> 7, client as u8);
                let (l, hl) = match sink[p + 1] & 0x7F {
                    126 => (u16::from_be_bytes([sink[p + 2], sink[p + 3]]) as usize, 4),
                    127 => (u64::from_be_bytes(sink[p + 2..p + 10].try_into().unwrap()) as usize, 10),
                    l => (l as usize, 2),
                };
                assert_eq!(l, len);
                let (key, at) = if client { (sink[p + hl..p + hl + 4].to_vec(), hl + 4) } else { (vec![0; 4], hl) };
                got.extend(sink[p + at..p + at + l].iter().enumerate().map(|(i, &b)| b ^ key[i & 3]));
                p += at + l;
            }
            assert_eq!(p, n);
            assert_eq!(got, payloads, "len {len} client {client}");
        }
    }

    fn request(lines: &[&str]) -> Vec<u8> {
        let mut s = String::from("GET /chat HTTP/1.1\r\n");
        for l in lines {
            s += l;
            s += "\r\n";
        }
        s += "\r\n";
        s.into_bytes()
    }

    const GOOD: [&str; 5] = [
        "Host: server.example.com",
        "Upgrade: websocket",
        "Connection: keep-alive, Upgrade",
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
        "Sec-WebSocket-Version: 13",
    ];

    #[test]
    fn handshake_answers_the_rfc_sample() {
        let mut out = [0u8; 129];
        accept_one(&request(&GOOD), &mut out).unwrap();
        assert_eq!(&out[ACCEPT_AT..ACCEPT_AT + 28], b"s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
        assert!(out.starts_with(b"HTTP/1.1 101 Switching Protocols\r\n") && out.ends_with(b"\r\n\r\n"));
    }

    #[test]
    fn handshake_refuses_what_4_2_1_refuses() {
        let mut out = [0u8; 129];
        let without =
            |i: usize| -> Vec<&str> { GOOD.iter().enumerate().filter(|&(j, _)| j != i).map(|(_, l)| *l).collect() };
        let with = |i: usize, l: &'static str| -> Vec<&str> {
            let mut v = GOOD.to_vec();
            v[i] = l;
            v
        };
        let twice = |i: usize| -> Vec<&str> { [GOOD.to_vec(), vec![GOOD[i]]].concat() };
        let cases: Vec<(Vec<u8>, HandshakeError)> = vec![
            (request(&without(0)), HandshakeError::Host),
            (request(&twice(0)), HandshakeError::Host),
            (request(&without(1)), HandshakeError::Upgrade),
            (request(&with(1, "Upgrade: h2c")), HandshakeError::Upgrade),
            (request(&without(2)), HandshakeError::Connection),
            (request(&with(2, "Connection: keep-alive")), HandshakeError::Connection),
            (request(&without(3)), HandshakeError::Key),
            (request(&with(3, "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ")), HandshakeError::Key),
            (request(&with(3, "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZXg=")), HandshakeError::Key),
            (request(&twice(3)), HandshakeError::Key),
            (request(&without(4)), HandshakeError::Version),
            (request(&with(4, "Sec-WebSocket-Version: 8")), HandshakeError::Version),
            (request(&GOOD)[..40].to_vec(), HandshakeError::Parse),
            ([request(&GOOD), b"x".to_vec()].concat(), HandshakeError::Parse),
            (
                String::from_utf8(request(&GOOD)).unwrap().replacen("GET", "POST", 1).into_bytes(),
                HandshakeError::Method,
            ),
            (String::from_utf8(request(&GOOD)).unwrap().replacen("1.1", "1.0", 1).into_bytes(), HandshakeError::Method),
        ];
        for (i, (req, err)) in cases.iter().enumerate() {
            assert_eq!(accept_one(req, &mut out), Err(*err), "case {i}");
        }
    }
}
