//! Library-level attack figures, before and after: `cargo run --release
//! --example bounds_report` runs each attack in a child process of its own
//! (so one that aborts or hangs is reported as such) and prints what the
//! connection held, measured with glibc's mallinfo2 (heap in use plus mmapped
//! blocks). It uses only API that older versions also have, so the same file
//! run against an older checkout gives the "before" column.

use std::io::Write;
use std::process::Command;
use std::time::{Duration, Instant};

use wsproto::*;

const ATTACKS: [&str; 12] = [
    "tib",
    "bare16",
    "pinned",
    "queued",
    "preaccept",
    "subprotocols",
    "pings",
    "cont",
    "idle",
    "nolimit",
    "nolimit1",
    "eof",
];

fn heap() -> usize {
    unsafe {
        let m = libc::mallinfo2();
        m.uordblks + m.hblkhd
    }
}
const KEY: [u8; 4] = [1, 2, 3, 4];
fn frame(first: u8, p: &[u8]) -> Vec<u8> {
    let mut f = vec![first];
    let n = p.len();
    if n < 126 {
        f.push(0x80 | n as u8)
    } else if n < 65536 {
        f.push(0x80 | 126);
        f.extend((n as u16).to_be_bytes())
    } else {
        f.push(0x80 | 127);
        f.extend((n as u64).to_be_bytes())
    }
    f.extend(KEY);
    f.extend(p.iter().enumerate().map(|(i, b)| b ^ KEY[i % 4]));
    f
}
fn compress(d: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::new(9));
    e.write_all(d).unwrap();
    e.flush().unwrap();
    let mut v = e.get_ref().clone();
    v.truncate(v.len() - 4);
    v
}
fn dcfg() -> Config {
    Config { deflate: Some(DeflateConfig::default()), ..Config::default() }
}
fn srv(c: Config, d: bool) -> Connection {
    Connection::frames_only(Role::Server, c, if d { Some(DeflateParams::default()) } else { None }, &[])
}
fn req(extra: &str) -> Vec<u8> {
    format!("GET / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n{extra}\r\n").into_bytes()
}

fn main() {
    let Some(which) = std::env::args().nth(1) else {
        let me = std::env::current_exe().expect("own path");
        for attack in ATTACKS {
            let mut child = Command::new(&me).arg(attack).stdout(std::process::Stdio::piped()).spawn().expect("spawn");
            let start = Instant::now();
            let status = loop {
                if let Some(s) = child.try_wait().expect("wait") {
                    break Some(s);
                }
                if start.elapsed() > Duration::from_secs(20) {
                    child.kill().ok();
                    break None;
                }
                std::thread::sleep(Duration::from_millis(20));
            };
            let out = child.wait_with_output().expect("output");
            let line = String::from_utf8_lossy(&out.stdout).trim().to_string();
            match status {
                None => println!("{attack:<13} hung (killed after 20 s)"),
                Some(s) if !s.success() => println!("{attack:<13} died: {s}"),
                Some(_) => println!("{attack:<13} {line}"),
            }
        }
        return;
    };
    let b = heap();
    match which.as_str() {
        "bare16" => {
            let mut s = srv(Config::default(), false);
            let mut h = vec![0x82, 0xff];
            h.extend((16u64 << 20).to_be_bytes());
            h.extend(KEY);
            s.receive(&h).unwrap();
            println!("bare header (default limits): {} KiB held", (heap() - b) / 1024);
        }
        "pinned" => {
            let bomb = compress(&vec![0u8; (16 << 20) - 1024]);
            let mut s = srv(dcfg(), true);
            s.receive(&frame(0xc2, &bomb)).unwrap();
            while s.next_event().is_some() {}
            println!(
                "pinned after a {} B compressed 16 MiB message was taken: {} KiB",
                bomb.len(),
                (heap() - b) / 1024
            );
        }
        "queued" => {
            let f = frame(0xc1, &compress(&vec![b'x'; 1 << 20]));
            let mut input = Vec::new();
            while input.len() + f.len() <= 64 << 10 {
                input.extend(&f);
            }
            let mut s = srv(dcfg(), true);
            let b = heap();
            s.receive(&input).unwrap();
            let after = heap() - b;
            let mut peak = after;
            let mut n = 0;
            while s.next_event().is_some() {
                n += 1;
                peak = peak.max(heap() - b);
            }
            println!(
                "64 KiB input of {n} compressed 1 MiB messages: {} KiB after receive, peak {} KiB",
                after / 1024,
                peak / 1024
            );
        }
        "preaccept" => {
            let mut s = Connection::server(Config::default());
            s.receive(&req("")).unwrap();
            let chunk: Vec<u8> = frame(0x82, &[7u8; 1000]).into_iter().cycle().take(64 << 10).collect();
            let b = heap();
            let mut fed = 0usize;
            for _ in 0..1024 {
                if s.receive(&chunk).is_err() {
                    break;
                }
                fed += chunk.len();
            }
            println!("pre-accept: fed {} MiB, held {} KiB", fed >> 20, (heap() - b) / 1024);
        }
        "subprotocols" => {
            let p = vec!["a"; 7000].join(",");
            let b = heap();
            let mut s = Connection::server(Config::default());
            s.receive(&req(&format!("Sec-WebSocket-Protocol: {p}\r\n"))).unwrap();
            while s.next_event().is_some() {}
            s.accept(Some("a"), &[]).unwrap();
            let n = s.output().len();
            s.consume_output(n);
            while s.next_event().is_some() {}
            println!("answered 7000-subprotocol request: {} KiB held", (heap() - b) / 1024);
        }
        "pings" => {
            let mut s = srv(Config::default(), false);
            let mut flood = Vec::new();
            for i in 0..1_000_000u32 {
                flood.extend(frame(0x89, &i.to_be_bytes()));
            }
            let b = heap();
            for p in flood.chunks(64 << 10) {
                if s.receive(p).is_err() {
                    break;
                }
                while s.next_event().is_some() {}
            }
            println!(
                "1M pings, output never written: output {} KiB, heap {} KiB",
                s.output().len() / 1024,
                (heap() - b) / 1024
            );
        }
        "cont" => {
            let mut s = srv(Config::default(), false);
            let mut input = frame(0x02, b"x");
            let c = frame(0x00, b"x");
            for _ in 0..999_998 {
                input.extend(&c);
            }
            input.extend(frame(0x80, b"x"));
            let b = heap();
            let t = Instant::now();
            let mut peak = 0;
            for p in input.chunks(64 << 10) {
                s.receive(p).unwrap();
                peak = peak.max(heap() - b);
                while s.next_event().is_some() {}
            }
            println!(
                "1M 1-byte continuation frames ({} MB): {:.1} ns per attacker byte, peak {} KiB",
                input.len() / 1000000,
                t.elapsed().as_nanos() as f64 / input.len() as f64,
                peak / 1024
            );
        }
        "idle" => {
            let n = 200;
            let mut v = Vec::new();
            let b = heap();
            for _ in 0..n {
                let mut s = srv(Config::default(), false);
                s.receive(&frame(0x82, &vec![3u8; 1000])).unwrap();
                while s.next_event().is_some() {}
                s.send_binary(&[3u8; 1000]).unwrap();
                let k = s.output().len();
                s.consume_output(k);
                v.push(s);
            }
            println!(
                "idle after one 1000-byte echo: {:.2} KiB per connection (incl. the struct)",
                (heap() - b) as f64 / n as f64 / 1024.0
            );
        }
        "nolimit" => {
            let cfg = Config {
                max_message_size: u64::MAX,
                max_frame_size: u64::MAX,
                deflate: Some(DeflateConfig::default()),
                ..Config::default()
            };
            let mut s = srv(cfg, true);
            s.receive(&frame(0xc1, &compress(b"hello hello hello"))).unwrap();
            let e = s.next_event().map(|e| format!("{e:?}"));
            println!("no-limit deflate: {e:?}");
        }
        "nolimit1" => {
            let cfg =
                Config { max_message_size: u64::MAX - 1, deflate: Some(DeflateConfig::default()), ..Config::default() };
            let mut s = srv(cfg, true);
            s.receive(&frame(0xc1, &compress(b"hello hello hello"))).unwrap();
            let e = s.next_event().map(|e| format!("{e:?}"));
            println!("UINT64_MAX-1 deflate: {e:?}");
        }
        "tib" => {
            let cfg = Config { max_message_size: u64::MAX, max_frame_size: u64::MAX, ..Config::default() };
            let mut s = srv(cfg, false);
            let mut h = vec![0x82, 0xff];
            h.extend((1u64 << 40).to_be_bytes());
            h.extend(KEY);
            s.receive(&h).unwrap();
            println!("1 TiB header: {} KiB held", (heap() - b) / 1024);
        }
        "eof" => {
            let mut s = Connection::server(Config::default());
            s.receive(&req("")).unwrap();
            s.receive_eof().unwrap();
            while s.next_event().is_some() {}
            let r = s.accept(None, &[]);
            println!(
                "accept after EOF: {:?}, state {:?}, wants_close {}",
                r.map_err(|e| e.kind),
                s.state(),
                s.wants_close_transport()
            );
        }
        other => panic!("unknown attack {other}"),
    }
}
