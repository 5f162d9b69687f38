//! `ws_conn_t`: lifecycle, input, data/control sends, output and queries.

use std::cell::{Cell, UnsafeCell};
use std::ffi::{c_char, c_void, CStr, CString};

use super::alloc::try_box_with;
use super::config::{config_from, ws_config_t};
use super::event::{ws_header_t, ws_str_t};
use super::macros::{bytes, ffi_boundary, ffi_catch, utf8, ArgError};
use super::result::ws_result_t;
use crate::connection::{Connection, Encoded, Role, SendOptions, State};
use crate::deflate::DeflateParams;
use crate::error::Error;
use crate::event::DataKind;

/// Which end of the connection this is.
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ws_role_t {
    /// The end that sent the upgrade request; it masks its frames.
    WS_ROLE_CLIENT = 0,
    /// The end that accepted the upgrade; its frames are not masked.
    WS_ROLE_SERVER = 1,
}

/// A `ws_role_t` received from C, taken as its raw value so an out-of-range
/// value is an error instead of undefined behaviour. cbindgen shows it as
/// `ws_role_t`.
#[repr(transparent)]
#[derive(Clone, Copy, Debug)]
pub struct WsRoleArg(pub u32);

/// Connection state (numbered as in Python wsproto).
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ws_state_t {
    /// Handshake in progress.
    WS_STATE_CONNECTING = 0,
    /// Handshake done; data may flow both ways.
    WS_STATE_OPEN = 1,
    /// The peer sent a close frame; we have not answered yet.
    WS_STATE_REMOTE_CLOSING = 2,
    /// We sent a close frame and wait for the peer's.
    WS_STATE_LOCAL_CLOSING = 3,
    /// The closing handshake is over or the connection failed.
    WS_STATE_CLOSED = 4,
    /// Server: a rejection is being sent (ws_conn_reject with a body).
    WS_STATE_REJECTING = 5,
}

/// Bits of the `send_flags` argument of ws_conn_send_text() and
/// ws_conn_send_binary(); OR them together (0 = a whole, compressible
/// message). Enum constants rather than macros so that they survive
/// preprocessing (LuaJIT ffi.cdef, cffi, ctypes mirrors); the argument itself
/// is a uint32_t.
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ws_send_flag_t {
    /// Not the last fragment; more of this message follows.
    WS_SEND_MORE = 1,
    /// Never compress this message (permessage-deflate).
    WS_SEND_NO_COMPRESS = 2,
    /// The text is already known to be valid UTF-8 (for example the data of
    /// a WS_EVENT_TEXT just received, which the library validated), so it is
    /// not checked again. Text that is not valid UTF-8 then goes out as is,
    /// and the peer will fail the connection (1007): that is the caller's
    /// responsibility. Once a fragment is sent with it, the rest of the
    /// message is not checked either. Ignored for binary messages.
    WS_SEND_TRUSTED_UTF8 = 4,
}

/// Rust spelling of [`ws_send_flag_t::WS_SEND_MORE`] as a `send_flags` bit
/// (not in the header, which has the enum constant).
pub const WS_SEND_MORE: u32 = ws_send_flag_t::WS_SEND_MORE as u32;
/// Rust spelling of [`ws_send_flag_t::WS_SEND_NO_COMPRESS`] (not in the header).
pub const WS_SEND_NO_COMPRESS: u32 = ws_send_flag_t::WS_SEND_NO_COMPRESS as u32;
/// Rust spelling of [`ws_send_flag_t::WS_SEND_TRUSTED_UTF8`] (not in the header).
pub const WS_SEND_TRUSTED_UTF8: u32 = ws_send_flag_t::WS_SEND_TRUSTED_UTF8 as u32;

/// One WebSocket connection (client, server or frames-only). Opaque.
/// Not thread-safe: use it from one thread at a time (it may move between
/// threads between calls).
pub struct ws_conn_t {
    /// Everything a call may change. Reached only through `with_mut` /
    /// `with_ref`, which check `flags` first: a call made from inside another
    /// call on the same connection (from its RNG callback) must not create a
    /// second reference to it.
    conn: UnsafeCell<Conn>,
    /// [`BUSY`] and [`POISONED`], in one byte so that a call's entry check is
    /// one load and compare (0: usable and not in use).
    flags: Cell<u8>,
}

/// A call that holds the `Conn` mutably is running on this connection.
const BUSY: u8 = 1;
/// A panic was caught: every later call is refused.
const POISONED: u8 = 2;

/// The state behind a `ws_conn_t`.
pub(crate) struct Conn {
    pub(crate) inner: Connection,
    /// REQUEST subprotocol list, rebuilt per handshake event, freed after it.
    pub(crate) strs: Vec<ws_str_t>,
    /// REQUEST/ACCEPT/REJECT header list, rebuilt per handshake event, freed after it.
    pub(crate) headers: Vec<ws_header_t>,
    /// REQUEST: several Sec-WebSocket-Extensions values joined with ", ".
    pub(crate) joined: String,
    /// None until the first error (an empty CString would allocate).
    last_error: Option<CString>,
}

const BUSY_MSG: &CStr = c"the connection was called from inside one of its own calls (its RNG callback)";

impl Conn {
    /// Heap held by the C-side lists of the last handshake event.
    pub(crate) fn lists_heap(&self) -> usize {
        self.strs.capacity() * std::mem::size_of::<ws_str_t>()
            + self.headers.capacity() * std::mem::size_of::<ws_header_t>()
            + self.joined.capacity()
            + self.last_error.as_ref().map_or(0, |e| e.as_bytes().len())
    }

    /// Stores `msg` for ws_conn_last_error and returns `code`.
    pub(crate) fn fail(&mut self, code: ws_result_t, msg: impl Into<String>) -> ws_result_t {
        let mut bytes = msg.into().into_bytes();
        bytes.retain(|&b| b != 0);
        self.last_error = CString::new(bytes).ok();
        code
    }

    /// Translates an engine result, storing the error message.
    pub(crate) fn check(&mut self, r: crate::error::Result<()>) -> ws_result_t {
        match r {
            Ok(()) => ws_result_t::WS_OK,
            Err(Error { kind, message, .. }) => self.fail(kind.into(), message),
        }
    }

    /// Translates an argument conversion failure.
    pub(crate) fn arg(&mut self, e: ArgError) -> ws_result_t {
        match e {
            ArgError::Null(what) => self.fail(ws_result_t::WS_ERR_NULL_ARGUMENT, format!("{what} is NULL")),
            ArgError::NotUtf8(what) => {
                self.fail(ws_result_t::WS_ERR_INVALID_ARGUMENT, format!("{what} is not valid UTF-8"))
            }
        }
    }
}

/// Runs `f` on the connection behind `conn` inside the panic boundary: NULL ->
/// WS_ERR_NULL_ARGUMENT, poisoned -> WS_ERR_POISONED, called from inside a
/// call on the same connection -> WS_ERR_WRONG_STATE, panic -> poison and
/// WS_ERR_PANIC.
///
/// Inlined into each export: the entry is one load and compare of `flags`,
/// and the export's arguments stay in registers.
#[inline(always)]
pub(crate) fn with_mut(conn: *mut ws_conn_t, f: impl FnOnce(&mut Conn) -> ws_result_t) -> ws_result_t {
    // SAFETY: C passes NULL or a live pointer from ws_conn_new_*, used by one
    // thread at a time (documented). Only a shared reference to the handle is
    // made; `Cell`s and the `UnsafeCell` allow that even while an outer call
    // on the same thread holds the `Conn` mutably.
    let Some(c) = (unsafe { conn.as_ref() }) else {
        return ws_result_t::WS_ERR_NULL_ARGUMENT;
    };
    let flags = c.flags.get();
    if flags != 0 {
        return refused(flags);
    }
    c.flags.set(BUSY);
    // SAFETY: `BUSY` was clear, so no other reference to the `Conn` exists
    // (every access goes through with_mut/with_ref/ws_conn_last_error, which
    // check it), and it stays set until this reference is gone.
    let inner = unsafe { &mut *c.conn.get() };
    // A panic is caught here, so `BUSY` is cleared below on every path.
    let r = match ffi_catch!(f(&mut *inner)) {
        Ok(r) => r,
        Err(msg) => poison(c, inner, msg),
    };
    c.flags.set(c.flags.get() & !BUSY);
    r
}

/// Runs `f`, the common case of an export, without the busy store: None
/// when the handle is NULL, busy or poisoned, or when `f` declines (None),
/// so that the general path runs and reports; else `f`'s result.
///
/// `f` must not call out of the library (an RNG callback could re-enter the
/// connection and make a second reference while `f` holds one); it is
/// written not to panic either, but still runs inside the panic boundary: a
/// panic poisons the connection and is reported as WS_ERR_PANIC.
#[inline(always)]
pub(crate) fn with_leaf(conn: *mut ws_conn_t, f: impl FnOnce(&mut Conn) -> Option<ws_result_t>) -> Option<ws_result_t> {
    // SAFETY: as in with_mut: only a shared reference to the handle.
    let c = unsafe { conn.as_ref() }?;
    if c.flags.get() != 0 {
        return None;
    }
    // SAFETY: `BUSY` was clear, so no other reference to the `Conn` exists,
    // and `f` makes none before this one is gone (it does not call out, so
    // nothing can re-enter the connection).
    let inner = unsafe { &mut *c.conn.get() };
    match ffi_catch!(f(&mut *inner)) {
        Ok(r) => r,
        Err(msg) => Some(poison(c, inner, msg)),
    }
}

/// Why with_mut refuses a call (`flags` != 0): poisoned first, as documented.
#[cold]
#[inline(never)]
fn refused(flags: u8) -> ws_result_t {
    if flags & POISONED != 0 {
        ws_result_t::WS_ERR_POISONED
    } else {
        ws_result_t::WS_ERR_WRONG_STATE
    }
}

#[cold]
#[inline(never)]
fn poison(c: &ws_conn_t, inner: &mut Conn, msg: String) -> ws_result_t {
    c.flags.set(c.flags.get() | POISONED);
    inner.fail(ws_result_t::WS_ERR_PANIC, format!("internal panic (connection poisoned): {msg}"))
}

/// Like [`with_mut`] for functions that only read; returns `on_null`
/// (NULL, or called from inside a call on the same connection),
/// `on_poisoned` or `on_panic` in those cases (a panic still poisons).
///
/// `f` must not call out of the library (no RNG callback): then no other
/// call on this connection can start while it runs, so it does not mark the
/// connection busy, and the entry is one load and compare.
#[inline(always)]
pub(crate) fn with_ref<T>(
    conn: *const ws_conn_t,
    on_null: T,
    on_poisoned: T,
    on_panic: T,
    f: impl FnOnce(&Conn) -> T,
) -> T {
    // SAFETY: as in with_mut: only a shared reference to the handle.
    let Some(c) = (unsafe { conn.as_ref() }) else {
        return on_null;
    };
    let flags = c.flags.get();
    if flags != 0 {
        return if flags & POISONED != 0 { on_poisoned } else { on_null };
    }
    // SAFETY: `BUSY` was clear, so no call holds the `Conn` mutably, and
    // none can start before this reference is gone: `f` does not call out.
    let inner = unsafe { &*c.conn.get() };
    match ffi_catch!(f(inner)) {
        Ok(v) => v,
        Err(_) => {
            c.flags.set(c.flags.get() | POISONED);
            on_panic
        }
    }
}

/// Boxes a new connection into `*out`.
pub(crate) fn create(out: *mut *mut ws_conn_t, make: impl FnOnce() -> Connection) -> ws_result_t {
    if out.is_null() {
        return ws_result_t::WS_ERR_NULL_ARGUMENT;
    }
    ffi_boundary!(ws_result_t::WS_ERR_PANIC, {
        let handle = try_box_with(|| ws_conn_t {
            conn: UnsafeCell::new(Conn {
                inner: make(),
                strs: Vec::new(),
                headers: Vec::new(),
                joined: String::new(),
                last_error: None,
            }),
            flags: Cell::new(0),
        });
        let Some(handle) = handle else {
            return ws_result_t::WS_ERR_NO_MEMORY;
        };
        let conn = Box::into_raw(handle);
        // SAFETY: `out` is non-null and, per the contract, writable.
        unsafe { out.write(conn) };
        ws_result_t::WS_OK
    })
}

/// Creates a client connection in WS_STATE_CONNECTING. Next: ws_conn_send_request().
///
/// `cfg` may be NULL (defaults); it is copied, so the caller still owns it and
/// may free it right away. On WS_OK `*out` receives a connection the caller
/// owns and must release with ws_conn_free().
///
/// Returns WS_OK; WS_ERR_NULL_ARGUMENT if `out` is NULL; WS_ERR_NO_MEMORY;
/// WS_ERR_PANIC.
#[no_mangle]
pub extern "C" fn ws_conn_new_client(cfg: *const ws_config_t, out: *mut *mut ws_conn_t) -> ws_result_t {
    // SAFETY: `cfg` is NULL or a live config (documented contract).
    create(out, || Connection::client(unsafe { config_from(cfg) }))
}

/// Creates a server connection in WS_STATE_CONNECTING. Next: feed the
/// client's bytes with ws_conn_receive() and poll for a WS_EVENT_REQUEST.
///
/// `cfg` may be NULL (defaults); it is copied. On WS_OK `*out` receives a
/// connection the caller owns and must release with ws_conn_free().
///
/// Returns WS_OK; WS_ERR_NULL_ARGUMENT if `out` is NULL; WS_ERR_NO_MEMORY;
/// WS_ERR_PANIC.
#[no_mangle]
pub extern "C" fn ws_conn_new_server(cfg: *const ws_config_t, out: *mut *mut ws_conn_t) -> ws_result_t {
    // SAFETY: `cfg` is NULL or a live config (documented contract).
    create(out, || Connection::server(unsafe { config_from(cfg) }))
}

/// Creates a connection whose HTTP upgrade happened elsewhere (an HTTP server
/// that already upgraded, WebSocket over HTTP/2): it starts in
/// WS_STATE_OPEN. `role` says which end we are (a client masks its frames).
/// `trailing[0..trailing_len)` are bytes already read past the handshake;
/// they are copied and parsed as frames (poll for events). `trailing` may be
/// NULL when `trailing_len` is 0. `cfg` may be NULL (defaults); it is copied.
/// On WS_OK `*out` receives a connection the caller must ws_conn_free().
///
/// Returns WS_OK; WS_ERR_NULL_ARGUMENT if `out` is NULL or `trailing` is NULL
/// with a non-zero length; WS_ERR_INVALID_ARGUMENT if `role` is not a
/// ws_role_t value; WS_ERR_NO_MEMORY; WS_ERR_PANIC.
#[no_mangle]
pub extern "C" fn ws_conn_new_frames_only(
    cfg: *const ws_config_t,
    role: WsRoleArg,
    trailing: *const c_void,
    trailing_len: usize,
    out: *mut *mut ws_conn_t,
) -> ws_result_t {
    new_frames_only(cfg, role, None, trailing, trailing_len, out)
}

/// ws_conn_new_frames_only with the permessage-deflate parameters, if any.
pub(crate) fn new_frames_only(
    cfg: *const ws_config_t,
    role: WsRoleArg,
    deflate: Option<DeflateParams>,
    trailing: *const c_void,
    trailing_len: usize,
    out: *mut *mut ws_conn_t,
) -> ws_result_t {
    if out.is_null() {
        return ws_result_t::WS_ERR_NULL_ARGUMENT;
    }
    let role = match role.0 {
        0 => Role::Client,
        1 => Role::Server,
        _ => return ws_result_t::WS_ERR_INVALID_ARGUMENT,
    };
    // SAFETY: `trailing` is NULL or valid for `trailing_len` bytes during this call.
    let trailing = match unsafe { bytes(trailing, trailing_len, "trailing") } {
        Ok(t) => t,
        Err(_) => return ws_result_t::WS_ERR_NULL_ARGUMENT,
    };
    // SAFETY: `cfg` is NULL or a live config (documented contract).
    create(out, || Connection::frames_only(role, unsafe { config_from(cfg) }, deflate, trailing))
}

/// Frees a connection and everything it owns (pending output is discarded;
/// event and output pointers become invalid). NULL is a no-op. A poisoned
/// connection may (and should) be freed. Called from the connection's own
/// RNG callback it does nothing (the connection is in use).
#[no_mangle]
pub extern "C" fn ws_conn_free(conn: *mut ws_conn_t) {
    // SAFETY: NULL or a live connection (documented contract); shared access only.
    match unsafe { conn.as_ref() } {
        None => return,
        Some(c) if c.flags.get() & BUSY != 0 => return,
        Some(_) => {}
    }
    ffi_boundary!((), {
        // SAFETY: non-null pointers given here come from ws_conn_new_*
        // (Box::into_raw) and are freed once, per the documented contract.
        drop(unsafe { Box::from_raw(conn) });
    })
}

/// The connection's state. NULL or a poisoned connection -> WS_STATE_CLOSED.
#[no_mangle]
pub extern "C" fn ws_conn_state(conn: *const ws_conn_t) -> ws_state_t {
    use ws_state_t::*;
    with_ref(conn, WS_STATE_CLOSED, WS_STATE_CLOSED, WS_STATE_CLOSED, |c| match c.inner.state() {
        State::Connecting => WS_STATE_CONNECTING,
        State::Open => WS_STATE_OPEN,
        State::RemoteClosing => WS_STATE_REMOTE_CLOSING,
        State::LocalClosing => WS_STATE_LOCAL_CLOSING,
        State::Closed => WS_STATE_CLOSED,
        State::Rejecting => WS_STATE_REJECTING,
    })
}

/// Feeds `data[0..len)` read from the transport. The bytes are consumed
/// (parsed, or copied to be parsed later) before returning; the caller keeps
/// ownership of `data`, which may be NULL when `len` is 0. Next: call
/// ws_conn_poll_event() until it reports WS_EVENT_NONE, then write out the
/// output. Parsing stops at a frame boundary while many events (4096, or
/// 1 MiB of payload) wait to be taken, and before a data frame while the
/// output is at its high-water mark; the rest of `data` is kept and parsed
/// as events are taken and output is written.
///
/// Returns WS_OK; WS_ERR_NULL_ARGUMENT; WS_ERR_CLOSED if the connection is
/// closed or ws_conn_receive_eof() was called (input ignored);
/// WS_ERR_HANDSHAKE if the peer's upgrade request/response is invalid
/// (server: answer with ws_conn_reject() using ws_conn_handshake_status_hint()
/// and close the transport once the output is written; client: close the
/// transport); WS_ERR_INPUT_FULL (nothing taken: parsing is paused, or a
/// client's rejection-body events wait to be taken, and the held-back input
/// is at its limit; poll events, write output or accept, then feed the same
/// bytes again; ws_conn_wants_read() tells in advance);
/// WS_ERR_NO_MEMORY (the connection failed: a WS_EVENT_CLOSE with code 1011
/// follows; write the output and close the transport); WS_ERR_RNG (client:
/// the random source failed while masking an automatic pong or close reply,
/// which was not sent; the input was processed). Protocol violations after
/// the handshake are not errors here: they surface as a WS_EVENT_CLOSE with
/// WS_EVENT_FLAG_PROTOCOL_ERROR (1009 when a message exceeds its limit or the
/// memory budget).
#[no_mangle]
pub extern "C" fn ws_conn_receive(conn: *mut ws_conn_t, data: *const c_void, len: usize) -> ws_result_t {
    with_mut(conn, |c| {
        // SAFETY: `data` is NULL or valid for `len` bytes during this call.
        match unsafe { bytes(data, len, "data") } {
            Ok(d) => {
                let r = c.inner.receive(d);
                c.check(r)
            }
            Err(e) => c.arg(e),
        }
    })
}

/// Tells the connection that the transport reached end of input. If the
/// closing handshake had not finished, a WS_EVENT_CLOSE with code 1006
/// follows (poll for it). Later ws_conn_receive() calls return WS_ERR_CLOSED.
///
/// Calling it again is harmless (WS_OK, no second CLOSE event).
///
/// Returns WS_OK; WS_ERR_NULL_ARGUMENT.
#[no_mangle]
pub extern "C" fn ws_conn_receive_eof(conn: *mut ws_conn_t) -> ws_result_t {
    with_mut(conn, |c| {
        let r = c.inner.receive_eof();
        c.check(r)
    })
}

/// Parses `send_flags` (WS_SEND_*).
#[inline]
fn send_flags(c: &mut Conn, flags: u32) -> Result<SendOptions, ws_result_t> {
    if flags & !(WS_SEND_MORE | WS_SEND_NO_COMPRESS | WS_SEND_TRUSTED_UTF8) != 0 {
        return Err(unknown_flags(c, flags));
    }
    Ok(SendOptions {
        fin: flags & WS_SEND_MORE == 0,
        allow_compression: flags & WS_SEND_NO_COMPRESS == 0,
        trusted_utf8: flags & WS_SEND_TRUSTED_UTF8 != 0,
    })
}

#[cold]
fn unknown_flags(c: &mut Conn, flags: u32) -> ws_result_t {
    c.fail(ws_result_t::WS_ERR_INVALID_ARGUMENT, format!("unknown send flags {flags:#x}"))
}

/// ws_conn_send_text / ws_conn_send_binary. The common case (flags 0 or
/// WS_SEND_TRUSTED_UTF8, `data` given, a whole small message the engine can
/// write in one pass) is a few compares here; everything else goes to
/// [`send_data_general`], which decides exactly as before.
#[inline(always)]
fn send_data(conn: *mut ws_conn_t, kind: DataKind, data: *const c_void, len: usize, flags: u32) -> ws_result_t {
    // `move`: the closure holds the arguments themselves, not pointers to
    // them on this frame.
    with_mut(conn, move |c| {
        if flags & !WS_SEND_TRUSTED_UTF8 == 0 && !data.is_null() {
            // SAFETY: `data` is non-null and valid for `len` bytes during this call.
            let d = unsafe { std::slice::from_raw_parts(data.cast::<u8>(), len) };
            if c.inner.try_send_small(kind, d, flags != 0) {
                return ws_result_t::WS_OK;
            }
        }
        send_data_general(c, kind, data, len, flags)
    })
}

/// Everything ws_conn_send_* does besides the one-pass common case: argument
/// and flag errors (stored for ws_conn_last_error), then the engine's
/// general send, which also takes the fast path again where it applies.
#[inline(never)]
fn send_data_general(c: &mut Conn, kind: DataKind, data: *const c_void, len: usize, flags: u32) -> ws_result_t {
    // SAFETY: `data` is NULL or valid for `len` bytes during this call.
    let d = match unsafe { bytes(data, len, "data") } {
        Ok(d) => d,
        Err(e) => return c.arg(e),
    };
    let o = match send_flags(c, flags) {
        Ok(o) => o,
        Err(r) => return r,
    };
    let r = c.inner.send_data_with(kind, d, o);
    c.check(r)
}

#[cold]
fn too_small(c: &mut Conn, need: usize, cap: usize) -> ws_result_t {
    c.fail(ws_result_t::WS_ERR_BUFFER_TOO_SMALL, format!("the frame needs {need} bytes, the buffer has {cap}"))
}

/// The two zero-copy encoders behind ws_conn_encode_*.
#[derive(Clone, Copy)]
enum Direct {
    Frame,
    Header,
}

/// Inlined into each export, so `how` and `kind` are constants there.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn encode(
    conn: *mut ws_conn_t,
    how: Direct,
    kind: DataKind,
    data: *const c_void,
    len: usize,
    flags: u32,
    buf: *mut c_void,
    cap: usize,
    out_len: *mut usize,
) -> ws_result_t {
    // A server's header alone, in the common case (flags 0 or
    // WS_SEND_TRUSTED_UTF8, every pointer given, a whole message): it cannot
    // panic or call out, so it runs without the busy flag and the panic
    // boundary. Everything else, with every error, below.
    if matches!(how, Direct::Header)
        && flags & !WS_SEND_TRUSTED_UTF8 == 0
        && !data.is_null()
        && !buf.is_null()
        && !out_len.is_null()
    {
        // The engine's header encode alone does not call out
        // (try_encode_header).
        let done = with_leaf(conn, |c| {
            // SAFETY: `data` is non-null and valid for `len` bytes, `buf`
            // non-null and writable for `cap` bytes during this call, and
            // they do not overlap (documented contract).
            let (d, out) = unsafe {
                (
                    std::slice::from_raw_parts(data.cast::<u8>(), len),
                    std::slice::from_raw_parts_mut(buf.cast::<u8>(), cap),
                )
            };
            let n = c.inner.try_encode_header(kind, d, flags != 0, out)?;
            // SAFETY: `out_len` is non-null and writable per the contract.
            unsafe { out_len.write(n) };
            Some(ws_result_t::WS_OK)
        });
        if let Some(r) = done {
            return r;
        }
    }
    if matches!(how, Direct::Header) {
        return encode_header_locked(conn, kind, data, len, flags, buf, cap, out_len);
    }
    encode_locked(conn, how, kind, data, len, flags, buf, cap, out_len)
}

/// The rest of ws_conn_encode_*_header, out of line: the export stays small.
#[allow(clippy::too_many_arguments)]
#[inline(never)]
fn encode_header_locked(
    conn: *mut ws_conn_t,
    kind: DataKind,
    data: *const c_void,
    len: usize,
    flags: u32,
    buf: *mut c_void,
    cap: usize,
    out_len: *mut usize,
) -> ws_result_t {
    encode_locked(conn, Direct::Header, kind, data, len, flags, buf, cap, out_len)
}

/// ws_conn_encode_* under the busy flag and the panic boundary.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn encode_locked(
    conn: *mut ws_conn_t,
    how: Direct,
    kind: DataKind,
    data: *const c_void,
    len: usize,
    flags: u32,
    buf: *mut c_void,
    cap: usize,
    out_len: *mut usize,
) -> ws_result_t {
    with_mut(conn, move |c| {
        // The common case of a whole frame (flags 0 or WS_SEND_TRUSTED_UTF8,
        // every pointer given, a small message the engine writes in one
        // pass) in a few compares; everything else, with every error, in
        // encode_general.
        if matches!(how, Direct::Frame)
            && flags & !WS_SEND_TRUSTED_UTF8 == 0
            && !data.is_null()
            && !buf.is_null()
            && !out_len.is_null()
        {
            // SAFETY: `data` is non-null and valid for `len` bytes, `buf`
            // non-null and writable for `cap` bytes during this call, and
            // they do not overlap (documented contract).
            let (d, out) = unsafe {
                (
                    std::slice::from_raw_parts(data.cast::<u8>(), len),
                    std::slice::from_raw_parts_mut(buf.cast::<u8>(), cap),
                )
            };
            if let Some(n) = c.inner.try_encode_small(kind, d, flags != 0, out) {
                // SAFETY: `out_len` is non-null and writable per the contract.
                unsafe { out_len.write(n) };
                return ws_result_t::WS_OK;
            }
        }
        encode_general(c, how, kind, data, len, flags, buf, cap, out_len)
    })
}

/// Everything ws_conn_encode_* does besides the one-pass common case.
#[allow(clippy::too_many_arguments)]
#[inline(never)]
fn encode_general(
    c: &mut Conn,
    how: Direct,
    kind: DataKind,
    data: *const c_void,
    len: usize,
    flags: u32,
    buf: *mut c_void,
    cap: usize,
    out_len: *mut usize,
) -> ws_result_t {
    {
        if out_len.is_null() {
            return c.fail(ws_result_t::WS_ERR_NULL_ARGUMENT, "out_len is NULL");
        }
        if buf.is_null() && cap > 0 {
            return c.fail(ws_result_t::WS_ERR_NULL_ARGUMENT, "buf is NULL");
        }
        // SAFETY: `data` is NULL or valid for `len` bytes during this call.
        let d = match unsafe { bytes(data, len, "data") } {
            Ok(d) => d,
            Err(e) => return c.arg(e),
        };
        let o = match send_flags(c, flags) {
            Ok(o) => o,
            Err(r) => return r,
        };
        let out: &mut [u8] = if cap == 0 {
            &mut []
        } else {
            // SAFETY: `buf` is non-null and, per the contract, writable for
            // `cap` bytes during this call; it must not overlap `data`
            // (documented), so the two slices do not alias.
            unsafe { std::slice::from_raw_parts_mut(buf.cast::<u8>(), cap) }
        };
        let r = match how {
            Direct::Frame => c.inner.encode_data(kind, d, o, out),
            Direct::Header => c.inner.encode_header(kind, d, o, out),
        };
        match r {
            Ok(Encoded::Written(n)) => {
                // SAFETY: `out_len` is non-null and writable per the contract.
                unsafe { out_len.write(n) };
                ws_result_t::WS_OK
            }
            Ok(Encoded::TooSmall(n)) => {
                // SAFETY: as above.
                unsafe { out_len.write(n) };
                too_small(c, n, cap)
            }
            Err(e) => c.check(Err(e)),
        }
    }
}

/// Zero-copy send of a text message (or of one fragment of it with
/// WS_SEND_MORE): encodes the whole frame straight into the caller's
/// `buf[0..cap)`: the header, then the payload, which a client masks in the
/// same pass (one copy in all, no bytes through the connection's output
/// buffer). Use it when you own a send buffer anyway (io_uring, a ring,
/// TLS records) or for a client's large messages; use
/// ws_conn_encode_text_header() for a server that can `writev` its own
/// payload; use ws_conn_send_text() otherwise (simplest; needed for
/// compressed messages).
///
/// `data[0..len)` is only read during the call (NULL allowed when `len` is
/// 0) and must not overlap `buf`; it may be the data of an event just
/// polled from this connection (echo). `send_flags`: WS_SEND_MORE,
/// WS_SEND_NO_COMPRESS, WS_SEND_TRUSTED_UTF8; same fragmentation and UTF-8
/// rules as ws_conn_send_text(). The connection keeps no pointer to either
/// buffer.
///
/// On WS_OK, `*out_len` receives the number of bytes written at the start of
/// `buf` (at most `len` + 14): write all of them to the transport before
/// writing the connection's output or another frame. On
/// WS_ERR_BUFFER_TOO_SMALL, `*out_len` receives the size needed and nothing
/// was written or changed. On other errors `*out_len` is not written.
///
/// Returns WS_OK; WS_ERR_BUFFER_TOO_SMALL; WS_ERR_NULL_ARGUMENT (`conn`,
/// `out_len`, `buf` with `cap` > 0, `data` with `len` > 0);
/// WS_ERR_INVALID_ARGUMENT (not UTF-8, unknown flag bits, or a message
/// permessage-deflate would compress: pass WS_SEND_NO_COMPRESS or use
/// ws_conn_send_text()); WS_ERR_WRONG_STATE (not OPEN / REMOTE_CLOSING, a
/// binary message is being fragmented, or queued output is pending: write it
/// out first); WS_ERR_RNG (client masking key). Nothing changes on error.
#[no_mangle]
pub extern "C" fn ws_conn_encode_text(
    conn: *mut ws_conn_t,
    data: *const c_void,
    len: usize,
    send_flags: u32,
    buf: *mut c_void,
    cap: usize,
    out_len: *mut usize,
) -> ws_result_t {
    encode(conn, Direct::Frame, DataKind::Text, data, len, send_flags, buf, cap, out_len)
}

/// Zero-copy send of a binary message (or fragment): as
/// ws_conn_encode_text(), without the UTF-8 rules; WS_ERR_WRONG_STATE also
/// while a text message is being fragmented.
#[no_mangle]
pub extern "C" fn ws_conn_encode_binary(
    conn: *mut ws_conn_t,
    data: *const c_void,
    len: usize,
    send_flags: u32,
    buf: *mut c_void,
    cap: usize,
    out_len: *mut usize,
) -> ws_result_t {
    encode(conn, Direct::Frame, DataKind::Binary, data, len, send_flags, buf, cap, out_len)
}

/// Server only, zero-copy: writes just the header (at most 10 bytes;
/// WS_MAX_SERVER_HEADER_LEN) of the text frame that carries
/// `data[0..len)` into `buf[0..cap)`. Then write the header followed by your
/// own `data` (e.g. one `writev`/`sendmsg`), both in full, before the
/// connection's output or another frame: the payload is never copied.
/// `data` is read during the call only, to check UTF-8 (skipped with
/// WS_SEND_TRUSTED_UTF8); the connection keeps no pointer to it or to `buf`.
/// A client must mask its payload and cannot use this (WS_ERR_WRONG_STATE:
/// use ws_conn_encode_text()). A compressed message cannot be sent as a
/// header plus the caller's payload: a message permessage-deflate would
/// compress is refused (WS_ERR_INVALID_ARGUMENT; pass WS_SEND_NO_COMPRESS).
///
/// On WS_OK `*out_len` receives the header size; on WS_ERR_BUFFER_TOO_SMALL
/// the size needed (nothing written or changed); otherwise it is not written.
///
/// Returns WS_OK; WS_ERR_BUFFER_TOO_SMALL; WS_ERR_NULL_ARGUMENT;
/// WS_ERR_INVALID_ARGUMENT (not UTF-8, unknown flag bits, would be
/// compressed); WS_ERR_WRONG_STATE (client, not OPEN / REMOTE_CLOSING, a
/// binary message is being fragmented, queued output pending). Nothing
/// changes on error.
#[no_mangle]
pub extern "C" fn ws_conn_encode_text_header(
    conn: *mut ws_conn_t,
    data: *const c_void,
    len: usize,
    send_flags: u32,
    buf: *mut c_void,
    cap: usize,
    out_len: *mut usize,
) -> ws_result_t {
    encode(conn, Direct::Header, DataKind::Text, data, len, send_flags, buf, cap, out_len)
}

/// Server only, zero-copy: as ws_conn_encode_text_header() for a binary
/// frame (`data` is only measured: it is not read).
#[no_mangle]
pub extern "C" fn ws_conn_encode_binary_header(
    conn: *mut ws_conn_t,
    data: *const c_void,
    len: usize,
    send_flags: u32,
    buf: *mut c_void,
    cap: usize,
    out_len: *mut usize,
) -> ws_result_t {
    encode(conn, Direct::Header, DataKind::Binary, data, len, send_flags, buf, cap, out_len)
}

/// Largest frame header a server writes (ws_conn_encode_*_header).
pub const WS_MAX_SERVER_HEADER_LEN: usize = 10;
/// Largest frame header (a client's, with its masking key):
/// ws_conn_encode_text()/ws_conn_encode_binary() write at most `len` + this.
pub const WS_MAX_HEADER_LEN: usize = 14;

/// Queues a text message, or one fragment of it when `send_flags` has
/// WS_SEND_MORE (end the message with a call without it). The bytes are
/// copied; `data` may be NULL when `len` is 0. Each fragment must be valid
/// UTF-8 on its own boundaries as a whole message would be (a code point may
/// be split across fragments). Next: write out the output.
///
/// Returns WS_OK; WS_ERR_NULL_ARGUMENT; WS_ERR_INVALID_ARGUMENT (not UTF-8,
/// unknown flag bits; nothing queued); WS_ERR_WRONG_STATE (not OPEN /
/// REMOTE_CLOSING, or a binary message is being fragmented; nothing queued);
/// WS_ERR_RNG (client masking key; nothing queued); WS_ERR_NO_MEMORY
/// (nothing queued).
#[no_mangle]
pub extern "C" fn ws_conn_send_text(
    conn: *mut ws_conn_t,
    data: *const c_void,
    len: usize,
    send_flags: u32,
) -> ws_result_t {
    send_data(conn, DataKind::Text, data, len, send_flags)
}

/// Queues a binary message, or one fragment of it when `send_flags` has
/// WS_SEND_MORE. The bytes are copied; `data` may be NULL when `len` is 0.
///
/// Returns WS_OK; WS_ERR_NULL_ARGUMENT; WS_ERR_INVALID_ARGUMENT (unknown flag
/// bits); WS_ERR_WRONG_STATE (not OPEN / REMOTE_CLOSING, or a text message is
/// being fragmented); WS_ERR_RNG; WS_ERR_NO_MEMORY. Nothing is queued on error.
#[no_mangle]
pub extern "C" fn ws_conn_send_binary(
    conn: *mut ws_conn_t,
    data: *const c_void,
    len: usize,
    send_flags: u32,
) -> ws_result_t {
    send_data(conn, DataKind::Binary, data, len, send_flags)
}

/// Queues a ping with payload `data[0..len)` (at most 125 bytes, copied;
/// NULL allowed when `len` is 0).
///
/// Returns WS_OK; WS_ERR_NULL_ARGUMENT; WS_ERR_INVALID_ARGUMENT (payload >
/// 125); WS_ERR_WRONG_STATE; WS_ERR_RNG; WS_ERR_NO_MEMORY. Nothing is queued
/// on error.
#[no_mangle]
pub extern "C" fn ws_conn_send_ping(conn: *mut ws_conn_t, data: *const c_void, len: usize) -> ws_result_t {
    with_mut(conn, |c| {
        // SAFETY: `data` is NULL or valid for `len` bytes during this call.
        match unsafe { bytes(data, len, "data") } {
            Ok(d) => {
                let r = c.inner.send_ping(d);
                c.check(r)
            }
            Err(e) => c.arg(e),
        }
    })
}

/// Queues a pong (unsolicited, or a manual answer when auto-pong is off);
/// same rules as ws_conn_send_ping().
#[no_mangle]
pub extern "C" fn ws_conn_send_pong(conn: *mut ws_conn_t, data: *const c_void, len: usize) -> ws_result_t {
    with_mut(conn, |c| {
        // SAFETY: `data` is NULL or valid for `len` bytes during this call.
        match unsafe { bytes(data, len, "data") } {
            Ok(d) => {
                let r = c.inner.send_pong(d);
                c.check(r)
            }
            Err(e) => c.arg(e),
        }
    })
}

/// Starts (or answers) the closing handshake: queues a close frame with
/// `code` and the UTF-8 `reason[0..reason_len)` (at most 123 bytes, copied;
/// NULL allowed when `reason_len` is 0). `code` 0 or 1005 ("no status
/// code", as a WS_EVENT_CLOSE reports it, so a close can be echoed as is)
/// sends a close frame without a status code; then the reason must be
/// empty. After our close
/// frame, no more data may be sent; keep reading until the peer's close
/// (WS_EVENT_CLOSE), then ws_conn_wants_close_transport() turns true.
///
/// Returns WS_OK; WS_ERR_NULL_ARGUMENT; WS_ERR_INVALID_ARGUMENT (code not
/// sendable per RFC 6455 7.4, reason too long or not UTF-8); WS_ERR_WRONG_STATE
/// (close already sent, or not open); WS_ERR_RNG; WS_ERR_NO_MEMORY. Nothing
/// is queued on error.
#[no_mangle]
pub extern "C" fn ws_conn_send_close(
    conn: *mut ws_conn_t,
    code: u16,
    reason: *const c_void,
    reason_len: usize,
) -> ws_result_t {
    with_mut(conn, |c| {
        // SAFETY: `reason` is NULL or valid for `reason_len` bytes during this call.
        match unsafe { utf8(reason, reason_len, "reason") } {
            Ok(r) => {
                let r = c.inner.send_close(if code == 0 { None } else { Some(code) }, r);
                c.check(r)
            }
            Err(e) => c.arg(e),
        }
    })
}

/// Number of bytes waiting to be written to the transport. NULL or poisoned -> 0.
#[no_mangle]
pub extern "C" fn ws_conn_output_len(conn: *const ws_conn_t) -> usize {
    with_ref(conn, 0, 0, 0, |c| c.inner.output_len())
}

/// Copies min(`cap`, pending) output bytes into `buf` and consumes them;
/// `*out_len` receives the count. `buf` may be NULL when `cap` is 0.
///
/// Returns WS_OK; WS_ERR_NULL_ARGUMENT (`conn`, `out_len`, or `buf` with
/// `cap` > 0).
#[no_mangle]
pub extern "C" fn ws_conn_output_copy(
    conn: *mut ws_conn_t,
    buf: *mut c_void,
    cap: usize,
    out_len: *mut usize,
) -> ws_result_t {
    with_mut(conn, move |c| {
        if out_len.is_null() {
            return c.fail(ws_result_t::WS_ERR_NULL_ARGUMENT, "out_len is NULL");
        }
        if buf.is_null() && cap > 0 {
            return c.fail(ws_result_t::WS_ERR_NULL_ARGUMENT, "buf is NULL");
        }
        let pending = c.inner.output();
        let n = pending.len().min(cap);
        if n > 0 {
            // SAFETY: `buf` is non-null (n > 0 implies cap > 0) and writable for
            // `cap` >= n bytes; the source is our own buffer, which cannot
            // overlap caller memory.
            unsafe { std::ptr::copy_nonoverlapping(pending.as_ptr(), buf.cast::<u8>(), n) };
        }
        c.inner.consume_output(n);
        // SAFETY: `out_len` is non-null and writable per the contract.
        unsafe { out_len.write(n) };
        ws_result_t::WS_OK
    })
}

/// Zero-copy view of the pending output: `*out_ptr` / `*out_len` receive the
/// bytes waiting to be written (`*out_len` may be 0). The bytes belong to the
/// connection and stay valid until the next call that takes a non-const
/// `ws_conn_t *`. After writing some of them to the transport, call
/// ws_conn_output_consume() with the count written.
///
/// Returns WS_OK; WS_ERR_NULL_ARGUMENT; WS_ERR_POISONED; WS_ERR_PANIC;
/// WS_ERR_WRONG_STATE (called from the connection's own RNG callback).
#[no_mangle]
pub extern "C" fn ws_conn_output_peek(
    conn: *const ws_conn_t,
    out_ptr: *mut *const u8,
    out_len: *mut usize,
) -> ws_result_t {
    use ws_result_t::*;
    // SAFETY: NULL or a live connection (documented contract); shared access only.
    if unsafe { conn.as_ref() }.is_some_and(|c| c.flags.get() & BUSY != 0) {
        return WS_ERR_WRONG_STATE;
    }
    with_ref(conn, WS_ERR_NULL_ARGUMENT, WS_ERR_POISONED, WS_ERR_PANIC, |c| {
        if out_ptr.is_null() || out_len.is_null() {
            return WS_ERR_NULL_ARGUMENT;
        }
        let out = c.inner.output();
        // SAFETY: both out-pointers are non-null and writable per the contract.
        unsafe {
            out_ptr.write(out.as_ptr());
            out_len.write(out.len());
        }
        WS_OK
    })
}

/// Marks the first `n` pending output bytes as written (after a full or
/// partial write of what ws_conn_output_peek() showed).
///
/// Returns WS_OK; WS_ERR_NULL_ARGUMENT; WS_ERR_INVALID_ARGUMENT if `n` is
/// more than ws_conn_output_len() (nothing consumed).
#[no_mangle]
pub extern "C" fn ws_conn_output_consume(conn: *mut ws_conn_t, n: usize) -> ws_result_t {
    with_mut(conn, |c| {
        let pending = c.inner.output().len();
        if n > pending {
            return c
                .fail(ws_result_t::WS_ERR_INVALID_ARGUMENT, format!("consume {n} bytes but only {pending} pending"));
        }
        c.inner.consume_output(n);
        ws_result_t::WS_OK
    })
}

/// True once the closing handshake is done (or the connection failed, or a
/// rejection was fully sent) and all output has been written: close the
/// transport now. NULL -> false; a poisoned connection -> true.
#[no_mangle]
pub extern "C" fn ws_conn_wants_close_transport(conn: *const ws_conn_t) -> bool {
    with_ref(conn, false, true, true, |c| c.inner.wants_close_transport())
}

/// True when the caller should read from the transport and feed the bytes
/// now. False while input already received waits to be parsed (events,
/// including a rejection body's, wait to be taken, or output is at its
/// high-water mark: write it out, then poll
/// events until WS_EVENT_NONE, which resumes parsing), while a server's
/// request waits for ws_conn_accept()/ws_conn_reject(), and once input is no
/// longer read (closed, failed, end of input). An event loop reads the
/// socket only while it is true, and polls events again after writing
/// output. NULL, poisoned, or called from the connection's own RNG
/// callback -> false.
#[no_mangle]
pub extern "C" fn ws_conn_wants_read(conn: *const ws_conn_t) -> bool {
    with_ref(conn, false, false, false, |c| c.inner.wants_read())
}

/// Bytes the connection holds now, as the memory budget counts them: the
/// capacity of every buffer (unparsed input, the message being assembled,
/// events not yet taken, output not yet written), handshake data, the lists
/// of the last handshake event and compressor state. The connection handle
/// itself (about 1 KiB) is not included. NULL or poisoned -> 0.
#[no_mangle]
pub extern "C" fn ws_conn_memory_used(conn: *const ws_conn_t) -> usize {
    with_ref(conn, 0, 0, 0, |c| c.inner.memory_used() + c.lists_heap())
}

/// Input bytes held while waiting for a complete handshake head or frame
/// (bounded by the configured limits). NULL or poisoned -> 0.
#[no_mangle]
pub extern "C" fn ws_conn_buffered_input(conn: *const ws_conn_t) -> usize {
    with_ref(conn, 0, 0, 0, |c| c.inner.buffered_input())
}

/// Server, after ws_conn_receive() returned WS_ERR_HANDSHAKE: the HTTP status
/// to reject with: 400 (malformed request), 426 (missing or unsupported
/// Sec-WebSocket-Version; the rejection then carries
/// Sec-WebSocket-Version: 13) or 431 (head too large / too many headers).
/// 0 otherwise, and for NULL or a poisoned connection.
#[no_mangle]
pub extern "C" fn ws_conn_handshake_status_hint(conn: *const ws_conn_t) -> u16 {
    with_ref(conn, 0, 0, 0, |c| c.inner.handshake_status_hint())
}

const POISONED_MSG: &CStr = c"internal panic (connection poisoned)";

/// The detailed message of the most recent error returned by a function
/// taking this connection (it is kept until the next error, successes do
/// not clear it); "" if there was none. NUL-terminated; owned by the
/// connection and valid until the next call that takes a non-const
/// `ws_conn_t *`; do not free it. NULL -> "".
#[no_mangle]
pub extern "C" fn ws_conn_last_error(conn: *const ws_conn_t) -> *const c_char {
    let empty: *const c_char = c"".as_ptr();
    // SAFETY: NULL or a live connection, not used concurrently (documented).
    let Some(c) = (unsafe { conn.as_ref() }) else {
        return empty;
    };
    ffi_boundary!(POISONED_MSG.as_ptr(), {
        let flags = c.flags.get();
        if flags & BUSY != 0 {
            return BUSY_MSG.as_ptr();
        }
        // SAFETY: `BUSY` was clear, so nothing holds the `Conn` mutably, and
        // nothing below calls out.
        let last_error = unsafe { &(*c.conn.get()).last_error };
        match last_error {
            Some(e) if !e.is_empty() => e.as_ptr(),
            _ if flags & POISONED != 0 => POISONED_MSG.as_ptr(),
            _ => empty,
        }
    })
}

#[cfg(test)]
mod tests {
    /// A connection handle is allocated and freed per connection: at most
    /// 1032 bytes keeps it in glibc's per-thread cache (tcache), whose
    /// malloc and free are a few instructions; above it, both take the
    /// general path (binned chunks, consolidation), measured at several
    /// percent of a whole server handshake. Adding fields to `Connection`
    /// must keep this, or box what only some connections use.
    #[test]
    #[cfg(target_pointer_width = "64")]
    fn the_handle_fits_the_allocators_fast_sizes() {
        let size = std::mem::size_of::<super::ws_conn_t>();
        assert!(size <= 1032, "ws_conn_t is {size} bytes");
    }
}
