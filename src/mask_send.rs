//! Small frames written in one pass: the send side of small messages (chat,
//! game state, RPC), where the per-message work is the cost.
//!
//! A frame with a 7-bit payload length (at most 125 bytes) is written as the
//! header (with the masking key stored in the same 8-byte store for a
//! client), then the payload XOR-masked (or copied, for a server) 16 bytes
//! at a time, with the ASCII check of a text payload fused into the same
//! loads. Only text that is not all ASCII goes through the UTF-8 validator.
//! The bytes are the ones `frame::write_header` + `mask::extend_masked`
//! write; `tests/send_fast.rs` compares the two paths byte for byte.

use std::mem::MaybeUninit;

/// Largest payload written here: one that fits the 7-bit length.
pub const SMALL_MAX: usize = 125;

/// Spare bytes a frame needs beyond its payload here: the 8-byte header store
/// may run past a short header (into bytes the payload then overwrites).
pub const SMALL_SLACK: usize = 8;

/// Writes the frame at the start of `out` and returns (its length, whether
/// the payload is all ASCII). `b0` is the first header byte (FIN, RSV,
/// opcode); `key` masks the payload (client) or is None (server, copied).
///
/// Panics unless `payload.len() <= SMALL_MAX` and `out.len() >=
/// payload.len() + SMALL_SLACK`. Writes only initialised bytes, all within
/// `out[..max(frame length, 8)]`.
#[inline(always)]
fn put(out: &mut [MaybeUninit<u8>], b0: u8, key: Option<[u8; 4]>, payload: &[u8]) -> (usize, bool) {
    let len = payload.len();
    assert!(len <= SMALL_MAX && out.len() >= len + SMALL_SLACK);
    let (head, mask_bit, kw) = match key {
        Some(k) => (6, 0x80u8, u32::from_le_bytes(k)),
        None => (2, 0, 0),
    };
    let p = out.as_mut_ptr().cast::<u8>();
    // The header as one store: b0, the length byte, the key (in wire order,
    // little-endian as loaded); a server's 6 extra bytes are overwritten.
    let h = u64::from(b0) | u64::from(mask_bit | len as u8) << 8 | u64::from(kw) << 16;
    // SAFETY: `out` holds at least SMALL_SLACK = 8 bytes (asserted).
    unsafe { p.cast::<u64>().write_unaligned(h.to_le()) };
    // SAFETY: head + len <= len + SMALL_SLACK <= out.len(), so `d` is
    // writable for `len` bytes.
    let ascii = unsafe { mask_into(p.add(head), payload, kw) };
    (head + len, ascii)
}

/// Writes `payload` XOR-masked with the key `kw` (its bytes in wire order,
/// loaded little-endian; 0 copies) at `d`; returns whether the payload is
/// all ASCII. Sixteen bytes per step with SSE2 (part of x86-64), else words.
///
/// # Safety
/// `d` must be writable for `payload.len()` bytes, not overlapping `payload`.
#[inline(always)]
unsafe fn mask_into(d: *mut u8, payload: &[u8], kw: u32) -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        // SAFETY: forwarded contract.
        unsafe { mask_into_sse2(d, payload, kw) }
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        // SAFETY: forwarded contract.
        unsafe { mask_into_words(d, payload, kw) }
    }
}

/// [`mask_into`] in 16-byte vectors; the last 1 to 15 bytes as the vector
/// that ends the payload (overlapping bytes already written, with the same
/// values, its key phase rotated to its offset). Payloads under 16 bytes go
/// to [`mask_into_words`].
///
/// # Safety
/// As [`mask_into`].
#[cfg(target_arch = "x86_64")]
#[inline(always)]
unsafe fn mask_into_sse2(d: *mut u8, payload: &[u8], kw: u32) -> bool {
    use std::arch::x86_64::{
        __m128i, _mm_loadu_si128, _mm_movemask_epi8, _mm_or_si128, _mm_set1_epi64x, _mm_setzero_si128,
        _mm_storeu_si128, _mm_xor_si128,
    };
    let len = payload.len();
    if len < 16 {
        // SAFETY: forwarded contract.
        return unsafe { mask_into_words(d, payload, kw) };
    }
    let k64 = u64::from(kw) | u64::from(kw) << 32;
    let src = payload.as_ptr();
    // SAFETY: SSE2 is part of x86-64; every load is at i + 16 <= len (or
    // at len - 16) within `payload`, every store likewise within `d`'s `len`
    // writable bytes (the contract).
    unsafe {
        let kv = _mm_set1_epi64x(k64 as i64);
        let mut seen = _mm_setzero_si128();
        let mut i = 0;
        while i + 16 <= len {
            let v = _mm_loadu_si128(src.add(i).cast::<__m128i>());
            seen = _mm_or_si128(seen, v);
            _mm_storeu_si128(d.add(i).cast::<__m128i>(), _mm_xor_si128(v, kv));
            i += 16;
        }
        if i < len {
            let at = len - 16;
            let v = _mm_loadu_si128(src.add(at).cast::<__m128i>());
            seen = _mm_or_si128(seen, v);
            let k = _mm_set1_epi64x(k64.rotate_right(8 * (at as u32 & 3)) as i64);
            _mm_storeu_si128(d.add(at).cast::<__m128i>(), _mm_xor_si128(v, k));
        }
        _mm_movemask_epi8(seen) == 0
    }
}

/// [`mask_into`] a word at a time: 16 bytes per step, then 8, then the
/// last 1 to 7 bytes as the word that ends the payload (or byte by byte
/// when the payload is shorter than 8).
///
/// # Safety
/// As [`mask_into`].
#[inline(always)]
unsafe fn mask_into_words(d: *mut u8, payload: &[u8], kw: u32) -> bool {
    let len = payload.len();
    // The key repeated over a word (the payload starts at key offset 0, and
    // every step below starts at a multiple of 4 bytes, but the last word,
    // whose phase is rotated).
    let k64 = u64::from(kw) | u64::from(kw) << 32;
    let src = payload.as_ptr();
    // SAFETY (every load below): i + width <= len = payload.len().
    let load64 = |i: usize| u64::from_le(unsafe { src.add(i).cast::<u64>().read_unaligned() });
    let mut seen = 0u64;
    let mut i = 0;
    while i + 16 <= len {
        let (a, b) = (load64(i), load64(i + 8));
        seen |= a | b;
        // SAFETY: i + 16 <= len, and `d` is writable for `len` bytes.
        unsafe {
            d.add(i).cast::<u64>().write_unaligned((a ^ k64).to_le());
            d.add(i + 8).cast::<u64>().write_unaligned((b ^ k64).to_le());
        }
        i += 16;
    }
    if i + 8 <= len {
        let w = load64(i);
        seen |= w;
        // SAFETY: i + 8 <= len.
        unsafe { d.add(i).cast::<u64>().write_unaligned((w ^ k64).to_le()) };
        i += 8;
    }
    if i < len {
        if len >= 8 {
            // The last 1 to 7 bytes as the word ending the payload: it
            // overlaps bytes already written, with the same values (the
            // source is the payload), its key phase rotated to its offset.
            let at = len - 8;
            let w = load64(at);
            seen |= w;
            let k = k64.rotate_right(8 * (at as u32 & 3));
            // SAFETY: at + 8 == len.
            unsafe { d.add(at).cast::<u64>().write_unaligned((w ^ k).to_le()) };
        } else {
            seen |= small_tail(d, payload, i, kw);
        }
    }
    seen & 0x8080_8080_8080_8080 == 0
}

/// Masks `payload[i..]` (fewer than 8 bytes in all) into `d[i..]`; returns
/// the bytes OR-ed together (for the ASCII check).
#[inline(always)]
fn small_tail(d: *mut u8, payload: &[u8], i: usize, kw: u32) -> u64 {
    let kb = kw.to_le_bytes();
    let mut seen = 0u64;
    for (j, &b) in payload[i..].iter().enumerate() {
        seen |= u64::from(b);
        // SAFETY: the caller's `d` is writable for payload.len() bytes, and
        // i + j < payload.len().
        unsafe { d.add(i + j).write(b ^ kb[(i + j) & 3]) };
    }
    seen
}

/// Appends a whole small frame to `out` in one pass: `b0` (FIN, RSV,
/// opcode), the length, `key` (client) and the payload masked with it.
/// With `text`, a payload that is not valid UTF-8 appends nothing and
/// returns false (checked after the fused ASCII scan, so valid ASCII costs
/// no second pass).
///
/// Needs `payload.len() <= SMALL_MAX` and room for `payload.len() +
/// SMALL_SLACK` more bytes without reallocating (the caller grows `out` in
/// its accounted way); panics otherwise.
#[inline(always)]
pub fn append_small_frame(out: &mut Vec<u8>, b0: u8, key: Option<[u8; 4]>, payload: &[u8], text: bool) -> bool {
    let (n, ascii) = put(out.spare_capacity_mut(), b0, key, payload);
    if text && !ascii && !crate::utf8::is_valid(payload) {
        return false;
    }
    // SAFETY: `put` initialised the first `n` spare bytes (it returns the
    // frame length it wrote), and they are within the capacity.
    unsafe { out.set_len(out.len() + n) };
    true
}

/// Is `payload` (at most SMALL_MAX bytes) all ASCII? Sixteen bytes per step
/// (one SSE2 vector on x86-64, two words elsewhere), and the rest as the
/// (overlapping) vector or word that ends the payload.
#[inline(always)]
fn is_ascii(payload: &[u8]) -> bool {
    let len = payload.len();
    let src = payload.as_ptr();
    // SAFETY (every load below): i + 8 <= len = payload.len().
    let load64 = |i: usize| unsafe { src.add(i).cast::<u64>().read_unaligned() };
    #[cfg(target_arch = "x86_64")]
    if len >= 16 {
        use std::arch::x86_64::{__m128i, _mm_loadu_si128, _mm_movemask_epi8, _mm_or_si128};
        // SAFETY: SSE2 is part of x86-64; every load is at i + 16 <= len or
        // at len - 16, within `payload`.
        return unsafe {
            let ld = |i: usize| _mm_loadu_si128(src.add(i).cast::<__m128i>());
            let mut seen = ld(len - 16);
            let mut i = 0;
            while i + 16 <= len {
                seen = _mm_or_si128(seen, ld(i));
                i += 16;
            }
            _mm_movemask_epi8(seen) == 0
        };
    }
    let seen = if len >= 8 {
        let mut seen = load64(len - 8);
        let mut i = 0;
        while i + 16 <= len {
            seen |= load64(i) | load64(i + 8);
            i += 16;
        }
        if i + 8 <= len {
            seen |= load64(i);
        }
        seen
    } else {
        payload.iter().fold(0u64, |a, &b| a | u64::from(b))
    };
    seen & 0x8080_8080_8080_8080 == 0
}

/// [`append_small_frame`] into the start of a caller's buffer: returns the
/// frame length, or None when `text` is not valid UTF-8, and then `buf` is
/// left untouched (the zero-copy API promises that), so text is checked
/// before the pass rather than fused into it. Same needs on `payload` and
/// `buf.len()`. Frames shorter than 8 bytes also write `buf` up to byte 8
/// (the caller avoids that when the bytes after the frame are not its own).
#[inline(always)]
pub fn put_small_frame(buf: &mut [u8], b0: u8, key: Option<[u8; 4]>, payload: &[u8], text: bool) -> Option<usize> {
    if text && !is_ascii(payload) && !crate::utf8::is_valid(payload) {
        return None;
    }
    // SAFETY: `[u8]` and `[MaybeUninit<u8>]` have the same layout, and `put`
    // only ever stores initialised bytes, so `buf` stays initialised.
    let out = unsafe { &mut *(buf as *mut [u8] as *mut [MaybeUninit<u8>]) };
    Some(put(out, b0, key, payload).0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frame::{self, Opcode};

    fn reference(fin: bool, opcode: Opcode, key: Option<[u8; 4]>, payload: &[u8]) -> Vec<u8> {
        let mut v = Vec::new();
        frame::write_header(&mut v, fin, false, opcode, key, payload.len() as u64);
        match key {
            Some(k) => {
                crate::mask::extend_masked(&mut v, payload, k, 0);
            }
            None => v.extend_from_slice(payload),
        }
        v
    }

    #[test]
    fn same_bytes_as_the_general_writer_for_every_length() {
        for len in 0..=SMALL_MAX {
            let payload: Vec<u8> = (0..len).map(|i| (i * 37 + 11) as u8).collect();
            for key in [None, Some([0x37, 0xfa, 0x21, 0x3d])] {
                let want = reference(true, Opcode::Binary, key, &payload);
                let mut out = vec![0xeeu8; 3];
                out.reserve(len + SMALL_SLACK);
                assert!(append_small_frame(&mut out, 0x82, key, &payload, false));
                assert_eq!(out[3..], want[..], "len {len} key {key:?}");
                let mut buf = vec![0xeeu8; len + SMALL_SLACK];
                assert_eq!(put_small_frame(&mut buf, 0x82, key, &payload, false), Some(want.len()));
                assert_eq!(buf[..want.len()], want[..]);
            }
        }
    }

    /// The portable word path is also the one used on x86-64 below 16
    /// bytes; here it runs for every length on every target.
    #[test]
    fn word_path_masks_like_the_reference_for_every_length() {
        for len in 0..=SMALL_MAX {
            for (bad, payload) in [
                (false, (0..len).map(|i| b'a' + (i % 26) as u8).collect::<Vec<u8>>()),
                (true, (0..len).map(|i| (i * 37 + 11) as u8 | 0x80).collect()),
            ] {
                let key = [0x37, 0xfa, 0x21, 0x3d];
                let want = reference(true, Opcode::Binary, Some(key), &payload);
                let mut d = vec![0u8; len];
                // SAFETY: `d` is writable for `len` bytes and does not overlap.
                let ascii = unsafe { mask_into_words(d.as_mut_ptr(), &payload, u32::from_le_bytes(key)) };
                assert_eq!(d[..], want[want.len() - len..], "len {len}");
                assert_eq!(ascii, !bad || len == 0, "len {len}");
            }
        }
    }

    #[test]
    fn text_is_checked_wherever_the_non_ascii_byte_is() {
        for len in 1..=SMALL_MAX {
            for at in [0, len / 2, len - 1] {
                // Valid: a 2-byte sequence; invalid: a lone continuation byte.
                let mut ok: Vec<u8> = vec![b'a'; len];
                let mut bad = ok.clone();
                bad[at] = 0x80;
                if at + 1 < len {
                    ok[at] = 0xc3;
                    ok[at + 1] = 0xa9;
                }
                let mut out = Vec::with_capacity(len + SMALL_SLACK);
                assert!(append_small_frame(&mut out, 0x81, Some([1, 2, 3, 4]), &ok, true), "len {len} at {at}");
                assert_eq!(out, reference(true, Opcode::Text, Some([1, 2, 3, 4]), &ok));
                let mut out = Vec::with_capacity(len + SMALL_SLACK);
                assert!(!append_small_frame(&mut out, 0x81, Some([1, 2, 3, 4]), &bad, true));
                assert!(out.is_empty());
                let mut buf = vec![0x5au8; len + SMALL_SLACK];
                assert_eq!(put_small_frame(&mut buf, 0x81, None, &bad, true), None);
                assert!(buf.iter().all(|&b| b == 0x5a), "nothing written");
            }
        }
    }
}
