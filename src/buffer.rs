//! Fallible, budgeted growth of the byte buffers a connection holds.
//!
//! Every buffer a peer can make grow goes through [`grow`]: it asks the
//! allocator with `try_reserve` (an allocation failure is a result, never an
//! abort) and never lets the buffer's capacity pass the room the caller
//! computed from the connection's memory budget. Capacity still grows
//! geometrically while there is room, so appends stay amortised O(1).

/// Why a buffer could not grow.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum GrowError {
    /// The bytes would not fit in the room the budget leaves.
    OverBudget,
    /// The allocator failed.
    NoMemory,
}

/// Makes room for `additional` more bytes in `buf` without its capacity
/// passing `max_capacity`. Does nothing when the room is already there.
#[inline]
pub(crate) fn grow(buf: &mut Vec<u8>, additional: usize, max_capacity: usize) -> Result<(), GrowError> {
    if buf.capacity() - buf.len() >= additional {
        return Ok(());
    }
    grow_slow(buf, additional, max_capacity)
}

#[cold]
fn grow_slow(buf: &mut Vec<u8>, additional: usize, max_capacity: usize) -> Result<(), GrowError> {
    let need = buf.len().checked_add(additional).ok_or(GrowError::OverBudget)?;
    if need > max_capacity {
        return Err(GrowError::OverBudget);
    }
    // Double (at least 64 bytes), but never past the budget.
    let target = need.max(buf.capacity().saturating_mul(2).max(64).min(max_capacity));
    buf.try_reserve_exact(target - buf.len()).map_err(|_| GrowError::NoMemory)
}

/// Appends `data` to `buf` within `max_capacity`.
#[inline]
pub(crate) fn extend(buf: &mut Vec<u8>, data: &[u8], max_capacity: usize) -> Result<(), GrowError> {
    grow(buf, data.len(), max_capacity)?;
    buf.extend_from_slice(data);
    Ok(())
}

/// Frees `buf` when it is empty and holds more than `retain` bytes, so an
/// idle connection does not keep the memory of its largest message.
#[inline]
pub(crate) fn release_idle(buf: &mut Vec<u8>, retain: usize) {
    if buf.is_empty() && buf.capacity() > retain {
        *buf = Vec::new();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grows_geometrically_within_the_cap() {
        let mut b = Vec::new();
        extend(&mut b, &[1; 10], 1000).unwrap();
        assert_eq!(b.capacity(), 64);
        extend(&mut b, &[1; 60], 1000).unwrap();
        assert_eq!(b.capacity(), 128);
        extend(&mut b, &[1; 800], 1000).unwrap();
        assert!((870..=1000).contains(&b.capacity()), "{}", b.capacity());
    }

    #[test]
    fn refuses_past_the_cap_and_changes_nothing() {
        let mut b = vec![0u8; 10];
        let cap = b.capacity();
        assert_eq!(extend(&mut b, &[1; 100], 50), Err(GrowError::OverBudget));
        assert_eq!((b.len(), b.capacity()), (10, cap));
        assert_eq!(grow(&mut b, usize::MAX, usize::MAX), Err(GrowError::OverBudget));
    }

    #[test]
    fn allocator_refusal_is_an_error_not_an_abort() {
        let mut b: Vec<u8> = Vec::new();
        // More than any allocator can give (isize::MAX + 1 bytes).
        assert_eq!(grow(&mut b, isize::MAX as usize + 1, usize::MAX), Err(GrowError::NoMemory));
    }

    #[test]
    fn releases_only_idle_large_buffers() {
        let mut b = Vec::with_capacity(4096);
        release_idle(&mut b, 1024);
        assert_eq!(b.capacity(), 0);
        let mut b = Vec::with_capacity(4096);
        b.push(1);
        release_idle(&mut b, 1024);
        assert!(b.capacity() >= 4096);
        let mut b: Vec<u8> = Vec::with_capacity(512);
        release_idle(&mut b, 1024);
        assert!(b.capacity() >= 512);
    }
}
