//! permessage-deflate (RFC 7692): parameter negotiation and the codec.

use crate::error::Result;

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
    /// zlib compression level 0..=9 (default 6) and memory level 1..=9 (default 8).
    pub level: u8,
    pub mem_level: u8,
    /// Messages smaller than this many bytes are sent uncompressed.
    pub threshold: usize,
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

/// Client: the Sec-WebSocket-Extensions value offering `cfg.offers`.
pub fn client_offer(cfg: &DeflateConfig) -> String {
    todo!("{cfg:?}")
}

/// Client: validates the server's Sec-WebSocket-Extensions values (all of them)
/// against what we offered. `Ok(None)` when the server declined compression.
pub fn client_accept(cfg: &DeflateConfig, response_values: &[&[u8]]) -> Result<Option<DeflateParams>> {
    todo!("{cfg:?}{response_values:?}")
}

/// Server: picks the first acceptable permessage-deflate offer among the
/// client's Sec-WebSocket-Extensions values. Returns the negotiated parameters
/// and the response header value, or `None` to decline.
pub fn server_negotiate(cfg: &DeflateConfig, offer_values: &[&[u8]]) -> Option<(DeflateParams, String)> {
    todo!("{cfg:?}{offer_values:?}")
}

/// Why inflating a message failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InflateError {
    /// The inflated message would exceed the limit (close 1009).
    TooBig,
    /// The compressed data is corrupt (close 1007).
    Corrupt,
}

/// The per-connection codec: one inflater, one deflater.
pub struct Deflate {
    _todo: (),
}

impl Deflate {
    /// `is_server` decides which of the negotiated windows/takeover flags
    /// apply to inbound and outbound messages.
    pub fn new(params: DeflateParams, is_server: bool, cfg: &DeflateConfig) -> Deflate {
        todo!("{params:?}{is_server}{cfg:?}")
    }

    /// Inflates one piece of a compressed message's payload, appending to `out`.
    /// Fails with `TooBig` as soon as `out` would grow past `limit` bytes in
    /// total (never inflates a whole bomb first).
    pub fn inflate(&mut self, input: &[u8], out: &mut Vec<u8>, limit: usize) -> std::result::Result<(), InflateError> {
        todo!("{input:?}{out:?}{limit}")
    }

    /// Ends an inbound message: feeds the 00 00 ff ff tail, resets the
    /// inflater when the peer uses no context takeover.
    pub fn inflate_finish(&mut self, out: &mut Vec<u8>, limit: usize) -> std::result::Result<(), InflateError> {
        todo!("{out:?}{limit}")
    }

    /// Compresses a piece of an outbound message, appending to `out`. When
    /// `fin`, flushes, strips the 00 00 ff ff tail and resets the deflater when
    /// we use no context takeover.
    pub fn deflate(&mut self, input: &[u8], fin: bool, out: &mut Vec<u8>) {
        todo!("{input:?}{fin}{out:?}")
    }

    /// Bytes below which a message is sent uncompressed.
    pub fn threshold(&self) -> usize {
        todo!()
    }
}
