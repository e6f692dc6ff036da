//! A response body read while it streams: server-sent events, JSON lines, or any body
//! still arriving. Its bytes are decoded as they come ([`crate::codings`]) and handed out
//! in pieces a detector can scan at once: each whole event or line when the media type
//! tells the framing, else everything new since the last piece. A piece never gets
//! longer than the window; a record longer than that is cut into windows that overlap
//! by [`super::Config::overlap`] bytes, so a value cut by a window edge is whole in one
//! of them.

use std::collections::VecDeque;

use memchr::{memchr, memchr2};

use super::Received;
use crate::codings::Decoders;

/// How a streamed body is cut into pieces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Framing {
    /// `text/event-stream`: one piece per event, its data lines joined (HTML Living
    /// Standard, section 9.2.6), its other fields apart.
    Events,
    /// JSON lines (NDJSON, JSON Lines, JSON text sequences): one piece per line.
    Lines,
    /// No known framing: what came, each time bytes come.
    Windows,
}

impl Framing {
    /// The framing a media type (lower-case, without parameters) announces.
    pub(super) fn of(media_type: &str) -> Option<Framing> {
        Some(match media_type {
            "text/event-stream" => Framing::Events,
            "application/x-ndjson"
            | "application/ndjson"
            | "application/jsonl"
            | "application/x-jsonl"
            | "application/jsonlines"
            | "application/x-jsonlines"
            | "application/json-lines"
            | "application/json-seq"
            | "application/stream+json"
            | "application/x-json-stream" => Framing::Lines,
            _ => return None,
        })
    }
}

/// See the module documentation.
#[derive(Debug)]
pub(super) struct Streamed {
    decoders: Decoders,
    framing: Framing,
    /// Decoded bytes not yet handed out whole: an unfinished record, or (windows) the
    /// overlap kept from the last piece.
    pending: Vec<u8>,
    /// Bytes at the start of `pending` already handed out (the overlap).
    seen: usize,
    /// Body bytes as sent (de-chunked), and decoded.
    wire: usize,
    decoded: usize,
    window: usize,
    overlap: usize,
    /// Decoding failed: nothing more comes out.
    failed: bool,
}

impl Streamed {
    /// `None` when a coding cannot be undone as the bytes come.
    pub(super) fn new(
        framing: Framing,
        codings: &[String],
        window: usize,
        overlap: usize,
    ) -> Option<Streamed> {
        Some(Streamed {
            decoders: Decoders::new(codings)?,
            framing,
            pending: Vec::new(),
            seen: 0,
            wire: 0,
            decoded: 0,
            window: window.max(1),
            overlap: overlap.min(window / 2),
            failed: false,
        })
    }

    /// Adds body bytes as sent; what can be scanned now goes to `out`. At most `max` of
    /// them are taken and `cap` decoded bytes made: past either, returns how many of
    /// `bytes` were not taken (the body is done with), else `None`.
    pub(super) fn push(
        &mut self,
        bytes: &[u8],
        max: usize,
        cap: usize,
        out: &mut VecDeque<Received>,
    ) -> Option<usize> {
        let take = bytes.len().min(max.saturating_sub(self.wire));
        self.wire += take;
        let room = cap.saturating_sub(self.decoded);
        if !self.failed {
            let before = self.pending.len();
            if self
                .decoders
                .push(&bytes[..take], &mut self.pending, room)
                .is_err()
            {
                // What decoded before the failure is still scanned.
                self.failed = true;
            }
            self.decoded += self.pending.len() - before;
        }
        let full = self.wire >= max || self.decoded >= cap || self.failed;
        self.records(out, full);
        full.then_some(bytes.len() - take)
    }

    /// The body ended (or is given up): what is pending goes out.
    pub(super) fn finish(mut self, out: &mut VecDeque<Received>) {
        self.records(out, true);
    }

    /// Hands out every whole record in `pending` (`all`: the rest too).
    fn records(&mut self, out: &mut VecDeque<Received>, all: bool) {
        let mut at = 0;
        while let Some((end, next)) = self.record_end(at) {
            self.record(&self.pending[at..end], out);
            at = next;
            self.seen = 0;
        }
        self.pending.drain(..at);
        self.seen = self.seen.min(self.pending.len());
        let unframed = self.framing == Framing::Windows;
        if all && !unframed && self.seen == 0 && self.pending.len() <= self.window {
            // The last record, cut short by the end: still read as one.
            let rest = std::mem::take(&mut self.pending);
            self.record(&rest, out);
            return;
        }
        // Out as it is, a window at a time; the last `overlap` bytes of each are kept to
        // start the next, so what a window edge cut is whole in the next one.
        while self.pending.len() > self.seen
            && (all || unframed || self.pending.len() >= self.window)
        {
            let n = self.pending.len().min(self.window);
            push_piece(self.pending[..n].to_vec(), out);
            let kept = self.overlap.min(n);
            self.pending.drain(..n - kept);
            self.seen = kept;
        }
        if all {
            self.pending.clear();
            self.seen = 0;
        }
    }

    /// Where the record starting at `at` ends, and where the next one starts.
    fn record_end(&self, at: usize) -> Option<(usize, usize)> {
        let rest = &self.pending[at..];
        match self.framing {
            Framing::Windows => None,
            Framing::Lines => memchr(b'\n', rest).map(|i| (at + i, at + i + 1)),
            Framing::Events => event_end(rest).map(|(e, n)| (at + e, at + n)),
        }
    }

    /// One whole record: an event split into its data and other fields, or a line.
    fn record(&self, text: &[u8], out: &mut VecDeque<Received>) {
        match self.framing {
            Framing::Events => {
                let (data, other) = event_fields(text);
                push_piece(data, out);
                push_piece(other, out);
            }
            _ => {
                // JSON text sequences start each record with RS; CRLF line ends too.
                let line = text.strip_prefix(b"\x1e").unwrap_or(text);
                let line = line.strip_suffix(b"\r").unwrap_or(line);
                push_piece(line.to_vec(), out);
            }
        }
    }
}

/// A piece worth scanning: anything but white space.
fn push_piece(piece: Vec<u8>, out: &mut VecDeque<Received>) {
    if piece.iter().any(|b| !b.is_ascii_whitespace()) {
        out.push_back(Received::Part(piece));
    }
}

/// The end of the first event in `buf` (before its blank line) and the start of the
/// next: lines end in CRLF, LF or CR, and an empty line ends an event.
fn event_end(buf: &[u8]) -> Option<(usize, usize)> {
    let mut line_start = 0;
    loop {
        let i = line_start + memchr2(b'\n', b'\r', &buf[line_start..])?;
        let next = match (buf[i], buf.get(i + 1)) {
            (b'\r', Some(b'\n')) => i + 2,
            // A CR last in the buffer may be the first half of a CRLF: wait.
            (b'\r', None) => return None,
            _ => i + 1,
        };
        if i == line_start {
            return Some((line_start, next));
        }
        line_start = next;
    }
}

/// An event's data lines joined by LF (as a browser gives them to the page), and its
/// other fields (`event`, `id`, unknown ones) as `name: value` lines; comments dropped.
fn event_fields(event: &[u8]) -> (Vec<u8>, Vec<u8>) {
    let mut data = Vec::new();
    let mut data_lines = 0;
    let mut other = Vec::new();
    let lines = event
        .split(|&b| b == b'\n' || b == b'\r')
        .filter(|l| !l.is_empty());
    for line in lines {
        if line[0] == b':' {
            continue;
        }
        let (name, value) = match memchr(b':', line) {
            Some(i) => {
                let v = &line[i + 1..];
                (&line[..i], v.strip_prefix(b" ").unwrap_or(v))
            }
            None => (line, &b""[..]),
        };
        if name == b"data" {
            if data_lines > 0 {
                data.push(b'\n');
            }
            data_lines += 1;
            data.extend_from_slice(value);
        } else {
            other.extend_from_slice(name);
            other.extend_from_slice(b": ");
            other.extend_from_slice(value);
            other.push(b'\n');
        }
    }
    (data, other)
}

#[cfg(test)]
mod tests;
