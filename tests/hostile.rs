//! The hostile input catalogue (tests/hostile/cases.txt) through the Rust API.
//! tests/c/test_hostile.c runs the same file through the C API. Each case runs
//! fed whole and fed one byte per call; both outcomes must match the
//! expectation. Every failing case is reported by name in one run.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;
use std::process::Command;

use wsproto::{CloseSource, Config, Connection, DataKind, ErrorKind, Event, MessageMode, Role, State};

const CASES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/hostile/cases.txt");
const MIN_CASES: usize = 80;

#[derive(Debug, Default)]
struct Case {
    name: String,
    line: usize,
    role: String,
    mode: String,
    config: Vec<(String, String)>,
    inputs: Vec<Option<Vec<u8>>>,
    expected: Outcome,
}

/// What a run produced, as the words of cases.txt.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
struct Outcome {
    result: Vec<String>,
    events: Vec<String>,
    state: String,
    output: Vec<String>,
    hint: String,
}

fn words(s: &str) -> Vec<String> {
    s.split_whitespace().map(String::from).collect()
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn unhex(s: &str) -> Result<Vec<u8>, String> {
    let digits: Vec<u8> = s.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    if digits.len() % 2 != 0 {
        return Err("odd number of hex digits".into());
    }
    digits
        .chunks(2)
        .map(|p| u8::from_str_radix(std::str::from_utf8(p).unwrap_or("zz"), 16).map_err(|e| e.to_string()))
        .collect()
}

fn parse_cases(text: &str) -> Result<Vec<Case>, String> {
    // Join continuation lines (leading space) onto their field.
    let mut fields: Vec<(usize, String, String)> = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        if raw.starts_with('#') {
            continue;
        }
        if raw.trim().is_empty() {
            fields.push((i + 1, String::new(), String::new()));
            continue;
        }
        if raw.starts_with(' ') {
            let last = fields.last_mut().ok_or(format!("line {}: continuation of nothing", i + 1))?;
            last.2.push(' ');
            last.2.push_str(raw.trim());
            continue;
        }
        let (k, v) = raw.split_once(':').ok_or(format!("line {}: expected 'field: value'", i + 1))?;
        fields.push((i + 1, k.trim().to_string(), v.trim().to_string()));
    }
    let mut cases = Vec::new();
    let mut cur: Option<Case> = None;
    for (line, k, v) in fields {
        if k.is_empty() {
            cases.extend(cur.take());
            continue;
        }
        let c = cur.get_or_insert_with(|| Case { line, ..Case::default() });
        match k.as_str() {
            "case" => c.name = v,
            "role" => c.role = v,
            "mode" => c.mode = v,
            "config" => {
                for w in v.split_whitespace() {
                    let (a, b) = w.split_once('=').ok_or(format!("line {line}: bad config word {w}"))?;
                    c.config.push((a.into(), b.into()));
                }
            }
            "src" => {}
            "input" if v == "eof" => c.inputs.push(None),
            "input" => c.inputs.push(Some(unhex(&v).map_err(|e| format!("line {line}: {e}"))?)),
            "result" => c.expected.result = words(&v),
            "events" => c.expected.events = words(&v),
            "state" => c.expected.state = v,
            "output" => c.expected.output = words(&v),
            "hint" => c.expected.hint = v,
            _ => return Err(format!("line {line}: unknown field {k}")),
        }
    }
    cases.extend(cur);
    for c in &cases {
        if c.name.is_empty() || c.inputs.is_empty() || c.expected.state.is_empty() {
            return Err(format!("case at line {} lacks a name, input or state", c.line));
        }
    }
    Ok(cases)
}

/// The RNG the catalogue assumes for clients: 0, 1, 2, ... in every refill.
fn counter_rng(buf: &mut [u8]) -> bool {
    for (i, b) in buf.iter_mut().enumerate() {
        *b = i as u8;
    }
    true
}

fn build(case: &Case) -> Result<Connection, String> {
    let mut cfg = Config { rng: Some(Box::new(counter_rng)), ..Config::default() };
    let mut protocols: Vec<String> = Vec::new();
    let mut params = None;
    for (k, v) in &case.config {
        let num = || v.parse::<u64>().map_err(|e| format!("config {k}={v}: {e}"));
        match k.as_str() {
            "max_frame_size" => cfg.max_frame_size = num()?,
            "max_message_size" => cfg.max_message_size = num()?,
            "max_handshake_size" => cfg.max_handshake_size = num()? as usize,
            "max_handshake_headers" => cfg.max_handshake_headers = num()? as usize,
            "message_mode" if v == "stream" => cfg.message_mode = MessageMode::Stream,
            "auto_pong" => cfg.auto_pong = num()? != 0,
            "auto_close_reply" => cfg.auto_close_reply = num()? != 0,
            "protocols" => protocols = v.split(',').map(String::from).collect(),
            "deflate" if v == "1" => cfg.deflate = Some(wsproto::DeflateConfig::default()),
            "deflate_params" if v == "default" => params = Some(wsproto::DeflateParams::default()),
            _ => return Err(format!("unsupported config {k}={v}")),
        }
    }
    let role = match case.role.as_str() {
        "server" => Role::Server,
        "client" => Role::Client,
        r => return Err(format!("unknown role {r}")),
    };
    match (case.mode.as_str(), role) {
        ("frames", _) => Ok(Connection::frames_only(role, cfg, params, &[])),
        ("handshake", Role::Server) => Ok(Connection::server(cfg)),
        ("handshake", Role::Client) => {
            let mut c = Connection::client(cfg);
            let p: Vec<&str> = protocols.iter().map(String::as_str).collect();
            c.send_request("example.com", "/chat", &p, &[]).map_err(|e| format!("send_request: {e}"))?;
            Ok(c)
        }
        (m, _) => Err(format!("unknown mode {m}")),
    }
}

/// An event as recorded before normalisation.
struct Rec {
    token: String,
    /// Data events: (is_text, payload, frame_finished, message_finished).
    data: Option<(bool, Vec<u8>, bool, bool)>,
}

struct Driver {
    conn: Connection,
    role: Role,
    events: Vec<Rec>,
    result: Vec<String>,
    hint: String,
    problems: Vec<String>,
}

fn kind_word(k: ErrorKind) -> &'static str {
    match k {
        ErrorKind::InvalidArgument => "invalid_argument",
        ErrorKind::WrongState => "wrong_state",
        ErrorKind::Handshake => "handshake",
        ErrorKind::Closed => "closed",
        ErrorKind::Rng => "rng",
        ErrorKind::NoMemory => "no_memory",
        ErrorKind::InputFull => "input_full",
    }
}

fn state_word(s: State) -> &'static str {
    match s {
        State::Connecting => "connecting",
        State::Open => "open",
        State::RemoteClosing => "remote_closing",
        State::LocalClosing => "local_closing",
        State::Closed => "closed",
        State::Rejecting => "rejecting",
    }
}

impl Driver {
    /// Takes every event; answers a request with `accept`.
    fn pump(&mut self) {
        let mut request = false;
        while let Some(e) = self.conn.next_event() {
            let rec = match e {
                Event::Request(_) => {
                    request = true;
                    Rec { token: "request".into(), data: None }
                }
                Event::Accept(_) => Rec { token: "accept".into(), data: None },
                Event::Reject(r) => Rec { token: format!("reject:{}", r.status()), data: None },
                Event::RejectData { data, body_finished } => {
                    Rec { token: format!("reject_data:{}:{}", body_finished as u8, hex(data)), data: None }
                }
                Event::Data { kind, data, frame_finished, message_finished } => Rec {
                    token: String::new(),
                    data: Some((kind == DataKind::Text, data.to_vec(), frame_finished, message_finished)),
                },
                Event::Ping(p) => Rec { token: format!("ping:{}", hex(p)), data: None },
                Event::Pong(p) => Rec { token: format!("pong:{}", hex(p)), data: None },
                Event::Close { code, reason, source } => Rec {
                    token: match source {
                        CloseSource::Violation => format!("close:{code}:8"),
                        CloseSource::Peer | CloseSource::Eof => format!("close:{code}:0:{}", hex(reason.as_bytes())),
                    },
                    data: None,
                },
            };
            self.events.push(rec);
        }
        if request {
            if let Err(e) = self.conn.accept(None, &[]) {
                self.problems.push(format!("accept failed: {e}"));
            }
            self.pump();
        }
    }

    /// Records one receive result; a server refuses a bad request at once.
    fn settle(&mut self, r: wsproto::Result<()>) -> bool {
        match r {
            Ok(()) => true,
            Err(e) => {
                if e.kind == ErrorKind::Handshake && self.role == Role::Server && self.hint.is_empty() {
                    let hint = self.conn.handshake_status_hint();
                    if e.status_hint != hint {
                        self.problems.push(format!("error status_hint {} != connection hint {hint}", e.status_hint));
                    }
                    self.hint = hint.to_string();
                    if let Err(e) = self.conn.reject(hint, &[], false) {
                        self.problems.push(format!("reject({hint}) failed: {e}"));
                    }
                }
                self.result.push(kind_word(e.kind).into());
                false
            }
        }
    }

    fn feed(&mut self, input: &Option<Vec<u8>>, bytewise: bool) {
        let Some(bytes) = input else {
            let r = self.conn.receive_eof();
            if self.settle(r) {
                self.result.push("ok".into());
            }
            self.pump();
            return;
        };
        if !bytewise {
            let r = self.conn.receive(bytes);
            if self.settle(r) {
                self.result.push("ok".into());
            }
            self.pump();
            return;
        }
        for (i, b) in bytes.iter().enumerate() {
            let r = self.conn.receive(std::slice::from_ref(b));
            let ok = self.settle(r);
            self.pump();
            if !ok {
                return;
            }
            // A transport stops reading once the connection is closed; an
            // input that starts on a closed connection still gets one call.
            if self.conn.state() == State::Closed && i + 1 < bytes.len() {
                break;
            }
        }
        self.result.push("ok".into());
    }
}

/// Merges the chunks of each frame and drops frames never finished.
fn normalise(events: Vec<Rec>) -> Vec<String> {
    let mut merged: Vec<Rec> = Vec::new();
    for e in events {
        if let (Some(Rec { data: Some((t0, d0, false, _)), .. }), Some((t, d, ff, mf))) =
            (merged.last_mut(), e.data.as_ref())
        {
            if *t0 == *t {
                let mut all = std::mem::take(d0);
                all.extend_from_slice(d);
                *merged.last_mut().expect("checked") = Rec { token: String::new(), data: Some((*t, all, *ff, *mf)) };
                continue;
            }
        }
        merged.push(e);
    }
    merged
        .into_iter()
        .filter_map(|e| match e.data {
            None => Some(e.token),
            Some((_, _, false, _)) => None,
            Some((text, d, true, mf)) => {
                Some(format!("{}:{}:{}", if text { "text" } else { "binary" }, 1 | (mf as u8) << 1, hex(&d)))
            }
        })
        .collect()
}

/// Describes the output bytes as words: an HTTP head, then frames.
fn describe_output(mut out: &[u8], role: Role) -> Vec<String> {
    let mut w = Vec::new();
    if out.starts_with(b"HTTP/1.1 ") || out.starts_with(b"GET ") {
        let end = out.windows(4).position(|x| x == b"\r\n\r\n").map_or(out.len(), |p| p + 4);
        let head = String::from_utf8_lossy(&out[..end]).into_owned();
        if head.starts_with("GET ") {
            w.push("request".to_string());
        } else {
            let status = head.get(9..12).unwrap_or("???");
            let v = status != "426" || head.contains("\r\nSec-WebSocket-Version: 13\r\n");
            w.push(format!("http:{status}{}", if v { "" } else { "-noversion" }));
        }
        out = &out[end..];
    }
    while !out.is_empty() {
        if out.len() < 2 {
            w.push("truncated".into());
            break;
        }
        let opcode = out[0] & 0x0f;
        let masked = out[1] & 0x80 != 0;
        let (len, mut pos) = match out[1] & 0x7f {
            126 if out.len() >= 4 => (u16::from_be_bytes([out[2], out[3]]) as usize, 4),
            127 if out.len() >= 10 => (u64::from_be_bytes(out[2..10].try_into().expect("8 bytes")) as usize, 10),
            126 | 127 => (usize::MAX, 0),
            n => (n as usize, 2),
        };
        let key_len = if masked { 4 } else { 0 };
        if len == usize::MAX || out.len() < pos + key_len || out.len() - pos - key_len < len {
            w.push("truncated".into());
            break;
        }
        let mut key = [0u8; 4];
        if masked {
            key.copy_from_slice(&out[pos..pos + 4]);
            pos += 4;
        }
        let p: Vec<u8> = out[pos..pos + len].iter().enumerate().map(|(i, b)| b ^ key[i % 4]).collect();
        out = &out[pos + len..];
        if masked != (role == Role::Client) {
            w.push("badmask".into());
            continue;
        }
        w.push(match opcode {
            0x8 if p.len() >= 2 => format!("close:{}", u16::from_be_bytes([p[0], p[1]])),
            0x8 if p.is_empty() => "close".into(),
            0x8 => format!("close_bad:{}", hex(&p)),
            0x9 => format!("ping:{}", hex(&p)),
            0xA => format!("pong:{}", hex(&p)),
            0x1 => format!("text:{}", hex(&p)),
            0x2 => format!("binary:{}", hex(&p)),
            op => format!("opcode{op}:{}", hex(&p)),
        });
    }
    w
}

fn run(case: &Case, bytewise: bool) -> Result<Outcome, String> {
    let conn = build(case)?;
    let role = conn.role();
    let mut d =
        Driver { conn, role, events: Vec::new(), result: Vec::new(), hint: String::new(), problems: Vec::new() };
    d.pump();
    for input in &case.inputs {
        d.feed(input, bytewise);
    }
    if !d.problems.is_empty() {
        return Err(d.problems.join("; "));
    }
    let output = describe_output(d.conn.output(), role);
    Ok(Outcome {
        result: d.result,
        events: normalise(d.events),
        state: state_word(d.conn.state()).into(),
        output,
        hint: d.hint,
    })
}

fn diff(want: &Outcome, got: &Outcome) -> String {
    let mut s = Vec::new();
    let mut field = |name: &str, w: String, g: String| {
        if w != g {
            s.push(format!("    {name}: expected [{w}] got [{g}]"));
        }
    };
    field("result", want.result.join(" "), got.result.join(" "));
    field("events", want.events.join(" "), got.events.join(" "));
    field("state", want.state.clone(), got.state.clone());
    field("output", want.output.join(" "), got.output.join(" "));
    field("hint", want.hint.clone(), got.hint.clone());
    s.join("\n")
}

fn check(case: &Case) -> Vec<String> {
    let mut failures = Vec::new();
    for bytewise in [false, true] {
        let how = if bytewise { "byte by byte" } else { "whole" };
        let got = catch_unwind(AssertUnwindSafe(|| run(case, bytewise)));
        match got {
            Err(p) => {
                let msg = p.downcast_ref::<String>().cloned().or(p.downcast_ref::<&str>().map(|s| s.to_string()));
                failures.push(format!("{} ({how}): panicked: {}", case.name, msg.unwrap_or_default()));
            }
            Ok(Err(e)) => failures.push(format!("{} ({how}): {e}", case.name)),
            Ok(Ok(got)) if got != case.expected => {
                failures.push(format!("{} ({how}):\n{}", case.name, diff(&case.expected, &got)))
            }
            Ok(Ok(_)) => {}
        }
    }
    failures
}

#[test]
fn hostile_catalogue() {
    let text = std::fs::read_to_string(CASES).expect("read tests/hostile/cases.txt");
    let cases = parse_cases(&text).expect("parse cases.txt");
    assert!(cases.len() >= MIN_CASES, "only {} cases; the catalogue promises at least {MIN_CASES}", cases.len());
    let mut names = std::collections::HashSet::new();
    for c in &cases {
        assert!(names.insert(c.name.as_str()), "duplicate case name {}", c.name);
    }
    // Panics are caught per case and reported as failures; keep the default
    // hook from printing each one.
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let failures: Vec<String> = cases.iter().flat_map(check).collect();
    std::panic::set_hook(hook);
    assert!(failures.is_empty(), "{} of {} cases failed:\n{}", failures.len(), cases.len(), failures.join("\n"));
}

/// cases.txt and README.md are generated from cases.src; they must be current.
#[test]
fn catalogue_is_generated_and_current() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = Command::new("python3")
        .arg(dir.join("tests/hostile/gen.py"))
        .arg("--check")
        .output()
        .expect("python3 is needed to check that tests/hostile/cases.txt is current");
    assert!(
        out.status.success(),
        "tests/hostile/gen.py --check: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The parser and normaliser themselves: a malformed catalogue is refused,
/// and stream chunks of one frame merge.
#[test]
fn driver_self_checks() {
    assert!(parse_cases("case: a\ninput: 0g\nstate: open\n").is_err());
    assert!(parse_cases("case: a\nbogus: 1\n").is_err());
    assert!(parse_cases("case: a\nstate: open\n").is_err());
    let c = parse_cases("case: a\nrole: server\nmode: frames\ninput: 81 00\n 01\ninput: eof\nstate: open\n").unwrap();
    assert_eq!(c[0].inputs, vec![Some(vec![0x81, 0x00, 0x01]), None]);
    let rec = |d: &[u8], ff, mf| Rec { token: String::new(), data: Some((true, d.to_vec(), ff, mf)) };
    let n = normalise(vec![rec(b"a", false, false), rec(b"b", true, false), rec(b"c", false, false)]);
    assert_eq!(n, vec!["text:1:6162".to_string()]);
    assert_eq!(describe_output(&[0x88, 0x02, 0x03, 0xe8], Role::Server), vec!["close:1000"]);
    assert_eq!(describe_output(&[0x88, 0x02, 0x03], Role::Server), vec!["truncated"]);
    assert_eq!(describe_output(&[0x8a, 0x00], Role::Client), vec!["badmask"]);
}
