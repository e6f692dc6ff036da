//! Structural scans, for what a list of patterns cannot express: configured numbers
//! written with arbitrary separators, identifiers nobody configured (probable hits),
//! and positions near the configured location.

use std::collections::HashMap;

use crate::boundary::{boundary_ok, Boundary};
use crate::classify::{Bits, Class, Classes};
use crate::encode::luhn_ok;
use crate::hit::{evidence, Found, Hit, PROBABLE};
use crate::ids::{parse_mac, Location};
use crate::mask::{mask, mask_head};
use crate::tables::{is_mcc, plausible_tac};
use crate::{Confidence, Encoding, Kind, Where};

/// Keys after which an e-mail address is reported as a probable identifier. Keys are
/// compared lower-cased without `_` and `-`, by suffix (`user_email`, `x-device-id`).
const ID_KEYS: &[&[u8]] = &[
    b"imei",
    b"deviceid",
    b"gaid",
    b"adid",
    b"androidid",
    b"serial",
    b"mac",
    b"iccid",
    b"imsi",
    b"msisdn",
    b"phone",
    b"email",
    b"mail",
    b"account",
];

/// What the structural scans look for, taken from the identifiers file.
#[derive(Debug)]
pub(crate) struct Structure {
    /// Report identifiers nobody configured.
    probable: bool,
    /// Every digit form of every configured number, and whose number it is.
    phone_forms: HashMap<Vec<u8>, Vec<(u32, Kind)>>,
    /// Bit n set when some key of `phone_forms` is n bytes long.
    phone_lens: u32,
    /// The fewest digits any key of `phone_forms` holds (`usize::MAX` when none): a
    /// numeric region with fewer cannot hold a configured number.
    min_digits: usize,
    /// Some numbers are not in the automaton: look every digit run up whole.
    whole_runs: bool,
    location: Option<(u32, Location)>,
}

impl Structure {
    pub(crate) fn new(
        probable: bool,
        phone_forms: HashMap<Vec<u8>, Vec<(u32, Kind)>>,
        whole_runs: bool,
        location: Option<(u32, Location)>,
    ) -> Self {
        let phone_lens = phone_forms
            .keys()
            .filter(|k| k.len() < 32)
            .fold(0, |m, k| m | (1 << k.len()));
        let min_digits = phone_forms
            .keys()
            .map(|k| k.iter().filter(|c| c.is_ascii_digit()).count())
            .min()
            .unwrap_or(usize::MAX);
        Self {
            probable,
            phone_forms,
            phone_lens,
            min_digits,
            whole_runs,
            location,
        }
    }

    /// `classes` are `data`'s (see [`Classes::new`]).
    pub(crate) fn scan(&self, data: &[u8], classes: &Classes, where_: Where, out: &mut Vec<Found>) {
        if self.wants_numbers() {
            numbers(self, data, classes, where_, out);
        }
        if self.probable {
            macs(data, classes.mask(Class::MacSep), where_, out);
            emails(data, where_, out);
        }
    }

    /// The shortest numeric region a per-run check can find anything in, escaped
    /// separators aside (`usize::MAX` when none can).
    fn runs_from(&self) -> usize {
        let probable = if self.probable { 15 } else { usize::MAX };
        let numbers = if self.phone_forms.is_empty() {
            usize::MAX
        } else {
            self.min_digits
        };
        probable.min(numbers)
    }

    fn wants_numbers(&self) -> bool {
        self.probable || !self.phone_forms.is_empty() || self.location.is_some()
    }
}

fn probable(kind: Kind, data: &[u8], s: usize, e: usize, where_: Where) -> Found {
    let text = String::from_utf8_lossy(&data[s..e]);
    Found {
        ident: PROBABLE + kind as u32,
        hit: Hit {
            kind,
            encoding: Encoding::Plain,
            digest_form: None,
            inner: None,
            truncated: false,
            confidence: Confidence::Probable,
            where_,
            offset: s,
            len: e - s,
            evidence: evidence(data, s, e, &mask(&text)),
        },
    }
}

#[derive(Debug, Clone, Copy)]
struct Decimal {
    start: usize,
    end: usize,
    value: f64,
    key: Option<Axis>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Axis {
    Lat,
    Lon,
}

/// One pass over the digit runs of the numeric regions long enough to hold a number,
/// then the decimals a position is written with.
pub(crate) fn numbers(
    d: &Structure,
    data: &[u8],
    classes: &Classes,
    where_: Where,
    out: &mut Vec<Found>,
) {
    let digit = classes.mask(Class::Digit);
    let numeric = classes.mask(Class::Numeric);
    let mut digits = Vec::new();
    let escapes = !d.phone_forms.is_empty();
    let min_len = d.runs_from();
    // A region shorter than `min_len` is only looked at when it ends on `%2` (see
    // `Wants::of`). With no number configured and no probable hits none is looked at.
    let keep_short = |end: usize| escapes && end >= 2 && data[end - 2..end] == *b"%2";
    if min_len < usize::MAX {
        regions::for_each(numeric, digit, min_len, keep_short, |rs, re| {
            runs(d, data, digit, (rs, re), where_, out, &mut digits);
        });
    }
    if let Some((ident, loc)) = d.location {
        let decimals = decimals(data, digit, numeric);
        locations(ident, &loc, data, &decimals, where_, out);
    }
}

/// The per-run checks of the numeric region `rs..re`.
fn runs(
    d: &Structure,
    data: &[u8],
    digit: Bits<'_>,
    (rs, re): (usize, usize),
    where_: Where,
    out: &mut Vec<Found>,
    digits: &mut Vec<u8>,
) {
    let wants = Wants::of(d, data, re - rs, re);
    if !wants.runs() {
        return;
    }
    let mut i = rs;
    while let Some(s) = digit.next_set(i).filter(|&s| s < re) {
        let e = digit.next_clear(s);
        i = e;
        if wants.probable {
            probable_digits(data, s, e, where_, out);
        }
        if wants.separated {
            separated_phone(d, data, s, e, where_, out, digits);
        }
        if wants.whole {
            whole_phone(d, data, s, e, where_, out, digits);
        }
        if d.location.is_some() && e - s <= 3 && data.get(e) == Some(&b'.') {
            // The fractional digits are part of a decimal, not a run of their own.
            i = digits_end(data, e + 1);
        }
    }
}

/// The decimals a position may be written with (1 to 3 digits, `.`, 3 or more), in
/// order. Candidates come from the masks: a number byte not a digit, with a digit
/// before it and three after. A JSON body's prices and versions have fewer decimals,
/// so most bodies have no candidate and no byte is looked at.
fn decimals(data: &[u8], digit: Bits<'_>, numeric: Bits<'_>) -> Vec<Decimal> {
    let mut out = Vec::new();
    let mut prev = 0u64;
    for w in 0..digit.words() {
        let (dg, next) = (digit.word(w), digit.word(w + 1));
        let punct = numeric.word(w) & !dg;
        let after = |k: u32| dg >> k | next << (64 - k);
        let mut dots = punct & (dg << 1 | prev >> 63) & after(1) & after(2) & after(3);
        prev = dg;
        while dots != 0 {
            let e = w * 64 + dots.trailing_zeros() as usize;
            dots &= dots - 1;
            if data[e] != b'.' {
                continue;
            }
            // A run of 4 digits or more before the dot is not a coordinate's degrees.
            let s = digit.run_start(e, e.saturating_sub(4));
            if e - s <= 3 {
                decimal(data, s, e, &mut out);
            }
        }
    }
    out
}

/// Where the digits starting at `from` end.
fn digits_end(data: &[u8], from: usize) -> usize {
    from + data
        .get(from..)
        .map_or(0, |t| t.iter().take_while(|c| c.is_ascii_digit()).count())
}

/// The decimal number whose integer digits are `s..e` (`data[e]` is `.`), kept when
/// it has at least 3 decimals and stands alone.
fn decimal(data: &[u8], s: usize, e: usize, decimals: &mut Vec<Decimal>) {
    let fe = digits_end(data, e + 1);
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
}

/// Which of the per-run checks can find anything in one numeric region, decided from
/// its length before any run is looked at: most regions of a JSON body (a UUID's
/// groups, a version, a price) are too short to hold a configured number or a 15-digit
/// identifier, and are skipped (decimals are found from the masks).
#[derive(Debug, Default, Clone, Copy)]
struct Wants {
    probable: bool,
    separated: bool,
    whole: bool,
}

impl Wants {
    /// `len` is the length of the region ending at `end`: at least its digits.
    fn of(d: &Structure, data: &[u8], len: usize, end: usize) -> Wants {
        // A number's groups all lie in its region unless a separator is `%2D`, `%2E`
        // or `%2F`, whose letter ends the region: then later regions add digits.
        let escaped_on = end >= 2
            && data[end - 2..end] == *b"%2"
            && data
                .get(end)
                .is_some_and(|c| matches!(c.to_ascii_uppercase(), b'D' | b'E' | b'F'));
        let numbers = len >= d.min_digits;
        Wants {
            probable: d.probable && len >= 15,
            separated: !d.phone_forms.is_empty() && (numbers || escaped_on),
            whole: d.whole_runs && numbers,
        }
    }

    /// Whether every digit run must be looked at.
    fn runs(self) -> bool {
        self.probable || self.separated || self.whole
    }
}

fn probable_digits(data: &[u8], s: usize, e: usize, where_: Where, out: &mut Vec<Found>) {
    let len = e - s;
    if !matches!(len, 15 | 19 | 20) {
        return;
    }
    // Part of a decimal number or of an alphanumeric token: not an identifier.
    if !boundary_ok(data, s, e, Boundary::Alnum)
        || (s > 0 && data[s - 1] == b'.')
        || (data.get(e) == Some(&b'.') && data.get(e + 1).is_some_and(u8::is_ascii_digit))
    {
        return;
    }
    let run = &data[s..e];
    if run.iter().all(|&c| c == run[0]) {
        return;
    }
    let kind = if len == 15 {
        if plausible_tac(run) && luhn_ok(run) {
            Kind::Imei
        } else if is_mcc(run) && !looks_like_date(run) {
            Kind::Imsi
        } else {
            return;
        }
    } else if run.starts_with(b"89") && luhn_ok(run) {
        Kind::Iccid
    } else {
        return;
    };
    out.push(probable(kind, data, s, e, where_));
}

/// `YYYYMMDD...`: order numbers and timestamps start like this, and 20x is an MCC.
fn looks_like_date(run: &[u8]) -> bool {
    let num = |r: &[u8]| r.iter().fold(0u32, |a, &c| a * 10 + u32::from(c - b'0'));
    run.len() >= 8
        && (run.starts_with(b"19") || run.starts_with(b"20"))
        && (1..=12).contains(&num(&run[4..6]))
        && (1..=31).contains(&num(&run[6..8]))
}

const PHONE_SEPS: &[u8] = b" -.()/";

/// A configured number written with separators: the digit groups starting at this run
/// (joined by one or two separator characters) are concatenated and looked up.
fn separated_phone(
    d: &Structure,
    data: &[u8],
    s: usize,
    e: usize,
    where_: Where,
    out: &mut Vec<Found>,
    digits: &mut Vec<u8>,
) {
    let n = data.len();
    if e >= n || phone_sep_len(data, e).is_none() {
        return;
    }
    let mut start = s;
    if start > 0 && data[start - 1] == b'(' {
        start -= 1;
    }
    // Whether any separator was percent-encoded or a `+` standing for a space.
    let mut url_encoded = false;
    let mut plus = start > 0 && data[start - 1] == b'+';
    if plus {
        start -= 1;
    } else if start >= 3
        && data[start - 3] == b'%'
        && data[start - 2] == b'2'
        && data[start - 1].eq_ignore_ascii_case(&b'b')
    {
        plus = true;
        url_encoded = true;
        start -= 3;
    }
    // The groups before a '+' or '(' belong to the number; before a letter or digit
    // they do not start one.
    if start > 0 && data[start - 1].is_ascii_alphanumeric() && !after_escape_simple(data, start) {
        return;
    }
    digits.clear();
    if plus {
        digits.push(b'+');
    }
    digits.extend_from_slice(&data[s..e]);
    let mut pos = e;
    for _group in 1..8 {
        let mut k = 0;
        let mut seps = 0;
        while seps < 2 && pos + k < n {
            let Some((len, encoded)) = phone_sep_len(data, pos + k) else {
                break;
            };
            url_encoded |= encoded;
            k += len;
            seps += 1;
        }
        if k == 0 || pos + k >= n || !data[pos + k].is_ascii_digit() {
            return;
        }
        let gs = pos + k;
        let mut ge = gs;
        while ge < n && data[ge].is_ascii_digit() {
            ge += 1;
        }
        digits.extend_from_slice(&data[gs..ge]);
        pos = ge;
        if digits.len() > 18 {
            return;
        }
        let lookups: [&[u8]; 2] = [&digits[..], digits.strip_prefix(b"+").unwrap_or(&[])];
        for key in lookups {
            // Most digit groups are dates, versions and UUIDs: skip hashing unless some
            // configured form has this length.
            if key.len() >= 32 || d.phone_lens & (1 << key.len()) == 0 {
                continue;
            }
            if let Some(ids) = d.phone_forms.get(key) {
                for &(ident, kind) in ids {
                    let text = String::from_utf8_lossy(&data[start..pos]);
                    out.push(Found {
                        ident,
                        hit: Hit {
                            kind,
                            encoding: if url_encoded {
                                Encoding::Url
                            } else {
                                Encoding::Plain
                            },
                            digest_form: None,
                            inner: None,
                            truncated: false,
                            confidence: Confidence::Exact,
                            where_,
                            offset: start,
                            len: pos - start,
                            evidence: evidence(data, start, pos, &mask(&text)),
                        },
                    });
                }
                return;
            }
        }
    }
}

/// A configured number that is a whole digit run, for the numbers the automaton does
/// not hold: bare, after `+`, `%2B` or `\u002b` (which say how it was encoded), after an
/// escape whose digits join the run (`%20`, `\u0020`), or as the hex of its digits.
fn whole_phone(
    d: &Structure,
    data: &[u8],
    s: usize,
    e: usize,
    where_: Where,
    out: &mut Vec<Found>,
    hex: &mut Vec<u8>,
) {
    let lookup = |key: &[u8]| {
        (key.len() < 32 && d.phone_lens & (1 << key.len()) != 0)
            .then(|| d.phone_forms.get(key))
            .flatten()
    };
    let run = &data[s..e];
    let escape_digits = if s >= 1 && data[s - 1] == b'%' {
        2
    } else if s >= 2 && &data[s - 2..s] == b"\\u" {
        4
    } else {
        0
    };
    let skips: &[usize] = if escape_digits > 0 {
        &[0, escape_digits]
    } else {
        &[0]
    };
    for &skip in skips {
        let Some(ids) = run.get(skip..).and_then(lookup) else {
            continue;
        };
        let ends_with = |p: &[u8]| s >= p.len() && data[s - p.len()..s].eq_ignore_ascii_case(p);
        let (start, encoding) = if skip > 0 {
            (s + skip, Encoding::Plain)
        } else if ends_with(b"\\u002b") {
            (s - 6, Encoding::Json)
        } else if ends_with(b"%2b") {
            (s - 3, Encoding::Url)
        } else if ends_with(b"+") {
            (s - 1, Encoding::Plain)
        } else {
            (s, Encoding::Plain)
        };
        for &(ident, kind) in ids {
            out.push(exact(ident, kind, encoding, data, start, e, where_));
        }
        return;
    }
    // Hex of ASCII digits is `3` before each digit.
    if run.len().is_multiple_of(2) && run.iter().step_by(2).all(|&c| c == b'3') {
        hex.clear();
        hex.extend(run.iter().skip(1).step_by(2).copied());
        if let Some(ids) = lookup(hex) {
            let plus = s >= 2 && data[s - 2..s].eq_ignore_ascii_case(b"2b");
            let start = if plus { s - 2 } else { s };
            for &(ident, kind) in ids {
                out.push(exact(ident, kind, Encoding::Hex, data, start, e, where_));
            }
        }
    }
}

fn exact(
    ident: u32,
    kind: Kind,
    encoding: Encoding,
    data: &[u8],
    s: usize,
    e: usize,
    where_: Where,
) -> Found {
    let text = String::from_utf8_lossy(&data[s..e]);
    Found {
        ident,
        hit: Hit {
            kind,
            encoding,
            digest_form: None,
            inner: None,
            truncated: false,
            confidence: Confidence::Exact,
            where_,
            offset: s,
            len: e - s,
            evidence: evidence(data, s, e, &mask(&text)),
        },
    }
}

/// The separator between digit groups at `at`: its length, and whether it is URL
/// encoding (`%20`, `%2D`, `%28`, `%29`, `%2E`, `%2F`, or `+` for a space).
fn phone_sep_len(data: &[u8], at: usize) -> Option<(usize, bool)> {
    let c = *data.get(at)?;
    if PHONE_SEPS.contains(&c) {
        return Some((1, false));
    }
    if c == b'+' {
        return Some((1, true));
    }
    if c == b'%' && data.get(at + 1) == Some(&b'2') {
        let code = data.get(at + 2)?.to_ascii_uppercase();
        if matches!(code, b'0' | b'D' | b'8' | b'9' | b'E' | b'F') {
            return Some((3, true));
        }
    }
    None
}

fn after_escape_simple(data: &[u8], s: usize) -> bool {
    s >= 3 && data[s - 3] == b'%'
}

/// `aa:bb:cc:dd:ee:ff` or with `-`, not all-zero, broadcast, or Android's fixed
/// `02:00:00:00:00:00` placeholder.
/// `sep` marks the `:` and `-` of `data`; only those with four more 3 bytes apart are
/// looked at (a JSON body has a `:` after every key and a `-` in every UUID).
fn macs(data: &[u8], sep: Bits<'_>, where_: Where, out: &mut Vec<Found>) {
    let mut last_end = 0;
    for p in mac_candidates(sep) {
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

/// Positions `p` with a separator at `p`, `p + 3`, ..., `p + 12`, in order.
fn mac_candidates(sep: Bits<'_>) -> impl Iterator<Item = usize> + '_ {
    (0..sep.words()).flat_map(move |w| {
        let base = w * 64;
        let mut cand = sep.word(w);
        if cand != 0 {
            for k in 1..5 {
                cand &= sep.window(base + 3 * k);
            }
        }
        std::iter::from_fn(move || {
            (cand != 0).then(|| {
                let p = base + cand.trailing_zeros() as usize;
                cand &= cand - 1;
                p
            })
        })
    })
}

fn is_local(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b'.' | b'_' | b'%' | b'+' | b'-')
}

fn is_domain(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b'.' | b'-')
}

/// An e-mail address right after an identifier-like key (`imei=`, `"deviceId":"`).
fn emails(data: &[u8], where_: Where, out: &mut Vec<Found>) {
    let mut last_end = 0;
    for at in memchr::memchr_iter(b'@', data) {
        if at < last_end {
            continue;
        }
        let mut s = at;
        while s > 0 && at - s < 64 && is_local(data[s - 1]) {
            s -= 1;
        }
        let mut e = at + 1;
        while e < data.len() && e - at < 255 && is_domain(data[e]) {
            e += 1;
        }
        while e > at + 1 && data[e - 1] == b'.' {
            e -= 1;
        }
        let domain = &data[at + 1..e];
        let tld_ok = domain
            .rsplit(|&c| c == b'.')
            .next()
            .is_some_and(|t| t.len() >= 2 && t.iter().all(u8::is_ascii_alphabetic));
        if s == at || !domain.contains(&b'.') || !tld_ok {
            continue;
        }
        if !key_before(data, s).is_some_and(|k| ID_KEYS.iter().any(|id| k.ends_with(id))) {
            continue;
        }
        last_end = e;
        out.push(probable(Kind::Email, data, s, e, where_));
    }
}

/// The key in front of a value (`key=`, `"key":"`, `key: `), lower-cased without `_`
/// and `-`; `None` when there is none.
fn key_before(data: &[u8], s: usize) -> Option<Vec<u8>> {
    let mut p = s;
    let mut skipped = 0;
    while p > 0 && skipped < 4 && matches!(data[p - 1], b'=' | b':' | b'"' | b'\'' | b' ') {
        p -= 1;
        skipped += 1;
    }
    if skipped == 0 {
        return None;
    }
    let end = p;
    while p > 0
        && end - p < 32
        && (data[p - 1].is_ascii_alphanumeric() || matches!(data[p - 1], b'_' | b'-'))
    {
        p -= 1;
    }
    let key: Vec<u8> = data[p..end]
        .iter()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(u8::to_ascii_lowercase)
        .collect();
    (!key.is_empty()).then_some(key)
}

fn axis_key(data: &[u8], s: usize) -> Option<Axis> {
    let key = key_before(data, s)?;
    if key.ends_with(b"latitude") || key.ends_with(b"lat") {
        Some(Axis::Lat)
    } else if key.ends_with(b"longitude")
        || key.ends_with(b"lon")
        || key.ends_with(b"lng")
        || key.ends_with(b"long")
    {
        Some(Axis::Lon)
    } else {
        None
    }
}

/// Great-circle distance in metres.
pub(crate) fn haversine_m(lat1: f64, lon1: f64, lat2: f64, lon2: f64) -> f64 {
    let (p1, p2) = (lat1.to_radians(), lat2.to_radians());
    let dp = (lat2 - lat1).to_radians();
    let dl = (lon2 - lon1).to_radians();
    let a = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
    2.0 * 6_371_008.8 * a.sqrt().min(1.0).asin()
}

fn near(loc: &Location, lat: f64, lon: f64) -> bool {
    (-90.0..=90.0).contains(&lat)
        && (-180.0..=180.0).contains(&lon)
        && haversine_m(loc.lat, loc.lon, lat, lon) <= loc.radius_m
}

/// Pairs of decimals close together (`lat,lon` or GeoJSON's `lon,lat`), then values
/// under lat/lon keys anywhere in the buffer.
fn locations(
    ident: u32,
    loc: &Location,
    data: &[u8],
    decs: &[Decimal],
    where_: Where,
    out: &mut Vec<Found>,
) {
    let mut used = vec![false; decs.len()];
    let push = |a: &Decimal, b: &Decimal, out: &mut Vec<Found>| {
        let (s, e) = (a.start.min(b.start), a.end.max(b.end));
        let core = format!(
            "{},{}",
            mask_head(&String::from_utf8_lossy(&data[a.start..a.end]), 2),
            mask_head(&String::from_utf8_lossy(&data[b.start..b.end]), 2)
        );
        let ev_end = if e - s > 64 { a.end } else { e };
        out.push(Found {
            ident,
            hit: Hit {
                kind: Kind::Location,
                encoding: Encoding::Plain,
                digest_form: None,
                inner: None,
                truncated: false,
                confidence: Confidence::Exact,
                where_,
                offset: s,
                len: e - s,
                evidence: evidence(data, s, ev_end, &core),
            },
        });
    };
    for k in 0..decs.len().saturating_sub(1) {
        let (a, b) = (decs[k], decs[k + 1]);
        if used[k] || b.start - a.end > 24 {
            continue;
        }
        if near(loc, a.value, b.value) || near(loc, b.value, a.value) {
            used[k] = true;
            used[k + 1] = true;
            push(&a, &b, out);
        }
    }
    let lats: Vec<usize> = (0..decs.len())
        .filter(|&i| !used[i] && decs[i].key == Some(Axis::Lat))
        .collect();
    let lons: Vec<usize> = (0..decs.len())
        .filter(|&i| !used[i] && decs[i].key == Some(Axis::Lon))
        .collect();
    for &la in &lats {
        let nearest = lons
            .iter()
            .min_by_key(|&&lo| decs[lo].start.abs_diff(decs[la].start));
        if let Some(&lo) = nearest {
            if near(loc, decs[la].value, decs[lo].value) {
                let (a, b) = if decs[la].start < decs[lo].start {
                    (decs[la], decs[lo])
                } else {
                    (decs[lo], decs[la])
                };
                push(&a, &b, out);
            }
        }
    }
}

mod regions;

#[cfg(test)]
mod before;
#[cfg(test)]
mod reference;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numeric_regions_of_five_bytes_are_found_at_every_alignment() {
        let region = |text: &[u8]| {
            let c = Classes::new(text);
            let (numeric, digit) = (c.mask(Class::Numeric), c.mask(Class::Digit));
            let mut first = None;
            regions::for_each(
                numeric,
                digit,
                0,
                |_| true,
                |s, e| {
                    first.get_or_insert((s, e));
                },
            );
            first
        };
        for pad in 0..70 {
            for body in ["1.234", "861234567890123", "138 0013 8000", "-3.1415"] {
                let text = format!("{}{body}{}", "x".repeat(pad), "y".repeat(pad));
                assert_eq!(
                    region(text.as_bytes()),
                    Some((pad, pad + body.len())),
                    "{text}"
                );
            }
        }
        assert_eq!(region(b"ab 1 - x 22 yy"), None);
    }

    #[test]
    fn haversine_of_a_known_distance() {
        // Beijing to Shanghai is about 1,067 km.
        let d = haversine_m(39.9042, 116.4074, 31.2304, 121.4737);
        assert!((1_060_000.0..1_075_000.0).contains(&d), "{d}");
    }
}
