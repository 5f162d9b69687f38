//! Issue 12, item 6: what a server handshake allocates, counted.
//!
//! A server that receives a whole request, takes the REQUEST event,
//! accepts and writes out the 101 allocates once: the head with its header
//! spans packed after it (the buffer then holds the 101); through the C
//! API also the connection handle and the event's header list. Nothing for
//! the event queue, the random pool, masking or messages it has not
//! received.
//! Its own test binary (one test function), so no other test's
//! allocations are counted.
// This binary installs its own global allocator, which the c-allocator
// feature's (the C hook, tested by tests/c/test_allocator.c) would clash with.
#![cfg(not(feature = "c-allocator"))]

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};

use wsproto::ffi::conn::{
    ws_conn_free, ws_conn_new_server, ws_conn_output_consume, ws_conn_output_peek, ws_conn_receive,
};
use wsproto::ffi::event::{ws_conn_poll_event, ws_event_t, ws_event_type_t};
use wsproto::ffi::handshake::ws_conn_accept;
use wsproto::ffi::result::ws_result_t;
use wsproto::{Config, Connection, Event, State};

struct Counting;

static ALLOCS: AtomicUsize = AtomicUsize::new(0);
static LIVE: AtomicUsize = AtomicUsize::new(0);

// SAFETY: forwards to the system allocator; only counts on the side.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCS.fetch_add(1, Relaxed);
        LIVE.fetch_add(layout.size(), Relaxed);
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size(), Relaxed);
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCS.fetch_add(1, Relaxed);
        LIVE.fetch_add(new_size, Relaxed);
        LIVE.fetch_sub(layout.size(), Relaxed);
        // SAFETY: same contract as the caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// The request of BENCHMARKS.md's handshake workload.
const REQUEST: &[u8] = b"GET /chat HTTP/1.1\r\nHost: server.example.com\r\nUpgrade: websocket\r\n\
Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nOrigin: http://example.com\r\n\
Sec-WebSocket-Version: 13\r\nUser-Agent: peers-bench/1.0\r\n\r\n";

/// (allocations, live bytes left) while `f` runs.
fn count(f: impl FnOnce()) -> (usize, isize) {
    let (a, l) = (ALLOCS.load(Relaxed), LIVE.load(Relaxed));
    f();
    (ALLOCS.load(Relaxed) - a, LIVE.load(Relaxed) as isize - l as isize)
}

#[test]
fn a_server_handshake_allocates_its_head_and_little_else() {
    // One test function: the counters are global, tests would run in parallel.
    let (allocs, left) = count(|| {
        let mut s = Connection::server(Config::default());
        s.receive(REQUEST).unwrap();
        assert!(matches!(s.next_event(), Some(Event::Request(_))));
        assert!(s.next_event().is_none());
        s.accept(None, &[]).unwrap();
        assert!(s.output().starts_with(b"HTTP/1.1 101 Switching Protocols\r\n"));
        let n = s.output().len();
        s.consume_output(n);
        assert_eq!(s.state(), State::Open);
    });
    assert_eq!((allocs, left), (1, 0), "Rust API: head and header spans (then the 101), freed");

    let (allocs, left) = count(|| {
        let mut c = std::ptr::null_mut();
        assert_eq!(ws_conn_new_server(std::ptr::null(), &mut c), ws_result_t::WS_OK);
        assert_eq!(ws_conn_receive(c, REQUEST.as_ptr().cast(), REQUEST.len()), ws_result_t::WS_OK);
        let mut ev = std::mem::MaybeUninit::<ws_event_t>::uninit();
        assert_eq!(ws_conn_poll_event(c, ev.as_mut_ptr()), ws_result_t::WS_OK);
        // SAFETY: written on WS_OK.
        let ev = unsafe { ev.assume_init() };
        assert_eq!(ev.r#type, ws_event_type_t::WS_EVENT_REQUEST);
        assert_eq!(ev.headers_len, 7);
        assert_eq!(ws_conn_accept(c, std::ptr::null(), 0, std::ptr::null(), 0), ws_result_t::WS_OK);
        let (mut out, mut len) = (std::ptr::null(), 0usize);
        assert_eq!(ws_conn_output_peek(c, &mut out, &mut len), ws_result_t::WS_OK);
        assert_eq!(ws_conn_output_consume(c, len), ws_result_t::WS_OK);
        ws_conn_free(c);
    });
    assert_eq!((allocs, left), (3, 0), "C API: handle, head and spans (then the 101), event header list");
}
