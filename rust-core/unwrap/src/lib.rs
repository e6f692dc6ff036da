//! Sans-IO unwrapping: the views hidden inside a payload.
//!
//! SDKs wrap what they send: base64 or hex of a gzip, zlib, raw-deflate, brotli or zstd
//! stream, compressed bodies sent without `Content-Encoding`, URL-encoded JSON inside a
//! JSON string, JSON inside a form field inside a compressed body. [`unwrap`] peels
//! those layers off, in any order and several deep, and returns each thing it found
//! inside as a [`View`] that carries its chain of [`Layer`]s (outermost first), so a
//! matcher can scan it and a reader can see how the value was wrapped.
//!
//! Every decoder takes untrusted bytes and never panics. The work is bounded three ways:
//! a [`Budget`] of decoded bytes (the caller keeps one per flow), a cap on what one layer
//! may decode to (a decompression bomb stops there), and at most
//! [`Limits::max_views`] views per payload.

mod bits;
mod compressed;
mod text;
mod walk;

pub use phonehome_model::Layer;

/// Whether `b` starts like a gzip, zlib or zstd stream: a view that is one holds nothing
/// readable itself (what is inside comes as the next view).
pub fn is_compressed(b: &[u8]) -> bool {
    compressed::sniff(b).is_some()
}
pub use walk::{unwrap, unwrap_with_base64_mask};

/// How far and how wide [`unwrap`] looks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Layers in one chain at most.
    pub max_depth: usize,
    /// Bytes one layer may decode to; a stream that would give more is cut there.
    pub layer_cap: usize,
    /// Views returned per payload at most.
    pub max_views: usize,
    /// Shortest base64 or hex run worth decoding, in characters.
    pub min_run: usize,
}

impl Limits {
    /// The limits that go with a scan limit of `scan_limit` bytes per flow and
    /// direction: one layer may decode to 4 times that, and a flow gets a budget of 16
    /// times that (see [`Budget::for_scan_limit`]).
    pub fn for_scan_limit(scan_limit: usize) -> Self {
        Self {
            max_depth: 6,
            layer_cap: scan_limit.saturating_mul(4),
            max_views: 256,
            min_run: 16,
        }
    }
}

/// Decoded bytes one flow may still spend. Every layer's output is charged here, so a
/// flow cannot make the monitor decode more than this in all, however it nests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Budget {
    left: usize,
}

impl Budget {
    pub fn new(bytes: usize) -> Self {
        Self { left: bytes }
    }

    /// 16 times the scan limit.
    pub fn for_scan_limit(scan_limit: usize) -> Self {
        Self::new(scan_limit.saturating_mul(16))
    }

    pub fn left(&self) -> usize {
        self.left
    }

    fn spend(&mut self, n: usize) {
        self.left = self.left.saturating_sub(n);
    }
}

/// Something found inside a payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct View {
    /// How it was wrapped, outermost first; never empty.
    pub layers: Vec<Layer>,
    /// What is inside, decoded.
    pub bytes: Vec<u8>,
    /// The view it was found in, as an index into the same list; `None` for the input.
    pub parent: Option<usize>,
    /// The last layer was cut short: by the per-layer cap (a decompression bomb) or
    /// because the budget ran out.
    pub capped: bool,
}
