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
    fn rfc_example_hello() {
        // RFC 6455 §5.7: masked "Hello" with key 37 fa 21 3d.
        let mut p = *b"Hello";
        apply_mask(&mut p, [0x37, 0xfa, 0x21, 0x3d], 0);
        assert_eq!(p, [0x7f, 0x9f, 0x4d, 0x51, 0x58]);
    }
}
