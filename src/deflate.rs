//! permessage-deflate (RFC 7692): parameter negotiation and the codec.

use crate::error::{Error, ErrorKind, Result};
pub use crate::zstream::NoMemory;
use crate::zstream::{Deflater, InflateStatus, Inflater};

/// What a client offers or a server is willing to accept.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeflateConfig {
    /// Client: the offers, sent in order as alternatives. Server: ignored.
    pub offers: Vec<DeflateParams>,
    /// Server: the largest window (9..=15) it will use for compression and
    /// accept for decompression; client: the largest inbound window it accepts.
    pub max_window_bits: u8,
    /// Server: whether it agrees to client_no_context_takeover / requests
    /// server_no_context_takeover itself.
    pub server_no_context_takeover: bool,
    pub client_no_context_takeover: bool,
    /// zlib compression level 0..=9 (default 6).
    pub level: u8,
    /// zlib memory level of the compressor, 1..=9 (default 8): its block
    /// buffers take `7 * 2^(mem_level + 6)` bytes (112 KiB at 8, 896 bytes
    /// at 1). Lower saves memory and compresses slightly worse; it does not
    /// change the wire format.
    pub mem_level: u8,
    /// Messages smaller than this many bytes are sent uncompressed.
    pub threshold: usize,
    /// Create the inflater and the compressor as soon as compression is
    /// negotiated, and keep them for the connection's life (default false):
    /// no message then allocates zlib state, not even the first, at the cost
    /// of holding that memory while idle. Without it, states are created on
    /// first use and, where no context takeover allows, freed after each
    /// message (see [`Deflate`]).
    pub warm_up: bool,
}

impl Default for DeflateConfig {
    fn default() -> Self {
        DeflateConfig {
            offers: vec![DeflateParams::default()],
            max_window_bits: 15,
            server_no_context_takeover: false,
            client_no_context_takeover: false,
            level: 6,
            mem_level: 8,
            threshold: 0,
            warm_up: false,
        }
    }
}

/// Negotiated (or offered) parameters. A window of 0 in an offer means
/// "parameter absent"; after negotiation both are 9..=15.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DeflateParams {
    pub server_no_context_takeover: bool,
    pub client_no_context_takeover: bool,
    pub server_max_window_bits: u8,
    pub client_max_window_bits: u8,
}

impl Default for DeflateParams {
    fn default() -> Self {
        DeflateParams {
            server_no_context_takeover: false,
            client_no_context_takeover: false,
            server_max_window_bits: 15,
            client_max_window_bits: 15,
        }
    }
}

// ---------------------------------------------------------------------------
// Sec-WebSocket-Extensions parsing (RFC 6455 §9.1)
//
//   extension-list = 1#extension
//   extension      = extension-token *( ";" extension-param )
//   extension-param = token [ "=" (token | quoted-string) ]
//
// Optional whitespace (SP / HTAB) is allowed around every separator, and empty
// list elements (", ,") are skipped as HTTP list syntax permits.
// ---------------------------------------------------------------------------

const PMD: &str = "permessage-deflate";

/// One parsed extension element: its name and its parameters in order.
#[derive(Debug, PartialEq, Eq)]
struct Extension {
    name: String,
    params: Vec<(String, Option<String>)>,
}

fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

struct Cursor<'a> {
    s: &'a [u8],
    i: usize,
}

impl Cursor<'_> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    fn skip_ows(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t')) {
            self.i += 1;
        }
    }

    fn token(&mut self) -> std::result::Result<String, String> {
        let start = self.i;
        while self.peek().is_some_and(is_tchar) {
            self.i += 1;
        }
        if start == self.i {
            return Err(match self.peek() {
                Some(b) => format!("expected a token at offset {start}, found {:?}", b as char),
                None => format!("expected a token at offset {start}, found the end"),
            });
        }
        // tchar is ASCII only, so this cannot fail.
        Ok(String::from_utf8_lossy(&self.s[start..self.i]).into_owned())
    }

    /// A quoted-string with the quotes removed and quoted-pairs unescaped.
    fn quoted(&mut self) -> std::result::Result<String, String> {
        let start = self.i;
        self.i += 1; // opening DQUOTE
        let mut value = Vec::new();
        loop {
            match self.peek() {
                None => return Err(format!("unterminated quoted-string at offset {start}")),
                Some(b'"') => {
                    self.i += 1;
                    return Ok(String::from_utf8_lossy(&value).into_owned());
                }
                Some(b'\\') => {
                    self.i += 1;
                    match self.peek() {
                        Some(b) if b == b'\t' || b >= 0x20 && b != 0x7f => value.push(b),
                        _ => return Err(format!("bad quoted-pair in quoted-string at offset {start}")),
                    }
                    self.i += 1;
                }
                Some(b) if b == b'\t' || b >= 0x20 && b != 0x7f => {
                    value.push(b);
                    self.i += 1;
                }
                Some(b) => return Err(format!("control byte 0x{b:02x} in quoted-string")),
            }
        }
    }
}

/// Parses one header value into its extension elements.
fn parse_extensions(value: &[u8]) -> std::result::Result<Vec<Extension>, String> {
    let mut c = Cursor { s: value, i: 0 };
    let mut out = Vec::new();
    loop {
        c.skip_ows();
        match c.peek() {
            None => return Ok(out),
            Some(b',') => {
                c.i += 1;
                continue;
            }
            Some(_) => {}
        }
        let name = c.token()?;
        let mut params = Vec::new();
        loop {
            c.skip_ows();
            match c.peek() {
                None => break,
                Some(b',') => {
                    c.i += 1;
                    break;
                }
                Some(b';') => {
                    c.i += 1;
                    c.skip_ows();
                    let pname = c.token()?;
                    c.skip_ows();
                    let mut pvalue = None;
                    if c.peek() == Some(b'=') {
                        c.i += 1;
                        c.skip_ows();
                        pvalue = Some(if c.peek() == Some(b'"') { c.quoted()? } else { c.token()? });
                    }
                    params.push((pname, pvalue));
                }
                Some(b) => return Err(format!("unexpected {:?} at offset {}", b as char, c.i)),
            }
        }
        out.push(Extension { name, params });
    }
}

/// The four permessage-deflate parameters as they appeared in one element.
#[derive(Debug, Default)]
struct Raw {
    server_no_context_takeover: bool,
    client_no_context_takeover: bool,
    /// `Some(bits)`: present (always with a value).
    server_max_window_bits: Option<u8>,
    /// `Some(None)`: present without a value (allowed in offers only).
    client_max_window_bits: Option<Option<u8>>,
}

/// A window-bits value: a decimal integer 8..=15 without leading zeroes
/// (RFC 7692 §7.1.2.1, §7.1.2.2). A quoted value has already been unquoted.
fn parse_bits(v: &str) -> Option<u8> {
    let b = v.as_bytes();
    if b.is_empty() || b.len() > 2 || b[0] == b'0' || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let n: u8 = v.parse().ok()?;
    (8..=15).contains(&n).then_some(n)
}

/// Validates the parameters of one permessage-deflate element (RFC 7692 §7:
/// unknown names, duplicates and invalid values make the element invalid).
fn validate(params: &[(String, Option<String>)], is_response: bool) -> std::result::Result<Raw, String> {
    let mut raw = Raw::default();
    let mut seen = [false; 4];
    for (name, value) in params {
        let idx = match name.to_ascii_lowercase().as_str() {
            "server_no_context_takeover" => 0,
            "client_no_context_takeover" => 1,
            "server_max_window_bits" => 2,
            "client_max_window_bits" => 3,
            _ => return Err(format!("unknown permessage-deflate parameter {name:?}")),
        };
        if std::mem::replace(&mut seen[idx], true) {
            return Err(format!("duplicate permessage-deflate parameter {name:?}"));
        }
        let bits = |v: &Option<String>| -> std::result::Result<u8, String> {
            match v {
                None => Err(format!("permessage-deflate parameter {name:?} needs a value")),
                Some(v) => parse_bits(v)
                    .ok_or_else(|| format!("invalid value {v:?} for permessage-deflate parameter {name:?} (8..=15)")),
            }
        };
        match idx {
            0 | 1 => {
                if value.is_some() {
                    return Err(format!("permessage-deflate parameter {name:?} takes no value"));
                }
                if idx == 0 {
                    raw.server_no_context_takeover = true;
                } else {
                    raw.client_no_context_takeover = true;
                }
            }
            2 => raw.server_max_window_bits = Some(bits(value)?),
            _ => {
                // In an offer the value is optional ("I support the
                // parameter"); in a response it is mandatory (§7.1.2.2).
                raw.client_max_window_bits = Some(match value {
                    None if !is_response => None,
                    _ => Some(bits(value)?),
                });
            }
        }
    }
    Ok(raw)
}

/// Clamps a configured window to what zlib can compress with (9..=15);
/// 0 (or anything out of range above) means the default 15.
fn clamp_bits(bits: u8) -> u8 {
    match bits {
        0 => 15,
        b => b.clamp(9, 15),
    }
}

/// The offer as we actually send it: the server window is additionally capped
/// by `cfg.max_window_bits` (the largest inbound window a client accepts), so a
/// response within the offer is always within our limit.
fn effective_offer(o: &DeflateParams, cfg: &DeflateConfig) -> DeflateParams {
    DeflateParams {
        server_no_context_takeover: o.server_no_context_takeover,
        client_no_context_takeover: o.client_no_context_takeover,
        server_max_window_bits: clamp_bits(o.server_max_window_bits).min(clamp_bits(cfg.max_window_bits)),
        client_max_window_bits: match o.client_max_window_bits {
            0 => 0,
            b => clamp_bits(b),
        },
    }
}

/// Client: the Sec-WebSocket-Extensions value offering `cfg.offers`.
pub fn client_offer(cfg: &DeflateConfig) -> String {
    let mut s = String::new();
    for o in &cfg.offers {
        let o = effective_offer(o, cfg);
        if !s.is_empty() {
            s.push_str(", ");
        }
        s.push_str(PMD);
        if o.server_no_context_takeover {
            s.push_str("; server_no_context_takeover");
        }
        if o.client_no_context_takeover {
            s.push_str("; client_no_context_takeover");
        }
        if o.server_max_window_bits < 15 {
            s.push_str(&format!("; server_max_window_bits={}", o.server_max_window_bits));
        }
        match o.client_max_window_bits {
            0 => {}
            15 => s.push_str("; client_max_window_bits"),
            b => s.push_str(&format!("; client_max_window_bits={b}")),
        }
    }
    s
}

/// Checks a (syntactically valid) response against one of our effective
/// offers and yields the negotiated parameters, or why it does not match.
fn match_offer(o: &DeflateParams, r: &Raw) -> std::result::Result<DeflateParams, &'static str> {
    // §7.1.1.1: the server accepts server_no_context_takeover by echoing it;
    // it may also add it on its own.
    if o.server_no_context_takeover && !r.server_no_context_takeover {
        return Err("we offered server_no_context_takeover but the server did not accept it");
    }
    // §7.1.2.1: an offered server_max_window_bits is accepted by echoing it
    // with the same or a smaller value. The server MAY include it even if the
    // offer did not (then any 8..=15 is fine: we inflate with 15).
    let server_bits = match (o.server_max_window_bits < 15, r.server_max_window_bits) {
        (true, None) => return Err("we offered server_max_window_bits but the server did not accept it"),
        (true, Some(b)) if b > o.server_max_window_bits => {
            return Err("server_max_window_bits in the response is larger than offered")
        }
        (_, b) => b.unwrap_or(15),
    };
    // §7.1.2.2: the server must not send client_max_window_bits unless the
    // offer had it. Whatever it says, we also stay within our own offer value.
    let client_bits = match (o.client_max_window_bits, r.client_max_window_bits) {
        (0, Some(_)) => return Err("client_max_window_bits in the response but not in our offer"),
        (offered, resp) => clamp_bits(offered).min(resp.flatten().unwrap_or(15)),
    };
    // client_max_window_bits=8 (Autobahn's cases 13.3, 13.5 and 13.7 ask for
    // it) is honoured although zlib's raw deflate cannot limit itself to a
    // 256-byte window: the codec then sends stored blocks, which refer to no
    // window at all (see `Deflate::new`).
    Ok(DeflateParams {
        server_no_context_takeover: r.server_no_context_takeover,
        client_no_context_takeover: r.client_no_context_takeover || o.client_no_context_takeover,
        // An inflater with a 512-byte window decodes any stream made with a
        // 256-byte one (every distance <= 256 is within 512), so
        // server_max_window_bits=8 is accepted and inflated with 9.
        server_max_window_bits: server_bits.max(9),
        client_max_window_bits: client_bits,
    })
}

/// Client: validates the server's Sec-WebSocket-Extensions values (all of them)
/// against what we offered. `Ok(None)` when the server declined compression.
pub fn client_accept(cfg: &DeflateConfig, response_values: &[&[u8]]) -> Result<Option<DeflateParams>> {
    let fail = |m: String| Error::handshake(0, m);
    let mut found: Option<Raw> = None;
    for value in response_values {
        let exts = parse_extensions(value).map_err(|e| {
            fail(format!("malformed Sec-WebSocket-Extensions {:?}: {e}", String::from_utf8_lossy(value)))
        })?;
        for ext in exts {
            if !ext.name.eq_ignore_ascii_case(PMD) {
                return Err(fail(format!("server accepted extension {:?}, which we did not offer", ext.name)));
            }
            if cfg.offers.is_empty() {
                return Err(fail("server accepted permessage-deflate, which we did not offer".into()));
            }
            if found.is_some() {
                return Err(fail("server accepted permessage-deflate more than once".into()));
            }
            found = Some(validate(&ext.params, true).map_err(fail)?);
        }
    }
    let Some(r) = found else { return Ok(None) };
    let mut first_reason = None;
    for o in &cfg.offers {
        match match_offer(&effective_offer(o, cfg), &r) {
            Ok(p) => return Ok(Some(p)),
            Err(why) => {
                first_reason.get_or_insert(why);
            }
        }
    }
    let why = first_reason.unwrap_or("no offer");
    Err(fail(format!("server's permessage-deflate response matches none of our offers: {why}")))
}

/// Server: picks the first acceptable permessage-deflate offer among the
/// client's Sec-WebSocket-Extensions values. Returns the negotiated parameters
/// and the response header value, or `None` to decline.
pub fn server_negotiate(cfg: &DeflateConfig, offer_values: &[&[u8]]) -> Option<(DeflateParams, String)> {
    let max = clamp_bits(cfg.max_window_bits);
    for value in offer_values {
        // A value we cannot parse cannot be split into elements reliably:
        // decline everything in it (declining is always allowed).
        let Ok(exts) = parse_extensions(value) else {
            continue;
        };
        for ext in exts {
            if !ext.name.eq_ignore_ascii_case(PMD) {
                continue;
            }
            // §7: an offer with unknown/duplicate/invalid parameters is declined.
            let Ok(o) = validate(&ext.params, false) else {
                continue;
            };
            if o.server_max_window_bits == Some(8) {
                // We would have to compress with a 256-byte window, which
                // zlib's raw deflate cannot do: decline, try the next offer.
                continue;
            }
            let server_bits = o.server_max_window_bits.unwrap_or(15).min(max);
            // Without client_max_window_bits in the offer we must not limit
            // the client's window (§7.1.2.2), so we inflate with 15 then.
            let client_bits = match o.client_max_window_bits {
                None => 15,
                Some(v) => v.unwrap_or(15).min(max),
            };
            let params = DeflateParams {
                server_no_context_takeover: o.server_no_context_takeover || cfg.server_no_context_takeover,
                client_no_context_takeover: o.client_no_context_takeover || cfg.client_no_context_takeover,
                server_max_window_bits: server_bits,
                client_max_window_bits: client_bits.max(9),
            };
            let mut resp = String::from(PMD);
            if params.server_no_context_takeover {
                resp.push_str("; server_no_context_takeover");
            }
            if params.client_no_context_takeover {
                resp.push_str("; client_no_context_takeover");
            }
            // Echoing server_max_window_bits is how an offered one is accepted;
            // we may also state a smaller window on our own.
            if o.server_max_window_bits.is_some() || server_bits < 15 {
                resp.push_str(&format!("; server_max_window_bits={server_bits}"));
            }
            if o.client_max_window_bits.is_some() && client_bits < 15 {
                resp.push_str(&format!("; client_max_window_bits={client_bits}"));
            }
            return Some((params, resp));
        }
    }
    None
}

/// Why inflating a message failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InflateError {
    /// The inflated message would exceed the limit (close 1009).
    TooBig,
    /// The compressed data is corrupt (close 1007).
    Corrupt,
    /// The inflater's state or the output buffer could not be allocated
    /// (nothing was aborted; the connection decides what follows).
    NoMemory,
}

impl From<NoMemory> for InflateError {
    fn from(_: NoMemory) -> Self {
        InflateError::NoMemory
    }
}

/// For the send calls: nothing was queued or changed.
impl From<NoMemory> for Error {
    fn from(_: NoMemory) -> Self {
        Error::new(ErrorKind::NoMemory, "out of memory for the permessage-deflate compressor; nothing was sent")
    }
}

/// The end of a sync flush, which senders strip from each message (RFC 7692 §7.2.1).
pub const TAIL: [u8; 4] = [0x00, 0x00, 0xff, 0xff];

/// The per-connection codec: one inflater, one deflater.
///
/// # Memory
///
/// Both zlib states are allocated through a counting allocator, so
/// [`Deflate::heap_bytes`] is exact. What they cost (zlib-rs 0.6, measured
/// by `cargo run --release --example memory`):
///
/// - The inflater: 46.6 KiB, whatever the negotiated window: zlib-rs
///   always keeps a 32 KiB window.
/// - The compressor: a fixed 128 KiB hash table (zlib-rs does not scale it
///   with memLevel, unlike zlib), `4 * 2^bits` bytes for the window and its
///   chains, `7 * 2^(mem_level + 6)` for the block buffers, and about 3 KiB
///   more: 371 KiB at 15 bits and memLevel 8 (the defaults), 259 KiB at
///   12 bits, 245 KiB at 9 bits; 134 KiB at 9 bits and memLevel 1, the
///   least it can be.
///
/// A state is created when first needed, so a connection that never sends
/// (or never receives) a compressed message pays nothing for it. Where no
/// context takeover lets it, a state is freed at the end of each message
/// (the peer's flag frees our inflater, ours frees our compressor): an idle
/// connection then holds no zlib state at all, at the price of creating it
/// again for each message (a 1 KB message compressed and inflated takes
/// about twice as long as with states kept; `cargo run --release --example
/// memory` prints both times on your machine). With context takeover a
/// state must live as long as the connection; lower its cost with smaller windows
/// (`max_window_bits`, which also bounds what we accept for the peer's
/// compressor but not our inflater), a smaller `mem_level`, or by
/// negotiating no context takeover.
///
/// Warm-up ([`DeflateConfig::warm_up`], [`Deflate::warm_up`]) does the
/// opposite: both states are created up front and kept for the connection's
/// life, so no message allocates zlib state (no first-message hitch, and a
/// steady state without allocation) while the memory stays held.
///
/// # Window enforcement
///
/// The peer's negotiated window is not enforced on inflate: zlib-rs's
/// inflater keeps a 32 KiB window whatever window bits it is given and, like
/// stock zlib (whose strict distance check is compiled out), rejects a
/// distance only when it reaches before the data it holds. A peer that
/// compresses with a larger window than it negotiated is decoded correctly,
/// and it gains nothing: our inflater's memory does not depend on the
/// negotiated window. Detecting it would need a second DEFLATE decoder.
pub struct Deflate {
    /// Always a 15-bit inflater: it decodes streams made with any smaller
    /// window, and zlib-rs allocates a 32 KiB window whatever it is told.
    inflater: Option<Inflater>,
    in_no_context_takeover: bool,
    /// The peer ended the current message's DEFLATE stream with a BFINAL
    /// block; the rest of the message is ignored and the inflater reset.
    in_stream_ended: bool,
    deflater: Option<Deflater>,
    out_bits: u8,
    out_no_context_takeover: bool,
    level: u8,
    mem_level: u8,
    threshold: usize,
    /// Warm: keep both states for the connection's life.
    keep_state: bool,
    /// Most bytes the two zlib states may hold together.
    state_limit: usize,
}

impl Deflate {
    /// `is_server` decides which of the negotiated windows/takeover flags
    /// apply to inbound and outbound messages. With `cfg.warm_up`, both zlib
    /// states are created now; if that fails for lack of memory they are
    /// created on first use instead, where the failure is reported.
    pub fn new(params: DeflateParams, is_server: bool, cfg: &DeflateConfig) -> Deflate {
        // Inbound is what the peer compresses: the client's parameters when
        // we are the server, the server's when we are the client.
        let (in_nct, out_bits, out_nct) = if is_server {
            (params.client_no_context_takeover, params.server_max_window_bits, params.server_no_context_takeover)
        } else {
            (params.server_no_context_takeover, params.client_max_window_bits, params.client_no_context_takeover)
        };
        // zlib cannot compress within a 256-byte window (8 bits): level 0
        // emits only stored blocks, which use no window, so they honour any
        // window limit (RFC 7692 §7.1.2.2) at the price of no compression.
        let level = if out_bits == 8 { 0 } else { cfg.level.min(9) };
        let mut d = Deflate {
            inflater: None,
            in_no_context_takeover: in_nct,
            in_stream_ended: false,
            deflater: None,
            out_bits: clamp_bits(out_bits),
            out_no_context_takeover: out_nct,
            level,
            mem_level: cfg.mem_level.clamp(1, 9),
            threshold: cfg.threshold,
            keep_state: cfg.warm_up,
            state_limit: usize::MAX,
        };
        if cfg.warm_up {
            // Out of memory now: retried (and reported) on first use.
            let _ = d.warm_up();
        }
        d
    }

    /// Creates both zlib states now, and keeps them (and any created later)
    /// for the connection's life: from here on no message allocates zlib
    /// state. On `Err` the states that could be created are kept and the
    /// others are created on first use.
    pub fn warm_up(&mut self) -> std::result::Result<(), NoMemory> {
        self.keep_state = true;
        self.inflater()?;
        self.deflater()?;
        Ok(())
    }

    /// Whether the zlib states are kept between messages (warm-up).
    pub fn is_warm(&self) -> bool {
        self.keep_state
    }

    /// Caps the bytes the two zlib states may hold together (default: no
    /// cap). Creating a state that would exceed it fails with `NoMemory`, as
    /// a failed allocation does. States already created are not affected.
    pub fn set_state_limit(&mut self, bytes: usize) {
        self.state_limit = bytes;
    }

    /// Heap bytes held now by the zlib states (exact: their allocations are
    /// counted). Buffers the caller passes in (`out`) are the caller's.
    pub fn heap_bytes(&self) -> usize {
        self.inflater.as_ref().map_or(0, Inflater::heap_bytes) + self.deflater.as_ref().map_or(0, Deflater::heap_bytes)
    }

    fn inflater(&mut self) -> std::result::Result<&mut Inflater, NoMemory> {
        let room = self.state_limit.saturating_sub(self.deflater.as_ref().map_or(0, Deflater::heap_bytes));
        match &mut self.inflater {
            Some(d) => Ok(d),
            slot => Ok(slot.insert(Inflater::new(room)?)),
        }
    }

    fn deflater(&mut self) -> std::result::Result<&mut Deflater, NoMemory> {
        let room = self.state_limit.saturating_sub(self.inflater.as_ref().map_or(0, Inflater::heap_bytes));
        let (level, bits, mem) = (self.level, self.out_bits, self.mem_level);
        match &mut self.deflater {
            Some(c) => Ok(c),
            slot => Ok(slot.insert(Deflater::new(level, bits, mem, room)?)),
        }
    }

    /// Inflates one piece of a compressed message's payload, appending to `out`.
    /// Fails with `TooBig` as soon as `out` would grow past `limit` bytes in
    /// total (never inflates a whole bomb first), and with `NoMemory` when
    /// the inflater or `out` cannot be allocated. After an error the
    /// inflater is dropped: the message's stream cannot be continued.
    pub fn inflate(&mut self, input: &[u8], out: &mut Vec<u8>, limit: usize) -> std::result::Result<(), InflateError> {
        if self.in_stream_ended {
            // Bytes after a BFINAL block (e.g. the 0x00 of RFC 7692 §7.2.3.4)
            // are not part of the DEFLATE stream; DEFLATE decoders stop there.
            return Ok(());
        }
        let r = self.inflate_piece(input, out, limit);
        if r.is_err() {
            self.inflater = None;
        }
        r
    }

    fn inflate_piece(
        &mut self,
        input: &[u8],
        out: &mut Vec<u8>,
        limit: usize,
    ) -> std::result::Result<(), InflateError> {
        let d = self.inflater()?;
        let mut input = input;
        loop {
            if out.len() > limit {
                return Err(InflateError::TooBig);
            }
            // Room for at most one byte past the limit: producing it proves
            // the message is too big, without inflating any further.
            let room = (limit - out.len()).saturating_add(1);
            if out.capacity() == out.len() {
                // Grow with what this input may plausibly inflate to (text
                // compresses 3-10x), not a fixed block: small messages then
                // leave small buffers behind. `try_reserve` still doubles.
                let want = room.min(64 * 1024).min(input.len().saturating_mul(8).saturating_add(256));
                out.try_reserve(want).map_err(|_| InflateError::NoMemory)?;
            }
            let n = (out.capacity() - out.len()).min(room);
            let before = out.len();
            let (status, consumed) = d.inflate(input, out, n);
            let produced = out.len() - before;
            input = &input[consumed..];
            match status {
                InflateStatus::Corrupt => return Err(InflateError::Corrupt),
                InflateStatus::NoMemory => return Err(InflateError::NoMemory),
                InflateStatus::StreamEnd => {
                    self.in_stream_ended = true;
                    return if out.len() > limit { Err(InflateError::TooBig) } else { Ok(()) };
                }
                InflateStatus::Ok => {}
            }
            if produced == n {
                continue; // output space ran out: there may be more
            }
            if input.is_empty() {
                return if out.len() > limit { Err(InflateError::TooBig) } else { Ok(()) };
            }
            if consumed == 0 && produced == 0 {
                // Input left, output space left, no progress: cannot happen
                // with a sane inflater; refuse rather than spin.
                return Err(InflateError::Corrupt);
            }
        }
    }

    /// Ends an inbound message: feeds the 00 00 ff ff tail, resets the
    /// inflater when the peer uses no context takeover.
    pub fn inflate_finish(&mut self, out: &mut Vec<u8>, limit: usize) -> std::result::Result<(), InflateError> {
        self.inflate(&TAIL, out, limit)?;
        self.end_message();
        Ok(())
    }

    /// Ends an inbound message whose 00 00 ff ff tail the caller already
    /// appended to its last piece (see `TAIL`): one inflate call per message
    /// instead of two. With the peer's no context takeover (and no warm-up)
    /// the inflater is freed here.
    pub fn end_message(&mut self) {
        if self.in_no_context_takeover && !self.keep_state {
            self.inflater = None;
        } else if self.in_no_context_takeover || self.in_stream_ended {
            // After a BFINAL block the next message starts a new DEFLATE
            // stream, which needs a fresh inflater.
            if let Some(d) = self.inflater.as_mut() {
                d.reset();
            }
        }
        self.in_stream_ended = false;
    }

    /// Compresses a piece of an outbound message, appending to `out`. When
    /// `fin`, flushes, strips the 00 00 ff ff tail and, with our no context
    /// takeover, resets the compressor (frees it, unless warm).
    ///
    /// Every piece is sync-flushed, so each frame carries all the data given
    /// so far and the receiver can inflate it at once (a sync flush in the
    /// middle of a message is just an empty stored block, RFC 7692 §7.2.1).
    ///
    /// `Err(NoMemory)` when the compressor or `out` cannot be allocated:
    /// `out` is then as it was, and the compressor is dropped (its window
    /// holds data the peer will never see); the next call starts a fresh
    /// one, which is always a valid continuation for the peer, as a fresh raw
    /// DEFLATE stream refers only to its own output.
    pub fn deflate(&mut self, input: &[u8], fin: bool, out: &mut Vec<u8>) -> std::result::Result<(), NoMemory> {
        let start = out.len();
        let r = self.deflate_piece(input, fin, out);
        if r.is_err() {
            self.deflater = None;
            out.truncate(start);
        }
        r
    }

    fn deflate_piece(&mut self, input: &[u8], fin: bool, out: &mut Vec<u8>) -> std::result::Result<(), NoMemory> {
        let c = self.deflater()?;
        let start = out.len();
        let mut input = input;
        loop {
            if out.capacity() - out.len() < 64 {
                out.try_reserve(input.len() / 2 + 1024).map_err(|_| NoMemory)?;
            }
            let before = out.len();
            let consumed = c.compress_sync(input, out);
            input = &input[consumed..];
            // Done once all input is in and the flush did not fill the buffer
            // (zlib: call again while avail_out == 0).
            if input.is_empty() && out.len() < out.capacity() {
                break;
            }
            // With input left and at least 64 bytes of room, zlib always
            // moves; never spin if it did not.
            assert!(consumed > 0 || out.len() > before, "zlib deflate made no progress");
        }
        if !fin {
            return Ok(());
        }
        if out[start..].ends_with(&TAIL) {
            out.truncate(out.len() - TAIL.len());
        } else {
            // zlib emits nothing for a flush right after a flush (an empty
            // final piece, or an empty message after a previous one). The
            // stream is byte-aligned then, so send a lone empty stored-block
            // header: with the receiver's 00 00 ff ff it forms a complete
            // empty block, the RFC 7692 §7.2.3.6 empty message. The byte
            // fits: the loop above left spare capacity.
            debug_assert_eq!(out.len(), start, "sync flush output must end in 00 00 ff ff");
            out.push(0x00);
        }
        match (self.out_no_context_takeover, self.keep_state) {
            (true, true) => self.deflater.as_mut().map_or((), Deflater::reset),
            (true, false) => self.deflater = None,
            (false, _) => {}
        }
        Ok(())
    }

    /// Bytes below which a message is sent uncompressed.
    pub fn threshold(&self) -> usize {
        self.threshold
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;

    // ---- helpers ---------------------------------------------------------

    fn params(snct: bool, cnct: bool, smwb: u8, cmwb: u8) -> DeflateParams {
        DeflateParams {
            server_no_context_takeover: snct,
            client_no_context_takeover: cnct,
            server_max_window_bits: smwb,
            client_max_window_bits: cmwb,
        }
    }

    fn neg(cfg: &DeflateConfig, offers: &[&str]) -> Option<(DeflateParams, String)> {
        let v: Vec<&[u8]> = offers.iter().map(|s| s.as_bytes()).collect();
        server_negotiate(cfg, &v)
    }

    fn accept(cfg: &DeflateConfig, resp: &[&str]) -> Result<Option<DeflateParams>> {
        let v: Vec<&[u8]> = resp.iter().map(|s| s.as_bytes()).collect();
        client_accept(cfg, &v)
    }

    fn client_cfg(offers: Vec<DeflateParams>) -> DeflateConfig {
        DeflateConfig { offers, ..DeflateConfig::default() }
    }

    fn codec(p: DeflateParams, is_server: bool) -> Deflate {
        Deflate::new(p, is_server, &DeflateConfig::default())
    }

    /// Inflates one whole message.
    fn inflate_msg(d: &mut Deflate, payload: &[u8]) -> std::result::Result<Vec<u8>, InflateError> {
        let mut out = Vec::new();
        d.inflate(payload, &mut out, usize::MAX - 1)?;
        d.inflate_finish(&mut out, usize::MAX - 1)?;
        Ok(out)
    }

    fn deflate_msg(d: &mut Deflate, msg: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        d.deflate(msg, true, &mut out).unwrap();
        out
    }

    /// Compressible but not trivial data: pseudo-random words.
    fn text(len: usize, seed: u32) -> Vec<u8> {
        const WORDS: [&str; 12] = [
            "alpha ",
            "beta ",
            "gamma ",
            "delta\n",
            "websocket ",
            "frame ",
            "zlib ",
            "0123 ",
            "xyzzy ",
            "q",
            "Ω ",
            "~",
        ];
        let mut x = seed.wrapping_mul(2654435761).wrapping_add(1);
        let mut v = Vec::with_capacity(len + 16);
        while v.len() < len {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            if x % 7 == 0 {
                v.push((x >> 8) as u8); // some noise
            } else {
                v.extend_from_slice(WORDS[(x >> 4) as usize % WORDS.len()].as_bytes());
            }
        }
        v.truncate(len);
        v
    }

    // ---- header parser ---------------------------------------------------

    #[test]
    fn parser_handles_whitespace_quotes_and_lists() {
        let e = parse_extensions(b" foo ;a ; b=1\t;c=\"x,\\\"y;\" ,, bar,permessage-deflate").unwrap();
        assert_eq!(e.len(), 3);
        assert_eq!(e[0].name, "foo");
        assert_eq!(
            e[0].params,
            vec![("a".into(), None), ("b".into(), Some("1".into())), ("c".into(), Some("x,\"y;".into()))]
        );
        assert_eq!(e[1], Extension { name: "bar".into(), params: vec![] });
        assert_eq!(e[2].name, "permessage-deflate");
        assert!(parse_extensions(b"").unwrap().is_empty());
        assert!(parse_extensions(b"foo; a=\"unterminated").is_err());
        assert!(parse_extensions(b"foo; =1").is_err());
        assert!(parse_extensions(b"foo bar").is_err());
        assert!(parse_extensions(b"foo; a=").is_err());
        assert!(parse_extensions(b"f(o)").is_err());
    }

    #[test]
    fn window_bits_values() {
        assert_eq!(parse_bits("8"), Some(8));
        assert_eq!(parse_bits("15"), Some(15));
        for bad in ["7", "16", "0", "08", "010", "", "1a", "+9", " 9", "100"] {
            assert_eq!(parse_bits(bad), None, "{bad:?}");
        }
    }

    // ---- client_offer ----------------------------------------------------

    #[test]
    fn offer_strings() {
        assert_eq!(client_offer(&DeflateConfig::default()), "permessage-deflate; client_max_window_bits");
        let cfg = client_cfg(vec![params(true, true, 10, 12), params(false, false, 15, 0), params(false, false, 0, 9)]);
        assert_eq!(
            client_offer(&cfg),
            "permessage-deflate; server_no_context_takeover; client_no_context_takeover; \
             server_max_window_bits=10; client_max_window_bits=12, permessage-deflate, \
             permessage-deflate; client_max_window_bits=9"
        );
        // The client's inbound limit caps the server window it offers.
        let cfg = DeflateConfig { max_window_bits: 11, ..DeflateConfig::default() };
        assert_eq!(client_offer(&cfg), "permessage-deflate; server_max_window_bits=11; client_max_window_bits");
        assert_eq!(client_offer(&client_cfg(vec![])), "");
    }

    // ---- server_negotiate ------------------------------------------------

    #[test]
    fn server_accepts_plain_offer() {
        let (p, r) = neg(&DeflateConfig::default(), &["permessage-deflate"]).unwrap();
        assert_eq!(p, params(false, false, 15, 15));
        assert_eq!(r, "permessage-deflate");
    }

    #[test]
    fn server_all_four_params() {
        let cfg = DeflateConfig::default();
        let (p, r) = neg(
            &cfg,
            &["permessage-deflate; server_no_context_takeover; client_no_context_takeover; \
               server_max_window_bits=10; client_max_window_bits=12"],
        )
        .unwrap();
        assert_eq!(p, params(true, true, 10, 12));
        assert_eq!(
            r,
            "permessage-deflate; server_no_context_takeover; client_no_context_takeover; \
             server_max_window_bits=10; client_max_window_bits=12"
        );
        // Quoted values are values too (RFC 6455 §9.1).
        let (p, _) = neg(&cfg, &["permessage-deflate; server_max_window_bits=\"11\""]).unwrap();
        assert_eq!(p.server_max_window_bits, 11);
    }

    #[test]
    fn server_client_max_window_bits_with_and_without_value() {
        let small = DeflateConfig { max_window_bits: 10, ..DeflateConfig::default() };
        // Without a value: the server may state its own limit.
        let (p, r) = neg(&small, &["permessage-deflate; client_max_window_bits"]).unwrap();
        assert_eq!(p, params(false, false, 10, 10));
        assert_eq!(r, "permessage-deflate; server_max_window_bits=10; client_max_window_bits=10");
        let (p, r) = neg(&DeflateConfig::default(), &["permessage-deflate; client_max_window_bits"]).unwrap();
        assert_eq!(p.client_max_window_bits, 15);
        assert_eq!(r, "permessage-deflate");
        // With a value: the smaller of offer and config.
        let (p, r) = neg(&small, &["permessage-deflate; client_max_window_bits=9"]).unwrap();
        assert_eq!(p.client_max_window_bits, 9);
        assert!(r.ends_with("; client_max_window_bits=9"), "{r}");
        // Not offered: the server must not limit it, inbound window stays 15.
        let (p, r) = neg(&small, &["permessage-deflate"]).unwrap();
        assert_eq!(p.client_max_window_bits, 15);
        assert!(!r.contains("client_max_window_bits"), "{r}");
    }

    #[test]
    fn server_config_flags_and_offered_window() {
        let cfg = DeflateConfig {
            server_no_context_takeover: true,
            client_no_context_takeover: true,
            ..DeflateConfig::default()
        };
        let (p, r) = neg(&cfg, &["permessage-deflate; server_max_window_bits=15"]).unwrap();
        assert_eq!(p, params(true, true, 15, 15));
        // An offered server_max_window_bits is accepted by echoing it.
        assert_eq!(
            r,
            "permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=15"
        );
        let cfg = DeflateConfig { max_window_bits: 12, ..DeflateConfig::default() };
        let (p, _) = neg(&cfg, &["permessage-deflate; server_max_window_bits=14"]).unwrap();
        assert_eq!(p.server_max_window_bits, 12);
        let (p, _) = neg(&cfg, &["permessage-deflate; server_max_window_bits=9"]).unwrap();
        assert_eq!(p.server_max_window_bits, 9);
    }

    #[test]
    fn server_declines_invalid_offers() {
        let cfg = DeflateConfig::default();
        for bad in [
            "permessage-deflate; server_no_context_takeover; server_no_context_takeover",
            "permessage-deflate; client_max_window_bits; client_max_window_bits=10",
            "permessage-deflate; foo",
            "permessage-deflate; server_no_context_takeover=1",
            "permessage-deflate; server_max_window_bits",
            "permessage-deflate; server_max_window_bits=7",
            "permessage-deflate; server_max_window_bits=16",
            "permessage-deflate; server_max_window_bits=010",
            "permessage-deflate; client_max_window_bits=abc",
            "permessage-deflate; server_max_window_bits=8",
            "x-webkit-deflate-frame",
            "permessage-deflate; a=\"unterminated",
        ] {
            assert_eq!(neg(&cfg, &[bad]), None, "{bad}");
        }
        assert_eq!(neg(&cfg, &[]), None);
    }

    #[test]
    fn server_picks_first_acceptable_offer() {
        let cfg = DeflateConfig::default();
        let (p, r) = neg(
            &cfg,
            &[
                "foo, permessage-deflate; server_max_window_bits=8, permessage-deflate; bogus",
                "permessage-deflate; server_max_window_bits=11; client_max_window_bits, permessage-deflate",
            ],
        )
        .unwrap();
        assert_eq!(p, params(false, false, 11, 15));
        assert_eq!(r, "permessage-deflate; server_max_window_bits=11");
        // A malformed value is skipped as a whole; later values still count.
        let (p, _) =
            neg(&cfg, &["permessage-deflate; x=\"", "permessage-deflate; server_no_context_takeover"]).unwrap();
        assert!(p.server_no_context_takeover);
    }

    #[test]
    fn server_response_is_accepted_by_our_client() {
        // Every response the server builds must be acceptable to the offer.
        let offers = [
            params(false, false, 0, 0),
            params(false, false, 15, 15),
            params(true, false, 9, 12),
            params(false, true, 12, 9),
        ];
        for max in 9..=15 {
            for snct in [false, true] {
                for o in offers {
                    let ccfg = client_cfg(vec![o]);
                    let scfg = DeflateConfig {
                        max_window_bits: max,
                        server_no_context_takeover: snct,
                        ..DeflateConfig::default()
                    };
                    let (sp, resp) = neg(&scfg, &[&client_offer(&ccfg)]).unwrap();
                    let cp = accept(&ccfg, &[&resp]).unwrap().unwrap();
                    assert_eq!(cp.server_no_context_takeover, sp.server_no_context_takeover);
                    assert_eq!(cp.client_no_context_takeover, sp.client_no_context_takeover);
                    // The client inflates with at least the server's window and
                    // compresses with at most the server's inbound window.
                    assert!(cp.server_max_window_bits >= sp.server_max_window_bits, "{o:?} {resp}");
                    assert!(cp.client_max_window_bits <= sp.client_max_window_bits, "{o:?} {resp}");
                }
            }
        }
    }

    // ---- client_accept ---------------------------------------------------

    #[test]
    fn client_accept_basic() {
        let cfg = DeflateConfig::default();
        assert_eq!(accept(&cfg, &[]).unwrap(), None);
        assert_eq!(accept(&cfg, &[""]).unwrap(), None);
        assert_eq!(accept(&cfg, &["permessage-deflate"]).unwrap(), Some(params(false, false, 15, 15)));
        assert_eq!(
            accept(&cfg, &["permessage-deflate; server_no_context_takeover; client_max_window_bits=10"]).unwrap(),
            Some(params(true, false, 15, 10))
        );
        // The server may add client_no_context_takeover and server_max_window_bits.
        assert_eq!(
            accept(&cfg, &["Permessage-Deflate ; client_no_context_takeover ; server_max_window_bits=\"12\""]).unwrap(),
            Some(params(false, true, 12, 15))
        );
        // 8 is inflated with a 9-bit window.
        assert_eq!(
            accept(&cfg, &["permessage-deflate; server_max_window_bits=8"]).unwrap(),
            Some(params(false, false, 9, 15))
        );
        // A 256-byte client window is honoured with stored blocks.
        assert_eq!(
            accept(&cfg, &["permessage-deflate; client_no_context_takeover; client_max_window_bits=8"]).unwrap(),
            Some(params(false, true, 15, 8))
        );
    }

    #[test]
    fn client_window_of_8_bits_sends_stored_blocks() {
        let mut d = Deflate::new(params(false, false, 15, 8), false, &DeflateConfig::default());
        let text = b"abcabcabcabcabcabcabcabcabcabcabcabcabcabc".repeat(40);
        for _ in 0..3 {
            let mut out = Vec::new();
            d.deflate(&text, true, &mut out).unwrap();
            // Stored blocks: header byte 0 (BFINAL 0, BTYPE 00), LEN, NLEN, data.
            let mut rest = &out[..];
            let mut data = Vec::new();
            while rest.len() >= 5 {
                assert_eq!(rest[0] & 0x07, 0, "a stored block");
                let len = u16::from_le_bytes([rest[1], rest[2]]) as usize;
                assert_eq!(len as u16, !u16::from_le_bytes([rest[3], rest[4]]));
                data.extend_from_slice(&rest[5..5 + len]);
                rest = &rest[5 + len..];
            }
            // The sync flush's empty stored block, its 00 00 ff ff stripped.
            assert_eq!(rest, [0], "only stored blocks");
            assert_eq!(data, text);
            // And the server side inflates it.
            let mut server = Deflate::new(params(false, false, 15, 8), true, &DeflateConfig::default());
            let mut back = Vec::new();
            server.inflate(&out, &mut back, 1 << 20).unwrap();
            server.inflate_finish(&mut back, 1 << 20).unwrap();
            assert_eq!(back, text);
        }
    }

    #[test]
    fn client_accept_rejections() {
        let cfg = DeflateConfig::default();
        for bad in [
            "x-foo",
            "permessage-deflate, x-foo",
            "permessage-deflate, permessage-deflate",
            "permessage-deflate; foo",
            "permessage-deflate; server_no_context_takeover; server_no_context_takeover",
            "permessage-deflate; client_max_window_bits",
            "permessage-deflate; server_max_window_bits=16",
            "permessage-deflate; server_max_window_bits=7",
            "permessage-deflate; server_max_window_bits",
            "permessage-deflate; client_no_context_takeover=yes",
            "permessage-deflate; bad\"",
        ] {
            let e = accept(&cfg, &[bad]).unwrap_err();
            assert_eq!(e.kind, ErrorKind::Handshake, "{bad}");
            assert!(!e.message.is_empty());
        }
        // Two header values accepting it twice.
        assert!(accept(&cfg, &["permessage-deflate", "permessage-deflate"]).is_err());
        // Unoffered client_max_window_bits.
        let no_cmwb = client_cfg(vec![params(false, false, 0, 0)]);
        let e = accept(&no_cmwb, &["permessage-deflate; client_max_window_bits=10"]).unwrap_err();
        assert!(e.message.contains("client_max_window_bits"), "{}", e.message);
        // Nothing offered at all.
        assert!(accept(&client_cfg(vec![]), &["permessage-deflate"]).is_err());
    }

    #[test]
    fn client_accept_checks_offered_values() {
        let cfg = client_cfg(vec![params(true, false, 10, 12)]);
        // Offered server_no_context_takeover / server_max_window_bits must be echoed.
        assert!(accept(&cfg, &["permessage-deflate; server_max_window_bits=10"]).is_err());
        assert!(accept(&cfg, &["permessage-deflate; server_no_context_takeover"]).is_err());
        assert!(accept(&cfg, &["permessage-deflate; server_no_context_takeover; server_max_window_bits=11"]).is_err());
        assert_eq!(
            accept(&cfg, &["permessage-deflate; server_no_context_takeover; server_max_window_bits=9"]).unwrap(),
            Some(params(true, false, 9, 12))
        );
        // The client stays within its own offered client window even when the
        // server omits or enlarges it.
        assert_eq!(
            accept(&cfg, &["permessage-deflate; server_no_context_takeover; server_max_window_bits=10; client_max_window_bits=14"])
                .unwrap(),
            Some(params(true, false, 10, 12))
        );
        // client_no_context_takeover we offered applies even if not echoed.
        let cfg = client_cfg(vec![params(false, true, 0, 0)]);
        assert_eq!(accept(&cfg, &["permessage-deflate"]).unwrap(), Some(params(false, true, 15, 15)));
        // The inbound limit caps the (implicitly offered) server window.
        let cfg = DeflateConfig { max_window_bits: 11, ..DeflateConfig::default() };
        assert!(accept(&cfg, &["permessage-deflate"]).is_err());
        assert!(accept(&cfg, &["permessage-deflate; server_max_window_bits=12"]).is_err());
        assert_eq!(
            accept(&cfg, &["permessage-deflate; server_max_window_bits=11"]).unwrap().unwrap().server_max_window_bits,
            11
        );
    }

    #[test]
    fn client_accept_matches_any_offer() {
        // First offer needs server_no_context_takeover echoed, second does not
        // offer client_max_window_bits, third does.
        let cfg = client_cfg(vec![params(true, false, 0, 0), params(false, false, 0, 0), params(false, false, 0, 11)]);
        assert_eq!(accept(&cfg, &["permessage-deflate"]).unwrap(), Some(params(false, false, 15, 15)));
        assert_eq!(
            accept(&cfg, &["permessage-deflate; client_max_window_bits=10"]).unwrap(),
            Some(params(false, false, 15, 10))
        );
        assert_eq!(
            accept(&cfg, &["permessage-deflate; server_no_context_takeover"]).unwrap(),
            Some(params(true, false, 15, 15))
        );
    }

    // ---- codec: RFC 7692 §7.2.3 examples ----------------------------------

    const HELLO_C: [u8; 7] = [0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00];

    #[test]
    fn rfc_examples_decode() {
        let mut d = codec(DeflateParams::default(), false);
        assert_eq!(inflate_msg(&mut d, &HELLO_C).unwrap(), b"Hello");
        // §7.2.3.2: the second message refers back to the first.
        assert_eq!(inflate_msg(&mut d, &[0xf2, 0x00, 0x11, 0x00, 0x00]).unwrap(), b"Hello");
        // §7.2.3.3: a stored block.
        let stored = [0x00, 0x05, 0x00, 0xfa, 0xff, 0x48, 0x65, 0x6c, 0x6c, 0x6f, 0x00];
        assert_eq!(inflate_msg(&mut d, &stored).unwrap(), b"Hello");
        // §7.2.3.5: two blocks in one message.
        let two = [0xf2, 0x48, 0x05, 0x00, 0x00, 0x00, 0xff, 0xff, 0xca, 0xc9, 0xc9, 0x07, 0x00];
        assert_eq!(inflate_msg(&mut d, &two).unwrap(), b"Hello");
        // §7.2.3.6: an empty message.
        assert_eq!(inflate_msg(&mut d, &[0x00]).unwrap(), b"");
        // §7.2.3.4: BFINAL set; the inflater starts afresh for the next message.
        let bfinal = [0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, 0x00];
        assert_eq!(inflate_msg(&mut d, &bfinal).unwrap(), b"Hello");
        assert_eq!(inflate_msg(&mut d, &HELLO_C).unwrap(), b"Hello");
        assert_eq!(inflate_msg(&mut d, &bfinal).unwrap(), b"Hello");
        assert_eq!(inflate_msg(&mut d, &bfinal).unwrap(), b"Hello");
    }

    #[test]
    fn rfc_examples_encode() {
        let mut c = codec(DeflateParams::default(), true);
        assert_eq!(deflate_msg(&mut c, b"Hello"), HELLO_C);
        // With context takeover the second "Hello" is a back-reference.
        assert_eq!(deflate_msg(&mut c, b"Hello"), [0xf2, 0x00, 0x11, 0x00, 0x00]);
        // §7.2.3.6: the empty message is a single 0x00, also right after
        // another message (zlib emits nothing for a repeated flush).
        assert_eq!(deflate_msg(&mut c, b""), [0x00]);
        assert_eq!(deflate_msg(&mut c, b""), [0x00]);
        let mut fresh = codec(DeflateParams::default(), true);
        assert_eq!(deflate_msg(&mut fresh, b""), [0x00]);
        // Without context takeover every "Hello" is the same full encoding.
        let mut nct = codec(params(true, false, 15, 15), true);
        for _ in 0..3 {
            assert_eq!(deflate_msg(&mut nct, b"Hello"), HELLO_C);
        }
    }

    // ---- codec: memory ----------------------------------------------------

    fn codec_with(p: DeflateParams, is_server: bool, cfg: DeflateConfig) -> Deflate {
        Deflate::new(p, is_server, &cfg)
    }

    #[test]
    fn no_context_takeover_frees_states_between_messages() {
        let m = text(5000, 1);
        let mut tx = codec(params(true, true, 15, 15), true);
        let mut rx = codec(params(true, true, 15, 15), false);
        assert_eq!((tx.heap_bytes(), rx.heap_bytes()), (0, 0), "nothing before first use");
        for _ in 0..3 {
            let mut c = Vec::new();
            tx.deflate(&m[..2000], false, &mut c).unwrap();
            assert!(tx.heap_bytes() > 300 * 1024, "held within a message: {}", tx.heap_bytes());
            tx.deflate(&m[2000..], true, &mut c).unwrap();
            assert_eq!(tx.heap_bytes(), 0, "compressor freed after the message");
            let mut out = Vec::new();
            rx.inflate(&c, &mut out, usize::MAX).unwrap();
            assert!(rx.heap_bytes() > 40 * 1024, "{}", rx.heap_bytes());
            rx.inflate_finish(&mut out, usize::MAX).unwrap();
            assert_eq!(rx.heap_bytes(), 0, "inflater freed after the message");
            assert_eq!(out, m);
        }
    }

    #[test]
    fn each_flag_frees_its_own_direction() {
        let m = text(1000, 2);
        // Server; the client (peer) uses no context takeover, we do not: the
        // inflater goes, the compressor stays.
        let mut s = codec(params(false, true, 15, 15), true);
        let mut c = codec(params(false, true, 15, 15), false);
        let wire = deflate_msg(&mut c, &m);
        assert_eq!(inflate_msg(&mut s, &wire).unwrap(), m);
        assert_eq!(s.heap_bytes(), 0);
        let first = deflate_msg(&mut s, &m);
        let kept = s.heap_bytes();
        assert!(kept > 300 * 1024, "{kept}");
        assert_eq!(inflate_msg(&mut s, &wire).unwrap(), m);
        assert_eq!(s.heap_bytes(), kept, "only the compressor is held");
        // The client: its own no context takeover frees its compressor, the
        // server's takeover keeps its inflater.
        assert_eq!(c.heap_bytes(), 0);
        assert_eq!(inflate_msg(&mut c, &first).unwrap(), m);
        assert_eq!(inflate_msg(&mut c, &deflate_msg(&mut s, &m)).unwrap(), m);
        assert!(c.heap_bytes() > 40 * 1024 && c.heap_bytes() < 64 * 1024, "{}", c.heap_bytes());
    }

    #[test]
    fn takeover_state_size_follows_window_and_mem_level() {
        let m = text(1000, 3);
        let held = |bits: u8, mem_level: u8| {
            let cfg = DeflateConfig { mem_level, ..DeflateConfig::default() };
            let mut d = codec_with(params(false, false, bits, bits), true, cfg);
            deflate_msg(&mut d, &m);
            d.heap_bytes()
        };
        let (big, small_window, small_mem, smallest) = (held(15, 8), held(9, 8), held(15, 1), held(9, 1));
        assert!(big > 360 * 1024 && big < 380 * 1024, "{big}");
        assert!(big - small_window > 120 * 1024, "{big} {small_window}");
        assert!(big - small_mem > 100 * 1024, "{big} {small_mem}");
        assert!(smallest < 140 * 1024, "{smallest}");
        // memLevel changes the memory, not the wire format.
        let cfg = DeflateConfig { mem_level: 1, ..DeflateConfig::default() };
        let mut tx = codec_with(DeflateParams::default(), true, cfg);
        let mut rx = codec(DeflateParams::default(), false);
        for i in 0..3 {
            let big = text(100_000, i);
            assert_eq!(inflate_msg(&mut rx, &deflate_msg(&mut tx, &big)).unwrap(), big);
        }
    }

    #[test]
    fn warm_up_keeps_states() {
        let cfg = DeflateConfig { warm_up: true, ..DeflateConfig::default() };
        let mut d = codec_with(params(true, true, 15, 15), true, cfg);
        let held = d.heap_bytes();
        assert!(held > 400 * 1024, "{held}");
        assert!(d.is_warm());
        let m = text(1000, 4);
        let mut peer = codec(params(true, true, 15, 15), false);
        for _ in 0..3 {
            assert_eq!(inflate_msg(&mut peer, &deflate_msg(&mut d, &m)).unwrap(), m);
            assert_eq!(inflate_msg(&mut d, &deflate_msg(&mut peer, &m)).unwrap(), m);
            assert_eq!(d.heap_bytes(), held);
        }
        // The compressor is reset, not kept going: each message is the same.
        assert_eq!(deflate_msg(&mut d, &m), deflate_msg(&mut d, &m));
        // Warming up later works too.
        let mut late = codec(params(true, true, 15, 15), true);
        assert_eq!(late.heap_bytes(), 0);
        late.warm_up().unwrap();
        assert_eq!(late.heap_bytes(), held);
    }

    #[test]
    fn out_of_memory_is_an_error_and_recoverable() {
        let m = text(3000, 5);
        let mut tx = codec(DeflateParams::default(), true);
        let mut rx = codec(DeflateParams::default(), false);
        // A first message with context takeover.
        assert_eq!(inflate_msg(&mut rx, &deflate_msg(&mut tx, &m)).unwrap(), m);
        // A fragmented message whose second piece cannot get a compressor.
        let mut f1 = Vec::new();
        tx.deflate(&m[..1000], false, &mut f1).unwrap();
        tx.deflater = None; // as if freed, and memory is short now
        tx.set_state_limit(100 * 1024);
        let mut f2 = b"kept".to_vec();
        assert_eq!(tx.deflate(&m[1000..], true, &mut f2), Err(NoMemory));
        assert_eq!(f2, b"kept", "output untouched");
        assert_eq!(tx.heap_bytes(), 0);
        // Memory is back: a fresh compressor continues the message, and the
        // peer (with its context) decodes it, and the messages after it.
        tx.set_state_limit(usize::MAX);
        f2.clear();
        tx.deflate(&m[1000..], true, &mut f2).unwrap();
        let mut out = Vec::new();
        rx.inflate(&f1, &mut out, usize::MAX).unwrap();
        rx.inflate(&f2, &mut out, usize::MAX).unwrap();
        rx.inflate_finish(&mut out, usize::MAX).unwrap();
        assert_eq!(out, m);
        assert_eq!(inflate_msg(&mut rx, &deflate_msg(&mut tx, &m)).unwrap(), m);

        // The inflater: its state cannot be created.
        let mut rx = codec(DeflateParams::default(), false);
        rx.set_state_limit(16 * 1024);
        let wire = deflate_msg(&mut codec(DeflateParams::default(), true), &m);
        assert_eq!(inflate_msg(&mut rx, &wire), Err(InflateError::NoMemory));
        assert_eq!(rx.heap_bytes(), 0);
        // The limit covers both states together.
        let mut both = codec(DeflateParams::default(), true);
        deflate_msg(&mut both, &m);
        both.set_state_limit(both.heap_bytes() + 10 * 1024);
        assert_eq!(inflate_msg(&mut both, &wire), Err(InflateError::NoMemory));
        both.set_state_limit(usize::MAX);
        assert_eq!(inflate_msg(&mut both, &wire).unwrap(), m);
    }

    // ---- codec: round trips ---------------------------------------------

    /// Sends `sizes` (each `rounds` times) in both directions: whole messages
    /// server -> client, three fragments client -> server.
    fn round_trip(p: DeflateParams, sizes: &[usize], rounds: usize) {
        let mut server = codec(p, true);
        let mut client = codec(p, false);
        let mut msgs = Vec::new();
        for (i, &n) in sizes.iter().enumerate() {
            msgs.push(text(n, i as u32));
        }
        for (i, m) in std::iter::repeat(&msgs).take(rounds).flatten().enumerate() {
            // server -> client, whole message
            let c = deflate_msg(&mut server, m);
            assert_eq!(&inflate_msg(&mut client, &c).unwrap(), m, "{p:?} msg {i} len {}", m.len());
            // client -> server, in three fragments, inflated piecewise
            let (a, rest) = m.split_at(m.len() / 3);
            let (b, e) = rest.split_at(rest.len() / 2);
            let mut frames = Vec::new();
            for (piece, fin) in [(a, false), (b, false), (e, true)] {
                let mut f = Vec::new();
                client.deflate(piece, fin, &mut f).unwrap();
                frames.push(f);
            }
            let mut out = Vec::new();
            for f in &frames {
                server.inflate(f, &mut out, m.len()).unwrap();
            }
            server.inflate_finish(&mut out, m.len()).unwrap();
            assert_eq!(&out, m, "{p:?} fragmented msg {i} len {}", m.len());
        }
    }

    #[test]
    fn round_trips_all_windows() {
        for bits in 9..=15 {
            for nct in [false, true] {
                // Twice, so that context takeover gets exercised.
                round_trip(params(nct, nct, bits, bits), &[0, 1, 125, 64 * 1024, 0, 7], 2);
            }
        }
    }

    #[test]
    fn round_trips_4mib() {
        // zlib-rs is slow in unoptimised test builds: two representative
        // configurations (the small sizes above cover all of them).
        round_trip(params(false, false, 15, 15), &[4 << 20], 1);
        round_trip(params(true, true, 9, 9), &[4 << 20], 1);
    }

    #[test]
    fn context_takeover_shrinks_repeats() {
        let m = text(2000, 42);
        let mut c = codec(DeflateParams::default(), true);
        let first = deflate_msg(&mut c, &m);
        let second = deflate_msg(&mut c, &m);
        assert!(second.len() < first.len() / 4, "{} vs {}", second.len(), first.len());
        let mut nct = codec(params(true, false, 15, 15), true);
        assert_eq!(deflate_msg(&mut nct, &m), first);
        assert_eq!(deflate_msg(&mut nct, &m), first);
        // The peer (client) must reset its inflater between these messages to
        // be safe; it decodes them either way.
        let mut rx = codec(params(true, false, 15, 15), false);
        assert_eq!(inflate_msg(&mut rx, &first).unwrap(), m);
        assert_eq!(inflate_msg(&mut rx, &first).unwrap(), m);
    }

    fn noise(len: usize, seed: u32) -> Vec<u8> {
        let mut x = seed | 1;
        (0..len)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                (x >> 11) as u8
            })
            .collect()
    }

    #[test]
    fn outbound_window_is_respected() {
        // Incompressible 1000-byte block repeated three times: only a window
        // that reaches back 1000 bytes can find the repeats. zlib's usable
        // distance is 2^bits - 262, so 9 and 10 bits cannot, 11+ can. (The
        // zlib-rs inflater accepts any distance whose bytes it still holds,
        // and always keeps 32 KiB, so the receiver cannot be used to check.)
        let block = noise(1000, 7);
        let m: Vec<u8> = block.iter().chain(block.iter()).chain(block.iter()).copied().collect();
        for bits in 9..=15 {
            for is_server in [false, true] {
                let p = params(false, false, bits, bits);
                let c = deflate_msg(&mut codec(p, is_server), &m);
                if bits <= 10 {
                    assert!(c.len() > 2900, "bits {bits}: {} bytes", c.len());
                } else if bits >= 12 {
                    assert!(c.len() < 1100, "bits {bits}: {} bytes", c.len());
                } else {
                    // 11 bits reaches 1786 back; zlib finds most repeats.
                    assert!(c.len() < 2000, "bits {bits}: {} bytes", c.len());
                }
                assert_eq!(inflate_msg(&mut codec(p, !is_server), &c).unwrap(), m);
            }
        }
        // The server compresses with server_max_window_bits, the client with
        // client_max_window_bits.
        let p = params(false, false, 15, 9);
        assert!(deflate_msg(&mut codec(p, true), &m).len() < 1100);
        assert!(deflate_msg(&mut codec(p, false), &m).len() > 2900);
    }

    #[test]
    fn takeover_flags_apply_to_the_right_direction() {
        let second = [0xf2, 0x00, 0x11, 0x00, 0x00]; // refers back to the first "Hello"
                                                     // (is_server, params, inbound reset expected)
        for (is_server, p, resets) in [
            (true, params(false, true, 15, 15), true),
            (true, params(true, false, 15, 15), false),
            (false, params(true, false, 15, 15), true),
            (false, params(false, true, 15, 15), false),
        ] {
            let mut d = codec(p, is_server);
            assert_eq!(inflate_msg(&mut d, &HELLO_C).unwrap(), b"Hello");
            let r = inflate_msg(&mut d, &second);
            if resets {
                assert_eq!(r, Err(InflateError::Corrupt), "{is_server} {p:?}");
            } else {
                assert_eq!(r.unwrap(), b"Hello", "{is_server} {p:?}");
            }
            // Outbound: the opposite flag governs our own compressor.
            let mut d = codec(p, is_server);
            assert_eq!(deflate_msg(&mut d, b"Hello"), HELLO_C);
            let again = deflate_msg(&mut d, b"Hello");
            if resets {
                assert_eq!(again, second, "{is_server} {p:?}");
            } else {
                assert_eq!(again, HELLO_C, "{is_server} {p:?}");
            }
        }
    }

    #[test]
    fn split_at_every_byte() {
        let m = text(300, 3);
        let mut tx = codec(DeflateParams::default(), true);
        let c = deflate_msg(&mut tx, &m);
        for cut in 0..=c.len() {
            let mut rx = codec(DeflateParams::default(), false);
            let mut out = Vec::new();
            rx.inflate(&c[..cut], &mut out, m.len()).unwrap();
            rx.inflate(&c[cut..], &mut out, m.len()).unwrap();
            rx.inflate_finish(&mut out, m.len()).unwrap();
            assert_eq!(out, m, "cut at {cut}");
        }
        // And one byte at a time.
        let mut rx = codec(DeflateParams::default(), false);
        let mut out = Vec::new();
        for b in &c {
            rx.inflate(std::slice::from_ref(b), &mut out, m.len()).unwrap();
        }
        rx.inflate_finish(&mut out, m.len()).unwrap();
        assert_eq!(out, m);
    }

    #[test]
    fn limit_is_exact() {
        let m = text(10_000, 9);
        let mut tx = codec(DeflateParams::default(), true);
        let c = deflate_msg(&mut tx, &m);
        let mut rx = codec(DeflateParams::default(), false);
        let mut out = Vec::new();
        rx.inflate(&c, &mut out, m.len()).unwrap();
        rx.inflate_finish(&mut out, m.len()).unwrap();
        assert_eq!(out, m);
        let mut rx = codec(DeflateParams::default(), false);
        let mut out = Vec::new();
        let r = rx.inflate(&c, &mut out, m.len() - 1).and_then(|_| rx.inflate_finish(&mut out, m.len() - 1));
        assert_eq!(r, Err(InflateError::TooBig));
        assert!(out.len() <= m.len());
    }

    /// A hand-built DEFLATE stream (one fixed-Huffman block, BFINAL=0) of
    /// `n_matches * 258 + 1` zero bytes: a literal 0, then matches of length
    /// 258 at distance 1, 13 bits each.
    struct ZeroBomb {
        bits: u64,
        nbits: u32,
        left: u64,
        started: bool,
    }

    impl ZeroBomb {
        fn new(n_matches: u64) -> Self {
            ZeroBomb { bits: 0, nbits: 0, left: n_matches, started: false }
        }
        /// Huffman codes are sent most significant bit first.
        fn code(&mut self, code: u64, len: u32) {
            for i in (0..len).rev() {
                self.bits |= ((code >> i) & 1) << self.nbits;
                self.nbits += 1;
            }
        }
        /// The next piece of compressed bytes (the stream ends with EOB + a
        /// sync-flush so it is a complete message payload).
        fn next_chunk(&mut self, max_matches: u64) -> Vec<u8> {
            let mut out = Vec::new();
            if !self.started {
                self.started = true;
                self.code(0b010, 3); // BFINAL=0, BTYPE=01 -> bits 1,0,... LSB first
                self.code(0x30, 8); // literal 0
            }
            let n = self.left.min(max_matches);
            self.left -= n;
            for _ in 0..n {
                self.code(0xc5, 8); // length code 285 = 258
                self.code(0, 5); // distance code 0 = 1
                while self.nbits >= 8 {
                    out.push(self.bits as u8);
                    self.bits >>= 8;
                    self.nbits -= 8;
                }
            }
            if self.left == 0 {
                self.code(0, 7); // end of block
                while self.nbits > 0 {
                    out.push(self.bits as u8);
                    self.bits >>= 8;
                    self.nbits = self.nbits.saturating_sub(8);
                }
            }
            out
        }
    }

    #[test]
    fn zero_bomb_generator_is_valid() {
        let mut g = ZeroBomb::new(1000);
        let mut c = Vec::new();
        while g.left > 0 || !g.started {
            c.extend(g.next_chunk(300));
        }
        let mut rx = codec(DeflateParams::default(), false);
        let out = inflate_msg(&mut rx, &c).unwrap();
        assert_eq!(out.len(), 258 * 1000 + 1);
        assert!(out.iter().all(|&b| b == 0));
    }

    #[test]
    fn one_gib_bomb_stops_at_limit() {
        let limit = 16 << 20;
        let mut g = ZeroBomb::new((1u64 << 30) / 258);
        let mut rx = codec(DeflateParams::default(), false);
        let mut out = Vec::new();
        let start = std::time::Instant::now();
        let mut fed = 0usize;
        let err = loop {
            let chunk = g.next_chunk(8 * 1024); // ~13 KiB frames
            fed += chunk.len();
            if let Err(e) = rx.inflate(&chunk, &mut out, limit) {
                break e;
            }
            assert!(g.left > 0, "bomb fully inflated without hitting the limit");
        };
        assert_eq!(err, InflateError::TooBig);
        assert!(out.len() <= limit + 1, "{}", out.len());
        assert!(out.capacity() <= 2 * (limit + 1), "{}", out.capacity());
        // It stopped right after the limit, not after 1 GiB worth of input.
        assert!(fed < 200 * 1024, "fed {fed} bytes");
        assert!(start.elapsed() < std::time::Duration::from_secs(20));
    }

    #[test]
    fn corrupt_data() {
        // BTYPE=11 is reserved.
        let mut rx = codec(DeflateParams::default(), false);
        assert_eq!(inflate_msg(&mut rx, &[0xff, 0xff, 0xff]), Err(InflateError::Corrupt));
        // Stored block whose NLEN is not the complement of LEN.
        let mut rx = codec(DeflateParams::default(), false);
        assert_eq!(inflate_msg(&mut rx, &[0x00, 0x05, 0x00, 0x00, 0x00, b'H']), Err(InflateError::Corrupt));
        // A back-reference before the start of the stream.
        let mut g = ZeroBomb::new(2);
        g.started = true; // skip the literal: the first match has nothing to copy
        g.code(0b010, 3);
        let c = g.next_chunk(2);
        let mut rx = codec(DeflateParams::default(), false);
        assert_eq!(inflate_msg(&mut rx, &c), Err(InflateError::Corrupt));
    }
}
