//! Body framing of a client-side rejection response (RFC 9112 §6):
//! Content-Length, chunked, or until end of input.

use crate::error::Result;
use crate::handshake::ParsedResponse;

/// Incremental decoder of a response body.
#[derive(Debug)]
pub struct BodyDecoder {
    _todo: (),
}

impl BodyDecoder {
    /// Picks the framing from the response's status and headers
    /// (1xx, 204 and 304 have no body; then Transfer-Encoding: chunked;
    /// then Content-Length; otherwise the body runs until end of input).
    /// Conflicting or malformed framing headers are an error.
    pub fn for_response(resp: &ParsedResponse) -> Result<BodyDecoder> {
        todo!("{resp:?}")
    }

    /// False when the response has no body at all (length 0 or status without body).
    pub fn has_body(&self) -> bool {
        todo!()
    }

    /// Decodes from `input`, appending body bytes to `out`. Returns the number
    /// of input bytes consumed and whether the body is complete.
    pub fn decode(&mut self, input: &[u8], out: &mut Vec<u8>) -> Result<(usize, bool)> {
        todo!("{input:?}{out:?}")
    }

    /// End of input: Ok when the body may end here (until-EOF framing or already
    /// complete), an error for a truncated body.
    pub fn finish_at_eof(&self) -> Result<()> {
        todo!()
    }
}
