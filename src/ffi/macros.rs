//! The panic boundary and pointer helpers shared by every export.
//!
//! A panic must never unwind into C (that aborts the process at best). Every
//! exported function runs its body through [`ffi_catch!`] or
//! [`ffi_boundary!`]; connection functions use `conn::with_mut` /
//! `conn::with_ref`, which additionally poison the connection.

use std::any::Any;
use std::ffi::c_void;

/// Runs `$body` inside `catch_unwind`; evaluates to `Ok(value)` or
/// `Err(panic message)`.
macro_rules! ffi_catch {
    ($body:expr) => {
        ::std::panic::catch_unwind(::std::panic::AssertUnwindSafe(|| $body))
            .map_err(|payload| $crate::ffi::macros::panic_message(&*payload))
    };
}

/// Runs `$body` inside `catch_unwind`; a panic evaluates to `$on_panic`.
macro_rules! ffi_boundary {
    ($on_panic:expr, $body:expr) => {
        match $crate::ffi::macros::ffi_catch!($body) {
            Ok(value) => value,
            Err(_) => $on_panic,
        }
    };
}

pub(crate) use {ffi_boundary, ffi_catch};

/// The text of a panic payload, for `ws_conn_last_error`.
pub(crate) fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "unknown panic payload".to_owned()
    }
}

/// Non-null pointer for empty byte strings handed to C, so callers may pass
/// it to functions that reject NULL even when the length is 0.
pub(crate) const EMPTY: *const u8 = c"".as_ptr().cast();

/// Why an argument could not be turned into a Rust value.
pub(crate) enum ArgError {
    Null(&'static str),
    NotUtf8(&'static str),
}

/// Borrows `len` bytes at `ptr`. NULL is allowed when `len` is 0.
///
/// # Safety
/// If `ptr` is non-null it must point to `len` readable bytes that stay
/// valid and unmodified for `'a`.
pub(crate) unsafe fn bytes<'a>(ptr: *const c_void, len: usize, what: &'static str) -> Result<&'a [u8], ArgError> {
    if len == 0 {
        return Ok(&[]);
    }
    if ptr.is_null() {
        return Err(ArgError::Null(what));
    }
    // SAFETY: non-null and, by this function's contract, valid for `len` bytes during 'a.
    Ok(unsafe { std::slice::from_raw_parts(ptr.cast::<u8>(), len) })
}

/// Borrows `len` bytes at `ptr` as UTF-8. NULL is allowed when `len` is 0.
///
/// # Safety
/// Same as [`bytes`].
pub(crate) unsafe fn utf8<'a>(ptr: *const c_void, len: usize, what: &'static str) -> Result<&'a str, ArgError> {
    // SAFETY: forwarded contract of this function.
    let b = unsafe { bytes(ptr, len, what) }?;
    std::str::from_utf8(b).map_err(|_| ArgError::NotUtf8(what))
}

/// Borrows a C array of `len` elements. NULL is allowed when `len` is 0.
///
/// # Safety
/// If `ptr` is non-null it must point to `len` initialized `T`s valid for `'a`.
pub(crate) unsafe fn array<'a, T>(ptr: *const T, len: usize, what: &'static str) -> Result<&'a [T], ArgError> {
    if len == 0 {
        return Ok(&[]);
    }
    if ptr.is_null() {
        return Err(ArgError::Null(what));
    }
    // SAFETY: non-null and, by this function's contract, valid for `len` elements.
    Ok(unsafe { std::slice::from_raw_parts(ptr, len) })
}
