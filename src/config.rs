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
    /// Most bytes the connection may hold in all (default 64 MiB; `u64::MAX` =
    /// no limit): input not yet parsed, the message being assembled, events
    /// not yet taken, output not yet written, handshake data and compressor
    /// state (`Connection::memory_used`). Input the peer sends is parsed only
    /// while the total stays within it: parsing pauses while the caller has
    /// events to take or output to write, and a message that cannot fit even
    /// then fails the connection with close 1009.
    pub memory_budget: u64,
    /// Most unparsed input held while parsing is paused (default 256 KiB):
    /// past it `receive` takes nothing and returns `InputFull`. (What is left
    /// of a call made while `wants_read` was true, when parsing pauses part
    /// way through it, is held whole: at most that call's bytes.)
    pub max_buffered_input: usize,
    /// Output length at which the connection counts as backed up (default
    /// 256 KiB): data frames are not parsed until the output is written below
    /// it, and automatic pongs coalesce into one answer to the latest ping.
    pub output_high_water: usize,
    /// Capacity each internal buffer may keep while empty (default 1 KiB);
    /// larger buffers are freed once what they held has been taken. Higher
    /// values trade idle memory for fewer allocations.
    pub idle_buffer_retain: usize,
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
            memory_budget: 64 << 20,
            max_buffered_input: 256 << 10,
            output_high_water: 256 << 10,
            idle_buffer_retain: 1 << 10,
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
            .field("memory_budget", &self.memory_budget)
            .field("max_buffered_input", &self.max_buffered_input)
            .field("output_high_water", &self.output_high_water)
            .field("idle_buffer_retain", &self.idle_buffer_retain)
            .finish()
    }
}
