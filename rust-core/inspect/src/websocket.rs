//! WebSocket messages (RFC 6455) from one direction of an upgraded connection, with
//! `permessage-deflate` (RFC 7692) undone.
//!
//! [`MessageParser`] is sans-IO and incremental: [`MessageParser::push`] the bytes of one
//! direction as they arrive, take whole messages with [`MessageParser::next_message`].
//! Client frames must be masked and server frames must not be; fragments are joined,
//! with control frames (ping, pong, close) allowed between them. Memory stays bounded:
//! a message keeps at most [`Config::max_message_bytes`] (compressed messages are
//! inflated as their bytes arrive, so nothing compressed is kept), and the rest is
//! counted and marked `truncated`.

use std::collections::VecDeque;

use flate2::{Decompress, FlushDecompress, Status};

/// Who sent the frames: it decides whether they must be masked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sender {
    Client,
    Server,
}

/// The `permessage-deflate` parameters a server accepted in its
/// `Sec-WebSocket-Extensions` response header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Deflate {
    pub server_no_context_takeover: bool,
    pub client_no_context_takeover: bool,
    /// LZ77 window of each side, 8 to 15 (15 when not given). Inflating needs no more
    /// than the default 32 KiB window whatever these say, so they are informative.
    pub server_max_window_bits: u8,
    pub client_max_window_bits: u8,
}

impl Deflate {
    /// The negotiated `permessage-deflate` from the values of every
    /// `Sec-WebSocket-Extensions` header of a server's 101 response. `Ok(None)`: not
    /// negotiated. A response names at most one extension configuration, so the first
    /// `permessage-deflate` counts.
    pub fn from_response(values: &[&[u8]]) -> Result<Option<Deflate>, WsError> {
        for value in values {
            for offer in value.split(|&b| b == b',') {
                let mut params = offer.split(|&b| b == b';').map(trim);
                if !params
                    .next()
                    .is_some_and(|n| n.eq_ignore_ascii_case(b"permessage-deflate"))
                {
                    continue;
                }
                let mut d = Deflate {
                    server_no_context_takeover: false,
                    client_no_context_takeover: false,
                    server_max_window_bits: 15,
                    client_max_window_bits: 15,
                };
                for param in params.filter(|p| !p.is_empty()) {
                    let (name, value) = match param.iter().position(|&b| b == b'=') {
                        Some(eq) => (trim(&param[..eq]), Some(trim(&param[eq + 1..]))),
                        None => (param, None),
                    };
                    let name = name.to_ascii_lowercase();
                    match (name.as_slice(), value) {
                        (b"server_no_context_takeover", None) => {
                            d.server_no_context_takeover = true;
                        }
                        (b"client_no_context_takeover", None) => {
                            d.client_no_context_takeover = true;
                        }
                        (b"server_max_window_bits", Some(v)) => {
                            d.server_max_window_bits = window_bits(v)?;
                        }
                        (b"client_max_window_bits", Some(v)) => {
                            d.client_max_window_bits = window_bits(v)?;
                        }
                        _ => {
                            return Err(WsError::Extension("unknown permessage-deflate parameter"))
                        }
                    }
                }
                return Ok(Some(d));
            }
        }
        Ok(None)
    }

    /// Whether `sender` starts each message with a fresh compression context.
    fn no_context_takeover(&self, sender: Sender) -> bool {
        match sender {
            Sender::Client => self.client_no_context_takeover,
            Sender::Server => self.server_no_context_takeover,
        }
    }
}

fn trim(v: &[u8]) -> &[u8] {
    let start = v
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(v.len());
    let end = v
        .iter()
        .rposition(|b| !b.is_ascii_whitespace())
        .map_or(start, |e| e + 1);
    &v[start..end.max(start)]
}

fn window_bits(v: &[u8]) -> Result<u8, WsError> {
    let v = v.strip_prefix(b"\"").unwrap_or(v);
    let v = v.strip_suffix(b"\"").unwrap_or(v);
    match v {
        [d] if d.is_ascii_digit() && *d >= b'8' => Ok(d - b'0'),
        [b'1', d] if (b'0'..=b'5').contains(d) => Ok(10 + d - b'0'),
        _ => Err(WsError::Extension("window bits outside 8..=15")),
    }
}

/// Why a direction stopped being readable as WebSocket frames. After an error the parser
/// ignores the rest of the direction.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WsError {
    #[error("WebSocket frame uses a reserved opcode {0:#x}")]
    ReservedOpcode(u8),
    #[error("WebSocket frame sets a reserved bit")]
    ReservedBit,
    #[error("client WebSocket frame is not masked")]
    Unmasked,
    #[error("server WebSocket frame is masked")]
    Masked,
    #[error("WebSocket control frame is fragmented or longer than 125 bytes")]
    BadControl,
    #[error("WebSocket frame length has its top bit set")]
    Length,
    #[error("WebSocket continuation frame without a message to continue")]
    StrayContinuation,
    #[error("WebSocket message starts inside another fragmented message")]
    Interleaved,
    #[error("compressed WebSocket message without permessage-deflate negotiated")]
    NotNegotiated,
    #[error("permessage-deflate data does not inflate: {0}")]
    Inflate(&'static str),
    #[error("Sec-WebSocket-Extensions: {0}")]
    Extension(&'static str),
}

/// What kind of message a [`Message`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Opcode {
    Text,
    Binary,
    /// Payload: a 2-byte status code and a UTF-8 reason, or nothing.
    Close,
    Ping,
    Pong,
}

impl Opcode {
    fn from_wire(op: u8) -> Result<Option<Opcode>, WsError> {
        Ok(Some(match op {
            0x0 => return Ok(None),
            0x1 => Opcode::Text,
            0x2 => Opcode::Binary,
            0x8 => Opcode::Close,
            0x9 => Opcode::Ping,
            0xa => Opcode::Pong,
            other => return Err(WsError::ReservedOpcode(other)),
        }))
    }

    fn is_control(self) -> bool {
        matches!(self, Opcode::Close | Opcode::Ping | Opcode::Pong)
    }
}

/// One whole message (fragments joined, inflated if it was compressed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub opcode: Opcode,
    pub data: Vec<u8>,
    /// It was sent compressed.
    pub compressed: bool,
    /// More bytes than the limit: `data` is the first of them.
    pub truncated: bool,
}

/// Limits for one direction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// Bytes kept per message (after inflating).
    pub max_message_bytes: usize,
    /// Inflated bytes produced per compressed message at most, kept or not: past it,
    /// the rest of that message is not inflated (a decompression bomb costs no more).
    /// Under context takeover a message cut short leaves the context unusable, so the
    /// direction's later compressed messages come out empty and `truncated`.
    pub max_inflate_bytes: usize,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            max_message_bytes: 1024 * 1024,
            max_inflate_bytes: 16 * 1024 * 1024,
        }
    }
}

/// The end of each compressed message, left off by the sender (RFC 7692 section 7.2.2).
const DEFLATE_TAIL: [u8; 4] = [0x00, 0x00, 0xff, 0xff];

/// A frame header is at most 2 + 8 + 4 bytes.
const MAX_HEADER: usize = 14;

#[derive(Debug)]
struct Frame {
    fin: bool,
    /// Set on the first frame of a compressed message.
    rsv1: bool,
    /// `None` for a continuation.
    opcode: Option<Opcode>,
    remaining: u64,
    mask: Option<[u8; 4]>,
    /// Payload bytes of this frame unmasked so far (the mask's phase).
    offset: u64,
}

/// A message being gathered.
#[derive(Debug)]
struct Partial {
    opcode: Opcode,
    compressed: bool,
    data: Vec<u8>,
    truncated: bool,
    /// Inflated bytes produced so far, kept or not.
    inflated: usize,
    /// Its deflate data ended with a final block.
    ended: bool,
}

/// Incremental parser for one direction of one WebSocket connection.
#[derive(Debug)]
pub struct MessageParser {
    sender: Sender,
    deflate: Option<Deflate>,
    config: Config,
    head: Vec<u8>,
    frame: Option<Frame>,
    /// The data message being gathered (text or binary, maybe fragmented).
    message: Option<Partial>,
    /// A control frame being gathered (between fragments of `message`).
    control: Option<Partial>,
    inflater: Option<Decompress>,
    /// Under context takeover, an earlier message was not inflated to its end.
    context_lost: bool,
    done: VecDeque<Message>,
    failed: Option<WsError>,
}

impl MessageParser {
    /// `deflate`: what the handshake negotiated, if anything.
    pub fn new(sender: Sender, deflate: Option<Deflate>, config: Config) -> Self {
        MessageParser {
            sender,
            deflate,
            config,
            head: Vec::with_capacity(MAX_HEADER),
            frame: None,
            message: None,
            control: None,
            inflater: None,
            context_lost: false,
            done: VecDeque::new(),
            failed: None,
        }
    }

    /// Feeds the next bytes of this direction. Messages completed by them become
    /// available from [`MessageParser::next_message`], also when an error follows them.
    pub fn push(&mut self, mut data: &[u8]) -> Result<(), WsError> {
        if let Some(e) = &self.failed {
            return Err(e.clone());
        }
        while !data.is_empty() {
            let step = match self.frame.is_some() {
                true => self.payload(data),
                false => self.header(data),
            };
            match step {
                Ok(used) => data = &data[used..],
                Err(e) => {
                    self.failed = Some(e.clone());
                    self.message = None;
                    self.control = None;
                    self.head = Vec::new();
                    return Err(e);
                }
            }
        }
        Ok(())
    }

    /// The next whole message, oldest first.
    pub fn next_message(&mut self) -> Option<Message> {
        self.done.pop_front()
    }

    /// It broke the protocol: nothing more of this direction is read.
    pub fn failed(&self) -> bool {
        self.failed.is_some()
    }

    /// Payload bytes that come next and can be stepped over unseen: the rest of the
    /// current data frame once its message has all the bytes it keeps. Never under
    /// context takeover (the inflater needs every byte for the messages after), and 0
    /// in a header or a control frame.
    pub fn skippable(&self) -> u64 {
        let (Some(frame), Some(m), None) = (&self.frame, &self.message, &self.failed) else {
            return 0;
        };
        let takeover = self
            .deflate
            .is_some_and(|d| !d.no_context_takeover(self.sender));
        let full = m.data.len() >= self.config.max_message_bytes;
        if frame.opcode.is_some_and(Opcode::is_control) || !full || (m.compressed && takeover) {
            return 0;
        }
        frame.remaining
    }

    /// Steps over the next `n` payload bytes (at most [`Self::skippable`]) without being
    /// given them; the message is marked truncated.
    pub fn skip(&mut self, n: u64) -> Result<(), WsError> {
        let n = n.min(self.skippable());
        let (Some(frame), Some(m)) = (self.frame.as_mut(), self.message.as_mut()) else {
            return Ok(());
        };
        if n == 0 {
            return Ok(());
        }
        frame.remaining -= n;
        frame.offset += n;
        m.truncated = true;
        if m.compressed {
            // The rest of this message is not inflated; the next one starts afresh.
            m.ended = true;
            self.inflater = None;
        }
        if frame.remaining == 0 {
            let fin = frame.fin;
            self.frame = None;
            self.frame_done(fin, false)?;
        }
        Ok(())
    }

    /// Reads a frame header from `head` plus `data`; returns how much of `data` it used.
    fn header(&mut self, data: &[u8]) -> Result<usize, WsError> {
        let had = self.head.len();
        let take = (MAX_HEADER - had).min(data.len());
        self.head.extend_from_slice(&data[..take]);
        let Some((frame, len)) = parse_header(&self.head, self.sender)? else {
            return Ok(take);
        };
        self.head.clear();
        let used = len - had;
        self.begin(frame)?;
        Ok(used)
    }

    fn begin(&mut self, frame: Frame) -> Result<(), WsError> {
        match frame.opcode {
            Some(op) if op.is_control() => {
                if !frame.fin || frame.remaining > 125 || frame.rsv1 {
                    return Err(WsError::BadControl);
                }
                self.control = Some(Partial::new(op, false));
            }
            Some(op) => {
                if self.message.is_some() {
                    return Err(WsError::Interleaved);
                }
                if frame.rsv1 && self.deflate.is_none() {
                    return Err(WsError::NotNegotiated);
                }
                self.message = Some(Partial::new(op, frame.rsv1));
            }
            None if frame.rsv1 => return Err(WsError::ReservedBit),
            None if self.message.is_none() => return Err(WsError::StrayContinuation),
            None => {}
        }
        let fin = frame.fin;
        let control = frame.opcode.is_some_and(Opcode::is_control);
        if frame.remaining == 0 {
            self.frame_done(fin, control)?;
        } else {
            self.frame = Some(frame);
        }
        Ok(())
    }

    /// Unmasks and takes payload bytes of the current frame; returns how many it used.
    fn payload(&mut self, data: &[u8]) -> Result<usize, WsError> {
        let Some(frame) = self.frame.as_mut() else {
            return Ok(0);
        };
        let n = usize::try_from(frame.remaining)
            .unwrap_or(usize::MAX)
            .min(data.len());
        let mut bytes = data[..n].to_vec();
        if let Some(mask) = frame.mask {
            // The mask's phase continues across the pieces a frame arrives in.
            let phase = (frame.offset % 4) as usize;
            for (i, b) in bytes.iter_mut().enumerate() {
                *b ^= mask[(phase + i) % 4];
            }
        }
        frame.offset += n as u64;
        frame.remaining -= n as u64;
        let done = frame.remaining == 0;
        let fin = frame.fin;
        let control = frame.opcode.is_some_and(Opcode::is_control);
        if control {
            if let Some(c) = self.control.as_mut() {
                c.data.extend_from_slice(&bytes);
            }
        } else {
            self.take_data(&bytes)?;
        }
        if done {
            self.frame = None;
            self.frame_done(fin, control)?;
        }
        Ok(n)
    }

    /// Adds payload bytes to the data message, inflating them if it is compressed.
    fn take_data(&mut self, bytes: &[u8]) -> Result<(), WsError> {
        let Some(m) = self.message.as_mut() else {
            return Ok(());
        };
        let max = self.config.max_message_bytes;
        if !m.compressed {
            m.keep(bytes, max);
            return Ok(());
        }
        let Some(deflate) = self.deflate else {
            return Err(WsError::NotNegotiated);
        };
        if m.ended {
            return Ok(());
        }
        if self.context_lost || m.inflated >= self.config.max_inflate_bytes {
            m.truncated = true;
            return Ok(());
        }
        let inflater = self.inflater.get_or_insert_with(|| Decompress::new(false));
        let mut input = bytes;
        let mut out = [0u8; 16 * 1024];
        loop {
            let (in_before, out_before) = (inflater.total_in(), inflater.total_out());
            let status = inflater
                .decompress(input, &mut out, FlushDecompress::Sync)
                .map_err(|_| WsError::Inflate("invalid deflate data"))?;
            let used = (inflater.total_in() - in_before) as usize;
            let made = (inflater.total_out() - out_before) as usize;
            input = &input[used..];
            m.inflated += made;
            m.keep(&out[..made], max);
            if m.inflated >= self.config.max_inflate_bytes {
                m.truncated = true;
                if !deflate.no_context_takeover(self.sender) {
                    self.context_lost = true;
                }
                // A fresh context per message: the next one starts clean.
                self.inflater = None;
                return Ok(());
            }
            if status == Status::StreamEnd {
                // A final block (BFINAL) ends the message's data: the padding and tail
                // after it mean nothing, and the next message starts a new context.
                m.ended = true;
                self.inflater = None;
                return Ok(());
            }
            if used == 0 && made == 0 {
                return Ok(());
            }
            if input.is_empty() && made < out.len() {
                return Ok(());
            }
        }
    }

    /// A frame's payload is complete.
    fn frame_done(&mut self, fin: bool, control: bool) -> Result<(), WsError> {
        if control {
            if let Some(c) = self.control.take() {
                self.done.push_back(c.finish());
            }
            return Ok(());
        }
        if !fin {
            return Ok(());
        }
        if self.message.as_ref().is_some_and(|m| m.compressed) {
            self.take_data(&DEFLATE_TAIL)?;
            let takeover = self
                .deflate
                .is_some_and(|d| !d.no_context_takeover(self.sender));
            if !takeover {
                self.inflater = None;
            }
        }
        if let Some(m) = self.message.take() {
            self.done.push_back(m.finish());
        }
        Ok(())
    }
}

impl Partial {
    fn new(opcode: Opcode, compressed: bool) -> Self {
        Partial {
            opcode,
            compressed,
            data: Vec::new(),
            truncated: false,
            inflated: 0,
            ended: false,
        }
    }

    fn keep(&mut self, bytes: &[u8], max: usize) {
        let room = max.saturating_sub(self.data.len());
        if bytes.len() > room {
            self.truncated = true;
        }
        self.data.extend_from_slice(&bytes[..bytes.len().min(room)]);
    }

    fn finish(self) -> Message {
        Message {
            opcode: self.opcode,
            data: self.data,
            compressed: self.compressed,
            truncated: self.truncated,
        }
    }
}

/// A frame header at the start of `head`, and its length; `None` while incomplete.
fn parse_header(head: &[u8], sender: Sender) -> Result<Option<(Frame, usize)>, WsError> {
    let [b0, b1, ..] = *head else {
        return Ok(None);
    };
    if b0 & 0x30 != 0 {
        return Err(WsError::ReservedBit);
    }
    let opcode = Opcode::from_wire(b0 & 0x0f)?;
    let masked = b1 & 0x80 != 0;
    match (sender, masked) {
        (Sender::Client, false) => return Err(WsError::Unmasked),
        (Sender::Server, true) => return Err(WsError::Masked),
        _ => {}
    }
    let (len, mut at) = match b1 & 0x7f {
        126 => match head.get(2..4) {
            Some(b) => (u64::from(u16::from_be_bytes([b[0], b[1]])), 4),
            None => return Ok(None),
        },
        127 => match head.get(2..10) {
            Some(b) => {
                let mut be = [0u8; 8];
                be.copy_from_slice(b);
                let n = u64::from_be_bytes(be);
                if n >> 63 != 0 {
                    return Err(WsError::Length);
                }
                (n, 10)
            }
            None => return Ok(None),
        },
        n => (u64::from(n), 2),
    };
    let mask = if masked {
        let Some(b) = head.get(at..at + 4) else {
            return Ok(None);
        };
        at += 4;
        Some([b[0], b[1], b[2], b[3]])
    } else {
        None
    };
    let frame = Frame {
        fin: b0 & 0x80 != 0,
        rsv1: b0 & 0x40 != 0,
        opcode,
        remaining: len,
        mask,
        offset: 0,
    };
    Ok(Some((frame, at)))
}

#[cfg(test)]
mod tests;
