//! permessage-deflate through `Connection`: negotiation, the codec on the
//! wire, limits on inflated size.

mod common;
use common::*;
use std::io::Write;
use wsproto::{CloseSource, Config, Connection, DataKind, DeflateConfig, DeflateParams, Event, Role, State};

fn with_deflate(d: DeflateConfig) -> Config {
    Config { deflate: Some(d), max_message_size: 8 << 20, max_frame_size: 8 << 20, ..Config::default() }
}

fn pump(from: &mut Connection, to: &mut Connection) {
    let bytes = from.output().to_vec();
    from.consume_output(bytes.len());
    to.receive(&bytes).unwrap();
}

/// A client and a server after the handshake, with the events drained.
fn open_pair(client: DeflateConfig, server: DeflateConfig) -> (Connection, Connection) {
    let mut c = Connection::client(with_deflate(client));
    let mut s = Connection::server(with_deflate(server));
    c.send_request("h", "/", &[], &[]).unwrap();
    pump(&mut c, &mut s);
    assert!(matches!(drain(&mut s).as_slice(), [Ev::Request { .. }]));
    s.accept(None, &[]).unwrap();
    pump(&mut s, &mut c);
    let evs = drain(&mut c);
    assert!(matches!(evs.as_slice(), [Ev::Accept { .. }]), "{evs:?}");
    (c, s)
}

#[test]
fn default_negotiation_in_both_roles() {
    let (c, s) = open_pair(DeflateConfig::default(), DeflateConfig::default());
    let p = DeflateParams::default();
    assert_eq!(c.negotiated_deflate(), Some(p));
    assert_eq!(s.negotiated_deflate(), Some(p));
}

#[test]
fn accept_event_reports_the_negotiated_extension() {
    let mut c = Connection::client(with_deflate(DeflateConfig::default()));
    let mut s = Connection::server(with_deflate(DeflateConfig::default()));
    c.send_request("h", "/", &[], &[]).unwrap();
    let req = String::from_utf8(c.output().to_vec()).unwrap();
    assert!(req.contains("Sec-WebSocket-Extensions: permessage-deflate"), "{req}");
    pump(&mut c, &mut s);
    drain(&mut s);
    s.accept(None, &[]).unwrap();
    pump(&mut s, &mut c);
    match c.next_event() {
        Some(Event::Accept(a)) => assert!(a.extensions().starts_with("permessage-deflate"), "{}", a.extensions()),
        e => panic!("{e:?}"),
    }
}

#[test]
fn server_without_deflate_declines_and_client_goes_uncompressed() {
    let mut c = Connection::client(with_deflate(DeflateConfig::default()));
    let mut s = Connection::server(Config::default());
    c.send_request("h", "/", &[], &[]).unwrap();
    pump(&mut c, &mut s);
    drain(&mut s);
    s.accept(None, &[]).unwrap();
    pump(&mut s, &mut c);
    drain(&mut c);
    assert_eq!(c.negotiated_deflate(), None);
    c.send_text("plain").unwrap();
    assert_eq!(parse_frames(c.output())[0].rsv, 0);
}

fn message(len: usize, text: bool) -> Vec<u8> {
    let words = ["alpha ", "beta ", "gamma ", "δέλτα ", "€uro "];
    let mut v = Vec::with_capacity(len + 8);
    let mut i = 0usize;
    while v.len() < len {
        if text {
            v.extend_from_slice(words[i % words.len()].as_bytes());
        } else {
            v.push((i.wrapping_mul(31) ^ (i >> 3)) as u8);
        }
        i += 1;
    }
    v.truncate(len);
    if text {
        // Cut back to a code-point boundary, then pad with ASCII to `len`.
        while std::str::from_utf8(&v).is_err() {
            v.pop();
        }
        v.resize(len, b'.');
    }
    v
}

/// Sends `msg` from `a` to `b` (whole or in 3 fragments) and checks the echo.
fn round_trip(a: &mut Connection, b: &mut Connection, msg: &[u8], text: bool, fragmented: bool) {
    let kind = if text { DataKind::Text } else { DataKind::Binary };
    if fragmented && msg.len() >= 3 && (!text || msg.is_ascii()) {
        let third = msg.len() / 3;
        a.send_data(kind, &msg[..third], false, true).unwrap();
        a.send_data(kind, &msg[third..2 * third], false, true).unwrap();
        a.send_data(kind, &msg[2 * third..], true, true).unwrap();
    } else {
        a.send_data(kind, msg, true, true).unwrap();
    }
    let frames = parse_frames(a.output());
    assert_eq!(frames[0].rsv, 4, "first frame has RSV1");
    assert!(frames[1..].iter().all(|f| f.rsv == 0), "continuations have no RSV1");
    pump(a, b);
    let evs = drain(b);
    assert_eq!(evs.len(), 1, "{:?}", evs.iter().map(|e| format!("{e:?}").chars().take(80).collect::<String>()));
    match &evs[0] {
        Ev::Data { text: t, data, message_finished: true, .. } => {
            assert_eq!(*t, text);
            assert!(data == msg, "echo of {} bytes differs", msg.len());
        }
        e => panic!("{e:?}"),
    }
}

#[test]
fn round_trips_for_every_takeover_and_window_combination() {
    let sizes = [0usize, 1, 125, 64 << 10];
    for server_nct in [false, true] {
        for client_nct in [false, true] {
            for bits in [9u8, 10, 11, 12, 13, 14, 15] {
                let offer = DeflateParams {
                    server_no_context_takeover: server_nct,
                    client_no_context_takeover: client_nct,
                    server_max_window_bits: bits,
                    client_max_window_bits: 24 - bits,
                };
                let client = DeflateConfig { offers: vec![offer], ..DeflateConfig::default() };
                let (mut c, mut s) = open_pair(client, DeflateConfig::default());
                let p = c.negotiated_deflate().unwrap();
                assert_eq!(p, offer, "the server honours the offer");
                assert_eq!(s.negotiated_deflate(), Some(offer));
                for &len in &sizes {
                    for text in [true, false] {
                        for fragmented in [false, true] {
                            let m = message(len, text);
                            round_trip(&mut c, &mut s, &m, text, fragmented);
                            round_trip(&mut s, &mut c, &m, text, fragmented);
                        }
                    }
                }
            }
        }
    }
}

#[test]
fn four_mebibyte_messages() {
    let (mut c, mut s) = open_pair(DeflateConfig::default(), DeflateConfig::default());
    for text in [true, false] {
        let m = message(4 << 20, text);
        round_trip(&mut c, &mut s, &m, text, false);
        round_trip(&mut s, &mut c, &m, text, true);
    }
}

#[test]
fn context_takeover_makes_repeats_smaller_and_no_takeover_does_not() {
    let msg = message(2000, false);
    let sizes = |nct: bool| {
        let offer = DeflateParams { server_no_context_takeover: nct, ..DeflateParams::default() };
        let (_, mut s) =
            open_pair(DeflateConfig { offers: vec![offer], ..DeflateConfig::default() }, DeflateConfig::default());
        s.send_binary(&msg).unwrap();
        let first = s.output().len();
        s.consume_output(first);
        s.send_binary(&msg).unwrap();
        (first, s.output().len())
    };
    let (a, b) = sizes(false);
    assert!(b < a / 4, "second copy should be a back-reference: {a} then {b}");
    let (a, b) = sizes(true);
    assert_eq!(a, b, "without context takeover each message compresses alone");
}

#[test]
fn control_frames_threshold_and_opt_out_stay_uncompressed() {
    let cfg = DeflateConfig { threshold: 100, ..DeflateConfig::default() };
    let (_, mut s) = open_pair(DeflateConfig::default(), cfg);
    s.send_ping(b"ping").unwrap();
    s.send_text("short").unwrap();
    s.send_data(DataKind::Text, "x".repeat(500).as_bytes(), true, false).unwrap();
    s.send_text(&"y".repeat(500)).unwrap();
    s.send_close(Some(1000), "").unwrap();
    let rsv: Vec<u8> = parse_frames(s.output()).iter().map(|f| f.rsv).collect();
    assert_eq!(rsv, [0, 0, 0, 4, 0]);
}

fn compressed_frame(first: u8, payload: &[u8]) -> Vec<u8> {
    raw_frame(first, payload, Some(KEY))
}

fn raw_deflate(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::new(6));
    e.write_all(data).unwrap();
    e.flush().unwrap();
    let mut v = e.get_ref().clone();
    assert_eq!(&v[v.len() - 4..], [0, 0, 0xff, 0xff]);
    v.truncate(v.len() - 4);
    v
}

fn deflate_server(max_message: u64) -> Connection {
    let cfg = Config { deflate: Some(DeflateConfig::default()), max_message_size: max_message, ..Config::default() };
    Connection::frames_only(Role::Server, cfg, Some(DeflateParams::default()), &[])
}

#[test]
fn rfc7692_hello_examples_arrive_as_text() {
    let mut s = deflate_server(1 << 20);
    let hello = [0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00];
    let mut b = compressed_frame(0xc1, &hello);
    b.extend(compressed_frame(0xc1, &[0xf2, 0x00, 0x11, 0x00, 0x00]));
    // §7.2.3.2: the same message in two fragments.
    b.extend(compressed_frame(0x41, &hello[..3]));
    b.extend(compressed_frame(0x80, &hello[3..]));
    s.receive(&b).unwrap();
    assert_eq!(drain(&mut s), vec![Ev::text("Hello"), Ev::text("Hello"), Ev::text("Hello")]);
}

#[test]
fn decompression_bomb_is_refused_with_1009_without_inflating_it() {
    // 1 GiB of zeros deflates to about 1 MiB.
    let mut e = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::new(9));
    let zeros = vec![0u8; 1 << 20];
    for _ in 0..1024 {
        e.write_all(&zeros).unwrap();
    }
    e.flush().unwrap();
    let mut bomb = e.get_ref().clone();
    bomb.truncate(bomb.len() - 4);
    assert!(bomb.len() < 2 << 20, "bomb is {} bytes", bomb.len());
    let limit = 16 << 20;
    let mut s = deflate_server(limit);
    let frame = compressed_frame(0xc2, &bomb);
    let mut peak = 0;
    for chunk in frame.chunks(64 << 10) {
        s.receive(chunk).unwrap();
        peak = peak.max(s.buffered_input());
        if s.state() == State::Closed {
            break;
        }
    }
    let evs = drain(&mut s);
    assert!(matches!(evs.as_slice(), [Ev::Close { code: 1009, source: CloseSource::Violation, .. }]), "{evs:?}");
    assert!(peak <= limit as usize + (1 << 20), "buffered {peak} bytes for a {limit}-byte limit");
    let close = parse_frames(s.output());
    assert_eq!(u16::from_be_bytes([close[0].payload[0], close[0].payload[1]]), 1009);
}

#[test]
fn inflated_size_limit_is_exact() {
    let data = vec![b'a'; 1000];
    let mut s = deflate_server(1000);
    s.receive(&compressed_frame(0xc1, &raw_deflate(&data))).unwrap();
    assert_eq!(drain(&mut s), vec![Ev::Data { text: true, data, frame_finished: true, message_finished: true }]);
    let mut s = deflate_server(999);
    s.receive(&compressed_frame(0xc1, &raw_deflate(&[b'a'; 1000]))).unwrap();
    assert!(matches!(drain(&mut s).as_slice(), [Ev::Close { code: 1009, .. }]));
}

#[test]
fn corrupt_data_and_bad_utf8_after_inflate() {
    let mut s = deflate_server(1 << 20);
    s.receive(&compressed_frame(0xc2, &[0xff, 0xff, 0xff, 0xff])).unwrap();
    assert!(matches!(drain(&mut s).as_slice(), [Ev::Close { code: 1007, .. }]));
    let mut s = deflate_server(1 << 20);
    s.receive(&compressed_frame(0xc1, &raw_deflate(b"ok \xed\xa0\x80 bad"))).unwrap();
    assert!(matches!(drain(&mut s).as_slice(), [Ev::Close { code: 1007, .. }]));
}

#[test]
fn rsv1_on_continuation_or_control_fails_even_with_deflate() {
    let mut s = deflate_server(1 << 20);
    let mut b = compressed_frame(0x41, &raw_deflate(b"ab"));
    b.extend(compressed_frame(0xc0, b""));
    s.receive(&b).unwrap();
    assert!(matches!(drain(&mut s).as_slice(), [Ev::Close { code: 1002, .. }]));
    let mut s = deflate_server(1 << 20);
    s.receive(&compressed_frame(0xc9, b"")).unwrap();
    assert!(matches!(drain(&mut s).as_slice(), [Ev::Close { code: 1002, .. }]));
}

#[test]
fn stream_mode_inflates_incrementally() {
    let cfg = Config {
        deflate: Some(DeflateConfig::default()),
        message_mode: wsproto::MessageMode::Stream,
        ..Config::default()
    };
    let mut s = Connection::frames_only(Role::Server, cfg, Some(DeflateParams::default()), &[]);
    let text = message(100_000, true);
    let frame = compressed_frame(0xc1, &raw_deflate(&text));
    let evs = feed_in_pieces(&mut s, &frame, &[97]);
    assert!(evs.len() > 1);
    assert_eq!(
        merge_chunks(evs),
        vec![Ev::Data { text: true, data: text, frame_finished: true, message_finished: true }]
    );
}

#[test]
fn mem_level_and_warm_up_round_trip_in_every_combination() {
    for mem_level in [1u8, 5, 9] {
        for warm_up in [false, true] {
            for nct in [false, true] {
                let offer = DeflateParams {
                    server_no_context_takeover: nct,
                    client_no_context_takeover: nct,
                    ..DeflateParams::default()
                };
                let d = |offers| DeflateConfig { offers, mem_level, warm_up, ..DeflateConfig::default() };
                let (mut c, mut s) = open_pair(d(vec![offer]), d(vec![]));
                assert_eq!(s.negotiated_deflate(), Some(offer));
                for len in [0usize, 125, 64 << 10] {
                    for fragmented in [false, true] {
                        let m = message(len, true);
                        round_trip(&mut c, &mut s, &m, true, fragmented);
                        round_trip(&mut s, &mut c, &m, true, fragmented);
                    }
                }
            }
        }
    }
}

/// memLevel changes memory, not the format: an independent inflater (flate2)
/// decodes what a memLevel-1 compressor sends.
#[test]
fn mem_level_one_output_is_plain_deflate() {
    let cfg = Config { deflate: Some(DeflateConfig { mem_level: 1, ..DeflateConfig::default() }), ..Config::default() };
    let mut s = Connection::frames_only(Role::Server, cfg, Some(DeflateParams::default()), &[]);
    let mut inflater = flate2::Decompress::new(false);
    for i in 0..3 {
        let m = message(50_000 + i, true);
        s.send_binary(&m).unwrap();
        let frames = parse_frames(s.output());
        let mut payload = frames[0].payload.clone();
        payload.extend_from_slice(&[0, 0, 0xff, 0xff]);
        s.consume_output(s.output().len());
        let mut out = Vec::with_capacity(m.len() + 64);
        inflater.decompress_vec(&payload, &mut out, flate2::FlushDecompress::Sync).unwrap();
        assert!(out == m, "message {i}");
    }
}

/// The negotiated client_max_window_bits is not enforced on inflate (see
/// `Deflate`'s docs: zlib-rs keeps a 32 KiB window whatever it is told and
/// checks distances only against what it holds). A client that negotiated
/// 9 bits but refers 20 000 bytes back is decoded, not failed.
#[test]
fn window_beyond_the_negotiated_one_is_decoded() {
    let p = DeflateParams { client_max_window_bits: 9, ..DeflateParams::default() };
    let cfg = Config { deflate: Some(DeflateConfig::default()), ..Config::default() };
    let mut s = Connection::frames_only(Role::Server, cfg, Some(p), &[]);
    let block = message(20_000, false);
    let data: Vec<u8> = block.iter().chain(block.iter()).copied().collect();
    let payload = raw_deflate(&data); // made with a 15-bit window
    assert!(payload.len() < 25_000, "the repeat is a long-distance reference: {}", payload.len());
    s.receive(&compressed_frame(0xc2, &payload)).unwrap();
    assert_eq!(drain(&mut s), vec![Ev::Data { text: false, data, frame_finished: true, message_finished: true }]);
}
