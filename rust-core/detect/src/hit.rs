//! What the matcher and the structural scans both produce: a [`Hit`], and the masked
//! context it carries as evidence.

use serde::Serialize;

use phonehome_model::{Confidence, DigestForm, Encoding, Kind, Where};

/// One finding in the scanned bytes.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Hit {
    pub kind: Kind,
    pub encoding: Encoding,
    /// For digests: hex, hex_upper, base64 or base64url.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub digest_form: Option<DigestForm>,
    /// For hits inside a decoded base64 blob (`encoding` is then `base64`): the form the
    /// value had inside the blob.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub inner: Option<Encoding>,
    /// A digest cut short (only its first characters were present).
    pub truncated: bool,
    pub confidence: Confidence,
    #[serde(rename = "where")]
    pub where_: Where,
    /// Byte offset and length in the scanned buffer (approximate inside base64 blobs).
    pub offset: usize,
    pub len: usize,
    /// Short context with the value masked; never the whole value or digest.
    pub evidence: String,
}

/// Identifier numbers from here up are probable hits (`PROBABLE + kind`), not one of the
/// configured values.
pub(crate) const PROBABLE: u32 = u32::MAX - 64;

/// A hit and the identifier it belongs to, until overlapping hits are merged.
#[derive(Debug, Clone)]
pub(crate) struct Found {
    pub ident: u32,
    pub hit: Hit,
}

fn is_delim(b: u8) -> bool {
    b.is_ascii_whitespace()
        || matches!(
            b,
            b'&' | b'?' | b',' | b';' | b'{' | b'}' | b'[' | b']' | b'<' | b'>'
        )
}

/// Context around a hit: back to the key (at most 24 bytes), forward to the next
/// delimiter (at most 12), non-printables as `.`, and any other long alphanumeric run
/// holding digits masked too, since it may be another identifier.
pub(crate) fn evidence(data: &[u8], s: usize, e: usize, core: &str) -> String {
    let s = s.min(data.len());
    let e = e.clamp(s, data.len());
    let mut ps = s.saturating_sub(24);
    if let Some(d) = data[ps..s].iter().rposition(|&b| is_delim(b)) {
        ps += d + 1;
    }
    let mut pe = (e + 12).min(data.len());
    if let Some(d) = data[e..pe].iter().position(|&b| is_delim(b)) {
        pe = e + d;
    }
    format!("{}{}{}", clean(&data[ps..s]), core, clean(&data[e..pe]))
}

fn clean(b: &[u8]) -> String {
    let mut out = String::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i].is_ascii_alphanumeric() {
            let s = i;
            while i < b.len() && b[i].is_ascii_alphanumeric() {
                i += 1;
            }
            let run = &b[s..i];
            let digits = run.iter().filter(|c| c.is_ascii_digit()).count();
            if run.len() >= 6 && digits >= 2 {
                out.extend(std::iter::repeat_n('*', run.len()));
            } else {
                out.extend(run.iter().map(|&c| c as char));
            }
        } else {
            out.push(if b[i].is_ascii_graphic() || b[i] == b' ' {
                b[i] as char
            } else {
                '.'
            });
            i += 1;
        }
    }
    out
}
