//! Frame headers (RFC 6455 §5.2): parse, encode, opcodes and close-code rules.

/// Frame opcodes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Opcode {
    Continuation = 0x0,
    Text = 0x1,
    Binary = 0x2,
    Close = 0x8,
    Ping = 0x9,
    Pong = 0xA,
}

impl Opcode {
    pub fn from_u8(v: u8) -> Option<Opcode> {
        Some(match v {
            0x0 => Opcode::Continuation,
            0x1 => Opcode::Text,
            0x2 => Opcode::Binary,
            0x8 => Opcode::Close,
            0x9 => Opcode::Ping,
            0xA => Opcode::Pong,
            _ => return None,
        })
    }
    pub fn is_control(self) -> bool {
        (self as u8) & 0x8 != 0
    }
}

/// Largest payload of a control frame (§5.5).
pub const MAX_CONTROL_PAYLOAD: usize = 125;
/// Largest frame header: 2 + 8 (length) + 4 (mask).
pub const MAX_HEADER_LEN: usize = 14;

/// A parsed frame header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FrameHeader {
    pub fin: bool,
    pub rsv1: bool,
    pub rsv2: bool,
    pub rsv3: bool,
    /// The raw opcode nibble (reserved values are reported, not rejected, here).
    pub opcode: u8,
    pub mask: Option<[u8; 4]>,
    pub payload_len: u64,
}

/// A header that no valid sender produces, whatever was negotiated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HeaderError {
    /// 64-bit length with the most significant bit set (§5.2).
    LengthTopBit,
    /// Length not in its minimal encoding (§5.2: "the minimal number of bytes MUST be used").
    NonMinimalLength,
}

/// Length of the header that starts `buf`, once its first two bytes are known.
#[inline]
pub fn header_len(b0_b1: [u8; 2]) -> usize {
    let b1 = b0_b1[1];
    let ext = match b1 & 0x7f {
        126 => 2,
        127 => 8,
        _ => 0,
    };
    2 + ext + if b1 & 0x80 != 0 { 4 } else { 0 }
}

/// Parses a complete header (`buf.len() >= header_len`).
#[inline]
pub fn parse_header(buf: &[u8]) -> Result<FrameHeader, HeaderError> {
    let b0 = buf[0];
    let b1 = buf[1];
    let (payload_len, mut pos) = match b1 & 0x7f {
        126 => {
            let n = u16::from_be_bytes([buf[2], buf[3]]) as u64;
            if n < 126 {
                return Err(HeaderError::NonMinimalLength);
            }
            (n, 4)
        }
        127 => {
            let mut b = [0u8; 8];
            b.copy_from_slice(&buf[2..10]);
            let n = u64::from_be_bytes(b);
            if n >> 63 != 0 {
                return Err(HeaderError::LengthTopBit);
            }
            if n <= 0xffff {
                return Err(HeaderError::NonMinimalLength);
            }
            (n, 10)
        }
        n => (n as u64, 2),
    };
    let mask = if b1 & 0x80 != 0 {
        let k = [buf[pos], buf[pos + 1], buf[pos + 2], buf[pos + 3]];
        pos += 4;
        Some(k)
    } else {
        None
    };
    debug_assert_eq!(pos, header_len([b0, b1]));
    Ok(FrameHeader {
        fin: b0 & 0x80 != 0,
        rsv1: b0 & 0x40 != 0,
        rsv2: b0 & 0x20 != 0,
        rsv3: b0 & 0x10 != 0,
        opcode: b0 & 0x0f,
        mask,
        payload_len,
    })
}

/// Appends a header to `out`, with the minimal length encoding.
#[inline]
pub fn write_header(out: &mut Vec<u8>, fin: bool, rsv1: bool, opcode: Opcode, mask: Option<[u8; 4]>, len: u64) {
    let b0 = (fin as u8) << 7 | (rsv1 as u8) << 6 | opcode as u8;
    let mask_bit = if mask.is_some() { 0x80 } else { 0 };
    // Fixed-size appends compile to plain stores, not a memcpy call.
    if len < 126 {
        out.extend_from_slice(&[b0, mask_bit | len as u8]);
    } else if len <= 0xffff {
        let l = (len as u16).to_be_bytes();
        out.extend_from_slice(&[b0, mask_bit | 126, l[0], l[1]]);
    } else {
        out.extend_from_slice(&[b0, mask_bit | 127]);
        out.extend_from_slice(&len.to_be_bytes());
    }
    if let Some(k) = mask {
        out.extend_from_slice(&k);
    }
}

/// Size of the header of a frame with a `len`-byte payload (minimal length
/// encoding), with or without a masking key.
#[inline]
pub fn header_size(len: u64, masked: bool) -> usize {
    let ext = if len < 126 {
        0
    } else if len <= 0xffff {
        2
    } else {
        8
    };
    2 + ext + if masked { 4 } else { 0 }
}

/// Writes a header at the start of `buf` (which must hold at least
/// `header_size(len, mask.is_some())` bytes) and returns its size.
#[inline]
pub fn put_header(buf: &mut [u8], fin: bool, rsv1: bool, opcode: Opcode, mask: Option<[u8; 4]>, len: u64) -> usize {
    let b0 = (fin as u8) << 7 | (rsv1 as u8) << 6 | opcode as u8;
    let mask_bit = if mask.is_some() { 0x80 } else { 0 };
    let mut pos = if len < 126 {
        buf[..2].copy_from_slice(&[b0, mask_bit | len as u8]);
        2
    } else if len <= 0xffff {
        let l = (len as u16).to_be_bytes();
        buf[..4].copy_from_slice(&[b0, mask_bit | 126, l[0], l[1]]);
        4
    } else {
        buf[..2].copy_from_slice(&[b0, mask_bit | 127]);
        buf[2..10].copy_from_slice(&len.to_be_bytes());
        10
    };
    if let Some(k) = mask {
        buf[pos..pos + 4].copy_from_slice(&k);
        pos += 4;
    }
    pos
}

/// May this code appear in a close frame on the wire (RFC 6455 §7.4, IANA registry)?
/// 1004, 1005, 1006 and 1015 are reserved for local use; 1016..=2999 are
/// unassigned protocol codes; 3000..=4999 belong to applications.
pub fn close_code_valid(code: u16) -> bool {
    matches!(code, 1000..=1003 | 1007..=1014 | 3000..=4999)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn roundtrip(len: u64, mask: Option<[u8; 4]>) {
        let mut out = Vec::new();
        write_header(&mut out, true, false, Opcode::Binary, mask, len);
        assert_eq!(out.len(), header_len([out[0], out[1]]));
        let h = parse_header(&out).unwrap();
        assert_eq!(h.payload_len, len);
        assert_eq!(h.mask, mask);
        assert!(h.fin);
        assert_eq!(h.opcode, 2);
    }

    #[test]
    fn all_length_encodings_roundtrip() {
        for len in [0, 1, 125, 126, 127, 0xffff, 0x10000, 1 << 32, (1 << 63) - 1] {
            roundtrip(len, None);
            roundtrip(len, Some([1, 2, 3, 4]));
        }
    }

    #[test]
    fn put_header_matches_write_header() {
        for len in [0, 1, 125, 126, 0xffff, 0x10000, 1 << 40] {
            for mask in [None, Some([9, 8, 7, 6])] {
                let mut v = Vec::new();
                write_header(&mut v, false, true, Opcode::Text, mask, len);
                let mut b = [0u8; MAX_HEADER_LEN];
                let n = put_header(&mut b, false, true, Opcode::Text, mask, len);
                assert_eq!(&b[..n], &v[..]);
                assert_eq!(n, header_size(len, mask.is_some()));
            }
        }
    }

    #[test]
    fn minimal_encodings_are_used() {
        let mut out = Vec::new();
        write_header(&mut out, true, false, Opcode::Text, None, 125);
        assert_eq!(out, [0x81, 125]);
        out.clear();
        write_header(&mut out, true, false, Opcode::Text, None, 126);
        assert_eq!(out, [0x81, 126, 0, 126]);
        out.clear();
        write_header(&mut out, true, false, Opcode::Text, None, 65536);
        assert_eq!(out, [0x81, 127, 0, 0, 0, 0, 0, 1, 0, 0]);
    }

    #[test]
    fn rejects_top_bit_and_non_minimal_lengths() {
        let top = [0x82, 127, 0x80, 0, 0, 0, 0, 0, 0, 0];
        assert_eq!(parse_header(&top), Err(HeaderError::LengthTopBit));
        let short16 = [0x82, 126, 0, 125];
        assert_eq!(parse_header(&short16), Err(HeaderError::NonMinimalLength));
        let short64 = [0x82, 127, 0, 0, 0, 0, 0, 0, 0xff, 0xff];
        assert_eq!(parse_header(&short64), Err(HeaderError::NonMinimalLength));
    }

    #[test]
    fn rfc_examples_parse() {
        // §5.7: unmasked "Hello", masked "Hello", 256-byte and 64 KiB binary headers.
        let h = parse_header(&[0x81, 0x05]).unwrap();
        assert_eq!((h.fin, h.opcode, h.payload_len, h.mask), (true, 1, 5, None));
        let h = parse_header(&[0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d]).unwrap();
        assert_eq!(h.mask, Some([0x37, 0xfa, 0x21, 0x3d]));
        assert_eq!(parse_header(&[0x82, 0x7e, 0x01, 0x00]).unwrap().payload_len, 256);
        let h = parse_header(&[0x82, 0x7f, 0, 0, 0, 0, 0, 1, 0, 0]).unwrap();
        assert_eq!(h.payload_len, 65536);
        let h = parse_header(&[0x01, 0x03]).unwrap();
        assert!(!h.fin);
    }

    #[test]
    fn reserved_bits_and_opcodes_are_reported() {
        let h = parse_header(&[0xf3, 0x00]).unwrap();
        assert!(h.rsv1 && h.rsv2 && h.rsv3);
        assert_eq!(h.opcode, 3);
        assert_eq!(Opcode::from_u8(3), None);
        assert_eq!(Opcode::from_u8(0xB), None);
        assert!(Opcode::Ping.is_control() && !Opcode::Text.is_control());
    }

    #[test]
    fn close_codes() {
        for c in [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 3999, 4000, 4999] {
            assert!(close_code_valid(c), "{c}");
        }
        for c in [0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535] {
            assert!(!close_code_valid(c), "{c}");
        }
    }
}
