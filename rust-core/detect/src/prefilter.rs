//! A sampling prefilter in front of Aho-Corasick. An automaton reads every byte, and
//! with a thousand patterns no first-byte prefilter applies (patterns start with any
//! digit or letter). But every pattern is at least `m` bytes long, so each occurrence
//! contains, at one of the sampled positions `0, s, 2s, ...` (`s = m - q + 1`), one of
//! the q-grams among its first `m` bytes. Only windows around samples whose q-gram is in
//! the pattern set are handed to the automaton; the rest of the text is skipped.

use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};

/// 2^18 bits (32 KiB, about L1 size): a thousand patterns set about 2% of them, so hash
/// collisions rarely wake the automaton.
const TABLE_BITS: u32 = 18;

pub(crate) struct Sampled {
    ac: AhoCorasick,
    /// Automaton pattern index -> caller's pattern index.
    ids: Vec<usize>,
    min_len: usize,
    max_len: usize,
    q: usize,
    bits: Vec<u64>,
}

/// ASCII case folding that never separates what `ascii_case_insensitive` joins: setting
/// bit 5 maps `A`..`Z` onto `a`..`z` (and merges a few punctuation pairs, harmlessly).
fn gram(data: &[u8], q: usize) -> u64 {
    data[..q]
        .iter()
        .fold(0u64, |g, &b| (g << 8) | u64::from(b | 0x20))
}

fn slot(g: u64) -> usize {
    (g.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> (64 - TABLE_BITS)) as usize
}

impl Sampled {
    /// `patterns` are (caller index, bytes), matched ASCII case-insensitively.
    pub(crate) fn build(patterns: &[(usize, &[u8])], dfa: bool) -> Option<Sampled> {
        let min_len = patterns.iter().map(|p| p.1.len()).min()?;
        let max_len = patterns.iter().map(|p| p.1.len()).max()?;
        let q = if min_len >= 10 {
            5
        } else {
            (min_len - 1).clamp(1, 4)
        };
        let mut bits = vec![0u64; 1 << (TABLE_BITS - 6)];
        for (_, p) in patterns {
            for j in 0..=min_len - q {
                let s = slot(gram(&p[j..], q));
                bits[s / 64] |= 1 << (s % 64);
            }
        }
        let build = |kind| {
            AhoCorasick::builder()
                .ascii_case_insensitive(true)
                .match_kind(MatchKind::Standard)
                .kind(kind)
                .build(patterns.iter().map(|p| p.1))
                .ok()
        };
        let kind = if dfa {
            AhoCorasickKind::DFA
        } else {
            AhoCorasickKind::ContiguousNFA
        };
        let ac = build(Some(kind)).or_else(|| build(None))?;
        Some(Sampled {
            ac,
            ids: patterns.iter().map(|p| p.0).collect(),
            min_len,
            max_len,
            q,
            bits,
        })
    }

    /// Calls `f(pattern, start, end)` for every occurrence of every pattern, overlapping
    /// ones included, each exactly once.
    pub(crate) fn for_each(&self, data: &[u8], mut f: impl FnMut(usize, usize, usize)) {
        let (m, q) = (self.min_len, self.q);
        if data.len() < m {
            return;
        }
        let stride = m - q + 1;
        let mut window: Option<(usize, usize)> = None;
        let run = |lo: usize, hi: usize, f: &mut dyn FnMut(usize, usize, usize)| {
            let end = (hi + self.max_len).min(data.len());
            for mt in self.ac.find_overlapping_iter(&data[lo..end]) {
                let start = lo + mt.start();
                // Later starts belong to a later window.
                if start <= hi {
                    f(self.ids[mt.pattern().as_usize()], start, lo + mt.end());
                }
            }
        };
        let mut p = 0;
        while p + q <= data.len() {
            let s = slot(gram(&data[p..], q));
            if self.bits[s / 64] & (1 << (s % 64)) != 0 {
                let lo = p.saturating_sub(m - q);
                window = match window {
                    Some((wlo, whi)) if lo <= whi + self.max_len => Some((wlo, p)),
                    Some((wlo, whi)) => {
                        run(wlo, whi, &mut f);
                        Some((lo, p))
                    }
                    None => Some((lo, p)),
                };
            }
            p += stride;
        }
        if let Some((wlo, whi)) = window {
            run(wlo, whi, &mut f);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(patterns: &[&[u8]], data: &[u8]) -> Vec<(usize, usize, usize)> {
        let p: Vec<(usize, &[u8])> = patterns.iter().copied().enumerate().collect();
        let s = Sampled::build(&p, true).unwrap();
        let mut out = Vec::new();
        s.for_each(data, |i, a, b| out.push((i, a, b)));
        out.sort_unstable();
        out
    }

    fn naive(patterns: &[&[u8]], data: &[u8]) -> Vec<(usize, usize, usize)> {
        let mut out = Vec::new();
        for (i, p) in patterns.iter().enumerate() {
            for s in 0..data.len().saturating_sub(p.len() - 1) {
                if data[s..s + p.len()].eq_ignore_ascii_case(p) {
                    out.push((i, s, s + p.len()));
                }
            }
        }
        out.sort_unstable();
        out
    }

    #[test]
    fn finds_exactly_what_a_naive_search_finds() {
        let pats: &[&[u8]] = &[
            b"861234567890123",
            b"13800138000",
            b"abcdefgh",
            b"Li Wei",
            b"xyz",
        ];
        let mut data = Vec::new();
        let mut x: u32 = 7;
        for i in 0..5000 {
            x = x.wrapping_mul(1103515245).wrapping_add(12345);
            if x.is_multiple_of(97) {
                data.extend_from_slice(pats[(x as usize / 97) % pats.len()]);
            } else {
                data.push(b"0123456789abcdefghLIWEiXYZ  -"[(x >> 8) as usize % 29]);
            }
            if i % 1000 == 0 {
                data.extend_from_slice(b"13800138000861234567890123");
            }
        }
        for cut in [0, 1, 2, 3, 5, 100, data.len()] {
            let d = &data[..cut.min(data.len())];
            assert_eq!(all(pats, d), naive(pats, d), "cut {cut}");
        }
        let long: &[&[u8]] = &pats[..3];
        assert_eq!(all(long, &data), naive(long, &data));
    }
}
