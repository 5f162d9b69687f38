//! The connection state machine: bytes in → events, calls → bytes out.

use crate::config::Config;
use crate::deflate::DeflateParams;
use crate::error::Result;
use crate::event::{DataKind, Event};

/// Which end of the connection we are.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    Client,
    Server,
}

/// Connection states, numbered as in Python wsproto.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum State {
    Connecting = 0,
    Open = 1,
    RemoteClosing = 2,
    LocalClosing = 3,
    Closed = 4,
    Rejecting = 5,
}

/// A WebSocket connection without I/O.
pub struct Connection {
    _todo: (),
}

impl Connection {
    /// A client in CONNECTING; call `send_request` first.
    pub fn client(config: Config) -> Connection {
        todo!("{config:?}")
    }
    /// A server in CONNECTING, waiting for the client's request.
    pub fn server(config: Config) -> Connection {
        todo!("{config:?}")
    }
    /// A connection whose handshake happened elsewhere: starts OPEN, with the
    /// permessage-deflate parameters negotiated there (if any); `trailing` are
    /// bytes already read past the handshake.
    pub fn frames_only(role: Role, config: Config, deflate: Option<DeflateParams>, trailing: &[u8]) -> Connection {
        todo!("{role:?}{config:?}{deflate:?}{trailing:?}")
    }
    pub fn role(&self) -> Role {
        todo!()
    }
    pub fn state(&self) -> State {
        todo!()
    }
    /// Feeds bytes read from the transport. Errors: `Closed` after CLOSED or EOF;
    /// `Handshake` for an invalid upgrade request/response.
    pub fn receive(&mut self, data: &[u8]) -> Result<()> {
        todo!("{data:?}")
    }
    /// The transport reached end of input.
    pub fn receive_eof(&mut self) -> Result<()> {
        todo!()
    }
    /// The next event, if any.
    pub fn next_event(&mut self) -> Option<Event<'_>> {
        todo!()
    }
    pub fn send_request(
        &mut self,
        host: &str,
        target: &str,
        subprotocols: &[&str],
        extra_headers: &[(&str, &str)],
    ) -> Result<()> {
        todo!("{host}{target}{subprotocols:?}{extra_headers:?}")
    }
    pub fn accept(&mut self, subprotocol: Option<&str>, extra_headers: &[(&str, &str)]) -> Result<()> {
        todo!("{subprotocol:?}{extra_headers:?}")
    }
    pub fn reject(&mut self, status: u16, headers: &[(&str, &str)], has_body: bool) -> Result<()> {
        todo!("{status}{headers:?}{has_body}")
    }
    pub fn reject_data(&mut self, data: &[u8], body_finished: bool) -> Result<()> {
        todo!("{data:?}{body_finished}")
    }
    /// Sends a message or a fragment of one (`fin` false: more follow).
    pub fn send_data(&mut self, kind: DataKind, data: &[u8], fin: bool, allow_compression: bool) -> Result<()> {
        todo!("{kind:?}{data:?}{fin}{allow_compression}")
    }
    pub fn send_ping(&mut self, payload: &[u8]) -> Result<()> {
        todo!("{payload:?}")
    }
    pub fn send_pong(&mut self, payload: &[u8]) -> Result<()> {
        todo!("{payload:?}")
    }
    /// `code` None sends a close frame without a status code.
    pub fn send_close(&mut self, code: Option<u16>, reason: &str) -> Result<()> {
        todo!("{code:?}{reason}")
    }
    /// Bytes waiting to be written to the transport.
    pub fn output(&self) -> &[u8] {
        todo!()
    }
    /// Marks `n` bytes of `output()` as written.
    pub fn consume_output(&mut self, n: usize) {
        todo!("{n}")
    }
    /// True once the closing handshake is over (or the connection failed) and
    /// all output is written: close the transport now.
    pub fn wants_close_transport(&self) -> bool {
        todo!()
    }
    pub fn negotiated_deflate(&self) -> Option<DeflateParams> {
        todo!()
    }
    /// Server, after a `Handshake` error: the status to reject with (400, 426, 431).
    pub fn handshake_status_hint(&self) -> u16 {
        todo!()
    }
    /// Input bytes held while waiting for a complete handshake head or frame.
    pub fn buffered_input(&self) -> usize {
        todo!()
    }
}
