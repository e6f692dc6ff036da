//! Captured packets to flows: the offline counterpart of the relay. Packets (raw IP, as
//! a capture reader extracts them) are grouped into flows by 5-tuple, TCP is
//! reassembled, and the analyzer sees the same calls the live tap makes.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::SystemTime;

use phonehome_model::{CloseReason, Destination, Direction, FlowRecord, Proto};

use crate::reassembly::Reassembler;
use crate::Analyzer;

/// The transport facts of one captured IP packet.
#[derive(Debug, PartialEq, Eq)]
pub struct Segment<'a> {
    pub proto: Proto,
    pub src: SocketAddr,
    pub dst: SocketAddr,
    pub seq: u32,
    pub syn: bool,
    pub ack: bool,
    pub fin: bool,
    pub rst: bool,
    pub payload: &'a [u8],
}

/// Parses an IPv4 or IPv6 packet carrying TCP or UDP (no fragments, no extension
/// headers). Anything else is `None`.
pub fn parse_segment(p: &[u8]) -> Option<Segment<'_>> {
    let version = p.first()? >> 4;
    let (src, dst, proto, l4) = match version {
        4 => {
            if p.len() < 20 {
                return None;
            }
            let ihl = usize::from(p[0] & 0x0f) * 4;
            let total = usize::from(u16::from_be_bytes([*p.get(2)?, *p.get(3)?]));
            let frag = u16::from_be_bytes([*p.get(6)?, *p.get(7)?]);
            if ihl < 20 || total < ihl || frag & 0x3fff != 0 {
                return None;
            }
            let src = Ipv4Addr::new(p[12], p[13], p[14], p[15]);
            let dst = Ipv4Addr::new(p[16], p[17], p[18], p[19]);
            let end = total.min(p.len());
            (
                IpAddr::V4(src),
                IpAddr::V4(dst),
                *p.get(9)?,
                p.get(ihl..end)?,
            )
        }
        6 => {
            let len = usize::from(u16::from_be_bytes([*p.get(4)?, *p.get(5)?]));
            let mut a = [0u8; 16];
            a.copy_from_slice(p.get(8..24)?);
            let src = Ipv6Addr::from(a);
            a.copy_from_slice(p.get(24..40)?);
            let dst = Ipv6Addr::from(a);
            let end = (40 + len).min(p.len());
            (
                IpAddr::V6(src),
                IpAddr::V6(dst),
                *p.get(6)?,
                p.get(40..end)?,
            )
        }
        _ => return None,
    };
    let port = |at: usize| Some(u16::from_be_bytes([*l4.get(at)?, *l4.get(at + 1)?]));
    match proto {
        6 => {
            let offset = usize::from(l4.get(12)? >> 4) * 4;
            let flags = *l4.get(13)?;
            Some(Segment {
                proto: Proto::Tcp,
                src: SocketAddr::new(src, port(0)?),
                dst: SocketAddr::new(dst, port(2)?),
                seq: u32::from_be_bytes([l4[4], l4[5], l4[6], l4[7]]),
                syn: flags & 0x02 != 0,
                ack: flags & 0x10 != 0,
                fin: flags & 0x01 != 0,
                rst: flags & 0x04 != 0,
                payload: l4.get(offset.max(20)..)?,
            })
        }
        17 => Some(Segment {
            proto: Proto::Udp,
            src: SocketAddr::new(src, port(0)?),
            dst: SocketAddr::new(dst, port(2)?),
            seq: 0,
            syn: false,
            ack: false,
            fin: false,
            rst: false,
            payload: l4.get(8..)?,
        }),
        _ => None,
    }
}

struct Tracked {
    id: u64,
    proto: Proto,
    client: SocketAddr,
    server: SocketAddr,
    out: Reassembler,
    back: Reassembler,
    bytes_out: u64,
    bytes_in: u64,
    start: SystemTime,
    last: SystemTime,
    reset: bool,
}

/// Flows of a capture, fed packet by packet.
pub struct Offline {
    pub analyzer: Analyzer,
    flows: HashMap<(SocketAddr, SocketAddr, Proto), Tracked>,
    next_id: u64,
    /// Packets that were not TCP or UDP over IP.
    pub skipped: u64,
}

impl std::fmt::Debug for Offline {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Offline")
            .field("flows", &self.flows.len())
            .finish_non_exhaustive()
    }
}

impl Offline {
    pub fn new(analyzer: Analyzer) -> Self {
        Self {
            analyzer,
            flows: HashMap::new(),
            next_id: 1,
            skipped: 0,
        }
    }

    /// One IP packet captured at `ts`.
    pub fn packet(&mut self, ts: SystemTime, ip: &[u8]) {
        let Some(seg) = parse_segment(ip) else {
            self.skipped += 1;
            return;
        };
        let forward = (seg.src, seg.dst, seg.proto);
        let backward = (seg.dst, seg.src, seg.proto);
        let (key, dir) = if self.flows.contains_key(&forward) {
            (forward, Direction::Out)
        } else if self.flows.contains_key(&backward) {
            (backward, Direction::In)
        } else {
            // A new flow: the side that sent the SYN (or the first packet) is the client,
            // except that a SYN-ACK means we only saw the server's answer.
            if seg.syn && seg.ack {
                (backward, Direction::In)
            } else {
                (forward, Direction::Out)
            }
        };
        if !self.flows.contains_key(&key) {
            let id = self.next_id;
            self.next_id += 1;
            self.analyzer.flow_start(id, seg.proto, key.0, key.1, None);
            self.flows.insert(
                key,
                Tracked {
                    id,
                    proto: seg.proto,
                    client: key.0,
                    server: key.1,
                    out: Reassembler::new(),
                    back: Reassembler::new(),
                    bytes_out: 0,
                    bytes_in: 0,
                    start: ts,
                    last: ts,
                    reset: false,
                },
            );
        }
        let Some(flow) = self.flows.get_mut(&key) else {
            return;
        };
        flow.last = ts;
        let data = match seg.proto {
            Proto::Tcp => {
                flow.reset |= seg.rst;
                let r = match dir {
                    Direction::Out => &mut flow.out,
                    Direction::In => &mut flow.back,
                };
                r.segment(seg.seq, seg.syn, seg.fin, seg.payload)
            }
            _ => seg.payload.to_vec(),
        };
        if !data.is_empty() {
            match dir {
                Direction::Out => flow.bytes_out += data.len() as u64,
                Direction::In => flow.bytes_in += data.len() as u64,
            }
            let id = flow.id;
            self.analyzer.data(id, dir, &data, ts);
        }
        let done = seg.proto == Proto::Tcp
            && self
                .flows
                .get(&key)
                .is_some_and(|f| f.reset || (f.out.fin_seen() && f.back.fin_seen()));
        if done {
            if let Some(flow) = self.flows.remove(&key) {
                self.end(flow);
            }
        }
    }

    fn end(&mut self, mut flow: Tracked) {
        for (dir, r) in [
            (Direction::Out, &mut flow.out),
            (Direction::In, &mut flow.back),
        ] {
            let rest = r.flush();
            if !rest.is_empty() {
                self.analyzer.data(flow.id, dir, &rest, flow.last);
            }
        }
        let close = if flow.reset {
            CloseReason::ServerReset
        } else if flow.proto == Proto::Tcp && !(flow.out.fin_seen() && flow.back.fin_seen()) {
            CloseReason::Shutdown
        } else {
            CloseReason::Closed
        };
        self.analyzer.flow_end(FlowRecord {
            flow: flow.id,
            proto: flow.proto,
            src: flow.client,
            dst: flow.server,
            bytes_out: flow.bytes_out,
            bytes_in: flow.bytes_in,
            start: flow.start,
            end: flow.last,
            close,
            app: None,
            destination: Destination::default(),
        });
    }

    /// The capture ended: every open flow ends too (as `shutdown` when TCP never closed).
    pub fn finish(&mut self) {
        let mut open: Vec<Tracked> = self.flows.drain().map(|(_, f)| f).collect();
        open.sort_by_key(|f| f.id);
        for flow in open {
            self.end(flow);
        }
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
        let s = parse_segment(&v4).unwrap();
        assert_eq!(s.proto, Proto::Tcp);
        assert_eq!(s.src, "10.0.0.1:40000".parse().unwrap());
        assert_eq!(s.dst, "10.0.0.2:80".parse().unwrap());
        assert_eq!((s.seq, s.ack, s.syn), (9, true, false));
        assert_eq!(s.payload, b"GET ");
        for n in 0..v4.len() {
            let _ = parse_segment(&v4[..n]);
        }
        assert!(parse_segment(&[0x7f; 40]).is_none());
    }
}

#[cfg(test)]
mod properties {
    use super::*;
    use phonehome_catalog::Catalog;
    use phonehome_detect::{Detector, Identifiers, Options};
    use proptest::prelude::*;
    use std::time::{Duration, UNIX_EPOCH};

    proptest! {
        #![proptest_config(ProptestConfig { cases: 1_000, ..ProptestConfig::default() })]

        /// Any sequence of packets, however broken, goes through the whole offline path.
        #[test]
        fn arbitrary_packets_never_panic(packets in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..120), 0..12)) {
            let detector = Detector::new(&Identifiers::default(), &Options::default());
            let mut offline = Offline::new(Analyzer::new(detector, Catalog::builtin(), Default::default()));
            for (i, mut p) in packets.into_iter().enumerate() {
                // Give about half of them a plausible IPv4/TCP or UDP header.
                if i % 2 == 0 && p.len() >= 40 {
                    p[0] = 0x45;
                    p[2] = 0;
                    p[3] = p.len() as u8;
                    p[6] = 0;
                    p[7] = 0;
                    p[9] = if i % 4 == 0 { 6 } else { 17 };
                    p[32] = 0x50;
                }
                offline.packet(UNIX_EPOCH + Duration::from_millis(i as u64), &p);
            }
            offline.finish();
            while offline.analyzer.pop_finding().is_some() {}
            while offline.analyzer.pop_record().is_some() {}
        }
    }
}
