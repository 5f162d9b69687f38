//! Handshake parity with Python wsproto and the RFCs (issue 11 items 1-4,
//! issue 8 handshake hygiene), and handshake integration with other HTTP
//! stacks: a request read by another HTTP/1.1 parser
//! (`Connection::receive_request`) and RFC 8441 / RFC 9220 extended CONNECT
//! (`wsproto::h2`).

mod common;
use common::*;
use wsproto::h2::ConnectRequest;
use wsproto::{CloseSource, Config, Connection, DeflateConfig, ErrorKind, Event, Role, State};

const KEY: &str = "dGhlIHNhbXBsZSBub25jZQ==";

fn request(version: &str, extra: &[&str]) -> Vec<u8> {
    let mut s = format!(
        "GET /chat HTTP/{version}\r\nHost: server.example.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: {KEY}\r\nSec-WebSocket-Version: 13\r\n"
    );
    for l in extra {
        s.push_str(l);
        s.push_str("\r\n");
    }
    s.push_str("\r\n");
    s.into_bytes()
}

fn server_with(req: &[u8]) -> Connection {
    let mut s = Connection::server(Config::default());
    s.receive(req).unwrap();
    assert!(matches!(drain(&mut s).as_slice(), [Ev::Request { .. }]));
    s
}

/// A client whose request is out, and the 101 a server would answer it with.
fn client_and_101(upgrade: &str) -> (Connection, Vec<u8>) {
    let mut c = Connection::client(Config::default());
    c.send_request("example.com", "/", &[], &[]).unwrap();
    let req = c.output().to_vec();
    c.consume_output(req.len());
    let mut s = Connection::server(Config::default());
    s.receive(&req).unwrap();
    drain(&mut s);
    s.accept(None, &[]).unwrap();
    let resp = String::from_utf8(s.output().to_vec()).unwrap().replace("Upgrade: websocket", upgrade);
    (c, resp.into_bytes())
}

// ---- Issue 11, bug 1: the client's Upgrade check -----------------------------

#[test]
fn client_fails_a_101_whose_upgrade_is_not_exactly_websocket() {
    for bad in ["Upgrade: websocket, h2c", "Upgrade: h2c, websocket", "Upgrade: websocket2"] {
        let (mut c, resp) = client_and_101(bad);
        let e = c.receive(&resp).unwrap_err();
        assert_eq!(e.kind, ErrorKind::Handshake, "{bad}");
        assert_eq!(c.state(), State::Closed, "{bad}");
        assert!(drain(&mut c).is_empty(), "{bad}");
    }
    for good in ["Upgrade: websocket", "Upgrade: WebSocket", "upgrade: WEBSOCKET"] {
        let (mut c, resp) = client_and_101(good);
        c.receive(&resp).unwrap();
        assert_eq!(c.state(), State::Open, "{good}");
    }
}

// ---- Issue 11, bug 2: HTTP/1.x minor versions ---------------------------------

#[test]
fn http_1_2_request_is_processed_as_http_1_1() {
    let mut s = server_with(&request("1.2", &[]));
    s.accept(None, &[]).unwrap();
    assert!(s.output().starts_with(b"HTTP/1.1 101 "));
    // Byte by byte too: the early start-line check agrees with the parser.
    let mut s = Connection::server(Config::default());
    let evs = feed_in_pieces(&mut s, &request("1.9", &[]), &[1]);
    assert!(matches!(evs.as_slice(), [Ev::Request { .. }]), "{evs:?}");
    for v in ["2.0", "1.0", "0.9", "3"] {
        let mut s = Connection::server(Config::default());
        assert_eq!(s.receive(&request(v, &[])).unwrap_err().kind, ErrorKind::Handshake, "{v}");
        assert_eq!(s.handshake_status_hint(), 400, "{v}");
    }
}

#[test]
fn http_1_2_response_is_processed_as_http_1_1() {
    let (mut c, resp) = client_and_101("Upgrade: websocket");
    let resp = [&b"HTTP/1.2"[..], &resp[8..]].concat();
    c.receive(&resp).unwrap();
    assert_eq!(c.state(), State::Open);
}

// ---- Issue 11, bugs 3 and 4: rejection statuses -------------------------------

#[test]
fn reject_takes_only_final_statuses() {
    let mut s = server_with(&request("1.1", &[]));
    for status in [0, 100, 101, 102, 103, 199, 600] {
        for has_body in [false, true] {
            let e = s.reject(status, &[], has_body).unwrap_err();
            assert_eq!(e.kind, ErrorKind::InvalidArgument, "{status}");
            assert!(s.output().is_empty(), "{status}: nothing written");
            assert_eq!(s.state(), State::Connecting, "{status}: nothing changed");
        }
    }
    s.reject(200, &[], false).unwrap();
    assert_eq!(s.output(), b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
    assert_eq!(s.state(), State::Closed);
}

#[test]
fn no_body_after_204_or_304() {
    for (status, line) in [(204, "HTTP/1.1 204 No Content\r\n\r\n"), (304, "HTTP/1.1 304 Not Modified\r\n\r\n")] {
        let mut s = server_with(&request("1.1", &[]));
        assert_eq!(s.reject(status, &[], true).unwrap_err().kind, ErrorKind::InvalidArgument);
        assert_eq!(s.state(), State::Connecting);
        assert!(s.output().is_empty());
        assert_eq!(s.reject_data(b"body", true).unwrap_err().kind, ErrorKind::WrongState);
        assert!(s.reject(status, &[("Transfer-Encoding", "chunked")], false).is_err());
        s.reject(status, &[], false).unwrap();
        assert_eq!(s.output(), line.as_bytes());
        assert_eq!(s.state(), State::Closed);
        assert_eq!(s.reject_data(b"body", true).unwrap_err().kind, ErrorKind::WrongState);
    }
}

// ---- Issue 8: a request with a body ---------------------------------------------

#[test]
fn request_with_a_body_is_400_and_its_body_is_not_read_as_frames() {
    let ping = client_frame(true, 9, b"p");
    let chunked = [&b"6\r\n"[..], &ping, b"\r\n0\r\n\r\n"].concat();
    for (header, body) in
        [(format!("Content-Length: {}", ping.len()), ping.clone()), ("Transfer-Encoding: chunked".to_string(), chunked)]
    {
        for split in [false, true] {
            let mut s = Connection::server(Config::default());
            let head = request("1.1", &[&header]);
            let e = if split {
                s.receive(&head).unwrap_err()
            } else {
                s.receive(&[&head[..], &body].concat()).unwrap_err()
            };
            assert_eq!(e.kind, ErrorKind::Handshake, "{header}");
            assert_eq!(s.handshake_status_hint(), 400, "{header}");
            assert!(drain(&mut s).is_empty(), "{header}: no Request, no Ping");
            if split {
                assert!(s.receive(&body).is_err(), "the body is refused too");
            }
            s.reject(400, &[], false).unwrap();
            assert_eq!(s.output(), b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n", "{header}: no pong");
            assert!(drain(&mut s).is_empty());
        }
    }
    // Content-Length: 0 is no body.
    let mut s = server_with(&request("1.1", &["Content-Length: 0"]));
    s.accept(None, &[]).unwrap();
}

// ---- Issue 8: header slots ------------------------------------------------------

#[test]
fn huge_max_handshake_headers_allocates_by_the_head() {
    for max in [usize::MAX, 1 << 40, 1 << 24] {
        let cfg = Config { max_handshake_headers: max, ..Config::default() };
        let mut s = Connection::server(cfg);
        s.receive(&request("1.1", &["Origin: http://example.com"])).unwrap();
        match s.next_event() {
            Some(Event::Request(r)) => assert_eq!(r.headers().len(), 6),
            e => panic!("{e:?}"),
        }
        s.accept(None, &[]).unwrap();
        // And the client side.
        let mut c = Connection::client(Config { max_handshake_headers: max, ..Config::default() });
        c.send_request("example.com", "/", &[], &[]).unwrap();
        let req = c.output().to_vec();
        c.consume_output(req.len());
        let mut s = Connection::server(Config::default());
        s.receive(&req).unwrap();
        drain(&mut s);
        s.accept(None, &[("X-A", "1")]).unwrap();
        c.receive(s.output()).unwrap();
        assert_eq!(c.state(), State::Open);
    }
}

// ---- Issue 11 item 3: a request another HTTP parser read -----------------------

type Fields<'a> = Vec<(&'a [u8], &'a [u8])>;

fn fields(extra: &[(&'static str, &'static str)]) -> Fields<'static> {
    let mut f: Fields = vec![
        (b"Host", b"server.example.com"),
        (b"Upgrade", b"websocket"),
        (b"Connection", b"Upgrade"),
        (b"Sec-WebSocket-Key", KEY.as_bytes()),
        (b"Sec-WebSocket-Version", b"13"),
    ];
    f.extend(extra.iter().map(|(n, v)| (n.as_bytes(), v.as_bytes())));
    f
}

fn wire(method: &str, target: &str, f: &Fields<'_>) -> Vec<u8> {
    let mut s = format!("{method} {target} HTTP/1.1\r\n").into_bytes();
    for (n, v) in f {
        s.extend_from_slice(n);
        s.extend_from_slice(b": ");
        s.extend_from_slice(v);
        s.extend_from_slice(b"\r\n");
    }
    s.extend_from_slice(b"\r\n");
    s
}

#[test]
fn receive_request_gives_the_same_event_and_answer_as_the_wire() {
    let f = fields(&[("Sec-WebSocket-Protocol", "chat, superchat"), ("X-Bin", "\u{e9}")]);
    let mut a = Connection::server(Config::default());
    a.receive(&wire("GET", "/chat?x=1", &f)).unwrap();
    let mut b = Connection::server(Config::default());
    b.receive_request(b"GET", b"/chat?x=1", &f, &[]).unwrap();
    let (ea, eb) = (a.next_event().unwrap(), b.next_event().unwrap());
    let (Event::Request(ra), Event::Request(rb)) = (ea, eb) else { panic!("{ea:?} {eb:?}") };
    assert_eq!((ra.target(), ra.host(), ra.key()), (rb.target(), rb.host(), rb.key()));
    assert_eq!(ra.subprotocols().collect::<Vec<_>>(), rb.subprotocols().collect::<Vec<_>>());
    assert_eq!(ra.headers().iter().collect::<Vec<_>>(), rb.headers().iter().collect::<Vec<_>>());
    assert_eq!(rb.headers().len(), 7);
    a.accept(Some("chat"), &[]).unwrap();
    b.accept(Some("chat"), &[]).unwrap();
    assert_eq!(a.output(), b.output());
    assert_eq!(b.state(), State::Open);
}

#[test]
fn receive_request_refuses_what_the_wire_refuses() {
    let cases: Vec<(&str, &str, Fields)> = vec![
        ("POST", "/", fields(&[])),
        ("GET", "/", fields(&[("Content-Length", "3")])),
        ("GET", "/", fields(&[("Transfer-Encoding", "chunked")])),
        ("GET", "/", fields(&[("Host", "again")])),
        ("GET", "/", fields(&[("Sec-WebSocket-Protocol", "a b")])),
        ("GET", "/", fields(&[]).into_iter().filter(|(n, _)| *n != b"Upgrade").collect()),
        ("GET", "/", fields(&[]).into_iter().filter(|(n, _)| *n != b"Sec-WebSocket-Version").collect()),
        ("GET", "/", fields(&[("X-Nul", "a\u{1}b")])),
    ];
    for (method, target, f) in cases {
        let mut a = Connection::server(Config::default());
        let ea = a.receive(&wire(method, target, &f)).unwrap_err();
        let mut b = Connection::server(Config::default());
        let eb = b.receive_request(method.as_bytes(), target.as_bytes(), &f, &[]).unwrap_err();
        assert_eq!((ea.kind, ea.status_hint), (eb.kind, eb.status_hint), "{method} {target} {f:?}");
        assert_eq!(ea.message, eb.message);
        assert_eq!(a.handshake_status_hint(), b.handshake_status_hint());
        assert!(drain(&mut b).is_empty());
        assert_eq!(b.accept(None, &[]).unwrap_err().kind, ErrorKind::WrongState);
        b.reject(b.handshake_status_hint(), &[], false).unwrap();
        assert_eq!(b.state(), State::Closed);
    }
    // What cannot be written as an HTTP/1.1 head at all is a 400 too (no
    // header injection through a value or a name).
    let crlf = fields(&[("X-A", "a\r\nSec-WebSocket-Protocol: evil")]);
    let colon = fields(&[("X-A: b", "c")]);
    for (method, target, f) in
        [("GET", "/", &crlf), ("GET", "/", &colon), ("GET", "/a b", &fields(&[])), ("G T", "/", &fields(&[]))]
    {
        let mut b = Connection::server(Config::default());
        let e = b.receive_request(method.as_bytes(), target.as_bytes(), f, &[]).unwrap_err();
        assert_eq!((e.kind, b.handshake_status_hint()), (ErrorKind::Handshake, 400), "{method} {target}");
        b.reject(400, &[], false).unwrap();
    }
    // Limits apply as on the wire.
    let cfg = Config { max_handshake_size: 100, ..Config::default() };
    let mut b = Connection::server(cfg);
    b.receive_request(b"GET", b"/", &fields(&[("X-Long", "aaaaaaaaaaaaaaaaaaaaaaa")]), &[]).unwrap_err();
    assert_eq!(b.handshake_status_hint(), 431);
    let cfg = Config { max_handshake_headers: 5, ..Config::default() };
    let mut b = Connection::server(cfg);
    b.receive_request(b"GET", b"/", &fields(&[("X-A", "1")]), &[]).unwrap_err();
    assert_eq!(b.handshake_status_hint(), 431);
}

#[test]
fn receive_request_keeps_trailing_frames_until_accept_and_checks_state() {
    let mut b = Connection::server(Config::default());
    let early = [client_frame(true, 1, b"early"), client_frame(true, 9, b"p")].concat();
    b.receive_request(b"GET", b"/", &fields(&[]), &early).unwrap();
    assert!(matches!(drain(&mut b).as_slice(), [Ev::Request { .. }]));
    b.accept(None, &[]).unwrap();
    assert_eq!(drain(&mut b), vec![Ev::text("early"), Ev::Ping(b"p".to_vec())]);

    // Only once, only on a fresh server.
    assert_eq!(b.receive_request(b"GET", b"/", &fields(&[]), &[]).unwrap_err().kind, ErrorKind::WrongState);
    let mut c = Connection::client(Config::default());
    assert_eq!(c.receive_request(b"GET", b"/", &fields(&[]), &[]).unwrap_err().kind, ErrorKind::WrongState);
    let mut s = Connection::server(Config::default());
    s.receive(b"GET / HT").unwrap();
    assert_eq!(s.receive_request(b"GET", b"/", &fields(&[]), &[]).unwrap_err().kind, ErrorKind::WrongState);
    let mut s = Connection::frames_only(Role::Server, Config::default(), None, &[]);
    assert_eq!(s.receive_request(b"GET", b"/", &fields(&[]), &[]).unwrap_err().kind, ErrorKind::WrongState);
}

// ---- Issue 11 item 3: RFC 8441 / RFC 9220 extended CONNECT ---------------------

/// A request as an h2 library (e.g. the Python h2 package or nghttp2)
/// delivers it: pseudo-headers first, lowercase names.
fn connect_fields(ext: &'static str) -> Fields<'static> {
    vec![
        (b":method", b"CONNECT"),
        (b":protocol", b"websocket"),
        (b":scheme", b"https"),
        (b":path", b"/chat"),
        (b":authority", b"server.example.com:443"),
        (b"sec-websocket-protocol", b"chat, superchat"),
        (b"sec-websocket-extensions", ext.as_bytes()),
        (b"sec-websocket-version", b"13"),
        (b"origin", b"http://www.example.com"),
        (b"user-agent", b"test/1.0"),
    ]
}

#[test]
fn extended_connect_then_frames_only_with_deflate() {
    let server_deflate = DeflateConfig { server_no_context_takeover: true, ..DeflateConfig::default() };
    let req = ConnectRequest::parse(&connect_fields("permessage-deflate; client_max_window_bits=10")).unwrap();
    let view = req.request();
    assert_eq!((view.target(), view.host(), req.scheme()), ("/chat", "server.example.com:443", "https"));
    assert_eq!(view.subprotocols().collect::<Vec<_>>(), ["chat", "superchat"]);
    let resp = req.accept(Some(&server_deflate), Some("chat"), &[("server", "wsproto")]).unwrap();
    let headers: Vec<(&str, &str)> = resp.headers.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
    assert_eq!(
        headers,
        [
            (":status", "200"),
            ("sec-websocket-protocol", "chat"),
            ("sec-websocket-extensions", "permessage-deflate; server_no_context_takeover; client_max_window_bits=10"),
            ("server", "wsproto"),
        ]
    );
    let params = resp.deflate.expect("negotiated");
    assert_eq!((params.client_max_window_bits, params.server_no_context_takeover), (10, true));

    // The client side learns the same parameters from the response's
    // sec-websocket-extensions (its own h2 stack hands it over).
    let client_cfg = DeflateConfig {
        offers: vec![wsproto::DeflateParams { client_max_window_bits: 10, ..Default::default() }],
        ..DeflateConfig::default()
    };
    let client_params =
        wsproto::deflate::client_accept(&client_cfg, &[headers[2].1.as_bytes()]).unwrap().expect("accepted");
    assert_eq!(client_params, params);

    let server_cfg = Config { deflate: Some(server_deflate), ..Config::default() };
    let mut s = Connection::frames_only(Role::Server, server_cfg, resp.deflate, &[]);
    let mut c = Connection::frames_only(Role::Client, Config::default(), Some(client_params), &[]);
    let text = "hello hello hello hello hello ".repeat(20);
    c.send_text(&text).unwrap();
    let wire = c.output().to_vec();
    assert_eq!(wire[0] & 0x40, 0x40, "compressed (RSV1)");
    assert!(wire.len() < text.len());
    s.receive(&wire).unwrap();
    assert_eq!(drain(&mut s), vec![Ev::text(&text)]);
    s.send_text(&text).unwrap();
    let wire = s.output().to_vec();
    assert_eq!(wire[0] & 0x40, 0x40);
    c.consume_output(usize::MAX);
    c.receive(&wire).unwrap();
    assert_eq!(drain(&mut c), vec![Ev::text(&text)]);
    c.send_close(Some(1000), "").unwrap();
    s.receive(c.output()).unwrap();
    assert_eq!(drain(&mut s), vec![Ev::close(1000, CloseSource::Peer)]);
}

#[test]
fn extended_connect_declines_what_the_http1_server_declines() {
    // Without server deflate config, or with an offer it cannot honour,
    // there is no sec-websocket-extensions and no deflate.
    let req = ConnectRequest::parse(&connect_fields("permessage-deflate; server_max_window_bits=8, x-other")).unwrap();
    let resp = req.accept(Some(&DeflateConfig::default()), None, &[]).unwrap();
    assert_eq!(resp.headers, [(":status".to_string(), "200".to_string())]);
    assert_eq!(resp.deflate, None);
    let req = ConnectRequest::parse(&connect_fields("permessage-deflate")).unwrap();
    assert_eq!(req.accept(None, None, &[]).unwrap().deflate, None);
    assert_eq!(req.accept(None, Some("nope"), &[]).unwrap_err().kind, ErrorKind::InvalidArgument);
    // The same request over HTTP/1.1 semantics is not an extended CONNECT.
    let mut f = connect_fields("permessage-deflate");
    f[0].1 = b"GET";
    let e = ConnectRequest::parse(&f).unwrap_err();
    assert_eq!((e.kind, e.status_hint), (ErrorKind::Handshake, 400));
}
