//! The connection state machine: bytes in → events, calls → bytes out.
//!
//! Input is parsed as soon as it arrives (`receive`), and the events it
//! produces wait in a queue for `next_event`. Payloads are unmasked straight
//! from the caller's bytes into `arena`, where events borrow them; the arena
//! is compacted only when every queued event has been taken, so a borrowed
//! slice stays put until the next mutating call.
//!
//! Memory model: every buffer grows only with bytes that arrived (never by a
//! length a peer announces), through `buffer::grow` within the memory budget.
//! Parsing pauses at a frame boundary while the caller has much to take
//! (events, bytes of undelivered events, output): the unparsed rest waits in
//! `stash` (bounded by `max_buffered_input` for later input) and parsing
//! resumes when `next_event` has handed out everything. What was handed out
//! is released by the next call, down to `idle_retain` bytes per buffer.

use crate::buffer::{self, GrowError};
use crate::config::{Config, MessageMode};
use crate::deflate::{self, Deflate, DeflateConfig, DeflateParams, InflateError};
use crate::error::{Error, ErrorKind, Result};
use crate::event::{Accept, CloseSource, DataKind, Event, Reject, Request};
use crate::frame::{self, Opcode, MAX_CONTROL_PAYLOAD, MAX_HEADER_LEN};
use crate::handshake::{self, ParsedRequest, ParsedResponse, Span};
use crate::http_body::BodyDecoder;
use crate::mask;
use crate::mask_send;
use crate::rng::Rng;
use crate::utf8::{self, Utf8Validator};

mod encode;
mod event_queue;
mod receive_fast;
mod upgrade;

pub use encode::Encoded;
use event_queue::EventQueue;

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

/// Where the opening handshake stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    /// Server: reading the request head.
    AwaitRequest,
    /// Server: request delivered; waiting for `accept` or `reject`.
    RequestReceived,
    /// Server: the request was invalid; only `reject` is left.
    RequestFailed,
    /// Client: `send_request` not called yet.
    RequestNotSent,
    /// Client: reading the response head.
    AwaitResponse,
    /// Client: reading a rejection body.
    RejectBody,
    /// Handshake over (accepted, rejected or never ours).
    Done,
}

/// A queued event; data lives in `arena` (messages, rejection body) or
/// `ctrl` (control payloads, close reasons).
#[derive(Clone, Copy, Debug)]
enum Queued {
    Accept,
    Reject { has_body: bool },
    RejectData { start: usize, len: usize, finished: bool },
    Data { kind: DataKind, start: usize, len: usize, frame_finished: bool, message_finished: bool },
    Ping { start: usize, len: usize },
    Pong { start: usize, len: usize },
    Close { code: u16, start: usize, len: usize, source: CloseSource },
}

/// The kind of a queued event that `next_plain_raw` hands out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub(crate) enum PlainKind {
    Text,
    Binary,
    Ping,
    Pong,
    RejectData,
}

/// A data, ping, pong or rejection-body event as `next_plain_raw` hands it
/// out: what `next_event` returns for it, in a flat form.
#[derive(Clone, Copy, Debug)]
pub(crate) struct RawPlain<'a> {
    pub(crate) kind: PlainKind,
    /// Bit 0: the frame is finished (data events); bit 1: the message
    /// (data) or the rejection body (RejectData) is finished. Ping and pong:
    /// 0.
    pub(crate) finished: u8,
    pub(crate) data: &'a [u8],
}

/// The frame whose payload is being read.
#[derive(Clone, Copy, Debug)]
struct InFrame {
    opcode: Opcode,
    fin: bool,
    mask: Option<[u8; 4]>,
    mask_offset: usize,
    remaining: u64,
    /// Control frames: where the payload starts in `ctrl`.
    ctrl_start: usize,
}

/// The data message being received.
#[derive(Clone, Copy, Debug)]
struct InMessage {
    kind: DataKind,
    compressed: bool,
    utf8: Utf8Validator,
    /// Payload bytes so far (after inflation).
    len: u64,
    /// First byte in `arena` not yet handed out in an event.
    undelivered: usize,
    /// Compressed: the 00 00 ff ff tail went in with the last piece.
    tail_fed: bool,
}

/// The outbound message being sent in fragments.
#[derive(Clone, Copy, Debug)]
struct OutMessage {
    kind: DataKind,
    compressed: bool,
    utf8: Utf8Validator,
    /// A fragment was sent as known-valid text: the validator has not seen
    /// all of the message, so it is not consulted again.
    trusted: bool,
}

/// How [`Connection::send_data_with`] (and the zero-copy encoders) send a
/// message or a fragment of one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SendOptions {
    /// The last fragment of the message (false: more follow).
    pub fin: bool,
    /// The message may be compressed when permessage-deflate is in force.
    pub allow_compression: bool,
    /// Text the caller knows is valid UTF-8 (for example, text just received
    /// on a connection, which validated it): it is not checked again. Text
    /// that is not valid goes out as is; that is then the caller's fault.
    /// Once a fragment is sent with it, the rest of that message is not
    /// checked either.
    pub trusted_utf8: bool,
}

impl Default for SendOptions {
    fn default() -> Self {
        SendOptions { fin: true, allow_compression: true, trusted_utf8: false }
    }
}

/// What a data send will put on the wire, checked before anything changes.
#[derive(Clone, Copy, Debug)]
struct Plan {
    opcode: Opcode,
    fin: bool,
    rsv1: bool,
    compressed: bool,
    /// The fragmented message still being sent after this frame.
    next: Option<OutMessage>,
}

/// Parsing pauses once this many events wait to be taken...
const MAX_QUEUED_EVENTS: usize = 4096;
/// ...or once events wait and this many bytes of payload wait with them (a
/// compressed message may inflate 1000-fold: without this, one read could
/// queue gigabytes of events).
const MAX_QUEUED_BYTES: usize = 1 << 20;
/// Output is compacted (written bytes dropped) once this much was written.
const COMPACT_OUTPUT_AFTER: usize = 64 << 10;
/// The most the arena grows back to at once after being freed: a batch of
/// small messages from one read; larger messages grow by doubling.
const ARENA_HINT_MAX: usize = 64 << 10;
/// The most the output buffer is allocated at once after being freed: what
/// a batch of sends between two drains used (larger batches grow by
/// doubling).
const OUT_HINT_MAX: usize = 128 << 10;
/// Inflation may overshoot what it was allowed by one growth step.
const INFLATE_SLACK: usize = 64 << 10;

/// Buffers that grow with what the peer sends.
#[derive(Clone, Copy)]
enum Held {
    Arena,
    Ctrl,
    InflateScratch,
}

/// What a client keeps from its request to check the response, and the
/// response it got.
#[derive(Default)]
struct ClientHandshake {
    key: String,
    offered_subprotocols: Vec<String>,
    response: Option<ParsedResponse>,
    accepted_subprotocol: Option<Span>,
}

/// A WebSocket connection without I/O.
pub struct Connection {
    role: Role,
    state: State,
    phase: Phase,
    max_frame_size: u64,
    max_message_size: u64,
    max_handshake_size: usize,
    max_handshake_headers: usize,
    auto_pong: bool,
    auto_close_reply: bool,
    stream: bool,
    rng: Rng,
    deflate_config: Option<DeflateConfig>,
    memory_budget: usize,
    max_buffered_input: usize,
    output_high_water: usize,
    idle_retain: usize,

    // Handshake.
    request: Option<ParsedRequest>,
    /// The `Request` event waits to be taken. It is always the first event
    /// (nothing is parsed after the request until it is answered), so it is
    /// a flag rather than an entry of `events`, which a server handshake
    /// then never allocates.
    request_event: bool,
    /// Client handshake state, boxed: a server never holds its bytes, and
    /// a smaller connection stays in the allocator's fast size classes
    /// (glibc's tcache ends at 1032 bytes; `ws_conn_t` is checked against
    /// it).
    client: Option<Box<ClientHandshake>>,
    extensions: String,
    body: Option<BodyDecoder>,
    status_hint: u16,

    // Receiving.
    /// Raw input held back: a handshake head being read, frames that arrived
    /// before the server accepted, or input left while parsing is paused.
    stash: Vec<u8>,
    header: [u8; MAX_HEADER_LEN],
    header_len: usize,
    frame: Option<InFrame>,
    message: Option<InMessage>,
    reading: bool,
    /// `receive_fast` may run (always, but for differential tests).
    fast_receive: bool,
    /// A `Close` event has been queued: there is only ever one.
    close_queued: bool,
    input_ended: bool,
    arena: Vec<u8>,
    /// The bytes the arena held before it was last freed (at most
    /// ARENA_HINT_MAX): what it grows back to at once.
    arena_hint: usize,
    ctrl: Vec<u8>,
    inflate_scratch: Vec<u8>,
    events: EventQueue,
    deferred_error: Option<Error>,
    /// Auto-pong held while output is backed up: only the latest ping is
    /// answered (RFC 6455 §5.5.3).
    pending_pong: Option<([u8; MAX_CONTROL_PAYLOAD], u8)>,

    // Sending.
    out: Vec<u8>,
    out_pos: usize,
    /// What the output held when it was last drained and freed (at most
    /// OUT_HINT_MAX): the size it is allocated at once when sending starts
    /// again, instead of doubling (and copying) up to it.
    out_hint: usize,
    sending: Option<OutMessage>,
    deflate_scratch: Vec<u8>,
    close_sent: bool,
    deflate: Option<Deflate>,
    deflate_params: Option<DeflateParams>,
}

impl Connection {
    fn new(role: Role, config: Config, state: State, phase: Phase) -> Connection {
        Connection {
            role,
            state,
            phase,
            max_frame_size: config.max_frame_size,
            max_message_size: config.max_message_size,
            max_handshake_size: config.max_handshake_size,
            max_handshake_headers: config.max_handshake_headers,
            auto_pong: config.auto_pong,
            auto_close_reply: config.auto_close_reply,
            stream: config.message_mode == MessageMode::Stream,
            rng: Rng::new(config.rng),
            deflate_config: config.deflate,
            memory_budget: usize::try_from(config.memory_budget).unwrap_or(usize::MAX),
            max_buffered_input: config.max_buffered_input,
            output_high_water: config.output_high_water,
            idle_retain: config.idle_buffer_retain,
            request: None,
            request_event: false,
            client: None,
            extensions: String::new(),
            body: None,
            status_hint: 0,
            stash: Vec::new(),
            header: [0; MAX_HEADER_LEN],
            header_len: 0,
            frame: None,
            message: None,
            reading: true,
            fast_receive: true,
            close_queued: false,
            input_ended: false,
            arena: Vec::new(),
            arena_hint: 0,
            ctrl: Vec::new(),
            inflate_scratch: Vec::new(),
            events: EventQueue::default(),
            deferred_error: None,
            pending_pong: None,
            out: Vec::new(),
            out_pos: 0,
            out_hint: 0,
            sending: None,
            deflate_scratch: Vec::new(),
            close_sent: false,
            deflate: None,
            deflate_params: None,
        }
    }

    /// A client in CONNECTING; call `send_request` first.
    pub fn client(config: Config) -> Connection {
        Connection::new(Role::Client, config, State::Connecting, Phase::RequestNotSent)
    }

    /// A server in CONNECTING, waiting for the client's request.
    pub fn server(config: Config) -> Connection {
        Connection::new(Role::Server, config, State::Connecting, Phase::AwaitRequest)
    }

    /// A connection whose handshake happened elsewhere (an HTTP server that
    /// already upgraded, RFC 8441 over HTTP/2): starts OPEN, with the
    /// permessage-deflate parameters negotiated there (if any). `trailing` are
    /// bytes already read past the handshake; their events are queued.
    pub fn frames_only(role: Role, config: Config, deflate: Option<DeflateParams>, trailing: &[u8]) -> Connection {
        let mut c = Connection::new(role, config, State::Open, Phase::Done);
        if let Some(params) = deflate {
            let cfg = c.deflate_config.clone().unwrap_or_default();
            c.set_deflate(params, &cfg);
        }
        let rest = c.process_frames(trailing);
        c.hold_back(rest);
        c
    }

    /// Turns the receive fast path (src/connection/receive_fast.rs) off or
    /// back on; it is on by default. For differential tests only: every
    /// frame then goes through the general parser, which must lead to the
    /// very same events, errors, pauses and memory use.
    #[doc(hidden)]
    pub fn set_receive_fast_path(&mut self, on: bool) {
        self.fast_receive = on;
    }

    pub fn role(&self) -> Role {
        self.role
    }

    pub fn state(&self) -> State {
        self.state
    }

    /// Feeds bytes read from the transport and parses them; take the
    /// resulting events with `next_event`.
    ///
    /// Errors: `Closed` after CLOSED or end of input; `Handshake` for an
    /// invalid upgrade request (server: then `reject` with
    /// `handshake_status_hint`) or response (client: the connection is CLOSED);
    /// `WrongState` for a client that has not sent its request.
    /// A peer's protocol violation after the handshake is not an error here:
    /// it becomes a `Close` event. A `Close` event takes effect (state
    /// change, close frame) when it is taken with `next_event`, so events
    /// queued before it can still be answered, as in Python wsproto.
    ///
    /// `InputFull`: nothing was taken, because parsing is paused (see
    /// `wants_read`) and the input already held is at `max_buffered_input`
    /// (a client reading a rejection body: many of its events wait); take
    /// events, write output (server: accept), then feed the same bytes
    /// again. `NoMemory`: the allocator failed; the connection has failed (a
    /// `Close` event with code 1011 follows, unless it was the event queue
    /// that could not grow: then the state is `Closed` with no event). `Rng`: an automatic pong or
    /// close reply could not be masked and was not sent; the input was
    /// processed.
    pub fn receive(&mut self, data: &[u8]) -> Result<()> {
        if self.input_ended || self.state == State::Closed {
            return Err(Error::new(ErrorKind::Closed, "data received after the connection closed"));
        }
        self.compact();
        match self.phase {
            Phase::AwaitRequest => self.read_request(data),
            Phase::RequestReceived => self.hold_back_bounded(data),
            Phase::RequestFailed => {
                Err(Error::handshake(self.status_hint, "the upgrade request was invalid; reject the connection"))
            }
            Phase::RequestNotSent => {
                Err(Error::new(ErrorKind::WrongState, "the client must send its request before receiving"))
            }
            Phase::AwaitResponse => self.read_response(data),
            Phase::RejectBody if self.events_backed_up() => Err(Error::new(
                ErrorKind::InputFull,
                "many rejection-body events wait to be taken: take them, then feed these bytes again",
            )),
            Phase::RejectBody => self.read_reject_body(data),
            Phase::Done => {
                if !self.reading {
                    // After a close frame or a failure, input is ignored.
                } else if self.wants_read() {
                    // Parsed straight from the caller's bytes; what is left
                    // when parsing pauses part-way is at most this call's.
                    let rest = self.process_frames(data);
                    self.hold_back(rest);
                } else {
                    // Fed while wants_read() is false: held up to the limit.
                    self.hold_back_bounded(data)?;
                    self.resume();
                }
                self.deferred_error.take().map_or(Ok(()), Err)
            }
        }
    }

    /// Keeps input that parsing did not reach (it paused). The caller fed it
    /// while the connection wanted input, so it is taken whole.
    fn hold_back(&mut self, rest: &[u8]) {
        if rest.is_empty() || !self.reading {
            return;
        }
        if let Err(e) = buffer::extend(&mut self.stash, rest, usize::MAX) {
            self.fail_grow(e);
        }
    }

    /// Keeps input while parsing is paused, up to `max_buffered_input`.
    fn hold_back_bounded(&mut self, data: &[u8]) -> Result<()> {
        if self.stash.len().saturating_add(data.len()) > self.max_buffered_input {
            return Err(Error::new(
                ErrorKind::InputFull,
                format!(
                    "{} bytes of input already wait (limit {}): take events, write output or answer the request, \
                     then feed these bytes again",
                    self.stash.len(),
                    self.max_buffered_input
                ),
            ));
        }
        buffer::extend(&mut self.stash, data, usize::MAX).map_err(|_| Error::no_memory("holding input"))
    }

    /// Parses input held back while parsing was paused, if it may go on.
    fn resume(&mut self) {
        if self.phase != Phase::Done || self.stash.is_empty() || self.events_backed_up() {
            return;
        }
        let mut stash = std::mem::take(&mut self.stash);
        let left = if self.reading { self.process_frames(&stash).len() } else { 0 };
        stash.drain(..stash.len() - left);
        buffer::release_idle(&mut stash, self.idle_retain);
        self.stash = stash;
        if self.input_ended && (self.stash.is_empty() || !self.reading) {
            self.finish_eof();
        }
    }

    /// Many events (or many bytes of them) wait to be taken: parse nothing more.
    #[inline]
    fn events_backed_up(&self) -> bool {
        let waiting = self.events.len();
        waiting >= MAX_QUEUED_EVENTS || (waiting > 0 && self.arena.len() + self.ctrl.len() >= MAX_QUEUED_BYTES)
    }

    /// Output is at its high-water mark.
    #[inline]
    fn output_backed_up(&self) -> bool {
        self.out.len() - self.out_pos >= self.output_high_water
    }

    /// Whether the frame whose first byte is `first` must wait. While output
    /// is backed up (`output_backed_up`, taken once per call: only automatic
    /// pongs, which coalesce, add output while parsing), data frames wait (a
    /// caller echoing them would grow it); control frames go on.
    #[inline]
    fn frame_waits(&self, first: u8, output_backed_up: bool) -> bool {
        self.events_backed_up() || (first & 0x08 == 0 && output_backed_up)
    }

    /// True when the caller should read from the transport and feed the
    /// bytes now. False while input already received waits to be parsed
    /// (take events with `next_event`, which resumes parsing; write output
    /// first if it is backed up), while a server's request awaits
    /// `accept`/`reject`, while many rejection-body events wait to be taken
    /// (a client that was rejected), and once input is no longer read
    /// (closed, failed, end of input). `receive` still takes up to
    /// `max_buffered_input` bytes while it is false (a rejection body: none;
    /// it returns `InputFull`).
    pub fn wants_read(&self) -> bool {
        if self.input_ended || self.state == State::Closed {
            return false;
        }
        match self.phase {
            Phase::AwaitRequest | Phase::AwaitResponse => true,
            // The body is decoded into events straight away: like frames,
            // it waits while many of them wait to be taken.
            Phase::RejectBody => !self.events_backed_up(),
            Phase::RequestReceived | Phase::RequestFailed | Phase::RequestNotSent => false,
            Phase::Done => {
                self.reading && self.stash.is_empty() && !self.events_backed_up() && !self.output_backed_up()
            }
        }
    }

    /// Bytes the connection holds now: the capacity of every buffer
    /// (unparsed input, message being assembled, undelivered events,
    /// control payloads, output, scratch space), the event queue, handshake
    /// data and compressor state.
    pub fn memory_used(&self) -> usize {
        let request = self.request.as_ref().map_or(0, request_heap);
        let client = self.client.as_ref().map_or(0, |c| {
            std::mem::size_of::<ClientHandshake>()
                + c.response.as_ref().map_or(0, response_heap)
                + c.key.capacity()
                + c.offered_subprotocols.iter().map(|s| s.capacity() + std::mem::size_of::<String>()).sum::<usize>()
        });
        let strings = self.extensions.capacity();
        self.stash.capacity()
            + self.arena.capacity()
            + self.ctrl.capacity()
            + self.inflate_scratch.capacity()
            + self.out.capacity()
            + self.deflate_scratch.capacity()
            + self.events.capacity() * std::mem::size_of::<Queued>()
            + self.body.as_ref().map_or(0, |_| std::mem::size_of::<BodyDecoder>())
            + self.deflate.as_ref().map_or(0, |d| d.heap_bytes())
            + request
            + client
            + strings
    }

    /// Makes room for `additional` bytes in one of the buffers the peer
    /// fills, within the memory budget.
    #[inline]
    fn make_room(&mut self, which: Held, additional: usize) -> std::result::Result<(), GrowError> {
        let buf = self.held(which);
        if buf.capacity() - buf.len() >= additional {
            return Ok(());
        }
        self.make_room_slow(which, additional)
    }

    #[cold]
    fn make_room_slow(&mut self, which: Held, additional: usize) -> std::result::Result<(), GrowError> {
        let room = self.memory_budget.saturating_sub(self.memory_used());
        // An eighth more than the last batch used: the next read of the same
        // size, cut at other frame boundaries, should not have to grow it
        // (and copy) once more.
        let hint = (self.arena_hint + self.arena_hint / 8).min(ARENA_HINT_MAX);
        let buf = self.held(which);
        let max = buf.capacity().saturating_add(room);
        if matches!(which, Held::Arena) && buf.capacity() == 0 && hint > additional && hint <= max {
            // The arena was freed after the last batch of events: grow back
            // to about its size at once instead of doubling (and copying) up to it.
            if buffer::grow(buf, hint, max).is_ok() {
                return Ok(());
            }
        }
        buffer::grow(buf, additional, max)
    }

    fn held(&mut self, which: Held) -> &mut Vec<u8> {
        match which {
            Held::Arena => &mut self.arena,
            Held::Ctrl => &mut self.ctrl,
            Held::InflateScratch => &mut self.inflate_scratch,
        }
    }

    /// Fails the connection because a buffer could not grow.
    fn fail_grow(&mut self, e: GrowError) {
        let (code, reason) = self.grow_failure(e);
        self.fail(code, reason)
    }

    /// The close for a buffer that could not grow; running out of memory is
    /// also reported by `receive`.
    fn grow_failure(&mut self, e: GrowError) -> (u16, String) {
        match e {
            GrowError::OverBudget => {
                (1009, format!("message exceeds the connection's memory budget of {} bytes", self.memory_budget))
            }
            GrowError::NoMemory => {
                self.deferred_error = Some(Error::no_memory("receiving"));
                (1011, "out of memory".into())
            }
        }
    }

    /// Queues an event, failing the connection if the queue cannot grow.
    #[inline]
    fn queue(&mut self, q: Queued) {
        if self.events.push(q).is_err() {
            self.queue_failed();
        }
    }

    #[cold]
    fn queue_failed(&mut self) {
        self.deferred_error = Some(Error::no_memory("queueing an event"));
        self.reading = false;
        self.state = State::Closed;
    }

    /// The transport reached end of input. Unless the connection already
    /// closed (or a `Close` event is already queued), this queues a `Close`
    /// event with code 1006; taking it moves the connection to CLOSED.
    pub fn receive_eof(&mut self) -> Result<()> {
        if self.input_ended {
            return Ok(());
        }
        self.input_ended = true;
        self.compact();
        if self.phase == Phase::RejectBody {
            let ended = self.body.as_ref().map_or(Ok(()), |b| b.finish_at_eof());
            self.body = None;
            self.phase = Phase::Done;
            self.state = State::Closed;
            ended?;
            let start = self.arena.len();
            self.queue(Queued::RejectData { start, len: 0, finished: true });
            return Ok(());
        }
        if self.phase == Phase::Done && self.reading && !self.stash.is_empty() {
            // Frames held back while parsing paused come first; `resume`
            // finishes the end of input once they are parsed.
            return Ok(());
        }
        self.finish_eof();
        Ok(())
    }

    /// End of input once every byte before it was parsed.
    fn finish_eof(&mut self) {
        self.stash = Vec::new();
        self.reading = false;
        if self.state == State::Closed {
            // Nothing to report: closed by a handshake failure, a rejection
            // or a completed closing handshake.
        } else if !self.close_queued {
            let start = self.ctrl.len();
            self.queue_close(1006, start, 0, CloseSource::Eof);
        } else if !self.events.waiting().iter().any(|q| matches!(q, Queued::Close { .. })) {
            // The peer's close was already taken (REMOTE_CLOSING or
            // LOCAL_CLOSING); the transport is gone, so is the connection.
            self.state = State::Closed;
        }
    }

    /// The next event, if any. It borrows from the connection until the next
    /// mutating call.
    ///
    /// What earlier events borrowed is released here (the borrow has ended),
    /// and once every event was taken, input held back while parsing was
    /// paused is parsed.
    #[inline]
    pub fn next_event(&mut self) -> Option<Event<'_>> {
        if self.request_event {
            self.request_event = false;
            return Some(Event::Request(Request { req: self.request.as_ref()? }));
        }
        if self.events.front().is_some_and(|&q| is_plain(q)) {
            // Queued data, ping or pong: nothing else to do (the queue is
            // not empty, so there is nothing to release or parse either).
            return self.next_plain_event();
        }
        self.next_event_general()
    }

    /// `next_event` for everything but the request and a queued plain event.
    fn next_event_general(&mut self) -> Option<Event<'_>> {
        self.refill_events();
        let q = self.events.pop_front()?;
        if let Queued::Close { code, start, len, source } = q {
            self.apply_close(code, start, len, source);
        }
        if let Some(e) = plain_event(&self.arena, &self.ctrl, q) {
            return Some(e);
        }
        Some(match q {
            Queued::Accept => Event::Accept(Accept {
                resp: self.client.as_ref()?.response.as_ref()?,
                subprotocol: self.client.as_ref()?.accepted_subprotocol,
                extensions: &self.extensions,
            }),
            Queued::Reject { has_body } => {
                Event::Reject(Reject { resp: self.client.as_ref()?.response.as_ref()?, has_body })
            }
            Queued::Close { code, start, len, source } => {
                Event::Close { code, reason: std::str::from_utf8(&self.ctrl[start..start + len]).unwrap_or(""), source }
            }
            Queued::RejectData { .. } | Queued::Data { .. } | Queued::Ping { .. } | Queued::Pong { .. } => {
                unreachable!("plain events are built above")
            }
        })
    }

    /// The next event when it is a data, ping, pong or rejection-body one
    /// already queued (None otherwise, with nothing taken): exactly what
    /// `next_event` returns then, with none of its other work to do.
    #[inline(always)]
    pub(crate) fn next_plain_event(&mut self) -> Option<Event<'_>> {
        let q = *self.events.front()?;
        let e = plain_event(&self.arena, &self.ctrl, q)?;
        self.events.skip(1);
        Some(e)
    }

    /// `next_plain_event` in raw form, with one dispatch on the queued
    /// record and nothing that can panic (None, with nothing taken, also for
    /// a record whose bytes are out of range, which cannot happen:
    /// `next_event` would panic on it). The FFI's poll builds its C event
    /// from this without an `Event` in between.
    #[inline(always)]
    pub(crate) fn next_plain_raw(&mut self) -> Option<RawPlain<'_>> {
        let q = *self.events.front()?;
        let (kind, buf, start, len, finished): (_, &[u8], _, _, _) = match q {
            Queued::Data { kind, start, len, frame_finished, message_finished } => (
                match kind {
                    DataKind::Text => PlainKind::Text,
                    DataKind::Binary => PlainKind::Binary,
                },
                &self.arena,
                start,
                len,
                u8::from(frame_finished) | u8::from(message_finished) << 1,
            ),
            Queued::Ping { start, len } => (PlainKind::Ping, &self.ctrl, start, len, 0),
            Queued::Pong { start, len } => (PlainKind::Pong, &self.ctrl, start, len, 0),
            Queued::RejectData { start, len, finished } => {
                (PlainKind::RejectData, &self.arena, start, len, u8::from(finished) << 1)
            }
            Queued::Accept | Queued::Reject { .. } | Queued::Close { .. } => return None,
        };
        let data = buf.get(start..)?.get(..len)?;
        self.events.skip(1);
        Some(RawPlain { kind, finished, data })
    }

    /// The waiting events, oldest first, up to the first one whose taking
    /// does more than hand it out (a close or handshake event): data, ping,
    /// pong and rejection-body events, as `next_event` would return them.
    /// Mark the ones handed out as taken with `skip_plain_events`. The
    /// caller runs `refill_events` first (`next_event` does it each time);
    /// their data stays valid together until the next mutating call.
    #[inline(always)]
    pub(crate) fn plain_events(&self) -> impl Iterator<Item = Event<'_>> + '_ {
        let (arena, ctrl) = (&self.arena, &self.ctrl);
        self.events.waiting().iter().map_while(move |&q| plain_event(arena, ctrl, q))
    }

    /// Takes the first `n` events that `plain_events` listed.
    #[inline(always)]
    pub(crate) fn skip_plain_events(&mut self, n: usize) {
        debug_assert!(self.events.waiting()[..n].iter().all(|&q| is_plain(q)));
        self.events.skip(n);
    }

    /// An error from work `next_event` did on the side: an automatic close
    /// reply or pong the RNG could not mask (`Rng`; the frame was not sent),
    /// or memory that could not be had while parsing held-back input
    /// (`NoMemory`; the connection failed). `receive` reports it too.
    pub fn take_deferred_error(&mut self) -> Option<Error> {
        self.deferred_error.take()
    }

    /// When no event is queued: releases what earlier events borrowed and
    /// parses input held back while parsing was paused. Events already
    /// queued are left alone, so the data of several events taken one after
    /// the other (without this in between) stays valid together.
    #[inline]
    pub(crate) fn refill_events(&mut self) {
        if self.events.is_empty() {
            self.compact();
            self.resume();
        }
    }

    /// Whether an error from work done on the side waits for
    /// `take_deferred_error`.
    #[inline]
    pub(crate) fn has_deferred_error(&self) -> bool {
        self.deferred_error.is_some()
    }

    /// Whether the next queued event is a handshake one (request, accept,
    /// reject), which the FFI's compact batch poll does not carry.
    pub(crate) fn handshake_event_next(&self) -> bool {
        self.request_event || matches!(self.events.front(), Some(Queued::Accept | Queued::Reject { .. }))
    }

    /// Number of events waiting for `next_event`.
    pub fn pending_events(&self) -> usize {
        self.events.len() + usize::from(self.request_event)
    }

    // ---- Handshake, receiving side -------------------------------------

    /// Appends `data` to the stash and, once a whole head is there, splits it
    /// off. Returns the head, or None while it is incomplete.
    /// Only the head (at most `max_handshake_size` bytes and its blank line)
    /// is copied before the size check; what follows it stays in the stash.
    fn take_head(&mut self, data: &[u8], what: &str) -> Result<Option<Vec<u8>>> {
        let searched = self.stash.len().saturating_sub(3);
        let head_room = (self.max_handshake_size.saturating_add(4)).saturating_sub(self.stash.len());
        let (first, later) = data.split_at(data.len().min(head_room));
        buffer::extend(&mut self.stash, first, usize::MAX).map_err(|_| Error::no_memory("reading the head"))?;
        let end = handshake::find_head_end(&self.stash[searched..]).map(|n| n + searched);
        let too_big = match end {
            Some(n) => n > self.max_handshake_size,
            None => self.stash.len() > self.max_handshake_size || !later.is_empty(),
        };
        if end.is_none() {
            if let Err(e) = handshake::check_partial_head(&self.stash, what == "request") {
                self.stash = Vec::new();
                return Err(e);
            }
        }
        if too_big {
            self.stash = Vec::new();
            return Err(Error::handshake(
                431,
                format!("{what} head is larger than the limit of {} bytes", self.max_handshake_size),
            ));
        }
        let Some(n) = end else { return Ok(None) };
        let mut rest = Vec::new();
        let copied = rest
            .try_reserve_exact(self.stash.len() - n + later.len())
            .map_err(|_| Error::no_memory("holding input after the head"));
        copied?;
        rest.extend_from_slice(&self.stash[n..]);
        rest.extend_from_slice(later);
        self.stash.truncate(n);
        Ok(Some(std::mem::replace(&mut self.stash, rest)))
    }

    fn read_request(&mut self, data: &[u8]) -> Result<()> {
        // The fast path: a valid request whose whole head is in `data`, with
        // nothing received before (the usual case), parsed straight from
        // `data` (see [`handshake::parse_whole_request`]); the bytes after
        // the head are held as `take_head` holds them. Anything else goes
        // through `take_head` and `parse_request`, which then decide.
        if self.stash.is_empty() {
            if let Some((req, n)) =
                handshake::parse_whole_request(data, self.max_handshake_headers, self.max_handshake_size)
            {
                let rest = &data[n..];
                if !rest.is_empty() {
                    if self.stash.try_reserve_exact(rest.len()).is_err() {
                        return self.request_failed(Error::no_memory("holding input after the head"));
                    }
                    self.stash.extend_from_slice(rest);
                }
                self.request_read(req);
                return Ok(());
            }
        }
        let parsed = self
            .take_head(data, "request")
            .and_then(|head| head.map(|h| handshake::parse_request(h, self.max_handshake_headers)).transpose());
        match parsed {
            Ok(None) => Ok(()),
            Ok(Some(req)) => {
                self.request_read(req);
                Ok(())
            }
            Err(e) => self.request_failed(e),
        }
    }

    fn request_read(&mut self, req: ParsedRequest) {
        self.request = Some(req);
        self.phase = Phase::RequestReceived;
        self.request_event = true;
    }

    #[cold]
    fn request_failed(&mut self, e: Error) -> Result<()> {
        self.phase = Phase::RequestFailed;
        self.status_hint = if e.status_hint == 0 { 400 } else { e.status_hint };
        self.stash = Vec::new();
        Err(e)
    }

    /// The client handshake state (made by `send_request`; made empty here
    /// if a client somehow reads a response without it).
    fn client_state(&mut self) -> &mut ClientHandshake {
        self.client.get_or_insert_with(Box::default)
    }

    fn read_response(&mut self, data: &[u8]) -> Result<()> {
        let result = self.take_head(data, "response").and_then(|head| match head {
            None => Ok(()),
            Some(h) => self.handle_response(handshake::parse_response(h, self.max_handshake_headers)?),
        });
        if result.is_err() {
            self.state = State::Closed;
            self.phase = Phase::Done;
            self.reading = false;
            self.stash = Vec::new();
        }
        result
    }

    fn handle_response(&mut self, resp: ParsedResponse) -> Result<()> {
        if resp.status != 101 {
            let body = BodyDecoder::for_response(&resp)?;
            let has_body = body.has_body();
            self.client_state().response = Some(resp);
            self.queue(Queued::Reject { has_body });
            if has_body {
                self.state = State::Rejecting;
                self.phase = Phase::RejectBody;
                self.body = Some(body);
                let rest = std::mem::take(&mut self.stash);
                return self.read_reject_body(&rest);
            }
            self.state = State::Closed;
            self.phase = Phase::Done;
            self.stash = Vec::new();
            return Ok(());
        }
        let client = self.client_state();
        let accepted = handshake::validate_accept(&resp, &client.key, &client.offered_subprotocols)?;
        let values: Vec<&[u8]> = accepted.extensions.iter().map(|s| s.get(&resp.buf)).collect();
        if !values.is_empty() {
            let cfg = self
                .deflate_config
                .clone()
                .ok_or_else(|| Error::handshake(0, "the server accepted an extension although none was offered"))?;
            match deflate::client_accept(&cfg, &values)? {
                Some(params) => self.set_deflate(params, &cfg),
                None => return Err(Error::handshake(0, "the server accepted an extension that was not offered")),
            }
            self.extensions =
                values.iter().map(|v| String::from_utf8_lossy(v).into_owned()).collect::<Vec<_>>().join(", ");
        }
        let client = self.client_state();
        client.accepted_subprotocol = accepted.subprotocol;
        client.response = Some(resp);
        self.state = State::Open;
        self.phase = Phase::Done;
        self.queue(Queued::Accept);
        self.resume();
        self.deferred_error.take().map_or(Ok(()), Err)
    }

    fn read_reject_body(&mut self, data: &[u8]) -> Result<()> {
        let Some(body) = self.body.as_mut() else { return Ok(()) };
        let start = self.arena.len();
        let (_, finished) = match body.decode(data, &mut self.arena) {
            Ok(r) => r,
            Err(e) => {
                self.body = None;
                self.state = State::Closed;
                self.phase = Phase::Done;
                return Err(e);
            }
        };
        let len = self.arena.len() - start;
        if len > 0 || finished {
            self.queue(Queued::RejectData { start, len, finished });
        }
        if finished {
            self.body = None;
            self.state = State::Closed;
            self.phase = Phase::Done;
        }
        Ok(())
    }

    fn set_deflate(&mut self, params: DeflateParams, cfg: &DeflateConfig) {
        self.deflate = Some(Deflate::new(params, self.role == Role::Server, cfg));
        self.deflate_params = Some(params);
        if cfg.warm_up {
            // The first compressed message should allocate nothing: size the
            // compressor's output and the output buffer now, as far as an idle
            // connection may keep them anyway (idle_buffer_retain).
            let n = self.idle_retain.min(64 << 10);
            let _ = self.deflate_scratch.try_reserve_exact(n);
            let _ = self.out.try_reserve_exact(n.saturating_sub(self.out.len()));
        }
    }

    // ---- Frames, receiving side ----------------------------------------

    /// Parses frames from `data` until it is used up, reading stops or
    /// parsing pauses at a frame boundary (`frame_waits`); returns the bytes
    /// not parsed (empty once reading has stopped: they are ignored).
    fn process_frames<'d>(&mut self, mut data: &'d [u8]) -> &'d [u8] {
        let output_backed_up = self.output_backed_up();
        while self.reading && !data.is_empty() {
            let Some(f) = self.frame else {
                if self.header_len == 0 {
                    if self.frame_waits(data[0], output_backed_up) {
                        break;
                    }
                    if self.fast_receive && !self.stream && !output_backed_up {
                        let rest = self.receive_fast(data);
                        if rest.len() != data.len() {
                            data = rest;
                            continue;
                        }
                    }
                }
                data = self.read_header(data);
                continue;
            };
            let take = (f.remaining.min(data.len() as u64)) as usize;
            let (piece, rest) = data.split_at(take);
            data = rest;
            self.read_payload(piece);
        }
        if self.stream && self.frame.is_some() && self.message.is_some() {
            let f = self.frame.expect("checked");
            if !f.opcode.is_control() {
                self.emit_chunk(false, false);
            }
        }
        if self.reading {
            data
        } else {
            &[]
        }
    }

    /// Consumes header bytes from `data`; starts the frame once complete.
    fn read_header<'d>(&mut self, data: &'d [u8]) -> &'d [u8] {
        if self.header_len == 0 && data.len() >= 2 {
            let n = frame::header_len([data[0], data[1]]);
            if data.len() >= n {
                self.start_frame_from(&data[..n]);
                return &data[n..];
            }
        }
        let want = if self.header_len < 2 { 2 } else { frame::header_len([self.header[0], self.header[1]]) };
        let take = (want - self.header_len).min(data.len());
        self.header[self.header_len..self.header_len + take].copy_from_slice(&data[..take]);
        self.header_len += take;
        if self.header_len >= 2 && self.header_len == frame::header_len([self.header[0], self.header[1]]) {
            let h = self.header;
            let n = self.header_len;
            self.header_len = 0;
            self.start_frame_from(&h[..n]);
        }
        &data[take..]
    }

    fn start_frame_from(&mut self, bytes: &[u8]) {
        if let Err((code, reason)) = self.start_frame(bytes) {
            self.fail(code, reason);
            return;
        }
        if self.frame.is_some_and(|f| f.remaining == 0) {
            self.end_frame();
        }
    }

    /// Validates a header against RFC 6455 §5 and the limits, and sets up
    /// the frame (and message) it starts.
    fn start_frame(&mut self, bytes: &[u8]) -> std::result::Result<(), (u16, String)> {
        let h = frame::parse_header(bytes).map_err(|e| {
            let why = match e {
                frame::HeaderError::LengthTopBit => "64-bit payload length has its most significant bit set",
                frame::HeaderError::NonMinimalLength => "payload length is not minimally encoded",
            };
            (1002, why.to_string())
        })?;
        if h.rsv2 || h.rsv3 {
            return Err((1002, "reserved bits RSV2/RSV3 set without a negotiated extension".into()));
        }
        let opcode = Opcode::from_u8(h.opcode).ok_or_else(|| (1002, format!("reserved opcode {:#x}", h.opcode)))?;
        match (self.role, h.mask.is_some()) {
            (Role::Server, false) => return Err((1002, "client frame is not masked".into())),
            (Role::Client, true) => return Err((1002, "server frame is masked".into())),
            _ => {}
        }
        if opcode.is_control() {
            if !h.fin {
                return Err((1002, "fragmented control frame".into()));
            }
            if h.payload_len > MAX_CONTROL_PAYLOAD as u64 {
                return Err((1002, format!("control frame payload of {} bytes exceeds 125", h.payload_len)));
            }
            if h.rsv1 {
                return Err((1002, "RSV1 set on a control frame".into()));
            }
        } else {
            if h.rsv1 && self.deflate.is_none() {
                return Err((1002, "RSV1 set without a negotiated extension".into()));
            }
            match (opcode, self.message.is_some()) {
                (Opcode::Continuation, false) => {
                    return Err((1002, "continuation frame without a message to continue".into()))
                }
                (Opcode::Continuation, true) if h.rsv1 => {
                    return Err((1002, "RSV1 set on a continuation frame".into()))
                }
                (Opcode::Text | Opcode::Binary, true) => {
                    return Err((1002, "new data frame while a fragmented message is in progress".into()))
                }
                _ => {}
            }
        }
        if h.payload_len > self.max_frame_size {
            return Err((
                1009,
                format!("frame of {} bytes exceeds the limit of {}", h.payload_len, self.max_frame_size),
            ));
        }
        let mut ctrl_start = 0;
        if opcode.is_control() {
            ctrl_start = self.ctrl.len();
        } else {
            if opcode != Opcode::Continuation {
                self.message = Some(InMessage {
                    kind: if opcode == Opcode::Text { DataKind::Text } else { DataKind::Binary },
                    compressed: h.rsv1,
                    utf8: Utf8Validator::new(),
                    len: 0,
                    undelivered: self.arena.len(),
                    tail_fed: false,
                });
            }
            let m = self.message.as_ref().expect("set above");
            // Memory follows the bytes as they arrive: nothing is reserved
            // for the length the header claims.
            if !m.compressed && m.len.saturating_add(h.payload_len) > self.max_message_size {
                return Err((1009, self.too_big_reason()));
            }
        }
        self.frame =
            Some(InFrame { opcode, fin: h.fin, mask: h.mask, mask_offset: 0, remaining: h.payload_len, ctrl_start });
        Ok(())
    }

    fn too_big_reason(&self) -> String {
        format!("message exceeds the limit of {} bytes", self.max_message_size)
    }

    fn read_payload(&mut self, piece: &[u8]) {
        let Some(f) = self.frame.as_mut() else { return };
        f.remaining -= piece.len() as u64;
        let done = f.remaining == 0;
        if f.opcode.is_control() {
            let (key, offset) = (f.mask, f.mask_offset);
            if let Err(e) = self.make_room(Held::Ctrl, piece.len()) {
                return self.fail_grow(e);
            }
            let offset = unmask_append(&mut self.ctrl, piece, key, offset);
            self.frame.as_mut().expect("reading a frame").mask_offset = offset;
        } else if let Err((code, reason)) = self.read_data_payload(piece) {
            self.fail(code, reason);
            return;
        }
        if done {
            self.end_frame();
        }
    }

    /// Appends (and inflates) a piece of data payload to the arena and
    /// validates new text.
    fn read_data_payload(&mut self, piece: &[u8]) -> std::result::Result<(), (u16, String)> {
        let compressed = self.message.as_ref().expect("data frame belongs to a message").compressed;
        if compressed {
            self.inflate_scratch.clear();
            self.make_room(Held::InflateScratch, piece.len() + deflate::TAIL.len())
                .map_err(|e| self.grow_failure(e))?;
        } else {
            self.make_room(Held::Arena, piece.len()).map_err(|e| self.grow_failure(e))?;
        }
        let budget_room = if compressed { self.inflate_budget_room() } else { 0 };
        let m = self.message.as_mut().expect("data frame belongs to a message");
        let f = self.frame.as_mut().expect("reading a frame");
        let text = m.kind == DataKind::Text;
        let invalid = || (1007, "text message is not valid UTF-8".to_string());
        if m.compressed {
            let start = self.arena.len();
            f.mask_offset = unmask_append(&mut self.inflate_scratch, piece, f.mask, f.mask_offset);
            if f.fin && f.remaining == 0 {
                // The message ends with this piece: inflate it together with
                // the stripped tail, in one call.
                self.inflate_scratch.extend_from_slice(&deflate::TAIL);
                m.tail_fed = true;
            }
            let d = self.deflate.as_mut().expect("compressed messages need deflate");
            let limit = InflateLimit::new(self.max_message_size, m.len, budget_room, self.memory_budget);
            d.inflate(&self.inflate_scratch, &mut self.arena, start.saturating_add(limit.room))
                .map_err(|e| limit.failure(e, &mut self.deferred_error))?;
            m.len += (self.arena.len() - start) as u64;
            if text && m.utf8.feed(&self.arena[start..]).is_err() {
                return Err(invalid());
            }
            return Ok(());
        }
        let start = self.arena.len();
        f.mask_offset = unmask_append(&mut self.arena, piece, f.mask, f.mask_offset);
        m.len += piece.len() as u64;
        if text && m.utf8.feed(&self.arena[start..]).is_err() {
            return Err(invalid());
        }
        Ok(())
    }

    fn end_frame(&mut self) {
        let Some(f) = self.frame.take() else { return };
        match f.opcode {
            Opcode::Ping => self.end_ping(f.ctrl_start),
            Opcode::Pong => {
                let len = self.ctrl.len() - f.ctrl_start;
                self.queue(Queued::Pong { start: f.ctrl_start, len });
            }
            Opcode::Close => self.end_close(f.ctrl_start),
            _ => {
                if let Err((code, reason)) = self.end_data_frame(f.fin) {
                    self.fail(code, reason);
                }
            }
        }
    }

    fn end_ping(&mut self, start: usize) {
        let len = self.ctrl.len() - start;
        self.queue(Queued::Ping { start, len });
        if self.auto_pong && self.state == State::Open {
            let mut payload = [0u8; MAX_CONTROL_PAYLOAD];
            payload[..len].copy_from_slice(&self.ctrl[start..]);
            // While output is backed up, a peer that pings and never reads
            // would grow it without end: hold one pong for the latest ping.
            self.pending_pong = Some((payload, len as u8));
            if !self.output_backed_up() {
                self.flush_pending_pong();
            }
        }
    }

    /// Writes the held auto-pong, if any.
    fn flush_pending_pong(&mut self) {
        if let Some((payload, len)) = self.pending_pong.take() {
            if let Err(e) = self.write_frame(Opcode::Pong, true, false, &payload[..len as usize]) {
                self.deferred_error = Some(e);
            }
        }
    }

    fn end_close(&mut self, start: usize) {
        let payload = &self.ctrl[start..];
        let code = match payload.len() {
            0 => 1005,
            1 => return self.fail(1002, "close frame with a 1-byte payload".into()),
            _ => u16::from_be_bytes([payload[0], payload[1]]),
        };
        if payload.len() >= 2 {
            if !frame::close_code_valid(code) {
                return self.fail(1002, format!("invalid close code {code}"));
            }
            if std::str::from_utf8(&payload[2..]).is_err() {
                return self.fail(1007, "close reason is not valid UTF-8".into());
            }
        }
        let reason_start = start + payload.len().min(2);
        let len = self.ctrl.len() - reason_start;
        self.queue_close(code, reason_start, len, CloseSource::Peer);
        self.message = None;
    }

    /// Queues a `Close` event and stops reading. Its effects (state change,
    /// close frame) happen when the event is taken, as in Python wsproto: a
    /// message that arrived before the close can still be answered.
    fn queue_close(&mut self, code: u16, start: usize, len: usize, source: CloseSource) {
        self.reading = false;
        if !self.close_queued {
            self.close_queued = true;
            self.queue(Queued::Close { code, start, len, source });
        }
    }

    /// What taking a `Close` event does: the state moves on and, where the
    /// protocol wants one, a close frame is queued (the auto-reply to a
    /// peer's close, or the close that fails the connection).
    fn apply_close(&mut self, code: u16, start: usize, len: usize, source: CloseSource) {
        let reply = match (source, self.state) {
            (CloseSource::Peer, State::Open) if self.auto_close_reply => {
                Some(if code == 1005 { None } else { Some(code) })
            }
            (CloseSource::Peer, State::Open) if !self.input_ended => {
                self.state = State::RemoteClosing;
                return;
            }
            (CloseSource::Violation, _) if !self.close_sent => Some(Some(code)),
            _ => None,
        };
        if let Some(code) = reply {
            let mut reason = [0u8; MAX_CONTROL_PAYLOAD - 2];
            let n = if source == CloseSource::Violation {
                let text = std::str::from_utf8(&self.ctrl[start..start + len]).unwrap_or("");
                let n = text.floor_char_boundary_compat(reason.len());
                reason[..n].copy_from_slice(&text.as_bytes()[..n]);
                n
            } else {
                0
            };
            let reason = std::str::from_utf8(&reason[..n]).unwrap_or("");
            if let Err(e) = self.write_close(code, reason) {
                self.deferred_error = Some(e);
            }
        }
        self.state = State::Closed;
    }

    fn end_data_frame(&mut self, fin: bool) -> std::result::Result<(), (u16, String)> {
        let m = self.message.as_ref().expect("data frame belongs to a message");
        let budget_room = if fin && m.compressed && !m.tail_fed { self.inflate_budget_room() } else { 0 };
        let m = self.message.as_mut().expect("data frame belongs to a message");
        if fin && m.compressed && m.tail_fed {
            self.deflate.as_mut().expect("compressed messages need deflate").end_message();
        } else if fin && m.compressed {
            let start = self.arena.len();
            let d = self.deflate.as_mut().expect("compressed messages need deflate");
            let limit = InflateLimit::new(self.max_message_size, m.len, budget_room, self.memory_budget);
            d.inflate_finish(&mut self.arena, start.saturating_add(limit.room))
                .map_err(|e| limit.failure(e, &mut self.deferred_error))?;
            m.len += (self.arena.len() - start) as u64;
            if m.kind == DataKind::Text && m.utf8.feed(&self.arena[start..]).is_err() {
                return Err((1007, "text message is not valid UTF-8".into()));
            }
        }
        if fin && m.kind == DataKind::Text && m.utf8.finish().is_err() {
            return Err((1007, "text message ends inside a UTF-8 sequence".into()));
        }
        if self.stream {
            self.emit_chunk(true, fin);
        } else if fin {
            let (kind, start) = (m.kind, m.undelivered);
            let len = self.arena.len() - start;
            self.message = None;
            self.queue(Queued::Data { kind, start, len, frame_finished: true, message_finished: true });
        }
        Ok(())
    }

    /// How much more the arena may take while inflating, within the budget.
    fn inflate_budget_room(&self) -> usize {
        self.memory_budget.saturating_sub(self.memory_used()).saturating_sub(INFLATE_SLACK)
    }

    /// Stream mode: hands out what has arrived of the current message (text
    /// up to the last complete code point).
    fn emit_chunk(&mut self, frame_finished: bool, message_finished: bool) {
        let Some(m) = self.message.as_mut() else { return };
        let end = self.arena.len() - m.utf8.pending();
        if end == m.undelivered && !frame_finished {
            return;
        }
        let (kind, start) = (m.kind, m.undelivered);
        m.undelivered = end;
        if message_finished {
            self.message = None;
        }
        self.queue(Queued::Data { kind, start, len: end - start, frame_finished, message_finished });
    }

    /// Fails the connection (RFC 6455 §7.1.7): reports a `Close` event with
    /// `code`, sends a close frame unless one was sent, stops reading.
    fn fail(&mut self, code: u16, reason: String) {
        self.frame = None;
        self.message = None;
        self.reading = false;
        let start = self.ctrl.len();
        self.ctrl.extend_from_slice(reason.as_bytes());
        self.queue_close(code, start, reason.len(), CloseSource::Violation);
    }

    /// Releases delivered bytes once no queued event borrows them.
    fn compact(&mut self) {
        if !self.events.is_empty() {
            return;
        }
        let used = self.arena.len();
        let keep = self.message.as_ref().map_or(used, |m| m.undelivered);
        if keep > 0 {
            self.arena.drain(..keep);
            if let Some(m) = self.message.as_mut() {
                m.undelivered = 0;
            }
        }
        if self.arena.is_empty() && self.arena.capacity() > self.idle_retain {
            // What the last batch used, not the capacity it left: one large
            // message must not make every later small one allocate 1 MiB.
            self.arena_hint = used.min(ARENA_HINT_MAX);
        }
        buffer::release_idle(&mut self.arena, self.idle_retain);
        self.inflate_scratch.clear();
        buffer::release_idle(&mut self.inflate_scratch, self.idle_retain);
        let ctrl_keep = match self.frame {
            Some(f) if f.opcode.is_control() => f.ctrl_start,
            _ => self.ctrl.len(),
        };
        if ctrl_keep > 0 {
            self.ctrl.drain(..ctrl_keep);
            if let Some(f) = self.frame.as_mut() {
                f.ctrl_start = 0;
            }
        }
        buffer::release_idle(&mut self.ctrl, self.idle_retain);
        // Grown back at once, like the arena, to at most 64 KiB of slots.
        self.events.release_idle(self.idle_retain, ARENA_HINT_MAX / std::mem::size_of::<Queued>());
        if self.stash.is_empty() {
            buffer::release_idle(&mut self.stash, self.idle_retain);
        }
    }

    // ---- Sending -------------------------------------------------------

    #[inline]
    fn mask_key(&mut self) -> Result<Option<[u8; 4]>> {
        match self.role {
            Role::Client => match self.rng.pooled_key() {
                Some(k) => Ok(Some(k)),
                None => self.rng.mask_key().map(Some),
            },
            Role::Server => Ok(None),
        }
    }

    /// Appends one frame, masked when we are the client.
    #[inline]
    fn write_frame(&mut self, opcode: Opcode, fin: bool, rsv1: bool, payload: &[u8]) -> Result<()> {
        let key = self.mask_key()?;
        let need = MAX_HEADER_LEN + payload.len();
        if self.out.capacity() - self.out.len() < need {
            self.grow_output(need)?;
        }
        frame::write_header(&mut self.out, fin, rsv1, opcode, key, payload.len() as u64);
        match key {
            Some(k) => {
                mask::extend_masked(&mut self.out, payload, k, 0);
            }
            None => self.out.extend_from_slice(payload),
        }
        Ok(())
    }

    /// Makes room for `need` more output bytes, copying as little as
    /// possible: written bytes are dropped first (only pending ones move),
    /// an empty buffer is replaced rather than reallocated (nothing to
    /// copy), and capacity at least doubles, so a stream of sends copies
    /// each pending byte O(1) times.
    #[cold]
    fn grow_output(&mut self, need: usize) -> Result<()> {
        let no_memory = || Error::no_memory("queueing output");
        if self.out_pos > 0 {
            self.out.drain(..self.out_pos);
            self.out_pos = 0;
            if self.out.capacity() - self.out.len() >= need {
                return Ok(());
            }
        }
        let target = self.out.len().checked_add(need).ok_or_else(no_memory)?.max(self.out.capacity().saturating_mul(2));
        if self.out.is_empty() {
            // Freed after the last drain: allocate what that batch used (or
            // only what is needed, if the allocator refuses that much).
            let mut fresh = Vec::new();
            if fresh.try_reserve_exact(target.max(self.out_hint)).is_err() {
                fresh.try_reserve_exact(target).map_err(|_| no_memory())?;
            }
            self.out = fresh;
            return Ok(());
        }
        self.out.try_reserve_exact(target - self.out.len()).map_err(|_| no_memory())
    }

    fn write_close(&mut self, code: Option<u16>, reason: &str) -> Result<()> {
        let mut payload = [0u8; MAX_CONTROL_PAYLOAD];
        let len = match code {
            Some(c) => {
                payload[..2].copy_from_slice(&c.to_be_bytes());
                payload[2..2 + reason.len()].copy_from_slice(reason.as_bytes());
                2 + reason.len()
            }
            None => 0,
        };
        // A pong held back for output space goes first: nothing may follow a close.
        self.flush_pending_pong();
        self.write_frame(Opcode::Close, true, false, &payload[..len])?;
        self.close_sent = true;
        self.sending = None;
        Ok(())
    }

    fn require_open(&self, what: &str) -> Result<()> {
        match self.state {
            State::Open | State::RemoteClosing => Ok(()),
            s => Err(Error::new(ErrorKind::WrongState, format!("cannot send {what} in state {s:?}"))),
        }
    }

    /// Client: writes the upgrade request. `host` and `target` as in the
    /// request line; subprotocols in order of preference; the
    /// permessage-deflate offer comes from the config.
    pub fn send_request(
        &mut self,
        host: &str,
        target: &str,
        subprotocols: &[&str],
        extra_headers: &[(&str, &str)],
    ) -> Result<()> {
        if self.role != Role::Client || self.phase != Phase::RequestNotSent {
            return Err(Error::new(ErrorKind::WrongState, "the request can be sent once, by a client"));
        }
        let mut nonce = [0u8; 16];
        self.rng.fill(&mut nonce)?;
        let key = handshake::key_from_nonce(&nonce);
        let key = std::str::from_utf8(&key).expect("base64 is ASCII");
        let offer = self.deflate_config.as_ref().map(deflate::client_offer);
        handshake::write_request(&mut self.out, host, target, key, subprotocols, offer.as_deref(), extra_headers)?;
        self.client = Some(Box::new(ClientHandshake {
            key: key.to_string(),
            offered_subprotocols: subprotocols.iter().map(|s| s.to_string()).collect(),
            response: None,
            accepted_subprotocol: None,
        }));
        self.phase = Phase::AwaitResponse;
        Ok(())
    }

    /// Server: accepts the request with an optional subprotocol (which the
    /// client must have offered). Negotiates permessage-deflate per config.
    /// Frames that arrived early are parsed now.
    pub fn accept(&mut self, subprotocol: Option<&str>, extra_headers: &[(&str, &str)]) -> Result<()> {
        if self.role != Role::Server || self.phase != Phase::RequestReceived {
            return Err(Error::new(ErrorKind::WrongState, "accept needs a received, valid request"));
        }
        if self.input_ended || self.state != State::Connecting {
            return Err(Error::new(ErrorKind::WrongState, "the client is gone (end of input or closed)"));
        }
        let req = self.request.as_ref().expect("request received");
        if let Some(p) = subprotocol {
            if !req.subprotocols.iter().any(|s| s.get(&req.buf) == p.as_bytes()) {
                return Err(Error::new(
                    ErrorKind::InvalidArgument,
                    format!("subprotocol {p:?} was not offered by the client"),
                ));
            }
        }
        let negotiated = self.deflate_config.as_ref().and_then(|cfg| {
            let offers: Vec<&[u8]> = req.extensions.iter().map(|s| s.get(&req.buf)).collect();
            deflate::server_negotiate(cfg, &offers)
        });
        let ext = negotiated.as_ref().map(|(_, v)| v.as_str());
        handshake::check_accept(subprotocol, ext, extra_headers)?;
        let accept = handshake::accept_token(req.key.get(&req.buf));
        if self.out.capacity() == 0 {
            // The request is answered now: its head buffer, which nothing
            // needs any more, takes the response (a server has written
            // nothing before its 101), one allocation fewer per handshake.
            if let Some(req) = self.request.as_mut() {
                self.out = std::mem::take(&mut req.buf);
                self.out.clear();
            }
        }
        handshake::write_checked_accept(&mut self.out, &accept, subprotocol, ext, extra_headers);
        if let Some((params, value)) = negotiated {
            let cfg = self.deflate_config.clone().expect("negotiated from config");
            self.set_deflate(params, &cfg);
            self.extensions = value;
        }
        self.state = State::Open;
        self.phase = Phase::Done;
        self.forget_request();
        self.resume();
        self.deferred_error.take().map_or(Ok(()), Err)
    }

    /// The request has been answered: its data (up to the whole head, and
    /// every offered subprotocol) is not kept for the connection's life.
    fn forget_request(&mut self) {
        self.request = None;
        self.request_event = false;
    }

    /// Server: rejects the request (also after a `Handshake` error) with an
    /// HTTP status. With `has_body`, send the body with `reject_data`.
    pub fn reject(&mut self, status: u16, headers: &[(&str, &str)], has_body: bool) -> Result<()> {
        if self.role != Role::Server || !matches!(self.phase, Phase::RequestReceived | Phase::RequestFailed) {
            return Err(Error::new(ErrorKind::WrongState, "reject needs a pending request"));
        }
        if self.input_ended || self.state != State::Connecting {
            return Err(Error::new(ErrorKind::WrongState, "the client is gone (end of input or closed)"));
        }
        handshake::write_reject(&mut self.out, status, headers, has_body)?;
        self.phase = Phase::Done;
        self.forget_request();
        self.stash = Vec::new();
        self.reading = false;
        self.state = if has_body { State::Rejecting } else { State::Closed };
        Ok(())
    }

    /// Server: a chunk of the rejection body; `body_finished` ends it (CLOSED).
    pub fn reject_data(&mut self, data: &[u8], body_finished: bool) -> Result<()> {
        if self.role != Role::Server || self.state != State::Rejecting {
            return Err(Error::new(ErrorKind::WrongState, "reject_data needs a rejection with a body"));
        }
        self.out.extend_from_slice(data);
        if body_finished {
            self.state = State::Closed;
        }
        Ok(())
    }

    /// Sends a message, or a fragment of one (`fin` false: more follow, sent
    /// by further calls with the same kind). Text must be UTF-8 (a code point
    /// may straddle fragments). With permessage-deflate negotiated, the message
    /// is compressed unless `allow_compression` is false or a whole message is
    /// below the configured threshold.
    pub fn send_data(&mut self, kind: DataKind, data: &[u8], fin: bool, allow_compression: bool) -> Result<()> {
        self.send_data_with(kind, data, SendOptions { fin, allow_compression, trusted_utf8: false })
    }

    /// [`send_data`](Self::send_data) with every option, among them
    /// `trusted_utf8` (text already known valid is not checked again).
    /// The payload is queued in the output buffer; see also the zero-copy
    /// [`encode_data`](Self::encode_data) and
    /// [`encode_header`](Self::encode_header).
    #[inline]
    pub fn send_data_with(&mut self, kind: DataKind, data: &[u8], o: SendOptions) -> Result<()> {
        // A whole small message in the common case (no fragmented one in
        // progress, no compression negotiated, open) goes out in one pass;
        // everything else, and anything that pass refuses, takes the general
        // path, which decides the same way.
        if data.len() <= mask_send::SMALL_MAX && self.plain_whole(o) && self.send_small(kind, data, o.trusted_utf8) {
            return Ok(());
        }
        self.send_data_general(kind, data, o)
    }

    /// The one-pass send of a whole small message alone, as
    /// [`send_data_with`](Self::send_data_with) with `fin` (and any
    /// `allow_compression`) tries it first: true when the message was
    /// queued; false, with nothing changed, when that path does not apply
    /// (then `send_data_with` decides, including every error). For callers
    /// that keep the general path out of line (the C API). Not inlined: a
    /// leaf of its own keeps the caller's panic boundary small enough to be
    /// inlined into the export, with the arguments in registers.
    #[inline(never)]
    pub(crate) fn try_send_small(&mut self, kind: DataKind, data: &[u8], trusted_utf8: bool) -> bool {
        data.len() <= mask_send::SMALL_MAX
            && self.plain_whole(SendOptions { fin: true, allow_compression: true, trusted_utf8 })
            && self.send_small(kind, data, trusted_utf8)
    }

    /// Can a whole message go out without the state machine's bookkeeping:
    /// `o.fin`, no fragmented message in progress, no compression
    /// negotiated, and open for sending?
    #[inline(always)]
    fn plain_whole(&self, o: SendOptions) -> bool {
        o.fin
            && self.sending.is_none()
            && self.deflate.is_none()
            && matches!(self.state, State::Open | State::RemoteClosing)
    }

    #[inline(never)]
    fn send_data_general(&mut self, kind: DataKind, data: &[u8], o: SendOptions) -> Result<()> {
        if self.plain_whole(o) {
            let opcode = match kind {
                DataKind::Text if !o.trusted_utf8 && !utf8::is_valid(data) => return Err(not_utf8()),
                DataKind::Text => Opcode::Text,
                DataKind::Binary => Opcode::Binary,
            };
            return self.write_frame(opcode, true, false, data);
        }
        self.send_data_planned(kind, data, o)
    }

    /// A whole small message (`plain_whole` checked by the caller) in one
    /// pass: header, key and payload written by `mask_send` with the ASCII
    /// check fused in. False, with nothing changed, when it does not apply
    /// (the output needs to grow, the key pool a refill, or the text is not
    /// valid UTF-8): then the general path runs and decides (the error, the
    /// growth, the refill). The key is taken only once the frame is
    /// committed, so the key stream stays as the general path leaves it.
    #[inline(always)]
    fn send_small(&mut self, kind: DataKind, data: &[u8], trusted_utf8: bool) -> bool {
        if self.out.capacity() - self.out.len() < data.len() + mask_send::SMALL_SLACK {
            return false;
        }
        let (b0, text) = match kind {
            DataKind::Text => (0x80 | Opcode::Text as u8, !trusted_utf8),
            DataKind::Binary => (0x80 | Opcode::Binary as u8, false),
        };
        // One writer per role, each with its header layout known.
        match self.role {
            Role::Client => {
                let Some(key) = self.rng.peek_key() else {
                    return false;
                };
                if !mask_send::append_small_frame(&mut self.out, b0, Some(key), data, text) {
                    return false;
                }
                self.rng.take_key();
                true
            }
            Role::Server => mask_send::append_small_frame(&mut self.out, b0, None, data, text),
        }
    }

    fn send_data_planned(&mut self, kind: DataKind, data: &[u8], o: SendOptions) -> Result<()> {
        let p = self.plan_data(kind, data, o)?;
        if p.compressed {
            let mut compressed = std::mem::take(&mut self.deflate_scratch);
            compressed.clear();
            let r = self.deflate.as_mut().expect("compression negotiated").deflate(data, p.fin, &mut compressed);
            let r = r.map_err(Error::from).and_then(|()| self.write_frame(p.opcode, p.fin, p.rsv1, &compressed));
            compressed.clear();
            buffer::release_idle(&mut compressed, self.idle_retain);
            self.deflate_scratch = compressed;
            r?;
        } else {
            self.write_frame(p.opcode, p.fin, false, data)?;
        }
        self.sending = p.next;
        Ok(())
    }

    /// Checks a data send against the state machine, the message being
    /// fragmented and UTF-8, and says what goes on the wire. Changes nothing.
    #[inline]
    fn plan_data(&self, kind: DataKind, data: &[u8], o: SendOptions) -> Result<Plan> {
        self.require_open("a message")?;
        let compress =
            o.allow_compression && self.deflate.as_ref().is_some_and(|d| !o.fin || data.len() >= d.threshold());
        if o.fin && self.sending.is_none() && !compress {
            // A whole, uncompressed message: the common case, without the
            // bookkeeping fragments need.
            let opcode = match kind {
                DataKind::Text if !o.trusted_utf8 && !utf8::is_valid(data) => return Err(not_utf8()),
                DataKind::Text => Opcode::Text,
                DataKind::Binary => Opcode::Binary,
            };
            return Ok(Plan { opcode, fin: true, rsv1: false, compressed: false, next: None });
        }
        let (mut msg, first) = match self.sending {
            Some(m) if m.kind != kind => {
                return Err(Error::new(
                    ErrorKind::WrongState,
                    format!("a {:?} message is being sent in fragments; finish it first", m.kind),
                ))
            }
            Some(m) => (m, false),
            None => (OutMessage { kind, compressed: compress, utf8: Utf8Validator::new(), trusted: false }, true),
        };
        if kind == DataKind::Text {
            msg.trusted |= o.trusted_utf8;
            if !msg.trusted {
                let bad = msg.utf8.feed(data).is_err() || (o.fin && msg.utf8.finish().is_err());
                if bad {
                    return Err(not_utf8());
                }
            }
        }
        let opcode = match (first, kind) {
            (false, _) => Opcode::Continuation,
            (true, DataKind::Text) => Opcode::Text,
            (true, DataKind::Binary) => Opcode::Binary,
        };
        Ok(Plan {
            opcode,
            fin: o.fin,
            rsv1: first && msg.compressed,
            compressed: msg.compressed,
            next: if o.fin { None } else { Some(msg) },
        })
    }

    /// Sends a whole text message.
    pub fn send_text(&mut self, text: &str) -> Result<()> {
        self.send_data(DataKind::Text, text.as_bytes(), true, true)
    }

    /// Sends a whole binary message.
    pub fn send_binary(&mut self, data: &[u8]) -> Result<()> {
        self.send_data(DataKind::Binary, data, true, true)
    }

    fn send_control(&mut self, opcode: Opcode, payload: &[u8]) -> Result<()> {
        self.require_open("a control frame")?;
        if payload.len() > MAX_CONTROL_PAYLOAD {
            return Err(Error::new(ErrorKind::InvalidArgument, "control frame payload exceeds 125 bytes"));
        }
        self.write_frame(opcode, true, false, payload)
    }

    pub fn send_ping(&mut self, payload: &[u8]) -> Result<()> {
        self.send_control(Opcode::Ping, payload)
    }

    pub fn send_pong(&mut self, payload: &[u8]) -> Result<()> {
        self.send_control(Opcode::Pong, payload)
    }

    /// Starts (OPEN → LOCAL_CLOSING) or completes (REMOTE_CLOSING → CLOSED)
    /// the closing handshake. `code` None (or 1005) sends no status code and
    /// then `reason` must be empty; otherwise the code must be one that may
    /// appear on the wire (1000-1003, 1007-1014, 3000-4999) and the reason at
    /// most 123 bytes.
    pub fn send_close(&mut self, code: Option<u16>, reason: &str) -> Result<()> {
        let next = match self.state {
            State::Open => State::LocalClosing,
            State::RemoteClosing => State::Closed,
            s => return Err(Error::new(ErrorKind::WrongState, format!("cannot send a close in state {s:?}"))),
        };
        let code = code.filter(|&c| c != 1005);
        match code {
            None if !reason.is_empty() => {
                return Err(Error::new(ErrorKind::InvalidArgument, "a close reason needs a status code"))
            }
            Some(c) if !frame::close_code_valid(c) => {
                return Err(Error::new(ErrorKind::InvalidArgument, format!("close code {c} may not be sent")))
            }
            _ if reason.len() > MAX_CONTROL_PAYLOAD - 2 => {
                return Err(Error::new(ErrorKind::InvalidArgument, "close reason exceeds 123 bytes"))
            }
            _ => {}
        }
        self.write_close(code, reason)?;
        self.state = next;
        Ok(())
    }

    // ---- Output --------------------------------------------------------

    /// Bytes waiting to be written to the transport.
    pub fn output(&self) -> &[u8] {
        &self.out[self.out_pos..]
    }

    /// `output().len()`, without the slice's bounds check.
    #[inline]
    pub fn output_len(&self) -> usize {
        self.out.len() - self.out_pos
    }

    /// Marks the first `n` bytes of `output()` as written (`n` is clamped to
    /// what is pending).
    pub fn consume_output(&mut self, n: usize) {
        self.out_pos = (self.out_pos + n).min(self.out.len());
        if self.out_pos == self.out.len() {
            if self.out.capacity() > self.idle_retain {
                // What this batch used, not the capacity it left: one large
                // message must not make every later small one allocate 1 MiB.
                // (With a frame header's room, which the last send of a
                // batch as large as this one still asks to have spare.)
                self.out_hint = (self.out.len() + MAX_HEADER_LEN).min(OUT_HINT_MAX);
            }
            self.out.clear();
            self.out_pos = 0;
            buffer::release_idle(&mut self.out, self.idle_retain);
        } else if self.out_pos > COMPACT_OUTPUT_AFTER && self.out_pos > self.out.len() / 2 {
            self.out.drain(..self.out_pos);
            self.out_pos = 0;
        }
        if self.pending_pong.is_some() && !self.output_backed_up() {
            self.flush_pending_pong();
        }
    }

    /// Copies up to `buf.len()` pending output bytes into `buf`, consuming them.
    pub fn take_output(&mut self, buf: &mut [u8]) -> usize {
        let pending = self.output();
        let n = pending.len().min(buf.len());
        buf[..n].copy_from_slice(&pending[..n]);
        self.consume_output(n);
        n
    }

    /// True once the closing handshake is over (or the connection failed or
    /// was rejected) and all output is written: close the transport now.
    pub fn wants_close_transport(&self) -> bool {
        self.state == State::Closed && self.output().is_empty()
    }

    /// The permessage-deflate parameters in force, if negotiated.
    pub fn negotiated_deflate(&self) -> Option<DeflateParams> {
        self.deflate_params
    }

    /// The subprotocol the server chose (client, after `Accept`).
    pub fn subprotocol(&self) -> Option<&str> {
        let client = self.client.as_ref()?;
        let resp = client.response.as_ref()?;
        client.accepted_subprotocol.map(|s| s.str(&resp.buf))
    }

    /// Server, after a `Handshake` error: the status to reject with (400,
    /// 426 or 431); 0 before any such error.
    pub fn handshake_status_hint(&self) -> u16 {
        self.status_hint
    }

    /// Input bytes held while waiting for a complete handshake head, frame
    /// header or message. A server can use it, with its own clock, to drop
    /// peers that trickle bytes.
    pub fn buffered_input(&self) -> usize {
        let undelivered = self.message.as_ref().map_or(0, |m| self.arena.len() - m.undelivered);
        self.stash.len() + self.header_len + undelivered
    }
}

#[cold]
/// Whether taking `q` does nothing but hand it out (see `plain_event`).
#[inline(always)]
fn is_plain(q: Queued) -> bool {
    matches!(q, Queued::Data { .. } | Queued::Ping { .. } | Queued::Pong { .. } | Queued::RejectData { .. })
}

/// The event for a queued data, ping, pong or rejection-body record, whose
/// data lives in `arena` or `ctrl`; None for the other kinds.
#[inline(always)]
fn plain_event<'a>(arena: &'a [u8], ctrl: &'a [u8], q: Queued) -> Option<Event<'a>> {
    Some(match q {
        Queued::Data { kind, start, len, frame_finished, message_finished } => {
            Event::Data { kind, data: &arena[start..start + len], frame_finished, message_finished }
        }
        Queued::Ping { start, len } => Event::Ping(&ctrl[start..start + len]),
        Queued::Pong { start, len } => Event::Pong(&ctrl[start..start + len]),
        Queued::RejectData { start, len, finished } => {
            Event::RejectData { data: &arena[start..start + len], body_finished: finished }
        }
        Queued::Accept | Queued::Reject { .. } | Queued::Close { .. } => return None,
    })
}

fn not_utf8() -> Error {
    Error::new(ErrorKind::InvalidArgument, "text is not valid UTF-8")
}

/// Appends `piece` to `dst`, unmasking it when the frame is masked; returns
/// the key offset for the frame's next piece.
fn unmask_append(dst: &mut Vec<u8>, piece: &[u8], key: Option<[u8; 4]>, offset: usize) -> usize {
    match key {
        Some(k) => mask::extend_masked(dst, piece, k, offset),
        None => {
            dst.extend_from_slice(piece);
            offset
        }
    }
}

fn request_heap(r: &ParsedRequest) -> usize {
    r.buf.capacity()
        + r.subprotocols.capacity() * std::mem::size_of::<Span>()
        + r.extensions.capacity() * std::mem::size_of::<Span>()
        + r.headers.capacity() * std::mem::size_of::<handshake::HeaderSpan>()
}

fn response_heap(r: &ParsedResponse) -> usize {
    r.buf.capacity() + r.headers.capacity() * std::mem::size_of::<handshake::HeaderSpan>()
}

/// How far a message may still inflate: the message limit or the memory
/// budget, whichever is nearer, with saturating arithmetic (`u64::MAX` is
/// "no limit" and must neither overflow nor wrap into a small limit).
struct InflateLimit {
    room: usize,
    by_budget: bool,
    max_message_size: u64,
    budget: usize,
}

impl InflateLimit {
    fn new(max_message_size: u64, so_far: u64, budget_room: usize, budget: usize) -> InflateLimit {
        let message_room = usize::try_from(max_message_size.saturating_sub(so_far)).unwrap_or(usize::MAX);
        InflateLimit {
            room: message_room.min(budget_room),
            by_budget: budget_room < message_room,
            max_message_size,
            budget,
        }
    }

    /// The close for `e`; running out of memory is also reported by `receive`.
    fn failure(&self, e: InflateError, deferred: &mut Option<Error>) -> (u16, String) {
        if e == InflateError::NoMemory {
            *deferred = Some(Error::no_memory("inflating a message"));
        }
        match e {
            InflateError::TooBig if self.by_budget => {
                (1009, format!("inflated message exceeds the connection's memory budget of {} bytes", self.budget))
            }
            InflateError::TooBig => {
                (1009, format!("inflated message exceeds the limit of {} bytes", self.max_message_size))
            }
            InflateError::Corrupt => (1007, "compressed message data is corrupt".into()),
            InflateError::NoMemory => (1011, "out of memory inflating a message".into()),
        }
    }
}

/// `str::floor_char_boundary` is unstable; this is the same for our use.
trait FloorCharBoundary {
    fn floor_char_boundary_compat(&self, i: usize) -> usize;
}

impl FloorCharBoundary for str {
    fn floor_char_boundary_compat(&self, mut i: usize) -> usize {
        if i >= self.len() {
            return self.len();
        }
        while !self.is_char_boundary(i) {
            i -= 1;
        }
        i
    }
}
