//! HTTP/2 (RFC 9113) from one direction of a connection, for finding identifiers in it:
//! each stream's header list (HPACK-decoded, RFC 7541) and its body (DATA frames,
//! padding removed, content codings undone as for HTTP/1).
//!
//! A [`Reader`] follows one direction: [`Side::Client`] expects the connection preface
//! and reads requests, [`Side::Server`] reads responses. Each keeps its own HPACK
//! dynamic table, as the protocol does. Feed bytes in order with [`Reader::push`]; a
//! stream comes out of [`Reader::next_message`] when it ends (END_STREAM or RST_STREAM),
//! when it is pushed out by newer streams (over [`Config::max_streams`], or over
//! [`Config::max_open_bytes`] kept for open streams), or at [`Reader::finish`]. Server push is decoded (to keep the table in step) and dropped.
//!
//! State is bounded per connection: open streams, header block and header list bytes,
//! dynamic table size, and body bytes per stream are capped; DATA frames are read as
//! they arrive, never buffered whole. A frame that breaks the protocol stops the reader
//! (what ended before it still comes out), since HPACK cannot resume after a gap.

use std::collections::{BTreeMap, VecDeque};

use crate::http::{self, Body, Field, Request, Version};

mod frames;
mod hpack;
mod huffman;

pub use frames::FrameHeader;
pub use hpack::{Decoder, HeaderField, HeaderList, HpackError};
pub use huffman::HuffmanError;

use frames::FrameError;

/// What a client sends first on every HTTP/2 connection (RFC 9113 section 3.4).
pub const PREFACE: &[u8; 24] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// Limits for one direction of one connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// Streams followed at once; a new one beyond this ends the oldest early.
    pub max_streams: usize,
    /// A header block's encoded bytes (HEADERS or PUSH_PROMISE and its CONTINUATIONs).
    pub max_header_block_bytes: usize,
    /// A decoded header list, counted as SETTINGS_MAX_HEADER_LIST_SIZE counts.
    pub max_header_list_bytes: usize,
    /// The largest HPACK dynamic table a table size update may ask for.
    pub max_table_bytes: usize,
    /// Body bytes kept per stream as sent.
    pub max_body_bytes: usize,
    /// Header fields and body bytes kept for all open streams together; past it the
    /// oldest stream ends early (what it has is read, the rest of it is not).
    pub max_open_bytes: usize,
    /// Body bytes kept per stream after content decoding.
    pub max_decoded_bytes: usize,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            max_streams: 32,
            max_header_block_bytes: 64 * 1024,
            max_header_list_bytes: 64 * 1024,
            max_table_bytes: 64 * 1024,
            max_body_bytes: 1024 * 1024,
            max_open_bytes: 4 * 1024 * 1024,
            max_decoded_bytes: 1024 * 1024,
        }
    }
}

/// Which end sent the bytes a [`Reader`] reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Client,
    Server,
}

/// Why the bytes stopped being readable as HTTP/2.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum H2Error {
    #[error("not an HTTP/2 connection (no client preface)")]
    NoPreface,
    #[error(transparent)]
    Frame(#[from] FrameError),
    #[error("HTTP/2 header block is larger than the limit")]
    HeaderBlockTooLarge,
    #[error("HTTP/2 frame where a CONTINUATION of stream {0} was due")]
    ExpectedContinuation(u32),
    #[error("HTTP/2 CONTINUATION without a header block to continue")]
    StrayContinuation,
    #[error(transparent)]
    Hpack(#[from] HpackError),
    #[error("the HTTP/2 byte stream was cut (a gap or its end)")]
    Cut,
}

/// One stream's message: a request (client side) or a response (server side).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub stream: u32,
    /// The header list in order, pseudo-header fields (`:path`, `:status`…) included.
    pub fields: Vec<Field>,
    /// Fields were left out: the list went over the limit.
    pub fields_truncated: bool,
    /// A header block after the body.
    pub trailers: Vec<Field>,
    pub body: Body,
    /// The stream ended properly (END_STREAM), not by reset, limit or end of input.
    pub complete: bool,
}

impl Message {
    /// The first field with this name.
    pub fn field(&self, name: &str) -> Option<&Field> {
        self.fields.iter().find(|f| f.name == name)
    }

    /// The request this message is, in the shape HTTP/1 requests have: `:path` as the
    /// target, the host from `:authority` (else a Host field), cookies from every
    /// `cookie` field (HTTP/2 may split them), the other fields as headers. `None` for
    /// a message without `:method` (a response).
    pub fn request(&self) -> Option<Request> {
        let method = self.field(":method")?.value_str().into_owned();
        let authority = self.field(":authority").or_else(|| self.field("host"));
        let target = match self.field(":path") {
            Some(path) => path.value_str().into_owned(),
            // CONNECT names only the authority.
            None => authority.map(|a| a.value_str().into_owned())?,
        };
        let headers: Vec<Field> = self
            .fields
            .iter()
            .filter(|f| f.name != ":path")
            .cloned()
            .collect();
        Some(http::request_from_parts(
            method,
            target,
            Version::Http2,
            headers,
            authority.map(|a| a.value.clone()),
            self.body.clone(),
            self.trailers.clone(),
        ))
    }
}

/// A stream being followed.
#[derive(Debug, Default)]
struct Open {
    fields: Vec<Field>,
    fields_truncated: bool,
    trailers: Vec<Field>,
    raw: Vec<u8>,
    wire_len: u64,
    truncated: bool,
}

/// A header block gathering CONTINUATIONs.
#[derive(Debug)]
struct Block {
    stream: u32,
    end_stream: bool,
    /// A PUSH_PROMISE's block: decoded, then dropped.
    promise: bool,
    bytes: Vec<u8>,
}

#[derive(Debug)]
enum At {
    /// Bytes of the client preface matched so far.
    Preface(usize),
    /// Gathering a 9-byte frame header in `buf`.
    Head,
    /// Gathering a whole frame payload in `buf` (header blocks, RST_STREAM).
    Payload(FrameHeader),
    /// Inside a DATA frame: `pad` still to learn (`None`), body bytes, then padding.
    Data {
        head: FrameHeader,
        pad_len: Option<u8>,
        left: u32,
    },
    /// Bytes of a frame nobody needs (SETTINGS, PING, WINDOW_UPDATE, unknown types).
    Skip(u32),
    Failed(H2Error),
}

/// See the module documentation.
#[derive(Debug)]
pub struct Reader {
    side: Side,
    config: Config,
    at: At,
    buf: Vec<u8>,
    hpack: Decoder,
    block: Option<Block>,
    streams: BTreeMap<u32, Open>,
    /// Bytes the open streams keep, together (see [`held`]).
    kept: usize,
    done: VecDeque<Message>,
}

impl Reader {
    pub fn new(side: Side, config: Config) -> Self {
        Self {
            side,
            at: match side {
                Side::Client => At::Preface(0),
                Side::Server => At::Head,
            },
            hpack: Decoder::new(config.max_table_bytes),
            config,
            buf: Vec::new(),
            block: None,
            streams: BTreeMap::new(),
            kept: 0,
            done: VecDeque::new(),
        }
    }

    /// The next bytes of this direction. After an error the rest is ignored (and the
    /// same error returned); messages finished before it still come out.
    pub fn push(&mut self, data: &[u8]) -> Result<(), H2Error> {
        if let At::Failed(e) = &self.at {
            return Err(e.clone());
        }
        let result = self.run(data);
        if let Err(e) = &result {
            self.at = At::Failed(e.clone());
            self.buf = Vec::new();
        }
        result
    }

    /// The bytes can no longer be followed (a gap): open streams come out as they are.
    pub fn finish(&mut self) {
        let open = std::mem::take(&mut self.streams);
        for (id, stream) in open {
            self.emit(id, stream, false);
        }
        if !matches!(self.at, At::Failed(_)) {
            self.at = At::Failed(H2Error::Cut);
        }
    }

    pub fn next_message(&mut self) -> Option<Message> {
        self.done.pop_front()
    }

    /// Whether the reader has given up on the stream.
    pub fn is_failed(&self) -> bool {
        matches!(self.at, At::Failed(_))
    }

    /// Bytes that come next and need not be given to the reader: the rest of a DATA
    /// frame (padding included) whose stream keeps no more of its body, or of a frame
    /// nobody reads (SETTINGS, PING, padding). Never part of a header block: HPACK's
    /// table needs every one, so a frame header is always read.
    pub fn skippable(&self) -> u64 {
        match &self.at {
            At::Data {
                head,
                pad_len: Some(pad),
                left,
            } if !self.keeps(head.stream) => u64::from(*left) + u64::from(*pad),
            At::Skip(left) => u64::from(*left),
            _ => 0,
        }
    }

    /// Steps over the next `n` bytes without being given them (at most
    /// [`Self::skippable`]); the bytes pushed next are the ones after them. A stream
    /// whose last DATA frame ends in them ends as if they had been read.
    pub fn skip(&mut self, n: u64) {
        let mut n = n.min(self.skippable());
        if let At::Data {
            head,
            pad_len: Some(pad),
            left,
        } = &mut self.at
        {
            let (head, pad) = (*head, *pad);
            let body = u32::try_from(n.min(u64::from(*left))).unwrap_or(0);
            *left -= body;
            n -= u64::from(body);
            let done = *left == 0;
            if let Some(stream) = self.streams.get_mut(&head.stream) {
                stream.wire_len += u64::from(body);
                stream.truncated = true;
            }
            if done {
                self.data_end(head, pad);
            }
        }
        if let At::Skip(left) = &mut self.at {
            *left -= u32::try_from(n.min(u64::from(*left))).unwrap_or(0);
            if *left == 0 {
                self.at = At::Head;
            }
        }
    }

    /// Whether stream `id` still keeps body bytes it is given.
    fn keeps(&self, id: u32) -> bool {
        self.streams
            .get(&id)
            .is_some_and(|s| s.raw.len() < self.config.max_body_bytes)
    }

    fn run(&mut self, mut data: &[u8]) -> Result<(), H2Error> {
        while !data.is_empty() {
            match &mut self.at {
                At::Preface(matched) => {
                    let want = &PREFACE[*matched..];
                    let n = want.len().min(data.len());
                    if data[..n] != want[..n] {
                        return Err(H2Error::NoPreface);
                    }
                    *matched += n;
                    data = &data[n..];
                    if *matched == PREFACE.len() {
                        self.at = At::Head;
                    }
                }
                At::Head => {
                    data = fill(&mut self.buf, data, frames::HEADER_LEN);
                    if let Some(head) = FrameHeader::parse(&self.buf) {
                        self.buf.clear();
                        self.begin(head)?;
                    }
                }
                At::Payload(head) => {
                    let head = *head;
                    // `len` was checked against a limit that fits in memory.
                    data = fill(&mut self.buf, data, head.len as usize);
                    if self.buf.len() == head.len as usize {
                        let payload = std::mem::take(&mut self.buf);
                        self.at = At::Head;
                        self.frame(head, &payload)?;
                    }
                }
                At::Data {
                    head,
                    pad_len,
                    left,
                } => {
                    let head = *head;
                    let Some(pad) = *pad_len else {
                        // The pad length byte, then body bytes up to the padding.
                        let pad = data[0];
                        data = &data[1..];
                        let body = left
                            .checked_sub(1 + u32::from(pad))
                            .ok_or(FrameError::Padding)?;
                        self.at = At::Data {
                            head,
                            pad_len: Some(pad),
                            left: body,
                        };
                        if body == 0 {
                            self.data_end(head, pad);
                        }
                        continue;
                    };
                    // `left` counts body bytes; padding follows as a skip.
                    let n = data.len().min(*left as usize);
                    *left -= n as u32;
                    let body_done = *left == 0;
                    let (chunk, rest) = data.split_at(n);
                    data = rest;
                    self.body(head.stream, chunk);
                    if body_done {
                        self.data_end(head, pad);
                    }
                }
                At::Skip(left) => {
                    let n = data.len().min(*left as usize);
                    *left -= n as u32;
                    data = &data[n..];
                    if *left == 0 {
                        self.at = At::Head;
                    }
                }
                At::Failed(e) => return Err(e.clone()),
            }
        }
        Ok(())
    }

    /// A DATA frame's body is read: its padding is skipped, and its stream may end.
    fn data_end(&mut self, head: FrameHeader, pad: u8) {
        self.at = match pad {
            0 => At::Head,
            p => At::Skip(u32::from(p)),
        };
        if head.has(frames::END_STREAM) {
            self.close(head.stream, true);
        }
    }

    /// A frame header arrived: decide how its payload is read.
    fn begin(&mut self, head: FrameHeader) -> Result<(), H2Error> {
        if let Some(block) = &self.block {
            if head.kind != frames::CONTINUATION || head.stream != block.stream {
                return Err(H2Error::ExpectedContinuation(block.stream));
            }
        }
        self.at = match head.kind {
            frames::DATA => {
                if head.stream == 0 {
                    return Err(FrameError::StreamZero("DATA").into());
                }
                let pad_len = (!head.has(frames::PADDED)).then_some(0);
                if head.len == 0 {
                    if pad_len.is_none() {
                        return Err(FrameError::Padding.into());
                    }
                    if head.has(frames::END_STREAM) {
                        self.close(head.stream, true);
                    }
                    At::Head
                } else {
                    At::Data {
                        head,
                        pad_len,
                        left: head.len,
                    }
                }
            }
            frames::HEADERS | frames::PUSH_PROMISE | frames::CONTINUATION | frames::RST_STREAM => {
                if head.len as usize > self.config.max_header_block_bytes {
                    return Err(H2Error::HeaderBlockTooLarge);
                }
                if head.len == 0 {
                    self.at = At::Head;
                    return self.frame(head, &[]);
                }
                At::Payload(head)
            }
            _ if head.len == 0 => At::Head,
            _ => At::Skip(head.len),
        };
        Ok(())
    }

    /// A whole buffered frame.
    fn frame(&mut self, head: FrameHeader, payload: &[u8]) -> Result<(), H2Error> {
        match head.kind {
            frames::HEADERS => {
                if head.stream == 0 {
                    return Err(FrameError::StreamZero("HEADERS").into());
                }
                let fragment = frames::headers_fragment(&head, payload)?;
                self.start_block(head, fragment.to_vec(), false)
            }
            frames::PUSH_PROMISE => {
                let fragment = frames::push_promise_fragment(&head, payload)?;
                self.start_block(head, fragment.to_vec(), true)
            }
            frames::CONTINUATION => {
                let block = self.block.as_mut().ok_or(H2Error::StrayContinuation)?;
                if block.bytes.len() + payload.len() > self.config.max_header_block_bytes {
                    return Err(H2Error::HeaderBlockTooLarge);
                }
                block.bytes.extend_from_slice(payload);
                if head.has(frames::END_HEADERS) {
                    self.end_block()?;
                }
                Ok(())
            }
            frames::RST_STREAM => {
                self.close(head.stream, false);
                Ok(())
            }
            _ => Ok(()),
        }
    }

    fn start_block(
        &mut self,
        head: FrameHeader,
        bytes: Vec<u8>,
        promise: bool,
    ) -> Result<(), H2Error> {
        self.block = Some(Block {
            stream: head.stream,
            end_stream: head.has(frames::END_STREAM),
            promise,
            bytes,
        });
        if head.has(frames::END_HEADERS) {
            self.end_block()?;
        }
        Ok(())
    }

    /// A complete header block: decoded in order (always), then given to its stream.
    fn end_block(&mut self) -> Result<(), H2Error> {
        let Some(block) = self.block.take() else {
            return Ok(());
        };
        let list = self
            .hpack
            .decode(&block.bytes, self.config.max_header_list_bytes)?;
        // Promises, and the responses a server pushes on its own (even) streams, are
        // not what the client sent or asked for.
        if block.promise || (self.side == Side::Server && block.stream % 2 == 0) {
            return Ok(());
        }
        let fields: Vec<Field> = list
            .fields
            .into_iter()
            .map(|f| Field {
                name: String::from_utf8_lossy(&f.name).into_owned(),
                value: f.value,
            })
            .collect();
        let stream = self.open(block.stream);
        let informational = stream
            .fields
            .iter()
            .any(|f| f.name == ":status" && f.value.first() == Some(&b'1'));
        let before = held(stream);
        if stream.fields.is_empty() || informational {
            stream.fields = fields;
            stream.fields_truncated = list.truncated;
        } else {
            stream.trailers.extend(fields);
            stream.fields_truncated |= list.truncated;
        }
        let after = held(stream);
        self.kept = self.kept + after - before;
        if block.end_stream {
            self.close(block.stream, true);
        }
        self.within_budget();
        Ok(())
    }

    /// The stream's state, made room for if it is new.
    fn open(&mut self, id: u32) -> &mut Open {
        if !self.streams.contains_key(&id) && self.streams.len() >= self.config.max_streams {
            if let Some((old, stream)) = self.streams.pop_first() {
                self.emit(old, stream, false);
            }
        }
        self.streams.entry(id).or_default()
    }

    fn body(&mut self, id: u32, chunk: &[u8]) {
        let max = self.config.max_body_bytes;
        // DATA for a stream whose headers were not seen (pushed, or ended early) is
        // not kept.
        let Some(stream) = self.streams.get_mut(&id) else {
            return;
        };
        stream.wire_len += chunk.len() as u64;
        let room = max.saturating_sub(stream.raw.len());
        if chunk.len() > room {
            stream.truncated = true;
        }
        let take = chunk.len().min(room);
        stream.raw.extend_from_slice(&chunk[..take]);
        self.kept += take;
        self.within_budget();
    }

    /// Ends the oldest streams early while the open ones keep too much.
    fn within_budget(&mut self) {
        while self.kept > self.config.max_open_bytes {
            let Some((old, stream)) = self.streams.pop_first() else {
                break;
            };
            self.emit(old, stream, false);
        }
    }

    fn close(&mut self, id: u32, complete: bool) {
        if let Some(stream) = self.streams.remove(&id) {
            self.emit(id, stream, complete);
        }
    }

    /// A stream leaves the open set and comes out as a message.
    fn emit(&mut self, id: u32, stream: Open, complete: bool) {
        self.kept -= held(&stream);
        let body = http::finished_body(
            stream.raw,
            stream.wire_len,
            stream.truncated || !complete,
            http::content_codings(&stream.fields),
            http::content_type(&stream.fields),
            self.config.max_decoded_bytes,
        );
        self.done.push_back(Message {
            stream: id,
            fields: stream.fields,
            fields_truncated: stream.fields_truncated,
            trailers: stream.trailers,
            body,
            complete,
        });
    }
}

/// Bytes a field holds, as the header list limit counts them.
fn field_size(f: &Field) -> usize {
    f.name.len() + f.value.len() + 32
}

/// Bytes an open stream keeps: its header fields, trailers and body.
fn held(stream: &Open) -> usize {
    stream
        .fields
        .iter()
        .chain(&stream.trailers)
        .map(field_size)
        .sum::<usize>()
        + stream.raw.len()
}

/// Moves bytes from `data` into `buf` until it holds `want`; returns what is left.
fn fill<'a>(buf: &mut Vec<u8>, data: &'a [u8], want: usize) -> &'a [u8] {
    let n = want.saturating_sub(buf.len()).min(data.len());
    buf.extend_from_slice(&data[..n]);
    &data[n..]
}

#[cfg(test)]
mod skip_tests;
#[cfg(test)]
mod tests;
