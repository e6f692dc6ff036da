//! The number scan as it was before decimals were found from the masks and short
//! regions were skipped before any per-region work (fifth round), kept to check the
//! new one against: both must report exactly the same things.

use proptest::prelude::*;

use super::reference::{configured, heavy_byte, plain, token};
use super::*;

/// One pass over the digit runs of the numeric regions.
/// Returns the decimals it found, for a check of the new scan's.
fn numbers_before(
    d: &Structure,
    data: &[u8],
    classes: &Classes,
    where_: Where,
    out: &mut Vec<Found>,
) -> Vec<Decimal> {
    let digit = classes.mask(Class::Digit);
    let numeric = classes.mask(Class::Numeric);
    let mut decimals = Vec::new();
    let mut digits = Vec::new();
    regions::for_each(
        numeric,
        digit,
        0,
        |_| true,
        |rs, re| {
            let wants = WantsBefore::of(d, data, re - rs, re);
            if wants.runs() {
                let mut i = rs;
                while let Some(s) = digit.next_set(i).filter(|&s| s < re) {
                    let e = digit.next_clear(s);
                    i = e;
                    if wants.probable {
                        probable_digits(data, s, e, where_, out);
                    }
                    if wants.separated {
                        separated_phone(d, data, s, e, where_, out, &mut digits);
                    }
                    if wants.whole {
                        whole_phone(d, data, s, e, where_, out, &mut digits);
                    }
                    if wants.location && e - s <= 3 && data.get(e) == Some(&b'.') {
                        // The fractional digits are part of this number, not a run of
                        // their own.
                        i = decimal_before(data, s, e, &mut decimals);
                    }
                }
            } else if wants.location {
                // Only decimals are left: runs of 1 to 3 digits before a `.`, found from
                // the dots.
                let mut i = rs;
                // Regions are a few bytes: a plain loop costs less than memchr's setup.
                for e in (rs..re).filter(|&e| data[e] == b'.') {
                    let s = digit.run_start(e, i);
                    if s < e && e - s <= 3 {
                        i = decimal_before(data, s, e, &mut decimals);
                    }
                }
            }
        },
    );
    if let Some((ident, loc)) = d.location {
        locations(ident, &loc, data, &decimals, where_, out);
    }
    decimals
}

/// The decimal number whose integer digits are `s..e` (`data[e]` is `.`), kept when
/// it has at least 3 decimals and stands alone; returns where its digits end.
fn decimal_before(data: &[u8], s: usize, e: usize, decimals: &mut Vec<Decimal>) -> usize {
    let n = data.len();
    let mut fe = e + 1;
    while fe < n && data[fe].is_ascii_digit() {
        fe += 1;
    }
    let start = if s > 0 && data[s - 1] == b'-' {
        s - 1
    } else {
        s
    };
    let left_ok =
        start == 0 || !(data[start - 1].is_ascii_alphanumeric() || data[start - 1] == b'.');
    let right_ok = data
        .get(fe)
        .is_none_or(|c| !(c.is_ascii_alphanumeric() || *c == b'.'));
    if fe - (e + 1) >= 3 && left_ok && right_ok {
        let value = std::str::from_utf8(&data[start..fe])
            .ok()
            .and_then(|t| t.parse::<f64>().ok());
        if let Some(value) = value {
            decimals.push(Decimal {
                start,
                end: fe,
                value,
                key: axis_key(data, start),
            });
        }
    }
    fe
}

/// Which of the per-run checks can find anything in one numeric region, decided from
/// its length before any run is looked at: most regions of a JSON body (a UUID's
/// groups, a version, a price) are too short to hold a configured number or a 15-digit
/// identifier, and only a position's decimals are left to look for there.
#[derive(Debug, Default, Clone, Copy)]
struct WantsBefore {
    probable: bool,
    separated: bool,
    whole: bool,
    location: bool,
}

impl WantsBefore {
    /// `len` is the length of the region ending at `end`: at least its digits.
    fn of(d: &Structure, data: &[u8], len: usize, end: usize) -> WantsBefore {
        // A number's groups all lie in its region unless a separator is `%2D`, `%2E`
        // or `%2F`, whose letter ends the region: then later regions add digits.
        let escaped_on = end >= 2
            && data[end - 2..end] == *b"%2"
            && data
                .get(end)
                .is_some_and(|c| matches!(c.to_ascii_uppercase(), b'D' | b'E' | b'F'));
        let numbers = len >= d.min_digits;
        WantsBefore {
            probable: d.probable && len >= 15,
            separated: !d.phone_forms.is_empty() && (numbers || escaped_on),
            whole: d.whole_runs && numbers,
            location: d.location.is_some(),
        }
    }

    /// Whether every digit run must be looked at.
    fn runs(self) -> bool {
        self.probable || self.separated || self.whole
    }
}

/// The configurations the scan decides by: the test numbers with probable hits,
/// whole-run lookups and the location each on or off, and no numbers at all (only
/// probable hits, or only the location).
fn configs() -> Vec<Structure> {
    let loc = Location {
        lat: 39.9042,
        lon: 116.4074,
        radius_m: 500.0,
    };
    let mut all = Vec::new();
    for probable in [true, false] {
        for whole_runs in [true, false] {
            for location in [true, false] {
                all.push(configured(probable, whole_runs, location));
            }
        }
    }
    all.push(Structure::new(true, HashMap::new(), false, None));
    all.push(Structure::new(false, HashMap::new(), false, Some((9, loc))));
    all
}

fn decimal_key(d: &Decimal) -> (usize, usize, u64, Option<Axis>) {
    (d.start, d.end, d.value.to_bits(), d.key)
}

fn check(data: &[u8]) -> Result<(), TestCaseError> {
    let classes = Classes::new(data);
    for (k, d) in configs().iter().enumerate() {
        let (mut old, mut new) = (Vec::new(), Vec::new());
        let old_decimals = numbers_before(d, data, &classes, Where::Body, &mut old);
        numbers(d, data, &classes, Where::Body, &mut new);
        prop_assert_eq!(plain(old), plain(new), "configuration {}", k);
        if d.location.is_some() {
            let (digit, numeric) = (classes.mask(Class::Digit), classes.mask(Class::Numeric));
            let new_decimals = decimals(data, digit, numeric);
            prop_assert_eq!(
                old_decimals.iter().map(decimal_key).collect::<Vec<_>>(),
                new_decimals.iter().map(decimal_key).collect::<Vec<_>>(),
                "decimals, configuration {}",
                k
            );
        }
    }
    Ok(())
}

/// Pieces that make the decimal and region checks branch: decimals of every length,
/// signs, dots and commas in a row, escaped separators, positions near the configured
/// one, and multi-byte UTF-8.
fn decimal_token() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        3 => token(),
        2 => proptest::collection::vec(
            proptest::sample::select(b"0123456789..,-%".to_vec()),
            0..10,
        ),
        2 => proptest::sample::select(vec![
            &b"39.9042,116.4074"[..],
            b"116.4074,39.9042",
            b"-39.9042",
            b"lat=39.9041&lng=116.4075",
            b"\"latitude\":39.90421,\"longitude\":116.40739",
            b"1.234.567",
            b"12.3456.789",
            b"1234.567",
            b"0.000",
            b"5.0 (",
            b"/537.36",
            b"12.99,",
            b"%2E",
            b"%2e",
            b"%2C",
            b"%2D",
            b"\xc3\xa9",
            b"\xe4\xb8\xad",
            b"\xe2\x82\xac",
            b"\xf0\x9f\x98\x80",
        ])
        .prop_map(<[u8]>::to_vec),
    ]
}

/// Decimal-heavy text, shifted by 0 to 63 bytes so every piece lands on every
/// position of a mask word, word edges included.
fn decimal_input() -> impl Strategy<Value = Vec<u8>> {
    (
        0usize..64,
        proptest::collection::vec(decimal_token(), 0..60),
    )
        .prop_map(|(pad, t)| {
            let mut data = vec![b'x'; pad];
            data.extend(t.concat());
            data
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]

    #[test]
    fn the_number_scan_finds_what_it_found_before_in_random_bytes(
        data in proptest::collection::vec(any::<u8>(), 0..700)
    ) {
        check(&data)?;
    }

    #[test]
    fn the_number_scan_finds_what_it_found_before_in_digit_heavy_text(
        data in proptest::collection::vec(heavy_byte(), 0..700)
    ) {
        check(&data)?;
    }

    #[test]
    fn the_number_scan_finds_what_it_found_before_among_decimals_and_escapes(
        data in decimal_input()
    ) {
        check(&data)?;
    }
}

#[test]
fn decimals_at_word_edges_and_in_a_row_are_found_by_both() {
    // Positions straddling the first and second word boundaries, a decimal right at
    // the end, and dotted runs where only some pieces stand alone.
    let mut data = vec![b'x'; 200];
    data[57..75].copy_from_slice(b"[39.9042,116.4074]");
    data[120..131].copy_from_slice(b" 1.234.567 ");
    data[150..160].copy_from_slice(b"=-12.3456&");
    data[192..200].copy_from_slice(b" 116.407");
    let classes = Classes::new(&data);
    let found = decimals(
        &data,
        classes.mask(Class::Digit),
        classes.mask(Class::Numeric),
    );
    let spans: Vec<(usize, usize)> = found.iter().map(|d| (d.start, d.end)).collect();
    assert_eq!(spans, [(58, 65), (66, 74), (151, 159), (193, 200)]);
    assert!(check(&data).is_ok());
}
