//! The zero-copy send paths (`encode_data`, `encode_header`) and the
//! trusted-UTF-8 send option: same wire bytes and state rules as a queued
//! send, refusals that change nothing, and a peer that decodes the result.

mod common;
use common::*;
use wsproto::{
    CloseSource, Config, Connection, DataKind, DeflateConfig, DeflateParams, Encoded, ErrorKind, Role, SendOptions,
};

fn conn(role: Role) -> Connection {
    Connection::frames_only(role, Config::default(), None, &[])
}

fn opts(fin: bool) -> SendOptions {
    SendOptions { fin, ..SendOptions::default() }
}

fn take(c: &mut Connection) -> Vec<u8> {
    let v = c.output().to_vec();
    c.consume_output(v.len());
    v
}

/// Encodes with `encode_data` into an exactly sized buffer after a first
/// try with one byte too few.
fn encode(c: &mut Connection, kind: DataKind, data: &[u8], o: SendOptions) -> Vec<u8> {
    let need = match c.encode_data(kind, data, o, &mut []).unwrap() {
        Encoded::TooSmall(n) => n,
        Encoded::Written(_) => panic!("an empty buffer cannot hold a frame"),
    };
    let mut buf = vec![0u8; need];
    assert_eq!(c.encode_data(kind, data, o, &mut buf[..need - 1]).unwrap(), Encoded::TooSmall(need));
    assert_eq!(c.encode_data(kind, data, o, &mut buf).unwrap(), Encoded::Written(need));
    assert!(c.output().is_empty(), "nothing goes through the output buffer");
    buf
}

#[test]
fn client_encode_is_masked_and_decodes_like_a_queued_send() {
    let mut c = conn(Role::Client);
    let mut s = conn(Role::Server);
    for len in [0usize, 1, 5, 125, 126, 1000, 65535, 65536, 200_000] {
        let data: Vec<u8> = (0..len).map(|i| (i * 31 + 7) as u8).collect();
        let wire = encode(&mut c, DataKind::Binary, &data, SendOptions::default());
        let f = parse_frames(&wire);
        assert_eq!(f.len(), 1);
        assert!(f[0].masked && f[0].fin);
        assert_eq!((f[0].opcode, &f[0].payload), (2, &data), "len {len}");
        assert_eq!(
            wire.len(),
            len + 2
                + 4
                + if len < 126 {
                    0
                } else if len < 65536 {
                    2
                } else {
                    8
                }
        );
        s.receive(&wire).unwrap();
        assert_eq!(drain(&mut s), [Ev::binary(&data)]);
    }
    let wire = encode(&mut c, DataKind::Text, "héllo".as_bytes(), SendOptions::default());
    s.receive(&wire).unwrap();
    assert_eq!(drain(&mut s), [Ev::text("héllo")]);
}

#[test]
fn server_encode_matches_send_byte_for_byte() {
    let mut a = conn(Role::Server);
    let mut b = conn(Role::Server);
    for len in [0usize, 3, 126, 70_000] {
        let data = vec![b'x'; len];
        a.send_text(std::str::from_utf8(&data).unwrap()).unwrap();
        let queued = take(&mut a);
        assert_eq!(encode(&mut b, DataKind::Text, &data, SendOptions::default()), queued);
    }
}

#[test]
fn header_only_server_send_plus_own_payload_decodes() {
    let mut s = conn(Role::Server);
    let mut c = conn(Role::Client);
    let big: Vec<u8> = (0..(1usize << 20)).map(|i| i as u8).collect();
    for data in [&b""[..], b"abc", &big[..300], &big[..]] {
        let mut head = [0u8; 10];
        let n = match s.encode_header(DataKind::Binary, data, SendOptions::default(), &mut head).unwrap() {
            Encoded::Written(n) => n,
            other => panic!("{other:?}"),
        };
        assert!(s.output().is_empty());
        let mut wire = head[..n].to_vec();
        wire.extend_from_slice(data);
        c.receive(&wire).unwrap();
        assert_eq!(drain(&mut c), [Ev::binary(data)]);
    }
    // Too small: the size needed, nothing changed.
    let mut tiny = [0u8; 9];
    assert_eq!(
        s.encode_header(DataKind::Binary, &big, SendOptions::default(), &mut tiny).unwrap(),
        Encoded::TooSmall(10)
    );
    let mut head = [0u8; 10];
    assert_eq!(s.encode_header(DataKind::Text, b"ok", SendOptions::default(), &mut head).unwrap(), Encoded::Written(2));
    assert_eq!(&head[..2], [0x81, 2]);
}

#[test]
fn client_cannot_send_a_header_alone() {
    let mut c = conn(Role::Client);
    let mut head = [0u8; 14];
    let e = c.encode_header(DataKind::Binary, b"abc", SendOptions::default(), &mut head).unwrap_err();
    assert_eq!(e.kind, ErrorKind::WrongState);
    // Nothing changed: a queued send still works.
    c.send_binary(b"abc").unwrap();
}

#[test]
fn refused_while_queued_output_is_pending() {
    let mut s = conn(Role::Server);
    s.send_ping(b"p").unwrap();
    let mut buf = [0u8; 64];
    for header in [false, true] {
        let r = if header {
            s.encode_header(DataKind::Binary, b"x", SendOptions::default(), &mut buf)
        } else {
            s.encode_data(DataKind::Binary, b"x", SendOptions::default(), &mut buf)
        };
        assert_eq!(r.unwrap_err().kind, ErrorKind::WrongState);
    }
    // A partial write still counts as pending.
    s.consume_output(1);
    assert!(s.encode_data(DataKind::Binary, b"x", SendOptions::default(), &mut buf).is_err());
    take(&mut s);
    assert_eq!(s.encode_data(DataKind::Binary, b"x", SendOptions::default(), &mut buf).unwrap(), Encoded::Written(3));
}

#[test]
fn fragments_mix_with_queued_sends_and_follow_the_rules() {
    let mut s = conn(Role::Server);
    let mut c = conn(Role::Client);
    let mut wire = encode(&mut s, DataKind::Text, b"ab", opts(false));
    // A binary message cannot start while the text one is unfinished.
    let mut buf = [0u8; 32];
    assert_eq!(s.encode_data(DataKind::Binary, b"z", opts(true), &mut buf).unwrap_err().kind, ErrorKind::WrongState);
    s.send_data(DataKind::Text, b"cd", false, true).unwrap();
    wire.extend(take(&mut s));
    let mut head = [0u8; 10];
    let Encoded::Written(n) = s.encode_header(DataKind::Text, b"ef", opts(true), &mut head).unwrap() else { panic!() };
    wire.extend_from_slice(&head[..n]);
    wire.extend_from_slice(b"ef");
    let f = parse_frames(&wire);
    assert_eq!(f.iter().map(|f| (f.fin, f.opcode)).collect::<Vec<_>>(), [(false, 1), (false, 0), (true, 0)]);
    c.receive(&wire).unwrap();
    assert_eq!(merge_chunks(drain(&mut c)), [Ev::text("abcdef")]);
    // The message is over: binary may start again.
    assert!(matches!(s.encode_data(DataKind::Binary, b"z", opts(true), &mut buf).unwrap(), Encoded::Written(3)));
}

#[test]
fn utf8_is_checked_across_fragments_unless_trusted() {
    let mut s = conn(Role::Server);
    let mut buf = [0u8; 32];
    let e = s.encode_data(DataKind::Text, b"\xff", SendOptions::default(), &mut buf).unwrap_err();
    assert_eq!(e.kind, ErrorKind::InvalidArgument);
    // A code point split over fragments is fine; an incomplete end is not.
    let e = "é".as_bytes();
    encode(&mut s, DataKind::Text, &e[..1], opts(false));
    let r = s.encode_data(DataKind::Text, b"", opts(true), &mut buf);
    assert_eq!(r.unwrap_err().kind, ErrorKind::InvalidArgument);
    encode(&mut s, DataKind::Text, &e[1..], opts(true));

    // Trusted: not checked, goes out as is (queued and zero-copy), and the
    // peer then fails the connection with 1007.
    let trusted = SendOptions { trusted_utf8: true, ..SendOptions::default() };
    let wire = encode(&mut s, DataKind::Text, b"\xff", trusted);
    assert_eq!(wire, [0x81, 1, 0xff]);
    s.send_data_with(DataKind::Text, b"\xfe", trusted).unwrap();
    assert_eq!(take(&mut s), [0x81, 1, 0xfe]);
    let mut c = conn(Role::Client);
    c.receive(&wire).unwrap();
    let evs = drain(&mut c);
    assert!(matches!(evs.last(), Some(Ev::Close { code: 1007, source: CloseSource::Violation, .. })), "{evs:?}");

    // A trusted fragment turns checking off for the rest of that message
    // only.
    s.send_data_with(DataKind::Text, b"\xe2", SendOptions { fin: false, ..trusted }).unwrap();
    s.send_data(DataKind::Text, b"\x82", true, true).unwrap();
    take(&mut s);
    let e = s.send_data(DataKind::Text, b"\xff", true, true).unwrap_err();
    assert_eq!(e.kind, ErrorKind::InvalidArgument, "the next message is checked again");
}

#[test]
fn not_after_close_and_not_before_open() {
    let mut s = conn(Role::Server);
    s.send_close(Some(1000), "").unwrap();
    take(&mut s);
    let mut buf = [0u8; 32];
    let e = s.encode_data(DataKind::Binary, b"x", SendOptions::default(), &mut buf).unwrap_err();
    assert_eq!(e.kind, ErrorKind::WrongState);
    let e = s.encode_header(DataKind::Binary, b"x", SendOptions::default(), &mut buf).unwrap_err();
    assert_eq!(e.kind, ErrorKind::WrongState);

    let mut client = Connection::client(Config::default());
    let e = client.encode_data(DataKind::Binary, b"x", SendOptions::default(), &mut buf).unwrap_err();
    assert_eq!(e.kind, ErrorKind::WrongState);
}

#[test]
fn compressed_messages_are_refused_unless_compression_is_off() {
    let cfg = Config { deflate: Some(DeflateConfig::default()), ..Config::default() };
    let mut s = Connection::frames_only(Role::Server, cfg, Some(DeflateParams::default()), &[]);
    let big = vec![b'a'; 4096];
    let mut buf = vec![0u8; 8192];
    for header in [false, true] {
        let r = if header {
            s.encode_header(DataKind::Text, &big, SendOptions::default(), &mut buf)
        } else {
            s.encode_data(DataKind::Text, &big, SendOptions::default(), &mut buf)
        };
        assert_eq!(r.unwrap_err().kind, ErrorKind::InvalidArgument);
    }
    // A fragment of a compressed message started with a queued send: refused too.
    s.send_data(DataKind::Text, &big, false, true).unwrap();
    take(&mut s);
    let no = SendOptions { allow_compression: false, ..SendOptions::default() };
    let r = s.encode_data(DataKind::Text, &big, no, &mut buf);
    assert_eq!(r.unwrap_err().kind, ErrorKind::InvalidArgument);
    s.send_data(DataKind::Text, b"", true, true).unwrap();
    take(&mut s);
    // Without compression it works, and the frame has no RSV1.
    let Encoded::Written(n) = s.encode_data(DataKind::Text, &big, no, &mut buf).unwrap() else { panic!() };
    let f = parse_frames(&buf[..n]);
    assert_eq!((f[0].rsv, f[0].payload.len()), (0, 4096));
}

#[test]
fn rng_failure_changes_nothing() {
    let cfg = Config { rng: Some(Box::new(|_: &mut [u8]| false)), ..Config::default() };
    let mut c = Connection::frames_only(Role::Client, cfg, None, &[]);
    let mut buf = [0u8; 32];
    let e = c.encode_data(DataKind::Text, b"ab", opts(false), &mut buf).unwrap_err();
    assert_eq!(e.kind, ErrorKind::Rng);
    // Not in a fragmented message: a binary message may start.
    assert_eq!(c.send_binary(b"x").unwrap_err().kind, ErrorKind::Rng);
}

#[test]
fn output_buffer_growth_keeps_pending_bytes_in_order() {
    let mut s = conn(Role::Server);
    let mut c = conn(Role::Client);
    let mut all = Vec::new();
    let mut want = Vec::new();
    for i in 0..200usize {
        let msg = vec![(i % 251) as u8; i * 97 % 5000];
        s.send_binary(&msg).unwrap();
        want.push(Ev::binary(&msg));
        // Write out part of it now and then, so the buffer grows with a
        // written prefix and with pending bytes.
        if i % 3 == 0 {
            let n = s.output().len() / 2;
            all.extend_from_slice(&s.output()[..n]);
            s.consume_output(n);
        }
    }
    all.extend(take(&mut s));
    c.receive(&all).unwrap();
    assert_eq!(drain(&mut c), want);
}
