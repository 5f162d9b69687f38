//! Allocation failure is a result, never an abort: this test binary's global
//! allocator refuses requests on demand, as a constrained system (or an
//! allocator hook with a quota) would.
// This binary installs its own global allocator, which the c-allocator
// feature's (the C hook, tested by tests/c/test_allocator.c) would clash with.
#![cfg(not(feature = "c-allocator"))]

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::ptr::null_mut;

use common::*;
use wsproto::ffi::config::{ws_config_free, ws_config_new};
use wsproto::ffi::conn::{ws_conn_free, ws_conn_new_server};
use wsproto::ffi::result::ws_result_t;
use wsproto::{CloseSource, Config, Connection, ErrorKind, Role};

thread_local! {
    /// Requests of at least this many bytes, from this thread, fail
    /// (usize::MAX: none do). Per thread: the test harness allocates too.
    static FAIL_FROM: Cell<usize> = const { Cell::new(usize::MAX) };
}

fn refused(size: usize) -> bool {
    FAIL_FROM.try_with(|f| size >= f.get()).unwrap_or(false)
}

struct Refusing;

// SAFETY: forwards to the system allocator, or returns null (a permitted
// outcome of `alloc`) for requests the test wants to fail.
unsafe impl GlobalAlloc for Refusing {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if refused(layout.size()) {
            return null_mut();
        }
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if refused(new_size) {
            return null_mut();
        }
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Refusing = Refusing;

/// Runs `f` with this thread's allocations of `from` bytes or more failing.
fn failing_from<T>(from: usize, f: impl FnOnce() -> T) -> T {
    FAIL_FROM.with(|f| f.set(from));
    let r = f();
    FAIL_FROM.with(|f| f.set(usize::MAX));
    r
}

#[test]
fn out_of_memory_is_a_result_everywhere_a_peer_or_a_send_allocates() {
    // Receiving: a 1 MiB message cannot be stored: NoMemory and close 1011.
    let mut s = Connection::frames_only(Role::Server, Config::default(), None, &[]);
    let big = client_frame(true, 2, &vec![1u8; 1 << 20]);
    let r = failing_from(256 << 10, || s.receive(&big));
    assert_eq!(r.unwrap_err().kind, ErrorKind::NoMemory);
    match drain(&mut s).as_slice() {
        [Ev::Close { code: 1011, source: CloseSource::Violation, .. }] => {}
        other => panic!("{other:?}"),
    }

    // Sending: nothing is queued, and the connection goes on.
    let mut s = Connection::frames_only(Role::Server, Config::default(), None, &[]);
    let payload = vec![0u8; 1 << 20];
    let r = failing_from(256 << 10, || s.send_binary(&payload));
    assert_eq!(r.unwrap_err().kind, ErrorKind::NoMemory);
    assert!(s.output().is_empty());
    s.send_binary(b"fine").unwrap();

    // Handles: NULL / WS_ERR_NO_MEMORY, not an abort.
    assert!(failing_from(1, || ws_config_new()).is_null());
    let mut conn = null_mut();
    assert_eq!(failing_from(1, || ws_conn_new_server(std::ptr::null(), &mut conn)), ws_result_t::WS_ERR_NO_MEMORY);
    assert!(conn.is_null());
    let cfg = ws_config_new();
    assert_eq!(ws_conn_new_server(cfg, &mut conn), ws_result_t::WS_OK);
    ws_conn_free(conn);
    ws_config_free(cfg);
}
