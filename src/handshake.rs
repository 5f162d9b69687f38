//! HTTP/1.1 upgrade handshake (RFC 6455 §4): build and parse the request and
//! the response, Sec-WebSocket-Accept, header rules. Pure functions; the
//! connection state machine lives in `connection.rs`.
//!
//! A parsed head is kept as one owned byte buffer plus offsets (`Span`) into
//! it, so parsing allocates nothing per header and events can borrow from it.

use std::mem::MaybeUninit;

use crate::error::{Error, ErrorKind, Result};

/// The GUID of RFC 6455 §1.3, appended to the key before hashing.
pub const ACCEPT_GUID: &str = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/// A byte range inside a head buffer.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Span {
    pub start: u32,
    pub end: u32,
}

impl Span {
    pub fn get<'a>(&self, buf: &'a [u8]) -> &'a [u8] {
        &buf[self.start as usize..self.end as usize]
    }
    pub fn str<'a>(&self, buf: &'a [u8]) -> &'a str {
        // Spans are only made over bytes checked to be visible ASCII or valid UTF-8.
        std::str::from_utf8(self.get(buf)).unwrap_or("")
    }
    pub fn is_empty(&self) -> bool {
        self.start == self.end
    }
}

/// A header line: name and value (value with surrounding whitespace trimmed).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct HeaderSpan {
    pub name: Span,
    pub value: Span,
}

/// A client's upgrade request, validated (server side).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ParsedRequest {
    /// The head bytes, through the blank line; after them, for a request
    /// read as HTTP/1.1, its `packed` header spans (one allocation holds
    /// both; see [`ParsedRequest::header_spans`]).
    pub buf: Vec<u8>,
    pub target: Span,
    pub host: Span,
    pub key: Span,
    /// Every token of every Sec-WebSocket-Protocol header, in order.
    pub subprotocols: Vec<Span>,
    /// Every Sec-WebSocket-Extensions header value, raw, in order.
    pub extensions: Vec<Span>,
    /// All headers as received, in order, when they are not packed into
    /// `buf` (an extended CONNECT request, `h2.rs`).
    pub headers: Vec<HeaderSpan>,
    /// How many header spans are packed at the end of `buf` (0: they are
    /// in `headers`).
    pub packed: u32,
}

/// Bytes per header span packed into a request's `buf`: name start, name
/// end, value start, value end, each a little-endian u32.
const PACKED_SPAN: usize = 16;

impl ParsedRequest {
    /// The head bytes, through the blank line.
    pub fn head(&self) -> &[u8] {
        &self.buf[..self.buf.len() - PACKED_SPAN * self.packed as usize]
    }

    /// All headers as received, in order.
    pub fn header_spans(&self) -> SpanList<'_> {
        if self.packed == 0 {
            SpanList::Slice(&self.headers)
        } else {
            SpanList::Packed(&self.buf[self.head().len()..])
        }
    }
}

/// A list of header spans: a slice, or spans packed as bytes after a head.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SpanList<'a> {
    Slice(&'a [HeaderSpan]),
    Packed(&'a [u8]),
}

impl<'a> SpanList<'a> {
    pub fn len(&self) -> usize {
        match self {
            SpanList::Slice(s) => s.len(),
            SpanList::Packed(b) => b.len() / PACKED_SPAN,
        }
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    pub fn get(&self, i: usize) -> Option<HeaderSpan> {
        match *self {
            SpanList::Slice(s) => s.get(i).copied(),
            SpanList::Packed(b) => b.get(i * PACKED_SPAN..(i + 1) * PACKED_SPAN).map(unpack_span),
        }
    }
    pub fn iter(&self) -> SpanIter<'a> {
        SpanIter { list: *self, next: 0 }
    }
}

/// The spans of a [`SpanList`], in order.
#[derive(Clone, Debug)]
pub struct SpanIter<'a> {
    list: SpanList<'a>,
    next: usize,
}

impl Iterator for SpanIter<'_> {
    type Item = HeaderSpan;
    fn next(&mut self) -> Option<HeaderSpan> {
        let h = self.list.get(self.next)?;
        self.next += 1;
        Some(h)
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = self.list.len() - self.next;
        (n, Some(n))
    }
}

impl ExactSizeIterator for SpanIter<'_> {}

fn unpack_span(b: &[u8]) -> HeaderSpan {
    let word = |i: usize| u32::from_le_bytes(b[i..i + 4].try_into().expect("4 bytes"));
    HeaderSpan { name: Span { start: word(0), end: word(4) }, value: Span { start: word(8), end: word(12) } }
}

fn pack_span(out: &mut Vec<u8>, h: HeaderSpan) {
    let mut b = [0u8; PACKED_SPAN];
    for (i, w) in [h.name.start, h.name.end, h.value.start, h.value.end].into_iter().enumerate() {
        b[4 * i..4 * i + 4].copy_from_slice(&w.to_le_bytes());
    }
    out.extend_from_slice(&b);
}

/// A server's response to our upgrade request (client side).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ParsedResponse {
    pub buf: Vec<u8>,
    pub status: u16,
    pub headers: Vec<HeaderSpan>,
}

/// What a valid 101 response selected.
#[derive(Clone, Debug, Default)]
pub struct AcceptedResponse {
    pub subprotocol: Option<Span>,
    /// Every Sec-WebSocket-Extensions header value of the response, raw.
    pub extensions: Vec<Span>,
}

/// Length of the HTTP head at the start of `buf` (through CRLF CRLF), if complete.
pub fn find_head_end(buf: &[u8]) -> Option<usize> {
    // Every "\r\n\r\n" ends with a LF: find the LFs eight bytes at a time
    // (a header line holds one, so most words hold none) and check the
    // three bytes before each.
    const ONES: u64 = 0x0101_0101_0101_0101;
    const LF: u64 = ONES * b'\n' as u64;
    let ends_here = |p: usize| p >= 3 && buf[p - 3..p] == *b"\r\n\r";
    let mut words = buf.chunks_exact(8);
    let mut at = 0;
    for w in &mut words {
        let x = u64::from_le_bytes(w.try_into().expect("8 bytes")) ^ LF;
        // The high bit of each zero byte of x (a LF) is set; bits above a
        // zero byte may be set too, so each candidate is checked.
        let mut lf = x.wrapping_sub(ONES) & !x & (ONES << 7);
        while lf != 0 {
            let p = at + (lf.trailing_zeros() / 8) as usize;
            if buf[p] == b'\n' && ends_here(p) {
                return Some(p + 1);
            }
            lf &= lf - 1;
        }
        at += 8;
    }
    (at..buf.len()).find(|&p| buf[p] == b'\n' && ends_here(p)).map(|p| p + 1)
}

/// Headers parsed on the stack up to this count; larger limits use the heap.
const STACK_HEADERS: usize = 64;

/// The span of `part`, a sub-slice of `buf`, as offsets into `buf`.
fn span_of(buf: &[u8], part: &[u8]) -> Span {
    let start = (part.as_ptr() as usize).wrapping_sub(buf.as_ptr() as usize);
    if start <= buf.len() && part.len() <= buf.len() - start {
        Span { start: start as u32, end: (start + part.len()) as u32 }
    } else {
        // httparse only hands out slices of the buffer it parsed; an empty
        // slice from elsewhere still means an empty value.
        debug_assert!(part.is_empty(), "slice outside the head buffer");
        Span::default()
    }
}

/// RFC 9110 `tchar`.
fn is_tchar(b: u8) -> bool {
    matches!(b,
        b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9'
        | b'!' | b'#' | b'$' | b'%' | b'&' | b'\'' | b'*' | b'+'
        | b'-' | b'.' | b'^' | b'_' | b'`' | b'|' | b'~')
}

/// RFC 9110 `token`: one or more `tchar`.
pub fn is_token(s: &[u8]) -> bool {
    !s.is_empty() && s.iter().all(|&b| is_tchar(b))
}

/// A field value we are willing to send: no control characters except HTAB
/// (this rules out CR, LF and NUL, which would allow header injection).
fn is_field_value(s: &[u8]) -> bool {
    s.iter().all(|&b| b == b'\t' || (b >= 0x20 && b != 0x7f))
}

/// Visible ASCII only (no whitespace, controls or non-ASCII bytes).
fn is_visible_ascii(s: &[u8]) -> bool {
    s.iter().all(|&b| (0x21..=0x7e).contains(&b))
}

/// True when a comma-separated header value lists `token` (ASCII
/// case-insensitive), a lowercase word ("websocket", "upgrade").
fn list_contains(value: &[u8], token: &[u8]) -> bool {
    // The usual value is the token alone: one comparison. (A token has no
    // comma or whitespace, so the list holding only it is the same answer.)
    token_eq_lower(value, token) || split_comma(value).any(|t| t.eq_ignore_ascii_case(token))
}

/// Header names the engine interprets, matched once per header.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Known {
    Host,
    Upgrade,
    Connection,
    Key,
    Version,
    Protocol,
    Extensions,
    Accept,
    Other,
}

/// Which known header `name` (a token: httparse's names, or checked with
/// `is_token` first) is.
fn classify(name: &[u8]) -> Known {
    // The one candidate of each length, from a table (no jump per header:
    // header lengths follow no pattern a branch predictor could learn).
    const BY_LEN: [(&str, Known); 25] = {
        let mut t = [("", Known::Other); 25];
        t[4] = ("host", Known::Host);
        t[7] = ("upgrade", Known::Upgrade);
        t[10] = ("connection", Known::Connection);
        t[17] = ("sec-websocket-key", Known::Key);
        t[20] = ("sec-websocket-accept", Known::Accept);
        t[21] = ("sec-websocket-version", Known::Version);
        t[22] = ("sec-websocket-protocol", Known::Protocol);
        t[24] = ("sec-websocket-extensions", Known::Extensions);
        t
    };
    match BY_LEN.get(name.len()) {
        Some(&(cand, known)) if token_eq_lower(name, cand.as_bytes()) => known,
        _ => Known::Other,
    }
}

/// `name.eq_ignore_ascii_case(lower)`, eight bytes at a time, for `lower`
/// made of lowercase letters and '-' and either a token `name` (RFC 9110
/// tchar bytes only) or a `lower` of letters only. OR-ing 0x20 lowercases
/// a letter and maps no other byte onto a lowercase letter; the bytes it
/// maps onto '-' are '-' and CR, which is not a tchar.
fn token_eq_lower(name: &[u8], lower: &[u8]) -> bool {
    const CASE: u64 = 0x2020_2020_2020_2020;
    let n = name.len();
    if n != lower.len() {
        return false;
    }
    if n < 8 {
        // Zero padding becomes 0x20 on both sides.
        let padded = |b: &[u8]| {
            let mut w = [0u8; 8];
            w[..n].copy_from_slice(b);
            u64::from_le_bytes(w) | CASE
        };
        return padded(name) == padded(lower);
    }
    let word = |b: &[u8], at: usize| u64::from_le_bytes(b[at..at + 8].try_into().expect("8 bytes")) | CASE;
    // Whole words, then the last eight bytes (overlapping the word before).
    let mut at = 0;
    while at + 8 < n {
        if word(name, at) != word(lower, at) {
            return false;
        }
        at += 8;
    }
    word(name, n - 8) == word(lower, n - 8)
}

fn head_len_ok(head: &[u8], status_hint: u16) -> Result<()> {
    if head.len() > u32::MAX as usize {
        return Err(Error::handshake(status_hint, "HTTP head too large"));
    }
    Ok(())
}

fn parse_error(status_hint: u16, what: &str, e: httparse::Error, max_headers: usize, too_many: u16) -> Error {
    match e {
        httparse::Error::TooManyHeaders => {
            Error::handshake(too_many, format!("too many headers in the HTTP {what} (limit {max_headers})"))
        }
        httparse::Error::Version => Error::handshake(status_hint, format!("unsupported HTTP version in the {what}")),
        e => Error::handshake(status_hint, format!("malformed HTTP {what}: {e}")),
    }
}

/// Fails early on input that cannot become an HTTP head (a TLS ClientHello,
/// binary garbage), while the start line is still incomplete: RFC 6455
/// §4.2.1 wants a server to stop processing such a request, not to wait for
/// a blank line that will never come. Only the start line is checked (the
/// headers are checked once the head is complete), so this stays cheap
/// however the head is split.
pub fn check_partial_head(buf: &[u8], is_request: bool) -> Result<()> {
    let buf = match buf.iter().position(|&b| b == b'\n') {
        Some(nl) => &buf[..=nl],
        None => buf,
    };
    let rewritten;
    let buf = match higher_minor_version(buf, is_request) {
        Some(i) => {
            rewritten = [&buf[..i], b"1", &buf[i + 1..]].concat();
            &rewritten[..]
        }
        None => buf,
    };
    let parsed = if is_request {
        httparse::Request::new(&mut []).parse(buf).map(|_| ())
    } else {
        httparse::Response::new(&mut []).parse(buf).map(|_| ())
    };
    match parsed {
        Ok(()) | Err(httparse::Error::TooManyHeaders) => Ok(()),
        Err(e) => Err(Error::handshake(
            400,
            format!("not an HTTP/1.1 {}: {e}", if is_request { "request" } else { "response" }),
        )),
    }
}

/// How many httparse header slots `head` needs: at most `max_headers`, and
/// never more than the head has lines (each header takes at least one), so
/// the allocation follows the bytes received, not the configured limit
/// (which may be SIZE_MAX to mean "no limit").
fn header_slots(head: &[u8], max_headers: usize) -> usize {
    if max_headers <= STACK_HEADERS {
        max_headers
    } else {
        // The start line takes one line; the last one is the blank line.
        let lines = head.iter().filter(|&&b| b == b'\n').count();
        max_headers.min(lines)
    }
}

/// Runs `f` with enough empty httparse header slots for `head` (see
/// [`header_slots`]): on the stack up to STACK_HEADERS slots (the default
/// config allocates nothing here), on the heap above that.
fn with_header_slots<'b, T>(head: &[u8], max_headers: usize, f: impl FnOnce(&mut [httparse::Header<'b>]) -> T) -> T {
    let n = header_slots(head, max_headers);
    if n <= STACK_HEADERS {
        let mut stack: [httparse::Header<'b>; STACK_HEADERS] = [httparse::EMPTY_HEADER; STACK_HEADERS];
        f(&mut stack[..n])
    } else {
        f(&mut vec![httparse::EMPTY_HEADER; n])
    }
}

/// [`with_header_slots`] with uninitialised slots, for requests (httparse
/// parses a request into uninitialised slots, and a server parses a request
/// per connection: clearing 64 slots of 32 bytes first would cost as much
/// as parsing a small head).
fn with_uninit_header_slots<'b, T>(
    head: &[u8],
    max_headers: usize,
    f: impl FnOnce(&mut [MaybeUninit<httparse::Header<'b>>]) -> T,
) -> T {
    let n = header_slots(head, max_headers);
    if n <= STACK_HEADERS {
        let mut stack = [const { MaybeUninit::<httparse::Header<'b>>::uninit() }; STACK_HEADERS];
        f(&mut stack[..n])
    } else {
        let mut heap = Vec::with_capacity(n);
        heap.resize_with(n, MaybeUninit::uninit);
        f(&mut heap)
    }
}

/// Where the minor version digit of an `HTTP/1.x` start line with x in 2..=9
/// sits, for a request (`... HTTP/1.x` at the end of the first line) or a
/// response (`HTTP/1.x ` at its start). RFC 9112 §2.3 (RFC 7230 §2.6): a
/// recipient processes a message of a higher minor version within major
/// version 1 as if it were the highest minor version it supports (1.1).
/// httparse only knows 1.0 and 1.1, so the digit is rewritten to 1 first.
fn higher_minor_version(head: &[u8], is_request: bool) -> Option<usize> {
    let minor = |line: &[u8], at: usize| -> Option<usize> {
        let v = line.get(at..at + 8)?;
        (v.starts_with(b"HTTP/1.") && (b'2'..=b'9').contains(&v[7])).then_some(at + 7)
    };
    // A start line still being received is checked as far as it goes.
    if is_request {
        let nl = head.iter().position(|&b| b == b'\n').unwrap_or(head.len());
        let line = head[..nl].strip_suffix(b"\r").unwrap_or(&head[..nl]);
        let at = line.len().checked_sub(8)?;
        // The version follows the single space after the target.
        if at == 0 || line[at - 1] != b' ' {
            return None;
        }
        minor(line, at)
    } else {
        minor(head, 0).filter(|&i| head.get(i + 1).map_or(true, |&b| b == b' '))
    }
}

/// Rewrites a higher HTTP/1.x minor version in `head` to 1 (see
/// [`higher_minor_version`]).
fn treat_as_http11(head: &mut [u8], is_request: bool) {
    if let Some(i) = higher_minor_version(head, is_request) {
        head[i] = b'1';
    }
}

/// Parses and validates a client's upgrade request (RFC 6455 §4.2.1).
/// Errors carry `status_hint`: 426 for a missing/unsupported
/// Sec-WebSocket-Version (the rejection must then carry `Sec-WebSocket-Version: 13`),
/// 431 for too many headers, 400 for everything else.
/// A request that carries a body (Content-Length > 0 or any
/// Transfer-Encoding) is refused with 400: its body would otherwise be read
/// as WebSocket frames, a desynchronisation risk behind proxies.
/// `HTTP/1.2`..`HTTP/1.9` are processed as HTTP/1.1 (RFC 9112 §2.3).
/// The request's `buf` is a new allocation of exactly the head (bytes
/// after its blank line are dropped) and its packed header spans; `head`
/// is freed. `NoMemory` if that allocation fails.
pub fn parse_request(head: Vec<u8>, max_headers: usize) -> Result<ParsedRequest> {
    head_len_ok(&head, 431)?;
    let mut head = head;
    treat_as_http11(&mut head, true);
    let (out, _) =
        with_uninit_header_slots(&head, max_headers, |slots| parse_request_in(&head, max_headers, usize::MAX, slots))?;
    Ok(out)
}

/// The fast path of reading a request, for `data` received with nothing
/// before it: when `data` starts with a whole, valid request head, the
/// request (its head copied into `buf`, header spans packed after it) and
/// the head's length, exactly as
/// [`find_head_end`] and [`parse_request`] give them for the same bytes
/// under `max_headers` and a head limit of `max_len` bytes. None in every
/// other case (incomplete or invalid, too large, a higher HTTP/1.x minor
/// version, more than STACK_HEADERS header slots, no memory): the general
/// path then decides, and reports what is wrong.
///
/// Why the head is the same: httparse ends a head at its first empty line;
/// when that line ends the head with CRLF CRLF and the head does not start
/// with an empty line (which httparse skips), no CRLF CRLF comes earlier
/// (it would be an empty line, or make the request line invalid), so
/// [`find_head_end`] ends the head there too, and httparse parses the same
/// bytes the same way either way. The general path's header slots depend
/// only on `max_headers` here (at most STACK_HEADERS).
pub fn parse_whole_request(data: &[u8], max_headers: usize, max_len: usize) -> Option<(ParsedRequest, usize)> {
    // A higher HTTP/1.x minor version, which the general path rewrites to
    // 1.1 first, fails httparse's version check here and is declined too.
    if max_headers > STACK_HEADERS || matches!(data.first(), None | Some(b'\r' | b'\n')) {
        return None;
    }
    let mut slots = [const { MaybeUninit::<httparse::Header<'_>>::uninit() }; STACK_HEADERS];
    let (req, n) = parse_request_in(data, max_headers, max_len, &mut slots[..max_headers]).ok()?;
    if n > u32::MAX as usize || !data[..n].ends_with(b"\r\n\r\n") {
        return None;
    }
    Some((req, n))
}

/// The request and the length of its head. Its `buf` is a copy of the head
/// followed by the packed header spans, in one allocation of exactly that
/// size, made only for a head of at most `max_len` bytes (a 431 otherwise).
fn parse_request_in<'b>(
    head: &'b [u8],
    max_headers: usize,
    max_len: usize,
    slots: &mut [MaybeUninit<httparse::Header<'b>>],
) -> Result<(ParsedRequest, usize)> {
    let mut req = httparse::Request::new(&mut []);
    let len = match req.parse_with_uninit_headers(head, slots) {
        Ok(httparse::Status::Complete(n)) => n,
        Ok(httparse::Status::Partial) => return Err(Error::handshake(400, "incomplete HTTP request head")),
        Err(e) => return Err(parse_error(400, "request", e, max_headers, 431)),
    };
    if req.method != Some("GET") {
        return Err(Error::handshake(400, "the upgrade request method must be GET"));
    }
    if req.version != Some(1) {
        return Err(Error::handshake(400, "the upgrade request must be HTTP/1.1"));
    }
    let target = match req.path {
        Some(p) if !p.is_empty() => span_of(head, p.as_bytes()),
        _ => return Err(Error::handshake(400, "empty request target")),
    };

    if len > max_len {
        return Err(Error::handshake(431, format!("request head is larger than the limit of {max_len} bytes")));
    }
    let packed = req.headers.len();
    let mut buf = Vec::new();
    if buf.try_reserve_exact(len + PACKED_SPAN * packed).is_err() {
        return Err(Error::no_memory("reading the request head"));
    }
    buf.extend_from_slice(&head[..len]);
    let mut out = ParsedRequest { target, packed: packed as u32, ..ParsedRequest::default() };
    let (mut hosts, mut upgrades, mut keys, mut versions) = (0u32, 0u32, 0u32, 0u32);
    let (mut upgrade_ok, mut connection_ok, mut version_ok) = (false, false, false);
    for h in req.headers.iter() {
        let value = h.value;
        pack_span(&mut buf, HeaderSpan { name: span_of(head, h.name.as_bytes()), value: span_of(head, value) });
        let known = classify(h.name.as_bytes());
        if known == Known::Other {
            check_no_request_body(h.name.as_bytes(), value)?;
            continue;
        }
        // Header values are nearly always ASCII: the crate's validator
        // checks short ASCII a word at a time.
        if !crate::utf8::is_valid(value) {
            let status = if known == Known::Version { 426 } else { 400 };
            return Err(Error::handshake(status, format!("{} header is not valid UTF-8", h.name)));
        }
        match known {
            Known::Host => {
                hosts += 1;
                out.host = span_of(head, value);
            }
            Known::Upgrade => {
                upgrades += 1;
                upgrade_ok = list_contains(value, b"websocket");
            }
            Known::Connection => connection_ok |= list_contains(value, b"upgrade"),
            Known::Key => {
                keys += 1;
                out.key = span_of(head, value);
            }
            Known::Version => {
                versions += 1;
                version_ok = value == b"13";
            }
            Known::Protocol => push_subprotocols(head, value, &mut out.subprotocols)?,
            Known::Extensions => out.extensions.push(span_of(head, value)),
            Known::Accept | Known::Other => {}
        }
    }
    match hosts {
        0 => return Err(Error::handshake(400, "missing Host header")),
        1 if out.host.is_empty() => return Err(Error::handshake(400, "empty Host header")),
        1 => {}
        _ => return Err(Error::handshake(400, "more than one Host header")),
    }
    match upgrades {
        0 => return Err(Error::handshake(400, "missing Upgrade header")),
        1 if !upgrade_ok => return Err(Error::handshake(400, "Upgrade header does not list \"websocket\"")),
        1 => {}
        _ => return Err(Error::handshake(400, "more than one Upgrade header")),
    }
    if !connection_ok {
        return Err(Error::handshake(400, "Connection header does not list \"upgrade\""));
    }
    match versions {
        0 => return Err(Error::handshake(426, "missing Sec-WebSocket-Version")),
        1 if !version_ok => {
            return Err(Error::handshake(426, "unsupported Sec-WebSocket-Version (only 13 is supported)"))
        }
        1 => {}
        _ => return Err(Error::handshake(426, "more than one Sec-WebSocket-Version header")),
    }
    match keys {
        0 => return Err(Error::handshake(400, "missing Sec-WebSocket-Key")),
        1 if !key_is_valid(out.key.get(head)) => {
            return Err(Error::handshake(400, "Sec-WebSocket-Key is not base64 of 16 bytes"))
        }
        1 => {}
        _ => return Err(Error::handshake(400, "more than one Sec-WebSocket-Key header")),
    }
    out.buf = buf;
    Ok((out, len))
}

/// Appends the span of every token of a Sec-WebSocket-Protocol value (a
/// sub-slice of `buf`) to `out`; an item that is not a token is a 400.
pub(crate) fn push_subprotocols(buf: &[u8], value: &[u8], out: &mut Vec<Span>) -> Result<()> {
    for tok in split_comma(value) {
        if !is_token(tok) {
            return Err(Error::handshake(
                400,
                format!("Sec-WebSocket-Protocol item {:?} is not a token", String::from_utf8_lossy(tok)),
            ));
        }
        out.push(span_of(buf, tok));
    }
    Ok(())
}

/// The HTTP/1.1 head of a request that another HTTP parser has already read
/// (method, target, headers), for [`parse_request`] to validate exactly as
/// if it had arrived on the wire. Only what would change the head's line
/// structure is refused here, as a 400: a method or target with whitespace
/// or control characters, a header name that is not a token, a value with
/// CR, LF or NUL. Everything else is left to the parser and the request rules.
/// A head longer than `max_len` bytes is a 431, found before anything is
/// allocated.
pub fn request_head(method: &[u8], target: &[u8], headers: &[(&[u8], &[u8])], max_len: usize) -> Result<Vec<u8>> {
    let bad = |what: &str| Err(Error::handshake(400, format!("{what} cannot be part of an HTTP/1.1 request head")));
    if !is_token(method) {
        return bad("a method that is not a token");
    }
    if target.is_empty() || target.iter().any(|&b| b <= b' ' || b == 0x7f) {
        return bad("an empty request target, or one with whitespace or control characters,");
    }
    let mut len = method.len() + target.len() + 13;
    for &(name, value) in headers {
        if !is_token(name) {
            return bad(&format!("header name {:?}", String::from_utf8_lossy(name)));
        }
        if value.iter().any(|&b| matches!(b, b'\r' | b'\n' | 0)) {
            return bad(&format!("a value of header {:?} with CR, LF or NUL", String::from_utf8_lossy(name)));
        }
        len = len.saturating_add(name.len() + value.len() + 4);
    }
    let len = len.saturating_add(2);
    if len > max_len {
        return Err(Error::handshake(431, format!("request head is larger than the limit of {max_len} bytes")));
    }
    let mut head = Vec::with_capacity(len);
    head.extend_from_slice(method);
    head.push(b' ');
    head.extend_from_slice(target);
    head.extend_from_slice(b" HTTP/1.1\r\n");
    for &(name, value) in headers {
        push_header(&mut head, name, value);
    }
    head.extend_from_slice(b"\r\n");
    Ok(head)
}

/// Refuses the framing headers of a request body: `Content-Length` other than
/// 0 (or malformed) and any `Transfer-Encoding` (RFC 9112 §6.1, §6.3): an
/// upgrade request has no body, and one that claims a body must not have
/// its body parsed as WebSocket frames.
fn check_no_request_body(name: &[u8], value: &[u8]) -> Result<()> {
    if name.eq_ignore_ascii_case(b"content-length") {
        match crate::http_body::parse_content_length(value) {
            Some(0) => Ok(()),
            Some(n) => Err(Error::handshake(400, format!("the upgrade request has a body (Content-Length: {n})"))),
            None => Err(Error::handshake(400, "invalid Content-Length in the upgrade request")),
        }
    } else if name.eq_ignore_ascii_case(b"transfer-encoding") {
        Err(Error::handshake(400, "the upgrade request has a body (Transfer-Encoding)"))
    } else {
        Ok(())
    }
}

/// Parses a server's response head (any status). `HTTP/1.2`..`HTTP/1.9` are
/// processed as HTTP/1.1 (RFC 9112 §2.3).
pub fn parse_response(head: Vec<u8>, max_headers: usize) -> Result<ParsedResponse> {
    head_len_ok(&head, 0)?;
    let mut head = head;
    treat_as_http11(&mut head, false);
    let (status, headers, len) =
        with_header_slots(&head, max_headers, |slots| parse_response_in(&head, max_headers, slots))?;
    head.truncate(len);
    Ok(ParsedResponse { buf: head, status, headers })
}

/// Status, headers and head length of a response.
fn parse_response_in<'b>(
    head: &'b [u8],
    max_headers: usize,
    slots: &mut [httparse::Header<'b>],
) -> Result<(u16, Vec<HeaderSpan>, usize)> {
    let mut resp = httparse::Response::new(slots);
    let len = match resp.parse(head) {
        Ok(httparse::Status::Complete(n)) => n,
        Ok(httparse::Status::Partial) => return Err(Error::handshake(0, "incomplete HTTP response head")),
        Err(e) => return Err(parse_error(0, "response", e, max_headers, 0)),
    };
    if resp.version != Some(1) {
        return Err(Error::handshake(0, "the server's response must be HTTP/1.1"));
    }
    let status = resp.code.unwrap_or(0);
    let headers = resp
        .headers
        .iter()
        .map(|h| HeaderSpan { name: span_of(head, h.name.as_bytes()), value: span_of(head, h.value) })
        .collect();
    Ok((status, headers, len))
}

/// Validates a 101 response against our request (RFC 6455 §4.1): Upgrade,
/// Connection, Sec-WebSocket-Accept for `key`, a subprotocol we offered.
/// Extension values are returned raw for the extension code to validate.
pub fn validate_accept(resp: &ParsedResponse, key: &str, offered_subprotocols: &[String]) -> Result<AcceptedResponse> {
    if resp.status != 101 {
        return Err(Error::handshake(0, format!("server answered with status {} instead of 101", resp.status)));
    }
    let buf = &resp.buf[..];
    let mut out = AcceptedResponse::default();
    let (mut upgrades, mut accepts, mut protocols) = (0u32, 0u32, 0u32);
    let (mut upgrade_ok, mut connection_ok) = (false, false);
    let mut accept = Span::default();
    let mut protocol = Span::default();
    for h in &resp.headers {
        let value = h.value.get(buf);
        match classify(h.name.get(buf)) {
            Known::Upgrade => {
                upgrades += 1;
                // RFC 6455 §4.1: the value must be a case-insensitive match
                // for "websocket" (not a list that contains it).
                upgrade_ok = value.trim_ascii().eq_ignore_ascii_case(b"websocket");
            }
            Known::Connection => connection_ok |= list_contains(value, b"upgrade"),
            Known::Accept => {
                accepts += 1;
                accept = h.value;
            }
            Known::Protocol => {
                protocols += 1;
                protocol = h.value;
            }
            Known::Extensions => {
                if std::str::from_utf8(value).is_err() {
                    return Err(Error::handshake(0, "server's Sec-WebSocket-Extensions is not valid UTF-8"));
                }
                out.extensions.push(h.value);
            }
            _ => {}
        }
    }
    match upgrades {
        0 => return Err(Error::handshake(0, "server's response has no Upgrade header")),
        1 if !upgrade_ok => return Err(Error::handshake(0, "server's Upgrade header is not \"websocket\"")),
        1 => {}
        _ => return Err(Error::handshake(0, "server sent more than one Upgrade header")),
    }
    if !connection_ok {
        return Err(Error::handshake(0, "server's Connection header does not list \"upgrade\""));
    }
    match accepts {
        0 => return Err(Error::handshake(0, "server's response has no Sec-WebSocket-Accept header")),
        1 => {}
        _ => return Err(Error::handshake(0, "server sent more than one Sec-WebSocket-Accept header")),
    }
    if accept.get(buf) != accept_token(key.as_bytes()) {
        return Err(Error::handshake(0, "server's Sec-WebSocket-Accept does not match our Sec-WebSocket-Key"));
    }
    match protocols {
        0 => {}
        1 => {
            let value = protocol.get(buf);
            let mut items = split_comma(value);
            let (Some(tok), None) = (items.next(), items.next()) else {
                return Err(Error::handshake(0, "server's Sec-WebSocket-Protocol must hold exactly one subprotocol"));
            };
            if !offered_subprotocols.iter().any(|o| o.as_bytes() == tok) {
                return Err(Error::handshake(
                    0,
                    format!("server sent subprotocol {:?} which was not offered", String::from_utf8_lossy(tok)),
                ));
            }
            out.subprotocol = Some(span_of(buf, tok));
        }
        _ => return Err(Error::handshake(0, "server sent more than one Sec-WebSocket-Protocol header")),
    }
    Ok(out)
}

fn invalid(message: impl Into<String>) -> Error {
    Error::new(ErrorKind::InvalidArgument, message)
}

/// Checks caller-supplied extra headers: token names, safe values, and none
/// of the names the engine writes itself.
fn check_extra_headers(headers: &[(&str, &str)], reserved: &[Known]) -> Result<()> {
    for &(name, value) in headers {
        if !is_token(name.as_bytes()) {
            return Err(invalid(format!("header name {name:?} is not a token")));
        }
        if !is_field_value(value.as_bytes()) {
            return Err(invalid(format!("value of header {name:?} contains a control character")));
        }
        let known = classify(name.as_bytes());
        if known != Known::Other && reserved.contains(&known) {
            return Err(invalid(format!("header {name:?} is generated by the engine and cannot be given")));
        }
    }
    Ok(())
}

fn push_header(out: &mut Vec<u8>, name: &[u8], value: &[u8]) {
    out.extend_from_slice(name);
    out.extend_from_slice(b": ");
    out.extend_from_slice(value);
    out.extend_from_slice(b"\r\n");
}

fn extra_len(headers: &[(&str, &str)]) -> usize {
    headers.iter().map(|(n, v)| n.len() + v.len() + 4).sum()
}

/// True for origin-form (`/path?query`) or absolute-form (`scheme:...`) targets.
fn is_request_target(t: &[u8]) -> bool {
    if !is_visible_ascii(t) || t.is_empty() {
        return false;
    }
    if t[0] == b'/' {
        return true;
    }
    match t.iter().position(|&b| b == b':') {
        Some(colon) if colon > 0 && colon + 1 < t.len() => {
            t[0].is_ascii_alphabetic()
                && t[1..colon].iter().all(|&b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'))
        }
        _ => false,
    }
}

/// Appends a client upgrade request to `out`. Validates that host, target,
/// subprotocols (tokens) and extra headers (token names, values without CR/LF/NUL)
/// are well formed; on error `out` is unchanged.
pub fn write_request(
    out: &mut Vec<u8>,
    host: &str,
    target: &str,
    key: &str,
    subprotocols: &[&str],
    extension_offer: Option<&str>,
    extra_headers: &[(&str, &str)],
) -> Result<()> {
    if host.is_empty() || !is_visible_ascii(host.as_bytes()) {
        return Err(invalid(format!("host {host:?} is empty or contains whitespace, control or non-ASCII characters")));
    }
    if !is_request_target(target.as_bytes()) {
        return Err(invalid(format!(
            "request target {target:?} must start with '/' (or be an absolute URI) and hold only visible ASCII"
        )));
    }
    if !key_is_valid(key.as_bytes()) {
        return Err(invalid("Sec-WebSocket-Key must be base64 of 16 bytes"));
    }
    if let Some(bad) = subprotocols.iter().find(|p| !is_token(p.as_bytes())) {
        return Err(invalid(format!("subprotocol {bad:?} is not a token")));
    }
    if let Some(offer) = extension_offer {
        if offer.trim_ascii().is_empty() || !is_field_value(offer.as_bytes()) {
            return Err(invalid("extension offer is empty or contains a control character"));
        }
    }
    check_extra_headers(
        extra_headers,
        &[
            Known::Host,
            Known::Upgrade,
            Known::Connection,
            Known::Key,
            Known::Version,
            Known::Protocol,
            Known::Extensions,
        ],
    )?;

    out.reserve(
        160 + host.len()
            + target.len()
            + subprotocols.iter().map(|p| p.len() + 2).sum::<usize>()
            + extension_offer.map_or(0, |e| e.len() + 30)
            + extra_len(extra_headers),
    );
    out.extend_from_slice(b"GET ");
    out.extend_from_slice(target.as_bytes());
    out.extend_from_slice(b" HTTP/1.1\r\nHost: ");
    out.extend_from_slice(host.as_bytes());
    out.extend_from_slice(b"\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ");
    out.extend_from_slice(key.as_bytes());
    out.extend_from_slice(b"\r\nSec-WebSocket-Version: 13\r\n");
    if let Some((first, rest)) = subprotocols.split_first() {
        out.extend_from_slice(b"Sec-WebSocket-Protocol: ");
        out.extend_from_slice(first.as_bytes());
        for p in rest {
            out.extend_from_slice(b", ");
            out.extend_from_slice(p.as_bytes());
        }
        out.extend_from_slice(b"\r\n");
    }
    if let Some(offer) = extension_offer {
        push_header(out, b"Sec-WebSocket-Extensions", offer.as_bytes());
    }
    for (name, value) in extra_headers {
        push_header(out, name.as_bytes(), value.as_bytes());
    }
    out.extend_from_slice(b"\r\n");
    Ok(())
}

/// Appends a 101 Switching Protocols response to `out`; same validation rules.
/// `key` is the client's Sec-WebSocket-Key as received (already validated by
/// [`parse_request`]).
pub fn write_accept(
    out: &mut Vec<u8>,
    key: &[u8],
    subprotocol: Option<&str>,
    extensions: Option<&str>,
    extra_headers: &[(&str, &str)],
) -> Result<()> {
    check_accept(subprotocol, extensions, extra_headers)?;
    write_checked_accept(out, &accept_token(key), subprotocol, extensions, extra_headers);
    Ok(())
}

/// The validation of [`write_accept`]: a token subprotocol, a well-formed
/// extensions value, extra headers that are well formed and not among
/// those the response has already.
pub fn check_accept(subprotocol: Option<&str>, extensions: Option<&str>, extra_headers: &[(&str, &str)]) -> Result<()> {
    if let Some(p) = subprotocol {
        if !is_token(p.as_bytes()) {
            return Err(invalid(format!("subprotocol {p:?} is not a token")));
        }
    }
    if let Some(e) = extensions {
        if e.trim_ascii().is_empty() || !is_field_value(e.as_bytes()) {
            return Err(invalid("extensions value is empty or contains a control character"));
        }
    }
    if !extra_headers.is_empty() {
        check_extra_headers(
            extra_headers,
            &[Known::Upgrade, Known::Connection, Known::Accept, Known::Protocol, Known::Extensions],
        )?;
    }
    Ok(())
}

/// Appends the 101 response for arguments [`check_accept`] passed, with
/// `accept` the Sec-WebSocket-Accept value: the fixed part in one copy,
/// after one reservation for the whole response.
pub fn write_checked_accept(
    out: &mut Vec<u8>,
    accept: &[u8; 28],
    subprotocol: Option<&str>,
    extensions: Option<&str>,
    extra_headers: &[(&str, &str)],
) {
    const HEAD: &[u8] =
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ";
    let mut fixed = [0u8; HEAD.len() + 30];
    fixed[..HEAD.len()].copy_from_slice(HEAD);
    fixed[HEAD.len()..HEAD.len() + 28].copy_from_slice(accept);
    fixed[HEAD.len() + 28..].copy_from_slice(b"\r\n");
    out.reserve(
        fixed.len()
            + 2
            + subprotocol.map_or(0, |p| p.len() + 26)
            + extensions.map_or(0, |e| e.len() + 28)
            + extra_len(extra_headers),
    );
    out.extend_from_slice(&fixed);
    if let Some(p) = subprotocol {
        push_header(out, b"Sec-WebSocket-Protocol", p.as_bytes());
    }
    if let Some(e) = extensions {
        push_header(out, b"Sec-WebSocket-Extensions", e.as_bytes());
    }
    for (name, value) in extra_headers {
        push_header(out, name.as_bytes(), value.as_bytes());
    }
    out.extend_from_slice(b"\r\n");
}

/// The standard reason phrase of a status code ("Unknown" for others).
pub fn reason_phrase(status: u16) -> &'static str {
    match status {
        100 => "Continue",
        101 => "Switching Protocols",
        200 => "OK",
        201 => "Created",
        202 => "Accepted",
        204 => "No Content",
        301 => "Moved Permanently",
        302 => "Found",
        303 => "See Other",
        304 => "Not Modified",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        406 => "Not Acceptable",
        408 => "Request Timeout",
        409 => "Conflict",
        410 => "Gone",
        411 => "Length Required",
        413 => "Content Too Large",
        414 => "URI Too Long",
        415 => "Unsupported Media Type",
        421 => "Misdirected Request",
        422 => "Unprocessable Content",
        426 => "Upgrade Required",
        428 => "Precondition Required",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        505 => "HTTP Version Not Supported",
        _ => "Unknown",
    }
}

/// Appends a rejection response head to `out`. The status must be a final
/// one, 200..=599 (1xx are interim responses: the client would keep waiting;
/// 101 would accept). 204 and 304 never carry a body (RFC 9110 §15.3.5,
/// §15.4.5), so `has_body` must be false for them, and a 204 may not carry
/// Content-Length or Transfer-Encoding, nor a 304 Transfer-Encoding
/// (RFC 9110 §8.6, RFC 9112 §6.1). Adds `Content-Length: 0` when `has_body`
/// is false and the caller gave none (not for 204 and 304); adds
/// `Sec-WebSocket-Version: 13` to a 426 that does not carry it.
pub fn write_reject(out: &mut Vec<u8>, status: u16, headers: &[(&str, &str)], has_body: bool) -> Result<()> {
    if !(200..=599).contains(&status) {
        return Err(invalid(format!("rejection status {status} must be a final status, 200..=599")));
    }
    check_extra_headers(headers, &[])?;
    let has = |name: &str| headers.iter().any(|(n, _)| n.eq_ignore_ascii_case(name));
    let bodyless = status == 204 || status == 304;
    if bodyless && has_body {
        return Err(invalid(format!("a {status} response cannot have a body")));
    }
    if (status == 204 && has("content-length")) || (bodyless && has("transfer-encoding")) {
        return Err(invalid(format!("a {status} response cannot carry body framing headers")));
    }
    let add_length = !has_body && !bodyless && !has("content-length") && !has("transfer-encoding");
    let add_version = status == 426 && !has("sec-websocket-version");
    let reason = reason_phrase(status);

    out.reserve(64 + reason.len() + extra_len(headers));
    out.extend_from_slice(b"HTTP/1.1 ");
    out.extend_from_slice(&[b'0' + (status / 100) as u8, b'0' + (status / 10 % 10) as u8, b'0' + (status % 10) as u8]);
    out.push(b' ');
    out.extend_from_slice(reason.as_bytes());
    out.extend_from_slice(b"\r\n");
    for (name, value) in headers {
        push_header(out, name.as_bytes(), value.as_bytes());
    }
    if add_version {
        out.extend_from_slice(b"Sec-WebSocket-Version: 13\r\n");
    }
    if add_length {
        out.extend_from_slice(b"Content-Length: 0\r\n");
    }
    out.extend_from_slice(b"\r\n");
    Ok(())
}

/// Sec-WebSocket-Accept for a key: base64(SHA-1(key ++ GUID)).
pub fn accept_token(key: &[u8]) -> [u8; 28] {
    let digest = match <&[u8; 24]>::try_from(key) {
        Ok(key) => sha1_key_guid(key),
        Err(_) => {
            use sha1::Digest as _;
            let mut h = sha1::Sha1::new();
            h.update(key);
            h.update(ACCEPT_GUID.as_bytes());
            h.finalize().into()
        }
    };
    base64_encode(&digest)
}

/// SHA-1 of a 24-byte key followed by the GUID: 60 bytes, so the message
/// and its padding are two fixed blocks, hashed with the compression
/// function alone (SHA-NI when the CPU has it) without the streaming
/// buffer of `Digest`.
fn sha1_key_guid(key: &[u8; 24]) -> [u8; 20] {
    const LEN: usize = 24 + ACCEPT_GUID.len();
    let mut blocks = [sha1::digest::generic_array::GenericArray::<u8, sha1::digest::consts::U64>::default(); 2];
    blocks[0][..24].copy_from_slice(key);
    blocks[0][24..LEN].copy_from_slice(ACCEPT_GUID.as_bytes());
    blocks[0][LEN] = 0x80;
    blocks[1][56..].copy_from_slice(&((LEN as u64) * 8).to_be_bytes());
    let mut state = [0x6745_2301, 0xEFCD_AB89, 0x98BA_DCFE, 0x1032_5476, 0xC3D2_E1F0];
    sha1::compress(&mut state, &blocks);
    let mut out = [0u8; 20];
    for (o, w) in out.chunks_exact_mut(4).zip(state) {
        o.copy_from_slice(&w.to_be_bytes());
    }
    out
}

/// The standard base64 alphabet (RFC 4648 §4).
const BASE64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Standard, padded base64 of `N` bytes into `M` = 4 * ceil(N / 3)
/// characters: a SHA-1 digest (20 bytes, 28 characters) or a key's nonce
/// (16 bytes, 24 characters). `N` is a constant, so the loop unrolls.
fn base64_encode<const N: usize, const M: usize>(d: &[u8; N]) -> [u8; M] {
    debug_assert_eq!(M, N.div_ceil(3) * 4);
    let mut out = [b'='; M];
    let sym = |n: u32, shift: u32| BASE64[(n >> shift & 63) as usize];
    let whole = N / 3;
    for i in 0..whole {
        let n = u32::from(d[3 * i]) << 16 | u32::from(d[3 * i + 1]) << 8 | u32::from(d[3 * i + 2]);
        out[4 * i..4 * i + 4].copy_from_slice(&[sym(n, 18), sym(n, 12), sym(n, 6), sym(n, 0)]);
    }
    // The last one or two bytes: two or three symbols, then the padding.
    let rest = &d[3 * whole..];
    if let Some(&first) = rest.first() {
        let n = u32::from(first) << 16 | u32::from(rest.get(1).copied().unwrap_or(0)) << 8;
        let syms = [sym(n, 18), sym(n, 12), sym(n, 6)];
        out[4 * whole..4 * whole + rest.len() + 1].copy_from_slice(&syms[..rest.len() + 1]);
    }
    out
}

/// A Sec-WebSocket-Key from 16 random bytes.
pub fn key_from_nonce(nonce: &[u8; 16]) -> [u8; 24] {
    base64_encode(nonce)
}

/// True when `key` is base64 of exactly 16 bytes.
pub fn key_is_valid(key: &[u8]) -> bool {
    // Canonical, padded base64 of 16 bytes: 22 symbols and "==", the last
    // symbol carrying 2 data bits (the 4 bits after them must be zero), as
    // the base64 crate's standard engine decodes it.
    // The symbols are checked with a table and no branch per byte: a key
    // is random, so a branch per character class would mispredict often.
    const SYMBOL: [bool; 256] = {
        let mut t = [false; 256];
        let mut i = 0;
        while i < BASE64.len() {
            t[BASE64[i] as usize] = true;
            i += 1;
        }
        t
    };
    let Ok(key) = <&[u8; 24]>::try_from(key) else { return false };
    let symbols = key[..21].iter().fold(true, |ok, &b| ok & SYMBOL[b as usize]);
    symbols & matches!(key[21], b'A' | b'Q' | b'g' | b'w') & (key[22..] == *b"==")
}

/// Trimmed, non-empty items of a comma-separated header value.
pub fn split_comma(value: &[u8]) -> impl Iterator<Item = &[u8]> {
    value.split(|&b| b == b',').map(|s| s.trim_ascii()).filter(|s| !s.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    type Extra = Vec<(&'static str, &'static str)>;
    type RequestCase = (&'static str, &'static str, &'static str, Vec<&'static str>, Option<&'static str>, Extra);
    type AcceptCase = (Option<&'static str>, Option<&'static str>, Extra);

    const KEY: &str = "dGhlIHNhbXBsZSBub25jZQ==";
    const ACCEPT: &str = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";

    fn request_with(lines: &[&str]) -> Vec<u8> {
        let mut s = String::from("GET /chat HTTP/1.1\r\n");
        for l in lines {
            s.push_str(l);
            s.push_str("\r\n");
        }
        s.push_str("\r\n");
        s.into_bytes()
    }

    const GOOD: [&str; 5] = [
        "Host: server.example.com",
        "Upgrade: websocket",
        "Connection: Upgrade",
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
        "Sec-WebSocket-Version: 13",
    ];

    /// The good request with header `i` replaced (Some) or removed (None), plus extras.
    fn variant(i: usize, repl: Option<&str>, extra: &[&str]) -> Vec<u8> {
        let mut lines: Vec<&str> = Vec::new();
        for (j, l) in GOOD.iter().enumerate() {
            if j == i {
                if let Some(r) = repl {
                    lines.push(r);
                }
            } else {
                lines.push(l);
            }
        }
        lines.extend_from_slice(extra);
        request_with(&lines)
    }

    fn err_of(head: Vec<u8>) -> Error {
        parse_request(head, 64).expect_err("request should be rejected")
    }

    fn assert_rejected(head: Vec<u8>, status: u16, needle: &str) {
        let e = err_of(head);
        assert_eq!(e.kind, ErrorKind::Handshake, "{e:?}");
        assert_eq!(e.status_hint, status, "{e:?}");
        assert!(e.message.contains(needle), "message {:?} lacks {needle:?}", e.message);
    }

    #[test]
    fn rfc_example_accept_token() {
        assert_eq!(&accept_token(KEY.as_bytes()), ACCEPT.as_bytes());
    }

    #[test]
    fn key_from_nonce_and_validity() {
        let nonce = *b"the sample nonce";
        let key = key_from_nonce(&nonce);
        assert_eq!(&key, KEY.as_bytes());
        assert!(key_is_valid(&key));
        assert!(!key_is_valid(b""));
        assert!(!key_is_valid(b"dGhlIHNhbXBsZSBub25jZQ")); // no padding
        assert!(!key_is_valid(b"dGhlIHNhbXBsZSBub25jZQ=")); // 23 chars
        assert!(!key_is_valid(b"dGhlIHNhbXBsZSBub25jZQ===")); // 25 chars
        assert!(!key_is_valid(b"dGhlIHNhbXBsZSBub25jZQ*=")); // bad alphabet
        assert!(!key_is_valid(b"dGhlIHNhbXBsZSBub25jZSBhYg==")); // 19 bytes
        assert!(!key_is_valid(b"dGhlIHNhbXBsZSBub25jZXh4")); // 18 bytes, 24 chars
        assert!(!key_is_valid(b"dGhlIHNhbXBsZSBub25jZR==")); // non-canonical trailing bits
    }

    /// The word-at-a-time scan finds the first CRLF CRLF, as a plain search
    /// does, in random heads over an alphabet dense in CR and LF.
    #[test]
    fn head_end_matches_a_plain_search() {
        let plain = |b: &[u8]| b.windows(4).position(|w| w == b"\r\n\r\n").map(|p| p + 4);
        let mut rng = 0x1234_5678_9ABC_DEF1u64;
        for _ in 0..200_000 {
            let len = xorshift(&mut rng) as usize % 40;
            let b: Vec<u8> = (0..len).map(|_| b"\r\n\r\nab\x8a\x0d\x0ac"[xorshift(&mut rng) as usize % 10]).collect();
            assert_eq!(find_head_end(&b), plain(&b), "{b:?}");
        }
        let head = request_with(&GOOD);
        for cut in 0..=head.len() {
            assert_eq!(find_head_end(&head[..cut]), plain(&head[..cut]));
        }
    }

    /// `token_eq_lower` agrees with `eq_ignore_ascii_case` for every token
    /// byte at every position of every name `classify` knows.
    #[test]
    fn token_compare_matches_ignore_case() {
        let names = [
            "host",
            "upgrade",
            "connection",
            "sec-websocket-key",
            "sec-websocket-accept",
            "sec-websocket-version",
            "sec-websocket-protocol",
            "sec-websocket-extensions",
        ];
        for cand in names {
            let upper = cand.to_ascii_uppercase();
            assert!(token_eq_lower(cand.as_bytes(), cand.as_bytes()));
            assert!(token_eq_lower(upper.as_bytes(), cand.as_bytes()));
            for i in 0..cand.len() {
                for b in (0..=255u8).filter(|&b| is_tchar(b)) {
                    let mut n = cand.as_bytes().to_vec();
                    n[i] = b;
                    assert_eq!(token_eq_lower(&n, cand.as_bytes()), n.eq_ignore_ascii_case(cand.as_bytes()));
                }
            }
            assert!(!token_eq_lower(&cand.as_bytes()[1..], cand.as_bytes()));
        }
        // Letters-only words (list_contains' "websocket", "upgrade") against
        // any byte, as header values hold.
        for cand in ["websocket", "upgrade"] {
            for i in 0..cand.len() {
                for b in 0..=255u8 {
                    let mut n = cand.as_bytes().to_vec();
                    n[i] = b;
                    assert_eq!(token_eq_lower(&n, cand.as_bytes()), n.eq_ignore_ascii_case(cand.as_bytes()));
                    assert_eq!(
                        list_contains(&n, cand.as_bytes()),
                        n.eq_ignore_ascii_case(cand.as_bytes()) || {
                            split_comma(&n).any(|t| t.eq_ignore_ascii_case(cand.as_bytes()))
                        }
                    );
                }
            }
        }
    }

    /// A small deterministic generator for the differential tests below.
    fn xorshift(state: &mut u64) -> u64 {
        *state ^= *state << 13;
        *state ^= *state >> 7;
        *state ^= *state << 17;
        *state
    }

    /// The direct SHA-1 + base64 of `accept_token` equals `Digest` + the
    /// base64 crate, for keys of every length 0..=100 (24 takes the fixed
    /// two-block path, the others the streaming one) and many 24-byte keys.
    #[test]
    fn accept_token_matches_the_crates() {
        use base64::Engine as _;
        use sha1::Digest as _;
        let reference = |key: &[u8]| {
            let mut h = sha1::Sha1::new();
            h.update(key);
            h.update(ACCEPT_GUID.as_bytes());
            base64::engine::general_purpose::STANDARD.encode(h.finalize())
        };
        let mut rng = 0x9E37_79B9_7F4A_7C15u64;
        for len in (0..=100).chain([24; 2000]) {
            let key: Vec<u8> = (0..len).map(|_| xorshift(&mut rng) as u8).collect();
            assert_eq!(&accept_token(&key)[..], reference(&key).as_bytes(), "{key:?}");
        }
        for _ in 0..2000 {
            let d: [u8; 20] = std::array::from_fn(|_| xorshift(&mut rng) as u8);
            assert_eq!(
                &base64_encode::<20, 28>(&d)[..],
                base64::engine::general_purpose::STANDARD.encode(d).as_bytes()
            );
            let nonce: [u8; 16] = std::array::from_fn(|_| xorshift(&mut rng) as u8);
            assert_eq!(&key_from_nonce(&nonce)[..], base64::engine::general_purpose::STANDARD.encode(nonce).as_bytes());
        }
    }

    /// `key_is_valid` decides as the base64 crate's canonical decoder does:
    /// encoded nonces, single-byte mutations of them (every byte value at
    /// every position), and random 24-byte strings over the alphabet.
    #[test]
    fn key_is_valid_matches_the_crate() {
        use base64::Engine as _;
        let reference = |key: &[u8]| {
            let mut buf = [0u8; 18];
            key.len() == 24 && matches!(base64::engine::general_purpose::STANDARD.decode_slice(key, &mut buf), Ok(16))
        };
        let mut rng = 0x2545_F491_4F6C_DD1Du64;
        for _ in 0..200 {
            let nonce: [u8; 16] = std::array::from_fn(|_| xorshift(&mut rng) as u8);
            let key = key_from_nonce(&nonce);
            assert!(key_is_valid(&key));
            for i in 0..24 {
                for b in 0..=255u8 {
                    let mut k = key;
                    k[i] = b;
                    assert_eq!(key_is_valid(&k), reference(&k), "{:?}", String::from_utf8_lossy(&k));
                }
            }
        }
        let symbols = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=";
        for _ in 0..100_000 {
            let k: [u8; 24] = std::array::from_fn(|_| symbols[xorshift(&mut rng) as usize % symbols.len()]);
            assert_eq!(key_is_valid(&k), reference(&k), "{:?}", String::from_utf8_lossy(&k));
        }
        for len in 0..40 {
            let k = vec![b'A'; len];
            assert_eq!(key_is_valid(&k), reference(&k), "{len}");
        }
    }

    #[test]
    fn head_end() {
        assert_eq!(find_head_end(b""), None);
        assert_eq!(find_head_end(b"\r\n\r"), None);
        assert_eq!(find_head_end(b"\r\n\r\n"), Some(4));
        assert_eq!(find_head_end(b"GET / HTTP/1.1\r\nA: b\r\n\r\nrest"), Some(24));
        assert_eq!(find_head_end(b"a\r\n\r\r\n\r\n"), Some(8));
        assert_eq!(find_head_end(b"a\n\n\r\n\rx\r\n"), None);
        // Every position of the terminator is found.
        for pad in 0..40 {
            let mut v = vec![b'x'; pad];
            v.extend_from_slice(b"\r\n\r\nyy");
            assert_eq!(find_head_end(&v), Some(pad + 4), "pad {pad}");
        }
    }

    #[test]
    fn parses_the_rfc_request() {
        let head = request_with(&[
            "Host: server.example.com",
            "Upgrade: websocket",
            "Connection: Upgrade",
            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
            "Origin: http://example.com",
            "Sec-WebSocket-Protocol: chat, superchat",
            "Sec-WebSocket-Version: 13",
        ]);
        let r = parse_request(head, 64).unwrap();
        assert_eq!(r.target.str(&r.buf), "/chat");
        assert_eq!(r.host.str(&r.buf), "server.example.com");
        assert_eq!(r.key.str(&r.buf), KEY);
        let protos: Vec<&str> = r.subprotocols.iter().map(|s| s.str(&r.buf)).collect();
        assert_eq!(protos, ["chat", "superchat"]);
        assert!(r.extensions.is_empty());
        assert_eq!(r.header_spans().len(), 7);
        // Packed after the head, in its allocation.
        assert_eq!((r.packed, r.headers.len(), r.buf.capacity()), (7, 0, r.head().len() + 7 * 16));
        assert_eq!(r.header_spans().get(4).unwrap().name.str(&r.buf), "Origin");
        assert_eq!(r.header_spans().get(4).unwrap().value.str(&r.buf), "http://example.com");
    }

    #[test]
    fn case_insensitive_names_and_tokens_and_comma_lists() {
        let head = request_with(&[
            "HOST: h",
            "upgrade: h2c, WebSocket",
            "connection: keep-alive, UPGRADE",
            "sec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==",
            "SEC-WEBSOCKET-VERSION: 13",
            "sec-websocket-protocol: a,,b ,  c",
            "Sec-WebSocket-Protocol: d",
            "sec-websocket-extensions: permessage-deflate; client_max_window_bits",
            "Sec-WebSocket-Extensions: x-foo",
        ]);
        let r = parse_request(head, 64).unwrap();
        let protos: Vec<&str> = r.subprotocols.iter().map(|s| s.str(&r.buf)).collect();
        assert_eq!(protos, ["a", "b", "c", "d"]);
        let exts: Vec<&str> = r.extensions.iter().map(|s| s.str(&r.buf)).collect();
        assert_eq!(exts, ["permessage-deflate; client_max_window_bits", "x-foo"]);
    }

    #[test]
    fn multiple_connection_headers_any_may_carry_upgrade() {
        let r = parse_request(variant(2, Some("Connection: keep-alive"), &["Connection: Upgrade"]), 64);
        assert!(r.is_ok(), "{r:?}");
        let r = parse_request(variant(2, Some("Connection: Upgrade"), &["Connection: close"]), 64);
        assert!(r.is_ok(), "{r:?}");
        assert_rejected(variant(2, Some("Connection: keep-alive"), &["Connection: close"]), 400, "Connection");
    }

    #[test]
    fn method_version_target_rules() {
        let good = request_with(&GOOD);
        let s = String::from_utf8(good).unwrap();
        assert_rejected(s.replacen("GET", "POST", 1).into_bytes(), 400, "GET");
        assert_rejected(s.replacen("GET", "get", 1).into_bytes(), 400, "GET");
        assert_rejected(s.replacen("HTTP/1.1", "HTTP/1.0", 1).into_bytes(), 400, "HTTP/1.1");
        assert_eq!(err_of(s.replacen("HTTP/1.1", "HTTP/2.0", 1).into_bytes()).status_hint, 400);
        assert_eq!(err_of(s.replacen("/chat", "", 1).into_bytes()).status_hint, 400);
        assert_rejected(s.as_bytes()[..s.len() - 2].to_vec(), 400, "incomplete");
        assert_rejected(b"garbage\r\n\r\n".to_vec(), 400, "malformed");
    }

    #[test]
    fn host_rules() {
        assert_rejected(variant(0, None, &[]), 400, "missing Host");
        assert_rejected(variant(0, Some("Host: a"), &["Host: b"]), 400, "more than one Host");
        assert_rejected(variant(0, Some("Host:"), &[]), 400, "empty Host");
    }

    #[test]
    fn upgrade_rules() {
        assert_rejected(variant(1, None, &[]), 400, "missing Upgrade");
        assert_rejected(variant(1, Some("Upgrade: h2c"), &[]), 400, "websocket");
        assert_rejected(variant(1, Some("Upgrade: websocket2"), &[]), 400, "websocket");
        assert_rejected(variant(1, Some("Upgrade: websocket"), &["Upgrade: websocket"]), 400, "more than one Upgrade");
    }

    #[test]
    fn connection_rules() {
        assert_rejected(variant(2, None, &[]), 400, "Connection");
        assert_rejected(variant(2, Some("Connection: keep-alive"), &[]), 400, "Connection");
        assert_rejected(variant(2, Some("Connection: upgraded"), &[]), 400, "Connection");
    }

    #[test]
    fn version_rules() {
        assert_rejected(variant(4, None, &[]), 426, "missing Sec-WebSocket-Version");
        assert_rejected(variant(4, Some("Sec-WebSocket-Version: 8"), &[]), 426, "unsupported");
        assert_rejected(variant(4, Some("Sec-WebSocket-Version: 13, 8"), &[]), 426, "unsupported");
        assert_rejected(variant(4, Some("Sec-WebSocket-Version: 013"), &[]), 426, "unsupported");
        assert_rejected(
            variant(4, Some("Sec-WebSocket-Version: 13"), &["Sec-WebSocket-Version: 13"]),
            426,
            "more than one",
        );
        // Surrounding whitespace is not part of the value.
        assert!(parse_request(variant(4, Some("Sec-WebSocket-Version:   13  "), &[]), 64).is_ok());
    }

    #[test]
    fn key_rules() {
        assert_rejected(variant(3, None, &[]), 400, "missing Sec-WebSocket-Key");
        assert_rejected(variant(3, Some("Sec-WebSocket-Key: c2hvcnQ="), &[]), 400, "16 bytes");
        assert_rejected(
            variant(
                3,
                Some("Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ=="),
                &["Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ=="],
            ),
            400,
            "more than one Sec-WebSocket-Key",
        );
    }

    #[test]
    fn subprotocols_must_be_tokens() {
        assert_rejected(variant(9, None, &["Sec-WebSocket-Protocol: chat, a b"]), 400, "not a token");
        assert_rejected(variant(9, None, &["Sec-WebSocket-Protocol: ch/at"]), 400, "not a token");
    }

    #[test]
    fn non_utf8_values() {
        let mut head = request_with(&GOOD);
        // An uninterpreted header keeps arbitrary (obs-text) bytes.
        let at = head.len() - 2;
        head.splice(at..at, b"X-Bin: \xff\xfe\r\n".iter().copied());
        let r = parse_request(head, 64).unwrap();
        let x = r.header_spans().iter().last().unwrap();
        assert_eq!(x.name.str(&r.buf), "X-Bin");
        assert_eq!(x.value.get(&r.buf), b"\xff\xfe");
        // An interpreted one must be UTF-8.
        let mut head = variant(0, None, &[]);
        let at = head.len() - 2;
        head.splice(at..at, b"Host: \xff\r\n".iter().copied());
        assert_rejected(head, 400, "UTF-8");
    }

    #[test]
    fn too_many_headers_is_431() {
        assert!(parse_request(request_with(&GOOD), 4).unwrap_err().message.contains("too many headers"));
        let e = parse_request(request_with(&GOOD), 4).unwrap_err();
        assert_eq!(e.status_hint, 431);
        assert!(parse_request(request_with(&GOOD), 5).is_ok());
        // Past the stack threshold the heap path is used.
        let extra: Vec<String> = (0..100).map(|i| format!("X-{i}: v")).collect();
        let mut lines: Vec<&str> = GOOD.to_vec();
        lines.extend(extra.iter().map(|s| s.as_str()));
        assert!(parse_request(request_with(&lines), 105).is_ok());
        assert_eq!(parse_request(request_with(&lines), 104).unwrap_err().status_hint, 431);
    }

    #[test]
    fn trailing_bytes_after_head_are_dropped() {
        let mut head = request_with(&GOOD);
        let n = head.len();
        head.extend_from_slice(b"\x81\x00");
        let r = parse_request(head, 64).unwrap();
        assert_eq!(r.head().len(), n);
    }

    #[test]
    fn request_round_trip() {
        let mut out = b"prefix".to_vec();
        write_request(
            &mut out,
            "example.com:8080",
            "/ws?x=1",
            KEY,
            &["chat", "v2.json"],
            Some("permessage-deflate; client_max_window_bits"),
            &[("Origin", "https://example.com"), ("X-Trace", "a\tb")],
        )
        .unwrap();
        assert!(out.starts_with(b"prefixGET /ws?x=1 HTTP/1.1\r\nHost: example.com:8080\r\n"));
        let head = out[6..].to_vec();
        assert_eq!(find_head_end(&head), Some(head.len()));
        let r = parse_request(head, 64).unwrap();
        assert_eq!(r.target.str(&r.buf), "/ws?x=1");
        assert_eq!(r.host.str(&r.buf), "example.com:8080");
        assert_eq!(r.key.str(&r.buf), KEY);
        let protos: Vec<&str> = r.subprotocols.iter().map(|s| s.str(&r.buf)).collect();
        assert_eq!(protos, ["chat", "v2.json"]);
        assert_eq!(r.extensions.len(), 1);
        assert_eq!(r.extensions[0].str(&r.buf), "permessage-deflate; client_max_window_bits");
        let last = r.header_spans().iter().last().unwrap();
        assert_eq!((last.name.str(&r.buf), last.value.str(&r.buf)), ("X-Trace", "a\tb"));
    }

    #[test]
    fn write_request_minimal_exact_bytes() {
        let mut out = Vec::new();
        write_request(&mut out, "h", "/", KEY, &[], None, &[]).unwrap();
        let expected = format!(
            "GET / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Key: {KEY}\r\nSec-WebSocket-Version: 13\r\n\r\n"
        );
        assert_eq!(String::from_utf8(out).unwrap(), expected);
        let mut out = Vec::new();
        write_request(&mut out, "h", "ws://h/x", KEY, &[], None, &[]).unwrap();
        assert!(out.starts_with(b"GET ws://h/x HTTP/1.1\r\n"));
    }

    #[test]
    fn write_request_validation_leaves_out_unchanged() {
        let cases: Vec<RequestCase> = vec![
            ("", "/", KEY, vec![], None, vec![]),
            ("a b", "/", KEY, vec![], None, vec![]),
            ("a\r\nX: y", "/", KEY, vec![], None, vec![]),
            ("h", "", KEY, vec![], None, vec![]),
            ("h", "chat", KEY, vec![], None, vec![]),
            ("h", "/a b", KEY, vec![], None, vec![]),
            ("h", "/a\n", KEY, vec![], None, vec![]),
            ("h", "/", "short", vec![], None, vec![]),
            ("h", "/", KEY, vec!["a b"], None, vec![]),
            ("h", "/", KEY, vec![""], None, vec![]),
            ("h", "/", KEY, vec![], Some("x\r\ny"), vec![]),
            ("h", "/", KEY, vec![], Some(""), vec![]),
            ("h", "/", KEY, vec![], None, vec![("Bad Name", "v")]),
            ("h", "/", KEY, vec![], None, vec![("", "v")]),
            ("h", "/", KEY, vec![], None, vec![("X", "a\rb")]),
            ("h", "/", KEY, vec![], None, vec![("X", "a\nb")]),
            ("h", "/", KEY, vec![], None, vec![("X", "a\0b")]),
            ("h", "/", KEY, vec![], None, vec![("host", "other")]),
            ("h", "/", KEY, vec![], None, vec![("UPGRADE", "x")]),
            ("h", "/", KEY, vec![], None, vec![("Connection", "close")]),
            ("h", "/", KEY, vec![], None, vec![("Sec-WebSocket-Key", KEY)]),
            ("h", "/", KEY, vec![], None, vec![("sec-websocket-version", "13")]),
            ("h", "/", KEY, vec![], None, vec![("Sec-WebSocket-Protocol", "x")]),
            ("h", "/", KEY, vec![], None, vec![("Sec-WebSocket-Extensions", "x")]),
        ];
        for (host, target, key, protos, ext, extra) in cases {
            let mut out = b"keep".to_vec();
            let e = write_request(&mut out, host, target, key, &protos, ext, &extra)
                .expect_err(&format!("{host:?} {target:?} {protos:?} {ext:?} {extra:?}"));
            assert_eq!(e.kind, ErrorKind::InvalidArgument);
            assert_eq!(out, b"keep");
        }
    }

    fn accept_head(key: &str, proto: Option<&str>, ext: Option<&str>, extra: &[(&str, &str)]) -> ParsedResponse {
        let mut out = Vec::new();
        write_accept(&mut out, key.as_bytes(), proto, ext, extra).unwrap();
        parse_response(out, 64).unwrap()
    }

    #[test]
    fn response_round_trip() {
        let offered = vec!["chat".to_string(), "superchat".to_string()];
        let resp = accept_head(KEY, Some("superchat"), Some("permessage-deflate"), &[("Server", "wsproto")]);
        assert_eq!(resp.status, 101);
        let acc = validate_accept(&resp, KEY, &offered).unwrap();
        assert_eq!(acc.subprotocol.unwrap().str(&resp.buf), "superchat");
        let exts: Vec<&str> = acc.extensions.iter().map(|s| s.str(&resp.buf)).collect();
        assert_eq!(exts, ["permessage-deflate"]);
        let last = resp.headers.last().unwrap();
        assert_eq!(last.name.str(&resp.buf), "Server");

        let resp = accept_head(KEY, None, None, &[]);
        let acc = validate_accept(&resp, KEY, &[]).unwrap();
        assert!(acc.subprotocol.is_none() && acc.extensions.is_empty());
        // No protocol selected although some were offered is fine.
        assert!(validate_accept(&resp, KEY, &offered).is_ok());
    }

    #[test]
    fn write_accept_exact_bytes() {
        let mut out = Vec::new();
        write_accept(&mut out, KEY.as_bytes(), Some("chat"), None, &[]).unwrap();
        let expected = format!(
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Accept: {ACCEPT}\r\nSec-WebSocket-Protocol: chat\r\n\r\n"
        );
        assert_eq!(String::from_utf8(out).unwrap(), expected);
    }

    #[test]
    fn write_accept_validation() {
        let bad: Vec<AcceptCase> = vec![
            (Some("a b"), None, vec![]),
            (Some(""), None, vec![]),
            (None, Some("x\ny"), vec![]),
            (None, None, vec![("X", "\r\n")]),
            (None, None, vec![("X:", "v")]),
            (None, None, vec![("Sec-WebSocket-Accept", "v")]),
            (None, None, vec![("upgrade", "v")]),
            (None, None, vec![("connection", "v")]),
            (None, None, vec![("sec-websocket-protocol", "v")]),
            (None, None, vec![("sec-websocket-extensions", "v")]),
        ];
        for (p, e, extra) in bad {
            let mut out = b"keep".to_vec();
            let err = write_accept(&mut out, KEY.as_bytes(), p, e, &extra).unwrap_err();
            assert_eq!(err.kind, ErrorKind::InvalidArgument);
            assert_eq!(out, b"keep");
        }
    }

    fn response(lines: &[&str]) -> ParsedResponse {
        let mut s = String::from("HTTP/1.1 101 Switching Protocols\r\n");
        for l in lines {
            s.push_str(l);
            s.push_str("\r\n");
        }
        s.push_str("\r\n");
        parse_response(s.into_bytes(), 64).unwrap()
    }

    fn accept_err(lines: &[&str], offered: &[&str]) -> Error {
        let offered: Vec<String> = offered.iter().map(|s| s.to_string()).collect();
        let e = validate_accept(&response(lines), KEY, &offered).unwrap_err();
        assert_eq!(e.kind, ErrorKind::Handshake);
        assert_eq!(e.status_hint, 0);
        e
    }

    const UP: &str = "Upgrade: websocket";
    const CO: &str = "Connection: Upgrade";
    const AC: &str = "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";

    #[test]
    fn validate_accept_rules() {
        let offered = vec!["chat".to_string()];
        // Case-insensitive names and values, comma lists.
        let ok = response(&[
            "upgrade: WEBSOCKET",
            "connection: keep-alive, upgrade",
            "sec-websocket-accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=",
        ]);
        assert!(validate_accept(&ok, KEY, &offered).is_ok());

        assert!(accept_err(&[CO, AC], &[]).message.contains("Upgrade"));
        assert!(accept_err(&["Upgrade: h2c", CO, AC], &[]).message.contains("websocket"));
        // RFC 6455 §4.1: a case-insensitive match for "websocket", not a list holding it.
        assert!(accept_err(&["Upgrade: websocket, h2c", CO, AC], &[]).message.contains("websocket"));
        assert!(accept_err(&["Upgrade: h2c, websocket", CO, AC], &[]).message.contains("websocket"));
        assert!(accept_err(&["Upgrade: websocket/13", CO, AC], &[]).message.contains("websocket"));
        assert!(validate_accept(&response(&["Upgrade:  WebSocket ", CO, AC]), KEY, &offered).is_ok());
        assert!(accept_err(&[UP, UP, CO, AC], &[]).message.contains("more than one Upgrade"));
        assert!(accept_err(&[UP, AC], &[]).message.contains("Connection"));
        assert!(accept_err(&[UP, "Connection: close", AC], &[]).message.contains("Connection"));
        assert!(accept_err(&[UP, CO], &[]).message.contains("no Sec-WebSocket-Accept"));
        assert!(accept_err(&[UP, CO, AC, AC], &[]).message.contains("more than one Sec-WebSocket-Accept"));
        let bad_accept = "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOA=";
        assert!(accept_err(&[UP, CO, bad_accept], &[]).message.contains("does not match"));
    }

    #[test]
    fn validate_accept_subprotocols() {
        let e = accept_err(&[UP, CO, AC, "Sec-WebSocket-Protocol: x"], &["chat"]);
        assert_eq!(e.message, "server sent subprotocol \"x\" which was not offered");
        let e = accept_err(&[UP, CO, AC, "Sec-WebSocket-Protocol: chat"], &[]);
        assert!(e.message.contains("not offered"));
        // Subprotocol names are compared exactly.
        let e = accept_err(&[UP, CO, AC, "Sec-WebSocket-Protocol: Chat"], &["chat"]);
        assert!(e.message.contains("not offered"));
        let e = accept_err(&[UP, CO, AC, "Sec-WebSocket-Protocol: chat, b"], &["chat", "b"]);
        assert!(e.message.contains("exactly one"));
        let e = accept_err(&[UP, CO, AC, "Sec-WebSocket-Protocol:"], &["chat"]);
        assert!(e.message.contains("exactly one"));
        let e = accept_err(&[UP, CO, AC, "Sec-WebSocket-Protocol: chat", "Sec-WebSocket-Protocol: chat"], &["chat"]);
        assert!(e.message.contains("more than one"));
    }

    #[test]
    fn validate_accept_needs_101() {
        let resp = parse_response(b"HTTP/1.1 200 OK\r\nUpgrade: websocket\r\n\r\n".to_vec(), 64).unwrap();
        let e = validate_accept(&resp, KEY, &[]).unwrap_err();
        assert!(e.message.contains("200"), "{e:?}");
    }

    #[test]
    fn parse_response_rules() {
        let r = parse_response(b"HTTP/1.1 404 Not Found\r\nContent-Length: 3\r\n\r\nabc".to_vec(), 64).unwrap();
        assert_eq!(r.status, 404);
        assert_eq!(r.buf, b"HTTP/1.1 404 Not Found\r\nContent-Length: 3\r\n\r\n");
        assert_eq!(r.headers[0].value.str(&r.buf), "3");
        let e = parse_response(b"HTTP/1.0 101 Switching Protocols\r\n\r\n".to_vec(), 64).unwrap_err();
        assert!(e.message.contains("HTTP/1.1"));
        let e = parse_response(b"HTTP/1.1 101 OK\r\nA: b\r\nC: d\r\n\r\n".to_vec(), 1).unwrap_err();
        assert!(e.message.contains("too many headers"));
        assert!(parse_response(b"HTTP/1.1 101 OK\r\n".to_vec(), 8).is_err());
        assert!(parse_response(b"NOTHTTP\r\n\r\n".to_vec(), 8).is_err());
    }

    #[test]
    fn write_reject_rules() {
        let mut out = Vec::new();
        write_reject(&mut out, 404, &[], false).unwrap();
        assert_eq!(out, b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");

        let mut out = Vec::new();
        write_reject(&mut out, 426, &[], false).unwrap();
        assert_eq!(out, b"HTTP/1.1 426 Upgrade Required\r\nSec-WebSocket-Version: 13\r\nContent-Length: 0\r\n\r\n");

        let mut out = Vec::new();
        write_reject(&mut out, 426, &[("sec-websocket-version", "13, 8")], true).unwrap();
        assert_eq!(out, b"HTTP/1.1 426 Upgrade Required\r\nsec-websocket-version: 13, 8\r\n\r\n");

        let mut out = Vec::new();
        write_reject(&mut out, 403, &[("Content-Length", "5"), ("Content-Type", "text/plain")], false).unwrap();
        assert_eq!(out, b"HTTP/1.1 403 Forbidden\r\nContent-Length: 5\r\nContent-Type: text/plain\r\n\r\n");

        let mut out = Vec::new();
        write_reject(&mut out, 599, &[], true).unwrap();
        assert_eq!(out, b"HTTP/1.1 599 Unknown\r\n\r\n");

        let mut out = Vec::new();
        write_reject(&mut out, 204, &[], false).unwrap();
        assert_eq!(out, b"HTTP/1.1 204 No Content\r\n\r\n");

        for (status, phrase) in
            [(400, "Bad Request"), (431, "Request Header Fields Too Large"), (503, "Service Unavailable")]
        {
            let mut out = Vec::new();
            write_reject(&mut out, status, &[], true).unwrap();
            assert_eq!(out, format!("HTTP/1.1 {status} {phrase}\r\n\r\n").as_bytes());
            // What we write parses back.
            assert_eq!(parse_response(out, 8).unwrap().status, status);
        }

        for status in [0, 99, 100, 101, 103, 199, 600, 1000] {
            let mut out = b"keep".to_vec();
            let e = write_reject(&mut out, status, &[], false).unwrap_err();
            assert_eq!(e.kind, ErrorKind::InvalidArgument);
            assert_eq!(out, b"keep");
        }
        let mut out = b"keep".to_vec();
        assert!(write_reject(&mut out, 400, &[("X", "a\r\nb")], false).is_err());
        assert!(write_reject(&mut out, 400, &[("X Y", "a")], false).is_err());
        assert_eq!(out, b"keep");
    }

    #[test]
    fn spans_point_into_the_buffer() {
        let r = parse_request(request_with(&GOOD), 64).unwrap();
        for (h, line) in r.header_spans().iter().zip(GOOD) {
            let (name, value) = line.split_once(": ").unwrap();
            assert_eq!(h.name.str(&r.buf), name);
            assert_eq!(h.value.str(&r.buf), value);
        }
    }

    #[test]
    fn higher_http1_minor_versions_are_http11() {
        for v in 2..=9 {
            let head = request_with(&GOOD);
            let head = [&b"GET /chat HTTP/1."[..], format!("{v}").as_bytes(), &head[18..]].concat();
            let r = parse_request(head, 64).unwrap_or_else(|e| panic!("HTTP/1.{v}: {e:?}"));
            assert_eq!(r.target.str(&r.buf), "/chat");
            let resp = format!("HTTP/1.{v} 404 Not Found\r\nContent-Length: 0\r\n\r\n");
            assert_eq!(parse_response(resp.into_bytes(), 8).unwrap().status, 404);
        }
        // Other majors, HTTP/1.0 and malformed versions stay refused.
        for v in ["HTTP/2.0", "HTTP/0.9", "HTTP/1.0", "HTTP/1.10", "HTTP/1.x", "HTTP/3", "HTTP/11.1"] {
            let head = request_with(&GOOD);
            let head = [format!("GET /chat {v}").as_bytes(), &head[18..]].concat();
            assert_eq!(parse_request(head, 64).unwrap_err().status_hint, 400, "{v}");
            let resp = format!("{v} 101 Switching Protocols\r\n\r\n");
            assert!(parse_response(resp.into_bytes(), 8).is_err(), "{v}");
        }
        // The start-line check of a partial head agrees, however it is split.
        let line = b"GET /chat HTTP/1.2\r\nHost: x\r\n";
        for n in 0..=line.len() {
            assert!(check_partial_head(&line[..n], true).is_ok(), "{n}");
        }
        let line = b"HTTP/1.3 101 Switching Protocols\r\n";
        for n in 0..=line.len() {
            assert!(check_partial_head(&line[..n], false).is_ok(), "{n}");
        }
        assert!(check_partial_head(b"GET /chat HTTP/2.0\r\n", true).is_err());
        assert!(check_partial_head(b"HTTP/2.0 101", false).is_err());
    }

    #[test]
    fn request_with_a_body_is_400() {
        for bad in [
            "Content-Length: 5",
            "content-length: 1",
            "Content-Length: 0, 0, 7",
            "Content-Length: abc",
            "Content-Length: 18446744073709551616",
            "Transfer-Encoding: chunked",
            "transfer-encoding: identity",
            "Transfer-Encoding: gzip, chunked",
        ] {
            let e = parse_request(request_with(&[&GOOD[..], &[bad]].concat()), 64).unwrap_err();
            assert_eq!(e.status_hint, 400, "{bad}");
            assert_eq!(e.kind, ErrorKind::Handshake, "{bad}");
        }
        for ok in ["Content-Length: 0", "Content-Length: 0, 0", "Content-Length: 00"] {
            assert!(parse_request(request_with(&[&GOOD[..], &[ok]].concat()), 64).is_ok(), "{ok}");
        }
    }

    #[test]
    fn header_slots_follow_the_head_not_the_limit() {
        // Huge limits (SIZE_MAX means "no limit") allocate by the head's lines:
        // no abort, no panic, and the head's headers all parse.
        for max in [usize::MAX, 1 << 40, 1 << 24, 65, 64] {
            let r = parse_request(request_with(&GOOD), max).unwrap();
            assert_eq!(r.header_spans().len(), GOOD.len(), "{max}");
            let extra: Vec<String> = (0..200).map(|i| format!("X-{i}: v")).collect();
            let mut lines: Vec<&str> = GOOD.to_vec();
            lines.extend(extra.iter().map(|s| s.as_str()));
            let r = parse_request(request_with(&lines), max);
            if max >= lines.len() {
                assert_eq!(r.unwrap().header_spans().len(), lines.len(), "{max}");
            } else {
                assert_eq!(r.unwrap_err().status_hint, 431, "{max}");
            }
            let resp = parse_response(b"HTTP/1.1 101 OK\r\nA: b\r\nC: d\r\n\r\n".to_vec(), max).unwrap();
            assert_eq!(resp.headers.len(), 2);
        }
        // Bare-LF line ends still give each header its own slot.
        let head = b"GET / HTTP/1.1\nHost: h\nUpgrade: websocket\nConnection: upgrade\n\
                     Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\nSec-WebSocket-Version: 13\n\n";
        assert_eq!(parse_request(head.to_vec(), usize::MAX).unwrap().header_spans().len(), 5);
    }

    #[test]
    fn reject_statuses_without_body() {
        for status in [204, 304] {
            let mut out = b"keep".to_vec();
            assert_eq!(write_reject(&mut out, status, &[], true).unwrap_err().kind, ErrorKind::InvalidArgument);
            assert!(write_reject(&mut out, status, &[("Transfer-Encoding", "chunked")], false).is_err());
            assert_eq!(out, b"keep");
        }
        let mut out = b"keep".to_vec();
        assert!(write_reject(&mut out, 204, &[("Content-Length", "0")], false).is_err());
        assert_eq!(out, b"keep");
        let mut out = Vec::new();
        write_reject(&mut out, 304, &[("Content-Length", "10")], false).unwrap();
        assert_eq!(out, b"HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n");
        let mut out = Vec::new();
        write_reject(&mut out, 200, &[], true).unwrap();
        assert_eq!(out, b"HTTP/1.1 200 OK\r\n\r\n");
    }
}
