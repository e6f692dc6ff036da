//! The numeric regions the number scans look in, found a mask word at a time.
//!
//! Everything the number scans look at (a 15-digit run, `138 0013 8000`, `1.234`) is a
//! run of at least 5 numeric bytes (digits and ` -.()/+%`) holding a digit. Such a run
//! covers both bytes at some position `4k, 4k+1`, so only those pairs are seeds: both
//! numeric, one a digit, and inside a numeric run of 5 or more. A region is a maximal
//! numeric run holding a seed.
//!
//! Finding each region from its first seed (next seed, then back to the run's start and
//! on to its end) took three mask walks per region, a quarter of the number scan on a
//! JSON body full of short numbers. Here one addition per word marks the runs without
//! a seed, so the ends of the others fall out of the word directly.

use crate::classify::Bits;

/// Bit `4k` of a word: the first byte of each candidate pair.
const PAIRS: u64 = 0x1111_1111_1111_1111;

/// Calls `f(start, end)` for each numeric region of at least `min_len` bytes (all of
/// 64 bytes or more), or shorter where `keep_short(end)`, in order. Telling a region's length from the mask
/// words before its start is looked for makes the many too-short regions of a JSON
/// body (prices, versions, a UUID's groups) cost a few instructions each.
pub(crate) fn for_each(
    numeric: Bits<'_>,
    digit: Bits<'_>,
    min_len: usize,
    keep_short: impl Fn(usize) -> bool,
    mut f: impl FnMut(usize, usize),
) {
    // The length test looks one word back: longer regions all pass it.
    let min_len = min_len.min(64) as u32;
    let words = numeric.words();
    let mut prev = 0u64;
    let (mut n, mut d) = (numeric.word(0), digit.word(0));
    let mut carry = false;
    let mut from = 0;
    for w in 0..words {
        let (n_next, d_next) = (numeric.word(w + 1), digit.word(w + 1));
        let seeds = seeds(prev, n, n_next, d, d_next);
        // Bit i of `before` is the numeric bit of byte i - 1.
        let before = n << 1 | prev >> 63;
        let starts = n & !before;
        // Adding 1 at the start of each run's seedless part (`plain`) carries through
        // it: the carry stops on the run's first seed, or just past the run's end when
        // it has none. So past-the-end bits left clear end a region.
        let plain = n & !seeds;
        let (sum, o1) = plain.overflowing_add(starts & plain);
        let (sum, o2) = sum.overflowing_add(u64::from(carry));
        carry = o1 | o2;
        let mut ends = !n & before & !sum;
        while ends != 0 {
            let bit = ends.trailing_zeros();
            let end = w * 64 + bit as usize;
            ends &= ends - 1;
            if at_least(prev, n, bit, min_len) || keep_short(end) {
                f(numeric.run_start(end, from), end);
            }
            from = end;
        }
        (prev, n, d) = (n, n_next, d_next);
    }
}

/// Whether the `len` bytes before bit `bit` of the word with numeric bits `n` (the
/// previous word's are `prev`) are all numeric; `len` is at most 64.
fn at_least(prev: u64, n: u64, bit: u32, len: u32) -> bool {
    if len == 0 {
        return true;
    }
    let both = u128::from(n) << 64 | u128::from(prev);
    // Bits `64 + bit - len ..` of `both`, the last `len` bytes before the end, low.
    let window = (both >> (64 + bit - len)) as u64;
    !window & (u64::MAX >> (64 - len)) == 0
}

/// The seed pairs of a word whose numeric and digit bits are `n` and `d`, with the
/// words before and after for the pairs and runs crossing its edges.
fn seeds(prev: u64, n: u64, n_next: u64, d: u64, d_next: u64) -> u64 {
    if n & PAIRS == 0 {
        return 0;
    }
    // Bit i: the numeric bit of byte i + 1, and the digit bit.
    let n1 = n >> 1 | n_next << 63;
    let d1 = d >> 1 | d_next << 63;
    // Bit i: a numeric run of 5 starts at byte i - 3 (bits i - 3 ..= i + 1 all set).
    let back = |k: u32| n << k | prev >> (64 - k);
    let fives = back(3) & back(2) & back(1) & n & n1;
    // A pair at t lies in a run of 5 or more exactly when one starts in t - 3..=t.
    let long = fives | fives >> 1 | fives >> 2 | fives >> 3;
    n & n1 & (d | d1) & long & PAIRS
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::classify::{Class, Classes};

    /// The seeds as they were found before: windows of the masks, word by word.
    fn old_region_pairs(numeric: Bits<'_>, digit: Bits<'_>) -> Vec<u64> {
        (0..numeric.words())
            .map(|w| {
                let base = w * 64;
                let (n0, d0) = (numeric.word(w), digit.word(w));
                if n0 & PAIRS == 0 {
                    return 0;
                }
                let (n1, d1) = (numeric.window(base + 1), digit.window(base + 1));
                let fives = (0..5).fold(!0u64, |m, k| m & numeric.window_back(base + k, 3));
                let long = fives | fives >> 1 | fives >> 2 | fives >> 3;
                n0 & n1 & (d0 | d1) & long & PAIRS
            })
            .collect()
    }

    /// The regions as they were found before: from each seed, back to its run's start
    /// and on to its end.
    fn old_regions(numeric: Bits<'_>, digit: Bits<'_>) -> Regions {
        let words = old_region_pairs(numeric, digit);
        let pairs = Bits::from_words(&words);
        let mut out = Vec::new();
        let mut from = 0;
        let mut a = 0;
        while let Some(p) = pairs.next_set(a) {
            let rs = numeric.run_start(p, from);
            let re = numeric.next_clear(p + 2);
            if re - rs >= 5 {
                out.push((rs, re));
                from = re;
            }
            a = re.next_multiple_of(4);
        }
        out
    }

    /// (start, end) of each region.
    type Regions = Vec<(usize, usize)>;

    fn both(data: &[u8]) -> (Regions, Regions) {
        let c = Classes::new(data);
        let (numeric, digit) = (c.mask(Class::Numeric), c.mask(Class::Digit));
        let mut new = Vec::new();
        for_each(numeric, digit, 0, |_| true, |s, e| new.push((s, e)));
        (old_regions(numeric, digit), new)
    }

    #[test]
    fn runs_crossing_words_and_seedless_runs_are_told_apart() {
        // A region across the first word boundary, a numeric run across the second
        // with digits only where no pair starts (no seed: not a region), and a region
        // at the very end of the data.
        let mut data = vec![b'x'; 200];
        data[60..70].copy_from_slice(b"1234567890");
        data[122..134].copy_from_slice(b"12--12--12--");
        data[194..200].copy_from_slice(b"1.2345");
        let (old, new) = both(&data);
        assert_eq!(old, new);
        assert_eq!(new, [(60, 70), (194, 200)]);
    }

    /// The regions the word walk reports when asked for `min_len` bytes or more, or
    /// shorter ones ending at a multiple of 3: all of them, filtered afterwards.
    fn long_or_kept(data: &[u8], min_len: usize) -> (Regions, Regions) {
        let c = Classes::new(data);
        let (numeric, digit) = (c.mask(Class::Numeric), c.mask(Class::Digit));
        let keep = |end: usize| end.is_multiple_of(3);
        let mut all = Vec::new();
        for_each(numeric, digit, 0, |_| true, |s, e| all.push((s, e)));
        all.retain(|&(s, e)| e - s >= min_len.min(64) || keep(e));
        let mut some = Vec::new();
        for_each(numeric, digit, min_len, keep, |s, e| some.push((s, e)));
        (all, some)
    }

    #[test]
    fn regions_are_skipped_by_length_across_word_edges() {
        // Regions of 5, 11 and 70 bytes (none ends at a multiple of 3); the 11 crosses the first word boundary and
        // the 70 the second, where its length must be told from the word before.
        let mut data = vec![b'x'; 260];
        data[9..14].copy_from_slice(b"1.234");
        data[57..68].copy_from_slice(b"13800138000");
        data[100..170].fill(b'7');
        for min_len in [0, 5, 6, 11, 12, 64, 70, 71, usize::MAX] {
            let (all, some) = long_or_kept(&data, min_len);
            assert_eq!(all, some, "min_len {min_len}");
        }
        assert_eq!(long_or_kept(&data, 5).1, [(9, 14), (57, 68), (100, 170)]);
        assert_eq!(long_or_kept(&data, 11).1, [(57, 68), (100, 170)]);
        assert_eq!(long_or_kept(&data, 12).1, [(100, 170)]);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(3000))]

        /// Skipping short regions by the mask words skips exactly the regions shorter
        /// than asked, wherever in a word they end.
        #[test]
        fn short_regions_are_skipped_exactly(
            min_len in 0usize..80,
            data in proptest::collection::vec(
                prop_oneof![
                    6 => proptest::sample::select(b"0123456789".to_vec()),
                    3 => proptest::sample::select(b" -.()/+%".to_vec()),
                    1 => proptest::sample::select(b"ax:\"".to_vec()),
                ],
                0..600,
            )
        ) {
            let (all, some) = long_or_kept(&data, min_len);
            prop_assert_eq!(all, some);
        }

        /// The regions are the ones the seed-by-seed walk found, on text where numeric
        /// runs of every length start and end at every position of a word.
        #[test]
        fn the_word_walk_finds_the_regions_the_seed_walk_found(
            data in proptest::collection::vec(
                prop_oneof![
                    4 => proptest::sample::select(b"0123456789".to_vec()),
                    4 => proptest::sample::select(b" -.()/+%".to_vec()),
                    3 => proptest::sample::select(b"ax:\"".to_vec()),
                    1 => any::<u8>(),
                ],
                0..600,
            )
        ) {
            let (old, new) = both(&data);
            prop_assert_eq!(old, new);
        }
    }
}
