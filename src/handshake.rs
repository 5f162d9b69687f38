//! HTTP/1.1 upgrade handshake (RFC 6455 §4): build and parse the request and
//! the response, Sec-WebSocket-Accept, header rules. Pure functions; the
//! connection state machine lives in `connection.rs`.
//!
//! A parsed head is kept as one owned byte buffer plus offsets (`Span`) into
//! it, so parsing allocates nothing per header and events can borrow from it.

use crate::error::{Error, Result};

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
    /// The head bytes, through the blank line.
    pub buf: Vec<u8>,
    pub target: Span,
    pub host: Span,
    pub key: Span,
    /// Every token of every Sec-WebSocket-Protocol header, in order.
    pub subprotocols: Vec<Span>,
    /// Every Sec-WebSocket-Extensions header value, raw, in order.
    pub extensions: Vec<Span>,
    /// All headers as received, in order.
    pub headers: Vec<HeaderSpan>,
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
    todo!("{buf:?}")
}

/// Parses and validates a client's upgrade request (RFC 6455 §4.2.1).
/// Errors carry `status_hint`: 426 for a missing/unsupported
/// Sec-WebSocket-Version (the rejection must then carry `Sec-WebSocket-Version: 13`),
/// 431 for too many headers, 400 for everything else.
pub fn parse_request(head: Vec<u8>, max_headers: usize) -> Result<ParsedRequest> {
    todo!("{head:?}{max_headers}")
}

/// Parses a server's response head (any status).
pub fn parse_response(head: Vec<u8>, max_headers: usize) -> Result<ParsedResponse> {
    todo!("{head:?}{max_headers}")
}

/// Validates a 101 response against our request (RFC 6455 §4.1): Upgrade,
/// Connection, Sec-WebSocket-Accept for `key`, a subprotocol we offered.
/// Extension values are returned raw for the extension code to validate.
pub fn validate_accept(
    resp: &ParsedResponse,
    key: &str,
    offered_subprotocols: &[String],
) -> Result<AcceptedResponse> {
    todo!("{resp:?}{key}{offered_subprotocols:?}")
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
    todo!("{out:?}{host}{target}{key}{subprotocols:?}{extension_offer:?}{extra_headers:?}")
}

/// Appends a 101 Switching Protocols response to `out`; same validation rules.
pub fn write_accept(
    out: &mut Vec<u8>,
    key: &[u8],
    subprotocol: Option<&str>,
    extensions: Option<&str>,
    extra_headers: &[(&str, &str)],
) -> Result<()> {
    todo!("{out:?}{key:?}{subprotocol:?}{extensions:?}{extra_headers:?}")
}

/// Appends a rejection response head to `out` (status 100..=599 except 101).
/// Adds `Content-Length: 0` when `has_body` is false and the caller gave none;
/// adds `Sec-WebSocket-Version: 13` to a 426 that does not carry it.
pub fn write_reject(out: &mut Vec<u8>, status: u16, headers: &[(&str, &str)], has_body: bool) -> Result<()> {
    todo!("{out:?}{status}{headers:?}{has_body}")
}

/// Sec-WebSocket-Accept for a key: base64(SHA-1(key ++ GUID)).
pub fn accept_token(key: &[u8]) -> [u8; 28] {
    todo!("{key:?}")
}

/// A Sec-WebSocket-Key from 16 random bytes.
pub fn key_from_nonce(nonce: &[u8; 16]) -> [u8; 24] {
    todo!("{nonce:?}")
}

/// True when `key` is base64 of exactly 16 bytes.
pub fn key_is_valid(key: &[u8]) -> bool {
    todo!("{key:?}")
}

/// Trimmed, non-empty items of a comma-separated header value.
pub fn split_comma(value: &[u8]) -> impl Iterator<Item = &[u8]> {
    value.split(|&b| b == b',').map(|s| s.trim_ascii()).filter(|s| !s.is_empty())
}

#[allow(dead_code)]
fn _unused(_: Error) {}
