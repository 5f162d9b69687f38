//! `ws_deflate_params_t` and the permessage-deflate (RFC 7692) options.
//!
//! Compression is off until ws_config_set_deflate() turns it on. A client
//! then offers it; a server accepts a client's offer when it can honour it.

use super::config::{with_cfg, ws_config_t};
use super::conn::{new_frames_only, with_ref, ws_conn_t, WsRoleArg};
use super::result::ws_result_t;
use crate::deflate::{DeflateConfig, DeflateParams};

/// permessage-deflate parameters: one offer (client) or what was negotiated.
/// Window sizes are base-2 logarithms, 9..=15; in an offer, 0 leaves the
/// parameter out (for client_max_window_bits, 15 offers it without a value,
/// which lets the server choose). A client may find client_max_window_bits 8
/// negotiated (a server may ask for it): it then sends stored (uncompressed)
/// DEFLATE blocks, which honour any window.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ws_deflate_params_t {
    /// The server resets its compressor after each message.
    pub server_no_context_takeover: bool,
    /// The client resets its compressor after each message.
    pub client_no_context_takeover: bool,
    /// Largest LZ77 window the server compresses with.
    pub server_max_window_bits: u8,
    /// Largest LZ77 window the client compresses with.
    pub client_max_window_bits: u8,
}

impl From<DeflateParams> for ws_deflate_params_t {
    fn from(p: DeflateParams) -> Self {
        ws_deflate_params_t {
            server_no_context_takeover: p.server_no_context_takeover,
            client_no_context_takeover: p.client_no_context_takeover,
            server_max_window_bits: p.server_max_window_bits,
            client_max_window_bits: p.client_max_window_bits,
        }
    }
}

impl From<ws_deflate_params_t> for DeflateParams {
    fn from(p: ws_deflate_params_t) -> Self {
        DeflateParams {
            server_no_context_takeover: p.server_no_context_takeover,
            client_no_context_takeover: p.client_no_context_takeover,
            server_max_window_bits: p.server_max_window_bits,
            client_max_window_bits: p.client_max_window_bits,
        }
    }
}

fn window_ok(bits: u8, absent_allowed: bool) -> bool {
    (9..=15).contains(&bits) || (absent_allowed && bits == 0)
}

/// Turns permessage-deflate on (`on` true, with defaults: a client offers
/// `permessage-deflate; client_max_window_bits`, a server accepts offers
/// with windows up to 15 bits, level 6, no threshold) or off.
///
/// Memory (zlib state, per connection, exact; `cargo run --release
/// --example memory`): the inflater takes 46.6 KiB whatever the window; the
/// compressor about 128 KiB + 4 * 2^window_bits + 7 * 2^(mem_level + 6)
/// bytes: 371 KiB at 15 bits and memLevel 8, 134 KiB at 9 bits and
/// memLevel 1. Each is created when the first compressed message needs it.
/// With context takeover both stay for the connection's life (418 KiB in
/// all by default; lower it with ws_config_set_deflate_accept() windows and
/// ws_config_set_deflate_mem_level()). Where no context takeover was
/// negotiated (the peer's flag for the inflater, ours for the compressor),
/// a state is freed after each message, so an idle connection holds none,
/// at the cost of creating it again for the next message. See
/// ws_config_set_deflate_warm_up() for the opposite trade.
///
/// Returns WS_OK, or WS_ERR_NULL_ARGUMENT if `cfg` is NULL.
#[no_mangle]
pub extern "C" fn ws_config_set_deflate(cfg: *mut ws_config_t, on: bool) -> ws_result_t {
    with_cfg(cfg, |c| {
        c.base.deflate = on.then(DeflateConfig::default);
        ws_result_t::WS_OK
    })
}

/// Client: the offers to send, in order of preference (each one a
/// permessage-deflate element of Sec-WebSocket-Extensions). Turns
/// permessage-deflate on. `offers[0..count)` is copied.
///
/// Returns WS_OK; WS_ERR_NULL_ARGUMENT if `cfg` or `offers` is NULL;
/// WS_ERR_INVALID_ARGUMENT if `count` is 0 or a window is not 0 or 9..=15
/// (config unchanged).
#[no_mangle]
pub extern "C" fn ws_config_set_deflate_offers(
    cfg: *mut ws_config_t,
    offers: *const ws_deflate_params_t,
    count: usize,
) -> ws_result_t {
    with_cfg(cfg, |c| {
        if offers.is_null() {
            return ws_result_t::WS_ERR_NULL_ARGUMENT;
        }
        // SAFETY: `offers` is non-null and, per the contract, points to `count` readable items.
        let list = unsafe { std::slice::from_raw_parts(offers, count) };
        let valid =
            list.iter().all(|o| window_ok(o.server_max_window_bits, true) && window_ok(o.client_max_window_bits, true));
        if list.is_empty() || !valid {
            return ws_result_t::WS_ERR_INVALID_ARGUMENT;
        }
        let d = c.base.deflate.get_or_insert_with(DeflateConfig::default);
        d.offers = list.iter().map(|&o| o.into()).collect();
        ws_result_t::WS_OK
    })
}

/// What a server accepts: `max_window_bits` (9..=15) caps the window it
/// compresses with, and the client_max_window_bits it asks of a client whose
/// offer carries that parameter (RFC 7692 §7.1.2.2: a client that did not
/// offer it cannot be limited, and the server then accepts its 15-bit
/// window); the two flags ask for no context takeover in each direction.
/// For a client, `max_window_bits` caps the server_max_window_bits of its
/// offers. Turns permessage-deflate on.
///
/// The peer's negotiated window is not enforced on receive: the inflater
/// always holds a 32 KiB window (46.6 KiB of state in all, whatever the
/// window) and decodes a peer that refers further back than it negotiated,
/// as zlib does. Such a peer gains nothing (our memory does not depend on
/// its window); detecting it would take a second DEFLATE decoder. The
/// window only lowers what our compressor holds.
///
/// Returns WS_OK; WS_ERR_NULL_ARGUMENT if `cfg` is NULL;
/// WS_ERR_INVALID_ARGUMENT if `max_window_bits` is not 9..=15 (config unchanged).
#[no_mangle]
pub extern "C" fn ws_config_set_deflate_accept(
    cfg: *mut ws_config_t,
    max_window_bits: u8,
    server_no_context_takeover: bool,
    client_no_context_takeover: bool,
) -> ws_result_t {
    with_cfg(cfg, |c| {
        if !window_ok(max_window_bits, false) {
            return ws_result_t::WS_ERR_INVALID_ARGUMENT;
        }
        let d = c.base.deflate.get_or_insert_with(DeflateConfig::default);
        d.max_window_bits = max_window_bits;
        d.server_no_context_takeover = server_no_context_takeover;
        d.client_no_context_takeover = client_no_context_takeover;
        ws_result_t::WS_OK
    })
}

/// Compression level 0..=9 (default 6; 1 is fastest, 9 smallest) and the
/// size threshold: whole messages shorter than `threshold` bytes are sent
/// uncompressed (default 0: compress everything). Turns permessage-deflate on.
///
/// Returns WS_OK; WS_ERR_NULL_ARGUMENT if `cfg` is NULL;
/// WS_ERR_INVALID_ARGUMENT if `level` > 9 (config unchanged).
#[no_mangle]
pub extern "C" fn ws_config_set_deflate_compression(cfg: *mut ws_config_t, level: u8, threshold: usize) -> ws_result_t {
    with_cfg(cfg, |c| {
        if level > 9 {
            return ws_result_t::WS_ERR_INVALID_ARGUMENT;
        }
        let d = c.base.deflate.get_or_insert_with(DeflateConfig::default);
        d.level = level;
        d.threshold = threshold;
        ws_result_t::WS_OK
    })
}

/// The compressor's zlib memory level, 1..=9 (default 8): its block buffers
/// take 7 * 2^(mem_level + 6) bytes (112 KiB at 8, 896 bytes at 1). A lower
/// level saves memory at a small cost in compression ratio; the wire format
/// does not change. Applies to every connection later made from `cfg`.
/// Turns permessage-deflate on.
///
/// Returns WS_OK; WS_ERR_NULL_ARGUMENT if `cfg` is NULL;
/// WS_ERR_INVALID_ARGUMENT if `mem_level` is not 1..=9 (config unchanged).
#[no_mangle]
pub extern "C" fn ws_config_set_deflate_mem_level(cfg: *mut ws_config_t, mem_level: u8) -> ws_result_t {
    with_cfg(cfg, |c| {
        if !(1..=9).contains(&mem_level) {
            return ws_result_t::WS_ERR_INVALID_ARGUMENT;
        }
        c.base.deflate.get_or_insert_with(DeflateConfig::default).mem_level = mem_level;
        ws_result_t::WS_OK
    })
}

/// Warm-up (`warm_up` true; default false): a connection made from `cfg`
/// creates its inflater and compressor as soon as permessage-deflate is
/// negotiated (server: in ws_conn_accept(); client: when the server's
/// response is received; frames-only: at creation), and keeps both for its
/// whole life, also with no context takeover (the compressor is then reset
/// after each message instead of freed). The first compressed message then
/// allocates no zlib state (no first-message stall), and once the
/// connection's own buffers have grown to the message size, messages
/// allocate nothing at all (tests/deflate_warm.rs) provided idle buffers are
/// kept: set ws_config_set_idle_buffer_retain() to at least your usual
/// message size (the default, 1 KiB, frees larger buffers between
/// messages). The price is that
/// memory, held while idle (418 KiB with the defaults, see
/// ws_config_set_deflate()).
///
/// Without warm-up, states are created on first use and freed between
/// messages where no context takeover allows, which costs time per
/// message: compressing and inflating a 1 KB message with no context
/// takeover takes about twice as long with the states freed each time as
/// warm (`cargo run --release --example memory` prints both).
///
/// If memory runs out during warm-up, the states are created on first use
/// instead. Turns permessage-deflate on.
///
/// Returns WS_OK, or WS_ERR_NULL_ARGUMENT if `cfg` is NULL.
#[no_mangle]
pub extern "C" fn ws_config_set_deflate_warm_up(cfg: *mut ws_config_t, warm_up: bool) -> ws_result_t {
    with_cfg(cfg, |c| {
        c.base.deflate.get_or_insert_with(DeflateConfig::default).warm_up = warm_up;
        ws_result_t::WS_OK
    })
}

/// The permessage-deflate parameters in force on `conn`: true and `*out`
/// written when compression was negotiated (or given to a frames-only
/// connection); false otherwise, and for NULL or poisoned connections.
/// `out` may be NULL to only ask whether it was negotiated.
#[no_mangle]
pub extern "C" fn ws_conn_deflate_params(conn: *const ws_conn_t, out: *mut ws_deflate_params_t) -> bool {
    with_ref(conn, false, false, false, |c| report_params(c.inner.negotiated_deflate(), out))
}

/// Writes `params`, if any, to `out` (when non-NULL); whether there were any.
pub(crate) fn report_params(params: Option<DeflateParams>, out: *mut ws_deflate_params_t) -> bool {
    let Some(p) = params else { return false };
    if !out.is_null() {
        // SAFETY: `out` is non-null and, per the callers' documented
        // contract, points to writable storage for a ws_deflate_params_t.
        unsafe { out.write(p.into()) };
    }
    true
}

/// ws_conn_new_frames_only() for a connection whose handshake, done
/// elsewhere, negotiated permessage-deflate with `params` (copied; windows
/// 9..=15). The config's deflate options (level, threshold) apply. As there:
/// `cfg` may be NULL (defaults) and is copied; `trailing[0..trailing_len)` is
/// copied and parsed (NULL allowed when the length is 0); on WS_OK `*out`
/// receives a connection the caller owns and must release with ws_conn_free().
///
/// Returns WS_OK; WS_ERR_NULL_ARGUMENT if `out` or `params` is NULL, or
/// `trailing` is NULL with a non-zero length; WS_ERR_INVALID_ARGUMENT for a
/// bad `role` or window; WS_ERR_NO_MEMORY (nothing was created);
/// WS_ERR_PANIC.
#[no_mangle]
pub extern "C" fn ws_conn_new_frames_only_deflate(
    cfg: *const ws_config_t,
    role: WsRoleArg,
    params: *const ws_deflate_params_t,
    trailing: *const std::ffi::c_void,
    trailing_len: usize,
    out: *mut *mut ws_conn_t,
) -> ws_result_t {
    // SAFETY: `params` is NULL or points to a readable ws_deflate_params_t.
    let Some(p) = (unsafe { params.as_ref() }).copied() else {
        return ws_result_t::WS_ERR_NULL_ARGUMENT;
    };
    if !window_ok(p.server_max_window_bits, false) || !window_ok(p.client_max_window_bits, false) {
        return ws_result_t::WS_ERR_INVALID_ARGUMENT;
    }
    new_frames_only(cfg, role, Some(p.into()), trailing, trailing_len, out)
}
