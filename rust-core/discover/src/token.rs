//! Which values could be a device identifier at all: long, random-looking tokens in the
//! shapes identifiers travel in (UUID, hex, base64, long digit strings). Timestamps,
//! dates, low-entropy strings and well-known placeholder values are not.

use serde::{Deserialize, Serialize};

/// The shape of a candidate token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Shape {
    /// `8-4-4-4-12` hex digits (OAID, install ids, advertising ids).
    Uuid,
    /// At least 16 hex digits with letters and digits (Android ID, VAID).
    Hex,
    /// Standard or URL-safe base64 alphabet with upper case, lower case and digits.
    Base64,
    /// At least 14 decimal digits (IMEI-like, MEID, numeric device ids).
    Digits,
}

impl Shape {
    pub const fn as_str(self) -> &'static str {
        match self {
            Shape::Uuid => "uuid",
            Shape::Hex => "hex",
            Shape::Base64 => "base64",
            Shape::Digits => "digits",
        }
    }
}

/// Shortest and longest token considered (digit strings may be as short as
/// [`MIN_DIGITS`]). Shorter values collide by chance; longer ones are blobs (signed
/// tokens, payloads), not identifiers.
pub const MIN_LEN: usize = 16;
pub const MAX_LEN: usize = 64;
pub const MIN_DIGITS: usize = 14;

/// Placeholders that many devices send: a zeroed advertising id (ad tracking limited),
/// the all-ones UUID, and the emulator's Android ID.
const PLACEHOLDERS: [&str; 3] = [
    "00000000-0000-0000-0000-000000000000",
    "ffffffff-ffff-ffff-ffff-ffffffffffff",
    "9774d56d682e549c",
];

/// The shape of `value` if it is a candidate identifier.
pub fn shape(value: &str) -> Option<Shape> {
    let b = value.as_bytes();
    if b.len() < MIN_DIGITS || b.len() > MAX_LEN {
        return None;
    }
    if PLACEHOLDERS.iter().any(|p| p.eq_ignore_ascii_case(value)) {
        return None;
    }
    let shape = if is_uuid(b) {
        Shape::Uuid
    } else if b.iter().all(u8::is_ascii_digit) {
        if is_time(b) {
            return None;
        }
        Shape::Digits
    } else if b.len() < MIN_LEN {
        return None;
    } else if b.iter().all(u8::is_ascii_hexdigit) {
        let lower = b.iter().any(u8::is_ascii_lowercase);
        let upper = b.iter().any(u8::is_ascii_uppercase);
        // Mixed case is not how hex is written: it is base64 or a word.
        if lower && upper {
            base64_shape(b)?
        } else {
            Shape::Hex
        }
    } else {
        base64_shape(b)?
    };
    random_enough(b, shape).then_some(shape)
}

fn is_uuid(b: &[u8]) -> bool {
    b.len() == 36
        && b.iter().enumerate().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => *c == b'-',
            _ => c.is_ascii_hexdigit(),
        })
}

fn base64_shape(b: &[u8]) -> Option<Shape> {
    let body = b.strip_suffix(b"==").or(b.strip_suffix(b"=")).unwrap_or(b);
    let alphabet = |c: &u8| c.is_ascii_alphanumeric() || matches!(c, b'+' | b'/' | b'-' | b'_');
    let all = body.iter().all(alphabet);
    let upper = body.iter().any(u8::is_ascii_uppercase);
    let lower = body.iter().any(u8::is_ascii_lowercase);
    let digit = body.iter().any(u8::is_ascii_digit);
    // Paths (`/a/b/c`) and dashed names (`com-example-app`) use the same alphabet.
    let separators = body
        .iter()
        .filter(|c| matches!(c, b'+' | b'/' | b'-' | b'_'))
        .count();
    // Random base64 changes between upper case, lower case and digits at about two
    // symbols in three; words written in camel case rarely do.
    let class = |c: &u8| {
        (
            c.is_ascii_uppercase(),
            c.is_ascii_lowercase(),
            c.is_ascii_digit(),
        )
    };
    let changes = body
        .windows(2)
        .filter(|w| class(&w[0]) != class(&w[1]))
        .count();
    let ok = all && upper && lower && digit && separators * 8 <= body.len();
    (ok && changes * 3 >= body.len()).then_some(Shape::Base64)
}

/// Seconds, milliseconds, microseconds or nanoseconds since 1970 between 2001 and 2100,
/// or a `YYYYMMDDhhmmss[fff...]` date: clocks, not identifiers.
fn is_time(b: &[u8]) -> bool {
    const LOW: u64 = 978_307_200; // 2001-01-01
    const HIGH: u64 = 4_102_444_800; // 2100-01-01
    if let Ok(n) = std::str::from_utf8(b).unwrap_or("").parse::<u64>() {
        let mut scaled = n;
        for _ in 0..4 {
            if (LOW..HIGH).contains(&scaled) {
                return true;
            }
            scaled /= 1000;
        }
    }
    let num = |r: std::ops::Range<usize>| {
        b[r].iter()
            .fold(0u32, |acc, d| acc * 10 + u32::from(d - b'0'))
    };
    let year = num(0..4);
    let (month, day, hour) = (num(4..6), num(6..8), num(8..10));
    (1990..2100).contains(&year)
        && (1..=12).contains(&month)
        && (1..=31).contains(&day)
        && hour < 24
}

/// Rejects values with few distinct symbols, low symbol entropy, or mostly counting
/// runs (`0123456789abcdef`): those are placeholders and test values.
fn random_enough(b: &[u8], shape: Shape) -> bool {
    let symbols: Vec<u8> = b.iter().copied().filter(|&c| c != b'-').collect();
    let mut counts = [0u32; 256];
    for &c in &symbols {
        counts[usize::from(c.to_ascii_lowercase())] += 1;
    }
    let n = symbols.len() as f64;
    let distinct = counts.iter().filter(|&&c| c > 0).count();
    let entropy: f64 = counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = f64::from(c) / n;
            -p * p.log2()
        })
        .sum();
    let runs = symbols
        .windows(2)
        .filter(|w| w[1] == w[0].wrapping_add(1) || w[1] == w[0])
        .count();
    // Random 16-digit hex has about 3.4 bits per symbol on average, random digits
    // about 3.0; the floors leave room for chance and catch repeated patterns.
    let floor = match shape {
        Shape::Digits => 2.5,
        Shape::Hex | Shape::Uuid => 2.8,
        Shape::Base64 => 3.2,
    };
    distinct >= 6 && entropy >= floor && runs * 2 < symbols.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifier_shapes_are_candidates() {
        let cases = [
            ("a3f1c2d4-5b6e-4f70-8a9b-0c1d2e3f4a5b", Shape::Uuid),
            ("3c6e9a1f07b2d845", Shape::Hex),
            (
                "0F3A9C7E21B64D58A0C3E7F912B4D6A80F3A9C7E21B64D58A0C3E7F912B4D6A8",
                Shape::Hex,
            ),
            ("Xk3pQ9vL2mZ7rT4wYb8n", Shape::Base64),
            ("Xk3pQ9vL2mZ7rT4wYb8nAA==", Shape::Base64),
            ("352099001761481", Shape::Digits),
            ("35209900176148239", Shape::Digits),
        ];
        for (value, want) in cases {
            assert_eq!(shape(value), Some(want), "{value}");
        }
    }

    #[test]
    fn clocks_words_placeholders_and_patterns_are_not() {
        for value in [
            "1700000000123456",                     // microseconds since 1970
            "1700000000123456789",                  // nanoseconds
            "20261203072233",                       // YYYYMMDDhhmmss
            "00000000-0000-0000-0000-000000000000", // zeroed advertising id
            "9774d56d682e549c",                     // emulator Android ID
            "0123456789abcdef",                     // counting
            "aaaaaaaaaaaaaaaaaaaa",
            "abababababababab1",
            "ApplicationVersion1",            // a word with a digit
            "/api/v1/devices/register/2",     // a path
            "com-example-android-app-v2-Foo", // a dashed name
            "short1A",
            "123456789012",
        ] {
            assert_eq!(shape(value), None, "{value}");
        }
    }

    #[test]
    fn lengths_outside_the_window_are_not_candidates() {
        assert_eq!(shape(&"a1B2".repeat(3)), None);
        assert_eq!(shape(&"3c6e9a1f07b2d845".repeat(5)), None);
    }

    #[test]
    fn any_input_is_classified_without_panicking() {
        for value in [
            "",
            "-",
            "é",
            "🙂🙂🙂🙂🙂🙂🙂🙂🙂🙂🙂🙂🙂🙂🙂🙂",
            "99999999999999999999999",
        ] {
            let _ = shape(value);
        }
    }
}
