//! Heap per connection, with and without permessage-deflate, by window size.
//!
//! `cargo run --release --example memory` creates 200 server connections per
//! setting, passes one 1 KB message each way through each (so the inflater
//! and, lazily, the compressor exist), and prints glibc's in-use heap delta
//! (mallinfo2) per connection.

use wsproto::{Config, Connection, DeflateConfig, DeflateParams, Role};

const N: usize = 200;

fn heap_in_use() -> usize {
    // SAFETY: mallinfo2 only reads allocator statistics.
    unsafe { libc::mallinfo2().uordblks }
}

fn config(bits: Option<u8>) -> (Config, Option<DeflateParams>) {
    match bits {
        None => (Config::default(), None),
        Some(b) => {
            let params = DeflateParams { server_max_window_bits: b, client_max_window_bits: b, ..Default::default() };
            let cfg = Config {
                deflate: Some(DeflateConfig { max_window_bits: b, ..Default::default() }),
                ..Config::default()
            };
            (cfg, Some(params))
        }
    }
}

fn main() {
    let text = "x".repeat(1000);
    for bits in [None, Some(9), Some(12), Some(15)] {
        let before = heap_in_use();
        let mut servers = Vec::with_capacity(N);
        for _ in 0..N {
            let (server_cfg, params) = config(bits);
            let (client_cfg, _) = config(bits);
            let mut server = Connection::frames_only(Role::Server, server_cfg, params, &[]);
            let mut client = Connection::frames_only(Role::Client, client_cfg, params, &[]);
            client.send_text(&text).unwrap();
            server.receive(client.output()).unwrap();
            while server.next_event().is_some() {}
            server.send_text(&text).unwrap();
            let n = server.output().len();
            server.consume_output(n);
            servers.push(server);
        }
        let per_conn = (heap_in_use() - before) as f64 / N as f64 / 1024.0;
        let label = bits.map_or("no compression".to_string(), |b| format!("permessage-deflate, {b}-bit windows"));
        println!("{label:<36} {per_conn:>7.1} KiB per connection");
    }
}
