//! The body of one response while it arrives. An ordinary body: its bytes as sent
//! (de-chunked) kept up to a limit, then decoded the way request bodies are
//! ([`crate::http::finished_body`]) and scanned whole. A stream (server-sent events,
//! JSON lines): decoded and handed out piece by piece as it comes ([`Streamed`]).

use std::collections::VecDeque;

use super::streamed::{Framing, Streamed};
use super::{Config, Received};
use crate::http::{self, Field};

/// See the module documentation.
#[derive(Debug)]
pub(super) enum Kept {
    Whole(Whole),
    Streamed(Box<Streamed>),
}

#[derive(Debug)]
pub(super) struct Whole {
    raw: Vec<u8>,
    wire_len: u64,
    codings: Vec<String>,
    content_type: Option<String>,
}

impl Kept {
    /// A body with these response header fields; `transfer` holds the codings listed
    /// in Transfer-Encoding other than a final `chunked` (applied before the content
    /// codings are taken off, so they come first in the list).
    pub(super) fn new(headers: &[Field], transfer: Vec<String>, config: &Config) -> Self {
        let mut codings = transfer;
        codings.retain(|c| c != "identity");
        codings.extend(http::content_codings(headers));
        let content_type = http::content_type(headers);
        let framing = content_type
            .as_deref()
            .and_then(|ct| Framing::of(&http::media_type(ct)));
        if let Some(framing) = framing {
            // A coding without a streaming decoder leaves the body to be read whole.
            if let Some(s) = Streamed::new(framing, &codings, config.max_body_bytes, config.overlap)
            {
                return Kept::Streamed(Box::new(s));
            }
        }
        Kept::Whole(Whole {
            raw: Vec::new(),
            wire_len: 0,
            codings,
            content_type,
        })
    }

    /// Adds body bytes, at most `max` kept in all (`cap` decoded, for a stream); returns
    /// how many of them were not kept, or `None` while there is room for more. A
    /// stream's pieces ready to scan go to `out`.
    pub(super) fn push(
        &mut self,
        bytes: &[u8],
        config: &Config,
        out: &mut VecDeque<Received>,
    ) -> Option<usize> {
        let max = config.max_body_bytes;
        match self {
            Kept::Streamed(s) => s.push(bytes, max, config.max_decoded_bytes, out),
            Kept::Whole(w) => {
                w.wire_len += bytes.len() as u64;
                let take = bytes.len().min(max.saturating_sub(w.raw.len()));
                w.raw.extend_from_slice(&bytes[..take]);
                (w.raw.len() >= max).then_some(bytes.len() - take)
            }
        }
    }

    /// The body as far as it came: decoded, at most `cap` bytes of output. `cut`: the
    /// body went on past what was kept, or its end was never seen.
    pub(super) fn finish(self, cut: bool, cap: usize, out: &mut VecDeque<Received>) {
        match self {
            Kept::Streamed(s) => s.finish(out),
            Kept::Whole(w) => {
                let body =
                    http::finished_body(w.raw, w.wire_len, cut, w.codings, w.content_type, cap);
                if body.wire_len > 0 {
                    out.push_back(Received::Body(body));
                }
            }
        }
    }
}
