//! Where the analyzer is in one direction of a TCP stream, and from where it wants the
//! stream's bytes: the feedback that lets the tap leave unread bytes uncopied.
//!
//! Offsets count every byte of the direction since the flow started, including those
//! the tap did not copy. A parser that steps over a body or a frame moves `skip_to` past
//! it; bytes arriving from an offset beyond what the parsers need mean bytes were lost.

/// See the module documentation.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Cursor {
    /// The offset just past the last byte given.
    at: u64,
    /// Bytes before this offset are not needed (stepped over).
    skip_to: u64,
}

impl Cursor {
    /// The offset of the next byte the parsers need.
    pub(crate) fn needed(&self) -> u64 {
        self.at.max(self.skip_to)
    }

    /// Where bytes given without an offset (in order, none left out) start.
    pub(crate) fn at(&self) -> u64 {
        self.at
    }

    /// Bytes of the stream from `offset` on: the part the parsers need (bytes before
    /// [`Self::needed`] dropped; maybe empty), or `None` when bytes they needed are
    /// missing before `offset`: a hole, which no parser may read across.
    pub(crate) fn accept<'a>(&mut self, offset: u64, bytes: &'a [u8]) -> Option<&'a [u8]> {
        let need = self.needed();
        if offset > need {
            return None;
        }
        let end = offset.saturating_add(bytes.len() as u64);
        self.at = self.at.max(end);
        let from = usize::try_from(need - offset).unwrap_or(usize::MAX);
        Some(bytes.get(from..).unwrap_or_default())
    }

    /// The parsers step over the `n` bytes after the ones they need next.
    pub(crate) fn skip(&mut self, n: u64) {
        self.skip_to = self.needed().saturating_add(n);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn in_order_bytes_are_all_read() {
        let mut c = Cursor::default();
        assert_eq!(c.accept(0, b"abc"), Some(&b"abc"[..]));
        assert_eq!(c.accept(3, b"de"), Some(&b"de"[..]));
        assert_eq!(c.needed(), 5);
    }

    #[test]
    fn skipped_bytes_are_dropped_whether_the_tap_sent_them_or_not() {
        let mut c = Cursor::default();
        c.accept(0, b"head").unwrap();
        c.skip(10);
        assert_eq!(c.needed(), 14);
        // Sent before the tap saw the new offset: the skipped part is dropped.
        assert_eq!(c.accept(4, b"0123456789NEXT"), Some(&b"NEXT"[..]));
        c.skip(4);
        // Not sent at all: the next bytes start where they are needed.
        assert_eq!(c.accept(22, b"more"), Some(&b"more"[..]));
        assert_eq!(c.needed(), 26);
    }

    #[test]
    fn bytes_wholly_inside_a_skip_give_nothing() {
        let mut c = Cursor::default();
        c.skip(100);
        assert_eq!(c.accept(0, b"0123456789"), Some(&b""[..]));
        assert_eq!(c.accept(50, b"0123456789"), Some(&b""[..]));
        assert_eq!(c.needed(), 100);
        assert_eq!(c.accept(100, b"x"), Some(&b"x"[..]));
    }

    #[test]
    fn bytes_after_a_hole_are_refused() {
        let mut c = Cursor::default();
        c.accept(0, b"abc").unwrap();
        assert_eq!(c.accept(5, b"late"), None);
        c.skip(2);
        assert_eq!(
            c.accept(6, b"late"),
            None,
            "one byte past the skip is missing"
        );
        assert_eq!(c.accept(5, b"ok"), Some(&b"ok"[..]));
    }
}
