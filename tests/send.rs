//! Encoding outgoing frames and the state rules for sending.

mod common;
use common::*;
use wsproto::{Config, Connection, DataKind, ErrorKind, Role, State};

fn conn(role: Role) -> Connection {
    Connection::frames_only(role, Config::default(), None, &[])
}

fn take(c: &mut Connection) -> Vec<WireFrame> {
    let f = parse_frames(c.output());
    let n = c.output().len();
    c.consume_output(n);
    f
}

#[test]
fn server_frames_are_unmasked_client_frames_masked() {
    let mut s = conn(Role::Server);
    s.send_text("hi").unwrap();
    assert_eq!(s.output(), &[0x81, 2, b'h', b'i']);
    let mut c = conn(Role::Client);
    c.send_binary(&[1, 2, 3]).unwrap();
    let f = take(&mut c);
    assert!(f[0].masked);
    assert_eq!(f[0].payload, [1, 2, 3]);
}

#[test]
fn client_masking_keys_differ_between_frames() {
    let mut c = conn(Role::Client);
    for _ in 0..20 {
        c.send_binary(&[0; 8]).unwrap();
    }
    let out = c.output().to_vec();
    let keys: std::collections::HashSet<&[u8]> = out.chunks(2 + 4 + 8).map(|f| &f[2..6]).collect();
    assert!(keys.len() > 15, "keys come from the RNG");
}

#[test]
fn custom_rng_is_used_for_masking_keys() {
    let cfg = Config {
        rng: Some(Box::new(|b: &mut [u8]| {
            b.fill(0);
            true
        })),
        ..Config::default()
    };
    let mut c = Connection::frames_only(Role::Client, cfg, None, &[]);
    c.send_text("abc").unwrap();
    assert_eq!(c.output(), &[0x81, 0x83, 0, 0, 0, 0, b'a', b'b', b'c']);
}

#[test]
fn failing_rng_is_an_error_that_sends_nothing() {
    let cfg = Config { rng: Some(Box::new(|_: &mut [u8]| false)), ..Config::default() };
    let mut c = Connection::frames_only(Role::Client, cfg, None, &[]);
    assert_eq!(c.send_text("abc").unwrap_err().kind, ErrorKind::Rng);
    assert!(c.output().is_empty());
}

#[test]
fn all_length_encodings_on_send() {
    for len in [0usize, 125, 126, 65535, 65536, 100_000] {
        let mut s = conn(Role::Server);
        let data = vec![0xabu8; len];
        s.send_binary(&data).unwrap();
        // Minimal length encoding: 2, 4 or 10 header bytes (server: no mask).
        let header = s.output().len() - len;
        let expected = match len {
            0..=125 => 2,
            126..=65535 => 4,
            _ => 10,
        };
        assert_eq!(header, expected, "len {len}");
        let f = take(&mut s);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].payload, data);
        assert_eq!(s.output().len(), 0, "take consumed everything");
    }
}

#[test]
fn fragments_use_continuation_frames() {
    let mut s = conn(Role::Server);
    s.send_data(DataKind::Text, "a€".as_bytes()[..2].as_ref(), false, true).unwrap();
    s.send_ping(b"p").unwrap();
    s.send_data(DataKind::Text, &"a€".as_bytes()[2..], false, true).unwrap();
    s.send_data(DataKind::Text, b"!", true, true).unwrap();
    let f = take(&mut s);
    let shape: Vec<(bool, u8)> = f.iter().map(|f| (f.fin, f.opcode)).collect();
    assert_eq!(shape, [(false, 1), (true, 9), (false, 0), (true, 0)]);
    let text: Vec<u8> = f.iter().filter(|f| f.opcode != 9).flat_map(|f| f.payload.clone()).collect();
    assert_eq!(text, "a€!".as_bytes());
}

#[test]
fn mixing_kinds_inside_a_fragmented_message_is_refused() {
    let mut s = conn(Role::Server);
    s.send_data(DataKind::Text, b"a", false, true).unwrap();
    let before = s.output().to_vec();
    assert_eq!(s.send_binary(b"b").unwrap_err().kind, ErrorKind::WrongState);
    assert_eq!(s.output(), before.as_slice(), "nothing changed");
}

#[test]
fn text_must_be_utf8_and_errors_change_nothing() {
    let mut s = conn(Role::Server);
    assert_eq!(s.send_data(DataKind::Text, b"\xff", true, true).unwrap_err().kind, ErrorKind::InvalidArgument);
    assert_eq!(
        s.send_data(DataKind::Text, b"ab\xe2\x82", true, true).unwrap_err().kind,
        ErrorKind::InvalidArgument,
        "a final fragment may not end inside a code point"
    );
    assert!(s.output().is_empty());
    s.send_data(DataKind::Text, b"ab\xe2\x82", false, true).unwrap();
    assert_eq!(s.send_data(DataKind::Text, b"x", true, true).unwrap_err().kind, ErrorKind::InvalidArgument);
    s.send_data(DataKind::Text, b"\xac", true, true).unwrap();
}

#[test]
fn control_payload_limit() {
    let mut s = conn(Role::Server);
    assert_eq!(s.send_ping(&[0; 126]).unwrap_err().kind, ErrorKind::InvalidArgument);
    assert_eq!(s.send_pong(&[0; 126]).unwrap_err().kind, ErrorKind::InvalidArgument);
    s.send_ping(&[0; 125]).unwrap();
    s.send_pong(b"").unwrap();
    assert_eq!(take(&mut s).len(), 2);
}

#[test]
fn close_code_and_reason_rules() {
    for bad in [0u16, 999, 1004, 1006, 1015, 1016, 2999, 5000] {
        let mut s = conn(Role::Server);
        assert_eq!(s.send_close(Some(bad), "").unwrap_err().kind, ErrorKind::InvalidArgument, "{bad}");
        assert_eq!(s.state(), State::Open);
    }
    let mut s = conn(Role::Server);
    assert_eq!(s.send_close(Some(1000), &"x".repeat(124)).unwrap_err().kind, ErrorKind::InvalidArgument);
    assert_eq!(s.send_close(None, "why").unwrap_err().kind, ErrorKind::InvalidArgument);
    s.send_close(Some(1000), &"x".repeat(123)).unwrap();
    assert_eq!(take(&mut s)[0].payload.len(), 125);
    let mut s = conn(Role::Server);
    s.send_close(Some(1005), "").unwrap();
    assert!(take(&mut s)[0].payload.is_empty(), "1005 means no status code");
}

#[test]
fn sending_in_wrong_state_is_refused_and_changes_nothing() {
    let mut s = conn(Role::Server);
    s.send_close(Some(1000), "").unwrap();
    assert_eq!(s.state(), State::LocalClosing);
    let out = s.output().to_vec();
    assert_eq!(s.send_text("x").unwrap_err().kind, ErrorKind::WrongState);
    assert_eq!(s.send_ping(b"").unwrap_err().kind, ErrorKind::WrongState);
    assert_eq!(s.send_close(Some(1000), "").unwrap_err().kind, ErrorKind::WrongState);
    assert_eq!(s.output(), out.as_slice());
    assert_eq!(s.state(), State::LocalClosing);

    let mut c = Connection::client(Config::default());
    assert_eq!(c.state(), State::Connecting);
    assert_eq!(c.send_text("x").unwrap_err().kind, ErrorKind::WrongState);
    assert_eq!(c.send_close(Some(1000), "").unwrap_err().kind, ErrorKind::WrongState);
    assert_eq!(c.accept(None, &[]).unwrap_err().kind, ErrorKind::WrongState);
    assert_eq!(c.receive(b"HTTP/1.1").unwrap_err().kind, ErrorKind::WrongState);
    assert!(c.output().is_empty());
}

#[test]
fn partial_output_consumption() {
    let mut s = conn(Role::Server);
    s.send_binary(&[7; 300]).unwrap();
    let all = s.output().to_vec();
    let mut got = Vec::new();
    let mut buf = [0u8; 17];
    loop {
        let n = s.take_output(&mut buf);
        if n == 0 {
            break;
        }
        got.extend_from_slice(&buf[..n]);
    }
    assert_eq!(got, all);
    assert!(s.output().is_empty());
}
