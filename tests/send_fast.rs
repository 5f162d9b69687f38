//! The one-pass small-frame send paths (`send_data_with` and `encode_data`
//! for whole messages of at most 125 bytes) against the general paths and
//! an independent frame builder: the same bytes (masks drawn from the same
//! fixed RNG callback), the same errors, the same state afterwards.
//!
//! Which path runs is chosen inside the engine: `encode_data` into a buffer
//! of exactly the frame's size takes the general path (the one-pass writer
//! needs 8 spare bytes beyond the payload), a roomier one the one-pass path;
//! a queued send takes the one-pass path unless the output buffer must grow
//! or the key pool needs a refill. Random sizes, contents, drains and
//! options exercise every combination, across key-pool refills.

mod common;
use common::*;
use wsproto::{Config, Connection, DataKind, Encoded, Error, ErrorKind, Role, SendOptions, State};

/// The fixed RNG callback: a xorshift stream (every connection made with
/// the same seed draws the same keys).
fn config(seed: u64) -> Config {
    let mut x = XorShift(seed);
    Config {
        rng: Some(Box::new(move |b: &mut [u8]| {
            for c in b.chunks_mut(8) {
                let v = x.next().to_le_bytes();
                c.copy_from_slice(&v[..c.len()]);
            }
            true
        })),
        ..Config::default()
    }
}

/// The keys the connection draws, in order: the callback fills a 4 KiB pool
/// and each key is the next 4 bytes of it.
struct Keys(XorShift, Vec<u8>, usize);
impl Keys {
    fn new(seed: u64) -> Keys {
        Keys(XorShift(seed), Vec::new(), 0)
    }
    fn next(&mut self) -> [u8; 4] {
        if self.2 == self.1.len() {
            self.1.clear();
            for _ in 0..4096 / 8 {
                let v = self.0.next().to_le_bytes();
                self.1.extend_from_slice(&v);
            }
            self.2 = 0;
        }
        let k = [self.1[self.2], self.1[self.2 + 1], self.1[self.2 + 2], self.1[self.2 + 3]];
        self.2 += 4;
        k
    }
}

#[derive(Clone, Copy, Debug)]
enum Content {
    Ascii,
    Utf8,
    Invalid,
}

fn payload(rng: &mut XorShift, len: usize, content: Content) -> Vec<u8> {
    let mut v: Vec<u8> = (0..len).map(|_| b' ' + (rng.next() % 95) as u8).collect();
    match content {
        Content::Ascii => {}
        Content::Utf8 if len >= 2 => {
            let at = rng.next() as usize % (len - 1);
            v[at] = 0xc3;
            v[at + 1] = 0xa9;
        }
        Content::Utf8 => {}
        Content::Invalid if len >= 1 => {
            let at = rng.next() as usize % len;
            // A lone continuation byte, a truncated sequence or a surrogate.
            match rng.next() % 3 {
                0 => v[at] = 0x80,
                1 => v[at] = 0xe2,
                _ => {
                    v[at] = 0xed;
                    if at + 2 < len {
                        v[at + 1] = 0xa0;
                        v[at + 2] = 0x80;
                    }
                }
            }
        }
        Content::Invalid => {}
    }
    v
}

type Outcome = Result<Vec<u8>, ErrorKind>;

fn queued(c: &mut Connection, kind: DataKind, data: &[u8], o: SendOptions) -> Outcome {
    let before = c.output().len();
    match c.send_data_with(kind, data, o) {
        Ok(()) => Ok(c.output()[before..].to_vec()),
        Err(Error { kind, .. }) => {
            assert_eq!(c.output().len(), before, "an error queues nothing");
            Err(kind)
        }
    }
}

/// `encode_data` into a buffer `extra` bytes larger than the frame (0: the
/// general path; 8 or more: the one-pass path where it applies).
fn encoded(c: &mut Connection, kind: DataKind, data: &[u8], o: SendOptions, extra: usize) -> Outcome {
    let need = match c.encode_data(kind, data, o, &mut []) {
        Ok(Encoded::TooSmall(n)) => n,
        Ok(Encoded::Written(_)) => panic!("an empty buffer cannot hold a frame"),
        Err(e) => return Err(e.kind),
    };
    let mut buf = vec![0x5au8; need + extra];
    match c.encode_data(kind, data, o, &mut buf) {
        Ok(Encoded::Written(n)) => {
            assert_eq!(n, need);
            assert!(buf[n..].iter().all(|&b| b == 0x5a), "nothing written after the frame");
            buf.truncate(n);
            Ok(buf)
        }
        Ok(Encoded::TooSmall(n)) => panic!("too small: {n} > {}", buf.len()),
        Err(e) => {
            assert!(buf.iter().all(|&b| b == 0x5a), "an error writes nothing into the buffer");
            Err(e.kind)
        }
    }
}

fn differential(role: Role, seed: u64) {
    let mut rng = XorShift(seed ^ 0x9e37_79b9_7f4a_7c15);
    let new = || Connection::frames_only(role, config(seed), None, &[]);
    let (mut q, mut general, mut fast) = (new(), new(), new());
    let mut keys = Keys::new(seed);
    let mut fast_hits = 0;
    for step in 0..6000 {
        let kind = if rng.next() % 3 == 0 { DataKind::Binary } else { DataKind::Text };
        let len = match rng.next() % 8 {
            0 => 0,
            1 => 125,
            2 => 126 + rng.next() as usize % 200,
            _ => rng.next() as usize % 126,
        };
        let content = match rng.next() % 4 {
            0 => Content::Utf8,
            1 => Content::Invalid,
            _ => Content::Ascii,
        };
        let data = payload(&mut rng, len, content);
        let trusted = rng.next() % 8 == 0;
        let o = SendOptions { fin: true, allow_compression: true, trusted_utf8: trusted };
        let a = queued(&mut q, kind, &data, o);
        let b = encoded(&mut general, kind, &data, o, 0);
        let extra = 8 + rng.next() as usize % 8;
        let c = encoded(&mut fast, kind, &data, o, extra);
        let invalid = kind == DataKind::Text && !trusted && std::str::from_utf8(&data).is_err();
        let want: Outcome = if invalid {
            Err(ErrorKind::InvalidArgument)
        } else {
            let first = 0x80 | if kind == DataKind::Text { 1 } else { 2 };
            let key = (role == Role::Client).then(|| keys.next());
            Ok(raw_frame(first, &data, key))
        };
        assert_eq!(a, want, "step {step}: queued, {kind:?} {len} bytes {content:?} trusted {trusted}");
        assert_eq!(b, want, "step {step}: encode_data, exact buffer");
        assert_eq!(c, want, "step {step}: encode_data, {extra} spare bytes");
        if len <= 125 && want.is_ok() {
            fast_hits += 1;
        }
        // Drain the queued output now and then, partly or fully, so that the
        // output buffer's spare room (which picks the path) varies.
        match rng.next() % 4 {
            0 => q.consume_output(q.output().len()),
            1 => q.consume_output(rng.next() as usize % (q.output().len() + 1)),
            _ => {}
        }
        assert!(q.memory_used() >= q.output().len());
    }
    assert!(fast_hits > 3000, "the one-pass path ran {fast_hits} times");
    for c in [&mut q, &mut general, &mut fast] {
        assert_eq!(c.state(), State::Open);
    }
}

#[test]
fn client_small_sends_match_the_general_path_and_an_independent_encoder() {
    for seed in [1, 0xdead_beef, 42] {
        differential(Role::Client, seed);
    }
}

#[test]
fn server_small_sends_match_the_general_path_and_an_independent_encoder() {
    for seed in [7, 99] {
        differential(Role::Server, seed);
    }
}

/// The state and fragmentation rules hold on the one-pass paths: a small
/// message is refused in the middle of a fragmented one of the other kind,
/// after a close, and encode_data is refused while output is queued; none
/// of these draws a key.
#[test]
fn small_sends_keep_the_state_rules() {
    let mut c = Connection::frames_only(Role::Client, config(5), None, &[]);
    let mut keys = Keys::new(5);
    let mut buf = [0u8; 64];
    let more = SendOptions { fin: false, ..SendOptions::default() };
    let fin = SendOptions::default();
    c.send_data_with(DataKind::Text, b"part", more).unwrap();
    assert_eq!(c.output(), raw_frame(0x01, b"part", Some(keys.next())));
    // Another message may not start while this one is open.
    let e = c.send_data_with(DataKind::Binary, b"x", fin).unwrap_err();
    assert_eq!(e.kind, ErrorKind::WrongState);
    // Queued output pending: no zero-copy frame may overtake it.
    let e = c.encode_data(DataKind::Text, b"end", fin, &mut buf).unwrap_err();
    assert_eq!(e.kind, ErrorKind::WrongState);
    let n = c.output().len();
    c.consume_output(n);
    // The continuation goes through the general path (opcode 0).
    assert_eq!(c.encode_data(DataKind::Text, b"end", fin, &mut buf).unwrap(), Encoded::Written(2 + 4 + 3));
    assert_eq!(buf[..9], raw_frame(0x80, b"end", Some(keys.next()))[..]);
    // A whole small message again: the one-pass path, next key.
    c.send_data_with(DataKind::Text, b"hi", fin).unwrap();
    assert_eq!(c.output(), raw_frame(0x81, b"hi", Some(keys.next())));
    c.consume_output(8);
    c.send_close(Some(1000), "").unwrap();
    assert_eq!(c.output(), raw_frame(0x88, &[0x03, 0xe8], Some(keys.next())));
    assert_eq!(c.state(), State::LocalClosing);
    let n = c.output().len();
    c.consume_output(n);
    assert_eq!(c.send_data_with(DataKind::Text, b"late", fin).unwrap_err().kind, ErrorKind::WrongState);
    assert_eq!(c.encode_data(DataKind::Text, b"late", fin, &mut buf).unwrap_err().kind, ErrorKind::WrongState);
    // None of the refusals drew a key: a ping would use the next one, but
    // sending is over; check through a fresh message on a second connection
    // that the stream stays aligned instead.
    let mut d = Connection::frames_only(Role::Client, config(5), None, &[]);
    let mut keys = Keys::new(5);
    assert_eq!(d.send_data_with(DataKind::Text, &[0xff], fin).unwrap_err().kind, ErrorKind::InvalidArgument);
    assert_eq!(
        d.encode_data(DataKind::Text, &[b'a', 0xc3], fin, &mut buf).unwrap_err().kind,
        ErrorKind::InvalidArgument
    );
    d.send_data_with(DataKind::Text, b"ok", fin).unwrap();
    assert_eq!(d.output(), raw_frame(0x81, b"ok", Some(keys.next())));
}

/// After a drain the output buffer is freed (idle retention) and the next
/// batch allocates what the last one used, once, instead of doubling up to
/// it; a large message raises that at most to 128 KiB, and only once.
#[test]
fn output_regrows_to_the_last_batch_at_once_and_idles_empty() {
    let mut c = Connection::frames_only(Role::Client, config(3), None, &[]);
    let msg = [b'x'; 32];
    let batch = |c: &mut Connection, n: usize| {
        for _ in 0..n {
            c.send_data_with(DataKind::Text, &msg, SendOptions::default()).unwrap();
        }
    };
    batch(&mut c, 1000);
    let used = c.output().len();
    assert_eq!(used, 1000 * (6 + 32));
    c.consume_output(used);
    let idle = c.memory_used();
    assert!(idle <= Config::default().idle_buffer_retain + 8192, "idle connection holds {idle} bytes");
    // The first send of the next batch allocates the whole batch.
    batch(&mut c, 1);
    let first = c.memory_used() - idle;
    assert!(first >= used, "allocated {first} for a batch of {used}");
    batch(&mut c, 999);
    assert_eq!(c.memory_used() - idle, first, "no regrowth within the batch");
    let n = c.output().len();
    c.consume_output(n);
    // One large message, then small ones: the hint is capped.
    c.send_data_with(DataKind::Binary, &vec![0u8; 1 << 20], SendOptions::default()).unwrap();
    let n = c.output().len();
    c.consume_output(n);
    batch(&mut c, 1);
    assert!(c.memory_used() - idle <= 128 << 10);
    let n = c.output().len();
    c.consume_output(n);
    batch(&mut c, 1);
    assert!(c.memory_used() - idle < 1024, "a one-message batch allocates little");
}
