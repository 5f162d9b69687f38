//! With permessage-deflate warm-up, the first compressed message a
//! connection sends after the handshake allocates nothing at all: the zlib
//! state, the compressor's output scratch and the output buffer were sized
//! at accept (up to `idle_buffer_retain`). Shown with a counting allocator
//! that counts the current thread's allocations only.
// This binary installs its own global allocator, which the c-allocator
// feature's (the C hook, tested by tests/c/test_allocator.c) would clash with.
#![cfg(not(feature = "c-allocator"))]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use wsproto::{Config, Connection, DeflateConfig, Event};

struct Counting;

thread_local! {
    static ALLOCS: Cell<usize> = const { Cell::new(0) };
}

// SAFETY: every call goes to the system allocator unchanged; counting only
// touches a const-initialised thread-local, which never allocates.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let _ = ALLOCS.try_with(|c| c.set(c.get() + 1));
        // SAFETY: forwarded with the caller's layout.
        unsafe { System.alloc(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let _ = ALLOCS.try_with(|c| c.set(c.get() + 1));
        // SAFETY: forwarded with the caller's arguments.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded with the caller's arguments.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocations(f: impl FnOnce()) -> usize {
    let before = ALLOCS.with(Cell::get);
    f();
    ALLOCS.with(Cell::get) - before
}

fn pump(from: &mut Connection, to: &mut Connection) {
    let n = from.output().len();
    to.receive(from.output()).unwrap();
    from.consume_output(n);
}

fn handshake(warm: bool, retain: usize) -> (Connection, Connection) {
    let config = || Config {
        deflate: Some(DeflateConfig { warm_up: warm, ..DeflateConfig::default() }),
        idle_buffer_retain: retain,
        ..Config::default()
    };
    let mut c = Connection::client(config());
    let mut s = Connection::server(config());
    c.send_request("example.com", "/", &[], &[]).unwrap();
    pump(&mut c, &mut s);
    assert!(matches!(s.next_event(), Some(Event::Request(_))));
    s.accept(None, &[]).unwrap();
    pump(&mut s, &mut c);
    assert!(matches!(c.next_event(), Some(Event::Accept(_))));
    assert!(c.negotiated_deflate().is_some());
    (c, s)
}

#[test]
fn first_compressed_send_after_warm_accept_allocates_nothing() {
    let msg = "the quick brown fox jumps over the lazy dog; ".repeat(40);
    for retain in [16 << 10, 64 << 10] {
        let (mut c, mut s) = handshake(true, retain);
        let n = allocations(|| s.send_text(&msg).unwrap());
        assert_eq!(n, 0, "server, retain {retain}");
        let n = allocations(|| c.send_text(&msg).unwrap());
        assert_eq!(n, 0, "client, retain {retain}");
        // And the peer decodes it.
        pump(&mut s, &mut c);
        match c.next_event() {
            Some(Event::Data { data, .. }) => assert_eq!(data, msg.as_bytes()),
            other => panic!("{other:?}"),
        }
    }
}

#[test]
fn without_warm_up_the_first_compressed_send_allocates() {
    let msg = "the quick brown fox jumps over the lazy dog; ".repeat(40);
    let (_c, mut s) = handshake(false, 64 << 10);
    let n = allocations(|| s.send_text(&msg).unwrap());
    assert!(n > 0, "cold: the compressor is created on first use");
}
