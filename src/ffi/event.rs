//! `ws_event_t` and `ws_conn_poll_event`: engine events translated to a flat C struct.

use std::ffi::c_char;

use super::conn::{with_leaf, with_mut, ws_conn_t, Conn};
use super::macros::EMPTY;
use super::result::ws_result_t;
use crate::connection::{PlainKind, RawPlain};
use crate::event::{CloseSource, DataKind, Event, Headers, Request};

/// Bits of ws_event_t.flags (a uint32_t). Enum constants rather than macros
/// so that they survive preprocessing (LuaJIT ffi.cdef, cffi, ctypes mirrors).
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ws_event_flag_t {
    /// The last chunk of a frame (stream mode; always set in whole mode).
    WS_EVENT_FLAG_FRAME_FINISHED = 1,
    /// The last chunk of a message (TEXT/BINARY), or of a rejection body
    /// (REJECT_DATA).
    WS_EVENT_FLAG_MESSAGE_FINISHED = 2,
    /// (REJECT) WS_EVENT_REJECT_DATA events with the body follow.
    WS_EVENT_FLAG_HAS_BODY = 4,
    /// (CLOSE) The engine failed the connection because the peer violated
    /// the protocol; `code` is the close code it sent (1002/1007/1009).
    WS_EVENT_FLAG_PROTOCOL_ERROR = 8,
}

/// Rust spelling of [`ws_event_flag_t::WS_EVENT_FLAG_FRAME_FINISHED`] as a
/// `flags` bit (not in the header, which has the enum constant).
pub const WS_EVENT_FLAG_FRAME_FINISHED: u32 = ws_event_flag_t::WS_EVENT_FLAG_FRAME_FINISHED as u32;
/// Rust spelling of [`ws_event_flag_t::WS_EVENT_FLAG_MESSAGE_FINISHED`].
pub const WS_EVENT_FLAG_MESSAGE_FINISHED: u32 = ws_event_flag_t::WS_EVENT_FLAG_MESSAGE_FINISHED as u32;
/// Rust spelling of [`ws_event_flag_t::WS_EVENT_FLAG_HAS_BODY`].
pub const WS_EVENT_FLAG_HAS_BODY: u32 = ws_event_flag_t::WS_EVENT_FLAG_HAS_BODY as u32;
/// Rust spelling of [`ws_event_flag_t::WS_EVENT_FLAG_PROTOCOL_ERROR`].
pub const WS_EVENT_FLAG_PROTOCOL_ERROR: u32 = ws_event_flag_t::WS_EVENT_FLAG_PROTOCOL_ERROR as u32;

/// What a ws_event_t reports.
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ws_event_type_t {
    /// Nothing pending: feed more input.
    WS_EVENT_NONE = 0,
    /// Server: the client's upgrade request (target, host, subprotocols,
    /// extensions, headers). Answer with ws_conn_accept() or ws_conn_reject().
    WS_EVENT_REQUEST = 1,
    /// Client: the server accepted (subprotocol, extensions, headers); the
    /// connection is now OPEN.
    WS_EVENT_ACCEPT = 2,
    /// Client: the server rejected the upgrade. `code` = HTTP status,
    /// headers; flag HAS_BODY when REJECT_DATA events follow.
    WS_EVENT_REJECT = 3,
    /// Client: a chunk of the rejection body in data/len; flag
    /// MESSAGE_FINISHED on the last one.
    WS_EVENT_REJECT_DATA = 4,
    /// A text message or chunk in data/len (always valid UTF-8 ending on a
    /// code-point boundary); flags FRAME_FINISHED, MESSAGE_FINISHED.
    WS_EVENT_TEXT = 5,
    /// A binary message or chunk in data/len; flags as for TEXT.
    WS_EVENT_BINARY = 6,
    /// A ping; data/len = payload. With auto-pong on, the pong is already queued.
    WS_EVENT_PING = 7,
    /// A pong; data/len = payload.
    WS_EVENT_PONG = 8,
    /// The connection is closing. `code` = close code (1005 = the peer sent
    /// none; 1006 = the transport ended without a close frame); data/len =
    /// reason (UTF-8). Flag PROTOCOL_ERROR when the engine failed the
    /// connection because of the peer (then `code` is what it sent).
    /// Taking this event is what changes the state (as in Python wsproto):
    /// events before it (a message that arrived with the close) can still be
    /// answered. When it is taken, the close frame that the protocol calls
    /// for is queued: the auto-reply to a peer's close (auto close-reply on),
    /// or the close that fails the connection (PROTOCOL_ERROR).
    WS_EVENT_CLOSE = 9,
}

/// A byte string, NOT NUL-terminated: print with `"%.*s", (int)s.len, s.ptr`.
/// `ptr` may be NULL when `len` is 0.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct ws_str_t {
    /// The first byte (not NUL-terminated); may be NULL when `len` is 0.
    pub ptr: *const c_char,
    /// The number of bytes at `ptr`.
    pub len: usize,
}

/// An HTTP header: name and value (value trimmed of surrounding whitespace).
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct ws_header_t {
    /// The header name, as received (compare case-insensitively).
    pub name: ws_str_t,
    /// The header value.
    pub value: ws_str_t,
}

/// One event, filled by ws_conn_poll_event(). The caller owns the struct;
/// every pointer inside it borrows from the connection and stays valid until
/// the next call that takes a non-const `ws_conn_t *` (including the next
/// ws_conn_poll_event()); copy what you need to keep. One exception: the
/// data of a TEXT or BINARY event may be passed straight to a send or encode
/// call on the same connection (ws_conn_send_text/_binary,
/// ws_conn_encode_*), which never touch received data: an echo or forward
/// needs no copy (text with WS_SEND_TRUSTED_UTF8, as it was validated on
/// receipt). Fields not listed for the event type are zero/NULL. Any pointer
/// may be NULL when its length is 0.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct ws_event_t {
    /// The kind of event; decides which fields are meaningful.
    pub r#type: ws_event_type_t,
    /// ws_event_flag_t bits (WS_EVENT_FLAG_*).
    pub flags: u32,
    /// CLOSE: the close code; REJECT: the HTTP status.
    pub code: u16,
    /// REJECT_DATA, TEXT, BINARY, PING, PONG: payload; CLOSE: reason (UTF-8).
    pub data: *const u8,
    /// The number of bytes at `data`.
    pub len: usize,
    /// REQUEST: the request target (e.g. "/chat?room=1").
    pub target: ws_str_t,
    /// REQUEST: the Host header value.
    pub host: ws_str_t,
    /// ACCEPT: the subprotocol the server chose (len 0 = none).
    pub subprotocol: ws_str_t,
    /// REQUEST: the raw offered Sec-WebSocket-Extensions values joined with
    /// ", "; ACCEPT: the negotiated extensions (len 0 = none).
    pub extensions: ws_str_t,
    /// REQUEST: the offered subprotocols, in the client's order of preference.
    pub subprotocols: *const ws_str_t,
    /// The number of entries at `subprotocols`.
    pub subprotocols_len: usize,
    /// REQUEST/ACCEPT/REJECT: every header as received, in order.
    pub headers: *const ws_header_t,
    /// The number of entries at `headers`.
    pub headers_len: usize,
}

const NO_STR: ws_str_t = ws_str_t { ptr: std::ptr::null(), len: 0 };

impl ws_event_t {
    /// The all-zero event: type NONE, no flags, NULL pointers.
    pub(crate) const NONE: ws_event_t = ws_event_t {
        r#type: ws_event_type_t::WS_EVENT_NONE,
        flags: 0,
        code: 0,
        data: std::ptr::null(),
        len: 0,
        target: NO_STR,
        host: NO_STR,
        subprotocol: NO_STR,
        extensions: NO_STR,
        subprotocols: std::ptr::null(),
        subprotocols_len: 0,
        headers: std::ptr::null(),
        headers_len: 0,
    };

    fn with_data(t: ws_event_type_t, data: &[u8]) -> ws_event_t {
        let mut e = ws_event_t::NONE;
        e.r#type = t;
        e.data = if data.is_empty() { EMPTY } else { data.as_ptr() };
        e.len = data.len();
        e
    }
}

fn wstr(b: &[u8]) -> ws_str_t {
    ws_str_t { ptr: if b.is_empty() { EMPTY.cast() } else { b.as_ptr().cast() }, len: b.len() }
}

/// Refills `out` (keeping its capacity) with `h` and returns (ptr, len).
/// The bytes are taken as they are: names are tokens and values are raw
/// bytes anyway, so nothing is converted or validated again.
fn fill_headers(out: &mut Vec<ws_header_t>, h: Headers<'_>) -> (*const ws_header_t, usize) {
    out.clear();
    out.extend(h.list.iter().map(|s| ws_header_t { name: wstr(s.name.get(h.buf)), value: wstr(s.value.get(h.buf)) }));
    if out.is_empty() {
        (std::ptr::null(), 0)
    } else {
        (out.as_ptr(), out.len())
    }
}

fn flag(on: bool, bit: u32) -> u32 {
    if on {
        bit
    } else {
        0
    }
}

/// A WS_EVENT_REQUEST for `r`, rebuilding the scratch lists it points into
/// (also used for an extended CONNECT request, src/ffi/h2.rs).
pub(crate) fn request_event(
    r: Request<'_>,
    strs: &mut Vec<ws_str_t>,
    headers: &mut Vec<ws_header_t>,
    joined: &mut String,
) -> ws_event_t {
    let mut e = ws_event_t::NONE;
    e.r#type = ws_event_type_t::WS_EVENT_REQUEST;
    // Raw bytes, not the `&str` accessors: the parser already checked that
    // the target and every interpreted header value is UTF-8, and the
    // subprotocols are tokens, so this is what they return, without
    // validating each string again.
    let req = r.req;
    e.target = wstr(req.target.get(&req.buf));
    e.host = wstr(req.host.get(&req.buf));
    strs.clear();
    strs.extend(req.subprotocols.iter().map(|s| wstr(s.get(&req.buf))));
    if !strs.is_empty() {
        e.subprotocols = strs.as_ptr();
        e.subprotocols_len = strs.len();
    }
    let mut exts = r.extensions();
    e.extensions = match (exts.next(), exts.next()) {
        (None, _) => wstr(b""),
        (Some(one), None) => wstr(one.as_bytes()),
        (Some(a), Some(b)) => {
            joined.clear();
            for (i, x) in [a, b].into_iter().chain(exts).enumerate() {
                if i > 0 {
                    joined.push_str(", ");
                }
                joined.push_str(x);
            }
            wstr(joined.as_bytes())
        }
    };
    (e.headers, e.headers_len) = fill_headers(headers, r.headers());
    e
}

/// Takes the next engine event and translates it, rebuilding the scratch lists.
fn next(c: &mut Conn) -> ws_event_t {
    use ws_event_type_t::*;
    let Conn { inner, strs, headers, joined, .. } = c;
    // The lists of an earlier handshake event are no longer borrowed: free
    // them (a request may list thousands of subprotocols).
    if strs.capacity() | headers.capacity() | joined.capacity() != 0 {
        (*strs, *headers, *joined) = (Vec::new(), Vec::new(), String::new());
    }
    let Some(ev) = inner.next_event() else {
        return ws_event_t::NONE;
    };
    match ev {
        Event::Request(r) => request_event(r, strs, headers, joined),
        Event::Accept(a) => {
            let mut e = ws_event_t::NONE;
            e.r#type = WS_EVENT_ACCEPT;
            e.subprotocol = wstr(a.subprotocol().unwrap_or("").as_bytes());
            e.extensions = wstr(a.extensions().as_bytes());
            (e.headers, e.headers_len) = fill_headers(headers, a.headers());
            e
        }
        Event::Reject(r) => {
            let mut e = ws_event_t::NONE;
            e.r#type = WS_EVENT_REJECT;
            e.code = r.status();
            e.flags = flag(r.has_body(), WS_EVENT_FLAG_HAS_BODY);
            (e.headers, e.headers_len) = fill_headers(headers, r.headers());
            e
        }
        Event::RejectData { data, body_finished } => {
            let mut e = ws_event_t::with_data(WS_EVENT_REJECT_DATA, data);
            e.flags = flag(body_finished, WS_EVENT_FLAG_MESSAGE_FINISHED);
            e
        }
        Event::Data { kind, data, frame_finished, message_finished } => {
            let t = match kind {
                DataKind::Text => WS_EVENT_TEXT,
                DataKind::Binary => WS_EVENT_BINARY,
            };
            let mut e = ws_event_t::with_data(t, data);
            e.flags = flag(frame_finished, WS_EVENT_FLAG_FRAME_FINISHED)
                | flag(message_finished, WS_EVENT_FLAG_MESSAGE_FINISHED);
            e
        }
        Event::Ping(p) => ws_event_t::with_data(WS_EVENT_PING, p),
        Event::Pong(p) => ws_event_t::with_data(WS_EVENT_PONG, p),
        Event::Close { code, reason, source } => {
            let mut e = ws_event_t::with_data(WS_EVENT_CLOSE, reason.as_bytes());
            e.code = code;
            e.flags = flag(source == CloseSource::Violation, WS_EVENT_FLAG_PROTOCOL_ERROR);
            e
        }
    }
}

/// Takes the next pending event into `*out` (the whole struct is
/// overwritten; unused fields are zeroed). When nothing is pending, returns
/// WS_OK with `out->type == WS_EVENT_NONE`: feed more input then. Call it in
/// a loop after every ws_conn_receive()/ws_conn_receive_eof() until NONE.
/// Pointers in `*out` borrow from the connection until its next mutating
/// call (see ws_event_t).
///
/// Taking an event may do work: releasing what earlier events borrowed,
/// parsing input held back while parsing was paused, and, for a
/// WS_EVENT_CLOSE, queueing the automatic close reply or the close frame
/// that fails the connection.
///
/// Returns WS_OK; WS_ERR_NULL_ARGUMENT (`*out` untouched); WS_ERR_POISONED;
/// WS_ERR_PANIC. With the event still written to `*out`: WS_ERR_RNG (the
/// random source failed while masking an automatic close reply or pong,
/// client role; that frame was not sent: close the transport once the output
/// is written), WS_ERR_NO_MEMORY (parsing held-back input failed for lack of
/// memory; the connection has failed, its WS_EVENT_CLOSE 1011 follows).
#[no_mangle]
pub extern "C" fn ws_conn_poll_event(conn: *mut ws_conn_t, out: *mut ws_event_t) -> ws_result_t {
    // The common case first: a data, ping or pong event already queued,
    // nothing else to do (no handshake lists to free, no deferred error),
    // written straight into `*out`. It does not call out, so it runs
    // without the busy flag.
    let taken = with_leaf(conn, |c| {
        let no_lists = c.strs.capacity() | c.headers.capacity() | c.joined.capacity() == 0;
        if out.is_null() || !no_lists || c.inner.has_deferred_error() {
            return None;
        }
        let raw = c.inner.next_plain_raw()?;
        // SAFETY: `out` is non-null and points to caller-owned writable
        // storage for a ws_event_t; `write` does not read the old contents.
        unsafe { out.write(plain_event(raw)) };
        Some(ws_result_t::WS_OK)
    });
    if let Some(r) = taken {
        return r;
    }
    poll_event_slow(conn, out)
}

/// The C event for a queued data, ping, pong or rejection-body event: the
/// template NONE with type, flags, data and len set (no dispatch: the type
/// comes from a table, the flags bits are the engine's `finished` bits).
#[inline(always)]
fn plain_event(raw: RawPlain<'_>) -> ws_event_t {
    use ws_event_type_t::*;
    const TYPES: [ws_event_type_t; 5] = {
        let mut t = [WS_EVENT_NONE; 5];
        t[PlainKind::Text as usize] = WS_EVENT_TEXT;
        t[PlainKind::Binary as usize] = WS_EVENT_BINARY;
        t[PlainKind::Ping as usize] = WS_EVENT_PING;
        t[PlainKind::Pong as usize] = WS_EVENT_PONG;
        t[PlainKind::RejectData as usize] = WS_EVENT_REJECT_DATA;
        t
    };
    // RawPlain::finished: bit 0 frame finished, bit 1 message (or body) finished.
    const _: () = assert!(WS_EVENT_FLAG_FRAME_FINISHED == 1 && WS_EVENT_FLAG_MESSAGE_FINISHED == 2);
    ws_event_t {
        r#type: TYPES[raw.kind as usize],
        flags: u32::from(raw.finished),
        data: if raw.data.is_empty() { EMPTY } else { raw.data.as_ptr() },
        len: raw.data.len(),
        ..ws_event_t::NONE
    }
}

/// ws_conn_poll_event() for everything the common case leaves: NULL
/// arguments, a busy or poisoned handle, handshake lists to free, a
/// deferred error, and every event but a queued data, ping or pong one.
#[inline(never)]
fn poll_event_slow(conn: *mut ws_conn_t, out: *mut ws_event_t) -> ws_result_t {
    with_mut(conn, |c| {
        if out.is_null() {
            return c.fail(ws_result_t::WS_ERR_NULL_ARGUMENT, "out is NULL");
        }
        let no_lists = c.strs.capacity() | c.headers.capacity() | c.joined.capacity() == 0;
        // (With lists of a handshake event to free, `next` does that first.)
        let plain = if no_lists { c.inner.next_plain_event() } else { None };
        let Some(ev) = plain else { return poll_event_general(c, out) };
        let e = compact(ev);
        // SAFETY: `out` is non-null and points to caller-owned writable
        // storage for a ws_event_t; `write` does not read the old contents.
        unsafe {
            out.write(ws_event_t {
                r#type: e.r#type,
                flags: e.flags,
                code: e.code,
                data: e.data,
                len: e.len,
                ..ws_event_t::NONE
            })
        };
        if c.inner.has_deferred_error() {
            return take_deferred(c);
        }
        ws_result_t::WS_OK
    })
}

/// ws_conn_poll_event() for every event but a queued data, ping or pong one
/// (`out` is non-null); kept out of line so that the common case stays small.
#[inline(never)]
fn poll_event_general(c: &mut Conn, out: *mut ws_event_t) -> ws_result_t {
    let e = next(c);
    // SAFETY: `out` is non-null (checked by the caller) and points to
    // caller-owned writable storage for a ws_event_t.
    unsafe { out.write(e) };
    take_deferred(c)
}

/// Reports (and clears) the error of work done on the side, if any.
#[inline(never)]
fn take_deferred(c: &mut Conn) -> ws_result_t {
    let deferred = c.inner.take_deferred_error();
    c.check(deferred.map_or(Ok(()), Err))
}

/// One event as ws_conn_poll_events() delivers it: the fields of ws_event_t
/// that data and control events use, in 32 bytes instead of 128.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct ws_event_compact_t {
    /// TEXT, BINARY, PING, PONG: payload; CLOSE: reason (UTF-8);
    /// REJECT_DATA: a chunk of the rejection body. May be NULL when `len` is 0.
    pub data: *const u8,
    /// Bytes at `data`.
    pub len: usize,
    /// WS_EVENT_TEXT, _BINARY, _PING, _PONG, _CLOSE or _REJECT_DATA.
    pub r#type: ws_event_type_t,
    /// WS_EVENT_FLAG_* bits, as in ws_event_t.
    pub flags: u32,
    /// CLOSE: the close code.
    pub code: u16,
}

/// A non-handshake event in ws_event_compact_t form.
#[inline(always)]
fn compact(ev: Event<'_>) -> ws_event_compact_t {
    use ws_event_type_t::*;
    let (t, data, flags, code): (_, &[u8], u32, u16) = match ev {
        Event::Data { kind, data, frame_finished, message_finished } => (
            if kind == DataKind::Text { WS_EVENT_TEXT } else { WS_EVENT_BINARY },
            data,
            flag(frame_finished, WS_EVENT_FLAG_FRAME_FINISHED) | flag(message_finished, WS_EVENT_FLAG_MESSAGE_FINISHED),
            0,
        ),
        Event::Ping(p) => (WS_EVENT_PING, p, 0, 0),
        Event::Pong(p) => (WS_EVENT_PONG, p, 0, 0),
        Event::Close { code, reason, source } => (
            WS_EVENT_CLOSE,
            reason.as_bytes(),
            flag(source == CloseSource::Violation, WS_EVENT_FLAG_PROTOCOL_ERROR),
            code,
        ),
        Event::RejectData { data, body_finished } => {
            (WS_EVENT_REJECT_DATA, data, flag(body_finished, WS_EVENT_FLAG_MESSAGE_FINISHED), 0)
        }
        Event::Request(_) | Event::Accept(_) | Event::Reject(_) => {
            unreachable!("handshake events are checked for before taking one")
        }
    };
    ws_event_compact_t {
        data: if data.is_empty() { EMPTY } else { data.as_ptr() },
        len: data.len(),
        r#type: t,
        flags,
        code,
    }
}

/// Batch poll: takes up to `cap` pending events into `out[0..cap)`, in
/// order, and stores how many in `*out_count` (0: nothing pending, feed more
/// input). One call instead of one per event, and 32 bytes filled per event
/// instead of ws_event_t's 128: for the data phase of a busy connection.
///
/// The data of every event of one call stays valid together, until the next
/// call that takes a non-const `ws_conn_t *` (except that, as for
/// ws_event_t, it may be passed to a send or encode call on this
/// connection). `out` is written during the call only.
///
/// A CLOSE event is only ever the first (and then the only) event of a
/// batch: the events before it come in the batch before, so they can still
/// be answered (sent back) before the close reply is queued, which happens
/// when the CLOSE is taken. The batch stops after it.
///
/// Handshake events (REQUEST, ACCEPT, REJECT) are not delivered here: the
/// batch stops before one, and if one is next, the call returns
/// WS_ERR_WRONG_STATE with `*out_count` 0: take it with ws_conn_poll_event().
/// Mixing both calls is allowed.
///
/// Returns WS_OK; WS_ERR_NULL_ARGUMENT (`out_count`, or `out` with `cap` >
/// 0); WS_ERR_WRONG_STATE (a handshake event is next); WS_ERR_POISONED;
/// WS_ERR_PANIC. As ws_conn_poll_event(): WS_ERR_RNG or WS_ERR_NO_MEMORY
/// with the event that caused it as the last one counted in `*out_count`
/// (the batch stops there).
#[no_mangle]
pub extern "C" fn ws_conn_poll_events(
    conn: *mut ws_conn_t,
    out: *mut ws_event_compact_t,
    cap: usize,
    out_count: *mut usize,
) -> ws_result_t {
    with_mut(conn, |c| {
        if out_count.is_null() || (out.is_null() && cap > 0) {
            return c.fail(ws_result_t::WS_ERR_NULL_ARGUMENT, "out or out_count is NULL");
        }
        let inner = &mut c.inner;
        inner.refill_events();
        // An error from that refill goes with the first event taken, as
        // with one ws_conn_poll_event() per event: the batch stops there.
        let limit = if inner.has_deferred_error() { cap.min(1) } else { cap };
        // Data, ping and pong events first, straight from the queue: taking
        // them does nothing else, so no error can come of it.
        let mut n = 0;
        for e in inner.plain_events().take(limit) {
            // SAFETY: `out` is non-null (limit <= cap, and cap > 0 when an
            // event is handed over) and writable for `cap` elements per the
            // contract; n < limit.
            unsafe { out.add(n).write(compact(e)) };
            n += 1;
        }
        inner.skip_plain_events(n);
        let mut deferred = if n > 0 { inner.take_deferred_error() } else { None };
        // A CLOSE (taking it queues the close reply, after which nothing can
        // be sent) only as the first event of a batch: the caller can still
        // answer the events before it, as with one ws_conn_poll_event() each.
        if n == 0 && cap > 0 && deferred.is_none() && inner.pending_events() > 0 && !inner.handshake_event_next() {
            if let Some(ev) = inner.next_event() {
                // SAFETY: as above; n == 0 < cap.
                unsafe { out.write(compact(ev)) };
                n = 1;
                deferred = inner.take_deferred_error();
            }
        }
        let handshake_next = n == 0 && inner.handshake_event_next();
        // SAFETY: `out_count` is non-null and writable per the contract.
        unsafe { out_count.write(n) };
        if let Some(e) = deferred {
            return c.check(Err(e));
        }
        if handshake_next {
            return c
                .fail(ws_result_t::WS_ERR_WRONG_STATE, "a handshake event is next: take it with ws_conn_poll_event");
        }
        ws_result_t::WS_OK
    })
}
