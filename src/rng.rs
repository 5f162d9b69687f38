//! Randomness for masking keys and Sec-WebSocket-Key nonces.
//!
//! By default each connection runs its own ChaCha keystream (12 rounds, the
//! configuration of Rust's `rand::rngs::StdRng`; the block function is
//! checked with 20 rounds against RFC 8439's vectors), keyed from the
//! OS RNG (getrandom) on first use and re-keyed from it periodically, with
//! fast key erasure (each refill replaces the key with fresh output). A
//! getrandom call per frame, or even per 4 KiB, costs a client more than the
//! rest of sending a small message (kernel ChaCha was 20% of send-small).
//! A caller-supplied function, when configured, is used as is.
//!
//! A refill makes 4 KiB (64 blocks) at once, eight blocks per step: in
//! explicit AVX2 code on x86-64 CPUs that have it (detected at run time),
//! else in eight portable lanes the compiler vectorizes for the target's
//! baseline (and under Miri).
//! A key is then one bounds check and one 4-byte load from the pool.

use crate::config::RngFn;
use crate::error::{Error, ErrorKind, Result};

/// Keystream bytes produced per refill: 64 ChaCha blocks.
const POOL: usize = 4096;
/// Refills between two re-keyings from the OS (every 4 MiB of output).
const REKEY_EVERY: u32 = 1024;

pub struct Rng {
    source: Option<RngFn>,
    key: Option<[u32; 8]>,
    refills: u32,
    /// Allocated on first use: servers never draw masking keys.
    pool: Vec<u8>,
    used: usize,
}

impl Rng {
    pub fn new(source: Option<RngFn>) -> Rng {
        Rng { source, key: None, refills: 0, pool: Vec::new(), used: POOL }
    }

    /// Fills `buf` with random bytes from the pool, refilling it as needed.
    pub fn fill(&mut self, buf: &mut [u8]) -> Result<()> {
        let mut done = 0;
        while done < buf.len() {
            if self.used == POOL {
                self.refill()?;
            }
            let n = (buf.len() - done).min(POOL - self.used);
            // Each random byte is handed out once: `used` only moves forward.
            buf[done..done + n].copy_from_slice(&self.pool[self.used..self.used + n]);
            self.used += n;
            done += n;
        }
        Ok(())
    }

    /// A masking key straight from the pool, or None when it needs a refill
    /// (then call `mask_key`).
    #[inline(always)]
    pub fn pooled_key(&mut self) -> Option<[u8; 4]> {
        let k = self.peek_key()?;
        self.take_key();
        Some(k)
    }

    /// The next pooled masking key without taking it (None when the pool
    /// needs a refill): a send that may still fail takes it with
    /// [`take_key`](Self::take_key) only once it commits.
    #[inline(always)]
    pub fn peek_key(&self) -> Option<[u8; 4]> {
        // One bounds check and one 4-byte load (indexing byte by byte
        // compiled to four loads and a reassembly).
        Some(*self.pool.get(self.used..)?.first_chunk::<4>()?)
    }

    /// Takes the key [`peek_key`](Self::peek_key) returned.
    #[inline(always)]
    pub fn take_key(&mut self) {
        self.used += 4;
    }

    /// A masking key: from the pool, refilling it first when it is empty.
    #[inline]
    pub fn mask_key(&mut self) -> Result<[u8; 4]> {
        match self.pooled_key() {
            Some(k) => Ok(k),
            None => self.mask_key_refill(),
        }
    }

    #[cold]
    fn mask_key_refill(&mut self) -> Result<[u8; 4]> {
        let mut k = [0u8; 4];
        self.fill(&mut k)?;
        Ok(k)
    }

    #[cold]
    fn refill(&mut self) -> Result<()> {
        if self.pool.len() < POOL {
            // Out of memory is an error like any other, not an abort.
            self.pool.try_reserve_exact(POOL).map_err(|_| Error::no_memory("the masking-key pool"))?;
            self.pool.resize(POOL, 0);
        }
        let failed = || Error::new(ErrorKind::Rng, "the random number source failed");
        if let Some(f) = self.source.as_mut() {
            if !f(&mut self.pool[..]) {
                return Err(failed());
            }
            self.used = 0;
            return Ok(());
        }
        let key = match self.key {
            Some(k) if self.refills < REKEY_EVERY => k,
            _ => {
                let mut seed = [0u8; 32];
                if !os_random(&mut seed) {
                    return Err(failed());
                }
                self.refills = 0;
                words(&seed)
            }
        };
        chacha_blocks(&key, 0, DOUBLE_ROUNDS, &mut self.pool);
        // Fast key erasure: the first 32 bytes become the next key and are
        // never handed out, so earlier output cannot be recomputed.
        self.key = Some(words(&self.pool[..32]));
        self.refills += 1;
        self.used = 32;
        Ok(())
    }
}

fn words(bytes: &[u8]) -> [u32; 8] {
    let mut w = [0u32; 8];
    for (i, c) in bytes.chunks_exact(4).take(8).enumerate() {
        w[i] = u32::from_le_bytes([c[0], c[1], c[2], c[3]]);
    }
    w
}

/// Double rounds of the keystream: ChaCha12.
const DOUBLE_ROUNDS: usize = 6;

/// Blocks the portable generator computes together, one per vector lane:
/// each of the 16 state words is an array over 8 blocks, so every step of a
/// round is one operation on 8 lanes, which the compiler vectorizes for the
/// baseline of the target (SSE2 on x86-64, NEON on aarch64).
const LANES: usize = 8;

type Lanes = [u32; LANES];

/// Writes the keystream blocks `counter..` of `key` (`double_rounds` double
/// rounds; 6 for ChaCha12) into `out` (a multiple of `64 * LANES` bytes):
/// the same bytes as `chacha_block` for each counter in turn.
///
/// x86-64 CPUs with AVX2 (detected at run time; the build stays portable)
/// take `avx2::chacha_blocks_avx2`; the others, and Miri, the portable lanes.
fn chacha_blocks(key: &[u32; 8], counter: u64, double_rounds: usize, out: &mut [u8]) {
    assert_eq!(out.len() % (64 * LANES), 0);
    #[cfg(all(target_arch = "x86_64", not(miri)))]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU supports AVX2, checked just above, which is all
        // `chacha_blocks_avx2` requires.
        return unsafe { avx2::chacha_blocks_avx2(key, counter, double_rounds, out) };
    }
    chacha_blocks_portable(key, counter, double_rounds, out)
}

/// The portable generator: [`chacha_blocks_lanes`] over each `64 * LANES`
/// bytes of `out`.
fn chacha_blocks_portable(key: &[u32; 8], counter: u64, double_rounds: usize, out: &mut [u8]) {
    for (i, chunk) in out.chunks_exact_mut(64 * LANES).enumerate() {
        let chunk: &mut [u8; 64 * LANES] = chunk.try_into().expect("chunks_exact");
        chacha_blocks_lanes(key, counter.wrapping_add((i * LANES) as u64), double_rounds, chunk);
    }
}

#[cfg(all(target_arch = "x86_64", not(miri)))]
mod avx2 {
    //! ChaCha on AVX2, eight blocks at a time with each of the 16 state
    //! words in one 256-bit vector (one lane per block), as the portable
    //! lanes code lays it out: the four quarter rounds of each half round
    //! are independent, so the rounds run at the CPU's vector throughput,
    //! not at the latency of one quarter round's dependency chain (a
    //! row-wise layout, two blocks per vector, measured 22% slower here).
    //! The finished words are transposed back to block order with unpacks
    //! and 128-bit permutes, and stored unaligned.

    use std::arch::x86_64::*;

    #[inline(always)]
    unsafe fn rot16(x: __m256i) -> __m256i {
        let m = _mm256_set_epi8(
            13, 12, 15, 14, 9, 8, 11, 10, 5, 4, 7, 6, 1, 0, 3, 2, 13, 12, 15, 14, 9, 8, 11, 10, 5, 4, 7, 6, 1, 0, 3, 2,
        );
        _mm256_shuffle_epi8(x, m)
    }

    #[inline(always)]
    unsafe fn rot8(x: __m256i) -> __m256i {
        let m = _mm256_set_epi8(
            14, 13, 12, 15, 10, 9, 8, 11, 6, 5, 4, 7, 2, 1, 0, 3, 14, 13, 12, 15, 10, 9, 8, 11, 6, 5, 4, 7, 2, 1, 0, 3,
        );
        _mm256_shuffle_epi8(x, m)
    }

    #[inline(always)]
    unsafe fn rot12(x: __m256i) -> __m256i {
        _mm256_or_si256(_mm256_slli_epi32(x, 12), _mm256_srli_epi32(x, 20))
    }

    #[inline(always)]
    unsafe fn rot7(x: __m256i) -> __m256i {
        _mm256_or_si256(_mm256_slli_epi32(x, 7), _mm256_srli_epi32(x, 25))
    }

    /// Quarter round on four state words held across 8 blocks (lanes).
    #[inline(always)]
    unsafe fn qr8(x: &mut [__m256i; 16], a: usize, b: usize, c: usize, d: usize) {
        x[a] = _mm256_add_epi32(x[a], x[b]);
        x[d] = rot16(_mm256_xor_si256(x[d], x[a]));
        x[c] = _mm256_add_epi32(x[c], x[d]);
        x[b] = rot12(_mm256_xor_si256(x[b], x[c]));
        x[a] = _mm256_add_epi32(x[a], x[b]);
        x[d] = rot8(_mm256_xor_si256(x[d], x[a]));
        x[c] = _mm256_add_epi32(x[c], x[d]);
        x[b] = rot7(_mm256_xor_si256(x[b], x[c]));
    }

    /// Writes words `w[0..8]` (each across 8 blocks) as 32 bytes at
    /// `out[64 * l + at..]` for each block `l`: an 8x8 transpose.
    #[inline(always)]
    unsafe fn store8(out: &mut [u8; 512], at: usize, w: &[__m256i]) {
        let t0 = _mm256_unpacklo_epi32(w[0], w[1]);
        let t1 = _mm256_unpackhi_epi32(w[0], w[1]);
        let t2 = _mm256_unpacklo_epi32(w[2], w[3]);
        let t3 = _mm256_unpackhi_epi32(w[2], w[3]);
        let t4 = _mm256_unpacklo_epi32(w[4], w[5]);
        let t5 = _mm256_unpackhi_epi32(w[4], w[5]);
        let t6 = _mm256_unpacklo_epi32(w[6], w[7]);
        let t7 = _mm256_unpackhi_epi32(w[6], w[7]);
        // u[i]: words 0-3 (or 4-7) of blocks i and i + 4.
        let u = [
            _mm256_unpacklo_epi64(t0, t2),
            _mm256_unpackhi_epi64(t0, t2),
            _mm256_unpacklo_epi64(t1, t3),
            _mm256_unpackhi_epi64(t1, t3),
        ];
        let v = [
            _mm256_unpacklo_epi64(t4, t6),
            _mm256_unpackhi_epi64(t4, t6),
            _mm256_unpacklo_epi64(t5, t7),
            _mm256_unpackhi_epi64(t5, t7),
        ];
        let p = out.as_mut_ptr();
        for i in 0..4 {
            // SAFETY: 64 * (i + 4) + at + 32 <= 512 for at <= 32: inside `out`.
            _mm256_storeu_si256(p.add(64 * i + at).cast(), _mm256_permute2x128_si256(u[i], v[i], 0x20));
            _mm256_storeu_si256(p.add(64 * (i + 4) + at).cast(), _mm256_permute2x128_si256(u[i], v[i], 0x31));
        }
    }

    /// `super::chacha_blocks` on AVX2, eight blocks per step with each state
    /// word across the 8 blocks: the four quarter rounds of a half round
    /// are independent, so the rounds run at the CPU's vector throughput
    /// rather than at the latency of one quarter round's chain.
    ///
    /// # Safety
    /// The CPU must support AVX2.
    #[target_feature(enable = "avx2")]
    pub(super) unsafe fn chacha_blocks_avx2(key: &[u32; 8], counter: u64, double_rounds: usize, out: &mut [u8]) {
        let constants = [0x6170_7865u32, 0x3320_646e, 0x7962_2d32, 0x6b20_6574];
        let mut init = [_mm256_setzero_si256(); 16];
        for (w, c) in constants.iter().enumerate() {
            init[w] = _mm256_set1_epi32(*c as i32);
        }
        for (w, k) in key.iter().enumerate() {
            init[4 + w] = _mm256_set1_epi32(*k as i32);
        }
        let mut ctr = counter;
        for chunk in out.chunks_exact_mut(512) {
            let mut lo = [0u32; 8];
            let mut hi = [0u32; 8];
            for l in 0..8 {
                let c = ctr.wrapping_add(l as u64);
                (lo[l], hi[l]) = (c as u32, (c >> 32) as u32);
            }
            ctr = ctr.wrapping_add(8);
            init[12] = _mm256_loadu_si256(lo.as_ptr().cast());
            init[13] = _mm256_loadu_si256(hi.as_ptr().cast());
            let mut x = init;
            for _ in 0..double_rounds {
                qr8(&mut x, 0, 4, 8, 12);
                qr8(&mut x, 1, 5, 9, 13);
                qr8(&mut x, 2, 6, 10, 14);
                qr8(&mut x, 3, 7, 11, 15);
                qr8(&mut x, 0, 5, 10, 15);
                qr8(&mut x, 1, 6, 11, 12);
                qr8(&mut x, 2, 7, 8, 13);
                qr8(&mut x, 3, 4, 9, 14);
            }
            for (v, i) in x.iter_mut().zip(init.iter()) {
                *v = _mm256_add_epi32(*v, *i);
            }
            let chunk: &mut [u8; 512] = chunk.try_into().expect("512-byte chunk");
            store8(chunk, 0, &x[..8]);
            store8(chunk, 32, &x[8..]);
        }
    }
}

#[inline(always)]
fn lanes_add(a: &mut Lanes, b: &Lanes) {
    for i in 0..LANES {
        a[i] = a[i].wrapping_add(b[i]);
    }
}

#[inline(always)]
fn lanes_xor_rotl(d: &mut Lanes, a: &Lanes, n: u32) {
    for i in 0..LANES {
        d[i] = (d[i] ^ a[i]).rotate_left(n);
    }
}

#[inline(always)]
fn lanes_quarter(x: &mut [Lanes; 16], a: usize, b: usize, c: usize, d: usize) {
    let (mut va, mut vb, mut vc, mut vd) = (x[a], x[b], x[c], x[d]);
    lanes_add(&mut va, &vb);
    lanes_xor_rotl(&mut vd, &va, 16);
    lanes_add(&mut vc, &vd);
    lanes_xor_rotl(&mut vb, &vc, 12);
    lanes_add(&mut va, &vb);
    lanes_xor_rotl(&mut vd, &va, 8);
    lanes_add(&mut vc, &vd);
    lanes_xor_rotl(&mut vb, &vc, 7);
    (x[a], x[b], x[c], x[d]) = (va, vb, vc, vd);
}

#[inline(always)]
fn chacha_blocks_lanes(key: &[u32; 8], counter: u64, double_rounds: usize, out: &mut [u8; 64 * LANES]) {
    let constants = [0x6170_7865, 0x3320_646e, 0x7962_2d32, 0x6b20_6574];
    let mut init = [[0u32; LANES]; 16];
    for (w, c) in constants.iter().enumerate() {
        init[w] = [*c; LANES];
    }
    for (w, k) in key.iter().enumerate() {
        init[4 + w] = [*k; LANES];
    }
    let [.., low, high, _, _] = &mut init;
    for (l, (lo, hi)) in low.iter_mut().zip(high.iter_mut()).enumerate() {
        let ctr = counter.wrapping_add(l as u64);
        (*lo, *hi) = (ctr as u32, (ctr >> 32) as u32);
    }
    let mut x = init;
    for _ in 0..double_rounds {
        lanes_quarter(&mut x, 0, 4, 8, 12);
        lanes_quarter(&mut x, 1, 5, 9, 13);
        lanes_quarter(&mut x, 2, 6, 10, 14);
        lanes_quarter(&mut x, 3, 7, 11, 15);
        lanes_quarter(&mut x, 0, 5, 10, 15);
        lanes_quarter(&mut x, 1, 6, 11, 12);
        lanes_quarter(&mut x, 2, 7, 8, 13);
        lanes_quarter(&mut x, 3, 4, 9, 14);
    }
    for (v, i) in x.iter_mut().zip(init.iter()) {
        lanes_add(v, i);
    }
    for (l, block) in out.chunks_exact_mut(64).enumerate() {
        for (w, word) in block.chunks_exact_mut(4).enumerate() {
            word.copy_from_slice(&x[w][l].to_le_bytes());
        }
    }
}

#[cfg(test)]
type Row = [u32; 4];

#[cfg(test)]
#[inline(always)]
fn add(a: Row, b: Row) -> Row {
    [a[0].wrapping_add(b[0]), a[1].wrapping_add(b[1]), a[2].wrapping_add(b[2]), a[3].wrapping_add(b[3])]
}

#[cfg(test)]
#[inline(always)]
fn xor_rotl(a: Row, b: Row, n: u32) -> Row {
    [
        (a[0] ^ b[0]).rotate_left(n),
        (a[1] ^ b[1]).rotate_left(n),
        (a[2] ^ b[2]).rotate_left(n),
        (a[3] ^ b[3]).rotate_left(n),
    ]
}

#[cfg(test)]
/// The four quarter rounds of a column (or, with rows rotated, diagonal)
/// round at once: written on whole rows so it compiles to vector code.
#[inline(always)]
fn quarter_rounds(a: &mut Row, b: &mut Row, c: &mut Row, d: &mut Row) {
    *a = add(*a, *b);
    *d = xor_rotl(*d, *a, 16);
    *c = add(*c, *d);
    *b = xor_rotl(*b, *c, 12);
    *a = add(*a, *b);
    *d = xor_rotl(*d, *a, 8);
    *c = add(*c, *d);
    *b = xor_rotl(*b, *c, 7);
}

#[cfg(test)]
#[inline(always)]
fn rotate_lanes(r: Row, n: usize) -> Row {
    [r[n % 4], r[(n + 1) % 4], r[(n + 2) % 4], r[(n + 3) % 4]]
}

#[cfg(test)]
/// Reference for the batched generator: one ChaCha block, written on rows
/// as RFC 8439 §2.3 describes it (a 64-bit block counter and a zero
/// nonce) after `double_rounds` double rounds (10 for ChaCha20).
fn chacha_block(key: &[u32; 8], counter: u64, double_rounds: usize) -> [u8; 64] {
    let init = [
        [0x6170_7865, 0x3320_646e, 0x7962_2d32, 0x6b20_6574],
        [key[0], key[1], key[2], key[3]],
        [key[4], key[5], key[6], key[7]],
        [counter as u32, (counter >> 32) as u32, 0, 0],
    ];
    let [mut a, mut b, mut c, mut d] = init;
    for _ in 0..double_rounds {
        quarter_rounds(&mut a, &mut b, &mut c, &mut d);
        // Diagonal round: line the diagonals up as columns, and back.
        b = rotate_lanes(b, 1);
        c = rotate_lanes(c, 2);
        d = rotate_lanes(d, 3);
        quarter_rounds(&mut a, &mut b, &mut c, &mut d);
        b = rotate_lanes(b, 3);
        c = rotate_lanes(c, 2);
        d = rotate_lanes(d, 1);
    }
    let mut out = [0u8; 64];
    for (r, (row, start)) in [a, b, c, d].iter().zip(init.iter()).enumerate() {
        for i in 0..4 {
            out[16 * r + 4 * i..16 * r + 4 * i + 4].copy_from_slice(&row[i].wrapping_add(start[i]).to_le_bytes());
        }
    }
    out
}

/// Fills `buf` from the operating system's random source (getrandom(2) on
/// Linux, getentropy on macOS, ProcessPrng on Windows, ...), through the
/// `getrandom` crate, which retries on EINTR.
fn os_random(buf: &mut [u8]) -> bool {
    getrandom::fill(buf).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chacha20_matches_rfc8439_test_vector() {
        // RFC 8439 §A.1 test vector #1: all-zero key, nonce and counter.
        let expected = [
            0x76, 0xb8, 0xe0, 0xad, 0xa0, 0xf1, 0x3d, 0x90, 0x40, 0x5d, 0x6a, 0xe5, 0x53, 0x86, 0xbd, 0x28, 0xbd, 0xd2,
            0x19, 0xb8, 0xa0, 0x8d, 0xed, 0x1a, 0xa8, 0x36, 0xef, 0xcc, 0x8b, 0x77, 0x0d, 0xc7, 0xda, 0x41, 0x59, 0x7c,
            0x51, 0x57, 0x48, 0x8d, 0x77, 0x24, 0xe0, 0x3f, 0xb8, 0xd8, 0x4a, 0x37, 0x6a, 0x43, 0xb8, 0xf4, 0x15, 0x18,
            0xa1, 0x1c, 0xc3, 0x87, 0xb6, 0x69, 0xb2, 0xee, 0x65, 0x86,
        ];
        assert_eq!(chacha_block(&[0; 8], 0, 10), expected);
        // Every generator the pool may use, with 20 rounds.
        for (name, blocks) in generators() {
            let mut batch = [0u8; 64 * LANES];
            blocks(&[0; 8], 0, 10, &mut batch);
            assert_eq!(batch[..64], expected, "{name}");
            assert_eq!(batch[64..72], [0x9f, 0x07, 0xe7, 0xbe, 0x55, 0x51, 0x38, 0x7a], "{name}");
        }
        // RFC 8439 §A.2 test vector #2 starts with block counter 1 of the
        // same key; its keystream begins 9f 07 e7 be 55 51 38 7a.
        assert_eq!(chacha_block(&[0; 8], 1, 10)[..8], [0x9f, 0x07, 0xe7, 0xbe, 0x55, 0x51, 0x38, 0x7a]);
    }

    type Generator = fn(&[u32; 8], u64, usize, &mut [u8]);

    /// The generators this CPU can run: the portable one always, the
    /// dispatcher, and the AVX2 one where the CPU has it.
    fn generators() -> Vec<(&'static str, Generator)> {
        let mut g: Vec<(&'static str, Generator)> =
            vec![("portable", chacha_blocks_portable), ("dispatched", chacha_blocks)];
        #[cfg(all(target_arch = "x86_64", not(miri)))]
        if std::arch::is_x86_feature_detected!("avx2") {
            fn avx2(key: &[u32; 8], counter: u64, double_rounds: usize, out: &mut [u8]) {
                // SAFETY: only listed when the CPU has AVX2.
                unsafe { avx2::chacha_blocks_avx2(key, counter, double_rounds, out) }
            }
            g.push(("avx2", avx2));
        }
        g
    }

    #[test]
    fn batched_blocks_equal_single_blocks() {
        let key = [0x0302_0100, 0x0706_0504, 0x0b0a_0908, 0x0f0e_0d0c, 1, 2, 3, 0xffff_ffff];
        // Counters whose low word carries into the high one inside a batch.
        for counter in [0u64, 8, 0xffff_fffc, 0xffff_fffe, u64::MAX - 3] {
            for rounds in [DOUBLE_ROUNDS, 10] {
                for (name, blocks) in generators() {
                    let mut out = vec![0u8; 4 * 64 * LANES];
                    blocks(&key, counter, rounds, &mut out);
                    for (l, block) in out.chunks_exact(64).enumerate() {
                        let one = chacha_block(&key, counter.wrapping_add(l as u64), rounds);
                        assert_eq!(block, one, "{name}: counter {counter} block {l} rounds {rounds}");
                    }
                }
            }
        }
    }

    #[test]
    fn pool_refills_continue_the_keystream_with_fast_key_erasure() {
        // Two refills from a known key: the second is keyed by the first
        // 32 bytes of the first, which are never handed out.
        let mut r = Rng::new(None);
        r.key = Some([5, 6, 7, 8, 9, 10, 11, 12]);
        let mut got = vec![0u8; 2 * (POOL - 32)];
        r.fill(&mut got).unwrap();
        let mut first = vec![0u8; POOL];
        chacha_blocks_portable(&[5, 6, 7, 8, 9, 10, 11, 12], 0, DOUBLE_ROUNDS, &mut first);
        let mut second = vec![0u8; POOL];
        chacha_blocks_portable(&words(&first[..32]), 0, DOUBLE_ROUNDS, &mut second);
        assert_eq!(got[..POOL - 32], first[32..]);
        assert_eq!(got[POOL - 32..], second[32..]);
        // Keys come from the same stream.
        assert_eq!(r.mask_key().unwrap()[..], {
            let mut third = vec![0u8; POOL];
            chacha_blocks_portable(&words(&second[..32]), 0, DOUBLE_ROUNDS, &mut third);
            [third[32], third[33], third[34], third[35]]
        });
    }

    #[test]
    fn os_seeded_keys_differ_within_and_across_connections() {
        let mut a = Rng::new(None);
        let mut b = Rng::new(None);
        let mut seen = std::collections::HashSet::new();
        for _ in 0..3000 {
            seen.insert(a.mask_key().unwrap());
            seen.insert(b.mask_key().unwrap());
        }
        assert!(seen.len() > 5990, "only {} distinct keys", seen.len());
    }

    #[test]
    fn custom_source_is_used_and_failure_reported() {
        let mut r = Rng::new(Some(Box::new(|b: &mut [u8]| {
            b.fill(7);
            true
        })));
        assert_eq!(r.mask_key().unwrap(), [7; 4]);
        let mut bad = Rng::new(Some(Box::new(|_: &mut [u8]| false)));
        assert_eq!(bad.mask_key().unwrap_err().kind, ErrorKind::Rng);
    }
}
