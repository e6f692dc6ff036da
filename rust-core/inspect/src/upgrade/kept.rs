//! The body of one response while it arrives: its bytes as sent (de-chunked) kept up to
//! a limit, then decoded the way request bodies are ([`crate::http::finished_body`]).

use crate::http::{self, Body, Field};

/// See the module documentation.
#[derive(Debug)]
pub(super) struct Kept {
    raw: Vec<u8>,
    wire_len: u64,
    codings: Vec<String>,
    content_type: Option<String>,
}

impl Kept {
    /// A body with these response header fields; `transfer` holds the codings listed
    /// in Transfer-Encoding other than a final `chunked` (applied before the content
    /// codings are taken off, so they come first in the list).
    pub(super) fn new(headers: &[Field], transfer: Vec<String>) -> Self {
        let mut codings = transfer;
        codings.retain(|c| c != "identity");
        codings.extend(http::content_codings(headers));
        Kept {
            raw: Vec::new(),
            wire_len: 0,
            codings,
            content_type: http::content_type(headers),
        }
    }

    /// Adds body bytes, at most `max` kept in all; returns how many of them were not
    /// kept, or `None` while there is room for more.
    pub(super) fn push(&mut self, bytes: &[u8], max: usize) -> Option<usize> {
        self.wire_len += bytes.len() as u64;
        let take = bytes.len().min(max.saturating_sub(self.raw.len()));
        self.raw.extend_from_slice(&bytes[..take]);
        (self.raw.len() >= max).then_some(bytes.len() - take)
    }

    /// The body as far as it came: decoded, at most `cap` bytes of output. `cut`: the
    /// body went on past what was kept, or its end was never seen.
    pub(super) fn finish(self, cut: bool, cap: usize) -> Body {
        http::finished_body(
            self.raw,
            self.wire_len,
            cut,
            self.codings,
            self.content_type,
            cap,
        )
    }
}
