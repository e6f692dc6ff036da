//! Whether a match stands alone or is part of something longer.

/// Which neighbours a match may have without being part of something longer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Boundary {
    None,
    /// No digit right before or after (a phone number inside a longer number is not it).
    Digits,
    /// No letter or digit right before or after.
    Alnum,
}

/// Whether the byte before `s` ends an escape (`%2B`, `\u0040`, `\n`): the escape's
/// last character is then not really a neighbour of the value.
fn after_escape(data: &[u8], s: usize) -> bool {
    (s >= 3
        && data[s - 3] == b'%'
        && data[s - 2].is_ascii_hexdigit()
        && data[s - 1].is_ascii_hexdigit())
        || (s >= 6
            && data[s - 6] == b'\\'
            && data[s - 5] == b'u'
            && data[s - 4..s].iter().all(u8::is_ascii_hexdigit))
        || (s >= 2 && data[s - 2] == b'\\')
}

pub(crate) fn boundary_ok(data: &[u8], s: usize, e: usize, b: Boundary) -> bool {
    let clash: fn(u8) -> bool = match b {
        Boundary::None => return true,
        Boundary::Digits => |c| c.is_ascii_digit(),
        Boundary::Alnum => |c| c.is_ascii_alphanumeric(),
    };
    let first_is = data.get(s).is_some_and(|&c| clash(c));
    let last_is = e > 0 && data.get(e - 1).is_some_and(|&c| clash(c));
    let left = !first_is || s == 0 || !clash(data[s - 1]) || after_escape(data, s);
    let right = !last_is || data.get(e).is_none_or(|&c| !clash(c));
    left && right
}
