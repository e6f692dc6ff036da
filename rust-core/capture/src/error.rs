//! Errors that say where a capture went wrong, so a user can see how much of a damaged
//! file was usable.

use std::io;

/// A capture could not be read past `offset`; packets before it were valid.
#[derive(Debug, thiserror::Error)]
#[error("capture unreadable at byte offset {offset}: {kind}")]
pub struct CaptureError {
    /// Byte offset from the start of the file of the header, block or record at fault.
    pub offset: u64,
    pub kind: ErrorKind,
}

/// What was wrong.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ErrorKind {
    #[error("read failed: {0}")]
    Io(#[source] io::Error),
    #[error("file is empty")]
    Empty,
    #[error("bad magic {0:#010x}: not a pcap (a1b2c3d4, a1b23c4d) or pcapng (0a0d0d0a) file")]
    BadMagic(u32),
    #[error("bad pcapng byte-order magic {0:#010x} (expected 1a2b3c4d in either byte order)")]
    BadByteOrderMagic(u32),
    #[error("unsupported {format} version {major}.{minor}")]
    UnsupportedVersion {
        format: &'static str,
        major: u16,
        minor: u16,
    },
    #[error("truncated {what}: needs {needed} bytes, only {available} present")]
    Truncated {
        what: &'static str,
        needed: u64,
        available: u64,
    },
    #[error("block length {0} is invalid (must be a multiple of 4, at least 12, and hold the block's fixed fields)")]
    BadBlockLength(u32),
    #[error("{what} length {len} exceeds the {cap}-byte limit")]
    TooLarge {
        what: &'static str,
        len: u64,
        cap: u64,
    },
    #[error("block length mismatch: leading length {leading}, trailing length {trailing}")]
    BlockLengthMismatch { leading: u32, trailing: u32 },
    #[error("first block is type {0:#010x}, not a section header block")]
    NoSectionHeader(u32),
    #[error("packet refers to interface {id}, but the section describes {count} interface(s)")]
    UnknownInterface { id: u32, count: usize },
    #[error("too many interfaces in one section (limit {0})")]
    TooManyInterfaces(usize),
    #[error("captured length {caplen} does not fit in the {room} bytes the block has for data")]
    CapturedLengthTooLong { caplen: u32, room: usize },
    #[error("option code {code} with length {len} runs past the end of the block")]
    BadOption { code: u16, len: u16 },
    #[error("timestamp out of range")]
    TimestampOutOfRange,
}

impl CaptureError {
    pub(crate) fn new(offset: u64, kind: ErrorKind) -> Self {
        CaptureError { offset, kind }
    }
}
