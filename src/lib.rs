//! wsproto: a sans-I/O WebSocket protocol engine (RFC 6455, RFC 7692).
//!
//! The engine owns no sockets, threads or timers: feed it bytes with
//! [`Connection::receive`], read events with [`Connection::next_event`], call
//! `send_*` to encode, and write [`Connection::output`] to your transport.
//!
//! ```
//! use wsproto::{Config, Connection, Event};
//!
//! let mut client = Connection::client(Config::default());
//! let mut server = Connection::server(Config::default());
//! client.send_request("example.com", "/chat", &[], &[]).unwrap();
//!
//! // Move bytes between the two as a transport would.
//! fn pump(from: &mut Connection, to: &mut Connection) {
//!     let bytes = from.output().to_vec();
//!     from.consume_output(bytes.len());
//!     to.receive(&bytes).unwrap();
//! }
//!
//! pump(&mut client, &mut server);
//! match server.next_event() {
//!     Some(Event::Request(req)) => assert_eq!(req.target(), "/chat"),
//!     other => panic!("{other:?}"),
//! }
//! server.accept(None, &[]).unwrap();
//! server.send_text("hello").unwrap();
//! pump(&mut server, &mut client);
//! assert!(matches!(client.next_event(), Some(Event::Accept(_))));
//! match client.next_event() {
//!     Some(Event::Data { data, message_finished: true, .. }) => assert_eq!(data, b"hello"),
//!     other => panic!("{other:?}"),
//! }
//! ```

mod buffer;
pub mod config;
pub mod connection;
pub mod deflate;
pub mod error;
pub mod event;
pub mod ffi;
pub mod frame;
pub mod h2;
pub mod handshake;
pub mod http_body;
pub mod mask;
mod mask_send;
pub mod rng;
pub mod utf8;
mod zstream;

pub use config::{Config, MessageMode};
pub use connection::{Connection, Encoded, Role, SendOptions, State};
pub use deflate::{DeflateConfig, DeflateParams};
pub use error::{Error, ErrorKind, Result};
pub use event::{CloseSource, DataKind, Event};
