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
        let k = self.pool.get(self.used..self.used + 4)?;
        let k = [k[0], k[1], k[2], k[3]];
        self.used += 4;
        Some(k)
    }

    #[inline]
    pub fn mask_key(&mut self) -> Result<[u8; 4]> {
        if let Some(k) = self.pool.get(self.used..self.used + 4) {
            let k = [k[0], k[1], k[2], k[3]];
            self.used += 4;
            return Ok(k);
        }
        let mut k = [0u8; 4];
        self.fill(&mut k)?;
        Ok(k)
    }

    fn refill(&mut self) -> Result<()> {
        self.pool.resize(POOL, 0);
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
        for (i, blocks) in self.pool.chunks_exact_mut(64 * LANES).enumerate() {
            chacha_blocks(&key, (i * LANES) as u64, DOUBLE_ROUNDS, blocks);
        }
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

/// Blocks computed together, one per vector lane: each of the 16 state words
/// is an array over 8 blocks, so every step of a round is one operation on
/// 8 lanes (two SSE2 vectors, or one AVX2 vector where the CPU has it).
/// Refilling 4 KiB this way costs a fraction of a nanosecond per masking key.
const LANES: usize = 8;

type Lanes = [u32; LANES];

/// Writes the `LANES` keystream blocks `counter..counter + LANES` of `key`
/// (`double_rounds` double rounds; 6 for ChaCha12) into `out` (`64 * LANES` bytes): the
/// same bytes as `chacha_block` for each counter in turn.
fn chacha_blocks(key: &[u32; 8], counter: u64, double_rounds: usize, out: &mut [u8]) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU supports AVX2, checked just above, which is all
        // `chacha_blocks_avx2` requires.
        return unsafe { chacha_blocks_avx2(key, counter, double_rounds, out) };
    }
    chacha_blocks_lanes(key, counter, double_rounds, out)
}

/// [`chacha_blocks_lanes`] compiled for AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn chacha_blocks_avx2(key: &[u32; 8], counter: u64, double_rounds: usize, out: &mut [u8]) {
    chacha_blocks_lanes(key, counter, double_rounds, out)
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
fn chacha_blocks_lanes(key: &[u32; 8], counter: u64, double_rounds: usize, out: &mut [u8]) {
    assert_eq!(out.len(), 64 * LANES);
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
    for (w, (v, i)) in x.iter_mut().zip(init.iter()).enumerate() {
        lanes_add(v, i);
        for (l, word) in v.iter().enumerate() {
            out[64 * l + 4 * w..64 * l + 4 * w + 4].copy_from_slice(&word.to_le_bytes());
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
        let mut batch = [0u8; 64 * LANES];
        chacha_blocks(&[0; 8], 0, 10, &mut batch);
        assert_eq!(batch[..64], expected);
        // RFC 8439 §A.2 test vector #2 starts with block counter 1 of the
        // same key; its keystream begins 9f 07 e7 be 55 51 38 7a.
        assert_eq!(chacha_block(&[0; 8], 1, 10)[..8], [0x9f, 0x07, 0xe7, 0xbe, 0x55, 0x51, 0x38, 0x7a]);
    }

    #[test]
    fn batched_blocks_equal_single_blocks() {
        let key = [0x0302_0100, 0x0706_0504, 0x0b0a_0908, 0x0f0e_0d0c, 1, 2, 3, 0xffff_ffff];
        for counter in [0u64, 8, 0xffff_fffc] {
            let mut out = [0u8; 64 * LANES];
            chacha_blocks(&key, counter, DOUBLE_ROUNDS, &mut out);
            let mut portable = [0u8; 64 * LANES];
            chacha_blocks_lanes(&key, counter, DOUBLE_ROUNDS, &mut portable);
            assert_eq!(out, portable);
            for l in 0..LANES {
                let one = chacha_block(&key, counter + l as u64, DOUBLE_ROUNDS);
                assert_eq!(out[64 * l..64 * (l + 1)], one, "counter {counter} lane {l}");
            }
        }
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
