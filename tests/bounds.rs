//! Resource bounds under attack (issue "Bounded by construction"): each test
//! is one way a peer tried to abort the process, pin memory or make a
//! connection hold far more than it was sent, with the bound asserted.

mod common;

use std::io::Write;

use common::*;
use wsproto::{CloseSource, Config, Connection, DeflateConfig, DeflateParams, ErrorKind, Role, State};

const KIB: usize = 1 << 10;
const MIB: usize = 1 << 20;

fn no_limits(deflate: bool) -> Config {
    Config {
        max_frame_size: u64::MAX,
        max_message_size: u64::MAX,
        memory_budget: u64::MAX,
        deflate: deflate.then(DeflateConfig::default),
        ..Config::default()
    }
}

fn server(cfg: Config, deflate: bool) -> Connection {
    Connection::frames_only(Role::Server, cfg, deflate.then(DeflateParams::default), &[])
}

/// Raw deflate of `data` with the 00 00 ff ff tail stripped (RFC 7692 §7.2.1).
fn compress(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::new(9));
    e.write_all(data).unwrap();
    e.flush().unwrap();
    let mut v = e.get_ref().clone();
    v.truncate(v.len() - 4);
    v
}

/// A bare header: FIN binary, masked, 64-bit length `len`, no payload yet.
fn bare_header(len: u64) -> Vec<u8> {
    let mut h = vec![0x82, 0xff];
    h.extend_from_slice(&len.to_be_bytes());
    h.extend_from_slice(&KEY);
    h
}

fn request(extra: &str) -> Vec<u8> {
    format!(
        "GET /chat HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n{extra}\r\n"
    )
    .into_bytes()
}

#[test]
fn a_claimed_length_reserves_nothing_even_without_limits() {
    // On the old receive path this header made the process abort trying to
    // allocate 1 TiB; with default limits each bare header reserved 16 MiB.
    for (cfg, claimed) in [(no_limits(false), 1 << 40), (Config::default(), 16 << 20)] {
        let mut s = server(cfg, false);
        let before = s.memory_used();
        s.receive(&bare_header(claimed)).unwrap();
        assert!(drain(&mut s).is_empty());
        assert!(s.memory_used() - before < KIB, "{} bytes held after a 14-byte header", s.memory_used());
    }
    let mut s = server(no_limits(false), false);
    s.receive(&bare_header(1 << 40)).unwrap();
    s.receive(&[0x55; 1000]).unwrap();
    assert!(s.memory_used() < 4 * KIB, "memory follows the bytes: {} for 1000 bytes", s.memory_used());
}

#[test]
fn no_limit_with_deflate_delivers_instead_of_hanging_or_failing() {
    // UINT64_MAX overflowed the inflate limit: a hang, or a false 1009 for
    // values just below it.
    for max in [u64::MAX, u64::MAX - 1, u64::MAX / 2, 1 << 63] {
        let cfg = Config { max_message_size: max, ..no_limits(true) };
        let mut s = server(cfg, true);
        let text = "abc".repeat(10_000);
        s.receive(&raw_frame(0xc1, &compress(text.as_bytes()), Some(KEY))).unwrap();
        assert_eq!(drain(&mut s), vec![Ev::text(&text)], "max_message_size {max}");
    }
}

#[test]
fn a_taken_message_is_released_by_the_next_poll() {
    // 16 KiB of compressed zeros inflating to 16 MiB used to stay allocated
    // until the next receive: a peer going quiet pinned ~17 MiB.
    let bomb = compress(&vec![0u8; 16 * MIB - 1024]);
    assert!(bomb.len() < 20 * KIB);
    let mut s = server(Config { deflate: Some(DeflateConfig::default()), ..Config::default() }, true);
    s.receive(&raw_frame(0xc2, &bomb, Some(KEY))).unwrap();
    let ev = s.next_event().expect("message");
    assert!(matches!(ev, wsproto::Event::Data { data, .. } if data.len() == 16 * MIB - 1024));
    assert!(s.next_event().is_none());
    let held = s.memory_used();
    assert!(held < 256 * KIB, "{held} bytes held after the message was taken (deflate state included)");
}

#[test]
fn one_read_of_compressed_messages_does_not_queue_all_of_them_inflated() {
    // 64 KiB of input inflating to ~63 MiB used to become 63 MiB of queued
    // events in one receive call.
    let one = compress(&vec![b'x'; MIB]);
    let frame = raw_frame(0xc1, &one, Some(KEY));
    let mut input = Vec::new();
    while input.len() + frame.len() <= 64 * KIB {
        input.extend_from_slice(&frame);
    }
    let messages = input.len() / frame.len();
    assert!(messages >= 40, "{messages} messages in 64 KiB");
    let mut s = server(Config { deflate: Some(DeflateConfig::default()), ..Config::default() }, true);
    s.receive(&input).unwrap();
    let mut peak = s.memory_used();
    assert!(!s.wants_read(), "parsing paused with many bytes of events waiting");
    let mut got = 0;
    while let Some(e) = s.next_event() {
        assert!(matches!(e, wsproto::Event::Data { data, .. } if data.len() == MIB));
        got += 1;
        peak = peak.max(s.memory_used());
    }
    assert_eq!(got, messages, "nothing lost");
    assert!(peak < 4 * MIB, "peak {peak} bytes for {messages} MiB of events");
    assert!(s.wants_read());
}

#[test]
fn input_before_accept_is_bounded_and_nothing_is_lost() {
    let mut s = Connection::server(Config::default());
    s.receive(&request("")).unwrap();
    assert!(!s.wants_read(), "the request waits for an answer");
    let msg = client_frame(true, 2, &[7u8; 1000]);
    let chunk: Vec<u8> = msg.iter().copied().cycle().take(msg.len() * 64).collect();
    let mut fed = 0;
    let err = loop {
        match s.receive(&chunk) {
            Ok(()) => fed += 1,
            Err(e) => break e,
        }
        assert!(fed < 10_000, "1 GiB fed would be held");
    };
    assert_eq!(err.kind, ErrorKind::InputFull);
    let held = s.memory_used();
    assert!(held <= 256 * KIB + 32 * KIB, "{held} bytes held before accept");
    assert!(matches!(s.next_event(), Some(wsproto::Event::Request(_))));
    s.accept(None, &[]).unwrap();
    let mut messages = drain(&mut s).len();
    s.receive(&chunk).unwrap();
    messages += drain(&mut s).len();
    assert_eq!(messages, (fed + 1) * 64, "every message fed before and after accept arrives");
}

#[test]
fn input_fed_while_paused_is_refused_past_its_limit_and_taken_later() {
    let cfg = Config { max_buffered_input: 64 * KIB, ..Config::default() };
    let mut s = server(cfg, false);
    let frame = client_frame(true, 2, &[1u8; 100]);
    let batch: Vec<u8> = frame.iter().copied().cycle().take(frame.len() * 5000).collect();
    s.receive(&batch).unwrap(); // 5000 events: parsing pauses at 4096
    assert!(!s.wants_read());
    let mut refused = 0;
    let mut taken = 1;
    for _ in 0..10 {
        match s.receive(&batch[..10 * frame.len()]) {
            Ok(()) => taken += 1,
            Err(e) if e.kind == ErrorKind::InputFull => refused += 1,
            Err(e) => panic!("{e}"),
        }
    }
    assert!(refused > 0 && s.memory_used() < 2 * MIB);
    let got = drain(&mut s).len();
    assert_eq!(got, 5000 + (taken - 1) * 10);
}

#[test]
fn an_answered_request_is_not_kept() {
    // A 16 KiB request listing 8,000 subprotocols kept ~208 KiB per idle
    // connection for its whole life.
    let protocols = vec!["a"; 7000].join(",");
    let mut s = Connection::server(Config::default());
    s.receive(&request(&format!("Sec-WebSocket-Protocol: {protocols}\r\n"))).unwrap();
    match s.next_event() {
        Some(wsproto::Event::Request(r)) => assert_eq!(r.subprotocols().count(), 7000),
        other => panic!("{:?}", other.map(own)),
    }
    assert!(s.memory_used() > 50 * KIB, "{}", s.memory_used());
    s.accept(Some("a"), &[]).unwrap();
    let n = s.output().len();
    s.consume_output(n);
    assert!(s.next_event().is_none());
    assert!(s.memory_used() < 4 * KIB, "{} bytes kept after accept", s.memory_used());
}

#[test]
fn accept_or_reject_after_end_of_input_is_refused() {
    for take_close in [true, false] {
        for accept in [true, false] {
            let mut s = Connection::server(Config::default());
            s.receive(&request("")).unwrap();
            s.receive_eof().unwrap();
            if take_close {
                let evs = drain(&mut s);
                assert_eq!(evs.last(), Some(&Ev::close(1006, CloseSource::Eof)));
            }
            let r = if accept { s.accept(None, &[]) } else { s.reject(400, &[], false) };
            assert_eq!(r.unwrap_err().kind, ErrorKind::WrongState);
            assert!(s.output().is_empty());
            if take_close {
                assert_eq!(s.state(), State::Closed);
                assert!(s.wants_close_transport());
            }
        }
    }
}

#[test]
fn pings_from_a_peer_that_never_reads_coalesce() {
    let cfg = Config { output_high_water: 4 * KIB, ..Config::default() };
    let mut s = server(cfg, false);
    let mut flood = Vec::new();
    for i in 0..100_000u32 {
        flood.extend(client_frame(true, 9, &i.to_be_bytes()));
    }
    for piece in flood.chunks(16 * KIB) {
        // An event loop that ignores wants_read and never writes.
        if s.receive(piece).is_err() {
            break;
        }
        while s.next_event().is_some() {}
    }
    assert!(s.output().len() <= 4 * KIB + 131, "output grew to {}", s.output().len());
    assert!(s.memory_used() < 512 * KIB, "{} bytes held", s.memory_used());
    assert!(!s.wants_read(), "output backed up: stop reading");
    // Written out: the latest ping of those parsed is answered last.
    let mut written = s.output().to_vec();
    let n = s.output().len();
    s.consume_output(n);
    written.extend_from_slice(s.output());
    let frames = parse_frames(&written);
    assert!(frames.iter().all(|f| f.opcode == 0xA));
    let last = frames.last().unwrap();
    let last_ping = u32::from_be_bytes(last.payload[..4].try_into().unwrap());
    assert!(frames.len() < 1000 && last_ping > 0, "{} pongs, last answers ping {last_ping}", frames.len());
}

#[test]
fn a_million_one_byte_continuation_frames_stay_bounded() {
    let mut s = server(Config::default(), false);
    let mut input = client_frame(false, 2, b"x");
    let cont = client_frame(false, 0, b"x");
    for _ in 0..999_998 {
        input.extend_from_slice(&cont);
    }
    input.extend(client_frame(true, 0, b"x"));
    let mut peak = 0;
    let mut messages = Vec::new();
    for piece in input.chunks(64 * KIB) {
        s.receive(piece).unwrap();
        peak = peak.max(s.memory_used());
        messages.extend(drain(&mut s));
    }
    assert_eq!(messages, vec![Ev::binary(&vec![b'x'; 1_000_000])]);
    assert!(peak < 3 * MIB, "peak {peak} for a 1 MB message");
}

#[test]
fn budget_below_a_message_fails_it_with_1009() {
    let cfg = Config { memory_budget: 256 * KIB as u64, ..Config::default() };
    let mut s = server(cfg, false);
    let big = client_frame(true, 2, &vec![0u8; 512 * KIB]);
    for piece in big.chunks(16 * KIB) {
        s.receive(piece).unwrap();
        // The close reporting it may take a few hundred bytes more.
        assert!(s.memory_used() <= 256 * KIB + 512, "{} over the budget", s.memory_used());
    }
    match drain(&mut s).as_slice() {
        [Ev::Close { code: 1009, reason, source: CloseSource::Violation }] => assert!(reason.contains("budget")),
        other => panic!("{other:?}"),
    }
    // Compressed, too.
    let cfg = Config { memory_budget: 256 * KIB as u64, deflate: Some(DeflateConfig::default()), ..Config::default() };
    let mut s = server(cfg, true);
    s.receive(&raw_frame(0xc2, &compress(&vec![0u8; 4 * MIB]), Some(KEY))).unwrap();
    assert!(matches!(drain(&mut s).as_slice(), [Ev::Close { code: 1009, .. }]));
}

#[test]
fn an_idle_connection_after_a_message_holds_little() {
    for size in [10, 1000, 100 * KIB, 4 * MIB] {
        let mut s = server(Config::default(), false);
        s.receive(&client_frame(true, 2, &vec![3u8; size])).unwrap();
        assert_eq!(drain(&mut s).len(), 1);
        s.send_binary(&vec![3u8; size]).unwrap();
        let n = s.output().len();
        s.consume_output(n);
        assert!(s.memory_used() <= 2 * KIB + 256, "{} bytes idle after a {size}-byte echo", s.memory_used());
    }
}

#[test]
fn a_failing_rng_during_receive_is_reported_and_the_connection_closes() {
    let cfg = Config { rng: Some(Box::new(|_: &mut [u8]| false)), ..Config::default() };
    let mut c = Connection::frames_only(Role::Client, cfg, None, &[]);
    // A ping: the automatic pong cannot be masked; receive says so.
    let err = c.receive(&server_frame(true, 9, b"p")).unwrap_err();
    assert_eq!(err.kind, ErrorKind::Rng);
    assert_eq!(drain(&mut c), vec![Ev::Ping(b"p".to_vec())]);
    // A close: taking it cannot queue the reply; that is reported, and the
    // connection is closed all the same.
    c.receive(&server_frame(true, 8, &close_payload(1000, ""))).unwrap();
    assert!(matches!(c.next_event().map(own), Some(Ev::Close { code: 1000, .. })));
    assert_eq!(c.take_deferred_error().map(|e| e.kind), Some(ErrorKind::Rng));
    assert_eq!(c.state(), State::Closed);
    assert!(c.wants_close_transport());
}

#[test]
fn end_of_input_while_paused_comes_after_the_held_frames() {
    let mut s = server(Config::default(), false);
    let frame = client_frame(true, 2, &[9u8; 10]);
    let batch: Vec<u8> = frame.iter().copied().cycle().take(frame.len() * 5000).collect();
    s.receive(&batch).unwrap();
    s.receive_eof().unwrap();
    let evs = drain(&mut s);
    assert_eq!(evs.len(), 5001);
    assert_eq!(evs.last(), Some(&Ev::close(1006, CloseSource::Eof)));
    assert_eq!(s.state(), State::Closed);
}

#[test]
fn input_held_for_backed_up_output_is_parsed_by_polling_after_the_write() {
    // A loop that reads only while wants_read, polls, echoes and writes
    // must not stall with frames held back (the peer sent them all and waits).
    let cfg = Config { output_high_water: 4 * KIB, ..Config::default() };
    let mut s = server(cfg, false);
    let frame = client_frame(true, 2, &[5u8; 1000]);
    let all: Vec<u8> = frame.iter().copied().cycle().take(frame.len() * 100).collect();
    let mut input: &[u8] = &all;
    let mut echoed = 0;
    for _ in 0..1000 {
        if s.wants_read() && !input.is_empty() {
            let n = input.len().min(16 * KIB);
            s.receive(&input[..n]).unwrap();
            input = &input[n..];
        }
        while let Some(e) = s.next_event() {
            if let wsproto::Event::Data { data, .. } = e {
                let data = data.to_vec();
                s.send_binary(&data).unwrap();
                echoed += 1;
            }
        }
        let n = s.output().len();
        s.consume_output(n);
        if input.is_empty() && s.wants_read() {
            break;
        }
    }
    assert_eq!(echoed, 100, "every message echoed; none stuck in held input");
}

#[test]
fn input_fed_while_output_is_backed_up_is_held_up_to_its_limit() {
    // wants_read is false while output waits; a caller feeding anyway must
    // meet the max_buffered_input bound, not have its whole read kept.
    let cfg = Config { output_high_water: 4 * KIB, max_buffered_input: 64 * KIB, ..Config::default() };
    let mut s = server(cfg, false);
    s.send_binary(&[0u8; 8 * KIB]).unwrap();
    assert!(!s.wants_read());
    let frame = client_frame(true, 2, &[1u8; 100]);
    let read: Vec<u8> = frame.iter().copied().cycle().take(frame.len() * 2000).collect();
    assert_eq!(s.receive(&read).unwrap_err().kind, ErrorKind::InputFull, "a 208 KB read while paused");
    s.receive(&read[..32 * KIB]).unwrap();
    assert!(s.buffered_input() <= 64 * KIB);
    // Written out, the held frames are parsed by polling, nothing lost.
    let n = s.output().len();
    s.consume_output(n);
    let got = drain(&mut s).len();
    assert_eq!(got, 32 * KIB / frame.len());
}

#[test]
fn small_messages_after_a_large_one_do_not_regrow_its_buffer() {
    let mut s = server(Config::default(), false);
    s.receive(&client_frame(true, 2, &vec![1u8; 4 * MIB])).unwrap();
    assert_eq!(drain(&mut s).len(), 1);
    for _ in 0..3 {
        s.receive(&client_frame(true, 2, &[2u8; 10])).unwrap();
        assert!(s.memory_used() < 128 * KIB, "{} held for a 10-byte message", s.memory_used());
        assert_eq!(drain(&mut s).len(), 1);
    }
}

#[test]
fn a_rejection_body_from_a_caller_that_never_polls_stays_bounded() {
    // A rejection body until end of input is decoded into events as it
    // arrives; before, a client that kept reading without taking them held
    // the whole body in its arena (outside the memory budget).
    let mut c = Connection::client(Config::default());
    c.send_request("h", "/", &[], &[]).unwrap();
    c.consume_output(c.output_len());
    c.receive(b"HTTP/1.1 403 Forbidden\r\n\r\n").unwrap();
    assert_eq!(c.state(), State::Rejecting);
    let chunk = vec![b'x'; 64 * KIB];
    let (mut fed, mut refused) = (0, false);
    for _ in 0..64 {
        if !c.wants_read() {
            assert_eq!(c.receive(&chunk).unwrap_err().kind, ErrorKind::InputFull);
            refused = true;
            break;
        }
        c.receive(&chunk).unwrap();
        fed += chunk.len();
    }
    assert!(refused, "still reading after {fed} bytes nobody took");
    assert!(c.memory_used() < 2 * MIB + 64 * KIB, "{} bytes held", c.memory_used());
    let mut got = 0;
    let mut saw_reject = false;
    while let Some(e) = c.next_event() {
        match e {
            wsproto::Event::Reject(_) => saw_reject = true,
            wsproto::Event::RejectData { data, body_finished } => {
                assert!(!body_finished);
                got += data.len();
            }
            e => panic!("{e:?}"),
        }
    }
    assert!(saw_reject);
    assert_eq!(got, fed, "nothing lost");
    assert!(c.wants_read());
    c.receive(&chunk).unwrap();
    c.receive_eof().unwrap();
    let mut tail = 0;
    while let Some(e) = c.next_event() {
        if let wsproto::Event::RejectData { data, .. } = e {
            tail += data.len();
        }
    }
    assert_eq!(tail, chunk.len());
    assert_eq!(c.state(), State::Closed);
}

#[test]
fn one_read_of_plain_messages_queues_about_a_mib_then_pauses_on_both_paths() {
    // The byte bound on waiting events (MAX_QUEUED_BYTES, 1 MiB) for
    // uncompressed messages, which the receive fast path takes: 4 MiB fed
    // in one call must not become 4 MiB of queued events.
    let msg = vec![7u8; 48 * KIB]; // 16-bit length: the fast path's kind of frame
    let frame = raw_frame(0x82, &msg, Some(KEY));
    let input: Vec<u8> = std::iter::repeat(frame).take(4 * MIB / (48 * KIB)).flatten().collect();
    let total = input.len() / (48 * KIB + 8);
    for fast in [true, false] {
        let mut s = server(Config::default(), false);
        s.set_receive_fast_path(fast);
        s.receive(&input).unwrap();
        assert!(!s.wants_read(), "fast {fast}: parsing paused");
        let waiting = s.pending_events();
        assert!((1..=MIB / (48 * KIB) + 1).contains(&waiting), "fast {fast}: {waiting} messages queued at once");
        let mut got = 0;
        while let Some(e) = s.next_event() {
            assert!(matches!(e, wsproto::Event::Data { data, .. } if data == &msg[..]));
            got += 1;
            assert!(s.pending_events() <= MIB / (48 * KIB) + 1, "fast {fast}: {} waiting", s.pending_events());
        }
        assert_eq!(got, total, "fast {fast}: nothing lost");
        assert!(s.wants_read());
    }
}

#[test]
fn trailing_bytes_of_a_pre_parsed_request_are_bounded_like_receive() {
    let headers: [(&[u8], &[u8]); 5] = [
        (b"Host", b"h"),
        (b"Upgrade", b"websocket"),
        (b"Connection", b"Upgrade"),
        (b"Sec-WebSocket-Key", b"dGhlIHNhbXBsZSBub25jZQ=="),
        (b"Sec-WebSocket-Version", b"13"),
    ];
    let early = client_frame(true, 2, &vec![5u8; 300 * KIB]);
    let mut s = Connection::server(Config::default());
    let err = s.receive_request(b"GET", b"/", &headers, &early).unwrap_err();
    assert_eq!(err.kind, ErrorKind::InputFull);
    assert!(s.memory_used() < 64 * KIB, "{} bytes held", s.memory_used());
    assert!(matches!(s.next_event(), Some(wsproto::Event::Request(_))), "the request itself was taken");
    s.accept(None, &[]).unwrap();
    s.receive(&early).unwrap();
    assert!(matches!(s.next_event(), Some(wsproto::Event::Data { data, .. }) if data.len() == 300 * KIB));
}
