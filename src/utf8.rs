//! Incremental, fail-fast UTF-8 validation across fragment (and inflate)
//! boundaries, built on simdutf8's SIMD validator.

/// simdutf8 for long input; the standard library's validator (which has
/// an ASCII fast path and no set-up cost) for short pieces. Both report
/// errors the same way: `valid_up_to`, and `error_len` None for an
/// incomplete sequence at the end.
#[inline]
fn check(data: &[u8]) -> Result<(), (usize, bool)> {
    if data.len() < 64 {
        if is_ascii_short(data) {
            return Ok(());
        }
        std::str::from_utf8(data).map(|_| ()).map_err(|e| (e.valid_up_to(), e.error_len().is_none()))
    } else {
        simdutf8::compat::from_utf8(data).map(|_| ()).map_err(|e| (e.valid_up_to(), e.error_len().is_none()))
    }
}

/// True when `data` is complete, valid UTF-8.
#[inline]
pub fn is_valid(data: &[u8]) -> bool {
    if data.len() < 64 {
        is_ascii_short(data) || std::str::from_utf8(data).is_ok()
    } else {
        simdutf8::basic::from_utf8(data).is_ok()
    }
}

/// ASCII check for short input, a word at a time: cheaper than either
/// validator's set-up for the small messages that dominate chat traffic.
#[inline]
fn is_ascii_short(data: &[u8]) -> bool {
    let mut chunks = data.chunks_exact(8);
    let mut acc = 0u64;
    for c in &mut chunks {
        acc |= u64::from_ne_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]);
    }
    let tail = chunks.remainder().iter().fold(0u8, |a, &b| a | b);
    acc & 0x8080_8080_8080_8080 == 0 && tail < 0x80
}

/// Validates a byte stream fed in pieces. Holds at most 3 bytes of an
/// unfinished code point between pieces.
#[derive(Clone, Copy, Debug, Default)]
pub struct Utf8Validator {
    partial: [u8; 4],
    partial_len: u8,
}

/// The bytes are not UTF-8 (or cannot become UTF-8 with more input).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InvalidUtf8;

impl Utf8Validator {
    pub fn new() -> Self {
        Self::default()
    }

    /// Bytes of an unfinished code point held back at the end of what was fed.
    pub fn pending(&self) -> usize {
        self.partial_len as usize
    }

    /// Validates the next piece. Fails as soon as a byte makes the stream
    /// invalid, even when the code point is not finished yet.
    pub fn feed(&mut self, mut data: &[u8]) -> Result<(), InvalidUtf8> {
        if self.partial_len > 0 {
            // Complete the held code point with as few bytes as it needs.
            let have = self.partial_len as usize;
            let need = sequence_len(self.partial[0]).ok_or(InvalidUtf8)?;
            let take = (need - have).min(data.len());
            self.partial[have..have + take].copy_from_slice(&data[..take]);
            let len = have + take;
            data = &data[take..];
            match check(&self.partial[..len]) {
                Ok(()) => self.partial_len = 0,
                Err((_, true)) => {
                    self.partial_len = len as u8;
                    return Ok(());
                }
                Err(_) => return Err(InvalidUtf8),
            }
        }
        // Validate all complete code points with the fast validator (which
        // reports no positions), and the unfinished one at the end, if any,
        // on its own: it may already be impossible (fail fast) or wait for
        // the next piece.
        let (body, tail) = data.split_at(unfinished_tail_start(data));
        if !is_valid(body) {
            return Err(InvalidUtf8);
        }
        match check(tail) {
            Ok(()) => Ok(()),
            Err((0, true)) => {
                self.partial[..tail.len()].copy_from_slice(tail);
                self.partial_len = tail.len() as u8;
                Ok(())
            }
            Err(_) => Err(InvalidUtf8),
        }
    }

    /// The stream ended: valid only when no code point is left unfinished.
    pub fn finish(&mut self) -> Result<(), InvalidUtf8> {
        let ok = self.partial_len == 0;
        *self = Self::default();
        if ok {
            Ok(())
        } else {
            Err(InvalidUtf8)
        }
    }
}

/// Where a code point that `data` does not finish starts (at most 3 bytes
/// before the end), or `data.len()` when the last one is complete (or the
/// bytes are invalid anyway, which the validator then reports).
fn unfinished_tail_start(data: &[u8]) -> usize {
    let n = data.len();
    for back in 1..=n.min(3) {
        let b = data[n - back];
        if b & 0xc0 != 0x80 {
            let need = sequence_len(b).unwrap_or(1);
            return if need > back { n - back } else { n };
        }
    }
    n
}

/// Length of the sequence a lead byte starts, or None for a byte that cannot lead.
fn sequence_len(lead: u8) -> Option<usize> {
    match lead {
        0x00..=0x7f => Some(1),
        0xc2..=0xdf => Some(2),
        0xe0..=0xef => Some(3),
        0xf0..=0xf4 => Some(4),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split_everywhere(bytes: &[u8]) -> Vec<Result<(), InvalidUtf8>> {
        (0..=bytes.len())
            .map(|cut| {
                let mut v = Utf8Validator::new();
                v.feed(&bytes[..cut])?;
                v.feed(&bytes[cut..])?;
                v.finish()
            })
            .collect()
    }

    #[test]
    fn valid_text_split_at_every_byte() {
        let s = "aé€😀 κόσμε";
        for r in split_everywhere(s.as_bytes()) {
            assert_eq!(r, Ok(()));
        }
    }

    #[test]
    fn byte_by_byte_matches_std() {
        let cases: &[&[u8]] = &[
            b"hello",
            "κόσμε".as_bytes(),
            b"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80edited",
            b"\xf4\x90\x80\x80",
            b"\xc0\xaf",
            b"\xed\x9f\xbf",
            b"\xf0\x9f\x98",
            b"\x80",
            b"\xef\xbf\xbf",
        ];
        for c in cases {
            let mut v = Utf8Validator::new();
            let mut r = Ok(());
            for b in c.iter() {
                r = v.feed(std::slice::from_ref(b));
                if r.is_err() {
                    break;
                }
            }
            let r = r.and_then(|_| v.finish());
            assert_eq!(r.is_ok(), std::str::from_utf8(c).is_ok(), "{c:x?}");
        }
    }

    #[test]
    fn random_streams_in_random_pieces_agree_with_std() {
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let samples = ["a", "é", "€", "😀", "\u{7ff}", "\u{800}", "\u{ffff}", "\u{10000}", "\u{10ffff}"];
        for _ in 0..3000 {
            let mut bytes = Vec::new();
            for _ in 0..(next() % 40) {
                bytes.extend_from_slice(samples[(next() % samples.len() as u64) as usize].as_bytes());
            }
            if next() % 2 == 0 && !bytes.is_empty() {
                let i = (next() % bytes.len() as u64) as usize;
                bytes[i] = next() as u8;
            }
            let mut v = Utf8Validator::new();
            let mut rest = &bytes[..];
            let mut ok = true;
            while !rest.is_empty() && ok {
                let n = 1 + (next() % 70) as usize;
                let (piece, tail) = rest.split_at(n.min(rest.len()));
                ok = v.feed(piece).is_ok();
                rest = tail;
            }
            let ok = ok && v.finish().is_ok();
            assert_eq!(ok, std::str::from_utf8(&bytes).is_ok(), "{bytes:x?}");
        }
    }

    #[test]
    fn fails_fast_on_impossible_prefix() {
        // F4 90 can never start a valid code point (> U+10FFFF): fail before the end.
        let mut v = Utf8Validator::new();
        assert_eq!(v.feed(b"\xf4"), Ok(()));
        assert_eq!(v.feed(b"\x90"), Err(InvalidUtf8));
        // A surrogate lead ED A0 fails at the second byte too.
        let mut v = Utf8Validator::new();
        assert_eq!(v.feed(b"ab\xed\xa0"), Err(InvalidUtf8));
    }

    #[test]
    fn unfinished_code_point_fails_at_finish() {
        let mut v = Utf8Validator::new();
        assert_eq!(v.feed(b"a\xe2\x82"), Ok(()));
        assert_eq!(v.pending(), 2);
        assert_eq!(v.finish(), Err(InvalidUtf8));
    }
}
