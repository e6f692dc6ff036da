//! The Huffman code of HPACK string literals (RFC 7541 section 5.2, Appendix B).
//!
//! The code is canonical: codes of one length are consecutive in symbol order, each
//! length following on from the one before. So the table below holds only each
//! symbol's code length (Appendix B's "len" column), and decoding walks the lengths.

use std::sync::OnceLock;

/// Code length in bits of each symbol 0..=255 and of EOS (256), from RFC 7541 Appendix B.
#[rustfmt::skip]
const CODE_LENGTHS: [u8; 257] = [
    13, 23, 28, 28, 28, 28, 28, 28, 28, 24, 30, 28, 28, 30, 28, 28,
    28, 28, 28, 28, 28, 28, 30, 28, 28, 28, 28, 28, 28, 28, 28, 28,
    6, 10, 10, 12, 13, 6, 8, 11, 10, 10, 8, 11, 8, 6, 6, 6,
    5, 5, 5, 6, 6, 6, 6, 6, 6, 6, 7, 8, 15, 6, 12, 10,
    13, 6, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7,
    7, 7, 7, 7, 7, 7, 7, 7, 8, 7, 8, 13, 19, 13, 14, 6,
    15, 5, 6, 5, 6, 5, 6, 6, 6, 5, 7, 7, 6, 6, 6, 5,
    6, 7, 6, 5, 5, 6, 7, 7, 7, 7, 7, 15, 11, 14, 13, 28,
    20, 22, 20, 20, 22, 22, 22, 23, 22, 23, 23, 23, 23, 23, 24, 23,
    24, 24, 22, 23, 24, 23, 23, 23, 23, 21, 22, 23, 22, 23, 23, 24,
    22, 21, 20, 22, 22, 23, 23, 21, 23, 22, 22, 24, 21, 22, 23, 23,
    21, 21, 22, 21, 23, 22, 23, 23, 20, 22, 22, 22, 23, 22, 22, 23,
    26, 26, 20, 19, 22, 23, 22, 25, 26, 26, 26, 27, 27, 26, 24, 25,
    19, 21, 26, 27, 27, 26, 27, 24, 21, 21, 26, 26, 28, 27, 27, 27,
    20, 24, 20, 21, 22, 21, 21, 23, 22, 22, 25, 25, 24, 24, 26, 23,
    26, 27, 26, 26, 27, 27, 27, 27, 27, 28, 27, 27, 27, 27, 27, 26,
    30
];

const EOS: u16 = 256;
const MAX_LEN: usize = 30;

/// Why a Huffman-coded string cannot be decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum HuffmanError {
    #[error("Huffman string holds the EOS symbol")]
    Eos,
    #[error("Huffman string ends in padding that is too long or not all ones")]
    Padding,
}

/// Per code length: the first code, how many codes, and where their symbols start in
/// `symbols` (all symbols sorted by length, then value).
struct Canonical {
    first: [u32; MAX_LEN + 1],
    count: [u32; MAX_LEN + 1],
    start: [u32; MAX_LEN + 1],
    symbols: [u16; 257],
}

fn canonical() -> &'static Canonical {
    static TABLE: OnceLock<Canonical> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut c = Canonical {
            first: [0; MAX_LEN + 1],
            count: [0; MAX_LEN + 1],
            start: [0; MAX_LEN + 1],
            symbols: [0; 257],
        };
        for &len in &CODE_LENGTHS {
            c.count[usize::from(len)] += 1;
        }
        let (mut code, mut at) = (0u32, 0u32);
        for len in 1..=MAX_LEN {
            code = (code + c.count[len - 1]) << 1;
            c.first[len] = code;
            c.start[len] = at;
            at += c.count[len];
        }
        let mut next = c.start;
        for (sym, &len) in CODE_LENGTHS.iter().enumerate() {
            let slot = &mut next[usize::from(len)];
            // 257 symbols: every index and value fits.
            c.symbols[*slot as usize] = sym as u16;
            *slot += 1;
        }
        c
    })
}

/// Decodes a Huffman-coded string literal into `out`.
pub fn decode(input: &[u8], out: &mut Vec<u8>) -> Result<(), HuffmanError> {
    let c = canonical();
    let (mut code, mut len) = (0u32, 0usize);
    for byte in input {
        for shift in (0..8).rev() {
            code = code << 1 | u32::from(byte >> shift & 1);
            len += 1;
            let offset = code.wrapping_sub(c.first[len]);
            if offset < c.count[len] {
                let sym = c.symbols[(c.start[len] + offset) as usize];
                if sym == EOS {
                    return Err(HuffmanError::Eos);
                }
                // Symbols below 256 are bytes.
                out.push(sym as u8);
                code = 0;
                len = 0;
            } else if len == MAX_LEN {
                // Every 30-bit pattern is a code (the code is complete), so this is
                // unreachable; kept so a bad table cannot index out of bounds.
                return Err(HuffmanError::Padding);
            }
        }
    }
    // What is left must be a prefix of EOS: under 8 bits, all ones.
    if len >= 8 || code != (1u32 << len) - 1 {
        return Err(HuffmanError::Padding);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decoded(hex: &str) -> Result<Vec<u8>, HuffmanError> {
        let bytes = crate::testutil::hex(hex);
        let mut out = Vec::new();
        decode(&bytes, &mut out).map(|()| out)
    }

    #[test]
    fn the_rfc_7541_appendix_c_4_strings_decode() {
        // RFC 7541 C.4.1: "www.example.com", C.4.2: "no-cache", C.4.3: "custom-key".
        assert_eq!(
            decoded("f1e3 c2e5 f23a 6ba0 ab90 f4ff").unwrap(),
            b"www.example.com"
        );
        assert_eq!(decoded("a8eb 1064 9cbf").unwrap(), b"no-cache");
        assert_eq!(decoded("25a8 49e9 5ba9 7d7f").unwrap(), b"custom-key");
        assert_eq!(decoded("25a8 49e9 5bb8 e8b4 bf").unwrap(), b"custom-value");
    }

    #[test]
    fn the_code_is_complete_and_its_codes_are_canonical() {
        // Kraft sum of a complete prefix code is exactly 1.
        let kraft: u64 = CODE_LENGTHS.iter().map(|&l| 1u64 << (30 - l)).sum();
        assert_eq!(kraft, 1 << 30);
        // Appendix B: '0' is 00000 (5 bits), 'a' 00011, EOS is thirty ones.
        let c = canonical();
        assert_eq!((c.first[5], c.count[5]), (0, 10));
        assert_eq!(
            c.symbols[usize::try_from(c.start[30] + c.count[30] - 1).unwrap()],
            EOS
        );
    }

    #[test]
    fn eos_and_bad_padding_are_errors() {
        // Thirty one bits: EOS itself.
        assert_eq!(decoded("ffff fffc"), Err(HuffmanError::Eos));
        // A whole byte of padding.
        assert_eq!(
            decoded("f1e3 c2e5 f23a 6ba0 ab90 f4ff ff"),
            Err(HuffmanError::Padding)
        );
        // Padding with a zero bit: '0' (00000) then 000 left over.
        assert_eq!(decoded("00"), Err(HuffmanError::Padding));
    }
}
