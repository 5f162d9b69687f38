//! Randomness for masking keys and Sec-WebSocket-Key nonces: the OS RNG
//! (getrandom) or a caller's function, drawn in blocks so a frame does not
//! cost a system call.

use crate::config::RngFn;
use crate::error::{Error, ErrorKind, Result};

const POOL: usize = 256;

pub struct Rng {
    source: Option<RngFn>,
    pool: [u8; POOL],
    used: usize,
}

impl Rng {
    pub fn new(source: Option<RngFn>) -> Rng {
        Rng { source, pool: [0; POOL], used: POOL }
    }

    /// Fills `buf` with random bytes from the pool, refilling it as needed.
    pub fn fill(&mut self, buf: &mut [u8]) -> Result<()> {
        let mut done = 0;
        while done < buf.len() {
            if self.used == POOL {
                self.refill()?;
            }
            let n = (buf.len() - done).min(POOL - self.used);
            buf[done..done + n].copy_from_slice(&self.pool[self.used..self.used + n]);
            // Each random byte is handed out once.
            self.pool[self.used..self.used + n].fill(0);
            self.used += n;
            done += n;
        }
        Ok(())
    }

    pub fn mask_key(&mut self) -> Result<[u8; 4]> {
        let mut k = [0u8; 4];
        self.fill(&mut k)?;
        Ok(k)
    }

    fn refill(&mut self) -> Result<()> {
        let ok = match self.source.as_mut() {
            Some(f) => f(&mut self.pool),
            None => os_random(&mut self.pool),
        };
        if !ok {
            return Err(Error::new(ErrorKind::Rng, "the random number source failed"));
        }
        self.used = 0;
        Ok(())
    }
}

fn os_random(buf: &mut [u8]) -> bool {
    let mut done = 0;
    while done < buf.len() {
        let rest = &mut buf[done..];
        // SAFETY: the pointer and length describe `rest`, a live, writable slice.
        let n = unsafe { libc::getrandom(rest.as_mut_ptr().cast(), rest.len(), 0) };
        if n < 0 {
            if std::io::Error::last_os_error().raw_os_error() == Some(libc::EINTR) {
                continue;
            }
            return false;
        }
        done += n as usize;
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn os_rng_gives_different_keys() {
        let mut r = Rng::new(None);
        let keys: Vec<[u8; 4]> = (0..200).map(|_| r.mask_key().unwrap()).collect();
        let distinct: std::collections::HashSet<_> = keys.iter().collect();
        assert!(distinct.len() > 190);
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
