//! Text layers: base64 and hex runs, percent-encoding, form fields, JSON string escapes.
//! Each function takes any bytes and gives what the layer decodes to, or nothing when
//! the text does not hold that layer.

use memchr::memchr;

use crate::bits::{is_b64, B64Bits};

/// Whether `b` reads as text: valid UTF-8 (a cut-off character at the end allowed) with
/// almost no control characters. Decoded garbage almost never passes.
pub(crate) fn is_text(b: &[u8]) -> bool {
    if b.is_empty() {
        return false;
    }
    let valid = match std::str::from_utf8(b) {
        Ok(s) => s.len(),
        Err(e) => e.valid_up_to(),
    };
    // A character cut off by a cap or a truncated stream is at most 3 bytes.
    if valid + 3 < b.len() {
        return false;
    }
    crate::bits::controls(&b[..valid]) * 50 <= valid
}

/// Maximal runs of base64 characters (either alphabet) of at least `min` characters,
/// with their `=` padding, as (start, end) offsets.
#[cfg(test)]
pub(crate) fn base64_runs(b: &[u8], min: usize) -> Vec<(usize, usize)> {
    base64_runs_in(b, &B64Bits::new(b), min)
}

/// [`base64_runs`] over `b`'s classes already computed.
pub(crate) fn base64_runs_in(b: &[u8], bits: &B64Bits, min: usize) -> Vec<(usize, usize)> {
    let min = min.max(2);
    // A run that long starts with this many characters in a row: a wrapped run goes on
    // past a line break only after a first line of 16. Only such starts are visited,
    // found on the bits a word at a time; a byte-by-byte walk over JSON's keys, numbers
    // and words cost a mispredicted branch every few bytes.
    let window = min.min(16);
    let mut out = Vec::new();
    let mut from = 0;
    // The first window start at or after `from` starts its run: the byte before it is
    // no base64, or is before `from` (the end of the run before, or its padding).
    while let Some(s) = bits.next_window(from, window) {
        let (i, e) = run_at(b, bits, s);
        if i - s >= min {
            out.push((s, e));
        }
        from = e.max(i);
    }
    out
}

/// The run starting at `s`: where its characters end, and where its padding does.
fn run_at(b: &[u8], bits: &B64Bits, s: usize) -> (usize, usize) {
    let mut i = s;
    let mut line = i;
    loop {
        i = bits.next_clear(i);
        // MIME and Android's Base64.DEFAULT break lines (every 76 or 64 characters):
        // a whole number of groups, a line break, and more base64 go on with the run.
        // Wrapped base64 is the standard alphabet, so a `-` starts something else
        // (PEM's `-----END`).
        if i - line < 16 || !(i - line).is_multiple_of(4) {
            break;
        }
        let brk = match &b[i..] {
            [b'\r', b'\n', c, ..] | [b'\n', c, ..] if is_b64(*c) && *c != b'-' => {
                if b[i] == b'\r' {
                    2
                } else {
                    1
                }
            }
            _ => 0,
        };
        if brk == 0 {
            break;
        }
        i += brk;
        line = i;
    }
    let mut e = i;
    while e < b.len() && e - i < 2 && b[e] == b'=' {
        e += 1;
    }
    (i, e)
}

fn b64_value(c: u8) -> Option<u8> {
    Some(match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'+' | b'-' => 62,
        b'/' | b'_' => 63,
        _ => return None,
    })
}

/// Every byte's base64 value, 0xff for bytes of neither alphabet.
static B64_VALUES: [u8; 256] = {
    let mut t = [0xffu8; 256];
    let mut c = 0;
    while c < 26 {
        t[b'A' as usize + c] = c as u8;
        t[b'a' as usize + c] = 26 + c as u8;
        c += 1;
    }
    let mut d = 0;
    while d < 10 {
        t[b'0' as usize + d] = 52 + d as u8;
        d += 1;
    }
    t[b'+' as usize] = 62;
    t[b'-' as usize] = 62;
    t[b'/' as usize] = 63;
    t[b'_' as usize] = 63;
    t
};

/// Decodes base64 in either alphabet, with or without padding, across line breaks. A length that no base64
/// text can have (one character past a group of four) loses that character.
pub(crate) fn base64_decode(run: &[u8]) -> Option<Vec<u8>> {
    let joined: Vec<u8>;
    let run = if memchr::memchr2(b'\r', b'\n', run).is_some() {
        joined = run
            .iter()
            .copied()
            .filter(|&c| c != b'\r' && c != b'\n')
            .collect();
        &joined[..]
    } else {
        run
    };
    let body = match memchr(b'=', run) {
        Some(p) => &run[..p],
        None => run,
    };
    let body = if body.len() % 4 == 1 {
        &body[..body.len() - 1]
    } else {
        body
    };
    // Four characters to three bytes at a time, a bad character noted rather than
    // branched on: a 64 KiB blob decoded a character at a time cost more than
    // inflating what it held.
    let mut quads = body.chunks_exact(4);
    let mut out = vec![0u8; quads.len() * 3];
    let mut bad = 0u8;
    for (three, q) in out.chunks_exact_mut(3).zip(&mut quads) {
        let v = [q[0], q[1], q[2], q[3]].map(|c| B64_VALUES[usize::from(c)]);
        bad |= v[0] | v[1] | v[2] | v[3];
        let n =
            u32::from(v[0]) << 18 | u32::from(v[1]) << 12 | u32::from(v[2]) << 6 | u32::from(v[3]);
        three.copy_from_slice(&n.to_be_bytes()[1..]);
    }
    let mut acc: u32 = 0;
    let mut bits = 0;
    for &c in quads.remainder() {
        acc = (acc << 6) | u32::from(b64_value(c)?);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    (bad & 0x80 == 0).then_some(out)
}

fn hex_value(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// Decodes a run of hex digits of even length.
pub(crate) fn hex_decode(run: &[u8]) -> Option<Vec<u8>> {
    if !run.len().is_multiple_of(2) {
        return None;
    }
    let mut out = vec![0; run.len() / 2];
    hex_decode_into(run, &mut out)?;
    Some(out)
}

/// A hex digit's value by arithmetic, without a branch: right for hex digits only.
#[inline(always)]
fn nibble(c: u8) -> u8 {
    (c & 0xf).wrapping_add(9u8.wrapping_mul(c >> 6))
}

/// Decodes a run of hex digits of even length into `out`, which must hold half of
/// it: how many bytes it wrote.
pub(crate) fn hex_decode_into(run: &[u8], out: &mut [u8]) -> Option<usize> {
    let n = run.len() / 2;
    if !run.len().is_multiple_of(2) || out.len() < n {
        return None;
    }
    // Checked and decoded in one pass without early exits, so the compiler vectorizes
    // it: runs are mostly hex digests, and a branch per digit was the walk's hot spot.
    let mut other = false;
    for (o, p) in out[..n].iter_mut().zip(run.chunks_exact(2)) {
        other |= !crate::bits::is_hex(p[0]) | !crate::bits::is_hex(p[1]);
        *o = nibble(p[0]) << 4 | nibble(p[1]);
    }
    (!other).then_some(n)
}

/// Whether `b` holds at least one valid `%XX` escape.
pub(crate) fn has_percent_escape(b: &[u8]) -> bool {
    memchr::memchr_iter(b'%', b).any(|i| {
        b.get(i + 1..i + 3)
            .is_some_and(|h| hex_value(h[0]).is_some() && hex_value(h[1]).is_some())
    })
}

/// Replaces every valid `%XX` by its byte (and `+` by a space in form fields).
pub(crate) fn percent_decode(b: &[u8], plus_is_space: bool) -> Vec<u8> {
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    // Plain text between escapes is copied a span at a time.
    let next = |from: usize| {
        if plus_is_space {
            memchr::memchr2(b'%', b'+', &b[from..])
        } else {
            memchr(b'%', &b[from..])
        }
    };
    while let Some(k) = next(i) {
        out.extend_from_slice(&b[i..i + k]);
        i += k;
        if b[i] == b'+' {
            out.push(b' ');
            i += 1;
            continue;
        }
        match (
            b.get(i + 1).copied().and_then(hex_value),
            b.get(i + 2).copied().and_then(hex_value),
        ) {
            (Some(h), Some(l)) => {
                out.push(h << 4 | l);
                i += 3;
            }
            _ => {
                out.push(b'%');
                i += 1;
            }
        }
    }
    out.extend_from_slice(&b[i..]);
    out
}

/// `name=value&...` with something encoded in it: one `name=value` line per field, both
/// decoded. `None` for text that is not a whole form.
pub(crate) fn form_fields(b: &[u8]) -> Option<Vec<u8>> {
    let end = b
        .iter()
        .rposition(|c| !c.is_ascii_whitespace())
        .map_or(0, |p| p + 1);
    let b = &b[..end];
    if b.is_empty()
        || memchr(b'=', b).is_none()
        || !b.iter().all(|&c| c.is_ascii_graphic())
        || !b.iter().any(|&c| c == b'%' || c == b'+')
    {
        return None;
    }
    let mut out = Vec::with_capacity(b.len());
    for field in b.split(|&c| c == b'&').filter(|f| !f.is_empty()) {
        let (name, value) = match memchr(b'=', field) {
            Some(p) => (&field[..p], &field[p + 1..]),
            None => (field, &b""[..]),
        };
        out.extend(percent_decode(name, true));
        out.push(b'=');
        out.extend(percent_decode(value, true));
        out.push(b'\n');
    }
    Some(out)
}

/// The JSON string literals in `b` that hold escapes, unescaped, one per line. `None`
/// when there are none.
pub(crate) fn json_strings(b: &[u8]) -> Option<Vec<u8>> {
    memchr(b'\\', b)?;
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(q) = memchr(b'"', &b[i..]) {
        let start = i + q + 1;
        let mut j = start;
        let mut escaped = false;
        // To the closing quote, from one quote or backslash to the next.
        while j < b.len() {
            match memchr::memchr2(b'"', b'\\', &b[j..]) {
                None => j = b.len(),
                Some(k) if b[j + k] == b'"' => {
                    j += k;
                    break;
                }
                Some(k) => {
                    escaped = true;
                    j += k + 2;
                }
            }
        }
        let end = j.min(b.len());
        if escaped {
            unescape(&b[start..end], &mut out);
            out.push(b'\n');
        }
        i = end + 1;
        if i >= b.len() {
            break;
        }
    }
    (!out.is_empty()).then_some(out)
}

fn hex4(b: &[u8]) -> Option<u32> {
    if b.len() < 4 {
        return None;
    }
    b[..4]
        .iter()
        .try_fold(0u32, |acc, &c| Some(acc << 4 | u32::from(hex_value(c)?)))
}

fn unescape(s: &[u8], out: &mut Vec<u8>) {
    let mut i = 0;
    while i < s.len() {
        // What stands before the next backslash is copied as it is, at once.
        let Some(k) = memchr(b'\\', &s[i..]) else {
            out.extend_from_slice(&s[i..]);
            return;
        };
        out.extend_from_slice(&s[i..i + k]);
        i += k;
        if i + 1 >= s.len() {
            out.push(b'\\');
            return;
        }
        let c = s[i + 1];
        i += 2;
        match c {
            b'n' => out.push(b'\n'),
            b't' => out.push(b'\t'),
            b'r' => out.push(b'\r'),
            b'b' => out.push(0x08),
            b'f' => out.push(0x0c),
            b'u' => {
                let Some(mut code) = hex4(&s[i..]) else {
                    out.extend_from_slice(b"\\u");
                    continue;
                };
                i += 4;
                // A high surrogate takes the low one after it.
                if (0xd800..0xdc00).contains(&code) && s[i..].starts_with(b"\\u") {
                    if let Some(low @ 0xdc00..0xe000) = hex4(&s[i + 2..]) {
                        code = 0x10000 + ((code - 0xd800) << 10) + (low - 0xdc00);
                        i += 6;
                    }
                }
                let ch = char::from_u32(code).unwrap_or(char::REPLACEMENT_CHARACTER);
                let mut buf = [0u8; 4];
                out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
            }
            // `\"`, `\\`, `\/`, and anything else stands for itself.
            other => out.push(other),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_decodes_in_both_alphabets_with_or_without_padding() {
        // RFC 4648 section 10 test vectors.
        assert_eq!(base64_decode(b"Zm9vYmFy").unwrap(), b"foobar");
        assert_eq!(base64_decode(b"Zm9vYg==").unwrap(), b"foob");
        assert_eq!(base64_decode(b"Zm9vYg").unwrap(), b"foob");
        assert_eq!(base64_decode(b"Zm9vYmE=").unwrap(), b"fooba");
        assert_eq!(
            base64_decode(b"-_-_").unwrap(),
            base64_decode(b"+/+/").unwrap()
        );
        assert_eq!(base64_decode(b"Zm9vYmFyZ").unwrap(), b"foobar");
        assert_eq!(base64_decode(b"Zm9!vv"), None);
    }

    /// The run finder as it was before words were skipped, to check the new one.
    fn base64_runs_before(b: &[u8], min: usize) -> Vec<(usize, usize)> {
        let mut out = Vec::new();
        let mut i = 0;
        while i < b.len() {
            if !is_b64(b[i]) {
                i += 1;
                continue;
            }
            let s = i;
            let mut line = i;
            loop {
                while i < b.len() && is_b64(b[i]) {
                    i += 1;
                }
                if i - line < 16 || !(i - line).is_multiple_of(4) {
                    break;
                }
                let brk = match &b[i..] {
                    [b'\r', b'\n', c, ..] | [b'\n', c, ..] if is_b64(*c) && *c != b'-' => {
                        if b[i] == b'\r' {
                            2
                        } else {
                            1
                        }
                    }
                    _ => 0,
                };
                if brk == 0 {
                    break;
                }
                i += brk;
                line = i;
            }
            let mut e = i;
            while e < b.len() && e - i < 2 && b[e] == b'=' {
                e += 1;
            }
            if i - s >= min.max(2) {
                out.push((s, e));
            }
            i = e.max(i);
        }
        out
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(4000))]

        #[test]
        fn runs_found_word_by_word_are_the_runs_found_byte_by_byte(
            data in proptest::collection::vec(
                proptest::prop_oneof![
                    30 => proptest::sample::select(
                        b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/-_".to_vec()),
                    3 => proptest::sample::select(b"==\n\r\n-".to_vec()),
                    2 => proptest::prelude::any::<u8>(),
                ],
                0..900,
            ),
            min in proptest::sample::select(vec![2usize, 8, 15, 16, 17, 24, 64]),
        ) {
            proptest::prop_assert_eq!(base64_runs(&data, min), base64_runs_before(&data, min));
        }
    }

    #[test]
    fn wrapped_base64_is_one_run_at_every_offset() {
        let line = "QUJDREVGR0hJSktMTU5PUFFSU1RVVldY";
        for pad in 0..9 {
            let text = format!("{}\"{line}\n{line}\r\n{line}==\" x", " ".repeat(pad));
            let runs = base64_runs(text.as_bytes(), 16);
            assert_eq!(runs, base64_runs_before(text.as_bytes(), 16));
            assert_eq!(runs.len(), 1, "{pad}");
        }
    }

    #[test]
    fn runs_are_the_base64_text_between_other_characters() {
        let text = b"{\"d\":\"QUJDREVGR0hJSktMTU5PUA==\",\"short\":\"abc\"}";
        let runs = base64_runs(text, 16);
        assert_eq!(runs.len(), 1);
        let (s, e) = runs[0];
        assert_eq!(&text[s..e], b"QUJDREVGR0hJSktMTU5PUA==");
    }

    #[test]
    fn hex_decodes_pairs_of_either_case_and_refuses_odd_lengths() {
        assert_eq!(hex_decode(b"1F8b").unwrap(), [0x1f, 0x8b]);
        assert_eq!(hex_decode(b"1f8"), None);
        assert_eq!(hex_decode(b"zz"), None);
        let mut buf = [0u8; 4];
        assert_eq!(hex_decode_into(b"1F8b", &mut buf), Some(2));
        assert_eq!(buf[..2], [0x1f, 0x8b]);
        assert_eq!(hex_decode_into(b"1f8", &mut buf), None);
        assert_eq!(hex_decode_into(b"0011223344", &mut buf), None, "no room");
    }

    /// `base64_decode` as it was before it went four characters at a time.
    fn base64_decode_before(run: &[u8]) -> Option<Vec<u8>> {
        let run: Vec<u8> = run
            .iter()
            .copied()
            .filter(|&c| c != b'\r' && c != b'\n')
            .collect();
        let body = match run.iter().position(|&c| c == b'=') {
            Some(p) => &run[..p],
            None => &run[..],
        };
        let body = if body.len() % 4 == 1 {
            &body[..body.len() - 1]
        } else {
            body
        };
        let mut out = Vec::with_capacity(body.len() / 4 * 3 + 2);
        let mut acc: u32 = 0;
        let mut bits = 0;
        for &c in body {
            acc = (acc << 6) | u32::from(b64_value(c)?);
            bits += 6;
            if bits >= 8 {
                bits -= 8;
                out.push((acc >> bits) as u8);
            }
        }
        Some(out)
    }

    #[test]
    fn every_byte_has_its_base64_value_in_the_table() {
        for c in 0..=255u8 {
            assert_eq!(
                B64_VALUES[usize::from(c)],
                b64_value(c).unwrap_or(0xff),
                "{c:#x}"
            );
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(4000))]

        #[test]
        fn base64_decodes_as_before(
            run in proptest::collection::vec(
                proptest::prop_oneof![
                    40 => proptest::sample::select(
                        b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/-_".to_vec()),
                    2 => proptest::sample::select(b"=\r\n".to_vec()),
                    1 => proptest::prelude::any::<u8>(),
                ],
                0..120,
            ),
        ) {
            proptest::prop_assert_eq!(base64_decode(&run), base64_decode_before(&run));
        }
    }

    /// `percent_decode` as it was before it copied spans, to check the new one.
    fn percent_decode_before(b: &[u8], plus_is_space: bool) -> Vec<u8> {
        let mut out = Vec::with_capacity(b.len());
        let mut i = 0;
        while i < b.len() {
            match b[i] {
                b'%' if i + 2 < b.len() => match (hex_value(b[i + 1]), hex_value(b[i + 2])) {
                    (Some(h), Some(l)) => {
                        out.push(h << 4 | l);
                        i += 3;
                        continue;
                    }
                    _ => out.push(b'%'),
                },
                b'+' if plus_is_space => out.push(b' '),
                c => out.push(c),
            }
            i += 1;
        }
        out
    }

    /// `json_strings` as it was before it jumped between quotes and backslashes.
    fn json_strings_before(b: &[u8]) -> Option<Vec<u8>> {
        memchr(b'\\', b)?;
        let mut out = Vec::new();
        let mut i = 0;
        while let Some(q) = memchr(b'"', &b[i..]) {
            let start = i + q + 1;
            let mut j = start;
            let mut escaped = false;
            while j < b.len() && b[j] != b'"' {
                if b[j] == b'\\' {
                    escaped = true;
                    j += 1;
                }
                j += 1;
            }
            let end = j.min(b.len());
            if escaped {
                unescape_before(&b[start..end], &mut out);
                out.push(b'\n');
            }
            i = end + 1;
            if i >= b.len() {
                break;
            }
        }
        (!out.is_empty()).then_some(out)
    }

    fn unescape_before(s: &[u8], out: &mut Vec<u8>) {
        let mut i = 0;
        while i < s.len() {
            if s[i] != b'\\' || i + 1 >= s.len() {
                out.push(s[i]);
                i += 1;
                continue;
            }
            let c = s[i + 1];
            i += 2;
            match c {
                b'n' => out.push(b'\n'),
                b't' => out.push(b'\t'),
                b'r' => out.push(b'\r'),
                b'b' => out.push(0x08),
                b'f' => out.push(0x0c),
                b'u' => {
                    let Some(mut code) = hex4(&s[i..]) else {
                        out.extend_from_slice(b"\\u");
                        continue;
                    };
                    i += 4;
                    if (0xd800..0xdc00).contains(&code) && s[i..].starts_with(b"\\u") {
                        if let Some(low @ 0xdc00..0xe000) = hex4(&s[i + 2..]) {
                            code = 0x10000 + ((code - 0xd800) << 10) + (low - 0xdc00);
                            i += 6;
                        }
                    }
                    let ch = char::from_u32(code).unwrap_or(char::REPLACEMENT_CHARACTER);
                    let mut buf = [0u8; 4];
                    out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
                }
                other => out.push(other),
            }
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(4000))]

        #[test]
        fn escapes_are_undone_as_before(
            text in proptest::collection::vec(
                proptest::prop_oneof![
                    8 => proptest::sample::select(b"%+\\\"ubnrtf/0aFdD8".to_vec()),
                    3 => proptest::sample::select(b"xyz =&{}:,".to_vec()),
                    1 => proptest::prelude::any::<u8>(),
                ],
                0..200,
            ),
        ) {
            for plus in [false, true] {
                proptest::prop_assert_eq!(percent_decode(&text, plus), percent_decode_before(&text, plus));
            }
            proptest::prop_assert_eq!(json_strings(&text), json_strings_before(&text));
        }
    }

    /// The decoder as it was before it became branchless, to check the new one.
    fn hex_decode_before(run: &[u8]) -> Option<Vec<u8>> {
        if !run.len().is_multiple_of(2) {
            return None;
        }
        let mut out = Vec::with_capacity(run.len() / 2);
        for p in run.chunks_exact(2) {
            out.push(hex_value(p[0])? << 4 | hex_value(p[1])?);
        }
        Some(out)
    }

    #[test]
    fn every_pair_of_bytes_decodes_as_before() {
        for a in 0..=255u8 {
            for b in 0..=255u8 {
                assert_eq!(
                    hex_decode(&[a, b]),
                    hex_decode_before(&[a, b]),
                    "{a:#x} {b:#x}"
                );
            }
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(3000))]

        #[test]
        fn hex_runs_decode_as_before(
            run in proptest::collection::vec(
                proptest::prop_oneof![
                    30 => proptest::sample::select(b"0123456789abcdefABCDEF".to_vec()),
                    1 => proptest::prelude::any::<u8>(),
                ],
                0..100,
            ),
        ) {
            let before = hex_decode_before(&run);
            proptest::prop_assert_eq!(&hex_decode(&run), &before);
            let mut buf = [0u8; 40];
            let into = hex_decode_into(&run, &mut buf).map(|n| buf[..n].to_vec());
            let fits = run.len() / 2 <= buf.len();
            proptest::prop_assert_eq!(into, before.filter(|_| fits));
        }
    }

    #[test]
    fn percent_decoding_leaves_broken_escapes_as_they_are() {
        assert_eq!(percent_decode(b"a%40b%2", false), b"a@b%2");
        assert_eq!(percent_decode(b"%", false), b"%");
        assert_eq!(percent_decode(b"a+b%2B", true), b"a b+");
        assert_eq!(percent_decode(b"a+b", false), b"a+b");
        assert!(has_percent_escape(b"x%7B"));
        assert!(!has_percent_escape(b"100%"));
    }

    #[test]
    fn a_form_gives_one_decoded_field_per_line() {
        let out = form_fields(b"a=1&data=%7B%22imei%22%3A1%7D&b=x+y\r\n").unwrap();
        assert_eq!(out, b"a=1\ndata={\"imei\":1}\nb=x y\n");
        assert_eq!(form_fields(b"a=1&b=2"), None, "nothing encoded");
        assert_eq!(form_fields(b"not a form %20"), None);
    }

    #[test]
    fn json_strings_with_escapes_are_unescaped_one_per_line() {
        let text = br#"{"plain":"x","inner":"{\"imei\":\"86\u0031\"}","e":"\ud83d\ude00\/"}"#;
        let out = json_strings(text).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "{\"imei\":\"861\"}\n\u{1F600}/\n"
        );
        assert_eq!(json_strings(br#"{"a":"b"}"#), None);
        // Cut off inside a string or an escape: no panic, what there is.
        assert!(json_strings(br#"{"a":"\u12"#).is_some());
        assert!(json_strings(b"\"\\").is_some());
    }

    #[test]
    fn text_is_utf8_without_control_characters() {
        assert!(is_text(b"{\"imei\": \"861234567890127\"}\n"));
        assert!(is_text("caf\u{e9}".as_bytes()));
        assert!(is_text(&"caf\u{e9}".as_bytes()[..4]), "cut-off character");
        assert!(!is_text(&[0x1f, 0x8b, 0x08, 0, 0, 0, 0, 0]));
        assert!(!is_text(b""));
        let noise: Vec<u8> = (0..200u32).map(|i| (i * 7919 % 256) as u8).collect();
        assert!(!is_text(&noise));
    }
}
