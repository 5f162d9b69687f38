//! The one error type of the Rust API.

use std::fmt;

/// What went wrong, coarse enough to map onto a C result code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// An argument is out of range (control payload > 125 bytes, invalid close
    /// code, text that is not UTF-8, ...). Nothing changed.
    InvalidArgument,
    /// The call is not allowed in the connection's current state. Nothing changed.
    WrongState,
    /// The peer's HTTP upgrade request or response is invalid.
    Handshake,
    /// Data was fed after the connection closed or after end of input.
    Closed,
    /// The random number source failed.
    Rng,
    /// An allocation failed (the allocator returned no memory).
    NoMemory,
    /// `receive` took nothing: the connection already holds as much unparsed
    /// input as it may while events wait to be taken, output waits to be
    /// written or the server has not answered the request. Take events / write
    /// output (or accept), then feed the same bytes again.
    InputFull,
}

/// An error with a readable message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Error {
    pub kind: ErrorKind,
    pub message: String,
    /// For a server's handshake failure: the HTTP status the rejection should carry
    /// (400, 426 or 431); 0 otherwise.
    pub status_hint: u16,
}

impl Error {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Error { kind, message: message.into(), status_hint: 0 }
    }
    pub(crate) fn no_memory(what: &str) -> Self {
        Error::new(ErrorKind::NoMemory, format!("out of memory: {what}"))
    }
    pub fn handshake(status_hint: u16, message: impl Into<String>) -> Self {
        Error { kind: ErrorKind::Handshake, message: message.into(), status_hint }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}

pub type Result<T> = std::result::Result<T, Error>;
