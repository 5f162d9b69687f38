//! `ws_h2_connect_t`: WebSocket over HTTP/2 and HTTP/3 extended CONNECT
//! (RFC 8441, RFC 9220), server side, for any HTTP/2 or HTTP/3 stack.

use std::ffi::{c_char, c_void, CString};

use super::config::ws_config_t;
use super::conn::{new_frames_only, ws_conn_t, WsRoleArg};
use super::deflate::{report_params, ws_deflate_params_t};
use super::event::{request_event, ws_event_t, ws_header_t, ws_str_t};
use super::macros::{array, bytes, ffi_boundary, ffi_catch, utf8, ArgError};
use super::result::ws_result_t;
use crate::deflate::DeflateConfig;
use crate::error::Error;
use crate::h2::{ConnectRequest, ConnectResponse};

/// An extended CONNECT request (RFC 8441 over HTTP/2, RFC 9220 over
/// HTTP/3) being validated and answered. Opaque; not thread-safe (it may
/// move between threads between calls).
///
/// Your HTTP/2 stack must announce SETTINGS_ENABLE_CONNECT_PROTOCOL = 1
/// (RFC 8441 §3; RFC 9220 §3 for HTTP/3) for clients to send such requests.
///
/// Flow: ws_h2_connect_new() -> ws_h2_connect_receive() with the request's
/// decoded field list -> ws_h2_connect_request() to look at it ->
/// ws_h2_connect_accept() for the response field list (send it with your
/// HTTP/2 or HTTP/3 stack; or, after WS_ERR_HANDSHAKE, answer the stream
/// with ws_h2_connect_status_hint()) -> ws_h2_connect_new_conn() for the
/// frames-only connection that carries the stream's DATA -> ws_h2_connect_free().
pub struct ws_h2_connect_t {
    deflate: Option<DeflateConfig>,
    request: Option<ConnectRequest>,
    failed: bool,
    status_hint: u16,
    response: Option<ConnectResponse>,
    /// The response field list handed out by ws_h2_connect_accept.
    fields: Vec<ws_header_t>,
    /// Scratch lists of the WS_EVENT_REQUEST view.
    strs: Vec<ws_str_t>,
    headers: Vec<ws_header_t>,
    joined: String,
    last_error: CString,
}

impl ws_h2_connect_t {
    fn fail(&mut self, code: ws_result_t, msg: impl Into<String>) -> ws_result_t {
        let mut bytes = msg.into().into_bytes();
        bytes.retain(|&b| b != 0);
        self.last_error = CString::new(bytes).unwrap_or_default();
        code
    }

    fn error(&mut self, e: Error) -> ws_result_t {
        self.fail(e.kind.into(), e.message)
    }

    fn arg(&mut self, e: ArgError) -> ws_result_t {
        match e {
            ArgError::Null(what) => self.fail(ws_result_t::WS_ERR_NULL_ARGUMENT, format!("{what} is NULL")),
            ArgError::NotUtf8(what) => {
                self.fail(ws_result_t::WS_ERR_INVALID_ARGUMENT, format!("{what} is not valid UTF-8"))
            }
        }
    }
}

/// Runs `f` on the handle behind `h` inside the panic boundary.
fn with_h2(h: *mut ws_h2_connect_t, f: impl FnOnce(&mut ws_h2_connect_t) -> ws_result_t) -> ws_result_t {
    // SAFETY: C passes NULL or a live pointer from ws_h2_connect_new, used by
    // one thread at a time (documented), so a unique reference is sound.
    let Some(c) = (unsafe { h.as_mut() }) else {
        return ws_result_t::WS_ERR_NULL_ARGUMENT;
    };
    match ffi_catch!(f(&mut *c)) {
        Ok(r) => r,
        Err(msg) => c.fail(ws_result_t::WS_ERR_PANIC, format!("internal panic: {msg}")),
    }
}

fn wstr(b: &[u8]) -> ws_str_t {
    ws_str_t { ptr: b.as_ptr().cast(), len: b.len() }
}

/// Creates a handle for one extended CONNECT request. `cfg` may be NULL
/// (defaults: permessage-deflate off); it is copied (only its
/// permessage-deflate settings matter here: what the server accepts), so the
/// caller may free it right away. On WS_OK `*out` receives a handle the
/// caller owns and must release with ws_h2_connect_free().
///
/// Returns WS_OK; WS_ERR_NULL_ARGUMENT if `out` is NULL; WS_ERR_PANIC.
#[no_mangle]
pub extern "C" fn ws_h2_connect_new(cfg: *const ws_config_t, out: *mut *mut ws_h2_connect_t) -> ws_result_t {
    if out.is_null() {
        return ws_result_t::WS_ERR_NULL_ARGUMENT;
    }
    ffi_boundary!(ws_result_t::WS_ERR_PANIC, {
        // SAFETY: `cfg` is NULL or a live config (documented contract).
        let deflate = unsafe { cfg.as_ref() }.and_then(|c| c.base.deflate.clone());
        let h = Box::new(ws_h2_connect_t {
            deflate,
            request: None,
            failed: false,
            status_hint: 0,
            response: None,
            fields: Vec::new(),
            strs: Vec::new(),
            headers: Vec::new(),
            joined: String::new(),
            last_error: CString::default(),
        });
        // SAFETY: `out` is non-null and, per the contract, writable.
        unsafe { out.write(Box::into_raw(h)) };
        ws_result_t::WS_OK
    })
}

/// Frees a handle and everything it owns (pointers it handed out become
/// invalid). NULL is a no-op.
#[no_mangle]
pub extern "C" fn ws_h2_connect_free(h: *mut ws_h2_connect_t) {
    if h.is_null() {
        return;
    }
    ffi_boundary!((), {
        // SAFETY: non-null pointers given here come from ws_h2_connect_new
        // (Box::into_raw) and are freed once, per the documented contract.
        drop(unsafe { Box::from_raw(h) });
    })
}

/// Validates the request's decoded field list `fields[0..fields_len)`, as
/// an HTTP/2 (or HTTP/3) library delivers it: lowercase names,
/// pseudo-header fields first (each name/value a byte string; copied; NULL
/// allowed for a length of 0). Checked: `:method` CONNECT, `:protocol`
/// websocket, `:scheme` http or https, `:path` starting with '/', a
/// non-empty `:authority`, each pseudo-header once and before every regular
/// field, no unknown pseudo-header, lowercase names, values without
/// NUL/CR/LF or surrounding whitespace, no connection-specific field
/// (connection, upgrade, keep-alive, proxy-connection, transfer-encoding; te
/// only as "trailers"), exactly one `sec-websocket-version: 13`, and
/// subprotocols in `sec-websocket-protocol` that are tokens. There is no
/// Sec-WebSocket-Key over HTTP/2 (RFC 8441 §5); one that is present is
/// ignored. Call it once per handle.
///
/// Returns WS_OK (next: ws_h2_connect_request(), ws_h2_connect_accept());
/// WS_ERR_HANDSHAKE (the request is malformed or not a WebSocket extended
/// CONNECT: answer the stream with ws_h2_connect_status_hint(), 400, adding
/// `sec-websocket-version: 13` if the version was the problem; details in
/// ws_h2_connect_last_error()); WS_ERR_NULL_ARGUMENT; WS_ERR_WRONG_STATE
/// (called before on this handle).
#[no_mangle]
pub extern "C" fn ws_h2_connect_receive(
    h: *mut ws_h2_connect_t,
    fields: *const ws_header_t,
    fields_len: usize,
) -> ws_result_t {
    with_h2(h, |c| {
        if c.request.is_some() || c.failed {
            return c.fail(ws_result_t::WS_ERR_WRONG_STATE, "the request was already received");
        }
        // SAFETY: `fields` is NULL (with length 0) or valid for `fields_len`
        // elements whose byte strings are valid during this call.
        let list = unsafe {
            (|| {
                array(fields, fields_len, "fields")?
                    .iter()
                    .map(|f| {
                        Ok((
                            bytes(f.name.ptr.cast(), f.name.len, "fields")?,
                            bytes(f.value.ptr.cast(), f.value.len, "fields")?,
                        ))
                    })
                    .collect::<Result<Vec<_>, ArgError>>()
            })()
        };
        let list = match list {
            Ok(l) => l,
            Err(e) => return c.arg(e),
        };
        match ConnectRequest::parse(&list) {
            Ok(r) => {
                c.request = Some(r);
                ws_result_t::WS_OK
            }
            Err(e) => {
                c.failed = true;
                c.status_hint = e.status_hint;
                c.error(e)
            }
        }
    })
}

/// The valid request as a WS_EVENT_REQUEST written to `*out`: `target` is
/// `:path`, `host` is `:authority`, `subprotocols` the offered ones in order,
/// `extensions` the offered sec-websocket-extensions values (joined with
/// ", "), `headers` every field as received, pseudo-headers included.
/// Pointers in `*out` borrow from the handle until its next non-const call
/// or ws_h2_connect_free().
///
/// Returns WS_OK; WS_ERR_NULL_ARGUMENT; WS_ERR_WRONG_STATE (no valid request
/// received; `*out` untouched).
#[no_mangle]
pub extern "C" fn ws_h2_connect_request(h: *mut ws_h2_connect_t, out: *mut ws_event_t) -> ws_result_t {
    with_h2(h, |c| {
        if out.is_null() {
            return c.fail(ws_result_t::WS_ERR_NULL_ARGUMENT, "out is NULL");
        }
        let ws_h2_connect_t { request, strs, headers, joined, .. } = c;
        let Some(r) = request.as_ref() else {
            return c.fail(ws_result_t::WS_ERR_WRONG_STATE, "no valid request received");
        };
        let e = request_event(r.request(), strs, headers, joined);
        // SAFETY: `out` is non-null and points to caller-owned writable storage.
        unsafe { out.write(e) };
        ws_result_t::WS_OK
    })
}

/// Accepts the request: `subprotocol[0..subprotocol_len)` is the one chosen
/// from the offered list (NULL or length 0 = none); permessage-deflate is
/// negotiated from the config given to ws_h2_connect_new(), exactly as
/// ws_conn_accept() does; `extra_headers` (lowercase token names, not
/// pseudo-headers, connection-specific fields or the sec-websocket-protocol/
/// -extensions fields the engine writes; UTF-8) follow. Everything is copied.
///
/// On WS_OK `*fields_out` points to `*fields_len` response fields to send
/// with your HTTP/2 or HTTP/3 stack, in order: `:status` `200`, then
/// `sec-websocket-protocol` and `sec-websocket-extensions` when chosen, then
/// the extra headers. They borrow from the handle until
/// ws_h2_connect_free(). Next: ws_h2_connect_new_conn().
///
/// Returns WS_OK; WS_ERR_NULL_ARGUMENT; WS_ERR_INVALID_ARGUMENT (subprotocol
/// not offered or not a token, bad extra header, not UTF-8; nothing changes,
/// the call may be retried); WS_ERR_WRONG_STATE (no valid request, or
/// already accepted).
#[no_mangle]
pub extern "C" fn ws_h2_connect_accept(
    h: *mut ws_h2_connect_t,
    subprotocol: *const c_void,
    subprotocol_len: usize,
    extra_headers: *const ws_header_t,
    extra_headers_len: usize,
    fields_out: *mut *const ws_header_t,
    fields_len: *mut usize,
) -> ws_result_t {
    with_h2(h, |c| {
        if fields_out.is_null() || fields_len.is_null() {
            return c.fail(ws_result_t::WS_ERR_NULL_ARGUMENT, "fields_out or fields_len is NULL");
        }
        if c.request.is_none() || c.response.is_some() {
            return c.fail(ws_result_t::WS_ERR_WRONG_STATE, "accept needs a valid request, not yet accepted");
        }
        // SAFETY: every pointer is NULL (with length 0) or valid for its length
        // during this call, per the documented contract.
        let args = unsafe {
            (|| {
                let sp = utf8(subprotocol, subprotocol_len, "subprotocol")?;
                let extra = array(extra_headers, extra_headers_len, "extra_headers")?
                    .iter()
                    .map(|x| {
                        Ok((
                            utf8(x.name.ptr.cast(), x.name.len, "extra_headers")?,
                            utf8(x.value.ptr.cast(), x.value.len, "extra_headers")?,
                        ))
                    })
                    .collect::<Result<Vec<_>, ArgError>>()?;
                Ok((sp, extra))
            })()
        };
        let (sp, extra) = match args {
            Ok(a) => a,
            Err(e) => return c.arg(e),
        };
        let sp = Some(sp).filter(|s| !s.is_empty());
        let request = c.request.as_ref().expect("checked");
        let resp = match request.accept(c.deflate.as_ref(), sp, &extra) {
            Ok(r) => r,
            Err(e) => return c.error(e),
        };
        let resp = c.response.insert(resp);
        c.fields = resp
            .headers
            .iter()
            .map(|(n, v)| ws_header_t { name: wstr(n.as_bytes()), value: wstr(v.as_bytes()) })
            .collect();
        // SAFETY: both out-pointers are non-null and, per the contract, writable.
        unsafe {
            fields_out.write(c.fields.as_ptr());
            fields_len.write(c.fields.len());
        }
        ws_result_t::WS_OK
    })
}

/// After ws_h2_connect_accept(): true and `*out` written (when `out` is not
/// NULL) if permessage-deflate was negotiated; false otherwise, and for a
/// NULL handle.
#[no_mangle]
pub extern "C" fn ws_h2_connect_deflate_params(h: *const ws_h2_connect_t, out: *mut ws_deflate_params_t) -> bool {
    // SAFETY: NULL or a live handle, not used concurrently (documented).
    let Some(c) = (unsafe { h.as_ref() }) else {
        return false;
    };
    ffi_boundary!(false, report_params(c.response.as_ref().and_then(|r| r.deflate), out))
}

/// After ws_h2_connect_accept(): creates the server's frames-only
/// connection (WS_STATE_OPEN) for the stream, with the negotiated
/// permessage-deflate parameters, if any. `cfg` gives its limits and
/// options; pass the config given to ws_h2_connect_new() (NULL = defaults);
/// it is copied. `trailing[0..trailing_len)` are stream DATA bytes already
/// received (copied and parsed as frames; NULL allowed when the length is
/// 0). Feed further DATA with ws_conn_receive(), send the output as DATA,
/// and end the stream once ws_conn_wants_close_transport() is true. On WS_OK
/// `*out` receives a connection the caller owns and must release with
/// ws_conn_free(); the handle may be freed at once.
///
/// Returns WS_OK; WS_ERR_NULL_ARGUMENT (`out` NULL, or `trailing` NULL with
/// a non-zero length); WS_ERR_WRONG_STATE (not accepted yet); WS_ERR_PANIC.
#[no_mangle]
pub extern "C" fn ws_h2_connect_new_conn(
    h: *const ws_h2_connect_t,
    cfg: *const ws_config_t,
    trailing: *const c_void,
    trailing_len: usize,
    out: *mut *mut ws_conn_t,
) -> ws_result_t {
    // SAFETY: NULL or a live handle, not used concurrently (documented).
    let Some(c) = (unsafe { h.as_ref() }) else {
        return ws_result_t::WS_ERR_NULL_ARGUMENT;
    };
    let Some(resp) = c.response.as_ref() else {
        return ws_result_t::WS_ERR_WRONG_STATE;
    };
    new_frames_only(cfg, WsRoleArg(1), resp.deflate, trailing, trailing_len, out)
}

/// After WS_ERR_HANDSHAKE from ws_h2_connect_receive(): the status to answer
/// the stream with (400); 0 otherwise, and for a NULL handle.
#[no_mangle]
pub extern "C" fn ws_h2_connect_status_hint(h: *const ws_h2_connect_t) -> u16 {
    // SAFETY: NULL or a live handle, not used concurrently (documented).
    unsafe { h.as_ref() }.map_or(0, |c| c.status_hint)
}

/// The detailed message of the most recent error returned by a function
/// taking this handle; "" if there was none. NUL-terminated; owned by the
/// handle and valid until its next non-const call or ws_h2_connect_free();
/// do not free it. NULL -> "".
#[no_mangle]
pub extern "C" fn ws_h2_connect_last_error(h: *const ws_h2_connect_t) -> *const c_char {
    // SAFETY: NULL or a live handle, not used concurrently (documented).
    match unsafe { h.as_ref() } {
        Some(c) => c.last_error.as_ptr(),
        None => c"".as_ptr(),
    }
}
