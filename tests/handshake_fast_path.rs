//! The server handshake's fast path (issue 12, item 6) decides exactly as
//! the general path does.
//!
//! A request whose whole head arrives in the first `receive` is parsed
//! straight from the caller's bytes (`handshake::parse_whole_request`);
//! anything else (a head split over several calls, or one the fast path
//! declines) goes through `find_head_end` + `parse_request`. Both are fed
//! the same generated requests: valid ones, ones broken in every way the
//! request rules check (issue 11), and random byte mutations of them.

use wsproto::handshake::{self, find_head_end, parse_request, parse_whole_request};
use wsproto::{Config, Connection, ErrorKind, Event, State};

fn xorshift(state: &mut u64) -> u64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    *state
}

fn pick<T: Copy>(rng: &mut u64, items: &[T]) -> T {
    items[xorshift(rng) as usize % items.len()]
}

const START_LINES: &[&[u8]] = &[
    b"GET /chat HTTP/1.1",
    b"GET /chat HTTP/1.1",
    b"GET /chat HTTP/1.1",
    b"GET / HTTP/1.1",
    b"GET /chat?room=1&x=%20 HTTP/1.1",
    b"GET http://server.example.com/chat HTTP/1.1",
    b"GET /caf\xc3\xa9 HTTP/1.1",
    b"GET /\xff HTTP/1.1",
    b"GET /chat HTTP/1.0",
    b"GET /chat HTTP/1.2",
    b"GET /chat HTTP/1.9",
    b"GET /chat HTTP/2.0",
    b"POST /chat HTTP/1.1",
    b"get /chat HTTP/1.1",
    b"GET  HTTP/1.1",
    b"GET /chat  HTTP/1.1",
    b"GET /chat",
    b"\x16\x03\x01\x02\x00\x01",
];

const REQUIRED: &[&[u8]] = &[
    b"Host: server.example.com",
    b"Upgrade: websocket",
    b"Connection: Upgrade",
    b"Sec-WebSocket-Key: KEY",
    b"Sec-WebSocket-Version: 13",
];

const OPTIONAL: &[&[u8]] = &[
    b"Origin: http://example.com",
    b"User-Agent: peers-bench/1.0",
    b"Sec-WebSocket-Protocol: chat, superchat",
    b"Sec-WebSocket-Protocol: v2.json",
    b"Sec-WebSocket-Protocol: a b",
    b"Sec-WebSocket-Protocol: ,chat,,",
    b"Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits",
    b"Sec-WebSocket-Extensions: x-foo",
    b"Content-Length: 0",
    b"Content-Length: 5",
    b"Content-Length: x",
    b"Transfer-Encoding: chunked",
    b"upgrade: WebSocket",
    b"Upgrade: h2c",
    b"Upgrade: h2c, websocket",
    b"connection: keep-alive, Upgrade",
    b"Connection: close",
    b"Sec-WebSocket-Version: 8",
    b"Sec-WebSocket-Version: 13, 8",
    b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZR==",
    b"Sec-WebSocket-Key: short",
    b"Host: ",
    b"Host: other.example.com",
    b"Host: h\xc3\xa9",
    b"Host: \xff",
    b"X-Empty:",
    b"X-Spaces:   a b   ",
    b"X-Bin: \xff\xfe",
    b"Cookie: a=b; c=d",
    b" folded continuation",
    b"Bad Name: x",
    b"NoColon",
];

const KEY: &[u8] = b"dGhlIHNhbXBsZSBub25jZQ==";

/// A masked client text frame "hi", sent right after the request.
const FRAME: &[u8] = &[0x81, 0x82, 1, 2, 3, 4, b'h' ^ 1, b'i' ^ 2];

/// One generated request: start line, headers (required ones mostly
/// present, in random order, some doubled), optional ones, line ends
/// (CRLF, sometimes a bare LF or a leading empty line), bytes after the
/// head, and sometimes a few random byte mutations.
fn request(rng: &mut u64) -> Vec<u8> {
    let mut lines: Vec<Vec<u8>> = Vec::new();
    for h in REQUIRED {
        match xorshift(rng) % 16 {
            0 => {}
            1 => {
                lines.push(h.to_vec());
                lines.push(h.to_vec());
            }
            _ => lines.push(h.to_vec()),
        }
    }
    for _ in 0..xorshift(rng) % 4 {
        lines.push(pick(rng, OPTIONAL).to_vec());
    }
    // Shuffle.
    for i in (1..lines.len()).rev() {
        let j = xorshift(rng) as usize % (i + 1);
        lines.swap(i, j);
    }
    let key: [u8; 16] = std::array::from_fn(|_| xorshift(rng) as u8);
    let key = handshake::key_from_nonce(&key);
    let mut out = Vec::new();
    if xorshift(rng) % 32 == 0 {
        out.extend_from_slice(b"\r\n");
    }
    let eol = |rng: &mut u64| -> &'static [u8] {
        if xorshift(rng) % 40 == 0 {
            b"\n"
        } else {
            b"\r\n"
        }
    };
    out.extend_from_slice(pick(rng, START_LINES));
    out.extend_from_slice(eol(rng));
    for l in lines {
        if l.ends_with(b"KEY") {
            out.extend_from_slice(&l[..l.len() - 3]);
            out.extend_from_slice(if xorshift(rng) % 8 == 0 { KEY } else { &key });
        } else {
            out.extend_from_slice(&l);
        }
        out.extend_from_slice(eol(rng));
    }
    out.extend_from_slice(eol(rng));
    match xorshift(rng) % 8 {
        0 => out.extend_from_slice(FRAME),
        1 => out.extend_from_slice(b"\r\n\r\n"),
        _ => {}
    }
    if xorshift(rng) % 4 == 0 {
        for _ in 0..1 + xorshift(rng) % 3 {
            let at = xorshift(rng) as usize % out.len();
            let any = xorshift(rng) as u8;
            out[at] = pick(rng, &[b'\r', b'\n', b' ', b':', b'\t', b',', 0, 0x80, 0xff, b'A', any]);
        }
    }
    out
}

/// (max_handshake_headers, max_handshake_size) pairs, the default first.
const LIMITS: &[(usize, usize)] =
    &[(64, 16 << 10), (4, 16 << 10), (64, 120), (64, 200), (1000, 16 << 10), (0, 16 << 10)];

/// The general path, as `Connection::take_head` and `read_request` run it
/// on the same bytes: the head through the first CRLF CRLF, then
/// `parse_request`.
fn general(
    data: &[u8],
    max_headers: usize,
    max_len: usize,
) -> Option<wsproto::Result<(handshake::ParsedRequest, usize)>> {
    let n = find_head_end(data)?;
    if n > max_len {
        return None;
    }
    Some(parse_request(data[..n].to_vec(), max_headers).map(|r| (r, n)))
}

#[test]
fn fast_path_parses_as_the_general_path() {
    let mut rng = 0x0DDB_1A5E_5BAD_5EEDu64;
    let (mut fast, mut total) = (0usize, 0usize);
    for _ in 0..60_000 {
        let data = request(&mut rng);
        for &(max_headers, max_len) in LIMITS {
            total += 1;
            let Some((req, n)) = parse_whole_request(&data, max_headers, max_len) else { continue };
            fast += 1;
            match general(&data, max_headers, max_len) {
                Some(Ok((g, gn))) => {
                    assert_eq!(n, gn, "{:?}", String::from_utf8_lossy(&data));
                    assert_eq!(req, g, "{:?}", String::from_utf8_lossy(&data));
                }
                other => panic!(
                    "fast path accepted what the general path does not: {:?} -> {other:?}",
                    String::from_utf8_lossy(&data)
                ),
            }
        }
    }
    // The fast path is taken often enough for this to mean something (most
    // generated requests are broken on purpose, and declined).
    assert!(fast > 3000, "{fast} of {total}");
}

#[test]
fn the_benchmark_request_takes_the_fast_path() {
    let req = b"GET /chat HTTP/1.1\r\nHost: server.example.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
                Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nOrigin: http://example.com\r\n\
                Sec-WebSocket-Version: 13\r\nUser-Agent: peers-bench/1.0\r\n\r\n";
    let (r, n) = parse_whole_request(req, 64, 16 << 10).expect("fast path");
    assert_eq!(n, req.len());
    assert_eq!(r, general(req, 64, 16 << 10).unwrap().unwrap().0);
    // Declined: a higher minor version (rewritten by the general path), a
    // leading empty line, bare LF line ends, too many header slots, an
    // incomplete head.
    let declined: [&[u8]; 4] = [
        b"GET / HTTP/1.2\r\nHost: h\r\n\r\n",
        b"\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n",
        b"GET / HTTP/1.1\nHost: h\n\n",
        b"GET / HTTP/1.1\r\nHost: h\r\n",
    ];
    for d in declined {
        assert!(parse_whole_request(d, 64, 16 << 10).is_none(), "{:?}", String::from_utf8_lossy(d));
    }
    assert!(parse_whole_request(req, 65, 16 << 10).is_none());
}

/// Everything a server connection shows after being fed a request.
#[derive(Debug, PartialEq)]
struct Seen {
    error: Option<(ErrorKind, u16)>,
    message: Option<String>,
    events: Vec<String>,
    state: State,
    status_hint: u16,
    wants_read: bool,
    buffered_input: usize,
    accepted: Option<(Vec<u8>, Vec<String>, usize)>,
}

fn event_string(e: Event<'_>) -> String {
    match e {
        Event::Request(r) => format!(
            "request target={:?} host={:?} key={:?} protocols={:?} extensions={:?} headers={:?}",
            r.target(),
            r.host(),
            r.key(),
            r.subprotocols().collect::<Vec<_>>(),
            r.extensions().collect::<Vec<_>>(),
            r.headers().iter().collect::<Vec<_>>()
        ),
        other => format!("{other:?}"),
    }
}

/// Feeds `data` in pieces of the given sizes (the last takes the rest),
/// stopping at the first error, then takes the events and, if the request
/// was valid, accepts it (with a subprotocol the client offered, if any)
/// and takes the events of frames sent along.
fn feed(data: &[u8], cuts: &[usize], limits: (usize, usize)) -> Seen {
    let cfg = Config { max_handshake_headers: limits.0, max_handshake_size: limits.1, ..Config::default() };
    let mut c = Connection::server(cfg);
    let mut error = None;
    let mut rest = data;
    for (i, &cut) in cuts.iter().chain([&usize::MAX]).enumerate() {
        if rest.is_empty() && i > 0 {
            break;
        }
        let (piece, tail) = rest.split_at(cut.min(rest.len()));
        rest = tail;
        if let Err(e) = c.receive(piece) {
            error = Some(e);
            break;
        }
    }
    let mut events = Vec::new();
    let mut protocol = None;
    while let Some(e) = c.next_event() {
        if let Event::Request(r) = &e {
            protocol = r.subprotocols().next().map(str::to_string);
        }
        events.push(event_string(e));
    }
    let mut seen = Seen {
        error: error.as_ref().map(|e| (e.kind, e.status_hint)),
        message: error.map(|e| e.message),
        events,
        state: c.state(),
        status_hint: c.handshake_status_hint(),
        wants_read: c.wants_read(),
        buffered_input: c.buffered_input(),
        accepted: None,
    };
    if seen.error.is_none() && !seen.events.is_empty() {
        c.accept(protocol.as_deref(), &[("Server", "t")]).expect("accept");
        let out = c.output().to_vec();
        let mut after = Vec::new();
        while let Some(e) = c.next_event() {
            after.push(event_string(e));
        }
        seen.accepted = Some((out, after, c.buffered_input()));
    }
    seen
}

/// Whole (the fast path when it applies) against split so that the first
/// piece is never a whole head (always the general path), and against
/// random splits: the same events, request data, errors, state, status
/// hint, wants_read, held input, 101 and frames after it, whenever the
/// whole request was accepted. A request fed whole that fails never took
/// the fast path (it declines all but valid requests); split, it may fail
/// earlier (the start line is checked while incomplete) with another
/// message or status, as it always did.
#[test]
fn connection_decides_the_same_however_the_request_is_split() {
    let mut rng = 0xC0FF_EE00_1234_5678u64;
    let (mut fast_accepts, mut failures) = (0, 0);
    for round in 0..20_000 {
        let data = request(&mut rng);
        let limits = pick(&mut rng, LIMITS);
        let whole = feed(&data, &[], limits);
        let ctx = || format!("round {round} {:?} {limits:?}", String::from_utf8_lossy(&data));
        if whole.error.is_some() {
            assert!(parse_whole_request(&data, limits.0, limits.1).is_none(), "{}", ctx());
            failures += 1;
            continue;
        }
        let first = 1 + xorshift(&mut rng) as usize % 8;
        let mut cuts = vec![first];
        while cuts.len() < 6 {
            cuts.push(1 + xorshift(&mut rng) as usize % 64);
        }
        for split in [feed(&data, &[first], limits), feed(&data, &cuts, limits), feed(&data, &[1; 4096], limits)] {
            assert_eq!(whole, split, "{}", ctx());
        }
        if whole.accepted.is_some() && parse_whole_request(&data, limits.0, limits.1).is_some() {
            fast_accepts += 1;
        }
    }
    assert!(fast_accepts > 300 && failures > 1000, "{fast_accepts} {failures}");
}
