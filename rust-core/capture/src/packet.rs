//! What a capture holds: packets, their link types, and the IP packet inside a frame.
//! Both readers make [`Packet`]s and cap what they allocate at [`MAX_BLOCK_LEN`].

use std::fmt;
use std::time::SystemTime;

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

    /// Whether [`ip_payload`] reads this link type's frames: raw IP, Ethernet, Linux
    /// cooked (v1, v2) and loopback (BSD, OpenBSD).
    pub fn is_supported(self) -> bool {
        matches!(
            self,
            LinkType::NULL
                | LinkType::ETHERNET
                | LinkType::RAW
                | LinkType::LOOP
                | LinkType::LINUX_SLL
                | LinkType::IPV4
                | LinkType::IPV6
                | LinkType::LINUX_SLL2
        )
    }

    /// A short name for messages, for the supported link types and the common others of
    /// the tcpdump.org registry; `None` for numbers not listed here.
    pub fn name(self) -> Option<&'static str> {
        Some(match self.0 {
            0 => "BSD loopback",
            1 => "Ethernet",
            6 => "IEEE 802.5 Token Ring",
            8 => "SLIP",
            9 => "PPP",
            10 => "FDDI",
            50 => "PPP in HDLC-like framing",
            51 => "PPPoE",
            101 => "raw IP",
            104 => "Cisco HDLC",
            105 => "IEEE 802.11",
            107 => "Frame Relay",
            108 => "OpenBSD loopback",
            113 => "Linux cooked v1",
            119 => "IEEE 802.11 with Prism header",
            127 => "IEEE 802.11 with radiotap header",
            147..=162 => "user-defined",
            163 => "IEEE 802.11 with AVS header",
            187 => "Bluetooth HCI H4",
            189 => "Linux USB",
            192 => "IEEE 802.11 with PPI header",
            195 => "IEEE 802.15.4",
            220 => "Linux USB (memory-mapped)",
            228 => "raw IPv4",
            229 => "raw IPv6",
            239 => "Linux NFLOG",
            249 => "USBPcap",
            251 => "Bluetooth LE link layer",
            253 => "Linux netlink",
            276 => "Linux cooked v2",
            _ => return None,
        })
    }
}

/// `link type 105 (IEEE 802.11)`; `link type 999 (unknown)` for numbers [`LinkType::name`]
/// does not list.
impl fmt::Display for LinkType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "link type {} ({})",
            self.0,
            self.name().unwrap_or("unknown")
        )
    }
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

const ETHERTYPE_IPV4: u16 = 0x0800;
const ETHERTYPE_IPV6: u16 = 0x86dd;

/// The IP packet inside a captured frame, or `None` if the frame is not IPv4/IPv6 or
/// its link type is not supported (see [`LinkType::is_supported`]: RAW, ETHERNET with
/// 802.1Q/802.1ad tags, LINUX_SLL, LINUX_SLL2, NULL, LOOP, IPV4, IPV6).
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
