//! `ws_result_t`: the result code of every fallible function.

use std::ffi::{c_char, CStr};

use super::macros::ffi_boundary;
use crate::error::{Error, ErrorKind};

/// Result code of every fallible function. Error values start at 7001 so they
/// cannot be confused with close codes, HTTP statuses or errno values.
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ws_result_t {
    /// Success.
    WS_OK = 0,
    /// A required pointer argument was NULL. Nothing changed.
    WS_ERR_NULL_ARGUMENT = 7001,
    /// A value is out of range: control payload > 125 bytes, invalid close
    /// code, reason > 123 bytes, text that is not UTF-8, bad header name or
    /// value, unknown flag bits, bad option value. Nothing changed.
    WS_ERR_INVALID_ARGUMENT = 7002,
    /// The call is not allowed in the connection's current state (send before
    /// OPEN, accept twice, binary while a text message is being fragmented...).
    /// Nothing changed.
    WS_ERR_WRONG_STATE = 7003,
    /// The peer's upgrade request or response is invalid. Server: reject with
    /// ws_conn_handshake_status_hint() and then close the transport once the
    /// output is written; client: close the transport. Detail in
    /// ws_conn_last_error().
    WS_ERR_HANDSHAKE = 7004,
    /// Data was fed after the connection closed or after ws_conn_receive_eof().
    WS_ERR_CLOSED = 7005,
    /// The output buffer is too small; nothing was written.
    WS_ERR_BUFFER_TOO_SMALL = 7006,
    /// The random source (OS or the ws_rng_fn callback) failed. Nothing was sent.
    WS_ERR_RNG = 7007,
    /// An internal bug was caught at the library boundary; the connection is
    /// now poisoned. Please report it.
    WS_ERR_PANIC = 7008,
    /// The connection was poisoned by an earlier WS_ERR_PANIC; free it.
    WS_ERR_POISONED = 7009,
    /// An allocation failed. From a send: nothing was queued; retry later or
    /// close. From ws_conn_receive or
    /// ws_conn_poll_event: the connection has failed: a WS_EVENT_CLOSE with
    /// code 1011 follows when it could be queued; write out the output and
    /// close the transport. From ws_config_new/ws_conn_new_*: nothing was created.
    WS_ERR_NO_MEMORY = 7010,
    /// ws_conn_receive() took nothing: parsing is paused (events wait to be
    /// taken, output waits to be written, or a server has not answered the
    /// request yet) and the input already held back is at the
    /// max_buffered_input limit. Keep the bytes; poll events until
    /// WS_EVENT_NONE, write the output (or accept), then feed them again.
    /// ws_conn_wants_read() tells in advance.
    WS_ERR_INPUT_FULL = 7011,
}

impl From<ErrorKind> for ws_result_t {
    fn from(kind: ErrorKind) -> Self {
        match kind {
            ErrorKind::InvalidArgument => ws_result_t::WS_ERR_INVALID_ARGUMENT,
            ErrorKind::WrongState => ws_result_t::WS_ERR_WRONG_STATE,
            ErrorKind::Handshake => ws_result_t::WS_ERR_HANDSHAKE,
            ErrorKind::Closed => ws_result_t::WS_ERR_CLOSED,
            ErrorKind::Rng => ws_result_t::WS_ERR_RNG,
            ErrorKind::NoMemory => ws_result_t::WS_ERR_NO_MEMORY,
            ErrorKind::InputFull => ws_result_t::WS_ERR_INPUT_FULL,
        }
    }
}

impl From<&Error> for ws_result_t {
    fn from(e: &Error) -> Self {
        e.kind.into()
    }
}

/// A `ws_result_t` received from C. C may pass any integer where the enum is
/// expected; reading it as the Rust enum would be undefined behaviour, so it is
/// taken as its raw value (same ABI as the C enum) and shown to C as
/// `ws_result_t` by cbindgen (see cbindgen.toml `[export.rename]`).
#[repr(transparent)]
#[derive(Clone, Copy, Debug)]
pub struct WsResultArg(pub u32);

fn describe(r: u32) -> &'static CStr {
    match r {
        0 => c"success",
        7001 => c"a required pointer argument was NULL",
        7002 => c"invalid argument",
        7003 => c"not allowed in the connection's current state",
        7004 => c"invalid WebSocket handshake from the peer",
        7005 => c"the connection is closed",
        7006 => c"buffer too small",
        7007 => c"the random number source failed",
        7008 => c"internal panic caught; the connection is poisoned",
        7009 => c"the connection was poisoned by an earlier panic",
        7010 => c"out of memory",
        7011 => c"input not taken: take events and write output first",
        _ => c"unknown result",
    }
}

/// A static, NUL-terminated English description of a result code;
/// "unknown result" for a value that is not a ws_result_t. Never NULL; the
/// string lives for the whole program and must not be freed.
#[no_mangle]
pub extern "C" fn ws_result_str(r: WsResultArg) -> *const c_char {
    ffi_boundary!(c"unknown result".as_ptr().cast(), describe(r.0).as_ptr().cast())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_has_a_description() {
        for code in 0u32..10000 {
            let s = describe(code);
            let known = code == 0 || (7001..=7011).contains(&code);
            assert_eq!(s != c"unknown result", known, "{code}");
            assert!(!s.is_empty());
        }
    }

    #[test]
    fn kinds_map() {
        assert_eq!(ws_result_t::from(ErrorKind::Rng), ws_result_t::WS_ERR_RNG);
        assert_eq!(ws_result_t::from(ErrorKind::Closed), ws_result_t::WS_ERR_CLOSED);
    }
}
