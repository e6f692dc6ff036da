//! Captured packets to flows: the offline counterpart of the relay. Packets (raw IP, as
//! a capture reader extracts them) are grouped into flows by 5-tuple, TCP is
//! reassembled, and the analyzer sees the same calls the live tap makes.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::SystemTime;

use phonehome_model::{CloseReason, Destination, Direction, FlowRecord, Proto};
use phonehome_netstack::packet::{fit_to_capture, segment};

use crate::reassembly::Reassembler;
use crate::Analyzer;

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
    /// Packets that were not TCP or UDP over IP (or that the relay would not take either).
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
        // The relay's own parser: a capture is read by the rules its packets were relayed by.
        // A capture made with a snap length cuts long packets: read what was captured.
        let fitted;
        let seg = match segment(ip) {
            Some(seg) => Some(seg),
            None => {
                fitted = fit_to_capture(ip);
                fitted.as_deref().and_then(segment)
            }
        };
        let Some(seg) = seg else {
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
