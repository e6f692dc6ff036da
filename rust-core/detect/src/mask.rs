//! Masking for evidence and debug output: enough of a value to recognise which one it
//! was, never enough to reconstruct it.

/// Keeps at most the first 2 and the last 4 characters, and never more than a third of
/// them; the rest become `*`. `861234567890123` -> `86*********0123`.
pub fn mask(s: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    let n = chars.len();
    let mut head = 2.min(n / 5);
    let mut tail = 4.min(n / 3);
    while head + tail > n / 2 && tail > 0 {
        tail -= 1;
    }
    if head + tail > n / 2 {
        head = 0;
    }
    let mut out = String::with_capacity(n);
    out.extend(&chars[..head]);
    out.extend(std::iter::repeat_n('*', n - head - tail));
    out.extend(&chars[n - tail..]);
    out
}

/// Shows at most `head` leading characters (and never more than a quarter): for digests
/// one end identifies the digest as well as both would, and for positions the leading
/// degrees are all that is safe to show.
pub fn mask_head(s: &str, head: usize) -> String {
    let n = s.chars().count();
    let head = head.min(n / 4);
    let mut out: String = s.chars().take(head).collect();
    out.extend(std::iter::repeat_n('*', (n - head).min(16)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_imei_keeps_two_leading_and_four_trailing_digits() {
        assert_eq!(mask("861234567890123"), "86*********0123");
    }

    #[test]
    fn short_values_are_mostly_masked() {
        assert_eq!(mask(""), "");
        assert_eq!(mask("ab"), "**");
        for s in ["a", "abc", "abcdef", "Li Wei", "China Mobile"] {
            let m = mask(s);
            let shown = m.chars().filter(|&c| c != '*').count();
            assert!(shown * 2 <= s.chars().count(), "{s} -> {m}");
        }
    }

    #[test]
    fn a_digest_shows_only_a_prefix() {
        assert_eq!(mask_head("AbCdEfGhIjKlMnOp", 4), "AbCd************");
    }
}
