//! Reading the packets the TUN hands us, and writing the few the stack makes itself
//! (UDP and ICMP replies, refusals). Everything else TCP goes through smoltcp.
//!
//! Parsing is strict about lengths and lenient about checksums: packets come from the
//! local kernel, which has already checked them, and smoltcp checks again for TCP.

use std::net::{IpAddr, SocketAddr};

use smoltcp::phy::ChecksumCapabilities;
use smoltcp::wire::{
    IcmpRepr, Icmpv4DstUnreachable, Icmpv4Packet, Icmpv4Repr, Icmpv6DstUnreachable, Icmpv6Packet,
    Icmpv6Repr, IpAddress, IpProtocol, Ipv4Packet, Ipv4Repr, Ipv6Packet, Ipv6Repr, TcpControl,
    TcpPacket, TcpRepr, TcpSeqNumber, UdpPacket, UdpRepr,
};

use phonehome_model::Proto;

/// Why a packet was not handled. Every variant is counted, none is fatal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DropReason {
    /// Lengths or headers that do not add up, or an unknown IP version.
    Malformed,
    /// Well formed but not something the relay forwards (fragments, IPv6 extension
    /// headers, ICMP other than echo, multicast housekeeping, other protocols).
    Unsupported,
    /// The flow table is full.
    FlowLimit,
    /// A reply too large for the TUN's MTU.
    TooBig,
    /// A destination the relay must never connect to for a client: loopback,
    /// unspecified, link-local or reserved. Upstream sockets are the monitor's own, so
    /// such a packet would reach the monitor's host, not the network.
    Forbidden,
    /// A source that is not the client's: martian, or not one of the addresses the
    /// client was given ([`Config::clients`](crate::Config::clients)).
    Spoofed,
}

/// The parts of an incoming packet the flow table needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Parsed<'a> {
    Tcp {
        src: SocketAddr,
        dst: SocketAddr,
        syn: bool,
        ack: bool,
        rst: bool,
        fin: bool,
        seq: u32,
        /// Bytes the segment occupies in sequence space (payload, SYN and FIN).
        seq_len: u32,
        /// What smoltcp will read; readers of captures need it too.
        payload: &'a [u8],
    },
    Udp {
        src: SocketAddr,
        dst: SocketAddr,
        payload: &'a [u8],
    },
    EchoRequest {
        src: IpAddr,
        dst: IpAddr,
        ident: u16,
        seq: u16,
        data: &'a [u8],
    },
}

impl Parsed<'_> {
    /// The packet's addresses.
    pub fn addresses(&self) -> (IpAddr, IpAddr) {
        match *self {
            Parsed::Tcp { src, dst, .. } | Parsed::Udp { src, dst, .. } => (src.ip(), dst.ip()),
            Parsed::EchoRequest { src, dst, .. } => (src, dst),
        }
    }

    /// Whether the relay may forward this for a client whose own addresses are
    /// `clients` (any non-martian source when empty). Multicast housekeeping and
    /// broadcasts have nobody to go to (`Unsupported`); martian destinations
    /// (`Forbidden`) and foreign sources (`Spoofed`) are refused. Policy of the relay,
    /// not of the parser, so readers of captures still see such packets.
    pub fn admit(&self, clients: &[IpAddr]) -> Result<(), DropReason> {
        let (src, dst) = self.addresses();
        let broadcast = matches!(dst, IpAddr::V4(d) if d.is_broadcast());
        if dst.is_multicast() || broadcast || (src.is_ipv6() && src.is_unspecified()) {
            return Err(DropReason::Unsupported);
        }
        if martian(dst) {
            return Err(DropReason::Forbidden);
        }
        let foreign = if clients.is_empty() {
            martian(src)
        } else {
            !clients.contains(&src)
        };
        if foreign {
            return Err(DropReason::Spoofed);
        }
        Ok(())
    }
}

/// An address no packet from a client may name, as source or destination: this host
/// (loopback, unspecified, `0.0.0.0/8`), the link (link-local), reserved space
/// (`240.0.0.0/4`), and IPv6 forms that smuggle an IPv4 address (`::ffff:0:0/96`
/// mapped, `::/96` compatible), which no client puts on the wire.
pub fn martian(addr: IpAddr) -> bool {
    match addr {
        IpAddr::V4(a) => {
            let [first, ..] = a.octets();
            first == 0 || a.is_loopback() || a.is_link_local() || first >= 240
        }
        IpAddr::V6(a) => {
            let s = a.segments();
            let embeds_v4 = s[..5] == [0; 5] && (s[5] == 0xffff || s[5] == 0);
            let link_local = s[0] & 0xffc0 == 0xfe80;
            a.is_loopback() || a.is_unspecified() || embeds_v4 || link_local || a.is_multicast()
        }
    }
}

const HOP_LIMIT: u8 = 64;

fn no_rx_checks() -> ChecksumCapabilities {
    let mut caps = ChecksumCapabilities::default();
    caps.ipv4 = smoltcp::phy::Checksum::Tx;
    caps.udp = smoltcp::phy::Checksum::Tx;
    caps.tcp = smoltcp::phy::Checksum::Tx;
    caps.icmpv4 = smoltcp::phy::Checksum::Tx;
    caps.icmpv6 = smoltcp::phy::Checksum::Tx;
    caps
}

/// Classifies one IP packet. Never panics, whatever the bytes.
pub fn parse(packet: &[u8]) -> Result<Parsed<'_>, DropReason> {
    match packet.first().map(|b| b >> 4) {
        Some(4) => parse_v4(packet),
        Some(6) => parse_v6(packet),
        _ => Err(DropReason::Malformed),
    }
}

fn parse_v4(packet: &[u8]) -> Result<Parsed<'_>, DropReason> {
    let ip = Ipv4Packet::new_checked(packet).map_err(|_| DropReason::Malformed)?;
    if ip.more_frags() || ip.frag_offset() != 0 {
        return Err(DropReason::Unsupported);
    }
    let src = IpAddr::V4(ip.src_addr());
    let dst = IpAddr::V4(ip.dst_addr());
    let header_len = usize::from(ip.header_len());
    let total_len = usize::from(ip.total_len());
    let payload = &packet[header_len..total_len];
    match ip.next_header() {
        IpProtocol::Icmp => echo_request(src, dst, payload),
        proto => transport(proto, src, dst, payload),
    }
}

fn parse_v6(packet: &[u8]) -> Result<Parsed<'_>, DropReason> {
    let ip = Ipv6Packet::new_checked(packet).map_err(|_| DropReason::Malformed)?;
    let src = IpAddr::V6(ip.src_addr());
    let dst = IpAddr::V6(ip.dst_addr());
    let payload = ip.payload();
    match ip.next_header() {
        IpProtocol::Icmpv6 => echo_request(src, dst, payload),
        proto => transport(proto, src, dst, payload),
    }
}

/// An ICMP or ICMPv6 message (by the family of `src` and `dst`): only echo requests are
/// forwarded.
fn echo_request<'a>(src: IpAddr, dst: IpAddr, payload: &'a [u8]) -> Result<Parsed<'a>, DropReason> {
    let caps = no_rx_checks();
    let repr: IcmpRepr = match (src, dst) {
        (IpAddr::V4(_), IpAddr::V4(_)) => {
            let icmp = Icmpv4Packet::new_checked(payload).map_err(|_| DropReason::Malformed)?;
            Icmpv4Repr::parse(&icmp, &caps)
                .map_err(|_| DropReason::Malformed)?
                .into()
        }
        (IpAddr::V6(s), IpAddr::V6(d)) => {
            let icmp = Icmpv6Packet::new_checked(payload).map_err(|_| DropReason::Malformed)?;
            Icmpv6Repr::parse(&s, &d, &icmp, &caps)
                .map_err(|_| DropReason::Malformed)?
                .into()
        }
        _ => return Err(DropReason::Malformed),
    };
    match repr {
        IcmpRepr::Ipv4(Icmpv4Repr::EchoRequest {
            ident,
            seq_no,
            data,
        })
        | IcmpRepr::Ipv6(Icmpv6Repr::EchoRequest {
            ident,
            seq_no,
            data,
        }) => Ok(Parsed::EchoRequest {
            src,
            dst,
            ident,
            seq: seq_no,
            data,
        }),
        _ => Err(DropReason::Unsupported),
    }
}

fn transport<'a>(
    proto: IpProtocol,
    src: IpAddr,
    dst: IpAddr,
    payload: &'a [u8],
) -> Result<Parsed<'a>, DropReason> {
    match proto {
        IpProtocol::Tcp => {
            let tcp = TcpPacket::new_checked(payload).map_err(|_| DropReason::Malformed)?;
            if tcp.src_port() == 0 || tcp.dst_port() == 0 {
                return Err(DropReason::Malformed);
            }
            let body = &payload[usize::from(tcp.header_len())..];
            let seq_len = body.len() as u32 + u32::from(tcp.syn()) + u32::from(tcp.fin());
            Ok(Parsed::Tcp {
                src: SocketAddr::new(src, tcp.src_port()),
                dst: SocketAddr::new(dst, tcp.dst_port()),
                syn: tcp.syn(),
                ack: tcp.ack(),
                rst: tcp.rst(),
                fin: tcp.fin(),
                seq: tcp.seq_number().0 as u32,
                seq_len,
                payload: body,
            })
        }
        IpProtocol::Udp => {
            let udp = UdpPacket::new_checked(payload).map_err(|_| DropReason::Malformed)?;
            if udp.src_port() == 0 || udp.dst_port() == 0 {
                return Err(DropReason::Malformed);
            }
            let len = usize::from(udp.len());
            Ok(Parsed::Udp {
                src: SocketAddr::new(src, udp.src_port()),
                dst: SocketAddr::new(dst, udp.dst_port()),
                payload: &payload[8..len],
            })
        }
        _ => Err(DropReason::Unsupported),
    }
}

/// A TCP or UDP packet as a reader of captured packets needs it (the analyzer's offline
/// path, the inspector telling which flow a packet is in).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Segment<'a> {
    pub proto: Proto,
    pub src: SocketAddr,
    pub dst: SocketAddr,
    /// TCP's sequence number; 0 for UDP, as are the flags.
    pub seq: u32,
    pub syn: bool,
    pub ack: bool,
    pub fin: bool,
    pub rst: bool,
    pub payload: &'a [u8],
}

/// The TCP or UDP segment in an IP packet, by the same rules as [`parse`]; `None` for
/// anything [`parse`] drops, and for ICMP.
pub fn segment(packet: &[u8]) -> Option<Segment<'_>> {
    match parse(packet).ok()? {
        Parsed::Tcp {
            src,
            dst,
            syn,
            ack,
            rst,
            fin,
            seq,
            payload,
            ..
        } => Some(Segment {
            proto: Proto::Tcp,
            src,
            dst,
            seq,
            syn,
            ack,
            fin,
            rst,
            payload,
        }),
        Parsed::Udp { src, dst, payload } => Some(Segment {
            proto: Proto::Udp,
            src,
            dst,
            seq: 0,
            syn: false,
            ack: false,
            fin: false,
            rst: false,
            payload,
        }),
        Parsed::EchoRequest { .. } => None,
    }
}

/// A copy of a packet a capture cut short (a snap length), with its IP and UDP length
/// fields shrunk to the bytes captured, so that [`segment`] reads what is there; `None`
/// when nothing was cut or the headers themselves were.
pub fn fit_to_capture(packet: &[u8]) -> Option<Vec<u8>> {
    let mut copy = packet.to_vec();
    let captured = copy.len();
    let (header, proto) = match packet.first()? >> 4 {
        4 => {
            let mut ip = Ipv4Packet::new_unchecked(&mut copy[..]);
            let header = usize::from(ip.header_len());
            if captured < header.max(20) || usize::from(ip.total_len()) <= captured {
                return None;
            }
            ip.set_total_len(u16::try_from(captured).ok()?);
            (header, ip.next_header())
        }
        6 => {
            let mut ip = Ipv6Packet::new_unchecked(&mut copy[..]);
            if captured < 40 || 40 + usize::from(ip.payload_len()) <= captured {
                return None;
            }
            ip.set_payload_len(u16::try_from(captured - 40).ok()?);
            (40, ip.next_header())
        }
        _ => return None,
    };
    if proto == IpProtocol::Udp {
        let left = captured.checked_sub(header)?;
        let mut udp = UdpPacket::new_unchecked(copy.get_mut(header..)?);
        if left < 8 {
            return None;
        }
        udp.set_len(udp.len().min(u16::try_from(left).ok()?));
    }
    Some(copy)
}

/// IP header length for a packet from `addr`'s family.
fn ip_header_len(addr: IpAddr) -> usize {
    match addr {
        IpAddr::V4(_) => 20,
        IpAddr::V6(_) => 40,
    }
}

/// Writes an IP header for `next_header` and lets `body` fill the payload; `None` if the
/// families of `src` and `dst` differ or the packet would exceed `mtu`.
fn ip_packet(
    src: IpAddr,
    dst: IpAddr,
    next_header: IpProtocol,
    payload_len: usize,
    mtu: usize,
    body: impl FnOnce(&mut [u8]),
) -> Option<Vec<u8>> {
    let header = ip_header_len(src);
    if header + payload_len > mtu {
        return None;
    }
    let mut buf = vec![0u8; header + payload_len];
    match (src, dst) {
        (IpAddr::V4(s), IpAddr::V4(d)) => {
            let repr = Ipv4Repr {
                src_addr: s,
                dst_addr: d,
                next_header,
                payload_len,
                hop_limit: HOP_LIMIT,
            };
            repr.emit(
                &mut Ipv4Packet::new_unchecked(&mut buf),
                &ChecksumCapabilities::default(),
            );
        }
        (IpAddr::V6(s), IpAddr::V6(d)) => {
            let repr = Ipv6Repr {
                src_addr: s,
                dst_addr: d,
                next_header,
                payload_len,
                hop_limit: HOP_LIMIT,
            };
            repr.emit(&mut Ipv6Packet::new_unchecked(&mut buf));
        }
        _ => return None,
    }
    body(&mut buf[header..]);
    Some(buf)
}

/// A UDP datagram from `src` to `dst`, or `None` if the two are of different families
/// or the result would exceed `mtu`.
pub fn udp(src: SocketAddr, dst: SocketAddr, payload: &[u8], mtu: usize) -> Option<Vec<u8>> {
    let len = 8 + payload.len();
    let (s, d) = (IpAddress::from(src.ip()), IpAddress::from(dst.ip()));
    let repr = UdpRepr {
        src_port: src.port(),
        dst_port: dst.port(),
    };
    ip_packet(src.ip(), dst.ip(), IpProtocol::Udp, len, mtu, |buf| {
        repr.emit(
            &mut UdpPacket::new_unchecked(buf),
            &s,
            &d,
            payload.len(),
            |p| p.copy_from_slice(payload),
            &ChecksumCapabilities::default(),
        );
    })
}

/// An echo reply from `src` (the pinged host) to `dst` (the client).
pub fn echo_reply(
    src: IpAddr,
    dst: IpAddr,
    ident: u16,
    seq: u16,
    data: &[u8],
    mtu: usize,
) -> Option<Vec<u8>> {
    let repr: IcmpRepr = match src {
        IpAddr::V4(_) => Icmpv4Repr::EchoReply {
            ident,
            seq_no: seq,
            data,
        }
        .into(),
        IpAddr::V6(_) => Icmpv6Repr::EchoReply {
            ident,
            seq_no: seq,
            data,
        }
        .into(),
    };
    icmp(src, dst, repr, mtu)
}

/// An ICMP message of `repr`'s family from `src` to `dst`; `None` if the families differ
/// or the packet would exceed `mtu`.
fn icmp(src: IpAddr, dst: IpAddr, repr: IcmpRepr, mtu: usize) -> Option<Vec<u8>> {
    let caps = ChecksumCapabilities::default();
    match (repr, src, dst) {
        (IcmpRepr::Ipv4(repr), IpAddr::V4(_), IpAddr::V4(_)) => {
            ip_packet(src, dst, IpProtocol::Icmp, repr.buffer_len(), mtu, |buf| {
                repr.emit(&mut Icmpv4Packet::new_unchecked(buf), &caps);
            })
        }
        (IcmpRepr::Ipv6(repr), IpAddr::V6(s), IpAddr::V6(d)) => ip_packet(
            src,
            dst,
            IpProtocol::Icmpv6,
            repr.buffer_len(),
            mtu,
            |buf| {
                repr.emit(&s, &d, &mut Icmpv6Packet::new_unchecked(buf), &caps);
            },
        ),
        _ => None,
    }
}

/// The RST|ACK a refused destination would send in answer to a SYN (RFC 9293 3.10.7.1).
pub fn tcp_refusal(
    syn_src: SocketAddr,
    syn_dst: SocketAddr,
    syn_seq: u32,
    syn_seq_len: u32,
) -> Option<Vec<u8>> {
    let repr = TcpRepr {
        src_port: syn_dst.port(),
        dst_port: syn_src.port(),
        control: TcpControl::Rst,
        seq_number: TcpSeqNumber(0),
        ack_number: Some(TcpSeqNumber(syn_seq.wrapping_add(syn_seq_len) as i32)),
        window_len: 0,
        window_scale: None,
        max_seg_size: None,
        sack_permitted: false,
        sack_ranges: [None; 3],
        timestamp: None,
        payload: &[],
    };
    let (s, d) = (IpAddress::from(syn_dst.ip()), IpAddress::from(syn_src.ip()));
    ip_packet(
        syn_dst.ip(),
        syn_src.ip(),
        IpProtocol::Tcp,
        repr.buffer_len(),
        usize::MAX,
        |buf| {
            repr.emit(
                &mut TcpPacket::new_unchecked(buf),
                &s,
                &d,
                &ChecksumCapabilities::default(),
            );
        },
    )
}

/// An ICMP "destination unreachable" about `original` (a packet the client sent), as a
/// router on the way would send it: the client's connect fails with EHOSTUNREACH or
/// ENETUNREACH at once instead of timing out.
pub fn unreachable(original: &[u8], no_route: bool) -> Option<Vec<u8>> {
    match original.first().map(|b| b >> 4) {
        Some(4) => {
            let ip = Ipv4Packet::new_checked(original).ok()?;
            let header = Ipv4Repr::parse(&ip, &no_rx_checks()).ok()?;
            // RFC 792: the original IP header plus the first 8 bytes of its payload.
            let quoted = &ip.payload()[..ip.payload().len().min(8)];
            let repr = Icmpv4Repr::DstUnreachable {
                reason: if no_route {
                    Icmpv4DstUnreachable::NetUnreachable
                } else {
                    Icmpv4DstUnreachable::HostUnreachable
                },
                header,
                data: quoted,
            };
            let (src, dst) = (IpAddr::V4(header.dst_addr), IpAddr::V4(header.src_addr));
            icmp(src, dst, repr.into(), usize::MAX)
        }
        Some(6) => {
            let ip = Ipv6Packet::new_checked(original).ok()?;
            let header = Ipv6Repr::parse(&ip).ok()?;
            // RFC 4443: as much of the original as fits in the minimum MTU.
            let quoted = &ip.payload()[..ip.payload().len().min(1280 - 40 - 8 - 40)];
            let repr = Icmpv6Repr::DstUnreachable {
                reason: if no_route {
                    Icmpv6DstUnreachable::NoRoute
                } else {
                    Icmpv6DstUnreachable::AddrUnreachable
                },
                header,
                data: quoted,
            };
            let (src, dst) = (IpAddr::V6(header.dst_addr), IpAddr::V6(header.src_addr));
            icmp(src, dst, repr.into(), usize::MAX)
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_of_both_families_parse_and_garbage_does_not() {
        let mut v4 = vec![
            0x45, 0, 0, 44, 0, 0, 0x40, 0, 64, 6, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2,
        ];
        v4.extend_from_slice(&[
            0x9c, 0x40, 0, 80, 0, 0, 0, 9, 0, 0, 0, 0, 0x50, 0x18, 0, 0, 0, 0, 0, 0,
        ]);
        v4.extend_from_slice(b"GET ");
        let s = segment(&v4).unwrap();
        assert_eq!(s.proto, Proto::Tcp);
        assert_eq!(s.src, "10.0.0.1:40000".parse().unwrap());
        assert_eq!(s.dst, "10.0.0.2:80".parse().unwrap());
        assert_eq!((s.seq, s.ack, s.syn), (9, true, false));
        assert_eq!(s.payload, b"GET ");
        for n in 0..v4.len() {
            let _ = segment(&v4[..n]);
        }
        assert!(segment(&[0x7f; 40]).is_none());
        let (a, b) = (
            "[2001:db8::1]:5353".parse().unwrap(),
            "[2001:db8::2]:53".parse().unwrap(),
        );
        let v6 = udp(a, b, b"query", 1500).unwrap();
        let cut = &v6[..v6.len() - 2];
        assert!(segment(cut).is_none(), "a cut packet does not add up");
        let fitted = fit_to_capture(cut).unwrap();
        assert_eq!(segment(&fitted).unwrap().payload, b"que");
        assert!(fit_to_capture(&v6).is_none(), "nothing was cut");
        let cut_v4 = &v4[..v4.len() - 2];
        let fitted = fit_to_capture(cut_v4).unwrap();
        assert_eq!(segment(&fitted).unwrap().payload, b"GE");
        let s = segment(&v6).unwrap();
        assert_eq!(
            (s.proto, s.src, s.dst, s.payload),
            (Proto::Udp, a, b, &b"query"[..])
        );
    }
}
