//! Packet captures: reading pcap and pcapng, writing pcapng with per-packet comments.
//!
//! The monitor writes what it saw as pcapng (one comment per packet naming flow and app,
//! so Wireshark/tshark show who sent it), and `phonehome analyze` reads captures made
//! elsewhere. Readers stream from any `Read`, never panic, cap every allocation a length
//! field can ask for at [`MAX_BLOCK_LEN`], and on damage yield an error naming the byte
//! offset after every packet that came before it.
//!
//! ```
//! use phonehome_capture::{ip_payload, read_all, PcapngWriter};
//! use std::time::SystemTime;
//!
//! let mut w = PcapngWriter::new(Vec::new())?;
//! let ip = [0x45, 0, 0, 20, 0, 0, 0, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2];
//! w.write_packet(SystemTime::now(), &ip, Some("flow=12 app=com.example uid=10123"))?;
//! let file = w.into_inner()?;
//!
//! let (packets, error) = read_all(&file[..]);
//! assert!(error.is_none());
//! assert_eq!(ip_payload(&packets[0]), Some(&ip[..]));
//! assert_eq!(packets[0].comment.as_deref(), Some("flow=12 app=com.example uid=10123"));
//! # Ok::<(), std::io::Error>(())
//! ```

mod bytes;
mod error;
mod packet;
mod pcap;
mod pcapng;
mod source;
mod writer;

use std::io::Read;

pub use error::{CaptureError, ErrorKind};
pub use packet::{ip_payload, LinkType, Packet, MAX_BLOCK_LEN};
pub use pcap::PcapReader;
pub use pcapng::PcapngReader;
pub use writer::{PcapngWriter, TsResolution, WriterConfig};

use source::Source;

/// A pcap or pcapng reader, chosen by the file's magic number.
#[derive(Debug)]
pub enum CaptureReader<R> {
    Pcap(PcapReader<R>),
    Pcapng(PcapngReader<R>),
}

impl<R: Read> CaptureReader<R> {
    /// Reads the magic number (and for pcap the file header) and picks the format.
    pub fn new(mut reader: R) -> Result<Self, CaptureError> {
        let mut magic = [0u8; 4];
        let mut probe = Source::new(&mut reader);
        let n = probe
            .fill(&mut magic)
            .map_err(|e| CaptureError::new(0, ErrorKind::Io(e)))?;
        if n == 0 {
            return Err(CaptureError::new(0, ErrorKind::Empty));
        }
        let src = Source::with_prefix(reader, magic);
        let m = u32::from_le_bytes(magic);
        if n == 4 && m == pcapng::SHB {
            Ok(CaptureReader::Pcapng(PcapngReader::from_source(src)))
        } else if n == 4 && [0xa1b2_c3d4, 0xd4c3_b2a1, 0xa1b2_3c4d, 0x4d3c_b2a1].contains(&m) {
            Ok(CaptureReader::Pcap(PcapReader::from_source(src)?))
        } else if n < 4 {
            Err(CaptureError::new(
                0,
                ErrorKind::Truncated {
                    what: "file magic",
                    needed: 4,
                    available: n as u64,
                },
            ))
        } else {
            Err(CaptureError::new(0, ErrorKind::BadMagic(m)))
        }
    }
}

impl<R: Read> Iterator for CaptureReader<R> {
    type Item = Result<Packet, CaptureError>;

    fn next(&mut self) -> Option<Self::Item> {
        match self {
            CaptureReader::Pcap(r) => r.next(),
            CaptureReader::Pcapng(r) => r.next(),
        }
    }
}

/// Reads a whole pcap or pcapng capture: every packet up to the end or the first damage,
/// and the error if there was damage, so a caller can keep what was found before it.
pub fn read_all<R: Read>(reader: R) -> (Vec<Packet>, Option<CaptureError>) {
    let mut packets = Vec::new();
    let reader = match CaptureReader::new(reader) {
        Ok(r) => r,
        Err(e) => return (packets, Some(e)),
    };
    for item in reader {
        match item {
            Ok(p) => packets.push(p),
            Err(e) => return (packets, Some(e)),
        }
    }
    (packets, None)
}

#[cfg(test)]
mod tests;
