//! The zero-copy send paths: a data frame encoded straight into the
//! caller's buffer, or (server) only its header, for `writev` with the
//! caller's own payload.
//!
//! Both follow the same rules as [`Connection::send_data_with`] (state,
//! fragmentation, UTF-8, close) and change the connection's sending state
//! exactly as a queued send would. They do not go through the output buffer,
//! so they are refused while it holds bytes (the frame would overtake them),
//! and the caller must write each frame out in full before the connection's
//! output again. A message permessage-deflate would compress is refused: its
//! size is not known before compressing, and compressing is already a copy.

use super::{Connection, Role, SendOptions, State};
use crate::error::{Error, ErrorKind, Result};
use crate::event::DataKind;
use crate::frame::{self, Opcode};
use crate::mask;
use crate::mask_send;
use crate::utf8;

/// The outcome of a zero-copy encode.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Encoded {
    /// This many bytes were written at the start of the caller's buffer.
    Written(usize),
    /// The buffer is smaller than this many bytes: nothing was written and
    /// nothing changed (no masking key was drawn).
    TooSmall(usize),
}

impl Connection {
    /// The checks both zero-copy encoders share.
    #[inline]
    fn check_direct(&self, data: &[u8], o: SendOptions, kind: DataKind) -> Result<super::Plan> {
        let idle = self.output().is_empty();
        if idle
            && o.fin
            && self.sending.is_none()
            && self.deflate.is_none()
            && matches!(self.state, State::Open | State::RemoteClosing)
        {
            // The common case in a few compares, as in send_data_with.
            let opcode = match kind {
                DataKind::Text if !o.trusted_utf8 && !utf8::is_valid(data) => return Err(super::not_utf8()),
                DataKind::Text => Opcode::Text,
                DataKind::Binary => Opcode::Binary,
            };
            return Ok(super::Plan { opcode, fin: true, rsv1: false, compressed: false, next: None });
        }
        self.check_direct_slow(data, o, kind)
    }

    fn check_direct_slow(&self, data: &[u8], o: SendOptions, kind: DataKind) -> Result<super::Plan> {
        if !self.output().is_empty() {
            return Err(Error::new(
                ErrorKind::WrongState,
                "queued output is pending: write it out first (a zero-copy frame would overtake it)",
            ));
        }
        let p = self.plan_data(kind, data, o)?;
        if p.compressed {
            return Err(Error::new(
                ErrorKind::InvalidArgument,
                "this message would be compressed (permessage-deflate), which the zero-copy \
                 paths do not do: send it without compression, or queue it with send_data",
            ));
        }
        Ok(p)
    }

    /// Zero-copy send: encodes one data frame (a whole message, or a
    /// fragment when `o.fin` is false) into `buf`: the header, then the
    /// payload, masked in the same pass for a client. Returns
    /// `Encoded::Written(n)` (write `buf[..n]` to the transport, all of it,
    /// before anything else) or `Encoded::TooSmall(needed)`.
    ///
    /// Errors as [`send_data_with`](Self::send_data_with), and also
    /// `WrongState` while queued output is pending and `InvalidArgument` for
    /// a message permessage-deflate would compress (pass
    /// `allow_compression: false`). On any error or `TooSmall`, nothing
    /// changed.
    pub fn encode_data(&mut self, kind: DataKind, data: &[u8], o: SendOptions, buf: &mut [u8]) -> Result<Encoded> {
        if data.len() <= mask_send::SMALL_MAX && buf.len() >= data.len() + mask_send::SMALL_SLACK {
            if let Some(n) = self.encode_small(kind, data, o, buf) {
                return Ok(Encoded::Written(n));
            }
        }
        let p = self.check_direct(data, o, kind)?;
        let masked = self.role == Role::Client;
        let len = data.len();
        let head = frame::header_size(len as u64, masked);
        let need = head.checked_add(len).ok_or_else(|| Error::new(ErrorKind::InvalidArgument, "payload too large"))?;
        if buf.len() < need {
            return Ok(Encoded::TooSmall(need));
        }
        let key = self.mask_key()?;
        let (h, body) = buf[..need].split_at_mut(head);
        frame::put_header(h, p.fin, false, p.opcode, key, len as u64);
        match key {
            Some(k) => mask::copy_masked(body, data, k),
            None => body.copy_from_slice(data),
        }
        self.sending = p.next;
        Ok(Encoded::Written(need))
    }

    /// The one-pass encode of a whole small message alone, as
    /// [`encode_data`](Self::encode_data) with `fin` (and any
    /// `allow_compression`) tries it first: the frame's length, or None with
    /// nothing changed or written when that path does not apply (then
    /// `encode_data` decides, including every error). For callers that keep
    /// the general path out of line (the C API).
    #[inline(always)]
    pub(crate) fn try_encode_small(
        &mut self,
        kind: DataKind,
        data: &[u8],
        trusted_utf8: bool,
        buf: &mut [u8],
    ) -> Option<usize> {
        if data.len() <= mask_send::SMALL_MAX && buf.len() >= data.len() + mask_send::SMALL_SLACK {
            let o = SendOptions { fin: true, allow_compression: true, trusted_utf8 };
            return self.encode_small(kind, data, o, buf);
        }
        None
    }

    /// A whole small message straight into `buf` in one pass (see
    /// `send_small`): the frame's length, or None, with nothing changed or
    /// written, when it does not apply (not the common case of
    /// `check_direct`, the key pool needs a refill, or the text is not valid
    /// UTF-8); then the general path decides. The key is taken only on
    /// success.
    #[inline(always)]
    fn encode_small(&mut self, kind: DataKind, data: &[u8], o: SendOptions, buf: &mut [u8]) -> Option<usize> {
        // (No output pending: `out_pos == out.len()`, without slicing.)
        if !(self.plain_whole(o) && self.out_pos == self.out.len()) {
            return None;
        }
        let (b0, text) = match kind {
            DataKind::Text => (0x80 | Opcode::Text as u8, !o.trusted_utf8),
            DataKind::Binary => (0x80 | Opcode::Binary as u8, false),
        };
        // One writer per role, each with its header layout known. The
        // one-pass writer stores 8 header bytes; a shorter frame would have
        // it write past the frame, and the caller's buffer beyond the frame
        // is not ours to touch (header 6 + payload, or 2 + payload).
        match self.role {
            Role::Client => {
                let key = self.rng.peek_key()?;
                if 6 + data.len() < mask_send::SMALL_SLACK {
                    return None;
                }
                let n = mask_send::put_small_frame(buf, b0, Some(key), data, text)?;
                self.rng.take_key();
                Some(n)
            }
            Role::Server if 2 + data.len() < mask_send::SMALL_SLACK => None,
            Role::Server => mask_send::put_small_frame(buf, b0, None, data, text),
        }
    }

    /// [`encode_header`](Self::encode_header) of a whole message in its
    /// common case alone (server, nothing queued or being sent, no
    /// permessage-deflate, OPEN or REMOTE_CLOSING, text valid or trusted,
    /// `buf` of at least 10 bytes): the header's length, or None with
    /// nothing changed or written (then `encode_header` decides, including
    /// every error). For callers that keep the general path out of line (the
    /// C API). Nothing in it can panic (the text check's validators are
    /// total functions, the header goes into a 10-byte array), nor call out.
    #[inline(always)]
    pub(crate) fn try_encode_header(
        &mut self,
        kind: DataKind,
        data: &[u8],
        trusted_utf8: bool,
        buf: &mut [u8],
    ) -> Option<usize> {
        let o = SendOptions { fin: true, allow_compression: true, trusted_utf8 };
        // (No output pending: `out_pos == out.len()`, without slicing.)
        if self.role != Role::Server || !self.plain_whole(o) || self.out_pos != self.out.len() {
            return None;
        }
        let opcode = match kind {
            DataKind::Text if !(trusted_utf8 || data.is_ascii() || utf8::is_valid(data)) => return None,
            DataKind::Text => Opcode::Text,
            DataKind::Binary => Opcode::Binary,
        };
        let buf = buf.first_chunk_mut::<{ frame::MAX_HEADER_LEN - 4 }>()?;
        Some(frame::put_header(buf, true, false, opcode, None, data.len() as u64))
    }

    /// Zero-copy server send: writes only the header of the data frame that
    /// carries `data` into `buf` (at most 10 bytes; `Encoded::TooSmall`
    /// otherwise). Write the header and then `data` itself, in full, before
    /// anything else (e.g. one `writev`). `data` is read only to check text
    /// (skip with `o.trusted_utf8`) and for its length.
    ///
    /// A client must mask its payload, so it cannot send a header alone:
    /// `WrongState` (use [`encode_data`](Self::encode_data)). Other errors
    /// as `encode_data`; on any error or `TooSmall`, nothing changed.
    pub fn encode_header(&mut self, kind: DataKind, data: &[u8], o: SendOptions, buf: &mut [u8]) -> Result<Encoded> {
        if self.role == Role::Client {
            return Err(Error::new(
                ErrorKind::WrongState,
                "a client must mask its payload and cannot send a header alone: use encode_data",
            ));
        }
        let p = self.check_direct(data, o, kind)?;
        let len = data.len() as u64;
        let head = frame::header_size(len, false);
        if buf.len() < head {
            return Ok(Encoded::TooSmall(head));
        }
        frame::put_header(buf, p.fin, false, p.opcode, None, len);
        self.sending = p.next;
        Ok(Encoded::Written(head))
    }
}
