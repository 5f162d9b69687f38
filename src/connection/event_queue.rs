//! The queue of events waiting for `next_event`: a vector read from a moving
//! head rather than a ring, so that taking an event is an index increment
//! and the waiting events are one contiguous slice (the FFI's batch poll
//! copies them out in one pass).
//!
//! Slots before the head are reused once the queue empties (the common
//! case: events are taken after each read), or, when it fills up while at
//! least half of it was taken, by moving the waiting events to the front.
//! It doubles only when more than half of it waits, so its capacity stays
//! within four times the most events that ever waited.
//!
//! An idle connection frees a queue larger than it may keep; the next batch
//! then allocates at once what the last one used (up to a cap),
//! instead of doubling and copying its way up again.

use super::Queued;

#[derive(Default)]
pub(super) struct EventQueue {
    buf: Vec<Queued>,
    /// The first event not taken yet.
    head: usize,
    /// The most events the queue held since it last emptied...
    used: usize,
    /// ...and, once it was freed, what it allocates at once when it grows.
    hint: usize,
}

/// The queue could not grow.
pub(super) struct QueueFull;

impl EventQueue {
    /// Events waiting.
    #[inline]
    pub(super) fn len(&self) -> usize {
        self.buf.len() - self.head
    }

    #[inline]
    pub(super) fn is_empty(&self) -> bool {
        self.buf.len() == self.head
    }

    /// Slots allocated (for memory accounting).
    #[inline]
    pub(super) fn capacity(&self) -> usize {
        self.buf.capacity()
    }

    /// The waiting events, oldest first.
    #[inline]
    pub(super) fn waiting(&self) -> &[Queued] {
        &self.buf[self.head..]
    }

    #[inline]
    pub(super) fn front(&self) -> Option<&Queued> {
        self.buf.get(self.head)
    }

    #[inline]
    pub(super) fn push(&mut self, q: Queued) -> Result<(), QueueFull> {
        if self.buf.len() == self.buf.capacity() {
            self.make_room()?;
        }
        self.buf.push(q);
        Ok(())
    }

    #[cold]
    fn make_room(&mut self) -> Result<(), QueueFull> {
        if self.buf.capacity() == 0 && self.hint > 0 && self.buf.try_reserve_exact(self.hint).is_ok() {
            return Ok(());
        }
        if self.head > 0 && self.head * 2 >= self.buf.len() {
            self.buf.drain(..self.head);
            self.head = 0;
            return Ok(());
        }
        self.buf.try_reserve(1).map_err(|_| QueueFull)
    }

    #[inline]
    pub(super) fn pop_front(&mut self) -> Option<Queued> {
        let q = *self.buf.get(self.head)?;
        self.skip(1);
        Some(q)
    }

    /// Drops the `n` oldest waiting events (`n <= len()`), which the caller
    /// has read through `waiting`.
    #[inline]
    pub(super) fn skip(&mut self, n: usize) {
        debug_assert!(n <= self.len());
        self.head += n;
        if self.head == self.buf.len() {
            self.used = self.used.max(self.buf.len());
            self.buf.clear();
            self.head = 0;
        }
    }

    /// Frees the queue when it is empty and its slots take more than
    /// `retain` bytes, remembering how many of them the last batch used (at
    /// most `max_hint`).
    pub(super) fn release_idle(&mut self, retain: usize, max_hint: usize) {
        if !self.is_empty() {
            return;
        }
        if self.buf.capacity() * std::mem::size_of::<Queued>() > retain {
            self.hint = self.used.min(max_hint);
            self.buf = Vec::new();
        }
        self.used = 0;
    }
}
