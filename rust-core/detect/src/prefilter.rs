//! A sampling prefilter in front of the patterns. An automaton reads every byte, and
//! with a thousand patterns no first-byte prefilter applies (patterns start with any
//! digit or letter). But every pattern is at least `m` bytes long, so each occurrence
//! contains, at exactly one of the sampled positions `0, s, 2s, ...` (`s = m - q + 1`),
//! one of the q-grams among its first `m` bytes, at a known offset. A bit table of those
//! q-grams rejects most samples; an index from each q-gram to the patterns and offsets
//! it occurs at turns the rest into a few direct comparisons. Only a q-gram shared by
//! many patterns (long runs of one digit) hands its window to the Aho-Corasick
//! automaton, which keeps the worst case linear.

use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};

/// 2^18 bits (32 KiB, about L1 size): a thousand patterns set about 2% of them, so hash
/// collisions rarely reach the index.
const TABLE_BITS: u32 = 18;
const TABLE_WORDS: usize = 1 << (TABLE_BITS - 6);

/// A q-gram found in more pattern positions than this goes to the automaton instead of
/// being compared position by position.
const HEAVY: usize = 16;

pub(crate) struct Sampled {
    ac: AhoCorasick,
    /// Automaton pattern index -> caller's pattern index.
    ids: Vec<usize>,
    /// The patterns, lower-case, by automaton index.
    patterns: Vec<Box<[u8]>>,
    min_len: usize,
    max_len: usize,
    q: usize,
    /// One bit per hashed q-gram; a fixed size, so that a slot indexes it unchecked.
    bits: Box<[u64; TABLE_WORDS]>,
    /// Index slot -> `entries[heads[slot]..heads[slot + 1]]`.
    heads: Vec<u32>,
    index_bits: u32,
    entries: Vec<Entry>,
}

/// Pattern `pattern` has q-gram `gram` at `offset`.
#[derive(Clone, Copy)]
struct Entry {
    gram: u64,
    pattern: u32,
    offset: u32,
    heavy: bool,
}

/// The q-gram at the start of `data` as a number, first byte lowest, with ASCII case
/// folding that never separates what `ascii_case_insensitive` joins: setting bit 5 maps
/// `A`..`Z` onto `a`..`z` (and merges a few punctuation pairs, harmlessly).
fn gram(data: &[u8], q: usize) -> u64 {
    // One unaligned load when 8 bytes are there: the same value as the byte loop.
    if let Some(word) = data.first_chunk::<8>() {
        return load(word, q_mask(q));
    }
    data[..q]
        .iter()
        .rev()
        .fold(0u64, |g, &b| (g << 8) | u64::from(b | 0x20))
}

/// The low `q` bytes of a word.
fn q_mask(q: usize) -> u64 {
    u64::MAX >> (8 * (8 - q))
}

/// The q-gram of 8 loaded bytes; `mask` is [`q_mask`]. Little-endian, so that keeping
/// the first q bytes is an AND with a mask held in a register rather than a shift by a
/// variable count.
fn load(word: &[u8; 8], mask: u64) -> u64 {
    (u64::from_le_bytes(*word) | 0x2020_2020_2020_2020) & mask
}

/// The table's hash multiplier. With the other of the two constants here, the lab
/// set's table let through 262 of the 8,192 samples of a 64 KiB JSON body (16 of them
/// real q-grams); with this one 56. Both tables are 2% full.
const HASH: u64 = 0xC2B2_AE3D_27D4_EB4F;

fn slot(g: u64) -> usize {
    (g.wrapping_mul(HASH) >> (64 - TABLE_BITS)) as usize
}

fn index_slot(g: u64, bits: u32) -> usize {
    (g.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> (64 - bits)) as usize
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
        let mut bits = Box::new([0u64; TABLE_WORDS]);
        let mut entries = Vec::new();
        for (i, (_, p)) in patterns.iter().enumerate() {
            for j in 0..=min_len - q {
                let g = gram(&p[j..], q);
                let s = slot(g);
                bits[s / 64] |= 1 << (s % 64);
                entries.push(Entry {
                    gram: g,
                    pattern: i as u32,
                    offset: j as u32,
                    heavy: false,
                });
            }
        }
        entries.sort_unstable_by_key(|e| e.gram);
        for run in entries.chunk_by_mut(|a, b| a.gram == b.gram) {
            let heavy = run.len() > HEAVY;
            run.iter_mut().for_each(|e| e.heavy = heavy);
        }
        let index_bits = (entries.len().max(2).next_power_of_two().trailing_zeros() + 1).max(8);
        entries.sort_by_key(|e| index_slot(e.gram, index_bits));
        let mut heads = vec![0u32; (1 << index_bits) + 1];
        for e in &entries {
            heads[index_slot(e.gram, index_bits) + 1] += 1;
        }
        for k in 1..heads.len() {
            heads[k] += heads[k - 1];
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
            patterns: patterns
                .iter()
                .map(|p| p.1.to_ascii_lowercase().into())
                .collect(),
            min_len,
            max_len,
            q,
            bits,
            heads,
            index_bits,
            entries,
        })
    }

    /// Calls `f(pattern, start, end)` for every occurrence of every pattern, overlapping
    /// ones included, each exactly once: an occurrence starting at `s` is looked for only
    /// from the one sample in `s..s + stride`.
    pub(crate) fn for_each(&self, data: &[u8], mut f: impl FnMut(usize, usize, usize)) {
        let (m, q) = (self.min_len, self.q);
        if data.len() < m {
            return;
        }
        let stride = m - q + 1;
        let mask = q_mask(q);
        let mut p = 0;
        // Four samples a turn, their table bits ORed into one branch: the table
        // rejects nearly every sample, and a branch and a bounds check per sample were
        // half of the loop. One slice per turn covers the four loads; a turn with a
        // hit takes its samples again one by one (rare, and keeping the four q-grams
        // for it cost registers in every turn).
        let span = 3 * stride + 8;
        while let Some(four) = data.get(p..p + span) {
            let at = |k: usize| load(four[k..k + 8].try_into().expect("8 bytes"), mask);
            let any = self.bit(at(0))
                | self.bit(at(stride))
                | self.bit(at(2 * stride))
                | self.bit(at(3 * stride));
            if any != 0 {
                self.samples(data, p, stride, 4, &mut f);
            }
            p += 4 * stride;
        }
        // Fewer than four 8-byte loads left: one sample at a time, then the byte tail.
        let left = (data.len() - q)
            .checked_sub(p)
            .map_or(0, |r| r / stride + 1);
        self.samples(data, p, stride, left, &mut f);
    }

    /// Samples `from`, `from + stride`, ... (`n` of them, all with `q` bytes in `data`).
    #[cold]
    fn samples(
        &self,
        data: &[u8],
        from: usize,
        stride: usize,
        n: usize,
        f: &mut impl FnMut(usize, usize, usize),
    ) {
        for p in (from..).step_by(stride).take(n) {
            let g = gram(&data[p..], self.q);
            if self.has(g) {
                self.at_sample(data, p, g, f);
            }
        }
    }

    /// The sampling loop before it took four samples a turn: the reference of the
    /// differential test.
    #[cfg(test)]
    fn for_each_one_by_one(&self, data: &[u8], mut f: impl FnMut(usize, usize, usize)) {
        let (m, q) = (self.min_len, self.q);
        if data.len() < m {
            return;
        }
        let stride = m - q + 1;
        let mut p = 0;
        while let Some(word) = data.get(p..).and_then(<[u8]>::first_chunk::<8>) {
            let g = load(word, q_mask(q));
            if self.has(g) {
                self.at_sample(data, p, g, &mut f);
            }
            p += stride;
        }
        while p + q <= data.len() {
            let g = gram(&data[p..], q);
            if self.has(g) {
                self.at_sample(data, p, g, &mut f);
            }
            p += stride;
        }
    }

    /// Whether q-gram `g` may start a pattern's sampled position (false positives from
    /// hash collisions are rare and sorted out by the index).
    fn has(&self, g: u64) -> bool {
        self.bit(g) != 0
    }

    /// `g`'s bit in the table, as 0 or 1.
    fn bit(&self, g: u64) -> u64 {
        // `slot(g) / 64` and `slot(g) % 64` from the one product: a shift count is
        // taken mod 64 anyway.
        let h = g.wrapping_mul(HASH);
        self.bits[(h >> (64 - TABLE_BITS + 6)) as usize]
            .wrapping_shr((h >> (64 - TABLE_BITS)) as u32)
            & 1
    }

    /// The occurrences starting in `p - (m - q)..=p` whose q-gram at `p` is `g`.
    fn at_sample(&self, data: &[u8], p: usize, g: u64, f: &mut impl FnMut(usize, usize, usize)) {
        let k = index_slot(g, self.index_bits);
        let (a, b) = (self.heads[k] as usize, self.heads[k + 1] as usize);
        for e in &self.entries[a..b] {
            if e.gram != g {
                continue;
            }
            if e.heavy {
                self.window(data, p, f);
                return;
            }
            let Some(start) = p.checked_sub(e.offset as usize) else {
                continue;
            };
            let pat = &self.patterns[e.pattern as usize];
            let end = start + pat.len();
            if data
                .get(start..end)
                .is_some_and(|d| d.eq_ignore_ascii_case(pat))
            {
                f(self.ids[e.pattern as usize], start, end);
            }
        }
    }

    /// Every occurrence starting in `p - (m - q)..=p`, by the automaton.
    fn window(&self, data: &[u8], p: usize, f: &mut impl FnMut(usize, usize, usize)) {
        let lo = p.saturating_sub(self.min_len - self.q);
        let end = (p + self.max_len).min(data.len());
        for mt in self.ac.find_overlapping_iter(&data[lo..end]) {
            let start = lo + mt.start();
            if start <= p {
                f(self.ids[mt.pattern().as_usize()], start, lo + mt.end());
            }
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

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(2000))]

        /// The one-load sampling loop and the byte-by-byte tail after it find what a
        /// naive search finds, at every length of data and of the shortest pattern
        /// (the q-gram's shift and the stride depend on it).
        #[test]
        fn the_sampling_loop_finds_what_a_naive_search_finds(
            names in proptest::collection::vec(
                proptest::collection::vec(proptest::sample::select(b"0123aBx-".to_vec()), 2..24),
                1..12,
            ),
            data in proptest::collection::vec(
                proptest::prop_oneof![
                    8 => proptest::sample::select(b"0123aAbBxX-".to_vec()),
                    1 => proptest::prelude::any::<u8>(),
                ],
                0..300,
            ),
            seeds in proptest::collection::vec(0usize..300, 0..6),
        ) {
            let pats: Vec<&[u8]> = names.iter().map(Vec::as_slice).collect();
            // Plant the patterns so that there is something to find, near the end too.
            let mut data = data;
            for (k, &at) in seeds.iter().enumerate() {
                let p = pats[k % pats.len()];
                let at = at.min(data.len());
                data.splice(at..at, p.iter().copied());
            }
            proptest::prop_assert_eq!(all(&pats, &data), naive(&pats, &data));
        }
    }

    /// Patterns planted into noise: at the start, at the very end, overlapping each
    /// other, in another case; the noise mixes letters of both cases, digits and UTF-8.
    fn planted() -> impl proptest::strategy::Strategy<Value = (Vec<Vec<u8>>, Vec<u8>)> {
        use proptest::prelude::*;
        let names = proptest::collection::vec(
            proptest::collection::vec(proptest::sample::select(b"0123aBcx-".to_vec()), 2..24),
            1..12,
        );
        let noise = proptest::collection::vec(
            prop_oneof![
                8 => proptest::sample::select(b"0123aAbBcCxX- ".to_vec()),
                1 => proptest::sample::select("\u{e9}\u{4e2d}".as_bytes().to_vec()),
                1 => any::<u8>(),
            ],
            0..400,
        );
        let seeds = proptest::collection::vec((0usize..400, any::<bool>(), 0usize..3), 0..8);
        (names, noise, seeds).prop_map(|(names, mut data, seeds)| {
            for (k, &(at, upper, edge)) in seeds.iter().enumerate() {
                let mut p = names[k % names.len()].clone();
                if upper {
                    p.make_ascii_uppercase();
                }
                // 0: the start, 1: the very end, 2: anywhere (often over another).
                let at = match edge {
                    0 => 0,
                    1 => data.len(),
                    _ => at.min(data.len()),
                };
                data.splice(at..at, p);
            }
            (names, data)
        })
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(3000))]

        /// Four samples a turn find what one sample a turn found, in the same order.
        #[test]
        fn the_four_sample_loop_finds_what_the_one_by_one_loop_found(
            (names, data) in planted(),
        ) {
            let p: Vec<(usize, &[u8])> = names.iter().map(Vec::as_slice).enumerate().collect();
            let s = Sampled::build(&p, true).unwrap();
            let (mut new, mut old) = (Vec::new(), Vec::new());
            s.for_each(&data, |i, a, b| new.push((i, a, b)));
            s.for_each_one_by_one(&data, |i, a, b| old.push((i, a, b)));
            proptest::prop_assert_eq!(&new, &old);
            let pats: Vec<&[u8]> = names.iter().map(Vec::as_slice).collect();
            new.sort_unstable();
            proptest::prop_assert_eq!(new, naive(&pats, &data));
        }
    }

    #[test]
    fn a_gram_shared_by_many_patterns_goes_to_the_automaton_and_finds_the_same() {
        // Made-up numbers full of zeros: "00000" is in far more than HEAVY positions.
        let owned: Vec<Vec<u8>> = (0..40u64)
            .map(|i| format!("4600000000{i:05}").into_bytes())
            .collect();
        let pats: Vec<&[u8]> = owned.iter().map(Vec::as_slice).collect();
        let s =
            Sampled::build(&pats.iter().copied().enumerate().collect::<Vec<_>>(), true).unwrap();
        assert!(s.entries.iter().any(|e| e.heavy) && s.entries.iter().any(|e| !e.heavy));
        let mut data =
            b"x460000000000007 0000000000000000000000 46000000000003946000000000012".to_vec();
        data.extend_from_slice(&owned[17]);
        data.extend_from_slice(b"000");
        assert_eq!(all(&pats, &data), naive(&pats, &data));
        assert!(!all(&pats, &data).is_empty());
    }
}
