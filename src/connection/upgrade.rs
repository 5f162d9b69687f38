//! Server: a request that another HTTP parser has already read (an HTTP
//! server, llhttp, picohttpparser, an nginx or h2o module), like Python
//! wsproto's `initiate_upgrade_connection`.
//!
//! The request is turned back into the HTTP/1.1 head it stands for and goes
//! through the very path a request read from the wire takes (limits, parser,
//! request rules, `Request` event), so both are validated identically.

use super::{Connection, Phase, Role};
use crate::error::{Error, ErrorKind, Result};
use crate::handshake;

impl Connection {
    /// Server, on a fresh connection (nothing received yet): takes the
    /// upgrade request that another HTTP parser has already read. `method`
    /// and `target` are as in the request line (the version is HTTP/1.1);
    /// `headers` are the header fields as received, in order; `trailing` are
    /// bytes that parser read past the head (frames sent early), kept until
    /// `accept` as with [`Connection::receive`] (so up to
    /// `max_buffered_input` bytes: past it the request is still taken and
    /// queued, `InputFull` is returned, and `trailing` must be fed with
    /// `receive` after `accept`).
    ///
    /// On success a `Request` event is queued: answer with `accept` or
    /// `reject`. A request the engine would refuse on the wire is refused here
    /// the same way: a `Handshake` error, after which only `reject` (with
    /// `handshake_status_hint`: 400, 426 or 431) is possible. `WrongState`
    /// for a client or a server that has already received input.
    pub fn receive_request(
        &mut self,
        method: &[u8],
        target: &[u8],
        headers: &[(&[u8], &[u8])],
        trailing: &[u8],
    ) -> Result<()> {
        if self.role != Role::Server || self.phase != Phase::AwaitRequest || !self.stash.is_empty() || self.input_ended
        {
            return Err(Error::new(
                ErrorKind::WrongState,
                "receive_request needs a server connection that has received nothing yet",
            ));
        }
        let head = match handshake::request_head(method, target, headers, self.max_handshake_size) {
            Ok(head) => head,
            Err(e) => {
                self.phase = Phase::RequestFailed;
                self.status_hint = e.status_hint;
                return Err(e);
            }
        };
        self.read_request(&head)?;
        if trailing.is_empty() {
            Ok(())
        } else {
            self.receive(trailing)
        }
    }
}
