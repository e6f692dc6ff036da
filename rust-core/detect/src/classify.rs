//! One pass that sorts every byte into the classes the structural scans look for
//! (digits, the bytes of numbers, the base64 alphabet, MAC separators, upper- and
//! lower-case letters) and keeps one
//! bit per byte and class. The scans then walk these bitmasks a word of 64 bytes at a
//! time instead of reading the bytes one by one each: in a profile of a JSON body the
//! four byte-by-byte walks were 60% of the detector's time.
//!
//! The classes come from two 16-entry tables, indexed by a byte's low and high nibble
//! and ANDed: a byte is in "product class" k when bit k is set in both. That is one
//! table lookup per nibble with SIMD shuffles (AVX2 when the CPU has it, NEON on
//! aarch64), and a plain 256-entry table elsewhere, all giving the same bits.

/// Product classes, one bit each: every class the scans use is a union of these.
const DIGIT: u8 = 1 << 0; // 0x30..=0x39
const UPPER_A: u8 = 1 << 1; // 0x41..=0x4f
const UPPER_B: u8 = 1 << 2; // 0x50..=0x5a
const LOWER_A: u8 = 1 << 3; // 0x61..=0x6f
const LOWER_B: u8 = 1 << 4; // 0x70..=0x7a
/// ` % ( ) + - . /`: what separates the digit groups of numbers.
const NUM_PUNCT: u8 = 1 << 5;
/// `+ - /`: base64 punctuation besides `_`.
const B64_PUNCT: u8 = 1 << 6;
const UNDERSCORE: u8 = 1 << 7; // 0x5f

/// Digits and number punctuation (the detector's `NUMERIC`).
const NUMERIC: u8 = DIGIT | NUM_PUNCT;
/// Letters, digits and `+ / - _`: either base64 alphabet.
const BASE64: u8 = DIGIT | UPPER_A | UPPER_B | LOWER_A | LOWER_B | B64_PUNCT | UNDERSCORE;
const UPPER: u8 = UPPER_A | UPPER_B;
const LOWER: u8 = LOWER_A | LOWER_B;

/// Low nibble -> the product classes that allow it.
const LO: [u8; 16] = {
    let mut t = [0u8; 16];
    let mut n = 0;
    while n < 16 {
        let mut c = UPPER_A | LOWER_A;
        if n == 0 {
            c = 0;
        }
        if n <= 9 {
            c |= DIGIT;
        }
        if n <= 0xa {
            c |= UPPER_B | LOWER_B;
        }
        if matches!(n, 0x0 | 0x5 | 0x8 | 0x9 | 0xb | 0xd | 0xe | 0xf) {
            c |= NUM_PUNCT;
        }
        if matches!(n, 0xb | 0xd | 0xf) {
            c |= B64_PUNCT;
        }
        if n == 0xf {
            c |= UNDERSCORE;
        }
        t[n] = c;
        n += 1;
    }
    t
};

/// High nibble -> the product classes that allow it (none for bytes >= 0x80).
const HI: [u8; 16] = {
    let mut t = [0u8; 16];
    t[2] = NUM_PUNCT | B64_PUNCT;
    t[3] = DIGIT;
    t[4] = UPPER_A;
    t[5] = UPPER_B | UNDERSCORE;
    t[6] = LOWER_A;
    t[7] = LOWER_B;
    t
};

/// The product classes of every byte: the portable path, and the reference for the
/// SIMD ones.
static CLASS: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut b = 0;
    while b < 256 {
        t[b] = LO[b & 15] & HI[b >> 4];
        b += 1;
    }
    t
};

/// Which scan a mask serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Class {
    Digit = 0,
    Numeric = 1,
    Base64 = 2,
    /// `:` and `-`, between the bytes of a MAC address.
    MacSep = 3,
    /// `A`..`Z` and `a`..`z`: encoded data has both, words and hex mostly one.
    Upper = 4,
    Lower = 5,
}

const CLASSES: usize = 6;

/// Bit `i % 64` of word `i / 64` of a class's mask is set when byte `i` is in it. Each
/// mask ends with a zero word, so a scan that reads one word past the data sees no
/// class there.
#[derive(Debug)]
pub(crate) struct Classes {
    words: Vec<u64>,
    /// Words per mask, the zero word included.
    stride: usize,
}

impl Classes {
    pub(crate) fn new(data: &[u8]) -> Classes {
        let blocks = data.len().div_ceil(64);
        let stride = blocks + 1;
        let mut words = SPARE.with_borrow_mut(Vec::pop).unwrap_or_default();
        // Every word is written below: a reused buffer need not be cleared first (that
        // was 48 KiB of stores per 64 KiB scan).
        words.resize(stride * CLASSES, 0);
        for k in 0..CLASSES {
            words[k * stride + blocks] = 0;
        }
        let (whole, tail) = data.split_at(data.len() / 64 * 64);
        classify_blocks(whole, &mut words, stride);
        if !tail.is_empty() {
            // NUL is in no class: the bytes past the end stay clear.
            let mut last = [0u8; 64];
            last[..tail.len()].copy_from_slice(tail);
            let w = block_portable(&last);
            for (k, m) in w.into_iter().enumerate() {
                words[k * stride + blocks - 1] = m;
            }
        }
        Classes { words, stride }
    }

    pub(crate) fn mask(&self, class: Class) -> Bits<'_> {
        let k = class as usize;
        Bits {
            words: &self.words[k * self.stride..(k + 1) * self.stride],
        }
    }
}

thread_local! {
    /// Mask buffers of finished scans, for the next ones on this thread: a fresh 32 KiB
    /// per 64 KiB scan cost the kernel 5% of the time clearing the pages glibc had
    /// given back. A few are kept, as scans of base64 blobs classify while the outer
    /// buffer's masks are still in use.
    static SPARE: std::cell::RefCell<Vec<Vec<u64>>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Buffers larger than this (masks of a 1 MiB scan) are not kept.
const SPARE_MAX_WORDS: usize = (1 << 20) / 64 * CLASSES + 64;

impl Drop for Classes {
    fn drop(&mut self) {
        let words = std::mem::take(&mut self.words);
        if words.capacity() <= SPARE_MAX_WORDS {
            // During thread teardown the slot may be gone: the buffer is freed then.
            let _ = SPARE.try_with(|spare| {
                if let Ok(mut spare) = spare.try_borrow_mut() {
                    if spare.len() < 4 {
                        spare.push(words);
                    }
                }
            });
        }
    }
}

/// Classifies the whole 64-byte blocks of `data` into `words`.
fn classify_blocks(data: &[u8], words: &mut [u64], stride: usize) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU has AVX2, checked just above.
        unsafe { x86::classify_avx2(data, words, stride) };
        return;
    }
    #[cfg(target_arch = "aarch64")]
    {
        // SAFETY: NEON is part of every aarch64 target Rust supports.
        unsafe { arm::classify_neon(data, words, stride) };
        return;
    }
    #[allow(unreachable_code)]
    for (b, block) in data.chunks_exact(64).enumerate() {
        let Some(block) = block.first_chunk::<64>() else {
            continue;
        };
        for (k, m) in block_portable(block).into_iter().enumerate() {
            words[k * stride + b] = m;
        }
    }
}

/// The masks of one block, a byte at a time.
pub(crate) fn block_portable(block: &[u8; 64]) -> [u64; CLASSES] {
    let mut out = [0u64; CLASSES];
    for (i, &b) in block.iter().enumerate() {
        let c = CLASS[usize::from(b)];
        out[Class::Digit as usize] |= u64::from(c & DIGIT != 0) << i;
        out[Class::Numeric as usize] |= u64::from(c & NUMERIC != 0) << i;
        out[Class::Base64 as usize] |= u64::from(c & BASE64 != 0) << i;
        out[Class::MacSep as usize] |= u64::from(matches!(b, b':' | b'-')) << i;
        out[Class::Upper as usize] |= u64::from(c & UPPER != 0) << i;
        out[Class::Lower as usize] |= u64::from(c & LOWER != 0) << i;
    }
    out
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use std::arch::x86_64::*;

    use super::{Class, BASE64, CLASSES, HI, LO, LOWER, NUMERIC, UPPER};

    /// The masks of 32 bytes.
    #[target_feature(enable = "avx2")]
    fn half(v: __m256i) -> [u32; CLASSES] {
        let table = |t: &[u8; 16]| {
            // SAFETY: reads 16 bytes from a 16-byte array (unaligned load).
            let x = unsafe { _mm_loadu_si128(t.as_ptr().cast()) };
            _mm256_broadcastsi128_si256(x)
        };
        let nib = _mm256_set1_epi8(0x0f);
        let lo = _mm256_and_si256(v, nib);
        let hi = _mm256_and_si256(_mm256_srli_epi16::<4>(v), nib);
        let c = _mm256_and_si256(
            _mm256_shuffle_epi8(table(&LO), lo),
            _mm256_shuffle_epi8(table(&HI), hi),
        );
        let zero = _mm256_setzero_si256();
        let any = |bits: u8| {
            let none = _mm256_cmpeq_epi8(_mm256_and_si256(c, _mm256_set1_epi8(bits as i8)), zero);
            !(_mm256_movemask_epi8(none) as u32)
        };
        let sep = _mm256_or_si256(
            _mm256_cmpeq_epi8(v, _mm256_set1_epi8(b':' as i8)),
            _mm256_cmpeq_epi8(v, _mm256_set1_epi8(b'-' as i8)),
        );
        // Bit 0 (digits) moved to each byte's sign bit; 16-bit shifts carry nothing
        // into another byte's sign bit.
        let digit = _mm256_movemask_epi8(_mm256_slli_epi16::<7>(c)) as u32;
        let mut out = [0u32; CLASSES];
        out[Class::Digit as usize] = digit;
        out[Class::Numeric as usize] = any(NUMERIC);
        out[Class::Base64 as usize] = any(BASE64);
        out[Class::MacSep as usize] = _mm256_movemask_epi8(sep) as u32;
        out[Class::Upper as usize] = any(UPPER);
        out[Class::Lower as usize] = any(LOWER);
        out
    }

    /// # Safety
    /// The CPU must have AVX2.
    #[target_feature(enable = "avx2")]
    pub(super) unsafe fn classify_avx2(data: &[u8], words: &mut [u64], stride: usize) {
        for (b, block) in data.chunks_exact(64).enumerate() {
            // SAFETY: `block` is 64 bytes: two unaligned 32-byte loads inside it.
            let (v0, v1) = unsafe {
                (
                    _mm256_loadu_si256(block.as_ptr().cast()),
                    _mm256_loadu_si256(block.as_ptr().add(32).cast()),
                )
            };
            let (a, z) = (half(v0), half(v1));
            for k in 0..CLASSES {
                words[k * stride + b] = u64::from(a[k]) | u64::from(z[k]) << 32;
            }
        }
    }
}

#[cfg(target_arch = "aarch64")]
mod arm {
    use std::arch::aarch64::*;

    use super::{Class, BASE64, HI, LO, LOWER, NUMERIC, UPPER};

    /// 64 bytes of 0x00/0xff (one per byte of the block) to 64 bits: each byte keeps
    /// its own weight, and pairwise additions pack eight bytes into one.
    #[target_feature(enable = "neon")]
    fn movemask(v: [uint8x16_t; 4]) -> u64 {
        const W: [u8; 16] = [1, 2, 4, 8, 16, 32, 64, 128, 1, 2, 4, 8, 16, 32, 64, 128];
        // SAFETY: reads 16 bytes from a 16-byte array.
        let w = unsafe { vld1q_u8(W.as_ptr()) };
        let s0 = vpaddq_u8(vandq_u8(v[0], w), vandq_u8(v[1], w));
        let s1 = vpaddq_u8(vandq_u8(v[2], w), vandq_u8(v[3], w));
        let s = vpaddq_u8(s0, s1);
        let s = vpaddq_u8(s, s);
        vgetq_lane_u64::<0>(vreinterpretq_u64_u8(s))
    }

    /// # Safety
    /// The CPU must have NEON (every aarch64 target Rust supports does).
    #[target_feature(enable = "neon")]
    pub(super) unsafe fn classify_neon(data: &[u8], words: &mut [u64], stride: usize) {
        // SAFETY: 16-byte loads from 16-byte arrays.
        let (lo_t, hi_t) = unsafe { (vld1q_u8(LO.as_ptr()), vld1q_u8(HI.as_ptr())) };
        let nib = vdupq_n_u8(0x0f);
        for (b, block) in data.chunks_exact(64).enumerate() {
            let mut digit = [vdupq_n_u8(0); 4];
            let mut numeric = digit;
            let mut base64 = digit;
            let mut sep = digit;
            let mut upper = digit;
            let mut lower = digit;
            for q in 0..4 {
                // SAFETY: `block` is 64 bytes; this reads bytes 16q..16q+16 of it.
                let v = unsafe { vld1q_u8(block.as_ptr().add(16 * q)) };
                let c = vandq_u8(
                    vqtbl1q_u8(lo_t, vandq_u8(v, nib)),
                    vqtbl1q_u8(hi_t, vshrq_n_u8::<4>(v)),
                );
                digit[q] = vtstq_u8(c, vdupq_n_u8(super::DIGIT));
                numeric[q] = vtstq_u8(c, vdupq_n_u8(NUMERIC));
                base64[q] = vtstq_u8(c, vdupq_n_u8(BASE64));
                sep[q] = vorrq_u8(vceqq_u8(v, vdupq_n_u8(b':')), vceqq_u8(v, vdupq_n_u8(b'-')));
                upper[q] = vtstq_u8(c, vdupq_n_u8(UPPER));
                lower[q] = vtstq_u8(c, vdupq_n_u8(LOWER));
            }
            words[Class::Digit as usize * stride + b] = movemask(digit);
            words[Class::Numeric as usize * stride + b] = movemask(numeric);
            words[Class::Base64 as usize * stride + b] = movemask(base64);
            words[Class::MacSep as usize * stride + b] = movemask(sep);
            words[Class::Upper as usize * stride + b] = movemask(upper);
            words[Class::Lower as usize * stride + b] = movemask(lower);
        }
    }

    #[cfg(test)]
    mod tests {
        use super::super::{block_portable, CLASSES};
        use super::classify_neon;

        /// The NEON code called directly (whichever path `classify_blocks` picks), block
        /// by block against the portable bits: every byte value alone at every position
        /// on backgrounds in no class and in several, so a lane, a weight or a class
        /// mixed up shows, and pseudo-random blocks. neon-check runs it under qemu.
        #[test]
        fn neon_gives_the_portable_bits_for_every_byte_at_every_position() {
            let mut data = Vec::new();
            for background in [0u8, b'5', b'-', b'z'] {
                for value in 0..=255u8 {
                    for pos in 0..64 {
                        let mut block = [background; 64];
                        block[pos] = value;
                        data.extend_from_slice(&block);
                    }
                }
            }
            let mut x: u64 = 0x2545_F491_4F6C_DD1D;
            data.extend((0..64 * 256).map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x as u8
            }));
            let blocks = data.len() / 64;
            let mut words = vec![0u64; blocks * CLASSES];
            // SAFETY: every aarch64 target Rust supports has NEON.
            unsafe { classify_neon(&data, &mut words, blocks) };
            for (b, block) in data.chunks_exact(64).enumerate() {
                let want = block_portable(block.first_chunk::<64>().unwrap());
                for (k, &w) in want.iter().enumerate() {
                    assert_eq!(words[k * blocks + b], w, "block {b} class {k}");
                }
            }
        }
    }
}

/// One class's mask over the data, with the walks the scans need.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Bits<'a> {
    words: &'a [u64],
}

impl<'a> Bits<'a> {
    /// A mask computed from others; like every mask, it ends with a zero word.
    #[cfg(test)]
    pub(crate) fn from_words(words: &'a [u64]) -> Bits<'a> {
        Bits { words }
    }

    #[cfg(test)]
    pub(crate) fn get(self, i: usize) -> bool {
        self.words
            .get(i / 64)
            .is_some_and(|w| w >> (i % 64) & 1 != 0)
    }

    /// The first set bit at or after `from`, if any.
    pub(crate) fn next_set(self, from: usize) -> Option<usize> {
        let mut w = from / 64;
        let mut word = *self.words.get(w)? & (!0u64 << (from % 64));
        loop {
            if word != 0 {
                return Some(w * 64 + word.trailing_zeros() as usize);
            }
            w += 1;
            word = *self.words.get(w)?;
        }
    }

    /// The first clear bit at or after `from` (the zero word at the end bounds it).
    pub(crate) fn next_clear(self, from: usize) -> usize {
        let mut w = from / 64;
        let Some(&first) = self.words.get(w) else {
            return from;
        };
        let mut word = !first & (!0u64 << (from % 64));
        loop {
            if word != 0 {
                return w * 64 + word.trailing_zeros() as usize;
            }
            w += 1;
            match self.words.get(w) {
                Some(&x) => word = !x,
                None => return w * 64,
            }
        }
    }

    /// The start of the run of set bits that ends just before `end`, but not before
    /// `floor`: the smallest `s >= floor` with every bit in `s..end` set.
    pub(crate) fn run_start(self, end: usize, floor: usize) -> usize {
        let mut s = end;
        while s > floor {
            let w = (s - 1) / 64;
            let bit = (s - 1) % 64;
            // The bits of word `w` up to and including `bit`, inverted, shifted so that
            // `bit` is the top one: leading zeros count the set bits ending at `s`.
            let x = !self.words.get(w).copied().unwrap_or(0) << (63 - bit);
            let ones = x.leading_zeros() as usize;
            if ones <= bit {
                return (s - ones).max(floor);
            }
            s -= bit + 1;
        }
        floor
    }

    /// The 64 bits starting at bit `i` (bit 0 of the result is bit `i`).
    pub(crate) fn window(self, i: usize) -> u64 {
        let (w, r) = (i / 64, i % 64);
        let a = self.words.get(w).copied().unwrap_or(0);
        if r == 0 {
            return a;
        }
        let b = self.words.get(w + 1).copied().unwrap_or(0);
        a >> r | b << (64 - r)
    }

    /// The 64 bits starting at bit `i - back` (clear where that is before bit 0).
    #[cfg(test)]
    pub(crate) fn window_back(self, i: usize, back: usize) -> u64 {
        match i.checked_sub(back) {
            Some(j) => self.window(j),
            None => self.window(0).checked_shl((back - i) as u32).unwrap_or(0),
        }
    }

    /// Whether any bit in `from..to` is set: one or two words for a short range.
    pub(crate) fn any(self, from: usize, to: usize) -> bool {
        if from >= to {
            return false;
        }
        let (a, b) = (from / 64, (to - 1) / 64);
        let head = !0u64 << (from % 64);
        let tail = !0u64 >> (63 - (to - 1) % 64);
        if a == b {
            return self.word(a) & head & tail != 0;
        }
        self.word(a) & head != 0
            || (a + 1..b).any(|w| self.word(w) != 0)
            || self.word(b) & tail != 0
    }

    /// The mask itself, the zero word at the end included.
    pub(crate) fn as_words(self) -> &'a [u64] {
        self.words
    }

    /// Words in the mask, the zero word at the end included.
    pub(crate) fn words(self) -> usize {
        self.words.len()
    }

    /// Word `w` of the mask (zero past the end).
    pub(crate) fn word(self, w: usize) -> u64 {
        self.words.get(w).copied().unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: [Class; CLASSES] = [
        Class::Digit,
        Class::Numeric,
        Class::Base64,
        Class::MacSep,
        Class::Upper,
        Class::Lower,
    ];

    fn by_bytes(data: &[u8], f: impl Fn(u8) -> bool) -> Vec<bool> {
        data.iter().map(|&b| f(b)).collect()
    }

    fn bits(m: Bits<'_>, n: usize) -> Vec<bool> {
        (0..n).map(|i| m.get(i)).collect()
    }

    fn numeric(b: u8) -> bool {
        b.is_ascii_digit() || matches!(b, b' ' | b'-' | b'.' | b'(' | b')' | b'/' | b'+' | b'%')
    }

    fn base64(b: u8) -> bool {
        b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'-' | b'_')
    }

    #[test]
    fn every_byte_value_lands_in_its_classes_at_every_position() {
        // Each byte value at each position of a block, in inputs that end inside a
        // block too (the tail path), through whichever path this CPU takes.
        for len in [64, 200, 256 + 64, 257] {
            for shift in [0usize, 1, 37] {
                let data: Vec<u8> = (0..len).map(|i| ((i + shift) * 7 % 256) as u8).collect();
                let c = Classes::new(&data);
                assert_eq!(
                    bits(c.mask(Class::Digit), len),
                    by_bytes(&data, |b| b.is_ascii_digit())
                );
                assert_eq!(bits(c.mask(Class::Numeric), len), by_bytes(&data, numeric));
                assert_eq!(bits(c.mask(Class::Base64), len), by_bytes(&data, base64));
                assert_eq!(
                    bits(c.mask(Class::MacSep), len),
                    by_bytes(&data, |b| matches!(b, b':' | b'-'))
                );
                assert_eq!(
                    bits(c.mask(Class::Upper), len),
                    by_bytes(&data, |b| b.is_ascii_uppercase())
                );
                assert_eq!(
                    bits(c.mask(Class::Lower), len),
                    by_bytes(&data, |b| b.is_ascii_lowercase())
                );
                for k in ALL {
                    assert!((len..len.next_multiple_of(64) + 64).all(|i| !c.mask(k).get(i)));
                }
            }
        }
    }

    #[test]
    fn a_reused_buffer_keeps_nothing_of_the_scan_before() {
        // Buffers go back to the pool uncleared: a shorter scan after a longer one on
        // the same thread must not see the old bits, its zero word included.
        for (long, short) in [(1000, 10), (640, 64), (130, 129), (64, 0)] {
            drop(Classes::new(&vec![b'7'; long]));
            let data = vec![b'#'; short];
            let c = Classes::new(&data);
            for k in ALL {
                let m = c.mask(k);
                assert!(
                    (0..m.words()).all(|w| m.word(w) == 0),
                    "{long}/{short} {k:?}"
                );
            }
        }
    }

    #[test]
    fn the_simd_path_gives_the_portable_bits() {
        let data: Vec<u8> = (0..64 * 8).map(|i| (i * 131 % 256) as u8).collect();
        let c = Classes::new(&data);
        for (b, block) in data.chunks_exact(64).enumerate() {
            let want = block_portable(block.first_chunk::<64>().unwrap());
            for k in ALL {
                assert_eq!(c.mask(k).word(b), want[k as usize], "block {b} class {k:?}");
            }
        }
    }

    #[test]
    fn walks_agree_with_the_bits_one_by_one() {
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        for round in 0..200 {
            let len = (round * 13) % 400;
            let data: Vec<u8> = (0..len)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    // Long runs of digits and of letters, and single bytes between.
                    [b'1', b'a', b'-', b' '][(x % 4) as usize]
                })
                .collect();
            let c = Classes::new(&data);
            let m = c.mask(Class::Digit);
            let one = bits(m, len + 70);
            for from in 0..len + 70 {
                assert_eq!(m.next_set(from), (from..len + 70).find(|&i| one[i]));
                assert_eq!(m.next_clear(from), (from..).find(|&i| !m.get(i)).unwrap());
                for floor in [0, from / 2, from] {
                    let mut s = from;
                    while s > floor && one[s - 1] {
                        s -= 1;
                    }
                    assert_eq!(m.run_start(from, floor), s, "from {from} floor {floor}");
                }
                let w: u64 = (0..64).fold(0, |a, k| a | u64::from(m.get(from + k)) << k);
                assert_eq!(m.window(from), w);
                for to in [from, from + 1, from + 5, from + 64, from + 130] {
                    assert_eq!(
                        m.any(from, to),
                        (from..to).any(|i| m.get(i)),
                        "{from}..{to}"
                    );
                }
                for back in [1, 3, 70] {
                    let w: u64 = (0..64).fold(0, |a, k| {
                        let bit = (from + k).checked_sub(back).is_some_and(|i| m.get(i));
                        a | u64::from(bit) << k
                    });
                    assert_eq!(m.window_back(from, back), w, "from {from} back {back}");
                }
            }
        }
    }
}
