//! The encodings identifiers travel in, as small pure functions: hex, base64 (both
//! alphabets, and the characters that stay the same wherever in a longer base64 text a
//! value starts), percent-encoding, JSON string escaping, digests.

use sha1::Digest as _;

const B64_STD: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const B64_URL: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// Lower-case hex.
pub fn hex(bytes: &[u8]) -> String {
    const H: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(H[usize::from(b >> 4)] as char);
        s.push(H[usize::from(b & 15)] as char);
    }
    s
}

/// Base64 without padding; `url` picks the URL-safe alphabet.
pub fn base64(bytes: &[u8], url: bool) -> String {
    let alpha = if url { B64_URL } else { B64_STD };
    let mut s = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let v = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        let chars = chunk.len() + 1;
        for k in 0..chars {
            s.push(alpha[((v >> (18 - 6 * k)) & 63) as usize] as char);
        }
    }
    s
}

/// The base64 characters of `value` that do not depend on its neighbours when it starts
/// `align` (0, 1 or 2) bytes into a 3-byte group of a longer text: character j encodes
/// bits 6j..6j+6, so it is stable when those bits all belong to the value.
pub fn base64_stable(value: &[u8], align: usize, url: bool) -> String {
    let mut buf = vec![0u8; align];
    buf.extend_from_slice(value);
    let enc = base64(&buf, url);
    let first = (8 * align).div_ceil(6);
    let end = (8 * (align + value.len())) / 6;
    enc.get(first..end).unwrap_or("").to_string()
}

/// Value of a base64 character in either alphabet.
pub fn b64_value(c: u8) -> Option<u8> {
    match c {
        b'A'..=b'Z' => Some(c - b'A'),
        b'a'..=b'z' => Some(c - b'a' + 26),
        b'0'..=b'9' => Some(c - b'0' + 52),
        b'+' | b'-' => Some(62),
        b'/' | b'_' => Some(63),
        _ => None,
    }
}

/// Decodes base64 in either alphabet, without padding; a dangling last character (which
/// carries fewer than 8 bits) is ignored. Returns `None` on any other character.
pub fn base64_decode(text: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    let mut acc: u32 = 0;
    let mut bits = 0;
    for &c in text {
        acc = (acc << 6) | u32::from(b64_value(c)?);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Some(out)
}

/// Percent-encoding as `encodeURIComponent` does it (unreserved characters kept).
pub fn percent_all(s: &str, space_plus: bool) -> String {
    let mut out = String::new();
    for &b in s.as_bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                out.push(b as char)
            }
            b' ' if space_plus => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// Percent-encoding as `encodeURI` does it: only what cannot appear in a URL at all.
pub fn percent_min(s: &str) -> String {
    let mut out = String::new();
    for &b in s.as_bytes() {
        if b.is_ascii_graphic()
            && !matches!(
                b,
                b'"' | b'%' | b'<' | b'>' | b'\\' | b'^' | b'`' | b'{' | b'|' | b'}'
            )
        {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// How a JSON serialiser may escape a string (without the quotes).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum JsonStyle {
    /// Quotes, backslashes and control characters escaped; non-ASCII as `\uXXXX`.
    AsciiOnly,
    /// As `AsciiOnly`, and `/` as `\/` (PHP, some Java serialisers).
    Slashes,
    /// Every ASCII punctuation character as `\u00XX`.
    UnicodePunct,
    /// Only this one character as `\u00XX` (Gson escapes `<>&='`, others `@` or `+`).
    UnicodeOne(char),
}

pub fn json_escape(s: &str, style: JsonStyle) -> String {
    let mut out = String::new();
    for c in s.chars() {
        match c {
            '"' if style == JsonStyle::AsciiOnly || style == JsonStyle::Slashes => {
                out.push_str("\\\"")
            }
            '\\' if style == JsonStyle::AsciiOnly || style == JsonStyle::Slashes => {
                out.push_str("\\\\")
            }
            '/' if style == JsonStyle::Slashes => out.push_str("\\/"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c.is_ascii_punctuation() && style == JsonStyle::UnicodePunct)
                || style == JsonStyle::UnicodeOne(c) =>
            {
                out.push_str(&format!("\\u{:04x}", c as u32))
            }
            c if (c as u32) < 0x20 || !c.is_ascii() => {
                let mut units = [0u16; 2];
                for u in c.encode_utf16(&mut units) {
                    out.push_str(&format!("\\u{u:04x}"));
                }
            }
            c => out.push(c),
        }
    }
    out
}

/// The digest algorithms checked.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Algo {
    Md5,
    Sha1,
    Sha256,
}

pub fn digest(algo: Algo, data: &[u8]) -> Vec<u8> {
    match algo {
        Algo::Md5 => md5::Md5::digest(data).to_vec(),
        Algo::Sha1 => sha1::Sha1::digest(data).to_vec(),
        Algo::Sha256 => sha2::Sha256::digest(data).to_vec(),
    }
}

/// Luhn check over ASCII digits (IMEI, ICCID).
pub fn luhn_ok(digits: &[u8]) -> bool {
    let mut sum = 0u32;
    for (i, &d) in digits.iter().rev().enumerate() {
        if !d.is_ascii_digit() {
            return false;
        }
        let mut v = u32::from(d - b'0');
        if i % 2 == 1 {
            v *= 2;
            if v > 9 {
                v -= 9;
            }
        }
        sum += v;
    }
    sum.is_multiple_of(10)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_rfc4648_vectors() {
        for (plain, enc) in [
            ("", ""),
            ("f", "Zg"),
            ("fo", "Zm8"),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg"),
            ("fooba", "Zm9vYmE"),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64(plain.as_bytes(), false), enc);
            assert_eq!(base64_decode(enc.as_bytes()).unwrap(), plain.as_bytes());
        }
        assert_eq!(base64(&[0xfb, 0xff], true), "-_8");
    }

    #[test]
    fn stable_base64_characters_appear_in_every_embedding() {
        let value = b"861234567890123";
        for prefix_len in 0..9 {
            let mut text = vec![b'x'; prefix_len];
            text.extend_from_slice(value);
            text.extend_from_slice(b"yz");
            let enc = base64(&text, false);
            let stable = base64_stable(value, prefix_len % 3, false);
            assert!(stable.len() >= 18);
            assert!(enc.contains(&stable), "{prefix_len}: {enc} lacks {stable}");
        }
    }

    #[test]
    fn json_styles_escape_as_serialisers_do() {
        assert_eq!(json_escape("a/b\"c", JsonStyle::AsciiOnly), "a/b\\\"c");
        assert_eq!(json_escape("a/b", JsonStyle::Slashes), "a\\/b");
        assert_eq!(
            json_escape("x@y.z", JsonStyle::UnicodePunct),
            "x\\u0040y\\u002ez"
        );
        assert_eq!(json_escape("见面", JsonStyle::AsciiOnly), "\\u89c1\\u9762");
        assert_eq!(json_escape("😀", JsonStyle::AsciiOnly), "\\ud83d\\ude00");
    }

    #[test]
    fn percent_encoding_variants() {
        assert_eq!(percent_all("+86 1@x", false), "%2B86%201%40x");
        assert_eq!(percent_all("a b", true), "a+b");
        assert_eq!(percent_min("a b@c"), "a%20b@c");
    }

    #[test]
    fn luhn_accepts_a_valid_imei() {
        assert!(luhn_ok(b"490154203237518"));
        assert!(!luhn_ok(b"490154203237519"));
    }

    #[test]
    fn sha1_matches_the_fips_vector() {
        assert_eq!(
            hex(&digest(Algo::Sha1, b"abc")),
            "a9993e364706816aba3e25717850c26c9cd0d89d"
        );
        assert_eq!(
            hex(&digest(Algo::Md5, b"")),
            "d41d8cd98f00b204e9800998ecf8427e"
        );
    }
}
