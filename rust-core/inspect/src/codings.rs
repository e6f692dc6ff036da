//! Content codings undone as the bytes arrive (gzip, deflate, br, zstd): for a body that
//! is read while it streams, where [`crate::http::finished_body`] would wait for its end.
//!
//! Each decoder takes whatever bytes came and gives what they decode to, keeping its
//! state between pushes; output is capped per push by the caller (a decompression bomb
//! stops there). History kept: gzip/deflate 32 KiB, br its window (at most 16 MiB: large
//! windows are refused), zstd the decoded bytes still needed as its window.

use brotli_decompressor::{BrotliDecompressStream, BrotliResult, BrotliState, StandardAlloc};
use flate2::{Decompress, FlushDecompress, Status};
use memchr::memchr;
use ruzstd::decoding::FrameDecoder;

/// Longest gzip member header (optional name, comment, extra field) waited for.
const MAX_GZIP_HEADER: usize = 64 * 1024;

/// Output produced per decoder call, at most, before the cap is looked at again.
const STEP: usize = 16 * 1024;

/// What went wrong while decoding.
pub(crate) type Failure = &'static str;

/// The content codings of one body, undone in reverse of the order they were applied.
pub(crate) struct Decoders {
    /// The last coding applied comes first: it is the first undone.
    steps: Vec<Step>,
}

impl std::fmt::Debug for Decoders {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Decoders")
            .field("steps", &self.steps.len())
            .finish()
    }
}

impl Decoders {
    /// Decoders for `codings` as listed (first applied first); `None` if one of them has
    /// no decoder here.
    pub(crate) fn new(codings: &[String]) -> Option<Self> {
        let steps = codings
            .iter()
            .rev()
            .filter(|c| c.as_str() != "identity")
            .map(|c| Step::new(c))
            .collect::<Option<Vec<_>>>()?;
        Some(Decoders { steps })
    }

    /// Decodes the next bytes of the body, appending what they decode to (at most `room`
    /// bytes) to `out`. An error leaves the output made before it in `out`.
    pub(crate) fn push(
        &mut self,
        input: &[u8],
        out: &mut Vec<u8>,
        room: usize,
    ) -> Result<(), Failure> {
        let Some((last, inner)) = self.steps.split_last_mut() else {
            let n = input.len().min(room);
            out.extend_from_slice(&input[..n]);
            return Ok(());
        };
        // Each inner layer's output is the next one's input, capped the same way.
        let mut data = input.to_vec();
        for step in inner {
            let mut next = Vec::new();
            step.push(&data, &mut next, room)?;
            data = next;
        }
        let stop = out.len().saturating_add(room);
        last.push(&data, out, room)?;
        out.truncate(stop);
        Ok(())
    }
}

enum Step {
    Gzip(Gzip),
    Deflate(Deflate),
    Brotli(Box<Brotli>),
    Zstd(Box<Zstd>),
}

impl Step {
    fn new(coding: &str) -> Option<Step> {
        Some(match coding {
            "gzip" | "x-gzip" => Step::Gzip(Gzip::default()),
            "deflate" => Step::Deflate(Deflate::default()),
            "br" => Step::Brotli(Box::new(Brotli::new())),
            "zstd" => Step::Zstd(Box::default()),
            _ => return None,
        })
    }

    fn push(&mut self, input: &[u8], out: &mut Vec<u8>, room: usize) -> Result<(), Failure> {
        let stop = out.len().saturating_add(room);
        match self {
            Step::Gzip(g) => g.push(input, out, stop),
            Step::Deflate(d) => d.push(input, out, stop),
            Step::Brotli(b) => b.push(input, out, stop),
            Step::Zstd(z) => z.push(input, out, stop),
        }
    }
}

/// Inflates from `input` into `out` until the stream ends (true), the input runs out, or
/// `out` reaches `stop`; consumed input is cut off the front of `input`.
fn inflate(
    d: &mut Decompress,
    input: &mut &[u8],
    out: &mut Vec<u8>,
    stop: usize,
) -> Result<bool, Failure> {
    while out.len() < stop {
        out.reserve(STEP.min(stop - out.len()));
        let (in0, out0) = (d.total_in(), d.total_out());
        let status = d
            .decompress_vec(input, out, FlushDecompress::None)
            .map_err(|_| "content decoding failed (corrupt)")?;
        let used = usize::try_from(d.total_in() - in0).unwrap_or(usize::MAX);
        *input = &input[used.min(input.len())..];
        if status == Status::StreamEnd {
            return Ok(true);
        }
        if used == 0 && d.total_out() == out0 {
            break;
        }
    }
    Ok(false)
}

/// Where a gzip stream is: members follow one another (as `MultiGzDecoder` reads them).
#[derive(Default)]
enum GzAt {
    #[default]
    Header,
    Body(Box<Decompress>),
    /// CRC32 and size bytes still to step over.
    Trailer(usize),
    /// Anything after a member that is not another member is ignored.
    Done,
}

#[derive(Default)]
struct Gzip {
    at: GzAt,
    /// Header bytes gathered while the header is incomplete.
    head: Vec<u8>,
    members: usize,
}

impl Gzip {
    fn push(&mut self, mut input: &[u8], out: &mut Vec<u8>, stop: usize) -> Result<(), Failure> {
        if !matches!(self.at, GzAt::Header) && !self.member(&mut input, out, stop)? {
            return Ok(());
        }
        // At a member header: its bytes are gathered, then the member read from them.
        let mut bytes = input.to_vec();
        loop {
            if matches!(self.at, GzAt::Done) || bytes.is_empty() {
                return Ok(());
            }
            self.head.extend_from_slice(&bytes);
            match gzip_header_len(&self.head) {
                Ok(None) if self.head.len() > MAX_GZIP_HEADER => {
                    return Err("gzip header too long")
                }
                Ok(None) => return Ok(()),
                Err(e) if self.members == 0 => return Err(e),
                // Bytes after the last member that are not gzip: left alone.
                Err(_) => {
                    self.at = GzAt::Done;
                    return Ok(());
                }
                Ok(Some(n)) => {
                    let rest = std::mem::take(&mut self.head).split_off(n);
                    self.at = GzAt::Body(Box::new(Decompress::new(false)));
                    let mut rest_in: &[u8] = &rest;
                    if !self.member(&mut rest_in, out, stop)? {
                        return Ok(());
                    }
                    bytes = rest_in.to_vec();
                }
            }
        }
    }

    /// Reads a member's compressed data and trailer from `input`; true once the member
    /// is over (the next header comes next).
    fn member(
        &mut self,
        input: &mut &[u8],
        out: &mut Vec<u8>,
        stop: usize,
    ) -> Result<bool, Failure> {
        loop {
            match &mut self.at {
                GzAt::Header => return Ok(true),
                GzAt::Done => return Ok(false),
                GzAt::Body(d) => {
                    if !inflate(d, input, out, stop)? {
                        return Ok(false);
                    }
                    self.members += 1;
                    self.at = GzAt::Trailer(8);
                }
                GzAt::Trailer(left) => {
                    let n = (*left).min(input.len());
                    *left -= n;
                    *input = &input[n..];
                    if *left > 0 {
                        return Ok(false);
                    }
                    self.at = GzAt::Header;
                }
            }
        }
    }
}

/// The length of a complete gzip member header (RFC 1952 section 2.3) at the start of
/// `h`, `None` if more bytes are needed.
fn gzip_header_len(h: &[u8]) -> Result<Option<usize>, Failure> {
    let magic = [0x1f, 0x8b, 8];
    let n = h.len().min(3);
    if h[..n] != magic[..n] {
        return Err("not a gzip header");
    }
    if h.len() < 10 {
        return Ok(None);
    }
    let flags = h[3];
    let mut at = 10;
    if flags & 4 != 0 {
        let Some(len) = h.get(at..at + 2) else {
            return Ok(None);
        };
        at += 2 + usize::from(u16::from_le_bytes([len[0], len[1]]));
    }
    for flag in [8, 16] {
        if flags & flag != 0 {
            let Some(rest) = h.get(at..) else {
                return Ok(None);
            };
            match memchr(0, rest) {
                Some(i) => at += i + 1,
                None => return Ok(None),
            }
        }
    }
    if flags & 2 != 0 {
        at += 2;
    }
    Ok((h.len() >= at).then_some(at))
}

/// `deflate`: zlib as RFC 9110 says, or raw deflate as some servers send, told apart by
/// the first two bytes.
#[derive(Default)]
struct Deflate {
    d: Option<Box<Decompress>>,
    first: Vec<u8>,
    done: bool,
}

impl Deflate {
    fn push(&mut self, input: &[u8], out: &mut Vec<u8>, stop: usize) -> Result<(), Failure> {
        if self.done {
            return Ok(());
        }
        let mut carried = Vec::new();
        let mut input = input;
        if self.d.is_none() {
            self.first.extend_from_slice(input);
            if self.first.len() < 2 {
                return Ok(());
            }
            let f = &self.first;
            let zlib = f[0] & 0x0f == 8 && (u16::from(f[0]) << 8 | u16::from(f[1])) % 31 == 0;
            self.d = Some(Box::new(Decompress::new(zlib)));
            carried = std::mem::take(&mut self.first);
            input = &carried;
        }
        if let Some(d) = &mut self.d {
            self.done = inflate(d, &mut input, out, stop)?;
        }
        drop(carried);
        Ok(())
    }
}

struct Brotli {
    state: BrotliState<StandardAlloc, StandardAlloc, StandardAlloc>,
    done: bool,
}

impl Brotli {
    fn new() -> Self {
        let mut state = BrotliState::new(
            StandardAlloc::default(),
            StandardAlloc::default(),
            StandardAlloc::default(),
        );
        // RFC 7932 windows (at most 16 MiB): the large-window extension is not HTTP's.
        state.large_window = false;
        Brotli { state, done: false }
    }

    fn push(&mut self, input: &[u8], out: &mut Vec<u8>, stop: usize) -> Result<(), Failure> {
        if self.done {
            return Ok(());
        }
        let mut available_in = input.len();
        let mut input_offset = 0;
        let mut buf = vec![0u8; STEP];
        loop {
            let mut available_out = buf.len();
            let mut output_offset = 0;
            let mut total_out = 0;
            let result = BrotliDecompressStream(
                &mut available_in,
                &mut input_offset,
                input,
                &mut available_out,
                &mut output_offset,
                &mut buf,
                &mut total_out,
                &mut self.state,
            );
            out.extend_from_slice(&buf[..output_offset.min(buf.len())]);
            match result {
                BrotliResult::ResultSuccess => {
                    self.done = true;
                    return Ok(());
                }
                BrotliResult::NeedsMoreInput => return Ok(()),
                BrotliResult::NeedsMoreOutput if out.len() < stop => {}
                BrotliResult::NeedsMoreOutput => return Ok(()),
                BrotliResult::ResultFailure => return Err("content decoding failed (corrupt)"),
            }
        }
    }
}

/// zstd frames, one after another. Blocks are handed to the decoder one whole block at
/// a time, so that no more than one block (128 KiB) is decoded past the cap.
#[derive(Default)]
struct Zstd {
    d: FrameDecoder,
    /// Bytes not decoded yet: a frame header or block still incomplete.
    buf: Vec<u8>,
    in_frame: bool,
    /// The frame's last block was decoded (its checksum may still follow).
    last_block: bool,
}

/// Longest zstd frame header (RFC 8878 section 3.1.1.1).
const MAX_ZSTD_HEADER: usize = 18;

/// Largest block content (RFC 8878 section 3.1.1.2.3).
const MAX_ZSTD_BLOCK: usize = 128 * 1024;

impl Zstd {
    fn push(&mut self, input: &[u8], out: &mut Vec<u8>, stop: usize) -> Result<(), Failure> {
        const CORRUPT: Failure = "content decoding failed (corrupt)";
        self.buf.extend_from_slice(input);
        let mut tmp = vec![0u8; STEP];
        while out.len() < stop {
            if !self.in_frame {
                if self.buf.is_empty() {
                    return Ok(());
                }
                let mut src = &self.buf[..];
                match self.d.reset(&mut src) {
                    Ok(()) => {
                        let used = self.buf.len() - src.len();
                        self.buf.drain(..used);
                        self.in_frame = true;
                        self.last_block = false;
                    }
                    // Maybe only cut short: wait for a whole header.
                    Err(_) if self.buf.len() < MAX_ZSTD_HEADER => return Ok(()),
                    Err(_) => return Err("zstd frame header is invalid"),
                }
            }
            // What is decoded goes out first.
            let ready = self.d.can_collect().min(tmp.len());
            if ready > 0 {
                let n = std::io::Read::read(&mut self.d, &mut tmp[..ready]).map_err(|_| CORRUPT)?;
                out.extend_from_slice(&tmp[..n.min(ready)]);
                if n > 0 {
                    continue;
                }
            }
            if self.d.is_finished() {
                self.in_frame = false;
                continue;
            }
            // Next: a whole block, or after the last one its 4-byte checksum.
            let (unit, last) = if self.last_block {
                (4, true)
            } else {
                let Some(h) = self.buf.get(..3) else {
                    return Ok(());
                };
                let h = u32::from(h[0]) | u32::from(h[1]) << 8 | u32::from(h[2]) << 16;
                let size = (h >> 3) as usize;
                if h >> 1 & 3 == 3 || size > MAX_ZSTD_BLOCK {
                    return Err(CORRUPT);
                }
                let wire = if h >> 1 & 3 == 1 { 1 } else { size };
                (3 + wire, h & 1 == 1)
            };
            if self.buf.len() < unit {
                return Ok(());
            }
            let (read, _) = self
                .d
                .decode_from_to(&self.buf[..unit], &mut [])
                .map_err(|_| CORRUPT)?;
            if read == 0 {
                return Err(CORRUPT);
            }
            self.last_block = last;
            self.buf.drain(..read.min(self.buf.len()));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
