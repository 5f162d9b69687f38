//! WebSocket over HTTP/2 and HTTP/3 extended CONNECT (RFC 8441, RFC 9220),
//! server side, independent of any HTTP/2 or HTTP/3 stack.
//!
//! The caller's HTTP/2 (or HTTP/3) library decodes a request's header block
//! and hands over the field list as it received it: lowercase names,
//! pseudo-header fields (`:method`, `:protocol`, `:scheme`, `:path`,
//! `:authority`) first. [`ConnectRequest::parse`] validates it,
//! [`ConnectRequest::accept`] negotiates the subprotocol and
//! permessage-deflate as an HTTP/1.1 server would and yields the response
//! field list (`:status` 200 plus `sec-websocket-protocol` /
//! `sec-websocket-extensions`). The stream then carries WebSocket frames:
//! continue with [`Connection::frames_only`](crate::Connection::frames_only)
//! and the negotiated [`DeflateParams`].
//!
//! The HTTP/2 stack must have announced SETTINGS_ENABLE_CONNECT_PROTOCOL = 1
//! (RFC 8441 §3; the HTTP/3 setting of RFC 9220 §3) for a client to send
//! such a request; that, and answering a refused request with its status,
//! are the stack's job.
//!
//! There is no Sec-WebSocket-Key/Accept exchange over HTTP/2 (RFC 8441 §5);
//! Sec-WebSocket-Version, -Protocol and -Extensions keep their RFC 6455
//! meaning, and are parsed by the same code as the HTTP/1.1 handshake.

use crate::deflate::{self, DeflateConfig, DeflateParams};
use crate::error::{Error, ErrorKind, Result};
use crate::event::Request;
use crate::handshake::{self, HeaderSpan, ParsedRequest, Span};

/// A validated extended CONNECT request for the WebSocket protocol.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConnectRequest {
    req: ParsedRequest,
    scheme: Span,
}

/// The answer to an accepted extended CONNECT request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConnectResponse {
    /// The response field list, in order: `:status` `200`, then
    /// `sec-websocket-protocol` and `sec-websocket-extensions` when chosen,
    /// then the caller's extra fields. Names are lowercase.
    pub headers: Vec<(String, String)>,
    /// The permessage-deflate parameters negotiated, for the frames-only
    /// connection that carries the stream.
    pub deflate: Option<DeflateParams>,
}

fn malformed(message: impl Into<String>) -> Error {
    Error::handshake(400, message)
}

/// Fields that are specific to an HTTP/1.1 connection and make an HTTP/2 or
/// HTTP/3 message malformed (RFC 9113 §8.2.2, RFC 9114 §4.2).
fn is_connection_specific(name: &[u8]) -> bool {
    matches!(name, b"connection" | b"upgrade" | b"keep-alive" | b"proxy-connection" | b"transfer-encoding")
}

/// RFC 9113 §8.2.1: a field name is a lowercase token (pseudo-header names
/// are checked by name).
fn is_lowercase_token(name: &[u8]) -> bool {
    handshake::is_token(name) && !name.iter().any(|b| b.is_ascii_uppercase())
}

/// RFC 9113 §8.2.1: no NUL, CR or LF, and no leading or trailing SP/HTAB.
fn is_h2_value(value: &[u8]) -> bool {
    !value.iter().any(|&b| matches!(b, 0 | b'\r' | b'\n'))
        && !value.first().is_some_and(|&b| b == b' ' || b == b'\t')
        && !value.last().is_some_and(|&b| b == b' ' || b == b'\t')
}

impl ConnectRequest {
    /// Validates an extended CONNECT request's field list: `:method` CONNECT,
    /// `:protocol` websocket (case-insensitive), `:scheme` http or https,
    /// `:path` in origin form, a non-empty `:authority`, each pseudo-header
    /// once and before every regular field, no unknown pseudo-header,
    /// lowercase field names, field values without NUL/CR/LF or surrounding
    /// whitespace, no connection-specific field (`te` only as `trailers`),
    /// exactly one `sec-websocket-version: 13`, subprotocols that are tokens.
    ///
    /// Errors are `Handshake` with status hint 400 (answer the stream with
    /// that status; for a wrong version add `sec-websocket-version: 13`).
    pub fn parse(fields: &[(&[u8], &[u8])]) -> Result<ConnectRequest> {
        let total = fields.iter().fold(0usize, |n, (k, v)| n.saturating_add(k.len()).saturating_add(v.len()));
        if total > u32::MAX as usize {
            return Err(Error::handshake(431, "request header list too large"));
        }
        let mut buf = Vec::with_capacity(total);
        let mut spans = Vec::with_capacity(fields.len());
        for (name, value) in fields {
            let n = Span { start: buf.len() as u32, end: (buf.len() + name.len()) as u32 };
            buf.extend_from_slice(name);
            let v = Span { start: buf.len() as u32, end: (buf.len() + value.len()) as u32 };
            buf.extend_from_slice(value);
            spans.push(HeaderSpan { name: n, value: v });
        }

        let mut req = ParsedRequest::default();
        let (mut method, mut protocol, mut scheme, mut path, mut authority) = (None, None, None, None, None);
        let mut regular_seen = false;
        let mut versions = 0u32;
        let mut version_ok = false;
        for h in &spans {
            let (name, value) = (h.name.get(&buf), h.value.get(&buf));
            let shown = || String::from_utf8_lossy(name).into_owned();
            if !is_h2_value(value) {
                return Err(malformed(format!(
                    "value of field {:?} has NUL, CR, LF or surrounding whitespace",
                    shown()
                )));
            }
            if let Some(pseudo) = name.strip_prefix(b":") {
                if regular_seen {
                    return Err(malformed(format!("pseudo-header {:?} after a regular field", shown())));
                }
                let slot = match pseudo {
                    b"method" => &mut method,
                    b"protocol" => &mut protocol,
                    b"scheme" => &mut scheme,
                    b"path" => &mut path,
                    b"authority" => &mut authority,
                    _ => return Err(malformed(format!("unknown or response pseudo-header {:?}", shown()))),
                };
                if slot.replace(h.value).is_some() {
                    return Err(malformed(format!("more than one {:?} pseudo-header", shown())));
                }
                continue;
            }
            regular_seen = true;
            if !is_lowercase_token(name) {
                return Err(malformed(format!("field name {:?} is not a lowercase token", shown())));
            }
            if is_connection_specific(name) {
                return Err(malformed(format!("connection-specific field {:?}", shown())));
            }
            match name {
                b"te" if value != b"trailers" => return Err(malformed("te other than \"trailers\"")),
                b"sec-websocket-version" => {
                    versions += 1;
                    version_ok = value == b"13";
                }
                b"sec-websocket-protocol" => handshake::push_subprotocols(&buf, value, &mut req.subprotocols)?,
                b"sec-websocket-extensions" => {
                    if std::str::from_utf8(value).is_err() {
                        return Err(malformed("sec-websocket-extensions is not valid UTF-8"));
                    }
                    req.extensions.push(h.value);
                }
                b"host" if std::str::from_utf8(value).is_err() => {
                    return Err(malformed("host is not valid UTF-8"));
                }
                _ => {}
            }
        }
        let get = |s: Option<Span>| s.map(|s| s.get(&buf));
        if get(method) != Some(b"CONNECT") {
            return Err(malformed(":method must be CONNECT"));
        }
        match get(protocol) {
            None => return Err(malformed("no :protocol pseudo-header: not an extended CONNECT (RFC 8441 §4)")),
            Some(p) if !p.eq_ignore_ascii_case(b"websocket") => {
                return Err(malformed(format!(":protocol is {:?}, not websocket", String::from_utf8_lossy(p))))
            }
            Some(_) => {}
        }
        match get(scheme) {
            Some(s) if s.eq_ignore_ascii_case(b"http") || s.eq_ignore_ascii_case(b"https") => {}
            Some(_) => return Err(malformed(":scheme must be http or https (RFC 8441 §5)")),
            None => return Err(malformed("no :scheme pseudo-header")),
        }
        match get(path) {
            Some(p) if p.first() == Some(&b'/') && p.iter().all(|&b| (0x21..=0x7e).contains(&b)) => {}
            Some(_) => {
                return Err(malformed(":path must be an origin-form target: '/' first, then visible ASCII only"))
            }
            None => return Err(malformed("no :path pseudo-header")),
        }
        match get(authority) {
            Some(a) if !a.is_empty() && std::str::from_utf8(a).is_ok() => {}
            _ => return Err(malformed("no or empty :authority pseudo-header")),
        }
        match versions {
            0 => return Err(malformed("missing sec-websocket-version")),
            1 if !version_ok => return Err(malformed("unsupported sec-websocket-version (only 13 is supported)")),
            1 => {}
            _ => return Err(malformed("more than one sec-websocket-version field")),
        }
        // Every field, as given: the spans were built for exactly this.
        req.headers = spans;
        req.target = path.expect("checked");
        req.host = authority.expect("checked");
        req.buf = buf;
        Ok(ConnectRequest { req, scheme: scheme.expect("checked") })
    }

    /// The request as a [`Request`] event view: `target()` is `:path`,
    /// `host()` is `:authority`, `key()` is empty (there is no key over
    /// HTTP/2), `headers()` lists every field as given, pseudo-headers
    /// included.
    pub fn request(&self) -> Request<'_> {
        Request { req: &self.req }
    }

    /// `:scheme` (`http` or `https`).
    pub fn scheme(&self) -> &str {
        self.scheme.str(&self.req.buf)
    }

    /// Accepts the request: `subprotocol` must be one the client offered;
    /// permessage-deflate is negotiated from `deflate` (the server's
    /// configuration, `None` = off) exactly as for an HTTP/1.1 upgrade;
    /// `extra_headers` (lowercase token names; not pseudo-headers,
    /// connection-specific fields or the two the engine writes) follow.
    ///
    /// Errors: `InvalidArgument` (subprotocol not offered or not a token,
    /// bad extra field); nothing else changes, so the call may be retried.
    pub fn accept(
        &self,
        deflate: Option<&DeflateConfig>,
        subprotocol: Option<&str>,
        extra_headers: &[(&str, &str)],
    ) -> Result<ConnectResponse> {
        let invalid = |m: String| Error::new(ErrorKind::InvalidArgument, m);
        let req = &self.req;
        if let Some(p) = subprotocol {
            if !req.subprotocols.iter().any(|s| s.get(&req.buf) == p.as_bytes()) {
                return Err(invalid(format!("subprotocol {p:?} was not offered by the client")));
            }
        }
        for &(name, value) in extra_headers {
            let n = name.as_bytes();
            if !is_lowercase_token(n) || is_connection_specific(n) || n == b"te" {
                return Err(invalid(format!("{name:?} is not a lowercase, non connection-specific field name")));
            }
            if n == b"sec-websocket-protocol" || n == b"sec-websocket-extensions" {
                return Err(invalid(format!("field {name:?} is generated by the engine and cannot be given")));
            }
            if !is_h2_value(value.as_bytes()) || value.bytes().any(|b| b < 0x20 && b != b'\t' || b == 0x7f) {
                return Err(invalid(format!(
                    "value of field {name:?} has control characters or surrounding whitespace"
                )));
            }
        }
        let negotiated = deflate.and_then(|cfg| {
            let offers: Vec<&[u8]> = req.extensions.iter().map(|s| s.get(&req.buf)).collect();
            deflate::server_negotiate(cfg, &offers)
        });
        let mut headers = vec![(":status".to_string(), "200".to_string())];
        if let Some(p) = subprotocol {
            headers.push(("sec-websocket-protocol".into(), p.into()));
        }
        let params = negotiated.map(|(params, value)| {
            headers.push(("sec-websocket-extensions".into(), value));
            params
        });
        headers.extend(extra_headers.iter().map(|&(n, v)| (n.to_string(), v.to_string())));
        Ok(ConnectResponse { headers, deflate: params })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    type Fields = Vec<(&'static [u8], &'static [u8])>;

    fn good() -> Fields {
        vec![
            (b":method", b"CONNECT"),
            (b":protocol", b"websocket"),
            (b":scheme", b"https"),
            (b":path", b"/chat?room=1"),
            (b":authority", b"server.example.com"),
            (b"sec-websocket-protocol", b"chat, superchat"),
            (b"sec-websocket-extensions", b"permessage-deflate; client_max_window_bits"),
            (b"sec-websocket-version", b"13"),
            (b"origin", b"http://www.example.com"),
        ]
    }

    #[test]
    fn parses_a_request_as_an_h2_library_delivers_it() {
        let r = ConnectRequest::parse(&good()).unwrap();
        let v = r.request();
        assert_eq!((v.target(), v.host(), v.key(), r.scheme()), ("/chat?room=1", "server.example.com", "", "https"));
        assert_eq!(v.subprotocols().collect::<Vec<_>>(), ["chat", "superchat"]);
        assert_eq!(v.extensions().collect::<Vec<_>>(), ["permessage-deflate; client_max_window_bits"]);
        assert_eq!(v.headers().len(), 9);
        assert_eq!(v.headers().find("origin"), Some(&b"http://www.example.com"[..]));
    }

    #[test]
    fn refuses_what_rfc_8441_and_9113_refuse() {
        let set = |name: &'static [u8], value: Option<&'static [u8]>| {
            let mut f = good();
            let i = f.iter().position(|(n, _)| *n == name).unwrap();
            match value {
                Some(v) => f[i].1 = v,
                None => {
                    f.remove(i);
                }
            }
            f
        };
        let mut cases: Vec<(Fields, &str)> = vec![
            (set(b":method", Some(b"GET")), "CONNECT"),
            (set(b":method", Some(b"connect")), "CONNECT"),
            (set(b":method", None), "CONNECT"),
            (set(b":protocol", None), ":protocol"),
            (set(b":protocol", Some(b"h2c")), "websocket"),
            (set(b":scheme", None), ":scheme"),
            (set(b":scheme", Some(b"ws")), ":scheme"),
            (set(b":path", None), ":path"),
            (set(b":path", Some(b"")), ":path"),
            (set(b":path", Some(b"chat")), ":path"),
            (set(b":authority", None), ":authority"),
            (set(b":authority", Some(b"")), ":authority"),
            (set(b"sec-websocket-version", None), "missing sec-websocket-version"),
            (set(b"sec-websocket-version", Some(b"8")), "unsupported"),
            (set(b"sec-websocket-protocol", Some(b"a b")), "not a token"),
            (set(b"origin", Some(b"a\r\nb")), "NUL, CR, LF"),
            (set(b"origin", Some(b" x")), "whitespace"),
        ];
        let mut push = |extra: (&'static [u8], &'static [u8]), why: &'static str| {
            let mut f = good();
            f.push(extra);
            cases.push((f, why));
        };
        push((b"sec-websocket-version", b"13"), "more than one");
        push((b":path", b"/x"), "after a regular field");
        push((b"Origin", b"x"), "lowercase");
        push((b"connection", b"upgrade"), "connection-specific");
        push((b"upgrade", b"websocket"), "connection-specific");
        push((b"transfer-encoding", b"chunked"), "connection-specific");
        push((b"te", b"gzip"), "te");
        let mut f = good();
        f.insert(1, (b":status", b"200"));
        cases.push((f, "pseudo-header"));
        let mut f = good();
        f.insert(1, (b":path", b"/again"));
        cases.push((f, "more than one"));
        for (fields, why) in cases {
            let e = ConnectRequest::parse(&fields).unwrap_err();
            assert_eq!((e.kind, e.status_hint), (ErrorKind::Handshake, 400), "{why}: {e:?}");
            assert!(e.message.contains(why), "{why}: {}", e.message);
        }
        // Allowed: te: trailers, an unknown regular field, http scheme, WEBSOCKET.
        let mut f = set(b":scheme", Some(b"http"));
        f.push((b"te", b"trailers"));
        f.push((b"x-anything", b""));
        f[1].1 = b"WebSocket";
        assert!(ConnectRequest::parse(&f).is_ok());
    }

    #[test]
    fn accept_negotiates_like_the_http1_server() {
        let r = ConnectRequest::parse(&good()).unwrap();
        let cfg = DeflateConfig { max_window_bits: 12, ..DeflateConfig::default() };
        let resp = r.accept(Some(&cfg), Some("superchat"), &[("server", "wsproto")]).unwrap();
        let expect = deflate::server_negotiate(&cfg, &[b"permessage-deflate; client_max_window_bits"]).unwrap();
        let want: Vec<(String, String)> = [
            (":status", "200"),
            ("sec-websocket-protocol", "superchat"),
            ("sec-websocket-extensions", expect.1.as_str()),
            ("server", "wsproto"),
        ]
        .iter()
        .map(|&(a, b)| (a.to_string(), b.to_string()))
        .collect();
        assert_eq!(resp.headers, want);
        assert_eq!(resp.deflate, Some(expect.0));
        assert_eq!(resp.deflate.unwrap().client_max_window_bits, 12);

        let resp = r.accept(None, None, &[]).unwrap();
        assert_eq!(resp.headers, [(":status".to_string(), "200".to_string())]);
        assert_eq!(resp.deflate, None);

        for (p, extra) in [
            (Some("other"), vec![]),
            (None, vec![(":status", "101")]),
            (None, vec![("Server", "x")]),
            (None, vec![("connection", "close")]),
            (None, vec![("sec-websocket-extensions", "x")]),
            (None, vec![("x", "a\nb")]),
        ] {
            let e = r.accept(None, p, &extra).unwrap_err();
            assert_eq!(e.kind, ErrorKind::InvalidArgument, "{p:?} {extra:?}");
        }
    }
}
