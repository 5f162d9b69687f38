//! wsproto: a sans-I/O WebSocket protocol engine (RFC 6455, RFC 7692).
//!
//! The engine owns no sockets, threads or timers: feed it bytes with
//! [`Connection::receive`], read events with [`Connection::next_event`], call
//! `send_*` to encode, and write [`Connection::output`] to your transport.

pub mod config;
pub mod connection;
pub mod deflate;
pub mod error;
pub mod event;
pub mod ffi;
pub mod frame;
pub mod handshake;
pub mod http_body;
pub mod mask;
pub mod rng;
pub mod utf8;

pub use config::{Config, MessageMode};
pub use connection::{Connection, Role, State};
pub use deflate::{DeflateConfig, DeflateParams};
pub use error::{Error, ErrorKind, Result};
pub use event::{CloseSource, DataKind, Event};
