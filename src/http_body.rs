//! Body framing of a client-side rejection response (RFC 9112 §6):
//! Content-Length, chunked, or until end of input.

use crate::error::{Error, Result};
use crate::handshake::{split_comma, ParsedResponse};

/// Incremental decoder of a response body.
#[derive(Debug)]
pub struct BodyDecoder {
    framing: Framing,
    has_body: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Framing {
    /// Content-Length: this many bytes still to come (0 = complete).
    Length(u64),
    Chunked(Chunk),
    /// The body runs until the transport closes.
    UntilEof,
}

/// Where the chunked decoder stands (RFC 9112 §7.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Chunk {
    /// Reading the hex chunk size; `digits` read so far.
    Size {
        size: u64,
        digits: u8,
    },
    /// After the size: optional whitespace and `;ext` up to CR.
    Ext {
        size: u64,
    },
    /// CR of the size line seen, LF expected.
    SizeLf {
        size: u64,
    },
    /// Inside chunk data.
    Data {
        remaining: u64,
    },
    /// CR expected after chunk data.
    DataCr,
    /// LF expected after chunk data.
    DataLf,
    /// At the start of a trailer line (or of the final empty line).
    TrailerStart,
    /// Inside a trailer field line, skipping up to CR.
    TrailerLine,
    /// CR of a trailer line seen, LF expected.
    TrailerLf,
    /// CR of the final empty line seen, LF expected.
    EndLf,
    Done,
}

fn body_error(message: impl Into<String>) -> Error {
    Error::handshake(0, message)
}

/// Parses a Content-Length value list: decimal digits only, every item equal.
fn parse_length(value: &[u8], current: Option<u64>) -> Result<u64> {
    let mut len = current;
    let mut items = 0;
    for item in split_comma(value) {
        items += 1;
        let n = item.iter().try_fold(0u64, |acc, &d| {
            if d.is_ascii_digit() {
                acc.checked_mul(10)?.checked_add(u64::from(d - b'0'))
            } else {
                None
            }
        });
        let Some(n) = n else {
            return Err(body_error(format!("invalid Content-Length {:?}", String::from_utf8_lossy(value))));
        };
        match len {
            Some(prev) if prev != n => {
                return Err(body_error("conflicting Content-Length values"));
            }
            _ => len = Some(n),
        }
    }
    match (items, len) {
        (0, _) | (_, None) => Err(body_error("empty Content-Length")),
        (_, Some(n)) => Ok(n),
    }
}

/// A single Content-Length value (a list of equal values counts as one), or
/// None when it is malformed or conflicting.
pub(crate) fn parse_content_length(value: &[u8]) -> Option<u64> {
    parse_length(value, None).ok()
}

impl BodyDecoder {
    /// Picks the framing from the response's status and headers
    /// (1xx, 204 and 304 have no body; then Transfer-Encoding: chunked;
    /// then Content-Length; otherwise the body runs until end of input).
    /// Conflicting or malformed framing headers are an error.
    pub fn for_response(resp: &ParsedResponse) -> Result<BodyDecoder> {
        let status = resp.status;
        if status < 200 || status == 204 || status == 304 {
            return Ok(BodyDecoder { framing: Framing::Length(0), has_body: false });
        }
        let buf = &resp.buf[..];
        let mut length: Option<u64> = None;
        let mut has_te = false;
        let mut chunked_count = 0u32;
        let mut chunked_last = false;
        for h in &resp.headers {
            let name = h.name.get(buf);
            let value = h.value.get(buf);
            if name.eq_ignore_ascii_case(b"transfer-encoding") {
                for coding in split_comma(value) {
                    has_te = true;
                    // A coding may carry parameters ("gzip;q=1"); compare its name.
                    let cname = coding.split(|&b| b == b';').next().unwrap_or(b"").trim_ascii();
                    chunked_last = cname.eq_ignore_ascii_case(b"chunked");
                    chunked_count += u32::from(chunked_last);
                }
            } else if name.eq_ignore_ascii_case(b"content-length") {
                length = Some(parse_length(value, length)?);
            }
        }
        let framing = if has_te {
            // Transfer-Encoding overrides Content-Length (RFC 9112 §6.3).
            if chunked_count > 1 {
                return Err(body_error("chunked transfer coding applied more than once"));
            }
            if chunked_count == 1 && !chunked_last {
                return Err(body_error("chunked must be the final transfer coding"));
            }
            if chunked_last {
                Framing::Chunked(Chunk::Size { size: 0, digits: 0 })
            } else {
                // A response whose final coding is not chunked is delimited by
                // the end of the connection (RFC 9112 §6.3 item 4).
                Framing::UntilEof
            }
        } else if let Some(n) = length {
            Framing::Length(n)
        } else {
            Framing::UntilEof
        };
        let has_body = framing != Framing::Length(0);
        Ok(BodyDecoder { framing, has_body })
    }

    /// False when the response has no body at all (length 0 or status without body).
    pub fn has_body(&self) -> bool {
        self.has_body
    }

    /// True once the whole body has been decoded (never for until-EOF framing).
    pub fn is_complete(&self) -> bool {
        matches!(self.framing, Framing::Length(0) | Framing::Chunked(Chunk::Done))
    }

    /// Decodes from `input`, appending body bytes to `out`. Returns the number
    /// of input bytes consumed and whether the body is complete.
    pub fn decode(&mut self, input: &[u8], out: &mut Vec<u8>) -> Result<(usize, bool)> {
        match &mut self.framing {
            Framing::Length(remaining) => {
                let n = (*remaining).min(input.len() as u64) as usize;
                out.extend_from_slice(&input[..n]);
                *remaining -= n as u64;
                Ok((n, *remaining == 0))
            }
            Framing::UntilEof => {
                out.extend_from_slice(input);
                Ok((input.len(), false))
            }
            Framing::Chunked(state) => {
                let n = decode_chunked(state, input, out)?;
                Ok((n, *state == Chunk::Done))
            }
        }
    }

    /// End of input: Ok when the body may end here (until-EOF framing or already
    /// complete), an error for a truncated body.
    pub fn finish_at_eof(&self) -> Result<()> {
        match self.framing {
            Framing::UntilEof | Framing::Length(0) | Framing::Chunked(Chunk::Done) => Ok(()),
            Framing::Length(n) => Err(body_error(format!("response body truncated: {n} bytes missing"))),
            Framing::Chunked(_) => Err(body_error("chunked response body truncated")),
        }
    }
}

fn hex_value(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Runs the chunked state machine over `input`; returns the bytes consumed
/// (all of them unless the body completes first).
fn decode_chunked(state: &mut Chunk, input: &[u8], out: &mut Vec<u8>) -> Result<usize> {
    let mut i = 0;
    while i < input.len() {
        if let Chunk::Data { remaining } = state {
            let n = (*remaining).min((input.len() - i) as u64) as usize;
            out.extend_from_slice(&input[i..i + n]);
            i += n;
            *remaining -= n as u64;
            if *remaining == 0 {
                *state = Chunk::DataCr;
            }
            continue;
        }
        let b = input[i];
        i += 1;
        *state = match *state {
            Chunk::Size { size, digits } => match hex_value(b) {
                Some(v) => {
                    if digits >= 16 {
                        return Err(body_error("chunk size too large"));
                    }
                    Chunk::Size { size: size << 4 | u64::from(v), digits: digits + 1 }
                }
                None if digits == 0 => return Err(body_error("missing chunk size")),
                None => match b {
                    b'\r' => Chunk::SizeLf { size },
                    b';' | b' ' | b'\t' => Chunk::Ext { size },
                    _ => return Err(body_error("invalid character in chunk size")),
                },
            },
            Chunk::Ext { size } => match b {
                b'\r' => Chunk::SizeLf { size },
                b'\t' => Chunk::Ext { size },
                _ if b < 0x20 || b == 0x7f => return Err(body_error("control character in chunk extension")),
                _ => Chunk::Ext { size },
            },
            Chunk::SizeLf { size } => match b {
                b'\n' if size == 0 => Chunk::TrailerStart,
                b'\n' => Chunk::Data { remaining: size },
                _ => return Err(body_error("chunk size line not ended by CRLF")),
            },
            Chunk::DataCr => match b {
                b'\r' => Chunk::DataLf,
                _ => return Err(body_error("chunk data not followed by CRLF")),
            },
            Chunk::DataLf => match b {
                b'\n' => Chunk::Size { size: 0, digits: 0 },
                _ => return Err(body_error("chunk data not followed by CRLF")),
            },
            Chunk::TrailerStart => match b {
                b'\r' => Chunk::EndLf,
                b'\n' => return Err(body_error("bare LF in chunked trailer")),
                _ => Chunk::TrailerLine,
            },
            Chunk::TrailerLine => match b {
                b'\r' => Chunk::TrailerLf,
                b'\n' => return Err(body_error("bare LF in chunked trailer")),
                _ => Chunk::TrailerLine,
            },
            Chunk::TrailerLf => match b {
                b'\n' => Chunk::TrailerStart,
                _ => return Err(body_error("chunked trailer line not ended by CRLF")),
            },
            Chunk::EndLf => match b {
                b'\n' => {
                    *state = Chunk::Done;
                    return Ok(i);
                }
                _ => return Err(body_error("chunked body not ended by CRLF")),
            },
            Chunk::Done => return Ok(i - 1),
            Chunk::Data { .. } => unreachable!("handled above"),
        };
    }
    Ok(i)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::handshake::parse_response;

    fn decoder(status_and_headers: &str) -> Result<BodyDecoder> {
        let head = format!("HTTP/1.1 {status_and_headers}\r\n\r\n");
        let resp = parse_response(head.into_bytes(), 32).unwrap();
        BodyDecoder::for_response(&resp)
    }

    /// Feeds `input` in one call and returns (output, consumed, complete).
    fn feed_all(d: &mut BodyDecoder, input: &[u8]) -> Result<(Vec<u8>, usize, bool)> {
        let mut out = Vec::new();
        let (n, done) = d.decode(input, &mut out)?;
        Ok((out, n, done))
    }

    #[test]
    fn statuses_without_body() {
        for s in ["100 Continue", "204 No Content", "304 Not Modified", "199 X"] {
            let d = decoder(&format!("{s}\r\nContent-Length: 10")).unwrap();
            assert!(!d.has_body(), "{s}");
            assert!(d.is_complete());
            assert!(d.finish_at_eof().is_ok());
        }
    }

    #[test]
    fn content_length() {
        let mut d = decoder("400 Bad Request\r\nContent-Length: 5").unwrap();
        assert!(d.has_body());
        let mut out = Vec::new();
        assert_eq!(d.decode(b"he", &mut out).unwrap(), (2, false));
        assert!(d.finish_at_eof().is_err());
        assert_eq!(d.decode(b"llo extra", &mut out).unwrap(), (3, true));
        assert_eq!(out, b"hello");
        assert!(d.finish_at_eof().is_ok());
        assert_eq!(d.decode(b"more", &mut out).unwrap(), (0, true));
    }

    #[test]
    fn content_length_zero_has_no_body() {
        let d = decoder("403 Forbidden\r\nContent-Length: 0").unwrap();
        assert!(!d.has_body());
        assert!(d.finish_at_eof().is_ok());
    }

    #[test]
    fn content_length_rules() {
        // Identical duplicates (separate headers or a list) are one value.
        let mut d = decoder("400 X\r\nContent-Length: 3\r\nContent-Length: 3").unwrap();
        assert_eq!(feed_all(&mut d, b"abcd").unwrap(), (b"abc".to_vec(), 3, true));
        assert!(decoder("400 X\r\nContent-Length: 3, 3").is_ok());
        for bad in [
            "Content-Length: 3\r\nContent-Length: 4",
            "Content-Length: 3, 4",
            "Content-Length: -1",
            "Content-Length: +3",
            "Content-Length: 0x10",
            "Content-Length: 1 2",
            "Content-Length: ",
            "Content-Length: 99999999999999999999",
        ] {
            let e = decoder(&format!("400 X\r\n{bad}")).expect_err(bad);
            assert_eq!(e.kind, crate::error::ErrorKind::Handshake);
            assert_eq!(e.status_hint, 0);
        }
        let mut d = decoder("400 X\r\nContent-Length: 18446744073709551615").unwrap();
        assert_eq!(feed_all(&mut d, b"ab").unwrap(), (b"ab".to_vec(), 2, false));
    }

    #[test]
    fn until_eof() {
        let mut d = decoder("500 Oops").unwrap();
        assert!(d.has_body());
        assert_eq!(feed_all(&mut d, b"abc").unwrap(), (b"abc".to_vec(), 3, false));
        assert!(!d.is_complete());
        assert!(d.finish_at_eof().is_ok());
        // A final coding other than chunked is also delimited by EOF.
        let mut d = decoder("500 Oops\r\nTransfer-Encoding: gzip\r\nContent-Length: 1").unwrap();
        assert_eq!(feed_all(&mut d, b"xyz").unwrap(), (b"xyz".to_vec(), 3, false));
    }

    const CHUNKED: &[u8] =
        b"5\r\nhello\r\nA;name=value;x=\"q\"\r\n, world!!!\r\n1 \r\n?\r\n0\r\nX-Trailer: 1\r\nY: 2\r\n\r\n";
    const DECODED: &[u8] = b"hello, world!!!?";

    #[test]
    fn chunked_whole() {
        let mut d = decoder("400 X\r\nTransfer-Encoding: chunked\r\nContent-Length: 3").unwrap();
        assert!(d.has_body());
        let mut input = CHUNKED.to_vec();
        input.extend_from_slice(b"trailing");
        let (out, n, done) = feed_all(&mut d, &input).unwrap();
        assert_eq!(out, DECODED);
        assert_eq!(n, CHUNKED.len());
        assert!(done);
        assert!(d.finish_at_eof().is_ok());
        assert_eq!(feed_all(&mut d, b"x").unwrap(), (vec![], 0, true));
    }

    #[test]
    fn chunked_case_insensitive_and_last_coding() {
        let mut d = decoder("400 X\r\nTransfer-Encoding: gzip\r\ntransfer-encoding: CHUNKED").unwrap();
        let (out, _, done) = feed_all(&mut d, b"0\r\n\r\n").unwrap();
        assert!(out.is_empty() && done);
        assert!(decoder("400 X\r\nTransfer-Encoding: chunked, gzip").is_err());
        assert!(decoder("400 X\r\nTransfer-Encoding: chunked, chunked").is_err());
    }

    #[test]
    fn chunked_every_split_gives_same_output() {
        for split in 0..=CHUNKED.len() {
            let mut d = decoder("400 X\r\nTransfer-Encoding: chunked").unwrap();
            let mut out = Vec::new();
            let (a, done_a) = d.decode(&CHUNKED[..split], &mut out).unwrap();
            assert_eq!(a, split);
            assert_eq!(done_a, split == CHUNKED.len());
            let (b, done_b) = d.decode(&CHUNKED[split..], &mut out).unwrap();
            assert_eq!(a + b, CHUNKED.len());
            assert!(done_b, "split {split}");
            assert_eq!(out, DECODED, "split {split}");
        }
        // And one byte at a time.
        let mut d = decoder("400 X\r\nTransfer-Encoding: chunked").unwrap();
        let mut out = Vec::new();
        for (i, b) in CHUNKED.iter().enumerate() {
            let (n, done) = d.decode(std::slice::from_ref(b), &mut out).unwrap();
            assert_eq!(n, 1);
            assert_eq!(done, i + 1 == CHUNKED.len());
        }
        assert_eq!(out, DECODED);
    }

    #[test]
    fn chunked_truncated_at_eof() {
        for cut in 0..CHUNKED.len() {
            let mut d = decoder("400 X\r\nTransfer-Encoding: chunked").unwrap();
            let mut out = Vec::new();
            d.decode(&CHUNKED[..cut], &mut out).unwrap();
            assert!(d.finish_at_eof().is_err(), "cut {cut}");
        }
    }

    #[test]
    fn chunked_malformed() {
        for bad in [
            &b"\r\n"[..],
            b"g\r\n",
            b"5x\r\nhello\r\n",
            b"5\nhello\r\n",
            b"5\r\nhelloX\r\n",
            b"5\r\nhello\rX",
            b"5;a\0b\r\n",
            b"11111111111111111\r\n",
            b"0\r\nX: y\nZ",
            b"0\r\n\n",
            b"0\r\n\rX",
        ] {
            let mut d = decoder("400 X\r\nTransfer-Encoding: chunked").unwrap();
            let mut out = Vec::new();
            let e = d.decode(bad, &mut out).expect_err(&String::from_utf8_lossy(bad));
            assert_eq!(e.status_hint, 0);
        }
        // The largest 16-digit size is accepted.
        let mut d = decoder("400 X\r\nTransfer-Encoding: chunked").unwrap();
        let (out, n, done) = feed_all(&mut d, b"ffffffffffffffff\r\nab").unwrap();
        assert_eq!((out, n, done), (b"ab".to_vec(), 20, false));
    }
}
