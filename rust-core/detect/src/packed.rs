//! The short patterns (contacts' names, a short SMS word, and, when few enough, the
//! shortest phone forms: see `long_from` in detector.rs) by a packed
//! SIMD search (aho-corasick's Teddy) over a lower-cased copy of the data. Sampling
//! needs a stride under the shortest pattern: with 6-byte names it probed every 3
//! bytes, a third of the detector's time. Teddy is case-sensitive and takes at most 64
//! patterns, so the data is lower-cased once (a few vector instructions per 16 bytes)
//! and larger sets keep the sampler.

use std::cell::RefCell;

use aho_corasick::packed::{Config, MatchKind, Searcher};
use aho_corasick::Span;

use crate::prefilter::Sampled;

/// More patterns than this make Teddy refuse (its own limit).
pub(crate) const MAX_PATTERNS: usize = 64;

thread_local! {
    /// The lower-cased copy of the data, kept between scans.
    static LOWER: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

pub(crate) struct Packed {
    searcher: Searcher,
    /// Caller's pattern index and lower-case bytes, by searcher index.
    patterns: Vec<(usize, Box<[u8]>)>,
}

impl Packed {
    /// `patterns` are (caller index, bytes), matched ASCII case-insensitively. `None`
    /// when there are too many for Teddy or this CPU has no SIMD Teddy.
    pub(crate) fn build(patterns: &[(usize, &[u8])]) -> Option<Packed> {
        if patterns.is_empty() || patterns.len() > MAX_PATTERNS {
            return None;
        }
        let lower: Vec<(usize, Box<[u8]>)> = patterns
            .iter()
            .map(|&(i, p)| (i, p.to_ascii_lowercase().into()))
            .collect();
        let searcher = Config::new()
            .match_kind(MatchKind::LeftmostFirst)
            .builder()
            .extend(lower.iter().map(|p| &p.1))
            .build()?;
        Some(Packed {
            searcher,
            patterns: lower,
        })
    }

    /// Calls `f(pattern, start, end)` for every occurrence of every pattern, overlapping
    /// ones included, each once, in order of start.
    pub(crate) fn for_each(&self, data: &[u8], mut f: impl FnMut(usize, usize, usize)) {
        // Taken out of the slot for the scan, so `f` could scan too without a clash.
        let mut lower = LOWER.with_borrow_mut(std::mem::take);
        lower.clear();
        lower.extend(data.iter().map(u8::to_ascii_lowercase));
        let mut at = 0;
        // The leftmost match from `at` is at the first position any pattern starts
        // at; every pattern is then compared there, and the search goes on one byte
        // later, so each start is visited once.
        while let Some(m) = self.searcher.find_in(&lower, Span::from(at..lower.len())) {
            let s = m.start();
            for (id, p) in &self.patterns {
                if lower[s..].starts_with(p) {
                    f(*id, s, s + p.len());
                }
            }
            at = s + 1;
        }
        LOWER.with_borrow_mut(|slot| *slot = lower);
    }
}

/// The short patterns' search: packed when it can be, sampled otherwise.
pub(crate) enum Short {
    Packed(Packed),
    Sampled(Sampled),
}

impl Short {
    pub(crate) fn build(patterns: &[(usize, &[u8])], dfa: bool) -> Option<Short> {
        match Packed::build(patterns) {
            Some(p) => Some(Short::Packed(p)),
            None => Sampled::build(patterns, dfa).map(Short::Sampled),
        }
    }

    pub(crate) fn for_each(&self, data: &[u8], f: impl FnMut(usize, usize, usize)) {
        match self {
            Short::Packed(p) => p.for_each(data, f),
            Short::Sampled(s) => s.for_each(data, f),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (pattern, start, end) of every occurrence.
    type Found = Vec<(usize, usize, usize)>;

    fn sorted(mut v: Found) -> Found {
        v.sort_unstable();
        v
    }

    /// Both searches over the same patterns and data.
    fn both(patterns: &[&[u8]], data: &[u8]) -> (Found, Found) {
        let p: Vec<(usize, &[u8])> = patterns.iter().copied().enumerate().collect();
        let packed = Packed::build(&p).expect("a SIMD Teddy on this CPU");
        let sampled = Sampled::build(&p, true).unwrap();
        let (mut a, mut b) = (Vec::new(), Vec::new());
        packed.for_each(data, |i, s, e| a.push((i, s, e)));
        sampled.for_each(data, |i, s, e| b.push((i, s, e)));
        (sorted(a), sorted(b))
    }

    #[test]
    fn overlapping_and_nested_names_are_each_found_in_any_case() {
        let pats: &[&[u8]] = &[
            b"Li Wei",
            b"li%20wei",
            b"Li+Wei",
            b"wei li",
            b"Wang Fang",
            b"ang f",
        ];
        let data = b"LI WEI LI wei li%20WEI-Li+Wei WANG FANG wang fangang f";
        let (packed, sampled) = both(pats, data);
        assert_eq!(packed, sampled);
        assert!(packed.len() >= 7, "{packed:?}");
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(2000))]

        /// The packed search finds exactly what the sampler found (kept as the
        /// fallback, and the reference here).
        #[test]
        fn finds_what_the_sampler_finds(
            names in proptest::collection::vec(
                proptest::collection::vec(proptest::sample::select(b"abiLWEgn %+2".to_vec()), 2..16),
                1..20,
            ),
            data in proptest::collection::vec(
                proptest::prop_oneof![
                    6 => proptest::sample::select(b"aAbBiILlWwEegGnN %+20".to_vec()),
                    1 => proptest::prelude::any::<u8>(),
                ],
                0..400,
            ),
        ) {
            let pats: Vec<&[u8]> = names.iter().map(Vec::as_slice).collect();
            let (packed, sampled) = both(&pats, &data);
            proptest::prop_assert_eq!(packed, sampled);
        }
    }
}
