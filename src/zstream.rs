//! The one place that drives zlib-rs through its zlib-style API
//! (`libz-rs-sys`), for what flate2 does not offer:
//!
//! - a compressor with a chosen memLevel (`deflateInit2_`);
//! - allocation through our own `zalloc`/`zfree`, so that every byte of zlib
//!   state is counted exactly ([`Deflater::heap_bytes`]), a state can be given
//!   a byte limit, and an allocation failure is an error (`Z_MEM_ERROR`), never
//!   an abort;
//! - output written straight into a `Vec`'s spare capacity.
//!
//! Every `unsafe` block here says why it is sound. Outside this module the
//! codec is safe Rust.
//!
//! Memory layout: a stream lives in one heap block ([`Raw`]) that never moves
//! while zlib holds pointers to it (zlib's state points back at its
//! `z_stream`, and `opaque` points at the block's byte counter). The block is
//! allocated and freed by hand, so that it too is fallible and never goes
//! through a `Box` (whose uniqueness would be at odds with the pointers zlib
//! keeps).

use std::alloc::{self, Layout};
use std::cell::Cell;
use std::ffi::{c_int, c_uint, c_void};
use std::ptr::{addr_of, addr_of_mut, NonNull};

use libz_rs_sys as z;

/// zlib could not allocate its state, or a buffer could not grow.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NoMemory;

/// Bytes in front of each zalloc block, holding the block's total size so
/// that `zfree` (which is not told the size) can rebuild its `Layout`. 16
/// keeps the returned pointer 16-byte aligned, like malloc's; zlib-rs aligns
/// its own structures further inside the block.
const HEADER: usize = 16;

/// What a stream holds, and how much it may hold.
struct Account {
    held: Cell<usize>,
    limit: usize,
}

/// One zlib stream and its account, in a heap block of its own.
struct Raw {
    strm: z::z_stream,
    account: Account,
}

/// zlib's allocation callback.
///
/// # Safety
/// `opaque` must point at the live `Account` of the stream being served;
/// [`Handle::new`] sets it so, and the account lives in the same block as the
/// `z_stream`, which is freed only after zlib's `*End` released its state.
unsafe extern "C" fn zalloc(opaque: *mut c_void, items: c_uint, size: c_uint) -> *mut c_void {
    // SAFETY: see the function's contract; only shared access, through a Cell.
    let account = unsafe { &*(opaque as *const Account) };
    let Some(bytes) = (items as usize).checked_mul(size as usize).and_then(|n| n.checked_add(HEADER)) else {
        return std::ptr::null_mut();
    };
    if bytes > account.limit.saturating_sub(account.held.get()) {
        return std::ptr::null_mut();
    }
    let Ok(layout) = Layout::from_size_align(bytes, HEADER) else {
        return std::ptr::null_mut();
    };
    // SAFETY: `layout` has a non-zero size (at least HEADER).
    let block = unsafe { alloc::alloc(layout) };
    if block.is_null() {
        return std::ptr::null_mut();
    }
    // SAFETY: the block is at least HEADER (>= 8) bytes and 16-byte aligned,
    // so a usize fits at its start, and block + HEADER is within it (or one
    // past its end when zlib asked for 0 bytes, which it never dereferences).
    unsafe {
        block.cast::<usize>().write(bytes);
        account.held.set(account.held.get() + bytes);
        block.add(HEADER).cast()
    }
}

/// zlib's free callback.
///
/// # Safety
/// As for [`zalloc`]; `ptr` is NULL or a pointer `zalloc` returned for the
/// same stream and not yet freed.
unsafe extern "C" fn zfree(opaque: *mut c_void, ptr: *mut c_void) {
    if ptr.is_null() {
        return;
    }
    // SAFETY: see the function's contract.
    let account = unsafe { &*(opaque as *const Account) };
    // SAFETY: `ptr` came from `zalloc`, so the block starts HEADER bytes
    // earlier, holds its size there, and was allocated with this layout
    // (which `zalloc` checked was valid).
    unsafe {
        let block = ptr.cast::<u8>().sub(HEADER);
        let bytes = block.cast::<usize>().read();
        account.held.set(account.held.get() - bytes);
        alloc::dealloc(block, Layout::from_size_align_unchecked(bytes, HEADER));
    }
}

/// Owns one `Raw` block whose `z_stream` is (once `init` succeeded)
/// initialised for deflate or inflate, as `end` says.
struct Handle {
    raw: NonNull<Raw>,
    end: unsafe extern "C" fn(*mut z::z_stream) -> c_int,
}

// SAFETY: a Handle owns its block outright (nothing else points into it but
// zlib's own state, which moves with it), zlib state has no thread affinity,
// and the Cell in the account is only touched during calls on the Handle,
// which `&mut self` (or `&self` without a concurrent `&mut`) serialises. So
// moving a Handle to another thread is sound; sharing one is not offered
// (no Sync).
unsafe impl Send for Handle {}

impl Handle {
    /// Allocates the block and runs `init` on its stream (with our allocator
    /// installed). `None` when out of memory (the block itself, or zlib's
    /// state) or when `init` fails otherwise.
    fn new(
        limit: usize,
        init: impl FnOnce(*mut z::z_stream) -> c_int,
        end: unsafe extern "C" fn(*mut z::z_stream) -> c_int,
    ) -> Option<Handle> {
        let layout = Layout::new::<Raw>();
        if layout.size() > limit {
            return None;
        }
        // SAFETY: `Raw` has a non-zero size.
        let raw = NonNull::new(unsafe { alloc::alloc(layout) }.cast::<Raw>())?;
        let p = raw.as_ptr();
        // SAFETY: `p` is a fresh, suitably aligned allocation for a Raw; it is
        // written whole before anything reads it, and `opaque` points at its
        // account field, which stays put until `Drop` frees the block.
        unsafe {
            p.write(Raw { strm: z::z_stream::default(), account: Account { held: Cell::new(layout.size()), limit } });
            let strm = addr_of_mut!((*p).strm);
            (*strm).zalloc = Some(zalloc);
            (*strm).zfree = Some(zfree);
            (*strm).opaque = addr_of!((*p).account).cast_mut().cast();
        }
        // SAFETY: the stream is in the state deflateInit2_/inflateInit2_
        // expect (zeroed, with allocator fields set).
        let rc = init(unsafe { addr_of_mut!((*p).strm) });
        if rc != z::Z_OK {
            // A failed init has released whatever it had allocated; only the
            // block is left.
            // SAFETY: the block was allocated above with `layout` and the
            // stream holds no state, so nothing refers to it any more.
            unsafe { alloc::dealloc(p.cast(), layout) };
            return None;
        }
        Some(Handle { raw, end })
    }

    fn strm(&mut self) -> *mut z::z_stream {
        // SAFETY: `raw` is live for as long as `self`; no reference to the
        // block is held across this (all access is through raw pointers).
        unsafe { addr_of_mut!((*self.raw.as_ptr()).strm) }
    }

    /// Bytes this stream holds on the heap now: its block plus zlib's state.
    fn heap_bytes(&self) -> usize {
        // SAFETY: `raw` is live; the account is only read.
        unsafe { (*addr_of!((*self.raw.as_ptr()).account)).held.get() }
    }

    /// Points the stream at `input` and the spare capacity of `out` (at most
    /// `max_out` bytes of it), runs `step`, and appends what it wrote to
    /// `out`. Returns zlib's code and the bytes of `input` consumed.
    fn run(
        &mut self,
        input: &[u8],
        out: &mut Vec<u8>,
        max_out: usize,
        step: impl FnOnce(*mut z::z_stream) -> c_int,
    ) -> (c_int, usize) {
        let avail_in = input.len().min(c_uint::MAX as usize);
        let spare = out.spare_capacity_mut();
        let avail_out = spare.len().min(max_out).min(c_uint::MAX as usize);
        let next_out = spare.as_mut_ptr().cast::<u8>();
        let strm = self.strm();
        // SAFETY: `strm` is an initialised stream (Handle invariant). zlib
        // reads at most `avail_in` bytes from `input` and writes at most
        // `avail_out` bytes into `out`'s spare capacity, both live and
        // unaliased for this call; the pointers are cleared before returning,
        // so the stream keeps no reference to either buffer.
        unsafe {
            (*strm).next_in = input.as_ptr();
            (*strm).avail_in = avail_in as c_uint;
            (*strm).next_out = next_out;
            (*strm).avail_out = avail_out as c_uint;
            let rc = step(strm);
            let consumed = avail_in - (*strm).avail_in as usize;
            let produced = avail_out - (*strm).avail_out as usize;
            (*strm).next_in = std::ptr::null();
            (*strm).avail_in = 0;
            (*strm).next_out = std::ptr::null_mut();
            (*strm).avail_out = 0;
            // zlib initialised exactly `produced` bytes of the spare capacity,
            // from its start.
            out.set_len(out.len() + produced);
            (rc, consumed)
        }
    }
}

impl Drop for Handle {
    fn drop(&mut self) {
        let p = self.raw.as_ptr();
        // SAFETY: the stream was initialised by the matching init, so its
        // `*End` releases zlib's state (through `zfree`, while the account is
        // still alive); then nothing refers to the block, which was allocated
        // with Raw's layout.
        unsafe {
            (self.end)(addr_of_mut!((*p).strm));
            std::ptr::drop_in_place(p);
            alloc::dealloc(p.cast(), Layout::new::<Raw>());
        }
    }
}

/// A raw-DEFLATE compressor (no zlib header).
pub struct Deflater(Handle);

impl Deflater {
    /// `level` 0..=9, `window_bits` 9..=15, `mem_level` 1..=9 (clamped into
    /// range); `limit` caps the bytes the stream may hold (block included).
    pub fn new(level: u8, window_bits: u8, mem_level: u8, limit: usize) -> Result<Deflater, NoMemory> {
        let (level, bits, mem) = (level.min(9), window_bits.clamp(9, 15), mem_level.clamp(1, 9));
        let init = |strm| {
            // SAFETY: `strm` is prepared by Handle::new; the version string is
            // libz-rs-sys's own, and the size is that of its z_stream.
            unsafe {
                z::deflateInit2_(
                    strm,
                    c_int::from(level),
                    z::Z_DEFLATED,
                    -c_int::from(bits),
                    c_int::from(mem),
                    z::Z_DEFAULT_STRATEGY,
                    z::zlibVersion(),
                    std::mem::size_of::<z::z_stream>() as c_int,
                )
            }
        };
        // With parameters in range, Z_MEM_ERROR is the only way init fails.
        Handle::new(limit, init, z::deflateEnd).map(Deflater).ok_or(NoMemory)
    }

    /// Compresses as much of `input` as fits into `out`'s spare capacity,
    /// with a sync flush; returns the input bytes consumed. zlib's
    /// Z_BUF_ERROR (no progress possible: nothing to flush) is not an error.
    ///
    /// # Panics
    /// If zlib reports anything else, which a sync flush on a stream we
    /// initialised cannot do (deflate allocates nothing after init): a bug
    /// is better caught (the C API turns it into WS_ERR_PANIC) than looped on.
    pub fn compress_sync(&mut self, input: &[u8], out: &mut Vec<u8>) -> usize {
        let (rc, consumed) = self.0.run(input, out, usize::MAX, |strm| {
            // SAFETY: `strm` is an initialised deflate stream with its buffers set by `run`.
            unsafe { z::deflate(strm, z::Z_SYNC_FLUSH) }
        });
        assert!(rc == z::Z_OK || rc == z::Z_BUF_ERROR, "zlib deflate failed: {rc}");
        consumed
    }

    /// Starts a new stream, forgetting the window (no allocation).
    pub fn reset(&mut self) {
        // SAFETY: `strm` is an initialised deflate stream.
        unsafe { z::deflateReset(self.0.strm()) };
    }

    /// Exact heap bytes held by this compressor.
    pub fn heap_bytes(&self) -> usize {
        self.0.heap_bytes()
    }
}

/// How an inflate step ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InflateStatus {
    /// Progress made, or none possible for lack of input/output space.
    Ok,
    /// A block with BFINAL set ended the DEFLATE stream.
    StreamEnd,
    /// The data is not valid DEFLATE.
    Corrupt,
    /// zlib could not allocate.
    NoMemory,
}

/// A raw-DEFLATE decompressor (no zlib header), always with a 15-bit window.
pub struct Inflater(Handle);

impl Inflater {
    /// `limit` caps the bytes the stream may hold (block included).
    pub fn new(limit: usize) -> Result<Inflater, NoMemory> {
        let init = |strm| {
            // SAFETY: as for deflateInit2_ above.
            unsafe { z::inflateInit2_(strm, -15, z::zlibVersion(), std::mem::size_of::<z::z_stream>() as c_int) }
        };
        Handle::new(limit, init, z::inflateEnd).map(Inflater).ok_or(NoMemory)
    }

    /// Inflates from `input` into `out`'s spare capacity, writing at most
    /// `max_out` bytes; returns how it ended and the input bytes consumed.
    pub fn inflate(&mut self, input: &[u8], out: &mut Vec<u8>, max_out: usize) -> (InflateStatus, usize) {
        let (rc, consumed) = self.0.run(input, out, max_out, |strm| {
            // SAFETY: `strm` is an initialised inflate stream with its buffers set by `run`.
            unsafe { z::inflate(strm, z::Z_NO_FLUSH) }
        });
        let status = match rc {
            z::Z_OK | z::Z_BUF_ERROR => InflateStatus::Ok,
            z::Z_STREAM_END => InflateStatus::StreamEnd,
            z::Z_MEM_ERROR => InflateStatus::NoMemory,
            // Z_DATA_ERROR; Z_NEED_DICT and Z_STREAM_ERROR cannot happen on a
            // raw stream we initialised, and would be corrupt data if they did.
            _ => InflateStatus::Corrupt,
        };
        (status, consumed)
    }

    /// Starts a new stream, forgetting the window (no allocation).
    pub fn reset(&mut self) {
        // SAFETY: `strm` is an initialised inflate stream.
        unsafe { z::inflateReset(self.0.strm()) };
    }

    /// Exact heap bytes held by this decompressor.
    pub fn heap_bytes(&self) -> usize {
        self.0.heap_bytes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_exact_accounting() {
        let mut d = Deflater::new(6, 15, 8, usize::MAX).unwrap();
        let held = d.heap_bytes();
        assert!(held > 200 * 1024, "{held}");
        let msg = b"hello hello hello hello".repeat(100);
        let mut c = Vec::with_capacity(4096);
        assert_eq!(d.compress_sync(&msg, &mut c), msg.len());
        assert!(c.ends_with(&[0, 0, 0xff, 0xff]));
        assert_eq!(d.heap_bytes(), held, "deflate allocates nothing after init");
        let mut i = Inflater::new(usize::MAX).unwrap();
        let ih = i.heap_bytes();
        let mut out = Vec::with_capacity(msg.len() + 1);
        let (st, n) = i.inflate(&c, &mut out, usize::MAX);
        assert_eq!((st, n), (InflateStatus::Ok, c.len()));
        assert_eq!(out, msg);
        assert_eq!(i.heap_bytes(), ih);
    }

    #[test]
    fn mem_level_and_window_change_the_state_size() {
        let big = Deflater::new(6, 15, 9, usize::MAX).unwrap().heap_bytes();
        let def = Deflater::new(6, 15, 8, usize::MAX).unwrap().heap_bytes();
        let small = Deflater::new(6, 9, 1, usize::MAX).unwrap().heap_bytes();
        assert!(big > def && def > small, "{big} {def} {small}");
    }

    #[test]
    fn codecs_can_move_between_threads() {
        fn send<T: Send>() {}
        send::<Deflater>();
        send::<Inflater>();
        send::<crate::deflate::Deflate>();
        send::<crate::Connection>();
        let mut d = Deflater::new(6, 15, 8, usize::MAX).unwrap();
        let mut out = Vec::with_capacity(256);
        std::thread::spawn(move || d.compress_sync(b"moved", &mut out)).join().unwrap();
    }

    #[test]
    fn limit_makes_init_fail_cleanly() {
        assert_eq!(Deflater::new(6, 15, 8, 64 * 1024).err(), Some(NoMemory));
        assert_eq!(Inflater::new(1024).err(), Some(NoMemory));
        assert_eq!(Inflater::new(0).err(), Some(NoMemory));
        let need = Inflater::new(usize::MAX).unwrap().heap_bytes();
        assert_eq!(Inflater::new(need - 1).err(), Some(NoMemory));
        assert_eq!(Inflater::new(need).unwrap().heap_bytes(), need);
    }
}
