//! The HTTP upgrade calls (`send_request`, `receive_request`, `accept`, `reject`,
//! `reject_data`) and the connection-free `ws_accept_token` helper.

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
    if len == 0 {
        // The usual case (no extra headers): nothing to convert.
        return Ok(Vec::new());
    }
    // SAFETY: forwarded contract.
    let list = unsafe { array(ptr, len, what) }?;
    list.iter()
        // SAFETY: forwarded contract: each name/value ptr is valid for its len.
        .map(|h| unsafe {
            Ok((utf8(h.name.ptr.cast(), h.name.len, what)?, utf8(h.value.ptr.cast(), h.value.len, what)?))
        })
        .collect()
}

/// (name, value) byte strings.
type ByteHeaders<'a> = Vec<(&'a [u8], &'a [u8])>;

/// Borrows a C array of ws_header_t as (name, value) byte strings.
///
/// # Safety
/// As for [`str_list`].
unsafe fn header_bytes_list<'a>(
    ptr: *const ws_header_t,
    len: usize,
    what: &'static str,
) -> Result<ByteHeaders<'a>, ArgError> {
    // SAFETY: forwarded contract.
    let list = unsafe { array(ptr, len, what) }?;
    list.iter()
        // SAFETY: forwarded contract: each name/value ptr is valid for its len.
        .map(|h| unsafe {
            Ok((bytes(h.name.ptr.cast(), h.name.len, what)?, bytes(h.value.ptr.cast(), h.value.len, what)?))
        })
        .collect()
}

/// Server, on a fresh connection from ws_conn_new_server() that has received
/// nothing yet: takes an upgrade request that another HTTP/1.1 parser has
/// already read (an HTTP server, llhttp, picohttpparser, an nginx or h2o
/// module; Python wsproto's initiate_upgrade_connection), instead of
/// ws_conn_receive(). `method` and `target` are as in the request line (the
/// version is taken to be HTTP/1.1: do not pass HTTP/1.0 requests);
/// `headers` are the header fields as received, in order (byte strings,
/// not necessarily UTF-8); `trailing` are bytes the parser read past the
/// head (frames the client sent early), kept until ws_conn_accept() as with
/// ws_conn_receive(). Everything is copied; every pointer may be NULL when
/// its length is 0.
///
/// The request is validated exactly as if it had arrived on the wire (it is
/// rebuilt into the head it stands for and parsed by the same code, under the
/// same limits), so on WS_OK a WS_EVENT_REQUEST is pending: poll it, then
/// answer with ws_conn_accept() or ws_conn_reject() and write out the output.
///
/// Returns WS_OK; WS_ERR_NULL_ARGUMENT; WS_ERR_HANDSHAKE (the request is
/// invalid, or cannot be written as an HTTP/1.1 head: a method or target
/// with whitespace or control characters, a header name that is not a
/// token, a value with CR, LF or NUL; answer with ws_conn_reject() using
/// ws_conn_handshake_status_hint(): 400, 426 or 431);
/// WS_ERR_WRONG_STATE (a client, or a server that has already received
/// input; nothing changes).
#[no_mangle]
pub extern "C" fn ws_conn_receive_request(
    conn: *mut ws_conn_t,
    method: *const c_void,
    method_len: usize,
    target: *const c_void,
    target_len: usize,
    headers: *const ws_header_t,
    headers_len: usize,
    trailing: *const c_void,
    trailing_len: usize,
) -> ws_result_t {
    with_mut(conn, |c| {
        // SAFETY: every pointer is NULL (with length 0) or valid for its length
        // during this call, per the documented contract.
        let args = unsafe {
            (|| {
                Ok((
                    bytes(method.cast(), method_len, "method")?,
                    bytes(target.cast(), target_len, "target")?,
                    header_bytes_list(headers, headers_len, "headers")?,
                    bytes(trailing, trailing_len, "trailing")?,
                ))
            })()
        };
        match args {
            Ok((m, t, h, tr)) => {
                let r = c.inner.receive_request(m, t, &h, tr);
                c.check(r)
            }
            Err(e) => c.arg(e),
        }
    })
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
/// (no request received yet, not a server, already answered, or the client
/// is gone: end of input or closed). Nothing is queued on error. The request's data (and a WS_EVENT_REQUEST not yet taken) is
/// released once it is answered.
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

/// Server: queues a rejection response head with HTTP `status` and
/// `headers` (copied; NULL allowed when `headers_len` is 0), either in
/// answer to a WS_EVENT_REQUEST or after ws_conn_receive() returned
/// WS_ERR_HANDSHAKE (use ws_conn_handshake_status_hint() as the status).
/// `status` must be a final status, 200..599 (1xx are interim responses the
/// client would keep waiting after; 101 would accept).
/// `has_body` false: the response is complete (Content-Length: 0 is added
/// unless given, except for 204 and 304) and the connection is CLOSED once
/// the output is written.
/// `has_body` true: state REJECTING; send the body with ws_conn_reject_data()
/// (give Content-Length or close the transport after the body). 204 and 304
/// never have a body: `has_body` must be false for them, a 204 may not carry
/// Content-Length or Transfer-Encoding, a 304 not Transfer-Encoding.
///
/// Returns WS_OK; WS_ERR_NULL_ARGUMENT; WS_ERR_INVALID_ARGUMENT (status not
/// in 200..599, a body or body framing header for 204/304, bad header);
/// WS_ERR_WRONG_STATE (not a server, already answered, or the client is
/// gone: end of input or closed). Nothing is queued and nothing changes on
/// error.
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
