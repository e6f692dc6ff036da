//! The byte-by-byte walks the bitmask scans replaced, kept as they were to check the
//! new ones against: on random and on digit-, separator- and base64-heavy inputs both
//! must find exactly the same things.

use std::collections::HashMap;

use proptest::prelude::*;

use super::*;
use crate::detector::for_each_base64_run;

static NUMERIC: [bool; 256] = {
    let mut t = [false; 256];
    let mut i = 0;
    while i < 256 {
        let b = i as u8;
        t[i] = b.is_ascii_digit()
            || matches!(b, b' ' | b'-' | b'.' | b'(' | b')' | b'/' | b'+' | b'%');
        i += 1;
    }
    t
};

fn old_numeric_region(data: &[u8], from: usize) -> Option<(usize, usize)> {
    let n = data.len();
    let mut a = from.next_multiple_of(4);
    while a + 1 < n {
        if a.is_multiple_of(8) {
            if let Some(word) = data.get(a..a + 8).and_then(|w| w.first_chunk::<8>()) {
                if !has_digit(u64::from_le_bytes(*word)) {
                    a += 8;
                    continue;
                }
            }
        }
        let (x, y) = (data[a], data[a + 1]);
        if NUMERIC[usize::from(x)]
            && NUMERIC[usize::from(y)]
            && (x.is_ascii_digit() || y.is_ascii_digit())
        {
            let mut rs = a;
            while rs > from && NUMERIC[usize::from(data[rs - 1])] {
                rs -= 1;
            }
            let mut re = a + 2;
            while re < n && NUMERIC[usize::from(data[re])] {
                re += 1;
            }
            if re - rs >= 5 {
                return Some((rs, re));
            }
            a = re.next_multiple_of(4);
        } else {
            a += 4;
        }
    }
    None
}

fn has_digit(word: u64) -> bool {
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let t = word ^ 0x3030_3030_3030_3030;
    let low = t & !HIGH;
    let ge10 = (low | HIGH).wrapping_sub(0x0A0A_0A0A_0A0A_0A0A) & HIGH;
    let digit = !ge10 & !(t & HIGH) & HIGH;
    digit != 0
}

fn old_numbers(d: &Structure, data: &[u8], where_: Where, out: &mut Vec<Found>) {
    let n = data.len();
    let mut decimals = Vec::new();
    let mut digits = Vec::with_capacity(24);
    let mut i = 0;
    let mut region_end = 0;
    while i < n {
        if i >= region_end {
            match old_numeric_region(data, i) {
                Some((rs, re)) => (i, region_end) = (rs, re),
                None => break,
            }
        }
        if !data[i].is_ascii_digit() {
            i += 1;
            continue;
        }
        let s = i;
        while i < n && data[i].is_ascii_digit() {
            i += 1;
        }
        let e = i;
        if d.probable {
            probable_digits(data, s, e, where_, out);
        }
        if !d.phone_forms.is_empty() {
            separated_phone(d, data, s, e, where_, out, &mut digits);
        }
        if d.whole_runs {
            whole_phone(d, data, s, e, where_, out, &mut digits);
        }
        if d.location.is_some() && e - s <= 3 && data.get(e) == Some(&b'.') {
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
            i = fe;
        }
    }
    if let Some((ident, loc)) = d.location {
        locations(ident, &loc, data, &decimals, where_, out);
    }
}

fn old_macs(data: &[u8], where_: Where, out: &mut Vec<Found>) {
    let mut last_end = 0;
    for p in memchr::memchr2_iter(b':', b'-', data) {
        if p < 2 || p - 2 < last_end || p + 15 > data.len() {
            continue;
        }
        let s = p - 2;
        let e = s + 17;
        let sep = data[p];
        let cand = &data[s..e];
        let shape = cand.iter().enumerate().all(|(i, &c)| {
            if i % 3 == 2 {
                c == sep
            } else {
                c.is_ascii_hexdigit()
            }
        });
        if !shape {
            continue;
        }
        let edge = |c: &u8| c.is_ascii_hexdigit() || *c == sep || *c == b':' || *c == b'.';
        if (s > 0 && edge(&data[s - 1])) || data.get(e).is_some_and(edge) {
            continue;
        }
        let Some(mac) = std::str::from_utf8(cand).ok().and_then(parse_mac) else {
            continue;
        };
        if mac == [0; 6] || mac == [0xff; 6] || mac == [2, 0, 0, 0, 0, 0] {
            continue;
        }
        last_end = e;
        out.push(probable(Kind::Mac, data, s, e, where_));
    }
}

fn is_b64(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'-' | b'_')
}

fn old_base64_runs(data: &[u8], min: usize) -> Vec<(usize, usize)> {
    let mut runs = Vec::new();
    let n = data.len();
    let mut from = 0;
    let mut a = 0;
    while a + 8 <= n {
        if let Some(j) = data[a..a + 8].iter().rposition(|&c| !is_b64(c)) {
            a += j + 1;
            a = a.next_multiple_of(8);
            continue;
        }
        let mut s = a;
        while s > from && is_b64(data[s - 1]) {
            s -= 1;
        }
        let mut i = a + 8;
        while i < n && is_b64(data[i]) {
            i += 1;
        }
        from = i;
        a = i.next_multiple_of(8);
        let run = &data[s..i];
        let mixed =
            |r: &[u8]| r.iter().any(u8::is_ascii_uppercase) && r.iter().any(u8::is_ascii_lowercase);
        if run.len() >= min && mixed(run) {
            runs.push((s, i));
            if run.contains(&b'/') {
                let mut ps = s;
                for piece in run.split(|&c| c == b'/') {
                    let pe = ps + piece.len();
                    if piece.len() >= min && mixed(piece) && (ps, pe) != (s, i) {
                        runs.push((ps, pe));
                    }
                    ps = pe + 1;
                }
            }
        }
    }
    runs
}

/// Structure as the detector builds it for the test identifiers: probable hits on,
/// a few numbers (separators and whole runs), a location.
fn structure() -> Structure {
    configured(true, true, true)
}

/// The test identifiers' structure with probable hits, whole-run lookups and the
/// location each on or off: the number scan skips regions by what is wanted.
pub(super) fn configured(probable: bool, whole_runs: bool, location: bool) -> Structure {
    let mut forms: HashMap<Vec<u8>, Vec<(u32, Kind)>> = HashMap::new();
    for (i, e164) in ["+8613800138000", "+8613912345678", "+12025550143"]
        .iter()
        .enumerate()
    {
        let n = crate::phone::parse(e164, None).expect("a valid test number");
        for f in n.forms() {
            forms
                .entry(f.into_bytes())
                .or_default()
                .push((i as u32, Kind::Phone));
        }
    }
    let loc = Location {
        lat: 39.9042,
        lon: 116.4074,
        radius_m: 500.0,
    };
    Structure::new(probable, forms, whole_runs, location.then_some((9, loc)))
}

pub(super) fn plain(found: Vec<Found>) -> Vec<(u32, Hit)> {
    found.into_iter().map(|f| (f.ident, f.hit)).collect()
}

/// Bytes that make the number, MAC and base64 walks branch: digits and their
/// separators, hex letters, both cases, `:`, escapes, and now and then anything.
pub(super) fn heavy_byte() -> impl Strategy<Value = u8> {
    prop_oneof![
        6 => proptest::sample::select(b"0123456789".to_vec()),
        3 => proptest::sample::select(b" -.()/+%:".to_vec()),
        3 => proptest::sample::select(b"abcdefABCDEFxyzXYZ_=\"@\n".to_vec()),
        1 => any::<u8>(),
    ]
}

/// Pieces that hold what the scans report, glued with heavy bytes.
pub(super) fn token() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        proptest::collection::vec(heavy_byte(), 0..12),
        proptest::sample::select(vec![
            &b"861234567890127"[..],
            b"460011234567890",
            b"89860012345678901234",
            b"+86 138 0013 8000",
            b"(202) 555-0143",
            b"%2B8613912345678",
            b"\\u002b8613800138000",
            b"3133383030313338303030",
            b"02:00:00:44:55:66",
            b"a4-5e-60-12-34-56",
            b"\"lat\":39.9042,\"lon\":116.4074",
            b"39.9041,116.4075",
            b"ODYxMjM0NTY3ODkwMTI3IGlzIG15IElNRUk=",
            b"aGVsbG8vV29ybGQxMjM0NTY3OA/SGVsbG9Xb3JsZDEyMzQ1Njc4",
            b"imei=someone@example.com",
            // Separators whose letter ends a numeric region, and decimals in a row.
            b"138%2D0013%2d8000",
            b"+1 (202)%2E555%2F0143",
            b"39.9042.116.4074",
            // A bare number exactly as long as the shortest configured form.
            b"=2025550143&",
        ])
        .prop_map(<[u8]>::to_vec),
    ]
}

fn heavy_input() -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec(token(), 0..60).prop_map(|t| t.concat())
}

fn check(data: &[u8]) -> Result<(), TestCaseError> {
    let classes = Classes::new(data);
    for probable in [true, false] {
        for whole_runs in [true, false] {
            for location in [true, false] {
                let d = configured(probable, whole_runs, location);
                let (mut old, mut new) = (Vec::new(), Vec::new());
                old_numbers(&d, data, Where::Body, &mut old);
                numbers(&d, data, &classes, Where::Body, &mut new);
                let config = (probable, whole_runs, location);
                prop_assert_eq!(plain(old), plain(new), "numbers, {:?}", config);
            }
        }
    }
    let (mut old, mut new) = (Vec::new(), Vec::new());
    old_macs(data, Where::Body, &mut old);
    macs(data, classes.mask(Class::MacSep), Where::Body, &mut new);
    prop_assert_eq!(plain(old), plain(new), "macs");
    for min in [15, 16, 24] {
        let mut new = Vec::new();
        for_each_base64_run(data, &classes, min, |s, e| new.push((s, e)));
        prop_assert_eq!(old_base64_runs(data, min), new, "base64 runs, min {}", min);
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]

    #[test]
    fn the_bitmask_scans_find_what_the_byte_walks_found_in_random_bytes(
        data in proptest::collection::vec(any::<u8>(), 0..700)
    ) {
        check(&data)?;
    }

    #[test]
    fn the_bitmask_scans_find_what_the_byte_walks_found_in_digit_heavy_text(
        data in proptest::collection::vec(heavy_byte(), 0..700)
    ) {
        check(&data)?;
    }

    #[test]
    fn the_bitmask_scans_find_what_the_byte_walks_found_among_identifiers(
        data in heavy_input()
    ) {
        check(&data)?;
    }

    #[test]
    fn the_bitmask_scans_find_what_the_byte_walks_found_in_base64_heavy_text(
        data in proptest::collection::vec(
            prop_oneof![
                20 => proptest::sample::select(
                    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/-_".to_vec()),
                1 => proptest::sample::select(b"=\n\" :.".to_vec()),
            ],
            0..700,
        )
    ) {
        check(&data)?;
    }
}

#[test]
fn the_identifier_pieces_are_found_by_both() {
    // The strategies above must reach the interesting branches: this input holds
    // every kind the structural scans report.
    let data: Vec<u8> = [
        &b"x 861234567890127 "[..],
        b"tel=+86 138 0013 8000&",
        b"mac=a4-5e-60-12-34-56;",
        b"\"lat\":39.9042,\"lon\":116.4074 ",
        b"%2B8613912345678 ",
    ]
    .concat();
    let d = structure();
    let mut new = Vec::new();
    numbers(&d, &data, &Classes::new(&data), Where::Body, &mut new);
    macs(
        &data,
        Classes::new(&data).mask(Class::MacSep),
        Where::Body,
        &mut new,
    );
    let kinds: Vec<Kind> = new.iter().map(|f| f.hit.kind).collect();
    for k in [Kind::Imei, Kind::Phone, Kind::Mac, Kind::Location] {
        assert!(kinds.contains(&k), "{k:?} in {kinds:?}");
    }
    assert!(check(&data).is_ok());
}
