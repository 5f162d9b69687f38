//! The receive fast path: a tight loop over the frames that make up nearly
//! all traffic, taken before the general frame parser.
//!
//! It handles data frames whose header and payload are both in the input at
//! hand, with nothing unusual about them: no reserved bits, the mask bit the
//! role requires, a 7- or 16-bit length within the frame and message limits,
//! uncompressed, in whole-message mode. A FIN text or binary frame is a
//! message; a non-FIN one starts a fragmented message and continuation
//! frames are appended straight to it. Each payload is unmasked into the
//! arena in one pass that also notes whether it was all ASCII, so text
//! needs the UTF-8 validator only when a byte is not.
//!
//! Anything else (control frames, compressed or partial frames, a frame
//! that breaks a rule or a limit, text that is not valid UTF-8, a buffer
//! that cannot grow) stops the loop *before* that frame changes anything:
//! the general parser then reads it from its first byte and makes every
//! decision (events, close codes, errors, memory accounting). So the fast
//! path only ever does what the general one would have done, frame by frame,
//! and the pause checks of `process_frames` run before each frame here too.

use super::{Connection, Held, InMessage, Queued, Role, MAX_QUEUED_BYTES, MAX_QUEUED_EVENTS};
use crate::event::DataKind;
use crate::mask;
use crate::utf8::{self, Utf8Validator};

impl Connection {
    /// Parses common data frames from the start of `data` (see the module
    /// docs) and returns the rest, which starts at the first frame it left
    /// for the general parser (or is empty).
    ///
    /// The caller has checked that no frame or header is half-read, that the
    /// connection is reading in whole-message mode and that data frames may
    /// be parsed now (output not backed up); events backing up is checked
    /// here before each frame, as `frame_waits` does.
    pub(super) fn receive_fast<'d>(&mut self, mut data: &'d [u8]) -> &'d [u8] {
        debug_assert!(self.header_len == 0 && self.frame.is_none() && !self.stream && self.reading);
        let server = self.role == Role::Server;
        let mask_bit = if server { 0x80 } else { 0 };
        let max_frame = self.max_frame_size;
        let max_message = self.max_message_size;
        // `events_backed_up` with what this loop cannot change hoisted out:
        // control payloads do not grow here.
        let arena_bound = MAX_QUEUED_BYTES.saturating_sub(self.ctrl.len());
        while data.len() >= 2 {
            let waiting = self.events.len();
            let backed_up = waiting >= MAX_QUEUED_EVENTS || (waiting > 0 && self.arena.len() >= arena_bound);
            debug_assert_eq!(backed_up, self.events_backed_up());
            if backed_up {
                break;
            }
            let (b0, b1) = (data[0], data[1]);
            if b1 & 0x80 != mask_bit {
                break;
            }
            let (len, mut header) = match b1 & 0x7f {
                127 => break,
                126 => {
                    let Some(l) = data.get(2..4) else { break };
                    let len = u16::from_be_bytes([l[0], l[1]]) as usize;
                    if len < 126 {
                        break;
                    }
                    (len, 4)
                }
                n => (n as usize, 2),
            };
            let key = if server {
                let Some(k) = data.get(header..header + 4) else { break };
                header += 4;
                [k[0], k[1], k[2], k[3]]
            } else {
                [0; 4]
            };
            let Some(payload) = data.get(header..header + len) else { break };
            if len as u64 > max_frame {
                break;
            }
            let fin = b0 & 0x80 != 0;
            // Opcode and RSV bits together: only text, binary and
            // continuation frames with no reserved bit set come here.
            let done = match (b0 & 0x7f, self.message.as_ref()) {
                (1 | 2, None) if fin => {
                    let kind = if b0 & 0x7f == 1 { DataKind::Text } else { DataKind::Binary };
                    self.fast_message(kind, payload, key, max_message)
                }
                (1 | 2, None) => {
                    let kind = if b0 & 0x7f == 1 { DataKind::Text } else { DataKind::Binary };
                    self.fast_first_fragment(kind, payload, key, max_message)
                }
                (0, Some(m)) if !m.compressed => self.fast_continuation(fin, payload, key, max_message),
                _ => false,
            };
            if !done {
                break;
            }
            data = &data[header + len..];
        }
        data
    }

    /// A FIN text or binary frame: a whole message. False: nothing changed.
    #[inline]
    fn fast_message(&mut self, kind: DataKind, payload: &[u8], key: [u8; 4], max: u64) -> bool {
        let len = payload.len();
        if len as u64 > max || self.make_room(Held::Arena, len).is_err() {
            return false;
        }
        let start = self.arena.len();
        let ascii = mask::extend_masked_ascii(&mut self.arena, payload, key);
        if kind == DataKind::Text && !ascii && !utf8::is_valid(&self.arena[start..]) {
            self.arena.truncate(start);
            return false;
        }
        self.queue(Queued::Data { kind, start, len, frame_finished: true, message_finished: true });
        true
    }

    /// A non-FIN text or binary frame: the first fragment of a message.
    /// False: nothing changed.
    #[inline]
    fn fast_first_fragment(&mut self, kind: DataKind, payload: &[u8], key: [u8; 4], max: u64) -> bool {
        let len = payload.len();
        if len as u64 > max || self.make_room(Held::Arena, len).is_err() {
            return false;
        }
        let start = self.arena.len();
        let ascii = mask::extend_masked_ascii(&mut self.arena, payload, key);
        let mut utf8 = Utf8Validator::new();
        if kind == DataKind::Text && !ascii && utf8.feed(&self.arena[start..]).is_err() {
            self.arena.truncate(start);
            return false;
        }
        self.message =
            Some(InMessage { kind, compressed: false, utf8, len: len as u64, undelivered: start, tail_fed: false });
        true
    }

    /// A continuation frame of the (uncompressed) message being assembled:
    /// appended to it, and the message delivered when `fin`. False: nothing
    /// changed.
    #[inline]
    fn fast_continuation(&mut self, fin: bool, payload: &[u8], key: [u8; 4], max: u64) -> bool {
        let Some(m) = self.message.as_ref() else { return false };
        let (kind, so_far, open) = (m.kind, m.len, m.utf8.pending() != 0);
        if so_far.saturating_add(payload.len() as u64) > max || self.make_room(Held::Arena, payload.len()).is_err() {
            return false;
        }
        let start = self.arena.len();
        let ascii = mask::extend_masked_ascii(&mut self.arena, payload, key);
        // ASCII with no code point left open leaves the validator as it was
        // (nothing pending, so a FIN ends the text cleanly): only other text
        // goes through it.
        if kind == DataKind::Text && (open || !ascii) {
            let Some(m) = self.message.as_mut() else {
                self.arena.truncate(start);
                return false;
            };
            let mut utf8 = m.utf8;
            if utf8.feed(&self.arena[start..]).is_err() || (fin && utf8.finish().is_err()) {
                self.arena.truncate(start);
                return false;
            }
            m.utf8 = utf8;
        }
        if fin {
            let start = self.message.take().map_or(start, |m| m.undelivered);
            let len = self.arena.len() - start;
            self.queue(Queued::Data { kind, start, len, frame_finished: true, message_finished: true });
        } else if let Some(m) = self.message.as_mut() {
            m.len = so_far + payload.len() as u64;
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::event::Event;

    const KEY: [u8; 4] = [0x37, 0xfa, 0x21, 0x3d];

    fn masked(b0: u8, payload: &[u8]) -> Vec<u8> {
        assert!(payload.len() < 126);
        let mut f = vec![b0, 0x80 | payload.len() as u8];
        f.extend_from_slice(&KEY);
        f.extend(payload.iter().enumerate().map(|(i, b)| b ^ KEY[i & 3]));
        f
    }

    /// The differential test (tests/receive_fast_path.rs) would pass if the
    /// fast path took nothing: this shows it takes the frames it is for, and
    /// stops, unchanged, at the first one it leaves to the general parser.
    #[test]
    fn takes_common_frames_and_stops_at_a_control_frame() {
        let mut c = Connection::frames_only(Role::Server, Config::default(), None, &[]);
        let mut input = masked(0x81, b"hello");
        input.extend(masked(0x02, b"ab"));
        input.extend(masked(0x80, b"cd"));
        let ping = masked(0x89, b"p");
        input.extend(&ping);
        let rest = c.receive_fast(&input);
        assert_eq!(rest, &ping[..], "stops at the ping, before it changes anything");
        assert_eq!(c.events.len(), 2);
        assert!(c.message.is_none());
        assert!(matches!(c.next_event(), Some(Event::Data { data: b"hello", message_finished: true, .. })));
        assert!(matches!(c.next_event(), Some(Event::Data { data: b"abcd", message_finished: true, .. })));
        // Invalid UTF-8 text is left whole to the general parser.
        let bad = masked(0x81, &[0xff]);
        let held = c.arena.len();
        assert_eq!(c.receive_fast(&bad), &bad[..]);
        assert!(c.events.is_empty() && c.message.is_none());
        assert_eq!(c.arena.len(), held, "the invalid text was not kept");
    }
}
