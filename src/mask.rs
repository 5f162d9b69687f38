//! XOR masking (RFC 6455 §5.3), eight bytes at a time: the hot loop of every
//! receive on a server and every send on a client.

use std::mem::MaybeUninit;

/// The key as it lines up with the byte at `offset` of the key cycle,
/// repeated over a 32-byte block: loops over such blocks compile to vector
/// XORs (SSE2 at least, with no CPU-specific build flags).
#[inline]
fn key_block(key: [u8; 4], offset: usize) -> [u8; 32] {
    let rk = u32::from_le_bytes(key).rotate_right(8 * (offset & 3) as u32).to_le_bytes();
    let mut block = [0u8; 32];
    for (i, b) in block.iter_mut().enumerate() {
        *b = rk[i & 3];
    }
    block
}

/// XORs `buf` with `key`, starting at byte `offset` of the 4-byte key cycle.
/// Returns the key offset after `buf`, so a frame can be unmasked piecewise.
#[inline]
pub fn apply_mask(buf: &mut [u8], key: [u8; 4], offset: usize) -> usize {
    let block = key_block(key, offset);
    let mut chunks = buf.chunks_exact_mut(32);
    for chunk in &mut chunks {
        for (b, k) in chunk.iter_mut().zip(block.iter()) {
            *b ^= k;
        }
    }
    for (b, k) in chunks.into_remainder().iter_mut().zip(block.iter()) {
        *b ^= k;
    }
    (offset + buf.len()) & 3
}

/// Appends `src` XOR `key` (from key offset `offset`) to `dst` in one pass,
/// copying and unmasking together; returns the new key offset.
#[inline]
pub fn extend_masked(dst: &mut Vec<u8>, src: &[u8], key: [u8; 4], offset: usize) -> usize {
    let block = key_block(key, offset);
    dst.reserve(src.len());
    let out = &mut dst.spare_capacity_mut()[..src.len()];
    let mut out_chunks = out.chunks_exact_mut(32);
    let mut src_chunks = src.chunks_exact(32);
    for (o, s) in (&mut out_chunks).zip(&mut src_chunks) {
        for i in 0..32 {
            o[i] = MaybeUninit::new(s[i] ^ block[i]);
        }
    }
    let tail = out_chunks.into_remainder().iter_mut().zip(src_chunks.remainder()).zip(block.iter());
    for ((o, s), k) in tail {
        *o = MaybeUninit::new(s ^ k);
    }
    // SAFETY: the two loops above wrote every one of the first `src.len()`
    // spare bytes, and `reserve` made room for them.
    unsafe { dst.set_len(dst.len() + src.len()) };
    (offset + src.len()) & 3
}

/// Appends `src` XOR `key` (from key offset 0) to `dst` in one pass, like
/// [`extend_masked`], and tells whether every byte written is ASCII: the
/// receive fast path learns that text needs no UTF-8 validation from the
/// copy it makes anyway. An all-zero key copies without unmasking.
#[inline]
pub fn extend_masked_ascii(dst: &mut Vec<u8>, src: &[u8], key: [u8; 4]) -> bool {
    dst.reserve(src.len());
    let out = &mut dst.spare_capacity_mut()[..src.len()];
    let ascii = copy_masked_ascii(out, src, key);
    // SAFETY: `copy_masked_ascii` wrote all of the first `src.len()` spare
    // bytes, and `reserve` made room for them.
    unsafe { dst.set_len(dst.len() + src.len()) };
    ascii
}

/// `out = src ^ key` (same lengths, key offset 0); true when all of `out` is
/// ASCII. SSE2 (part of every x86-64) 16 bytes at a time: the small frames
/// this serves are too short for the generic loops to pay off.
#[cfg(target_arch = "x86_64")]
#[inline]
fn copy_masked_ascii(out: &mut [MaybeUninit<u8>], src: &[u8], key: [u8; 4]) -> bool {
    use std::arch::x86_64::*;
    assert_eq!(out.len(), src.len());
    let n = src.len();
    let k = i32::from_ne_bytes(key);
    let mut i = 0;
    let mut high = 0;
    // SAFETY: SSE2 is always available on x86-64. Every 16-byte load and
    // store is in bounds (at offsets below i + 32 <= n, or i + 16 <= n, for
    // both slices, which have the same length); unaligned forms are used.
    unsafe {
        let kv = _mm_set1_epi32(k);
        let mut acc = _mm_setzero_si128();
        let s = src.as_ptr();
        let d = out.as_mut_ptr().cast::<u8>();
        // 32 bytes a step, then 16: short frames take few steps and no
        // set-up (a plain 16-byte loop gets unrolled, with a costly preamble).
        while i + 32 <= n {
            let a = _mm_xor_si128(_mm_loadu_si128(s.add(i).cast()), kv);
            let b = _mm_xor_si128(_mm_loadu_si128(s.add(i + 16).cast()), kv);
            _mm_storeu_si128(d.add(i).cast(), a);
            _mm_storeu_si128(d.add(i + 16).cast(), b);
            acc = _mm_or_si128(acc, _mm_or_si128(a, b));
            i += 32;
        }
        if i + 16 <= n {
            let v = _mm_xor_si128(_mm_loadu_si128(s.add(i).cast()), kv);
            _mm_storeu_si128(d.add(i).cast(), v);
            acc = _mm_or_si128(acc, v);
            i += 16;
        }
        high |= _mm_movemask_epi8(acc);
    }
    // 16-byte steps end on a key boundary: the rest starts at offset 0.
    let mut last = 0u8;
    if i < n {
        for (j, (o, s)) in out[i..].iter_mut().zip(&src[i..]).enumerate() {
            let b = s ^ key[j & 3];
            last |= b;
            *o = MaybeUninit::new(b);
        }
    }
    high == 0 && last < 0x80
}

#[cfg(not(target_arch = "x86_64"))]
#[inline]
fn copy_masked_ascii(out: &mut [MaybeUninit<u8>], src: &[u8], key: [u8; 4]) -> bool {
    copy_masked_ascii_words(out, src, key)
}

/// Portable form of the above, eight bytes at a time (tested on every
/// target, used where there is no SSE2 form).
#[cfg_attr(target_arch = "x86_64", allow(dead_code))]
#[inline]
fn copy_masked_ascii_words(out: &mut [MaybeUninit<u8>], src: &[u8], key: [u8; 4]) -> bool {
    assert_eq!(out.len(), src.len());
    let k = u32::from_ne_bytes(key) as u64;
    let key8 = k | k << 32;
    let mut acc = 0u64;
    let mut out_words = out.chunks_exact_mut(8);
    let mut src_words = src.chunks_exact(8);
    for (o, s) in (&mut out_words).zip(&mut src_words) {
        let w = u64::from_ne_bytes([s[0], s[1], s[2], s[3], s[4], s[5], s[6], s[7]]) ^ key8;
        acc |= w;
        for (d, b) in o.iter_mut().zip(w.to_ne_bytes()) {
            *d = MaybeUninit::new(b);
        }
    }
    let mut last = 0u8;
    for (j, (o, s)) in out_words.into_remainder().iter_mut().zip(src_words.remainder()).enumerate() {
        let b = s ^ key[j & 3];
        last |= b;
        *o = MaybeUninit::new(b);
    }
    acc & 0x8080_8080_8080_8080 == 0 && last < 0x80
}

/// Writes `src` XOR `key` (from key offset 0) into `dst` in one pass
/// (`dst.len() == src.len()`): the zero-copy client send.
#[inline]
pub fn copy_masked(dst: &mut [u8], src: &[u8], key: [u8; 4]) {
    assert_eq!(dst.len(), src.len());
    let block = key_block(key, 0);
    let mut out_chunks = dst.chunks_exact_mut(32);
    let mut src_chunks = src.chunks_exact(32);
    for (o, s) in (&mut out_chunks).zip(&mut src_chunks) {
        for i in 0..32 {
            o[i] = s[i] ^ block[i];
        }
    }
    let tail = out_chunks.into_remainder().iter_mut().zip(src_chunks.remainder()).zip(block.iter());
    for ((o, s), k) in tail {
        *o = s ^ k;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naive(buf: &mut [u8], key: [u8; 4], offset: usize) {
        for (i, b) in buf.iter_mut().enumerate() {
            *b ^= key[(offset + i) % 4];
        }
    }

    #[test]
    fn matches_bytewise_for_every_length_and_offset() {
        let key = [0x37, 0xfa, 0x21, 0x3d];
        for len in 0..70 {
            for off in 0..4 {
                let data: Vec<u8> = (0..len).map(|i| (i * 7 + 3) as u8).collect();
                let mut a = data.clone();
                let mut b = data.clone();
                let end = apply_mask(&mut a, key, off);
                naive(&mut b, key, off);
                assert_eq!(a, b, "len {len} off {off}");
                assert_eq!(end, (off + len) % 4);
            }
        }
    }

    #[test]
    fn piecewise_equals_whole() {
        let key = [1, 2, 3, 4];
        let data: Vec<u8> = (0..1000u32).map(|i| i as u8).collect();
        let mut whole = data.clone();
        apply_mask(&mut whole, key, 0);
        let mut pieces = Vec::new();
        let mut off = 0;
        for part in data.chunks(13) {
            off = extend_masked(&mut pieces, part, key, off);
        }
        assert_eq!(whole, pieces);
    }

    #[test]
    fn copy_masked_matches_bytewise() {
        let key = [0x37, 0xfa, 0x21, 0x3d];
        for len in 0..100 {
            let data: Vec<u8> = (0..len).map(|i| (i * 5 + 1) as u8).collect();
            let mut want = data.clone();
            naive(&mut want, key, 0);
            let mut got = vec![0u8; len];
            copy_masked(&mut got, &data, key);
            assert_eq!(got, want, "len {len}");
        }
    }

    #[test]
    fn extend_masked_ascii_matches_bytewise_and_reports_ascii() {
        for key in [[0x37, 0xfa, 0x21, 0x3d], [0, 0, 0, 0]] {
            for len in 0usize..140 {
                for high in [None, Some(0), Some(len / 2), Some(len.saturating_sub(1))] {
                    let mut plain: Vec<u8> = (0..len).map(|i| b' ' + (i * 7 % 90) as u8).collect();
                    if let Some(h) = high.filter(|_| len > 0) {
                        plain[h] = 0xc3;
                    }
                    let mut wire = plain.clone();
                    naive(&mut wire, key, 0);
                    let mut out = vec![9u8; 3];
                    let ascii = extend_masked_ascii(&mut out, &wire, key);
                    assert_eq!(&out[3..], &plain[..], "len {len} key {key:?}");
                    assert_eq!(&out[..3], &[9, 9, 9]);
                    assert_eq!(ascii, plain.is_ascii(), "len {len} high {high:?}");
                    let mut words = vec![MaybeUninit::new(0u8); len];
                    let ascii = copy_masked_ascii_words(&mut words, &wire, key);
                    // SAFETY: every element was initialised above.
                    let words: Vec<u8> = words.iter().map(|b| unsafe { b.assume_init() }).collect();
                    assert_eq!(words, plain, "words: len {len} key {key:?}");
                    assert_eq!(ascii, plain.is_ascii(), "words: len {len} high {high:?}");
                }
            }
        }
    }

    #[test]
    fn rfc_example_hello() {
        // RFC 6455 §5.7: masked "Hello" with key 37 fa 21 3d.
        let mut p = *b"Hello";
        apply_mask(&mut p, [0x37, 0xfa, 0x21, 0x3d], 0);
        assert_eq!(p, [0x7f, 0x9f, 0x4d, 0x51, 0x58]);
    }
}
