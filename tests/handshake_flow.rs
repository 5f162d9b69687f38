//! The opening handshake through `Connection`, both roles, and rejection.

mod common;
use common::*;
use wsproto::{handshake, CloseSource, Config, Connection, ErrorKind, Event, State};

const REQUEST: &[u8] = b"GET /chat?x=1 HTTP/1.1\r\nHost: server.example.com\r\nUpgrade: websocket\r\n\
Connection: keep-alive, Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
Origin: http://example.com\r\nSec-WebSocket-Protocol: chat, superchat\r\nSec-WebSocket-Version: 13\r\n\r\n";

fn server_with_request() -> Connection {
    let mut s = Connection::server(Config::default());
    s.receive(REQUEST).unwrap();
    s
}

#[test]
fn server_reports_the_request_then_accepts() {
    let mut s = server_with_request();
    assert_eq!(
        drain(&mut s),
        vec![Ev::Request {
            target: "/chat?x=1".into(),
            host: "server.example.com".into(),
            subprotocols: vec!["chat".into(), "superchat".into()],
        }]
    );
    assert_eq!(s.state(), State::Connecting);
    s.accept(Some("chat"), &[("X-Server", "wsproto")]).unwrap();
    assert_eq!(s.state(), State::Open);
    let out = String::from_utf8(s.output().to_vec()).unwrap();
    assert!(out.starts_with("HTTP/1.1 101 "), "{out}");
    assert!(out.contains("Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"), "{out}");
    assert!(out.contains("Sec-WebSocket-Protocol: chat\r\n"));
    assert!(out.contains("X-Server: wsproto\r\n"));
    assert!(out.ends_with("\r\n\r\n"));
}

#[test]
fn request_byte_by_byte_gives_the_same_event() {
    let mut s = Connection::server(Config::default());
    let evs = feed_in_pieces(&mut s, REQUEST, &[1]);
    assert_eq!(evs.len(), 1);
    assert!(matches!(evs[0], Ev::Request { .. }));
}

#[test]
fn request_headers_are_exposed() {
    let mut s = server_with_request();
    match s.next_event().unwrap() {
        Event::Request(r) => {
            assert_eq!(r.headers().find("origin"), Some(&b"http://example.com"[..]));
            assert_eq!(r.headers().len(), 7);
            assert_eq!(r.key(), "dGhlIHNhbXBsZSBub25jZQ==");
        }
        e => panic!("{e:?}"),
    }
}

#[test]
fn choosing_an_unoffered_subprotocol_is_a_local_error() {
    let mut s = server_with_request();
    assert_eq!(s.accept(Some("other"), &[]).unwrap_err().kind, ErrorKind::InvalidArgument);
    assert!(s.output().is_empty());
    assert_eq!(s.state(), State::Connecting);
    s.accept(None, &[]).unwrap();
    assert_eq!(s.state(), State::Open);
}

#[test]
fn frames_sent_with_the_request_are_kept_until_accept() {
    let mut bytes = REQUEST.to_vec();
    bytes.extend(client_frame(true, 1, b"eager"));
    let mut s = Connection::server(Config::default());
    s.receive(&bytes).unwrap();
    assert!(matches!(drain(&mut s).as_slice(), [Ev::Request { .. }]));
    s.accept(None, &[]).unwrap();
    assert_eq!(drain(&mut s), vec![Ev::text("eager")]);
}

#[test]
fn bad_request_gives_a_handshake_error_and_a_status_hint() {
    let cases: &[(&[u8], u16)] = &[
        (b"POST / HTTP/1.1\r\nHost: a\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n", 426),
        (b"GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 8\r\n\r\n", 426),
        (b"GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: c2hvcnQ=\r\nSec-WebSocket-Version: 13\r\n\r\n", 400),
        (b"GET / HTTP/1.0\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n", 400),
        (b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n", 400),
    ];
    for (req, status) in cases {
        let mut s = Connection::server(Config::default());
        let err = s.receive(req).unwrap_err();
        assert_eq!(err.kind, ErrorKind::Handshake, "{}", String::from_utf8_lossy(req));
        assert_eq!(s.handshake_status_hint(), *status, "{err}");
        assert!(!err.message.is_empty());
        assert_eq!(s.accept(None, &[]).unwrap_err().kind, ErrorKind::WrongState);
        s.reject(s.handshake_status_hint(), &[], false).unwrap();
        let out = String::from_utf8(s.output().to_vec()).unwrap();
        assert!(out.starts_with(&format!("HTTP/1.1 {status} ")), "{out}");
        if *status == 426 {
            assert!(out.contains("Sec-WebSocket-Version: 13\r\n"), "{out}");
        }
        assert_eq!(s.state(), State::Closed);
    }
}

#[test]
fn oversized_request_head_is_refused_before_it_completes() {
    let cfg = Config { max_handshake_size: 1024, ..Config::default() };
    let mut s = Connection::server(cfg);
    s.receive(b"GET / HTTP/1.1\r\n").unwrap();
    let filler = format!("X-Filler: {}\r\n", "a".repeat(1100));
    let err = s.receive(filler.as_bytes()).unwrap_err();
    assert_eq!(err.kind, ErrorKind::Handshake);
    assert_eq!(s.handshake_status_hint(), 431);
    assert_eq!(s.buffered_input(), 0, "the oversized head is released");
}

#[test]
fn too_many_headers_is_431() {
    let cfg = Config { max_handshake_headers: 4, ..Config::default() };
    let mut s = Connection::server(cfg);
    assert_eq!(s.receive(REQUEST).unwrap_err().kind, ErrorKind::Handshake);
    assert_eq!(s.handshake_status_hint(), 431);
}

#[test]
fn reject_with_body() {
    let mut s = server_with_request();
    drain(&mut s);
    s.reject(403, &[("Content-Length", "6")], true).unwrap();
    assert_eq!(s.state(), State::Rejecting);
    s.reject_data(b"no", false).unwrap();
    s.reject_data(b"pe!!", true).unwrap();
    assert_eq!(s.state(), State::Closed);
    let out = String::from_utf8(s.output().to_vec()).unwrap();
    assert!(out.starts_with("HTTP/1.1 403 "));
    assert!(out.ends_with("\r\n\r\nnope!!"));
    assert_eq!(s.reject_data(b"x", true).unwrap_err().kind, ErrorKind::WrongState);
    s.receive_eof().unwrap();
    assert!(drain(&mut s).is_empty(), "no 1006 close after a finished rejection");
}

/// A client and a server talking to each other through their outputs.
fn pair(client_cfg: Config, server_cfg: Config, subprotocols: &[&str]) -> (Connection, Connection) {
    let mut c = Connection::client(client_cfg);
    let mut s = Connection::server(server_cfg);
    c.send_request("example.com", "/ws", subprotocols, &[("Origin", "http://example.com")]).unwrap();
    pump(&mut c, &mut s);
    (c, s)
}

fn pump(from: &mut Connection, to: &mut Connection) {
    let bytes = from.output().to_vec();
    from.consume_output(bytes.len());
    to.receive(&bytes).unwrap();
}

#[test]
fn client_and_server_complete_the_handshake_and_talk() {
    let (mut c, mut s) = pair(Config::default(), Config::default(), &["v2", "v1"]);
    let evs = drain(&mut s);
    assert_eq!(
        evs,
        vec![Ev::Request {
            target: "/ws".into(),
            host: "example.com".into(),
            subprotocols: vec!["v2".into(), "v1".into()]
        }]
    );
    s.accept(Some("v1"), &[]).unwrap();
    s.send_text("welcome").unwrap();
    pump(&mut s, &mut c);
    assert_eq!(
        drain(&mut c),
        vec![Ev::Accept { subprotocol: Some("v1".into()), extensions: String::new() }, Ev::text("welcome")]
    );
    assert_eq!(c.subprotocol(), Some("v1"));
    assert_eq!(c.state(), State::Open);
    c.send_text("hello").unwrap();
    c.send_close(Some(1000), "bye").unwrap();
    pump(&mut c, &mut s);
    assert_eq!(
        drain(&mut s),
        vec![Ev::text("hello"), Ev::Close { code: 1000, reason: "bye".into(), source: CloseSource::Peer }]
    );
    assert_eq!(s.state(), State::Closed);
    pump(&mut s, &mut c);
    assert_eq!(drain(&mut c), vec![Ev::close(1000, CloseSource::Peer)]);
    assert_eq!(c.state(), State::Closed);
    assert!(c.wants_close_transport() && s.wants_close_transport());
}

fn response_for(c: &Connection, extra: &str) -> Vec<u8> {
    let req = String::from_utf8(c.output().to_vec()).unwrap();
    let key = req.lines().find_map(|l| l.strip_prefix("Sec-WebSocket-Key: ")).unwrap();
    let token = handshake::accept_token(key.as_bytes());
    format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {}\r\n{extra}\r\n",
        std::str::from_utf8(&token).unwrap()
    )
    .into_bytes()
}

fn requesting_client(subprotocols: &[&str]) -> Connection {
    let mut c = Connection::client(Config::default());
    c.send_request("h", "/", subprotocols, &[]).unwrap();
    c
}

#[test]
fn client_validates_the_101() {
    let c0 = requesting_client(&["a"]);
    let good = response_for(&c0, "");
    let mut c = c0;
    let mut with_frames = good.clone();
    with_frames.extend(server_frame(true, 1, b"right away"));
    c.receive(&with_frames).unwrap();
    assert_eq!(
        drain(&mut c),
        vec![Ev::Accept { subprotocol: None, extensions: String::new() }, Ev::text("right away")],
        "frames in the same read as the 101 are not lost"
    );

    let bad_cases = [
        "Sec-WebSocket-Protocol: b\r\n",
        "Sec-WebSocket-Extensions: permessage-deflate\r\n",
        "Sec-WebSocket-Extensions: x-unknown\r\n",
    ];
    for extra in bad_cases {
        let mut c = requesting_client(&["a"]);
        let resp = response_for(&c, extra);
        let err = c.receive(&resp).unwrap_err();
        assert_eq!(err.kind, ErrorKind::Handshake, "{extra}");
        assert_eq!(c.state(), State::Closed);
    }
    let mut c = requesting_client(&[]);
    let resp = String::from_utf8(response_for(&c, "")).unwrap();
    let wrong = resp.replace("Sec-WebSocket-Accept: ", "Sec-WebSocket-Accept: x");
    assert_eq!(c.receive(wrong.as_bytes()).unwrap_err().kind, ErrorKind::Handshake);
    assert_eq!(c.receive(b"more").unwrap_err().kind, ErrorKind::Closed);
}

#[test]
fn client_sees_reject_then_body_chunks() {
    let mut c = requesting_client(&[]);
    let resp = b"HTTP/1.1 403 Forbidden\r\nContent-Length: 11\r\nX-Why: policy\r\n\r\nnot allowed";
    let evs = feed_in_pieces(&mut c, resp, &[61, 3, 3, 3, 3]);
    assert_eq!(evs[0], Ev::Reject { status: 403, has_body: true });
    let body: Vec<u8> = evs[1..]
        .iter()
        .flat_map(|e| match e {
            Ev::RejectData(d, _) => d.clone(),
            e => panic!("{e:?}"),
        })
        .collect();
    assert_eq!(body, b"not allowed");
    assert!(matches!(evs.last(), Some(Ev::RejectData(_, true))));
    assert!(evs.len() > 3, "the body arrives in several chunks");
    assert_eq!(c.state(), State::Closed);
}

#[test]
fn client_reject_without_body_and_until_eof() {
    let mut c = requesting_client(&[]);
    c.receive(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n").unwrap();
    assert_eq!(drain(&mut c), vec![Ev::Reject { status: 404, has_body: false }]);
    assert_eq!(c.state(), State::Closed);

    let mut c = requesting_client(&[]);
    c.receive(b"HTTP/1.1 500 Oops\r\n\r\npartial").unwrap();
    assert_eq!(c.state(), State::Rejecting);
    c.receive_eof().unwrap();
    assert_eq!(
        drain(&mut c),
        vec![
            Ev::Reject { status: 500, has_body: true },
            Ev::RejectData(b"partial".to_vec(), false),
            Ev::RejectData(vec![], true)
        ]
    );
    assert_eq!(c.state(), State::Closed);
}

#[test]
fn request_is_sent_once_and_is_well_formed() {
    let mut c = Connection::client(Config::default());
    c.send_request("example.com:8080", "/a?b", &["p1"], &[]).unwrap();
    let req = String::from_utf8(c.output().to_vec()).unwrap();
    assert!(req.starts_with("GET /a?b HTTP/1.1\r\n"));
    assert!(req.contains("Host: example.com:8080\r\n"));
    assert!(req.contains("Sec-WebSocket-Version: 13\r\n"));
    let key = req.lines().find_map(|l| l.strip_prefix("Sec-WebSocket-Key: ")).unwrap();
    assert!(handshake::key_is_valid(key.as_bytes()));
    assert_eq!(c.send_request("x", "/", &[], &[]).unwrap_err().kind, ErrorKind::WrongState);
    let mut c2 = Connection::client(Config::default());
    assert_eq!(c2.send_request("bad host", "/", &[], &[]).unwrap_err().kind, ErrorKind::InvalidArgument);
    assert!(c2.output().is_empty());
}

#[test]
fn eof_during_handshake_is_a_1006_close() {
    let mut c = requesting_client(&[]);
    c.receive(b"HTTP/1.1 101 Swi").unwrap();
    c.receive_eof().unwrap();
    assert_eq!(drain(&mut c), vec![Ev::close(1006, CloseSource::Eof)]);
    assert_eq!(c.state(), State::Closed);
}
