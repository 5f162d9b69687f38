//! `ws_config_t`: limits and options, copied into each connection at creation.

use std::ffi::{c_int, c_void};

use super::alloc::try_box;
use super::macros::ffi_boundary;
use super::result::ws_result_t;
use crate::config::{Config, MessageMode, RngFn};

/// How received data messages are delivered.
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ws_message_mode_t {
    /// Each message arrives as one TEXT/BINARY event with both
    /// FRAME_FINISHED and MESSAGE_FINISHED set (bounded by max_message_size).
    WS_MESSAGE_MODE_WHOLE = 0,
    /// Payload arrives in chunks as it is received, flagged FRAME_FINISHED /
    /// MESSAGE_FINISHED; text chunks always end on a code-point boundary.
    WS_MESSAGE_MODE_STREAM = 1,
}

/// A `ws_message_mode_t` received from C, taken as its raw value so an
/// out-of-range value is an error instead of undefined behaviour. cbindgen
/// shows it as `ws_message_mode_t`.
#[repr(transparent)]
#[derive(Clone, Copy, Debug)]
pub struct WsMessageModeArg(pub u32);

/// Random source callback: fill `buf[0..len)` with cryptographically secure
/// random bytes and return 0, or return non-zero on failure (the call that
/// needed randomness then fails with WS_ERR_RNG). `userdata` is the pointer
/// given to ws_config_set_rng(). The library draws randomness in blocks (it
/// may ask for more bytes than one call needs and keep the rest for later
/// masking keys), so the callback runs synchronously inside some
/// ws_conn_send_request() (Sec-WebSocket-Key) and client-side send calls
/// (masking keys), on whatever thread makes that call: it must be safe to
/// call from any thread the connection is used on. It must not call back
/// into the library with the same connection.
pub type ws_rng_fn = Option<unsafe extern "C" fn(userdata: *mut c_void, buf: *mut u8, len: usize) -> c_int>;

/// The caller's userdata pointer. The library never dereferences it; it only
/// passes it back to the caller's callback, on the thread using the
/// connection. Moving a connection between threads therefore moves this
/// pointer too; the header documents that the callback must tolerate that.
#[derive(Clone, Copy)]
struct UserData(*mut c_void);

// SAFETY: the pointer is opaque to Rust and only handed back to the caller's
// callback; the C contract of ws_config_set_rng makes the caller responsible
// for the callback being callable from whatever thread uses the connection.
unsafe impl Send for UserData {}

/// Connection options. Create with ws_config_new(), change with the
/// ws_config_set_* functions, pass to a ws_conn_new_* function (which copies
/// it) and free with ws_config_free(). A config is not thread-safe; it may be
/// used to create many connections.
pub struct ws_config_t {
    /// Every option except the RNG (which is not cloneable in `Config`).
    pub(crate) base: Config,
    rng: Option<(unsafe extern "C" fn(*mut c_void, *mut u8, usize) -> c_int, UserData)>,
}

impl ws_config_t {
    fn new() -> Self {
        ws_config_t { base: Config::default(), rng: None }
    }

    /// A fresh engine `Config` with these options.
    pub(crate) fn build(&self) -> Config {
        let b = &self.base;
        let rng: Option<RngFn> = self.rng.map(|(f, ud)| {
            let closure = move |buf: &mut [u8]| -> bool {
                // Binding the whole wrapper (not its field) keeps the closure Send.
                let ud = ud;
                // SAFETY: `f` is the caller's callback, called with its own userdata
                // and a buffer valid for writes of `buf.len()` bytes, as documented
                // on ws_rng_fn.
                unsafe { f(ud.0, buf.as_mut_ptr(), buf.len()) == 0 }
            };
            Box::new(closure) as RngFn
        });
        Config {
            max_frame_size: b.max_frame_size,
            max_message_size: b.max_message_size,
            max_handshake_size: b.max_handshake_size,
            max_handshake_headers: b.max_handshake_headers,
            auto_pong: b.auto_pong,
            auto_close_reply: b.auto_close_reply,
            message_mode: b.message_mode,
            rng,
            deflate: b.deflate.clone(),
            memory_budget: b.memory_budget,
            max_buffered_input: b.max_buffered_input,
            output_high_water: b.output_high_water,
            idle_buffer_retain: b.idle_buffer_retain,
        }
    }
}

/// Builds the engine config for a ws_conn_new_* call: defaults when `cfg` is NULL.
///
/// # Safety
/// `cfg` is NULL or a live pointer from ws_config_new().
pub(crate) unsafe fn config_from(cfg: *const ws_config_t) -> Config {
    // SAFETY: forwarded contract: NULL or a live ws_config_t.
    match unsafe { cfg.as_ref() } {
        Some(c) => c.build(),
        None => Config::default(),
    }
}

/// Applies `f` to the config behind `cfg` inside the panic boundary.
pub(crate) fn with_cfg(cfg: *mut ws_config_t, f: impl FnOnce(&mut ws_config_t) -> ws_result_t) -> ws_result_t {
    ffi_boundary!(ws_result_t::WS_ERR_PANIC, {
        // SAFETY: the caller passes NULL or a live, exclusively used pointer
        // from ws_config_new(); NULL is rejected here.
        match unsafe { cfg.as_mut() } {
            Some(c) => f(c),
            None => ws_result_t::WS_ERR_NULL_ARGUMENT,
        }
    })
}

/// Creates a config with safe defaults for a public server: max frame and
/// message size 16 MiB, max handshake head 16 KiB with at most 64 headers,
/// auto-pong and auto close-reply on, WS_MESSAGE_MODE_WHOLE, default random source.
///
/// Returns NULL only if allocation failed (see ws_set_allocator()). The
/// caller owns the config and must release it with ws_config_free().
#[no_mangle]
pub extern "C" fn ws_config_new() -> *mut ws_config_t {
    ffi_boundary!(
        std::ptr::null_mut(),
        match try_box(ws_config_t::new()) {
            Some(b) => Box::into_raw(b),
            None => std::ptr::null_mut(),
        }
    )
}

/// Frees a config. NULL is a no-op. Connections created from it are not
/// affected (they hold a copy). `cfg` must not be used afterwards.
#[no_mangle]
pub extern "C" fn ws_config_free(cfg: *mut ws_config_t) {
    ffi_boundary!((), {
        if !cfg.is_null() {
            // SAFETY: non-null pointers passed here come from ws_config_new()
            // (Box::into_raw) and are freed once, per the documented contract.
            drop(unsafe { Box::from_raw(cfg) });
        }
    })
}

/// Largest accepted frame payload in bytes (default 16 MiB); a larger frame
/// fails the connection with close code 1009.
///
/// Returns WS_OK; WS_ERR_NULL_ARGUMENT if `cfg` is NULL;
/// WS_ERR_INVALID_ARGUMENT if `bytes` is 0 (config unchanged).
#[no_mangle]
pub extern "C" fn ws_config_set_max_frame_size(cfg: *mut ws_config_t, bytes: u64) -> ws_result_t {
    with_cfg(cfg, |c| {
        if bytes == 0 {
            return ws_result_t::WS_ERR_INVALID_ARGUMENT;
        }
        c.base.max_frame_size = bytes;
        ws_result_t::WS_OK
    })
}

/// Largest accepted message in bytes, after decompression (default 16 MiB);
/// applies in both message modes; larger fails the connection with 1009.
///
/// Returns WS_OK; WS_ERR_NULL_ARGUMENT if `cfg` is NULL;
/// WS_ERR_INVALID_ARGUMENT if `bytes` is 0 (config unchanged).
#[no_mangle]
pub extern "C" fn ws_config_set_max_message_size(cfg: *mut ws_config_t, bytes: u64) -> ws_result_t {
    with_cfg(cfg, |c| {
        if bytes == 0 {
            return ws_result_t::WS_ERR_INVALID_ARGUMENT;
        }
        c.base.max_message_size = bytes;
        ws_result_t::WS_OK
    })
}

/// Largest accepted HTTP head (request/status line plus headers) in bytes
/// (default 16 KiB). A larger head fails the handshake (server hint 431).
///
/// Returns WS_OK; WS_ERR_NULL_ARGUMENT if `cfg` is NULL;
/// WS_ERR_INVALID_ARGUMENT if `bytes` is 0 (config unchanged).
#[no_mangle]
pub extern "C" fn ws_config_set_max_handshake_size(cfg: *mut ws_config_t, bytes: usize) -> ws_result_t {
    with_cfg(cfg, |c| {
        if bytes == 0 {
            return ws_result_t::WS_ERR_INVALID_ARGUMENT;
        }
        c.base.max_handshake_size = bytes;
        ws_result_t::WS_OK
    })
}

/// Most header lines accepted in the HTTP head (default 64). More fails the
/// handshake (server hint 431).
///
/// Returns WS_OK; WS_ERR_NULL_ARGUMENT if `cfg` is NULL;
/// WS_ERR_INVALID_ARGUMENT if `count` is 0 (config unchanged).
#[no_mangle]
pub extern "C" fn ws_config_set_max_handshake_headers(cfg: *mut ws_config_t, count: usize) -> ws_result_t {
    with_cfg(cfg, |c| {
        if count == 0 {
            return ws_result_t::WS_ERR_INVALID_ARGUMENT;
        }
        c.base.max_handshake_headers = count;
        ws_result_t::WS_OK
    })
}

/// The per-connection memory budget in bytes (default 64 MiB;
/// UINT64_MAX = no limit): the most a connection may hold for what the peer
/// sends, counted as ws_conn_memory_used() counts it (unparsed input, the
/// message being assembled, events not yet taken, output not yet written,
/// handshake data, compressor state). Memory grows only with bytes that
/// arrived, never with a length a frame header announces. Parsing pauses
/// while events wait to be taken or output waits to be written (see
/// ws_conn_wants_read()); a message that cannot fit in what is left fails
/// the connection with close 1009. Keep it above the max message size plus
/// the output you queue yourself.
///
/// Returns WS_OK; WS_ERR_NULL_ARGUMENT if `cfg` is NULL;
/// WS_ERR_INVALID_ARGUMENT if `bytes` is 0 (config unchanged).
#[no_mangle]
pub extern "C" fn ws_config_set_memory_budget(cfg: *mut ws_config_t, bytes: u64) -> ws_result_t {
    with_cfg(cfg, |c| {
        if bytes == 0 {
            return ws_result_t::WS_ERR_INVALID_ARGUMENT;
        }
        c.base.memory_budget = bytes;
        ws_result_t::WS_OK
    })
}

/// The most input a connection holds unparsed while parsing is paused
/// (default 256 KiB). Past it, ws_conn_receive() takes nothing and returns
/// WS_ERR_INPUT_FULL.
///
/// Returns WS_OK; WS_ERR_NULL_ARGUMENT if `cfg` is NULL;
/// WS_ERR_INVALID_ARGUMENT if `bytes` is 0 (config unchanged).
#[no_mangle]
pub extern "C" fn ws_config_set_max_buffered_input(cfg: *mut ws_config_t, bytes: usize) -> ws_result_t {
    with_cfg(cfg, |c| {
        if bytes == 0 {
            return ws_result_t::WS_ERR_INVALID_ARGUMENT;
        }
        c.base.max_buffered_input = bytes;
        ws_result_t::WS_OK
    })
}

/// Output length at which a connection counts as backed up (default
/// 256 KiB): from there on it parses no further data frames until the
/// output is written below the mark (ws_conn_wants_read() is false), and
/// automatic pongs coalesce into one answer to the latest ping (RFC 6455
/// 5.5.3); control frames are still processed.
///
/// Returns WS_OK; WS_ERR_NULL_ARGUMENT if `cfg` is NULL;
/// WS_ERR_INVALID_ARGUMENT if `bytes` is 0 (config unchanged).
#[no_mangle]
pub extern "C" fn ws_config_set_output_high_water(cfg: *mut ws_config_t, bytes: usize) -> ws_result_t {
    with_cfg(cfg, |c| {
        if bytes == 0 {
            return ws_result_t::WS_ERR_INVALID_ARGUMENT;
        }
        c.base.output_high_water = bytes;
        ws_result_t::WS_OK
    })
}

/// Capacity each internal buffer may keep while it is empty (default
/// 1 KiB). A larger buffer (after a large message, say) is freed as soon as
/// what it held has been taken, so idle connections stay small; a higher
/// value keeps buffers for reuse (fewer allocations, more idle memory).
/// 0 frees every empty buffer; SIZE_MAX never frees.
///
/// Returns WS_OK, or WS_ERR_NULL_ARGUMENT if `cfg` is NULL.
#[no_mangle]
pub extern "C" fn ws_config_set_idle_buffer_retain(cfg: *mut ws_config_t, bytes: usize) -> ws_result_t {
    with_cfg(cfg, |c| {
        c.base.idle_buffer_retain = bytes;
        ws_result_t::WS_OK
    })
}

/// Whether received pings are answered with a pong automatically (default
/// true). PING events are delivered either way.
///
/// Returns WS_OK, or WS_ERR_NULL_ARGUMENT if `cfg` is NULL.
#[no_mangle]
pub extern "C" fn ws_config_set_auto_pong(cfg: *mut ws_config_t, on: bool) -> ws_result_t {
    with_cfg(cfg, |c| {
        c.base.auto_pong = on;
        ws_result_t::WS_OK
    })
}

/// Whether a peer's close frame is answered with a close frame automatically
/// (default true). When off, answer with ws_conn_send_close() after the
/// CLOSE event.
///
/// Returns WS_OK, or WS_ERR_NULL_ARGUMENT if `cfg` is NULL.
#[no_mangle]
pub extern "C" fn ws_config_set_auto_close_reply(cfg: *mut ws_config_t, on: bool) -> ws_result_t {
    with_cfg(cfg, |c| {
        c.base.auto_close_reply = on;
        ws_result_t::WS_OK
    })
}

/// Whole messages (default) or streamed chunks; see ws_message_mode_t.
///
/// Returns WS_OK; WS_ERR_NULL_ARGUMENT if `cfg` is NULL;
/// WS_ERR_INVALID_ARGUMENT if `mode` is not a ws_message_mode_t value.
#[no_mangle]
pub extern "C" fn ws_config_set_message_mode(cfg: *mut ws_config_t, mode: WsMessageModeArg) -> ws_result_t {
    with_cfg(cfg, |c| {
        c.base.message_mode = match mode.0 {
            0 => MessageMode::Whole,
            1 => MessageMode::Stream,
            _ => return ws_result_t::WS_ERR_INVALID_ARGUMENT,
        };
        ws_result_t::WS_OK
    })
}

/// Sets the random source for client masking keys and Sec-WebSocket-Key
/// nonces. `rng` NULL restores the default source (a per-connection ChaCha12 stream
/// keyed from the OS RNG, getrandom); `userdata`
/// is then ignored. Otherwise `rng(userdata, buf, len)` is called whenever
/// randomness is needed by a connection created from this config (see
/// ws_rng_fn for the threading rule). The library does not own `userdata`:
/// it must stay valid as long as any connection created from this config
/// exists.
///
/// Returns WS_OK, or WS_ERR_NULL_ARGUMENT if `cfg` is NULL.
#[no_mangle]
pub extern "C" fn ws_config_set_rng(cfg: *mut ws_config_t, rng: ws_rng_fn, userdata: *mut c_void) -> ws_result_t {
    with_cfg(cfg, |c| {
        c.rng = rng.map(|f| (f, UserData(userdata)));
        ws_result_t::WS_OK
    })
}
