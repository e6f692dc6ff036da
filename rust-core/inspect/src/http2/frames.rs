//! HTTP/2 frame headers and the payload layouts this reader needs (RFC 9113 section 4
//! and 6): the 9-byte header, padding, the priority fields of HEADERS, and the promised
//! stream of PUSH_PROMISE.

/// Bytes of a frame header.
pub const HEADER_LEN: usize = 9;

pub const DATA: u8 = 0x0;
pub const HEADERS: u8 = 0x1;
pub const RST_STREAM: u8 = 0x3;
pub const PUSH_PROMISE: u8 = 0x5;
pub const CONTINUATION: u8 = 0x9;

pub const END_STREAM: u8 = 0x1;
pub const END_HEADERS: u8 = 0x4;
pub const PADDED: u8 = 0x8;
pub const PRIORITY: u8 = 0x20;

/// Why a frame cannot be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    #[error("HTTP/2 frame padding is longer than its payload")]
    Padding,
    #[error("HTTP/2 {0} frame is too short")]
    TooShort(&'static str),
    #[error("HTTP/2 {0} frame on stream 0")]
    StreamZero(&'static str),
}

/// A frame header (RFC 9113 section 4.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameHeader {
    pub len: u32,
    pub kind: u8,
    pub flags: u8,
    pub stream: u32,
}

impl FrameHeader {
    /// The header at the start of `b`, if 9 bytes are there.
    pub fn parse(b: &[u8]) -> Option<Self> {
        let h: &[u8; HEADER_LEN] = b.get(..HEADER_LEN)?.try_into().ok()?;
        Some(Self {
            len: u32::from_be_bytes([0, h[0], h[1], h[2]]),
            kind: h[3],
            flags: h[4],
            // The reserved top bit is ignored on receipt.
            stream: u32::from_be_bytes([h[5], h[6], h[7], h[8]]) & 0x7fff_ffff,
        })
    }

    pub fn has(&self, flag: u8) -> bool {
        self.flags & flag != 0
    }

    pub fn emit(&self) -> [u8; HEADER_LEN] {
        let l = self.len.to_be_bytes();
        let s = self.stream.to_be_bytes();
        [
            l[1], l[2], l[3], self.kind, self.flags, s[0], s[1], s[2], s[3],
        ]
    }
}

/// Removes the pad length and padding of a frame with the PADDED flag.
pub fn strip_padding<'a>(head: &FrameHeader, payload: &'a [u8]) -> Result<&'a [u8], FrameError> {
    if !head.has(PADDED) {
        return Ok(payload);
    }
    let (&pad, rest) = payload.split_first().ok_or(FrameError::Padding)?;
    let keep = rest
        .len()
        .checked_sub(usize::from(pad))
        .ok_or(FrameError::Padding)?;
    Ok(&rest[..keep])
}

/// The header block fragment of a HEADERS frame's payload.
pub fn headers_fragment<'a>(head: &FrameHeader, payload: &'a [u8]) -> Result<&'a [u8], FrameError> {
    let rest = strip_padding(head, payload)?;
    if head.has(PRIORITY) {
        // Stream dependency (4) and weight (1).
        return rest.get(5..).ok_or(FrameError::TooShort("HEADERS"));
    }
    Ok(rest)
}

/// The header block fragment of a PUSH_PROMISE, after the promised stream id.
pub fn push_promise_fragment<'a>(
    head: &FrameHeader,
    payload: &'a [u8],
) -> Result<&'a [u8], FrameError> {
    strip_padding(head, payload)?
        .get(4..)
        .ok_or(FrameError::TooShort("PUSH_PROMISE"))
}
