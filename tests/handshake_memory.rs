//! Issue 8, "header slots": the memory a handshake takes follows the head
//! that arrived, never the configured `max_handshake_headers` (2^24 used to
//! cost 512 MiB per request, 2^40 aborted, SIZE_MAX panicked).
//!
//! A counting global allocator measures the largest single allocation and
//! the peak of live bytes while a server and a client parse a handshake.
//! Its own test binary, so no other test's allocations are counted.
// This binary installs its own global allocator, which the c-allocator
// feature's (the C hook, tested by tests/c/test_allocator.c) would clash with.
#![cfg(not(feature = "c-allocator"))]

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};

use wsproto::{Config, Connection, Event, State};

struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);
static LARGEST: AtomicUsize = AtomicUsize::new(0);

// SAFETY: forwards to the system allocator; only counts on the side.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let live = LIVE.fetch_add(layout.size(), Relaxed) + layout.size();
        PEAK.fetch_max(live, Relaxed);
        LARGEST.fetch_max(layout.size(), Relaxed);
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size(), Relaxed);
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

const REQUEST: &[u8] = b"GET /chat HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nOrigin: http://h\r\n\r\n";

/// (largest single allocation, peak live bytes above the start) while `f` runs.
fn measure(f: impl FnOnce()) -> (usize, usize) {
    let base = LIVE.load(Relaxed);
    PEAK.store(base, Relaxed);
    LARGEST.store(0, Relaxed);
    f();
    (LARGEST.load(Relaxed), PEAK.load(Relaxed) - base)
}

#[test]
fn a_huge_header_limit_costs_nothing_extra() {
    // One test function: the counters are global, tests would run in parallel.
    let mut baseline = None;
    for max in [64, 1 << 24, 1 << 40, usize::MAX] {
        let (largest, peak) = measure(|| {
            let mut s = Connection::server(Config { max_handshake_headers: max, ..Config::default() });
            s.receive(REQUEST).unwrap();
            assert!(matches!(s.next_event(), Some(Event::Request(_))));
            s.accept(None, &[]).unwrap();
            let resp = s.output().to_vec();

            let mut c = Connection::client(Config { max_handshake_headers: max, ..Config::default() });
            c.send_request("h", "/", &[], &[]).unwrap();
            let req = c.output().to_vec();
            c.consume_output(req.len());
            let mut s2 = Connection::server(Config::default());
            s2.receive(&req).unwrap();
            s2.next_event();
            s2.accept(None, &[]).unwrap();
            c.receive(s2.output()).unwrap();
            assert_eq!(c.state(), State::Open);
            drop(resp);
        });
        println!("max_handshake_headers {max}: largest allocation {largest} B, peak {peak} B");
        let (l0, p0) = *baseline.get_or_insert((largest, peak));
        // The default (64, on the stack) is the baseline; a huge limit may
        // only add the slots for the head's few lines.
        assert!(largest <= l0.max(4096), "{max}: largest allocation {largest} B (baseline {l0} B)");
        assert!(peak <= p0 + 4096, "{max}: peak {peak} B (baseline {p0} B)");
    }
}
