//! The HTTP upgrade calls (`send_request`, `accept`, `reject`, `reject_data`)
//! and the connection-free `ws_accept_token` helper.

use std::ffi::c_void;

use super::conn::{with_mut, ws_conn_t};
use super::event::{ws_header_t, ws_str_t};
use super::macros::{array, bytes, ffi_boundary, utf8, ArgError};
use super::result::ws_result_t;
use crate::handshake;

/// Borrows a C array of ws_str_t as UTF-8 strings.
///
/// # Safety
/// `ptr` is NULL (with `len` 0) or valid for `len` elements whose strings are
/// valid for reads during the call.
unsafe fn str_list<'a>(ptr: *const ws_str_t, len: usize, what: &'static str) -> Result<Vec<&'a str>, ArgError> {
    // SAFETY: forwarded contract.
    let list = unsafe { array(ptr, len, what) }?;
    // SAFETY: forwarded contract: each element's ptr is valid for its len.
    list.iter().map(|s| unsafe { utf8(s.ptr.cast(), s.len, what) }).collect()
}

/// Borrows a C array of ws_header_t as (name, value) pairs.
///
/// # Safety
/// As for [`str_list`].
unsafe fn header_list<'a>(
    ptr: *const ws_header_t,
    len: usize,
    what: &'static str,
) -> Result<Vec<(&'a str, &'a str)>, ArgError> {
    // SAFETY: forwarded contract.
    let list = unsafe { array(ptr, len, what) }?;
    list.iter()
        // SAFETY: forwarded contract: each name/value ptr is valid for its len.
        .map(|h| unsafe {
            Ok((utf8(h.name.ptr.cast(), h.name.len, what)?, utf8(h.value.ptr.cast(), h.value.len, what)?))
        })
        .collect()
}

/// Client: queues the HTTP upgrade request. `host` (the Host header value,
/// e.g. "example.com:8080") and `target` (e.g. "/chat") are UTF-8 byte
/// strings with explicit lengths; `subprotocols` lists the offered
/// subprotocols in order of preference; `extra_headers` are added verbatim
/// (e.g. Origin, Authorization). Everything is copied; every array and string
/// pointer may be NULL when its length is 0. A fresh Sec-WebSocket-Key is
/// drawn from the random source. Next: write out the output, feed the
/// server's answer with ws_conn_receive(), poll for WS_EVENT_ACCEPT or
/// WS_EVENT_REJECT.
///
/// Returns WS_OK; WS_ERR_NULL_ARGUMENT; WS_ERR_INVALID_ARGUMENT (empty or
/// malformed host/target, subprotocol not a token, bad header name/value,
/// not UTF-8); WS_ERR_WRONG_STATE (not a client, or already sent);
/// WS_ERR_RNG. Nothing is queued on error.
#[no_mangle]
pub extern "C" fn ws_conn_send_request(
    conn: *mut ws_conn_t,
    host: *const c_void,
    host_len: usize,
    target: *const c_void,
    target_len: usize,
    subprotocols: *const ws_str_t,
    subprotocols_len: usize,
    extra_headers: *const ws_header_t,
    extra_headers_len: usize,
) -> ws_result_t {
    with_mut(conn, |c| {
        // SAFETY: every pointer is NULL (with length 0) or valid for its length
        // during this call, per the documented contract.
        let args = unsafe {
            (|| {
                Ok((
                    utf8(host, host_len, "host")?,
                    utf8(target, target_len, "target")?,
                    str_list(subprotocols, subprotocols_len, "subprotocols")?,
                    header_list(extra_headers, extra_headers_len, "extra_headers")?,
                ))
            })()
        };
        match args {
            Ok((h, t, s, x)) => {
                let r = c.inner.send_request(h, t, &s, &x);
                c.check(r)
            }
            Err(e) => c.arg(e),
        }
    })
}

/// Server, after WS_EVENT_REQUEST: queues the 101 Switching Protocols
/// response; the connection becomes OPEN. `subprotocol` is the one chosen
/// from the offered list (NULL or length 0 = none); `extra_headers` are added
/// verbatim. Everything is copied. Next: write out the output, then exchange
/// frames.
///
/// Returns WS_OK; WS_ERR_NULL_ARGUMENT; WS_ERR_INVALID_ARGUMENT (subprotocol
/// not offered by the client or not a token, bad header); WS_ERR_WRONG_STATE
/// (no request received yet, not a server, or already answered). Nothing is
/// queued on error.
#[no_mangle]
pub extern "C" fn ws_conn_accept(
    conn: *mut ws_conn_t,
    subprotocol: *const c_void,
    subprotocol_len: usize,
    extra_headers: *const ws_header_t,
    extra_headers_len: usize,
) -> ws_result_t {
    with_mut(conn, |c| {
        // SAFETY: every pointer is NULL (with length 0) or valid for its length
        // during this call, per the documented contract.
        let args = unsafe {
            (|| {
                let sp = if subprotocol.is_null() && subprotocol_len == 0 {
                    None
                } else {
                    Some(utf8(subprotocol, subprotocol_len, "subprotocol")?).filter(|s| !s.is_empty())
                };
                Ok((sp, header_list(extra_headers, extra_headers_len, "extra_headers")?))
            })()
        };
        match args {
            Ok((sp, x)) => {
                let r = c.inner.accept(sp, &x);
                c.check(r)
            }
            Err(e) => c.arg(e),
        }
    })
}

/// Server: queues a rejection response head with HTTP `status` (100..599,
/// not 101) and `headers` (copied; NULL allowed when `headers_len` is 0),
/// either in answer to a WS_EVENT_REQUEST or after ws_conn_receive() returned
/// WS_ERR_HANDSHAKE (use ws_conn_handshake_status_hint() as the status).
/// `has_body` false: the response is complete (Content-Length: 0 is added
/// unless given) and the connection is CLOSED once the output is written.
/// `has_body` true: state REJECTING; send the body with ws_conn_reject_data()
/// (give Content-Length or close the transport after the body).
///
/// Returns WS_OK; WS_ERR_NULL_ARGUMENT; WS_ERR_INVALID_ARGUMENT (status out of
/// range, bad header); WS_ERR_WRONG_STATE (not a server, or already
/// answered). Nothing is queued on error.
#[no_mangle]
pub extern "C" fn ws_conn_reject(
    conn: *mut ws_conn_t,
    status: u16,
    headers: *const ws_header_t,
    headers_len: usize,
    has_body: bool,
) -> ws_result_t {
    with_mut(conn, |c| {
        // SAFETY: `headers` is NULL (with length 0) or valid for `headers_len`
        // elements whose strings are valid during this call.
        match unsafe { header_list(headers, headers_len, "headers") } {
            Ok(h) => {
                let r = c.inner.reject(status, &h, has_body);
                c.check(r)
            }
            Err(e) => c.arg(e),
        }
    })
}

/// Server, in WS_STATE_REJECTING: queues `data[0..len)` of the rejection body
/// (copied; NULL allowed when `len` is 0). `body_finished` true ends the
/// body; the connection is CLOSED once the output is written.
///
/// Returns WS_OK; WS_ERR_NULL_ARGUMENT; WS_ERR_WRONG_STATE (not rejecting with
/// a body, or the body already finished).
#[no_mangle]
pub extern "C" fn ws_conn_reject_data(
    conn: *mut ws_conn_t,
    data: *const c_void,
    len: usize,
    body_finished: bool,
) -> ws_result_t {
    with_mut(conn, |c| {
        // SAFETY: `data` is NULL or valid for `len` bytes during this call.
        match unsafe { bytes(data, len, "data") } {
            Ok(d) => {
                let r = c.inner.reject_data(d, body_finished);
                c.check(r)
            }
            Err(e) => c.arg(e),
        }
    })
}

/// Computes the Sec-WebSocket-Accept value for a Sec-WebSocket-Key
/// (base64(SHA-1(key ++ RFC 6455 GUID))), e.g. for a handshake done outside
/// this library. `key[0..key_len)` must be the base64 of 16 bytes (24
/// chars). Writes exactly 28 chars to `out` (no NUL terminator) and 28 to
/// `*out_len`. Needs no connection; thread-safe.
///
/// Returns WS_OK; WS_ERR_NULL_ARGUMENT (`key`, `out` or `out_len` NULL);
/// WS_ERR_INVALID_ARGUMENT (key is not base64 of 16 bytes);
/// WS_ERR_BUFFER_TOO_SMALL (`out_cap` < 28; nothing written).
#[no_mangle]
pub extern "C" fn ws_accept_token(
    key: *const c_void,
    key_len: usize,
    out: *mut c_void,
    out_cap: usize,
    out_len: *mut usize,
) -> ws_result_t {
    use ws_result_t::*;
    if key.is_null() || out.is_null() || out_len.is_null() {
        return WS_ERR_NULL_ARGUMENT;
    }
    ffi_boundary!(WS_ERR_PANIC, {
        // SAFETY: `key` is non-null and valid for `key_len` bytes during this call.
        let Ok(k) = (unsafe { bytes(key, key_len, "key") }) else {
            return WS_ERR_NULL_ARGUMENT;
        };
        if !handshake::key_is_valid(k) {
            return WS_ERR_INVALID_ARGUMENT;
        }
        let token = handshake::accept_token(k);
        if out_cap < token.len() {
            return WS_ERR_BUFFER_TOO_SMALL;
        }
        // SAFETY: `out` is non-null and writable for `out_cap` >= 28 bytes;
        // `out_len` is non-null and writable; `token` is a local array.
        unsafe {
            std::ptr::copy_nonoverlapping(token.as_ptr(), out.cast::<u8>(), token.len());
            out_len.write(token.len());
        }
        WS_OK
    })
}
