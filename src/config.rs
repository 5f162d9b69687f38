//! Limits and options for a connection, with safe finite defaults.

use crate::deflate::DeflateConfig;

/// How received data messages are handed to the application.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MessageMode {
    /// Each message is delivered once, whole (bounded by `max_message_size`).
    Whole,
    /// Payload is delivered in chunks as it arrives, with `frame_finished` and
    /// `message_finished` flags (Python wsproto's model). Text chunks always end
    /// on a code-point boundary.
    Stream,
}

/// Fills the buffer with random bytes; returns false on failure.
pub type RngFn = Box<dyn FnMut(&mut [u8]) -> bool + Send>;

/// Connection options. `Config::default()` is safe for a public server.
pub struct Config {
    /// Largest accepted frame payload, in bytes (default 16 MiB). Larger → close 1009.
    pub max_frame_size: u64,
    /// Largest accepted message (after inflation), in bytes (default 16 MiB).
    /// Larger → close 1009. Applies in both message modes.
    pub max_message_size: u64,
    /// Largest accepted HTTP head (request or response line plus headers), in bytes (default 16 KiB).
    pub max_handshake_size: usize,
    /// Most header lines accepted in the HTTP head (default 64).
    pub max_handshake_headers: usize,
    /// Answer pings with pongs automatically (default true). Ping events are still delivered.
    pub auto_pong: bool,
    /// Answer a peer's close with a close frame automatically (default true).
    pub auto_close_reply: bool,
    /// Whole messages (default) or streamed chunks.
    pub message_mode: MessageMode,
    /// Source of masking keys and `Sec-WebSocket-Key` nonces; `None` = OS RNG.
    pub rng: Option<RngFn>,
    /// permessage-deflate: what a client offers / what a server accepts. `None` = off.
    pub deflate: Option<DeflateConfig>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            max_frame_size: 16 << 20,
            max_message_size: 16 << 20,
            max_handshake_size: 16 << 10,
            max_handshake_headers: 64,
            auto_pong: true,
            auto_close_reply: true,
            message_mode: MessageMode::Whole,
            rng: None,
            deflate: None,
        }
    }
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("max_frame_size", &self.max_frame_size)
            .field("max_message_size", &self.max_message_size)
            .field("max_handshake_size", &self.max_handshake_size)
            .field("max_handshake_headers", &self.max_handshake_headers)
            .field("auto_pong", &self.auto_pong)
            .field("auto_close_reply", &self.auto_close_reply)
            .field("message_mode", &self.message_mode)
            .field("rng", &self.rng.as_ref().map(|_| "custom"))
            .field("deflate", &self.deflate)
            .finish()
    }
}
