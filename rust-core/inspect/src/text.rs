//! Rendering of untrusted names as text. Host names are compared case-insensitively and
//! may hold any byte on the wire, so we lower-case ASCII and escape everything outside
//! the usual host-name alphabet as `\DDD` (the zone-file convention): the result is
//! printable, unambiguous and cannot smuggle control characters into logs or JSON.

/// Appends one host-name byte run (a DNS label, or a whole SNI host name when `dots` is
/// set) to `out`.
pub(crate) fn push_host(out: &mut String, bytes: &[u8], dots: bool) {
    for &b in bytes {
        match b {
            b'A'..=b'Z' => out.push(char::from(b.to_ascii_lowercase())),
            b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'*' => out.push(char::from(b)),
            b'.' if dots => out.push('.'),
            _ => {
                out.push('\\');
                out.push(char::from(b'0' + b / 100));
                out.push(char::from(b'0' + b / 10 % 10));
                out.push(char::from(b'0' + b % 10));
            }
        }
    }
}

/// A host name (SNI, Host header) as text.
pub(crate) fn host(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len());
    push_host(&mut s, bytes, true);
    s
}

/// A short protocol token (an ALPN identifier): printable ASCII kept, other bytes escaped
/// as `\xHH`.
pub(crate) fn token(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len());
    for &b in bytes {
        if b.is_ascii_graphic() && b != b'\\' {
            s.push(char::from(b));
        } else {
            const HEX: &[u8; 16] = b"0123456789abcdef";
            s.push_str("\\x");
            s.push(char::from(HEX[usize::from(b >> 4)]));
            s.push(char::from(HEX[usize::from(b & 15)]));
        }
    }
    s
}
