//! Classic libpcap files: either byte order, microsecond or nanosecond timestamps.

use std::io::Read;
use std::time::{Duration, SystemTime};

use crate::bytes::{Endian, Fields};
use crate::error::{CaptureError, ErrorKind};
use crate::packet::{LinkType, Packet, MAX_BLOCK_LEN};
use crate::source::Source;

const GLOBAL_HEADER_LEN: usize = 24;
const RECORD_HEADER_LEN: usize = 16;

/// Streaming reader of a pcap file; yields packets until the end or the first error.
#[derive(Debug)]
pub struct PcapReader<R> {
    src: Source<R>,
    endian: Endian,
    nanos: bool,
    linktype: LinkType,
    snaplen: u32,
    done: bool,
}

impl<R: Read> PcapReader<R> {
    /// Reads the global header.
    pub fn new(reader: R) -> Result<Self, CaptureError> {
        Self::from_source(Source::new(reader))
    }

    pub(crate) fn from_source(mut src: Source<R>) -> Result<Self, CaptureError> {
        let mut hdr = [0u8; GLOBAL_HEADER_LEN];
        let n = src
            .fill(&mut hdr)
            .map_err(|e| CaptureError::new(0, ErrorKind::Io(e)))?;
        if n == 0 {
            return Err(CaptureError::new(0, ErrorKind::Empty));
        }
        let magic = u32::from_le_bytes([hdr[0], hdr[1], hdr[2], hdr[3]]);
        let (endian, nanos) = match (n >= 4).then_some(magic) {
            Some(0xa1b2_c3d4) => (Endian::Little, false),
            Some(0xd4c3_b2a1) => (Endian::Big, false),
            Some(0xa1b2_3c4d) => (Endian::Little, true),
            Some(0x4d3c_b2a1) => (Endian::Big, true),
            _ => return Err(CaptureError::new(0, ErrorKind::BadMagic(magic))),
        };
        if n < GLOBAL_HEADER_LEN {
            return Err(CaptureError::new(
                0,
                ErrorKind::Truncated {
                    what: "pcap file header",
                    needed: GLOBAL_HEADER_LEN as u64,
                    available: n as u64,
                },
            ));
        }
        let f = Fields::new(&hdr, endian);
        let major = f.u16(4).unwrap_or(0);
        let minor = f.u16(6).unwrap_or(0);
        if major != 2 {
            return Err(CaptureError::new(
                4,
                ErrorKind::UnsupportedVersion {
                    format: "pcap",
                    major,
                    minor,
                },
            ));
        }
        let snaplen = f.u32(16).unwrap_or(0);
        // The upper bits of the link-type field carry FCS information, not the type.
        let linktype = LinkType((f.u32(20).unwrap_or(0) & 0xffff) as u16);
        Ok(PcapReader {
            src,
            endian,
            nanos,
            linktype,
            snaplen,
            done: false,
        })
    }

    pub fn linktype(&self) -> LinkType {
        self.linktype
    }

    pub fn snaplen(&self) -> u32 {
        self.snaplen
    }

    /// Whether the file's magic says nanosecond timestamps.
    pub fn nanosecond(&self) -> bool {
        self.nanos
    }

    pub fn into_inner(self) -> R {
        self.src.into_inner()
    }

    fn read_packet(&mut self) -> Result<Option<Packet>, CaptureError> {
        let start = self.src.offset();
        let io_err = |e| CaptureError::new(start, ErrorKind::Io(e));
        let mut hdr = [0u8; RECORD_HEADER_LEN];
        let n = self.src.fill(&mut hdr).map_err(io_err)?;
        if n == 0 {
            return Ok(None);
        }
        if n < RECORD_HEADER_LEN {
            return Err(CaptureError::new(
                start,
                ErrorKind::Truncated {
                    what: "pcap record header",
                    needed: RECORD_HEADER_LEN as u64,
                    available: n as u64,
                },
            ));
        }
        let f = Fields::new(&hdr, self.endian);
        let secs = f.u32(0).unwrap_or(0);
        let frac = f.u32(4).unwrap_or(0);
        let caplen = f.u32(8).unwrap_or(0);
        let orig_len = f.u32(12).unwrap_or(0);
        if caplen as usize > MAX_BLOCK_LEN {
            return Err(CaptureError::new(
                start,
                ErrorKind::TooLarge {
                    what: "pcap record captured",
                    len: caplen.into(),
                    cap: MAX_BLOCK_LEN as u64,
                },
            ));
        }
        let mut data = Vec::new();
        let got = self
            .src
            .append(caplen as usize, &mut data)
            .map_err(io_err)?;
        if got < caplen as usize {
            return Err(CaptureError::new(
                start,
                ErrorKind::Truncated {
                    what: "pcap record",
                    needed: (RECORD_HEADER_LEN as u64) + u64::from(caplen),
                    available: (RECORD_HEADER_LEN + got) as u64,
                },
            ));
        }
        let nanos = if self.nanos {
            u64::from(frac)
        } else {
            u64::from(frac) * 1000
        };
        let ts = SystemTime::UNIX_EPOCH
            .checked_add(Duration::from_secs(secs.into()) + Duration::from_nanos(nanos))
            .ok_or(CaptureError::new(start, ErrorKind::TimestampOutOfRange))?;
        Ok(Some(Packet {
            ts,
            linktype: self.linktype,
            data,
            orig_len,
            comment: None,
        }))
    }
}

impl<R: Read> Iterator for PcapReader<R> {
    type Item = Result<Packet, CaptureError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        match self.read_packet() {
            Ok(Some(p)) => Some(Ok(p)),
            Ok(None) => {
                self.done = true;
                None
            }
            Err(e) => {
                self.done = true;
                Some(Err(e))
            }
        }
    }
}
