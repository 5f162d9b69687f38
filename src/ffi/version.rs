//! Version and ABI queries: what a program or a binding checks at run time
//! against the header it was built with.

use std::ffi::c_char;

use super::alloc::ws_allocator_t;
use super::deflate::ws_deflate_params_t;
use super::event::{ws_event_compact_t, ws_event_t, ws_header_t, ws_str_t};

/// The ABI version of this header: incremented on every change that breaks
/// binary compatibility (a changed struct layout, signature or constant
/// value). It is the number in the shared library's SONAME
/// (libwsproto.so.N). Compare it with ws_abi_version() at run time.
pub const WSPROTO_ABI_VERSION: u32 = 0;

/// The structs whose size ws_abi_sizeof() reports, so that a binding that
/// mirrors them (cgo, LuaJIT ffi, ctypes, Zig) can check its layout.
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ws_abi_struct_t {
    /// ws_event_t
    WS_ABI_EVENT = 1,
    /// ws_str_t
    WS_ABI_STR = 2,
    /// ws_header_t
    WS_ABI_HEADER = 3,
    /// ws_deflate_params_t
    WS_ABI_DEFLATE_PARAMS = 4,
    /// ws_allocator_t
    WS_ABI_ALLOCATOR = 5,
    /// ws_event_compact_t
    WS_ABI_EVENT_COMPACT = 6,
}

/// A `ws_abi_struct_t` received from C, taken as its raw value (any integer
/// is accepted). cbindgen shows it as `ws_abi_struct_t`.
#[repr(transparent)]
#[derive(Clone, Copy, Debug)]
pub struct WsAbiStructArg(pub u32);

/// The library version ("MAJOR.MINOR.PATCH", equal to WSPROTO_VERSION_STRING
/// of the header it was built with), a static NUL-terminated string; never
/// NULL, never freed. Thread-safe.
#[no_mangle]
pub extern "C" fn ws_version() -> *const c_char {
    concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr().cast()
}

/// The library version as one number, MAJOR * 10000 + MINOR * 100 + PATCH
/// (the form of WSPROTO_VERSION_NUMBER). Thread-safe.
#[no_mangle]
pub extern "C" fn ws_version_number() -> u32 {
    version_number(env!("CARGO_PKG_VERSION_MAJOR"), env!("CARGO_PKG_VERSION_MINOR"), env!("CARGO_PKG_VERSION_PATCH"))
}

fn version_number(major: &str, minor: &str, patch: &str) -> u32 {
    let n = |s: &str| s.parse::<u32>().unwrap_or(0);
    n(major) * 10000 + n(minor) * 100 + n(patch)
}

/// The ABI version the library was built with. A program or binding built
/// against a header whose WSPROTO_ABI_VERSION differs must not use this
/// library. Thread-safe.
#[no_mangle]
pub extern "C" fn ws_abi_version() -> u32 {
    WSPROTO_ABI_VERSION
}

/// `sizeof` of a public struct as the library was compiled (e.g.
/// `ws_abi_sizeof(WS_ABI_EVENT) == sizeof(ws_event_t)` when the header and
/// the library agree); 0 for a value that is not a ws_abi_struct_t.
/// Thread-safe.
#[no_mangle]
pub extern "C" fn ws_abi_sizeof(which: WsAbiStructArg) -> usize {
    use std::mem::size_of;
    const EVENT: u32 = ws_abi_struct_t::WS_ABI_EVENT as u32;
    const STR: u32 = ws_abi_struct_t::WS_ABI_STR as u32;
    const HEADER: u32 = ws_abi_struct_t::WS_ABI_HEADER as u32;
    const DEFLATE_PARAMS: u32 = ws_abi_struct_t::WS_ABI_DEFLATE_PARAMS as u32;
    const ALLOCATOR: u32 = ws_abi_struct_t::WS_ABI_ALLOCATOR as u32;
    const EVENT_COMPACT: u32 = ws_abi_struct_t::WS_ABI_EVENT_COMPACT as u32;
    match which.0 {
        EVENT => size_of::<ws_event_t>(),
        STR => size_of::<ws_str_t>(),
        HEADER => size_of::<ws_header_t>(),
        DEFLATE_PARAMS => size_of::<ws_deflate_params_t>(),
        ALLOCATOR => size_of::<ws_allocator_t>(),
        EVENT_COMPACT => size_of::<ws_event_compact_t>(),
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_number_and_sizes() {
        assert_eq!(version_number("1", "2", "3"), 10203);
        assert_eq!(version_number("0", "1", "0"), 100);
        assert_eq!(ws_abi_sizeof(WsAbiStructArg(ws_abi_struct_t::WS_ABI_STR as u32)), 2 * size_of::<usize>());
        assert_eq!(ws_abi_sizeof(WsAbiStructArg(0)), 0);
        assert_eq!(ws_abi_sizeof(WsAbiStructArg(99)), 0);
    }
}
