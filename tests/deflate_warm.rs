//! permessage-deflate warm-up (DeflateConfig::warm_up): with it, the first
//! compressed message allocates no zlib state and the steady state allocates
//! nothing; without it, states are created on first use and, with no
//! context takeover, freed after each message.
//!
//! A counting global allocator (this test binary's own) counts the
//! allocations made by the current thread only, so tests running in
//! parallel do not disturb each other.
// This binary installs its own global allocator, which the c-allocator
// feature's (the C hook, tested by tests/c/test_allocator.c) would clash with.
#![cfg(not(feature = "c-allocator"))]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use wsproto::deflate::Deflate;
use wsproto::{Config, Connection, DeflateConfig, DeflateParams, Event, Role};

struct Counting;

thread_local! {
    // Const-initialised, without a destructor: using it never allocates.
    static ALLOCS: Cell<usize> = const { Cell::new(0) };
    static BYTES: Cell<usize> = const { Cell::new(0) };
}

fn note(size: usize) {
    // try_with: the thread-local may be gone while a thread exits.
    let _ = ALLOCS.try_with(|c| c.set(c.get() + 1));
    let _ = BYTES.try_with(|c| c.set(c.get() + size));
}

// SAFETY: every call is forwarded to the system allocator unchanged.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note(layout.size());
        // SAFETY: forwarded with the caller's layout.
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        note(layout.size());
        // SAFETY: forwarded with the caller's layout.
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note(new_size);
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

/// (allocations, bytes) made by this thread while running `f`.
fn count<R>(f: impl FnOnce() -> R) -> (usize, usize, R) {
    let (a0, b0) = (ALLOCS.with(Cell::get), BYTES.with(Cell::get));
    let r = f();
    (ALLOCS.with(Cell::get) - a0, BYTES.with(Cell::get) - b0, r)
}

fn params(nct: bool) -> DeflateParams {
    DeflateParams { server_no_context_takeover: nct, client_no_context_takeover: nct, ..DeflateParams::default() }
}

fn cfg(warm_up: bool) -> DeflateConfig {
    DeflateConfig { warm_up, ..DeflateConfig::default() }
}

fn text(i: usize) -> Vec<u8> {
    format!("message {i}: the quick brown fox jumps over the lazy dog; ").repeat(30).into_bytes()
}

/// The codec alone, with buffers the caller sized up front: after warm-up
/// neither the first nor any later message allocates, in either direction,
/// with and without context takeover.
#[test]
fn warm_codec_never_allocates() {
    for nct in [false, true] {
        let (allocs, bytes, (mut server, mut client)) =
            count(|| (Deflate::new(params(nct), true, &cfg(true)), Deflate::new(params(nct), false, &cfg(true))));
        assert!(allocs >= 4 && bytes > 2 * 400 * 1024, "warm-up creates both states: {allocs} allocs, {bytes} bytes");
        let held = (server.heap_bytes(), client.heap_bytes());
        let mut wire = Vec::with_capacity(64 * 1024);
        let mut out = Vec::with_capacity(64 * 1024);
        for i in 0..20 {
            let msg = text(i);
            wire.clear();
            out.clear();
            let (allocs, bytes, ()) = count(|| {
                server.deflate(&msg, true, &mut wire).unwrap();
                client.inflate(&wire, &mut out, 1 << 20).unwrap();
                client.inflate_finish(&mut out, 1 << 20).unwrap();
                wire.clear();
                client.deflate(&msg, true, &mut wire).unwrap();
                out.clear();
                server.inflate(&wire, &mut out, 1 << 20).unwrap();
                server.inflate_finish(&mut out, 1 << 20).unwrap();
            });
            assert_eq!((allocs, bytes), (0, 0), "nct {nct}, message {i}");
            assert_eq!(out, msg);
            assert_eq!((server.heap_bytes(), client.heap_bytes()), held, "states are kept");
        }
    }
}

/// Without warm-up the first message pays for the states (the stall that
/// warm-up removes), and with no context takeover every message does,
/// while an idle codec holds nothing.
#[test]
fn cold_codec_allocates_states_on_use() {
    let mut server = Deflate::new(params(true), true, &cfg(false));
    assert_eq!(server.heap_bytes(), 0);
    let mut wire = Vec::with_capacity(64 * 1024);
    for i in 0..3 {
        wire.clear();
        let msg = text(i);
        let (allocs, bytes, ()) = count(|| server.deflate(&msg, true, &mut wire).unwrap());
        assert!(allocs >= 1 && bytes > 300 * 1024, "message {i}: {allocs} allocs, {bytes} bytes");
        assert_eq!(server.heap_bytes(), 0, "freed after the message");
    }
    let mut takeover = Deflate::new(params(false), true, &cfg(false));
    wire.clear();
    let (_, first, ()) = count(|| takeover.deflate(&text(0), true, &mut wire).unwrap());
    wire.clear();
    let second = text(1);
    let (allocs, _, ()) = count(|| takeover.deflate(&second, true, &mut wire).unwrap());
    assert!(first > 300 * 1024, "{first}");
    assert_eq!(allocs, 0, "kept with context takeover");
}

fn pump(from: &mut Connection, to: &mut Connection) {
    let n = from.output().len();
    to.receive(from.output()).unwrap();
    from.consume_output(n);
}

/// A client and a server after their handshake, permessage-deflate with
/// warm-up on or off, buffers kept up to `retain` bytes when idle.
fn handshake(warm: bool, retain: usize) -> (Connection, Connection) {
    let config = || Config { deflate: Some(cfg(warm)), idle_buffer_retain: retain, ..Config::default() };
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

/// Through `Connection`, after a handshake with warm-up on both sides: the
/// first compressed message allocates no zlib state (only the connection's
/// own small buffers), and once those have grown, messages allocate nothing.
#[test]
fn warm_connection_first_message_has_no_state_allocation() {
    for warm in [false, true] {
        // Buffers stay allocated between messages, as warm-up users want.
        let (mut c, mut s) = handshake(warm, 64 << 10);

        let msg = String::from_utf8(text(0)).unwrap();
        let (allocs, bytes, ()) = count(|| s.send_text(&msg).unwrap());
        if warm {
            // The compressor exists: what is left is the connection's
            // scratch and output buffers, a few KiB.
            assert!(bytes < 16 * 1024, "warm first send: {allocs} allocs, {bytes} bytes");
        } else {
            assert!(bytes > 300 * 1024, "cold first send: {allocs} allocs, {bytes} bytes");
        }
        let (_, bytes, ()) = count(|| {
            pump(&mut s, &mut c);
            while c.next_event().is_some() {}
        });
        if warm {
            assert!(bytes < 16 * 1024, "warm first receive: {bytes} bytes");
        } else {
            assert!(bytes > 40 * 1024, "cold first receive: {bytes} bytes");
        }
        if warm {
            // Steady state: the same traffic again allocates nothing.
            for i in 1..10 {
                let msg = String::from_utf8(text(i)).unwrap();
                let (allocs, bytes, ()) = count(|| {
                    s.send_text(&msg).unwrap();
                    pump(&mut s, &mut c);
                    while c.next_event().is_some() {}
                    c.send_text(&msg).unwrap();
                    pump(&mut c, &mut s);
                    while s.next_event().is_some() {}
                });
                // Message 1 still grows the receive buffers to this size.
                if i > 1 {
                    assert_eq!((allocs, bytes), (0, 0), "steady-state message {i}");
                }
            }
        }
    }
}

/// A frames-only connection warms up at creation.
#[test]
fn frames_only_warms_up_at_creation() {
    let config = Config { deflate: Some(cfg(true)), ..Config::default() };
    let (_, bytes, mut s) = count(|| Connection::frames_only(Role::Server, config, Some(params(true)), &[]));
    assert!(bytes > 400 * 1024, "{bytes}");
    let (_, bytes, ()) = count(|| s.send_text("hello").unwrap());
    assert!(bytes < 16 * 1024, "{bytes}");
}

/// The first compressed message after a warm accept allocates nothing at
/// all: the zlib state, the compressor's output scratch and the output
/// buffer were sized at accept (up to `idle_buffer_retain`).
#[test]
fn first_compressed_send_after_warm_accept_allocates_nothing() {
    let msg = "the quick brown fox jumps over the lazy dog; ".repeat(40);
    for retain in [16 << 10, 64 << 10] {
        let (mut c, mut s) = handshake(true, retain);
        let (n, _, ()) = count(|| s.send_text(&msg).unwrap());
        assert_eq!(n, 0, "server, retain {retain}");
        let (n, _, ()) = count(|| c.send_text(&msg).unwrap());
        assert_eq!(n, 0, "client, retain {retain}");
        // And the peer decodes it.
        pump(&mut s, &mut c);
        match c.next_event() {
            Some(Event::Data { data, .. }) => assert_eq!(data, msg.as_bytes()),
            other => panic!("{other:?}"),
        }
    }
    let (_c, mut s) = handshake(false, 64 << 10);
    let (n, _, ()) = count(|| s.send_text(&msg).unwrap());
    assert!(n > 0, "cold: the compressor is created on first use");
}
