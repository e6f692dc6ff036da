//! One direction of a TCP stream put back in order from captured segments.
//!
//! Captures hold retransmissions, overlaps and out-of-order segments, and may start in
//! the middle of a connection. The reassembler hands out each stream byte once, in
//! order, up to a byte limit, and keeps a bounded amount of out-of-order data.

use std::collections::BTreeMap;

/// Most out-of-order bytes kept per direction; beyond it the stream gives up on the gap.
const MAX_PENDING: usize = 1 << 20;

/// One direction's reassembly state.
#[derive(Debug, Default)]
pub struct Reassembler {
    /// Next sequence number expected; `None` until the first segment fixes it.
    next: Option<u32>,
    /// Out-of-order segments by relative offset from `next`'s origin.
    pending: BTreeMap<u64, Vec<u8>>,
    pending_bytes: usize,
    /// Bytes delivered so far (the stream offset of `next`).
    delivered: u64,
    /// Sequence number that stream offset 0 has.
    origin: u32,
    /// Set when a gap could not be filled; delivery then skips over it.
    pub gaps: u64,
    fin: bool,
}

impl Reassembler {
    pub fn new() -> Self {
        Self::default()
    }

    /// Takes a segment: `seq` is its sequence number, `syn`/`fin` its flags, `payload` its
    /// data. Returns bytes that are now in order (possibly empty).
    pub fn segment(&mut self, seq: u32, syn: bool, fin: bool, payload: &[u8]) -> Vec<u8> {
        let data_seq = if syn { seq.wrapping_add(1) } else { seq };
        if self.next.is_none() {
            self.next = Some(data_seq);
            self.origin = data_seq;
        }
        if fin {
            self.fin = true;
        }
        if payload.is_empty() {
            return Vec::new();
        }
        // Offsets relative to the origin, unwrapped around the current position so that
        // sequence wraparound (after 4 GiB) keeps working.
        let rel = data_seq.wrapping_sub(self.origin);
        let current = self.delivered as u32;
        let ahead = rel.wrapping_sub(current) as i32;
        let start = self.delivered as i64 + i64::from(ahead);
        let end = start + payload.len() as i64;
        if end <= self.delivered as i64 {
            return Vec::new(); // a retransmission of what we have
        }
        let (start, payload) = if start < self.delivered as i64 {
            let skip = (self.delivered as i64 - start) as usize;
            (self.delivered, &payload[skip..])
        } else {
            (start as u64, payload)
        };
        if start > self.delivered {
            if self.pending_bytes + payload.len() <= MAX_PENDING {
                self.pending_bytes += payload.len();
                let slot = self.pending.entry(start).or_default();
                if payload.len() > slot.len() {
                    self.pending_bytes -= slot.len();
                    *slot = payload.to_vec();
                } else {
                    self.pending_bytes -= payload.len();
                }
            } else {
                // Too much missing: give up on the gap and continue from the oldest.
                self.skip_gap();
                return self.segment(seq, syn, false, payload);
            }
            return Vec::new();
        }
        let mut out = payload.to_vec();
        self.delivered += out.len() as u64;
        self.drain_pending(&mut out);
        out
    }

    fn drain_pending(&mut self, out: &mut Vec<u8>) {
        while let Some((&at, _)) = self.pending.first_key_value() {
            if at > self.delivered {
                break;
            }
            let Some((at, chunk)) = self.pending.pop_first() else {
                break;
            };
            self.pending_bytes -= chunk.len();
            let skip = (self.delivered - at) as usize;
            if skip < chunk.len() {
                out.extend_from_slice(&chunk[skip..]);
                self.delivered += (chunk.len() - skip) as u64;
            }
        }
    }

    fn skip_gap(&mut self) {
        if let Some((&at, _)) = self.pending.first_key_value() {
            self.gaps += 1;
            self.delivered = at;
        }
    }

    /// At the end of a capture: whatever is still pending, after the gaps before it.
    pub fn flush(&mut self) -> Vec<u8> {
        let mut out = Vec::new();
        while !self.pending.is_empty() {
            self.skip_gap();
            self.drain_pending(&mut out);
        }
        out
    }

    /// Stream bytes delivered so far.
    pub fn delivered(&self) -> u64 {
        self.delivered
    }

    pub fn fin_seen(&self) -> bool {
        self.fin
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn in_order_segments_come_out_as_they_go_in() {
        let mut r = Reassembler::new();
        assert!(r.segment(1000, true, false, b"").is_empty());
        assert_eq!(r.segment(1001, false, false, b"GET / "), b"GET / ");
        assert_eq!(r.segment(1007, false, true, b"HTTP/1.1"), b"HTTP/1.1");
        assert!(r.fin_seen());
    }

    #[test]
    fn out_of_order_segments_wait_for_the_gap() {
        let mut r = Reassembler::new();
        r.segment(0, true, false, b"");
        assert!(r.segment(6, false, false, b"world").is_empty());
        assert_eq!(r.segment(1, false, false, b"hello"), b"helloworld");
    }

    #[test]
    fn retransmissions_and_overlaps_are_delivered_once() {
        let mut r = Reassembler::new();
        r.segment(0, true, false, b"");
        assert_eq!(r.segment(1, false, false, b"abcdef"), b"abcdef");
        assert!(r.segment(1, false, false, b"abcdef").is_empty());
        assert_eq!(r.segment(4, false, false, b"defghi"), b"ghi");
    }

    #[test]
    fn a_capture_that_starts_mid_stream_starts_at_its_first_segment() {
        let mut r = Reassembler::new();
        assert_eq!(r.segment(5_000_000, false, false, b"tail"), b"tail");
    }

    #[test]
    fn sequence_numbers_wrap_around() {
        let mut r = Reassembler::new();
        r.segment(u32::MAX - 2, true, false, b"");
        assert_eq!(r.segment(u32::MAX - 1, false, false, b"ab"), b"ab");
        assert_eq!(r.segment(0, false, false, b"cd"), b"cd");
    }

    #[test]
    fn an_unfilled_gap_is_skipped_at_the_end() {
        let mut r = Reassembler::new();
        r.segment(0, true, false, b"");
        r.segment(1, false, false, b"a");
        r.segment(10, false, false, b"later");
        assert_eq!(r.flush(), b"later");
        assert_eq!(r.gaps, 1);
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 500, ..ProptestConfig::default() })]

        /// Any split of a stream, sent in any order with duplicates, reassembles exactly.
        #[test]
        fn any_order_reassembles_the_stream(
            data in proptest::collection::vec(any::<u8>(), 1..3000),
            cuts in proptest::collection::vec(any::<prop::sample::Index>(), 0..20),
            order in any::<prop::sample::Index>(),
            isn in any::<u32>(),
        ) {
            let mut points: Vec<usize> = cuts.iter().map(|c| c.index(data.len())).collect();
            points.push(0);
            points.push(data.len());
            points.sort_unstable();
            points.dedup();
            let mut segs: Vec<(usize, usize)> = points.windows(2).map(|w| (w[0], w[1])).collect();
            // A rotation plus a duplicate of the first segment.
            let k = order.index(segs.len());
            segs.rotate_left(k);
            segs.push(segs[0]);
            let mut r = Reassembler::new();
            r.segment(isn, true, false, b"");
            let mut out = Vec::new();
            for (a, b) in segs {
                out.extend(r.segment(isn.wrapping_add(1).wrapping_add(a as u32), false, false, &data[a..b]));
            }
            out.extend(r.flush());
            prop_assert_eq!(out, data);
        }
    }
}
