//! The events a connection reports. They borrow from the connection and live
//! until its next mutating call.

use crate::handshake::{ParsedRequest, ParsedResponse, Span, SpanList};

/// Text or binary.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DataKind {
    Text,
    Binary,
}

/// Why a connection closed, as reported by a `Close` event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CloseSource {
    /// The peer sent a close frame.
    Peer,
    /// The peer violated the protocol; the engine queued a close frame with
    /// this code and stopped reading (RFC 6455 §7.1.7, "fail the connection").
    Violation,
    /// Input ended without a close frame (code 1006).
    Eof,
}

/// One event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Event<'a> {
    /// Server: the client's upgrade request. Answer with `accept` or `reject`.
    Request(Request<'a>),
    /// Client: the server accepted the upgrade; the connection is OPEN.
    Accept(Accept<'a>),
    /// Client: the server rejected the upgrade; `RejectData` events follow when it has a body.
    Reject(Reject<'a>),
    /// Client: a chunk of the rejection body.
    RejectData {
        data: &'a [u8],
        body_finished: bool,
    },
    /// A message, or a chunk of one in stream mode. Text data is always valid
    /// UTF-8 ending on a code-point boundary.
    Data {
        kind: DataKind,
        data: &'a [u8],
        frame_finished: bool,
        message_finished: bool,
    },
    Ping(&'a [u8]),
    Pong(&'a [u8]),
    /// The connection is closing. `code` is 1005 when the peer's close frame had
    /// no status code.
    Close {
        code: u16,
        reason: &'a str,
        source: CloseSource,
    },
}

/// A client's upgrade request (server side).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Request<'a> {
    pub(crate) req: &'a ParsedRequest,
}

impl<'a> Request<'a> {
    pub fn target(&self) -> &'a str {
        self.req.target.str(&self.req.buf)
    }
    pub fn host(&self) -> &'a str {
        self.req.host.str(&self.req.buf)
    }
    pub fn key(&self) -> &'a str {
        self.req.key.str(&self.req.buf)
    }
    /// Offered subprotocols, in the client's order of preference.
    pub fn subprotocols(&self) -> impl Iterator<Item = &'a str> + 'a {
        let buf = &self.req.buf;
        self.req.subprotocols.iter().map(move |s| s.str(buf))
    }
    /// Raw Sec-WebSocket-Extensions values, in order.
    pub fn extensions(&self) -> impl Iterator<Item = &'a str> + 'a {
        let buf = &self.req.buf;
        self.req.extensions.iter().map(move |s| s.str(buf))
    }
    /// All headers as received.
    pub fn headers(&self) -> Headers<'a> {
        Headers { buf: &self.req.buf, list: self.req.header_spans() }
    }
}

/// The server's 101 response (client side).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Accept<'a> {
    pub(crate) resp: &'a ParsedResponse,
    pub(crate) subprotocol: Option<Span>,
    pub(crate) extensions: &'a str,
}

impl<'a> Accept<'a> {
    /// The subprotocol the server chose, if any.
    pub fn subprotocol(&self) -> Option<&'a str> {
        self.subprotocol.map(|s| s.str(&self.resp.buf))
    }
    /// The negotiated extensions as a Sec-WebSocket-Extensions value ("" for none).
    pub fn extensions(&self) -> &'a str {
        self.extensions
    }
    pub fn headers(&self) -> Headers<'a> {
        Headers { buf: &self.resp.buf, list: SpanList::Slice(&self.resp.headers) }
    }
}

/// A rejection response (client side).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Reject<'a> {
    pub(crate) resp: &'a ParsedResponse,
    pub(crate) has_body: bool,
}

impl<'a> Reject<'a> {
    pub fn status(&self) -> u16 {
        self.resp.status
    }
    pub fn has_body(&self) -> bool {
        self.has_body
    }
    pub fn headers(&self) -> Headers<'a> {
        Headers { buf: &self.resp.buf, list: SpanList::Slice(&self.resp.headers) }
    }
}

/// Headers of a handshake message, in order; iterate for (name, value).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Headers<'a> {
    pub(crate) buf: &'a [u8],
    pub(crate) list: SpanList<'a>,
}

impl<'a> Headers<'a> {
    pub fn len(&self) -> usize {
        self.list.len()
    }
    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }
    /// Name and raw value of header `i`.
    pub fn get(&self, i: usize) -> Option<(&'a str, &'a [u8])> {
        let buf = self.buf;
        self.list.get(i).map(|h| (h.name.str(buf), h.value.get(buf)))
    }
    /// The first value of the header named `name` (case-insensitive).
    pub fn find(&self, name: &str) -> Option<&'a [u8]> {
        self.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v)
    }
    pub fn iter(&self) -> impl Iterator<Item = (&'a str, &'a [u8])> + 'a {
        let buf = self.buf;
        self.list.iter().map(move |h| (h.name.str(buf), h.value.get(buf)))
    }
}
