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
mod pcap;
mod pcapng;
mod source;
mod writer;

use std::io::Read;
use std::time::SystemTime;

pub use error::{CaptureError, ErrorKind};
pub use pcap::PcapReader;
pub use pcapng::PcapngReader;
pub use writer::{PcapngWriter, TsResolution, WriterConfig};

use source::Source;

/// Largest block or record a reader accepts; bigger length fields are treated as damage
/// rather than allocated.
pub const MAX_BLOCK_LEN: usize = 16 * 1024 * 1024;

/// A link-layer header type (the tcpdump.org LINKTYPE_ registry).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct LinkType(pub u16);

impl LinkType {
    /// BSD loopback: 4-byte address family in the capturing host's byte order.
    pub const NULL: LinkType = LinkType(0);
    pub const ETHERNET: LinkType = LinkType(1);
    /// Raw IPv4 or IPv6, no link header (what a TUN device carries).
    pub const RAW: LinkType = LinkType(101);
    /// OpenBSD loopback: 4-byte address family in network byte order.
    pub const LOOP: LinkType = LinkType(108);
    /// Linux "cooked" capture v1 (`tcpdump -i any`).
    pub const LINUX_SLL: LinkType = LinkType(113);
    pub const IPV4: LinkType = LinkType(228);
    pub const IPV6: LinkType = LinkType(229);
    /// Linux "cooked" capture v2.
    pub const LINUX_SLL2: LinkType = LinkType(276);
}

/// One captured packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Packet {
    /// Capture time. pcapng Simple Packet Blocks carry none; they read as the Unix epoch.
    pub ts: SystemTime,
    pub linktype: LinkType,
    /// The captured bytes, link-layer header included (see [`ip_payload`]).
    pub data: Vec<u8>,
    /// Length on the wire; larger than `data.len()` when the capture cut the packet.
    pub orig_len: u32,
    /// The pcapng `opt_comment` of the packet, if any (the first one).
    pub comment: Option<String>,
}

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

const ETHERTYPE_IPV4: u16 = 0x0800;
const ETHERTYPE_IPV6: u16 = 0x86dd;

/// The IP packet inside a captured frame, or `None` if the frame is not IPv4/IPv6 or
/// its link type is not supported (RAW, ETHERNET with 802.1Q/802.1ad tags, LINUX_SLL,
/// LINUX_SLL2, NULL, LOOP, IPV4, IPV6).
pub fn ip_payload(packet: &Packet) -> Option<&[u8]> {
    let d = packet.data.as_slice();
    let be16 = |at: usize| -> Option<u16> {
        let b = d.get(at..at + 2)?;
        Some(u16::from_be_bytes([b[0], b[1]]))
    };
    let (ip, expect) = match packet.linktype {
        LinkType::RAW => (d, None),
        LinkType::IPV4 => (d, Some(4)),
        LinkType::IPV6 => (d, Some(6)),
        LinkType::ETHERNET => {
            let mut at = 12;
            let mut ethertype = be16(at)?;
            // Skip 802.1Q, 802.1ad and old QinQ tags (a few at most in practice).
            for _ in 0..8 {
                if !matches!(ethertype, 0x8100 | 0x88a8 | 0x9100) {
                    break;
                }
                at += 4;
                ethertype = be16(at)?;
            }
            (d.get(at + 2..)?, ethertype_version(ethertype)?)
        }
        LinkType::LINUX_SLL => (d.get(16..)?, ethertype_version(be16(14)?)?),
        LinkType::LINUX_SLL2 => (d.get(20..)?, ethertype_version(be16(0)?)?),
        LinkType::NULL | LinkType::LOOP => {
            let b = d.get(0..4)?;
            let family = [b[0], b[1], b[2], b[3]];
            // NULL is in the capturing host's byte order, which the file does not say;
            // the family values cannot be confused across orders, so accept both.
            let version = [u32::from_le_bytes(family), u32::from_be_bytes(family)]
                .into_iter()
                .find_map(|f| match f {
                    2 => Some(4),
                    10 | 24 | 28 | 30 => Some(6),
                    _ => None,
                })?;
            (d.get(4..)?, Some(version))
        }
        _ => return None,
    };
    let version = ip.first()? >> 4;
    match expect {
        Some(v) if v != version => None,
        _ if version == 4 || version == 6 => Some(ip),
        _ => None,
    }
}

/// Maps an EtherType to the IP version it carries.
fn ethertype_version(ethertype: u16) -> Option<Option<u8>> {
    match ethertype {
        ETHERTYPE_IPV4 => Some(Some(4)),
        ETHERTYPE_IPV6 => Some(Some(6)),
        _ => None,
    }
}

#[cfg(test)]
mod tests;
