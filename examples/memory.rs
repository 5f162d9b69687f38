//! Heap per connection, with and without permessage-deflate, per mode.
//!
//! `cargo run --release --example memory` creates 200 server connections per
//! mode, passes one 1 KB text message each way through each (so the inflater
//! and the compressor are used), leaves them idle, and prints:
//!
//! - `total`: glibc's in-use heap delta (mallinfo2) per idle connection;
//! - `zlib`: the zlib state a server's codec holds once idle, exactly
//!   (`Deflate::heap_bytes`, its allocations are counted), for the same
//!   exchange run through a standalone codec;
//! - `peak zlib`: the most zlib state held during the exchange.
//!
//! Modes: no compression; no context takeover both ways (states freed after
//! each message); context takeover with 15/12/9-bit windows and memLevel 8
//! or 1; and warm-up (states created at negotiation and kept).
//!
//! Then the price of freeing: time per 1 KB message compressed by a server
//! codec and inflated by a client codec, for no context takeover with and
//! without warm-up, and for context takeover (a figure, not a test).

use std::time::Instant;

use wsproto::deflate::Deflate;
use wsproto::{Config, Connection, DeflateConfig, DeflateParams, Role};

const N: usize = 200;

fn heap_in_use() -> usize {
    // SAFETY: mallinfo2 only reads allocator statistics.
    unsafe { libc::mallinfo2().uordblks }
}

struct Mode {
    label: &'static str,
    /// None: no compression.
    deflate: Option<(DeflateParams, DeflateConfig)>,
}

fn mode(label: &'static str, nct: bool, bits: u8, mem_level: u8, warm_up: bool) -> Mode {
    let params = DeflateParams {
        server_no_context_takeover: nct,
        client_no_context_takeover: nct,
        server_max_window_bits: bits,
        client_max_window_bits: bits,
    };
    let cfg = DeflateConfig { max_window_bits: bits, mem_level, warm_up, ..DeflateConfig::default() };
    Mode { label, deflate: Some((params, cfg)) }
}

fn config(m: &Mode) -> Config {
    Config { deflate: m.deflate.as_ref().map(|(_, c)| c.clone()), ..Config::default() }
}

/// One message each way through a standalone server codec: (idle, peak) zlib bytes.
fn zlib_share(m: &Mode, text: &[u8]) -> (usize, usize) {
    let Some((params, cfg)) = &m.deflate else { return (0, 0) };
    let mut server = Deflate::new(*params, true, cfg);
    let mut client = Deflate::new(*params, false, cfg);
    let mut peak = server.heap_bytes();
    let mut wire = Vec::new();
    client.deflate(text, true, &mut wire).unwrap();
    let mut out = Vec::new();
    server.inflate(&wire, &mut out, usize::MAX).unwrap();
    peak = peak.max(server.heap_bytes());
    server.inflate_finish(&mut out, usize::MAX).unwrap();
    assert_eq!(out, text);
    wire.clear();
    server.deflate(text, false, &mut wire).unwrap();
    peak = peak.max(server.heap_bytes());
    server.deflate(&[], true, &mut wire).unwrap();
    (server.heap_bytes(), peak)
}

fn main() {
    let text = "x".repeat(1000);
    let modes = [
        Mode { label: "no compression", deflate: None },
        mode("deflate, no context takeover", true, 15, 8, false),
        mode("deflate, takeover, 15 bits, memLevel 8", false, 15, 8, false),
        mode("deflate, takeover, 12 bits, memLevel 8", false, 12, 8, false),
        mode("deflate, takeover,  9 bits, memLevel 8", false, 9, 8, false),
        mode("deflate, takeover, 15 bits, memLevel 1", false, 15, 1, false),
        mode("deflate, takeover, 12 bits, memLevel 1", false, 12, 1, false),
        mode("deflate, takeover,  9 bits, memLevel 1", false, 9, 1, false),
        mode("deflate, warm-up, no context takeover", true, 15, 8, true),
    ];
    println!(
        "{:<42} {:>10} {:>10} {:>10}",
        "mode (idle after one 1 KB message each way)", "total", "zlib", "peak zlib"
    );
    for m in &modes {
        let before = heap_in_use();
        let mut servers = Vec::with_capacity(N);
        for _ in 0..N {
            let params = m.deflate.as_ref().map(|(p, _)| *p);
            let mut server = Connection::frames_only(Role::Server, config(m), params, &[]);
            let mut client = Connection::frames_only(Role::Client, config(m), params, &[]);
            client.send_text(&text).unwrap();
            server.receive(client.output()).unwrap();
            while server.next_event().is_some() {}
            server.send_text(&text).unwrap();
            let n = server.output().len();
            server.consume_output(n);
            servers.push(server);
        }
        let total = heap_in_use().saturating_sub(before) as f64 / N as f64 / 1024.0;
        let (zlib, peak) = zlib_share(m, text.as_bytes());
        println!(
            "{:<42} {:>6.1} KiB {:>6.1} KiB {:>6.1} KiB",
            m.label,
            total,
            zlib as f64 / 1024.0,
            peak as f64 / 1024.0
        );
    }
    println!();
    println!("{:<42} {:>10}", "time per 1 KB message (compress + inflate)", "");
    for (label, nct, warm_up) in [
        ("no context takeover (states freed)", true, false),
        ("no context takeover, warm-up", true, true),
        ("context takeover", false, false),
    ] {
        let m = mode(label, nct, 15, 8, warm_up);
        let (params, cfg) = m.deflate.as_ref().unwrap();
        let mut server = Deflate::new(*params, true, cfg);
        let mut client = Deflate::new(*params, false, cfg);
        let (mut wire, mut out) = (Vec::with_capacity(4096), Vec::with_capacity(4096));
        let rounds = 2000;
        let start = Instant::now();
        for _ in 0..rounds {
            wire.clear();
            out.clear();
            server.deflate(text.as_bytes(), true, &mut wire).unwrap();
            client.inflate(&wire, &mut out, usize::MAX).unwrap();
            client.inflate_finish(&mut out, usize::MAX).unwrap();
        }
        let us = start.elapsed().as_secs_f64() * 1e6 / rounds as f64;
        println!("{label:<42} {us:>6.1} µs");
    }
}
