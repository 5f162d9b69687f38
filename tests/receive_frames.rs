//! RFC 6455 §5 receive rules, through frames-only connections.

mod common;
use common::*;
use wsproto::{CloseSource, Config, Connection, MessageMode, Role, State};

fn server() -> Connection {
    Connection::frames_only(Role::Server, Config::default(), None, &[])
}

fn server_with(f: impl FnOnce(&mut Config)) -> Connection {
    let mut cfg = Config::default();
    f(&mut cfg);
    Connection::frames_only(Role::Server, cfg, None, &[])
}

fn client() -> Connection {
    Connection::frames_only(Role::Client, Config::default(), None, &[])
}

/// Feeds bytes to a fresh server; returns events, output frames, final state.
fn run(bytes: &[u8]) -> (Vec<Ev>, Vec<WireFrame>, State) {
    let mut c = server();
    c.receive(bytes).unwrap();
    let evs = drain(&mut c);
    let out = parse_frames(c.output());
    (evs, out, c.state())
}

/// Asserts the server failed the connection with `code` and sent a close frame with it.
fn assert_fails(bytes: &[u8], code: u16) {
    let (evs, out, state) = run(bytes);
    let last = evs.last().expect("an event");
    match last {
        Ev::Close { code: c, source: CloseSource::Violation, reason } => {
            assert_eq!(*c, code, "reason: {reason}");
            assert!(!reason.is_empty());
        }
        other => panic!("expected a violation close {code}, got {other:?}"),
    }
    let close = out.last().expect("a close frame");
    assert_eq!(close.opcode, 8);
    assert_eq!(u16::from_be_bytes([close.payload[0], close.payload[1]]), code);
    assert_eq!(state, State::Closed);
}

#[test]
fn every_payload_length_encoding() {
    for len in [0usize, 1, 125, 126, 127, 65535, 65536, 200_000] {
        let payload: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
        let (evs, _, _) = run(&client_frame(true, 2, &payload));
        assert_eq!(evs, vec![Ev::binary(&payload)], "len {len}");
    }
}

#[test]
fn text_and_binary_messages() {
    let mut bytes = client_frame(true, 1, "héllo €".as_bytes());
    bytes.extend(client_frame(true, 2, &[0, 1, 2, 255]));
    let (evs, _, _) = run(&bytes);
    assert_eq!(evs, vec![Ev::text("héllo €"), Ev::binary(&[0, 1, 2, 255])]);
}

#[test]
fn server_rejects_unmasked_frame() {
    assert_fails(&server_frame(true, 1, b"hi"), 1002);
}

#[test]
fn client_rejects_masked_frame() {
    let mut c = client();
    c.receive(&client_frame(true, 1, b"hi")).unwrap();
    let evs = drain(&mut c);
    assert!(matches!(evs[0], Ev::Close { code: 1002, source: CloseSource::Violation, .. }));
    let out = parse_frames(c.output());
    assert!(out[0].masked, "client close frames are masked");
}

#[test]
fn client_accepts_unmasked_frames() {
    let mut c = client();
    c.receive(&server_frame(true, 1, b"hi")).unwrap();
    assert_eq!(drain(&mut c), vec![Ev::text("hi")]);
}

#[test]
fn reserved_bits_fail() {
    for first in [0xc1u8, 0xa1, 0x91] {
        assert_fails(&raw_frame(first, b"x", Some(KEY)), 1002);
    }
}

#[test]
fn reserved_opcodes_fail() {
    for op in [3u8, 4, 5, 6, 7, 0xb, 0xc, 0xd, 0xe, 0xf] {
        assert_fails(&client_frame(true, op, b""), 1002);
    }
}

#[test]
fn control_frame_rules() {
    assert_fails(&client_frame(true, 9, &[0; 126]), 1002);
    assert_fails(&client_frame(false, 9, b"x"), 1002);
    assert_fails(&raw_frame(0xc9, b"x", Some(KEY)), 1002);
    let (evs, _, _) = run(&client_frame(true, 9, &[7; 125]));
    assert_eq!(evs, vec![Ev::Ping(vec![7; 125])]);
}

#[test]
fn continuation_rules() {
    assert_fails(&client_frame(true, 0, b"x"), 1002);
    let mut b = client_frame(false, 1, b"a");
    b.extend(client_frame(true, 1, b"b"));
    assert_fails(&b, 1002);
    let mut b = client_frame(false, 2, b"a");
    b.extend(client_frame(true, 2, b"b"));
    assert_fails(&b, 1002);
}

#[test]
fn fragmented_message_with_interleaved_controls() {
    let mut b = client_frame(false, 1, b"Hel");
    b.extend(client_frame(true, 9, b"p1"));
    b.extend(client_frame(false, 0, b"lo "));
    b.extend(client_frame(true, 10, b"p2"));
    b.extend(client_frame(false, 0, b""));
    b.extend(client_frame(true, 0, b"world"));
    let (evs, out, state) = run(&b);
    assert_eq!(evs, vec![Ev::Ping(b"p1".to_vec()), Ev::Pong(b"p2".to_vec()), Ev::text("Hello world")]);
    assert_eq!(out.len(), 1);
    assert_eq!((out[0].opcode, out[0].payload.as_slice()), (10, &b"p1"[..]), "auto-pong echoes the ping");
    assert_eq!(state, State::Open);
}

#[test]
fn non_minimal_and_top_bit_lengths_fail() {
    let mut b = vec![0x82, 0x80 | 126, 0, 5];
    b.extend_from_slice(&KEY);
    b.extend_from_slice(&[0; 5]);
    assert_fails(&b, 1002);
    let mut b = vec![0x82, 0x80 | 127, 0x80, 0, 0, 0, 0, 0, 0, 1];
    b.extend_from_slice(&KEY);
    assert_fails(&b, 1002);
}

#[test]
fn close_frame_rules() {
    assert_fails(&client_frame(true, 8, &[3]), 1002);
    for code in [0u16, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535] {
        assert_fails(&client_frame(true, 8, &close_payload(code, "")), 1002);
    }
    let mut bad_reason = close_payload(1000, "");
    bad_reason.extend_from_slice(&[0xce, 0xba, 0xff]);
    assert_fails(&client_frame(true, 8, &bad_reason), 1007);
    for code in [1000u16, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 4999] {
        let (evs, out, state) = run(&client_frame(true, 8, &close_payload(code, "bye")));
        assert_eq!(evs, vec![Ev::Close { code, reason: "bye".into(), source: CloseSource::Peer }]);
        assert_eq!(out[0].payload, code.to_be_bytes(), "auto reply echoes the code");
        assert_eq!(state, State::Closed);
    }
}

#[test]
fn empty_close_reports_1005_and_replies_without_code() {
    let (evs, out, _) = run(&client_frame(true, 8, b""));
    assert_eq!(evs, vec![Ev::close(1005, CloseSource::Peer)]);
    assert_eq!(out[0].opcode, 8);
    assert!(out[0].payload.is_empty());
}

#[test]
fn nothing_is_read_after_a_close_frame() {
    let mut b = client_frame(true, 8, &close_payload(1000, ""));
    b.extend(client_frame(true, 1, b"late"));
    let (evs, _, _) = run(&b);
    assert_eq!(evs, vec![Ev::close(1000, CloseSource::Peer)]);
}

#[test]
fn invalid_utf8_fails_fast_before_the_message_ends() {
    let mut c = server();
    c.receive(&client_frame(false, 1, b"ok \xed\xa0")).unwrap();
    let evs = drain(&mut c);
    assert!(matches!(evs.as_slice(), [Ev::Close { code: 1007, .. }]), "{evs:?}");
}

#[test]
fn invalid_utf8_split_at_every_position_across_fragments() {
    let bad: &[u8] = b"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80edited";
    let good = "κόσμε-€-😀".as_bytes();
    for cut in 0..=bad.len() {
        let mut b = client_frame(false, 1, &bad[..cut]);
        b.extend(client_frame(true, 0, &bad[cut..]));
        assert_fails(&b, 1007);
    }
    for cut in 0..=good.len() {
        let mut b = client_frame(false, 1, &good[..cut]);
        b.extend(client_frame(true, 0, &good[cut..]));
        let (evs, _, _) = run(&b);
        assert_eq!(
            evs,
            vec![Ev::Data { text: true, data: good.to_vec(), frame_finished: true, message_finished: true }]
        );
    }
}

#[test]
fn text_ending_inside_a_code_point_fails() {
    assert_fails(&client_frame(true, 1, b"abc\xe2\x82"), 1007);
}

#[test]
fn frame_size_limit() {
    let mut c = server_with(|c| c.max_frame_size = 100);
    c.receive(&client_frame(true, 2, &[0; 101])).unwrap();
    assert!(matches!(drain(&mut c)[0], Ev::Close { code: 1009, .. }));
    let mut c = server_with(|c| c.max_frame_size = 100);
    c.receive(&client_frame(true, 2, &[0; 100])).unwrap();
    assert_eq!(drain(&mut c), vec![Ev::binary(&[0; 100])]);
}

#[test]
fn message_size_limit_across_fragments_fails_at_the_header() {
    let mut c = server_with(|c| c.max_message_size = 10);
    let mut b = client_frame(false, 2, &[1; 6]);
    b.extend(client_frame(true, 0, &[1; 5]));
    // Only the second header (not its payload) is needed to refuse.
    c.receive(&b[..b.len() - 5]).unwrap();
    assert!(matches!(drain(&mut c)[0], Ev::Close { code: 1009, .. }));
}

#[test]
fn stream_mode_delivers_chunks_with_flags() {
    let mut c = server_with(|c| c.message_mode = MessageMode::Stream);
    let mut b = client_frame(false, 2, &[1; 10]);
    b.extend(client_frame(true, 0, &[2; 4]));
    let evs = feed_in_pieces(&mut c, &b, &[7]);
    assert!(evs.len() > 2, "pieces arrive as several chunks: {evs:?}");
    let merged = merge_chunks(evs);
    assert_eq!(
        merged,
        vec![
            Ev::Data { text: false, data: vec![1; 10], frame_finished: true, message_finished: false },
            Ev::Data { text: false, data: vec![2; 4], frame_finished: true, message_finished: true },
        ]
    );
}

#[test]
fn stream_mode_text_chunks_end_on_code_points() {
    let text = "€€€€€😀😀";
    let mut c = server_with(|c| c.message_mode = MessageMode::Stream);
    let evs = feed_in_pieces(&mut c, &client_frame(true, 1, text.as_bytes()), &[1]);
    for e in &evs {
        if let Ev::Data { data, .. } = e {
            assert!(std::str::from_utf8(data).is_ok(), "chunk {data:?} is not UTF-8 on its own");
        }
    }
    assert_eq!(merge_chunks(evs), vec![Ev::text(text)]);
}

#[test]
fn stream_mode_enforces_message_limit() {
    let mut c = server_with(|c| {
        c.message_mode = MessageMode::Stream;
        c.max_message_size = 8;
    });
    let mut b = client_frame(false, 2, &[1; 5]);
    b.extend(client_frame(true, 0, &[1; 5]));
    c.receive(&b).unwrap();
    let evs = drain(&mut c);
    assert!(matches!(evs.last(), Some(Ev::Close { code: 1009, .. })), "{evs:?}");
}

/// A realistic mixed stream: the same events whatever the read sizes.
fn mixed_stream() -> Vec<u8> {
    let mut b = Vec::new();
    b.extend(client_frame(true, 1, "first ☃".as_bytes()));
    b.extend(client_frame(true, 2, &(0..300u32).map(|i| i as u8).collect::<Vec<_>>()));
    b.extend(client_frame(false, 1, "frag".as_bytes()));
    b.extend(client_frame(true, 9, b"ping"));
    b.extend(client_frame(true, 0, "mented €".as_bytes()));
    b.extend(client_frame(true, 2, &vec![9u8; 70_000]));
    b.extend(client_frame(true, 10, b""));
    b.extend(client_frame(true, 1, b""));
    b.extend(client_frame(true, 8, &close_payload(1001, "going away")));
    b
}

#[test]
fn chunking_does_not_matter() {
    for mode in [MessageMode::Whole, MessageMode::Stream] {
        let bytes = mixed_stream();
        let mut whole = server_with(|c| c.message_mode = mode);
        let expected = merge_chunks(feed_in_pieces(&mut whole, &bytes, &[bytes.len()]));
        let expected_out = whole.output().to_vec();
        assert!(expected.len() >= 8, "{expected:?}");
        let mut rng = XorShift(0x1234_5678);
        let mut splits: Vec<Vec<usize>> = vec![vec![1], vec![2], vec![3], vec![13], vec![4096]];
        for _ in 0..20 {
            splits.push((0..50).map(|_| (rng.next() % 200) as usize + 1).collect());
        }
        for sizes in splits {
            let mut c = server_with(|c| c.message_mode = mode);
            let evs = merge_chunks(feed_in_pieces(&mut c, &bytes, &sizes));
            assert_eq!(evs, expected, "{mode:?} split {sizes:?}");
            assert_eq!(c.output(), expected_out.as_slice());
        }
    }
}

#[test]
fn auto_pong_and_auto_close_reply_can_be_turned_off() {
    let mut c = server_with(|c| {
        c.auto_pong = false;
        c.auto_close_reply = false;
    });
    let mut b = client_frame(true, 9, b"x");
    b.extend(client_frame(true, 8, &close_payload(1000, "")));
    c.receive(&b).unwrap();
    assert_eq!(drain(&mut c), vec![Ev::Ping(b"x".to_vec()), Ev::close(1000, CloseSource::Peer)]);
    assert!(c.output().is_empty());
    assert_eq!(c.state(), State::RemoteClosing);
    c.send_close(Some(1000), "").unwrap();
    assert_eq!(c.state(), State::Closed);
    assert!(!c.wants_close_transport(), "close frame not written yet");
    let n = c.output().len();
    c.consume_output(n);
    assert!(c.wants_close_transport());
}

#[test]
fn eof_gives_1006_and_later_data_is_an_error() {
    let mut c = server();
    c.receive(&client_frame(false, 1, b"half")).unwrap();
    c.receive_eof().unwrap();
    assert_eq!(drain(&mut c), vec![Ev::close(1006, CloseSource::Eof)]);
    assert_eq!(c.state(), State::Closed);
    let err = c.receive(b"x").unwrap_err();
    assert_eq!(err.kind, wsproto::ErrorKind::Closed);
}

#[test]
fn data_after_closed_is_a_local_error() {
    let mut c = server();
    c.receive(&client_frame(true, 8, &close_payload(1000, ""))).unwrap();
    drain(&mut c);
    assert_eq!(c.state(), State::Closed);
    assert_eq!(c.receive(b"more").unwrap_err().kind, wsproto::ErrorKind::Closed);
}

#[test]
fn a_message_read_together_with_a_close_can_still_be_answered() {
    // The close takes effect when its event is taken (as in Python wsproto),
    // so an echo server can answer everything that came before it.
    let mut c = server();
    let mut b = client_frame(true, 1, b"last words");
    b.extend(client_frame(true, 8, &close_payload(1000, "")));
    c.receive(&b).unwrap();
    assert_eq!(c.state(), State::Open);
    match c.next_event() {
        Some(wsproto::Event::Data { data, .. }) => assert_eq!(data, b"last words"),
        e => panic!("{e:?}"),
    }
    c.send_text("echo").unwrap();
    assert_eq!(drain(&mut c), vec![Ev::close(1000, CloseSource::Peer)]);
    assert_eq!(c.state(), State::Closed);
    let out: Vec<(u8, Vec<u8>)> = parse_frames(c.output()).into_iter().map(|f| (f.opcode, f.payload)).collect();
    assert_eq!(out, vec![(1, b"echo".to_vec()), (8, 1000u16.to_be_bytes().to_vec())]);
}

#[test]
fn eof_after_a_peer_close_closes_without_a_second_event() {
    let mut c = server_with(|c| c.auto_close_reply = false);
    c.receive(&client_frame(true, 8, &close_payload(1001, ""))).unwrap();
    c.receive_eof().unwrap();
    assert_eq!(drain(&mut c), vec![Ev::close(1001, CloseSource::Peer)]);
    assert_eq!(c.state(), State::Closed, "the transport is gone: no reply is possible");
    let mut c = server_with(|c| c.auto_close_reply = false);
    c.receive(&client_frame(true, 8, &close_payload(1001, ""))).unwrap();
    drain(&mut c);
    assert_eq!(c.state(), State::RemoteClosing);
    c.receive_eof().unwrap();
    assert!(drain(&mut c).is_empty());
    assert_eq!(c.state(), State::Closed);
}

#[test]
fn frames_only_processes_trailing_bytes() {
    let mut trailing = client_frame(true, 1, b"early");
    trailing.extend(client_frame(true, 1, b"par"));
    let cut = trailing.len() - 1;
    let mut c = Connection::frames_only(Role::Server, Config::default(), None, &trailing[..cut]);
    assert_eq!(drain(&mut c), vec![Ev::text("early")]);
    c.receive(&trailing[cut..]).unwrap();
    assert_eq!(drain(&mut c), vec![Ev::text("par")]);
}

#[test]
fn closing_handshake_initiated_locally() {
    let mut c = server();
    c.send_close(Some(1000), "done").unwrap();
    assert_eq!(c.state(), State::LocalClosing);
    // Data still arrives until the peer's close.
    let mut b = client_frame(true, 1, b"still");
    b.extend(client_frame(true, 8, &close_payload(1000, "")));
    c.receive(&b).unwrap();
    assert_eq!(drain(&mut c), vec![Ev::text("still"), Ev::close(1000, CloseSource::Peer)]);
    assert_eq!(c.state(), State::Closed);
    let out = parse_frames(c.output());
    assert_eq!(out.len(), 1, "no second close frame");
}

#[test]
fn events_borrowed_data_survives_until_next_receive() {
    let mut c = server();
    let mut b = Vec::new();
    for i in 0..50u8 {
        b.extend(client_frame(true, 2, &[i; 40]));
    }
    c.receive(&b).unwrap();
    for i in 0..50u8 {
        match c.next_event().unwrap() {
            wsproto::Event::Data { data, .. } => assert_eq!(data, &[i; 40]),
            e => panic!("{e:?}"),
        }
    }
    assert!(c.next_event().is_none());
}
