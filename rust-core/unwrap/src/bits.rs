//! Byte classes of a whole payload, computed with comparisons the compiler turns into
//! vector instructions (a table lookup per byte cannot be vectorized): the walk reads
//! every byte of every payload, and most payloads hold nothing to unwrap.

use std::borrow::Cow;

/// Either base64 alphabet: letters, digits, `+ / - _`.
#[inline(always)]
pub(crate) fn is_b64(c: u8) -> bool {
    ((c | 0x20).wrapping_sub(b'a') < 26)
        | (c.wrapping_sub(b'0') < 10)
        | (c == b'+')
        | (c == b'/')
        | (c == b'-')
        | (c == b'_')
}

/// A hex digit of either case.
#[inline(always)]
pub(crate) fn is_hex(c: u8) -> bool {
    (c.wrapping_sub(b'0') < 10) | ((c | 0x20).wrapping_sub(b'a') < 6)
}

/// A control character other than tab and line breaks.
#[inline(always)]
fn is_control(c: u8) -> bool {
    (c < 0x20) & (c != b'\t') & (c != b'\n') & (c != b'\r') | (c == 0x7f)
}

/// How many control characters `b` holds.
pub(crate) fn controls(b: &[u8]) -> usize {
    // Counted in bytes per 255-byte chunk: the widest lanes the compiler can use.
    b.chunks(255)
        .map(|chunk| {
            let n: u8 = chunk.iter().map(|&c| u8::from(is_control(c))).sum();
            usize::from(n)
        })
        .sum()
}

fn block_bits(block: &[u8; 64]) -> u64 {
    // Flags first, one byte each (vector compares), then packed into bits.
    let mut flags = [0u8; 64];
    for (f, &c) in flags.iter_mut().zip(block) {
        *f = 0u8.wrapping_sub(u8::from(is_b64(c)));
    }
    pack(&flags)
}

/// Bit i set when `flags[i]` is 0xff (every flag is 0 or 0xff).
#[cfg(target_arch = "x86_64")]
fn pack(flags: &[u8; 64]) -> u64 {
    use std::arch::x86_64::{__m128i, _mm_loadu_si128, _mm_movemask_epi8};
    let mut m = 0u64;
    for (k, sixteen) in flags.chunks_exact(16).enumerate() {
        // SAFETY: reads 16 bytes of a 16-byte chunk; SSE2 is part of x86_64.
        let bits =
            unsafe { _mm_movemask_epi8(_mm_loadu_si128(sixteen.as_ptr().cast::<__m128i>())) };
        m |= u64::from(bits as u16) << (16 * k);
    }
    m
}

/// Bit i set when `flags[i]` is 0xff (every flag is 0 or 0xff): each 8 flags' top
/// bits gathered by one multiplication (flag j lands on bit 56 + j, and no two partial
/// products meet).
#[cfg(not(target_arch = "x86_64"))]
fn pack(flags: &[u8; 64]) -> u64 {
    let mut m = 0u64;
    for (k, eight) in flags.chunks_exact(8).enumerate() {
        let x = u64::from_le_bytes(eight.try_into().expect("8 bytes")) & 0x0101_0101_0101_0101;
        m |= (x.wrapping_mul(0x0102_0408_1020_4080) >> 56) << (8 * k);
    }
    m
}

#[cfg(test)]
#[test]
fn both_packings_agree() {
    let mut flags = [0u8; 64];
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    for round in 0..200 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        for (i, f) in flags.iter_mut().enumerate() {
            *f = if (x >> (i % 64)) & 1 != 0 || round == 0 {
                0xff
            } else {
                0
            };
        }
        let mut by_mul = 0u64;
        for (k, eight) in flags.chunks_exact(8).enumerate() {
            let w = u64::from_le_bytes(eight.try_into().unwrap()) & 0x0101_0101_0101_0101;
            by_mul |= (w.wrapping_mul(0x0102_0408_1020_4080) >> 56) << (8 * k);
        }
        assert_eq!(pack(&flags), by_mul);
        assert_eq!(pack(&flags), if round == 0 { !0 } else { x });
    }
}

/// One bit per byte of a payload, set for base64 characters, and a zero word after
/// the last so a walk may read one word past the end.
pub(crate) struct B64Bits<'a> {
    words: Cow<'a, [u64]>,
    len: usize,
}

impl<'a> B64Bits<'a> {
    /// A payload's bits computed elsewhere (by the detector's pass over the same
    /// bytes), when they have the shape of [`B64Bits::new`]'s: one word per 64 bytes
    /// and a zero word, nothing set past the end. Otherwise `None`: a walk trusts
    /// that shape to stay inside the payload.
    pub(crate) fn from_words(words: &'a [u64], len: usize) -> Option<B64Bits<'a>> {
        let blocks = len.div_ceil(64);
        let past_end = match len % 64 {
            0 => 0,
            r => words.get(blocks - 1)? >> r,
        };
        (words.len() == blocks + 1 && words[blocks] == 0 && past_end == 0).then_some(B64Bits {
            words: Cow::Borrowed(words),
            len,
        })
    }

    pub(crate) fn new(b: &[u8]) -> B64Bits<'static> {
        let mut words = Vec::with_capacity(b.len() / 64 + 2);
        let mut blocks = b.chunks_exact(64);
        for block in &mut blocks {
            words.push(block_bits(block.try_into().expect("64 bytes")));
        }
        let tail = blocks.remainder();
        if !tail.is_empty() {
            // NUL is not base64: the bytes past the end stay clear.
            let mut last = [0u8; 64];
            last[..tail.len()].copy_from_slice(tail);
            words.push(block_bits(&last));
        }
        words.push(0);
        B64Bits {
            words: Cow::Owned(words),
            len: b.len(),
        }
    }

    #[cfg(test)]
    pub(crate) fn get(&self, i: usize) -> bool {
        i < self.len && self.words[i / 64] >> (i % 64) & 1 != 0
    }

    /// The first byte at or after `from` that is not base64 (`len` if none).
    pub(crate) fn next_clear(&self, from: usize) -> usize {
        let mut w = from / 64;
        let mut t = !self.words.get(w).copied().unwrap_or(0) & (!0u64 << (from % 64));
        while t == 0 {
            w += 1;
            t = !self.words.get(w).copied().unwrap_or(0);
        }
        (w * 64 + t.trailing_zeros() as usize).min(self.len)
    }

    /// The start of the base64 run that holds byte `i` (a base64 character), going
    /// back no further than `floor`.
    #[cfg(test)]
    pub(crate) fn run_start(&self, i: usize, floor: usize) -> usize {
        let mut w = i / 64;
        // Bits above `i` set, so only the clear bits below it count.
        let mut t = !self.words[w] & !(!0u64 << (i % 64));
        while t == 0 {
            if w == 0 || w * 64 <= floor {
                return floor;
            }
            w -= 1;
            t = !self.words[w];
        }
        (w * 64 + 64 - t.leading_zeros() as usize).max(floor)
    }

    /// The first byte at or after `from` that starts `len` base64 characters in a row
    /// (`len` from 1 to 64). Each word is tested whole with its next one: shifting
    /// and ANDing leaves bit i set only where bits i to i + len - 1 all are, so the
    /// short words of ordinary text are never visited one by one.
    pub(crate) fn next_window(&self, from: usize, len: usize) -> Option<usize> {
        debug_assert!((1..=64).contains(&len));
        let mut w = from / 64;
        let mut skip = from % 64;
        while w < self.words.len() {
            let next = self.words.get(w + 1).copied().unwrap_or(0);
            let mut x = u128::from(self.words[w]) | u128::from(next) << 64;
            if len == 16 {
                // The walk's usual length, with the shifts known to the compiler.
                x &= x >> 1;
                x &= x >> 2;
                x &= x >> 4;
                x &= x >> 8;
            } else {
                let mut have = 1;
                while have < len {
                    let shift = have.min(len - have);
                    x &= x >> shift;
                    have += shift;
                }
            }
            let starts = x as u64 & (!0u64 << skip);
            if starts != 0 {
                return Some(w * 64 + starts.trailing_zeros() as usize);
            }
            w += 1;
            skip = 0;
        }
        None
    }

    /// The first aligned 8-byte word at or after `from` (a multiple of 8) whose bytes
    /// are all base64.
    #[cfg(test)]
    pub(crate) fn next_full_word(&self, from: usize) -> Option<usize> {
        const WORD_STARTS: u64 = 0x0101_0101_0101_0101;
        let mut w = from / 64;
        let mut skip = from % 64;
        while w < self.words.len() {
            let mut t = self.words[w];
            t &= t >> 1;
            t &= t >> 2;
            t &= t >> 4;
            let full = t & WORD_STARTS & (!0u64 << skip);
            if full != 0 {
                return Some(w * 64 + full.trailing_zeros() as usize);
            }
            w += 1;
            skip = 0;
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table_b64(c: u8) -> bool {
        c.is_ascii_alphanumeric() || matches!(c, b'+' | b'/' | b'-' | b'_')
    }

    #[test]
    fn classes_agree_with_their_definitions_for_every_byte() {
        for c in 0..=255u8 {
            assert_eq!(is_b64(c), table_b64(c), "{c:#x}");
            assert_eq!(is_hex(c), c.is_ascii_hexdigit(), "{c:#x}");
            let control = (c < 0x20 && !matches!(c, b'\t' | b'\n' | b'\r')) || c == 0x7f;
            assert_eq!(is_control(c), control, "{c:#x}");
        }
    }

    #[test]
    fn controls_are_counted_past_a_chunk_of_255() {
        let mut b = vec![0u8; 1000];
        b[999] = b'a';
        assert_eq!(controls(&b), 999);
        assert_eq!(controls(b"a\tb\r\n\x7f"), 1);
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(2000))]

        #[test]
        fn walks_agree_with_the_bytes_one_by_one(
            data in proptest::collection::vec(
                proptest::prop_oneof![
                    8 => proptest::sample::select(b"Az09+/-_".to_vec()),
                    2 => proptest::prelude::any::<u8>(),
                ],
                0..300,
            ),
            from in 0usize..300,
        ) {
            let m = B64Bits::new(&data);
            for (i, &c) in data.iter().enumerate() {
                proptest::prop_assert_eq!(m.get(i), table_b64(c));
            }
            proptest::prop_assert!(!m.get(data.len()));
            let from = from.min(data.len());
            let clear = (from..data.len()).find(|&i| !table_b64(data[i])).unwrap_or(data.len());
            proptest::prop_assert_eq!(m.next_clear(from), clear);
            for i in 0..data.len() {
                if table_b64(data[i]) {
                    let floor = from.min(i);
                    let mut s = i;
                    while s > floor && table_b64(data[s - 1]) {
                        s -= 1;
                    }
                    proptest::prop_assert_eq!(m.run_start(i, floor), s, "i {} floor {}", i, floor);
                }
            }
            let a = from / 8 * 8;
            let full = (a..data.len() / 8 * 8)
                .step_by(8)
                .find(|&w| data[w..w + 8].iter().all(|&c| table_b64(c)));
            proptest::prop_assert_eq!(m.next_full_word(a), full);
            for len in [1usize, 2, 7, 15, 16, 17, 64] {
                let window = (from..data.len())
                    .find(|&i| data.len() - i >= len && data[i..i + len].iter().all(|&c| table_b64(c)));
                proptest::prop_assert_eq!(m.next_window(from, len), window, "len {}", len);
            }
        }
    }
}
