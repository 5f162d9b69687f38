//! The allocator hook: `ws_set_allocator` routes every allocation the
//! library makes through the caller's functions (game engines, consoles,
//! arenas, accounting).
//!
//! Design: with the cargo feature `c-allocator` (which the CMake build and
//! therefore the installed C library turn on) this module provides the
//! crate's `#[global_allocator]`, which forwards to the hook once one is set
//! and to the system allocator otherwise. Without the feature (a Rust
//! program using the rlib keeps its own global allocator) ws_set_allocator
//! refuses with WS_ERR_WRONG_STATE. A hook may be installed only before the
//! library has allocated anything, so that every block is freed by the
//! allocator that made it. A hook that returns NULL makes the allocation
//! fail: fallible paths (ws_config_new, ws_conn_new_*, and the engine's
//! `try_reserve` growth) report it as a result.

use std::alloc::Layout;
use std::ffi::c_void;

use super::result::ws_result_t;

/// Allocates `size` bytes (never 0) aligned to `align` (a power of two,
/// possibly larger than alignof(max_align_t)); returns NULL on failure,
/// which the library reports as an error where it can (it never aborts
/// inside the hook).
pub type ws_alloc_fn = Option<unsafe extern "C" fn(userdata: *mut c_void, size: usize, align: usize) -> *mut c_void>;

/// Resizes the block `ptr` (from this allocator, `old_size` bytes, aligned
/// to `align`) to `new_size` bytes (never 0) with the same alignment,
/// keeping the first min(old_size, new_size) bytes; returns the new block,
/// or NULL on failure with `ptr` left untouched.
pub type ws_realloc_fn = Option<
    unsafe extern "C" fn(
        userdata: *mut c_void,
        ptr: *mut c_void,
        old_size: usize,
        align: usize,
        new_size: usize,
    ) -> *mut c_void,
>;

/// Frees the block `ptr` of `size` bytes aligned to `align`, as returned by
/// this allocator's allocate or reallocate function. `ptr` is never NULL.
pub type ws_free_fn = Option<unsafe extern "C" fn(userdata: *mut c_void, ptr: *mut c_void, size: usize, align: usize)>;

/// An allocator for ws_set_allocator(). `allocate` and `deallocate` are
/// required; `reallocate` may be NULL (the library then allocates, copies
/// and frees). (The members are not called malloc/realloc/free, which debug
/// allocators often define as macros.)
/// Every function receives `userdata` as given, may be called from any
/// thread that calls into the library (concurrently when different handles
/// are used on different threads), must not call back into the library,
/// and must not unwind.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct ws_allocator_t {
    /// Allocates (required).
    pub allocate: ws_alloc_fn,
    /// Resizes (optional: NULL = allocate, copy and free).
    pub reallocate: ws_realloc_fn,
    /// Frees (required).
    pub deallocate: ws_free_fn,
    /// Passed as is to every call of the three functions; may be NULL.
    pub userdata: *mut c_void,
}

/// Allocates a `T` on the heap without aborting when memory is exhausted:
/// `None` instead (`Box::new` would abort the process).
pub(crate) fn try_box<T>(value: T) -> Option<Box<T>> {
    let layout = Layout::new::<T>();
    if layout.size() == 0 {
        return Some(Box::new(value));
    }
    // SAFETY: the layout has a non-zero size.
    let p = unsafe { std::alloc::alloc(layout) }.cast::<T>();
    if p.is_null() {
        return None;
    }
    // SAFETY: `p` is a fresh allocation of the global allocator with
    // `Layout::new::<T>()`, which is exactly what `Box<T>` owns and frees.
    unsafe {
        p.write(value);
        Some(Box::from_raw(p))
    }
}

/// [`try_box`] for a value made by `make`, called once the memory is
/// there: a large value (a connection is about 1 KiB) can then be built in
/// place instead of on the stack and copied.
#[inline(always)]
pub(crate) fn try_box_with<T>(make: impl FnOnce() -> T) -> Option<Box<T>> {
    let layout = Layout::new::<T>();
    if layout.size() == 0 {
        return Some(Box::new(make()));
    }
    // SAFETY: the layout has a non-zero size.
    let p = unsafe { std::alloc::alloc(layout) }.cast::<T>();
    if p.is_null() {
        return None;
    }
    /// Frees the memory if `make` panics (the panic boundary then reports it).
    struct Free(*mut u8, Layout);
    impl Drop for Free {
        fn drop(&mut self) {
            // SAFETY: allocated above with this layout and not yet owned by a Box.
            unsafe { std::alloc::dealloc(self.0, self.1) }
        }
    }
    let guard = Free(p.cast(), layout);
    let value = make();
    std::mem::forget(guard);
    // SAFETY: `p` is a fresh allocation of the global allocator with
    // `Layout::new::<T>()`, which is exactly what `Box<T>` owns and frees.
    unsafe {
        p.write(value);
        Some(Box::from_raw(p))
    }
}

#[cfg(feature = "c-allocator")]
mod hook {
    use std::alloc::{GlobalAlloc, Layout, System};
    use std::cell::UnsafeCell;
    use std::ffi::c_void;
    use std::sync::atomic::{AtomicU8, Ordering};

    type AllocFn = unsafe extern "C" fn(*mut c_void, usize, usize) -> *mut c_void;
    type ReallocFn = unsafe extern "C" fn(*mut c_void, *mut c_void, usize, usize, usize) -> *mut c_void;
    type FreeFn = unsafe extern "C" fn(*mut c_void, *mut c_void, usize, usize);

    pub(super) struct Hooks {
        pub(super) alloc: AllocFn,
        pub(super) realloc: Option<ReallocFn>,
        pub(super) free: FreeFn,
        pub(super) userdata: *mut c_void,
    }

    /// Nothing allocated yet and no hook: a hook may still be installed.
    const UNUSED: u8 = 0;
    /// The system allocator has served an allocation: no hook ever.
    const SYSTEM: u8 = 1;
    /// ws_set_allocator is writing HOOKS.
    const SETTING: u8 = 2;
    /// HOOKS is set and serves every allocation from now on.
    const CUSTOM: u8 = 3;

    static STATE: AtomicU8 = AtomicU8::new(UNUSED);

    struct Slot(UnsafeCell<Option<Hooks>>);
    // SAFETY: the slot is written once, by the thread that moved STATE from
    // UNUSED to SETTING, before it publishes CUSTOM with Release; it is read
    // only after CUSTOM was observed with Acquire, and never written again.
    unsafe impl Sync for Slot {}
    static HOOKS: Slot = Slot(UnsafeCell::new(None));

    /// Installs `h` if nothing has been allocated yet; false otherwise.
    pub(super) fn install(h: Hooks) -> bool {
        if STATE.compare_exchange(UNUSED, SETTING, Ordering::Acquire, Ordering::Acquire).is_err() {
            return false;
        }
        // SAFETY: this thread won the UNUSED -> SETTING transition, so it is
        // the only writer, and no reader looks before CUSTOM is published.
        unsafe { *HOOKS.0.get() = Some(h) };
        STATE.store(CUSTOM, Ordering::Release);
        true
    }

    /// The hooks to use, or None for the system allocator (which is then
    /// fixed for the life of the process).
    #[inline]
    fn current() -> Option<&'static Hooks> {
        loop {
            match STATE.load(Ordering::Acquire) {
                SYSTEM => return None,
                // SAFETY: CUSTOM was published after HOOKS was written (see Slot).
                CUSTOM => return unsafe { (*HOOKS.0.get()).as_ref() },
                UNUSED => {
                    if STATE.compare_exchange(UNUSED, SYSTEM, Ordering::AcqRel, Ordering::Acquire).is_ok() {
                        return None;
                    }
                }
                // A hook is being installed by another thread at this very
                // moment (which the contract forbids); wait for it.
                _ => std::hint::spin_loop(),
            }
        }
    }

    /// The crate's global allocator when the `c-allocator` feature is on.
    pub struct HookAllocator;

    // SAFETY: every block is served and released by the same allocator:
    // STATE leaves UNUSED once and for all before the first allocation, so
    // either the system allocator or the hook serves the whole process. The
    // hook's contract (ws_allocator_t) is the GlobalAlloc contract.
    unsafe impl GlobalAlloc for HookAllocator {
        unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
            match current() {
                // SAFETY: forwarded GlobalAlloc contract (non-zero size).
                None => unsafe { System.alloc(layout) },
                // SAFETY: the caller's function, called as documented.
                Some(h) => unsafe { (h.alloc)(h.userdata, layout.size(), layout.align()) }.cast(),
            }
        }

        unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
            match current() {
                // SAFETY: forwarded contract: `ptr` came from System with `layout`.
                None => unsafe { System.dealloc(ptr, layout) },
                // SAFETY: `ptr` came from this hook with `layout` (see above).
                Some(h) => unsafe { (h.free)(h.userdata, ptr.cast(), layout.size(), layout.align()) },
            }
        }

        unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
            match current() {
                // SAFETY: forwarded contract.
                None => unsafe { System.realloc(ptr, layout, new_size) },
                Some(h) => match h.realloc {
                    // SAFETY: `ptr` came from this hook with `layout`.
                    Some(r) => unsafe { r(h.userdata, ptr.cast(), layout.size(), layout.align(), new_size) }.cast(),
                    None => {
                        // SAFETY: `new_size` is non-zero and, with the
                        // alignment of `layout`, valid (GlobalAlloc contract).
                        let new_layout = unsafe { Layout::from_size_align_unchecked(new_size, layout.align()) };
                        // SAFETY: non-zero size.
                        let new = unsafe { self.alloc(new_layout) };
                        if !new.is_null() {
                            // SAFETY: both blocks are live, distinct, and at
                            // least min(old, new) bytes long.
                            unsafe {
                                std::ptr::copy_nonoverlapping(ptr, new, layout.size().min(new_size));
                                self.dealloc(ptr, layout);
                            }
                        }
                        new
                    }
                },
            }
        }
    }

    #[global_allocator]
    static GLOBAL: HookAllocator = HookAllocator;
}

/// Routes every allocation the library makes through `allocator` (its
/// functions and `userdata` are copied; the struct need not outlive the
/// call). Call it once, first: before any other wsproto function, from one
/// thread, while no other thread uses the library. The hook stays for the
/// life of the process. `userdata` must stay valid that long.
///
/// When the hook returns NULL, ws_config_new() returns NULL and the
/// ws_conn_new_* functions return an error instead of aborting the process.
///
/// Returns WS_OK; WS_ERR_NULL_ARGUMENT if `allocator`, its `allocate` or
/// its `deallocate` is NULL; WS_ERR_WRONG_STATE if the library has already allocated
/// memory (any earlier call, or an earlier ws_set_allocator()), or if it was
/// built without the allocator hook (cargo feature `c-allocator`, which the
/// CMake build turns on). The allocator in use is unchanged on error.
#[no_mangle]
pub extern "C" fn ws_set_allocator(allocator: *const ws_allocator_t) -> ws_result_t {
    // No panic boundary: nothing here can panic, and a panic would allocate.
    // SAFETY: `allocator` is NULL or points to a readable ws_allocator_t.
    let Some(a) = (unsafe { allocator.as_ref() }).copied() else {
        return ws_result_t::WS_ERR_NULL_ARGUMENT;
    };
    let (Some(_alloc), Some(_free)) = (a.allocate, a.deallocate) else {
        return ws_result_t::WS_ERR_NULL_ARGUMENT;
    };
    #[cfg(feature = "c-allocator")]
    {
        let h = hook::Hooks { alloc: _alloc, realloc: a.reallocate, free: _free, userdata: a.userdata };
        if hook::install(h) {
            ws_result_t::WS_OK
        } else {
            ws_result_t::WS_ERR_WRONG_STATE
        }
    }
    #[cfg(not(feature = "c-allocator"))]
    {
        ws_result_t::WS_ERR_WRONG_STATE
    }
}
